/* test_conformance_act.c: the activation ops against the torch.nn modules MONAI's
 * get_act_layer builds (tests/golden/act/, made by tools/golden/gen_act.py).
 * Data cases: y = op(x[, w]) from the reference kernel, and from the generated kernel on
 * the kernel IR interpreter where the op has one (an emit, or Softmax's own: one kernel
 * per index along dim); y and the gradients of sum(y * g) with
 * respect to x (and PReLU's weight) from a graph of the op and that loss through the
 * autodiff pass, lowering and the reference kernels; all against torch's float32
 * forward and autograd:
 * |got - torch| <= 1e-5 + 1e-5 |torch| (float64 arithmetic rounded once against torch's
 * float32 kernels).
 * Shape cases: the type rule gives torch's output shape, or refuses what torch refuses. */
#include "check.h"
#include "golden.h"
#include "loss_graph.h"

#define DIR MG_SOURCE_DIR "/tests/golden/act/"

static double max_err;

static void cmp(const char *name, const char *what, const struct mg_val *got,
		const struct mg_tensor *want)
{
	char label[160];
	snprintf(label, sizeof label, "%s %s", name, what);
	CHECK(got->kind == MG_VK_TENSOR && golden_same_shape(&got->t, want), "%s: shape differs",
	      label);
	if (got->kind == MG_VK_TENSOR && golden_same_shape(&got->t, want))
		CHECK(golden_compare(label, &got->t, want, 1e-5, 1e-5, &max_err) == 0, "%s", label);
}

static void data_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *files)
{
	static const char *const keys[] = {"x", "w", "g", "y", "dx", "dw"};
	struct mg_tensor t[6] = {{0}};
	struct mg_err e = {0};
	for (int i = 0; i < 6; i++) {
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(files, keys[i]));
		if (f)
			CHECK_OK(golden_read_npy(DIR, f, &t[i], &e), &e);
	}
	int nin = t[1].buf ? 2 : 1, op = mg_op_find(d->name);
	struct mg_kir_interp it;
	mg_kir_interp_init(&it);
	int has_gen = d->emit != NULL || d == mg_ops[MG_OP_Softmax];
	for (int gen = 0; gen < 1 + has_gen; gen++) {
		struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = t[0]},
						   {.kind = MG_VK_TENSOR, .t = t[1]}};
		struct mg_val out = {0};
		struct mg_step st = {.def = d, .op = d->name};
		struct mg_kctx k = {.err = &e, .backend = gen ? &it.b : NULL, .step = &st};
		int64_t runs = it.runs;
		CHECK_OK((gen ? d->gen : d->ref)(a, in, &out, &k), &e);
		CHECK(!gen || it.runs > runs, "%s: the generated kernel ran", name);
		cmp(name, gen ? "y (generated)" : "y", &out, &t[3]);
		mg_val_release(&out);
	}
	struct mg_tensor r[3] = {{0}};
	CHECK_OK(loss_graph(op, a, nin, t, &t[2], 0, r, &e), &e);
	static const char *const what[] = {"y (autodiff graph)", "dx", "dw"};
	for (int i = 0; i < nin + 1; i++) {
		struct mg_val v = {.kind = r[i].buf ? MG_VK_TENSOR : MG_VK_NONE, .t = r[i]};
		cmp(name, what[i], &v, &t[i ? 3 + i : 3]);
		mg_tensor_release(&r[i]);
	}
	for (int i = 0; i < 6; i++)
		mg_tensor_release(&t[i]);
}

static void shape_of(const cJSON *j, struct mg_type *t)
{
	*t = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32,
			      .rank = cJSON_GetArraySize(j)};
	for (int i = 0; i < t->rank; i++)
		t->dims[i] = (int64_t)cJSON_GetArrayItem(j, i)->valuedouble;
}

static int shape_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *c)
{
	struct mg_type in[MG_STEP_MAXIO] = {{0}}, out[2], want;
	struct mg_err e = {0};
	shape_of(cJSON_GetObjectItem(c, "x"), &in[0]);
	if (cJSON_GetObjectItem(c, "w"))
		shape_of(cJSON_GetObjectItem(c, "w"), &in[1]);
	int rc = d->infer(a, in, out, &e);
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(c, "error"));
	if (err) {
		CHECK(rc != 0, "%s: torch refuses (%s); mgc accepts", name, err);
		return 1;
	}
	CHECK(rc == 0, "%s: %s", name, e.msg);
	shape_of(cJSON_GetObjectItem(c, "y"), &want);
	int ok = !rc && out[0].rank == want.rank;
	for (int i = 0; ok && i < want.rank; i++)
		ok = out[0].dims[i] == want.dims[i];
	CHECK(ok, "%s: output shape differs from torch's", name);
	return 0;
}

int main(void)
{
	cJSON *doc = golden_load_cases(DIR);
	const cJSON *c;
	int ndata = 0, nshape = 0, nrefused = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const struct mg_opdef *d = golden_op(cJSON_GetStringValue(cJSON_GetObjectItem(c, "op")));
		CHECK(name && d, "a case without a name or a known op");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[8];
		struct mg_err e = {0};
		int rc = golden_parse(d, cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		const cJSON *files = cJSON_GetObjectItem(c, "files");
		if (!rc && files) {
			data_case(name, d, a, files);
			ndata++;
		} else if (!rc) {
			nrefused += shape_case(name, d, a, c);
			nshape++;
		}
		mg_arena_free(&arena);
	}
	cJSON_Delete(doc);
	CHECK(ndata >= 20 && nshape >= 9, "%d data and %d shape cases", ndata, nshape);
	printf("%d data cases, %d shape cases (%d refused by torch); largest difference from "
	       "torch: %.3g\n", ndata, nshape, nrefused, max_err);
	return check_done();
}
