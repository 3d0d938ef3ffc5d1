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

/* The generated update of one output (never the step's): its node in k from the
 * operands' nodes x[0..nin) (float32; x[istep] is -1), the values computed from the
 * attributes and the step t entering as parameters (mg_gen_param into pv). torch's
 * float32 arithmetic: its scalars rounded to float32, and its fused multiply-adds
 * (add with alpha, lerp and addcmul on CPU use vec::fmadd) as mg_optim_fma. */
typedef int32_t mg_optim_emit_fn(const struct mg_attr *a, struct mg_kir *k, double *pv,
				 double t, const int32_t *x, int out);
/* a b + c for float32 nodes with one rounding of the sum (the product is exact in
 * float64; the sum rounded to float64 then float32, which differs from a true fma only
 * on double-rounding ties). */
int32_t mg_optim_fma(struct mg_kir *k, int32_t a, int32_t b, int32_t c);
/* The op's gen kernel: one generated kernel per output (each recomputes the cheap
 * update) when k has a backend and every operand is a float32 tensor (rank-1 views when
 * all share the parameter's dense layout, else the parameter's rank up to
 * MG_KMAX_RANK); else mg_optim_kernel with fn. Outputs are laid out as the parameter. */
int mg_optim_gen(const char *op, mg_optim_fn fn, mg_optim_emit_fn *emit, int istep,
		 struct mg_val *in, int nin, struct mg_val *out, int nout,
		 const struct mg_attr *a, struct mg_kctx *k);

#endif
