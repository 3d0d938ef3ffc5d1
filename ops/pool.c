/* pool.c: what the pooling, upsampling and shape ops share (pool.h): the window
 * geometry, the float64 kernel driver of an op and its gradient op, the gradient ops'
 * type and gradient rules, and torch's reshape-as-a-view rule.
 * Read next: max_pool.c (a window op), reshape.c (the views). */
#include <stdio.h>
#include <string.h>

#include "pool.h"

/* torch's pooling_output_shape_pad_lr with equal padding on both sides. */
static int64_t pool_out(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t dil, int ceil)
{
	int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil ? s - 1 : 0);
	int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1; /* floor division */
	if (ceil && (out - 1) * s >= in + pad)
		out--; /* the last window must start inside the input or its left padding */
	return out;
}

int mg_window_geometry(const char *op, int rank, const int64_t *xd, const struct mg_attr *ks,
		       const struct mg_attr *stride, const struct mg_attr *pad,
		       const struct mg_attr *dil, int ceil_mode, struct mg_window *g,
		       struct mg_err *e)
{
	int sd = rank - 2, rc;
	if (sd < 1 || sd > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has rank %d; expected 3 to 5 (N, C, "
				  "spatial...)", op, rank);
	memset(g, 0, sizeof *g);
	g->sdim = sd;
	g->nc = xd[0] * xd[1];
	int64_t one = 1;
	struct mg_attr ones = {.n = 1, .v.ints = &one};
	if ((rc = mg_nn_per_axis(op, "kernel_size", ks, sd, 1, g->k, e)) ||
	    (rc = mg_nn_per_axis(op, "stride", stride->is_none || !stride->n ? ks : stride, sd, 1,
				 g->stride, e)) ||
	    (rc = mg_nn_per_axis(op, "padding", pad, sd, 0, g->pad, e)) ||
	    (rc = mg_nn_per_axis(op, "dilation", dil ? dil : &ones, sd, 1, g->dil, e)))
		return rc;
	for (int i = 0; i < 3; i++) {
		if (i >= sd) {
			g->in[i] = g->out[i] = g->k[i] = g->stride[i] = g->dil[i] = 1;
			g->pad[i] = 0;
			continue;
		}
		g->in[i] = xd[2 + i];
		if (g->pad[i] > g->k[i] / 2)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: padding %lld on spatial axis %d is "
					  "more than half the kernel size %lld (torch refuses it)", op,
					  (long long)g->pad[i], i, (long long)g->k[i]);
		g->out[i] = pool_out(g->in[i], g->k[i], g->pad[i], g->stride[i], g->dil[i],
				     ceil_mode);
		if (g->out[i] < 1)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: spatial axis %d of size %lld gives an "
					  "output of size %lld: too small for the kernel", op, i,
					  (long long)g->in[i], (long long)g->out[i]);
	}
	return 0;
}

int mg_nn_spatial_input(const char *op, const struct mg_type *x, int *known, struct mg_err *e)
{
	int rc = mg_op_infer_image(x, op, e);
	if (rc || (rc = mg_nn_float_operands(op, x, 1, e)))
		return rc;
	if (x->rank >= 0 && (x->rank < 3 || x->rank > 5))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has rank %d; expected 3 to 5 (N, C, "
				  "spatial...; unbatched input is not taken)", op, x->rank);
	*known = x->rank > 0;
	for (int i = 0; *known && i < x->rank; i++)
		*known = x->dims[i] >= 0;
	return 0;
}

int mg_nn_expect_x(const char *op, int back, const struct mg_val *in, struct mg_err *e)
{
	char what[64];
	snprintf(what, sizeof what, "%s x", op);
	int rc = mg_op_expect_tensor(&in[0], what, e);
	if (!rc && back) {
		snprintf(what, sizeof what, "%s dy", op);
		rc = mg_op_expect_tensor(&in[1], what, e);
	}
	return rc;
}

static int is_float(enum mg_dtype t) { return t == MG_DTYPE_F32 || t == MG_DTYPE_F64; }

static void dims_str(int rank, const int64_t *d, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "(");
	for (int i = 0; i < rank && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)d[i]);
	if (o < n)
		snprintf(buf + o, n - o, ")");
}

/* A contiguous float64 copy of t. */
static int f64_copy(struct mg_tensor *out, const struct mg_tensor *t, struct mg_err *e)
{
	int rc = mg_tensor_alloc(out, MG_DTYPE_F64, t->rank, t->dims, e);
	if (!rc)
		mg_tensor_convert(out, t);
	return rc;
}

