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
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "../runtime/arena.h"
#include "check.h"
#include "npy.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/croppad/"

static const struct mg_opdef *op_named(const char *name)
{
	int i = mg_op_find(name);
	return i < 0 ? NULL : mg_ops[i];
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

/* Values index by index (any strides), exactly; returns mismatches, prints a few. */
static int64_t compare(const char *name, const struct mg_tensor *got,
		       const struct mg_tensor *want)
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
		if (g != w) {
			if (bad < 5)
				fprintf(stderr, "  %s: element %lld is %.9g, MONAI has %.9g\n",
					name, (long long)i, g, w);
			bad++;
		}
		i++;
	} while (mg_iter_next(&it));
	return bad;
}

static int same_shape(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	return 1;
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

/* Arguments from JSON text; 0 when accepted. */
static int parse_text(const struct mg_opdef *d, const char *json, struct mg_arena *arena,
		      struct mg_attr *a, struct mg_err *e)
{
	cJSON *j = cJSON_Parse(json);
	CHECK(j != NULL, "bad test JSON %s", json);
	int rc = mg_attrs_parse(d, j, -1, 1, NULL, arena, a, e);
	cJSON_Delete(j);
	return rc;
}

/* Runs op d (arguments as JSON text) on x; 0 and *y on success. */
static int apply(const struct mg_opdef *d, const char *json, const struct mg_tensor *x,
		 struct mg_tensor *y, struct mg_err *e)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	int rc = parse_text(d, json, &arena, a, e);
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = e};
	if (!rc)
		rc = d->ref(a, &in, &out, &k);
	*y = out.t;
	mg_arena_free(&arena);
	return rc;
}

/* ---- MONAI's cases ----------------------------------------------------------------------- */

static void check_grid(const char *name, const struct mg_opdef *d, const cJSON *c,
		       const struct mg_attr *a, const struct mg_tensor *x,
		       const struct mg_tensor *want)
{
	struct mg_grid g;
	struct mg_err e = {0};
	mg_grid_identity(&g, x);
	int rc = d->grid(a, x, &g, &e);
	CHECK(rc == 0, "%s: grid failed: %s", name, e.msg);
	if (rc)
		return;
	for (int i = 0; i < g.sdim; i++)
		CHECK(g.out_shape[i] == want->dims[1 + i], "%s: out_shape[%d] = %lld, MONAI has "
		      "%lld", name, i, (long long)g.out_shape[i], (long long)want->dims[1 + i]);
	double m[4][4];
	matrix(cJSON_GetObjectItem(c, "out_to_in"), m);
	double dm = max_diff(g.out_to_in, m);
	CHECK(dm <= 1e-9, "%s: out_to_in differs from MONAI's by %g", name, dm);
	matrix(cJSON_GetObjectItem(c, "out_affine"), m);
	dm = max_diff(g.affine, m);
	CHECK(dm <= 1e-9, "%s: affine differs from MONAI's by %g", name, dm);
	CHECK(mg_grid_is_index_only(&g), "%s: the grid is not index-only", name);
	for (int r = 0; r < 4; r++)
		for (int cc = 0; cc < 4; cc++)
			CHECK(g.out_to_in[r][cc] == nearbyint(g.out_to_in[r][cc]),
			      "%s: out_to_in[%d][%d] = %.17g", name, r, cc, g.out_to_in[r][cc]);
}

