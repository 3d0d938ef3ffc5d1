/* loss_gen.c: the loss ops' generated kernels (loss.h's mg_loss_gen) for float32 input:
 * reductions first, then one pass, as the reference (loss.c) evaluates them.
 *
 * Every kernel runs on one item n over its spatial voxels (the index space: the spatial
 * axes, any strides); channel k of a voxel is a load at k times the channel stride (a
 * parameter) from the item's channel-0 view, so the softmax over the C channels (C fixed
 * per kernel) is C strided loads per voxel. The sums kernels reduce, in float64, each
 * Dice group's three sums, cross entropy's nll, smooth and class-weight sums, the focal
 * term's sum and a count of labels out of range; a kernel holds at most MG_KMAX_RED of
 * them, each recomputing the voxel's values. The host turns the sums into the loss and
 * the gradient's coefficients with loss.c's own functions (mg_loss_dice_finish,
 * mg_loss_ce_value, mg_loss_focal_divisor), so both paths share the formulas. The gradient kernel, one per (item, channel), computes
 * dinput for every channel of the voxel and stores its own (the channel is a parameter,
 * so one compiled kernel serves them all).
 * Per-voxel arithmetic is float32 (exp and log may differ from libm by a few ulp);
 * the sums are float64, summed per item in the launcher's slice order, then over the
 * items in order (the reference sums voxel by voxel): the loss agrees with the
 * reference within 1e-6 relative, dinput within 4e-6 of its largest magnitude
 * (tests/test_lowering_nn.c).
 * The focal term's powers are exp(gamma log q) (1 for gamma 0) and its softplus
 * max(v, 0) + log(1 + exp(-|v|)) in float32 (absolute error below 1e-7 where the
 * reference's log1p is exact). One-channel cross entropy (BCE) keeps the reference
 * kernel; so does anything else the kernels do not cover (loss.h). */
#include <stdlib.h>
#include <string.h>

#include "loss.h"

#define F32 MG_DTYPE_F32
#define F64 MG_DTYPE_F64
#define I64 MG_DTYPE_I64
enum { MAXC = MG_LOSS_GEN_MAXC };

/* One evaluation: the operands, the arguments and what follows from them. */
struct gl {
	const char *name; /* the op's, for kernels and messages */
	const struct mg_loss_args *r;
	const struct mg_tensor *x, *t;
	int64_t N, C, c0, nc, ng, S;
	int sr;     /* spatial rank: the kernels' */
	int tskip;  /* the target's leading axes: 2, or 1 for a (N, spatial...) CE target */
	int dice, ce, focal;
	int onehot; /* Dice's and focal's target: the one-hot of the labels */
	int idx;    /* cross entropy's target: class indices */
	double lam_dice, lam_ce, lam_focal;
	const double *w; /* Dice's class weights (nw) */
	int nw;
};

/* One voxel's values in a kernel: the logits, Dice's activation and target (focal's
 * target too), cross entropy's softmax and log-softmax over every channel, focal's
 * softmax form's over the channels kept (fp, fls), the truncated label and whether it is
 * in range. */
struct vox {
	int32_t x[MAXC], p[MAXC], g[MAXC], sp[MAXC], ls[MAXC], t[MAXC], fp[MAXC], fls[MAXC];
	int32_t y, bad;
};

/* The sums one evaluation reduces: Dice group (class) c's sum s (0..2), or a total
 * (cross entropy's, focal's, the labels out of range). */
enum sum_kind { S_DICE, S_NLL, S_SMOOTH, S_WSUM, S_FOCAL, S_BAD };
struct sum {
	enum sum_kind kind;
	int c, s;
};

#define OP(o, a, b) mg_kir_op(k, MG_KOP_##o, a, b)

static int32_t cf(struct mg_kir *k, double v)
{
	return mg_kir_const(k, F32, v);
}

/* Item n's view of t from channel c (its leading `skip` axes dropped). */
static struct mg_tensor item_view(const struct mg_tensor *t, int skip, int64_t n, int64_t c)
{
	struct mg_tensor v = *t;
	v.offset += n * t->strides[0] + (skip == 2 ? c * t->strides[1] : 0);
	v.rank = t->rank - skip;
	for (int i = 0; i < v.rank; i++) {
		v.dims[i] = t->dims[i + skip];
		v.strides[i] = t->strides[i + skip];
	}
	return v;
}

