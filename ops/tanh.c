/* Op: Tanh
 * Synopsis: tanh(x) per voxel (torch.nn.Tanh).
 * MONAI: torch.nn.Tanh (MONAI's Act.TANH; generator heads)
 * Gradient: TanhGrad(y, dy) = dy (1 - y^2) (torch's tanh_backward on the result).
 * Inverse: none.
 *
 * libm's tanh in float64, rounded once (saturates to +-1 for large |x|). The generated
 * kernel calls the same libm tanh (kernel IR's LIBM), bit for bit the reference, so Tanh
 * fuses with its elementwise neighbours; TanhGrad's products are a generated kernel too
 * (float64 steps as the reference's). */
#include "nn_act.h"

static double tanh_(const void *a, double x)
{
	(void)a;
	return tanh(x);
}

static int tanh_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return mg_act_map("Tanh", a, tanh_, in, out, k);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	(void)a;
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	return mg_kir_cast(k, xt, mg_kir_libm(k, MG_KLIBM_TANH, mg_kir_cast(k, MG_DTYPE_F64, x)));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("Tanh", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_TanhGrad, 1);
}

const struct mg_opdef mg_op_tanh = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Tanh",
	.synopsis = "tanh(x) per voxel (torch.nn.Tanh)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.infer = infer,
	.ref = tanh_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
	.grad = grad,
};

static double tanh_grad(const struct mg_attr *a, double y, double dy)
{
	(void)a;
	return dy * (1 - y * y);
}

/* tanh_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t tanh_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
			      enum mg_dtype dt)
{
	(void)a;
	int32_t y = mg_kir_cast(k, MG_DTYPE_F64, v), d = mg_kir_cast(k, MG_DTYPE_F64, dy);
	int32_t one_yy = mg_kir_op(k, MG_KOP_SUB, mg_kir_const(k, MG_DTYPE_F64, 1),
				   mg_kir_op(k, MG_KOP_MUL, y, y));
	return mg_kir_cast(k, dt, mg_kir_op(k, MG_KOP_MUL, d, one_yy));
}

static int tanh_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_act_map2("TanhGrad", a, tanh_grad, in, out, k);
}

static int tanh_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	return mg_act_gen2("TanhGrad", a, tanh_grad_emit, tanh_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("TanhGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_tanh_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "TanhGrad",
	.synopsis = "gradient of Tanh (made by the autodiff pass): dx = dy (1 - y^2); inputs "
		    "y, dy",
	.nin = 2,
	.nout = 1,
	.infer = grad_infer,
	.ref = tanh_grad_ref,
	.gen = tanh_grad_gen,
};
