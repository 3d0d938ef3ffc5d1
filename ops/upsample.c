/* Op: Upsample
 * Synopsis: N-d nearest or (bi/tri)linear resampling to a size or by a scale factor
 * (torch.nn.Upsample).
 * MONAI: torch.nn.Upsample (monai.networks.blocks.UpSample's "nontrainable" mode)
 * Gradient: UpsampleGrad (this file): the adjoint of the interpolation.  Inverse: none.
 *
 * torch 2.x semantics (F.interpolate): the spatial rank is x's rank less 2 (1 to 3); the
 * output size is `size`, or floor(in scale_factor) (exactly one of them). Output voxel o
 * reads, per axis, with s the scale: 1 / scale_factor when scale_factor is given and
 * recompute_scale_factor is not true, else in / out:
 *   nearest        x[min(floor(o s), in - 1)] (s in float32, as torch); 2D only (torch's
 *                  2D kernel's shortcuts): out = in copies, out = 2 in reads o / 2
 *   nearest-exact  x[min(floor((o + 0.5) s), in - 1)]
 *   linear, bilinear, trilinear (x of rank 3, 4, 5): an axis whose size stays is copied
 *                  (whatever the scale, as torch); else align_corners: src = o (in - 1) /
 *                  (out - 1) (0 when out is 1), else max(0, (o + 0.5) s - 0.5); the two
 *                  neighbours floor(src) and the next (clamped to the input) weighted by
 *                  the fraction, one axis after the other.
 * align_corners (null: false) is taken only by the linear modes, as torch's. The
 * arithmetic of the linear modes is float64 (torch's float32 opmath differs in the last
 * bits of the weights). The generated kernel (`gen`) is oneDNN's linear resampling
 * (float32) where it samples as torch does: the linear modes without align_corners and
 * with every axis sampled at in / out; the reference kernel elsewhere. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"size", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "output spatial size: one value for all axes or one per axis"},
	{"scale_factor", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "multiplier of the spatial size (> 0): one value or one per axis; the output size "
	 "is floor(in scale_factor)"},
	{"mode", MG_ATTR_STR, "\"nearest\"", 0, "nearest|nearest-exact|linear|bilinear|trilinear",
	 "interpolation: nearest (torch's legacy rule), nearest-exact, or linear / bilinear / "
	 "trilinear for x of rank 3 / 4 / 5"},
	{"align_corners", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE, NULL,
	 "linear modes only: map the corner voxels' centres onto each other (null: false)"},
	{"recompute_scale_factor", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE, NULL,
	 "true: sample with in / out instead of 1 / scale_factor (only with scale_factor)"},
};
enum { A_SIZE, A_SCALE, A_MODE, A_ALIGN, A_RECOMPUTE };
enum { NEAREST, EXACT, LINEAR };

struct up {
	int sdim, mode, align;
	int64_t nc, in[3], out[3];
	double sf[3]; /* the scale_factor the kernel samples with; 0: in / out */
};

static int geometry(const char *op, const struct mg_attr *a, int rank, const int64_t *xd,
		    struct up *g, struct mg_err *e)
{
	static const char *const lin[] = {"linear", "bilinear", "trilinear"};
	const char *m = a[A_MODE].v.s;
	const struct mg_attr *size = &a[A_SIZE], *sc = &a[A_SCALE];
	int sd = rank - 2, rc = 0;
	if (sd < 1 || sd > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has rank %d; expected 3 to 5 (N, C, "
				  "spatial...)", op, rank);
	*g = (struct up){.sdim = sd, .nc = xd[0] * xd[1]};
	g->mode = !strcmp(m, "nearest") ? NEAREST : !strcmp(m, "nearest-exact") ? EXACT : LINEAR;
	if (g->mode == LINEAR && strcmp(m, lin[sd - 1]))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: mode \"%s\" needs x of rank %d; this x has "
				  "rank %d (use \"%s\")", op, m,
				  !strcmp(m, "linear") ? 3 : !strcmp(m, "bilinear") ? 4 : 5, rank,
				  lin[sd - 1]);
	if (g->mode != LINEAR && !a[A_ALIGN].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: align_corners can only be set with the "
				  "interpolating modes (linear, bilinear, trilinear)", op);
	g->align = !a[A_ALIGN].is_none && a[A_ALIGN].v.i;
	if (size->is_none == sc->is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: %s", op, size->is_none ?
				  "either size or scale_factor must be given" :
				  "only one of size and scale_factor may be given");
	int recompute = !a[A_RECOMPUTE].is_none && a[A_RECOMPUTE].v.i;
	if (recompute && sc->is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: recompute_scale_factor is not meaningful "
				  "with an explicit size", op);
	if (!size->is_none)
		rc = mg_nn_per_axis(op, "size", size, sd, 1, g->out, e);
	else if (sc->n != 1 && sc->n != sd)
		rc = mg_err_set(e, MG_ERR_CONFIG, "%s: scale_factor has %d values; expected 1 or "
				"%d (one per spatial axis)", op, sc->n, sd);
	for (int i = 0; i < 3 && !rc; i++) {
		g->in[i] = i < sd ? xd[2 + i] : 1;
		if (i >= sd) {
			g->out[i] = 1;
			continue;
		}
		if (sc->is_none)
			continue;
		double f = sc->v.floats[sc->n == 1 ? 0 : i];
		if (!(f > 0))
			return mg_err_set(e, MG_ERR_CONFIG, "%s: scale_factor must be positive, not "
					  "%g", op, f);
		g->out[i] = (int64_t)floor((double)g->in[i] * f);
		g->sf[i] = recompute ? 0 : f;
		if (g->out[i] < 1)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: spatial axis %d of size %lld scaled "
					  "by %g gives size %lld", op, i, (long long)g->in[i], f,
					  (long long)g->out[i]);
	}
	return rc;
}

