/* Op: FocalLoss
 * Synopsis: loss: MONAI's focal loss of logits (sigmoid or softmax form), one element.
 * MONAI: monai.losses.FocalLoss
 * Gradient: FocalLossGrad (input, target, dloss) -> dinput, in one pass.  Inverse: none.
 *
 * The sigmoid form is BCE with logits times sigmoid(x (1 - 2t))^gamma; the softmax form
 * -(1 - p)^gamma log p t with the softmax over the channels kept (MONAI drops the
 * background before it). alpha: one number (sigmoid: alpha for t, 1 - alpha for 1 - t;
 * softmax: 1 - alpha for channel 0, alpha for the others, dropped without the
 * background as MONAI does) or one per class. reduction "sum" averages the voxels and
 * sums items and classes (MONAI's), "mean" averages all; "none" is refused, as is
 * ignore_index. A weight or alpha list of one number reads as that number. Output: a
 * 0-d tensor. Computed in float64 (MONAI computes it in float32). */
#include "loss.h"

static const struct mg_attrdef attrs[] = {
	{"include_background", MG_ATTR_BOOL, "true", 0, NULL,
	 "false: channel 0 (the background) is left out (ignored for one channel)"},
	{"to_onehot_y", MG_ATTR_BOOL, "false", 0, NULL,
	 "the target is a (N, 1, spatial...) label map, one-hot encoded to the input's C "
	 "classes (ignored for one channel)"},
	{"gamma", MG_ATTR_FLOAT, "2.0", 0, NULL, "the focusing exponent"},
	{"alpha", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "the class balance: one number in [0, 1] or one per class; null: none"},
	{"weight", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "per-class factors (>= 0): one number for all or one per class kept"},
	{"reduction", MG_ATTR_STR, "\"mean\"", 0, "mean|sum|none",
	 "mean of all terms, or sum over items and classes of the voxels' mean; none is "
	 "refused"},
	{"use_softmax", MG_ATTR_BOOL, "false", 0, NULL,
	 "the softmax form (one class per voxel) instead of the sigmoid form"},
	{"ignore_index", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE | MG_ATTRF_REFUSED, NULL,
	 "a class to leave out: not supported (only null)"},
};

static const struct mg_loss_op L = {"FocalLoss", "FocalLossGrad", MG_LOSS_FOCAL, attrs,
				    sizeof attrs / sizeof *attrs};
MG_LOSS_FNS(focal, L, MG_OP_FocalLossGrad)

const struct mg_opdef mg_op_focal_loss = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "FocalLoss",
	.synopsis = "loss: MONAI's focal loss of logits (sigmoid or softmax form), one element",
	.flags = MG_OPF_LOSS,
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = focal_infer,
	.ref = focal_ref,
	.gen = focal_gen,
	.grad = focal_rule,
};

const struct mg_opdef mg_op_focal_loss_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "FocalLossGrad",
	.synopsis = "gradient of FocalLoss (made by the autodiff pass): dinput from input, "
		    "target, dloss",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = focal_grad_infer,
	.ref = focal_grad_ref,
	.gen = focal_grad_gen,
};
