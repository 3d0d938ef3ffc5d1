/* Op: FillHoles
 * Synopsis: fill the regions each label encloses (not connected to the image's border).
 * MONAI: monai.transforms.FillHoles(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (transforms/utils.py fill_holes) grows, for each label, the region of voxels
 * that are not that label from the image's border (scipy's binary_dilation with
 * border_value=1 and `connectivity`'s structure, null or 0 = full); what the growth does
 * not reach is enclosed. mgc labels the non-label voxels' components (same
 * connectivity) and calls enclosed those with no voxel on the border: the same set.
 *   - more than one channel is one-hot: label l is channel l, which becomes 1 on the
 *     label (x != 0) and its enclosed voxels and 0 elsewhere;
 *   - one channel holds labels: the enclosed voxels take the label, whatever they held
 *     (background, or another label's island: MONAI fills with `img != label`);
 *   - applied_labels null (or empty): the labels present (one-hot: channels with a
 *     positive sum), without 0; labels run in ascending order (Python's set order for
 *     small non-negative labels), each seeing the previous ones' result.
 * connectivity must be 0..spatial rank (scipy clips other values silently). */
#include <stdlib.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"applied_labels", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "labels (one-hot: channels) to fill; null or []: every label present but 0"},
	{"connectivity", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "neighbours: 1 faces .. spatial rank (full; null or 0)"},
};
enum { A_LABELS, A_CONN };

static const char OP[] = "FillHoles";

/* s->mask (the voxels that are not the label) becomes its enclosed part: the components
 * with no voxel on the image's border. */
static int enclosed(struct mg_components *s)
{
	int32_t n;
	int rc = mg_components_label(s->mask, s->sr, s->w.dims + 1, s->conn, s->lab, &n, s->e);
	if (rc)
		return rc;
	uint8_t *open = calloc((size_t)n + 1, 1);
	if (!open)
		return mg_err_set(s->e, MG_ERR_NOMEM, "%s: out of memory", OP);
	const int64_t *d = s->w.dims + 1;
	int64_t idx[MG_MAX_RANK] = {0}, row = d[s->sr - 1];
	for (int64_t r = 0; r < s->S / row; r++) {
		int edge = 0;
		for (int k = 0; k < s->sr - 1; k++)
			edge |= idx[k] == 0 || idx[k] == d[k] - 1;
		const int32_t *l = s->lab + r * row;
		if (edge)
			for (int64_t x = 0; x < row; x++)
				open[l[x]] = 1;
		open[l[0]] = open[l[row - 1]] = 1;
		for (int k = s->sr - 2; k >= 0; k--) {
			if (++idx[k] < d[k])
				break;
			idx[k] = 0;
		}
	}
	for (int64_t i = 0; i < s->S; i++)
		s->mask[i] = s->lab[i] && !open[s->lab[i]];
	free(open);
	return 0;
}

static int fill_label(struct mg_components *s, int onehot, double label)
{
	int64_t c = onehot ? (int64_t)label : 0;
	for (int64_t i = 0; i < s->S; i++)
		s->mask[i] = onehot ? mg_components_at(s, c, i) == 0
				    : mg_components_at(s, 0, i) != label;
	int rc = enclosed(s);
	for (int64_t i = 0; i < s->S && !rc; i++) {
		if (onehot)
			mg_components_put(s, c, i, mg_components_at(s, c, i) != 0 || s->mask[i]);
		else if (s->mask[i])
			mg_components_put(s, 0, i, label);
	}
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The labels, ascending, without repeats and without 0; *lv malloc'd. */
static int labels(const struct mg_attr *a, struct mg_components *s, int onehot, double **lv,
		  int64_t *n)
{
	if (a[A_LABELS].is_none || a[A_LABELS].n == 0)
		return onehot ? mg_components_present(OP, s, lv, n)
			      : mg_components_unique(&s->w, 0, s->S, lv, n, s->e);
	int64_t m = a[A_LABELS].n;
	if (!(*lv = malloc((size_t)m * sizeof **lv)))
		return mg_err_set(s->e, MG_ERR_NOMEM, "%s: out of memory", OP);
	for (int64_t i = 0; i < m; i++)
		(*lv)[i] = (double)a[A_LABELS].v.ints[i];
	qsort(*lv, (size_t)m, sizeof **lv, cmp_double);
	*n = 0;
	for (int64_t i = 0; i < m; i++) {
		double l = (*lv)[i];
		if (l == 0 || (*n > 0 && (*lv)[*n - 1] == l))
			continue;
		if (onehot && (l < -s->C || l >= s->C)) {
			free(*lv);
			*lv = NULL;
			return mg_err_set(s->e, MG_ERR_SHAPE, "%s: applied_labels has %lld, but the "
					  "one-hot image has %lld channels", OP, (long long)l,
					  (long long)s->C);
		}
		(*lv)[(*n)++] = l;
	}
	return 0;
}

static int run(const struct mg_attr *a, struct mg_components *s)
{
	int onehot = s->C > 1;
	double *lv = NULL;
	int64_t n = 0;
	int rc = labels(a, s, onehot, &lv, &n);
	for (int64_t j = 0; j < n && !rc; j++)
		rc = fill_label(s, onehot, onehot && lv[j] < 0 ? lv[j] + (double)s->C : lv[j]);
	free(lv);
	return rc;
}

/* null or 0: full connectivity (scipy's generate_binary_structure(rank, rank)) */
static int check(const struct mg_attr *a, int sr, int *conn, struct mg_err *e)
{
	return sr > 0 ? mg_components_connectivity(OP, &a[A_CONN], sr, 1, conn, e) : 0;
}

static int fill_holes(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	return mg_components_run(OP, check, run, a, in, out, k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_components_infer(OP, check, a, in, out, e);
}

const struct mg_opdef mg_op_fill_holes = {
	.name = OP,
	.synopsis = "fill the holes each label encloses",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = fill_holes,
};