int mg_nn_run(const char *op, int back, const void *g, const int64_t *yd, mg_nn_loop_fn *loop,
	      struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	struct mg_err *e = k->err;
	int rc = mg_nn_expect_x(op, back, in, e);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t, *dy = back ? &in[1].t : NULL;
	if (!is_float(x->dtype) || (dy && !is_float(dy->dtype)))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s is %s; expected float32 (or float64)",
				  op, is_float(x->dtype) ? "dy" : "x",
				  mg_dtype_name(is_float(x->dtype) ? dy->dtype : x->dtype));
	int r = x->rank;
	if (dy && (dy->rank != r || memcmp(dy->dims, yd, (size_t)r * sizeof *yd))) {
		char got[128], want[128];
		dims_str(dy->rank, dy->dims, got, sizeof got);
		dims_str(r, yd, want, sizeof want);
		return mg_err_set(e, MG_ERR_SHAPE, "%s: dy has shape %s; the forward output has %s",
				  op, got, want);
	}
	const int64_t *rd = back ? x->dims : yd;
	struct mg_tensor fx = {0}, fdy = {0}, fy = {0}, y = {0}, shape = *x;
	if ((rc = f64_copy(&fx, x, e)) || (dy && (rc = f64_copy(&fdy, dy, e))) ||
	    (rc = mg_tensor_alloc(&fy, MG_DTYPE_F64, r, rd, e)))
		goto done;
	memset(mg_tensor_data(&fy), 0, (size_t)mg_tensor_numel(&fy) * sizeof(double));
	loop(g, back, mg_tensor_data(&fx), dy ? mg_tensor_data(&fdy) : NULL, mg_tensor_data(&fy));
	memcpy(shape.dims, rd, (size_t)r * sizeof *rd); /* read only: orders the result */
	if ((rc = mg_tensor_alloc_like(&y, &shape, dy ? dy->dtype : x->dtype, e)))
		goto done;
	mg_tensor_convert(&y, &fy);
	mg_val_set_tensor(&out[0], y, NULL);
done:
	mg_tensor_release(&fx);
	mg_tensor_release(&fdy);
	mg_tensor_release(&fy);
	return rc;
}

int mg_nn_grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		     struct mg_err *e)
{
	(void)a, (void)e;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (in[1].dtype >= 0)
		out[0].dtype = in[1].dtype;
	return 0;
}

int mg_nn_grad_x_dy(struct mg_grad *c, int op)
{
	if (!(c->need & 1))
		return 0;
	int32_t in[2] = {c->x[0], c->dy[0]};
	c->dx[0] = c->node(c, op, in, 2, 1, c->attrs);
	return c->dx[0] < 0 ? (c->e->code ? c->e->code : MG_ERR_INTERNAL) : 0;
}

static void row_major(int rank, const int64_t *d, int64_t *st)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; s *= d[i], i--)
		st[i] = s;
}

/* torch's computeStride: the strides that show x's elements with dims d in row-major
 * order without moving them, if any (0 when none do). Axes are merged into chunks of
 * contiguous memory; each chunk of d must fall inside one chunk of x. */
static int view_strides(const struct mg_tensor *x, int rank, const int64_t *d, int64_t *st)
{
	if (mg_tensor_numel(x) == 0 || x->rank == 0) {
		row_major(rank, d, st);
		return 1;
	}
	int vd = rank - 1;
	int64_t base = x->strides[x->rank - 1], tn = 1, vn = 1;
	for (int td = x->rank - 1; td >= 0; td--) {
		tn *= x->dims[td];
		if (td > 0 && (x->dims[td - 1] == 1 || x->strides[td - 1] == tn * base))
			continue;
		while (vd >= 0 && (vn < tn || d[vd] == 1)) {
			st[vd] = vn * base;
			vn *= d[vd];
			vd--;
		}
		if (vn != tn)
			return 0;
		if (td > 0) {
			base = x->strides[td - 1];
			tn = vn = 1;
		}
	}
	return vd == -1;
}

int mg_nn_reshape(const struct mg_tensor *x, int rank, const int64_t *d, struct mg_tensor *y,
		  struct mg_err *e)
{
	int64_t st[MG_MAX_RANK];
	struct mg_tensor v;
	if (view_strides(x, rank, d, st)) {
		v = mg_tensor_share(x);
	} else {
		int rc = mg_tensor_contiguous(&v, x, e);
		if (rc)
			return rc;
		row_major(rank, d, st);
	}
	v.rank = rank;
	memcpy(v.dims, d, (size_t)rank * sizeof *d);
	memcpy(v.strides, st, (size_t)rank * sizeof *st);
	*y = v;
	return 0;
}
