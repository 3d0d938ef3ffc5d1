/* Network: BasicUNet
 * MONAI: monai.networks.nets.BasicUNet (networks/nets/basic_unet.py)
 *
 * Five encoder levels of TwoConv (two 3x3 Convolutions with norm, dropout and act; the
 * first after a 2x max pooling from level 1 on) and four UpCat decoder levels: a
 * transposed convolution of kernel and stride 2 (halving the channels but on the last),
 * the encoder's output concatenated before it after a one-voxel replicate pad at the end
 * of each axis that came out shorter (odd sizes), then TwoConv; a 1x1 convolution last.
 * Only upsample "deconv" (MONAI's default) is built. */
#include <string.h>

#include "net.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_dims", MG_ATTR_INT, "3", 0, NULL, "1, 2 or 3: must match the input's rank"},
	{"in_channels", MG_ATTR_INT, "1", 0, NULL, "channels of the input"},
	{"out_channels", MG_ATTR_INT, "2", 0, NULL, "channels of the output"},
	{"features", MG_ATTR_INTS, "[32, 32, 64, 128, 256, 32]", 0, NULL,
	 "six channel counts: the five encoder levels, then the last decoder level"},
	{"act", MG_ATTR_STR, "[\"LeakyReLU\", {\"negative_slope\": 0.1, \"inplace\": true}]",
	 MG_ATTRF_JSON, NULL, "activation: a name or [name, {arguments}]"},
	{"norm", MG_ATTR_STR, "[\"instance\", {\"affine\": true}]", MG_ATTRF_JSON, NULL,
	 "normalization: a name or [name, {arguments}]"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL, "convolutions have a bias"},
	{"dropout", MG_ATTR_STR, "0.0", MG_ATTRF_JSON | MG_ATTRF_NULLABLE, NULL,
	 "dropout: a probability, \"dropout\" or [\"dropout\", {\"p\": P}]"},
	{"upsample", MG_ATTR_STR, "\"deconv\"", 0, "deconv",
	 "decoder up-sampling: a transposed convolution (nontrainable and pixelshuffle are not "
	 "supported)"},
};
enum { A_SDIM, A_IN, A_OUT, A_FEATURES, A_ACT, A_NORM, A_BIAS, A_DROPOUT, A_UPSAMPLE };

/* TwoConv(cin, cout) under the current prefix: conv_0, conv_1. */
static int32_t two_conv(struct mg_net *n, const struct mg_net_conv *c, int32_t x, int64_t cin,
			int64_t cout)
{
	size_t p = mg_net_enter(n, "conv_0");
	x = mg_net_convolution(n, x, cin, cout, c);
	mg_net_leave(n, p);
	p = mg_net_enter(n, "conv_1");
	x = mg_net_convolution(n, x, cout, cout, c);
	mg_net_leave(n, p);
	return x;
}

/* UpCat: up-sample x (cin channels) to cup channels, pad it to the encoder's e, cat
 * (e first), TwoConv to cout. */
static int32_t up_cat(struct mg_net *n, const struct mg_net_conv *c, int32_t x, int32_t e,
		      int64_t cin, int64_t ccat, int64_t cup, int64_t cout)
{
	struct mg_net_conv up = *c;
	up.transposed = 1;
	up.bias = 1; /* UpSample's default, whatever the network's bias */
	up.outpad_zero = 1; /* UpSample's transposed convolution has no output_padding */
	for (int i = 0; i < 3; i++)
		up.k[i] = 2, up.stride[i] = 2, up.padding[i] = 0;
	size_t p = mg_net_enter(n, "upsample");
	size_t q = mg_net_enter(n, "deconv");
	int32_t u = mg_net_conv_layer(n, x, cin, cup, &up);
	mg_net_leave(n, q);
	mg_net_leave(n, p);
	if (u >= 0 && e >= 0) {
		const struct mg_type *tu = &n->g->values[u].type, *te = &n->g->values[e].type;
		char pad[128] = "[";
		int any = 0;
		for (int i = 0; i < n->sdim; i++) { /* torch's pad list: the last axis first */
			int d = tu->rank - 1 - i;
			any |= tu->dims[d] != te->dims[d];
			snprintf(pad + strlen(pad), sizeof pad - strlen(pad), "%s0, %d", i ? ", " : "",
				 tu->dims[d] != te->dims[d]);
		}
		strcat(pad, "]");
		if (any)
			u = mg_net_op(n, MG_OP_Pad, &u, 1, 1, "{\"pad\": %s, \"mode\": \"replicate\"}",
				      pad);
	}
	int32_t in[2] = {e, u};
	int32_t y = mg_net_op(n, MG_OP_Concat, in, 2, 1, "{\"dim\": 1}");
	p = mg_net_enter(n, "convs");
	y = two_conv(n, c, y, ccat + cup, cout);
	mg_net_leave(n, p);
	return y;
}

