/* plan.h: what the executor runs, with no compiler in sight: values at run time, typed
 * attribute values, kernel signatures, steps, plans, datalists and the executor.
 * Invariant: a plan is a straight-line list of steps over numbered slots; every slot is
 * written by one step (or bound from the datalist item) before it is read.
 * Read next: exec.c, datalist.c. */
#ifndef MG_PLAN_H
#define MG_PLAN_H

#include "arena.h"
#include "kernel.h"

/* ---- values ---------------------------------------------------------------------------- */

enum mg_vkind {
	MG_VK_NONE = 0, /* absent: a missing key with allow_missing_keys */
	MG_VK_TENSOR,   /* an image or array, with meta for images */
	MG_VK_STRINGS,  /* one or more strings: file names from the datalist */
};

struct mg_val {
	enum mg_vkind kind;
	struct mg_tensor t;
	int nstr;
	char **str; /* owned: each string and the array */
};

void mg_val_release(struct mg_val *v); /* back to MG_VK_NONE */
/* A new reference to the same content (tensors share storage, strings are copied). */
int mg_val_share(struct mg_val *dst, const struct mg_val *src, struct mg_err *e);

/* ---- attributes ---------------------------------------------------------------------- */

/* X(enum suffix, element type (itself for scalars), name in the docs, what a value must be
 * in messages). A DTYPE's .i holds an enum mg_dtype; lists hold .n elements. */
#define MG_ATTR_TYPES(X)                                          \
	X(BOOL, BOOL, "bool", "a boolean")                        \
	X(INT, INT, "int", "an integer")                          \
	X(FLOAT, FLOAT, "float", "a number")                      \
	X(STR, STR, "str", "a string")                            \
	X(DTYPE, DTYPE, "dtype", "a dtype name")                  \
	X(INTS, INT, "int list", "a list of integers")            \
	X(FLOATS, FLOAT, "float list", "a list of numbers")       \
	X(STRS, STR, "str list", "a list of strings")                                 \
	X(CHAIN, CHAIN, "op chain", "an op chain (made by a pass, not written in files)")

enum mg_attr_type {
#define X(e, el, name, phrase) MG_ATTR_##e,
	MG_ATTR_TYPES(X)
#undef X
};

/* Attribute type t as people read it: its docs name ("int list"), what a value must be
 * ("a list of integers"); and a list's element type (t itself for scalars). From
 * MG_ATTR_TYPES. */
const char *mg_attr_type_name(enum mg_attr_type t);
const char *mg_attr_type_phrase(enum mg_attr_type t);
enum mg_attr_type mg_attr_type_elem(enum mg_attr_type t);

/* The ops a fusion pass replaced by one node, in order: op ids (enum mg_op), each one's
 * attribute values and the label of the node it came from. */
struct mg_chain {
	int n;
	const uint16_t *ops;
	const struct mg_attr *const *attrs;
	const char *const *labels;
};

/* One attribute value. Lists live in the graph's or plan's arena. */
struct mg_attr {
	int8_t is_none; /* Python's None */
	int n;          /* list length */
	union {
		int64_t i;
		double f;
		const char *s;
		const int64_t *ints;
		const double *floats;
		const char *const *strs;
		const struct mg_chain *chain;
	} v;
};

/* ---- kernels and steps --------------------------------------------------------------- */

struct mg_kir;  /* kernel IR (ir/kir.h): the runtime passes it along, never reads it */
struct mg_step;

/* Generated code behind the ops' kernels: the LLVM JIT (codegen/), a compiled pipeline's
 * table of kernels, or the kernel IR interpreter (tests). An op with a generated kernel
 * (its opdef's `gen`) builds kernel IR and hands it here; with no backend (mg_kctx's
 * NULL) every op runs its reference kernel. */
struct mg_backend {
	/* Runs kernel k over a's whole index space (mg_kernel_launch), its reductions into
	 * red (mg_kinfo_nacc(&k->info) doubles: histograms' bins too). MG_ERR_UNSUPPORTED when it has no code for k (a compiled
	 * pipeline whose table lacks it): the op then runs its reference kernel. Other
	 * errors name the kernel. Called from several threads at once. */
	int (*run)(struct mg_backend *b, const struct mg_kir *k, const struct mg_kargs *a,
		   double *red, struct mg_err *e);
};

