/* config.c: MONAI bundle configs -> one merged JSON tree, then resolved copies of it.
 * Loading reads the files in order (top-level keys are ids: "a#b" sets inside a, "+a"
 * merges), applies the command-line overrides, then rewrites relative ids and expands
 * %macros in place. Resolution (mg_config_resolve) works on copies and follows @refs.
 * Invariant: after mg_config_load, c->root is a JSON object with no string starting with
 * '%' and no relative id ("@#x") left in it; resolution never changes c->root.
 * Every id inside this file is canonical: segments joined by '#' ("::" rewritten).
 * MONAI's rules come from monai/bundle/{config_parser,reference_resolver,config_item,
 * utils}.py; docs/pipeline-format.md lists where mgc differs. Read next: build.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"

/* Limits that keep hostile files finite: nesting (the C stack) and the number of values
 * a macro expansion or a resolution may create (references can double at each step). */
enum { CFG_MAX_DEPTH = 1500, CFG_MAX_NODES = 1 << 20, CFG_MAX_REFS = 400 };

/* ---- small helpers ------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	return d ? memcpy(d, s, n) : NULL;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* User text in messages is cut to ~80 characters: expressions can be long. */
static const char *clip(const char *s, char buf[96])
{
	size_t n = strlen(s);
	if (n <= 80)
		return s;
	snprintf(buf, 96, "%.77s...", s);
	return buf;
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "dict";
	if (cJSON_IsArray(v))
		return "list";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "bool";
	return "null";
}

/* Python's \w on UTF-8 text: ASCII letters, digits, '_' and (approximately) every
 * non-ASCII character. */
static int is_word(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch >= 0x80;
}

/* ---- ids --------------------------------------------------------------------------------- */

/* id := seg (('#' | '::') seg)*. Returns the canonical spelling (every "::" as '#'). */
static char *id_canon(const char *id)
{
	char *d = malloc(strlen(id) + 1), *q = d;
	if (!d)
		return NULL;
	for (const char *p = id; *p; p++) {
		if (p[0] == ':' && p[1] == ':')
			*q++ = '#', p++;
		else
			*q++ = *p;
	}
	*q = 0;
	return d;
}

static char *id_child(const char *parent, const char *key)
{
	return parent[0] ? xprintf("%s#%s", parent, key) : xstrdup(key);
}

static char *id_index(const char *parent, int i)
{
	return parent[0] ? xprintf("%s#%d", parent, i) : xprintf("%d", i);
}

/* The object member named by bytes [k, k+n), as MONAI's look_up_option (which strips
 * blanks around the key) finds it. */
static cJSON *member(const cJSON *obj, const char *k, size_t n)
{
	while (n && (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r'))
		k++, n--;
	while (n && (k[n - 1] == ' ' || k[n - 1] == '\t' || k[n - 1] == '\n' || k[n - 1] == '\r'))
		n--;
	for (cJSON *ch = obj->child; ch; ch = ch->next)
		if (ch->string && strlen(ch->string) == n && memcmp(ch->string, k, n) == 0)
			return ch;
	return NULL;
}

/* index := blank* ('-' | '+')? digit+ blank*, as Python's int(); negative counts from the
 * end. Returns the element or NULL. */
static cJSON *element(const cJSON *arr, const char *k, size_t n, int *bad)
{
	size_t i = 0;
	while (i < n && (k[i] == ' ' || k[i] == '\t'))
		i++;
	int neg = i < n && k[i] == '-';
	if (i < n && (k[i] == '-' || k[i] == '+'))
		i++;
	long long v = 0;
	size_t d0 = i;
	while (i < n && k[i] >= '0' && k[i] <= '9' && v < 1000000000)
		v = v * 10 + (k[i++] - '0');
	size_t d1 = i;
	while (i < n && (k[i] == ' ' || k[i] == '\t'))
		i++;
	*bad = d1 == d0 || i != n;
	if (*bad)
		return NULL;
	long long size = cJSON_GetArraySize(arr);
	if (neg)
		v = size - v;
	if (v < 0 || v >= size)
		return NULL;
	cJSON *ch = arr->child;
	while (v-- > 0)
		ch = ch->next;
	return ch;
}

/* The node at canonical id under root (NULL when absent, with why saying which step
 * failed). "" is the root itself. */
static cJSON *node_at(const cJSON *root, const char *id, char *why, size_t cap)
{
	const cJSON *cur = root;
	const char *p = id;
	if (!*id)
		return (cJSON *)root;
	for (;;) {
		const char *end = strchr(p, '#');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int plen = (int)(p - id) - (p > id);
		cJSON *next = NULL;
		if (cJSON_IsObject(cur)) {
			next = member(cur, p, n);
			if (!next && why)
				snprintf(why, cap, "no key '%.*s' in %s%.*s%s", (int)n, p,
					 plen > 0 ? "'" : "the top level", plen > 0 ? plen : 0, id,
					 plen > 0 ? "'" : "");
		} else if (cJSON_IsArray(cur)) {
			int bad;
			next = element(cur, p, n, &bad);
			if (!next && why)
				snprintf(why, cap,
					 bad ? "'%.*s' is not a list index of %s%.*s%s"
					     : "index %.*s is out of range for %s%.*s%s (%d items)",
					 (int)n, p, plen > 0 ? "'" : "the list",
					 plen > 0 ? plen : 0, id, plen > 0 ? "'" : "",
					 cJSON_GetArraySize(cur));
		} else if (why) {
			snprintf(why, cap, "'%.*s' is a %s, not a dict or list", plen, id,
				 type_name(cur));
		}
		if (!next)
			return NULL;
		cur = next;
		if (!end)
			return (cJSON *)cur;
		p = end + 1;
	}
}

/* ---- origins --------------------------------------------------------------------------- */

/* c->origin maps each id a file or override wrote to its source: "train" -> "train.json",
 * "train#dataloader#shuffle" -> "multi_gpu.json". An id's origin is that of its longest
 * recorded prefix. */
static const char *origin_of(const struct mg_config *c, const char *canon)
{
	char *id = xstrdup(canon), *cut;
	const char *o = NULL;
	while (id && !o) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->origin, id);
		if (cJSON_IsString(v))
			o = v->valuestring;
		if (!(cut = strrchr(id, '#')))
			break;
		*cut = 0;
	}
	free(id);
	return o;
}

