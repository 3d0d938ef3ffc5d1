/* Op: Conv
 * Synopsis: N-d convolution (torch.nn.functional.conv1d/2d/3d): y = conv(x, weight) + bias.
 * MONAI: torch.nn.Conv1d/2d/3d (as MONAI's networks use them: monai.networks.blocks.Convolution)
 * Gradient: conv backward data and backward weights (+ bias grad), plain functions in this
 * file (mg_conv_compute), until the autodiff pass wires them.  Inverse: none.
 *
 * torch 2.x semantics: x (N, C_in, spatial...), weight (C_out, C_in / groups, k...) whose
 * rank gives the spatial rank (1 to 3), bias (C_out) optional. Each spatial axis:
 * out = floor((in + pad_lo + pad_hi - dilation (k - 1) - 1) / stride) + 1. padding
 * "valid" is 0; "same" pads dilation (k - 1) in total, the odd zero at the end (torch's
 * _conv_forward), and torch refuses it with a stride other than 1. Unbatched input
 * (C_in, spatial...) is refused (MONAI's networks always batch). Only padding_mode
 * "zeros". The reference kernel converts to float64, computes there and rounds once;
 * mg_conv_kernel_dnn is the oneDNN implementation of the same node.
 *
 * This file also holds what ConvTranspose shares with Conv (nn.h): the geometry, the
 * reference loop nest, the tensor-level passes, the kernel and the type rule. */
#include <stdlib.h>
#include <string.h>

#include "nn.h"

static const struct mg_attrdef attrs[] = {
	{"stride", MG_ATTR_INTS, "1", 0, NULL,
	 "step of the window on each spatial axis: one value for all axes or one per axis"},
	{"padding", MG_ATTR_STRS, "0", MG_ATTRF_INT_OK, NULL,
	 "zeros added before and after each spatial axis: one integer for all axes, one per "
	 "axis, \"valid\" (none) or \"same\" (output size = input size; stride 1 only; an odd "
	 "total puts the extra zero at the end, as torch)"},
	{"dilation", MG_ATTR_INTS, "1", 0, NULL,
	 "spacing between kernel taps: one value for all axes or one per axis"},
	{"groups", MG_ATTR_INT, "1", 0, NULL,
	 "channel groups: C_in and C_out both divisible by it; each output channel sees "
	 "C_in / groups input channels"},
	{"padding_mode", MG_ATTR_STR, "\"zeros\"", 0, "zeros",
	 "torch's padding_mode; reflect, replicate and circular are not supported"},
};

int mg_nn_per_axis(const char *op, const char *arg, const struct mg_attr *a, int sdim,
		   int64_t lo, int64_t v[3], struct mg_err *e)
{
	if (a->n != 1 && a->n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: %s has %d values; expected 1 or %d (one "
				  "per spatial axis)", op, arg, a->n, sdim);
	for (int i = 0; i < sdim; i++) {
		v[i] = a->v.ints[a->n == 1 ? 0 : i];
		if (v[i] < lo)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: %s must be at least %lld, not %lld",
					  op, arg, (long long)lo, (long long)v[i]);
	}
	return 0;
}

/* padding's value: "same" (*same = 1), "valid", or integers >= 0 in pad. */
static int padding(const char *op, int transposed, const struct mg_attr *a, int sdim,
		   int64_t pad[3], int *same, struct mg_err *e)
{
	int64_t ints[3];
	*same = 0;
	if (a->n == 1 && (!strcmp(a->v.strs[0], "same") || !strcmp(a->v.strs[0], "valid"))) {
		if (transposed)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: padding must be integers (torch's "
					  "conv_transpose takes no \"%s\")", op, a->v.strs[0]);
		*same = a->v.strs[0][0] == 's';
		memset(pad, 0, 3 * sizeof *pad);
		return 0;
	}
	if (a->n != 1 && a->n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: padding has %d values; expected 1 or %d",
				  op, a->n, sdim);
	for (int i = 0; i < a->n; i++) {
		char *end;
		long long v = strtoll(a->v.strs[i], &end, 10);
		if (*end || end == a->v.strs[i])
			return mg_err_set(e, MG_ERR_CONFIG, "%s: padding \"%s\" is not an integer, "
					  "\"same\" or \"valid\"", op, a->v.strs[i]);
		ints[i] = v;
	}
	struct mg_attr list = {.n = a->n, .v.ints = ints};
	return mg_nn_per_axis(op, "padding", &list, sdim, 0, pad, e);
}

