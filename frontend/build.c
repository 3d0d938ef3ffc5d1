/* build.c: a resolved dataset component -> a graph and its datalist.
 *   dataset   := {"_target_": Dataset|CacheDataset|..., "data": data, "transform": chain}
 *   chain     := {"_target_": "Compose", "transforms": [transform...]} | [transform...]
 *   transform := {"_target_": Name | Named | NameD | NameDict, "keys": key|[key...], arg...}
 *   data      := [item...] | {"_target_": "load_decathlon_datalist", ...}
 * A dict transform over n keys becomes n nodes, one per key, each reading the key's
 * current value (and the values of the keys its data-key arguments name, as they were
 * before the transform); array transforms act on "image". Key-moving dict transforms
 * (an op with a `keys` hook: ConcatItemsd, CopyItemsd, SplitDimd, DeleteItemsd) get
 * their nodes, key families and deleted keys from the op's plan (add_moving; see
 * docs/pipeline-format.md). Read next: attrs.c, config.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/json.h"
#include "build.h"

/* The item's keys as the chain proceeds: key -> current value, or who deleted it; and the
 * key families of SplitDimd ("{key}_{i}"), whose nodes are made when a key is read. */
struct family {
	const char *prefix, *label;
	enum mg_op op;
	int attr; /* the attribute that takes i */
	const struct mg_attr *attrs;
	int32_t in;
	int optional;
};

struct env {
	int n, nfam;
	const char *key[MG_MAX_KEYS];
	int32_t val[MG_MAX_KEYS];
	const char *gone[MG_MAX_KEYS]; /* the transform that deleted the key, else NULL */
	struct family fam[MG_MAX_KEYS];
};

static int env_find(const struct env *v, const char *key)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->key[i], key) == 0)
			return i;
	return -1;
}

/* key's entry, a new one (unbound) when the key is new. */
static int env_slot(struct env *v, struct mg_graph *g, const char *key, struct mg_err *e)
{
	int i = env_find(v, key);
	if (i >= 0)
		return i;
	if (v->n == MG_MAX_KEYS) {
		mg_err_set(e, MG_ERR_UNSUPPORTED, "more than %d keys", MG_MAX_KEYS);
		return -1;
	}
	i = v->n++;
	v->key[i] = mg_arena_strdup(&g->arena, key);
	v->val[i] = -1;
	v->gone[i] = NULL;
	return i;
}

/* Binds key to val; names val after it, as values hold the key they are bound to
 * (messages and DataStats print it). */
static int env_set(struct env *v, struct mg_graph *g, const char *key, int32_t val,
		   struct mg_err *e)
{
	int i = env_slot(v, g, key, e);
	if (i < 0)
		return e->code;
	v->val[i] = val;
	v->gone[i] = NULL;
	if (g->values[val].producer >= 0)
		g->values[val].name = v->key[i];
	return 0;
}

/* Marks key deleted by who (a key the chain has not read yet gets an entry, so that
 * reading it later is the same error). */
static int env_unbind(struct env *v, struct mg_graph *g, const char *key, const char *who,
		      struct mg_err *e)
{
	int i = env_slot(v, g, key, e);
	if (i < 0)
		return e->code;
	v->gone[i] = who;
	return 0;
}

/* i when key is prefix + a decimal i as Python's str(i) writes it, else -1. */
static int64_t family_index(const char *prefix, const char *key)
{
	size_t n = strlen(prefix);
	const char *d = key + n;
	if (strncmp(key, prefix, n) != 0 || !*d || (d[0] == '0' && d[1]) || strlen(d) > 9)
		return -1;
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	return strtol(d, NULL, 10);
}

/* Drops the bindings of the keys a new family names (prefix + a number): reading one
 * now makes the family's node, as MONAI's SplitDimd overwrites such keys. */
