/* infer_types.c: re-derives every value's static type from the graph inputs, so later
 * passes may rewrite nodes and leave types to this pass. */
#include "passes.h"

int mg_pass_infer_types(struct mg_graph *g, struct mg_err *e) { return mg_graph_infer(g, e); }