int mg_conv_geometry(const char *op, const struct mg_attr *a, int transposed, int xrank,
		     const int64_t *xd, int wrank, const int64_t *wd, int64_t nbias,
		     struct mg_conv_geom *g, struct mg_err *e)
{
	int sd = wrank - 2, same, rc;
	if (sd < 1 || sd > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has rank %d; expected 3 to 5 (out, "
				  "in / groups, kernel...)", op, wrank);
	if (xrank != sd + 2)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has rank %d; a %dD weight needs (N, C, "
				  "spatial...) of rank %d", op, xrank, sd, sd + 2);
	memset(g, 0, sizeof *g);
	g->sdim = sd;
	g->groups = a[MG_CONV_A_GROUPS].v.i;
	int64_t op_pad[3] = {0}, pad[3];
	if (g->groups < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: groups must be positive, not %lld", op,
				  (long long)g->groups);
	if ((rc = mg_nn_per_axis(op, "stride", &a[MG_CONV_A_STRIDE], sd, 1, g->stride, e)) ||
	    (rc = mg_nn_per_axis(op, "dilation", &a[MG_CONV_A_DILATION], sd, 1, g->dil, e)) ||
	    (rc = padding(op, transposed, &a[MG_CONV_A_PADDING], sd, pad, &same, e)) ||
	    (transposed && (rc = mg_nn_per_axis(op, "output_padding",
						&a[MG_CONV_A_OUTPUT_PADDING], sd, 0, op_pad, e))))
		return rc;
	/* torch's weight is (cout, cin / G, k...) for a Conv, (cin_t, cout_t / G, k...) for a
	 * ConvTranspose, whose input is the convolution's small side (see dnn.h) */
	g->n = xd[0];
	g->cout = wd[0];
	g->cin = wd[1] * g->groups;
	int64_t xc = transposed ? g->cout : g->cin;
	if (wd[0] % g->groups)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight's first axis (%lld) is not divisible "
				  "by groups=%lld", op, (long long)wd[0], (long long)g->groups);
	if (xd[1] != xc)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has %lld channels; groups=%lld and a "
				  "weight of shape (%lld, %lld, ...) expect %lld", op,
				  (long long)xd[1], (long long)g->groups, (long long)wd[0],
				  (long long)wd[1], (long long)xc);
	if (nbias >= 0 && nbias != (transposed ? g->cin : g->cout))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: bias has %lld values for %lld output "
				  "channels", op, (long long)nbias,
				  (long long)(transposed ? g->cin : g->cout));
	for (int i = 0; i < 3; i++) {
		if (i >= sd) {
			g->in[i] = g->out[i] = g->k[i] = g->stride[i] = g->dil[i] = 1;
			continue;
		}
		int64_t ext = g->dil[i] * (wd[2 + i] - 1) + 1;
		g->k[i] = wd[2 + i];
		if (same && g->stride[i] != 1)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: padding=\"same\" needs stride 1 (torch "
					  "refuses it for strided convolutions)", op);
		g->pad_lo[i] = same ? (ext - 1) / 2 : pad[i];
		g->pad_hi[i] = same ? ext - 1 - g->pad_lo[i] : pad[i];
		if (!transposed) {
			g->in[i] = xd[2 + i];
			int64_t padded = g->in[i] + g->pad_lo[i] + g->pad_hi[i];
			if (padded < ext)
				return mg_err_set(e, MG_ERR_SHAPE, "%s: spatial axis %d is %lld with "
						  "padding, shorter than the dilated kernel (%lld)",
						  op, i, (long long)padded, (long long)ext);
			g->out[i] = (padded - ext) / g->stride[i] + 1;
			continue;
		}
		if (op_pad[i] >= g->stride[i] && op_pad[i] >= g->dil[i])
			return mg_err_set(e, MG_ERR_CONFIG, "%s: output_padding must be smaller than "
					  "either stride or dilation (axis %d: %lld)", op, i,
					  (long long)op_pad[i]);
		g->out[i] = xd[2 + i];
		g->in[i] = (g->out[i] - 1) * g->stride[i] - 2 * pad[i] + ext + op_pad[i];
		/* the zeros oneDNN sees past the end make its size equation exact */
		g->pad_hi[i] = pad[i] - op_pad[i];
		if (g->in[i] < 1)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: spatial axis %d would have size %lld",
					  op, i, (long long)g->in[i]);
	}
	return 0;
}

