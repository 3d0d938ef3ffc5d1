/* Op: AvgPool
 * Synopsis: N-d average pooling (torch.nn.AvgPool1d/2d/3d) of (N, C, spatial...).
 * MONAI: torch.nn.AvgPool1d/2d/3d (monai.networks.layers.Pool["AVG", dim])
 * Gradient: AvgPoolGrad (this file): dy / divisor spread over each window.  Inverse: none.
 *
 * torch 2.x semantics: the spatial rank is x's rank less 2 (1 to 3). Windows and output
 * size as MaxPool's without dilation (ceil_mode's last window starts inside the input or
 * its left padding). A window's sum is divided by divisor_override when set, else by its
 * size clipped to the padded input (count_include_pad, the default) or to the input
 * alone: torch's avg_pool2d/3d divide_factor. torch's AvgPool1d has no divisor_override;
 * here it is taken in 1D too (what avg_pool2d does on a unit axis). */
#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"kernel_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "window size: one value for all spatial axes or one per axis"},
	{"stride", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "window step: one value or one per axis; null (torch's None): kernel_size"},
	{"padding", MG_ATTR_INTS, "0", 0, NULL,
	 "zeros added on both sides of each spatial axis: at most half the kernel size"},
	{"ceil_mode", MG_ATTR_BOOL, "false", 0, NULL,
	 "round the output size up (a last window that starts inside the input or its left "
	 "padding)"},
	{"count_include_pad", MG_ATTR_BOOL, "true", 0, NULL,
	 "divide by the window's size including the padding (else only the voxels inside x)"},
	{"divisor_override", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "divide every window's sum by this (not 0) instead"},
};
enum { A_KS, A_STRIDE, A_PAD, A_CEIL, A_CIP, A_DIV };

struct avg {
	struct mg_window w;
	int cip;
	int64_t div; /* 0: none */
};

static int geometry(const char *op, const struct mg_attr *a, int rank, const int64_t *xd,
		    struct avg *g, struct mg_err *e)
{
	g->cip = (int)a[A_CIP].v.i;
	g->div = a[A_DIV].is_none ? 0 : a[A_DIV].v.i;
	if (!a[A_DIV].is_none && !g->div)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: divisor_override must not be 0", op);
	return mg_window_geometry(op, rank, xd, &a[A_KS], &a[A_STRIDE], &a[A_PAD], NULL,
				  (int)a[A_CEIL].v.i, &g->w, e);
}

/* y = each window's sum / divisor, or back: each window's voxels in x += dy / divisor. */
static void loop(const void *geom, int back, const double *x, const double *dy, double *y)
{
	const struct avg *a = geom;
	const struct mg_window *g = &a->w;
	const int64_t *in = g->in, *out = g->out;
	int64_t I = in[0] * in[1] * in[2], oi = 0;
	for (int64_t p = 0; p < g->nc; p++)
	for (int64_t o0 = 0; o0 < out[0]; o0++)
	for (int64_t o1 = 0; o1 < out[1]; o1++)
	for (int64_t o2 = 0; o2 < out[2]; o2++, oi++) {
		int64_t o[3] = {o0, o1, o2}, lo[3], hi[3], padded = 1, inside = 1;
		for (int j = 0; j < 3; j++) {
			lo[j] = o[j] * g->stride[j] - g->pad[j];
			hi[j] = lo[j] + g->k[j];
			if (hi[j] > in[j] + g->pad[j])
				hi[j] = in[j] + g->pad[j];
			padded *= hi[j] - lo[j];
			lo[j] = lo[j] < 0 ? 0 : lo[j];
			hi[j] = hi[j] > in[j] ? in[j] : hi[j];
			inside *= hi[j] - lo[j];
		}
		double div = (double)(a->div ? a->div : a->cip ? padded : inside), s = 0;
		for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)
		for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)
		for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) {
			int64_t ii = p * I + (i0 * in[1] + i1) * in[2] + i2;
			if (back)
				y[ii] += dy[oi] / div;
			else
				s += x[ii];
		}
		if (!back)
			y[oi] = s / div;
	}
}

static int kernel(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *op = back ? "AvgPoolGrad" : "AvgPool";
	struct avg g;
	int rc = mg_nn_expect_x(op, back, in, k->err);
	if (rc || (rc = geometry(op, a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int64_t yd[5] = {in[0].t.dims[0], in[0].t.dims[1], g.w.out[0], g.w.out[1],
			 g.w.out[2]};
	return mg_nn_run(op, back, &g, yd, loop, in, out, k);
}

static int avg_pool(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return kernel(0, a, in, out, k);
}

static int avg_pool_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return kernel(1, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int known = 0, rc = mg_nn_spatial_input("AvgPool", &in[0], &known, e);
	struct avg g;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	for (int i = 2; !known && i < in[0].rank; i++)
		out[0].dims[i] = -1; /* the window sizes come at run time */
	if (rc || !known)
		return rc;
	if ((rc = geometry("AvgPool", a, in[0].rank, in[0].dims, &g, e)))
		return rc;
	for (int i = 0; i < g.w.sdim; i++)
		out[0].dims[2 + i] = g.w.out[i];
	return 0;
}

static int grad(struct mg_grad *c) { return mg_nn_grad_x_dy(c, MG_OP_AvgPoolGrad); }

const struct mg_opdef mg_op_avg_pool = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "AvgPool",
	.synopsis = "N-d average pooling of (N, C, spatial...)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = avg_pool,
	.grad = grad,
};

/* Op: AvgPoolGrad
 * Synopsis: gradient of AvgPool (made by the autodiff pass): dx from (x, dy).
 * MONAI: the backward of torch.nn.AvgPool1d/2d/3d
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's x (only its shape is read) and dy (AvgPool's output shape);
 * AvgPool's attributes. Each window's voxels inside x get dy / the window's divisor. */
const struct mg_opdef mg_op_avg_pool_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "AvgPoolGrad",
	.synopsis = "gradient of AvgPool (made by the autodiff pass)",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = mg_nn_grad_infer,
	.ref = avg_pool_grad,
};
