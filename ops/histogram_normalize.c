/* Op: HistogramNormalize
 * Synopsis: histogram equalisation: each voxel mapped through the rescaled cumulative histogram.
 * MONAI: monai.transforms.HistogramNormalize(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: a histogram of the whole image (all channels together).
 * MONAI (intensity/array.py, transforms/utils.py equalize_hist) on numpy:
 *   - hist, centers = skimage.exposure.histogram(img.flatten(), num_bins): integer
 *     images get one bin per integer from min to max (num_bins is ignored), float images
 *     num_bins uniform bins over [min, max] (np.histogram, in the image's precision);
 *   - cum = cumsum(hist), rescaled to [min, max] by rescale_array in float32;
 *   - np.interp(img, centers, cum) in float64 (flat beyond the first and last centre),
 *     then converted to `dtype` (null: the input's; integers truncate).
 * mask_key (HistogramNormalized's; MG_ATTRF_KEY: a second input, read before the
 * transform's keys change): equalize_hist builds the histogram of img[mask.astype(bool)]
 * only, the voxels where the mask is nonzero (NaN counts), then maps every voxel, those
 * outside the mask too, through it. numpy's boolean index needs the mask's shape to
 * lead the image's; mgc wants it equal (a channel-first mask of fewer axes is refused).
 * A mask that selects nothing: skimage's integer histogram fails (MONAI raises), the
 * float one is np.histogram's of nothing (range (0, 1), zero counts): cum is 0 * min
 * everywhere and np.interp's arithmetic decides the sign of each zero. The array form's
 * `mask` (an array in Python) is refused: it cannot be written in a pipeline file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"num_bins", MG_ATTR_INT, "256", 0, NULL,
	 "number of histogram bins (float images; integer images get one per value)"},
	{"min", MG_ATTR_INT, "0", 0, NULL, "output value of the lowest intensities"},
	{"max", MG_ATTR_INT, "255", 0, NULL, "output value of the highest intensities"},
	{"mask", MG_ATTR_STR, "null", MG_ATTRF_REFUSED, NULL,
	 "a Python array: cannot be given in a pipeline file; use mask_key"},
	{"mask_key", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_KEY, NULL,
	 "the key whose image (nonzero voxels, same shape) selects the voxels the histogram "
	 "counts; null: every voxel"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "output dtype; null keeps the input's"},
};
enum { A_NUM_BINS, A_MIN, A_MAX, A_MASK, A_MASK_KEY, A_DTYPE };

#define OP "HistogramNormalize"

static int check(const struct mg_attr *a, struct mg_err *e)
{
	if (a[A_NUM_BINS].v.i < 1 || a[A_NUM_BINS].v.i > (1 << 24))
		return mg_err_set(e, MG_ERR_CONFIG, OP ": num_bins is %lld; it must be in "
				  "[1, 2^24]", (long long)a[A_NUM_BINS].v.i);
	return 0;
}

/* np.interp(v, xp, fp) with numpy's branches (exact hits, flat ends). */
struct interp {
	int64_t n;
	const double *xp, *fp;
};

