/* verify.c: the graph invariants every pass must keep: operands in range and defined
 * before use, one producer per value, arities as the op declares (with its data-key
 * inputs; a variable count takes 1 to MG_STEP_MAXIO), attribute lists
 * present. The pass driver runs it after the frontend and after every pass. */
#include <stdlib.h>

#include "ir.h"

int mg_graph_verify(const struct mg_graph *g, struct mg_err *e)
{
	char *defined = calloc((size_t)g->nvalues + 1, 1);
	if (!defined)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory verifying the graph");
	int rc = 0;
	for (int i = 0; i < g->ninputs && !rc; i++) {
		int32_t v = g->inputs[i];
		if (v < 0 || v >= g->nvalues || g->values[v].producer != -1)
			rc = mg_err_set(e, MG_ERR_INTERNAL, "input %d is not a graph input value",
					i);
		else
			defined[v] = 1;
	}
	for (int i = 0; i < g->nnodes && !rc; i++) {
		const struct mg_node *n = &g->nodes[i];
		if (n->op >= MG_OP_COUNT) {
			rc = mg_err_set(e, MG_ERR_INTERNAL, "node %d: bad op %d", i, n->op);
			break;
		}
		const struct mg_opdef *d = mg_ops[n->op];
		if ((d->nattrs && !n->attrs) || !mg_op_arity_ok(d, n->attrs, n->nin, n->nout))
			rc = mg_err_set(e, MG_ERR_INTERNAL, "node %d (%s): wrong arity or attrs",
					i, d->name);
		for (int k = 0; k < n->nin && !rc; k++)
			if (n->in[k] < 0 || n->in[k] >= g->nvalues || !defined[n->in[k]])
				rc = mg_err_set(e, MG_ERR_INTERNAL,
						"node %d (%s): input %%%d used before defined", i,
						d->name, n->in[k]);
		for (int k = 0; k < n->nout && !rc; k++) {
			int32_t v = n->out[k];
			if (v < 0 || v >= g->nvalues || defined[v] || g->values[v].producer != i)
				rc = mg_err_set(e, MG_ERR_INTERNAL,
						"node %d (%s): output %%%d defined twice or "
						"producer mismatch",
						i, d->name, v);
			else
				defined[v] = 1;
		}
	}
	for (int i = 0; i < g->noutputs && !rc; i++)
		if (g->outputs[i] < 0 || g->outputs[i] >= g->nvalues || !defined[g->outputs[i]])
			rc = mg_err_set(e, MG_ERR_INTERNAL, "output %d is undefined", i);
	free(defined);
	return rc;
}