/* ---- the reference ---------------------------------------------------------------- */

void mg_conv_ref(enum mg_dnn_pass pass, const struct mg_conv_geom *g, double *big, double *w,
		 double *small)
{
	const int64_t *in = g->in, *out = g->out, *k = g->k;
	int64_t cig = g->cin / g->groups, cog = g->cout / g->groups;
	int64_t I = in[0] * in[1] * in[2], O = out[0] * out[1] * out[2], K = k[0] * k[1] * k[2];
	for (int64_t n = 0; n < g->n; n++)
	for (int64_t co = 0; co < g->cout; co++)
	for (int64_t o0 = 0; o0 < out[0]; o0++)
	for (int64_t o1 = 0; o1 < out[1]; o1++)
	for (int64_t o2 = 0; o2 < out[2]; o2++) {
		int64_t si = (n * g->cout + co) * O + (o0 * out[1] + o1) * out[2] + o2;
		for (int64_t ci = 0; ci < cig; ci++) {
			int64_t b0 = (n * g->cin + co / cog * cig + ci) * I, w0 = (co * cig + ci) * K;
			for (int64_t k0 = 0; k0 < k[0]; k0++)
			for (int64_t k1 = 0; k1 < k[1]; k1++)
			for (int64_t k2 = 0; k2 < k[2]; k2++) {
				int64_t i0 = o0 * g->stride[0] - g->pad_lo[0] + k0 * g->dil[0];
				int64_t i1 = o1 * g->stride[1] - g->pad_lo[1] + k1 * g->dil[1];
				int64_t i2 = o2 * g->stride[2] - g->pad_lo[2] + k2 * g->dil[2];
				if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 ||
				    i2 >= in[2])
					continue;
				int64_t bi = b0 + (i0 * in[1] + i1) * in[2] + i2;
				int64_t wi = w0 + (k0 * k[1] + k1) * k[2] + k2;
				switch (pass) {
				case MG_DNN_FWD: small[si] += w[wi] * big[bi]; break;
				case MG_DNN_BWD_DATA: big[bi] += w[wi] * small[si]; break;
				case MG_DNN_BWD_WEIGHTS: w[wi] += small[si] * big[bi]; break;
				}
			}
		}
	}
}

void mg_bias_add_ref(int64_t n, int64_t c, int64_t s, double *t, const double *bias)
{
	for (int64_t i = 0; i < n * c; i++)
		for (int64_t j = 0; j < s; j++)
			t[i * s + j] += bias[i % c];
}

void mg_bias_grad_ref(int64_t n, int64_t c, int64_t s, const double *dt, double *db)
{
	memset(db, 0, (size_t)c * sizeof *db);
	for (int64_t i = 0; i < n * c; i++)
		for (int64_t j = 0; j < s; j++)
			db[i % c] += dt[i * s + j];
}

/* ---- passes on tensors ---------------------------------------------------------------- */

static int same_dims(const char *what, const struct mg_tensor *t, int rank, const int64_t *d,
		     struct mg_err *e)
{
	int ok = t->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = t->dims[i] == d[i];
	return ok ? 0 : mg_err_set(e, MG_ERR_SHAPE, "%s has the wrong shape for this "
				  "convolution", what);
}

