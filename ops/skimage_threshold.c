/* skimage_threshold.c: skimage.filters' global thresholds as ForegroundMask calls them
 * (threshold_<name>(channel)): otsu, yen, isodata, triangle, mean, li, minimum. Each
 * repeats skimage 0.26's numpy code step by step in numpy's dtypes: the histogram (see
 * mg_reduce_histogram), float32 counts, and products with the bin centres in float32 for
 * float32 images, float64 for integer (int64 centres) and float64 ones. The others
 * (local, niblack, sauvola, multiotsu) return arrays, which MONAI cannot use: refused.
 * Read next: foreground_mask.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intensity.h"

/* The dtype of counts (float32) * centres: float32 unless the centres are wider. */
static enum mg_dtype product_dtype(enum mg_dtype dt)
{
	return dt == MG_DTYPE_F32 || dt == MG_DTYPE_F16 || dt == MG_DTYPE_BF16 ? MG_DTYPE_F32
										: MG_DTYPE_F64;
}

/* Scratch arrays of h.n doubles; NULL and e set when out of memory. */
static double *scratch(int64_t n, int k, struct mg_err *e)
{
	double *p = malloc(sizeof *p * (size_t)(n * k));
	if (!p)
		mg_err_set(e, MG_ERR_NOMEM, "out of memory (threshold of %lld bins)", (long long)n);
	return p;
}

/* np.argmax: the first maximum, or the first NaN when there is one. */
static int64_t argmax(const double *a, int64_t n)
{
	int64_t best = 0;
	for (int64_t k = 0; k < n; k++) {
		if (isnan(a[k]))
			return k;
		if (a[k] > a[best])
			best = k;
	}
	return best;
}

/* threshold_otsu: the first maximum of the between-class variance. */
static int otsu(const struct mg_hist *h, enum mg_dtype pt, double *thr, struct mg_err *e)
{
	int64_t n = h->n;
	double *m = scratch(n, 5, e);
	if (!m)
		return e->code;
	double *m1 = m, *m2 = m + n, *w1 = m2 + n, *w2 = w1 + n, *var = w2 + n;
	double cw = 0, cm = 0;
	for (int64_t k = 0; k < n; k++) {
		cw = (float)(cw + (float)h->counts[k]);
		cm = mg_round_to(pt, cm + mg_round_to(pt, (float)h->counts[k] * h->centers[k]));
		w1[k] = cw;
		m1[k] = mg_round_to(pt, cm / cw);
	}
	cw = cm = 0;
	for (int64_t k = n - 1; k >= 0; k--) {
		cw = (float)(cw + (float)h->counts[k]);
		cm = mg_round_to(pt, cm + mg_round_to(pt, (float)h->counts[k] * h->centers[k]));
		w2[k] = cw;
		m2[k] = mg_round_to(pt, cm / cw);
	}
	for (int64_t k = 0; k + 1 < n; k++) {
		double d = mg_round_to(pt, m1[k] - m2[k + 1]);
		var[k] = mg_round_to(pt, (float)(w1[k] * w2[k + 1]) * mg_round_to(pt, d * d));
	}
	*thr = h->centers[argmax(var, n - 1)];
	free(m);
	return 0;
}

