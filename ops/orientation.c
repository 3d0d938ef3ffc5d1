/* Op: Orientation
 * Synopsis: permute and flip the spatial axes so they point along axcodes ("RAS"); a view.
 * MONAI: monai.transforms.Orientation(d)
 * Gradient: none yet (a permutation's adjoint is its inverse).  Inverse: Invertd (the
 * inverse permutation, from the applied-operations entry).
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Orientation, functional.py orientation) with
 * nibabel's orientations.py, on the first sdim = 2 or 3 spatial axes:
 *   src  = io_orientation(to_affine_nd(sdim, affine))   (runtime/orientation.c)
 *   dst  = axcodes2ornt(axcodes[:sdim])
 *   ornt = ornt_transform(src, dst): input axis i becomes output axis ornt[i][0], reversed
 *          when ornt[i][1] = -1; as_closest_canonical takes ornt = src, which is
 *          ornt_transform(src, "RAS"[:sdim]) (RAS+ up to the affine's obliqueness)
 *   data: flip, then permute by argsort(ornt[:, 0]); channel axis stays first
 *   affine: affine @ to_affine_nd(3, inv_ornt_aff(ornt, in_shape)); inv_ornt_aff is the
 *          exact integer map output voxel -> input voxel (d - 1 shift on reversed axes)
 * The grid is index-only: mg_spatial_apply returns a strided view, dtype kept.
 * axcodes are read as MONAI reads them: a 2D image uses the first two letters ("RAS" on
 * a 2D image is "RA"; MONAI warns). Deviations, all on inputs where MONAI's answer is
 * not an orientation: more than 3 letters are refused (MONAI ignores the rest); the same
 * world axis named twice ("RRS") is refused (nibabel's ornt_transform then leaves a row of
 * np.empty garbage). labels: MONAI's default is None, meaning (("L","R"), ("P","A"),
 * ("I","S")) unless meta["space"] is LPS; mgc's images are always RAS+ (readers convert),
 * so only null or that default, flattened to 6 letters, is accepted. Errors as MONAI:
 * axcodes null without as_closest_canonical, fewer letters than spatial axes, a letter
 * outside L/R/P/A/I/S (case matters), I/S on a 2D image, and a degenerate affine (a
 * voxel axis with no direction: nibabel cannot reorient it either). */
#include <string.h>

#include "../runtime/orientation.h"
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"axcodes", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE, NULL,
	 "target orientation, one letter per spatial axis from L/R, P/A, I/S (\"RAS\": "
	 "+x right, +y anterior, +z superior)"},
	{"as_closest_canonical", MG_ATTR_BOOL, "false", 0, NULL,
	 "reorient to the closest canonical (RAS+) orientation; axcodes is then ignored"},
	{"labels", MG_ATTR_STRS, "null", MG_ATTRF_NULLABLE, NULL,
	 "axis labels; only null or the default (L, R), (P, A), (I, S) are supported"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_AXCODES, A_CANON, A_LABELS, A_LAZY };

/* Everything that can be checked without the image. */
static int check_args(const struct mg_attr *a, struct mg_err *e)
{
	if (!a[A_CANON].v.i && a[A_AXCODES].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "Orientation needs 'axcodes' (e.g. \"RAS\") "
				  "or as_closest_canonical=true");
	if (!a[A_LABELS].is_none) {
		static const char *const dflt[6] = {"L", "R", "P", "A", "I", "S"};
		int ok = a[A_LABELS].n == 6;
		for (int i = 0; ok && i < 6; i++)
			ok = strcmp(a[A_LABELS].v.strs[i], dflt[i]) == 0;
		if (!ok)
			return mg_err_set(e, MG_ERR_UNSUPPORTED,
					  "Orientation: only the default labels ((\"L\", \"R\"), "
					  "(\"P\", \"A\"), (\"I\", \"S\")) are supported (mgc's "
					  "images are always RAS+); use null");
	}
	if (a[A_CANON].v.i)
		return 0;
	const char *s = a[A_AXCODES].v.s;
	size_t n = strlen(s);
	if (n == 0 || n > 3)
		return mg_err_set(e, MG_ERR_CONFIG, "Orientation: axcodes \"%s\" has %zu letters; "
				  "expected one per spatial axis (2 or 3, e.g. \"RAS\")", s, n);
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("LRPAIS", s[i]))
			return mg_err_set(e, MG_ERR_CONFIG, "Orientation: axcodes \"%s\": '%c' is "
					  "not one of L, R, P, A, I, S", s, s[i]);
	return 0;
}

