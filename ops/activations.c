/* Op: Activations
 * Synopsis: sigmoid, softmax (along dim) and/or a named activation, in float32.
 * MONAI: monai.transforms.Activations(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) converts the image to float32 (float64 too), then applies, in
 * this order, sigmoid, softmax along `dim` (its **kwargs; default 0, the channels) and
 * `other`, each a float32 torch op, and converts back to the input's dtype (integers
 * truncate toward zero). Setting both sigmoid and softmax applies both, as MONAI's
 * constructor arguments do. `other` is a Python callable in MONAI; mgc takes the ones a
 * config names without Python code, a torch.nn activation component:
 * {"_target_": "torch.nn.Tanh"} (also Sigmoid, ReLU, SiLU, GELU, Identity, default
 * arguments only); "$..." expressions and lambdas are refused. mgc computes each op in
 * float64 and rounds it to float32, torch uses float32 vector code: results differ by
 * an ulp or so. The dict form takes sigmoid, softmax and other per key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

#define OTHERS                                                                               \
	"torch.nn.Tanh|torch.nn.Sigmoid|torch.nn.ReLU|torch.nn.SiLU|torch.nn.GELU|"             \
	"torch.nn.Identity"

static const struct mg_attrdef attrs[] = {
	{"sigmoid", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL, "apply a sigmoid"},
	{"softmax", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL, "apply a softmax along dim"},
	{"other", MG_ATTR_STR, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE | MG_ATTRF_COMPONENT,
	 OTHERS,
	 "an activation applied last: a component {\"_target_\": \"torch.nn.Tanh\"} (or "
	 "Sigmoid, ReLU, SiLU, GELU, Identity); Python callables are not supported"},
	{"dim", MG_ATTR_INT, "0", 0, NULL, "softmax's axis (MONAI's kwargs; 0: the channels)"},
};
enum { A_SIGMOID, A_SOFTMAX, A_OTHER, A_DIM };

static const char OP[] = "Activations";

static float sigmoid(float x) { return (float)(1 / (1 + exp(-(double)x))); }

/* The `other` activation on one float32 value. */
static float other(const char *name, float x)
{
	const char *n = name + strlen("torch.nn.");
	double v = x;
	if (!strcmp(n, "Tanh"))
		return (float)tanh(v);
	if (!strcmp(n, "Sigmoid"))
		return sigmoid(x);
	if (!strcmp(n, "ReLU"))
		return x > 0 || x != x ? x : 0;
	if (!strcmp(n, "SiLU"))
		return (float)(v / (1 + exp(-v)));
	if (!strcmp(n, "GELU"))
		return (float)(0.5 * v * (1 + erf(v / sqrt(2.0))));
	return x; /* Identity */
}

/* Softmax of w (contiguous) along axis dim of dims. */
static void softmax(float *w, int rank, const int64_t *dims, int dim)
{
	int64_t inner = 1, outer = 1, n = dims[dim];
	for (int k = dim + 1; k < rank; k++)
		inner *= dims[k];
	for (int k = 0; k < dim; k++)
		outer *= dims[k];
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			float *p = w + o * n * inner + i;
			float m = -INFINITY;
			for (int64_t j = 0; j < n; j++)
				m = p[j * inner] > m || p[j * inner] != p[j * inner] ? p[j * inner] : m;
			double sum = 0;
			for (int64_t j = 0; j < n; j++)
				sum += exp((double)p[j * inner] - m);
			for (int64_t j = 0; j < n; j++)
				p[j * inner] = (float)(exp((double)p[j * inner] - m) / sum);
		}
}

static int axis(const struct mg_attr *a, int rank, int *dim, struct mg_err *e)
{
	int64_t d = a[A_DIM].v.i;
	if (!a[A_SOFTMAX].v.i || rank < 0)
		return 0;
	if (d < -rank || d >= rank || rank == 0)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'dim' is %lld; the image has %d "
				  "axes", OP, (long long)d, rank);
	*dim = (int)(d < 0 ? d + rank : d);
	return 0;
}

static int activations(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err), dim = 0;
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	if ((rc = axis(a, x->rank, &dim, k->err)))
		return rc;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc(&y, x->dtype, x->rank, x->dims, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(x);
	float *w = malloc((size_t)(n ? n : 1) * sizeof *w);
	if (!w) {
		mg_tensor_release(&y);
		return mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", OP);
	}
	size_t es = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(&y);
	if (n > 0) {
		struct mg_iter it; /* logical order: w is contiguous like y */
		int64_t i = 0;
		mg_iter_init(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides});
		do
			w[i++] = (float)mg_dtype_load(x->dtype, px + it.off[0] * (int64_t)es);
		while (mg_iter_next(&it));
	}
	if (a[A_SIGMOID].v.i)
		for (int64_t i = 0; i < n; i++)
			w[i] = sigmoid(w[i]);
	if (a[A_SOFTMAX].v.i && n > 0)
		softmax(w, x->rank, x->dims, dim);
	for (int64_t i = 0; i < n; i++) {
		float v = a[A_OTHER].is_none ? w[i] : other(a[A_OTHER].v.s, w[i]);
		mg_dtype_store(x->dtype, py + i * (int64_t)es, v);
	}
	free(w);
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int dim, rc = mg_op_infer_image(&in[0], OP, e);
	if (rc || (rc = axis(a, in[0].rank, &dim, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return 0;
}

const struct mg_opdef mg_op_activations = {
	.name = OP,
	.synopsis = "sigmoid, softmax and/or a named activation (float32, then the input's dtype)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = activations,
};
