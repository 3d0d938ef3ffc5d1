/* test_layout.c: the layout pass (passes/layout.c) and its Contiguous op. A small UNet's
 * training step with the pass and without it gives the same output and gradients
 * (within float32 rounding: the channels-last convolutions sum in another order), on
 * oneDNN and on the reference kernels; the graph's output comes back contiguous with its
 * value id kept; the dump shows the Contiguous nodes; a graph with a GroupNorm is left
 * alone. Contiguous itself: values and strides of both formats, views when the layout is
 * already there, the single-channel stride, and its errors. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "check.h"

#include "../ir/kir.h"
#include "../nets/net.h"
#include "../ops/op.h"
#include "../passes/passes.h"
#include "../runtime/dnn.h"

static uint64_t state = 0x2545f4914f6cdd1dull;
static double urand(void)
{
	state = state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(state >> 11) / (double)(1ull << 53) * 2 - 1;
}

static void fill(struct mg_tensor *t, const char *name)
{
	float *p = mg_tensor_data(t);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++)
		p[i] = strstr(name, "running_var") ? 1 : strstr(name, "running_mean") ||
			       strstr(name, "num_batches") ? 0 : (float)(urand() * 0.5);
}

/* One step's graph outputs, by output index. */
struct step {
	int n;
	struct mg_tensor out[64];
	const char *name[64];
	char dump[1 << 16];
};

/* Builds MONAI's UNet of `args` (norm `norm`) on x (2, 1, 16^3), the loss sum(y * g),
 * runs the passes (disable: the ones left out) and one training step (dnn: oneDNN and
 * the interpreter's kernels, else the reference kernels) with the same random inputs
 * each time; s gets the outputs, y's index first, and the dump after the layout pass. */
static void run_step(const char *args, const char *disable, int dnn, struct step *s)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("unet");
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 5,
			    .dims = {2, 1, 16, 16, 16}};
	int32_t x = mg_graph_tensor_input(g, "x", &t, 0, &e), y = -1;
	struct mg_net_opts o = {.training = 1, .seed = 1};
	cJSON *a = cJSON_Parse(args);
	CHECK_OK(mg_net_build(g, "UNet", a, x, &o, &y, &e), &e);
	cJSON_Delete(a);
	struct mg_type yt = g->values[y].type;
	int32_t gv = mg_graph_tensor_input(g, "g", &yt, 0, &e), in[2] = {y, gv};
	int m = mg_graph_add_node(g, MG_OP_Mul, in, 2, NULL, "loss", &e);
	int sm = mg_graph_add_node(g, MG_OP_Sum, &g->nodes[m].out[0], 1, NULL, "loss", &e);
	g->loss = g->nodes[sm].out[0];
	int32_t outs[64] = {y, g->loss};
	int no = 2;
	for (int i = 0; i < g->noutputs && no < 64; i++)
		outs[no++] = g->outputs[i];
	FILE *f = fmemopen(s->dump, sizeof s->dump, "w");
	struct mg_pass_opts po = {.disable = disable, .dump_after = disable ? NULL : "layout",
				  .dump = f};
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	CHECK_OK(mg_graph_set_outputs(g, outs, no, &e) || mg_passes_run(g, &po, &e) ||
		 mg_graph_lower(g, &arena, &p, &e), &e);
	fclose(f);
	CHECK(g->outputs[0] == y, "the network's output keeps its value");
	struct mg_val *slots = calloc((size_t)p->nslots, sizeof *slots);
	state = 0x2545f4914f6cdd1dull;
	for (int i = 0; i < p->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		struct mg_val *sl = &slots[p->inputs[i].slot];
		CHECK_OK(mg_tensor_alloc(&sl->t, MG_DTYPE_F32, v->type.rank, v->type.dims, &e), &e);
		sl->kind = MG_VK_TENSOR;
		fill(&sl->t, v->name);
	}
	struct mg_kir_interp interp;
	mg_kir_interp_init(&interp);
	struct mg_kctx k = {.err = &e, .backend = dnn ? &interp.b : NULL};
	CHECK_OK(mg_exec_steps(p, slots, &k, NULL), &e);
	s->n = g->noutputs < 64 ? g->noutputs : 64; /* a value's slot is its id */
	for (int i = 0; i < s->n; i++)
		s->out[i] = mg_tensor_share(&slots[g->outputs[i]].t),
		s->name[i] = strdup(g->values[g->outputs[i]].name ? g->values[g->outputs[i]].name : "?");
	for (int i = 0; i < p->nslots; i++)
		mg_val_release(&slots[i]);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(g);
}

static void release(struct step *s)
{
	for (int i = 0; i < s->n; i++) {
		mg_tensor_release(&s->out[i]);
		free((void *)s->name[i]);
	}
}

/* The largest |a - b| relative to b's largest magnitude, or to 1 when that is smaller:
 * the gradients of a bias before a batch normalization are zero but for rounding. */
static double rel_diff(const struct mg_tensor *a, const struct mg_tensor *b)
{
	double d = 0, m = 1;
	int64_t idx[MG_MAX_RANK] = {0}, n = mg_tensor_numel(b);
	for (int64_t i = 0; i < n; i++) {
		int64_t r = i;
		for (int j = b->rank - 1; j >= 0; j--)
			idx[j] = r % b->dims[j], r /= b->dims[j];
		double va = *(const float *)mg_tensor_at(a, idx), vb = *(const float *)mg_tensor_at(b, idx);
		d = fmax(d, fabs(va - vb));
		m = fmax(m, fabs(vb));
	}
	return d / m;
}

