/* Op: ReLU
 * Synopsis: max(x, 0) per voxel (torch.nn.ReLU).
 * MONAI: torch.nn.ReLU (MONAI's Act.RELU: UNet, DynUNet, SegResNet ...)
 * Gradient: ReLUGrad(y, dy) = dy where y > 0, else 0 (torch's threshold_backward on the
 * result).  Inverse: none.
 *
 * torch.relu is clamp_min(x, 0): NaN stays NaN and -0 stays -0, which `x < 0 ? 0 : x`
 * gives in either float dtype. The generated kernel is that select, bit for bit the
 * reference's, so ReLU fuses with its elementwise neighbours; ReLUGrad's is the select
 * y <= 0 ? 0 : dy (mg_act_gen2). `inplace` is accepted and ignored: mgc's values are
 * immutable. */
#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"inplace", MG_ATTR_BOOL, "false", 0, NULL, "accepted and ignored (values are immutable)"},
};

static double relu(const void *a, double x)
{
	(void)a;
	return x < 0 ? 0 : x;
}

static int relu_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return mg_act_map("ReLU", a, relu, in, out, k);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	(void)a;
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	int32_t zero = mg_kir_const(k, xt, 0);
	return mg_kir_select(k, mg_kir_op(k, MG_KOP_LT, x, zero), zero, x);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("ReLU", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_ReLUGrad, 1);
}

const struct mg_opdef mg_op_relu = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ReLU",
	.synopsis = "max(x, 0) per voxel (torch.nn.ReLU)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = relu_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
	.grad = grad,
};

static double relu_grad(const struct mg_attr *a, double y, double dy)
{
	(void)a;
	return y <= 0 ? 0 : dy;
}

/* relu_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t relu_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
			      enum mg_dtype dt)
{
	(void)a;
	int32_t zero = mg_kir_const(k, dt, 0);
	return mg_kir_select(k, mg_kir_op(k, MG_KOP_LE, v, zero), zero, dy);
}

static int relu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_act_map2("ReLUGrad", a, relu_grad, in, out, k);
}

static int relu_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	return mg_act_gen2("ReLUGrad", a, relu_grad_emit, relu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("ReLUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_relu_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ReLUGrad",
	.synopsis = "gradient of ReLU (made by the autodiff pass): dx = dy where y > 0, else 0; "
		    "inputs y, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = relu_grad_ref,
	.gen = relu_grad_gen,
};
