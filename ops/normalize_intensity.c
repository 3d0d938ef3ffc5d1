/* Op: NormalizeIntensity
 * Synopsis: (x - subtrahend) / divisor, by default mean and population std; nonzero, per channel.
 * MONAI: monai.transforms.NormalizeIntensity(d)
 * Gradient: none.  Inverse: none.
 * Reductions: per group (the image, or each channel with channel_wise), over the voxels
 * != 0 with nonzero: the mean when subtrahend or divisor is null, then the population
 * std around it when divisor is null (a second pass); with nonzero, also whether the
 * group has any such voxel (none: it is left unchanged). Given both, without nonzero:
 * none. Generated (gen_chain.c): a kernel per pass of those reductions, then the map;
 * one kernel per channel with channel_wise.
 *
 * MONAI (intensity/array.py, NormalizeIntensity._normalize) works on a float32 copy of
 * each group (the whole image, or one channel with channel_wise), whatever the input
 * dtype, float64 included:
 *   - nonzero: the statistics and the update use only the voxels != 0 (NaN counts as
 *     nonzero, -0.0 does not); the others keep their value. A group with no such voxel
 *     is returned unchanged;
 *   - subtrahend null: the mean; divisor null: torch.std(unbiased=False), the population
 *     std, always around the group's own mean; a divisor equal to 0 (computed or given)
 *     becomes 1 (an exact `== 0.0` test, no tolerance);
 *   - (x - sub) / div in float32, then conversion to `dtype` (null: the input's).
 * Precision: torch's std is a float64 sum of squares around the float32 mean, which this
 * kernel reproduces exactly. torch's float32 mean is a float32 sum (its vectorised
 * cascade order depends on the CPU), which no portable code can reproduce; mgc sums in
 * float64 and rounds the mean to float32, so means differ by an ulp or so and results
 * by about ulp(mean) / std. On constant images whose float32 sum is inexact (0.1 over
 * 1000 voxels) MONAI's std comes out as a rounding residue (7e-9) instead of 0 and its
 * result is +-1 or so; mgc gives the exact 0.
 * NaN in a group makes that group's mean and std NaN, so every updated voxel is NaN, as
 * in MONAI. Lists of one value per channel need channel_wise; without it the subtrahend
 * and divisor are one number (MONAI's array broadcasting is not supported). */
#include <math.h>
#include <stdlib.h>

#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"subtrahend", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "amount to subtract (one number, or one per channel with channel_wise); null: mean"},
	{"divisor", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "amount to divide by (as subtrahend); null: population std; 0 becomes 1"},
	{"nonzero", MG_ATTR_BOOL, "false", 0, NULL, "only normalize (and measure) voxels != 0"},
	{"channel_wise", MG_ATTR_BOOL, "false", 0, NULL,
	 "statistics and subtrahend/divisor per channel (axis 0)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "output dtype; null keeps the input's"},
};
enum { A_SUB, A_DIV, A_NONZERO, A_CHANNEL_WISE, A_DTYPE };

/* Element at offset `off` of x, converted to float32 as MONAI does first. */
static float load(const struct mg_tensor *x, const char *base, int64_t off)
{
	return (float)mg_dtype_load(x->dtype, base + off * (int64_t)mg_dtype_size(x->dtype));
}

