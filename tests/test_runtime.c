/* test_runtime.c: dtypes, tensors as views, the iterator, meta copy-on-write, the
 * affine helpers (identity, numpy's allclose), the pool, the arena, the block cache. Expected f16/bf16
 * bit patterns come from numpy and torch conversions. */
#include <stdlib.h>

#include "../runtime/arena.h"
#include "../runtime/runtime.h"
#include "check.h"

static void test_half(void)
{
	/* numpy: np.float16(np.float32(v)).view(np.uint16); torch: .to(torch.bfloat16) */
	static const struct {
		float v;
		uint16_t f16, bf16;
	} cases[] = {
		{0.0f, 0x0, 0x0},	    {-0.0f, 0x8000, 0x8000}, {1.0f, 0x3c00, 0x3f80},
		{-2.5f, 0xc100, 0xc020},  {65504.0f, 0x7bff, 0x4780}, {65520.0f, 0x7c00, 0x4780},
		{1e-8f, 0x0, 0x322c},	    {6e-8f, 0x1, 0x3381},	 {5.96e-8f, 0x1, 0x3380},
		{3.14159265f, 0x4248, 0x4049}, {1e5f, 0x7c00, 0x47c3},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		CHECK(mg_f32_to_f16(cases[i].v) == cases[i].f16, "f16(%g) = %#x, want %#x",
		      cases[i].v, mg_f32_to_f16(cases[i].v), cases[i].f16);
		CHECK(mg_f32_to_bf16(cases[i].v) == cases[i].bf16, "bf16(%g) = %#x, want %#x",
		      cases[i].v, mg_f32_to_bf16(cases[i].v), cases[i].bf16);
	}
	/* every finite f16 survives f16 -> f32 -> f16 */
	int bad = 0;
	for (uint32_t h = 0; h < 0x10000; h++)
		if ((h & 0x7c00) != 0x7c00 && mg_f32_to_f16(mg_f16_to_f32((uint16_t)h)) != h)
			bad++;
	CHECK(bad == 0, "%d f16 values do not round trip", bad);
}

static void test_dtype(void)
{
	CHECK(mg_dtype_parse("np.float32") == MG_DTYPE_F32);
	CHECK(mg_dtype_parse("torch.uint8") == MG_DTYPE_U8);
	CHECK(mg_dtype_parse("<class 'numpy.int16'>") == MG_DTYPE_I16);
	CHECK(mg_dtype_parse("float") == MG_DTYPE_F32);
	CHECK(mg_dtype_parse("complex64") == -1);
	int16_t s;
	/* torch: tensor([-1.7, 2.9, -300.2]).to(int16) = [-1, 2, -300] (truncation) */
	mg_dtype_store(MG_DTYPE_I16, &s, -1.7);
	CHECK(s == -1);
	mg_dtype_store(MG_DTYPE_I16, &s, 2.9);
	CHECK(s == 2);
	mg_dtype_store(MG_DTYPE_I16, &s, -300.2);
	CHECK(s == -300);
	/* out of range saturates (C leaves it undefined; torch wraps) */
	mg_dtype_store(MG_DTYPE_I16, &s, 70000.0);
	CHECK(s == 32767);
	uint8_t u;
	mg_dtype_store(MG_DTYPE_U8, &u, NAN);
	CHECK(u == 0);
}

