/* op.h: what one op is: its schema (operands, typed attributes with MONAI's names and
 * defaults), its type rule and its reference kernel. Every op is one file in ops/ that
 * exports one `struct mg_opdef`; ops.def lists them and is the only table.
 * Read next: ops.def, ops.c, any op file (scale_intensity_range.c is a short one). */
#ifndef MG_OP_H
#define MG_OP_H

#include "../runtime/plan.h"
#include "../runtime/arena.h"
#include "../runtime/resample.h"
#include "../ir/kir.h"

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
	MG_ATTRF_INT_OK = 4,   /* a string attribute (or string list element) that also takes
				* an integer (as text): Conv's padding, 1 or "same" */
	MG_ATTRF_MATRIX = 8,   /* a float list that also takes rows of numbers, read row by
				* row (Affine's `affine`) */
	/* a string naming an item key (CropForegroundd's source_key, Invertd's orig_keys):
	 * when not null, the node reads that key's value as one more input, after the
	 * op's nin, in attribute order. The frontend takes the value once, before the dict
	 * transform's nodes rebind their keys (MONAI reads the source first) */
	MG_ATTRF_KEY = 16,
	/* any JSON value is accepted and not kept: a Python object mgc has no use for
	 * (Invertd's transform); the attribute reads as null */
	MG_ATTRF_IGNORED = 32,
	MG_ATTRF_COMPONENT = 64, /* a string attribute that also takes a component with only a
				 * "_target_" (a callable a config names without Python code):
				 * the value is that name */
	MG_ATTRF_NUM_OK = 128, /* a string attribute that also takes any number (as %.17g text) */
	/* only null is accepted: a Python object a pipeline file cannot give (MaskIntensity's
	 * mask_data and select_fn); any other value is refused with the attribute's doc */
	MG_ATTRF_REFUSED = 256,
	/* a string attribute whose "$" text a pipeline file may give unevaluated: the
	 * resolver (frontend/config_resolve.c) keeps it as text where it refuses "$" elsewhere,
	 * and the op reads it with mg_select_parse (select_fn's "$lambda x: x > 0.5") */
	MG_ATTRF_EXPR = 512,
	/* a string attribute that also takes any other JSON value, kept as its JSON text:
	 * MONAI's (name, {arguments}) tuples, such as a network's norm ["group",
	 * {"num_groups": 8}] */
	MG_ATTRF_JSON = 1024,
};

struct mg_attrdef {
	const char *name;    /* MONAI's argument name */
	enum mg_attr_type type;
	const char *dflt;    /* default as JSON text; NULL: required */
	unsigned flags;
	const char *choices; /* for strings: "a|b|c"; NULL: any */
	const char *doc;
};

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
 *                fusion barrier, as the fused chain has no intermediate image to read
 *   LOSS         a loss (MONAI's losses): its output 0 is the one-element value a
 *                training step differentiates; a bundle's "loss" must name one
 *   OPTIMIZER    a parameter's update (torch.optim's): a bundle's "optimizer" names one,
 *                the optimizer pass applies it to every parameter */
#define MG_OP_FLAGS(X)                          \
	X(IO, 1, "io")                          \
	X(ELEMENTWISE, 2, "elementwise")        \
	X(SPATIAL, 4, "spatial")                \
	X(RANDOM, 8, "random")                  \
	X(PASSTHROUGH, 16, "passthrough")       \
	X(PADS, 32, "pads")                     \
	X(READS_DATA, 64, "reads-data")        \
	X(LOSS, 128, "loss")                    \
	X(OPTIMIZER, 256, "optimizer")

enum {
#define X(e, bit, name) MG_OPF_##e = bit,
	MG_OP_FLAGS(X)
#undef X
};

/* One node of a key-moving dict transform (see mg_opdef.keys): it reads the item keys
 * in[0..nin) and binds its outputs to the keys out[0..nout). family >= 0 makes no node
 * now: it declares the keys out[0] + "0", out[0] + "1", ... (SplitDimd's "{key}_{i}",
 * whose count is the image's size, known only at run time); reading one of them later
 * makes this node, with one output and its attribute number `family` set to i. */
struct mg_keynode {
	int nin, nout, family;
	const char *in[MG_STEP_MAXIO];
	const char *out[MG_STEP_MAXIO];
	const struct mg_attr *attrs; /* NULL: the transform's own */
};

/* What a key-moving dict transform does to the item's keys: its nodes (in order; each
 * reads its keys before any of them binds), then the keys it unbinds (DeleteItemsd):
 * reading those later is an error at build time. */
