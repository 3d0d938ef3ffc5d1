/* Op: LeakyReLU
 * Synopsis: x where x > 0, else negative_slope x (torch.nn.LeakyReLU).
 * MONAI: torch.nn.LeakyReLU (MONAI's Act.LEAKYRELU: DynUNet, SegResNet's defaults ...)
 * Gradient: LeakyReLUGrad(x, dy) = dy where x > 0, else negative_slope dy (torch's
 * leaky_relu_backward).  Inverse: none.
 *
 * The product is taken in float64 and rounded once to x's dtype (torch's float32 kernel
 * multiplies by the slope rounded to float32: an ulp apart at most). The generated
 * kernels (the op's and LeakyReLUGrad's) do the same steps, bit for bit the reference's.
 * `inplace` is accepted and ignored. */
#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"negative_slope", MG_ATTR_FLOAT, "0.01", 0, NULL, "the slope for x <= 0"},
	{"inplace", MG_ATTR_BOOL, "false", 0, NULL, "accepted and ignored (values are immutable)"},
};
enum { A_SLOPE };

static double leaky_relu(const void *ctx, double x)
{
	const struct mg_attr *a = ctx;
	return x > 0 ? x : x * a[A_SLOPE].v.f;
}

static int leaky_relu_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	return mg_act_map("LeakyReLU", a, leaky_relu, in, out, k);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	int32_t neg = mg_kir_op(k, MG_KOP_MUL, mg_kir_cast(k, MG_DTYPE_F64, x),
				mg_kir_const(k, MG_DTYPE_F64, a[A_SLOPE].v.f));
	int32_t pos = mg_kir_op(k, MG_KOP_GT, x, mg_kir_const(k, xt, 0));
	return mg_kir_select(k, pos, x, mg_kir_cast(k, xt, neg));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("LeakyReLU", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_LeakyReLUGrad, 0);
}

const struct mg_opdef mg_op_leaky_relu = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LeakyReLU",
	.synopsis = "x where x > 0, else negative_slope x (torch.nn.LeakyReLU)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = leaky_relu_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
	.grad = grad,
};

static double leaky_relu_grad(const struct mg_attr *a, double x, double dy)
{
	return x > 0 ? dy : dy * a[A_SLOPE].v.f;
}

/* leaky_relu_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t leaky_relu_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
				    enum mg_dtype dt)
{
	int32_t neg = mg_kir_op(k, MG_KOP_MUL, mg_kir_cast(k, MG_DTYPE_F64, dy),
				mg_kir_const(k, MG_DTYPE_F64, a[A_SLOPE].v.f));
	int32_t pos = mg_kir_op(k, MG_KOP_GT, v, mg_kir_const(k, dt, 0));
	return mg_kir_select(k, pos, dy, mg_kir_cast(k, dt, neg));
}

static int leaky_relu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			       struct mg_kctx *k)
{
	return mg_act_map2("LeakyReLUGrad", a, leaky_relu_grad, in, out, k);
}

static int leaky_relu_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				struct mg_kctx *k)
{
	return mg_act_gen2("LeakyReLUGrad", a, leaky_relu_grad_emit, leaky_relu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("LeakyReLUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_leaky_relu_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LeakyReLUGrad",
	.synopsis = "gradient of LeakyReLU (made by the autodiff pass): dx = dy where x > 0, "
		    "else negative_slope dy; inputs x, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = leaky_relu_grad_ref,
	.gen = leaky_relu_grad_gen,
};
