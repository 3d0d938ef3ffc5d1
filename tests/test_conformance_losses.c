/* test_conformance_losses.c: the loss ops against MONAI's loss classes and torch's
 * CrossEntropyLoss (tests/golden/losses/, made by tools/golden/gen_losses.py).
 * Data cases: a training graph of the case's float32 logits x (a parameter), its target
 * t and one loss node as the graph's loss, through the passes (autodiff among them),
 * lowering and the reference kernels: the loss and dloss/dx against MONAI's value and
 * autograd's gradient. Tolerances (float64 arithmetic rounded once against MONAI's
 * float32): the loss |got - want| <= 1e-5 |want|; dx per element
 * |got - want| <= 1e-5 max|want| + 1e-5 |want| (the gradient's scale: a softmax's
 * backward cancels to values far below it). Largest errors are printed.
 * Every data case runs again on the generated kernels (the LLVM JIT: float32 per voxel,
 * float64 sums; loss_gen.c), within the same tolerances; error cases refuse on both.
 * Error cases: what MONAI or torch refuses, mgc refuses too (the type rule, or the kernel
 * for a label out of range), naming the op. */
#include "../codegen/llvm.h"
#include "check.h"
#include "golden.h"
#include "loss_graph.h"

#define DIR MG_SOURCE_DIR "/tests/golden/losses/"

static double max_loss_err[2], max_dx_err[2];
static struct mg_backend *backend; /* NULL: the reference kernels */

static struct mg_type type_of(const struct mg_tensor *t)
{
	struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = t->dtype, .rank = t->rank};
	memcpy(ty.dims, t->dims, sizeof ty.dims);
	return ty;
}

/* The loss and dloss/dx of a training graph: loss node of op on (x, t), x a parameter. */
static int train(int op, const struct mg_attr *a, const struct mg_tensor *x,
		 const struct mg_tensor *t, double *loss, struct mg_tensor *dx, struct mg_err *e)
{
	struct mg_graph *g = mg_graph_new(mg_ops[op]->name);
	struct mg_type tx = type_of(x), tt = type_of(t);
	int32_t in[2] = {mg_graph_tensor_input(g, "x", &tx, MG_PARAM_LEARNED, e),
			 mg_graph_tensor_input(g, "t", &tt, MG_PARAM_NONE, e)};
	int n = in[0] < 0 || in[1] < 0 ? -1 : mg_graph_add_node(g, (enum mg_op)op, in, 2, a, "loss", e);
	struct mg_pass_opts po = {0};
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	int rc = n < 0;
	if (!rc) {
		g->loss = g->nodes[n].out[0];
		rc = mg_graph_set_outputs(g, &g->loss, 1, e) || mg_passes_run(g, &po, e) ||
		     mg_graph_lower(g, &arena, &p, e);
	}
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	struct mg_tensor vals[2] = {*x, *t};
	if (!rc && !(rc = loss_run_on(p, vals, slots, 0, backend, e))) {
		const struct mg_tensor *l = &slots[g->outputs[0]].t;
		*loss = mg_dtype_load(l->dtype, mg_tensor_data(l));
		CHECK(l->rank == 0 && l->dtype == x->dtype, "%s: the loss is a 0-d tensor of x's dtype",
		      mg_ops[op]->name);
		*dx = mg_tensor_share(&slots[g->outputs[1]].t);
	}
	if (p)
		loss_release(p, slots);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(g);
	return rc;
}

static void data_case(const char *name, int op, const struct mg_attr *a, const cJSON *c)
{
	const cJSON *files = cJSON_GetObjectItem(c, "files");
	static const char *const keys[] = {"x", "t", "dx"};
	struct mg_tensor t[3] = {{0}}, dx = {0};
	struct mg_err e = {0};
	for (int i = 0; i < 3; i++)
		CHECK_OK(golden_read_npy(DIR, cJSON_GetStringValue(cJSON_GetObjectItem(files, keys[i])),
					 &t[i], &e), &e);
	double loss = NAN, want = cJSON_GetObjectItem(c, "loss")->valuedouble;
	CHECK_OK(train(op, a, &t[0], &t[1], &loss, &dx, &e), &e);
	double err = fabs(loss - want);
	max_loss_err[!!backend] = fmax(max_loss_err[!!backend], err / fabs(want));
	CHECK(err <= 1e-5 * fabs(want), "%s%s: loss %.9g, MONAI %.9g", name,
	      backend ? " (generated)" : "", loss, want);
	if (dx.buf && golden_same_shape(&dx, &t[2])) {
		double scale = 0, derr = 0;
		for (int64_t i = 0; i < mg_tensor_numel(&t[2]); i++)
			scale = fmax(scale, fabs(((const float *)mg_tensor_data(&t[2]))[i]));
		char label[128];
		snprintf(label, sizeof label, "%s dx%s", name, backend ? " (generated)" : "");
		CHECK(golden_compare(label, &dx, &t[2], 1e-5 * scale, 1e-5, &derr) == 0, "%s", label);
		max_dx_err[!!backend] = fmax(max_dx_err[!!backend], derr / scale);
	} else {
		CHECK(0, "%s: dx missing or of another shape", name);
	}
	mg_tensor_release(&dx);
	for (int i = 0; i < 3; i++)
		mg_tensor_release(&t[i]);
}

