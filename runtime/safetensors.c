/* safetensors.c: reading and writing safetensors files, checked as the format's reference
 * implementation checks them (the Rust crate behind the `safetensors` Python package).
 * Invariant: an open file's entries are sorted by data offset and tile the data area
 * exactly; `byname` indexes them sorted by name, for lookup and the duplicate check.
 * Read next: safetensors.h, docs/weights.md, tests/test_safetensors.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "safetensors.h"

/* Data is stored as it sits in memory. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors.c assumes little-endian");

enum { MAX_HEADER = 100000000 }; /* the reference implementation's limit */

/* The format's dtype names; `order` is the reference writer's sort key (its Dtype enum
 * order, written widest first), so files come out byte for byte as Python writes them. */
static const struct {
	const char *name;
	enum mg_dtype t;
	int order;
} st_dtypes[] = {
	{"U8", MG_DTYPE_U8, 1},     {"I8", MG_DTYPE_I8, 2},	  {"I16", MG_DTYPE_I16, 3},
	{"U16", MG_DTYPE_U16, 4},   {"F16", MG_DTYPE_F16, 5},	  {"BF16", MG_DTYPE_BF16, 6},
	{"I32", MG_DTYPE_I32, 7},   {"U32", MG_DTYPE_U32, 8},	  {"F32", MG_DTYPE_F32, 9},
	{"F64", MG_DTYPE_F64, 10},  {"I64", MG_DTYPE_I64, 11},
	{"BOOL", MG_DTYPE_U8, 0}, /* last: uint8 is written as U8 */
};
#define NDTYPES (sizeof st_dtypes / sizeof *st_dtypes)

struct st_entry {
	char *name;
	enum mg_dtype dtype;
	int rank;
	int64_t dims[MG_MAX_RANK];
	uint64_t begin, end; /* in the data area */
};

struct mg_safetensors {
	char *path;
	struct mg_buffer *map; /* the whole file */
	uint64_t data_start;   /* 8 + header length */
	int n;
	struct st_entry *t;      /* by data offset */
	struct st_entry **byname; /* by name */
	char **meta;             /* key, value, ..., NULL */
};

/* Whether s[0..n) is UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as
 * the reference implementation requires of the header. */
static int st_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
			: c >= 0xf0 && c < 0xf5 ? 3 : 9;
		if (k == 9 || n - i <= k)
			return k == 0;
		unsigned lo = 0x80, hi = 0xbf, c1 = k ? s[i + 1] : 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (k && (c1 < lo || c1 > hi))
			return 0;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

