/* config_resolve.c: mg_config_resolve, a resolved deep copy of the config at an id.
 * "@id" strings become the resolved value at id, components (dicts with "_target_") lose
 * "_desc_", "_requires_" and a default "_mode_", and a "_disabled_" one leaves its list
 * or dict; "$expr" strings are errors that name the key, as Python is not evaluated,
 * except as the value of a transform's argument declared MG_ATTRF_EXPR (select_fn), which
 * stays text for the op to read (ops/select_fn.c).
 * Invariant: c->root is only read; a reference is followed on a stack of the ids being
 * resolved, so cycles are reported with their chain, and depth (CFG_MAX_DEPTH), chains
 * (CFG_MAX_REFS) and output size (CFG_MAX_NODES) are bounded.
 * Read next: build.c, which reads the resolved trees. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../ops/op.h"
#include "config_int.h"

/* Python's \w on UTF-8 text: ASCII letters, digits, '_' and (approximately) every
 * non-ASCII character. */
static int is_word(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch >= 0x80;
}

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
		if (n < sizeof via)
			config_chain(via + n, sizeof via - n, "@", r->stack + 1, r->nstack - 1, ")");
	}
	return config_err(r->c, r->e, code, NULL, id, "%s%s", what, via);
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
		size_t n = strlen(s);
		config_strip(&s, &n);
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

/* Whether the component raw keeps the "$" text of its argument `arg` unevaluated: its
 * "_target_" (as written) is a transform mgc knows whose argument is MG_ATTRF_EXPR. */
static int keeps_expr(const cJSON *raw, const char *arg)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(raw, "_target_");
	int dict, op = cJSON_IsString(t) ? mg_op_find_target(t->valuestring, &dict) : -1;
	int i = op >= 0 ? mg_op_attr_index(mg_ops[op], arg) : -1;
	return i >= 0 && (mg_ops[op]->attrs[i].flags & MG_ATTRF_EXPR);
}

/* "@target" at key id: the resolved value at target (null for a disabled component). */
static int resolve_ref(struct rs *r, const char *ref, const char *id, int depth, cJSON **out)
{
	char cb[96];
	char *target = config_id_canon(ref + 1);
	if (!target)
		return mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
	int rc = MG_OK;
	for (int i = 0; i < r->nstack && !rc; i++) {
		if (strcmp(r->stack[i], target) != 0)
			continue;
		char chain[512];
		config_chain(chain, sizeof chain, "@", r->stack + i, r->nstack - i, " -> ");
		rc = rs_err(r, id, MG_ERR_CONFIG, "reference cycle: %s@%s", chain, target);
	}
	if (!rc && r->nstack >= CFG_MAX_REFS)
		rc = rs_err(r, id, MG_ERR_CONFIG, "references chain more than %d deep",
			    CFG_MAX_REFS);
	char why[512];
	const cJSON *v = rc ? NULL : config_node_at(r->c->root, target, why, sizeof why);
	if (!rc && !v)
		rc = rs_err(r, id, MG_ERR_CONFIG, "reference '%s' is not defined: %s",
			    config_clip(ref, cb), why);
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
		char *sub = config_id_child(id, "_disabled_");
		cJSON *v;
		rc = resolve_node(r, dis, sub, depth + 1, &v);
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
		char *sub = config_id_child(id, k);
		cJSON *v = NULL;
		if (comp && cJSON_IsString(ch) && ch->valuestring[0] == '$' && keeps_expr(raw, k)) {
			if (!(v = cJSON_Duplicate(ch, 0)))
				rc = mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
		} else {
			rc = resolve_node(r, ch, sub, depth + 1, &v);
		}
		if (!rc && comp && strcmp(k, "_mode_") == 0) {
			if (!cJSON_IsString(v) || strcmp(v->valuestring, "default") != 0)
				rc = rs_err(r, sub, MG_ERR_UNSUPPORTED,
					    "_mode_ %s is not supported (only \"default\")",
					    cJSON_IsString(v) ? config_clip(v->valuestring, cb)
							      : config_type_name(v));
			cJSON_Delete(v);
			v = NULL;
		} else if (comp && strcmp(k, "_requires_") == 0) {
			cJSON_Delete(v); /* resolved only to check it; nothing to run first */
			v = NULL;
		}
		if (v && !cJSON_AddItemToObject(d, k, v)) {
			cJSON_Delete(v);
			rc = mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
		}
		free(sub);
	}
	if (rc) {
		cJSON_Delete(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

/* A resolved deep copy of raw (at id) into *out; *out is NULL for a disabled component,
 * and on errors. A NULL id is the failed allocation of a child's id: out of memory. */
static int resolve_node(struct rs *r, const cJSON *raw, const char *id, int depth, cJSON **out)
{
	*out = NULL;
	if (!id)
		return mg_err_set(r->e, MG_ERR_NOMEM, "out of memory");
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
				      "Python expressions are not evaluated yet: %s", config_clip(s, cb));
		if (is_ref(s))
			return resolve_ref(r, s, id, depth, out);
	}
	if (cJSON_IsObject(raw))
		return resolve_dict(r, raw, id, depth, out);
	if (cJSON_IsArray(raw)) {
		cJSON *a = cJSON_CreateArray();
		int rc = a ? MG_OK : mg_err_set(r->e, MG_ERR_NOMEM, "out of memory"), i = 0;
		for (const cJSON *ch = raw->child; ch && !rc; ch = ch->next, i++) {
			char *sub = config_id_index(id, i);
			cJSON *v;
			rc = resolve_node(r, ch, sub, depth + 1, &v);
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
	char *canon = config_id_canon(id);
	if (!canon)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	char why[512];
	const cJSON *raw = c->root ? config_node_at(c->root, canon, why, sizeof why) : NULL;
	int rc = MG_OK;
	struct rs *r = calloc(1, sizeof *r);
	if (!r)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	else if (!raw)
		rc = config_err(c, e, MG_ERR_CONFIG, NULL, canon, "not in the config: %s",
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
