/* Op: DiceFocalLoss
 * Synopsis: loss: lambda_dice Dice + lambda_focal focal loss of logits (MONAI's DiceFocalLoss).
 * MONAI: monai.losses.DiceFocalLoss
 * Gradient: DiceFocalLossGrad (input, target, dloss) -> dinput, in one pass.  Inverse: none.
 *
 * The target is one-hot encoded first (to_onehot_y); then DiceLoss's term (sigmoid or
 * softmax as given) and FocalLoss's sigmoid form on the raw logits (MONAI's
 * DiceFocalLoss does not pass use_softmax), both with weight and include_background,
 * the focal term with gamma and alpha. Output: a 0-d tensor. Computed in
 * float64 (loss.c). */
#include "loss.h"

static const struct mg_attrdef attrs[] = {
	MG_LOSS_DICE_ATTRS,
	{"reduction", MG_ATTR_STR, "\"mean\"", 0, "mean|sum|none",
	 "mean or sum, for both terms (as DiceLoss and FocalLoss); none is refused"},
	MG_LOSS_DICE_ATTRS_SMOOTH,
	{"gamma", MG_ATTR_FLOAT, "2.0", 0, NULL, "the focal term's exponent"},
	{"weight", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "per-class factors of both terms (>= 0): one number for all or one per class kept"},
	{"lambda_dice", MG_ATTR_FLOAT, "1.0", 0, NULL, "the Dice term's factor (>= 0)"},
	{"lambda_focal", MG_ATTR_FLOAT, "1.0", 0, NULL, "the focal term's factor (>= 0)"},
	{"alpha", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "the focal term's class balance: one number in [0, 1] (MONAI's type) or one per "
	 "class kept (FocalLoss takes it); null: none"},
};

static const struct mg_loss_op L = {"DiceFocalLoss", "DiceFocalLossGrad", MG_LOSS_DICE_FOCAL,
				    attrs, sizeof attrs / sizeof *attrs};
MG_LOSS_FNS(dice_focal, L, MG_OP_DiceFocalLossGrad)

const struct mg_opdef mg_op_dice_focal_loss = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceFocalLoss",
	.synopsis = "loss: lambda_dice Dice + lambda_focal focal loss of logits (MONAI's "
		    "DiceFocalLoss), one element",
	.flags = MG_OPF_LOSS,
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_focal_infer,
	.ref = dice_focal_ref,
	.gen = dice_focal_gen,
	.grad = dice_focal_rule,
};

const struct mg_opdef mg_op_dice_focal_loss_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceFocalLossGrad",
	.synopsis = "gradient of DiceFocalLoss (made by the autodiff pass): dinput from input, "
		    "target, dloss",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_focal_grad_infer,
	.ref = dice_focal_grad_ref,
	.gen = dice_focal_grad_gen,
};
