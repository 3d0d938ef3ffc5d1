/* net.c: building networks into graphs (net.h), MONAI's building blocks (Convolution,
 * ResidualUnit, ADN and the norm and activation factories), and the table of networks.
 * MONAI: monai/networks/blocks/convolutions.py, acti_norm.py, layers/factories.py. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/json.h"
#include "../runtime/safetensors.h"
#include "net.h"

extern const struct mg_netdef mg_net_unet, mg_net_segresnet, mg_net_basic_unet,
	mg_net_dynunet, mg_net_densenet, mg_net_densenet121, mg_net_densenet169,
	mg_net_densenet201, mg_net_densenet264;

static const struct mg_netdef *const nets[] = {
	&mg_net_unet, &mg_net_segresnet, &mg_net_basic_unet, &mg_net_dynunet, &mg_net_densenet,
	&mg_net_densenet121, &mg_net_densenet169, &mg_net_densenet201, &mg_net_densenet264};
enum { NNETS = sizeof nets / sizeof *nets };

static int failed(const struct mg_net *n) { return n->e->code != 0; }

int32_t mg_net_fail(struct mg_net *n, const char *fmt, ...)
{
	if (failed(n))
		return -1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mg_err_set(n->e, MG_ERR_CONFIG, "%s", msg);
	return -1;
}

size_t mg_net_enter(struct mg_net *n, const char *fmt, ...)
{
	size_t len = n->plen;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(n->prefix + len, sizeof n->prefix - len, fmt, ap);
	va_end(ap);
	if (w < 0 || len + (size_t)w + 2 > sizeof n->prefix) {
		mg_net_fail(n, "module path too long: %s...", n->prefix);
		n->prefix[len] = 0;
		return len;
	}
	n->plen = len + (size_t)w + 1;
	n->prefix[n->plen - 1] = '.';
	n->prefix[n->plen] = 0;
	return len;
}

void mg_net_leave(struct mg_net *n, size_t len)
{
	n->plen = len;
	n->prefix[len] = 0;
}

int32_t mg_net_input(struct mg_net *n, const char *name, int param, int dtype, int rank,
		     const int64_t *dims)
{
	if (failed(n))
		return -1;
	char key[600];
	snprintf(key, sizeof key, "%s%s", n->prefix, name);
	struct mg_type t = {.kind = MG_VK_TENSOR, .rank = rank,
			    .dtype = dtype < 0 ? MG_DTYPE_I64 : dtype};
	if (rank > 0) /* num_batches_tracked is a 0-d tensor */
		memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
	return mg_graph_tensor_input(n->g, key, &t, param, n->e);
}

int32_t mg_net_op(struct mg_net *n, enum mg_op op, const int32_t *in, int nin, int nout,
		  const char *fmt, ...)
{
	for (int i = 0; i < nin; i++)
		if (in[i] < 0)
			return -1;
	if (failed(n))
		return -1;
	char text[1024], label[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt ? fmt : "{}", ap);
	va_end(ap);
	snprintf(label, sizeof label, "%.*s", (int)(n->plen ? n->plen - 1 : 0), n->prefix);
	const struct mg_opdef *d = mg_ops[op];
	struct mg_attr attrs[64];
	cJSON *j = cJSON_Parse(text);
	int rc = !j ? mg_err_set(n->e, MG_ERR_INTERNAL, "%s: bad arguments %s", label, text)
		    : mg_attrs_parse(d, j, -1, 1, NULL, &n->g->arena, attrs, n->e);
	cJSON_Delete(j);
	int32_t id = rc ? -1 : mg_graph_add_node_n(n->g, op, in, nin, nout, attrs, label, n->e);
	if (id < 0) {
		if (rc) /* mg_graph_add_node_n's own errors name the node already */
			mg_err_prefix(n->e, "%s (%s)", label, d->name);
		return -1;
	}
	return n->g->nodes[id].out[0];
}

