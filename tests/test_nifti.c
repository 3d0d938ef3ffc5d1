/* test_nifti.c: NIfTI IO against nibabel and MONAI, round trips, and bad input.
 * tests/data/nifti holds small files written by nibabel (and by MONAI's NibabelWriter)
 * and expected.json with what nibabel/MONAI report for them; both come from
 * tools/golden/make_nifti_fixtures.py, never from mgc. Broken files are made at run time
 * in a mkdtemp folder from the good ones. Header fields are patched at their NIfTI-1
 * byte offsets, independent of niftilib. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../runtime/orientation.h"
#include "../runtime/runtime.h"
#include "check.h"

#define DATA MG_SOURCE_DIR "/tests/data/nifti/"

/* NIfTI-1 header offsets */
enum { OFF_DIM = 40, OFF_DATATYPE = 70, OFF_BITPIX = 72, OFF_VOX = 108, OFF_SLOPE = 112,
       OFF_INTER = 116, OFF_MAGIC = 344 };

static char tmpdir[64];
static struct mg_err err;

static const char *fixture(const char *name)
{
	static char paths[8][512];
	static int slot;
	char *p = paths[slot++ % 8];
	snprintf(p, 512, "%s%s", DATA, name);
	return p;
}

static const char *tmp(const char *name)
{
	static char paths[8][512];
	static int slot;
	char *p = paths[slot++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)len + 1);
	*n = fread(b, 1, (size_t)len, f);
	b[*n] = 0;
	fclose(f);
	return b;
}

static void spit(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(b, 1, n, f);
	fclose(f);
}

/* the decompressed content of a .gz (or plain) file */
static unsigned char *gunzip(const char *path, size_t *n)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 16;
	unsigned char *b = malloc(cap);
	int r;
	*n = 0;
	while (g && (r = gzread(g, b + *n, (unsigned)(cap - *n))) > 0)
		if ((*n += (size_t)r) == cap)
			b = realloc(b, cap *= 2);
	if (g)
		gzclose(g);
	return b;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void affine_json(const cJSON *rows, double a[4][4])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			a[i][j] = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, i), j)->valuedouble;
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItem(o, key)->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *s = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(s) ? s->valuestring : "";
}

