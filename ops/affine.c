/* Op: Affine
 * Synopsis: rotate, shear, translate and scale about the image centre (or apply a matrix); resamples.
 * MONAI: monai.transforms.Affine(d)
 * Gradient: none.  Inverse: Affine with the inverse matrix and the input's size (later).
 *
 * MONAI 1.6.1 (transforms/spatial/array.py AffineGrid, Resample, Affine; functional.py
 * affine_func), for an image of r = 2 or 3 spatial axes, input size din, output size
 * dout = spatial_size (fall_back_tuple: null, one number for every axis, or one per axis;
 * entries <= 0 keep the input's):
 *   1. M, (r+1)x(r+1): `affine` when given (to_affine_nd(r, .): its top-left block and
 *      translation column; rounded to float32 unless dtype is float64, as the grid's
 *      dtype makes it), else eye @ create_rotate @ create_shear @ create_translate @
 *      create_scale, each factor present only when its parameters are, built by torch in
 *      float32 whatever dtype says: rotate_params (2D: the first angle; 3D: one angle per
 *      letter of rotate_order), shear_params (padded with 0 / cut to 2 or 6 coefficients,
 *      composed from single-axis shears, the first applied first), translate_params (the
 *      first r entries, in voxels), scale_params (padded with 1 / cut to r).
 *   2. The grid: output voxel o is at c = o - (dout - 1)/2 (times max(dout, 2) /
 *      (max(dout, 2) - 1) per axis when align_corners), p = M (c, 1) (M's last row is
 *      ignored). Resample divides p by max(din, 2)/2 (not when `normalized`: then p is
 *      the normalised coordinate itself) and grid_sample takes that back to an input
 *      index with the align_corners it is given: ((g + 1) din - 1)/2, or (g + 1)(din - 1)/2
 *      when align_corners. Every step is affine per axis, so out_to_in is M with those
 *      scalings and shifts folded in (docs/transforms.md: transforms.Resample). Output
 *      axes of size 1 always sit at c = 0, so their column is dropped (the resampler's
 *      align_corners rule for size-1 axes is SpatialResample's, not this one's).
 *   3. The output affine is the input's times compute_w_affine(M, din, dout) =
 *      translate((din - 1)/2) M translate(-(dout - 1)/2): affine_func passes no
 *      align_corners, so with align_corners=True the written affine is not where the
 *      voxels were sampled from (reproduced as MONAI writes it).
 * Output float32 (an index-only map, such as an integer translation, is an exact copy
 * converted). mgc samples in float64 from the float32 M; MONAI's default dtype float32
 * also computes the grid and the interpolation in float32 (conformance tolerances in
 * tests/test_conformance_affine.c).
 * Refused as MONAI refuses them: an `affine` that is not square 3x3 or 4x4, a spatial_size
 * of another length, rotate_order errors, more angles than rotate_order has letters.
 * Refused though MONAI takes them: spline orders as mode (scipy), dtypes other than
 * float32 and float64. image_only and lazy are accepted and change nothing (one output,
 * the matrix is in the meta). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"rotate_params", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "rotation in radians: one angle for 2D, up to 3 (one per rotate_order letter) for 3D"},
	{"shear_params", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "shear coefficients: 2 for 2D, 6 for 3D (missing ones are 0)"},
	{"translate_params", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "translation in voxels per spatial axis (missing ones are 0)"},
	{"scale_params", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "scale per spatial axis (missing ones are 1; a single number scales axis 0 only)"},
	{"affine", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE | MG_ATTRF_MATRIX, NULL,
	 "a 3x3 or 4x4 matrix (rows) used instead of the parameters, about the image centre"},
	{"spatial_size", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "output spatial size: one number or one per axis; null or entries <= 0 keep the input's"},
	{"mode", MG_ATTR_STR, "\"bilinear\"", MG_ATTRF_PERKEY, "nearest|bilinear|bicubic",
	 "interpolation; spline orders (integers) are not supported"},
	{"padding_mode", MG_ATTR_STR, "\"reflection\"", MG_ATTRF_PERKEY,
	 "zeros|border|reflection", "values outside the input"},
	{"normalized", MG_ATTR_BOOL, "false", 0, NULL,
	 "the matrix maps to torch's normalised [-1, 1] input coordinates"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", 0, NULL,
	 "MONAI's compute dtype (float32 or float64); mgc computes in float64, the output is "
	 "float32"},
	{"align_corners", MG_ATTR_BOOL, "false", 0, NULL, "torch grid_sample's align_corners"},
	{"image_only", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted; mgc always returns the image alone (the matrix is in its affine)"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
	{"rotate_order", MG_ATTR_STR, "\"XYZ\"", 0, NULL,
	 "3D: the axes rotate_params turn about, scipy's Euler convention (upper case "
	 "intrinsic, lower case extrinsic)"},
};
enum { A_ROT, A_SHEAR, A_TRANS, A_SCALE, A_AFFINE, A_SIZE, A_MODE, A_PAD, A_NORM, A_DTYPE,
       A_ALIGN, A_IMAGE_ONLY, A_LAZY, A_ORDER };

static int given(const struct mg_attr *a)
{
	return !a->is_none && a->n > 0;
}

/* What can be checked knowing only the number of spatial axes (0: not known yet). */
static int check_args(const struct mg_attr *a, int sdim, struct mg_err *e)
{
	if (a[A_DTYPE].v.i != MG_DTYPE_F32 && a[A_DTYPE].v.i != MG_DTYPE_F64)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "Affine: dtype %s is not supported "
				  "(float32 or float64)", mg_dtype_name((int)a[A_DTYPE].v.i));
	if (given(&a[A_AFFINE]) && a[A_AFFINE].n != 9 && a[A_AFFINE].n != 16)
		return mg_err_set(e, MG_ERR_CONFIG, "Affine: argument 'affine' has %d numbers; "
				  "expected a square 3x3 or 4x4 matrix", a[A_AFFINE].n);
	const struct mg_attr *s = &a[A_SIZE];
	if (sdim && !s->is_none && s->n != 1 && s->n != sdim)
		return mg_err_set(e, MG_ERR_CONFIG, "Affine: spatial_size has %d entries for a %dD "
				  "image (expected 1 or %d)", s->n, sdim, sdim);
	if (given(&a[A_ROT]) && !given(&a[A_AFFINE])) {
		double r[4][4];
		/* the order's checks depend on the angles, not on the image */
		return mg_create_rotate("Affine", sdim ? sdim : 3, a[A_ROT].v.floats, a[A_ROT].n,
					a[A_ORDER].v.s, 1, r, e);
	}
	return 0;
}

