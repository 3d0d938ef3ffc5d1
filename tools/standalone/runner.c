/* runner.c: the run-time options of `mgc run` and of compiled pipelines, and running a
 * plan over a datalist with them (the executor plus its progress, logs and profile). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

const char runner_usage[] =
	"  --threads=N     items processed at once (default: one per core)\n"
	"  --items=A:B     only items A..B-1 of the datalist (--items=A: just item A)\n"
	"  --gz_level=N    zlib level for .nii.gz outputs, 1-9 (default 1: fast)\n"
	"  --verbose       per step: calls, time in the kernel and MB of data it made (views\n"
	"                  make none); --quiet: no progress line, no logs\n";

void runner_init(struct runner *r)
{
	memset(r, 0, sizeof *r);
	r->gz_level = 1;
	r->count = -1;
}

const char *runner_optval(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int number(const char *prog, const char *name, const char *v, long lo, long hi,
		  long *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (*v == 0 || *end != 0 || x < lo || x > hi) {
		fprintf(stderr, "%s: %s wants an integer in %ld..%ld, not '%s'\n", prog, name, lo,
			hi, v);
		return 2;
	}
	*out = x;
	return 0;
}

int runner_opt(struct runner *r, const char *prog, const char *a)
{
	const char *v;
	long x = 0;
	int rc = 0;
	if ((v = runner_optval(a, "--threads"))) {
		rc = number(prog, "--threads", v, 0, 1024, &x);
		r->threads = (int)x;
	} else if ((v = runner_optval(a, "--gz_level"))) {
		rc = number(prog, "--gz_level", v, 1, 9, &x);
		r->gz_level = (int)x;
	} else if ((v = runner_optval(a, "--items"))) {
		char *colon = strchr(v, ':');
		char buf[64];
		snprintf(buf, sizeof buf, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
		rc = number(prog, "--items", buf[0] ? buf : "0", 0, LONG_MAX, &r->first);
		if (!rc && colon && colon[1]) {
			rc = number(prog, "--items", colon + 1, r->first, LONG_MAX, &x);
			r->count = x - r->first;
		} else if (!rc && !colon) {
			r->count = 1;
		}
	} else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
		r->verbose = 1;
	} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
		r->quiet = 1;
	} else {
		return 0;
	}
	return rc ? rc : 1;
}

struct mg_pool *runner_kernel_pool(const struct runner *r, long nitems)
{
	long n = r->count >= 0 ? r->count : nitems - r->first;
	return r->threads == 1 || n == 1 ? mg_pool_new(r->threads == 1 ? 1 : 0) : NULL;
}

void runner_print_stats(const struct mg_plan *p, const struct mg_step_stats *st, FILE *f)
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

int runner_run(const struct mg_plan *p, const struct mg_datalist *dl, const struct runner *r,
	       struct mg_err *e)
{
	struct mg_step_stats *stats = NULL;
	if (r->verbose && !(stats = calloc((size_t)p->nsteps + 1, sizeof *stats)))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	struct mg_exec_opts o = {
		.nthreads = r->threads,
		.log = r->quiet ? NULL : stdout,
		.progress = r->quiet || !isatty(2) ? NULL : stderr,
		.gz_level = r->gz_level,
		.first = r->first,
		.count = r->count,
		.stats = stats,
		.backend = r->backend,
	};
	double t0 = mg_now();
	int rc = mg_exec_run(p, dl, &o, e);
	if (!rc && !r->quiet)
		fprintf(stderr, "done: %lld items in %.2f s\n",
			(long long)(r->count < 0 ? dl->n - r->first : r->count), mg_now() - t0);
	if (!rc && stats)
		runner_print_stats(p, stats, stderr);
	free(stats);
	return rc;
}