int mg_net_check_input(struct mg_net *n, int32_t x, int64_t sdim, int64_t cin)
{
	if (sdim != n->sdim)
		return mg_net_fail(n, "spatial_dims is %lld but the input has %d spatial axes",
				   (long long)sdim, n->sdim);
	if (mg_net_channels(n, x) != cin)
		return mg_net_fail(n, "in_channels is %lld but the input has %lld channels",
				   (long long)cin, (long long)mg_net_channels(n, x));
	return 0;
}

int64_t mg_net_channels(const struct mg_net *n, int32_t v)
{
	return v < 0 ? -1 : n->g->values[v].type.dims[1];
}

/* ---- norm and activation layers (monai.networks.layers.factories) ---- */

int mg_net_layer_parse(struct mg_net *n, const char *arg, const char *text,
		       struct mg_net_layer *l)
{
	memset(l, 0, sizeof *l);
	const char *name = text;
	cJSON *j = NULL;
	if (text[0] == '[') { /* ["group", {"num_groups": 8}] */
		j = cJSON_Parse(text);
		const cJSON *nm = cJSON_GetArrayItem(j, 0), *args = cJSON_GetArrayItem(j, 1);
		if (!cJSON_IsString(nm) || cJSON_GetArraySize(j) > 2 || (args && !cJSON_IsObject(args))) {
			cJSON_Delete(j);
			return mg_net_fail(n, "argument '%s': %s is not a name or a [name, {arguments}] "
					   "pair", arg, text);
		}
		name = nm->valuestring;
		l->args = args ? cJSON_DetachItemFromArray(j, 1) : NULL;
	}
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof l->name; i++)
		l->name[i] = (char)tolower((unsigned char)name[i]);
	l->name[i] = 0;
	cJSON_Delete(j);
	return 0;
}

void mg_net_layer_free(struct mg_net_layer *l)
{
	cJSON_Delete(l->args);
	l->args = NULL;
}

/* The layer's argument `key` as a number, dflt when absent; *bad when given as anything
 * but a number (bools count: affine=True). */
