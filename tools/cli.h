/* cli.h: what `mgc run`, `mgc dump` and `mgc compile` share: their options, and loading
 * a pipeline into a graph that has been through the passes. */
#ifndef MGC_CLI_H
#define MGC_CLI_H

#include "../frontend/build.h"
#include "../frontend/step.h"
#include "../passes/passes.h"
#include "standalone/runner.h"

#define CLI_MAX 64

struct cli {
	int nfiles, noverrides;
	const char *files[CLI_MAX];
	const char *overrides[CLI_MAX];
	const char *run_id;  /* NULL: "dataset", else the first dataset found */
	const char *after;   /* dump after this pass */
	const char *disable; /* passes not to run, comma-separated */
	int ref;             /* --backend=ref: reference kernels only (default: llvm) */
	struct runner run;   /* run-time options (--threads, --items, --verbose ...) */
	const char *output;  /* -o NAME (compile) */
	int plan_only;       /* --plan-only (compile) */
	int no_trace;        /* --no-trace (compile): no generated kernels linked */
	int nsamples;        /* --sample=KEY=FILE (compile): the item tracing runs on */
	const char *samples[CLI_MAX];
	int step;            /* --step=train|eval: the network's step, not the dataset */
	struct mg_step_opts step_opts; /* --batch=N, --patch=X,Y,Z */
	int steps;           /* --steps=K (run): steps to run */
	const char *weights; /* --weights=FILE (run): a safetensors checkpoint; NULL: init */
	const char *save;    /* --save=FILE (run): the weights after the last step */
	const char *target_cpu; /* --target-cpu=NAME (compile): NULL, the host */
};

enum {
	CLI_RUNTIME = 1, /* run-time options other than --verbose and --quiet are taken */
	CLI_OUTPUT = 2,  /* -o NAME, --plan-only, --no-trace, --sample, --target-cpu are taken */
	CLI_STEP = 4,    /* --step, --batch and --patch are taken (and, with CLI_RUNTIME,
			  * --steps, --weights and --save) */
};

/* Options are --name=value; --run_id, --backend, --after, --disable, (with CLI_STEP)
 * --step, --batch and --patch, the run-time options
 * (runner.h; those besides --verbose and --quiet only with CLI_RUNTIME in flags) and,
 * with CLI_OUTPUT, -o NAME, --plan-only, --no-trace, --sample=KEY=FILE and
 * --target-cpu=NAME are mgc's; any other --key=value overrides the config at that key.
 * Returns 0, or 2 after printing a usage error. */
int cli_parse(struct cli *c, const char *cmd, unsigned flags, int argc, char **argv);
/* Loads the config files, builds the program at run_id (with --step: the network's step,
 * p->graph alone) and runs the passes. */
int cli_load(const struct cli *c, struct mg_config *cfg, struct mg_program *p,
	     FILE *dump, struct mg_err *e);

struct mg_jit;
/* The --verbose line on the JIT's work: "llvm: N kernels compiled in T ms" (stderr). */
void cli_jit_report(const struct mg_jit *jit);

/* `mgc run --step`: c->steps steps of the step graph g (through the passes) on a batch
 * made from the seed, reporting each step's time and loss on stdout (step.c). */
int cli_run_step(const struct cli *c, const struct mg_graph *g, struct mg_err *e);

#endif
