/* nifti_write.c: NIfTI-1 writing as MONAI's NibabelWriter does it: one .nii[.gz] file,
 * the affine as both sform and qform (codes 1), scl_slope 1, the voxels x fastest.
 * Invariant: the file appears whole or not at all: it is written under a temporary name
 * in the same folder and renamed into place, and every failure removes the temporary.
 * Read next: nifti_int.h (what it shares with the reader), docs/nifti.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nifti_int.h"

/* Buffered output: small rows are gathered, large blocks go straight to zlib. */
struct out {
	gzFile gz;
	char *buf;
	size_t len, cap;
	int err; /* errno, or -1 for a zlib failure */
};

static int out_flush(struct out *o, const void *p, size_t n)
{
	while (n > 0 && !o->err) {
		unsigned k = n > NII_IO_CHUNK ? NII_IO_CHUNK : (unsigned)n;
		int w = gzwrite(o->gz, p, k);
		if (w <= 0) {
			int errnum;
			nii_zmsg(o->gz, &errnum);
			o->err = errnum == Z_ERRNO && errno ? errno : -1;
			break;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return o->err;
}

static int out_put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		if (out_flush(o, o->buf, o->len))
			return o->err;
		o->len = 0;
		if (n >= o->cap)
			return out_flush(o, p, n);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/* n elements of size es, stride sx elements apart, packed into dst */
static void gather(char *dst, const char *src, int64_t n, int64_t sx, size_t es)
{
	int64_t step = sx * (int64_t)es;
	switch (es) {
	case 1:
		for (int64_t i = 0; i < n; i++)
			dst[i] = src[i * step];
		break;
	case 2:
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + 2 * i, src + i * step, 2);
		break;
	case 4:
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + 4 * i, src + i * step, 4);
		break;
	default:
		for (int64_t i = 0; i < n; i++)
			memcpy(dst + 8 * i, src + i * step, 8);
		break;
	}
}

/* The voxels in file order (x fastest), converted to fdt. round_to differs from fdt
 * only for float16/bfloat16 requests, stored as float32 after rounding to that type. */
static int put_voxels(struct out *o, const struct mg_tensor *t, enum mg_dtype fdt,
		      enum mg_dtype round_to)
{
	int r = t->rank;
	int64_t nx = t->dims[0], sx = t->strides[0], od[MG_MAX_RANK], os[MG_MAX_RANK];
	size_t ts = mg_dtype_size(t->dtype), fs = mg_dtype_size(fdt);
	const char *base = mg_tensor_data(t);
	char *row = malloc((size_t)nx * fs);
	if (!row)
		return o->err = ENOMEM;
	/* the outer dims reversed, so the iterator's fastest one is y */
	for (int k = 0; k < r - 1; k++) {
		od[k] = t->dims[r - 1 - k];
		os[k] = t->strides[r - 1 - k];
	}
	struct mg_iter it;
	const int64_t *st[1] = {os};
	mg_iter_init(&it, r - 1, od, 1, st);
	do {
		const char *p = base + it.off[0] * (int64_t)ts;
		if (t->dtype == fdt && round_to == fdt && sx == 1) {
			out_put(o, p, (size_t)nx * fs);
			continue;
		}
		if (t->dtype == fdt && round_to == fdt) {
			gather(row, p, nx, sx, fs);
			out_put(o, row, (size_t)nx * fs);
			continue;
		}
		for (int64_t i = 0; i < nx; i++) {
			const char *q = p + i * sx * (int64_t)ts;
			double v = mg_dtype_load(t->dtype, q);
			if (round_to != fdt) {
				double tmp; /* room for any dtype */
				mg_dtype_store(round_to, &tmp, v);
				v = mg_dtype_load(round_to, &tmp);
			}
			mg_dtype_store(fdt, row + i * fs, v);
		}
		out_put(o, row, (size_t)nx * fs);
	} while (!o->err && mg_iter_next(&it));
	free(row);
	return o->err;
}

/* The header MONAI's NibabelWriter writes: Nifti1Image(data, affine), then set_sform and
 * set_qform with code 1; nibabel stores scl_slope 1, scl_inter 0 for unscaled data. */