static int st_cmp_offsets(const void *a, const void *b)
{
	const struct st_entry *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int st_cmp_names(const void *a, const void *b)
{
	return strcmp((*(struct st_entry *const *)a)->name, (*(struct st_entry *const *)b)->name);
}

static int st_cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A JSON number that is a whole number in [0, 2^53]: cJSON keeps numbers as doubles,
 * which are exact up to there (and cannot tell 2 from 2.0, which the reference refuses). */
static int st_uint(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static void st_unmap(void *ctx, void *data) { munmap(data, (size_t)(uintptr_t)ctx); }

void mg_safetensors_close(struct mg_safetensors *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->n; i++)
		free(st->t[i].name);
	for (char **m = st->meta; m && *m; m++)
		free(*m);
	free(st->meta);
	free(st->t);
	free(st->byname);
	mg_buffer_release(st->map);
	free(st->path);
	free(st);
}

/* One entry:  name: {"dtype": str, "shape": [uint...], "data_offsets": [uint, uint]}  */
static int st_entry_parse(struct mg_safetensors *st, const cJSON *v, struct st_entry *t,
			  uint64_t data_len, struct mg_err *e)
{
	const char *p = st->path, *name = v->string;
	if (!cJSON_IsObject(v))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s': expected a dict, got %s", p,
				  name, mg_json_kind(v));
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(v, "shape");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
	const char *missing = !dt ? "dtype" : !sh ? "shape" : !off ? "data_offsets" : NULL;
	if (missing)
		return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s' has no '%s'", p, name, missing);
	if (!cJSON_IsString(dt))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s': dtype is %s, not a string", p,
				  name, mg_json_kind(dt));
	size_t k = 0;
	while (k < NDTYPES && strcmp(st_dtypes[k].name, dt->valuestring) != 0)
		k++;
	if (k == NDTYPES)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s: tensor '%s': dtype '%s' is not one mgc reads (F64 F32 F16 "
				  "BF16 I64 I32 U32 I16 U16 I8 U8 BOOL)", p, name, dt->valuestring);
	t->dtype = st_dtypes[k].t;
	if (!cJSON_IsArray(sh))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s': shape is %s, not a list", p,
				  name, mg_json_kind(sh));
	int rank = cJSON_GetArraySize(sh);
	if (rank > MG_MAX_RANK)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s: tensor '%s' has %d dimensions, mgc handles up to %d", p, name,
				  rank, MG_MAX_RANK);
	t->rank = rank;
	int64_t numel = 1;
	const cJSON *d;
	int i = 0;
	cJSON_ArrayForEach(d, sh) {
		uint64_t u;
		if (st_uint(d, &u))
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: tensor '%s': shape entry %d is not an integer in "
					  "0..2^53", p, name, i);
		t->dims[i++] = (int64_t)u;
		if (__builtin_mul_overflow(numel, (int64_t)u, &numel))
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: tensor '%s': the shape's element count overflows", p,
					  name);
	}
	uint64_t b, en, bytes;
	if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
	    st_uint(off->child, &b) || st_uint(off->child->next, &en) || b > en)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: tensor '%s': data_offsets must be [begin, end] with "
				  "0 <= begin <= end", p, name);
	if (__builtin_mul_overflow((uint64_t)numel, mg_dtype_size(t->dtype), &bytes))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s': the byte count overflows", p,
				  name);
	if (en - b != bytes)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but "
				  "%s %lld elements take %llu", p, name, (unsigned long long)b,
				  (unsigned long long)en, (unsigned long long)(en - b),
				  dt->valuestring, (long long)numel, (unsigned long long)bytes);
	if (en > data_len)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: tensor '%s': data_offsets [%llu, %llu] end outside the data "
				  "area (%llu bytes)", p, name, (unsigned long long)b,
				  (unsigned long long)en, (unsigned long long)data_len);
	t->begin = b;
	t->end = en;
	if (!(t->name = strdup(name)))
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	return 0;
}

/* __metadata__: {str: str} or null */
static int st_meta_parse(struct mg_safetensors *st, const cJSON *m, struct mg_err *e)
{
	const char *p = st->path;
	if (cJSON_IsNull(m))
		return 0;
	if (!cJSON_IsObject(m))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: '__metadata__' is %s, not a dict", p,
				  mg_json_kind(m));
	int n = cJSON_GetArraySize(m), k = 0;
	if (!(st->meta = calloc(2 * (size_t)n + 1, sizeof *st->meta)))
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	const cJSON *v;
	cJSON_ArrayForEach(v, m) {
		if (!cJSON_IsString(v))
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: '__metadata__' key '%s' is %s, not a string", p,
					  v->string, mg_json_kind(v));
		if (!(st->meta[k++] = strdup(v->string)) || !(st->meta[k++] = strdup(v->valuestring)))
			return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	}
	char **keys = malloc((size_t)n * sizeof *keys + 1);
	if (!keys)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	for (int i = 0; i < n; i++)
		keys[i] = st->meta[2 * i];
	qsort(keys, (size_t)n, sizeof *keys, st_cmp_strings);
	for (int i = 1; i < n; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			int rc = mg_err_set(e, MG_ERR_FORMAT, "%s: '__metadata__' key '%s' appears "
					    "twice", p, keys[i]);
			free(keys);
			return rc;
		}
	free(keys);
	return 0;
}

