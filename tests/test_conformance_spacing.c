/* test_conformance_spacing.c: Spacing against MONAI's own outputs, and its argument
 * errors. Cases live in tests/golden/spacing/cases.json (tools/golden/gen_spacing.py):
 * each has the JSON arguments, an input .npy with its 4x4 affine, and what MONAI 1.6.1
 * made of it: output .npy, affine, spatial shape and the voxel map (out_to_in) that
 * MONAI's lazy mode records for the same call.
 * Per case, first the grid alone (ops/spacing.c's .grid: no voxels move): shape exact,
 * affine within 1e-6, out_to_in within 1e-9 (exactly the identity where MONAI returned
 * the input as is). Then the reference kernel (mg_spatial_apply -> mg_resample): float32
 * output, values under the tolerance below, meta affine = the grid's, an applied-ops
 * entry, the type rule agreeing, and the input left untouched. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/spacing/"

static const struct mg_opdef *spacing_op(void)
{
	return mg_ops[MG_OP_Spacing];
}

/* Value tolerance, and why.
 * nearest: exact. The cases keep every sampled coordinate >= 1e-6 from a rounding tie
 * (the generator checks), so both pick the same voxel and copy it.
 * linear/cubic: MONAI (torch grid_sample in float64, then a float32 cast) and mgc (float64
 * voxel coordinates, float64 weights and sums, one float32 rounding) differ before the
 * cast by ~1e-13 relative (normalised vs voxel coordinates, summation order); after it
 * by at most one float32 ulp where a value lands near a rounding boundary. Values here
 * stay below ~800 (ulp 6.1e-5), hence atol 1e-4, plus one ulp relative for safety.
 * dtype float32 (MONAI computes the grid and the weights in float32, mgc always in
 * float64): the float32 grid is off by ~1e-7 relative, times gradients of a few units
 * per voxel on the [-4, 4] data of that case: 2e-4. */
static double tolerance(const cJSON *args, double *rtol)
{
	const cJSON *mode = cJSON_GetObjectItem(args, "mode");
	const cJSON *dtype = cJSON_GetObjectItem(args, "dtype");
	*rtol = 0;
	if (cJSON_IsString(mode) && !strcmp(mode->valuestring, "nearest"))
		return 0;
	*rtol = 1.2e-7;
	if (cJSON_IsString(dtype) && !strcmp(dtype->valuestring, "float32"))
		return 2e-4;
	return 1e-4;
}

/* The grid alone: shape, affine and voxel map against MONAI's. */
static void check_grid(const char *name, const cJSON *c, const struct mg_attr *a,
		       const struct mg_tensor *x)
{
	struct mg_grid g;
	struct mg_err e = {0};
	mg_grid_identity(&g, x);
	int rc = spacing_op()->grid(a, x, &g, &e);
	CHECK(rc == 0, "%s: grid failed: %s", name, e.msg);
	if (rc)
		return;
	const cJSON *shape = cJSON_GetObjectItem(c, "out_shape");
	CHECK(cJSON_GetArraySize(shape) == g.sdim, "%s: sdim %d", name, g.sdim);
	for (int i = 0; i < g.sdim; i++)
		CHECK(g.out_shape[i] == (int64_t)cJSON_GetArrayItem(shape, i)->valuedouble,
		      "%s: out_shape[%d] = %lld, MONAI has %d", name, i,
		      (long long)g.out_shape[i], cJSON_GetArrayItem(shape, i)->valueint);
	double want[4][4], xf[4][4], eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0},
						 {0, 0, 0, 1}};
	golden_matrix(cJSON_GetObjectItem(c, "out_affine"), want);
	double d = golden_max_diff(g.affine, want);
	CHECK(d <= 1e-6, "%s: affine differs from MONAI's by %g", name, d);
	golden_matrix(cJSON_GetObjectItem(c, "out_to_in"), xf);
	if (cJSON_IsTrue(cJSON_GetObjectItem(c, "identity"))) {
		/* MONAI returned the input as is: the grid must be exactly the identity (a
		 * view), though MONAI's lazy xform is only within AFFINE_TOL of it */
		CHECK(golden_max_diff(g.out_to_in, eye) == 0, "%s: not an exact identity grid", name);
		CHECK(golden_max_diff(xf, eye) <= 1.1e-3, "%s: MONAI's xform is not ~identity", name);
	} else {
		d = golden_max_diff(g.out_to_in, xf);
		CHECK(d <= 1e-9, "%s: out_to_in differs from MONAI's by %g", name, d);
	}
	CHECK(g.in_shape[0] == x->dims[1], "%s: in_shape", name);
}

/* One of MONAI's cases: the input's affine, the grid alone, then the kernel (float32
 * values under tolerance(), meta affine within 1e-6). */
static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	double aff[4][4], rtol, atol = tolerance(cJSON_GetObjectItem(c, "args"), &rtol);
	golden_matrix(cJSON_GetObjectItem(c, "in_affine"), aff);
	golden_attach_affine(x, aff);
	if (!x->meta)
		return;
	check_grid(name, c, a, x);
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){atol, rtol, ctx, 1e-6, MG_DTYPE_F32, -1});
}

