/* test_resample.c: the reference resampler (runtime/resample.c) against torch and
 * against properties that hold whatever torch does.
 * 1. Goldens: tests/golden/resample/cases.json (tools/golden/gen_resample.py) holds
 *    MONAI SpatialResample outputs for random affine maps, every (mode, padding_mode,
 *    align_corners), 2D and 3D, float32/int16/uint8 inputs (some strided), size-1 axes.
 *    Each case runs twice: float64 out vs MONAI's float64 result before its cast, and
 *    float32 out vs what MONAI returns.
 * 2. Properties: identity grids copy exactly; integer shifts and half-voxel shifts;
 *    border and zeros agree inside; far reflections are periodic; strided, flipped and
 *    permuted views resample as their contiguous copies; integer inputs and outputs.
 * 3. Bad grids and shapes fail with a message, leaving *out empty. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../runtime/resample.h"
#include "check.h"
#include "npy.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/resample/"

/* Tolerances against torch, and why.
 * float64: MONAI's sampled position goes through normalised coordinates (scale, matrix
 * product, unscale), ours is out_to_in·o directly: they differ by a few ulp of the
 * position, so a value by ~1e-16 times the local slope, which is at most ~2x the input's
 * range per voxel; sums run in torch's order. Measured: <= 4e-15 of the input's range;
 * 1e-13 leaves room for other compilers' contraction (FMA) choices.
 * float32: both round a float64 that agrees to ~1e-15 relative, which can land on the
 * neighbouring float32: one ulp, 2^-23 = 1.2e-7 relative. atol 1e-5 plus rtol 1e-6 is
 * that ulp with margin for the int16 cases (|v| ~ 1000, ulp 6e-5), and far below any
 * real difference (a wrong tap or weight moves values by ~1e-1). */
#define TOL64 1e-13
#define ATOL32 1e-5
#define RTOL32 1e-6

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = 0;
	fclose(f);
	return s;
}

/* Element i (logical, row-major order) of t as a double. */
static double at(const struct mg_tensor *t, int64_t i)
{
	int64_t idx[MG_MAX_RANK];
	for (int d = t->rank - 1; d >= 0; d--) {
		idx[d] = i % t->dims[d];
		i /= t->dims[d];
	}
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

static int same_dims(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	return 1;
}

/* Largest |a - b| over all elements, over `scale`; -1 when shapes differ. */
static double max_err(const struct mg_tensor *a, const struct mg_tensor *b, double scale)
{
	if (!same_dims(a, b))
		return -1;
	double m = 0;
	for (int64_t i = 0; i < mg_tensor_numel(a); i++)
		if (fabs(at(a, i) - at(b, i)) > m)
			m = fabs(at(a, i) - at(b, i));
	return m / scale;
}

/* max(1, max |t|): the input's range, which bounds how far a position error moves a
 * value (slopes are at most ~2 range per voxel). */
static double range(const struct mg_tensor *t)
{
	double m = 1;
	for (int64_t i = 0; i < mg_tensor_numel(t); i++)
		m = fabs(at(t, i)) > m ? fabs(at(t, i)) : m;
	return m;
}

/* Number of elements where a and b are not bitwise-equal as doubles; -1 on shape. */
static int64_t ndiff(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (!same_dims(a, b))
		return -1;
	int64_t n = 0;
	for (int64_t i = 0; i < mg_tensor_numel(a); i++)
		n += memcmp(&(double){at(a, i)}, &(double){at(b, i)}, sizeof(double)) != 0;
	return n;
}

/* A (C, dims...) tensor of `dtype` filled from a fixed generator: values in [-2, 2) for
 * floats, [lo, lo + 200) for integers. */
static struct mg_tensor make(enum mg_dtype dtype, int rank, const int64_t *dims, unsigned seed)
{
	struct mg_tensor t;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&t, dtype, rank, dims, &e), &e);
	char *p = mg_tensor_data(&t);
	int isf = mg_dtype_is_float(dtype);
	double lo = dtype == MG_DTYPE_U8 ? 0 : -100;
	for (int64_t i = 0; i < mg_tensor_numel(&t); i++) {
		seed = seed * 1103515245u + 12345u;
		double u = (double)((seed >> 8) & 0xffff) / 65536.0;
		double v = isf ? 4 * u - 2 : lo + floor(200 * u);
		mg_dtype_store(dtype, p + i * (int64_t)mg_dtype_size(dtype), v);
	}
	return t;
}

