/* test_lowering.c: every op with a generated kernel against its reference kernel. The
 * kernels run on the kernel IR interpreter (the IR's meaning), which checks the
 * lowerings themselves, then on the LLVM JIT, which checks the real ops' kernels end to
 * end (test_kir_llvm.c checks the LLVM renderer against the interpreter on random IR).
 * Inputs are random: every dtype, ranks 1 to 5 with sizes 1 and primes, permuted and
 * flipped strides, NaN, infinities, -0 and values past the output dtype's range. The
 * comparison is exact (bit for bit but for NaN payloads): the lowerings repeat ref's
 * roundings step by step. Ops that take float32 and float64 only (the network
 * activations and their two-operand gradient ops) must refuse the other dtypes on both
 * paths. */
#include <stdlib.h>
#include <sys/mman.h>

#include "../codegen/llvm.h"
#include "../frontend/build.h"
#include "check.h"
#include "views.h"

/* The backend the kernels run on, its count of kernels run, and the trials per case
 * (fewer on the JIT: each layout is a kernel to compile, ~20-60 ms). */
static struct mg_backend *backend;
static int64_t *backend_runs;
static int op_trials = 40, resample_trials = 144;

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}
static double uniform(void)
{
	return (double)(next() >> 11) * 0x1p-53;
}

/* 1: float values without NaN, half of them from a few integers (ties: the percentile
 * cases, whose generated selection leaves NaN images to the reference kernel). */
static int nan_free;

static double random_value(enum mg_dtype t)
{
	uint64_t r = next() % 100;
	if (mg_dtype_is_float(t) && nan_free && r < 50)
		return r == 0 ? -0.0 : floor((uniform() - 0.5) * 8);
	if (mg_dtype_is_float(t)) {
		if (r == 0)
			return NAN;
		if (r == 1)
			return r & 1 ? INFINITY : -INFINITY;
		if (r == 2)
			return -0.0;
		if (r < 10)
			return (uniform() - 0.5) * 1e6;
		if (r < 40) /* where the activations' exp, tanh and erf are not saturated */
			return (uniform() - 0.5) * 16;
		return (uniform() - 0.5) * 2000;
	}
	static const double lo[] = {0, -128, 0, -32768, 0, -2147483648.0, -1e15};
	static const double hi[] = {255, 127, 65535, 32767, 4294967295.0, 2147483647.0, 1e15};
	if (r < 10) /* anywhere in the range */
		return floor(lo[t] + uniform() * (hi[t] - lo[t]));
	double v = floor((uniform() - 0.5) * 2000);
	return v < lo[t] ? lo[t] : v > hi[t] ? hi[t] : v;
}

/* A random view of dims (views.h) of random values. */
static void random_tensor_dims(struct mg_tensor *t, enum mg_dtype dt, int rank,
			       const int64_t *dims)
{
	views_random(t, dt, rank, dims, next);
	int64_t n = mg_tensor_numel(t);
	char *base = (char *)t->buf->data;
	size_t es = mg_dtype_size(dt);
	for (int64_t i = 0; i < n; i++)
		mg_dtype_store(dt, base + (size_t)i * es, random_value(dt));
}

/* Channels (axis 0) of the next random tensors; 0: random. */
static int64_t fixed_channels;

/* The same with dims from {1, 2, 3, 5, 7, 11}. */
static void random_tensor(struct mg_tensor *t, enum mg_dtype dt, int rank)
{
	static const int64_t sizes[] = {1, 2, 3, 5, 7, 11};
	int64_t dims[MG_MAX_RANK];
	for (int i = 0; i < rank; i++)
		dims[i] = i == 0 && fixed_channels ? fixed_channels : sizes[next() % 6];
	random_tensor_dims(t, dt, rank, dims);
}

/* The tolerance of the cases whose statistics are float64 sums (NormalizeIntensity's
 * mean and std): summed in another order than ref's, the float32 mean can differ in its
 * last bit, which moves (x - mean) / std by about ulp(mean) / std. Floats agree within
 * 2^-18 (1 + |ref|), or one ulp of a float16/bfloat16 output (2^-10, 2^-7 relative);
 * integers within 1 (a truncation either side); NaN and infinities exactly. 0: exact. */
static int tolerant;
/* 1: the case is one kernel (a map, or a run of maps); 0: reductions run first. */
static int one_kernel = 1;
static double worst; /* the largest |gen - ref| / (1 + |ref|) seen among tolerant floats */

