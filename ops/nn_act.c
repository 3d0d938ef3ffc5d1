/* nn_act.c: the helpers the activation ops share (see nn_act.h). Kernels read operands
 * of any strides and write new tensors laid out as their first operand; arithmetic is
 * float64, rounded once on the store. */
#include "nn_act.h"

int mg_act_input(const char *op, const char *what, const struct mg_val *v, struct mg_err *e)
{
	char name[96];
	snprintf(name, sizeof name, "%s %s", op, what);
	int rc = mg_op_expect_tensor(v, name, e);
	if (rc)
		return rc;
	if (v->t.dtype != MG_DTYPE_F32 && v->t.dtype != MG_DTYPE_F64)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s is %s; expected float32 (or float64)", op,
				  what, mg_dtype_name(v->t.dtype));
	return 0;
}

int mg_act_infer(const char *op, int n, int same_shape, const struct mg_type *in,
		 struct mg_type *out, struct mg_err *e)
{
	for (int i = 0; i < n; i++) {
		int rc = mg_op_infer_image(&in[i], op, e);
		if (rc)
			return rc;
		int dt = in[i].dtype;
		if (dt >= 0 && dt != MG_DTYPE_F32 && dt != MG_DTYPE_F64)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d is %s; expected float32 (or "
					  "float64)", op, i, mg_dtype_name(dt));
		if (i > 0 && dt >= 0 && in[0].dtype >= 0 && dt != in[0].dtype)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d is %s, input 0 %s; expected "
					  "one dtype", op, i, mg_dtype_name(dt),
					  mg_dtype_name(in[0].dtype));
		if (i == 0 || !same_shape || in[i].rank < 0 || in[0].rank < 0)
			continue;
		int ok = in[i].rank == in[0].rank;
		for (int d = 0; ok && d < in[0].rank; d++)
			ok = in[i].dims[d] < 0 || in[0].dims[d] < 0 || in[i].dims[d] == in[0].dims[d];
		if (!ok)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: input %d's shape differs from input 0's",
					  op, i);
	}
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return 0;
}

int mg_act_map(const char *op, const struct mg_attr *a, mg_map_fn *f, struct mg_val *in,
	       struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_act_input(op, "x", &in[0], k->err);
	return rc ? rc : mg_map_new(&in[0].t, in[0].t.dtype, f, a, &out[0], k->err);
}

int mg_act_map2(const char *op, const struct mg_attr *a, mg_act_grad_fn *f, struct mg_val *in,
		struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_act_input(op, "input 0", &in[0], k->err);
	if (rc || (rc = mg_act_input(op, "dy", &in[1], k->err)))
		return rc;
	const struct mg_tensor *v = &in[0].t, *dy = &in[1].t;
	int ok = v->dtype == dy->dtype && v->rank == dy->rank;
	for (int d = 0; ok && d < v->rank; d++)
		ok = v->dims[d] == dy->dims[d];
	if (!ok)
		return mg_err_set(k->err, MG_ERR_SHAPE, "%s: dy's shape or dtype differs from input "
				  "0's", op);
	struct mg_tensor dx;
	if ((rc = mg_tensor_alloc_like(&dx, v, v->dtype, k->err)))
		return rc;
	if (mg_tensor_numel(v) > 0) {
		int64_t es = (int64_t)mg_dtype_size(v->dtype);
		const char *pv = mg_tensor_data(v), *pd = mg_tensor_data(dy);
		char *po = mg_tensor_data(&dx);
		struct mg_iter it;
		for (mg_iter_init_memorder(&it, v->rank, v->dims, 3,
					   (const int64_t *[]){v->strides, dy->strides, dx.strides});
		     !it.done; mg_iter_next_row(&it))
			for (int64_t i = 0; i < it.inner; i++) {
				double x = mg_dtype_load(v->dtype, pv + (it.off[0] + i * it.istride[0]) * es);
				double g = mg_dtype_load(v->dtype, pd + (it.off[1] + i * it.istride[1]) * es);
				mg_dtype_store(v->dtype, po + (it.off[2] + i * it.istride[2]) * es,
					       f(a, x, g));
			}
	}
	mg_val_set_tensor(&out[0], dx, v->meta);
	return 0;
}

