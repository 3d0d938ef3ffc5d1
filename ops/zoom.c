/* Op: Zoom
 * Synopsis: zoom by a factor per axis (torch interpolate), then pad or crop back (keep_size).
 * MONAI: monai.transforms.Zoom(d)
 * Gradient: none.  Inverse: pad or crop back, then Resize to the original shape (later).
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Zoom, functional.py zoom): zoom is one number
 * or one per spatial axis; the zoomed shape is floor(d * zoom) (interpolate with
 * recompute_scale_factor=True, so torch then samples by the shapes alone, as Resize);
 * the affine is the input's times scale_affine(in, zoomed, align_corners) (mg_grid_scale),
 * and the values are interpolate's in the given mode (see Resize). keep_size then runs
 * ResizeWithPadOrCrop(spatial_size=input shape, mode=padding_mode) on the zoomed image:
 * an axis that grew is cropped about its centre, one that shrank (zoom < 1) is padded
 * symmetrically, filled from the zoomed image's edges (mg_grid_pad_or_crop; the affine
 * follows the crop and pad translations). That pad is the op's second step (`then`):
 * a Zoom that pads, or samples by torch's area and nearest rules, is a fusion barrier;
 * a linear or bicubic Zoom that only crops composes. Output float32 (the identity zoom
 * returns the input as float32). One applied-operations entry, as MONAI's (it folds the
 * pad/crop entry into the Zoom's). Deviations: mgc computes in float64; np.pad's extra
 * keyword arguments are not accepted (padding_mode's modes: mg_pad_mode); a one-entry
 * zoom list applies to every axis (MONAI refuses a list of the wrong length). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"zoom", MG_ATTR_FLOATS, NULL, 0, NULL,
	 "zoom factor per spatial axis (one number: every axis); > 1 magnifies"},
	{"mode", MG_ATTR_STR, "\"area\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE,
	 "area|nearest|nearest-exact|linear|bilinear|trilinear|bicubic",
	 "torch.nn.functional.interpolate's mode; bicubic is 2D only"},
	{"padding_mode", MG_ATTR_STR, "\"edge\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "keep_size's pad: constant (0), edge / replicate, reflect, symmetric"},
	{"align_corners", MG_ATTR_BOOL, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "interpolate's align_corners (linear and bicubic modes only; null: false)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "compute dtype in MONAI (float32 or float64); mgc computes in float64; the output "
	 "is float32"},
	{"keep_size", MG_ATTR_BOOL, "true", 0, NULL,
	 "pad or crop the zoomed image back to the input's shape (centred)"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_ZOOM, A_MODE, A_PAD, A_ALIGN, A_DTYPE, A_KEEP, A_LAZY };

/* padding_mode as the [mode, value, constant_values] triple mg_grid_pad reads. */
static void pad_attrs(const struct mg_attr *a, struct mg_attr pa[3])
{
	memset(pa, 0, 3 * sizeof *pa);
	pa[0].v.s = a[A_PAD].is_none ? "edge" : a[A_PAD].v.s;
	pa[1].is_none = pa[2].is_none = 1;
}

/* The arguments alone; sdim -1 when not known yet. */
static int check(const struct mg_attr *a, int sdim, enum mg_interp *m, struct mg_err *e)
{
	int rc = mg_interp_args("Zoom", &a[A_MODE], &a[A_ALIGN], &a[A_DTYPE], sdim, m, e);
	if (rc)
		return rc;
	const struct mg_attr *z = &a[A_ZOOM];
	if (z->n < 1 || (sdim > 0 && z->n != 1 && z->n != sdim))
		return mg_err_set(e, MG_ERR_CONFIG, "Zoom: zoom has %d entries for a %dD image "
				  "(expected 1 or %d)", z->n, sdim, sdim);
	for (int i = 0; i < z->n; i++)
		if (!(z->v.floats[i] > 0) || !isfinite(z->v.floats[i]))
			return mg_err_set(e, MG_ERR_CONFIG, "Zoom: zoom %g at %d; expected a "
					  "positive number", z->v.floats[i], i);
	struct mg_attr pa[3];
	enum mg_pad pad;
	int ac;
	pad_attrs(a, pa);
	return mg_pad_mode("Zoom", pa, &pad, &ac, e);
}

static double factor(const struct mg_attr *a, int i)
{
	return a[A_ZOOM].v.floats[a[A_ZOOM].n == 1 ? 0 : i];
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	enum mg_interp m;
	int rc = check(a, g->sdim, &m, e);
	if (rc)
		return rc;
	int64_t out[3] = {1, 1, 1};
	for (int i = 0; i < g->sdim; i++) {
		double n = floor((double)g->in_shape[i] * factor(a, i));
		if (!(n >= 1 && n < 1e12))
			return mg_err_set(e, MG_ERR_SHAPE, "Zoom: zoom %g makes axis %d (size %lld) "
					  "%g voxels long", factor(a, i), i,
					  (long long)g->in_shape[i], n);
		out[i] = (int64_t)n;
	}
	mg_grid_scale(g, out, m, !a[A_ALIGN].is_none && a[A_ALIGN].v.i);
	return 0;
}

/* keep_size: ResizeWithPadOrCrop of the zoomed image back to the input's shape. */
static int then(const struct mg_attr *a, const struct mg_grid *g, struct mg_grid *next,
		struct mg_err *e)
{
	if (!a[A_KEEP].v.i)
		return 0;
	struct mg_attr pa[3];
	pad_attrs(a, pa);
	return mg_grid_pad_or_crop("Zoom", pa, next, g->in_shape, 0, e);
}

static int barrier(const struct mg_attr *a)
{
	if (mg_interp_barrier(check, a))
		return 1;
	for (int i = 0; i < a[A_ZOOM].n && a[A_KEEP].v.i; i++)
		if (a[A_ZOOM].v.floats[i] < 1) /* floor(d z) < d: keep_size pads */
			return 1;
	return 0;
}

extern const struct mg_opdef mg_op_zoom;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply_f32(&mg_op_zoom, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_interp_infer("Zoom", check, a, in, out, e);
	if (rc)
		return rc;
	for (int i = 1; i < in[0].rank && i < MG_MAX_RANK && !a[A_KEEP].v.i; i++)
		out[0].dims[i] = -1;
	return 0;
}

const struct mg_opdef mg_op_zoom = {
	.name = "Zoom",
	.synopsis = "zoom by a factor per axis (torch interpolate), then pad or crop back "
		    "(keep_size)",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
	.barrier = barrier,
	.then = then,
};