/* The checks that need all entries: unique names, and tensors that tile the data area. */
static int st_layout_check(struct mg_safetensors *st, uint64_t data_len, struct mg_err *e)
{
	const char *p = st->path;
	qsort(st->t, (size_t)st->n, sizeof *st->t, st_cmp_offsets);
	for (int i = 0; i < st->n; i++)
		st->byname[i] = &st->t[i];
	qsort(st->byname, (size_t)st->n, sizeof *st->byname, st_cmp_names);
	for (int i = 1; i < st->n; i++)
		if (strcmp(st->byname[i - 1]->name, st->byname[i]->name) == 0)
			return mg_err_set(e, MG_ERR_FORMAT, "%s: tensor '%s' appears twice", p,
					  st->byname[i]->name);
	uint64_t at = 0;
	for (int i = 0; i < st->n; i++) {
		const struct st_entry *t = &st->t[i];
		if (t->begin < at)
			return mg_err_set(e, MG_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", p,
					  st->t[i - 1].name, t->name);
		if (t->begin > at)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: tensor '%s': bytes %llu..%llu before it belong to no "
					  "tensor", p, t->name, (unsigned long long)at,
					  (unsigned long long)t->begin);
		at = t->end;
	}
	if (at != data_len)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: %llu bytes after the last tensor belong to none", p,
				  (unsigned long long)(data_len - at));
	return 0;
}

static int st_parse(struct mg_safetensors *st, const char *base, uint64_t size,
		    struct mg_err *e)
{
	const char *p = st->path;
	uint64_t hlen = 0;
	if (size < 8)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: %llu bytes is too short for a safetensors file", p,
				  (unsigned long long)size);
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | (unsigned char)base[i];
	if (hlen > MAX_HEADER)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: header length %llu is absurd (the limit is %d bytes)", p,
				  (unsigned long long)hlen, MAX_HEADER);
	if (hlen > size - 8)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: header length %llu runs past the end of the file (%llu bytes)",
				  p, (unsigned long long)hlen, (unsigned long long)size);
	const char *h = base + 8, *end = NULL;
	if (hlen == 0 || h[0] != '{')
		return mg_err_set(e, MG_ERR_FORMAT, "%s: the header does not start with '{'", p);
	if (!st_utf8((const unsigned char *)h, hlen))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: the header is not UTF-8", p);
	cJSON *root = cJSON_ParseWithLengthOpts(h, hlen, &end, 0);
	if (!root)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: the header is not valid JSON (near byte %lld of it)", p,
				  end ? (long long)(end - h) : -1LL);
	int rc = 0;
	for (const char *q = end; q < h + hlen && !rc; q++)
		if (!strchr(" \t\r\n", *q) || !*q)
			rc = mg_err_set(e, MG_ERR_FORMAT,
					"%s: the header has bytes other than spaces after its JSON", p);
	st->data_start = 8 + hlen;
	uint64_t data_len = size - st->data_start;
	int n = rc ? 0 : cJSON_GetArraySize(root);
	if (!rc && (!(st->t = calloc((size_t)n + 1, sizeof *st->t)) ||
		    !(st->byname = calloc((size_t)n + 1, sizeof *st->byname))))
		rc = mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	const cJSON *v;
	int nmeta = 0;
	for (v = rc ? NULL : root->child; v && !rc; v = v->next) {
		if (strcmp(v->string, "__metadata__") == 0) {
			rc = nmeta++ ? mg_err_set(e, MG_ERR_FORMAT,
						  "%s: '__metadata__' appears twice", p)
				     : st_meta_parse(st, v, e);
			continue;
		}
		rc = st_entry_parse(st, v, &st->t[st->n], data_len, e);
		if (!rc)
			st->n++;
	}
	cJSON_Delete(root);
	if (!rc)
		rc = st_layout_check(st, data_len, e);
	if (!rc && !st->meta && !(st->meta = calloc(1, sizeof *st->meta)))
		rc = mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", p);
	return rc;
}