static double layer_num(const struct mg_net_layer *l, const char *key, double dflt)
{
	const cJSON *v = l->args ? cJSON_GetObjectItemCaseSensitive(l->args, key) : NULL;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Refuses a layer argument mgc does not read. */
static int layer_known(struct mg_net *n, const struct mg_net_layer *l, const char *known)
{
	for (const cJSON *v = l->args ? l->args->child : NULL; v; v = v->next) {
		char pat[64];
		snprintf(pat, sizeof pat, "|%s|", v->string);
		if (!strstr(known, pat))
			return mg_net_fail(n, "%s: argument '%s' is not supported (supported: %s)",
					   l->name, v->string, known);
	}
	return 0;
}

int32_t mg_net_norm(struct mg_net *n, int32_t x, int64_t c, const struct mg_net_layer *l)
{
	const char *nm = l->name;
	/* instance_nvfuser is apex's InstanceNorm3dNVFuser (CUDA only); MONAI's factory
	 * gives nn.InstanceNorm without apex, and so does mgc */
	int batch = !strcmp(nm, "batch"), group = !strcmp(nm, "group");
	int inst = !strcmp(nm, "instance") || !strcmp(nm, "instance_nvfuser");
	if (!batch && !inst && !group)
		return mg_net_fail(n, "norm \"%s\" is not supported (batch, instance, "
				   "instance_nvfuser, group)", nm);
	if (layer_known(n, l, group ? "|num_groups|eps|affine|"
				    : "|eps|momentum|affine|track_running_stats|"))
		return -1;
	double eps = layer_num(l, "eps", 1e-5), mom = layer_num(l, "momentum", 0.1);
	int affine = (int)layer_num(l, "affine", !inst);
	int track = (int)layer_num(l, "track_running_stats", batch);
	int64_t d1[1] = {c};
	int32_t in[6] = {x};
	int nin = 1;
	if (affine) {
		in[nin++] = mg_net_input(n, "weight", MG_PARAM_LEARNED, MG_DTYPE_F32, 1, d1);
		in[nin++] = mg_net_input(n, "bias", MG_PARAM_LEARNED, MG_DTYPE_F32, 1, d1);
	}
	if (group) {
		int64_t ng = (int64_t)layer_num(l, "num_groups", 0);
		return mg_net_op(n, MG_OP_GroupNorm, in, nin, mg_ops[MG_OP_GroupNorm]->nout,
				 "{\"num_groups\": %lld, \"num_channels\": %lld, \"eps\": %.17g, "
				 "\"affine\": %s}", (long long)ng, (long long)c, eps,
				 affine ? "true" : "false");
	}
	int first_buf = nin;
	if (track) {
		in[nin++] = mg_net_input(n, "running_mean", MG_PARAM_BUFFER, MG_DTYPE_F32, 1, d1);
		in[nin++] = mg_net_input(n, "running_var", MG_PARAM_BUFFER, MG_DTYPE_F32, 1, d1);
		in[nin++] = mg_net_input(n, "num_batches_tracked", MG_PARAM_BUFFER, -1, 0, NULL);
	}
	enum mg_op op = batch ? MG_OP_BatchNorm : MG_OP_InstanceNorm;
	int nout = mg_ops[op]->nout;
	int32_t y = mg_net_op(n, op, in, nin, nout,
			      "{\"num_features\": %lld, \"eps\": %.17g, \"momentum\": %.17g, "
			      "\"affine\": %s, \"track_running_stats\": %s, \"training\": %s}",
			      (long long)c, eps, mom, affine ? "true" : "false",
			      track ? "true" : "false", n->o.training ? "true" : "false");
	/* outputs 3.. are the buffers after the step (ops/batch_norm.c) */
	for (int i = 0; y >= 0 && track && n->o.training && i < 3 && n->nupdates < 256; i++) {
		n->updates[0][n->nupdates] = in[first_buf + i];
		n->updates[1][n->nupdates++] = y + 3 + i;
	}
	return y;
}

int32_t mg_net_act(struct mg_net *n, int32_t x, const struct mg_net_layer *l)
{
	const char *nm = l->name;
	if (!strcmp(nm, "prelu")) {
		if (layer_known(n, l, "|num_parameters|init|"))
			return -1;
		int64_t np = (int64_t)layer_num(l, "num_parameters", 1);
		int32_t w = mg_net_input(n, "weight", MG_PARAM_LEARNED, MG_DTYPE_F32, 1, &np);
		int32_t in[2] = {x, w};
		return mg_net_op(n, MG_OP_PReLU, in, 2, 1, "{\"num_parameters\": %lld, \"init\": %.17g}",
				 (long long)np, layer_num(l, "init", 0.25));
	}
	if (!strcmp(nm, "leakyrelu")) {
		if (layer_known(n, l, "|negative_slope|inplace|"))
			return -1;
		return mg_net_op(n, MG_OP_LeakyReLU, &x, 1, 1, "{\"negative_slope\": %.17g}",
				 layer_num(l, "negative_slope", 0.01));
	}
	if (!strcmp(nm, "elu")) {
		if (layer_known(n, l, "|alpha|inplace|"))
			return -1;
		return mg_net_op(n, MG_OP_ELU, &x, 1, 1, "{\"alpha\": %.17g}", layer_num(l, "alpha", 1));
	}
	static const struct {
		const char *name;
		enum mg_op op;
	} plain[] = {{"relu", MG_OP_ReLU}, {"gelu", MG_OP_GELU}, {"sigmoid", MG_OP_Sigmoid},
		     {"tanh", MG_OP_Tanh}};
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
		if (!strcmp(nm, plain[i].name))
			return layer_known(n, l, "|inplace|") ? -1
							      : mg_net_op(n, plain[i].op, &x, 1, 1, NULL);
	return mg_net_fail(n, "act \"%s\" is not supported (prelu, relu, leakyrelu, elu, gelu, "
			   "sigmoid, tanh)", nm);
}

int32_t mg_net_dropout(struct mg_net *n, int32_t x, double p)
{
	if (p <= 0 || !n->o.training) /* torch's Dropout is the identity then */
		return x;
	return mg_net_op(n, MG_OP_Dropout, &x, 1, 1,
			 "{\"p\": %.17g, \"training\": true, \"seed\": %lld}", p,
			 (long long)(n->o.seed + n->ndropout++));
}

double mg_net_dropout_arg(struct mg_net *n, const char *arg, const struct mg_attr *a)
{
	if (a->is_none)
		return -1;
	char *end;
	double p = strtod(a->v.s, &end);
	if (end == a->v.s || *end) {
		struct mg_net_layer l;
		if (mg_net_layer_parse(n, arg, a->v.s, &l))
			return -1;
		p = strcmp(l.name, "dropout") ? NAN : layer_num(&l, "p", 0.5);
		mg_net_layer_free(&l);
		if (isnan(p))
			return mg_net_fail(n, "argument '%s': %s is not supported (a probability, "
					   "\"dropout\" or [\"dropout\", {\"p\": P}])", arg, a->v.s);
	}
	if (!(p >= 0 && p <= 1)) /* torch's words */
		return mg_net_fail(n, "argument '%s': dropout probability has to be between 0 "
				   "and 1, but got %g", arg, p);
	return p;
}

int32_t mg_net_adn(struct mg_net *n, int32_t x, int64_t c, const struct mg_net_conv *cv)
{
	for (const char *o = cv->ordering; *o && x >= 0; o++) {
		char k = (char)toupper((unsigned char)*o);
		if (k != 'N' && k != 'D' && k != 'A')
			return mg_net_fail(n, "adn_ordering \"%s\": only N, D and A", cv->ordering);
		if ((k == 'N' && !cv->norm) || (k == 'A' && !cv->act) || (k == 'D' && cv->dropout < 0))
			continue;
		size_t s = mg_net_enter(n, "%c", k);
		x = k == 'N' ? mg_net_norm(n, x, c, cv->norm)
		  : k == 'A' ? mg_net_act(n, x, cv->act)
			     : mg_net_dropout(n, x, cv->dropout);
		mg_net_leave(n, s);
	}
	return x;
}

const char *mg_net_list(char *buf, size_t size, const int64_t *v, int n)
{
	size_t k = (size_t)snprintf(buf, size, "[");
	for (int i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? ", " : "", (long long)v[i]);
	if (k < size)
		snprintf(buf + k, size - k, "]");
	return buf;
}

int32_t mg_net_conv_layer(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			  const struct mg_net_conv *c)
{
	int sd = n->sdim;
	int64_t pad[3], outpad[3], wd[5];
	for (int i = 0; i < sd; i++) {
		if (c->padding[i] < 0 && ((c->k[i] - 1) * c->dilation) % 2)
			return mg_net_fail(n, "same padding is not available for kernel_size %lld "
					   "(MONAI's same_padding)", (long long)c->k[i]);
		pad[i] = c->padding[i] >= 0 ? c->padding[i] : (c->k[i] - 1) / 2 * c->dilation;
		/* Convolution's stride_minus_kernel_padding(1, strides) */
		outpad[i] = c->outpad_zero ? 0 : c->stride[i] - 1;
	}
	/* torch's weight: (out, in, k...) for a Conv, (in, out, k...) for a ConvTranspose */
	wd[0] = c->transposed ? cin : cout;
	wd[1] = c->transposed ? cout : cin;
	memcpy(wd + 2, c->k, (size_t)sd * sizeof *wd);
	int32_t in[3] = {x, mg_net_input(n, "weight", MG_PARAM_LEARNED, MG_DTYPE_F32, sd + 2, wd)};
	int64_t co = cout;
	if (c->bias)
		in[2] = mg_net_input(n, "bias", MG_PARAM_LEARNED, MG_DTYPE_F32, 1, &co);
	char ks[64], ps[64], ops[64];
	if (c->transposed)
		return mg_net_op(n, MG_OP_ConvTranspose, in, 2 + c->bias, 1,
				 "{\"stride\": %s, \"padding\": %s, \"output_padding\": %s, "
				 "\"dilation\": %lld}", mg_net_list(ks, sizeof ks, c->stride, sd),
				 mg_net_list(ps, sizeof ps, pad, sd), mg_net_list(ops, sizeof ops, outpad, sd),
				 (long long)c->dilation);
	return mg_net_op(n, MG_OP_Conv, in, 2 + c->bias, 1,
			 "{\"stride\": %s, \"padding\": %s, \"dilation\": %lld}",
			 mg_net_list(ks, sizeof ks, c->stride, sd), mg_net_list(ps, sizeof ps, pad, sd),
			 (long long)c->dilation);
}

int32_t mg_net_convolution(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			   const struct mg_net_conv *c)
{
	size_t s = mg_net_enter(n, "conv");
	int32_t y = mg_net_conv_layer(n, x, cin, cout, c);
	mg_net_leave(n, s);
	if (c->conv_only || (!c->act && !c->norm && c->dropout < 0))
		return y;
	s = mg_net_enter(n, "adn");
	y = mg_net_adn(n, y, cout, c);
	mg_net_leave(n, s);
	return y;
}

int32_t mg_net_residual_unit(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			     const struct mg_net_conv *c, int subunits, int last_conv_only)
{
	struct mg_net_conv u = *c;
	int64_t sc = cin, strided = 0;
	for (int i = 0; i < n->sdim; i++)
		strided |= c->stride[i] != 1;
	subunits = subunits < 1 ? 1 : subunits;
	int32_t cx = x;
	size_t s = mg_net_enter(n, "conv");
	for (int su = 0; su < subunits; su++) {
		u.conv_only = last_conv_only && su == subunits - 1;
		size_t s2 = mg_net_enter(n, "unit%d", su);
		cx = mg_net_convolution(n, cx, sc, cout, &u);
		mg_net_leave(n, s2);
		sc = cout;
		for (int i = 0; i < 3; i++)
			u.stride[i] = 1;
	}
	mg_net_leave(n, s);
	int32_t res = x;
	if (strided || cin != cout) {
		/* a bare nn.ConvNd ("residual.weight") of the unit's kernel and stride, or 1x1
		 * without padding when only the channels change */
		struct mg_net_conv r = *c;
		r.transposed = 0;
		r.dilation = 1; /* MONAI passes the unit's padding but not its dilation */
		for (int i = 0; i < n->sdim; i++)
			if (!strided)
				r.k[i] = 1, r.padding[i] = 0;
			else if (c->padding[i] < 0)
				r.padding[i] = (c->k[i] - 1) / 2 * c->dilation;
		s = mg_net_enter(n, "residual");
		res = mg_net_conv_layer(n, x, cin, cout, &r);
		mg_net_leave(n, s);
	}
	int32_t in[2] = {cx, res};
	return mg_net_op(n, MG_OP_Add, in, 2, 1, NULL);
}

/* The rank of the child module of `prefix` that key lies in, by its place in children;
 * -1 when key is not under prefix; the count of children for another child. */
static int child_rank(const char *key, const char *prefix, const char *const *children)
{
	size_t pl = strlen(prefix);
	if (strncmp(key, prefix, pl))
		return -1;
	const char *c = key + pl, *dot = strchr(c, '.');
	size_t cl = dot ? (size_t)(dot - c) : strlen(c);
	int i = 0;
	for (; children[i]; i++)
		if (strlen(children[i]) == cl && !strncmp(children[i], c, cl))
			return i;
	return i;
}

void mg_net_order(struct mg_net *n, const char *const *children)
{
	struct mg_graph *g = n->g;
	if (failed(n))
		return;
	/* a stable insertion sort of the inputs under the current module by child rank, in
	 * the places they hold (a module's inputs are contiguous: modules are built depth
	 * first) */
	int lo = -1, hi = -1;
	for (int i = n->first_input; i < g->ninputs; i++)
		if (child_rank(g->values[g->inputs[i]].name, n->prefix, children) >= 0)
			hi = i, lo = lo < 0 ? i : lo;
	for (int i = lo + 1; lo >= 0 && i <= hi; i++) {
		int32_t v = g->inputs[i];
		int r = child_rank(g->values[v].name, n->prefix, children), j = i;
		while (j > lo && child_rank(g->values[g->inputs[j - 1]].name, n->prefix, children) > r) {
			g->inputs[j] = g->inputs[j - 1];
			j--;
		}
		g->inputs[j] = v;
	}
}

/* ---- checkpoints ---- */

static void shape_text(char *buf, size_t size, int rank, const int64_t *d)
{
	size_t n = (size_t)snprintf(buf, size, "(");
	for (int i = 0; i < rank && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)d[i]);
	if (n < size)
		snprintf(buf + n, size - n, ")");
}

