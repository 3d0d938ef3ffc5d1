/* test_conformance_spatial_index.c: Orientation, Flip and Rotate90 against MONAI's own
 * outputs, their algebra, and their argument errors.
 * Cases live in tests/golden/spatial_index/cases.json (tools/golden/gen_spatial_index.py):
 * each names the op, its JSON arguments, an input .npy with its 4x4 affine, and what
 * MONAI 1.6.1 made of it: output .npy, output affine and the voxel map (out_to_in) that
 * MONAI's lazy mode records for the same call.
 * Per case, first the grid alone (the op's .grid: no voxels move): output shape exact,
 * out_to_in and affine within 1e-9, and index-only. Then the reference kernel: a view of
 * the input (same buffer, nothing allocated), the input's dtype, values exactly MONAI's,
 * meta affine = MONAI's, an applied-ops entry, the type rule agreeing, and the input
 * left untouched. The property tests need no MONAI: Orientation to the image's own
 * axcodes is the identity, A -> B -> A gives the input back for every B, Flip twice and
 * Rotate90 four times are the identity (as views and as composed grids). */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/spatial_index/"

static int is_eye(const double m[4][4])
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			if (m[r][c] != (r == c))
				return 0;
	return 1;
}

/* The same elements of the same buffer: what "the input back" means for a view. */
static int same_view(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (!golden_same_shape(a, b) || a->buf != b->buf || a->offset != b->offset)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] > 1 && a->strides[i] != b->strides[i])
			return 0;
	return 1;
}

/* One of MONAI's cases: the grid alone, then the kernel (a view, values exact). */
static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	int *n = ctx;
	golden_check_index_grid(name, d, c, a, x, want);
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){.affine_tol = 1e-9, .dtype = -1, .view = 1});
	n[d == golden_op("Orientation") ? 0 : d == golden_op("Flip") ? 1 : 2]++;
}

static void run_cases(const cJSON *doc)
{
	int n[3] = {0};
	golden_run_cases(doc, GOLDEN, NULL, one_case, n);
	printf("%d Orientation, %d Flip, %d Rotate90 cases\n", n[0], n[1], n[2]);
}

/* ---- properties ------------------------------------------------------------------------ */

/* All axcodes of sdim letters: every signed permutation of the world axes. */
static int all_axcodes(int sdim, char codes[48][4])
{
	static const char *const letters[3] = {"LR", "PA", "IS"};
	int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	int n = 0;
	for (int p = 0; p < 6; p++) {
		if (sdim == 2 && perms[p][2] != 2)
			continue;
		for (int s = 0; s < (1 << sdim); s++, n++) {
			for (int i = 0; i < sdim; i++)
				codes[n][i] = letters[perms[p][i]][(s >> i) & 1];
			codes[n][sdim] = 0;
		}
	}
	return n;
}

/* Orientation to the image's own axcodes is the identity; A -> B -> A is the input. */
static void test_orientation_roundtrip(const cJSON *doc)
{
	const struct mg_opdef *d = golden_op("Orientation");
	const cJSON *in;
	int pairs = 0;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(doc, "inputs")) {
		struct mg_tensor x, y, z;
		struct mg_err e = {0};
		if (golden_load_input(GOLDEN, cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e)) {
			CHECK(0, "%s: %s", in->string, e.msg);
			continue;
		}
		int sdim = x.rank - 1;
		char own[4], json[64], codes[48][4];
		mg_affine_axcodes(x.meta->affine, sdim, own);
		snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", own);
		CHECK_OK(golden_apply(d, json, &x, &y, &e), &e);
		CHECK(same_view(&y, &x), "%s: Orientation to its own axcodes %s moved data",
		      in->string, own);
		CHECK(y.meta && golden_max_diff(y.meta->affine, x.meta->affine) == 0,
		      "%s: Orientation to its own axcodes changed the affine", in->string);
		mg_tensor_release(&y);
		int n = all_axcodes(sdim, codes);
		for (int b = 0; b < n; b++) {
			snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", codes[b]);
			CHECK_OK(golden_apply(d, json, &x, &y, &e), &e);
			char got[4];
			mg_affine_axcodes(y.meta->affine, sdim, got);
			CHECK(!strcmp(got, codes[b]), "%s: Orientation to %s gives an image in %s",
			      in->string, codes[b], got);
			snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", own);
			CHECK_OK(golden_apply(d, json, &y, &z, &e), &e);
			CHECK(same_view(&z, &x), "%s: %s -> %s -> %s is not the input", in->string,
			      own, codes[b], own);
			CHECK(z.meta && golden_max_diff(z.meta->affine, x.meta->affine) <= 1e-12,
			      "%s: %s -> %s -> %s changed the affine", in->string, own, codes[b],
			      own);
			CHECK(z.meta && z.meta->napplied == 2, "%s: two applied entries",
			      in->string);
			mg_tensor_release(&y);
			mg_tensor_release(&z);
			pairs++;
		}
		mg_tensor_release(&x);
	}
	CHECK(pairs > 100, "only %d round trips", pairs);
}

