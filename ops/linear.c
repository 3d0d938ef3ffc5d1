/* Op: Linear
 * Synopsis: y = x W^T + b over the last axis (torch.nn.functional.linear).
 * MONAI: torch.nn.Linear (the classification heads of DenseNet121 and friends)
 * Gradient: dx = dy W, dW = dy^T x, db = the sum of dy over every axis but the last
 * (mg_linear_compute's backward passes), until the autodiff pass wires them.  Inverse: none.
 *
 * torch 2.x semantics: x (..., in) of any rank >= 1, weight (out, in), bias (out)
 * optional; y (..., out). The leading axes are one batch of rows: a view when their
 * strides allow it, else a copy. The reference computes in float64 and rounds once
 * (mg_matmul_ref, one strided product for all three passes); mg_linear_kernel_dnn runs
 * the same node through oneDNN's matmul. */
#include <string.h>

#include "nn.h"

void mg_matmul_ref(int64_t m, int64_t k, int64_t n, const double *a, const int64_t sa[2],
		   const double *b, const int64_t sb[2], const double *bias, double *c)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double s = bias ? bias[j] : 0;
			for (int64_t p = 0; p < k; p++)
				s += a[i * sa[0] + p * sa[1]] * b[p * sb[0] + j * sb[1]];
			c[i * n + j] = s;
		}
}

/* t (..., last) as a matrix (rows, last) oneDNN can read: a view when the leading axes
 * collapse into one stride and no stride is negative or zero, else a contiguous copy in
 * *tmp (the caller releases it). */
static int as_matrix(const struct mg_tensor *t, struct mg_tensor *m, struct mg_tensor *tmp,
		     struct mg_err *e)
{
	int r = t->rank, ok = 1;
	int64_t rows = 1, rs = 0;
	for (int i = 0; i < r; i++) /* oneDNN reads no negative strides */
		ok &= t->strides[i] > 0 || t->dims[i] == 1;
	for (int i = r - 2; i >= 0; i--) {
		if (t->dims[i] == 1)
			continue;
		if (rows > 1 && t->strides[i] != rs * rows)
			ok = 0;
		if (rows == 1)
			rs = t->strides[i];
		rows *= t->dims[i];
	}
	if (!ok) {
		int rc = mg_tensor_contiguous(tmp, t, e);
		if (rc)
			return rc;
		t = tmp;
		rs = t->dims[r - 1];
	}
	*m = *t;
	m->rank = 2;
	m->dims[0] = rows;
	m->dims[1] = t->dims[r - 1];
	m->strides[0] = rows > 1 ? rs : m->dims[1];
	m->strides[1] = t->strides[r - 1];
	return 0;
}

/* A 2-D view of t with its axes swapped. */
static struct mg_tensor swapped(const struct mg_tensor *t)
{
	struct mg_tensor s = *t;
	s.dims[0] = t->dims[1], s.dims[1] = t->dims[0];
	s.strides[0] = t->strides[1], s.strides[1] = t->strides[0];
	return s;
}

/* The oneDNN passes on the matrices (float32, allocated outputs): the products of the
 * reference below, and the bias gradient as a float64 sum. */
static int linear_dnn(enum mg_dnn_pass pass, const struct mg_tensor *am, const struct mg_tensor *bm,
		      const struct mg_tensor *bias, const struct mg_tensor *om,
		      struct mg_tensor *dbias, struct mg_err *e)
{
	if (am->dtype != MG_DTYPE_F32 || bm->dtype != MG_DTYPE_F32 ||
	    (bias && bias->dtype != MG_DTYPE_F32))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN path: float32 operands only");
	struct mg_tensor wt = swapped(bm), dyt = swapped(bm);
	if (pass == MG_DNN_FWD)
		return mg_dnn_matmul(am, &wt, bias, om, e);
	if (pass == MG_DNN_BWD_DATA)
		return mg_dnn_matmul(am, bm, NULL, om, e);
	int rc = mg_dnn_matmul(&dyt, am, NULL, om, e);
	if (rc || !dbias)
		return rc;
	const float *dy = mg_tensor_data(bm);
	float *db = mg_tensor_data(dbias);
	for (int64_t j = 0; j < bm->dims[1]; j++) {
		double s = 0;
		for (int64_t i = 0; i < bm->dims[0]; i++)
			s += dy[i * bm->strides[0] + j * bm->strides[1]];
		db[j] = (float)s;
	}
	return 0;
}

