/* plan_io.c: plans as bytes and back: what `mgc compile` embeds in an executable and
 * examples/embed.c loads. Ops and attributes are named by name, so a reader resolves them
 * in its own build's op table and refuses a plan whose ops have changed since.
 * Invariant: the reader checks every count, index and length against the bytes left
 * before it allocates or indexes anything, so a truncated or corrupt blob is an error,
 * never a crash; the CRC-32 at the end catches corruption the structure cannot show.
 * Layout (little-endian; str := u32 length (0xffffffff: NULL), the bytes, no NUL in them;
 * tstr := a str that may hold parameter templates, plan.h):
 *   "MGCPLAN\0" u32 format
 *   u32 nparams {str name, str value}
 *   u8 datasrc kind, str where; ITEMS: u32 n {u32 nfields {str key, u32 n {tstr}}}
 *                               DECATHLON: tstr path, key, base_dir, i32 is_seg, fold, excl
 *   u32 nslots, nsteps, ninputs; {str key, u32 slot} per input; i32 last_use per slot
 *   per step: str op, label, key; u8 optional; u32 nin {u32 slot, str in_key};
 *             u32 nout {u32 slot}; attrs
 *   attrs := u32 n {str name, u8 type, u8 is_none, value unless is_none}
 *   value := BOOL INT DTYPE: i64 | FLOAT: f64 | STR: tstr | INTS: u32 n {i64} |
 *            FLOATS: u32 n {f64} | STRS: u32 n {tstr} | CHAIN: u32 n {str op, str label, attrs}
 *   u32 CRC-32 of every byte before it
 * Read next: plan.h, tools/compile.c (the writer's user), tools/standalone/main.c. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plan.h"

static const char magic[8] = "MGCPLAN";
enum { NULL_STR = -1, MAX_DEPTH = 4 /* chains in chains: none today */ };

/* ---- templates ------------------------------------------------------------------------ */

/* The parameter a template marker at s (0x01) names, its end in *end; -1 when s is not a
 * marker of a parameter below nparams. */
static int marker(const char *s, int nparams, const char **end)
{
	long i = 0;
	const char *p = s + 1;
	if (*s != 1 || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9' && i < nparams; p++)
		i = i * 10 + (*p - '0');
	if (*p != 2 || i >= nparams)
		return -1;
	*end = p + 1;
	return (int)i;
}

/* 0 when every 0x01 in s starts a marker of a parameter below nparams; *nmark counts
 * them. */
static int template_ok(const char *s, int nparams, int *nmark)
{
	*nmark = 0;
	for (const char *p = s; p && (p = strchr(p, 1)); (*nmark)++)
		if (marker(p, nparams, &p) < 0)
			return -1;
	return 0;
}

struct mg_plan_site {
	const char **slot; /* where the rendered string goes */
	const char *tmpl;
};

/* tmpl with each marker replaced by its parameter's value, in f's arena. */
static const char *render(struct mg_plan_file *f, const char *tmpl)
{
	size_t n = 0;
	const char *p, *end;
	for (p = tmpl; *p; p++) {
		int i = marker(p, f->nparams, &end);
		n += i < 0 ? 1 : strlen(f->params[i].value);
		p = i < 0 ? p : end - 1;
	}
	char *out = mg_arena_alloc(&f->arena, n + 1), *o = out;
	for (p = tmpl; out && *p; p++) {
		int i = marker(p, f->nparams, &end);
		if (i < 0) {
			*o++ = *p;
			continue;
		}
		size_t len = strlen(f->params[i].value);
		memcpy(o, f->params[i].value, len);
		o += len;
		p = end - 1;
	}
	return out;
}

int mg_plan_set_param(struct mg_plan_file *f, const char *name, const char *value,
		      struct mg_err *e)
{
	int i = 0;
	while (i < f->nparams && strcmp(f->params[i].name, name) != 0)
		i++;
	if (i == f->nparams) {
		char list[512] = "";
		for (int k = 0; k < f->nparams; k++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
				 k ? ", " : "", f->params[k].name);
		return mg_err_set(e, MG_ERR_CONFIG, "'%s' is not a run-time parameter of this "
				  "plan (%s%s)", name, f->nparams ? "parameters: " : "it has none",
				  list);
	}
	if (!value || !(f->params[i].value = mg_arena_strdup(&f->arena, value)))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int k = 0; k < f->nsites; k++)
		if (!(*f->sites[k].slot = render(f, f->sites[k].tmpl)))
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- writing -------------------------------------------------------------------------- */

struct wbuf {
	unsigned char *p;
	size_t n, cap;
	const struct mg_optab *t;
	int nparams;
	struct mg_err *e;
};

static void put(struct wbuf *w, const void *x, size_t n)
{
	if (w->e->code)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->n + n)
			cap *= 2;
		unsigned char *p = realloc(w->p, cap);
		if (!p) {
			mg_err_set(w->e, MG_ERR_NOMEM, "out of memory writing the plan");
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, x, n);
	w->n += n;
}