int mg_safetensors_open(const char *path, struct mg_safetensors **out, struct mg_err *e)
{
	char ebuf[128];
	struct stat sb;
	*out = NULL;
	struct mg_safetensors *st = calloc(1, sizeof *st);
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: cannot open: %s", path,
				mg_strerror(errno, ebuf, sizeof ebuf));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: not a regular file", path);
		goto done;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (size < 8) {
		rc = st_parse(st, "", size, e);
		goto done;
	}
	/* Private and writable: tensors are copy-on-write views; nothing reaches the file. */
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: cannot map: %s", path,
				mg_strerror(errno, ebuf, sizeof ebuf));
		goto done;
	}
	if (!(st->map = mg_buffer_wrap(base, size, st_unmap, (void *)(uintptr_t)size))) {
		munmap(base, size);
		rc = mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
		goto done;
	}
	rc = st_parse(st, base, size, e);
done:
	if (fd >= 0)
		close(fd);
	if (rc)
		mg_safetensors_close(st);
	else
		*out = st;
	return rc;
}

int mg_safetensors_count(const struct mg_safetensors *st) { return st->n; }

const char *mg_safetensors_name(const struct mg_safetensors *st, int i)
{
	return i >= 0 && i < st->n ? st->t[i].name : NULL;
}

int mg_safetensors_find(const struct mg_safetensors *st, const char *name)
{
	struct st_entry key = {.name = (char *)name}, *kp = &key;
	struct st_entry **hit = bsearch(&kp, st->byname, (size_t)st->n, sizeof *st->byname,
					st_cmp_names);
	return hit ? (int)(*hit - st->t) : -1;
}

const char *const *mg_safetensors_metadata(const struct mg_safetensors *st)
{
	return (const char *const *)st->meta;
}

int mg_safetensors_get(const struct mg_safetensors *st, const char *name,
		       struct mg_tensor *out, struct mg_err *e)
{
	memset(out, 0, sizeof *out);
	int i = mg_safetensors_find(st, name);
	if (i < 0)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: no tensor '%s'", st->path, name);
	const struct st_entry *t = &st->t[i];
	uint64_t at = st->data_start + t->begin, es = mg_dtype_size(t->dtype);
	if (at % es != 0) { /* the mapping is page-aligned, so the data is not */
		int rc = mg_tensor_alloc(out, t->dtype, t->rank, t->dims, e);
		if (rc) {
			mg_err_prefix(e, "%s: tensor '%s': ", st->path, name);
			return rc;
		}
		memcpy(out->buf->data, (const char *)st->map->data + at, t->end - t->begin);
		return 0;
	}
	out->dtype = t->dtype;
	out->rank = t->rank;
	int64_t s = 1;
	for (int k = t->rank - 1; k >= 0; k--) {
		out->dims[k] = t->dims[k];
		out->strides[k] = s;
		s *= t->dims[k];
	}
	mg_buffer_retain(st->map);
	out->buf = st->map;
	out->offset = (int64_t)(at / es);
	return 0;
}

/* ---- writing ----------------------------------------------------------------------- */

struct st_sb { /* the header as it grows */
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_put(struct st_sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 256;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

static void sb_puts(struct st_sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_uint(struct st_sb *b, uint64_t v)
{
	char num[24];
	sb_put(b, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)v));
}

/* A JSON string escaped as serde_json escapes it (the reference writer): quote,
 * backslash and control characters only; UTF-8 goes through as it is. */
static void sb_json(struct st_sb *b, const char *s)
{
	sb_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
			: c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
			: NULL;
		char u[8];
		if (esc)
			sb_puts(b, esc);
		else if (c < 0x20)
			sb_put(b, u, (size_t)snprintf(u, sizeof u, "\\u%04x", c));
		else
			sb_put(b, s, 1);
	}
	sb_put(b, "\"", 1);
}

