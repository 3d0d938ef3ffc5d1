/* synth.c: `mgc synth`, a synthetic abdominal CT dataset in the Medical Segmentation
 * Decathlon layout (imagesTr/, labelsTr/, imagesTs/, dataset.json) for demos, tests and
 * benchmarks.
 * Invariant: every output byte is a function of (seed, case index, options) only: case
 * parameters come from a splitmix64 stream keyed by (seed, case) and voxel noise is a
 * counter-based hash of the voxel's index, so thread count and order change nothing.
 * Read next: docs/synth.md; runtime/nifti.c writes the files. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../runtime/runtime.h"
#include "mgc.h"

#define SYNTH_MAX_N 10000
#define SYNTH_MAX_DIM 4096
#define SYNTH_MAX_VOXELS (INT64_C(1) << 30)
#define SYNTH_PATH 4096

static const char synth_usage[] =
	"usage: mgc synth DIR [options]\n"
	"Writes a synthetic CT dataset in the Medical Segmentation Decathlon layout:\n"
	"DIR/imagesTr, DIR/labelsTr, DIR/imagesTs and DIR/dataset.json.\n"
	"  --n N             training cases (default 8); max(1, N/4) test cases are added\n"
	"  --size XxYxZ      nominal volume size in voxels (default 128x128x64); each case\n"
	"                    varies by +-10%% in x and y, +-20%% in z\n"
	"  --spacing XxYxZ   voxel size in mm (default 0.8x0.8x2.5)\n"
	"  --seed S          random seed (default 0); same seed, same bytes\n"
	"  --oblique DEG     rotation about z (DEG/4 about x) of the affine (default 5)\n"
	"  --gz-level L      gzip level 1..9 (default 1; --gz_level as in mgc run)\n"
	"  --plain           write .nii instead of .nii.gz\n"
	"  --threads T       worker threads (default 0: one per core)\n"
	"  --help            this text\n";

struct synth_opts {
	const char *dir;
	int n;
	int64_t size[3];
	double spacing[3];
	uint64_t seed;
	double oblique;
	int gz_level;
	int plain;
	int threads; /* 0: one per core */
};

/* ---- tissue classes ---------------------------------------------------------------- */

/* X(class, HU, texture amplitude in HU, label). A voxel's HU is its class's HU (jittered
 * per case) + amplitude * (sum of three axis sinusoids in [-3, 3]) + noise. */
#define SYNTH_CLASSES(X)              \
	X(AIR, -1000, 0, 0)           \
	X(FAT, -100, 4, 0)            \
	X(TISSUE, 40, 4, 0)           \
	X(LUNG, -850, 15, 0)          \
	X(RIB, 700, 40, 0)            \
	X(LIVER, 60, 3, 1)            \
	X(SPLEEN, 50, 3, 2)           \
	X(KIDNEY_R, 30, 3, 3)         \
	X(KIDNEY_L, 30, 3, 4)         \
	X(CORTEX, 900, 30, 5)         \
	X(MARROW, 250, 20, 5)         \
	X(DISC, 90, 4, 0)

enum synth_class {
#define X(c, hu, tex, lab) SYNTH_##c,
	SYNTH_CLASSES(X)
#undef X
	SYNTH_NCLASS
};

static const float synth_hu[] = {
#define X(c, hu, tex, lab) hu,
	SYNTH_CLASSES(X)
#undef X
};
static const float synth_tex[] = {
#define X(c, hu, tex, lab) tex,
	SYNTH_CLASSES(X)
#undef X
};
static const uint8_t synth_label[] = {
#define X(c, hu, tex, lab) lab,
	SYNTH_CLASSES(X)
#undef X
};

/* Label names as dataset.json lists them; index = label value. */
static const char *const synth_label_names[] = {"background", "liver", "spleen",
					       "right kidney", "left kidney", "spine"};
#define SYNTH_NLABEL 6

/* Ellipsoids in body coordinates: u across (+ patient left), v front to back
 * (+ posterior), both in units of the body's half-axes, and w along z (+ superior) in
 * units of the volume's half-length. Drawn in order: later ones cover earlier ones. */
