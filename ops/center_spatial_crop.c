/* Op: CenterSpatialCrop
 * Synopsis: crop the centre of the image to roi_size (never pads); a view, no data moves.
 * MONAI: monai.transforms.CenterSpatialCrop(d)
 * Gradient: none yet (zero-pad the gradient back).  Inverse: BorderPad by what was cropped.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py CenterSpatialCrop, Crop.compute_slices):
 * roi_size goes through fall_back_tuple (an int applies to every axis; entries <= 0 keep
 * the image's size); centre = d // 2, start = max(centre - roi // 2, 0), end = start +
 * roi clipped to the image, so a ROI larger than the image leaves that axis whole. The
 * output affine is the input's times a translation by start. A view, dtype kept.
 * Deviation: a one-entry list applies to every axis (MONAI refuses a list whose length
 * is not the spatial rank; mgc's attributes do not tell [3] from 3). */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"roi_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "spatial size of the crop (an int applies to every axis); <= 0 keeps that axis"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_ROI, A_LAZY };

static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	if (sdim > 0 && a[A_ROI].n != 1 && a[A_ROI].n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "CenterSpatialCrop: roi_size has %d entries "
				  "for a %dD image (expected 1 or %d)", a[A_ROI].n, sdim, sdim);
	return 0;
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int rc = check(a, g->sdim, e);
	if (rc)
		return rc;
	int64_t start[3] = {0}, end[3] = {0};
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->in_shape[i], r = a[A_ROI].v.ints[a[A_ROI].n == 1 ? 0 : i];
		if (r <= 0)
			r = d;
		start[i] = d / 2 - r / 2 > 0 ? d / 2 - r / 2 : 0;
		end[i] = start[i] + r;
	}
	mg_grid_crop(g, start, end);
	return 0;
}

extern const struct mg_opdef mg_op_center_spatial_crop;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_center_spatial_crop, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_croppad_infer("CenterSpatialCrop", check, a, in, out, e);
}

const struct mg_opdef mg_op_center_spatial_crop = {
	.name = "CenterSpatialCrop",
	.synopsis = "crop the centre of the image to roi_size (never pads); a view, no data "
		    "moves",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