struct st_item {
	const char *name;
	const struct mg_tensor *t;
	int k; /* index in st_dtypes */
};

static int st_cmp_write(const void *a, const void *b)
{
	const struct st_item *x = a, *y = b;
	int ox = st_dtypes[x->k].order, oy = st_dtypes[y->k].order;
	return ox != oy ? oy - ox : strcmp(x->name, y->name);
}

/* Checks what the file must satisfy to be read back, and fills items. */
static int st_write_check(const char *path, int n, const char *const *names,
			  const struct mg_tensor *tensors, const char *const *meta,
			  struct st_item *items, struct mg_err *e)
{
	int nmeta = 0;
	while (meta && meta[2 * nmeta])
		nmeta++;
	for (int i = 0; i < 2 * nmeta; i++)
		if (!meta[i] || !st_utf8((const unsigned char *)meta[i], strlen(meta[i])))
			return mg_err_set(e, MG_ERR_CONFIG, "%s: metadata %s %d is %s", path,
					  i % 2 ? "value" : "key", i / 2,
					  meta[i] ? "not UTF-8" : "missing");
	for (int i = 0; i < nmeta; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(meta[2 * i], meta[2 * j]) == 0)
				return mg_err_set(e, MG_ERR_CONFIG,
						  "%s: metadata key '%s' appears twice", path,
						  meta[2 * i]);
	for (int i = 0; i < n; i++) {
		const char *name = names[i];
		const struct mg_tensor *t = &tensors[i];
		if (!name)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: tensor %d has no name", path, i);
		if (!st_utf8((const unsigned char *)name, strlen(name)))
			return mg_err_set(e, MG_ERR_CONFIG, "%s: tensor %d: its name is not UTF-8",
					  path, i);
		if (strcmp(name, "__metadata__") == 0)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: tensor %d: '__metadata__' is the "
					  "format's name for metadata", path, i);
		if ((unsigned)t->dtype >= MG_DTYPE_COUNT || t->rank < 0 || t->rank > MG_MAX_RANK)
			return mg_err_set(e, MG_ERR_INTERNAL, "%s: tensor '%s': bad dtype or rank",
					  path, name);
		for (int d = 0; d < t->rank; d++)
			if (t->dims[d] < 0)
				return mg_err_set(e, MG_ERR_SHAPE, "%s: tensor '%s': dimension %d "
						  "is negative", path, name, d);
		if (!t->buf && mg_tensor_numel(t) > 0)
			return mg_err_set(e, MG_ERR_SHAPE, "%s: tensor '%s' has no data", path,
					  name);
		size_t k = 0;
		while (st_dtypes[k].t != t->dtype)
			k++;
		items[i] = (struct st_item){name, t, (int)k};
	}
	const char **sorted = malloc((size_t)n * sizeof *sorted + 1);
	if (!sorted)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	for (int i = 0; i < n; i++)
		sorted[i] = names[i];
	qsort(sorted, (size_t)n, sizeof *sorted, st_cmp_strings);
	int rc = 0;
	for (int i = 1; i < n && !rc; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			rc = mg_err_set(e, MG_ERR_CONFIG, "%s: tensor '%s' appears twice", path,
					sorted[i]);
	free(sorted);
	qsort(items, (size_t)n, sizeof *items, st_cmp_write);
	return rc;
}

