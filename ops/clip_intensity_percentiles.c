/* Op: ClipIntensityPercentiles
 * Synopsis: clip (hard or soft) to the image's lower/upper intensity percentiles.
 * MONAI: monai.transforms.ClipIntensityPercentiles(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: one or two percentiles (per channel with channel_wise).
 * MONAI (intensity/array.py, transforms/utils.py soft_clip):
 *   - hard (sharpness_factor null): torch.clamp(x, percentile(lower or 0),
 *     percentile(upper or 100)) in the image's dtype;
 *   - soft: x converted to `dtype` (null: kept), then
 *     x + softplus(-c (x - lo)) / c - softplus(c (x - hi)) / c, each term only when
 *     its percentile is not null, one torch op at a time (softplus: x past 20 is x,
 *     else log1p(exp(x))); the percentiles are taken on the unconverted image;
 *   - the output always has the input's dtype (MONAI converts back), so `dtype` only
 *     sets the soft clip's precision.
 * Percentiles as ScaleIntensityRangePercentiles (torch.quantile / np.percentile); integer
 * and half images are refused, as torch.quantile refuses them.
 * return_clipping_values: the output's meta gets clipping_values, one (lower, upper)
 * per channel group, the percentiles in x's dtype (null for a bound soft clipping was
 * not given; hard clipping reports percentile 0 or 100 for it), replacing any earlier
 * ones, as MONAI's meta["clipping_values"]; DataStats(meta_info) shows them.
 * Generated (gen_chain.c): the percentiles by an exact selection (gen_select.c), then
 * the clip as a map, the same bits as this kernel: hard clipping, and soft clipping in
 * float64 (libm's exp and log1p as LIBM nodes). Soft clipping in float32 (log1pf, expf)
 * and return_clipping_values (meta) run this kernel, as NaN images do. */
#include <stdlib.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"lower", MG_ATTR_FLOAT, NULL, MG_ATTRF_NULLABLE, NULL,
	 "lower intensity percentile in [0, 100]; null: no clipping below"},
	{"upper", MG_ATTR_FLOAT, NULL, MG_ATTRF_NULLABLE, NULL,
	 "upper intensity percentile in [0, 100]; null: no clipping above"},
	{"sharpness_factor", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "soft clipping's sharpness (> 0); null: hard clipping"},
	{"channel_wise", MG_ATTR_BOOL, "false", 0, NULL, "percentiles per channel (axis 0)"},
	{"return_clipping_values", MG_ATTR_BOOL, "false", 0, NULL,
	 "keep the percentiles in the output's meta (clipping_values, one (lower, upper) "
	 "per channel group)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "soft clipping computes in this dtype (null: the input's); the output keeps the "
	 "input's dtype"},
};
enum { A_LOWER, A_UPPER, A_SHARP, A_CHANNEL_WISE, A_RETURN, A_DTYPE };

#define OP "ClipIntensityPercentiles"

static int check(const struct mg_attr *a, struct mg_err *e)
{
	if (a[A_LOWER].is_none && a[A_UPPER].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, OP ": lower or upper percentiles must be "
							"provided (both are null)");
	int rc = mg_percentile_arg(OP, "lower", &a[A_LOWER], e);
	if (rc || (rc = mg_percentile_arg(OP, "upper", &a[A_UPPER], e)))
		return rc;
	if (!a[A_LOWER].is_none && !a[A_UPPER].is_none && a[A_UPPER].v.f < a[A_LOWER].v.f)
		return mg_err_set(e, MG_ERR_CONFIG, OP ": upper (%g) must be greater than or "
				  "equal to lower (%g)", a[A_UPPER].v.f, a[A_LOWER].v.f);
	if (!a[A_SHARP].is_none && !(a[A_SHARP].v.f > 0))
		return mg_err_set(e, MG_ERR_CONFIG, OP ": sharpness_factor must be greater than "
				  "0, not %g", a[A_SHARP].v.f);
	if (!a[A_SHARP].is_none && !a[A_DTYPE].is_none &&
	    !mg_dtype_is_float((enum mg_dtype)a[A_DTYPE].v.i))
		return mg_err_set(e, MG_ERR_CONFIG, OP ": soft clipping computes in dtype, which "
				  "must be a float dtype, not %s",
				  mg_dtype_name((enum mg_dtype)a[A_DTYPE].v.i));
	return 0;
}

