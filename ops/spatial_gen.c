/* spatial_gen.c: the resampler as a generated kernel: mg_resample's point sampling
 * (nearest, linear and cubic; zeros, border and reflection padding) written in kernel
 * IR, element by element the same arithmetic as runtime/resample.c (the map's sums in
 * the same order, grid_sample's coordinate padding with reflection's reflect_coordinates
 * in resample.c's fmod-free form, floor or round-half-even, bounds-checked taps, torch's
 * cubic convolution weights, weights multiplied and summed in grid_sample's order, all
 * in float64), so the output is the reference's bit for bit (tests/test_lowering.c).
 * The map is 12 parameters, so one compiled kernel serves every image of a pipeline: the
 * code depends only on the dimension, the modes, the dtypes and the loop order (the
 * output's memory order, which follows the input's as in mg_resample). torch.interpolate's
 * axis-wise modes run the reference resampler. */
#include "op.h"

/* The kernel being built and the type of its tap indices and offsets into the input:
 * I32 when every offset into it fits in 31 bits (8-lane gathers and native multiplies
 * on AVX2), else I64. Coordinates, weights and sums are F64, as the reference's. */
struct gen {
	struct mg_kir *k;
	const struct mg_grid *g;
	int it;
};

/* One input axis's taps: index and weight of each (nearest: one tap, weight 1; linear:
 * 2; cubic: 4), whether the tap lands inside (a tap outside is skipped, as grid_sample
 * skips it) and its offset along the axis (index times stride). */
struct axis {
	int n;
	int32_t idx[4], w[4], in[4], off[4];
};

/* Shorthands for the builder calls below, k being the kernel being built. */
#define OP(op, a, b) mg_kir_op(k, MG_KOP_##op, a, b)
#define OP1(op, a) mg_kir_op(k, MG_KOP_##op, a, -1)

static int32_t f64(struct mg_kir *k, double v)
{
	return mg_kir_const(k, MG_DTYPE_F64, v);
}

/* resample.c's as_index: an integral double as an index, -8 for anything that is not
 * a finite number in index range (for I32, below 2^30: every input axis is shorter). */
static int32_t as_index(const struct gen *gn, int32_t v)
{
	struct mg_kir *k = gn->k;
	double lim = gn->it == MG_DTYPE_I32 ? 0x1p30 : 0x1p62;
	int32_t ok = OP(AND, OP(GE, v, f64(k, -4)), OP(LT, v, f64(k, lim)));
	return mg_kir_select(k, ok, mg_kir_cast(k, gn->it, v), mg_kir_const(k, gn->it, -8));
}

/* resample.c's reflect for an axis of n voxels (nf: n as F64): the mirror of q about lo
 * and hi (-0.5 and n - 0.5, or with align_corners 0 and n - 1), q itself inside. */
static int32_t reflect(struct mg_kir *k, int ac, int32_t n, int32_t nf, int32_t q)
{
	int32_t lo = f64(k, ac ? 0 : -0.5);
	int32_t hi = OP(SUB, nf, f64(k, ac ? 1 : 0.5));
	int32_t span = ac ? OP(SUB, nf, f64(k, 1)) : nf;
	int32_t d = OP1(ABS, OP(SUB, q, lo));
	/* flips = floor(d / span); extra = fmod(d, span) as d - flips span, moved into
	 * [0, span) where the quotient's rounding made flips one off */
	int32_t flips = OP1(FLOOR, OP(DIV, d, span));
	int32_t extra = OP(SUB, d, OP(MUL, flips, span));
	extra = mg_kir_select(k, OP(LT, extra, f64(k, 0)), OP(ADD, extra, span), extra);
	extra = mg_kir_select(k, OP(GE, extra, span), OP(SUB, extra, span), extra);
	int32_t half = OP1(FLOOR, OP(MUL, flips, f64(k, 0.5)));
	int32_t even = OP(EQ, OP(SUB, flips, OP(MUL, f64(k, 2), half)), f64(k, 0));
	int32_t r = mg_kir_select(k, even, OP(ADD, extra, lo), OP(ADD, OP(SUB, span, extra), lo));
	int32_t in = OP(AND, OP(GE, q, lo), OP(LE, q, hi));
	r = mg_kir_select(k, in, q, r);
	if (ac) /* one voxel: lo == hi */
		r = mg_kir_select(k, OP(EQ, n, mg_kir_const(k, MG_DTYPE_I64, 1)), f64(k, 0), r);
	return r;
}