/* vals[i] from tensor t of the file, checked against input v's type. */
static int load_one(const char *path, const struct mg_value *v, struct mg_tensor *t,
		    struct mg_val *out, struct mg_err *e)
{
	const struct mg_type *ty = &v->type;
	int same = t->rank == ty->rank;
	for (int d = 0; same && d < t->rank; d++)
		same = t->dims[d] == ty->dims[d];
	if (!same) {
		char a[128], b[128];
		shape_text(a, sizeof a, t->rank, t->dims);
		shape_text(b, sizeof b, ty->rank, ty->dims);
		mg_tensor_release(t);
		return mg_err_set(e, MG_ERR_SHAPE, "%s: tensor '%s' has shape %s; the network's is %s",
				  path, v->name, a, b);
	}
	if (t->dtype != (enum mg_dtype)ty->dtype) {
		if (!mg_dtype_is_float(t->dtype) != !mg_dtype_is_float((enum mg_dtype)ty->dtype)) {
			mg_tensor_release(t);
			return mg_err_set(e, MG_ERR_SHAPE, "%s: tensor '%s' is %s; the network's is %s",
					  path, v->name, mg_dtype_name(t->dtype),
					  mg_dtype_name((enum mg_dtype)ty->dtype));
		}
		struct mg_tensor c;
		int rc = mg_tensor_cast(&c, t, (enum mg_dtype)ty->dtype, e);
		mg_tensor_release(t);
		if (rc)
			return rc;
		*t = c;
	}
	out->kind = MG_VK_TENSOR;
	out->t = *t;
	return 0;
}

