/* Op: ForegroundMask
 * Synopsis: 1 where an RGB channel is <= its threshold (and an HSV one above), else 0.
 * MONAI: monai.transforms.ForegroundMask(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: per channel, the threshold (otsu, yen, isodata, triangle,
 * minimum: a histogram; mean: numpy's pairwise mean; li: an iteration of means); then per voxel, an OR over channels (not
 * elementwise: one output channel from up to three input channels).
 * MONAI (intensity/array.py) on numpy: with invert, skimage.util.invert first (unsigned:
 * dtype max - x; signed: -1 - x; float: 1 - x). Then:
 *   - threshold (null: none): channels 0, 1, 2 are R, G, B (further channels are
 *     ignored; a one-channel image uses R only); each gets the number, or skimage's
 *     threshold_<name>(channel) (skimage_threshold.c); foreground where x <= it, OR-ed;
 *   - hsv_threshold (null: none): skimage's rgb2hsv of the three channels (3 exactly:
 *     others are refused, as skimage refuses them; integers scaled to [0, 1] by
 *     x * (1 / dtype max), float64, float16 and float32 in float32), then foreground
 *     where H, S or V > its threshold;
 *   - a threshold equal to 0 skips its channel (MONAI's `if threshold:`); numbers
 *     compare in numpy's promotion (against a float32 image, in float32);
 *   - with both, a voxel is foreground in both masks (AND). The output is
 *     (1, spatial...) in the input's dtype, 0 or 1.
 * Method names are matched in any case (MONAI lowers them). Not supported (refused
 * with a message): local, niblack, sauvola and multiotsu, which MONAI cannot run (they
 * return arrays, and `if threshold:` raises on an array of more than one element), and
 * per-channel threshold dicts and callables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"threshold", MG_ATTR_STR, "\"otsu\"", MG_ATTRF_NULLABLE | MG_ATTRF_NUM_OK, NULL,
	 "R, G, B threshold: a number, or otsu, yen, isodata, triangle, mean, li or minimum "
	 "(skimage.filters.threshold_<name> per channel); voxels <= it are foreground; 0 "
	 "skips the channel; null: none"},
	{"hsv_threshold", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_NUM_OK, NULL,
	 "H, S, V threshold of a 3-channel RGB image, as threshold; voxels above it are "
	 "foreground; null: none"},
	{"invert", MG_ATTR_BOOL, "false", 0, NULL,
	 "invert intensities first (skimage.util.invert)"},
};
enum { A_THRESHOLD, A_HSV, A_INVERT };

#define OP "ForegroundMask"

/* A threshold argument: none, a number (method NULL), or a method name. */
struct thr {
	int set;
	const char *method;
	double num;
};

static int parse_one(const struct mg_attr *a, const char *name, struct thr *t,
		     struct mg_err *e)
{
	memset(t, 0, sizeof *t);
	if (a->is_none)
		return 0;
	char *end;
	t->set = 1;
	t->num = strtod(a->v.s, &end);
	t->method = end != a->v.s && *end == 0 ? NULL : a->v.s;
	const char *why = t->method ? mg_threshold_refusal(t->method) : NULL;
	if (!why)
		return 0;
	return mg_err_set(e, MG_ERR_UNSUPPORTED,
			  OP ": %s \"%s\" %s; use a number or otsu, yen, isodata, triangle, "
			     "mean, li or minimum", name, a->v.s, why);
}

static int parse(const struct mg_attr *a, struct thr *rgb, struct thr *hsv, struct mg_err *e)
{
	int rc = parse_one(&a[A_THRESHOLD], "threshold", rgb, e);
	if (rc || (rc = parse_one(&a[A_HSV], "hsv_threshold", hsv, e)))
		return rc;
	if (!rgb->set && !hsv->set)
		return mg_err_set(e, MG_ERR_CONFIG, OP ": threshold and hsv_threshold are both "
							"null; at least one must be set");
	return 0;
}

