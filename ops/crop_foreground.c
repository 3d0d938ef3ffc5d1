/* Op: CropForeground
 * Synopsis: crop to the box of the voxels select_fn picks (x > 0 or a threshold); pads past the edges
 * MONAI: monai.transforms.CropForeground(d)
 * Gradient: none yet (pad the gradient back).  Inverse: undo the pad, then pad back what was cropped.
 *
 * MONAI 1.6.1 (transforms/croppad/array.py CropForeground, transforms/utils.py
 * generate_spatial_bounding_box, compute_divisible_spatial_size): foreground =
 * select_fn(img[channel_indices]).any(channel) (select_fn.c: x > 0 or a threshold
 * lambda, compared as torch compares); per spatial axis, first and last foreground
 * index; start = first - margin, end = last + 1 + margin, clipped to [0, d] only when
 * allow_smaller (default False since 1.5.0). No foreground at all gives the box [0, 0)
 * on every axis: an empty (C, 0, ...) output. Then k_divisible: size = ceil(size / k) * k
 * (k <= 0 keeps the size), start -= (new - old) // 2, end = start + size. The box is cut
 * out with Crop (start clipped at 0, end at d) and what lies outside the image is padded
 * with Pad(mode): one map that reads input voxel start + o, a view when the box is inside
 * the image, else an exact copy in the input's dtype (the outside filled per mode; the
 * padding only reaches past an image edge where the crop is flush with it, so padding
 * the crop equals padding the image). The output affine is the input's times a
 * translation by start. The grid reads the voxels, so the op is a fusion barrier
 * (MG_OPF_READS_DATA). Deviations: select_fn is is_positive or a threshold lambda
 * (MONAI takes any callable); return_coords=true is refused (one output); a one-entry
 * margin/k_divisible list applies to every axis.
 * The dict form's source_key (MONAI's CropForegroundd): the box is computed once from
 * the source key's image as it was before the transform (foreground, margin,
 * allow_smaller clipping to the source's shape, k_divisible), then every key is cut and
 * padded by it against its own shape (crop_pad): the node reads the source as a second
 * input (MG_ATTRF_KEY), which mg_spatial_apply hands to the grid as `in`. Such a box
 * can lie mostly past this key's edge: mgc then refuses reflect/symmetric pads wider
 * than the crop and edge pads of an empty crop (see grid), where MONAI mirrors the
 * mirrored crop again (numpy refuses the empty edge pad). */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"source_key", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_KEY, NULL,
	 "dict form: the key whose image gives the box (taken before any key is cropped); "
	 "null: each key's own"},
	{"select_fn", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_EXPR, NULL,
	 "what is foreground: is_positive (x > 0, MONAI's default; null means it) or a "
	 "threshold \"$lambda x: x > 0.5\" (> >= < <= == !=; see pipeline-format.md)"},
	{"channel_indices", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "channels that select the foreground (negative counts from the end); null: all"},
	{"margin", MG_ATTR_INTS, "0", 0, NULL,
	 "voxels added around the box on each side (an int applies to every axis); >= 0"},
	{"allow_smaller", MG_ATTR_BOOL, "false", 0, NULL,
	 "true: clip the box (with margin) to the image; false: pad where it extends past"},
	{"return_coords", MG_ATTR_BOOL, "false", 0, NULL,
	 "must be false: mgc returns the image only"},
	{"k_divisible", MG_ATTR_INTS, "1", 0, NULL,
	 "make each box size a multiple of k, growing it about its centre (an int applies "
	 "to every axis); <= 0 keeps the size"},
	MG_PAD_ATTRS,
};
enum { A_SOURCE, A_SELECT, A_CHANNELS, A_MARGIN, A_SMALLER, A_COORDS, A_K, A_PAD };

static int check_list(const char *what, const struct mg_attr *a, int sdim, struct mg_err *e)
{
	if (sdim > 0 && a->n != 1 && a->n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "CropForeground: %s has %d entries for a %dD "
				  "image (expected 1 or %d)", what, a->n, sdim, sdim);
	return 0;
}

/* The checks that need no data: sdim 0 when the rank is unknown. */
static int check(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	enum mg_pad pad;
	struct mg_select sel;
	int ac, rc = mg_select_parse("CropForeground", "select_fn", &a[A_SELECT], &sel, e);
	if (rc)
		return rc;
	if (a[A_COORDS].v.i)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "CropForeground: return_coords=true is "
				  "not supported (mgc's CropForeground returns the image only)");
	if ((rc = check_list("margin", &a[A_MARGIN], sdim, e)) ||
	    (rc = check_list("k_divisible", &a[A_K], sdim, e)))
		return rc;
	for (int i = 0; i < a[A_MARGIN].n; i++)
		if (a[A_MARGIN].v.ints[i] < 0)
			return mg_err_set(e, MG_ERR_CONFIG, "CropForeground: margin value should not "
					  "be negative number, got %lld",
					  (long long)a[A_MARGIN].v.ints[i]);
	return mg_pad_mode("CropForeground", &a[A_PAD], &pad, &ac, e);
}

