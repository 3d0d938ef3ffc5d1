/* Op: Dropout
 * Synopsis: in training, zeroes each element with probability p and scales the rest by
 * 1 / (1 - p), a mask fixed by seed and item; else the identity (torch.nn.Dropout).
 * MONAI: torch.nn.Dropout (MONAI's Dropout.DROPOUT: UNet, DenseNet, ViT blocks ...)
 * Gradient: Dropout itself on dy with the same attributes: dy has x's shape and the item
 * is the same, so the same mask is drawn again instead of being stored.  Inverse: none.
 *
 * The mask: element i of x in logical C order (N, C, spatial...) is kept when
 * u = w / 2^32 >= p, w being word 0 of Philox4x32-10 (runtime/philox.c) at counter
 * (i mod 2^32, i / 2^32, 0, 0) with key (seed, item mod 2^32): what kernel IR's PHILOX
 * gives for counter i and key seed + item * 2^32, so a generated kernel can draw the
 * same mask. The kept fraction is 1 - p up to the 2^-32 grid of u. Kept values are
 * multiplied by 1 / (1 - p) in float64 and rounded once; dropped ones by 0 (a NaN stays
 * NaN, as torch's input * mask); p = 1 drops everything. The mask depends on seed and
 * the datalist item only, not on the epoch: a training loop that wants new masks each
 * epoch changes the seed. torch draws from its own generator, so masks differ from
 * torch's; only the distribution and the scaling are torch's. The generated kernel draws
 * the same words (the logical index from INDEX and DIM; seed and item as parameters, so
 * one kernel serves every item) and takes the same float64 steps: bit for bit the
 * reference. `inplace` is accepted and ignored. */
#include "nn_act.h"

static const struct mg_attrdef attrs[] = {
	{"p", MG_ATTR_FLOAT, "0.5", 0, NULL, "the probability of zeroing an element, in [0, 1]"},
	{"inplace", MG_ATTR_BOOL, "false", 0, NULL, "accepted and ignored (values are immutable)"},
	{"training", MG_ATTR_BOOL, "false", 0, NULL,
	 "mgc: drop (true) or pass the input through (false: torch's eval mode)"},
	{"seed", MG_ATTR_INT, "0", 0, NULL,
	 "mgc: the Philox key of the mask, 0 to 4294967295 (with the datalist item)"},
};
enum { A_P, A_INPLACE, A_TRAINING, A_SEED };

static int check(const struct mg_attr *a, struct mg_err *e)
{
	double p = a[A_P].v.f;
	if (!(p >= 0 && p <= 1))
		return mg_err_set(e, MG_ERR_CONFIG, "Dropout: p (dropout probability) has to be "
				  "between 0 and 1, but got %g", p);
	if (a[A_SEED].v.i < 0 || a[A_SEED].v.i > 0xFFFFFFFFll)
		return mg_err_set(e, MG_ERR_CONFIG, "Dropout: seed %lld is outside 0 to 4294967295",
				  (long long)a[A_SEED].v.i);
	return 0;
}

/* Whether the node changes its input at all. */
static int drops(const struct mg_attr *a)
{
	return a[A_TRAINING].v.i && a[A_P].v.f > 0;
}

static int dropout(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	int rc = mg_act_input("Dropout", "x", &in[0], k->err);
	if (rc || (rc = check(a, k->err)))
		return rc;
	if (!drops(a))
		return mg_val_share(&out[0], &in[0], k->err);
	struct mg_tensor f;
	double *v = mg_act_f64(&in[0].t, &f, k->err);
	if (!v)
		return k->err->code;
	double p = a[A_P].v.f, scale = 1 / (1 - p);
	uint32_t key[2] = {(uint32_t)a[A_SEED].v.i, (uint32_t)k->item}, w[4];
	for (int64_t i = 0, n = mg_tensor_numel(&in[0].t); i < n; i++) {
		uint32_t ctr[4] = {(uint32_t)i, (uint32_t)((uint64_t)i >> 32), 0, 0};
		mg_philox4x32(ctr, key, w);
		v[i] *= w[0] * 0x1p-32 >= p ? scale : 0;
	}
	return mg_act_result(&f, &in[0].t, out, k->err);
}