static void set_map(struct mg_grid *g, const double m[3][4])
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			g->out_to_in[i][j] = m[i][j];
}

/* ---- 1. goldens ---------------------------------------------------------------------- */

static int grid_from_json(const cJSON *c, struct mg_grid *g)
{
	memset(g, 0, sizeof *g);
	g->sdim = cJSON_GetObjectItem(c, "sdim")->valueint;
	const cJSON *ins = cJSON_GetObjectItem(c, "in_shape"), *outs =
		cJSON_GetObjectItem(c, "out_shape"), *m = cJSON_GetObjectItem(c, "out_to_in");
	if (cJSON_GetArraySize(ins) != g->sdim || cJSON_GetArraySize(outs) != g->sdim ||
	    cJSON_GetArraySize(m) != 4)
		return -1;
	for (int i = 0; i < g->sdim; i++) {
		g->in_shape[i] = cJSON_GetArrayItem(ins, i)->valueint;
		g->out_shape[i] = cJSON_GetArrayItem(outs, i)->valueint;
	}
	for (int r = 0; r < 4; r++) {
		const cJSON *row = cJSON_GetArrayItem(m, r);
		for (int k = 0; k < 4; k++)
			g->out_to_in[r][k] = cJSON_GetArrayItem(row, k)->valuedouble;
	}
	int mode = mg_interp_parse(cJSON_GetStringValue(cJSON_GetObjectItem(c, "mode")));
	int pad = mg_pad_parse(cJSON_GetStringValue(cJSON_GetObjectItem(c, "padding_mode")));
	if (mode < 0 || pad < 0)
		return -1;
	g->mode = mode;
	g->padding = pad;
	g->align_corners = cJSON_IsTrue(cJSON_GetObjectItem(c, "align_corners"));
	return 0;
}

