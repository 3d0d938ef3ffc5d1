/* test_ops_basic.c: unit tests of the intensity and channel ops that need no MONAI:
 * strided and x-fastest inputs give the same values as contiguous ones and keep their
 * layout, meta is carried and never mutated in the input, EnsureChannelFirst makes views,
 * bad inputs give clear errors (never crashes, NaN included), DataStats prints its line,
 * Transpose is torch's permute (out[i] = in[i permuted], checked element by element) as a
 * view with the affine unchanged.
 * MONAI's numbers are checked in test_conformance_intensity.c. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../frontend/build.h"
#include "../runtime/arena.h"
#include "check.h"

/* A contiguous tensor filled from vals (cycled), no meta. */
static struct mg_tensor make(enum mg_dtype t, int rank, const int64_t *dims, const double *vals,
			     int nvals)
{
	struct mg_tensor x;
	struct mg_err e = {0};
	if (mg_tensor_alloc(&x, t, rank, dims, &e))
		abort();
	char *p = x.buf->data;
	for (int64_t i = 0; i < mg_tensor_numel(&x); i++)
		mg_dtype_store(t, p + i * (int64_t)mg_dtype_size(t), vals[i % nvals]);
	return x;
}

/* The same logical tensor laid out x-fastest (dim 0 fastest), as NIfTI data is. */
static struct mg_tensor fortran_copy(const struct mg_tensor *x)
{
	struct mg_tensor like = *x, y;
	struct mg_err e = {0};
	int64_t s = 1;
	for (int i = 0; i < x->rank; i++) {
		like.strides[i] = s; /* only the order matters to alloc_like */
		s *= x->dims[i];
	}
	if (mg_tensor_alloc_like(&y, &like, x->dtype, &e))
		abort();
	struct mg_iter it;
	size_t es = mg_dtype_size(x->dtype);
	mg_iter_init(&it, x->rank, x->dims, 2, (const int64_t *[]){x->strides, y.strides});
	do
		memcpy((char *)mg_tensor_data(&y) + it.off[1] * (int64_t)es,
		       (char *)mg_tensor_data(x) + it.off[0] * (int64_t)es, es);
	while (mg_iter_next(&it));
	return y;
}

/* A view of x's values inside a buffer twice as long on the last axis, with an offset:
 * every other element, so neither contiguous nor dense. */
static struct mg_tensor strided_copy(const struct mg_tensor *x)
{
	int64_t dims[MG_MAX_RANK];
	memcpy(dims, x->dims, sizeof dims);
	dims[x->rank - 1] = 2 * x->dims[x->rank - 1] + 1;
	struct mg_tensor big, v;
	struct mg_err e = {0};
	if (mg_tensor_alloc(&big, x->dtype, x->rank, dims, &e))
		abort();
	memset(big.buf->data, 0x7f, big.buf->size);
	v = big;
	v.dims[x->rank - 1] = x->dims[x->rank - 1];
	v.strides[x->rank - 1] = 2;
	v.offset = 1;
	struct mg_iter it;
	size_t es = mg_dtype_size(x->dtype);
	mg_iter_init(&it, x->rank, x->dims, 2, (const int64_t *[]){x->strides, v.strides});
	do
		memcpy((char *)mg_tensor_data(&v) + it.off[1] * (int64_t)es,
		       (char *)mg_tensor_data(x) + it.off[0] * (int64_t)es, es);
	while (mg_iter_next(&it));
	return v;
}

/* A view with the last axis reversed (negative stride), as a flip leaves it. */
static struct mg_tensor flipped(const struct mg_tensor *x)
{
	struct mg_tensor v = *x;
	int l = x->rank - 1;
	v.offset += (x->dims[l] - 1) * x->strides[l];
	v.strides[l] = -x->strides[l];
	return v;
}

