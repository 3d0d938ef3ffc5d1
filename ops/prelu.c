/* Op: PReLU
 * Synopsis: x where x > 0, else weight x, one weight or one per channel (torch.nn.PReLU).
 * MONAI: torch.nn.PReLU (MONAI's Act.PRELU: the default activation of UNet, VNet,
 * HighResNet's blocks)
 * Gradient: PReLUGrad(x, weight, dy) gives dx = dy where x > 0, else weight dy, and
 * dweight = the sum of x dy where x <= 0 over every axis but the channel's (over all of
 * them for one weight), as torch's _prelu_kernel_backward.  Inverse: none.
 *
 * Inputs x and weight (torch's state_dict: "weight", num_parameters values). The weight
 * broadcasts on axis 1, the channels (a tensor of rank 0 or 1 has one channel), so it
 * has 1 or C values, as F.prelu checks; it must also have num_parameters values, as the
 * module's state_dict does. `init` is accepted and ignored: the weight is an input. In
 * float64, rounded once; float32 x of rank 2 to 5 runs oneDNN's prelu primitive (forward
 * and backward) when the executor has a backend (mg_nn_use_dnn). */
#include "nn.h"
#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"num_parameters", MG_ATTR_INT, "1", 0, NULL,
	 "the weight's length: 1 (one slope) or the channels (one per channel)"},
	{"init", MG_ATTR_FLOAT, "0.25", 0, NULL,
	 "accepted and ignored: the weight is an input (torch's initial value)"},
};
enum { A_NUM };

/* torch's checks of the weight's shape (wrank, wnumel) against x's channels (x of rank
 * xrank, channels c; -1: not known yet). */
static int check_weight(const char *op, const struct mg_attr *a, int xrank, int64_t c,
			int wrank, int64_t wnumel, struct mg_err *e)
{
	if (a[A_NUM].v.i < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: num_parameters is %lld; expected 1 or more",
				  op, (long long)a[A_NUM].v.i);
	if (wrank > 1)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: expected `weight` to be a scalar or 1D "
				  "tensor, but got: ndim = %d", op, wrank);
	if (wnumel >= 0 && wnumel != a[A_NUM].v.i)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has %lld values; num_parameters is "
				  "%lld", op, (long long)wnumel, (long long)a[A_NUM].v.i);
	if (xrank >= 0 && c >= 0 && wnumel > 1 && wnumel != c)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: mismatch of parameter numbers and input "
				  "channel size: %lld weights, %lld channels (axis 1)", op,
				  (long long)wnumel, (long long)c);
	return 0;
}

static int64_t channels(int rank, const int64_t *dims)
{
	return rank < 0 ? -1 : rank >= 2 ? dims[1] : 1;
}

/* x's checks in a kernel: both operands float of one dtype, the weight's shape. */
static int check_tensors(const char *op, const struct mg_attr *a, const struct mg_val *in,
			 struct mg_err *e)
{
	int rc = mg_act_input(op, "x", &in[0], e);
	if (rc || (rc = mg_act_input(op, "weight", &in[1], e)))
		return rc;
	const struct mg_tensor *x = &in[0].t, *w = &in[1].t;
	if (x->dtype != w->dtype)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight is %s, x %s; expected one dtype", op,
				  mg_dtype_name(w->dtype), mg_dtype_name(x->dtype));
	return check_weight(op, a, x->rank, channels(x->rank, x->dims), w->rank,
			    mg_tensor_numel(w), e);
}

/* The channel of contiguous element i: (i / inner) % C, or 0 for one weight. */
struct chan {
	int64_t inner, c;
};

static struct chan chan_of(const struct mg_tensor *x, int64_t nw)
{
	struct chan s = {1, nw};
	for (int i = 2; i < x->rank; i++)
		s.inner *= x->dims[i];
	return s;
}

static int64_t chan_at(struct chan s, int64_t i)
{
	return s.c == 1 ? 0 : i / s.inner % s.c;
}

