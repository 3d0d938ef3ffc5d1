/* optab.c: mg_ops_optab, the op table (mg_ops[]) through struct mg_optab, whose op
 * numbers are enum mg_op, as in fused chains. */
#include "op.h"
#include "optab.h"

static const char *op_name(int op) { return mg_ops[op]->name; }
/* the plan's kernel, as ir/lower.c picks it: gen when the op has one (it runs ref
 * itself when there is no backend) */
static mg_kernel_fn op_kernel(int op) { return mg_ops[op]->gen ? mg_ops[op]->gen : mg_ops[op]->ref; }
static const void *op_def(int op) { return mg_ops[op]; }
static int op_nattrs(int op) { return mg_ops[op]->nattrs; }

static const char *op_attr(int op, int k, enum mg_attr_type *type)
{
	*type = mg_ops[op]->attrs[k].type;
	return mg_ops[op]->attrs[k].name;
}

static int op_arity_ok(int op, const struct mg_attr *attrs, int nin, int nout)
{
	return mg_op_arity_ok(mg_ops[op], attrs, nin, nout);
}

const struct mg_optab mg_ops_optab = {MG_OP_COUNT, op_name, op_kernel, op_def, op_nattrs,
				      op_attr, op_arity_ok};
