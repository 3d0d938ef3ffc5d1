/* fuzz_safetensors.c: bytes -> a .safetensors file -> mg_safetensors_open and every
 * tensor; what opens is written back with mg_safetensors_write and opened again.
 * Checks: no crash, no leak, no sanitizer report, every failure names the file, each
 * tensor's bytes are readable and as many as its shape says, and a read/write/read round
 * trip keeps names, dtypes, shapes, bytes and metadata.
 * Seeds: tests/data/safetensors. Read next: fuzz_nifti.c. */
#include "scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[96], out_path[96];
static volatile unsigned sink; /* makes the reads of every byte happen */

static void check_msg(int rc, const struct mg_err *e, const char *path)
{
	if (rc && (e->code == 0 || !strstr(e->msg, path)))
		abort(); /* a failure that does not say which file */
}

static size_t nbytes(const struct mg_tensor *t)
{
	return (size_t)mg_tensor_numel(t) * mg_dtype_size(t->dtype);
}

/* Writes st's tensors and metadata, opens the result, compares. */
static void round_trip(const struct mg_safetensors *st, const struct mg_tensor *ts,
		       const char **names)
{
	struct mg_err e = {0};
	struct mg_safetensors *r;
	int n = mg_safetensors_count(st);
	int rc = mg_safetensors_write(out_path, n, names, ts, mg_safetensors_metadata(st), &e);
	check_msg(rc, &e, out_path);
	if (rc || (rc = mg_safetensors_open(out_path, &r, &e)))
		abort(); /* a file that opened must write, and what mgc writes must open */
	if (mg_safetensors_count(r) != n)
		abort();
	const char *const *m0 = mg_safetensors_metadata(st), *const *m1 = mg_safetensors_metadata(r);
	for (; *m0 || *m1; m0++, m1++)
		if (!*m0 || !*m1 || strcmp(*m0, *m1) != 0)
			abort();
	for (int i = 0; i < n; i++) {
		struct mg_tensor t;
		if (mg_safetensors_get(r, names[i], &t, &e) || t.dtype != ts[i].dtype ||
		    t.rank != ts[i].rank || memcmp(t.dims, ts[i].dims, t.rank * sizeof *t.dims) ||
		    memcmp(mg_tensor_data(&t), mg_tensor_data(&ts[i]), nbytes(&t)) != 0)
			abort();
		mg_tensor_release(&t);
	}
	mg_safetensors_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!in_path[0]) {
		scratch_path("in.safetensors", in_path, sizeof in_path);
		scratch_path("out.safetensors", out_path, sizeof out_path);
	}
	FILE *f = fopen(in_path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size))
		abort();
	fclose(f);
	struct mg_err e = {0};
	struct mg_safetensors *st;
	int rc = mg_safetensors_open(in_path, &st, &e);
	check_msg(rc, &e, in_path);
	if (rc)
		return 0;
	int n = mg_safetensors_count(st);
	struct mg_tensor *ts = calloc((size_t)n + 1, sizeof *ts);
	const char **names = calloc((size_t)n + 1, sizeof *names);
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		names[i] = mg_safetensors_name(st, i);
		if (mg_safetensors_find(st, names[i]) != i || mg_safetensors_get(st, names[i], &ts[i], &e))
			abort();
		const unsigned char *p = mg_tensor_data(&ts[i]);
		for (size_t k = 0; k < nbytes(&ts[i]); k++)
			sink += p[k]; /* every byte is inside the file */
		total += nbytes(&ts[i]);
	}
	if (total <= (1u << 20))
		round_trip(st, ts, names);
	for (int i = 0; i < n; i++)
		mg_tensor_release(&ts[i]);
	mg_safetensors_close(st);
	free(ts);
	free(names);
	return 0;
}
