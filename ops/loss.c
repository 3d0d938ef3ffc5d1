/* loss.c: the loss ops' shared arguments, shape rules and evaluation (loss.h). Each
 * loss is a sum of terms (Dice, cross entropy or BCE, focal), each computed by one
 * function from the float64 logits x (N, C, S) and target t (N, Ct, S), S the spatial
 * voxels: it returns its value and, when the caller gives dx, adds scale * dterm/dx
 * there (its reductions first, then one pass over the voxels). The formulas are MONAI's
 * (monai/losses/dice.py, focal_loss.py) and torch's (cross_entropy, BCE with logits).
 * Read next: dice_loss.c, docs/networks.md ("Losses"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "nn.h"
#include "nn_act.h"

/* ---- arguments ---- */

static const struct mg_attr *arg(const struct mg_loss_op *L, const struct mg_attr *a,
				 const char *name)
{
	for (int i = 0; i < L->nattrs; i++)
		if (!strcmp(L->attrs[i].name, name))
			return &a[i];
	return NULL;
}

static int flag(const struct mg_loss_op *L, const struct mg_attr *a, const char *name, int dflt)
{
	const struct mg_attr *v = arg(L, a, name);
	return v ? (int)v->v.i : dflt;
}

static double num(const struct mg_loss_op *L, const struct mg_attr *a, const char *name,
		  double dflt)
{
	const struct mg_attr *v = arg(L, a, name);
	return v && !v->is_none ? v->v.f : dflt;
}

/* A float list argument (one number reads as a list of one): *n 0 when null. */
static const double *list(const struct mg_loss_op *L, const struct mg_attr *a, const char *name,
			  int *n)
{
	const struct mg_attr *v = arg(L, a, name);
	*n = v && !v->is_none ? v->n : 0;
	return *n ? v->v.floats : NULL;
}

int mg_loss_args(const struct mg_loss_op *L, const char *op, const struct mg_attr *a,
		 struct mg_loss_args *r, struct mg_err *e)
{
	memset(r, 0, sizeof *r);
	r->kind = L->kind;
	r->include_background = flag(L, a, "include_background", 1);
	r->to_onehot_y = flag(L, a, "to_onehot_y", 0);
	r->sigmoid = flag(L, a, "sigmoid", 0);
	r->softmax = flag(L, a, "softmax", 0);
	r->squared_pred = flag(L, a, "squared_pred", 0);
	r->jaccard = flag(L, a, "jaccard", 0);
	r->batch = flag(L, a, "batch", 0);
	r->soft_label = flag(L, a, "soft_label", 0);
	r->use_softmax = flag(L, a, "use_softmax", 0);
	const struct mg_attr *red = arg(L, a, "reduction");
	r->sum = red && !strcmp(red->v.s, "sum");
	r->smooth_nr = num(L, a, "smooth_nr", 1e-5);
	r->smooth_dr = num(L, a, "smooth_dr", 1e-5);
	r->lambda_dice = num(L, a, "lambda_dice", 1);
	r->lambda_other = num(L, a, L->kind == MG_LOSS_DICE_CE ? "lambda_ce" : "lambda_focal", 1);
	r->label_smoothing = num(L, a, "label_smoothing", 0);
	r->gamma = num(L, a, "gamma", 2);
	r->weight = list(L, a, "weight", &r->nweight);
	r->alpha = list(L, a, "alpha", &r->nalpha);
	const struct mg_attr *ii = arg(L, a, "ignore_index");
	if (ii && !ii->is_none && ii->v.i != -100)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: ignore_index %lld is not supported "
				  "(only -100, torch's default)", op, (long long)ii->v.i);
	if (red && !strcmp(red->v.s, "none"))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: reduction \"none\" is not supported: "
				  "a loss node's output is one element (\"mean\" or \"sum\")", op);
	if (r->sigmoid && r->softmax)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: sigmoid and softmax: Incompatible values: "
				  "more than 1 of [sigmoid=True, softmax=True, other_act is not None]",
				  op);
	if (r->lambda_dice < 0 || r->lambda_other < 0)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s should be no less than 0.0", op,
				  r->lambda_dice < 0 ? "lambda_dice"
				  : L->kind == MG_LOSS_DICE_CE ? "lambda_ce" : "lambda_focal");
	if (r->label_smoothing < 0 || r->label_smoothing > 1)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: label_smoothing %g: label_smoothing must be "
				  "between 0.0 and 1.0", op, r->label_smoothing);
	for (int i = 0; i < r->nweight; i++)
		if (r->weight[i] < 0)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: weight[%d] = %g: the value/values of "
					  "the `weight` should be no less than 0", op, i, r->weight[i]);
	return 0;
}

