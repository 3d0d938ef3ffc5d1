/* trace.h: finding the kernels a compiled pipeline needs, for `mgc compile` (compile.c).
 * Kernel IR depends on run-time dtypes, ranks and layouts, so the kernels are traced: the
 * plan that will be shipped runs on one item with a recording backend around the JIT.
 * Read next: trace.c, ir/kir_table.h; docs/compile.md. */
#ifndef MGC_TRACE_H
#define MGC_TRACE_H

#include "../ir/kir_table.h"
#include "cli.h"

/* Runs the plan in blob (as the executable reads it: compiled parameter values) on
 * c's --sample item, else its datalist's first item, with rec (initialised here; the
 * caller frees it, even on failure) recording each distinct kernel. Files the run would
 * write go to a temporary folder, removed after. Errors say which item failed and name
 * --sample and --no-trace. */
int trace_kernels(const struct cli *c, const void *blob, size_t n,
		  struct mg_kir_recorder *rec, struct mg_err *e);

#endif
