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

/* Adds the loss term sum(y * g), g a new graph input named gname of y's type, to the loss
 * so far (loss < 0: none): the new loss value, -1 on failure. */
static inline int32_t loss_add(struct mg_graph *gr, int32_t y, const char *gname, int32_t loss,
			       struct mg_err *e)
{
	struct mg_type t = gr->values[y].type;
	int32_t gv = mg_graph_tensor_input(gr, gname, &t, MG_PARAM_NONE, e), yg[2] = {y, gv};
	int m = gv < 0 ? -1 : mg_graph_add_node(gr, MG_OP_Mul, yg, 2, NULL, "loss", e);
	int s = m < 0 ? -1 : mg_graph_add_node(gr, MG_OP_Sum, &gr->nodes[m].out[0], 1, NULL,
						"loss", e);
	if (s < 0 || loss < 0)
		return s < 0 ? -1 : gr->nodes[s].out[0];
	int32_t ls[2] = {loss, gr->nodes[s].out[0]};
	int a = mg_graph_add_node(gr, MG_OP_Add, ls, 2, NULL, "loss", e);
	return a < 0 ? -1 : gr->nodes[a].out[0];
}

/* Binds vals[i] to plan input i (new references; what the slot held is released) and
 * runs the steps for datalist item `item` with backend (NULL: the reference kernels; else
 * the ops' generated kernels). loss_run: on the reference kernels. */
static inline int loss_run_on(const struct mg_plan *p, const struct mg_tensor *vals,
			      struct mg_val *slots, int64_t item, struct mg_backend *backend,
			      struct mg_err *e)
{
	struct mg_kctx k = {.err = e, .item = item, .backend = backend};
	for (int i = 0; i < p->ninputs; i++) {
		mg_val_release(&slots[p->inputs[i].slot]);
		slots[p->inputs[i].slot].kind = MG_VK_TENSOR;
		slots[p->inputs[i].slot].t = mg_tensor_share(&vals[i]);
	}
	return mg_exec_steps(p, slots, &k, NULL);
}

static inline int loss_run(const struct mg_plan *p, const struct mg_tensor *vals,
			   struct mg_val *slots, int64_t item, struct mg_err *e)
{
	return loss_run_on(p, vals, slots, item, NULL, e);
}

static inline void loss_release(const struct mg_plan *p, struct mg_val *slots)
{
	for (int i = 0; slots && i < p->nslots; i++)
		mg_val_release(&slots[i]);
}

/* The graph y = op(x[0..nin)), loss = sum(y * g) (nin <= 2), every x a parameter;
 * through the passes (autodiff among them), lowered and run on the reference kernels for
 * datalist item `item`: out[0] = y, out[1 + i] = dL/dx[i] (new references). */
static inline int loss_graph(int op, const struct mg_attr *a, int nin, const struct mg_tensor *x,
			     const struct mg_tensor *g, int64_t item, struct mg_tensor *out,
			     struct mg_err *e)
{
	struct mg_graph *gr = mg_graph_new(mg_ops[op]->name);
	struct mg_tensor vals[3];
	int32_t in[2], node = -1, loss = -1;
	int rc = 0;
	for (int i = 0; i < nin && !rc; i++) {
		struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = x[i].dtype, .rank = x[i].rank};
		memcpy(ty.dims, x[i].dims, sizeof ty.dims);
		rc = (in[i] = mg_graph_tensor_input(gr, i ? "w" : "x", &ty, MG_PARAM_LEARNED, e)) < 0;
		vals[i] = x[i];
	}
	vals[nin] = *g; /* g is the input made last */
	if (!rc)
		rc = (node = mg_graph_add_node(gr, (enum mg_op)op, in, nin, a, "act", e)) < 0;
	if (!rc)
		rc = (loss = loss_add(gr, gr->nodes[node].out[0], "g", -1, e)) < 0;
	int32_t outs[2] = {loss, node < 0 ? -1 : gr->nodes[node].out[0]};
	struct mg_pass_opts po = {0};
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	if (!rc) {
		gr->loss = loss;
		rc = mg_graph_set_outputs(gr, outs, 2, e) || mg_passes_run(gr, &po, e) ||
		     mg_graph_lower(gr, &arena, &p, e);
	}
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	if (!rc)
		rc = loss_run(p, vals, slots, item, e);
	/* outputs: the loss, y, then the parameters' gradients in their order */
	for (int i = 0; !rc && i < nin + 1; i++)
		out[i] = mg_tensor_share(&slots[gr->outputs[1 + i]].t);
	if (p)
		loss_release(p, slots);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(gr);
	return rc;
}

#endif
