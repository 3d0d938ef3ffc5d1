/* Op: Rotate90
 * Synopsis: rotate by k quarter turns in the plane of two spatial axes (torch.rot90); a view.
 * MONAI: monai.transforms.Rotate90(d)
 * Gradient: none yet (a rotation's adjoint is the opposite rotation).  Inverse: Rotate90
 * with k' = 4 - k on the same spatial_axes.
 *
 * MONAI 1.6.1 (transforms/spatial/array.py Rotate90, functional.py rotate90): k is taken
 * mod 4 (Python's mod: -1 is 3); spatial_axes (a0, a1) are spatial indices, negative ones
 * counting from the end; the data is torch.rot90(img, k, (a0 + 1, a1 + 1)), which for
 * k = 1 is flip along a1 then swap a0 and a1: output voxel o reads input voxel
 *   k = 1: in[a0] = o[a1],            in[a1] = d[a1] - 1 - o[a0]
 *   k = 2: in[a0] = d[a0] - 1 - o[a0], in[a1] = d[a1] - 1 - o[a1]
 *   k = 3: in[a0] = d[a0] - 1 - o[a1], in[a1] = o[a0]
 * and the other axes are untouched. MONAI builds the affine update as a rotation about the
 * image centre from cos/sin(pi/2) (exact up to ~1e-16 per entry) and gets the same map;
 * mgc uses the exact integer map, and the output affine is the input's times it.
 * The grid is index-only: mg_spatial_apply returns a strided view, dtype kept.
 * Refused as MONAI/torch refuse them: spatial_axes not of length 2, an axis outside
 * -sdim..sdim-1, and the same axis twice. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"k", MG_ATTR_INT, "1", 0, NULL, "number of quarter turns (taken mod 4)"},
	{"spatial_axes", MG_ATTR_INTS, "[0, 1]", 0, NULL,
	 "the two spatial axes of the rotation plane (0 = x; negative counts from the end)"},
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"},
};
enum { A_K, A_AXES, A_LAZY };

/* The plane (a0, a1) as non-negative axes of an sdim-D image. */
static int plane(const struct mg_attr *a, int sdim, int ax[2], struct mg_err *e)
{
	const struct mg_attr *s = &a[A_AXES];
	if (s->n != 2)
		return mg_err_set(e, MG_ERR_CONFIG, "Rotate90: spatial_axes must be 2 numbers "
				  "defining the rotation plane, got %d", s->n);
	for (int i = 0; i < 2; i++) {
		int64_t v = s->v.ints[i];
		if (v < -sdim || v >= sdim)
			return mg_err_set(e, MG_ERR_CONFIG, "Rotate90: spatial_axes entry %lld "
					  "is out of range for a %dD image (expected %d..%d)",
					  (long long)v, sdim, -sdim, sdim - 1);
		ax[i] = (int)(v < 0 ? v + sdim : v);
	}
	if (ax[0] == ax[1])
		return mg_err_set(e, MG_ERR_CONFIG, "Rotate90: spatial_axes names axis %d twice; "
				  "the rotation plane needs two different axes", ax[0]);
	return 0;
}

static int quarter_turns(const struct mg_attr *a)
{
	return (int)(((a[A_K].v.i % 4) + 4) % 4);
}

static int rotate90_grid(const struct mg_attr *a, const struct mg_tensor *in,
			 struct mg_grid *g, struct mg_err *e)
{
	int ax[2], rc;
	if ((rc = plane(a, g->sdim, ax, e)))
		return rc;
	int k = quarter_turns(a), a0 = ax[0], a1 = ax[1];
	double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	double d0 = (double)(g->in_shape[a0] - 1), d1 = (double)(g->in_shape[a1] - 1);
	/* rows are input axes, columns output axes (the table above) */
	m[a0][a0] = m[a1][a1] = 0;
	if (k == 0) {
		m[a0][a0] = m[a1][a1] = 1;
	} else if (k == 1) {
		m[a0][a1] = 1;
		m[a1][a0] = -1, m[a1][3] = d1;
	} else if (k == 2) {
		m[a0][a0] = -1, m[a0][3] = d0;
		m[a1][a1] = -1, m[a1][3] = d1;
	} else {
		m[a0][a1] = -1, m[a0][3] = d0;
		m[a1][a0] = 1;
	}
	if (k % 2) {
		g->out_shape[a0] = g->in_shape[a1];
		g->out_shape[a1] = g->in_shape[a0];
	}
	mg_grid_map(g, m);
	return 0;
}

extern const struct mg_opdef mg_op_rotate90;

static int rotate90(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return mg_spatial_apply(&mg_op_rotate90, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int ax[2], rc = mg_op_infer_spatial(&in[0], "Rotate90", e);
	if (rc)
		return rc;
	/* the length is known before the image: refuse it at build time */
	if (a[A_AXES].n != 2 && (rc = plane(a, 3, ax, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (in[0].rank < 0)
		return 0;
	if ((rc = plane(a, in[0].rank - 1, ax, e)))
		return rc;
	if (quarter_turns(a) % 2) {
		out[0].dims[1 + ax[0]] = in[0].dims[1 + ax[1]];
		out[0].dims[1 + ax[1]] = in[0].dims[1 + ax[0]];
	}
	return 0;
}

const struct mg_opdef mg_op_rotate90 = {
	.name = "Rotate90",
	.synopsis = "rotate by k quarter turns in the plane of two spatial axes (torch.rot90); "
		    "a view",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = rotate90,
	.grid = rotate90_grid,
};