/* threshold_yen: argmax of log(1 / (P1_sq P2_sq) * (P1 (1 - P1))^2), all float32. */
static int yen(const struct mg_hist *h, double *thr, struct mg_err *e)
{
	int64_t n = h->n;
	if (n == 1) {
		*thr = h->centers[0];
		return 0;
	}
	double *m = scratch(n, 4, e);
	if (!m)
		return e->code;
	double *pmf = m, *p1 = m + n, *p1sq = p1 + n, *p2sq = p1sq + n;
	for (int64_t k = 0; k < n; k++)
		pmf[k] = (float)h->counts[k];
	float total = (float)mg_reduce_sum_np(pmf, n, 1), c = 0, csq = 0;
	for (int64_t k = 0; k < n; k++) {
		float p = (float)pmf[k] / total;
		pmf[k] = p;
		p1[k] = c = c + p;
		p1sq[k] = csq = csq + p * p;
	}
	csq = 0;
	for (int64_t k = n - 1; k >= 0; k--) {
		float p = (float)pmf[k];
		p2sq[k] = csq = csq + p * p;
	}
	for (int64_t k = 0; k + 1 < n; k++) {
		float inv = 1.0f / ((float)p1sq[k] * (float)p2sq[k + 1]);
		float b = (float)p1[k] * (1.0f - (float)p1[k]);
		pmf[k] = logf(inv * (b * b)); /* crit, over pmf: done with it */
	}
	*thr = h->centers[argmax(pmf, n - 1)];
	free(m);
	return 0;
}

/* threshold_isodata: the first centre t with 0 <= (lower + higher) / 2 - t < bin width. */
static int isodata(const struct mg_hist *h, enum mg_dtype pt, enum mg_dtype dt, double *thr,
		   struct mg_err *e)
{
	int64_t n = h->n;
	if (n == 1) {
		*thr = h->centers[0];
		return 0;
	}
	double *m = scratch(n, 2, e);
	if (!m)
		return e->code;
	double *csuml = m, *csumi = m + n, cw = 0, ci = 0;
	for (int64_t k = 0; k < n; k++) {
		csuml[k] = cw = (float)(cw + (float)h->counts[k]);
		csumi[k] = ci = mg_round_to(pt, ci + mg_round_to(pt, (float)h->counts[k] *
								      h->centers[k]));
	}
	/* centre differences in the centres' dtype (int64 for integer images) */
	double width = mg_dtype_is_float(dt) ? mg_round_to(dt, h->centers[1] - h->centers[0])
					     : h->centers[1] - h->centers[0];
	int found = 0;
	for (int64_t k = 0; k + 1 < n && !found; k++) {
		double csumh = (float)(csuml[n - 1] - csuml[k]);
		double lower = mg_round_to(pt, csumi[k] / csuml[k]);
		double higher = mg_round_to(pt, mg_round_to(pt, csumi[n - 1] - csumi[k]) / csumh);
		double mean = mg_round_to(pt, mg_round_to(pt, lower + higher) / 2.0);
		double dist = mg_round_to(pt, mean - h->centers[k]);
		if (dist >= 0 && dist < width) {
			*thr = h->centers[k];
			found = 1;
		}
	}
	free(m);
	if (!found) /* skimage: IndexError from thresholds[0] */
		return mg_err_set(e, MG_ERR_SHAPE, "threshold_isodata finds no threshold for "
				  "this image (skimage fails too)");
	return 0;
}

/* threshold_triangle: the level farthest from the line from the peak to the far end of
 * the longer tail (int64 counts, float64 geometry). */
static int triangle(const struct mg_hist *h, const double *v, double *thr)
{
	int64_t n = h->n, peak = 0, lo = -1, hi = -1;
	for (int64_t k = 0; k < n; k++) {
		if (h->counts[k] > h->counts[peak])
			peak = k;
		if (h->counts[k] != 0) {
			lo = lo < 0 ? k : lo;
			hi = k;
		}
	}
	if (lo == hi) {
		*thr = v[0];
		return 0;
	}
	double height = (double)h->counts[peak];
	int flip = peak - lo < hi - peak;
	if (flip) {
		lo = n - hi - 1;
		peak = n - peak - 1;
	}
	int64_t width = peak - lo;
	double norm = sqrt((double)((int64_t)height * (int64_t)height + width * width));
	double ph = height / norm, wd = (double)width / norm, best = 0;
	int64_t arg = 0;
	for (int64_t x = 0; x < width; x++) {
		int64_t y = h->counts[flip ? n - 1 - (x + lo) : x + lo];
		double len = ph * (double)x - wd * (double)y;
		if (x == 0 || len > best) {
			best = len;
			arg = x;
		}
	}
	int64_t level = arg + lo;
	*thr = h->centers[flip ? n - level - 1 : level];
	return 0;
}

