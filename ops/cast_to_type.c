/* Op: CastToType
 * Synopsis: convert the image's elements to another dtype.
 * MONAI: monai.transforms.CastToType(d)
 * Gradient: none.  Inverse: none.
 * Reductions: none; a per-voxel conversion.
 *
 * MONAI (utility/array.py) calls convert_data_type, i.e. torch's Tensor.to(dtype): the
 * same dtype returns the input itself (here a new reference to the same storage), any
 * other makes a converted copy; meta travels unchanged. Conversions are the runtime's
 * (mg_dtype_store): floats to integers truncate toward zero, float16/bfloat16 round to
 * nearest even. Known deviation: torch leaves out-of-range and NaN float->int
 * conversions to the CPU (x86-64: wrap modulo 2^n through int32, NaN -> 0 or INT_MIN)
 * and wraps integer->integer narrowing; mg_dtype_store saturates and maps NaN to 0.
 * The dict form takes one dtype per key. */
#include "intensity.h"

static const struct mg_attrdef attrs[] = {
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_PERKEY, NULL,
	 "target dtype (one per key in the dict form)"},
};
enum { A_DTYPE };

static int cast_to_type(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "CastToType", k->err);
	if (rc)
		return rc;
	enum mg_dtype dt = (enum mg_dtype)a[A_DTYPE].v.i;
	if (in[0].t.dtype == dt)
		return mg_val_share(&out[0], &in[0], k->err);
	/* mg_tensor_cast keeps the memory order and shares the meta */
	struct mg_tensor y;
	if ((rc = mg_tensor_cast(&y, &in[0].t, dt, k->err)))
		return rc;
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	return mg_kir_cast(k, (int)a[A_DTYPE].v.i, x);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_map_infer(mg_op_infer_image(&in[0], "CastToType", e), &in[0], &a[A_DTYPE],
			    &out[0]);
}

const struct mg_opdef mg_op_cast_to_type = {
	.name = "CastToType",
	.synopsis = "convert elements to another dtype (torch's .to())",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = cast_to_type,
	.gen = mg_elementwise_gen,
	.emit = emit,
};
