/* Network: DynUNet
 * MONAI: monai.networks.nets.DynUNet (networks/nets/dynunet.py,
 * networks/blocks/dynunet_block.py)
 *
 * nnU-Net's U-Net: len(strides) levels of per-level (possibly anisotropic) kernel and
 * stride. Level 0 is input_block, levels 1 .. n-1 downsamples, level n the bottleneck,
 * each a UnetBasicBlock (conv, norm, act, conv, norm, act) or, with res_block, a
 * UnetResBlock (the same plus a 1x1 strided conv3 and norm3 on the input when the
 * stride or the channels change, added before the last act). The first conv of a block
 * has the level's stride and padding (k - s + 1) / 2. Each decoder level (upsamples,
 * deepest first) is a transposed convolution of kernel and stride upsample_kernel_size
 * (bias trans_bias), its output concatenated before the encoder's, then a
 * UnetBasicBlock; output_block is a 1x1 convolution with bias. Deep supervision: decoder
 * levels 1 .. deep_supr_num get a 1x1 head (deep_supervision_heads); in training the
 * output stacks the final head and the heads upsampled (nearest) to its size on a new
 * axis 1, (N, 1 + deep_supr_num, C, ...); in eval it is the final head alone.
 * MONAI reaches every block a second time through its recursive skip_layers, so its
 * state_dict lists each block's tensors again under skip_layers.(next_layer.)*
 * (downsample|upsample|super_head), or skip_layers.(next_layer.)^n for the bottleneck:
 * the graph has one input per tensor, named by its first key, and the second keys are
 * graph aliases (mg_graph.aliases). */
#include <cjson/cJSON.h>
#include <string.h>

#include "net.h"

enum { MAXLV = 16 };

static const int64_t one[3] = {1, 1, 1}; /* a 1x1 kernel, stride 1 */

static const struct mg_attrdef attrs[] = {
	{"spatial_dims", MG_ATTR_INT, NULL, 0, NULL, "1, 2 or 3: must match the input's rank"},
	{"in_channels", MG_ATTR_INT, NULL, 0, NULL, "channels of the input"},
	{"out_channels", MG_ATTR_INT, NULL, 0, NULL, "channels of the output"},
	{"kernel_size", MG_ATTR_STR, NULL, MG_ATTRF_JSON, NULL,
	 "each level's kernel: a list of ints or of per-axis lists (3 or more levels)"},
	{"strides", MG_ATTR_STR, NULL, MG_ATTRF_JSON, NULL,
	 "each level's stride: a list of ints or of per-axis lists, as long as kernel_size"},
	{"upsample_kernel_size", MG_ATTR_STR, NULL, MG_ATTRF_JSON, NULL,
	 "each decoder level's transposed-convolution kernel and stride (strides[1:])"},
	{"filters", MG_ATTR_INTS, "null", MG_ATTRF_NULLABLE, NULL,
	 "channels of each level (null: min(2^(5+i), 320 in 3D, 512 in 2D))"},
	{"dropout", MG_ATTR_STR, "null", MG_ATTRF_JSON | MG_ATTRF_NULLABLE, NULL,
	 "dropout after each convolution (training only): a probability, \"dropout\" or "
	 "[\"dropout\", {\"p\": P}]"},
	{"norm_name", MG_ATTR_STR, "[\"INSTANCE\", {\"affine\": true}]", MG_ATTRF_JSON, NULL,
	 "normalization: a name or [name, {arguments}] (instance, batch, group)"},
	{"act_name", MG_ATTR_STR,
	 "[\"leakyrelu\", {\"inplace\": true, \"negative_slope\": 0.01}]", MG_ATTRF_JSON, NULL,
	 "activation: a name or [name, {arguments}]"},
	{"deep_supervision", MG_ATTR_BOOL, "false", 0, NULL,
	 "heads on decoder levels 1 .. deep_supr_num, stacked with the output in training"},
	{"deep_supr_num", MG_ATTR_INT, "1", 0, NULL,
	 "deep supervision heads: at least 1, fewer than len(strides) - 1"},
	{"res_block", MG_ATTR_BOOL, "false", 0, NULL, "residual encoder blocks (UnetResBlock)"},
	{"trans_bias", MG_ATTR_BOOL, "false", 0, NULL, "the transposed convolutions have a bias"},
};
enum { A_SDIM, A_IN, A_OUT, A_KERNEL, A_STRIDES, A_UPK, A_FILTERS, A_DROPOUT, A_NORM, A_ACT,
       A_DS, A_DSNUM, A_RES, A_TBIAS };