/* ---- shapes ---- */

int64_t mg_loss_first_channel(const struct mg_loss_args *r, int64_t C)
{
	return !r->include_background && C > 1 ? 1 : 0;
}

const double *mg_loss_dice_weight(const struct mg_loss_args *r, int *n)
{
	int skip = r->kind == MG_LOSS_DICE_CE && !r->include_background && r->nweight > 0;
	*n = r->nweight - skip;
	return r->weight ? r->weight + skip : NULL;
}

/* The argument checks that need the channel count C (known, > 0). */
static int check_channels(const struct mg_loss_args *r, const char *op, int64_t C,
			  struct mg_err *e)
{
	int64_t nc = C - mg_loss_first_channel(r, C);
	int dice = r->kind == MG_LOSS_DICE || r->kind == MG_LOSS_DICE_CE ||
		   r->kind == MG_LOSS_DICE_FOCAL;
	int focal = r->kind == MG_LOSS_FOCAL || r->kind == MG_LOSS_DICE_FOCAL;
	int ce = r->kind == MG_LOSS_DICE_CE || r->kind == MG_LOSS_CE;
	int nw;
	mg_loss_dice_weight(r, &nw);
	if (dice && r->weight && nc != 1 && nw != 1 && nw != nc)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has %d values for %lld classes: the "
				  "length of the `weight` sequence should be the same as the number "
				  "of classes (without the background when include_background is "
				  "false)", op, r->nweight, (long long)nc);
	if (ce && r->weight && C > 1 && r->nweight != C)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has %d values: cross entropy's weight "
				  "should be defined either for all %lld classes or no classes", op,
				  r->nweight, (long long)C);
	if (ce && r->weight && C == 1 && r->nweight != 1)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has %d values: for one channel it is "
				  "BCEWithLogitsLoss's pos_weight, one value", op, r->nweight);
	if (focal && r->weight && r->nweight != 1 && (nc == 1 || r->nweight != nc))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: weight has %d values for %lld classes: the "
				  "number of class_weight must match the number of output channels "
				  "(per-class weights need several)", op, r->nweight, (long long)nc);
	if (focal && r->nalpha > 1 && r->nalpha != nc)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: alpha has %d values: the length of alpha "
				  "must match the number of classes (%lld)", op, r->nalpha,
				  (long long)nc);
	return 0;
}

/* Input (rank xr, dims xd) and target (tr, td) against each other and the arguments;
 * a dim or rank < 0 is not known yet and passes. */
