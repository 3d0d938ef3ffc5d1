/* nifti.c: NIfTI-1 reading and writing with nibabel's and MONAI's conventions.
 * Invariant: a read image is the file's data block, x fastest, in the file's dtype (or
 * float64 when scl_slope applies, as nibabel's dataobj); its affine is bit-for-bit what
 * MONAI's NibabelReader reports wherever nibabel computes in double or long double.
 * The header comes from niftilib's struct and byte swapping; bytes move through zlib
 * directly (niftilib's reader prints, rewrites bad dims to 1 and cannot say why it
 * failed; znzread turns a read error into (size_t)-1 and loses the count).
 * Read next: docs/nifti.md; orientation.c for axis codes. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nifti1_io.h>

#include "orientation.h"
#include "runtime.h"

_Static_assert(sizeof(struct nifti_1_header) == 348, "nifti_1_header must be 348 bytes");

#define HDR_SIZE 348
#define SINGLE_OFFSET 352
#define IO_CHUNK (1u << 30) /* gzread/gzwrite take an unsigned length */
#define DEFLATE_MAX_RATIO 1032

/* NIfTI datatype codes, the dtype we load them as (-1: not supported) and their names. */
static const struct {
	short code;
	int dtype;
	const char *name;
} dtypes[] = {
	{DT_UINT8, MG_DTYPE_U8, "uint8"},        {DT_INT8, MG_DTYPE_I8, "int8"},
	{DT_UINT16, MG_DTYPE_U16, "uint16"},     {DT_INT16, MG_DTYPE_I16, "int16"},
	{DT_UINT32, MG_DTYPE_U32, "uint32"},     {DT_INT32, MG_DTYPE_I32, "int32"},
	{DT_INT64, MG_DTYPE_I64, "int64"},       {DT_FLOAT32, MG_DTYPE_F32, "float32"},
	{DT_FLOAT64, MG_DTYPE_F64, "float64"},   {DT_BINARY, -1, "binary"},
	{DT_COMPLEX64, -1, "complex64"},         {DT_RGB24, -1, "rgb24"},
	{DT_UINT64, -1, "uint64"},               {DT_FLOAT128, -1, "float128"},
	{DT_COMPLEX128, -1, "complex128"},       {DT_COMPLEX256, -1, "complex256"},
	{DT_RGBA32, -1, "rgba32"},
};

/* A parsed header. h is in native byte order with nibabel's load-time fixes applied
 * (zero pixdim -> 1, negative -> abs, bad qfac -> 1, bad xform codes -> 0); hc is the
 * same after MONAI's correct_nifti_header_if_necessary. */
struct nii {
	struct nifti_1_header h, hc;
	int swapped, pair;
	int rank;           /* of the tensor: extra dims beyond the 4th fold into C */
	int64_t tdims[4];
	int dtype;          /* enum mg_dtype, -1 when unsupported */
	int64_t numel;
	size_t nbytes;      /* of the data block */
	int64_t vox_offset;
	int scaled;
	double slope, inter;
	double affine[4][4];
	const char *source; /* "sform", "qform" or "base" */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* name with `from` (a suffix) replaced by `to`; NULL when out of memory */
static char *swap_suffix(const char *name, const char *from, const char *to)
{
	size_t n = strlen(name) - strlen(from), m = strlen(to);
	char *s = malloc(n + m + 1);
	if (s) {
		memcpy(s, name, n);
		memcpy(s + n, to, m + 1);
	}
	return s;
}

/* zlib prefixes its messages with the path it was given ("<fd:3>: ..."): drop that. */
static const char *zmsg(gzFile gz, int *errnum)
{
	const char *m = gzerror(gz, errnum);
	const char *c = m && m[0] == '<' ? strstr(m, ">: ") : NULL;
	return c ? c + 3 : (m ? m : "");
}

/* Reads up to n bytes; returns how many arrived. *why is the reason the stream stopped
 * early (NULL at a clean end of file); *corrupt is set when zlib found bad data rather
 * than an early end. */
static size_t read_all(gzFile gz, void *buf, size_t n, const char **why, int *corrupt)
{
	size_t got = 0;
	int errnum = Z_OK;
	*why = NULL;
	*corrupt = 0;
	while (got < n) {
		unsigned want = n - got > IO_CHUNK ? IO_CHUNK : (unsigned)(n - got);
		int r = gzread(gz, (char *)buf + got, want);
		if (r > 0)
			got += (size_t)r;
		if (r < 0 || (unsigned)r < want) {
			const char *m = zmsg(gz, &errnum);
			if (errnum == Z_ERRNO)
				*why = strerror(errno);
			else if (errnum != Z_OK)
				*why = m;
			*corrupt = errnum == Z_DATA_ERROR;
			break;
		}
	}
	return got;
}

/* Opens name (path itself, or the other file of a .hdr/.img pair) for reading. */
static int open_read(const char *name, const char *path, gzFile *gz, off_t *size,
		     struct mg_err *e)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	const char *sep = strcmp(name, path) ? ": " : "", *other = strcmp(name, path) ? name : "";
	if (fd < 0)
		return mg_err_set(e, MG_ERR_IO, "%s%s%s: cannot open: %s", path, sep, other,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		int dir = S_ISDIR(st.st_mode);
		close(fd);
		return mg_err_set(e, MG_ERR_IO, "%s%s%s: cannot read: %s", path, sep, other,
				  dir ? "is a directory" : strerror(errno));
	}
	/* gzdopen reads plain files transparently, so a .nii that is really gzipped (or a
	 * .nii.gz that is not) still loads */
	*gz = gzdopen(fd, "rb");
	if (!*gz) {
		close(fd);
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory opening it", path);
	}
	gzbuffer(*gz, 256 * 1024);
	*size = st.st_size;
	return 0;
}

