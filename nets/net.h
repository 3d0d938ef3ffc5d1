/* net.h: networks as graphs. A network is built from its MONAI arguments (a bundle's
 * network_def) into nodes of a graph; its parameters and buffers become graph inputs
 * named by their state_dict keys, in MONAI's order and with MONAI's shapes, so a
 * checkpoint exported from MONAI binds by name (docs/networks.md).
 * Builders are fail-soft: once the net's error is set every call returns -1 and adds
 * nothing, and a -1 operand makes -1, so a builder checks once, at the end.
 * Read next: net.c (the builder and MONAI's blocks), unet.c. */
#ifndef MG_NET_H
#define MG_NET_H

#include "../ir/ir.h"

struct cJSON;

/* What a network is built for. */
struct mg_net_opts {
	int training;      /* batch statistics (and their updates) and dropout */
	int64_t seed;      /* dropout's: each Dropout node gets seed + its number */
};

/* Builds network `target` ("UNet", or "monai.networks.nets.UNet") from its arguments
 * (a JSON object, a bundle's network_def; "_target_" is skipped) on x, a value of the
 * graph of shape (N, C, spatial...); *y is the output. Parameters are graph inputs with
 * mg_value.param MG_PARAM_LEARNED, buffers (running statistics) MG_PARAM_BUFFER. In training,
 * each updated buffer's new value is a graph output named "<key>.new" (the caller
 * writes it back). Errors name the network and the argument. */
int mg_net_build(struct mg_graph *g, const char *target, const struct cJSON *args,
		 int32_t x, const struct mg_net_opts *o, int32_t *y, struct mg_err *e);
/* A checkpoint's tensors for the network's parameters and buffers, as torch's
 * load_state_dict(strict=True) takes them: vals[i] (released by the caller) for each
 * graph input i >= first (the graph's input count before mg_net_build: the network's
 * inputs) that is a parameter or buffer, from the safetensors file at path, with the
 * graph's shape and dtype (float64 and float16 weights are converted). Errors name the
 * file and the tensor: one the graph needs and the file lacks, a shape that differs, a
 * key the network has no use for; the file's own errors (truncated, corrupt) as
 * mg_safetensors_open gives them. A graph alias (mg_graph.aliases: torch's second key of
 * a shared module) may be in the file or not; when it is, its shape is checked and the
 * tensor under the input's own key is the one loaded. */
int mg_net_load(const struct mg_graph *g, int first, const char *path, struct mg_val *vals,
		struct mg_err *e);
/* Writes the network's parameters and buffers, vals[i] for each graph input i >= first
 * that is one, to the safetensors file at path as torch's state_dict() holds them: under
 * their keys, each alias (mg_graph.aliases) again under its own key, so the file loads in
 * MONAI with load_state_dict(strict=True) and in mgc with mg_net_load. The file appears
 * whole or not at all. Errors name the file, or the tensor that has no value. */
int mg_net_save(const struct mg_graph *g, int first, const struct mg_val *vals,
		const char *path, struct mg_err *e);
/* Whether graph input v is what a checkpoint holds: a parameter or a buffer (not an
 * optimizer's state, not the network's input). */
int mg_net_weight(const struct mg_value *v);
/* The network's parameters and buffers (inputs i >= first; not an optimizer's state) as
 * PyTorch's modules initialise them, drawn from seed (nets/init.c): vals[i], released by
 * the caller. Deterministic by seed; the distributions are torch's, not its values. */
int mg_net_init(const struct mg_graph *g, int first, uint64_t seed, struct mg_val *vals,
		struct mg_err *e);
/* The network a target names; -1 when none. */
int mg_net_find(const char *target);

/* ---- for the network files ---- */

struct mg_net {
	struct mg_graph *g;
	struct mg_err *e;
	struct mg_net_opts o;
	int sdim;               /* spatial axes */
	int ndropout;
	int first_input;        /* the graph's inputs before the network's */
	int nupdates;
	int32_t updates[2][256]; /* buffer input, its new value */
	char prefix[512];       /* the state_dict prefix of the module being built */
	size_t plen;
};

/* A network's own initialisation where it replaces torch's module defaults (its
 * constructor's init loop): convolution weights kaiming_normal_(w, a) (fan_in,
 * leaky_relu gain sqrt(2 / (1 + a^2))), and convolution and linear biases 0. */
struct mg_net_init {
	double a;
};

/* One network: its MONAI name and arguments (the schema ops use), its builder, its own
 * initialisation and its other names. */
struct mg_netdef {
	const char *name;
	const char *synopsis;
	const struct mg_attrdef *attrs;
	int nattrs;
	int32_t (*build)(struct mg_net *n, const struct mg_attr *a, int32_t x);
	const struct mg_net_init *init; /* NULL: every module's torch default */
	const char *const *aliases;     /* MONAI's other names of the class; NULL-ended */
};