static double at(const struct mg_tensor *t, const int64_t *idx)
{
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

/* Every element equal (NaN equals NaN). */
static int same_values(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (a->rank != b->rank || a->dtype != b->dtype)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	if (mg_tensor_numel(a) == 0)
		return 1;
	struct mg_iter it;
	mg_iter_init(&it, a->rank, a->dims, 2, (const int64_t *[]){a->strides, b->strides});
	size_t es = mg_dtype_size(a->dtype);
	const char *pa = mg_tensor_data(a), *pb = mg_tensor_data(b);
	do {
		double x = mg_dtype_load(a->dtype, pa + it.off[0] * (int64_t)es);
		double y = mg_dtype_load(b->dtype, pb + it.off[1] * (int64_t)es);
		if (x != y && !(isnan(x) && isnan(y)))
			return 0;
	} while (mg_iter_next(&it));
	return 1;
}

/* Parses args for op and runs its reference kernel on val. */
static int run_val(enum mg_op op, const char *args, const struct mg_val *val, struct mg_val *out,
		   FILE *log, struct mg_err *e)
{
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	cJSON *j = cJSON_Parse(args);
	int rc = mg_attrs_parse(mg_ops[op], j, -1, 1, NULL, &arena, a, e);
	cJSON_Delete(j);
	memset(out, 0, sizeof *out);
	if (!rc) {
		struct mg_val in = *val;
		struct mg_kctx k = {.err = e, .log = log, .item = 7};
		rc = mg_ops[op]->ref(a, &in, out, &k);
	}
	mg_arena_free(&arena);
	return rc;
}

static int run(enum mg_op op, const char *args, const struct mg_tensor *x, struct mg_val *out,
	       struct mg_err *e)
{
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x};
	return run_val(op, args, &in, out, NULL, e);
}

/* Output strides ordered like the input's: the layout (x-fastest or not) survives. */
static int same_order(const struct mg_tensor *a, const struct mg_tensor *b)
{
	for (int i = 0; i < a->rank; i++)
		for (int j = 0; j < a->rank; j++)
			if (a->dims[i] > 1 && a->dims[j] > 1 &&
			    (llabs(a->strides[i]) < llabs(a->strides[j])) !=
				    (llabs(b->strides[i]) < llabs(b->strides[j])))
				return 0;
	return 1;
}

static const double sample[] = {0, -3.5, 12.25, 0, 7, -0.5, 100, 3, 0, 42, -17, 5.5, 0.125};
#define NSAMPLE ((int)(sizeof sample / sizeof *sample))

static void test_layouts(void)
{
	static const struct {
		enum mg_op op;
		const char *args;
	} cases[] = {
		{MG_OP_ScaleIntensityRange, "{\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, "
					    "\"b_max\": 1, \"clip\": true}"},
		{MG_OP_NormalizeIntensity, "{}"},
		{MG_OP_NormalizeIntensity, "{\"nonzero\": true, \"channel_wise\": true}"},
		{MG_OP_NormalizeIntensity, "{\"channel_wise\": true, \"subtrahend\": [1, 2], "
					   "\"divisor\": [0, 4]}"},
		{MG_OP_CastToType, "{\"dtype\": \"int16\"}"},
	};
	int64_t dims[] = {2, 5, 4, 3};
	struct mg_tensor x = make(MG_DTYPE_F32, 4, dims, sample, NSAMPLE);
	struct mg_tensor xf = fortran_copy(&x), xs = strided_copy(&x);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mg_val y, yf, ys;
		struct mg_err e = {0};
		CHECK_OK(run(cases[i].op, cases[i].args, &x, &y, &e), &e);
		CHECK_OK(run(cases[i].op, cases[i].args, &xf, &yf, &e), &e);
		CHECK_OK(run(cases[i].op, cases[i].args, &xs, &ys, &e), &e);
		CHECK(same_values(&y.t, &yf.t), "%s %s: x-fastest input differs",
		      mg_ops[cases[i].op]->name, cases[i].args);
		CHECK(same_values(&y.t, &ys.t), "%s %s: strided input differs",
		      mg_ops[cases[i].op]->name, cases[i].args);
		struct mg_tensor xr = flipped(&x), yrr;
		struct mg_val yr;
		CHECK_OK(run(cases[i].op, cases[i].args, &xr, &yr, &e), &e);
		yrr = flipped(&yr.t);
		CHECK(same_values(&y.t, &yrr), "%s %s: flipped input differs",
		      mg_ops[cases[i].op]->name, cases[i].args);
		mg_val_release(&yr);
		CHECK(mg_tensor_is_contiguous(&y.t), "contiguous in, contiguous out");
		CHECK(same_order(&xf, &yf.t), "%s: the x-fastest layout was not kept",
		      mg_ops[cases[i].op]->name);
		CHECK(yf.t.strides[0] == 1, "x fastest: stride of dim 0 is %lld",
		      (long long)yf.t.strides[0]);
		mg_val_release(&y);
		mg_val_release(&yf);
		mg_val_release(&ys);
	}
	mg_tensor_release(&x);
	mg_tensor_release(&xf);
	mg_tensor_release(&xs);
}