/* q^e for float32 q >= 0: exp(e log q), 1 for e = 0 (pow(q, 0) is 1 even at q = 0). */
static int32_t power(struct mg_kir *k, int32_t q, double e)
{
	return e == 0 ? cf(k, 1) : OP(EXP, OP(MUL, cf(k, e), OP(LOG, q, -1)), -1);
}

/* log(1 + exp(v)) without overflow, float32 */
static int32_t softplus(struct mg_kir *k, int32_t v)
{
	return OP(ADD, OP(MAX, v, cf(k, 0)),
		  OP(LOG, OP(ADD, cf(k, 1), OP(EXP, OP(NEG, OP(ABS, v, -1), -1), -1)), -1));
}

static int32_t sigmoid(struct mg_kir *k, int32_t x)
{
	int32_t ex = OP(EXP, OP(NEG, OP(ABS, x, -1), -1), -1), d = OP(ADD, cf(k, 1), ex);
	return mg_kir_select(k, OP(GE, x, cf(k, 0)), OP(DIV, cf(k, 1), d), OP(DIV, ex, d));
}

/* The voxel's values into v: x is tensor tx, the target tensor tt. */
static void voxel(const struct gl *G, struct mg_kir *k, double *pv, int tx, int tt,
		  struct vox *v)
{
	const struct mg_loss_args *r = G->r;
	int64_t C = G->C;
	int32_t ox = mg_gen_offset(k, tx), ot = mg_gen_offset(k, tt);
	int32_t csx = mg_gen_param(k, pv, I64, (double)G->x->strides[1]);
	int32_t cst = mg_gen_param(k, pv, I64, G->tskip == 2 ? (double)G->t->strides[1] : 0);
	int32_t m = -1, z = -1, e[MAXC];
	for (int64_t c = 0; c < C; c++) {
		v->x[c] = mg_gen_gather(k, tx, ox, csx, c);
		m = c ? OP(MAX, m, v->x[c]) : v->x[c];
		/* the raw target's channel c (as float32: Dice's g, the CE probabilities) */
		v->t[c] = G->tskip == 2 && c < G->t->dims[1]
				  ? mg_kir_cast(k, F32, mg_gen_gather(k, tt, ot, cst, c)) : -1;
	}
	for (int64_t c = 0; c < C; c++) { /* softmax and log-softmax over every channel */
		e[c] = OP(EXP, OP(SUB, v->x[c], m), -1);
		z = c ? OP(ADD, z, e[c]) : e[c];
	}
	int32_t lz = OP(LOG, z, -1);
	int32_t lab = mg_kir_cast(k, F64, mg_kir_load(k, tt, ot, -1));
	v->y = OP(TRUNC, lab, -1);
	v->bad = OP(NOT, OP(AND, OP(GT, lab, mg_kir_const(k, F64, -1)),
			    OP(LT, lab, mg_kir_const(k, F64, (double)C))), -1);
	for (int64_t c = 0; c < C; c++) {
		v->sp[c] = OP(DIV, e[c], z);
		v->ls[c] = OP(SUB, OP(SUB, v->x[c], m), lz);
		if (r->softmax && C > 1)
			v->p[c] = v->sp[c];
		else if (r->sigmoid)
			v->p[c] = sigmoid(k, v->x[c]);
		else
			v->p[c] = v->x[c];
		v->g[c] = G->onehot ? mg_kir_cast(k, F32, OP(EQ, v->y, mg_kir_const(k, F64, (double)c)))
				    : v->t[c];
	}
	if (G->focal && r->use_softmax) { /* over channels c0.. only, as MONAI drops the first */
		int32_t fm = v->x[G->c0], fz = -1;
		for (int64_t c = G->c0 + 1; c < C; c++)
			fm = OP(MAX, fm, v->x[c]);
		for (int64_t c = G->c0; c < C; c++) {
			e[c] = OP(EXP, OP(SUB, v->x[c], fm), -1);
			fz = c > G->c0 ? OP(ADD, fz, e[c]) : e[c];
		}
		int32_t lfz = OP(LOG, fz, -1);
		for (int64_t c = G->c0; c < C; c++) {
			v->fp[c] = OP(DIV, e[c], fz);
			v->fls[c] = OP(SUB, OP(SUB, v->x[c], fm), lfz);
		}
	}
}

