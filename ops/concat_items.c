/* Op: ConcatItems
 * Synopsis: concatenate the images of several keys along an axis into a new key (a copy).
 * MONAI: monai.transforms.ConcatItemsd
 * Gradient: the output's gradient sliced back to each input.  Inverse: none.
 *
 * MONAI 1.6.1 (utility/dictionary.py ConcatItemsd): torch.cat([d[k] for k in keys], dim)
 * stored under `name`, with the first key's meta (MetaTensor's torch.cat takes the first
 * input's). torch.cat promotes dtypes (an int and a float image give float; uint8 and
 * int8 give int16) and needs equal ranks and equal sizes on every other axis: a mismatch
 * is an error naming the keys and their shapes. The result is a new contiguous image
 * (the data must move). One node reads every key (nin -1: as many as keys, at most
 * MG_STEP_MAXIO). Known deviation: with allow_missing_keys MONAI concatenates the keys
 * present; here a missing first key leaves `name` unset and a missing other key is an
 * error. Only the dict form exists. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"name", MG_ATTR_STR, NULL, 0, NULL, "the key that gets the concatenated image"},
	{"dim", MG_ATTR_INT, "0", 0, NULL,
	 "the axis to concatenate along (channel axis included; negative counts from the "
	 "end)"},
};
enum { A_NAME, A_DIM };

/* torch's result_type of two tensors' dtypes. */
static enum mg_dtype promote(enum mg_dtype a, enum mg_dtype b)
{
	int fa = mg_dtype_is_float(a), fb = mg_dtype_is_float(b);
	size_t sa = mg_dtype_size(a), sb = mg_dtype_size(b);
	if (a == b)
		return a;
	if (fa != fb)
		return fa ? a : b;
	if (fa) /* float16 with bfloat16 meet in float32 */
		return sa != sb ? (sa > sb ? a : b) : MG_DTYPE_F32;
	int ua = a == MG_DTYPE_U8 || a == MG_DTYPE_U16 || a == MG_DTYPE_U32;
	int ub = b == MG_DTYPE_U8 || b == MG_DTYPE_U16 || b == MG_DTYPE_U32;
	if (ua == ub)
		return sa > sb ? a : b;
	enum mg_dtype u = ua ? a : b, s = ua ? b : a;
	if (mg_dtype_size(s) > mg_dtype_size(u))
		return s;
	return mg_dtype_size(u) == 1 ? MG_DTYPE_I16 : mg_dtype_size(u) == 2 ? MG_DTYPE_I32
									   : MG_DTYPE_I64;
}

static void shape_str(const struct mg_tensor *t, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "(");
	for (int i = 0; i < t->rank && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
	if (o < n)
		snprintf(buf + o, n - o, ")");
}

/* The inputs agree on rank and on every axis but `axis` (which *axis gets). */
static int check_shapes(const struct mg_attr *a, const struct mg_val *in, int n, int *axis,
			struct mg_kctx *k)
{
	const struct mg_tensor *x0 = &in[0].t;
	int rc = mg_op_axis(a[A_DIM].v.i, x0->rank, "ConcatItemsd", "dim", axis, k->err);
	for (int i = 1; i < n && !rc; i++) {
		const struct mg_tensor *x = &in[i].t;
		int ok = x->rank == x0->rank;
		for (int d = 0; d < x0->rank && ok; d++)
			ok = d == *axis || x->dims[d] == x0->dims[d];
		if (ok)
			continue;
		char s0[128], si[128];
		shape_str(x0, s0, sizeof s0);
		shape_str(x, si, sizeof si);
		rc = mg_err_set(k->err, MG_ERR_SHAPE, "ConcatItemsd: key '%s' has shape %s and "
				"key '%s' has %s: they must agree on every axis but dim %lld",
				k->in_key ? k->in_key[i] : "?", si, k->in_key ? k->in_key[0] : "?",
				s0, (long long)a[A_DIM].v.i);
	}
	return rc;
}

static int concat_items(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	int n = mg_op_nvals(in), rc = 0, axis;
	for (int i = 0; i < n && !rc; i++)
		rc = mg_op_expect_tensor(&in[i], "ConcatItemsd", k->err);
	if (rc || (rc = check_shapes(a, in, n, &axis, k)))
		return rc;
	const struct mg_tensor *x0 = &in[0].t;
	int64_t dims[MG_MAX_RANK];
	memcpy(dims, x0->dims, sizeof dims);
	enum mg_dtype dt = x0->dtype;
	dims[axis] = 0;
	for (int i = 0; i < n; i++) {
		dims[axis] += in[i].t.dims[axis];
		dt = promote(dt, in[i].t.dtype);
	}
	struct mg_tensor y;
	if ((rc = mg_tensor_alloc(&y, dt, x0->rank, dims, k->err)))
		return rc;
	char *base = mg_tensor_data(&y);
	size_t es = mg_dtype_size(dt);
	int64_t at = 0; /* where along axis the next input goes */
	for (int i = 0; i < n; i++) {
		const struct mg_tensor *x = &in[i].t;
		const char *src = mg_tensor_data(x);
		size_t xs = mg_dtype_size(x->dtype);
		struct mg_iter it;
		mg_iter_init(&it, x->rank, x->dims, 2, (const int64_t *[]){x->strides, y.strides});
		for (; !it.done; mg_iter_next(&it)) {
			const char *p = src + it.off[0] * (int64_t)xs;
			char *q = base + (it.off[1] + at * y.strides[axis]) * (int64_t)es;
			if (x->dtype == dt)
				memcpy(q, p, es);
			else
				mg_dtype_store(dt, q, mg_dtype_load(x->dtype, p));
		}
		at += x->dims[axis];
	}
	mg_val_set_tensor(&out[0], y, x0->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	out[0] = in[0];
	for (int i = 0, n = mg_op_ntypes(in); i < n; i++) {
		int rc = mg_op_infer_image(&in[i], "ConcatItemsd", e);
		if (rc)
			return rc;
		out[0].dtype = out[0].dtype < 0 || in[i].dtype < 0
				       ? -1
				       : (int)promote((enum mg_dtype)out[0].dtype,
						      (enum mg_dtype)in[i].dtype);
		if (in[i].rank != in[0].rank)
			out[0].rank = -1;
	}
	for (int d = 0; d < MG_MAX_RANK; d++)
		out[0].dims[d] = -1; /* the sizes come at run time */
	return 0;
}

/* One node reading every key, its output bound to `name`. */
static int keys(const struct mg_attr *a, const char *const *key, int nkeys,
		struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e)
{
	(void)arena;
	if (nkeys > MG_STEP_MAXIO)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "ConcatItemsd: %d keys; mgc concatenates "
				  "at most %d", nkeys, MG_STEP_MAXIO);
	if (nkeys < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "ConcatItemsd: keys is empty");
	struct mg_keynode *kn = &p->node[p->nnodes++];
	*kn = (struct mg_keynode){.nin = nkeys, .nout = 1, .family = -1};
	memcpy(kn->in, key, (size_t)nkeys * sizeof *key);
	kn->out[0] = a[A_NAME].v.s;
	return 0;
}

const struct mg_opdef mg_op_concat_items = {
	.name = "ConcatItems",
	.synopsis = "concatenate several keys' images along an axis into a new key (a copy)",
	.flags = 0,
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = concat_items,
	.keys = keys,
};
