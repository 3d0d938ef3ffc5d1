/* kir_eval.c: the kernel IR interpreter, the meaning of the IR (kir.h) written as plainly
 * as possible: one element at a time, every node in order, each value held as a double
 * (float types, rounded to their own precision) or an int64 (integers, wrapped to their
 * width; bools 0/1). Renderers are tested against it (tests/test_kir_llvm.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kir.h"

union kval {
	double f;
	int64_t i;
};

static int is_float(int t)
{
	return t < MG_DTYPE_COUNT && mg_dtype_is_float((enum mg_dtype)t);
}

/* An integer result wrapped to its type's width (two's complement). */
static int64_t wrap(int t, uint64_t v)
{
	switch (t) {
	case MG_DTYPE_U8: return (uint8_t)v;
	case MG_DTYPE_I8: return (int8_t)v;
	case MG_DTYPE_U16: return (uint16_t)v;
	case MG_DTYPE_I16: return (int16_t)v;
	case MG_DTYPE_U32: return (uint32_t)v;
	case MG_DTYPE_I32: return (int32_t)v;
	case MG_KT_BOOL: return v != 0;
	default: return (int64_t)v;
	}
}

/* A float result rounded to its type (f16/bf16 through f32, as mg_dtype_store). */
static double round_to(int t, double v)
{
	switch (t) {
	case MG_DTYPE_F32: return (float)v;
	case MG_DTYPE_F16: return mg_f16_to_f32(mg_f32_to_f16((float)v));
	case MG_DTYPE_BF16: return mg_bf16_to_f32(mg_f32_to_bf16((float)v));
	default: return v;
	}
}

static void int_range(int t, double *lo, double *hi)
{
	switch (t) {
	case MG_DTYPE_U8: *lo = 0, *hi = UINT8_MAX; break;
	case MG_DTYPE_I8: *lo = INT8_MIN, *hi = INT8_MAX; break;
	case MG_DTYPE_U16: *lo = 0, *hi = UINT16_MAX; break;
	case MG_DTYPE_I16: *lo = INT16_MIN, *hi = INT16_MAX; break;
	case MG_DTYPE_U32: *lo = 0, *hi = UINT32_MAX; break;
	case MG_DTYPE_I32: *lo = INT32_MIN, *hi = INT32_MAX; break;
	default: *lo = -0x1p63, *hi = 0x1p63; break;
	}
}

static union kval cast(int to, int from, union kval v)
{
	union kval r;
	if (to == MG_KT_BOOL) {
		r.i = is_float(from) ? v.f != 0 : v.i != 0;
		return r;
	}
	if (is_float(to)) {
		if (is_float(from))
			r.f = round_to(to, v.f);
		else if (to == MG_DTYPE_F64)
			r.f = (double)v.i;
		else /* one rounding to f32 (f16/bf16 then from that, as mg_dtype_store) */
			r.f = round_to(to, (float)v.i);
		return r;
	}
	double lo, hi;
	int_range(to, &lo, &hi);
	if (is_float(from)) {
		double x = v.f;
		if (x != x)
			r.i = 0;
		else if (x <= lo)
			r.i = to == MG_DTYPE_I64 ? INT64_MIN : (int64_t)lo;
		else if (x >= hi)
			r.i = to == MG_DTYPE_I64 ? INT64_MAX : (int64_t)hi;
		else
			r.i = (int64_t)x; /* truncates toward zero */
		return r;
	}
	/* integer to integer: saturate (sources are at most 64-bit signed or 32-bit
	 * unsigned, so int64 compares are exact) */
	int64_t x = v.i;
	if (to != MG_DTYPE_I64)
		x = x < (int64_t)lo ? (int64_t)lo : x > (int64_t)hi ? (int64_t)hi : x;
	r.i = x;
	return r;
}

static union kval param(int t, double p)
{
	return cast(t, MG_DTYPE_F64, (union kval){.f = p});
}

static union kval load(const struct mg_ktensor *kt, int dtype, int64_t off)
{
	const char *p = kt->data + off * (int64_t)mg_dtype_size((enum mg_dtype)dtype);
	union kval r;
	switch (dtype) {
	case MG_DTYPE_I64: r.i = *(const int64_t *)p; break;
	default:
		if (is_float(dtype))
			r.f = mg_dtype_load((enum mg_dtype)dtype, p);
		else
			r.i = (int64_t)mg_dtype_load((enum mg_dtype)dtype, p);
		break;
	}
	return r;
}

static void store(const struct mg_ktensor *kt, int dtype, int64_t off, union kval v)
{
	char *p = kt->data + off * (int64_t)mg_dtype_size((enum mg_dtype)dtype);
	if (dtype == MG_DTYPE_I64)
		*(int64_t *)p = v.i;
	else /* the value already has the tensor's type: this store is exact */
		mg_dtype_store((enum mg_dtype)dtype, p, is_float(dtype) ? v.f : (double)v.i);
}

