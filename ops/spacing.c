/* Op: Spacing
 * Synopsis: resample to a target voxel spacing (pixdim), keeping the field of view.
 * MONAI: monai.transforms.Spacing(d)
 * Gradient: none.  Inverse: Invertd resamples back to the source grid.
 *
 * The grid is MONAI 1.6.1's (transforms/spatial/array.py Spacing.__call__, data/utils.py
 * zoom_affine, compute_shape_offset, affine_to_spacing, transforms/spatial/functional.py
 * spatial_resample), all in double, on the (r+1)x(r+1) affine A that to_affine_nd(r, .)
 * makes of the image's affine (r = 2 or 3 spatial axes):
 *   1. target spacing: pixdim truncated to r, or padded by repeating its last value; the
 *      input spacing is A's column norms (0 -> 1); an axis keeps its input spacing when
 *      min - 1e-3 <= in <= max + 1e-3, where min/max are min(min_pixdim, pixdim) and
 *      max(max_pixdim, pixdim), either being pixdim itself when not given (so by default
 *      "within 1e-3 of the target"). min/max_pixdim are not padded: a single number
 *      applies to axis 0 only, as in MONAI. Entries <= 0 keep the input spacing.
 *   2. zoom_affine: diagonal=true gives diag(spacing); else the Cholesky factor ZS of
 *      RZS^T RZS (upper, positive diagonal) gives rot = RZS ZS^-1 and the new matrix
 *      rot diag(spacing): rotation and handedness kept, shear dropped.
 *   3. compute_shape_offset: the input's voxel-centre corners ({0, d-1}; {-0.5, d-0.5}
 *      with scale_extent) go through solve(new, A); the shape is round-half-even of their
 *      extent + 1 (extent alone with scale_extent). The new origin is the world position
 *      of the first corner (numpy's meshgrid order) that is smallest on every axis
 *      (within 1e-8); when none is, the centres are aligned instead, with MONAI's
 *      A (shape/2) - new (out_shape/2) formula. scale_extent then replaces the offset's
 *      magnitudes by |A (0.5 (shape/out_shape - 1))|, keeping its signs.
 *   4. out_to_in = solve(A, new). When the output shape equals the input's and A ~ new
 *      or out_to_in ~ identity (numpy allclose, atol 1e-3, rtol 1e-5), MONAI returns the
 *      input unchanged, affine included: the grid is then exactly the identity.
 *      Otherwise the output affine is the image's 4x4 affine times out_to_in (for 2D the
 *      image's z row and column carry through, as MetaTensor's affine update does).
 *   5. recompute_affine: MONAI 1.6.1 then *replaces* the affine with
 *      scale_affine(in_shape, out_shape, align_corners) alone (a pure scale with a
 *      centring shift: the world position is lost). Reproduced as is.
 * The output is float32 whatever happens, as MONAI's: an index-only grid (identity, or a
 * flip from diagonal=true) comes back from mg_spatial_apply as a view of the input, and
 * the kernel converts that to float32 when the input is another dtype.
 * Known deviations: `dtype` (MONAI's compute dtype) is accepted, but mgc always computes
 * in float64 (MONAI's default; float32 compute in MONAI differs by float32 rounding of the
 * grid); mode as a spline order (an integer: MONAI's scipy path) is not supported; a NaN
 * pixdim (MONAI: keep the input spacing) is an error, as JSON has no NaN; Spacingd's
 * ensure_same_shape (forcing a second key to the first key's output shape when their
 * shapes and pixdims agree within 1e-3) is not applied: each key gets its own grid,
 * which differs only when the keys' affines differ slightly. */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"pixdim", MG_ATTR_FLOATS, NULL, 0, NULL,
	 "output voxel spacing per spatial axis; a short list repeats its last value, "
	 "entries <= 0 keep the input's spacing"},
	{"diagonal", MG_ATTR_BOOL, "false", 0, NULL,
	 "resample to the diagonal affine diag(pixdim): drops rotation, may flip axes"},
	{"mode", MG_ATTR_STR, "\"bilinear\"",
	 MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE | MG_ATTRF_INT_OK, "nearest|bilinear|bicubic",
	 "interpolation (bicubic: tricubic on 3D images); spline orders (integers) are not "
	 "supported"},
	{"padding_mode", MG_ATTR_STR, "\"border\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE,
	 "zeros|border|reflection", "values outside the input"},
	{"align_corners", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "torch grid_sample's align_corners (changes reflection padding and recompute_affine)"},
	{"dtype", MG_ATTR_DTYPE, "\"float64\"", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "compute dtype in MONAI; mgc always computes in float64; the output is float32"},
	{"scale_extent", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "size the output by the voxels' full extent instead of their centres"},
	{"recompute_affine", MG_ATTR_BOOL, "false", 0, NULL,
	 "replace the output affine by MONAI's scale_affine(in_shape, out_shape)"},
	{"min_pixdim", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "per axis: an input spacing in [min_pixdim, pixdim] is kept (one number: axis 0)"},
	{"max_pixdim", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "per axis: an input spacing in [pixdim, max_pixdim] is kept (one number: axis 0)"},
};
enum { A_PIXDIM, A_DIAG, A_MODE, A_PAD, A_ALIGN, A_DTYPE, A_EXTENT, A_RECOMP, A_MIN, A_MAX };

