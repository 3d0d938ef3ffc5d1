/* test_optim.c: the optimizer ops (Adam, AdamW, SGD) and the optimizer pass against
 * torch.optim (tests/golden/optim/, tools/golden/gen_optim.py). Each case is a graph whose
 * loss is sum(p * g), so the autodiff pass's gradient of p is g, the gradient torch was
 * given; the optimizer pass turns it into the update, and three steps run with each
 * "X.new" output fed back as input X, as `mgc run --step` does. The parameter and every
 * state tensor torch keeps are compared after each step: float64 cases within 1e-12,
 * float32 ones within 1e-6 on the reference kernels (torch computes float32 in float32,
 * they in float64). Every case runs again on the generated kernels (the LLVM JIT), which
 * repeat torch's float32 arithmetic: float32 within 2e-7 (|mgc - torch| / (1 + |torch|),
 * an ulp or two), float64 (reference kernels again) within 1e-12. */
#include <cjson/cJSON.h>
#include <math.h>

#include "../codegen/llvm.h"
#include "../ir/ir.h"
#include "../passes/passes.h"
#include "check.h"
#include "files.h"
#include "loss_graph.h"

static double max_err64, max_err32, max_err_gen;
static struct mg_backend *backend; /* NULL: the reference kernels */

static void fill(struct mg_tensor *t, const cJSON *list)
{
	const cJSON *v;
	int64_t i = 0;
	cJSON_ArrayForEach(v, list)
		mg_dtype_store(t->dtype, (char *)mg_tensor_data(t) + i++ * (int64_t)mg_dtype_size(t->dtype),
			       v->valuedouble);
}

/* Compares tensor t with torch's values; name for messages. */
static void compare(const struct mg_tensor *t, const cJSON *want, double tol, const char *what,
		    int cs, int step)
{
	int64_t n = mg_tensor_numel(t);
	CHECK(cJSON_GetArraySize(want) == n, "case %d step %d %s: %lld values, torch %d", cs, step,
	      what, (long long)n, cJSON_GetArraySize(want));
	double worst = 0;
	for (int64_t i = 0; i < n && i < cJSON_GetArraySize(want); i++) {
		double a = mg_dtype_load(t->dtype, (char *)mg_tensor_data(t) +
							  i * (int64_t)mg_dtype_size(t->dtype));
		double b = cJSON_GetArrayItem(want, (int)i)->valuedouble;
		double err = fabs(a - b) / (1 + fabs(b));
		worst = err > worst ? err : worst;
	}
	CHECK(worst <= tol, "case %d step %d %s: error %.3g > %.3g", cs, step, what, worst, tol);
	double *m = tol < 1e-9 ? &max_err64 : backend ? &max_err_gen : &max_err32;
	*m = worst > *m ? worst : *m;
}

static void run_case(const cJSON *c, int cs)
{
	struct mg_err e = {0};
	const char *opname = cJSON_GetObjectItem(c, "op")->valuestring;
	int f32 = !strcmp(cJSON_GetObjectItem(c, "dtype")->valuestring, "float32");
	double tol = !f32 ? 1e-12 : backend ? 2e-7 : 1e-6;
	const cJSON *shape = cJSON_GetObjectItem(c, "shape"), *d;
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = f32 ? MG_DTYPE_F32 : MG_DTYPE_F64};
	cJSON_ArrayForEach(d, shape)
		t.dims[t.rank++] = (int64_t)d->valuedouble;

	struct mg_graph *g = mg_graph_new("optim");
	int32_t p = mg_graph_tensor_input(g, "p", &t, MG_PARAM_LEARNED, &e);
	int32_t loss = p < 0 ? -1 : loss_add(g, p, "g", -1, &e);
	g->loss = loss;
	g->optim = mg_op_find(opname);
	struct mg_attr *attrs = mg_arena_alloc(&g->arena, 16 * sizeof *attrs);
	int rc = loss < 0 || g->optim < 0 || !attrs;
	CHECK(!rc, "case %d: graph: %s", cs, e.msg);
	if (!rc)
		CHECK_OK(rc = mg_attrs_parse(mg_ops[g->optim], cJSON_GetObjectItem(c, "args"), -1, 0,
					     NULL, &g->arena, attrs, &e), &e);
	g->optim_attrs = attrs;
	struct mg_pass_opts po = {0};
	struct mg_arena arena = {0};
	struct mg_plan *plan = NULL;
	if (!rc)
		CHECK_OK(rc = mg_graph_set_outputs(g, &loss, 1, &e) || mg_passes_run(g, &po, &e) ||
			      mg_graph_lower(g, &arena, &plan, &e), &e);
	if (rc) {
		mg_graph_free(g);
		return;
	}
	/* inputs: p, g, then the optimizer's state (zeros) */
	struct mg_tensor *vals = calloc((size_t)g->ninputs, sizeof *vals);
	struct mg_val *slots = calloc((size_t)plan->nslots, sizeof *slots);
	for (int i = 0; i < g->ninputs; i++) {
		const struct mg_type *it = &g->values[g->inputs[i]].type;
		CHECK_OK(mg_tensor_alloc(&vals[i], (enum mg_dtype)it->dtype, it->rank, it->dims, &e), &e);
		memset(mg_tensor_data(&vals[i]), 0,
		       (size_t)mg_tensor_numel(&vals[i]) * mg_dtype_size(vals[i].dtype));
	}
	fill(&vals[0], cJSON_GetObjectItem(c, "param"));
	const cJSON *steps = cJSON_GetObjectItem(c, "steps");
	for (int s = 0; s < 3; s++) {
		fill(&vals[1], cJSON_GetArrayItem(cJSON_GetObjectItem(c, "grads"), s));
		if ((rc = loss_run_on(plan, vals, slots, 0, backend, &e))) {
			CHECK_OK(rc, &e);
			break;
		}
		const cJSON *want = cJSON_GetArrayItem(steps, s);
		const cJSON *state = cJSON_GetObjectItem(want, "state");
		for (int j = 0; j < g->noutputs; j++) {
			const char *name = g->values[g->outputs[j]].name;
			const struct mg_tensor *o = &slots[g->outputs[j]].t;
			if (!strcmp(name, "p.new"))
				compare(o, cJSON_GetObjectItem(want, "param"), tol, name, cs, s);
			if (!strncmp(name, "p.", 2) && strcmp(name, "p.new")) {
				char key[64];
				snprintf(key, sizeof key, "%.*s", (int)(strlen(name) - 6), name + 2);
				const cJSON *w = cJSON_GetObjectItem(state, key);
				CHECK(w || !strcmp(key, "step"), "case %d: state %s is not torch's", cs, key);
				if (w)
					compare(o, w, tol, name, cs, s);
			}
			/* feed X.new back as X */
			for (int i = 0; i < g->ninputs; i++) {
				const char *in = g->values[g->inputs[i]].name;
				size_t len = strlen(in);
				if (!strncmp(name, in, len) && !strcmp(name + len, ".new")) {
					mg_tensor_release(&vals[i]);
					vals[i] = mg_tensor_share(o);
				}
			}
		}
		/* every state tensor torch keeps is an output */
		const cJSON *st;
		cJSON_ArrayForEach(st, state) {
			char name[64];
			snprintf(name, sizeof name, "p.%s.new", st->string);
			int found = 0;
			for (int j = 0; j < g->noutputs; j++)
				found |= !strcmp(g->values[g->outputs[j]].name, name);
			CHECK(found, "case %d: torch's state %s has no output", cs, st->string);
		}
	}
	loss_release(plan, slots);
	for (int i = 0; i < g->ninputs; i++)
		mg_tensor_release(&vals[i]);
	free(vals);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(g);
}

