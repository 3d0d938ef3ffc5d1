/* resample.c: the reference resampler. It executes any grid (resample.h) on an input of
 * any strides and dtype, in float64, and is the oracle every faster path is compared to:
 * it computes what MONAI's SpatialResample gets from torch's grid_sample on the CPU.
 * Invariant: output voxel o reads input position q = A·(o, 1), A being g->out_to_in with
 * MONAI's size-1 quirks folded in (mg_resample_map); each axis then goes through
 * grid_sample's own steps (pad the coordinate, floor or round, bounds-check each tap)
 * and the taps are weighted and summed in grid_sample's order. torch.interpolate's own
 * modes (area, its nearest) take another path, resample_axiswise: boxes of input voxels
 * per axis, from the shapes alone.
 * Read next: grid.c (building grids), tests/test_resample.c, tools/golden/gen_resample.py
 * (the torch goldens and how MONAI's path was reproduced). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

/* Longer output axes, or more output elements, are a bug upstream, not an image. */
#define MAX_AXIS ((int64_t)1 << 20)
#define MAX_ELEMS ((int64_t)1 << 36)

/* The map grid_sample really applies, in voxel units, for MONAI's SpatialResample
 * (monai/transforms/spatial/functional.py spatial_resample -> AffineTransform ->
 * to_norm_affine). MONAI normalises with normalize_transform(align_corners=<the user's>)
 * on both sides and hands the same flag to affine_grid and grid_sample, so for axes
 * longer than 1 the normalisations cancel and q = out_to_in·(o, 1) exactly, whatever
 * align_corners is (checked against torch: tools/golden/gen_resample.py). They do not
 * cancel on size-1 axes with align_corners=True: affine_grid puts a size-1 output axis
 * at normalised 0, which normalize_transform's size-1 rule (scale 2, shift -1) takes back
 * to o = 0.5; and grid_sample maps anything on a size-1 input axis to index 0.
 * (MONAI's other resampler, transforms.Resample behind Affine/RandAffine/elastic, always
 * normalises with align_corners=False formulas, so with align_corners=True grid_sample
 * reads its grid position q at (q + 0.5)(n - 1)/n. That is affine per axis: the grid
 * functions of such ops fold it into out_to_in, and this file stays SpatialResample's,
 * as Spacing, Rotate and lazy resampling use it.) */
void mg_resample_map(const struct mg_grid *g, double a[3][4])
{
	for (int i = 0; i < g->sdim; i++) {
		for (int j = 0; j < g->sdim; j++)
			a[i][j] = g->out_to_in[i][j];
		a[i][3] = g->out_to_in[i][3];
	}
	if (!g->align_corners)
		return;
	for (int i = 0; i < g->sdim; i++)
		for (int j = 0; j < g->sdim; j++)
			if (g->out_shape[j] == 1) {
				a[i][3] += a[i][j] * 0.5;
				a[i][j] = 0;
			}
	for (int i = 0; i < g->sdim; i++)
		if (g->in_shape[i] == 1)
			memset(a[i], 0, sizeof a[i]);
}

/* torch's reflect_coordinates: reflect about lo and hi (passed doubled, so the
 * half-integer edges are exact) until inside. flips is kept in a double: torch's int
 * cast is undefined for far-away coordinates, ours is not. Inside, q is returned as is
 * (torch computes |q - lo| + lo, within an ulp of q), which skips the division for most
 * voxels. torch's fmod(q, span) is spelled q - flips span, moved into [0, span) where
 * the quotient's rounding made flips one off: span is an integer, so every step is exact
 * and this is fmod's value for |q| < 2^52 (beyond, torch's float32 grid has no fraction
 * left to reflect); fmod(flips, 2) == 0 as flips - 2 floor(flips / 2) == 0, the same
 * everywhere. The generated resampler (ops/spatial_gen.c) repeats these steps: libm's
 * fmod has no vector form it could use. */
static double reflect(double q, double twice_lo, double twice_hi)
{
	if (twice_lo == twice_hi)
		return 0;
	double lo = twice_lo / 2, span = (twice_hi - twice_lo) / 2;
	if (q >= lo && q <= twice_hi / 2)
		return q;
	q = fabs(q - lo);
	double flips = floor(q / span), extra = q - flips * span;
	extra = extra < 0 ? extra + span : extra;
	extra = extra >= span ? extra - span : extra;
	return flips - 2 * floor(flips * 0.5) == 0 ? extra + lo : span - extra + lo;
}

