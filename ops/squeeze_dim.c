/* Op: SqueezeDim
 * Synopsis: remove an axis of size 1 (a view).
 * MONAI: monai.transforms.SqueezeDim(d)
 * Gradient: none yet (an unsqueeze).  Inverse: none.
 *
 * MONAI 1.6.1 (utility/array.py SqueezeDim): dim counts the channel axis (negative from
 * the end); an axis of another size is a ValueError; dim null squeezes every axis of size
 * 1 and leaves the meta alone. With update_meta, squeezing axis dim > 0 drops row and
 * column dim - 1 of the 4x4 affine (for dim <= 3): a 3D image squeezed to 2D gets
 * MONAI's 3x3 affine, which mgc holds as its 4x4 embedding (to_affine_nd(3, a): the
 * dropped axis becomes an identity row and column) with spatial rank 2. The result is
 * a view of the input's storage. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"dim", MG_ATTR_INT, "0", MG_ATTRF_NULLABLE, NULL,
	 "the axis to remove (channel axis included; negative counts from the end); null "
	 "removes every axis of size 1"},
	{"update_meta", MG_ATTR_BOOL, "true", 0, NULL,
	 "drop the squeezed spatial axis from the affine (dim > 0)"},
};
enum { A_DIM, A_UPDATE_META };

/* The affine of MONAI's update_meta after dropping spatial axis s, as mgc's 4x4. */
static void drop_affine_axis(double a[4][4], int s)
{
	double b[4][4];
	int r = 0;
	mg_affine_identity(b);
	for (int i = 0; i < 4; i++) {
		if (i == s)
			continue;
		int c = 0;
		for (int j = 0; j < 4; j++)
			if (j != s)
				b[r == 2 ? 3 : r][c == 2 ? 3 : c] = a[i][j], c++;
		r++;
	}
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			a[i][j] = b[i][j];
}

static int squeeze_dim(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "SqueezeDim", k->err);
	if (rc)
		return rc;
	struct mg_tensor y = mg_tensor_share(&in[0].t);
	if (a[A_DIM].is_none) {
		for (int i = y.rank - 1; i >= 0; i--)
			if (y.dims[i] == 1)
				mg_tensor_squeeze(&y, i);
		mg_val_set_tensor(&out[0], y, NULL);
		return 0;
	}
	int d;
	if ((rc = mg_op_axis(a[A_DIM].v.i, y.rank, "SqueezeDim", "dim", &d, k->err)))
		goto fail;
	if (y.dims[d] != 1) {
		rc = mg_err_set(k->err, MG_ERR_SHAPE, "SqueezeDim: can only squeeze an axis of "
				"size 1; dim %lld has size %lld (MONAI: \"Can only squeeze singleton "
				"dimension\")", (long long)a[A_DIM].v.i, (long long)y.dims[d]);
		goto fail;
	}
	mg_tensor_squeeze(&y, d);
	if (a[A_UPDATE_META].v.i && y.meta && d > 0 && d < 4) {
		struct mg_meta *m = mg_meta_mut(&y);
		if (!m) {
			rc = mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
			goto fail;
		}
		drop_affine_axis(m->affine, d - 1);
		if (m->sdim == 3)
			m->sdim = 2;
	}
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
fail:
	mg_tensor_release(&y);
	return rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "SqueezeDim", e);
	if (rc)
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	int d;
	if (in[0].rank < 0 || a[A_DIM].is_none) {
		out[0].rank = -1;
		return 0;
	}
	if ((rc = mg_op_axis(a[A_DIM].v.i, in[0].rank, "SqueezeDim", "dim", &d, e)))
		return rc;
	if (in[0].dims[d] > 1)
		return mg_err_set(e, MG_ERR_SHAPE, "SqueezeDim: can only squeeze an axis of size "
				  "1; dim %lld has size %lld", (long long)a[A_DIM].v.i,
				  (long long)in[0].dims[d]);
	for (int i = d; i + 1 < in[0].rank; i++)
		out[0].dims[i] = in[0].dims[i + 1];
	out[0].rank--;
	return 0;
}

const struct mg_opdef mg_op_squeeze_dim = {
	.name = "SqueezeDim",
	.synopsis = "remove an axis of size 1 (a view, no copy)",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = squeeze_dim,
};
