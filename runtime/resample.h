/* resample.h: moving voxels. A spatial op is described by what it does to the voxel grid
 * (struct mg_grid): the output shape, an affine map from output voxel index to input voxel
 * index, an interpolation and a padding mode. One reference resampler executes any grid;
 * the spatial fusion pass composes grids so a chain of ops costs one pass.
 * Conventions are MONAI's SpatialResample (torch grid_sample as MONAI calls it): a pull
 * map in voxel units, voxel centres at integer indices, compute in float64.
 * Read next: resample.c, ops/spatial.c. */
#ifndef MG_RESAMPLE_H
#define MG_RESAMPLE_H

#include "runtime.h"

enum mg_interp {
	MG_INTERP_NEAREST, /* torch's nearest: round half to even on the input coordinate */
	MG_INTERP_LINEAR,  /* bilinear / trilinear */
	MG_INTERP_CUBIC,   /* bicubic / tricubic, A = -0.75, as torch */
	/* torch.nn.functional.interpolate's own index rules (Resize, Zoom). They sample axis
	 * by axis between in_shape and out_shape and ignore the map's values (which hold the
	 * geometry MONAI writes into the affine, not where torch reads), so the map must not
	 * mix axes, and such a grid cannot be composed with another (a fusion barrier).
	 * With s = float32(in) / out, output index o of an axis reads: */
	MG_INTERP_NEAREST_FLOOR, /* "nearest": min(floor(o * s), in - 1) in float32 (o
				  * itself when in == out, o / 2 when out == 2 in, as torch) */
	MG_INTERP_NEAREST_EXACT, /* "nearest-exact": min(floor((o + 0.5) * s), in - 1) */
	MG_INTERP_AREA,          /* "area" (adaptive average pooling): the mean of the input
				  * over [floor(o in / out), ceil((o + 1) in / out)) per axis */
};

/* 1 for the interpolate-only modes above. */
int mg_interp_is_axiswise(enum mg_interp m);

enum mg_pad {
	MG_PAD_ZEROS,      /* outside is 0 */
	MG_PAD_BORDER,     /* clamp the coordinate to the edge voxel centres */
	MG_PAD_REFLECTION, /* reflect about -0.5 and d - 0.5 (align_corners: 0 and d - 1) */
};

/* What one spatial op (or a fused chain) does to an image's voxel grid. The channel axis
 * (axis 0 of the tensor) is never touched: every channel moves the same way. */
struct mg_grid {
	int sdim;                /* 2 or 3 */
	int64_t in_shape[3];     /* spatial shape the map reads */
	int64_t out_shape[3];    /* spatial shape it writes */
	double out_to_in[4][4];  /* output voxel index -> input voxel index, homogeneous */
	double affine[4][4];     /* the output's voxel -> world affine */
	enum mg_interp mode;
	enum mg_pad padding;
	int align_corners;       /* as MONAI passes it to grid_sample: the map is exact either
				  * way; it changes reflection bounds and size-1 axes (resample.c).
				  * transforms.Resample (Affine, RandAffine) normalises differently:
				  * those ops fold that into out_to_in */
};

/* The identity grid of an image: out = in, affine = its affine. */
void mg_grid_identity(struct mg_grid *g, const struct mg_tensor *img);
/* The identity grid of g's output (its shape and affine): where a step after g starts. */
void mg_grid_next(const struct mg_grid *g, struct mg_grid *next);
/* Sets g's map to m (output voxel -> input voxel) and its affine to affine · m, the
 * output affine of every op whose output voxel o sits where input voxel m·o was. */
void mg_grid_map(struct mg_grid *g, const double m[4][4]);
/* Composes `next` after `g` (g's output is next's input): g becomes the map from next's
 * output to g's input, with next's shape, affine and modes; when next is index-only and
 * reads only inside its input (a flip, permutation or crop) g keeps its own modes, as
 * such a step samples nothing new (so a crop after a pad keeps the pad's padding). */
void mg_grid_then(struct mg_grid *g, const struct mg_grid *next);
/* 1 when out_to_in is a permutation with flips and integer shifts (no interpolation
 * needed: the result is a view, or a copy with padding). */
int mg_grid_is_index_only(const struct mg_grid *g);

/* Applied-operations entries (runtime.h) from and to grids: the entry of an op that ran g
 * on an input whose affine was in_affine; the grid an entry describes. */
void mg_applied_set(struct mg_applied *a, const char *op, const struct mg_grid *g,
		    const double in_affine[4][4]);
void mg_applied_grid(const struct mg_applied *a, struct mg_grid *g);

/* out = in resampled through g, as dtype (MONAI: float32), a fresh contiguous tensor
 * (C, out_shape...). in is (C, in_shape...) with any strides and dtype. out->meta is
 * not set here. */
int mg_resample(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		struct mg_tensor *out, struct mg_err *e);

/* The pieces of mg_resample a generated resampler (ops/spatial_gen.c) shares, so its
 * output is the same tensor: the checks on in, g and dtype and out allocated as
 * mg_resample lays it out (order[0] its fastest axis: rows then read the input in its
 * memory order); the map grid_sample really applies, in voxel units (rows 0..sdim-1 of
 * out_to_in with MONAI's size-1 quirks). */
int mg_resample_output(const struct mg_tensor *in, const struct mg_grid *g, enum mg_dtype dtype,
		       struct mg_tensor *out, int order[4], struct mg_err *e);
void mg_resample_map(const struct mg_grid *g, double a[3][4]);

/* Parse MONAI's mode and padding_mode strings ("bilinear", "nearest", "bicubic",
 * "zeros", "border", "reflection"; spline orders 0 and 1 as nearest and linear). -1 when
 * unknown. */
int mg_interp_parse(const char *s);
int mg_pad_parse(const char *s);

#endif
