/* dnn_int.h: what the files behind dnn.h share (dnn.c: the engine, the primitive cache,
 * the runner, convolutions and matrix products; dnn_norm.c: normalizations and PReLU; dnn_resample.c: linear resampling).
 * Only runtime/dnn*.c built with oneDNN include it: it is the one header that includes
 * dnnl.h.
 * Invariant: an operand slot i of a primitive has one DNNL_ARG_* (entry.args[i]) and is
 * an input or an output (is_out); the runner reorders whatever the primitive takes in
 * another layout than the caller's tensor.
 * Read next: dnn.c. */
#ifndef MG_DNN_INT_H
#define MG_DNN_INT_H

#include <dnnl.h>

#include "dnn.h"

/* The most operands of a primitive (batch normalization's backward: x, mean, var, scale,
 * dy, dx, dscale, dshift, shift). */
#define DNN_NOP 9

/* The primitives behind dnn.h: a convolution pass is its enum mg_dnn_pass. */
enum { DNN_MATMUL = 3, DNN_BNORM_FWD, DNN_BNORM_BWD, DNN_LNORM_FWD, DNN_LNORM_BWD,
       DNN_PRELU_FWD, DNN_PRELU_BWD, DNN_RESAMPLE_FWD, DNN_RESAMPLE_BWD };

/* What makes a primitive: every field its descriptor depends on. Zeroed before filling,
 * so that memcmp compares it. */
struct dnn_key {
	int kind; /* enum mg_dnn_pass or DNN_* */
	int transposed;
	unsigned flags; /* a normalization's dnnl_normalization_flags_t */
	float eps;
	struct mg_conv_geom g;
	int present[DNN_NOP], rank[DNN_NOP];
	int64_t dims[DNN_NOP][MG_MAX_RANK], strides[DNN_NOP][MG_MAX_RANK];
};

/* Per operand: its DNNL_ARG_*, its layout as given (md) and as the primitive takes it
 * (pmd), and when they differ the reorder between them (into a buffer of psize bytes
 * before the run for inputs, out of it after the run for outputs). */
struct dnn_entry {
	struct dnn_key k;
	dnnl_primitive_t prim;
	int args[DNN_NOP], is_out[DNN_NOP];
	dnnl_memory_desc_t md[DNN_NOP], pmd[DNN_NOP], smd; /* smd: the scratchpad's */
	dnnl_primitive_t reorder[DNN_NOP];
	size_t psize[DNN_NOP], scratch;
};

extern dnnl_engine_t mg_dnn_engine;

/* The error of a failed oneDNN call (what: the step); MG_ERR_UNSUPPORTED when oneDNN has
 * no implementation. */
int mg_dnn_fail(struct mg_err *e, dnnl_status_t s, const char *what);
#define TRY(call, what)                                   \
	do {                                              \
		dnnl_status_t s_ = (call);                \
		if (s_ != dnnl_success) {                 \
			rc = mg_dnn_fail(e, s_, what);    \
			goto out;                         \
		}                                         \
	} while (0)

/* The plain memory descriptor of t (dims and strides as they are). */
dnnl_status_t mg_dnn_md_of(dnnl_memory_desc_t *md, const struct mg_tensor *t);
/* Checks t is float32 of dims want[0..rank) with strides oneDNN takes (rank 0: t must be
 * absent); errors name the operand. */
int mg_dnn_expect(const struct mg_tensor *t, const char *what, int rank, const int64_t *want,
		  struct mg_err *e);
/* Records operand i (t; NULL: absent) in k. */
void mg_dnn_key_operand(struct dnn_key *k, int i, const struct mg_tensor *t);
/* Attributes with a user scratchpad (what makes a primitive safe to run from several
 * threads at once); the caller destroys them. */
dnnl_status_t mg_dnn_attr(dnnl_primitive_attr_t *attr);
/* The primitive of pd and the reorders of the operands whose layout it does not take
 * (en->args and en->is_out set). Takes pd's ownership. */
int mg_dnn_entry_finish(struct dnn_entry *en, const struct mg_tensor *const op[DNN_NOP],
			dnnl_primitive_desc_t pd, struct mg_err *e);

/* The end of a create function (its TRY label): on success (rc 0) mg_dnn_entry_finish
 * of pd, else pd (NULL: none) freed; hint and attr (NULL: none) freed. Returns rc or the
 * finish's error. */
int mg_dnn_create_end(struct dnn_entry *en, const struct mg_tensor *const op[DNN_NOP],
		      dnnl_primitive_desc_t pd, dnnl_primitive_desc_t hint,
		      dnnl_primitive_attr_t attr, int rc, struct mg_err *e);

/* Creates entry en for key k (en->md holds the operands' plain layouts). */
typedef int dnn_create_fn(struct dnn_entry *en, const struct dnn_key *k,
			  const struct mg_tensor *const op[DNN_NOP], struct mg_err *e);
/* Runs the primitive of k on op[0..DNN_NOP) (NULL: absent), created by `create` and
 * cached on the first call. */
int mg_dnn_call(const struct dnn_key *k, const struct mg_tensor *const op[DNN_NOP],
		dnn_create_fn *create, struct mg_err *e);

#endif
