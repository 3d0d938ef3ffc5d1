/* Op: ShiftIntensity
 * Synopsis: x + offset, in the input's dtype.
 * MONAI: monai.transforms.ShiftIntensity(d)
 * Gradient: none.  Inverse: none.
 *
 * Reductions needed first: none (a pure per-voxel op).
 * MONAI (intensity/array.py) computes `img + offset` in torch's promoted dtype (the
 * input's float dtype, float32 for integer inputs, the offset rounded to it), then
 * converts back to the input's dtype: floats to integers truncate toward zero. safe=true
 * clamps to the dtype's range first, which is what mgc's conversions always do. Known
 * deviation: with safe=false torch wraps out-of-range integers (256 -> 0 in uint8);
 * mgc saturates (as CastToType). */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"offset", MG_ATTR_FLOAT, NULL, 0, NULL, "amount added to every voxel"},
	{"safe", MG_ATTR_BOOL, "false", 0, NULL,
	 "clamp to the dtype's range before converting back (mgc always does; see the notes)"},
};
enum { A_OFFSET, A_SAFE };

struct shift {
	enum mg_dtype ct;
	double offset;
};

static double shift_one(const void *ctx, double v)
{
	const struct shift *s = ctx;
	return mg_round_to(s->ct, mg_round_to(s->ct, v) + s->offset);
}

static int shift_intensity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "ShiftIntensity", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	enum mg_dtype ct = mg_float_dtype(x->dtype);
	struct shift s = {ct, mg_round_to(ct, a[A_OFFSET].v.f)};
	return mg_map_new(x, x->dtype, shift_one, &s, &out[0], k->err);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	enum mg_dtype ct = mg_float_dtype(xt);
	int32_t off = mg_kir_const(k, mg_gen_ctype(ct), mg_round_to(ct, a[A_OFFSET].v.f));
	return mg_kir_cast(k, xt, mg_gen_arith(k, MG_KOP_ADD, mg_gen_round(k, x, ct), off, ct));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_map_infer(mg_op_infer_image(&in[0], "ShiftIntensity", e), &in[0], NULL, &out[0]);
}

const struct mg_opdef mg_op_shift_intensity = {
	.name = "ShiftIntensity",
	.synopsis = "x + offset, kept in the input's dtype",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = shift_intensity,
	.gen = mg_elementwise_gen,
	.emit = emit,
};
