/* kernel_bw.c: the achieved memory bandwidth of a generated kernel against a STREAM-like
 * loop in the same run: f32 copy and scale over a 512x512x128 volume (128 MiB each way),
 * on 1 thread and on the pool; then the generated resampler (ops/spatial_gen.c: an
 * oblique linear map, as Spacing + Orientation fused) against the reference one, and
 * NormalizeIntensity's and ScaleIntensityRangePercentiles' generated kernels (reductions
 * or the percentiles' selection, then the map) against their reference kernels; with the
 * argument `resample`, the resampler alone in linear and cubic modes, zeros and
 * reflection padding, and nearest (bench/resample.sh); `resample NAMES` only the modes
 * named ("linear-zeros,nearest-zeros"). GB/s
 * counts the bytes read plus the bytes written; each figure is the best of several
 * passes after a warm-up (first touch of fresh memory is slow, see PLATFORM.md).
 * bench/kernel.sh runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../codegen/llvm.h"
#include "../ops/op.h"

#define NX 512
#define NY 512
#define NZ 128
#define N ((int64_t)NX * NY * NZ)
#define REPS 5
#define CHUNKS 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct stream {
	const float *a;
	float *b;
	float s; /* 0: copy */
};

/* STREAM's copy (b = a) and scale (b = s a), one chunk of the volume. */
static void stream_chunk(void *ctx, int64_t c, int worker)
{
	const struct stream *st = ctx;
	int64_t lo = c * (N / CHUNKS), hi = lo + N / CHUNKS;
	if (st->s == 0) {
		memcpy(st->b + lo, st->a + lo, (size_t)(hi - lo) * sizeof(float));
		return;
	}
	for (int64_t i = lo; i < hi; i++)
		st->b[i] = st->s * st->a[i];
}

static double best_stream(struct mg_pool *pool, struct stream *st)
{
	double best = 1e30;
	for (int r = 0; r < REPS; r++) {
		double t0 = now();
		mg_pool_for(pool, CHUNKS, stream_chunk, st);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	return 2.0 * N * sizeof(float) / best / 1e9;
}

static double best_kernel(struct mg_pool *pool, mg_kfn *fn, const struct mg_kinfo *info,
			  const struct mg_kargs *a)
{
	double best = 1e30;
	for (int r = 0; r < REPS; r++) {
		double t0 = now();
		mg_kernel_launch(fn, info, a, pool, NULL);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	return 2.0 * N * sizeof(float) / best / 1e9;
}

/* out = in (scale: in * p0), both f32 contiguous of rank 3. */
static mg_kfn *build(struct mg_jit *jit, struct mg_kir *k, struct mg_arena *ar, int scale,
		     struct mg_err *e)
{
	mg_kir_init(k, ar, scale ? "scale" : "copy", 3);
	mg_kir_tensor(k, MG_DTYPE_F32, 3);
	mg_kir_tensor(k, MG_DTYPE_F32, 3);
	int32_t x = mg_kir_loadat(k, 1);
	if (scale)
		x = mg_kir_op(k, MG_KOP_MUL, x, mg_kir_param(k, MG_DTYPE_F32, mg_kir_param_slot(k)));
	k->store = x;
	return mg_kir_verify(k, e) ? NULL : mg_jit_kernel(jit, k, e);
}

/* x (1, NX, NY, NZ) rotated by 10 degrees about z and zoomed by 0.9 (as Spacing +
 * Orientation fused, or Affine), in the given mode and padding: the reference resampler
 * against the generated one on 1 thread and on the pool (the launcher's slices). */
static int bench_resample(struct mg_jit *jit, struct mg_pool *pool, const float *src,
			  enum mg_interp mode, enum mg_pad padding, struct mg_err *e)
{
	static const char *const modes[] = {"nearest", "linear", "cubic"};
	static const char *const pads[] = {"zeros", "border", "reflection"};
	int64_t dims[4] = {1, NX, NY, NZ};
	struct mg_tensor x, y;
	if (mg_tensor_alloc(&x, MG_DTYPE_F32, 4, dims, e))
		return e->code;
	memcpy(mg_tensor_data(&x), src, N * sizeof(float));
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	double c = 0.98480775301, s = 0.17364817766, z = 0.9, m[4][4] = {{0}};
	double ctr[3] = {NX / 2.0, NY / 2.0, NZ / 2.0};
	m[0][0] = z * c, m[0][1] = -z * s, m[1][0] = z * s, m[1][1] = z * c, m[2][2] = z, m[3][3] = 1;
	for (int i = 0; i < 3; i++)
		m[i][3] = ctr[i] - (m[i][0] * ctr[0] + m[i][1] * ctr[1] + m[i][2] * ctr[2]);
	mg_grid_map(&g, m);
	g.mode = mode;
	g.padding = padding;
	double best[3] = {1e30, 1e30, 1e30}, compile[2];
	int nk;
	mg_jit_stats(jit, &nk, &compile[0]);
	for (int way = 0; way < 3; way++) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, way == 2 ? pool : NULL);
		struct mg_kctx k = {.err = e, .backend = &jb.b};
		for (int r = 0; r < REPS + 1; r++) {
			double t0 = now();
			int rc = way ? mg_resample_gen(&x, &g, MG_DTYPE_F32, &y, &k)
				     : mg_resample(&x, &g, MG_DTYPE_F32, &y, e);
			double t = now() - t0;
			if (rc) {
				mg_tensor_release(&x);
				return rc;
			}
			mg_tensor_release(&y);
			if (r) /* the first: warm-up and, for the JIT, compilation */
				best[way] = t < best[way] ? t : best[way];
		}
	}
	mg_jit_stats(jit, &nk, &compile[1]);
	double bytes = 2.0 * N * sizeof(float);
	printf("resample %s %s, oblique: ref 1 thread %.0f ms (%.2f GB/s); llvm 1 thread %.0f ms "
	       "(%.2f GB/s, %.1fx), %d threads %.0f ms (%.2f GB/s, %.1fx); compiled in %.0f ms\n",
	       modes[mode], pads[padding], 1e3 * best[0], bytes / best[0] / 1e9, 1e3 * best[1],
	       bytes / best[1] / 1e9, best[0] / best[1], mg_pool_size(pool), 1e3 * best[2],
	       bytes / best[2] / 1e9, best[0] / best[2], 1e3 * (compile[1] - compile[0]));
	mg_tensor_release(&x);
	return 0;
}

