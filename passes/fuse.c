/* fuse.c: runs of member nodes on one value become one fused node (fuse.h). A run
 * follows the dataflow, not the node order (a dict transform over two keys interleaves
 * their nodes): a member joins its predecessor's run when it is the only reader of the
 * predecessor's output and both agree on allow_missing_keys. The fused node takes the
 * place of the run's last member, reads the first member's input and holds the members
 * and their arguments as its chain; the intermediate values are left without producer
 * or reader. */
#include <stdlib.h>
#include <string.h>

#include "fuse.h"

static int member(const struct mg_graph *g, const struct mg_fuse *f, int32_t n)
{
	const struct mg_node *nd = &g->nodes[n];
	return nd->op != f->op && nd->nin == 1 && nd->nout == 1 && f->joins(g, n);
}

/* The chain attribute of the members listed in run[0..n). */
static struct mg_chain *make_chain(struct mg_graph *g, const int32_t *run, int n)
{
	struct mg_arena *a = &g->arena;
	struct mg_chain *c = mg_arena_alloc(a, sizeof *c);
	uint16_t *ops = mg_arena_alloc(a, (size_t)n * sizeof *ops);
	const struct mg_attr **attrs = mg_arena_alloc(a, (size_t)n * sizeof *attrs);
	const char **labels = mg_arena_alloc(a, (size_t)n * sizeof *labels);
	if (!c || !ops || !attrs || !labels)
		return NULL;
	for (int i = 0; i < n; i++) {
		ops[i] = g->nodes[run[i]].op;
		attrs[i] = g->nodes[run[i]].attrs;
		labels[i] = g->nodes[run[i]].label ? g->nodes[run[i]].label : "";
	}
	c->n = n;
	c->ops = ops;
	c->attrs = attrs;
	c->labels = labels;
	return c;
}

int mg_fuse_runs(struct mg_graph *g, const struct mg_fuse *f, struct mg_err *e)
{
	int nv = g->nvalues, nn = g->nnodes, rc = 0;
	int32_t *reader = malloc((size_t)(nv + 1) * sizeof *reader); /* the one reader, or -1 */
	int *nreaders = calloc((size_t)nv + 1, sizeof *nreaders);
	int32_t *fused_at = malloc((size_t)(nn + 1) * sizeof *fused_at); /* run end, or -1 */
	int32_t *run = malloc((size_t)(nn + 1) * sizeof *run);
	struct mg_node *out = malloc((size_t)(nn + 1) * sizeof *out);
	if (!reader || !nreaders || !fused_at || !run || !out) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory in %s", f->pass);
		goto done;
	}
	for (int i = 0; i < nv; i++)
		reader[i] = -1; /* a value read only as a graph output has no reader node */
	for (int i = 0; i < nn; i++) {
		fused_at[i] = -1;
		for (int k = 0; k < g->nodes[i].nin; k++) {
			nreaders[g->nodes[i].in[k]]++;
			reader[g->nodes[i].in[k]] = i;
		}
	}
	for (int i = 0; i < g->noutputs; i++)
		nreaders[g->outputs[i]]++; /* a graph output is read after the last node */
	/* a run starts at a member whose input does not come from another member */
	for (int i = 0; i < nn; i++) {
		if (!member(g, f, i) || fused_at[i] != -1)
			continue;
		int n = 0;
		for (int32_t m = i;;) {
			run[n++] = m;
			int32_t v = g->nodes[m].out[0], r = nreaders[v] == 1 ? reader[v] : -1;
			if (r < 0 || !member(g, f, r) || g->nodes[r].optional != g->nodes[i].optional)
				break;
			m = r;
		}
		if (n < 2)
			continue;
		for (int k = 0; k < n; k++)
			fused_at[run[k]] = run[n - 1];
		struct mg_chain *c = make_chain(g, run, n);
		struct mg_attr *at = mg_arena_alloc(&g->arena, sizeof *at);
		char *label = mg_arena_printf(&g->arena, "%s .. %s", g->nodes[run[0]].label,
					      g->nodes[run[n - 1]].label);
		if (!c || !at || !label) {
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory in %s", f->pass);
			goto done;
		}
		at->v.chain = c;
		at->n = n;
		/* the run's last node becomes the fused node, reading the first one's input */
		struct mg_node *last = &g->nodes[run[n - 1]];
		for (int k = 0; k < n - 1; k++)
			g->values[g->nodes[run[k]].out[0]].producer = -2; /* dead */
		last->op = (uint16_t)f->op;
		last->in[0] = g->nodes[run[0]].in[0];
		last->attrs = at;
		last->label = label;
		fused_at[run[n - 1]] = -2; /* kept */
	}
	int m = 0;
	for (int i = 0; i < nn; i++)
		if (fused_at[i] == -1 || fused_at[i] == -2)
			out[m++] = g->nodes[i];
	for (int i = 0; i < m; i++)
		for (int k = 0; k < out[i].nout; k++)
			g->values[out[i].out[k]].producer = i;
	memcpy(g->nodes, out, (size_t)m * sizeof *out);
	g->nnodes = m;
done:
	free(reader);
	free(nreaders);
	free(fused_at);
	free(run);
	free(out);
	return rc;
}
