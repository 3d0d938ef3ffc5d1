/* Op: GroupNorm
 * Synopsis: group normalization (torch.nn.functional.group_norm, nn.GroupNorm).
 * MONAI: torch.nn.GroupNorm (MONAI's Norm["group"], SegResNet's default norm)
 * Gradient: GroupNormGrad (this file): dx through each group's statistics; dweight,
 * dbias.  Inverse: none.
 *
 * torch 2.x semantics: x (N, C, spatial...) of rank 2 or more; the C channels of each
 * sample fall into num_groups runs of C / num_groups consecutive channels, each run
 * normalized over its channels and spatial axes (biased variance), then weight and bias
 * per channel. Inputs: x, then weight and bias (C each) when affine (bias only with
 * bias=true). Outputs: y, the mean and invstd of each group ((N, num_groups) each:
 * torch's native_group_norm's). torch's refusals: num_channels not divisible by
 * num_groups, x's channels not divisible by num_groups, a weight for other than x's
 * channels, and N C / num_groups times the spatial size equal to 1 (F.group_norm's
 * "more than 1 value per channel"). Without affine, x's C need not be num_channels
 * (torch does not check it). */
#include "norm.h"

static const struct mg_attrdef attrs[] = {
	{"num_groups", MG_ATTR_INT, NULL, 0, NULL, "groups the channels are divided into"},
	{"num_channels", MG_ATTR_INT, NULL, 0, NULL, "C, the channels of x"},
	{"eps", MG_ATTR_FLOAT, "1e-05", 0, NULL, "added to the variance before its square root"},
	{"affine", MG_ATTR_BOOL, "true", 0, NULL, "weight and bias inputs (C each) follow x"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL,
	 "torch's keyword: with affine, a bias input follows the weight"},
};
enum { A_GROUPS, A_CHANNELS, A_EPS, A_AFFINE, A_BIAS };

static int spec(const struct mg_attr *a, int rank, const int64_t *xd, struct mg_norm_spec *s,
		struct mg_err *e)
{
	mg_norm_spec_init(s, "GroupNorm", 3, a[A_EPS].v.f);
	int64_t G = a[A_GROUPS].v.i, nc = a[A_CHANNELS].v.i;
	s->affine = (int)a[A_AFFINE].v.i;
	s->bias = (int)a[A_BIAS].v.i;
	s->batch_stats = 1;
	if (G < 1 || nc < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "GroupNorm: num_groups (%lld) and num_channels "
				  "(%lld) must be positive", (long long)G, (long long)nc);
	if (nc % G)
		return mg_err_set(e, MG_ERR_CONFIG, "GroupNorm: num_channels (%lld) must be divisible "
				  "by num_groups (%lld)", (long long)nc, (long long)G);
	if (rank < 0)
		return 0;
	if (rank < 2)
		return mg_err_set(e, MG_ERR_SHAPE, "GroupNorm: expected at least 2 dimensions (N, C, "
				  "...) for x, got %d", rank);
	mg_norm_geom_nc(s, rank, xd, G);
	if (xd[1] >= 0 && xd[1] % G)
		return mg_err_set(e, MG_ERR_SHAPE, "GroupNorm: x has %lld channels, not divisible by "
				  "num_groups=%lld", (long long)xd[1], (long long)G);
	if (s->affine && xd[1] >= 0 && xd[1] != nc)
		return mg_err_set(e, MG_ERR_SHAPE, "GroupNorm: x has %lld channels; num_channels (the "
				  "weight's size) is %lld", (long long)xd[1], (long long)nc);
	if (s->g.n >= 0 && s->g.c >= 0 && s->g.s >= 0 && s->g.n * s->g.cg * s->g.s == 1)
		return mg_err_set(e, MG_ERR_SHAPE, "GroupNorm: expected more than 1 value per channel "
				  "when training (torch's check: N C / num_groups times the spatial "
				  "size is 1)");
	s->prank = 1;
	s->pdims[0] = xd[1] >= 0 ? xd[1] : nc;
	s->srank = 2;
	s->sdims[0] = xd[0], s->sdims[1] = G;
	return 0;
}

MG_NORM_OP_FNS(spec, MG_OP_GroupNormGrad)

const struct mg_opdef mg_op_group_norm = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "GroupNorm",
	.synopsis = "group normalization of (N, C, spatial...) over runs of channels",
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

const struct mg_opdef mg_op_group_norm_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "GroupNormGrad",
	.synopsis = "gradient of GroupNorm (made by the autodiff pass): dy, x, mean, invstd, "
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