/* A new tensor of dims d in like's memory order (an activation keeps its layout), but
 * contiguous rather than channels-last when it has fewer than 8 channels: oneDNN's
 * kernels vectorize along the channels there, and a network's last few channels (its
 * classes) run 3-10x slower channels-last than plain (docs/networks.md). */
static int alloc_as(struct mg_tensor *t, const struct mg_tensor *like, enum mg_dtype dt,
		    int rank, const int64_t *d, struct mg_err *e)
{
	struct mg_tensor shape = *like; /* read only: its strides order the new tensor */
	int order[MG_MAX_RANK];
	memcpy(shape.dims, d, (size_t)rank * sizeof *d);
	mg_tensor_order(&shape, order);
	if (rank >= 3 && d[1] < 8 && order[0] == 1)
		return mg_tensor_alloc(t, dt, rank, d, e);
	return mg_tensor_alloc_like(t, &shape, dt, e);
}

/* A contiguous float64 copy of t (NULL t: nothing); zeros of dims d when t is NULL and
 * d is not. */
static int f64_of(struct mg_tensor *out, const struct mg_tensor *t, int rank, const int64_t *d,
		  struct mg_err *e)
{
	int rc = mg_tensor_alloc(out, MG_DTYPE_F64, t ? t->rank : rank, t ? t->dims : d, e);
	if (rc)
		return rc;
	if (t)
		mg_tensor_convert(out, t);
	else
		memset(mg_tensor_data(out), 0, (size_t)mg_tensor_numel(out) * sizeof(double));
	return 0;
}

const struct mg_tensor *mg_nn_dnn_operand(const struct mg_tensor *t, struct mg_tensor *tmp,
					 struct mg_err *e)
{
	if (!t)
		return NULL;
	if (t->dtype != MG_DTYPE_F32) {
		mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN path: %s operands are not supported "
			   "(float32 only)", mg_dtype_name(t->dtype));
		return NULL;
	}
	int copy = t->rank == 1 && t->strides[0] != 1 && t->dims[0] > 1;
	for (int i = 0; i < t->rank; i++)
		copy |= t->strides[i] < 0 || (t->strides[i] == 0 && t->dims[i] > 1);
	return !copy ? t : mg_tensor_contiguous(tmp, t, e) ? NULL : tmp;
}

