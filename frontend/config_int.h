/* config_int.h: what the three parts of the config module share, and nothing outside
 * frontend/config*.c may use: config.c (loading, merging, overrides, ids, origins),
 * config_macro.c (relative ids and %macros, run once by mg_config_load) and
 * config_resolve.c (@references, for mg_config_resolve).
 * Invariant: every id passed to these functions is canonical (segments joined by '#',
 * "::" rewritten by config_id_canon), and every message has the shape config_err makes.
 * Read next: config.c. */
#ifndef MG_CONFIG_INT_H
#define MG_CONFIG_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "config.h"

/* Limits that keep hostile files finite: nesting (the C stack) and the number of values
 * a macro expansion or a resolution may create (references can double at each step). */
enum { CFG_MAX_DEPTH = 1500, CFG_MAX_NODES = 1 << 20, CFG_MAX_REFS = 400 };

/* ---- text -------------------------------------------------------------------------- */

/* A malloc'd printf; NULL when out of memory. */
char *config_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* User text in messages is cut to ~80 characters: expressions can be long. */
const char *config_clip(const char *s, char buf[96]);
/* "dict", "list", "string", "number", "bool" or "null", as messages name JSON values. */
const char *config_type_name(const cJSON *v);
/* Drops blanks (' ', '\t', '\n', '\r') from both ends of bytes [*s, *s + *n), as
 * Python's str.strip(). */
void config_strip(const char **s, size_t *n);
/* Writes "<sym>ids[0] -> <sym>ids[1] -> ... <sym>ids[n-1]<tail>" into buf, cut to cap,
 * for the chains in cycle and "needed by" messages. */
void config_chain(char *buf, size_t cap, const char *sym, const char *const *ids, int n,
		  const char *tail);

/* ---- ids and the tree --------------------------------------------------------------- */

/* id := seg (('#' | '::') seg)*. Returns the canonical spelling (every "::" as '#'). */
char *config_id_canon(const char *id);
/* The id of parent's member key, or of its list item i ("" is the top level). */
char *config_id_child(const char *parent, const char *key);
char *config_id_index(const char *parent, int i);
/* The node at canonical id under root (NULL when absent, with why saying which step
 * failed, when why is not NULL). "" is the root itself. */
cJSON *config_node_at(const cJSON *root, const char *id, char *why, size_t cap);
/* Replaces old (a child of parent) by v in its place; v takes old's key. */
void config_replace_child(cJSON *parent, cJSON *old, cJSON *v);
/* A pipeline file (or a %file macro's file) read whole: a JSON object without repeated
 * keys. YAML is refused; syntax errors come from mg_json_read_file. */
int config_read_file(const char *path, cJSON **out, struct mg_err *e);

/* ---- origins and messages ------------------------------------------------------------ */

/* The file(s) that wrote the longest recorded prefix of id; NULL when none did. */
const char *config_origin_of(const struct mg_config *c, const char *canon);
/* For messages: the origin, else the last file, else the command line. */
const char *config_where(const struct mg_config *c, const char *canon);
/* "<file>: key '<id>': <what>", the house shape of every config message; file NULL means
 * the file that set id (config_where). Returns code. */
int config_err(const struct mg_config *c, struct mg_err *e, int code, const char *file,
	       const char *id, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int config_verr(const struct mg_config *c, struct mg_err *e, int code, const char *file,
		const char *id, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* ---- the passes over the tree ---------------------------------------------------------- */

/* Makes relative ids absolute and expands every %macro in c->root, in place
 * (config_macro.c). Afterwards no string in c->root starts with '%'. */
int config_expand_macros(struct mg_config *c, struct mg_err *e);

#endif
