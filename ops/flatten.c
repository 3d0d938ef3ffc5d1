/* Op: Flatten
 * Synopsis: merge the axes start_dim..end_dim into one (torch.nn.Flatten): a view where
 * torch makes one.
 * MONAI: torch.nn.Flatten (monai.networks.layers.Flatten: the classification heads)
 * Gradient: Reshape(dy, x), back to x's shape.  Inverse: none.
 *
 * torch 2.x semantics: the axes start_dim to end_dim (negative count from the end;
 * start_dim not after end_dim) become one of their product; the output is a view of the
 * input when torch's reshape makes one (always for a contiguous input), else a copy. */
#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"start_dim", MG_ATTR_INT, "1", 0, NULL, "first axis to merge (negative counts from the end)"},
	{"end_dim", MG_ATTR_INT, "-1", 0, NULL, "last axis to merge (negative counts from the end)"},
};

/* The flattened shape of rank-r dims d (sizes -1 unknown: a merged one is unknown). */
static int flat(const struct mg_attr *a, int r, const int64_t *d, int *rank, int64_t *fd,
		struct mg_err *e)
{
	int s, t, rc;
	if ((rc = mg_op_axis(a[0].v.i, r, "Flatten", "start_dim", &s, e)) ||
	    (rc = mg_op_axis(a[1].v.i, r, "Flatten", "end_dim", &t, e)))
		return rc;
	if (s > t)
		return mg_err_set(e, MG_ERR_CONFIG, "Flatten: start_dim (axis %d) comes after "
				  "end_dim (axis %d)", s, t);
	int n = 0;
	for (int i = 0; i < r; i++) {
		if (i <= s || i > t) {
			fd[n++] = d[i];
			continue;
		}
		fd[n - 1] = fd[n - 1] < 0 || d[i] < 0 ? -1 : fd[n - 1] * d[i];
	}
	*rank = n;
	return 0;
}

static int flatten(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	int rank, rc = mg_op_expect_tensor(&in[0], "Flatten x", k->err);
	int64_t d[MG_MAX_RANK];
	struct mg_tensor y;
	if (rc || (rc = flat(a, in[0].t.rank, in[0].t.dims, &rank, d, k->err)) ||
	    (rc = mg_nn_reshape(&in[0].t, rank, d, &y, k->err)))
		return rc;
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "Flatten", e);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (rc || in[0].rank < 0)
		return rc;
	return flat(a, in[0].rank, in[0].dims, &out[0].rank, out[0].dims, e);
}

const struct mg_opdef mg_op_flatten = {
	.name = "Flatten",
	.synopsis = "merge the axes start_dim..end_dim into one (torch.nn.Flatten; a view where "
		    "torch makes one)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = flatten,
	.grad = mg_nn_reshape_grad,
};