static void env_forget(struct env *v, const char *prefix)
{
	for (int i = v->n - 1; i >= 0; i--)
		if (family_index(prefix, v->key[i]) >= 0) {
			v->n--;
			v->key[i] = v->key[v->n];
			v->val[i] = v->val[v->n];
			v->gone[i] = v->gone[v->n];
		}
}

/* The node a family makes for its key number i: one output, bound to key. */
static int32_t family_node(struct env *v, struct mg_graph *g, const struct family *f,
			   const char *key, int64_t i, struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[f->op];
	struct mg_attr *at = mg_arena_alloc(&g->arena, (size_t)(d->nattrs + 1) * sizeof *at);
	if (!at) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		return -1;
	}
	memcpy(at, f->attrs, (size_t)d->nattrs * sizeof *at);
	at[f->attr].is_none = 0;
	at[f->attr].v.i = i;
	char *label = mg_arena_printf(&g->arena, "%s key '%s'", f->label, key);
	int32_t n = mg_graph_add_node_n(g, f->op, &f->in, 1, 1, at, label, e);
	if (n < 0)
		return -1;
	g->nodes[n].optional = (uint8_t)f->optional;
	int32_t out = g->nodes[n].out[0];
	return env_set(v, g, key, out, e) ? -1 : out;
}

/* The value of key for the transform `who` ("at (Target)"): its binding, a family's node
 * (the latest family first), or the graph input of that name. Reading a deleted key is an
 * error naming who, the key and the transform that deleted it. */
static int32_t env_get(struct env *v, struct mg_graph *g, const char *key, const char *who,
		       struct mg_err *e)
{
	int i = env_find(v, key);
	if (i >= 0 && v->gone[i]) {
		mg_err_set(e, MG_ERR_CONFIG, "%s reads key '%s', which %s deleted", who, key,
			   v->gone[i]);
		return -1;
	}
	if (i >= 0)
		return v->val[i];
	for (int f = v->nfam - 1; f >= 0; f--) {
		int64_t k = family_index(v->fam[f].prefix, key);
		if (k >= 0)
			return family_node(v, g, &v->fam[f], key, k, e);
	}
	if (v->n == MG_MAX_KEYS) {
		mg_err_set(e, MG_ERR_UNSUPPORTED, "more than %d keys", MG_MAX_KEYS);
		return -1;
	}
	int32_t in = mg_graph_input(g, key, e);
	if (in < 0 || env_set(v, g, key, in, e))
		return -1;
	return in;
}

/* "monai.transforms.LoadImaged" -> "LoadImaged" */
static const char *short_name(const char *target)
{
	const char *dot = strrchr(target, '.');
	return dot ? dot + 1 : target;
}

/* Levenshtein distance, case-insensitive, of two short names (longer ones count as far). */
static int distance(const char *a, const char *b)
{
	enum { N = 64 };
	size_t la = strlen(a), lb = strlen(b);
	if (la >= N || lb >= N)
		return N;
	int row[N + 1];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], sub = tolower((unsigned char)a[i - 1]) !=
					       tolower((unsigned char)b[j - 1]);
			int best = diag + sub;
			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Names the closest known transform (array or dict form) when one is near. */
static int unknown_target(const char *where, const char *target, struct mg_err *e)
{
	const char *name = short_name(target);
	char best[64] = "", cand[64];
	int bd = (int)strlen(name) / 4 + 2;
	for (int i = 0; i < MG_OP_COUNT; i++)
		for (int dict = 0; dict < 2; dict++) {
			snprintf(cand, sizeof cand, "%s%s", mg_ops[i]->name, dict ? "d" : "");
			int d = distance(name, cand);
			if (d < bd) {
				bd = d;
				snprintf(best, sizeof best, "%s", cand);
			}
		}
	return mg_err_set(e, MG_ERR_CONFIG, "%s: unknown _target_ '%s'%s%s%s (`mgc ops` lists "
			  "the transforms mgc knows)", where, target, *best ? " (did you mean " : "",
			  best, *best ? "?)" : "");
}

