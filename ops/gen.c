/* gen.c: what the ops' generated kernels share: running kernel IR through the executor's
 * backend, the loop order of a layout, torch-op arithmetic in kernel IR, and the one
 * runner of every elementwise op and fused run of them (one kernel: load, the members'
 * emits in order, store). Whenever a kernel cannot be had (no backend, a compiled
 * pipeline without it, inputs outside what kernel IR covers) the op's reference kernel
 * runs instead, so a plan runs the same on every backend. */
#include "op.h"

int mg_gen_run(struct mg_kctx *k, const struct mg_kir *kir, const struct mg_kargs *a,
	       double *red)
{
	if (!k->backend)
		return MG_ERR_UNSUPPORTED;
	int rc = mg_kir_verify(kir, k->err);
	if (rc)
		return rc;
	return k->backend->run(k->backend, kir, a, red, k->err);
}

void mg_gen_order(const struct mg_tensor *t, int order[MG_KMAX_RANK])
{
	int fast[MG_MAX_RANK];
	mg_tensor_order(t, fast);
	for (int i = 0; i < t->rank; i++) /* slowest first */
		order[i] = fast[t->rank - 1 - i];
}

int mg_gen_ctype(enum mg_dtype ct)
{
	return ct == MG_DTYPE_F16 || ct == MG_DTYPE_BF16 ? MG_DTYPE_F32 : (int)ct;
}

int32_t mg_gen_arith(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b, enum mg_dtype ct)
{
	int32_t r = mg_kir_op(k, op, a, b);
	if (mg_gen_ctype(ct) != (int)ct) /* f32 then f16: ref's rounding through f32 */
		r = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_cast(k, ct, r));
	return r;
}

/* A tensor kernel IR can address: rank 1..MG_KMAX_RANK, not empty. */
static int addressable(const struct mg_val *v)
{
	return v->kind == MG_VK_TENSOR && v->t.rank >= 1 && v->t.rank <= MG_KMAX_RANK &&
	       mg_tensor_numel(&v->t) > 0;
}

int mg_elementwise_chain_gen(const struct mg_opdef *const *defs,
			     const struct mg_attr *const *attrs, int n, struct mg_val *in,
			     struct mg_val *out, struct mg_kctx *k)
{
	if (!k->backend || !addressable(&in[0]))
		return -2;
	for (int i = 0; i < n; i++)
		if (!defs[i]->emit)
			return -2;
	const struct mg_tensor *x = &in[0].t;
	struct mg_arena ar = {0};
	struct mg_kir kir;
	mg_kir_init(&kir, &ar, n == 1 ? defs[0]->name : "FusedElementwise", x->rank);
	mg_kir_tensor(&kir, x->dtype, x->rank); /* the output: its dtype is known at the end */
	mg_kir_tensor(&kir, x->dtype, x->rank);
	int32_t v = mg_kir_loadat(&kir, 1);
	enum mg_dtype t = x->dtype;
	for (int i = 0; i < n && v >= 0; i++) {
		v = defs[i]->emit(attrs[i], &kir, v, t);
		if (v >= 0)
			t = (enum mg_dtype)kir.nodes[v].type;
	}
	if (v >= 0 && t < MG_DTYPE_COUNT) {
		kir.tensor[0].dtype = (uint8_t)t;
		kir.store = v;
	}
	struct mg_err ve = {0};
	if (kir.store < 0 || mg_kir_verify(&kir, &ve)) {
		/* a member refused these arguments (its ref reports why) */
		mg_arena_free(&ar);
		return -2;
	}
	mg_gen_order(x, kir.info.order);
	struct mg_tensor y;
	int rc = mg_tensor_alloc_like(&y, x, t, k->err);
	if (rc) {
		mg_arena_free(&ar);
		return rc;
	}
	struct mg_kargs a = {0};
	for (int i = 0; i < x->rank; i++)
		a.dims[i] = x->dims[i];
	mg_ktensor_set(&a.t[0], &y);
	mg_ktensor_set(&a.t[1], x);
	rc = mg_gen_run(k, &kir, &a, NULL);
	mg_arena_free(&ar);
	if (rc == MG_ERR_UNSUPPORTED) {
		mg_err_clear(k->err);
		mg_tensor_release(&y);
		return -2;
	}
	return mg_val_set_result(&out[0], y, x->meta, rc);
}

int mg_elementwise_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	const struct mg_opdef *d = k->step->def;
	int rc = mg_elementwise_chain_gen(&d, &a, 1, in, out, k);
	return rc == -2 ? d->ref(a, in, out, k) : rc;
}

int mg_gen_cast(struct mg_tensor *out, const struct mg_tensor *in, enum mg_dtype dtype,
		struct mg_kctx *k)
{
	const struct mg_opdef *d = mg_ops[MG_OP_CastToType];
	struct mg_attr a = {.v.i = dtype};
	const struct mg_attr *ap = &a;
	struct mg_val x[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = *in}}, y[1] = {{0}};
	int rc = mg_elementwise_chain_gen(&d, &ap, 1, x, y, k);
	if (rc == -2)
		return mg_tensor_cast(out, in, dtype, k->err);
	*out = y[0].t;
	return rc;
}