static void put_u64(struct wbuf *w, uint64_t v, int bytes)
{
	unsigned char b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, (size_t)bytes);
}

static void put_u8(struct wbuf *w, int v) { put_u64(w, (uint64_t)v, 1); }
static void put_u32(struct wbuf *w, int64_t v) { put_u64(w, (uint64_t)v, 4); }

static void put_f64(struct wbuf *w, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_u64(w, v, 8);
}

static void put_str(struct wbuf *w, const char *s)
{
	put_u32(w, s ? (int64_t)strlen(s) : NULL_STR);
	if (s)
		put(w, s, strlen(s));
}

static void put_tstr(struct wbuf *w, const char *s)
{
	int n;
	if (s && template_ok(s, w->nparams, &n))
		mg_err_set(w->e, MG_ERR_INTERNAL, "the string \"%s\" holds a byte 0x01 that names "
			   "no parameter", s);
	put_str(w, s);
}

static int find_op(const struct mg_optab *t, const char *name)
{
	for (int i = 0; name && i < t->nops; i++)
		if (strcmp(t->name(i), name) == 0)
			return i;
	return -1;
}

static void put_attrs(struct wbuf *w, int op, const struct mg_attr *a)
{
	int n = w->t->nattrs(op);
	put_u32(w, n);
	for (int k = 0; k < n && !w->e->code; k++) {
		enum mg_attr_type type;
		put_str(w, w->t->attr(op, k, &type));
		put_u8(w, type);
		put_u8(w, a[k].is_none);
		if (a[k].is_none)
			continue;
		switch (type) {
		case MG_ATTR_BOOL: case MG_ATTR_INT: case MG_ATTR_DTYPE:
			put_u64(w, (uint64_t)a[k].v.i, 8);
			break;
		case MG_ATTR_FLOAT:
			put_f64(w, a[k].v.f);
			break;
		case MG_ATTR_STR:
			put_tstr(w, a[k].v.s);
			break;
		case MG_ATTR_INTS: case MG_ATTR_FLOATS: case MG_ATTR_STRS:
			put_u32(w, a[k].n);
			for (int j = 0; j < a[k].n; j++)
				type == MG_ATTR_INTS	   ? put_u64(w, (uint64_t)a[k].v.ints[j], 8)
				: type == MG_ATTR_FLOATS ? put_f64(w, a[k].v.floats[j])
							 : put_tstr(w, a[k].v.strs[j]);
			break;
		case MG_ATTR_CHAIN: {
			const struct mg_chain *c = a[k].v.chain;
			put_u32(w, c->n);
			for (int j = 0; j < c->n && !w->e->code; j++) {
				if (c->ops[j] >= w->t->nops) {
					mg_err_set(w->e, MG_ERR_INTERNAL, "a chain names op %d of %d",
						   c->ops[j], w->t->nops);
					return;
				}
				put_str(w, w->t->name(c->ops[j]));
				put_str(w, c->labels[j]);
				put_attrs(w, c->ops[j], c->attrs[j]);
			}
			break;
		}
		}
	}
}