/* ---- affines, as nibabel computes them ------------------------------------------------ */

static void identity(double a[4][4])
{
	memset(a, 0, 16 * sizeof(double));
	for (int i = 0; i < 4; i++)
		a[i][i] = 1;
}

static void sform_of(const struct nifti_1_header *h, double a[4][4])
{
	identity(a);
	for (int j = 0; j < 4; j++) {
		a[0][j] = h->srow_x[j];
		a[1][j] = h->srow_y[j];
		a[2][j] = h->srow_z[j];
	}
}

/* Nifti1Header.get_qform: the quaternion is completed and turned into a matrix in numpy's
 * longdouble (fillpositive, quat2mat), scaled by the float32 zooms, then rounded to
 * double. Doing the same here gives nibabel's bits. Fails when |(b,c,d)| > 1 beyond
 * float32 rounding, where nibabel raises. */
static int qform_of(const struct nifti_1_header *h, double a[4][4])
{
	long double x = h->quatern_b, y = h->quatern_c, z = h->quatern_d, w;
	long double w2 = 1.0L - (x * x + y * y + z * z);
	if (fabsl(w2) < 3 * (long double)FLT_EPSILON)
		w = 0;
	else if (w2 < 0)
		return -1;
	else
		w = sqrtl(w2);
	long double r[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
	long double nq = w * w + x * x + y * y + z * z;
	if (nq >= DBL_EPSILON) {
		long double s = 2.0L / nq, X = x * s, Y = y * s, Z = z * s;
		long double wX = w * X, wY = w * Y, wZ = w * Z, xX = x * X, xY = x * Y;
		long double xZ = x * Z, yY = y * Y, yZ = y * Z, zZ = z * Z;
		long double m[3][3] = {{1.0L - (yY + zZ), xY - wZ, xZ + wY},
				       {xY + wZ, 1.0L - (xX + zZ), yZ - wX},
				       {xZ - wY, yZ + wX, 1.0L - (xX + yY)}};
		memcpy(r, m, sizeof r);
	}
	float vox[3] = {h->pixdim[1], h->pixdim[2], h->pixdim[3] * h->pixdim[0]};
	identity(a);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			a[i][j] = (double)(r[i][j] * (long double)vox[j]);
	a[0][3] = h->qoffset_x;
	a[1][3] = h->qoffset_y;
	a[2][3] = h->qoffset_z;
	return 0;
}

/* shape_zoom_affine(shape, zooms, x_flip=True): voxel centre of the volume at 0. */
static void base_of(const struct nifti_1_header *h, double a[4][4])
{
	identity(a);
	for (int i = 0; i < 3; i++) {
		double n = i < h->dim[0] ? h->dim[i + 1] : 1;
		double z = i < h->dim[0] ? h->pixdim[i + 1] : 1;
		if (i == 0)
			z = -z;
		a[i][i] = z;
		a[i][3] = -((n - 1) / 2.0) * z;
	}
}

static double det3(const double r[3][3])
{
	return r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
	       r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
	       r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
}

/* Nifti1Header.set_qform(a) with strip_shears: zooms are the column norms, qfac the
 * sign of det, the rotation the polar factor of what is left (an SVD), turned into a
 * quaternion with w >= 0 (Shepperd's method; nibabel's eigenvector route gives the same
 * quaternion up to rounding). Fails on a zero or non-finite column, where nibabel's SVD
 * raises. The code fields are left to the caller. */
static int set_qform(struct nifti_1_header *h, const double a[4][4])
{
	double zoom[3], r[3][3], u[3][3], s[3], v[3][3], m[3][3] = {{0}};
	for (int j = 0; j < 3; j++) {
		zoom[j] = sqrt(a[0][j] * a[0][j] + a[1][j] * a[1][j] + a[2][j] * a[2][j]);
		for (int i = 0; i < 3; i++) {
			r[i][j] = a[i][j] / zoom[j];
			if (!isfinite(r[i][j]))
				return -1;
		}
	}
	double qfac = det3(r) > 0 ? 1 : -1;
	for (int i = 0; i < 3; i++)
		r[i][2] *= qfac;
	mg_svd3(3, r, u, s, v);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 3; k++)
				m[i][j] += u[i][k] * v[j][k];
	double q[4], t = m[0][0] + m[1][1] + m[2][2], d;
	if (t > 0) {
		d = sqrt(t + 1) * 2;
		q[0] = d / 4, q[1] = (m[2][1] - m[1][2]) / d;
		q[2] = (m[0][2] - m[2][0]) / d, q[3] = (m[1][0] - m[0][1]) / d;
	} else if (m[0][0] > m[1][1] && m[0][0] > m[2][2]) {
		d = sqrt(1 + m[0][0] - m[1][1] - m[2][2]) * 2;
		q[0] = (m[2][1] - m[1][2]) / d, q[1] = d / 4;
		q[2] = (m[0][1] + m[1][0]) / d, q[3] = (m[0][2] + m[2][0]) / d;
	} else if (m[1][1] > m[2][2]) {
		d = sqrt(1 + m[1][1] - m[0][0] - m[2][2]) * 2;
		q[0] = (m[0][2] - m[2][0]) / d, q[1] = (m[0][1] + m[1][0]) / d;
		q[2] = d / 4, q[3] = (m[1][2] + m[2][1]) / d;
	} else {
		d = sqrt(1 + m[2][2] - m[0][0] - m[1][1]) * 2;
		q[0] = (m[1][0] - m[0][1]) / d, q[1] = (m[0][2] + m[2][0]) / d;
		q[2] = (m[1][2] + m[2][1]) / d, q[3] = d / 4;
	}
	if (q[0] < 0)
		for (int k = 0; k < 4; k++)
			q[k] = -q[k];
	h->qoffset_x = (float)a[0][3];
	h->qoffset_y = (float)a[1][3];
	h->qoffset_z = (float)a[2][3];
	h->pixdim[0] = (float)qfac;
	for (int j = 0; j < 3; j++)
		h->pixdim[j + 1] = (float)zoom[j];
	h->quatern_b = (float)q[1];
	h->quatern_c = (float)q[2];
	h->quatern_d = (float)q[3];
	return 0;
}

