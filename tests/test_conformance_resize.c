/* test_conformance_resize.c: Resize, Zoom and ResizeWithPadOrCrop against MONAI's own
 * outputs, their argument errors, and which of them the fuse-spatial pass may compose.
 * Cases live in tests/golden/resize/cases.json (tools/golden/gen_resize.py): each names
 * the op, its JSON arguments, an input .npy with its 4x4 affine, and what MONAI 1.6.1
 * made of it: output .npy, output affine and the voxel map its lazy mode records.
 * Per case, the grid alone (with Zoom's second step composed, as FusedSpatial would):
 * shape exact, out_to_in within 1e-9 and affine within 1e-6 of MONAI's; then the
 * reference kernel: shape, dtype (float32; ResizeWithPadOrCrop keeps the input's),
 * values under the tolerance below, meta affine within 1e-6, an applied-ops entry, the
 * type rule agreeing, the input untouched. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/resize/"

/* Value tolerance classes, and why (the largest errors seen are printed).
 * exact: ResizeWithPadOrCrop copies voxels; nearest and nearest-exact copy the voxel
 *   torch's float32 index rule picks (reproduced bit for bit), and an unchanged shape
 *   returns the input.
 * area: torch sums the box in float32, mgc in float64 with one rounding at the end:
 *   a few float32 ulps of the box values (|x| < 1000 here: ulp 6.1e-5); seen 3.8e-6,
 *   tolerance 1e-4.
 * linear and cubic, float32 compute (MONAI's default): torch computes the source
 *   coordinate and weights in float32, mgc in float64: the coordinate is off by up to
 *   ~1e-6 voxels (float32 rounding of o * scale), times gradients of up to ~2000 per
 *   voxel on the random data here (int16 inputs span [-1000, 1000)); seen 9.2e-4,
 *   tolerance 2e-3.
 * float64 compute: both in float64, one float32 rounding: 1 ulp relative (seen 4.8e-7
 *   on values up to 50). */
enum { EXACT, AREA, LINEAR, F64, NCLASS };
static const char *const class_name[NCLASS] = {"exact", "area", "linear/cubic", "float64"};
static const double class_atol[NCLASS] = {0, 1e-4, 2e-3, 0};

static int tol_class(const char *op, const cJSON *args)
{
	const cJSON *mode = cJSON_GetObjectItem(args, "mode");
	const char *m = cJSON_IsString(mode) ? mode->valuestring : "area";
	const cJSON *dtype = cJSON_GetObjectItem(args, "dtype");
	if (!strcmp(op, "ResizeWithPadOrCrop") || !strncmp(m, "nearest", 7))
		return EXACT;
	if (cJSON_IsString(dtype) && !strcmp(dtype->valuestring, "float64"))
		return F64;
	return !strcmp(m, "area") ? AREA : LINEAR;
}


static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	double *max_err = ctx;
	struct mg_grid g;
	if (golden_grid_shape(name, d, a, x, want, &g))
		return;
	double m[4][4];
	golden_matrix(cJSON_GetObjectItem(c, "out_to_in"), m);
	CHECK(golden_max_diff(g.out_to_in, m) <= 1e-9, "%s: out_to_in differs from MONAI's by "
	      "%g", name, golden_max_diff(g.out_to_in, m));
	golden_matrix(cJSON_GetObjectItem(c, "out_affine"), m);
	CHECK(golden_max_diff(g.affine, m) <= 1e-6, "%s: affine differs from MONAI's by %g",
	      name, golden_max_diff(g.affine, m));
	int k = tol_class(d->name, cJSON_GetObjectItem(c, "args"));
	int keep = !strcmp(d->name, "ResizeWithPadOrCrop");
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){.atol = class_atol[k],
						   .rtol = k == F64 ? 1.2e-7 : 0,
						   .max_err = &max_err[k], .affine_tol = 1e-6,
						   .dtype = keep ? -1 : MG_DTYPE_F32, .view = -1});
}

static void run_cases(const cJSON *doc)
{
	double max_err[NCLASS] = {0};
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")) > 200, "too few cases");
	int n = golden_run_cases(doc, GOLDEN, NULL, one_case, max_err);
	printf("%d cases; largest value differences:", n);
	for (int k = 0; k < NCLASS; k++)
		printf(" %s %.3g (tolerance %.3g)%s", class_name[k], max_err[k], class_atol[k],
		       k + 1 < NCLASS ? "," : "\n");
}

/* ---- errors ------------------------------------------------------------------------------ */

static void refused(const char *op, int rank, const char *json, const char *needle,
		    int infer_too)
{
	golden_refused(golden_op(op), rank, json, needle, infer_too);
}