static int32_t build(struct mg_net *n, const struct mg_attr *a, int32_t x)
{
	const struct mg_attr *ft = &a[A_FEATURES];
	if (mg_net_check_input(n, x, a[A_SDIM].v.i, a[A_IN].v.i))
		return -1;
	if (ft->n != 6 && ft->n != 1)
		return mg_net_fail(n, "features has %d values; expected 6", ft->n);
	int64_t f[6];
	for (int i = 0; i < 6; i++)
		f[i] = ft->v.ints[ft->n == 1 ? 0 : i];
	struct mg_net_layer act, norm;
	if (mg_net_layer_parse(n, "act", a[A_ACT].v.s, &act))
		return -1;
	if (mg_net_layer_parse(n, "norm", a[A_NORM].v.s, &norm)) {
		mg_net_layer_free(&act);
		return -1;
	}
	struct mg_net_conv c;
	memset(&c, 0, sizeof c);
	for (int i = 0; i < 3; i++)
		c.k[i] = 3, c.stride[i] = 1, c.padding[i] = 1;
	c.dilation = 1;
	c.bias = (int)a[A_BIAS].v.i;
	c.ordering = "NDA";
	c.act = &act;
	c.norm = &norm;
	c.dropout = mg_net_dropout_arg(n, "dropout", &a[A_DROPOUT]);
	int32_t lv[5];
	size_t p = mg_net_enter(n, "conv_0");
	lv[0] = two_conv(n, &c, x, a[A_IN].v.i, f[0]);
	mg_net_leave(n, p);
	char ks[32];
	const int64_t two[3] = {2, 2, 2};
	mg_net_list(ks, sizeof ks, two, n->sdim);
	for (int i = 1; i < 5; i++) {
		p = mg_net_enter(n, "down_%d", i);
		int32_t m = mg_net_op(n, MG_OP_MaxPool, &lv[i - 1], 1, 1, "{\"kernel_size\": %s}", ks);
		size_t q = mg_net_enter(n, "convs");
		lv[i] = two_conv(n, &c, m, f[i - 1], f[i]);
		mg_net_leave(n, q);
		mg_net_leave(n, p);
	}
	int32_t y = lv[4];
	for (int i = 4; i >= 1; i--) {
		int64_t cin = i == 4 ? f[4] : f[i];
		int64_t cup = i == 1 ? cin : cin / 2; /* upcat_1 does not halve */
		p = mg_net_enter(n, "upcat_%d", i);
		y = up_cat(n, &c, y, lv[i - 1], cin, f[i - 1], cup, i == 1 ? f[5] : f[i - 1]);
		mg_net_leave(n, p);
	}
	struct mg_net_conv fc = c;
	for (int i = 0; i < 3; i++)
		fc.k[i] = 1, fc.padding[i] = 0;
	fc.bias = 1;
	p = mg_net_enter(n, "final_conv");
	y = mg_net_conv_layer(n, y, f[5], a[A_OUT].v.i, &fc);
	mg_net_leave(n, p);
	mg_net_layer_free(&act);
	mg_net_layer_free(&norm);
	return y;
}

const struct mg_netdef mg_net_basic_unet = {
	.aliases = (const char *const[]){"BasicUnet", "Basicunet", "basicunet", NULL},
	.name = "BasicUNet",
	.synopsis = "MONAI's BasicUNet: five levels of two convolutions, max pooling, "
		    "transposed-convolution up-sampling",
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.build = build,
};