/* resample.c's pad_coord on axis d: border clamps to [0, n-1] (NaN passes), reflection
 * reflects then clamps, zeros leaves q alone. */
static int32_t pad_coord(struct mg_kir *k, const struct mg_grid *g, int d, int32_t q)
{
	if (g->padding == MG_PAD_ZEROS)
		return q;
	int32_t n = mg_kir_dim(k, 1, 1 + d), nf = mg_kir_cast(k, MG_DTYPE_F64, n);
	if (g->padding == MG_PAD_REFLECTION)
		q = reflect(k, g->align_corners != 0, n, nf, q);
	int32_t zero = f64(k, 0), hi = OP(SUB, nf, f64(k, 1));
	return mg_kir_select(k, OP(LT, q, zero), zero, mg_kir_select(k, OP(GT, q, hi), hi, q));
}

/* resample.c's cubic_weights (torch's A = -0.75) for t = q - floor(q), the same
 * operations in the same order. */
static void cubic_weights(struct mg_kir *k, int32_t t, int32_t w[4])
{
	const double A = -0.75;
	int32_t x[2] = {t, OP(SUB, f64(k, 1), t)};
	for (int s = 0; s < 2; s++) {
		int32_t x1 = OP(ADD, x[s], f64(k, 1)); /* the far tap's distance */
		int32_t a = OP(SUB, OP(MUL, f64(k, A), x1), f64(k, 5 * A));
		a = OP(ADD, OP(MUL, a, x1), f64(k, 8 * A));
		w[s ? 3 : 0] = OP(SUB, OP(MUL, a, x1), f64(k, 4 * A));
		int32_t b = OP(SUB, OP(MUL, f64(k, A + 2), x[s]), f64(k, A + 3));
		b = OP(MUL, OP(MUL, b, x[s]), x[s]);
		w[s ? 2 : 1] = OP(ADD, b, f64(k, 1));
	}
}

/* The taps of input axis d for coordinate q (F64): resample.c's axis_taps; st: the
 * input's stride along d (type it). */
static void axis_taps(const struct gen *gn, int d, int32_t q, int32_t st, struct axis *t)
{
	struct mg_kir *k = gn->k;
	const struct mg_grid *g = gn->g;
	int32_t one = mg_kir_const(k, gn->it, 1);
	/* consecutive: tap i's index is tap 0's plus i (its offset tap 0's plus i strides) */
	int consecutive = 1;
	if (g->mode == MG_INTERP_NEAREST) {
		t->n = 1;
		t->idx[0] = as_index(gn, OP1(RINT, pad_coord(k, g, d, q)));
		t->w[0] = f64(k, 1);
	} else if (g->mode == MG_INTERP_LINEAR) {
		q = pad_coord(k, g, d, q);
		int32_t f = OP1(FLOOR, q);
		t->n = 2;
		t->idx[0] = as_index(gn, f);
		t->idx[1] = OP(ADD, t->idx[0], one);
		t->w[0] = OP(SUB, OP(ADD, f, f64(k, 1)), q);
		t->w[1] = OP(SUB, q, f);
	} else {
		/* floor of the raw q picks the taps; each is then padded on its own */
		int32_t f = OP1(FLOOR, q), f1 = OP(SUB, f, f64(k, 1));
		t->n = 4;
		cubic_weights(k, OP(SUB, q, f), t->w);
		consecutive = g->padding == MG_PAD_ZEROS;
		for (int i = 0; i < 4; i++)
			if (consecutive && i) /* as_index(f - 1 + i)'s value where that is
					       * inside; else outside too */
				t->idx[i] = OP(ADD, t->idx[i - 1], one);
			else /* f - 1 + 0 is f - 1 (never -0) */
				t->idx[i] = as_index(gn, pad_coord(k, g, d, i ? OP(ADD, f1, f64(k, i)) : f1));
	}
	int32_t n = mg_kir_cast(k, gn->it, mg_kir_dim(k, 1, 1 + d)), zero = mg_kir_const(k, gn->it, 0);
	for (int i = 0; i < t->n; i++) {
		t->in[i] = OP(AND, OP(GE, t->idx[i], zero), OP(LT, t->idx[i], n));
		/* integer offsets wrap where a tap is outside; its load is masked off */
		t->off[i] = consecutive && i ? OP(ADD, t->off[i - 1], st) : OP(MUL, t->idx[i], st);
	}
}