/* torch's compute_coordinates: border clamps to the edge voxel centres [0, n-1];
 * reflection reflects about -0.5 and n-0.5 (align_corners=False) or 0 and n-1 (True),
 * then clamps; zeros leaves q alone (taps outside read 0). A NaN stays NaN and then reads
 * as outside (torch's answer there differs between its kernels). */
static double pad_coord(double q, int64_t n, enum mg_pad pad, int ac)
{
	if (pad == MG_PAD_ZEROS)
		return q;
	if (pad == MG_PAD_REFLECTION)
		q = ac ? reflect(q, 0, 2.0 * (double)(n - 1)) : reflect(q, -1, 2.0 * (double)n - 1);
	double hi = (double)(n - 1);
	return q < 0 ? 0 : q > hi ? hi : q;
}

/* An integral double as an index; anything not a finite number in index range becomes
 * -8, which is outside and stays outside for the next tap (-7): no float-to-int
 * conversion is ever undefined, whatever the matrix holds. */
static inline int64_t as_index(double v)
{
	return v >= -4 && v < 0x1p62 ? (int64_t)v : -8;
}

/* The taps along one input axis that land inside it, in grid_sample's order, as byte
 * offsets and weights. Outside taps are dropped rather than weighted by 0: grid_sample
 * skips (or masks) them, so an inf elsewhere never becomes 0 * inf = NaN. */
struct taps {
	int n;
	int64_t off[4];
	double w[4];
};

static inline void tap(struct taps *t, int64_t i, int64_t n, int64_t stride, double w)
{
	if (i >= 0 && i < n) {
		t->off[t->n] = i * stride;
		t->w[t->n++] = w;
	}
}

/* torch's bicubic weights (UpSample.h get_cubic_upsample_coefficients, A = -0.75), for
 * taps at floor(q) - 1 .. floor(q) + 2, t = q - floor(q). */
static void cubic_weights(double w[4], double t)
{
	const double A = -0.75;
	double x1 = t, x2 = 1.0 - t;
	w[0] = ((A * (x1 + 1.0) - 5 * A) * (x1 + 1.0) + 8 * A) * (x1 + 1.0) - 4 * A;
	w[1] = ((A + 2) * x1 - (A + 3)) * x1 * x1 + 1;
	w[2] = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
	w[3] = ((A * (x2 + 1.0) - 5 * A) * (x2 + 1.0) + 8 * A) * (x2 + 1.0) - 4 * A;
}

/* Everything one pass needs, fixed before the loops. */
struct plan {
	int sdim;
	enum mg_interp mode;
	enum mg_pad pad;
	int ac;
	double a[3][4];       /* mg_resample_map */
	int64_t n[3];         /* input spatial sizes */
	int64_t stride[3];    /* input spatial strides, bytes */
	int64_t cstride;      /* input channel stride, bytes */
	int64_t nchan;
	const char *src;      /* input element 0 */
	enum mg_dtype st;
	char *dst;            /* output element 0 */
	enum mg_dtype dt;
	int64_t dstep, dcstep; /* output bytes per step along a row, per channel */
};

/* The taps of input axis d for coordinate q. */
static inline __attribute__((always_inline)) void
axis_taps(const struct plan *p, int d, enum mg_interp mode, double q, struct taps *t)
{
	int64_t n = p->n[d], s = p->stride[d];
	t->n = 0;
	switch (mode) {
	case MG_INTERP_NEAREST:
		/* nearbyint in the default rounding mode: half to even, as grid_sample */
		tap(t, as_index(nearbyint(pad_coord(q, n, p->pad, p->ac))), n, s, 1);
		break;
	case MG_INTERP_LINEAR: {
		q = pad_coord(q, n, p->pad, p->ac);
		double f = floor(q);
		int64_t i = as_index(f);
		tap(t, i, n, s, (f + 1) - q);
		tap(t, i + 1, n, s, q - f);
		break;
	}
	case MG_INTERP_CUBIC: {
		/* grid_sample pads each tap, not q: floor(q) of the raw coordinate picks the
		 * 4 taps and each is then moved inside by the padding (get_value_bounded) */
		double f = floor(q), w[4];
		cubic_weights(w, q - f);
		for (int k = 0; k < 4; k++) {
			double c = pad_coord(f - 1 + k, n, p->pad, p->ac);
			tap(t, as_index(c), n, s, w[k]);
		}
		break;
	}
	case MG_INTERP_NEAREST_FLOOR:
	case MG_INTERP_NEAREST_EXACT:
	case MG_INTERP_AREA:
		break; /* resample_axiswise: never a point sample */
	}
}

