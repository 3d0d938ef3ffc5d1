/* main.c: the main of a pipeline compiled by `mgc compile`. The plan blob linked beside it
 * (mg_plan_blob, a C array compile.c writes) is read with the ops' table, its run-time
 * parameters set from --name=value, its datalist read from the plan's data source, and
 * the plan run as `mgc run` runs it (runner.c), with the generated kernels linked beside
 * it (mg_aot_kernels, traced by mgc compile) as its backend: a kernel the table lacks
 * runs as the op's reference kernel. Links the runtime, the kernel IR (to find kernels)
 * and the ops' kernels only. Read next: ../compile.c, runner.h, docs/compile.md. */
#include <stdlib.h>
#include <string.h>

#include "../../ir/kir_table.h"
#include "../../ops/optab.h"
#include "runner.h"

extern const unsigned char mg_plan_blob[];
extern const size_t mg_plan_blob_size;
extern const struct mg_kir_entry mg_aot_kernels[];
extern const int mg_aot_nkernels;

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
	struct mg_kir_table kt;
	struct mg_pool *kpool = NULL;
	if (!rc && mg_aot_nkernels > 0) {
		kpool = runner_kernel_pool(&r, dl.n);
		rc = mg_kir_table_init(&kt, mg_aot_kernels, mg_aot_nkernels, kpool, &e);
		r.backend = &kt.b;
	}
	if (!rc)
		rc = runner_run(f.plan, &dl, &r, &e);
	if (!rc && r.verbose && r.backend)
		mg_kir_table_report(&kt, stderr);
	else if (!rc && r.verbose)
		fputs("kernels: none linked (compiled with --no-trace): reference kernels only\n",
		      stderr);
	if (rc)
		fprintf(stderr, "%s: %s\n", prog, e.msg);
	if (r.backend)
		mg_kir_table_free(&kt);
	mg_pool_free(kpool);
	mg_datalist_free(&dl);
	mg_plan_file_free(&f);
	return rc ? 1 : 0;
}