struct mg_keyplan {
	int nnodes, nunbind;
	struct mg_keynode node[MG_MAX_KEYS];
	const char *unbind[MG_MAX_KEYS];
};

/* What an op's gradient rule (mg_opdef.grad) sees of its forward node, and how it adds
 * backward nodes to the graph. Values are the graph's value indices. */
struct mg_grad {
	const struct mg_attr *attrs; /* the forward node's */
	int nin, nout;
	const int32_t *x, *y;        /* its inputs and outputs */
	const struct mg_type *xt, *yt; /* their types (arrays of nin and nout) */
	/* dL/dy[j], a value of y[j]'s type; -1 when y[j] does not reach the loss (only
	 * an op with several outputs sees -1: the pass calls a rule when some dy is set) */
	const int32_t *dy;
	unsigned need; /* bit i: dL/dx[i] is wanted */
	/* set by the rule for each wanted i: the value holding dL/dx[i], of x[i]'s type; -1:
	 * zero (the input does not change the loss) */
	int32_t dx[MG_STEP_MAXIO];
	/* Adds a node of op reading in[0..nin) with nout outputs; attrs NULL gives the op's
	 * defaults, else a full list in op's schema order (a forward op's list serves its
	 * gradient ops when they share its schema). Returns the first output value (the
	 * others follow: +1, +2 ...), -1 on failure with e set. */
	int32_t (*node)(struct mg_grad *c, int op, const int32_t *in, int nin, int nout,
			const struct mg_attr *attrs);
	struct mg_err *e;
	void *pass; /* the pass's own state */
};

/* The statistics one elementwise member with reductions has gathered (struct mg_opdef's
 * reduce/map) for the group its kernels run on: channel c of channels, or the whole
 * image (channel -1). v: the reductions of every pass so far, in order. */
enum { MG_GEN_MAXSTATS = 16 };
struct mg_gen_stats {
	int64_t channel, channels;
	int n;
	double v[MG_GEN_MAXSTATS];
};