/* The focal term of class c >= c0 of the voxel (loss.c's focal()): its weight (alpha
 * times the class weight) into *aw, its value (without the weight) into *f and its
 * derivative (softmax form: by the log-softmax; sigmoid form: by x) into *d. */
static void focal_terms(const struct gl *G, struct mg_kir *k, const struct vox *v, int64_t c,
			int32_t *aw, int32_t *f, int32_t *d)
{
	const struct mg_loss_args *r = G->r;
	int sm = r->use_softmax;
	double ga = r->gamma;
	int64_t i = c - G->c0;
	const double *alpha = sm && !r->include_background && r->nalpha == 1 ? NULL : r->alpha;
	double cw = r->weight ? r->weight[r->nweight == 1 ? 0 : i] : 1;
	int32_t t = v->g[c], al;
	if (!alpha)
		al = cf(k, 1);
	else if (r->nalpha > 1)
		al = sm ? cf(k, alpha[i]) : mg_kir_select(k, OP(EQ, t, cf(k, 1)), cf(k, alpha[i]), cf(k, 1));
	else if (sm)
		al = cf(k, c == 0 ? 1 - alpha[0] : alpha[0]);
	else
		al = OP(ADD, OP(MUL, t, cf(k, alpha[0])),
			OP(MUL, OP(SUB, cf(k, 1), t), cf(k, 1 - alpha[0])));
	*aw = OP(MUL, al, cf(k, cw));
	int32_t x = v->x[c], one = cf(k, 1);
	if (sm) { /* f = -(1 - p)^ga lp t, d = -(1 - p)^ga + ga p lp (1 - p)^(ga - 1) */
		int32_t q = OP(SUB, one, v->fp[c]), lp = v->fls[c], qg = power(k, q, ga);
		*f = OP(MUL, OP(MUL, OP(NEG, qg, -1), lp), t);
		*d = OP(NEG, qg, -1);
		if (ga != 0)
			*d = OP(ADD, *d, OP(MUL, OP(MUL, OP(MUL, cf(k, ga), v->fp[c]), lp),
					    power(k, q, ga - 1)));
		return;
	}
	/* A = x (1 - t) + softplus(-x), z = x (1 - 2 t), B = exp(-ga softplus(-z)); f = A B,
	 * d = ((1 - t) - sigmoid(-x)) B + A ga B sigmoid(-z) (1 - 2 t) */
	int32_t u = OP(SUB, one, t), w = OP(SUB, one, OP(MUL, cf(k, 2), t));
	int32_t A = OP(ADD, OP(MUL, x, u), softplus(k, OP(NEG, x, -1))), z = OP(MUL, x, w);
	int32_t B = OP(EXP, OP(MUL, cf(k, -ga), softplus(k, OP(NEG, z, -1))), -1);
	*f = OP(MUL, A, B);
	*d = OP(ADD, OP(MUL, OP(SUB, u, sigmoid(k, OP(NEG, x, -1))), B),
		OP(MUL, OP(MUL, OP(MUL, OP(MUL, A, cf(k, ga)), B), sigmoid(k, OP(NEG, z, -1))), w));
}

/* Cross entropy's class weight c (1 without weights). */
static double ce_weight(const struct gl *G, int64_t c)
{
	return G->r->weight ? G->r->weight[c] : 1;
}