struct clip {
	enum mg_dtype ct; /* the soft clip's dtype */
	int soft, has_lo, has_hi;
	double lo, hi, c, negc; /* bounds and c, -c rounded to ct for the soft clip */
};

static double softplus(enum mg_dtype ct, double v)
{
	if (v > 20)
		return v;
	return ct == MG_DTYPE_F64 ? log1p(exp(v)) : mg_round_to(ct, log1pf(expf((float)v)));
}

static double clip_one(const void *ctx, double v)
{
	const struct clip *s = ctx;
	if (!s->soft) /* torch.clamp: max with the low bound, then min */
		return v < s->lo ? s->lo : v > s->hi ? s->hi : v;
#define R(x) mg_round_to(s->ct, (x))
	double x = R(v), r = x;
	if (s->has_lo)
		r = R(r + R(softplus(s->ct, R(s->negc * R(x - s->lo))) / s->c));
	if (s->has_hi)
		r = R(r - R(softplus(s->ct, R(s->c * R(x - s->hi))) / s->c));
#undef R
	return r;
}

/* What clip_group needs: the arguments, and where the clipping values go (NULL: not
 * kept). */
struct groups {
	const struct mg_attr *a;
	struct mg_clipping *vals;
	int64_t *n;
};

static int clip_group(const void *ctx, const struct mg_tensor *x, struct mg_tensor *y,
		      struct mg_err *e)
{
	const struct groups *g = ctx;
	const struct mg_attr *a = g->a;
	int soft = !a[A_SHARP].is_none;
	struct clip s = {
		.ct = a[A_DTYPE].is_none ? x->dtype : (enum mg_dtype)a[A_DTYPE].v.i,
		.soft = soft,
		.has_lo = !a[A_LOWER].is_none,
		.has_hi = !a[A_UPPER].is_none,
	};
	/* hard clipping treats a null percentile as 0 or 100 */
	double q[2] = {s.has_lo ? a[A_LOWER].v.f : 0, s.has_hi ? a[A_UPPER].v.f : 100}, p[2];
	int rc = mg_reduce_percentiles(x, 2, q, p, e);
	if (rc)
		return rc;
	if (g->vals) /* MONAI's .item() of the percentile tensors, in x's dtype */
		g->vals[(*g->n)++] = (struct mg_clipping){
			{p[0], p[1]}, {!soft || s.has_lo, !soft || s.has_hi}};
	/* the soft clip subtracts the 0-d percentile tensors in ct */
	s.lo = soft ? mg_round_to(s.ct, p[0]) : p[0];
	s.hi = soft ? mg_round_to(s.ct, p[1]) : p[1];
	s.c = soft ? mg_round_to(s.ct, a[A_SHARP].v.f) : 0;
	s.negc = soft ? mg_round_to(s.ct, -a[A_SHARP].v.f) : 0;
	mg_map(x, y, clip_one, &s);
	return 0;
}

static int clip_intensity_percentiles(const struct mg_attr *a, struct mg_val *in,
				      struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	const struct mg_tensor *x = &in[0].t;
	if (rc || (rc = check(a, k->err)))
		return rc;
	int cw = (int)a[A_CHANNEL_WISE].v.i;
	int64_t ng = mg_group_count(x, cw), n = 0;
	struct groups g = {a, NULL, &n};
	if (a[A_RETURN].v.i && !(g.vals = malloc(sizeof *g.vals * (size_t)(ng > 0 ? ng : 1))))
		return mg_err_set(k->err, MG_ERR_NOMEM, OP ": out of memory");
	rc = mg_percentile_groups(OP, x, x->dtype, cw, clip_group, &g, &out[0], k->err);
	if (!rc && g.vals) {
		struct mg_meta *m = mg_meta_mut(&out[0].t);
		rc = m ? mg_meta_set_clipping(m, g.vals, (int)n) : MG_ERR_NOMEM;
		if (rc) {
			mg_val_release(&out[0]);
			rc = mg_err_set(k->err, MG_ERR_NOMEM, OP ": out of memory");
		}
	}
	free(g.vals);
	return rc;
}

