/* Op: DeleteItems
 * Synopsis: remove keys from the item (no node: later reads are build errors).
 * MONAI: monai.transforms.DeleteItemsd
 * Gradient: none.  Inverse: none.
 *
 * MONAI 1.6.1 (utility/dictionary.py DeleteItemsd): a new dict without the keys; a key
 * the item lacks is no error. mgc values are immutable and freed after their last use,
 * so deleting is only unbinding: the frontend makes no node, and a later transform that
 * reads the key is an error when the pipeline is built, naming both transforms and the
 * key. Nested keys ("a.b" with sep ".") and regular expressions (use_re) are refused:
 * items are flat here and their keys are not all known when the pipeline is built. Only
 * the dict form exists. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"sep", MG_ATTR_STR, "\".\"", 0, NULL,
	 "separator of nested keys: a key containing it is refused (items are flat)"},
	{"use_re", MG_ATTR_BOOL, "false", 0, NULL,
	 "keys as regular expressions: not supported (only false)"},
};
enum { A_SEP, A_USE_RE };

static int keys(const struct mg_attr *a, const char *const *key, int nkeys,
		struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e)
{
	(void)arena;
	if (a[A_USE_RE].v.i)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "DeleteItemsd: use_re=true is not "
				  "supported (the item's keys are not all known when the pipeline "
				  "is built)");
	for (int k = 0; k < nkeys; k++) {
		if (*a[A_SEP].v.s && strstr(key[k], a[A_SEP].v.s))
			return mg_err_set(e, MG_ERR_UNSUPPORTED, "DeleteItemsd: key '%s' names a "
					  "nested item (sep \"%s\"); mgc items are flat", key[k],
					  a[A_SEP].v.s);
		p->unbind[p->nunbind++] = key[k];
	}
	return 0;
}

const struct mg_opdef mg_op_delete_items = {
	.name = "DeleteItems",
	.synopsis = "remove keys from the item (no node; later reads are build errors)",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.keys = keys,
};
