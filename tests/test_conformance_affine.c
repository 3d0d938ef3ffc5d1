/* test_conformance_affine.c: Affine and Rotate against MONAI's own outputs, and their
 * argument errors. Cases live in tests/golden/affine/cases.json (tools/golden/gen_affine.py):
 * each names the op, its JSON arguments, an input .npy with its 4x4 affine, and what
 * MONAI 1.6.1 made of it: output .npy, output affine, the voxel map it really sampled
 * with (fitted to the grid torch's grid_sample was given) and, for nearest, how many
 * output voxels sit within 1e-4 of a rounding tie.
 * Per case, first the grid alone: output shape exact, affine within 1e-6, out_to_in
 * within 1e-5 of MONAI's sampled map (on the output axes longer than 1, which alone move
 * a sample). Then the reference kernel: float32, values under tolerance() (nearest: exact
 * but for at most `ties` voxels), meta affine = MONAI's, an applied-ops entry, the type
 * rule agreeing, the input untouched. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/affine/"

/* Value tolerance, and why. MONAI's default dtype float32 computes the sampling grid and
 * the interpolation in float32; mgc computes in float64 from the same (float32-rounded)
 * matrix and rounds once. The grids differ by up to ~1e-6 voxel (the generator's fit_err,
 * float32 rounding of coordinates up to ~10), which moves a value by that times the
 * local gradient (at most the input's range per voxel), and float32 sums add a few ulps
 * of the values: atol = 2e-6 x the input's value range, rtol 1e-6 (the largest error
 * seen is 5.8e-7 x the range). dtype float64 cases
 * are MONAI in float64 throughout, so they meet the same bound with room to spare. */
static double tolerance(const struct mg_tensor *x, double *rtol)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t es = mg_dtype_size(x->dtype);
	struct mg_iter it;
	mg_iter_init(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides});
	const char *p = mg_tensor_data(x);
	do {
		double v = mg_dtype_load(x->dtype, p + it.off[0] * (int64_t)es);
		lo = fmin(lo, v);
		hi = fmax(hi, v);
	} while (mg_iter_next(&it));
	*rtol = 1e-6;
	return 2e-6 * (hi - lo);
}

struct stats {
	int n[2];           /* Affine, Rotate cases */
	double max_rel;     /* largest value error / input range (interpolating cases) */
	double max_map;     /* largest out_to_in difference */
	int64_t tie_diffs;  /* nearest voxels that differ (at ties) */
	int64_t ties;       /* tie voxels the generator counted */
};

/* The grid alone: shape, affine, sampled map. */
static void check_grid(const char *name, const struct mg_opdef *d, const cJSON *c,
		       const struct mg_attr *a, const struct mg_tensor *x,
		       const struct mg_tensor *want, struct stats *st)
{
	struct mg_grid g;
	if (golden_grid_shape(name, d, a, x, want, &g))
		return;
	double m[4][4];
	golden_matrix(cJSON_GetObjectItem(c, "out_affine"), m);
	double dm = golden_max_diff(g.affine, m);
	CHECK(dm <= 1e-6, "%s: affine differs from MONAI's by %g", name, dm);
	golden_matrix(cJSON_GetObjectItem(c, "out_to_in"), m);
	dm = 0;
	for (int i = 0; i < g.sdim; i++) {
		/* a size-1 input axis with align_corners reads index 0 whatever the map says
		 * (resample.c), as grid_sample does */
		if (g.in_shape[i] == 1 && g.align_corners)
			continue;
		dm = fmax(dm, fabs(g.out_to_in[i][3] - m[i][3]));
		for (int j = 0; j < g.sdim; j++)
			if (g.out_shape[j] > 1)
				dm = fmax(dm, fabs(g.out_to_in[i][j] - m[i][j]));
	}
	st->max_map = fmax(st->max_map, dm);
	CHECK(dm <= 1e-5, "%s: out_to_in differs from MONAI's sampled map by %g", name, dm);
}

/* Nearest with voxels at a rounding tie: exact everywhere else, so at most `ties`
 * voxels may differ. */