int mg_net_weight(const struct mg_value *v)
{
	return v->param == MG_PARAM_LEARNED || v->param == MG_PARAM_BUFFER;
}

int mg_net_load(const struct mg_graph *g, int first, const char *path, struct mg_val *vals,
		struct mg_err *e)
{
	struct mg_safetensors *st;
	int rc = mg_safetensors_open(path, &st, e), wanted = 0;
	for (int i = first; !rc && i < g->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		if (!mg_net_weight(v))
			continue;
		wanted++;
		struct mg_tensor t;
		if (mg_safetensors_find(st, v->name) < 0)
			rc = mg_err_set(e, MG_ERR_CONFIG, "%s: no tensor '%s' (a %s the network needs)",
					path, v->name,
					v->param == MG_PARAM_BUFFER ? "buffer" : "parameter");
		else if (!(rc = mg_safetensors_get(st, v->name, &t, e)))
			rc = load_one(path, v, &t, &vals[i], e);
	}
	/* a second key of a tensor (struct mg_alias) may be there or not; when there, with
	 * the tensor's shape */
	for (int k = 0; !rc && k < g->naliases; k++) {
		const struct mg_alias *al = &g->aliases[k];
		struct mg_tensor t;
		struct mg_val tmp = {0};
		struct mg_value v = g->values[al->value];
		v.name = al->name;
		if (mg_safetensors_find(st, al->name) < 0)
			continue;
		wanted++;
		if (!(rc = mg_safetensors_get(st, al->name, &t, e)) &&
		    !(rc = load_one(path, &v, &t, &tmp, e)))
			mg_val_release(&tmp);
	}
	/* strict: every tensor of the file is one the network has */
	for (int k = 0; !rc && wanted < mg_safetensors_count(st) && k < mg_safetensors_count(st);
	     k++) {
		const char *name = mg_safetensors_name(st, k);
		int found = 0;
		for (int i = first; i < g->ninputs && !found; i++)
			found = mg_net_weight(&g->values[g->inputs[i]]) &&
				!strcmp(g->values[g->inputs[i]].name, name);
		for (int i = 0; i < g->naliases && !found; i++)
			found = !strcmp(g->aliases[i].name, name);
		if (!found)
			rc = mg_err_set(e, MG_ERR_CONFIG, "%s: tensor '%s' is no parameter or buffer of "
					"the network (a checkpoint of another configuration?)", path,
					name);
	}
	mg_safetensors_close(st);
	if (rc)
		for (int i = first; i < g->ninputs; i++)
			mg_val_release(&vals[i]);
	return rc;
}