static void test_views(void)
{
	struct mg_err e = {0};
	struct mg_tensor t;
	int64_t dims[3] = {2, 3, 4};
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_I32, 3, dims, &e), &e);
	CHECK(t.strides[0] == 12 && t.strides[1] == 4 && t.strides[2] == 1);
	CHECK(mg_tensor_is_contiguous(&t));
	int32_t *p = mg_tensor_data(&t);
	for (int i = 0; i < 24; i++)
		p[i] = i;
	struct mg_tensor v = mg_tensor_share(&t);
	CHECK(t.buf->refs == 2);
	mg_tensor_movedim(&v, 2, 0); /* (4, 2, 3) */
	CHECK(v.dims[0] == 4 && v.dims[1] == 2 && v.dims[2] == 3);
	CHECK(!mg_tensor_is_contiguous(&v));
	int64_t idx[3] = {3, 1, 2};
	CHECK(*(int32_t *)mg_tensor_at(&v, idx) == 1 * 12 + 2 * 4 + 3);
	struct mg_tensor c;
	CHECK_OK(mg_tensor_contiguous(&c, &v, &e), &e);
	CHECK(mg_tensor_is_contiguous(&c));
	CHECK(((int32_t *)mg_tensor_data(&c))[3 * 6 + 1 * 3 + 2] == 23);
	/* alloc_like keeps the stride order of a permuted view */
	struct mg_tensor l;
	CHECK_OK(mg_tensor_cast(&l, &v, MG_DTYPE_F32, &e), &e);
	CHECK(l.strides[0] == 1 && l.strides[1] == 12 && l.strides[2] == 4,
	      "strides %lld %lld %lld", (long long)l.strides[0], (long long)l.strides[1],
	      (long long)l.strides[2]);
	CHECK(*(float *)mg_tensor_at(&l, idx) == 23.0f);
	mg_tensor_unsqueeze(&v, 0);
	CHECK(v.rank == 4 && v.dims[0] == 1 && v.dims[1] == 4);
	CHECK(*(int32_t *)mg_tensor_at(&v, (int64_t[]){0, 3, 1, 2}) == 23);
	mg_tensor_release(&l);
	mg_tensor_release(&c);
	mg_tensor_release(&v);
	CHECK(t.buf->refs == 1);
	mg_tensor_release(&t);
	/* empty and bad shapes */
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_U8, 2, (int64_t[]){0, 5}, &e), &e);
	CHECK(mg_tensor_numel(&t) == 0);
	mg_tensor_release(&t);
	CHECK_FAILS(mg_tensor_alloc(&t, MG_DTYPE_U8, 2, (int64_t[]){-1, 5}, &e), &e, "bad size");
	CHECK_FAILS(mg_tensor_alloc(&t, MG_DTYPE_F64, 3, (int64_t[]){1 << 30, 1 << 30, 1 << 30},
				    &e),
		    &e, "bad size");
}

static void test_iter(void)
{
	/* a 3x2 walk over a transposed operand visits in logical order */
	int64_t dims[2] = {3, 2}, sa[2] = {2, 1}, sb[2] = {1, 3};
	const int64_t *st[2] = {sa, sb};
	struct mg_iter it;
	mg_iter_init(&it, 2, dims, 2, st);
	int64_t got[6][2], n = 0;
	do {
		got[n][0] = it.off[0];
		got[n][1] = it.off[1];
		n++;
	} while (mg_iter_next(&it) && n < 6);
	CHECK(n == 6);
	for (int i = 0; i < 6; i++)
		CHECK(got[i][0] == i && got[i][1] == (i / 2) + 3 * (i % 2));
}

static void test_meta(void)
{
	struct mg_err e = {0};
	struct mg_tensor a;
	CHECK_OK(mg_tensor_alloc(&a, MG_DTYPE_U8, 1, (int64_t[]){4}, &e), &e);
	a.meta = mg_meta_new();
	mg_meta_set_filename(a.meta, "x.nii.gz");
	struct mg_tensor b = mg_tensor_share(&a);
	struct mg_meta *m = mg_meta_mut(&b);
	m->affine[0][3] = 5;
	CHECK(a.meta->affine[0][3] == 0, "copy on write must not change the shared meta");
	CHECK(b.meta->affine[0][3] == 5 && strcmp(b.meta->filename, "x.nii.gz") == 0);
	mg_tensor_release(&a);
	mg_tensor_release(&b);
}