static void shape_of(const cJSON *j, struct mg_type *t)
{
	*t = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32,
			      .rank = cJSON_GetArraySize(j)};
	for (int i = 0; i < t->rank; i++)
		t->dims[i] = (int64_t)cJSON_GetArrayItem(j, i)->valuedouble;
}

/* The type rule refuses the shapes, or (a label out of range) the kernel refuses the
 * data: a target filled with that label. */
static void error_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		       const cJSON *c)
{
	struct mg_type in[MG_STEP_MAXIO] = {{0}}, out[2];
	struct mg_err e = {0};
	shape_of(cJSON_GetObjectItem(c, "x"), &in[0]);
	shape_of(cJSON_GetObjectItem(c, "t"), &in[1]);
	const char *monai = cJSON_GetStringValue(cJSON_GetObjectItem(c, "error"));
	int rc = d->infer(a, in, out, &e);
	const cJSON *label = cJSON_GetObjectItem(c, "label");
	if (!rc && label) {
		struct mg_val v[2] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}}, y = {0};
		CHECK_OK(mg_tensor_alloc(&v[0].t, MG_DTYPE_F32, in[0].rank, in[0].dims, &e), &e);
		CHECK_OK(mg_tensor_alloc(&v[1].t, MG_DTYPE_F32, in[1].rank, in[1].dims, &e), &e);
		for (int64_t i = 0; i < mg_tensor_numel(&v[0].t); i++)
			((float *)mg_tensor_data(&v[0].t))[i] = 0;
		for (int64_t i = 0; i < mg_tensor_numel(&v[1].t); i++)
			((float *)mg_tensor_data(&v[1].t))[i] = (float)label->valuedouble;
		struct mg_kctx k = {.err = &e, .backend = backend};
		rc = (backend ? d->gen : d->ref)(a, v, &y, &k);
		mg_val_release(&y);
		mg_val_release(&v[0]);
		mg_val_release(&v[1]);
	}
	CHECK(rc != 0, "%s: MONAI refuses (%s); mgc accepts", name, monai);
	CHECK(rc == 0 || strstr(e.msg, d->name) == e.msg, "%s: the message names the op: %s", name,
	      e.msg);
	printf("%s: MONAI: %s\n  mgc: %s\n", name, monai, e.msg);
}

/* Every case; returns the data cases' count in *ndata and the error cases' in *nerr. */
static void all_cases(const cJSON *doc, int *ndata, int *nerr)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const char *opname = cJSON_GetStringValue(cJSON_GetObjectItem(c, "op"));
		const struct mg_opdef *d = golden_op(opname);
		CHECK(name && d, "a case without a name or a known op");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[32];
		struct mg_err e = {0};
		int rc = golden_parse(d, cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		if (!rc && cJSON_GetObjectItem(c, "files")) {
			data_case(name, mg_op_find(opname), a, c);
			++*ndata;
		} else if (!rc) {
			error_case(name, d, a, c);
			++*nerr;
		}
		mg_arena_free(&arena);
	}
}

int main(void)
{
	cJSON *doc = golden_load_cases(DIR);
	int ndata = 0, nerr = 0;
	all_cases(doc, &ndata, &nerr);
	CHECK(ndata >= 20 && nerr >= 10, "%d data and %d error cases", ndata, nerr);
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	CHECK(jit, "%s", e.msg);
	if (jit) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, NULL);
		backend = &jb.b;
		int n2 = 0, e2 = 0;
		all_cases(doc, &n2, &e2);
		CHECK(jb.runs > 0, "the losses ran no generated kernel");
		backend = NULL;
		mg_jit_free(jit);
	}
	cJSON_Delete(doc);
	printf("%d data cases, %d refused; largest relative difference from MONAI: loss %.3g, "
	       "dx %.3g (of max|dx|); generated kernels: loss %.3g, dx %.3g\n", ndata, nerr,
	       max_loss_err[0], max_dx_err[0], max_loss_err[1], max_dx_err[1]);
	return check_done();
}
