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
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "../runtime/arena.h"
#include "check.h"
#include "npy.h"

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

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = 0;
	fclose(f);
	return s;
}

static void matrix(const cJSON *j, double m[4][4])
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			m[r][c] = cJSON_GetArrayItem(cJSON_GetArrayItem(j, r), c)->valuedouble;
}

static double max_diff(const double a[4][4], const double b[4][4])
{
	double d = 0;
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			d = fmax(d, fabs(a[r][c] - b[r][c]));
	return d;
}

/* Values index by index (any strides); returns mismatches, prints the first few. */
static int64_t compare(const char *name, const struct mg_tensor *got,
		       const struct mg_tensor *want, double atol, double rtol, double *max_err)
{
	if (mg_tensor_numel(want) == 0)
		return 0;
	size_t sg = mg_dtype_size(got->dtype), sw = mg_dtype_size(want->dtype);
	const char *pg = mg_tensor_data(got), *pw = mg_tensor_data(want);
	struct mg_iter it;
	mg_iter_init(&it, want->rank, want->dims, 2,
		     (const int64_t *[]){got->strides, want->strides});
	int64_t bad = 0, i = 0;
	do {
		double g = mg_dtype_load(got->dtype, pg + it.off[0] * (int64_t)sg);
		double w = mg_dtype_load(want->dtype, pw + it.off[1] * (int64_t)sw);
		double err = fabs(g - w);
		if (max_err && err > *max_err)
			*max_err = err;
		if (!(err <= atol + rtol * fabs(w))) {
			if (bad < 5)
				fprintf(stderr, "  %s: element %lld is %.9g, MONAI has %.9g\n",
					name, (long long)i, g, w);
			bad++;
		}
		i++;
	} while (mg_iter_next(&it));
	return bad;
}

static int parse_args(const cJSON *args, struct mg_arena *arena, struct mg_attr *a,
		      struct mg_err *e)
{
	return mg_attrs_parse(spacing_op(), args, -1, 1, NULL, arena, a, e);
}

static void attach_affine(struct mg_tensor *x, const double aff[4][4])
{
	x->meta = mg_meta_new();
	CHECK(x->meta != NULL);
	if (!x->meta)
		return;
	memcpy(x->meta->affine, aff, sizeof x->meta->affine);
	x->meta->sdim = x->rank - 1;
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
	matrix(cJSON_GetObjectItem(c, "out_affine"), want);
	double d = max_diff(g.affine, want);
	CHECK(d <= 1e-6, "%s: affine differs from MONAI's by %g", name, d);
	matrix(cJSON_GetObjectItem(c, "out_to_in"), xf);
	if (cJSON_IsTrue(cJSON_GetObjectItem(c, "identity"))) {
		/* MONAI returned the input as is: the grid must be exactly the identity (a
		 * view), though MONAI's lazy xform is only within AFFINE_TOL of it */
		CHECK(max_diff(g.out_to_in, eye) == 0, "%s: not an exact identity grid", name);
		CHECK(max_diff(xf, eye) <= 1.1e-3, "%s: MONAI's xform is not ~identity", name);
	} else {
		d = max_diff(g.out_to_in, xf);
		CHECK(d <= 1e-9, "%s: out_to_in differs from MONAI's by %g", name, d);
	}
	CHECK(g.in_shape[0] == x->dims[1], "%s: in_shape", name);
}

/* The op's type rule must describe what its kernel made. */
static void check_infer(const char *name, const struct mg_attr *a, const struct mg_tensor *x,
			const struct mg_tensor *y)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank};
	struct mg_type out = {0};
	memcpy(in.dims, x->dims, sizeof in.dims);
	struct mg_err e = {0};
	CHECK_OK(spacing_op()->infer(a, &in, &out, &e), &e);
	CHECK(out.kind == MG_VK_TENSOR && out.dtype == (int)y->dtype && out.rank == y->rank,
	      "%s: infer says %s rank %d", name, mg_dtype_name(out.dtype), out.rank);
	CHECK(out.dims[0] == y->dims[0], "%s: infer's channel count", name);
	for (int i = 1; i < out.rank; i++)
		CHECK(out.dims[i] < 0 || out.dims[i] == y->dims[i], "%s: infer dim %d", name, i);
}