static int close_enough(enum mg_dtype t, double x, double y)
{
	if (x != x || y != y || isinf(x) || isinf(y))
		return (x != x && y != y) || x == y;
	if (!mg_dtype_is_float(t))
		return fabs(x - y) <= 1;
	double rel = fabs(x - y) / (1 + fabs(y));
	worst = rel > worst ? rel : worst;
	return rel <= (t == MG_DTYPE_BF16 ? 0x1p-7 : t == MG_DTYPE_F16 ? 0x1p-10 : 0x1p-18);
}

static int same(enum mg_dtype t, const struct mg_tensor *a, const struct mg_tensor *b,
		int64_t *where)
{
	int64_t idx[MG_MAX_RANK] = {0}, n = mg_tensor_numel(a);
	for (int64_t i = 0; i < n; i++) {
		int64_t r = i;
		for (int d = a->rank - 1; d >= 0; d--) {
			idx[d] = r % a->dims[d];
			r /= a->dims[d];
		}
		double x = mg_dtype_load(t, mg_tensor_at(a, idx)), y = mg_dtype_load(t, mg_tensor_at(b, idx));
		int eq = tolerant ? close_enough(t, x, y) : t == MG_DTYPE_I64 ? *(int64_t *)mg_tensor_at(a, idx) == *(int64_t *)mg_tensor_at(b, idx)
					   : (x == y && signbit(x) == signbit(y)) || (x != x && y != y);
		if (!eq) {
			*where = i;
			return 0;
		}
	}
	return 1;
}

/* Runs the step both ways on random inputs of every dtype and compares; f32_f64: the op
 * refuses dtypes but float32 and float64 (both ways, no kernel run). */
static void differential(const struct mg_step *s, const struct mg_attr *attrs, const char *what,
			 int f32_f64)
{
	for (int trial = 0; trial < op_trials; trial++) {
		enum mg_dtype dt = (enum mg_dtype)(trial % MG_DTYPE_COUNT);
		int rank = 1 + (int)(next() % 5);
		struct mg_val in[MG_STEP_MAXIO] = {0}, ref[MG_STEP_MAXIO] = {0}, gen[MG_STEP_MAXIO] = {0};
		in[0].kind = MG_VK_TENSOR;
		random_tensor(&in[0].t, dt, rank);
		struct mg_err e1 = {0}, e2 = {0};
		int64_t item = (int64_t)(next() % 0x200000000ull); /* Dropout's key: mod 2^32 */
		struct mg_kctx k1 = {.err = &e1, .step = s, .item = item};
		struct mg_kctx k2 = {.err = &e2, .step = s, .backend = backend, .item = item};
		int64_t runs = *backend_runs;
		int rc1 = ((const struct mg_opdef *)s->def)->ref(attrs, in, ref, &k1);
		int rc2 = s->fn(attrs, in, gen, &k2);
		if (f32_f64 && dt != MG_DTYPE_F32 && dt != MG_DTYPE_F64) {
			CHECK(rc1 != 0 && rc2 != 0 && *backend_runs == runs,
			      "%s refuses %s without a kernel", what, mg_dtype_name(dt));
			mg_val_release(&in[0]);
			mg_val_release(&ref[0]);
			mg_val_release(&gen[0]);
			continue;
		}
		CHECK(rc1 == 0 && rc2 == 0, "%s on %s: %s / %s", what, mg_dtype_name(dt), e1.msg, e2.msg);
		CHECK(one_kernel ? *backend_runs == runs + 1 : *backend_runs > runs,
		      "%s on %s rank %d: no kernel ran", what, mg_dtype_name(dt), rank);
		CHECK(!nan_free || rc2 || *backend_runs >= runs + 4, /* 3 levels (float32), the map */
		      "%s on %s rank %d: the selection fell back", what, mg_dtype_name(dt), rank);
		if (rc1 == 0 && rc2 == 0) {
			int64_t at = -1;
			CHECK(ref[0].t.dtype == gen[0].t.dtype && ref[0].t.rank == rank &&
				      same(ref[0].t.dtype, &ref[0].t, &gen[0].t, &at),
			      "%s on %s rank %d: differs at element %lld", what, mg_dtype_name(dt), rank,
			      (long long)at);
			CHECK(gen[0].t.meta == in[0].t.meta, "%s keeps the input's meta", what);
		}
		mg_val_release(&in[0]);
		mg_val_release(&ref[0]);
		mg_val_release(&gen[0]);
	}
}

static void parse(const char *op, const char *json, struct mg_arena *ar, struct mg_attr *out)
{
	struct mg_err e = {0};
	cJSON *j = cJSON_Parse(json);
	CHECK(j != NULL, "%s", json);
	CHECK_OK(mg_attrs_parse(mg_ops[mg_op_find(op)], j, -1, 1, NULL, ar, out, &e), &e);
	cJSON_Delete(j);
}

