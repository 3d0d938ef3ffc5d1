/* Op: FusedElementwise
 * Synopsis: a run of elementwise ops on one value, applied as one step.
 * MONAI: none (a Compose of intensity transforms); made by the fuse-elementwise pass, not
 * written in pipeline files.
 * Gradient: none.  Inverse: none.
 *
 * The reference kernel composes the members' reference kernels in order, each reading
 * its predecessor's output as the unfused chain would have materialised it (same dtype,
 * same rounding), and releases each intermediate as soon as the next member has run: the
 * result is bit-identical to the unfused chain, dtype, values and meta alike. The type is
 * the members' type rules in order; an error names the member (label and op).
 *
 * What the generated kernels (the LLVM backend, gen_chain.c) do instead: members are maps
 * y = f_i(x; p_i) per voxel whose parameters p_i may be reductions over the member's own
 * input (each op's header says which: NormalizeIntensity's mean and std, over the
 * nonzero voxels with nonzero=true; ScaleIntensityRange and CastToType reduce nothing).
 * A member's input is f_{i-1}(...f_1(x)), itself a per-voxel function of the run's
 * input, so no intermediate image is needed:
 *   1. reductions first, in chain order: for each member with reductions, one pass over
 *      the run's input that evaluates the prefix f_1..f_{i-1} per voxel (with the p_j
 *      already known) and accumulates p_i; a reduction that needs another of the same
 *      member (the std around the mean) takes a pass of its own;
 *   2. then one pass that evaluates f_1..f_n per voxel and writes the output.
 * A run without reductions is a single pass. The prefix must be evaluated exactly as the
 * members compute it (each torch op's rounding, the intermediate dtypes: a CastToType to
 * int16 truncates before a later member reads it), never simplified algebraically, or
 * results change in the last bits; see docs/fusion.md. */
#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"chain", MG_ATTR_CHAIN, "null", MG_ATTRF_NULLABLE, NULL,
	 "the elementwise ops it replaced, in order, with their arguments"},
};

static int fused_elementwise(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
			     struct mg_kctx *k)
{
	const struct mg_chain *c = a[0].v.chain;
	struct mg_val cur = in[0]; /* borrowed from the caller until the first member has run */
	for (int i = 0; i < c->n; i++) {
		struct mg_val next = {0};
		int rc = mg_ops[c->ops[i]]->ref(c->attrs[i], &cur, &next, k);
		if (i > 0)
			mg_val_release(&cur); /* the intermediate this member read */
		if (rc) {
			mg_val_release(&next);
			if (k->err->code == 0)
				mg_err_set(k->err, rc, "failed");
			mg_chain_err(k->err, c, i);
			return rc;
		}
		cur = next;
	}
	out[0] = cur;
	return 0;
}

/* Generated kernels for the whole run when every member has an emit or a reduce + map
 * (docs/fusion.md); the composed reference kernels otherwise. */
static int fused_elementwise_gen(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				 struct mg_kctx *k)
{
	const struct mg_chain *c = a[0].v.chain;
	const struct mg_opdef *defs[MG_STEP_MAXIO * 4];
	int rc = -2;
	if (c->n <= (int)(sizeof defs / sizeof *defs)) {
		for (int i = 0; i < c->n; i++)
			defs[i] = mg_ops[c->ops[i]];
		rc = mg_elementwise_chain_gen(defs, c->attrs, c->n, in, out, k);
	}
	return rc == -2 ? fused_elementwise(a, in, out, k) : rc;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	return mg_chain_infer("FusedElementwise", "fuse-elementwise", a, in, out, e);
}

const struct mg_opdef mg_op_fused_elementwise = {
	.name = "FusedElementwise",
	.synopsis = "several elementwise ops as one step (made by the fuse-elementwise pass)",
	.flags = MG_OPF_ELEMENTWISE,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = 1,
	.infer = infer,
	.ref = fused_elementwise,
	.gen = fused_elementwise_gen,
};