/* Nearest and linear, 2D: weights as products, summed with axis 0 outermost, as
 * grid_sample's nw, ne, sw, se. */
static inline double gather2(const char *src, enum mg_dtype st, const struct taps *t0,
			     const struct taps *t1)
{
	double s = 0;
	for (int a = 0; a < t0->n; a++)
		for (int b = 0; b < t1->n; b++)
			s += mg_dtype_load(st, src + t0->off[a] + t1->off[b]) *
			     (t1->w[b] * t0->w[a]);
	return s;
}

/* 3D: grid_sample's tnw = (wx * wy) * wz with x the last axis, summed t/b, n/s, w/e.
 * The all-inside linear case is spelled out with constant trip counts, which the compiler
 * unrolls; the sums are the same. */
static inline double gather3(const char *src, enum mg_dtype st, const struct taps *t0,
			     const struct taps *t1, const struct taps *t2)
{
	double s = 0;
	if (t0->n == 2 && t1->n == 2 && t2->n == 2) {
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++) {
				const char *row = src + t0->off[a] + t1->off[b];
				for (int c = 0; c < 2; c++)
					s += mg_dtype_load(st, row + t2->off[c]) *
					     (t2->w[c] * t1->w[b] * t0->w[a]);
			}
		return s;
	}
	for (int a = 0; a < t0->n; a++)
		for (int b = 0; b < t1->n; b++) {
			const char *row = src + t0->off[a] + t1->off[b];
			for (int c = 0; c < t2->n; c++)
				s += mg_dtype_load(st, row + t2->off[c]) *
				     (t2->w[c] * t1->w[b] * t0->w[a]);
		}
	return s;
}

/* Bicubic: separable as grid_sample does it, along the last axis (torch's x) first, then
 * the next one out. A dropped tap is a term that would have been 0. */
static inline double gather_cubic2(const char *src, enum mg_dtype st,
				   const struct taps *t0, const struct taps *t1)
{
	double s = 0;
	for (int a = 0; a < t0->n; a++) {
		double r = 0;
		for (int b = 0; b < t1->n; b++)
			r += mg_dtype_load(st, src + t0->off[a] + t1->off[b]) * t1->w[b];
		s += r * t0->w[a];
	}
	return s;
}

/* Tricubic: torch 2.15 (the goldens' version) runs mode='bicubic' on 5-D input as the
 * same kernel extended over the third axis; older versions raise. A bicubic plane per
 * axis-0 tap, then along axis 0. */
static inline double gather_cubic3(const char *src, enum mg_dtype st,
				   const struct taps *t0, const struct taps *t1,
				   const struct taps *t2)
{
	double s = 0;
	for (int a = 0; a < t0->n; a++)
		s += gather_cubic2(src + t0->off[a], st, t1, t2) * t0->w[a];
	return s;
}

/* One output row: every voxel along output axis `inner` from index o (o[inner] = 0) and
 * dst0, all channels. Each input coordinate is a[3] + a[0] o0 + a[1] o1 (+ a[2] o2)
 * summed in that order whatever axis the row runs along, so a voxel's value does not
 * depend on the walk (a nearest tie or a cubic edge would). sd, mode, st and dt are p's;
 * they come as arguments so that run_row_fast below can pass constants and the compiler
 * drop the per-voxel switches. */