struct member {
	const char *op, *args;
};

/* One op (n == 1) or a FusedElementwise run of several; f32_f64 as in differential. */
static void check_case(const struct member *m, int n, int f32_f64)
{
	struct mg_arena ar = {0};
	struct mg_attr attrs[16][16];
	uint16_t ops[16];
	const struct mg_attr *ap[16];
	const char *labels[16];
	char what[512] = "";
	for (int i = 0; i < n; i++) {
		parse(m[i].op, m[i].args, &ar, attrs[i]);
		ops[i] = (uint16_t)mg_op_find(m[i].op);
		ap[i] = attrs[i];
		labels[i] = m[i].op;
		snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s%s", i ? " -> " : "",
			 m[i].op, m[i].args);
	}
	struct mg_chain chain = {n, ops, ap, labels};
	struct mg_attr fused = {.v.chain = &chain};
	const struct mg_opdef *d = n == 1 ? mg_ops[ops[0]] : mg_ops[MG_OP_FusedElementwise];
	struct mg_step s = {.fn = d->gen, .op = d->name, .def = d, .nin = 1, .nout = 1};
	CHECK(d->gen != NULL, "%s has a generated kernel", d->name);
	if (d->gen)
		differential(&s, n == 1 ? attrs[0] : &fused, what, f32_f64);
	mg_arena_free(&ar);
}

/* A gradient op of two operands (x or y, and dy: one shape, each its own random layout)
 * both ways: float32 and float64 compared, other dtypes refused without a kernel. */
static void check_grad_op(const char *op, const char *json)
{
	struct mg_arena ar = {0};
	struct mg_attr attrs[16];
	parse(op, json, &ar, attrs);
	const struct mg_opdef *d = mg_ops[mg_op_find(op)];
	struct mg_step s = {.fn = d->gen, .op = d->name, .def = d, .nin = 2, .nout = 1};
	for (int trial = 0; trial < op_trials; trial++) {
		enum mg_dtype dt = (enum mg_dtype)(trial % MG_DTYPE_COUNT);
		int rank = 1 + (int)(next() % 5), fl = dt == MG_DTYPE_F32 || dt == MG_DTYPE_F64;
		struct mg_val in[MG_STEP_MAXIO] = {0}, ref[1] = {0}, gen[1] = {0};
		in[0].kind = in[1].kind = MG_VK_TENSOR;
		random_tensor(&in[0].t, dt, rank);
		random_tensor_dims(&in[1].t, dt, rank, in[0].t.dims);
		struct mg_err e1 = {0}, e2 = {0};
		struct mg_kctx k1 = {.err = &e1, .step = &s};
		struct mg_kctx k2 = {.err = &e2, .step = &s, .backend = backend};
		int64_t runs = *backend_runs;
		int rc1 = d->ref(attrs, in, ref, &k1), rc2 = d->gen(attrs, in, gen, &k2);
		CHECK(fl ? rc1 == 0 && rc2 == 0 : rc1 != 0 && rc2 != 0, "%s on %s: %s / %s", op,
		      mg_dtype_name(dt), e1.msg, e2.msg);
		CHECK(*backend_runs == runs + fl, "%s on %s: %d kernels ran", op, mg_dtype_name(dt),
		      (int)(*backend_runs - runs));
		int64_t at = -1;
		if (fl && rc1 == 0 && rc2 == 0)
			CHECK(ref[0].t.dtype == dt && gen[0].t.dtype == dt &&
				      same(dt, &ref[0].t, &gen[0].t, &at),
			      "%s %s on %s rank %d: differs at element %lld", op, json,
			      mg_dtype_name(dt), rank, (long long)at);
		for (int i = 0; i < 2; i++)
			mg_val_release(&in[i]);
		mg_val_release(&ref[0]);
		mg_val_release(&gen[0]);
	}
	mg_arena_free(&ar);
}

/* The generated resampler against mg_resample on random grids: oblique maps that read
 * partly outside (some far outside: reflection then flips several times), nearest,
 * linear and cubic, zeros, border and reflection padding (the first 18 trials: each
 * combination, 2D and 3D), align_corners both ways (size-1 axes included), inputs of
 * every dtype in permuted and flipped layouts; every other trial calls mg_resample_gen
 * directly with a random output dtype, the others go through mg_grid_run (float32). */
