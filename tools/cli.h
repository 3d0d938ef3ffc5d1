/* cli.h: what `mgc run` and `mgc dump` share: their options, and loading a pipeline
 * into a graph that has been through the passes. */
#ifndef MGC_CLI_H
#define MGC_CLI_H

#include "../frontend/build.h"
#include "../passes/passes.h"

#define CLI_MAX 64

struct cli {
	int nfiles, noverrides;
	const char *files[CLI_MAX];
	const char *overrides[CLI_MAX];
	const char *run_id;  /* NULL: "dataset", else the first dataset found */
	const char *after;   /* dump after this pass */
	const char *disable; /* passes not to run, comma-separated */
	int threads, gz_level, verbose, quiet;
	long first, count;
};

/* Options are --name=value; --run_id, --threads, --backend, --gz_level, --items=A:B,
 * --after, --disable, --verbose, --quiet and --help are mgc's; any other --key=value overrides the
 * config at that key. Returns 0, or 2 after printing a usage error. */
int cli_parse(struct cli *c, const char *cmd, int argc, char **argv);
/* Loads the config files, builds the program at run_id and runs the passes. */
int cli_load(const struct cli *c, struct mg_config *cfg, struct mg_program *p,
	     FILE *dump, struct mg_err *e);

#endif
