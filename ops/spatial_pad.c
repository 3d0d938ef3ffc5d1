/* Op: SpatialPad
 * Synopsis: pad the image up to spatial_size (never crops); dtype kept, values exact.
 * MONAI: monai.transforms.SpatialPad(d)
 * Gradient: none yet (crop the gradient back).  Inverse: SpatialCrop of the original box.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py SpatialPad.compute_pad_width, functional.py
 * pad_func, pad_nd): spatial_size goes through fall_back_tuple (an int applies to every
 * axis; entries <= 0 keep the image's size); w = max(size - d, 0); method "symmetric"
 * pads (w // 2, w - w // 2), the odd voxel at the end; "end" pads (0, w). The output
 * affine is the input's times a translation by -pad_before (create_translate). Modes:
 * see mg_pad_mode (spatial.c); the values are copied by index in the input's dtype, as
 * torch.pad / np.pad keep it. Deviation: a one-entry spatial_size list applies to every
 * axis (MONAI refuses a list whose length is not the spatial rank). */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "spatial size after padding (an int applies to every axis); <= 0 keeps that axis"},
	{"method", MG_ATTR_STR, "\"symmetric\"", 0, "symmetric|end",
	 "symmetric: split the padding between both sides (odd voxel at the end); end: all "
	 "at the end"},
	MG_PAD_ATTRS,
};
enum { A_SIZE, A_METHOD, A_PAD };

static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	return mg_pad_check("SpatialPad", "spatial_size", &a[A_SIZE], &a[A_PAD], sdim, e);
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int rc = check(a, g->sdim, e);
	if (rc)
		return rc;
	return mg_grid_pad_to("SpatialPad", &a[A_PAD], g, &a[A_SIZE], 0,
			      a[A_METHOD].v.s[0] == 'e', e);
}

extern const struct mg_opdef mg_op_spatial_pad;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_spatial_pad, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_croppad_infer("SpatialPad", check, a, in, out, e);
}

const struct mg_opdef mg_op_spatial_pad = {
	.name = "SpatialPad",
	.synopsis = "pad the image up to spatial_size (never crops); dtype kept, values exact",
	.flags = MG_OPF_SPATIAL | MG_OPF_PADS,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