/* Flip's arguments for the axes in the bit set s; odd sets spell them negative (i and
 * i - sdim name the same axis). */
static void flip_args(char *json, size_t size, int s, int sdim)
{
	int k = snprintf(json, size, "{\"spatial_axis\": [");
	for (int i = 0, first = 1; i < sdim; i++)
		if (s >> i & 1) {
			k += snprintf(json + k, size - (size_t)k, "%s%d", first ? "" : ", ",
				      s & 1 ? i : i - sdim);
			first = 0;
		}
	snprintf(json + k, size - (size_t)k, "]}");
}

/* Flip twice, over every subset of axes, gives the input back. */
static void test_flip_twice(const cJSON *doc)
{
	const struct mg_opdef *d = golden_op("Flip");
	const cJSON *in;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(doc, "inputs")) {
		struct mg_tensor x, y, z;
		struct mg_err e = {0};
		if (golden_load_input(GOLDEN, cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e))
			continue;
		int sdim = x.rank - 1;
		for (int s = 0; s < (1 << sdim); s++) {
			char json[64];
			flip_args(json, sizeof json, s, sdim);
			CHECK_OK(golden_apply(d, json, &x, &y, &e), &e);
			CHECK(s == 0 || !same_view(&y, &x), "%s: %s did nothing", in->string, json);
			CHECK_OK(golden_apply(d, json, &y, &z, &e), &e);
			CHECK(same_view(&z, &x), "%s: %s twice is not the input", in->string, json);
			CHECK(z.meta && golden_max_diff(z.meta->affine, x.meta->affine) <= 1e-12,
			      "%s: %s twice changed the affine", in->string, json);
			mg_tensor_release(&y);
			mg_tensor_release(&z);
		}
		mg_tensor_release(&x);
	}
}

/* Rotate90 in the plane (a0, a1) of x: k = 4 is the identity; k then -k (spelt with a
 * negative axis) and four single turns give the input back, as views and as grids
 * composed with mg_grid_then (what the fusion pass does). */
