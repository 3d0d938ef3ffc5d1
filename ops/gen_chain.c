/* gen_chain.c: the generated kernels of a run of elementwise ops (one op, or a
 * FusedElementwise chain): "reductions first, then one pass" (docs/fusion.md).
 *
 * For each member with statistics (op.h's reduce/map), in chain order, and for each of
 * its passes: one kernel reads the run's input, evaluates the earlier members' maps per
 * voxel (their statistics known by then) and reduces the member's own input; then one
 * kernel evaluates every member and stores the output. A run without statistics is that
 * last kernel alone.
 *
 * A member that wants percentiles (op.h's quantiles) first gets them by an exact
 * selection, a few histogram kernels over its input (gen_select.c), then its passes.
 *
 * Groups: when a member wants statistics per channel, every kernel runs once per
 * channel on that channel's view (the same IR, so one compiled kernel; its parameters
 * differ), and a member with whole-image statistics combines the channels' partial
 * results in channel order; a reduction pass whose kernel and parameters are the same
 * for every channel is one launch instead, a per-channel member's reductions kept per
 * index of the channel axis (one_launch). Otherwise each kernel runs once over the
 * whole image.
 * Reductions are deterministic for a shape: the launcher's slices and their combining
 * order depend on the shape only (runtime/kernel.c). */
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

struct chain {
	const struct mg_opdef *const *defs;
	const struct mg_attr *const *attrs;
	int n;
	const struct mg_tensor *x;
	int64_t groups;            /* kernels per pass: 1, or x's channels */
	struct mg_gen_stats *st;   /* [member][group] */
};

/* A tensor kernel IR can address: rank 1..MG_KMAX_RANK, not empty. */
static int addressable(const struct mg_val *v)
{
	return v->kind == MG_VK_TENSOR && v->t.rank >= 1 && v->t.rank <= MG_KMAX_RANK &&
	       mg_tensor_numel(&v->t) > 0;
}

static struct mg_gen_stats *stats(struct chain *c, int member, int64_t g)
{
	return &c->st[(int64_t)member * c->groups + g];
}

/* The run's input of group g (tensor `in` of k) through members [0, upto): the node of
 * member upto's input voxel, or -1 when a member refused its arguments. */
static int32_t prefix(struct chain *c, struct mg_kir *k, double *pv, int in, int upto, int64_t g)
{
	int32_t v = mg_kir_loadat(k, in);
	for (int i = 0; i < upto && v >= 0; i++) {
		int t = k->nodes[v].type;
		if (t >= MG_DTYPE_COUNT)
			return -1;
		const struct mg_opdef *d = c->defs[i];
		v = d->map ? d->map(c->attrs[i], k, pv, v, (enum mg_dtype)t, stats(c, i, g))
			   : d->emit(c->attrs[i], k, v, (enum mg_dtype)t);
	}
	return v;
}

/* The call's arguments: the index space and tensors t[0..n) as group g's views (g -1:
 * the whole tensors). */
static void group_args(const struct chain *c, struct mg_kargs *a, const struct mg_tensor *t,
		       int n, int64_t g, const double *pv)
{
	memset(a, 0, sizeof *a);
	int cw = c->groups > 1 && g >= 0;
	for (int i = 0; i < n; i++) {
		struct mg_tensor v = mg_group(&t[i], cw, g);
		mg_ktensor_set(&a->t[i], &v);
		if (i == 0)
			for (int d = 0; d < v.rank; d++)
				a->dims[d] = v.dims[d];
	}
	memcpy(a->p, pv, sizeof a->p);
}

/* Runs kernel kir on group g (-1: every group at once); MG_ERR_UNSUPPORTED when the
 * backend has no code. */
static int launch(struct mg_kctx *k, struct chain *c, struct mg_kir *kir, const struct mg_tensor *t,
		  int n, int64_t g, const double *pv, double *red)
{
	struct mg_kargs a;
	mg_gen_order(c->x, kir->info.order);
	group_args(c, &a, t, n, g, pv);
	return mg_gen_run(k, kir, &a, red);
}

/* Member i's reduction kernel of pass `pass` on group g into kir (nodes in ar, its
 * parameters in pv); the number of reductions it added (0: the member's statistics are
 * complete), or -1 when a member refused its arguments. */
static int pass_kernel(struct chain *c, int i, int pass, int64_t g, struct mg_arena *ar,
		       struct mg_kir *kir, double *pv)
{
	const struct mg_opdef *d = c->defs[i];
	mg_kir_init(kir, ar, d->name, c->x->rank);
	mg_gen_order(c->x, kir->info.order);
	mg_kir_tensor(kir, c->x->dtype, c->x->rank);
	int32_t v = prefix(c, kir, pv, 0, i, g);
	int t = v < 0 ? -1 : kir->nodes[v].type;
	return t < 0 || t >= MG_DTYPE_COUNT ? -1
	       : d->reduce(c->attrs[i], kir, pv, v, (enum mg_dtype)t, pass, stats(c, i, g));
}

