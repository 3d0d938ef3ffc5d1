/* kernel.h: how generated kernels are called. A kernel (made from kernel IR, ir/kir.h, by
 * the LLVM backend at run time or ahead of time) walks an output index space of rank <= 5
 * and may store one tensor and accumulate reductions. This header is all a compiled
 * pipeline needs to call one: the argument block, the function type and the launcher.
 * Invariant: the ABI below is the same for JIT-compiled and ahead-of-time kernels; a
 * change to it changes MG_KABI_VERSION.
 * Read next: kernel.c (launch), ir/kir.h (what a kernel computes). */
#ifndef MG_KERNEL_H
#define MG_KERNEL_H

#include "runtime.h"

#define MG_KABI_VERSION 2
#define MG_KMAX_RANK 5     /* of the output index space and of every tensor */
#define MG_KMAX_TENSORS 8  /* tensor 0 is the stored output (when the kernel stores) */
#define MG_KMAX_PARAMS 32  /* scalar parameters per call */
#define MG_KMAX_RED 8      /* reductions per kernel */
#define MG_KMAX_BINS 4096  /* bins of one histogram reduction */

/* One tensor operand: the address of its element 0 and, per axis of the tensor's rank,
 * its size and stride in elements (any sign; 0 broadcasts). Axes past the rank are
 * ignored. */
struct mg_ktensor {
	char *data;
	int64_t dims[MG_KMAX_RANK];
	int64_t strides[MG_KMAX_RANK];
};

/* Everything one call reads. dims: the output index space, in the kernel's axis order
 * (not its loop order). p: the scalar parameters, each converted by the kernel to its
 * PARAM node's type. */
struct mg_kargs {
	int64_t dims[MG_KMAX_RANK];
	struct mg_ktensor t[MG_KMAX_TENSORS];
	double p[MG_KMAX_PARAMS];
};

/* The reductions a kernel accumulates, each into one double, a histogram into its bins
 * besides. SUM adds in float64; MIN and MAX propagate NaN, as torch.min/max. HIST counts
 * the elements whose value (an i64 bin index) is in [0, bins) into bin[value] (counts
 * are exact below 2^53, so any combining order gives the same bins); its own double
 * stays 0. */
enum mg_kred {
	MG_KRED_SUM,
	MG_KRED_MIN,
	MG_KRED_MAX,
	MG_KRED_HIST,
};

/* The identity a reduction's accumulator starts from (0, +inf, -inf; 0 for bins). */
double mg_kred_identity(enum mg_kred r);
/* acc combined with a partial result v. */
double mg_kred_combine(enum mg_kred r, double acc, double v);

/* A compiled kernel. It runs rows [lo, hi) of the index space, a row being every index
 * along the innermost loop axis; rows are numbered over the other axes in loop order,
 * the outermost slowest. acc: the kernel's accumulators for this slice (mg_kinfo_nacc
 * doubles: one per reduction, then each HIST reduction's bins, then each per-axis
 * reduction's dims[axis] accumulators, in reduction order), which the caller initialised
 * (mg_kred_identity); the kernel folds its elements into them. */
typedef void mg_kfn(const struct mg_kargs *a, int64_t lo, int64_t hi, double *acc);

/* What the launcher needs to know about a kernel besides its code. */
struct mg_kinfo {
	int rank;
	int order[MG_KMAX_RANK]; /* loop order: order[rank - 1] is the innermost axis */
	int nred;
	enum mg_kred red[MG_KMAX_RED];
	int32_t bins[MG_KMAX_RED]; /* a HIST reduction's bins (1..MG_KMAX_BINS); 0 otherwise */
	/* 1 + the outer axis a SUM/MIN/MAX reduction is kept per index of (one accumulator
	 * per index along it: per-channel statistics in one launch, each index's elements
	 * folded in row order); 0: one for the whole space */
	int8_t per[MG_KMAX_RED];
};

/* How many doubles a kernel's accumulators take over an index space of dims (nred, every
 * histogram's bins, every per-axis reduction's dims[axis]); where reduction r's bins and
 * its per-axis accumulators start among them. */
int64_t mg_kinfo_nacc(const struct mg_kinfo *info, const int64_t *dims);
int64_t mg_kinfo_bins_at(const struct mg_kinfo *info, int r);
int64_t mg_kinfo_per_at(const struct mg_kinfo *info, const int64_t *dims, int r);
/* The mg_kinfo_nacc accumulators acc at their identities (mg_kred_identity; bins 0). */
void mg_kinfo_acc_init(const struct mg_kinfo *info, const int64_t *dims, double *acc);

/* Runs fn over the whole index space of a: rows split into slices whose boundaries depend
 * only on the shape (never on the thread count), so reductions come out the same on any
 * pool; slices run on pool (NULL: in this thread); the slices' accumulators are
 * combined in slice order into red_out (mg_kinfo_nacc doubles). A kernel with
 * histograms whose per-slice bins cannot be allocated runs as one slice in this thread
 * (same bins; a SUM beside them may differ in its last bits). */
void mg_kernel_launch(mg_kfn *fn, const struct mg_kinfo *info, const struct mg_kargs *a,
		      struct mg_pool *pool, double *red_out);

/* An operand from a tensor (rank <= MG_KMAX_RANK, checked by the caller). */
void mg_ktensor_set(struct mg_ktensor *kt, const struct mg_tensor *t);

#endif
