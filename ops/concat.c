/* Op: Concat
 * Synopsis: concatenate tensors along an axis (torch.cat).
 * MONAI: torch.cat (the skip connections of UNet, DynUNet, ...)
 * Gradient: ConcatGrad (this file): dy's slices, views.  Inverse: none.
 *
 * torch 2.x semantics: inputs of one rank and equal sizes on every axis but `dim`; the
 * output is a new tensor laid out as the first input's memory order. Any dtype, but one
 * for all inputs: torch.cat's type promotion is refused (cast first). nin -1: as many
 * inputs as the node has, at most MG_STEP_MAXIO (ConcatItems is the pipeline's dict
 * form of the same). */
#include <stdio.h>
#include <string.h>

#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"dim", MG_ATTR_INT, "0", 0, NULL,
	 "the axis to concatenate along (negative counts from the end)"},
};

/* The inputs' ranks, dtypes and sizes agree (sizes: known ones, on every axis but the
 * concatenated one, which *axis gets). */
static int check(const char *op, const struct mg_attr *a, const struct mg_type *t, int n,
		 int *axis, struct mg_err *e)
{
	int rc = mg_op_axis(a[0].v.i, t[0].rank, op, "dim", axis, e);
	for (int i = 1; i < n && !rc; i++) {
		if (t[i].dtype >= 0 && t[0].dtype >= 0 && t[i].dtype != t[0].dtype)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d is %s but input 0 is %s "
					  "(torch.cat's type promotion is not done: cast first)", op,
					  i, mg_dtype_name(t[i].dtype), mg_dtype_name(t[0].dtype));
		if (t[i].rank != t[0].rank)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d has rank %d but input 0 "
					  "has rank %d", op, i, t[i].rank, t[0].rank);
		for (int d = 0; d < t[0].rank; d++)
			if (d != *axis && t[i].dims[d] >= 0 && t[0].dims[d] >= 0 &&
			    t[i].dims[d] != t[0].dims[d])
				return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d has size %lld on axis "
						  "%d but input 0 has %lld: only dim %d may differ", op,
						  i, (long long)t[i].dims[d], d,
						  (long long)t[0].dims[d], *axis);
	}
	return rc;
}

static struct mg_type type_of(const struct mg_tensor *t)
{
	struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = t->dtype, .rank = t->rank};
	memcpy(ty.dims, t->dims, sizeof ty.dims);
	return ty;
}

static int concat(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	int n = mg_op_nvals(in), rc = 0, axis;
	struct mg_type t[MG_STEP_MAXIO] = {{0}};
	for (int i = 0; i < n && !rc; i++) {
		char what[32];
		snprintf(what, sizeof what, "Concat input %d", i);
		rc = mg_op_expect_tensor(&in[i], what, k->err);
		if (!rc)
			t[i] = type_of(&in[i].t);
	}
	if (rc || (rc = check("Concat", a, t, n, &axis, k->err)))
		return rc;
	struct mg_tensor shape = in[0].t, y;
	shape.dims[axis] = 0;
	for (int i = 0; i < n; i++)
		shape.dims[axis] += in[i].t.dims[axis];
	if ((rc = mg_tensor_alloc_like(&y, &shape, shape.dtype, k->err)))
		return rc;
	struct mg_tensor part = y; /* a window of y, moved along the axis */
	for (int i = 0; i < n; i++) {
		part.dims[axis] = in[i].t.dims[axis];
		mg_tensor_convert(&part, &in[i].t);
		part.offset += part.dims[axis] * part.strides[axis];
	}
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int n = mg_op_ntypes(in), rc = 0, axis;
	for (int i = 0; i < n && !rc; i++)
		rc = mg_op_infer_image(&in[i], "Concat", e);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	for (int i = 0; i < n && !rc; i++)
		if (in[i].rank < 0)
			return 0;
	if (rc || (rc = check("Concat", a, in, n, &axis, e)))
		return rc;
	for (int i = 1; i < n; i++)
		out[0].dims[axis] = out[0].dims[axis] < 0 || in[i].dims[axis] < 0
					    ? -1 : out[0].dims[axis] + in[i].dims[axis];
	return 0;
}

