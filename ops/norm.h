/* norm.h: what the normalization ops (BatchNorm, InstanceNorm, GroupNorm, LayerNorm) and
 * their gradient ops share: one geometry that describes all four, and their kernels, type
 * rules and gradient rule, written once (norm.c) over a per-op spec that each op file
 * derives from its attributes and x's shape.
 * Invariant: every norm normalizes groups of the elements of x seen as (n, c, s): a
 * group is one sample's run of cg consecutive channels (gn groups per sample: GroupNorm;
 * InstanceNorm is cg = 1; LayerNorm is one group over (rows, normalized numel, 1)), or
 * one channel across the whole batch (gn = 0: BatchNorm). Weight and bias are per channel.
 * Read next: norm.c, batch_norm.c (the op with every input and output). */
#ifndef MG_NORM_H
#define MG_NORM_H

#include "op.h"

struct mg_norm_geom {
	int64_t n, c, s; /* x as (n, c, s) */
	int64_t gn;      /* statistic groups per sample; 0: one per channel over the batch */
	int64_t cg;      /* channels per group (gn > 0) */
};

/* One node of a norm op as the shared code sees it. Inputs, in torch's state_dict order:
 * x, weight (affine), bias (affine and bias), running_mean and running_var (track), then
 * num_batches_tracked when nbt allows it (optional). Outputs: y, the mean and invstd
 * (1 / sqrt(var + eps)) it normalized with (the batch's or the running ones: the
 * backward reads them, as torch's save_mean / save_invstd), then, when tracked, the
 * running statistics after the call (updated when `update`, else the inputs) and
 * num_batches_tracked (+1 when updated); outputs that do not apply are absent. */
struct mg_norm_spec {
	const char *op;
	int nout;            /* the op's output count */
	int affine, bias, track, nbt;
	int batch_stats;     /* normalize with x's statistics, else the running ones */
	int update;          /* update the running statistics (batch_stats and track) */
	double eps, momentum; /* momentum < 0: the cumulative average 1 / num_batches_tracked */
	/* set when x's rank is known (entries -1 where a dim is not known) */
	struct mg_norm_geom g;
	int prank, srank;    /* weight's and bias's shape, the saved statistics' shape */
	int64_t pdims[MG_MAX_RANK], sdims[MG_MAX_RANK];
	int64_t nrun;        /* the running statistics' length */
};

/* An op's spec from its attributes a and x's rank and dims (rank < 0: not known, only
 * the attributes are checked; dims may hold -1). Refuses what torch refuses, naming the
 * op and the argument. */
typedef int mg_norm_spec_fn(const struct mg_attr *a, int rank, const int64_t *xd,
			    struct mg_norm_spec *s, struct mg_err *e);

/* The fields every spec starts from (the op, its output count, eps): the rest zero. */
void mg_norm_spec_init(struct mg_norm_spec *s, const char *op, int nout, double eps);
/* The (n, c, s) geometry of x (rank >= 2) for gn groups per sample (0: BatchNorm) and
 * the channels divided among them (gn > 0: c / gn per group); dims -1 give -1. */
void mg_norm_geom_nc(struct mg_norm_spec *s, int rank, const int64_t *xd, int64_t gn);

/* The forward op's type rule and reference kernel. */
int mg_norm_infer(mg_norm_spec_fn *spec, const struct mg_attr *a, const struct mg_type *in,
		  struct mg_type *out, struct mg_err *e);
int mg_norm_kernel(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
		   struct mg_val *out, struct mg_kctx *k);

/* The gradient op (the forward's attributes): inputs dy, x, mean, invstd (the forward's
 * outputs 1 and 2), weight (affine); outputs dx, dweight (affine), dbias (affine and
 * bias). With batch statistics dx is the full backward through them, else (eval) affine. */
int mg_norm_grad_infer(mg_norm_spec_fn *spec, const struct mg_attr *a,
		       const struct mg_type *in, struct mg_type *out, struct mg_err *e);
int mg_norm_grad_kernel(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
			struct mg_val *out, struct mg_kctx *k);
