/* attrs.c: JSON arguments -> typed attribute values, driven by the op's declaration.
 *   args := { name: value, ... }   value := null | bool | number | string | [value, ...]
 * Defaults come from the declaration's JSON text, so the printed graph, the docs and the
 * kernels all see one source of truth. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/json.h"
#include "ir.h"

static int in_choices(const char *choices, const char *s)
{
	size_t n = strlen(s);
	for (const char *c = choices; c && *c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, s, n) == 0)
			return 1;
		c = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* One scalar of the attribute's element type. */
static int scalar(const struct mg_attrdef *d, enum mg_attr_type t, const cJSON *j,
		  struct mg_attr *out, struct mg_err *e)
{
	switch (t) {
	case MG_ATTR_BOOL:
		if (!cJSON_IsBool(j))
			break;
		out->v.i = cJSON_IsTrue(j);
		return 0;
	case MG_ATTR_INT:
		if (!cJSON_IsNumber(j))
			break;
		if (j->valuedouble != floor(j->valuedouble) || fabs(j->valuedouble) > 9e15)
			return mg_err_set(e, MG_ERR_CONFIG, "argument '%s' must be an integer, not %g",
					  d->name, j->valuedouble);
		out->v.i = (int64_t)j->valuedouble;
		return 0;
	case MG_ATTR_FLOAT:
		if (!cJSON_IsNumber(j))
			break;
		out->v.f = j->valuedouble;
		return 0;
	case MG_ATTR_STR:
		if (!cJSON_IsString(j))
			break;
		if (d->choices && !in_choices(d->choices, j->valuestring))
			return mg_err_set(e, MG_ERR_CONFIG,
					  "argument '%s' is \"%s\"; expected one of %s", d->name,
					  j->valuestring, d->choices);
		out->v.s = j->valuestring;
		return 0;
	case MG_ATTR_DTYPE:
		if (!cJSON_IsString(j))
			break;
		out->v.i = mg_dtype_parse(j->valuestring);
		if (out->v.i < 0)
			return mg_err_set(e, MG_ERR_CONFIG, "argument '%s': unknown dtype \"%s\"",
					  d->name, j->valuestring);
		return 0;
	default:
		break;
	}
	return mg_err_set(e, MG_ERR_CONFIG, "argument '%s' must be %s, not %s", d->name,
			  mg_attr_type_phrase(t), mg_json_kind(j));
}

/* One string (a scalar STR attribute or an element of a STRS one), copied into the arena;
 * numbers are taken as text where the attribute's flags allow. */
static int text(const struct mg_attrdef *d, const cJSON *j, struct mg_arena *a,
		struct mg_attr *out, struct mg_err *e)
{
	if ((d->flags & MG_ATTRF_INT_OK) && cJSON_IsNumber(j) &&
	    j->valuedouble == (double)j->valueint) {
		/* MONAI's int-or-name arguments: channel_dim=-1 or "no_channel" */
		out->v.s = mg_arena_printf(a, "%d", j->valueint);
	} else if ((d->flags & MG_ATTRF_NUM_OK) && cJSON_IsNumber(j)) {
		/* MONAI's number-or-name arguments: threshold=0.5 or "otsu" */
		out->v.s = mg_arena_printf(a, "%.17g", j->valuedouble);
	} else {
		int rc = scalar(d, MG_ATTR_STR, j, out, e);
		if (rc)
			return rc;
		out->v.s = mg_arena_strdup(a, out->v.s);
	}
	return out->v.s ? 0 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
}

/* A matrix (MG_ATTRF_MATRIX) given as rows is read row by row, as one flat list: every
 * item an array, all of one length. 0 when j is not such a list. */
static int matrix_rows(const cJSON *j, int *cols)
{
	int rows = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : 0;
	*cols = rows ? cJSON_GetArraySize(cJSON_GetArrayItem(j, 0)) : 0;
	for (int i = 0; i < rows; i++)
		if (!cJSON_IsArray(cJSON_GetArrayItem(j, i)) ||
		    cJSON_GetArraySize(cJSON_GetArrayItem(j, i)) != *cols)
			return 0;
	return rows;
}

static int list(const struct mg_attrdef *d, const cJSON *j, struct mg_arena *a,
		struct mg_attr *out, struct mg_err *e)
{
	enum mg_attr_type et = mg_attr_type_elem(d->type);
	int cols, rows = d->flags & MG_ATTRF_MATRIX ? matrix_rows(j, &cols) : 0;
	int n = rows ? rows * cols : cJSON_IsArray(j) ? cJSON_GetArraySize(j) : 1;
	size_t elem = et == MG_ATTR_INT ? sizeof(int64_t) : et == MG_ATTR_FLOAT ? sizeof(double)
										: sizeof(char *);
	char *buf = mg_arena_alloc(a, elem * (size_t)(n ? n : 1));
	if (!buf)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		const cJSON *x = rows ? cJSON_GetArrayItem(cJSON_GetArrayItem(j, i / cols), i % cols)
				 : cJSON_IsArray(j) ? cJSON_GetArrayItem(j, i) : j;
		struct mg_attr one = {0};
		int rc = et == MG_ATTR_STR ? text(d, x, a, &one, e) : scalar(d, et, x, &one, e);
		if (rc)
			return rc;
		memcpy(buf + elem * (size_t)i, &one.v, elem);
	}
	out->n = n;
	out->v.ints = (const int64_t *)buf;
	return 0;
}

