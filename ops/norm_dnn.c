/* norm_dnn.c: the normalization ops' oneDNN kernels (norm.h's `gen`), one forward and one
 * backward for every norm, driven by its spec as the reference is. BatchNorm is oneDNN's
 * batch normalization on x as it is (any strides). InstanceNorm, GroupNorm and LayerNorm
 * normalize groups of consecutive elements of contiguous x: oneDNN's layer normalization
 * without scale of x seen as (n * gn, cg * s), one row a group (x of other strides is
 * copied to contiguous first: oneDNN's batch normalization of the groups as channels runs
 * its reference loops, 20x slower), then their per-channel affine map in a plain C loop;
 * the backward feeds dy * weight to that layer normalization's backward and sums dweight
 * and dbias per channel in double.
 * Float32 throughout. The saved invstd goes back to oneDNN as the variance 1 / invstd^2 -
 * eps (computed in double).
 * Read next: norm.h, runtime/dnn.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "norm.h"

static int64_t ngroups(const struct mg_norm_geom *g) { return g->gn ? g->n * g->gn : g->c; }

/* t (contiguous, n elements) as a vector. */
static struct mg_tensor flat(const struct mg_tensor *t, int64_t n)
{
	struct mg_tensor v = *t;
	v.rank = 1;
	v.dims[0] = n;
	v.strides[0] = 1;
	return v;
}

/* Contiguous t as the groups' layer-normalization input (n gn, cg s): one row a group. */
static struct mg_tensor group_view(const struct mg_tensor *t, const struct mg_norm_geom *g)
{
	struct mg_tensor v = *t;
	int64_t G = g->n * g->gn, m = g->cg * g->s;
	v.rank = 2;
	v.dims[0] = G, v.dims[1] = m;
	v.strides[0] = m, v.strides[1] = 1;
	return v;
}

/* t itself when contiguous, else a contiguous copy in *tmp (NULL with e set on failure). */
static const struct mg_tensor *dense(const struct mg_tensor *t, struct mg_tensor *tmp,
				     struct mg_err *e)
{
	return mg_tensor_is_contiguous(t) ? t : mg_tensor_contiguous(tmp, t, e) ? NULL : tmp;
}

/* A new float32 tensor laid out like `like` (grouped: contiguous, the layout the group view
 * needs). */
static int alloc_act(struct mg_tensor *t, const struct mg_tensor *like, int grouped,
		     struct mg_err *e)
{
	return grouped ? mg_tensor_alloc(t, MG_DTYPE_F32, like->rank, like->dims, e)
		       : mg_tensor_alloc_like(t, like, MG_DTYPE_F32, e);
}

/* out = the contiguous result r in x's memory order (r itself when x is contiguous). */
static int like_x(struct mg_val *out, struct mg_tensor *r, const struct mg_tensor *x,
		  struct mg_err *e)
{
	struct mg_tensor t;
	if (mg_tensor_is_contiguous(x)) {
		mg_val_set_tensor(out, *r, NULL);
		memset(r, 0, sizeof *r);
		return 0;
	}
	int rc = mg_tensor_alloc_like(&t, x, MG_DTYPE_F32, e);
	if (rc)
		return rc;
	mg_tensor_convert(&t, r);
	mg_tensor_release(r);
	mg_val_set_tensor(out, t, NULL);
	return 0;
}

/* y = y w[c] + b[c] over contiguous (n, c, s) (w, b NULL: 1, 0). */
static void affine(const struct mg_norm_geom *g, float *y, const float *w, const float *b)
{
	for (int64_t n = 0; n < g->n; n++)
		for (int64_t c = 0; c < g->c; c++) {
			float wc = w ? w[c] : 1, bc = b ? b[c] : 0, *p = y + (n * g->c + c) * g->s;
			for (int64_t j = 0; j < g->s; j++)
				p[j] = p[j] * wc + bc;
		}
}