#define AFFINE_TOL 1e-3 /* MONAI's data/utils.py AFFINE_TOL */

/* ---- arguments ------------------------------------------------------------------------ */

static int finite_list(const struct mg_attr *a, const char *name, struct mg_err *e)
{
	for (int i = 0; !a->is_none && i < a->n; i++)
		if (!isfinite(a->v.floats[i]))
			return mg_err_set(e, MG_ERR_CONFIG, "Spacing: argument '%s' has %g at %d; "
					  "expected finite numbers", name, a->v.floats[i], i);
	return 0;
}

/* Everything that can be checked without the image; infer and the kernel both call it. */
static int check_args(const struct mg_attr *a, struct mg_err *e)
{
	int rc;
	if (a[A_PIXDIM].is_none || a[A_PIXDIM].n == 0)
		return mg_err_set(e, MG_ERR_CONFIG, "Spacing: argument 'pixdim' is empty; expected "
				  "a number or a list of numbers");
	if ((rc = finite_list(&a[A_PIXDIM], "pixdim", e)) ||
	    (rc = finite_list(&a[A_MIN], "min_pixdim", e)) ||
	    (rc = finite_list(&a[A_MAX], "max_pixdim", e)))
		return rc;
	/* Spacing.__init__: pairwise over the shorter list */
	for (int i = 0; !a[A_MIN].is_none && !a[A_MAX].is_none && i < a[A_MIN].n &&
			i < a[A_MAX].n; i++) {
		double mn = a[A_MIN].v.floats[i], mx = a[A_MAX].v.floats[i];
		if (mx < mn || mn < 0)
			return mg_err_set(e, MG_ERR_CONFIG, "Spacing: 'min_pixdim' (%g at %d) must "
					  "be >= 0 and <= 'max_pixdim' (%g)", mn, i, mx);
	}
	const char *m = a[A_MODE].is_none ? "bilinear" : a[A_MODE].v.s;
	if (strcmp(m, "nearest") && strcmp(m, "bilinear") && strcmp(m, "bicubic"))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "Spacing: argument 'mode' is %s: spline "
				  "orders (MONAI's scipy path) are not supported; use \"nearest\", "
				  "\"bilinear\" or \"bicubic\"", m);
	if (!a[A_PAD].is_none && mg_pad_parse(a[A_PAD].v.s) < 0)
		return mg_err_set(e, MG_ERR_CONFIG, "Spacing: argument 'padding_mode' is \"%s\"; "
				  "expected zeros, border or reflection", a[A_PAD].v.s);
	return 0;
}

static int flag(const struct mg_attr *a)
{
	return !a->is_none && a->v.i;
}

/* ---- small dense linear algebra on n x n blocks of 4x4 arrays (n <= 4) ------------------- */

