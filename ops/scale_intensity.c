/* Op: ScaleIntensity
 * Synopsis: rescale to [minv, maxv] from the image's own min and max, or multiply by 1 + factor.
 * MONAI: monai.transforms.ScaleIntensity(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: min and max (per channel with channel_wise), NaN left out.
 * Generated (gen_chain.c): one kernel for the min and max, then the map.
 * MONAI (intensity/array.py, transforms/utils.py rescale_array):
 *   - minv or maxv set: each group (the image, or each channel with channel_wise) is
 *     converted to `dtype` (null: kept), its min and max taken in that dtype, then
 *     (x - min) / (max - min), and * (maxv - minv) + minv when both are set; min == max
 *     gives x * minv (x itself when minv is null). Each step is one torch op in the
 *     promoted dtype (float32 for integer data), Python floats rounded to it, as for
 *     ScaleIntensityRange;
 *   - both null: x * (1 + factor) in the input's promoted dtype (x itself when factor is
 *     null);
 *   - the result converts to `dtype` (null: the input's).
 * Known deviations: MONAI's integer subtraction x - min wraps in int8/uint8 when the
 * range exceeds the dtype (dtype=null on such images); mgc subtracts exactly. An
 * integer-valued JSON minv/maxv is a float here (see ScaleIntensityRange). */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"minv", MG_ATTR_FLOAT, "0.0", MG_ATTRF_NULLABLE, NULL, "minimum of the output"},
	{"maxv", MG_ATTR_FLOAT, "1.0", MG_ATTRF_NULLABLE, NULL, "maximum of the output"},
	{"factor", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "scale by 1 + factor instead (needs minv and maxv null)"},
	{"channel_wise", MG_ATTR_BOOL, "false", 0, NULL, "min and max per channel (axis 0)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "output dtype (and the dtype rescaling starts from); null keeps the input's"},
};
enum { A_MINV, A_MAXV, A_FACTOR, A_CHANNEL_WISE, A_DTYPE };

/* One group's map: convert to dt, then rescale (or x * mul when degenerate). */
struct scale {
	enum mg_dtype dt;
	double mul; /* the degenerate case's minv, rounded; NaN: x itself */
	struct mg_range_scale rs;
};

static double scale_one(const void *ctx, double v)
{
	const struct scale *s = ctx;
	v = mg_convert_value(s->dt, v);
	if (s->rs.degenerate)
		return isnan(s->mul) ? v : mg_round_to(s->rs.ct, v * s->mul);
	return mg_range_scale_apply(&s->rs, v);
}

static void rescale_group(const struct mg_attr *a, const struct mg_tensor *x,
			  struct mg_tensor *y, enum mg_dtype dt)
{
	double mn, mx;
	mg_reduce_minmax(x, &mn, &mx);
	mn = mg_convert_value(dt, mn); /* converting is monotonic: min and max carry over */
	mx = mg_convert_value(dt, mx);
	enum mg_dtype ct = mg_float_dtype(dt);
	int has_lo = !a[A_MINV].is_none, has_hi = !a[A_MAXV].is_none;
	struct scale s = {
		.dt = dt,
		.mul = has_lo ? mg_round_to(ct, a[A_MINV].v.f) : NAN,
		.rs = {
			.ct = ct,
			.amin = mn,
			.arange = mg_round_to(ct, mx - mn),
			.bmin = has_lo ? mg_round_to(ct, a[A_MINV].v.f) : 0,
			.brange = has_lo && has_hi ? mg_round_to(ct, a[A_MAXV].v.f - a[A_MINV].v.f) : 0,
			.has_lo = has_lo,
			.has_hi = has_hi,
			.degenerate = mn == mx,
		},
	};
	mg_map(x, y, scale_one, &s);
}

struct factor {
	enum mg_dtype ct;
	double mul; /* 1 + factor, rounded; NaN: x itself */
};

static double factor_one(const void *ctx, double v)
{
	const struct factor *f = ctx;
	return isnan(f->mul) ? v : mg_round_to(f->ct, mg_round_to(f->ct, v) * f->mul);
}

static int scale_intensity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "ScaleIntensity", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	enum mg_dtype od = a[A_DTYPE].is_none ? x->dtype : (enum mg_dtype)a[A_DTYPE].v.i;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc_like(&y, x, od, k->err)))
		return rc;
	if (a[A_MINV].is_none && a[A_MAXV].is_none) {
		enum mg_dtype ct = mg_float_dtype(x->dtype);
		struct factor f = {ct, a[A_FACTOR].is_none ? NAN : mg_round_to(ct, 1 + a[A_FACTOR].v.f)};
		mg_map(x, &y, factor_one, &f);
	} else if (mg_tensor_numel(x) > 0) {
		int cw = (int)a[A_CHANNEL_WISE].v.i;
		for (int64_t c = 0; c < mg_group_count(x, cw); c++) {
			struct mg_tensor xc = mg_group(x, cw, c), yc = mg_group(&y, cw, c);
			rescale_group(a, &xc, &yc, od);
		}
	}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