/* threshold_li on a float image: Li's iteration on the voxels themselves, every step in
 * the image's dtype (np.mean's pairwise sums, float32 logs for float32). numpy's float32
 * log is its own SIMD code (which one depends on the CPU), not libm's logf: they differ
 * by an ulp on about a quarter of inputs, so the float32 threshold can end a few ulps
 * from skimage's (2.8e-7 relative at most over 400 random images; float64 and integer
 * images matched exactly). v: n values, not NaN, finite, not all equal; w: scratch of
 * 2n doubles. */
static int li_float(double *v, int64_t n, enum mg_dtype dt, double *w, double *thr,
		    struct mg_err *e)
{
#define R(x) mg_round_to(dt, (x))
	double lo = v[0], tol = INFINITY;
	for (int64_t i = 1; i < n; i++)
		lo = v[i] < lo ? v[i] : lo;
	for (int64_t i = 0; i < n; i++) /* skimage makes the image positive: log(mean) */
		w[i] = v[i] = R(v[i] - lo);
	/* the default tolerance: half the smallest gap between distinct values */
	qsort(w, (size_t)n, sizeof *w, mg_cmp_double);
	for (int64_t i = 1; i < n; i++)
		if (w[i] != w[i - 1] && R(w[i] - w[i - 1]) < tol)
			tol = R(w[i] - w[i - 1]);
	if (tol == INFINITY) /* the finite voxels are all equal: np.min of an empty diff */
		return mg_err_set(e, MG_ERR_SHAPE, "threshold_li: the finite values of this "
				  "image are all equal (skimage fails too: ValueError, zero-size "
				  "array to reduction operation minimum)");
	tol = R(tol / 2);
	double next = mg_reduce_mean_np(v, n, dt), cur = R(-2 * tol);
	while (R(fabs(R(next - cur))) > tol) {
		cur = next;
		int64_t nf = 0, nb = 0;
		for (int64_t i = 0; i < n; i++) { /* image[foreground], image[~foreground] */
			if (v[i] > cur)
				w[nf++] = v[i];
			else
				w[n + nb++] = v[i];
		}
		double mf = nf ? mg_reduce_mean_np(w, nf, dt) : NAN;
		double mb = nb ? mg_reduce_mean_np(w + n, nb, dt) : NAN;
		if (mb == 0)
			break;
		double lb = dt == MG_DTYPE_F64 ? log(mb) : R(logf((float)mb));
		double lf = dt == MG_DTYPE_F64 ? log(mf) : R(logf((float)mf));
		next = R(R(mb - mf) / R(lb - lf));
	}
	*thr = R(next + lo);
	return 0;
#undef R
}

/* x - min as numpy computes it in place in an integer dtype: signed values wrap (an int8
 * image spanning more than 127 wraps, as skimage's does). */
static double int_sub(enum mg_dtype dt, double x, double lo)
{
	int bits = (int)mg_dtype_size(dt) * 8;
	int is_signed = dt == MG_DTYPE_I8 || dt == MG_DTYPE_I16 || dt == MG_DTYPE_I32;
	if (!is_signed)
		return x - lo;
	int64_t span = (int64_t)1 << bits, d = (int64_t)(x - lo);
	return (double)(d >= span / 2 ? d - span : d);
}

/* threshold_li on an integer image: Li's iteration on the one-bin-per-integer histogram
 * of x - min, np.average in float64. v: n values, not all equal; w: scratch of 2n. */
