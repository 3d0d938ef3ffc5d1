/* Op: Invert
 * Synopsis: undo the recorded spatial operations: one resampling onto the original grid
 * MONAI: monai.transforms.Invertd (dict form only in MONAI; post transforms)
 * Gradient: none.  Inverse: none.
 *
 * MONAI's Invertd copies orig_key's applied_operations and metadata onto the key's
 * value, then runs the preprocessing Compose's inverse: each recorded spatial op is
 * undone in reverse order (a pad by a crop, a crop by a zero pad, a resampling by the
 * resampling back with the recorded mode and padding, nearest when nearest_interp).
 * mgc reads the same record (every entry holds the op's grid: struct mg_applied) and
 * composes the inverses into ONE map onto the grid the first entry read (its shape and
 * affine: the image as loaded): from original voxel o it reads current voxel
 * (A_0 A_1 ... A_{n-1})^-1 o, A_i entry i's out_to_in. Index-only chains (crops, pads,
 * flips, Orientation, Rotate90) invert exactly: a view, or a copy with zeros where the
 * forward chain cropped. Otherwise one resampling (float32): nearest when
 * nearest_interp, else the mode and align_corners of the first entry that interpolates
 * (the last inverse MONAI applies); the padding is zeros when an entry cropped (MONAI
 * pads its inverse with zeros), else that entry's padding. With a single interpolating
 * entry this equals MONAI's sequence of inverses, except beyond the edges of that
 * entry's output grid when a crop reached them (MONAI clamps a zero-padded image there
 * with border padding; mgc reads zeros). The output's metadata is orig_key's, with the
 * first entry's input affine and no applied entries left (all are inverted).
 * Deviations: orig_keys naming a key the item lacks is an error (MONAI warns and leaves
 * the key as it is); a value with no recorded operations is an error (MONAI's inverse
 * of a spatial transform fails too; a Compose with no invertible transform would be a
 * no-op); the key's spatial shape must be the one the last entry produced; transform
 * is accepted and not read (mgc inverts what the image records, which is what that
 * Compose applied). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"transform", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_IGNORED, NULL,
	 "the preprocessing Compose (accepted, not read: mgc inverts the operations the "
	 "image records)"},
	{"orig_keys", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_PERKEY | MG_ATTRF_KEY,
	 NULL, "the key whose recorded operations and metadata are inverted (one per key); "
	 "null: the key itself"},
	{"orig_meta_keys", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_PERKEY, NULL,
	 "accepted: in mgc the metadata travels with the image"},
	{"nearest_interp", MG_ATTR_BOOL, "true", MG_ATTRF_PERKEY, NULL,
	 "resample with nearest (else with the recorded op's mode)"},
	{"to_tensor", MG_ATTR_BOOL, "true", MG_ATTRF_PERKEY, NULL,
	 "accepted: the result is always an image"},
	{"device", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_PERKEY, NULL,
	 "null or \"cpu\" only"},
	{"post_func", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE, NULL,
	 "must be null (a Python callable)"},
};
enum { A_TRANSFORM, A_ORIG, A_ORIG_META, A_NEAREST, A_TO_TENSOR, A_DEVICE, A_POST };

static int check(const struct mg_attr *a, struct mg_err *e)
{
	if (!a[A_DEVICE].is_none && strcmp(a[A_DEVICE].v.s, "cpu"))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "Invert: device '%s' is not supported "
				  "(null or \"cpu\")", a[A_DEVICE].v.s);
	if (!a[A_POST].is_none)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "Invert: post_func '%s' is not supported "
				  "(mgc cannot call a Python function; add the transform after "
				  "Invertd instead)", a[A_POST].v.s);
	return 0;
}

/* 1 when entry g reads only part of its input (a crop): its inverse pads with zeros. */
static int crops(const struct mg_grid *g)
{
	double inv[4][4];
	if (!mg_grid_is_index_only(g) || mg_affine_invert(g->out_to_in, inv))
		return 0;
	for (int i = 0; i < g->sdim; i++) {
		int j = 0;
		while (j < g->sdim && fabs(inv[i][j]) < 0.5)
			j++;
		double first = inv[i][3], last = first + inv[i][j] * (double)(g->in_shape[j] - 1);
		if (g->in_shape[j] > 0 && (fmin(first, last) < -0.5 ||
					   fmax(first, last) > (double)g->out_shape[i] - 0.5))
			return 1;
	}
	return 0;
}