static void resample(void)
{
	for (int trial = 0; trial < resample_trials; trial++) {
		int sd = 2 + trial % 2, direct = (trial / 18) % 2;
		static const enum mg_interp modes[] = {MG_INTERP_NEAREST, MG_INTERP_LINEAR,
						       MG_INTERP_CUBIC};
		enum mg_dtype dt = (enum mg_dtype)(next() % MG_DTYPE_COUNT);
		enum mg_dtype ot = direct ? (enum mg_dtype)(next() % MG_DTYPE_COUNT) : MG_DTYPE_F32;
		struct mg_tensor x;
		random_tensor(&x, dt, sd + 1);
		struct mg_grid g;
		mg_grid_identity(&g, &x);
		g.mode = modes[(trial / 2) % 3];
		g.padding = (enum mg_pad)((trial / 6) % 3);
		g.align_corners = (int)(next() % 2);
		double far = trial % 5 == 1 ? 6 : 1;
		for (int i = 0; i < sd; i++) {
			g.out_shape[i] = 1 + (int64_t)(next() % 9);
			for (int j = 0; j < sd; j++)
				g.out_to_in[i][j] = far * ((i == j) + (uniform() - 0.5) * 0.8);
			g.out_to_in[i][3] = far * (uniform() - 0.3) * 4;
		}
		if (trial % 7 == 0) /* exact half-voxel shifts: nearest's ties */
			for (int i = 0; i < sd; i++) {
				for (int j = 0; j < sd; j++)
					g.out_to_in[i][j] = i == j;
				g.out_to_in[i][3] = 0.5;
			}
		struct mg_err e1 = {0}, e2 = {0};
		struct mg_kctx k = {.err = &e2, .backend = backend};
		struct mg_tensor ref, gen;
		int64_t runs = *backend_runs;
		int rc1 = mg_resample(&x, &g, ot, &ref, &e1);
		int rc2 = direct ? mg_resample_gen(&x, &g, ot, &gen, &k) : mg_grid_run(&x, &g, &gen, &k);
		CHECK(rc1 == 0 && rc2 == 0, "resample trial %d: %s / %s", trial, e1.msg, e2.msg);
		if (rc1 || rc2)
			continue;
		CHECK(*backend_runs == runs + 1 || (!direct && mg_grid_is_index_only(&g)) ||
			      mg_tensor_numel(&ref) == 0, "trial %d: no kernel ran", trial);
		int64_t at = -1;
		CHECK(memcmp(ref.dims, gen.dims, sizeof ref.dims) == 0 &&
			      memcmp(ref.strides, gen.strides, sizeof ref.strides) == 0 &&
			      same(ot, &ref, &gen, &at),
		      "resample trial %d (%dD, %s -> %s, mode %d, padding %d, ac %d): differs at %lld",
		      trial, sd, mg_dtype_name(dt), mg_dtype_name(ot), g.mode, g.padding,
		      g.align_corners, (long long)at);
		mg_tensor_release(&x);
		mg_tensor_release(&ref);
		mg_tensor_release(&gen);
	}
}

static void unmap(void *ctx, void *data)
{
	munmap(data, *(size_t *)ctx);
}

/* The generated resampler's i64 offsets (an input spanning 2^31 elements or more; below
 * that its offsets are i32, as in every trial above): a uint8 view with a 2^30 stride
 * over 2 GiB of untouched (zero) pages, a few voxels set, every mode and padding in 3D,
 * bit-exact against mg_resample. */
static void resample_i64(void)
{
	static size_t size = ((size_t)1 << 31) + 64;
	/* far below where the kernel puts mappings (top down from the libraries): a 2 GiB
	 * mapping between two of the JIT's section blocks puts its code and constants out
	 * of 32-bit RIP-relative reach of each other (docs/codegen.md, Limits). Under ASan
	 * that address is not free: not run there */
	unsigned char *p = mmap((void *)((uintptr_t)0x6 << 44), size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) {
		printf("resample_i64: skipped (no 2 GiB mapping at 0x6 << 44)\n");
		return;
	}
	struct mg_tensor x = {MG_DTYPE_U8, 4, {1, 3, 3, 3}, {0, (int64_t)1 << 30, 1, 3}, 0,
			      mg_buffer_wrap(p, size, unmap, &size), NULL};
	for (int i = 0; i < 27; i++)
		p[(i / 9) * ((size_t)1 << 30) + i % 3 + 3 * (i / 3 % 3)] = (unsigned char)(7 * i + 3);
	for (int trial = 0; trial < 9; trial++) {
		struct mg_grid g;
		mg_grid_identity(&g, &x);
		g.mode = (enum mg_interp)(trial % 3);
		g.padding = (enum mg_pad)(trial / 3);
		for (int i = 0; i < 3; i++) {
			g.out_shape[i] = 4;
			for (int j = 0; j < 3; j++)
				g.out_to_in[i][j] = (i == j) * 0.8 + (i + 1 == j) * 0.15;
			g.out_to_in[i][3] = -0.4;
		}
		struct mg_err e1 = {0}, e2 = {0};
		struct mg_kctx k = {.err = &e2, .backend = backend};
		struct mg_tensor ref, gen;
		int rc1 = mg_resample(&x, &g, MG_DTYPE_F32, &ref, &e1);
		int rc2 = mg_resample_gen(&x, &g, MG_DTYPE_F32, &gen, &k);
		CHECK(rc1 == 0 && rc2 == 0, "i64 resample %d: %s / %s", trial, e1.msg, e2.msg);
		if (rc1 || rc2)
			continue;
		int64_t at = -1;
		CHECK(same(MG_DTYPE_F32, &ref, &gen, &at), "i64 resample %d (mode %d, padding %d): "
		      "differs at %lld", trial, g.mode, g.padding, (long long)at);
		mg_tensor_release(&ref);
		mg_tensor_release(&gen);
	}
	mg_tensor_release(&x);
}