/* Whether pass `pass` of member i can be one launch over every group: the groups'
 * kernels are the same code with the same parameters (no member up to i has statistics
 * of its own group yet), and a per-channel member's channel axis is an outer loop axis
 * (its reductions are kept per channel, mg_kir_per_axis). */
static int one_launch(struct chain *c, int i, int pass)
{
	int same = c->groups > 1, own = c->defs[i]->per_channel(c->attrs[i]);
	struct mg_arena a0 = {0};
	struct mg_kir k0;
	double p0[MG_KMAX_PARAMS] = {0};
	same = same && pass_kernel(c, i, pass, 0, &a0, &k0, p0) > 0 &&
	       !(own && k0.info.order[k0.info.rank - 1] == 0);
	for (int64_t g = 1; g < c->groups && same; g++) {
		struct mg_arena ag = {0};
		struct mg_kir kg;
		double pg[MG_KMAX_PARAMS] = {0};
		same = pass_kernel(c, i, pass, g, &ag, &kg, pg) > 0 && mg_kir_equal(&k0, &kg) &&
		       !memcmp(p0, pg, sizeof p0);
		mg_arena_free(&ag);
	}
	mg_arena_free(&a0);
	return same;
}

/* Member i's passes, each one launch over every group when one_launch allows, else one
 * per group; 0, -2 (no kernel: run the reference), or an error. */
static int member_stats(struct mg_kctx *k, struct chain *c, int i)
{
	int own = c->defs[i]->per_channel(c->attrs[i]);
	for (int pass = 0;; pass++) {
		double whole[MG_KMAX_RED];
		int nred = 0, one = one_launch(c, i, pass);
		for (int64_t g = 0; g < (one ? 1 : c->groups); g++) {
			struct mg_arena ar = {0};
			struct mg_kir kir;
			double pv[MG_KMAX_PARAMS] = {0}, *red = NULL;
			struct mg_gen_stats *st = stats(c, i, g);
			nred = pass_kernel(c, i, pass, g, &ar, &kir, pv);
			for (int r = 0; one && own && r < nred; r++)
				mg_kir_per_axis(&kir, r, 0);
			int rc = nred <= 0 || st->n + nred > MG_GEN_MAXSTATS ? (nred == 0 ? 0 : -2) : 0;
			if (nred > 0 && !rc)
				red = malloc(sizeof *red * (size_t)mg_kinfo_nacc(&kir.info, c->x->dims));
			if (nred > 0 && !rc)
				rc = red ? launch(k, c, &kir, c->x, 1, one ? -1 : g, pv, red)
					 : mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", kir.name);
			/* per channel: this group's own, or every group's from one launch; whole
			 * image: the groups combined in order */
			for (int r = 0; r < nred && !rc; r++) {
				if (one && own)
					for (int64_t h = 0; h < c->groups; h++)
						stats(c, i, h)->v[st->n + r] =
							red[mg_kinfo_per_at(&kir.info, c->x->dims, r) + h];
				else if (own)
					st->v[st->n + r] = red[r];
				else
					whole[r] = g == 0 ? red[r]
							  : mg_kred_combine(kir.info.red[r], whole[r], red[r]);
			}
			free(red);
			mg_arena_free(&ar);
			if (rc)
				return rc;
			if (nred == 0)
				return 0;
		}
		for (int64_t g = 0; g < c->groups; g++) {
			struct mg_gen_stats *st = stats(c, i, g);
			if (!own)
				memcpy(st->v + st->n, whole, (size_t)nred * sizeof *whole);
			st->n += nred;
		}
	}
}

/* One level's histogram kernel of member i's input on group g into sel (set up at the
 * first kernel, once the input's dtype is known: n values, percentiles q); 0, -2 or an
 * error. */
static int select_level(struct mg_kctx *k, struct chain *c, int i, int64_t g, int level,
			struct mg_qselect *sel, int64_t n, int nq, const double *q)
{
	struct mg_arena ar = {0};
	struct mg_kir kir;
	double pv[MG_KMAX_PARAMS] = {0}, *red = NULL;
	mg_kir_init(&kir, &ar, c->defs[i]->name, c->x->rank);
	mg_kir_tensor(&kir, c->x->dtype, c->x->rank);
	int32_t v = prefix(c, &kir, pv, 0, i, g);
	int t = v < 0 ? -1 : kir.nodes[v].type, rc = -2;
	if ((t == MG_DTYPE_F32 || t == MG_DTYPE_F64) && !sel->hist &&
	    mg_qselect_init(sel, t == MG_DTYPE_F32, n, nq, q))
		rc = mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", c->defs[i]->name);
	else if ((t == MG_DTYPE_F32 || t == MG_DTYPE_F64) &&
		 !mg_qselect_emit(sel, level, &kir, pv, v)) {
		red = malloc(sizeof *red * (size_t)mg_kinfo_nacc(&kir.info, c->x->dims));
		rc = red ? launch(k, c, &kir, c->x, 1, g, pv, red)
			 : mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", c->defs[i]->name);
	}
	if (!rc)
		mg_qselect_add(sel, &kir.info, red);
	free(red);
	mg_arena_free(&ar);
	return rc;
}