/* Nifti1Header.get_best_affine: sform if coded, else qform if coded, else the base. */
static int best_affine(const struct nifti_1_header *h, double a[4][4], const char **source)
{
	if (h->sform_code != 0) {
		sform_of(h, a);
		*source = "sform";
		return 0;
	}
	if (h->qform_code != 0) {
		*source = "qform";
		return qform_of(h, a);
	}
	base_of(h, a);
	*source = "base";
	return 0;
}

/* MONAI's affine_to_spacing(a, r): norms of the columns of a[:r, :r] (r = 4 takes in the
 * translation column and the bottom row, as MONAI does for 4D files), zeros read as 1. */
static void spacing(const double a[4][4], int r, double out[4])
{
	for (int j = 0; j < r; j++) {
		double s = 0;
		for (int i = 0; i < r; i++)
			s += a[i][j] * a[i][j];
		out[j] = s == 0 ? 1 : sqrt(s);
	}
}

/* np.allclose(x, y): |x - y| <= 1e-8 + 1e-5 |y| everywhere (asymmetric; NaN fails). */
static int allclose(const double *x, const double *y, int n)
{
	for (int i = 0; i < n; i++)
		if (!(fabs(x[i] - y[i]) <= 1e-8 + 1e-5 * fabs(y[i])))
			return 0;
	return 1;
}

