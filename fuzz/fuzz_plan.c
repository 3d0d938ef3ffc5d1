/* fuzz_plan.c: bytes -> mg_plan_read. The last 4 bytes are overwritten with the CRC of the
 * rest first, so the fuzzer reaches the structure rather than the checksum. Checks: no
 * crash, no leak, no sanitizer report, a message with every failure; a plan read back
 * writes the same bytes when it has no parameters, and takes a new value for each
 * parameter it has. Seed: tests/data/plan. Read next: fuzz_config.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../ops/optab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size + 1);
	if (!b)
		abort();
	memcpy(b, data, size);
	if (size >= 4) {
		uint32_t c = (uint32_t)crc32(0, b, (uInt)(size - 4));
		for (int i = 0; i < 4; i++)
			b[size - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
	}
	struct mg_err e = {0};
	struct mg_plan_file f;
	int rc = mg_plan_read(&f, b, size, &mg_ops_optab, &e);
	if (rc && !e.msg[0])
		abort();
	if (!rc && f.nparams == 0) {
		void *back = NULL;
		size_t n = 0;
		if (mg_plan_write(f.plan, f.data, NULL, 0, &mg_ops_optab, &back, &n, &e) ||
		    n != size || memcmp(back, b, n) != 0)
			abort();
		free(back);
	}
	for (int i = 0; !rc && i < f.nparams; i++)
		if (mg_plan_set_param(&f, f.params[i].name, "x/y", &e))
			abort();
	mg_plan_file_free(&f);
	free(b);
	return 0;
}
