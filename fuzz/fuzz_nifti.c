/* fuzz_nifti.c: bytes -> a .nii file -> mg_nifti_read and mg_nifti_info; what reads is
 * written back as .nii.gz and read again. Input: the first byte's low bit asks for the
 * rest to be gzipped first (so header checks inside gzip are reached as well as zlib's
 * own errors). Checks: no crash, no leak, no sanitizer report, every failure names the
 * file, and a read/write/read round trip keeps dims, dtype and bytes.
 * Seeds: tests/data/nifti. Read next: fuzz_config.c. */
#include "scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[96], out_path[96];

static void put(const uint8_t *p, size_t n, int gzip)
{
	if (gzip) {
		gzFile g = gzopen(in_path, "wb1");
		if (!g || (n && gzwrite(g, p, (unsigned)n) != (int)n) || gzclose(g) != Z_OK)
			abort();
		return;
	}
	FILE *f = fopen(in_path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n))
		abort();
	fclose(f);
}

static void check_msg(int rc, const struct mg_err *e, const char *path)
{
	if (rc && (e->code == 0 || !strstr(e->msg, path)))
		abort(); /* a failure that does not say which file */
}

static void round_trip(const struct mg_tensor *t)
{
	struct mg_err e = {0};
	struct mg_tensor r;
	if (mg_tensor_numel(t) > 100000)
		return;
	int rc = mg_nifti_write(out_path, t, t->dtype, 1, &e);
	check_msg(rc, &e, out_path);
	if (rc)
		return; /* e.g. a degenerate affine, which nibabel cannot write either */
	rc = mg_nifti_read(out_path, &r, &e);
	if (rc || r.rank != t->rank || r.dtype != t->dtype)
		abort();
	for (int i = 0; i < t->rank; i++)
		if (r.dims[i] != t->dims[i])
			abort();
	size_t n = (size_t)mg_tensor_numel(t) * mg_dtype_size(t->dtype);
	if (memcmp(mg_tensor_data(t), mg_tensor_data(&r), n) != 0)
		abort();
	mg_tensor_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!in_path[0]) {
		scratch_path("in.nii", in_path, sizeof in_path);
		scratch_path("out.nii.gz", out_path, sizeof out_path);
	}
	if (size == 0)
		return 0;
	put(data + 1, size - 1, data[0] & 1);
	struct mg_err e = {0};
	struct mg_tensor t;
	int rc = mg_nifti_read(in_path, &t, &e);
	check_msg(rc, &e, in_path);
	if (rc == 0) {
		if (!t.meta || t.meta->sdim < 2 || t.meta->sdim > 3)
			abort();
		round_trip(&t);
		mg_tensor_release(&t);
	}
	struct mg_nifti_info info;
	mg_err_clear(&e);
	rc = mg_nifti_info(in_path, &info, &e);
	check_msg(rc, &e, in_path);
	if (rc == 0 && (!info.datatype_name || !info.affine_source || strlen(info.axcodes) > 3))
		abort();
	return 0;
}
