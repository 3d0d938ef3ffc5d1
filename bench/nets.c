/* nets.c: a network's forward (eval) or forward + backward (train, loss sum(y * g))
 * through mgc's graph: MONAI's spleen UNet, whole-body / BraTS SegResNet, an nnU-Net
 * shaped DynUNet or the 3D DenseNet121 built by nets/, random weights, the default
 * backend (oneDNN convolutions, generated kernels), median wall time of runs after one
 * warm-up (wall and process CPU time: on a shared machine a one-thread run's CPU time is
 * its undisturbed wall time), and the time per op kind: the sum of each step's fastest
 * run (steadier than one run's on a shared machine).
 * usage: bench_nets unet|segresnet|brats|dynunet|densenet train|eval
 *        [N SIZE RUNS [DISABLE [KTHREADS]]]
 * (DISABLE: passes not to run, comma-separated, as mgc's --disable: "layout" measures
 * plain NCDHW activations, "" none; KTHREADS: threads of the generated kernels, 0:
 * one per core, as mgc run) */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../codegen/llvm.h"
#include "../nets/net.h"
#include "../passes/passes.h"

static const struct {
	const char *name, *cls, *args;
	int cin;
} presets[] = {
	{"unet", "UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
	 "\"channels\": [16, 32, 64, 128, 256], \"strides\": [2, 2, 2, 2], \"num_res_units\": 2, "
	 "\"norm\": \"batch\"}", 1},
	{"segresnet", "SegResNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": "
	 "105, \"init_filters\": 32, \"blocks_down\": [1, 2, 2, 4], \"blocks_up\": [1, 1, 1], "
	 "\"dropout_prob\": 0.2}", 1},
	{"brats", "SegResNet", "{\"blocks_down\": [1, 2, 2, 4], \"blocks_up\": [1, 1, 1], "
	 "\"init_filters\": 16, \"in_channels\": 4, \"out_channels\": 3, \"dropout_prob\": 0.2}",
	 4},
	/* nnU-Net's 3D full-resolution shape for a 96^3 patch: six levels, default filters */
	{"dynunet", "DynUNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
	 "\"kernel_size\": [3, 3, 3, 3, 3, 3], \"strides\": [1, 2, 2, 2, 2, 2], "
	 "\"upsample_kernel_size\": [2, 2, 2, 2, 2]}", 1},
	{"densenet", "DenseNet121", "{\"spatial_dims\": 3, \"in_channels\": 1, "
	 "\"out_channels\": 2}", 1},
};
enum { NPRESETS = sizeof presets / sizeof *presets };

static uint64_t state = 0x9e3779b97f4a7c15ull;
static float urand(void)
{
	state = state * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(state >> 11) / (double)(1ull << 53) * 2 - 1);
}