static double f32(double x)
{
	return (double)(float)x;
}

/* Step 1: M in the top-left (r+1)x(r+1) block of m (translation in column r). */
static int matrix(const struct mg_attr *a, int r, double m[4][4], struct mg_err *e)
{
	static const double eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	memcpy(m, eye, sizeof eye);
	if (given(&a[A_AFFINE])) {
		/* to_affine_nd(r, A): A's top-left block (up to r) and its translation column */
		int k = a[A_AFFINE].n == 9 ? 3 : 4, d = k - 1 < r ? k - 1 : r;
		const double *v = a[A_AFFINE].v.floats;
		int round = a[A_DTYPE].v.i == MG_DTYPE_F32;
		for (int i = 0; i < d; i++) {
			for (int j = 0; j < d; j++)
				m[i][j] = round ? f32(v[i * k + j]) : v[i * k + j];
			m[i][r] = round ? f32(v[i * k + k - 1]) : v[i * k + k - 1];
		}
		return 0;
	}
	double f[4][4];
	if (given(&a[A_ROT])) {
		int rc = mg_create_rotate("Affine", r, a[A_ROT].v.floats, a[A_ROT].n,
					  a[A_ORDER].v.s, 1, f, e);
		if (rc)
			return rc;
		mg_mat4_mul(1, m, f, m);
	}
	if (given(&a[A_SHEAR])) {
		/* _create_shear: (i, j) pairs in coefficient order, each pre-multiplied */
		static const int pairs[2][6][2] = {{{0, 1}, {1, 0}},
						   {{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}}};
		int nc = r == 2 ? 2 : 6;
		double sh[4][4];
		memcpy(sh, eye, sizeof eye);
		for (int c = 0; c < nc; c++) {
			memcpy(f, eye, sizeof eye);
			f[pairs[r - 2][c][0]][pairs[r - 2][c][1]] =
				c < a[A_SHEAR].n ? f32(a[A_SHEAR].v.floats[c]) : 0;
			mg_mat4_mul(1, f, sh, sh);
		}
		mg_mat4_mul(1, m, sh, m);
	}
	if (given(&a[A_TRANS])) {
		memcpy(f, eye, sizeof eye);
		for (int i = 0; i < r && i < a[A_TRANS].n; i++)
			f[i][r] = f32(a[A_TRANS].v.floats[i]);
		mg_mat4_mul(1, m, f, m);
	}
	if (given(&a[A_SCALE])) {
		memcpy(f, eye, sizeof eye);
		for (int i = 0; i < r && i < a[A_SCALE].n; i++)
			f[i][i] = f32(a[A_SCALE].v.floats[i]);
		mg_mat4_mul(1, m, f, m);
	}
	return 0;
}