static int make_header(const char *path, const struct mg_tensor *t, enum mg_dtype fdt,
		       struct nifti_1_header *h, struct mg_err *e)
{
	double a[4][4];
	memset(h, 0, sizeof *h);
	if (t->rank < 1 || t->rank > 7)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: cannot write a rank-%d tensor as NIfTI",
				  path, t->rank);
	h->sizeof_hdr = NII_HDR_SIZE;
	h->dim[0] = (short)t->rank;
	for (int i = 1; i < 8; i++)
		h->dim[i] = 1;
	for (int i = 0; i < t->rank; i++) {
		if (t->dims[i] < 1 || t->dims[i] > 32767)
			return mg_err_set(e, MG_ERR_SHAPE,
					  "%s: dimension %d has size %lld, NIfTI-1 allows 1..32767",
					  path, i, (long long)t->dims[i]);
		h->dim[i + 1] = (short)t->dims[i];
	}
	h->datatype = nii_datatype(fdt);
	h->bitpix = (short)(8 * mg_dtype_size(fdt));
	for (int i = 0; i < 8; i++)
		h->pixdim[i] = 1;
	h->vox_offset = NII_SINGLE_OFFSET;
	h->scl_slope = 1;
	h->scl_inter = 0;
	h->qform_code = h->sform_code = NIFTI_XFORM_SCANNER_ANAT;
	memcpy(h->magic, "n+1", 4);
	if (t->meta)
		memcpy(a, t->meta->affine, sizeof a);
	else
		mg_affine_identity(a);
	for (int j = 0; j < 4; j++) {
		h->srow_x[j] = (float)a[0][j];
		h->srow_y[j] = (float)a[1][j];
		h->srow_z[j] = (float)a[2][j];
	}
	if (nii_set_qform(h, a) != 0)
		return mg_err_set(e, MG_ERR_SHAPE,
				  "%s: the affine has a zero or non-finite column", path);
	return 0;
}

int mg_nifti_write(const char *path, const struct mg_tensor *t, enum mg_dtype dtype,
		   int gz_level, struct mg_err *e)
{
	struct nifti_1_header h;
	char mode[8], *tmp = NULL, ebuf[128];
	int gzip;
	if (nii_name_kind(path, &gzip) != 'n')
		return mg_err_set(e, MG_ERR_CONFIG, "%s: NIfTI output names end in .nii or .nii.gz",
				  path);
	const char *ext = path + strlen(path) - (gzip ? 7 : 4); /* as the name spells it */
	if ((unsigned)dtype >= MG_DTYPE_COUNT)
		return mg_err_set(e, MG_ERR_INTERNAL, "%s: bad dtype %d", path, (int)dtype);
	if (gz_level < 0 || gz_level > 9)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: gzip level %d is outside 0..9", path,
				  gz_level);
	enum mg_dtype fdt = dtype == MG_DTYPE_F16 || dtype == MG_DTYPE_BF16 ? MG_DTYPE_F32 : dtype;
	if (!t->buf)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: the tensor has no data", path);
	int rc = make_header(path, t, fdt, &h, e);
	if (rc)
		return rc;
	int fd = mg_file_temp(path, ext, &tmp, e);
	if (fd < 0)
		return fd;
	/* "wbT" writes a plain file through the same calls */
	if (gzip)
		snprintf(mode, sizeof mode, "wb%d", gz_level);
	else
		strcpy(mode, "wbT");
	struct out o = {.gz = gzdopen(fd, mode), .cap = 1 << 20};
	o.buf = malloc(o.cap);
	if (!o.gz || !o.buf) {
		if (o.gz)
			gzclose(o.gz);
		else
			close(fd);
		rc = mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	static const char ext_flag[4];
	out_put(&o, &h, NII_HDR_SIZE);
	out_put(&o, ext_flag, 4);
	if (!o.err)
		put_voxels(&o, t, fdt, dtype);
	if (!o.err)
		out_flush(&o, o.buf, o.len);
	int zrc = gzclose(o.gz);
	if (!o.err && zrc != Z_OK)
		o.err = zrc == Z_ERRNO && errno ? errno : -1;
	if (o.err) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: write failed: %s", path,
				o.err > 0 ? mg_strerror(o.err, ebuf, sizeof ebuf) : "zlib error");
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: cannot rename the finished file into place: %s",
				path, mg_strerror(errno, ebuf, sizeof ebuf));
		goto fail;
	}
	free(o.buf);
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(o.buf);
	free(tmp);
	return rc;
}