/* The per-voxel value of sum s (F64). */
static int32_t sum_value(const struct gl *G, struct mg_kir *k, const struct vox *v,
			 const struct sum *s)
{
	const struct mg_loss_args *r = G->r;
	int32_t val[MAXC], a;
	if (s->kind == S_BAD)
		return mg_kir_select(k, v->bad, mg_kir_const(k, F64, 1), mg_kir_const(k, F64, 0));
	if (s->kind == S_FOCAL) {
		int32_t tot = cf(k, 0), aw, f, d;
		for (int64_t c = G->c0; c < G->C; c++) {
			focal_terms(G, k, v, c, &aw, &f, &d);
			tot = OP(ADD, tot, OP(MUL, aw, f));
		}
		return mg_kir_cast(k, F64, tot);
	}
	if (s->kind == S_DICE) {
		int32_t p = v->p[s->c], g = v->g[s->c], d = OP(SUB, p, g);
		int sq = r->squared_pred, normed = sq || r->soft_label;
		int32_t t[3] = {normed ? (sq ? OP(MUL, p, p) : OP(ABS, p, -1)) : OP(MUL, p, g),
				normed ? (sq ? OP(MUL, g, g) : OP(ABS, g, -1)) : p,
				normed ? (sq ? OP(MUL, d, d) : OP(ABS, d, -1)) : g};
		return mg_kir_cast(k, F64, t[s->s]);
	}
	double eps = r->label_smoothing, C = (double)G->C;
	for (int64_t c = 0; c < G->C; c++) {
		double wc = ce_weight(G, c);
		if (s->kind == S_WSUM)
			val[c] = cf(k, wc);
		else if (s->kind == S_NLL || G->idx)
			val[c] = OP(MUL, cf(k, -wc), v->ls[c]);
		else /* -a_c ls_c, a_c = w_c (t_c (1 - eps) + eps / C) */
			val[c] = OP(MUL, OP(MUL, cf(k, -wc),
					    OP(ADD, OP(MUL, v->t[c], cf(k, 1 - eps)), cf(k, eps / C))),
				    v->ls[c]);
	}
	if (s->kind == S_SMOOTH) {
		a = val[0];
		for (int64_t c = 1; c < G->C; c++)
			a = OP(ADD, a, val[c]);
	} else
		a = mg_gen_pick(k, v->y, val, G->C, cf(k, 0));
	return mg_kir_cast(k, F64, a);
}

/* The index space and operands of a launch on item n (tensors ts[0..nt), each from
 * channel ch[i], leading axes skip[i]). */
static int launch(struct mg_kctx *k, struct mg_kir *kir, const double *pv,
		  const struct mg_tensor *const *ts, const int *skip, const int64_t *ch, int nt,
		  int64_t n, double *red)
{
	struct mg_kargs ka = {0};
	for (int i = 0; i < nt; i++) {
		struct mg_tensor v = item_view(ts[i], skip[i], n, ch[i]);
		mg_ktensor_set(&ka.t[i], &v);
		if (i == 0) {
			mg_gen_order(&v, kir->info.order);
			for (int d = 0; d < v.rank; d++)
				ka.dims[d] = v.dims[d];
		}
	}
	memcpy(ka.p, pv, sizeof ka.p);
	return mg_gen_run(k, kir, &ka, red);
}

/* Every sum of the evaluation: Dice groups' sums into dsum[3 g + s] (g the item's
 * group: (batch ? 0 : n) nc + class), the others into tot[kind]. */