static void unet_same(int dnn)
{
	const char *args = "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
			   "\"channels\": [8, 16, 32], \"strides\": [2, 2], \"num_res_units\": 2, "
			   "\"norm\": \"batch\"}";
	static struct step on, off;
	run_step(args, NULL, dnn, &on);
	run_step(args, "layout", dnn, &off);
	CHECK(strstr(on.dump, "Contiguous(") && strstr(on.dump, "channels_last") &&
	      strstr(on.dump, "contiguous_format"), "the dump shows the conversions:\n%s",
	      on.dump);
	int nconv = 0;
	for (const char *q = on.dump; (q = strstr(q, "Contiguous(")); q++)
		nconv++;
	CHECK(nconv == 2, "%d Contiguous nodes: x in, y out (the weight gradients are "
	      "contiguous already)", nconv);
	CHECK(on.n == off.n && on.n > 10, "outputs %d and %d", on.n, off.n);
	CHECK(mg_tensor_is_contiguous(&on.out[0]), "the output comes back contiguous");
	double worst = 0;
	for (int i = 0; i < on.n && i < off.n; i++) {
		double d = rel_diff(&on.out[i], &off.out[i]);
		CHECK(d <= 1e-4, "%s: output %d (%s) differs by %g", dnn ? "oneDNN" : "reference", i,
		      on.name[i], d);
		worst = fmax(worst, d);
	}
	printf("UNet step (%s), layout pass on and off: %d outputs within %.2g\n",
	       dnn ? "oneDNN" : "reference", on.n, worst);
	release(&on);
	release(&off);
}

/* A GroupNorm network keeps its layout: no Contiguous node. */
static void groupnorm_untouched(void)
{
	static struct step s;
	run_step("{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 4, "
		 "\"channels\": [8, 16], \"strides\": [2], \"num_res_units\": 1, "
		 "\"norm\": [\"group\", {\"num_groups\": 4}]}", NULL, 0, &s);
	CHECK(!strstr(s.dump, "Contiguous("), "a GroupNorm graph got conversions:\n%s", s.dump);
	release(&s);
}

/* Runs Contiguous(x, memory_format) into y. */
static int contiguous(const struct mg_tensor *x, const char *format, struct mg_tensor *y,
		      struct mg_err *e)
{
	struct mg_attr a = {.v.s = format};
	struct mg_val in[1] = {{.kind = MG_VK_TENSOR, .t = *x}}, out[1] = {{0}};
	struct mg_kctx k = {.err = e};
	int rc = mg_ops[MG_OP_Contiguous]->ref(&a, in, out, &k);
	if (!rc)
		*y = out[0].t;
	return rc;
}

static void contiguous_op(void)
{
	struct mg_err e = {0};
	struct mg_tensor x, cl, back, one, onecl, again;
	int64_t d[5] = {2, 3, 4, 5, 6};
	CHECK_OK(mg_tensor_alloc(&x, MG_DTYPE_F32, 5, d, &e), &e);
	fill(&x, "x");
	CHECK_OK(contiguous(&x, "channels_last", &cl, &e), &e);
	CHECK(cl.strides[1] == 1 && cl.strides[4] == 3 && cl.strides[3] == 18 &&
	      cl.strides[2] == 90 && cl.strides[0] == 360, "channels-last strides");
	CHECK(rel_diff(&cl, &x) == 0, "channels_last keeps the values");
	CHECK_OK(contiguous(&cl, "channels_last", &again, &e), &e);
	CHECK(again.buf == cl.buf, "already channels-last: a view");
	CHECK_OK(contiguous(&cl, "contiguous_format", &back, &e), &e);
	CHECK(mg_tensor_is_contiguous(&back) && back.buf != cl.buf && rel_diff(&back, &x) == 0,
	      "back to contiguous");
	/* one channel: the same memory, the channel stride 0 saying channels-last */
	int64_t d1[5] = {2, 1, 4, 5, 6};
	CHECK_OK(mg_tensor_alloc(&one, MG_DTYPE_F32, 5, d1, &e), &e);
	fill(&one, "x");
	CHECK_OK(contiguous(&one, "channels_last", &onecl, &e), &e);
	CHECK(onecl.buf == one.buf && onecl.strides[1] == 0 && onecl.strides[4] == 1,
	      "one channel: a view with channel stride %lld", (long long)onecl.strides[1]);
	struct mg_tensor m;
	CHECK_OK(mg_tensor_alloc(&m, MG_DTYPE_F32, 2, d, &e), &e);
	CHECK_FAILS(contiguous(&m, "channels_last", &again, &e), &e, "Contiguous: memory_format");
	mg_tensor_release(&x);
	mg_tensor_release(&cl);
	mg_tensor_release(&again);
	mg_tensor_release(&back);
	mg_tensor_release(&one);
	mg_tensor_release(&onecl);
	mg_tensor_release(&m);
}

int main(void)
{
	contiguous_op();
	unet_same(0);
	if (mg_dnn_available())
		unet_same(1);
	groupnorm_untouched();
	return check_done();
}