static double interp_one(const void *ctx, double x)
{
	const struct interp *t = ctx;
	const double *xp = t->xp, *fp = t->fp;
	int64_t n = t->n;
	if (x >= xp[n - 1])
		return fp[n - 1];
	if (x < xp[0])
		return fp[0];
	int64_t lo = 0, hi = n - 1; /* xp[lo] <= x < xp[hi] */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (xp[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	if (xp[lo] == x)
		return fp[lo];
	double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
	double r = slope * (x - xp[lo]) + fp[lo];
	if (isnan(r)) {
		r = slope * (x - xp[lo + 1]) + fp[lo + 1];
		if (isnan(r) && fp[lo] == fp[lo + 1])
			r = fp[lo];
	}
	return r;
}

/* The mask's check: the image's shape, else an error naming both keys. */
static int check_mask(const struct mg_tensor *x, const struct mg_tensor *m, const char *mkey,
		      const char *key, struct mg_err *e)
{
	key = key ? key : "image";
	if (m->rank != x->rank)
		return mg_err_set(e, MG_ERR_SHAPE, OP ": the mask '%s' has rank %d and the image "
				  "'%s' rank %d; mgc needs the same shape", mkey, m->rank, key,
				  x->rank);
	for (int d = 0; d < x->rank; d++)
		if (m->dims[d] != x->dims[d])
			return mg_err_set(e, MG_ERR_SHAPE, OP ": the mask '%s' has size %lld on "
					  "axis %d and the image '%s' %lld; mgc needs the same "
					  "shape (MONAI: \"boolean index did not match\")", mkey,
					  (long long)m->dims[d], d, key, (long long)x->dims[d]);
	return 0;
}

/* v[0..*n): x's values (logical order), only where the mask m (NULL: none) is nonzero. */
static double *histogram_values(const struct mg_tensor *x, const struct mg_tensor *m,
				int64_t *n, struct mg_err *e)
{
	double *v = mg_gather(x, e), *mv;
	*n = mg_tensor_numel(x);
	if (!v || !m)
		return v;
	if (!(mv = mg_gather(m, e))) {
		free(v);
		return NULL;
	}
	int64_t k = 0;
	for (int64_t i = 0; i < *n; i++)
		if (mv[i] != 0)
			v[k++] = v[i];
	free(mv);
	*n = k;
	return v;
}

static int histogram_normalize(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t, *m = NULL;
	const char *mkey = a[A_MASK_KEY].is_none ? NULL : a[A_MASK_KEY].v.s;
	if (!rc && mkey && !(rc = mg_op_expect_tensor(&in[1], OP "'s mask_key", k->err))) {
		m = &in[1].t;
		rc = check_mask(x, m, mkey, k->key, k->err);
	}
	if (rc || (rc = check(a, k->err)))
		return rc;
	if (mg_tensor_numel(x) == 0)
		return mg_err_set(k->err, MG_ERR_SHAPE, OP ": the image is empty");
	int64_t n;
	double *v = histogram_values(x, m, &n, k->err);
	if (!v)
		return k->err->code;
	if (n == 0 && !mg_dtype_is_float(x->dtype)) {
		free(v);
		return mg_err_set(k->err, MG_ERR_SHAPE, OP ": the mask '%s' selects no voxel of "
				  "the integer image (MONAI: \"zero-size array to reduction "
				  "operation\")", mkey);
	}
	/* np.histogram of no values: the bins of the range (0, 1), every count 0 */
	static const double unit[2] = {0, 1};
	struct mg_hist h;
	rc = mg_reduce_histogram(n ? v : unit, n ? n : 2, x->dtype, (int)a[A_NUM_BINS].v.i, &h,
				 k->err);
	free(v);
	if (!rc && n == 0)
		memset(h.counts, 0, sizeof *h.counts * (size_t)h.n);
	if (rc) {
		mg_err_prefix(k->err, OP);
		return rc;
	}
	/* rescale_array(cumsum, min, max) in float32 (its default dtype) */
	double *cum = malloc(sizeof *cum * (size_t)h.n);
	if (!cum) {
		mg_hist_free(&h);
		return mg_err_set(k->err, MG_ERR_NOMEM, OP ": out of memory");
	}
	int64_t run = 0;
	for (int64_t i = 0; i < h.n; i++) {
		run += h.counts[i];
		cum[i] = (float)run;
	}
	float lo = (float)cum[0], hi = (float)cum[h.n - 1];
	float bmin = (float)a[A_MIN].v.i, span = (float)(a[A_MAX].v.i - a[A_MIN].v.i);
	for (int64_t i = 0; i < h.n; i++) {
		float c = (float)cum[i]; /* float32 ops, as numpy's on a float32 array */
		cum[i] = lo == hi ? c * bmin : (c - lo) / (hi - lo) * span + bmin;
	}
	enum mg_dtype od = a[A_DTYPE].is_none ? x->dtype : (enum mg_dtype)a[A_DTYPE].v.i;
	struct interp t = {h.n, h.centers, cum};
	rc = mg_map_new(x, od, interp_one, &t, &out[0], k->err);
	free(cum);
	mg_hist_free(&h);
	return rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], OP, e);
	const char *mkey = a[A_MASK_KEY].is_none ? NULL : a[A_MASK_KEY].v.s;
	if (!rc && mkey && in[1].kind == MG_VK_STRINGS)
		rc = mg_err_set(e, MG_ERR_CONFIG, OP ": mask_key '%s' names a key that holds no "
				"image here (is it spelled right, and loaded before this "
				"transform?)", mkey);
	if (!rc && mkey && in[0].rank >= 0 && in[1].rank >= 0 && in[0].rank != in[1].rank)
		rc = mg_err_set(e, MG_ERR_SHAPE, OP ": the mask '%s' has rank %d and the image "
				"rank %d; mgc needs the same shape", mkey, in[1].rank, in[0].rank);
	if (!rc)
		rc = check(a, e);
	return mg_map_infer(rc, &in[0], &a[A_DTYPE], &out[0]);
}

const struct mg_opdef mg_op_histogram_normalize = {
	.name = OP,
	.synopsis = "histogram equalisation through the rescaled cumulative histogram",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = histogram_normalize,
};