static int affine_grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		       struct mg_err *e)
{
	(void)in;
	int r = g->sdim, rc = check_args(a, r, e);
	if (rc)
		return rc;
	double m[4][4];
	if ((rc = matrix(a, r, m, e)))
		return rc;
	const struct mg_attr *ss = &a[A_SIZE];
	double din[3], dout[3];
	for (int i = 0; i < r; i++) {
		int64_t s = ss->is_none ? 0 : ss->v.ints[ss->n == 1 ? 0 : i];
		g->out_shape[i] = s > 0 ? s : g->in_shape[i];
		din[i] = (double)g->in_shape[i];
		dout[i] = (double)g->out_shape[i];
	}
	int ac = (int)a[A_ALIGN].v.i, norm = !a[A_NORM].v.i;
	g->mode = (enum mg_interp)mg_interp_parse(a[A_MODE].v.s);
	g->padding = (enum mg_pad)mg_pad_parse(a[A_PAD].v.s);
	g->align_corners = ac;
	/* Step 2, per input axis i: x_i = alpha_i p_i + beta_i, p = M (S (o - (dout-1)/2), 1) */
	double x[4][4] = {{0}};
	x[3][3] = 1;
	for (int i = 0; i < r; i++) {
		double k = norm ? 2.0 / fmax(din[i], 2.0) : 1.0;
		double alpha = (ac ? (din[i] - 1) / 2 : din[i] / 2) * k, beta = (din[i] - 1) / 2;
		double t = m[i][r];
		for (int j = 0; j < r; j++) {
			double s = ac ? fmax(dout[j], 2.0) / (fmax(dout[j], 2.0) - 1) : 1.0;
			x[i][j] = dout[j] == 1 ? 0 : alpha * m[i][j] * s;
			t -= m[i][j] * s * (dout[j] - 1) / 2;
		}
		x[i][3] = alpha * t + beta;
	}
	/* Step 3: translate((din-1)/2) M translate(-(dout-1)/2), as a 4x4 */
	double w[4][4] = {{0}};
	for (int i = 0; i < 4; i++)
		w[i][i] = 1;
	for (int i = 0; i < r; i++) {
		double t = m[i][r] + (din[i] - 1) / 2;
		for (int j = 0; j < r; j++) {
			w[i][j] = m[i][j];
			t -= m[i][j] * (dout[j] - 1) / 2;
		}
		w[i][3] = t;
	}
	mg_grid_map(g, w);
	memcpy(g->out_to_in, x, sizeof x);
	return 0;
}

extern const struct mg_opdef mg_op_affine;

static int affine_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	return mg_spatial_apply_f32(&mg_op_affine, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_spatial(&in[0], "Affine", e);
	int sdim = in[0].rank < 0 ? 0 : in[0].rank - 1;
	if (rc || (rc = check_args(a, sdim, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = MG_DTYPE_F32;
	const struct mg_attr *ss = &a[A_SIZE];
	for (int i = 0; i < sdim && !ss->is_none; i++) {
		int64_t s = ss->v.ints[ss->n == 1 ? 0 : i];
		if (s > 0)
			out[0].dims[1 + i] = s;
	}
	return 0;
}

const struct mg_opdef mg_op_affine = {
	.name = "Affine",
	.synopsis = "rotate, shear, translate and scale about the image centre (or apply a "
		    "matrix); resamples",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = affine_ref,
	.grid = affine_grid,
};
