/* Op: Add
 * Synopsis: y = a + b with torch's broadcasting (residual connections, the autodiff pass's
 * gradient sums).
 * MONAI: torch.add, `x + y` in MONAI's networks (SegResNet's residual blocks)
 * Gradient: dy to each operand, summed over the axes it was broadcast along (SumTo).
 * Inverse: none.
 *
 * Operands of one dtype, float32 or float64 (binary.c). */
#include "nn.h"
#include "nn_act.h"

static double add(const struct mg_attr *a, double x, double y)
{
	(void)a;
	return x + y;
}

static int32_t emit(const struct mg_attr *a, struct mg_kir *k, int32_t x, int32_t y,
		    enum mg_dtype dt)
{
	(void)a, (void)dt;
	return mg_kir_op(k, MG_KOP_ADD, x, y);
}

static int kernel(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	(void)a;
	return mg_binary_kernel("Add", add, in, out, k);
}

static int gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	(void)a;
	return mg_binary_gen("Add", add, emit, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	return mg_binary_infer("Add", in, out, e);
}

static int grad(struct mg_grad *c)
{
	for (int i = 0; i < 2; i++)
		if ((c->need >> i & 1) && (c->dx[i] = mg_grad_sum_to(c, c->dy[0], i)) < 0)
			return c->e->code;
	return 0;
}

const struct mg_opdef mg_op_add = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Add",
	.synopsis = "a + b, broadcasting as torch",
	.nin = 2,
	.nout = 1,
	.infer = infer,
	.ref = kernel,
	.gen = gen,
	.grad = grad,
};
