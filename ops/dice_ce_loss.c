/* Op: DiceCELoss
 * Synopsis: loss: lambda_dice Dice + lambda_ce cross entropy of logits (MONAI's DiceCELoss).
 * MONAI: monai.losses.DiceCELoss (the spleen bundle's loss: to_onehot_y, softmax)
 * Gradient: DiceCELossGrad (input, target, dloss) -> dinput, in one pass.  Inverse: none.
 *
 * The Dice term is DiceLoss's (weight[1:] without the background, as MONAI). The cross
 * entropy is torch's CrossEntropyLoss(weight, reduction, label_smoothing) on the raw
 * logits over all channels: a (N, 1, spatial...) target gives class indices (truncated
 * as .long(); out of range is refused), a (N, C, spatial...) one class probabilities;
 * with one channel it is BCEWithLogitsLoss with weight as pos_weight. Output: a 0-d
 * tensor. Computed in float64 (loss.c). */
#include "loss.h"

static const struct mg_attrdef attrs[] = {
	MG_LOSS_DICE_ATTRS,
	{"reduction", MG_ATTR_STR, "\"mean\"", 0, "mean|sum",
	 "mean or sum, for both terms (MONAI's DiceCEReduction: no none)"},
	MG_LOSS_DICE_ATTRS_SMOOTH,
	{"weight", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "cross entropy's class weights (one per channel; pos_weight for one channel), also "
	 "the Dice class weights (without the background when include_background is false)"},
	{"lambda_dice", MG_ATTR_FLOAT, "1.0", 0, NULL, "the Dice term's factor (>= 0)"},
	{"lambda_ce", MG_ATTR_FLOAT, "1.0", 0, NULL, "the cross entropy term's factor (>= 0)"},
	{"label_smoothing", MG_ATTR_FLOAT, "0.0", 0, NULL,
	 "cross entropy's label smoothing, in [0, 1] (not used by the one-channel BCE)"},
};

static const struct mg_loss_op L = {"DiceCELoss", "DiceCELossGrad", MG_LOSS_DICE_CE, attrs,
				    sizeof attrs / sizeof *attrs};
MG_LOSS_FNS(dice_ce, L, MG_OP_DiceCELossGrad)

const struct mg_opdef mg_op_dice_ce_loss = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceCELoss",
	.synopsis = "loss: lambda_dice Dice + lambda_ce cross entropy of logits (MONAI's "
		    "DiceCELoss), one element",
	.flags = MG_OPF_LOSS,
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_ce_infer,
	.ref = dice_ce_ref,
	.gen = dice_ce_gen,
	.grad = dice_ce_rule,
};

const struct mg_opdef mg_op_dice_ce_loss_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceCELossGrad",
	.synopsis = "gradient of DiceCELoss (made by the autodiff pass): dinput from input, "
		    "target, dloss",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_ce_grad_infer,
	.ref = dice_ce_grad_ref,
	.gen = dice_ce_grad_gen,
};
