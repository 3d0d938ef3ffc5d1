/* Op: GELU
 * Synopsis: x Phi(x), Phi the standard normal CDF, exact or tanh-approximated
 * (torch.nn.GELU).
 * MONAI: torch.nn.GELU (MONAI's Act.GELU: UNETR, SwinUNETR and ViT MLP blocks)
 * Gradient: GELUGrad(x, dy) = dy (Phi(x) + x phi(x)), or the derivative of the tanh form
 * (torch's gelu_backward, same approximate).  Inverse: none.
 *
 * approximate "none": x / 2 (1 + erf(x / sqrt 2)); "tanh": x / 2 (1 + tanh(sqrt(2 / pi)
 * (x + 0.044715 x^3))), torch's formulas in float64, rounded once. The generated kernels
 * (GELU's, which fuses with its elementwise neighbours, and GELUGrad's) take the same
 * float64 steps with libm's erf, tanh and exp (kernel IR's LIBM), bit for bit the
 * reference's. */
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

/* Kernel IR's float64 constant v and binary op. */
static int32_t c64(struct mg_kir *k, double v) { return mg_kir_const(k, MG_DTYPE_F64, v); }
static int32_t op2(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b)
{
	return mg_kir_op(k, op, a, b);
}

/* tanh(BETA * (x + KAPPA * x * x * x)) or erf(x * M_SQRT1_2) of the f64 node x, as the
 * reference kernels compute them. */
static int32_t emit_tanh(struct mg_kir *k, int32_t x)
{
	int32_t x3 = op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, c64(k, KAPPA), x), x), x);
	return mg_kir_libm(k, MG_KLIBM_TANH, op2(k, MG_KOP_MUL, c64(k, BETA), op2(k, MG_KOP_ADD, x, x3)));
}

static int32_t emit_erf(struct mg_kir *k, int32_t x)
{
	return mg_kir_libm(k, MG_KLIBM_ERF, op2(k, MG_KOP_MUL, x, c64(k, M_SQRT1_2)));
}

/* gelu's steps in kernel IR: bit for bit the reference's. */
static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, enum mg_dtype xt)
{
	if (xt != MG_DTYPE_F32 && xt != MG_DTYPE_F64)
		return -1; /* ref refuses it */
	int32_t x64 = mg_kir_cast(k, MG_DTYPE_F64, x);
	int32_t f = tanh_form(a) ? emit_tanh(k, x64) : emit_erf(k, x64);
	int32_t half_x = op2(k, MG_KOP_MUL, c64(k, 0.5), x64);
	return mg_kir_cast(k, xt, op2(k, MG_KOP_MUL, half_x, op2(k, MG_KOP_ADD, c64(k, 1), f)));
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
	.dtypes = MG_DTYPES_FLOAT,
	.name = "GELU",
	.synopsis = "x Phi(x), exact (erf) or tanh-approximated (torch.nn.GELU)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = gelu_ref,
	.gen = mg_elementwise_gen,
	.emit = emit,
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

/* gelu_grad's steps in kernel IR: bit for bit the reference's. */
static int32_t gelu_grad_emit(const struct mg_attr *a, struct mg_kir *k, int32_t v, int32_t dy,
			      enum mg_dtype dt)
{
	int32_t x = mg_kir_cast(k, MG_DTYPE_F64, v), d = mg_kir_cast(k, MG_DTYPE_F64, dy);
	int32_t half = c64(k, 0.5), one = c64(k, 1), g;
	if (tanh_form(a)) {
		int32_t t = emit_tanh(k, x);
		int32_t xx = op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, c64(k, 3 * KAPPA), x), x);
		int32_t dinner = op2(k, MG_KOP_MUL, c64(k, BETA), op2(k, MG_KOP_ADD, one, xx));
		int32_t sech2 = op2(k, MG_KOP_SUB, one, op2(k, MG_KOP_MUL, t, t));
		int32_t right = op2(k, MG_KOP_MUL,
				    op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, half, x), sech2), dinner);
		g = op2(k, MG_KOP_ADD, op2(k, MG_KOP_MUL, half, op2(k, MG_KOP_ADD, one, t)), right);
	} else {
		int32_t cdf = op2(k, MG_KOP_MUL, half, op2(k, MG_KOP_ADD, one, emit_erf(k, x)));
		int32_t e = mg_kir_libm(k, MG_KLIBM_EXP,
					op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, c64(k, -0.5), x), x));
		int32_t pdf = op2(k, MG_KOP_MUL,
				  op2(k, MG_KOP_MUL, op2(k, MG_KOP_MUL, e, c64(k, M_2_SQRTPI)),
				      c64(k, M_SQRT1_2)),
				  half);
		g = op2(k, MG_KOP_ADD, cdf, op2(k, MG_KOP_MUL, x, pdf));
	}
	return mg_kir_cast(k, dt, op2(k, MG_KOP_MUL, d, g));
}

static int gelu_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_act_map2("GELUGrad", a, gelu_grad, in, out, k);
}

static int gelu_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return mg_act_gen2("GELUGrad", a, gelu_grad_emit, gelu_grad, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	(void)a;
	return mg_act_infer("GELUGrad", 2, 1, in, out, e);
}

const struct mg_opdef mg_op_gelu_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "GELUGrad",
	.synopsis = "gradient of GELU (made by the autodiff pass): dx = dy GELU'(x); inputs x, "
		    "dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = gelu_grad_ref,
	.gen = gelu_grad_gen,
};
