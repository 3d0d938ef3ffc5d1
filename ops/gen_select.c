/* gen_select.c: exact order statistics in kernel IR, for the percentile ops' generated
 * kernels (intensity.h's struct mg_qselect; gen_chain.c runs the kernels). A radix select
 * on each value's order-preserving integer key: the key's digits, 11 bits at a time from
 * the top, are found one level per pass over the data, each pass a histogram reduction
 * (MG_KRED_HIST) of the next digit among the values whose higher digits match the wanted
 * rank's so far. After the last level (3 for float32, 6 for float64) the whole key, hence
 * the value, of every wanted rank is known: the very value a sort would put there, so
 * the percentile (mg_percentile_lerp) equals the reference's bit for bit.
 *
 * The key: the value's bits b as a signed integer, negatives mirrored (min - 1 - b, min
 * the type's least integer), which orders keys as the values (-0 just below +0).
 * Digits are floor divisions of the key by powers of two, in i64 (the IR has no shift).
 * The code depends on the dtype and the number of ranks only: prefixes enter as
 * parameters, so one compiled kernel per level serves every image and channel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

enum { BITS = 11, BINS = 1 << BITS };

static int key_bits(const struct mg_qselect *s)
{
	return s->f32 ? 32 : 64;
}

/* Bits below level l's digit (0 at the last level), and the digit's width. */
static int shift(const struct mg_qselect *s, int l)
{
	int r = key_bits(s) - BITS * (l + 1);
	return r > 0 ? r : 0;
}

static int width(const struct mg_qselect *s, int l)
{
	return (l ? shift(s, l - 1) : key_bits(s)) - shift(s, l);
}

int mg_qselect_init(struct mg_qselect *s, int f32, int64_t n, int nq, const double *q)
{
	memset(s, 0, sizeof *s);
	s->f32 = f32;
	s->levels = (key_bits(s) + BITS - 1) / BITS;
	s->n = n;
	s->nq = nq;
	s->nr = 2 * nq;
	s->q = q;
	for (int j = 0; j < nq; j++)
		mg_percentile_ranks(n, q[j], f32, &s->left[2 * j]);
	s->hist = calloc((size_t)s->nr * BINS, sizeof *s->hist);
	return s->hist ? 0 : MG_ERR_NOMEM;
}

void mg_qselect_free(struct mg_qselect *s)
{
	free(s->hist);
	s->hist = NULL;
}

static int32_t i64c(struct mg_kir *k, double v)
{
	return mg_kir_const(k, MG_DTYPE_I64, v);
}

/* floor(key / 2^sh) */
static int32_t floor_shift(struct mg_kir *k, int32_t key, int sh)
{
	if (sh == 0)
		return key;
	int32_t p = i64c(k, ldexp(1, sh)), neg = mg_kir_op(k, MG_KOP_LT, key, i64c(k, 0));
	int32_t down = mg_kir_op(k, MG_KOP_NOT, mg_kir_op(k, MG_KOP_DIV,
						 mg_kir_op(k, MG_KOP_NOT, key, -1), p), -1);
	return mg_kir_select(k, neg, down, mg_kir_op(k, MG_KOP_DIV, key, p));
}

