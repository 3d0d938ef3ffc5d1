/* spatial.c: what every spatial op shares: running a grid. An index-only grid that stays
 * inside the image becomes a view (Orientation and Flip move no data); anything else is
 * one pass of the reference resampler. Read next: runtime/resample.h. */
#include <math.h>
#include <string.h>

#include "op.h"

/* The view that realises an index-only grid, or 0 when it reads outside the input. */
static int as_view(const struct mg_tensor *x, const struct mg_grid *g, struct mg_tensor *y)
{
	*y = *x;
	y->rank = g->sdim + 1;
	int empty = 0;
	for (int j = 0; j < g->sdim; j++)
		empty |= g->out_shape[j] == 0;
	for (int j = 0; j < g->sdim; j++) {
		int i = 0;
		while (i < g->sdim && fabs(g->out_to_in[i][j]) < 0.5)
			i++;
		int64_t s = g->out_to_in[i][j] > 0 ? 1 : -1;
		int64_t t = (int64_t)llround(g->out_to_in[i][3]);
		int64_t last = t + s * (g->out_shape[j] - 1);
		/* an empty result reads nothing: any map is inside */
		if (!empty && (t < 0 || t >= x->dims[1 + i] || last < 0 || last >= x->dims[1 + i]))
			return 0;
		y->dims[1 + j] = g->out_shape[j];
		y->strides[1 + j] = s * x->strides[1 + i];
	}
	/* the offset of output voxel 0 */
	y->offset = x->offset;
	for (int i = 0; i < g->sdim && !empty; i++)
		y->offset += (int64_t)llround(g->out_to_in[i][3]) * x->strides[1 + i];
	return 1;
}

int mg_spatial_apply(const struct mg_opdef *d, const struct mg_attr *attrs,
		     struct mg_val *in, struct mg_val *out, struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], d->name, k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	if (x->rank < 3 || x->rank > 4)
		return mg_err_set(k->err, MG_ERR_SHAPE,
				  "%s expects a channel-first 2D or 3D image (C, X, Y[, Z]), got "
				  "rank %d (is EnsureChannelFirst missing?)",
				  d->name, x->rank);
	struct mg_grid g;
	mg_grid_identity(&g, x);
	if ((rc = d->grid(attrs, x, &g, k->err)))
		return rc;
	struct mg_tensor y;
	if (mg_grid_is_index_only(&g) && as_view(x, &g, &y)) {
		y = mg_tensor_share(&y);
	} else if ((rc = mg_resample(x, &g, MG_DTYPE_F32, &y, k->err))) {
		return rc;
	} else {
		y.meta = x->meta;
		mg_meta_retain(y.meta);
	}
	struct mg_meta *m = mg_meta_mut(&y);
	if (!m) {
		mg_tensor_release(&y);
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	}
	memcpy(m->affine, g.affine, sizeof m->affine);
	m->sdim = g.sdim;
	if (m->napplied < MG_MAX_APPLIED) {
		struct mg_applied *ap = &m->applied[m->napplied++];
		snprintf(ap->op, sizeof ap->op, "%s", d->name);
		memcpy(ap->orig_shape, g.in_shape, sizeof ap->orig_shape);
	}
	out[0].kind = MG_VK_TENSOR;
	out[0].t = y;
	return 0;
}