struct dyn {
	int64_t k[MAXLV][3], s[MAXLV][3], upk[MAXLV][3], f[MAXLV];
	int nlv, nup; /* levels (len(strides)); upsample_kernel_size values */
	struct mg_net_layer norm, act;
	double dropout; /* < 0: none */
	int res;
};

/* A list of per-level values, each an int or a list of sdim ints, into v[level][axis]. */
static int levels(struct mg_net *n, const char *arg, const char *text, int64_t v[][3])
{
	cJSON *j = cJSON_Parse(text);
	int count = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1, bad = count < 0 || count > MAXLV;
	for (int i = 0; !bad && i < count; i++) {
		const cJSON *e = cJSON_GetArrayItem(j, i);
		if (cJSON_IsNumber(e)) {
			for (int d = 0; d < 3; d++)
				v[i][d] = (int64_t)e->valuedouble;
			continue;
		}
		if (cJSON_GetArraySize(e) != n->sdim || !cJSON_IsArray(e)) {
			cJSON_Delete(j);
			return mg_net_fail(n, "length of %s in block %d should be the same as "
					   "spatial_dims.", !strcmp(arg, "strides") ? "stride" : arg, i);
		}
		for (int d = 0; d < n->sdim; d++) {
			const cJSON *x = cJSON_GetArrayItem(e, d);
			bad |= !cJSON_IsNumber(x);
			v[i][d] = bad ? 0 : (int64_t)x->valuedouble;
		}
	}
	cJSON_Delete(j);
	if (bad)
		return mg_net_fail(n, "%s: %s is not a list (at most %d) of ints or of per-axis lists",
				   arg, text, MAXLV);
	return count;
}

/* get_conv_layer: a Convolution without norm and act (dropout only), MONAI's padding
 * (k - s + 1) / 2 (0 for the transposed ones, whose kernel is their stride). */
static int32_t conv(struct mg_net *n, const struct dyn *d, int32_t x, int64_t cin,
		    int64_t cout, const int64_t *k, const int64_t *s, int bias, int transposed,
		    const char *name)
{
	struct mg_net_conv c;
	memset(&c, 0, sizeof c);
	c.dilation = 1;
	c.bias = bias;
	c.transposed = transposed;
	c.outpad_zero = 1;
	c.ordering = "NDA";
	c.dropout = d->dropout;
	for (int i = 0; i < n->sdim; i++) {
		if (k[i] - s[i] + 1 < 0)
			return mg_net_fail(n, "padding value should not be negative, please change the "
					   "kernel size and/or stride (kernel %lld, stride %lld).",
					   (long long)k[i], (long long)s[i]);
		c.k[i] = k[i], c.stride[i] = s[i];
		c.padding[i] = transposed ? 0 : (k[i] - s[i] + 1) / 2;
	}
	size_t p = mg_net_enter(n, "%s", name);
	x = mg_net_convolution(n, x, cin, cout, &c);
	mg_net_leave(n, p);
	return x;
}

static int32_t norm(struct mg_net *n, const struct dyn *d, int32_t x, int64_t c, const char *name)
{
	size_t p = mg_net_enter(n, "%s", name);
	x = mg_net_norm(n, x, c, &d->norm);
	mg_net_leave(n, p);
	return x;
}

/* UnetBasicBlock or UnetResBlock (res) with the first convolution's stride s. */
static int32_t block(struct mg_net *n, const struct dyn *d, int32_t x, int64_t cin, int64_t cout,
		     const int64_t *k, const int64_t *s, int res)
{
	int32_t y = conv(n, d, x, cin, cout, k, s, 0, 0, "conv1");
	y = mg_net_act(n, norm(n, d, y, cout, "norm1"), &d->act);
	y = norm(n, d, conv(n, d, y, cout, cout, k, one, 0, 0, "conv2"), cout, "norm2");
	if (res) {
		int down = cin != cout;
		for (int i = 0; i < n->sdim; i++)
			down |= s[i] != 1;
		if (down)
			x = norm(n, d, conv(n, d, x, cin, cout, one, s, 0, 0, "conv3"), cout, "norm3");
		int32_t in[2] = {y, x};
		y = mg_net_op(n, MG_OP_Add, in, 2, 1, NULL);
	}
	/* MONAI registers conv1, conv2, then the norms */
	static const char *const order[] = {"conv1", "conv2", "norm1", "norm2", "conv3", "norm3",
					    NULL};
	mg_net_order(n, order);
	return mg_net_act(n, y, &d->act);
}

/* UnetOutBlock: a 1x1 convolution with bias. */
static int32_t out_block(struct mg_net *n, const struct dyn *d, int32_t x, int64_t cin,
			 int64_t cout)
{
	return conv(n, d, x, cin, cout, one, one, 1, 0, "conv");
}