/* element i of t in file order (x fastest) */
static double value_at(const struct mg_tensor *t, int64_t i)
{
	int64_t idx[MG_MAX_RANK];
	for (int d = 0; d < t->rank; d++) {
		idx[d] = i % t->dims[d];
		i /= t->dims[d];
	}
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

/* compensated summation: the fixtures' sums (math.fsum) survive +-FLT_MAX terms */
static void neumaier(double acc[2], double v)
{
	double t = acc[0] + v;
	acc[1] += fabs(acc[0]) >= fabs(v) ? (acc[0] - t) + v : (v - t) + acc[0];
	acc[0] = t;
}

/* ---- fixtures vs nibabel/MONAI ------------------------------------------------------------ */

static void check_info(const char *path, const cJSON *fx)
{
	struct mg_nifti_info info;
	const cJSON *ex = cJSON_GetObjectItem(fx, "info");
	double a[4][4];
	CHECK_OK(mg_nifti_info(path, &info, &err), &err);
	CHECK(strcmp(info.affine_source, str(fx, "affine_source")) == 0, "%s: source %s, want %s",
	      path, info.affine_source, str(fx, "affine_source"));
	affine_json(cJSON_GetObjectItem(fx, "affine"), a);
	for (int i = 0; i < 16; i++)
		CHECK_CLOSE(info.affine[i / 4][i % 4], a[i / 4][i % 4], 0, 0);
	if (!ex)
		return;
	const cJSON *dims = cJSON_GetObjectItem(ex, "dims");
	const cJSON *pix = cJSON_GetObjectItem(ex, "pixdim");
	CHECK(info.ndim == (int)num(ex, "ndim"));
	for (int i = 0; i < 7; i++)
		CHECK(info.dims[i] == cJSON_GetArrayItem(dims, i)->valueint);
	for (int i = 0; i < 8; i++)
		CHECK_CLOSE(info.pixdim[i], cJSON_GetArrayItem(pix, i)->valuedouble, 0, 0);
	CHECK(info.datatype == (int)num(ex, "datatype"));
	CHECK(info.qform_code == (int)num(ex, "qform_code") &&
	      info.sform_code == (int)num(ex, "sform_code"), "%s: codes %d %d", path,
	      info.qform_code, info.sform_code);
	affine_json(cJSON_GetObjectItem(ex, "qform"), a);
	for (int i = 0; i < 16; i++)
		CHECK_CLOSE(info.qform[i / 4][i % 4], a[i / 4][i % 4], 0, 0);
	affine_json(cJSON_GetObjectItem(ex, "sform"), a);
	for (int i = 0; i < 16; i++)
		CHECK_CLOSE(info.sform[i / 4][i % 4], a[i / 4][i % 4], 0, 0);
	CHECK_CLOSE(info.scl_slope, num(ex, "scl_slope"), 0, 0);
	CHECK_CLOSE(info.scl_inter, num(ex, "scl_inter"), 0, 0);
}

static void check_fixture(const cJSON *fx)
{
	const char *name = str(fx, "file"), *path = fixture(name);
	struct mg_tensor t;
	double a[4][4];
	const cJSON *shape = cJSON_GetObjectItem(fx, "shape");
	if (cJSON_IsString(cJSON_GetObjectItem(fx, "error"))) {
		CHECK_FAILS(mg_nifti_read(path, &t, &err), &err, name);
		return;
	}
	CHECK_OK(mg_nifti_read(path, &t, &err), &err);
	if (err.code) {
		mg_err_clear(&err);
		return;
	}
	/* nibabel's shape, with dims past the 4th folded into the channel dim */
	int n = cJSON_GetArraySize(shape);
	int64_t want[4] = {1, 1, 1, 1};
	for (int i = 0; i < n; i++)
		want[i < 4 ? i : 3] *= cJSON_GetArrayItem(shape, i)->valueint;
	CHECK(t.rank == (n < 4 ? n : 4), "%s: rank %d", name, t.rank);
	for (int i = 0; i < t.rank; i++)
		CHECK(t.dims[i] == want[i], "%s: dim %d is %lld", name, i, (long long)t.dims[i]);
	int64_t stride = 1;
	for (int i = 0; i < t.rank; i++) {
		CHECK(t.strides[i] == stride, "%s: x fastest, no transposing copy", name);
		stride *= t.dims[i];
	}
	CHECK(strcmp(mg_dtype_name(t.dtype), str(fx, "dtype")) == 0, "%s: dtype %s, want %s",
	      name, mg_dtype_name(t.dtype), str(fx, "dtype"));
	/* values, order and sums */
	const cJSON *vals = cJSON_GetObjectItem(fx, "values");
	for (int i = 0; i < cJSON_GetArraySize(vals); i++)
		CHECK_CLOSE(value_at(&t, i), cJSON_GetArrayItem(vals, i)->valuedouble, 0, 0);
	int64_t numel = mg_tensor_numel(&t);
	double sum[2] = {0, 0}, wsum[2] = {0, 0};
	for (int64_t i = 0; i < numel; i++) {
		double v = value_at(&t, i);
		neumaier(sum, v);
		neumaier(wsum, v * (double)(i % 7 + 1));
	}
	CHECK_CLOSE(value_at(&t, numel - 1), num(fx, "last"), 0, 0);
	CHECK_CLOSE(sum[0] + sum[1], num(fx, "sum"), 1e-9, 1e-12);
	CHECK_CLOSE(wsum[0] + wsum[1], num(fx, "wsum"), 1e-9, 1e-12);
	/* meta as MONAI's NibabelReader reports it; the affine to the last bit */
	const struct mg_meta *m = t.meta;
	CHECK(m && m->filename && strcmp(m->filename, path) == 0);
	if (!m) {
		mg_tensor_release(&t);
		return;
	}
	affine_json(cJSON_GetObjectItem(fx, "affine"), a);
	for (int i = 0; i < 16; i++) {
		double mine = m->affine[i / 4][i % 4], theirs = a[i / 4][i % 4];
		CHECK(mine == theirs, "%s: affine[%d][%d] = %.17g, MONAI has %.17g", name, i / 4,
		      i % 4, mine, theirs);
		CHECK(m->orig_affine[i / 4][i % 4] == a[i / 4][i % 4]);
	}
	const cJSON *pix = cJSON_GetObjectItem(fx, "pixdim");
	for (int i = 0; i < 3; i++)
		CHECK_CLOSE(m->pixdim[i], cJSON_GetArrayItem(pix, i)->valuedouble, 0, 0);
	const cJSON *ss = cJSON_GetObjectItem(fx, "spatial_shape");
	CHECK(m->sdim == cJSON_GetArraySize(ss), "%s: sdim %d", name, m->sdim);
	for (int i = 0; i < m->sdim; i++)
		CHECK(m->orig_shape[i] == cJSON_GetArrayItem(ss, i)->valueint);
	const cJSON *ocd = cJSON_GetObjectItem(fx, "original_channel_dim");
	CHECK(m->original_channel_dim == (cJSON_IsNull(ocd) ? MG_NO_CHANNEL : ocd->valueint),
	      "%s: original_channel_dim %d", name, m->original_channel_dim);
	char codes[4];
	mg_affine_axcodes(m->affine, m->sdim, codes);
	CHECK(strcmp(codes, str(fx, "axcodes")) == 0, "%s: axcodes %s, want %s", name, codes,
	      str(fx, "axcodes"));
	check_info(path, fx);
	mg_tensor_release(&t);
}

static void test_orientation(const cJSON *cases)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		double a[4][4];
		char codes[4];
		affine_json(cJSON_GetObjectItem(c, "affine"), a);
		int sdim = (int)num(c, "sdim");
		mg_affine_axcodes(a, sdim, codes);
		CHECK(strcmp(codes, str(c, "codes")) == 0, "axcodes %s, nibabel says %s", codes,
		      str(c, "codes"));
	}
	int ornt[3][2];
	double a[4][4] = {{0, 0, -2, 0}, {3, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 0, 1}};
	CHECK(mg_io_orientation(a, 3, ornt) == 0);
	CHECK(ornt[0][0] == 1 && ornt[0][1] == 1 && ornt[1][0] == 2 && ornt[1][1] == 1 &&
	      ornt[2][0] == 0 && ornt[2][1] == -1);
	CHECK(mg_io_orientation(a, 4, ornt) != 0);
}

