/* Op: AsDiscrete
 * Synopsis: argmax along dim, then one-hot, threshold or rounding; the result in dtype.
 * MONAI: monai.transforms.AsDiscrete(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) runs, each only when asked and in this order:
 *   - argmax: torch.argmax along `dim` (default 0, the channels) with `keepdim` (default
 *     true): the first maximum's index, NaN counting as the maximum; int64;
 *   - to_onehot=K: monai.networks.one_hot along dim: the tensor (its rank padded with
 *     size-1 axes up to dim + 1) must have size 1 there, and its values truncated to
 *     integers must lie in 0..K-1 (torch's scatter fails otherwise); K channels of 0/1 in
 *     dtype;
 *   - threshold: x >= threshold, compared in the tensor's dtype (float32 for integer
 *     tensors: torch's promotion with a Python float), giving 0/1;
 *   - rounding "torchrounding": torch.round, half to even. After a threshold it fails in
 *     MONAI (torch cannot round booleans), so mgc refuses that combination;
 * and converts the result to `dtype` (default float32). dim, keepdim and dtype are
 * MONAI's **kwargs; the dict form takes argmax, to_onehot, threshold and rounding per
 * key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"argmax", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL, "argmax along dim first"},
	{"to_onehot", MG_ATTR_INT, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "number of classes: one-hot along dim (needs size 1 there, e.g. after argmax)"},
	{"threshold", MG_ATTR_FLOAT, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "x >= threshold gives 1, else 0"},
	{"rounding", MG_ATTR_STR, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, "torchrounding",
	 "round half to even"},
	{"dim", MG_ATTR_INT, "0", 0, NULL, "axis of argmax and one-hot (MONAI's kwargs)"},
	{"keepdim", MG_ATTR_BOOL, "true", 0, NULL, "argmax keeps dim with size 1 (MONAI's kwargs)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", 0, NULL, "output dtype (MONAI's kwargs)"},
};
enum { A_ARGMAX, A_ONEHOT, A_THRESHOLD, A_ROUNDING, A_DIM, A_KEEPDIM, A_DTYPE };

static const char OP[] = "AsDiscrete";

/* The shape after each step (dims may be -1: unknown); *adim and *odim the argmax and
 * one-hot axes. Every argument error is found here. */
static int shapes(const struct mg_attr *a, int *rank, int64_t *dims, int *adim, int *odim,
		  struct mg_err *e)
{
	int64_t d = a[A_DIM].v.i;
	if (!a[A_THRESHOLD].is_none && !a[A_ROUNDING].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: arguments 'threshold' and 'rounding' "
				  "together fail in MONAI (torch.round of the boolean threshold "
				  "result); use one", OP);
	if (!a[A_ONEHOT].is_none && a[A_ONEHOT].v.i < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'to_onehot' is %lld; it must be "
				  "a number of classes >= 1", OP, (long long)a[A_ONEHOT].v.i);
	if (a[A_ARGMAX].v.i) {
		if (d < -*rank || d >= *rank)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'dim' is %lld; the image "
					  "has %d axes", OP, (long long)d, *rank);
		*adim = (int)(d < 0 ? d + *rank : d);
		if (a[A_KEEPDIM].v.i) {
			dims[*adim] = 1;
		} else {
			memmove(dims + *adim, dims + *adim + 1,
				(size_t)(*rank - *adim - 1) * sizeof *dims);
			(*rank)--;
		}
	}
	if (a[A_ONEHOT].is_none)
		return 0;
	while (d >= 0 && *rank < d + 1 && *rank < MG_MAX_RANK)
		dims[(*rank)++] = 1; /* one_hot pads the shape with size-1 axes */
	if (d < -*rank || d >= *rank)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'dim' is %lld; one-hot has %d "
				  "axes", OP, (long long)d, *rank);
	*odim = (int)(d < 0 ? d + *rank : d);
	if (dims[*odim] > 1)
		return mg_err_set(e, MG_ERR_SHAPE,
				  "%s: to_onehot needs size 1 along dim %d (a label map), got %lld%s",
				  OP, *odim, (long long)dims[*odim],
				  a[A_ARGMAX].v.i ? "" : " (set argmax=true?)");
	dims[*odim] = a[A_ONEHOT].v.i;
	return 0;
}

/* v rounded as torch holds a scalar compared with a tensor of dtype t. */
static double as_compared(enum mg_dtype t, double v)
{
	switch (t) {
	case MG_DTYPE_F64: return v;
	case MG_DTYPE_F16: return mg_f16_to_f32(mg_f32_to_f16((float)v));
	case MG_DTYPE_BF16: return mg_bf16_to_f32(mg_f32_to_bf16((float)v));
	default: return (float)v; /* float32, and integers promoted to it */
	}
}