/* Arguments torch refuses, and a pass order mistake. */
static void test_errors(void)
{
	static const struct { const char *op, *args, *msg; } bad[] = {
		{"Adam", "{\"betas\": [1.0, 0.9]}", "betas must be two values in [0, 1)"},
		{"Adam", "{\"lr\": -1}", "must not be negative"},
		{"SGD", "{\"nesterov\": true}", "Nesterov momentum requires a momentum"},
		{"SGD", "{\"momentum\": 0.9, \"dampening\": 0.1, \"nesterov\": true}",
		 "zero dampening"},
		{"AdamW", "{\"betas\": [0.9]}", "betas must be two values"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct mg_err e = {0};
		struct mg_graph *g = mg_graph_new("bad");
		struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 1, .dims = {3}};
		int32_t p = mg_graph_tensor_input(g, "p", &t, MG_PARAM_LEARNED, &e);
		int32_t loss = loss_add(g, p, "g", -1, &e);
		cJSON *args = cJSON_Parse(bad[i].args);
		struct mg_attr *a = mg_arena_alloc(&g->arena, 16 * sizeof *a);
		g->loss = loss;
		g->optim = mg_op_find(bad[i].op);
		CHECK_OK(mg_attrs_parse(mg_ops[g->optim], args, -1, 0, NULL, &g->arena, a, &e), &e);
		g->optim_attrs = a;
		struct mg_pass_opts po = {0};
		CHECK_FAILS(mg_graph_set_outputs(g, &loss, 1, &e) || mg_passes_run(g, &po, &e), &e,
			    bad[i].msg);
		cJSON_Delete(args);
		mg_graph_free(g);
	}
	/* without the autodiff pass there is no gradient to update with */
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("noautodiff");
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 1, .dims = {3}};
	int32_t p = mg_graph_tensor_input(g, "p", &t, MG_PARAM_LEARNED, &e);
	int32_t loss = loss_add(g, p, "g", -1, &e);
	g->loss = loss;
	g->optim = mg_op_find("SGD");
	g->optim_attrs = mg_arena_alloc(&g->arena, 16 * sizeof *g->optim_attrs);
	CHECK_OK(mg_attrs_parse(mg_ops[g->optim], NULL, -1, 0, NULL, &g->arena,
				(struct mg_attr *)g->optim_attrs, &e), &e);
	struct mg_pass_opts po = {.disable = "autodiff"};
	CHECK_FAILS(mg_graph_set_outputs(g, &loss, 1, &e) || mg_passes_run(g, &po, &e), &e,
		    "parameter 'p' has no gradient");
	mg_graph_free(g);
}

int main(void)
{
	char *text = files_read(MG_SOURCE_DIR "/tests/golden/optim/cases.json");
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	CHECK(root != NULL, "tests/golden/optim/cases.json");
	const cJSON *c;
	int n = 0;
	if (root)
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
			run_case(c, n++);
	CHECK(n >= 13, "%d cases", n);
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	CHECK(jit, "%s", e.msg);
	if (jit) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, NULL);
		backend = &jb.b;
		int64_t runs = jb.runs;
		if (root)
			cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
				run_case(c, n++);
		CHECK(jb.runs > runs, "the optimizers ran no generated kernel");
		backend = NULL;
		mg_jit_free(jit);
	}
	printf("%d cases; largest relative error: float64 %.3g, float32 %.3g (generated "
	       "kernels %.3g)\n", n / 2, max_err64, max_err32, max_err_gen);
	test_errors();
	cJSON_Delete(root);
	free(text);
	return check_done();
}