static int prelu(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		 struct mg_kctx *k)
{
	int rc = check_tensors("PReLU", a, in, k->err);
	if (rc)
		return rc;
	struct mg_tensor f, fw = {0};
	double *p = mg_act_f64(&in[0].t, &f, k->err), *w = p ? mg_act_f64(&in[1].t, &fw, k->err) : NULL;
	if (!w) {
		mg_tensor_release(&f);
		return k->err->code;
	}
	struct chan s = chan_of(&in[0].t, mg_tensor_numel(&in[1].t));
	for (int64_t i = 0, n = mg_tensor_numel(&in[0].t); i < n; i++)
		p[i] = p[i] > 0 ? p[i] : w[chan_at(s, i)] * p[i];
	mg_tensor_release(&fw);
	return mg_act_result(&f, &in[0].t, out, k->err);
}

/* PReLU (dy NULL) or PReLUGrad on oneDNN, when mg_nn_use_dnn allows it and x has a rank
 * oneDNN takes: out[0] (y or dx) laid out like x, out[1] dw; MG_ERR_UNSUPPORTED (nothing
 * done, e untouched) otherwise: the caller runs the reference. */
static int prelu_dnn(struct mg_val *in, const struct mg_tensor *dy, struct mg_val *out,
		     struct mg_kctx *k)
{
	const struct mg_tensor *x0 = &in[0].t;
	if (!mg_nn_use_dnn(in, k) || x0->rank < 2 || x0->rank > 5)
		return MG_ERR_UNSUPPORTED;
	struct mg_err *e = k->err;
	struct mg_tensor tx = {0}, tw = {0}, td = {0}, y = {0}, dw = {0};
	const struct mg_tensor *x = mg_nn_dnn_operand(x0, &tx, e);
	const struct mg_tensor *w = x ? mg_nn_dnn_operand(&in[1].t, &tw, e) : NULL;
	const struct mg_tensor *d = w && dy ? mg_nn_dnn_operand(dy, &td, e) : NULL;
	int rc = !w || (dy && !d) ? e->code : mg_tensor_alloc_like(&y, x0, MG_DTYPE_F32, e);
	if (!rc && dy)
		rc = mg_tensor_alloc(&dw, MG_DTYPE_F32, in[1].t.rank, in[1].t.dims, e);
	if (!rc)
		rc = dy ? mg_dnn_prelu_bwd(x, w, d, &y, &dw, e) : mg_dnn_prelu_fwd(x, w, &y, e);
	mg_tensor_release(&tx);
	mg_tensor_release(&tw);
	mg_tensor_release(&td);
	if (!rc && dy)
		mg_val_set_tensor(&out[1], dw, NULL);
	else
		mg_tensor_release(&dw);
	return mg_val_set_result(&out[0], y, x0->meta, rc);
}

static int prelu_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		     struct mg_kctx *k)
{
	int rc = check_tensors("PReLU", a, in, k->err);
	if (rc || (rc = prelu_dnn(in, NULL, out, k)) != MG_ERR_UNSUPPORTED)
		return rc;
	mg_err_clear(k->err);
	return prelu(a, in, out, k);
}

/* The type rule's weight check on types (dims -1 and rank -1: not known yet). */
static int infer_weight(const char *op, const struct mg_attr *a, const struct mg_type *x,
			const struct mg_type *w, struct mg_err *e)
{
	int64_t wn = w->rank < 0 ? -1 : 1;
	for (int i = 0; i < w->rank && wn >= 0; i++)
		wn = w->dims[i] < 0 ? -1 : wn * w->dims[i];
	return check_weight(op, a, x->rank, channels(x->rank, x->dims), w->rank, wn, e);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_act_infer("PReLU", 2, 0, in, out, e);
	return rc ? rc : infer_weight("PReLU", a, &in[0], &in[1], e);
}

static int grad(struct mg_grad *c)
{
	if (!(c->need & 3))
		return 0;
	int32_t in[3] = {c->x[0], c->x[1], c->dy[0]};
	int32_t d = c->node(c, MG_OP_PReLUGrad, in, 3, 2, c->attrs);
	if (d < 0)
		return c->e->code ? c->e->code : MG_ERR_INTERNAL;
	if (c->need & 1)
		c->dx[0] = d;
	if (c->need & 2)
		c->dx[1] = d + 1;
	return 0;
}

