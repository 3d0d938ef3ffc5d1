/* pool.h: what the pooling, upsampling and shape network ops (MaxPool, AvgPool,
 * AdaptiveAvgPool, Upsample, Concat, Reshape, Flatten, Pad) and their gradient ops share:
 * the window geometry with torch's output-size rule, the float64 kernel driver, the type
 * rule and gradient rule of a gradient op XGrad(x, dy), and torch's view rule.
 * Invariant: a forward op and its gradient op run one loop nest (mg_nn_loop_fn, a flag
 * picks the forward or its adjoint), so the gradient is the adjoint of exactly the
 * arithmetic the forward does.
 * Read next: pool.c, max_pool.c, upsample.c. */
#ifndef MG_POOL_H
#define MG_POOL_H

#include "nn.h"

/* A pooling node's geometry on (N, C, spatial...): nc = N C planes, up to 3 spatial axes
 * (the unused ones have size, kernel, stride and dilation 1 and no padding). */
struct mg_window {
	int sdim;
	int64_t nc;
	int64_t in[3], out[3], k[3], stride[3], pad[3], dil[3];
};

/* The geometry of a MaxPool (dil not NULL) or AvgPool node on an input of dims xd (rank
 * 3 to 5) from its kernel_size, stride (null: kernel_size), padding and dilation lists
 * and ceil_mode, with torch's rules: out = floor or ceil((in + 2 pad - dil (k - 1) - 1) /
 * stride) + 1, less one when ceil_mode's last window would start past the input and its
 * left padding; padding at most half the kernel; an output of at least 1. Errors name op
 * and the argument. */
int mg_window_geometry(const char *op, int rank, const int64_t *xd, const struct mg_attr *ks,
		       const struct mg_attr *stride, const struct mg_attr *pad,
		       const struct mg_attr *dil, int ceil_mode, struct mg_window *g,
		       struct mg_err *e);

/* The type rule's check of a pooling-like op's x: an image, float32 or float64, of rank 3
 * to 5 ((N, C, spatial...): unbatched input is refused, as Conv refuses it) when known.
 * *known: every dim is known. */
int mg_nn_spatial_input(const char *op, const struct mg_type *x, int *known, struct mg_err *e);

/* One op's arithmetic on contiguous float64 arrays, as geometry g (the op's own struct)
 * says: back 0: y = f(x) into y (zeroed, the forward output's size); back 1: y += the
 * adjoint of f applied to dy (y zeroed, x's size; x is there for ops whose adjoint reads
 * it, MaxPool's argmax). */
typedef void mg_nn_loop_fn(const void *g, int back, const double *x, const double *dy,
			   double *y);

/* The kernel of a forward op (in: x; back 0) or of its gradient op (in: x, dy; back 1):
 * the operands checked (tensors, float32 or float64, dy of dims yd: the forward output's,
 * rank x's), made contiguous float64, loop run, and out[0] the result rounded once to
 * x's dtype (forward) or dy's, laid out as x's memory order. Errors name op. */
int mg_nn_run(const char *op, int back, const void *g, const int64_t *yd, mg_nn_loop_fn *loop,
	      struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* The first check of a window op's kernel: in[0] (x) and, back, in[1] (dy) are tensors;
 * errors name op. */
int mg_nn_expect_x(const char *op, int back, const struct mg_val *in, struct mg_err *e);

/* The type rule of a gradient op XGrad(x, dy): dx has x's type in dy's dtype. */
int mg_nn_grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		     struct mg_err *e);

/* The gradient rule of a forward op whose gradient op `op` reads (x, dy) with the
 * forward's attributes (forward inputs first, then dy, as every gradient op). */
int mg_nn_grad_x_dy(struct mg_grad *c, int op);

/* The gradient rule of Reshape and Flatten: dy reshaped to x's shape, Reshape(dy, x). */
int mg_nn_reshape_grad(struct mg_grad *c);

/* y = x seen with rank dims d (the same number of elements): a view when torch's
 * reshape makes one (its stride rule, computeStride), else a view of a contiguous copy.
 * y takes its own references. */
int mg_nn_reshape(const struct mg_tensor *x, int rank, const int64_t *d, struct mg_tensor *y,
		  struct mg_err *e);

#endif
