/* spatial.c: what every spatial op shares: running a grid. An index-only grid that stays
 * inside the image becomes a view (Orientation, Flip, crops move no data); an index-only
 * grid that reads outside is a copy in the input's dtype with the outside filled by the
 * grid's padding (pads); anything else is one pass of the reference resampler. Also the
 * crop/pad grid helpers the crop and pad ops share. Read next: runtime/resample.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* The view that realises an index-only grid, or 0 when it reads outside the input. */
static int as_view(const struct mg_tensor *x, const struct mg_grid *g, struct mg_tensor *y)
{
	*y = *x;
	y->rank = g->sdim + 1;
	int empty = 0;
	for (int j = 0; j < g->sdim; j++)
		empty |= g->out_shape[j] == 0;
	for (int j = 0; j < g->sdim; j++) {
		int i = 0;
		while (i < g->sdim && fabs(g->out_to_in[i][j]) < 0.5)
			i++;
		int64_t s = g->out_to_in[i][j] > 0 ? 1 : -1;
		int64_t t = (int64_t)llround(g->out_to_in[i][3]);
		int64_t last = t + s * (g->out_shape[j] - 1);
		/* an empty result reads nothing: any map is inside */
		if (!empty && (t < 0 || t >= x->dims[1 + i] || last < 0 || last >= x->dims[1 + i]))
			return 0;
		y->dims[1 + j] = g->out_shape[j];
		y->strides[1 + j] = s * x->strides[1 + i];
	}
	/* the offset of output voxel 0 */
	y->offset = x->offset;
	for (int i = 0; i < g->sdim && !empty; i++)
		y->offset += (int64_t)llround(g->out_to_in[i][3]) * x->strides[1 + i];
	return 1;
}

/* Where output index o of one axis reads, for an input axis of size d, when the grid's
 * integer map gives q = t + s*o: q itself inside [0, d); outside, by g's padding:
 *   zeros       -1 (the voxel is 0 in every dtype);
 *   border      q clamped to [0, d-1] (numpy "edge", torch "replicate");
 *   reflection  align_corners=1: reflect about 0 and d-1, period 2(d-1) (numpy/torch
 *               "reflect": -1 -> 1; d == 1 reads 0); align_corners=0: reflect about -0.5
 *               and d-0.5, period 2d (numpy "symmetric": -1 -> 0).
 * These are exactly what the resampler computes for integer coordinates, and what np.pad
 * does for any pad width (it repeats the reflection). */
static int64_t pad_index(int64_t q, int64_t d, const struct mg_grid *g)
{
	if (q >= 0 && q < d)
		return q;
	if (d <= 0)
		return -1;
	switch (g->padding) {
	case MG_PAD_ZEROS:
		return -1;
	case MG_PAD_BORDER:
		return q < 0 ? 0 : d - 1;
	case MG_PAD_REFLECTION:
		if (g->align_corners) {
			if (d == 1)
				return 0;
			int64_t p = 2 * (d - 1), m = ((q % p) + p) % p;
			return m < d ? m : p - m;
		} else {
			int64_t p = 2 * d, m = ((q % p) + p) % p;
			return m < d ? m : p - 1 - m;
		}
	}
	return -1;
}

/* The copy that realises an index-only grid reading outside the input: a fresh
 * contiguous (C, out_shape...) tensor in x's dtype; per output axis a table of input
 * offsets (in elements, any sign: x may be a flipped view; OUTSIDE for a zero voxel),
 * then one walk. */
