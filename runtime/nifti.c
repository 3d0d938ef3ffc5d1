/* nifti.c: NIfTI-1 reading with nibabel's and MONAI's conventions, the file names a
 * NIfTI file may have, and the affine math the writer (nifti_write.c) shares.
 * Invariant: a read image is the file's data block, x fastest, in the file's dtype (or
 * float64 when scl_slope applies, as nibabel's dataobj); its affine is bit-for-bit what
 * MONAI's NibabelReader reports wherever nibabel computes in double or long double.
 * The header comes from niftilib's struct and byte swapping; bytes move through zlib
 * directly (niftilib's reader prints, rewrites bad dims to 1 and cannot say why it
 * failed; znzread turns a read error into (size_t)-1 and loses the count).
 * Read next: docs/nifti.md; nifti_write.c; orientation.c for axis codes. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nifti_int.h"
#include "orientation.h"

_Static_assert(sizeof(struct nifti_1_header) == NII_HDR_SIZE,
	       "nifti_1_header must be 348 bytes");

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

short nii_datatype(enum mg_dtype dt)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (dtypes[i].dtype == (int)dt)
			return dtypes[i].code;
	return DT_FLOAT32; /* float16, bfloat16 */
}

/* ---- file names ----------------------------------------------------------------------- */

/* The names of NIfTI-1 files: the one list that reading, writing and LoadImage use. */
static const struct {
	const char *suffix;
	char kind; /* see nii_name_kind */
} nii_names[] = {
	{".nii", 'n'}, {".nii.gz", 'n'}, {".hdr", 'h'},
	{".hdr.gz", 'h'}, {".img", 'i'}, {".img.gz", 'i'},
};

int nii_name_kind(const char *path, int *gz)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof nii_names / sizeof *nii_names; i++) {
		size_t m = strlen(nii_names[i].suffix);
		if (n > m && strcasecmp(path + n - m, nii_names[i].suffix) == 0) {
			if (gz)
				*gz = m > 4;
			return nii_names[i].kind;
		}
	}
	return 0;
}

int mg_nifti_is_name(const char *path) { return nii_name_kind(path, NULL) != 0; }

/* os.path.splitext(name)[0] for a base name: the last '.' that has a non-'.' before it */
static size_t nii_splitext(const char *name, size_t n)
{
	for (size_t d = n; d-- > 0;)
		if (name[d] == '.') {
			for (size_t i = 0; i < d; i++)
				if (name[i] != '.')
					return d;
			break;
		}
	return n;
}

size_t mg_nifti_stem(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	size_t len = strlen(name), s = nii_splitext(name, len);
	if (strcmp(name + s, ".gz") == 0)
		s = nii_splitext(name, s);
	if (n)
		snprintf(out, n, "%.*s", (int)s, name);
	return s;
}

/* The other file of a .hdr/.img pair: path with its 3-letter kind ("hdr" or "img",
 * before any ".gz") spelled as `to`, in the same letter case. NULL when out of memory. */
static char *nii_pair_name(const char *path, const char *to)
{
	int gz = 0;
	nii_name_kind(path, &gz);
	char *s = strdup(path);
	if (!s)
		return NULL;
	char *at = s + strlen(s) - (gz ? 6 : 3);
	for (int i = 0; i < 3; i++)
		at[i] = at[i] >= 'A' && at[i] <= 'Z' ? (char)(to[i] - 'a' + 'A') : to[i];
	return s;
}

/* zlib prefixes its messages with the path it was given ("<fd:3>: ..."): drop that. */
const char *nii_zmsg(gzFile gz, int *errnum)
{
	const char *m = gzerror(gz, errnum);
	const char *c = m && m[0] == '<' ? strstr(m, ">: ") : NULL;
	return c ? c + 3 : (m ? m : "");
}

/* Reads up to n bytes; returns how many arrived. *why is the reason the stream stopped
 * early (NULL at a clean end of file), which may be written into ebuf[128]; *corrupt is
 * set when zlib found bad data rather than an early end. */
