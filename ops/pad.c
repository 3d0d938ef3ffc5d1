/* Op: Pad
 * Synopsis: pad (or, with negative amounts, crop) the last axes (torch.nn.functional.pad).
 * MONAI: torch.nn.functional.pad (MONAI's networks: DynUNet's and SegResNet's padding)
 * Gradient: PadGrad (this file): the crop of dy (a view for constant padding), the
 * mirrored, replicated or wrapped voxels added back.  Inverse: none.
 *
 * torch 2.x semantics: `pad` is (before, after) for the last axis, then the one before it
 * ...: len(pad) / 2 axes, at most the rank; an amount may be negative (crops). Output
 * index o of a padded axis reads input index i = o - before: inside, x[i]; outside:
 *   constant   value (null: 0)
 *   reflect    the mirror about the edge voxel (-i, 2 (in - 1) - i); pads < in
 *   replicate  the edge voxel
 *   circular   the input cropped by the negative amounts, wrapped around; pads <= in
 * The non-constant modes pad 1, 2 or 3 axes of an input of rank 2 or 3, 3 or 4, 4 or 5,
 * and take no value, as torch's. Float inputs only, as the other network ops. */
#include <math.h>
#include <string.h>

#include "pool.h"

static const struct mg_attrdef attrs[] = {
	{"pad", MG_ATTR_INTS, NULL, 0, NULL,
	 "(before, after) amounts, the last axis first, then the axis before it ...; negative "
	 "amounts crop"},
	{"mode", MG_ATTR_STR, "\"constant\"", 0, "constant|reflect|replicate|circular",
	 "what the padding holds: value, the mirror about the edge voxel, the edge voxel, or "
	 "the input wrapped around"},
	{"value", MG_ATTR_FLOAT, "null", MG_ATTRF_NULLABLE, NULL,
	 "the fill of mode constant (null: 0); not taken by the other modes"},
};
enum { A_PAD, A_MODE, A_VALUE };
enum { CONSTANT, REFLECT, REPLICATE, CIRCULAR };

struct pad {
	int rank, mode;
	double value;
	int64_t in[MG_MAX_RANK], out[MG_MAX_RANK], lo[MG_MAX_RANK];
	int64_t cut[MG_MAX_RANK]; /* the end of the input left by negative amounts */
};

static int geometry(const char *op, const struct mg_attr *a, int rank, const int64_t *xd,
		    struct pad *g, struct mg_err *e)
{
	static const char *const modes[] = {"constant", "reflect", "replicate", "circular"};
	const struct mg_attr *p = &a[A_PAD];
	int np = p->n / 2;
	*g = (struct pad){.rank = rank};
	for (int m = 0; m < 4; m++)
		if (!strcmp(a[A_MODE].v.s, modes[m]))
			g->mode = m;
	g->value = a[A_VALUE].is_none ? 0 : a[A_VALUE].v.f;
	if (p->n % 2)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: pad has %d values; it needs pairs "
				  "(before, after)", op, p->n);
	if (np > rank)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: pad has %d pairs for an input of rank %d",
				  op, np, rank);
	if (g->mode != CONSTANT && !a[A_VALUE].is_none)
		return mg_err_set(e, MG_ERR_CONFIG, "%s: mode \"%s\" takes no value", op,
				  modes[g->mode]);
	if (g->mode != CONSTANT && (np < 1 || np > 3 || rank < np + 1 || rank > np + 2))
		return mg_err_set(e, MG_ERR_CONFIG, "%s: mode \"%s\" pads 1 to 3 axes of an input "
				  "of rank (axes + 1) or (axes + 2): not %d axes of rank %d", op,
				  modes[g->mode], np, rank);
	for (int i = 0; i < rank; i++) { /* axis i takes pad[2 (rank - 1 - i)] and the next */
		int64_t lo = i < rank - np ? 0 : p->v.ints[2 * (rank - 1 - i)];
		int64_t hi = i < rank - np ? 0 : p->v.ints[2 * (rank - 1 - i) + 1];
		g->in[i] = xd[i];
		g->lo[i] = lo;
		g->out[i] = xd[i] + lo + hi;
		g->cut[i] = xd[i] + (hi < 0 ? hi : 0);
		if (g->out[i] < 0 || (g->mode != CONSTANT && g->out[i] < 1))
			return mg_err_set(e, MG_ERR_SHAPE, "%s: axis %d of size %lld padded by (%lld, "
					  "%lld) would have size %lld", op, i, (long long)xd[i],
					  (long long)lo, (long long)hi, (long long)g->out[i]);
		if ((g->mode == REFLECT && (lo >= xd[i] || hi >= xd[i])) ||
		    (g->mode == CIRCULAR && (lo > xd[i] || hi > xd[i])))
			return mg_err_set(e, MG_ERR_CONFIG, "%s: padding (%lld, %lld) of axis %d (size "
					  "%lld) is too large for mode \"%s\" (%s the size)", op,
					  (long long)lo, (long long)hi, i, (long long)xd[i],
					  modes[g->mode], g->mode == REFLECT ? "less than" : "at most");
	}
	return 0;
}