static void put_datasrc(struct wbuf *w, const struct mg_datasrc *d)
{
	put_u8(w, d ? d->kind : MG_DATASRC_NONE);
	put_str(w, d ? d->where : NULL);
	if (d && d->kind == MG_DATASRC_ITEMS) {
		put_u32(w, d->items.n);
		for (int i = 0; i < d->items.n; i++) {
			const struct mg_item *it = &d->items.items[i];
			put_u32(w, it->nfields);
			for (int f = 0; f < it->nfields; f++) {
				put_str(w, it->fields[f].key);
				put_u32(w, it->fields[f].nstr);
				for (int j = 0; j < it->fields[f].nstr; j++)
					put_tstr(w, it->fields[f].str[j]);
			}
		}
	} else if (d && d->kind == MG_DATASRC_DECATHLON) {
		put_tstr(w, d->path);
		put_tstr(w, d->key);
		put_tstr(w, d->base_dir);
		put_u32(w, d->is_segmentation);
		put_u32(w, d->fold);
		put_u32(w, d->fold_exclude);
	}
}

int mg_plan_write(const struct mg_plan *p, const struct mg_datasrc *data,
		  const struct mg_plan_param *params, int nparams, const struct mg_optab *t,
		  void **blob, size_t *n, struct mg_err *e)
{
	struct wbuf w = {.t = t, .nparams = nparams, .e = e};
	*blob = NULL;
	*n = 0;
	if (e->code)
		return e->code;
	put(&w, magic, sizeof magic);
	put_u32(&w, MG_PLAN_FORMAT);
	put_u32(&w, nparams);
	for (int i = 0; i < nparams; i++) {
		put_str(&w, params[i].name);
		put_str(&w, params[i].value);
	}
	put_datasrc(&w, data);
	put_u32(&w, p->nslots);
	put_u32(&w, p->nsteps);
	put_u32(&w, p->ninputs);
	for (int i = 0; i < p->ninputs; i++) {
		put_str(&w, p->inputs[i].key);
		put_u32(&w, p->inputs[i].slot);
	}
	for (int i = 0; i < p->nslots; i++)
		put_u32(&w, p->last_use[i]);
	for (int i = 0; i < p->nsteps && !e->code; i++) {
		const struct mg_step *s = &p->steps[i];
		int op = find_op(t, s->op);
		if (op < 0) {
			mg_err_set(e, MG_ERR_INTERNAL, "step %d: op '%s' is not in the op table", i,
				   s->op ? s->op : "?");
			break;
		}
		put_str(&w, s->op);
		put_str(&w, s->label);
		put_str(&w, s->key);
		put_u8(&w, s->optional != 0);
		put_u32(&w, s->nin);
		for (int k = 0; k < s->nin; k++) {
			put_u32(&w, s->in[k]);
			put_str(&w, s->in_key[k]);
		}
		put_u32(&w, s->nout);
		for (int k = 0; k < s->nout; k++)
			put_u32(&w, s->out[k]);
		put_attrs(&w, op, s->attrs);
		if (e->code)
			mg_err_prefix(e, "step %d (%s)", i, s->op);
	}
	put_u32(&w, w.e->code ? 0 : (int64_t)crc32(0, w.p, (uInt)w.n));
	if (e->code) {
		free(w.p);
		return e->code;
	}
	*blob = w.p;
	*n = w.n;
	return 0;
}

/* ---- reading -------------------------------------------------------------------------- */

struct rbuf {
	const unsigned char *p;
	size_t n, at; /* n: the end of the body (the CRC excluded) */
	struct mg_plan_file *f;
	const struct mg_optab *t;
	struct mg_err *e;
};

/* Sets the error once: where the bytes stopped making sense and what was expected. */
static int bad(struct rbuf *r, const char *what)
{
	return mg_err_set(r->e, MG_ERR_FORMAT, "corrupt or truncated plan: %s at byte %zu",
			  what, r->at);
}