struct mg_opdef {
	const char *name;     /* MONAI's array-transform name: "ScaleIntensityRange" */
	const char *synopsis; /* one line */
	unsigned flags;
	/* -1: as many as the frontend's key plan gives the node (1 to MG_STEP_MAXIO): the
	 * type rule and the kernel find inputs past the node's with kind MG_VK_NONE */
	int nin, nout;
	const struct mg_attrdef *attrs;
	int nattrs;
	/* The dtypes the op computes in (bit d: enum mg_dtype d, MG_DTYPES_FLOAT), which its
	 * input 0 must have: mg_op_infer checks it before `infer`, `mgc ops` lists it. 0:
	 * whatever the type rule takes. */
	unsigned dtypes;
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
	/* Spatial ops whose arguments can make a node a fusion barrier: 1 when `attrs` do
	 * (fuse_spatial.c leaves the node alone, as it does MG_OPF_PADS and READS_DATA ops).
	 * Resize and Zoom: torch.interpolate's area and nearest modes are no point sample of
	 * a composed map; a Zoom whose keep_size pads is a pad. NULL: never. */
	int (*barrier)(const struct mg_attr *attrs);
	/* Spatial ops that are two steps, the second run on the first one's materialised
	 * output (Zoom's keep_size: its pad fills from the zoomed image's edges): `next`
	 * arrives as mg_grid_next(g); leaving it so means no second step. mg_spatial_apply
	 * runs both; FusedSpatial composes both, which is exact only when the second step
	 * reads inside (a crop): `barrier` must hold the node back otherwise. NULL: none. */
	int (*then)(const struct mg_attr *attrs, const struct mg_grid *g, struct mg_grid *next,
		    struct mg_err *e);
	/* Dict forms that move item keys (ConcatItemsd, CopyItemsd, SplitDimd, DeleteItemsd):
	 * the plan of nodes and unbound keys for the transform's keys[0..nkeys) and its
	 * attributes (extra attribute lists go to arena). Errors name the argument and the
	 * key. NULL: one node per key, reading it (and its data keys), output 0 rebinding
	 * it. An op without a kernel (ref NULL) exists only in its dict form. */
	int (*keys)(const struct mg_attr *attrs, const char *const *keys, int nkeys,
		    struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e);
	/* Generated kernels (docs/codegen.md). `gen` is the kernel the plan runs: it builds
	 * kernel IR, hands it to the executor's backend (mg_kctx.backend) and falls back to
	 * `ref` when there is no backend, or the backend has no code for the kernel, or the
	 * inputs are outside what the lowering covers; results equal ref's within the
	 * op's stated tolerance (tests/test_lowering.c). Elementwise ops set `emit` and
	 * gen = mg_elementwise_gen; FusedElementwise composes its members' emits. */
	mg_kernel_fn gen;
	/* y = f(x) for one voxel: x is the node holding the op's input voxel (dtype xt), the
	 * result the node of its output voxel in the output's dtype, built into k with
	 * ref's roundings step by step (docs/fusion.md); -1 when k failed. Only ops whose
	 * output voxel depends on its input voxel and the attributes alone (no reductions). */
	int32_t (*emit)(const struct mg_attr *attrs, struct mg_kir *k, int32_t x,
			enum mg_dtype xt);
	/* Elementwise ops whose map needs statistics of their own input first
	 * (NormalizeIntensity's mean and std, ScaleIntensity's min and max): "reductions
	 * first, then one pass" (docs/fusion.md). `reduce` adds to k the reductions of pass
	 * `pass` (0, 1, ...) over the voxel x (dtype xt), given st (the results of the
	 * passes before), and returns how many it added: 0 when the statistics are
	 * complete (which depends on attrs and pass alone, never on values), -1 when k
	 * failed. `map` is then `emit` with every pass's results in st; the values it
	 * computes from them enter the kernel as parameters (mg_gen_param into pv), never
	 * as constants, so one compiled kernel serves every item and channel.
	 * `per_channel`: 1 when attrs ask for statistics per channel (axis 0). */
	int (*reduce)(const struct mg_attr *attrs, struct mg_kir *k, double *pv, int32_t x,
		      enum mg_dtype xt, int pass, const struct mg_gen_stats *st);
	int32_t (*map)(const struct mg_attr *attrs, struct mg_kir *k, double *pv, int32_t x,
		       enum mg_dtype xt, const struct mg_gen_stats *st);
	int (*per_channel)(const struct mg_attr *attrs);
	/* Elementwise ops whose map needs percentiles of their own input (MONAI's
	 * percentile: torch.quantile / np.percentile, intensity.h): sets q[0..n) (in
	 * [0, 100], n <= MG_QSELECT_MAXQ) and returns n, or -1 when these attributes have no
	 * generated kernel. gen_chain.c selects them exactly (gen_select.c) into st->v[0..n)
	 * before any reduce pass; per_channel says per channel or not. */
	int (*quantiles)(const struct mg_attr *attrs, double *q);
	/* Reverse mode (passes/autodiff.c, docs/autodiff.md): adds to c the nodes that
	 * compute the gradients of the forward node's wanted inputs from its outputs'
	 * gradients, and sets c->dx. NULL: not differentiable (the pass refuses a loss
	 * that depends on a parameter through this op). */
	int (*grad)(struct mg_grad *c);
	/* Optimizers (MG_OPF_OPTIMIZER, ops/optim.h): the names of the state tensors that
	 * follow param and grad among the inputs (and param' among the outputs) for these
	 * attributes, in order; their count (at most MG_STEP_MAXIO - 2). */
	int (*state)(const struct mg_attr *attrs, const char **names);
	/* Later: inverse. */
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
/* By a config's "_target_": a module path is dropped ("monai.transforms.Flipd"), and a
 * name that is no op's but ends in "d", "D" or "Dict" after one is that op's dict form
 * (*dict set); -1 when unknown. */
int mg_op_find_target(const char *target, int *dict);
int mg_op_attr_index(const struct mg_opdef *d, const char *name);
/* A node's inputs: d->nin plus one per MG_ATTRF_KEY attribute that is not null; -1 for
 * ops whose count varies (nin -1). */
int mg_op_nin(const struct mg_opdef *d, const struct mg_attr *attrs);
/* Whether a node of d may have nin inputs and nout outputs (a count of -1 in d takes any
 * from 1 to MG_STEP_MAXIO). */
/* The network ops' dtypes: float32 and float64 (float64 is what gradient checks run);
 * float16 and bfloat16 join with mixed precision. */
#define MG_DTYPES_FLOAT (1u << MG_DTYPE_F32 | 1u << MG_DTYPE_F64)

/* d's type rule on in with the node's attrs, after d->dtypes's check of input 0 (an
 * error naming the op and x's dtype); without a rule output 0 copies input 0. */
int mg_op_infer(const struct mg_opdef *d, const struct mg_attr *attrs, const struct mg_type *in,
		struct mg_type *out, struct mg_err *e);
/* d->dtypes as "float32 or float64" into buf. */
const char *mg_op_dtypes_text(const struct mg_opdef *d, char *buf, size_t size);
int mg_op_arity_ok(const struct mg_opdef *d, const struct mg_attr *attrs, int nin, int nout);
/* The inputs a node of variable arity (nin -1) got, in its kernel and its type rule: the
 * values (types) before the first MG_VK_NONE, at most MG_STEP_MAXIO. */
int mg_op_nvals(const struct mg_val *in);
int mg_op_ntypes(const struct mg_type *in);

/* Shared helpers for op files (ops.c). */
/* A kernel's check of its input: an image, not file names nor nothing. */
int mg_op_expect_tensor(const struct mg_val *v, const char *what, struct mg_err *e);
/* An infer rule's check of its input: an error for file names (or a key that is not in
 * the item at all: graph inputs are file names until loaded). */
int mg_op_infer_image(const struct mg_type *in, const char *op, struct mg_err *e);
/* The type rule of a data-key input (MG_ATTRF_KEY): an image as mg_op_infer_spatial
 * wants it; a key that holds file names (not loaded, or not in the item at all) is an
 * error naming the argument and the key. */
int mg_op_infer_key_input(const struct mg_type *in, const char *op, const char *arg,
			  const char *key, struct mg_err *e);
/* The axis `dim` (negative counts from the end) names in a rank-r tensor, as torch
 * reads a dim argument; else an error naming op and its argument arg. */
int mg_op_axis(int64_t dim, int rank, const char *op, const char *arg, int *axis,
	       struct mg_err *e);
/* v (NONE) becomes the tensor t, taking over t's references; when meta is not NULL,
 * t's own meta is replaced by a new reference to it (an output that keeps its input's
 * metadata: the tail of most kernels). */
void mg_val_set_tensor(struct mg_val *v, struct mg_tensor t, struct mg_meta *meta);
/* A kernel's last step: rc != 0 releases y and returns rc (the op failed after allocating
 * its output), else mg_val_set_tensor(v, y, meta) and 0. */
int mg_val_set_result(struct mg_val *v, struct mg_tensor y, struct mg_meta *meta, int rc);
/* EnsureChannelFirst's move, in place on the view t (ensure_channel_first.c): a channel
 * axis at channel_dim (negative counts from the end) moves to 0; MG_NO_CHANNEL adds one
 * of size 1. `from` names where channel_dim came from, for the message when it is not an
 * axis of t. */
int mg_channel_first(struct mg_tensor *t, int channel_dim, const char *from,
		     struct mg_err *e);

/* Runs grid g on x (spatial.c): a view when g is index-only and stays inside x, a copy
 * in x's dtype when it is index-only and reads outside (the outside filled per g's
 * padding: zeros 0, border clamps, reflection mirrors; see pad_index), else a resampling
 * (float32, as MONAI): mg_resample_gen when k has a backend, else mg_resample. y keeps
 * x's meta (shared): the caller sets the affine. */
int mg_grid_run(const struct mg_tensor *x, const struct mg_grid *g, struct mg_tensor *y,
		struct mg_kctx *k);
/* mg_resample as a generated kernel through k's backend (spatial_gen.c), the same output
 * bit for bit in every point mode (nearest, linear, cubic) and padding; MG_ERR_UNSUPPORTED
 * (nothing done) without a backend, for torch.interpolate's axis-wise modes (area, its
 * nearest), or when the backend has no code. */
int mg_resample_gen(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		    struct mg_tensor *out, struct mg_kctx *k);
/* Appends the applied-operations entry of op running g on an input with in_affine; an
 * error naming op when the list is full (inversion would be wrong without it). */
int mg_applied_push(struct mg_meta *m, const char *op, const struct mg_grid *g,
		    const double in_affine[4][4], struct mg_err *e);

/* ---- ensembles (MeanEnsemble, VoteEnsemble; ops.c): a stacked (E, C, ...) input ---- */

/* Their first attribute, output_key (MONAI's dict forms): several keys are stacked into
 * one (E, C, ...) input, as MeanEnsembled/VoteEnsembled stack them. */
#define MG_ENSEMBLE_OUTPUT_KEY                                                            \
	{"output_key", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE, NULL,                        \
	 "dict form: the key that gets the result; null: the only key (required with "      \
	 "several keys, whose images are stacked as the models)"}
/* The dict form's plan: one node reading every key (one key: its stacked value), its
 * output bound to output_key (a[0]) or the only key. */
int mg_ensemble_keys(const struct mg_attr *a, const char *const *keys, int nkeys,
		     struct mg_keyplan *p, struct mg_arena *arena, struct mg_err *e);

/* What an ensemble op checks of its arguments and input type (it calls
 * mg_ensemble_input first). */
typedef int mg_ensemble_check_fn(const struct mg_attr *a, const struct mg_type *in,
				 struct mg_err *e);
/* y[...] from x[0..E, ...]: y is x without the first axis, x's dtype, not empty. */
typedef int mg_ensemble_reduce_fn(const struct mg_attr *a, const struct mg_tensor *x,
				  struct mg_tensor *y, struct mg_err *e);
/* The input check every ensemble op starts with: an image with a first (model) axis. */
int mg_ensemble_input(const char *op, const struct mg_type *in, struct mg_err *e);
/* An ensemble op's kernel: in[0] an image that check accepts (on its type, as at
 * inference), or several images of one shape and dtype stacked into one (torch.stack,
 * in key order), then reduce into a new y with in[0]'s meta. */
int mg_ensemble_run(const char *op, mg_ensemble_check_fn *check, mg_ensemble_reduce_fn *reduce,
		    const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k);
/* An ensemble op's type rule: check, then in's type without the first axis (several
 * inputs: in[0]'s type). */
int mg_ensemble_infer(mg_ensemble_check_fn *check, const struct mg_attr *a,
		      const struct mg_type *in, struct mg_type *out, struct mg_err *e);

/* ---- generated kernels (gen.c) ---- */

/* Runs kernel kir through k's backend after checking it: 0, MG_ERR_UNSUPPORTED (no
 * backend, or no code for kir: the caller runs its reference kernel instead), or an
 * error naming the kernel. */
int mg_gen_run(struct mg_kctx *k, const struct mg_kir *kir, const struct mg_kargs *a,
	       double *red);
/* The loop order that walks t in its memory order (the slowest axis first, the fastest
 * innermost), for kernels whose output is laid out as t. */
void mg_gen_order(const struct mg_tensor *t, int order[MG_KMAX_RANK]);
/* a op b (b = -1: op a) computed as one torch op on a tensor of float dtype ct: in ct,
 * or for f16/bf16 (storage types in kernel IR) in f32 rounded to ct; the result is a node
 * of ct's compute type (mg_gen_ctype). */
int32_t mg_gen_arith(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b,
		     enum mg_dtype ct);
/* The type kernel IR computes a float dtype's arithmetic in: f32 for f16/bf16. */
int mg_gen_ctype(enum mg_dtype ct);
/* v (any type) as mg_round_to(ct, (double)v) makes it, in ct's compute type: int64
 * through float64 as mg_dtype_load reads it, f16/bf16 through f32. */
int32_t mg_gen_round(struct mg_kir *k, int32_t v, enum mg_dtype ct);
/* A parameter slot of k holding v (pv[slot] = v), read as a node of the given type. */
int32_t mg_gen_param(struct mg_kir *k, double *pv, int type, double v);
/* Gathers along one axis of a tensor (the channels of a loss's logits, Softmax's dim):
 * the element offset of the output index in tensor ti of k's rank (sum of index times
 * stride), and the load of the element c steps of `stride` (an I64 node, a parameter)
 * from there, in ti's dtype. */
int32_t mg_gen_offset(struct mg_kir *k, int ti);
int32_t mg_gen_gather(struct mg_kir *k, int ti, int32_t offset, int32_t stride, int64_t c);
/* vals[sel] for an I64 or F64 node sel holding an integer: a chain of selects over
 * vals[0..n), `other` where sel is none of them. */
int32_t mg_gen_pick(struct mg_kir *k, int32_t sel, const int32_t *vals, int64_t n,
		    int32_t other);
/* The gen of every op with an `emit`: one kernel y = emit(x) (output laid out as x, with
 * x's meta), else the op's ref. */
int mg_elementwise_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		       struct mg_kctx *k);
/* The same for a run of elementwise ops: member i is defs[i] with attrs[i]; one kernel
 * composing their emits (or maps) when each has one, after the reduction kernels of
 * the members with statistics (gen_chain.c), else -2 (the caller runs its reference
 * kernel). */
