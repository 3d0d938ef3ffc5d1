/* act.c: the libm activations' generated kernels (kernel IR's LIBM: one libm call per
 * lane) against their reference kernels, on one float32 activation map of a 3D network
 * (2 x 32 x 96^3, 226 MB): Sigmoid, Tanh, ELU, GELU (erf and tanh forms) and GELUGrad;
 * the reference kernel on 1 thread, the generated one on 1 thread and on the pool. Each
 * figure is the best of REPS runs after a warm-up (which also compiles the kernel); the
 * outputs are checked equal byte for byte. bench/act.sh runs it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../codegen/llvm.h"
#include "../ir/ir.h"

#define REPS 3

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* op (attributes as JSON) on in (nin operands): best times of ref, gen on 1 thread and gen
 * on the pool, in seconds; whether gen's output equals ref's. */
static int bench_op(const char *op, const char *json, int nin, struct mg_val *in,
		    struct mg_jit *jit, struct mg_pool *pool, double best[3], int *same,
		    struct mg_err *e)
{
	struct mg_arena ar = {0};
	struct mg_attr a[16];
	const struct mg_opdef *d = mg_ops[mg_op_find(op)];
	cJSON *j = cJSON_Parse(json);
	int rc = mg_attrs_parse(d, j, -1, 1, NULL, &ar, a, e);
	cJSON_Delete(j);
	struct mg_step step = {.def = d, .op = d->name, .nin = nin, .nout = 1};
	struct mg_val out[3] = {{0}};
	for (int way = 0; way < 3 && !rc; way++) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, way == 2 ? pool : NULL);
		struct mg_kctx k = {.err = e, .step = &step, .backend = &jb.b};
		best[way] = 1e30;
		for (int r = 0; r < REPS + 1 && !rc; r++) {
			mg_val_release(&out[way]);
			double t0 = now();
			rc = (way ? d->gen : d->ref)(a, in, &out[way], &k);
			double t = now() - t0;
			if (r) /* the first: warm-up and, for the JIT, compilation */
				best[way] = t < best[way] ? t : best[way];
		}
	}
	if (!rc) {
		const struct mg_tensor *x = &out[0].t;
		size_t bytes = (size_t)mg_tensor_numel(x) * mg_dtype_size(x->dtype);
		*same = !memcmp(mg_tensor_data(x), mg_tensor_data(&out[1].t), bytes) &&
			!memcmp(mg_tensor_data(x), mg_tensor_data(&out[2].t), bytes);
	}
	for (int i = 0; i < 3; i++)
		mg_val_release(&out[i]);
	mg_arena_free(&ar);
	return rc;
}

int main(void)
{
	static const struct {
		const char *op, *json;
		int nin;
	} cases[] = {
		{"Sigmoid", "{}", 1},
		{"Tanh", "{}", 1},
		{"ELU", "{}", 1},
		{"GELU", "{}", 1},
		{"GELU", "{\"approximate\": \"tanh\"}", 1},
		{"GELUGrad", "{}", 2},
	};
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	struct mg_pool *pool = mg_pool_new(0);
	int64_t dims[5] = {2, 32, 96, 96, 96};
	struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}};
	if (!jit || mg_tensor_alloc(&in[0].t, MG_DTYPE_F32, 5, dims, &e) ||
	    mg_tensor_alloc(&in[1].t, MG_DTYPE_F32, 5, dims, &e)) {
		fprintf(stderr, "act: %s\n", e.msg);
		return 1;
	}
	float *x = mg_tensor_data(&in[0].t), *dy = mg_tensor_data(&in[1].t);
	int64_t n = mg_tensor_numel(&in[0].t);
	for (int64_t i = 0; i < n; i++) /* pre-activations in [-6, 6): exp, erf, tanh unsaturated */
		x[i] = (float)((double)(i * 7919 % 12000) / 1000 - 6), dy[i] = (float)(i % 17) / 16;
	printf("float32 2x32x96^3 (%.0f MB), best of %d; ref: the float64 reference kernel\n",
	       (double)n * 4 / 1e6, REPS);
	printf("%-22s %10s %12s %14s %8s\n", "op", "ref 1 thr", "llvm 1 thr", "llvm threads",
	       "equal");
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		double best[3];
		int same = 0;
		if (bench_op(cases[c].op, cases[c].json, cases[c].nin, in, jit, pool, best, &same,
			     &e)) {
			fprintf(stderr, "act: %s: %s\n", cases[c].op, e.msg);
			return 1;
		}
		char label[64];
		snprintf(label, sizeof label, "%s%s", cases[c].op,
			 strstr(cases[c].json, "tanh") ? "(tanh)" : "");
		printf("%-22s %8.0f ms %7.0f ms %4.1fx %6.0f ms (%d) %5s\n", label, 1e3 * best[0],
		       1e3 * best[1], best[0] / best[1], 1e3 * best[2], mg_pool_size(pool),
		       same ? "yes" : "NO");
	}
	mg_val_release(&in[0]);
	mg_val_release(&in[1]);
	mg_pool_free(pool);
	mg_jit_free(jit);
	return 0;
}
