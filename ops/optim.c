/* optim.c: the optimizer ops' shared kernel and type rule (optim.h). */
#include <string.h>

#include "nn.h"
#include "optim.h"

int mg_optim_kernel(const char *op, mg_optim_fn fn, int istep, struct mg_val *in, int nin,
		    struct mg_val *out, int nout, const struct mg_attr *a, struct mg_kctx *k)
{
	struct mg_tensor x[MG_STEP_MAXIO] = {0}, y[MG_STEP_MAXIO] = {0};
	double *xp[MG_STEP_MAXIO], *yp[MG_STEP_MAXIO];
	int rc = 0, ostep = istep - 1; /* outputs are the inputs less grad */
	/* dense float64 copies in logical order, whatever the operands' memory orders */
	for (int i = 0; i < nin && !rc; i++)
		if (!(rc = mg_op_expect_tensor(&in[i], op, k->err)) &&
		    !(rc = mg_tensor_alloc(&x[i], MG_DTYPE_F64, in[i].t.rank, in[i].t.dims, k->err)))
			mg_tensor_convert(&x[i], &in[i].t);
	const struct mg_tensor *p = &in[0].t;
	for (int i = 0; i < nout && !rc; i++)
		rc = mg_tensor_alloc(&y[i], MG_DTYPE_F64, i == ostep ? 0 : p->rank, p->dims, k->err);
	if (!rc) {
		for (int i = 0; i < nin; i++)
			xp[i] = mg_tensor_numel(&x[i]) ? mg_tensor_data(&x[i]) : NULL;
		for (int i = 0; i < nout; i++)
			yp[i] = mg_tensor_numel(&y[i]) ? mg_tensor_data(&y[i]) : NULL;
		double step = istep >= 0 ? xp[istep][0] + 1 : 1;
		fn(a, step, mg_tensor_numel(p), (const double *const *)xp, yp);
		if (istep >= 0)
			yp[ostep][0] = step;
	}
	for (int i = 0; i < nout && !rc; i++) {
		struct mg_tensor t;
		if (!(rc = mg_tensor_cast(&t, &y[i], i == ostep ? MG_DTYPE_F32 : p->dtype, k->err)))
			mg_val_set_tensor(&out[i], t, NULL);
	}
	for (int i = 0; i < MG_STEP_MAXIO; i++) {
		mg_tensor_release(&x[i]);
		mg_tensor_release(&y[i]);
	}
	return rc;
}

int mg_optim_infer(const char *op, int istep, const struct mg_type *in, int nin,
		   struct mg_type *out, int nout, struct mg_err *e)
{
	const struct mg_type *p = &in[0];
	static const char *const what[] = {"param", "grad"};
	for (int i = 0; i < nin; i++) {
		int rc = mg_nn_dtype(op, i < 2 ? what[i] : "state", in[i].dtype, e);
		if (rc)
			return rc;
		if (i == istep || p->rank < 0 || in[i].rank < 0)
			continue;
		int same = in[i].rank == p->rank;
		for (int d = 0; same && d < p->rank; d++)
			same = in[i].dims[d] == p->dims[d];
		if (!same)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d's shape differs from the "
					  "parameter's", op, i);
	}
	for (int i = 0; i < nout; i++) {
		out[i] = *p;
		if (i == istep - 1) {
			out[i].dtype = MG_DTYPE_F32;
			out[i].rank = 0;
		}
	}
	return 0;
}

int32_t mg_optim_fma(struct mg_kir *k, int32_t a, int32_t b, int32_t c)
{
	int32_t p = mg_kir_op(k, MG_KOP_MUL, mg_kir_cast(k, MG_DTYPE_F64, a),
			      mg_kir_cast(k, MG_DTYPE_F64, b));
	return mg_kir_cast(k, MG_DTYPE_F32,
			   mg_kir_op(k, MG_KOP_ADD, p, mg_kir_cast(k, MG_DTYPE_F64, c)));
}

/* Whether the generated kernels take these operands: float32 tensors of the parameter's
 * dims (the step a float32 element), not empty. */
static int gen_ok(const struct mg_val *in, int nin, int istep)
{
	const struct mg_tensor *p = &in[0].t;
	for (int i = 0; i < nin; i++) {
		const struct mg_tensor *t = &in[i].t;
		if (in[i].kind != MG_VK_TENSOR || t->dtype != MG_DTYPE_F32)
			return 0;
		if (i == istep ? mg_tensor_numel(t) != 1 : t->rank != p->rank)
			return 0;
		for (int d = 0; i != istep && d < p->rank; d++)
			if (t->dims[d] != p->dims[d])
				return 0;
	}
	return mg_tensor_numel(p) > 0;
}