static inline __attribute__((always_inline)) void
run_row(const struct plan *p, const int64_t *o, int inner, int64_t len, char *dst0, int sd,
	enum mg_interp mode, enum mg_dtype st, enum mg_dtype dt)
{
	struct taps t[3];
	double x[3] = {(double)o[0], (double)o[1], (double)o[2]};
	for (int64_t k = 0; k < len; k++) {
		x[inner] = (double)k;
		for (int d = 0; d < sd; d++) {
			double q = p->a[d][3] + p->a[d][0] * x[0] + p->a[d][1] * x[1];
			if (sd == 3)
				q += p->a[d][2] * x[2];
			axis_taps(p, d, mode, q, &t[d]);
		}
		const char *src = p->src;
		char *dst = dst0 + k * p->dstep;
		for (int64_t c = 0; c < p->nchan; c++) {
			double v;
			if (mode == MG_INTERP_CUBIC)
				v = sd == 3 ? gather_cubic3(src, st, &t[0], &t[1], &t[2])
					    : gather_cubic2(src, st, &t[0], &t[1]);
			else
				v = sd == 3 ? gather3(src, st, &t[0], &t[1], &t[2])
					    : gather2(src, st, &t[0], &t[1]);
			mg_dtype_store(dt, dst, v);
			src += p->cstride;
			dst += p->dcstep;
		}
	}
}

static void run_row_any(const struct plan *p, const int64_t *o, int inner, int64_t len,
			char *dst0)
{
	run_row(p, o, inner, len, dst0, p->sdim, p->mode, p->st, p->dt);
}

/* MONAI's everyday case, 3D float32 in and out, linear or nearest: the same code with
 * the dtype and mode switches resolved at compile time (a quarter less time). */
static void run_row_fast(const struct plan *p, const int64_t *o, int inner, int64_t len,
			 char *dst0)
{
	if (p->mode == MG_INTERP_LINEAR)
		run_row(p, o, inner, len, dst0, 3, MG_INTERP_LINEAR, MG_DTYPE_F32, MG_DTYPE_F32);
	else
		run_row(p, o, inner, len, dst0, 3, MG_INTERP_NEAREST, MG_DTYPE_F32, MG_DTYPE_F32);
}

/* The checks that make every later step well defined; messages name what to fix. */
static int validate(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		    struct mg_err *e)
{
	if (g->sdim != 2 && g->sdim != 3)
		return mg_err_set(e, MG_ERR_SHAPE, "resample: the grid is %dD, expected 2D or 3D",
				  g->sdim);
	if (in->rank != g->sdim + 1)
		return mg_err_set(e, MG_ERR_SHAPE,
				  "resample: a %dD grid needs a (C, %s) input of rank %d, got "
				  "rank %d",
				  g->sdim, g->sdim == 2 ? "X, Y" : "X, Y, Z", g->sdim + 1,
				  in->rank);
	for (int i = 0; i < g->sdim; i++)
		if (in->dims[1 + i] != g->in_shape[i])
			return mg_err_set(e, MG_ERR_SHAPE,
					  "resample: input spatial axis %d has size %lld, the grid "
					  "was built for %lld",
					  i, (long long)in->dims[1 + i], (long long)g->in_shape[i]);
	if ((unsigned)g->mode > MG_INTERP_AREA)
		return mg_err_set(e, MG_ERR_CONFIG, "resample: unknown interpolation mode %d",
				  (int)g->mode);
	for (int i = 0; i < g->sdim && mg_interp_is_axiswise(g->mode); i++)
		for (int j = 0; j < g->sdim; j++)
			if (i != j && g->out_to_in[i][j] != 0)
				return mg_err_set(e, MG_ERR_CONFIG, "resample: torch.interpolate's "
						  "modes (area, nearest as Resize and Zoom use it) "
						  "sample axis by axis; this grid mixes axes %d and %d",
						  i, j);
	if ((unsigned)g->padding > MG_PAD_REFLECTION)
		return mg_err_set(e, MG_ERR_CONFIG, "resample: unknown padding mode %d",
				  (int)g->padding);
	if ((unsigned)dtype >= MG_DTYPE_COUNT || (unsigned)in->dtype >= MG_DTYPE_COUNT)
		return mg_err_set(e, MG_ERR_CONFIG, "resample: unknown dtype %d",
				  (unsigned)dtype >= MG_DTYPE_COUNT ? (int)dtype : (int)in->dtype);
	int64_t total = in->dims[0];
	if (total < 0 || total > MAX_AXIS)
		return mg_err_set(e, MG_ERR_SHAPE, "resample: %lld channels", (long long)total);
	for (int i = 0; i < g->sdim; i++) {
		int64_t d = g->out_shape[i];
		if (d < 0 || d > MAX_AXIS)
			return mg_err_set(e, MG_ERR_SHAPE,
					  "resample: output spatial axis %d has size %lld, outside "
					  "0..%lld",
					  i, (long long)d, (long long)MAX_AXIS);
		total *= d;
		if (total > MAX_ELEMS)
			return mg_err_set(e, MG_ERR_SHAPE,
					  "resample: the output would hold more than %lld elements",
					  (long long)MAX_ELEMS);
	}
	if (total > 0)
		for (int i = 0; i < g->sdim; i++)
			if (in->dims[1 + i] <= 0)
				return mg_err_set(e, MG_ERR_SHAPE,
						  "resample: input spatial axis %d is empty; there "
						  "is nothing to sample from",
						  i);
	return 0;
}

