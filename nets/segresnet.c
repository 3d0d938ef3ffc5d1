/* Network: SegResNet
 * MONAI: monai.networks.nets.SegResNet (networks/nets/segresnet.py,
 * networks/blocks/segresnet_block.py)
 *
 * convInit (3x3 convolution, no bias), an optional dropout, then per level i a
 * down-sampling 3x3 convolution of stride 2 (not on level 0) and blocks_down[i] ResBlocks
 * (norm, act, conv, norm, act, conv, plus the input) at init_filters * 2^i channels;
 * the decoder halves the channels with a 1x1 convolution, doubles the size (torch's
 * linear upsampling, align_corners false), adds the encoder's output of that level and
 * runs blocks_up[i] ResBlocks; then norm, act and a 1x1 convolution with bias
 * (use_conv_final). The state_dict lists up_layers before up_samples although the
 * decoder runs each level's up-sample first; the inputs are put in MONAI's order at
 * the end (mg_net_order), as are each ResBlock's (norm1, norm2, conv1, conv2).
 * Difference: MONAI's dropout here is Dropout3d (whole channels); mgc's training graph
 * drops elements (eval, the common use, is the identity in both). */
#include <string.h>

#include "net.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_dims", MG_ATTR_INT, "3", 0, NULL, "2 or 3: must match the input's rank"},
	{"init_filters", MG_ATTR_INT, "8", 0, NULL, "channels of the first level"},
	{"in_channels", MG_ATTR_INT, "1", 0, NULL, "channels of the input"},
	{"out_channels", MG_ATTR_INT, "2", 0, NULL, "channels of the output"},
	{"dropout_prob", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "dropout after the first convolution (training only)"},
	{"act", MG_ATTR_STR, "[\"RELU\", {\"inplace\": true}]", MG_ATTRF_JSON, NULL,
	 "activation: a name or [name, {arguments}]"},
	{"norm", MG_ATTR_STR, "[\"GROUP\", {\"num_groups\": 8}]", MG_ATTRF_JSON, NULL,
	 "normalization: a name or [name, {arguments}] (group, batch, instance)"},
	{"norm_name", MG_ATTR_STR, "\"\"", 0, NULL, "deprecated: \"group\" sets norm to group "
	 "norm of num_groups"},
	{"num_groups", MG_ATTR_INT, "8", 0, NULL, "groups of the deprecated norm_name"},
	{"use_conv_final", MG_ATTR_BOOL, "true", 0, NULL, "end with norm, act and a 1x1 "
	 "convolution to out_channels"},
	{"blocks_down", MG_ATTR_INTS, "[1, 2, 2, 4]", 0, NULL, "ResBlocks of each encoder level"},
	{"blocks_up", MG_ATTR_INTS, "[1, 1, 1]", 0, NULL, "ResBlocks of each decoder level"},
	{"upsample_mode", MG_ATTR_STR, "\"nontrainable\"", 0, "nontrainable",
	 "how the decoder up-samples: linear interpolation (deconv and pixelshuffle are not "
	 "supported)"},
};
enum { A_SDIM, A_FILTERS, A_IN, A_OUT, A_DROPOUT, A_ACT, A_NORM, A_NORM_NAME, A_NUM_GROUPS,
       A_CONV_FINAL, A_DOWN, A_UP, A_UPSAMPLE };

struct segres {
	struct mg_net_layer act, norm;
	struct mg_net_conv conv; /* get_conv_layer: conv only, no bias */
};

/* get_conv_layer(in, out, kernel_size, stride, bias) under child `name`. */
static int32_t conv(struct mg_net *n, const struct segres *s, int32_t x, int64_t cin,
		    int64_t cout, int64_t k, int64_t stride, int bias)
{
	struct mg_net_conv c = s->conv;
	for (int i = 0; i < 3; i++)
		c.k[i] = k, c.stride[i] = stride;
	c.bias = bias;
	return mg_net_convolution(n, x, cin, cout, &c);
}

static int32_t norm_act(struct mg_net *n, const struct segres *s, int32_t x, int64_t c,
			const char *name)
{
	size_t p = mg_net_enter(n, "%s", name);
	x = mg_net_norm(n, x, c, &s->norm);
	mg_net_leave(n, p);
	return mg_net_act(n, x, &s->act);
}

static int32_t res_block(struct mg_net *n, const struct segres *s, int32_t x, int64_t c)
{
	/* norm1 and norm2 come first in the state_dict, then conv1 and conv2 */
	int32_t y = norm_act(n, s, x, c, "norm1");
	size_t p = mg_net_enter(n, "conv1");
	y = conv(n, s, y, c, c, 3, 1, 0);
	mg_net_leave(n, p);
	y = norm_act(n, s, y, c, "norm2");
	p = mg_net_enter(n, "conv2");
	y = conv(n, s, y, c, c, 3, 1, 0);
	mg_net_leave(n, p);
	static const char *const order[] = {"norm1", "norm2", "conv1", "conv2", NULL};
	mg_net_order(n, order);
	int32_t in[2] = {y, x};
	return mg_net_op(n, MG_OP_Add, in, 2, 1, NULL);
}