/* x = a^-1 b (numpy.linalg.solve: LU with partial pivoting). -1 when a is singular. */
static int solve(int n, const double a[4][4], const double b[4][4], double x[4][4])
{
	double m[4][4], r[4][4];
	memcpy(m, a, sizeof m);
	memcpy(r, b, sizeof r);
	for (int c = 0; c < n; c++) {
		int p = c;
		for (int i = c + 1; i < n; i++)
			if (fabs(m[i][c]) > fabs(m[p][c]))
				p = i;
		if (m[p][c] == 0 || !isfinite(m[p][c]))
			return -1;
		for (int j = 0; j < n; j++) {
			double t = m[c][j];
			m[c][j] = m[p][j], m[p][j] = t;
			t = r[c][j];
			r[c][j] = r[p][j], r[p][j] = t;
		}
		for (int i = c + 1; i < n; i++) {
			double f = m[i][c] / m[c][c];
			for (int j = c; j < n; j++)
				m[i][j] -= f * m[c][j];
			for (int j = 0; j < n; j++)
				r[i][j] -= f * r[c][j];
		}
	}
	for (int i = n - 1; i >= 0; i--)
		for (int j = 0; j < n; j++) {
			double s = r[i][j];
			for (int k = i + 1; k < n; k++)
				s -= m[i][k] * x[k][j];
			x[i][j] = s / m[i][i];
		}
	return 0;
}

/* numpy.allclose(a, b, rtol=1e-5, atol): |a - b| <= atol + rtol |b| everywhere. */
static int allclose(int n, const double a[4][4], const double b[4][4], double atol)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (!(fabs(a[i][j] - b[i][j]) <= atol + 1e-5 * fabs(b[i][j])))
				return 0;
	return 1;
}

/* to_affine_nd(r, a4): the (r+1)x(r+1) affine of r spatial axes (translation last). */
static void affine_nd(int r, const double a4[4][4], double a[4][4])
{
	memset(a, 0, 16 * sizeof(double));
	for (int i = 0; i < r; i++) {
		for (int j = 0; j < r; j++)
			a[i][j] = a4[i][j];
		a[i][r] = a4[i][3];
	}
	a[r][r] = 1;
}

/* The inverse: an (r+1)x(r+1) affine as a 4x4 one (identity on the missing axis). */
static void affine_4(int r, const double a[4][4], double a4[4][4])
{
	double t[4][4] = {{0}};
	for (int i = 0; i < 4; i++)
		t[i][i] = 1;
	for (int i = 0; i < r; i++) {
		for (int j = 0; j < r; j++)
			t[i][j] = a[i][j];
		t[i][3] = a[i][r];
	}
	memcpy(a4, t, sizeof t);
}

/* affine_to_spacing: column norms of the spatial block, zeros suppressed to 1. */
static void spacing_of(int r, const double a[4][4], double *d)
{
	for (int j = 0; j < r; j++) {
		double s = 0;
		for (int i = 0; i < r; i++)
			s += a[i][j] * a[i][j];
		d[j] = s == 0 ? 1 : sqrt(s);
	}
}

/* ---- MONAI's steps ----------------------------------------------------------------------- */

/* Step 1: the target spacing out[r] from pixdim, min_pixdim and max_pixdim. */
static void target_spacing(const struct mg_attr *a, int r, const double *in_d, double *out)
{
	const struct mg_attr *p = &a[A_PIXDIM], *mn = &a[A_MIN], *mx = &a[A_MAX];
	for (int i = 0; i < r; i++) {
		double t = p->v.floats[i < p->n ? i : p->n - 1];
		double lo = t, hi = t;
		/* Python's min(mn, t) / max(mx, t); absent entries are NaN: the target itself */
		if (!mn->is_none && i < mn->n && !(t < mn->v.floats[i]))
			lo = mn->v.floats[i];
		if (!mx->is_none && i < mx->n && !(t > mx->v.floats[i]))
			hi = mx->v.floats[i];
		out[i] = lo - AFFINE_TOL <= in_d[i] && in_d[i] <= hi + AFFINE_TOL ? in_d[i] : t;
	}
}

