/* Op: Sigmoid
 * Synopsis: 1 / (1 + exp(-x)) per voxel (torch.nn.Sigmoid).
 * MONAI: torch.nn.Sigmoid (MONAI's Act.SIGMOID; output heads)
 * Gradient: SigmoidGrad(y, dy) = dy (1 - y) y (torch's sigmoid_backward on the
 * result).  Inverse: none.
 *
 * In float64, rounded once: exp(-x) overflows to inf for x < -709 and the result is 0,
 * as torch's. The generated kernel does the same steps with libm's exp (kernel IR's
 * LIBM), bit for bit the reference's, so Sigmoid fuses with its elementwise neighbours;
 * SigmoidGrad's products are a generated kernel too (float64 steps as the reference's). */
#include "nn_act.h"

static double sigmoid(const void *a, double x)
{
	(void)a;
	return 1 / (1 + exp(-x));
}

static int sigmoid_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	return mg_act_map("Sigmoid", a, sigmoid, in, out, k);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	(void)a;
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	int32_t one = mg_kir_const(k, MG_DTYPE_F64, 1);
	int32_t e = mg_kir_libm(k, MG_KLIBM_EXP,
				mg_kir_op(k, MG_KOP_NEG, mg_kir_cast(k, MG_DTYPE_F64, x), -1));
	return mg_kir_cast(k, xt, mg_kir_op(k, MG_KOP_DIV, one, mg_kir_op(k, MG_KOP_ADD, one, e)));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("Sigmoid", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_SigmoidGrad, 1);
}

const struct mg_opdef mg_op_sigmoid = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Sigmoid",
	.synopsis = "1 / (1 + exp(-x)) per voxel (torch.nn.Sigmoid)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.infer = infer,
	.ref = sigmoid_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
	.grad = grad,
};

static double sigmoid_grad(const struct mg_attr *a, double y, double dy)
{
	(void)a;
	return dy * (1 - y) * y;
}

/* sigmoid_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t sigmoid_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
				 enum mg_dtype dt)
{
	(void)a;
	int32_t y = mg_kir_cast(k, MG_DTYPE_F64, v), d = mg_kir_cast(k, MG_DTYPE_F64, dy);
	int32_t one_y = mg_kir_op(k, MG_KOP_SUB, mg_kir_const(k, MG_DTYPE_F64, 1), y);
	return mg_kir_cast(k, dt, mg_kir_op(k, MG_KOP_MUL, mg_kir_op(k, MG_KOP_MUL, d, one_y), y));
}

static int sigmoid_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			    struct mg_kctx *k)
{
	return mg_act_map2("SigmoidGrad", a, sigmoid_grad, in, out, k);
}

static int sigmoid_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			     struct mg_kctx *k)
{
	return mg_act_gen2("SigmoidGrad", a, sigmoid_grad_emit, sigmoid_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("SigmoidGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_sigmoid_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "SigmoidGrad",
	.synopsis = "gradient of Sigmoid (made by the autodiff pass): dx = dy (1 - y) y; "
		    "inputs y, dy",
	.nin = 2,
	.nout = 1,
	.infer = grad_infer,
	.ref = sigmoid_grad_ref,
	.gen = sigmoid_grad_gen,
};
