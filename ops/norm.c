/* norm.c: what the normalization ops share (norm.h): their inputs' layout and checks,
 * the float64 reference loops (statistics, normalization, backward, running update),
 * the kernels and type rules of the forward and gradient ops, and the gradient rule.
 * Statistics are two-pass (the mean, then the mean squared deviation) in float64 and
 * every output is rounded once to its dtype.
 * Read next: batch_norm.c, group_norm.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "norm.h"

void mg_norm_spec_init(struct mg_norm_spec *s, const char *op, int nout, double eps)
{
	memset(s, 0, sizeof *s);
	s->op = op;
	s->nout = nout;
	s->eps = eps;
	s->prank = s->srank = -1;
}

void mg_norm_geom_nc(struct mg_norm_spec *s, int rank, const int64_t *xd, int64_t gn)
{
	int64_t sp = 1;
	for (int i = 2; i < rank; i++)
		sp = sp < 0 || xd[i] < 0 ? -1 : sp * xd[i];
	s->g = (struct mg_norm_geom){.n = xd[0], .c = xd[1], .s = sp, .gn = gn,
				      .cg = gn && xd[1] >= 0 ? xd[1] / gn : 1};
}

/* ---- the reference loops on contiguous float64 arrays ---------------------------------- */

static int64_t ngroups(const struct mg_norm_geom *g) { return g->gn ? g->n * g->gn : g->c; }

static int64_t group_size(const struct mg_norm_geom *g) { return g->gn ? g->cg * g->s : g->n * g->s; }

static int64_t group_of(const struct mg_norm_geom *g, int64_t n, int64_t c)
{
	return g->gn ? n * g->gn + c / g->cg : c;
}

/* mean[G] and the biased var[G] of each group of x. */
static void stats(const struct mg_norm_geom *g, const double *x, double *mean, double *var)
{
	int64_t G = ngroups(g);
	double m = (double)group_size(g);
	memset(mean, 0, (size_t)G * sizeof *mean);
	memset(var, 0, (size_t)G * sizeof *var);
	for (int pass = 0; pass < 2; pass++) {
		for (int64_t n = 0; n < g->n; n++)
			for (int64_t c = 0; c < g->c; c++) {
				int64_t gi = group_of(g, n, c);
				const double *p = x + (n * g->c + c) * g->s;
				for (int64_t j = 0; j < g->s; j++) {
					if (pass == 0)
						mean[gi] += p[j];
					else
						var[gi] += (p[j] - mean[gi]) * (p[j] - mean[gi]);
				}
			}
		for (int64_t gi = 0; gi < G; gi++) {
			if (pass == 0)
				mean[gi] /= m;
			else
				var[gi] /= m;
		}
	}
}

/* y = (x - mean) invstd w + b per group and channel (w, b NULL: 1, 0). */
static void normalize(const struct mg_norm_geom *g, const double *x, const double *mean,
		      const double *invstd, const double *w, const double *b, double *y)
{
	for (int64_t n = 0; n < g->n; n++)
		for (int64_t c = 0; c < g->c; c++) {
			int64_t gi = group_of(g, n, c), o = (n * g->c + c) * g->s;
			double wc = w ? w[c] : 1, bc = b ? b[c] : 0;
			for (int64_t j = 0; j < g->s; j++)
				y[o + j] = (x[o + j] - mean[gi]) * invstd[gi] * wc + bc;
		}
}

/* The gradients of sum(dy * y) for y = normalize(x): with xh = (x - mean) invstd and
 * dyw = dy w, dw[c] = sum dy xh and db[c] = sum dy over channel c (NULL: not wanted);
 * dx = invstd (dyw - mean_g(dyw) - xh mean_g(dyw xh)) through the batch statistics of
 * each group g (batch), else invstd dyw. sums holds 2 G doubles of scratch. */
