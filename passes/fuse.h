/* fuse.h: the machinery the fusion passes share (fuse.c). A pass says which nodes may
 * be members and which op holds a fused run; mg_fuse_runs finds the runs along the
 * dataflow and replaces each by one node whose one attribute is the chain of members.
 * Read next: fuse.c, fuse_spatial.c, fuse_elementwise.c. */
#ifndef MG_FUSE_H
#define MG_FUSE_H

#include "passes.h"

struct mg_fuse {
	const char *pass; /* the pass's name, for messages: "fuse-spatial" */
	enum mg_op op;    /* the fused op; its only attribute is an MG_ATTR_CHAIN */
	/* Whether node n may be a member of a run. Nodes of the fused op itself and nodes
	 * with other than one input and one output are never members (fuse.c checks). */
	int (*joins)(const struct mg_graph *g, int32_t n);
};

/* Replaces every run of two or more member nodes on one value by one node of f->op. A
 * node joins its predecessor's run when it is the only reader of the predecessor's
 * output (a graph output counts as a reader) and both agree on allow_missing_keys. */
int mg_fuse_runs(struct mg_graph *g, const struct mg_fuse *f, struct mg_err *e);

#endif