/* What a kernel may use besides its operands. */
struct mg_kctx {
	struct mg_err *err;
	FILE *log;            /* where DataStats and friends write; NULL: quiet */
	int64_t item;         /* index of the datalist item being processed */
	const char *key;      /* the item key the running step works on */
	const char *const *in_key; /* the item key each of its inputs holds (for messages) */
	int gz_level;         /* compression level for .nii.gz outputs */
	struct mg_backend *backend; /* NULL: reference kernels only */
	const struct mg_step *step; /* the running step */
};

/* A reference kernel: reads in[0..nin), writes out[0..nout) (which arrive as NONE). */
typedef int (*mg_kernel_fn)(const struct mg_attr *attrs, struct mg_val *in, struct mg_val *out,
			    struct mg_kctx *k);

/* ConcatItemsd's inputs and CopyItemsd's outputs count against it */
#define MG_STEP_MAXIO 16

struct mg_step {
	mg_kernel_fn fn;
	const char *op;    /* op name, for messages */
	/* the op's definition (ops/op.h's struct mg_opdef, opaque here): kernels that serve
	 * several ops (the generated-kernel runners) find their op through mg_kctx.step */
	const void *def;
	const char *label; /* where it came from: "preprocessing#transforms#2 key 'image'" */
	const char *key;   /* the item key it works on */
	const char *in_key[MG_STEP_MAXIO]; /* the item key each input holds */
	const struct mg_attr *attrs;
	int nin, nout;
	int in[MG_STEP_MAXIO], out[MG_STEP_MAXIO];
	int optional; /* allow_missing_keys: an absent in[0] makes absent outputs (absent
		       * data-key inputs are errors, as in MONAI) */
};

/* The most item keys one pipeline may use (datalist keys read plus keys written): the
 * size of the frontend's key table, the graph's inputs and outputs and the plan's
 * inputs. */
#define MG_MAX_KEYS 64

struct mg_plan_input {
	const char *key; /* the datalist item's key */
	int slot;
};

struct mg_plan {
	int nslots, nsteps, ninputs;
	struct mg_step *steps;
	struct mg_plan_input *inputs;
	int *last_use; /* per slot: the last step that reads it (-1: never read) */
};

/* ---- datalists ------------------------------------------------------------------------- */

struct mg_field {
	char *key;
	int nstr;
	char **str;
};

struct mg_item {
	int nfields;
	struct mg_field *fields;
};

struct mg_datalist {
	int n;
	struct mg_item *items;
};

/* Reads a Medical Segmentation Decathlon style dataset.json as MONAI's
 * load_decathlon_datalist: `key` is "training", "validation", "test"...; plain strings
 * become {"image": s}; "image" and (if is_segmentation) "label" are joined to base_dir,
 * other string fields only when the joined path exists. fold >= 0 keeps the items whose
 * "fold" equals it (fold_exclude: the others). path may be a folder: its dataset.json. */
int mg_datalist_load(struct mg_datalist *dl, const char *path, const char *key,
		     const char *base_dir, int is_segmentation, int fold, int fold_exclude,
		     struct mg_err *e);
void mg_datalist_free(struct mg_datalist *dl);
const struct mg_field *mg_item_get(const struct mg_item *it, const char *key);

/* Where a pipeline's items come from: its dataset's "data", kept unread so that a compiled
 * pipeline reads its datalist when it runs. */
enum mg_datasrc_kind {
	MG_DATASRC_NONE = 0,
	MG_DATASRC_ITEMS,     /* a list of items written in the pipeline */
	MG_DATASRC_DECATHLON, /* load_decathlon_datalist's arguments */
};

struct mg_datasrc {
	enum mg_datasrc_kind kind;
	const char *where;       /* the config id it came from ("datalist"), for messages */
	struct mg_datalist items; /* ITEMS; owned by whoever made the source */
	const char *path, *key, *base_dir; /* DECATHLON: mg_datalist_load's arguments */
	int is_segmentation, fold, fold_exclude;
};

/* The items src gives, in dl (the caller's to free with mg_datalist_free): a copy of
 * ITEMS, or mg_datalist_load for DECATHLON; NONE gives none. Errors start with
 * src->where. */
int mg_datasrc_load(const struct mg_datasrc *src, struct mg_datalist *dl, struct mg_err *e);

/* ---- executor ----------------------------------------------------------------------- */

/* Per-step totals over a run, added to atomically by every worker: kernel calls,
 * nanoseconds inside the kernel and bytes of tensor data it made (mg_buffer_created). */
struct mg_step_stats {
	int64_t calls, ns, bytes;
};

