/* cli.c: option parsing and pipeline loading shared by `mgc run`, `mgc dump` and
 * `mgc compile`. */
#include <stdlib.h>
#include <string.h>

#include "../codegen/llvm.h"
#include "cli.h"

/* "96,96,96": up to max positive sizes into v; their count, or -1. */
static int parse_sizes(const char *s, int64_t *v, int max)
{
	int n = 0;
	for (;;) {
		char *end;
		long long x = strtoll(s, &end, 10);
		if (end == s || x < 1 || n == max)
			return -1;
		v[n++] = x;
		if (!*end)
			return n;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

int cli_parse(struct cli *c, const char *cmd, unsigned flags, int argc, char **argv)
{
	char prog[64];
	snprintf(prog, sizeof prog, "mgc %s", cmd);
	memset(c, 0, sizeof *c);
	runner_init(&c->run);
	c->step_opts.batch = 1;
	c->steps = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int rc = runner_opt(&c->run, prog, a);
		if (rc == 2)
			return rc;
		if (rc == 1) {
			int always = !strcmp(a, "--verbose") || !strcmp(a, "-v") ||
				     !strcmp(a, "--quiet") || !strcmp(a, "-q");
			if (!always && !(flags & CLI_RUNTIME))
				return fprintf(stderr, "%s: '%s' is an option of the compiled "
					       "executable, not of %s\n", prog, a, prog), 2;
		} else if (a[0] != '-') {
			if (c->nfiles == CLI_MAX)
				return fprintf(stderr, "%s: too many files\n", prog), 2;
			c->files[c->nfiles++] = a;
		} else if ((flags & CLI_OUTPUT) && strcmp(a, "-o") == 0) {
			if (++i == argc)
				return fprintf(stderr, "%s: -o needs a file name\n", prog), 2;
			c->output = argv[i];
		} else if ((flags & CLI_OUTPUT) && strcmp(a, "--plan-only") == 0) {
			c->plan_only = 1;
		} else if ((flags & CLI_OUTPUT) && strcmp(a, "--no-trace") == 0) {
			c->no_trace = 1;
		} else if ((flags & CLI_OUTPUT) && (v = runner_optval(a, "--sample"))) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || !eq[1])
				return fprintf(stderr, "%s: --sample wants KEY=FILE (an item key and "
					       "its file), not '%s'\n", prog, v), 2;
			if (c->nsamples == CLI_MAX)
				return fprintf(stderr, "%s: too many --sample\n", prog), 2;
			c->samples[c->nsamples++] = v;
		} else if ((flags & CLI_STEP) && (v = runner_optval(a, "--step"))) {
			if (strcmp(v, "train") != 0 && strcmp(v, "eval") != 0)
				return fprintf(stderr, "%s: --step is train or eval, not '%s'\n", prog,
					       v), 2;
			c->step = 1;
			c->step_opts.training = v[0] == 't';
		} else if ((flags & CLI_STEP) && (v = runner_optval(a, "--batch"))) {
			if (parse_sizes(v, &c->step_opts.batch, 1) != 1)
				return fprintf(stderr, "%s: --batch wants a positive integer, not '%s'\n",
					       prog, v), 2;
		} else if ((flags & CLI_STEP) && (v = runner_optval(a, "--patch"))) {
			if ((c->step_opts.nspatial = parse_sizes(v, c->step_opts.spatial, 3)) < 1)
				return fprintf(stderr, "%s: --patch wants 1 to 3 positive sizes, as "
					       "96,96,96, not '%s'\n", prog, v), 2;
		} else if ((flags & CLI_STEP) && (flags & CLI_RUNTIME) &&
			   (v = runner_optval(a, "--steps"))) {
			int64_t k;
			if (parse_sizes(v, &k, 1) != 1 || k > 1000000)
				return fprintf(stderr, "%s: --steps wants a positive integer, not '%s'\n",
					       prog, v), 2;
			c->steps = (int)k;
		} else if ((flags & CLI_STEP) && (flags & CLI_RUNTIME) &&
			   (v = runner_optval(a, "--weights"))) {
			c->weights = v;
		} else if ((flags & CLI_STEP) && (flags & CLI_RUNTIME) &&
			   (v = runner_optval(a, "--save"))) {
			c->save = v;
		} else if ((flags & CLI_OUTPUT) && (v = runner_optval(a, "--target-cpu"))) {
			c->target_cpu = v;
		} else if ((v = runner_optval(a, "--run_id"))) {
			c->run_id = v;
		} else if ((v = runner_optval(a, "--after"))) {
			c->after = v;
		} else if ((v = runner_optval(a, "--disable"))) {
			c->disable = v;
		} else if ((v = runner_optval(a, "--backend"))) {
			if (strcmp(v, "ref") != 0 && strcmp(v, "llvm") != 0)
				return fprintf(stderr, "%s: unknown backend '%s' (llvm or ref)\n",
					       prog, v), 2;
			c->ref = strcmp(v, "ref") == 0;
		} else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && a[2] != '=') {
			if (c->noverrides == CLI_MAX)
				return fprintf(stderr, "%s: too many overrides\n", prog), 2;
			c->overrides[c->noverrides++] = a + 2;
		} else {
			fprintf(stderr, "%s: unknown option '%s' (overrides are --key=value)\n",
				prog, a);
			return 2;
		}
	}
	if (c->nfiles == 0) {
		fprintf(stderr, "%s: no pipeline file given (try %s --help)\n", prog, prog);
		return 2;
	}
	return 0;
}

/* The default: "dataset", else the first top-level or section-level dataset. */
static const char *default_run_id(const struct mg_config *cfg)
{
	static const char *const ids[] = {"dataset", "train#dataset", "validate#dataset",
					  "preprocessing"};
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		if (mg_config_get(cfg, ids[i]))
			return ids[i];
	return "dataset";
}

int cli_load(const struct cli *c, struct mg_config *cfg, struct mg_program *p, FILE *dump,
	     struct mg_err *e)
{
	int rc = mg_config_load(cfg, c->files, c->nfiles, c->overrides, c->noverrides, e);
	if (rc)
		return rc;
	if (c->step && (rc = mg_step_build(cfg, &c->step_opts, &p->graph, NULL, e)))
		return rc;
	if (!c->step && (rc = mg_program_build(cfg, c->run_id ? c->run_id : default_run_id(cfg), p, e)))
		return rc;
	struct mg_pass_opts po = {.dump_after = c->after, .dump = dump,
				  .timing = c->run.verbose ? stderr : NULL, .disable = c->disable};
	return mg_passes_run(p->graph, &po, e);
}

void cli_jit_report(const struct mg_jit *jit)
{
	int nk;
	double s;
	mg_jit_stats(jit, &nk, &s);
	fprintf(stderr, "llvm: %d kernels compiled in %.1f ms\n", nk, s * 1e3);
}
