/* jit.c: kernels compiled at run time by ORC's LLJIT for the host CPU, cached by IR.
 * One module per kernel: rendered (llvm_emit.c), verified, optimized at O2 with our own
 * target machine (the JIT's, built from a second one, compiles it to machine code on
 * lookup). The main JITDylib sees the process's symbols (libm, libmvec).
 * Invariant: a cache hit is a kernel whose IR equals the request in full (the 64-bit
 * hash only chooses the candidates), so a collision can never run the wrong code.
 * Executor threads ask for kernels concurrently: the cache is read under a lock that a
 * compile never holds; compiles run one at a time under a second lock.
 * Read next: llvm_emit.c, llvm_target.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "llvm_int.h"

struct jit_entry {
	uint64_t hash;
	struct mg_kir ir; /* a copy: nodes malloc'd, name not kept (not part of identity) */
	mg_kfn *fn;
};

struct mg_jit {
	pthread_mutex_t lock;         /* the cache and the statistics */
	pthread_mutex_t compile_lock; /* one compile at a time */
	LLVMOrcLLJITRef lljit;
	struct mg_llvm_target target; /* for optimizing; the JIT owns its own */
	struct jit_entry *entries;
	int n, cap;
	int nsym; /* symbols handed out: a failed compile's name is never reused */
	double compile_s;
	void (*test_hook)(void *module);
};

static int llvm_error(struct mg_err *e, LLVMErrorRef err, const char *fmt, const char *what)
{
	char *m = LLVMGetErrorMessage(err);
	char buf[160];
	snprintf(buf, sizeof buf, fmt, what);
	int rc = mg_err_set(e, MG_ERR_INTERNAL, "%s: %s", buf, m);
	LLVMDisposeErrorMessage(m);
	return rc;
}

struct mg_jit *mg_jit_new(struct mg_err *e) { return mg_jit_new_for(NULL, NULL, e); }

struct mg_jit *mg_jit_new_for(const char *cpu, const char *features, struct mg_err *e)
{
	struct mg_jit *j = calloc(1, sizeof *j);
	struct mg_llvm_target jt;
	if (!j) {
		mg_err_set(e, MG_ERR_NOMEM, "llvm jit: out of memory");
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->compile_lock, NULL);
	if (mg_llvm_target_init(&j->target, cpu, features, e) ||
	    mg_llvm_target_init(&jt, cpu, features, e)) {
		mg_jit_free(j);
		return NULL;
	}
	LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
	LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
		builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jt.tm));
	LLVMErrorRef err = LLVMOrcCreateLLJIT(&j->lljit, builder);
	if (!err) {
		LLVMOrcDefinitionGeneratorRef gen;
		err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
			&gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
		if (!err)
			LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
	}
	if (err) {
		llvm_error(e, err, "%s", "llvm jit: cannot start ORC LLJIT");
		mg_jit_free(j);
		return NULL;
	}
	return j;
}

void mg_jit_free(struct mg_jit *j)
{
	if (!j)
		return;
	if (j->lljit)
		LLVMConsumeError(LLVMOrcDisposeLLJIT(j->lljit));
	mg_llvm_target_free(&j->target);
	for (int i = 0; i < j->n; i++)
		free(j->entries[i].ir.nodes);
	free(j->entries);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->compile_lock);
	free(j);
}

void mg_jit_stats(const struct mg_jit *j, int *nkernels, double *compile_s)
{
	pthread_mutex_lock((pthread_mutex_t *)&j->lock);
	if (nkernels)
		*nkernels = j->n;
	if (compile_s)
		*compile_s = j->compile_s;
	pthread_mutex_unlock((pthread_mutex_t *)&j->lock);
}