static double fbin(enum mg_kop op, double a, double b)
{
	switch (op) {
	case MG_KOP_ADD: return a + b;
	case MG_KOP_SUB: return a - b;
	case MG_KOP_MUL: return a * b;
	case MG_KOP_DIV: return a / b;
	case MG_KOP_MIN: return a < b ? a : b;
	case MG_KOP_MAX: return a > b ? a : b;
	default: return NAN;
	}
}

static int64_t ibin(enum mg_kop op, int t, int64_t a, int64_t b)
{
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (op) {
	case MG_KOP_ADD: return wrap(t, ua + ub);
	case MG_KOP_SUB: return wrap(t, ua - ub);
	case MG_KOP_MUL: return wrap(t, ua * ub);
	case MG_KOP_DIV:
		return b == 0 || (b == -1 && a == INT64_MIN) ? 0 : wrap(t, (uint64_t)(a / b));
	case MG_KOP_REM:
		return b == 0 || (b == -1 && a == INT64_MIN) ? 0 : wrap(t, (uint64_t)(a % b));
	case MG_KOP_MIN: return a < b ? a : b;
	case MG_KOP_MAX: return a > b ? a : b;
	case MG_KOP_AND: return a & b;
	case MG_KOP_OR: return a | b;
	case MG_KOP_XOR: return a ^ b;
	default: return 0;
	}
}

static int cmp(enum mg_kop op, int fl, union kval a, union kval b)
{
	if (fl)
		switch (op) {
		case MG_KOP_LT: return a.f < b.f;
		case MG_KOP_LE: return a.f <= b.f;
		case MG_KOP_GT: return a.f > b.f;
		case MG_KOP_GE: return a.f >= b.f;
		case MG_KOP_EQ: return a.f == b.f;
		default: return a.f != b.f;
		}
	switch (op) {
	case MG_KOP_LT: return a.i < b.i;
	case MG_KOP_LE: return a.i <= b.i;
	case MG_KOP_GT: return a.i > b.i;
	case MG_KOP_GE: return a.i >= b.i;
	case MG_KOP_EQ: return a.i == b.i;
	default: return a.i != b.i;
	}
}

static double fun(enum mg_kop op, int t, double a)
{
	double r;
	switch (op) {
	case MG_KOP_NEG: return -a;
	case MG_KOP_ABS: return fabs(a);
	case MG_KOP_SQRT: r = sqrt(a); break;
	case MG_KOP_EXP: r = t == MG_DTYPE_F32 ? expf((float)a) : exp(a); break;
	case MG_KOP_LOG: r = t == MG_DTYPE_F32 ? logf((float)a) : log(a); break;
	case MG_KOP_FLOOR: return floor(a);
	case MG_KOP_CEIL: return ceil(a);
	case MG_KOP_RINT: return nearbyint(a);
	case MG_KOP_TRUNC: return trunc(a);
	default: return NAN;
	}
	return round_to(t, r);
}

static double libm(int fn, double a)
{
	static double (*const f[])(double) = {
#define X(e, name) name,
		MG_KLIBMS(X)
#undef X
	};
	return f[fn](a);
}

/* v's bits (of type from) as type to, the same size. */
static union kval bitcast(int to, int from, union kval v)
{
	unsigned char b[8];
	if (is_float(from)) {
		mg_dtype_store((enum mg_dtype)from, b, v.f);
	} else {
		uint64_t u = (uint64_t)v.i; /* little endian: the low bytes first */
		memcpy(b, &u, sizeof u);
	}
	union kval r = {0};
	if (is_float(to)) {
		r.f = mg_dtype_load((enum mg_dtype)to, b);
	} else {
		uint64_t u = 0;
		memcpy(&u, b, mg_dtype_size((enum mg_dtype)to));
		r.i = wrap(to, u);
	}
	return r;
}

static int64_t philox(int word, int64_t counter, int64_t key)
{
	uint32_t c[4] = {(uint32_t)counter, (uint32_t)((uint64_t)counter >> 32), 0, 0};
	uint32_t k[2] = {(uint32_t)key, (uint32_t)((uint64_t)key >> 32)}, o[4];
	mg_philox4x32(c, k, o);
	return o[word];
}

static int64_t offset_at(const struct mg_ktensor *kt, int rank, const int64_t *idx)
{
	int64_t off = 0;
	for (int a = 0; a < rank; a++)
		off += idx[a] * kt->strides[a];
	return off;
}