/* Names a dict transform takes besides its op's arguments. meta_keys and friends name
 * separate metadata dicts in MONAI; in mgc metadata travels with the image. */
static const char *const dict_args[] = {"_target_", "keys", "allow_missing_keys", "meta_keys",
					"meta_key_postfix", "overwriting", NULL};
static const char *const array_args[] = {"_target_", NULL};

/* The i-th key of a transform: "image" for array transforms. */
static const char *key_name(const cJSON *keys, int dict, int i)
{
	return !dict ? "image"
	       : cJSON_IsArray(keys) ? cJSON_GetArrayItem(keys, i)->valuestring
				     : keys->valuestring;
}

/* "where key 'a'", "where keys 'a', 'b' -> 'c'": the keys a key-moving node reads and,
 * where they differ, the keys it writes. */
static const char *moving_label(struct mg_arena *a, const char *where,
				const struct mg_keynode *k)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s key%s", where, k->nin > 1 ? "s" : "");
	for (int i = 0; i < k->nin && n < (int)sizeof buf; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s '%s'", i ? "," : "", k->in[i]);
	int same = k->nin == 1 && k->nout == 1 && strcmp(k->in[0], k->out[0]) == 0;
	for (int i = 0; i < k->nout && !same && n < (int)sizeof buf; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s '%s'", i ? "," : " ->",
			      k->out[i]);
	return mg_arena_strdup(a, buf);
}

/* A key-moving dict transform (its op has a `keys` hook): the op's plan of nodes and
 * unbound keys. Every node's keys are read before any binds, as MONAI reads d[key]
 * before writing d[name]. */
static int add_moving(struct mg_graph *g, struct env *env, enum mg_op op, const cJSON *t,
		      const cJSON *keys, int nkeys, int optional, const char *where,
		      const char *who, struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[op];
	const char *names[MG_MAX_KEYS];
	struct mg_attr *attrs = mg_arena_alloc(&g->arena, (size_t)(d->nattrs + 1) * sizeof *attrs);
	struct mg_keyplan *p = calloc(1, sizeof *p);
	int32_t(*in)[MG_NODE_MAXIO] = calloc(MG_MAX_KEYS, sizeof *in);
	int rc = !attrs || !p || !in ? mg_err_set(e, MG_ERR_NOMEM, "out of memory") : 0;
	for (int i = 0; i < nkeys && !rc; i++)
		names[i] = key_name(keys, 1, i);
	if (!rc)
		rc = mg_attrs_parse(d, t, -1, nkeys, dict_args, &g->arena, attrs, e);
	if (!rc)
		rc = d->keys(attrs, names, nkeys, p, &g->arena, e);
	if (rc)
		mg_err_prefix(e, "%s", where);
	for (int i = 0; !rc && i < p->nnodes; i++)
		for (int k = 0; !rc && k < p->node[i].nin; k++)
			if ((in[i][k] = env_get(env, g, p->node[i].in[k], who, e)) < 0)
				rc = e->code;
	for (int i = 0; !rc && i < p->nnodes; i++) {
		const struct mg_keynode *kn = &p->node[i];
		const struct mg_attr *at = kn->attrs ? kn->attrs : attrs;
		if (kn->family >= 0) {
			if (env->nfam == MG_MAX_KEYS) {
				rc = mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: more than %d key "
						"families", where, MG_MAX_KEYS);
				break;
			}
			env->fam[env->nfam++] = (struct family){kn->out[0], where, op, kn->family,
								 at, in[i][0], optional};
			env_forget(env, kn->out[0]);
			continue;
		}
		int32_t n = mg_graph_add_node_n(g, op, in[i], kn->nin, kn->nout, at,
						moving_label(&g->arena, where, kn), e);
		if (n < 0) {
			rc = e->code;
			break;
		}
		g->nodes[n].optional = (uint8_t)optional;
		for (int k = 0; k < kn->nout && !rc; k++)
			rc = env_set(env, g, kn->out[k], g->nodes[n].out[k], e);
	}
	for (int i = 0; !rc && i < p->nunbind; i++)
		rc = env_unbind(env, g, p->unbind[i], who, e);
	free(p);
	free(in);
	return rc;
}