static void run_cases(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	double max_err = 0;
	int n = golden_run_cases(doc, GOLDEN, spacing_op(), one_case, &max_err);
	printf("%d cases, largest value difference %.3g\n", n, max_err);
	cJSON_Delete(doc);
}

/* An argument set that parses but is refused by the type rule and by the grid. */
static void refused(const char *json, const char *needle)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(spacing_op(), json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, needle);
	struct mg_tensor x;
	golden_image(&x, 4, (const int64_t[]){1, 4, 3, 2}, NULL);
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	CHECK_FAILS(spacing_op()->grid(a, &x, &g, &e), &e, needle);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

static void test_errors(void)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	/* the parser names the argument */
	static const char *const bad[][2] = {
		{"{}", "'pixdim'"},
		{"{\"pixdim\": \"1.5\"}", "'pixdim'"},
		{"{\"pixdim\": [1.0, null]}", "'pixdim'"},
		{"{\"pixdim\": null}", "'pixdim'"},
		{"{\"pixdim\": 1, \"mode\": \"trilinear\"}", "'mode'"},
		{"{\"pixdim\": 1, \"padding_mode\": \"edge\"}", "'padding_mode'"},
		{"{\"pixdim\": 1, \"diagonal\": 1}", "'diagonal'"},
		{"{\"pixdim\": 1, \"dtype\": \"float33\"}", "'dtype'"},
		{"{\"pixdim\": 1, \"min_pixdim\": \"a\"}", "'min_pixdim'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_FAILS(golden_parse_text(spacing_op(), bad[i][0], &arena, a, &e), &e, bad[i][1]);
	/* the op's own checks, in infer and in the grid alike */
	refused("{\"pixdim\": []}", "'pixdim' is empty");
	refused("{\"pixdim\": 1, \"mode\": 3}", "'mode'");
	refused("{\"pixdim\": 1, \"min_pixdim\": [2.0], \"max_pixdim\": [1.0]}", "'min_pixdim'");
	refused("{\"pixdim\": 1, \"min_pixdim\": [-1.0], \"max_pixdim\": [1.0]}", "'min_pixdim'");
	/* NaN does not come through JSON; the op refuses it all the same */
	CHECK_OK(golden_parse_text(spacing_op(), "{\"pixdim\": [1.0, 2.0]}", &arena, a, &e), &e);
	((double *)a[0].v.floats)[1] = NAN;
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "'pixdim'");
	((double *)a[0].v.floats)[1] = INFINITY;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "'pixdim'");
	/* wrong inputs */
	CHECK_OK(golden_parse_text(spacing_op(), "{\"pixdim\": 1.5}", &arena, a, &e), &e);
	in.kind = MG_VK_STRINGS;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "LoadImage");
	in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 2};
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "EnsureChannelFirst");
	struct mg_tensor x;
	golden_image(&x, 2, (const int64_t[]){1, 4, 3, 2}, NULL);
	struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(spacing_op()->ref(a, &v, &o, &k), &e, "EnsureChannelFirst");
	mg_tensor_release(&x);
	/* a singular affine (a zero column): MONAI's Cholesky fails too */
	golden_image(&x, 4, (const int64_t[]){1, 4, 3, 2}, NULL);
	x.meta->affine[0][1] = x.meta->affine[1][1] = x.meta->affine[2][1] = 0;
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	CHECK_FAILS(spacing_op()->grid(a, &x, &g, &e), &e, "singular");
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

/* The dict form: per-key values, and defaults that MONAI's None stands for. */
static void test_per_key(void)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	cJSON *j = cJSON_Parse("{\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", "
			       "\"nearest\"], \"padding_mode\": [\"zeros\", null], "
			       "\"align_corners\": [true, null]}");
	CHECK_OK(mg_attrs_parse(spacing_op(), j, 1, 2, NULL, &arena, a, &e), &e);
	struct mg_tensor x;
	golden_image(&x, 4, (const int64_t[]){1, 4, 3, 2}, NULL);
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	CHECK_OK(spacing_op()->grid(a, &x, &g, &e), &e);
	CHECK(g.mode == MG_INTERP_NEAREST && g.padding == MG_PAD_BORDER && !g.align_corners,
	      "second key: nearest, border (null: the default), align_corners false");
	/* z: extent 1 / 2 + 1 = 1.5 rounds half to even (numpy.round), as MONAI gives */
	CHECK(g.out_shape[0] == 3 && g.out_shape[1] == 2 && g.out_shape[2] == 2,
	      "(4, 3, 2) at spacing 1 -> (1.5, 1.5, 2): MONAI gives (3, 2, 2)");
	CHECK_OK(mg_attrs_parse(spacing_op(), j, 0, 2, NULL, &arena, a, &e), &e);
	mg_grid_identity(&g, &x);
	CHECK_OK(spacing_op()->grid(a, &x, &g, &e), &e);
	CHECK(g.mode == MG_INTERP_LINEAR && g.padding == MG_PAD_ZEROS && g.align_corners,
	      "first key: bilinear, zeros, align_corners");
	mg_tensor_release(&x);
	cJSON_Delete(j);
	mg_arena_free(&arena);
}

int main(void)
{
	CHECK(spacing_op()->flags & MG_OPF_SPATIAL);
	test_errors();
	test_per_key();
	run_cases();
	return check_done();
}
