/* Op: SumTo
 * Synopsis: t summed down to the shape of `like` (torch's Tensor.sum_to_size), undoing a
 * broadcast; made by the autodiff pass.
 * MONAI: none (autograd's reduction of broadcast gradients)
 * Gradient: none.  Inverse: none.
 *
 * Inputs t and like; like's shape must broadcast to t's (ranks aligned at the end). The
 * sums run in float64 and are rounded once to t's dtype. */
#include <stdlib.h>

#include "nn.h"

static const char OP[] = "SumTo";

static int check(int rt, const int64_t *t, int rl, const int64_t *l, struct mg_err *e)
{
	if (rl > rt)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: like has rank %d, more than t's %d", OP, rl,
				  rt);
	for (int i = 0; i < rl; i++) {
		int64_t a = t[rt - rl + i], b = l[i];
		if (a >= 0 && b >= 0 && b != a && b != 1)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: size %lld of like does not broadcast "
					  "to %lld", OP, (long long)b, (long long)a);
	}
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	out[0] = in[1];
	out[0].dtype = in[0].dtype;
	if (in[0].rank < 0 || in[1].rank < 0)
		return 0;
	return check(in[0].rank, in[0].dims, in[1].rank, in[1].dims, e);
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	(void)a;
	int rc;
	if ((rc = mg_op_expect_tensor(&in[0], OP, k->err)) ||
	    (rc = mg_op_expect_tensor(&in[1], OP, k->err)))
		return rc;
	const struct mg_tensor *t = &in[0].t, *l = &in[1].t;
	if ((rc = check(t->rank, t->dims, l->rank, l->dims, k->err)))
		return rc;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc(&y, t->dtype, l->rank, l->dims, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(&y), s[MG_MAX_RANK], st = 1;
	double *acc = calloc((size_t)(n ? n : 1), sizeof *acc);
	if (!acc)
		return mg_val_set_result(&out[0], y, NULL,
					 mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", OP));
	for (int i = t->rank - 1; i >= 0; i--) { /* acc's strides seen at t's rank */
		int j = i - (t->rank - l->rank);
		s[i] = j < 0 || l->dims[j] == 1 ? 0 : st;
		if (j >= 0)
			st *= l->dims[j];
	}
	size_t es = mg_dtype_size(t->dtype);
	struct mg_iter it;
	mg_iter_init(&it, t->rank, t->dims, 2, (const int64_t *[]){t->strides, s});
	const char *pt = it.done ? NULL : mg_tensor_data(t);
	if (!it.done)
		do
			acc[it.off[1]] += mg_dtype_load(t->dtype, pt + it.off[0] * (int64_t)es);
		while (mg_iter_next(&it));
	char *py = n ? mg_tensor_data(&y) : NULL;
	for (int64_t i = 0; i < n; i++)
		mg_dtype_store(y.dtype, py + i * (int64_t)es, acc[i]);
	free(acc);
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

const struct mg_opdef mg_op_sum_to = {
	.name = "SumTo",
	.synopsis = "t summed down to like's shape (undoes a broadcast; made by autodiff)",
	.nin = 2,
	.nout = 1,
	.infer = infer,
	.ref = kernel,
};