/* A case of ops with statistics: several kernels, compared within the tolerance when
 * tol (see `tolerant`), exactly otherwise. */
static void stats_case(const struct member *m, int n, int tol)
{
	one_kernel = 0;
	tolerant = tol;
	check_case(m, n, 0);
	one_kernel = 1;
	tolerant = 0;
}

/* Per-channel statistics in one launch: on a contiguous 3-channel image (the channel
 * axis outermost), ScaleIntensity(channel_wise)'s min and max are one kernel kept per
 * channel, then an output kernel per channel (4 kernels, not 6); NormalizeIntensity's
 * sums too, but its sum of squares around each channel's own mean is a kernel per
 * channel (1 + 3 + 3). Results as the reference's. */
static void channels_at_once(void)
{
	static const struct member m[] = {
		{"ScaleIntensity", "{\"channel_wise\": true}"},
		{"NormalizeIntensity", "{\"channel_wise\": true}"},
	};
	static const int kernels[] = {4, 7};
	for (int i = 0; i < 2; i++) {
		struct mg_arena ar = {0};
		struct mg_attr a[16];
		parse(m[i].op, m[i].args, &ar, a);
		const struct mg_opdef *d = mg_ops[mg_op_find(m[i].op)];
		struct mg_step s = {.fn = d->gen, .op = d->name, .def = d, .nin = 1, .nout = 1};
		struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR}}, ref[1] = {{0}}, gen[1] = {{0}};
		struct mg_err e = {0};
		CHECK_OK(mg_tensor_alloc(&in[0].t, MG_DTYPE_F32, 3, (int64_t[]){3, 5, 7}, &e), &e);
		float *x = mg_tensor_data(&in[0].t);
		for (int j = 0; j < 105; j++)
			x[j] = (float)((j * 37) % 101) * (j < 35 ? 1.0f : j < 70 ? -2.5f : 0.125f);
		struct mg_kctx k1 = {.err = &e, .step = &s}, k2 = {.err = &e, .step = &s, .backend = backend};
		int64_t runs = *backend_runs, at = -1;
		CHECK_OK(d->ref(a, in, ref, &k1), &e);
		CHECK_OK(d->gen(a, in, gen, &k2), &e);
		tolerant = i == 1;
		CHECK(*backend_runs == runs + kernels[i] && same(MG_DTYPE_F32, &ref[0].t, &gen[0].t, &at),
		      "%s: %lld kernels (expected %d), differs at %lld", m[i].op,
		      (long long)(*backend_runs - runs), kernels[i], (long long)at);
		tolerant = 0;
		mg_val_release(&in[0]);
		mg_val_release(&ref[0]);
		mg_val_release(&gen[0]);
		mg_arena_free(&ar);
	}
}

/* ScaleIntensityRangePercentiles and ClipIntensityPercentiles: an exact selection
 * (histogram kernels), then the map; alone, per channel and in chains, every option.
 * Exact: the percentiles are the sorted values' own. Other dtypes are refused both ways. */
