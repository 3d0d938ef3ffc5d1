/* test_kir.c: the kernel IR itself: Philox against Random123's known answers, the
 * builders' checks, the hash, the interpreter against plain C loops written here, and
 * the launcher's slicing and reduction combine. Renderers are tested against the
 * interpreter elsewhere (test_kir_llvm.c). */
#include <stdlib.h>

#include "../ir/kir.h"
#include "check.h"

static void test_philox(void)
{
	/* Random123 kat_vectors: philox4x32 10 CTR KEY -> EXPECTED */
	static const uint32_t kat[3][10] = {
		{0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
		{~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
		{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
		 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
	};
	for (int i = 0; i < 3; i++) {
		uint32_t o[4];
		mg_philox4x32(kat[i], kat[i] + 4, o);
		for (int w = 0; w < 4; w++)
			CHECK(o[w] == kat[i][6 + w], "vector %d word %d: %08x", i, w, o[w]);
	}
}

/* y = f32(x) * 2 + p0 over a rank-2 space, x an i16 operand */
static void build_affine(struct mg_kir *k, struct mg_arena *ar, int order_swapped)
{
	mg_kir_init(k, ar, "affine", 2);
	if (order_swapped) {
		k->info.order[0] = 1;
		k->info.order[1] = 0;
	}
	mg_kir_tensor(k, MG_DTYPE_F32, 2);
	mg_kir_tensor(k, MG_DTYPE_I16, 2);
	int p = mg_kir_param_slot(k);
	int32_t x = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_loadat(k, 1));
	int32_t y = mg_kir_op(k, MG_KOP_MUL, x, mg_kir_const(k, MG_DTYPE_F32, 2));
	k->store = mg_kir_op(k, MG_KOP_ADD, y, mg_kir_param(k, MG_DTYPE_F32, p));
}

static void test_eval_store(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	int16_t x[5][7];
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 7; j++)
			x[i][j] = (int16_t)(i * 100 - j * 37);
	for (int swapped = 0; swapped < 2; swapped++) {
		struct mg_kir k;
		build_affine(&k, &ar, swapped);
		CHECK_OK(mg_kir_verify(&k, &e), &e);
		/* the input read transposed (a view: strides swapped), the output contiguous */
		float y[7][5];
		struct mg_kargs a = {.dims = {7, 5}, .p = {0.1}};
		a.t[0] = (struct mg_ktensor){(char *)y, {7, 5}, {5, 1}};
		a.t[1] = (struct mg_ktensor){(char *)x, {7, 5}, {1, 7}};
		mg_kir_eval(&k, &a, 0, swapped ? 5 : 7, NULL);
		for (int i = 0; i < 7; i++)
			for (int j = 0; j < 5; j++)
				CHECK(y[i][j] == (float)x[j][i] * 2.0f + 0.1f, "y[%d][%d] = %g", i, j,
				      y[i][j]);
	}
	mg_arena_free(&ar);
}

/* sum, min, max of x where x > 0, and a count */
static void test_eval_reduce(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	mg_kir_init(&k, &ar, "stats", 1);
	mg_kir_tensor(&k, MG_DTYPE_F32, 1);
	int32_t x = mg_kir_cast(&k, MG_DTYPE_F64, mg_kir_loadat(&k, 0));
	int32_t pos = mg_kir_op(&k, MG_KOP_GT, x, mg_kir_const(&k, MG_DTYPE_F64, 0));
	mg_kir_reduce(&k, MG_KRED_SUM, x, pos);
	mg_kir_reduce(&k, MG_KRED_MIN, x, pos);
	mg_kir_reduce(&k, MG_KRED_MAX, x, -1);
	mg_kir_reduce(&k, MG_KRED_SUM, mg_kir_const(&k, MG_DTYPE_F64, 1), pos);
	CHECK_OK(mg_kir_verify(&k, &e), &e);
	float v[1000];
	double sum = 0, mn = INFINITY, mx = -INFINITY, cnt = 0;
	for (int i = 0; i < 1000; i++) {
		v[i] = (float)((i * 7919) % 1013) - 500.0f;
		if (v[i] > 0)
			sum += v[i], cnt++, mn = v[i] < mn ? v[i] : mn;
		mx = v[i] > mx ? v[i] : mx;
	}
	struct mg_kargs a = {.dims = {1000}};
	a.t[0] = (struct mg_ktensor){(char *)v, {1000}, {1}};
	double acc[4] = {0, INFINITY, -INFINITY, 0};
	mg_kir_eval(&k, &a, 0, 1, acc);
	CHECK(acc[0] == sum && acc[1] == mn && acc[2] == mx && acc[3] == cnt,
	      "%g %g %g %g", acc[0], acc[1], acc[2], acc[3]);
	v[500] = NAN; /* max propagates NaN; the masked reductions skip it (NaN > 0 is false) */
	double acc2[4] = {0, INFINITY, -INFINITY, 0};
	mg_kir_eval(&k, &a, 0, 1, acc2);
	CHECK(isnan(acc2[2]) && !isnan(acc2[0]) && !isnan(acc2[1]));
	mg_arena_free(&ar);
}

/* saturating casts, wrapping integer arithmetic, division by zero, min/max with NaN */
static void test_eval_semantics(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	static const struct {
		int from, to;
		double in, out;
	} casts[] = {
		{MG_DTYPE_F32, MG_DTYPE_U8, 300.5, 255},   {MG_DTYPE_F32, MG_DTYPE_U8, -3.5, 0},
		{MG_DTYPE_F64, MG_DTYPE_I16, -2.9, -2},    {MG_DTYPE_F64, MG_DTYPE_I32, NAN, 0},
		{MG_DTYPE_I32, MG_DTYPE_I8, 1000, 127},    {MG_DTYPE_I64, MG_DTYPE_U16, -5, 0},
		{MG_DTYPE_F64, MG_DTYPE_F32, 0.1, 0.1f},   {MG_DTYPE_F64, MG_DTYPE_F16, 65520, INFINITY},
		{MG_DTYPE_F64, MG_DTYPE_BF16, 1.00390625, 1.0},
	};
	for (size_t i = 0; i < sizeof casts / sizeof *casts; i++) {
		struct mg_kir k;
		mg_kir_init(&k, &ar, "cast", 1);
		mg_kir_tensor(&k, casts[i].to, 1);
		k.store = mg_kir_cast(&k, casts[i].to,
				      mg_kir_param(&k, casts[i].from, mg_kir_param_slot(&k)));
		CHECK_OK(mg_kir_verify(&k, &e), &e);
		char out[8];
		struct mg_kargs a = {.dims = {1}, .p = {casts[i].in}};
		a.t[0] = (struct mg_ktensor){out, {1}, {1}};
		mg_kir_eval(&k, &a, 0, 1, NULL);
		double got = mg_dtype_load(casts[i].to, out);
		CHECK(got == casts[i].out, "cast %d of %g to %s: %g", (int)i, casts[i].in,
		      mg_ktype_name(casts[i].to), got);
	}
	/* i8: 100 + 100 wraps to -56; 7 / 0 is 0; min(NaN, 1) is 1, max(1, NaN) is NaN */
	struct mg_kir k;
	mg_kir_init(&k, &ar, "arith", 1);
	mg_kir_tensor(&k, MG_DTYPE_F64, 1);
	int32_t h = mg_kir_const(&k, MG_DTYPE_I8, 100);
	int32_t w = mg_kir_cast(&k, MG_DTYPE_F64, mg_kir_op(&k, MG_KOP_ADD, h, h));
	int32_t d = mg_kir_cast(&k, MG_DTYPE_F64, mg_kir_op(&k, MG_KOP_DIV,
						      mg_kir_const(&k, MG_DTYPE_I32, 7),
						      mg_kir_const(&k, MG_DTYPE_I32, 0)));
	int32_t nan = mg_kir_const(&k, MG_DTYPE_F64, NAN), one = mg_kir_const(&k, MG_DTYPE_F64, 1);
	int32_t mn = mg_kir_op(&k, MG_KOP_MIN, nan, one), mx = mg_kir_op(&k, MG_KOP_MAX, one, nan);
	int32_t idx = mg_kir_index(&k, 0);
	int32_t pick = mg_kir_op(&k, MG_KOP_EQ, idx, mg_kir_const(&k, MG_DTYPE_I64, 0));
	int32_t s = mg_kir_select(&k, pick, w, d);
	pick = mg_kir_op(&k, MG_KOP_EQ, idx, mg_kir_const(&k, MG_DTYPE_I64, 2));
	s = mg_kir_select(&k, pick, mn, s);
	pick = mg_kir_op(&k, MG_KOP_EQ, idx, mg_kir_const(&k, MG_DTYPE_I64, 3));
	k.store = mg_kir_select(&k, pick, mx, s);
	CHECK_OK(mg_kir_verify(&k, &e), &e);
	double out[4];
	struct mg_kargs a = {.dims = {4}};
	a.t[0] = (struct mg_ktensor){(char *)out, {4}, {1}};
	mg_kir_eval(&k, &a, 0, 1, NULL);
	CHECK(out[0] == -56 && out[1] == 0 && out[2] == 1 && isnan(out[3]), "%g %g %g %g",
	      out[0], out[1], out[2], out[3]);
	mg_arena_free(&ar);
}

static void test_verify_and_hash(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k, k2;
	build_affine(&k, &ar, 0);
	build_affine(&k2, &ar, 0);
	CHECK(mg_kir_hash(&k) == mg_kir_hash(&k2));
	k2.nodes[2].f = 3; /* another constant: another kernel */
	CHECK(mg_kir_hash(&k) != mg_kir_hash(&k2));
	build_affine(&k2, &ar, 1);
	CHECK(mg_kir_hash(&k) != mg_kir_hash(&k2), "the loop order is part of the code");

	mg_kir_init(&k, &ar, "bad", 1);
	mg_kir_tensor(&k, MG_DTYPE_F16, 1);
	int32_t x = mg_kir_loadat(&k, 0);
	k.store = mg_kir_op(&k, MG_KOP_ADD, x, x);
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "kernel bad: node %1 (add): f16/bf16");
	mg_kir_init(&k, &ar, "mixed", 1);
	mg_kir_tensor(&k, MG_DTYPE_F32, 1);
	k.store = mg_kir_op(&k, MG_KOP_ADD, mg_kir_loadat(&k, 0), mg_kir_const(&k, MG_DTYPE_F64, 1));
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "operands of different types");
	mg_kir_init(&k, &ar, "dangling", 1);
	k.store = mg_kir_op(&k, MG_KOP_NEG, -1, -1);
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "building failed");
	mg_kir_init(&k, &ar, "nothing", 1);
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "neither stores nor reduces");
	mg_kir_init(&k, &ar, "order", 2);
	k.info.order[1] = 0;
	mg_kir_reduce(&k, MG_KRED_SUM, mg_kir_const(&k, MG_DTYPE_F64, 1), -1);
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "not a permutation");
	mg_arena_free(&ar);
}

