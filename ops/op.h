/* op.h: what one op is: its schema (operands, typed attributes with MONAI's names and
 * defaults), its type rule and its reference kernel. Every op is one file in ops/ that
 * exports one `struct mg_opdef`; ops.def lists them and is the only table.
 * Read next: ops.def, ops.c, any op file (scale_intensity_range.c is a short one). */
#ifndef MG_OP_H
#define MG_OP_H

#include "../runtime/plan.h"
#include "../runtime/resample.h"

/* A value's static type. Preprocessing shapes are symbolic (-1) until run time. */
struct mg_type {
	enum mg_vkind kind;
	int dtype; /* enum mg_dtype, -1 unknown */
	int rank;  /* -1 unknown */
	int64_t dims[MG_MAX_RANK]; /* -1 symbolic */
};

enum {
	MG_ATTRF_PERKEY = 1,   /* the dict form accepts one value per key */
	MG_ATTRF_NULLABLE = 2, /* null (None) is a valid value */
	MG_ATTRF_INT_OK = 4,   /* a string attribute that also takes an integer (as text) */
};

struct mg_attrdef {
	const char *name;    /* MONAI's argument name */
	enum mg_attr_type type;
	const char *dflt;    /* default as JSON text; NULL: required */
	unsigned flags;
	const char *choices; /* for strings: "a|b|c"; NULL: any */
	const char *doc;
};

/* Attribute type t as people read it: its docs name ("int list"), what a value must be
 * ("a list of integers"); and a list's element type (t itself for scalars). From
 * MG_ATTR_TYPES. */
const char *mg_attr_type_name(enum mg_attr_type t);
const char *mg_attr_type_phrase(enum mg_attr_type t);
enum mg_attr_type mg_attr_type_elem(enum mg_attr_type t);

/* X(enum suffix, bit, name in the docs):
 *   IO           reads or writes files
 *   ELEMENTWISE  out[i] depends on in[i] (and reductions) only
 *   SPATIAL      moves voxels: composes in the spatial fusion pass
 *   RANDOM       draws random numbers: ends the cacheable prefix
 *   PASSTHROUGH  output 0 is input 0 (an effect such as saving or printing) */
#define MG_OP_FLAGS(X)                          \
	X(IO, 1, "io")                          \
	X(ELEMENTWISE, 2, "elementwise")        \
	X(SPATIAL, 4, "spatial")                \
	X(RANDOM, 8, "random")                  \
	X(PASSTHROUGH, 16, "passthrough")

enum {
#define X(e, bit, name) MG_OPF_##e = bit,
	MG_OP_FLAGS(X)
#undef X
};

struct mg_opdef {
	const char *name;     /* MONAI's array-transform name: "ScaleIntensityRange" */
	const char *synopsis; /* one line */
	unsigned flags;
	int nin, nout;
	const struct mg_attrdef *attrs;
	int nattrs;
	/* Output types from input types and attributes; NULL: output 0 copies input 0. */
	int (*infer)(const struct mg_attr *attrs, const struct mg_type *in, struct mg_type *out,
		     struct mg_err *e);
	mg_kernel_fn ref;
	/* Spatial ops (MG_OPF_SPATIAL): what the op does to the grid of `in`, per item,
	 * given only the image's shape and meta (in's data is not read). g arrives as the
	 * identity grid of `in`. Their ref is one line: return mg_spatial_apply(&me, ...). */
	int (*grid)(const struct mg_attr *attrs, const struct mg_tensor *in, struct mg_grid *g,
		    struct mg_err *e);
	/* Later: lowering to kernel IR, gradient, inverse. */
};

enum mg_op {
#define X(name, sym) MG_OP_##name,
#include "ops.def"
#undef X
	MG_OP_COUNT
};

extern const struct mg_opdef *const mg_ops[MG_OP_COUNT];

/* By MONAI name, array form ("ScaleIntensityRange"); -1 when unknown. */
int mg_op_find(const char *name);
int mg_op_attr_index(const struct mg_opdef *d, const char *name);

/* Shared helpers for op files (ops.c). */
/* A kernel's check of its input: an image, not file names nor nothing. */
int mg_op_expect_tensor(const struct mg_val *v, const char *what, struct mg_err *e);
/* An infer rule's check of its input: "<op> needs an image; this key holds file names
 * (is LoadImage missing?)" for file names. */
int mg_op_infer_image(const struct mg_type *in, const char *op, struct mg_err *e);
/* v (NONE) becomes the tensor t, taking over t's references; when meta is not NULL,
 * t's own meta is replaced by a new reference to it (an output that keeps its input's
 * metadata: the tail of most kernels). */
void mg_val_set_tensor(struct mg_val *v, struct mg_tensor t, struct mg_meta *meta);
/* EnsureChannelFirst's move, in place on the view t (ensure_channel_first.c): a channel
 * axis at channel_dim (negative counts from the end) moves to 0; MG_NO_CHANNEL adds one
 * of size 1. `from` names where channel_dim came from, for the message when it is not an
 * axis of t. */
int mg_channel_first(struct mg_tensor *t, int channel_dim, const char *from,
		     struct mg_err *e);

/* The reference kernel of every spatial op (spatial.c): the op's grid, then a view when
 * the grid is index-only and stays inside the image, else mg_resample (float32, as
 * MONAI); the output's meta gets the grid's affine and an applied-operations entry. */
int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

#endif
