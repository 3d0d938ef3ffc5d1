/* Op: CopyItems
 * Synopsis: bind copies of keys to new keys (shared storage: values are immutable).
 * MONAI: monai.transforms.CopyItemsd
 * Gradient: the sum of the copies' gradients.  Inverse: none.
 *
 * MONAI 1.6.1 (utility/dictionary.py CopyItemsd): times >= 1; names has len(keys) *
 * times entries, copy i of keys[k] going to names[i * len(keys) + k]; names null means
 * [f"{k}_{i}" for k in keys for i in range(times)], assigned in that same order, so
 * with several keys the default names do not follow their keys (keys ["a", "b"], times
 * 2: "a_1" holds b; mgc does as MONAI does). MONAI deep-copies; mgc values are never
 * written in place, so each copy is a new reference to the same storage and meta. One
 * node per key, with `times` outputs. Known deviation: MONAI's KeyError for a name the
 * item already holds is not raised (the name is rebound). Only the dict form exists. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"times", MG_ATTR_INT, "1", 0, NULL, "how many copies of each key"},
	{"names", MG_ATTR_STRS, "null", MG_ATTRF_NULLABLE, NULL,
	 "the new keys, len(keys) * times of them, copy i of keys[k] at i * len(keys) + k; "
	 "null: \"{key}_{i}\" for each key and i"},
};
enum { A_TIMES, A_NAMES };

static int copy_items(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	for (int64_t i = 0; i < a[A_TIMES].v.i; i++) {
		int rc = mg_val_share(&out[i], &in[0], k->err);
		if (rc)
			return rc;
	}
	return 0;
}

static int keys(const struct mg_attr *a, const char *const *key, int nkeys,
		struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e)
{
	int64_t times = a[A_TIMES].v.i;
	if (times < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "CopyItemsd: times must be positive, got %lld",
				  (long long)times);
	if (times > MG_STEP_MAXIO)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "CopyItemsd: times is %lld; mgc makes at "
				  "most %d copies per key", (long long)times, MG_STEP_MAXIO);
	int n = nkeys * (int)times;
	if (!a[A_NAMES].is_none && a[A_NAMES].n != n)
		return mg_err_set(e, MG_ERR_CONFIG, "CopyItemsd: names has %d entries for keys "
				  "'%s'%s and times %lld: it needs len(keys) * times = %d",
				  a[A_NAMES].n, key[0], nkeys > 1 ? " ..." : "", (long long)times, n);
	for (int k = 0; k < nkeys; k++) {
		struct mg_keynode *kn = &p->node[p->nnodes++];
		*kn = (struct mg_keynode){.nin = 1, .nout = (int)times, .family = -1};
		kn->in[0] = key[k];
		for (int i = 0; i < times; i++) {
			int at = i * nkeys + k; /* MONAI's names[i * len(keys) + k] */
			kn->out[i] = !a[A_NAMES].is_none
					     ? a[A_NAMES].v.strs[at]
					     : mg_arena_printf(arena, "%s_%d", key[at / times],
							       (int)(at % times));
		}
	}
	return 0;
}

const struct mg_opdef mg_op_copy_items = {
	.name = "CopyItems",
	.synopsis = "bind copies of keys to new keys (new references, no copy)",
	.flags = 0,
	.nin = 1,
	.nout = -1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.ref = copy_items,
	.keys = keys,
};