struct mg_exec_opts {
	int nthreads;     /* items processed at once; 0: one per core */
	FILE *log;        /* kernels' prints (DataStats) */
	FILE *progress;   /* progress line; NULL: none */
	int gz_level;
	int64_t first, count; /* a slice of the datalist; count < 0: to the end */
	struct mg_step_stats *stats; /* NULL, or one per plan step, zeroed by the caller */
	struct mg_backend *backend;  /* NULL: reference kernels only */
};

/* Runs the plan on one item: slots (plan->nslots, zeroed) get every value; the caller
 * releases them. Errors name the item, the step's label and the key. stats: as in
 * mg_exec_opts. */
int mg_exec_item(const struct mg_plan *p, const struct mg_item *item, int64_t index,
		 struct mg_val *slots, struct mg_kctx *k, struct mg_step_stats *stats);
/* Runs the plan's steps on slots whose inputs the caller bound (a network's tensors at
 * p->inputs[i].slot), releasing each value after its last use; the graph's outputs stay. */
int mg_exec_steps(const struct mg_plan *p, struct mg_val *slots, struct mg_kctx *k,
		  struct mg_step_stats *stats);
/* Runs the plan over a datalist; stops at the first failing item. */
int mg_exec_run(const struct mg_plan *p, const struct mg_datalist *dl,
		const struct mg_exec_opts *o, struct mg_err *e);

/* ---- serialized plans (plan_io.c) -------------------------------------------------- */

/* A plan as bytes: versioned (a reader takes only its own MG_PLAN_FORMAT), ops and
 * attributes named by name, a CRC-32 at the end. Layout: plan_io.c; docs/compile.md. */
#define MG_PLAN_FORMAT 1

/* What writing and reading plans needs to know of the ops, which runtime/ does not
 * (ops/ gives mg_ops_optab): ops by number, as chains number them. */
struct mg_optab {
	int nops;
	const char *(*name)(int op);
	mg_kernel_fn (*kernel)(int op); /* NULL: the op has no kernel of its own */
	const void *(*def)(int op);     /* the op's definition, for mg_step.def */
	int (*nattrs)(int op);
	/* attribute k of op: its name, and its type in *type */
	const char *(*attr)(int op, int k, enum mg_attr_type *type);
	/* whether a step of op may have these attributes, nin inputs and nout outputs */
	int (*arity_ok)(int op, const struct mg_attr *attrs, int nin, int nout);
};

/* A run-time parameter of a compiled pipeline: a top-level config string (output_dir,
 * dataset_dir) whose value reaches argument strings and the data source only. In the
 * blob such strings are templates: the byte 0x01, the parameter's index in decimal, the
 * byte 0x02 stand for its value. */
struct mg_plan_param {
	const char *name, *value;
};

struct mg_plan_site; /* a string made from a template: plan_io.c */

/* A plan read back, with its data source and parameters; everything lives in arena. */
struct mg_plan_file {
	struct mg_plan *plan;
	struct mg_datasrc *data;
	int nparams;
	struct mg_plan_param *params; /* value: the current one, the compile time's at first */
	struct mg_arena arena;
	int nsites;
	struct mg_plan_site *sites; /* malloc'd */
};

/* p, its data source (NULL: none) and parameters as a blob (*blob malloc'd, *n bytes).
 * Template strings must name parameters below nparams. */
int mg_plan_write(const struct mg_plan *p, const struct mg_datasrc *data,
		  const struct mg_plan_param *params, int nparams, const struct mg_optab *t,
		  void **blob, size_t *n, struct mg_err *e);
/* The blob back (f zeroed first; free it with mg_plan_file_free even on failure), every
 * op resolved by name in t, every attribute checked against its declaration, template
 * strings rendered with the parameters' compiled values. A truncated, corrupt or
 * other-version blob is an error that says so. */
int mg_plan_read(struct mg_plan_file *f, const void *blob, size_t n, const struct mg_optab *t,
		 struct mg_err *e);
/* mg_plan_read of a whole file. */
int mg_plan_load(struct mg_plan_file *f, const char *path, const struct mg_optab *t,
		 struct mg_err *e);
/* Sets parameter `name` and renders every string made from it again; an unknown name is
 * an error listing the parameters. */
int mg_plan_set_param(struct mg_plan_file *f, const char *name, const char *value,
		      struct mg_err *e);
void mg_plan_file_free(struct mg_plan_file *f);

#endif
