/* kir.h: the kernel IR, what a generated kernel computes. One kernel is an output index
 * space of rank <= 5 (sizes given per call), walked in a fixed loop order with the
 * innermost axis vectorized, and one expression DAG evaluated per element: loads, scalar
 * parameters, arithmetic, comparisons, selects, casts, Philox draws. The value of one
 * node is stored into tensor 0, and/or reduced (sum, min, max, histogram) over the
 * index space.
 * Ops lower into it (their `emit`/`gen` hooks); codegen/ renders it (LLVM now, CUDA C
 * later); kir_eval.c interprets it, the oracle of every renderer.
 *
 * Invariants: nodes are in topological order (operands have smaller indices); every node
 * has a type (enum mg_ktype); arithmetic never happens on f16/bf16 (they are storage
 * types: loaded, cast, stored); a kernel's code depends only on what is in struct
 * mg_kir (hashed by mg_kir_hash), never on a call's sizes, strides or parameter values,
 * so one compiled kernel serves every item of a pipeline.
 *
 * Semantics (each renderer must give exactly these):
 *   - integer arithmetic wraps (two's complement); DIV and REM truncate toward zero and
 *     give 0 for a zero divisor; MIN / -1 wraps to MIN in i8/i16/i32 and is 0 in i64
 *     (REM: 0 in every type);
 *   - float arithmetic is IEEE in the node's type, one rounding per node: no
 *     contraction into FMA, no reassociation, no fast-math;
 *   - MIN(a, b) is a < b ? a : b and MAX(a, b) is a > b ? a : b (the second operand when
 *     either is NaN, as x86's minps); compares are ordered except NE (NaN != x is true);
 *   - CAST is mg_dtype_store's conversion: float to integer truncates toward zero,
 *     saturates at the type's exact range (INT64_MAX for i64) and gives 0 for NaN;
 *     integer to integer saturates; integer to float rounds once (i64 to f32 directly,
 *     not through f64);
 *     to f16/bf16 rounds to nearest even (from f64 through f32, as mg_dtype_store);
 *     BOOL casts to 0/1 and from (x != 0);
 *   - RINT rounds half to even (nearbyint); FLOOR, CEIL, TRUNC, SQRT, EXP, LOG, ABS, NEG
 *     as C's; EXP and LOG may differ from libm by a few ulp (vector math libraries);
 *   - LIBM is the named libm function itself (exp, tanh, erf ...: f64 in, f64 out), bit
 *     for bit what the C library of the running process returns, so a lowering repeats
 *     a float64 reference kernel's libm calls exactly (renderers call it per lane);
 *   - LOAD with a mask reads nothing where the mask is false and gives 0 there;
 *   - BITCAST reinterprets the bits (f32 <-> i32/u32, f64 <-> i64, f16/bf16 <-> i16/u16).
 * Read next: kir.c (building, checking, hashing, printing), kir_eval.c, runtime/kernel.h
 * (the call ABI), codegen/llvm.c. */
#ifndef MG_KIR_H
#define MG_KIR_H

#include "../runtime/arena.h"
#include "../runtime/plan.h"

/* Value types: the dtypes, plus BOOL for compares and masks. */
enum mg_ktype {
	MG_KT_BOOL = MG_DTYPE_COUNT,
	MG_KT_COUNT,
};

/* X(enum suffix, operand count, printed name). Operands are node indices a, b, c;
 * i and j are integer payloads, f a float payload.
 *   CONST      value f, of the node's type (exact for integers up to 2^53)
 *   PARAM      the call's scalar parameter p[i], converted to the node's type (CAST)
 *   INDEX      the output index along axis i (I64)
 *   DIM        size of tensor i along axis j (I64; tensor 0 is the output)
 *   STRIDE     stride of tensor i along axis j, in elements (I64)
 *   LOADAT     tensor i's element at the output index (the tensor has the kernel's rank;
 *              stride 0 broadcasts); its dtype
 *   LOAD       tensor i's element at offset a (I64 or I32, in elements from element 0),
 *              where the mask b is true (b = -1: always); its dtype
 *   arithmetic, two operands of the node's type (NEG ... TRUNC: one)
 *   LT ... NE  compare two operands of one type; BOOL
 *   AND OR XOR bitwise on integers, logical on BOOL; NOT: one operand
 *   SELECT     a (BOOL) ? b : c, b and c of the node's type
 *   CAST       a converted to the node's type (see above)
 *   PHILOX     word i (0..3) of Philox4x32-10 at counter a (I64: low word first, the two
 *              high words 0) with key b (I64: key0 low 32 bits, key1 high); U32
 *   LIBM       libm's function i (enum mg_klibm) of a; F64 operand and result
 *   BITCAST    a's bits as the node's type, of the same size (neither BOOL) */
