/* val.c: run-time values: tensors (with meta) or lists of strings; the names of the
 * attribute types. */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

void mg_val_release(struct mg_val *v)
{
	mg_tensor_release(&v->t);
	for (int i = 0; i < v->nstr; i++)
		free(v->str[i]);
	free(v->str);
	memset(v, 0, sizeof *v);
}

int mg_val_share(struct mg_val *dst, const struct mg_val *src, struct mg_err *e)
{
	memset(dst, 0, sizeof *dst);
	dst->kind = src->kind;
	if (src->kind == MG_VK_TENSOR)
		dst->t = mg_tensor_share(&src->t);
	if (src->kind != MG_VK_STRINGS)
		return 0;
	dst->str = calloc((size_t)src->nstr + 1, sizeof *dst->str);
	if (!dst->str)
		goto nomem;
	for (int i = 0; i < src->nstr; i++) {
		if (!(dst->str[i] = strdup(src->str[i])))
			goto nomem;
		dst->nstr++;
	}
	return 0;
nomem:
	mg_val_release(dst);
	return mg_err_set(e, MG_ERR_NOMEM, "out of memory copying strings");
}

static const struct {
	const char *name, *phrase;
	enum mg_attr_type elem;
} attr_types[] = {
#define X(e, el, name, phrase) [MG_ATTR_##e] = {name, phrase, MG_ATTR_##el},
	MG_ATTR_TYPES(X)
#undef X
};

const char *mg_attr_type_name(enum mg_attr_type t) { return attr_types[t].name; }
const char *mg_attr_type_phrase(enum mg_attr_type t) { return attr_types[t].phrase; }
enum mg_attr_type mg_attr_type_elem(enum mg_attr_type t) { return attr_types[t].elem; }