static int check_shapes(const struct mg_loss_args *r, const char *op, int xr, const int64_t *xd,
			int tr, const int64_t *td, struct mg_err *e)
{
	if (xr >= 0 && (xr < 3 || xr > MG_MAX_RANK))
		return mg_err_set(e, MG_ERR_SHAPE, "%s: input has rank %d; expected (N, C, "
				  "spatial...), rank 3 to %d", op, xr, MG_MAX_RANK);
	if (xr < 0 || tr < 0)
		return 0;
	/* torch's CrossEntropyLoss also takes class indices without the channel axis */
	int squeezed = r->kind == MG_LOSS_CE && tr == xr - 1;
	if (tr != xr && !squeezed)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: target has rank %d, input %d: the number of "
				  "dimensions for input and target should be the same (a target "
				  "that is not one-hot is (N, 1, spatial...))", op, tr, xr);
	for (int i = 0; i < xr; i++) {
		int j = squeezed && i > 0 ? i - 1 : i;
		if (i != 1 && xd[i] >= 0 && td[j] >= 0 && xd[i] != td[j])
			return mg_err_set(e, MG_ERR_SHAPE, "%s: target's dim %d is %lld, input's %lld: "
					  "batch and spatial sizes must match", op, j,
					  (long long)td[j], (long long)xd[i]);
	}
	int64_t C = xd[1], Ct = squeezed ? 1 : td[1];
	if (C < 0 || Ct < 0)
		return 0;
	if (Ct != 1 && Ct != C)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: target has %lld channels, input %lld: number "
				  "of channels for target is neither 1 (without one-hot encoding) nor "
				  "the same as input", op, (long long)Ct, (long long)C);
	int onehot = r->to_onehot_y && C > 1;
	if (onehot && Ct != 1)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: to_onehot_y needs a label target of one "
				  "channel, got %lld (labels should have a channel with length equal "
				  "to one)", op, (long long)Ct);
	if (r->kind != MG_LOSS_CE && !onehot && Ct != C)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: target has 1 channel, input %lld: ground "
				  "truth has different shape from input (a label target needs "
				  "to_onehot_y)", op, (long long)C);
	return check_channels(r, op, C, e);
}

int mg_loss_infer(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		  const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	const char *op = grad ? L->grad_name : L->name;
	struct mg_loss_args r;
	int rc = mg_loss_args(L, op, a, &r, e);
	for (int i = 0; i < 2 + grad && !rc; i++)
		rc = mg_op_infer_image(&in[i], op, e);
	if (rc || (rc = mg_nn_dtype(op, "input", in[0].dtype, e)) ||
	    (grad && (rc = mg_nn_dtype(op, "dloss", in[2].dtype, e))))
		return rc;
	if (grad && in[2].rank > 0)
		for (int i = 0; i < in[2].rank; i++)
			if (in[2].dims[i] > 1)
				return mg_err_set(e, MG_ERR_SHAPE, "%s: dloss must be one element", op);
	out[0] = in[0];
	if (!grad)
		out[0].rank = 0;
	return check_shapes(&r, op, in[0].rank, in[0].dims, in[1].rank, in[1].dims, e);
}

/* ---- evaluation ---- */

/* One evaluation: x (N, C, S), the raw target t (N, Ct, S), the target as (N, C, S) for
 * the Dice and focal terms (t itself or its one-hot), dx (NULL: value only). */
struct lx {
	const struct mg_loss_args *r;
	int64_t N, C, S, Ct;
	const double *x, *t, *T;
	double *dx;
	const char *op;
	struct mg_err *e;
};

static double sigmoid(double v)
{
	return v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v));
}

/* log(1 + exp(v)) without overflow */
static double softplus(double v)
{
	return fmax(v, 0) + log1p(exp(-fabs(v)));
}

/* Over channels c0..C-1 of voxel (n, s) of x: the log-softmax into ls, the softmax
 * into p (stride 1, C - c0 values each). */
static void log_softmax(const struct lx *l, int64_t n, int64_t s, int64_t c0, double *ls,
			double *p)
{
	const double *x = l->x + n * l->C * l->S + s;
	double m = -INFINITY, sum = 0;
	for (int64_t c = c0; c < l->C; c++)
		m = fmax(m, x[c * l->S]);
	for (int64_t c = c0; c < l->C; c++)
		sum += p[c - c0] = exp(x[c * l->S] - m);
	double lse = log(sum);
	for (int64_t c = c0; c < l->C; c++) {
		ls[c - c0] = x[c * l->S] - m - lse;
		p[c - c0] /= sum;
	}
}