/* ---- writing ---------------------------------------------------------------------------- */

/* ramp() of make_nifti_fixtures.py: element i in file order */
static double ramp(enum mg_dtype dt, int64_t i)
{
	int is_unsigned = dt == MG_DTYPE_U8 || dt == MG_DTYPE_U16 || dt == MG_DTYPE_U32;
	double v = (double)((i * 37) % 251 - (is_unsigned ? 0 : 100));
	return mg_dtype_is_float(dt) ? v * 0.25 + 0.125 : v;
}

static void set_meta(struct mg_tensor *t, const double a[4][4], int sdim)
{
	struct mg_meta *m = mg_meta_mut(t);
	memcpy(m->affine, a, sizeof m->affine);
	m->sdim = sdim;
}

/* A tensor with dims d (x first) stored C-contiguously, i.e. x slowest: the writer must
 * walk it in file order. */
static void make_tensor(struct mg_tensor *t, enum mg_dtype dt, int rank, const int64_t *d)
{
	CHECK_OK(mg_tensor_alloc(t, dt, rank, d, &err), &err);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++) {
		int64_t idx[MG_MAX_RANK], k = i;
		for (int j = 0; j < rank; j++) {
			idx[j] = k % d[j];
			k /= d[j];
		}
		mg_dtype_store(dt, mg_tensor_at(t, idx), ramp(dt, i));
	}
}

/* Our writer against the files MONAI's NibabelWriter wrote from the same data and affine:
 * the decompressed bytes must agree, header included (quaternion within float rounding). */
static void test_monai_writer(const cJSON *writes)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, writes) {
		const char *name = str(w, "file");
		const cJSON *shape = cJSON_GetObjectItem(w, "shape");
		int64_t d[4];
		int rank = cJSON_GetArraySize(shape);
		double a[4][4];
		struct mg_tensor t;
		for (int i = 0; i < rank; i++)
			d[i] = cJSON_GetArrayItem(shape, i)->valueint;
		enum mg_dtype dt = (enum mg_dtype)mg_dtype_parse(str(w, "dtype"));
		make_tensor(&t, dt, rank, d);
		affine_json(cJSON_GetObjectItem(w, "affine"), a);
		set_meta(&t, a, rank == 2 ? 2 : 3);
		CHECK_OK(mg_nifti_write(tmp(name), &t, dt, 6, &err), &err);
		size_t n1, n2;
		unsigned char *mine = gunzip(tmp(name), &n1), *ref = gunzip(fixture(name), &n2);
		CHECK(n1 == n2, "%s: %zu bytes, MONAI wrote %zu", name, n1, n2);
		int diff = 0;
		for (size_t i = 0; i < n1 && i < n2; i++)
			if (mine[i] != ref[i] && !(i >= 256 && i < 268)) {
				if (++diff <= 3)
					fprintf(stderr, "%s: byte %zu is %d, MONAI wrote %d\n", name,
						i, mine[i], ref[i]);
			}
		CHECK(diff == 0, "%s: %d bytes differ", name, diff);
		for (size_t off = 256; off < 268 && n1 >= 268 && n2 >= 268; off += 4) {
			float q1, q2;
			memcpy(&q1, mine + off, 4);
			memcpy(&q2, ref + off, 4);
			CHECK_CLOSE(q1, q2, 1e-7, 0);
		}
		free(mine);
		free(ref);
		mg_tensor_release(&t);
	}
}