int mg_linear_compute(enum mg_dnn_pass pass, int dnn, const struct mg_tensor *a,
		      const struct mg_tensor *b, const struct mg_tensor *bias,
		      struct mg_tensor *out, struct mg_tensor *dbias, struct mg_err *e)
{
	memset(out, 0, sizeof *out);
	if (dbias)
		memset(dbias, 0, sizeof *dbias);
	int ra = a->rank, rb = b->rank, bw = pass == MG_DNN_BWD_WEIGHTS;
	int ok = ra >= 1 && rb == (bw ? ra : 2);
	for (int i = 0; ok && bw && i < ra - 1; i++)
		ok = a->dims[i] == b->dims[i];
	if (ok && !bw)
		ok = a->dims[ra - 1] == b->dims[pass == MG_DNN_FWD ? 1 : 0];
	if (ok && bias && pass == MG_DNN_FWD)
		ok = bias->rank == 1 && bias->dims[0] == b->dims[0];
	if (!ok)
		return mg_err_set(e, MG_ERR_SHAPE, "the operands' shapes do not fit y = x W^T + b");
	/* out: y (..., out), dx (..., in) or dW (out, in) */
	int64_t od[MG_MAX_RANK];
	int orank = bw ? 2 : ra;
	memcpy(od, a->dims, sizeof od);
	if (bw)
		od[0] = b->dims[rb - 1], od[1] = a->dims[ra - 1];
	else
		od[ra - 1] = b->dims[pass == MG_DNN_FWD ? 0 : 1];
	struct mg_tensor ta = {0}, tb = {0}, am, bm, om, fa = {0}, fb = {0}, fbias = {0}, fo = {0};
	int rc = mg_tensor_alloc(out, dnn ? MG_DTYPE_F32 : a->dtype, orank, od, e);
	if (!rc && dbias && bw)
		rc = mg_tensor_alloc(dbias, dnn ? MG_DTYPE_F32 : a->dtype, 1, &b->dims[rb - 1], e);
	if (!rc && dnn) {
		const struct mg_tensor *pbias = pass == MG_DNN_FWD ? bias : NULL;
		if (pbias && pbias->dims[0] > 1 && pbias->strides[0] != 1) /* oneDNN: dense */
			if (!(rc = mg_tensor_contiguous(&fbias, pbias, e)))
				pbias = &fbias;
		/* out is new and contiguous: its matrix is a view (fo stays empty) */
		if (!rc && !(rc = as_matrix(a, &am, &ta, e)) && !(rc = as_matrix(b, &bm, &tb, e)) &&
		    !(rc = as_matrix(out, &om, &fo, e)))
			rc = linear_dnn(pass, &am, &bm, pbias, &om, bw ? dbias : NULL, e);
		goto done;
	}
	if (rc || (rc = mg_tensor_alloc(&fa, MG_DTYPE_F64, ra, a->dims, e)) ||
	    (rc = mg_tensor_alloc(&fb, MG_DTYPE_F64, rb, b->dims, e)) ||
	    (rc = mg_tensor_alloc(&fo, MG_DTYPE_F64, orank, od, e)) ||
	    (bias && (rc = mg_tensor_alloc(&fbias, MG_DTYPE_F64, 1, bias->dims, e))))
		goto done;
	mg_tensor_convert(&fa, a);
	mg_tensor_convert(&fb, b);
	if (bias)
		mg_tensor_convert(&fbias, bias);
	const double *pa = mg_tensor_data(&fa), *pb = mg_tensor_data(&fb);
	int64_t K = a->dims[ra - 1], N = b->dims[rb - 1], M = mg_tensor_numel(a) / (K ? K : 1);
	int64_t Mb = b->dims[0]; /* W's rows: out features */
	double *po = mg_tensor_data(&fo);
	switch (pass) {
	case MG_DNN_FWD: /* y (M, Mb) = x (M, K) W^T */
		mg_matmul_ref(M, K, Mb, pa, (int64_t[]){K, 1}, pb, (int64_t[]){1, K},
			      pass == MG_DNN_FWD && bias ? mg_tensor_data(&fbias) : NULL, po);
		break;
	case MG_DNN_BWD_DATA: /* dx (M, N) = dy (M, K) W (K, N): here K is out, N in */
		mg_matmul_ref(M, K, N, pa, (int64_t[]){K, 1}, pb, (int64_t[]){N, 1}, NULL, po);
		break;
	case MG_DNN_BWD_WEIGHTS: /* dW (N, K) = dy^T (N, M) x (M, K) */
		mg_matmul_ref(N, M, K, pb, (int64_t[]){1, N}, pa, (int64_t[]){K, 1}, NULL, po);
		if (dbias) {
			struct mg_tensor fdb = {0};
			if ((rc = mg_tensor_alloc(&fdb, MG_DTYPE_F64, 1, &N, e)))
				goto done;
			mg_bias_grad_ref(M, N, 1, pb, mg_tensor_data(&fdb));
			mg_tensor_convert(dbias, &fdb);
			mg_tensor_release(&fdb);
		}
		break;
	}
	mg_tensor_convert(out, &fo);
done:
	mg_tensor_release(&ta);
	mg_tensor_release(&tb);
	mg_tensor_release(&fa);
	mg_tensor_release(&fb);
	mg_tensor_release(&fbias);
	mg_tensor_release(&fo);
	if (rc) {
		mg_tensor_release(out);
		if (dbias)
			mg_tensor_release(dbias);
	}
	return rc;
}

