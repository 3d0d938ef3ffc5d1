/* Network: UNet
 * MONAI: monai.networks.nets.UNet (networks/nets/unet.py)
 *
 * MONAI builds the network recursively: each level is Sequential(down,
 * SkipConnection(next level), up), the skip concatenating the level's input to the
 * next level's output along the channels; the deepest level's "next" is the bottom
 * layer. down is a ResidualUnit (num_res_units > 0) or a Convolution with the level's
 * stride; up is a transposed Convolution (up_kernel_size, the level's stride), followed
 * by a one-subunit ResidualUnit when num_res_units > 0. The top level's up layer ends
 * without norm and activation. State_dict keys follow the same tree: "model.0...",
 * "model.1.submodule...", "model.2...". */
#include <string.h>

#include "net.h"

static const struct mg_attrdef attrs[] = {
	{"spatial_dims", MG_ATTR_INT, NULL, 0, NULL, "1, 2 or 3: must match the input's rank"},
	{"in_channels", MG_ATTR_INT, NULL, 0, NULL, "channels of the input"},
	{"out_channels", MG_ATTR_INT, NULL, 0, NULL, "channels of the output"},
	{"channels", MG_ATTR_INTS, NULL, 0, NULL, "channels of each level, top first (2 or more)"},
	{"strides", MG_ATTR_INTS, NULL, 0, NULL,
	 "each level's down-sampling stride (len(channels) - 1 values; extra ones unused)"},
	{"kernel_size", MG_ATTR_INTS, "3", 0, NULL, "convolution kernel: one value or one per axis"},
	{"up_kernel_size", MG_ATTR_INTS, "3", 0, NULL,
	 "transposed convolution kernel: one value or one per axis"},
	{"num_res_units", MG_ATTR_INT, "0", 0, NULL, "subunits of each down ResidualUnit; 0: plain "
	 "convolutions"},
	{"act", MG_ATTR_STR, "\"PRELU\"", MG_ATTRF_JSON | MG_ATTRF_NULLABLE, NULL,
	 "activation: a name or [name, {arguments}] (prelu, relu, leakyrelu, elu, gelu, "
	 "sigmoid, tanh)"},
	{"norm", MG_ATTR_STR, "\"INSTANCE\"", MG_ATTRF_JSON | MG_ATTRF_NULLABLE, NULL,
	 "normalization: a name or [name, {arguments}] (batch, instance, group)"},
	{"dropout", MG_ATTR_STR, "0.0", MG_ATTRF_JSON | MG_ATTRF_NULLABLE, NULL,
	 "dropout: a probability, \"dropout\" or [\"dropout\", {\"p\": P}]"},
	{"bias", MG_ATTR_BOOL, "true", 0, NULL, "convolutions have a bias"},
	{"adn_ordering", MG_ATTR_STR, "\"NDA\"", 0, NULL, "order of norm, dropout and activation"},
};
enum { A_SDIM, A_IN, A_OUT, A_CHANNELS, A_STRIDES, A_KERNEL, A_UPKERNEL, A_RES, A_ACT, A_NORM,
       A_DROPOUT, A_BIAS, A_ORDER };

struct unet {
	const struct mg_attr *a;
	struct mg_net_conv conv, up; /* the down and up layers' arguments */
	int res;
};

static int32_t down_layer(struct mg_net *n, const struct unet *u, int32_t x, int64_t cin,
			  int64_t cout, int64_t stride)
{
	struct mg_net_conv c = u->conv;
	for (int i = 0; i < 3; i++)
		c.stride[i] = stride;
	return u->res ? mg_net_residual_unit(n, x, cin, cout, &c, u->res, 0)
		      : mg_net_convolution(n, x, cin, cout, &c);
}

static int32_t up_layer(struct mg_net *n, const struct unet *u, int32_t x, int64_t cin,
			int64_t cout, int64_t stride, int top)
{
	struct mg_net_conv c = u->up;
	for (int i = 0; i < 3; i++)
		c.stride[i] = stride;
	c.conv_only = top && !u->res;
	if (!u->res)
		return mg_net_convolution(n, x, cin, cout, &c);
	size_t s = mg_net_enter(n, "0"); /* Sequential(conv, ResidualUnit) */
	x = mg_net_convolution(n, x, cin, cout, &c);
	mg_net_leave(n, s);
	s = mg_net_enter(n, "1");
	x = mg_net_residual_unit(n, x, cout, cout, &u->conv, 1, top);
	mg_net_leave(n, s);
	return x;
}