/* MONAI's correct_nifti_header_if_necessary and rectify_header_sform_qform, on n->hc and
 * n->affine. Returns -1 for an invalid quaternion, -2 when the sform cannot become a
 * qform (both where MONAI raises). Surprises kept on purpose: a mismatched sform is replaced by the qform
 * even when qform_code is 0; 4D files always mismatch (the 4th "spacing" is the norm of
 * the translation column) and only get their pixdim rewritten. */
static int monai_correct(struct nii *n)
{
	struct nifti_1_header *h = &n->hc;
	int d = h->dim[0];
	double pix[4], norm[4], sf[4][4], qf[4][4], ns[4], nq[4];
	if (d >= 5)
		return 0;
	for (int k = 0; k < d; k++)
		pix[k] = h->pixdim[k + 1];
	spacing(n->affine, d, norm);
	if (allclose(pix, norm, d))
		return 0;
	sform_of(h, sf);
	if (qform_of(h, qf) != 0)
		return -1;
	spacing(sf, d, ns);
	spacing(qf, d, nq);
	int smis = !allclose(ns, pix, d), qmis = !allclose(nq, pix, d);
	if (h->sform_code != 0) {
		if (!smis)
			return 0;
		if (!qmis) { /* img.set_sform(img.get_qform()): through float32 */
			for (int j = 0; j < 4; j++) {
				h->srow_x[j] = (float)qf[0][j];
				h->srow_y[j] = (float)qf[1][j];
				h->srow_z[j] = (float)qf[2][j];
			}
			sform_of(h, n->affine);
			n->source = "qform";
			return 0;
		}
	}
	if (h->qform_code != 0) {
		if (!qmis)
			return 0;
		if (!smis) { /* img.set_qform(img.get_sform()); here sform_code is 0 */
			if (set_qform(h, sf) != 0 || qform_of(h, n->affine) != 0)
				return -2;
			n->source = "sform";
			return 0;
		}
	}
	spacing(n->affine, d, norm);
	for (int k = 0; k < d; k++)
		h->pixdim[k + 1] = (float)norm[k];
	return 0;
}

/* ---- header parsing ------------------------------------------------------------------- */

static int lookup_dtype(short code, int *dtype, const char **name)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (dtypes[i].code == code) {
			*dtype = dtypes[i].dtype;
			*name = dtypes[i].name;
			return 0;
		}
	*dtype = -1;
	*name = "unknown";
	return -1;
}

static int bad_order(short d0) { return d0 < 1 || d0 > 7; }

/* Checks that nibabel would load the header and fills n. for_info: an unsupported
 * datatype or layout is not an error (mgc info still describes the file). */