static void test_meta(void)
{
	int64_t dims[] = {1, 4, 3, 2};
	struct mg_tensor x = make(MG_DTYPE_I16, 4, dims, sample, NSAMPLE);
	struct mg_meta *m = mg_meta_mut(&x);
	m->affine[0][0] = -2.5;
	m->affine[1][3] = 17;
	m->original_channel_dim = MG_NO_CHANNEL;
	mg_meta_set_filename(m, "a.nii.gz");
	static const struct {
		enum mg_op op;
		const char *args;
	} ops[] = {
		{MG_OP_ScaleIntensityRange, "{\"a_min\": 0, \"a_max\": 10}"},
		{MG_OP_NormalizeIntensity, "{}"},
		{MG_OP_CastToType, "{}"},
		{MG_OP_DataStats, "{}"},
		{MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"0\"}"},
	};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		struct mg_val y;
		struct mg_err e = {0};
		CHECK_OK(run(ops[i].op, ops[i].args, &x, &y, &e), &e);
		CHECK(y.t.meta && y.t.meta->affine[0][0] == -2.5 && y.t.meta->affine[1][3] == 17,
		      "%s: meta not carried", mg_ops[ops[i].op]->name);
		CHECK(y.t.meta && y.t.meta->filename && !strcmp(y.t.meta->filename, "a.nii.gz"),
		      "%s: file name lost", mg_ops[ops[i].op]->name);
		if (ops[i].op == MG_OP_EnsureChannelFirst)
			CHECK(y.t.meta != x.meta && y.t.meta->original_channel_dim == 0,
			      "channel_dim goes to a copy of the meta");
		else
			CHECK(y.t.meta == x.meta, "%s: meta shared, not copied",
			      mg_ops[ops[i].op]->name);
		mg_val_release(&y);
		CHECK(x.meta->refs == 1, "%s: meta reference leaked", mg_ops[ops[i].op]->name);
		CHECK(x.meta->original_channel_dim == MG_NO_CHANNEL,
		      "%s mutated the input's meta", mg_ops[ops[i].op]->name);
	}
	mg_tensor_release(&x);
}

static void test_ensure_channel_first(void)
{
	struct mg_err e = {0};
	struct mg_val y;
	/* a 3D image as NIfTI loads it: (X, Y, Z), x fastest, no channel */
	int64_t d3[] = {4, 3, 2};
	struct mg_tensor c3 = make(MG_DTYPE_F32, 3, d3, sample, NSAMPLE);
	struct mg_tensor x3 = fortran_copy(&c3);
	mg_meta_mut(&x3);
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{}", &x3, &y, &e), &e);
	CHECK(y.t.rank == 4 && y.t.dims[0] == 1 && y.t.dims[1] == 4 && y.t.dims[3] == 2,
	      "no channel: (1, X, Y, Z)");
	CHECK(y.t.buf == x3.buf && y.t.offset == x3.offset, "a view, not a copy");
	CHECK(y.t.strides[1] == 1, "still x fastest");
	CHECK(at(&y.t, (int64_t[]){0, 3, 1, 1}) == at(&c3, (int64_t[]){3, 1, 1}), "same voxel");
	mg_val_release(&y);
	/* 4D NIfTI: (X, Y, Z, C) with original_channel_dim -1 */
	int64_t d4[] = {4, 3, 2, 2};
	struct mg_tensor c4 = make(MG_DTYPE_F32, 4, d4, sample, NSAMPLE);
	struct mg_tensor x4 = fortran_copy(&c4);
	mg_meta_mut(&x4)->original_channel_dim = -1;
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{}", &x4, &y, &e), &e);
	CHECK(y.t.rank == 4 && y.t.dims[0] == 2 && y.t.dims[1] == 4 && y.t.dims[3] == 2,
	      "channel last: (C, X, Y, Z)");
	CHECK(y.t.buf == x4.buf, "a view, not a copy");
	CHECK(at(&y.t, (int64_t[]){1, 2, 1, 0}) == at(&c4, (int64_t[]){2, 1, 0, 1}), "same voxel");
	mg_val_release(&y);
	/* channel_dim overrides the meta */
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"no_channel\"}", &x4, &y, &e),
		 &e);
	CHECK(y.t.rank == 5 && y.t.dims[0] == 1 && y.t.meta->original_channel_dim == MG_NO_CHANNEL,
	      "channel_dim no_channel");
	CHECK(x4.meta->original_channel_dim == -1, "input meta untouched");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"1\"}", &x4, &y, &e), &e);
	CHECK(y.t.dims[0] == 3 && y.t.dims[1] == 4 && y.t.dims[2] == 2 && y.t.dims[3] == 2,
	      "channel_dim 1 moves axis 1 to the front");
	mg_val_release(&y);
	/* errors */
	CHECK_FAILS(run(MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"4\"}", &x4, &y, &e), &e,
		    "channel_dim 4 is not an axis of the rank-4 image");
	CHECK_FAILS(run(MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"last\"}", &x4, &y, &e),
		    &e, "expected \"no_channel\" or an axis");
	mg_meta_mut(&x4)->original_channel_dim = 7;
	CHECK_FAILS(run(MG_OP_EnsureChannelFirst, "{}", &x4, &y, &e), &e,
		    "original_channel_dim 7 is not an axis");
	/* a plain array: strict_check decides */
	CHECK_FAILS(run(MG_OP_EnsureChannelFirst, "{}", &c3, &y, &e), &e, "no metadata");
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{\"strict_check\": false}", &c3, &y, &e), &e);
	CHECK(y.t.rank == 3 && y.t.buf == c3.buf && !y.t.meta, "passed through unchanged");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_EnsureChannelFirst, "{\"channel_dim\": \"-1\"}", &c3, &y, &e), &e);
	CHECK(y.t.rank == 3 && y.t.dims[0] == 2 && y.t.meta &&
		      y.t.meta->original_channel_dim == -1,
	      "plain array with channel_dim gets meta");
	mg_val_release(&y);
	/* rank limit */
	int64_t d6[] = {1, 1, 1, 1, 1, 2};
	struct mg_tensor x6 = make(MG_DTYPE_U8, 6, d6, sample, 1);
	mg_meta_mut(&x6);
	CHECK_FAILS(run(MG_OP_EnsureChannelFirst, "{}", &x6, &y, &e), &e, "cannot add");
	mg_tensor_release(&x6);
	mg_tensor_release(&c3);
	mg_tensor_release(&x3);
	mg_tensor_release(&c4);
	mg_tensor_release(&x4);
}

