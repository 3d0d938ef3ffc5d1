/* golden.h: the harness the conformance tests share for MONAI's golden cases
 * (tests/golden/<x>/cases.json, made by tools/golden/gen_*.py): reading cases.json and
 * its .npy inputs and outputs (through npy.h) with their affines, parsing and running an
 * op on JSON arguments, comparing shapes, values and 4x4 affines, and the per-case
 * checks of a spatial op (its grid, its reference kernel, its type rule). Include after
 * check.h, in one test file. Read next: test_conformance_spatial_index.c. */
#ifndef MG_TEST_GOLDEN_H
#define MG_TEST_GOLDEN_H

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "../runtime/arena.h"
#include "files.h"
#include "npy.h"

/* The op of that name, or NULL. */
static inline const struct mg_opdef *golden_op(const char *name)
{
	int i = mg_op_find(name);
	return i < 0 ? NULL : mg_ops[i];
}

/* A 4x4 matrix from JSON rows. */
static inline void golden_matrix(const cJSON *j, double m[4][4])
{
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			m[r][c] = cJSON_GetArrayItem(cJSON_GetArrayItem(j, r), c)->valuedouble;
}

/* The largest |a - b| over the 16 entries. */
static inline double golden_max_diff(const double a[4][4], const double b[4][4])
{
	double d = 0;
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			d = fmax(d, fabs(a[r][c] - b[r][c]));
	return d;
}

static inline int golden_same_shape(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	return 1;
}

/* Values index by index (any strides, any dtypes): a value passes when
 * |got - want| <= atol + rtol * |want| (0, 0: exactly); NaN equals NaN, and an infinity
 * itself. Returns the
 * number that fail and prints the first few; the largest error goes to *max_err when
 * that is not NULL. */
static inline int64_t golden_compare(const char *name, const struct mg_tensor *got,
				     const struct mg_tensor *want, double atol, double rtol,
				     double *max_err)
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
		double err = g == w ? 0 : fabs(g - w);
		if (isnan(g) && isnan(w))
			err = 0;
		else if (isnan(g) || isnan(w))
			err = INFINITY;
		if (max_err && err > *max_err)
			*max_err = err;
		if (err != 0 && !(err <= atol + (isnan(w) ? 0 : rtol * fabs(w)))) {
			if (bad < 5)
				fprintf(stderr, "  %s: element %lld is %.9g, MONAI has %.9g\n",
					name, (long long)i, g, w);
			bad++;
		}
		i++;
	} while (mg_iter_next(&it));
	return bad;
}

/* Gives x fresh meta: that affine (NULL: the default) and sdim = rank - 1. */
static inline void golden_attach_affine(struct mg_tensor *x, const double aff[4][4])
{
	x->meta = mg_meta_new();
	CHECK(x->meta != NULL);
	if (!x->meta)
		return;
	if (aff)
		memcpy(x->meta->affine, aff, sizeof x->meta->affine);
	x->meta->sdim = x->rank - 1;
}

/* An oblique, LPS-ish affine for the property and error tests. */
static const double golden_oblique[4][4] = {
	{-0.9, 0.1, 0, 90}, {0, -1.1, -0.2, 12}, {0.05, 0, 2.5, -7}, {0, 0, 0, 1}};

/* A float32 image of the first rank of dims, values 0..n-1, with that affine (NULL: the
 * default); golden_small_image is 1x5x4x3(x2) with golden_oblique. */
static inline void golden_image(struct mg_tensor *x, int rank, const int64_t *dims,
				const double aff[4][4])
{
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(x, MG_DTYPE_F32, rank, dims, &e), &e);
	float *p = mg_tensor_data(x);
	for (int64_t i = 0; i < mg_tensor_numel(x); i++)
		p[i] = (float)i;
	golden_attach_affine(x, aff);
}

static inline void golden_small_image(struct mg_tensor *x, int rank)
{
	golden_image(x, rank, (const int64_t[]){1, 5, 4, 3, 2}, golden_oblique);
}

/* Op d's arguments from a JSON value (as a pipeline's are parsed); 0 when accepted. */
static inline int golden_parse(const struct mg_opdef *d, const cJSON *args,
			       struct mg_arena *arena, struct mg_attr *a, struct mg_err *e)
{
	return mg_attrs_parse(d, args, -1, 1, NULL, arena, a, e);
}

/* The same from JSON text. */
static inline int golden_parse_text(const struct mg_opdef *d, const char *json,
				    struct mg_arena *arena, struct mg_attr *a, struct mg_err *e)
{
	cJSON *j = cJSON_Parse(json);
	CHECK(j != NULL, "bad test JSON %s", json);
	int rc = golden_parse(d, j, arena, a, e);
	cJSON_Delete(j);
	return rc;
}

