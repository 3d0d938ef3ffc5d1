/* npy.h: a tiny .npy reader for tests (NumPy's format, versions 1-3).
 *   file := "\x93NUMPY" major minor header_len(u16 v1 | u32 v2+) header data
 *   header := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded
 * Little-endian or byte-free descrs only (|u1 |i1 |b1 <i2 <u2 <i4 <u4 <i8 <f2 <f4 <f8;
 * bool becomes uint8). Fortran-order data keeps its layout: the tensor gets strides with
 * dim 0 fastest, so tests see strided inputs as NIfTI loads give them. Every malformed
 * file is an error (MG_ERR_FORMAT / MG_ERR_IO), never a crash. */
#ifndef MG_NPY_H
#define MG_NPY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/runtime.h"

/* The value text after 'key': in the header dict, or NULL. */
static inline const char *npy_field(const char *hdr, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s':", key);
	const char *p = strstr(hdr, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

static inline int npy_dtype(const char *d, enum mg_dtype *t)
{
	static const struct {
		const char *descr;
		enum mg_dtype t;
	} map[] = {
		{"|u1", MG_DTYPE_U8},  {"<u1", MG_DTYPE_U8},	{"|b1", MG_DTYPE_U8},
		{"|i1", MG_DTYPE_I8},  {"<i1", MG_DTYPE_I8},	{"<i2", MG_DTYPE_I16},
		{"<u2", MG_DTYPE_U16}, {"<i4", MG_DTYPE_I32},	{"<u4", MG_DTYPE_U32},
		{"<i8", MG_DTYPE_I64}, {"<f2", MG_DTYPE_F16},	{"<f4", MG_DTYPE_F32},
		{"<f8", MG_DTYPE_F64},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strncmp(d, map[i].descr, 3) == 0 && d[3] == '\'') {
			*t = map[i].t;
			return 0;
		}
	return -1;
}

/* Parses the header dict into dtype, fortran flag and shape. */
static inline int npy_header(const char *hdr, const char *path, enum mg_dtype *t,
			     int *fortran, int *rank, int64_t *dims, struct mg_err *e)
{
	const char *d = npy_field(hdr, "descr"), *f = npy_field(hdr, "fortran_order");
	const char *s = npy_field(hdr, "shape");
	if (!d || !f || !s || *d != '\'' || *s != '(')
		return mg_err_set(e, MG_ERR_FORMAT, "%s: malformed .npy header", path);
	if (npy_dtype(d + 1, t))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: unsupported dtype %.6s", path, d);
	if (strncmp(f, "True", 4) == 0)
		*fortran = 1;
	else if (strncmp(f, "False", 5) == 0)
		*fortran = 0;
	else
		return mg_err_set(e, MG_ERR_FORMAT, "%s: bad fortran_order", path);
	*rank = 0;
	for (const char *p = s + 1;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || v > ((int64_t)1 << 40) || *rank == MG_MAX_RANK)
			return mg_err_set(e, MG_ERR_FORMAT, "%s: bad or too long shape", path);
		dims[(*rank)++] = v;
		p = end;
	}
	return 0;
}

/* Reads path into *out (fresh storage, no meta). */
static inline int npy_read(const char *path, struct mg_tensor *out, struct mg_err *e)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	if (!f)
		return mg_err_set(e, MG_ERR_IO, "%s: cannot open", path);
	unsigned char pre[12];
	char *hdr = NULL;
	int rc = 0, rank = 0, fortran = 0;
	int64_t dims[MG_MAX_RANK];
	enum mg_dtype t = MG_DTYPE_U8;
	size_t got = fread(pre, 1, 10, f);
	if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 || pre[6] > 3) {
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: not a .npy file (v1-v3)", path);
		goto done;
	}
	size_t hlen = pre[8] | (size_t)pre[9] << 8;
	if (pre[6] >= 2) {
		if (fread(pre + 10, 1, 2, f) != 2) {
			rc = mg_err_set(e, MG_ERR_FORMAT, "%s: truncated header", path);
			goto done;
		}
		hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	}
	if (hlen > (1u << 20) || !(hdr = calloc(1, hlen + 1))) {
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: header too large", path);
		goto done;
	}
	if (fread(hdr, 1, hlen, f) != hlen) {
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: truncated header", path);
		goto done;
	}
	if ((rc = npy_header(hdr, path, &t, &fortran, &rank, dims, e)))
		goto done;
	if ((rc = mg_tensor_alloc(out, t, rank, dims, e)))
		goto done;
	size_t bytes = (size_t)mg_tensor_numel(out) * mg_dtype_size(t);
	if (bytes && fread(out->buf->data, 1, bytes, f) != bytes) {
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: data is shorter than its shape", path);
		goto done;
	}
	if (fortran) {
		int64_t s = 1;
		for (int i = 0; i < rank; i++) {
			out->strides[i] = s;
			s *= dims[i];
		}
	}
done:
	if (rc)
		mg_tensor_release(out);
	free(hdr);
	fclose(f);
	return rc;
}

#endif