static int run_sums(const struct gl *G, struct mg_kctx *k, double *dsum, double *tot)
{
	struct sum s[3 * MAXC + 4];
	int ns = 0;
	for (int64_t c = G->c0; G->dice && c < G->C; c++)
		for (int i = 0; i < 3; i++)
			s[ns++] = (struct sum){S_DICE, (int)c, i};
	if (G->ce) {
		if (G->idx)
			s[ns++] = (struct sum){S_NLL, 0, 0};
		if (!G->idx || G->r->label_smoothing != 0)
			s[ns++] = (struct sum){S_SMOOTH, 0, 0};
		if (G->idx && G->r->weight)
			s[ns++] = (struct sum){S_WSUM, 0, 0};
	}
	if (G->focal)
		s[ns++] = (struct sum){S_FOCAL, 0, 0};
	if (G->onehot || (G->ce && G->idx))
		s[ns++] = (struct sum){S_BAD, 0, 0};
	const struct mg_tensor *ts[2] = {G->x, G->t};
	const int skip[2] = {2, G->tskip};
	const int64_t ch[2] = {0, 0};
	int rc = 0;
	for (int first = 0; first < ns && !rc; first += MG_KMAX_RED) {
		int nr = ns - first < MG_KMAX_RED ? ns - first : MG_KMAX_RED;
		struct mg_arena ar = {0};
		struct mg_kir kir;
		double pv[MG_KMAX_PARAMS] = {0};
		struct vox v;
		mg_kir_init(&kir, &ar, G->name, G->sr);
		mg_kir_tensor(&kir, F32, G->sr);
		mg_kir_tensor(&kir, G->t->dtype, G->sr);
		voxel(G, &kir, pv, 0, 1, &v);
		for (int i = 0; i < nr; i++)
			mg_kir_reduce(&kir, MG_KRED_SUM, sum_value(G, &kir, &v, &s[first + i]), -1);
		for (int64_t n = 0; n < G->N && !rc; n++) {
			double red[MG_KMAX_RED];
			rc = launch(k, &kir, pv, ts, skip, ch, 2, n, red);
			for (int i = 0; i < nr && !rc; i++) {
				const struct sum *si = &s[first + i];
				if (si->kind == S_DICE)
					dsum[3 * ((G->r->batch ? 0 : n) * G->nc + si->c - G->c0) + si->s] +=
						red[i];
				else
					tot[si->kind] += red[i];
			}
		}
		mg_arena_free(&ar);
	}
	return rc;
}

/* d term / d p_c of the Dice term for class c >= c0 of the voxel, with the group's coefficients A, B from mg_loss_dice_finish: dtp, dfp, given as
 * parameters (d/dP and d/dD for MONAI's norms). */
static int32_t dice_dp(const struct gl *G, struct mg_kir *k, double *pv, const struct vox *v,
		       int64_t c, const double *coef)
{
	const struct mg_loss_args *r = G->r;
	double gtp = coef[0], gfp = coef[1];
	int32_t p = v->p[c], g = v->g[c];
	if (!r->squared_pred && !r->soft_label) /* gtp g + gfp (1 - g) - gfp g */
		return OP(SUB, OP(ADD, OP(MUL, mg_gen_param(k, pv, F32, gtp), g),
				  OP(MUL, mg_gen_param(k, pv, F32, gfp), OP(SUB, cf(k, 1), g))),
			  OP(MUL, mg_gen_param(k, pv, F32, gfp), g));
	/* dL/dP = gtp / 2, dL/dD = (2 gfp - gtp) / 2 (loss.c) */
	int32_t dP = mg_gen_param(k, pv, F32, gtp / 2), dD = mg_gen_param(k, pv, F32, gfp - gtp / 2);
	int32_t d = OP(SUB, p, g);
	if (r->squared_pred)
		return OP(ADD, OP(MUL, dP, OP(MUL, cf(k, 2), p)), OP(MUL, dD, OP(MUL, cf(k, 2), d)));
	int32_t zero = cf(k, 0);
	int32_t sp = OP(SUB, mg_kir_cast(k, F32, OP(GT, p, zero)), mg_kir_cast(k, F32, OP(LT, p, zero)));
	int32_t sd = OP(SUB, mg_kir_cast(k, F32, OP(GT, d, zero)), mg_kir_cast(k, F32, OP(LT, d, zero)));
	return OP(ADD, OP(MUL, dP, sp), OP(MUL, dD, sd));
}

/* dinput's channel `own` of item n into dx: the Dice term's gradient through its
 * activation, plus cross entropy's through the log-softmax, plus focal's; coef: the Dice
 * groups' coefficients, gce: -scale lambda_ce / M, gfo: scale lambda_focal / M (focal's). */
