/* kir_table.c: sets of distinct kernels, the recording backend and the table backend
 * (kir_table.h). Both backends are called from several executor threads at once: the
 * recorder and the table's list of missing kernels change under a mutex; the table's
 * linked kernels are read-only after init. */
#include <stdlib.h>
#include <string.h>

#include "kir_table.h"

int mg_kir_set_find(const struct mg_kir_set *s, const struct mg_kir *k, uint64_t h)
{
	for (int i = 0; i < s->n; i++)
		if (s->hash[i] == h && mg_kir_equal(&s->k[i], k))
			return i;
	return -1;
}

int mg_kir_set_add(struct mg_kir_set *s, const struct mg_kir *k, uint64_t h, struct mg_err *e)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		uint64_t *hash = realloc(s->hash, (size_t)cap * sizeof *hash);
		if (hash)
			s->hash = hash;
		struct mg_kir *kk = hash ? realloc(s->k, (size_t)cap * sizeof *kk) : NULL;
		if (!kk)
			return mg_err_set(e, MG_ERR_NOMEM, "kernel %s: out of memory", k->name), -1;
		s->k = kk;
		s->cap = cap;
	}
	struct mg_kir c = *k;
	c.name = mg_arena_strdup(&s->arena, k->name ? k->name : "");
	c.nodes = mg_arena_alloc(&s->arena, (size_t)(k->nnodes ? k->nnodes : 1) * sizeof *c.nodes);
	if (!c.name || !c.nodes)
		return mg_err_set(e, MG_ERR_NOMEM, "kernel %s: out of memory", k->name), -1;
	memcpy(c.nodes, k->nodes, (size_t)k->nnodes * sizeof *c.nodes);
	c.cap = c.nnodes;
	c.arena = NULL; /* a copy is not built on */
	s->hash[s->n] = h;
	s->k[s->n] = c;
	return s->n++;
}

void mg_kir_set_free(struct mg_kir_set *s)
{
	free(s->hash);
	free(s->k);
	mg_arena_free(&s->arena);
	memset(s, 0, sizeof *s);
}

/* ---- the recorder ----------------------------------------------------------------------- */

static int record_run(struct mg_backend *b, const struct mg_kir *k, const struct mg_kargs *a,
		      double *red, struct mg_err *e)
{
	struct mg_kir_recorder *r = (struct mg_kir_recorder *)b;
	uint64_t h = mg_kir_hash(k);
	pthread_mutex_lock(&r->lock);
	int i = mg_kir_set_find(&r->seen, k, h);
	if (i < 0)
		i = mg_kir_set_add(&r->seen, k, h, e);
	pthread_mutex_unlock(&r->lock);
	return i < 0 ? e->code : r->inner->run(r->inner, k, a, red, e);
}

void mg_kir_recorder_init(struct mg_kir_recorder *r, struct mg_backend *inner)
{
	memset(r, 0, sizeof *r);
	r->b.run = record_run;
	r->inner = inner;
	pthread_mutex_init(&r->lock, NULL);
}

void mg_kir_recorder_free(struct mg_kir_recorder *r)
{
	mg_kir_set_free(&r->seen);
	pthread_mutex_destroy(&r->lock);
}

/* ---- the table ------------------------------------------------------------------------- */

static int table_run(struct mg_backend *b, const struct mg_kir *k, const struct mg_kargs *a,
		     double *red, struct mg_err *e)
{
	struct mg_kir_table *t = (struct mg_kir_table *)b;
	uint64_t h = mg_kir_hash(k);
	int i = mg_kir_set_find(&t->linked, k, h);
	if (i >= 0) {
		mg_kernel_launch(t->fn[i], &k->info, a, t->pool, red);
		__atomic_add_fetch(&t->hits, 1, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_add_fetch(&t->misses, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&t->lock);
	struct mg_err ignored = {0}; /* out of memory here only loses a name in the report */
	if (mg_kir_set_find(&t->missing, k, h) < 0)
		mg_kir_set_add(&t->missing, k, h, &ignored);
	pthread_mutex_unlock(&t->lock);
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "kernel %s: not among the kernels compiled "
			  "into this program", k->name);
}

int mg_kir_table_init(struct mg_kir_table *t, const struct mg_kir_entry *entries, int n,
		      struct mg_pool *pool, struct mg_err *e)
{
	memset(t, 0, sizeof *t);
	t->b.run = table_run;
	t->pool = pool;
	pthread_mutex_init(&t->lock, NULL);
	if (n > 0 && !(t->fn = malloc((size_t)n * sizeof *t->fn)))
		return mg_err_set(e, MG_ERR_NOMEM, "kernel table: out of memory");
	for (int i = 0; i < n; i++) {
		struct mg_arena ar = {0};
		struct mg_kir k;
		int rc = mg_kir_read(&k, &ar, entries[i].ir, entries[i].n, e);
		if (!rc && mg_kir_set_add(&t->linked, &k, mg_kir_hash(&k), e) >= 0)
			t->fn[t->linked.n - 1] = entries[i].fn;
		mg_arena_free(&ar);
		if (e->code) {
			mg_err_prefix(e, "kernel table entry %d", i);
			return e->code;
		}
	}
	return 0;
}

void mg_kir_table_free(struct mg_kir_table *t)
{
	mg_kir_set_free(&t->linked);
	mg_kir_set_free(&t->missing);
	free(t->fn);
	pthread_mutex_destroy(&t->lock);
}

void mg_kir_table_report(struct mg_kir_table *t, FILE *f)
{
	pthread_mutex_lock(&t->lock);
	fprintf(f, "kernels: %d linked, %lld step calls ran them; %lld fell back to reference "
		"kernels", t->linked.n, (long long)t->hits, (long long)t->misses);
	for (int i = 0; i < t->missing.n; i++)
		fprintf(f, "%s%s", i ? ", " : " (kernels not traced at compile time: ",
			t->missing.k[i].name);
	fputs(t->missing.n ? ")\n" : "\n", f);
	pthread_mutex_unlock(&t->lock);
}
