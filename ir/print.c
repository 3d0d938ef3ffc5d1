/* print.c: the graph's text form, one line per input, node and output:
 *   graph preprocess
 *     %0:str = input "image"
 *     %5:f32[16,1,3,3,3] = param "model.0.conv.unit0.conv.weight"   (a network's; or buffer)
 *     %2:f32[1,?,?,?] = ScaleIntensityRange(%1) {a_min=-57, ...}  # label
 *     output "image" = %2
 * Attributes print in schema order with MONAI's names, so a node reads like the config
 * line that made it. */
#include <inttypes.h>

#include "ir.h"

void mg_type_print(const struct mg_type *t, FILE *f)
{
	if (t->kind == MG_VK_STRINGS) {
		fputs("str", f);
		return;
	}
	fputs(t->dtype >= 0 && t->dtype < MG_DTYPE_COUNT ? mg_dtype_short((enum mg_dtype)t->dtype)
							 : "?",
	      f);
	if (t->rank < 0) {
		fputs("[...]", f);
		return;
	}
	fputc('[', f);
	for (int i = 0; i < t->rank; i++) {
		if (i)
			fputc(',', f);
		if (t->dims[i] < 0)
			fputc('?', f);
		else
			fprintf(f, "%" PRId64, t->dims[i]);
	}
	fputc(']', f);
}

void mg_attr_print(const struct mg_attrdef *d, const struct mg_attr *a, FILE *f)
{
	if (a->is_none) {
		fputs("None", f);
		return;
	}
	switch (d->type) {
	case MG_ATTR_BOOL: fputs(a->v.i ? "true" : "false", f); break;
	case MG_ATTR_INT: fprintf(f, "%" PRId64, a->v.i); break;
	case MG_ATTR_FLOAT: fprintf(f, "%.17g", a->v.f); break;
	case MG_ATTR_STR: fprintf(f, "\"%s\"", a->v.s); break;
	case MG_ATTR_DTYPE: fputs(mg_dtype_name((enum mg_dtype)a->v.i), f); break;
	case MG_ATTR_CHAIN: {
		/* the replaced nodes, each as the printer shows a node's op and attributes */
		const struct mg_chain *c = a->v.chain;
		fputc('[', f);
		for (int i = 0; i < c->n; i++) {
			const struct mg_opdef *m = mg_ops[c->ops[i]];
			fprintf(f, "%s%s{", i ? "; " : "", m->name);
			for (int k = 0; k < m->nattrs; k++) {
				fprintf(f, "%s%s=", k ? ", " : "", m->attrs[k].name);
				mg_attr_print(&m->attrs[k], &c->attrs[i][k], f);
			}
			fputc('}', f);
		}
		fputc(']', f);
		break;
	}
	case MG_ATTR_INTS:
	case MG_ATTR_FLOATS:
	case MG_ATTR_STRS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++) {
			if (i)
				fputs(", ", f);
			if (d->type == MG_ATTR_INTS)
				fprintf(f, "%" PRId64, a->v.ints[i]);
			else if (d->type == MG_ATTR_FLOATS)
				fprintf(f, "%.17g", a->v.floats[i]);
			else
				fprintf(f, "\"%s\"", a->v.strs[i]);
		}
		fputc(']', f);
		break;
	}
}

static void print_node(const struct mg_graph *g, const struct mg_node *n, FILE *f)
{
	const struct mg_opdef *d = mg_ops[n->op];
	fputs("  ", f);
	for (int i = 0; i < n->nout; i++) {
		fprintf(f, "%s%%%d:", i ? ", " : "", n->out[i]);
		mg_type_print(&g->values[n->out[i]].type, f);
	}
	fprintf(f, " = %s(", d->name);
	for (int i = 0; i < n->nin; i++)
		fprintf(f, "%s%%%d", i ? ", " : "", n->in[i]);
	fputc(')', f);
	if (d->nattrs) {
		fputs(" {", f);
		for (int i = 0; i < d->nattrs; i++) {
			fprintf(f, "%s%s=", i ? ", " : "", d->attrs[i].name);
			mg_attr_print(&d->attrs[i], &n->attrs[i], f);
		}
		fputc('}', f);
	}
	if (n->optional)
		fputs(" optional", f);
	if (n->label)
		fprintf(f, "  # %s", n->label);
	fputc('\n', f);
}

void mg_graph_print(const struct mg_graph *g, FILE *f)
{
	fprintf(f, "graph %s\n", g->name);
	static const char *const kind[] = {"input", "param", "buffer", "state"};
	for (int i = 0; i < g->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		fprintf(f, "  %%%d:", g->inputs[i]);
		mg_type_print(&v->type, f);
		fprintf(f, " = %s \"%s\"\n", kind[v->param], v->name);
	}
	for (int i = 0; i < g->nnodes; i++)
		print_node(g, &g->nodes[i], f);
	for (int i = 0; i < g->noutputs; i++)
		fprintf(f, "  output \"%s\" = %%%d\n", g->values[g->outputs[i]].name,
			g->outputs[i]);
}
