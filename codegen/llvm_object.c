/* llvm_object.c: kernels ahead of time: one module holding every kernel of a pipeline,
 * optimized as the JIT does and written as a relocatable object (PIC, so it links into
 * position-independent executables) that needs no LLVM at run time.
 * Invariant: the file appears whole or not at all (temporary name, then rename).
 * Read next: llvm_emit.c; the AOT driver (mgc compile) calls mg_llvm_emit_object. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "llvm_int.h"

int mg_llvm_emit_object_for(const struct mg_kir *const *k, int n, const char *const *symbols,
			    const char *cpu, const char *features, const char *path,
			    struct mg_err *e)
{
	for (int i = 0; i < n; i++)
		if (mg_kir_verify(k[i], e))
			return e->code;
	struct mg_llvm_target t;
	int rc = mg_llvm_target_init(&t, cpu, features, e);
	if (rc)
		return rc;
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("mg_kernels", ctx);
	for (int i = 0; i < n && !rc; i++)
		rc = mg_llvm_emit_kernel(mod, k[i], symbols[i], &t, e);
	if (!rc)
		rc = mg_llvm_optimize(mod, &t, n == 1 ? k[0]->name : "(object file)", e);
	char *tmp = NULL, *msg = NULL;
	int fd = rc ? -1 : mg_file_temp(path, ".o", &tmp, e);
	if (!rc && fd < 0)
		rc = MG_ERR_IO;
	if (fd >= 0)
		close(fd); /* LLVM writes the file by name */
	if (!rc && LLVMTargetMachineEmitToFile(t.tm, mod, tmp, LLVMObjectFile, &msg)) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: LLVM cannot write the object file: %s", path, msg);
		LLVMDisposeMessage(msg);
	}
	if (!rc && rename(tmp, path))
		rc = mg_err_set(e, MG_ERR_IO, "%s: cannot rename %s into place", path, tmp);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	LLVMDisposeModule(mod);
	LLVMContextDispose(ctx);
	mg_llvm_target_free(&t);
	return rc;
}

int mg_llvm_emit_object(const struct mg_kir *const *k, int n, const char *const *symbols,
			const char *path, struct mg_err *e)
{
	return mg_llvm_emit_object_for(k, n, symbols, NULL, NULL, path, e);
}
