/* Op: MaxPool
 * Synopsis: N-d max pooling (torch.nn.MaxPool1d/2d/3d) of (N, C, spatial...).
 * MONAI: torch.nn.MaxPool1d/2d/3d (monai.networks.layers.Pool["MAX", dim])
 * Gradient: MaxPoolGrad (this file): dy added at each window's argmax.  Inverse: none.
 *
 * torch 2.x semantics: the spatial rank is x's rank less 2 (1 to 3); each window reads
 * x at o stride - padding + j dilation for j < kernel_size, the padding reading as
 * -infinity. Output size floor((in + 2 padding - dilation (kernel_size - 1) - 1) / stride)
 * + 1 (ceil with ceil_mode, less one when the last window would start past the input and
 * its left padding); padding at most half the kernel size. The maximum is torch's CPU
 * scan: the first maximum in window order wins a tie, a NaN wins over any number (the
 * last NaN), and a window of only -infinity points at its first voxel inside x.
 * return_indices is refused (the gradient op finds the argmax again from x). */
#include <math.h>

#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"kernel_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "window size: one value for all spatial axes or one per axis"},
	{"stride", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "window step: one value or one per axis; null (torch's None): kernel_size"},
	{"padding", MG_ATTR_INTS, "0", 0, NULL,
	 "-infinity added on both sides of each spatial axis: at most half the kernel size"},
	{"dilation", MG_ATTR_INTS, "1", 0, NULL, "spacing between window taps"},
	{"return_indices", MG_ATTR_BOOL, "false", 0, NULL,
	 "only false: the indices output is not supported"},
	{"ceil_mode", MG_ATTR_BOOL, "false", 0, NULL,
	 "round the output size up (a last window that starts inside the input or its left "
	 "padding)"},
};
enum { A_KS, A_STRIDE, A_PAD, A_DIL, A_RETIDX, A_CEIL };

static int geometry(const char *op, const struct mg_attr *a, int rank, const int64_t *xd,
		    struct mg_window *g, struct mg_err *e)
{
	if (a[A_RETIDX].v.i)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: return_indices=true is not "
				  "supported", op);
	return mg_window_geometry(op, rank, xd, &a[A_KS], &a[A_STRIDE], &a[A_PAD], &a[A_DIL],
				  (int)a[A_CEIL].v.i, g, e);
}

/* Each window's argmax as torch's CPU kernel scans it; y = the maximum, or back: dx at
 * the argmax += dy. */
static void loop(const void *geom, int back, const double *x, const double *dy, double *y)
{
	const struct mg_window *g = geom;
	const int64_t *in = g->in, *out = g->out;
	int64_t I = in[0] * in[1] * in[2], oi = 0;
	for (int64_t p = 0; p < g->nc; p++)
	for (int64_t o0 = 0; o0 < out[0]; o0++)
	for (int64_t o1 = 0; o1 < out[1]; o1++)
	for (int64_t o2 = 0; o2 < out[2]; o2++, oi++) {
		int64_t best = -1;
		double m = -INFINITY;
		for (int64_t k0 = 0; k0 < g->k[0]; k0++)
		for (int64_t k1 = 0; k1 < g->k[1]; k1++)
		for (int64_t k2 = 0; k2 < g->k[2]; k2++) {
			int64_t i0 = o0 * g->stride[0] - g->pad[0] + k0 * g->dil[0];
			int64_t i1 = o1 * g->stride[1] - g->pad[1] + k1 * g->dil[1];
			int64_t i2 = o2 * g->stride[2] - g->pad[2] + k2 * g->dil[2];
			if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
				continue;
			int64_t ii = p * I + (i0 * in[1] + i1) * in[2] + i2;
			if (best < 0)
				best = ii;
			if (x[ii] > m || isnan(x[ii])) {
				m = x[ii];
				best = ii;
			}
		}
		if (!back)
			y[oi] = m;
		else if (best >= 0)
			y[best] += dy[oi];
	}
}

static int kernel(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *op = back ? "MaxPoolGrad" : "MaxPool";
	struct mg_window g;
	int rc = mg_nn_expect_x(op, back, in, k->err);
	if (rc || (rc = geometry(op, a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int64_t yd[5] = {in[0].t.dims[0], in[0].t.dims[1], g.out[0], g.out[1], g.out[2]};
	return mg_nn_run(op, back, &g, yd, loop, in, out, k);
}

static int max_pool(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return kernel(0, a, in, out, k);
}

static int max_pool_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return kernel(1, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int known = 0, rc = mg_nn_spatial_input("MaxPool", &in[0], &known, e);
	struct mg_window g;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	for (int i = 2; !known && i < in[0].rank; i++)
		out[0].dims[i] = -1; /* the window sizes come at run time */
	if (rc || !known)
		return rc;
	if ((rc = geometry("MaxPool", a, in[0].rank, in[0].dims, &g, e)))
		return rc;
	for (int i = 0; i < g.sdim; i++)
		out[0].dims[2 + i] = g.out[i];
	return 0;
}

static int grad(struct mg_grad *c) { return mg_nn_grad_x_dy(c, MG_OP_MaxPoolGrad); }

const struct mg_opdef mg_op_max_pool = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "MaxPool",
	.synopsis = "N-d max pooling of (N, C, spatial...)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = max_pool,
	.grad = grad,
};

/* Op: MaxPoolGrad
 * Synopsis: gradient of MaxPool (made by the autodiff pass): dx from (x, dy).
 * MONAI: the backward of torch.nn.MaxPool1d/2d/3d
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's x and dy (MaxPool's output shape); MaxPool's attributes. Each
 * window's argmax is found again from x, with MaxPool's scan (first maximum, NaN wins),
 * and gets that window's dy added: overlapping windows accumulate, as torch's
 * max_pool_backward scatters to its saved indices. */
const struct mg_opdef mg_op_max_pool_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "MaxPoolGrad",
	.synopsis = "gradient of MaxPool (made by the autodiff pass)",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = mg_nn_grad_infer,
	.ref = max_pool_grad,
};