/* One ConcatGrad node gives every input's gradient: (x0, x1 ..., dy) -> (dx0, dx1 ...). */
static int grad(struct mg_grad *c)
{
	int32_t in[MG_STEP_MAXIO];
	if (c->nin + 1 > MG_STEP_MAXIO)
		return mg_err_set(c->e, MG_ERR_UNSUPPORTED, "Concat: the gradient of a Concat of "
				  "%d inputs needs a node of %d (at most %d)", c->nin, c->nin + 1,
				  MG_STEP_MAXIO);
	memcpy(in, c->x, (size_t)c->nin * sizeof *in);
	in[c->nin] = c->dy[0];
	int32_t v = c->node(c, MG_OP_ConcatGrad, in, c->nin + 1, c->nin, c->attrs);
	if (v < 0)
		return c->e->code ? c->e->code : MG_ERR_INTERNAL;
	for (int i = 0; i < c->nin; i++)
		c->dx[i] = c->need >> i & 1 ? v + i : -1;
	return 0;
}

const struct mg_opdef mg_op_concat = {
	.name = "Concat",
	.synopsis = "concatenate tensors along an axis (torch.cat)",
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = concat,
	.grad = grad,
};

/* Op: ConcatGrad
 * Synopsis: gradient of Concat (made by the autodiff pass): dy's slices, one per input.
 * MONAI: the backward of torch.cat
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's inputs x0, x1 ... (only their sizes along dim are read) and dy;
 * outputs dx0, dx1 ..., each a view of dy's slice for that input (no data moves).
 * Concat's attributes. */
static int concat_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	int n = mg_op_nvals(in), rc = 0, axis;
	struct mg_type t[MG_STEP_MAXIO] = {{0}};
	for (int i = 0; i < n && !rc; i++) {
		char what[32];
		snprintf(what, sizeof what, "ConcatGrad input %d", i);
		rc = mg_op_expect_tensor(&in[i], what, k->err);
		if (!rc)
			t[i] = type_of(&in[i].t);
	}
	const struct mg_tensor *dy = &in[n - 1].t;
	for (int i = 0; i < n - 1 && !rc; i++) /* dx has dy's dtype whatever the x's */
		t[i].dtype = dy->dtype;
	if (rc || (rc = check("ConcatGrad", a, t, n, &axis, k->err)))
		return rc;
	int64_t start = 0;
	for (int i = 0; i < n - 1; i++)
		start += t[i].dims[axis];
	if (start != dy->dims[axis])
		return mg_err_set(k->err, MG_ERR_SHAPE, "ConcatGrad: dy has size %lld on dim %d; "
				  "the inputs add up to %lld", (long long)dy->dims[axis], axis,
				  (long long)start);
	start = 0;
	for (int i = 0; i < n - 1; i++) {
		struct mg_tensor v = mg_tensor_share(dy);
		v.offset += start * v.strides[axis];
		v.dims[axis] = t[i].dims[axis];
		start += v.dims[axis];
		mg_val_set_tensor(&out[i], v, NULL);
	}
	return 0;
}

static int concat_grad_infer(const struct mg_attr *a, const struct mg_type *in,
			     struct mg_type *out, struct mg_err *e)
{
	int n = mg_op_ntypes(in);
	for (int i = 0; i < n - 1; i++)
		mg_nn_grad_infer(a, (const struct mg_type[]){in[i], in[n - 1]}, &out[i], e);
	return 0;
}

const struct mg_opdef mg_op_concat_grad = {
	.name = "ConcatGrad",
	.synopsis = "gradient of Concat (made by the autodiff pass)",
	.nin = -1,
	.nout = -1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = concat_grad_infer,
	.ref = concat_grad,
};
