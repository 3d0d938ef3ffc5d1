/* ir.h: the graph IR. Nodes and values live in per-graph arrays and refer to each other
 * by 32-bit index; names, labels and attribute lists live in the graph's arena.
 * Invariant: nodes are in a valid execution order (every input is a graph input or the
 * output of an earlier node); each value has one producer.
 * Read next: graph.c (building), print.c, verify.c, lower.c (graph -> plan). */
#ifndef MG_IR_H
#define MG_IR_H

#include "../ops/op.h"
#include "../runtime/arena.h"

#define MG_NODE_MAXIO MG_STEP_MAXIO

struct cJSON;

/* A network's graph inputs: parameters (the autodiff pass differentiates the loss by
 * them) and buffers (running statistics), both loaded from a checkpoint, and an
 * optimizer's state (zeros at the start; the optimizer pass makes them). */
enum mg_param { MG_PARAM_NONE, MG_PARAM_LEARNED, MG_PARAM_BUFFER, MG_PARAM_STATE };

struct mg_value {
	struct mg_type type;
	int32_t producer; /* node index; -1 for a graph input */
	const char *name; /* the item key it holds, or the input's key */
	uint8_t param;    /* enum mg_param: what kind of network input it is */
};

struct mg_node {
	uint16_t op; /* enum mg_op */
	uint8_t nin, nout;
	uint8_t optional; /* allow_missing_keys */
	int32_t in[MG_NODE_MAXIO], out[MG_NODE_MAXIO];
	struct mg_attr *attrs; /* mg_ops[op]->nattrs entries, in schema order */
	const char *label;     /* the config path and key that made it */
};

/* A second state_dict key of a network input: torch lists a module reachable by two
 * paths under both (DynUNet's skip_layers), so a checkpoint holds its tensors twice. */
struct mg_alias {
	const char *name;
	int32_t value; /* the graph input it names */
};

struct mg_graph {
	struct mg_arena arena;
	const char *name;
	int nnodes, nodes_cap;
	struct mg_node *nodes;
	int nvalues, values_cap;
	struct mg_value *values;
	int ninputs, inputs_cap, noutputs, outputs_cap;
	int32_t *inputs;  /* values bound from the datalist item, or a network's tensors */
	int32_t *outputs; /* the item's keys after the pipeline */
	int32_t loss;     /* the scalar the autodiff pass differentiates; -1: none */
	int optim;        /* the optimizer op (MG_OPF_OPTIMIZER) the optimizer pass applies
			   * to every parameter's gradient; -1: none (the gradients are
			   * outputs) */
	const struct mg_attr *optim_attrs; /* its attributes, in the graph's arena */
	int net;          /* the network mg_net_build made in it (nets/net.h); -1: none */
	int naliases, aliases_cap;
	struct mg_alias *aliases; /* in the state_dict's order */
};

/* Parses an op's arguments from a JSON object into out[d->nattrs] (defaults filled in; args NULL: the
 * defaults alone),
 * converting to each attribute's declared type. key_index >= 0 picks the per-key value
 * of MG_ATTRF_PERKEY attributes given as lists (dict form with several keys); nkeys is
 * the number of keys. Unknown argument names are errors, except `skip` names (NULL-
 * terminated) which the caller handles. Lists go to `arena`. Messages name the argument. */
int mg_attrs_parse(const struct mg_opdef *d, const struct cJSON *args, int key_index, int nkeys,
		   const char *const *skip, struct mg_arena *arena, struct mg_attr *out,
		   struct mg_err *e);

/* The same for any schema (a network's arguments, nets/): what names it in messages. */
int mg_attrs_parse_schema(const char *what, const struct mg_attrdef *defs, int nattrs,
			  const struct cJSON *args, int key_index, int nkeys,
			  const char *const *skip, struct mg_arena *arena, struct mg_attr *out,
			  struct mg_err *e);
struct mg_graph *mg_graph_new(const char *name);
void mg_graph_free(struct mg_graph *g);
/* The graph input for an item key, created on first use. -1 on failure. */
int32_t mg_graph_input(struct mg_graph *g, const char *key, struct mg_err *e);
/* A tensor input of type t named name (a network's input, or a parameter or buffer by
 * its state_dict key); param an enum mg_param. Names are unique: -1 on a second one. */
int32_t mg_graph_tensor_input(struct mg_graph *g, const char *name, const struct mg_type *t,
			      int param, struct mg_err *e);
int32_t mg_graph_add_value(struct mg_graph *g, const struct mg_type *t, const char *name,
			   struct mg_err *e);
/* Another name of graph input v (struct mg_alias); unique among inputs and aliases. */
int mg_graph_add_alias(struct mg_graph *g, const char *name, int32_t v, struct mg_err *e);
/* Adds a node with nout fresh output values (types from the op's infer rule); attrs are
 * copied (a full list in the op's schema order), NULL giving the op's defaults. Returns the node index, or -1. */
int32_t mg_graph_add_node(struct mg_graph *g, enum mg_op op, const int32_t *in, int nin,
			  const struct mg_attr *attrs, const char *label, struct mg_err *e);
/* The same with nout outputs, for ops whose count varies (opdef nout -1). */
int32_t mg_graph_add_node_n(struct mg_graph *g, enum mg_op op, const int32_t *in, int nin,
			    int nout, const struct mg_attr *attrs, const char *label,
			    struct mg_err *e);
int mg_graph_set_outputs(struct mg_graph *g, const int32_t *vals, int n, struct mg_err *e);
/* Appends value v to the outputs under name (a pass's results: gradients, updated
 * buffers). */
int mg_graph_add_output(struct mg_graph *g, int32_t v, const char *name, struct mg_err *e);

/* Text form, e.g.
 *   %2:f32[1,?,?,?] = ScaleIntensityRange(%1) {a_min=-57, a_max=164, ...}  # label */
void mg_graph_print(const struct mg_graph *g, FILE *f);
void mg_type_print(const struct mg_type *t, FILE *f);
void mg_attr_print(const struct mg_attrdef *d, const struct mg_attr *a, FILE *f);
int mg_graph_verify(const struct mg_graph *g, struct mg_err *e);
/* Re-derives every value's type from the graph inputs through the ops' infer rules. */
int mg_graph_infer(struct mg_graph *g, struct mg_err *e);
/* A plan for the reference executor; it lives in `arena` (the caller's). */
int mg_graph_lower(const struct mg_graph *g, struct mg_arena *arena, struct mg_plan **out,
		   struct mg_err *e);

#endif
