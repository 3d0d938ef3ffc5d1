/* fuse_elementwise.c: runs of elementwise ops on one value (MG_OPF_ELEMENTWISE:
 * ScaleIntensityRange -> NormalizeIntensity -> CastToType) become one FusedElementwise
 * node (the runs are found by fuse.c), so a generated kernel can make one pass over the
 * voxels after the members' reductions (ops/fused_elementwise.c). Ops that draw random
 * numbers stay out: they end the cacheable prefix, which a fused node would blur. Any
 * other op flagged elementwise joins with no change here. */
#include "fuse.h"

static int joins(const struct mg_graph *g, int32_t n)
{
	unsigned flags = mg_ops[g->nodes[n].op]->flags;
	return (flags & MG_OPF_ELEMENTWISE) && !(flags & MG_OPF_RANDOM);
}

int mg_pass_fuse_elementwise(struct mg_graph *g, struct mg_err *e)
{
	static const struct mg_fuse f = {"fuse-elementwise", MG_OP_FusedElementwise, joins};
	return mg_fuse_runs(g, &f, e);
}