static void percentiles(void)
{
	static const struct member one[] = {
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 95, \"b_min\": 0, \"b_max\": 1}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 0, \"upper\": 100, \"b_min\": -1, \"b_max\": 1, \"clip\": true, \"dtype\": null}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 25, \"upper\": 75, \"b_min\": 0, \"b_max\": 10, \"relative\": true, \"channel_wise\": true, \"dtype\": \"float64\"}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 50, \"upper\": 50, \"b_min\": 2, \"b_max\": null, \"clip\": true}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 1.5, \"upper\": 99.5, \"b_min\": null, \"b_max\": null, \"dtype\": \"int16\"}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 10, \"upper\": 90, \"b_min\": 0, \"b_max\": 255, \"clip\": true, \"dtype\": \"uint8\", \"channel_wise\": true}"},
		{"ClipIntensityPercentiles", "{\"lower\": 5, \"upper\": 95}"},
		{"ClipIntensityPercentiles", "{\"lower\": null, \"upper\": 33.3, \"channel_wise\": true}"},
		{"ClipIntensityPercentiles", "{\"lower\": 0, \"upper\": null}"},
		{"ClipIntensityPercentiles", "{\"lower\": 20, \"upper\": 80, \"sharpness_factor\": 0.7, \"dtype\": \"float64\"}"},
		{"ClipIntensityPercentiles", "{\"lower\": 100, \"upper\": 100, \"sharpness_factor\": 3, \"dtype\": \"float64\", \"channel_wise\": true}"},
	};
	nan_free = 1;
	for (size_t i = 0; i < sizeof one / sizeof *one; i++) {
		one_kernel = 0;
		check_case(&one[i], 1, 1);
		one_kernel = 1;
	}
	static const struct member chain1[] = {
		{"CastToType", "{\"dtype\": \"float64\"}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 95, \"b_min\": 0, \"b_max\": 1, \"channel_wise\": true}"},
		{"ClipIntensityPercentiles", "{\"lower\": 10, \"upper\": 60}"},
		{"ShiftIntensity", "{\"offset\": 1.5}"},
	};
	stats_case(chain1, 4, 0);
	static const struct member chain2[] = {
		{"ScaleIntensity", "{\"minv\": -1, \"maxv\": 1}"},
		{"ClipIntensityPercentiles", "{\"lower\": 30, \"upper\": 70, \"channel_wise\": true}"},
		{"NormalizeIntensity", "{\"subtrahend\": 0.5}"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 0, \"upper\": 99, \"b_min\": 0, \"b_max\": 1, \"dtype\": \"float64\"}"},
	};
	stats_case(chain2, 4, 0);
	nan_free = 0; /* NaN images: the reference kernel after the first histogram */
	one_kernel = 0;
	check_case(&one[0], 1, 1);
	one_kernel = 1;
}

/* NormalizeIntensity and ScaleIntensity (reductions first, then the map), alone and in
 * fused runs, ShiftIntensity; every input dtype. */
