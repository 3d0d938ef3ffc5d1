/* Op: LabelToContour
 * Synopsis: the edges of a binary image: a Laplace filter clamped to [0, 1].
 * MONAI: monai.transforms.LabelToContour(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI (post/array.py) convolves each channel of a (C, H, W[, D]) image with the
 * Laplace kernel (2D: 8 at the centre, -1 on the 8 neighbours; 3D: 26 and -1 on the 26),
 * zero padding ("same"), and clamps to [0, 1]; dtype and meta are kept. Only floating
 * point images: MONAI's clamp fails on integer ones (cast first). mgc sums in float64
 * and rounds once, torch sums in the image's dtype: float32 results for non-binary
 * inputs differ by an ulp or so (binary inputs are exact). */
#include <math.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"kernel_type", MG_ATTR_STR, "\"Laplace\"", 0, "Laplace",
	 "edge detection kernel (MONAI has only Laplace)"},
};

static const char OP[] = "LabelToContour";

static int check(const struct mg_type *in, struct mg_err *e)
{
	int rc = mg_op_infer_image(in, OP, e);
	if (rc)
		return rc;
	if (in->rank >= 0 && in->rank != 3 && in->rank != 4)
		return mg_err_set(e, MG_ERR_SHAPE, "%s can only handle 2D or 3D images "
				  "(C, H, W[, D]); got rank %d", OP, in->rank);
	if (in->dtype >= 0 && !mg_dtype_is_float((enum mg_dtype)in->dtype))
		return mg_err_set(e, MG_ERR_SHAPE, "%s needs a floating-point image; got %s "
				  "(MONAI's clamp fails on it: add CastToType)", OP,
				  mg_dtype_name((enum mg_dtype)in->dtype));
	return 0;
}

static int label_to_contour(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			    struct mg_kctx *k)
{
	(void)a;
	int rc = mg_op_expect_tensor(&in[0], OP, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank};
	struct mg_tensor y;
	if ((rc = check(&t, k->err)) || (rc = mg_tensor_alloc(&y, x->dtype, x->rank, x->dims, k->err)))
		return rc;
	/* (C, H, W) as (C, 1, H, W): one 3D loop; the missing axis has no neighbours */
	int64_t d[4] = {x->dims[0], 1, x->dims[1], x->dims[2]}, s[4] = {x->strides[0], 0,
								       x->strides[1], x->strides[2]};
	if (x->rank == 4) {
		memcpy(d, x->dims, sizeof d);
		memcpy(s, x->strides, sizeof s);
	}
	double centre = x->rank == 4 ? 26 : 8;
	size_t es = mg_dtype_size(x->dtype);
	const char *px = mg_tensor_data(x);
	char *py = mg_tensor_data(&y);
	int64_t o = 0;
	for (int64_t c = 0; c < d[0]; c++)
		for (int64_t i = 0; i < d[1]; i++)
			for (int64_t j = 0; j < d[2]; j++)
				for (int64_t l = 0; l < d[3]; l++, o++) {
					double sum = 0;
					for (int64_t di = i > 0 ? -1 : 0; di <= (i + 1 < d[1]); di++)
						for (int64_t dj = j > 0 ? -1 : 0; dj <= (j + 1 < d[2]); dj++)
							for (int64_t dl = l > 0 ? -1 : 0; dl <= (l + 1 < d[3]); dl++) {
								int64_t off = c * s[0] + (i + di) * s[1] +
									      (j + dj) * s[2] + (l + dl) * s[3];
								double v = mg_dtype_load(x->dtype, px + off * (int64_t)es);
								sum += di || dj || dl ? -v : centre * v;
							}
					sum = sum < 0 ? 0 : sum > 1 ? 1 : sum; /* torch.clamp: NaN stays */
					mg_dtype_store(x->dtype, py + o * (int64_t)es, sum);
				}
	mg_val_set_tensor(&out[0], y, x->meta);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	(void)a;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return check(&in[0], e);
}

const struct mg_opdef mg_op_label_to_contour = {
	.name = OP,
	.synopsis = "edges of a binary image (Laplace filter clamped to [0, 1])",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = label_to_contour,
};
