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
	case MG_KRED_SUM:
	case MG_KRED_HIST: return acc + v;
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

int64_t mg_kinfo_nacc(const struct mg_kinfo *info, const int64_t *dims)
{
	return mg_kinfo_per_at(info, dims, info->nred);
}

int64_t mg_kinfo_bins_at(const struct mg_kinfo *info, int r)
{
	int64_t at = info->nred;
	for (int i = 0; i < r; i++)
		at += info->red[i] == MG_KRED_HIST ? info->bins[i] : 0;
	return at;
}

int64_t mg_kinfo_per_at(const struct mg_kinfo *info, const int64_t *dims, int r)
{
	int64_t at = mg_kinfo_bins_at(info, info->nred);
	for (int i = 0; i < r; i++)
		at += info->per[i] ? dims[info->per[i] - 1] : 0;
	return at;
}

void mg_kinfo_acc_init(const struct mg_kinfo *info, const int64_t *dims, double *acc)
{
	for (int r = 0; r < info->nred; r++)
		acc[r] = mg_kred_identity(info->red[r]);
	for (int64_t i = info->nred; i < mg_kinfo_per_at(info, dims, 0); i++)
		acc[i] = 0;
	for (int r = 0; r < info->nred; r++)
		for (int64_t i = 0; info->per[r] && i < dims[info->per[r] - 1]; i++)
			acc[mg_kinfo_per_at(info, dims, r) + i] = mg_kred_identity(info->red[r]);
}

/* out combined with a slice's accumulators in. */
static void acc_combine(const struct mg_kinfo *info, const int64_t *dims, double *out,
			const double *in)
{
	for (int r = 0; r < info->nred; r++)
		out[r] = mg_kred_combine(info->red[r], out[r], in[r]);
	for (int64_t i = info->nred; i < mg_kinfo_per_at(info, dims, 0); i++)
		out[i] += in[i];
	for (int r = 0; r < info->nred; r++) {
		int64_t at = mg_kinfo_per_at(info, dims, r);
		for (int64_t i = 0; info->per[r] && i < dims[info->per[r] - 1]; i++)
			out[at + i] = mg_kred_combine(info->red[r], out[at + i], in[at + i]);
	}
}

struct launch {
	mg_kfn *fn;
	const struct mg_kinfo *info;
	const struct mg_kargs *a;
	int64_t rows, per, nacc;
	double *acc; /* SLICES x nacc */
};

static void run_slice(void *ctx, int64_t s, int worker)
{
	const struct launch *l = ctx;
	int64_t lo = s * l->per, hi = lo + l->per < l->rows ? lo + l->per : l->rows;
	double *acc = l->acc + s * l->nacc;
	mg_kinfo_acc_init(l->info, l->a->dims, acc);
	if (lo < hi)
		l->fn(l->a, lo, hi, acc);
}

void mg_kernel_launch(mg_kfn *fn, const struct mg_kinfo *info, const struct mg_kargs *a,
		      struct mg_pool *pool, double *red_out)
{
	int64_t rows = 1;
	for (int i = 0; i < info->rank - 1; i++)
		rows *= a->dims[info->order[i]];
	int64_t nacc = mg_kinfo_nacc(info, a->dims);
	mg_kinfo_acc_init(info, a->dims, red_out);
	if (rows == 0 || a->dims[info->order[info->rank - 1]] == 0)
		return;
	double small[SLICES * MG_KMAX_RED], *acc = small;
	if (nacc > MG_KMAX_RED && !(acc = malloc(sizeof *acc * (size_t)(SLICES * nacc)))) {
		fn(a, 0, rows, red_out); /* see kernel.h */
		return;
	}
	struct launch l = {fn, info, a, rows, (rows + SLICES - 1) / SLICES, nacc, acc};
	int64_t n = (rows + l.per - 1) / l.per;
	mg_pool_for(pool, n, run_slice, &l);
	for (int64_t s = 0; s < n; s++)
		acc_combine(info, a->dims, red_out, acc + s * nacc);
	if (acc != small)
		free(acc);
}
