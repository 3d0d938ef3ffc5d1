/* intensity.c: the helpers intensity ops share (see intensity.h): channel groups, the
 * elementwise map, MONAI's range scaling and the reductions. Each reduction repeats the
 * library MONAI calls (torch.quantile, np.percentile, np.histogram, np.mean) operation by
 * operation, in its precision, so results match bit for bit where the library's own order
 * is fixed (it is for all of these). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

int64_t mg_group_count(const struct mg_tensor *x, int channel_wise)
{
	return channel_wise && x->rank > 0 ? x->dims[0] : 1;
}

struct mg_tensor mg_group(const struct mg_tensor *x, int channel_wise, int64_t c)
{
	struct mg_tensor g = *x;
	if (channel_wise && x->rank > 0) {
		g.dims[0] = 1;
		g.offset += c * x->strides[0];
	}
	return g;
}

void mg_map(const struct mg_tensor *x, struct mg_tensor *y, mg_map_fn *f, const void *ctx)
{
	if (mg_tensor_numel(x) == 0)
		return;
	size_t si = mg_dtype_size(x->dtype), so = mg_dtype_size(y->dtype);
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(y);
	struct mg_iter it;
	for (mg_iter_init_memorder(&it, x->rank, x->dims, 2,
				   (const int64_t *[]){x->strides, y->strides});
	     !it.done; mg_iter_next_row(&it))
		for (int64_t i = 0; i < it.inner; i++) {
			double v = mg_dtype_load(x->dtype,
						 px + (it.off[0] + i * it.istride[0]) * (int64_t)si);
			mg_dtype_store(y->dtype, py + (it.off[1] + i * it.istride[1]) * (int64_t)so,
				       f(ctx, v));
		}
}

int mg_map_new(const struct mg_tensor *x, enum mg_dtype od, mg_map_fn *f, const void *ctx,
	       struct mg_val *out, struct mg_err *e)
{
	struct mg_tensor y;
	int rc = mg_tensor_alloc_like(&y, x, od, e);
	if (rc)
		return rc;
	mg_map(x, &y, f, ctx);
	mg_val_set_tensor(out, y, x->meta);
	return 0;
}

int mg_map_infer(int rc, const struct mg_type *in, const struct mg_attr *dtype,
		 struct mg_type *out)
{
	*out = *in;
	out->kind = MG_VK_TENSOR;
	if (dtype && !dtype->is_none)
		out->dtype = (int)dtype->v.i;
	return rc;
}

double *mg_gather(const struct mg_tensor *x, struct mg_err *e)
{
	int64_t n = mg_tensor_numel(x);
	double *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
	if (!v) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory (%lld values)", (long long)n);
		return NULL;
	}
	if (n == 0)
		return v;
	size_t si = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	int64_t k = 0;
	struct mg_iter it;
	for (mg_iter_init(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides}); !it.done;
	     mg_iter_next_row(&it))
		for (int64_t i = 0; i < it.inner; i++)
			v[k++] = mg_dtype_load(x->dtype, px + (it.off[0] + i * it.istride[0]) * (int64_t)si);
	return v;
}

void mg_reduce_minmax(const struct mg_tensor *x, double *mn, double *mx)
{
	size_t si = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	double lo = INFINITY, hi = -INFINITY;
	struct mg_iter it;
	for (mg_iter_init_memorder(&it, x->rank, x->dims, 1, (const int64_t *[]){x->strides});
	     !it.done; mg_iter_next_row(&it))
		for (int64_t i = 0; i < it.inner; i++) {
			double v = mg_dtype_load(x->dtype, px + (it.off[0] + i * it.istride[0]) * (int64_t)si);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	*mn = lo;
	*mx = hi;
}

int mg_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* torch.quantile's linear interpolation: the rank q * (n - 1) in float64 of q / 100
 * rounded to x's dtype; np.percentile's: float64 throughout. */
static double quantile_rank(int64_t n, double q, int f32)
{
	if (n > 1000000)
		return q / 100.0 * (double)(n - 1);
	double qt = f32 ? (double)(float)(q / 100.0) : q / 100.0;
	return qt * (double)(n - 1);
}

