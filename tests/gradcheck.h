/* gradcheck.h: the finite-difference check of a gradient rule, shared by the tests of
 * every differentiable op. One node of the op on float64 inputs, the loss
 * L = sum_j sum(y_j * g_j) over its first nout_loss outputs (g_j random and fixed), the
 * autodiff pass, lowering and the reference kernels; each wanted dL/dx_i against central
 * differences of L. L is evaluated by the same plan, so the check covers the rule, the
 * gradient ops' kernels and the pass together.
 * Include after check.h; the test links mg_frontend (attributes from JSON text) and
 * mg_passes. */
#ifndef MG_GRADCHECK_H
#define MG_GRADCHECK_H

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "loss_graph.h"

struct gc_input {
	int rank;
	int64_t dims[6];
	int wrt;       /* check dL/dx */
	double lo, hi; /* uniform random range; 0, 0: [-1, 1) */
};

static uint64_t gc_state = 0x243f6a8885a308d3ull;

static double gc_uniform(double lo, double hi)
{
	gc_state = gc_state * 6364136223846793005ull + 1442695040888963407ull;
	double u = (double)(gc_state >> 11) / (double)(1ull << 53);
	return lo == hi ? u * 2 - 1 : lo + u * (hi - lo);
}

static struct mg_type gc_type(int rank, const int64_t *dims)
{
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F64, .rank = rank};
	memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
	return t;
}

static int gc_tensor(struct mg_tensor *t, const struct mg_type *ty, double lo, double hi,
		     struct mg_err *e)
{
	int rc = mg_tensor_alloc(t, MG_DTYPE_F64, ty->rank, ty->dims, e);
	for (int64_t i = 0; !rc && i < mg_tensor_numel(t); i++)
		((double *)mg_tensor_data(t))[i] = gc_uniform(lo, hi);
	return rc;
}

static double gc_loss(const struct mg_plan *p, const struct mg_tensor *vals,
		      struct mg_val *slots, int32_t loss)
{
	struct mg_err e = {0};
	int rc = loss_run(p, vals, slots, 0, &e);
	CHECK(rc == 0, "%s", e.msg);
	double l = rc ? NAN : *(double *)mg_tensor_data(&slots[loss].t);
	loss_release(p, slots);
	return l;
}

static double gradcheck(const char *op, const char *attrs_json, int nin,
			const struct gc_input *in, int nout_loss, double tol)
{
	struct mg_err e = {0};
	int o = mg_op_find(op);
	CHECK(o >= 0, "no op %s", op);
	if (o < 0)
		return INFINITY;
	const struct mg_opdef *d = mg_ops[o];
	struct mg_graph *g = mg_graph_new(op);
	struct mg_attr attrs[64];
	cJSON *j = cJSON_Parse(attrs_json ? attrs_json : "{}");
	int rc = mg_attrs_parse(d, j, -1, 1, NULL, &g->arena, attrs, &e);
	cJSON_Delete(j);
	int32_t x[MG_STEP_MAXIO], loss = -1;
	for (int i = 0; i < nin && !rc; i++) {
		char name[16];
		snprintf(name, sizeof name, "x%d", i);
		struct mg_type t = gc_type(in[i].rank, in[i].dims);
		rc = (x[i] = mg_graph_tensor_input(g, name, &t, in[i].wrt, &e)) < 0;
	}
	int nout = d->nout > 0 ? d->nout : 1, node = -1;
	if (!rc)
		rc = (node = mg_graph_add_node_n(g, (enum mg_op)o, x, nin, nout, attrs, op, &e)) < 0;
	for (int jo = 0; jo < nout_loss && !rc; jo++) {
		char name[16];
		snprintf(name, sizeof name, "g%d", jo);
		rc = (loss = loss_add(g, g->nodes[node].out[jo], name, loss, &e)) < 0;
	}
	struct mg_pass_opts po = {0};
	if (!rc) {
		g->loss = loss;
		rc = mg_graph_set_outputs(g, &loss, 1, &e) || mg_passes_run(g, &po, &e);
	}
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	if (!rc)
		rc = mg_graph_lower(g, &arena, &p, &e);
	CHECK(rc == 0, "%s: %s", op, e.msg);
	double worst = rc ? INFINITY : 0;
	struct mg_tensor vals[MG_STEP_MAXIO * 2] = {{0}};
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	for (int i = 0; !rc && i < g->ninputs; i++) {
		int xi = i < nin ? i : -1;
		const struct mg_type *t = &g->values[g->inputs[i]].type;
		rc = gc_tensor(&vals[i], t, xi >= 0 ? in[xi].lo : 0, xi >= 0 ? in[xi].hi : 0, &e);
	}
	if (!rc && (rc = loss_run(p, vals, slots, 0, &e)))
		CHECK(0, "%s: %s", op, e.msg);
	/* the gradients: graph outputs 1.. in the order of the inputs with wrt set (taken
	 * before the finite differences run the plan again) */
	struct mg_tensor grads[MG_STEP_MAXIO] = {{0}};
	for (int i = 0, gi = 1; !rc && i < nin; i++)
		if (in[i].wrt)
			grads[i] = mg_tensor_share(&slots[g->outputs[gi++]].t);
	for (int i = 0; !rc && i < nin; i++) {
		if (!in[i].wrt)
			continue;
		struct mg_tensor an = grads[i];
		int64_t n = mg_tensor_numel(&vals[i]), step = n > 40 ? n / 40 + 1 : 1;
		double *xv = mg_tensor_data(&vals[i]);
		for (int64_t k = (int64_t)(gc_uniform(0, 1) * (double)step); k < n; k += step) {
			double keep = xv[k], h = 1e-5 * (1 + fabs(keep));
			xv[k] = keep + h;
			double lp = gc_loss(p, vals, slots, loss);
			xv[k] = keep - h;
			double lm = gc_loss(p, vals, slots, loss);
			xv[k] = keep;
			int64_t idx[6], r = k;
			for (int a = an.rank - 1; a >= 0; a--)
				idx[a] = r % an.dims[a], r /= an.dims[a];
			double fd = (lp - lm) / (2 * h);
			double av = *(double *)mg_tensor_at(&an, idx);
			double err = fabs(fd - av) / (1 + fabs(av));
			worst = err > worst ? err : worst;
			CHECK(err <= tol, "%s %s: dL/dx%d[%lld] = %.12g, finite differences %.12g", op,
			      attrs_json ? attrs_json : "", i, (long long)k, av, fd);
		}
		mg_tensor_release(&an);
	}
	if (p)
		loss_release(p, slots);
	free(slots);
	for (int i = 0; i < g->ninputs; i++)
		mg_tensor_release(&vals[i]);
	mg_arena_free(&arena);
	mg_graph_free(g);
	printf("gradcheck %s %s: max relative error %.2g\n", op, attrs_json ? attrs_json : "",
	       worst);
	return worst;
}

#endif
