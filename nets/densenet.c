/* Network: DenseNet, DenseNet121, DenseNet169, DenseNet201, DenseNet264
 * MONAI: monai.networks.nets.DenseNet and its subclasses (networks/nets/densenet.py)
 *
 * A classifier. features: conv0 (7x7, stride 2, padding 3, no bias), norm0, relu0, pool0
 * (3x3 max pooling, stride 2, padding 1); then per dense block i block_config[i]
 * _DenseLayers, each layers.(norm1, relu1, conv1 1x1 to bn_size * growth_rate, norm2,
 * relu2, conv2 3x3 padding 1 to growth_rate, dropout) whose output is concatenated after
 * its input; between blocks a _Transition (norm, relu, 1x1 conv halving the channels,
 * 2x average pooling); norm5 after the last block. class_layers: relu, adaptive average
 * pooling to 1, flatten, out (Linear to out_channels). The subclasses differ only in
 * block_config's default. pretrained (PyTorch Hub's 2D weights) is refused: export
 * them to safetensors and load them with mg_net_load.
 * Difference: MONAI's dropout here is Dropout1d/2d/3d (whole channels); mgc's training
 * graph drops elements (eval is the identity in both). */
#include <string.h>

#include "net.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_dims", MG_ATTR_INT, NULL, 0, NULL, "1, 2 or 3: must match the input's rank"},
	{"in_channels", MG_ATTR_INT, NULL, 0, NULL, "channels of the input"},
	{"out_channels", MG_ATTR_INT, NULL, 0, NULL, "classes: the output is (N, out_channels)"},
	{"init_features", MG_ATTR_INT, "64", 0, NULL, "channels of the first convolution"},
	{"growth_rate", MG_ATTR_INT, "32", 0, NULL, "channels each dense layer adds"},
	{"block_config", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "dense layers of each block (null: the class's, (6, 12, 24, 16) for DenseNet121)"},
	{"bn_size", MG_ATTR_INT, "4", 0, NULL, "bottleneck channels: bn_size * growth_rate"},
	{"act", MG_ATTR_STR, "[\"relu\", {\"inplace\": true}]", MG_ATTRF_JSON, NULL,
	 "activation: a name or [name, {arguments}]"},
	{"norm", MG_ATTR_STR, "\"batch\"", MG_ATTRF_JSON, NULL,
	 "normalization: a name or [name, {arguments}] (batch, instance, group)"},
	{"dropout_prob", MG_ATTR_FLOAT, "0.0", 0, NULL, "dropout after each dense layer "
	 "(training only)"},
	{"pretrained", MG_ATTR_BOOL, "false", 0, NULL, "false only: load exported weights with "
	 "mg_net_load instead"},
	{"progress", MG_ATTR_BOOL, "true", 0, NULL, "ignored (a download's progress bar)"},
};
enum { A_SDIM, A_IN, A_OUT, A_INIT, A_GROWTH, A_BLOCKS, A_BN, A_ACT, A_NORM, A_DROPOUT,
       A_PRETRAINED, A_PROGRESS };

struct dense {
	struct mg_net_layer act, norm;
	double dropout;
};

/* A bare nn.ConvNd without bias under child name. */
static int32_t conv(struct mg_net *n, int32_t x, int64_t cin, int64_t cout, int64_t k,
		    int64_t stride, int64_t pad, const char *name)
{
	struct mg_net_conv c;
	memset(&c, 0, sizeof c);
	c.dilation = 1;
	for (int i = 0; i < 3; i++)
		c.k[i] = k, c.stride[i] = stride, c.padding[i] = pad;
	size_t p = mg_net_enter(n, "%s", name);
	x = mg_net_conv_layer(n, x, cin, cout, &c);
	mg_net_leave(n, p);
	return x;
}

/* norm (child name) and act. */
static int32_t norm_act(struct mg_net *n, const struct dense *d, int32_t x, int64_t c,
			const char *name)
{
	size_t p = mg_net_enter(n, "%s", name);
	x = mg_net_norm(n, x, c, &d->norm);
	mg_net_leave(n, p);
	return mg_net_act(n, x, &d->act);
}

static int32_t dense_layer(struct mg_net *n, const struct dense *d, int32_t x, int64_t cin,
			   int64_t growth, int64_t bn)
{
	size_t p = mg_net_enter(n, "layers");
	int32_t y = conv(n, norm_act(n, d, x, cin, "norm1"), cin, bn * growth, 1, 1, 0, "conv1");
	y = conv(n, norm_act(n, d, y, bn * growth, "norm2"), bn * growth, growth, 3, 1, 1, "conv2");
	y = mg_net_dropout(n, y, d->dropout);
	mg_net_leave(n, p);
	int32_t in[2] = {x, y};
	return mg_net_op(n, MG_OP_Concat, in, 2, 1, "{\"dim\": 1}");
}

static int32_t linear(struct mg_net *n, int32_t x, int64_t cin, int64_t cout)
{
	int64_t wd[2] = {cout, cin};
	int32_t in[3] = {x, mg_net_input(n, "weight", MG_PARAM_LEARNED, MG_DTYPE_F32, 2, wd),
			 mg_net_input(n, "bias", MG_PARAM_LEARNED, MG_DTYPE_F32, 1, &cout)};
	return mg_net_op(n, MG_OP_Linear, in, 3, 1, NULL);
}

