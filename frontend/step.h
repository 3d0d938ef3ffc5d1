/* step.h: a bundle's network step as a graph. A MONAI bundle names its network
 * "network_def" and its loss "loss"; a training step is loss(network(image), label), and
 * the autodiff pass adds its gradients; an evaluation step is network(image). Batches
 * have static shapes, so the step's inputs are typed here: the image (N, in_channels,
 * spatial...) and, for training, the label (N, 1, spatial...) when the loss one-hot
 * encodes it (to_onehot_y), else (N, out_channels, spatial...).
 * Read next: step.c, nets/net.h, docs/networks.md ("Training steps from a bundle"). */
#ifndef MG_STEP_H
#define MG_STEP_H

#include "../ir/ir.h"
#include "config.h"

struct mg_step_opts {
	int training;       /* 1: loss and gradients, batch statistics; 0: forward, eval */
	int64_t batch;      /* N (>= 1) */
	int nspatial;       /* 0: the spatial shape from the bundle's metadata,
			     * _meta_#network_data_format#inputs#image#spatial_shape */
	int64_t spatial[3];
	int64_t seed;       /* dropout's */
};

/* The step's graph (*out, freed by the caller with mg_graph_free): inputs "image", the
 * network's parameters and buffers by their state_dict keys (from graph input *first
 * on; first may be NULL), "label" (training); outputs "loss" (training) and "pred",
 * then the updated buffers "<key>.new". g->loss (and g->optim) are set when training;
 * the passes add the gradients (and the updates).
 * Errors name the config's key (network_def, loss, the metadata's spatial_shape) and
 * what is wrong there: a missing key, a loss that is not a loss op, a bad argument. */
int mg_step_build(const struct mg_config *c, const struct mg_step_opts *o,
		  struct mg_graph **out, int *first, struct mg_err *e);

#endif
