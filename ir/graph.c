/* graph.c: building graphs. Node and value arrays grow by doubling (indices stay
 * valid, pointers do not); everything else lives in the graph's arena. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

struct mg_graph *mg_graph_new(const char *name)
{
	struct mg_graph *g = calloc(1, sizeof *g);
	if (g) {
		g->name = mg_arena_strdup(&g->arena, name ? name : "main");
		g->loss = -1;
		g->optim = -1;
		g->net = -1;
	}
	return g;
}

void mg_graph_free(struct mg_graph *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->values);
	free(g->inputs);
	free(g->outputs);
	free(g->aliases);
	mg_arena_free(&g->arena);
	free(g);
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return 0;
	int ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -1;
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

int32_t mg_graph_add_value(struct mg_graph *g, const struct mg_type *t, const char *name,
			   struct mg_err *e)
{
	if (grow((void **)&g->values, &g->values_cap, g->nvalues + 1, sizeof *g->values)) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory adding a value");
		return -1;
	}
	struct mg_value *v = &g->values[g->nvalues];
	v->type = *t;
	v->producer = -1;
	v->name = mg_arena_strdup(&g->arena, name);
	if (name && !v->name) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory adding a value");
		return -1;
	}
	return g->nvalues++;
}

static int32_t add_input(struct mg_graph *g, const char *name, const struct mg_type *t,
			 int param, struct mg_err *e)
{
	if (grow((void **)&g->inputs, &g->inputs_cap, g->ninputs + 1, sizeof *g->inputs)) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory adding input \"%s\"", name);
		return -1;
	}
	int32_t v = mg_graph_add_value(g, t, name, e);
	if (v >= 0) {
		g->values[v].param = (uint8_t)param;
		g->inputs[g->ninputs++] = v;
	}
	return v;
}

static int32_t find_input(const struct mg_graph *g, const char *name)
{
	for (int i = 0; i < g->ninputs; i++)
		if (strcmp(g->values[g->inputs[i]].name, name) == 0)
			return g->inputs[i];
	return -1;
}

int32_t mg_graph_input(struct mg_graph *g, const char *key, struct mg_err *e)
{
	int32_t v = find_input(g, key);
	if (v >= 0)
		return v;
	if (g->ninputs == MG_MAX_KEYS) {
		mg_err_set(e, MG_ERR_UNSUPPORTED, "more than %d item keys", g->ninputs);
		return -1;
	}
	struct mg_type t = {.kind = MG_VK_STRINGS, .dtype = -1, .rank = -1};
	return add_input(g, key, &t, 0, e);
}

int32_t mg_graph_tensor_input(struct mg_graph *g, const char *name, const struct mg_type *t,
			      int param, struct mg_err *e)
{
	if (find_input(g, name) >= 0) {
		mg_err_set(e, MG_ERR_INTERNAL, "two graph inputs named \"%s\"", name);
		return -1;
	}
	return add_input(g, name, t, param, e);
}

int mg_graph_add_alias(struct mg_graph *g, const char *name, int32_t v, struct mg_err *e)
{
	int taken = find_input(g, name) >= 0;
	for (int i = 0; i < g->naliases && !taken; i++)
		taken = !strcmp(g->aliases[i].name, name);
	if (taken)
		return mg_err_set(e, MG_ERR_INTERNAL, "alias \"%s\" names another input", name);
	if (grow((void **)&g->aliases, &g->aliases_cap, g->naliases + 1, sizeof *g->aliases))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory adding alias \"%s\"", name);
	const char *s = mg_arena_strdup(&g->arena, name);
	if (!s)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory adding alias \"%s\"", name);
	g->aliases[g->naliases++] = (struct mg_alias){s, v};
	return 0;
}

static void type_unknown(struct mg_type *t)
{
	memset(t, 0, sizeof *t);
	t->kind = MG_VK_TENSOR;
	t->dtype = -1;
	t->rank = -1;
}

/* Output types by the op's rule; without a rule every output has input 0's type. */
static int infer_node(struct mg_graph *g, struct mg_node *n, struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[n->op];
	struct mg_type in[MG_NODE_MAXIO] = {0}, out[MG_NODE_MAXIO];
	for (int i = 0; i < n->nin; i++)
		in[i] = g->values[n->in[i]].type;
	for (int i = 0; i < n->nout; i++)
		type_unknown(&out[i]);
	if (d->infer || d->dtypes) {
		int rc = mg_op_infer(d, n->attrs, in, out, e);
		if (rc) {
			mg_err_prefix(e, "%s (%s)", n->label ? n->label : "node", d->name);
			return rc;
		}
	} else if (n->nin > 0) {
		for (int i = 0; i < n->nout; i++)
			out[i] = in[0];
	}
	for (int i = 0; i < n->nout; i++)
		g->values[n->out[i]].type = out[i];
	return 0;
}

