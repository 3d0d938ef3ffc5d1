/* optim.h: what the optimizer ops (Adam, AdamW, SGD) share. An optimizer op updates one
 * parameter: inputs (param, grad, state...), outputs (param', state'...), the state's
 * names given by its opdef's `state` (the optimizer pass makes them graph inputs
 * "<param>.<name>", zeros at the start, and outputs "<param>.<name>.new"). Its kernel
 * reads every operand as float64 (any strides and float dtype) and writes dense
 * tensors of the parameter's dtype; "step" is a float32 scalar, as torch keeps it.
 * Read next: adam.c, sgd.c, passes/optimizer.c. */
#ifndef MG_OPTIM_H
#define MG_OPTIM_H

#include "op.h"

/* The per-element update: x[0..nin) the operands' float64 arrays (param, grad, state
 * in the op's order; the step's one value is x[..][0]), y[0..nout) the outputs', all
 * n elements long; step the step number after this update (1 on the first). */
typedef void (*mg_optim_fn)(const struct mg_attr *a, double step, int64_t n,
			    const double *const *x, double *const *y);

/* The kernel of an optimizer op of nin inputs and nout outputs: converts, calls fn,
 * and stores; the input named "step" (at index istep, < 0: none) advances by one. */
int mg_optim_kernel(const char *op, mg_optim_fn fn, int istep, struct mg_val *in, int nin,
		    struct mg_val *out, int nout, const struct mg_attr *a, struct mg_kctx *k);
/* The type rule: every input but the step has the param's shape and a float dtype;
 * outputs: the param's type for each but the step's, a float32 scalar for it. */
int mg_optim_infer(const char *op, int istep, const struct mg_type *in, int nin,
		   struct mg_type *out, int nout, struct mg_err *e);

#endif