/* Operands a generated gradient kernel takes: float32/float64 tensors of one dtype and
 * shape, rank 1..MG_KMAX_RANK, not empty. */
static int gen2_ok(const struct mg_val *in)
{
	const struct mg_tensor *v = &in[0].t, *dy = &in[1].t;
	if (in[0].kind != MG_VK_TENSOR || in[1].kind != MG_VK_TENSOR || v->dtype != dy->dtype ||
	    (v->dtype != MG_DTYPE_F32 && v->dtype != MG_DTYPE_F64) || v->rank != dy->rank ||
	    v->rank < 1 || v->rank > MG_KMAX_RANK || mg_tensor_numel(v) == 0)
		return 0;
	for (int i = 0; i < v->rank; i++)
		if (v->dims[i] != dy->dims[i])
			return 0;
	return 1;
}

int mg_act_run(struct mg_kir *kir, const struct mg_val *in, const double *p,
	       struct mg_val *out, struct mg_kctx *k)
{
	const struct mg_tensor *v = &in[0].t;
	mg_gen_order(v, kir->info.order);
	struct mg_tensor y;
	int rc = mg_tensor_alloc_like(&y, v, v->dtype, k->err);
	if (rc)
		return rc;
	struct mg_kargs ka = {0};
	for (int i = 0; i < v->rank; i++)
		ka.dims[i] = v->dims[i];
	mg_ktensor_set(&ka.t[0], &y);
	for (int i = 1; i < kir->ntensors; i++)
		mg_ktensor_set(&ka.t[i], &in[i - 1].t);
	for (int i = 0; i < kir->nparams; i++)
		ka.p[i] = p[i];
	rc = mg_gen_run(k, kir, &ka, NULL);
	if (rc == MG_ERR_UNSUPPORTED) {
		mg_tensor_release(&y);
		return rc;
	}
	return mg_val_set_result(&out[0], y, v->meta, rc);
}

int mg_act_gen2(const char *op, const struct mg_attr *a, mg_act_emit2_fn *emit,
		mg_act_grad_fn *f, struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	if (!k->backend || !gen2_ok(in))
		return mg_act_map2(op, a, f, in, out, k);
	const struct mg_tensor *v = &in[0].t;
	struct mg_arena ar = {0};
	struct mg_kir kir;
	mg_kir_init(&kir, &ar, op, v->rank);
	for (int i = 0; i < 3; i++) /* dx, v, dy */
		mg_kir_tensor(&kir, v->dtype, v->rank);
	kir.store = emit(a, &kir, mg_kir_loadat(&kir, 1), mg_kir_loadat(&kir, 2), v->dtype);
	int rc = mg_act_run(&kir, in, NULL, out, k);
	mg_arena_free(&ar);
	if (rc == MG_ERR_UNSUPPORTED) { /* no code for it: the reference kernel */
		mg_err_clear(k->err);
		return mg_act_map2(op, a, f, in, out, k);
	}
	return rc;
}

int mg_act_grad(struct mg_grad *c, int grad_op, int use_y)
{
	if (!(c->need & 1))
		return 0;
	int32_t in[2] = {use_y ? c->y[0] : c->x[0], c->dy[0]};
	int32_t dx = c->node(c, grad_op, in, 2, 1, c->attrs);
	if (dx < 0)
		return c->e->code ? c->e->code : MG_ERR_INTERNAL;
	c->dx[0] = dx;
	return 0;
}

double *mg_act_f64(const struct mg_tensor *t, struct mg_tensor *f, struct mg_err *e)
{
	if (mg_tensor_alloc(f, MG_DTYPE_F64, t->rank, t->dims, e))
		return NULL;
	if (mg_tensor_numel(t) > 0)
		mg_tensor_convert(f, t);
	return mg_tensor_data(f);
}

int mg_act_result(struct mg_tensor *f, const struct mg_tensor *like, struct mg_val *out,
		  struct mg_err *e)
{
	struct mg_tensor y;
	int rc = mg_tensor_alloc_like(&y, like, like->dtype, e);
	if (!rc && mg_tensor_numel(like) > 0)
		mg_tensor_convert(&y, f);
	mg_tensor_release(f);
	return rc ? rc : mg_val_set_result(&out[0], y, like->meta, 0);
}