int mg_elementwise_chain_gen(const struct mg_opdef *const *defs,
			     const struct mg_attr *const *attrs, int n, struct mg_val *in,
			     struct mg_val *out, struct mg_kctx *k);

/* ---- select_fn (select_fn.c): CropForeground's and MaskIntensity's voxel test ---- */

/* MONAI's select_fn as far as mgc reads it: is_positive, or a lambda comparing its
 * argument with a number (x > t, t < x, ...). */
enum mg_select_cmp { MG_SELECT_GT, MG_SELECT_GE, MG_SELECT_LT, MG_SELECT_LE, MG_SELECT_EQ,
		     MG_SELECT_NE };
struct mg_select {
	enum mg_select_cmp cmp;
	double t;
	int int_literal; /* t was written without '.' or exponent (a Python int) */
	int f32;	 /* mg_select_for: the voxel is rounded to float32 before comparing */
};

/* The select_fn attribute a (argument `arg` of `op`; null: is_positive) as a test: the
 * text is "is_positive", "$monai.transforms.is_positive",
 * "$monai.transforms.utils.is_positive", or "$lambda NAME: NAME OP NUMBER" or
 * "$lambda NAME: NUMBER OP NAME" (OP one of > >= < <= == !=, spaces optional, NUMBER a
 * Python int or float literal with an optional sign). Anything else is an error naming
 * op, arg and the text: mgc runs no Python. */
