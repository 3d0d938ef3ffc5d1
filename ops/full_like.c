/* Op: FullLike
 * Synopsis: a tensor of x's shape and dtype filled with fill_value (torch.full_like).
 * MONAI: torch.full_like, torch.ones_like (the autodiff pass's seed dL/dL = 1)
 * Gradient: zero.  Inverse: none. */
#include <string.h>

#include "nn.h"

static const struct mg_attrdef attrs[] = {
	{"fill_value", MG_ATTR_FLOAT, "0", 0, NULL, "the value of every element"},
};

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "FullLike", k->err);
	if (rc)
		return rc;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc_like(&y, &in[0].t, in[0].t.dtype, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(&y);
	size_t es = mg_dtype_size(y.dtype);
	char *p = n ? mg_tensor_data(&y) : NULL;
	/* alloc_like's buffer is dense: its elements are numel consecutive ones */
	if (n)
		mg_dtype_store(y.dtype, p, a[0].v.f);
	for (int64_t i = 1; i < n; i++)
		memcpy(p + i * (int64_t)es, p, es);
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int grad(struct mg_grad *c)
{
	c->dx[0] = -1;
	return 0;
}

const struct mg_opdef mg_op_full_like = {
	.name = "FullLike",
	.synopsis = "x's shape and dtype filled with one value",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = 1,
	.ref = kernel,
	.grad = grad,
};