/* One pass as a node: FWD (x, weight, bias?) -> y; BWD_DATA (x, weight, dy) -> dx;
 * BWD_WEIGHTS (x, weight, dy, bias?) -> dweight (, dbias). */
static int linear_kernel(enum mg_dnn_pass pass, int dnn, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	static const char *const names[] = {"Linear x", "Linear weight", "Linear dy"};
	int n = mg_op_nvals(in), rc = 0, nb = pass == MG_DNN_FWD ? 2 : 3;
	if (n < nb || n > (pass == MG_DNN_BWD_DATA ? 3 : nb + 1))
		return mg_err_set(k->err, MG_ERR_SHAPE, "Linear%s takes x, weight%s and an optional "
				  "bias; got %d inputs", pass == MG_DNN_FWD ? "" : "'s gradient",
				  pass == MG_DNN_FWD ? "" : ", dy", n);
	for (int i = 0; i < n && !rc; i++)
		rc = mg_op_expect_tensor(&in[i], i < nb ? names[i] : "Linear bias", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t, *w = &in[1].t, *b = n > nb ? &in[nb].t : NULL;
	if (w->rank != 2 || x->rank < 1 || x->dims[x->rank - 1] != w->dims[1] ||
	    (b && (b->rank != 1 || b->dims[0] != w->dims[0])))
		return mg_err_set(k->err, MG_ERR_SHAPE, "Linear: x (..., in), weight (out, in) and "
				  "bias (out) do not fit (x rank %d, last axis %lld; weight rank %d)",
				  x->rank, (long long)(x->rank ? x->dims[x->rank - 1] : 0), w->rank);
	struct mg_tensor y, db = {0};
	const struct mg_tensor *dy = &in[2].t;
	if (pass == MG_DNN_FWD)
		rc = mg_linear_compute(pass, dnn, x, w, b, &y, NULL, k->err);
	else if (pass == MG_DNN_BWD_DATA)
		rc = mg_linear_compute(pass, dnn, dy, w, NULL, &y, NULL, k->err);
	else
		rc = mg_linear_compute(pass, dnn, x, dy, NULL, &y, b ? &db : NULL, k->err);
	if (rc) {
		mg_err_prefix(k->err, "Linear");
		return rc;
	}
	mg_val_set_tensor(&out[0], y, NULL);
	if (b && pass == MG_DNN_BWD_WEIGHTS)
		mg_val_set_tensor(&out[1], db, NULL);
	return 0;
}

static int linear(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_FWD, 0, in, out, k);
}