int mg_select_parse(const char *op, const char *arg, const struct mg_attr *a,
		    struct mg_select *s, struct mg_err *e);
/* s as torch evaluates it on a tensor of dtype dt: a float image compares in its own
 * dtype (t rounded to it); an integer image with an int literal in its dtype (t wrapped
 * to its width: x > 300 on uint8 is x > 44), with a float literal in float32 (the voxel
 * and t rounded to float32). */
struct mg_select mg_select_for(const struct mg_select *s, enum mg_dtype dt);
/* Whether a voxel of value v (exact in the dtype mg_select_for got) is selected; NaN
 * only by != (IEEE comparisons, as torch's). */
static inline int mg_select_test(const struct mg_select *s, double v)
{
	if (s->f32)
		v = (float)v;
	switch (s->cmp) {
	case MG_SELECT_GT: return v > s->t;
	case MG_SELECT_GE: return v >= s->t;
	case MG_SELECT_LT: return v < s->t;
	case MG_SELECT_LE: return v <= s->t;
	case MG_SELECT_EQ: return v == s->t;
	case MG_SELECT_NE: return v != s->t;
	}
	return 0;
}

/* mg_tensor_cast as a generated kernel when k has a backend (CastToType's), else
 * mg_tensor_cast itself: out laid out as in, with its meta. */
