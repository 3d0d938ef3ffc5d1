/* test_kir_llvm.c: the LLVM backend against the kernel IR interpreter (mg_kir_eval, the
 * IR's meaning): seeded random well-typed expression DAGs over every op (but EXP/LOG;
 * LIBM's calls included, exact)
 * and every dtype, random shapes (size-1 and prime dims, ranks 1-5, every loop order),
 * non-contiguous, negative and broadcast (0) strides, masked loads, reductions; then
 * EXP/LOG against libm within a stated ulp bound, the JIT cache, a broken module's error,
 * and an object file linked by `cc` into a program that must agree with the interpreter.
 * Exact equality everywhere except: NaN equals NaN (payloads differ between libm, x86 and
 * the interpreter's f16 conversion), SUM reductions within n * 2^-52 * sum |v| (the
 * renderer adds in a different order), EXP/LOG within MAX_ULP. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "../codegen/llvm.h"
#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#define NRANDOM 25 /* JIT code is not instrumented; the sanitizer checks our side */
#else
#define NRANDOM 200
#endif
#define MAX_ULP 4
#define TABLE 64 /* elements of a LOAD table: offsets are masked into it */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return rng_state = x;
}

static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- random data --------------------------------------------------------------------- */

/* Mostly ordinary values (small integers, ties like 2.5 and 257, moderate reals), some
 * specials: signed zeros, infinities, NaN, values past the integer types' ranges. */
static double rnd_double(void)
{
	static const double special[] = {0.0, -0.0, 0.5, -0.5, 2.5, -2.5, 257, 1e30, -1e30,
					 1e-40, 65504, 70000, 3e9, -3e9, 1e19, -1e19, INFINITY,
					 -INFINITY, NAN};
	switch (rndn(8)) {
	case 0: return special[rndn((int)(sizeof special / sizeof *special))];
	case 1: case 2: case 3: return (double)(rndn(601) - 300);
	default: return ((double)(int64_t)rnd() / 0x1p63) * 200.0;
	}
}

static void fill(void *buf, int dtype, int64_t n)
{
	size_t sz = mg_dtype_size(dtype);
	for (int64_t i = 0; i < n; i++) {
		char *p = (char *)buf + i * (int64_t)sz;
		int r = rndn(16);
		if (mg_dtype_is_float(dtype) ? r != 0 : r < 8) {
			mg_dtype_store(dtype, p, mg_dtype_is_float(dtype) ? rnd_double() : rndn(41) - 20);
		} else {
			uint64_t bits = rnd();
			memcpy(p, &bits, sz); /* any bit pattern: NaNs, subnormals, extremes */
		}
	}
}

/* ---- random kernels ------------------------------------------------------------------ */

struct gen {
	struct mg_kir *k;
	int nloadat, ntable;
	int loadat[MG_KMAX_TENSORS], table[MG_KMAX_TENSORS];
};

static const int all_types[] = {MG_DTYPE_U8, MG_DTYPE_I8, MG_DTYPE_U16, MG_DTYPE_I16,
				MG_DTYPE_U32, MG_DTYPE_I32, MG_DTYPE_I64, MG_DTYPE_F16,
				MG_DTYPE_BF16, MG_DTYPE_F32, MG_DTYPE_F64, MG_KT_BOOL};
#define NTYPES ((int)(sizeof all_types / sizeof *all_types))

/* A random type, f32 and f64 favoured (they carry most of the arithmetic); with_bool 0
 * for tensors' dtypes. */
static int pick_type(int with_bool)
{
	int n = NTYPES - 1, r = rndn(n + 5 + with_bool); /* all_types ends with BOOL */
	return r < n ? all_types[r] : r < n + 3 ? MG_DTYPE_F32 : r < n + 5 ? MG_DTYPE_F64 : MG_KT_BOOL;
}

static int storage(int t) { return t == MG_DTYPE_F16 || t == MG_DTYPE_BF16; }
static int fltype(int t) { return t < MG_DTYPE_COUNT && mg_dtype_is_float(t); }

static int32_t value_of(struct gen *g, int type, int depth);

/* A leaf of the given type: mostly a tensor's element (cast when its dtype differs). */
static int32_t leaf(struct gen *g, int type)
{
	struct mg_kir *k = g->k;
	int r = rndn(10);
	if (r < 5) {
		int t = g->loadat[rndn(g->nloadat)];
		for (int i = 0; i < g->nloadat; i++)
			if (k->tensor[g->loadat[i]].dtype == type)
				t = g->loadat[i];
		return mg_kir_cast(k, type, mg_kir_loadat(k, t));
	}
	if (r < 7 && k->nparams)
		return mg_kir_param(k, type, rndn(k->nparams));
	if (r < 9 && type == MG_DTYPE_I64)
		return rndn(2) ? mg_kir_index(k, rndn(k->info.rank))
		       : rndn(2) ? mg_kir_dim(k, g->loadat[0], rndn(k->info.rank))
				 : mg_kir_stride(k, g->loadat[rndn(g->nloadat)], rndn(k->info.rank));
	double v = type == MG_KT_BOOL ? rndn(2)
		   : fltype(type)   ? rnd_double()
				    : (double)(rndn(2) ? rndn(300) - 150 : (int64_t)(rnd() >> 12) - (1ll << 51));
	return mg_kir_const(k, type, v);
}