int mg_net_save(const struct mg_graph *g, int first, const struct mg_val *vals,
		const char *path, struct mg_err *e)
{
	int n = g->naliases;
	for (int i = first; i < g->ninputs; i++)
		n += mg_net_weight(&g->values[g->inputs[i]]);
	const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
	struct mg_tensor *ts = malloc((size_t)(n ? n : 1) * sizeof *ts);
	int rc = names && ts ? 0 : mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path), k = 0;
	for (int i = first; !rc && i < g->ninputs; i++) {
		const struct mg_value *v = &g->values[g->inputs[i]];
		if (!mg_net_weight(v))
			continue;
		if (vals[i].kind != MG_VK_TENSOR)
			rc = mg_err_set(e, MG_ERR_CONFIG, "%s: tensor '%s' has no value to save", path,
					v->name);
		else
			names[k] = v->name, ts[k++] = vals[i].t;
	}
	for (int a = 0; !rc && a < g->naliases; a++) {
		int i = 0;
		while (i < g->ninputs && g->inputs[i] != g->aliases[a].value)
			i++;
		if (i < first || i == g->ninputs) /* not the network's: checked at build */
			rc = mg_err_set(e, MG_ERR_INTERNAL, "alias '%s' names no network input",
					g->aliases[a].name);
		else
			names[k] = g->aliases[a].name, ts[k++] = vals[i].t;
	}
	/* safetensors.torch.save_model's marker: the tensors are a PyTorch state_dict */
	static const char *const meta[] = {"format", "pt", NULL};
	if (!rc)
		rc = mg_safetensors_write(path, k, names, ts, meta, e);
	free(names);
	free(ts);
	return rc;
}

