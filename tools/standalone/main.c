/* main.c: the main of a pipeline compiled by `mgc compile`. The plan blob linked beside it
 * (mg_plan_blob, a C array compile.c writes) is read with the ops' table, its run-time
 * parameters set from --name=value, its datalist read from the plan's data source, and
 * the plan run as `mgc run` runs it (runner.c). Links the runtime and the ops' kernels
 * only. Read next: ../compile.c, runner.h, docs/compile.md. */
#include <string.h>

#include "../../ops/optab.h"
#include "runner.h"

extern const unsigned char mg_plan_blob[];
extern const size_t mg_plan_blob_size;

static void usage(const char *prog, const struct mg_plan_file *f)
{
	printf("usage: %s [options] [--PARAMETER=value...]\n\n"
	       "Runs the pipeline compiled into this program (by mgc compile) over its\n"
	       "datalist, as `mgc run PIPELINE --PARAMETER=value` would.\n\n"
	       "run-time parameters (their compiled values):\n", prog);
	for (int i = 0; i < f->nparams; i++)
		printf("  --%s=%s\n", f->params[i].name, f->params[i].value);
	if (!f->nparams)
		puts("  none");
	printf("\noptions:\n%s", runner_usage);
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	struct mg_err e = {0};
	struct mg_plan_file f;
	struct mg_datalist dl = {0};
	struct runner r;
	runner_init(&r);
	int rc = mg_plan_read(&f, mg_plan_blob, mg_plan_blob_size, &mg_ops_optab, &e);
	for (int i = 1; !rc && i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(prog, &f);
			mg_plan_file_free(&f);
			return 0;
		}
		int opt = runner_opt(&r, prog, a);
		if (opt == 1)
			continue;
		if (opt == 2 || strncmp(a, "--", 2) != 0 || !eq) {
			if (opt != 2)
				fprintf(stderr, "%s: unknown argument '%s' (see %s --help)\n", prog,
					a, prog);
			mg_plan_file_free(&f);
			return 2;
		}
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
		rc = mg_plan_set_param(&f, name, eq + 1, &e);
	}
	if (!rc)
		rc = mg_datasrc_load(f.data, &dl, &e);
	if (!rc)
		rc = runner_run(f.plan, &dl, &r, &e);
	if (rc)
		fprintf(stderr, "%s: %s\n", prog, e.msg);
	mg_datalist_free(&dl);
	mg_plan_file_free(&f);
	return rc ? 1 : 0;
}