/* ---- the generated kernels (gen_chain.c): pass 0 takes the min and max (NaN left out,
 * as mg_reduce_minmax), then the map: rescale_group's arithmetic, exact (each step in
 * float64 rounded to ct where ref's double arithmetic is), with the degenerate case
 * chosen per voxel by a parameter so the kernel does not depend on the values. */

static int rescales(const struct mg_attr *a)
{
	return !a[A_MINV].is_none || !a[A_MAXV].is_none;
}

static int reduce(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		  enum mg_dtype xt, int pass, const struct mg_gen_stats *st)
{
	(void)pv, (void)st;
	if (pass > 0 || !rescales(a))
		return 0;
	int32_t v = mg_kir_cast(k, MG_DTYPE_F64, x);
	int32_t m = mg_dtype_is_float(xt) ? mg_kir_op(k, MG_KOP_EQ, v, v) : -1;
	mg_kir_reduce(k, MG_KRED_MIN, v, m);
	mg_kir_reduce(k, MG_KRED_MAX, v, m);
	return k->failed ? -1 : 2;
}

static int32_t map(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		   enum mg_dtype xt, const struct mg_gen_stats *st)
{
	enum mg_dtype od = a[A_DTYPE].is_none ? xt : (enum mg_dtype)a[A_DTYPE].v.i;
	if (!rescales(a)) { /* factor_one */
		enum mg_dtype ct = mg_float_dtype(xt);
		if (a[A_FACTOR].is_none) /* x stored as a double is: int64 through float64 */
			return mg_kir_cast(k, od, xt == MG_DTYPE_I64 ? mg_kir_cast(k, MG_DTYPE_F64, x) : x);
		int32_t mul = mg_kir_const(k, mg_gen_ctype(ct), mg_round_to(ct, 1 + a[A_FACTOR].v.f));
		return mg_kir_cast(k, od, mg_gen_arith(k, MG_KOP_MUL, mg_gen_round(k, x, ct), mul, ct));
	}
	/* scale_one with rescale_group's values */
	enum mg_dtype dt = od, ct = mg_float_dtype(dt);
	double mn = mg_convert_value(dt, st->v[0]), mx = mg_convert_value(dt, st->v[1]);
	int has_lo = !a[A_MINV].is_none, has_hi = !a[A_MAXV].is_none, c = mg_gen_ctype(ct);
	int32_t vd = mg_kir_cast(k, dt, xt == MG_DTYPE_I64 ? mg_kir_cast(k, MG_DTYPE_F64, x) : x);
	int32_t v64 = mg_kir_cast(k, MG_DTYPE_F64, vd);
	int32_t deg = vd; /* min == max: x * minv, or x */
	if (has_lo)
		deg = mg_kir_cast(k, od, mg_gen_round(k, mg_kir_op(k, MG_KOP_MUL, v64,
			mg_kir_const(k, MG_DTYPE_F64, mg_round_to(ct, a[A_MINV].v.f))), ct));
	int32_t r = mg_kir_op(k, MG_KOP_SUB, mg_kir_cast(k, MG_DTYPE_F64, mg_gen_round(k, vd, ct)),
			      mg_gen_param(k, pv, MG_DTYPE_F64, mn));
	r = mg_gen_arith(k, MG_KOP_DIV, mg_gen_round(k, r, ct),
			 mg_gen_param(k, pv, c, mg_round_to(ct, mx - mn)), ct);
	if (has_lo && has_hi) {
		r = mg_gen_arith(k, MG_KOP_MUL, r,
				 mg_kir_const(k, c, mg_round_to(ct, a[A_MAXV].v.f - a[A_MINV].v.f)), ct);
		r = mg_gen_arith(k, MG_KOP_ADD, r, mg_kir_const(k, c, mg_round_to(ct, a[A_MINV].v.f)), ct);
	}
	return mg_kir_select(k, mg_gen_param(k, pv, MG_KT_BOOL, mn == mx), deg,
			     mg_kir_cast(k, od, r));
}

static int per_channel(const struct mg_attr *a)
{
	return rescales(a) && a[A_CHANNEL_WISE].v.i;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "ScaleIntensity", e);
	return mg_map_infer(rc, &in[0], &a[A_DTYPE], &out[0]);
}

const struct mg_opdef mg_op_scale_intensity = {
	.name = "ScaleIntensity",
	.synopsis = "rescale to [minv, maxv] from the image's min and max, or scale by 1 + "
		    "factor",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = scale_intensity,
	.gen = mg_elementwise_gen,
	.reduce = reduce,
	.map = map,
	.per_channel = per_channel,
};