static void test_goldens(void)
{
	char *text = read_text(GOLDEN "cases.json");
	CHECK(text != NULL, "cannot read " GOLDEN "cases.json");
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
	CHECK(cJSON_GetArraySize(cases) >= 50, "too few cases");
	const cJSON *ver = cJSON_GetObjectItem(doc, "versions");
	if (ver)
		printf("golden cases from MONAI %s, torch %s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "monai")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(ver, "torch")));
	double worst64 = 0;
	int n = 0, n32diff = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		struct mg_grid g;
		CHECK(name && grid_from_json(c, &g) == 0, "malformed case %s", name ? name : "?");
		if (!name || grid_from_json(c, &g))
			continue;
		char path[3][512];
		const char *keys[3] = {"input", "output", "output64"};
		struct mg_tensor t[3] = {0}, y32 = {0}, y64 = {0};
		struct mg_err e = {0};
		int ok = 1;
		for (int k = 0; k < 3; k++) {
			snprintf(path[k], sizeof path[k], GOLDEN "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(c, keys[k])));
			int rc = npy_read(path[k], &t[k], &e);
			CHECK(rc == 0, "%s: %s", name, e.msg);
			ok &= rc == 0;
		}
		if (ok) {
			CHECK_OK(mg_resample(&t[0], &g, MG_DTYPE_F64, &y64, &e), &e);
			CHECK_OK(mg_resample(&t[0], &g, MG_DTYPE_F32, &y32, &e), &e);
			double err64 = max_err(&y64, &t[2], range(&t[0]));
			CHECK(err64 >= 0 && err64 <= TOL64, "%s: float64 off by %g of the input's "
			      "range", name, err64);
			if (getenv("MG_VERBOSE")) /* per-case errors, to revisit TOL64 */
				printf("%-36s %.3g\n", name, err64);
			if (err64 > worst64)
				worst64 = err64;
			int same = same_dims(&y32, &t[1]);
			CHECK(y32.dtype == MG_DTYPE_F32 && same, "%s: shape", name);
			for (int64_t i = 0; same && i < mg_tensor_numel(&y32); i++)
				CHECK_CLOSE(at(&y32, i), at(&t[1], i), ATOL32, RTOL32);
			n32diff += ndiff(&y32, &t[1]) != 0;
			n++;
		}
		for (int k = 0; k < 3; k++)
			mg_tensor_release(&t[k]);
		mg_tensor_release(&y32);
		mg_tensor_release(&y64);
	}
	printf("%d golden cases: float64 within %.2g of torch (of the input's range); float32 "
	       "bitwise equal in %d of them\n",
	       n, worst64, n - n32diff);
	cJSON_Delete(doc);
}

/* ---- 2. properties ------------------------------------------------------------------- */

/* Every mode, padding and align_corners copies the input exactly through an identity
 * grid: linear and cubic weights at t = 0 are exactly (1, 0) and (0, 1, 0, 0). */
static void test_identity(void)
{
	const int64_t shapes[3][4] = {{2, 7, 6}, {2, 5, 4, 3}, {1, 4, 1, 3}};
	for (int s = 0; s < 3; s++) {
		int rank = s == 0 ? 3 : 4;
		struct mg_tensor x = make(MG_DTYPE_F32, rank, shapes[s], 7u + (unsigned)s);
		for (int mode = 0; mode < 3; mode++)
			for (int pad = 0; pad < 3; pad++)
				for (int ac = 0; ac < 2; ac++) {
					/* with align_corners=True a size-1 axis is not the identity
					 * in MONAI either (resample.c, effective_map) */
					if (s == 2 && ac)
						continue;
					struct mg_grid g;
					mg_grid_identity(&g, &x);
					g.mode = mode;
					g.padding = pad;
					g.align_corners = ac;
					struct mg_tensor y;
					struct mg_err e = {0};
					CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
					CHECK(ndiff(&x, &y) == 0,
					      "identity, shape %d mode %d pad %d ac %d", s, mode,
					      pad, ac);
					mg_tensor_release(&y);
				}
		mg_tensor_release(&x);
	}
}

/* Nearest through an integer shift is a shifted copy: zeros outside, or the clamped
 * index with border. */
static void test_integer_shift(void)
{
	const int64_t dims[4] = {1, 5, 4, 3};
	const int64_t sh[3] = {2, -1, 1};
	struct mg_tensor x = make(MG_DTYPE_F32, 4, dims, 11);
	for (int pad = MG_PAD_ZEROS; pad <= MG_PAD_BORDER; pad++) {
		struct mg_grid g;
		mg_grid_identity(&g, &x);
		g.mode = MG_INTERP_NEAREST;
		g.padding = pad;
		for (int i = 0; i < 3; i++) {
			g.out_to_in[i][3] = (double)sh[i];
			g.out_shape[i] = 4;
		}
		struct mg_tensor y;
		struct mg_err e = {0};
		CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
		int bad = 0;
		for (int64_t a = 0; a < 4; a++)
			for (int64_t b = 0; b < 4; b++)
				for (int64_t c = 0; c < 4; c++) {
					int64_t o[4] = {0, a, b, c}, i[4] = {0};
					int inside = 1;
					for (int d = 0; d < 3; d++) {
						i[1 + d] = o[1 + d] + sh[d];
						int64_t n = dims[1 + d];
						if (i[1 + d] < 0 || i[1 + d] >= n) {
							inside = 0;
							i[1 + d] = i[1 + d] < 0 ? 0 : n - 1;
						}
					}
					float want = inside || pad == MG_PAD_BORDER
							     ? *(float *)mg_tensor_at(&x, i)
							     : 0.0f;
					bad += *(float *)mg_tensor_at(&y, o) != want;
				}
		CHECK(bad == 0, "integer shift, padding %d: %d voxels differ", pad, bad);
		mg_tensor_release(&y);
	}
	mg_tensor_release(&x);
}

/* A half-voxel shift along axis 1: linear gives the mean of the two neighbours (half the
 * last one with zeros), nearest rounds each .5 to the even index. */
static void test_half_shift(void)
{
	const int64_t dims[3] = {2, 4, 6};
	struct mg_tensor x = make(MG_DTYPE_F64, 3, dims, 5);
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	g.out_to_in[1][3] = 0.5;
	g.padding = MG_PAD_ZEROS;
	struct mg_tensor lin, near;
	struct mg_err e = {0};
	g.mode = MG_INTERP_LINEAR;
	CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F64, &lin, &e), &e);
	g.mode = MG_INTERP_NEAREST;
	CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F64, &near, &e), &e);
	for (int64_t c = 0; c < 2; c++)
		for (int64_t i = 0; i < 4; i++)
			for (int64_t j = 0; j < 6; j++) {
				int64_t o[3] = {c, i, j}, n1[3] = {c, i, j + 1};
				int64_t ev[3] = {c, i, j % 2 ? j + 1 : j};
				double a = *(double *)mg_tensor_at(&x, o);
				double b = j + 1 < 6 ? *(double *)mg_tensor_at(&x, n1) : 0;
				double got = *(double *)mg_tensor_at(&lin, o);
				CHECK_CLOSE(got, 0.5 * a + 0.5 * b, 1e-15, 0);
				double want = ev[2] < 6 ? *(double *)mg_tensor_at(&x, ev) : 0;
				CHECK(*(double *)mg_tensor_at(&near, o) == want,
				      "nearest at %lld.5 should read index %lld", (long long)j,
				      (long long)ev[2]);
			}
	mg_tensor_release(&lin);
	mg_tensor_release(&near);
	mg_tensor_release(&x);
}

