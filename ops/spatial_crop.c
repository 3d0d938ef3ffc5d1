/* Op: SpatialCrop
 * Synopsis: crop a box given by its centre and size or its start and end; a view, no data moves.
 * MONAI: monai.transforms.SpatialCrop(d)
 * Gradient: none yet (zero-pad the gradient back).  Inverse: BorderPad by what was cropped.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py Crop.compute_slices, functional.py crop_func):
 * with roi_center and roi_size, start = max(c - s // 2, 0) (floor division) and end =
 * start + s; otherwise roi_start and roi_end, start = max(start, 0). Each list may have
 * one entry or as many as the other (the shorter broadcasts); end = max(end, start). The
 * slices cover the first n spatial axes (more are ignored, fewer leave the rest whole);
 * an end past the image stops at the image, so the crop never pads. The output affine is
 * the input's times a translation by the (unclipped) start, as crop_func's
 * create_translate. The grid is index-only and inside the image: a view, dtype kept.
 * roi_slices (Python slice objects) cannot come from JSON: refused when given. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"roi_center", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "voxel coordinates of the ROI's centre (with roi_size)"},
	{"roi_size", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "size of the ROI (with roi_center); larger than the image: that axis is not cropped"},
	{"roi_start", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "voxel coordinates of the ROI's start (with roi_end)"},
	{"roi_end", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "voxel coordinates of the ROI's end, exclusive; past the image: the image's end"},
	{"roi_slices", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "not supported (Python slices); use roi_start and roi_end"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_CENTER, A_SIZE, A_START, A_END, A_SLICES, A_LAZY };

static int64_t floordiv2(int64_t s) { return s >= 0 ? s / 2 : -((-s + 1) / 2); }

/* The slices start:end on sdim axes (whole axes where MONAI gives none). */
static int slices(const struct mg_attr *a, int sdim, const int64_t *shape, int64_t start[3],
		  int64_t end[3], struct mg_err *e)
{
	if (!a[A_SLICES].is_none && a[A_SLICES].n > 0)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "SpatialCrop: roi_slices is not "
				  "supported (Python slice objects); use roi_start and roi_end");
	int center = !a[A_CENTER].is_none && !a[A_SIZE].is_none;
	const struct mg_attr *p = center ? &a[A_CENTER] : &a[A_START];
	const struct mg_attr *q = center ? &a[A_SIZE] : &a[A_END];
	if (!center && (p->is_none || q->is_none))
		return mg_err_set(e, MG_ERR_CONFIG, "SpatialCrop: please specify either "
				  "roi_center, roi_size or roi_start, roi_end");
	int n = p->n > q->n ? p->n : q->n;
	if ((p->n != 1 && p->n != n) || (q->n != 1 && q->n != n))
		return mg_err_set(e, MG_ERR_CONFIG, "SpatialCrop: ROI specs must have matching "
				  "lengths or be scalar, got %d and %d", p->n, q->n);
	for (int i = 0; i < sdim; i++) {
		start[i] = 0;
		end[i] = shape ? shape[i] : 0;
		if (i >= n)
			continue;
		int64_t u = p->v.ints[p->n == 1 ? 0 : i], v = q->v.ints[q->n == 1 ? 0 : i];
		if (center) {
			start[i] = u - floordiv2(v) > 0 ? u - floordiv2(v) : 0;
			end[i] = start[i] + v;
		} else {
			start[i] = u > 0 ? u : 0;
			end[i] = v;
		}
		if (end[i] < start[i])
			end[i] = start[i];
	}
	return 0;
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	int64_t start[3], end[3];
	int rc = slices(a, g->sdim, g->in_shape, start, end, e);
	if (rc)
		return rc;
	mg_grid_crop(g, start, end);
	return 0;
}

extern const struct mg_opdef mg_op_spatial_crop;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_spatial_crop, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int64_t start[3], end[3];
	int rc = slices(a, 3, NULL, start, end, e);
	return rc ? rc : mg_croppad_infer("SpatialCrop", NULL, a, in, out, e);
}

const struct mg_opdef mg_op_spatial_crop = {
	.name = "SpatialCrop",
	.synopsis = "crop a box given by its centre and size or its start and end; a view, no "
		    "data moves",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