/* Dropout in kernel IR (x: tensor 1, float32 or float64, of rank r): parameters seed and
 * item mod 2^32 make the key seed + 2^32 item. */
static void emit(const struct mg_attr *a, struct mg_kir *k, enum mg_dtype xt, int r)
{
	int32_t i = mg_kir_index(k, 0);
	for (int d = 1; d < r; d++) /* logical C order */
		i = mg_kir_op(k, MG_KOP_ADD, mg_kir_op(k, MG_KOP_MUL, i, mg_kir_dim(k, 1, d)),
			      mg_kir_index(k, d));
	int32_t item = mg_kir_param(k, MG_DTYPE_I64, mg_kir_param_slot(k));
	int32_t seed = mg_kir_param(k, MG_DTYPE_I64, mg_kir_param_slot(k));
	int32_t key = mg_kir_op(k, MG_KOP_ADD, seed,
				mg_kir_op(k, MG_KOP_MUL, item, mg_kir_const(k, MG_DTYPE_I64, 0x1p32)));
	int32_t u = mg_kir_op(k, MG_KOP_MUL, mg_kir_cast(k, MG_DTYPE_F64, mg_kir_philox(k, 0, i, key)),
			      mg_kir_const(k, MG_DTYPE_F64, 0x1p-32));
	double p = a[A_P].v.f;
	int32_t m = mg_kir_select(k, mg_kir_op(k, MG_KOP_GE, u, mg_kir_const(k, MG_DTYPE_F64, p)),
				  mg_kir_const(k, MG_DTYPE_F64, 1 / (1 - p)),
				  mg_kir_const(k, MG_DTYPE_F64, 0));
	int32_t y = mg_kir_op(k, MG_KOP_MUL, mg_kir_cast(k, MG_DTYPE_F64, mg_kir_loadat(k, 1)), m);
	k->store = mg_kir_cast(k, xt, y);
}

static int dropout_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	const struct mg_tensor *x = &in[0].t;
	if (!k->backend || in[0].kind != MG_VK_TENSOR || check(a, k->err) || !drops(a) ||
	    (x->dtype != MG_DTYPE_F32 && x->dtype != MG_DTYPE_F64) || x->rank < 1 ||
	    x->rank > MG_KMAX_RANK || mg_tensor_numel(x) == 0)
		return dropout(a, in, out, k); /* which also reports bad operands */
	struct mg_arena ar = {0};
	struct mg_kir kir;
	mg_kir_init(&kir, &ar, "Dropout", x->rank);
	mg_kir_tensor(&kir, x->dtype, x->rank);
	mg_kir_tensor(&kir, x->dtype, x->rank);
	emit(a, &kir, x->dtype, x->rank);
	double p[2] = {(double)(uint32_t)k->item, (double)a[A_SEED].v.i};
	int rc = mg_act_run(&kir, in, p, out, k);
	mg_arena_free(&ar);
	if (rc == MG_ERR_UNSUPPORTED) { /* no code for it: the reference kernel */
		mg_err_clear(k->err);
		return dropout(a, in, out, k);
	}
	return rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_act_infer("Dropout", 1, 0, in, out, e);
	return rc ? rc : check(a, e);
}

static int grad(struct mg_grad *c)
{
	if (!(c->need & 1))
		return 0;
	if (!drops(c->attrs)) {
		c->dx[0] = c->dy[0];
		return 0;
	}
	int32_t dx = c->node(c, MG_OP_Dropout, &c->dy[0], 1, 1, c->attrs);
	if (dx < 0)
		return c->e->code ? c->e->code : MG_ERR_INTERNAL;
	c->dx[0] = dx;
	return 0;
}

const struct mg_opdef mg_op_dropout = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Dropout",
	.synopsis = "in training, zeroes elements with probability p (a Philox mask by seed "
		    "and item) and scales the rest by 1 / (1 - p); else the identity "
		    "(torch.nn.Dropout)",
	.flags = MG_OPF_RANDOM,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = dropout,
	.gen = dropout_gen,
	.grad = grad,
};
