/* run.c: `mgc run PIPELINE... [--key=value...]`: builds the pipeline's graph and runs it
 * over its datalist with the reference executor. */
#include <string.h>

#include "../codegen/llvm.h"
#include "cli.h"
#include "mgc.h"

static const char usage[] =
	"usage: mgc run PIPELINE.json... [options] [--key#path=value...]\n"
	"\n"
	"Runs a pipeline (a MONAI bundle config) over its datalist. Later files override\n"
	"earlier ones; --key#path=value overrides one entry (value as JSON, else a string).\n"
	"--verbose also prints the passes' timings.\n"
	"\n"
	"options:\n"
	"  --run_id=ID     the dataset component to run (default: dataset, train#dataset...)\n"
	"  --backend=B     llvm (default: generated kernels, JIT-compiled for this CPU, for the\n"
	"                  ops that have them; reference kernels for the rest) or ref\n"
	"  --disable=P,Q   skip these passes (e.g. fuse-spatial; see mgc dump --help)\n"
	"  --step=S        train or eval: instead of the dataset, run the bundle's network\n"
	"                  step (network_def, and loss for train; mgc dump --help) on a\n"
	"                  batch made from a seed: image uniform in [0, 1), label random\n"
	"                  classes; prints each step's time and loss (--verbose: time per op\n"
	"                  and the JIT's compile time). With an optimizer in the bundle each\n"
	"                  step updates the weights (and the running statistics), and the\n"
	"                  next step starts from them.\n"
	"  --batch=N       the step's batch size (default 1)\n"
	"  --patch=X,Y,Z   its spatial size (default: the bundle metadata's spatial_shape)\n"
	"  --steps=K       steps to run (default 3)\n"
	"  --weights=FILE  a safetensors checkpoint (MONAI's state_dict names; docs/weights.md);\n"
	"                  default: PyTorch's initialisation\n"
	"  --save=FILE     write the weights after the last step to FILE (safetensors with\n"
	"                  MONAI's state_dict keys: MONAI loads it with load_state_dict)\n";

int mgc_run(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(usage, stdout), fputs(runner_usage, stdout), 0;
	struct cli c;
	int rc = cli_parse(&c, "run", CLI_RUNTIME | CLI_STEP, argc, argv);
	if (rc)
		return rc;
	struct mg_err e = {0};
	struct mg_config cfg = {0};
	struct mg_program p = {0};
	struct mg_arena arena = {0};
	struct mg_plan *plan = NULL;
	double t0 = mg_now();
	rc = cli_load(&c, &cfg, &p, stdout, &e);
	if (!rc && c.step) {
		rc = cli_run_step(&c, p.graph, &e);
		goto done;
	}
	if (!rc)
		rc = mg_program_load_data(&p, &e);
	if (!rc)
		rc = mg_graph_lower(p.graph, &arena, &plan, &e);
	if (!rc && c.run.verbose)
		fprintf(stderr, "compiled %d nodes in %.1f ms; %d items\n", p.graph->nnodes,
			(mg_now() - t0) * 1e3, p.data.n);
	struct mg_jit *jit = NULL;
	struct mg_jit_backend jb;
	struct mg_pool *kpool = NULL;
	if (!rc && !c.ref && (jit = mg_jit_new(&e))) {
		kpool = runner_kernel_pool(&c.run, p.data.n);
		mg_jit_backend_init(&jb, jit, kpool);
		c.run.backend = &jb.b;
	} else if (!rc && !c.ref) {
		rc = e.code;
	}
	if (!rc)
		rc = runner_run(plan, &p.data, &c.run, &e);
	if (!rc && jit && c.run.verbose)
		cli_jit_report(jit);
	mg_pool_free(kpool);
	mg_jit_free(jit);
done:
	if (rc)
		fprintf(stderr, "mgc run: %s\n", e.msg);
	mg_arena_free(&arena);
	mg_program_free(&p);
	mg_config_free(&cfg);
	return rc ? 1 : 0;
}