static void backward(const struct mg_norm_geom *g, int batch, const double *x, const double *dy,
		     const double *mean, const double *invstd, const double *w, double *dx,
		     double *dw, double *db, double *sums)
{
	int64_t G = ngroups(g);
	double m = (double)group_size(g), *sdy = sums, *sdyx = sums + G;
	memset(sums, 0, 2 * (size_t)G * sizeof *sums);
	if (dw)
		memset(dw, 0, (size_t)g->c * sizeof *dw);
	if (db)
		memset(db, 0, (size_t)g->c * sizeof *db);
	for (int64_t n = 0; n < g->n; n++)
		for (int64_t c = 0; c < g->c; c++) {
			int64_t gi = group_of(g, n, c), o = (n * g->c + c) * g->s;
			double wc = w ? w[c] : 1;
			for (int64_t j = 0; j < g->s; j++) {
				double xh = (x[o + j] - mean[gi]) * invstd[gi];
				sdy[gi] += dy[o + j] * wc;
				sdyx[gi] += dy[o + j] * wc * xh;
				if (dw)
					dw[c] += dy[o + j] * xh;
				if (db)
					db[c] += dy[o + j];
			}
		}
	for (int64_t n = 0; n < g->n; n++)
		for (int64_t c = 0; c < g->c; c++) {
			int64_t gi = group_of(g, n, c), o = (n * g->c + c) * g->s;
			double wc = w ? w[c] : 1;
			for (int64_t j = 0; j < g->s; j++) {
				double xh = (x[o + j] - mean[gi]) * invstd[gi], d = dy[o + j] * wc;
				if (batch)
					d -= (sdy[gi] + xh * sdyx[gi]) / m;
				dx[o + j] = invstd[gi] * d;
			}
		}
}

/* rm = (1 - f) rm + f mean and rv = (1 - f) rv + f var * m / (m - 1) (unbiased) per
 * channel, the batch statistics of a channel averaged over its groups (InstanceNorm: the
 * samples, as torch averages its per-sample updates). */
static void update_running(const struct mg_norm_geom *g, const double *mean, const double *var,
			   double f, double *rm, double *rv)
{
	int64_t G = ngroups(g), per = G / g->c;
	double m = (double)group_size(g);
	for (int64_t c = 0; c < g->c; c++) {
		double am = 0, av = 0;
		for (int64_t gi = c; gi < G; gi += g->c)
			am += mean[gi], av += var[gi] * m / (m - 1);
		rm[c] = (1 - f) * rm[c] + f * am / (double)per;
		rv[c] = (1 - f) * rv[c] + f * av / (double)per;
	}
}

/* ---- inputs --------------------------------------------------------------------------- */

/* Which input is which for this spec and n inputs. */
static int layout(const struct mg_norm_spec *s, int n, struct mg_norm_ix *ix,
		  struct mg_err *e)
{
	int k = 1;
	ix->w = s->affine ? k++ : -1;
	ix->b = s->affine && s->bias ? k++ : -1;
	ix->rm = s->track ? k++ : -1;
	ix->rv = s->track ? k++ : -1;
	ix->nbt = s->track && s->nbt && n == k + 1 ? k++ : -1;
	if (n != k)
		return mg_err_set(e, MG_ERR_SHAPE, "%s with these arguments takes %d inputs (x%s%s%s%s); "
				  "got %d", s->op, k, ix->w >= 0 ? ", weight" : "",
				  ix->b >= 0 ? ", bias" : "",
				  s->track ? ", running_mean, running_var" : "",
				  s->track && s->nbt ? " and optionally num_batches_tracked" : "", n);
	if (s->update && s->momentum < 0 && ix->nbt < 0)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: momentum=null (a cumulative average) needs "
				  "num_batches_tracked as the input after running_var", s->op);
	return 0;
}

static const char *input_name(const struct mg_norm_ix *ix, int i)
{
	return i == 0 ? "x" : i == ix->w ? "weight" : i == ix->b ? "bias" : i == ix->rm ? "running_mean"
	       : i == ix->rv ? "running_var" : "num_batches_tracked";
}

static void shape_text(char *buf, size_t n, int rank, const int64_t *d)
{
	int k = snprintf(buf, n, "(");
	for (int i = 0; i < rank && k > 0 && (size_t)k < n; i++)
		k += snprintf(buf + k, n - (size_t)k, "%s%lld", i ? ", " : "", (long long)d[i]);
	if (k > 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, rank == 1 ? ",)" : ")");
}

/* t's shape is (rank, d) where both are known (-1 entries match anything). */
static int check_shape(const char *op, const char *what, const struct mg_type *t, int rank,
		       const int64_t *d, struct mg_err *e)
{
	if (t->rank < 0 || rank < 0)
		return 0;
	int ok = t->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = t->dims[i] < 0 || d[i] < 0 || t->dims[i] == d[i];
	if (ok)
		return 0;
	char got[128], want[128];
	shape_text(got, sizeof got, t->rank, t->dims);
	shape_text(want, sizeof want, rank, d);
	return mg_err_set(e, MG_ERR_SHAPE, "%s: %s has shape %s; expected %s", op, what, got, want);
}

