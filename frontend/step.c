/* step.c: mg_step_build, a bundle's network_def (and loss) as the graph of one step.
 * The network comes from nets/ (its arguments are network_def's, resolved); the loss is
 * the op its "_target_" names (an op flagged MG_OPF_LOSS), its arguments parsed like a
 * transform's. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../nets/net.h"
#include "../ops/op.h"
#include "step.h"

static const char meta_shape[] = "_meta_#network_data_format#inputs#image#spatial_shape";

static int64_t int_arg(const cJSON *args, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
	return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble
		       ? (int64_t)v->valuedouble : -1;
}

/* The image's type: (N, in_channels, spatial...) with the spatial shape from o or the
 * bundle's metadata. */
static int image_type(const struct mg_config *c, const struct mg_step_opts *o,
		      const cJSON *net, struct mg_type *t, struct mg_err *e)
{
	int64_t cin = int_arg(net, "in_channels");
	if (cin < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "network_def: in_channels must be a positive "
				  "integer (the image's channels)");
	memset(t, 0, sizeof *t);
	t->kind = MG_VK_TENSOR;
	t->dtype = MG_DTYPE_F32;
	t->dims[0] = o->batch;
	t->dims[1] = cin;
	int ns = o->nspatial;
	for (int i = 0; i < ns; i++)
		t->dims[2 + i] = o->spatial[i];
	if (!ns) {
		const cJSON *s = mg_config_get(c, meta_shape), *d;
		if (!s)
			return mg_err_set(e, MG_ERR_CONFIG, "the step's spatial shape: the config has "
					  "no %s (give it with --patch=X,Y,Z)", meta_shape);
		if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) < 1 || cJSON_GetArraySize(s) > 3)
			return mg_err_set(e, MG_ERR_CONFIG, "%s: expected a list of 1 to 3 sizes",
					  meta_shape);
		cJSON_ArrayForEach(d, s) {
			if (!cJSON_IsNumber(d) || d->valuedouble < 1 ||
			    d->valuedouble != (double)(int64_t)d->valuedouble)
				return mg_err_set(e, MG_ERR_CONFIG, "%s: sizes must be positive "
						  "integers", meta_shape);
			t->dims[2 + ns++] = (int64_t)d->valuedouble;
		}
	}
	t->rank = 2 + ns;
	return 0;
}

/* The op of component comp at key id, which must have flag (a loss, an optimizer; what
 * names it and example one in messages), and its arguments (in g's arena). */
static int component_op(struct mg_graph *g, const char *id, const cJSON *comp, unsigned flag,
			const char *what, const char *example, int *op,
			struct mg_attr **attrs, struct mg_err *e)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(comp, "_target_");
	if (!cJSON_IsString(target))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: expected a component with a \"_target_\" "
				  "(e.g. %s)", id, example);
	int dict;
	*op = mg_op_find_target(target->valuestring, &dict);
	if (*op < 0 || dict || !(mg_ops[*op]->flags & flag))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: '%s' is not %s mgc knows (mgc ops lists "
				  "them: flag %s)", id, target->valuestring, what,
				  strchr(what, ' ') + 1);
	const struct mg_opdef *d = mg_ops[*op];
	static const char *const skip[] = {"_target_", NULL};
	*attrs = mg_arena_alloc(&g->arena, (size_t)(d->nattrs + 1) * sizeof **attrs);
	if (!*attrs)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	int rc = mg_attrs_parse(d, comp, -1, 0, skip, &g->arena, *attrs, e);
	if (rc)
		mg_err_prefix(e, "%s", id);
	return rc;
}

/* The loss node on (pred, label): the op "loss" names, label shaped as it wants it. */
static int add_loss(struct mg_graph *g, const cJSON *loss, int32_t pred, int32_t *out,
		    struct mg_err *e)
{
	int op;
	struct mg_attr *attrs;
	int rc = component_op(g, "loss", loss, MG_OPF_LOSS, "a loss", "DiceCELoss", &op, &attrs,
			      e);
	if (rc)
		return rc;
	const struct mg_opdef *d = mg_ops[op];
	/* the label: class indices in one channel when the loss one-hot encodes it */
	struct mg_type lt = g->values[pred].type;
	int i = mg_op_attr_index(d, "to_onehot_y");
	if (i >= 0 && attrs[i].v.i)
		lt.dims[1] = 1;
	int32_t in[2] = {pred, mg_graph_tensor_input(g, "label", &lt, MG_PARAM_NONE, e)};
	int n = in[1] < 0 ? -1 : mg_graph_add_node(g, (enum mg_op)op, in, 2, attrs, "loss", e);
	if (n < 0)
		return e->code;
	*out = g->nodes[n].out[0];
	return 0;
}