static void test_normalize_values(void)
{
	struct mg_err e = {0};
	struct mg_val y;
	int64_t d[] = {1, 4};
	struct mg_tensor x = make(MG_DTYPE_I16, 2, d, (const double[]){1, 2, 3, 4}, 4);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{}", &x, &y, &e), &e);
	CHECK(y.t.dtype == MG_DTYPE_F32, "float32 by default");
	double sd = sqrt(1.25);
	for (int i = 0; i < 4; i++)
		CHECK_CLOSE(at(&y.t, (int64_t[]){0, i}), (i + 1 - 2.5) / sd, 1e-6, 1e-6);
	mg_val_release(&y);
	mg_tensor_release(&x);
	/* nonzero: zeros stay, the rest use mean 3 and std 1 */
	x = make(MG_DTYPE_F32, 2, d, (const double[]){0, 2, 0, 4}, 4);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{\"nonzero\": true}", &x, &y, &e), &e);
	CHECK(at(&y.t, (int64_t[]){0, 0}) == 0 && at(&y.t, (int64_t[]){0, 1}) == -1 &&
		      at(&y.t, (int64_t[]){0, 3}) == 1,
	      "nonzero normalisation");
	mg_val_release(&y);
	/* a divisor of 0 becomes 1 */
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{\"subtrahend\": 1, \"divisor\": 0}", &x, &y, &e),
		 &e);
	CHECK(at(&y.t, (int64_t[]){0, 3}) == 3 && at(&y.t, (int64_t[]){0, 0}) == -1, "x - 1");
	mg_val_release(&y);
	mg_tensor_release(&x);
	/* all zero with nonzero: unchanged (as float32), dtype null keeps int16 */
	x = make(MG_DTYPE_I16, 2, d, (const double[]){0}, 1);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{\"nonzero\": true, \"dtype\": null}", &x, &y, &e),
		 &e);
	CHECK(y.t.dtype == MG_DTYPE_I16 && same_values(&x, &y.t), "unchanged");
	mg_val_release(&y);
	mg_tensor_release(&x);
	/* a constant image: std 0 -> divisor 1, result x - mean = 0 */
	x = make(MG_DTYPE_F32, 2, d, (const double[]){0.1}, 1);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{}", &x, &y, &e), &e);
	CHECK(at(&y.t, (int64_t[]){0, 2}) == 0, "constant image gives 0");
	mg_val_release(&y);
	mg_tensor_release(&x);
}