/* A float32 or float64 operand of x's dtype. */
static int check_float(const char *op, const char *what, const struct mg_type *t,
		       const struct mg_type *x, struct mg_err *e)
{
	if (t->dtype < 0)
		return 0;
	if (t->dtype != MG_DTYPE_F32 && t->dtype != MG_DTYPE_F64)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s is %s; expected float32 (or float64)", op,
				  what, mg_dtype_name(t->dtype));
	if (x->dtype >= 0 && t->dtype != x->dtype)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: %s is %s but x is %s", op, what,
				  mg_dtype_name(t->dtype), mg_dtype_name(x->dtype));
	return 0;
}

/* The forward node's inputs t[0..n) against spec s (x's rank already given to it). */
static int check_inputs(const struct mg_norm_spec *s, const struct mg_norm_ix *ix,
			const struct mg_type *t,
			int n, struct mg_err *e)
{
	int rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		if (t[i].kind == MG_VK_STRINGS)
			return mg_op_infer_image(&t[i], s->op, e);
		if (i == ix->nbt) {
			int64_t one = 1;
			if (t[i].rank > 1 || (t[i].rank == 1 && t[i].dims[0] >= 0 && t[i].dims[0] != 1))
				rc = check_shape(s->op, "num_batches_tracked", &t[i], 1, &one, e);
			continue;
		}
		rc = check_float(s->op, input_name(ix, i), &t[i], &t[0], e);
		if (!rc && (i == ix->w || i == ix->b))
			rc = check_shape(s->op, input_name(ix, i), &t[i], s->prank, s->pdims, e);
		if (!rc && (i == ix->rm || i == ix->rv))
			rc = check_shape(s->op, input_name(ix, i), &t[i], t[0].rank < 0 ? -1 : 1,
					 &s->nrun, e);
	}
	return rc;
}

static struct mg_type type_of(const struct mg_tensor *t)
{
	struct mg_type y = {.kind = MG_VK_TENSOR, .dtype = (int)t->dtype, .rank = t->rank};
	memcpy(y.dims, t->dims, sizeof y.dims);
	return y;
}

int mg_norm_take_inputs(mg_norm_spec_fn *spec, const struct mg_attr *a, const struct mg_val *in,
		       int n, struct mg_norm_spec *s, struct mg_norm_ix *ix, struct mg_err *e)
{
	int rc = spec(a, -1, NULL, s, e); /* the op's name and its attributes' checks */
	struct mg_type t[MG_STEP_MAXIO];
	if (!rc && n < 1)
		rc = mg_op_expect_tensor(&in[0], s->op, e);
	for (int i = 0; i < n && !rc; i++) {
		char what[64];
		snprintf(what, sizeof what, "%s input %d", s->op, i);
		if (!(rc = mg_op_expect_tensor(&in[i], what, e)))
			t[i] = type_of(&in[i].t);
	}
	if (rc || (rc = spec(a, t[0].rank, t[0].dims, s, e)) || (rc = layout(s, n, ix, e)))
		return rc;
	return check_inputs(s, ix, t, n, e);
}

/* ---- the forward op ---------------------------------------------------------------------- */

int mg_norm_infer(mg_norm_spec_fn *spec, const struct mg_attr *a, const struct mg_type *in,
		  struct mg_type *out, struct mg_err *e)
{
	struct mg_norm_spec s;
	struct mg_norm_ix ix;
	int n = mg_op_ntypes(in), x_known = in[0].kind == MG_VK_TENSOR && in[0].rank >= 0;
	int rc = spec(a, x_known ? in[0].rank : -1, in[0].dims, &s, e);
	if (rc || (rc = layout(&s, n, &ix, e)) || (rc = check_inputs(&s, &ix, in, n, e)))
		return rc;
	out[0] = in[0];
	out[1] = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = in[0].dtype, .rank = s.srank};
	memcpy(out[1].dims, s.sdims, sizeof s.sdims);
	out[2] = out[1];
	for (int i = 3; i < s.nout; i++) /* absent unless tracked */
		memset(&out[i], 0, sizeof out[i]);
	if (s.nout > 3 && s.track)
		out[3] = in[ix.rm], out[4] = in[ix.rv];
	if (s.nout > 5 && ix.nbt >= 0)
		out[5] = in[ix.nbt];
	return 0;
}