/* A masked load from a table: offset in [0, TABLE) where the mask holds, far outside
 * (2^40) where it does not, so a read there would fault. */
static int32_t table_load(struct gen *g, int t, int depth)
{
	struct mg_kir *k = g->k;
	int32_t x = value_of(g, MG_DTYPE_I64, depth + 1);
	int32_t off = mg_kir_op(k, MG_KOP_AND, x, mg_kir_const(k, MG_DTYPE_I64, TABLE - 1));
	int32_t mask = -1;
	if (rndn(2)) {
		mask = value_of(g, MG_KT_BOOL, depth + 1);
		off = mg_kir_select(k, mask, off, mg_kir_const(k, MG_DTYPE_I64, 0x1p40));
	}
	return mg_kir_load(k, t, off, mask);
}

/* A random expression of the given type, depth-limited. */
static int32_t value_of(struct gen *g, int type, int depth)
{
	struct mg_kir *k = g->k;
	if (depth > 5 || rndn(5) == 0)
		return leaf(g, type);
	int choice = rndn(10);
	if (storage(type)) /* loaded, cast or stored only */
		return choice < 3 ? leaf(g, type) : mg_kir_cast(k, type, value_of(g, pick_type(1), depth + 1));
	if (choice == 0)
		return mg_kir_cast(k, type, value_of(g, pick_type(1), depth + 1));
	if (choice == 1 && g->ntable) {
		for (int i = 0; i < g->ntable; i++)
			if (k->tensor[g->table[i]].dtype == type)
				return table_load(g, g->table[i], depth);
	}
	if (choice == 2)
		return mg_kir_select(k, value_of(g, MG_KT_BOOL, depth + 1), value_of(g, type, depth + 1),
				     value_of(g, type, depth + 1));
	if (choice == 3 && type == MG_DTYPE_U32)
		return mg_kir_philox(k, rndn(4), value_of(g, MG_DTYPE_I64, depth + 1),
				     value_of(g, MG_DTYPE_I64, depth + 1));
	if (choice == 3 && type == MG_DTYPE_F64)
		return mg_kir_libm(k, (enum mg_klibm)rndn(MG_KLIBM_COUNT),
				   value_of(g, MG_DTYPE_F64, depth + 1));
	/* a bitcast from the other types of the size (f16/bf16 <-> i16/u16 included) */
	static const int same_size[][3] = {{MG_DTYPE_F32, MG_DTYPE_I32, MG_DTYPE_U32},
					   {MG_DTYPE_F64, MG_DTYPE_I64, MG_DTYPE_I64},
					   {MG_DTYPE_F16, MG_DTYPE_BF16, MG_DTYPE_I16}};
	for (int i = 0; choice == 4 && i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (same_size[i][j] == type) {
				int from = same_size[i][rndn(3)];
				if (from == MG_DTYPE_I16 && rndn(2))
					from = MG_DTYPE_U16;
				return mg_kir_bitcast(k, type, value_of(g, from, depth + 1));
			}
	if (type == MG_KT_BOOL) {
		if (choice < 6) { /* a compare of two values of one computable type */
			int t;
			do
				t = pick_type(1);
			while (storage(t));
			return mg_kir_op(k, MG_KOP_LT + rndn(6), value_of(g, t, depth + 1), value_of(g, t, depth + 1));
		}
		int op = MG_KOP_AND + rndn(4);
		return mg_kir_op(k, op, value_of(g, type, depth + 1),
				 op == MG_KOP_NOT ? -1 : value_of(g, type, depth + 1));
	}
	static const int fops[] = {MG_KOP_ADD, MG_KOP_SUB, MG_KOP_MUL, MG_KOP_DIV, MG_KOP_MIN,
				   MG_KOP_MAX, MG_KOP_NEG, MG_KOP_ABS, MG_KOP_SQRT, MG_KOP_FLOOR,
				   MG_KOP_CEIL, MG_KOP_RINT, MG_KOP_TRUNC};
	static const int iops[] = {MG_KOP_ADD, MG_KOP_SUB, MG_KOP_MUL, MG_KOP_DIV, MG_KOP_REM,
				   MG_KOP_MIN, MG_KOP_MAX, MG_KOP_NEG, MG_KOP_ABS, MG_KOP_AND,
				   MG_KOP_OR, MG_KOP_XOR, MG_KOP_NOT};
	int op = fltype(type) ? fops[rndn(13)] : iops[rndn(13)];
	int unary = op == MG_KOP_NEG || op == MG_KOP_NOT || (op >= MG_KOP_ABS && op <= MG_KOP_TRUNC);
	int32_t a = value_of(g, type, depth + 1);
	return mg_kir_op(k, op, a, unary ? -1 : value_of(g, type, depth + 1));
}

/* ---- tensors with random layouts ----------------------------------------------------- */

struct buf {
	char *mem;   /* the allocation */
	size_t size; /* bytes */
};

/* Lays out a tensor of the output's dims: random memory order, gaps, flipped axes,
 * broadcast axes (stride 0, inputs only); inner_unit forces stride 1 on the loop's
 * innermost axis (the contiguous vector path). */
static void layout(struct mg_ktensor *kt, struct buf *b, int dtype, int rank, const int64_t *dims,
		   int inner, int inner_unit, int is_output)
{
	int perm[MG_KMAX_RANK];
	for (int i = 0; i < rank; i++)
		perm[i] = i;
	for (int i = rank - 1; i > 0; i--) {
		int j = rndn(i + 1), t = perm[i];
		perm[i] = perm[j], perm[j] = t;
	}
	if (inner_unit)
		for (int i = 0; i < rank; i++)
			if (perm[i] == inner)
				perm[i] = perm[rank - 1], perm[rank - 1] = inner;
	int64_t acc = 1, base = 0;
	for (int p = rank - 1; p >= 0; p--) {
		int ax = perm[p];
		int unit = inner_unit && ax == inner;
		kt->dims[ax] = dims[ax];
		if (!is_output && !unit && rndn(5) == 0) {
			kt->strides[ax] = 0;
			continue;
		}
		int flip = !unit && rndn(4) == 0;
		kt->strides[ax] = flip ? -acc : acc;
		if (flip)
			base += (dims[ax] - 1) * acc;
		acc *= dims[ax] + (unit || rndn(3) ? 0 : rndn(3) + 1);
	}
	size_t sz = mg_dtype_size(dtype);
	b->size = (size_t)acc * sz;
	b->mem = malloc(b->size);
	fill(b->mem, dtype, acc);
	kt->data = b->mem + base * (int64_t)sz;
}

/* ---- comparing ----------------------------------------------------------------------- */

static int is_nan_bits(int dtype, const char *p)
{
	uint16_t h;
	switch (dtype) {
	case MG_DTYPE_F16: memcpy(&h, p, 2); return (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
	case MG_DTYPE_BF16: memcpy(&h, p, 2); return (h & 0x7f80) == 0x7f80 && (h & 0x7f);
	case MG_DTYPE_F32: case MG_DTYPE_F64: {
		double v = mg_dtype_load(dtype, p);
		return v != v;
	}
	default: return 0;
	}
}

/* Whole buffers (gaps included) equal, NaN matching any NaN. The first difference's
 * element index, or -1. */
static int64_t first_difference(int dtype, const char *x, const char *y, size_t size)
{
	size_t sz = mg_dtype_size(dtype);
	for (size_t i = 0; i < size; i += sz)
		if (memcmp(x + i, y + i, sz) && !(is_nan_bits(dtype, x + i) && is_nan_bits(dtype, y + i)))
			return (int64_t)(i / sz);
	return -1;
}

/* ---- the differential test ----------------------------------------------------------- */

static const int64_t inner_sizes[] = {1, 2, 3, 7, 16, 17, 31, 37, 53};
static const int64_t outer_sizes[] = {1, 2, 3, 5, 7};

static double max_sum_err; /* relative to the bound, for the report */

/* Random kernel number `seed` into k (nodes and name in ar), with the sizes to run it
 * on; g records its tensors. The RNG is left seeded for the case's data. */
static void random_kernel(uint64_t seed, struct mg_kir *k, struct gen *g, struct mg_arena *ar,
			  int64_t *dims)
{
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	int rank = 1 + rndn(5);
	mg_kir_init(k, ar, mg_arena_printf(ar, "random%llu", (unsigned long long)seed), rank);
	for (int i = rank - 1; i > 0; i--) { /* a random loop order */
		int j = rndn(i + 1), t = k->info.order[i];
		k->info.order[i] = k->info.order[j], k->info.order[j] = t;
	}
	int inner = k->info.order[rank - 1];
	for (int i = 0; i < rank; i++)
		dims[i] = i == inner ? inner_sizes[rndn(9)] : outer_sizes[rndn(rank > 3 ? 3 : 5)];
	int stores = rndn(4) != 0, out_type = pick_type(0);
	if (stores)
		mg_kir_tensor(k, out_type, rank);
	int nin = 1 + rndn(3), ntab = rndn(3);
	for (int i = 0; i < nin; i++)
		g->loadat[g->nloadat++] = mg_kir_tensor(k, pick_type(0), rank);
	for (int i = 0; i < ntab; i++)
		g->table[g->ntable++] = mg_kir_tensor(k, pick_type(0), 1);
	for (int i = rndn(4); i > 0; i--)
		mg_kir_param_slot(k);
	if (stores)
		k->store = value_of(g, out_type, 0);
	int nred = stores ? rndn(3) : 1 + rndn(2);
	for (int r = 0; r < nred; r++) {
		enum mg_kred kind = (enum mg_kred)rndn(4);
		int32_t mask = rndn(2) ? value_of(g, MG_KT_BOOL, 2) : -1;
		if (kind == MG_KRED_HIST) { /* bins in range, below and above */
			int bins = 1 + rndn(40);
			int32_t i = mg_kir_cast(k, MG_DTYPE_I64, value_of(g, pick_type(1), 1));
			mg_kir_hist(k, mg_kir_op(k, MG_KOP_REM, i, mg_kir_const(k, MG_DTYPE_I64, bins + 3)),
				    mask, bins);
			continue;
		}
		int32_t v = mg_kir_cast(k, MG_DTYPE_F64, value_of(g, pick_type(1), 1));
		/* a third kept per index of an outer axis */
		int per = rank > 1 && rndn(3) == 0 ? k->info.order[rndn(rank - 1)] : -1;
		int rr = mg_kir_reduce(k, kind, v, mask);
		if (per >= 0)
			mg_kir_per_axis(k, rr, per);
		if (kind == MG_KRED_SUM) { /* its error bound: the sum of |v| */
			rr = mg_kir_reduce(k, MG_KRED_SUM, mg_kir_op(k, MG_KOP_ABS, v, -1), mask);
			if (per >= 0)
				mg_kir_per_axis(k, rr, per);
		}
	}
}

/* Builds random kernel number `seed`, runs it both ways over random slices, compares. */
static void random_case(struct mg_jit *jit, uint64_t seed)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	struct gen g = {.k = &k};
	int64_t dims[MG_KMAX_RANK];
	random_kernel(seed, &k, &g, &ar, dims);
	const char *name = k.name;
	int rank = k.info.rank, inner = k.info.order[rank - 1], stores = k.store >= 0;
	if (mg_kir_verify(&k, &e)) {
		CHECK(0, "generator made an invalid kernel: %s", e.msg);
		mg_arena_free(&ar);
		return;
	}
	mg_kfn *fn = mg_jit_kernel(jit, &k, &e);
	CHECK(fn, "%s", e.msg);
	if (!fn) {
		mg_arena_free(&ar);
		return;
	}

	/* operands: the output twice (one per side), inputs shared */
	struct mg_kargs a;
	memset(&a, 0, sizeof a);
	memcpy(a.dims, dims, sizeof dims);
	struct buf bufs[MG_KMAX_TENSORS] = {{0}}, ref = {0};
	int unit = rndn(2);
	for (int t = 0; t < k.ntensors; t++) {
		if (!g.ntable || t < g.table[0]) {
			layout(&a.t[t], &bufs[t], k.tensor[t].dtype, rank, dims, inner, unit, stores && t == 0);
		} else {
			bufs[t].size = TABLE * mg_dtype_size(k.tensor[t].dtype);
			bufs[t].mem = malloc(bufs[t].size);
			fill(bufs[t].mem, k.tensor[t].dtype, TABLE);
			a.t[t] = (struct mg_ktensor){bufs[t].mem, {TABLE}, {1}};
		}
	}
	for (int i = 0; i < k.nparams; i++)
		a.p[i] = rnd_double();
	struct mg_kargs b = a;
	if (stores) {
		ref.size = bufs[0].size;
		ref.mem = malloc(ref.size);
		memcpy(ref.mem, bufs[0].mem, ref.size);
		b.t[0].data = ref.mem + (a.t[0].data - bufs[0].mem);
	}

	/* rows in up to three slices, as the launcher would cut them */
	int64_t rows = 1, elems = dims[inner];
	for (int i = 0; i < rank - 1; i++)
		rows *= dims[k.info.order[i]];
	elems *= rows;
	int64_t cut[4] = {0, rndn((int)rows + 1), 0, rows};
	cut[2] = cut[1] + rndn((int)(rows - cut[1]) + 1);
	int64_t nacc = mg_kinfo_nacc(&k.info, dims);
	double *acc_j = malloc(sizeof *acc_j * (size_t)nacc), *acc_r = malloc(sizeof *acc_r * (size_t)nacc);
	for (int s = 0; s < 3; s++) {
		mg_kinfo_acc_init(&k.info, dims, acc_j);
		mg_kinfo_acc_init(&k.info, dims, acc_r);
		if (cut[s] < cut[s + 1] || rndn(2)) { /* an empty slice must do nothing */
			fn(&a, cut[s], cut[s + 1], acc_j);
			mg_kir_eval(&k, &b, cut[s], cut[s + 1], acc_r);
		}
		for (int r = 0; r < k.info.nred; r++) {
			/* one accumulator, or one per index along the reduction's axis */
			int per = k.info.per[r];
			int64_t at = per ? mg_kinfo_per_at(&k.info, dims, r) : r, nidx = per ? dims[per - 1] : 1;
			int64_t next = r + 1 < k.info.nred && per ? mg_kinfo_per_at(&k.info, dims, r + 1) : r + 1;
			for (int64_t i = 0; i < nidx; i++) {
				double x = acc_j[at + i], y = acc_r[at + i];
				if (k.red[r].kind != MG_KRED_SUM || isnan(y) || isinf(y)) {
					CHECK(x == y || (isnan(x) && isnan(y)), "%s reduction %d [%lld] slice %d: %.17g, interpreter %.17g",
					      name, r, (long long)i, s, x, y);
					continue;
				}
				/* the SUM right after it is its sum of |v| */
				double bound = (double)(elems / nidx) * 0x1p-52 *
					       (r + 1 < k.info.nred ? acc_r[next + i] : fabs(y));
				double err = fabs(x - y);
				if (bound > 0 && err / bound > max_sum_err)
					max_sum_err = err / bound;
				CHECK(err <= bound, "%s sum %d [%lld] slice %d: %.17g, interpreter %.17g", name, r,
				      (long long)i, s, x, y);
			}
			if (k.red[r].kind == MG_KRED_SUM)
				r++; /* skip the bound's own sum: same sum of nonnegative terms */
		}
		int64_t nbins = mg_kinfo_bins_at(&k.info, k.info.nred);
		for (int64_t i = k.info.nred; i < nbins; i++) /* histograms' counts: exact */
			CHECK(acc_j[i] == acc_r[i], "%s bin %lld slice %d: %g, interpreter %g", name,
			      (long long)(i - k.info.nred), s, acc_j[i], acc_r[i]);
	}
	free(acc_j);
	free(acc_r);
	if (stores) {
		int64_t d = first_difference(k.tensor[0].dtype, bufs[0].mem, ref.mem, ref.size);
		CHECK(d < 0, "%s: output element %lld (of the buffer) differs", name, (long long)d);
		if (d >= 0 && getenv("MG_TEST_VERBOSE"))
			mg_kir_print(&k, stderr);
	}
	for (int t = 0; t < k.ntensors; t++)
		free(bufs[t].mem);
	free(ref.mem);
	mg_arena_free(&ar);
}

/* ---- EXP and LOG --------------------------------------------------------------------- */

/* Distance in units in the last place between two floats of the type (0 for equal,
 * both NaN, or equal infinities). */
static double ulps(int f32, double x, double y)
{
	if (x == y || (isnan(x) && isnan(y)))
		return 0;
	if (isnan(x) || isnan(y))
		return INFINITY;
	if (f32) {
		float fx = (float)x, fy = (float)y;
		int32_t ix, iy;
		memcpy(&ix, &fx, 4);
		memcpy(&iy, &fy, 4);
		ix = ix < 0 ? INT32_MIN - ix : ix;
		iy = iy < 0 ? INT32_MIN - iy : iy;
		return fabs((double)ix - (double)iy);
	}
	int64_t ix, iy;
	memcpy(&ix, &x, 8);
	memcpy(&iy, &y, 8);
	ix = ix < 0 ? INT64_MIN - ix : ix;
	iy = iy < 0 ? INT64_MIN - iy : iy;
	return fabs((double)((__int128)ix - iy)); /* exact for near values, unlike doubles */
}

/* out = exp(in) or log(in) over 1003 elements (vector lanes and remainder) of f32 and
 * f64, against the interpreter's libm: within MAX_ULP. */
static void test_exp_log(struct mg_jit *jit, const char *label)
{
	enum { N = 1003 };
	static const double special[] = {0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN,
					 88.72, 88.73, -103.0, 709.7, 709.8, -745.0, 1e-40, 1e-310};
	double worst[2][2] = {{0}};
	for (int f32 = 0; f32 < 2; f32++)
		for (int lg = 0; lg < 2; lg++) {
			int dt = f32 ? MG_DTYPE_F32 : MG_DTYPE_F64;
			struct mg_arena ar = {0};
			struct mg_err e = {0};
			struct mg_kir k;
			mg_kir_init(&k, &ar, lg ? "log" : "exp", 1);
			mg_kir_tensor(&k, dt, 1);
			mg_kir_tensor(&k, dt, 1);
			k.store = mg_kir_op(&k, lg ? MG_KOP_LOG : MG_KOP_EXP, mg_kir_loadat(&k, 1), -1);
			CHECK_OK(mg_kir_verify(&k, &e), &e);
			mg_kfn *fn = mg_jit_kernel(jit, &k, &e);
			CHECK(fn, "%s", e.msg);
			double in[N], out[2][N];
			rng_state = 12345;
			for (int i = 0; i < N; i++) {
				double u = (double)(rnd() >> 11) * 0x1p-53;
				double v = i < (int)(sizeof special / sizeof *special) ? special[i]
					   : lg ? exp((u - 0.5) * (f32 ? 170 : 1400)) : (u - 0.5) * (f32 ? 200 : 1500);
				in[i] = f32 ? (float)v : v;
			}
			float in32[N], out32[2][N];
			for (int i = 0; i < N; i++)
				in32[i] = (float)in[i];
			struct mg_kargs a = {.dims = {N}};
			a.t[1] = (struct mg_ktensor){f32 ? (char *)in32 : (char *)in, {N}, {1}};
			for (int side = 0; side < 2 && fn; side++) {
				a.t[0] = (struct mg_ktensor){f32 ? (char *)out32[side] : (char *)out[side], {N}, {1}};
				if (side)
					mg_kir_eval(&k, &a, 0, 1, NULL);
				else
					fn(&a, 0, 1, NULL);
			}
			for (int i = 0; i < N && fn; i++) {
				double x = f32 ? out32[0][i] : out[0][i], y = f32 ? out32[1][i] : out[1][i];
				double d = ulps(f32, x, y);
				worst[f32][lg] = d > worst[f32][lg] ? d : worst[f32][lg];
				CHECK(d <= MAX_ULP, "%s %s(%.17g) = %.17g, libm %.17g", f32 ? "f32" : "f64",
				      lg ? "log" : "exp", f32 ? in32[i] : in[i], x, y);
			}
			mg_arena_free(&ar);
		}
	printf("exp/log %s: %s; ulps at most exp f32 %g, log f32 %g, exp f64 %g, log f64 %g\n", label,
	       mg_llvm_uses_libmvec() ? "libmvec" : "libm", worst[1][0], worst[1][1], worst[0][0], worst[0][1]);
}

/* ---- Philox's known answer ---------------------------------------------------------- */

/* out[i] = word i of Philox4x32-10 at counter 0, key 0: Random123's first known-answer
 * vector, through the generated code (the IR's counter has no high words, so the other
 * vectors are out of its reach; test_kir.c checks them on runtime/philox.c). */
static void test_philox_kat(struct mg_jit *jit)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	mg_kir_init(&k, &ar, "philox_kat", 1);
	mg_kir_tensor(&k, MG_DTYPE_U32, 1);
	int32_t zero = mg_kir_const(&k, MG_DTYPE_I64, 0), idx = mg_kir_index(&k, 0);
	int32_t v = mg_kir_philox(&k, 3, zero, zero);
	for (int w = 2; w >= 0; w--)
		v = mg_kir_select(&k, mg_kir_op(&k, MG_KOP_EQ, idx, mg_kir_const(&k, MG_DTYPE_I64, w)),
				  mg_kir_philox(&k, w, zero, zero), v);
	k.store = v;
	mg_kfn *fn = mg_jit_kernel(jit, &k, &e);
	CHECK(fn, "%s", e.msg);
	uint32_t out[4] = {0}, want[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
	struct mg_kargs a = {.dims = {4}};
	a.t[0] = (struct mg_ktensor){(char *)out, {4}, {1}};
	if (fn)
		fn(&a, 0, 1, NULL);
	for (int w = 0; w < 4; w++)
		CHECK(out[w] == want[w], "word %d: %08x", w, out[w]);
	mg_arena_free(&ar);
}

/* ---- the cache, errors, threads ------------------------------------------------------ */

/* y (f32) = x (u8) * c + p0, with a masked sum of y: a small kernel with every part. */
static void small_kernel(struct mg_kir *k, struct mg_arena *ar, const char *name, double c)
{
	mg_kir_init(k, ar, name, 2);
	k->info.order[0] = 1;
	k->info.order[1] = 0;
	mg_kir_tensor(k, MG_DTYPE_F32, 2);
	mg_kir_tensor(k, MG_DTYPE_U8, 2);
	int p = mg_kir_param_slot(k);
	int32_t x = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_loadat(k, 1));
	int32_t y = mg_kir_op(k, MG_KOP_ADD, mg_kir_op(k, MG_KOP_MUL, x, mg_kir_const(k, MG_DTYPE_F32, c)),
			      mg_kir_param(k, MG_DTYPE_F32, p));
	k->store = y;
	mg_kir_reduce(k, MG_KRED_SUM, mg_kir_cast(k, MG_DTYPE_F64, y),
		      mg_kir_op(k, MG_KOP_GT, x, mg_kir_const(k, MG_DTYPE_F32, 100)));
}