static void test_errors(void)
{
	struct mg_err e = {0};
	struct mg_val y;
	int64_t d[] = {4, 3, 2};
	struct mg_tensor x = make(MG_DTYPE_F32, 3, d, sample, NSAMPLE);
	CHECK_FAILS(run(MG_OP_NormalizeIntensity,
			"{\"channel_wise\": true, \"subtrahend\": [1, 2, 3]}", &x, &y, &e),
		    &e, "img has 4 channels, but subtrahend has 3 components.");
	CHECK_FAILS(run(MG_OP_NormalizeIntensity, "{\"channel_wise\": true, \"divisor\": [1]}",
			&x, &y, &e),
		    &e, "img has 4 channels, but divisor has 1 components.");
	CHECK_FAILS(run(MG_OP_NormalizeIntensity, "{\"subtrahend\": [1, 2]}", &x, &y, &e), &e,
		    "without channel_wise");
	CHECK_FAILS(run(MG_OP_ScaleIntensityRange, "{\"a_min\": 0, \"a_max\": 1, \"clip\": true}",
			&x, &y, &e),
		    &e, "clip=true needs b_min or b_max");
	CHECK_FAILS(run(MG_OP_ScaleIntensityRange, "{\"a_min\": 0}", &x, &y, &e), &e, "a_max");
	CHECK_FAILS(run(MG_OP_DataStats, "{\"additional_info\": \"len\"}", &x, &y, &e), &e,
		    "additional_info");
	/* a file name where an image is expected (LoadImage missing) */
	char *names[] = {"a.nii.gz"};
	struct mg_val s = {.kind = MG_VK_STRINGS, .nstr = 1, .str = names};
	static const enum mg_op ops[] = {MG_OP_ScaleIntensityRange, MG_OP_NormalizeIntensity,
					 MG_OP_EnsureChannelFirst, MG_OP_CastToType};
	static const char *const args[] = {"{\"a_min\": 0, \"a_max\": 1}", "{}", "{}", "{}"};
	for (int i = 0; i < 4; i++) {
		CHECK_FAILS(run_val(ops[i], args[i], &s, &y, NULL, &e), &e, "expected an image");
		struct mg_type tin = {.kind = MG_VK_STRINGS, .dtype = -1, .rank = -1}, tout;
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		cJSON *j = cJSON_Parse(args[i]);
		CHECK_OK(mg_attrs_parse(mg_ops[ops[i]], j, -1, 1, NULL, &arena, a, &e), &e);
		CHECK_FAILS(mg_ops[ops[i]]->infer(a, &tin, &tout, &e), &e, "file names");
		cJSON_Delete(j);
		mg_arena_free(&arena);
	}
	/* DataStats passes strings through */
	CHECK_OK(run_val(MG_OP_DataStats, "{}", &s, &y, NULL, &e), &e);
	CHECK(y.kind == MG_VK_STRINGS && y.nstr == 1 && !strcmp(y.str[0], "a.nii.gz"),
	      "strings pass through");
	mg_val_release(&y);
	mg_tensor_release(&x);
}

static void test_nan_and_empty(void)
{
	struct mg_err e = {0};
	struct mg_val y;
	int64_t d[] = {1, 5};
	struct mg_tensor x = make(MG_DTYPE_F32, 2, d, (const double[]){1, NAN, 0, -INFINITY, 3}, 5);
	CHECK_OK(run(MG_OP_ScaleIntensityRange, "{\"a_min\": 0, \"a_max\": 2, \"b_min\": 0, "
						"\"b_max\": 1, \"clip\": true}", &x, &y, &e), &e);
	CHECK(isnan(at(&y.t, (int64_t[]){0, 1})) && at(&y.t, (int64_t[]){0, 3}) == 0 &&
		      at(&y.t, (int64_t[]){0, 4}) == 1,
	      "NaN stays NaN through clip; -inf clips to b_min");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{}", &x, &y, &e), &e);
	CHECK(isnan(at(&y.t, (int64_t[]){0, 0})) && isnan(at(&y.t, (int64_t[]){0, 2})),
	      "a NaN makes every value NaN, as in MONAI");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_NormalizeIntensity, "{\"nonzero\": true}", &x, &y, &e), &e);
	CHECK(at(&y.t, (int64_t[]){0, 2}) == 0 && isnan(at(&y.t, (int64_t[]){0, 0})),
	      "nonzero: zeros stay, NaN spreads to the rest");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_CastToType, "{\"dtype\": \"uint8\"}", &x, &y, &e), &e);
	/* mgc's documented rule (torch's result is platform-defined): NaN -> 0, saturate */
	CHECK(at(&y.t, (int64_t[]){0, 0}) == 1 && at(&y.t, (int64_t[]){0, 1}) == 0 &&
		      at(&y.t, (int64_t[]){0, 3}) == 0 && at(&y.t, (int64_t[]){0, 4}) == 3,
	      "uint8 of [1, NaN, 0, -inf, 3]");
	mg_val_release(&y);
	mg_tensor_release(&x);
	/* empty images: no element to touch, no crash */
	int64_t d0[] = {2, 0, 3};
	x = make(MG_DTYPE_F32, 3, d0, sample, 1);
	static const enum mg_op ops[] = {MG_OP_ScaleIntensityRange, MG_OP_NormalizeIntensity,
					 MG_OP_NormalizeIntensity, MG_OP_CastToType,
					 MG_OP_DataStats};
	static const char *const args[] = {"{\"a_min\": 0, \"a_max\": 1}",
					   "{\"nonzero\": true, \"channel_wise\": true}", "{}",
					   "{\"dtype\": \"int8\"}", "{\"data_value\": true}"};
	FILE *log = tmpfile();
	for (int i = 0; i < 5; i++) {
		struct mg_val in = {.kind = MG_VK_TENSOR, .t = x};
		CHECK_OK(run_val(ops[i], args[i], &in, &y, log, &e), &e);
		CHECK(y.kind == MG_VK_TENSOR && mg_tensor_numel(&y.t) == 0, "empty out");
		mg_val_release(&y);
	}
	fclose(log);
	mg_tensor_release(&x);
}

