/* grid.c: building and composing grids (see resample.h); the resampler is resample.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "resample.h"

void mg_grid_identity(struct mg_grid *g, const struct mg_tensor *img)
{
	memset(g, 0, sizeof *g);
	g->sdim = img->rank - 1 < 3 ? img->rank - 1 : 3;
	for (int i = 0; i < g->sdim; i++)
		g->in_shape[i] = g->out_shape[i] = img->dims[1 + i];
	for (int i = 0; i < 4; i++)
		g->out_to_in[i][i] = g->affine[i][i] = 1;
	if (img->meta)
		memcpy(g->affine, img->meta->affine, sizeof g->affine);
	g->mode = MG_INTERP_LINEAR;
	g->padding = MG_PAD_BORDER;
}

void mg_grid_next(const struct mg_grid *g, struct mg_grid *next)
{
	memset(next, 0, sizeof *next);
	next->sdim = g->sdim;
	memcpy(next->in_shape, g->out_shape, sizeof next->in_shape);
	memcpy(next->out_shape, g->out_shape, sizeof next->out_shape);
	memcpy(next->affine, g->affine, sizeof next->affine);
	for (int i = 0; i < 4; i++)
		next->out_to_in[i][i] = 1;
	next->mode = MG_INTERP_LINEAR;
	next->padding = MG_PAD_BORDER;
}

int mg_interp_is_axiswise(enum mg_interp m)
{
	return m == MG_INTERP_NEAREST_FLOOR || m == MG_INTERP_NEAREST_EXACT || m == MG_INTERP_AREA;
}

/* 1 when g is index-only and every output voxel reads a voxel inside its input (a
 * permutation, flip or crop): it samples nothing new, so its modes do not matter. */
static int reads_inside(const struct mg_grid *g)
{
	if (!mg_grid_is_index_only(g))
		return 0;
	for (int j = 0; j < g->sdim; j++) {
		if (g->out_shape[j] == 0)
			return 1;
	}
	for (int j = 0; j < g->sdim; j++) {
		int i = 0;
		while (i < g->sdim && fabs(g->out_to_in[i][j]) < 0.5)
			i++;
		double first = g->out_to_in[i][3];
		double last = first + g->out_to_in[i][j] * (double)(g->out_shape[j] - 1);
		if (first < -0.5 || last < -0.5 || first > (double)g->in_shape[i] - 0.5 ||
		    last > (double)g->in_shape[i] - 0.5)
			return 0;
	}
	return 1;
}

void mg_grid_map(struct mg_grid *g, const double m[4][4])
{
	mg_affine_mul(g->affine, m, g->affine);
	memcpy(g->out_to_in, m, sizeof g->out_to_in);
}

void mg_grid_then(struct mg_grid *g, const struct mg_grid *next)
{
	int keep = reads_inside(next);
	mg_affine_mul(g->out_to_in, next->out_to_in, g->out_to_in);
	memcpy(g->out_shape, next->out_shape, sizeof g->out_shape);
	memcpy(g->affine, next->affine, sizeof g->affine);
	/* MONAI's lazy resampling: the last op's modes win, except that a step which reads
	 * only voxels inside its input (Flip, Orientation, a crop) sets none (MONAI's
	 * pending crop/flip carries no mode); a pad's padding then still applies after a
	 * crop that reaches into it */
	if (keep)
		return;
	g->mode = next->mode;
	g->padding = next->padding;
	g->align_corners = next->align_corners;
}

int mg_grid_is_index_only(const struct mg_grid *g)
{
	const double tol = 1e-9;
	for (int i = 0; i < g->sdim; i++) {
		int ones = 0;
		for (int j = 0; j < g->sdim; j++) {
			double v = fabs(g->out_to_in[i][j]);
			if (fabs(v - 1) < tol)
				ones++;
			else if (v > tol)
				return 0;
		}
		double t = g->out_to_in[i][3];
		if (ones != 1 || fabs(t - nearbyint(t)) > tol)
			return 0;
	}
	for (int j = 0; j < g->sdim; j++) {
		int ones = 0;
		for (int i = 0; i < g->sdim; i++)
			ones += fabs(g->out_to_in[i][j]) > 0.5;
		if (ones != 1)
			return 0;
	}
	return 1;
}

void mg_applied_set(struct mg_applied *a, const char *op, const struct mg_grid *g,
		    const double in_affine[4][4])
{
	memset(a, 0, sizeof *a);
	snprintf(a->op, sizeof a->op, "%s", op);
	a->sdim = (int8_t)g->sdim;
	a->mode = (int8_t)g->mode;
	a->padding = (int8_t)g->padding;
	a->align_corners = (int8_t)g->align_corners;
	memcpy(a->in_shape, g->in_shape, sizeof a->in_shape);
	memcpy(a->out_shape, g->out_shape, sizeof a->out_shape);
	memcpy(a->out_to_in, g->out_to_in, sizeof a->out_to_in);
	memcpy(a->in_affine, in_affine, sizeof a->in_affine);
}

void mg_applied_grid(const struct mg_applied *a, struct mg_grid *g)
{
	memset(g, 0, sizeof *g);
	g->sdim = a->sdim;
	g->mode = (enum mg_interp)a->mode;
	g->padding = (enum mg_pad)a->padding;
	g->align_corners = a->align_corners;
	memcpy(g->in_shape, a->in_shape, sizeof g->in_shape);
	memcpy(g->out_shape, a->out_shape, sizeof g->out_shape);
	memcpy(g->affine, a->in_affine, sizeof g->affine);
	mg_grid_map(g, a->out_to_in);
}

int mg_interp_parse(const char *s)
{
	static const struct {
		const char *name;
		enum mg_interp m;
	} names[] = {{"nearest", MG_INTERP_NEAREST},	 {"bilinear", MG_INTERP_LINEAR},
		     {"trilinear", MG_INTERP_LINEAR},	 {"linear", MG_INTERP_LINEAR},
		     {"bicubic", MG_INTERP_CUBIC},	 {"0", MG_INTERP_NEAREST},
		     {"1", MG_INTERP_LINEAR}};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].m;
	return -1;
}

int mg_pad_parse(const char *s)
{
	static const char *const names[] = {"zeros", "border", "reflection"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}
