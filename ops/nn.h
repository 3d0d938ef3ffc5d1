/* nn.h: what the network ops (Conv, ConvTranspose, Linear) share and export: their
 * geometry from attributes and shapes, the plain C reference kernels (float64
 * throughout: the oracle of the oneDNN path and of finite-difference gradient checks),
 * the forward and backward passes on tensors through either implementation, and the
 * oneDNN kernels a backend selects in place of the ops' `ref`.
 * Invariant: a ConvTranspose is computed as the backward data of the convolution with
 * the same geometry (struct mg_conv_geom, runtime/dnn.h), so one reference loop nest
 * and one oneDNN path serve both ops.
 * Read next: conv.c, conv_transpose.c, linear.c, runtime/dnn.h. */
#ifndef MG_NN_H
#define MG_NN_H

#include "../runtime/dnn.h"
#include "op.h"

/* The attributes Conv and ConvTranspose share, at these indexes in both. */
enum { MG_CONV_A_STRIDE, MG_CONV_A_PADDING, MG_CONV_A_DILATION, MG_CONV_A_GROUPS,
       MG_CONV_A_PADDING_MODE, MG_CONV_A_OUTPUT_PADDING /* ConvTranspose only */ };

/* The per-axis values of a list argument `arg` of op: one for every axis or one per
 * axis (sdim of them), each at least lo; errors name op and arg. */
int mg_nn_per_axis(const char *op, const char *arg, const struct mg_attr *a, int sdim,
		   int64_t lo, int64_t v[3], struct mg_err *e);
/* The dtype rule of the network ops: in[0..n) float32 or float64 (unknown passes), one
 * dtype for all; errors name op and the input. */
int mg_nn_float_operands(const char *op, const struct mg_type *in, int n, struct mg_err *e);

/* The geometry of a Conv (transposed 0) or ConvTranspose node of attributes a, from its
 * input's dims xd (rank 2 + sdim) and its weight's wd (rank 2 + sdim: sdim comes from
 * the weight) and the bias's length (-1: no bias), with torch's shape rules and torch's
 * checks; errors name op and the argument or operand. */
int mg_conv_geometry(const char *op, const struct mg_attr *a, int transposed, int xrank,
		     const int64_t *xd, int wrank, const int64_t *wd, int64_t nbias,
		     struct mg_conv_geom *g, struct mg_err *e);

/* The reference convolution on contiguous float64 arrays: big (n, cin, in...), w (cout,
 * cin/groups, k...), small (n, cout, out...). One loop nest computes all three products,
 * adding into the array that pass writes (zero it first):
 *   MG_DNN_FWD          small += conv(big, w)
 *   MG_DNN_BWD_DATA     big += conv^T(small, w)   (also a ConvTranspose's forward)
 *   MG_DNN_BWD_WEIGHTS  w += the weight gradient of <small, conv(big, w)> */
void mg_conv_ref(enum mg_dnn_pass pass, const struct mg_conv_geom *g, double *big, double *w,
		 double *small);
/* t (n, c, s elements each) += bias per channel; db[c] = the sum of dt over n and s. */
void mg_bias_add_ref(int64_t n, int64_t c, int64_t s, double *t, const double *bias);
void mg_bias_grad_ref(int64_t n, int64_t c, int64_t s, const double *dt, double *db);

/* One pass of a Conv (transposed: ConvTranspose) of geometry g on tensors of any
 * strides, into new tensors:
 *   MG_DNN_FWD          a = x, b = w, bias (NULL: none) -> out = y
 *   MG_DNN_BWD_DATA     a = dy, b = w -> out = dx
 *   MG_DNN_BWD_WEIGHTS  a = x, b = dy -> out = dw (torch's layout), *dbias when not NULL
 * dnn 0: the reference kernels (float32 or float64 data, float64 arithmetic); 1: oneDNN
 * (float32; operands with negative or zero strides are copied first). Activations come
 * out in the memory order of `like` (NULL: of `a`; a channels-last input gives a
 * channels-last output), in a's dtype: the Conv ops pass the forward's x for dx, so that
 * a data gradient has its input's layout (as torch's), whatever dy's. */
int mg_conv_compute(enum mg_dnn_pass pass, const struct mg_conv_geom *g, int transposed,
		    int dnn, const struct mg_tensor *a, const struct mg_tensor *b,
		    const struct mg_tensor *bias, struct mg_tensor *out, struct mg_tensor *dbias,
		    const struct mg_tensor *like, struct mg_err *e);

