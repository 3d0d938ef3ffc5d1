/* Op: RemoveSmallObjects
 * Synopsis: zero the objects smaller than min_size voxels (or min_size in world units).
 * MONAI: monai.transforms.RemoveSmallObjects(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (transforms/utils.py remove_small_objects) calls skimage's with min_size as its
 * second positional argument, which scikit-image 0.26 (the version the goldens were made
 * with) turns into its new inclusive max_size: objects of at most min_size voxels go
 * (older scikit-image kept objects of exactly min_size; MONAI's docstring says
 * "smaller than"). It hands skimage the whole (C, spatial...) array, so the channel axis
 * is one more axis to it:
 *   - an image with a single distinct value comes back unchanged;
 *   - by_measure: min_size becomes ceil(min_size / voxel volume), the volume the product
 *     of the image's spacing (the column norms of its affine's spatial block; a plain
 *     array without meta uses pixdim, one value or one per spatial axis, else 1); a
 *     volume of 0 counts as 1;
 *   - independent_channels false: objects are the components of x > 0 over all axes,
 *     channel included (`connectivity` up to rank + 1); the result is x where kept, 0
 *     elsewhere;
 *   - independent_channels true and max(x) <= 1: objects are the components of x != 0
 *     (as above), and the result is the kept mask, 1 or 0 in x's dtype;
 *   - independent_channels true and max(x) > 1: skimage takes the int32-truncated values
 *     as labels already made, so an object is every voxel of one value, wherever it is
 *     (connectivity plays no part); the result is the truncated value where kept, else 0.
 *     Negative values are refused there, as skimage does.
 * connectivity must be 1..rank + 1 (scipy clips other values silently). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"min_size", MG_ATTR_INT, "64", 0, NULL,
	 "objects of at most this many voxels (by_measure: this volume) are removed"},
	{"connectivity", MG_ATTR_INT, "1", 0, NULL,
	 "neighbours over the (channel, spatial...) array: 1 faces .. rank + 1 (full)"},
	{"independent_channels", MG_ATTR_BOOL, "true", 0, NULL,
	 "false: objects are the components of x > 0, and x is kept inside them"},
	{"by_measure", MG_ATTR_BOOL, "false", 0, NULL,
	 "min_size is a volume in the image's units (spacing from the affine)"},
	{"pixdim", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "spacing for by_measure when the image has no affine (one value or one per axis)"},
};
enum { A_MIN, A_CONN, A_INDEP, A_MEASURE, A_PIXDIM };

static const char OP[] = "RemoveSmallObjects";

/* Connectivity over the whole (channel, spatial...) array, as MONAI hands skimage it. */
static int check(const struct mg_attr *a, int sr, int *conn, struct mg_err *e)
{
	return sr > 0 ? mg_components_connectivity(OP, &a[A_CONN], sr + 1, 0, conn, e) : 0;
}

/* The voxel count up to which an object goes (MONAI's min_size after by_measure). */
static int threshold(const struct mg_attr *a, const struct mg_tensor *x, double *min_size,
		     struct mg_err *e)
{
	*min_size = (double)a[A_MIN].v.i;
	if (!a[A_MEASURE].v.i)
		return 0;
	int sr = x->rank - 1;
	double vol = 1;
	if (x->meta) {
		for (int c = 0; c < sr && c < 3; c++) {
			double n = 0;
			for (int r = 0; r < sr && r < 3; r++)
				n += x->meta->affine[r][c] * x->meta->affine[r][c];
			vol *= n == 0 ? 1 : sqrt(n); /* affine_to_spacing's suppress_zeros */
		}
	} else if (!a[A_PIXDIM].is_none) {
		int n = a[A_PIXDIM].n;
		if (n != 1 && n != sr)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: argument 'pixdim' has %d values; "
					  "give 1 or one per spatial axis (%d)", OP, n, sr);
		for (int i = 0; i < sr; i++)
			vol *= a[A_PIXDIM].v.floats[n == 1 ? 0 : i];
	}
	*min_size = ceil(*min_size / (vol == 0 ? 1 : vol));
	return 0;
}

static int cmp_i32(const void *p, const void *q)
{
	int32_t a = *(const int32_t *)p, b = *(const int32_t *)q;
	return (a > b) - (a < b);
}

/* Label values (max(x) > 1): out = trunc(x) (as int32), 0 for every voxel of a value
 * that has at most min_size voxels. */
