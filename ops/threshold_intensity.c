/* Op: ThresholdIntensity
 * Synopsis: keep voxels above (or below) threshold, set the others to cval.
 * MONAI: monai.transforms.ThresholdIntensity(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: none (a pure per-voxel op).
 * MONAI (intensity/array.py): mask = img > threshold (above) or img < threshold, then
 * torch.where(mask, img, cval) with cval converted to the input's dtype (truncated toward
 * zero for integer images); the output keeps the input's dtype. The comparison happens in
 * torch's promoted dtype: the input's float dtype, float32 for integer inputs, the
 * threshold rounded to it (0.1 against a float32 image is 0.1f). NaN is never kept. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"threshold", MG_ATTR_FLOAT, NULL, 0, NULL, "the intensity threshold"},
	{"above", MG_ATTR_BOOL, "true", 0, NULL,
	 "keep voxels above the threshold (false: below it)"},
	{"cval", MG_ATTR_FLOAT, "0.0", 0, NULL, "value of the other voxels"},
};
enum { A_THRESHOLD, A_ABOVE, A_CVAL };

struct thresh {
	enum mg_dtype ct;
	double threshold, cval;
	int above;
};

static double thresh_one(const void *ctx, double v)
{
	const struct thresh *t = ctx;
	double c = mg_round_to(t->ct, v);
	int keep = t->above ? c > t->threshold : c < t->threshold;
	return keep ? v : t->cval;
}

static int threshold_intensity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "ThresholdIntensity", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	enum mg_dtype ct = mg_float_dtype(x->dtype);
	struct thresh t = {ct, mg_round_to(ct, a[A_THRESHOLD].v.f), a[A_CVAL].v.f,
			   (int)a[A_ABOVE].v.i};
	return mg_map_new(x, x->dtype, thresh_one, &t, &out[0], k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	int rc = mg_op_infer_image(&in[0], "ThresholdIntensity", e);
	return mg_map_infer(rc, &in[0], NULL, &out[0]);
}

const struct mg_opdef mg_op_threshold_intensity = {
	.name = "ThresholdIntensity",
	.synopsis = "keep voxels above (or below) a threshold, set the others to cval",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = threshold_intensity,
};
