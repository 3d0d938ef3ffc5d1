/* lower.c: graph -> plan for the reference executor. One slot per value, one step per
 * node, each calling its op's reference kernel; last uses let the executor free values
 * as soon as they are dead. */
#include <string.h>

#include "ir.h"

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
		s->fn = d->ref;
		s->op = d->name;
		s->label = mg_arena_strdup(a, n->label);
		s->key = mg_arena_strdup(a, n->nin ? g->values[n->in[0]].name : NULL);
		s->nin = n->nin;
		s->nout = n->nout;
		s->optional = n->optional;
		memcpy(s->in, n->in, sizeof s->in);
		memcpy(s->out, n->out, sizeof s->out);
		/* attribute lists point into the graph's arena: copy them into the plan's */
		struct mg_attr *at = mg_arena_alloc(a, (size_t)(d->nattrs + 1) * sizeof *at);
		if (!at)
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
		memcpy(at, n->attrs, (size_t)d->nattrs * sizeof *at);
		for (int k = 0; k < d->nattrs; k++) {
			size_t elem = d->attrs[k].type == MG_ATTR_INTS	 ? sizeof(int64_t)
				      : d->attrs[k].type == MG_ATTR_FLOATS ? sizeof(double)
				      : d->attrs[k].type == MG_ATTR_STRS   ? sizeof(char *)
									   : 0;
			if (d->attrs[k].type == MG_ATTR_STR && !at[k].is_none)
				at[k].v.s = mg_arena_strdup(a, at[k].v.s);
			if (!elem || at[k].is_none || !at[k].n)
				continue;
			void *list = mg_arena_alloc(a, elem * (size_t)at[k].n);
			if (!list)
				return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering");
			memcpy(list, at[k].v.ints, elem * (size_t)at[k].n);
			if (d->attrs[k].type == MG_ATTR_STRS)
				for (int j = 0; j < at[k].n; j++)
					((const char **)list)[j] = mg_arena_strdup(a, at[k].v.strs[j]);
			at[k].v.ints = list;
		}
		s->attrs = at;
		for (int k = 0; k < n->nin; k++)
			p->last_use[n->in[k]] = i;
	}
	/* graph outputs stay alive to the end */
	for (int i = 0; i < g->noutputs; i++)
		p->last_use[g->outputs[i]] = g->nnodes;
	if (a->failed)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory lowering the graph");
	*out = p;
	return 0;
}