/* Runs op d (arguments as JSON text) on x; 0 and *y on success. */
static inline int golden_apply(const struct mg_opdef *d, const char *json,
			       const struct mg_tensor *x, struct mg_tensor *y, struct mg_err *e)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	int rc = golden_parse_text(d, json, &arena, a, e);
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = e};
	if (!rc)
		rc = d->ref(a, &in, &out, &k);
	*y = out.t;
	mg_arena_free(&arena);
	return rc;
}

/* dir/cases.json, parsed (NULL when it cannot be read or parsed); prints the versions
 * that made it. dir ends in '/'. */
static inline cJSON *golden_load_cases(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%scases.json", dir);
	char *text = files_read(path);
	CHECK(text != NULL, "cannot read %s", path);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	CHECK(doc != NULL, "%s does not parse", path);
	const cJSON *ver = cJSON_GetObjectItem(doc, "versions");
	const char *nib = cJSON_GetStringValue(cJSON_GetObjectItem(ver, "nibabel"));
	if (ver)
		printf("golden cases from MONAI %s, torch %s%s%s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "monai")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "torch")),
		       nib ? ", nibabel " : "", nib ? nib : "");
	return doc;
}

/* The .npy file dir/file (file may be NULL: an error). */
static inline int golden_read_npy(const char *dir, const char *file, struct mg_tensor *t,
				  struct mg_err *e)
{
	if (!file)
		return mg_err_set(e, MG_ERR_FORMAT, "cases.json names no .npy file");
	char path[1024];
	snprintf(path, sizeof path, "%s%s", dir, file);
	return npy_read(path, t, e);
}

/* Reads the input `key` of cases.json's "inputs" ({"file": .npy, "affine": 4x4}) with
 * its affine. */
static inline int golden_load_input(const char *dir, const cJSON *inputs, const char *key,
				    struct mg_tensor *x, struct mg_err *e)
{
	const cJSON *in = cJSON_GetObjectItem(inputs, key);
	const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(in, "file"));
	if (!file)
		return mg_err_set(e, MG_ERR_FORMAT, "cases.json has no input '%s'", key);
	int rc = golden_read_npy(dir, file, x, e);
	if (rc)
		return rc;
	double aff[4][4];
	golden_matrix(cJSON_GetObjectItem(in, "affine"), aff);
	golden_attach_affine(x, aff);
	return x->meta ? 0 : -1;
}

/* What a test does with one case: op d on input x (with its affine when cases.json
 * gives one in "inputs") against MONAI's output want; a = the case's parsed "args". */
typedef void golden_case_fn(const char *name, const struct mg_opdef *d, const cJSON *c,
			    const struct mg_attr *a, struct mg_tensor *x,
			    const struct mg_tensor *want, void *ctx);

/* Runs fn on every case of doc: {"name", "op" (or every case is op d0), "args",
 * "input": a key of doc's "inputs" or else an .npy file, "output": an .npy file}, when
 * its op is known, its arguments parse and both files read. Returns how many ran. */
static inline int golden_run_cases(const cJSON *doc, const char *dir,
				   const struct mg_opdef *d0, golden_case_fn *fn, void *ctx)
{
	const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
	const cJSON *inputs = cJSON_GetObjectItem(doc, "inputs");
	CHECK(cJSON_GetArraySize(cases) > 0, "no cases");
	int n = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(c, "op"));
		const struct mg_opdef *d = op ? golden_op(op) : d0;
		CHECK(name && d, "case %s: unknown op %s", name ? name : "?", op ? op : "?");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		int rc = golden_parse(d, cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		struct mg_tensor x = {0}, want = {0};
		const char *inp = cJSON_GetStringValue(cJSON_GetObjectItem(c, "input"));
		int rin = inputs ? golden_load_input(dir, inputs, inp ? inp : "", &x, &e)
				 : golden_read_npy(dir, inp, &x, &e);
		CHECK(rin == 0, "%s: %s", name, e.msg);
		mg_err_clear(&e);
		int rout = golden_read_npy(dir, cJSON_GetStringValue(cJSON_GetObjectItem(c, "output")),
					   &want, &e);
		CHECK(rout == 0, "%s: %s", name, e.msg);
		if (rc == 0 && rin == 0 && rout == 0) {
			fn(name, d, c, a, &x, &want, ctx);
			n++;
		}
		if (rin == 0)
			mg_tensor_release(&x);
		if (rout == 0)
			mg_tensor_release(&want);
		mg_arena_free(&arena);
	}
	return n;
}