struct synth_organ {
	int cls;
	double u, v, w, ru, rv, rw;
};
static const struct synth_organ synth_organs[] = {
	{SYNTH_LUNG, -0.45, 0.05, 1.05, 0.33, 0.55, 0.45},
	{SYNTH_LUNG, 0.45, 0.05, 1.05, 0.33, 0.55, 0.45},
	{SYNTH_KIDNEY_R, -0.40, 0.45, -0.35, 0.13, 0.20, 0.30},
	{SYNTH_KIDNEY_L, 0.42, 0.45, -0.25, 0.13, 0.20, 0.30},
	{SYNTH_LIVER, -0.38, -0.05, 0.30, 0.42, 0.60, 0.50},
	{SYNTH_SPLEEN, 0.55, 0.35, 0.30, 0.16, 0.26, 0.28},
};
#define SYNTH_NORGAN (int)(sizeof synth_organs / sizeof synth_organs[0])

/* ---- random numbers ---------------------------------------------------------------- */

#define SYNTH_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

/* splitmix64's finalizer: synth_mix(key + i * GOLDEN) is output i of the stream `key`. */
static inline uint64_t synth_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double synth_uniform(uint64_t *state, double lo, double hi)
{
	*state += SYNTH_GOLDEN;
	return lo + (hi - lo) * (double)(synth_mix(*state) >> 11) * 0x1p-53;
}

/* ---- one case ---------------------------------------------------------------------- */

struct synth_case {
	int64_t dims[3];
	double affine[4][4];
	uint64_t noise_key;
	float hu[SYNTH_NCLASS];
	double a, b, cx, cy;       /* body half-axes and centre, mm from the volume centre */
	double fat;                /* fat layer thickness, mm */
	double body_freq, body_phase;
	struct synth_organ organ[SYNTH_NORGAN];
	double wobble[SYNTH_NORGAN]; /* organ centre sway along z, in units of a */
	double spine_u, spine_v;
	double rib_phase, disc_phase; /* mm */
	double tex_freq[3], tex_phase[3]; /* texture sinusoids, radians per mm */
};

static int64_t synth_jitter_dim(int64_t n, double f)
{
	int64_t d = (int64_t)lround((double)n * f);
	int64_t floor_ = n < 8 ? n : 8;
	return d < floor_ ? floor_ : d;
}

/* RAS affine of a DICOM-like LPS volume: axes x and y point to patient left and posterior,
 * rotated by the oblique angle about z and a quarter of it about x; the volume centre
 * lands on `centre` (mm). */
static void synth_affine(const struct synth_opts *o, const int64_t d[3], const double centre[3],
			 double A[4][4])
{
	double t = o->oblique * M_PI / 180, p = t / 4;
	double rz[3][3] = {{cos(t), -sin(t), 0}, {sin(t), cos(t), 0}, {0, 0, 1}};
	double rx[3][3] = {{1, 0, 0}, {0, cos(p), -sin(p)}, {0, sin(p), cos(p)}};
	double diag[3] = {-o->spacing[0], -o->spacing[1], o->spacing[2]};
	memset(A, 0, 16 * sizeof(double));
	for (int r = 0; r < 3; r++) {
		A[r][3] = centre[r];
		for (int c = 0; c < 3; c++) {
			double rc = 0;
			for (int k = 0; k < 3; k++)
				rc += rz[r][k] * rx[k][c];
			A[r][c] = rc * diag[c];
		}
		for (int c = 0; c < 3; c++)
			A[r][3] -= A[r][c] * (double)(d[c] - 1) / 2;
	}
	A[3][3] = 1;
}