static size_t read_all(gzFile gz, void *buf, size_t n, const char **why, int *corrupt,
		       char *ebuf)
{
	size_t got = 0;
	int errnum = Z_OK;
	*why = NULL;
	*corrupt = 0;
	while (got < n) {
		unsigned want = n - got > NII_IO_CHUNK ? NII_IO_CHUNK : (unsigned)(n - got);
		int r = gzread(gz, (char *)buf + got, want);
		if (r > 0)
			got += (size_t)r;
		if (r < 0 || (unsigned)r < want) {
			int err = errno;
			const char *m = nii_zmsg(gz, &errnum);
			if (errnum == Z_ERRNO)
				*why = mg_strerror(err, ebuf, 128);
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
	char ebuf[128];
	const char *sep = strcmp(name, path) ? ": " : "", *other = strcmp(name, path) ? name : "";
	if (fd < 0)
		return mg_err_set(e, MG_ERR_IO, "%s%s%s: cannot open: %s", path, sep, other,
				  mg_strerror(errno, ebuf, sizeof ebuf));
	int bad = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (bad) {
		close(fd);
		return mg_err_set(e, MG_ERR_IO, "%s%s%s: cannot read: %s", path, sep, other,
				  bad == EISDIR ? "is a directory"
						: mg_strerror(bad, ebuf, sizeof ebuf));
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

static void sform_of(const struct nifti_1_header *h, double a[4][4])
{
	mg_affine_identity(a);
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
	mg_affine_identity(a);
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
	mg_affine_identity(a);
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

/* nii_set_qform: zooms are the column norms, qfac the sign of det, the rotation the
 * polar factor of what is left (an SVD), turned into a quaternion with w >= 0 (Shepperd's
 * method; nibabel's eigenvector route gives the same quaternion up to rounding). */
int nii_set_qform(struct nifti_1_header *h, const double a[4][4])
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

/* MONAI's correct_nifti_header_if_necessary and rectify_header_sform_qform, on n->hc and
 * n->affine. Returns -1 for an invalid quaternion, -2 when the sform cannot become a
 * qform (both where MONAI raises). Surprises kept on purpose: a mismatched sform is
 * replaced by the qform even when qform_code is 0; 4D files always mismatch (the 4th
 * "spacing" is the norm of the translation column) and only get their pixdim rewritten. */
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
	if (mg_allclose(pix, norm, d))
		return 0;
	sform_of(h, sf);
	if (qform_of(h, qf) != 0)
		return -1;
	spacing(sf, d, ns);
	spacing(qf, d, nq);
	int smis = !mg_allclose(ns, pix, d), qmis = !mg_allclose(nq, pix, d);
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
			if (nii_set_qform(h, sf) != 0 || qform_of(h, n->affine) != 0)
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
	if (got < NII_HDR_SIZE) {
		int32_t sz = 0;
		if (got >= 4)
			memcpy(&sz, raw, 4);
		if (sz == NII_HDR_SIZE || (int32_t)__builtin_bswap32((uint32_t)sz) == NII_HDR_SIZE)
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: truncated header: %zu of %d bytes", path, got,
					  NII_HDR_SIZE);
		return mg_err_set(e, MG_ERR_FORMAT, "%s: not a NIfTI-1 file (%zu bytes)", path,
				  got);
	}
	memcpy(h, raw, NII_HDR_SIZE);
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
	if (!(vo >= 0 && vo < 1e15f) || (!n->pair && vo < NII_SINGLE_OFFSET))
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
	unsigned char raw[NII_HDR_SIZE];
	const char *why;
	char *hname = NULL, ebuf[128];
	int corrupt;
	if (nii_name_kind(path, NULL) == 'i') {
		hname = nii_pair_name(path, "hdr");
		if (!hname)
			return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	}
	int rc = open_read(hname ? hname : path, path, gz, size, e);
	free(hname);
	if (rc)
		return rc;
	size_t got = read_all(*gz, raw, NII_HDR_SIZE, &why, &corrupt, ebuf);
	if (why && got < NII_HDR_SIZE)
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

/* Positions *gz at the data block: the same stream for .nii, the .img for a pair. */
static int open_data(const char *path, struct nii *n, gzFile *gz, off_t *size,
		     struct mg_err *e)
{
	if (n->pair) {
		int kind = nii_name_kind(path, NULL);
		if (kind != 'h' && kind != 'i')
			return mg_err_set(e, MG_ERR_FORMAT,
					  "%s: a two-file (ni1) header needs a .hdr/.img name",
					  path);
		char *iname = nii_pair_name(path, "img");
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

/* value * slope + inter in float64, the operations nibabel's apply_read_scaling does.
 * raw is consumed: freed, or returned (float64 data is scaled in place); NULL when out of
 * memory. */
static void *scale(const struct nii *n, void *raw)
{
	double *out = n->dtype == MG_DTYPE_F64 ? raw : mg_block_alloc((size_t)n->numel * 8);
	size_t es = mg_dtype_size((enum mg_dtype)n->dtype);
	if (!out) {
		mg_block_free(raw);
		return NULL;
	}
	for (int64_t i = 0; i < n->numel; i++) {
		double v = mg_dtype_load((enum mg_dtype)n->dtype, (char *)raw + i * es);
		if (n->slope != 1)
			v *= n->slope;
		if (n->inter != 0)
			v += n->inter;
		out[i] = v;
	}
	if (out != raw)
		mg_block_free(raw);
	return out;
}

static int read_data(const char *path, struct nii *n, gzFile gz, void **data,
		     struct mg_err *e)
{
	const char *why;
	char ebuf[128];
	unsigned char extra;
	int corrupt, errnum;
	void *p = mg_block_alloc(n->nbytes);
	if (!p)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory for %zu bytes of data",
				  path, n->nbytes);
	size_t got = read_all(gz, p, n->nbytes, &why, &corrupt, ebuf);
	/* one more byte makes zlib reach the gzip trailer and check the CRC and length: the
	 * data may be wrong even when enough of it arrived */
	if (got == n->nbytes && !gzdirect(gz)) {
		int r = gzread(gz, &extra, 1);
		const char *m = nii_zmsg(gz, &errnum);
		if (r < 0 || errnum != Z_OK) {
			why = m;
			corrupt = errnum != Z_BUF_ERROR;
		}
	}
	if (got < n->nbytes || why) {
		mg_block_free(p);
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
		mg_block_free(data);
		return rc;
	}
	enum mg_dtype dt = n.scaled ? MG_DTYPE_F64 : (enum mg_dtype)n.dtype;
	out->buf = mg_buffer_wrap(data, (size_t)n.numel * mg_dtype_size(dt), NULL, NULL);
	if (!out->buf) {
		mg_block_free(data);
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
