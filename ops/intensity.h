/* intensity.h: what the intensity ops share (intensity.c, gaussian.c): rounding as one
 * torch op rounds, channel groups, an elementwise map, MONAI's range scaling, and the
 * reductions some ops need before their elementwise pass (min/max, percentiles as
 * torch.quantile and np.percentile compute them, skimage's histogram, numpy's mean).
 * The elementwise-fusion pass will run the reductions first and fuse the map after.
 * Read next: scale_intensity_range.c, scale_intensity.c. */
#ifndef MG_INTENSITY_H
#define MG_INTENSITY_H

#include <math.h>

#include "op.h"

/* torch's result dtype for `tensor op python_float`: float dtypes keep theirs, integer
 * ones compute in float32 (the default dtype). */
static inline enum mg_dtype mg_float_dtype(enum mg_dtype in)
{
	return mg_dtype_is_float(in) ? in : MG_DTYPE_F32;
}

/* v rounded to what a tensor of dtype t holds: one torch op's result (floats only). */
static inline double mg_round_to(enum mg_dtype t, double v)
{
	switch (t) {
	case MG_DTYPE_F32: return (float)v;
	case MG_DTYPE_F16: return mg_f16_to_f32(mg_f32_to_f16((float)v));
	case MG_DTYPE_BF16: return mg_bf16_to_f32(mg_f32_to_bf16((float)v));
	default: return v;
	}
}

/* v as a tensor of dtype t holds it after torch's .to(t): rounded for floats, truncated
 * toward zero for integers (saturating, as mg_dtype_store). */
static inline double mg_convert_value(enum mg_dtype t, double v)
{
	char b[8];
	mg_dtype_store(t, b, v);
	return mg_dtype_load(t, b);
}

/* MONAI's channel_wise: channel c of x (a borrowed view: no references taken), or all of
 * x when !channel_wise; mg_group_count says how many groups there are. */
int64_t mg_group_count(const struct mg_tensor *x, int channel_wise);
struct mg_tensor mg_group(const struct mg_tensor *x, int channel_wise, int64_t c);

/* y[i] = f(ctx, x[i]) stored in y's dtype, walking x in its memory order (y laid out
 * alike or not: any strides). */
typedef double mg_map_fn(const void *ctx, double v);
void mg_map(const struct mg_tensor *x, struct mg_tensor *y, mg_map_fn *f, const void *ctx);
/* The kernel of a per-voxel op: mg_map into a new y of dtype od laid out as x, set as
 * out with x's meta. */
int mg_map_new(const struct mg_tensor *x, enum mg_dtype od, mg_map_fn *f, const void *ctx,
	       struct mg_val *out, struct mg_err *e);
/* The type rule of a per-voxel op once its checks gave rc: in's type (a tensor), in the
 * dtype of the argument `dtype` unless that is NULL or null; returns rc. */
int mg_map_infer(int rc, const struct mg_type *in, const struct mg_attr *dtype,
		 struct mg_type *out);

/* x's values in logical (C) order, as numpy sees a MONAI tensor: a malloc'd array of
 * numel doubles (exact for every dtype but int64 past 2^53); NULL and e set on failure. */
double *mg_gather(const struct mg_tensor *x, struct mg_err *e);

/* Smallest and largest value of x (numel > 0). */
void mg_reduce_minmax(const struct mg_tensor *x, double *mn, double *mx);

/* MONAI's percentile(x, q) for q[0..n) in [0, 100] into out: torch.quantile (linear) on
 * x's float dtype up to 1e6 voxels, np.percentile above (MONAI's switch, pytorch#64947).
 * x must be float32 or float64 (torch.quantile refuses others); numel > 0. */
int mg_reduce_percentiles(const struct mg_tensor *x, int n, const double *q, double *out,
			  struct mg_err *e);

/* The two ranks (0-based, of the values sorted) that MONAI's percentile q of n values
 * reads, and the percentile from the values lo, hi at those ranks: the two halves of
 * mg_reduce_percentiles, shared with the generated selection (gen_select.c). */
void mg_percentile_ranks(int64_t n, double q, int f32, int64_t rank[2]);
double mg_percentile_lerp(int64_t n, double q, int f32, double lo, double hi);

/* An exact selection of the values at the ranks percentiles q[0..nq) of n float32 or
 * float64 values read, in kernel IR (gen_select.c: a radix select, `levels` passes of
 * histograms). Use: init; per level, emit into each kernel over the values (one per
 * channel group when several make up the values), add each kernel's reductions, next;
 * then percentile j. init and next return 0 or an error (next: -1 when the values hold
 * NaN, whose order is the reference kernel's own). */
enum { MG_QSELECT_MAXQ = 2 };
struct mg_qselect {
	int f32, levels, nq, nr;
	int64_t n;
	const double *q;
	int64_t left[2 * MG_QSELECT_MAXQ];   /* rank among the values with the prefix */
	int64_t prefix[2 * MG_QSELECT_MAXQ]; /* the key's digits found so far */
	int same[2 * MG_QSELECT_MAXQ];       /* the first rank with the same prefix */
	double nan;                         /* NaN values seen */
	double *hist;                       /* nr histograms of the level */
};
int mg_qselect_init(struct mg_qselect *s, int f32, int64_t n, int nq, const double *q);
void mg_qselect_free(struct mg_qselect *s);
int mg_qselect_emit(const struct mg_qselect *s, int level, struct mg_kir *k, double *pv,
		   int32_t x);
