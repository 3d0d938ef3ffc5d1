/* llvm_int.h: what the LLVM backend's files share (private to codegen/): the renderer's
 * state and entry points, and the target helpers. One body emitter serves every width:
 * a value of an IR node is always an LLVM vector <W x T> (W = 1 in the remainder loop),
 * so the scalar and the vector loops are the same code.
 * Read next: llvm_emit.c, llvm_expr.c, llvm_target.c. */
#ifndef MG_CODEGEN_LLVM_INT_H
#define MG_CODEGEN_LLVM_INT_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "llvm.h"

/* The target the code is made for: what the renderer needs to know of it. */
struct mg_llvm_target {
	LLVMTargetMachineRef tm;
	int width;      /* elements per vector in the main loop (vector bits / 32) */
	char isa;       /* libmvec's ISA letter: 'b' SSE, 'd' AVX2, 'e' AVX-512; 0: no libmvec */
	int vec_bits;   /* 128, 256 or 512 */
};

/* The renderer's state while it writes one kernel's function. */
struct mg_llvm_emit {
	const struct mg_kir *k;
	const struct mg_llvm_target *target;
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMValueRef fn;
	LLVMTypeRef i1, i8, i16, i32, i64, f16, f32, f64;
	int width;                   /* of the body being emitted */
	int contig;                  /* that body's tensors have inner stride 1 */
	int inner;                   /* the innermost loop axis */
	LLVMValueRef j;              /* the row's inner index (i64) */
	LLVMValueRef idx[MG_KMAX_RANK];     /* allocas: outer axes' indices */
	LLVMValueRef data[MG_KMAX_TENSORS]; /* element pointers, loaded once per call */
	LLVMValueRef stride[MG_KMAX_TENSORS][MG_KMAX_RANK]; /* loaded once per call, or NULL */
	LLVMValueRef dim[MG_KMAX_TENSORS][MG_KMAX_RANK];
	LLVMValueRef param[MG_KMAX_PARAMS]; /* doubles */
	LLVMValueRef rowoff[MG_KMAX_TENSORS]; /* the row's start offset, per addressed tensor */
	LLVMValueRef *val;           /* per node, at the current width */
	uint8_t *live;               /* per node: reachable from the store or a reduction */
};

/* llvm_emit.c: adds to mod the function `symbol` computing k (verified); 0 or an error
 * naming the kernel. */
int mg_llvm_emit_kernel(LLVMModuleRef mod, const struct mg_kir *k, const char *symbol,
			const struct mg_llvm_target *target, struct mg_err *e);

/* llvm_expr.c: the node's value at em->width from its operands' values in em->val. */
LLVMValueRef mg_llvm_expr(struct mg_llvm_emit *em, int node);
/* v (of IR type from) converted to IR type to, as the IR's CAST. */
LLVMValueRef mg_llvm_cast(struct mg_llvm_emit *em, LLVMValueRef v, int from, int to);
/* The LLVM element type of an IR type (bf16 is carried as its i16 bits). */
LLVMTypeRef mg_llvm_elem_type(struct mg_llvm_emit *em, int type);
/* <width x t>, a scalar broadcast to it, and the lane numbers <0, 1, ..., width-1> (i64). */
LLVMTypeRef mg_llvm_vec(struct mg_llvm_emit *em, LLVMTypeRef t);
LLVMValueRef mg_llvm_splat(struct mg_llvm_emit *em, LLVMValueRef scalar);
LLVMValueRef mg_llvm_iota(struct mg_llvm_emit *em);
/* A call to an overloaded intrinsic by name ("llvm.masked.gather"). */
LLVMValueRef mg_llvm_intrinsic(struct mg_llvm_emit *em, const char *name, LLVMTypeRef *over,
			       int nover, LLVMValueRef *args, int nargs);

/* llvm_target.c */
/* Initialises LLVM's native target once per process (and loads libmvec if it can). */
void mg_llvm_init(void);
/* A target machine for cpu/features (NULL: the host), PIC, code generation at its highest
 * level; NULL and an error when
 * LLVM has no such target. */
int mg_llvm_target_init(struct mg_llvm_target *t, const char *cpu, const char *features,
			struct mg_err *e);
void mg_llvm_target_free(struct mg_llvm_target *t);
/* Sets mod's triple and data layout from t, verifies it and runs the O2 pipeline; errors
 * name `what` (the kernels' names). */
int mg_llvm_optimize(LLVMModuleRef mod, const struct mg_llvm_target *t, const char *what,
		     struct mg_err *e);

#endif
