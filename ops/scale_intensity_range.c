/* Op: ScaleIntensityRange
 * Synopsis: (x - a_min) / (a_max - a_min) * (b_max - b_min) + b_min, optionally clipped.
 * MONAI: monai.transforms.ScaleIntensityRange(d)
 * Gradient: none.  Inverse: none.
 * Reductions: none; a per-voxel map (the fuse-elementwise pass's kernels need no
 * statistics pass for it).
 *
 * MONAI (intensity/array.py) runs this as separate torch ops on the input tensor, so the
 * arithmetic happens in torch's promoted dtype: the input's own dtype when it is a float
 * type, float32 for integer inputs; every step rounds to that dtype and the Python-float
 * arguments are rounded to it too. The kernel repeats that sequence step by step, which
 * makes it bit-identical to MONAI (tests/golden/intensity). Then:
 *   - b_min or b_max null: the "* (b_max - b_min) + b_min" step is skipped;
 *   - clip clamps to whichever of b_min/b_max is set (torch.clamp: NaN stays NaN, and
 *     b_min > b_max gives b_max everywhere); clip with both null is an error, as in torch;
 *   - a_max == a_min: MONAI warns and returns x - a_min (+ b_min when set) in the
 *     promoted dtype, without clipping and ignoring `dtype`;
 *   - otherwise the result converts to `dtype` (null: the input's dtype).
 * Known deviation: an integer-valued JSON a_min on an integer image makes MONAI compute
 * `img - a_min` in the integer dtype (uint8 wraps around); JSON numbers do not say int
 * or float, so mgc always computes in floating point. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"a_min", MG_ATTR_FLOAT, NULL, 0, NULL, "intensity original range min"},
	{"a_max", MG_ATTR_FLOAT, NULL, 0, NULL, "intensity original range max"},
	{"b_min", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "intensity target range min; null skips the rescale to [b_min, b_max]"},
	{"b_max", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "intensity target range max; null skips the rescale to [b_min, b_max]"},
	{"clip", MG_ATTR_BOOL, "false", 0, NULL,
	 "clip the result to [b_min, b_max] (a null bound is not clipped)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "output dtype; null keeps the input's"},
};
enum { A_AMIN, A_AMAX, A_BMIN, A_BMAX, A_CLIP, A_DTYPE };

static int is_degenerate(const struct mg_attr *a)
{
	return a[A_AMAX].v.f - a[A_AMIN].v.f == 0.0;
}

static int check_clip(const struct mg_attr *a, struct mg_err *e)
{
	if (a[A_CLIP].v.i && a[A_BMIN].is_none && a[A_BMAX].is_none && !is_degenerate(a))
		return mg_err_set(e, MG_ERR_CONFIG, "clip=true needs b_min or b_max (MONAI's "
						    "torch.clamp fails when both are null)");
	return 0;
}

/* The torch ops' parameters for an input of dtype xt, and the output dtype. */
static enum mg_dtype range_scale(const struct mg_attr *a, enum mg_dtype xt,
				 struct mg_range_scale *rs)
{
	enum mg_dtype ct = mg_float_dtype(xt);
	int degenerate = is_degenerate(a), has_lo = !a[A_BMIN].is_none, has_hi = !a[A_BMAX].is_none;
	/* the Python scalars as torch sees them: rounded to the compute dtype */
	*rs = (struct mg_range_scale){
		.ct = ct,
		.amin = mg_round_to(ct, a[A_AMIN].v.f),
		.arange = mg_round_to(ct, a[A_AMAX].v.f - a[A_AMIN].v.f),
		.bmin = has_lo ? mg_round_to(ct, a[A_BMIN].v.f) : 0,
		.bmax = has_hi ? mg_round_to(ct, a[A_BMAX].v.f) : 0,
		.brange = has_lo && has_hi ? mg_round_to(ct, a[A_BMAX].v.f - a[A_BMIN].v.f) : 0,
		.has_lo = has_lo,
		.has_hi = has_hi,
		.clip = a[A_CLIP].v.i && !degenerate,
		.degenerate = degenerate,
	};
	if (degenerate)
		return ct; /* MONAI returns before its dtype conversion */
	return a[A_DTYPE].is_none ? xt : (enum mg_dtype)a[A_DTYPE].v.i;
}

static int scale_intensity_range(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				 struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "ScaleIntensityRange", k->err);
	if (rc || (rc = check_clip(a, k->err)))
		return rc;
	struct mg_range_scale rs;
	enum mg_dtype od = range_scale(a, in[0].t.dtype, &rs);
	return mg_map_new(&in[0].t, od, mg_range_scale_apply, &rs, &out[0], k->err);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	struct mg_err e = {0};
	if (check_clip(a, &e))
		return -1;
	struct mg_range_scale rs;
	enum mg_dtype od = range_scale(a, xt, &rs);
	return mg_kir_cast(k, od, mg_range_scale_emit(k, &rs, x, NULL));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "ScaleIntensityRange", e);
	if (rc || (rc = check_clip(a, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (is_degenerate(a))
		out[0].dtype = in[0].dtype < 0 ? -1 : (int)mg_float_dtype(in[0].dtype);
	else if (!a[A_DTYPE].is_none)
		out[0].dtype = (int)a[A_DTYPE].v.i;
	return 0;
}

const struct mg_opdef mg_op_scale_intensity_range = {
	.name = "ScaleIntensityRange",
	.synopsis = "(x - a_min) / (a_max - a_min) * (b_max - b_min) + b_min, optionally "
		    "clipped",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = scale_intensity_range,
	.gen = mg_elementwise_gen,
	.emit = emit,
};