/* The one grid that undoes entries ap[0..n) for an image of shape dims (C, ...). */
static int inverse_grid(const struct mg_applied *ap, int n, const struct mg_tensor *x,
			int nearest, struct mg_grid *g, struct mg_err *e)
{
	const struct mg_applied *last = &ap[n - 1];
	int sdim = x->rank - 1;
	int same = last->sdim == sdim;
	for (int i = 0; i < sdim && same; i++)
		same = last->out_shape[i] == x->dims[1 + i];
	if (!same)
		return mg_err_set(e, MG_ERR_SHAPE, "Invert: the image's spatial shape is not the "
				  "one its last recorded operation (%s) produced: (%lld, %lld%s%lld)",
				  last->op, (long long)last->out_shape[0],
				  (long long)last->out_shape[1], last->sdim == 3 ? ", " : "",
				  last->sdim == 3 ? (long long)last->out_shape[2] : 0LL);
	double m[4][4];
	mg_affine_identity(m);
	int cropped = 0;
	const struct mg_grid *interp = NULL;
	struct mg_grid gi[MG_MAX_APPLIED];
	for (int k = 0; k < n; k++) {
		mg_applied_grid(&ap[k], &gi[k]);
		mg_affine_mul(m, ap[k].out_to_in, m);
		cropped |= crops(&gi[k]);
		if (!interp && !mg_grid_is_index_only(&gi[k]))
			interp = &gi[k];
	}
	memset(g, 0, sizeof *g);
	g->sdim = sdim;
	for (int i = 0; i < sdim; i++) {
		g->in_shape[i] = x->dims[1 + i];
		g->out_shape[i] = ap[0].in_shape[i];
	}
	double inv[4][4];
	if (mg_affine_invert(m, inv))
		return mg_err_set(e, MG_ERR_SHAPE, "Invert: the recorded operations map onto a "
				  "degenerate grid; they cannot be inverted");
	memcpy(g->affine, ap[0].in_affine, sizeof g->affine);
	mg_grid_map(g, inv);
	memcpy(g->affine, ap[0].in_affine, sizeof g->affine);
	g->mode = nearest ? MG_INTERP_NEAREST : interp ? interp->mode : MG_INTERP_LINEAR;
	/* torch.interpolate's own modes (Resize, Zoom) sample from the shapes along each
	 * axis, not through a map: the composed inverse map samples with their point-wise
	 * counterparts (area averages like linear; its nearest modes are nearest) */
	if (mg_interp_is_axiswise(g->mode))
		g->mode = g->mode == MG_INTERP_AREA ? MG_INTERP_LINEAR : MG_INTERP_NEAREST;
	g->padding = cropped || !interp ? MG_PAD_ZEROS : interp->padding;
	g->align_corners = interp ? interp->align_corners : 0;
	return 0;
}

static int invert(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	int rc = check(a, k->err);
	if (rc || (rc = mg_op_expect_tensor(&in[0], "Invert", k->err)))
		return rc;
	const struct mg_tensor *x = &in[0].t;
	const struct mg_val *ov = a[A_ORIG].is_none ? &in[0] : &in[1];
	const char *okey = a[A_ORIG].is_none ? k->key : a[A_ORIG].v.s;
	if ((rc = mg_op_expect_tensor(ov, "Invert (orig_keys)", k->err)))
		return rc;
	if (x->rank < 3 || x->rank > 4)
		return mg_err_set(k->err, MG_ERR_SHAPE, "Invert expects a channel-first 2D or 3D "
				  "image, got rank %d", x->rank);
	const struct mg_meta *om = ov->t.meta;
	int n = om ? om->napplied : 0;
	if (n == 0)
		return mg_err_set(k->err, MG_ERR_CONFIG, "Invert: key '%s' records no spatial "
				  "operations to invert", okey ? okey : "?");
	struct mg_grid g;
	if ((rc = inverse_grid(om->applied, n, x, (int)a[A_NEAREST].v.i, &g, k->err)))
		return rc;
	struct mg_tensor y;
	if ((rc = mg_grid_run(x, &g, &y, k)))
		return rc;
	mg_meta_release(y.meta);
	y.meta = mg_meta_clone(om);
	if (!y.meta) {
		mg_tensor_release(&y);
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	}
	memcpy(y.meta->affine, g.affine, sizeof y.meta->affine);
	y.meta->sdim = g.sdim;
	y.meta->napplied = 0;
	out[0].kind = MG_VK_TENSOR;
	out[0].t = y;
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = check(a, e);
	if (rc || (rc = mg_op_infer_spatial(&in[0], "Invert", e)))
		return rc;
	if (!a[A_ORIG].is_none &&
	    (rc = mg_op_infer_key_input(&in[1], "Invert", "orig_keys", a[A_ORIG].v.s, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = -1; /* float32 when resampled, else the input's */
	for (int i = 1; i < in[0].rank && i < MG_MAX_RANK; i++)
		out[0].dims[i] = -1;
	return 0;
}

const struct mg_opdef mg_op_invert = {
	.name = "Invert",
	.synopsis = "undo the recorded spatial operations: one resampling onto the original "
		    "grid",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = invert,
};
