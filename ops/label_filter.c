/* Op: LabelFilter
 * Synopsis: keep the voxels whose value is one of applied_labels; the others become 0.
 * MONAI: monai.transforms.LabelFilter(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) computes torch.where(torch.isin(x, labels), x, 0) on any shape:
 * values compare as numbers in the image's dtype (a float image's 2.0 is label 2), NaN
 * is never a label; dtype and meta are kept. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"applied_labels", MG_ATTR_INTS, NULL, 0, NULL, "label(s) to keep (one or a list)"},
};
enum { A_LABELS };

static double label_one(const void *ctx, double v)
{
	const struct mg_attr *labels = ctx;
	for (int j = 0; j < labels->n; j++)
		if (v == (double)labels->v.ints[j])
			return v;
	return 0;
}

static int label_filter(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "LabelFilter", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	return mg_map_new(x, x->dtype, label_one, &a[A_LABELS], &out[0], k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_map_infer(mg_op_infer_image(&in[0], "LabelFilter", e), &in[0], NULL, &out[0]);
}

const struct mg_opdef mg_op_label_filter = {
	.name = "LabelFilter",
	.synopsis = "keep only the given labels (others become 0)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = label_filter,
};
