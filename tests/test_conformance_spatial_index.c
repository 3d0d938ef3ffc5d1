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
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "../runtime/arena.h"
#include "check.h"
#include "npy.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/spatial_index/"

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

static int is_eye(const double m[4][4])
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			if (m[r][c] != (r == c))
				return 0;
	return 1;
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

/* The same elements of the same buffer: what "the input back" means for a view. */
static int same_view(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (!same_shape(a, b) || a->buf != b->buf || a->offset != b->offset)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] > 1 && a->strides[i] != b->strides[i])
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

/* The grid alone: shape, voxel map and affine against MONAI's. */
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
	CHECK(g.sdim == x->rank - 1, "%s: sdim %d", name, g.sdim);
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
	/* an exact integer map, so the view needs no rounding */
	for (int r = 0; r < 4; r++)
		for (int cc = 0; cc < 4; cc++)
			CHECK(g.out_to_in[r][cc] == nearbyint(g.out_to_in[r][cc]),
			      "%s: out_to_in[%d][%d] = %.17g", name, r, cc, g.out_to_in[r][cc]);
}

/* The op's type rule must describe what its kernel made. */
static void check_infer(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
			const struct mg_tensor *x, const struct mg_tensor *y)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank};
	struct mg_type out = {0};
	memcpy(in.dims, x->dims, sizeof in.dims);
	struct mg_err e = {0};
	CHECK_OK(d->infer(a, &in, &out, &e), &e);
	CHECK(out.kind == MG_VK_TENSOR && out.dtype == (int)y->dtype && out.rank == y->rank,
	      "%s: infer says %s rank %d", name, mg_dtype_name(out.dtype), out.rank);
	for (int i = 0; i < out.rank && out.rank == y->rank; i++)
		CHECK(out.dims[i] < 0 || out.dims[i] == y->dims[i], "%s: infer dim %d is %lld, "
		      "kernel made %lld", name, i, (long long)out.dims[i], (long long)y->dims[i]);
	CHECK(out.dims[0] == y->dims[0], "%s: infer's channel count", name);
}