#define OUTSIDE INT64_MIN
static int padded_copy(const struct mg_tensor *x, const struct mg_grid *g, struct mg_tensor *y,
		       struct mg_err *e)
{
	int64_t dims[4] = {x->dims[0], 1, 1, 1};
	for (int j = 0; j < g->sdim; j++)
		dims[1 + j] = g->out_shape[j];
	int rc = mg_tensor_alloc(y, x->dtype, g->sdim + 1, dims, e);
	if (rc)
		return rc;
	int64_t n = dims[1] + dims[2] + dims[3], *tab = malloc(sizeof *tab * (size_t)(n + 1));
	if (!tab) {
		mg_tensor_release(y);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	int64_t *t[3] = {tab, tab + dims[1], tab + dims[1] + dims[2]};
	for (int j = 0; j < 3; j++) {
		if (j >= g->sdim) {
			t[j][0] = 0;
			continue;
		}
		int i = 0;
		while (i < g->sdim && fabs(g->out_to_in[i][j]) < 0.5)
			i++;
		int64_t s = g->out_to_in[i][j] > 0 ? 1 : -1;
		int64_t t0 = (int64_t)llround(g->out_to_in[i][3]);
		for (int64_t o = 0; o < dims[1 + j]; o++) {
			int64_t q = pad_index(t0 + s * o, x->dims[1 + i], g);
			t[j][o] = q < 0 ? OUTSIDE : q * x->strides[1 + i];
		}
	}
	size_t es = mg_dtype_size(x->dtype);
	const char *src = mg_tensor_data(x);
	char *dst = mg_tensor_data(y);
	for (int64_t c = 0; c < dims[0]; c++)
		for (int64_t a = 0; a < dims[1]; a++)
			for (int64_t b = 0; b < dims[2]; b++)
				for (int64_t z = 0; z < dims[3]; z++, dst += es) {
					int64_t ta = t[0][a], tb = t[1][b], tz = t[2][z];
					if (ta == OUTSIDE || tb == OUTSIDE || tz == OUTSIDE)
						memset(dst, 0, es);
					else
						memcpy(dst, src + (c * x->strides[0] + ta + tb + tz) *
							     (int64_t)es, es);
				}
	free(tab);
	return 0;
}

static int rank_error(const char *op, int rank, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_SHAPE, "%s expects a channel-first 2D or 3D image "
			  "(C, X, Y[, Z]), got rank %d (is EnsureChannelFirst missing?)", op, rank);
}

int mg_op_infer_spatial(const struct mg_type *in, const char *op, struct mg_err *e)
{
	int rc = mg_op_infer_image(in, op, e);
	if (rc || in->rank < 0 || in->rank == 3 || in->rank == 4)
		return rc;
	return rank_error(op, in->rank, e);
}

int mg_grid_run(const struct mg_tensor *x, const struct mg_grid *g, struct mg_tensor *y,
		struct mg_kctx *k)
{
	int rc, index_only = mg_grid_is_index_only(g);
	if (index_only && as_view(x, g, y)) {
		*y = mg_tensor_share(y);
		return 0;
	}
	if (index_only) {
		rc = padded_copy(x, g, y, k->err);
	} else {
		rc = mg_resample_gen(x, g, MG_DTYPE_F32, y, k);
		if (rc == MG_ERR_UNSUPPORTED) {
			mg_err_clear(k->err);
			rc = mg_resample(x, g, MG_DTYPE_F32, y, k->err);
		}
	}
	if (rc)
		return rc;
	y->meta = x->meta;
	if (y->meta)
		mg_meta_retain(y->meta);
	return 0;
}

int mg_applied_push(struct mg_meta *m, const char *op, const struct mg_grid *g,
		    const double in_affine[4][4], struct mg_err *e)
{
	if (m->napplied >= MG_MAX_APPLIED)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: the image already records %d spatial "
				  "operations, the most mgc keeps for inversion", op, MG_MAX_APPLIED);
	mg_applied_set(&m->applied[m->napplied++], op, g, in_affine);
	return 0;
}

int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], d->name, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t, *src = x;
	if (x->rank < 3 || x->rank > 4)
		return rank_error(d->name, x->rank, k->err);
	if (mg_op_nin(d, attrs) > 1) {
		/* the grid reads its data-key input (CropForeground's source_key) */
		if ((rc = mg_op_expect_tensor(&in[1], d->name, k->err)))
			return rc;
		src = &in[1].t;
		if (src->rank != x->rank)
			return mg_err_set(k->err, MG_ERR_SHAPE, "%s: the source image has rank %d, "
					  "this key's image rank %d", d->name, src->rank, x->rank);
	}
	struct mg_grid g;
	mg_grid_identity(&g, x);
	double in_affine[4][4];
	memcpy(in_affine, g.affine, sizeof in_affine);
	struct mg_tensor y;
	if ((rc = d->grid(attrs, src, &g, k->err)) || (rc = mg_grid_run(x, &g, &y, k)))
		return rc;
	if (d->then) {
		struct mg_grid g2;
		struct mg_tensor y2;
		mg_grid_next(&g, &g2);
		rc = d->then(attrs, &g, &g2, k->err);
		if (!rc)
			rc = mg_grid_run(&y, &g2, &y2, k);
		mg_tensor_release(&y);
		if (rc)
			return rc;
		y = y2;
		mg_grid_then(&g, &g2); /* one entry: what both steps did */
	}
	struct mg_meta *m = mg_meta_mut(&y);
	if (!m) {
		mg_tensor_release(&y);
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	}
	memcpy(m->affine, g.affine, sizeof m->affine);
	m->sdim = g.sdim;
	if ((rc = mg_applied_push(m, d->name, &g, in_affine, k->err))) {
		mg_tensor_release(&y);
		return rc;
	}
	out[0].kind = MG_VK_TENSOR;
	out[0].t = y;
	return 0;
}