/* skimage.util.invert(v) for dtype dt. */
static double invert(enum mg_dtype dt, double v)
{
	switch (dt) {
	case MG_DTYPE_U8: return 255 - v;
	case MG_DTYPE_U16: return 65535 - v;
	case MG_DTYPE_U32: return 4294967295.0 - v;
	case MG_DTYPE_I8:
	case MG_DTYPE_I16:
	case MG_DTYPE_I32:
	case MG_DTYPE_I64: return -1 - v;
	default: return mg_round_to(dt, 1 - v);
	}
}

/* One channel v (n values of dtype dt) against threshold t: fg |= v <= thr (or v > thr
 * when above). */
static int channel_fg(const struct thr *t, const double *v, int64_t n, enum mg_dtype dt,
		      int above, char *fg, struct mg_err *e)
{
	double thr = t->num;
	if (t->method) {
		int rc = mg_threshold(t->method, v, n, dt, &thr, e);
		if (rc)
			return rc;
	} else if (mg_dtype_is_float(dt)) { /* a Python float against a float array */
		thr = mg_round_to(dt, thr);
	}
	if (thr == 0) /* MONAI's `if threshold:` */
		return 0;
	for (int64_t i = 0; i < n; i++)
		fg[i] |= above ? v[i] > thr : v[i] <= thr;
	return 0;
}

/* skimage's img_as_float of an RGB value: float32 for float16/float32, float64
 * otherwise; integers times 1 / dtype max (signed ones clamped at -1). */
static enum mg_dtype hsv_dtype(enum mg_dtype dt)
{
	return dt == MG_DTYPE_F16 || dt == MG_DTYPE_BF16 || dt == MG_DTYPE_F32 ? MG_DTYPE_F32
										: MG_DTYPE_F64;
}

static double as_float(enum mg_dtype dt, double v)
{
	static const double imax[MG_DTYPE_COUNT] = {
		[MG_DTYPE_U8] = 255, [MG_DTYPE_I8] = 127, [MG_DTYPE_U16] = 65535,
		[MG_DTYPE_I16] = 32767, [MG_DTYPE_U32] = 4294967295.0,
		[MG_DTYPE_I32] = 2147483647.0, [MG_DTYPE_I64] = 9223372036854775807.0};
	if (mg_dtype_is_float(dt))
		return v;
	v *= 1.0 / imax[dt];
	return v < -1 ? -1 : v;
}

/* skimage.color.rgb2hsv, in place: c[0..2] (R, G, B of dtype dt) become H, S, V in
 * hsv_dtype(dt), each step rounded as numpy rounds it. */
static void rgb2hsv(double *c[3], int64_t n, enum mg_dtype dt)
{
	enum mg_dtype ft = hsv_dtype(dt);
#define R(x) mg_round_to(ft, (x))
	for (int64_t i = 0; i < n; i++) {
		double r = as_float(dt, c[0][i]), g = as_float(dt, c[1][i]), b = as_float(dt, c[2][i]);
		double v = fmax(fmax(r, g), b), mn = fmin(fmin(r, g), b), delta = R(v - mn);
		double s = delta == 0 ? 0 : R(delta / v), h = 0;
		/* later cases overwrite earlier ones, as skimage's masked assignments do */
		if (r == v)
			h = R(R(g - b) / delta);
		if (g == v)
			h = R(2.0 + R(R(b - r) / delta));
		if (b == v)
			h = R(4.0 + R(R(r - g) / delta));
		h = R(h / 6.0);
		h = fmod(h, 1.0); /* np.remainder: the sign of the divisor */
		h = h < 0 ? R(h + 1.0) : h == 0 ? 0.0 : h;
		c[0][i] = delta == 0 ? 0 : h;
		c[1][i] = s;
		c[2][i] = v;
	}
#undef R
}