static const double oblique[4][4] = {
	{0.9, -0.3, 0.1, -91.5}, {0.28, 1.1, -0.4, 120.25}, {-0.05, 0.35, 2.4, -60}, {0, 0, 0, 1}};

/* file-order element i of the round-trip volume: the ramp plus the dtype's extremes and,
 * for floats, NaN, -inf and a subnormal */
static void rt_put(enum mg_dtype dt, void *p, int64_t i)
{
	static const double lo[] = {0, -128, 0, -32768, 0, -2147483648.0, 0, -65504,
				    -3.3895313892515355e38, -FLT_MAX, -DBL_MAX, 0};
	static const double hi[] = {255, 127, 65535, 32767, 4294967295.0, 2147483647, 0, 65504,
				    3.3895313892515355e38, FLT_MAX, DBL_MAX, 0};
	if (dt == MG_DTYPE_I64) {
		int64_t x = i == 1   ? INT64_MIN
			    : i == 2 ? INT64_MAX
				     : (int64_t)ramp(dt, i) * 1000003;
		memcpy(p, &x, 8);
		return;
	}
	double v = i == 1 ? lo[dt] : i == 2 ? hi[dt] : ramp(dt, i);
	if (mg_dtype_is_float(dt) && i >= 3 && i <= 5)
		v = i == 3 ? NAN
		    : i == 4 ? -INFINITY
		    : dt == MG_DTYPE_F64 ? DBL_TRUE_MIN : FLT_TRUE_MIN;
	mg_dtype_store(dt, p, v);
}