int mg_spatial_apply_f32(const struct mg_opdef *d, const struct mg_attr *attrs,
			 struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_spatial_apply(d, attrs, in, out, k);
	if (rc || out[0].t.dtype == MG_DTYPE_F32)
		return rc;
	struct mg_tensor y;
	rc = mg_tensor_cast(&y, &out[0].t, MG_DTYPE_F32, k->err);
	mg_tensor_release(&out[0].t);
	if (rc) {
		out[0].kind = MG_VK_NONE;
		return rc;
	}
	out[0].t = y;
	return 0;
}

/* ---- rotations ---- */

/* x as float32 arithmetic leaves it when f32, else x. */
static double round_to(int f32, double x)
{
	return f32 ? (double)(float)x : x;
}

void mg_mat4_mul(int f32, const double a[4][4], const double b[4][4], double c[4][4])
{
	mg_affine_mul(a, b, c);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			c[i][j] = round_to(f32, c[i][j]);
}

int mg_create_rotate(const char *op, int sdim, const double *angles, int n, const char *order,
		     int f32, double r[4][4], struct mg_err *e)
{
	static const double eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	memcpy(r, eye, sizeof eye);
	if (n < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: the rotation angles are empty", op);
	if (sdim == 2) {
		double a = round_to(f32, angles[0]);
		double c = f32 ? (double)cosf((float)a) : cos(a);
		double s = f32 ? (double)sinf((float)a) : sin(a);
		r[0][0] = c, r[0][1] = -s;
		r[1][0] = s, r[1][1] = c;
		return 0;
	}
	/* _validate_euler_order */
	size_t len = strlen(order);
	int upper = 1, lower = 1;
	for (size_t i = 0; i < len; i++) {
		upper &= order[i] >= 'A' && order[i] <= 'Z';
		lower &= order[i] >= 'a' && order[i] <= 'z';
	}
	if (len < 1 || len > 3)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: rotate_order must contain between 1 and 3 "
				  "axes, got '%s'", op, order);
	if (!upper && !lower)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: rotate_order must be all lower case "
				  "(extrinsic) or all upper case (intrinsic), got '%s'", op, order);
	for (size_t i = 0; i < len; i++) {
		char c = (char)(order[i] | 0x20);
		if (c != 'x' && c != 'y' && c != 'z')
			return mg_err_set(e, MG_ERR_CONFIG, "%s: rotate_order axes must be from 'x', "
					  "'y', 'z' (any case), got '%s'", op, order);
		if (i > 0 && c == (order[i - 1] | 0x20))
			return mg_err_set(e, MG_ERR_CONFIG, "%s: rotate_order must not repeat the same "
					  "axis consecutively, got '%s'", op, order);
	}
	if ((int)len < n)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: rotate_order '%s' is too short for %d "
				  "rotation angle(s)", op, order, n);
	for (int k = 0; k < n; k++) {
		double a = round_to(f32, angles[k]), m[4][4];
		double c = f32 ? (double)cosf((float)a) : cos(a);
		double s = f32 ? (double)sinf((float)a) : sin(a);
		/* the plane (p, q) the rotation about axis x, y or z turns */
		int axis = (order[k] | 0x20) - 'x', p = axis == 0 ? 1 : 0, q = axis == 2 ? 1 : 2;
		memcpy(m, eye, sizeof eye);
		m[p][p] = c, m[q][q] = c;
		/* about y the sign is the other way round: [[c, s], [-s, c]] on (x, z) */
		m[p][q] = axis == 1 ? s : -s;
		m[q][p] = axis == 1 ? -s : s;
		if (upper)
			mg_mat4_mul(f32, r, m, r);
		else
			mg_mat4_mul(f32, m, r, r);
	}
	return 0;
}

/* ---- crop and pad grids ---- */

/* g's affine times a translation by shift (voxels): the new origin is voxel `shift`. */
static void translate(struct mg_grid *g, const int64_t shift[3])
{
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	for (int i = 0; i < g->sdim; i++)
		m[i][3] = (double)shift[i];
	mg_grid_map(g, m);
}