static int add_transform(struct mg_graph *g, struct env *env, const cJSON *t,
			 const char *where, struct mg_err *e)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(t, "_target_");
	if (!cJSON_IsObject(t) || !cJSON_IsString(target))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: a transform needs a \"_target_\"", where);
	int dict, op = mg_op_find_target(target->valuestring, &dict);
	if (op < 0)
		return unknown_target(where, target->valuestring, e);
	const struct mg_opdef *d = mg_ops[op];
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t, "keys");
	const cJSON *amk = cJSON_GetObjectItemCaseSensitive(t, "allow_missing_keys");
	int nkeys = 1;
	if (dict) {
		if (!keys)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: %s needs argument 'keys'", where,
					  target->valuestring);
		nkeys = cJSON_IsArray(keys) ? cJSON_GetArraySize(keys) : 1;
		const cJSON *k0 = cJSON_IsArray(keys) ? keys->child : keys;
		for (const cJSON *k = k0; k; k = cJSON_IsArray(keys) ? k->next : NULL)
			if (!cJSON_IsString(k))
				return mg_err_set(e, MG_ERR_CONFIG,
						  "%s: 'keys' must be a string or a list of strings",
						  where);
		if (amk && !cJSON_IsBool(amk))
			return mg_err_set(e, MG_ERR_CONFIG,
					  "%s: 'allow_missing_keys' must be a boolean", where);
	}
	const char *who = mg_arena_printf(&g->arena, "%s (%s)", where, target->valuestring);
	if (d->keys)
		return dict ? add_moving(g, env, op, t, keys, nkeys, cJSON_IsTrue(amk), where, who, e)
			    : mg_err_set(e, MG_ERR_CONFIG, "%s: only the dict form %sd of %s is "
					 "supported: it moves item keys, and an array transform "
					 "acts on \"image\" alone", where, d->name, d->name);
	/* every key's arguments first: the data-key inputs (source_key, orig_keys) are read
	 * before any node rebinds a key, as MONAI reads them before transforming */
	struct mg_attr *attrs[MG_MAX_KEYS];
	int32_t in[MG_MAX_KEYS][MG_NODE_MAXIO];
	int nin[MG_MAX_KEYS];
	if (nkeys > MG_MAX_KEYS)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: more than %d keys", where,
				  MG_MAX_KEYS);
	for (int i = 0; i < nkeys; i++) {
		const char *key = key_name(keys, dict, i);
		attrs[i] = mg_arena_alloc(&g->arena, (size_t)(d->nattrs + 1) * sizeof *attrs[i]);
		if (!attrs[i])
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		int rc = mg_attrs_parse(d, t, dict ? i : -1, nkeys, dict ? dict_args : array_args,
					&g->arena, attrs[i], e);
		if (rc) {
			mg_err_prefix(e, "%s", where);
			return rc;
		}
		nin[i] = 0;
		in[i][nin[i]++] = env_get(env, g, key, who, e);
		for (int a = 0; a < d->nattrs && in[i][0] >= 0; a++) {
			if (!(d->attrs[a].flags & MG_ATTRF_KEY) || attrs[i][a].is_none)
				continue;
			if (nin[i] == MG_NODE_MAXIO)
				return mg_err_set(e, MG_ERR_INTERNAL, "%s: too many inputs", where);
			in[i][nin[i]++] = env_get(env, g, attrs[i][a].v.s, who, e);
			if (in[i][nin[i] - 1] < 0)
				return e->code;
		}
		if (in[i][0] < 0)
			return e->code;
	}
	for (int i = 0; i < nkeys; i++) {
		const char *key = key_name(keys, dict, i);
		char *label = mg_arena_printf(&g->arena, "%s key '%s'", where, key);
		int32_t n = mg_graph_add_node(g, (enum mg_op)op, in[i], nin[i], attrs[i], label, e);
		if (n < 0)
			return e->code;
		g->nodes[n].optional = cJSON_IsTrue(amk);
		if (env_set(env, g, key, g->nodes[n].out[0], e))
			return e->code;
	}
	return 0;
}

