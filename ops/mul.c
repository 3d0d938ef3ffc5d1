/* Op: Mul
 * Synopsis: y = a * b with torch's broadcasting.
 * MONAI: torch.mul, `x * y` (attention gates, losses)
 * Gradient: da = dy * b, db = dy * a, each summed over the axes it was broadcast along.
 * Inverse: none.
 *
 * Operands of one dtype, float32 or float64 (binary.c). */
#include "nn.h"
#include "nn_act.h"

static double mul(const struct mg_attr *a, double x, double y)
{
	(void)a;
	return x * y;
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, int32_t y,
		    enum mg_dtype dt)
{
	(void)a, (void)dt;
	return mg_kir_op(k, MG_KOP_MUL, x, y);
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	(void)a;
	return mg_binary_kernel("Mul", mul, in, out, k);
}

static int gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	(void)a;
	return mg_binary_gen("Mul", mul, emit, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_binary_infer("Mul", in, out, e);
}

static int grad(struct mg_grad *c)
{
	for (int i = 0; i < 2; i++) {
		if (!(c->need >> i & 1))
			continue;
		int32_t in[2] = {c->dy[0], c->x[1 - i]};
		int32_t p = c->node(c, MG_OP_Mul, in, 2, 1, NULL);
		if (p < 0 || (c->dx[i] = mg_grad_sum_to(c, p, i)) < 0)
			return c->e->code;
	}
	return 0;
}

const struct mg_opdef mg_op_mul = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Mul",
	.synopsis = "a * b, broadcasting as torch",
	.nin = 2,
	.nout = 1,
	.infer = infer,
	.ref = kernel,
	.gen = gen,
	.grad = grad,
};
