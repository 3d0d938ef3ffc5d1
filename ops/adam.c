/* Op: Adam
 * Synopsis: one Adam step of a parameter (torch.optim.Adam; AdamW: decoupled weight decay).
 * MONAI: torch.optim.Adam / AdamW, as a bundle's "optimizer" names them
 * Gradient: none (an update, made by the optimizer pass).  Inverse: none.
 *
 * torch 2.x's single-tensor algorithm, for one parameter p with gradient g (negated when
 * maximize), at step t (the step input plus one):
 *   Adam:  g += weight_decay p          AdamW: p *= 1 - lr weight_decay
 *   m = m + (1 - beta1) (g - m)  (torch's lerp)      v = beta2 v + (1 - beta2) g g
 *   amsgrad: vmax = max(vmax, v), and vmax stands for v below
 *   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * Inputs (param, grad, step, exp_avg, exp_avg_sq[, max_exp_avg_sq]): torch's state, zeros
 * at the start; outputs (param', step', exp_avg', exp_avg_sq'[, max_exp_avg_sq']).
 * AdamW is Adam with decoupled_weight_decay (torch 2.x's Adam argument) and weight_decay
 * 0.01 by default; messages name both "Adam". The reference computes in float64, rounded
 * once per output; the generated kernels (float32 operands) repeat torch's float32
 * arithmetic: its scalars rounded to float32, add with alpha, lerp and addcmul as fused
 * multiply-adds (mg_optim_fma), sqrt(v) / bc2 + eps, addcdiv as p + value (m / den) with
 * the product rounded (which matches torch's CPU results more often than a fused one):
 * on 1.8M random updates 99 % of the parameters equal torch's, the rest within 5 ulp of
 * max(|p|, lr). "params" is the bundle's "$@network.parameters()": every
 * parameter is updated; torch's implementation switches (foreach, fused, capturable,
 * differentiable) are accepted and ignored. */
#include <math.h>

#include "optim.h"

#define ADAM_ATTRS(wd, decoupled)                                                                        \
	{"params", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_EXPR, NULL,              \
	 "the parameters to update (a bundle's \"$@network.parameters()\", not evaluated): "   \
	 "every parameter of the network"},                                                   \
	{"lr", MG_ATTR_FLOAT, "0.001", 0, NULL, "the learning rate"},                         \
	{"betas", MG_ATTR_FLOATS, "[0.9, 0.999]", 0, NULL,                                    \
	 "the decay of the running averages of the gradient and of its square"},             \
	{"eps", MG_ATTR_FLOAT, "1e-08", 0, NULL, "added to the denominator"},                 \
	{"weight_decay", MG_ATTR_FLOAT, wd, 0, NULL,                                          \
	 "L2 penalty (Adam: added to the gradient; AdamW: decoupled, p *= 1 - lr wd)"},     \
	{"amsgrad", MG_ATTR_BOOL, "false", 0, NULL,                                           \
	 "use the maximum of the squared-gradient averages (one more state tensor)"},         \
	{"maximize", MG_ATTR_BOOL, "false", 0, NULL, "ascend instead of descend"},            \
	{"foreach", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL,         \
	 "torch's implementation switch; ignored"},                                           \
	{"capturable", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL, "ignored"},             \
	{"differentiable", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL, "ignored"},         \
	{"fused", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL, "ignored"},  \
	{"decoupled_weight_decay", MG_ATTR_BOOL, decoupled, 0, NULL,                          \
	 "AdamW's weight decay (p *= 1 - lr weight_decay) instead of Adam's L2 penalty"},

static const struct mg_attrdef adam_attrs[] = {ADAM_ATTRS("0", "false")};
static const struct mg_attrdef adamw_attrs[] = {ADAM_ATTRS("0.01", "true")};
enum { A_PARAMS, A_LR, A_BETAS, A_EPS, A_WD, A_AMSGRAD, A_MAXIMIZE, A_DECOUPLED = 11, A_N };

static void update(const struct mg_attr *a, double t, int64_t n, const double *const *x,
		   double *const *y)
{
	double lr = a[A_LR].v.f, b1 = a[A_BETAS].v.floats[0], b2 = a[A_BETAS].v.floats[1];
	double eps = a[A_EPS].v.f, wd = a[A_WD].v.f;
	int ams = (int)a[A_AMSGRAD].v.i, sign = a[A_MAXIMIZE].v.i ? -1 : 1;
	int decoupled = (int)a[A_DECOUPLED].v.i;
	double step_size = lr / (1 - pow(b1, t)), bc2 = sqrt(1 - pow(b2, t));
	for (int64_t i = 0; i < n; i++) {
		double p = x[0][i], g = sign * x[1][i];
		if (decoupled)
			p *= 1 - lr * wd;
		else
			g += wd * p;
		double m = x[3][i] + (1 - b1) * (g - x[3][i]);
		double v = b2 * x[4][i] + (1 - b2) * g * g, vd = v;
		if (ams)
			vd = y[4][i] = fmax(x[5][i], v);
		y[0][i] = p - step_size * m / (sqrt(vd) / bc2 + eps);
		y[2][i] = m;
		y[3][i] = v;
	}
}

