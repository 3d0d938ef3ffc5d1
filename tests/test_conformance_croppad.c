/* test_conformance_croppad.c: SpatialCrop, CenterSpatialCrop, SpatialPad, BorderPad and
 * DivisiblePad against MONAI's own outputs, plus their argument errors.
 * Cases live in tests/golden/croppad/cases.json (tools/golden/gen_croppad.py): each names
 * the op, its JSON arguments, an input .npy with its 4x4 affine, and what MONAI 1.6.1
 * made of it: output .npy, output affine and the voxel map its lazy mode records.
 * Per case: the grid alone (shape exact, out_to_in and affine within 1e-9, index-only
 * and integer), then the reference kernel: shape, the input's dtype, values exactly
 * MONAI's, meta affine within 1e-9, an applied-ops entry, the type rule agreeing, the
 * input untouched; a crop is a view of the input's buffer, a pad that adds voxels is a
 * fresh buffer; a pad on a flipped (negative-stride) view equals the pad on a copy.
 * Then pad-then-crop composed into one FusedSpatial grid against the two ops run one
 * after the other (the fuse-spatial pass never fuses pads, but the kernel must be exact
 * on such chains), and the errors. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/croppad/"

/* The op on a flipped view of x (negative strides) equals the op on a contiguous copy
 * of that view: the padded copy indexes any strides. */
static void check_flipped(const char *name, const struct mg_opdef *d, const cJSON *args,
			  const struct mg_tensor *x)
{
	struct mg_tensor fx, cx, y1, y2;
	struct mg_err e = {0};
	char *json = cJSON_PrintUnformatted(args);
	CHECK_OK(golden_apply(golden_op("Flip"), "{}", x, &fx, &e), &e);
	CHECK(fx.strides[1] < 0, "%s: the flipped view has positive strides", name);
	CHECK_OK(mg_tensor_contiguous(&cx, &fx, &e), &e);
	if (!cx.meta) {
		cx.meta = fx.meta;
		mg_meta_retain(cx.meta);
	}
	CHECK_OK(golden_apply(d, json, &fx, &y1, &e), &e);
	CHECK_OK(golden_apply(d, json, &cx, &y2, &e), &e);
	CHECK(golden_same_shape(&y1, &y2) && y1.dtype == y2.dtype &&
		      golden_compare(name, &y1, &y2, 0, 0, NULL) == 0,
	      "%s: a flipped (negative-stride) input gives other values", name);
	mg_tensor_release(&y1);
	mg_tensor_release(&y2);
	mg_tensor_release(&cx);
	mg_tensor_release(&fx);
	free(json);
}

/* One of MONAI's cases: the grid alone, then the kernel (a crop, or a pad that adds
 * nothing, is a view; a pad that adds voxels a fresh buffer), then a flipped input. */
static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	(void)ctx;
	int crop = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "kind")), "crop");
	int grows = 0;
	for (int i = 1; i < x->rank; i++)
		grows |= want->dims[i] > x->dims[i];
	golden_check_index_grid(name, d, c, a, x, want);
	golden_check_values(name, d, c, a, x, want,
			    (struct golden_expect){.affine_tol = 1e-9, .dtype = -1,
						   .view = crop || !grows});
	check_flipped(name, d, cJSON_GetObjectItem(c, "args"), x);
}

static void run_cases(const cJSON *doc)
{
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")) > 100, "too few cases");
	printf("%d crop/pad cases\n", golden_run_cases(doc, GOLDEN, NULL, one_case, NULL));
}

/* ---- composition ------------------------------------------------------------------------- */

/* Pad then crop as one composed grid (what FusedSpatial runs: the padded-copy path, the
 * crop reading partly outside) equals the two ops one after the other, bit for bit. */
