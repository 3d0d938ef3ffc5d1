/* Op: Reshape
 * Synopsis: the same elements in a new shape (torch.reshape): a view when torch makes one.
 * MONAI: torch.reshape / Tensor.view (MONAI's networks: Reshape layers, heads)
 * Gradient: Reshape itself, in its two-input form (dy to x's shape).  Inverse: none.
 *
 * torch 2.x semantics: `shape` lists the new sizes, one of them may be -1 (inferred from
 * the number of elements). The output is a view of the input (the same buffer, new
 * strides) whenever torch's stride rule (computeStride) finds one: always for a
 * contiguous input; else a contiguous copy, seen with the new shape. The two-input form
 * Reshape(x, like) takes like's shape instead of the attribute (torch's reshape_as):
 * the gradient of Reshape and Flatten, so no shape list has to be built for it. */
#include <stdio.h>
#include <string.h>

#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"shape", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "the new sizes; one may be -1 (inferred); null only with a second input, whose "
	 "shape is taken (reshape_as)"},
};

/* torch's infer_size: the sizes of `shape` for numel elements (numel < 0: not known:
 * the -1 entry stays -1). */
static int target(const struct mg_attr *s, int64_t numel, int64_t *d, struct mg_err *e)
{
	int infer = -1;
	int64_t prod = 1;
	if (s->n > MG_MAX_RANK)
		return mg_err_set(e, MG_ERR_SHAPE, "Reshape: shape has %d entries; at most %d",
				  s->n, MG_MAX_RANK);
	for (int i = 0; i < s->n; i++) {
		d[i] = s->v.ints[i];
		if (d[i] == -1 && infer >= 0)
			return mg_err_set(e, MG_ERR_CONFIG, "Reshape: shape has more than one -1 "
					  "(only one size can be inferred)");
		if (d[i] == -1)
			infer = i;
		else if (d[i] < 0)
			return mg_err_set(e, MG_ERR_CONFIG, "Reshape: shape has the invalid size "
					  "%lld", (long long)d[i]);
		else
			prod *= d[i];
	}
	if (numel < 0)
		return 0;
	if (infer >= 0 && prod == 0)
		return mg_err_set(e, MG_ERR_SHAPE, "Reshape: a -1 with a size 0 elsewhere in "
				  "shape is ambiguous");
	if (infer >= 0 && numel % prod == 0)
		d[infer] = numel / prod;
	else if (infer >= 0 || prod != numel)
		return mg_err_set(e, MG_ERR_SHAPE, "Reshape: shape (%d sizes) does not fit an "
				  "input of %lld elements", s->n, (long long)numel);
	return 0;
}

static int reshape(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	int n = mg_op_nvals(in), rc = mg_op_expect_tensor(&in[0], "Reshape x", k->err);
	if (!rc && n > 1)
		rc = mg_op_expect_tensor(&in[1], "Reshape like", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	int64_t d[MG_MAX_RANK];
	int rank = n > 1 ? in[1].t.rank : a[0].n;
	if (n > 1) {
		memcpy(d, in[1].t.dims, sizeof d);
		if (mg_tensor_numel(&in[1].t) != mg_tensor_numel(x))
			return mg_err_set(k->err, MG_ERR_SHAPE, "Reshape: x has %lld elements, the "
					  "shape it takes from its second input %lld",
					  (long long)mg_tensor_numel(x),
					  (long long)mg_tensor_numel(&in[1].t));
	} else if (a[0].is_none) {
		return mg_err_set(k->err, MG_ERR_CONFIG, "Reshape: shape is required with one input");
	} else if ((rc = target(&a[0], mg_tensor_numel(x), d, k->err))) {
		return rc;
	}
	struct mg_tensor y;
	if ((rc = mg_nn_reshape(x, rank, d, &y, k->err)))
		return rc;
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int n = mg_op_ntypes(in), rc = mg_op_infer_image(&in[0], "Reshape", e);
	if (rc)
		return rc;
	if (n > 2)
		return mg_err_set(e, MG_ERR_SHAPE, "Reshape takes x and an optional tensor whose "
				  "shape it takes; got %d inputs", n);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (n > 1) {
		out[0].rank = in[1].rank;
		memcpy(out[0].dims, in[1].dims, sizeof out[0].dims);
		return 0;
	}
	if (a[0].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "Reshape: shape is required with one input");
	int64_t numel = in[0].rank >= 0 ? 1 : -1;
	for (int i = 0; i < in[0].rank && numel >= 0; i++)
		numel = in[0].dims[i] >= 0 ? numel * in[0].dims[i] : -1;
	out[0].rank = a[0].n;
	return target(&a[0], numel, out[0].dims, e);
}

int mg_nn_reshape_grad(struct mg_grad *c)
{
	if (c->need & 2)
		c->dx[1] = -1; /* the second input gives only a shape */
	if (!(c->need & 1))
		return 0;
	int32_t in[2] = {c->dy[0], c->x[0]};
	c->dx[0] = c->node(c, MG_OP_Reshape, in, 2, 1, NULL);
	return c->dx[0] < 0 ? (c->e->code ? c->e->code : MG_ERR_INTERNAL) : 0;
}

const struct mg_opdef mg_op_reshape = {
	.name = "Reshape",
	.synopsis = "the same elements in a new shape (torch.reshape; a view where torch makes "
		    "one)",
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = reshape,
	.grad = mg_nn_reshape_grad,
};