static int li_int(const double *v, int64_t n, enum mg_dtype dt, double *w, double *thr,
		  struct mg_err *e)
{
	double lo = v[0];
	for (int64_t i = 1; i < n; i++)
		lo = v[i] < lo ? v[i] : lo;
	for (int64_t i = 0; i < n; i++)
		w[i] = int_sub(dt, v[i], lo);
	struct mg_hist h;
	double next = mg_reduce_mean_np(w, n, dt), cur = -1.0; /* -2 * tolerance 0.5 */
	int rc = mg_reduce_histogram(w, n, dt, 256, &h, e);
	double *m = rc ? NULL : scratch(h.n, 4, e);
	if (!m) {
		mg_hist_free(&h);
		return e->code;
	}
	while (fabs(next - cur) > 0.5) {
		cur = next;
		double mean[2]; /* foreground, background */
		for (int side = 0; side < 2; side++) {
			double *cw = m, *ww = m + h.n;
			int64_t k = 0;
			for (int64_t b = 0; b < h.n; b++)
				if ((h.centers[b] > cur) == !side) {
					ww[k] = (float)h.counts[b];
					cw[k++] = h.centers[b] * (float)h.counts[b];
				}
			double scl = mg_reduce_sum_np(ww, k, 0);
			if (scl == 0) {
				rc = mg_err_set(e, MG_ERR_SHAPE, "threshold_li: an empty class "
						"(skimage fails too: ZeroDivisionError)");
				break;
			}
			mean[side] = mg_reduce_sum_np(cw, k, 0) / scl;
		}
		if (rc || mean[1] == 0)
			break;
		next = (mean[1] - mean[0]) / (log(mean[1]) - log(mean[0]));
	}
	*thr = next + lo;
	free(m);
	mg_hist_free(&h);
	return rc;
}

/* threshold_li (default tolerance and initial guess, the mean): NaNs dropped first; an
 * empty image gives NaN, a constant one its value, one of infinities only 0. */
