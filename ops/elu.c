/* Op: ELU
 * Synopsis: x where x > 0, else alpha (exp(x) - 1) (torch.nn.ELU).
 * MONAI: torch.nn.ELU (MONAI's Act.ELU)
 * Gradient: ELUGrad(x, dy) = dy where x > 0, else alpha exp(x) dy (torch's elu_backward
 * on the input).  Inverse: none.
 *
 * exp(x) - 1 is expm1, as torch computes it (no cancellation near 0). The generated
 * kernels (ELU's, which fuses with its elementwise neighbours, and ELUGrad's) call libm's
 * expm1 and exp (kernel IR's LIBM) in the reference's float64 steps, bit for bit. `inplace`
 * is accepted and ignored. */
#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"alpha", MG_ATTR_FLOAT, "1.0", 0, NULL, "the scale of the negative part"},
	{"inplace", MG_ATTR_BOOL, "false", 0, NULL, "accepted and ignored (values are immutable)"},
};
enum { A_ALPHA };

static double elu(const void *ctx, double x)
{
	const struct mg_attr *a = ctx;
	return x > 0 ? x : a[A_ALPHA].v.f * expm1(x);
}

static int elu_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	return mg_act_map("ELU", a, elu, in, out, k);
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	int32_t x64 = mg_kir_cast(k, MG_DTYPE_F64, x);
	int32_t neg = mg_kir_op(k, MG_KOP_MUL, mg_kir_const(k, MG_DTYPE_F64, a[A_ALPHA].v.f),
				mg_kir_libm(k, MG_KLIBM_EXPM1, x64));
	int32_t pos = mg_kir_op(k, MG_KOP_GT, x64, mg_kir_const(k, MG_DTYPE_F64, 0));
	return mg_kir_cast(k, xt, mg_kir_select(k, pos, x64, neg));
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("ELU", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_ELUGrad, 0);
}

const struct mg_opdef mg_op_elu = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ELU",
	.synopsis = "x where x > 0, else alpha (exp(x) - 1) (torch.nn.ELU)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = elu_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
	.grad = grad,
};

static double elu_grad(const struct mg_attr *a, double x, double dy)
{
	return x > 0 ? dy : dy * a[A_ALPHA].v.f * exp(x);
}

/* elu_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t elu_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
			     enum mg_dtype dt)
{
	int32_t x = mg_kir_cast(k, MG_DTYPE_F64, v), d = mg_kir_cast(k, MG_DTYPE_F64, dy);
	int32_t neg = mg_kir_op(k, MG_KOP_MUL,
				mg_kir_op(k, MG_KOP_MUL, d, mg_kir_const(k, MG_DTYPE_F64, a[A_ALPHA].v.f)),
				mg_kir_libm(k, MG_KLIBM_EXP, x));
	int32_t pos = mg_kir_op(k, MG_KOP_GT, x, mg_kir_const(k, MG_DTYPE_F64, 0));
	return mg_kir_cast(k, dt, mg_kir_select(k, pos, d, neg));
}

static int elu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	return mg_act_map2("ELUGrad", a, elu_grad, in, out, k);
}

static int elu_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	return mg_act_gen2("ELUGrad", a, elu_grad_emit, elu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("ELUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_elu_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ELUGrad",
	.synopsis = "gradient of ELU (made by the autodiff pass): dx = dy where x > 0, else "
		    "alpha exp(x) dy; inputs x, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = elu_grad_ref,
	.gen = elu_grad_gen,
};
