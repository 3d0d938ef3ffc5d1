/* dump.c: `mgc dump PIPELINE... [--after=PASS]`: the graph IR as text. */
#include <string.h>

#include "cli.h"
#include "mgc.h"

static const char usage[] =
	"usage: mgc dump PIPELINE.json... [--after=PASS] [--disable=PASS,...] [--run_id=ID]\n"
	"                [--step=train|eval [--batch=N] [--patch=X,Y,Z]] [--key#path=value...]\n"
	"\n"
	"Prints the graph IR of a pipeline: as the frontend built it (default), or after\n"
	"the named pass. By default the graph is the dataset's transforms (--run_id picks\n"
	"the dataset); --step=train is one training step of the bundle's network_def and\n"
	"loss on a batch of N images (default 1) of the spatial size --patch (default: the\n"
	"bundle metadata's _meta_#network_data_format#inputs#image#spatial_shape), whose\n"
	"gradients the autodiff pass adds; --step=eval is the network's forward alone.\n"
	"Passes, in order:\n";

int mgc_dump(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		for (int i = 0; i < mg_npasses; i++)
			printf("  %-16s %s\n", mg_passes[i].name, mg_passes[i].doc);
		return 0;
	}
	struct cli c;
	int rc = cli_parse(&c, "dump", CLI_RUNTIME | CLI_STEP, argc, argv);
	if (rc)
		return rc;
	if (!c.after)
		c.after = "frontend";
	struct mg_err e = {0};
	struct mg_config cfg = {0};
	struct mg_program p = {0};
	rc = cli_load(&c, &cfg, &p, stdout, &e);
	if (rc)
		fprintf(stderr, "mgc dump: %s\n", e.msg);
	mg_program_free(&p);
	mg_config_free(&cfg);
	return rc ? 1 : 0;
}