/* A contiguous float64 copy of t (NULL: nothing, *out left empty). */
static int f64_of(struct mg_tensor *out, const struct mg_tensor *t, struct mg_err *e)
{
	if (!t)
		return 0;
	int rc = mg_tensor_alloc(out, MG_DTYPE_F64, t->rank, t->dims, e);
	if (!rc)
		mg_tensor_convert(out, t);
	return rc;
}

static double *f64_data(const struct mg_tensor *t) { return t->buf ? mg_tensor_data(t) : NULL; }

/* out = src (float64, the same dims) as a new tensor of dtype dt, laid out like `like`
 * (NULL: contiguous). */
static int emit(struct mg_val *out, const struct mg_tensor *src, enum mg_dtype dt,
		const struct mg_tensor *like, struct mg_err *e)
{
	struct mg_tensor t;
	int rc = like ? mg_tensor_alloc_like(&t, like, dt, e)
		      : mg_tensor_alloc(&t, dt, src->rank, src->dims, e);
	if (rc)
		return rc;
	mg_tensor_convert(&t, src);
	mg_val_set_tensor(out, t, NULL);
	return 0;
}

enum { T_X, T_W, T_B, T_Y, T_MEAN, T_VAR, T_N };

int mg_norm_running_outputs(const struct mg_norm_spec *s, const struct mg_norm_ix *ix,
			    struct mg_val *in, struct mg_val *out, const double *mean,
			    const double *var, struct mg_err *e)
{
	int rc = 0;
	struct mg_tensor t[2] = {{0}};
	if (!s->update) {
		if (!(rc = mg_val_share(&out[3], &in[ix->rm], e)))
			rc = mg_val_share(&out[4], &in[ix->rv], e);
		if (!rc && ix->nbt >= 0 && s->nout > 5)
			rc = mg_val_share(&out[5], &in[ix->nbt], e);
		return rc;
	}
	const struct mg_tensor *nbt = ix->nbt >= 0 ? &in[ix->nbt].t : NULL;
	double count = nbt ? mg_dtype_load(nbt->dtype, mg_tensor_data(nbt)) + 1 : 0;
	if ((rc = f64_of(&t[0], &in[ix->rm].t, e)) || (rc = f64_of(&t[1], &in[ix->rv].t, e)))
		goto done;
	update_running(&s->g, mean, var, s->momentum < 0 ? 1 / count : s->momentum,
		       f64_data(&t[0]), f64_data(&t[1]));
	if ((rc = emit(&out[3], &t[0], in[ix->rm].t.dtype, NULL, e)) ||
	    (rc = emit(&out[4], &t[1], in[ix->rv].t.dtype, NULL, e)))
		goto done;
	if (nbt && s->nout > 5) {
		struct mg_tensor c;
		if ((rc = mg_tensor_alloc(&c, nbt->dtype, nbt->rank, nbt->dims, e)))
			goto done;
		mg_dtype_store(c.dtype, mg_tensor_data(&c), count);
		mg_val_set_tensor(&out[5], c, NULL);
	}
done:
	mg_tensor_release(&t[0]);
	mg_tensor_release(&t[1]);
	return rc;
}

