/* Op: DiceLoss
 * Synopsis: loss: MONAI's Dice (or Jaccard) loss of logits against a target, one element.
 * MONAI: monai.losses.DiceLoss
 * Gradient: DiceLossGrad (input, target, dloss) -> dinput, in one pass (the per-class
 * sums, then each voxel).  Inverse: none.
 *
 * input (N, C, spatial...) float32 or float64; target (N, C, spatial...) or, with
 * to_onehot_y, (N, 1, spatial...) labels of any dtype. The output is a 0-d tensor (a
 * graph's loss). reduction "none" (MONAI's (N, C, 1...) per-class losses) is refused,
 * as is ignore_index. A weight of one number applies to every class (MONAI refuses a
 * one-element list with several classes). Computed in float64 (loss.c). */
#include "loss.h"

static const struct mg_attrdef attrs[] = {
	MG_LOSS_DICE_ATTRS,
	{"reduction", MG_ATTR_STR, "\"mean\"", 0, "mean|sum|none",
	 "mean or sum of the per-item, per-class losses; none is refused (one element out)"},
	MG_LOSS_DICE_ATTRS_SMOOTH,
	{"weight", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "per-class factors of the losses (>= 0): one number for all or one per class "
	 "(without the background when include_background is false)"},
	{"soft_label", MG_ATTR_BOOL, "false", 0, NULL,
	 "soft labels: tp, fp and fn from L1 norms (MONAI's formulation for non-binary targets)"},
	{"ignore_index", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE | MG_ATTRF_REFUSED, NULL,
	 "a class to leave out: not supported (only null)"},
};

static const struct mg_loss_op L = {"DiceLoss", "DiceLossGrad", MG_LOSS_DICE, attrs,
				    sizeof attrs / sizeof *attrs};
MG_LOSS_FNS(dice, L, MG_OP_DiceLossGrad)

const struct mg_opdef mg_op_dice_loss = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceLoss",
	.synopsis = "loss: MONAI's Dice (or Jaccard) loss of logits against a target, one element",
	.flags = MG_OPF_LOSS,
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_infer,
	.ref = dice_ref,
	.gen = dice_gen,
	.grad = dice_rule,
};

const struct mg_opdef mg_op_dice_loss_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "DiceLossGrad",
	.synopsis = "gradient of DiceLoss (made by the autodiff pass): dinput from input, target, "
		    "dloss",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = dice_grad_infer,
	.ref = dice_grad_ref,
	.gen = dice_grad_gen,
};
