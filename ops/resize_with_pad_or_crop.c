/* Op: ResizeWithPadOrCrop
 * Synopsis: crop about the centre or pad each axis to spatial_size; dtype kept, values exact.
 * MONAI: monai.transforms.ResizeWithPadOrCrop(d)
 * Gradient: none yet (pad or crop the gradient back).  Inverse: ResizeWithPadOrCrop back
 * to the original shape.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py ResizeWithPadOrCrop): CenterSpatialCrop
 * (roi_size=spatial_size) then SpatialPad(spatial_size, method, mode); an int applies to
 * every axis, entries <= 0 keep the axis. Each axis is either cropped (start d // 2 -
 * s // 2) or padded ((w // 2, w - w // 2), or all at the end with method "end"), so the
 * two steps are one index-only grid (mg_grid_pad_or_crop): a view when nothing is padded,
 * else an exact copy in the input's dtype. The affine follows both translations. A pad
 * (MG_OPF_PADS): never fused. Modes and fill values: mg_pad_mode. Deviation: a one-entry
 * spatial_size list applies to every axis (MONAI refuses a list of the wrong length). */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "spatial size after cropping or padding (an int applies to every axis); <= 0 keeps "
	 "that axis"},
	{"method", MG_ATTR_STR, "\"symmetric\"", 0, "symmetric|end",
	 "symmetric: split the padding between both sides (odd voxel at the end); end: all "
	 "at the end"},
	MG_PAD_ATTRS,
};
enum { A_SIZE, A_METHOD, A_PAD };

static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	return mg_pad_check("ResizeWithPadOrCrop", "spatial_size", &a[A_SIZE], &a[A_PAD], sdim,
			    e);
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int rc = check(a, g->sdim, e);
	if (rc)
		return rc;
	int64_t size[3] = {0, 0, 0};
	for (int i = 0; i < g->sdim; i++)
		size[i] = a[A_SIZE].v.ints[a[A_SIZE].n == 1 ? 0 : i];
	return mg_grid_pad_or_crop("ResizeWithPadOrCrop", &a[A_PAD], g, size,
				   a[A_METHOD].v.s[0] == 'e', e);
}

extern const struct mg_opdef mg_op_resize_with_pad_or_crop;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_resize_with_pad_or_crop, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_croppad_infer("ResizeWithPadOrCrop", check, a, in, out, e);
}

const struct mg_opdef mg_op_resize_with_pad_or_crop = {
	.name = "ResizeWithPadOrCrop",
	.synopsis = "crop about the centre or pad each axis to spatial_size; dtype kept, values "
		    "exact",
	.flags = MG_OPF_SPATIAL | MG_OPF_PADS,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