/* The launcher with the interpreter behind an mg_kfn: slices cover every row once and
 * reductions combine in slice order. */
static const struct mg_kir *launched;
static void eval_fn(const struct mg_kargs *a, int64_t lo, int64_t hi, double *acc)
{
	mg_kir_eval(launched, a, lo, hi, acc);
}

static void test_launch(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	mg_kir_init(&k, &ar, "count", 3);
	k.info.order[0] = 2, k.info.order[1] = 0, k.info.order[2] = 1;
	mg_kir_tensor(&k, MG_DTYPE_I32, 3);
	int32_t i0 = mg_kir_index(&k, 0), i1 = mg_kir_index(&k, 1), i2 = mg_kir_index(&k, 2);
	int32_t v = mg_kir_op(&k, MG_KOP_ADD, mg_kir_op(&k, MG_KOP_MUL, i0, mg_kir_const(&k, MG_DTYPE_I64, 10000)),
			      mg_kir_op(&k, MG_KOP_ADD, mg_kir_op(&k, MG_KOP_MUL, i1, mg_kir_const(&k, MG_DTYPE_I64, 100)), i2));
	k.store = mg_kir_cast(&k, MG_DTYPE_I32, v);
	mg_kir_reduce(&k, MG_KRED_SUM, mg_kir_cast(&k, MG_DTYPE_F64, v), -1);
	CHECK_OK(mg_kir_verify(&k, &e), &e);
	launched = &k;
	enum { A = 13, B = 7, C = 11 };
	int32_t *y = calloc(A * B * C, sizeof *y);
	struct mg_kargs a = {.dims = {A, B, C}};
	a.t[0] = (struct mg_ktensor){(char *)y, {A, B, C}, {B * C, C, 1}};
	double sum = 0, got;
	for (int threads = 0; threads <= 2; threads++) {
		struct mg_pool *pool = threads ? mg_pool_new(threads) : NULL;
		memset(y, 0, A * B * C * sizeof *y);
		mg_kernel_launch(eval_fn, &k.info, &a, pool, &got);
		mg_pool_free(pool);
		int ok = 1;
		sum = 0;
		for (int i = 0; i < A; i++)
			for (int j = 0; j < B; j++)
				for (int l = 0; l < C; l++) {
					ok &= y[(i * B + j) * C + l] == i * 10000 + j * 100 + l;
					sum += i * 10000 + j * 100 + l;
				}
		CHECK(ok && got == sum, "threads %d: sum %g, expected %g", threads, got, sum);
	}
	free(y);
	mg_arena_free(&ar);
}