/* dx[(n, c, s)] += g_c - p_c sum_k g_k over c0..C-1: the backward of log_softmax. */
static void log_softmax_back(const struct lx *l, int64_t n, int64_t s, int64_t c0,
			     const double *g, const double *p)
{
	double sg = 0;
	for (int64_t c = c0; c < l->C; c++)
		sg += g[c - c0];
	double *dx = l->dx + n * l->C * l->S + s;
	for (int64_t c = c0; c < l->C; c++)
		dx[c * l->S] += g[c - c0] - p[c - c0] * sg;
}

/* The target one-hot encoded: T (N, C, S) from labels t (N, 1, S) truncated to
 * integers (torch's .long()); a label outside 0..C-1 is refused, as torch's scatter. */
static int one_hot(const struct lx *l, double *T)
{
	for (int64_t n = 0; n < l->N; n++)
		for (int64_t s = 0; s < l->S; s++) {
			double v = l->t[n * l->S + s];
			if (!(v > -1 && v < (double)l->C))
				return mg_err_set(l->e, MG_ERR_SHAPE, "%s: target label %g at item %lld, "
						  "voxel %lld is outside 0..%lld (to_onehot_y)", l->op, v,
						  (long long)n, (long long)s, (long long)l->C - 1);
			T[(n * l->C + (int64_t)v) * l->S + s] = 1;
		}
	return 0;
}

/* The Dice (or Jaccard) term on T with class weights w (nw of them, 0: none): MONAI's
 * DiceLoss after its one-hot step. Per group (item and class, or class with batch):
 * ord 1 with hard labels tp = sum(pg), fp = sum(p) - tp, fn = sum(g) - tp; otherwise
 * MONAI's norms P = sum|p|^o, G = sum|g|^o, D = sum|p-g|^o, tp = (P + G - D) / 2,
 * fp = P - tp, fn = G - tp. f = 1 - (2tp + nr) / (2tp + k (fp + fn) + dr), k = 1 (Dice)
 * or 2 (Jaccard). */
double mg_loss_dice_finish(const struct mg_loss_args *r, const double *w, int nw, int64_t ng,
			  int64_t nc, double scale, double *sums)
{
	int normed = r->squared_pred || r->soft_label;
	double k = r->jaccard ? 2 : 1, total = 0;
	for (int64_t gi = 0; gi < ng; gi++) {
		double *sg = sums + 3 * gi;
		double tp = normed ? (sg[0] + sg[1] - sg[2]) / 2 : sg[0];
		double fp = normed ? sg[0] - tp : sg[1] - tp, fn = normed ? sg[1] - tp : sg[2] - tp;
		double nu = 2 * tp + r->smooth_nr, de = 2 * tp + k * (fp + fn) + r->smooth_dr;
		int64_t c = gi % nc;
		double wc = w && nc != 1 ? w[nw == 1 ? 0 : c] : 1;
		total += wc * (1 - nu / de);
		double gf = scale * wc / (r->sum ? 1 : (double)ng);
		sg[0] = gf * (-2 / de + 2 * nu / (de * de));
		sg[1] = gf * k * nu / (de * de);
	}
	return r->sum ? total : total / (double)ng;
}