static int run_grad(const struct gl *G, struct mg_kctx *kc, const struct mg_tensor *dx,
		    int64_t n, int64_t own, const double *coef, double gce, double gfo)
{
	const struct mg_loss_args *r = G->r;
	int64_t C = G->C;
	struct mg_arena ar = {0};
	struct mg_kir kir;
	double pv[MG_KMAX_PARAMS] = {0};
	struct vox v;
	int32_t d[MAXC], out[MAXC];
	struct mg_kir *k = &kir;
	mg_kir_init(&kir, &ar, G->name, G->sr);
	mg_kir_tensor(&kir, F32, G->sr);
	mg_kir_tensor(&kir, F32, G->sr);
	mg_kir_tensor(&kir, G->t->dtype, G->sr);
	voxel(G, &kir, pv, 1, 2, &v);
	int32_t dot = cf(&kir, 0), sg = cf(&kir, 0), g[MAXC];
	for (int64_t c = 0; c < C; c++) {
		int64_t gi = (r->batch ? 0 : n) * G->nc + c - G->c0;
		d[c] = G->dice && c >= G->c0 ? dice_dp(G, &kir, pv, &v, c, coef + 3 * gi) : cf(&kir, 0);
		dot = mg_kir_op(&kir, MG_KOP_ADD, dot, mg_kir_op(&kir, MG_KOP_MUL, d[c], v.p[c]));
	}
	int32_t G_ce = mg_gen_param(&kir, pv, F32, gce);
	double eps = r->label_smoothing;
	for (int64_t c = 0; G->ce && c < C; c++) { /* g_c = gce a_c, cross entropy's d/dls_c */
		double wc = ce_weight(G, c);
		int32_t a = G->idx ? OP(ADD, OP(MUL, cf(k, (1 - eps) * wc),
						mg_kir_cast(k, F32, OP(EQ, v.y, mg_kir_const(k, F64, (double)c)))),
					 cf(k, eps / (double)C * wc))
				   : OP(MUL, cf(k, wc), OP(ADD, OP(MUL, v.t[c], cf(k, 1 - eps)),
							    cf(k, eps / (double)C)));
		g[c] = OP(MUL, G_ce, a);
		sg = OP(ADD, sg, g[c]);
	}
	/* focal: its d/dx (sigmoid form), or its d/dls (softmax form) and their sum */
	int32_t fd[MAXC], fsum = cf(k, 0), G_fo = G->focal ? mg_gen_param(k, pv, F32, gfo) : -1;
	for (int64_t c = G->c0; G->focal && c < C; c++) {
		int32_t aw, f, dd;
		focal_terms(G, k, &v, c, &aw, &f, &dd);
		fd[c] = OP(MUL, OP(MUL, G_fo, aw), dd);
		if (r->use_softmax)
			fd[c] = OP(MUL, fd[c], v.g[c]);
		fsum = OP(ADD, fsum, fd[c]);
	}
	for (int64_t c = 0; c < C; c++) {
		int32_t p = v.p[c];
		int32_t dd = !G->dice ? cf(k, 0)
			     : r->softmax && C > 1 ? OP(MUL, p, OP(SUB, d[c], dot))
			     : r->sigmoid ? OP(MUL, OP(MUL, d[c], p), OP(SUB, cf(k, 1), p))
			     : d[c];
		out[c] = G->ce ? OP(ADD, dd, OP(SUB, g[c], OP(MUL, v.sp[c], sg))) : dd;
		if (G->focal && c >= G->c0)
			out[c] = OP(ADD, out[c], r->use_softmax
					 ? OP(SUB, fd[c], OP(MUL, v.fp[c], fsum)) : fd[c]);
	}
	kir.store = mg_gen_pick(k, mg_gen_param(k, pv, I64, (double)own), out, C, cf(k, 0));
	const struct mg_tensor *ts[3] = {dx, G->x, G->t};
	const int skip[3] = {2, 2, G->tskip};
	const int64_t ch[3] = {own, 0, 0};
	int rc = launch(kc, &kir, pv, ts, skip, ch, 3, n, NULL);
	mg_arena_free(&ar);
	return rc;
}

