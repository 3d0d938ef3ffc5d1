/* embed.c: a program that embeds mgc's runtime: it loads a plan written by
 * `mgc compile PIPELINE --plan-only -o PLAN` and runs it on one item given on the command
 * line, through the public API only (runtime/plan.h, ops/optab.h). Build it against an
 * installed mgc with
 *   cc embed.c $(pkg-config --cflags --libs mgc) -o embed
 * and run it as
 *   ./embed PLAN image=ct.nii.gz label=seg.nii.gz [--output_dir=out]
 * (key=path binds an item key; --name=value sets a run-time parameter of the plan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/optab.h"
#include "runtime/plan.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PLAN key=path... [--parameter=value...]\n", argv[0]);
		return 2;
	}
	struct mg_err e = {0};
	struct mg_plan_file f;
	int rc = mg_plan_load(&f, argv[1], &mg_ops_optab, &e);

	/* the item: one field per key=path, one string each */
	struct mg_field fields[16];
	struct mg_item item = {0, fields};
	for (int i = 2; !rc && i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			rc = mg_err_set(&e, MG_ERR_CONFIG, "'%s' is neither key=path nor --name=value",
					argv[i]);
		} else if (strncmp(argv[i], "--", 2) == 0) {
			*eq = 0;
			rc = mg_plan_set_param(&f, argv[i] + 2, eq + 1, &e);
		} else if (item.nfields < 16) {
			static char *paths[16];
			int n = item.nfields++;
			*eq = 0;
			paths[n] = eq + 1;
			fields[n] = (struct mg_field){argv[i], 1, &paths[n]};
		}
	}

	/* one item through the executor; every value it leaves is released after */
	struct mg_val *slots = rc ? NULL : calloc((size_t)f.plan->nslots + 1, sizeof *slots);
	if (!rc && !slots)
		rc = mg_err_set(&e, MG_ERR_NOMEM, "out of memory");
	if (!rc) {
		struct mg_kctx k = {.err = &e, .log = stdout, .gz_level = 1};
		rc = mg_exec_item(f.plan, &item, 0, slots, &k, NULL);
		for (int s = 0; s < f.plan->nslots; s++) {
			if (!rc && slots[s].kind == MG_VK_TENSOR && f.plan->last_use[s] == f.plan->nsteps)
				printf("output: %d-d %s tensor\n", slots[s].t.rank,
				       mg_dtype_name(slots[s].t.dtype));
			mg_val_release(&slots[s]);
		}
	}
	if (rc)
		fprintf(stderr, "embed: %s\n", e.msg);
	free(slots);
	mg_plan_file_free(&f);
	return rc ? 1 : 0;
}