/* torch's float32 steps for output o (optim.h): x = (param, grad, -, exp_avg, exp_avg_sq,
 * max_exp_avg_sq), outputs (param', -, exp_avg', exp_avg_sq', max_exp_avg_sq'). */
static int32_t emit(const struct mg_attr *a, struct mg_kir *k, double *pv, double t,
		    const int32_t *x, int o)
{
	enum { F = MG_DTYPE_F32 };
	double lr = a[A_LR].v.f, b1 = a[A_BETAS].v.floats[0], b2 = a[A_BETAS].v.floats[1];
	double wd = a[A_WD].v.f;
	int32_t p = x[0], g = a[A_MAXIMIZE].v.i ? mg_kir_op(k, MG_KOP_NEG, x[1], -1) : x[1];
	if (wd != 0 && a[A_DECOUPLED].v.i)
		p = mg_kir_op(k, MG_KOP_MUL, p, mg_gen_param(k, pv, F, 1 - lr * wd));
	else if (wd != 0)
		g = mg_optim_fma(k, mg_gen_param(k, pv, F, wd), p, g);
	int32_t m = mg_optim_fma(k, mg_gen_param(k, pv, F, 1 - b1), /* lerp, weight < 0.5 */
				 mg_kir_op(k, MG_KOP_SUB, g, x[3]), x[3]);
	if (o == 2)
		return m;
	int32_t v = mg_kir_op(k, MG_KOP_MUL, x[4], mg_gen_param(k, pv, F, b2));
	v = mg_optim_fma(k, mg_kir_op(k, MG_KOP_MUL, mg_gen_param(k, pv, F, 1 - b2), g), g, v);
	if (o == 3)
		return v;
	if (a[A_AMSGRAD].v.i)
		v = mg_kir_op(k, MG_KOP_MAX, x[5], v);
	if (o == 4)
		return v;
	int32_t den = mg_kir_op(k, MG_KOP_DIV, mg_kir_op(k, MG_KOP_SQRT, v, -1),
				mg_gen_param(k, pv, F, sqrt(1 - pow(b2, t))));
	den = mg_kir_op(k, MG_KOP_ADD, den, mg_gen_param(k, pv, F, a[A_EPS].v.f));
	int32_t step = mg_gen_param(k, pv, F, -(lr / (1 - pow(b1, t))));
	return mg_kir_op(k, MG_KOP_ADD, p,
			 mg_kir_op(k, MG_KOP_MUL, step, mg_kir_op(k, MG_KOP_DIV, m, den)));
}

static int state(const struct mg_attr *a, const char **names)
{
	names[0] = "step", names[1] = "exp_avg", names[2] = "exp_avg_sq";
	names[3] = "max_exp_avg_sq";
	return a[A_AMSGRAD].v.i ? 4 : 3;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	const struct mg_attr *b = &a[A_BETAS];
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	if (a[A_LR].v.f < 0 || a[A_EPS].v.f < 0 || a[A_WD].v.f < 0)
		return mg_err_set(e, MG_ERR_CONFIG, "Adam: lr, eps and weight_decay must not be "
				  "negative");
	if (b->n != 2 || b->v.floats[0] < 0 || b->v.floats[0] >= 1 || b->v.floats[1] < 0 ||
	    b->v.floats[1] >= 1)
		return mg_err_set(e, MG_ERR_CONFIG, "Adam: betas must be two values in [0, 1)");
	return mg_optim_infer("Adam", 2, in, 2 + ns, out, 1 + ns, e);
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	return mg_optim_kernel("Adam", update, 2, in, 2 + ns, out, 1 + ns, a, k);
}

static int gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	return mg_optim_gen("Adam", update, emit, 2, in, 2 + ns, out, 1 + ns, a, k);
}

const struct mg_opdef mg_op_adam = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Adam",
	.synopsis = "one Adam step of a parameter (torch.optim.Adam)",
	.flags = MG_OPF_OPTIMIZER,
	.nin = -1,
	.nout = -1,
	.attrs = adam_attrs,
	.nattrs = A_N,
	.infer = infer,
	.ref = kernel,
	.gen = gen,
	.state = state,
};

const struct mg_opdef mg_op_adamw = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "AdamW",
	.synopsis = "one AdamW step of a parameter (torch.optim.AdamW: decoupled weight decay)",
	.flags = MG_OPF_OPTIMIZER,
	.nin = -1,
	.nout = -1,
	.attrs = adamw_attrs,
	.nattrs = A_N,
	.infer = infer,
	.ref = kernel,
	.gen = gen,
	.state = state,
};
