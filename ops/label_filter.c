/* Op: LabelFilter
 * Synopsis: keep the voxels whose value is one of applied_labels; the others become 0.
 * MONAI: monai.transforms.LabelFilter(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) computes torch.where(torch.isin(x, labels), x, 0) on any shape:
 * values compare as numbers in the image's dtype (a float image's 2.0 is label 2), NaN
 * is never a label; dtype and meta are kept. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"applied_labels", MG_ATTR_INTS, NULL, 0, NULL, "label(s) to keep (one or a list)"},
};
enum { A_LABELS };

static int label_filter(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "LabelFilter", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc_like(&y, x, x->dtype, k->err)))
		return rc;
	if (mg_tensor_numel(x) > 0) {
		size_t es = mg_dtype_size(x->dtype);
		const char *px = mg_tensor_data(x);
		char *py = mg_tensor_data(&y);
		struct mg_iter it;
		for (mg_iter_init_memorder(&it, x->rank, x->dims, 2,
					   (const int64_t *[]){x->strides, y.strides});
		     !it.done; mg_iter_next_row(&it))
			for (int64_t i = 0; i < it.inner; i++) {
				const char *src = px + (it.off[0] + i * it.istride[0]) * (int64_t)es;
				double v = mg_dtype_load(x->dtype, src);
				int keep = 0;
				for (int j = 0; j < a[A_LABELS].n && !keep; j++)
					keep = v == (double)a[A_LABELS].v.ints[j];
				mg_dtype_store(x->dtype, py + (it.off[1] + i * it.istride[1]) * (int64_t)es,
					       keep ? v : 0);
			}
	}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	int rc = mg_op_infer_image(&in[0], "LabelFilter", e);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return rc;
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