/* The first w from `from` towards `to` (excluded) where the row's voxel w (s bytes
 * apart) passes sel; -1 when none does. */
static int64_t row_find(const struct mg_select *sel, enum mg_dtype dt, const char *r, int64_t s,
			int64_t from, int64_t to)
{
	int64_t step = to > from ? 1 : -1;
	for (int64_t w = from; w != to; w += step)
		if (mg_select_test(sel, mg_dtype_load(dt, r + w * s)))
			return w;
	return -1;
}

/* Per spatial axis, the first and last index where a selected channel passes
 * select_fn; 0 when there is no foreground. */
static int foreground_box(const struct mg_attr *a, const struct mg_tensor *x, int sdim,
			  int64_t first[3], int64_t last[3], struct mg_err *e)
{
	int64_t nc = x->dims[0];
	const struct mg_attr *ci = &a[A_CHANNELS];
	int64_t dims[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
	for (int i = 0; i <= sdim; i++) {
		dims[i] = x->dims[i];
		st[i] = x->strides[i];
	}
	for (int i = 0; i < 3; i++) {
		first[i] = INT64_MAX;
		last[i] = -1;
	}
	if (!ci->is_none)
		for (int k = 0; k < ci->n; k++)
			if (ci->v.ints[k] < -nc || ci->v.ints[k] >= nc)
				return mg_err_set(e, MG_ERR_SHAPE, "CropForeground: channel index "
						  "%lld is out of range for an image with %lld "
						  "channels", (long long)ci->v.ints[k],
						  (long long)nc);
	int nsel = ci->is_none ? (int)nc : ci->n;
	struct mg_select sel;
	int rc = mg_select_parse("CropForeground", "select_fn", &a[A_SELECT], &sel, e);
	if (rc)
		return rc;
	sel = mg_select_for(&sel, x->dtype);
	const char *p = mg_tensor_data(x);
	int64_t es = (int64_t)mg_dtype_size(x->dtype);
	/* walk the spatial axes in memory order (the fastest innermost): a NIfTI image is
	 * x-fastest, and a C-order walk would read it a page per voxel */
	int fast[MG_MAX_RANK], ax[3] = {3, 3, 3}, na = 3; /* a 2D image: axis 3 (size 1) outermost */
	mg_tensor_order(x, fast);
	for (int i = 0; i < x->rank; i++)
		if (fast[i] != 0)
			ax[--na] = fast[i];
	for (int k = 0; k < nsel; k++) {
		int64_t c = ci->is_none ? k : ci->v.ints[k];
		if (c < 0)
			c += nc;
		int64_t idx[4] = {c, 0, 0, 0};
		for (idx[ax[0]] = 0; idx[ax[0]] < dims[ax[0]]; idx[ax[0]]++)
			for (idx[ax[1]] = 0; idx[ax[1]] < dims[ax[1]]; idx[ax[1]]++) {
				int64_t row = c * st[0] + idx[ax[0]] * st[ax[0]] + idx[ax[1]] * st[ax[1]];
				int64_t in = ax[2], n = dims[in], s = st[in] * es;
				const char *r = p + row * es;
				/* a row whose outer indices the box holds already can only widen it
				 * along the row: its ends up to the box's are all it needs reading */
				int held = last[0] >= 0;
				for (int j = 0; j < 2 && held; j++)
					held = ax[j] > sdim || (idx[ax[j]] >= first[ax[j] - 1] &&
								idx[ax[j]] <= last[ax[j] - 1]);
				if (held) {
					int64_t lo = row_find(&sel, x->dtype, r, s, 0, first[in - 1]);
					int64_t hi = row_find(&sel, x->dtype, r, s, n - 1, last[in - 1]);
					first[in - 1] = lo >= 0 ? lo : first[in - 1];
					last[in - 1] = hi >= 0 ? hi : last[in - 1];
					continue;
				}
				int64_t lo = row_find(&sel, x->dtype, r, s, 0, n);
				if (lo < 0)
					continue;
				int64_t hi = row_find(&sel, x->dtype, r, s, n - 1, lo - 1);
				/* the row's first and last selected voxel bound every axis */
				for (int i = 0; i < sdim; i++) {
					int64_t f = 1 + i == in ? lo : idx[1 + i];
					int64_t l = 1 + i == in ? hi : idx[1 + i];
					if (f < first[i])
						first[i] = f;
					if (l > last[i])
						last[i] = l;
				}
			}
	}
	return 0;
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	int sdim = g->sdim, rc = check(a, sdim, e);
	if (rc)
		return rc;
	int64_t first[3], last[3], start[3] = {0}, end[3] = {0};
	if ((rc = foreground_box(a, in, sdim, first, last, e)))
		return rc;
	int any = last[0] >= 0;
	for (int i = 0; i < sdim && any; i++) {
		/* allow_smaller clips to the source's shape (compute_bounding_box) */
		int64_t d = in->dims[1 + i], m = a[A_MARGIN].v.ints[a[A_MARGIN].n == 1 ? 0 : i];
		start[i] = first[i] - m;
		end[i] = last[i] + 1 + m;
		if (a[A_SMALLER].v.i) {
			start[i] = start[i] > 0 ? start[i] : 0;
			end[i] = end[i] < d ? end[i] : d;
		}
	}
	/* k_divisible, also on the empty box (a size of 0 stays 0) */
	for (int i = 0; i < sdim; i++) {
		int64_t k = a[A_K].v.ints[a[A_K].n == 1 ? 0 : i], size = end[i] - start[i];
		int64_t want = k > 0 ? (size + k - 1) / k * k : size;
		start[i] -= (want - size) / 2;
		end[i] = start[i] + want;
	}
	enum mg_pad pad;
	int ac;
	if ((rc = mg_pad_mode("CropForeground", &a[A_PAD], &pad, &ac, e)))
		return rc;
	for (int i = 0; i < sdim; i++) {
		/* what Crop keeps of the box, and what Pad adds on either side of it */
		int64_t d = g->in_shape[i], s = start[i] > 0 ? start[i] : 0;
		int64_t t = end[i] > s ? end[i] : s;
		int64_t n = (t < d ? t : d) - (s < d ? s : d);
		int64_t before = start[i] < 0 ? -start[i] : 0, after = end[i] > d ? end[i] - d : 0;
		if (pad == MG_PAD_REFLECTION && ac && (before || after) &&
		    (before >= n || after >= n))
			return mg_err_set(e, MG_ERR_SHAPE, "CropForeground: mode 'reflect' pads axis "
					  "%d (the crop's size %lld) by (%lld, %lld); torch's reflect "
					  "padding needs each side smaller than the axis", i,
					  (long long)n, (long long)before, (long long)after);
		/* the map mirrors about the image's edge, MONAI about the crop's: the same
		 * while one mirror image of the crop covers the pad; an empty crop has no edge
		 * voxel to repeat (numpy refuses). Only a box from another key's image
		 * (source_key) gets there */
		int beyond = pad == MG_PAD_REFLECTION ? before > n || after > n
			     : pad == MG_PAD_BORDER && n == 0;
		if ((before || after) && n < d && beyond)
			return mg_err_set(e, MG_ERR_UNSUPPORTED, "CropForeground: mode '%s' pads axis "
					  "%d by (%lld, %lld) past a crop of %lld voxels inside an "
					  "axis of %lld; mgc pads a crop only by up to its own size "
					  "there", a[A_PAD].v.s, i, (long long)before,
					  (long long)after, (long long)n, (long long)d);
	}
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	for (int i = 0; i < sdim; i++)
		m[i][3] = (double)start[i];
	mg_grid_map(g, m);
	for (int i = 0; i < sdim; i++)
		g->out_shape[i] = end[i] - start[i];
	g->padding = pad;
	g->align_corners = ac;
	return 0;
}

extern const struct mg_opdef mg_op_crop_foreground;

static int ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_crop_foreground, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_croppad_infer("CropForeground", NULL, a, in, out, e);
	if (!rc && !a[A_SOURCE].is_none)
		rc = mg_op_infer_key_input(&in[1], "CropForeground", "source_key",
					   a[A_SOURCE].v.s, e);
	if (!rc && !a[A_SOURCE].is_none && in[0].rank >= 0 && in[1].rank >= 0 &&
	    in[0].rank != in[1].rank)
		rc = mg_err_set(e, MG_ERR_SHAPE, "CropForeground: source_key '%s' holds a rank-%d "
				"image, this key a rank-%d one", a[A_SOURCE].v.s, in[1].rank,
				in[0].rank);
	return rc ? rc : check(a, in[0].rank - 1, e);
}

const struct mg_opdef mg_op_crop_foreground = {
	.name = "CropForeground",
	.synopsis = "crop to the bounding box of the voxels select_fn picks (x > 0 or a "
		    "threshold); pads past the edges",
	.flags = MG_OPF_SPATIAL | MG_OPF_READS_DATA,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ref,
	.grid = grid,
};
