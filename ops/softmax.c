/* Op: Softmax
 * Synopsis: exp(x) / sum(exp(x)) along dim (torch.nn.Softmax).
 * MONAI: torch.nn.Softmax (MONAI's Act.SOFTMAX; segmentation heads: dim 1, the channels)
 * Gradient: SoftmaxGrad(y, dy) = y (dy - sum(dy y)) along dim (torch's
 * _softmax_backward_data on the result).  Inverse: none.
 *
 * In float64 after subtracting each slice's maximum (no overflow for large |x|; a NaN in
 * a slice makes the slice NaN, as torch's), rounded once. dim null is torch's legacy
 * choice for nn.Softmax() without one (it warns): 0 for tensors of rank 0, 1 or 3, else
 * 1.
 * Generated kernels (float32, a backend, dim of at most MAXN elements, rank 1 to
 * MG_KMAX_RANK + 1): one kernel per index j along dim, over the other axes, loading the
 * slice's n elements (n fixed per kernel, the stride a parameter) and storing element j
 * (j a parameter: one compiled kernel serves every j), in float32 (exp within a few ulp
 * of libm's): within 1e-6 of the reference. */
#include <math.h>
#include <string.h>

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

/* The longest slice the generated kernels take (each loads all of it). */
enum { MAXN = 16 };

/* t seen without axis (rank >= 2), or a rank-1 t as one element of a size-1 axis; from
 * index j along the axis. */
static struct mg_tensor drop_axis(const struct mg_tensor *t, int axis, int64_t j)
{
	struct mg_tensor v = *t;
	v.offset += j * t->strides[axis];
	if (t->rank == 1) {
		v.dims[0] = 1;
		v.strides[0] = 0;
		return v;
	}
	for (int i = axis; i < t->rank - 1; i++) {
		v.dims[i] = t->dims[i + 1];
		v.strides[i] = t->strides[i + 1];
	}
	v.rank--;
	return v;
}

/* The generated kernels of Softmax (grad 0: in = x) and SoftmaxGrad (grad 1: in = y, dy)
 * along axis into a new tensor laid out as in[0], when in[0..1 + grad) are float32
 * tensors of one shape that they cover: MG_ERR_UNSUPPORTED otherwise (the caller runs
 * its reference kernel, which reports bad operands). */