static void check_values(const char *name, const struct mg_opdef *d, const cJSON *c,
			 const struct mg_attr *a, struct mg_tensor *x,
			 const struct mg_tensor *want)
{
	struct mg_err e = {0};
	struct mg_tensor before;
	CHECK_OK(mg_tensor_contiguous(&before, x, &e), &e);
	double aff_before[4][4];
	memcpy(aff_before, x->meta->affine, sizeof aff_before);
	int napplied = x->meta->napplied, refs = x->buf->refs;
	int crop = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "kind")), "crop");
	int grows = 0;
	for (int i = 1; i < x->rank; i++)
		grows |= want->dims[i] > x->dims[i];
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = d->ref(a, &in, &out, &k);
	CHECK(rc == 0, "%s: %s failed: %s", name, d->name, e.msg);
	if (rc == 0) {
		const struct mg_tensor *y = &out.t;
		CHECK(same_shape(y, want), "%s: output shape differs from MONAI's", name);
		CHECK(y->dtype == x->dtype && y->dtype == want->dtype, "%s: dtype %s, MONAI's %s",
		      name, mg_dtype_name(y->dtype), mg_dtype_name(want->dtype));
		if (crop || !grows)
			CHECK(y->buf == x->buf && x->buf->refs == refs + 1,
			      "%s: the output is not a view of the input", name);
		else
			CHECK(y->buf != x->buf && x->buf->refs == refs,
			      "%s: a pad shares the input's buffer", name);
		if (same_shape(y, want) && y->dtype == want->dtype) {
			int64_t bad = compare(name, y, want);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		double aff[4][4];
		matrix(cJSON_GetObjectItem(c, "out_affine"), aff);
		CHECK(y->meta && max_diff(y->meta->affine, aff) <= 1e-9,
		      "%s: output meta affine differs from MONAI's", name);
		CHECK(y->meta && y->meta->napplied == napplied + 1 &&
			      !strcmp(y->meta->applied[napplied].op, d->name),
		      "%s: no applied-operations entry", name);
		struct mg_type tin = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype,
				      .rank = x->rank}, tout = {0};
		memcpy(tin.dims, x->dims, sizeof tin.dims);
		CHECK_OK(d->infer(a, &tin, &tout, &e), &e);
		CHECK(tout.dtype == (int)y->dtype && tout.rank == y->rank &&
			      tout.dims[0] == y->dims[0], "%s: infer disagrees", name);
	}
	CHECK(compare(name, x, &before) == 0, "%s: the kernel wrote into its input", name);
	CHECK(!memcmp(aff_before, x->meta->affine, sizeof aff_before) &&
		      x->meta->napplied == napplied,
	      "%s: the kernel changed the input's meta", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
}

static int load_input(const cJSON *inputs, const char *key, struct mg_tensor *x,
		      struct mg_err *e)
{
	const cJSON *in = cJSON_GetObjectItem(inputs, key);
	const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(in, "file"));
	if (!file)
		return mg_err_set(e, MG_ERR_FORMAT, "cases.json has no input '%s'", key);
	char path[1024];
	snprintf(path, sizeof path, GOLDEN "%s", file);
	int rc = npy_read(path, x, e);
	if (rc)
		return rc;
	double aff[4][4];
	matrix(cJSON_GetObjectItem(in, "affine"), aff);
	attach_affine(x, aff);
	return x->meta ? 0 : -1;
}

static cJSON *load_cases(void)
{
	char *text = read_text(GOLDEN "cases.json");
	CHECK(text != NULL, "cannot read " GOLDEN "cases.json");
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	CHECK(doc != NULL, "cases.json does not parse");
	return doc;
}

/* The op on a flipped view of x (negative strides) equals the op on a contiguous copy
 * of that view: the padded copy indexes any strides. */
static void check_flipped(const char *name, const struct mg_opdef *d, const cJSON *args,
			  const struct mg_tensor *x)
{
	struct mg_tensor fx, cx, y1, y2;
	struct mg_err e = {0};
	char *json = cJSON_PrintUnformatted(args);
	CHECK_OK(apply(op_named("Flip"), "{}", x, &fx, &e), &e);
	CHECK(fx.strides[1] < 0, "%s: the flipped view has positive strides", name);
	CHECK_OK(mg_tensor_contiguous(&cx, &fx, &e), &e);
	if (!cx.meta) {
		cx.meta = fx.meta;
		mg_meta_retain(cx.meta);
	}
	CHECK_OK(apply(d, json, &fx, &y1, &e), &e);
	CHECK_OK(apply(d, json, &cx, &y2, &e), &e);
	CHECK(same_shape(&y1, &y2) && y1.dtype == y2.dtype && compare(name, &y1, &y2) == 0,
	      "%s: a flipped (negative-stride) input gives other values", name);
	mg_tensor_release(&y1);
	mg_tensor_release(&y2);
	mg_tensor_release(&cx);
	mg_tensor_release(&fx);
	free(json);
}