/* The network on the image: *y its output. */
static int add_network(const struct mg_config *c, const struct mg_step_opts *o,
		       struct mg_graph *g, const cJSON *net, int *first, int32_t *y,
		       struct mg_err *e)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(net, "_target_");
	struct mg_type t;
	int32_t x;
	if (!cJSON_IsString(target))
		return mg_err_set(e, MG_ERR_CONFIG, "network_def: expected a component with a "
				  "\"_target_\" (e.g. UNet)");
	int rc = image_type(c, o, net, &t, e);
	if (rc)
		return rc;
	if ((x = mg_graph_tensor_input(g, "image", &t, MG_PARAM_NONE, e)) < 0)
		return e->code;
	if (first)
		*first = g->ninputs;
	struct mg_net_opts no = {.training = o->training, .seed = o->seed};
	if ((rc = mg_net_build(g, target->valuestring, net, x, &no, y, e)))
		mg_err_prefix(e, "network_def");
	return rc;
}

/* The file that set key id, before e's message (none for a key from an override). */
static void prefix_origin(const struct mg_config *c, const char *id, struct mg_err *e)
{
	const char *f = mg_config_origin(c, id);
	if (f)
		mg_err_prefix(e, "%s", f);
}

static int build(const struct mg_config *c, const struct mg_step_opts *o, struct mg_graph *g,
		 int *first, struct mg_err *e)
{
	cJSON *net = NULL, *loss = NULL, *optim = NULL;
	int32_t y = -1, l = -1;
	/* the resolver's messages name their file; ours get the key's */
	int rc = mg_config_resolve(c, "network_def", &net, e);
	if (!rc && (rc = add_network(c, o, g, net, first, &y, e)))
		prefix_origin(c, "network_def", e);
	if (!rc && o->training && !(rc = mg_config_resolve(c, "loss", &loss, e)) &&
	    (rc = add_loss(g, loss, y, &l, e)))
		prefix_origin(c, "loss", e);
	/* the optimizer is optional: without one the gradients are the step's outputs */
	int op;
	struct mg_attr *attrs;
	if (!rc && o->training && mg_config_get(c, "optimizer") &&
	    !(rc = mg_config_resolve(c, "optimizer", &optim, e))) {
		if ((rc = component_op(g, "optimizer", optim, MG_OPF_OPTIMIZER, "an optimizer",
				       "torch.optim.Adam", &op, &attrs, e)))
			prefix_origin(c, "optimizer", e);
		else
			g->optim = op, g->optim_attrs = attrs;
	}
	/* the network's buffer updates are outputs already: put loss and pred first */
	int nbuf = rc ? 0 : g->noutputs;
	int32_t *outs = rc ? NULL : malloc((size_t)(nbuf + 2) * sizeof *outs);
	const char **names = rc ? NULL : malloc((size_t)(nbuf + 2) * sizeof *names);
	int n = 0;
	if (!rc && (!outs || !names))
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	if (!rc && l >= 0)
		outs[n] = l, names[n++] = "loss";
	if (!rc)
		outs[n] = y, names[n++] = "pred";
	for (int i = 0; !rc && i < nbuf; i++)
		outs[n] = g->outputs[i], names[n++] = g->values[g->outputs[i]].name;
	if (!rc)
		g->noutputs = 0;
	for (int i = 0; !rc && i < n; i++)
		rc = mg_graph_add_output(g, outs[i], names[i], e);
	if (!rc)
		g->loss = l;
	free(outs);
	free(names);
	cJSON_Delete(net);
	cJSON_Delete(loss);
	cJSON_Delete(optim);
	return rc;
}

int mg_step_build(const struct mg_config *c, const struct mg_step_opts *o,
		  struct mg_graph **out, int *first, struct mg_err *e)
{
	if (o->batch < 1)
		return mg_err_set(e, MG_ERR_CONFIG, "the step's batch must be at least 1, not %lld",
				  (long long)o->batch);
	struct mg_graph *g = mg_graph_new(o->training ? "train" : "eval");
	if (!g)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	int rc = build(c, o, g, first, e);
	if (!rc && g->arena.failed)
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	if (rc) {
		mg_graph_free(g);
		return rc;
	}
	*out = g;
	return 0;
}