/* c (m, n) = a (m, k) b (k, n) (+ bias (n) when not NULL) in float64, operands read
 * through their strides (sa: a's row and column strides ...), c contiguous: Linear's
 * forward (b = W^T) and both of its backward products. */
void mg_matmul_ref(int64_t m, int64_t k, int64_t n, const double *a, const int64_t sa[2],
		   const double *b, const int64_t sb[2], const double *bias, double *c);

/* Linear (y = x W^T + b, x (..., in), W (out, in)) on tensors of any strides:
 *   MG_DNN_FWD          a = x, b = W, bias -> out = y (..., out)
 *   MG_DNN_BWD_DATA     a = dy, b = W -> out = dx (..., in)
 *   MG_DNN_BWD_WEIGHTS  a = x, b = dy -> out = dW (out, in), *dbias when not NULL
 * dnn as in mg_conv_compute. */
int mg_linear_compute(enum mg_dnn_pass pass, int dnn, const struct mg_tensor *a,
		      const struct mg_tensor *b, const struct mg_tensor *bias,
		      struct mg_tensor *out, struct mg_tensor *dbias, struct mg_err *e);

/* The ops' `gen` kernels (the same contract as their `ref`): oneDNN when the executor
 * has a backend (mgc run's default, llvm), oneDNN is there and the input is float32
 * (mg_nn_use_dnn); the reference kernels otherwise. */
int mg_nn_use_dnn(const struct mg_val *in, const struct mg_kctx *k);
/* t as an operand oneDNN can read: t itself, or when it has negative or zero strides (or
 * is a rank-1 tensor that is not dense) a contiguous copy in *tmp (the caller releases
 * it); NULL with e set when t is not float32 or the copy fails (NULL t: NULL). */
const struct mg_tensor *mg_nn_dnn_operand(const struct mg_tensor *t, struct mg_tensor *tmp,
					 struct mg_err *e);
int mg_conv_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k);
int mg_conv_transpose_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				 struct mg_kctx *k);
int mg_linear_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k);

/* What Conv and ConvTranspose share as ops (conv.c): the kernel and the type rule of a
 * pass, named op in messages. The forward (MG_DNN_FWD) reads (x, weight, bias?); the
 * gradient ops read BWD_DATA (x, weight, dy) -> dx and BWD_WEIGHTS (x, weight, dy,
 * bias?) -> dweight (, dbias): x and weight give the geometry. */
int mg_conv_kernel(const char *op, int transposed, enum mg_dnn_pass pass, int dnn,
		   const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k);
int mg_conv_infer(const char *op, int transposed, enum mg_dnn_pass pass,
		  const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		  struct mg_err *e);
/* The gradient rule of a (x, weight, bias?) op whose gradient ops read as the conv's
 * do (Conv, ConvTranspose, Linear): a data_op node for dx, a weight_op node for dweight
 * and dbias. */
int mg_conv_grad(struct mg_grad *c, int data_op, int weight_op);
/* A gradient op's kernels (fn_ref, fn_gen: the reference, oneDNN when the executor has
 * a backend) and type rule (fn_infer) for one pass. */
#define MG_CONV_PASS(fn, opname, transposed, pass)                                                         \
	static int fn##_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,    \
			    struct mg_kctx *k)                                                  \
	{                                                                                       \
		return mg_conv_kernel(opname, transposed, pass, 0, a, in, out, k);                       \
	}                                                                                       \
	static int fn##_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,    \
			    struct mg_kctx *k)                                                  \
	{                                                                                       \
		return mg_conv_kernel(opname, transposed, pass, mg_nn_use_dnn(in, k), a, in, out, k);    \
	}                                                                                       \
	static int fn##_infer(const struct mg_attr *a, const struct mg_type *in,               \
			      struct mg_type *out, struct mg_err *e)                            \
	{                                                                                       \
		return mg_conv_infer(opname, transposed, pass, a, in, out, e);                           \
	}

/* ---- what every network op shares (binary.c) ---- */

/* The network ops' dtype check: float32 or float64 (or not known yet, < 0); errors name
 * op and the operand (what). */
int mg_nn_dtype(const char *op, const char *what, int dtype, struct mg_err *e);
/* Add's and Mul's type rule: two operands of one float dtype broadcast as torch (their
 * kernels: nn_act.h). */
int mg_binary_infer(const char *op, const struct mg_type *in, struct mg_type *out,
		    struct mg_err *e);
/* In a gradient rule of a broadcasting op: v (a gradient of y[0]'s shape) summed down to
 * input i's shape, a SumTo node when the shapes differ; -1 on failure. */
int32_t mg_grad_sum_to(struct mg_grad *c, int32_t v, int i);

#endif