/* argmax along axis ax of w (rank, dims): the index array, same outer/inner layout. */
static void argmax(const double *w, const int64_t *dims, int rank, int ax, double *out)
{
	int64_t inner = 1, outer = 1, n = dims[ax];
	for (int k = ax + 1; k < rank; k++)
		inner *= dims[k];
	for (int k = 0; k < ax; k++)
		outer *= dims[k];
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const double *p = w + o * n * inner + i;
			int64_t best = 0;
			for (int64_t j = 1; j < n && p[best * inner] == p[best * inner]; j++)
				if (p[j * inner] > p[best * inner] || p[j * inner] != p[j * inner])
					best = j;
			out[o * inner + i] = (double)best;
		}
}

static int as_discrete(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	int rank = x->rank, adim = 0, odim = 0;
	int64_t dims[MG_MAX_RANK + 1];
	memcpy(dims, x->dims, sizeof x->dims);
	if ((rc = shapes(a, &rank, dims, &adim, &odim, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(x), m = 1;
	for (int i = 0; i < rank; i++)
		m *= dims[i];
	double *w = malloc((size_t)(n > m ? n : m ? m : 1) * sizeof *w);
	double *t = malloc((size_t)(n > m ? n : m ? m : 1) * sizeof *t);
	struct mg_tensor y = {0};
	if (!w || !t)
		rc = mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", OP);
	size_t es = mg_dtype_size(x->dtype);
	if (!rc && n > 0) {
		struct mg_iter it;
		int64_t i = 0;
		mg_iter_init(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides});
		do
			w[i++] = mg_dtype_load(x->dtype,
					       (const char *)mg_tensor_data(x) + it.off[0] * (int64_t)es);
		while (mg_iter_next(&it));
	}
	enum mg_dtype cur = x->dtype;
	int64_t cnt = n;
	if (!rc && a[A_ARGMAX].v.i && x->dims[adim] == 0)
		rc = mg_err_set(k->err, MG_ERR_SHAPE, "%s: argmax along an empty axis (dim %d)",
				OP, adim);
	if (!rc && a[A_ARGMAX].v.i) {
		argmax(w, x->dims, x->rank, adim, t);
		double *s = w;
		w = t;
		t = s;
		cnt = n / (x->dims[adim] ? x->dims[adim] : 1);
		cur = MG_DTYPE_I64;
	}
	if (!rc && !a[A_ONEHOT].is_none) {
		int64_t K = a[A_ONEHOT].v.i, inner = 1;
		for (int i = odim + 1; i < rank; i++)
			inner *= dims[i];
		for (int64_t i = 0; i < cnt && !rc; i++) {
			double l = trunc(w[i]);
			if (!(l >= 0 && l < (double)K))
				rc = mg_err_set(k->err, MG_ERR_SHAPE, "%s: value %g is not a class "
						"of to_onehot=%lld (0..%lld)", OP, w[i],
						(long long)K, (long long)K - 1);
			int64_t o = i / inner, r = i % inner;
			for (int64_t c = 0; c < K && !rc; c++)
				t[(o * K + c) * inner + r] = c == (int64_t)l;
		}
		double *s = w;
		w = t;
		t = s;
		cnt = m;
		cur = (enum mg_dtype)a[A_DTYPE].v.i;
	}
	if (!rc && !a[A_THRESHOLD].is_none) {
		double th = as_compared(cur, a[A_THRESHOLD].v.f);
		for (int64_t i = 0; i < cnt; i++)
			w[i] = as_compared(cur, w[i]) >= th;
	}
	if (!rc && !a[A_ROUNDING].is_none)
		for (int64_t i = 0; i < cnt; i++)
			w[i] = nearbyint(w[i]);
	enum mg_dtype od = (enum mg_dtype)a[A_DTYPE].v.i;
	if (!rc && !(rc = mg_tensor_alloc(&y, od, rank, dims, k->err)))
		for (int64_t i = 0; i < cnt; i++)
			mg_dtype_store(od, (char *)mg_tensor_data(&y) + i * (int64_t)mg_dtype_size(od),
				       w[i]);
	free(w);
	free(t);
	if (rc)
		return rc;
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], OP, e), adim, odim;
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = (int)a[A_DTYPE].v.i;
	if (in[0].rank < 0)
		return 0;
	int64_t dims[MG_MAX_RANK + 1];
	memcpy(dims, in[0].dims, sizeof in[0].dims);
	if ((rc = shapes(a, &out[0].rank, dims, &adim, &odim, e)))
		return rc;
	memcpy(out[0].dims, dims, sizeof out[0].dims);
	return 0;
}

const struct mg_opdef mg_op_as_discrete = {
	.name = OP,
	.synopsis = "argmax, one-hot, threshold or rounding; output in dtype (float32)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = as_discrete,
};