static void check_ties(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		       struct mg_tensor *x, const struct mg_tensor *want, int ties,
		       struct stats *st)
{
	struct mg_err e = {0};
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_OK(d->ref(a, &in, &out, &k), &e);
	if (out.kind != MG_VK_TENSOR)
		return;
	CHECK(golden_same_shape(&out.t, want) && out.t.dtype == MG_DTYPE_F32, "%s: shape/dtype",
	      name);
	if (golden_same_shape(&out.t, want)) {
		int64_t bad = golden_compare(name, &out.t, want, 0, 0, NULL);
		CHECK(bad <= ties, "%s: %lld values differ, %d voxels at ties", name,
		      (long long)bad, ties);
		st->tie_diffs += bad;
	}
	mg_val_release(&out);
}

static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	struct stats *st = ctx;
	st->n[d == golden_op("Rotate")]++;
	check_grid(name, d, c, a, x, want, st);
	const cJSON *ties = cJSON_GetObjectItem(c, "ties");
	if (ties && ties->valueint > 0) {
		st->ties += ties->valueint;
		check_ties(name, d, a, x, want, ties->valueint, st);
		return;
	}
	double rtol = 0, atol = ties ? 0 : tolerance(x, &rtol), err = 0;
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){atol, rtol, &err, 1e-6, MG_DTYPE_F32, -1});
	if (!ties) {
		double r = atol / 2e-6;
		st->max_rel = fmax(st->max_rel, r > 0 ? err / r : 0);
	}
}

static void run_cases(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	struct stats st = {0};
	if (doc)
		golden_run_cases(doc, GOLDEN, NULL, one_case, &st);
	printf("%d Affine, %d Rotate cases; out_to_in within %.2g of MONAI's sampled map; "
	       "interpolated values within %.2g x the input's range; nearest: %lld voxels "
	       "differ of %lld at ties\n", st.n[0], st.n[1], st.max_map, st.max_rel,
	       (long long)st.tie_diffs, (long long)st.ties);
	cJSON_Delete(doc);
}

/* ---- properties ------------------------------------------------------------------------ */

/* Rotate extrinsic xyz by a, then intrinsic XYZ by -a (its inverse, keep_size) is the
 * identity grid; Affine's rotation about
 * the centre equals Rotate's map when align_corners is false and sizes are kept (both
 * turn about (d - 1)/2; Affine's float32 matrix makes it 1e-6 close, not exact). */
static void test_algebra(void)
{
	struct mg_tensor x;
	golden_image(&x, 4, (const int64_t[]){1, 7, 6, 5}, golden_oblique);
	struct mg_grid g1, g2;
	struct mg_arena arena = {0};
	struct mg_attr a[16], b[16];
	struct mg_err e = {0};
	const struct mg_opdef *rot = golden_op("Rotate"), *aff = golden_op("Affine");
	CHECK_OK(golden_parse_text(rot, "{\"angle\": [0.3, -0.2, 0.5], \"rotate_order\": \"xyz\"}",
				   &arena, a, &e), &e);
	CHECK_OK(golden_parse_text(rot, "{\"angle\": [-0.3, 0.2, -0.5], \"rotate_order\": \"XYZ\"}",
				   &arena, b, &e), &e);
	mg_grid_identity(&g1, &x);
	CHECK_OK(rot->grid(a, &x, &g1, &e), &e);
	mg_grid_identity(&g2, &x);
	CHECK_OK(rot->grid(b, &x, &g2, &e), &e);
	mg_grid_then(&g1, &g2);
	double eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	CHECK(golden_max_diff(g1.out_to_in, eye) < 1e-12, "extrinsic xyz then intrinsic XYZ "
	      "by minus the angles is not the identity");
	CHECK_OK(golden_parse_text(aff, "{\"rotate_params\": [0.3, -0.2, 0.5]}", &arena, b, &e), &e);
	CHECK_OK(golden_parse_text(rot, "{\"angle\": [0.3, -0.2, 0.5]}", &arena, a, &e), &e);
	mg_grid_identity(&g1, &x);
	CHECK_OK(rot->grid(a, &x, &g1, &e), &e);
	mg_grid_identity(&g2, &x);
	CHECK_OK(aff->grid(b, &x, &g2, &e), &e);
	CHECK(golden_max_diff(g1.out_to_in, g2.out_to_in) < 1e-6 &&
	      golden_max_diff(g1.affine, g2.affine) < 1e-5, "Affine and Rotate disagree");
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

/* ---- errors ------------------------------------------------------------------------------ */

/* Arguments that parse, then fail in the type rule (rank known, with a message that
 * starts with the op's name), the grid and the kernel. */
static void refused(const char *op, int rank, const char *json, const char *needle)
{
	const struct mg_opdef *d = golden_op(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = rank}, out;
	int rc = d->infer(a, &in, &out, &e);
	CHECK(rc && strstr(e.msg, op) == e.msg, "%s: the message names the op: %s", op, e.msg);
	mg_arena_free(&arena);
	golden_refused(d, rank, json, needle, 1);
}

static void parse_fails(const char *op, const char *json, const char *needle)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_FAILS(golden_parse_text(golden_op(op), json, &arena, a, &e), &e, needle);
	mg_arena_free(&arena);
}

