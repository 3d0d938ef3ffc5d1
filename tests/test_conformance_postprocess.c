/* test_conformance_postprocess.c: the post-processing ops (Activations, AsDiscrete,
 * KeepLargestConnectedComponent, RemoveSmallObjects, FillHoles, LabelFilter,
 * LabelToContour, MeanEnsemble, VoteEnsemble) against MONAI's own outputs, and the
 * connected-component labelling they share against independent counts.
 * Cases live in tests/golden/postprocess/cases.json (tools/golden/gen_postprocess.py):
 * for each, the arguments go through mg_attrs_parse as a pipeline's would, the reference
 * kernel runs on the input (with its affine, or without meta when the case is `plain`),
 * and shape, dtype and values must match under the op's tolerance below; the type rule
 * must agree and the input must come out untouched. Then bad arguments: each error must
 * name the op and the argument. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/postprocess/"

struct tol {
	double atol, rtol;
};

/* Label outputs (every op but these, and integer outputs of these) are exact. */
static struct tol tolerance(const char *op, enum mg_dtype out)
{
	if (!mg_dtype_is_float(out))
		return (struct tol){0, 0};
	if (!strcmp(op, "Activations"))
		/* float64-then-rounded exp/tanh/erf vs torch's float32 vector code: an ulp or
		 * two of values up to ~10 */
		return (struct tol){1e-6, 1e-6};
	if (!strcmp(op, "LabelToContour") || !strcmp(op, "MeanEnsemble"))
		/* a float64 sum vs torch's float32 (conv, mean) summation order */
		return (struct tol){1e-6, 1e-6};
	return (struct tol){0, 0};
}

struct stats {
	double max_err[16];
	int ncases;
};

static int op_slot(const char *op)
{
	static const char *const names[] = {"Activations",	  "AsDiscrete",	  "LabelToContour",
					    "MeanEnsemble",	  NULL};
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], op))
			return i;
	return 15;
}