void mg_grid_crop(struct mg_grid *g, const int64_t start[3], const int64_t end[3])
{
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->in_shape[i];
		int64_t s = start[i] < d ? start[i] : d, t = end[i] < d ? end[i] : d;
		g->out_shape[i] = t > s ? t - s : 0;
	}
	translate(g, start);
}

int mg_pad_check(const char *op, const char *name, const struct mg_attr *list,
		 const struct mg_attr *pa, int sdim, struct mg_err *e)
{
	enum mg_pad pad;
	int ac;
	if (sdim > 0 && list->n != 1 && list->n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: %s has %d entries for a %dD image "
				  "(expected 1 or %d)", op, name, list->n, sdim, sdim);
	return mg_pad_mode(op, pa, &pad, &ac, e);
}

int mg_pad_mode(const char *op, const struct mg_attr *pa, enum mg_pad *pad, int *align_corners,
		struct mg_err *e)
{
	static const char *const other[] = {"linear_ramp", "maximum", "mean", "median",
					    "minimum", "wrap", "empty", "circular"};
	const char *m = pa[0].v.s;
	int constant = !strcmp(m, "constant");
	*align_corners = 0;
	if (constant)
		*pad = MG_PAD_ZEROS;
	else if (!strcmp(m, "edge") || !strcmp(m, "replicate"))
		*pad = MG_PAD_BORDER;
	else if (!strcmp(m, "reflect") || !strcmp(m, "symmetric")) {
		*pad = MG_PAD_REFLECTION;
		*align_corners = m[0] == 'r';
	} else {
		for (size_t i = 0; i < sizeof other / sizeof *other; i++)
			if (!strcmp(m, other[i]))
				return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: mode '%s' is not "
						  "supported by mgc (supported: constant, edge, "
						  "replicate, reflect, symmetric)", op, m);
		return mg_err_set(e, MG_ERR_CONFIG, "%s: mode '%s' is not a padding mode "
				  "(expected constant, edge, replicate, reflect or symmetric)", op,
				  m);
	}
	if (!pa[1].is_none && !constant)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: 'value' argument is only valid when "
				  "mode='constant'", op);
	if (!pa[2].is_none && !constant)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: 'constant_values' argument is only "
				  "valid when mode='constant'", op);
	for (int i = 1; i <= 2; i++)
		if (!pa[i].is_none && pa[i].v.f != 0)
			return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: %s=%g is not supported: mgc "
					  "pads with 0 only", op, i == 1 ? "value" :
					  "constant_values", pa[i].v.f);
	return 0;
}

int mg_grid_pad(const char *op, const struct mg_attr *pa, struct mg_grid *g,
		const int64_t before[3], const int64_t after[3], struct mg_err *e)
{
	int rc = mg_pad_mode(op, pa, &g->padding, &g->align_corners, e);
	if (rc)
		return rc;
	int64_t shift[3] = {0, 0, 0};
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->in_shape[i];
		if (g->padding == MG_PAD_REFLECTION && g->align_corners &&
		    (before[i] || after[i]) && (before[i] >= d || after[i] >= d))
			return mg_err_set(e, MG_ERR_SHAPE, "%s: mode 'reflect' pads axis %d (size "
					  "%lld) by (%lld, %lld); torch's reflect padding needs "
					  "each side smaller than the axis", op, i, (long long)d,
					  (long long)before[i], (long long)after[i]);
		g->out_shape[i] = d + before[i] + after[i];
		shift[i] = -before[i];
	}
	translate(g, shift);
	return 0;
}

int mg_grid_pad_to(const char *op, const struct mg_attr *pa, struct mg_grid *g,
		   const struct mg_attr *sizes, int multiple, int end, struct mg_err *e)
{
	int64_t before[3] = {0}, after[3] = {0};
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->in_shape[i], s = sizes->v.ints[sizes->n == 1 ? 0 : i], w;
		if (multiple)
			w = s > 0 ? (d + s - 1) / s * s - d : 0;
		else
			w = s > d ? s - d : 0;
		before[i] = end ? 0 : w / 2;
		after[i] = w - before[i];
	}
	return mg_grid_pad(op, pa, g, before, after, e);
}