static int li(const double *v, int64_t n, enum mg_dtype dt, double *thr, struct mg_err *e)
{
	double *m = scratch(n > 0 ? n : 1, 3, e);
	if (!m)
		return e->code;
	int64_t k = 0, all_equal = 1;
	for (int64_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			m[k++] = v[i];
	for (int64_t i = 1; i < k && all_equal; i++)
		all_equal = m[i] == m[0];
	int rc = 0;
	if (k == 0 || all_equal) {
		*thr = k ? m[0] : NAN;
	} else if (!mg_dtype_is_float(dt)) {
		rc = li_int(m, k, dt, m + n, thr, e);
	} else {
		int64_t f = 0;
		for (int64_t i = 0; i < k; i++)
			if (isfinite(m[i]))
				m[f++] = m[i];
		if (f == 0) /* both infinities: skimage splits them at 0 */
			*thr = 0;
		else
			rc = li_float(m, f, dt, m + n, thr, e);
	}
	free(m);
	return rc;
}

/* scipy.ndimage.uniform_filter1d(a, 3) on float32 a (mode reflect: the ends repeat): a
 * running float64 sum of the window, divided by 3 and stored as float32. */
static void uniform3(const double *a, double *out, int64_t n)
{
#define A(i) a[(i) < 0 ? 0 : (i) >= n ? n - 1 : (i)]
	double sum = 0.0 + A(-1) + A(0) + A(1);
	out[0] = (float)(sum / 3);
	for (int64_t l = 1; l < n; l++) {
		sum += A(l + 1) - A(l - 2);
		out[l] = (float)(sum / 3);
	}
#undef A
}

/* skimage's find_local_maxima_idx: how many maxima (plateaus count once, at their
 * start), the first two in m[0], m[1]. */
static int64_t local_maxima(const double *a, int64_t n, int64_t m[2])
{
	int64_t count = 0;
	int up = 1;
	for (int64_t i = 0; i + 1 < n; i++) {
		if (up && a[i + 1] < a[i]) {
			up = 0;
			if (count < 2)
				m[count] = i;
			count++;
		} else if (!up && a[i + 1] > a[i]) {
			up = 1;
		}
	}
	return count;
}

/* threshold_minimum (max_num_iter 10000): smooth the float32 histogram until it has
 * fewer than three maxima; the lowest point between exactly two is the threshold. */
static int minimum(const struct mg_hist *h, double *thr, struct mg_err *e)
{
	enum { MAX_ITER = 10000 };
	int64_t n = h->n, mx[2] = {0, 0}, count = 0;
	double *m = scratch(n, 2, e);
	if (!m)
		return e->code;
	double *s = m, *t = m + n;
	for (int64_t k = 0; k < n; k++)
		s[k] = (float)h->counts[k];
	int iter;
	for (iter = 0; iter < MAX_ITER; iter++) {
		uniform3(s, t, n);
		double *swap = s;
		s = t;
		t = swap;
		if ((count = local_maxima(s, n, mx)) < 3)
			break;
	}
	int rc = 0;
	if (count != 2) {
		rc = mg_err_set(e, MG_ERR_SHAPE, "threshold_minimum finds %lld maxima in the "
				"smoothed histogram, not 2 (skimage fails too: RuntimeError, "
				"Unable to find two maxima in histogram)", (long long)count);
	} else if (iter >= MAX_ITER - 1) {
		rc = mg_err_set(e, MG_ERR_SHAPE, "threshold_minimum: %d smoothing iterations "
				"reached (skimage fails too: RuntimeError, Maximum iteration "
				"reached for histogram smoothing)", MAX_ITER);
	} else {
		int64_t best = mx[0];
		for (int64_t k = mx[0]; k <= mx[1]; k++)
			best = s[k] < s[best] ? k : best;
		*thr = h->centers[best];
	}
	free(m);
	return rc;
}

const char *mg_threshold_refusal(const char *name)
{
	static const char *const names[] = {"otsu",     "yen", "isodata", "triangle",
					    "mean",     "li",  "minimum"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcasecmp(name, names[i]))
			return NULL;
	if (!strcasecmp(name, "local") || !strcasecmp(name, "niblack") ||
	    !strcasecmp(name, "sauvola"))
		return "cannot be run by MONAI: skimage gives a threshold per voxel for it, and "
		       "MONAI's `if threshold:` raises ValueError on that array (unless a "
		       "channel has a single voxel)";
	if (!strcasecmp(name, "multiotsu"))
		return "cannot be run by MONAI: threshold_multiotsu returns two thresholds and "
		       "MONAI's `if threshold:` raises ValueError on them";
	return "is not a skimage.filters threshold method";
}

int mg_threshold(const char *name, const double *v, int64_t n, enum mg_dtype dt, double *thr,
		 struct mg_err *e)
{
	if (!strcasecmp(name, "mean")) {
		*thr = mg_reduce_mean_np(v, n, dt);
		return 0;
	}
	if (!strcasecmp(name, "li"))
		return li(v, n, dt, thr, e);
	if (!strcasecmp(name, "otsu")) { /* a constant image is its own threshold */
		int64_t i = 1;
		while (i < n && v[i] == v[0])
			i++;
		if (i == n) {
			*thr = v[0];
			return 0;
		}
	}
	struct mg_hist h;
	int rc = mg_reduce_histogram(v, n, dt, 256, &h, e);
	if (rc)
		return rc;
	if (!strcasecmp(name, "otsu"))
		rc = otsu(&h, product_dtype(dt), thr, e);
	else if (!strcasecmp(name, "yen"))
		rc = yen(&h, thr, e);
	else if (!strcasecmp(name, "isodata"))
		rc = isodata(&h, product_dtype(dt), dt, thr, e);
	else if (!strcasecmp(name, "minimum"))
		rc = minimum(&h, thr, e);
	else
		rc = triangle(&h, v, thr);
	mg_hist_free(&h);
	return rc;
}
