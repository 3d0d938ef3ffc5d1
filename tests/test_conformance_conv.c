/* test_conformance_conv.c: Conv, ConvTranspose and Linear against torch.nn.functional
 * (tests/golden/conv/, made by tools/golden/gen_conv.py).
 * Data cases: y = op(x, w, b) and the gradients of sum(y * g) with respect to x, w and b,
 * from the reference kernels (float64 arithmetic) and from oneDNN (float32), each against
 * torch's float32 autograd: |got - torch| <= 2e-5 + 1e-4 |torch|.
 * Shape cases: the type rule gives torch's output shape, or refuses what torch refuses. */
#include "check.h"
#include "golden.h"

#include "../ops/nn.h"

#define DIR MG_SOURCE_DIR "/tests/golden/conv/"

static double max_err[2];

static void cmp(const char *name, const char *what, int dnn, const struct mg_tensor *got,
		const struct mg_tensor *want)
{
	char label[160];
	snprintf(label, sizeof label, "%s %s (%s)", name, what, dnn ? "oneDNN" : "reference");
	CHECK(golden_same_shape(got, want), "%s: shape differs", label);
	if (golden_same_shape(got, want))
		CHECK(golden_compare(label, got, want, 2e-5, 1e-4, &max_err[dnn]) == 0, "%s", label);
}

static void data_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *files)
{
	static const char *const keys[] = {"x", "w", "b", "g", "y", "dx", "dw", "db"};
	struct mg_tensor t[8] = {{0}};
	struct mg_err e = {0};
	for (int i = 0; i < 8; i++) {
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(files, keys[i]));
		if (f)
			CHECK_OK(golden_read_npy(DIR, f, &t[i], &e), &e);
	}
	const struct mg_tensor *x = &t[0], *w = &t[1], *b = t[2].buf ? &t[2] : NULL, *g = &t[3];
	int linear = !strcmp(d->name, "Linear"), transposed = !strcmp(d->name, "ConvTranspose");
	for (int dnn = 0; dnn < 1 + mg_dnn_available(); dnn++) {
		/* forward through the op's kernel, as the executor runs it */
		struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = *x},
						   {.kind = MG_VK_TENSOR, .t = *w}};
		struct mg_val out = {0};
		if (b)
			in[2] = (struct mg_val){.kind = MG_VK_TENSOR, .t = *b};
		/* with a backend, the op's gen kernel runs oneDNN (the interpreter backend
		 * only stands for "a backend is there") */
		struct mg_kir_interp it;
		mg_kir_interp_init(&it);
		struct mg_kctx k = {.err = &e, .backend = dnn ? &it.b : NULL};
		mg_kernel_fn fn = !dnn ? d->ref : d->gen;
		int rc = fn(a, in, &out, &k);
		CHECK(rc == 0, "%s (%s): %s", name, dnn ? "oneDNN" : "reference", e.msg);
		if (!rc)
			cmp(name, "y", dnn, &out.t, &t[4]);
		mg_val_release(&out);
		mg_err_clear(&e);
		/* the backward passes */
		struct mg_tensor dx = {0}, dw = {0}, db = {0};
		if (linear) {
			CHECK_OK(mg_linear_compute(MG_DNN_BWD_DATA, dnn, g, w, NULL, &dx, NULL, &e), &e);
			CHECK_OK(mg_linear_compute(MG_DNN_BWD_WEIGHTS, dnn, x, g, NULL, &dw,
						   b ? &db : NULL, &e), &e);
		} else {
			struct mg_conv_geom geo;
			CHECK_OK(mg_conv_geometry(d->name, a, transposed, x->rank, x->dims, w->rank,
						  w->dims, b ? b->dims[0] : -1, &geo, &e), &e);
			CHECK_OK(mg_conv_compute(MG_DNN_BWD_DATA, &geo, transposed, dnn, g, w, NULL,
						 &dx, NULL, NULL, &e), &e);
			CHECK_OK(mg_conv_compute(MG_DNN_BWD_WEIGHTS, &geo, transposed, dnn, x, g, NULL,
						 &dw, b ? &db : NULL, NULL, &e), &e);
		}
		if (dx.buf)
			cmp(name, "dx", dnn, &dx, &t[5]);
		if (dw.buf)
			cmp(name, "dw", dnn, &dw, &t[6]);
		if (b && db.buf)
			cmp(name, "db", dnn, &db, &t[7]);
		mg_tensor_release(&dx);
		mg_tensor_release(&dw);
		mg_tensor_release(&db);
	}
	for (int i = 0; i < 8; i++)
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
	struct mg_type in[MG_STEP_MAXIO] = {{0}}, out, want;
	struct mg_err e = {0};
	shape_of(cJSON_GetObjectItem(c, "x"), &in[0]);
	shape_of(cJSON_GetObjectItem(c, "w"), &in[1]);
	const cJSON *nb = cJSON_GetObjectItem(c, "bias");
	if (cJSON_IsNumber(nb))
		in[2] = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 1,
					 .dims = {(int64_t)nb->valuedouble}};
	int rc = d->infer(a, in, &out, &e);
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(c, "error"));
	if (err) {
		CHECK(rc != 0, "%s: torch refuses (%s); mgc gives rank %d", name, err, out.rank);
		return 1;
	}
	CHECK(rc == 0, "%s: %s", name, e.msg);
	shape_of(cJSON_GetObjectItem(c, "y"), &want);
	int ok = !rc && out.rank == want.rank;
	for (int i = 0; ok && i < want.rank; i++)
		ok = out.dims[i] == want.dims[i];
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
	CHECK(ndata >= 20 && nshape >= 100, "%d data and %d shape cases", ndata, nshape);
	printf("%d data cases, %d shape cases (%d refused by torch); largest difference from "
	       "torch: reference %.3g, oneDNN %.3g\n", ndata, nshape, nrefused, max_err[0],
	       max_err[1]);
	mg_dnn_cache_clear();
	return check_done();
}