/* NormalizeIntensity (mean and population std, then (x - mean) / std; nonzero off and
 * on) on x (1, NX, NY, NZ): the reference kernel against the generated ones (two
 * reduction passes and the map) on 1 thread and on the pool. GB/s counts what the
 * generated kernels move: three reads and one write of the volume. */
/* One op on a 1x512x512x128 float32 copy of src with attributes a: its reference kernel on
 * one thread, its generated kernels on one thread and on the pool (best of REPS each,
 * after a warm-up that compiles), printed as label; GB/s counts `passes` volumes read or
 * written by the generated kernels. */
static int bench_op(struct mg_jit *jit, struct mg_pool *pool, const float *src,
		    const struct mg_opdef *d, const struct mg_attr *a, const char *label,
		    int passes, struct mg_err *e)
{
	int64_t dims[4] = {1, NX, NY, NZ};
	struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR}};
	if (mg_tensor_alloc(&in[0].t, MG_DTYPE_F32, 4, dims, e))
		return e->code;
	memcpy(mg_tensor_data(&in[0].t), src, N * sizeof(float));
	struct mg_step step = {.def = d, .op = d->name, .nin = 1, .nout = 1};
	double best[3] = {1e30, 1e30, 1e30};
	for (int way = 0; way < 3; way++) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, way == 2 ? pool : NULL);
		struct mg_kctx k = {.err = e, .step = &step, .backend = &jb.b};
		for (int r = 0; r < REPS + 1; r++) {
			struct mg_val out[1] = {{0}};
			double t0 = now();
			int rc = (way ? d->gen : d->ref)(a, in, out, &k);
			double t = now() - t0;
			if (rc) {
				mg_val_release(&in[0]);
				return rc;
			}
			mg_val_release(&out[0]);
			if (r) /* the first: warm-up and, for the JIT, compilation */
				best[way] = t < best[way] ? t : best[way];
		}
	}
	double bytes = (double)passes * N * sizeof(float);
	printf("%s: ref 1 thread %.0f ms; llvm 1 thread %.0f ms (%.1fx, %.1f GB/s), %d threads "
	       "%.0f ms (%.1fx, %.1f GB/s)\n", label, 1e3 * best[0], 1e3 * best[1],
	       best[0] / best[1], bytes / best[1] / 1e9, mg_pool_size(pool), 1e3 * best[2],
	       best[0] / best[2], bytes / best[2] / 1e9);
	mg_val_release(&in[0]);
	return 0;
}

/* NormalizeIntensity (nonzero off and on: two reduction passes, the map) and
 * ScaleIntensityRangePercentiles (5 and 95, to [0, 1], clipped: three histogram passes,
 * the map): reductions, then the map. */