/* torch.interpolate's index rule for output index o of an axis of n_in -> n_out voxels
 * (resample.h): the first input index read; *end: one past the last. The float32
 * arithmetic is torch's (UpSample.h nearest_idx, nearest_exact_idx; AdaptivePooling.h
 * start_index, end_index): o * s is a float product; (o + 0.5) * s a double one rounded
 * to float by floorf. */
static int64_t axis_range(enum mg_interp mode, int64_t o, int64_t n_in, int64_t n_out,
			  int64_t *end)
{
	float s = (float)n_in / (float)n_out;
	int64_t i;
	if (mode == MG_INTERP_AREA) {
		*end = ((o + 1) * n_in + n_out - 1) / n_out;
		return o * n_in / n_out;
	}
	if (mode == MG_INTERP_NEAREST_EXACT)
		i = (int64_t)floorf((float)(((double)o + 0.5) * (double)s));
	else if (n_out == n_in)
		i = o;
	else if (n_out == 2 * n_in)
		i = o >> 1;
	else
		i = (int64_t)floorf((float)o * s);
	i = i < n_in - 1 ? i : n_in - 1;
	*end = i + 1;
	return i;
}

/* The axis-wise modes: per output axis a table of input ranges (element offsets and
 * lengths), then each output voxel is the mean of its box, summed with the last axis
 * innermost and divided axis by axis, as torch's adaptive average pooling (nearest: a
 * box of one voxel, copied exactly). out is allocated and non-empty. */
static int resample_axiswise(const struct mg_tensor *in, const struct mg_grid *g,
			     struct mg_tensor *out, struct mg_err *e)
{
	int sd = g->sdim;
	int64_t n[3] = {1, 1, 1}, tot = 0;
	for (int j = 0; j < sd; j++)
		tot += n[j] = g->out_shape[j];
	int64_t *tab = malloc(sizeof *tab * (size_t)(2 * (tot + 3)));
	if (!tab)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	int64_t *off[3], *len[3], *p = tab;
	for (int j = 0; j < 3; j++) {
		off[j] = p;
		len[j] = p + n[j];
		p += 2 * n[j];
		for (int64_t o = 0; o < n[j]; o++) {
			if (j >= sd) {
				off[j][o] = 0, len[j][o] = 1;
				continue;
			}
			int64_t end, i = axis_range(g->mode, o, g->in_shape[j], n[j], &end);
			off[j][o] = i * in->strides[1 + j];
			len[j][o] = end - i;
		}
	}
	int64_t s1 = in->strides[2], s2 = sd == 3 ? in->strides[3] : 0;
	int64_t es = (int64_t)mg_dtype_size(in->dtype), ds = (int64_t)mg_dtype_size(out->dtype);
	const char *src = mg_tensor_data(in);
	char *dst = mg_tensor_data(out);
	for (int64_t c = 0; c < in->dims[0]; c++)
		for (int64_t a = 0; a < n[0]; a++)
			for (int64_t b = 0; b < n[1]; b++)
				for (int64_t z = 0; z < n[2]; z++, dst += ds) {
					const char *box = src + (c * in->strides[0] + off[0][a] +
								 off[1][b] + off[2][z]) * es;
					double sum = 0;
					for (int64_t i = 0; i < len[0][a]; i++)
						for (int64_t k = 0; k < len[1][b]; k++)
							for (int64_t l = 0; l < len[2][z]; l++)
								sum += mg_dtype_load(in->dtype, box +
									(i * in->strides[1] + k * s1 +
									 l * s2) * es);
					mg_dtype_store(out->dtype, dst, sum / (double)len[0][a] /
						       (double)len[1][b] / (double)len[2][z]);
				}
	free(tab);
	return 0;
}

