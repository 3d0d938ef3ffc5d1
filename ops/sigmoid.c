/* Op: Sigmoid
 * Synopsis: 1 / (1 + exp(-x)) per voxel (torch.nn.Sigmoid).
 * MONAI: torch.nn.Sigmoid (MONAI's Act.SIGMOID; output heads)
 * Gradient: SigmoidGrad(y, dy) = dy (1 - y) y (torch's sigmoid_backward on the
 * result).  Inverse: none.
 *
 * In float64, rounded once: exp(-x) overflows to inf for x < -709 and the result is 0,
 * as torch's. No generated kernel: kernel IR's EXP may differ from libm's by a few ulp,
 * so it could not repeat the reference bit for bit; Sigmoid is therefore not flagged
 * elementwise (a fused run would lose its members' kernels). SigmoidGrad's products are
 * a generated kernel (float64 steps as the reference's). */
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
	.name = "Sigmoid",
	.synopsis = "1 / (1 + exp(-x)) per voxel (torch.nn.Sigmoid)",
	.nin = 1,
	.nout = 1,
	.infer = infer,
	.ref = sigmoid_ref,
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
	.name = "SigmoidGrad",
	.synopsis = "gradient of Sigmoid (made by the autodiff pass): dx = dy (1 - y) y; "
		    "inputs y, dy",
	.nin = 2,
	.nout = 1,
	.infer = grad_infer,
	.ref = sigmoid_grad_ref,
	.gen = sigmoid_grad_gen,
};
