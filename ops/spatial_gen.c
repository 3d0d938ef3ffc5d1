/* spatial_gen.c: the resampler as a generated kernel: mg_resample's nearest and linear
 * point sampling (zeros and border padding) written in kernel IR, element by element the
 * same arithmetic as runtime/resample.c (the map's sums in the same order, grid_sample's
 * coordinate padding, floor or round-half-even, bounds-checked taps, weights multiplied
 * and summed in grid_sample's order, all in float64), so the output is the reference's
 * bit for bit (tests/test_lowering.c). The map is 12 parameters, so one compiled kernel
 * serves every image of a pipeline: the code depends only on the dimension, the modes,
 * the dtypes and the loop order (the output's memory order, which follows the input's as
 * in mg_resample). Cubic, reflection and torch.interpolate's axis-wise modes run the
 * reference resampler. */
#include "op.h"

/* One input axis's taps: index and weight of each (nearest: one tap, weight 1), and
 * whether the tap lands inside (a tap outside is skipped, as grid_sample skips it). */
struct axis {
	int n;
	int32_t idx[2], w[2], in[2];
};

/* resample.c's as_index: an integral double as an index, -8 for anything that is not
 * a finite number in index range. */
static int32_t as_index(struct mg_kir *k, int32_t v)
{
	int32_t ok = mg_kir_op(k, MG_KOP_AND, mg_kir_op(k, MG_KOP_GE, v, mg_kir_const(k, MG_DTYPE_F64, -4)),
			       mg_kir_op(k, MG_KOP_LT, v, mg_kir_const(k, MG_DTYPE_F64, 0x1p62)));
	return mg_kir_select(k, ok, mg_kir_cast(k, MG_DTYPE_I64, v), mg_kir_const(k, MG_DTYPE_I64, -8));
}

static int32_t inside(struct mg_kir *k, int32_t i, int32_t n)
{
	return mg_kir_op(k, MG_KOP_AND, mg_kir_op(k, MG_KOP_GE, i, mg_kir_const(k, MG_DTYPE_I64, 0)),
			 mg_kir_op(k, MG_KOP_LT, i, n));
}

/* The taps of input axis d for coordinate q (F64): pad_coord then axis_taps. */
static void axis_taps(struct mg_kir *k, const struct mg_grid *g, int d, int32_t q, struct axis *t)
{
	int32_t n = mg_kir_dim(k, 1, 1 + d);
	if (g->padding == MG_PAD_BORDER) { /* clamp to [0, n-1]; NaN passes */
		int32_t zero = mg_kir_const(k, MG_DTYPE_F64, 0);
		int32_t hi = mg_kir_cast(k, MG_DTYPE_F64, mg_kir_op(k, MG_KOP_SUB, n, mg_kir_const(k, MG_DTYPE_I64, 1)));
		q = mg_kir_select(k, mg_kir_op(k, MG_KOP_LT, q, zero), zero,
				  mg_kir_select(k, mg_kir_op(k, MG_KOP_GT, q, hi), hi, q));
	}
	if (g->mode == MG_INTERP_NEAREST) {
		t->n = 1;
		t->idx[0] = as_index(k, mg_kir_op(k, MG_KOP_RINT, q, -1));
		t->w[0] = mg_kir_const(k, MG_DTYPE_F64, 1);
	} else {
		int32_t f = mg_kir_op(k, MG_KOP_FLOOR, q, -1);
		t->n = 2;
		t->idx[0] = as_index(k, f);
		t->idx[1] = mg_kir_op(k, MG_KOP_ADD, t->idx[0], mg_kir_const(k, MG_DTYPE_I64, 1));
		t->w[0] = mg_kir_op(k, MG_KOP_SUB, mg_kir_op(k, MG_KOP_ADD, f, mg_kir_const(k, MG_DTYPE_F64, 1)), q);
		t->w[1] = mg_kir_op(k, MG_KOP_SUB, q, f);
	}
	for (int i = 0; i < t->n; i++)
		t->in[i] = inside(k, t->idx[i], n);
}

/* The value of one output voxel, as resample.c's gather2/gather3: taps of axis 0
 * outermost, each term v * (w_last * ... * w_0), terms of outside taps skipped. */
static int32_t gather(struct mg_kir *k, int sd, const struct axis *t, int32_t chan_off)
{
	int32_t s = mg_kir_const(k, MG_DTYPE_F64, 0);
	int32_t st[3];
	for (int d = 0; d < sd; d++)
		st[d] = mg_kir_stride(k, 1, 1 + d);
	int n1 = sd == 3 ? t[2].n : 1;
	for (int a = 0; a < t[0].n; a++)
		for (int b = 0; b < t[1].n; b++)
			for (int c = 0; c < n1; c++) {
				int tap[3] = {a, b, c};
				int32_t off = chan_off, ok = -1, w = -1;
				for (int d = 0; d < sd; d++) {
					int32_t i = t[d].idx[tap[d]];
					off = mg_kir_op(k, MG_KOP_ADD, off, mg_kir_op(k, MG_KOP_MUL, i, st[d]));
					ok = ok < 0 ? t[d].in[tap[d]] : mg_kir_op(k, MG_KOP_AND, ok, t[d].in[tap[d]]);
				}
				for (int d = sd - 1; d >= 0; d--) /* (w2 * w1) * w0 */
					w = w < 0 ? t[d].w[tap[d]] : mg_kir_op(k, MG_KOP_MUL, w, t[d].w[tap[d]]);
				int32_t v = mg_kir_cast(k, MG_DTYPE_F64, mg_kir_load(k, 1, off, ok));
				int32_t sum = mg_kir_op(k, MG_KOP_ADD, s, mg_kir_op(k, MG_KOP_MUL, v, w));
				s = mg_kir_select(k, ok, sum, s);
			}
	return s;
}

int mg_resample_gen(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		    struct mg_tensor *out, struct mg_kctx *k)
{
	if (!k->backend || (g->mode != MG_INTERP_NEAREST && g->mode != MG_INTERP_LINEAR) ||
	    g->padding == MG_PAD_REFLECTION)
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
	struct axis t[3];
	for (int d = 0; d < sd; d++) {
		/* a[d][3] + a[d][0] o0 + a[d][1] o1 (+ a[d][2] o2), summed in this order */
		int32_t q = p[d][3];
		for (int j = 0; j < sd; j++)
			q = mg_kir_op(&kir, MG_KOP_ADD, q, mg_kir_op(&kir, MG_KOP_MUL, p[d][j], o[j]));
		axis_taps(&kir, g, d, q, &t[d]);
	}
	int32_t chan = mg_kir_op(&kir, MG_KOP_MUL, mg_kir_index(&kir, 0), mg_kir_stride(&kir, 1, 0));
	kir.store = mg_kir_cast(&kir, dtype, gather(&kir, sd, t, chan));

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