static void run_cases(const cJSON *doc)
{
	const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
	const cJSON *inputs = cJSON_GetObjectItem(doc, "inputs");
	CHECK(cJSON_GetArraySize(cases) > 100, "too few cases");
	int n = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(c, "op"));
		const struct mg_opdef *d = op ? op_named(op) : NULL;
		CHECK(name && d, "case %s: unknown op %s", name ? name : "?", op ? op : "?");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		int rc = mg_attrs_parse(d, cJSON_GetObjectItem(c, "args"), -1, 1, NULL, &arena,
					a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		char pout[1024];
		snprintf(pout, sizeof pout, GOLDEN "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(c, "output")));
		struct mg_tensor x = {0}, want = {0};
		const char *inp = cJSON_GetStringValue(cJSON_GetObjectItem(c, "input"));
		int rin = load_input(inputs, inp ? inp : "", &x, &e);
		int rout = rin ? -1 : npy_read(pout, &want, &e);
		CHECK(rin == 0 && rout == 0, "%s: %s", name, e.msg);
		if (rc == 0 && rin == 0 && rout == 0) {
			check_grid(name, d, c, a, &x, &want);
			check_values(name, d, c, a, &x, &want);
			check_flipped(name, d, cJSON_GetObjectItem(c, "args"), &x);
			n++;
		}
		mg_tensor_release(&x);
		mg_tensor_release(&want);
		mg_arena_free(&arena);
	}
	printf("%d crop/pad cases\n", n);
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
	double aff[4][4] = {{-0.9, 0.1, 0, 90}, {0, -1.1, -0.2, 12}, {0.05, 0, 2.5, -7},
			    {0, 0, 0, 1}};
	attach_affine(&x, aff);
	CHECK_OK(apply(op_named(pad), padargs, &x, &y, &e), &e);
	CHECK_OK(apply(op_named(crop), cropargs, &y, &z, &e), &e);
	/* the composed grid, run by the padded-copy path */
	struct mg_arena arena = {0};
	struct mg_attr a1[16], a2[16];
	CHECK_OK(parse_text(op_named(pad), padargs, &arena, a1, &e), &e);
	CHECK_OK(parse_text(op_named(crop), cropargs, &arena, a2, &e), &e);
	struct mg_grid g, g2;
	mg_grid_identity(&g, &x);
	CHECK_OK(op_named(pad)->grid(a1, &x, &g, &e), &e);
	mg_grid_identity(&g2, &y);
	CHECK_OK(op_named(crop)->grid(a2, &y, &g2, &e), &e);
	mg_grid_then(&g, &g2);
	CHECK(mg_grid_is_index_only(&g), "%s then %s: not index-only", pad, crop);
	CHECK(max_diff(g.affine, z.meta->affine) <= 1e-12, "%s then %s: affine", pad, crop);
	for (int i = 0; i < 3; i++)
		CHECK(g.out_shape[i] == z.dims[1 + i], "%s then %s: shape", pad, crop);
	/* FusedSpatial's kernel on the same chain */
	const struct mg_opdef *f = op_named("FusedSpatial");
	uint16_t ops[2] = {(uint16_t)mg_op_find(pad), (uint16_t)mg_op_find(crop)};
	const struct mg_attr *as[2] = {a1, a2};
	const char *labels[2] = {"pad", "crop"};
	struct mg_chain chain = {2, ops, as, labels};
	struct mg_attr fa = {.v.chain = &chain};
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = x}, out = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_OK(f->ref(&fa, &in, &out, &k), &e);
	w = out.t;
	CHECK(same_shape(&w, &z) && w.dtype == dt, "%s then %s fused: shape or dtype", pad,
	      crop);
	if (same_shape(&w, &z))
		CHECK(compare("fused", &w, &z) == 0, "%s %s then %s %s fused differs", pad,
		      padargs, crop, cropargs);
	CHECK(w.meta && max_diff(w.meta->affine, z.meta->affine) <= 1e-12,
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

/* ---- errors ------------------------------------------------------------------------------ */

static void small_image(struct mg_tensor *x, int rank)
{
	int64_t dims[5] = {1, 5, 4, 3, 2};
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(x, MG_DTYPE_F32, rank, dims, &e), &e);
	float *p = mg_tensor_data(x);
	for (int64_t i = 0; i < mg_tensor_numel(x); i++)
		p[i] = (float)i;
	double aff[4][4] = {{-0.9, 0.1, 0, 90}, {0, -1.1, -0.2, 12}, {0.05, 0, 2.5, -7},
			    {0, 0, 0, 1}};
	attach_affine(x, aff);
}