int32_t mg_graph_add_node(struct mg_graph *g, enum mg_op op, const int32_t *in, int nin,
			  const struct mg_attr *attrs, const char *label, struct mg_err *e)
{
	return mg_graph_add_node_n(g, op, in, nin, mg_ops[op]->nout, attrs, label, e);
}

int32_t mg_graph_add_node_n(struct mg_graph *g, enum mg_op op, const int32_t *in, int nin,
			    int nout, const struct mg_attr *attrs, const char *label,
			    struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[op];
	if (!mg_op_arity_ok(d, attrs, nin, nout)) {
		mg_err_set(e, MG_ERR_INTERNAL, "%s takes %d inputs and %d outputs, given %d and %d",
			   d->name, mg_op_nin(d, attrs), d->nout, nin, nout);
		return -1;
	}
	/* in may point into g->nodes (an earlier node's outputs): read it before growing */
	struct mg_node n = {.op = (uint16_t)op, .nin = (uint8_t)nin, .nout = (uint8_t)nout};
	if (nin)
		memcpy(n.in, in, (size_t)nin * sizeof *in);
	if (grow((void **)&g->nodes, &g->nodes_cap, g->nnodes + 1, sizeof *g->nodes)) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory adding a node");
		return -1;
	}
	n.label = mg_arena_strdup(&g->arena, label);
	n.attrs = mg_arena_alloc(&g->arena, (size_t)(d->nattrs ? d->nattrs : 1) * sizeof *attrs);
	if (!n.attrs) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory adding a node");
		return -1;
	}
	if (attrs)
		memcpy(n.attrs, attrs, (size_t)d->nattrs * sizeof *attrs);
	else if (mg_attrs_parse(d, NULL, -1, 1, NULL, &g->arena, n.attrs, e))
		return -1;
	int32_t id = g->nnodes;
	for (int i = 0; i < nout; i++) {
		struct mg_type t;
		type_unknown(&t);
		/* a node's outputs keep the key of its first input */
		int32_t v = mg_graph_add_value(g, &t, nin ? g->values[n.in[0]].name : d->name, e);
		if (v < 0)
			return -1;
		g->values[v].producer = id;
		n.out[i] = v;
	}
	g->nodes[g->nnodes++] = n;
	if (infer_node(g, &g->nodes[id], e)) {
		/* leave the graph as it was: the node and its outputs go */
		g->nnodes--;
		g->nvalues -= nout;
		return -1;
	}
	return id;
}

int mg_graph_set_outputs(struct mg_graph *g, const int32_t *vals, int n, struct mg_err *e)
{
	if (grow((void **)&g->outputs, &g->outputs_cap, n, sizeof *g->outputs))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory setting %d outputs", n);
	memcpy(g->outputs, vals, (size_t)n * sizeof *vals);
	g->noutputs = n;
	return 0;
}

int mg_graph_add_output(struct mg_graph *g, int32_t v, const char *name, struct mg_err *e)
{
	if (grow((void **)&g->outputs, &g->outputs_cap, g->noutputs + 1, sizeof *g->outputs))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory adding output \"%s\"", name);
	if (!(g->values[v].name = mg_arena_strdup(&g->arena, name)))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory adding output \"%s\"", name);
	g->outputs[g->noutputs++] = v;
	return 0;
}

int mg_graph_infer(struct mg_graph *g, struct mg_err *e)
{
	for (int i = 0; i < g->nnodes; i++) {
		int rc = infer_node(g, &g->nodes[i], e);
		if (rc)
			return rc;
	}
	return 0;
}