/* Member i's percentiles, exactly (gen_select.c), into its statistics: one selection per
 * group, or one over every group; 0, -2 (no kernel: run the reference) or an error. */
static int member_quantiles(struct mg_kctx *k, struct chain *c, int i)
{
	const struct mg_opdef *d = c->defs[i];
	double q[MG_QSELECT_MAXQ];
	int nq = d->quantiles(c->attrs[i], q), own = d->per_channel(c->attrs[i]);
	int64_t nsel = own ? c->groups : 1, n = mg_tensor_numel(c->x) / nsel;
	struct mg_qselect *sel = calloc((size_t)nsel, sizeof *sel);
	if (!sel)
		return mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", d->name);
	int rc = 0;
	for (int level = 0; !rc && (level == 0 || level < sel[0].levels); level++) {
		for (int64_t g = 0; g < c->groups && !rc; g++)
			rc = select_level(k, c, i, g, level, &sel[own ? g : 0], n, nq, q);
		for (int64_t s = 0; s < nsel && !rc; s++)
			rc = mg_qselect_next(&sel[s], level) ? -2 : 0;
	}
	for (int64_t g = 0; g < c->groups && !rc; g++) {
		struct mg_gen_stats *st = stats(c, i, g);
		for (int j = 0; j < nq; j++)
			st->v[st->n + j] = mg_qselect_percentile(&sel[own ? g : 0], j);
		st->n += nq;
	}
	for (int64_t s = 0; s < nsel; s++)
		mg_qselect_free(&sel[s]);
	free(sel);
	return rc;
}

/* The output kernel on every group into a new y. */
static int output(struct mg_kctx *k, struct chain *c, struct mg_tensor *y)
{
	int rc = 0;
	y->buf = NULL;
	for (int64_t g = 0; g < c->groups && !rc; g++) {
		struct mg_arena ar = {0};
		struct mg_kir kir;
		double pv[MG_KMAX_PARAMS] = {0};
		const struct mg_tensor *x = c->x;
		mg_kir_init(&kir, &ar, c->n == 1 ? c->defs[0]->name : "FusedElementwise", x->rank);
		mg_kir_tensor(&kir, x->dtype, x->rank); /* the output: its dtype is known at the end */
		mg_kir_tensor(&kir, x->dtype, x->rank);
		int32_t v = prefix(c, &kir, pv, 1, c->n, g);
		int t = v >= 0 ? kir.nodes[v].type : -1;
		if (t >= 0 && t < MG_DTYPE_COUNT) {
			kir.tensor[0].dtype = (uint8_t)t;
			kir.store = v;
		}
		struct mg_err ve = {0};
		if (kir.store < 0 || mg_kir_verify(&kir, &ve))
			rc = -2; /* a member refused these arguments (its ref reports why) */
		else if (g == 0)
			rc = mg_tensor_alloc_like(y, x, (enum mg_dtype)t, k->err);
		if (!rc) {
			const struct mg_tensor io[2] = {*y, *x};
			rc = launch(k, c, &kir, io, 2, g, pv, NULL);
		}
		mg_arena_free(&ar);
	}
	if (rc && y->buf)
		mg_tensor_release(y);
	return rc;
}

int mg_elementwise_chain_gen(const struct mg_opdef *const *defs,
			     const struct mg_attr *const *attrs, int n, struct mg_val *in,
			     struct mg_val *out, struct mg_kctx *k)
{
	if (!k->backend || n < 1 || !addressable(&in[0]))
		return -2;
	const struct mg_tensor *x = &in[0].t;
	struct chain c = {defs, attrs, n, x, 1, NULL};
	for (int i = 0; i < n; i++) {
		double q[MG_QSELECT_MAXQ];
		if (!(defs[i]->map && (defs[i]->reduce || defs[i]->quantiles) &&
		      defs[i]->per_channel) && !defs[i]->emit)
			return -2;
		if (defs[i]->quantiles && defs[i]->quantiles(attrs[i], q) < 0)
			return -2;
		if (defs[i]->map && defs[i]->per_channel(attrs[i]))
			c.groups = x->dims[0];
	}
	c.st = calloc((size_t)n * (size_t)c.groups, sizeof *c.st);
	if (!c.st)
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		for (int64_t g = 0; g < c.groups; g++)
			*stats(&c, i, g) = (struct mg_gen_stats){
				.channel = defs[i]->map && defs[i]->per_channel(attrs[i]) ? g : -1,
				.channels = x->dims[0]};
	int rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		if (defs[i]->quantiles)
			rc = member_quantiles(k, &c, i);
		if (!rc && defs[i]->reduce)
			rc = member_stats(k, &c, i);
	}
	struct mg_tensor y;
	if (!rc)
		rc = output(k, &c, &y);
	free(c.st);
	if (rc == MG_ERR_UNSUPPORTED) {
		mg_err_clear(k->err);
		return -2;
	}
	return rc ? rc : mg_val_set_result(&out[0], y, x->meta, 0);
}
