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

enum {
	MG_OPF_IO = 1,           /* reads or writes files */
	MG_OPF_ELEMENTWISE = 2,  /* out[i] depends on in[i] (and reductions) only */
	MG_OPF_SPATIAL = 4,      /* moves voxels: composes in the spatial fusion pass */
	MG_OPF_RANDOM = 8,       /* draws random numbers: ends the cacheable prefix */
	MG_OPF_PASSTHROUGH = 16, /* output 0 is input 0 (an effect such as saving or printing) */
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
int mg_op_expect_tensor(const struct mg_val *v, const char *what, struct mg_err *e);

/* The reference kernel of every spatial op (spatial.c): the op's grid, then a view when
 * the grid is index-only and stays inside the image, else mg_resample (float32, as
 * MONAI); the output's meta gets the grid's affine and an applied-operations entry. */
int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

#endif
