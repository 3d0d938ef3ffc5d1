/* llvm.h: the LLVM backend: kernel IR (ir/kir.h) rendered into LLVM IR with the C API,
 * compiled for the host CPU by an ORC JIT (mg_jit) or written into an object file ahead
 * of time (mg_llvm_emit_object). Both give functions of runtime/kernel.h's mg_kfn type.
 * Invariant: a kernel's machine code depends only on its struct mg_kir (never on a call's
 * sizes or strides), so the JIT caches one function per distinct IR.
 * Read next: llvm_emit.c (loops, loads, stores, reductions), llvm_expr.c (one IR node),
 * llvm_target.c (targets, optimization, libmvec), jit.c, llvm_object.c; docs/codegen.md. */
#ifndef MG_CODEGEN_LLVM_H
#define MG_CODEGEN_LLVM_H

#include "../ir/kir.h"
#include "../runtime/plan.h"

/* One per process (or per pipeline run). Thread-safe: kernels are compiled and looked up
 * under a lock, so executor threads may ask for kernels concurrently. */
struct mg_jit;

struct mg_jit *mg_jit_new(struct mg_err *e);
/* A JIT for a named CPU and LLVM feature string instead of the host's (both NULL: the
 * host): tests run the narrower vector widths with it ("-avx2" gives 4 lanes). */
struct mg_jit *mg_jit_new_for(const char *cpu, const char *features, struct mg_err *e);
void mg_jit_free(struct mg_jit *j);
/* The compiled function of k, compiled on first use and cached: a second kernel with the
 * same IR (compared in full, not only by hash) gets the same function. NULL with an
 * error naming k->name when k fails mg_kir_verify or LLVM rejects or fails to compile
 * it. The function lives as long as j. */
mg_kfn *mg_jit_kernel(struct mg_jit *j, const struct mg_kir *k, struct mg_err *e);
/* Kernels compiled so far and the seconds spent compiling them (for `mgc run --verbose`). */
void mg_jit_stats(const struct mg_jit *j, int *nkernels, double *compile_s);
/* The JIT as an executor backend (runtime/plan.h): run compiles k (or finds it in the
 * cache) and launches it with mg_kernel_launch on pool (NULL: the calling thread; never
 * the pool the executor itself runs on, as mg_pool_for is not reentrant). runs counts
 * the kernels it ran (atomically). */
struct mg_jit_backend {
	struct mg_backend b;
	struct mg_jit *jit;
	struct mg_pool *pool;
	int64_t runs;
};
void mg_jit_backend_init(struct mg_jit_backend *jb, struct mg_jit *jit, struct mg_pool *pool);
/* For tests only: hook(module) runs on every rendered LLVMModuleRef before it is verified
 * (a test breaks the IR there to check that the error names the kernel). */
void mg_jit_test_hook(struct mg_jit *j, void (*hook)(void *module));

/* Writes one object file holding every kernel k[i] as the global function symbols[i]
 * (an mg_kfn; each k[i] verified first), compiled for the host CPU, through a temporary
 * file renamed into place.
 * The object needs only libc, libm and, where mg_llvm_uses_libmvec() says so, libmvec
 * (link with -lmvec -lm). */
int mg_llvm_emit_object(const struct mg_kir *const *k, int n, const char *const *symbols,
			const char *path, struct mg_err *e);
/* The same for a named CPU ("znver4", "x86-64-v3") and LLVM feature string ("+avx2,..."):
 * cpu NULL means the host's name and features. */
int mg_llvm_emit_object_for(const struct mg_kir *const *k, int n, const char *const *symbols,
			    const char *cpu, const char *features, const char *path,
			    struct mg_err *e);
/* The CPU name and feature string mg_llvm_emit_object_for takes for `mgc compile
 * --target-cpu=name`: "native" (the host: both NULL), "generic" (= "x86-64", SSE2),
 * "x86-64-v2", "x86-64-v3" (AVX2) or "x86-64-v4" (AVX-512), the x86-64 levels whose
 * features are fixed, so an executable made for one runs on every CPU of that level.
 * Any other name is an MG_ERR_CONFIG error that lists these. */
int mg_llvm_target_cpu(const char *name, const char **cpu, const char **features,
		       struct mg_err *e);
/* Whether generated code calls glibc's vector math library for EXP and LOG (libmvec
 * could be loaded in this process); else it calls libm's expf/exp/logf/log. */
int mg_llvm_uses_libmvec(void);

#endif