static int parse(const char *path, const unsigned char *raw, size_t got, struct nii *n,
		 int for_info, struct mg_err *e)
{
	struct nifti_1_header *h = &n->h;
	const char *dname;
	memset(n, 0, sizeof *n);
	if (got >= 8 && memcmp(raw + 4, "n+2", 4) == 0)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: NIfTI-2 files are not supported",
				  path);
	if (got < HDR_SIZE) {
		int32_t sz = 0;
		if (got >= 4)
			memcpy(&sz, raw, 4);
		if (sz == HDR_SIZE || (int32_t)__builtin_bswap32((uint32_t)sz) == HDR_SIZE)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: truncated header: %zu of %d bytes", path, got,
					  HDR_SIZE);
		return mg_err_set(e, MG_ERR_FORMAT, "%s: not a NIfTI-1 file (%zu bytes)", path,
				  got);
	}
	memcpy(h, raw, HDR_SIZE);
	if (memcmp(h->magic, "n+1", 4) != 0 && memcmp(h->magic, "ni1", 4) != 0)
		return mg_err_set(e, MG_ERR_FORMAT, "%s: not a NIfTI-1 file (no n+1/ni1 magic)",
				  path);
	n->pair = h->magic[1] == 'i';
	/* byte order from dim[0], as nibabel and niftilib decide it */
	if (bad_order(h->dim[0])) {
		if (bad_order((short)__builtin_bswap16((uint16_t)h->dim[0])))
			return mg_err_set(e, MG_ERR_FORMAT, "%s: dim[0] = %d is outside 1..7",
					  path, h->dim[0]);
		swap_nifti_header(h, 1);
		n->swapped = 1;
	}
	int ndim = h->dim[0];
	int64_t numel = 1;
	int overflow = 0;
	for (int i = 1; i <= ndim; i++) {
		if (h->dim[i] <= 0)
			return mg_err_set(e, MG_ERR_FORMAT, "%s: dim[%d] = %d is not positive",
					  path, i, h->dim[i]);
		overflow |= __builtin_mul_overflow(numel, (int64_t)h->dim[i], &numel);
	}
	n->numel = numel;
	if (lookup_dtype(h->datatype, &n->dtype, &dname) != 0)
		return mg_err_set(e, MG_ERR_FORMAT, "%s: unknown datatype code %d", path,
				  h->datatype);
	if (n->dtype < 0 && !for_info)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: datatype %s is not supported",
				  path, dname);
	size_t esize = n->dtype < 0 ? 1 : mg_dtype_size((enum mg_dtype)n->dtype);
	if (overflow || (uint64_t)numel > (uint64_t)PTRDIFF_MAX / 8)
		return mg_err_set(e, MG_ERR_FORMAT, "%s: the dims (%d %d %d %d %d %d %d) "
				  "overflow", path, h->dim[1], h->dim[2], h->dim[3], h->dim[4],
				  h->dim[5], h->dim[6], h->dim[7]);
	n->nbytes = (size_t)numel * esize;
	/* tensor shape: (X), (X,Y), (X,Y,Z), (X,Y,Z,C); dims past the 4th fold into C */
	n->rank = ndim < 4 ? ndim : 4;
	for (int i = 0; i < 4; i++)
		n->tdims[i] = 1;
	for (int i = 0; i < n->rank; i++)
		n->tdims[i] = h->dim[i + 1];
	int extra = 0;
	for (int i = 4; i <= ndim; i++) {
		extra += h->dim[i] > 1;
		if (i > 4)
			n->tdims[3] *= h->dim[i];
	}
	if (!for_info && ndim == 1)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "%s: 1-D images are not supported",
				  path);
	if (!for_info && extra > 1)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s: %dD image with more than one non-singleton dimension "
				  "after the third is not supported", path, ndim);
	float vo = h->vox_offset;
	if (!(vo >= 0 && vo < 1e15f) || (!n->pair && vo < SINGLE_OFFSET))
		return mg_err_set(e, MG_ERR_FORMAT, "%s: bad vox_offset %g", path, (double)vo);
	n->vox_offset = (int64_t)vo;
	/* nibabel's load-time fixes, which every affine below sees */
	for (int i = 1; i <= 3; i++) {
		if (h->pixdim[i] == 0)
			h->pixdim[i] = 1;
		h->pixdim[i] = fabsf(h->pixdim[i]);
	}
	if (h->pixdim[0] != 1 && h->pixdim[0] != -1)
		h->pixdim[0] = 1;
	if (h->qform_code < 0 || h->qform_code > 5)
		h->qform_code = 0;
	if (h->sform_code < 0 || h->sform_code > 5)
		h->sform_code = 0;
	/* Nifti1Header.get_slope_inter */
	n->slope = h->scl_slope;
	n->inter = h->scl_inter;
	if (n->slope != 0 && isfinite(n->slope)) {
		if (!isfinite(n->inter))
			return mg_err_set(e, MG_ERR_FORMAT, "%s: scl_slope %g with scl_inter %g",
					  path, n->slope, n->inter);
		n->scaled = !(n->slope == 1 && n->inter == 0);
	}
	n->hc = *h;
	int rc = best_affine(h, n->affine, &n->source);
	if (!rc)
		rc = monai_correct(n);
	if (rc == -2)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: MONAI's header correction would rebuild the qform from an "
				  "sform that has a zero column (MONAI raises too)", path);
	if (rc)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: the qform quaternion (%g, %g, %g) is not a rotation", path,
				  h->quatern_b, h->quatern_c, h->quatern_d);
	return 0;
}

