/* loss.h: what the loss ops (DiceLoss, DiceCELoss, FocalLoss, DiceFocalLoss,
 * CrossEntropyLoss) and their gradient ops share (loss.c): the attributes common to
 * MONAI's loss classes, read by name from any loss op's schema, the shape rules, and
 * one evaluation that gives the loss and, for a gradient op, dloss/dinput.
 * Invariant: a loss op and its gradient op run the same evaluation (reductions first,
 * then the per-voxel gradient), so value and gradient cannot drift apart.
 * Operands: input (N, C, spatial...) logits, float32 or float64; target (N, C, spatial...)
 * or (N, 1, spatial...) labels, any dtype; the gradient ops take dloss (one element)
 * third. Output: a 0-d tensor of input's dtype (MONAI's losses return 0-d tensors).
 * Read next: dice_loss.c (one op file), loss.c. */
#ifndef MG_LOSS_H
#define MG_LOSS_H

#include "op.h"

/* Which of MONAI's (or torch's) losses a node computes. */
enum mg_loss_kind {
	MG_LOSS_DICE,       /* monai.losses.DiceLoss */
	MG_LOSS_DICE_CE,    /* monai.losses.DiceCELoss: lambda_dice Dice + lambda_ce CE */
	MG_LOSS_FOCAL,      /* monai.losses.FocalLoss */
	MG_LOSS_DICE_FOCAL, /* monai.losses.DiceFocalLoss: lambda_dice Dice + lambda_focal Focal */
	MG_LOSS_CE,         /* torch.nn.CrossEntropyLoss as DiceCELoss calls it */
};

/* A loss op as its file declares it: the names in messages and its schema (the gradient
 * op shares it). */
struct mg_loss_op {
	const char *name, *grad_name;
	enum mg_loss_kind kind;
	const struct mg_attrdef *attrs;
	int nattrs;
};

/* The schema lines DiceLoss, DiceCELoss and DiceFocalLoss share (MONAI's order: these,
 * then reduction, then MG_LOSS_DICE_ATTRS_SMOOTH). */
#define MG_LOSS_DICE_ATTRS                                                                \
	{"include_background", MG_ATTR_BOOL, "true", 0, NULL,                                 \
	 "false: channel 0 (the background) is left out of the loss (ignored for one "        \
	 "channel, as MONAI)"},                                                               \
	{"to_onehot_y", MG_ATTR_BOOL, "false", 0, NULL,                                       \
	 "the target is a (N, 1, spatial...) label map, one-hot encoded to the input's C "    \
	 "classes (labels truncated to integers as torch's .long(); ignored for one channel)"}, \
	{"sigmoid", MG_ATTR_BOOL, "false", 0, NULL,                                           \
	 "the Dice term applies a sigmoid to the input"},                                     \
	{"softmax", MG_ATTR_BOOL, "false", 0, NULL,                                           \
	 "the Dice term applies a softmax over the channels (ignored for one channel); not "  \
	 "with sigmoid"},                                                                     \
	{"other_act", MG_ATTR_STR, "null", MG_ATTRF_REFUSED, NULL,                            \
	 "a Python callable: not supported (only null)"},                                     \
	{"squared_pred", MG_ATTR_BOOL, "false", 0, NULL,                                      \
	 "squares of prediction and target in the denominator (MONAI's vector norms, ord 2)"}, \
	{"jaccard", MG_ATTR_BOOL, "false", 0, NULL,                                           \
	 "the soft Jaccard (IoU) loss instead of Dice"}
#define MG_LOSS_DICE_ATTRS_SMOOTH                                                         \
	{"smooth_nr", MG_ATTR_FLOAT, "1e-05", 0, NULL,                                        \
	 "added to the Dice numerator"},                                                      \
	{"smooth_dr", MG_ATTR_FLOAT, "1e-05", 0, NULL,                                        \
	 "added to the Dice denominator"},                                                    \
	{"batch", MG_ATTR_BOOL, "false", 0, NULL,                                             \
	 "sum the Dice terms over the batch too before dividing (one Dice per class); "       \
	 "false: one per item and class"}

/* A node's arguments, read by name from its attributes (absent names keep MONAI's
 * defaults for that loss), then checked: errors name op and the argument. */
struct mg_loss_args {
	enum mg_loss_kind kind;
	int include_background, to_onehot_y, sigmoid, softmax, squared_pred, jaccard, batch,
	    soft_label, use_softmax;
	int sum; /* reduction "sum"; else "mean" */
	double smooth_nr, smooth_dr, lambda_dice, lambda_other, label_smoothing, gamma;
	int nweight, nalpha; /* 0: null */
	const double *weight, *alpha;
};
int mg_loss_args(const struct mg_loss_op *L, const char *op, const struct mg_attr *a,
		 struct mg_loss_args *args, struct mg_err *e);

/* The type rule of a loss op (grad 0: its 0-d output) or of its gradient op (grad 1:
 * dinput, input's type), with the shape rules where the shapes are known. */
int mg_loss_infer(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		  const struct mg_type *in, struct mg_type *out, struct mg_err *e);
/* The reference kernel of a loss op (grad 0) or of its gradient op (grad 1): float64
 * throughout, rounded once to input's dtype. */
