/* optim.c: the optimizer ops' shared kernel and type rule (optim.h). */
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
