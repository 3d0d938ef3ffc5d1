/* skimage_threshold.c: skimage.filters' global thresholds as ForegroundMask calls them
 * (threshold_<name>(channel)): otsu, yen, isodata, triangle, mean. Each repeats
 * skimage 0.26's numpy code step by step in numpy's dtypes: the histogram (see
 * mg_reduce_histogram), float32 counts, and products with the bin centres in float32 for
 * float32 images, float64 for integer (int64 centres) and float64 ones. Read next:
 * foreground_mask.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int mg_threshold_known(const char *name)
{
	static const char *const names[] = {"otsu", "yen", "isodata", "triangle", "mean"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

int mg_threshold(const char *name, const double *v, int64_t n, enum mg_dtype dt, double *thr,
		 struct mg_err *e)
{
	if (!strcmp(name, "mean")) {
		*thr = mg_reduce_mean_np(v, n, dt);
		return 0;
	}
	if (!strcmp(name, "otsu")) { /* a constant image is its own threshold */
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
	if (!strcmp(name, "otsu"))
		rc = otsu(&h, product_dtype(dt), thr, e);
	else if (!strcmp(name, "yen"))
		rc = yen(&h, thr, e);
	else if (!strcmp(name, "isodata"))
		rc = isodata(&h, product_dtype(dt), dt, thr, e);
	else
		rc = triangle(&h, v, thr);
	mg_hist_free(&h);
	return rc;
}