static int is_list_type(enum mg_attr_type t) { return mg_attr_type_elem(t) != t; }

static int convert(const struct mg_attrdef *d, const cJSON *j, struct mg_arena *a,
		   struct mg_attr *out, struct mg_err *e)
{
	memset(out, 0, sizeof *out);
	if ((d->flags & MG_ATTRF_REFUSED) && !cJSON_IsNull(j))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "argument '%s' is not supported (only "
				  "null): %s", d->name, d->doc);
	if (cJSON_IsNull(j) || (d->flags & MG_ATTRF_IGNORED)) {
		int nullable = (d->flags & MG_ATTRF_NULLABLE) || (d->dflt && !strcmp(d->dflt, "null"));
		if (!nullable)
			return mg_err_set(e, MG_ERR_CONFIG, "argument '%s' cannot be null", d->name);
		out->is_none = 1;
		return 0;
	}
	if (d->type == MG_ATTR_STR && (d->flags & MG_ATTRF_COMPONENT) && cJSON_IsObject(j)) {
		/* {"_target_": "torch.nn.Tanh"}: a callable a config names without Python */
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "_target_");
		if (!cJSON_IsString(t) || cJSON_GetArraySize(j) != 1)
			return mg_err_set(e, MG_ERR_UNSUPPORTED,
					  "argument '%s': only a component with a \"_target_\" and no "
					  "other key is supported",
					  d->name);
		j = t;
	}
	if (d->type == MG_ATTR_STR && (d->flags & MG_ATTRF_JSON) && !cJSON_IsString(j)) {
		/* MONAI's (name, {args}) tuples: the JSON text, read by the attribute's user */
		char *t = cJSON_PrintUnformatted(j);
		out->v.s = t ? mg_arena_strdup(a, t) : NULL;
		free(t);
		return out->v.s ? 0 : mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	if (is_list_type(d->type))
		return list(d, j, a, out, e);
	return d->type == MG_ATTR_STR ? text(d, j, a, out, e) : scalar(d, d->type, j, out, e);
}

/* The per-key element of a PERKEY argument, or the argument itself. */
static const cJSON *per_key(const struct mg_attrdef *d, const cJSON *j, int key_index,
			    int nkeys, struct mg_err *e, int *rc)
{
	*rc = 0;
	if (key_index < 0 || !(d->flags & MG_ATTRF_PERKEY) || !cJSON_IsArray(j))
		return j;
	/* a list-typed argument is per key only as a list of lists */
	const cJSON *first = cJSON_GetArrayItem(j, 0);
	if (is_list_type(d->type) && !cJSON_IsArray(first))
		return j;
	int n = cJSON_GetArraySize(j);
	if (n != nkeys) {
		*rc = mg_err_set(e, MG_ERR_CONFIG, "argument '%s' has %d values for %d keys",
				 d->name, n, nkeys);
		return NULL;
	}
	return cJSON_GetArrayItem(j, key_index);
}

static int skipped(const char *const *skip, const char *name)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, name) == 0)
			return 1;
	return 0;
}

static int schema_index(const struct mg_attrdef *defs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(defs[i].name, name) == 0)
			return i;
	return -1;
}

int mg_attrs_parse_schema(const char *what, const struct mg_attrdef *defs, int nattrs,
			  const cJSON *args, int key_index, int nkeys, const char *const *skip,
			  struct mg_arena *arena, struct mg_attr *out, struct mg_err *e)
{
	for (const cJSON *j = args ? args->child : NULL; j; j = j->next)
		if (schema_index(defs, nattrs, j->string) < 0 && !skipped(skip, j->string))
			return mg_err_set(e, MG_ERR_CONFIG, "%s has no argument '%s'", what,
					  j->string);
	for (int i = 0; i < nattrs; i++) {
		const struct mg_attrdef *ad = &defs[i];
		const cJSON *j = args ? cJSON_GetObjectItemCaseSensitive(args, ad->name) : NULL;
		int rc;
		if (j) {
			j = per_key(ad, j, key_index, nkeys, e, &rc);
			if (rc)
				return rc;
			rc = convert(ad, j, arena, &out[i], e);
		} else {
			if (!ad->dflt)
				return mg_err_set(e, MG_ERR_CONFIG, "%s needs argument '%s' (%s)",
						  what, ad->name, ad->doc);
			cJSON *dj = cJSON_Parse(ad->dflt);
			if (!dj)
				return mg_err_set(e, MG_ERR_INTERNAL, "%s: bad default for '%s'",
						  what, ad->name);
			rc = convert(ad, dj, arena, &out[i], e);
			cJSON_Delete(dj);
		}
		if (rc)
			return rc;
	}
	return arena->failed ? mg_err_set(e, MG_ERR_NOMEM, "out of memory") : 0;
}

int mg_attrs_parse(const struct mg_opdef *d, const cJSON *args, int key_index, int nkeys,
		   const char *const *skip, struct mg_arena *arena, struct mg_attr *out,
		   struct mg_err *e)
{
	return mg_attrs_parse_schema(d->name, d->attrs, d->nattrs, args, key_index, nkeys, skip,
				     arena, out, e);
}