int mg_norm_kernel(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
		   struct mg_val *out, struct mg_kctx *k)
{
	struct mg_err *e = k->err;
	struct mg_norm_spec s;
	struct mg_norm_ix ix;
	int n = mg_op_nvals(in);
	int rc = mg_norm_take_inputs(spec, a, in, n, &s, &ix, e);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	const struct mg_norm_geom *g = &s.g;
	int64_t G = ngroups(g);
	struct mg_tensor t[T_N] = {{0}};
	if ((rc = f64_of(&t[T_X], x, e)) || (rc = f64_of(&t[T_Y], x, e)) ||
	    (rc = f64_of(&t[T_W], ix.w >= 0 ? &in[ix.w].t : NULL, e)) ||
	    (rc = f64_of(&t[T_B], ix.b >= 0 ? &in[ix.b].t : NULL, e)) ||
	    (rc = mg_tensor_alloc(&t[T_MEAN], MG_DTYPE_F64, s.srank, s.sdims, e)) ||
	    (rc = mg_tensor_alloc(&t[T_VAR], MG_DTYPE_F64, s.srank, s.sdims, e)))
		goto done;
	double *mean = f64_data(&t[T_MEAN]), *var = f64_data(&t[T_VAR]);
	if (s.batch_stats) {
		stats(g, f64_data(&t[T_X]), mean, var);
	} else { /* the running statistics, per group (InstanceNorm: repeated per sample) */
		const struct mg_tensor *rm = &in[ix.rm].t, *rv = &in[ix.rv].t;
		for (int64_t gi = 0; gi < G; gi++) {
			int64_t c = gi % g->c;
			mean[gi] = mg_dtype_load(rm->dtype, (char *)mg_tensor_data(rm) +
							    c * rm->strides[0] * (int64_t)mg_dtype_size(rm->dtype));
			var[gi] = mg_dtype_load(rv->dtype, (char *)mg_tensor_data(rv) +
							   c * rv->strides[0] * (int64_t)mg_dtype_size(rv->dtype));
		}
	}
	/* var becomes invstd once the running update has read it */
	if (s.track && (rc = mg_norm_running_outputs(&s, &ix, in, out, mean, var, e)))
		goto done;
	for (int64_t gi = 0; gi < G; gi++)
		var[gi] = 1 / sqrt(var[gi] + s.eps);
	normalize(g, f64_data(&t[T_X]), mean, var, f64_data(&t[T_W]), f64_data(&t[T_B]),
		  f64_data(&t[T_Y]));
	if (!(rc = emit(&out[0], &t[T_Y], x->dtype, x, e)) &&
	    !(rc = emit(&out[1], &t[T_MEAN], x->dtype, NULL, e)))
		rc = emit(&out[2], &t[T_VAR], x->dtype, NULL, e);
done:
	for (int i = 0; i < T_N; i++)
		mg_tensor_release(&t[i]);
	if (rc)
		for (int i = 0; i < s.nout; i++)
			mg_val_release(&out[i]);
	return rc;
}

/* ---- the gradient op ------------------------------------------------------------------------ */

/* The gradient node's inputs t[0..n) against the forward's spec s. */
static int check_grad_inputs(const struct mg_norm_spec *s, const struct mg_type *t, int n,
			     struct mg_err *e)
{
	static const char *const names[] = {"dy", "x", "mean", "invstd", "weight"};
	int want = 4 + (s->affine != 0), rc = 0;
	if (n != want)
		return mg_err_set(e, MG_ERR_SHAPE, "%sGrad takes dy, x, mean, invstd%s; got %d inputs",
				  s->op, s->affine ? ", weight" : "", n);
	for (int i = 0; i < n && !rc; i++)
		rc = check_float(s->op, names[i], &t[i], &t[MG_NORM_G_X], e);
	if (!rc)
		rc = check_shape(s->op, "dy", &t[MG_NORM_G_DY], t[MG_NORM_G_X].rank, t[MG_NORM_G_X].dims, e);
	for (int i = MG_NORM_G_MEAN; i <= MG_NORM_G_INVSTD && !rc; i++)
		rc = check_shape(s->op, names[i], &t[i], s->srank, s->sdims, e);
	if (!rc && s->affine)
		rc = check_shape(s->op, "weight", &t[MG_NORM_G_W], s->prank, s->pdims, e);
	return rc;
}

int mg_norm_grad_infer(mg_norm_spec_fn *spec, const struct mg_attr *a,
		       const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	struct mg_norm_spec s;
	int n = mg_op_ntypes(in), rc = spec(a, in[MG_NORM_G_X].rank, in[MG_NORM_G_X].dims, &s, e);
	if (rc || (rc = check_grad_inputs(&s, in, n, e)))
		return rc;
	out[0] = in[MG_NORM_G_X];
	memset(&out[1], 0, 2 * sizeof *out);
	if (s.affine)
		out[1] = in[MG_NORM_G_W];
	if (s.affine && s.bias)
		out[2] = in[MG_NORM_G_W];
	return 0;
}

int mg_norm_take_grad_inputs(mg_norm_spec_fn *spec, const struct mg_attr *a,
			     const struct mg_val *in, struct mg_norm_spec *s, struct mg_err *e)
{
	struct mg_type ty[MG_STEP_MAXIO];
	int n = mg_op_nvals(in), rc = spec(a, -1, NULL, s, e);
	for (int i = 0; i < n && !rc; i++) {
		char what[64];
		snprintf(what, sizeof what, "%sGrad input %d", s->op, i);
		if (!(rc = mg_op_expect_tensor(&in[i], what, e)))
			ty[i] = type_of(&in[i].t);
	}
	if (!rc && n < 2)
		rc = check_grad_inputs(s, ty, n, e); /* the count's message */
	if (rc || (rc = spec(a, ty[MG_NORM_G_X].rank, ty[MG_NORM_G_X].dims, s, e)))
		return rc;
	return check_grad_inputs(s, ty, n, e);
}

