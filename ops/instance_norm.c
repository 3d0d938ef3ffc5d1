/* Op: InstanceNorm
 * Synopsis: instance normalization (torch.nn.functional.instance_norm, nn.InstanceNorm1d/2d/3d).
 * MONAI: torch.nn.InstanceNorm1d/2d/3d (MONAI's Norm["instance"], the default norm of
 * UNet, DynUNet, SegResNet's blocks ...)
 * Gradient: InstanceNormGrad (this file): dx through each sample's statistics (affine
 * in eval with running statistics); dweight, dbias.  Inverse: none.
 *
 * torch 2.x semantics: x (N, C, spatial...) of rank 3 to 5, each (sample, channel)
 * normalized over its spatial axes (biased variance), then weight and bias per channel.
 * Defaults are the module's: affine false, track_running_stats false (what
 * Norm["instance"] builds). Inputs in state_dict order: x, weight and bias (affine;
 * bias only with bias=true), running_mean and running_var (track_running_stats; torch's
 * num_batches_tracked buffer is never read or updated by InstanceNorm, so it is no
 * input). Statistics: each sample's when training or without running statistics, else
 * the running ones. Outputs: y, the mean and invstd it normalized with ((N, C) each),
 * then with track_running_stats the running statistics after the call: in training
 * r = (1 - m) r + m b, b the batch's per-sample means (unbiased variances) averaged
 * over the samples, as torch's instance_norm does; momentum null is 0 (the module's
 * "momentum if not None else 0.0"). torch's refusals: one spatial element when using the
 * sample's statistics; C differing from num_features with affine (ValueError) or running
 * statistics. Without those, C may differ (torch only warns). Unbatched input (C, L) is
 * refused: add the batch axis. */
#include "norm.h"

static const struct mg_attrdef attrs[] = {
	{"num_features", MG_ATTR_INT, NULL, 0, NULL,
	 "C, the channels of x (only checked with affine or track_running_stats)"},
	{"eps", MG_ATTR_FLOAT, "1e-05", 0, NULL, "added to the variance before its square root"},
	{"momentum", MG_ATTR_FLOAT, "0.1", MG_ATTRF_NULLABLE, NULL,
	 "the running statistics' update factor; null: 0 (they stay)"},
	{"affine", MG_ATTR_BOOL, "false", 0, NULL, "weight and bias inputs follow x"},
	{"track_running_stats", MG_ATTR_BOOL, "false", 0, NULL,
	 "running_mean and running_var inputs follow (eval normalizes with them)"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL,
	 "torch's keyword: with affine, a bias input follows the weight"},
	{"training", MG_ATTR_BOOL, "false", 0, NULL,
	 "the module's training mode: with track_running_stats, the samples' statistics and "
	 "the running ones updated (outputs 3, 4)"},
};
enum { A_NUM, A_EPS, A_MOMENTUM, A_AFFINE, A_TRACK, A_BIAS, A_TRAINING };

static int spec(const struct mg_attr *a, int rank, const int64_t *xd, struct mg_norm_spec *s,
		struct mg_err *e)
{
	mg_norm_spec_init(s, "InstanceNorm", 5, a[A_EPS].v.f);
	int64_t nf = a[A_NUM].v.i;
	int training = (int)a[A_TRAINING].v.i;
	s->affine = (int)a[A_AFFINE].v.i;
	s->bias = (int)a[A_BIAS].v.i;
	s->track = (int)a[A_TRACK].v.i;
	s->batch_stats = training || !s->track;
	s->update = training && s->track;
	s->momentum = a[A_MOMENTUM].is_none ? 0 : a[A_MOMENTUM].v.f;
	s->nrun = nf;
	if (nf < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "InstanceNorm: num_features must be positive, "
				  "not %lld", (long long)nf);
	if (rank < 0)
		return 0;
	if (rank < 3 || rank > 5)
		return mg_err_set(e, MG_ERR_SHAPE, "InstanceNorm: x has rank %d; expected (N, C, L) "
				  "(InstanceNorm1d), (N, C, H, W) (2d) or (N, C, D, H, W) (3d)%s",
				  rank, rank == 2 ? " (unbatched input is not supported: add the "
						    "batch axis)" : "");
	int64_t c = xd[1] >= 0 ? xd[1] : nf;
	mg_norm_geom_nc(s, rank, xd, c);
	if ((s->affine || s->track) && xd[1] >= 0 && xd[1] != nf)
		return mg_err_set(e, MG_ERR_SHAPE, "InstanceNorm: x has %lld channels; num_features "
				  "is %lld (affine or running statistics need them equal)",
				  (long long)xd[1], (long long)nf);
	if (s->batch_stats && s->g.s == 1)
		return mg_err_set(e, MG_ERR_SHAPE, "InstanceNorm: expected more than 1 spatial "
				  "element when using each sample's statistics (training)");
	s->prank = 1;
	s->pdims[0] = c;
	s->srank = 2;
	s->sdims[0] = xd[0], s->sdims[1] = c;
	return 0;
}

MG_NORM_OP_FNS(spec, MG_OP_InstanceNormGrad)

const struct mg_opdef mg_op_instance_norm = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "InstanceNorm",
	.synopsis = "instance normalization of (N, C, spatial...) per sample and channel, "
		    "optionally with running statistics",
	.flags = 0,
	.nin = -1,
	.nout = 5,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = norm_infer,
	.ref = norm_ref,
	.gen = norm_gen,
	.grad = norm_grad,
};

const struct mg_opdef mg_op_instance_norm_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "InstanceNormGrad",
	.synopsis = "gradient of InstanceNorm (made by the autodiff pass): dy, x, mean, invstd, "
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