static int dice(const struct lx *l, const double *w, int nw, double scale, double *val)
{
	const struct mg_loss_args *r = l->r;
	int64_t N = l->N, C = l->C, S = l->S, c0 = mg_loss_first_channel(r, C), nc = C - c0;
	int64_t ng = (r->batch ? 1 : N) * nc;
	int normed = r->squared_pred || r->soft_label, o = r->squared_pred ? 2 : 1;
	double *p = malloc((size_t)(N * C * S + 1) * sizeof *p);
	double *sums = calloc((size_t)ng * 3 + 1, sizeof *sums);
	double *dp = l->dx ? calloc((size_t)(N * C * S + 1), sizeof *dp) : NULL;
	if (!p || !sums || (l->dx && !dp)) {
		free(p), free(sums), free(dp);
		return mg_err_set(l->e, MG_ERR_NOMEM, "%s: out of memory", l->op);
	}
	int soft = r->softmax && C > 1;
	for (int64_t n = 0; n < N; n++)
		for (int64_t s = 0; s < S; s++) {
			double m = -INFINITY, z = 0;
			const double *x = l->x + n * C * S + s;
			double *pv = p + n * C * S + s;
			for (int64_t c = 0; soft && c < C; c++)
				m = fmax(m, x[c * S]);
			for (int64_t c = 0; c < C; c++)
				z += pv[c * S] = soft ? exp(x[c * S] - m)
					    : r->sigmoid ? sigmoid(x[c * S]) : x[c * S];
			for (int64_t c = 0; soft && c < C; c++)
				pv[c * S] /= z;
		}
	for (int64_t n = 0; n < N; n++)
		for (int64_t c = c0; c < C; c++) {
			double *sg = sums + 3 * ((r->batch ? 0 : n) * nc + c - c0);
			const double *pv = p + (n * C + c) * S, *g = l->T + (n * C + c) * S;
			for (int64_t s = 0; s < S; s++)
				if (normed) {
					sg[0] += o == 2 ? pv[s] * pv[s] : fabs(pv[s]);
					sg[1] += o == 2 ? g[s] * g[s] : fabs(g[s]);
					sg[2] += o == 2 ? (pv[s] - g[s]) * (pv[s] - g[s])
							: fabs(pv[s] - g[s]);
				} else {
					sg[0] += pv[s] * g[s];
					sg[1] += pv[s];
					sg[2] += g[s];
				}
		}
	*val = mg_loss_dice_finish(r, w, nw, ng, nc, scale, sums);
	for (int64_t n = 0; dp && n < N; n++)
		for (int64_t c = c0; c < C; c++) {
			const double *sg = sums + 3 * ((r->batch ? 0 : n) * nc + c - c0);
			const double *pv = p + (n * C + c) * S, *g = l->T + (n * C + c) * S;
			double *d = dp + (n * C + c) * S, gtp = sg[0], gf = sg[1];
			/* normed: dL/dP = (gtp + gfp - gfn) / 2, dL/dD = (gfp + gfn - gtp) / 2 */
			double dP = gtp / 2, dD = (2 * gf - gtp) / 2;
			for (int64_t s = 0; s < S; s++)
				if (!normed)
					d[s] = gtp * g[s] + gf * (1 - g[s]) - gf * g[s];
				else if (o == 2)
					d[s] = dP * 2 * pv[s] + dD * 2 * (pv[s] - g[s]);
				else
					d[s] = dP * ((pv[s] > 0) - (pv[s] < 0)) +
					       dD * ((pv[s] > g[s]) - (pv[s] < g[s]));
		}
	for (int64_t n = 0; dp && n < N; n++)
		for (int64_t s = 0; s < S; s++) {
			const double *pv = p + n * C * S + s, *d = dp + n * C * S + s;
			double *dx = l->dx + n * C * S + s, dot = 0;
			for (int64_t c = 0; soft && c < C; c++)
				dot += d[c * S] * pv[c * S];
			for (int64_t c = 0; c < C; c++)
				dx[c * S] += soft ? pv[c * S] * (d[c * S] - dot)
					     : r->sigmoid ? d[c * S] * pv[c * S] * (1 - pv[c * S])
					     : d[c * S];
		}
	free(p), free(sums), free(dp);
	return 0;
}

/* torch's BCEWithLogitsLoss(pos_weight) of one channel, mean over all voxels or sum:
 * l = (1 - y) x + (1 + (pw - 1) y) softplus(-x). */
