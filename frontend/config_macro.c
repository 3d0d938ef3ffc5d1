/* config_macro.c: the load-time rewrite of the merged tree, as MONAI's ConfigParser does
 * before anything is resolved: relative ids ("@#x", "%##y") are made absolute, then each
 * "%id" or "%file#id" string is replaced by an expanded copy of the raw config it names
 * (other files are read once per load, from the working directory or beside the file
 * that holds the macro).
 * Invariant: afterwards c->root holds no string starting with '%' and no relative id;
 * a macro's copy is expanded where it was written, so its relative ids and its own
 * macros refer to its source, and expansion is bounded (macro cycles, CFG_MAX_REFS deep,
 * CFG_MAX_NODES values). Read next: config_resolve.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_int.h"

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
	va_list ap;
	va_start(ap, fmt);
	int rc = config_verr(m->c, m->e, code, s->file, id, fmt, ap);
	va_end(ap);
	return rc;
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
			       config_clip(value, cb));
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
			char *cand = config_printf("%.*s%s", (int)dl, inc + b, name);
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
	char *name = config_printf("%.*s", (int)plen, path);
	if (!name)
		return mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	const char *inc = from->file ? from->file : config_origin_of(m->c, from_id);
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
	cJSON *root;
	int rc = config_read_file(name, &root, m->e);
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
			      from->file ? from->file : config_where(m->c, from_id), from_id,
			      config_clip(path, cb));
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
	char *canon = config_id_canon(tid);
	if (!canon)
		rc = mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
	else if (plen)
		rc = macro_file(m, src, id, v + 1, plen, &to);
	const char *tfile = to.file ? to.file : "";
	for (int i = 0; !rc && i < m->nstack; i++) {
		if (strcmp(m->sfile[i], tfile) == 0 && strcmp(m->sid[i], canon) == 0) {
			char chain[512];
			config_chain(chain, sizeof chain, "%", m->sid + i, m->nstack - i, " -> ");
			rc = mx_err(m, src, id, MG_ERR_CONFIG, "macro cycle: %s%%%s", chain, canon);
		}
	}
	if (!rc && m->nstack >= CFG_MAX_REFS)
		rc = mx_err(m, src, id, MG_ERR_CONFIG, "macros nest more than %d deep",
			    CFG_MAX_REFS);
	char why[512];
	cJSON *raw = rc ? NULL : config_node_at(to.root, canon, why, sizeof why);
	if (!rc && !raw)
		rc = mx_err(m, src, id, MG_ERR_CONFIG, "macro '%s': %s%s%s", config_clip(v, cb), why,
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
		char *sub = cJSON_IsObject(node) ? config_id_child(id, ch->string) : config_id_index(id, i);
		if (!sub)
			return mg_err_set(m->e, MG_ERR_NOMEM, "out of memory");
		if (cJSON_IsString(ch)) {
			cJSON *r;
			rc = expand_string(m, ch->valuestring, sub, src, depth + 1, &r);
			if (r)
				config_replace_child(node, ch, r);
		} else {
			rc = expand_tree(m, ch, sub, src, depth + 1);
		}
		free(sub);
	}
	return rc;
}

int config_expand_macros(struct mg_config *c, struct mg_err *e)
{
	struct mx m = {.c = c, .e = e};
	struct src main_src = {c->root, NULL};
	int rc = expand_tree(&m, c->root, "", &main_src, 0);
	for (int i = 0; i < m.nfile; i++) {
		free(m.fpath[i]);
		cJSON_Delete(m.froot[i]);
	}
	free(m.fpath);
	free(m.froot);
	return rc;
}