static void test_dtypes(void)
{
	struct mg_err e = {0};
	struct mg_val y;
	int64_t d[] = {1, 3};
	/* float16 input computes in float16 (torch's promotion), output float32 */
	struct mg_tensor x = make(MG_DTYPE_F16, 2, d, (const double[]){-57, 53.5, 164}, 3);
	CHECK_OK(run(MG_OP_ScaleIntensityRange, "{\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, "
						"\"b_max\": 1}", &x, &y, &e), &e);
	CHECK(y.t.dtype == MG_DTYPE_F32, "dtype float32");
	CHECK(at(&y.t, (int64_t[]){0, 0}) == 0 && at(&y.t, (int64_t[]){0, 2}) == 1, "ends");
	CHECK_CLOSE(at(&y.t, (int64_t[]){0, 1}), 0.5, 1e-3, 0);
	mg_val_release(&y);
	mg_tensor_release(&x);
	/* a_min == a_max: x - a_min in the promoted dtype, dtype ignored */
	x = make(MG_DTYPE_I16, 2, d, (const double[]){-57, 0, 100}, 3);
	CHECK_OK(run(MG_OP_ScaleIntensityRange, "{\"a_min\": 5, \"a_max\": 5, \"b_min\": 1, "
						"\"dtype\": \"int8\"}", &x, &y, &e), &e);
	CHECK(y.t.dtype == MG_DTYPE_F32 && at(&y.t, (int64_t[]){0, 2}) == 96, "x - 5 + 1");
	mg_val_release(&y);
	/* CastToType: same dtype shares the storage (MONAI returns the input) */
	CHECK_OK(run(MG_OP_CastToType, "{\"dtype\": \"int16\"}", &x, &y, &e), &e);
	CHECK(y.t.buf == x.buf, "same dtype: no copy");
	mg_val_release(&y);
	CHECK_OK(run(MG_OP_CastToType, "{\"dtype\": \"np.float64\"}", &x, &y, &e), &e);
	CHECK(y.t.buf != x.buf && y.t.dtype == MG_DTYPE_F64 && same_order(&x, &y.t), "a copy");
	mg_val_release(&y);
	CHECK_FAILS(run(MG_OP_CastToType, "{\"dtype\": \"complex64\"}", &x, &y, &e), &e,
		    "unknown dtype");
	CHECK_FAILS(run(MG_OP_CastToType, "{\"dtype\": null}", &x, &y, &e), &e, "cannot be null");
	mg_tensor_release(&x);
}

/* Runs DataStats on x with args and returns what it printed (caller frees). */
static char *stats_line(const struct mg_tensor *x, const char *args, struct mg_val *y)
{
	FILE *f = tmpfile();
	struct mg_err e = {0};
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x};
	CHECK_OK(run_val(MG_OP_DataStats, args, &in, y, f, &e), &e);
	long n = ftell(f);
	char *s = calloc(1, (size_t)n + 1);
	rewind(f);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = 0;
	fclose(f);
	return s;
}