/* dyw = dy w[c] over contiguous (n, c, s). */
static void scale_dy(const struct mg_norm_geom *g, const float *dy, const float *w, float *dyw)
{
	for (int64_t n = 0; n < g->n; n++)
		for (int64_t c = 0; c < g->c; c++) {
			int64_t o = (n * g->c + c) * g->s;
			for (int64_t j = 0; j < g->s; j++)
				dyw[o + j] = dy[o + j] * w[c];
		}
}

/* dw[c] = sum dy (x - mean) invstd and db[c] = sum dy over n and s (db NULL: not
 * wanted), in double. */
static void affine_grad(const struct mg_norm_geom *g, const float *dy, const float *x,
			const float *mean, const float *invstd, float *dw, float *db)
{
	for (int64_t c = 0; c < g->c; c++) {
		double sw = 0, sb = 0;
		for (int64_t n = 0; n < g->n; n++) {
			int64_t gi = n * g->gn + c / g->cg, o = (n * g->c + c) * g->s;
			double a = 0, d = 0;
			float m = mean[gi];
			for (int64_t j = 0; j < g->s; j++)
				a += (double)dy[o + j] * (x[o + j] - m), d += dy[o + j];
			sw += a * invstd[gi], sb += d;
		}
		dw[c] = (float)sw;
		if (db)
			db[c] = (float)sb;
	}
}

static float *fdata(const struct mg_tensor *t) { return t ? mg_tensor_data(t) : NULL; }

enum { T_X, T_W, T_B, T_RM, T_RV, T_Y, T_MEAN, T_INVSTD, T_VAR, T_N };

/* The forward on oneDNN; t holds every tensor it makes (the caller releases them). */
static int forward(const struct mg_norm_spec *s, const struct mg_norm_ix *ix, struct mg_val *in,
		   struct mg_val *out, struct mg_tensor *t, struct mg_err *e)
{
	const struct mg_norm_geom *g = &s->g;
	const struct mg_tensor *x0 = &in[0].t;
	int grouped = g->gn > 0, rc;
	int64_t G = ngroups(g);
	const struct mg_tensor *x = grouped ? dense(x0, &t[T_X], e)
					    : mg_nn_dnn_operand(x0, &t[T_X], e);
	const struct mg_tensor *w = ix->w >= 0 ? mg_nn_dnn_operand(&in[ix->w].t, &t[T_W], e) : NULL;
	const struct mg_tensor *b = ix->b >= 0 ? mg_nn_dnn_operand(&in[ix->b].t, &t[T_B], e) : NULL;
	if (!x || (ix->w >= 0 && !w) || (ix->b >= 0 && !b))
		return e->code;
	if ((rc = alloc_act(&t[T_Y], x, grouped, e)) ||
	    (rc = mg_tensor_alloc(&t[T_MEAN], MG_DTYPE_F32, s->srank, s->sdims, e)) ||
	    (rc = mg_tensor_alloc(&t[T_INVSTD], MG_DTYPE_F32, s->srank, s->sdims, e)) ||
	    (rc = mg_tensor_alloc(&t[T_VAR], MG_DTYPE_F32, 1, &G, e)))
		return rc;
	float *mean = fdata(&t[T_MEAN]), *var = fdata(&t[T_VAR]), *invstd = fdata(&t[T_INVSTD]);
	if (!s->batch_stats) { /* the running statistics, per group (InstanceNorm: per sample) */
		const struct mg_tensor *rm = &in[ix->rm].t, *rv = &in[ix->rv].t;
		for (int64_t gi = 0; gi < G; gi++) {
			int64_t c = gi % g->c;
			mean[gi] = fdata(rm)[c * rm->strides[0]];
			var[gi] = fdata(rv)[c * rv->strides[0]];
		}
	}
	struct mg_tensor xv = grouped ? group_view(x, g) : *x, yv = grouped ? group_view(&t[T_Y], g)
									     : t[T_Y];
	struct mg_tensor mv = flat(&t[T_MEAN], G), vv = flat(&t[T_VAR], G);
	struct mg_dnn_norm bn = {.layer = grouped, .eps = s->eps, .global = !s->batch_stats,
				 .x = &xv, .mean = &mv, .var = &vv, .scale = grouped ? NULL : w,
				 .shift = grouped ? NULL : b};
	if ((rc = mg_dnn_norm_fwd(&bn, &yv, e)))
		return rc;
	if (grouped && (w || b))
		affine(g, fdata(&t[T_Y]), fdata(w), fdata(b));
	if (s->update) { /* the running update reads the batch's statistics in double */
		double *dm = malloc(2 * (size_t)G * sizeof *dm);
		if (!dm)
			return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", s->op);
		for (int64_t gi = 0; gi < G; gi++)
			dm[gi] = mean[gi], dm[G + gi] = var[gi];
		rc = mg_norm_running_outputs(s, ix, in, out, dm, dm + G, e);
		free(dm);
	} else if (s->track) {
		rc = mg_norm_running_outputs(s, ix, in, out, NULL, NULL, e);
	}
	if (rc)
		return rc;
	for (int64_t gi = 0; gi < G; gi++)
		invstd[gi] = (float)(1 / sqrt((double)var[gi] + s->eps));
	if (grouped) {
		if ((rc = like_x(&out[0], &t[T_Y], x0, e)))
			return rc;
	} else {
		mg_val_set_tensor(&out[0], t[T_Y], NULL);
		memset(&t[T_Y], 0, sizeof t[T_Y]);
	}
	mg_val_set_tensor(&out[1], t[T_MEAN], NULL);
	mg_val_set_tensor(&out[2], t[T_INVSTD], NULL);
	memset(&t[T_MEAN], 0, 2 * sizeof *t);
	return 0;
}

