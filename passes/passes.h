/* passes.h: graph -> graph rewrites, each one file with one entry point, walked in order
 * by one driver that verifies after every pass, times it and dumps where asked; no pass
 * carries its own dump code. Read next: driver.c. */
#ifndef MG_PASSES_H
#define MG_PASSES_H

#include "../ir/ir.h"

struct mg_pass {
	const char *name;
	const char *doc;
	int (*run)(struct mg_graph *g, struct mg_err *e);
};

int mg_pass_autodiff(struct mg_graph *g, struct mg_err *e);
int mg_pass_optimizer(struct mg_graph *g, struct mg_err *e);
int mg_pass_layout(struct mg_graph *g, struct mg_err *e);
int mg_pass_infer_types(struct mg_graph *g, struct mg_err *e);
int mg_pass_fuse_spatial(struct mg_graph *g, struct mg_err *e);
int mg_pass_fuse_elementwise(struct mg_graph *g, struct mg_err *e);

extern const struct mg_pass mg_passes[];
extern const int mg_npasses;

struct mg_pass_opts {
	const char *dump_after; /* "frontend" or a pass name; NULL: no dump */
	FILE *dump;
	FILE *timing; /* per-pass times; NULL: none */
	const char *disable; /* comma-separated names of passes not to run */
};

/* Verifies the frontend's graph, then runs every pass not disabled. An unknown name in
 * dump_after or disable is an error that lists the pass names. */
int mg_passes_run(struct mg_graph *g, const struct mg_pass_opts *o, struct mg_err *e);

#endif
