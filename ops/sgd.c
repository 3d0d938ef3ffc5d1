/* Op: SGD
 * Synopsis: one SGD step of a parameter (torch.optim.SGD: momentum, dampening, nesterov).
 * MONAI: torch.optim.SGD, as a bundle's "optimizer" names it
 * Gradient: none (an update, made by the optimizer pass).  Inverse: none.
 *
 * torch 2.x's single-tensor algorithm: d = g (negated when maximize) + weight_decay p;
 * with momentum, the buffer b is d on the first step and momentum b + (1 - dampening) d
 * after, and d becomes d + momentum b (nesterov) or b; then p -= lr d.
 * Inputs (param, grad) and, with momentum, (step, momentum_buffer): the step says which
 * is the first (torch's buffer is None there); outputs (param') or (param', step',
 * momentum_buffer'). The reference computes in float64, rounded once per output; the
 * generated kernels (float32 operands) repeat torch's float32 arithmetic (its scalars
 * rounded to float32, add with alpha as a fused multiply-add: mg_optim_fma). */
#include "optim.h"

static const struct mg_attrdef attrs[] = {
	{"params", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_EXPR, NULL,
	 "the parameters to update (a bundle's \"$@network.parameters()\", not evaluated): "
	 "every parameter of the network"},
	{"lr", MG_ATTR_FLOAT, "0.001", 0, NULL, "the learning rate"},
	{"momentum", MG_ATTR_FLOAT, "0", 0, NULL, "momentum factor (0: no momentum buffer)"},
	{"dampening", MG_ATTR_FLOAT, "0", 0, NULL, "dampening of the momentum"},
	{"weight_decay", MG_ATTR_FLOAT, "0", 0, NULL, "L2 penalty, added to the gradient"},
	{"nesterov", MG_ATTR_BOOL, "false", 0, NULL,
	 "Nesterov momentum (needs momentum > 0 and dampening 0)"},
	{"maximize", MG_ATTR_BOOL, "false", 0, NULL, "ascend instead of descend"},
	{"foreach", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL,
	 "torch's implementation switch; ignored"},
	{"differentiable", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL, "ignored"},
	{"fused", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL, "ignored"},
};
enum { A_PARAMS, A_LR, A_MOMENTUM, A_DAMPENING, A_WD, A_NESTEROV, A_MAXIMIZE, A_N = 10 };

static void update(const struct mg_attr *a, double t, int64_t n, const double *const *x,
		   double *const *y)
{
	double lr = a[A_LR].v.f, mom = a[A_MOMENTUM].v.f, damp = a[A_DAMPENING].v.f;
	double wd = a[A_WD].v.f;
	int nesterov = (int)a[A_NESTEROV].v.i, sign = a[A_MAXIMIZE].v.i ? -1 : 1;
	for (int64_t i = 0; i < n; i++) {
		double p = x[0][i], d = sign * x[1][i] + wd * p;
		if (mom != 0) {
			double b = t == 1 ? d : mom * x[3][i] + (1 - damp) * d;
			y[2][i] = b;
			d = nesterov ? d + mom * b : b;
		}
		y[0][i] = p - lr * d;
	}
}

/* torch's float32 steps for output o (optim.h): x = (param, grad, -, momentum_buffer),
 * outputs (param', -, momentum_buffer'). */
static int32_t emit(const struct mg_attr *a, struct mg_kir *k, double *pv, double t,
		    const int32_t *x, int o)
{
	enum { F = MG_DTYPE_F32 };
	double mom = a[A_MOMENTUM].v.f, wd = a[A_WD].v.f;
	int32_t p = x[0], d = a[A_MAXIMIZE].v.i ? mg_kir_op(k, MG_KOP_NEG, x[1], -1) : x[1];
	if (wd != 0)
		d = mg_optim_fma(k, mg_gen_param(k, pv, F, wd), p, d);
	if (mom != 0) {
		int32_t b = t == 1 ? d
				   : mg_optim_fma(k, mg_gen_param(k, pv, F, 1 - a[A_DAMPENING].v.f), d,
						  mg_kir_op(k, MG_KOP_MUL, x[3],
							    mg_gen_param(k, pv, F, mom)));
		if (o == 2)
			return b;
		d = a[A_NESTEROV].v.i ? mg_optim_fma(k, mg_gen_param(k, pv, F, mom), b, d) : b;
	}
	return mg_optim_fma(k, mg_gen_param(k, pv, F, -a[A_LR].v.f), d, p);
}

static int state(const struct mg_attr *a, const char **names)
{
	names[0] = "step", names[1] = "momentum_buffer";
	return a[A_MOMENTUM].v.f != 0 ? 2 : 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	if (a[A_LR].v.f < 0 || a[A_MOMENTUM].v.f < 0 || a[A_WD].v.f < 0)
		return mg_err_set(e, MG_ERR_CONFIG, "SGD: lr, momentum and weight_decay must not "
				  "be negative");
	if (a[A_NESTEROV].v.i && (a[A_MOMENTUM].v.f <= 0 || a[A_DAMPENING].v.f != 0))
		return mg_err_set(e, MG_ERR_CONFIG, "SGD: Nesterov momentum requires a momentum "
				  "and zero dampening");
	return mg_optim_infer("SGD", ns ? 2 : -1, in, 2 + ns, out, 1 + ns, e);
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	return mg_optim_kernel("SGD", update, ns ? 2 : -1, in, 2 + ns, out, 1 + ns, a, k);
}

static int gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	const char *names[MG_STEP_MAXIO];
	int ns = state(a, names);
	return mg_optim_gen("SGD", update, emit, ns ? 2 : -1, in, 2 + ns, out, 1 + ns, a, k);
}

const struct mg_opdef mg_op_sgd = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "SGD",
	.synopsis = "one SGD step of a parameter (torch.optim.SGD)",
	.flags = MG_OPF_OPTIMIZER,
	.nin = -1,
	.nout = -1,
	.attrs = attrs,
	.nattrs = A_N,
	.infer = infer,
	.ref = kernel,
	.gen = gen,
	.state = state,
};