void mg_percentile_ranks(int64_t n, double q, int f32, int64_t rank[2])
{
	double r = quantile_rank(n, q, f32);
	rank[0] = (int64_t)floor(r); /* r >= 0: torch's (int64_t) truncation is floor */
	rank[1] = n > 1000000 ? (rank[0] + 1 < n ? rank[0] + 1 : n - 1) : (int64_t)ceil(r);
}

/* torch: the weight rounded to x's dtype, then Tensor.lerp as ATen's vectorised kernel
 * does it: one fused multiply-add from the nearer end (checked against torch on 3000
 * random cases). numpy: float64 weight, numpy's _lerp (from the nearer end) with the
 * difference in x's dtype, the sum in float64; MONAI converts the result back to x's
 * dtype. */
double mg_percentile_lerp(int64_t n, double q, int f32, double lo, double hi)
{
	double rank = quantile_rank(n, q, f32);
	if (n > 1000000) {
		double t = rank - floor(rank);
		double d = f32 ? (double)(float)(hi - lo) : hi - lo;
		double r = t >= 0.5 ? hi - d * (1 - t) : lo + d * t;
		return f32 ? (double)(float)r : r;
	}
	int64_t below = (int64_t)rank;
	if (f32) {
		float w = (float)(rank - (double)below), d = (float)((float)hi - (float)lo);
		return fabsf(w) < 0.5f ? fmaf(w, d, (float)lo) : fmaf(w - 1.0f, d, (float)hi);
	}
	double w = rank - (double)below, d = hi - lo;
	return fabs(w) < 0.5 ? fma(w, d, lo) : fma(w - 1.0, d, hi);
}

int mg_reduce_percentiles(const struct mg_tensor *x, int n, const double *q, double *out,
			  struct mg_err *e)
{
	double *s = mg_gather(x, e);
	if (!s)
		return e->code;
	int64_t len = mg_tensor_numel(x);
	qsort(s, (size_t)len, sizeof *s, mg_cmp_double);
	int f32 = x->dtype == MG_DTYPE_F32;
	for (int i = 0; i < n; i++) {
		int64_t r[2];
		mg_percentile_ranks(len, q[i], f32, r);
		out[i] = mg_percentile_lerp(len, q[i], f32, s[r[0]], s[r[1]]);
	}
	free(s);
	return 0;
}

int mg_percentile_dtype(const char *op, int dtype, struct mg_err *e)
{
	if (dtype >= 0 && dtype != MG_DTYPE_F32 && dtype != MG_DTYPE_F64)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s needs a float32 or float64 image, not %s (MONAI's "
				  "torch.quantile refuses it; add CastToType first)",
				  op, mg_dtype_name((enum mg_dtype)dtype));
	return 0;
}

int mg_percentile_input(const char *op, const struct mg_tensor *x, struct mg_err *e)
{
	int rc = mg_percentile_dtype(op, (int)x->dtype, e);
	if (rc)
		return rc;
	if (mg_tensor_numel(x) == 0)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: percentiles of an empty image", op);
	return 0;
}

int mg_percentile_groups(const char *op, const struct mg_tensor *x, enum mg_dtype od,
			 int channel_wise, mg_group_fn *f, const void *ctx, struct mg_val *out,
			 struct mg_err *e)
{
	struct mg_tensor y;
	int rc = mg_percentile_input(op, x, e);
	if (rc || (rc = mg_tensor_alloc_like(&y, x, od, e)))
		return rc;
	for (int64_t c = 0; c < mg_group_count(x, channel_wise) && !rc; c++) {
		struct mg_tensor xc = mg_group(x, channel_wise, c);
		struct mg_tensor yc = mg_group(&y, channel_wise, c);
		rc = f(ctx, &xc, &yc, e);
	}
	return mg_val_set_result(out, y, x->meta, rc);
}

int mg_percentile_arg(const char *op, const char *name, const struct mg_attr *q,
		      struct mg_err *e)
{
	if (!q->is_none && !(q->v.f >= 0 && q->v.f <= 100))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: %s is %g; percentiles must be in the "
				  "range [0, 100]", op, name, q->v.f);
	return 0;
}