static double bce(const struct lx *l, double scale)
{
	double pw = l->r->weight ? l->r->weight[0] : 1, total = 0;
	double M = l->r->sum ? 1 : (double)(l->N * l->S);
	for (int64_t i = 0; i < l->N * l->S; i++) {
		double x = l->x[i], y = l->t[i], b = 1 + (pw - 1) * y;
		total += (1 - y) * x + b * softplus(-x);
		if (l->dx)
			l->dx[i] += scale / M * ((1 - y) - b * sigmoid(-x));
	}
	return total / M;
}

double mg_loss_ce_divisor(const struct mg_loss_args *r, int idx, double wsum, int64_t voxels)
{
	return r->sum ? 1 : idx ? wsum : (double)voxels;
}

double mg_loss_ce_value(const struct mg_loss_args *r, int64_t C, int idx, double nll,
			double smooth, double M)
{
	double eps = r->label_smoothing;
	return idx ? ((1 - eps) * nll + eps / (double)C * smooth) / M : smooth / M;
}

/* torch's CrossEntropyLoss(weight, label_smoothing) on the logits over all C channels:
 * class indices (a one-channel target truncated as .long()) or class probabilities (a
 * C-channel target); BCE for one channel, as DiceCELoss does. */
static int cross_entropy(const struct lx *l, double scale, double *val)
{
	const struct mg_loss_args *r = l->r;
	int64_t N = l->N, C = l->C, S = l->S;
	if (C == 1) {
		*val = bce(l, scale);
		return 0;
	}
	double eps = r->label_smoothing, *ls = malloc((size_t)C * 3 * sizeof *ls);
	if (!ls)
		return mg_err_set(l->e, MG_ERR_NOMEM, "%s: out of memory", l->op);
	double *p = ls + C, *g = ls + 2 * C;
	int idx = l->Ct == 1;
	/* the mean's divisor: the weights of the targets' classes (indices), or the voxels
	 * (probabilities) */
	double M = 0, nll = 0, smooth = 0;
	for (int64_t i = 0; idx && i < N * S; i++) {
		double v = l->t[i];
		if (!(v > -1 && v < (double)C)) {
			free(ls);
			return mg_err_set(l->e, MG_ERR_SHAPE, "%s: target class %g at voxel %lld is out "
					  "of bounds (0..%lld)", l->op, v, (long long)i, (long long)C - 1);
		}
		M += r->weight ? r->weight[(int64_t)v] : 1;
	}
	M = mg_loss_ce_divisor(r, idx, M, N * S);
	for (int64_t n = 0; n < N; n++)
		for (int64_t s = 0; s < S; s++) {
			log_softmax(l, n, s, 0, ls, p);
			int64_t y = idx ? (int64_t)l->t[n * S + s] : -1;
			for (int64_t c = 0; c < C; c++) {
				double wc = r->weight ? r->weight[c] : 1;
				/* the coefficient of -ls[c] */
				double a = idx ? (1 - eps) * wc * (c == y) + eps / (double)C * wc
					       : wc * (l->t[(n * C + c) * S + s] * (1 - eps) + eps / (double)C);
				if (idx && c == y)
					nll -= wc * ls[c];
				smooth -= (idx ? wc : a) * ls[c];
				g[c] = -scale * a / M;
			}
			if (l->dx)
				log_softmax_back(l, n, s, 0, g, p);
		}
	*val = mg_loss_ce_value(r, C, idx, nll, smooth, M);
	free(ls);
	return 0;
}

double mg_loss_focal_divisor(const struct mg_loss_args *r, int64_t N, int64_t C, int64_t S)
{
	return r->sum ? (double)S : (double)(N * (C - mg_loss_first_channel(r, C)) * S);
}