static void test_cache(struct mg_jit *jit)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir a, b, c;
	int n0, n1;
	small_kernel(&a, &ar, "first", 2);
	small_kernel(&b, &ar, "second name, same code", 2);
	small_kernel(&c, &ar, "other constant", 3);
	mg_jit_stats(jit, &n0, NULL);
	mg_kfn *fa = mg_jit_kernel(jit, &a, &e), *fb = mg_jit_kernel(jit, &b, &e);
	mg_kfn *fc = mg_jit_kernel(jit, &c, &e);
	mg_jit_stats(jit, &n1, NULL);
	CHECK(fa && fa == fb, "the same IR is compiled once");
	CHECK(fc && fc != fa, "a different constant is a different kernel");
	CHECK(n1 == n0 + 2, "%d kernels compiled, expected 2", n1 - n0);
	mg_arena_free(&ar);
}

/* A module made invalid after rendering (a block without terminator): LLVM's verifier
 * rejects it and the error names the kernel. */
static void break_module(void *m)
{
	LLVMModuleRef mod = m;
	LLVMContextRef ctx = LLVMGetModuleContext(mod);
	LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(ctx), NULL, 0, 0);
	LLVMValueRef f = LLVMAddFunction(mod, "broken", ft);
	LLVMAppendBasicBlockInContext(ctx, f, "no_terminator");
}

