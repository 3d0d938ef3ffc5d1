/* Op: Softmax
 * Synopsis: exp(x) / sum(exp(x)) along dim (torch.nn.Softmax).
 * MONAI: torch.nn.Softmax (MONAI's Act.SOFTMAX; segmentation heads: dim 1, the channels)
 * Gradient: SoftmaxGrad(y, dy) = y (dy - sum(dy y)) along dim (torch's
 * _softmax_backward_data on the result).  Inverse: none.
 *
 * In float64 after subtracting each slice's maximum (no overflow for large |x|; a NaN in
 * a slice makes the slice NaN, as torch's), rounded once. dim null is torch's legacy
 * choice for nn.Softmax() without one (it warns): 0 for tensors of rank 0, 1 or 3, else
 * 1. */
#include <math.h>

#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"dim", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "the axis the probabilities sum to 1 over (negative counts from the end); null: "
	 "torch's legacy choice, 0 for rank 0, 1 or 3, else 1"},
};
enum { A_DIM };

/* The axis of dim on a rank-r tensor, checked; errors name op. */
static int softmax_axis(const char *op, const struct mg_attr *a, int rank, int *axis,
			struct mg_err *e)
{
	if (a[A_DIM].is_none) {
		*axis = rank == 0 || rank == 1 || rank == 3 ? 0 : 1;
		return 0;
	}
	/* a 0-d tensor takes dim 0 or -1, as torch's */
	return mg_op_axis(a[A_DIM].v.i, rank > 0 ? rank : 1, op, "dim", axis, e);
}

/* A slice along the axis of a contiguous tensor: elements base + j * inner, j < n. */
struct slices {
	int64_t outer, n, inner;
};

static struct slices slices_of(const struct mg_tensor *t, int axis)
{
	struct slices s = {1, t->rank ? t->dims[axis] : 1, 1};
	for (int i = 0; i < t->rank; i++)
		if (i < axis)
			s.outer *= t->dims[i];
		else if (i > axis)
			s.inner *= t->dims[i];
	return s;
}

static int softmax(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	int axis, rc = mg_act_input("Softmax", "x", &in[0], k->err);
	if (rc || (rc = softmax_axis("Softmax", a, in[0].t.rank, &axis, k->err)))
		return rc;
	struct mg_tensor f;
	double *p = mg_act_f64(&in[0].t, &f, k->err);
	if (!p)
		return k->err->code;
	struct slices s = slices_of(&in[0].t, axis);
	for (int64_t o = 0; o < s.outer; o++)
		for (int64_t i = 0; i < s.inner; i++) {
			double *v = p + o * s.n * s.inner + i, m = -INFINITY, sum = 0;
			for (int64_t j = 0; j < s.n; j++)
				m = v[j * s.inner] > m || isnan(v[j * s.inner]) ? v[j * s.inner] : m;
			for (int64_t j = 0; j < s.n; j++)
				sum += exp(v[j * s.inner] - m);
			for (int64_t j = 0; j < s.n; j++)
				v[j * s.inner] = exp(v[j * s.inner] - m) / sum;
		}
	return mg_act_result(&f, &in[0].t, out, k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int axis, rc = mg_act_infer("Softmax", 1, 0, in, out, e);
	return rc || in[0].rank < 0 ? rc : softmax_axis("Softmax", a, in[0].rank, &axis, e);
}

static int grad(struct mg_grad *c)
{
	return mg_act_grad(c, MG_OP_SoftmaxGrad, 1);
}

const struct mg_opdef mg_op_softmax = {
	.name = "Softmax",
	.synopsis = "exp(x) / sum(exp(x)) along dim (torch.nn.Softmax)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = softmax,
	.grad = grad,
};

static int softmax_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	static const char OP[] = "SoftmaxGrad";
	int axis, rc = mg_act_input(OP, "y", &in[0], k->err);
	if (rc || (rc = mg_act_input(OP, "dy", &in[1], k->err)) ||
	    (rc = softmax_axis(OP, a, in[0].t.rank, &axis, k->err)))
		return rc;
	const struct mg_tensor *y = &in[0].t, *dy = &in[1].t;
	int ok = y->rank == dy->rank && y->dtype == dy->dtype;
	for (int i = 0; ok && i < y->rank; i++)
		ok = y->dims[i] == dy->dims[i];
	if (!ok)
		return mg_err_set(k->err, MG_ERR_SHAPE, "%s: dy's shape or dtype differs from y's", OP);
	struct mg_tensor fy, fd = {0};
	double *py = mg_act_f64(y, &fy, k->err), *pd = py ? mg_act_f64(dy, &fd, k->err) : NULL;
	if (!pd) {
		mg_tensor_release(&fy);
		return k->err->code;
	}
	struct slices s = slices_of(y, axis);
	for (int64_t o = 0; o < s.outer; o++)
		for (int64_t i = 0; i < s.inner; i++) {
			int64_t base = o * s.n * s.inner + i;
			double dot = 0;
			for (int64_t j = 0; j < s.n; j++)
				dot += py[base + j * s.inner] * pd[base + j * s.inner];
			for (int64_t j = 0; j < s.n; j++) /* dx over dy's storage */
				pd[base + j * s.inner] = py[base + j * s.inner] *
							 (pd[base + j * s.inner] - dot);
		}
	mg_tensor_release(&fy);
	return mg_act_result(&fd, y, out, k->err);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	int axis, rc = mg_act_infer("SoftmaxGrad", 2, 1, in, out, e);
	return rc || in[0].rank < 0 ? rc : softmax_axis("SoftmaxGrad", a, in[0].rank, &axis, e);
}

const struct mg_opdef mg_op_softmax_grad = {
	.name = "SoftmaxGrad",
	.synopsis = "gradient of Softmax (made by the autodiff pass): dx = y (dy - sum(dy y)) "
		    "along dim; inputs y, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = softmax_grad,
};
