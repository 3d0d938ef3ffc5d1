/* kir_io.c: kernel IR as compact bytes and back (kir.h), the form a compiled pipeline's
 * table of kernels keeps each kernel's identity in. Layout, version "MGK1":
 *
 *   "MGK1"
 *   name       uvarint length, then its bytes (none of them NUL)
 *   rank       u8 (1..5), then order[rank], u8 each
 *   ntensors   u8 (0..8), then per tensor: dtype u8, rank u8
 *   nparams    u8 (0..32)
 *   store      svarint (-1: none)
 *   nred       u8 (0..8), then per reduction: kind u8 (the low 4 bits; the high 4: 1 +
 *              the axis of a reduction kept per axis, else 0), value svarint, mask
 *              svarint, and for a histogram (kind 3) its bins, uvarint (1..4096)
 *   nnodes     uvarint, then per node: op u8, type u8, a byte of flags saying which
 *              fields differ from a builder's defaults (bit 0 a, 1 b, 2 c: -1; 3 i,
 *              4 j: 0; 5 f: +0.0), then those fields: a b c i j as svarints, f as its
 *              8 bytes, little endian
 *
 * uvarint: LEB128, at most 10 bytes; svarint: a zigzagged uvarint.
 * Invariant: the encoding is canonical (shortest varints; a flagged field never holds
 * its default; no trailing bytes): the reader refuses anything else, so a kernel read
 * back writes the same bytes, and equal kernels (mg_kir_equal, same name) equal bytes. */
#include <stdlib.h>
#include <string.h>

#include "kir.h"

static const char magic[4] = {'M', 'G', 'K', '1'};

enum { F_A = 1, F_B = 2, F_C = 4, F_I = 8, F_J = 16, F_F = 32, F_ALL = 63 };

/* ---- writing -------------------------------------------------------------------------- */