/* For messages: the origin, else the last file, else the command line. */
static const char *where(const struct mg_config *c, const char *canon)
{
	const char *o = c->origin ? origin_of(c, canon) : NULL;
	if (o)
		return o;
	return c->nfiles ? c->files[c->nfiles - 1] : "command line";
}

/* Records that `file` wrote id: a replacement names it alone (and forgets what was
 * recorded inside id), a "+" merge adds it to the list. */
static int origin_note(struct mg_config *c, const char *canon, const char *file, int merge)
{
	const char *old = merge ? origin_of(c, canon) : NULL;
	char *s = !old		      ? xstrdup(file)
		  : strstr(old, file) ? xstrdup(old)
				      : xprintf("%s, %s", old, file);
	size_t n = strlen(canon);
	for (cJSON *ch = c->origin->child, *next; ch; ch = next) {
		next = ch->next;
		if (strncmp(ch->string, canon, n) == 0 &&
		    (!ch->string[n] || (!merge && ch->string[n] == '#')))
			cJSON_Delete(cJSON_DetachItemViaPointer(c->origin, ch));
	}
	cJSON *v = s ? cJSON_CreateString(s) : NULL;
	free(s);
	if (!v)
		return -1;
	cJSON_AddItemToObject(c->origin, canon, v);
	return 0;
}

/* "<file>: key '<id>': <what>", the house shape of every config message. */
static int cfg_err(const struct mg_config *c, struct mg_err *e, int code, const char *id,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int cfg_err(const struct mg_config *c, struct mg_err *e, int code, const char *id,
		   const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return mg_err_set(e, code, "%s: key '%s': %s", where(c, id), id, what);
}

/* ---- reading files -------------------------------------------------------------------- */

/* Appends "\n    <the line at off>\n    ^" to msg (a window of the line when long). */
static void caret_line(char *msg, size_t cap, const char *text, size_t len, size_t off)
{
	size_t b = off, f = off;
	while (b > 0 && text[b - 1] != '\n')
		b--;
	while (f < len && text[f] != '\n' && text[f] != '\r')
		f++;
	if (off - b > 60)
		b = off - 60;
	if (f - b > 100)
		f = b + 100;
	char pad[64];
	size_t np = 0;
	for (size_t i = b; i < off && np < sizeof pad - 1; i++)
		pad[np++] = text[i] == '\t' ? '\t' : ' '; /* tabs keep the caret aligned */
	pad[np] = 0;
	size_t m = strlen(msg);
	snprintf(msg + m, cap - m, "\n    %.*s\n    %s^", (int)(f - b), text + b, pad);
}

/* Reads a whole JSON file. Syntax errors name path:line:col and show the line with a caret.
 * The error position comes from cJSON's return_parse_end, the same offset as
 * cJSON_GetErrorPtr but without its global. */
static int json_load(const char *path, cJSON **out, struct mg_err *e)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) != 0)
		return mg_err_set(e, MG_ERR_IO, "%s: no such file", path);
	if (S_ISDIR(st.st_mode))
		return mg_err_set(e, MG_ERR_IO, "%s: is a directory, not a JSON file", path);
	size_t n = strlen(path);
	if ((n >= 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	    (n >= 4 && strcmp(path + n - 4, ".yml") == 0))
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s: YAML configs are not supported yet; convert it to JSON",
				  path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return mg_err_set(e, MG_ERR_IO, "%s: cannot open", path);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	for (size_t got; buf; len += got) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
			if (!buf)
				break;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	if (bad) {
		free(buf);
		return mg_err_set(e, MG_ERR_IO, "%s: read error", path);
	}
	buf[len] = 0;
	const char *end = NULL;
	const char *nul = memchr(buf, 0, len);
	cJSON *root = nul ? NULL : cJSON_ParseWithOpts(buf, &end, 1);
	if (!root) {
		size_t off = nul ? (size_t)(nul - buf) : end ? (size_t)(end - buf) : 0;
		if (off > len)
			off = len;
		size_t line = 1, col = 1;
		for (size_t i = 0; i < off; i++)
			line += buf[i] == '\n', col = buf[i] == '\n' ? 1 : col + 1;
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%s:%zu:%zu: %s", path, line, col,
			 nul	    ? "NUL byte in JSON text"
			 : len == 0 ? "empty file, expected a JSON object"
				    : "invalid JSON");
		if (len)
			caret_line(msg, sizeof msg, buf, len, off);
		free(buf);
		return mg_err_set(e, MG_ERR_FORMAT, "%s", msg);
	}
	free(buf);
	*out = root;
	return MG_OK;
}

