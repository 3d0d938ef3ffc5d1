/* Op: ScaleIntensityRangePercentiles
 * Synopsis: ScaleIntensityRange from the image's lower/upper percentiles to [b_min, b_max].
 * MONAI: monai.transforms.ScaleIntensityRangePercentiles(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: two percentiles (per channel with channel_wise).
 * MONAI (intensity/array.py) takes a_min, a_max = percentile(img, lower / upper) (0-d
 * tensors in the image's dtype: torch.quantile up to 1e6 voxels, np.percentile above;
 * see intensity.c) and runs ScaleIntensityRange with them, so the arithmetic is that
 * op's, one torch op at a time in the image's float dtype (a_max - a_min rounded to it).
 * relative: the target becomes b_min + (b_max - b_min) * lower / 100 ..
 * b_min + (b_max - b_min) * upper / 100 (Python floats). a_min == a_max gives
 * x - a_min (+ b_min), unclipped. The result converts to `dtype` (null: the input's).
 * Integer and half images are refused, as torch.quantile refuses them (MONAI fails
 * below 1e6 voxels).
 * Generated (gen_chain.c): the two percentiles by an exact selection (gen_select.c,
 * histogram kernels), then the map: mg_range_scale_emit with them as parameters, the
 * same bits as this kernel (NaN images run this kernel). Known deviation: clip=true with b_min and b_max null is refused
 * up front; MONAI fails only on non-constant images (torch.clamp with no bounds). */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"lower", MG_ATTR_FLOAT, NULL, 0, NULL, "lower intensity percentile, in [0, 100]"},
	{"upper", MG_ATTR_FLOAT, NULL, 0, NULL, "upper intensity percentile, in [0, 100]"},
	{"b_min", MG_ATTR_FLOAT, NULL, MG_ATTRF_NULLABLE, NULL,
	 "intensity target range min; null skips the rescale to [b_min, b_max]"},
	{"b_max", MG_ATTR_FLOAT, NULL, MG_ATTRF_NULLABLE, NULL,
	 "intensity target range max; null skips the rescale to [b_min, b_max]"},
	{"clip", MG_ATTR_BOOL, "false", 0, NULL, "clip the result to [b_min, b_max]"},
	{"relative", MG_ATTR_BOOL, "false", 0, NULL,
	 "scale to the lower/upper percentiles of [b_min, b_max] instead"},
	{"channel_wise", MG_ATTR_BOOL, "false", 0, NULL, "percentiles per channel (axis 0)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "output dtype; null keeps the input's"},
};
enum { A_LOWER, A_UPPER, A_BMIN, A_BMAX, A_CLIP, A_RELATIVE, A_CHANNEL_WISE, A_DTYPE };

#define OP "ScaleIntensityRangePercentiles"

static int check(const struct mg_attr *a, struct mg_err *e)
{
	int rc = mg_percentile_arg(OP, "lower", &a[A_LOWER], e);
	if (rc || (rc = mg_percentile_arg(OP, "upper", &a[A_UPPER], e)))
		return rc;
	if (a[A_RELATIVE].v.i && (a[A_BMIN].is_none || a[A_BMAX].is_none))
		return mg_err_set(e, MG_ERR_CONFIG,
				  OP ": relative=true needs b_min and b_max (MONAI: \"If it is "
				     "relative, b_min and b_max should not be None.\")");
	if (a[A_CLIP].v.i && a[A_BMIN].is_none && a[A_BMAX].is_none)
		return mg_err_set(e, MG_ERR_CONFIG,
				  OP ": clip=true needs b_min or b_max (MONAI's torch.clamp fails "
				     "when both are null)");
	return 0;
}

