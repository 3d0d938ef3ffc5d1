/* loss_graph.h: an op's forward value and gradients as a training step computes them: a
 * graph of one node of the op and the loss sum(y * g), the passes (autodiff among them),
 * lowering and the reference kernels. The conformance tests compare the results with
 * torch's autograd (test_conformance_act.c); gradcheck.h checks rules by finite
 * differences the same way. Include after check.h. */
#ifndef MG_TEST_LOSS_GRAPH_H
#define MG_TEST_LOSS_GRAPH_H

#include <stdlib.h>

#include "../ir/ir.h"
#include "../passes/passes.h"

/* The graph y = op(x[0..nin)), loss = sum(y * g) (nin <= 2), every x a parameter;
 * through the passes (autodiff among them), lowered and run on the reference kernels for
 * datalist item `item`: out[0] = y, out[1 + i] = dL/dx[i] (new references). */
static inline int loss_graph(int op, const struct mg_attr *a, int nin, const struct mg_tensor *x,
			     const struct mg_tensor *g, int64_t item, struct mg_tensor *out,
			     struct mg_err *e)
{
	struct mg_graph *gr = mg_graph_new(mg_ops[op]->name);
	int32_t in[3], node = -1, m = -1, s = -1, gv = -1;
	int rc = 0;
	for (int i = 0; i < nin + 1 && !rc; i++) {
		const struct mg_tensor *t = i < nin ? &x[i] : g;
		struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = t->dtype, .rank = t->rank};
		memcpy(ty.dims, t->dims, sizeof ty.dims);
		rc = (in[i] = mg_graph_tensor_input(gr, i < nin ? (i ? "w" : "x") : "g", &ty, i < nin,
						    e)) < 0;
	}
	if (!rc)
		rc = (node = mg_graph_add_node(gr, (enum mg_op)op, in, nin, a, "act", e)) < 0;
	if (!rc) {
		int32_t yg[2] = {gr->nodes[node].out[0], in[nin]};
		rc = (m = mg_graph_add_node(gr, MG_OP_Mul, yg, 2, NULL, "loss", e)) < 0 ||
		     (s = mg_graph_add_node(gr, MG_OP_Sum, &gr->nodes[m].out[0], 1, NULL, "loss",
					    e)) < 0;
	}
	int32_t outs[2] = {s < 0 ? -1 : gr->nodes[s].out[0], node < 0 ? -1 : gr->nodes[node].out[0]};
	struct mg_pass_opts po = {0};
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	if (!rc) {
		gr->loss = outs[0];
		rc = mg_graph_set_outputs(gr, outs, 2, e) || mg_passes_run(gr, &po, e) ||
		     mg_graph_lower(gr, &arena, &p, e);
	}
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	if (!rc) {
		struct mg_kctx k = {.err = e, .item = item};
		for (int i = 0; i < p->ninputs; i++) { /* x, w, g in the order made */
			gv = p->inputs[i].slot;
			slots[gv].kind = MG_VK_TENSOR;
			slots[gv].t = mg_tensor_share(i < nin ? &x[i] : g);
		}
		rc = mg_exec_steps(p, slots, &k, NULL);
	}
	/* outputs: the loss, y, then the parameters' gradients in their order */
	for (int i = 0; !rc && i < nin + 1; i++)
		out[i] = mg_tensor_share(&slots[gr->outputs[1 + i]].t);
	for (int i = 0; slots && i < p->nslots; i++)
		mg_val_release(&slots[i]);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(gr);
	return rc;
}

#endif