/* ---- a spatial op's case ---------------------------------------------------------------- */

/* The op's whole grid on x: its grid, then its second step (Zoom's keep_size) composed. */
static inline int golden_whole_grid(const struct mg_opdef *d, const struct mg_attr *a,
				    const struct mg_tensor *x, struct mg_grid *g, struct mg_err *e)
{
	mg_grid_identity(g, x);
	int rc = d->grid(a, x, g, e);
	if (rc || !d->then)
		return rc;
	struct mg_grid g2;
	mg_grid_next(g, &g2);
	if (!(rc = d->then(a, g, &g2, e)))
		mg_grid_then(g, &g2);
	return rc;
}

/* The op's whole grid on x for case `name`: 0 when it ran, its output shape checked
 * against want's spatial dims. */
static inline int golden_grid_shape(const char *name, const struct mg_opdef *d,
				    const struct mg_attr *a, const struct mg_tensor *x,
				    const struct mg_tensor *want, struct mg_grid *g)
{
	struct mg_err e = {0};
	int rc = golden_whole_grid(d, a, x, g, &e);
	CHECK(rc == 0, "%s: grid failed: %s", name, e.msg);
	for (int i = 0; i < g->sdim && !rc; i++)
		CHECK(g->out_shape[i] == want->dims[1 + i], "%s: out_shape[%d] = %lld, MONAI has "
		      "%lld", name, i, (long long)g->out_shape[i], (long long)want->dims[1 + i]);
	return rc;
}

/* Op d (arguments a) refuses inputs that are not channel-first 2D or 3D images: file
 * names in its type rule (the message names LoadImage), a float32 type of rank
 * infer_rank and a small image of rank ref_rank in its type rule and its kernel (the
 * message names EnsureChannelFirst). */
static inline void golden_refuses_inputs(const struct mg_opdef *d, const struct mg_attr *a,
					 int infer_rank, int ref_rank)
{
	struct mg_err e = {0};
	struct mg_type in = {.kind = MG_VK_STRINGS, .rank = -1}, out;
	CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "LoadImage");
	in = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = infer_rank};
	CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "EnsureChannelFirst");
	struct mg_tensor x;
	golden_small_image(&x, ref_rank);
	struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(d->ref(a, &v, &o, &k), &e, "EnsureChannelFirst");
	mg_tensor_release(&x);
}

/* Arguments (JSON text) that parse, then fail with needle in the message: in the type
 * rule for a float32 image of that rank (when infer_too), in the whole grid and in the
 * kernel on a small image, which leaves no output. */
static inline void golden_refused(const struct mg_opdef *d, int rank, const char *json,
				  const char *needle, int infer_too)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, json, &arena, a, &e), &e);
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = rank}, out;
	if (infer_too)
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, needle);
	struct mg_tensor x;
	golden_small_image(&x, rank);
	struct mg_grid g;
	CHECK_FAILS(golden_whole_grid(d, a, &x, &g, &e), &e, needle);
	struct mg_val v = {.kind = MG_VK_TENSOR, .t = x}, o = {0};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(d->ref(a, &v, &o, &k), &e, needle);
	CHECK(o.kind == MG_VK_NONE, "%s %s: a failed kernel left an output", d->name, json);
	mg_tensor_release(&x);
	mg_arena_free(&arena);
}

/* An index-only op's grid alone (no voxels move) against case c: sdim, shape exact,
 * out_to_in and affine within 1e-9, index-only with an exact integer map (so a view
 * needs no rounding). */
static inline void golden_check_index_grid(const char *name, const struct mg_opdef *d,
					   const cJSON *c, const struct mg_attr *a,
					   const struct mg_tensor *x, const struct mg_tensor *want)
{
	struct mg_grid g;
	if (golden_grid_shape(name, d, a, x, want, &g))
		return;
	CHECK(g.sdim == x->rank - 1, "%s: sdim %d", name, g.sdim);
	double m[4][4];
	golden_matrix(cJSON_GetObjectItem(c, "out_to_in"), m);
	double dm = golden_max_diff(g.out_to_in, m);
	CHECK(dm <= 1e-9, "%s: out_to_in differs from MONAI's by %g", name, dm);
	golden_matrix(cJSON_GetObjectItem(c, "out_affine"), m);
	dm = golden_max_diff(g.affine, m);
	CHECK(dm <= 1e-9, "%s: affine differs from MONAI's by %g", name, dm);
	CHECK(mg_grid_is_index_only(&g), "%s: the grid is not index-only", name);
	for (int r = 0; r < 4; r++)
		for (int cc = 0; cc < 4; cc++)
			CHECK(g.out_to_in[r][cc] == nearbyint(g.out_to_in[r][cc]),
			      "%s: out_to_in[%d][%d] = %.17g", name, r, cc, g.out_to_in[r][cc]);
}