void mg_qselect_add(struct mg_qselect *s, const struct mg_kinfo *info, const double *red);
int mg_qselect_next(struct mg_qselect *s, int level);
double mg_qselect_percentile(const struct mg_qselect *s, int j);

/* The checks MONAI's percentile ops make: x float32 or float64 (torch.quantile's
 * "input tensor must be either float or double dtype"), a percentile argument `name` in
 * [0, 100]. Errors name op. */
int mg_percentile_input(const char *op, const struct mg_tensor *x, struct mg_err *e);
/* The same check at type inference (dtype -1: unknown, accepted). */
int mg_percentile_dtype(const char *op, int dtype, struct mg_err *e);
/* The kernel of a percentile op (ClipIntensityPercentiles,
 * ScaleIntensityRangePercentiles): x checked as above, then f(ctx, xc, yc) on each channel
 * group (channel_wise) of x and of a new y of dtype od, set as out with x's meta. */
typedef int mg_group_fn(const void *ctx, const struct mg_tensor *x, struct mg_tensor *y,
			struct mg_err *e);
int mg_percentile_groups(const char *op, const struct mg_tensor *x, enum mg_dtype od,
			 int channel_wise, mg_group_fn *f, const void *ctx, struct mg_val *out,
			 struct mg_err *e);
int mg_percentile_arg(const char *op, const char *name, const struct mg_attr *q,
		      struct mg_err *e);

/* skimage.exposure.histogram(v, nbins) of n values of dtype dt: integer dtypes get one
 * bin per integer from min to max (nbins ignored), float ones np.histogram's nbins
 * uniform bins over [min, max] in dt's precision, centres between edges. */
struct mg_hist {
	int64_t n;
	int64_t *counts;
	double *centers;
};
int mg_reduce_histogram(const double *v, int64_t n, enum mg_dtype dt, int nbins,
			struct mg_hist *h, struct mg_err *e);
void mg_hist_free(struct mg_hist *h);

/* np.sum of a contiguous array of n values: numpy's pairwise_sum (8 accumulators over
 * blocks of up to 128, halves kept multiples of 8 above), in float32 when f32. */
double mg_reduce_sum_np(const double *a, int64_t n, int f32);

/* qsort's comparison of doubles, ascending. */
int mg_cmp_double(const void *a, const void *b);

/* np.mean of n values of dtype dt (in C order): numpy's pairwise sum, in float32 for
 * float32/float16 data and float64 otherwise, rounded to the result dtype. */
double mg_reduce_mean_np(const double *v, int64_t n, enum mg_dtype dt);

/* ScaleIntensityRange's arithmetic, one torch op (rounded to ct) at a time:
 * (x - amin) / arange, then * brange + bmin when both b bounds are set, clipped to the set
 * bounds when clip; degenerate (arange == 0): x - amin (+ bmin), unclipped. Values are
 * in ct's precision already (mg_range_scale_init rounds Python floats as torch does). */
struct mg_range_scale {
	enum mg_dtype ct;
	double amin, arange, bmin, bmax, brange;
	int has_lo, has_hi, clip, degenerate;
};
double mg_range_scale_apply(const void *rs, double v);
/* The same in kernel IR on the voxel node x: a node of rs->ct's compute type
 * (mg_gen_ctype). pv NULL: amin, arange and degenerate are the kernel's constants; else
 * they come from statistics and enter as parameters (pv), the degenerate case chosen
 * per voxel by a parameter, so the code does not depend on them. */
int32_t mg_range_scale_emit(struct mg_kir *k, const struct mg_range_scale *rs, int32_t x,
			    double *pv);

/* ---- skimage_threshold.c: skimage.filters.threshold_<name> ---- */

/* NULL when mgc has threshold_<name> (otsu, yen, isodata, triangle, mean, li, minimum;
 * any case, as MONAI lowers it), else why not: a phrase to follow the name. */
const char *mg_threshold_refusal(const char *name);
/* threshold_<name> of n values of dtype dt in C order (one channel, as numpy sees it),
 * in skimage's dtypes step by step, into *thr. */
int mg_threshold(const char *name, const double *v, int64_t n, enum mg_dtype dt, double *thr,
		 struct mg_err *e);

/* ---- gaussian.c: MONAI's GaussianFilter ---- */

/* gaussian_1d(sigma, truncated=4, approx): 2 * tail + 1 float32 taps into k (at most
 * MG_GAUSS_MAXTAPS), their count in *n; approx "erf", "sampled" or "scalespace". */
enum { MG_GAUSS_MAXTAPS = 4097 };
int mg_gaussian_kernel(double sigma, const char *approx, float *k, int *n, struct mg_err *e);

/* separable_filtering(x, kernels) on a float32 image (C, spatial...): per channel, a 1-D
 * correlation along spatial axis 0, then 1, then 2, each with zero padding of the
 * kernel's radius, in place on the contiguous float32 tensor t. sigma: one value or
 * one per spatial axis. Errors name `op`. */
/* A contiguous float32 copy of x, as MONAI's conversion to torch.float before filtering. */
int mg_gaussian_input(const struct mg_tensor *x, struct mg_tensor *y, struct mg_err *e);

int mg_gaussian_filter(const char *op, struct mg_tensor *t, const struct mg_attr *sigma,
		       const char *approx, struct mg_err *e);

#endif
