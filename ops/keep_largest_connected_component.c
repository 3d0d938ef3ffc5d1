/* Op: KeepLargestConnectedComponent
 * Synopsis: zero the voxels of each label (or of their union) outside its largest components.
 * MONAI: monai.transforms.KeepLargestConnectedComponent(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py with transforms/utils.py get_largest_connected_component_mask):
 *   - is_onehot null: one-hot when the image has more than one channel;
 *   - applied_labels null: one-hot, the channels other than 0 whose sum is > 0; labels,
 *     the distinct values other than 0 (a label image must then have one channel);
 *   - independent: per label, foreground = channel[label] > 0 (one-hot) or channel 0 ==
 *     label; not independent: the union, channel 0 in the labels, or (one-hot) any of the
 *     labels' channels == 1;
 *   - the foreground's components (skimage.measure.label, `connectivity` over the spatial
 *     axes, null = full) beyond the num_components largest are set to 0 in the channel(s)
 *     they came from; with at most num_components nothing changes.
 * Values and dtype are the input's otherwise. One-hot applied_labels index channels (a
 * negative one counts from the end, as Python). Ties in size: MONAI ranks with numpy's
 * unstable argsort, so which of two equal components survives is not defined there; mgc
 * keeps the one whose first voxel comes later in the input's memory order (a stable
 * sort's reverse). */
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"applied_labels", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "labels (one-hot: channels) to process; null: every label present but 0"},
	{"is_onehot", MG_ATTR_BOOL, "null", MG_ATTRF_NULLABLE, NULL,
	 "one-hot channels; null: when the image has more than one channel"},
	{"independent", MG_ATTR_BOOL, "true", 0, NULL,
	 "each label on its own (true) or the union of applied_labels (false)"},
	{"connectivity", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "neighbours: 1 faces .. spatial rank (full; null)"},
	{"num_components", MG_ATTR_INT, "1", 0, NULL, "how many of the largest components to keep"},
};
enum { A_LABELS, A_ONEHOT, A_INDEPENDENT, A_CONN, A_NUM };

static const char OP[] = "KeepLargestConnectedComponent";

/* Components ranked larger size first, then later first voxel (higher number) first. */
struct comp {
	int64_t size;
	int32_t label;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct comp *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return (x->label < y->label) - (x->label > y->label);
}

/* s->mask (a foreground) becomes the voxels to zero: those outside its num_components
 * largest components (none when it has no more). */
static int outside_largest(struct mg_components *s, int64_t keep)
{
	int32_t n;
	int64_t *sizes = NULL;
	int rc = mg_components_label(s->mask, s->sr, s->w.dims + 1, s->conn, s->lab, &n, s->e);
	if (rc || n <= keep) {
		memset(s->mask, 0, (size_t)s->S);
		return rc;
	}
	if ((rc = mg_components_sizes(s->lab, s->S, n, &sizes, s->e)))
		return rc;
	struct comp *order = malloc((size_t)n * sizeof *order);
	uint8_t *kept = calloc((size_t)n + 1, 1);
	if (!order || !kept) {
		free(order);
		free(kept);
		free(sizes);
		return mg_err_set(s->e, MG_ERR_NOMEM, "%s: out of memory", OP);
	}
	for (int32_t i = 0; i < n; i++)
		order[i] = (struct comp){sizes[i + 1], i + 1};
	qsort(order, (size_t)n, sizeof *order, by_size_desc);
	for (int64_t i = 0; i < keep; i++)
		kept[order[i].label] = 1;
	for (int64_t i = 0; i < s->S; i++)
		s->mask[i] = s->lab[i] && !kept[s->lab[i]];
	free(order);
	free(kept);
	free(sizes);
	return 0;
}

/* The labels to process: given, or MONAI's get_unique_labels(discard=0). One-hot labels
 * become channel indices in 0..C-1. *lv is malloc'd. */
static int applied_labels(const struct mg_attr *a, struct mg_components *s, int onehot, double **lv,
			  int64_t *n)
{
	if (!a[A_LABELS].is_none) {
		*n = a[A_LABELS].n;
		if (!(*lv = malloc((size_t)(*n ? *n : 1) * sizeof **lv)))
			return mg_err_set(s->e, MG_ERR_NOMEM, "%s: out of memory", OP);
		for (int64_t i = 0; i < *n; i++) {
			int64_t l = a[A_LABELS].v.ints[i];
			if (onehot && (l < -s->C || l >= s->C)) {
				free(*lv);
				return mg_err_set(s->e, MG_ERR_SHAPE,
						  "%s: applied_labels has %lld, but the one-hot image "
						  "has %lld channels",
						  OP, (long long)l, (long long)s->C);
			}
			(*lv)[i] = (double)(onehot && l < 0 ? l + s->C : l);
		}
		return 0;
	}
	if (onehot)
		return mg_components_present(OP, s, lv, n);
	if (s->C != 1)
		return mg_err_set(s->e, MG_ERR_SHAPE,
				  "%s: a label image (is_onehot false) must have 1 channel, got %lld "
				  "(set is_onehot or applied_labels)",
				  OP, (long long)s->C);
	return mg_components_unique(&s->w, 0, s->S, lv, n, s->e);
}

/* The arguments against sr spatial axes (0: unknown yet); *conn the connectivity. */
static int check(const struct mg_attr *a, int sr, int *conn, struct mg_err *e)
{
	if (a[A_NUM].v.i < 0)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'num_components' is %lld; it "
				  "must be >= 0", OP, (long long)a[A_NUM].v.i);
	return sr > 0 ? mg_components_connectivity(OP, &a[A_CONN], sr, 0, conn, e) : 0;
}

static int run(const struct mg_attr *a, struct mg_components *s)
{
	int onehot = a[A_ONEHOT].is_none ? s->C > 1 : (int)a[A_ONEHOT].v.i;
	double *lv = NULL;
	int64_t n = 0;
	int rc = applied_labels(a, s, onehot, &lv, &n);
	if (rc)
		return rc;
	if (a[A_INDEPENDENT].v.i) {
		for (int64_t j = 0; j < n && !rc; j++) {
			int64_t c = onehot ? (int64_t)lv[j] : 0;
			for (int64_t i = 0; i < s->S; i++)
				s->mask[i] = onehot ? mg_components_at(s, c, i) > 0
						    : mg_components_at(s, 0, i) == lv[j];
			if (!(rc = outside_largest(s, a[A_NUM].v.i)))
				for (int64_t i = 0; i < s->S; i++)
					if (s->mask[i])
						mg_components_put(s, c, i, 0);
		}
	} else {
		for (int64_t i = 0; i < s->S; i++) {
			int f = 0;
			for (int64_t j = 0; j < n && !f; j++)
				f = onehot ? mg_components_at(s, (int64_t)lv[j], i) == 1
					   : mg_components_at(s, 0, i) == lv[j];
			s->mask[i] = (uint8_t)f;
		}
		if (!(rc = outside_largest(s, a[A_NUM].v.i)))
			for (int64_t i = 0; i < s->S; i++)
				for (int64_t j = 0; j < (onehot ? n : 1) && s->mask[i]; j++)
					mg_components_put(s, onehot ? (int64_t)lv[j] : 0, i, 0);
	}
	free(lv);
	return rc;
}

static int keep_largest(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			struct mg_kctx *k)
{
	return mg_components_run(OP, check, run, a, in, out, k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_components_infer(OP, check, a, in, out, e);
}

const struct mg_opdef mg_op_keep_largest_connected_component = {
	.name = OP,
	.synopsis = "keep the largest connected component(s) of each label",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = keep_largest,
};