static void test_broken(struct mg_jit *jit)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	small_kernel(&k, &ar, "ScaleIntensityd", 7);
	mg_jit_test_hook(jit, break_module);
	CHECK(!mg_jit_kernel(jit, &k, &e) && strstr(e.msg, "ScaleIntensityd") && strstr(e.msg, "LLVM"),
	      "message: %s", e.msg);
	mg_err_clear(&e);
	mg_jit_test_hook(jit, NULL);
	CHECK(mg_jit_kernel(jit, &k, &e), "a failure is not cached: %s", e.msg);
	mg_arena_free(&ar);
}

struct thread_job {
	struct mg_jit *jit;
	mg_kfn *fn[4];
};

static void *thread_main(void *arg)
{
	struct thread_job *job = arg;
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	for (int i = 0; i < 4; i++) {
		struct mg_kir k;
		small_kernel(&k, &ar, "threads", 10 + i);
		job->fn[i] = mg_jit_kernel(job->jit, &k, &e);
	}
	mg_arena_free(&ar);
	return NULL;
}

static void test_threads(struct mg_jit *jit)
{
	struct thread_job jobs[2] = {{jit, {0}}, {jit, {0}}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_main, &jobs[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		CHECK(jobs[0].fn[i] && jobs[0].fn[i] == jobs[1].fn[i], "kernel %d: one function for both threads", i);
}

/* ---- ahead of time ------------------------------------------------------------------- */

enum { AOT_X = 13, AOT_Y = 37 };

static void aot_args(struct mg_kargs *a, uint8_t *in, float *out)
{
	memset(a, 0, sizeof *a);
	a->dims[0] = AOT_X, a->dims[1] = AOT_Y;
	a->p[0] = 0.25;
	a->t[0] = (struct mg_ktensor){(char *)out, {AOT_X, AOT_Y}, {AOT_Y, 1}};
	a->t[1] = (struct mg_ktensor){(char *)in, {AOT_X, AOT_Y}, {AOT_Y, 1}};
	for (int i = 0; i < AOT_X * AOT_Y; i++)
		in[i] = (uint8_t)(i * 7 + 3);
}

/* The kernel, its stored value passed through libm's log1p (a LIBM call the program
 * links from -lm), compiled into an object file, linked by cc with the runtime into a
 * program that launches it: its output must be the interpreter's. */
static void test_object(void)
{
	char dir[] = "/tmp/mg_aot_XXXXXX", path[512], cmd[2048];
	CHECK(mkdtemp(dir), "mkdtemp");
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	small_kernel(&k, &ar, "aot", 2);
	k.store = mg_kir_cast(&k, MG_DTYPE_F32, mg_kir_libm(&k, MG_KLIBM_LOG1P,
							     mg_kir_cast(&k, MG_DTYPE_F64, k.store)));
	const struct mg_kir *ks[1] = {&k};
	const char *syms[1] = {"mg_aot_kernel"};
	snprintf(path, sizeof path, "%s/kernels.o", dir);
	CHECK_OK(mg_llvm_emit_object(ks, 1, syms, path, &e), &e);
	snprintf(path, sizeof path, "%s/main.c", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "#include <stdio.h>\n#include <string.h>\n#include \"runtime/kernel.h\"\n"
		   "mg_kfn mg_aot_kernel;\n"
		   "int main(int argc, char **argv)\n{\n"
		   "\tstatic unsigned char in[%d * %d];\n\tstatic float out[%d * %d];\n"
		   "\tstruct mg_kargs a;\n\tmemset(&a, 0, sizeof a);\n"
		   "\ta.dims[0] = %d, a.dims[1] = %d;\n\ta.p[0] = 0.25;\n"
		   "\ta.t[0] = (struct mg_ktensor){(char *)out, {%d, %d}, {%d, 1}};\n"
		   "\ta.t[1] = (struct mg_ktensor){(char *)in, {%d, %d}, {%d, 1}};\n"
		   "\tfor (int i = 0; i < %d * %d; i++)\n\t\tin[i] = (unsigned char)(i * 7 + 3);\n"
		   "\tstruct mg_kinfo info = {.rank = 2, .order = {1, 0}, .nred = 1, .red = {MG_KRED_SUM}};\n"
		   "\tdouble sum;\n\tmg_kernel_launch(mg_aot_kernel, &info, &a, NULL, &sum);\n"
		   "\tFILE *f = fopen(argv[1], \"wb\");\n"
		   "\treturn !f || fwrite(out, sizeof out, 1, f) != 1 ||\n"
		   "\t       fwrite(&sum, sizeof sum, 1, f) != 1 || fclose(f);\n}\n",
		AOT_X, AOT_Y, AOT_X, AOT_Y, AOT_X, AOT_Y, AOT_X, AOT_Y, AOT_Y, AOT_X, AOT_Y, AOT_Y, AOT_X, AOT_Y);
	fclose(f);
	snprintf(cmd, sizeof cmd,
		 "cc -O1 -I%s %s/main.c %s/kernels.o %s %s -lm -lpthread %s -o %s/prog && %s/prog %s/out.bin",
		 MG_SOURCE_DIR, dir, dir, MG_RUNTIME_LIB, MG_SANITIZE_FLAGS,
		 mg_llvm_uses_libmvec() ? "-lmvec" : "", dir, dir, dir);
	CHECK(system(cmd) == 0, "%s", cmd);

	uint8_t in[AOT_X * AOT_Y];
	float ref[AOT_X * AOT_Y], got[AOT_X * AOT_Y];
	double sum_ref = 0, sum_got = 0;
	struct mg_kargs a;
	aot_args(&a, in, ref);
	mg_kir_eval(&k, &a, 0, AOT_Y, &sum_ref);
	snprintf(path, sizeof path, "%s/out.bin", dir);
	f = fopen(path, "rb");
	CHECK(f && fread(got, sizeof got, 1, f) == 1 && fread(&sum_got, sizeof sum_got, 1, f) == 1,
	      "reading %s", path);
	if (f)
		fclose(f);
	CHECK(memcmp(got, ref, sizeof ref) == 0, "the compiled program's output is the interpreter's");
	CHECK_CLOSE(sum_got, sum_ref, 0, 1e-12);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "%s", cmd);
	mg_arena_free(&ar);
}

/* ---- other vector widths ------------------------------------------------------------ */

/* The host's features with f disabled ("+avx2" -> "-avx2"), in place. */
static void disable_feature(char *features, const char *f)
{
	char *p = strstr(features, f);
	if (p && p[0] == '+' && (p[strlen(f)] == ',' || !p[strlen(f)]))
		p[0] = '-';
}

/* The random kernels again at 4 lanes (the host without AVX2 and AVX-512: libmvec's SSE
 * variants), run here; then compiled, not run, for AVX-512 (16 lanes) into an object. */
static void test_other_targets(int ncases)
{
	struct mg_err e = {0};
	char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
	disable_feature(features, "+avx512f");
	disable_feature(features, "+avx2");
	struct mg_jit *j4 = mg_jit_new_for(cpu, features, &e);
	CHECK(j4, "%s", e.msg);
	LLVMDisposeMessage(cpu);
	LLVMDisposeMessage(features);
	if (j4) {
		for (int s = 0; s < ncases; s++)
			random_case(j4, 5000 + (uint64_t)s);
		test_exp_log(j4, "(4 lanes)");
		mg_jit_free(j4);
	}

	struct mg_arena ar = {0};
	struct mg_kir k[16];
	const struct mg_kir *kp[16];
	const char *syms[16];
	for (int i = 0; i < 16; i++) {
		struct gen g = {.k = &k[i]};
		int64_t dims[MG_KMAX_RANK];
		random_kernel(9000 + (uint64_t)i, &k[i], &g, &ar, dims);
		kp[i] = &k[i];
		syms[i] = k[i].name;
	}
	char path[] = "/tmp/mg_avx512_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	if (fd >= 0)
		close(fd);
	CHECK_OK(mg_llvm_emit_object_for(kp, 16, syms, "x86-64",
					 "+avx512f,+avx512bw,+avx512dq,+avx512vl,+avx2,+avx,+f16c,+fma,+bmi2",
					 path, &e), &e);
	unlink(path);
	mg_arena_free(&ar);
}

int main(void)
{
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	CHECK(jit, "%s", e.msg);
	if (!jit)
		return check_done();
	test_philox_kat(jit);
	test_cache(jit);
	test_broken(jit);
	test_threads(jit);
	test_exp_log(jit, "(host)");
	test_object();
	test_other_targets(NRANDOM / 5);
	for (uint64_t s = 0; s < NRANDOM; s++)
		random_case(jit, s);
	int nk;
	double secs;
	mg_jit_stats(jit, &nk, &secs);
	printf("%d random kernels, %d compiled in %.2f s (%.1f ms each); sum error at most %.3g of its bound\n",
	       NRANDOM, nk, secs, 1e3 * secs / (nk ? nk : 1), max_sum_err);
	mg_jit_free(jit);
	return check_done();
}