/* Whether t is laid out as y (dense, positive strides): then both are rank-1 runs. */
static int same_dense(const struct mg_tensor *t, const struct mg_tensor *y)
{
	for (int d = 0; d < y->rank; d++)
		if (y->dims[d] > 1 && (t->strides[d] != y->strides[d] || y->strides[d] <= 0))
			return 0;
	return 1;
}

static struct mg_tensor flat_view(const struct mg_tensor *t)
{
	struct mg_tensor v = *t;
	v.dims[0] = mg_tensor_numel(t);
	v.strides[0] = 1;
	v.rank = 1;
	return v;
}

/* Output o's kernel into y. */
static int gen_output(const char *op, mg_optim_emit_fn *emit, int istep, struct mg_val *in,
		      int nin, const struct mg_tensor *y, int o, int flat, double t,
		      const struct mg_attr *a, struct mg_kctx *k)
{
	const struct mg_tensor *p = &in[0].t;
	int rank = flat ? 1 : p->rank, nt = 0;
	struct mg_arena ar = {0};
	struct mg_kir kir;
	double pv[MG_KMAX_PARAMS] = {0};
	int32_t x[MG_STEP_MAXIO];
	struct mg_kargs ka = {0};
	mg_kir_init(&kir, &ar, op, rank);
	const struct mg_tensor *ts[MG_KMAX_TENSORS];
	ts[nt++] = y;
	mg_kir_tensor(&kir, MG_DTYPE_F32, rank);
	for (int i = 0; i < nin; i++) {
		x[i] = -1;
		if (i == istep)
			continue;
		if (nt == MG_KMAX_TENSORS) {
			mg_arena_free(&ar);
			return MG_ERR_UNSUPPORTED;
		}
		ts[nt] = &in[i].t;
		x[i] = mg_kir_loadat(&kir, mg_kir_tensor(&kir, MG_DTYPE_F32, rank));
		nt++;
	}
	kir.store = emit(a, &kir, pv, t, x, o);
	if (!flat)
		mg_gen_order(p, kir.info.order);
	for (int i = 0; i < nt; i++) {
		struct mg_tensor v = flat ? flat_view(ts[i]) : *ts[i];
		mg_ktensor_set(&ka.t[i], &v);
	}
	for (int d = 0; d < rank; d++)
		ka.dims[d] = flat ? mg_tensor_numel(p) : p->dims[d];
	memcpy(ka.p, pv, sizeof ka.p);
	int rc = mg_gen_run(k, &kir, &ka, NULL);
	mg_arena_free(&ar);
	return rc;
}

int mg_optim_gen(const char *op, mg_optim_fn fn, mg_optim_emit_fn *emit, int istep,
		 struct mg_val *in, int nin, struct mg_val *out, int nout,
		 const struct mg_attr *a, struct mg_kctx *k)
{
	if (!k->backend || !gen_ok(in, nin, istep))
		return mg_optim_kernel(op, fn, istep, in, nin, out, nout, a, k);
	const struct mg_tensor *p = &in[0].t;
	struct mg_tensor y[MG_STEP_MAXIO] = {0};
	int rc = 0, ostep = istep - 1, flat = 1;
	double t = istep >= 0 ? *(const float *)mg_tensor_data(&in[istep].t) + 1.0 : 1;
	for (int i = 0; i < nout && !rc; i++)
		rc = i == ostep ? mg_tensor_alloc(&y[i], MG_DTYPE_F32, 0, p->dims, k->err)
				: mg_tensor_alloc_like(&y[i], p, MG_DTYPE_F32, k->err);
	for (int i = 0; i < nin && !rc; i++)
		flat = flat && (i == istep || same_dense(&in[i].t, &y[0]));
	if (!flat && p->rank > MG_KMAX_RANK)
		rc = MG_ERR_UNSUPPORTED;
	for (int i = 0; i < nout && !rc; i++)
		if (i == ostep)
			*(float *)mg_tensor_data(&y[i]) = (float)t;
		else
			rc = gen_output(op, emit, istep, in, nin, &y[i], i, flat, t, a, k);
	for (int i = 0; i < nout; i++)
		if (rc)
			mg_tensor_release(&y[i]);
		else
			mg_val_set_tensor(&out[i], y[i], NULL);
	if (rc == MG_ERR_UNSUPPORTED) { /* no code for a kernel: the reference kernel */
		mg_err_clear(k->err);
		return mg_optim_kernel(op, fn, istep, in, nin, out, nout, a, k);
	}
	return rc;
}
