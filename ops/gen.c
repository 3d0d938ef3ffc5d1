/* gen.c: what the ops' generated kernels share: running kernel IR through the executor's
 * backend, the loop order of a layout, torch-op arithmetic and parameters in kernel IR,
 * and the gen of every elementwise op (gen_chain.c builds and runs its kernels).
 * Whenever a kernel cannot be had (no backend, a compiled pipeline without it, inputs
 * outside what kernel IR covers) the op's reference kernel runs instead, so a plan runs
 * the same on every backend. */
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

int32_t mg_gen_round(struct mg_kir *k, int32_t v, enum mg_dtype ct)
{
	if (v >= 0 && k->nodes[v].type == MG_DTYPE_I64)
		v = mg_kir_cast(k, MG_DTYPE_F64, v);
	int c = mg_gen_ctype(ct);
	v = mg_kir_cast(k, c, v);
	return c == (int)ct ? v : mg_kir_cast(k, MG_DTYPE_F32, mg_kir_cast(k, ct, v));
}

int32_t mg_gen_param(struct mg_kir *k, double *pv, int type, double v)
{
	int slot = mg_kir_param_slot(k);
	if (slot >= 0)
		pv[slot] = v;
	return mg_kir_param(k, type, slot);
}

int32_t mg_gen_arith(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b, enum mg_dtype ct)
{
	int32_t r = mg_kir_op(k, op, a, b);
	if (mg_gen_ctype(ct) != (int)ct) /* f32 then f16: ref's rounding through f32 */
		r = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_cast(k, ct, r));
	return r;
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

int32_t mg_gen_offset(struct mg_kir *k, int ti)
{
	int32_t off = mg_kir_const(k, MG_DTYPE_I64, 0);
	for (int j = 0; j < k->info.rank; j++)
		off = mg_kir_op(k, MG_KOP_ADD, off,
				mg_kir_op(k, MG_KOP_MUL, mg_kir_index(k, j), mg_kir_stride(k, ti, j)));
	return off;
}

int32_t mg_gen_gather(struct mg_kir *k, int ti, int32_t offset, int32_t stride, int64_t c)
{
	int32_t step = mg_kir_op(k, MG_KOP_MUL, mg_kir_const(k, MG_DTYPE_I64, (double)c), stride);
	return mg_kir_load(k, ti, mg_kir_op(k, MG_KOP_ADD, offset, step), -1);
}

int32_t mg_gen_pick(struct mg_kir *k, int32_t sel, const int32_t *vals, int64_t n,
		    int32_t other)
{
	int t = sel >= 0 ? k->nodes[sel].type : MG_DTYPE_I64;
	for (int64_t c = n - 1; c >= 0; c--)
		other = mg_kir_select(k, mg_kir_op(k, MG_KOP_EQ, sel, mg_kir_const(k, t, (double)c)),
				      vals[c], other);
	return other;
}