/* Zeros and border differ only where a tap falls outside: identical wherever the sampled
 * position is inside [0, n-1] on every axis, and different somewhere else. */
static void test_border_vs_zeros(void)
{
	const int64_t dims[4] = {1, 6, 5, 4};
	struct mg_tensor x = make(MG_DTYPE_F32, 4, dims, 3);
	struct mg_grid g;
	mg_grid_identity(&g, &x);
	const double m[3][4] = {{0.9, -0.4, 0.1, 0.7}, {0.45, 0.95, 0, -0.9}, {0, 0.2, 1.2, 0.4}};
	set_map(&g, m);
	for (int i = 0; i < 3; i++)
		g.out_shape[i] = 6;
	for (int mode = MG_INTERP_NEAREST; mode <= MG_INTERP_LINEAR; mode++) {
		struct mg_tensor yz, yb;
		struct mg_err e = {0};
		g.mode = mode;
		g.padding = MG_PAD_ZEROS;
		CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &yz, &e), &e);
		g.padding = MG_PAD_BORDER;
		CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &yb, &e), &e);
		int inside_bad = 0, outside_diff = 0;
		for (int64_t v = 0; v < 216; v++) {
			double o[3] = {(double)(v / 36), (double)(v / 6 % 6), (double)(v % 6)};
			int inside = 1;
			for (int d = 0; d < 3; d++) {
				double q = m[d][0] * o[0] + m[d][1] * o[1] + m[d][2] * o[2] +
					   m[d][3];
				/* nearest reads inside up to half a voxel beyond the centres */
				double slack = mode == MG_INTERP_NEAREST ? 0.49 : 0;
				inside &= q >= -slack && q <= (double)(dims[1 + d] - 1) + slack;
			}
			int same = at(&yz, v) == at(&yb, v);
			inside_bad += inside && !same;
			outside_diff += !inside && !same;
		}
		CHECK(inside_bad == 0, "mode %d: %d inside voxels differ", mode, inside_bad);
		CHECK(outside_diff > 10, "mode %d: only %d outside voxels differ", mode,
		      outside_diff);
		mg_tensor_release(&yz);
		mg_tensor_release(&yb);
	}
	mg_tensor_release(&x);
}

/* Reflection far outside is periodic: shifting by whole periods (2n with
 * align_corners=False, 2(n-1) with True) changes nothing, and a shift by one period
 * mirrored about the low edge lands back on itself. */
static void test_reflection_period(void)
{
	const int64_t dims[3] = {1, 5, 4};
	struct mg_tensor x = make(MG_DTYPE_F32, 3, dims, 9);
	for (int ac = 0; ac < 2; ac++)
		for (int mode = 0; mode < 3; mode++) {
			struct mg_grid g;
			mg_grid_identity(&g, &x);
			g.mode = mode;
			g.padding = MG_PAD_REFLECTION;
			g.align_corners = ac;
			g.out_to_in[0][3] = -3.0 * (ac ? 8 : 10);
			g.out_to_in[1][3] = 7.0 * (ac ? 6 : 8);
			struct mg_tensor y;
			struct mg_err e = {0};
			CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
			CHECK(ndiff(&x, &y) == 0, "reflection period, mode %d ac %d", mode, ac);
			mg_tensor_release(&y);
			/* q = -1 - o (ac False) or -o (True) is the mirror image of o about the
			 * low edge, which reflection takes back to o */
			g.out_to_in[1][3] = 0;
			g.out_to_in[0][0] = -1;
			g.out_to_in[0][3] = ac ? 0 : -1;
			CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
			CHECK(ndiff(&x, &y) == 0, "mirror about the low edge, mode %d ac %d", mode,
			      ac);
			mg_tensor_release(&y);
		}
	mg_tensor_release(&x);
}