int mg_gen_cast(struct mg_tensor *out, const struct mg_tensor *in, enum mg_dtype dtype,
		struct mg_kctx *k);

/* ---- fused chains (FusedSpatial, FusedElementwise) ---- */

/* Prefixes e's message with the chain's member i, "<label> (fused <op>)", so an error in a
 * fused node names the transform that made it. */
void mg_chain_err(struct mg_err *e, const struct mg_chain *c, int i);
/* The fused node's type rule: the members' rules one after the other (a member without
 * one keeps its input's type). A missing chain is an error naming the fused op and the
 * pass that makes it: fused ops cannot be written in pipelines. */
int mg_chain_infer(const char *op, const char *pass, const struct mg_attr *chain,
		   const struct mg_type *in, struct mg_type *out, struct mg_err *e);

/* The reference kernel of every spatial op (spatial.c): the op's grid, then a view when
 * the grid is index-only and stays inside the image, a copy in the input's dtype when it
 * is index-only and reads outside (the outside filled per the grid's padding: zeros 0,
 * border clamps, reflection mirrors; see pad_index), else mg_resample (float32, as
 * MONAI); the output's meta gets the grid's affine and an applied-operations entry.
 * An op with a data-key input (MG_ATTRF_KEY set: CropForeground's source_key) gets that
 * input's tensor as its grid's `in` (the data the grid reads) while g is in[0]'s. */
int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* mg_spatial_apply for the ops whose output is float32 whatever the input (MONAI's
 * resampling ops: Spacing, Affine, Rotate, Resize, Zoom): the view or copy of an
 * index-only grid, or the input returned unchanged, comes back converted to float32. */
int mg_spatial_apply_f32(const struct mg_opdef *d, const struct mg_attr *attrs,
			 struct mg_val *in, struct mg_val *out, struct mg_kctx *k);

/* c = a b on 4x4 matrices (c may be a or b); f32: each entry rounded once to float32, as
 * torch's float32 matmul gives it. */