static void rotate90_cycle(const char *name, const struct mg_tensor *x, int a0, int a1)
{
	const struct mg_opdef *d = golden_op("Rotate90");
	int sdim = x->rank - 1;
	struct mg_tensor y, z;
	struct mg_err e = {0};
	char json[96];
	snprintf(json, sizeof json, "{\"k\": 4, \"spatial_axes\": [%d, %d]}", a0, a1);
	CHECK_OK(golden_apply(d, json, x, &y, &e), &e);
	CHECK(same_view(&y, x), "%s: %s is not the identity", name, json);
	mg_tensor_release(&y);
	for (int k = 1; k < 4; k++) {
		snprintf(json, sizeof json, "{\"k\": %d, \"spatial_axes\": [%d, %d]}", k, a0,
			 a1);
		CHECK_OK(golden_apply(d, json, x, &y, &e), &e);
		snprintf(json, sizeof json, "{\"k\": %d, \"spatial_axes\": [%d, %d]}", -k,
			 a0 - sdim, a1);
		CHECK_OK(golden_apply(d, json, &y, &z, &e), &e);
		CHECK(same_view(&z, x), "%s: k=%d then k=%d in (%d, %d) is not the input", name,
		      k, -k, a0, a1);
		CHECK(z.meta && golden_max_diff(z.meta->affine, x->meta->affine) <= 1e-12,
		      "%s: k=%d then -k changed the affine", name, k);
		mg_tensor_release(&y);
		mg_tensor_release(&z);
	}
	struct mg_tensor cur = mg_tensor_share(x);
	struct mg_grid total, step;
	mg_grid_identity(&total, x);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	snprintf(json, sizeof json, "{\"spatial_axes\": [%d, %d]}", a0, a1);
	CHECK_OK(golden_parse_text(d, json, &arena, a, &e), &e);
	for (int t = 0; t < 4; t++) {
		mg_grid_identity(&step, &cur);
		CHECK_OK(d->grid(a, &cur, &step, &e), &e);
		mg_grid_then(&total, &step);
		CHECK_OK(golden_apply(d, json, &cur, &y, &e), &e);
		mg_tensor_release(&cur);
		cur = y;
	}
	CHECK(same_view(&cur, x), "%s: four turns in (%d, %d) are not the input", name, a0,
	      a1);
	CHECK(is_eye(total.out_to_in), "%s: four composed turns in (%d, %d) are not the "
	      "identity grid", name, a0, a1);
	CHECK(golden_max_diff(total.affine, x->meta->affine) <= 1e-12,
	      "%s: four composed turns changed the affine", name);
	mg_tensor_release(&cur);
	mg_arena_free(&arena);
}

static void test_rotate90_cycles(const cJSON *doc)
{
	const cJSON *in;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(doc, "inputs")) {
		struct mg_tensor x;
		struct mg_err e = {0};
		if (golden_load_input(GOLDEN, cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e))
			continue;
		for (int a0 = 0; a0 < x.rank - 1; a0++)
			for (int a1 = 0; a1 < x.rank - 1; a1++)
				if (a0 != a1)
					rotate90_cycle(in->string, &x, a0, a1);
		mg_tensor_release(&x);
	}
}

/* ---- errors ------------------------------------------------------------------------------ */

static void refused(const char *op, int rank, const char *json, const char *needle)
{
	golden_refused(golden_op(op), rank, json, needle, 1);
}

