/* Op: Identity
 * Synopsis: the input, unchanged.
 * MONAI: monai.transforms.Identity(d)
 * Gradient: the identity.  Inverse: itself.
 *
 * MONAI (utility/array.py) returns convert_to_tensor(img): the same tensor. Values are
 * immutable in mgc, so the output is a new reference to the input's storage and meta. */
#include "op.h"

static int identity(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	(void)a;
	return mg_val_share(&out[0], &in[0], k->err);
}

static int grad(struct mg_grad *c)
{
	c->dx[0] = c->dy[0];
	return 0;
}

const struct mg_opdef mg_op_identity = {
	.name = "Identity",
	.synopsis = "the input unchanged (a new reference, no copy)",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.ref = identity,
	.grad = grad,
};