/* A permuted, flipped, strided view resamples exactly as its contiguous copy. */
static void test_strided(void)
{
	/* storage (C, Z, Y, X) with x fastest, as NIfTI loads are; view (C, X, Y, Z), then
	 * flip Y: negative stride, offset at the old last row */
	const int64_t sdims[4] = {2, 3, 5, 6};
	struct mg_tensor v = make(MG_DTYPE_F32, 4, sdims, 21);
	mg_tensor_movedim(&v, 3, 1); /* (C, X, Z, Y) */
	mg_tensor_movedim(&v, 3, 2); /* (C, X, Y, Z) */
	v.offset += (v.dims[2] - 1) * v.strides[2];
	v.strides[2] = -v.strides[2];
	struct mg_tensor dense;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_contiguous(&dense, &v, &e), &e);
	CHECK(!mg_tensor_is_contiguous(&v) && mg_tensor_is_contiguous(&dense));
	struct mg_grid g;
	mg_grid_identity(&g, &v);
	const double m[3][4] = {
		{0.8, 0.3, 0.1, 0.2}, {-0.3, 0.9, 0.2, 0.8}, {0.1, -0.1, 1.1, -0.5}};
	set_map(&g, m);
	g.out_shape[0] = 5;
	g.out_shape[1] = 4;
	g.out_shape[2] = 4;
	for (int mode = 0; mode < 3; mode++)
		for (int pad = 0; pad < 3; pad++) {
			g.mode = mode;
			g.padding = pad;
			struct mg_tensor a, b;
			CHECK_OK(mg_resample(&v, &g, MG_DTYPE_F32, &a, &e), &e);
			CHECK_OK(mg_resample(&dense, &g, MG_DTYPE_F32, &b, &e), &e);
			CHECK(ndiff(&a, &b) == 0, "strided view, mode %d pad %d", mode, pad);
			mg_tensor_release(&a);
			mg_tensor_release(&b);
		}
	mg_tensor_release(&dense);
	mg_tensor_release(&v);
}

/* int16 and uint8 inputs read exactly (same result as their float32 copy); integer
 * outputs are the float64 result stored as torch's .to() does (truncation). */
static void test_integer_dtypes(void)
{
	const int64_t dims[4] = {1, 5, 4, 3};
	const enum mg_dtype types[2] = {MG_DTYPE_I16, MG_DTYPE_U8};
	const double m[3][4] = {{0.7, 0.2, 0, 0.6}, {-0.2, 0.8, 0.1, 0.3}, {0, 0.1, 0.9, 0.2}};
	for (int k = 0; k < 2; k++) {
		struct mg_tensor xi = make(types[k], 4, dims, 13), xf, yi, yf, y64, yint;
		struct mg_err e = {0};
		CHECK_OK(mg_tensor_cast(&xf, &xi, MG_DTYPE_F32, &e), &e);
		struct mg_grid g;
		mg_grid_identity(&g, &xi);
		set_map(&g, m);
		g.padding = MG_PAD_ZEROS;
		CHECK_OK(mg_resample(&xi, &g, MG_DTYPE_F32, &yi, &e), &e);
		CHECK_OK(mg_resample(&xf, &g, MG_DTYPE_F32, &yf, &e), &e);
		CHECK(ndiff(&yi, &yf) == 0, "%s input differs from its float32 copy",
		      mg_dtype_name(types[k]));
		CHECK_OK(mg_resample(&xi, &g, MG_DTYPE_F64, &y64, &e), &e);
		CHECK_OK(mg_resample(&xi, &g, types[k], &yint, &e), &e);
		int bad = 0, frac = 0;
		for (int64_t i = 0; i < mg_tensor_numel(&y64); i++) {
			char want[8];
			mg_dtype_store(types[k], want, at(&y64, i));
			bad += at(&yint, i) != mg_dtype_load(types[k], want);
			frac += at(&y64, i) != floor(at(&y64, i));
		}
		CHECK(bad == 0 && frac > 0, "%s output: %d differ", mg_dtype_name(types[k]), bad);
		struct mg_tensor *all[] = {&xi, &xf, &yi, &yf, &y64, &yint};
		for (int i = 0; i < 6; i++)
			mg_tensor_release(all[i]);
	}
}