static void synth_case_init(const struct synth_opts *o, int index, struct synth_case *c)
{
	uint64_t st = synth_mix(o->seed ^ synth_mix((uint64_t)index + SYNTH_GOLDEN));
	double jit[3] = {0.1, 0.1, 0.2};
	memset(c, 0, sizeof *c);
	for (int i = 0; i < 3; i++)
		c->dims[i] = synth_jitter_dim(o->size[i],
					      synth_uniform(&st, 1 - jit[i], 1 + jit[i]));
	/* the scanner's table position: a realistic origin, different in every case */
	double centre[3] = {synth_uniform(&st, -5, 5), synth_uniform(&st, 10, 40),
			    synth_uniform(&st, -300, -150)};
	synth_affine(o, c->dims, centre, c->affine);
	c->noise_key = synth_mix(st + 1);
	for (int k = 0; k < SYNTH_NCLASS; k++)
		c->hu[k] = synth_hu[k] + (k == SYNTH_AIR ? 0 : (float)synth_uniform(&st, -4, 4));

	double fov_x = (double)c->dims[0] * o->spacing[0];
	double fov_y = (double)c->dims[1] * o->spacing[1];
	c->a = 0.44 * fov_x * synth_uniform(&st, 0.92, 1.02);
	c->b = 0.34 * fov_y * synth_uniform(&st, 0.92, 1.05);
	c->cx = synth_uniform(&st, -0.01, 0.01) * fov_x;
	c->cy = synth_uniform(&st, 0.02, 0.05) * fov_y;
	c->fat = 0.07 * c->a;
	c->body_freq = synth_uniform(&st, 1.5, 3);
	c->body_phase = synth_uniform(&st, 0, 2 * M_PI);
	for (int k = 0; k < SYNTH_NORGAN; k++) {
		struct synth_organ g = synth_organs[k];
		g.u += synth_uniform(&st, -0.04, 0.04);
		g.v += synth_uniform(&st, -0.04, 0.04);
		g.w += synth_uniform(&st, -0.08, 0.08);
		g.ru *= synth_uniform(&st, 0.88, 1.12);
		g.rv *= synth_uniform(&st, 0.88, 1.12);
		g.rw *= synth_uniform(&st, 0.88, 1.12);
		c->organ[k] = g;
		c->wobble[k] = synth_uniform(&st, -0.04, 0.04);
	}
	c->spine_u = synth_uniform(&st, -0.02, 0.02);
	c->spine_v = synth_uniform(&st, 0.58, 0.64);
	c->rib_phase = synth_uniform(&st, 0, 25);
	c->disc_phase = synth_uniform(&st, 0, 32);
	for (int i = 0; i < 3; i++) {
		c->tex_freq[i] = 2 * M_PI / synth_uniform(&st, 30, 70);
		c->tex_phase[i] = synth_uniform(&st, 0, 2 * M_PI);
	}
}

/* ---- rendering --------------------------------------------------------------------- */

/* Where a case is drawn: the volumes and the texture tables of one case in flight. */
struct synth_slot {
	struct mg_buffer *img, *lab;
	float *tab[3]; /* per-axis texture sinusoid, one value per voxel index */
};

/* One row being painted: classes per voxel and the mapping from mm to voxel index. */
struct synth_row {
	uint8_t *cls;
	int64_t nx;
	double ci, sx;  /* voxel index of x = 0 mm, mm per voxel */
	int64_t lo, hi; /* the body's span: organs never leave it */
};

/* The voxels whose centres lie in [x0, x1] mm, within the row's [lo, hi]; 0 if none. */
static int synth_range(const struct synth_row *r, double x0, double x1, int64_t *i0,
		       int64_t *i1)
{
	double f0 = ceil(x0 / r->sx + r->ci), f1 = floor(x1 / r->sx + r->ci);
	*i0 = f0 < (double)r->lo ? r->lo : (int64_t)f0;
	*i1 = f1 > (double)r->hi ? r->hi : (int64_t)f1;
	return *i0 <= *i1;
}

static void synth_span(struct synth_row *r, double x0, double x1, int cls)
{
	int64_t i0, i1;
	if (synth_range(r, x0, x1, &i0, &i1))
		memset(r->cls + i0, cls, (size_t)(i1 - i0 + 1));
}

/* Half-width in x of the ellipse (ra, rb) at v = dy / rb, or -1 when the row misses it. */
static double synth_half(double ra, double rb, double dy)
{
	double v = dy / rb;
	return v * v < 1 ? ra * sqrt(1 - v * v) : -1;
}

static double synth_mod(double x, double p) { return x - p * floor(x / p); }