/* Python's json keeps the last of repeated keys and MONAI only warns; cJSON would find
 * the first. mgc refuses them: a repeated key is almost always a mistake. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_dups(const cJSON *v, const char *path, const char *id, struct mg_err *e)
{
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return MG_OK;
	int n = cJSON_GetArraySize(v), rc = MG_OK;
	if (cJSON_IsObject(v) && n > 1) {
		const char **keys = malloc((size_t)n * sizeof *keys);
		if (!keys)
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		int i = 0;
		for (cJSON *ch = v->child; ch; ch = ch->next)
			keys[i++] = ch->string;
		qsort(keys, (size_t)n, sizeof *keys, cmp_str);
		for (i = 1; i < n && !rc; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				rc = mg_err_set(e, MG_ERR_CONFIG, "%s: %s%s%sduplicate key '%s'",
						path, id[0] ? "key '" : "", id, id[0] ? "': " : "",
						keys[i]);
		free(keys);
	}
	int i = 0;
	for (cJSON *ch = v->child; ch && !rc; ch = ch->next, i++) {
		if (!cJSON_IsObject(ch) && !cJSON_IsArray(ch))
			continue;
		char *sub = cJSON_IsObject(v) ? id_child(id, ch->string) : id_index(id, i);
		rc = sub ? check_dups(ch, path, sub, e)
			 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		free(sub);
	}
	return rc;
}

/* ---- merging files and overrides ------------------------------------------------------- */

/* Replaces old (a child of parent) by v in its place; v takes old's key. */
static void replace_child(cJSON *parent, cJSON *old, cJSON *v)
{
	if (v->string && !(v->type & cJSON_StringIsConst))
		free(v->string);
	v->string = old->string;
	v->type = (v->type & ~cJSON_StringIsConst) | (old->type & cJSON_StringIsConst);
	old->string = NULL;
	cJSON_ReplaceItemViaPointer(parent, old, v);
}

/* Sets parent[key] (a dict) or parent[int(key)] (a list: the index must exist) to v, which
 * it takes. Returns 0, or 1 with why set, or -1 when out of memory. */
static int put(cJSON *parent, const char *key, cJSON *v, char *why, size_t cap)
{
	int bad = 0;
	cJSON *old = cJSON_IsObject(parent)  ? cJSON_GetObjectItemCaseSensitive(parent, key)
		     : cJSON_IsArray(parent) ? element(parent, key, strlen(key), &bad)
					     : NULL;
	if (old) {
		replace_child(parent, old, v);
		return 0;
	}
	if (cJSON_IsObject(parent)) {
		if (cJSON_AddItemToObject(parent, key, v))
			return 0;
		cJSON_Delete(v);
		return -1;
	}
	if (cJSON_IsArray(parent))
		snprintf(why, cap,
			 bad ? "'%s' is not a list index"
			     : "index %s is not in the list "
			       "(%d items)",
			 key, cJSON_GetArraySize(parent));
	else
		snprintf(why, cap, "cannot set '%s' inside a %s", key, type_name(parent));
	cJSON_Delete(v);
	return 1;
}

/* The parent of the last part of canonical id: it must exist, unless create (overrides,
 * as ConfigParser.set) makes the missing dicts on the way. Returns NULL with why set. */
static cJSON *parent_of(cJSON *root, char *id, char *last, int create, char *why, size_t cap)
{
	if (!last)
		return root;
	*last = 0;
	cJSON *cur = node_at(root, id, why, cap);
	if (!cur && create) {
		cur = root;
		for (char *p = id, *q; cur && p; p = q) {
			if ((q = strchr(p, '#')))
				*q = 0;
			cJSON *next = node_at(cur, p, why, cap);
			if (!next && cJSON_IsObject(cur) &&
			    !(next = cJSON_AddObjectToObject(cur, p)))
				snprintf(why, cap, "out of memory");
			if (q)
				*q++ = '#';
			cur = next;
		}
	}
	*last = '#';
	return cur;
}

/* MONAI's merge_kv: "+id" updates a dict or extends a list, a plain id replaces. `file`
 * names the source in messages and origins. Takes v. */
