/* Op: GELU
 * Synopsis: x Phi(x), Phi the standard normal CDF, exact or tanh-approximated
 * (torch.nn.GELU).
 * MONAI: torch.nn.GELU (MONAI's Act.GELU: UNETR, SwinUNETR and ViT MLP blocks)
 * Gradient: GELUGrad(x, dy) = dy (Phi(x) + x phi(x)), or the derivative of the tanh form
 * (torch's gelu_backward, same approximate).  Inverse: none.
 *
 * approximate "none": x / 2 (1 + erf(x / sqrt 2)); "tanh": x / 2 (1 + tanh(sqrt(2 / pi)
 * (x + 0.044715 x^3))), torch's formulas in float64, rounded once. No generated kernel:
 * kernel IR has neither erf nor tanh, and exp-based formulas would not repeat libm's bit
 * for bit; GELU is therefore not flagged elementwise (a fused run would lose its
 * members' kernels). */
#include <string.h>

#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"approximate", MG_ATTR_STR, "\"none\"", 0, "none|tanh",
	 "none: the exact erf form; tanh: the tanh approximation"},
};
enum { A_APPROX };

#define BETA (M_SQRT2 * M_2_SQRTPI * 0.5) /* sqrt(2 / pi) */
#define KAPPA 0.044715

static int tanh_form(const struct mg_attr *a)
{
	return !strcmp(a[A_APPROX].v.s, "tanh");
}

static double gelu(const void *ctx, double x)
{
	if (tanh_form(ctx))
		return 0.5 * x * (1 + tanh(BETA * (x + KAPPA * x * x * x)));
	return 0.5 * x * (1 + erf(x * M_SQRT1_2));
}

static int gelu_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return mg_act_map("GELU", a, gelu, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_act_infer("GELU", 1, 0, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_GELUGrad, 0);
}

const struct mg_opdef mg_op_gelu = {
	.name = "GELU",
	.synopsis = "x Phi(x), exact (erf) or tanh-approximated (torch.nn.GELU)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = gelu_ref,
	.grad = grad,
};

static double gelu_grad(const struct mg_attr *a, double x, double dy)
{
	if (tanh_form(a)) {
		double t = tanh(BETA * (x + KAPPA * x * x * x));
		double dinner = BETA * (1 + 3 * KAPPA * x * x);
		return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner);
	}
	double cdf = 0.5 * (1 + erf(x * M_SQRT1_2));
	double pdf = exp(-0.5 * x * x) * M_2_SQRTPI * M_SQRT1_2 * 0.5;
	return dy * (cdf + x * pdf);
}

static int gelu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_act_map2("GELUGrad", a, gelu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("GELUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_gelu_grad = {
	.name = "GELUGrad",
	.synopsis = "gradient of GELU (made by the autodiff pass): dx = dy GELU'(x); inputs x, "
		    "dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = gelu_grad_ref,
};