/* A histogram reduction (bins of a bitcast's high bits, masked, some out of range)
 * through the launcher on 0-2 threads against a count written here; its printed form. */
static void test_hist(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	enum { N = 1000, BINS = 37 };
	float x[N];
	for (int i = 0; i < N; i++)
		x[i] = (float)((i * 7919) % 1009) * (i % 3 ? 1.0f : -0.25f);
	mg_kir_init(&k, &ar, "hist", 1);
	mg_kir_tensor(&k, MG_DTYPE_F32, 1);
	int32_t v = mg_kir_loadat(&k, 0);
	int32_t b = mg_kir_cast(&k, MG_DTYPE_I64, mg_kir_bitcast(&k, MG_DTYPE_I32, v));
	int32_t bin = mg_kir_op(&k, MG_KOP_REM, mg_kir_op(&k, MG_KOP_DIV, b,
		mg_kir_const(&k, MG_DTYPE_I64, 1 << 20)), mg_kir_const(&k, MG_DTYPE_I64, 50));
	int32_t m = mg_kir_op(&k, MG_KOP_NE, v, mg_kir_const(&k, MG_DTYPE_F32, 7));
	mg_kir_reduce(&k, MG_KRED_MAX, mg_kir_cast(&k, MG_DTYPE_F64, v), -1);
	CHECK(mg_kir_hist(&k, bin, m, BINS) == 1, "the histogram is reduction 1");
	CHECK_OK(mg_kir_verify(&k, &e), &e);
	CHECK(mg_kinfo_nacc(&k.info, (int64_t[]){N}) == 2 + BINS && mg_kinfo_bins_at(&k.info, 1) == 2,
	      "accumulators: the two reductions', then the bins");
	double want[BINS] = {0}, max = -INFINITY;
	for (int i = 0; i < N; i++) {
		max = x[i] > max ? x[i] : max;
		int32_t bits;
		memcpy(&bits, &x[i], sizeof bits);
		int64_t d = (int64_t)bits / (1 << 20) % 50;
		if (x[i] != 7 && d >= 0 && d < BINS)
			want[d]++;
	}
	launched = &k;
	struct mg_kargs a = {.dims = {N}};
	a.t[0] = (struct mg_ktensor){(char *)x, {N}, {1}};
	for (int threads = 0; threads <= 2; threads++) {
		struct mg_pool *pool = threads ? mg_pool_new(threads) : NULL;
		double got[2 + BINS];
		mg_kernel_launch(eval_fn, &k.info, &a, pool, got);
		mg_pool_free(pool);
		int same = 1;
		for (int i = 0; i < BINS; i++)
			same &= got[2 + i] == want[i];
		CHECK(got[0] == max && got[1] == 0 && same, "threads %d: max %g, own slot %g, bins %s",
		      threads, got[0], got[1], same ? "equal" : "differ");
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	mg_kir_print(&k, f);
	fclose(f);
	CHECK(strstr(text, "%1 = bitcast i32 %0") && strstr(text, "reduce hist 37 %") &&
	      strstr(text, " if %"), "printed: %s", text);
	free(text);
	/* bins outside 1..4096, a value that is no i64, a bitcast across sizes */
	k.info.bins[1] = 4097;
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "1 to 4096 bins");
	k.info.bins[1] = BINS;
	k.red[1].value = 1;
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "(a histogram: i64)");
	k.red[1].value = bin;
	k.nodes[1].type = MG_DTYPE_I16;
	CHECK_FAILS(mg_kir_verify(&k, &e), &e, "two non-bool types of one size");
	mg_arena_free(&ar);
}

int main(void)
{
	test_philox();
	test_eval_store();
	test_eval_reduce();
	test_eval_semantics();
	test_verify_and_hash();
	test_launch();
	test_hist();
	return check_done();
}
