/* fuzz_datalist.c: bytes -> dataset.json -> mg_datalist_load under several keys, folds and
 * base folders. Checks: no crash, no leak, no sanitizer report, a message with every
 * failure, and every field holding its strings. Read next: fuzz_config.c. */
#include "scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[96];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0])
		scratch_path("dataset.json", path, sizeof path);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size))
		abort();
	fclose(f);
	static const char *const keys[] = {"training", "test", "validation"};
	static const char *const bases[] = {NULL, "", "/data/../x/./"};
	for (int k = 0; k < 3; k++) {
		struct mg_datalist dl;
		struct mg_err e = {0};
		const char *p = k == 1 ? scratch_dir : path; /* the folder means its dataset.json */
		int rc = mg_datalist_load(&dl, p, keys[k], bases[k], k != 2, k - 1, k == 2, &e);
		if (rc && !e.msg[0])
			abort();
		for (int i = 0; !rc && i < dl.n; i++)
			for (int j = 0; j < dl.items[i].nfields; j++) {
				const struct mg_field *fd = &dl.items[i].fields[j];
				if (mg_item_get(&dl.items[i], fd->key) == NULL)
					abort();
				for (int s = 0; s < fd->nstr; s++)
					if (!fd->str[s])
						abort();
			}
		mg_datalist_free(&dl);
	}
	return 0;
}
