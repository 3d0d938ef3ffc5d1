/* cli.c: option parsing shared by `mgc run` and `mgc dump`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *opt(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int number(const char *cmd, const char *name, const char *v, long lo, long hi,
		  long *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (*v == 0 || *end != 0 || x < lo || x > hi) {
		fprintf(stderr, "mgc %s: %s wants an integer in %ld..%ld, not '%s'\n", cmd, name,
			lo, hi, v);
		return 2;
	}
	*out = x;
	return 0;
}

int cli_parse(struct cli *c, const char *cmd, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	c->gz_level = 1;
	c->count = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		long x = 0;
		int rc = 0;
		if (a[0] != '-') {
			if (c->nfiles == CLI_MAX)
				return fprintf(stderr, "mgc %s: too many files\n", cmd), 2;
			c->files[c->nfiles++] = a;
		} else if ((v = opt(a, "--run_id"))) {
			c->run_id = v;
		} else if ((v = opt(a, "--after"))) {
			c->after = v;
		} else if ((v = opt(a, "--disable"))) {
			c->disable = v;
		} else if ((v = opt(a, "--backend"))) {
			if (strcmp(v, "ref") != 0)
				return fprintf(stderr, "mgc %s: backend '%s' is not built yet (ref)\n",
					       cmd, v), 2;
		} else if ((v = opt(a, "--threads"))) {
			rc = number(cmd, "--threads", v, 0, 1024, &x);
			c->threads = (int)x;
		} else if ((v = opt(a, "--gz_level"))) {
			rc = number(cmd, "--gz_level", v, 1, 9, &x);
			c->gz_level = (int)x;
		} else if ((v = opt(a, "--items"))) {
			char *colon = strchr(v, ':');
			char buf[64];
			snprintf(buf, sizeof buf, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
			rc = number(cmd, "--items", buf[0] ? buf : "0", 0, LONG_MAX, &c->first);
			if (!rc && colon && colon[1]) {
				rc = number(cmd, "--items", colon + 1, c->first, LONG_MAX, &x);
				c->count = x - c->first;
			} else if (!rc && !colon) {
				c->count = 1;
			}
		} else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			c->verbose = 1;
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			c->quiet = 1;
		} else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && a[2] != '=') {
			if (c->noverrides == CLI_MAX)
				return fprintf(stderr, "mgc %s: too many overrides\n", cmd), 2;
			c->overrides[c->noverrides++] = a + 2;
		} else {
			fprintf(stderr, "mgc %s: unknown option '%s' (overrides are --key=value)\n",
				cmd, a);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (c->nfiles == 0) {
		fprintf(stderr, "mgc %s: no pipeline file given (try mgc %s --help)\n", cmd, cmd);
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
	if ((rc = mg_program_build(cfg, c->run_id ? c->run_id : default_run_id(cfg), p, e)))
		return rc;
	struct mg_pass_opts po = {.dump_after = c->after, .dump = dump,
				  .timing = c->verbose ? stderr : NULL, .disable = c->disable};
	return mg_passes_run(p->graph, &po, e);
}