/* MONAI's FocalLoss on T after its one-hot step, over channels c0..: the sigmoid form
 * (A B, A = x (1 - t) + softplus(-x), B = sigmoid(x (1 - 2t))^gamma) or the softmax form
 * (-(1 - p)^gamma log p t, the softmax over the kept channels only, as MONAI drops the
 * background first), alpha and class weights; "sum" averages the voxels and sums items
 * and classes (MONAI's average_spatial_dims), "mean" averages all. */
static int focal(const struct lx *l, double scale, double *val)
{
	const struct mg_loss_args *r = l->r;
	int64_t N = l->N, C = l->C, S = l->S, c0 = mg_loss_first_channel(r, C), nc = C - c0;
	int sm = r->use_softmax;
	double ga = r->gamma, *ls = malloc((size_t)nc * 3 * sizeof *ls), total = 0;
	if (!ls)
		return mg_err_set(l->e, MG_ERR_NOMEM, "%s: out of memory", l->op);
	double *p = ls + nc, *g = ls + 2 * nc;
	/* a scalar alpha is dropped by the softmax form without the background (MONAI warns) */
	const double *alpha = sm && !r->include_background && r->nalpha == 1 ? NULL : r->alpha;
	double M = mg_loss_focal_divisor(r, N, C, S);
	for (int64_t n = 0; n < N; n++)
		for (int64_t s = 0; s < S; s++) {
			if (sm)
				log_softmax(l, n, s, c0, ls, p);
			for (int64_t c = c0; c < C; c++) {
				int64_t i = (n * C + c) * S + s;
				double x = l->x[i], t = l->T[i], f, d;
				double cw = r->weight ? r->weight[r->nweight == 1 ? 0 : c - c0] : 1;
				double al = !alpha ? 1
					    : r->nalpha > 1 ? (sm || t == 1 ? alpha[c - c0] : 1)
					    : sm ? (c == 0 ? 1 - alpha[0] : alpha[0])
					    : t * alpha[0] + (1 - t) * (1 - alpha[0]);
				if (sm) {
					double q = 1 - p[c - c0], lp = ls[c - c0];
					f = -pow(q, ga) * lp * t;
					d = -pow(q, ga) + (ga != 0 ? ga * p[c - c0] * lp * pow(q, ga - 1) : 0);
					g[c - c0] = scale * al * cw * t * d / M;
				} else {
					double A = x * (1 - t) + softplus(-x), z = x * (1 - 2 * t);
					double B = exp(-ga * softplus(-z));
					f = A * B;
					d = ((1 - t) - sigmoid(-x)) * B + A * ga * B * sigmoid(-z) * (1 - 2 * t);
					if (l->dx)
						l->dx[i] += scale * al * cw * d / M;
				}
				total += al * cw * f;
			}
			if (sm && l->dx)
				log_softmax_back(l, n, s, c0, g, p);
		}
	*val = total / M;
	free(ls);
	return 0;
}

/* The loss of l's kind; its gradient times scale added to l->dx when that is set. */
static int evaluate(struct lx *l, double scale, double *val)
{
	const struct mg_loss_args *r = l->r;
	double *T = NULL, a = 0, b = 0;
	int rc = 0;
	if (r->to_onehot_y && l->C > 1 && r->kind != MG_LOSS_CE) {
		if (!(T = calloc((size_t)(l->N * l->C * l->S + 1), sizeof *T)))
			return mg_err_set(l->e, MG_ERR_NOMEM, "%s: out of memory", l->op);
		rc = one_hot(l, T);
	}
	l->T = T ? T : l->t;
	int nw;
	const double *w = mg_loss_dice_weight(r, &nw);
	switch (r->kind) {
	case MG_LOSS_DICE:
		rc = rc ? rc : dice(l, w, nw, scale, &a);
		*val = a;
		break;
	case MG_LOSS_DICE_CE:
		rc = rc ? rc : dice(l, w, nw, scale * r->lambda_dice, &a);
		rc = rc ? rc : cross_entropy(l, scale * r->lambda_other, &b);
		*val = r->lambda_dice * a + r->lambda_other * b;
		break;
	case MG_LOSS_FOCAL:
		rc = rc ? rc : focal(l, scale, &a);
		*val = a;
		break;
	case MG_LOSS_DICE_FOCAL:
		rc = rc ? rc : dice(l, w, nw, scale * r->lambda_dice, &a);
		rc = rc ? rc : focal(l, scale * r->lambda_other, &b);
		*val = r->lambda_dice * a + r->lambda_other * b;
		break;
	case MG_LOSS_CE:
		rc = rc ? rc : cross_entropy(l, scale, &a);
		*val = a;
		break;
	}
	free(T);
	return rc;
}