int mg_qselect_emit(const struct mg_qselect *s, int level, struct mg_kir *k, double *pv,
		   int32_t x)
{
	int32_t b = s->f32 ? mg_kir_cast(k, MG_DTYPE_I64, mg_kir_bitcast(k, MG_DTYPE_I32, x))
			   : mg_kir_bitcast(k, MG_DTYPE_I64, x);
	int32_t min = s->f32 ? i64c(k, -0x1p31)
			     : mg_kir_op(k, MG_KOP_MUL, i64c(k, -0x1p53), i64c(k, 0x1p10));
	int32_t mirrored = mg_kir_op(k, MG_KOP_SUB, mg_kir_op(k, MG_KOP_SUB, min, b), i64c(k, 1));
	int32_t key = mg_kir_select(k, mg_kir_op(k, MG_KOP_LT, b, i64c(k, 0)), mirrored, b);
	int32_t lo = floor_shift(k, key, shift(s, level));
	if (level == 0) { /* one histogram serves every rank; NaN counted apart */
		mg_kir_hist(k, mg_kir_op(k, MG_KOP_ADD, lo, i64c(k, ldexp(1, width(s, 0) - 1))), -1,
			    1 << width(s, 0));
		mg_kir_reduce(k, MG_KRED_SUM, mg_kir_const(k, MG_DTYPE_F64, 1),
			      mg_kir_op(k, MG_KOP_NE, x, x));
		return k->failed ? -1 : 0;
	}
	int32_t hi = floor_shift(k, key, shift(s, level - 1));
	int32_t digit = mg_kir_op(k, MG_KOP_SUB, lo,
				  mg_kir_op(k, MG_KOP_MUL, hi, i64c(k, ldexp(1, width(s, level)))));
	for (int j = 0; j < s->nr; j++) {
		/* the prefix, exact through the double parameters as two halves; a rank whose
		 * prefix an earlier one has counts nothing (2^62 is no prefix: |hi| < 2^54) */
		int64_t p = s->same[j] == j ? s->prefix[j] : (int64_t)1 << 62;
		int64_t plo = (int64_t)((uint64_t)p & 0xffffffffu), phi = (p - plo) / ((int64_t)1 << 32);
		int32_t want = mg_kir_op(k, MG_KOP_ADD,
					 mg_kir_op(k, MG_KOP_MUL, mg_gen_param(k, pv, MG_DTYPE_I64, (double)phi),
						   i64c(k, 0x1p32)),
					 mg_gen_param(k, pv, MG_DTYPE_I64, (double)plo));
		mg_kir_hist(k, digit, mg_kir_op(k, MG_KOP_EQ, hi, want), 1 << width(s, level));
	}
	return k->failed ? -1 : 0;
}

void mg_qselect_add(struct mg_qselect *s, const struct mg_kinfo *info, const double *red)
{
	for (int r = 0, j = 0; r < info->nred; r++) {
		if (info->red[r] != MG_KRED_HIST) {
			s->nan += red[r];
			continue;
		}
		const double *h = red + mg_kinfo_bins_at(info, r);
		double *acc = s->hist + (size_t)j++ * BINS;
		for (int i = 0; i < info->bins[r]; i++)
			acc[i] += h[i];
	}
}

int mg_qselect_next(struct mg_qselect *s, int level)
{
	if (s->nan > 0)
		return -1; /* the reference's order of NaN is its own: it runs instead */
	int w = width(s, level), nb = 1 << w;
	for (int j = 0; j < s->nr; j++) {
		const double *h = s->hist + (size_t)(level ? s->same[j] : 0) * BINS;
		double cum = 0;
		int d = 0;
		while (d < nb && (double)s->left[j] >= cum + h[d])
			cum += h[d++];
		if (d == nb)
			return -1; /* counts inconsistent with the ranks: cannot happen */
		s->left[j] -= (int64_t)cum;
		s->prefix[j] = level ? s->prefix[j] * nb + d : d - nb / 2;
	}
	for (int j = 0; j < s->nr; j++) {
		s->same[j] = j;
		for (int i = 0; i < j; i++)
			if (s->prefix[i] == s->prefix[j]) {
				s->same[j] = i;
				break;
			}
	}
	memset(s->hist, 0, (size_t)s->nr * BINS * sizeof *s->hist);
	return 0;
}

/* The value whose key is key. */
static double key_value(const struct mg_qselect *s, int64_t key)
{
	int64_t min = s->f32 ? -((int64_t)1 << 31) : INT64_MIN;
	uint64_t b = key >= 0 ? (uint64_t)key : (uint64_t)min - 1 - (uint64_t)key;
	if (s->f32) {
		uint32_t u = (uint32_t)b;
		float f;
		memcpy(&f, &u, sizeof f);
		return f;
	}
	double f;
	memcpy(&f, &b, sizeof f);
	return f;
}

double mg_qselect_percentile(const struct mg_qselect *s, int j)
{
	return mg_percentile_lerp(s->n, s->q[j], s->f32, key_value(s, s->prefix[2 * j]),
				  key_value(s, s->prefix[2 * j + 1]));
}
