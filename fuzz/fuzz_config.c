/* fuzz_config.c: bytes -> a pipeline file -> mg_config_load, then every top-level id (and
 * the whole config) resolved. Input: an optional first line starting with '-' is an
 * override ("--a#b=VALUE"); the rest is the file, also written beside it as other.json so
 * that "%other.json#id" macros find a file. Checks: no crash, no leak, no sanitizer
 * report, and every failure carries a message. Read next: fuzz_datalist.c. */
#include "scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../frontend/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char main_path[96], other_path[96];

static void put(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void check_msg(int rc, const struct mg_err *e)
{
	if (rc && (e->code == 0 || e->msg[0] == 0))
		abort(); /* a failure without a message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!main_path[0]) {
		scratch_path("main.json", main_path, sizeof main_path);
		scratch_path("other.json", other_path, sizeof other_path);
	}
	char ov[256] = "";
	const char *ovp[1] = {ov};
	int nov = 0;
	if (size && data[0] == '-') {
		const uint8_t *nl = memchr(data, '\n', size < sizeof ov ? size : sizeof ov - 1);
		if (nl) {
			memcpy(ov, data, (size_t)(nl - data));
			ov[nl - data] = 0;
			nov = 1;
			size -= (size_t)(nl - data) + 1;
			data = nl + 1;
		}
	}
	put(main_path, data, size);
	put(other_path, data, size);
	struct mg_config c;
	struct mg_err e = {0};
	const char *files[] = {main_path};
	int rc = mg_config_load(&c, files, 1, ovp, nov, &e);
	check_msg(rc, &e);
	if (rc)
		return 0;
	int n = 0;
	for (cJSON *ch = c.root->child; ch && n < 32; ch = ch->next, n++) {
		cJSON *out = NULL;
		mg_err_clear(&e);
		rc = mg_config_resolve(&c, ch->string, &out, &e);
		check_msg(rc, &e);
		if (!rc != !!out)
			abort();
		cJSON_Delete(out);
		(void)mg_config_origin(&c, ch->string);
		(void)mg_config_get(&c, ch->string);
	}
	cJSON *all = NULL;
	mg_err_clear(&e);
	rc = mg_config_resolve(&c, "", &all, &e);
	check_msg(rc, &e);
	cJSON_Delete(all);
	mg_config_free(&c);
	return 0;
}