static int fill(struct mg_val *v, const struct mg_type *t, const char *name, struct mg_err *e)
{
	int rc = mg_tensor_alloc(&v->t, (enum mg_dtype)t->dtype, t->rank, t->dims, e);
	if (rc)
		return rc;
	v->kind = MG_VK_TENSOR;
	int64_t n = mg_tensor_numel(&v->t);
	char *p = n ? mg_tensor_data(&v->t) : NULL;
	double fan = t->rank > 1 ? (double)(n / t->dims[0]) : 1, s = 1 / (fan > 1 ? fan : 1);
	for (int64_t i = 0; i < n; i++) {
		double x = strstr(name, "running_var") ? 1 : strstr(name, "running_mean") ||
					strstr(name, "num_batches") ? 0 : strcmp(name, "x") &&
					strcmp(name, "g") ? urand() * s * 3 : urand();
		mg_dtype_store(v->t.dtype, p + i * (int64_t)mg_dtype_size(v->t.dtype), x);
	}
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s unet|segresnet|brats|dynunet|densenet train|eval "
			"[N SIZE RUNS [DISABLE [KTHREADS]]]\n", argv[0]);
		return 2;
	}
	int pi = -1, train = !strcmp(argv[2], "train");
	for (int i = 0; i < NPRESETS; i++)
		if (!strcmp(argv[1], presets[i].name))
			pi = i;
	int64_t N = argc > 3 ? atoll(argv[3]) : 2, S = argc > 4 ? atoll(argv[4]) : 96;
	int runs = argc > 5 ? atoi(argv[5]) : 3;
	if (pi < 0 || N < 1 || S < 16 || runs < 1) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new(argv[1]);
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 5,
			    .dims = {N, presets[pi].cin, S, S, S}};
	int32_t x = mg_graph_tensor_input(g, "x", &t, 0, &e), y;
	struct mg_net_opts o = {.training = train, .seed = 1};
	cJSON *args = cJSON_Parse(presets[pi].args);
	int rc = mg_net_build(g, presets[pi].cls, args, x, &o, &y, &e);
	cJSON_Delete(args);
	int32_t outs[600] = {y};
	int no = 1;
	if (!rc && train) {
		struct mg_type yt = g->values[y].type;
		int32_t gv = mg_graph_tensor_input(g, "g", &yt, 0, &e), in[2] = {y, gv};
		int m = mg_graph_add_node(g, MG_OP_Mul, in, 2, NULL, "loss", &e);
		int s = m < 0 ? -1 : mg_graph_add_node(g, MG_OP_Sum, &g->nodes[m].out[0], 1, NULL,
							"loss", &e);
		rc = s < 0;
		if (!rc)
			g->loss = outs[no++] = g->nodes[s].out[0];
	}
	for (int i = 0; !rc && i < g->noutputs && no < 600; i++)
		outs[no++] = g->outputs[i];
	struct mg_pass_opts po = {.disable = argc > 6 ? argv[6] : NULL};
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	if (!rc)
		rc = mg_graph_set_outputs(g, outs, no, &e) || mg_passes_run(g, &po, &e) ||
		     mg_graph_lower(g, &arena, &p, &e);
	struct mg_jit *jit = rc ? NULL : mg_jit_new(&e);
	if (rc || !jit) {
		fprintf(stderr, "bench_nets: %s\n", e.msg);
		return 1;
	}
	/* the generated kernels on KTHREADS threads of mgc's pool (0: one per core, as
	 * `mgc run`; 1: the calling thread). On the idle 2-core machine two took the UNet
	 * step from 1.42-1.51 s to 1.30-1.35 s; on a loaded one they slowed it, beside
	 * oneDNN's OpenMP threads that spin after each call. */
	int kthreads = argc > 7 ? atoi(argv[7]) : 0;
	struct mg_pool *pool = kthreads != 1 ? mg_pool_new(kthreads) : NULL;
	struct mg_jit_backend jb;
	mg_jit_backend_init(&jb, jit, pool);
	struct mg_val *inputs = calloc((size_t)p->ninputs, sizeof *inputs);
	struct mg_val *slots = calloc((size_t)p->nslots, sizeof *slots);
	struct mg_step_stats *st = calloc((size_t)p->nsteps, sizeof *st);
	struct mg_step_stats *best = calloc((size_t)p->nsteps, sizeof *best);
	int64_t nparams = 0;
	for (int i = 0; !rc && i < p->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		rc = fill(&inputs[i], &v->type, v->name, &e);
		nparams += v->param == MG_PARAM_LEARNED ? mg_tensor_numel(&inputs[i].t) : 0;
	}
	double *times = calloc((size_t)runs + 1, sizeof *times);
	double *cpu = calloc((size_t)runs + 1, sizeof *cpu);
	for (int r = 0; !rc && r <= runs; r++) {
		memset(st, 0, (size_t)p->nsteps * sizeof *st);
		for (int i = 0; i < p->ninputs; i++)
			mg_val_share(&slots[p->inputs[i].slot], &inputs[i], &e);
		struct mg_kctx k = {.err = &e, .backend = &jb.b};
		double t0 = mg_now(), c0 = cpu_now();
		rc = mg_exec_steps(p, slots, &k, r ? st : NULL);
		times[r] = mg_now() - t0;
		cpu[r] = cpu_now() - c0;
		for (int i = 0; r && i < p->nsteps; i++)
			if (r == 1 || st[i].ns < best[i].ns)
				best[i] = st[i];
		for (int i = 0; i < p->nslots; i++)
			mg_val_release(&slots[i]);
	}
	if (rc) {
		fprintf(stderr, "bench_nets: %s\n", e.msg);
		return 1;
	}
	/* times[0] is the warm-up (primitive creation, kernel compilation) */
	qsort(times + 1, (size_t)runs, sizeof *times, cmp);
	qsort(cpu + 1, (size_t)runs, sizeof *cpu, cmp);
	printf("mgc %s %s N=%lld %lld^3: %lld parameters, %d steps; median %.3f s, best %.3f s "
	       "(first run %.3f s); CPU time median %.3f s\n", argv[1], argv[2], (long long)N,
	       (long long)S, (long long)nparams, p->nsteps, times[1 + (runs - 1) / 2], times[1],
	       times[0], cpu[1 + (runs - 1) / 2]);
	/* time per op, largest first */
	struct { const char *op; double s; int64_t n; } by[128];
	int nb = 0;
	for (int i = 0; i < p->nsteps; i++) {
		int j = 0;
		while (j < nb && strcmp(by[j].op, p->steps[i].op))
			j++;
		if (j == nb && nb < 128)
			by[nb++] = (typeof(by[0])){p->steps[i].op, 0, 0};
		if (j < nb)
			by[j].s += best[i].ns * 1e-9, by[j].n += best[i].calls;
	}
	for (int i = 0; i < nb; i++)
		for (int j = i + 1; j < nb; j++)
			if (by[j].s > by[i].s) {
				typeof(by[0]) tmp = by[i];
				by[i] = by[j];
				by[j] = tmp;
			}
	for (int i = 0; i < nb && i < 12; i++)
		printf("  %-24s %4lld calls %8.3f s\n", by[i].op, (long long)by[i].n, by[i].s);
	return 0;
}