/* Arguments that parse, then fail in the type rule (when infer_too), the grid and the
 * kernel. */
static void refused(const char *op, int rank, const char *json, const char *needle,
		    int infer_too)
{
	const struct mg_opdef *d = op_named(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = rank}, out;
	if (infer_too)
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, needle);
	struct mg_tensor x;
	small_image(&x, rank);
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	CHECK_FAILS(d->grid(a, &x, &g, &e), &e, needle);
	struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(d->ref(a, &v, &o, &k), &e, needle);
	CHECK(o.kind == MG_VK_NONE, "%s %s: a failed kernel left an output", op, json);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
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
	CHECK_FAILS(parse_text(op_named("SpatialPad"), "{\"spatial_size\": 4, \"method\": "
			       "\"start\"}", &arena, a, &e), &e, "'method'");
	CHECK_FAILS(parse_text(op_named("CenterSpatialCrop"), "{}", &arena, a, &e), &e,
		    "roi_size");
	CHECK_FAILS(parse_text(op_named("BorderPad"), "{\"spatial_border\": 1, \"fill\": 0}",
			       &arena, a, &e), &e, "'fill'");
	mg_arena_free(&arena);
	/* file names and bad ranks */
	static const char *const ops[5][2] = {
		{"SpatialCrop", "{\"roi_start\": 0, \"roi_end\": 2}"},
		{"CenterSpatialCrop", "{\"roi_size\": 2}"}, {"SpatialPad", "{\"spatial_size\": 6}"},
		{"BorderPad", "{\"spatial_border\": 1}"}, {"DivisiblePad", "{\"k\": 4}"}};
	for (int i = 0; i < 5; i++) {
		const struct mg_opdef *d = op_named(ops[i][0]);
		CHECK(d && (d->flags & MG_OPF_SPATIAL) && d->grid, "%s: a spatial op", ops[i][0]);
		struct mg_arena ar = {0};
		CHECK_OK(parse_text(d, ops[i][1], &ar, a, &e), &e);
		struct mg_type in = {.kind = MG_VK_STRINGS, .rank = -1}, out;
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "LoadImage");
		in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 5};
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "EnsureChannelFirst");
		struct mg_tensor x;
		small_image(&x, 2);
		struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
		struct mg_kctx k = {.err = &e};
		CHECK_FAILS(d->ref(a, &v, &o, &k), &e, "EnsureChannelFirst");
		mg_tensor_release(&x);
		in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = -1};
		CHECK_OK(d->infer(a, &in, &out, &e), &e);
		CHECK(out.dtype == MG_DTYPE_I16, "%s: infer keeps the dtype", ops[i][0]);
		mg_arena_free(&ar);
	}
}

int main(void)
{
	cJSON *doc = load_cases();
	test_errors();
	test_composition();
	if (doc)
		run_cases(doc);
	cJSON_Delete(doc);
	return check_done();
}
