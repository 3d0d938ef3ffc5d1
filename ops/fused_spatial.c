/* Op: FusedSpatial
 * Synopsis: a run of spatial ops on one value, applied as one resampling (or one view).
 * MONAI: lazy resampling (Compose(lazy=True)); made by the fuse-spatial pass, not written
 * in pipeline files.
 * Gradient: none.  Inverse: Invertd, from the members' applied-operations entries.
 *
 * The members' grids are composed per item, each computed on the shape and affine its
 * predecessor would have produced, so the output's shape and affine are exactly the
 * unfused chain's. Modes and padding are the last member's (MONAI's lazy rule). The
 * dtype is the chain's as the members' type rules give it (Spacing makes float32, an
 * Orientation-only chain keeps the input's). Every member leaves its applied-operations
 * entry, as the unfused chain would. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"chain", MG_ATTR_CHAIN, "null", MG_ATTRF_NULLABLE, NULL,
	 "the spatial ops it replaced, in order, with their arguments"},
};

/* Walks the chain over a shape-and-affine stand-in for the image: calls each member's
 * grid on what its predecessor produced and composes. `each` (may be NULL) sees every
 * member's own grid and its input's affine; its error stops the walk. */
typedef int each_fn(void *ctx, int i, const struct mg_grid *gi, const double in_affine[4][4],
		    struct mg_err *e);
static int compose(const struct mg_chain *c, const struct mg_tensor *in, struct mg_grid *g,
		   each_fn *each, void *ctx, struct mg_err *e)
{
	struct mg_meta m = {.sdim = in->rank - 1};
	for (int i = 0; i < 4; i++)
		m.affine[i][i] = 1;
	if (in->meta)
		m = *in->meta;
	struct mg_tensor cur = *in;
	cur.meta = &m;
	cur.buf = NULL; /* no member's grid reads data */
	for (int i = 0; i < c->n; i++) {
		const struct mg_opdef *d = mg_ops[c->ops[i]];
		struct mg_grid gi;
		mg_grid_identity(&gi, &cur);
		int rc = d->grid(c->attrs[i], &cur, &gi, e);
		if (!rc && d->then) { /* a second step that reads inside: composes exactly */
			struct mg_grid g2;
			mg_grid_next(&gi, &g2);
			if (!(rc = d->then(c->attrs[i], &gi, &g2, e)))
				mg_grid_then(&gi, &g2);
		}
		if (rc) {
			mg_chain_err(e, c, i);
			return rc;
		}
		if (each && (rc = each(ctx, i, &gi, m.affine, e)))
			return rc;
		mg_grid_then(g, &gi);
		for (int j = 0; j < gi.sdim; j++)
			cur.dims[1 + j] = gi.out_shape[j];
		memcpy(m.affine, gi.affine, sizeof m.affine);
	}
	return 0;
}

static int grid(const struct mg_attr *a, const struct mg_tensor *in, struct mg_grid *g,
		struct mg_err *e)
{
	return compose(a[0].v.chain, in, g, NULL, NULL, e);
}

struct applied {
	struct mg_meta *m;
	const struct mg_chain *c;
};

static int note_applied(void *ctx, int i, const struct mg_grid *gi,
			const double in_affine[4][4], struct mg_err *e)
{
	struct applied *ap = ctx;
	return mg_applied_push(ap->m, mg_ops[ap->c->ops[i]]->name, gi, in_affine, e);
}

const struct mg_opdef mg_op_fused_spatial;

static int fused_spatial(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			 struct mg_kctx *k)
{
	const struct mg_chain *c = a[0].v.chain;
	int napplied = in[0].kind == MG_VK_TENSOR && in[0].t.meta ? in[0].t.meta->napplied : 0;
	int rc = mg_spatial_apply(&mg_op_fused_spatial, a, in, out, k);
	if (rc)
		return rc;
	/* one entry per member instead of one for the whole chain */
	struct mg_meta *m = mg_meta_mut(&out[0].t);
	if (!m)
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	m->napplied = napplied;
	struct applied ap = {m, c};
	struct mg_grid g;
	mg_grid_identity(&g, &in[0].t);
	if ((rc = compose(c, &in[0].t, &g, note_applied, &ap, k->err)))
		return rc;
	struct mg_type tin = {.kind = MG_VK_TENSOR, .dtype = (int)in[0].t.dtype,
			      .rank = in[0].t.rank}, tout;
	if ((rc = mg_chain_infer("FusedSpatial", "fuse-spatial", a, &tin, &tout, k->err)))
		return rc;
	if (tout.dtype < 0 || tout.dtype == (int)out[0].t.dtype)
		return 0;
	struct mg_tensor y;
	rc = mg_tensor_cast(&y, &out[0].t, (enum mg_dtype)tout.dtype, k->err);
	mg_tensor_release(&out[0].t);
	out[0].kind = rc ? MG_VK_NONE : MG_VK_TENSOR;
	if (!rc)
		out[0].t = y;
	return rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_chain_infer("FusedSpatial", "fuse-spatial", a, in, out, e);
}

const struct mg_opdef mg_op_fused_spatial = {
	.name = "FusedSpatial",
	.synopsis = "several spatial ops as one resampling (made by the fuse-spatial pass)",
	.flags = MG_OPF_SPATIAL,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = 1,
	.infer = infer,
	.ref = fused_spatial,
	.grid = grid,
};
