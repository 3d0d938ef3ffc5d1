/* Op: ForegroundMask
 * Synopsis: 1 where a channel's value is <= its threshold (otsu, mean or a number), else 0.
 * MONAI: monai.transforms.ForegroundMask(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: per channel, the threshold (Otsu: a histogram; mean: numpy's
 * pairwise mean); then per voxel, an OR over channels (not elementwise: one output
 * channel from up to three input channels).
 * MONAI (intensity/array.py) on numpy: with invert, skimage.util.invert first (unsigned:
 * dtype max - x; signed: -1 - x; float: 1 - x). Channels 0, 1, 2 are R, G, B (further
 * channels are ignored; a one-channel image uses R only). For each, the threshold is
 * the number, or skimage's threshold_<name>(channel); a threshold equal to 0 skips the
 * channel (MONAI's `if threshold:`). The mask is x <= threshold in numpy's promotion
 * (a number against a float32 image compares in float32), OR-ed over the channels;
 * the output is (1, spatial...) in the input's dtype. threshold_otsu: the constant
 * image's value, else skimage's histogram (256 bins; integer images one per value),
 * float32 counts, class weights and means in numpy's dtypes, the first maximum of the
 * between-class variance. threshold_mean: np.mean.
 * Not supported (refused with a message): the other skimage methods (li, yen, isodata,
 * triangle, minimum, ...), per-channel threshold dicts, and hsv_threshold (it needs
 * skimage's rgb2hsv of a 3-channel RGB image; mgc does not convert colour spaces). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"threshold", MG_ATTR_STR, "\"otsu\"", MG_ATTRF_NUM_OK, NULL,
	 "a number, or \"otsu\" or \"mean\" (skimage.filters.threshold_<name> per channel); "
	 "voxels <= it are foreground; 0 skips the channel"},
	{"hsv_threshold", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_NUM_OK, NULL,
	 "not supported: only null (HSV thresholds need an RGB colour conversion)"},
	{"invert", MG_ATTR_BOOL, "false", 0, NULL,
	 "invert intensities first (skimage.util.invert)"},
};
enum { A_THRESHOLD, A_HSV, A_INVERT };

#define OP "ForegroundMask"

enum method { M_NUMBER, M_OTSU, M_MEAN };

static int parse_threshold(const struct mg_attr *a, enum method *m, double *num,
			   struct mg_err *e)
{
	if (!a[A_HSV].is_none)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  OP ": hsv_threshold is not supported (it needs an RGB image "
				     "converted to HSV); only null");
	const char *s = a[A_THRESHOLD].v.s;
	char *end;
	*num = strtod(s, &end);
	if (end != s && *end == 0) {
		*m = M_NUMBER;
		return 0;
	}
	if (!strcmp(s, "otsu") || !strcmp(s, "mean")) {
		*m = !strcmp(s, "otsu") ? M_OTSU : M_MEAN;
		return 0;
	}
	return mg_err_set(e, MG_ERR_UNSUPPORTED,
			  OP ": threshold \"%s\" is not supported; use a number, \"otsu\" or "
			     "\"mean\"", s);
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

/* skimage's threshold_otsu(v), n values of dtype dt. */
static int otsu(const double *v, int64_t n, enum mg_dtype dt, double *thr, struct mg_err *e)
{
	int64_t i = 1;
	while (i < n && v[i] == v[0])
		i++;
	if (i == n) {
		*thr = v[0];
		return 0;
	}
	struct mg_hist h;
	int rc = mg_reduce_histogram(v, n, dt, 256, &h, e);
	if (rc)
		return rc;
	/* counts are float32; counts * centres is float32 for float32 images, float64 for
	 * integer (int64 centres) and float64 ones */
	enum mg_dtype pt = dt == MG_DTYPE_F32 || dt == MG_DTYPE_F16 || dt == MG_DTYPE_BF16
				   ? MG_DTYPE_F32 : MG_DTYPE_F64;
	double *m1 = malloc(sizeof *m1 * (size_t)h.n * 4);
	if (!m1) {
		mg_hist_free(&h);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	double *m2 = m1 + h.n, *w1 = m2 + h.n, *w2 = w1 + h.n;
	double cw = 0, cm = 0;
	for (int64_t k = 0; k < h.n; k++) {
		cw = (float)(cw + (float)h.counts[k]);
		cm = mg_round_to(pt, cm + mg_round_to(pt, (float)h.counts[k] * h.centers[k]));
		w1[k] = cw;
		m1[k] = mg_round_to(pt, cm / cw);
	}
	cw = cm = 0;
	for (int64_t k = h.n - 1; k >= 0; k--) {
		cw = (float)(cw + (float)h.counts[k]);
		cm = mg_round_to(pt, cm + mg_round_to(pt, (float)h.counts[k] * h.centers[k]));
		w2[k] = cw;
		m2[k] = mg_round_to(pt, cm / cw);
	}
	int64_t best = 0;
	double bestv = -INFINITY;
	for (int64_t k = 0; k + 1 < h.n; k++) {
		double d = mg_round_to(pt, m1[k] - m2[k + 1]);
		double var = mg_round_to(pt, (float)(w1[k] * w2[k + 1]) * mg_round_to(pt, d * d));
		if (var > bestv) {
			bestv = var;
			best = k;
		}
	}
	*thr = h.centers[best];
	free(m1);
	mg_hist_free(&h);
	return 0;
}

static int foreground_mask(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t;
	enum method m;
	double num;
	if (rc || (rc = parse_threshold(a, &m, &num, k->err)))
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
	int64_t n = mg_tensor_numel(&y), nch = x->dims[0] < 3 ? x->dims[0] : 3;
	char *mask = calloc((size_t)(n > 0 ? n : 1), 1);
	int fl = mg_dtype_is_float(x->dtype);
	for (int64_t c = 0; c < nch && mask && !rc; c++) {
		struct mg_tensor xc = mg_group(x, 1, c);
		double *v = mg_gather(&xc, k->err), thr = num;
		if (!v) {
			rc = k->err->code;
			break;
		}
		for (int64_t i = 0; a[A_INVERT].v.i && i < n; i++)
			v[i] = invert(x->dtype, v[i]);
		if (m == M_OTSU)
			rc = otsu(v, n, x->dtype, &thr, k->err);
		else if (m == M_MEAN)
			thr = mg_reduce_mean_np(v, n, x->dtype);
		else if (fl) /* a Python float against a float array: the array's dtype */
			thr = mg_round_to(x->dtype, thr);
		for (int64_t i = 0; !rc && thr != 0 && i < n; i++)
			mask[i] |= v[i] <= thr;
		free(v);
	}
	if (!mask)
		rc = mg_err_set(k->err, MG_ERR_NOMEM, OP ": out of memory");
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
	enum method m;
	double num;
	int rc = mg_op_infer_image(&in[0], OP, e);
	if (rc || (rc = parse_threshold(a, &m, &num, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (out[0].rank > 0)
		out[0].dims[0] = 1;
	return 0;
}

const struct mg_opdef mg_op_foreground_mask = {
	.name = OP,
	.synopsis = "1 where a channel is <= its threshold (otsu, mean or a number), else 0",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = foreground_mask,
};