/* Step 2, zoom_affine(a, scale, diagonal): the new affine's matrix (translation 0). */
static int zoom_affine(int r, const double a[4][4], const double *scale, int diagonal,
		       double z[4][4], struct mg_err *e)
{
	double norm[3], s[3];
	spacing_of(r, a, norm);
	for (int i = 0; i < r; i++) /* fall_back_tuple: non-positive -> the input's */
		s[i] = scale[i] > 0 ? scale[i] : norm[i];
	memset(z, 0, 16 * sizeof(double));
	z[r][r] = 1;
	if (diagonal) {
		for (int i = 0; i < r; i++)
			z[i][i] = s[i];
		return 0;
	}
	/* Cholesky of G = RZS^T RZS = L L^T; ZS = L^T (upper, positive diagonal) */
	double g[3][3], l[3][3] = {{0}};
	for (int i = 0; i < r; i++)
		for (int j = 0; j < r; j++) {
			g[i][j] = 0;
			for (int k = 0; k < r; k++)
				g[i][j] += a[k][i] * a[k][j];
		}
	for (int j = 0; j < r; j++) {
		double d = g[j][j];
		for (int k = 0; k < j; k++)
			d -= l[j][k] * l[j][k];
		if (!(d > 0))
			return mg_err_set(e, MG_ERR_FORMAT,
					  "Spacing: the image's affine is singular (its "
					  "rotation-zoom block has no Cholesky factor)");
		l[j][j] = sqrt(d);
		for (int i = j + 1; i < r; i++) {
			double v = g[i][j];
			for (int k = 0; k < j; k++)
				v -= l[i][k] * l[j][k];
			l[i][j] = v / l[j][j];
		}
	}
	/* inv(ZS) = inv(L)^T: forward substitution for inv(L) */
	double li[3][3] = {{0}};
	for (int c = 0; c < r; c++)
		for (int i = c; i < r; i++) {
			double v = i == c ? 1 : 0;
			for (int k = c; k < i; k++)
				v -= l[i][k] * li[k][c];
			li[i][c] = v / l[i][i];
		}
	/* rot = RZS inv(ZS); new = rot diag(sign(diag ZS) |s|), and diag ZS > 0 */
	for (int i = 0; i < r; i++)
		for (int j = 0; j < r; j++) {
			double v = 0;
			for (int k = 0; k < r; k++)
				v += a[i][k] * li[j][k];
			z[i][j] = v * fabs(s[j]);
		}
	return 0;
}

/* Step 3, compute_shape_offset(in_shape, a, z, scale_extent): the output shape and the
 * new affine's translation, written into z. */
static int shape_offset(int r, const int64_t *in_shape, const double a[4][4], double z[4][4],
			int scale_extent, int64_t *out_shape, struct mg_err *e)
{
	double m[4][4];
	if (solve(r + 1, z, a, m))
		return mg_err_set(e, MG_ERR_FORMAT, "Spacing: the new affine is singular");
	int nc = 1 << r;
	double dist[3][8], world[3][8], lo[3] = {0}, hi[3] = {0};
	for (int c = 0; c < nc; c++) {
		double p[4];
		/* numpy.meshgrid(indexing="ij").reshape: the last axis varies fastest */
		for (int k = 0; k < r; k++) {
			int top = (c >> (r - 1 - k)) & 1;
			double d = (double)in_shape[k];
			p[k] = scale_extent ? (top ? d - 0.5 : -0.5) : (top ? d - 1 : 0);
		}
		p[r] = 1;
		double w = 0;
		for (int j = 0; j <= r; j++)
			w += m[r][j] * p[j];
		for (int k = 0; k < r; k++) {
			double v = 0, x = 0;
			for (int j = 0; j <= r; j++) {
				v += m[k][j] * p[j];
				x += a[k][j] * p[j];
			}
			dist[k][c] = v;
			world[k][c] = x;
			double o = v / w;
			lo[k] = c == 0 || o < lo[k] ? o : lo[k];
			hi[k] = c == 0 || o > hi[k] ? o : hi[k];
		}
	}
	for (int k = 0; k < r; k++) {
		/* numpy.round: half to even, as nearbyint in the default rounding mode */
		double n = nearbyint(hi[k] - lo[k] + (scale_extent ? 0.0 : 1.0));
		if (!(n >= 1 && n < 1e12))
			return mg_err_set(e, MG_ERR_SHAPE,
					  "Spacing: the output would have %g voxels on axis %d",
					  n, k);
		out_shape[k] = (int64_t)n;
	}
	double off[3];
	int found = 0;
	for (int c = 0; c < nc && !found; c++) {
		/* np.allclose(min_corner, 0, rtol=1e-3): only numpy's atol 1e-8 counts */
		found = 1;
		for (int k = 0; k < r && found; k++) {
			double mn = 0;
			for (int j = 0; j < nc; j++)
				mn = fmin(mn, dist[k][j] - dist[k][c]);
			found = fabs(mn) <= 1e-8;
		}
		for (int k = 0; k < r && found; k++)
			off[k] = world[k][c];
	}
	if (!found) /* centre alignment, MONAI's formula (shape/2, not (shape-1)/2) */
		for (int k = 0; k < r; k++) {
			off[k] = a[k][r];
			for (int j = 0; j < r; j++)
				off[k] += a[k][j] * ((double)in_shape[j] / 2) -
					  z[k][j] * ((double)out_shape[j] / 2);
		}
	if (scale_extent) {
		double q[4];
		for (int j = 0; j < r; j++)
			q[j] = 0.5 * ((double)in_shape[j] / (double)out_shape[j] - 1.0);
		q[r] = 1;
		for (int k = 0; k < r; k++) {
			double v = 0;
			for (int j = 0; j <= r; j++)
				v += a[k][j] * q[j];
			/* np.sign: 0 stays 0 */
			off[k] = fabs(v) * (off[k] > 0 ? 1.0 : off[k] < 0 ? -1.0 : 0.0);
		}
	}
	for (int k = 0; k < r; k++)
		z[k][r] = off[k];
	return 0;
}