/* Paints the classes of row (y, z) (mm from the volume centre; w = z / half-length). */
static void synth_paint(const struct synth_case *c, struct synth_row *r, double y, double z,
			double w)
{
	memset(r->cls, SYNTH_AIR, (size_t)r->nx);
	double s = 1 + 0.04 * sin(c->body_freq * w + c->body_phase);
	double a = c->a * s, b = c->b * s, dy = y - c->cy;
	double h = synth_half(a, b, dy);
	int64_t lo, hi;
	r->lo = 0;
	r->hi = r->nx - 1;
	if (h < 0 || !synth_range(r, c->cx - h, c->cx + h, &lo, &hi))
		return;
	r->lo = lo;
	r->hi = hi;
	memset(r->cls + r->lo, SYNTH_FAT, (size_t)(r->hi - r->lo + 1));
	if ((h = synth_half(a - c->fat, b - c->fat, dy)) >= 0)
		synth_span(r, c->cx - h, c->cx + h, SYNTH_TISSUE);

	for (int k = 0; k < SYNTH_NORGAN; k++) {
		const struct synth_organ *g = &c->organ[k];
		double dz = (w - g->w) / g->rw, q = dz * dz;
		if (q >= 1)
			continue;
		double sq = sqrt(1 - q); /* the cross-section at this z, a scaled ellipse */
		double hv = synth_half(g->ru * c->a * sq, g->rv * c->b * sq, dy - g->v * c->b);
		if (hv < 0)
			continue;
		double sway = c->wobble[k] * sin(3 * w) * c->a;
		double ox = c->cx + g->u * c->a + sway;
		synth_span(r, ox - hv, ox + hv, g->cls);
	}

	/* ribs: an elliptic ring on the flanks of the upper abdomen, cut into short arcs
	 * because each rib runs obliquely down and forward across the slices */
	double v = dy / b;
	if (w > -0.3 && fabs(v) < 0.6 && synth_mod(z + 0.8 * dy - c->rib_phase, 25) < 9) {
		double out = synth_half(0.90 * a, 0.90 * b, dy);
		double in = synth_half(0.84 * a, 0.84 * b, dy);
		if (out >= 0 && in >= 0) {
			synth_span(r, c->cx - out, c->cx - in, SYNTH_RIB);
			synth_span(r, c->cx + in, c->cx + out, SYNTH_RIB);
		}
	}

	/* spine: a vertebral body (cortical shell, marrow inside) with discs between */
	double sx0 = c->cx + c->spine_u * c->a, sdy = dy - c->spine_v * c->b;
	double hs = synth_half(0.12 * c->a, 0.17 * c->b, sdy);
	if (hs < 0)
		return;
	if (synth_mod(z - c->disc_phase, 32) < 6) {
		synth_span(r, sx0 - hs, sx0 + hs, SYNTH_DISC);
		return;
	}
	synth_span(r, sx0 - hs, sx0 + hs, SYNTH_CORTEX);
	if ((hs = synth_half(0.09 * c->a, 0.13 * c->b, sdy)) >= 0)
		synth_span(r, sx0 - hs, sx0 + hs, SYNTH_MARROW);
}

/* Noise of sigma 5 HU: the sum of the four 16-bit parts of one hash is nearly Gaussian
 * with sigma 65536 * sqrt(4 / 12) = 37837. */
#define SYNTH_NOISE_SCALE (5.0f / 37837.0f)

/* Turns painted classes into HU and labels. The only per-voxel work: a hash, a lookup
 * and a few float operations; sinusoids come from per-axis tables. */
static void synth_shade(const struct synth_case *c, const uint8_t *cls, int64_t nx,
			const float *tx, float tyz, uint64_t first, int16_t *img, uint8_t *lab)
{
	for (int64_t i = 0; i < nx; i++) {
		int k = cls[i];
		if (k == SYNTH_AIR) {
			img[i] = -1000;
			lab[i] = 0;
			continue;
		}
		uint64_t hsh = synth_mix(c->noise_key + (first + (uint64_t)i) * SYNTH_GOLDEN);
		int sum = (int)(hsh & 0xffff) + (int)(hsh >> 16 & 0xffff) +
			  (int)(hsh >> 32 & 0xffff) + (int)(hsh >> 48) - 131070;
		float hu = c->hu[k] + synth_tex[k] * (tx[i] + tyz) + (float)sum * SYNTH_NOISE_SCALE;
		/* round half up by truncating a positive number: HU never gets near -4096 */
		img[i] = (int16_t)((int)(hu + 4096.5f) - 4096);
		lab[i] = synth_label[k];
	}
}

static void synth_tables(const struct synth_opts *o, const struct synth_case *c,
			 struct synth_slot *s)
{
	for (int ax = 0; ax < 3; ax++) {
		double mid = (double)(c->dims[ax] - 1) / 2;
		for (int64_t i = 0; i < c->dims[ax]; i++) {
			double mm = ((double)i - mid) * o->spacing[ax];
			s->tab[ax][i] = (float)sin(c->tex_freq[ax] * mm + c->tex_phase[ax]);
		}
	}
}