const struct mg_opdef mg_op_prelu = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "PReLU",
	.synopsis = "x where x > 0, else weight x, one weight or one per channel "
		    "(torch.nn.PReLU); inputs x, weight",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = prelu,
	.gen = prelu_gen,
	.grad = grad,
};

static int prelu_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	static const char OP[] = "PReLUGrad";
	int rc = check_tensors(OP, a, in, k->err);
	if (rc || (rc = mg_act_input(OP, "dy", &in[2], k->err)))
		return rc;
	const struct mg_tensor *x = &in[0].t, *w = &in[1].t, *dy = &in[2].t;
	int ok = dy->rank == x->rank && dy->dtype == x->dtype;
	for (int i = 0; ok && i < x->rank; i++)
		ok = dy->dims[i] == x->dims[i];
	if (!ok)
		return mg_err_set(k->err, MG_ERR_SHAPE, "%s: dy's shape or dtype differs from x's", OP);
	struct mg_tensor fx, fw = {0}, fd = {0}, fdw = {0};
	double *px = mg_act_f64(x, &fx, k->err), *pw = px ? mg_act_f64(w, &fw, k->err) : NULL;
	double *pd = pw ? mg_act_f64(dy, &fd, k->err) : NULL;
	if (pd && !mg_tensor_alloc(&fdw, MG_DTYPE_F64, w->rank, w->dims, k->err)) {
		double *pdw = mg_tensor_data(&fdw);
		struct chan s = chan_of(x, mg_tensor_numel(w));
		for (int64_t j = 0; j < s.c; j++)
			pdw[j] = 0;
		for (int64_t i = 0, n = mg_tensor_numel(x); i < n; i++) {
			int64_t c = chan_at(s, i);
			if (!(px[i] > 0))
				pdw[c] += px[i] * pd[i];
			pd[i] = px[i] > 0 ? pd[i] : pw[c] * pd[i]; /* dx over dy's storage */
		}
		rc = mg_act_result(&fd, x, &out[0], k->err);
		rc = rc ? rc : mg_act_result(&fdw, w, &out[1], k->err);
	} else {
		rc = k->err->code;
	}
	mg_tensor_release(&fx);
	mg_tensor_release(&fw);
	mg_tensor_release(&fd);
	mg_tensor_release(&fdw);
	return rc;
}

static int prelu_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	int rc = check_tensors("PReLUGrad", a, in, k->err);
	if (rc || (rc = mg_act_input("PReLUGrad", "dy", &in[2], k->err)))
		return rc;
	int same = in[2].t.rank == in[0].t.rank && in[2].t.dtype == in[0].t.dtype;
	for (int i = 0; same && i < in[0].t.rank; i++)
		same = in[2].t.dims[i] == in[0].t.dims[i];
	if (!same || (rc = prelu_dnn(in, &in[2].t, out, k)) == MG_ERR_UNSUPPORTED) {
		mg_err_clear(k->err);
		return prelu_grad(a, in, out, k); /* its checks name what differs */
	}
	return rc;
}

static int grad_infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		      struct mg_err *e)
{
	static const char OP[] = "PReLUGrad";
	struct mg_type xd[2] = {in[0], in[2]}, w;
	int rc = mg_act_infer(OP, 2, 1, xd, out, e);
	if (rc || (rc = mg_act_infer(OP, 2, 0, in, &w, e)) ||
	    (rc = infer_weight(OP, a, &in[0], &in[1], e)))
		return rc;
	out[1] = in[1];
	out[1].kind = MG_VK_TENSOR;
	return 0;
}

const struct mg_opdef mg_op_prelu_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "PReLUGrad",
	.synopsis = "gradient of PReLU (made by the autodiff pass): dx and dweight from x, "
		    "weight, dy",
	.nin = 3,
	.nout = 2,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_infer,
	.ref = prelu_grad,
	.gen = prelu_grad_gen,
};