static int softmax_gen_run(const char *op, int grad, int axis, struct mg_val *in,
			   struct mg_val *out, struct mg_kctx *k)
{
	const struct mg_tensor *x = &in[0].t;
	int ni = 1 + grad, rank = x->rank > 1 ? x->rank - 1 : 1;
	for (int i = 0; i < ni; i++) {
		const struct mg_tensor *t = &in[i].t;
		if (in[i].kind != MG_VK_TENSOR || t->dtype != MG_DTYPE_F32 || t->rank != x->rank)
			return MG_ERR_UNSUPPORTED;
		for (int d = 0; d < x->rank; d++)
			if (t->dims[d] != x->dims[d])
				return MG_ERR_UNSUPPORTED;
	}
	if (!k->backend || x->rank < 1 || rank > MG_KMAX_RANK || x->dims[axis] > MAXN ||
	    !mg_tensor_numel(x))
		return MG_ERR_UNSUPPORTED;
	int64_t n = x->dims[axis];
	struct mg_tensor y;
	int rc = mg_tensor_alloc_like(&y, x, MG_DTYPE_F32, k->err);
	for (int64_t j = 0; j < n && !rc; j++) {
		struct mg_arena ar = {0};
		struct mg_kir kir;
		double pv[MG_KMAX_PARAMS] = {0};
		int32_t v[2][MAXN], o[MAXN], m = -1, z = -1, e[MAXN];
		mg_kir_init(&kir, &ar, op, rank);
		for (int i = 0; i <= ni; i++)
			mg_kir_tensor(&kir, MG_DTYPE_F32, rank);
		for (int i = 0; i < ni; i++) {
			int32_t off = mg_gen_offset(&kir, 1 + i);
			int32_t st = mg_gen_param(&kir, pv, MG_DTYPE_I64, (double)in[i].t.strides[axis]);
			for (int64_t c = 0; c < n; c++)
				v[i][c] = mg_gen_gather(&kir, 1 + i, off, st, c);
		}
		for (int64_t c = 0; c < n; c++) { /* softmax: max, exp(x - max), sum; grad: dy . y */
			e[c] = grad ? mg_kir_op(&kir, MG_KOP_MUL, v[1][c], v[0][c])
				    : v[0][c];
			if (!grad)
				m = c ? mg_kir_op(&kir, MG_KOP_MAX, m, v[0][c]) : v[0][c];
		}
		for (int64_t c = 0; c < n; c++) {
			if (!grad)
				e[c] = mg_kir_op(&kir, MG_KOP_EXP, mg_kir_op(&kir, MG_KOP_SUB, v[0][c], m), -1);
			z = c ? mg_kir_op(&kir, MG_KOP_ADD, z, e[c]) : e[c];
		}
		for (int64_t c = 0; c < n; c++)
			o[c] = grad ? mg_kir_op(&kir, MG_KOP_MUL, v[0][c],
						mg_kir_op(&kir, MG_KOP_SUB, v[1][c], z))
				    : mg_kir_op(&kir, MG_KOP_DIV, e[c], z);
		kir.store = mg_gen_pick(&kir, mg_gen_param(&kir, pv, MG_DTYPE_I64, (double)j), o, n,
					mg_kir_const(&kir, MG_DTYPE_F32, 0));
		struct mg_kargs ka = {0};
		struct mg_tensor yv = drop_axis(&y, axis, j);
		mg_ktensor_set(&ka.t[0], &yv);
		for (int i = 0; i < ni; i++) {
			struct mg_tensor xv = drop_axis(&in[i].t, axis, 0);
			mg_ktensor_set(&ka.t[1 + i], &xv);
		}
		mg_gen_order(&yv, kir.info.order);
		for (int d = 0; d < rank; d++)
			ka.dims[d] = yv.dims[d];
		memcpy(ka.p, pv, sizeof ka.p);
		rc = mg_gen_run(k, &kir, &ka, NULL);
		mg_arena_free(&ar);
	}
	if (rc == MG_ERR_UNSUPPORTED)
		mg_tensor_release(&y);
	return rc == MG_ERR_UNSUPPORTED ? rc : mg_val_set_result(&out[0], y, x->meta, rc);
}

/* The gen of Softmax (grad 0) and SoftmaxGrad (grad 1): the generated kernels, else
 * their reference kernel ref. */
static int gen_or_ref(const char *op, int grad, mg_kernel_fn ref, const struct mg_attr *a,
		      struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	int axis, rc = in[0].kind != MG_VK_TENSOR ? MG_ERR_UNSUPPORTED
		       : softmax_axis(op, a, in[0].t.rank, &axis, k->err);
	if (rc || (rc = softmax_gen_run(op, grad, axis, in, out, k)) == MG_ERR_UNSUPPORTED) {
		mg_err_clear(k->err);
		return ref(a, in, out, k);
	}
	return rc;
}

static int softmax_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	return gen_or_ref("Softmax", 0, softmax, a, in, out, k);
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
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Softmax",
	.synopsis = "exp(x) / sum(exp(x)) along dim (torch.nn.Softmax)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = softmax,
	.gen = softmax_gen,
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

static int softmax_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			    struct mg_kctx *k)
{
	return gen_or_ref("SoftmaxGrad", 1, softmax_grad, a, in, out, k);
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	int axis, rc = mg_act_infer("SoftmaxGrad", 2, 1, in, out, e);
	return rc || in[0].rank < 0 ? rc : softmax_axis("SoftmaxGrad", a, in[0].rank, &axis, e);
}

const struct mg_opdef mg_op_softmax_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "SoftmaxGrad",
	.synopsis = "gradient of Softmax (made by the autodiff pass): dx = y (dy - sum(dy y)) "
		    "along dim; inputs y, dy",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = softmax_grad,
	.gen = softmax_grad_gen,
};