void mg_mat4_mul(int f32, const double a[4][4], const double b[4][4], double c[4][4]);

/* MONAI's create_rotate (transforms/utils.py) for sdim = 2 or 3: the (sdim+1)x(sdim+1)
 * rotation by angles[0..n) (2D: angles[0]; 3D: about the axes of `order`, scipy's Euler
 * convention: upper case intrinsic (post-multiplied), lower case extrinsic), in r's top
 * left block (r is 4x4, identity elsewhere). f32: as its torch backend computes it (the
 * angles, sines and cosines and each product rounded to float32, as AffineGrid builds
 * it), else in float64 (numpy, as Rotate). Errors name `op` and the order's argument
 * (rotate_order) as MONAI's checks do. */
int mg_create_rotate(const char *op, int sdim, const double *angles, int n, const char *order,
		     int f32, double r[4][4], struct mg_err *e);

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

/* A pad-to-size op's argument check: `list` (its argument `name`) has one entry or one
 * per spatial axis (sdim > 0: known), and the shared attributes at pa are valid. */
int mg_pad_check(const char *op, const char *name, const struct mg_attr *list,
		 const struct mg_attr *pa, int sdim, struct mg_err *e);

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

/* ResizeWithPadOrCrop's grid (MONAI: CenterSpatialCrop then SpatialPad to the same
 * size): per spatial axis, size[i] <= 0 keeps the axis; a longer axis is cropped about
 * its centre (start d / 2 - size / 2), a shorter one padded as mg_grid_pad_to pads
 * (`end`: all at the end). Each axis is either cropped or padded, so the one index-only
 * grid equals the two steps. */
int mg_grid_pad_or_crop(const char *op, const struct mg_attr *pa, struct mg_grid *g,
			const int64_t size[3], int end, struct mg_err *e);

/* What a crop/pad op checks of its arguments against sdim spatial axes (<= 0: not
 * known yet). */
typedef int mg_croppad_check_fn(const struct mg_attr *a, int sdim, struct mg_err *e);
/* The type rule every crop/pad op shares: an image of rank 3 or 4 (when known), dtype
 * and channels kept, spatial dims left to run time; then check(a, sdim) unless check is
 * NULL. */
int mg_croppad_infer(const char *op, mg_croppad_check_fn *check, const struct mg_attr *a,
		     const struct mg_type *in, struct mg_type *out, struct mg_err *e);

/* ---- torch.nn.functional.interpolate (Resize, Zoom; spatial.c) ---- */

/* The interpolation of Resize and Zoom from MONAI's mode string ("area", "nearest",
 * "nearest-exact", "linear" / "bilinear" / "trilinear", "bicubic") and align_corners
 * (null, or a bool: torch accepts one only with the linear and cubic modes). sdim 3
 * refuses bicubic (torch's interpolate has no 3D cubic); sdim -1: not known yet. Then
 * MONAI's compute `dtype`: null, float32 or float64 (mgc computes in float64 either
 * way). */
int mg_interp_args(const char *op, const struct mg_attr *mode, const struct mg_attr *align,
		   const struct mg_attr *dtype, int sdim, enum mg_interp *m, struct mg_err *e);

/* What Resize or Zoom checks of its arguments (sdim -1: not known yet); *m the
 * interpolation. */
typedef int mg_interp_check_fn(const struct mg_attr *a, int sdim, enum mg_interp *m,
			       struct mg_err *e);
/* Their type rule's common part: a spatial image whose arguments check accepts; the
 * type kept but float32 (the op sets the spatial dims it changes). */
int mg_interp_infer(const char *op, mg_interp_check_fn *check, const struct mg_attr *a,
		    const struct mg_type *in, struct mg_type *out, struct mg_err *e);
/* Their barrier's common part: arguments check refuses (inference reports it) or an
 * axis-wise mode (area, nearest: no point sample of a composed map). */
int mg_interp_barrier(mg_interp_check_fn *check, const struct mg_attr *a);

/* The grid of a resize of g's input to out_shape with mode m: the map and the affine are
 * MONAI's scale_affine (scale in / out about the voxel centres, or (in - 1) / (out - 1)
 * from voxel 0 with align_corners), which is exactly where torch's linear and cubic modes
 * sample (border padding); the identity when the shape is unchanged (MONAI then skips
 * the interpolation). */
void mg_grid_scale(struct mg_grid *g, const int64_t out_shape[3], enum mg_interp m,
		   int align_corners);
/* ---- connected components (components.c): KeepLargestConnectedComponent,
 * RemoveSmallObjects and FillHoles share them ---- */