static int32_t build(struct mg_net *n, const struct mg_attr *a, int32_t x)
{
	const struct mg_attr *down = &a[A_DOWN], *up = &a[A_UP];
	int64_t f = a[A_FILTERS].v.i;
	if (n->sdim != 2 && n->sdim != 3)
		return mg_net_fail(n, "`spatial_dims` can only be 2 or 3");
	if (mg_net_check_input(n, x, a[A_SDIM].v.i, a[A_IN].v.i))
		return -1;
	if (down->n < 1 || up->n >= down->n || down->n > 16)
		return mg_net_fail(n, "blocks_up (%d values) needs fewer levels than blocks_down (%d)",
				   up->n, down->n);
	const char *nn = a[A_NORM_NAME].v.s;
	if (nn[0] && strcmp(nn, "group") && strcmp(nn, "GROUP"))
		return mg_net_fail(n, "Deprecating option 'norm_name=%s', please use 'norm' "
				   "instead.", nn);
	struct segres s;
	memset(&s, 0, sizeof s);
	char norm_text[64];
	snprintf(norm_text, sizeof norm_text, "[\"group\", {\"num_groups\": %lld}]",
		 (long long)a[A_NUM_GROUPS].v.i);
	if (mg_net_layer_parse(n, "act", a[A_ACT].v.s, &s.act) ||
	    mg_net_layer_parse(n, "norm", nn[0] ? norm_text : a[A_NORM].v.s, &s.norm)) {
		mg_net_layer_free(&s.act);
		return -1;
	}
	s.conv.conv_only = 1;
	s.conv.dilation = 1;
	for (int i = 0; i < 3; i++)
		s.conv.padding[i] = -1;
	size_t p = mg_net_enter(n, "convInit");
	int32_t y = conv(n, &s, x, a[A_IN].v.i, f, 3, 1, 0);
	mg_net_leave(n, p);
	if (!a[A_DROPOUT].is_none)
		y = mg_net_dropout(n, y, a[A_DROPOUT].v.f);
	int32_t skip[16];
	for (int i = 0; i < down->n; i++) {
		int64_t c = f << i;
		p = mg_net_enter(n, "down_layers.%d", i);
		if (i > 0) {
			size_t q = mg_net_enter(n, "0");
			y = conv(n, &s, y, c / 2, c, 3, 2, 0);
			mg_net_leave(n, q);
		}
		for (int b = 0; b < down->v.ints[i]; b++) {
			size_t q = mg_net_enter(n, "%d", b + 1);
			y = res_block(n, &s, y, c);
			mg_net_leave(n, q);
		}
		mg_net_leave(n, p);
		skip[i] = y;
	}
	for (int i = 0; i < up->n; i++) {
		int64_t c = f << (up->n - i); /* sample_in_channels */
		p = mg_net_enter(n, "up_samples.%d", i);
		size_t q = mg_net_enter(n, "0");
		y = conv(n, &s, y, c, c / 2, 1, 1, 0);
		mg_net_leave(n, q);
		y = mg_net_op(n, MG_OP_Upsample, &y, 1, 1,
			      "{\"scale_factor\": [2], \"mode\": \"%s\", \"align_corners\": false}",
			      n->sdim == 2 ? "bilinear" : "trilinear");
		mg_net_leave(n, p);
		int32_t in[2] = {y, skip[down->n - 2 - i]};
		y = mg_net_op(n, MG_OP_Add, in, 2, 1, NULL);
		p = mg_net_enter(n, "up_layers.%d", i);
		for (int b = 0; b < up->v.ints[i]; b++) {
			q = mg_net_enter(n, "%d", b);
			y = res_block(n, &s, y, c / 2);
			mg_net_leave(n, q);
		}
		mg_net_leave(n, p);
	}
	if (a[A_CONV_FINAL].v.i) {
		p = mg_net_enter(n, "conv_final");
		y = norm_act(n, &s, y, f, "0");
		size_t q = mg_net_enter(n, "2");
		y = conv(n, &s, y, f, a[A_OUT].v.i, 1, 1, 1);
		mg_net_leave(n, q);
		mg_net_leave(n, p);
	}
	static const char *const order[] = {"convInit", "down_layers", "up_layers", "up_samples",
					    "conv_final", NULL};
	mg_net_order(n, order);
	mg_net_layer_free(&s.act);
	mg_net_layer_free(&s.norm);
	return y;
}

const struct mg_netdef mg_net_segresnet = {
	.name = "SegResNet",
	.synopsis = "MONAI's SegResNet: residual encoder, additive skips, linear up-sampling",
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.build = build,
};