/* The output's memory order, fastest axis first, from how far one step along each
 * output axis moves in the input's memory: rows then run along the axis that walks the
 * input most contiguously (x for NIfTI's x-fastest data), not across pages; the channel
 * axis stays outermost. order holds tensor axes (1..sd). */
static void output_order(const struct mg_tensor *in, const struct mg_grid *g, int order[4])
{
	int sd = g->sdim;
	double cost[3];
	for (int j = 0; j < sd; j++) {
		cost[j] = 0;
		for (int i = 0; i < sd; i++)
			cost[j] += fabs(g->out_to_in[i][j] * (double)in->strides[1 + i]);
	}
	for (int k = 0; k < sd; k++)
		order[k] = 1 + k;
	/* insertion sort, cheapest first; on a tie the later axis first (C order) */
	for (int k = 1; k < sd; k++)
		for (int m = k; m > 0; m--) {
			int a = order[m] - 1, b = order[m - 1] - 1;
			if (!(cost[a] < cost[b] || (cost[a] == cost[b] && a > b)))
				break;
			order[m] = b + 1;
			order[m - 1] = a + 1;
		}
	order[sd] = 0;
}

int mg_resample_output(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		       struct mg_tensor *out, int order[4], struct mg_err *e)
{
	memset(out, 0, sizeof *out);
	int rc = validate(in, g, dtype, e);
	if (rc)
		return rc;
	int sd = g->sdim;
	int64_t dims[4] = {in->dims[0]};
	for (int i = 0; i < sd; i++)
		dims[1 + i] = g->out_shape[i];
	if (mg_interp_is_axiswise(g->mode)) /* its own walk, in C order */
		for (int k = 0; k <= sd; k++)
			order[k] = sd - k;
	else
		output_order(in, g, order);
	return mg_tensor_alloc_order(out, dtype, sd + 1, dims, order, e);
}

int mg_resample(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		struct mg_tensor *out, struct mg_err *e)
{
	int order[4], sd = g->sdim;
	int rc = mg_resample_output(in, g, dtype, out, order, e);
	if (rc)
		return rc;
	int64_t nvox = 1;
	for (int i = 0; i < sd; i++)
		nvox *= g->out_shape[i];
	if (nvox == 0 || in->dims[0] == 0)
		return 0;
	if (mg_interp_is_axiswise(g->mode)) {
		if ((rc = resample_axiswise(in, g, out, e)))
			mg_tensor_release(out);
		return rc;
	}

	int64_t es = (int64_t)mg_dtype_size(in->dtype), ds = (int64_t)mg_dtype_size(dtype);
	int inner = order[0] - 1; /* the row axis, spatial index */
	struct plan p = {.sdim = sd, .mode = g->mode, .pad = g->padding,
			 .ac = g->align_corners != 0, .st = in->dtype, .dt = dtype,
			 .nchan = in->dims[0], .dstep = out->strides[1 + inner] * ds,
			 .dcstep = out->strides[0] * ds};
	mg_resample_map(g, p.a);
	for (int i = 0; i < sd; i++) {
		p.n[i] = in->dims[1 + i];
		p.stride[i] = in->strides[1 + i] * es;
	}
	p.cstride = in->strides[0] * es;
	p.src = mg_tensor_data(in);
	p.dst = mg_tensor_data(out);

	/* Rows run along the row axis; the other axes (u slower, v faster; v absent in 2D)
	 * are walked in memory order. */
	int u = order[sd - 1] - 1, v = sd == 3 ? order[1] - 1 : inner;
	int64_t len = g->out_shape[inner], nu = g->out_shape[u], nv = sd == 3 ? g->out_shape[v] : 1;
	int fast = sd == 3 && p.st == MG_DTYPE_F32 && p.dt == MG_DTYPE_F32 &&
		   p.mode != MG_INTERP_CUBIC;
	void (*row)(const struct plan *, const int64_t *, int, int64_t, char *) =
		fast ? run_row_fast : run_row_any;
	for (int64_t iu = 0; iu < nu; iu++)
		for (int64_t iv = 0; iv < nv; iv++) {
			int64_t o[3] = {0, 0, 0};
			o[u] = iu;
			if (sd == 3)
				o[v] = iv;
			char *dst0 = p.dst + (iu * out->strides[1 + u] +
					      (sd == 3 ? iv * out->strides[1 + v] : 0)) * ds;
			row(&p, o, inner, len, dst0);
		}
	return 0;
}