static void eval_element(const struct mg_kir *k, const struct mg_kargs *a, const int64_t *idx,
			 union kval *v, double *acc)
{
	for (int32_t n = 0; n < k->nnodes; n++) {
		const struct mg_knode *x = &k->nodes[n];
		int t = x->type, ta = x->a >= 0 ? k->nodes[x->a].type : -1;
		enum mg_kop op = (enum mg_kop)x->op;
		union kval r = {0};
		switch (op) {
		case MG_KOP_CONST: r = param(t, x->f); break;
		case MG_KOP_PARAM: r = param(t, a->p[x->i]); break;
		case MG_KOP_INDEX: r.i = idx[x->i]; break;
		case MG_KOP_DIM: r.i = a->t[x->i].dims[x->j]; break;
		case MG_KOP_STRIDE: r.i = a->t[x->i].strides[x->j]; break;
		case MG_KOP_LOADAT:
			r = load(&a->t[x->i], t, offset_at(&a->t[x->i], k->info.rank, idx));
			break;
		case MG_KOP_LOAD:
			if (x->b < 0 || v[x->b].i)
				r = load(&a->t[x->i], t, v[x->a].i);
			break;
		case MG_KOP_SELECT: r = v[x->a].i ? v[x->b] : v[x->c]; break;
		case MG_KOP_CAST: r = cast(t, ta, v[x->a]); break;
		case MG_KOP_PHILOX: r.i = philox((int)x->i, v[x->a].i, v[x->b].i); break;
		case MG_KOP_LIBM: r.f = libm((int)x->i, v[x->a].f); break;
		case MG_KOP_BITCAST: r = bitcast(t, ta, v[x->a]); break;
		case MG_KOP_NOT: r.i = t == MG_KT_BOOL ? !v[x->a].i : wrap(t, ~(uint64_t)v[x->a].i); break;
		case MG_KOP_NEG:
		case MG_KOP_ABS:
			if (!is_float(t)) {
				int64_t i = v[x->a].i;
				r.i = wrap(t, op == MG_KOP_NEG || i < 0 ? -(uint64_t)i : (uint64_t)i);
				break;
			}
			/* fall through */
		case MG_KOP_SQRT:
		case MG_KOP_EXP:
		case MG_KOP_LOG:
		case MG_KOP_FLOOR:
		case MG_KOP_CEIL:
		case MG_KOP_RINT:
		case MG_KOP_TRUNC:
			r.f = fun(op, t, v[x->a].f);
			break;
		default:
			if (op >= MG_KOP_LT && op <= MG_KOP_NE)
				r.i = cmp(op, is_float(ta), v[x->a], v[x->b]);
			else if (is_float(t))
				r.f = round_to(t, fbin(op, v[x->a].f, v[x->b].f));
			else
				r.i = ibin(op, t, v[x->a].i, v[x->b].i);
			break;
		}
		v[n] = r;
	}
	if (k->store >= 0)
		store(&a->t[0], k->tensor[0].dtype, offset_at(&a->t[0], k->info.rank, idx),
		      v[k->store]);
	for (int r = 0; r < k->info.nred; r++) {
		const struct mg_kreduce *d = &k->red[r];
		if (d->mask >= 0 && !v[d->mask].i)
			continue;
		if (k->info.per[r]) {
			int64_t at = mg_kinfo_per_at(&k->info, a->dims, r) + idx[k->info.per[r] - 1];
			acc[at] = mg_kred_combine(d->kind, acc[at], v[d->value].f);
		} else if (d->kind != MG_KRED_HIST)
			acc[r] = mg_kred_combine(d->kind, acc[r], v[d->value].f);
		else if (v[d->value].i >= 0 && v[d->value].i < k->info.bins[r])
			acc[mg_kinfo_bins_at(&k->info, r) + v[d->value].i] += 1;
	}
}

void mg_kir_eval(const struct mg_kir *k, const struct mg_kargs *a, int64_t lo, int64_t hi,
		 double *acc)
{
	union kval *v = malloc((size_t)(k->nnodes > 0 ? k->nnodes : 1) * sizeof *v);
	if (!v)
		return;
	int rank = k->info.rank, inner = k->info.order[rank - 1];
	int64_t idx[MG_KMAX_RANK] = {0};
	for (int64_t row = lo; row < hi; row++) {
		int64_t r = row;
		for (int i = rank - 2; i >= 0; i--) {
			int ax = k->info.order[i];
			idx[ax] = r % a->dims[ax];
			r /= a->dims[ax];
		}
		for (idx[inner] = 0; idx[inner] < a->dims[inner]; idx[inner]++)
			eval_element(k, a, idx, v, acc);
	}
	free(v);
}

static int interp_run(struct mg_backend *b, const struct mg_kir *k, const struct mg_kargs *a,
		      double *red, struct mg_err *e)
{
	struct mg_kir_interp *it = (struct mg_kir_interp *)b;
	int64_t rows = 1;
	for (int i = 0; i < k->info.rank - 1; i++)
		rows *= a->dims[k->info.order[i]];
	mg_kinfo_acc_init(&k->info, a->dims, red);
	mg_kir_eval(k, a, 0, rows, red);
	__atomic_add_fetch(&it->runs, 1, __ATOMIC_RELAXED);
	return 0;
}

void mg_kir_interp_init(struct mg_kir_interp *it)
{
	it->b.run = interp_run;
	it->runs = 0;
}
