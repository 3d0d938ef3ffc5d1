/* config.h: pipeline files are MONAI bundle configs. This module loads and merges them,
 * applies command-line overrides, expands %macros and resolves @references into a plain
 * JSON tree (cJSON) that the graph builder reads.
 *   file      := JSON object
 *   id        := key ('#' key)*            (also '::' as separator; list items by index)
 *   "@id"     := the resolved value at id  ("@#x": sibling, "@##x": one level up ...)
 *   "%file#id", "%id" := a textual copy of the raw config at id, before resolution
 *   "$expr"   := a Python expression: not evaluated, an error naming the key (but for
 *                the arguments ops declare MG_ATTRF_EXPR, kept as text: select_fn)
 *   "+key"    := when merging files: dicts update, lists extend
 * Read next: config.c, then build.c. */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <cjson/cJSON.h>
#include "../runtime/runtime.h"

struct mg_config {
	cJSON *root;        /* the merged raw tree */
	int nfiles;
	char **files;       /* in merge order */
	cJSON *origin;      /* top-level id -> the file that set it last (for messages) */
};

/* Loads files in order, later ones overriding earlier ones key by key ("+key" merges),
 * then applies overrides "a#b#0=VALUE" (VALUE parsed as JSON, else taken as a string;
 * a leading "--" is accepted and dropped), then expands % macros. */
int mg_config_load(struct mg_config *c, const char *const *files, int nfiles,
		   const char *const *overrides, int noverrides, struct mg_err *e);
void mg_config_free(struct mg_config *c);
/* The raw node at id (no resolution), NULL if absent. */
cJSON *mg_config_get(const struct mg_config *c, const char *id);
/* A deep copy of the node at id with every @reference replaced by its resolved value,
 * `_disabled_` components dropped (from lists and dicts) and `_desc_`, `_requires_`
 * removed. Errors name the file, the id and the offending reference or expression;
 * reference cycles are reported. The caller frees *out with cJSON_Delete. */
int mg_config_resolve(const struct mg_config *c, const char *id, cJSON **out, struct mg_err *e);
/* The file that last wrote the longest recorded prefix of id ("command line" for an
 * override), for messages; NULL when nothing set it. */
const char *mg_config_origin(const struct mg_config *c, const char *id);

#endif