static void test_data_stats(void)
{
	int64_t d[] = {1, 4, 3, 2};
	struct mg_tensor x = make(MG_DTYPE_F32, 4, d, (const double[]){-1024, 0, 3071, 2.5}, 4);
	struct mg_meta *m = mg_meta_mut(&x);
	m->affine[0][0] = 1.5;
	m->affine[0][3] = -200;
	struct mg_val y;
	char *s = stats_line(&x, "{}", &y);
	CHECK(strstr(s, "Data statistics: item 7: Type: MetaTensor torch.float32, "
			"Shape: (1, 4, 3, 2), Value range: (-1024.0, 3071.0), "
			"Affine: [[1.5, 0, 0, -200], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]\n"),
	      "DataStats printed '%s'", s);
	CHECK(strchr(s, '\n') == s + strlen(s) - 1, "one line per item");
	CHECK(y.kind == MG_VK_TENSOR && y.t.buf == x.buf && y.t.meta == x.meta, "pass through");
	mg_val_release(&y);
	free(s);
	s = stats_line(&x, "{\"prefix\": \"image\", \"data_type\": false, \"value_range\": false, "
			   "\"data_value\": true, \"meta_info\": true}", &y);
	CHECK(strstr(s, "image statistics: item 7: Shape: (1, 4, 3, 2), Affine: ") &&
		      strstr(s, "Value: [[[[-1024.0, 0.0], [3071.0, 2.5], [-1024.0, 0.0]], ") &&
		      strstr(s, "Meta info: {filename_or_obj: '', original_channel_dim: "
				"'no_channel'"),
	      "DataStats printed '%s'", s);
	mg_val_release(&y);
	free(s);
	/* ClipIntensityPercentiles' clipping_values, as Python prints MONAI's list */
	const struct mg_clipping cv[2] = {{{0.1f, 0}, {1, 0}}, {{-2, 3.5}, {1, 1}}};
	CHECK(mg_meta_set_clipping(mg_meta_mut(&x), cv, 2) == 0, "out of memory");
	s = stats_line(&x, "{\"meta_info\": true}", &y);
	CHECK(strstr(s, ", clipping_values: [(0.10000000149011612, None), (-2.0, 3.5)]}"),
	      "DataStats printed '%s'", s);
	mg_val_release(&y);
	free(s);
	mg_tensor_release(&x);
	/* big tensors are summarised as torch prints them; integers print as integers */
	int64_t d2[] = {40, 40};
	x = make(MG_DTYPE_I16, 2, d2, (const double[]){1, 2, 3, 4, 5}, 5);
	s = stats_line(&x, "{\"data_value\": true}", &y);
	CHECK(strstr(s, "Type: Tensor torch.int16, Shape: (40, 40), Value range: (1, 5), "
			"Value: [[1, 2, 3, ..., 3, 4, 5], [1, 2, 3, ..., 3, 4, 5], "
			"[1, 2, 3, ..., 3, 4, 5], ..., ") && !strstr(s, "Affine"),
	      "DataStats printed '%.300s'", s);
	mg_val_release(&y);
	free(s);
	mg_tensor_release(&x);
	x = make(MG_DTYPE_F64, 2, d2, (const double[]){1, NAN}, 2);
	s = stats_line(&x, "{}", &y);
	CHECK(strstr(s, "Value range: (nan, nan)"), "NaN range: '%s'", s);
	mg_val_release(&y);
	free(s);
	/* no log: silent, still passes through */
	struct mg_err e = {0};
	CHECK_OK(run(MG_OP_DataStats, "{}", &x, &y, &e), &e);
	CHECK(y.t.buf == x.buf, "pass through without a log");
	mg_val_release(&y);
	mg_tensor_release(&x);
}