static int bench_statistics(struct mg_jit *jit, struct mg_pool *pool, const float *src,
			    struct mg_err *e)
{
	int rc = 0;
	for (int nonzero = 0; nonzero < 2 && !rc; nonzero++) {
		struct mg_attr a[5] = {{.is_none = 1}, {.is_none = 1}, {.v.i = nonzero}, {.v.i = 0},
				       {.v.i = MG_DTYPE_F32}};
		rc = bench_op(jit, pool, src, mg_ops[MG_OP_NormalizeIntensity], a,
			      nonzero ? "NormalizeIntensity(nonzero)" : "NormalizeIntensity", 4, e);
	}
	struct mg_attr p[8] = {{.v.f = 5}, {.v.f = 95}, {.v.f = 0}, {.v.f = 1}, {.v.i = 1},
			       {.v.i = 0}, {.v.i = 0}, {.v.i = MG_DTYPE_F32}};
	return rc ? rc : bench_op(jit, pool, src, mg_ops[MG_OP_ScaleIntensityRangePercentiles], p,
				  "ScaleIntensityRangePercentiles", 5, e);
}

int main(int argc, char **argv)
{
	int resample_only = argc > 1 && strcmp(argv[1], "resample") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as it comes (bench/resample.sh) */
	struct mg_err e = {0};
	struct mg_arena ar = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	float *a = mg_block_alloc(N * sizeof(float)), *b = mg_block_alloc(N * sizeof(float));
	if (!jit || !a || !b) {
		fprintf(stderr, "kernel_bw: %s\n", e.msg[0] ? e.msg : "out of memory");
		return 1;
	}
	for (int64_t i = 0; i < N; i++)
		a[i] = (float)(i % 1000), b[i] = 0;
	struct mg_kir k[2];
	mg_kfn *fn[2];
	for (int s = 0; s < 2; s++)
		if (!(fn[s] = build(jit, &k[s], &ar, s, &e))) {
			fprintf(stderr, "kernel_bw: %s\n", e.msg);
			return 1;
		}
	int nk;
	double compile_s;
	mg_jit_stats(jit, &nk, &compile_s);
	struct mg_kargs args = {.dims = {NX, NY, NZ}, .p = {1.5}};
	args.t[0] = (struct mg_ktensor){(char *)b, {NX, NY, NZ}, {NY * NZ, NZ, 1}};
	args.t[1] = (struct mg_ktensor){(char *)a, {NX, NY, NZ}, {NY * NZ, NZ, 1}};
	struct mg_pool *pool = mg_pool_new(0);
	printf("f32 %dx%dx%d, %d kernels compiled in %.1f ms; GB/s = (read + written) / time, best of %d\n",
	       NX, NY, NZ, nk, 1e3 * compile_s, REPS);
	if (!resample_only)
		printf("%-8s %-8s %10s %10s %7s\n", "op", "threads", "stream", "kernel", "ratio");
	for (int s = 0; s < 2 && !resample_only; s++)
		for (int threads = 1; threads <= 2; threads++) {
			struct mg_pool *p = threads == 1 ? NULL : pool;
			struct stream st = {a, b, s ? 1.5f : 0};
			best_stream(p, &st); /* warm-up: first touch */
			double gs = best_stream(p, &st), gk = best_kernel(p, fn[s], &k[s].info, &args);
			printf("%-8s %-8d %10.1f %10.1f %7.2f\n", s ? "scale" : "copy",
			       threads == 1 ? 1 : mg_pool_size(pool), gs, gk, gk / gs);
		}
	/* `resample`: the resampler's modes only (bench/resample.sh) */
	static const struct {
		enum mg_interp mode;
		enum mg_pad pad;
		const char *name;
	} rs[] = {{MG_INTERP_LINEAR, MG_PAD_ZEROS, "linear-zeros"},
		  {MG_INTERP_LINEAR, MG_PAD_REFLECTION, "linear-reflection"},
		  {MG_INTERP_CUBIC, MG_PAD_ZEROS, "cubic-zeros"},
		  {MG_INTERP_CUBIC, MG_PAD_REFLECTION, "cubic-reflection"},
		  {MG_INTERP_NEAREST, MG_PAD_ZEROS, "nearest-zeros"}};
	int rc = 0;
	for (int i = 0; i < (resample_only ? 5 : 1) && !rc; i++)
		if (!resample_only || argc < 3 || strstr(argv[2], rs[i].name))
			rc = bench_resample(jit, pool, a, rs[i].mode, rs[i].pad, &e);
	if (rc || (!resample_only && bench_statistics(jit, pool, a, &e)))
		fprintf(stderr, "kernel_bw: %s\n", e.msg);
	mg_pool_free(pool);
	mg_block_free(a);
	mg_block_free(b);
	mg_jit_free(jit);
	mg_arena_free(&ar);
	return 0;
}