/* ---- the networks ---- */

int mg_net_find(const char *target)
{
	const char *dot = strrchr(target, '.');
	const char *name = dot ? dot + 1 : target;
	for (int i = 0; i < NNETS; i++) {
		if (!strcmp(nets[i]->name, name))
			return i;
		for (const char *const *a = nets[i]->aliases; a && *a; a++)
			if (!strcmp(*a, name))
				return i;
	}
	return -1;
}

const struct mg_netdef *mg_net_def(int i)
{
	return i >= 0 && i < NNETS ? nets[i] : NULL;
}

int mg_net_build(struct mg_graph *g, const char *target, const cJSON *args, int32_t x,
		 const struct mg_net_opts *o, int32_t *y, struct mg_err *e)
{
	int i = mg_net_find(target);
	if (i < 0) {
		char names[256] = "";
		for (int k = 0; k < NNETS; k++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
				 k ? ", " : "", nets[k]->name);
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "network \"%s\" is not supported (%s)",
				  target, names);
	}
	const struct mg_netdef *d = nets[i];
	struct mg_attr a[32];
	static const char *const skip[] = {"_target_", NULL};
	int rc = mg_attrs_parse_schema(d->name, d->attrs, d->nattrs, args, -1, 1, skip,
				       &g->arena, a, e);
	if (rc)
		return rc;
	struct mg_net *n = calloc(1, sizeof *n);
	if (!n)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", d->name);
	n->g = g;
	n->e = e;
	n->o = *o;
	n->sdim = g->values[x].type.rank - 2;
	n->first_input = g->ninputs;
	int32_t out = d->build(n, a, x);
	/* the buffers' new values, after the graph's outputs */
	for (int k = 0; out >= 0 && !rc && k < n->nupdates; k++) {
		char name[600];
		snprintf(name, sizeof name, "%s.new", g->values[n->updates[0][k]].name);
		rc = mg_graph_add_output(g, n->updates[1][k], name, e);
	}
	free(n);
	if (out < 0 || rc) {
		mg_err_prefix(e, "%s", d->name);
		return e->code ? e->code : MG_ERR_INTERNAL;
	}
	*y = out;
	g->net = i;
	return 0;
}
