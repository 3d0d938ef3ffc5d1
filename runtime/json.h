/* json.h: reading a JSON file, for the runtime (datalists) and the frontend (pipeline
 * files) alike, so that both report syntax errors the same way.
 * Read next: json.c. */
#ifndef MG_JSON_H
#define MG_JSON_H

#include <cjson/cJSON.h>

#include "runtime.h"

/* Reads the whole file at path and parses it into *out (the caller frees it with
 * cJSON_Delete); *out is NULL on failure. Errors: MG_ERR_IO "<path>: cannot open: <why>"
 * or "<path>: read error: <why>" (why: strerror's text), MG_ERR_NOMEM, and MG_ERR_FORMAT
 *   "<path>:<line>:<col>: invalid JSON at '<the text there>'"
 *   ("NUL byte in JSON text", "empty file, expected a JSON object" for the other cases)
 * followed by the line and a caret under the column. */
int mg_json_read_file(const char *path, cJSON **out, struct mg_err *e);

/* What a value is, in Python's words, for messages: "a dict", "a list", "a string",
 * "a number", "a bool" or "null". */
const char *mg_json_kind(const cJSON *v);

struct mg_datalist;
/* The items of a datalist, from a JSON list, as MONAI's load_decathlon_datalist reads
 * its key's list (datalist.c):
 *   items := [item...]   item := string | {key: value, ...}
 * A string is {"image": string}. With base_dir, "image" (and "label" when
 * is_segmentation) are joined to base_dir and normalised, other string fields only when
 * the joined path exists; base_dir NULL keeps every path as written (MONAI uses a list
 * written in the pipeline as it is). Errors start with `where` ("file: 'training'") and
 * name the item ("<where> item 3: ..."); they are MG_ERR_FORMAT, or MG_ERR_CONFIG when
 * base_dir is NULL (the list is part of the pipeline file). dl is empty on failure. */
int mg_datalist_from_json(struct mg_datalist *dl, const cJSON *items, const char *base_dir,
			  int is_segmentation, const char *where, struct mg_err *e);

#endif
