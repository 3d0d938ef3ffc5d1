/* Op: VoteEnsemble
 * Synopsis: majority vote over the first axis: (E, C, spatial...) -> (C, spatial...).
 * MONAI: monai.transforms.VoteEnsemble(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) on one stacked tensor:
 *   - num_classes null (one-hot or binary input): the float32 mean over the models,
 *     rounded half to even (so a tie of two models gives 0);
 *   - num_classes K with one channel (E, 1, ...): each model's label (truncated to an
 *     integer, 0..K-1 or torch's one_hot fails) votes; the output (1, ...) holds the
 *     class with most votes, the lowest one on ties (argmax of the vote means). With
 *     more than one channel MONAI warns and votes as without num_classes;
 * converted back to the input's dtype. A 1D input (E,) with num_classes gives a
 * scalar, as MONAI. The dict form VoteEnsembled stacks its keys' images (one shape and
 * dtype) as the models into output_key, as MONAI; with one key that key holds the
 * stacked value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	MG_ENSEMBLE_OUTPUT_KEY,
	{"num_classes", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "classes of a one-channel label input; null: one-hot input, rounded mean"},
};
enum { A_OUTPUT_KEY, A_CLASSES };

static const char OP[] = "VoteEnsemble";

/* Whether the input votes labels: num_classes set and one channel (or none). */
static int by_label(const struct mg_attr *a, int rank, const int64_t *dims)
{
	return !a[A_CLASSES].is_none && !(rank > 1 && dims[1] != 1);
}

static int check(const struct mg_attr *a, const struct mg_type *in, struct mg_err *e)
{
	int rc = mg_ensemble_input(OP, in, e);
	if (rc)
		return rc;
	if (!a[A_CLASSES].is_none && a[A_CLASSES].v.i < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'num_classes' is %lld; it must "
				  "be >= 1", OP, (long long)a[A_CLASSES].v.i);
	return 0;
}

static int vote(const struct mg_attr *a, const struct mg_tensor *x, struct mg_tensor *y,
		struct mg_err *e)
{
	int64_t E = x->dims[0], n = mg_tensor_numel(y), K = a[A_CLASSES].v.i;
	if (E == 0) /* no models: nothing to vote */
		return 0;
	int label = by_label(a, x->rank, x->dims);
	size_t es = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(y);
	int64_t *votes = label ? calloc((size_t)K, sizeof *votes) : NULL;
	if (label && !votes)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", OP);
	struct mg_iter it; /* y's logical order, x's strides without the first axis */
	int64_t o = 0;
	int rc = 0;
	mg_iter_init(&it, x->rank - 1, x->dims + 1, 1, (const int64_t *[]){x->strides + 1});
	do {
		double sum = 0, r = 0;
		if (label)
			memset(votes, 0, (size_t)K * sizeof *votes);
		for (int64_t m = 0; m < E && !rc; m++) {
			double v = mg_dtype_load(x->dtype,
						 px + (it.off[0] + m * x->strides[0]) * (int64_t)es);
			if (!label) {
				sum = (float)(sum + (float)v);
				continue;
			}
			double l = trunc(v);
			if (!(l >= 0 && l < (double)K))
				rc = mg_err_set(e, MG_ERR_SHAPE, "%s: value %g is not a class of "
						"num_classes=%lld (0..%lld)", OP, v, (long long)K,
						(long long)K - 1);
			else
				votes[(int64_t)l]++;
		}
		if (label)
			for (int64_t c = 1; c < K; c++)
				r = votes[c] > votes[(int64_t)r] ? (double)c : r;
		else
			r = nearbyint((float)(sum / (double)E));
		mg_dtype_store(x->dtype, py + o++ * (int64_t)es, r);
	} while (!rc && mg_iter_next(&it) && o < n);
	free(votes);
	return rc;
}

static int vote_ensemble(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_ensemble_run(OP, check, vote, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_ensemble_infer(check, a, in, out, e);
}

const struct mg_opdef mg_op_vote_ensemble = {
	.name = OP,
	.synopsis = "majority vote over the first axis (models)",
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = vote_ensemble,
	.keys = mg_ensemble_keys,
};
