/* step.c: `mgc run --step=train|eval`: a bundle's network step run on a batch it makes
 * itself (image uniform in [0, 1), label random classes), with the weights of a
 * checkpoint or PyTorch's initialisation from the seed. It reports each step's time and
 * loss and, with --verbose, the time per op and the JIT's compile time: what to look at
 * before a training run. Each output "X.new" (a parameter after the optimizer's update,
 * its state, a running statistic) is input X of the next step, so with an optimizer the
 * loss falls as the network fits the batch; --save writes the weights the last step
 * left (parameters and running statistics, not the optimizer's state). */
#include <stdlib.h>
#include <string.h>

#include "../codegen/llvm.h"
#include "../nets/net.h"
#include "cli.h"

/* An input the step makes: the image in [0, 1), the label's classes in [0, classes),
 * an optimizer's state zeros. */
static int make_input(const struct mg_value *v, int64_t classes, uint64_t seed,
		      struct mg_val *out, struct mg_err *e)
{
	const struct mg_type *t = &v->type;
	int rc = mg_tensor_alloc(&out->t, (enum mg_dtype)t->dtype, t->rank, t->dims, e);
	if (rc)
		return rc;
	out->kind = MG_VK_TENSOR;
	int64_t n = mg_tensor_numel(&out->t);
	if (v->param == MG_PARAM_STATE) {
		if (n)
			memset(mg_tensor_data(&out->t), 0, (size_t)n * mg_dtype_size(out->t.dtype));
		return 0;
	}
	int label = !strcmp(v->name, "label"), onehot = label && t->dims[1] > 1;
	int64_t inner = n / t->dims[0] / t->dims[1];
	float *p = mg_tensor_data(&out->t);
	uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32) ^ (uint32_t)label};
	for (int64_t i = 0; i < n; i += 4) {
		uint32_t ctr[4] = {(uint32_t)i, (uint32_t)(i >> 32), 0, 0}, r[4];
		mg_philox4x32(ctr, key, r);
		for (int j = 0; j < 4 && i + j < n; j++) {
			double u = r[j] * 0x1p-32;
			if (onehot) /* channel c is 1 where the class drawn for the voxel is c */
				u = (int64_t)(u * (double)classes) == (i + j) / inner % t->dims[1];
			else if (label)
				u = (double)(int64_t)(u * (double)classes);
			p[i + j] = (float)u;
		}
	}
	return 0;
}

int cli_run_step(const struct cli *c, const struct mg_graph *g, struct mg_err *e)
{
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	int rc = mg_graph_lower(g, &arena, &p, e);
	struct mg_val *inputs = rc ? NULL : calloc((size_t)g->ninputs, sizeof *inputs);
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	struct mg_step_stats *st = rc ? NULL : calloc((size_t)p->nsteps, sizeof *st);
	if (!rc && (!inputs || !slots || !st))
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	int32_t pred = -1;
	for (int i = 0; !rc && i < g->noutputs; i++)
		if (!strcmp(g->values[g->outputs[i]].name, "pred"))
			pred = g->outputs[i];
	int64_t classes = pred >= 0 ? g->values[pred].type.dims[1] : 1;
	const struct mg_step_opts *so = &c->step_opts;
	if (!rc)
		rc = c->weights ? mg_net_load(g, 0, c->weights, inputs, e)
				: mg_net_init(g, 0, (uint64_t)so->seed, inputs, e);
	for (int i = 0; !rc && i < g->ninputs; i++)
		if (!mg_net_weight(&g->values[g->inputs[i]]))
			rc = make_input(&g->values[g->inputs[i]], classes, (uint64_t)so->seed + 1,
					&inputs[i], e);
	/* feed[i]: the output "X.new" that is input X's value in the next step, or -1 */
	int32_t *feed = rc ? NULL : malloc((size_t)g->ninputs * sizeof *feed);
	if (!rc && !feed)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int i = 0; !rc && i < g->ninputs; i++) {
		const char *in = g->values[g->inputs[i]].name;
		size_t len = strlen(in);
		feed[i] = -1;
		for (int j = 0; j < g->noutputs; j++) {
			const char *o = g->values[g->outputs[j]].name;
			if (!strncmp(o, in, len) && !strcmp(o + len, ".new"))
				feed[i] = g->outputs[j];
		}
	}
	struct mg_jit *jit = NULL;
	struct mg_jit_backend jb;
	struct mg_pool *pool = NULL;
	if (!rc && !c->ref && !(jit = mg_jit_new(e)))
		rc = e->code;
	if (jit) {
		pool = mg_pool_new(c->run.threads);
		mg_jit_backend_init(&jb, jit, pool);
	}
	for (int s = 0; !rc && s < c->steps; s++) {
		for (int i = 0; i < p->ninputs; i++)
			mg_val_share(&slots[p->inputs[i].slot], &inputs[i], e);
		struct mg_kctx k = {.err = e, .backend = jit ? &jb.b : NULL};
		double t0 = mg_now();
		rc = mg_exec_steps(p, slots, &k, s == c->steps - 1 && c->run.verbose ? st : NULL);
		double dt = mg_now() - t0;
		if (!rc && g->loss >= 0)
			printf("step %d: %.3f s, loss %.6g\n", s + 1, dt,
			       mg_dtype_load(slots[g->loss].t.dtype, mg_tensor_data(&slots[g->loss].t)));
		else if (!rc)
			printf("step %d: %.3f s\n", s + 1, dt);
		for (int i = 0; !rc && i < g->ninputs; i++)
			if (feed[i] >= 0) {
				mg_val_release(&inputs[i]);
				mg_val_share(&inputs[i], &slots[feed[i]], e);
			}
		for (int i = 0; i < p->nslots; i++)
			mg_val_release(&slots[i]);
	}
	if (!rc && c->save && !(rc = mg_net_save(g, 0, inputs, c->save, e)))
		printf("weights written to %s\n", c->save);
	if (!rc && c->run.verbose) {
		runner_print_stats(p, st, stderr);
		if (jit)
			cli_jit_report(jit);
	}
	mg_jit_free(jit);
	mg_pool_free(pool);
	for (int i = 0; inputs && i < g->ninputs; i++)
		mg_val_release(&inputs[i]);
	free(inputs);
	free(feed);
	free(slots);
	free(st);
	mg_arena_free(&arena);
	return rc;
}