static void test_errors(void)
{
	refused("Affine", 4, "{\"affine\": [[1, 0], [0, 1]]}", "square 3x3 or 4x4");
	refused("Affine", 4, "{\"affine\": [1, 0, 0, 1, 0]}", "square 3x3 or 4x4");
	refused("Affine", 4, "{\"spatial_size\": [4, 5]}", "spatial_size has 2 entries");
	refused("Affine", 3, "{\"spatial_size\": [4, 5, 6]}", "spatial_size has 3 entries");
	refused("Affine", 4, "{\"rotate_params\": [0.1, 0.2, 0.3, 0.4]}", "too short");
	refused("Affine", 4, "{\"rotate_params\": [0.1, 0.2], \"rotate_order\": \"Xy\"}",
		"all lower case");
	refused("Affine", 4, "{\"rotate_params\": [0.1], \"rotate_order\": \"XXY\"}",
		"repeat the same axis");
	refused("Affine", 4, "{\"rotate_params\": [0.1], \"rotate_order\": \"XW\"}",
		"from 'x', 'y', 'z'");
	refused("Affine", 4, "{\"rotate_params\": [0.1], \"rotate_order\": \"\"}", "between 1 and 3");
	refused("Affine", 4, "{\"dtype\": \"float16\"}", "dtype float16");
	refused("Rotate", 3, "{\"angle\": [0.1, 0.2]}", "angle has 2 values for a 2D image");
	refused("Rotate", 4, "{\"angle\": [0.1, 0.2]}", "angle has 2 values for a 3D image");
	refused("Rotate", 4, "{\"angle\": [0.1, 0.2, 0.3], \"rotate_order\": \"XY\"}", "too short");
	refused("Rotate", 4, "{\"angle\": 0.1, \"dtype\": \"int16\"}", "dtype int16");
	parse_fails("Affine", "{\"mode\": 3}", "'mode'");
	parse_fails("Affine", "{\"mode\": \"trilinear\"}", "'mode'");
	parse_fails("Affine", "{\"padding_mode\": \"edge\"}", "'padding_mode'");
	parse_fails("Affine", "{\"affine\": [[1, 0, \"a\"]]}", "'affine'");
	parse_fails("Affine", "{\"spatial_size\": [4.5]}", "'spatial_size'");
	parse_fails("Affine", "{\"device\": \"cuda\"}", "'device'");
	parse_fails("Rotate", "{}", "'angle'");
	parse_fails("Rotate", "{\"angle\": 0.1, \"mode\": \"area\"}", "'mode'");
	/* wrong inputs */
	static const char *const ops[2][2] = {{"Affine", "{}"}, {"Rotate", "{\"angle\": 0.2}"}};
	for (int i = 0; i < 2; i++) {
		const struct mg_opdef *d = golden_op(ops[i][0]);
		CHECK(d && (d->flags & MG_OPF_SPATIAL) && d->grid, "%s: a spatial op", ops[i][0]);
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		CHECK_OK(golden_parse_text(d, ops[i][1], &arena, a, &e), &e);
		golden_refuses_inputs(d, a, 2, 5);
		struct mg_type out, in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_U8, .rank = -1};
		CHECK_OK(d->infer(a, &in, &out, &e), &e);
		CHECK(out.kind == MG_VK_TENSOR && out.dtype == MG_DTYPE_F32, "%s: infer", ops[i][0]);
		mg_arena_free(&arena);
	}
}