/* Opens and parses the header of path; *gz stays open at byte 348 of the header file. */
static int load_header(const char *path, struct nii *n, gzFile *gz, off_t *size,
		       int for_info, struct mg_err *e)
{
	unsigned char raw[HDR_SIZE];
	const char *why;
	char *hname = NULL;
	int corrupt;
	if (ends_with(path, ".img") || ends_with(path, ".img.gz")) {
		hname = swap_suffix(path, ends_with(path, ".gz") ? ".img.gz" : ".img",
				    ends_with(path, ".gz") ? ".hdr.gz" : ".hdr");
		if (!hname)
			return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	}
	int rc = open_read(hname ? hname : path, path, gz, size, e);
	free(hname);
	if (rc)
		return rc;
	size_t got = read_all(*gz, raw, HDR_SIZE, &why, &corrupt);
	if (why && got < HDR_SIZE)
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: %s in the header: %s", path,
				corrupt ? "corrupt gzip data" : "read error", why);
	else
		rc = parse(path, raw, got, n, for_info, e);
	if (rc) {
		gzclose(*gz);
		*gz = NULL;
	}
	return rc;
}

/* ---- reading -------------------------------------------------------------------------- */

static void free_block(void *ctx, void *data)
{
	(void)ctx;
	free(data);
}

static void *alloc_block(size_t n) { return aligned_alloc(64, (n + 63) & ~(size_t)63); }

/* Positions *gz at the data block: the same stream for .nii, the .img for a pair. */
static int open_data(const char *path, struct nii *n, gzFile *gz, off_t *size,
		     struct mg_err *e)
{
	if (n->pair) {
		const char *from = ends_with(path, ".hdr") ? ".hdr"
				   : ends_with(path, ".hdr.gz") ? ".hdr.gz"
				   : ends_with(path, ".img") ? ".img"
				   : ends_with(path, ".img.gz") ? ".img.gz" : NULL;
		if (!from)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: a two-file (ni1) header needs a .hdr/.img name",
					  path);
		char *iname = swap_suffix(path, from, strstr(from, ".gz") ? ".img.gz" : ".img");
		if (!iname)
			return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
		gzclose(*gz);
		*gz = NULL;
		int rc = open_read(iname, path, gz, size, e);
		free(iname);
		if (rc)
			return rc;
	}
	/* refuse before allocating what a short file cannot hold: a plain file must be
	 * long enough, a gzip stream cannot inflate by more than deflate's ratio */
	uint64_t need = (uint64_t)n->vox_offset + n->nbytes;
	if (gzdirect(*gz) ? need > (uint64_t)*size
			  : need / DEFLATE_MAX_RATIO > (uint64_t)*size + 1024)
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: truncated data: expected %zu bytes at offset %lld, the "
				  "file has %lld%s", path, n->nbytes, (long long)n->vox_offset,
				  (long long)*size, gzdirect(*gz) ? "" : " compressed");
	if (gzseek(*gz, (z_off_t)n->vox_offset, SEEK_SET) < 0)
		return mg_err_set(e, MG_ERR_FORMAT, "%s: cannot reach vox_offset %lld", path,
				  (long long)n->vox_offset);
	return 0;
}

/* value * slope + inter in float64, the operations nibabel's apply_read_scaling does */
static void *scale(const struct nii *n, void *raw)
{
	double *out = n->dtype == MG_DTYPE_F64 ? raw : alloc_block((size_t)n->numel * 8);
	size_t es = mg_dtype_size((enum mg_dtype)n->dtype);
	if (!out)
		return NULL;
	for (int64_t i = 0; i < n->numel; i++) {
		double v = mg_dtype_load((enum mg_dtype)n->dtype, (char *)raw + i * es);
		if (n->slope != 1)
			v *= n->slope;
		if (n->inter != 0)
			v += n->inter;
		out[i] = v;
	}
	if (out != raw)
		free(raw);
	return out;
}

