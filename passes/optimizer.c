/* optimizer.c: the update of a training step. When the graph names an optimizer
 * (g->optim, an MG_OPF_OPTIMIZER op: a bundle's "optimizer"), each parameter p's
 * gradient output "p.grad" (the autodiff pass's) becomes the input of one optimizer
 * node; the node's state tensors are new graph inputs "p.<state>" (MG_PARAM_STATE:
 * zeros before the first step) and its results the outputs "p.new" and
 * "p.<state>.new", in place of the gradient. A runner feeds every "X.new" back as X
 * for the next step, as it does the network's updated buffers.
 * Invariant: runs after autodiff and before fusion (the updates are elementwise). */
#include <stdio.h>
#include <string.h>

#include "passes.h"

/* The output named name; -1 when none. */
static int output_named(const struct mg_graph *g, const char *name)
{
	for (int j = 0; j < g->noutputs; j++)
		if (!strcmp(g->values[g->outputs[j]].name, name))
			return j;
	return -1;
}

/* The optimizer node of parameter input p whose gradient is output j. */
static int update(struct mg_graph *g, int32_t p, int j, struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[g->optim];
	const char *state[MG_NODE_MAXIO];
	int ns = d->state(g->optim_attrs, state), rc = 0;
	const char *pname = g->values[p].name;
	char name[640];
	int32_t in[MG_NODE_MAXIO] = {p, g->outputs[j]};
	for (int s = 0; s < ns && !rc; s++) {
		struct mg_type t = g->values[p].type;
		if (!strcmp(state[s], "step")) /* torch keeps it as a float32 scalar */
			t.rank = 0, t.dtype = MG_DTYPE_F32;
		snprintf(name, sizeof name, "%s.%s", pname, state[s]);
		if ((in[2 + s] = mg_graph_tensor_input(g, name, &t, MG_PARAM_STATE, e)) < 0)
			rc = e->code;
	}
	int n = rc ? -1 : mg_graph_add_node_n(g, (enum mg_op)g->optim, in, 2 + ns, 1 + ns,
					      g->optim_attrs, pname, e);
	if (n < 0)
		return e->code;
	/* the gradient's output slot gets param', the state's follow at the end */
	g->outputs[j] = g->nodes[n].out[0];
	snprintf(name, sizeof name, "%s.new", pname);
	if (!(g->values[g->outputs[j]].name = mg_arena_strdup(&g->arena, name)))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int s = 0; s < ns && !rc; s++) {
		snprintf(name, sizeof name, "%s.%s.new", pname, state[s]);
		rc = mg_graph_add_output(g, g->nodes[n].out[1 + s], name, e);
	}
	return rc;
}

int mg_pass_optimizer(struct mg_graph *g, struct mg_err *e)
{
	if (g->optim < 0)
		return 0;
	int ninputs = g->ninputs, rc = 0; /* the state inputs added go unvisited */
	for (int i = 0; i < ninputs && !rc; i++) {
		int32_t p = g->inputs[i];
		if (g->values[p].param != MG_PARAM_LEARNED)
			continue;
		char name[640];
		snprintf(name, sizeof name, "%s.grad", g->values[p].name);
		int j = output_named(g, name);
		if (j < 0)
			rc = mg_err_set(e, MG_ERR_INTERNAL, "optimizer: parameter '%s' has no "
					"gradient (the autodiff pass must run first)",
					g->values[p].name);
		else
			rc = update(g, p, j, e);
	}
	if (rc)
		mg_err_prefix(e, "optimizer %s", mg_ops[g->optim]->name);
	return rc;
}
