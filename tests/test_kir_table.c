/* test_kir_table.c: kernel IR as bytes (kir_io.c) and the kernel sets and backends built
 * on them (kir_table.c): kernels written and read back equal, with the same bytes again;
 * every truncation and every changed byte is refused with a message or reads a valid
 * kernel that writes the same bytes; the recorder keeps each distinct kernel once; the
 * table backend runs the linked function of an equal kernel (another name, other sizes)
 * and answers MG_ERR_UNSUPPORTED for any other, which its report names. */
#include <stdlib.h>

#include "../ir/kir_table.h"
#include "check.h"

/* y = f32(x) * c + p0 over a rank-2 space, x an i16 operand, the loop order swapped */
static void build_affine(struct mg_kir *k, struct mg_arena *ar, const char *name, double c)
{
	mg_kir_init(k, ar, name, 2);
	k->info.order[0] = 1;
	k->info.order[1] = 0;
	mg_kir_tensor(k, MG_DTYPE_F32, 2);
	mg_kir_tensor(k, MG_DTYPE_I16, 2);
	int p = mg_kir_param_slot(k);
	int32_t x = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_loadat(k, 1));
	int32_t y = mg_kir_op(k, MG_KOP_MUL, x, mg_kir_const(k, MG_DTYPE_F32, c));
	k->store = mg_kir_op(k, MG_KOP_ADD, y, mg_kir_param(k, MG_DTYPE_F32, p));
}

/* masked gathers, Philox, dims and strides, a bitcast, and reductions (a histogram and
 * one per axis among them): every field of a node used */
static void build_mixed(struct mg_kir *k, struct mg_arena *ar)
{
	mg_kir_init(k, ar, "mixed", 3);
	mg_kir_tensor(k, MG_DTYPE_U8, 1);
	int32_t i = mg_kir_index(k, 2);
	int32_t ok = mg_kir_op(k, MG_KOP_LT, i, mg_kir_dim(k, 0, 0));
	int32_t off = mg_kir_op(k, MG_KOP_MUL, i, mg_kir_stride(k, 0, 0));
	int32_t v = mg_kir_cast(k, MG_DTYPE_F64, mg_kir_load(k, 0, off, ok));
	int32_t r = mg_kir_philox(k, 3, i, mg_kir_const(k, MG_DTYPE_I64, -123456789012.0));
	mg_kir_reduce(k, MG_KRED_SUM, v, ok);
	mg_kir_per_axis(k, mg_kir_reduce(k, MG_KRED_MAX, mg_kir_cast(k, MG_DTYPE_F64, r), -1), 0);
	mg_kir_reduce(k, MG_KRED_MIN, mg_kir_const(k, MG_DTYPE_F64, -0.0), -1);
	mg_kir_hist(k, mg_kir_bitcast(k, MG_DTYPE_I64, v), ok, 4096);
}

static void test_bytes(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir ks[2], back;
	build_affine(&ks[0], &ar, "affine", 2.5);
	build_mixed(&ks[1], &ar);
	for (int t = 0; t < 2; t++) {
		CHECK_OK(mg_kir_verify(&ks[t], &e), &e);
		unsigned char *b = NULL, *b2 = NULL;
		size_t n = 0, n2 = 0;
		CHECK_OK(mg_kir_write(&ks[t], &b, &n, &e), &e);
		CHECK_OK(mg_kir_read(&back, &ar, b, n, &e), &e);
		CHECK(mg_kir_equal(&back, &ks[t]) && mg_kir_hash(&back) == mg_kir_hash(&ks[t]) &&
		      !strcmp(back.name, ks[t].name), "kernel %d read back", t);
		CHECK_OK(mg_kir_write(&back, &b2, &n2, &e), &e);
		CHECK(n2 == n && !memcmp(b, b2, n), "kernel %d: other bytes the second time", t);
		free(b2);
		/* compact: a few bytes per node */
		CHECK(n < 40 + 8 * (size_t)ks[t].nnodes, "kernel %d: %zu bytes for %d nodes", t, n,
		      ks[t].nnodes);
		for (size_t cut = 0; cut < n; cut++) {
			mg_err_clear(&e);
			int rc = mg_kir_read(&back, &ar, b, cut, &e);
			CHECK(rc == MG_ERR_FORMAT && strstr(e.msg, "kernel IR"), "cut at %zu: %d %s",
			      cut, rc, e.msg);
		}
		int nread = 0;
		for (size_t at = 0; at < n; at++)
			for (int bit = 0; bit < 8; bit++) {
				b[at] ^= (unsigned char)(1 << bit);
				mg_err_clear(&e);
				if (mg_kir_read(&back, &ar, b, n, &e) == 0) {
					/* a valid kernel: canonical, so its bytes are these */
					nread++;
					CHECK_OK(mg_kir_write(&back, &b2, &n2, &e), &e);
					CHECK(n2 == n && !memcmp(b, b2, n), "byte %zu bit %d", at, bit);
					free(b2);
				} else {
					CHECK(e.code == MG_ERR_FORMAT && e.msg[0], "byte %zu bit %d", at,
					      bit);
				}
				b[at] ^= (unsigned char)(1 << bit);
			}
		CHECK(nread > 0, "kernel %d: no flipped bit gave another valid kernel", t);
		free(b);
	}
	static const unsigned char junk[] = "MGK1\x01";
	mg_err_clear(&e);
	CHECK_FAILS(mg_kir_read(&back, &ar, "MGK2", 4, &e), &e, "no MGK1 magic");
	CHECK_FAILS(mg_kir_read(&back, &ar, junk, sizeof junk - 1, &e), &e, "truncated name");
	mg_arena_free(&ar);
}

