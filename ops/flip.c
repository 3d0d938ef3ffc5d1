/* Op: Flip
 * Synopsis: reverse the image along some spatial axes (torch.flip); a view, no data moves.
 * MONAI: monai.transforms.Flip(d)
 * Gradient: none yet (a flip is its own adjoint).  Inverse: Flip with the same spatial_axis.
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Flip, functional.py flip): spatial_axis null
 * flips every spatial axis, an int or a list flips those; a negative axis counts from the
 * end (map_spatial_axes). The output affine is the input's times the voxel map
 * diag(-1 on flipped axes) with translation d - 1 there (MetaTensor: affine @ xform).
 * The grid is index-only, so mg_spatial_apply returns a view with negative strides: the
 * dtype is kept and nothing is copied (torch.flip copies; the values are the same).
 * Refused where MONAI's result is not a flip of the spatial axes: an axis below -sdim
 * (MONAI wraps it onto the channel axis) or >= sdim (an IndexError there), and an axis
 * named twice (torch.flip refuses it). An empty list flips nothing, as in MONAI. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_axis", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "spatial axes to flip (0 = x; negative counts from the end); null: all of them"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_AXIS, A_LAZY };

/* Which of the sdim axes are flipped; an error names the offending entry. */
static int flipped_axes(const struct mg_attr *a, int sdim, int flip[3], struct mg_err *e)
{
	for (int i = 0; i < 3; i++)
		flip[i] = a[A_AXIS].is_none && i < sdim;
	for (int i = 0; !a[A_AXIS].is_none && i < a[A_AXIS].n; i++) {
		int64_t ax = a[A_AXIS].v.ints[i];
		if (ax < -sdim || ax >= sdim)
			return mg_err_set(e, MG_ERR_CONFIG, "Flip: spatial_axis %lld is out of "
					  "range for a %dD image (expected %d..%d)", (long long)ax,
					  sdim, -sdim, sdim - 1);
		int k = (int)(ax < 0 ? ax + sdim : ax);
		if (flip[k])
			return mg_err_set(e, MG_ERR_CONFIG, "Flip: spatial_axis names axis %d "
					  "twice (torch.flip refuses repeated axes)", k);
		flip[k] = 1;
	}
	return 0;
}

static int flip_grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		     struct mg_err *e)
{
	int n = g->sdim, flip[3], rc;
	if ((rc = flipped_axes(a, n, flip, e)))
		return rc;
	/* output voxel o reads input voxel (d - 1 - o) on flipped axes, o elsewhere */
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	for (int i = 0; i < n; i++)
		if (flip[i]) {
			m[i][i] = -1;
			m[i][3] = (double)(g->in_shape[i] - 1);
		}
	mg_grid_map(g, m);
	return 0;
}

extern const struct mg_opdef mg_op_flip;

static int flip_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_flip, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int flip[3], rc = mg_op_infer_spatial(&in[0], "Flip", e);
	if (rc)
		return rc;
	if (in[0].rank >= 0 && (rc = flipped_axes(a, in[0].rank - 1, flip, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return 0;
}

const struct mg_opdef mg_op_flip = {
	.name = "Flip",
	.synopsis = "reverse the image along some spatial axes (torch.flip); a view, no data "
		    "moves",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = flip_ref,
	.grid = flip_grid,
};
