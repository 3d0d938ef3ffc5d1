/* Op: GaussianSharpen
 * Synopsis: b + alpha (b - blur(b, sigma2)) with b = blur(x, sigma1), float32 out.
 * MONAI: monai.transforms.GaussianSharpen(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: none; two stencils (Gaussian filters), not elementwise.
 * MONAI (intensity/array.py) converts to float32, blurs with GaussianFilter(sigma1)
 * and the result again with GaussianFilter(sigma2) (see gaussian_smooth.c for the
 * filter), then b + alpha * (b - bb), three float32 torch ops (alpha rounded to
 * float32). Precision: the filters' float32 rounding differences (a few ulps), scaled
 * by alpha in the last step. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"sigma1", MG_ATTR_FLOATS, "3.0", 0, NULL,
	 "first blur's standard deviation, one value or one per spatial axis"},
	{"sigma2", MG_ATTR_FLOATS, "1.0", 0, NULL,
	 "second blur's standard deviation, one value or one per spatial axis"},
	{"alpha", MG_ATTR_FLOAT, "30.0", 0, NULL, "weight of the sharpening term"},
	{"approx", MG_ATTR_STR, "\"erf\"", 0, "erf|sampled|scalespace",
	 "discrete kernel: erf (integrated), sampled, or scalespace (Bessel)"},
};
enum { A_SIGMA1, A_SIGMA2, A_ALPHA, A_APPROX };

#define OP "GaussianSharpen"

static int gaussian_sharpen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			    struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor b, bb = {0};
	if ((rc = mg_gaussian_input(x, &b, k->err)))
		return rc;
	rc = mg_gaussian_filter(OP, &b, &a[A_SIGMA1], a[A_APPROX].v.s, k->err);
	if (!rc)
		rc = mg_tensor_contiguous(&bb, &b, k->err);
	if (!rc)
		rc = mg_gaussian_filter(OP, &bb, &a[A_SIGMA2], a[A_APPROX].v.s, k->err);
	if (rc) {
		mg_tensor_release(&b);
		mg_tensor_release(&bb);
		return rc;
	}
	float alpha = (float)a[A_ALPHA].v.f, *pb = mg_tensor_data(&b);
	const float *pbb = mg_tensor_data(&bb);
	for (int64_t i = 0; i < mg_tensor_numel(&b); i++)
		pb[i] = pb[i] + alpha * (pb[i] - pbb[i]);
	mg_tensor_release(&bb);
	mg_val_set_tensor(&out[0], b, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], OP, e);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	return rc;
}

const struct mg_opdef mg_op_gaussian_sharpen = {
	.name = OP,
	.synopsis = "b + alpha (b - blur(b, sigma2)) with b = blur(x, sigma1), float32 out",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = gaussian_sharpen,
};
