/* Op: BorderPad
 * Synopsis: pad every spatial side by a given number of voxels; dtype kept, values exact.
 * MONAI: monai.transforms.BorderPad(d)
 * Gradient: none yet (crop the gradient back).  Inverse: SpatialCrop of the original box.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py BorderPad.compute_pad_width): spatial_border
 * is one int (every side of every axis), one per axis (both sides), or two per axis
 * (x_before, x_after, y_before, ...); negative entries count as 0; any other length is
 * an error. The output affine is the input's times a translation by -pad_before. Modes:
 * see mg_pad_mode (spatial.c); values copied by index in the input's dtype. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_border", MG_ATTR_INTS, NULL, 0, NULL,
	 "voxels to add: one int for every side, one per axis, or two per axis (before, "
	 "after); negative counts as 0"},
	MG_PAD_ATTRS,
};
enum { A_BORDER, A_PAD };

static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	enum mg_pad pad;
	int ac, n = a[A_BORDER].n;
	if (sdim > 0 && n != 1 && n != sdim && n != 2 * sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "BorderPad: unsupported spatial_border "
				  "length: %d, available options are [1, len(spatial_shape)=%d, "
				  "2*len(spatial_shape)=%d]", n, sdim, 2 * sdim);
	return mg_pad_mode("BorderPad", &a[A_PAD], &pad, &ac, e);
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int rc = check(a, g->sdim, e);
	if (rc)
		return rc;
	int64_t before[3] = {0}, after[3] = {0};
	const int64_t *b = a[A_BORDER].v.ints;
	int n = a[A_BORDER].n;
	for (int i = 0; i < g->sdim; i++) {
		before[i] = n == 1 ? b[0] : n == g->sdim ? b[i] : b[2 * i];
		after[i] = n == 1 ? b[0] : n == g->sdim ? b[i] : b[2 * i + 1];
		before[i] = before[i] > 0 ? before[i] : 0;
		after[i] = after[i] > 0 ? after[i] : 0;
	}
	return mg_grid_pad("BorderPad", &a[A_PAD], g, before, after, e);
}

extern const struct mg_opdef mg_op_border_pad;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_border_pad, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_croppad_infer("BorderPad", check, a, in, out, e);
}

const struct mg_opdef mg_op_border_pad = {
	.name = "BorderPad",
	.synopsis = "pad every spatial side by a given number of voxels; dtype kept, values "
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