static int same(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

static void test_round_trip(void)
{
	static const char *exts[] = {".nii", ".nii.gz"};
	int64_t d[3] = {5, 4, 3};
	for (enum mg_dtype dt = 0; dt < MG_DTYPE_COUNT; dt++)
		for (int k = 0; k < 2; k++) {
			char name[64];
			struct mg_tensor t, r;
			snprintf(name, sizeof name, "rt_%s%s", mg_dtype_name(dt), exts[k]);
			CHECK_OK(mg_tensor_alloc(&t, dt, 3, d, &err), &err);
			for (int64_t i = 0; i < 60; i++) {
				int64_t idx[3] = {i % 5, i / 5 % 4, i / 20};
				rt_put(dt, mg_tensor_at(&t, idx), i);
			}
			set_meta(&t, oblique, 3);
			CHECK_OK(mg_nifti_write(tmp(name), &t, dt, 1, &err), &err);
			CHECK_OK(mg_nifti_read(tmp(name), &r, &err), &err);
			if (err.code) {
				mg_err_clear(&err);
				mg_tensor_release(&t);
				continue;
			}
			/* float16/bfloat16 are not NIfTI types: stored as float32, exactly */
			enum mg_dtype fdt =
				dt == MG_DTYPE_F16 || dt == MG_DTYPE_BF16 ? MG_DTYPE_F32 : dt;
			CHECK(r.dtype == fdt, "%s: read back as %s", name, mg_dtype_name(r.dtype));
			CHECK(r.rank == 3 && r.dims[0] == 5 && r.dims[1] == 4 && r.dims[2] == 3);
			for (int64_t i = 0; i < 60 && r.dtype == fdt; i++) {
				int64_t idx[3] = {i % 5, i / 5 % 4, i / 20};
				const void *p = mg_tensor_at(&t, idx), *q = mg_tensor_at(&r, idx);
				if (dt == fdt)
					CHECK(memcmp(p, q, mg_dtype_size(fdt)) == 0,
					      "%s: element %lld", name, (long long)i);
				else
					CHECK(same(mg_dtype_load(fdt, q), mg_dtype_load(dt, p)),
					      "%s: element %lld", name, (long long)i);
			}
			for (int i = 0; i < 16; i++)
				CHECK_CLOSE(r.meta->affine[i / 4][i % 4], oblique[i / 4][i % 4],
					    1e-6, 1e-6);
			CHECK(r.meta->sdim == 3 && r.meta->original_channel_dim == MG_NO_CHANNEL);
			mg_tensor_release(&t);
			mg_tensor_release(&r);
		}
}

static void test_write_layouts(void)
{
	struct mg_tensor t, r;
	/* 4D (X,Y,Z,C), x slowest in memory, float32 to int16 (truncating as torch) */
	int64_t d4[4] = {3, 4, 2, 2};
	make_tensor(&t, MG_DTYPE_F32, 4, d4);
	set_meta(&t, oblique, 3);
	CHECK_OK(mg_nifti_write(tmp("c4.nii.gz"), &t, MG_DTYPE_I16, 6, &err), &err);
	CHECK_OK(mg_nifti_read(tmp("c4.nii.gz"), &r, &err), &err);
	CHECK(r.rank == 4 && r.dims[3] == 2 && r.dtype == MG_DTYPE_I16);
	CHECK(r.meta && r.meta->original_channel_dim == -1);
	for (int64_t i = 0; i < 48 && r.rank == 4; i++)
		CHECK_CLOSE(value_at(&r, i), trunc(ramp(MG_DTYPE_F32, i)), 0, 0);
	mg_tensor_release(&t);
	mg_tensor_release(&r);
	/* 2D with a 4x4 affine, and a flipped view (negative stride, offset) */
	int64_t d2[2] = {6, 5};
	double a2[4][4] = {{0.5, 0.1, 0, 3}, {-0.1, 0.7, 0, -4}, {0, 0, 1, 0}, {0, 0, 0, 1}};
	make_tensor(&t, MG_DTYPE_U8, 2, d2);
	set_meta(&t, a2, 2);
	struct mg_tensor v = mg_tensor_share(&t);
	v.offset += (v.dims[0] - 1) * v.strides[0];
	v.strides[0] = -v.strides[0];
	CHECK_OK(mg_nifti_write(tmp("flip2d.nii"), &v, MG_DTYPE_U8, 6, &err), &err);
	CHECK_OK(mg_nifti_read(tmp("flip2d.nii"), &r, &err), &err);
	CHECK(r.rank == 2 && r.dims[0] == 6 && r.dims[1] == 5 && r.meta && r.meta->sdim == 2);
	for (int64_t x = 0; x < 6 && r.rank == 2; x++)
		for (int64_t y = 0; y < 5; y++)
			CHECK_CLOSE(value_at(&r, y * 6 + x), ramp(MG_DTYPE_U8, y * 6 + 5 - x), 0,
				    0);
	for (int i = 0; i < 16 && r.meta; i++)
		CHECK_CLOSE(r.meta->affine[i / 4][i % 4], a2[i / 4][i % 4], 1e-6, 1e-6);
	char codes[4];
	mg_affine_axcodes(r.meta->affine, 2, codes);
	CHECK(strcmp(codes, "RA") == 0, "2D axcodes %s", codes);
	mg_tensor_release(&v);
	mg_tensor_release(&r);
	/* no meta: identity affine; float32 asked to be float16: rounded, stored as float32 */
	mg_meta_release(t.meta);
	t.meta = NULL;
	struct mg_tensor f;
	CHECK_OK(mg_tensor_alloc(&f, MG_DTYPE_F32, 2, d2, &err), &err);
	for (int64_t i = 0; i < 30; i++)
		((float *)mg_tensor_data(&f))[i] = 0.1f * (float)i;
	CHECK_OK(mg_nifti_write(tmp("half.nii"), &f, MG_DTYPE_F16, 6, &err), &err);
	CHECK_OK(mg_nifti_read(tmp("half.nii"), &r, &err), &err);
	CHECK(r.dtype == MG_DTYPE_F32);
	for (int i = 0; i < 16 && r.meta; i++)
		CHECK(r.meta->affine[i / 4][i % 4] == (i % 5 == 0));
	for (int64_t x = 0; x < 6 && r.rank == 2; x++) {
		int64_t idx[2] = {x, 1};
		float want = mg_f16_to_f32(mg_f32_to_f16(0.1f * (float)(x * 5 + 1)));
		CHECK_CLOSE(*(float *)mg_tensor_at(&r, idx), want, 0, 0);
	}
	mg_tensor_release(&r);
	mg_tensor_release(&f);
	/* overwrite in place; no temporary left behind */
	CHECK_OK(mg_nifti_write(tmp("half.nii"), &t, MG_DTYPE_U8, 6, &err), &err);
	CHECK_OK(mg_nifti_read(tmp("half.nii"), &r, &err), &err);
	CHECK(r.dtype == MG_DTYPE_U8);
	mg_tensor_release(&r);
	mg_tensor_release(&t);
}

static void test_gz_levels(void)
{
	int64_t d[3] = {64, 64, 32};
	struct mg_tensor t, r1, r9;
	size_t n1, n9;
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_I16, 3, d, &err), &err);
	int16_t *p = mg_tensor_data(&t);
	for (int64_t i = 0; i < 64 * 64 * 32; i++)
		p[i] = (int16_t)((i % 64) * (i / 4096) + (i * 7919) % 13);
	CHECK_OK(mg_nifti_write(tmp("l1.nii.gz"), &t, MG_DTYPE_I16, 1, &err), &err);
	CHECK_OK(mg_nifti_write(tmp("l9.nii.gz"), &t, MG_DTYPE_I16, 9, &err), &err);
	free(slurp(tmp("l1.nii.gz"), &n1));
	free(slurp(tmp("l9.nii.gz"), &n9));
	CHECK(n9 < n1 && n1 < 64 * 64 * 32 * 2, "level 9: %zu bytes, level 1: %zu", n9, n1);
	CHECK_OK(mg_nifti_read(tmp("l1.nii.gz"), &r1, &err), &err);
	CHECK_OK(mg_nifti_read(tmp("l9.nii.gz"), &r9, &err), &err);
	CHECK(r1.buf && r9.buf &&
	      memcmp(mg_tensor_data(&r1), mg_tensor_data(&r9), 64 * 64 * 64) == 0);
	CHECK_FAILS(mg_nifti_write(tmp("l10.nii.gz"), &t, MG_DTYPE_I16, 10, &err), &err, "level");
	mg_tensor_release(&t);
	mg_tensor_release(&r1);
	mg_tensor_release(&r9);
}

