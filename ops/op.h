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
	MG_ATTRF_NUM_OK = 8,   /* a string attribute that also takes any number (as %.17g text) */
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
 *   PASSTHROUGH  output 0 is input 0 (an effect such as saving or printing)
 *   PADS         a spatial op that fills voxels outside its input (the pads): the
 *                fusion pass leaves it alone, because its fill is relative to its own
 *                input's edges and does not compose with its neighbours' grids
 *   READS_DATA   a spatial op whose grid reads the voxels (CropForeground's box): a
 *                fusion barrier, as the fused chain has no intermediate image to read */
#define MG_OP_FLAGS(X)                          \
	X(IO, 1, "io")                          \
	X(ELEMENTWISE, 2, "elementwise")        \
	X(SPATIAL, 4, "spatial")                \
	X(RANDOM, 8, "random")                  \
	X(PASSTHROUGH, 16, "passthrough")       \
	X(PADS, 32, "pads")                     \
	X(READS_DATA, 64, "reads-data")

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
	 * given only the image's shape and meta (in's data is not read, except by ops
	 * flagged MG_OPF_READS_DATA: mg_spatial_apply hands them the real tensor). g
	 * arrives as the identity grid of `in`. Their ref is one line:
	 * return mg_spatial_apply(&me, ...). */
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
 * the grid is index-only and stays inside the image, a copy in the input's dtype when it
 * is index-only and reads outside (the outside filled per the grid's padding: zeros 0,
 * border clamps, reflection mirrors; see pad_index), else mg_resample (float32, as
 * MONAI); the output's meta gets the grid's affine and an applied-operations entry. */
int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* The type rule every spatial op starts with: an image (not file names) of rank 3 or 4
 * (channel-first 2D or 3D) when the rank is known. */
int mg_op_infer_spatial(const struct mg_type *in, const char *op, struct mg_err *e);

/* ---- the crop/pad family (spatial.c) ---- */

/* A crop's grid: MONAI's slices start[i]:end[i] (0 <= start <= end, not clipped to the
 * image) on each spatial axis. Output shape min(end, d) - min(start, d); out_to_in and
 * the affine translate by start, unclipped, as crop_func's create_translate does. */
void mg_grid_crop(struct mg_grid *g, const int64_t start[3], const int64_t end[3]);

/* The attributes every pad op shares, after its own: mode, value, constant_values, lazy
 * (MONAI's Pad keyword arguments). MG_PAD_NATTRS of them. */
#define MG_PAD_ATTRS                                                                      \
	{"mode", MG_ATTR_STR, "\"constant\"", 0, NULL,                                      \
	 "constant (0), edge / replicate (repeat the border voxel), reflect (mirror about "    \
	 "the edge voxel: numpy/torch reflect), symmetric (mirror including it); other numpy "  \
	 "and torch modes are refused"},                                                      \
	{"value", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,                             \
	 "torch.pad's fill value: only 0 (or null) is supported, and only with mode=constant"}, \
	{"constant_values", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,                   \
	 "np.pad's fill value: only 0 (or null) is supported, and only with mode=constant"},   \
	{"lazy", MG_ATTR_BOOL, "false", 0, NULL,                                              \
	 "accepted and ignored: mgc's spatial fusion pass decides what runs lazily"}
enum { MG_PAD_NATTRS = 4 };

/* Checks a pad op's shared attributes (pa points at its `mode`) and gives the grid's
 * padding and align_corners for it; errors name the op. */
int mg_pad_mode(const char *op, const struct mg_attr *pa, enum mg_pad *pad, int *align_corners,
		struct mg_err *e);

/* A pad's grid: before[i] and after[i] >= 0 voxels on each spatial axis, filled as the
 * shared attributes at pa say. Shape d + before + after; out_to_in and the affine
 * translate by -before (pad_func's create_translate). Refuses reflect with a pad of d or
 * more on an axis of size d, as torch (and so MONAI) does. */
int mg_grid_pad(const char *op, const struct mg_attr *pa, struct mg_grid *g,
		const int64_t before[3], const int64_t after[3], struct mg_err *e);

/* The grid of a pad up to a size on each spatial axis (SpatialPad, DivisiblePad): n
 * is sizes[0] for every axis or one entry per axis; the target of an axis of size d is
 * that entry when `multiple` is 0 (never smaller than d), else the next multiple of it
 * (ceil(d / k) * k); an entry <= 0 keeps the axis. The padding w goes all at the end
 * when `end`, else (w / 2, w - w / 2); then as mg_grid_pad. */
int mg_grid_pad_to(const char *op, const struct mg_attr *pa, struct mg_grid *g,
		   const struct mg_attr *sizes, int multiple, int end, struct mg_err *e);

/* The type rule every crop/pad op shares: an image of rank 3 or 4 (when known), dtype
 * and channels kept, spatial dims left to run time. */
int mg_croppad_infer(const char *op, const struct mg_type *in, struct mg_type *out,
		     struct mg_err *e);

#endif