int mg_grid_pad_or_crop(const char *op, const struct mg_attr *pa, struct mg_grid *g,
			const int64_t size[3], int end, struct mg_err *e)
{
	int64_t start[3] = {0}, stop[3] = {0}, before[3] = {0}, after[3] = {0};
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->in_shape[i], s = size[i] > 0 ? size[i] : d;
		start[i] = d > s ? d / 2 - s / 2 : 0;
		stop[i] = d > s ? start[i] + s : d;
		int64_t w = s > d ? s - d : 0;
		before[i] = end ? 0 : w / 2;
		after[i] = w - before[i];
	}
	mg_grid_crop(g, start, stop);
	struct mg_grid pad;
	mg_grid_next(g, &pad);
	int rc = mg_grid_pad(op, pa, &pad, before, after, e);
	if (!rc)
		mg_grid_then(g, &pad);
	return rc;
}

int mg_croppad_infer(const char *op, mg_croppad_check_fn *check, const struct mg_attr *a,
		     const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	int rc = mg_op_infer_spatial(&in[0], op, e);
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	for (int i = 1; i < in[0].rank && i < MG_MAX_RANK; i++)
		out[0].dims[i] = -1;
	return check ? check(a, in[0].rank - 1, e) : 0;
}

/* ---- torch.nn.functional.interpolate grids (Resize, Zoom) ---- */

int mg_interp_args(const char *op, const struct mg_attr *mode, const struct mg_attr *align,
		   const struct mg_attr *dtype, int sdim, enum mg_interp *m, struct mg_err *e)
{
	static const struct {
		const char *name;
		enum mg_interp m;
	} modes[] = {{"area", MG_INTERP_AREA}, {"nearest", MG_INTERP_NEAREST_FLOOR},
		     {"nearest-exact", MG_INTERP_NEAREST_EXACT}, {"linear", MG_INTERP_LINEAR},
		     {"bilinear", MG_INTERP_LINEAR}, {"trilinear", MG_INTERP_LINEAR},
		     {"bicubic", MG_INTERP_CUBIC}};
	const char *s = mode->is_none ? "area" : mode->v.s;
	size_t i = 0, n = sizeof modes / sizeof *modes;
	while (i < n && strcmp(s, modes[i].name))
		i++;
	if (i == n)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: mode '%s' is not an interpolation mode "
				  "(expected area, nearest, nearest-exact, linear, bilinear, "
				  "trilinear or bicubic)", op, s);
	*m = modes[i].m;
	if (*m == MG_INTERP_CUBIC && sdim == 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: mode 'bicubic' needs a 2D image "
				  "(torch.nn.functional.interpolate has no 3D cubic mode)", op);
	if (!align->is_none && mg_interp_is_axiswise(*m))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: align_corners can only be set with the "
				  "interpolating modes linear, bilinear, bicubic and trilinear (as "
				  "torch), not with mode '%s'", op, s);
	if (dtype->is_none || dtype->v.i == MG_DTYPE_F32 || dtype->v.i == MG_DTYPE_F64)
		return 0;
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: dtype %s is not supported: the "
			  "computation runs in float64 (MONAI's float32 and float64 are "
			  "accepted)", op, mg_dtype_name((enum mg_dtype)dtype->v.i));
}

int mg_interp_infer(const char *op, mg_interp_check_fn *check, const struct mg_attr *a,
		    const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	enum mg_interp m;
	int rc = mg_op_infer_spatial(&in[0], op, e);
	if (rc || (rc = check(a, in[0].rank < 0 ? -1 : in[0].rank - 1, &m, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	return 0;
}

int mg_interp_barrier(mg_interp_check_fn *check, const struct mg_attr *a)
{
	enum mg_interp m;
	struct mg_err e = {0};
	return check(a, -1, &m, &e) || mg_interp_is_axiswise(m);
}

void mg_grid_scale(struct mg_grid *g, const int64_t out_shape[3], enum mg_interp m,
		   int align_corners)
{
	double s[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	int same = 1;
	for (int i = 0; i < g->sdim; i++)
		same &= out_shape[i] == g->in_shape[i];
	/* transforms/utils.py scale_affine(in, out, centered=True, align_corners) */
	for (int i = 0; i < g->sdim && !same; i++) {
		double o = (double)g->in_shape[i], n = (double)out_shape[i];
		if (align_corners) {
			s[i][i] = n == 1 ? 0.0 : (o - 1) / (n - 1);
		} else {
			s[i][i] = o / (n > 1 ? n : 1);
			s[i][3] = (s[i][i] - 1) / 2;
		}
	}
	mg_grid_map(g, s);
	memcpy(g->out_shape, out_shape, sizeof g->out_shape);
	g->mode = m;
	g->padding = MG_PAD_BORDER;
	g->align_corners = 0; /* the map is exact; no grid_sample size-1 quirk applies */
}