static int by_value(const double *v, int64_t n, double min_size, double *out, struct mg_err *e)
{
	int32_t *u = malloc((size_t)n * sizeof *u);
	int64_t *count = malloc((size_t)n * sizeof *count);
	if (!u || !count) {
		free(u);
		free(count);
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", OP);
	}
	int rc = 0;
	for (int64_t i = 0; i < n && !rc; i++) {
		double t = v[i] != v[i] ? 0 : trunc(v[i]);
		if (t < 0)
			rc = mg_err_set(e, MG_ERR_SHAPE, "%s: value %g is negative; labels (images "
					"with values above 1) must be >= 0, as skimage requires",
					OP, v[i]);
		out[i] = t > INT32_MAX ? INT32_MAX : t;
		u[i] = (int32_t)out[i];
	}
	/* the distinct labels and their counts, by sorting: labels may be any int32 */
	int64_t m = 0;
	if (!rc) {
		qsort(u, (size_t)n, sizeof *u, cmp_i32);
		for (int64_t i = 0; i < n; i++) {
			if (m == 0 || u[i] != u[m - 1]) {
				u[m] = u[i];
				count[m++] = 0;
			}
			count[m - 1]++;
		}
	}
	for (int64_t i = 0; i < n && !rc; i++) {
		int32_t l = (int32_t)out[i];
		int64_t lo = 0, hi = m;
		while (lo < hi) {
			int64_t mid = (lo + hi) / 2;
			if (u[mid] < l)
				lo = mid + 1;
			else
				hi = mid;
		}
		if ((double)count[lo] <= min_size)
			out[i] = 0;
	}
	free(u);
	free(count);
	return rc;
}

/* Components of the whole array (channel axis included) of at most min_size voxels are
 * cleared in keep (the foreground mask on entry). */
static int by_component(uint8_t *keep, int rank, const int64_t *dims, int conn, double min_size,
			int64_t n, struct mg_err *e)
{
	int32_t *lab = malloc((size_t)n * sizeof *lab), count;
	int64_t *sizes = NULL;
	int rc = lab ? mg_components_label(keep, rank, dims, conn, lab, &count, e)
		     : mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", OP);
	if (!rc)
		rc = mg_components_sizes(lab, n, count, &sizes, e);
	for (int64_t i = 0; i < n && !rc; i++)
		keep[i] = lab[i] && (double)sizes[lab[i]] > min_size;
	free(lab);
	free(sizes);
	return rc;
}

/* x: the input (for its meta); w: its working copy (mg_components_copy); v: w's values,
 * replaced by the result. */
static int remove_small(const struct mg_attr *a, const struct mg_tensor *x,
			const struct mg_tensor *w, double *v, int64_t n, struct mg_err *e)
{
	int conn;
	double min_size;
	int rc = check(a, x->rank - 1, &conn, e);
	if (rc || (rc = threshold(a, x, &min_size, e)))
		return rc;
	int indep = (int)a[A_INDEP].v.i;
	double mx = -INFINITY;
	for (int64_t i = 0; i < n; i++)
		mx = v[i] > mx || v[i] != v[i] ? v[i] : mx;
	if (indep && !(mx <= 1))
		return by_value(v, n, min_size, v, e);
	uint8_t *keep = malloc((size_t)n);
	if (!keep)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", OP);
	for (int64_t i = 0; i < n; i++)
		keep[i] = indep ? v[i] != 0 : v[i] > 0;
	rc = by_component(keep, w->rank, w->dims, conn, min_size, n, e);
	for (int64_t i = 0; i < n && !rc; i++)
		v[i] = indep ? keep[i] : v[i] * keep[i];
	free(keep);
	return rc;
}

static int remove_small_objects(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				struct mg_kctx *k)
{
	int rc = mg_components_input(OP, &in[0], k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y, w;
	if ((rc = mg_components_copy(x, &y, &w, k->err)))
		return rc;
	int64_t n = mg_tensor_numel(&w);
	char *p = mg_tensor_data(&w);
	size_t es = mg_dtype_size(w.dtype);
	double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
	if (!v) {
		mg_tensor_release(&y);
		return mg_err_set(k->err, MG_ERR_NOMEM, "%s: out of memory", OP);
	}
	int single = 1; /* one distinct value: MONAI returns the image as it is */
	for (int64_t i = 0; i < n; i++) {
		v[i] = mg_dtype_load(w.dtype, p + i * (int64_t)es);
		single &= v[i] == v[0];
	}
	if (!single && !(rc = remove_small(a, x, &w, v, n, k->err)))
		for (int64_t i = 0; i < n; i++)
			mg_dtype_store(w.dtype, p + i * (int64_t)es, v[i]);
	free(v);
	return mg_val_set_result(&out[0], y, x->meta, rc);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_components_infer(OP, check, a, in, out, e);
}

const struct mg_opdef mg_op_remove_small_objects = {
	.name = OP,
	.synopsis = "remove objects smaller than min_size (skimage's remove_small_objects)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = remove_small_objects,
};