static void pad_then_crop(const char *pad, const char *padargs, const char *crop,
			  const char *cropargs, enum mg_dtype dt)
{
	int64_t dims[4] = {2, 5, 4, 3};
	struct mg_tensor x, y, z, w;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&x, dt, 4, dims, &e), &e);
	char *p = mg_tensor_data(&x);
	for (int64_t i = 0; i < mg_tensor_numel(&x); i++)
		mg_dtype_store(dt, p + i * (int64_t)mg_dtype_size(dt), (double)(i * 3 % 101 + 1));
	golden_attach_affine(&x, golden_oblique);
	CHECK_OK(golden_apply(golden_op(pad), padargs, &x, &y, &e), &e);
	CHECK_OK(golden_apply(golden_op(crop), cropargs, &y, &z, &e), &e);
	/* the composed grid, run by the padded-copy path */
	struct mg_arena arena = {0};
	struct mg_attr a1[16], a2[16];
	CHECK_OK(golden_parse_text(golden_op(pad), padargs, &arena, a1, &e), &e);
	CHECK_OK(golden_parse_text(golden_op(crop), cropargs, &arena, a2, &e), &e);
	struct mg_grid g, g2;
	mg_grid_identity(&g, &x);
	CHECK_OK(golden_op(pad)->grid(a1, &x, &g, &e), &e);
	mg_grid_identity(&g2, &y);
	CHECK_OK(golden_op(crop)->grid(a2, &y, &g2, &e), &e);
	mg_grid_then(&g, &g2);
	CHECK(mg_grid_is_index_only(&g), "%s then %s: not index-only", pad, crop);
	CHECK(golden_max_diff(g.affine, z.meta->affine) <= 1e-12, "%s then %s: affine", pad, crop);
	for (int i = 0; i < 3; i++)
		CHECK(g.out_shape[i] == z.dims[1 + i], "%s then %s: shape", pad, crop);
	/* FusedSpatial's kernel on the same chain */
	const struct mg_opdef *f = golden_op("FusedSpatial");
	uint16_t ops[2] = {(uint16_t)mg_op_find(pad), (uint16_t)mg_op_find(crop)};
	const struct mg_attr *as[2] = {a1, a2};
	const char *labels[2] = {"pad", "crop"};
	struct mg_chain chain = {2, ops, as, labels};
	struct mg_attr fa = {.v.chain = &chain};
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = x}, out = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_OK(f->ref(&fa, &in, &out, &k), &e);
	w = out.t;
	CHECK(golden_same_shape(&w, &z) && w.dtype == dt, "%s then %s fused: shape or dtype", pad,
	      crop);
	if (golden_same_shape(&w, &z))
		CHECK(golden_compare("fused", &w, &z, 0, 0, NULL) == 0, "%s %s then %s %s fused differs", pad,
		      padargs, crop, cropargs);
	CHECK(w.meta && golden_max_diff(w.meta->affine, z.meta->affine) <= 1e-12,
	      "%s then %s fused: affine", pad, crop);
	mg_tensor_release(&w);
	mg_tensor_release(&z);
	mg_tensor_release(&y);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

static void test_composition(void)
{
	static const char *const modes[] = {"constant", "edge", "reflect", "symmetric"};
	for (int m = 0; m < 4; m++) {
		char json[128];
		snprintf(json, sizeof json, "{\"spatial_border\": [2, 1, 0, 3, 1, 1], "
			 "\"mode\": \"%s\"}", modes[m]);
		pad_then_crop("BorderPad", json, "SpatialCrop",
			      "{\"roi_start\": [1, 0, 1], \"roi_end\": [8, 6, 4]}", MG_DTYPE_I16);
		pad_then_crop("BorderPad", json, "CenterSpatialCrop", "{\"roi_size\": [4, 7, 2]}",
			      MG_DTYPE_F32);
		snprintf(json, sizeof json, "{\"k\": 4, \"mode\": \"%s\"}", modes[m]);
		pad_then_crop("DivisiblePad", json, "SpatialCrop",
			      "{\"roi_center\": [4, 2, 1], \"roi_size\": [5, 3, 4]}", MG_DTYPE_U8);
	}
}

static void refused(const char *op, int rank, const char *json, const char *needle,
		    int infer_too)
{
	golden_refused(golden_op(op), rank, json, needle, infer_too);
}