static int merge_kv(struct mg_config *c, const char *file, const char *key, cJSON *v, int create,
		    struct mg_err *e)
{
	int plus = key[0] == '+';
	char *id = id_canon(key + plus);
	if (!id) {
		cJSON_Delete(v);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	char why[512] = "";
	int rc = MG_OK;
	char *last = strrchr(id, '#');
	cJSON *parent = id[0] ? parent_of(c->root, id, last, create, why, sizeof why) : NULL;
	const char *name = last ? last + 1 : id;
	cJSON *old = parent && plus ? node_at(parent, name, NULL, 0) : NULL;
	if (!id[0]) {
		rc = mg_err_set(e, MG_ERR_CONFIG, "%s: empty key", file);
	} else if (!parent) {
		rc = mg_err_set(e, MG_ERR_CONFIG, "%s: key '%s': %s", file, id, why);
	} else if (old && cJSON_IsObject(old) && cJSON_IsObject(v)) {
		while (v->child && !rc) {
			cJSON *ch = cJSON_DetachItemViaPointer(v, v->child);
			if (put(old, ch->string, ch, why, sizeof why))
				rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		}
	} else if (old && cJSON_IsArray(old) && cJSON_IsArray(v)) {
		while (v->child)
			cJSON_AddItemToArray(old, cJSON_DetachItemViaPointer(v, v->child));
	} else if (old) {
		rc = mg_err_set(e, MG_ERR_CONFIG,
				"%s: key '%s': '+' merges a dict into a dict or a "
				"list into a list, not a %s into a %s",
				file, key, type_name(v), type_name(old));
	} else {
		int r = put(parent, name, v, why, sizeof why);
		v = NULL;
		if (r)
			rc = r < 0 ? mg_err_set(e, MG_ERR_NOMEM, "out of memory")
				   : mg_err_set(e, MG_ERR_CONFIG, "%s: key '%s': %s", file, id,
						why);
	}
	if (!rc && origin_note(c, id, file, plus))
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	cJSON_Delete(v);
	free(id);
	return rc;
}

/* file := '{' (id | '+' id) ':' value, ... '}'   (id may be nested: "train#dataloader") */
static int merge_file(struct mg_config *c, const char *path, struct mg_err *e)
{
	cJSON *doc;
	int rc = json_load(path, &doc, e);
	if (rc)
		return rc;
	if (!cJSON_IsObject(doc))
		rc = mg_err_set(e, MG_ERR_CONFIG,
				"%s: the top level must be a JSON object, not a %s", path,
				type_name(doc));
	if (!rc)
		rc = check_dups(doc, path, "", e);
	while (!rc && doc->child) {
		cJSON *kv = cJSON_DetachItemViaPointer(doc, doc->child);
		char *key = kv->string;
		kv->string = NULL; /* merge_kv files kv under its own spelling of the key */
		rc = merge_kv(c, path, key, kv, 0, e);
		free(key);
	}
	cJSON_Delete(doc);
	return rc;
}

/* override := '-'* id '=' VALUE; VALUE is JSON, Python's True/False/None, or else text */
static int apply_override(struct mg_config *c, const char *arg, struct mg_err *e)
{
	const char *s = arg, *eq = strchr(arg, '=');
	while (*s == '-')
		s++;
	if (!eq || eq < s)
		return mg_err_set(e, MG_ERR_CONFIG, "override '%s': expected ID=VALUE", arg);
	if (*s == '+')
		return mg_err_set(e, MG_ERR_CONFIG, "override '%s': '+' merges only files", arg);
	const char *text = eq + 1, *end = NULL;
	cJSON *v;
	if (strcmp(text, "True") == 0 || strcmp(text, "False") == 0)
		v = cJSON_CreateBool(text[0] == 'T');
	else if (strcmp(text, "None") == 0)
		v = cJSON_CreateNull();
	else if (!(v = cJSON_ParseWithOpts(text, &end, 1)))
		v = cJSON_CreateString(text);
	char *key = v ? xprintf("%.*s", (int)(eq - s), s) : NULL;
	if (!key) {
		cJSON_Delete(v);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	int rc = merge_kv(c, "command line", key, v, 1, e);
	free(key);
	return rc;
}

/* ---- relative ids and macros ----------------------------------------------------------- */

/* Where a subtree being expanded came from: the main config or another file. */
struct src {
	const cJSON *root;
	const char *file; /* NULL: the main config */
};

struct mx {
	struct mg_config *c;
	struct mg_err *e;
	int nfile;
	char **fpath; /* other files loaded by %file#id, as opened */
	cJSON **froot;
	int nstack;
	const char *sfile[CFG_MAX_REFS]; /* macros being expanded: (file, id) */
	const char *sid[CFG_MAX_REFS];
	long nodes;
};

static int mx_err(struct mx *m, const struct src *s, const char *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int mx_err(struct mx *m, const struct src *s, const char *id, int code, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (s->file)
		return mg_err_set(m->e, code, "%s: key '%s': %s", s->file, id, what);
	return cfg_err(m->c, m->e, code, id, "%s", what);
}

/* Python's str.replace(old, new) on a malloc'd string: returns the new string (s freed),
 * or NULL (s freed) when out of memory. */
static char *str_replace(char *s, const char *old, const char *rep)
{
	size_t lo = strlen(old), lr = strlen(rep), count = 0;
	for (const char *p = s; (p = strstr(p, old)); p += lo)
		count++;
	char *d = malloc(strlen(s) + count * lr + 1), *o = d;
	if (d) {
		const char *p = s, *q;
		while ((q = strstr(p, old))) {
			memcpy(o, p, (size_t)(q - p));
			o += q - p;
			memcpy(o, rep, lr);
			o += lr;
			p = q + lo;
		}
		strcpy(o, p);
	}
	free(s);
	return d;
}

/* Relative-id prefixes, ordered as Python's sorted(..., reverse=True) orders the strings:
 * '@' before '%', then more separators first. */
struct relpfx {
	char sym;
	int k;
};

static int cmp_relpfx(const void *a, const void *b)
{
	const struct relpfx *x = a, *y = b;
	if (x->sym != y->sym)
		return x->sym == '@' ? -1 : 1;
	return y->k - x->k;
}

/* MONAI's resolve_relative_ids, for the string value at id: after turning '#' into "::",
 * each "@" or "%" followed by k separators (k >= 1) is replaced, everywhere in the string,
 * by itself and the first levels-k parts of id (levels = the number of parts of id).
 * Returns the new string, or NULL: *same = 1 when nothing is relative, else an error. */
static char *relative_ids(struct mx *m, const struct src *src, const char *id, const char *value,
			  int *same)
{
	*same = 1;
	if (!strstr(value, "@#") && !strstr(value, "%#") && !strstr(value, "@::") &&
	    !strstr(value, "%::"))
		return NULL;
	*same = 0;
	size_t n = strlen(value);
	char *v = malloc(2 * n + 1), *q = v; /* normalised: '#' -> "::" */
	struct relpfx *pf = malloc((n + 1) * sizeof *pf);
	if (!v || !pf)
		goto nomem;
	for (const char *p = value; *p; p++)
		if (*p == '#')
			*q++ = ':', *q++ = ':';
		else
			*q++ = *p;
	*q = 0;
	/* the regex (?:@|%)(?:::)+, non-overlapping from the left; distinct matches */
	int npf = 0;
	for (const char *p = v; *p; p++) {
		if ((*p != '@' && *p != '%') || p[1] != ':' || p[2] != ':')
			continue;
		int k = 0;
		while (p[1 + 2 * k] == ':' && p[2 + 2 * k] == ':')
			k++;
		int dup = 0;
		for (int i = 0; i < npf; i++)
			dup |= pf[i].sym == *p && pf[i].k == k;
		if (!dup)
			pf[npf++] = (struct relpfx){*p, k};
		p += 2 * k;
	}
	qsort(pf, (size_t)npf, sizeof *pf, cmp_relpfx);
	int levels = 1;
	for (const char *p = id; *p; p++)
		levels += *p == '#';
	for (int i = 0; i < npf && v; i++) {
		char cb[96];
		if (pf[i].k > levels) {
			mx_err(m, src, id, MG_ERR_CONFIG,
			       "relative id in '%s' goes above the top of the config",
			       clip(value, cb));
			free(v);
			free(pf);
			return NULL;
		}
		/* old: sym + k separators; new: sym + the first levels-k parts of id + "::" */
		char *old = malloc(2 * (size_t)pf[i].k + 2), *rep = malloc(2 * strlen(id) + 4);
		if (!old || !rep) {
			free(old);
			free(rep);
			goto nomem;
		}
		old[0] = rep[0] = pf[i].sym;
		for (int j = 0; j < pf[i].k; j++)
			old[1 + 2 * j] = old[2 + 2 * j] = ':';
		old[1 + 2 * pf[i].k] = 0;
		char *o = rep + 1;
		int parts = levels - pf[i].k;
		for (const char *p = id; parts > 0; p++) {
			if (*p == '#' || !*p) {
				*o++ = ':', *o++ = ':';
				if (--parts == 0 || !*p)
					break;
			} else {
				*o++ = *p;
			}
		}
		*o = 0;
		v = str_replace(v, old, rep);
		free(old);
		free(rep);
	}
	free(pf);
	pf = NULL;
	if (v)
		return v;
nomem:
	free(v);
	free(pf);
	mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	return NULL;
}

/* Python's str.endswith on (".json", ".yaml", ".yml"), case-insensitive, for s[0..n). */
static int has_cfg_suffix(const char *s, size_t n)
{
	static const char *const suf[] = {".json", ".yaml", ".yml"};
	for (int i = 0; i < 3; i++) {
		size_t k = strlen(suf[i]);
		if (n >= k && strncasecmp(s + n - k, suf[i], k) == 0)
			return 1;
	}
	return 0;
}

/* MONAI's split_path_id: macro := [path '.json' ('::' | '#')] id. The path is the longest
 * prefix ending in .json/.yaml/.yml that is followed by a separator or the end. */
static void split_path_id(const char *s, size_t *plen, const char **id)
{
	size_t n = strlen(s);
	*plen = 0;
	*id = s;
	for (size_t i = n; i > 0; i--) {
		int sep_after = i == n || s[i] == '#' || (s[i] == ':' && s[i + 1] == ':');
		if (sep_after && has_cfg_suffix(s, i)) {
			*plen = i;
			*id = i == n ? s + n : s + i + (s[i] == '#' ? 1 : 2);
			return;
		}
	}
}

/* A file next to `inc` ("a/b.json", or "a/b.json, c/d.json": the last one first) named
 * name; NULL when none exists. */
static char *beside(const char *inc, const char *name)
{
	struct stat st;
	size_t n = strlen(inc);
	while (n > 0) {
		size_t b = n;
		while (b > 0 && !(b >= 2 && inc[b - 2] == ',' && inc[b - 1] == ' '))
			b--;
		size_t dl = 0; /* the folder of inc[b, n), with its '/' */
		for (size_t i = b; i < n; i++)
			if (inc[i] == '/')
				dl = i - b + 1;
		if (dl) {
			char *cand = xprintf("%.*s%s", (int)dl, inc + b, name);
			if (cand && stat(cand, &st) == 0)
				return cand;
			free(cand);
		}
		n = b >= 2 ? b - 2 : 0;
	}
	return NULL;
}

/* Loads the file of a "%file#id" macro written at from_id. A relative path is taken from
 * the working directory as MONAI does, else from the folder of the file that holds the
 * macro. Files are read once per load. */
static int macro_file(struct mx *m, const struct src *from, const char *from_id, const char *path,
		      size_t plen, struct src *out)
{
	char *name = xprintf("%.*s", (int)plen, path);
	if (!name)
		return mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	const char *inc = from->file ? from->file : origin_of(m->c, from_id);
	struct stat st;
	char *near = name[0] != '/' && stat(name, &st) != 0 && inc ? beside(inc, name) : NULL;
	if (near) {
		free(name);
		name = near;
	}
	for (int i = 0; i < m->nfile; i++) {
		if (strcmp(m->fpath[i], name) == 0) {
			free(name);
			*out = (struct src){m->froot[i], m->fpath[i]};
			return MG_OK;
		}
	}
	cJSON *root = NULL;
	int rc = json_load(name, &root, m->e);
	if (!rc && !cJSON_IsObject(root))
		rc = mg_err_set(m->e, MG_ERR_CONFIG,
				"%s: the top level must be a JSON object, not "
				"a %s",
				name, type_name(root));
	if (!rc)
		rc = check_dups(root, name, "", m->e);
	if (!rc) {
		char **fp = realloc(m->fpath, (size_t)(m->nfile + 1) * sizeof *fp);
		if (fp)
			m->fpath = fp;
		cJSON **fr = fp ? realloc(m->froot, (size_t)(m->nfile + 1) * sizeof *fr) : NULL;
		if (fr)
			m->froot = fr;
		if (!fr)
			rc = mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	}
	if (rc) {
		char cb[96];
		cJSON_Delete(root);
		free(name);
		mg_err_prefix(m->e, "%s: key '%s': macro '%%%s'",
			      from->file ? from->file : where(m->c, from_id), from_id,
			      clip(path, cb));
		return rc;
	}
	m->fpath[m->nfile] = name;
	m->froot[m->nfile] = root;
	*out = (struct src){root, name};
	m->nfile++;
	return MG_OK;
}

static long count_nodes(const cJSON *v, long limit)
{
	long n = 1;
	for (const cJSON *ch = v ? v->child : NULL; ch && n <= limit; ch = ch->next)
		n += count_nodes(ch, limit);
	return n;
}

static int expand_tree(struct mx *m, cJSON *node, const char *id, const struct src *src, int depth);

/* A string at id: relative ids made absolute; "%..." replaced by an expanded copy of the
 * raw config it names. *out: the replacement, or NULL to keep the string. */
static int expand_string(struct mx *m, const char *s, const char *id, const struct src *src,
			 int depth, cJSON **out)
{
	*out = NULL;
	int same;
	char *abs = relative_ids(m, src, id, s, &same);
	if (!abs && !same)
		return m->e->code ? m->e->code : MG_ERR_NOMEM;
	const char *v = abs ? abs : s;
	char cb[96];
	int rc = MG_OK;
	if (v[0] != '%') {
		if (abs && !(*out = cJSON_CreateString(abs)))
			rc = mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
		free(abs);
		return rc;
	}
	size_t plen;
	const char *tid;
	split_path_id(v + 1, &plen, &tid);
	struct src to = *src;
	char *canon = id_canon(tid);
	if (!canon)
		rc = mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	else if (plen)
		rc = macro_file(m, src, id, v + 1, plen, &to);
	const char *tfile = to.file ? to.file : "";
	for (int i = 0; !rc && i < m->nstack; i++) {
		if (strcmp(m->sfile[i], tfile) == 0 && strcmp(m->sid[i], canon) == 0) {
			char chain[512] = "";
			for (int j = i; j < m->nstack; j++)
				snprintf(chain + strlen(chain), sizeof chain - strlen(chain),
					 "%%%s -> ", m->sid[j]);
			rc = mx_err(m, src, id, MG_ERR_CONFIG, "macro cycle: %s%%%s", chain, canon);
		}
	}
	if (!rc && m->nstack >= CFG_MAX_REFS)
		rc = mx_err(m, src, id, MG_ERR_CONFIG, "macros nest more than %d deep",
			    CFG_MAX_REFS);
	char why[512];
	cJSON *raw = rc ? NULL : node_at(to.root, canon, why, sizeof why);
	if (!rc && !raw)
		rc = mx_err(m, src, id, MG_ERR_CONFIG, "macro '%s': %s%s%s", clip(v, cb), why,
			    to.file ? " in " : "", to.file ? to.file : "");
	if (!rc && (m->nodes += count_nodes(raw, CFG_MAX_NODES)) > CFG_MAX_NODES)
		rc = mx_err(m, src, id, MG_ERR_CONFIG,
			    "macros expand to more than %d values (a macro used many times "
			    "inside macros?)",
			    CFG_MAX_NODES);
	cJSON *copy = rc ? NULL : cJSON_Duplicate(raw, 1);
	if (!rc && !copy)
		rc = mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	if (!rc) {
		m->sfile[m->nstack] = tfile;
		m->sid[m->nstack++] = canon;
		/* relative ids inside the copy are relative to where it was written */
		if (cJSON_IsString(copy)) {
			cJSON *r;
			rc = expand_string(m, copy->valuestring, canon, &to, depth + 1, &r);
			if (r) {
				cJSON_Delete(copy);
				copy = r;
			}
		} else {
			rc = expand_tree(m, copy, canon, &to, depth + 1);
		}
		m->nstack--;
	}
	if (rc)
		cJSON_Delete(copy);
	else
		*out = copy;
	free(canon);
	free(abs);
	return rc;
}

/* Expands node's children in place. */
static int expand_tree(struct mx *m, cJSON *node, const char *id, const struct src *src, int depth)
{
	if (depth > CFG_MAX_DEPTH)
		return mx_err(m, src, id, MG_ERR_CONFIG, "nested more than %d levels deep",
			      CFG_MAX_DEPTH);
	int i = 0, rc = MG_OK;
	for (cJSON *ch = node->child, *next; ch && !rc; ch = next, i++) {
		next = ch->next;
		if (!cJSON_IsString(ch) && !cJSON_IsObject(ch) && !cJSON_IsArray(ch))
			continue;
		char *sub = cJSON_IsObject(node) ? id_child(id, ch->string) : id_index(id, i);
		if (!sub)
			return mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
		if (cJSON_IsString(ch)) {
			cJSON *r;
			rc = expand_string(m, ch->valuestring, sub, src, depth + 1, &r);
			if (r)
				replace_child(node, ch, r);
		} else {
			rc = expand_tree(m, ch, sub, src, depth + 1);
		}
		free(sub);
	}
	return rc;
}

/* ---- load / free / get / origin ---------------------------------------------------------- */

int mg_config_load(struct mg_config *c, const char *const *files, int nfiles,
		   const char *const *overrides, int noverrides, struct mg_err *e)
{
	memset(c, 0, sizeof *c);
	c->root = cJSON_CreateObject();
	c->origin = cJSON_CreateObject();
	c->files = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *c->files);
	int rc = c->root && c->origin && c->files ? MG_OK
						  : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int i = 0; !rc && i < nfiles; i++) {
		if (!(c->files[i] = xstrdup(files[i])))
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		c->nfiles = i + 1;
		if (!rc)
			rc = merge_file(c, files[i], e);
	}
	for (int i = 0; !rc && i < noverrides; i++)
		rc = apply_override(c, overrides[i], e);
	if (!rc) {
		struct mx m = {.c = c, .e = e};
		struct src main_src = {c->root, NULL};
		rc = expand_tree(&m, c->root, "", &main_src, 0);
		for (int i = 0; i < m.nfile; i++) {
			free(m.fpath[i]);
			cJSON_Delete(m.froot[i]);
		}
		free(m.fpath);
		free(m.froot);
	}
	if (rc)
		mg_config_free(c);
	return rc;
}

void mg_config_free(struct mg_config *c)
{
	cJSON_Delete(c->root);
	cJSON_Delete(c->origin);
	for (int i = 0; c->files && i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof *c);
}

cJSON *mg_config_get(const struct mg_config *c, const char *id)
{
	char *canon = id_canon(id);
	cJSON *v = canon && c->root ? node_at(c->root, canon, NULL, 0) : NULL;
	free(canon);
	return v;
}

/* NULL when nothing set the id's top-level key. */
const char *mg_config_origin(const struct mg_config *c, const char *id)
{
	char *canon = id_canon(id);
	const char *o = canon && c->origin ? origin_of(c, canon) : NULL;
	free(canon);
	return o;
}

/* ---- resolution ------------------------------------------------------------------------- */

struct rs {
	const struct mg_config *c;
	struct mg_err *e;
	int nstack;
	const char *stack[CFG_MAX_REFS]; /* ids being resolved, outermost first */
	long nodes;
};

static int rs_err(struct rs *r, const char *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int rs_err(struct rs *r, const char *id, int code, const char *fmt, ...)
{
	char what[640], via[320] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (r->nstack > 1) { /* how we got there: "(needed by 'a' via @b -> @c)" */
		size_t n = (size_t)snprintf(via, sizeof via, " (needed by '%s' via ", r->stack[0]);
		for (int i = 1; i < r->nstack && n < sizeof via; i++)
			n += (size_t)snprintf(via + n, sizeof via - n, "%s@%s", i > 1 ? " -> " : "",
					      r->stack[i]);
		if (n < sizeof via)
			snprintf(via + n, sizeof via - n, ")");
	}
	return cfg_err(r->c, r->e, code, id, "%s%s", what, via);
}

/* MONAI's match_refs_pattern for a whole string: '@' then word characters and separators
 * ('#' or "::"), nothing else ("@net" is a reference, "@net.to(x)" and "a@b" are text). */
static int is_ref(const char *s)
{
	if (s[0] != '@')
		return 0;
	for (const char *p = s + 1; *p; p++) {
		if (*p == ':' && p[1] == ':')
			p++;
		else if (*p != '#' && !is_word((unsigned char)*p))
			return 0;
	}
	return 1;
}

/* Python truth of a resolved "_disabled_": strings only when "true" (any case, blanks
 * stripped), as ConfigComponent.is_disabled. */
static int truthy_disabled(const cJSON *v)
{
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		size_t n = strlen(s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			     s[n - 1] == '\r'))
			n--;
		return n == 4 && strncasecmp(s, "true", 4) == 0;
	}
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return 0;
}