int mg_norm_grad_kernel(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
			struct mg_val *out, struct mg_kctx *k)
{
	struct mg_err *e = k->err;
	struct mg_norm_spec s;
	int rc = mg_norm_take_grad_inputs(spec, a, in, &s, e);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[MG_NORM_G_X].t;
	const struct mg_norm_geom *g = &s.g;
	struct mg_tensor t[8] = {{0}}; /* dy x mean invstd w dx dw db */
	if ((rc = f64_of(&t[0], &in[MG_NORM_G_DY].t, e)) || (rc = f64_of(&t[1], x, e)) ||
	    (rc = f64_of(&t[2], &in[MG_NORM_G_MEAN].t, e)) ||
	    (rc = f64_of(&t[3], &in[MG_NORM_G_INVSTD].t, e)) ||
	    (rc = f64_of(&t[4], s.affine ? &in[MG_NORM_G_W].t : NULL, e)) ||
	    (rc = f64_of(&t[5], x, e)) ||
	    (s.affine && (rc = mg_tensor_alloc(&t[6], MG_DTYPE_F64, s.prank, s.pdims, e))) ||
	    (s.affine && s.bias && (rc = mg_tensor_alloc(&t[7], MG_DTYPE_F64, s.prank, s.pdims, e))))
		goto done;
	double *sums = malloc(2 * (size_t)ngroups(g) * sizeof *sums + 1);
	if (!sums) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "%sGrad: out of memory", s.op);
		goto done;
	}
	backward(g, s.batch_stats, f64_data(&t[1]), f64_data(&t[0]), f64_data(&t[2]),
		 f64_data(&t[3]), f64_data(&t[4]), f64_data(&t[5]), f64_data(&t[6]),
		 f64_data(&t[7]), sums);
	free(sums);
	rc = emit(&out[0], &t[5], x->dtype, x, e);
	if (!rc && s.affine)
		rc = emit(&out[1], &t[6], x->dtype, NULL, e);
	if (!rc && s.affine && s.bias)
		rc = emit(&out[2], &t[7], x->dtype, NULL, e);
done:
	for (int i = 0; i < 8; i++)
		mg_tensor_release(&t[i]);
	if (rc)
		for (int i = 0; i < 3; i++)
			mg_val_release(&out[i]);
	return rc;
}

int mg_norm_grad(mg_norm_spec_fn *spec, int grad_op, struct mg_grad *c)
{
	struct mg_norm_spec s;
	struct mg_norm_ix ix;
	int rc = spec(c->attrs, -1, NULL, &s, c->e);
	if (rc || (rc = layout(&s, c->nin, &ix, c->e)))
		return rc;
	for (int i = 0; i < c->nin; i++)
		c->dx[i] = -1;
	for (int j = 1; j < c->nout; j++)
		if (c->dy[j] >= 0)
			return mg_err_set(c->e, MG_ERR_UNSUPPORTED, "%s: the loss depends on its output "
					  "%d (a statistic); only y (output 0) is differentiated, "
					  "as torch does", s.op, j);
	if (!s.batch_stats && (c->need & ((1u << ix.rm) | (1u << ix.rv))))
		return mg_err_set(c->e, MG_ERR_UNSUPPORTED, "%s: no gradient for running_mean and "
				  "running_var (torch treats the running statistics as "
				  "non-differentiable buffers)", s.op);
	unsigned mine = 1u | (ix.w >= 0 ? 1u << ix.w : 0) | (ix.b >= 0 ? 1u << ix.b : 0);
	if (c->dy[0] < 0 || !(c->need & mine))
		return 0;
	int32_t in[5] = {c->dy[0], c->x[0], c->y[1], c->y[2]};
	if (ix.w >= 0)
		in[4] = c->x[ix.w];
	int32_t v = c->node(c, grad_op, in, ix.w >= 0 ? 5 : 4, 3, c->attrs);
	if (v < 0)
		return c->e->code ? c->e->code : MG_ERR_INTERNAL;
	c->dx[0] = v;
	if (ix.w >= 0)
		c->dx[ix.w] = v + 1;
	if (ix.b >= 0)
		c->dx[ix.b] = v + 2;
	return 0;
}