static void synth_slice(const struct synth_opts *o, const struct synth_case *c,
			const struct synth_slot *s, int64_t k, uint8_t *cls)
{
	int64_t nx = c->dims[0], ny = c->dims[1], nz = c->dims[2];
	struct synth_row r = {cls, nx, (double)(nx - 1) / 2, o->spacing[0], 0, nx - 1};
	double z = ((double)k - (double)(nz - 1) / 2) * o->spacing[2];
	double halfz = (double)nz * o->spacing[2] / 2;
	for (int64_t j = 0; j < ny; j++) {
		double y = ((double)j - (double)(ny - 1) / 2) * o->spacing[1];
		uint64_t first = (uint64_t)((k * ny + j) * nx);
		synth_paint(c, &r, y, z, z / halfz);
		synth_shade(c, cls, nx, s->tab[0], s->tab[1][j] + s->tab[2][k], first,
			    (int16_t *)s->img->data + first, (uint8_t *)s->lab->data + first);
	}
}

/* ---- the run ----------------------------------------------------------------------- */

struct synth_run {
	const struct synth_opts *o;
	int ntrain, ntotal;
	struct synth_case *cases;
	struct synth_slot *slots;
	uint8_t *rows;      /* one row of classes per pool worker */
	int64_t row_cap;
	struct mg_err *errs; /* two per case: image, label */
	int cur;            /* the case drawn slice by slice (slice-parallel mode) */
};

static const char *synth_ext(const struct synth_opts *o) { return o->plain ? ".nii" : ".nii.gz"; }

/* PREFIX + "imagesTr/synth_000.nii.gz" and friends; 0, or -1 when it does not fit. */
static int synth_name(const struct synth_run *R, int index, int label, const char *prefix,
		      char *out, size_t n)
{
	const char *sub = index >= R->ntrain ? "imagesTs" : label ? "labelsTr" : "imagesTr";
	int len = snprintf(out, n, "%s%s/synth_%03d%s", prefix, sub, index, synth_ext(R->o));
	return len >= 0 && (size_t)len < n ? 0 : -1;
}

static int synth_write_one(const struct synth_run *R, const struct synth_slot *s, int index,
			   int label, struct mg_err *e)
{
	const struct synth_case *c = &R->cases[index];
	char dir[SYNTH_PATH], path[SYNTH_PATH];
	snprintf(dir, sizeof dir, "%s/", R->o->dir);
	if (synth_name(R, index, label, dir, path, sizeof path))
		return mg_err_set(e, MG_ERR_CONFIG, "path too long under '%s'", R->o->dir);
	struct mg_meta *m = mg_meta_new();
	if (!m)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	memcpy(m->affine, c->affine, sizeof m->affine);
	memcpy(m->orig_affine, c->affine, sizeof m->orig_affine);
	for (int i = 0; i < 3; i++) {
		m->orig_shape[i] = c->dims[i];
		m->pixdim[i] = R->o->spacing[i];
	}
	/* x fastest, as a file's data block: the buffer is borrowed, not owned */
	struct mg_tensor t = {0};
	t.dtype = label ? MG_DTYPE_U8 : MG_DTYPE_I16;
	t.rank = 3;
	for (int i = 0; i < 3; i++)
		t.dims[i] = c->dims[i];
	t.strides[0] = 1;
	t.strides[1] = c->dims[0];
	t.strides[2] = c->dims[0] * c->dims[1];
	t.buf = label ? s->lab : s->img;
	t.meta = m;
	int rc = mg_nifti_write(path, &t, t.dtype, R->o->gz_level, e);
	mg_meta_release(m);
	return rc;
}

/* Case `index`'s files: the image, and the label for a training case. errs[0] and errs[1]
 * take their failures. */
static void synth_write_case(const struct synth_run *R, const struct synth_slot *s, int index,
			     struct mg_err *errs)
{
	if (synth_write_one(R, s, index, 0, &errs[0]) == 0 && index < R->ntrain)
		synth_write_one(R, s, index, 1, &errs[1]);
}

/* Case-parallel mode: one worker draws and writes a whole case in its own slot. */
static void synth_case_task(void *ctx, int64_t i, int worker)
{
	struct synth_run *R = ctx;
	struct synth_slot *s = &R->slots[worker];
	const struct synth_case *c = &R->cases[i];
	synth_tables(R->o, c, s);
	for (int64_t k = 0; k < c->dims[2]; k++)
		synth_slice(R->o, c, s, k, R->rows + worker * R->row_cap);
	synth_write_case(R, s, (int)i, &R->errs[2 * i]);
}

