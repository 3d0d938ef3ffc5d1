/* Op: MaskIntensity
 * Synopsis: zero the voxels where the mask key's image is not positive.
 * MONAI: monai.transforms.MaskIntensity(d)
 * Gradient: the mask times the output's gradient.  Inverse: none.
 *
 * MONAI 1.6.1 (intensity/array.py MaskIntensity, dictionary.py MaskIntensityd): the mask
 * is converted to the image's dtype as torch's .to() converts (a float mask on an
 * integer image truncates, 0.5 becomes 0, and wraps, -1.0 on uint8 becomes 255), select_fn (is_positive: > 0) makes it boolean, and the result is
 * img * mask in the image's dtype, with the image's meta: masked voxels of a float image
 * become 0 * x (-0.0 for a negative x, NaN stays NaN). The mask has one channel (applied
 * to every channel) or as many as the image, and its other axes equal the image's (torch
 * would also broadcast axes of size 1; refused here). The mask comes from mask_key, read
 * before the transform's keys change (MG_ATTRF_KEY); mask_data (an array in Python) and
 * select_fn (a Python function) cannot be written in a pipeline file and are refused, so
 * the array form too needs mask_key. */
#include <stdint.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"mask_data", MG_ATTR_STR, "null", MG_ATTRF_REFUSED, NULL,
	 "a Python array: cannot be given in a pipeline file; use mask_key"},
	{"mask_key", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_KEY, NULL,
	 "the key whose image is the mask (required here)"},
	{"select_fn", MG_ATTR_STR, "null", MG_ATTRF_REFUSED, NULL,
	 "a Python function: only MONAI's default is_positive (mask > 0) is supported"},
};
enum { A_MASK_DATA, A_MASK_KEY, A_SELECT_FN };

static int no_mask(struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_CONFIG, "MaskIntensity needs mask_key (the key holding "
			  "the mask; MONAI: \"must provide the mask_data\"): mask_data, an "
			  "array in Python, cannot be given in a pipeline file");
}

/* is_positive of mask value v after convert_to_dst_type to the image's dtype dt, i.e.
 * torch's .to(dt): floats round to dt; integers truncate toward zero and wrap modulo
 * 2^bits (-1.0 on uint8 is 255: positive), as torch's conversions through int64 do on
 * the CPU. NaN and values beyond int64 count as not positive. */
static int positive_as(enum mg_dtype dt, double v)
{
	if (mg_dtype_is_float(dt)) {
		char conv[8];
		mg_dtype_store(dt, conv, v);
		return mg_dtype_load(dt, conv) > 0;
	}
	if (!(v > -9.2e18 && v < 9.2e18))
		return 0;
	int64_t t = (int64_t)v;
	switch (dt) {
	case MG_DTYPE_U8: return (uint8_t)t > 0;
	case MG_DTYPE_I8: return (int8_t)t > 0;
	case MG_DTYPE_U16: return (uint16_t)t > 0;
	case MG_DTYPE_I16: return (int16_t)t > 0;
	case MG_DTYPE_U32: return (uint32_t)t > 0;
	case MG_DTYPE_I32: return (int32_t)t > 0;
	default: return t > 0;
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
	if ((rc = check_mask(x, m, key, k->err)))
		return rc;
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
		double keep = positive_as(dt, mv) ? 1.0 : 0.0;
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
	int rc = mg_op_infer_image(&in[0], "MaskIntensity", e);
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
	.synopsis = "zero the voxels where mask_key's image is not positive",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = mask_intensity,
};