/* The reference kernel against MONAI's values. */
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
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = d->ref(a, &in, &out, &k);
	CHECK(rc == 0, "%s: %s failed: %s", name, d->name, e.msg);
	if (rc == 0) {
		const struct mg_tensor *y = &out.t;
		CHECK(same_shape(y, want), "%s: output shape differs from MONAI's", name);
		CHECK(y->dtype == x->dtype && y->dtype == want->dtype, "%s: dtype %s, MONAI's %s",
		      name, mg_dtype_name(y->dtype), mg_dtype_name(want->dtype));
		/* a view: the input's buffer, one more reference, no copy */
		CHECK(y->buf == x->buf && x->buf->refs == refs + 1,
		      "%s: the output is not a view of the input", name);
		if (same_shape(y, want) && y->dtype == want->dtype) {
			int64_t bad = compare(name, y, want);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		double aff[4][4];
		matrix(cJSON_GetObjectItem(c, "out_affine"), aff);
		CHECK(y->meta && max_diff(y->meta->affine, aff) <= 1e-9,
		      "%s: output meta affine differs from MONAI's", name);
		CHECK(y->meta && y->meta->sdim == x->rank - 1, "%s: output sdim", name);
		CHECK(y->meta && y->meta->napplied == napplied + 1 &&
			      !strcmp(y->meta->applied[napplied].op, d->name) &&
			      y->meta->applied[napplied].orig_shape[0] == x->dims[1],
		      "%s: no applied-operations entry", name);
		check_infer(name, d, a, x, y);
	}
	CHECK(compare(name, x, &before) == 0, "%s: the kernel wrote into its input", name);
	CHECK(!memcmp(aff_before, x->meta->affine, sizeof aff_before) &&
		      x->meta->napplied == napplied,
	      "%s: the kernel changed the input's meta", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
}

/* Reads an input of cases.json's "inputs" with its affine. */
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

static void run_cases(const cJSON *doc)
{
	const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
	const cJSON *inputs = cJSON_GetObjectItem(doc, "inputs");
	CHECK(cJSON_GetArraySize(cases) > 0, "no cases");
	const cJSON *ver = cJSON_GetObjectItem(doc, "versions");
	if (ver)
		printf("golden cases from MONAI %s, torch %s, nibabel %s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "monai")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "torch")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "nibabel")));
	int n[3] = {0};
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
			n[d == op_named("Orientation") ? 0 : d == op_named("Flip") ? 1 : 2]++;
		}
		mg_tensor_release(&x);
		mg_tensor_release(&want);
		mg_arena_free(&arena);
	}
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
	const struct mg_opdef *d = op_named("Orientation");
	const cJSON *in;
	int pairs = 0;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(doc, "inputs")) {
		struct mg_tensor x, y, z;
		struct mg_err e = {0};
		if (load_input(cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e)) {
			CHECK(0, "%s: %s", in->string, e.msg);
			continue;
		}
		int sdim = x.rank - 1;
		char own[4], json[64], codes[48][4];
		mg_affine_axcodes(x.meta->affine, sdim, own);
		snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", own);
		CHECK_OK(apply(d, json, &x, &y, &e), &e);
		CHECK(same_view(&y, &x), "%s: Orientation to its own axcodes %s moved data",
		      in->string, own);
		CHECK(y.meta && max_diff(y.meta->affine, x.meta->affine) == 0,
		      "%s: Orientation to its own axcodes changed the affine", in->string);
		mg_tensor_release(&y);
		int n = all_axcodes(sdim, codes);
		for (int b = 0; b < n; b++) {
			snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", codes[b]);
			CHECK_OK(apply(d, json, &x, &y, &e), &e);
			char got[4];
			mg_affine_axcodes(y.meta->affine, sdim, got);
			CHECK(!strcmp(got, codes[b]), "%s: Orientation to %s gives an image in %s",
			      in->string, codes[b], got);
			snprintf(json, sizeof json, "{\"axcodes\": \"%.3s\"}", own);
			CHECK_OK(apply(d, json, &y, &z, &e), &e);
			CHECK(same_view(&z, &x), "%s: %s -> %s -> %s is not the input", in->string,
			      own, codes[b], own);
			CHECK(z.meta && max_diff(z.meta->affine, x.meta->affine) <= 1e-12,
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
	const struct mg_opdef *d = op_named("Flip");
	const cJSON *in;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(doc, "inputs")) {
		struct mg_tensor x, y, z;
		struct mg_err e = {0};
		if (load_input(cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e))
			continue;
		int sdim = x.rank - 1;
		for (int s = 0; s < (1 << sdim); s++) {
			char json[64];
			flip_args(json, sizeof json, s, sdim);
			CHECK_OK(apply(d, json, &x, &y, &e), &e);
			CHECK(s == 0 || !same_view(&y, &x), "%s: %s did nothing", in->string, json);
			CHECK_OK(apply(d, json, &y, &z, &e), &e);
			CHECK(same_view(&z, &x), "%s: %s twice is not the input", in->string, json);
			CHECK(z.meta && max_diff(z.meta->affine, x.meta->affine) <= 1e-12,
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
	const struct mg_opdef *d = op_named("Rotate90");
	int sdim = x->rank - 1;
	struct mg_tensor y, z;
	struct mg_err e = {0};
	char json[96];
	snprintf(json, sizeof json, "{\"k\": 4, \"spatial_axes\": [%d, %d]}", a0, a1);
	CHECK_OK(apply(d, json, x, &y, &e), &e);
	CHECK(same_view(&y, x), "%s: %s is not the identity", name, json);
	mg_tensor_release(&y);
	for (int k = 1; k < 4; k++) {
		snprintf(json, sizeof json, "{\"k\": %d, \"spatial_axes\": [%d, %d]}", k, a0,
			 a1);
		CHECK_OK(apply(d, json, x, &y, &e), &e);
		snprintf(json, sizeof json, "{\"k\": %d, \"spatial_axes\": [%d, %d]}", -k,
			 a0 - sdim, a1);
		CHECK_OK(apply(d, json, &y, &z, &e), &e);
		CHECK(same_view(&z, x), "%s: k=%d then k=%d in (%d, %d) is not the input", name,
		      k, -k, a0, a1);
		CHECK(z.meta && max_diff(z.meta->affine, x->meta->affine) <= 1e-12,
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
	CHECK_OK(parse_text(d, json, &arena, a, &e), &e);
	for (int t = 0; t < 4; t++) {
		mg_grid_identity(&step, &cur);
		CHECK_OK(d->grid(a, &cur, &step, &e), &e);
		mg_grid_then(&total, &step);
		CHECK_OK(apply(d, json, &cur, &y, &e), &e);
		mg_tensor_release(&cur);
		cur = y;
	}
	CHECK(same_view(&cur, x), "%s: four turns in (%d, %d) are not the input", name, a0,
	      a1);
	CHECK(is_eye(total.out_to_in), "%s: four composed turns in (%d, %d) are not the "
	      "identity grid", name, a0, a1);
	CHECK(max_diff(total.affine, x->meta->affine) <= 1e-12,
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
		if (load_input(cJSON_GetObjectItem(doc, "inputs"), in->string, &x, &e))
			continue;
		for (int a0 = 0; a0 < x.rank - 1; a0++)
			for (int a1 = 0; a1 < x.rank - 1; a1++)
				if (a0 != a1)
					rotate90_cycle(in->string, &x, a0, a1);
		mg_tensor_release(&x);
	}
}

/* ---- errors ------------------------------------------------------------------------------ */

/* A 1x5x4x3 (or 1x5x4) float32 image, values 0..n-1, with an oblique LPS-ish affine. */
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

/* Arguments that parse, then fail in the type rule (for a known rank) and in the grid. */
static void refused(const char *op, int rank, const char *json, const char *needle)
{
	const struct mg_opdef *d = op_named(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = rank}, out;
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

/* Arguments that the type rule accepts for a known rank. */
static void accepted(const char *op, int rank, const char *json)
{
	const struct mg_opdef *d = op_named(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = rank}, out;
	CHECK_OK(d->infer(a, &in, &out, &e), &e);
	struct mg_tensor x, y;
	small_image(&x, rank);
	CHECK_OK(apply(d, json, &x, &y, &e), &e);
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
		const struct mg_opdef *d = op_named("Orientation");
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		int rc = parse_text(d, "{\"axcodes\": \"RAS\", \"labels\": [[\"L\", \"R\"], "
				    "[\"P\", \"A\"], [\"I\", \"S\"]]}", &arena, a, &e);
		CHECK(rc == 0 ? 1 : strstr(e.msg, "'labels'") != NULL, "%s", e.msg);
		struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}, out;
		if (rc == 0)
			CHECK_OK(d->infer(a, &in, &out, &e), &e);
		mg_arena_free(&arena);
	}
	/* a degenerate affine: nibabel drops the axis and ornt_transform fails */
	{
		const struct mg_opdef *d = op_named("Orientation");
		struct mg_tensor x, y;
		struct mg_err e = {0};
		small_image(&x, 4);
		for (int i = 0; i < 3; i++)
			x.meta->affine[i][1] = 0;
		CHECK_FAILS(apply(d, "{\"axcodes\": \"RAS\"}", &x, &y, &e), &e, "degenerate");
		CHECK_FAILS(apply(d, "{\"as_closest_canonical\": true}", &x, &y, &e), &e,
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
		CHECK_FAILS(parse_text(op_named("Rotate90"), "{\"k\": 1.5}", &arena, a, &e), &e,
			    "'k'");
		CHECK_FAILS(parse_text(op_named("Flip"), "{\"spatial_axis\": \"x\"}", &arena, a,
				       &e), &e, "'spatial_axis'");
		CHECK_FAILS(parse_text(op_named("Orientation"), "{\"axcodes\": 3}", &arena, a, &e),
			    &e, "'axcodes'");
		CHECK_FAILS(parse_text(op_named("Orientation"), "{\"axcode\": \"RAS\"}", &arena, a,
				       &e), &e, "'axcode'");
		mg_arena_free(&arena);
	}
	/* wrong inputs, for each op: file names, and ranks that are not (C, X, Y[, Z]) */
	static const char *const ops[3][2] = {{"Orientation", "{\"axcodes\": \"RAS\"}"},
					      {"Flip", "{}"}, {"Rotate90", "{}"}};
	for (int i = 0; i < 3; i++) {
		const struct mg_opdef *d = op_named(ops[i][0]);
		CHECK(d && (d->flags & MG_OPF_SPATIAL) && d->grid, "%s: a spatial op", ops[i][0]);
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		CHECK_OK(parse_text(d, ops[i][1], &arena, a, &e), &e);
		struct mg_type in = {.kind = MG_VK_STRINGS, .rank = -1}, out;
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "LoadImage");
		for (int rank = 1; rank <= 5; rank += 1) {
			if (rank == 3 || rank == 4)
				continue;
			in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32,
					      .rank = rank};
			CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "EnsureChannelFirst");
			struct mg_tensor x;
			small_image(&x, rank);
			struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
			struct mg_kctx k = {.err = &e};
			CHECK_FAILS(d->ref(a, &v, &o, &k), &e, "EnsureChannelFirst");
			mg_tensor_release(&x);
		}
		/* an unknown rank is left to run time */
		in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_U8, .rank = -1};
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
	CHECK_OK(parse_text(op_named("Rotate90"), "{\"k\": 3, \"spatial_axes\": [-1, 0]}",
			    &arena, a, &e), &e);
	CHECK_OK(op_named("Rotate90")->infer(a, &in, &out, &e), &e);
	CHECK(out.dims[0] == 2 && out.dims[1] == 3 && out.dims[2] == 4 && out.dims[3] == 5 &&
		      out.dtype == MG_DTYPE_I16,
	      "Rotate90 k=3 in (z, x): (2, 3, 4, 5)");
	CHECK_OK(parse_text(op_named("Flip"), "{}", &arena, a, &e), &e);
	CHECK_OK(op_named("Flip")->infer(a, &in, &out, &e), &e);
	CHECK(!memcmp(out.dims, in.dims, sizeof in.dims), "Flip keeps the shape");
	CHECK_OK(parse_text(op_named("Orientation"), "{\"axcodes\": \"LPS\"}", &arena, a, &e),
		 &e);
	CHECK_OK(op_named("Orientation")->infer(a, &in, &out, &e), &e);
	CHECK(out.rank == 4 && out.dims[0] == 2 && out.dims[1] < 0 && out.dims[3] < 0,
	      "Orientation: channels kept, spatial dims from the affine");
	mg_arena_free(&arena);
}

int main(void)
{
	cJSON *doc = load_cases();
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
