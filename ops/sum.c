/* Op: Sum
 * Synopsis: the sum of all elements, a 0-d tensor (torch.sum(x)).
 * MONAI: torch.sum (losses' reductions)
 * Gradient: dx = dy at every element (dy broadcast to x's shape).  Inverse: none.
 *
 * Summed in float64, rounded once to x's dtype (float32 or float64). */
#include "nn.h"

static const char OP[] = "Sum";

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	int rc = mg_nn_dtype(OP, "x", in[0].dtype, e);
	out[0] = in[0];
	out[0].rank = 0;
	return rc;
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	(void)a;
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc(&y, x->dtype, 0, x->dims, k->err)))
		return rc;
	double s = 0;
	size_t es = mg_dtype_size(x->dtype);
	struct mg_iter it;
	mg_iter_init(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides});
	const char *p = it.done ? NULL : mg_tensor_data(x);
	if (!it.done)
		do
			s += mg_dtype_load(x->dtype, p + it.off[0] * (int64_t)es);
		while (mg_iter_next(&it));
	mg_dtype_store(y.dtype, mg_tensor_data(&y), s);
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int grad(struct mg_grad *c)
{
	int32_t z = c->node(c, MG_OP_FullLike, &c->x[0], 1, 1, NULL);
	int32_t in[2] = {z, c->dy[0]};
	return z < 0 || (c->dx[0] = c->node(c, MG_OP_Add, in, 2, 1, NULL)) < 0 ? c->e->code : 0;
}

const struct mg_opdef mg_op_sum = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Sum",
	.synopsis = "the sum of all elements, as a 0-d tensor",
	.nin = 1,
	.nout = 1,
	.infer = infer,
	.ref = kernel,
	.grad = grad,
};
