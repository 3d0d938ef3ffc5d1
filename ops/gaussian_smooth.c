/* Op: GaussianSmooth
 * Synopsis: separable Gaussian blur of each channel (MONAI's GaussianFilter), float32 out.
 * MONAI: monai.transforms.GaussianSmooth(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: none, but each voxel reads a neighbourhood (a stencil, not
 * elementwise: the fusion pass must not fuse it).
 * MONAI (intensity/array.py; networks/layers/simplelayers.py GaussianFilter,
 * convutils.py gaussian_1d) converts the image to float32 and, per channel, correlates
 * it with a 1-D kernel along spatial axis 0, then 1, then 2, each zero-padded by the
 * kernel's radius tail = int(max(sigma * 4, 0.5) + 0.5) (2 tail + 1 taps). Kernels
 * (float32, not normalised): erf: 0.5 (erf(t (x + 1/2)) - erf(t (x - 1/2))),
 * t = 0.70710678 / |sigma|; sampled: exp(-x^2 / (2 sigma^2)) / (2.5066282 sigma);
 * scalespace: the discrete Gaussian, e^-s2 I_|x|(s2) with s2 = sigma^2 and MONAI's
 * polynomial/recurrence Bessel functions. sigma is one value or one per spatial axis.
 * Precision: each pass sums in float64 and rounds once to float32, where torch's
 * convolution sums in float32 in an order of its own: results agree to a few float32
 * ulps of the data's scale. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"sigma", MG_ATTR_FLOATS, "1.0", 0, NULL,
	 "standard deviation, one value or one per spatial axis"},
	{"approx", MG_ATTR_STR, "\"erf\"", 0, "erf|sampled|scalespace",
	 "discrete kernel: erf (integrated), sampled, or scalespace (Bessel)"},
};
enum { A_SIGMA, A_APPROX };

static int gaussian_smooth(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "GaussianSmooth", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y;
	if ((rc = mg_gaussian_input(x, &y, k->err)))
		return rc;
	if ((rc = mg_gaussian_filter("GaussianSmooth", &y, &a[A_SIGMA], a[A_APPROX].v.s,
				     k->err))) {
		mg_tensor_release(&y);
		return rc;
	}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "GaussianSmooth", e);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	return rc;
}

const struct mg_opdef mg_op_gaussian_smooth = {
	.name = "GaussianSmooth",
	.synopsis = "separable Gaussian blur of each channel (GaussianFilter), float32 out",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = gaussian_smooth,
};