/* Whether the generated kernels cover this evaluation; G filled in when they do. */
static int covered(const char *name, const struct mg_loss_args *r, const struct mg_val *in,
		   struct gl *G)
{
	const struct mg_tensor *x = &in[0].t, *t = &in[1].t;
	memset(G, 0, sizeof *G);
	G->name = name;
	if (x->dtype != F32 || mg_tensor_numel(x) == 0 || x->rank - 2 > MG_KMAX_RANK)
		return 0;
	G->r = r, G->x = x, G->t = t;
	G->N = x->dims[0], G->C = x->dims[1], G->sr = x->rank - 2;
	G->S = mg_tensor_numel(x) / G->N / G->C;
	G->c0 = mg_loss_first_channel(r, G->C), G->nc = G->C - G->c0;
	G->ng = (r->batch ? 1 : G->N) * G->nc;
	G->tskip = t->rank == x->rank ? 2 : 1;
	G->dice = r->kind == MG_LOSS_DICE || r->kind == MG_LOSS_DICE_CE;
	G->ce = r->kind == MG_LOSS_CE || r->kind == MG_LOSS_DICE_CE;
	G->focal = r->kind == MG_LOSS_FOCAL || r->kind == MG_LOSS_DICE_FOCAL;
	G->dice |= r->kind == MG_LOSS_DICE_FOCAL;
	G->onehot = (G->dice || G->focal) && r->to_onehot_y && G->C > 1;
	G->idx = G->tskip == 1 || t->dims[1] == 1;
	G->lam_dice = r->kind == MG_LOSS_DICE ? 1 : r->lambda_dice;
	G->lam_ce = r->kind == MG_LOSS_CE ? 1 : r->lambda_other;
	G->lam_focal = r->kind == MG_LOSS_FOCAL ? 1 : r->lambda_other;
	G->w = mg_loss_dice_weight(r, &G->nw);
	return G->C <= MAXC && !(G->ce && G->C == 1);
}

int mg_loss_gen(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	struct mg_loss_args r;
	struct gl G;
	int rc = mg_loss_take(L, grad, a, in, &r, k->err);
	if (rc)
		return rc;
	if (!k->backend || !covered(grad ? L->grad_name : L->name, &r, in, &G))
		return mg_loss_kernel(L, grad, a, in, out, k);
	double tot[S_BAD + 1] = {0}, *sums = calloc((size_t)G.ng * 3 + 1, sizeof *sums);
	if (!sums)
		return mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", G.name);
	rc = run_sums(&G, k, sums, tot);
	double scale = grad ? mg_dtype_load(in[2].t.dtype, mg_tensor_data(&in[2].t)) : 1, v = 0;
	double M = mg_loss_ce_divisor(&r, G.idx, r.weight ? tot[S_WSUM] : (double)(G.N * G.S),
				      G.N * G.S);
	double Mf = mg_loss_focal_divisor(&r, G.N, G.C, G.S);
	if (!rc && !tot[S_BAD]) {
		if (G.dice)
			v += G.lam_dice * mg_loss_dice_finish(&r, G.w, G.nw, G.ng, G.nc,
							      scale * G.lam_dice, sums);
		if (G.ce)
			v += G.lam_ce * mg_loss_ce_value(&r, G.C, G.idx, tot[S_NLL], tot[S_SMOOTH], M);
		if (G.focal)
			v += G.lam_focal * tot[S_FOCAL] / Mf;
	}
	struct mg_tensor dx = {0};
	if (!rc && !tot[S_BAD] && grad && !(rc = mg_tensor_alloc_like(&dx, G.x, F32, k->err)))
		for (int64_t n = 0; n < G.N && !rc; n++)
			for (int64_t c = 0; c < G.C && !rc; c++)
				rc = run_grad(&G, k, &dx, n, c, sums, -scale * G.lam_ce / M,
					      scale * G.lam_focal / Mf);
	free(sums);
	if (rc || tot[S_BAD]) { /* no code for a kernel, or labels the reference refuses */
		mg_tensor_release(&dx);
		if (rc && rc != MG_ERR_UNSUPPORTED)
			return rc;
		mg_err_clear(k->err);
		return mg_loss_kernel(L, grad, a, in, out, k);
	}
	return grad ? mg_val_set_result(&out[0], dx, G.x->meta, 0) : mg_loss_value(G.x, v, out, k->err);
}
