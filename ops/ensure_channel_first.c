/* Op: EnsureChannelFirst
 * Synopsis: move the image's channel axis to position 0, or add one of size 1.
 * MONAI: monai.transforms.EnsureChannelFirst(d)
 * Gradient: none.  Inverse: none.
 *
 * The channel axis comes from channel_dim when set, else from the meta's
 * original_channel_dim, which the reader set: no channel for 2D/3D NIfTI (a leading axis
 * is added, MONAI's img[None]), -1 for 4D NIfTI (moved to 0, MONAI's moveaxis). The
 * result is always a view of the input's storage, as in MONAI; meta is shared, and only
 * a channel_dim argument writes to it (MONAI records that value as original_channel_dim),
 * on a copy. An image without meta and without channel_dim is an error with
 * strict_check (MONAI's ValueError) and passes through unchanged without it.
 * Known deviation: mgc images always carry original_channel_dim, so MONAI's second
 * error ("Unknown original_channel_dim" for a MetaTensor whose meta lacks the key) has
 * no counterpart. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"strict_check", MG_ATTR_BOOL, "true", 0, NULL,
	 "error when the channel axis is unknown; false passes the image through"},
	{"channel_dim", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE | MG_ATTRF_INT_OK, NULL,
	 "the input's channel axis (an integer, may be negative) or \"no_channel\"; "
	 "overrides the meta's original_channel_dim"},
};
enum { A_STRICT, A_CHANNEL_DIM };

/* channel_dim's text -> an axis or MG_NO_CHANNEL; -1000 when it is neither. */
static int parse_channel_dim(const char *s)
{
	if (strcmp(s, "no_channel") == 0)
		return MG_NO_CHANNEL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < -MG_MAX_RANK || v >= MG_MAX_RANK)
		return -1000;
	return (int)v;
}

static int bad_channel_dim(const char *s, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_CONFIG, "channel_dim is \"%s\"; expected \"no_channel\" "
					    "or an axis from %d to %d", s, -MG_MAX_RANK,
			  MG_MAX_RANK - 1);
}

/* Also LoadImage's ensure_channel_first=true (declared in op.h). */
int mg_channel_first(struct mg_tensor *t, int cd, const char *from, struct mg_err *e)
{
	if (cd == MG_NO_CHANNEL) {
		if (t->rank >= MG_MAX_RANK)
			return mg_err_set(e, MG_ERR_SHAPE, "cannot add a channel axis to a "
							   "rank-%d image (at most %d)",
					  t->rank, MG_MAX_RANK);
		mg_tensor_unsqueeze(t, 0);
		return 0;
	}
	int axis = cd < 0 ? t->rank + cd : cd;
	if (axis < 0 || axis >= t->rank)
		return mg_err_set(e, MG_ERR_SHAPE, "%s %d is not an axis of the rank-%d image",
				  from, cd, t->rank);
	mg_tensor_movedim(t, axis, 0);
	return 0;
}

static int ensure_channel_first(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
				struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "EnsureChannelFirst", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	const char *arg = a[A_CHANNEL_DIM].is_none ? NULL : a[A_CHANNEL_DIM].v.s;
	if (!x->meta && !arg) {
		if (a[A_STRICT].v.i)
			return mg_err_set(k->err, MG_ERR_CONFIG,
					  "the image has no metadata and channel_dim is null, "
					  "so its channel axis is unknown (MONAI: \"Metadata "
					  "not available and channel_dim=None\"); set "
					  "channel_dim, or strict_check=false to pass the image "
					  "through");
		return mg_val_share(&out[0], &in[0], k->err);
	}
	int cd = arg ? parse_channel_dim(arg) : x->meta->original_channel_dim;
	if (cd == -1000)
		return bad_channel_dim(arg, k->err);
	struct mg_tensor y = mg_tensor_share(x);
	rc = mg_channel_first(&y, cd, arg ? "channel_dim" : "the meta's original_channel_dim",
			   k->err);
	if (!rc && arg) {
		struct mg_meta *m = mg_meta_mut(&y);
		if (!m)
			rc = mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
		else
			m->original_channel_dim = cd;
		/* a fresh meta (plain array): its spatial rank is what follows the channel */
		if (m && !x->meta && (y.rank == 3 || y.rank == 4))
			m->sdim = y.rank - 1;
	}
	if (rc) {
		mg_tensor_release(&y);
		return rc;
	}
	mg_val_set_tensor(&out[0], y, NULL);
	return 0;
}

/* The output rank is known only when channel_dim is given: otherwise it depends on
 * the file that is read. */
static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	int rc = mg_op_infer_image(&in[0], "EnsureChannelFirst", e);
	if (rc)
		return rc;
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = in[0].dtype;
	out[0].rank = -1;
	if (a[A_CHANNEL_DIM].is_none)
		return 0;
	int cd = parse_channel_dim(a[A_CHANNEL_DIM].v.s);
	if (cd == -1000)
		return bad_channel_dim(a[A_CHANNEL_DIM].v.s, e);
	if (in[0].rank < 0)
		return 0;
	struct mg_tensor t = {.rank = in[0].rank}; /* shape only: reuse the view rules */
	for (int i = 0; i < t.rank; i++)
		t.dims[i] = in[0].dims[i];
	rc = mg_channel_first(&t, cd, "channel_dim", e);
	if (rc)
		return rc;
	out[0].rank = t.rank;
	for (int i = 0; i < t.rank; i++)
		out[0].dims[i] = t.dims[i];
	return 0;
}

const struct mg_opdef mg_op_ensure_channel_first = {
	.name = "EnsureChannelFirst",
	.synopsis = "move the channel axis to position 0, or add one (a view, no copy)",
	.flags = 0,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = ensure_channel_first,
};