void mg_hist_free(struct mg_hist *h)
{
	free(h->counts);
	free(h->centers);
	memset(h, 0, sizeof *h);
}

static int hist_alloc(struct mg_hist *h, int64_t n, struct mg_err *e)
{
	h->n = n;
	h->counts = calloc((size_t)n, sizeof *h->counts);
	h->centers = malloc((size_t)n * sizeof *h->centers);
	if (h->counts && h->centers)
		return 0;
	mg_hist_free(h);
	return mg_err_set(e, MG_ERR_NOMEM, "out of memory (a histogram of %lld bins)", (long long)n);
}

/* np.histogram(v, nbins) with range None, in dt's precision (rd rounds to it):
 * numpy's linspace edges, its f_indices with the +-1 edge corrections. */
static int hist_float(const double *v, int64_t n, enum mg_dtype dt, int nbins,
		      struct mg_hist *h, struct mg_err *e)
{
#define RD(x) mg_round_to(dt, (x))
	double first = v[0], last = v[0];
	for (int64_t i = 1; i < n; i++) {
		first = v[i] < first ? v[i] : first;
		last = v[i] > last ? v[i] : last;
	}
	if (!isfinite(first) || !isfinite(last))
		return mg_err_set(e, MG_ERR_SHAPE, "the histogram range [%g, %g] is not finite",
				  first, last);
	if (first == last) {
		first = RD(first - 0.5);
		last = RD(last + 0.5);
	}
	double *edges = malloc(sizeof *edges * (size_t)(nbins + 1));
	if (!edges || hist_alloc(h, nbins, e)) {
		free(edges);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory (%d histogram bins)", nbins);
	}
	double delta = RD(last - first), step = RD(delta / nbins);
	for (int i = 0; i <= nbins; i++)
		edges[i] = step == 0 ? RD(RD(RD((double)i / nbins) * delta) + first)
				     : RD(RD(i * step) + first);
	edges[nbins] = last;
	for (int64_t i = 0; i < n; i++) {
		double f = RD(RD(RD(v[i] - first) / delta) * nbins);
		int64_t k = (int64_t)f;
		if (k == nbins)
			k--;
		if (v[i] < edges[k])
			k--;
		if (v[i] >= edges[k + 1] && k != nbins - 1)
			k++;
		h->counts[k]++;
	}
	for (int i = 0; i < nbins; i++)
		h->centers[i] = RD((edges[i] + edges[i + 1]) / 2.0);
#undef RD
	free(edges);
	return 0;
}

int mg_reduce_histogram(const double *v, int64_t n, enum mg_dtype dt, int nbins,
			struct mg_hist *h, struct mg_err *e)
{
	memset(h, 0, sizeof *h);
	if (n == 0)
		return mg_err_set(e, MG_ERR_SHAPE, "a histogram of an empty image");
	if (mg_dtype_is_float(dt))
		return hist_float(v, n, dt, nbins, h, e);
	double lo = v[0], hi = v[0];
	for (int64_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	/* skimage's bincount: one bin per integer, however wide the range */
	if (hi - lo >= (double)(1 << 26))
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "integer values span %.0f..%.0f: skimage's one-bin-per-integer "
				  "histogram would need %.0f bins (cast to float first)",
				  lo, hi, hi - lo + 1);
	int rc = hist_alloc(h, (int64_t)(hi - lo) + 1, e);
	if (rc)
		return rc;
	for (int64_t i = 0; i < h->n; i++)
		h->centers[i] = lo + (double)i;
	for (int64_t i = 0; i < n; i++)
		h->counts[(int64_t)(v[i] - lo)]++;
	return 0;
}

double mg_reduce_sum_np(const double *a, int64_t n, int f32)
{
#define ACC(x) (f32 ? (double)(float)(x) : (x))
	if (n < 8) {
		double res = -0.0;
		for (int64_t i = 0; i < n; i++)
			res = ACC(res + a[i]);
		return res;
	}
	if (n <= 128) {
		double r[8];
		int64_t i;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] = ACC(r[j] + a[i + j]);
		double res = ACC(ACC(ACC(r[0] + r[1]) + ACC(r[2] + r[3])) +
				 ACC(ACC(r[4] + r[5]) + ACC(r[6] + r[7])));
		for (; i < n; i++)
			res = ACC(res + a[i]);
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return ACC(mg_reduce_sum_np(a, n2, f32) + mg_reduce_sum_np(a + n2, n - n2, f32));
#undef ACC
}

