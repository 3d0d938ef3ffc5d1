/* run.c: `mgc run PIPELINE... [--key=value...]`: builds the pipeline's graph and runs it
 * over its datalist with the reference executor. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mgc.h"

static const char usage[] =
	"usage: mgc run PIPELINE.json... [options] [--key#path=value...]\n"
	"\n"
	"Runs a pipeline (a MONAI bundle config) over its datalist. Later files override\n"
	"earlier ones; --key#path=value overrides one entry (value as JSON, else a string).\n"
	"\n"
	"options:\n"
	"  --run_id=ID     the dataset component to run (default: dataset, train#dataset...)\n"
	"  --backend=ref   reference kernels (the only backend so far)\n"
	"  --threads=N     items processed at once (default: one per core)\n"
	"  --items=A:B     only items A..B-1 of the datalist (--items=A: just item A)\n"
	"  --gz_level=N    zlib level for .nii.gz outputs, 1-9 (default 1: fast)\n"
	"  --disable=P,Q   skip these passes (e.g. fuse-spatial; see mgc dump --help)\n"
	"  --verbose       pass timings, then per step: calls, time in the kernel and MB of\n"
	"                  data it made (views make none); --quiet: no progress line, no logs\n";

/* The --verbose profile: one line per step, totals over all items (with several threads
 * the times add up across them). */
static void print_stats(const struct mg_plan *p, const struct mg_step_stats *st, FILE *f)
{
	fprintf(f, "%-14s %-44s %6s %10s %10s\n", "op", "step", "calls", "ms/call",
		"MB/call");
	for (int i = 0; i < p->nsteps; i++) {
		double n = st[i].calls ? (double)st[i].calls : 1;
		fprintf(f, "%-14s %-44.44s %6lld %10.1f %10.1f\n", p->steps[i].op,
			p->steps[i].label ? p->steps[i].label : "", (long long)st[i].calls,
			(double)st[i].ns / 1e6 / n, (double)st[i].bytes / 1e6 / n);
	}
}

int mgc_run(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(usage, stdout), 0;
	struct cli c;
	int rc = cli_parse(&c, "run", argc, argv);
	if (rc)
		return rc;
	struct mg_err e = {0};
	struct mg_config cfg = {0};
	struct mg_program p = {0};
	struct mg_arena arena = {0};
	struct mg_plan *plan = NULL;
	double t0 = mg_now();
	rc = cli_load(&c, &cfg, &p, stdout, &e);
	if (!rc)
		rc = mg_program_load_data(&p, &e);
	if (!rc)
		rc = mg_graph_lower(p.graph, &arena, &plan, &e);
	if (!rc && c.verbose)
		fprintf(stderr, "compiled %d nodes in %.1f ms; %d items\n", p.graph->nnodes,
			(mg_now() - t0) * 1e3, p.data.n);
	struct mg_step_stats *stats = NULL;
	if (!rc && c.verbose && !(stats = calloc((size_t)plan->nsteps + 1, sizeof *stats)))
		rc = mg_err_set(&e, MG_ERR_NOMEM, "out of memory");
	if (!rc) {
		struct mg_exec_opts o = {
			.nthreads = c.threads,
			.log = c.quiet ? NULL : stdout,
			.progress = c.quiet || !isatty(2) ? NULL : stderr,
			.gz_level = c.gz_level,
			.first = c.first,
			.count = c.count,
			.stats = stats,
		};
		double t1 = mg_now();
		rc = mg_exec_run(plan, &p.data, &o, &e);
		if (!rc && !c.quiet)
			fprintf(stderr, "done: %lld items in %.2f s\n",
				(long long)(c.count < 0 ? p.data.n - c.first : c.count),
				mg_now() - t1);
		if (!rc && stats)
			print_stats(plan, stats, stderr);
	}
	free(stats);
	if (rc)
		fprintf(stderr, "mgc run: %s\n", e.msg);
	mg_arena_free(&arena);
	mg_program_free(&p);
	mg_config_free(&cfg);
	return rc ? 1 : 0;
}
