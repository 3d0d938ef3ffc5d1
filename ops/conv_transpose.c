/* Op: ConvTranspose
 * Synopsis: N-d transposed convolution (torch.nn.functional.conv_transpose1d/2d/3d).
 * MONAI: torch.nn.ConvTranspose1d/2d/3d (MONAI's Convolution with is_transposed=True, the
 * up-sampling path of UNet)
 * Gradient: its backward data is a convolution, its weight gradient the convolution's with
 * the operands swapped (mg_conv_compute, transposed).  Inverse: none.
 *
 * torch 2.x semantics: x (N, C_in, spatial...), weight (C_in, C_out / groups, k...) whose
 * rank gives the spatial rank, bias (C_out) optional. Each spatial axis:
 * out = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1, with
 * output_padding smaller than the stride or the dilation (torch's check). padding is
 * integers only (torch has no "same" here); only padding_mode "zeros". It is the backward
 * data of the Conv of the same geometry, and is computed as that (nn.h): the attributes
 * and the kernel are Conv's, with output_padding added. */
#include "nn.h"

static const struct mg_attrdef attrs[] = {
	{"stride", MG_ATTR_INTS, "1", 0, NULL,
	 "up-sampling step on each spatial axis: one value for all axes or one per axis"},
	{"padding", MG_ATTR_STRS, "0", MG_ATTRF_INT_OK, NULL,
	 "dilation (k - 1) - padding zeros are added to both sides of each axis of the "
	 "input (torch's padding of the convolution this transposes): one integer for all "
	 "axes or one per axis"},
	{"dilation", MG_ATTR_INTS, "1", 0, NULL,
	 "spacing between kernel taps: one value for all axes or one per axis"},
	{"groups", MG_ATTR_INT, "1", 0, NULL,
	 "channel groups: C_in and C_out both divisible by it"},
	{"padding_mode", MG_ATTR_STR, "\"zeros\"", 0, "zeros",
	 "torch's padding_mode (torch's ConvTranspose accepts no other)"},
	{"output_padding", MG_ATTR_INTS, "0", 0, NULL,
	 "extra size added to one side of each output axis (smaller than the stride or the "
	 "dilation): one value for all axes or one per axis"},
};

static int conv_transpose(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			  struct mg_kctx *k)
{
	return mg_conv_kernel("ConvTranspose", 1, MG_DNN_FWD, 0, a, in, out, k);
}

int mg_conv_transpose_kernel_dnn(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				 struct mg_kctx *k)
{
	return mg_conv_kernel("ConvTranspose", 1, MG_DNN_FWD, mg_nn_use_dnn(in, k), a, in,
			      out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_conv_infer("ConvTranspose", 1, MG_DNN_FWD, a, in, out, e);
}

static int grad(struct mg_grad *c)
{
	return mg_conv_grad(c, MG_OP_ConvTransposeGradData, MG_OP_ConvTransposeGradWeight);
}

const struct mg_opdef mg_op_conv_transpose = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ConvTranspose",
	.synopsis = "N-d transposed convolution of (N, C, spatial...) by a weight, plus an "
		    "optional bias",
	.flags = 0,
	.nin = -1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = conv_transpose,
	.gen = mg_conv_transpose_kernel_dnn,
	.grad = grad,
};

/* The gradient ops. */
MG_CONV_PASS(grad_data, "ConvTransposeGradData", 1, MG_DNN_BWD_DATA)
MG_CONV_PASS(grad_weight, "ConvTransposeGradWeight", 1, MG_DNN_BWD_WEIGHTS)

const struct mg_opdef mg_op_conv_transpose_grad_data = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ConvTransposeGradData",
	.synopsis = "dL/dx of a ConvTranspose from x (its shape), weight and dy (made by "
		    "autodiff)",
	.nin = 3,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_data_infer,
	.ref = grad_data_ref,
	.gen = grad_data_gen,
};

const struct mg_opdef mg_op_conv_transpose_grad_weight = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "ConvTransposeGradWeight",
	.synopsis = "dL/dweight (and dL/dbias when given the bias) of a ConvTranspose from x, "
		    "weight and dy (made by autodiff)",
	.nin = -1,
	.nout = -1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = grad_weight_infer,
	.ref = grad_weight_ref,
	.gen = grad_weight_gen,
};
