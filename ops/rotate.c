/* Op: Rotate
 * Synopsis: rotate about the image centre by angles in radians; resamples.
 * MONAI: monai.transforms.Rotate(d)
 * Gradient: none.  Inverse: Rotate by the inverse matrix back to the input's size (later).
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Rotate, functional.py rotate), for r = 2 or 3
 * spatial axes of sizes din, in float64 (numpy):
 *   1. R = create_rotate(r, angle, rotate_order): 2D takes one angle; 3D one per axis, a
 *      single number standing for all three (ensure_tuple_rep).
 *   2. Output size: din (keep_size), else the rotated box of the corners (0 or din per
 *      axis): int(ptp(R corners) + 0.5) per axis.
 *   3. T = translate((din - 1)/2) R translate(-(dout - 1)/2): the voxel map output ->
 *      input; MONAI resamples with AffineTransform (normalising with the user's
 *      align_corners on both sides, like SpatialResample), so out_to_in is T itself and
 *      the output affine is the input's times T.
 * Output float32 (MONAI's dtype float32, its default, also computes the map and the
 * interpolation in float32; mgc in float64). An index-only T (a quarter turn that keeps
 * the voxel centres) is an exact copy converted to float32.
 * Refused as MONAI refuses them: a 2D angle list of more than one, a 3D one of 2 or more
 * than 3, rotate_order errors. Refused though MONAI takes them: dtypes other than float32
 * and float64 (MONAI's None computes in the input's dtype). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"angle", MG_ATTR_FLOATS, NULL, 0, NULL,
	 "radians: one angle for 2D; 3 for 3D (one per rotate_order letter), or one for all"},
	{"keep_size", MG_ATTR_BOOL, "true", 0, NULL,
	 "keep the input's shape; false: grow it to hold the rotated corners"},
	{"mode", MG_ATTR_STR, "\"bilinear\"", MG_ATTRF_PERKEY, "nearest|bilinear|bicubic",
	 "interpolation"},
	{"padding_mode", MG_ATTR_STR, "\"border\"", MG_ATTRF_PERKEY, "zeros|border|reflection",
	 "values outside the input"},
	{"align_corners", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL,
	 "torch grid_sample's align_corners (reflection bounds, size-1 axes)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_PERKEY, NULL,
	 "MONAI's compute dtype (float32 or float64); mgc computes in float64, the output is "
	 "float32"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
	{"rotate_order", MG_ATTR_STR, "\"XYZ\"", 0, NULL,
	 "3D: the axes the angles turn about, scipy's Euler convention (upper case intrinsic, "
	 "lower case extrinsic)"},
};
enum { A_ANGLE, A_KEEP, A_MODE, A_PAD, A_ALIGN, A_DTYPE, A_LAZY, A_ORDER };

/* R for an sdim-D image (steps 1 and the argument checks). */
static int rotation(const struct mg_attr *a, int sdim, double r[4][4], struct mg_err *e)
{
	if (a[A_DTYPE].v.i != MG_DTYPE_F32 && a[A_DTYPE].v.i != MG_DTYPE_F64)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "Rotate: dtype %s is not supported "
				  "(float32 or float64)", mg_dtype_name((int)a[A_DTYPE].v.i));
	const struct mg_attr *an = &a[A_ANGLE];
	int want = sdim == 2 ? 1 : 3;
	if (an->n != 1 && an->n != want)
		return mg_err_set(e, MG_ERR_CONFIG, "Rotate: angle has %d values for a %dD image "
				  "(expected %s)", an->n, sdim, sdim == 2 ? "one" : "1 or 3");
	double ang[3];
	for (int i = 0; i < want; i++)
		ang[i] = an->v.floats[an->n == 1 ? 0 : i];
	return mg_create_rotate("Rotate", sdim, ang, want, a[A_ORDER].v.s, 0, r, e);
}

static int rotate_grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		       struct mg_err *e)
{
	(void)in;
	int sd = g->sdim;
	double r[4][4];
	int rc = rotation(a, sd, r, e);
	if (rc)
		return rc;
	g->mode = (enum mg_interp)mg_interp_parse(a[A_MODE].v.s);
	g->padding = (enum mg_pad)mg_pad_parse(a[A_PAD].v.s);
	g->align_corners = (int)a[A_ALIGN].v.i;
	if (!a[A_KEEP].v.i) {
		/* np.ptp over the corners in meshgrid order, then int(. + 0.5) */
		for (int i = 0; i < sd; i++) {
			double lo = 0, hi = 0;
			for (int c = 0; c < (1 << sd); c++) {
				double v = 0;
				for (int j = 0; j < sd; j++)
					v += r[i][j] * ((c >> (sd - 1 - j)) & 1 ? (double)g->in_shape[j]
										 : 0.0);
				lo = c == 0 || v < lo ? v : lo;
				hi = c == 0 || v > hi ? v : hi;
			}
			g->out_shape[i] = (int64_t)(hi - lo + 0.5);
		}
	}
	/* T = translate((din-1)/2) R translate(-(dout-1)/2), as a 4x4 (translation last) */
	double t[4][4] = {{0}};
	for (int i = 0; i < 4; i++)
		t[i][i] = 1;
	for (int i = 0; i < sd; i++) {
		double s = ((double)g->in_shape[i] - 1) / 2;
		for (int j = 0; j < sd; j++) {
			t[i][j] = r[i][j];
			s -= r[i][j] * ((double)g->out_shape[j] - 1) / 2;
		}
		t[i][3] = s;
	}
	mg_grid_map(g, t);
	return 0;
}

extern const struct mg_opdef mg_op_rotate;

static int rotate_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	return mg_spatial_apply_f32(&mg_op_rotate, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	double r[4][4];
	int rc = mg_op_infer_spatial(&in[0], "Rotate", e);
	if (rc)
		return rc;
	/* without the rank, check what holds for both (one angle fits either) */
	if ((rc = rotation(a, in[0].rank < 0 ? (a[A_ANGLE].n == 1 ? 2 : 3) : in[0].rank - 1, r,
			   e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	for (int i = 1; i < out[0].rank && !a[A_KEEP].v.i; i++)
		out[0].dims[i] = -1;
	return 0;
}

const struct mg_opdef mg_op_rotate = {
	.name = "Rotate",
	.synopsis = "rotate about the image centre by angles in radians; resamples",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = rotate_ref,
	.grid = rotate_grid,
};
