/* Op: LayerNorm
 * Synopsis: layer normalization over the last axes (torch.nn.functional.layer_norm, nn.LayerNorm).
 * MONAI: torch.nn.LayerNorm (MONAI's transformer blocks: ViT, UNETR, SwinUNETR)
 * Gradient: LayerNormGrad (this file): dx through each row's statistics; dweight, dbias.
 * Inverse: none.
 *
 * torch 2.x semantics: x (..., normalized_shape) of any rank at least
 * len(normalized_shape): each index of the leading axes is one row, normalized over the
 * trailing axes (biased variance), then weight and bias elementwise (of
 * normalized_shape). Inputs: x, then weight and bias when elementwise_affine (bias only
 * with bias=true). Outputs: y, the mean and invstd of each row, shaped as x with the
 * normalized axes 1 (torch's native_layer_norm's). It is GroupNorm's computation with
 * one group over (rows, normalized numel, 1) (norm.h). torch's refusal: x's trailing
 * axes differing from normalized_shape. */
#include "norm.h"

static const struct mg_attrdef attrs[] = {
	{"normalized_shape", MG_ATTR_INTS, NULL, 0, NULL,
	 "the trailing axes normalized together (an integer or a list)"},
	{"eps", MG_ATTR_FLOAT, "1e-05", 0, NULL, "added to the variance before its square root"},
	{"elementwise_affine", MG_ATTR_BOOL, "true", 0, NULL,
	 "weight and bias inputs (of normalized_shape) follow x"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL, "with elementwise_affine, a bias input follows "
	 "the weight"},
};
enum { A_SHAPE, A_EPS, A_AFFINE, A_BIAS };

static int spec(const struct mg_attr *a, int rank, const int64_t *xd, struct mg_norm_spec *s,
		struct mg_err *e)
{
	mg_norm_spec_init(s, "LayerNorm", 3, a[A_EPS].v.f);
	const struct mg_attr *ns = &a[A_SHAPE];
	s->affine = (int)a[A_AFFINE].v.i;
	s->bias = (int)a[A_BIAS].v.i;
	s->batch_stats = 1;
	if (ns->n < 1 || ns->n > MG_MAX_RANK)
		return mg_err_set(e, MG_ERR_CONFIG, "LayerNorm: normalized_shape has %d axes; "
				  "expected 1 to %d", ns->n, MG_MAX_RANK);
	int64_t k = 1;
	for (int i = 0; i < ns->n; i++) {
		if (ns->v.ints[i] < 1)
			return mg_err_set(e, MG_ERR_CONFIG, "LayerNorm: normalized_shape[%d] is %lld; "
					  "expected a positive size", i, (long long)ns->v.ints[i]);
		k *= ns->v.ints[i];
		s->pdims[i] = ns->v.ints[i];
	}
	s->prank = ns->n;
	if (rank < 0)
		return 0;
	int lead = rank - ns->n, ok = lead >= 0;
	for (int i = 0; ok && i < ns->n; i++)
		ok = xd[lead + i] < 0 || xd[lead + i] == ns->v.ints[i];
	if (!ok)
		return mg_err_set(e, MG_ERR_SHAPE, "LayerNorm: x of rank %d does not end with "
				  "normalized_shape (%d axes: its trailing axes must equal it)", rank,
				  ns->n);
	int64_t rows = 1;
	for (int i = 0; i < lead; i++) {
		rows = rows < 0 || xd[i] < 0 ? -1 : rows * xd[i];
		s->sdims[i] = xd[i];
	}
	for (int i = lead; i < rank; i++)
		s->sdims[i] = 1;
	s->srank = rank;
	s->g = (struct mg_norm_geom){.n = rows, .c = k, .s = 1, .gn = 1, .cg = k};
	return 0;
}

MG_NORM_OP_FNS(spec, MG_OP_LayerNormGrad)

const struct mg_opdef mg_op_layer_norm = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LayerNorm",
	.synopsis = "layer normalization over the trailing normalized_shape axes",
	.flags = 0,
	.nin = -1,
	.nout = 3,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = norm_infer,
	.ref = norm_ref,
	.gen = norm_gen,
	.grad = norm_grad,
};

const struct mg_opdef mg_op_layer_norm_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "LayerNormGrad",
	.synopsis = "gradient of LayerNorm (made by the autodiff pass): dy, x, mean, invstd, "
		    "weight -> dx, dweight, dbias",
	.flags = 0,
	.nin = -1,
	.nout = 3,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = norm_grad_infer,
	.ref = norm_grad_ref,
	.gen = norm_grad_gen,
};