/* The mask of x: n voxels per channel, AND of the RGB and HSV foregrounds. */
static int make_mask(const struct mg_tensor *x, const struct thr *rgb, const struct thr *hsv,
		     int inv, int64_t n, char *mask, struct mg_err *e)
{
	int64_t nch = x->dims[0] < 3 ? x->dims[0] : 3;
	if (hsv->set && x->dims[0] != 3)
		return mg_err_set(e, MG_ERR_SHAPE, "hsv_threshold needs an RGB image (3 "
				  "channels); this one has %lld", (long long)x->dims[0]);
	double *c[3] = {NULL, NULL, NULL};
	char *fg = malloc((size_t)(n > 0 ? n : 1));
	int rc = fg ? 0 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int64_t ch = 0; ch < nch && !rc; ch++) {
		struct mg_tensor xc = mg_group(x, 1, ch);
		if (!(c[ch] = mg_gather(&xc, e)))
			rc = e->code;
		for (int64_t i = 0; !rc && inv && i < n; i++)
			c[ch][i] = invert(x->dtype, c[ch][i]);
	}
	memset(mask, 1, (size_t)n);
	if (!rc && rgb->set) {
		memset(fg, 0, (size_t)n);
		for (int64_t ch = 0; ch < nch && !rc; ch++)
			rc = channel_fg(rgb, c[ch], n, x->dtype, 0, fg, e);
		for (int64_t i = 0; i < n; i++)
			mask[i] &= fg[i];
	}
	if (!rc && hsv->set) {
		rgb2hsv(c, n, x->dtype);
		memset(fg, 0, (size_t)n);
		for (int ch = 0; ch < 3 && !rc; ch++)
			rc = channel_fg(hsv, c[ch], n, hsv_dtype(x->dtype), 1, fg, e);
		for (int64_t i = 0; i < n; i++)
			mask[i] &= fg[i];
	}
	for (int ch = 0; ch < 3; ch++)
		free(c[ch]);
	free(fg);
	return rc;
}

static int foreground_mask(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t;
	struct thr rgb, hsv;
	if (rc || (rc = parse(a, &rgb, &hsv, k->err)))
		return rc;
	if (x->rank < 2)
		return mg_err_set(k->err, MG_ERR_SHAPE, OP " needs a channel-first image, not "
							 "rank %d", x->rank);
	struct mg_tensor y;
	int64_t dims[MG_MAX_RANK];
	memcpy(dims, x->dims, sizeof dims);
	dims[0] = 1;
	if ((rc = mg_tensor_alloc(&y, x->dtype, x->rank, dims, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(&y);
	char *mask = malloc((size_t)(n > 0 ? n : 1));
	rc = mask ? make_mask(x, &rgb, &hsv, (int)a[A_INVERT].v.i, n, mask, k->err)
		  : mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	if (rc) {
		free(mask);
		mg_tensor_release(&y);
		mg_err_prefix(k->err, OP);
		return rc;
	}
	/* y is contiguous: the gathered (C) order is its memory order */
	char *py = mg_tensor_data(&y);
	size_t so = mg_dtype_size(y.dtype);
	for (int64_t i = 0; i < n; i++)
		mg_dtype_store(y.dtype, py + (size_t)i * so, mask[i]);
	free(mask);
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	struct thr rgb, hsv;
	int rc = mg_op_infer_image(&in[0], OP, e);
	if (rc || (rc = parse(a, &rgb, &hsv, e)))
		return rc;
	if (hsv.set && in[0].rank > 0 && in[0].dims[0] >= 0 && in[0].dims[0] != 3)
		return mg_err_set(e, MG_ERR_SHAPE, OP ": hsv_threshold needs an RGB image (3 "
				  "channels); this one has %lld", (long long)in[0].dims[0]);
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (out[0].rank > 0)
		out[0].dims[0] = 1;
	return 0;
}

const struct mg_opdef mg_op_foreground_mask = {
	.name = OP,
	.synopsis = "1 where an RGB channel is <= its threshold (and an HSV one above), else 0",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = foreground_mask,
};