static void test_errors(void)
{
	refused("Resize", 4, "{\"spatial_size\": [4, 4]}", "has 2 entries", 1);
	refused("Resize", 4, "{\"spatial_size\": 4}", "has 1 entries", 1);
	refused("Resize", 3, "{\"spatial_size\": [4, 4, 4]}", "has 3 entries", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 4], \"size_mode\": \"longest\"}",
		"must be an int number", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 4, 4], \"mode\": \"bicubic\"}",
		"needs a 2D image", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 4, 4], \"align_corners\": false}",
		"align_corners can only be set", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 4, 4], \"mode\": \"nearest\", "
		"\"align_corners\": true}", "not with mode 'nearest'", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 4, 4], \"dtype\": \"int16\"}",
		"dtype int16 is not supported", 1);
	refused("Resize", 4, "{\"spatial_size\": [4, 2, 2], \"anti_aliasing\": true}",
		"anti_aliasing is not supported", 0);
	refused("Zoom", 4, "{\"zoom\": [1.5, 2]}", "zoom has 2 entries", 1);
	refused("Zoom", 4, "{\"zoom\": -1}", "expected a positive number", 1);
	refused("Zoom", 4, "{\"zoom\": 0.1}", "voxels long", 0);
	refused("Zoom", 4, "{\"zoom\": 0.5, \"padding_mode\": \"wrap\"}",
		"mode 'wrap' is not supported", 1);
	refused("Zoom", 4, "{\"zoom\": 0.5, \"padding_mode\": \"zeros\"}",
		"'zeros' is not a padding mode", 1);
	refused("Zoom", 3, "{\"zoom\": 1.5, \"mode\": \"area\", \"align_corners\": true}",
		"align_corners can only be set", 1);
	refused("Zoom", 4, "{\"zoom\": 0.5, \"padding_mode\": \"reflect\"}",
		"torch's reflect padding", 0);
	refused("ResizeWithPadOrCrop", 4, "{\"spatial_size\": [4, 4]}", "has 2 entries", 1);
	refused("ResizeWithPadOrCrop", 4, "{\"spatial_size\": 9, \"mode\": \"circular\"}",
		"mode 'circular' is not supported", 1);
	refused("ResizeWithPadOrCrop", 4, "{\"spatial_size\": 4, \"value\": 2}",
		"value=2 is not supported", 1);
	/* the resampler: torch.interpolate's modes read axis by axis, never a permuted map */
	struct mg_err e = {0};
	struct mg_tensor x, y;
	struct mg_grid g;
	golden_small_image(&x, 3);
	mg_grid_identity(&g, &x);
	double swap[4][4] = {{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	mg_grid_map(&g, swap);
	g.out_shape[0] = 4, g.out_shape[1] = 5;
	g.mode = MG_INTERP_AREA;
	CHECK_FAILS(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e, "mixes axes 0 and 1");
	mg_tensor_release(&x);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	CHECK_FAILS(golden_parse_text(golden_op("Resize"), "{\"spatial_size\": 4, \"mode\": "
				      "\"cubic\"}", &arena, a, &e), &e, "'mode'");
	CHECK_FAILS(golden_parse_text(golden_op("Resize"), "{\"spatial_size\": 4, "
				      "\"size_mode\": \"shortest\"}", &arena, a, &e), &e,
		    "'size_mode'");
	CHECK_FAILS(golden_parse_text(golden_op("Zoom"), "{}", &arena, a, &e), &e, "zoom");
	mg_arena_free(&arena);
}

/* ---- fusion barriers ------------------------------------------------------------------------ */

/* Which nodes the fuse-spatial pass may compose: the barrier hook on the parsed
 * arguments. */
static void barrier(const char *op, const char *json, int want)
{
	const struct mg_opdef *d = golden_op(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, json, &arena, a, &e), &e);
	CHECK(d->barrier && d->barrier(a) == want, "%s %s: barrier should be %d", op, json, want);
	mg_arena_free(&arena);
}

static void test_barriers(void)
{
	barrier("Resize", "{\"spatial_size\": 4}", 1); /* area, the default */
	barrier("Resize", "{\"spatial_size\": 4, \"mode\": \"nearest\"}", 1);
	barrier("Resize", "{\"spatial_size\": 4, \"mode\": \"nearest-exact\"}", 1);
	barrier("Resize", "{\"spatial_size\": 4, \"mode\": \"trilinear\"}", 0);
	barrier("Resize", "{\"spatial_size\": 4, \"mode\": \"bilinear\", \"align_corners\": "
		"true}", 0);
	barrier("Resize", "{\"spatial_size\": 4, \"mode\": \"bicubic\"}", 0);
	barrier("Zoom", "{\"zoom\": 1.5}", 1);
	barrier("Zoom", "{\"zoom\": 1.5, \"mode\": \"trilinear\"}", 0);
	barrier("Zoom", "{\"zoom\": [1.5, 0.9, 1], \"mode\": \"trilinear\"}", 1); /* pads */
	barrier("Zoom", "{\"zoom\": 0.5, \"mode\": \"trilinear\", \"keep_size\": false}", 0);
	CHECK(golden_op("ResizeWithPadOrCrop")->flags & MG_OPF_PADS, "ResizeWithPadOrCrop pads");
}

int main(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	test_errors();
	test_barriers();
	if (doc)
		run_cases(doc);
	cJSON_Delete(doc);
	return check_done();
}