/* Arguments that the type rule accepts for a known rank. */
static void accepted(const char *op, int rank, const char *json)
{
	const struct mg_opdef *d = golden_op(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = rank}, out;
	CHECK_OK(d->infer(a, &in, &out, &e), &e);
	struct mg_tensor x, y;
	golden_small_image(&x, rank);
	CHECK_OK(golden_apply(d, json, &x, &y, &e), &e);
	mg_tensor_release(&y);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

static void test_errors(void)
{
	/* Orientation */
	refused("Orientation", 4, "{}", "needs 'axcodes'");
	refused("Orientation", 4, "{\"axcodes\": null}", "needs 'axcodes'");
	refused("Orientation", 4, "{\"axcodes\": \"RA\"}", "fewer letters than the image's 3");
	refused("Orientation", 3, "{\"axcodes\": \"R\"}", "fewer letters than the image's 2");
	refused("Orientation", 4, "{\"axcodes\": \"\"}", "has 0 letters");
	refused("Orientation", 4, "{\"axcodes\": \"RASL\"}", "has 4 letters");
	refused("Orientation", 4, "{\"axcodes\": \"RAX\"}", "'X' is not one of");
	refused("Orientation", 4, "{\"axcodes\": \"ras\"}", "'r' is not one of");
	refused("Orientation", 4, "{\"axcodes\": \"RLS\"}", "L/R axis twice");
	refused("Orientation", 4, "{\"axcodes\": \"SAI\"}", "I/S axis twice");
	refused("Orientation", 3, "{\"axcodes\": \"RS\"}", "I/S axis, which a 2D image");
	refused("Orientation", 3, "{\"axcodes\": \"RAX\"}", "'X' is not one of");
	refused("Orientation", 4, "{\"axcodes\": \"RAS\", \"labels\": [\"R\", \"L\", \"A\", "
		"\"P\", \"I\", \"S\"]}", "only the default labels");
	refused("Orientation", 4, "{\"axcodes\": \"RAS\", \"labels\": [\"L\", \"R\"]}",
		"only the default labels");
	accepted("Orientation", 4, "{\"axcodes\": \"RAS\", \"labels\": [\"L\", \"R\", \"P\", "
		 "\"A\", \"I\", \"S\"], \"lazy\": true}");
	accepted("Orientation", 3, "{\"axcodes\": \"PLS\"}"); /* MONAI reads "PL" */
	accepted("Orientation", 3, "{\"axcodes\": \"RAR\"}"); /* MONAI reads "RA" */
	accepted("Orientation", 4, "{\"axcodes\": \"XYZ\", \"as_closest_canonical\": true}");
	/* MONAI's own labels form, a list of pairs: the parser either takes it (then it
	 * is the default) or names the argument */
	{
		const struct mg_opdef *d = golden_op("Orientation");
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		int rc = golden_parse_text(d, "{\"axcodes\": \"RAS\", \"labels\": [[\"L\", \"R\"], "
				    "[\"P\", \"A\"], [\"I\", \"S\"]]}", &arena, a, &e);
		CHECK(rc == 0 ? 1 : strstr(e.msg, "'labels'") != NULL, "%s", e.msg);
		struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
		if (rc == 0)
			CHECK_OK(d->infer(a, &in, &out, &e), &e);
		mg_arena_free(&arena);
	}
	/* a degenerate affine: nibabel drops the axis and ornt_transform fails */
	{
		const struct mg_opdef *d = golden_op("Orientation");
		struct mg_tensor x, y;
		struct mg_err e = {0};
		golden_small_image(&x, 4);
		for (int i = 0; i < 3; i++)
			x.meta->affine[i][1] = 0;
		CHECK_FAILS(golden_apply(d, "{\"axcodes\": \"RAS\"}", &x, &y, &e), &e, "degenerate");
		CHECK_FAILS(golden_apply(d, "{\"as_closest_canonical\": true}", &x, &y, &e), &e,
			    "degenerate");
		mg_tensor_release(&x);
	}
	/* Flip */
	refused("Flip", 4, "{\"spatial_axis\": 3}", "spatial_axis 3 is out of range");
	refused("Flip", 4, "{\"spatial_axis\": -4}", "spatial_axis -4 is out of range");
	refused("Flip", 3, "{\"spatial_axis\": [0, 2]}", "spatial_axis 2 is out of range");
	refused("Flip", 4, "{\"spatial_axis\": [0, 0]}", "names axis 0 twice");
	refused("Flip", 4, "{\"spatial_axis\": [1, -2]}", "names axis 1 twice");
	accepted("Flip", 3, "{\"spatial_axis\": [1, -2], \"lazy\": true}");
	/* Rotate90 */
	refused("Rotate90", 4, "{\"spatial_axes\": [0, 0]}", "names axis 0 twice");
	refused("Rotate90", 4, "{\"spatial_axes\": [2, -1]}", "names axis 2 twice");
	refused("Rotate90", 3, "{\"spatial_axes\": [0, 2]}", "entry 2 is out of range");
	refused("Rotate90", 4, "{\"spatial_axes\": [-4, 0]}", "entry -4 is out of range");
	refused("Rotate90", 4, "{\"spatial_axes\": [0, 1, 2]}", "must be 2 numbers");
	refused("Rotate90", 4, "{\"spatial_axes\": 1}", "must be 2 numbers");
	accepted("Rotate90", 4, "{\"k\": -7, \"spatial_axes\": [-1, -3]}");
	/* the parser names the argument */
	{
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		CHECK_FAILS(golden_parse_text(golden_op("Rotate90"), "{\"k\": 1.5}", &arena, a, &e), &e,
			    "'k'");
		CHECK_FAILS(golden_parse_text(golden_op("Flip"), "{\"spatial_axis\": \"x\"}", &arena, a,
				       &e), &e, "'spatial_axis'");
		CHECK_FAILS(golden_parse_text(golden_op("Orientation"), "{\"axcodes\": 3}", &arena, a, &e),
			    &e, "'axcodes'");
		CHECK_FAILS(golden_parse_text(golden_op("Orientation"), "{\"axcode\": \"RAS\"}", &arena, a,
				       &e), &e, "'axcode'");
		mg_arena_free(&arena);
	}
	/* wrong inputs, for each op: file names, and ranks that are not (C, X, Y[, Z]) */
	static const char *const ops[3][2] = {{"Orientation", "{\"axcodes\": \"RAS\"}"},
					      {"Flip", "{}"}, {"Rotate90", "{}"}};
	for (int i = 0; i < 3; i++) {
		const struct mg_opdef *d = golden_op(ops[i][0]);
		CHECK(d && (d->flags & MG_OPF_SPATIAL) && d->grid, "%s: a spatial op", ops[i][0]);
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		CHECK_OK(golden_parse_text(d, ops[i][1], &arena, a, &e), &e);
		for (int rank = 1; rank <= 5; rank += 1)
			if (rank != 3 && rank != 4)
				golden_refuses_inputs(d, a, rank, rank);
		/* an unknown rank is left to run time */
		struct mg_type out, in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_U8, .rank = -1};
		CHECK_OK(d->infer(a, &in, &out, &e), &e);
		CHECK(out.kind == MG_VK_TENSOR && out.dtype == MG_DTYPE_U8, "%s: infer", ops[i][0]);
		mg_arena_free(&arena);
	}
}