/* The forward op's gradient rule: one grad_op node for x, weight and bias; gradients flow
 * from y only (the other outputs are statistics torch does not differentiate). The
 * running statistics get none: zero when the batch's statistics were used, an error
 * otherwise (torch treats them as non-differentiable buffers). */
int mg_norm_grad(mg_norm_spec_fn *spec, int grad_op, struct mg_grad *c);

/* The ops' `gen` kernels (the contract of mg_norm_kernel and mg_norm_grad_kernel): oneDNN's
 * batch normalization (norm_dnn.c) when the executor has a backend, oneDNN is there and x
 * is float32 (mg_nn_use_dnn); the reference kernels otherwise. */
int mg_norm_kernel_gen(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
		       struct mg_val *out, struct mg_kctx *k);
int mg_norm_grad_kernel_gen(mg_norm_spec_fn *spec, const struct mg_attr *a, struct mg_val *in,
			    struct mg_val *out, struct mg_kctx *k);

/* The kernels, type rules and gradient rule of a norm op and its gradient op grad_op,
 * all driven by the op file's spec function: norm_ref, norm_gen, norm_infer, norm_grad
 * and norm_grad_ref, norm_grad_gen, norm_grad_infer for its two opdefs. */
#define MG_NORM_OP_FNS(spec, grad_op)                                                       \
	static int norm_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,    \
			    struct mg_kctx *k)                                                  \
	{                                                                                       \
		return mg_norm_kernel(spec, a, in, out, k);                                     \
	}                                                                                       \
	static int norm_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,    \
			    struct mg_kctx *k)                                                  \
	{                                                                                       \
		return mg_norm_kernel_gen(spec, a, in, out, k);                                 \
	}                                                                                       \
	static int norm_infer(const struct mg_attr *a, const struct mg_type *in,               \
			      struct mg_type *out, struct mg_err *e)                            \
	{                                                                                       \
		return mg_norm_infer(spec, a, in, out, e);                                      \
	}                                                                                       \
	static int norm_grad(struct mg_grad *c) { return mg_norm_grad(spec, grad_op, c); }     \
	static int norm_grad_ref(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,\
				 struct mg_kctx *k)                                             \
	{                                                                                       \
		return mg_norm_grad_kernel(spec, a, in, out, k);                                \
	}                                                                                       \
	static int norm_grad_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,\
				 struct mg_kctx *k)                                             \
	{                                                                                       \
		return mg_norm_grad_kernel_gen(spec, a, in, out, k);                            \
	}                                                                                       \
	static int norm_grad_infer(const struct mg_attr *a, const struct mg_type *in,          \
				   struct mg_type *out, struct mg_err *e)                       \
	{                                                                                       \
		return mg_norm_grad_infer(spec, a, in, out, e);                                 \
	}

/* ---- what norm.c shares with norm_dnn.c ---- */

/* Where the forward's inputs are (-1: absent). */
struct mg_norm_ix {
	int w, b, rm, rv, nbt;
};
/* The gradient op's inputs. */
enum { MG_NORM_G_DY, MG_NORM_G_X, MG_NORM_G_MEAN, MG_NORM_G_INVSTD, MG_NORM_G_W };
/* The forward's spec and input layout for the tensors in[0..n), checked. */
int mg_norm_take_inputs(mg_norm_spec_fn *spec, const struct mg_attr *a, const struct mg_val *in,
			int n, struct mg_norm_spec *s, struct mg_norm_ix *ix, struct mg_err *e);
/* The gradient op's spec for its inputs in (mg_op_nvals of them), checked. */
int mg_norm_take_grad_inputs(mg_norm_spec_fn *spec, const struct mg_attr *a,
			     const struct mg_val *in, struct mg_norm_spec *s, struct mg_err *e);
/* The running statistics' outputs 3 and 4 (and 5: num_batches_tracked): updated from the
 * batch's statistics (mean and biased var per group) when s->update, else the inputs. */
int mg_norm_running_outputs(const struct mg_norm_spec *s, const struct mg_norm_ix *ix,
			    struct mg_val *in, struct mg_val *out, const double *mean,
			    const double *var, struct mg_err *e);

#endif