static int resolve_node(struct rs *r, const cJSON *raw, const char *id, int depth, cJSON **out);

/* "@target" at key id: the resolved value at target (null for a disabled component). */
static int resolve_ref(struct rs *r, const char *ref, const char *id, int depth, cJSON **out)
{
	char cb[96];
	char *target = id_canon(ref + 1);
	if (!target)
		return mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
	int rc = MG_OK;
	for (int i = 0; i < r->nstack && !rc; i++) {
		if (strcmp(r->stack[i], target) != 0)
			continue;
		char chain[512] = "";
		size_t n = 0;
		for (int j = i; j < r->nstack && n < sizeof chain; j++)
			n += (size_t)snprintf(chain + n, sizeof chain - n, "@%s -> ", r->stack[j]);
		rc = rs_err(r, id, MG_ERR_CONFIG, "reference cycle: %s@%s", chain, target);
	}
	if (!rc && r->nstack >= CFG_MAX_REFS)
		rc = rs_err(r, id, MG_ERR_CONFIG, "references chain more than %d deep",
			    CFG_MAX_REFS);
	char why[512];
	const cJSON *v = rc ? NULL : node_at(r->c->root, target, why, sizeof why);
	if (!rc && !v)
		rc = rs_err(r, id, MG_ERR_CONFIG, "reference '%s' is not defined: %s",
			    clip(ref, cb), why);
	if (!rc) {
		r->stack[r->nstack++] = target;
		rc = resolve_node(r, v, target, depth + 1, out);
		r->nstack--;
		if (!rc && !*out && !(*out = cJSON_CreateNull()))
			rc = mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
	}
	free(target);
	return rc;
}

