/* ops.c: the op table, expanded from ops.def, and helpers shared by op files.
 * Nothing outside ops/ switches on the op kind: callers go through mg_ops[]. */
#include <string.h>

#include "op.h"

#define X(name, sym) extern const struct mg_opdef mg_op_##sym;
#include "ops.def"
#undef X

const struct mg_opdef *const mg_ops[MG_OP_COUNT] = {
#define X(name, sym) &mg_op_##sym,
#include "ops.def"
#undef X
};

int mg_op_find(const char *name)
{
	for (int i = 0; i < MG_OP_COUNT; i++)
		if (strcmp(mg_ops[i]->name, name) == 0)
			return i;
	return -1;
}

static int has_suffix(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), m = strlen(suffix);
	if (n <= m || strcmp(s + n - m, suffix) != 0)
		return 0;
	*stem = n - m;
	return 1;
}

int mg_op_find_target(const char *target, int *dict)
{
	const char *dot = strrchr(target, '.');
	const char *name = dot ? dot + 1 : target;
	int op = mg_op_find(name);
	*dict = 0;
	if (op >= 0)
		return op;
	static const char *const suffixes[] = {"Dict", "D", "d"};
	for (int i = 0; i < 3; i++) {
		size_t stem;
		char buf[128];
		if (!has_suffix(name, suffixes[i], &stem) || stem >= sizeof buf)
			continue;
		memcpy(buf, name, stem);
		buf[stem] = 0;
		if ((op = mg_op_find(buf)) >= 0) {
			*dict = 1;
			return op;
		}
	}
	return -1;
}

int mg_op_attr_index(const struct mg_opdef *d, const char *name)
{
	for (int i = 0; i < d->nattrs; i++)
		if (strcmp(d->attrs[i].name, name) == 0)
			return i;
	return -1;
}

int mg_op_nin(const struct mg_opdef *d, const struct mg_attr *attrs)
{
	int n = d->nin;
	if (n < 0)
		return -1;
	for (int i = 0; i < d->nattrs && attrs; i++)
		n += (d->attrs[i].flags & MG_ATTRF_KEY) && !attrs[i].is_none;
	return n;
}

static int count_ok(int want, int n)
{
	return want < 0 ? n >= 1 && n <= MG_STEP_MAXIO : n == want;
}

int mg_op_arity_ok(const struct mg_opdef *d, const struct mg_attr *attrs, int nin, int nout)
{
	return count_ok(mg_op_nin(d, attrs), nin) && count_ok(d->nout, nout) &&
	       nin <= MG_STEP_MAXIO && nout <= MG_STEP_MAXIO;
}

int mg_op_expect_tensor(const struct mg_val *v, const char *what, struct mg_err *e)
{
	if (v->kind == MG_VK_TENSOR)
		return 0;
	return mg_err_set(e, MG_ERR_SHAPE, "%s: expected an image, got %s", what,
			  v->kind == MG_VK_STRINGS ? "a file name (is LoadImage missing?)"
						   : "nothing");
}

int mg_op_infer_image(const struct mg_type *in, const char *op, struct mg_err *e)
{
	if (in->kind != MG_VK_STRINGS)
		return 0;
	return mg_err_set(e, MG_ERR_CONFIG,
			  "%s needs an image; this key holds no image here, the item's file "
			  "names at most (is it spelled right, and loaded by LoadImage before "
			  "this transform?)", op);
}

int mg_op_infer_key_input(const struct mg_type *in, const char *op, const char *arg,
			  const char *key, struct mg_err *e)
{
	if (in->kind != MG_VK_STRINGS)
		return mg_op_infer_spatial(in, op, e);
	return mg_err_set(e, MG_ERR_CONFIG, "%s: %s '%s' names a key that holds no image here "
			  "(the item's file names at most: is it spelled right, and loaded "
			  "before this transform?)", op, arg, key);
}

void mg_val_set_tensor(struct mg_val *v, struct mg_tensor t, struct mg_meta *meta)
{
	if (meta) {
		mg_meta_retain(meta);
		mg_meta_release(t.meta);
		t.meta = meta;
	}
	v->kind = MG_VK_TENSOR;
	v->t = t;
}

