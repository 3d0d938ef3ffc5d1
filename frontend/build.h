/* build.h: resolved config components -> graph IR.
 * A `Compose` (or a plain list) of transforms becomes one node per transform and key;
 * dict transforms ("ScaleIntensityRanged", "...D", "...Dict") take `keys` and per-key
 * arguments; array transforms act on the item's "image". Read next: build.c, attrs.c. */
#ifndef MG_BUILD_H
#define MG_BUILD_H

#include "../ir/ir.h"
#include "config.h"

/* What `mgc run` runs: the graph of a dataset component's transform, and its data. */
struct mg_program {
	struct mg_graph *graph;
	struct mg_datalist data;
	struct mg_datasrc src; /* where data comes from (strings point into data_spec) */
	cJSON *data_spec;    /* the resolved "data" component, read by mg_program_load_data */
	const char *data_at; /* its id, for messages */
	const char *origin;  /* the file that defined the component, for messages */
};

/* Builds the graph of the component at run_id: a Dataset-like component
 * ({"_target_": "Dataset"|"CacheDataset"|..., "data": ..., "transform": ...}), or a
 * Compose/list of transforms (then data comes from the config's "datalist" id). */
int mg_program_build(const struct mg_config *c, const char *run_id, struct mg_program *p,
		     struct mg_err *e);
/* Where the items come from (p->src), without reading any file: what `mgc compile` keeps. */
int mg_program_datasrc(struct mg_program *p, struct mg_err *e);
/* Reads the datalist (a file for load_decathlon_datalist, or the items in the config):
 * mg_program_datasrc, then mg_datasrc_load. */
int mg_program_load_data(struct mg_program *p, struct mg_err *e);
void mg_program_free(struct mg_program *p);

#endif