/* One group: MONAI's _normalize. sub/div point to given values, NULL: computed. */
static void normalize_group(const struct mg_tensor *x, struct mg_tensor *y, int nonzero,
			    const double *sub, const double *div)
{
	if (mg_tensor_numel(x) == 0)
		return;
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(y);
	size_t so = mg_dtype_size(y->dtype);
	struct mg_iter it;
	const int64_t *st[2] = {x->strides, y->strides};
	int64_t n = 0;
	double sum = 0, ss = 0;
	float mean = 0;

	/* every walk: x in its memory order, by rows (y is laid out alike) */
	if (!sub || !div || nonzero) {
		for (mg_iter_init_memorder(&it, x->rank, x->dims, 2, st); !it.done;
		     mg_iter_next_row(&it))
			for (int64_t i = 0; i < it.inner; i++) {
				float v = load(x, px, it.off[0] + i * it.istride[0]);
				if (!nonzero || v != 0) {
					sum += v;
					n++;
				}
			}
		mean = n > 0 ? (float)(sum / (double)n) : 0;
	}
	if (n > 0 && !div) {
		for (mg_iter_init_memorder(&it, x->rank, x->dims, 2, st); !it.done;
		     mg_iter_next_row(&it))
			for (int64_t i = 0; i < it.inner; i++) {
				float v = load(x, px, it.off[0] + i * it.istride[0]);
				if (!nonzero || v != 0)
					ss += ((double)v - mean) * ((double)v - mean);
			}
	}
	/* the values torch sees: Python floats, rounded to float32 inside the op */
	float s = sub ? (float)*sub : mean;
	double dd = div ? *div : n > 0 ? (double)(float)sqrt(ss / (double)n) : 0;
	float d = dd == 0.0 ? 1.0f : (float)dd;
	int unchanged = nonzero && n == 0;
	for (mg_iter_init_memorder(&it, x->rank, x->dims, 2, st); !it.done; mg_iter_next_row(&it))
		for (int64_t i = 0; i < it.inner; i++) {
			float v = load(x, px, it.off[0] + i * it.istride[0]);
			if (!unchanged && (!nonzero || v != 0))
				v = (float)((float)(v - s) / d); /* two float32 ops, as torch */
			mg_dtype_store(y->dtype, py + (it.off[1] + i * it.istride[1]) * (int64_t)so,
				       v);
		}
}

/* Checks list lengths against the channel count (MONAI's messages). */
static int check_lists(const struct mg_attr *a, int channel_wise, int64_t channels,
		       struct mg_err *e)
{
	static const char *const names[] = {"subtrahend", "divisor"};
	for (int i = A_SUB; i <= A_DIV; i++) {
		if (a[i].is_none)
			continue;
		if (channel_wise && channels >= 0 && a[i].n != channels)
			return mg_err_set(e, MG_ERR_SHAPE,
					  "img has %lld channels, but %s has %d components.",
					  (long long)channels, names[i], a[i].n);
		if (!channel_wise && a[i].n != 1)
			return mg_err_set(e, MG_ERR_UNSUPPORTED,
					  "%s has %d values; without channel_wise it must be one "
					  "number (per-channel values need channel_wise=true)",
					  names[i], a[i].n);
	}
	return 0;
}

static int normalize_intensity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "NormalizeIntensity", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	int cw = (int)a[A_CHANNEL_WISE].v.i, nonzero = (int)a[A_NONZERO].v.i;
	if (cw && x->rank == 0)
		return mg_err_set(k->err, MG_ERR_SHAPE,
				  "channel_wise needs a channel axis; the image is a scalar");
	if ((rc = check_lists(a, cw, cw ? x->dims[0] : 1, k->err)))
		return rc;
	enum mg_dtype od = a[A_DTYPE].is_none ? x->dtype : (enum mg_dtype)a[A_DTYPE].v.i;
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc_like(&y, x, od, k->err)))
		return rc;
	int64_t groups = cw ? x->dims[0] : 1;
	for (int64_t c = 0; c < groups; c++) {
		struct mg_tensor xc = *x, yc = y; /* borrowed views: no references taken */
		if (cw) {
			xc.dims[0] = yc.dims[0] = 1;
			xc.offset += c * x->strides[0];
			yc.offset += c * y.strides[0];
		}
		const double *sub = a[A_SUB].is_none ? NULL : &a[A_SUB].v.floats[cw ? c : 0];
		const double *div = a[A_DIV].is_none ? NULL : &a[A_DIV].v.floats[cw ? c : 0];
		normalize_group(&xc, &yc, nonzero, sub, div);
	}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

/* ---- the generated kernels (gen_chain.c): pass 0 sums the measured voxels and counts
 * them, pass 1 sums the squares around the float32 mean, then the map. Sums are float64
 * as in normalize_group, in the launcher's order: the mean can differ from ref's in the
 * last bit of its float32 rounding (tests/test_lowering.c states the tolerance). */

static int needs_mean(const struct mg_attr *a)
{
	return a[A_SUB].is_none || a[A_DIV].is_none;
}