double mg_reduce_mean_np(const double *v, int64_t n, enum mg_dtype dt)
{
	int f32 = dt == MG_DTYPE_F32 || dt == MG_DTYPE_F16 || dt == MG_DTYPE_BF16;
	/* data that needs a cast (not float32/float64) goes through numpy's 8192-element
	 * buffers, each summed pairwise into the running total */
	int64_t chunk = dt == MG_DTYPE_F32 || dt == MG_DTYPE_F64 ? n : 8192;
	double sum = 0;
	for (int64_t i = 0; i < n; i += chunk) {
		double part = mg_reduce_sum_np(v + i, n - i < chunk ? n - i : chunk, f32);
		sum = f32 ? (double)(float)(sum + part) : sum + part;
	}
	if (!f32)
		return sum / (double)n;
	return mg_round_to(dt, (double)((float)sum / (float)n));
}

double mg_range_scale_apply(const void *ctx, double x)
{
	const struct mg_range_scale *s = ctx;
	enum mg_dtype ct = s->ct;
	double v = mg_round_to(ct, mg_round_to(ct, x) - s->amin);
	if (s->degenerate)
		return s->has_lo ? mg_round_to(ct, v + s->bmin) : v;
	v = mg_round_to(ct, v / s->arange);
	if (s->has_lo && s->has_hi)
		v = mg_round_to(ct, mg_round_to(ct, v * s->brange) + s->bmin);
	/* torch.clamp order: max with the low bound, then min */
	if (s->clip && s->has_lo && v < s->bmin)
		v = s->bmin;
	if (s->clip && s->has_hi && v > s->bmax)
		v = s->bmax;
	return v;
}

int32_t mg_range_scale_emit(struct mg_kir *k, const struct mg_range_scale *s, int32_t x,
			    double *pv)
{
	enum mg_dtype ct = s->ct;
	int c = mg_gen_ctype(ct);
	int32_t v = mg_kir_cast(k, c, x);
	if (c != (int)ct) /* mg_round_to(ct, x) */
		v = mg_kir_cast(k, MG_DTYPE_F32, mg_kir_cast(k, ct, v));
	v = mg_gen_arith(k, MG_KOP_SUB, v,
			 pv ? mg_gen_param(k, pv, c, s->amin) : mg_kir_const(k, c, s->amin), ct);
	int32_t deg = v; /* x - amin (+ bmin), unclipped */
	if (s->has_lo && (s->degenerate || pv))
		deg = mg_gen_arith(k, MG_KOP_ADD, v, mg_kir_const(k, c, s->bmin), ct);
	if (s->degenerate && !pv)
		return deg;
	v = mg_gen_arith(k, MG_KOP_DIV, v,
			 pv ? mg_gen_param(k, pv, c, s->arange) : mg_kir_const(k, c, s->arange), ct);
	if (s->has_lo && s->has_hi) {
		v = mg_gen_arith(k, MG_KOP_MUL, v, mg_kir_const(k, c, s->brange), ct);
		v = mg_gen_arith(k, MG_KOP_ADD, v, mg_kir_const(k, c, s->bmin), ct);
	}
	/* torch.clamp: a NaN stays NaN, which a compare-and-select keeps */
	if (s->clip && s->has_lo) {
		int32_t lo = mg_kir_const(k, c, s->bmin);
		v = mg_kir_select(k, mg_kir_op(k, MG_KOP_LT, v, lo), lo, v);
	}
	if (s->clip && s->has_hi) {
		int32_t hi = mg_kir_const(k, c, s->bmax);
		v = mg_kir_select(k, mg_kir_op(k, MG_KOP_GT, v, hi), hi, v);
	}
	return pv ? mg_kir_select(k, mg_gen_param(k, pv, MG_KT_BOOL, s->degenerate), deg, v) : v;
}
