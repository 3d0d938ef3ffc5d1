/* Op: Resize
 * Synopsis: resize to spatial_size by scaling (torch interpolate); no crop or pad.
 * MONAI: monai.transforms.Resize(d)
 * Gradient: none.  Inverse: Resize back to the original shape (later).
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Resize, functional.py resize): size_mode "all"
 * takes spatial_size per axis, entries <= 0 keeping the input's size (fall_back_tuple);
 * "longest" takes one int L and scales every axis by L / max(shape), rounding half to
 * even (Python's round). An unchanged shape returns the input as float32, affine and all.
 * Otherwise the output affine is the input's times scale_affine(in, out, align_corners)
 * (mg_grid_scale) and the values are torch's interpolate in the given mode: linear and
 * bicubic are point samples at that very map with border padding (so they fuse), area
 * and the nearest modes use torch's own index rules (resample.h; fusion barriers).
 * Output float32. Deviations: mgc computes in float64 (MONAI's default float32 compute
 * differs by float32 rounding); anti_aliasing (a Gaussian before downsampling) is
 * refused when it would apply (some axis shrinks), accepted when it would not;
 * spatial_size with more entries than spatial axes (MONAI adds axes) is refused; a
 * one-entry list under "all" is refused as MONAI refuses it (its int form too);
 * align_corners set with area or nearest is refused even when the shape is unchanged
 * (MONAI skips torch, and its check, then). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_size", MG_ATTR_INTS, NULL, 0, NULL,
	 "output spatial shape, one entry per axis (<= 0 keeps the axis); with "
	 "size_mode=longest one int: the longest axis's new size"},
	{"size_mode", MG_ATTR_STR, "\"all\"", 0, "all|longest",
	 "all: spatial_size per axis; longest: scale every axis so the longest has spatial_size"},
	{"mode", MG_ATTR_STR, "\"area\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE,
	 "area|nearest|nearest-exact|linear|bilinear|trilinear|bicubic",
	 "torch.nn.functional.interpolate's mode; bicubic is 2D only"},
	{"align_corners", MG_ATTR_BOOL, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "interpolate's align_corners (linear and bicubic modes only; null: false)"},
	{"anti_aliasing", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL,
	 "Gaussian smoothing before downsampling: not supported (refused when an axis shrinks)"},
	{"anti_aliasing_sigma", MG_ATTR_FLOATS, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "the Gaussian's sigma (with anti_aliasing; not supported)"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "compute dtype in MONAI (float32 or float64); mgc computes in float64; the output "
	 "is float32"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_SIZE, A_SIZE_MODE, A_MODE, A_ALIGN, A_AA, A_AA_SIGMA, A_DTYPE, A_LAZY };

/* The arguments alone; sdim -1 when not known yet. */
static int check(const struct mg_attr *a, int sdim, enum mg_interp *m, struct mg_err *e)
{
	int rc = mg_interp_args("Resize", &a[A_MODE], &a[A_ALIGN], &a[A_DTYPE], sdim, m, e);
	if (rc)
		return rc;
	int n = a[A_SIZE].n;
	if (a[A_SIZE_MODE].v.s[0] == 'l')
		return n == 1 ? 0 : mg_err_set(e, MG_ERR_CONFIG, "Resize: spatial_size must be "
					       "an int number if size_mode is 'longest' (got %d "
					       "entries)", n);
	if (sdim > 0 && n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "Resize: spatial_size has %d entries for a "
				  "%dD image (expected %d: len(spatial_size) must equal the "
				  "image's spatial dimensions)", n, sdim, sdim);
	return 0;
}

/* The output shape from the input's (MONAI's fall_back_tuple, or the longest rule). */
static int out_shape(const struct mg_attr *a, int sdim, const int64_t *in, int64_t out[3],
		     struct mg_err *e)
{
	const int64_t *s = a[A_SIZE].v.ints;
	int64_t longest = 0;
	for (int i = 0; i < sdim; i++)
		longest = in[i] > longest ? in[i] : longest;
	for (int i = 0; i < 3; i++)
		out[i] = i < sdim ? in[i] : 1;
	for (int i = 0; i < sdim; i++) {
		if (a[A_SIZE_MODE].v.s[0] == 'l') /* int(round(d * (L / max))), half to even */
			out[i] = (int64_t)nearbyint((double)in[i] * ((double)s[0] / (double)longest));
		else if (s[i] > 0)
			out[i] = s[i];
		if (out[i] < 1)
			return mg_err_set(e, MG_ERR_SHAPE, "Resize: axis %d (size %lld) would have "
					  "%lld voxels", i, (long long)in[i], (long long)out[i]);
	}
	return 0;
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	(void)in;
	enum mg_interp m;
	int64_t out[3];
	int rc = check(a, g->sdim, &m, e);
	if (rc || (rc = out_shape(a, g->sdim, g->in_shape, out, e)))
		return rc;
	for (int i = 0; i < g->sdim && a[A_AA].v.i; i++)
		if (out[i] < g->in_shape[i])
			return mg_err_set(e, MG_ERR_UNSUPPORTED, "Resize: anti_aliasing is not "
					  "supported by mgc (axis %d shrinks from %lld to %lld); "
					  "set anti_aliasing=false", i, (long long)g->in_shape[i],
					  (long long)out[i]);
	mg_grid_scale(g, out, m, !a[A_ALIGN].is_none && a[A_ALIGN].v.i);
	return 0;
}

static int barrier(const struct mg_attr *a)
{
	return mg_interp_barrier(check, a);
}

extern const struct mg_opdef mg_op_resize;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply_f32(&mg_op_resize, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_interp_infer("Resize", check, a, in, out, e);
	if (rc)
		return rc;
	for (int i = 1; i < in[0].rank && i < MG_MAX_RANK; i++)
		if (a[A_SIZE_MODE].v.s[0] == 'l' || a[A_SIZE].v.ints[i - 1] > 0)
			out[0].dims[i] = a[A_SIZE_MODE].v.s[0] == 'l' ? -1 : a[A_SIZE].v.ints[i - 1];
	return 0;
}

const struct mg_opdef mg_op_resize = {
	.name = "Resize",
	.synopsis = "resize to spatial_size by scaling (torch interpolate); no crop or pad",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
	.barrier = barrier,
};