/* Labels the connected components of mask (contiguous, last dim fastest; nonzero =
 * foreground) of rank 1..MG_MAX_RANK: labels[i] = 0 on background, else 1..*n numbered in
 * the order of each component's first voxel in memory (skimage.measure.label's and
 * scipy.ndimage.label's numbering). Two voxels touch when their indices differ by at
 * most 1 on every axis and differ on at most `connectivity` axes (1: faces, rank: full;
 * skimage's numbering); the caller checks 1 <= connectivity <= rank. Union-find in two
 * passes: linear in the voxels times the neighbours. */
int mg_components_label(const uint8_t *mask, int rank, const int64_t *dims, int connectivity,
			int32_t *labels, int32_t *n, struct mg_err *e);
/* sizes[0..n] (malloc'd; *sizes NULL on failure): voxels per label, sizes[0] the
 * background's. */
int mg_components_sizes(const int32_t *labels, int64_t numel, int32_t n, int64_t **sizes,
			struct mg_err *e);
/* The connectivity argument of a post-processing op: null (is_none) and, when zero_full,
 * 0 mean full (rank); anything else must be in 1..rank. Errors name op and argument. */
int mg_components_connectivity(const char *op, const struct mg_attr *a, int rank, int zero_full,
			       int *conn, struct mg_err *e);

/* MONAI's get_unique_labels(discard=0) on a label image: the distinct values of
 * elements first..first+count-1 of the contiguous x, without 0 and NaN, ascending, in
 * *vals (malloc'd, *n of them). */
int mg_components_unique(const struct mg_tensor *x, int64_t first, int64_t count, double **vals,
			 int64_t *n, struct mg_err *e);

/* The working copy of a post-processing op's input x (C, spatial...): *work, a fresh
 * contiguous tensor with the channel axis first and the spatial axes in x's memory order
 * (largest stride first), so the copy streams through x (NIfTI loads are x-fastest); *y,
 * the same buffer seen with x's logical dims (a dense, permuted view): the op's output.
 * y owns the buffer's one reference, work borrows it. Components are the same in either
 * order; only their numbering follows work's. */
int mg_components_copy(const struct mg_tensor *x, struct mg_tensor *y, struct mg_tensor *work,
		       struct mg_err *e);

/* A component op's input check: an image with a channel axis and at least one spatial
 * axis; errors name the op. */
int mg_components_input(const char *op, const struct mg_val *in, struct mg_err *e);

/* What a component op checks of its arguments against sr spatial axes (0: not known
 * yet): *conn the connectivity. */
typedef int mg_components_check_fn(const struct mg_attr *a, int sr, int *conn,
				   struct mg_err *e);
/* The type rule of a component op: an image, check(a, sr) once the rank is known, the
 * type kept. */
int mg_components_infer(const char *op, mg_components_check_fn *check, const struct mg_attr *a,
			const struct mg_type *in, struct mg_type *out, struct mg_err *e);

/* A per-label component op at work (FillHoles, KeepLargestConnectedComponent): the
 * working copy w (mg_components_copy: channel c at c * S), its data and element size
 * looked up once, one channel's mask and label buffers. */
struct mg_components {
	struct mg_tensor w;
	char *base;
	size_t es;
	int64_t C, S;
	int sr, conn;
	uint8_t *mask;
	int32_t *lab;
	struct mg_err *e;
};

static inline double mg_components_at(const struct mg_components *s, int64_t c, int64_t i)
{
	return mg_dtype_load(s->w.dtype, s->base + (c * s->S + i) * (int64_t)s->es);
}

static inline void mg_components_put(struct mg_components *s, int64_t c, int64_t i, double v)
{
	mg_dtype_store(s->w.dtype, s->base + (c * s->S + i) * (int64_t)s->es, v);
}

/* A one-hot image's labels present: the channels 1..C-1 with a positive sum, ascending,
 * in *lv (malloc'd, *n of them). */
int mg_components_present(const char *op, const struct mg_components *s, double **lv,
			  int64_t *n);

/* The kernel of a per-label component op: in[0] checked (mg_components_input), then
 * check(a, sr, &conn); the working copy and buffers; run(a, s), in place on s->w, unless
 * the image is empty; out[0] the result with the input's meta. */
typedef int mg_components_run_fn(const struct mg_attr *a, struct mg_components *s);
int mg_components_run(const char *op, mg_components_check_fn *check, mg_components_run_fn *run,
		      const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_err *e);

#endif