/* Step 5, scale_affine(in_shape, out_shape, centered=True, align_corners). */
static void scale_affine(int r, const int64_t *in, const int64_t *out, int align,
			 double s[4][4])
{
	memset(s, 0, 16 * sizeof(double));
	s[r][r] = 1;
	for (int i = 0; i < r; i++) {
		double o = (double)in[i], n = (double)out[i];
		if (align) {
			s[i][i] = n == 1 ? 0.0 : (o - 1) / (n - 1);
		} else {
			s[i][i] = o / (n > 1 ? n : 1);
			s[i][r] = (s[i][i] - 1) / 2;
		}
	}
}

static int spacing_grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
			struct mg_err *e)
{
	int rc = check_args(a, e);
	if (rc)
		return rc;
	int r = g->sdim;
	g->mode = (enum mg_interp)mg_interp_parse(a[A_MODE].is_none ? "bilinear" : a[A_MODE].v.s);
	g->padding = a[A_PAD].is_none ? MG_PAD_BORDER : (enum mg_pad)mg_pad_parse(a[A_PAD].v.s);
	g->align_corners = flag(&a[A_ALIGN]);
	double A[4][4], z[4][4], x[4][4], in_d[3], out_d[3];
	affine_nd(r, g->affine, A);
	spacing_of(r, A, in_d);
	target_spacing(a, r, in_d, out_d);
	if ((rc = zoom_affine(r, A, out_d, flag(&a[A_DIAG]), z, e)))
		return rc;
	int64_t shape[3] = {1, 1, 1};
	if ((rc = shape_offset(r, g->in_shape, A, z, flag(&a[A_EXTENT]), shape, e)))
		return rc;
	if (solve(r + 1, A, z, x))
		return mg_err_set(e, MG_ERR_FORMAT, "Spacing: the image's affine is singular");
	int same = 1;
	for (int i = 0; i < r; i++)
		same &= shape[i] == g->in_shape[i];
	double eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	/* spatial_resample's affine_unchanged: the input comes back as is, affine and all */
	if (!(same && (allclose(r + 1, A, z, AFFINE_TOL) || allclose(r + 1, x, eye, AFFINE_TOL)))) {
		double x4[4][4];
		affine_4(r, x, x4);
		memcpy(g->out_to_in, x4, sizeof x4);
		memcpy(g->out_shape, shape, sizeof shape);
		/* MetaTensor: affine = affine @ to_affine_nd(3, xform) */
		mg_affine_mul(g->affine, x4, g->affine);
	}
	if (flag(&a[A_RECOMP])) {
		double s[4][4];
		scale_affine(r, g->in_shape, g->out_shape, g->align_corners, s);
		affine_4(r, s, g->affine);
	}
	return 0;
}

extern const struct mg_opdef mg_op_spacing;

static int spacing(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		   struct mg_kctx *k)
{
	/* float32 also when the grid is index-only (identity, or a flip from diagonal=true) */
	return mg_spatial_apply_f32(&mg_op_spacing, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_spatial(&in[0], "Spacing", e);
	if (rc || (rc = check_args(a, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	/* the spatial shape depends on the image's affine, known only at run time */
	for (int i = 1; i < out[0].rank; i++)
		out[0].dims[i] = -1;
	return 0;
}

const struct mg_opdef mg_op_spacing = {
	.name = "Spacing",
	.synopsis = "resample to a target voxel spacing (pixdim), keeping the field of view",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = spacing,
	.grid = spacing_grid,
};