/* Skip layer i: its encoder block, the deeper levels, its decoder block (UnetUpBlock);
 * the decoder output into up[i]. */
static int32_t skip_layer(struct mg_net *n, const struct dyn *d, int32_t x, int64_t cin, int i,
			  int trans_bias, int32_t *up)
{
	int last = d->nlv - 1;
	size_t p = i ? mg_net_enter(n, "downsamples.%d", i - 1) : mg_net_enter(n, "input_block");
	int32_t down = block(n, d, x, cin, d->f[i], d->k[i], d->s[i], d->res);
	mg_net_leave(n, p);
	int32_t next;
	if (i + 1 < last) {
		next = skip_layer(n, d, down, d->f[i], i + 1, trans_bias, up);
	} else {
		p = mg_net_enter(n, "bottleneck");
		next = block(n, d, down, d->f[i], d->f[last], d->k[last], d->s[last], d->res);
		mg_net_leave(n, p);
	}
	const int64_t *uk = d->upk[d->nup - (last - i)];
	p = mg_net_enter(n, "upsamples.%d", last - 1 - i);
	int32_t u = conv(n, d, next, d->f[i + 1], d->f[i], uk, uk, trans_bias, 1, "transp_conv");
	int32_t in[2] = {u, down};
	u = mg_net_op(n, MG_OP_Concat, in, 2, 1, "{\"dim\": 1}");
	size_t q = mg_net_enter(n, "conv_block");
	up[i] = block(n, d, u, 2 * d->f[i], d->f[i], d->k[i + 1], one, 0);
	mg_net_leave(n, q);
	mg_net_leave(n, p);
	return up[i];
}

/* The inputs under module prefix from (their first keys) get aliases under `to`. */
static void alias(struct mg_net *n, const char *from, const char *to)
{
	struct mg_graph *g = n->g;
	size_t fl = strlen(from);
	for (int i = n->first_input; i < g->ninputs && !n->e->code; i++) {
		const char *key = g->values[g->inputs[i]].name;
		char name[600];
		if (strncmp(key, from, fl))
			continue;
		snprintf(name, sizeof name, "%s%s", to, key + fl);
		mg_graph_add_alias(g, name, g->inputs[i], n->e);
	}
}

/* skip_layers' keys in MONAI's order: downsample, next_layer, upsample, super_head. */
static void skip_aliases(struct mg_net *n, const struct dyn *d, int i, int nheads, char *path)
{
	char from[64], to[600];
	size_t pl = strlen(path);
	int last = d->nlv - 1;
	snprintf(from, sizeof from, i ? "downsamples.%d." : "input_block.", i - 1);
	snprintf(to, sizeof to, "%sdownsample.", path);
	alias(n, from, to);
	snprintf(path + pl, 600 - pl, "next_layer.");
	if (i + 1 < last)
		skip_aliases(n, d, i + 1, nheads, path);
	else
		alias(n, "bottleneck.", path);
	path[pl] = 0;
	snprintf(from, sizeof from, "upsamples.%d.", last - 1 - i);
	snprintf(to, sizeof to, "%supsample.", path);
	alias(n, from, to);
	if (i >= 1 && i <= nheads) {
		snprintf(from, sizeof from, "deep_supervision_heads.%d.", i - 1);
		snprintf(to, sizeof to, "%ssuper_head.", path);
		alias(n, from, to);
	}
}

/* The arguments MONAI checks, in its words. */
static int check(struct mg_net *n, const struct mg_attr *a, struct dyn *d)
{
	int nk = levels(n, "kernel_size", a[A_KERNEL].v.s, d->k);
	int ns = nk < 0 ? -1 : levels(n, "strides", a[A_STRIDES].v.s, d->s);
	d->nup = ns < 0 ? -1 : levels(n, "upsample_kernel_size", a[A_UPK].v.s, d->upk);
	if (d->nup < 0)
		return -1;
	if (nk != ns || nk < 3)
		return mg_net_fail(n, "length of kernel_size and strides should be the same, and no "
				   "less than 3.");
	d->nlv = nk;
	/* fewer fail in MONAI's create_skips ("%d != %d"); of more it uses the last ones */
	if (d->nup < nk - 1)
		return mg_net_fail(n, "upsample_kernel_size has %d values; the %d decoder levels need "
				   "%d (strides[1:])", d->nup, nk - 1, nk - 1);
	const struct mg_attr *f = &a[A_FILTERS];
	if (!f->is_none && f->n < nk)
		return mg_net_fail(n, "length of filters should be no less than the length of strides.");
	for (int i = 0; i < nk; i++) {
		int64_t cap = n->sdim == 3 ? 320 : 512, dflt = (int64_t)32 << i;
		d->f[i] = !f->is_none ? f->v.ints[i] : dflt < cap ? dflt : cap;
		if (d->f[i] < 1)
			return mg_net_fail(n, "filters[%d] is %lld", i, (long long)d->f[i]);
	}
	for (int i = 0; i < nk || i < d->nup; i++)
		for (int ax = 0; ax < n->sdim; ax++)
			if ((i < nk && (d->k[i][ax] < 1 || d->s[i][ax] < 1)) ||
			    (i < d->nup && d->upk[i][ax] < 1))
				return mg_net_fail(n, "block %d: kernel_size, strides and "
						   "upsample_kernel_size must be positive", i);
	int64_t ds = a[A_DSNUM].v.i;
	if (a[A_DS].v.i && ds >= nk - 1)
		return mg_net_fail(n, "deep_supr_num should be less than the number of up sample "
				   "layers.");
	if (a[A_DS].v.i && ds < 1)
		return mg_net_fail(n, "deep_supr_num should be larger than 0.");
	return 0;
}