int mg_val_set_result(struct mg_val *v, struct mg_tensor y, struct mg_meta *meta, int rc)
{
	if (rc) {
		mg_tensor_release(&y);
		return rc;
	}
	mg_val_set_tensor(v, y, meta);
	return 0;
}

int mg_ensemble_input(const char *op, const struct mg_type *in, struct mg_err *e)
{
	int rc = mg_op_infer_image(in, op, e);
	if (!rc && in->rank == 0)
		rc = mg_err_set(e, MG_ERR_SHAPE, "%s needs a stacked (E, C, ...) tensor; got a "
				"scalar", op);
	return rc;
}

int mg_op_nvals(const struct mg_val *in)
{
	int n = 0;
	while (n < MG_STEP_MAXIO && in[n].kind != MG_VK_NONE)
		n++;
	return n;
}

const char *mg_op_dtypes_text(const struct mg_opdef *d, char *buf, size_t size)
{
	int n = __builtin_popcount(d->dtypes), k = 0;
	buf[0] = 0;
	for (int t = 0; t < MG_DTYPE_COUNT; t++)
		if ((d->dtypes >> t) & 1) {
			size_t len = strlen(buf);
			snprintf(buf + len, size - len, "%s%s", k == 0 ? "" : k == n - 1 ? " or " : ", ",
				 mg_dtype_name((enum mg_dtype)t));
			k++;
		}
	return buf;
}

int mg_op_infer(const struct mg_opdef *d, const struct mg_attr *attrs, const struct mg_type *in,
		struct mg_type *out, struct mg_err *e)
{
	int dt = in[0].kind == MG_VK_TENSOR ? in[0].dtype : -1;
	if (d->dtypes && dt >= 0 && !((d->dtypes >> dt) & 1)) {
		char want[128];
		return mg_err_set(e, MG_ERR_SHAPE, "%s: x is %s; expected %s", d->name,
				  mg_dtype_name((enum mg_dtype)dt), mg_op_dtypes_text(d, want, sizeof want));
	}
	if (d->infer)
		return d->infer(attrs, in, out, e);
	out[0] = in[0];
	return 0;
}

int mg_op_ntypes(const struct mg_type *in)
{
	int n = 0;
	while (n < MG_STEP_MAXIO && in[n].kind != MG_VK_NONE)
		n++;
	return n;
}

/* torch.stack of the n inputs (one shape and dtype), in order, into x; errors name the
 * keys (k->in_key). */
static int stack(const char *op, const struct mg_val *in, int n, struct mg_tensor *x,
		 struct mg_kctx *k)
{
	struct mg_err *e = k->err;
	const struct mg_tensor *t0 = &in[0].t;
	int64_t dims[MG_MAX_RANK];
	if (t0->rank + 1 > MG_MAX_RANK)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: rank %d is too large to stack", op, t0->rank);
	for (int i = 0; i < n; i++) {
		int rc = mg_op_expect_tensor(&in[i], op, e);
		if (rc)
			return rc;
		const struct mg_tensor *t = &in[i].t;
		int same = t->rank == t0->rank && t->dtype == t0->dtype;
		for (int d = 0; same && d < t->rank; d++)
			same = t->dims[d] == t0->dims[d];
		if (!same)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: the images of its keys must have one "
					  "shape and dtype to be stacked; key '%s' differs from key "
					  "'%s'", op, k->in_key ? k->in_key[i] : "?",
					  k->in_key ? k->in_key[0] : "?");
	}
	dims[0] = n;
	memcpy(dims + 1, t0->dims, (size_t)t0->rank * sizeof *dims);
	int rc = mg_tensor_alloc(x, t0->dtype, t0->rank + 1, dims, e);
	for (int i = 0; !rc && i < n; i++) {
		struct mg_tensor slice = *x;
		slice.offset += i * x->strides[0];
		mg_tensor_squeeze(&slice, 0);
		mg_tensor_convert(&slice, &in[i].t);
	}
	return rc;
}

