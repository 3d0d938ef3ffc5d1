/* exec.c: the reference executor. Runs a plan item by item: binds the item's fields to
 * the input slots, calls each step's kernel, frees every value after its last use.
 * Items run in parallel on a thread pool (one item per worker at a time); each worker
 * has its own slots, so kernels see no sharing beyond refcounted storage.
 * Read next: plan.h, ir/lower.c (where plans come from). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static int bind_input(struct mg_val *v, const struct mg_field *f, struct mg_err *e)
{
	struct mg_val src = {.kind = MG_VK_STRINGS, .nstr = f->nstr, .str = f->str};
	return mg_val_share(v, &src, e);
}

static int run_step(const struct mg_step *s, struct mg_val *slots, struct mg_kctx *k)
{
	struct mg_val in[MG_STEP_MAXIO] = {0}, out[MG_STEP_MAXIO];
	for (int i = 0; i < s->nin; i++) {
		in[i] = slots[s->in[i]];
		if (in[i].kind != MG_VK_NONE)
			continue;
		if (i > 0)
			return mg_err_set(k->err, MG_ERR_CONFIG, "the item has no value for key "
					  "'%s', which this step reads besides its own key '%s'",
					  s->in_key[i] ? s->in_key[i] : "?", s->key ? s->key : "?");
		if (s->optional)
			return 0; /* allow_missing_keys: the outputs stay absent */
		return mg_err_set(k->err, MG_ERR_CONFIG,
				  "the item has no value for this key (set allow_missing_keys "
				  "to skip it)");
	}
	memset(out, 0, sizeof out);
	k->key = s->key;
	k->in_key = s->in_key;
	k->step = s;
	int rc = s->fn(s->attrs, in, out, k);
	if (rc) {
		for (int i = 0; i < s->nout; i++)
			mg_val_release(&out[i]);
		if (k->err->code == 0)
			mg_err_set(k->err, rc, "failed");
		return rc;
	}
	for (int i = 0; i < s->nout; i++) {
		mg_val_release(&slots[s->out[i]]);
		slots[s->out[i]] = out[i];
	}
	return 0;
}

static void charge(struct mg_step_stats *s, double t0, int64_t b0)
{
	__atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->ns, (int64_t)((mg_now() - t0) * 1e9), __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes, mg_buffer_created() - b0, __ATOMIC_RELAXED);
}

int mg_exec_steps(const struct mg_plan *p, struct mg_val *slots, struct mg_kctx *k,
		  struct mg_step_stats *stats)
{
	for (int i = 0; i < p->nsteps; i++) {
		const struct mg_step *s = &p->steps[i];
		double t0 = stats ? mg_now() : 0;
		int64_t b0 = mg_buffer_created();
		int rc = run_step(s, slots, k);
		if (stats)
			charge(&stats[i], t0, b0);
		if (rc) {
			mg_err_prefix(k->err, "%s (%s)", s->label ? s->label : "step", s->op);
			return rc;
		}
		for (int j = 0; j < s->nin; j++)
			if (p->last_use[s->in[j]] == i)
				mg_val_release(&slots[s->in[j]]);
	}
	return 0;
}

int mg_exec_item(const struct mg_plan *p, const struct mg_item *item, int64_t index,
		 struct mg_val *slots, struct mg_kctx *k, struct mg_step_stats *stats)
{
	k->item = index;
	for (int i = 0; i < p->ninputs; i++) {
		const struct mg_field *f = mg_item_get(item, p->inputs[i].key);
		if (f && bind_input(&slots[p->inputs[i].slot], f, k->err))
			return k->err->code;
	}
	return mg_exec_steps(p, slots, k, stats);
}

/* ---- running a datalist --------------------------------------------------------------- */

struct run {
	const struct mg_plan *p;
	const struct mg_datalist *dl;
	const struct mg_exec_opts *o;
	struct mg_val **slots; /* per worker */
	pthread_mutex_t mu;
	int failed;
	int64_t failed_item; /* the lowest failing item; items after it are skipped */
	struct mg_err err;
	int64_t done, total;
	double t0, last_print;
};