static void test_errors(void)
{
	refused("SpatialCrop", 4, "{}", "please specify either", 1);
	refused("SpatialCrop", 4, "{\"roi_center\": [1, 1, 1]}", "please specify either", 1);
	refused("SpatialCrop", 4, "{\"roi_start\": [1, 1]}", "please specify either", 1);
	refused("SpatialCrop", 4, "{\"roi_start\": [1, 1], \"roi_end\": [2, 2, 2]}",
		"matching lengths", 1);
	refused("SpatialCrop", 4, "{\"roi_slices\": [1, 2]}", "roi_slices is not supported", 1);
	refused("CenterSpatialCrop", 4, "{\"roi_size\": [2, 2]}", "has 2 entries", 1);
	refused("CenterSpatialCrop", 3, "{\"roi_size\": [2, 2, 2]}", "has 3 entries", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": [7, 7]}", "has 2 entries", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"mode\": \"wrap\"}",
		"mode 'wrap' is not supported", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"mode\": \"circular\"}",
		"mode 'circular' is not supported", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"mode\": \"mean\"}",
		"mode 'mean' is not supported", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"mode\": \"zeros\"}",
		"'zeros' is not a padding mode", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"value\": 1}", "value=1 is not "
		"supported", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"constant_values\": -3.5}",
		"constant_values=-3.5 is not supported", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 7, \"mode\": \"edge\", \"value\": 0}",
		"'value' argument is only valid when mode='constant'", 1);
	refused("SpatialPad", 4, "{\"spatial_size\": 9, \"mode\": \"reflect\"}",
		"torch's reflect padding", 0);
	refused("BorderPad", 4, "{\"spatial_border\": [1, 2]}", "spatial_border length: 2", 1);
	refused("BorderPad", 3, "{\"spatial_border\": [1, 2, 3]}", "spatial_border length: 3", 1);
	refused("BorderPad", 4, "{\"spatial_border\": [0, 0, 3], \"mode\": \"reflect\"}",
		"torch's reflect padding", 0);
	refused("BorderPad", 4, "{\"spatial_border\": 1, \"mode\": \"edge\", "
		"\"constant_values\": 0}", "'constant_values' argument is only valid", 1);
	refused("DivisiblePad", 4, "{\"k\": [2, 2]}", "k has 2 entries", 1);
	refused("DivisiblePad", 4, "{\"k\": 4, \"mode\": \"linear_ramp\"}",
		"mode 'linear_ramp' is not supported", 1);
	refused("DivisiblePad", 4, "{\"k\": 4, \"value\": 2}", "value=2 is not supported", 1);
	/* the parser: method choices, unknown names */
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_FAILS(golden_parse_text(golden_op("SpatialPad"), "{\"spatial_size\": 4, \"method\": "
			       "\"start\"}", &arena, a, &e), &e, "'method'");
	CHECK_FAILS(golden_parse_text(golden_op("CenterSpatialCrop"), "{}", &arena, a, &e), &e,
		    "roi_size");
	CHECK_FAILS(golden_parse_text(golden_op("BorderPad"), "{\"spatial_border\": 1, \"fill\": 0}",
			       &arena, a, &e), &e, "'fill'");
	mg_arena_free(&arena);
	/* file names and bad ranks */
	static const char *const ops[5][2] = {
		{"SpatialCrop", "{\"roi_start\": 0, \"roi_end\": 2}"},
		{"CenterSpatialCrop", "{\"roi_size\": 2}"}, {"SpatialPad", "{\"spatial_size\": 6}"},
		{"BorderPad", "{\"spatial_border\": 1}"}, {"DivisiblePad", "{\"k\": 4}"}};
	for (int i = 0; i < 5; i++) {
		const struct mg_opdef *d = golden_op(ops[i][0]);
		CHECK(d && (d->flags & MG_OPF_SPATIAL) && d->grid, "%s: a spatial op", ops[i][0]);
		struct mg_arena ar = {0};
		CHECK_OK(golden_parse_text(d, ops[i][1], &ar, a, &e), &e);
		golden_refuses_inputs(d, a, 5, 2);
		struct mg_type out, in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = -1};
		CHECK_OK(d->infer(a, &in, &out, &e), &e);
		CHECK(out.dtype == MG_DTYPE_I16, "%s: infer keeps the dtype", ops[i][0]);
		mg_arena_free(&ar);
	}
}

int main(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	test_errors();
	test_composition();
	if (doc)
		run_cases(doc);
	cJSON_Delete(doc);
	return check_done();
}
