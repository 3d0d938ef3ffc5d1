/* Op: CrossEntropyLoss
 * Synopsis: loss: torch's cross entropy of logits against class indices or probabilities.
 * MONAI: torch.nn.CrossEntropyLoss (as monai.losses.DiceCELoss calls it)
 * Gradient: CrossEntropyLossGrad (input, target, dloss) -> dinput: softmax minus the
 * (smoothed, weighted) target.  Inverse: none.
 *
 * input (N, C, spatial...) logits; target (N, spatial...) or (N, 1, spatial...) class
 * indices (any dtype, truncated as .long(); out of range is refused) or (N, C,
 * spatial...) class probabilities. "mean" divides by the summed weights of the
 * targets' classes (indices) or by the voxels (probabilities), as torch. One channel
 * is BCEWithLogitsLoss with weight as pos_weight (DiceCELoss's choice). ignore_index
 * and reduction "none" are refused. Output: a 0-d tensor. Computed in float64. */
#include "loss.h"

static const struct mg_attrdef attrs[] = {
	{"weight", MG_ATTR_FLOATS, "null", MG_ATTRF_NULLABLE, NULL,
	 "class weights, one per channel (pos_weight, one number, for one channel)"},
	{"ignore_index", MG_ATTR_INT, "-100", 0, NULL,
	 "only torch's default -100, which no class 0..C-1 is (a target of -100 is refused "
	 "as out of range, where torch leaves the voxel out)"},
	{"reduction", MG_ATTR_STR, "\"mean\"", 0, "mean|sum|none",
	 "mean (weighted) or sum; none is refused (one element out)"},
	{"label_smoothing", MG_ATTR_FLOAT, "0.0", 0, NULL,
	 "mixes the target with the uniform distribution, in [0, 1]"},
};

static const struct mg_loss_op L = {"CrossEntropyLoss", "CrossEntropyLossGrad", MG_LOSS_CE,
				    attrs, sizeof attrs / sizeof *attrs};
MG_LOSS_FNS(ce, L, MG_OP_CrossEntropyLossGrad)

const struct mg_opdef mg_op_cross_entropy_loss = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "CrossEntropyLoss",
	.synopsis = "loss: torch's cross entropy of logits against class indices or "
		    "probabilities, one element",
	.flags = MG_OPF_LOSS,
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = ce_infer,
	.ref = ce_ref,
	.gen = ce_gen,
	.grad = ce_rule,
};

const struct mg_opdef mg_op_cross_entropy_loss_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "CrossEntropyLossGrad",
	.synopsis = "gradient of CrossEntropyLoss (made by the autodiff pass): dinput from "
		    "input, target, dloss",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = ce_grad_infer,
	.ref = ce_grad_ref,
	.gen = ce_grad_gen,
};