int mg_loss_kernel(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		   struct mg_val *in, struct mg_val *out, struct mg_kctx *k);
/* ---- what the reference kernel (loss.c) shares with the generated one (loss_gen.c) ---- */

/* A kernel's operands checked (the input float32 or float64, the target a tensor,
 * dloss one element, the shapes against each other and the arguments) and its
 * arguments in r. */
int mg_loss_take(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		 const struct mg_val *in, struct mg_loss_args *r, struct mg_err *e);
/* out[0]: the loss v as a 0-d tensor of x's dtype. */
int mg_loss_value(const struct mg_tensor *x, double v, struct mg_val *out, struct mg_err *e);
/* Channels past those the terms leave out: 1 when include_background is false and
 * there are several channels (MONAI ignores it for one). */
int64_t mg_loss_first_channel(const struct mg_loss_args *r, int64_t C);
/* The class weights the Dice term sees (*n of them; NULL: none): DiceCELoss gives it
 * weight[1:] without the background. */
const double *mg_loss_dice_weight(const struct mg_loss_args *r, int *n);
/* The Dice (or Jaccard) term from its ng groups' sums (item and class, or class with
 * batch; nc classes), sums[3 g + 0..2]: sum(p g), sum(p), sum(g), or with squared_pred
 * or soft_label MONAI's norms sum|p|^o, sum|g|^o, sum|p - g|^o. Returns the term; each
 * group's sums[3 g] and sums[3 g + 1] become dterm/dtp and dterm/dfp (= dterm/dfn)
 * times scale, the class weight and the reduction: what the gradient pass reads. */
double mg_loss_dice_finish(const struct mg_loss_args *r, const double *w, int nw, int64_t ng,
			  int64_t nc, double scale, double *sums);
/* Cross entropy's divisor for the mean (1 for "sum"): wsum, the targets' class weights
 * summed, for class indices (idx), else the voxels. */
double mg_loss_ce_divisor(const struct mg_loss_args *r, int idx, double wsum, int64_t voxels);
/* Cross entropy over C classes from nll = sum w_y (-log p_y) and smooth = sum_c a_c
 * (-log p_c) (a_c: w_c for indices, the smoothed target times w_c for probabilities),
 * divided by M. */
double mg_loss_ce_value(const struct mg_loss_args *r, int64_t C, int idx, double nll,
			double smooth, double M);

/* The focal term's divisor: MONAI's mean over the voxels (S per item and class) summed
 * over items and classes ("sum"), or over all of them ("mean"). */
double mg_loss_focal_divisor(const struct mg_loss_args *r, int64_t N, int64_t C, int64_t S);

/* The generated kernels (loss_gen.c) of a loss op (grad 0) or of its gradient op (grad 1),
 * float32 input: the contract of mg_loss_kernel, computed per voxel in float32 (the
 * activation, the per-voxel terms and gradient) with every sum accumulated in float64;
 * the reference kernel where they do not apply (no backend, float64, one-channel cross
 * entropy, more than MG_LOSS_GEN_MAXC channels, labels out of range: the reference
 * reports those). */
enum { MG_LOSS_GEN_MAXC = 8 };
int mg_loss_gen(const struct mg_loss_op *L, int grad, const struct mg_attr *a,
		struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* The gradient rule: dinput from the gradient op grad_op (input, target, dloss) with the
 * forward's attributes; the target gets none (labels are not differentiated). */
int mg_loss_grad(struct mg_grad *c, int grad_op);

/* A loss op file's functions for its opdefs: fn_ref, fn_grad_ref, fn_gen, fn_grad_gen,
 * fn_infer, fn_grad_infer, fn_rule (the gradient rule), for the mg_loss_op L and
 * gradient op grad_op. */
#define MG_LOSS_FNS(fn, L, grad_op)                                                       \
	static int fn##_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,   \
			    struct mg_kctx *k)                                                 \
	{                                                                                      \
		return mg_loss_kernel(&L, 0, a, in, out, k);                                   \
	}                                                                                      \
	static int fn##_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out, \
				 struct mg_kctx *k)                                            \
	{                                                                                      \
		return mg_loss_kernel(&L, 1, a, in, out, k);                                   \
	}                                                                                      \
	static int fn##_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,   \
			    struct mg_kctx *k)                                                 \
	{                                                                                      \
		return mg_loss_gen(&L, 0, a, in, out, k);                                      \
	}                                                                                      \
	static int fn##_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out, \
				 struct mg_kctx *k)                                            \
	{                                                                                      \
		return mg_loss_gen(&L, 1, a, in, out, k);                                      \
	}                                                                                      \
	static int fn##_infer(const struct mg_attr *a, const struct mg_type *in,              \
			      struct mg_type *out, struct mg_err *e)                           \
	{                                                                                      \
		return mg_loss_infer(&L, 0, a, in, out, e);                                    \
	}                                                                                      \
	static int fn##_grad_infer(const struct mg_attr *a, const struct mg_type *in,         \
				   struct mg_type *out, struct mg_err *e)                      \
	{                                                                                      \
		return mg_loss_infer(&L, 1, a, in, out, e);                                    \
	}                                                                                      \
	static int fn##_rule(struct mg_grad *c)                                                \
	{                                                                                      \
		return mg_loss_grad(c, grad_op);                                               \
	}

#endif