static void test_write_failures(void)
{
	int64_t d[3] = {32, 32, 32};
	struct mg_tensor t;
	char sub[128], path[256];
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_F32, 3, d, &err), &err);
	float *p = mg_tensor_data(&t);
	for (int64_t i = 0; i < 32 * 32 * 32; i++) /* incompressible */
		p[i] = (float)((uint32_t)(i * 2654435761u) >> 7);
	CHECK_FAILS(mg_nifti_write(tmp("nodir/x.nii"), &t, MG_DTYPE_F32, 1, &err), &err,
		    "nodir/x.nii");
	spit(tmp("afile"), "x", 1);
	CHECK_FAILS(mg_nifti_write(tmp("afile/x.nii.gz"), &t, MG_DTYPE_F32, 1, &err), &err,
		    "afile/x.nii.gz");
	CHECK_FAILS(mg_nifti_write(tmp("x.png"), &t, MG_DTYPE_F32, 1, &err), &err, "x.png");
	/* the disk fills up mid-write (a file size limit): error, and nothing left behind */
	snprintf(sub, sizeof sub, "%s/full", tmpdir);
	mkdir(sub, 0777);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	snprintf(path, sizeof path, "%s/big.nii", sub);
	CHECK_FAILS(mg_nifti_write(path, &t, MG_DTYPE_F32, 1, &err), &err, "big.nii");
	snprintf(path, sizeof path, "%s/big.nii.gz", sub);
	CHECK_FAILS(mg_nifti_write(path, &t, MG_DTYPE_F32, 1, &err), &err, "big.nii.gz");
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(count_entries(sub) == 0, "a failed write left %d files", count_entries(sub));
	/* an unwritable folder (root writes anywhere, so only as another user) */
	if (geteuid() != 0) {
		chmod(sub, 0555);
		snprintf(path, sizeof path, "%s/ro.nii", sub);
		CHECK_FAILS(mg_nifti_write(path, &t, MG_DTYPE_F32, 1, &err), &err, "ro.nii");
		chmod(sub, 0755);
		CHECK(count_entries(sub) == 0);
	}
	/* success leaves exactly the file */
	snprintf(path, sizeof path, "%s/ok.nii.gz", sub);
	CHECK_OK(mg_nifti_write(path, &t, MG_DTYPE_F32, 1, &err), &err);
	CHECK(count_entries(sub) == 1);
	mg_tensor_release(&t);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void patch(unsigned char *b, int off, const void *v, size_t n) { memcpy(b + off, v, n); }

/* a copy of qform_only.nii with one header field changed; returns its path */
static const char *patched(const char *name, int off, const void *v, size_t n)
{
	size_t len;
	unsigned char *b = slurp(fixture("qform_only.nii"), &len);
	patch(b, off, v, n);
	spit(tmp(name), b, len);
	free(b);
	return tmp(name);
}

/* read fails with code (0: any) and a message naming the file; so does info when the
 * header itself is bad (header_bad 1), while it still describes files with bad data
 * (0); -1: either (a small gzip file is inflated and checked whole) */