/* Slice-parallel mode: case R->cur, one slice per task, all in slot 0. */
static void synth_slice_task(void *ctx, int64_t k, int worker)
{
	struct synth_run *R = ctx;
	synth_slice(R->o, &R->cases[R->cur], &R->slots[0], k, R->rows + worker * R->row_cap);
}

/* Slice-parallel mode: the image (0) and the label (1) compress side by side. */
static void synth_write_task(void *ctx, int64_t label, int worker)
{
	struct synth_run *R = ctx;
	synth_write_one(R, &R->slots[0], R->cur, (int)label, &R->errs[2 * R->cur + label]);
}

static int synth_slot_init(struct synth_slot *s, const int64_t maxd[3])
{
	size_t n = (size_t)(maxd[0] * maxd[1] * maxd[2]);
	s->img = mg_buffer_new(n * sizeof(int16_t));
	s->lab = mg_buffer_new(n);
	for (int ax = 0; ax < 3; ax++)
		s->tab[ax] = malloc((size_t)maxd[ax] * sizeof(float));
	return s->img && s->lab && s->tab[0] && s->tab[1] && s->tab[2] ? 0 : -1;
}

static void synth_slot_free(struct synth_slot *s)
{
	mg_buffer_release(s->img);
	mg_buffer_release(s->lab);
	for (int ax = 0; ax < 3; ax++)
		free(s->tab[ax]);
}

/* Draws and writes every case. At least as many cases as threads: each worker takes whole
 * cases, so the gzip of one case (serial, and most of the time) overlaps the others.
 * Fewer: each case is drawn slice-parallel and its image and label written side by side. */
static int synth_cases(struct synth_run *R, struct mg_pool *pool, struct mg_err *e)
{
	int nthreads = mg_pool_size(pool);
	int per_case = nthreads > 1 && R->ntotal >= nthreads;
	int nslots = per_case ? nthreads : 1;
	int64_t maxd[3] = {1, 1, 1};
	for (int i = 0; i < R->ntotal; i++)
		for (int ax = 0; ax < 3; ax++)
			if (R->cases[i].dims[ax] > maxd[ax])
				maxd[ax] = R->cases[i].dims[ax];
	R->row_cap = (maxd[0] + 63) & ~INT64_C(63);
	R->slots = calloc((size_t)nslots, sizeof *R->slots);
	R->rows = malloc((size_t)(R->row_cap * nthreads));
	R->errs = calloc((size_t)R->ntotal * 2, sizeof *R->errs);
	int ok = R->slots && R->rows && R->errs;
	for (int i = 0; ok && i < nslots; i++)
		ok = synth_slot_init(&R->slots[i], maxd) == 0;
	if (!ok) {
		mg_err_set(e, MG_ERR_NOMEM, "out of memory for %lldx%lldx%lld volumes",
			   (long long)maxd[0], (long long)maxd[1], (long long)maxd[2]);
	} else if (per_case) {
		R->cur = -1;
		mg_pool_for(pool, R->ntotal, synth_case_task, R);
	} else {
		for (R->cur = 0; R->cur < R->ntotal; R->cur++) {
			synth_tables(R->o, &R->cases[R->cur], &R->slots[0]);
			mg_pool_for(pool, R->cases[R->cur].dims[2], synth_slice_task, R);
			mg_pool_for(pool, R->cur < R->ntrain ? 2 : 1, synth_write_task, R);
			if (R->errs[2 * R->cur].code || R->errs[2 * R->cur + 1].code)
				break;
		}
	}
	for (int i = 0; ok && i < 2 * R->ntotal; i++)
		if (R->errs[i].code) {
			mg_err_set(e, R->errs[i].code, "%s", R->errs[i].msg);
			break;
		}
	for (int i = 0; R->slots && i < nslots; i++)
		synth_slot_free(&R->slots[i]);
	free(R->slots);
	free(R->rows);
	free(R->errs);
	return e->code;
}

/* ---- dataset.json ------------------------------------------------------------------ */