/* The type rules: what the graph knows before any image is read. */
static void test_infer(void)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = 3,
			     .dims = {-1, -1, -1}};
	struct mg_type out;
	struct mg_err e = {0};
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	cJSON *j = cJSON_Parse("{\"channel_dim\": \"no_channel\"}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_EnsureChannelFirst], j, -1, 1, NULL, &arena, a, &e),
		 &e);
	CHECK_OK(mg_ops[MG_OP_EnsureChannelFirst]->infer(a, &in, &out, &e), &e);
	CHECK(out.rank == 4 && out.dims[0] == 1 && out.dims[1] == -1 &&
		      out.dtype == MG_DTYPE_I16,
	      "no_channel adds a known axis");
	cJSON_Delete(j);
	j = cJSON_Parse("{}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_EnsureChannelFirst], j, -1, 1, NULL, &arena, a, &e),
		 &e);
	CHECK_OK(mg_ops[MG_OP_EnsureChannelFirst]->infer(a, &in, &out, &e), &e);
	CHECK(out.rank == -1, "rank unknown until the file is read");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_NormalizeIntensity], j, -1, 1, NULL, &arena, a, &e),
		 &e);
	CHECK_OK(mg_ops[MG_OP_NormalizeIntensity]->infer(a, &in, &out, &e), &e);
	CHECK(out.dtype == MG_DTYPE_F32 && out.rank == 3, "NormalizeIntensity: float32");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"a_min\": 1, \"a_max\": 1}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_ScaleIntensityRange], j, -1, 1, NULL, &arena, a, &e),
		 &e);
	CHECK_OK(mg_ops[MG_OP_ScaleIntensityRange]->infer(a, &in, &out, &e), &e);
	CHECK(out.dtype == MG_DTYPE_F32, "a_min == a_max: promoted dtype");
	cJSON_Delete(j);
	in.rank = 2;
	in.dims[0] = 3;
	j = cJSON_Parse("{\"channel_wise\": true, \"subtrahend\": [1, 2]}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_NormalizeIntensity], j, -1, 1, NULL, &arena, a, &e),
		 &e);
	CHECK_FAILS(mg_ops[MG_OP_NormalizeIntensity]->infer(a, &in, &out, &e), &e,
		    "img has 3 channels, but subtrahend has 2 components.");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"dtype\": [\"uint8\", \"float32\"]}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_CastToType], j, 1, 2, NULL, &arena, a, &e), &e);
	CHECK_OK(mg_ops[MG_OP_CastToType]->infer(a, &in, &out, &e), &e);
	CHECK(out.dtype == MG_DTYPE_F32, "CastToTyped: one dtype per key");
	cJSON_Delete(j);
	mg_arena_free(&arena);
}

/* Every element of y (rank r) against x at the permuted index: y[o] = x[i], i[perm[j]] =
 * o[j]. */
static int permuted(const struct mg_tensor *x, const struct mg_tensor *y, const int *perm)
{
	int64_t o[MG_MAX_RANK] = {0}, i[MG_MAX_RANK];
	for (int64_t n = 0; n < mg_tensor_numel(y); n++) {
		for (int j = 0; j < y->rank; j++)
			i[perm[j]] = o[j];
		if (at(y, o) != at(x, i))
			return 0;
		for (int j = y->rank - 1; j >= 0 && ++o[j] == y->dims[j]; j--)
			o[j] = 0;
	}
	return 1;
}

static void test_transpose(void)
{
	int64_t dims[4] = {2, 3, 4, 5};
	struct mg_tensor c = make(MG_DTYPE_I16, 4, dims, sample, 13), x = flipped(&c);
	struct mg_err e = {0};
	x.meta = mg_meta_new();
	x.meta->affine[0][0] = 0.7;
	static const struct {
		const char *args;
		int perm[4];
	} cases[] = {
		{"{\"indices\": [0, 3, 1, 2]}", {0, 3, 1, 2}},
		{"{\"indices\": null}", {3, 2, 1, 0}},
		{"{\"indices\": [-1, 0, -2, 1]}", {3, 0, 2, 1}},
		{"{\"indices\": [0, 1, 2, 3]}", {0, 1, 2, 3}},
	};
	for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
		struct mg_val y;
		CHECK_OK(run(MG_OP_Transpose, cases[t].args, &x, &y, &e), &e);
		CHECK(y.t.buf == x.buf && y.t.dtype == x.dtype, "%s: a view", cases[t].args);
		for (int j = 0; j < 4; j++)
			CHECK(y.t.dims[j] == dims[cases[t].perm[j]], "%s: dim %d", cases[t].args, j);
		CHECK(permuted(&x, &y.t, cases[t].perm), "%s: values", cases[t].args);
		CHECK(y.t.meta && y.t.meta->affine[0][0] == 0.7, "%s: affine kept", cases[t].args);
		mg_val_release(&y);
	}
	const char *bad[] = {"{\"indices\": [0, 1, 2]}", "{\"indices\": [0, 1, 1, 2]}",
			     "{\"indices\": [0, 1, 2, 4]}", "{}"};
	for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
		struct mg_val y;
		e = (struct mg_err){0};
		CHECK_FAILS(run(MG_OP_Transpose, bad[t], &x, &y, &e), &e,
			    t < 3 ? "Transpose" : "indices");
	}
	mg_meta_release(x.meta);
	mg_tensor_release(&c);
}

int main(void)
{
	test_layouts();
	test_meta();
	test_ensure_channel_first();
	test_normalize_values();
	test_errors();
	test_nan_and_empty();
	test_dtypes();
	test_data_stats();
	test_infer();
	test_transpose();
	return check_done();
}
