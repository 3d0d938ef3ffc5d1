/* driver.c: the pass table and the one loop that runs it. */
#include <string.h>

#include "passes.h"

const struct mg_pass mg_passes[] = {
	{"autodiff", "a loss -> the backward nodes of its parameters' gradients (first: the "
	 "fusion passes then fuse both directions)", mg_pass_autodiff},
	{"optimizer", "the parameters' gradients -> their optimizer's updates (param.new, "
	 "its state)", mg_pass_optimizer},
	{"layout", "a network's activations channels-last: Contiguous nodes at the graph's "
	 "inputs the convolutions read and at its outputs computed from them",
	 mg_pass_layout},
	{"fuse-spatial", "runs of spatial ops on one value -> one FusedSpatial node",
	 mg_pass_fuse_spatial},
	{"fuse-elementwise", "runs of elementwise ops on one value -> one FusedElementwise node",
	 mg_pass_fuse_elementwise},
	{"infer-types", "derive every value's dtype and shape", mg_pass_infer_types},
};
const int mg_npasses = sizeof mg_passes / sizeof *mg_passes;

static int known(const char *name, size_t n)
{
	if (n == 8 && strncmp(name, "frontend", 8) == 0)
		return 1;
	for (int i = 0; i < mg_npasses; i++)
		if (strlen(mg_passes[i].name) == n && strncmp(name, mg_passes[i].name, n) == 0)
			return 1;
	return 0;
}

/* Whether name is one of the comma-separated names in list. */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

/* The first unknown name of a comma-separated list, as an error listing the passes. */
static int check_names(const char *what, const char *list, struct mg_err *e)
{
	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!known(p, n)) {
			char names[512] = "frontend";
			for (int i = 0; i < mg_npasses; i++) {
				size_t m = strlen(names);
				snprintf(names + m, sizeof names - m, ", %s", mg_passes[i].name);
			}
			return mg_err_set(e, MG_ERR_CONFIG, "%s: no pass named '%.*s' (passes: %s)",
					  what, (int)n, p, names);
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

int mg_passes_run(struct mg_graph *g, const struct mg_pass_opts *o, struct mg_err *e)
{
	int rc = check_names("--after", o->dump_after, e);
	if (rc || (rc = check_names("--disable", o->disable, e)))
		return rc;
	if ((rc = mg_graph_verify(g, e))) {
		mg_err_prefix(e, "after the frontend");
		return rc;
	}
	if (o->dump_after && strcmp(o->dump_after, "frontend") == 0)
		mg_graph_print(g, o->dump);
	for (int i = 0; i < mg_npasses; i++) {
		const struct mg_pass *p = &mg_passes[i];
		if (listed(o->disable, p->name))
			continue;
		double t0 = mg_now();
		if (!(rc = p->run(g, e)))
			rc = mg_graph_verify(g, e);
		if (rc) {
			mg_err_prefix(e, "pass %s", p->name);
			return rc;
		}
		if (o->timing)
			fprintf(o->timing, "pass %-16s %8.3f ms\n", p->name, (mg_now() - t0) * 1e3);
		if (o->dump_after && strcmp(o->dump_after, p->name) == 0)
			mg_graph_print(g, o->dump);
	}
	return 0;
}