static int read_data(const char *path, struct nii *n, gzFile gz, void **data,
		     struct mg_err *e)
{
	const char *why;
	unsigned char extra;
	int corrupt, errnum;
	void *p = alloc_block(n->nbytes);
	if (!p)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory for %zu bytes of data",
				  path, n->nbytes);
	size_t got = read_all(gz, p, n->nbytes, &why, &corrupt);
	/* one more byte makes zlib reach the gzip trailer and check the CRC and length: the
	 * data may be wrong even when enough of it arrived */
	if (got == n->nbytes && !gzdirect(gz)) {
		int r = gzread(gz, &extra, 1);
		const char *m = zmsg(gz, &errnum);
		if (r < 0 || errnum != Z_OK) {
			why = m;
			corrupt = errnum != Z_BUF_ERROR;
		}
	}
	if (got < n->nbytes || why) {
		free(p);
		if (corrupt)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: corrupt gzip data after %zu of %zu bytes: %s", path,
					  got, n->nbytes, why);
		if (got == n->nbytes)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: truncated gzip stream (no end marker after the "
					  "data)", path);
		return mg_err_set(e, MG_ERR_FORMAT,
				  "%s: truncated data: expected %zu bytes, read %zu%s%s", path,
				  n->nbytes, got, why ? ": " : "", why ? why : "");
	}
	if (n->swapped)
		nifti_swap_Nbytes((size_t)n->numel, (int)mg_dtype_size((enum mg_dtype)n->dtype),
				  p);
	if (n->scaled && !(p = scale(n, p)))
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory scaling the data", path);
	*data = p;
	return 0;
}

static int make_meta(const char *path, const struct nii *n, struct mg_meta **out,
		     struct mg_err *e)
{
	struct mg_meta *m = mg_meta_new();
	if (!m || mg_meta_set_filename(m, path) != 0) {
		mg_meta_release(m);
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	}
	m->sdim = n->rank == 2 ? 2 : 3;
	memcpy(m->affine, n->affine, sizeof m->affine);
	memcpy(m->orig_affine, n->affine, sizeof m->orig_affine);
	for (int i = 0; i < 3; i++) {
		m->orig_shape[i] = i < m->sdim ? n->tdims[i] : 1;
		m->pixdim[i] = n->hc.pixdim[i + 1];
	}
	m->original_channel_dim = n->rank == 4 ? -1 : MG_NO_CHANNEL;
	*out = m;
	return 0;
}

int mg_nifti_read(const char *path, struct mg_tensor *out, struct mg_err *e)
{
	struct nii n;
	gzFile gz = NULL;
	off_t size;
	void *data = NULL;
	struct mg_meta *meta = NULL;
	memset(out, 0, sizeof *out);
	int rc = load_header(path, &n, &gz, &size, 0, e);
	if (!rc)
		rc = open_data(path, &n, &gz, &size, e);
	if (!rc)
		rc = read_data(path, &n, gz, &data, e);
	if (gz)
		gzclose(gz);
	if (!rc)
		rc = make_meta(path, &n, &meta, e);
	if (rc) {
		free(data);
		return rc;
	}
	enum mg_dtype dt = n.scaled ? MG_DTYPE_F64 : (enum mg_dtype)n.dtype;
	out->buf = mg_buffer_wrap(data, (size_t)n.numel * mg_dtype_size(dt), free_block, NULL);
	if (!out->buf) {
		free(data);
		mg_meta_release(meta);
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	}
	out->dtype = dt;
	out->rank = n.rank;
	int64_t stride = 1;
	for (int i = 0; i < n.rank; i++) {
		out->dims[i] = n.tdims[i];
		out->strides[i] = stride;
		stride *= n.tdims[i];
	}
	out->meta = meta;
	return 0;
}

int mg_nifti_info(const char *path, struct mg_nifti_info *info, struct mg_err *e)
{
	struct nii n;
	gzFile gz = NULL;
	off_t size;
	memset(info, 0, sizeof *info);
	int rc = load_header(path, &n, &gz, &size, 1, e);
	if (gz)
		gzclose(gz);
	if (rc)
		return rc;
	const struct nifti_1_header *h = &n.h;
	int dt;
	info->ndim = h->dim[0];
	for (int i = 0; i < 7; i++)
		info->dims[i] = h->dim[i + 1];
	for (int i = 0; i < 8; i++)
		info->pixdim[i] = h->pixdim[i];
	info->datatype = h->datatype;
	lookup_dtype(h->datatype, &dt, &info->datatype_name);
	info->qform_code = h->qform_code;
	info->sform_code = h->sform_code;
	sform_of(h, info->sform);
	if (qform_of(h, info->qform) != 0)
		for (int i = 0; i < 16; i++)
			info->qform[i / 4][i % 4] = NAN;
	memcpy(info->affine, n.affine, sizeof info->affine);
	info->scl_slope = h->scl_slope;
	info->scl_inter = h->scl_inter;
	mg_affine_axcodes(n.affine, n.rank == 2 ? 2 : 3, info->axcodes);
	info->affine_source = n.source;
	return 0;
}

