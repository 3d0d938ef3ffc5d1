/* block.c: memory for tensor data. Touching fresh memory is slow in a VM (every 4 KiB
 * page faults; ~1.2-2.6 ms per MiB measured on the development machine, docs/
 * performance.md), and a pipeline asks for the same few large sizes for every item. So
 * large blocks are backed by transparent huge pages (one fault per 2 MiB, ~5x cheaper),
 * and a freed large block is kept in a small cache for the next request of about its
 * size, up to a total; mg_exec_run empties the cache when it finishes.
 * Every block carries a 64-byte header holding its capacity, so freeing needs no size. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

enum {
	HDR = 64,             /* keeps the data 64-byte aligned */
	LARGE = 2 << 20,      /* huge-page size: blocks from here on are cached */
	SLOTS = 32,
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *slot[SLOTS]; /* cached blocks (their headers), oldest first */
static int nslots;
static size_t cached, limit;

static size_t cap_of(void *base)
{
	return *(size_t *)base;
}

/* At most an eighth of the physical memory sits unused in the cache. Called with mu
 * held. */
static size_t cache_limit(void)
{
	if (!limit) {
		long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
		limit = pages > 0 && size > 0 ? (size_t)pages * (size_t)size / 8 : (size_t)1 << 30;
	}
	return limit;
}

static void drop(int i)
{
	cached -= cap_of(slot[i]);
	for (int j = i + 1; j < nslots; j++)
		slot[j - 1] = slot[j];
	nslots--;
}

void *mg_block_alloc(size_t size)
{
	if (size > SIZE_MAX - LARGE - HDR)
		return NULL;
	size_t cap = (HDR + size + 63) & ~(size_t)63;
	if (cap < LARGE) {
		void *base = aligned_alloc(64, cap);
		if (!base)
			return NULL;
		*(size_t *)base = cap;
		return (char *)base + HDR;
	}
	cap = (cap + LARGE - 1) & ~(size_t)(LARGE - 1);
	/* the smallest cached block that fits and wastes at most an eighth */
	pthread_mutex_lock(&mu);
	int best = -1;
	for (int i = 0; i < nslots; i++) {
		size_t c = cap_of(slot[i]);
		if (c >= cap && c - cap <= cap / 8 && (best < 0 || c < cap_of(slot[best])))
			best = i;
	}
	void *base = best >= 0 ? slot[best] : NULL;
	if (base)
		drop(best);
	pthread_mutex_unlock(&mu);
	if (!base) {
		if (!(base = aligned_alloc(LARGE, cap)))
			return NULL;
		madvise(base, cap, MADV_HUGEPAGE); /* advice: failure only costs speed */
		*(size_t *)base = cap;
	}
	return (char *)base + HDR;
}

void mg_block_free(void *p)
{
	if (!p)
		return;
	void *base = (char *)p - HDR;
	size_t cap = cap_of(base);
	if (cap < LARGE) {
		free(base);
		return;
	}
	void *evicted[SLOTS];
	int nev = 0;
	pthread_mutex_lock(&mu); /* cache_limit's first call sets `limit`: under the lock */
	if (cap > cache_limit()) {
		pthread_mutex_unlock(&mu);
		free(base);
		return;
	}
	while (nslots > 0 && (nslots == SLOTS || cached + cap > cache_limit())) {
		evicted[nev++] = slot[0];
		drop(0);
	}
	slot[nslots++] = base;
	cached += cap;
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nev; i++)
		free(evicted[i]);
}

void mg_block_cache_trim(void)
{
	pthread_mutex_lock(&mu);
	while (nslots > 0) {
		void *base = slot[nslots - 1];
		drop(nslots - 1);
		free(base);
	}
	pthread_mutex_unlock(&mu);
}