/* ---- the generated kernels (gen_chain.c) ---- */

static int quantiles(const struct mg_attr *a, double *q)
{
	struct mg_err e = {0};
	if (check(a, &e) || a[A_RETURN].v.i)
		return -1;
	if (!a[A_SHARP].is_none && (a[A_DTYPE].is_none || a[A_DTYPE].v.i != MG_DTYPE_F64))
		return -1; /* dtype null on a float64 image is float64: map refuses the rest */
	q[0] = a[A_LOWER].is_none ? 0 : a[A_LOWER].v.f;
	q[1] = a[A_UPPER].is_none ? 100 : a[A_UPPER].v.f;
	return 2;
}

/* softplus(v) in float64 */
static int32_t softplus_emit(struct mg_kir *k, int32_t v)
{
	int32_t big = mg_kir_op(k, MG_KOP_GT, v, mg_kir_const(k, MG_DTYPE_F64, 20));
	return mg_kir_select(k, big, v, mg_kir_libm(k, MG_KLIBM_LOG1P, mg_kir_libm(k, MG_KLIBM_EXP, v)));
}

static int32_t map(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		   enum mg_dtype xt, const struct mg_gen_stats *st)
{
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1;
	if (a[A_SHARP].is_none) { /* torch.clamp in x's dtype */
		int32_t lo = mg_gen_param(k, pv, xt, st->v[0]), hi = mg_gen_param(k, pv, xt, st->v[1]);
		int32_t r = mg_kir_select(k, mg_kir_op(k, MG_KOP_GT, x, hi), hi, x);
		return mg_kir_select(k, mg_kir_op(k, MG_KOP_LT, x, lo), lo, r);
	}
	enum mg_dtype ct = a[A_DTYPE].is_none ? xt : (enum mg_dtype)a[A_DTYPE].v.i;
	if (ct != MG_DTYPE_F64)
		return -1;
	/* clip_one's soft branch in float64: every rounding is the identity */
	int32_t v = mg_kir_cast(k, MG_DTYPE_F64, x), r = v;
	double c = a[A_SHARP].v.f;
	if (!a[A_LOWER].is_none) {
		int32_t d = mg_kir_op(k, MG_KOP_SUB, v, mg_gen_param(k, pv, MG_DTYPE_F64, st->v[0]));
		int32_t sp = softplus_emit(k, mg_kir_op(k, MG_KOP_MUL, mg_kir_const(k, MG_DTYPE_F64, -c), d));
		r = mg_kir_op(k, MG_KOP_ADD, r, mg_kir_op(k, MG_KOP_DIV, sp, mg_kir_const(k, MG_DTYPE_F64, c)));
	}
	if (!a[A_UPPER].is_none) {
		int32_t d = mg_kir_op(k, MG_KOP_SUB, v, mg_gen_param(k, pv, MG_DTYPE_F64, st->v[1]));
		int32_t sp = softplus_emit(k, mg_kir_op(k, MG_KOP_MUL, mg_kir_const(k, MG_DTYPE_F64, c), d));
		r = mg_kir_op(k, MG_KOP_SUB, r, mg_kir_op(k, MG_KOP_DIV, sp, mg_kir_const(k, MG_DTYPE_F64, c)));
	}
	return mg_kir_cast(k, xt, r);
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
	return mg_map_infer(rc, &in[0], NULL, &out[0]);
}

const struct mg_opdef mg_op_clip_intensity_percentiles = {
	.name = OP,
	.synopsis = "clip (hard or soft) to the image's lower/upper intensity percentiles",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = clip_intensity_percentiles,
	.gen = mg_elementwise_gen,
	.map = map,
	.per_channel = per_channel,
	.quantiles = quantiles,
};