static void statistics(void)
{
	static const struct member ni[] = {
		{"NormalizeIntensity", "{}"},
		{"NormalizeIntensity", "{\"nonzero\": true}"},
		{"NormalizeIntensity", "{\"channel_wise\": true}"},
		{"NormalizeIntensity", "{\"nonzero\": true, \"channel_wise\": true, \"dtype\": null}"},
		{"NormalizeIntensity", "{\"subtrahend\": 10}"},
		{"NormalizeIntensity", "{\"divisor\": 0, \"dtype\": \"float64\"}"},
		{"NormalizeIntensity", "{\"nonzero\": true, \"dtype\": \"float16\"}"},
		{"NormalizeIntensity", "{\"channel_wise\": true, \"dtype\": \"bfloat16\"}"},
	};
	for (size_t i = 0; i < sizeof ni / sizeof *ni; i++)
		stats_case(&ni[i], 1, 1);
	static const struct member given[] = { /* no statistics: one kernel, exact */
		{"NormalizeIntensity", "{\"subtrahend\": 3.5, \"divisor\": 2}"},
		{"NormalizeIntensity", "{\"subtrahend\": -7, \"divisor\": 0.1, \"nonzero\": true, \"dtype\": null}"},
		{"ScaleIntensity", "{\"minv\": null, \"maxv\": null, \"factor\": 0.5}"},
		{"ScaleIntensity", "{\"minv\": null, \"maxv\": null, \"dtype\": null}"},
		{"ScaleIntensity", "{\"minv\": null, \"maxv\": null}"},
		{"ShiftIntensity", "{\"offset\": 2.5}"},
		{"ShiftIntensity", "{\"offset\": -1000.3}"},
	};
	for (size_t i = 0; i < sizeof given / sizeof *given; i++)
		check_case(&given[i], 1, 0);
	fixed_channels = 3; /* one subtrahend and divisor per channel */
	static const struct member lists = {"NormalizeIntensity",
		"{\"subtrahend\": [1, -2, 3], \"divisor\": [0.5, 0, 2], \"channel_wise\": true}"};
	stats_case(&lists, 1, 0); /* a kernel per channel */
	fixed_channels = 0;
	static const struct member si[] = { /* min and max are exact: so are the results */
		{"ScaleIntensity", "{}"},
		{"ScaleIntensity", "{\"channel_wise\": true}"},
		{"ScaleIntensity", "{\"minv\": -5, \"maxv\": null, \"dtype\": null}"},
		{"ScaleIntensity", "{\"minv\": null, \"maxv\": 3, \"dtype\": \"float64\"}"},
		{"ScaleIntensity", "{\"minv\": 1, \"maxv\": 7, \"dtype\": \"int16\", \"channel_wise\": true}"},
		{"ScaleIntensity", "{\"dtype\": \"float16\"}"},
		{"ScaleIntensity", "{\"minv\": -1, \"maxv\": 1, \"dtype\": \"bfloat16\"}"},
	};
	for (size_t i = 0; i < sizeof si / sizeof *si; i++)
		stats_case(&si[i], 1, 0);
	static const struct member degenerate[] = { /* every voxel 2 (or NaN): min == max */
		{"ScaleIntensityRange", "{\"a_min\": 0, \"a_max\": 1, \"b_min\": 2, \"b_max\": 2, \"clip\": true}"},
		{"ScaleIntensity", "{\"minv\": 4, \"maxv\": 9}"},
	};
	stats_case(degenerate, 2, 0);
	static const struct member chain1[] = {
		{"CastToType", "{\"dtype\": \"float32\"}"},
		{"NormalizeIntensity", "{\"nonzero\": true}"},
		{"ShiftIntensity", "{\"offset\": 1.5}"},
	};
	stats_case(chain1, 3, 1);
	static const struct member chain2[] = {
		{"ScaleIntensityRange", "{\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1, \"clip\": true}"},
		{"NormalizeIntensity", "{\"nonzero\": true}"},
		{"CastToType", "{\"dtype\": \"int16\"}"},
	};
	stats_case(chain2, 3, 1);
	static const struct member chain3[] = { /* per-channel statistics, then whole-image ones */
		{"NormalizeIntensity", "{\"channel_wise\": true}"},
		{"ScaleIntensity", "{\"minv\": -1, \"maxv\": 1}"},
		{"NormalizeIntensity", "{\"subtrahend\": 0.5}"},
	};
	stats_case(chain3, 3, 1);
	static const struct member chain4[] = { /* whole-image statistics, then per channel */
		{"ScaleIntensity", "{\"minv\": null, \"maxv\": null, \"factor\": 2}"},
		{"ScaleIntensity", "{\"dtype\": \"float64\"}"},
		{"ScaleIntensity", "{\"minv\": 10, \"maxv\": 20, \"channel_wise\": true}"},
		{"ShiftIntensity", "{\"offset\": -3}"},
	};
	stats_case(chain4, 4, 0);
	printf("statistics cases: worst |gen - ref| / (1 + |ref|) %.3g\n", worst);
	percentiles();
	channels_at_once();
}

