/* kernel.c: launching generated kernels (kernel.h): the index space cut into slices of
 * rows, the slices run on a pool, their reductions combined in a fixed order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* Slices per launch: enough for two or more threads to share, few enough that a slice's
 * call overhead and accumulator combine stay negligible. A constant, so slice boundaries
 * (and hence reduction results) depend only on the shape. */
#define SLICES 64

double mg_kred_identity(enum mg_kred r)
{
	return r == MG_KRED_MIN ? INFINITY : r == MG_KRED_MAX ? -INFINITY : 0;
}

double mg_kred_combine(enum mg_kred r, double acc, double v)
{
	switch (r) {
	case MG_KRED_SUM: return acc + v;
	case MG_KRED_MIN: return acc != acc ? acc : v != v || v < acc ? v : acc;
	case MG_KRED_MAX: return acc != acc ? acc : v != v || v > acc ? v : acc;
	}
	return acc;
}

void mg_ktensor_set(struct mg_ktensor *kt, const struct mg_tensor *t)
{
	memset(kt, 0, sizeof *kt);
	kt->data = mg_tensor_data(t);
	for (int i = 0; i < t->rank && i < MG_KMAX_RANK; i++) {
		kt->dims[i] = t->dims[i];
		kt->strides[i] = t->strides[i];
	}
}

struct launch {
	mg_kfn *fn;
	const struct mg_kinfo *info;
	const struct mg_kargs *a;
	int64_t rows, per;
	double *acc; /* SLICES x nred */
};

static void run_slice(void *ctx, int64_t s, int worker)
{
	const struct launch *l = ctx;
	int64_t lo = s * l->per, hi = lo + l->per < l->rows ? lo + l->per : l->rows;
	double *acc = l->acc + s * l->info->nred;
	for (int r = 0; r < l->info->nred; r++)
		acc[r] = mg_kred_identity(l->info->red[r]);
	if (lo < hi)
		l->fn(l->a, lo, hi, acc);
}

void mg_kernel_launch(mg_kfn *fn, const struct mg_kinfo *info, const struct mg_kargs *a,
		      struct mg_pool *pool, double *red_out)
{
	int64_t rows = 1;
	for (int i = 0; i < info->rank - 1; i++)
		rows *= a->dims[info->order[i]];
	for (int r = 0; r < info->nred; r++)
		red_out[r] = mg_kred_identity(info->red[r]);
	if (rows == 0 || a->dims[info->order[info->rank - 1]] == 0)
		return;
	double acc[SLICES * MG_KMAX_RED];
	struct launch l = {fn, info, a, rows, (rows + SLICES - 1) / SLICES, acc};
	int64_t n = (rows + l.per - 1) / l.per;
	mg_pool_for(pool, n, run_slice, &l);
	for (int64_t s = 0; s < n; s++)
		for (int r = 0; r < info->nred; r++)
			red_out[r] = mg_kred_combine(info->red[r], red_out[r], acc[s * info->nred + r]);
}
