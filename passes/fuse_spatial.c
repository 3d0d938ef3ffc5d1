/* fuse_spatial.c: runs of spatial ops on one value become one FusedSpatial node, so the
 * chain moves the voxels once (the runs are found by fuse.c). Pads (MG_OPF_PADS) are
 * never fused: their fill is relative to their own input's edges, which a composed grid
 * no longer has; nor are ops whose grid reads the voxels (MG_OPF_READS_DATA:
 * CropForeground), nor nodes whose arguments make them a barrier (the opdef's `barrier`
 * hook: Resize and Zoom in torch.interpolate's area and nearest modes, a Zoom that
 * pads), nor nodes with a data-key input (fuse.c takes one-input nodes only). */
#include "fuse.h"

static int joins(const struct mg_graph *g, int32_t n)
{
	const struct mg_opdef *d = mg_ops[g->nodes[n].op];
	unsigned barrier = MG_OPF_PADS | MG_OPF_READS_DATA;
	return (d->flags & MG_OPF_SPATIAL) && !(d->flags & barrier) && d->grid &&
	       !(d->barrier && d->barrier(g->nodes[n].attrs));
}

int mg_pass_fuse_spatial(struct mg_graph *g, struct mg_err *e)
{
	static const struct mg_fuse f = {"fuse-spatial", MG_OP_FusedSpatial, joins};
	return mg_fuse_runs(g, &f, e);
}