static void run_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	struct stats *st = ctx;
	if (cJSON_IsTrue(cJSON_GetObjectItem(c, "plain"))) {
		mg_meta_release(x->meta);
		x->meta = NULL;
	}
	struct mg_err e = {0};
	struct mg_tensor before;
	CHECK_OK(mg_tensor_contiguous(&before, x, &e), &e);
	/* a node's inputs come in an array of MG_STEP_MAXIO, unused ones MG_VK_NONE */
	struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = *x}}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = d->ref(a, in, &out, &k);
	CHECK(rc == 0, "%s: %s failed: %s", name, d->name, e.msg);
	if (rc == 0) {
		const struct mg_tensor *y = &out.t;
		CHECK(golden_same_shape(y, want), "%s: output shape differs from MONAI's", name);
		CHECK(y->dtype == want->dtype, "%s: dtype %s, MONAI's %s", name,
		      mg_dtype_name(y->dtype), mg_dtype_name(want->dtype));
		if (golden_same_shape(y, want)) {
			struct tol t = tolerance(d->name, want->dtype);
			int64_t bad = golden_compare(name, y, want, t.atol, t.rtol,
						     &st->max_err[op_slot(d->name)]);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		CHECK(!x->meta || (y->meta && !memcmp(y->meta->affine, x->meta->affine,
						      sizeof x->meta->affine)),
		      "%s: the output lost the input's meta", name);
		golden_check_infer(name, d, a, x, y);
	}
	CHECK(golden_compare(name, x, &before, 0, 0, NULL) == 0, "%s: the kernel wrote into "
	      "its input", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
	st->ncases++;
}

static void test_goldens(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	if (!doc)
		return;
	struct stats st = {0};
	int n = golden_run_cases(doc, GOLDEN, NULL, run_case, &st);
	CHECK(n == cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")), "ran %d cases", n);
	printf("%d MONAI cases; max errors: Activations %.3g, AsDiscrete %.3g, LabelToContour "
	       "%.3g, MeanEnsemble %.3g, label ops %.3g\n", st.ncases, st.max_err[0],
	       st.max_err[1], st.max_err[2], st.max_err[3], st.max_err[15]);
	cJSON_Delete(doc);
}

/* ---- labelling against counts that need no labeller ---------------------------------- */

/* A 3D checkerboard ((i + j + k) even): with face connectivity every foreground voxel is
 * its own component, numbered in memory order; with edges (2) or full (3) the whole
 * board is one. Also a 2D board, and an empty and a full volume. */
static void test_label_counts(void)
{
	const int64_t dims[3] = {64, 48, 40};
	int64_t n = dims[0] * dims[1] * dims[2];
	uint8_t *m = malloc((size_t)n);
	int32_t *l = malloc((size_t)n * sizeof *l);
	CHECK(m && l);
	if (!m || !l)
		return;
	for (int64_t i = 0; i < n; i++)
		m[i] = (i / (dims[1] * dims[2]) + i / dims[2] % dims[1] + i % dims[2]) % 2 == 0;
	struct mg_err e = {0};
	int32_t count;
	CHECK_OK(mg_components_label(m, 3, dims, 1, l, &count, &e), &e);
	CHECK(count == n / 2, "checkerboard, faces: %d components, want %lld", count,
	      (long long)(n / 2));
	int32_t next = 0, ordered = 1;
	for (int64_t i = 0; i < n; i++)
		if (m[i])
			ordered &= l[i] == ++next;
	CHECK(ordered, "components are not numbered in memory order");
	for (int conn = 2; conn <= 3; conn++) {
		CHECK_OK(mg_components_label(m, 3, dims, conn, l, &count, &e), &e);
		CHECK(count == 1, "checkerboard, connectivity %d: %d components", conn, count);
	}
	const int64_t d2[2] = {31, 17};
	int64_t fg = 0;
	for (int64_t i = 0; i < 31 * 17; i++)
		fg += m[i] = (i / 17 + i % 17) % 2 == 0;
	CHECK_OK(mg_components_label(m, 2, d2, 1, l, &count, &e), &e);
	CHECK(count == fg, "2D checkerboard, faces: %d components, want %lld", count,
	      (long long)fg);
	CHECK_OK(mg_components_label(m, 2, d2, 2, l, &count, &e), &e);
	CHECK(count == 1, "2D checkerboard, full: %d components", count);
	memset(m, 0, (size_t)n);
	CHECK_OK(mg_components_label(m, 3, dims, 3, l, &count, &e), &e);
	CHECK(count == 0, "empty volume: %d components", count);
	memset(m, 1, (size_t)n);
	CHECK_OK(mg_components_label(m, 3, dims, 1, l, &count, &e), &e);
	CHECK(count == 1, "full volume: %d components", count);
	free(m);
	free(l);
}

/* ---- errors -------------------------------------------------------------------------- */

/* Op `op` with JSON args on a float32 image of dims (values 0..n-1 mod `mod`) must fail
 * with a message holding `want1` and `want2`, at parsing, type inference or run time. */
static void expect_error(const char *op, const char *json, int rank, const int64_t *dims,
			 int mod, const char *want1, const char *want2)
{
	const struct mg_opdef *d = golden_op(op);
	CHECK(d != NULL, "no op %s", op);
	if (!d)
		return;
	struct mg_tensor x;
	golden_image(&x, rank, dims, NULL);
	float *p = mg_tensor_data(&x);
	for (int64_t i = 0; i < mg_tensor_numel(&x); i++)
		p[i] = (float)((int64_t)p[i] % mod);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	int rc = golden_parse_text(d, json, &arena, a, &e);
	if (!rc) {
		struct mg_type in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32,
						      .rank = rank}},
			       out;
		memcpy(in[0].dims, dims, (size_t)rank * sizeof *dims);
		rc = d->infer(a, in, &out, &e);
		struct mg_err e2 = {0};
		struct mg_val vin[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = x}}, vout = {0};
		struct mg_kctx k = {.err = &e2};
		int rc2 = d->ref(a, vin, &vout, &k);
		mg_val_release(&vout);
		if (!rc) {
			rc = rc2;
			e = e2;
		}
	}
	CHECK(rc != 0, "%s %s: accepted", op, json);
	CHECK(strstr(e.msg, want1) && strstr(e.msg, want2), "%s %s: message '%s' lacks '%s' / "
	      "'%s'", op, json, e.msg, want1, want2);
	mg_arena_free(&arena);
	mg_tensor_release(&x);
}