/* Where output voxel o of axis j reads: x[i0] (1 - l) + x[i1] l. */
static void source(const struct up *g, int j, int64_t o, int64_t *i0, int64_t *i1, double *l)
{
	int64_t in = g->in[j], out = g->out[j];
	*l = 0;
	if (g->mode != LINEAR) { /* torch's float32 index arithmetic */
		float s = g->sf[j] > 0 ? (float)(1.0 / g->sf[j]) : (float)in / (float)out;
		int cut = g->mode == NEAREST && g->sdim == 2; /* torch's 2D kernel's shortcuts */
		if (g->mode == NEAREST)
			*i0 = cut && out == in ? o : cut && out == 2 * in ? o >> 1
								 : (int64_t)floorf((float)o * s);
		else
			*i0 = (int64_t)floorf((float)((double)o + 0.5) * s);
		*i0 = *i0 < in - 1 ? *i0 : in - 1;
		*i1 = *i0;
		return;
	}
	double src;
	if (out == in) { /* torch copies an axis whose size stays, whatever the scale */
		*i0 = *i1 = o;
		return;
	}
	if (g->align) {
		src = out > 1 ? (double)(in - 1) / (double)(out - 1) * (double)o : 0;
	} else {
		double s = g->sf[j] > 0 ? 1.0 / g->sf[j] : (double)in / (double)out;
		src = s * ((double)o + 0.5) - 0.5;
		src = src < 0 ? 0 : src;
	}
	*i0 = (int64_t)src;
	*l = fmin(fmax(src - (double)*i0, 0), 1);
	*i1 = *i0 + (*i0 < in - 1);
}

/* y = the interpolation of x, or back: each output voxel's dy added to the voxels it
 * reads, times their weights. */
static void loop(const void *geom, int back, const double *x, const double *dy, double *y)
{
	const struct up *g = geom;
	const int64_t *in = g->in, *out = g->out;
	int64_t I = in[0] * in[1] * in[2], oi = 0;
	int nc[3];
	for (int j = 0; j < 3; j++)
		nc[j] = g->mode == LINEAR && j < g->sdim ? 2 : 1;
	for (int64_t p = 0; p < g->nc; p++)
	for (int64_t o0 = 0; o0 < out[0]; o0++)
	for (int64_t o1 = 0; o1 < out[1]; o1++)
	for (int64_t o2 = 0; o2 < out[2]; o2++, oi++) {
		int64_t o[3] = {o0, o1, o2}, idx[3][2];
		double w[3][2], s = 0;
		for (int j = 0; j < 3; j++) {
			double l;
			source(g, j, o[j], &idx[j][0], &idx[j][1], &l);
			w[j][0] = 1 - l, w[j][1] = l;
		}
		for (int c0 = 0; c0 < nc[0]; c0++)
		for (int c1 = 0; c1 < nc[1]; c1++)
		for (int c2 = 0; c2 < nc[2]; c2++) {
			int64_t ii = p * I + (idx[0][c0] * in[1] + idx[1][c1]) * in[2] + idx[2][c2];
			double wt = w[0][c0] * w[1][c1] * w[2][c2];
			if (back)
				y[ii] += wt * dy[oi];
			else
				s += wt * x[ii];
		}
		if (!back)
			y[oi] = s;
	}
}

