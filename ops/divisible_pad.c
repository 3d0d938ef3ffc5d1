/* Op: DivisiblePad
 * Synopsis: pad each spatial axis up to a multiple of k; dtype kept, values exact.
 * MONAI: monai.transforms.DivisiblePad(d)
 * Gradient: none yet (crop the gradient back).  Inverse: SpatialCrop of the original box.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py DivisiblePad, transforms/utils.py
 * compute_divisible_spatial_size): k is an int for every axis or one per axis; k <= 0
 * keeps the axis; the new size is ceil(d / k) * k, then padded as SpatialPad with
 * `method` (symmetric: the odd voxel at the end). The output affine is the input's times
 * a translation by -pad_before. Modes: see mg_pad_mode (spatial.c). Deviation: a
 * one-entry k list applies to every axis (MONAI refuses a list whose length is not the
 * spatial rank). */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"k", MG_ATTR_INTS, NULL, 0, NULL,
	 "the divisor for each spatial axis (an int applies to every axis); <= 0 keeps it"},
	{"mode", MG_ATTR_STR, "\"constant\"", 0, NULL,
	 "constant (0), edge / replicate, reflect, symmetric; as SpatialPad"},
	{"method", MG_ATTR_STR, "\"symmetric\"", 0, "symmetric|end",
	 "symmetric: split the padding between both sides (odd voxel at the end); end: all "
	 "at the end"},
	{"value", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "torch.pad's fill value: only 0 (or null) is supported, and only with mode=constant"},
	{"constant_values", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "np.pad's fill value: only 0 (or null) is supported, and only with mode=constant"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_K, A_MODE, A_METHOD, A_VALUE, A_CVALUES, A_LAZY };

/* mg_pad_mode reads mode, value, constant_values from consecutive attributes. */
static void pad_attrs(const struct mg_attr *a, struct mg_attr pa[3])
{
	pa[0] = a[A_MODE];
	pa[1] = a[A_VALUE];
	pa[2] = a[A_CVALUES];
}

static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	struct mg_attr pa[3];
	pad_attrs(a, pa);
	return mg_pad_check("DivisiblePad", "k", &a[A_K], pa, sdim, e);
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int rc = check(a, g->sdim, e);
	if (rc)
		return rc;
	struct mg_attr pa[3];
	pad_attrs(a, pa);
	return mg_grid_pad_to("DivisiblePad", pa, g, &a[A_K], 1, a[A_METHOD].v.s[0] == 'e', e);
}

extern const struct mg_opdef mg_op_divisible_pad;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_divisible_pad, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_croppad_infer("DivisiblePad", check, a, in, out, e);
}

const struct mg_opdef mg_op_divisible_pad = {
	.name = "DivisiblePad",
	.synopsis = "pad each spatial axis up to a multiple of k; dtype kept, values exact",
	.flags = MG_OPF_SPATIAL | MG_OPF_PADS,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
