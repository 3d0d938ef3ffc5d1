/* Op: ELU
 * Synopsis: x where x > 0, else alpha (exp(x) - 1) (torch.nn.ELU).
 * MONAI: torch.nn.ELU (MONAI's Act.ELU)
 * Gradient: ELUGrad(x, dy) = dy where x > 0, else alpha exp(x) dy (torch's elu_backward
 * on the input).  Inverse: none.
 *
 * exp(x) - 1 is expm1, as torch computes it (no cancellation near 0). No generated
 * kernel: kernel IR's EXP may differ from libm's by a few ulp and has no expm1, so it
 * could not repeat the reference bit for bit; ELU is therefore not flagged elementwise
 * (a fused run would lose its members' kernels). `inplace` is accepted and ignored. */
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
	.name = "ELU",
	.synopsis = "x where x > 0, else alpha (exp(x) - 1) (torch.nn.ELU)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = elu_ref,
	.grad = grad,
};

static double elu_grad(const struct mg_attr *a, double x, double dy)
{
	return x > 0 ? dy : dy * a[A_ALPHA].v.f * exp(x);
}

static int elu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	return mg_act_map2("ELUGrad", a, elu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("ELUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_elu_grad = {
	.name = "ELUGrad",
	.synopsis = "gradient of ELU (made by the autodiff pass): dx = dy where x > 0, else "
		    "alpha exp(x) dy; inputs x, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = elu_grad_ref,
};
