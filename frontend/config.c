/* config.c: MONAI bundle configs -> one merged JSON tree. Loading reads the files in
 * order (top-level keys are ids: "a#b" sets inside a, "+a" merges), applies the
 * command-line overrides, then hands the tree to config_macro.c, which rewrites relative
 * ids and expands %macros in place. Resolution (config_resolve.c) works on copies and
 * follows @refs. This file also holds what the other two parts share: ids, the tree,
 * origins and messages (declared in config_int.h).
 * Invariant: after mg_config_load, c->root is a JSON object with no string starting with
 * '%' and no relative id ("@#x") left in it; resolution never changes c->root.
 * Every id inside the module is canonical: segments joined by '#' ("::" rewritten).
 * MONAI's rules come from monai/bundle/{config_parser,reference_resolver,config_item,
 * utils}.py; docs/pipeline-format.md lists where mgc differs.
 * Read next: config_macro.c, config_resolve.c, then build.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../runtime/json.h"
#include "config_int.h"

/* ---- small helpers ------------------------------------------------------------------- */

char *config_printf(const char *fmt, ...)
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

const char *config_clip(const char *s, char buf[96])
{
	size_t n = strlen(s);
	if (n <= 80)
		return s;
	snprintf(buf, 96, "%.77s...", s);
	return buf;
}

const char *config_type_name(const cJSON *v)
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

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