/* rc after releasing the temporaries t[0..nt) and, on failure, the outputs. */
static int finish(int rc, int nout, struct mg_tensor *t, int nt, struct mg_val *out)
{
	for (int i = 0; i < nt; i++)
		mg_tensor_release(&t[i]);
	if (rc)
		for (int i = 0; i < nout; i++)
			mg_val_release(&out[i]);
	return rc;
}

int mg_norm_kernel_gen(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
		       struct mg_val *out, struct mg_kctx *k)
{
	if (!mg_nn_use_dnn(in, k))
		return mg_norm_kernel(spec, a, in, out, k);
	struct mg_norm_spec s;
	struct mg_norm_ix ix;
	struct mg_tensor t[T_N] = {{0}};
	int rc = mg_norm_take_inputs(spec, a, in, mg_op_nvals(in), &s, &ix, k->err);
	if (rc)
		return rc;
	/* oneDNN without a primitive for this case: the reference */
	rc = finish(forward(&s, &ix, in, out, t, k->err), s.nout, t, T_N, out);
	if (rc != MG_ERR_UNSUPPORTED)
		return rc;
	mg_err_clear(k->err);
	return mg_norm_kernel(spec, a, in, out, k);
}

enum { B_X, B_DY, B_W, B_MEAN, B_INVSTD, B_VAR, B_DYW, B_DX, B_DW, B_DB, B_N };

