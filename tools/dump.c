/* dump.c: `mgc dump PIPELINE... [--after=PASS]`: the graph IR as text. */
#include <string.h>

#include "cli.h"
#include "mgc.h"

static const char usage[] =
	"usage: mgc dump PIPELINE.json... [--after=PASS] [--disable=PASS,...] [--run_id=ID]\n"
	"                [--key#path=value...]\n"
	"\n"
	"Prints the graph IR of a pipeline: as the frontend built it (default), or after\n"
	"the named pass. Passes, in order:\n";

int mgc_dump(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		for (int i = 0; i < mg_npasses; i++)
			printf("  %-16s %s\n", mg_passes[i].name, mg_passes[i].doc);
		return 0;
	}
	struct cli c;
	int rc = cli_parse(&c, "dump", CLI_RUNTIME, argc, argv);
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
