/* Op: Transpose
 * Synopsis: permute the image's axes (channel included), as torch's permute; a view.
 * MONAI: monai.transforms.Transpose(d)
 * Gradient: none yet (the inverse permutation).  Inverse: Transpose by argsort(indices);
 * not recorded, as the op leaves the metadata alone (below).
 *
 * MONAI 1.6.1 (utility/array.py Transpose): img.permute(indices), indices=None reversing
 * every axis. Output axis j is input axis indices[j]; negative entries count from the end
 * and every axis must appear once (torch refuses anything else). The affine is NOT
 * updated, exactly as MONAI warns in its docstring: axes the affine describes move
 * without it, so use Orientation to reorient. The result is a strided view: no data
 * moves. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"indices", MG_ATTR_INTS, NULL, MG_ATTRF_NULLABLE, NULL,
	 "output axis j is input axis indices[j] (channel axis included; negative counts "
	 "from the end); null reverses all axes"},
};
enum { A_INDICES };

/* perm[j] = the input axis of output axis j for a rank-r tensor. */
static int permutation(const struct mg_attr *a, int rank, int perm[MG_MAX_RANK],
		       struct mg_err *e)
{
	const struct mg_attr *ix = &a[A_INDICES];
	if (ix->is_none) {
		for (int j = 0; j < rank; j++)
			perm[j] = rank - 1 - j;
		return 0;
	}
	if (ix->n != rank)
		return mg_err_set(e, MG_ERR_SHAPE, "Transpose: indices has %d entries for an "
				  "image of rank %d; it must name every axis once", ix->n, rank);
	int seen[MG_MAX_RANK] = {0};
	for (int j = 0; j < rank; j++) {
		int64_t v = ix->v.ints[j];
		if (v < -rank || v >= rank)
			return mg_err_set(e, MG_ERR_SHAPE, "Transpose: index %lld is out of range "
					  "for an image of rank %d (expected %d..%d)",
					  (long long)v, rank, -rank, rank - 1);
		perm[j] = (int)(v < 0 ? v + rank : v);
		if (seen[perm[j]]++)
			return mg_err_set(e, MG_ERR_SHAPE, "Transpose: indices names axis %d "
					  "twice", perm[j]);
	}
	return 0;
}

static int transpose(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		     struct mg_kctx *k)
{
	int perm[MG_MAX_RANK], rc = mg_op_expect_tensor(&in[0], "Transpose", k->err);
	if (rc || (rc = permutation(a, in[0].t.rank, perm, k->err)))
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y = mg_tensor_share(x);
	for (int j = 0; j < x->rank; j++) {
		y.dims[j] = x->dims[perm[j]];
		y.strides[j] = x->strides[perm[j]];
	}
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int perm[MG_MAX_RANK], rc = mg_op_infer_image(&in[0], "Transpose", e);
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (in[0].rank < 0)
		return 0;
	if ((rc = permutation(a, in[0].rank, perm, e)))
		return rc;
	for (int j = 0; j < in[0].rank; j++)
		out[0].dims[j] = in[0].dims[perm[j]];
	return 0;
}

const struct mg_opdef mg_op_transpose = {
	.name = "Transpose",
	.synopsis = "permute the axes, channel included (torch's permute); a view, affine "
		    "unchanged",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = transpose,
};