struct wbuf {
	unsigned char *p;
	size_t n, cap;
	int failed;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
	if (w->failed)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		while (cap < w->n + n)
			cap *= 2;
		unsigned char *p = realloc(w->p, cap);
		if (!p) {
			w->failed = 1;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void put_u8(struct wbuf *w, unsigned v)
{
	unsigned char b = (unsigned char)v;
	put(w, &b, 1);
}

static void put_uvarint(struct wbuf *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;
	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	put(w, b, n);
}

static void put_svarint(struct wbuf *w, int64_t v)
{
	put_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static uint64_t f_bits(double f)
{
	uint64_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

int mg_kir_write(const struct mg_kir *k, unsigned char **out, size_t *n, struct mg_err *e)
{
	struct wbuf w = {0};
	const char *name = k->name ? k->name : "";
	put(&w, magic, sizeof magic);
	put_uvarint(&w, strlen(name));
	put(&w, name, strlen(name));
	put_u8(&w, (unsigned)k->info.rank);
	for (int i = 0; i < k->info.rank; i++)
		put_u8(&w, (unsigned)k->info.order[i]);
	put_u8(&w, (unsigned)k->ntensors);
	for (int i = 0; i < k->ntensors; i++) {
		put_u8(&w, k->tensor[i].dtype);
		put_u8(&w, k->tensor[i].rank);
	}
	put_u8(&w, (unsigned)k->nparams);
	put_svarint(&w, k->store);
	put_u8(&w, (unsigned)k->info.nred);
	for (int r = 0; r < k->info.nred; r++) {
		put_u8(&w, (unsigned)k->red[r].kind | (unsigned)k->info.per[r] << 4);
		put_svarint(&w, k->red[r].value);
		put_svarint(&w, k->red[r].mask);
		if (k->red[r].kind == MG_KRED_HIST)
			put_uvarint(&w, (uint64_t)k->info.bins[r]);
	}
	put_uvarint(&w, (uint64_t)k->nnodes);
	for (int32_t i = 0; i < k->nnodes; i++) {
		const struct mg_knode *x = &k->nodes[i];
		uint64_t fb = f_bits(x->f);
		unsigned fl = (x->a != -1 ? F_A : 0) | (x->b != -1 ? F_B : 0) |
			      (x->c != -1 ? F_C : 0) | (x->i ? F_I : 0) | (x->j ? F_J : 0) |
			      (fb ? F_F : 0);
		put_u8(&w, x->op);
		put_u8(&w, x->type);
		put_u8(&w, fl);
		if (fl & F_A)
			put_svarint(&w, x->a);
		if (fl & F_B)
			put_svarint(&w, x->b);
		if (fl & F_C)
			put_svarint(&w, x->c);
		if (fl & F_I)
			put_svarint(&w, x->i);
		if (fl & F_J)
			put_svarint(&w, x->j);
		if (fl & F_F) {
			unsigned char b[8];
			for (int j = 0; j < 8; j++)
				b[j] = (unsigned char)(fb >> (8 * j));
			put(&w, b, 8);
		}
	}
	if (w.failed) {
		free(w.p);
		return mg_err_set(e, MG_ERR_NOMEM, "kernel %s: out of memory writing its IR", name);
	}
	*out = w.p;
	*n = w.n;
	return 0;
}

/* ---- reading -------------------------------------------------------------------------- */

struct rbuf {
	const unsigned char *p;
	size_t n, at;
	struct mg_err *e;
};

static int fail(struct rbuf *r, const char *what)
{
	return mg_err_set(r->e, MG_ERR_FORMAT, "kernel IR: %s at byte %zu of %zu", what, r->at,
			  r->n);
}

static int get_u8(struct rbuf *r, unsigned max, const char *what, unsigned *v)
{
	if (r->at >= r->n)
		return fail(r, "truncated");
	if (r->p[r->at] > max)
		return fail(r, what);
	*v = r->p[r->at++];
	return 0;
}

static int get_uvarint(struct rbuf *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int s = 0; s < 10; s++) {
		if (r->at >= r->n)
			return fail(r, "truncated");
		unsigned b = r->p[r->at++];
		if (s == 9 && b > 1)
			return fail(r, "varint too large");
		if (s > 0 && b == 0)
			return fail(r, "varint not in its shortest form");
		x |= (uint64_t)(b & 0x7f) << (7 * s);
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return fail(r, "varint too long");
}

static int get_svarint(struct rbuf *r, int64_t *v)
{
	uint64_t u = 0;
	if (get_uvarint(r, &u))
		return r->e->code;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* A node index, or -1 for none (store, a reduction's mask). */
static int get_ref(struct rbuf *r, int32_t *v)
{
	int64_t x = 0;
	if (get_svarint(r, &x))
		return r->e->code;
	if (x < -1 || x > INT32_MAX)
		return fail(r, "node index out of range");
	*v = (int32_t)x;
	return 0;
}

/* A flagged field must differ from its default (the canonical form). */
static int get_field(struct rbuf *r, int64_t dflt, int64_t *v)
{
	if (get_svarint(r, v))
		return r->e->code;
	return *v == dflt ? fail(r, "a flagged field holds its default") : 0;
}

static int read_node(struct rbuf *r, struct mg_knode *x)
{
	unsigned op, type, fl;
	int64_t v = 0;
	if (get_u8(r, MG_KOP_COUNT - 1, "unknown op", &op) ||
	    get_u8(r, MG_KT_COUNT - 1, "unknown type", &type) ||
	    get_u8(r, F_ALL, "unknown field flags", &fl))
		return r->e->code;
	*x = (struct mg_knode){.op = (uint8_t)op, .type = (uint8_t)type, .a = -1, .b = -1,
			       .c = -1};
	int32_t *abc[3] = {&x->a, &x->b, &x->c};
	for (int i = 0; i < 3; i++)
		if (fl & (F_A << i)) {
			if (get_field(r, -1, &v))
				return r->e->code;
			if (v < INT32_MIN || v > INT32_MAX)
				return fail(r, "node index out of range");
			*abc[i] = (int32_t)v;
		}
	if ((fl & F_I) && get_field(r, 0, &x->i))
		return r->e->code;
	if ((fl & F_J) && get_field(r, 0, &x->j))
		return r->e->code;
	if (fl & F_F) {
		if (r->n - r->at < 8)
			return fail(r, "truncated");
		uint64_t u = 0;
		for (int j = 0; j < 8; j++)
			u |= (uint64_t)r->p[r->at + (size_t)j] << (8 * j);
		if (!u)
			return fail(r, "a flagged field holds its default");
		r->at += 8;
		memcpy(&x->f, &u, sizeof u);
	}
	return 0;
}

static int read_header(struct rbuf *r, struct mg_kir *k, struct mg_arena *arena)
{
	uint64_t len;
	unsigned v, w;
	if (r->n < sizeof magic || memcmp(r->p, magic, sizeof magic))
		return fail(r, "not kernel IR of this version (no MGK1 magic)");
	r->at = sizeof magic;
	if (get_uvarint(r, &len))
		return r->e->code;
	if (len > r->n - r->at)
		return fail(r, "truncated name");
	if (memchr(r->p + r->at, 0, (size_t)len))
		return fail(r, "a NUL byte in the name");
	char *name = mg_arena_alloc(arena, (size_t)len + 1);
	if (!name)
		return mg_err_set(r->e, MG_ERR_NOMEM, "kernel IR: out of memory");
	memcpy(name, r->p + r->at, (size_t)len);
	r->at += (size_t)len;
	if (get_u8(r, MG_KMAX_RANK, "rank above 5", &v))
		return r->e->code;
	mg_kir_init(k, arena, name, (int)v);
	for (int i = 0; i < k->info.rank; i++) {
		if (get_u8(r, (unsigned)k->info.rank - 1, "loop axis outside the rank", &w))
			return r->e->code;
		k->info.order[i] = (int)w;
	}
	if (get_u8(r, MG_KMAX_TENSORS, "too many tensors", &v))
		return r->e->code;
	k->ntensors = (int)v;
	for (int i = 0; i < k->ntensors; i++) {
		if (get_u8(r, MG_DTYPE_COUNT - 1, "unknown dtype", &v) ||
		    get_u8(r, MG_KMAX_RANK, "tensor rank above 5", &w))
			return r->e->code;
		k->tensor[i] = (struct mg_ktensor_decl){(uint8_t)v, (uint8_t)w};
	}
	if (get_u8(r, MG_KMAX_PARAMS, "too many parameters", &v) || get_ref(r, &k->store))
		return r->e->code;
	k->nparams = (int)v;
	if (get_u8(r, MG_KMAX_RED, "too many reductions", &v))
		return r->e->code;
	k->info.nred = (int)v;
	for (int i = 0; i < k->info.nred; i++) {
		if (get_u8(r, MG_KMAX_RANK << 4 | 15, "reduction per an axis above 4", &w) ||
		    get_ref(r, &k->red[i].value) || get_ref(r, &k->red[i].mask))
			return r->e->code;
		k->info.per[i] = (int8_t)(w >> 4);
		w &= 15;
		if (w > MG_KRED_HIST)
			return fail(r, "unknown reduction");
		k->red[i].kind = (enum mg_kred)w;
		k->info.red[i] = (enum mg_kred)w;
		uint64_t bins;
		if (w == MG_KRED_HIST && get_uvarint(r, &bins))
			return r->e->code;
		if (w == MG_KRED_HIST && (bins < 1 || bins > MG_KMAX_BINS))
			return fail(r, "histogram bins outside 1..4096");
		k->info.bins[i] = w == MG_KRED_HIST ? (int32_t)bins : 0;
	}
	return 0;
}

int mg_kir_read(struct mg_kir *k, struct mg_arena *arena, const void *bytes, size_t n,
		struct mg_err *e)
{
	struct rbuf r = {bytes, n, 0, e};
	uint64_t nn;
	memset(k, 0, sizeof *k);
	if (read_header(&r, k, arena) || get_uvarint(&r, &nn))
		return e->code;
	if (nn > (r.n - r.at) / 3 || nn > INT32_MAX) /* every node takes 3 bytes or more */
		return fail(&r, "more nodes than bytes left");
	k->nodes = mg_arena_alloc(arena, (size_t)(nn ? nn : 1) * sizeof *k->nodes);
	if (!k->nodes)
		return mg_err_set(e, MG_ERR_NOMEM, "kernel IR: out of memory");
	k->nnodes = k->cap = (int)nn;
	for (int32_t i = 0; i < k->nnodes; i++)
		if (read_node(&r, &k->nodes[i]))
			return e->code;
	if (r.at != r.n)
		return fail(&r, "bytes after the last node");
	if (mg_kir_verify(k, e)) {
		e->code = MG_ERR_FORMAT;
		mg_err_prefix(e, "kernel IR");
		return e->code;
	}
	return 0;
}
