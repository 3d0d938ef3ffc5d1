/* fuzz_kir.c: bytes -> mg_kir_read (kernel IR as a compiled pipeline's kernel table keeps
 * it). Checks: no crash, no leak, no sanitizer report, a message with every failure; a
 * kernel read back verifies and writes the very same bytes (the form is canonical).
 * Seed: tests/data/kir (kernels of the example pipelines, and one with a histogram and a
 * reduction per axis). Read next: ir/kir_io.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/kir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_arena ar = {0};
	struct mg_err e = {0};
	struct mg_kir k;
	int rc = mg_kir_read(&k, &ar, data, size, &e);
	if (rc && !e.msg[0])
		abort();
	if (!rc) {
		unsigned char *back = NULL;
		size_t n = 0;
		if (mg_kir_verify(&k, &e) || mg_kir_write(&k, &back, &n, &e) || n != size ||
		    memcmp(back, data, n) != 0)
			abort();
		free(back);
	}
	mg_arena_free(&ar);
	return 0;
}
