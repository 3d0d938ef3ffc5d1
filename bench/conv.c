/* bench/conv.c: GFLOP/s of mgc's oneDNN interface (runtime/dnn.h) on one convolution,
 * forward, backward data and backward weights (+ bias), with the activations in plain
 * NCDHW and in channels-last (NDHWC, a strided view), weights in torch's layout.
 * Outputs are allocated once (first touch is slow here: see PLATFORM.md); each pass is
 * warmed up, then the median and the best of RUNS calls are reported, and the median
 * GFLOP per second of process CPU time (per core busy: the steadier figure on a
 * machine others share, as time spent waiting for a core is not counted). Run by
 * bench/conv.sh.
 * usage: bench_conv [N C D RUNS]   (default 1 32 64 10: conv3d 3x3x3, C->C, padding 1) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ops/nn.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(struct mg_tensor *t)
{
	float *p = mg_tensor_data(t);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++)
		p[i] = (float)((i * 7919 % 1000) / 1000.0 - 0.5);
}

/* A tensor of dims d, plain or channels-last (channel axis fastest). */
static int make(struct mg_tensor *t, const int64_t d[5], int cl, struct mg_err *e)
{
	int order[5] = {4, 3, 2, 1, 0}, co[5] = {1, 4, 3, 2, 0};
	int rc = mg_tensor_alloc_order(t, MG_DTYPE_F32, 5, d, cl ? co : order, e);
	if (!rc)
		fill(t);
	return rc;
}

int main(int argc, char **argv)
{
	int64_t N = argc > 1 ? atoll(argv[1]) : 1, C = argc > 2 ? atoll(argv[2]) : 32;
	int64_t D = argc > 3 ? atoll(argv[3]) : 64;
	int runs = argc > 4 ? atoi(argv[4]) : 10;
	struct mg_err e = {0};
	if (!mg_dnn_available()) {
		fprintf(stderr, "bench_conv: this build has no oneDNN\n");
		return 1;
	}
	struct mg_conv_geom g = {.sdim = 3, .n = N, .cin = C, .cout = C, .groups = 1};
	for (int i = 0; i < 3; i++) {
		g.in[i] = g.out[i] = D;
		g.k[i] = 3, g.stride[i] = g.dil[i] = 1, g.pad_lo[i] = g.pad_hi[i] = 1;
	}
	double gflop = 2.0 * N * C * C * 27 * D * D * D / 1e9;
	int64_t xd[5] = {N, C, D, D, D}, wd[5] = {C, C, 3, 3, 3}, bd = C;
	struct mg_tensor w, b, dw, db;
	if (mg_tensor_alloc(&w, MG_DTYPE_F32, 5, wd, &e) ||
	    mg_tensor_alloc(&dw, MG_DTYPE_F32, 5, wd, &e) ||
	    mg_tensor_alloc(&b, MG_DTYPE_F32, 1, &bd, &e) ||
	    mg_tensor_alloc(&db, MG_DTYPE_F32, 1, &bd, &e))
		goto fail;
	fill(&w);
	fill(&b);
	printf("conv3d 3x3x3 %lld->%lld on %lldx%lldx%lld^3, %.2f GFLOP per pass, median of %d\n",
	       (long long)C, (long long)C, (long long)N, (long long)C, (long long)D, gflop, runs);
	for (int cl = 0; cl < 2; cl++) {
		struct mg_tensor x, y, dy, dx;
		if (make(&x, xd, cl, &e) || make(&y, xd, cl, &e) || make(&dy, xd, cl, &e) ||
		    make(&dx, xd, cl, &e))
			goto fail;
		static const char *const names[] = {"forward", "backward data", "backward weights"};
		for (int pass = MG_DNN_FWD; pass <= MG_DNN_BWD_WEIGHTS; pass++) {
			const struct mg_tensor *a = pass == MG_DNN_BWD_DATA ? &dy : &x;
			const struct mg_tensor *bb = pass == MG_DNN_BWD_WEIGHTS ? &dy : &w;
			const struct mg_tensor *c = pass == MG_DNN_FWD ? &b
						   : pass == MG_DNN_BWD_WEIGHTS ? &db : NULL;
			const struct mg_tensor *o = pass == MG_DNN_FWD ? &y
						   : pass == MG_DNN_BWD_DATA ? &dx : &dw;
			double t[64], u[64];
			int n = runs < 64 ? runs : 64;
			for (int r = -2; r < n; r++) { /* two warm-up calls: create, first touch */
				double t0 = mg_now(), u0 = cpu_now();
				if (mg_dnn_conv(pass, &g, 0, a, bb, c, o, &e))
					goto fail;
				if (r >= 0)
					t[r] = mg_now() - t0, u[r] = cpu_now() - u0;
			}
			qsort(t, (size_t)n, sizeof *t, cmp);
			qsort(u, (size_t)n, sizeof *u, cmp);
			printf("mgc   %-13s %-16s %8.2f ms %7.1f GFLOP/s  best %7.1f  per CPU-s %6.1f\n",
			       cl ? "channels-last" : "plain", names[pass], t[n / 2] * 1e3,
			       gflop / t[n / 2], gflop / t[0], gflop / u[n / 2]);
		}
		mg_tensor_release(&x);
		mg_tensor_release(&y);
		mg_tensor_release(&dy);
		mg_tensor_release(&dx);
	}
	mg_tensor_release(&w);
	mg_tensor_release(&b);
	mg_tensor_release(&dw);
	mg_tensor_release(&db);
	mg_dnn_cache_clear();
	return 0;
fail:
	fprintf(stderr, "bench_conv: %s\n", e.msg);
	return 1;
}