static void test_errors(void)
{
	const int64_t d2[] = {3, 6, 5}, d3[] = {1, 4, 4, 3}, e3[] = {4, 1, 3, 3};
	expect_error("Activations", "{\"other\": {\"_target_\": \"torch.nn.Softmin\"}}", 3, d2, 7,
		     "'other'", "torch.nn.Tanh");
	expect_error("Activations", "{\"other\": \"$lambda x: x\"}", 3, d2, 7, "'other'",
		     "expected one of");
	expect_error("Activations", "{\"other\": {\"_target_\": \"torch.nn.Tanh\", \"x\": 1}}", 3,
		     d2, 7, "'other'", "_target_");
	expect_error("Activations", "{\"softmax\": true, \"dim\": 3}", 3, d2, 7, "Activations",
		     "'dim'");
	expect_error("AsDiscrete", "{\"to_onehot\": 3}", 3, d2, 3, "AsDiscrete", "to_onehot");
	expect_error("AsDiscrete", "{\"to_onehot\": 2}", 3, (const int64_t[]){1, 4, 4}, 3,
		     "AsDiscrete", "to_onehot=2");
	expect_error("AsDiscrete", "{\"threshold\": 0.5, \"rounding\": \"torchrounding\"}", 3,
		     d2, 3, "AsDiscrete", "'rounding'");
	expect_error("AsDiscrete", "{\"rounding\": \"floor\"}", 3, d2, 3, "'rounding'",
		     "torchrounding");
	expect_error("AsDiscrete", "{\"argmax\": true, \"dim\": -4}", 3, d2, 3, "AsDiscrete",
		     "'dim'");
	expect_error("KeepLargestConnectedComponent", "{\"connectivity\": 3}", 3, d2, 2,
		     "KeepLargestConnectedComponent", "'connectivity'");
	expect_error("KeepLargestConnectedComponent", "{\"connectivity\": 0}", 4, d3, 2,
		     "KeepLargestConnectedComponent", "'connectivity'");
	expect_error("KeepLargestConnectedComponent", "{\"applied_labels\": [5]}", 3, d2, 2,
		     "KeepLargestConnectedComponent", "applied_labels");
	expect_error("KeepLargestConnectedComponent", "{\"is_onehot\": false}", 3, d2, 2,
		     "KeepLargestConnectedComponent", "1 channel");
	expect_error("KeepLargestConnectedComponent", "{\"num_components\": -1}", 3, d2, 2,
		     "KeepLargestConnectedComponent", "'num_components'");
	expect_error("RemoveSmallObjects", "{\"connectivity\": 5}", 4, d3, 2, "RemoveSmallObjects",
		     "'connectivity'");
	expect_error("FillHoles", "{\"connectivity\": -1}", 3, d2, 2, "FillHoles",
		     "'connectivity'");
	expect_error("FillHoles", "{\"applied_labels\": [1, 7]}", 3, d2, 2, "FillHoles",
		     "applied_labels");
	expect_error("LabelToContour", "{\"kernel_type\": \"Sobel\"}", 3, d2, 2, "'kernel_type'",
		     "Laplace");
	expect_error("LabelToContour", "{}", 2, d2, 2, "LabelToContour", "2D or 3D");
	expect_error("MeanEnsemble", "{\"weights\": [1, 2]}", 4, e3, 5, "MeanEnsemble",
		     "'weights'");
	expect_error("VoteEnsemble", "{\"num_classes\": 2}", 4, e3, 3, "VoteEnsemble",
		     "num_classes=2");
	expect_error("LabelFilter", "{}", 3, d2, 3, "LabelFilter", "applied_labels");
}

/* RemoveSmallObjects refuses negative labels (values above 1 are labels), as skimage,
 * and a pixdim of the wrong length. */
static void test_rso_errors(void)
{
	const int64_t d[] = {1, 4, 3};
	struct mg_tensor x;
	golden_image(&x, 3, d, NULL);
	((float *)mg_tensor_data(&x))[0] = -2;
	struct mg_tensor y = {0};
	struct mg_err e = {0};
	int rc = golden_apply(golden_op("RemoveSmallObjects"), "{\"min_size\": 2}", &x, &y, &e);
	CHECK(rc != 0 && strstr(e.msg, "RemoveSmallObjects") && strstr(e.msg, "negative"),
	      "negative labels: %s", e.msg);
	mg_tensor_release(&y);
	/* pixdim matters (and is checked) only for an image without meta, as in MONAI */
	mg_meta_release(x.meta);
	x.meta = NULL;
	mg_err_clear(&e);
	rc = golden_apply(golden_op("RemoveSmallObjects"),
			  "{\"by_measure\": true, \"pixdim\": [1, 2, 3]}", &x, &y, &e);
	CHECK(rc != 0 && strstr(e.msg, "RemoveSmallObjects") && strstr(e.msg, "'pixdim'"),
	      "pixdim: %s", e.msg);
	mg_tensor_release(&y);
	mg_tensor_release(&x);
}

int main(void)
{
	test_goldens();
	test_label_counts();
	test_errors();
	test_rso_errors();
	return check_done();
}
