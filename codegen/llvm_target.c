/* llvm_target.c: the target side of the LLVM backend: LLVM's one-time initialisation,
 * target machines for the host (LLVM 14 calls Zen 5 "generic", so the host's feature
 * string is always passed: with it LLVM emits 512-bit AVX-512 code), the vector width
 * derived from those features, and the optimization pipeline (new pass manager,
 * default<O2>; no fast-math flags anywhere, so no contraction or reassociation).
 * Invariant: mg_llvm_init runs before any other LLVM call of this library. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "llvm_int.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int have_libmvec;

static void init(void)
{
	LLVMInitializeNativeTarget();
	LLVMInitializeNativeAsmPrinter();
	/* The JIT finds libmvec's functions among the process's symbols: load it globally
	 * (it is part of glibc; only its absence turns vector EXP/LOG into libm calls). */
	have_libmvec = dlopen("libmvec.so.1", RTLD_NOW | RTLD_GLOBAL) != NULL;
}

void mg_llvm_init(void) { pthread_once(&init_once, init); }

int mg_llvm_uses_libmvec(void)
{
	mg_llvm_init();
	return have_libmvec;
}

/* Whether the comma-separated LLVM feature list enables feature f ("+avx512f"). */
static int has_feature(const char *features, const char *f)
{
	size_t n = strlen(f);
	for (const char *p = features; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, f, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int mg_llvm_target_init(struct mg_llvm_target *t, const char *cpu, const char *features,
			struct mg_err *e)
{
	mg_llvm_init();
	memset(t, 0, sizeof *t);
	char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
	char *host_cpu = cpu ? NULL : LLVMGetHostCPUName();
	char *host_features = cpu ? NULL : LLVMGetHostCPUFeatures();
	LLVMTargetRef target;
	int rc = 0;
	if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
		rc = mg_err_set(e, MG_ERR_UNSUPPORTED, "llvm: no target for %s: %s", triple, msg);
		goto out;
	}
	if (!cpu) {
		cpu = host_cpu;
		features = host_features;
	}
	if (!features)
		features = "";
	t->tm = LLVMCreateTargetMachine(target, triple, cpu, features, LLVMCodeGenLevelAggressive,
					LLVMRelocPIC, LLVMCodeModelDefault);
	if (!t->tm) {
		rc = mg_err_set(e, MG_ERR_UNSUPPORTED, "llvm: no target machine for cpu '%s'", cpu);
		goto out;
	}
	/* The main loop's width: one register of f32. libmvec's ISA variant follows it. */
	t->vec_bits = has_feature(features, "+avx512f") ? 512
		      : has_feature(features, "+avx2") ? 256
							 : 128;
	t->width = t->vec_bits / 32;
	t->isa = !have_libmvec ? 0 : t->vec_bits == 512 ? 'e' : t->vec_bits == 256 ? 'd' : 'b';
out:
	LLVMDisposeMessage(msg);
	LLVMDisposeMessage(triple);
	LLVMDisposeMessage(host_cpu);
	LLVMDisposeMessage(host_features);
	return rc;
}

void mg_llvm_target_free(struct mg_llvm_target *t)
{
	if (t->tm)
		LLVMDisposeTargetMachine(t->tm);
	t->tm = NULL;
}

int mg_llvm_optimize(LLVMModuleRef mod, const struct mg_llvm_target *t, const char *what,
		     struct mg_err *e)
{
	char *triple = LLVMGetTargetMachineTriple(t->tm), *msg = NULL;
	LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(t->tm);
	LLVMSetTarget(mod, triple);
	LLVMSetModuleDataLayout(mod, layout);
	LLVMDisposeTargetData(layout);
	LLVMDisposeMessage(triple);
	int rc = 0;
	if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
		/* The renderer made invalid IR: a bug of ours, reported, never run. */
		rc = mg_err_set(e, MG_ERR_INTERNAL, "kernel '%s': LLVM rejects the generated IR: %.400s",
				what, msg);
		LLVMDisposeMessage(msg);
		return rc;
	}
	LLVMDisposeMessage(msg);
	LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
	/* O2, not O3: the renderer vectorizes itself, and O3's extra passes (non-trivial loop
	 * unswitching, more unrolling) doubled the compile time for no measured speed (the
	 * kernels are memory-bound; docs/codegen.md). */
	LLVMErrorRef err = LLVMRunPasses(mod, "default<O2>", t->tm, opts);
	LLVMDisposePassBuilderOptions(opts);
	if (err) {
		char *m = LLVMGetErrorMessage(err);
		rc = mg_err_set(e, MG_ERR_INTERNAL, "kernel '%s': LLVM optimization failed: %s", what, m);
		LLVMDisposeErrorMessage(m);
	}
	return rc;
}
