/* Op: SplitDim
 * Synopsis: one piece of size 1 along an axis (a view); SplitDimd binds each to a key.
 * MONAI: monai.transforms.SplitDimd (the array form SplitDim returns a list: refused)
 * Gradient: none yet.  Inverse: none.
 *
 * MONAI 1.6.1 (utility/array.py SplitDim, dictionary.py SplitDimd): torch.split(img, 1,
 * dim), each piece squeezed along dim unless keepdim. With update_meta, piece i of a
 * split along dim > 0 gets affine @ shift, shift translating by i along voxel axis
 * dim - 1 (the piece's voxel 0 is the input's voxel i); dim 0 (channels) keeps the
 * affine. SplitDimd writes piece i to key "{key}_{i}", or "{key}_{output_postfixes[i]}".
 * A node here takes one piece (`index`): the frontend makes the nodes of the postfixed
 * keys at once, and those of "{key}_{i}" when a later transform reads the key, as the
 * count is the image's size, known only at run time (mg_opdef.keys, family). Reading a
 * key past the count is an error at run time naming the key. list_output (a list of
 * items) is refused: a pipeline item stays one item. Pieces share the input's storage
 * and meta (copied only where update_meta changes the affine); with keepdim false along
 * dim > 0 the spatial rank drops to 2 (MONAI keeps the 4x4 affine as it is). The dict
 * form's default dim is 0 (the array form's is -1). */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"dim", MG_ATTR_INT, "0", 0, NULL,
	 "the axis to split (channel axis included; negative counts from the end)"},
	{"keepdim", MG_ATTR_BOOL, "true", 0, NULL,
	 "keep the split axis with size 1; false removes it"},
	{"update_meta", MG_ATTR_BOOL, "true", 0, NULL,
	 "translate each piece's affine to its position (dim > 0)"},
	{"output_postfixes", MG_ATTR_STRS, "null", MG_ATTRF_NULLABLE, NULL,
	 "the keys' postfixes, one per piece (the axis size must match); null: 0, 1, ..."},
	{"list_output", MG_ATTR_BOOL, "false", 0, NULL,
	 "a list of items, one per piece: not supported (an item stays one item)"},
	{"index", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "mgc's, set by the frontend (not in files): the piece this node takes"},
};
enum { A_DIM, A_KEEPDIM, A_UPDATE_META, A_POSTFIXES, A_LIST_OUTPUT, A_INDEX };

static int split_dim(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		     struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "SplitDim", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	int d;
	if ((rc = mg_op_axis(a[A_DIM].v.i, x->rank, "SplitDimd", "dim", &d, k->err)))
		return rc;
	int64_t i = a[A_INDEX].v.i, n = x->dims[d];
	const char *key = k->key ? k->key : "?";
	if (!a[A_POSTFIXES].is_none && a[A_POSTFIXES].n != n)
		return mg_err_set(k->err, MG_ERR_SHAPE, "SplitDimd: '%s' has %lld pieces along "
				  "dim %lld but output_postfixes names %d (MONAI: \"count of "
				  "splits must match output_postfixes\")", key, (long long)n,
				  (long long)a[A_DIM].v.i, a[A_POSTFIXES].n);
	if (i >= n)
		return mg_err_set(k->err, MG_ERR_CONFIG, "key '%s_%lld' does not exist: SplitDimd "
				  "split '%s' into %lld pieces along dim %lld ('%s_0' to '%s_%lld')",
				  key, (long long)i, key, (long long)n, (long long)a[A_DIM].v.i,
				  key, key, (long long)(n - 1));
	struct mg_tensor y = mg_tensor_share(x);
	y.offset += i * y.strides[d];
	y.dims[d] = 1;
	if (!a[A_KEEPDIM].v.i)
		mg_tensor_squeeze(&y, d);
	int moves = d > 0 && a[A_UPDATE_META].v.i && y.meta;
	int drops = d > 0 && !a[A_KEEPDIM].v.i && y.meta && y.meta->sdim == 3;
	if (moves && d - 1 >= 3)
		rc = mg_err_set(k->err, MG_ERR_SHAPE, "SplitDimd: update_meta cannot translate "
				"the affine along dim %d (a 4x4 affine has 3 spatial axes; MONAI "
				"fails too): set update_meta=false", d);
	struct mg_meta *m = !rc && (moves || drops) ? mg_meta_mut(&y) : NULL;
	if (!rc && (moves || drops) && !m)
		rc = mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	if (rc) {
		mg_tensor_release(&y);
		return rc;
	}
	if (moves)
		for (int r = 0; r < 4; r++)
			m->affine[r][3] += m->affine[r][d - 1] * (double)i;
	if (drops)
		m->sdim = 2;
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "SplitDimd", e);
	if (rc)
		return rc;
	if (a[A_INDEX].is_none)
		return mg_err_set(e, MG_ERR_INTERNAL, "SplitDim: the frontend set no index");
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	int d;
	if (in[0].rank < 0)
		return 0;
	if ((rc = mg_op_axis(a[A_DIM].v.i, in[0].rank, "SplitDimd", "dim", &d, e)))
		return rc;
	out[0].dims[d] = 1;
	if (!a[A_KEEPDIM].v.i) {
		for (int j = d; j + 1 < in[0].rank; j++)
			out[0].dims[j] = in[0].dims[j + 1];
		out[0].rank--;
	}
	return 0;
}

/* Per key: one node per postfix, or the family "{key}_" (one node per key read). */
static int keys(const struct mg_attr *a, const char *const *key, int nkeys,
		struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e)
{
	if (a[A_LIST_OUTPUT].v.i)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "SplitDimd: list_output=true makes a list "
				  "of items, one per piece; an mgc pipeline keeps one item per "
				  "datalist entry (use the default, which writes \"{key}_{i}\")");
	if (!a[A_INDEX].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "SplitDimd: index is mgc's own argument, set "
				  "for each key it writes; leave it out");
	const struct mg_attr *post = &a[A_POSTFIXES];
	int n = post->is_none ? 1 : post->n;
	if (nkeys * n > MG_MAX_KEYS)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "SplitDimd: more than %d keys",
				  MG_MAX_KEYS);
	for (int k = 0; k < nkeys; k++)
		for (int j = 0; j < n; j++) {
			struct mg_keynode *kn = &p->node[p->nnodes++];
			size_t na = sizeof attrs / sizeof *attrs;
			struct mg_attr *at = mg_arena_alloc(arena, na * sizeof *at);
			if (!at)
				return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
			memcpy(at, a, na * sizeof *at);
			at[A_INDEX] = (struct mg_attr){.v.i = j};
			*kn = (struct mg_keynode){.nin = 1, .nout = 1, .family = -1, .attrs = at};
			kn->in[0] = key[k];
			kn->out[0] = post->is_none ? mg_arena_printf(arena, "%s_", key[k])
						   : mg_arena_printf(arena, "%s_%s", key[k],
								     post->v.strs[j]);
			if (post->is_none)
				kn->family = A_INDEX;
		}
	return 0;
}

const struct mg_opdef mg_op_split_dim = {
	.name = "SplitDim",
	.synopsis = "one piece of size 1 along an axis (a view); SplitDimd writes \"{key}_{i}\"",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = split_dim,
	.keys = keys,
};
