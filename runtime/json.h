/* json.h: reading a JSON file, for the runtime (datalists) and the frontend (pipeline
 * files) alike, so that both report syntax errors the same way.
 * Read next: json.c. */
#ifndef MG_JSON_H
#define MG_JSON_H

#include <cjson/cJSON.h>

#include "runtime.h"

/* Reads the whole file at path and parses it into *out (the caller frees it with
 * cJSON_Delete); *out is NULL on failure. Errors: MG_ERR_IO "<path>: cannot open" or
 * "<path>: read error", MG_ERR_NOMEM, and MG_ERR_FORMAT
 *   "<path>:<line>:<col>: invalid JSON at '<the text there>'"
 *   ("NUL byte in JSON text", "empty file, expected a JSON object" for the other cases)
 * followed by the line and a caret under the column. */
int mg_json_read_file(const char *path, cJSON **out, struct mg_err *e);

#endif