/* Empty outputs are fine: a 0 output axis, or no channels. */
static void test_empty(void)
{
	const int64_t d1[3] = {2, 4, 5}, d0[3] = {0, 4, 5};
	struct mg_tensor x = make(MG_DTYPE_F32, 3, d1, 1), z = make(MG_DTYPE_F32, 3, d0, 1);
	struct mg_grid g;
	struct mg_tensor y;
	struct mg_err e = {0};
	mg_grid_identity(&g, &x);
	g.out_shape[1] = 0;
	CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
	CHECK(y.rank == 3 && y.dims[0] == 2 && y.dims[1] == 4 && y.dims[2] == 0);
	mg_tensor_release(&y);
	mg_grid_identity(&g, &z);
	CHECK_OK(mg_resample(&z, &g, MG_DTYPE_F32, &y, &e), &e);
	CHECK(y.rank == 3 && y.dims[0] == 0 && mg_tensor_numel(&y) == 0);
	mg_tensor_release(&y);
	mg_tensor_release(&x);
	mg_tensor_release(&z);
}

/* A NaN or enormous matrix reads outside (0), never undefined float-to-int casts. */
static void test_wild_matrix(void)
{
	const int64_t dims[3] = {1, 4, 4};
	struct mg_tensor x = make(MG_DTYPE_F32, 3, dims, 2);
	const double vals[3] = {NAN, 1e300, -INFINITY};
	for (int k = 0; k < 3; k++)
		for (int mode = 0; mode < 3; mode++)
			for (int pad = 0; pad < 3; pad++) {
				struct mg_grid g;
				struct mg_tensor y;
				struct mg_err e = {0};
				mg_grid_identity(&g, &x);
				g.mode = mode;
				g.padding = pad;
				g.out_to_in[0][3] = vals[k];
				CHECK_OK(mg_resample(&x, &g, MG_DTYPE_F32, &y, &e), &e);
				mg_tensor_release(&y);
			}
	mg_tensor_release(&x);
}

/* ---- 3. errors ----------------------------------------------------------------------- */

static void test_errors(void)
{
	const int64_t d3[4] = {1, 4, 3, 2}, d2[3] = {1, 4, 3}, de[3] = {1, 0, 3};
	struct mg_tensor x3 = make(MG_DTYPE_F32, 4, d3, 1), x2 = make(MG_DTYPE_F32, 3, d2, 1);
	struct mg_tensor xe = make(MG_DTYPE_F32, 3, de, 1);
	struct mg_tensor y = {.rank = 99};
	struct mg_grid g;
	struct mg_err e = {0};

	mg_grid_identity(&g, &x2);
	CHECK_FAILS(mg_resample(&x3, &g, MG_DTYPE_F32, &y, &e), &e, "rank 3, got rank 4");
	CHECK(y.buf == NULL && y.rank == 0, "*out is left empty on error");
	g.in_shape[1] = 7;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "was built for 7");
	mg_grid_identity(&g, &x2);
	g.sdim = 4;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "expected 2D or 3D");
	mg_grid_identity(&g, &x2);
	g.out_shape[0] = -1;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "has size -1");
	g.out_shape[0] = (int64_t)1 << 40;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "outside 0..");
	mg_grid_identity(&g, &x3);
	g.out_shape[0] = g.out_shape[1] = g.out_shape[2] = (int64_t)1 << 20;
	CHECK_FAILS(mg_resample(&x3, &g, MG_DTYPE_F32, &y, &e), &e, "more than");
	mg_grid_identity(&g, &x2);
	g.mode = (enum mg_interp)7;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "interpolation mode 7");
	mg_grid_identity(&g, &x2);
	g.padding = (enum mg_pad)9;
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_F32, &y, &e), &e, "padding mode 9");
	mg_grid_identity(&g, &x2);
	CHECK_FAILS(mg_resample(&x2, &g, MG_DTYPE_COUNT, &y, &e), &e, "unknown dtype");
	mg_grid_identity(&g, &xe);
	g.out_shape[0] = 3;
	CHECK_FAILS(mg_resample(&xe, &g, MG_DTYPE_F32, &y, &e), &e, "nothing to sample");
	CHECK(y.buf == NULL);
	CHECK(mg_interp_parse("bicubic") == MG_INTERP_CUBIC && mg_interp_parse("area") == -1);
	CHECK(mg_pad_parse("reflection") == MG_PAD_REFLECTION && mg_pad_parse("wrap") == -1);
	mg_tensor_release(&x3);
	mg_tensor_release(&x2);
	mg_tensor_release(&xe);
}

int main(void)
{
	test_goldens();
	test_identity();
	test_integer_shift();
	test_half_shift();
	test_border_vs_zeros();
	test_reflection_period();
	test_strided();
	test_integer_dtypes();
	test_empty();
	test_wild_matrix();
	test_errors();
	return check_done();
}