/* One tap: the input at offset off where ok, as F64. */
static int32_t tap(const struct gen *gn, int32_t off, int32_t ok)
{
	return mg_kir_cast(gn->k, MG_DTYPE_F64, mg_kir_load(gn->k, 1, off, ok));
}

/* The value of one output voxel, as resample.c's gather2/gather3: taps of axis 0
 * outermost, each term v * (w_last * ... * w_0), terms of outside taps skipped. The
 * partial offsets, masks and weight products are shared between the taps (integer
 * sums: any order gives the same offsets where the taps are inside). */
static int32_t gather(const struct gen *gn, int sd, const struct axis *t, int32_t chan_off)
{
	struct mg_kir *k = gn->k;
	int32_t s = f64(k, 0);
	int n2 = sd == 3 ? t[2].n : 1;
	int32_t w21[4][4]; /* (w2 * w1) along the last two axes (3D) */
	for (int b = 0; b < t[1].n && sd == 3; b++)
		for (int c = 0; c < n2; c++)
			w21[b][c] = OP(MUL, t[2].w[c], t[1].w[b]);
	for (int a = 0; a < t[0].n; a++) {
		int32_t oa = OP(ADD, chan_off, t[0].off[a]);
		for (int b = 0; b < t[1].n; b++) {
			int32_t ob = OP(ADD, oa, t[1].off[b]), okb = OP(AND, t[0].in[a], t[1].in[b]);
			for (int c = 0; c < n2; c++) {
				int32_t off = sd == 3 ? OP(ADD, ob, t[2].off[c]) : ob;
				int32_t ok = sd == 3 ? OP(AND, okb, t[2].in[c]) : okb;
				int32_t w = OP(MUL, sd == 3 ? w21[b][c] : t[1].w[b], t[0].w[a]);
				int32_t sum = OP(ADD, s, OP(MUL, tap(gn, off, ok), w));
				s = mg_kir_select(k, ok, sum, s);
			}
		}
	}
	return s;
}

/* Cubic, as resample.c's gather_cubic2/gather_cubic3: separable, the last axis
 * innermost; along axis d each tap inside adds (the sum over axes d+1.. at that tap)
 * times its weight, from 0. off and ok: the taps chosen on axes 0..d-1. */
static int32_t gather_cubic(const struct gen *gn, int sd, const struct axis *t, int d, int32_t off,
			    int32_t ok)
{
	struct mg_kir *k = gn->k;
	int32_t s = f64(k, 0);
	for (int a = 0; a < 4; a++) {
		int32_t o = OP(ADD, off, t[d].off[a]);
		int32_t m = ok < 0 ? t[d].in[a] : OP(AND, ok, t[d].in[a]);
		int32_t v = d == sd - 1 ? tap(gn, o, m) : gather_cubic(gn, sd, t, d + 1, o, m);
		s = mg_kir_select(k, t[d].in[a], OP(ADD, s, OP(MUL, v, t[d].w[a])), s);
	}
	return s;
}

