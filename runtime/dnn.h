/* dnn.h: mgc's one interface to oneDNN, for the heavy network ops: convolutions (direct and
 * transposed, 1D to 3D, forward and both backward passes) and matrix products. dnn.c is
 * the only file that includes dnnl.h, so a move to oneDNN 3 (whose C API changed) touches
 * one file. Without oneDNN (MG_ONEDNN off, or not found) every call but
 * mg_dnn_available fails with MG_ERR_UNSUPPORTED and the reference kernels (ops/nn.h)
 * do the work.
 * Invariant: tensors are float32 in MONAI's logical order (N, C, spatial...) with any
 * strides: plain NCDHW, channels-last NDHWC (a strided view), any other view. The
 * primitives run on oneDNN's preferred (blocked) layout, reached by reorders inside each
 * call (torch's weights always; activations unless oneDNN has no direct kernel there,
 * when its fallback runs on the layout given): a later layout pass that keeps
 * activations blocked removes those reorders. Primitives (and their reorders) are
 * created once per descriptor (pass, geometry, every operand's dims and strides) and
 * cached for the life of the process, so a training loop never re-creates them.
 * Read next: dnn.c, ops/nn.h (the reference kernels that check it). */
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

/* Primitives created since the process started (a cache hit creates none): what a test
 * reads to see a loop reuse them. */
int64_t mg_dnn_primitives_created(void);
/* Frees every cached primitive (the next call re-creates what it needs); not while
 * another thread is inside a dnn call. */
void mg_dnn_cache_clear(void);

#endif