#define MG_KOPS(X)                   \
	X(CONST, 0, "const")         \
	X(PARAM, 0, "param")         \
	X(INDEX, 0, "index")         \
	X(DIM, 0, "dim")             \
	X(STRIDE, 0, "stride")       \
	X(LOADAT, 0, "loadat")       \
	X(LOAD, 2, "load")           \
	X(ADD, 2, "add")             \
	X(SUB, 2, "sub")             \
	X(MUL, 2, "mul")             \
	X(DIV, 2, "div")             \
	X(REM, 2, "rem")             \
	X(MIN, 2, "min")             \
	X(MAX, 2, "max")             \
	X(NEG, 1, "neg")             \
	X(ABS, 1, "abs")             \
	X(SQRT, 1, "sqrt")           \
	X(EXP, 1, "exp")             \
	X(LOG, 1, "log")             \
	X(FLOOR, 1, "floor")         \
	X(CEIL, 1, "ceil")           \
	X(RINT, 1, "rint")           \
	X(TRUNC, 1, "trunc")         \
	X(LT, 2, "lt")               \
	X(LE, 2, "le")               \
	X(GT, 2, "gt")               \
	X(GE, 2, "ge")               \
	X(EQ, 2, "eq")               \
	X(NE, 2, "ne")               \
	X(AND, 2, "and")             \
	X(OR, 2, "or")               \
	X(XOR, 2, "xor")             \
	X(NOT, 1, "not")             \
	X(SELECT, 3, "select")       \
	X(CAST, 1, "cast")           \
	X(PHILOX, 2, "philox")       \
	X(LIBM, 1, "libm")           \
	X(BITCAST, 1, "bitcast")

enum mg_kop {
#define X(e, n, name) MG_KOP_##e,
	MG_KOPS(X)
#undef X
	MG_KOP_COUNT
};

/* LIBM's functions: X(enum suffix, C name), each double f(double). New ones go at the
 * end (the number is in compiled kernel tables). */
#define MG_KLIBMS(X)        \
	X(EXP, exp)         \
	X(EXPM1, expm1)     \
	X(LOG, log)         \
	X(LOG1P, log1p)     \
	X(TANH, tanh)       \
	X(ERF, erf)

enum mg_klibm {
#define X(e, name) MG_KLIBM_##e,
	MG_KLIBMS(X)
#undef X
	MG_KLIBM_COUNT
};
/* The C name of fn ("?" outside the enum). */
const char *mg_klibm_name(int fn);

struct mg_knode {
	uint8_t op;   /* enum mg_kop */
	uint8_t type; /* enum mg_dtype or MG_KT_BOOL */
	int32_t a, b, c;
	int64_t i, j;
	double f;
};

/* One reduction: value (F64; a HIST's bin index: I64) folded into an accumulator where
 * mask (BOOL; -1: every element) is true. A HIST's bin count is info.bins[r]; a
 * reduction kept per index of an axis has info.per[r] = 1 + the axis. */
struct mg_kreduce {
	enum mg_kred kind;
	int32_t value, mask;
};

struct mg_ktensor_decl {
	uint8_t dtype; /* enum mg_dtype */
	uint8_t rank;
};

struct mg_kir {
	const char *name; /* for messages and symbols: the op or fused chain it came from */
	struct mg_kinfo info; /* rank, loop order, reductions' kinds (kept in step with red) */
	int ntensors, nparams;
	struct mg_ktensor_decl tensor[MG_KMAX_TENSORS];
	int32_t store; /* node stored into tensor 0 at the output index (its dtype); -1: none */
	struct mg_kreduce red[MG_KMAX_RED];
	int nnodes, cap;
	struct mg_knode *nodes; /* in arena */
	struct mg_arena *arena;
	int failed; /* a builder call ran out of memory or broke a rule: see mg_kir_verify */
};

/* ---- building ----------------------------------------------------------------------- */

/* An empty kernel of the given rank, loop order identity (the last axis innermost),
 * nodes allocated in arena. */
void mg_kir_init(struct mg_kir *k, struct mg_arena *arena, const char *name, int rank);
/* Declares the next tensor operand (0 first: the output when the kernel stores);
 * returns its index. */
int mg_kir_tensor(struct mg_kir *k, enum mg_dtype dtype, int rank);
/* The next scalar parameter slot; returns its index. */
int mg_kir_param_slot(struct mg_kir *k);

/* Node builders: each returns the new node's index (or -1 once k has failed; every
 * builder accepts -1 operands and fails on them, so a lowering checks once, at the
 * end, with mg_kir_verify). Types are checked there too. */