int mg_linear_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_FWD, mg_nn_use_dnn(in, k), in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int n = mg_op_ntypes(in), rc = 0;
	if (n < 2 || n > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "Linear takes x, weight and an optional bias; "
				  "got %d inputs", n);
	for (int i = 0; i < n && !rc; i++)
		rc = mg_op_infer_image(&in[i], "Linear", e);
	for (int i = 0; i < n && !rc; i++)
		if (in[i].dtype >= 0 && in[i].dtype != MG_DTYPE_F32 && in[i].dtype != MG_DTYPE_F64)
			rc = mg_err_set(e, MG_ERR_SHAPE, "Linear: input %d is %s; expected float32 "
					"(or float64)", i, mg_dtype_name(in[i].dtype));
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (in[0].rank < 1 || in[1].rank < 0)
		return 0;
	if (in[1].rank != 2)
		return mg_err_set(e, MG_ERR_SHAPE, "Linear: weight has rank %d; expected 2 (out, in)",
				  in[1].rank);
	int64_t xin = in[0].dims[in[0].rank - 1], win = in[1].dims[1];
	if (xin >= 0 && win >= 0 && xin != win)
		return mg_err_set(e, MG_ERR_SHAPE, "Linear: x has %lld features; weight expects %lld",
				  (long long)xin, (long long)win);
	if (n > 2 && in[2].rank >= 0 &&
	    (in[2].rank != 1 || (in[2].dims[0] >= 0 && in[1].dims[0] >= 0 &&
				 in[2].dims[0] != in[1].dims[0])))
		return mg_err_set(e, MG_ERR_SHAPE, "Linear: bias must have one value per output "
				  "feature");
	out[0].dims[in[0].rank - 1] = in[1].dims[0];
	return 0;
}

static int grad(struct mg_grad *c)
{
	/* the weight's gradient op computes dbias too: the conv rule's node pattern */
	return mg_conv_grad(c, MG_OP_LinearGradData, MG_OP_LinearGradWeight);
}

const struct mg_opdef mg_op_linear = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Linear",
	.synopsis = "y = x W^T + b over the last axis",
	.flags = 0,
	.nin = -1,
	.nout = 1,
	.attrs = NULL,
	.nattrs = 0,
	.infer = infer,
	.ref = linear,
	.gen = mg_linear_kernel_dnn,
	.grad = grad,
};

/* The gradient ops: the reference, and oneDNN as gen when the executor has a backend. */
static int grad_data_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_BWD_DATA, 0, in, out, k);
}

static int grad_data_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_BWD_DATA, mg_nn_use_dnn(in, k), in, out, k);
}

static int grad_weight_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_BWD_WEIGHTS, 0, in, out, k);
}

static int grad_weight_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			   struct mg_kctx *k)
{
	return linear_kernel(MG_DNN_BWD_WEIGHTS, mg_nn_use_dnn(in, k), in, out, k);
}

/* The gradients have their operands' types: dx x's, dweight weight's, dbias bias's. */
static int grad_infer(int data, const struct mg_type *in, struct mg_type *out)
{
	out[0] = in[data ? 0 : 1];
	if (!data && mg_op_ntypes(in) == 4)
		out[1] = in[3];
	return 0;
}

static int grad_data_infer(const struct mg_attr *a, const struct mg_type *in,
			   struct mg_type *out, struct mg_err *e)
{
	return grad_infer(1, in, out);
}

static int grad_weight_infer(const struct mg_attr *a, const struct mg_type *in,
			     struct mg_type *out, struct mg_err *e)
{
	return grad_infer(0, in, out);
}

const struct mg_opdef mg_op_linear_grad_data = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LinearGradData",
	.synopsis = "dL/dx of a Linear from x, weight and dy (made by autodiff)",
	.nin = 3,
	.nout = 1,
	.infer = grad_data_infer,
	.ref = grad_data_ref,
	.gen = grad_data_gen,
};

const struct mg_opdef mg_op_linear_grad_weight = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LinearGradWeight",
	.synopsis = "dL/dweight (and dL/dbias when given the bias) of a Linear from x, weight "
		    "and dy (made by autodiff)",
	.nin = -1,
	.nout = -1,
	.infer = grad_weight_infer,
	.ref = grad_weight_ref,
	.gen = grad_weight_gen,
};
