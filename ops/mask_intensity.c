/* Op: MaskIntensity
 * Synopsis: zero the voxels where select_fn of the mask key's image is false (mask > 0 by default).
 * MONAI: monai.transforms.MaskIntensity(d)
 * Gradient: the mask times the output's gradient.  Inverse: none.
 *
 * MONAI 1.6.1 (intensity/array.py MaskIntensity, dictionary.py MaskIntensityd): the mask
 * is converted to the image's dtype as torch's .to() converts (a float mask on an
 * integer image truncates, 0.5 becomes 0, and wraps, -1.0 on uint8 becomes 255), select_fn
 * makes it boolean (is_positive: > 0, or a threshold lambda: select_fn.c, compared in
 * torch's promoted dtype), and the result is img * mask in the image's dtype, with the
 * image's meta: masked voxels of a float image become 0 * x (-0.0 for a negative x, NaN
 * stays NaN). The mask has one channel (applied to every channel) or as many as the
 * image, and its other axes equal the image's (torch would also broadcast axes of size
 * 1; refused here). The mask comes from mask_key, read before the transform's keys change
 * (MG_ATTRF_KEY); mask_data (an array in Python) cannot be written in a pipeline file and
 * is refused, so the array form too needs mask_key. */
#include <stdint.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"mask_data", MG_ATTR_STR, "null", MG_ATTRF_REFUSED, NULL,
	 "a Python array: cannot be given in a pipeline file; use mask_key"},
	{"mask_key", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_KEY, NULL,
	 "the key whose image is the mask (required here)"},
	{"select_fn", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_EXPR, NULL,
	 "which mask voxels keep the image: is_positive (mask > 0, MONAI's default; null "
	 "means it) or a threshold \"$lambda x: x > 0.5\" (> >= < <= == !=; see "
	 "pipeline-format.md)"},
};
enum { A_MASK_DATA, A_MASK_KEY, A_SELECT_FN };

static int no_mask(struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_CONFIG, "MaskIntensity needs mask_key (the key holding "
			  "the mask; MONAI: \"must provide the mask_data\"): mask_data, an "
			  "array in Python, cannot be given in a pipeline file");
}

/* Mask value v converted to the image's dtype dt as torch's .to(dt) converts on x86-64
 * CPUs: floats round to dt; integers truncate toward zero and wrap modulo 2^bits (-1.0 on
 * uint8 is 255). NaN and values out of range convert as the CPU's conversion does:
 * through int32 (INT32_MIN, then wrapped: 0 for the narrower types) for dtypes of up to
 * 32 bits but uint32, through int64 (INT64_MIN) for int64 and uint32 (where torch makes
 * NaN 2^31, not reproduced: a NaN mask on a uint32 image). */
static double as_dtype(enum mg_dtype dt, double v)
{
	if (mg_dtype_is_float(dt)) {
		char conv[8];
		mg_dtype_store(dt, conv, v);
		return mg_dtype_load(dt, conv);
	}
	int64_t t;
	if (dt == MG_DTYPE_I64 || dt == MG_DTYPE_U32)
		t = v >= -9223372036854775808.0 && v < 9223372036854775808.0 ? (int64_t)v
									: INT64_MIN;
	else
		t = v > -2147483649.0 && v < 2147483648.0 ? (int64_t)v : INT32_MIN;
	switch (dt) {
	case MG_DTYPE_U8: return (uint8_t)t;
	case MG_DTYPE_I8: return (int8_t)t;
	case MG_DTYPE_U16: return (uint16_t)t;
	case MG_DTYPE_I16: return (int16_t)t;
	case MG_DTYPE_U32: return (uint32_t)t;
	case MG_DTYPE_I32: return (int32_t)t;
	default: return (double)t;
	}
}

static int check_mask(const struct mg_tensor *x, const struct mg_tensor *m, const char *key,
		      struct mg_err *e)
{
	if (m->rank != x->rank || x->rank < 1)
		return mg_err_set(e, MG_ERR_SHAPE, "MaskIntensity: the mask '%s' has rank %d and "
				  "the image rank %d", key, m->rank, x->rank);
	if (m->dims[0] != 1 && m->dims[0] != x->dims[0])
		return mg_err_set(e, MG_ERR_SHAPE, "MaskIntensity: the mask '%s' has %lld channels "
				  "and the image %lld; it needs 1 or as many (MONAI: \"mask_data "
				  "channels must match img\")", key, (long long)m->dims[0],
				  (long long)x->dims[0]);
	for (int d = 1; d < x->rank; d++)
		if (m->dims[d] != x->dims[d])
			return mg_err_set(e, MG_ERR_SHAPE, "MaskIntensity: the mask '%s' has size "
					  "%lld on axis %d and the image %lld", key,
					  (long long)m->dims[d], d, (long long)x->dims[d]);
	return 0;
}

static int mask_intensity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	if (a[A_MASK_KEY].is_none)
		return no_mask(k->err);
	const char *key = a[A_MASK_KEY].v.s;
	int rc = mg_op_expect_tensor(&in[0], "MaskIntensity", k->err);
	if (rc || (rc = mg_op_expect_tensor(&in[1], "MaskIntensity's mask_key", k->err)))
		return rc;
	const struct mg_tensor *x = &in[0].t, *m = &in[1].t;
	struct mg_select sel;
	if ((rc = check_mask(x, m, key, k->err)) ||
	    (rc = mg_select_parse("MaskIntensity", "select_fn", &a[A_SELECT_FN], &sel, k->err)))
		return rc;
	sel = mg_select_for(&sel, x->dtype);
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc_like(&y, x, x->dtype, k->err)))
		return rc;
	int64_t mstrides[MG_MAX_RANK];
	for (int d = 0; d < m->rank; d++)
		mstrides[d] = m->dims[d] == 1 ? 0 : m->strides[d]; /* one channel: every channel */
	enum mg_dtype dt = x->dtype;
	size_t xs = mg_dtype_size(dt), ms = mg_dtype_size(m->dtype);
	const char *px = mg_tensor_data(x), *pm = mg_tensor_data(m);
	char *py = mg_tensor_data(&y);
	struct mg_iter it;
	mg_iter_init(&it, x->rank, x->dims, 3,
		     (const int64_t *[]){x->strides, mstrides, y.strides});
	for (; !it.done; mg_iter_next(&it)) {
		double mv = mg_dtype_load(m->dtype, pm + it.off[1] * (int64_t)ms);
		double keep = mg_select_test(&sel, as_dtype(dt, mv)) ? 1.0 : 0.0;
		mg_dtype_store(dt, py + it.off[2] * (int64_t)xs,
			       mg_dtype_load(dt, px + it.off[0] * (int64_t)xs) * keep);
	}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	if (a[A_MASK_KEY].is_none)
		return no_mask(e);
	struct mg_select sel;
	int rc = mg_select_parse("MaskIntensity", "select_fn", &a[A_SELECT_FN], &sel, e);
	if (!rc)
		rc = mg_op_infer_image(&in[0], "MaskIntensity", e);
	if (!rc && in[1].kind == MG_VK_STRINGS)
		rc = mg_err_set(e, MG_ERR_CONFIG, "MaskIntensity: mask_key '%s' names a key that "
				"holds no image here (is it spelled right, and loaded before this "
				"transform?)", a[A_MASK_KEY].v.s);
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return 0;
}

const struct mg_opdef mg_op_mask_intensity = {
	.name = "MaskIntensity",
	.synopsis = "zero the voxels where select_fn of mask_key's image is false (mask > 0 "
		    "by default)",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = mask_intensity,
};
