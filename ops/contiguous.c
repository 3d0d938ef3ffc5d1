/* Op: Contiguous
 * Synopsis: the input laid out in memory_format (torch's Tensor.contiguous(memory_format)).
 * MONAI: torch.Tensor.contiguous / .to(memory_format=torch.channels_last_3d) (what the
 * layout pass inserts at a network's edges, passes/layout.c)
 * Gradient: the identity (values have any strides).  Inverse: itself.
 *
 * torch 2.x semantics: the same elements in the same logical order (N, C, spatial...);
 * only the physical order changes: contiguous_format is the last axis fastest,
 * channels_last the channel axis (1) fastest, then the spatial axes from the last, the
 * batch axis slowest (torch's channels_last for rank 4, channels_last_3d for rank 5;
 * here any rank from 3). An input already laid out so is not copied (the output is a view
 * of its storage). A single channel's axis gets stride 0 in channels_last: its stride is
 * free (one element), and 0 records that the channels are the fastest axis, so that the
 * ops after it (which lay their outputs out like their input) keep channels-last where
 * the channels grow. */
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"memory_format", MG_ATTR_STR, "\"contiguous_format\"", 0,
	 "contiguous_format|channels_last",
	 "contiguous_format: the last axis fastest; channels_last: the channel axis fastest "
	 "(rank 3 or more)"},
};

/* The strides of a dense tensor of x's dims in memory format cl (0: contiguous). */
static void format_strides(const struct mg_tensor *x, int cl, int64_t *st)
{
	int r = x->rank, order[MG_MAX_RANK], n = 0;
	if (cl)
		order[n++] = 1;
	for (int i = r - 1; i >= 0; i--)
		if (!cl || (i != 1 && i != 0))
			order[n++] = i;
	if (cl)
		order[n++] = 0;
	int64_t s = 1;
	for (int k = 0; k < r; k++) {
		st[order[k]] = s;
		s *= x->dims[order[k]];
	}
	if (cl && x->dims[1] == 1)
		st[1] = 0;
}

static int check(const struct mg_attr *a, int rank, int *cl, struct mg_err *e)
{
	*cl = strcmp(a[0].v.s, "channels_last") == 0;
	if (*cl && rank >= 0 && rank < 3)
		return mg_err_set(e, MG_ERR_SHAPE, "Contiguous: memory_format channels_last needs "
				  "(N, C, spatial...) of rank 3 or more; x has rank %d", rank);
	return 0;
}

static int contiguous(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	int cl, rc = mg_op_expect_tensor(&in[0], "Contiguous x", k->err);
	const struct mg_tensor *x = &in[0].t;
	if (rc || (rc = check(a, x->rank, &cl, k->err)))
		return rc;
	int64_t st[MG_MAX_RANK];
	format_strides(x, cl, st);
	int same = 1;
	for (int i = 0; i < x->rank; i++)
		same &= x->dims[i] == 1 || x->strides[i] == st[i];
	struct mg_tensor y;
	if (same) { /* a view: the same storage, the strides that say the format */
		y = mg_tensor_share(x);
	} else {
		if ((rc = mg_tensor_alloc(&y, x->dtype, x->rank, x->dims, k->err)))
			return rc;
		mg_meta_retain(x->meta);
		y.meta = x->meta;
	}
	memcpy(y.strides, st, (size_t)x->rank * sizeof *st);
	if (!same)
		mg_tensor_convert(&y, x);
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int cl;
	out[0] = in[0];
	return check(a, in[0].rank, &cl, e);
}

static int grad(struct mg_grad *c)
{
	c->dx[0] = c->dy[0];
	return 0;
}

const struct mg_opdef mg_op_contiguous = {
	.name = "Contiguous",
	.synopsis = "the input laid out in memory_format: contiguous_format or channels_last "
		    "(torch's Tensor.contiguous; a view when it already is)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = contiguous,
	.grad = grad,
};