/* The layout of the Decathlon's Task09_Spleen/dataset.json, with our labels. */
static cJSON *synth_json(const struct synth_run *R)
{
	char img[64], lab[64], num[16];
	int ok = 1;
	cJSON *root = cJSON_CreateObject(), *o;
	if (!root)
		return NULL;
	ok &= cJSON_AddStringToObject(root, "name", "Synth") != NULL;
	ok &= cJSON_AddStringToObject(root, "description",
				      "Synthetic abdominal CT written by mgc synth") != NULL;
	ok &= cJSON_AddStringToObject(root, "reference", "mgc synth") != NULL;
	ok &= cJSON_AddStringToObject(root, "licence", "CC0 1.0") != NULL;
	ok &= cJSON_AddStringToObject(root, "release", "1.0") != NULL;
	ok &= cJSON_AddStringToObject(root, "tensorImageSize", "3D") != NULL;
	ok &= (o = cJSON_AddObjectToObject(root, "modality")) != NULL;
	ok &= o && cJSON_AddStringToObject(o, "0", "CT") != NULL;
	ok &= (o = cJSON_AddObjectToObject(root, "labels")) != NULL;
	for (int k = 0; o && k < SYNTH_NLABEL; k++) {
		snprintf(num, sizeof num, "%d", k);
		ok &= cJSON_AddStringToObject(o, num, synth_label_names[k]) != NULL;
	}
	ok &= cJSON_AddNumberToObject(root, "numTraining", R->ntrain) != NULL;
	ok &= cJSON_AddNumberToObject(root, "numTest", R->ntotal - R->ntrain) != NULL;
	cJSON *tr = cJSON_AddArrayToObject(root, "training");
	cJSON *ts = cJSON_AddArrayToObject(root, "test");
	ok &= tr && ts;
	for (int i = 0; ok && i < R->ntotal; i++) {
		/* names are "./imagesTr/...", as in the Decathlon's files */
		synth_name(R, i, 0, "./", img, sizeof img);
		if (i >= R->ntrain) {
			cJSON *s = cJSON_CreateString(img);
			ok &= s && cJSON_AddItemToArray(ts, s);
			continue;
		}
		synth_name(R, i, 1, "./", lab, sizeof lab);
		cJSON *pair = cJSON_CreateObject();
		ok &= pair && cJSON_AddItemToArray(tr, pair);
		ok &= pair && cJSON_AddStringToObject(pair, "image", img) != NULL;
		ok &= pair && cJSON_AddStringToObject(pair, "label", lab) != NULL;
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Written to a temporary name then renamed: readers never see half a file. */
static int synth_write_json(const struct synth_run *R, struct mg_err *e)
{
	char path[SYNTH_PATH], tmp[SYNTH_PATH];
	cJSON *root = synth_json(R);
	char *txt = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!txt)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory writing dataset.json");
	snprintf(path, sizeof path, "%s/dataset.json", R->o->dir);
	snprintf(tmp, sizeof tmp, "%s/.dataset.json.%ld.tmp", R->o->dir, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int ok = f && fputs(txt, f) >= 0 && fputc('\n', f) != EOF;
	ok = f && fclose(f) == 0 && ok;
	free(txt);
	if (ok && rename(tmp, path) == 0)
		return 0;
	int err = errno;
	remove(tmp);
	return mg_err_set(e, MG_ERR_IO, "cannot write '%s': %s", path, strerror(err));
}

/* ---- command line ------------------------------------------------------------------ */

static int synth_usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "mgc synth: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\ntry 'mgc synth --help'\n");
	return 2;
}

/* Three numbers "AxBxC" within [lo, hi]; integers when `integral`. */
static int synth_triple(const char *s, int integral, double lo, double hi, double out[3])
{
	for (int i = 0; i < 3; i++) {
		char *end;
		errno = 0;
		out[i] = integral ? (double)strtoll(s, &end, 10) : strtod(s, &end);
		if (end == s || errno || !(out[i] >= lo && out[i] <= hi))
			return -1;
		if (*end != (i < 2 ? 'x' : '\0'))
			return -1;
		s = end + 1;
	}
	return 0;
}

static int synth_number(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end && !errno && *out >= lo && *out <= hi ? 0 : -1;
}