/* The reference kernel against MONAI's values. */
static void check_values(const char *name, const cJSON *c, const struct mg_attr *a,
			 struct mg_tensor *x, const struct mg_tensor *want, double *max_err)
{
	struct mg_err e = {0};
	struct mg_tensor before;
	CHECK_OK(mg_tensor_contiguous(&before, x, &e), &e);
	double aff_before[4][4];
	memcpy(aff_before, x->meta->affine, sizeof aff_before);
	int napplied = x->meta->napplied;
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = spacing_op()->ref(a, &in, &out, &k);
	CHECK(rc == 0, "%s: Spacing failed: %s", name, e.msg);
	if (rc == 0) {
		const struct mg_tensor *y = &out.t;
		int same = y->rank == want->rank;
		for (int i = 0; same && i < y->rank; i++)
			same = y->dims[i] == want->dims[i];
		CHECK(same, "%s: output shape differs from MONAI's", name);
		CHECK(y->dtype == MG_DTYPE_F32, "%s: output dtype %s, MONAI's is float32", name,
		      mg_dtype_name(y->dtype));
		if (same) {
			double rtol, atol = tolerance(cJSON_GetObjectItem(c, "args"), &rtol);
			int64_t bad = compare(name, y, want, atol, rtol, max_err);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		double aff[4][4];
		matrix(cJSON_GetObjectItem(c, "out_affine"), aff);
		CHECK(y->meta && max_diff(y->meta->affine, aff) <= 1e-6,
		      "%s: output meta affine differs from MONAI's", name);
		CHECK(y->meta && y->meta->napplied == napplied + 1 &&
			      !strcmp(y->meta->applied[napplied].op, "Spacing") &&
			      y->meta->applied[napplied].orig_shape[0] == x->dims[1],
		      "%s: no applied-operations entry", name);
		check_infer(name, a, x, y);
	}
	CHECK(compare(name, x, &before, 0, 0, NULL) == 0, "%s: the kernel wrote into its input",
	      name);
	CHECK(!memcmp(aff_before, x->meta->affine, sizeof aff_before) &&
		      x->meta->napplied == napplied,
	      "%s: the kernel changed the input's meta", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
}

static int run_cases(void)
{
	char *text = read_text(GOLDEN "cases.json");
	CHECK(text != NULL, "cannot read " GOLDEN "cases.json");
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
	CHECK(cJSON_GetArraySize(cases) > 0, "no cases");
	const cJSON *ver = cJSON_GetObjectItem(doc, "versions");
	if (ver)
		printf("golden cases from MONAI %s, torch %s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "monai")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "torch")));
	double max_err = 0;
	int n = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		int rc = parse_args(cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		char pin[1024], pout[1024];
		snprintf(pin, sizeof pin, GOLDEN "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(c, "input")));
		snprintf(pout, sizeof pout, GOLDEN "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(c, "output")));
		struct mg_tensor x, want;
		int rin = npy_read(pin, &x, &e), rout = rin ? -1 : npy_read(pout, &want, &e);
		CHECK(rin == 0 && rout == 0, "%s: %s", name, e.msg);
		if (rc == 0 && rin == 0 && rout == 0) {
			double aff[4][4];
			matrix(cJSON_GetObjectItem(c, "in_affine"), aff);
			attach_affine(&x, aff);
			if (x.meta) {
				check_grid(name, c, a, &x);
				check_values(name, c, a, &x, &want, &max_err);
				n++;
			}
		}
		if (rin == 0)
			mg_tensor_release(&x);
		if (rout == 0)
			mg_tensor_release(&want);
		mg_arena_free(&arena);
	}
	printf("%d cases, largest value difference %.3g\n", n, max_err);
	cJSON_Delete(doc);
	return n;
}

/* A 1x4x3x2 float32 image with an identity affine. */
static void small_image(struct mg_tensor *x, int rank)
{
	int64_t dims[4] = {1, 4, 3, 2};
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(x, MG_DTYPE_F32, rank, dims, &e), &e);
	float *p = mg_tensor_data(x);
	for (int64_t i = 0; i < mg_tensor_numel(x); i++)
		p[i] = (float)i;
	x->meta = mg_meta_new();
	x->meta->sdim = rank - 1;
}

/* Arguments from JSON text; 0 when accepted. */
static int parse_text(const char *json, struct mg_arena *arena, struct mg_attr *a,
		      struct mg_err *e)
{
	cJSON *j = cJSON_Parse(json);
	CHECK(j != NULL, "bad test JSON %s", json);
	int rc = parse_args(j, arena, a, e);
	cJSON_Delete(j);
	return rc;
}

/* An argument set that parses but is refused by the type rule and by the grid. */
static void refused(const char *json, const char *needle)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(parse_text(json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, needle);
	struct mg_tensor x;
	small_image(&x, 4);
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
	CHECK_FAILS(parse_text("{}", &arena, a, &e), &e, "'pixdim'");
	CHECK_FAILS(parse_text("{\"pixdim\": \"1.5\"}", &arena, a, &e), &e, "'pixdim'");
	CHECK_FAILS(parse_text("{\"pixdim\": [1.0, null]}", &arena, a, &e), &e, "'pixdim'");
	CHECK_FAILS(parse_text("{\"pixdim\": null}", &arena, a, &e), &e, "'pixdim'");
	CHECK_FAILS(parse_text("{\"pixdim\": 1, \"mode\": \"trilinear\"}", &arena, a, &e), &e,
		    "'mode'");
	CHECK_FAILS(parse_text("{\"pixdim\": 1, \"padding_mode\": \"edge\"}", &arena, a, &e),
		    &e, "'padding_mode'");
	CHECK_FAILS(parse_text("{\"pixdim\": 1, \"diagonal\": 1}", &arena, a, &e), &e,
		    "'diagonal'");
	CHECK_FAILS(parse_text("{\"pixdim\": 1, \"dtype\": \"float33\"}", &arena, a, &e), &e,
		    "'dtype'");
	CHECK_FAILS(parse_text("{\"pixdim\": 1, \"min_pixdim\": \"a\"}", &arena, a, &e), &e,
		    "'min_pixdim'");
	/* the op's own checks, in infer and in the grid alike */
	refused("{\"pixdim\": []}", "'pixdim' is empty");
	refused("{\"pixdim\": 1, \"mode\": 3}", "'mode'");
	refused("{\"pixdim\": 1, \"mode\": \"bicubic\"}", "bicubic");
	refused("{\"pixdim\": 1, \"min_pixdim\": [2.0], \"max_pixdim\": [1.0]}", "'min_pixdim'");
	refused("{\"pixdim\": 1, \"min_pixdim\": [-1.0], \"max_pixdim\": [1.0]}", "'min_pixdim'");
	/* NaN does not come through JSON; the op refuses it all the same */
	CHECK_OK(parse_text("{\"pixdim\": [1.0, 2.0]}", &arena, a, &e), &e);
	((double *)a[0].v.floats)[1] = NAN;
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "'pixdim'");
	((double *)a[0].v.floats)[1] = INFINITY;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "'pixdim'");
	/* wrong inputs */
	CHECK_OK(parse_text("{\"pixdim\": 1.5}", &arena, a, &e), &e);
	in.kind = MG_VK_STRINGS;
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "LoadImage");
	in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 2};
	CHECK_FAILS(spacing_op()->infer(a, &in, &out, &e), &e, "EnsureChannelFirst");
	struct mg_tensor x;
	small_image(&x, 2);
	struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(spacing_op()->ref(a, &v, &o, &k), &e, "EnsureChannelFirst");
	mg_tensor_release(&x);
	/* a singular affine (a zero column): MONAI's Cholesky fails too */
	small_image(&x, 4);
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
	small_image(&x, 4);
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