/* The type rule's shapes: Flip keeps them, Rotate90 swaps the plane for odd k,
 * Orientation leaves the spatial ones to run time (they follow the affine). */
static void test_infer_shapes(void)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = 4,
			     .dims = {2, 5, 4, 3}}, out;
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(golden_op("Rotate90"), "{\"k\": 3, \"spatial_axes\": [-1, 0]}",
			    &arena, a, &e), &e);
	CHECK_OK(golden_op("Rotate90")->infer(a, &in, &out, &e), &e);
	CHECK(out.dims[0] == 2 && out.dims[1] == 3 && out.dims[2] == 4 && out.dims[3] == 5 &&
		      out.dtype == MG_DTYPE_I16,
	      "Rotate90 k=3 in (z, x): (2, 3, 4, 5)");
	CHECK_OK(golden_parse_text(golden_op("Flip"), "{}", &arena, a, &e), &e);
	CHECK_OK(golden_op("Flip")->infer(a, &in, &out, &e), &e);
	CHECK(!memcmp(out.dims, in.dims, sizeof in.dims), "Flip keeps the shape");
	CHECK_OK(golden_parse_text(golden_op("Orientation"), "{\"axcodes\": \"LPS\"}", &arena, a, &e),
		 &e);
	CHECK_OK(golden_op("Orientation")->infer(a, &in, &out, &e), &e);
	CHECK(out.rank == 4 && out.dims[0] == 2 && out.dims[1] < 0 && out.dims[3] < 0,
	      "Orientation: channels kept, spatial dims from the affine");
	mg_arena_free(&arena);
}

int main(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	test_errors();
	test_infer_shapes();
	if (doc) {
		run_cases(doc);
		test_orientation_roundtrip(doc);
		test_flip_twice(doc);
		test_rotate90_cycles(doc);
	}
	cJSON_Delete(doc);
	return check_done();
}