static uint64_t get_u64(struct rbuf *r, int bytes, const char *what)
{
	uint64_t v = 0;
	if (r->e->code)
		return 0;
	if (r->n - r->at < (size_t)bytes)
		return bad(r, what), 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->at + (size_t)i] << (8 * i);
	r->at += (size_t)bytes;
	return v;
}

static int get_u8(struct rbuf *r, const char *what) { return (int)get_u64(r, 1, what); }
static int32_t get_i32(struct rbuf *r, const char *what)
{
	return (int32_t)(uint32_t)get_u64(r, 4, what);
}

static double get_f64(struct rbuf *r, const char *what)
{
	uint64_t v = get_u64(r, 8, what);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

/* A count of things that take at least `each` bytes apiece: never more than the bytes
 * left allow, so what is allocated for them stays proportional to the blob. */
static int get_count(struct rbuf *r, size_t each, const char *what)
{
	int64_t n = get_i32(r, what);
	if (!r->e->code && (n < 0 || (uint64_t)n * each > r->n - r->at))
		return bad(r, what), 0;
	return r->e->code ? 0 : (int)n;
}

/* An index below lim (lo: -1 allows -1). */
static int get_index(struct rbuf *r, int lo, int lim, const char *what)
{
	int v = get_i32(r, what);
	if (!r->e->code && (v < lo || v >= lim))
		return bad(r, what), 0;
	return v;
}

static const char *get_str(struct rbuf *r, const char *what)
{
	int64_t n = get_i32(r, what);
	if (r->e->code || n == NULL_STR)
		return NULL;
	if (n < 0 || (uint64_t)n > r->n - r->at || memchr(r->p + r->at, 0, (size_t)n))
		return bad(r, what), NULL;
	char *s = mg_arena_alloc(&r->f->arena, (size_t)n + 1);
	if (!s)
		return mg_err_set(r->e, MG_ERR_NOMEM, "out of memory reading the plan"), NULL;
	memcpy(s, r->p + r->at, (size_t)n);
	r->at += (size_t)n;
	return s;
}

static const char *get_name(struct rbuf *r, const char *what)
{
	const char *s = get_str(r, what);
	if (!s && !r->e->code)
		bad(r, what);
	return s;
}

/* A template string into *slot: rendered now, and again by mg_plan_set_param. */
static void get_tstr(struct rbuf *r, const char **slot, const char *what)
{
	const char *s = get_str(r, what);
	int nmark;
	*slot = s;
	if (!s)
		return;
	if (template_ok(s, r->f->nparams, &nmark)) {
		bad(r, "a parameter template naming no parameter");
		return;
	}
	if (!nmark)
		return;
	struct mg_plan_file *f = r->f;
	struct mg_plan_site *sites = realloc(f->sites, (size_t)(f->nsites + 1) * sizeof *sites);
	if (!sites || !(*slot = render(f, s))) {
		if (sites)
			f->sites = sites;
		mg_err_set(r->e, MG_ERR_NOMEM, "out of memory reading the plan");
		return;
	}
	f->sites = sites;
	f->sites[f->nsites++] = (struct mg_plan_site){slot, s};
}

static void *get_array(struct rbuf *r, size_t n, size_t size)
{
	void *p = mg_arena_alloc(&r->f->arena, (n ? n : 1) * size);
	if (!p)
		mg_err_set(r->e, MG_ERR_NOMEM, "out of memory reading the plan");
	return p;
}

static int get_op(struct rbuf *r, const char *what)
{
	const char *name = get_name(r, what);
	int op = find_op(r->t, name);
	if (name && op < 0)
		mg_err_set(r->e, MG_ERR_FORMAT, "the plan uses op '%s', which this build of mgc "
			   "does not have", name);
	return op;
}

static const struct mg_attr *get_attrs(struct rbuf *r, int op, int depth);

static const struct mg_chain *get_chain(struct rbuf *r, int depth)
{
	int n = get_count(r, 3 * 4, "chain length");
	struct mg_chain *c = get_array(r, 1, sizeof *c);
	uint16_t *ops = get_array(r, (size_t)n, sizeof *ops);
	const struct mg_attr **attrs = get_array(r, (size_t)n, sizeof *attrs);
	const char **labels = get_array(r, (size_t)n, sizeof *labels);
	if (!r->e->code && (n < 1 || depth >= MAX_DEPTH))
		bad(r, n < 1 ? "an empty op chain" : "op chains nested too deep");
	for (int i = 0; i < n && !r->e->code; i++) {
		int m = get_op(r, "chain member's op");
		labels[i] = get_str(r, "chain member's label");
		if (r->e->code)
			break;
		ops[i] = (uint16_t)m;
		attrs[i] = get_attrs(r, m, depth + 1);
		if (r->e->code)
			mg_err_prefix(r->e, "chain member %d (%s)", i, r->t->name(m));
	}
	if (r->e->code)
		return NULL;
	*c = (struct mg_chain){n, ops, attrs, labels};
	return c;
}

static void get_value(struct rbuf *r, enum mg_attr_type type, struct mg_attr *a, int depth)
{
	switch (type) {
	case MG_ATTR_BOOL: case MG_ATTR_INT: case MG_ATTR_DTYPE:
		a->v.i = (int64_t)get_u64(r, 8, "an integer");
		if ((type == MG_ATTR_BOOL && (a->v.i < 0 || a->v.i > 1)) ||
		    (type == MG_ATTR_DTYPE && (a->v.i < 0 || a->v.i >= MG_DTYPE_COUNT)))
			bad(r, type == MG_ATTR_BOOL ? "a boolean" : "a dtype");
		break;
	case MG_ATTR_FLOAT:
		a->v.f = get_f64(r, "a number");
		break;
	case MG_ATTR_STR:
		get_tstr(r, &a->v.s, "a string");
		if (!a->v.s)
			bad(r, "a string");
		break;
	case MG_ATTR_INTS: case MG_ATTR_FLOATS: case MG_ATTR_STRS: {
		a->n = get_count(r, type == MG_ATTR_STRS ? 4 : 8, "a list length");
		void *list = get_array(r, (size_t)a->n, 8);
		if (r->e->code)
			break;
		a->v.ints = list;
		for (int j = 0; j < a->n && !r->e->code; j++) {
			if (type == MG_ATTR_INTS)
				((int64_t *)list)[j] = (int64_t)get_u64(r, 8, "a list element");
			else if (type == MG_ATTR_FLOATS)
				((double *)list)[j] = get_f64(r, "a list element");
			else if (get_tstr(r, &((const char **)list)[j], "a list element"),
				 !((const char **)list)[j])
				bad(r, "a list element");
		}
		break;
	}
	case MG_ATTR_CHAIN:
		if ((a->v.chain = get_chain(r, depth)))
			a->n = a->v.chain->n;
		break;
	}
}

/* Op op's attributes, which must be its declaration's, by name and type, in order. */
static const struct mg_attr *get_attrs(struct rbuf *r, int op, int depth)
{
	int n = get_count(r, 6, "attribute count"), want = r->t->nattrs(op);
	const char *opname = r->t->name(op);
	if (!r->e->code && n != want)
		mg_err_set(r->e, MG_ERR_FORMAT, "%s has %d arguments in the plan but %d in this "
			   "build of mgc: compile the pipeline again", opname, n, want);
	struct mg_attr *a = get_array(r, (size_t)n + 1, sizeof *a);
	for (int k = 0; k < n && !r->e->code; k++) {
		enum mg_attr_type wt;
		const char *name = get_name(r, "argument name"), *wname = r->t->attr(op, k, &wt);
		int type = get_u8(r, "argument type");
		a[k].is_none = (int8_t)get_u8(r, "argument's null flag");
		if (r->e->code)
			break;
		if (strcmp(name, wname) != 0 || type != (int)wt)
			return mg_err_set(r->e, MG_ERR_FORMAT, "%s's argument %d is '%s' in the plan "
					  "but '%s' (%s) in this build of mgc: compile the pipeline "
					  "again", opname, k, name, wname, mg_attr_type_name(wt)),
			       NULL;
		if (a[k].is_none > 1)
			return bad(r, "argument's null flag"), NULL;
		if (!a[k].is_none)
			get_value(r, wt, &a[k], depth);
		if (r->e->code)
			mg_err_prefix(r->e, "argument '%s'", name);
	}
	return r->e->code ? NULL : a;
}

static void get_datasrc(struct rbuf *r, struct mg_datasrc *d)
{
	d->kind = get_u8(r, "data source kind");
	d->where = get_str(r, "data source's name");
	if (!r->e->code && d->kind > MG_DATASRC_DECATHLON)
		bad(r, "data source kind");
	if (d->kind == MG_DATASRC_ITEMS) {
		struct mg_datalist *dl = &d->items;
		dl->n = get_count(r, 4, "item count");
		dl->items = get_array(r, (size_t)dl->n, sizeof *dl->items);
		for (int i = 0; i < dl->n && !r->e->code; i++) {
			struct mg_item *it = &dl->items[i];
			it->nfields = get_count(r, 8, "field count");
			it->fields = get_array(r, (size_t)it->nfields, sizeof *it->fields);
			for (int f = 0; f < it->nfields && !r->e->code; f++) {
				struct mg_field *fd = &it->fields[f];
				fd->key = (char *)get_name(r, "field key");
				fd->nstr = get_count(r, 4, "field's string count");
				fd->str = get_array(r, (size_t)fd->nstr, sizeof *fd->str);
				for (int j = 0; j < fd->nstr && !r->e->code; j++)
					if (get_tstr(r, (const char **)&fd->str[j], "field string"),
					    !fd->str[j])
						bad(r, "field string");
			}
		}
	} else if (d->kind == MG_DATASRC_DECATHLON) {
		get_tstr(r, &d->path, "datalist path");
		get_tstr(r, &d->key, "datalist key");
		get_tstr(r, &d->base_dir, "datalist base_dir");
		d->is_segmentation = get_i32(r, "is_segmentation");
		d->fold = get_i32(r, "fold");
		d->fold_exclude = get_i32(r, "fold_exclude");
		if (!r->e->code && (!d->path || !d->key))
			bad(r, "datalist path and key");
	}
}

static void get_step(struct rbuf *r, struct mg_plan *p, struct mg_step *s)
{
	int op = get_op(r, "op name");
	s->label = get_str(r, "step label");
	s->key = get_str(r, "step key");
	s->optional = get_u8(r, "step's optional flag");
	if (!r->e->code && s->optional > 1)
		bad(r, "step's optional flag");
	if (r->e->code)
		return;
	s->op = r->t->name(op);
	s->def = r->t->def(op);
	if (!(s->fn = r->t->kernel(op))) {
		mg_err_set(r->e, MG_ERR_FORMAT, "op '%s' has no kernel to run", s->op);
		return;
	}
	s->nin = get_count(r, 8, "input count");
	if (!r->e->code && s->nin > MG_STEP_MAXIO)
		bad(r, "input count");
	for (int k = 0; k < s->nin && !r->e->code; k++) {
		s->in[k] = get_index(r, 0, p->nslots, "input slot");
		s->in_key[k] = get_str(r, "input key");
	}
	s->nout = get_count(r, 4, "output count");
	if (!r->e->code && s->nout > MG_STEP_MAXIO)
		bad(r, "output count");
	for (int k = 0; k < s->nout && !r->e->code; k++)
		s->out[k] = get_index(r, 0, p->nslots, "output slot");
	if (!r->e->code)
		s->attrs = get_attrs(r, op, 0);
	if (!r->e->code && !r->t->arity_ok(op, s->attrs, s->nin, s->nout))
		mg_err_set(r->e, MG_ERR_FORMAT, "%s cannot have %d inputs and %d outputs with "
			   "these arguments", s->op, s->nin, s->nout);
}

static void get_plan(struct rbuf *r, struct mg_plan *p)
{
	p->nslots = get_count(r, 4, "slot count");
	p->nsteps = get_count(r, 25, "step count");
	p->ninputs = get_count(r, 8, "input count");
	p->inputs = get_array(r, (size_t)p->ninputs, sizeof *p->inputs);
	p->last_use = get_array(r, (size_t)p->nslots, sizeof *p->last_use);
	p->steps = get_array(r, (size_t)p->nsteps, sizeof *p->steps);
	for (int i = 0; i < p->ninputs && !r->e->code; i++) {
		p->inputs[i].key = get_name(r, "input key");
		p->inputs[i].slot = get_index(r, 0, p->nslots, "input slot");
	}
	for (int i = 0; i < p->nslots && !r->e->code; i++)
		p->last_use[i] = get_index(r, -1, p->nsteps + 1, "last use");
	for (int i = 0; i < p->nsteps && !r->e->code; i++) {
		get_step(r, p, &p->steps[i]);
		if (r->e->code)
			mg_err_prefix(r->e, "step %d%s%s", i, p->steps[i].label ? " " : "",
				      p->steps[i].label ? p->steps[i].label : "");
	}
}

int mg_plan_read(struct mg_plan_file *f, const void *blob, size_t n, const struct mg_optab *t,
		 struct mg_err *e)
{
	memset(f, 0, sizeof *f);
	const unsigned char *b = blob;
	if (n < sizeof magic || memcmp(b, magic, sizeof magic) != 0)
		return mg_err_set(e, MG_ERR_FORMAT, "not an mgc plan (no MGCPLAN header)");
	struct rbuf r = {.p = b, .n = n, .at = sizeof magic, .f = f, .t = t, .e = e};
	uint32_t format = (uint32_t)get_u64(&r, 4, "format version");
	if (e->code)
		return e->code;
	if (format != MG_PLAN_FORMAT)
		return mg_err_set(e, MG_ERR_FORMAT, "the plan has format %u, this mgc reads format "
				  "%d: compile the pipeline again", format, MG_PLAN_FORMAT);
	if (n < r.at + 4)
		return bad(&r, "checksum");
	r.n = n - 4;
	uint32_t crc = (uint32_t)(b[r.n] | b[r.n + 1] << 8 | b[r.n + 2] << 16 |
				  (uint32_t)b[r.n + 3] << 24);
	if (crc != (uint32_t)crc32(0, b, (uInt)r.n))
		return mg_err_set(e, MG_ERR_FORMAT, "corrupt plan: its checksum does not match");
	f->nparams = get_count(&r, 8, "parameter count");
	f->params = get_array(&r, (size_t)f->nparams, sizeof *f->params);
	for (int i = 0; i < f->nparams && !e->code; i++) {
		f->params[i].name = get_name(&r, "parameter name");
		f->params[i].value = get_name(&r, "parameter value");
	}
	f->plan = get_array(&r, 1, sizeof *f->plan);
	f->data = get_array(&r, 1, sizeof *f->data);
	if (!e->code)
		get_datasrc(&r, f->data);
	if (!e->code)
		get_plan(&r, f->plan);
	if (!e->code && r.at != r.n)
		bad(&r, "bytes after the last step");
	return e->code;
}

int mg_plan_load(struct mg_plan_file *f, const char *path, const struct mg_optab *t,
		 struct mg_err *e)
{
	char *buf;
	size_t n;
	memset(f, 0, sizeof *f);
	int rc = mg_file_read(path, &buf, &n, e);
	if (!rc && (rc = mg_plan_read(f, buf, n, t, e)))
		mg_err_prefix(e, "%s", path);
	free(buf);
	return rc;
}

void mg_plan_file_free(struct mg_plan_file *f)
{
	mg_arena_free(&f->arena);
	free(f->sites);
	memset(f, 0, sizeof *f);
}