int mg_loss_take(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		 const struct mg_val *in, struct mg_loss_args *r, struct mg_err *e)
{
	const char *op = grad ? L->grad_name : L->name;
	int rc = mg_loss_args(L, op, a, r, e);
	char what[96];
	snprintf(what, sizeof what, "%s target", op);
	if (rc || (rc = mg_act_input(op, "input", &in[0], e)) ||
	    (rc = mg_op_expect_tensor(&in[1], what, e)) ||
	    (grad && (rc = mg_act_input(op, "dloss", &in[2], e))))
		return rc;
	const struct mg_tensor *x = &in[0].t, *t = &in[1].t;
	if (grad && mg_tensor_numel(&in[2].t) != 1)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: dloss has %lld elements; expected one", op,
				  (long long)mg_tensor_numel(&in[2].t));
	return check_shapes(r, op, x->rank, x->dims, t->rank, t->dims, e);
}

int mg_loss_value(const struct mg_tensor *x, double v, struct mg_val *out, struct mg_err *e)
{
	struct mg_tensor y;
	int rc = mg_tensor_alloc(&y, x->dtype, 0, x->dims, e);
	if (rc)
		return rc;
	mg_dtype_store(y.dtype, mg_tensor_data(&y), v);
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

int mg_loss_kernel(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		   struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	const char *op = grad ? L->grad_name : L->name;
	struct mg_err *e = k->err;
	struct mg_loss_args r;
	int rc = mg_loss_take(L, grad, a, in, &r, e);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t, *t = &in[1].t;
	struct lx l = {.r = &r, .N = x->dims[0], .C = x->dims[1], .S = 1, .op = op, .e = e};
	for (int i = 2; i < x->rank; i++)
		l.S *= x->dims[i];
	l.Ct = t->rank == x->rank ? t->dims[1] : 1;
	struct mg_tensor fx, ft = {0}, fd = {0};
	l.x = mg_act_f64(x, &fx, e);
	l.t = l.x ? mg_act_f64(t, &ft, e) : NULL;
	double scale = 1, v = 0;
	if (l.t && grad && !mg_tensor_alloc(&fd, MG_DTYPE_F64, x->rank, x->dims, e)) {
		scale = mg_dtype_load(in[2].t.dtype, mg_tensor_data(&in[2].t));
		l.dx = mg_tensor_data(&fd);
		memset(l.dx, 0, (size_t)mg_tensor_numel(x) * sizeof *l.dx);
	}
	rc = !l.t || (grad && !l.dx) ? e->code : evaluate(&l, scale, &v);
	mg_tensor_release(&fx);
	mg_tensor_release(&ft);
	if (rc) {
		mg_tensor_release(&fd);
		return rc;
	}
	return grad ? mg_act_result(&fd, x, out, e) : mg_loss_value(x, v, out, e);
}

int mg_loss_grad(struct mg_grad *c, int grad_op)
{
	if (c->need & 2)
		c->dx[1] = -1;
	if (!(c->need & 1))
		return 0;
	int32_t in[3] = {c->x[0], c->x[1], c->dy[0]};
	return (c->dx[0] = c->node(c, grad_op, in, 3, 1, c->attrs)) < 0 ? c->e->code : 0;
}