int mg_conv_compute(enum mg_dnn_pass pass, const struct mg_conv_geom *g, int transposed,
		    int dnn, const struct mg_tensor *a, const struct mg_tensor *b,
		    const struct mg_tensor *bias, struct mg_tensor *out, struct mg_tensor *dbias,
		    const struct mg_tensor *like, struct mg_err *e)
{
	int r = 2 + g->sdim, t = transposed != 0;
	int64_t bigd[5] = {g->n, g->cin}, smalld[5] = {g->n, g->cout},
		wd[5] = {g->cout, g->cin / g->groups}, S = 1, B = 1;
	for (int i = 0; i < g->sdim; i++) {
		bigd[2 + i] = g->in[i], smalld[2 + i] = g->out[i], wd[2 + i] = g->k[i];
		S *= g->out[i], B *= g->in[i];
	}
	/* which side `a` is, and the reference pass that computes this one (a ConvTranspose's
	 * forward is the convolution's backward data and the other way round) */
	int a_big = (pass == MG_DNN_BWD_DATA) == t;
	enum mg_dnn_pass rp = pass == MG_DNN_BWD_WEIGHTS ? pass : a_big ? MG_DNN_FWD
									   : MG_DNN_BWD_DATA;
	const int64_t *ad = a_big ? bigd : smalld, *od = a_big ? smalld : bigd;
	const int64_t *bd = pass == MG_DNN_BWD_WEIGHTS ? od : wd;
	int64_t nb = t ? g->cin : g->cout, bs = t ? B : S; /* the output side's channels */
	int rc = same_dims("the first operand", a, r, ad, e);
	if (!rc)
		rc = same_dims("the second operand", b, r, bd, e);
	if (!rc && bias && pass == MG_DNN_FWD)
		rc = same_dims("bias", bias, 1, &nb, e);
	if (rc)
		return rc;
	const int64_t *outd = pass == MG_DNN_BWD_WEIGHTS ? wd : od;
	memset(out, 0, sizeof *out);
	if (dbias)
		memset(dbias, 0, sizeof *dbias);
	if (dnn) {
		struct mg_tensor ta = {0}, tb = {0}, tc = {0};
		const struct mg_tensor *pa = mg_nn_dnn_operand(a, &ta, e);
		const struct mg_tensor *pb = mg_nn_dnn_operand(b, &tb, e);
		const struct mg_tensor *pc = pass == MG_DNN_FWD ? mg_nn_dnn_operand(bias, &tc, e)
								: NULL;
		rc = !pa || !pb || (bias && pass == MG_DNN_FWD && !pc) ? e->code : 0;
		if (!rc)
			rc = pass == MG_DNN_BWD_WEIGHTS ? mg_tensor_alloc(out, MG_DTYPE_F32, r, outd, e)
							: alloc_as(out, like ? like : a, MG_DTYPE_F32, r, outd, e);
		if (!rc && dbias && pass == MG_DNN_BWD_WEIGHTS)
			rc = mg_tensor_alloc(dbias, MG_DTYPE_F32, 1, &nb, e);
		if (!rc)
			rc = mg_dnn_conv(pass, g, t, pa, pb, pass == MG_DNN_BWD_WEIGHTS ? dbias : pc,
					 out, e);
		mg_tensor_release(&ta);
		mg_tensor_release(&tb);
		mg_tensor_release(&tc);
		goto done;
	}
	struct mg_tensor big = {0}, small = {0}, w = {0}, db = {0}, fb = {0};
	const struct mg_tensor *bigsrc = pass == MG_DNN_BWD_WEIGHTS ? (a_big ? a : b)
								    : (a_big ? a : NULL);
	const struct mg_tensor *smallsrc = pass == MG_DNN_BWD_WEIGHTS ? (a_big ? b : a)
								      : (a_big ? NULL : a);
	if ((rc = f64_of(&big, bigsrc, r, bigd, e)) || (rc = f64_of(&small, smallsrc, r, smalld, e)) ||
	    (rc = f64_of(&w, pass == MG_DNN_BWD_WEIGHTS ? NULL : b, r, wd, e)))
		goto ref_done;
	mg_conv_ref(rp, g, mg_tensor_data(&big), mg_tensor_data(&w), mg_tensor_data(&small));
	struct mg_tensor *res = pass == MG_DNN_BWD_WEIGHTS ? &w : a_big ? &small : &big;
	if (pass == MG_DNN_FWD && bias) {
		if ((rc = f64_of(&fb, bias, 0, NULL, e)))
			goto ref_done;
		mg_bias_add_ref(g->n, nb, bs, mg_tensor_data(res), mg_tensor_data(&fb));
	}
	rc = pass == MG_DNN_BWD_WEIGHTS ? mg_tensor_alloc(out, a->dtype, r, outd, e)
					: alloc_as(out, like ? like : a, a->dtype, r, outd, e);
	if (rc)
		goto ref_done;
	mg_tensor_convert(out, res);
	if (pass == MG_DNN_BWD_WEIGHTS && dbias) {
		if ((rc = f64_of(&db, NULL, 1, &nb, e)) ||
		    (rc = mg_tensor_alloc(dbias, a->dtype, 1, &nb, e)))
			goto ref_done;
		mg_bias_grad_ref(g->n, nb, bs, mg_tensor_data(t ? &big : &small), mg_tensor_data(&db));
		mg_tensor_convert(dbias, &db);
	}
ref_done:
	mg_tensor_release(&big);
	mg_tensor_release(&small);
	mg_tensor_release(&w);
	mg_tensor_release(&db);
	mg_tensor_release(&fb);
done:
	if (rc) {
		mg_tensor_release(out);
		if (dbias)
			mg_tensor_release(dbias);
	}
	return rc;
}

/* ---- the ops ------------------------------------------------------------------------ */

/* What a pass's node reads: FWD (x, weight, bias?), BWD_DATA (x, weight, dy), BWD_WEIGHTS
 * (x, weight, dy, bias?): x and weight give the geometry, bias its length. */
