/* Op: AdaptiveAvgPool
 * Synopsis: N-d adaptive average pooling (torch.nn.AdaptiveAvgPool1d/2d/3d) to a size.
 * MONAI: torch.nn.AdaptiveAvgPool1d/2d/3d (monai.networks.layers.Pool["ADAPTIVEAVG", dim])
 * Gradient: AdaptiveAvgPoolGrad (this file): dy / window size over each window.
 * Inverse: none.
 *
 * torch 2.x semantics: the spatial rank is x's rank less 2 (1 to 3); output voxel o of an
 * axis of size in averages x[start, end) with start = floor(o in / out) and end =
 * ceil((o + 1) in / out): windows overlap when out does not divide in. torch's None
 * entries (keep the axis) are not taken: every entry is a size >= 1. */
#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"output_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "the output's spatial size: one value for all axes or one per axis (each >= 1)"},
};

static int geometry(const char *op, const struct mg_attr *a, int rank, const int64_t *xd,
		    struct mg_window *g, struct mg_err *e)
{
	int sd = rank - 2;
	if (sd < 1 || sd > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x has rank %d; expected 3 to 5 (N, C, "
				  "spatial...)", op, rank);
	*g = (struct mg_window){.sdim = sd, .nc = xd[0] * xd[1]};
	int rc = mg_nn_per_axis(op, "output_size", &a[0], sd, 1, g->out, e);
	for (int i = 0; i < 3; i++) {
		g->in[i] = i < sd ? xd[2 + i] : 1;
		g->out[i] = i < sd ? g->out[i] : 1;
	}
	return rc;
}

/* y = each window's mean, or back: each window's voxels += dy / its size. */
static void loop(const void *geom, int back, const double *x, const double *dy, double *y)
{
	const struct mg_window *g = geom;
	const int64_t *in = g->in, *out = g->out;
	int64_t I = in[0] * in[1] * in[2], oi = 0;
	for (int64_t p = 0; p < g->nc; p++)
	for (int64_t o0 = 0; o0 < out[0]; o0++)
	for (int64_t o1 = 0; o1 < out[1]; o1++)
	for (int64_t o2 = 0; o2 < out[2]; o2++, oi++) {
		int64_t o[3] = {o0, o1, o2}, lo[3], hi[3], n = 1;
		for (int j = 0; j < 3; j++) {
			lo[j] = o[j] * in[j] / out[j];
			hi[j] = ((o[j] + 1) * in[j] + out[j] - 1) / out[j];
			n *= hi[j] - lo[j];
		}
		double s = 0;
		for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)
		for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)
		for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) {
			int64_t ii = p * I + (i0 * in[1] + i1) * in[2] + i2;
			if (back)
				y[ii] += dy[oi] / (double)n;
			else
				s += x[ii];
		}
		if (!back)
			y[oi] = s / (double)n;
	}
}

static int kernel(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *op = back ? "AdaptiveAvgPoolGrad" : "AdaptiveAvgPool";
	struct mg_window g;
	int rc = mg_nn_expect_x(op, back, in, k->err);
	if (rc || (rc = geometry(op, a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int64_t yd[5] = {in[0].t.dims[0], in[0].t.dims[1], g.out[0], g.out[1], g.out[2]};
	return mg_nn_run(op, back, &g, yd, loop, in, out, k);
}

static int adaptive_avg_pool(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			     struct mg_kctx *k)
{
	return kernel(0, a, in, out, k);
}

static int adaptive_avg_pool_grad(const struct mg_attr *a, struct mg_val *in,
				  struct mg_val *out, struct mg_kctx *k)
{
	return kernel(1, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int known = 0, rc = mg_nn_spatial_input("AdaptiveAvgPool", &in[0], &known, e);
	struct mg_window g;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (rc || in[0].rank < 0)
		return rc;
	int64_t xd[5] = {1, 1, 1, 1, 1}; /* the output size needs no input dims */
	if ((rc = geometry("AdaptiveAvgPool", a, in[0].rank, xd, &g, e)))
		return rc;
	for (int i = 0; i < g.sdim; i++)
		out[0].dims[2 + i] = g.out[i];
	return 0;
}

static int grad(struct mg_grad *c) { return mg_nn_grad_x_dy(c, MG_OP_AdaptiveAvgPoolGrad); }

const struct mg_opdef mg_op_adaptive_avg_pool = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "AdaptiveAvgPool",
	.synopsis = "N-d adaptive average pooling of (N, C, spatial...) to output_size",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = adaptive_avg_pool,
	.grad = grad,
};

/* Op: AdaptiveAvgPoolGrad
 * Synopsis: gradient of AdaptiveAvgPool (made by the autodiff pass): dx from (x, dy).
 * MONAI: the backward of torch.nn.AdaptiveAvgPool1d/2d/3d
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's x (only its shape is read) and dy (the pooled shape), as the
 * other gradient ops order them (forward inputs, then dy); AdaptiveAvgPool's attributes. */
const struct mg_opdef mg_op_adaptive_avg_pool_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "AdaptiveAvgPoolGrad",
	.synopsis = "gradient of AdaptiveAvgPool (made by the autodiff pass)",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = mg_nn_grad_infer,
	.ref = adaptive_avg_pool_grad,
};
