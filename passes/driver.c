/* driver.c: the pass table and the one loop that runs it. */
#include <string.h>

#include "passes.h"

const struct mg_pass mg_passes[] = {
	{"infer-types", "derive every value's dtype and shape", mg_pass_infer_types},
};
const int mg_npasses = sizeof mg_passes / sizeof *mg_passes;

static int known(const char *name)
{
	if (strcmp(name, "frontend") == 0)
		return 1;
	for (int i = 0; i < mg_npasses; i++)
		if (strcmp(name, mg_passes[i].name) == 0)
			return 1;
	return 0;
}

int mg_passes_run(struct mg_graph *g, const struct mg_pass_opts *o, struct mg_err *e)
{
	if (o->dump_after && !known(o->dump_after)) {
		char names[512] = "frontend";
		for (int i = 0; i < mg_npasses; i++) {
			size_t n = strlen(names);
			snprintf(names + n, sizeof names - n, ", %s", mg_passes[i].name);
		}
		return mg_err_set(e, MG_ERR_CONFIG, "no pass named '%s' (passes: %s)",
				  o->dump_after, names);
	}
	int rc = mg_graph_verify(g, e);
	if (rc) {
		mg_err_prefix(e, "after the frontend");
		return rc;
	}
	if (o->dump_after && strcmp(o->dump_after, "frontend") == 0)
		mg_graph_print(g, o->dump);
	for (int i = 0; i < mg_npasses; i++) {
		const struct mg_pass *p = &mg_passes[i];
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