static const char *const operand_names[][4] = {
	[MG_DNN_FWD] = {"x", "weight", "bias"},
	[MG_DNN_BWD_DATA] = {"x", "weight", "dy"},
	[MG_DNN_BWD_WEIGHTS] = {"x", "weight", "dy", "bias"},
};

static int operands(const char *op, enum mg_dnn_pass pass, int n, struct mg_err *e)
{
	int lo = pass == MG_DNN_FWD ? 2 : 3, hi = pass == MG_DNN_BWD_DATA ? 3 : lo + 1;
	if (n >= lo && n <= hi)
		return 0;
	const char *const *nm = operand_names[pass];
	return mg_err_set(e, MG_ERR_SHAPE, "%s takes %s, %s%s%s%s%s; got %d inputs", op, nm[0],
			  nm[1], lo > 2 ? ", " : "", lo > 2 ? nm[2] : "",
			  hi > lo ? " and an optional " : "", hi > lo ? nm[hi - 1] : "", n);
}

int mg_conv_kernel(const char *op, int transposed, enum mg_dnn_pass pass, int dnn,
		   const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	int n = mg_op_nvals(in), rc = operands(op, pass, n, k->err);
	for (int i = 0; i < n && !rc; i++) {
		char what[64];
		snprintf(what, sizeof what, "%s %s", op, operand_names[pass][i]);
		rc = mg_op_expect_tensor(&in[i], what, k->err);
	}
	if (rc)
		return rc;
	int nb = pass == MG_DNN_FWD ? 2 : 3; /* where a bias would be */
	const struct mg_tensor *x = &in[0].t, *w = &in[1].t, *b = n > nb ? &in[nb].t : NULL;
	if (b && b->rank != 1)
		return mg_err_set(k->err, MG_ERR_SHAPE, "%s: bias has rank %d; expected 1", op,
				  b->rank);
	struct mg_conv_geom g;
	if ((rc = mg_conv_geometry(op, a, transposed, x->rank, x->dims, w->rank, w->dims,
				   b ? b->dims[0] : -1, &g, k->err)))
		return rc;
	struct mg_tensor y, db = {0};
	const struct mg_tensor *dy = &in[2].t;
	if (pass == MG_DNN_FWD)
		rc = mg_conv_compute(pass, &g, transposed, dnn, x, w, b, &y, NULL, NULL, k->err);
	else if (pass == MG_DNN_BWD_DATA)
		rc = mg_conv_compute(pass, &g, transposed, dnn, dy, w, NULL, &y, NULL, x, k->err);
	else
		rc = mg_conv_compute(pass, &g, transposed, dnn, x, dy, NULL, &y, b ? &db : NULL, NULL,
				     k->err);
	if (rc) {
		mg_err_prefix(k->err, "%s", op);
		return rc;
	}
	mg_val_set_tensor(&out[0], y, NULL);
	if (b && pass == MG_DNN_BWD_WEIGHTS)
		mg_val_set_tensor(&out[1], db, NULL);
	return 0;
}

int mg_conv_grad(struct mg_grad *c, int data_op, int weight_op)
{
	int32_t in[4] = {c->x[0], c->x[1], c->dy[0], c->nin > 2 ? c->x[2] : -1};
	if ((c->need & 1) && (c->dx[0] = c->node(c, data_op, in, 3, 1, c->attrs)) < 0)
		return c->e->code;
	if (c->need & 6) {
		int n = c->nin > 2 ? 4 : 3;
		int32_t r = c->node(c, weight_op, in, n, n - 2, c->attrs);
		if (r < 0)
			return c->e->code;
		c->dx[1] = r;
		if (n == 4)
			c->dx[2] = r + 1;
	}
	return 0;
}

