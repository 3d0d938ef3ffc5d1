/* nn_act.h: what the activation ops (ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh,
 * Softmax, Dropout) and their gradient ops share (nn_act.c): the float32/float64 input
 * checks and type rules, the per-voxel maps of a forward op (one operand) and of a
 * gradient op (two: x or y, and dy), float64 working copies, and the gradient rule of a
 * unary op. Every kernel computes in float64 and rounds once to the input's dtype.
 * Read next: relu.c (the shortest), softmax.c, prelu.c, dropout.c. */
#ifndef MG_NN_ACT_H
#define MG_NN_ACT_H

#include "intensity.h"

/* An activation's operand (a kernel's input `what` of op): a tensor of float32 or
 * float64; other dtypes are refused naming op and operand. */
int mg_act_input(const char *op, const char *what, const struct mg_val *v, struct mg_err *e);

/* The type rule of an op of n operands (n >= 1) that all have the same float dtype and,
 * for n > 1 with same_shape, the same dims (a gradient op's x or y and dy); out[0] gets
 * in[0]'s type. Errors name op and the operand. */
int mg_act_infer(const char *op, int n, int same_shape, const struct mg_type *in,
		 struct mg_type *out, struct mg_err *e);

/* A forward op's kernel: y = f(a, x) per voxel into a new y laid out as x, x's dtype and
 * meta (mg_map_new with the attributes as context). */
int mg_act_map(const char *op, const struct mg_attr *a, mg_map_fn *f, struct mg_val *in,
	       struct mg_val *out, struct mg_kctx *k);

/* dx = f(a, v, dy) per voxel: a gradient op's kernel on in[0] = v (x or y, as the op
 * says) and in[1] = dy of one shape and dtype; dx laid out as v, with its meta. */
typedef double mg_act_grad_fn(const struct mg_attr *a, double v, double dy);
int mg_act_map2(const char *op, const struct mg_attr *a, mg_act_grad_fn *f, struct mg_val *in,
		struct mg_val *out, struct mg_kctx *k);

/* dx = f(a, v, dy) for one voxel in kernel IR (v and dy nodes of dtype dt, float32 or
 * float64), with the roundings of the op's mg_act_grad_fn: the node of dx in dt. */
typedef int32_t mg_act_emit2_fn(const struct mg_attr *a, struct mg_kir *k, int32_t v,
				int32_t dy, enum mg_dtype dt);
/* A gradient op's gen kernel: one generated kernel dx = emit(v, dy) laid out as v when k
 * has a backend and the operands are float32 or float64 tensors of one shape and dtype
 * that kernel IR can address; else the op's ref (mg_act_map2 with f), which also
 * reports bad operands. */
int mg_act_gen2(const char *op, const struct mg_attr *a, mg_act_emit2_fn *emit,
		mg_act_grad_fn *f, struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* Runs kir, a kernel whose tensor 0 is the output and tensors 1.. are in[0], in[1] ...
 * (tensors of kir's rank; the output laid out as in[0], its dtype and meta), with the
 * parameters p[0 .. kir->nparams), into out[0]. MG_ERR_UNSUPPORTED (out untouched, the
 * error set) when the backend has no code for it: the caller then runs its reference
 * kernel. */
int mg_act_run(struct mg_kir *kir, const struct mg_val *in, const double *p,
	       struct mg_val *out, struct mg_kctx *k);

/* The gradient rule of a unary op whose gradient op `grad_op` reads (x, dy), or (y, dy)
 * when use_y (torch reuses the output for ReLU, Sigmoid, Tanh, Softmax), with the
 * forward node's attributes. */
int mg_act_grad(struct mg_grad *c, int grad_op, int use_y);

/* A contiguous float64 copy of t in *f (the caller releases it); its data. NULL with e
 * set on failure. */
double *mg_act_f64(const struct mg_tensor *t, struct mg_tensor *f, struct mg_err *e);

/* The kernel's last step for a result computed in the contiguous float64 f: a new
 * tensor laid out as `like` in like's dtype, f's values rounded once, set as out with
 * like's meta; f is released either way. */
int mg_act_result(struct mg_tensor *f, const struct mg_tensor *like, struct mg_val *out,
		  struct mg_err *e);

/* Add's and Mul's kernel (binary.c): y = f(NULL, a, b) per element of two operands of one
 * float dtype broadcast as torch, computed in float64. */
int mg_binary_kernel(const char *op, mg_act_grad_fn *f, struct mg_val *in, struct mg_val *out,
		     struct mg_kctx *k);
/* Their gen kernel: one generated kernel y = emit(a, b) when the operands have one shape
 * (the activations' two-operand runner, nn_act.h), else the reference kernel. emit must
 * round as f does: one add or multiply of float32 operands does (double rounding from 53
 * bits to 24 is exact for + and *). */
int mg_binary_gen(const char *op, mg_act_grad_fn *f, mg_act_emit2_fn *emit, struct mg_val *in,
		  struct mg_val *out, struct mg_kctx *k);

#endif