/* dst: the world axis (0 = L/R, 1 = P/A, 2 = I/S) and direction of each of the sdim
 * output axes, from axcodes; an error when they are too few or repeat a world axis. */
static int target(const struct mg_attr *a, int sdim, int dst[3][2], struct mg_err *e)
{
	const char *s = a[A_CANON].v.i ? "RAS" : a[A_AXCODES].v.s;
	if ((int)strlen(s) < sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "Orientation: axcodes \"%s\" has fewer "
				  "letters than the image's %d spatial axes", s, sdim);
	for (int j = 0; j < sdim; j++) {
		int p = (int)(strchr("LRPAIS", s[j]) - "LRPAIS");
		dst[j][0] = p / 2;
		dst[j][1] = p % 2 ? 1 : -1;
		for (int i = 0; i < j; i++)
			if (dst[i][0] == dst[j][0])
				return mg_err_set(e, MG_ERR_CONFIG, "Orientation: axcodes "
						  "\"%s\" name the %s axis twice", s,
						  (const char *[]){"L/R", "P/A", "I/S"}[p / 2]);
		if (dst[j][0] >= sdim)
			return mg_err_set(e, MG_ERR_CONFIG, "Orientation: axcodes \"%.*s\" name "
					  "the I/S axis, which a 2D image does not have", sdim, s);
	}
	return 0;
}

static int orientation_grid(const struct mg_attr *a, const struct mg_tensor *in,
			    struct mg_grid *g, struct mg_err *e)
{
	int n = g->sdim, src[3][2], dst[3][2], rc;
	if ((rc = check_args(a, e)) || (rc = target(a, n, dst, e)))
		return rc;
	if (mg_io_orientation(g->affine, n, src))
		return mg_err_set(e, MG_ERR_SHAPE, "Orientation: %dD images are not supported", n);
	for (int i = 0; i < n; i++)
		if (src[i][0] < 0)
			return mg_err_set(e, MG_ERR_FORMAT, "Orientation: the image's "
					  "affine gives voxel axis %d no direction (degenerate "
					  "affine); it cannot be reoriented", i);
	/* ornt_transform(src, dst), read from the output side: output axis j is the input
	 * axis that follows the same world axis, reversed when their directions differ.
	 * src is a permutation of 0..n-1 and dst names n distinct axes below n, so every
	 * output axis finds exactly one input axis. */
	double m[4][4] = {{0}};
	m[3][3] = 1;
	if (n == 2)
		m[2][2] = 1;
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++)
			if (src[i][0] == dst[j][0]) {
				int rev = src[i][1] != dst[j][1];
				m[i][j] = rev ? -1 : 1;
				m[i][3] = rev ? (double)(g->in_shape[i] - 1) : 0;
				g->out_shape[j] = g->in_shape[i];
			}
	mg_grid_map(g, m);
	return 0;
}

extern const struct mg_opdef mg_op_orientation;

static int orientation(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_orientation, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int dst[3][2], rc = mg_op_infer_spatial(&in[0], "Orientation", e);
	if (rc || (rc = check_args(a, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (in[0].rank < 0)
		return 0;
	if ((rc = target(a, in[0].rank - 1, dst, e)))
		return rc;
	/* which axis lands where depends on the image's affine, known only at run time */
	for (int i = 1; i < in[0].rank; i++)
		out[0].dims[i] = -1;
	return 0;
}

const struct mg_opdef mg_op_orientation = {
	.name = "Orientation",
	.synopsis = "permute and flip the spatial axes so they point along axcodes (\"RAS\"); "
		    "a view",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = orientation,
	.grid = orientation_grid,
};