/* A dict with "_target_": *out NULL when "_disabled_"; "_desc_", "_requires_" and a
 * "_mode_" of "default" are dropped. Otherwise *out is a plain resolved dict. */
static int resolve_dict(struct rs *r, const cJSON *raw, const char *id, int depth, cJSON **out)
{
	int comp = cJSON_GetObjectItemCaseSensitive(raw, "_target_") != NULL;
	cJSON *d = cJSON_CreateObject();
	int rc = d ? MG_OK : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
	char cb[96];
	/* _disabled_ first: a disabled component's other keys are never looked at */
	const cJSON *dis = comp ? cJSON_GetObjectItemCaseSensitive(raw, "_disabled_") : NULL;
	if (!rc && dis) {
		char *sub = id_child(id, "_disabled_");
		cJSON *v = NULL;
		rc = sub ? resolve_node(r, dis, sub, depth + 1, &v)
			 : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
		int off = !rc && truthy_disabled(v);
		cJSON_Delete(v);
		free(sub);
		if (off) {
			cJSON_Delete(d);
			*out = NULL;
			return MG_OK;
		}
	}
	for (const cJSON *ch = raw->child; ch && !rc; ch = ch->next) {
		const char *k = ch->string;
		if (comp && (strcmp(k, "_desc_") == 0 || strcmp(k, "_disabled_") == 0))
			continue;
		char *sub = id_child(id, k);
		cJSON *v = NULL;
		rc = sub ? resolve_node(r, ch, sub, depth + 1, &v)
			 : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
		if (!rc && comp && strcmp(k, "_mode_") == 0) {
			if (!cJSON_IsString(v) || strcmp(v->valuestring, "default") != 0)
				rc = rs_err(r, sub, MG_ERR_UNSUPPORTED,
					    "_mode_ %s is not supported (only \"default\")",
					    cJSON_IsString(v) ? clip(v->valuestring, cb)
							      : type_name(v));
			cJSON_Delete(v);
			v = NULL;
		} else if (comp && strcmp(k, "_requires_") == 0) {
			cJSON_Delete(v); /* resolved only to check it; nothing to run first */
			v = NULL;
		}
		if (v)
			cJSON_AddItemToObject(d, k, v);
		free(sub);
	}
	if (rc) {
		cJSON_Delete(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

/* A resolved deep copy of raw (at id) into *out; *out is NULL for a disabled component. */
static int resolve_node(struct rs *r, const cJSON *raw, const char *id, int depth, cJSON **out)
{
	*out = NULL;
	char cb[96];
	if (depth > CFG_MAX_DEPTH)
		return rs_err(r, id, MG_ERR_CONFIG,
			      "nested more than %d levels deep (through "
			      "references)",
			      CFG_MAX_DEPTH);
	if (++r->nodes > CFG_MAX_NODES)
		return rs_err(r, id, MG_ERR_CONFIG,
			      "resolves to more than %d values (a reference "
			      "used many times inside references?)",
			      CFG_MAX_NODES);
	if (cJSON_IsString(raw)) {
		const char *s = raw->valuestring;
		if (s[0] == '$')
			return rs_err(r, id, MG_ERR_UNSUPPORTED,
				      "Python expressions are not evaluated yet: %s", clip(s, cb));
		if (is_ref(s))
			return resolve_ref(r, s, id, depth, out);
	}
	if (cJSON_IsObject(raw))
		return resolve_dict(r, raw, id, depth, out);
	if (cJSON_IsArray(raw)) {
		cJSON *a = cJSON_CreateArray();
		int rc = a ? MG_OK : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory"), i = 0;
		for (const cJSON *ch = raw->child; ch && !rc; ch = ch->next, i++) {
			char *sub = id_index(id, i);
			cJSON *v = NULL;
			rc = sub ? resolve_node(r, ch, sub, depth + 1, &v)
				 : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
			if (v) /* a disabled component leaves the list */
				cJSON_AddItemToArray(a, v);
			free(sub);
		}
		if (rc)
			cJSON_Delete(a);
		else
			*out = a;
		return rc;
	}
	*out = cJSON_Duplicate(raw, 0);
	return *out ? MG_OK : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
}

int mg_config_resolve(const struct mg_config *c, const char *id, cJSON **out, struct mg_err *e)
{
	*out = NULL;
	char *canon = id_canon(id);
	if (!canon)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	char why[512];
	const cJSON *raw = c->root ? node_at(c->root, canon, why, sizeof why) : NULL;
	int rc = MG_OK;
	struct rs *r = calloc(1, sizeof *r);
	if (!r)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	else if (!raw)
		rc = cfg_err(c, e, MG_ERR_CONFIG, canon, "not in the config: %s",
			     c->root ? why : "no config loaded");
	if (!rc) {
		*r = (struct rs){.c = c, .e = e, .nstack = 1};
		r->stack[0] = canon;
		rc = resolve_node(r, raw, canon, 0, out);
		if (!rc && !*out && !(*out = cJSON_CreateNull())) /* a disabled component */
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	free(r);
	free(canon);
	return rc;
}