int mg_nn_float_operands(const char *op, const struct mg_type *in, int n, struct mg_err *e)
{
	for (int i = 0; i < n; i++) {
		if (in[i].dtype < 0)
			continue;
		if (in[i].dtype != MG_DTYPE_F32 && in[i].dtype != MG_DTYPE_F64)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d is %s; expected float32 "
					  "(or float64)", op, i, mg_dtype_name(in[i].dtype));
		if (in[0].dtype >= 0 && in[i].dtype != in[0].dtype)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d is %s but x is %s", op, i,
					  mg_dtype_name(in[i].dtype), mg_dtype_name(in[0].dtype));
	}
	return 0;
}

int mg_conv_infer(const char *op, int transposed, enum mg_dnn_pass pass,
		  const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		  struct mg_err *e)
{
	int n = mg_op_ntypes(in), rc = operands(op, pass, n, e);
	if (rc)
		return rc;
	for (int i = 0; i < n && !rc; i++)
		rc = mg_op_infer_image(&in[i], op, e);
	if (rc || (rc = mg_nn_float_operands(op, in, n, e)))
		return rc;
	if (pass != MG_DNN_FWD) { /* the gradients have their operands' types */
		out[0] = in[pass == MG_DNN_BWD_DATA ? 0 : 1];
		if (n == 4)
			out[1] = in[3];
		return 0;
	}
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	int known = in[0].rank > 0 && in[1].rank > 0 && (n < 3 || in[2].rank == 1);
	for (int i = 0; known && i < in[0].rank; i++)
		known = in[0].dims[i] >= 0;
	for (int i = 0; known && i < in[1].rank; i++)
		known = in[1].dims[i] >= 0;
	if (!known) { /* shapes come at run time: keep what is sure */
		out[0].rank = in[1].rank > 0 ? in[1].rank : in[0].rank;
		for (int i = 1; i < MG_MAX_RANK; i++)
			out[0].dims[i] = -1;
		return 0;
	}
	struct mg_conv_geom g;
	if ((rc = mg_conv_geometry(op, a, transposed, in[0].rank, in[0].dims, in[1].rank,
				   in[1].dims, n > 2 ? in[2].dims[0] : -1, &g, e)))
		return rc;
	out[0].dims[1] = transposed ? g.cin : g.cout;
	for (int i = 0; i < g.sdim; i++)
		out[0].dims[2 + i] = transposed ? g.in[i] : g.out[i];
	return 0;
}

static int conv(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		struct mg_kctx *k)
{
	return mg_conv_kernel("Conv", 0, MG_DNN_FWD, 0, a, in, out, k);
}

int mg_nn_use_dnn(const struct mg_val *in, const struct mg_kctx *k)
{
	return k->backend && mg_dnn_available() && in[0].kind == MG_VK_TENSOR &&
	       in[0].t.dtype == MG_DTYPE_F32;
}

int mg_conv_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	return mg_conv_kernel("Conv", 0, MG_DNN_FWD, mg_nn_use_dnn(in, k), a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_conv_infer("Conv", 0, MG_DNN_FWD, a, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_conv_grad(c, MG_OP_ConvGradData, MG_OP_ConvGradWeight);
}

const struct mg_opdef mg_op_conv = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Conv",
	.synopsis = "N-d convolution of (N, C, spatial...) by a weight, plus an optional bias",
	.flags = 0,
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = conv,
	.gen = mg_conv_kernel_dnn,
	.grad = grad,
};

/* The gradient ops. */
MG_CONV_PASS(grad_data, "ConvGradData", 0, MG_DNN_BWD_DATA)
MG_CONV_PASS(grad_weight, "ConvGradWeight", 0, MG_DNN_BWD_WEIGHTS)

const struct mg_opdef mg_op_conv_grad_data = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ConvGradData",
	.synopsis = "dL/dx of a Conv from x (its shape), weight and dy (made by autodiff)",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_data_infer,
	.ref = grad_data_ref,
	.gen = grad_data_gen,
};

const struct mg_opdef mg_op_conv_grad_weight = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ConvGradWeight",
	.synopsis = "dL/dweight (and dL/dbias when given the bias) of a Conv from x, weight "
		    "and dy (made by autodiff)",
	.nin = -1,
	.nout = -1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_weight_infer,
	.ref = grad_weight_ref,
	.gen = grad_weight_gen,
};
