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

/* The x86-64 micro-architecture levels (the psABI's), with the features each adds
 * spelled out: the renderer's vector width is read from the feature string. */
#define MG_X86_V2 "+cx16,+popcnt,+sahf,+sse3,+sse4.1,+sse4.2,+ssse3"
#define MG_X86_V3 MG_X86_V2 ",+avx,+avx2,+bmi,+bmi2,+f16c,+fma,+lzcnt,+movbe,+xsave"
#define MG_X86_V4 MG_X86_V3 ",+avx512f,+avx512bw,+avx512cd,+avx512dq,+avx512vl"
static const struct {
	const char *name, *cpu, *features;
} levels[] = {
	{"generic", "x86-64", "+sse2"},
	{"x86-64", "x86-64", "+sse2"},
	{"x86-64-v2", "x86-64-v2", MG_X86_V2},
	{"x86-64-v3", "x86-64-v3", MG_X86_V3},
	{"x86-64-v4", "x86-64-v4", MG_X86_V4},
};

int mg_llvm_target_cpu(const char *name, const char **cpu, const char **features,
		       struct mg_err *e)
{
	*cpu = *features = NULL;
	if (!strcmp(name, "native"))
		return 0;
	char *triple = LLVMGetDefaultTargetTriple();
	int x86 = !strncmp(triple, "x86_64", 6);
	LLVMDisposeMessage(triple);
	for (size_t i = 0; x86 && i < sizeof levels / sizeof *levels; i++)
		if (!strcmp(name, levels[i].name)) {
			*cpu = levels[i].cpu;
			*features = levels[i].features;
			return 0;
		}
	return mg_err_set(e, MG_ERR_CONFIG,
			  "--target-cpu=%s: unknown target; use native (this CPU, the default)%s "
			  "(mgc compile --help lists them)", name,
			  x86 ? ", generic (any x86-64), x86-64-v2, x86-64-v3 (AVX2) or x86-64-v4 "
				"(AVX-512)" : " on this architecture");
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