/* The network mg_net_find gave i for; NULL outside. */
const struct mg_netdef *mg_net_def(int i);

/* Enters child module name (printf format): the prefix gets "name."; returns what
 * mg_net_leave restores. */
size_t mg_net_enter(struct mg_net *n, const char *fmt, ...);
void mg_net_leave(struct mg_net *n, size_t len);
/* A parameter or buffer (param: enum mg_param) named prefix + name, of dtype (< 0: int64,
 * torch's num_batches_tracked). */
int32_t mg_net_input(struct mg_net *n, const char *name, int param, int dtype, int rank,
		     const int64_t *dims);
/* A node of op on in[0..nin), attributes from the JSON object text fmt (printf), its
 * label the current prefix; its first output (the others follow). */
int32_t mg_net_op(struct mg_net *n, enum mg_op op, const int32_t *in, int nin, int nout,
		  const char *fmt, ...);
/* Puts the inputs under the current module in the order of their child modules in
 * children (NULL-terminated), creation order within a child: for modules that register
 * children in another order than the forward pass uses them (SegResNet's ResBlock
 * registers norm1, norm2, conv1, conv2). */
void mg_net_order(struct mg_net *n, const char *const *children);
/* An error naming the network's argument (printf); returns -1. */
int32_t mg_net_fail(struct mg_net *n, const char *fmt, ...);
/* The network's arguments spatial_dims and in_channels against its input x: -1 and an
 * error naming them when they differ. */
int mg_net_check_input(struct mg_net *n, int32_t x, int64_t sdim, int64_t cin);
/* "[v0, v1, ...]" of n values into buf, for the JSON of a node's arguments. */
const char *mg_net_list(char *buf, size_t size, const int64_t *v, int n);
/* The channels (axis 1) of value v. */
int64_t mg_net_channels(const struct mg_net *n, int32_t v);

/* ---- MONAI's blocks (net.c) ---- */

/* A norm or activation as MONAI's factories take it: a name ("batch", "PRELU") or a
 * (name, {arguments}) pair, as text (MG_ATTRF_JSON). */
struct mg_net_layer {
	char name[32];       /* lower case */
	struct cJSON *args;  /* owned; NULL: none */
};
int mg_net_layer_parse(struct mg_net *n, const char *arg, const char *text,
		       struct mg_net_layer *l);
void mg_net_layer_free(struct mg_net_layer *l);

/* MONAI's monai.networks.blocks.Convolution and ResidualUnit arguments. */
struct mg_net_conv {
	int64_t k[3], stride[3], dilation; /* k, stride per spatial axis */
	int bias, transposed, conv_only;
	int outpad_zero;                   /* a transposed convolution's output_padding: 0
					    * (UpSample's), else stride - 1 (Convolution's) */
	const char *ordering;              /* adn_ordering: "NDA" */
	const struct mg_net_layer *act, *norm; /* NULL: none */
	double dropout;                    /* < 0: none */
	int64_t padding[3];                /* < 0: MONAI's same_padding */
};
/* A bare nn.ConvNd / ConvTransposeNd (c's kernel, stride, padding, bias): "weight" and
 * "bias" under the current prefix. */
int32_t mg_net_conv_layer(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			  const struct mg_net_conv *c);
/* Convolution(in, out): "conv" and "adn" under the current prefix. */
int32_t mg_net_convolution(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			   const struct mg_net_conv *c);
/* ResidualUnit(in, out, subunits, last_conv_only): "conv.unit<i>" and "residual". */
int32_t mg_net_residual_unit(struct mg_net *n, int32_t x, int64_t cin, int64_t cout,
			     const struct mg_net_conv *c, int subunits, int last_conv_only);
/* MONAI's ADN on x with c channels: children "N", "D", "A" in c->ordering. */
int32_t mg_net_adn(struct mg_net *n, int32_t x, int64_t c, const struct mg_net_conv *cv);
/* A norm layer (get_norm_layer) or activation (get_act_layer) under the current prefix. */
int32_t mg_net_norm(struct mg_net *n, int32_t x, int64_t c, const struct mg_net_layer *l);
int32_t mg_net_act(struct mg_net *n, int32_t x, const struct mg_net_layer *l);
int32_t mg_net_dropout(struct mg_net *n, int32_t x, double p);
/* A dropout argument as MONAI's get_dropout_layer takes it (an MG_ATTRF_JSON attribute):
 * a probability, "dropout" (torch's p = 0.5) or ["dropout", {"p": P}]; null: -1 (none).
 * Other layers and p outside [0, 1] fail, naming arg. */
double mg_net_dropout_arg(struct mg_net *n, const char *arg, const struct mg_attr *a);

#endif