int mg_ensemble_run(const char *op, mg_ensemble_check_fn *check, mg_ensemble_reduce_fn *reduce,
		    const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	struct mg_err *e = k->err;
	int n = mg_op_nvals(in), rc = mg_op_expect_tensor(&in[0], op, e);
	if (rc)
		return rc;
	struct mg_tensor stacked = {0};
	if (n > 1 && (rc = stack(op, in, n, &stacked, k)))
		return rc;
	const struct mg_tensor *x = n > 1 ? &stacked : &in[0].t;
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank};
	memcpy(t.dims, x->dims, sizeof t.dims);
	struct mg_tensor y = {0};
	if (!(rc = check(a, &t, e)) &&
	    !(rc = mg_tensor_alloc(&y, x->dtype, x->rank - 1, x->dims + 1, e)) &&
	    mg_tensor_numel(&y) > 0)
		rc = reduce(a, x, &y, e);
	mg_tensor_release(&stacked);
	return mg_val_set_result(&out[0], y, in[0].t.meta, rc);
}

int mg_ensemble_infer(mg_ensemble_check_fn *check, const struct mg_attr *a,
		      const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	int n = mg_op_ntypes(in);
	struct mg_type t = in[0];
	if (n > 1 && t.rank >= 0 && t.rank + 1 <= MG_MAX_RANK) { /* the stack of n images */
		memmove(t.dims + 1, in[0].dims, (size_t)t.rank * sizeof *t.dims);
		t.dims[0] = n;
		t.rank++;
	}
	int rc = check(a, &t, e);
	if (rc)
		return rc;
	out[0] = t;
	out[0].kind = MG_VK_TENSOR;
	if (t.rank > 0) {
		out[0].rank = t.rank - 1;
		memmove(out[0].dims, t.dims + 1, (MG_MAX_RANK - 1) * sizeof *t.dims);
	}
	return 0;
}

int mg_ensemble_keys(const struct mg_attr *a, const char *const *keys, int nkeys,
		     struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e)
{
	(void)arena;
	if (nkeys < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "keys is empty");
	if (nkeys > MG_STEP_MAXIO)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%d keys; mgc stacks at most %d", nkeys,
				  MG_STEP_MAXIO);
	if (nkeys > 1 && a[0].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "argument 'output_key' is needed with several "
				  "keys (MONAI: len(keys) > 1 and output_key=None)");
	struct mg_keynode *kn = &p->node[p->nnodes++];
	*kn = (struct mg_keynode){.nin = nkeys, .nout = 1, .family = -1};
	memcpy(kn->in, keys, (size_t)nkeys * sizeof *keys);
	kn->out[0] = a[0].is_none ? keys[0] : a[0].v.s;
	return 0;
}

void mg_chain_err(struct mg_err *e, const struct mg_chain *c, int i)
{
	mg_err_prefix(e, "%s (fused %s)", c->labels[i], mg_ops[c->ops[i]]->name);
}

int mg_chain_infer(const char *op, const char *pass, const struct mg_attr *chain,
		   const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	if (chain->is_none || !chain->v.chain)
		return mg_err_set(e, MG_ERR_CONFIG, "%s is made by the %s pass; it cannot be "
						    "written in a pipeline", op, pass);
	const struct mg_chain *c = chain->v.chain;
	struct mg_type t = *in;
	for (int i = 0; i < c->n; i++) {
		const struct mg_opdef *d = mg_ops[c->ops[i]];
		struct mg_type o = t;
		int rc = mg_op_infer(d, c->attrs[i], &t, &o, e);
		if (rc) {
			mg_chain_err(e, c, i);
			return rc;
		}
		t = o;
	}
	*out = t;
	return 0;
}

int mg_op_axis(int64_t dim, int rank, const char *op, const char *arg, int *axis,
	       struct mg_err *e)
{
	if (dim < -rank || dim >= rank)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s %lld is not an axis of a rank-%d image "
				  "(from %d to %d)", op, arg, (long long)dim, rank, -rank, rank - 1);
	*axis = (int)(dim < 0 ? dim + rank : dim);
	return 0;
}