/* Fills o from argv; returns -1 to go on, else the exit code (0 after --help). */
static int synth_parse(int argc, char **argv, struct synth_opts *o)
{
	*o = (struct synth_opts){.n = 8, .size = {128, 128, 64}, .spacing = {0.8, 0.8, 2.5},
				 .oblique = 5, .gz_level = 1};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		if (arg[0] != '-') {
			if (o->dir)
				return synth_usage_error("unexpected argument '%s'%s", arg, "");
			o->dir = arg;
			continue;
		}
		char name[32];
		size_t len = (val = strchr(arg, '=')) ? (size_t)(val - arg) : strlen(arg);
		if (len >= sizeof name)
			return synth_usage_error("unknown option '%s'%s", arg, "");
		memcpy(name, arg, len);
		name[len] = 0;
		if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
			fputs(synth_usage, stdout);
			return 0;
		}
		if (!strcmp(name, "--plain")) {
			if (val)
				return synth_usage_error("--plain takes no value%s%s", "", "");
			o->plain = 1;
			continue;
		}
		if (val)
			val++;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return synth_usage_error("option '%s' needs a value%s", name, "");
		double d, t[3];
		int bad = 0;
		if (!strcmp(name, "--n")) {
			bad = synth_number(val, 1, SYNTH_MAX_N, &d) || d != floor(d);
			o->n = (int)d;
		} else if (!strcmp(name, "--size")) {
			bad = synth_triple(val, 1, 1, SYNTH_MAX_DIM, t) ||
			      t[0] * t[1] * t[2] > (double)SYNTH_MAX_VOXELS;
			for (int k = 0; !bad && k < 3; k++)
				o->size[k] = (int64_t)t[k];
		} else if (!strcmp(name, "--spacing")) {
			bad = synth_triple(val, 0, 1e-3, 100, o->spacing);
		} else if (!strcmp(name, "--seed")) {
			char *end;
			errno = 0;
			o->seed = strtoull(val, &end, 0);
			bad = end == val || *end || errno || val[0] == '-';
		} else if (!strcmp(name, "--oblique")) {
			bad = synth_number(val, -40, 40, &o->oblique);
		} else if (!strcmp(name, "--gz-level") || !strcmp(name, "--gz_level")) {
			bad = synth_number(val, 1, 9, &d) || d != floor(d);
			o->gz_level = (int)d;
		} else if (!strcmp(name, "--threads")) {
			bad = synth_number(val, 0, 256, &d) || d != floor(d);
			o->threads = (int)d;
		} else {
			return synth_usage_error("unknown option '%s'%s", name, "");
		}
		if (bad)
			return synth_usage_error("bad value '%s' for %s (see --help for the range)",
						 val, name);
	}
	if (!o->dir || !o->dir[0])
		return synth_usage_error("missing the output directory%s%s", "", "");
	return -1;
}

/* DIR/imagesTr, DIR/labelsTr and DIR/imagesTs, with DIR and its parents as needed. */
static int synth_folders(const char *dir, struct mg_err *e)
{
	static const char *const subs[] = {"imagesTr", "labelsTr", "imagesTs"};
	char p[SYNTH_PATH];
	for (int k = 0; k < 3; k++) {
		if (snprintf(p, sizeof p, "%s/%s", dir, subs[k]) >= (int)sizeof p)
			return mg_err_set(e, MG_ERR_CONFIG, "directory name too long");
		int rc = mg_mkdirs(p, e);
		if (rc)
			return rc;
	}
	return 0;
}

int mgc_synth(int argc, char **argv)
{
	struct synth_opts o;
	int rc = synth_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	struct mg_err e = {0};
	struct synth_run R = {.o = &o, .ntrain = o.n, .ntotal = o.n + (o.n / 4 > 1 ? o.n / 4 : 1)};
	if (synth_folders(o.dir, &e) == 0) {
		R.cases = calloc((size_t)R.ntotal, sizeof *R.cases);
		if (!R.cases)
			mg_err_set(&e, MG_ERR_NOMEM, "out of memory");
	}
	for (int i = 0; R.cases && i < R.ntotal; i++)
		synth_case_init(&o, i, &R.cases[i]);
	if (R.cases) {
		struct mg_pool *pool = mg_pool_new(o.threads);
		synth_cases(&R, pool, &e);
		mg_pool_free(pool);
	}
	if (e.code == 0)
		synth_write_json(&R, &e);
	free(R.cases);
	if (e.code) {
		fprintf(stderr, "mgc synth: %s\n", e.msg);
		return 1;
	}
	printf("wrote %d training and %d test cases to %s\n", R.ntrain, R.ntotal - R.ntrain,
	       o.dir);
	return 0;
}
