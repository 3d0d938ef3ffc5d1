/* json.c: a JSON file -> a cJSON tree, with syntax errors at path:line:col and the line
 * shown with a caret under the column. Used by datalist.c and the frontend's config.c.
 * Invariant: the text is parsed whole (trailing garbage and NUL bytes are errors), and
 * the error position is cJSON's return_parse_end, the offset cJSON_GetErrorPtr reports,
 * without its global. Read next: datalist.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Appends "\n    <the line at off>\n    ^" to msg (a window of the line when long). */
static void json_caret_line(char *msg, size_t cap, const char *text, size_t len, size_t off)
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

/* The MG_ERR_FORMAT message for text that does not parse, the error at offset off. */
static int json_syntax_error(const char *path, const char *buf, size_t len, size_t off,
			     int nul, struct mg_err *e)
{
	if (off > len)
		off = len;
	size_t line = 1, col = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n', col = buf[i] == '\n' ? 1 : col + 1;
	size_t n = strcspn(buf + off, "\r\n"); /* the text from the error to the line's end */
	char msg[sizeof e->msg];
	snprintf(msg, sizeof msg, "%s:%zu:%zu: %s%s%.*s%s", path, line, col,
		 nul	    ? "NUL byte in JSON text"
		 : len == 0 ? "empty file, expected a JSON object"
			    : "invalid JSON",
		 n ? " at '" : "", (int)(n > 20 ? 20 : n), buf + off, n ? "'" : "");
	if (len)
		json_caret_line(msg, sizeof msg, buf, len, off);
	return mg_err_set(e, MG_ERR_FORMAT, "%s", msg);
}

const char *mg_json_kind(const cJSON *v)
{
	return cJSON_IsObject(v)   ? "a dict"
	       : cJSON_IsArray(v)  ? "a list"
	       : cJSON_IsString(v) ? "a string"
	       : cJSON_IsNumber(v) ? "a number"
	       : cJSON_IsBool(v)   ? "a bool"
	       : cJSON_IsNull(v)   ? "null"
				   : "something else";
}

int mg_json_read_file(const char *path, cJSON **out, struct mg_err *e)
{
	*out = NULL;
	char *buf;
	size_t len;
	int rc = mg_file_read(path, &buf, &len, e);
	if (rc)
		return rc;
	const char *end = NULL, *nul = memchr(buf, 0, len);
	cJSON *root = nul ? NULL : cJSON_ParseWithOpts(buf, &end, 1);
	if (!root)
		rc = json_syntax_error(path, buf, len,
				       nul   ? (size_t)(nul - buf)
				       : end ? (size_t)(end - buf)
					     : 0,
				       nul != NULL, e);
	free(buf);
	*out = root;
	return rc;
}
