/* pool.c: a fixed set of worker threads running parallel-for loops.
 * Invariant: one loop at a time per pool; the calling thread works too, so a pool of
 * n threads has n-1 workers. Indices are handed out by an atomic counter. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

struct mg_pool {
	int n;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	unsigned long generation;
	int busy, quit;
	/* the current loop */
	void (*fn)(void *, int64_t, int);
	void *ctx;
	int64_t count, next;
};

static void run_loop(struct mg_pool *p, int worker)
{
	for (;;) {
		int64_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		if (i >= p->count)
			return;
		p->fn(p->ctx, i, worker);
	}
}

struct worker_arg {
	struct mg_pool *p;
	int id;
};

static void *worker_main(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	free(arg);
	struct mg_pool *p = wa.p;
	unsigned long seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->generation == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		seen = p->generation;
		pthread_mutex_unlock(&p->mu);
		run_loop(p, wa.id);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct mg_pool *mg_pool_new(int nthreads)
{
	if (nthreads <= 0)
		nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads <= 0)
		nthreads = 1;
	struct mg_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->threads = calloc((size_t)nthreads, sizeof *p->threads);
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->n = 1;
	for (int i = 1; i < nthreads; i++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (!wa)
			break;
		wa->p = p;
		wa->id = i;
		if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
			free(wa);
			break;
		}
		p->n++;
	}
	return p;
}

void mg_pool_free(struct mg_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p->threads);
	free(p);
}

int mg_pool_size(const struct mg_pool *p) { return p ? p->n : 1; }

void mg_pool_for(struct mg_pool *p, int64_t n, void (*fn)(void *, int64_t, int), void *ctx)
{
	if (!p || p->n == 1 || n <= 1) {
		for (int64_t i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->count = n;
	p->next = 0;
	p->busy = p->n - 1;
	p->generation++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	run_loop(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->busy > 0)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

double mg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