static int32_t build(struct mg_net *n, const struct mg_attr *a, int32_t x,
		     const int64_t *dflt_blocks)
{
	const struct mg_attr *bc = &a[A_BLOCKS];
	const int64_t *blocks = bc->is_none ? dflt_blocks : bc->v.ints;
	int nblocks = bc->is_none ? 4 : bc->n;
	int64_t c = a[A_INIT].v.i, growth = a[A_GROWTH].v.i, bn = a[A_BN].v.i;
	if (mg_net_check_input(n, x, a[A_SDIM].v.i, a[A_IN].v.i))
		return -1;
	if (a[A_PRETRAINED].v.i)
		return mg_net_fail(n, "pretrained weights are not downloaded: export them with "
				   "safetensors and load them with mg_net_load");
	if (nblocks < 1 || c < 1 || growth < 1 || bn < 1)
		return mg_net_fail(n, "block_config needs one or more blocks, and init_features, "
				   "growth_rate and bn_size must be positive");
	for (int i = 0; i < nblocks; i++)
		if (blocks[i] < 0)
			return mg_net_fail(n, "block_config[%d] is %lld", i, (long long)blocks[i]);
	struct dense d = {.dropout = a[A_DROPOUT].v.f};
	if (mg_net_layer_parse(n, "act", a[A_ACT].v.s, &d.act))
		return -1;
	if (mg_net_layer_parse(n, "norm", a[A_NORM].v.s, &d.norm)) {
		mg_net_layer_free(&d.act);
		return -1;
	}
	size_t p = mg_net_enter(n, "features");
	int32_t y = conv(n, x, a[A_IN].v.i, c, 7, 2, 3, "conv0");
	y = norm_act(n, &d, y, c, "norm0");
	y = mg_net_op(n, MG_OP_MaxPool, &y, 1, 1, "{\"kernel_size\": 3, \"stride\": 2, "
		      "\"padding\": 1}");
	for (int i = 0; i < nblocks; i++) {
		size_t q = mg_net_enter(n, "denseblock%d", i + 1);
		for (int j = 0; j < blocks[i]; j++, c += growth) {
			size_t r = mg_net_enter(n, "denselayer%d", j + 1);
			y = dense_layer(n, &d, y, c, growth, bn);
			mg_net_leave(n, r);
		}
		mg_net_leave(n, q);
		if (i == nblocks - 1) {
			size_t r = mg_net_enter(n, "norm5");
			y = mg_net_norm(n, y, c, &d.norm);
			mg_net_leave(n, r);
			break;
		}
		q = mg_net_enter(n, "transition%d", i + 1);
		y = conv(n, norm_act(n, &d, y, c, "norm"), c, c / 2, 1, 1, 0, "conv");
		y = mg_net_op(n, MG_OP_AvgPool, &y, 1, 1, "{\"kernel_size\": 2, \"stride\": 2}");
		mg_net_leave(n, q);
		c /= 2;
	}
	mg_net_leave(n, p);
	p = mg_net_enter(n, "class_layers");
	y = mg_net_act(n, y, &d.act);
	y = mg_net_op(n, MG_OP_AdaptiveAvgPool, &y, 1, 1, "{\"output_size\": 1}");
	y = mg_net_op(n, MG_OP_Flatten, &y, 1, 1, "{\"start_dim\": 1}");
	size_t q = mg_net_enter(n, "out");
	y = linear(n, y, c, a[A_OUT].v.i);
	mg_net_leave(n, q);
	mg_net_leave(n, p);
	mg_net_layer_free(&d.act);
	mg_net_layer_free(&d.norm);
	return y;
}

/* DenseNet.__init__'s loop: kaiming_normal_ convolutions (a = 0), Linear bias 0 (its
 * batch norms' 1 and 0 are torch's defaults anyway). */
static const struct mg_net_init init = {.a = 0};

/* The classes, their block_config defaults and MONAI's other names for them. */
#define DENSENET(cls, title, b0, b1, b2, b3, ...)                                        \
	static int32_t build_##cls(struct mg_net *n, const struct mg_attr *a, int32_t x)  \
	{                                                                                 \
		static const int64_t blocks[4] = {b0, b1, b2, b3};                        \
		return build(n, a, x, blocks);                                            \
	}                                                                                 \
	const struct mg_netdef mg_net_##cls = {                                           \
		.name = title,                                                            \
		.synopsis = "MONAI's " title ": a dense-block classifier, block_config "  \
			    "(" #b0 ", " #b1 ", " #b2 ", " #b3 ") by default",            \
		.attrs = attrs,                                                           \
		.nattrs = sizeof attrs / sizeof *attrs,                                   \
		.build = build_##cls,                                                     \
		.init = &init,                                                            \
		.aliases = (const char *const[]){__VA_ARGS__, NULL},                      \
	};
DENSENET(densenet, "DenseNet", 6, 12, 24, 16, "Densenet")
DENSENET(densenet121, "DenseNet121", 6, 12, 24, 16, "Densenet121", "densenet121")
DENSENET(densenet169, "DenseNet169", 6, 12, 32, 32, "Densenet169", "densenet169")
DENSENET(densenet201, "DenseNet201", 6, 12, 48, 32, "Densenet201", "densenet201")
DENSENET(densenet264, "DenseNet264", 6, 12, 64, 48, "Densenet264", "densenet264")