static void all_cases(void)
{
	resample();
	resample_i64();
	static const struct member sir[] = {
		{"ScaleIntensityRange", "{\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1, \"clip\": true}"},
		{"ScaleIntensityRange", "{\"a_min\": 0, \"a_max\": 255, \"b_min\": -1, \"b_max\": 1, \"dtype\": \"float64\"}"},
		{"ScaleIntensityRange", "{\"a_min\": 10, \"a_max\": 10, \"b_min\": 2}"},
		{"ScaleIntensityRange", "{\"a_min\": -100, \"a_max\": 100, \"dtype\": null}"},
		{"ScaleIntensityRange", "{\"a_min\": -100, \"a_max\": 100, \"b_min\": 1, \"b_max\": 0, \"clip\": true}"},
		{"ScaleIntensityRange", "{\"a_min\": 0, \"a_max\": 1000, \"b_min\": 0, \"b_max\": 255, \"clip\": true, \"dtype\": \"uint8\"}"},
		{"ScaleIntensityRange", "{\"a_min\": -1, \"a_max\": 1, \"b_max\": 0.5, \"clip\": true, \"dtype\": \"float16\"}"},
		{"ScaleIntensityRange", "{\"a_min\": 0.1, \"a_max\": 0.7, \"b_min\": 0.3, \"b_max\": 0.9, \"dtype\": \"bfloat16\"}"},
	};
	for (size_t i = 0; i < sizeof sir / sizeof *sir; i++)
		check_case(&sir[i], 1, 0);
	for (int t = 0; t < MG_DTYPE_COUNT; t++) {
		char args[64];
		snprintf(args, sizeof args, "{\"dtype\": \"%s\"}", mg_dtype_name((enum mg_dtype)t));
		struct member m = {"CastToType", args};
		check_case(&m, 1, 0);
	}
	static const struct member chain1[] = {
		{"ScaleIntensityRange", "{\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1000, \"clip\": true}"},
		{"CastToType", "{\"dtype\": \"int16\"}"},
		{"ScaleIntensityRange", "{\"a_min\": 0, \"a_max\": 1000, \"dtype\": null}"},
	};
	check_case(chain1, 3, 0);
	static const struct member chain2[] = {
		{"CastToType", "{\"dtype\": \"float16\"}"},
		{"ScaleIntensityRange", "{\"a_min\": -5, \"a_max\": 5, \"b_min\": 0, \"b_max\": 1, \"dtype\": null}"},
		{"CastToType", "{\"dtype\": \"uint8\"}"},
	};
	check_case(chain2, 3, 0);
	static const struct member act[] = {
		{"ReLU", "{}"},
		{"LeakyReLU", "{}"},
		{"LeakyReLU", "{\"negative_slope\": 0.3}"},
		{"LeakyReLU", "{\"negative_slope\": -2.5}"},
		{"Sigmoid", "{}"},
		{"Tanh", "{}"},
		{"ELU", "{}"},
		{"ELU", "{\"alpha\": 0.3}"},
		{"GELU", "{}"},
		{"GELU", "{\"approximate\": \"tanh\"}"},
		{"Dropout", "{\"training\": true}"},
		{"Dropout", "{\"training\": true, \"p\": 0.1, \"seed\": 4294967295}"},
		{"Dropout", "{\"training\": true, \"p\": 1, \"seed\": 12}"},
	};
	for (size_t i = 0; i < sizeof act / sizeof *act; i++)
		check_case(&act[i], 1, 1);
	/* network activations after intensity ops: every input dtype reaches them as float */
	static const struct member chain3[] = {
		{"ScaleIntensityRange", "{\"a_min\": -100, \"a_max\": 100, \"b_min\": -1, \"b_max\": 1, \"dtype\": \"float64\"}"},
		{"LeakyReLU", "{\"negative_slope\": 0.1}"},
		{"ReLU", "{}"},
		{"CastToType", "{\"dtype\": \"float32\"}"},
		{"LeakyReLU", "{\"negative_slope\": 0.7}"},
	};
	check_case(chain3, 5, 0);
	static const struct member chain4[] = { /* the libm activations fused with ReLU-likes */
		{"GELU", "{}"},
		{"LeakyReLU", "{\"negative_slope\": 0.2}"},
		{"Sigmoid", "{}"},
		{"ELU", "{\"alpha\": 1.7}"},
		{"Tanh", "{}"},
		{"GELU", "{\"approximate\": \"tanh\"}"},
		{"ReLU", "{}"},
	};
	check_case(chain4, 7, 1);
	statistics();
	check_grad_op("ReLUGrad", "{}");
	check_grad_op("LeakyReLUGrad", "{}");
	check_grad_op("LeakyReLUGrad", "{\"negative_slope\": -0.4}");
	check_grad_op("SigmoidGrad", "{}");
	check_grad_op("TanhGrad", "{}");
	check_grad_op("ELUGrad", "{}");
	check_grad_op("ELUGrad", "{\"alpha\": 0.4}");
	check_grad_op("GELUGrad", "{}");
	check_grad_op("GELUGrad", "{\"approximate\": \"tanh\"}");
	check_grad_op("Add", "{}");
	check_grad_op("Mul", "{}");
}

int main(void)
{
	struct mg_kir_interp it;
	mg_kir_interp_init(&it);
	backend = &it.b;
	backend_runs = &it.runs;
	all_cases();
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	CHECK(jit, "%s", e.msg);
	if (jit) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, NULL);
		backend = &jb.b;
		backend_runs = &jb.runs;
		op_trials = MG_DTYPE_COUNT; /* each dtype once */
#if defined(__SANITIZE_ADDRESS__)
		resample_trials = 4; /* the sanitizer slows LLVM itself; the JIT code is not checked */
#else
		resample_trials = 36; /* each mode and padding, 2D and 3D, through both calls */
#endif
		all_cases();
		int nk;
		double secs;
		mg_jit_stats(jit, &nk, &secs);
		printf("LLVM: %d kernels compiled in %.2f s\n", nk, secs);
		mg_jit_free(jit);
	}
	return check_done();
}