static int kernel(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *op = back ? "UpsampleGrad" : "Upsample";
	struct up g;
	int rc = mg_nn_expect_x(op, back, in, k->err);
	if (rc || (rc = geometry(op, a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int64_t yd[5] = {in[0].t.dims[0], in[0].t.dims[1], g.out[0], g.out[1], g.out[2]};
	return mg_nn_run(op, back, &g, yd, loop, in, out, k);
}

static int upsample(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return kernel(0, a, in, out, k);
}

static int upsample_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return kernel(1, a, in, out, k);
}

/* The oneDNN kernel (runtime/dnn.h mg_dnn_resample) where it computes what ref does: the
 * linear modes without align_corners, every axis sampled with in / out (a size, or a
 * scale factor equal to out / in, or an axis whose size stays); MG_ERR_UNSUPPORTED
 * (nothing set) elsewhere, and the caller runs ref. */
static int kernel_dnn(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	struct up g;
	int rc = mg_nn_expect_x(back ? "UpsampleGrad" : "Upsample", back, in, k->err);
	if (rc || (rc = geometry("Upsample", a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int ok = g.mode == LINEAR && !g.align && mg_nn_use_dnn(in, k) &&
		 (!back || in[1].t.dtype == MG_DTYPE_F32);
	for (int i = 0; ok && i < g.sdim; i++)
		ok = !g.sf[i] || g.in[i] == g.out[i] || (double)g.out[i] / (double)g.in[i] == g.sf[i];
	if (!ok)
		return MG_ERR_UNSUPPORTED;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor tmp = {0}, r = {0};
	const struct mg_tensor *src = mg_nn_dnn_operand(back ? &in[1].t : x, &tmp, k->err);
	int64_t yd[5] = {x->dims[0], x->dims[1], g.out[0], g.out[1], g.out[2]};
	rc = !src ? k->err->code : back ? mg_tensor_alloc_like(&r, x, MG_DTYPE_F32, k->err)
					: mg_tensor_alloc(&r, MG_DTYPE_F32, x->rank, yd, k->err);
	if (!rc)
		rc = back ? mg_dnn_resample(1, &r, src, k->err) : mg_dnn_resample(0, src, &r, k->err);
	mg_tensor_release(&tmp);
	return mg_val_set_result(&out[0], r, back ? NULL : x->meta, rc);
}

static int upsample_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	int rc = kernel_dnn(0, a, in, out, k);
	return rc == MG_ERR_UNSUPPORTED ? (mg_err_clear(k->err), upsample(a, in, out, k)) : rc;
}

static int upsample_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			     struct mg_kctx *k)
{
	int rc = kernel_dnn(1, a, in, out, k);
	return rc == MG_ERR_UNSUPPORTED ? (mg_err_clear(k->err), upsample_grad(a, in, out, k))
					: rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int known = 0, rc = mg_nn_spatial_input("Upsample", &in[0], &known, e);
	struct up g;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (rc || in[0].rank < 0)
		return rc;
	int64_t xd[5];
	for (int i = 0; i < in[0].rank; i++) /* unknown sizes: check the arguments on any */
		xd[i] = in[0].dims[i] >= 0 ? in[0].dims[i] : 1 << 20;
	if ((rc = geometry("Upsample", a, in[0].rank, xd, &g, e)))
		return rc;
	for (int i = 0; i < g.sdim; i++)
		out[0].dims[2 + i] = a[A_SIZE].is_none && in[0].dims[2 + i] < 0 ? -1 : g.out[i];
	return 0;
}

static int grad(struct mg_grad *c) { return mg_nn_grad_x_dy(c, MG_OP_UpsampleGrad); }

const struct mg_opdef mg_op_upsample = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Upsample",
	.synopsis = "N-d nearest or linear resampling of (N, C, spatial...) to a size or by a "
		    "scale factor",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = upsample,
	.gen = upsample_gen,
	.grad = grad,
};

/* Op: UpsampleGrad
 * Synopsis: gradient of Upsample (made by the autodiff pass): dx from (x, dy).
 * MONAI: the backward of torch.nn.Upsample
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's x (only its shape is read) and dy (Upsample's output shape);
 * Upsample's attributes. The transpose of the interpolation: each dy voxel is added to
 * the voxels its output voxel read, times their weights (nearest: to its one source). */
const struct mg_opdef mg_op_upsample_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "UpsampleGrad",
	.synopsis = "gradient of Upsample (made by the autodiff pass)",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = mg_nn_grad_infer,
	.ref = upsample_grad,
	.gen = upsample_grad_gen,
};