/* The voxel as MONAI's float32 copy holds it (int64 through float64, as `load`). */
static int32_t voxel(struct mg_kir *k, int32_t x)
{
	return mg_kir_cast(k, MG_DTYPE_F32, k->nodes[x].type == MG_DTYPE_I64
						   ? mg_kir_cast(k, MG_DTYPE_F64, x) : x);
}

/* Whether v (f32) is measured and normalized: v != 0 with nonzero (NaN is), else -1 (all). */
static int32_t measured(const struct mg_attr *a, struct mg_kir *k, int32_t v)
{
	return a[A_NONZERO].v.i ? mg_kir_op(k, MG_KOP_NE, v, mg_kir_const(k, MG_DTYPE_F32, 0)) : -1;
}

static float mean_of(const struct mg_gen_stats *st)
{
	return st->v[1] > 0 ? (float)(st->v[0] / st->v[1]) : 0;
}

static int reduce(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		  enum mg_dtype xt, int pass, const struct mg_gen_stats *st)
{
	(void)xt;
	int32_t v = voxel(k, x), m = measured(a, k, v), v64 = mg_kir_cast(k, MG_DTYPE_F64, v);
	if (pass == 0 && needs_mean(a)) {
		mg_kir_reduce(k, MG_KRED_SUM, v64, m);
		mg_kir_reduce(k, MG_KRED_SUM, mg_kir_const(k, MG_DTYPE_F64, 1), m); /* the count */
		return k->failed ? -1 : 2;
	}
	if (pass == 1 && a[A_DIV].is_none) {
		int32_t dev = mg_kir_op(k, MG_KOP_SUB, v64,
					mg_gen_param(k, pv, MG_DTYPE_F64, mean_of(st)));
		mg_kir_reduce(k, MG_KRED_SUM, mg_kir_op(k, MG_KOP_MUL, dev, dev), m);
		return k->failed ? -1 : 1;
	}
	return 0;
}

static int32_t map(const struct mg_attr *a, struct mg_kir *k, double *pv, int32_t x,
		   enum mg_dtype xt, const struct mg_gen_stats *st)
{
	int cw = (int)a[A_CHANNEL_WISE].v.i;
	struct mg_err e = {0};
	if (check_lists(a, cw, st->channels, &e))
		return -1; /* ref reports it */
	int64_t c = cw ? st->channel : 0;
	double n = needs_mean(a) ? st->v[1] : 0;
	/* normalize_group's values, from the statistics */
	float s = a[A_SUB].is_none ? mean_of(st) : (float)a[A_SUB].v.floats[c];
	double dd = !a[A_DIV].is_none ? a[A_DIV].v.floats[c]
		    : n > 0	      ? (double)(float)sqrt(st->v[2] / n) : 0;
	float d = dd == 0.0 ? 1.0f : (float)dd;
	int32_t v = voxel(k, x);
	int32_t r = mg_kir_op(k, MG_KOP_SUB, v, mg_gen_param(k, pv, MG_DTYPE_F32, s));
	r = mg_kir_op(k, MG_KOP_DIV, r, mg_gen_param(k, pv, MG_DTYPE_F32, d));
	if (a[A_NONZERO].v.i)
		r = mg_kir_select(k, measured(a, k, v), r, v);
	return mg_kir_cast(k, a[A_DTYPE].is_none ? (int)xt : (int)a[A_DTYPE].v.i, r);
}

static int per_channel(const struct mg_attr *a)
{
	return (int)a[A_CHANNEL_WISE].v.i;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int cw = (int)a[A_CHANNEL_WISE].v.i;
	int64_t channels = cw && in[0].rank > 0 ? in[0].dims[0] : -1;
	int rc = mg_op_infer_image(&in[0], "NormalizeIntensity", e);
	if (!rc)
		rc = check_lists(a, cw, channels, e);
	return mg_map_infer(rc, &in[0], &a[A_DTYPE], &out[0]);
}

const struct mg_opdef mg_op_normalize_intensity = {
	.name = "NormalizeIntensity",
	.synopsis = "(x - mean) / std (or given subtrahend/divisor), optionally over nonzero "
		    "voxels and per channel",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = normalize_intensity,
	.gen = mg_elementwise_gen,
	.reduce = reduce,
	.map = map,
	.per_channel = per_channel,
};
