/* Op: BatchNorm
 * Synopsis: batch normalization (torch.nn.functional.batch_norm, nn.BatchNorm1d/2d/3d).
 * MONAI: torch.nn.BatchNorm1d/2d/3d (MONAI's Norm["batch"], e.g. UNet's norm="batch")
 * Gradient: BatchNormGrad (this file): dx through the batch statistics in training, the
 * affine map of the running ones in eval; dweight, dbias.  Inverse: none.
 *
 * torch 2.x semantics: x (N, C, spatial...) of rank 2 to 5 (one op for the 1d, 2d and 3d
 * modules), normalized per channel: y = (x - mean) / sqrt(var + eps) * weight + bias.
 * Inputs in state_dict order: x, weight and bias (when affine; bias only with bias=true),
 * running_mean and running_var (when track_running_stats), then optionally
 * num_batches_tracked (a one-element tensor of any dtype, torch's int64 scalar). The
 * attributes say which are there; the count must match.
 * Statistics: the batch's (over N and the spatial axes, the biased variance) when
 * training or when the running statistics are not tracked, else the running ones, as
 * torch's _BatchNorm.forward decides. Outputs: y, the mean and invstd (1 / sqrt(var +
 * eps)) it normalized with (C each: torch's save_mean / save_invstd, here also in eval,
 * the running ones), the running_mean and running_var after the call and the new
 * num_batches_tracked (absent without track_running_stats; the last absent when not an
 * input). Training with running statistics updates them: r = (1 - f) r + f b, with the
 * batch's unbiased variance for running_var, f = momentum, or with momentum null
 * 1 / num_batches_tracked after its increment (then num_batches_tracked is required).
 * The caller writes them back. torch's refusals: a batch of one value per channel when
 * using the batch's statistics; C differing from num_features when weights or running
 * statistics need it. Unbatched input is refused (MONAI's networks always batch). */
#include "norm.h"

static const struct mg_attrdef attrs[] = {
	{"num_features", MG_ATTR_INT, NULL, 0, NULL, "C, the channels of x"},
	{"eps", MG_ATTR_FLOAT, "1e-05", 0, NULL, "added to the variance before its square root"},
	{"momentum", MG_ATTR_FLOAT, "0.1", MG_ATTRF_NULLABLE, NULL,
	 "the running statistics' update factor; null: the cumulative average (needs "
	 "num_batches_tracked as input)"},
	{"affine", MG_ATTR_BOOL, "true", 0, NULL, "weight and bias inputs follow x"},
	{"track_running_stats", MG_ATTR_BOOL, "true", 0, NULL,
	 "running_mean and running_var inputs follow (eval normalizes with them)"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL,
	 "torch's keyword: with affine, a bias input follows the weight"},
	{"training", MG_ATTR_BOOL, "false", 0, NULL,
	 "the module's training mode: the batch's statistics, and the running ones updated "
	 "(outputs 3 to 5)"},
};
enum { A_NUM, A_EPS, A_MOMENTUM, A_AFFINE, A_TRACK, A_BIAS, A_TRAINING };

static int spec(const struct mg_attr *a, int rank, const int64_t *xd, struct mg_norm_spec *s,
		struct mg_err *e)
{
	mg_norm_spec_init(s, "BatchNorm", 6, a[A_EPS].v.f);
	int64_t nf = a[A_NUM].v.i;
	int training = (int)a[A_TRAINING].v.i;
	s->affine = (int)a[A_AFFINE].v.i;
	s->bias = (int)a[A_BIAS].v.i;
	s->track = (int)a[A_TRACK].v.i;
	s->nbt = 1;
	s->batch_stats = training || !s->track;
	s->update = training && s->track;
	s->momentum = a[A_MOMENTUM].is_none ? -1 : a[A_MOMENTUM].v.f;
	s->nrun = nf;
	if (nf < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "BatchNorm: num_features must be positive, not %lld",
				  (long long)nf);
	if (rank < 0)
		return 0;
	if (rank < 2 || rank > 5)
		return mg_err_set(e, MG_ERR_SHAPE, "BatchNorm: x has rank %d; expected (N, C) or (N, "
				  "C, L) (BatchNorm1d), (N, C, H, W) (2d) or (N, C, D, H, W) (3d)",
				  rank);
	mg_norm_geom_nc(s, rank, xd, 0);
	int64_t c = xd[1] >= 0 ? xd[1] : nf;
	if ((s->affine || s->track) && xd[1] >= 0 && xd[1] != nf)
		return mg_err_set(e, MG_ERR_SHAPE, "BatchNorm: x has %lld channels; num_features is "
				  "%lld", (long long)xd[1], (long long)nf);
	if (s->batch_stats && s->g.n >= 0 && s->g.s >= 0 && s->g.n * s->g.s == 1)
		return mg_err_set(e, MG_ERR_SHAPE, "BatchNorm: expected more than 1 value per "
				  "channel when using the batch's statistics (training), got x of "
				  "%lld channel(s) of 1 value", (long long)c);
	s->prank = s->srank = 1;
	s->pdims[0] = s->sdims[0] = c;
	return 0;
}

MG_NORM_OP_FNS(spec, MG_OP_BatchNormGrad)

const struct mg_opdef mg_op_batch_norm = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "BatchNorm",
	.synopsis = "batch normalization of (N, C, spatial...) per channel, with running "
		    "statistics (eval) or the batch's (training: the running ones updated)",
	.flags = 0,
	.nin = -1,
	.nout = 6,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = norm_infer,
	.ref = norm_ref,
	.gen = norm_gen,
	.grad = norm_grad,
};

const struct mg_opdef mg_op_batch_norm_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "BatchNormGrad",
	.synopsis = "gradient of BatchNorm (made by the autodiff pass): dy, x, mean, invstd, "
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