/* torch.stack([y] + [interpolate(h, y.shape[2:]) for h in heads], dim=1): each as
 * (N, 1, C, spatial...), concatenated on axis 1. */
static int32_t stack(struct mg_net *n, int32_t y, const int32_t *heads, int nheads)
{
	const struct mg_type *t = &n->g->values[y].type;
	int64_t dims[MG_MAX_RANK] = {t->dims[0], 1};
	memcpy(dims + 2, t->dims + 1, (size_t)(t->rank - 1) * sizeof *dims);
	char shape[128], size[96];
	mg_net_list(shape, sizeof shape, dims, t->rank + 1);
	mg_net_list(size, sizeof size, t->dims + 2, n->sdim);
	int32_t in[MAXLV];
	in[0] = mg_net_op(n, MG_OP_Reshape, &y, 1, 1, "{\"shape\": %s}", shape);
	for (int k = 0; k < nheads; k++) {
		int32_t h = mg_net_op(n, MG_OP_Upsample, &heads[k], 1, 1,
				      "{\"size\": %s, \"mode\": \"nearest\"}", size);
		in[k + 1] = mg_net_op(n, MG_OP_Reshape, &h, 1, 1, "{\"shape\": %s}", shape);
	}
	return mg_net_op(n, MG_OP_Concat, in, nheads + 1, 1, "{\"dim\": 1}");
}

static int32_t build(struct mg_net *n, const struct mg_attr *a, int32_t x)
{
	struct dyn d;
	memset(&d, 0, sizeof d);
	if (mg_net_check_input(n, x, a[A_SDIM].v.i, a[A_IN].v.i) || check(n, a, &d))
		return -1;
	if (mg_net_layer_parse(n, "norm_name", a[A_NORM].v.s, &d.norm))
		return -1;
	if (mg_net_layer_parse(n, "act_name", a[A_ACT].v.s, &d.act)) {
		mg_net_layer_free(&d.norm);
		return -1;
	}
	d.dropout = mg_net_dropout_arg(n, "dropout", &a[A_DROPOUT]);
	d.res = (int)a[A_RES].v.i;
	int nheads = a[A_DS].v.i ? (int)a[A_DSNUM].v.i : 0;
	int32_t up[MAXLV], heads[MAXLV];
	int32_t y = skip_layer(n, &d, x, a[A_IN].v.i, 0, (int)a[A_TBIAS].v.i, up);
	size_t p = mg_net_enter(n, "output_block");
	y = out_block(n, &d, y, d.f[0], a[A_OUT].v.i);
	mg_net_leave(n, p);
	/* the heads run in eval too, as MONAI's, though only training returns them */
	for (int k = 0; k < nheads; k++) {
		p = mg_net_enter(n, "deep_supervision_heads.%d", k);
		heads[k] = out_block(n, &d, up[k + 1], d.f[k + 1], a[A_OUT].v.i);
		mg_net_leave(n, p);
	}
	if (nheads && n->o.training)
		y = stack(n, y, heads, nheads);
	char path[600] = "skip_layers.";
	if (y >= 0)
		skip_aliases(n, &d, 0, nheads, path);
	mg_net_layer_free(&d.norm);
	mg_net_layer_free(&d.act);
	return n->e->code ? -1 : y;
}

const struct mg_netdef mg_net_dynunet = {
	.aliases = (const char *const[]){"DynUnet", "Dynunet", NULL},
	.name = "DynUNet",
	.synopsis = "MONAI's DynUNet (nnU-Net): per-level anisotropic kernels and strides, "
		    "optional residual blocks and deep supervision",
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.build = build,
	.init = &(const struct mg_net_init){.a = 0.01}, /* DynUNet.initialize_weights */
};
