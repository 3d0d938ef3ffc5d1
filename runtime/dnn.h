/* dnn.h: mgc's one interface to oneDNN, for the heavy network ops: convolutions (direct and
 * transposed, 1D to 3D, forward and both backward passes), matrix products, batch and
 * layer normalization (the instance, group and layer norms are the latter on groups,
 * ops/norm_dnn.c) and PReLU, forward and backward. Only runtime/dnn*.c include dnnl.h
 * (through dnn_int.h), so a move to oneDNN 3 (whose C API changed) touches those files.
 * Without oneDNN (MG_ONEDNN off, or not found) every call but mg_dnn_available fails
 * with MG_ERR_UNSUPPORTED and the reference kernels (ops/nn.h, ops/norm.h) do the work.
 * Invariant: tensors are float32 in MONAI's logical order (N, C, spatial...) with any
 * strides: plain NCDHW, channels-last NDHWC (a strided view), any other view. The
 * convolutions run on oneDNN's preferred (blocked) layout, reached by reorders inside
 * each call (torch's weights always; activations unless oneDNN has no direct kernel
 * there, when its fallback runs on the layout given); batch normalization on a layout it
 * has a jit kernel for (channels-last, blocked), the others on the layout given: a later
 * layout pass that keeps activations blocked removes those reorders. Primitives (and
 * their reorders) are created once per descriptor (pass, geometry, every operand's dims
 * and strides) and cached for the life of the process, so a training loop never
 * re-creates them.
 * Read next: dnn.c, dnn_norm.c, ops/nn.h and ops/norm.h (the reference kernels that check
 * it). */
#ifndef MG_DNN_H
#define MG_DNN_H

#include "runtime.h"

/* A convolution's geometry, always that of the direct convolution from the large side
 * ("in") to the small one ("out"). A Conv maps x (n, cin, in...) to y (n, cout, out...).
 * A ConvTranspose with the same geometry maps x (n, cout, out...) to y (n, cin, in...):
 * it is that convolution's backward data, and its torch weight, (cout, cin / groups,
 * k...) in these names, has the shape of the convolution's. Axes past sdim have size 1,
 * k 1, stride 1, dilation 1 and no padding. pad_lo and pad_hi are the zeros torch adds
 * before and after each axis of the large side (pad_hi may exceed what the last window
 * reaches: torch's floor drops the rest). */
struct mg_conv_geom {
	int sdim; /* 1, 2 or 3 */
	int64_t n, cin, cout, groups;
	int64_t in[3], out[3], k[3];
	int64_t stride[3], dil[3], pad_lo[3], pad_hi[3];
};

/* Whether this build has oneDNN and its CPU engine starts (once per process). */
int mg_dnn_available(void);

/* The passes of a convolution; transposed: of the ConvTranspose of geometry g. */
enum mg_dnn_pass { MG_DNN_FWD, MG_DNN_BWD_DATA, MG_DNN_BWD_WEIGHTS };

/* One convolution pass, writing into tensors the caller allocated (any strides):
 *   FWD          a = x, b = w, c = bias (NULL: none), out = y
 *   BWD_DATA     a = dy, b = w, c = NULL, out = dx
 *   BWD_WEIGHTS  a = x, b = dy, out = dw, c = dbias (NULL: not wanted; written, not
 *                added to)
 * Shapes must match g (transposed: the ConvTranspose's x, y); no stride may be negative
 * (or zero on an axis longer than 1), and the bias must be dense (oneDNN's deconvolution
 * ignores a bias's stride); errors name the operand. */
int mg_dnn_conv(enum mg_dnn_pass pass, const struct mg_conv_geom *g, int transposed,
		const struct mg_tensor *a, const struct mg_tensor *b, const struct mg_tensor *c,
		const struct mg_tensor *out, struct mg_err *e);

/* out (M, N) = a (M, K) b (K, N) + bias (N; NULL: none), all rank 2 with strides as
 * mg_dnn_conv takes them (a transposed operand is a view with swapped strides). */
int mg_dnn_matmul(const struct mg_tensor *a, const struct mg_tensor *b,
		  const struct mg_tensor *bias, const struct mg_tensor *out, struct mg_err *e);

/* A normalization, y = (x - mean) / sqrt(var + eps) * scale + shift:
 *   batch (layer 0): x (n, c, spatial...) of rank 2 to 5, per channel (axis 1) over every
 *     other axis; mean and var (c), scale and shift (c);
 *   layer (layer 1): x (rows, k), per row over its k elements; mean and var (rows), scale
 *     and shift (k) along the row.
 * Activations as mg_dnn_conv takes them (any strides, none negative; batch normalization
 * on plain NCDHW runs on a channels-last copy, where oneDNN has its fast kernels), the
 * vectors dense float32. */
struct mg_dnn_norm {
	int layer;
	double eps;
	int global; /* mean and var are given (eval: constants); else the forward writes the
		     * batch's (the biased variance) and the backward differentiates through
		     * them */
	const struct mg_tensor *x, *mean, *var;
	const struct mg_tensor *scale, *shift; /* NULL: 1 and 0 */
};
/* The forward: y (x's dims); mean and var written unless global. */
int mg_dnn_norm_fwd(const struct mg_dnn_norm *b, const struct mg_tensor *y, struct mg_err *e);
/* The backward of sum(dy * y): dx (x's dims), dscale = sum(dy * xhat) and dshift =
 * sum(dy) (NULL: not wanted; dscale exactly when there is a scale, dshift only then).
 * Errors name the operand. */
int mg_dnn_norm_bwd(const struct mg_dnn_norm *b, const struct mg_tensor *dy,
		    const struct mg_tensor *dx, const struct mg_tensor *dscale,
		    const struct mg_tensor *dshift, struct mg_err *e);

/* PReLU, y = x > 0 ? x : w x, for x (n, c, spatial...) of rank 2 to 5 (strides as
 * mg_dnn_conv takes them) and w of 1 or c values (dense), broadcast over the channels;
 * its backward writes dx and dw = sum(x dy where x <= 0) per weight (dw w's shape). */
int mg_dnn_prelu_fwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *y, struct mg_err *e);
int mg_dnn_prelu_bwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *dy, const struct mg_tensor *dx,
		     const struct mg_tensor *dw, struct mg_err *e);

/* torch's linear interpolation (linear, bilinear, trilinear; align_corners false) between
 * small (N, C, in...) and big (N, C, out...), any strides, with factors out / in per
 * axis (the caller checks that torch samples with in / out: a size given, or scale
 * factors equal to out / in): forward small = x -> big = y; backward big = dy -> small =
 * dx (overwritten). Float32, rank 3 to 5; errors name the operand. */
int mg_dnn_resample(int backward, const struct mg_tensor *small, const struct mg_tensor *big,
		    struct mg_err *e);

/* Primitives created since the process started (a cache hit creates none): what a test
 * reads to see a loop reuse them. */
int64_t mg_dnn_primitives_created(void);
/* Frees every cached primitive (the next call re-creates what it needs); not while
 * another thread is inside a dnn call. */
void mg_dnn_cache_clear(void);

#endif