/* Level `level` on x of cin channels: Sequential(down, SkipConnection(sub), up). */
static int32_t level(struct mg_net *n, const struct unet *u, int32_t x, int64_t cin,
		     int64_t cout, int lv)
{
	const struct mg_attr *ch = &u->a[A_CHANNELS];
	int64_t c = ch->v.ints[lv], s = u->a[A_STRIDES].v.ints[lv], upc;
	size_t p = mg_net_enter(n, "0");
	int32_t d = down_layer(n, u, x, cin, c, s);
	mg_net_leave(n, p);
	p = mg_net_enter(n, "1");
	size_t p2 = mg_net_enter(n, "submodule");
	int32_t sub;
	if (ch->n - lv > 2) {
		sub = level(n, u, d, c, c, lv + 1);
		upc = 2 * c;
	} else { /* the bottom layer */
		sub = down_layer(n, u, d, c, ch->v.ints[lv + 1], 1);
		upc = c + ch->v.ints[lv + 1];
	}
	mg_net_leave(n, p2);
	int32_t cat[2] = {d, sub};
	int32_t y = mg_net_op(n, MG_OP_Concat, cat, 2, 1, "{\"dim\": 1}");
	mg_net_leave(n, p);
	p = mg_net_enter(n, "2");
	y = up_layer(n, u, y, upc, cout, s, lv == 0);
	mg_net_leave(n, p);
	return y;
}

/* A kernel_size argument: one value for every axis or one per axis, odd. */
static int kernel(struct mg_net *n, const char *arg, const struct mg_attr *k, int64_t out[3])
{
	if (k->n != 1 && k->n != n->sdim)
		return mg_net_fail(n, "the length of %s (%d) should be 1 or spatial_dims (%d)", arg,
				   k->n, n->sdim);
	for (int i = 0; i < 3; i++) {
		out[i] = k->v.ints[k->n == 1 ? 0 : i < k->n ? i : 0];
		if (out[i] < 1)
			return mg_net_fail(n, "%s must be positive", arg);
	}
	return 0;
}

static int32_t build(struct mg_net *n, const struct mg_attr *a, int32_t x)
{
	const struct mg_attr *ch = &a[A_CHANNELS], *st = &a[A_STRIDES];
	if (mg_net_check_input(n, x, a[A_SDIM].v.i, a[A_IN].v.i))
		return -1;
	if (ch->n < 2)
		return mg_net_fail(n, "the length of `channels` should be no less than 2");
	if (st->n < ch->n - 1)
		return mg_net_fail(n, "the length of `strides` should equal to `len(channels) - 1`");
	struct unet u = {.a = a, .res = (int)a[A_RES].v.i};
	struct mg_net_layer act, norm;
	int has_act = !a[A_ACT].is_none, has_norm = !a[A_NORM].is_none;
	memset(&act, 0, sizeof act);
	memset(&norm, 0, sizeof norm);
	if ((has_act && mg_net_layer_parse(n, "act", a[A_ACT].v.s, &act)) ||
	    (has_norm && mg_net_layer_parse(n, "norm", a[A_NORM].v.s, &norm)) ||
	    kernel(n, "kernel_size", &a[A_KERNEL], u.conv.k) ||
	    kernel(n, "up_kernel_size", &a[A_UPKERNEL], u.up.k)) {
		mg_net_layer_free(&act);
		mg_net_layer_free(&norm);
		return -1;
	}
	u.conv.dilation = 1;
	for (int i = 0; i < 3; i++)
		u.conv.stride[i] = 1;
	u.conv.bias = (int)a[A_BIAS].v.i;
	u.conv.ordering = a[A_ORDER].v.s;
	u.conv.act = has_act ? &act : NULL;
	u.conv.norm = has_norm ? &norm : NULL;
	u.conv.dropout = mg_net_dropout_arg(n, "dropout", &a[A_DROPOUT]);
	for (int i = 0; i < 3; i++)
		u.conv.padding[i] = -1;
	int64_t k[3];
	memcpy(k, u.up.k, sizeof k);
	u.up = u.conv;
	memcpy(u.up.k, k, sizeof k);
	u.up.transposed = 1;
	size_t p = mg_net_enter(n, "model");
	int32_t y = level(n, &u, x, a[A_IN].v.i, a[A_OUT].v.i, 0);
	mg_net_leave(n, p);
	mg_net_layer_free(&act);
	mg_net_layer_free(&norm);
	return y;
}

const struct mg_netdef mg_net_unet = {
	.aliases = (const char *const[]){"Unet", NULL},
	.name = "UNet",
	.synopsis = "MONAI's UNet: residual units optional, skip connections by concatenation",
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.build = build,
};
