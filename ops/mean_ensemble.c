/* Op: MeanEnsemble
 * Synopsis: the (weighted) mean over the first axis: (E, C, spatial...) -> (C, spatial...).
 * MONAI: monai.transforms.MeanEnsemble(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) on one stacked tensor: with weights (one per model, the first
 * axis), x * w / mean(w) in float32, then torch.mean over axis 0, converted back to the
 * input's dtype (integers truncate). mgc accumulates in float32 in model order, as
 * torch's reduction over an outer axis does; results may differ by an ulp. Differences:
 * weights of two or more dimensions (per model and channel) are not supported; an
 * integer input without weights, where torch.mean fails, is averaged as with weights
 * of 1. The dict form MeanEnsembled stacks its keys' images (one shape and dtype) as the
 * models into output_key, as MONAI; with one key that key holds the stacked value. */
#include <stdlib.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	MG_ENSEMBLE_OUTPUT_KEY,
	{"weights", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "one weight per model (the first axis); null: plain mean"},
};
enum { A_OUTPUT_KEY, A_WEIGHTS };

static const char OP[] = "MeanEnsemble";

static int check(const struct mg_attr *a, const struct mg_type *in, struct mg_err *e)
{
	int rc = mg_ensemble_input(OP, in, e);
	if (rc)
		return rc;
	if (!a[A_WEIGHTS].is_none && in->rank > 0 && in->dims[0] >= 0 &&
	    a[A_WEIGHTS].n != in->dims[0])
		return mg_err_set(e, MG_ERR_SHAPE, "%s: argument 'weights' has %d values for %lld "
				  "models (the first axis)", OP, a[A_WEIGHTS].n,
				  (long long)in->dims[0]);
	return 0;
}

static int mean(const struct mg_attr *a, const struct mg_tensor *x, struct mg_tensor *y,
		struct mg_err *e)
{
	(void)e;
	int64_t E = x->dims[0];
	float wmean = 0;
	for (int i = 0; i < a[A_WEIGHTS].n && !a[A_WEIGHTS].is_none; i++)
		wmean += (float)a[A_WEIGHTS].v.floats[i];
	wmean = E ? wmean / (float)E : 0;
	size_t es = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(y);
	int f64 = x->dtype == MG_DTYPE_F64;
	struct mg_iter it; /* y's logical order, x's strides without the first axis */
	int64_t o = 0;
	mg_iter_init(&it, x->rank - 1, x->dims + 1, 1, (const int64_t *[]){x->strides + 1});
	do {
		double sum = 0;
		for (int64_t m = 0; m < E; m++) {
			double v = mg_dtype_load(x->dtype,
						 px + (it.off[0] + m * x->strides[0]) * (int64_t)es);
			if (!a[A_WEIGHTS].is_none) {
				double w = (float)a[A_WEIGHTS].v.floats[m];
				v = f64 ? v * w / wmean : (float)((float)(v * w) / wmean);
			}
			sum = f64 ? sum + v : (float)(sum + v);
		}
		double mean = f64 ? sum / (double)E : (float)(sum / (double)E);
		mg_dtype_store(x->dtype, py + o++ * (int64_t)es, mean);
	} while (mg_iter_next(&it));
	return 0;
}

static int mean_ensemble(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_ensemble_run(OP, check, mean, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_ensemble_infer(check, a, in, out, e);
}

const struct mg_opdef mg_op_mean_ensemble = {
	.name = OP,
	.synopsis = "mean over the first axis (models), optionally weighted",
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = mean_ensemble,
	.keys = mg_ensemble_keys,
};