/* The op's type rule must describe what its kernel made (kind, dtype, rank, the
 * channels, and each dim it knows). */
static inline void golden_check_infer(const char *name, const struct mg_opdef *d,
				      const struct mg_attr *a, const struct mg_tensor *x,
				      const struct mg_tensor *y)
{
	/* a node's inputs come in an array of MG_STEP_MAXIO, unused ones MG_VK_NONE */
	struct mg_type in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .dtype = (int)x->dtype,
					      .rank = x->rank}};
	struct mg_type out = {0};
	memcpy(in[0].dims, x->dims, sizeof in[0].dims);
	struct mg_err e = {0};
	CHECK_OK(d->infer(a, in, &out, &e), &e);
	CHECK(out.kind == MG_VK_TENSOR && out.dtype == (int)y->dtype && out.rank == y->rank,
	      "%s: infer says %s rank %d", name, mg_dtype_name(out.dtype), out.rank);
	for (int i = 0; i < out.rank && out.rank == y->rank; i++)
		CHECK(out.dims[i] < 0 || out.dims[i] == y->dims[i], "%s: infer dim %d is %lld, "
		      "kernel made %lld", name, i, (long long)out.dims[i], (long long)y->dims[i]);
	CHECK(out.dims[0] == y->dims[0], "%s: infer's channel count", name);
}

/* What a spatial op's kernel must make of a case, besides MONAI's shape. */
struct golden_expect {
	double atol, rtol;  /* values, as golden_compare */
	double *max_err;    /* the largest value error so far, or NULL */
	double affine_tol;  /* the output meta affine against the case's out_affine */
	int dtype;          /* the output dtype, or -1: the input's */
	int view;           /* 1: a view of the input's buffer; 0: a fresh buffer; -1: either */
};

/* A spatial op's reference kernel on case c against MONAI's output `want`: shape, dtype,
 * values, the buffer (view or not), meta affine and sdim, an applied-ops entry, the
 * type rule agreeing, and the input (data and meta) left untouched. */
static inline void golden_check_values(const char *name, const struct mg_opdef *d,
				       const cJSON *c, const struct mg_attr *a,
				       struct mg_tensor *x, const struct mg_tensor *want,
				       struct golden_expect ex)
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
		int dt = ex.dtype < 0 ? (int)x->dtype : ex.dtype;
		CHECK(golden_same_shape(y, want), "%s: output shape differs from MONAI's", name);
		CHECK((int)y->dtype == dt && y->dtype == want->dtype, "%s: dtype %s, MONAI's %s",
		      name, mg_dtype_name(y->dtype), mg_dtype_name(want->dtype));
		if (ex.view == 1)
			CHECK(y->buf == x->buf && x->buf->refs == refs + 1,
			      "%s: the output is not a view of the input", name);
		else if (ex.view == 0)
			CHECK(y->buf != x->buf && x->buf->refs == refs,
			      "%s: the output shares the input's buffer", name);
		if (golden_same_shape(y, want)) {
			int64_t bad = golden_compare(name, y, want, ex.atol, ex.rtol, ex.max_err);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		double aff[4][4];
		golden_matrix(cJSON_GetObjectItem(c, "out_affine"), aff);
		CHECK(y->meta && golden_max_diff(y->meta->affine, aff) <= ex.affine_tol,
		      "%s: output meta affine differs from MONAI's", name);
		CHECK(y->meta && y->meta->sdim == x->rank - 1, "%s: output sdim", name);
		CHECK(y->meta && y->meta->napplied == napplied + 1 &&
			      !strcmp(y->meta->applied[napplied].op, d->name) &&
			      y->meta->applied[napplied].in_shape[0] == x->dims[1] &&
			      y->meta->applied[napplied].out_shape[0] == y->dims[1] &&
			      !memcmp(y->meta->applied[napplied].in_affine, aff_before,
				      sizeof aff_before),
		      "%s: no applied-operations entry (with the op's grid)", name);
		golden_check_infer(name, d, a, x, y);
	}
	CHECK(golden_compare(name, x, &before, 0, 0, NULL) == 0,
	      "%s: the kernel wrote into its input", name);
	CHECK(!memcmp(aff_before, x->meta->affine, sizeof aff_before) &&
		      x->meta->napplied == napplied,
	      "%s: the kernel changed the input's meta", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
}

#endif