static int backward(const struct mg_norm_spec *s, struct mg_val *in, struct mg_val *out,
		    struct mg_tensor *t, struct mg_err *e)
{
	const struct mg_norm_geom *g = &s->g;
	const struct mg_tensor *x0 = &in[MG_NORM_G_X].t, *dy0 = &in[MG_NORM_G_DY].t;
	int grouped = g->gn > 0, rc;
	int64_t G = ngroups(g);
	const struct mg_tensor *x = grouped ? dense(x0, &t[B_X], e)
					    : mg_nn_dnn_operand(x0, &t[B_X], e);
	const struct mg_tensor *dy = !x ? NULL : grouped ? dense(dy0, &t[B_DY], e)
							 : mg_nn_dnn_operand(dy0, &t[B_DY], e);
	const struct mg_tensor *w = s->affine && dy ? mg_nn_dnn_operand(&in[MG_NORM_G_W].t, &t[B_W], e)
						   : NULL;
	const struct mg_tensor *mean = dy ? dense(&in[MG_NORM_G_MEAN].t, &t[B_MEAN], e) : NULL;
	const struct mg_tensor *invstd = mean ? dense(&in[MG_NORM_G_INVSTD].t, &t[B_INVSTD], e)
					      : NULL;
	if (!invstd || (s->affine && !w))
		return e->code;
	if ((rc = mg_tensor_alloc(&t[B_VAR], MG_DTYPE_F32, 1, &G, e)) ||
	    (rc = alloc_act(&t[B_DX], x, grouped, e)) ||
	    (s->affine && (rc = mg_tensor_alloc(&t[B_DW], MG_DTYPE_F32, s->prank, s->pdims, e))) ||
	    (s->affine && s->bias &&
	     (rc = mg_tensor_alloc(&t[B_DB], MG_DTYPE_F32, s->prank, s->pdims, e))) ||
	    (grouped && w && (rc = alloc_act(&t[B_DYW], x, 1, e))))
		return rc;
	float *var = fdata(&t[B_VAR]);
	for (int64_t gi = 0; gi < G; gi++) {
		double is = fdata(invstd)[gi];
		var[gi] = (float)(1 / (is * is) - s->eps);
	}
	struct mg_tensor mv = flat(mean, G), vv = flat(&t[B_VAR], G);
	struct mg_dnn_norm bn = {.layer = grouped, .eps = s->eps, .global = !s->batch_stats,
				 .x = x, .mean = &mv, .var = &vv, .scale = grouped ? NULL : w};
	if (!grouped) {
		rc = mg_dnn_norm_bwd(&bn, dy, &t[B_DX], w ? &t[B_DW] : NULL,
				      t[B_DB].buf ? &t[B_DB] : NULL, e);
	} else {
		if (w)
			scale_dy(g, fdata(dy), fdata(w), fdata(&t[B_DYW]));
		struct mg_tensor xv = group_view(x, g), dxv = group_view(&t[B_DX], g);
		struct mg_tensor dyv = group_view(w ? &t[B_DYW] : dy, g);
		bn.x = &xv;
		if (!(rc = mg_dnn_norm_bwd(&bn, &dyv, &dxv, NULL, NULL, e)) && w)
			affine_grad(g, fdata(dy), fdata(x), fdata(mean), fdata(invstd),
				    fdata(&t[B_DW]), t[B_DB].buf ? fdata(&t[B_DB]) : NULL);
	}
	if (rc)
		return rc;
	if (grouped) {
		if ((rc = like_x(&out[0], &t[B_DX], x0, e)))
			return rc;
	} else {
		mg_val_set_tensor(&out[0], t[B_DX], NULL);
		memset(&t[B_DX], 0, sizeof t[B_DX]);
	}
	for (int i = 0; i < 2; i++)
		if (t[B_DW + i].buf) {
			mg_val_set_tensor(&out[1 + i], t[B_DW + i], NULL);
			memset(&t[B_DW + i], 0, sizeof t[B_DW + i]);
		}
	return 0;
}

int mg_norm_grad_kernel_gen(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
			    struct mg_val *out, struct mg_kctx *k)
{
	if (!mg_nn_use_dnn(&in[MG_NORM_G_X], k))
		return mg_norm_grad_kernel(spec, a, in, out, k);
	struct mg_norm_spec s;
	struct mg_tensor t[B_N] = {{0}};
	int rc = mg_norm_take_grad_inputs(spec, a, in, &s, k->err);
	if (rc)
		return rc;
	rc = finish(backward(&s, in, out, t, k->err), 3, t, B_N, out);
	if (rc != MG_ERR_UNSUPPORTED)
		return rc;
	mg_err_clear(k->err);
	return mg_norm_grad_kernel(spec, a, in, out, k);
}