static void expect_fail_info(const char *path, int code, int header_bad)
{
	struct mg_tensor t;
	struct mg_nifti_info info;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int rc = mg_nifti_read(path, &t, &err);
	CHECK(rc != 0 && strstr(err.msg, base) != NULL, "%s: rc %d, '%s'", base, rc, err.msg);
	CHECK(code == 0 || rc == code, "%s: rc %d, want %d ('%s')", base, rc, code, err.msg);
	CHECK(t.buf == NULL && t.meta == NULL);
	mg_err_clear(&err);
	rc = mg_nifti_info(path, &info, &err);
	if (header_bad >= 0)
		CHECK(header_bad ? rc != 0 && strstr(err.msg, base) != NULL : rc == 0,
		      "%s: info rc %d '%s'", base, rc, err.msg);
	mg_err_clear(&err);
}

static void expect_fail(const char *path, int code) { expect_fail_info(path, code, 1); }

/* the data block is bad or missing, the header fine */
static void expect_bad_data(const char *path) { expect_fail_info(path, MG_ERR_FORMAT, 0); }

static void test_bad_input(void)
{
	size_t n, gn;
	unsigned char *good = slurp(fixture("qform_only.nii"), &n);
	unsigned char *gz = slurp(fixture("sform_only.nii.gz"), &gn);
	expect_fail(tmp("missing.nii"), MG_ERR_IO);
	expect_fail(tmpdir, MG_ERR_IO);
	spit(tmp("text.nii"), "this is not an image\n", 21);
	expect_fail(tmp("text.nii"), MG_ERR_FORMAT);
	spit(tmp("empty.nii.gz"), "", 0);
	expect_fail(tmp("empty.nii.gz"), MG_ERR_FORMAT);
	spit(tmp("head200.nii"), good, 200);
	expect_fail(tmp("head200.nii"), MG_ERR_FORMAT);
	spit(tmp("headonly.nii"), good, 352);
	expect_bad_data(tmp("headonly.nii"));
	spit(tmp("halfdata.nii"), good, 352 + 60);
	expect_bad_data(tmp("halfdata.nii"));
	/* the same through gzip, cut short, and with a byte flipped in the deflate stream */
	gzFile g = gzopen(tmp("halfdata.nii.gz"), "wb");
	gzwrite(g, good, 352 + 60);
	gzclose(g);
	expect_bad_data(tmp("halfdata.nii.gz"));
	spit(tmp("cut.nii.gz"), gz, gn / 2);
	expect_fail_info(tmp("cut.nii.gz"), MG_ERR_FORMAT, -1);
	unsigned char *bad = malloc(gn);
	memcpy(bad, gz, gn);
	bad[gn / 2] ^= 0xff;
	spit(tmp("flip.nii.gz"), bad, gn);
	expect_fail_info(tmp("flip.nii.gz"), MG_ERR_FORMAT, -1);
	memcpy(bad, gz, gn);
	bad[gn - 6] ^= 0x01; /* the CRC in the trailer: only the final check sees it */
	spit(tmp("crc.nii.gz"), bad, gn);
	expect_fail_info(tmp("crc.nii.gz"), MG_ERR_FORMAT, -1);
	/* every single-byte flip past the 10-byte gzip header: an error naming the file
	 * (zlib's checks and the CRC catch them all), never a crash */
	int detected = 0;
	for (size_t i = 10; i < gn; i++) {
		struct mg_tensor t;
		memcpy(bad, gz, gn);
		bad[i] ^= 0x5a;
		spit(tmp("flips.nii.gz"), bad, gn);
		if (mg_nifti_read(tmp("flips.nii.gz"), &t, &err) != 0) {
			detected++;
			CHECK(strstr(err.msg, "flips.nii.gz") != NULL, "%s", err.msg);
		}
		mg_err_clear(&err);
		mg_tensor_release(&t);
	}
	CHECK(detected == (int)(gn - 10), "%d of %zu flips detected", detected, gn - 10);
	free(bad);
	/* headers that lie */
	short s;
	float f;
	int32_t i32;
	s = 50;
	expect_bad_data(patched("dims_disagree.nii", OFF_DIM + 2, &s, 2));
	s = 0;
	expect_fail(patched("dim_zero.nii", OFF_DIM + 4, &s, 2), MG_ERR_FORMAT);
	s = -3;
	expect_fail(patched("dim_negative.nii", OFF_DIM + 6, &s, 2), MG_ERR_FORMAT);
	s = 9;
	expect_fail(patched("dim0_9.nii", OFF_DIM, &s, 2), MG_ERR_FORMAT);
	s = 32; /* complex64 */
	expect_fail_info(patched("complex.nii", OFF_DATATYPE, &s, 2), MG_ERR_UNSUPPORTED, 0);
	s = 128; /* rgb24 */
	expect_fail_info(patched("rgb.nii", OFF_DATATYPE, &s, 2), MG_ERR_UNSUPPORTED, 0);
	s = 1280; /* uint64 */
	expect_fail_info(patched("u64.nii", OFF_DATATYPE, &s, 2), MG_ERR_UNSUPPORTED, 0);
	s = 77;
	expect_fail(patched("dtype77.nii", OFF_DATATYPE, &s, 2), MG_ERR_FORMAT);
	f = 100;
	expect_fail(patched("voxoff.nii", OFF_VOX, &f, 4), MG_ERR_FORMAT);
	f = NAN;
	expect_fail(patched("voxnan.nii", OFF_VOX, &f, 4), MG_ERR_FORMAT);
	f = INFINITY;
	patched("inter_inf.nii", OFF_INTER, &f, 4);
	f = 2;
	{
		size_t len;
		unsigned char *b = slurp(tmp("inter_inf.nii"), &len);
		patch(b, OFF_SLOPE, &f, 4);
		spit(tmp("inter_inf.nii"), b, len);
		free(b);
	}
	expect_fail(tmp("inter_inf.nii"), MG_ERR_FORMAT);
	short d5[8] = {5, 5, 4, 3, 2, 2, 1, 1};
	expect_fail_info(patched("five_d_2x2.nii", OFF_DIM, d5, 16), MG_ERR_UNSUPPORTED, 0);
	short huge[8] = {7, 32767, 32767, 32767, 32767, 32767, 32767, 32767};
	expect_fail(patched("overflow.nii", OFF_DIM, huge, 16), MG_ERR_FORMAT);
	short big[8] = {3, 32767, 32767, 32767, 1, 1, 1, 1}; /* 70 TB claimed by a small file */
	expect_bad_data(patched("claims70tb.nii", OFF_DIM, big, 16));
	g = gzopen(tmp("claims70tb.nii.gz"), "wb");
	{
		size_t len;
		unsigned char *b = slurp(tmp("claims70tb.nii"), &len);
		gzwrite(g, b, (unsigned)len);
		free(b);
	}
	gzclose(g);
	expect_bad_data(tmp("claims70tb.nii.gz"));
	expect_fail(patched("nomagic.nii", OFF_MAGIC, "xyz", 4), MG_ERR_FORMAT);
	i32 = 540;
	{
		unsigned char b[600] = {0};
		memcpy(b, &i32, 4);
		memcpy(b + 4, "n+2\0", 4);
		spit(tmp("nifti2.nii"), b, sizeof b);
	}
	expect_fail(tmp("nifti2.nii"), MG_ERR_UNSUPPORTED);
	/* a pair whose .img is missing */
	{
		size_t len;
		unsigned char *b = slurp(fixture("pair.hdr"), &len);
		spit(tmp("lonely.hdr"), b, len);
		free(b);
	}
	expect_fail_info(tmp("lonely.hdr"), MG_ERR_IO, 0);
	/* names do not decide compression: gzip in a .nii and plain data in a .nii.gz load */
	struct mg_tensor t;
	spit(tmp("gz_named.nii"), gz, gn);
	CHECK_OK(mg_nifti_read(tmp("gz_named.nii"), &t, &err), &err);
	mg_tensor_release(&t);
	spit(tmp("plain_named.nii.gz"), good, n);
	CHECK_OK(mg_nifti_read(tmp("plain_named.nii.gz"), &t, &err), &err);
	mg_tensor_release(&t);
	/* the .img name of a pair finds its .hdr */
	CHECK_OK(mg_nifti_read(fixture("pair.img"), &t, &err), &err);
	CHECK(t.dtype == MG_DTYPE_F32 && t.rank == 3);
	mg_tensor_release(&t);
	/* info describes what read refuses */
	struct mg_nifti_info info;
	CHECK_OK(mg_nifti_info(tmp("complex.nii"), &info, &err), &err);
	CHECK(strcmp(info.datatype_name, "complex64") == 0 && info.datatype == 32);
	free(good);
	free(gz);
}

int main(void)
{
	size_t n;
	strcpy(tmpdir, "/tmp/mg_nifti_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	char *text = (char *)slurp(DATA "expected.json", &n);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL, "cannot read %sexpected.json", DATA);
	if (doc) {
		const cJSON *fx;
		cJSON_ArrayForEach(fx, cJSON_GetObjectItem(doc, "fixtures"))
			check_fixture(fx);
		test_orientation(cJSON_GetObjectItem(doc, "orientation"));
		test_monai_writer(cJSON_GetObjectItem(doc, "writes"));
	}
	test_round_trip();
	test_write_layouts();
	test_gz_levels();
	test_write_failures();
	test_bad_input();
	cJSON_Delete(doc);
	free(text);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_done();
}
