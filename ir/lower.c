/* lower.c: graph -> plan for the reference executor. One slot per value, one step per
 * node, each calling its op's reference kernel; last uses let the executor free values
 * as soon as they are dead. */
#include <string.h>

#include "ir.h"

static const struct mg_chain *copy_chain(const struct mg_chain *c, struct mg_arena *a);

/* A deep copy of an op's attribute values into arena a; NULL when out of memory (the
 * arena's flag is set then too). */
static const struct mg_attr *copy_attrs(const struct mg_opdef *d, const struct mg_attr *src,
					struct mg_arena *a)
{
	struct mg_attr *at = mg_arena_alloc(a, (size_t)(d->nattrs + 1) * sizeof *at);
	if (!at)
		return NULL;
	memcpy(at, src, (size_t)d->nattrs * sizeof *at);
	for (int k = 0; k < d->nattrs; k++) {
		enum mg_attr_type t = d->attrs[k].type;
		if (at[k].is_none)
			continue;
		if (t == MG_ATTR_STR)
			at[k].v.s = mg_arena_strdup(a, at[k].v.s);
		if (t == MG_ATTR_CHAIN)
			at[k].v.chain = copy_chain(at[k].v.chain, a);
		size_t elem = t == MG_ATTR_INTS	    ? sizeof(int64_t)
			      : t == MG_ATTR_FLOATS ? sizeof(double)
			      : t == MG_ATTR_STRS   ? sizeof(char *)
						    : 0;
		if (!elem || !at[k].n)
			continue;
		void *list = mg_arena_alloc(a, elem * (size_t)at[k].n);
		if (!list)
			return NULL;
		memcpy(list, at[k].v.ints, elem * (size_t)at[k].n);
		if (t == MG_ATTR_STRS)
			for (int j = 0; j < at[k].n; j++)
				((const char **)list)[j] = mg_arena_strdup(a, at[k].v.strs[j]);
		at[k].v.ints = list;
	}
	return a->failed ? NULL : at;
}

static const struct mg_chain *copy_chain(const struct mg_chain *c, struct mg_arena *a)
{
	struct mg_chain *d = mg_arena_alloc(a, sizeof *d);
	uint16_t *ops = mg_arena_alloc(a, (size_t)c->n * sizeof *ops);
	const struct mg_attr **attrs = mg_arena_alloc(a, (size_t)c->n * sizeof *attrs);
	const char **labels = mg_arena_alloc(a, (size_t)c->n * sizeof *labels);
	if (!d || !ops || !attrs || !labels)
		return NULL;
	for (int i = 0; i < c->n; i++) {
		ops[i] = c->ops[i];
		attrs[i] = copy_attrs(mg_ops[c->ops[i]], c->attrs[i], a);
		labels[i] = mg_arena_strdup(a, c->labels[i]);
	}
	*d = (struct mg_chain){c->n, ops, attrs, labels};
	return d;
}

int mg_graph_lower(const struct mg_graph *g, struct mg_arena *a, struct mg_plan **out,
		   struct mg_err *e)
{
	struct mg_plan *p = mg_arena_alloc(a, sizeof *p);
	if (!p)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
	p->nslots = g->nvalues;
	p->nsteps = g->nnodes;
	p->ninputs = g->ninputs;
	p->steps = mg_arena_alloc(a, (size_t)(g->nnodes + 1) * sizeof *p->steps);
	p->inputs = mg_arena_alloc(a, (size_t)(g->ninputs + 1) * sizeof *p->inputs);
	p->last_use = mg_arena_alloc(a, (size_t)(g->nvalues + 1) * sizeof *p->last_use);
	if (a->failed)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
	for (int i = 0; i < g->ninputs; i++) {
		p->inputs[i].key = mg_arena_strdup(a, g->values[g->inputs[i]].name);
		p->inputs[i].slot = g->inputs[i];
	}
	for (int v = 0; v < g->nvalues; v++)
		p->last_use[v] = -1;
	for (int i = 0; i < g->nnodes; i++) {
		const struct mg_node *n = &g->nodes[i];
		const struct mg_opdef *d = mg_ops[n->op];
		struct mg_step *s = &p->steps[i];
		/* an op with a generated kernel runs it when the executor has a backend, and
		 * its reference kernel otherwise: the plan is the same for both */
		s->fn = d->gen ? d->gen : d->ref;
		s->op = d->name;
		s->def = d;
		s->label = mg_arena_strdup(a, n->label);
		s->key = mg_arena_strdup(a, n->nin ? g->values[n->in[0]].name : NULL);
		s->nin = n->nin;
		s->nout = n->nout;
		s->optional = n->optional;
		memcpy(s->in, n->in, sizeof s->in);
		memcpy(s->out, n->out, sizeof s->out);
		/* attribute lists point into the graph's arena: copy them into the plan's */
		s->attrs = copy_attrs(d, n->attrs, a);
		if (!s->attrs)
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
		for (int k = 0; k < n->nin; k++) {
			s->in_key[k] = mg_arena_strdup(a, g->values[n->in[k]].name);
			p->last_use[n->in[k]] = i;
		}
	}
	/* graph outputs stay alive to the end */
	for (int i = 0; i < g->noutputs; i++)
		p->last_use[g->outputs[i]] = g->nnodes;
	if (a->failed)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
	*out = p;
	return 0;
}