static const char *item_name(const struct mg_item *it)
{
	for (int i = 0; i < it->nfields; i++)
		if (it->fields[i].nstr > 0) {
			const char *s = it->fields[i].str[0], *slash = strrchr(s, '/');
			return slash ? slash + 1 : s;
		}
	return "?";
}

static void progress(struct run *r, int final)
{
	FILE *f = r->o->progress;
	double t = mg_now(), el = t - r->t0;
	if (!f || (!final && t - r->last_print < 0.25))
		return;
	r->last_print = t;
	double rate = el > 0 ? r->done / el : 0;
	double eta = rate > 0 ? (r->total - r->done) / rate : 0;
	fprintf(f, "\r%lld/%lld items  %.2f items/s  elapsed %.1fs  ETA %.0fs ",
		(long long)r->done, (long long)r->total, rate, el, eta);
	if (final)
		fputc('\n', f);
	fflush(f);
}

static void run_one(void *ctx, int64_t i, int worker)
{
	struct run *r = ctx;
	int64_t index = r->o->first + i;
	/* items before a failure still run, so the error reported is always the first
	 * failing item's, whatever the scheduling */
	if (__atomic_load_n(&r->failed, __ATOMIC_RELAXED) &&
	    index > __atomic_load_n(&r->failed_item, __ATOMIC_RELAXED))
		return;
	struct mg_err e = {0};
	struct mg_kctx k = {.err = &e, .log = r->o->log, .gz_level = r->o->gz_level,
			      .backend = r->o->backend};
	struct mg_val *slots = r->slots[worker];
	int rc = mg_exec_item(r->p, &r->dl->items[index], index, slots, &k, r->o->stats);
	for (int s = 0; s < r->p->nslots; s++)
		mg_val_release(&slots[s]);
	pthread_mutex_lock(&r->mu);
	if (rc && (!r->failed || index < r->failed_item)) {
		__atomic_store_n(&r->failed_item, index, __ATOMIC_RELAXED);
		__atomic_store_n(&r->failed, 1, __ATOMIC_RELEASE);
		r->err = e;
		mg_err_prefix(&r->err, "item %lld '%s'", (long long)index,
			      item_name(&r->dl->items[index]));
	}
	r->done++;
	progress(r, 0);
	pthread_mutex_unlock(&r->mu);
}

int mg_exec_run(const struct mg_plan *p, const struct mg_datalist *dl,
		const struct mg_exec_opts *o, struct mg_err *e)
{
	int64_t count = o->count < 0 ? dl->n - o->first : o->count;
	if (o->first < 0 || o->first > dl->n || count < 0 || o->first + count > dl->n)
		return mg_err_set(e, MG_ERR_CONFIG, "items %lld..%lld are outside the datalist (%d)",
				  (long long)o->first, (long long)(o->first + count), dl->n);
	struct mg_pool *pool = mg_pool_new(o->nthreads);
	if (!pool)
		return mg_err_set(e, MG_ERR_NOMEM, "cannot start the thread pool");
	struct run r = {.p = p, .dl = dl, .o = o, .total = count, .t0 = mg_now()};
	int nw = mg_pool_size(pool), rc = 0;
	r.slots = calloc((size_t)nw, sizeof *r.slots);
	for (int w = 0; r.slots && w < nw; w++)
		if (!(r.slots[w] = calloc((size_t)p->nslots + 1, sizeof **r.slots)))
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory for value slots");
	if (!r.slots)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory for value slots");
	if (!rc) {
		pthread_mutex_init(&r.mu, NULL);
		mg_pool_for(pool, count, run_one, &r);
		pthread_mutex_destroy(&r.mu);
		progress(&r, 1);
		if (r.failed) {
			*e = r.err;
			rc = e->code;
		}
	}
	for (int w = 0; r.slots && w < nw; w++)
		free(r.slots[w]);
	free(r.slots);
	mg_pool_free(pool);
	mg_block_cache_trim();
	return rc;
}