int32_t mg_kir_const(struct mg_kir *k, int type, double v);
int32_t mg_kir_param(struct mg_kir *k, int type, int slot);
int32_t mg_kir_index(struct mg_kir *k, int axis);
int32_t mg_kir_dim(struct mg_kir *k, int tensor, int axis);
int32_t mg_kir_stride(struct mg_kir *k, int tensor, int axis);
int32_t mg_kir_loadat(struct mg_kir *k, int tensor);
int32_t mg_kir_load(struct mg_kir *k, int tensor, int32_t offset, int32_t mask);
/* Arithmetic and compares of two (or one: b = -1) operands: the result's type is the
 * operands' (BOOL for compares). */
int32_t mg_kir_op(struct mg_kir *k, enum mg_kop op, int32_t a, int32_t b);
int32_t mg_kir_select(struct mg_kir *k, int32_t c, int32_t a, int32_t b);
/* a converted to type (a itself when it has that type already). */
int32_t mg_kir_cast(struct mg_kir *k, int type, int32_t a);
int32_t mg_kir_philox(struct mg_kir *k, int word, int32_t counter, int32_t key);
/* libm's fn of a (F64): an F64 node. */
int32_t mg_kir_libm(struct mg_kir *k, enum mg_klibm fn, int32_t a);
/* Adds a reduction (not HIST); its index, or -1. */
int mg_kir_reduce(struct mg_kir *k, enum mg_kred kind, int32_t value, int32_t mask);
/* Adds a histogram of bins bins (1..MG_KMAX_BINS) counting the I64 bin index value where
 * mask; its index, or -1. */
int mg_kir_hist(struct mg_kir *k, int32_t value, int32_t mask, int bins);
/* Keeps reduction r (SUM, MIN or MAX) per index along axis (an outer axis: not the
 * innermost of the loop order), one accumulator per index; r, or -1. */
int mg_kir_per_axis(struct mg_kir *k, int r, int axis);
/* a's bits as type (same size). */
int32_t mg_kir_bitcast(struct mg_kir *k, int type, int32_t a);

/* ---- checking, identity, text ------------------------------------------------------- */

/* Every rule above; errors name the kernel and the node. */
int mg_kir_verify(const struct mg_kir *k, struct mg_err *e);
/* A 64-bit hash of everything that changes the code (not the name). */
uint64_t mg_kir_hash(const struct mg_kir *k);
/* Whether a and b are the same code: everything mg_kir_hash covers, compared (the name
 * is not). A hash only chooses candidates; this decides. */
int mg_kir_equal(const struct mg_kir *a, const struct mg_kir *b);
/* Text form, one node per line:
 *   kernel ScaleIntensityRange rank 4 order 0,1,2,3 tensors f32[4] i16[4] params 0
 *     %0 = loadat i16 t1
 *     %1 = cast f32 %0 ...
 *     store %7
 *     reduce hist 2048 %9 if %8
 *     reduce sum %4 per axis 0 */
void mg_kir_print(const struct mg_kir *k, FILE *f);
const char *mg_ktype_name(int type);

/* ---- bytes (kir_io.c) ---------------------------------------------------------------- */

/* k as compact bytes (*out malloc'd, *n bytes): the magic "MGK1", the name, the header
 * (rank, order, tensors, parameters, store, reductions) and the nodes, each with only
 * the fields that differ from a builder's defaults. The form of a compiled pipeline's
 * kernel table (mgc compile); its layout is kir_io.c's header comment. */
int mg_kir_write(const struct mg_kir *k, unsigned char **out, size_t *n, struct mg_err *e);
/* The kernel written in bytes[0..n), its nodes and name in arena. Every count, index
 * and field is checked against the bytes left and the IR's limits before anything is
 * allocated; a truncated, corrupt or non-canonical blob, or one that fails
 * mg_kir_verify, is an MG_ERR_FORMAT error that says where. A kernel read back writes
 * the same bytes. */
int mg_kir_read(struct mg_kir *k, struct mg_arena *arena, const void *bytes, size_t n,
		struct mg_err *e);

/* ---- the interpreter (kir_eval.c) --------------------------------------------------- */

/* Runs k on a as a compiled kernel would (rows [lo, hi), acc as mg_kfn), one element at a
 * time in float64/int64 with each node's rounding: the meaning of the IR, against which
 * renderers are tested. k must verify. */
void mg_kir_eval(const struct mg_kir *k, const struct mg_kargs *a, int64_t lo, int64_t hi,
		 double *acc);

/* A backend (runtime/plan.h) that interprets every kernel: the ops' lowerings are tested
 * with it against their reference kernels, without a code generator. runs counts the
 * kernels it ran (atomically). */
struct mg_kir_interp {
	struct mg_backend b;
	int64_t runs;
};
void mg_kir_interp_init(struct mg_kir_interp *it);

#endif