static void test_affine_helpers(void)
{
	double a[4][4], b[4][4];
	memset(a, 0x7f, sizeof a);
	mg_affine_identity(a);
	for (int i = 0; i < 16; i++)
		CHECK(a[i / 4][i % 4] == (i % 5 == 0), "identity[%d]", i);
	memcpy(b, a, sizeof b);
	b[0][3] = 100;
	a[0][3] = 100.0009; /* within 1e-8 + 1e-5 * 100 */
	CHECK(mg_allclose(&a[0][0], &b[0][0], 16));
	a[0][3] = 100.0011;
	CHECK(!mg_allclose(&a[0][0], &b[0][0], 16));
	/* asymmetric in its second argument, as numpy: |x - y| <= 1e-8 + 1e-5 |y| */
	double x = 1e-3, y = 1e-3 + 2.000005e-8; /* 1e-8 + 1e-5 y > |x - y| > 1e-8 + 1e-5 x */
	CHECK(mg_allclose(&x, &y, 1) && !mg_allclose(&y, &x, 1));
	double nan = NAN;
	CHECK(!mg_allclose(&nan, &nan, 1), "NaN is never close");
	/* the printer's short dtype names come from the same list as the long ones */
	CHECK(strcmp(mg_dtype_short(MG_DTYPE_F32), "f32") == 0 &&
	      strcmp(mg_dtype_short(MG_DTYPE_BF16), "bf16") == 0 &&
	      strcmp(mg_dtype_short(MG_DTYPE_U16), "u16") == 0);
	for (int t = 0; t < MG_DTYPE_COUNT; t++) {
		const char *l = mg_dtype_name((enum mg_dtype)t);
		const char *s = mg_dtype_short((enum mg_dtype)t);
		CHECK(s[0] == l[0] && strstr(l, s + (s[0] == 'b' ? 2 : 1)), "%s / %s", l, s);
	}
}

static void add_one(void *ctx, int64_t i, int worker)
{
	__atomic_add_fetch(&((int64_t *)ctx)[i], i + 1, __ATOMIC_RELAXED);
	(void)worker;
}

static void test_pool(void)
{
	struct mg_pool *p = mg_pool_new(3);
	CHECK(p && mg_pool_size(p) == 3);
	int64_t *acc = calloc(1000, sizeof *acc);
	for (int round = 0; round < 50; round++)
		mg_pool_for(p, 1000, add_one, acc);
	int ok = 1;
	for (int i = 0; i < 1000; i++)
		ok &= acc[i] == 50 * (i + 1);
	CHECK(ok, "every index runs exactly once per loop");
	free(acc);
	mg_pool_free(p);
}

static void test_arena(void)
{
	struct mg_arena a = {0};
	char *s = mg_arena_printf(&a, "%s-%d", "x", 42);
	CHECK(strcmp(s, "x-42") == 0);
	void *big = mg_arena_alloc(&a, 1 << 20);
	CHECK(big && ((uintptr_t)big & 15) == 0);
	CHECK(!a.failed);
	mg_arena_free(&a);
}

static void test_errors(void)
{
	struct mg_err e = {0};
	CHECK(mg_err_set(&e, MG_ERR_IO, "inner %d", 1) == MG_ERR_IO);
	CHECK(mg_err_set(&e, MG_ERR_FORMAT, "second") == MG_ERR_FORMAT);
	mg_err_prefix(&e, "item %d", 3);
	CHECK(strcmp(e.msg, "item 3: inner 1") == 0, "%s", e.msg);
	CHECK(e.code == MG_ERR_IO);
}

/* Large blocks come back from the cache for a request of about their size (never a
 * smaller block, never one more than an eighth larger); small ones are not cached. */
static void test_blocks(void)
{
	size_t mb = (size_t)1 << 20;
	char *a = mg_block_alloc(40 * mb);
	CHECK(a && (uintptr_t)a % 64 == 0);
	memset(a, 7, 40 * mb); /* all of it is usable */
	mg_block_free(a);
	char *b = mg_block_alloc(39 * mb);
	CHECK(b == a, "a freed block serves the next request of about its size");
	char *c = mg_block_alloc(40 * mb);
	CHECK(c && c != a, "a block in use is not handed out twice");
	mg_block_free(b);
	char *d = mg_block_alloc(20 * mb);
	CHECK(d != a, "a much larger cached block does not serve a small request");
	char *f = mg_block_alloc(80 * mb);
	CHECK(f != a, "a smaller cached block never serves a larger request");
	char *s = mg_block_alloc(1000), *s2;
	CHECK(s && (uintptr_t)s % 64 == 0);
	mg_block_free(s);
	s2 = mg_block_alloc(1000);
	mg_block_free(s2);
	mg_block_free(c);
	mg_block_free(d);
	mg_block_free(f);
	mg_block_free(NULL);
	mg_block_cache_trim();
	CHECK(mg_block_alloc((size_t)-1) == NULL, "an impossible size fails cleanly");
}

int main(void)
{
	test_half();
	test_dtype();
	test_views();
	test_iter();
	test_meta();
	test_affine_helpers();
	test_pool();
	test_arena();
	test_errors();
	test_blocks();
	return check_done();
}
