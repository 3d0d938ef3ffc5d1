/* binary.c: what the network graph's binary elementwise ops (Add, Mul) share: torch's
 * broadcasting of two shapes, the type rule and the reference kernel, and SumTo, the
 * reduction that undoes a broadcast in their gradients.
 * Invariant: the operands have one floating dtype (network values are float32, or
 * float64 for gradient checks); each result is computed in float64 and rounded once,
 * which for one add or multiply equals the float32 operation. */
#include <string.h>

#include "nn.h"
#include "nn_act.h"

/* torch's broadcast of shapes a and b (ranks aligned at the end, a 1 stretches). */
static int broadcast(const char *op, int ra, const int64_t *a, int rb, const int64_t *b,
		     int *r, int64_t *d, struct mg_err *e)
{
	*r = ra > rb ? ra : rb;
	for (int i = 0; i < *r; i++) {
		int64_t x = i < *r - ra ? 1 : a[i - (*r - ra)];
		int64_t y = i < *r - rb ? 1 : b[i - (*r - rb)];
		if (x != y && x != 1 && y != 1)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: shapes do not broadcast: size %lld "
					  "against %lld at axis %d", op, (long long)x, (long long)y,
					  i);
		d[i] = x == 1 ? y : x;
	}
	return 0;
}

/* The network ops' dtype check: a float32 or float64 tensor. */
int mg_nn_dtype(const char *op, const char *what, int dtype, struct mg_err *e)
{
	if (dtype < 0 || dtype == MG_DTYPE_F32 || dtype == MG_DTYPE_F64)
		return 0;
	return mg_err_set(e, MG_ERR_SHAPE, "%s: %s is %s; network ops take float32 or float64",
			  op, what, mg_dtype_name((enum mg_dtype)dtype));
}

int mg_binary_infer(const char *op, const struct mg_type *in, struct mg_type *out,
		    struct mg_err *e)
{
	int rc;
	if ((rc = mg_nn_dtype(op, "input 0", in[0].dtype, e)) ||
	    (rc = mg_nn_dtype(op, "input 1", in[1].dtype, e)))
		return rc;
	if (in[0].dtype >= 0 && in[1].dtype >= 0 && in[0].dtype != in[1].dtype)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: operands are %s and %s; expected one dtype",
				  op, mg_dtype_name((enum mg_dtype)in[0].dtype),
				  mg_dtype_name((enum mg_dtype)in[1].dtype));
	out[0] = in[0];
	if (in[1].dtype >= 0)
		out[0].dtype = in[1].dtype;
	if (in[0].rank < 0 || in[1].rank < 0) {
		out[0].rank = -1;
		return 0;
	}
	int64_t a[MG_MAX_RANK], b[MG_MAX_RANK];
	for (int i = 0; i < in[0].rank; i++) /* a symbolic size broadcasts as itself */
		a[i] = in[0].dims[i] < 0 ? 1 : in[0].dims[i];
	for (int i = 0; i < in[1].rank; i++)
		b[i] = in[1].dims[i] < 0 ? 1 : in[1].dims[i];
	return broadcast(op, in[0].rank, a, in[1].rank, b, &out[0].rank, out[0].dims, e);
}

/* t's strides seen at rank r (leading axes and stretched ones step 0). */
static void bstrides(const struct mg_tensor *t, int r, int64_t *s)
{
	for (int i = 0; i < r; i++) {
		int j = i - (r - t->rank);
		s[i] = j < 0 || t->dims[j] == 1 ? 0 : t->strides[j];
	}
}

int mg_binary_kernel(const char *op, mg_act_grad_fn *f, struct mg_val *in, struct mg_val *out,
		     struct mg_kctx *k)
{
	int rc, r;
	if ((rc = mg_op_expect_tensor(&in[0], op, k->err)) ||
	    (rc = mg_op_expect_tensor(&in[1], op, k->err)))
		return rc;
	const struct mg_tensor *a = &in[0].t, *b = &in[1].t;
	int64_t d[MG_MAX_RANK], sa[MG_MAX_RANK], sb[MG_MAX_RANK];
	if ((rc = broadcast(op, a->rank, a->dims, b->rank, b->dims, &r, d, k->err)))
		return rc;
	if ((rc = mg_nn_dtype(op, "input 0", a->dtype, k->err)))
		return rc;
	if (a->dtype != b->dtype)
		return mg_err_set(k->err, MG_ERR_SHAPE, "%s: operands are %s and %s", op,
				  mg_dtype_name(a->dtype), mg_dtype_name(b->dtype));
	struct mg_tensor y;
	int same = a->rank == r && !memcmp(a->dims, d, (size_t)r * sizeof *d);
	if ((rc = same ? mg_tensor_alloc_like(&y, a, a->dtype, k->err)
		       : mg_tensor_alloc(&y, a->dtype, r, d, k->err)))
		return rc;
	bstrides(a, r, sa);
	bstrides(b, r, sb);
	size_t es = mg_dtype_size(a->dtype);
	struct mg_iter it;
	mg_iter_init(&it, r, d, 3, (const int64_t *[]){y.strides, sa, sb});
	if (!it.done) {
		const char *pa = mg_tensor_data(a), *pb = mg_tensor_data(b);
		char *py = mg_tensor_data(&y);
		do
			mg_dtype_store(y.dtype, py + it.off[0] * (int64_t)es,
				       f(NULL, mg_dtype_load(a->dtype, pa + it.off[1] * (int64_t)es),
					 mg_dtype_load(b->dtype, pb + it.off[2] * (int64_t)es)));
		while (mg_iter_next(&it));
	}
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

int mg_binary_gen(const char *op, mg_act_grad_fn *f, mg_act_emit2_fn *emit, struct mg_val *in,
		  struct mg_val *out, struct mg_kctx *k)
{
	const struct mg_tensor *a = &in[0].t, *b = &in[1].t;
	int same = in[0].kind == MG_VK_TENSOR && in[1].kind == MG_VK_TENSOR &&
		   a->rank == b->rank && !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof *a->dims);
	if (!same) /* broadcasting: the reference kernel */
		return mg_binary_kernel(op, f, in, out, k);
	return mg_act_gen2(op, NULL, emit, f, in, out, k);
}

int32_t mg_grad_sum_to(struct mg_grad *c, int32_t v, int i)
{
	const struct mg_type *x = &c->xt[i], *y = &c->yt[0];
	if (x->rank == y->rank && !memcmp(x->dims, y->dims, (size_t)x->rank * sizeof *x->dims))
		return v;
	int32_t in[2] = {v, c->x[i]};
	return c->node(c, MG_OP_SumTo, in, 2, 1, NULL);
}