void config_strip(const char **s, size_t *n)
{
	while (*n && is_blank(**s))
		(*s)++, (*n)--;
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

void config_chain(char *buf, size_t cap, const char *sym, const char *const *ids, int n,
		  const char *tail)
{
	size_t len = 0;
	buf[0] = 0;
	for (int i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s%s", i ? " -> " : "", sym,
					ids[i]);
	if (len < cap)
		snprintf(buf + len, cap - len, "%s", tail);
}

/* ---- ids --------------------------------------------------------------------------------- */

char *config_id_canon(const char *id)
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

char *config_id_child(const char *parent, const char *key)
{
	return parent[0] ? config_printf("%s#%s", parent, key) : strdup(key);
}

char *config_id_index(const char *parent, int i)
{
	return parent[0] ? config_printf("%s#%d", parent, i) : config_printf("%d", i);
}

/* The object member named by bytes [k, k+n), as MONAI's look_up_option (which strips
 * blanks around the key) finds it. */
static cJSON *member(const cJSON *obj, const char *k, size_t n)
{
	config_strip(&k, &n);
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

cJSON *config_node_at(const cJSON *root, const char *id, char *why, size_t cap)
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
				 config_type_name(cur));
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
const char *config_origin_of(const struct mg_config *c, const char *canon)
{
	char *id = strdup(canon), *cut;
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

const char *config_where(const struct mg_config *c, const char *canon)
{
	const char *o = c->origin ? config_origin_of(c, canon) : NULL;
	if (o)
		return o;
	return c->nfiles ? c->files[c->nfiles - 1] : "command line";
}

/* Whether file is one of the entries of "a.json, b.json" (not just a substring). */
static int listed(const char *list, const char *file)
{
	size_t n = strlen(file);
	for (const char *p = list; p; p = strstr(p, ", ") ? strstr(p, ", ") + 2 : NULL)
		if (strncmp(p, file, n) == 0 && (p[n] == 0 || (p[n] == ',' && p[n + 1] == ' ')))
			return 1;
	return 0;
}

/* Records that `file` wrote id: a replacement names it alone (and forgets what was
 * recorded inside id), a "+" merge adds it to the list. */
static int origin_note(struct mg_config *c, const char *canon, const char *file, int merge)
{
	const char *old = merge ? config_origin_of(c, canon) : NULL;
	char *s = !old		       ? strdup(file)
		  : listed(old, file) ? strdup(old)
				       : config_printf("%s, %s", old, file);
	size_t n = strlen(canon);
	for (cJSON *ch = c->origin->child, *next; ch; ch = next) {
		next = ch->next;
		if (strncmp(ch->string, canon, n) == 0 &&
		    (!ch->string[n] || (!merge && ch->string[n] == '#')))
			cJSON_Delete(cJSON_DetachItemViaPointer(c->origin, ch));
	}
	cJSON *v = s ? cJSON_CreateString(s) : NULL;
	free(s);
	if (!v || !cJSON_AddItemToObject(c->origin, canon, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

int config_verr(const struct mg_config *c, struct mg_err *e, int code, const char *file,
		const char *id, const char *fmt, va_list ap)
{
	char what[768];
	vsnprintf(what, sizeof what, fmt, ap);
	return mg_err_set(e, code, "%s: key '%s': %s", file ? file : config_where(c, id), id,
			  what);
}

int config_err(const struct mg_config *c, struct mg_err *e, int code, const char *file,
	       const char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = config_verr(c, e, code, file, id, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- reading files -------------------------------------------------------------------- */

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
		char *sub = cJSON_IsObject(v) ? config_id_child(id, ch->string)
					      : config_id_index(id, i);
		rc = sub ? check_dups(ch, path, sub, e)
			 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		free(sub);
	}
	return rc;
}

int config_read_file(const char *path, cJSON **out, struct mg_err *e)
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
	cJSON *doc;
	int rc = mg_json_read_file(path, &doc, e);
	if (!rc && !cJSON_IsObject(doc))
		rc = mg_err_set(e, MG_ERR_CONFIG,
				"%s: the top level must be a JSON object, not a %s", path,
				config_type_name(doc));
	if (!rc)
		rc = check_dups(doc, path, "", e);
	if (rc)
		cJSON_Delete(doc);
	else
		*out = doc;
	return rc;
}

/* ---- merging files and overrides ------------------------------------------------------- */

void config_replace_child(cJSON *parent, cJSON *old, cJSON *v)
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
		config_replace_child(parent, old, v);
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
		snprintf(why, cap, "cannot set '%s' inside a %s", key, config_type_name(parent));
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
	cJSON *cur = config_node_at(root, id, why, cap);
	if (!cur && create) {
		cur = root;
		for (char *p = id, *q; cur && p; p = q) {
			if ((q = strchr(p, '#')))
				*q = 0;
			cJSON *next = config_node_at(cur, p, why, cap);
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
	char *id = config_id_canon(key + plus);
	if (!id) {
		cJSON_Delete(v);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	char why[512] = "";
	int rc = MG_OK;
	char *last = strrchr(id, '#');
	cJSON *parent = id[0] ? parent_of(c->root, id, last, create, why, sizeof why) : NULL;
	const char *name = last ? last + 1 : id;
	cJSON *old = parent && plus ? config_node_at(parent, name, NULL, 0) : NULL;
	if (!id[0]) {
		rc = mg_err_set(e, MG_ERR_CONFIG, "%s: empty key", file);
	} else if (!parent) {
		rc = config_err(c, e, MG_ERR_CONFIG, file, id, "%s", why);
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
		rc = config_err(c, e, MG_ERR_CONFIG, file, key,
				"'+' merges a dict into a dict or a list into a list, not a %s "
				"into a %s",
				config_type_name(v), config_type_name(old));
	} else {
		int r = put(parent, name, v, why, sizeof why);
		v = NULL;
		if (r)
			rc = r < 0 ? mg_err_set(e, MG_ERR_NOMEM, "out of memory")
				   : config_err(c, e, MG_ERR_CONFIG, file, id, "%s", why);
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
	int rc = config_read_file(path, &doc, e);
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
	char *key = v ? config_printf("%.*s", (int)(eq - s), s) : NULL;
	if (!key) {
		cJSON_Delete(v);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	int rc = merge_kv(c, "command line", key, v, 1, e);
	free(key);
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
		if (!(c->files[i] = strdup(files[i])))
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		c->nfiles = i + 1;
		if (!rc)
			rc = merge_file(c, files[i], e);
	}
	for (int i = 0; !rc && i < noverrides; i++)
		rc = apply_override(c, overrides[i], e);
	if (!rc)
		rc = config_expand_macros(c, e);
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
	char *canon = config_id_canon(id);
	cJSON *v = canon && c->root ? config_node_at(c->root, canon, NULL, 0) : NULL;
	free(canon);
	return v;
}

/* NULL when nothing set the id's top-level key. */
const char *mg_config_origin(const struct mg_config *c, const char *id)
{
	char *canon = config_id_canon(id);
	const char *o = canon && c->origin ? config_origin_of(c, canon) : NULL;
	free(canon);
	return o;
}
