/* mgc.c: the command line's entry point: dispatches to one subcommand per file. */
#include <string.h>

#include "mgc.h"
#include <stdio.h>

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *doc;
} cmds[] = {
	{"run", mgc_run, "run a pipeline over its datalist"},
	{"compile", mgc_compile, "compile a pipeline into one executable (no LLVM at run time)"},
	{"dump", mgc_dump, "print a pipeline's graph IR (--after=PASS)"},
	{"info", mgc_info, "print a NIfTI file's header, affine, orientation and values"},
	{"synth", mgc_synth, "write a synthetic CT dataset in the Decathlon layout"},
	{"ops", mgc_ops, "list the ops, their arguments and defaults"},
};

static void usage(FILE *f)
{
	fputs("usage: mgc COMMAND [ARGS...]\n\nmgc compiles MONAI-style pipelines (bundle "
	      "configs) for medical imaging.\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].doc);
	fputs("\n`mgc COMMAND --help` describes each. Docs: docs/pipeline-format.md.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mgc: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
