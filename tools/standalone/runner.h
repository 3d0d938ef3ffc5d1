/* runner.h: what `mgc run` and a compiled pipeline (main.c) share: the run-time options
 * and running a plan over a datalist with them. Uses runtime/ only, so a compiled
 * pipeline links no compiler. Read next: runner.c, ../run.c, main.c. */
#ifndef MG_RUNNER_H
#define MG_RUNNER_H

#include "../../runtime/plan.h"

struct runner {
	int threads, gz_level, verbose, quiet;
	long first, count; /* count < 0: to the end */
	struct mg_backend *backend; /* generated kernels; NULL: reference kernels only */
};

/* The options' lines for --help. */
extern const char runner_usage[];

void runner_init(struct runner *r);
/* The value of arg when it is "<name>=value", else NULL. */
const char *runner_optval(const char *arg, const char *name);
/* One argument: 1 when it is a run-time option (--threads, --items, --gz_level, --verbose,
 * --quiet), read into r; 0 when it is not one; 2 after printing a usage error that
 * starts with prog ("mgc run: --threads wants ..."). */
int runner_opt(struct runner *r, const char *prog, const char *arg);
/* The pool a backend's kernels split over, for a run of nitems items: every core when
 * items do not run in parallel (one thread, or one item), else NULL (each kernel runs
 * in its item's thread: the executor's pool is busy with items). mg_pool_free it. */
struct mg_pool *runner_kernel_pool(const struct runner *r, long nitems);
/* Runs p over dl as r says, with a progress line on a terminal, the kernels' logs
 * (DataStats, SaveImage) on stdout unless quiet, a closing "done" line and, with verbose,
 * each step's calls, time and data made on stderr. */
int runner_run(const struct mg_plan *p, const struct mg_datalist *dl, const struct runner *r,
	       struct mg_err *e);
/* The --verbose profile: one line per step, totals over all items (with several threads
 * the times add up across them). */
void runner_print_stats(const struct mg_plan *p, const struct mg_step_stats *st, FILE *f);

#endif