/* The tensor's elements in C order. 0, or an errno. */
static int st_put_tensor(FILE *f, const struct mg_tensor *t)
{
	size_t es = mg_dtype_size(t->dtype), numel = (size_t)mg_tensor_numel(t);
	if (numel == 0)
		return 0;
	const char *base = mg_tensor_data(t);
	if (mg_tensor_is_contiguous(t))
		return fwrite(base, es, numel, f) == numel ? 0 : errno ? errno : EIO;
	struct mg_iter it;
	const int64_t *sp[1] = {t->strides};
	mg_iter_init(&it, t->rank, t->dims, 1, sp);
	char *row = malloc((size_t)it.inner * es);
	if (!row)
		return ENOMEM;
	int err = 0;
	for (; !it.done && !err; mg_iter_next_row(&it)) {
		for (int64_t i = 0; i < it.inner; i++)
			memcpy(row + (size_t)i * es, base + (it.off[0] + i * it.istride[0]) * (int64_t)es,
			       es);
		if (fwrite(row, es, (size_t)it.inner, f) != (size_t)it.inner)
			err = errno ? errno : EIO;
	}
	free(row);
	return err;
}

/* {"__metadata__":{k:v,...},name:{"dtype":D,"shape":[...],"data_offsets":[b,e]},...}
 * padded with spaces to a multiple of 8, as the reference writer does. */
static void st_header(struct st_sb *b, int n, const struct st_item *items,
		      const char *const *meta)
{
	uint64_t at = 0;
	sb_puts(b, "{");
	if (meta && meta[0]) {
		sb_puts(b, "\"__metadata__\":{");
		for (int i = 0; meta[i]; i += 2) {
			if (i)
				sb_puts(b, ",");
			sb_json(b, meta[i]);
			sb_puts(b, ":");
			sb_json(b, meta[i + 1]);
		}
		sb_puts(b, n ? "}," : "}");
	}
	for (int i = 0; i < n; i++) {
		const struct mg_tensor *t = items[i].t;
		sb_json(b, items[i].name);
		sb_puts(b, ":{\"dtype\":");
		sb_json(b, st_dtypes[items[i].k].name);
		sb_puts(b, ",\"shape\":[");
		for (int d = 0; d < t->rank; d++) {
			if (d)
				sb_puts(b, ",");
			sb_uint(b, (uint64_t)t->dims[d]);
		}
		sb_puts(b, "],\"data_offsets\":[");
		sb_uint(b, at);
		sb_puts(b, ",");
		at += (uint64_t)mg_tensor_numel(t) * mg_dtype_size(t->dtype);
		sb_uint(b, at);
		sb_puts(b, i + 1 < n ? "]}," : "]}");
	}
	sb_puts(b, "}");
	while (b->len % 8)
		sb_puts(b, " ");
}

int mg_safetensors_write(const char *path, int n, const char *const *names,
			 const struct mg_tensor *tensors, const char *const *metadata,
			 struct mg_err *e)
{
	char ebuf[128], *tmp = NULL;
	if (n < 0)
		return mg_err_set(e, MG_ERR_INTERNAL, "%s: %d tensors", path, n);
	struct st_item *items = malloc((size_t)n * sizeof *items + 1);
	struct st_sb b = {0};
	if (!items)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	int rc = st_write_check(path, n, names, tensors, metadata, items, e);
	if (!rc)
		st_header(&b, n, items, metadata);
	if (!rc && b.oom)
		rc = mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	int fd = rc ? -1 : mg_file_temp(path, "", &tmp, e);
	if (fd < 0) {
		free(items);
		free(b.s);
		return rc ? rc : fd;
	}
	FILE *f = fdopen(fd, "wb");
	int err = f ? 0 : errno;
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
	if (!err && (fwrite(len, 1, 8, f) != 8 || fwrite(b.s, 1, b.len, f) != b.len))
		err = errno ? errno : EIO;
	for (int i = 0; i < n && !err; i++)
		err = st_put_tensor(f, items[i].t);
	if (f ? fclose(f) != 0 : close(fd) != 0)
		err = err ? err : errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		rc = mg_err_set(e, MG_ERR_IO, "%s: write failed: %s", path,
				mg_strerror(err, ebuf, sizeof ebuf));
	}
	free(tmp);
	free(items);
	free(b.s);
	return rc;
}