/* Whether every offset into x fits in I32: its span below 2^31 and each spatial axis
 * shorter than 2^30 (as_index's I32 bound, so that an index at the bound is outside). */
static int offsets_fit_i32(const struct mg_tensor *x)
{
	int64_t span = 0;
	for (int d = 0; d < x->rank; d++) {
		if (d && x->dims[d] >= ((int64_t)1 << 30))
			return 0;
		int64_t s = x->strides[d] < 0 ? -x->strides[d] : x->strides[d];
		if (s && x->dims[d] - 1 > (INT32_MAX - span) / s)
			return 0;
		span += (x->dims[d] - 1) * s;
	}
	return 1;
}

int mg_resample_gen(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		    struct mg_tensor *out, struct mg_kctx *k)
{
	if (!k->backend || mg_interp_is_axiswise(g->mode))
		return MG_ERR_UNSUPPORTED;
	int sd = g->sdim, rank = sd + 1, order[4];
	int rc = mg_resample_output(in, g, dtype, out, order, k->err);
	if (rc)
		return rc;
	if (mg_tensor_numel(out) == 0)
		return 0;
	struct mg_arena ar = {0};
	struct mg_kir kir;
	mg_kir_init(&kir, &ar, "resample", rank);
	for (int i = 0; i < rank; i++) /* slowest first */
		kir.info.order[i] = order[rank - 1 - i];
	mg_kir_tensor(&kir, dtype, rank);
	mg_kir_tensor(&kir, in->dtype, rank);
	double a[3][4];
	mg_resample_map(g, a);
	int32_t o[3], p[3][4];
	for (int j = 0; j < sd; j++)
		o[j] = mg_kir_cast(&kir, MG_DTYPE_F64, mg_kir_index(&kir, 1 + j));
	struct mg_kargs args = {0};
	for (int d = 0; d < sd; d++)
		for (int j = 0; j < 4; j++) {
			int slot = mg_kir_param_slot(&kir);
			if (slot >= 0)
				args.p[slot] = a[d][j];
			p[d][j] = mg_kir_param(&kir, MG_DTYPE_F64, slot);
		}
	struct gen gn = {&kir, g, offsets_fit_i32(in) ? MG_DTYPE_I32 : MG_DTYPE_I64};
	struct axis t[3];
	for (int d = 0; d < sd; d++) {
		/* a[d][3] + a[d][0] o0 + a[d][1] o1 (+ a[d][2] o2), summed in this order */
		int32_t q = p[d][3];
		for (int j = 0; j < sd; j++)
			q = mg_kir_op(&kir, MG_KOP_ADD, q, mg_kir_op(&kir, MG_KOP_MUL, p[d][j], o[j]));
		axis_taps(&gn, d, q, mg_kir_cast(&kir, gn.it, mg_kir_stride(&kir, 1, 1 + d)), &t[d]);
	}
	int32_t chan = mg_kir_op(&kir, MG_KOP_MUL, mg_kir_cast(&kir, gn.it, mg_kir_index(&kir, 0)),
				 mg_kir_cast(&kir, gn.it, mg_kir_stride(&kir, 1, 0)));
	int32_t v = g->mode == MG_INTERP_CUBIC ? gather_cubic(&gn, sd, t, 0, chan, -1)
					       : gather(&gn, sd, t, chan);
	kir.store = mg_kir_cast(&kir, dtype, v);

	for (int i = 0; i < rank; i++)
		args.dims[i] = out->dims[i];
	mg_ktensor_set(&args.t[0], out);
	mg_ktensor_set(&args.t[1], in);
	rc = mg_gen_run(k, &kir, &args, NULL);
	mg_arena_free(&ar);
	if (rc)
		mg_tensor_release(out);
	return rc;
}
