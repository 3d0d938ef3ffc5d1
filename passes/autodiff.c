/* autodiff.c: reverse mode. When the graph has a loss, appends the nodes that compute
 * dloss/dp for every parameter input p (mg_value.param MG_PARAM_LEARNED) and makes those gradients graph
 * outputs, named "<parameter>.grad", after the graph's own.
 * Walks the forward nodes once, last to first: a node some of whose outputs have a
 * gradient and some of whose inputs lead from a parameter calls its op's gradient rule
 * (mg_opdef.grad), which adds backward nodes; contributions to one value from several
 * readers are summed with Add nodes. Backward nodes read forward values directly, so
 * lowering keeps those alive until their last backward reader and frees them after
 * (the plan's liveness), as PyTorch's saved tensors are. Parameters the loss does not
 * depend on get zeros, as a training step wants a gradient for every parameter.
 * docs/autodiff.md. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

struct ad {
	struct mg_grad c;
	struct mg_graph *g;
	const char *label;
};

static int32_t add_node(struct mg_grad *c, int op, const int32_t *in, int nin, int nout,
			const struct mg_attr *attrs)
{
	struct ad *ad = c->pass;
	struct mg_graph *g = ad->g;
	int32_t n = mg_graph_add_node_n(g, (enum mg_op)op, in, nin, nout, attrs, ad->label, c->e);
	return n < 0 ? -1 : g->nodes[n].out[0];
}

/* acc[v] += d (acc[v] < 0: none yet). */
static int accumulate(struct ad *ad, int32_t *acc, int32_t v, int32_t d)
{
	if (acc[v] < 0) {
		acc[v] = d;
		return 0;
	}
	int32_t in[2] = {acc[v], d};
	return (acc[v] = add_node(&ad->c, MG_OP_Add, in, 2, 1, NULL)) < 0 ? ad->c.e->code : 0;
}

static int scalar_loss(const struct mg_graph *g, struct mg_err *e)
{
	const struct mg_type *t = &g->values[g->loss].type;
	int64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= t->dims[i];
	if (t->kind != MG_VK_TENSOR || t->rank < 0 || n != 1 ||
	    (t->dtype != MG_DTYPE_F32 && t->dtype != MG_DTYPE_F64))
		return mg_err_set(e, MG_ERR_SHAPE, "autodiff: the loss (value %%%d) must be one "
				  "float32 or float64 element", g->loss);
	return 0;
}

int mg_pass_autodiff(struct mg_graph *g, struct mg_err *e)
{
	if (g->loss < 0)
		return 0;
	int rc = scalar_loss(g, e);
	if (rc)
		return rc;
	int nv = g->nvalues, nn = g->nnodes;
	/* from[v]: v depends on a parameter; acc[v]: the value holding dloss/dv so far */
	uint8_t *from = calloc((size_t)nv, 1);
	int32_t *acc = malloc((size_t)nv * sizeof *acc);
	if (!from || !acc) {
		free(from);
		free(acc);
		return mg_err_set(e, MG_ERR_NOMEM, "autodiff: out of memory");
	}
	for (int i = 0; i < nv; i++)
		acc[i] = -1;
	for (int i = 0; i < g->ninputs; i++)
		from[g->inputs[i]] = g->values[g->inputs[i]].param == MG_PARAM_LEARNED;
	for (int i = 0; i < nn; i++) {
		const struct mg_node *n = &g->nodes[i];
		int f = 0;
		for (int j = 0; j < n->nin; j++)
			f |= from[n->in[j]];
		for (int j = 0; j < n->nout; j++)
			from[n->out[j]] = (uint8_t)f;
	}
	struct ad ad = {.g = g, .c = {.node = add_node, .e = e}};
	ad.c.pass = &ad;
	if (from[g->loss]) {
		struct mg_attr one = {.v.f = 1};
		acc[g->loss] = add_node(&ad.c, MG_OP_FullLike, &g->loss, 1, 1, &one);
		rc = acc[g->loss] < 0 ? e->code : 0;
	}
	for (int i = nn - 1; i >= 0 && !rc; i--) {
		/* copies: adding nodes and values moves the arrays */
		struct mg_node n = g->nodes[i];
		struct mg_type xt[MG_NODE_MAXIO], yt[MG_NODE_MAXIO];
		int32_t dy[MG_NODE_MAXIO];
		unsigned need = 0;
		int any = 0;
		for (int j = 0; j < n.nout; j++)
			any |= (dy[j] = acc[n.out[j]]) >= 0;
		for (int j = 0; j < n.nin; j++)
			need |= (unsigned)from[n.in[j]] << j;
		if (!any || !need)
			continue;
		const struct mg_opdef *d = mg_ops[n.op];
		if (!d->grad) {
			rc = mg_err_set(e, MG_ERR_UNSUPPORTED, "autodiff: %s (%s) has no gradient "
					"rule, and the loss depends on a parameter through it", d->name,
					n.label ? n.label : "no label");
			break;
		}
		for (int j = 0; j < n.nin; j++)
			xt[j] = g->values[n.in[j]].type;
		for (int j = 0; j < n.nout; j++)
			yt[j] = g->values[n.out[j]].type;
		ad.label = n.label;
		ad.c.attrs = n.attrs;
		ad.c.nin = n.nin;
		ad.c.nout = n.nout;
		ad.c.x = n.in;
		ad.c.y = n.out;
		ad.c.xt = xt;
		ad.c.yt = yt;
		ad.c.dy = dy;
		ad.c.need = need;
		for (int j = 0; j < MG_NODE_MAXIO; j++)
			ad.c.dx[j] = -1;
		if ((rc = d->grad(&ad.c))) {
			mg_err_prefix(e, "autodiff: %s (%s)", d->name, n.label ? n.label : "no label");
			break;
		}
		for (int j = 0; j < n.nin && !rc; j++)
			if ((need >> j & 1) && ad.c.dx[j] >= 0)
				rc = accumulate(&ad, acc, n.in[j], ad.c.dx[j]);
	}
	/* the gradients, in the parameters' order, after the graph's outputs */
	int first = g->noutputs;
	ad.label = "autodiff";
	for (int i = 0; i < g->ninputs && !rc; i++) {
		int32_t p = g->inputs[i], v = acc[p];
		if (g->values[p].param != MG_PARAM_LEARNED)
			continue;
		int named = 0; /* v already is another parameter's gradient (a + b's dy) */
		for (int j = first; j < g->noutputs; j++)
			named |= g->outputs[j] == v;
		if (v < 0) /* the loss does not depend on p */
			v = add_node(&ad.c, MG_OP_FullLike, &p, 1, 1, NULL);
		else if (named)
			v = add_node(&ad.c, MG_OP_Identity, &v, 1, 1, NULL);
		char name[512];
		snprintf(name, sizeof name, "%s.grad", g->values[p].name);
		rc = v < 0 ? e->code : mg_graph_add_output(g, v, name, e);
	}
	free(from);
	free(acc);
	return rc;
}
