/* Op: ForegroundMask
 * Synopsis: 1 where a channel's value is <= its threshold (a number or a skimage method), else 0.
 * MONAI: monai.transforms.ForegroundMask(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: per channel, the threshold (otsu, yen, isodata, triangle: a
 * histogram; mean: numpy's pairwise mean); then per voxel, an OR over channels (not
 * elementwise: one output channel from up to three input channels).
 * MONAI (intensity/array.py) on numpy: with invert, skimage.util.invert first (unsigned:
 * dtype max - x; signed: -1 - x; float: 1 - x). Channels 0, 1, 2 are R, G, B (further
 * channels are ignored; a one-channel image uses R only). For each, the threshold is
 * the number, or skimage's threshold_<name>(channel) (skimage_threshold.c); a threshold
 * equal to 0 skips the channel (MONAI's `if threshold:`). The mask is x <= threshold in
 * numpy's promotion (a number against a float32 image compares in float32), OR-ed over
 * the channels; the output is (1, spatial...) in the input's dtype.
 * Not supported (refused with a message): skimage's other methods (li, minimum, local,
 * ...), per-channel threshold dicts and callables, and hsv_threshold (it needs skimage's
 * rgb2hsv of a 3-channel RGB image; mgc does not convert colour spaces). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"threshold", MG_ATTR_STR, "\"otsu\"", MG_ATTRF_NUM_OK, NULL,
	 "a number, or otsu, yen, isodata, triangle or mean (skimage.filters.threshold_<name> "
	 "per channel); voxels <= it are foreground; 0 skips the channel"},
	{"hsv_threshold", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_NUM_OK, NULL,
	 "not supported: only null (HSV thresholds need an RGB colour conversion)"},
	{"invert", MG_ATTR_BOOL, "false", 0, NULL,
	 "invert intensities first (skimage.util.invert)"},
};
enum { A_THRESHOLD, A_HSV, A_INVERT };

#define OP "ForegroundMask"

/* threshold: a number (*method NULL, the value in *num) or a method name in *method. */
static int parse_threshold(const struct mg_attr *a, const char **method, double *num,
			   struct mg_err *e)
{
	if (!a[A_HSV].is_none)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  OP ": hsv_threshold is not supported (it needs an RGB image "
				     "converted to HSV); only null");
	const char *s = a[A_THRESHOLD].v.s;
	char *end;
	*num = strtod(s, &end);
	*method = end != s && *end == 0 ? NULL : s;
	if (!*method || mg_threshold_known(s))
		return 0;
	return mg_err_set(e, MG_ERR_UNSUPPORTED,
			  OP ": threshold \"%s\" is not supported; use a number, \"otsu\", "
			     "\"yen\", \"isodata\", \"triangle\" or \"mean\"", s);
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

static int foreground_mask(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t;
	const char *method;
	double num;
	if (rc || (rc = parse_threshold(a, &method, &num, k->err)))
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
		if (method)
			rc = mg_threshold(method, v, n, x->dtype, &thr, k->err);
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
	const char *method;
	double num;
	int rc = mg_op_infer_image(&in[0], OP, e);
	if (rc || (rc = parse_threshold(a, &method, &num, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (out[0].rank > 0)
		out[0].dims[0] = 1;
	return 0;
}

const struct mg_opdef mg_op_foreground_mask = {
	.name = OP,
	.synopsis = "1 where a channel is <= its threshold (a number or a skimage method), "
		    "else 0",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = foreground_mask,
};