void mg_jit_test_hook(struct mg_jit *j, void (*hook)(void *module)) { j->test_hook = hook; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Renders, optimizes and compiles k as `symbol`; its address or NULL with an error. */
static mg_kfn *compile(struct mg_jit *j, const struct mg_kir *k, const char *symbol, struct mg_err *e)
{
	LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
	LLVMContextRef ctx = LLVMOrcThreadSafeContextGetContext(tsc);
	LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(symbol, ctx);
	int rc = mg_llvm_emit_kernel(mod, k, symbol, &j->target, e);
	if (!rc && j->test_hook)
		j->test_hook(mod);
	if (!rc)
		rc = mg_llvm_optimize(mod, &j->target, k->name, e);
	if (rc) {
		LLVMDisposeModule(mod);
		LLVMOrcDisposeThreadSafeContext(tsc);
		return NULL;
	}
	LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
	LLVMOrcDisposeThreadSafeContext(tsc);
	LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), tsm);
	LLVMOrcExecutorAddress addr = 0;
	if (!err)
		err = LLVMOrcLLJITLookup(j->lljit, &addr, symbol);
	if (err) {
		llvm_error(e, err, "kernel '%s': LLVM cannot compile it", k->name);
		return NULL;
	}
	return (mg_kfn *)(uintptr_t)addr;
}

/* The cached function of k, or NULL; under j->lock. */
static mg_kfn *find(struct mg_jit *j, const struct mg_kir *k, uint64_t h)
{
	for (int i = 0; i < j->n; i++)
		if (j->entries[i].hash == h && mg_kir_equal(&j->entries[i].ir, k))
			return j->entries[i].fn;
	return NULL;
}

mg_kfn *mg_jit_kernel(struct mg_jit *j, const struct mg_kir *k, struct mg_err *e)
{
	if (mg_kir_verify(k, e)) /* cheap, and an invalid IR must not reach the renderer */
		return NULL;
	uint64_t h = mg_kir_hash(k);
	pthread_mutex_lock(&j->lock);
	mg_kfn *fn = find(j, k, h);
	pthread_mutex_unlock(&j->lock);
	if (fn)
		return fn;
	/* Compiles one at a time (the cache's lock stays free for hits meanwhile); another
	 * thread may have compiled k while this one waited. */
	pthread_mutex_lock(&j->compile_lock);
	pthread_mutex_lock(&j->lock);
	fn = find(j, k, h);
	int sym = j->nsym++;
	pthread_mutex_unlock(&j->lock);
	if (fn)
		goto out;
	struct jit_entry en = {.hash = h, .ir = *k};
	en.ir.name = NULL;
	en.ir.arena = NULL;
	en.ir.nodes = malloc((size_t)(k->nnodes ? k->nnodes : 1) * sizeof *k->nodes);
	if (!en.ir.nodes) {
		mg_err_set(e, MG_ERR_NOMEM, "kernel '%s': out of memory", k->name);
		goto out;
	}
	memcpy(en.ir.nodes, k->nodes, (size_t)k->nnodes * sizeof *k->nodes);
	char symbol[32];
	snprintf(symbol, sizeof symbol, "mg_kernel_%d", sym);
	double t0 = now();
	en.fn = compile(j, k, symbol, e);
	double dt = now() - t0;
	pthread_mutex_lock(&j->lock);
	j->compile_s += dt;
	if (en.fn && j->n == j->cap) {
		int cap = j->cap ? 2 * j->cap : 16;
		struct jit_entry *p = realloc(j->entries, (size_t)cap * sizeof *p);
		if (p) {
			j->entries = p;
			j->cap = cap;
		}
	}
	if (en.fn && j->n < j->cap) {
		j->entries[j->n++] = en;
		fn = en.fn;
	} else {
		if (en.fn) /* compiled, but the cache could not grow: an error, not a leak */
			mg_err_set(e, MG_ERR_NOMEM, "kernel '%s': out of memory", k->name);
		free(en.ir.nodes);
	}
	pthread_mutex_unlock(&j->lock);
out:
	pthread_mutex_unlock(&j->compile_lock);
	return fn;
}

static int backend_run(struct mg_backend *b, const struct mg_kir *k, const struct mg_kargs *a,
		       double *red, struct mg_err *e)
{
	struct mg_jit_backend *jb = (struct mg_jit_backend *)b;
	mg_kfn *fn = mg_jit_kernel(jb->jit, k, e);
	if (!fn)
		return e->code ? e->code : MG_ERR_INTERNAL;
	mg_kernel_launch(fn, &k->info, a, jb->pool, red);
	__atomic_add_fetch(&jb->runs, 1, __ATOMIC_RELAXED);
	return 0;
}

void mg_jit_backend_init(struct mg_jit_backend *jb, struct mg_jit *jit, struct mg_pool *pool)
{
	jb->b.run = backend_run;
	jb->jit = jit;
	jb->pool = pool;
	jb->runs = 0;
}