/* The linked function: the interpreter on the table's own kernel, which must be the
 * affine one (the table passes only equal kernels). */
static const struct mg_kir *linked_ir;
static int64_t linked_calls;
static void linked_fn(const struct mg_kargs *a, int64_t lo, int64_t hi, double *acc)
{
	__atomic_add_fetch(&linked_calls, 1, __ATOMIC_RELAXED);
	mg_kir_eval(linked_ir, a, lo, hi, acc);
}

static void test_backends(void)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir aff, same, other, mixed;
	build_affine(&aff, &ar, "affine", 2.5);
	build_affine(&same, &ar, "renamed", 2.5);
	build_affine(&other, &ar, "affine", 3);
	build_mixed(&mixed, &ar);

	/* the recorder: two distinct kernels out of four runs, each run by the interpreter */
	struct mg_kir_interp it;
	mg_kir_interp_init(&it);
	struct mg_kir_recorder rec;
	mg_kir_recorder_init(&rec, &it.b);
	int16_t x[3][4];
	float y[3][4];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			x[i][j] = (int16_t)(i * 10 - j);
	struct mg_kargs a = {.dims = {3, 4}, .p = {0.5}};
	a.t[0] = (struct mg_ktensor){(char *)y, {3, 4}, {4, 1}};
	a.t[1] = (struct mg_ktensor){(char *)x, {3, 4}, {4, 1}};
	const struct mg_kir *runs[] = {&aff, &same, &other, &aff};
	for (int i = 0; i < 4; i++)
		CHECK_OK(rec.b.run(&rec.b, runs[i], &a, NULL, &e), &e);
	CHECK(rec.seen.n == 2 && it.runs == 4 && mg_kir_equal(&rec.seen.k[0], &aff) &&
	      mg_kir_equal(&rec.seen.k[1], &other), "%d kernels, %lld runs", rec.seen.n,
	      (long long)it.runs);

	/* the table, from the recorded kernels' bytes: affine linked, other corrupted */
	unsigned char *b = NULL;
	size_t n = 0;
	CHECK_OK(mg_kir_write(&rec.seen.k[0], &b, &n, &e), &e);
	linked_ir = &rec.seen.k[0];
	struct mg_kir_entry ent[2] = {{b, n, linked_fn}, {b, n - 1, linked_fn}};
	struct mg_kir_table t;
	CHECK_FAILS(mg_kir_table_init(&t, ent, 2, NULL, &e), &e, "kernel table entry 1");
	mg_kir_table_free(&t);
	mg_err_clear(&e);
	struct mg_pool *pool = mg_pool_new(2);
	CHECK_OK(mg_kir_table_init(&t, ent, 1, pool, &e), &e);
	memset(y, 0, sizeof y);
	CHECK_OK(t.b.run(&t.b, &same, &a, NULL, &e), &e);
	int ok = linked_calls > 0;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			ok &= y[i][j] == (float)x[i][j] * 2.5f + 0.5f;
	CHECK(ok, "the linked function did not run right");
	CHECK(t.b.run(&t.b, &other, &a, NULL, &e) == MG_ERR_UNSUPPORTED &&
	      strstr(e.msg, "kernel affine: not among the kernels compiled"), "%s", e.msg);
	mg_err_clear(&e);
	double red[3];
	CHECK(t.b.run(&t.b, &mixed, &a, red, &e) == MG_ERR_UNSUPPORTED);
	mg_err_clear(&e);
	CHECK(t.b.run(&t.b, &other, &a, NULL, &e) == MG_ERR_UNSUPPORTED);
	char log[512] = "";
	FILE *f = fmemopen(log, sizeof log, "w");
	mg_kir_table_report(&t, f);
	fclose(f);
	CHECK(strstr(log, "1 linked, 1 step calls ran them; 3 fell back") &&
	      strstr(log, "not traced at compile time: affine, mixed)"), "%s", log);
	mg_kir_table_free(&t);
	mg_pool_free(pool);
	free(b);
	mg_kir_recorder_free(&rec);
	mg_arena_free(&ar);
}

int main(void)
{
	test_bytes();
	test_backends();
	return check_done();
}