/* The range scaling from the percentiles p of an image of dtype ct. */
static struct mg_range_scale range(const struct mg_attr *a, enum mg_dtype ct, const double *p)
{
	double q[2] = {a[A_LOWER].v.f, a[A_UPPER].v.f};
	int has_lo = !a[A_BMIN].is_none, has_hi = !a[A_BMAX].is_none;
	double bmin = a[A_BMIN].v.f, bmax = a[A_BMAX].v.f;
	if (a[A_RELATIVE].v.i) {
		double lo = (a[A_BMAX].v.f - a[A_BMIN].v.f) * (q[0] / 100.0) + a[A_BMIN].v.f;
		bmax = (a[A_BMAX].v.f - a[A_BMIN].v.f) * (q[1] / 100.0) + a[A_BMIN].v.f;
		bmin = lo;
	}
	struct mg_range_scale rs = {
		.ct = ct,
		.amin = p[0],
		.arange = mg_round_to(ct, p[1] - p[0]),
		.bmin = has_lo ? mg_round_to(ct, bmin) : 0,
		.bmax = has_hi ? mg_round_to(ct, bmax) : 0,
		.brange = has_lo && has_hi ? mg_round_to(ct, bmax - bmin) : 0,
		.has_lo = has_lo,
		.has_hi = has_hi,
		.clip = (int)a[A_CLIP].v.i,
		.degenerate = p[1] - p[0] == 0,
	};
	rs.clip &= !rs.degenerate;
	return rs;
}

static int scale_group(const void *ctx, const struct mg_tensor *x, struct mg_tensor *y,
		       struct mg_err *e)
{
	const struct mg_attr *a = ctx;
	double q[2] = {a[A_LOWER].v.f, a[A_UPPER].v.f}, p[2];
	int rc = mg_reduce_percentiles(x, 2, q, p, e);
	if (rc)
		return rc;
	struct mg_range_scale rs = range(a, x->dtype, p);
	mg_map(x, y, mg_range_scale_apply, &rs);
	return 0;
}

static int scale_intensity_range_percentiles(const struct mg_attr *a, struct mg_val *in,
					     struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t;
	if (rc || (rc = check(a, k->err)))
		return rc;
	enum mg_dtype od = a[A_DTYPE].is_none ? x->dtype : (enum mg_dtype)a[A_DTYPE].v.i;
	return mg_percentile_groups(OP, x, od, (int)a[A_CHANNEL_WISE].v.i, scale_group, a,
				    &out[0], k->err);
}

/* ---- the generated kernels (gen_chain.c) ---- */

static int quantiles(const struct mg_attr *a, double *q)
{
	struct mg_err e = {0};
	if (check(a, &e))
		return -1; /* the reference kernel reports it */
	q[0] = a[A_LOWER].v.f;
	q[1] = a[A_UPPER].v.f;
	return 2;
}

static int32_t map(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		   enum mg_dtype xt, const struct mg_gen_stats *st)
{
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1;
	enum mg_dtype od = a[A_DTYPE].is_none ? xt : (enum mg_dtype)a[A_DTYPE].v.i;
	struct mg_range_scale rs = range(a, xt, st->v);
	rs.clip = (int)a[A_CLIP].v.i; /* the code may not depend on degenerate (a parameter) */
	return mg_kir_cast(k, od, mg_range_scale_emit(k, &rs, x, pv));
}

static int per_channel(const struct mg_attr *a)
{
	return (int)a[A_CHANNEL_WISE].v.i;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], OP, e);
	if (!rc && !(rc = check(a, e)))
		rc = mg_percentile_dtype(OP, in[0].dtype, e);
	return mg_map_infer(rc, &in[0], &a[A_DTYPE], &out[0]);
}

const struct mg_opdef mg_op_scale_intensity_range_percentiles = {
	.name = OP,
	.synopsis = "ScaleIntensityRange from the image's lower/upper percentiles to "
		    "[b_min, b_max]",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = scale_intensity_range_percentiles,
	.gen = mg_elementwise_gen,
	.map = map,
	.per_channel = per_channel,
	.quantiles = quantiles,
};