/* The list of transforms of a chain (Compose or a plain list). */
static const cJSON *chain_list(const cJSON *chain, const char *where, struct mg_err *e)
{
	if (cJSON_IsArray(chain))
		return chain;
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(chain, "_target_");
	if (cJSON_IsString(target) && strcmp(short_name(target->valuestring), "Compose") == 0) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(chain, "transforms");
		if (cJSON_IsArray(l))
			return l;
		mg_err_set(e, MG_ERR_CONFIG, "%s: Compose needs a 'transforms' list", where);
		return NULL;
	}
	mg_err_set(e, MG_ERR_CONFIG, "%s: expected a Compose or a list of transforms", where);
	return NULL;
}

static int add_chain(struct mg_graph *g, struct env *env, const cJSON *chain,
		     const char *where, struct mg_err *e)
{
	const cJSON *list = chain_list(chain, where, e);
	if (!list)
		return e->code;
	const char *sep = list == chain ? "" : "#transforms";
	int i = 0;
	for (const cJSON *t = list->child; t; t = t->next, i++) {
		char *at = mg_arena_printf(&g->arena, "%s%s#%d", where, sep, i);
		const cJSON *target = cJSON_GetObjectItemCaseSensitive(t, "_target_");
		int rc = cJSON_IsString(target) &&
				 strcmp(short_name(target->valuestring), "Compose") == 0
			 ? add_chain(g, env, t, at, e) /* nested Compose runs in place */
			 : add_transform(g, env, t, at, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- data ------------------------------------------------------------------------------ */

static const char *str_arg(const cJSON *o, const char *name, const char *dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(j) ? j->valuestring : dflt;
}

static int int_arg(const cJSON *o, const char *name, int dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(j) ? j->valueint : cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
}

/* data := [item...] | {"_target_": "load_decathlon_datalist", "data_list_file_path": s,
 *          "data_list_key"?: s, "base_dir"?: s, "is_segmentation"?: b, "fold"?: n,
 *          "fold_exclude"?: b}
 * Strings point into data. */
static int data_source(struct mg_datasrc *src, const cJSON *data, const char *where,
		       struct mg_err *e)
{
	memset(src, 0, sizeof *src);
	src->where = where;
	if (cJSON_IsArray(data)) { /* a list in the config: MONAI uses it as it is */
		src->kind = MG_DATASRC_ITEMS;
		return mg_datalist_from_json(&src->items, data, NULL, 1, where, e);
	}
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(data, "_target_");
	if (!cJSON_IsString(target))
		return mg_err_set(e, MG_ERR_CONFIG,
				  "%s: data must be a list of items or a load_decathlon_datalist "
				  "component",
				  where);
	if (strcmp(short_name(target->valuestring), "load_decathlon_datalist") != 0)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: unknown data _target_ '%s'", where,
				  target->valuestring);
	src->kind = MG_DATASRC_DECATHLON;
	src->path = str_arg(data, "data_list_file_path", NULL);
	if (!src->path)
		return mg_err_set(e, MG_ERR_CONFIG,
				  "%s: load_decathlon_datalist needs 'data_list_file_path'", where);
	src->key = str_arg(data, "data_list_key", "training");
	src->base_dir = str_arg(data, "base_dir", NULL);
	src->is_segmentation = int_arg(data, "is_segmentation", 1);
	src->fold = int_arg(data, "fold", -1);
	src->fold_exclude = int_arg(data, "fold_exclude", 0);
	return 0;
}

/* ---- the program ----------------------------------------------------------------------- */

static int is_dataset(const char *name)
{
	/* all run the same here; the caching kinds differ only in speed */
	static const char *const names[] = {"Dataset",	    "CacheDataset", "PersistentDataset",
					    "SmartCacheDataset", "LMDBDataset",  "CacheNTransDataset"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* "dataset#transform" written as "@preprocessing" in the file is labelled
 * "preprocessing", the name the user wrote. */
static const char *source_id(const struct mg_config *c, struct mg_arena *a, const char *id)
{
	const cJSON *raw = mg_config_get(c, id);
	if (cJSON_IsString(raw) && raw->valuestring[0] == '@')
		return mg_arena_strdup(a, raw->valuestring + 1);
	return mg_arena_strdup(a, id);
}

int mg_program_build(const struct mg_config *c, const char *run_id, struct mg_program *p,
		     struct mg_err *e)
{
	memset(p, 0, sizeof *p);
	cJSON *comp = NULL;
	int rc = mg_config_resolve(c, run_id, &comp, e);
	if (rc)
		return rc;
	p->graph = mg_graph_new(run_id);
	if (!p->graph) {
		cJSON_Delete(comp);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	struct mg_arena *a = &p->graph->arena;
	p->origin = mg_arena_strdup(a, mg_config_origin(c, run_id));
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(comp, "_target_");
	cJSON *chain = comp;
	const char *chain_at = source_id(c, a, run_id);
	if (cJSON_IsString(target) && is_dataset(short_name(target->valuestring))) {
		chain = cJSON_GetObjectItemCaseSensitive(comp, "transform");
		p->data_spec = cJSON_DetachItemFromObjectCaseSensitive(comp, "data");
		chain_at = source_id(c, a, mg_arena_printf(a, "%s#transform", run_id));
		p->data_at = source_id(c, a, mg_arena_printf(a, "%s#data", run_id));
		if (!chain || !p->data_spec)
			rc = mg_err_set(e, MG_ERR_CONFIG, "%s: %s needs 'data' and 'transform'",
					run_id, target->valuestring);
	} else if (!mg_config_get(c, "datalist")) {
		rc = mg_err_set(e, MG_ERR_CONFIG,
				"%s is not a dataset component and the config has no 'datalist'",
				run_id);
	} else if ((rc = mg_config_resolve(c, "datalist", &p->data_spec, e))) {
		/* the resolver's messages name their file already */
		cJSON_Delete(comp);
		mg_program_free(p);
		return rc;
	} else {
		p->data_at = "datalist";
	}
	struct env *env = calloc(1, sizeof *env);
	if (!rc && !env)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = add_chain(p->graph, env, chain, chain_at, e);
	int32_t out[MG_MAX_KEYS];
	int nout = 0;
	for (int i = 0; !rc && i < env->n; i++)
		if (!env->gone[i]) /* deleted keys are no outputs */
			out[nout++] = env->val[i];
	if (!rc)
		rc = mg_graph_set_outputs(p->graph, out, nout, e);
	free(env);
	if (!rc && a->failed)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	if (rc && p->origin)
		mg_err_prefix(e, "%s", p->origin);
	cJSON_Delete(comp);
	if (rc)
		mg_program_free(p);
	return rc;
}

int mg_program_datasrc(struct mg_program *p, struct mg_err *e)
{
	mg_datalist_free(&p->src.items);
	int rc = data_source(&p->src, p->data_spec, p->data_at, e);
	if (rc && p->origin)
		mg_err_prefix(e, "%s", p->origin);
	return rc;
}

int mg_program_load_data(struct mg_program *p, struct mg_err *e)
{
	int rc = mg_program_datasrc(p, e);
	if (!rc && (rc = mg_datasrc_load(&p->src, &p->data, e)) && p->origin)
		mg_err_prefix(e, "%s", p->origin);
	return rc;
}

void mg_program_free(struct mg_program *p)
{
	mg_graph_free(p->graph);
	mg_datalist_free(&p->data);
	mg_datalist_free(&p->src.items);
	cJSON_Delete(p->data_spec);
	memset(p, 0, sizeof *p);
}
