/* layout.c: the layout pass. A network's activations run channels-last (NDHWC memory, the
 * logical order staying MONAI's N, C, spatial...): oneDNN 2.6 has direct convolution
 * kernels there, and batch normalization and PReLU jit kernels, so no call reorders its
 * activations, where plain NCDHW costs a reorder into and out of oneDNN's blocked layout
 * at every convolution and a channels-last copy at every batch normalization.
 * Tensors carry strides, so the pass only converts at the graph's edges: a Contiguous
 * node (memory_format channels_last) on each graph input a convolution reads, and one
 * back to contiguous_format on each graph output of rank 3 or more computed from them.
 * Between the two every op lays its output out like its input (the convolutions' data
 * gradients like the forward input, so the backward is channels-last too), and the
 * generated kernels take any strides. The graph's inputs are untouched and its outputs
 * come back contiguous.
 * Graphs with an InstanceNorm, GroupNorm or LayerNorm stay as they are: those normalize
 * groups of consecutive elements and would copy channels-last activations to contiguous
 * and back (ops/norm_dnn.c), costing what the convolutions save.
 * `mgc dump --after=layout` shows the Contiguous nodes (labelled "layout").
 * Read next: ops/contiguous.c, runtime/dnn.c (conv_create: the layout oneDNN runs on). */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

static int reads_plain(int op)
{
	return op == MG_OP_InstanceNorm || op == MG_OP_InstanceNormGrad || op == MG_OP_GroupNorm ||
	       op == MG_OP_GroupNormGrad || op == MG_OP_LayerNorm || op == MG_OP_LayerNormGrad;
}

/* Ops whose outputs are contiguous whatever their inputs: the weight gradients (torch's
 * weight layout). */
static int plain_out(int op)
{
	return op == MG_OP_ConvGradWeight || op == MG_OP_ConvTransposeGradWeight;
}

static int is_conv(int op) { return op == MG_OP_Conv || op == MG_OP_ConvTranspose; }

/* Appends Contiguous(v, format); its output value, or -1. */
static int32_t convert(struct mg_graph *g, int32_t v, const char *format, struct mg_err *e)
{
	struct mg_attr a = {.v.s = format};
	int32_t n = mg_graph_add_node(g, MG_OP_Contiguous, &v, 1, &a, "layout", e);
	return n < 0 ? -1 : g->nodes[n].out[0];
}

int mg_pass_layout(struct mg_graph *g, struct mg_err *e)
{
	int nn = g->nnodes, any = 0, rc = 0;
	for (int i = 0; i < nn; i++) {
		if (reads_plain(g->nodes[i].op))
			return 0;
		any |= is_conv(g->nodes[i].op);
	}
	if (!any)
		return 0;
	int nv = g->nvalues;
	int32_t *to = malloc((size_t)(nv + 1) * sizeof *to); /* a value's converted copy, or -1 */
	char *cl = calloc((size_t)nv + 1, 1); /* computed from a channels-last input */
	struct mg_node *order = NULL;
	if (!to || !cl) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory in the layout pass");
		goto done;
	}
	for (int i = 0; i < nv; i++)
		to[i] = -1;
	/* the inputs: graph inputs of rank 4 or 5 that a convolution reads as its x */
	for (int i = 0; i < nn && !rc; i++) {
		int32_t x = g->nodes[i].in[0];
		int r = g->values[x].type.rank;
		if (!is_conv(g->nodes[i].op) || g->values[x].producer != -1 || to[x] >= 0 ||
		    (r != 4 && r != 5))
			continue;
		if ((to[x] = convert(g, x, "channels_last", e)) < 0)
			rc = e->code;
	}
	int nin = g->nnodes - nn;
	if (rc || !nin)
		goto done;
	for (int i = 0; i < nn; i++) {
		struct mg_node *n = &g->nodes[i];
		int hit = 0;
		for (int k = 0; k < n->nin; k++) {
			if (to[n->in[k]] >= 0)
				n->in[k] = to[n->in[k]];
			hit |= n->in[k] >= nv || cl[n->in[k]];
		}
		for (int k = 0; hit && !plain_out(n->op) && k < n->nout; k++)
			cl[n->out[k]] = 1;
	}
	/* the outputs: back to contiguous, the output keeping its value (callers hold it):
	 * its producer writes a new value w, read by the nodes that read it and converted
	 * into it (once, however often it is listed) */
	for (int i = 0; i < g->noutputs && !rc; i++) {
		int32_t v = g->outputs[i], w;
		if (v >= nv || !cl[v] || g->values[v].type.rank < 3)
			continue;
		cl[v] = 0;
		if ((w = convert(g, v, "contiguous_format", e)) < 0) {
			rc = e->code;
			break;
		}
		struct mg_node *pn = &g->nodes[g->values[v].producer], *c = &g->nodes[g->nnodes - 1];
		for (int k = 0; k < pn->nout; k++)
			if (pn->out[k] == v)
				pn->out[k] = w;
		for (int j = 0; j < g->nnodes - 1; j++)
			for (int k = 0; k < g->nodes[j].nin; k++)
				if (g->nodes[j].in[k] == v)
					g->nodes[j].in[k] = w;
		c->in[0] = w;
		c->out[0] = v;
		g->values[w].producer = g->values[v].producer;
		g->values[v].producer = g->nnodes - 1;
	}
	if (rc)
		goto done;
	/* the input conversions go first: they read graph inputs only */
	int total = g->nnodes;
	if (!(order = malloc((size_t)total * sizeof *order))) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory in the layout pass");
		goto done;
	}
	memcpy(order, g->nodes + nn, (size_t)nin * sizeof *order);
	memcpy(order + nin, g->nodes, (size_t)nn * sizeof *order);
	memcpy(order + nin + nn, g->nodes + nn + nin, (size_t)(total - nn - nin) * sizeof *order);
	memcpy(g->nodes, order, (size_t)total * sizeof *order);
	for (int i = 0; i < total; i++)
		for (int k = 0; k < g->nodes[i].nout; k++)
			g->values[g->nodes[i].out[k]].producer = i;
done:
	free(to);
	free(cl);
	free(order);
	return rc;
}