/* ---- writing -------------------------------------------------------------------------- */

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
		unsigned k = n > IO_CHUNK ? IO_CHUNK : (unsigned)n;
		int w = gzwrite(o->gz, p, k);
		if (w <= 0) {
			int errnum;
			zmsg(o->gz, &errnum);
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

static short nifti_code(enum mg_dtype dt)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (dtypes[i].dtype == (int)dt)
			return dtypes[i].code;
	return DT_FLOAT32; /* float16, bfloat16 */
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
	h->sizeof_hdr = HDR_SIZE;
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
	h->datatype = nifti_code(fdt);
	h->bitpix = (short)(8 * mg_dtype_size(fdt));
	for (int i = 0; i < 8; i++)
		h->pixdim[i] = 1;
	h->vox_offset = SINGLE_OFFSET;
	h->scl_slope = 1;
	h->scl_inter = 0;
	h->qform_code = h->sform_code = NIFTI_XFORM_SCANNER_ANAT;
	memcpy(h->magic, "n+1", 4);
	if (t->meta)
		memcpy(a, t->meta->affine, sizeof a);
	else
		identity(a);
	for (int j = 0; j < 4; j++) {
		h->srow_x[j] = (float)a[0][j];
		h->srow_y[j] = (float)a[1][j];
		h->srow_z[j] = (float)a[2][j];
	}
	if (set_qform(h, a) != 0)
		return mg_err_set(e, MG_ERR_SHAPE,
				  "%s: the affine has a zero or non-finite column", path);
	return 0;
}

/* dir/.stem.tmpPID-N.nii[.gz]: same folder (rename stays atomic), same ending (tools
 * that sniff names still see NIfTI), created O_EXCL so nothing is overwritten. */
static int make_temp(const char *path, const char *ext, char **tmp, struct mg_err *e)
{
	static unsigned counter;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
	size_t blen = strlen(path) - dlen - strlen(ext), cap = strlen(path) + 48;
	char *s = malloc(cap);
	if (!s)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	for (int tries = 0; tries < 100; tries++) {
		unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		snprintf(s, cap, "%.*s.%.*s.tmp%ld-%u%s", (int)dlen, path, (int)blen,
			 path + dlen, (long)getpid(), k, ext);
		int fd = open(s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0) {
			*tmp = s;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	int err = errno;
	free(s);
	return mg_err_set(e, MG_ERR_IO, "%s: cannot create a file in its folder: %s", path,
			  strerror(err));
}

int mg_nifti_write(const char *path, const struct mg_tensor *t, enum mg_dtype dtype,
		   int gz_level, struct mg_err *e)
{
	struct nifti_1_header h;
	int gzip = ends_with(path, ".nii.gz");
	const char *ext = gzip ? ".nii.gz" : ".nii";
	char mode[8], *tmp = NULL;
	if (!gzip && !ends_with(path, ".nii"))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: NIfTI output names end in .nii or .nii.gz",
				  path);
	if ((unsigned)dtype >= MG_DTYPE_COUNT || gz_level < 0 || gz_level > 9)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: bad dtype %d or gzip level %d", path,
				  (int)dtype, gz_level);
	enum mg_dtype fdt = dtype == MG_DTYPE_F16 || dtype == MG_DTYPE_BF16 ? MG_DTYPE_F32 : dtype;
	if (!t->buf)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: the tensor has no data", path);
	int rc = make_header(path, t, fdt, &h, e);
	if (rc)
		return rc;
	int fd = make_temp(path, ext, &tmp, e);
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
	out_put(&o, &h, HDR_SIZE);
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
				o.err > 0 ? strerror(o.err) : "zlib error");
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		rc = mg_err_set(e, MG_ERR_IO, "%s: cannot rename the finished file into place: %s",
				path, strerror(errno));
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