/* The input index that output index o of axis j reads; -1: the constant. */
static int64_t source(const struct pad *g, int j, int64_t o)
{
	int64_t i = o - g->lo[j], n = g->in[j];
	if (i >= 0 && i < n)
		return i;
	switch (g->mode) {
	case REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
	case REPLICATE: return i < 0 ? 0 : n - 1;
	case CIRCULAR: { /* torch crops first and wraps around what is left */
		int64_t c0 = g->lo[j] < 0 ? -g->lo[j] : 0, m = g->cut[j] - c0;
		int64_t w = o - (g->lo[j] > 0 ? g->lo[j] : 0);
		return c0 + (w % m + m) % m;
	}
	}
	return -1;
}

/* y = the padded x, or back: each output voxel's dy added to the voxel it read. */
static void loop(const void *geom, int back, const double *x, const double *dy, double *y)
{
	const struct pad *g = geom;
	int r = g->rank;
	int64_t idx[MG_MAX_RANK] = {0}, n = 1;
	for (int j = 0; j < r; j++)
		n *= g->out[j];
	for (int64_t oi = 0; oi < n; oi++) {
		int64_t ii = 0;
		for (int j = 0; j < r && ii >= 0; j++) {
			int64_t s = source(g, j, idx[j]);
			ii = s < 0 ? -1 : ii * g->in[j] + s;
		}
		if (back && ii >= 0)
			y[ii] += dy[oi];
		else if (!back)
			y[oi] = ii >= 0 ? x[ii] : g->value;
		for (int j = r - 1; j >= 0 && ++idx[j] == g->out[j]; j--)
			idx[j] = 0;
	}
}

static int kernel(int back, const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		  struct mg_kctx *k)
{
	const char *op = back ? "PadGrad" : "Pad";
	struct pad g;
	int rc = mg_nn_expect_x(op, back, in, k->err);
	if (rc || (rc = geometry(op, a, in[0].t.rank, in[0].t.dims, &g, k->err)))
		return rc;
	int crop = g.mode == CONSTANT;
	for (int j = 0; j < g.rank; j++)
		crop &= g.lo[j] >= 0 && g.out[j] >= g.in[j] + g.lo[j];
	const struct mg_tensor *dy = &in[1].t;
	int same = !back || dy->rank == g.rank;
	for (int j = 0; back && same && j < g.rank; j++)
		same = dy->dims[j] == g.out[j];
	if (back && crop && same) { /* the gradient of a zero-free crop is a view of dy */
		struct mg_tensor v = mg_tensor_share(dy);
		for (int j = 0; j < g.rank; j++) {
			v.offset += g.lo[j] * v.strides[j];
			v.dims[j] = g.in[j];
		}
		mg_val_set_tensor(&out[0], v, NULL);
		return 0;
	}
	return mg_nn_run(op, back, &g, g.out, loop, in, out, k);
}

static int pad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
	       struct mg_kctx *k)
{
	return kernel(0, a, in, out, k);
}

static int pad_grad(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		    struct mg_kctx *k)
{
	return kernel(1, a, in, out, k);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "Pad", e);
	struct pad g;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	if (rc || (rc = mg_nn_float_operands("Pad", in, 1, e)) || in[0].rank < 0)
		return rc;
	int64_t xd[MG_MAX_RANK];
	for (int i = 0; i < in[0].rank; i++) /* unknown sizes: check the arguments on any */
		xd[i] = in[0].dims[i] >= 0 ? in[0].dims[i] : 1 << 20;
	if ((rc = geometry("Pad", a, in[0].rank, xd, &g, e)))
		return rc;
	for (int i = 0; i < in[0].rank; i++)
		out[0].dims[i] = in[0].dims[i] < 0 ? -1 : g.out[i];
	return 0;
}

static int grad(struct mg_grad *c) { return mg_nn_grad_x_dy(c, MG_OP_PadGrad); }

const struct mg_opdef mg_op_pad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "Pad",
	.synopsis = "pad or crop the last axes (torch.nn.functional.pad: constant, reflect, "
		    "replicate, circular)",
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = pad,
	.grad = grad,
};

/* Op: PadGrad
 * Synopsis: gradient of Pad (made by the autodiff pass): dx from (x, dy).
 * MONAI: the backward of torch.nn.functional.pad
 * Gradient: none.  Inverse: none.
 *
 * Inputs the forward's x (only its shape is read) and dy (Pad's output shape); Pad's
 * attributes. Constant padding with no negative amount: a view of dy's inner block (no
 * data moves); otherwise each dy voxel is added to the input voxel its output voxel
 * read (the border voxels of reflect, replicate and circular collect several). */
const struct mg_opdef mg_op_pad_grad = {
	.dtypes = MG_DTYPES_FLOAT,
	.name = "PadGrad",
	.synopsis = "gradient of Pad (made by the autodiff pass)",
	.nin = 2,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = mg_nn_grad_infer,
	.ref = pad_grad,
};