/* Type rules: float32, spatial_size's known entries, keep_size. */
static void test_infer(void)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = 4,
			     .dims = {2, 5, 4, 3}}, out;
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(golden_op("Affine"), "{\"spatial_size\": [7, -1, 0]}", &arena,
				   a, &e), &e);
	CHECK_OK(golden_op("Affine")->infer(a, &in, &out, &e), &e);
	CHECK(out.dtype == MG_DTYPE_F32 && out.dims[0] == 2 && out.dims[1] == 7 &&
	      out.dims[2] == 4 && out.dims[3] == 3, "Affine spatial_size [7, -1, 0]");
	CHECK_OK(golden_parse_text(golden_op("Rotate"), "{\"angle\": 0.3}", &arena, a, &e), &e);
	CHECK_OK(golden_op("Rotate")->infer(a, &in, &out, &e), &e);
	CHECK(!memcmp(out.dims, in.dims, sizeof in.dims) && out.dtype == MG_DTYPE_F32,
	      "Rotate keep_size keeps the shape");
	CHECK_OK(golden_parse_text(golden_op("Rotate"), "{\"angle\": 0.3, \"keep_size\": false}",
				   &arena, a, &e), &e);
	CHECK_OK(golden_op("Rotate")->infer(a, &in, &out, &e), &e);
	CHECK(out.dims[0] == 2 && out.dims[1] < 0 && out.dims[3] < 0, "Rotate grows at run time");
	mg_arena_free(&arena);
}

/* The dict forms: mode and padding_mode per key (both ops), align_corners and dtype per
 * key (Rotated). */
static void test_per_key(void)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	struct mg_tensor x;
	golden_image(&x, 4, (const int64_t[]){1, 5, 4, 3}, golden_oblique);
	struct mg_grid g;
	cJSON *j = cJSON_Parse("{\"rotate_params\": [0.1, 0.2, 0.3], \"mode\": [\"bilinear\", "
			       "\"nearest\"], \"padding_mode\": [\"zeros\", \"border\"]}");
	for (int key = 0; key < 2; key++) {
		CHECK_OK(mg_attrs_parse(golden_op("Affine"), j, key, 2, NULL, &arena, a, &e), &e);
		mg_grid_identity(&g, &x);
		CHECK_OK(golden_op("Affine")->grid(a, &x, &g, &e), &e);
		CHECK(g.mode == (key ? MG_INTERP_NEAREST : MG_INTERP_LINEAR) &&
		      g.padding == (key ? MG_PAD_BORDER : MG_PAD_ZEROS), "Affined key %d", key);
	}
	cJSON_Delete(j);
	j = cJSON_Parse("{\"angle\": 0.2, \"mode\": [\"bicubic\", \"nearest\"], \"align_corners\": "
			"[true, false], \"dtype\": [\"float64\", \"float32\"]}");
	for (int key = 0; key < 2; key++) {
		CHECK_OK(mg_attrs_parse(golden_op("Rotate"), j, key, 2, NULL, &arena, a, &e), &e);
		mg_grid_identity(&g, &x);
		CHECK_OK(golden_op("Rotate")->grid(a, &x, &g, &e), &e);
		CHECK(g.mode == (key ? MG_INTERP_NEAREST : MG_INTERP_CUBIC) &&
		      g.align_corners == !key && g.padding == MG_PAD_BORDER, "Rotated key %d", key);
	}
	CHECK_FAILS(mg_attrs_parse(golden_op("Rotate"), j, 0, 3, NULL, &arena, a, &e), &e,
		    "2 values for 3 keys");
	cJSON_Delete(j);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

int main(void)
{
	test_errors();
	test_infer();
	test_per_key();
	test_algebra();
	run_cases();
	return check_done();
}
