/* dnn_norm.c: batch and layer normalization and PReLU through oneDNN (dnn.h), on dnn.c's
 * primitive cache and runner. The primitives run on x's layout as given, but batch
 * normalization on plain NCDHW, which oneDNN 2.6 runs with slow loops, runs on
 * channels-last, x and the results reordered. The backward passes take dy and dx in x's
 * layout too: dy and dx of other strides go through the runner's reorders (oneDNN
 * 2.6's PReLU backward computed wrong gradients for a dense x with a dy of other strides,
 * a channel slice of a concatenation's gradient).
 * Read next: dnn.h for the contract, ops/norm.c and ops/prelu.c for the callers. */
#include "dnn.h"

#ifndef MG_HAVE_DNNL

int mg_dnn_norm_fwd(const struct mg_dnn_norm *b, const struct mg_tensor *y, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

int mg_dnn_norm_bwd(const struct mg_dnn_norm *b, const struct mg_tensor *dy,
		    const struct mg_tensor *dx, const struct mg_tensor *dscale,
		    const struct mg_tensor *dshift, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

int mg_dnn_prelu_fwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *y, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

int mg_dnn_prelu_bwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *dy, const struct mg_tensor *dx,
		     const struct mg_tensor *dw, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

#else

#include <string.h>

#include "dnn_int.h"

/* A normalization's operand slots, forward and backward (shift once more at the end: the
 * backward's stand-in). */
enum { N_X, N_MEAN, N_VAR, N_SCALE, N_SHIFT, N_Y, N_DY = N_SHIFT, N_DX, N_DSCALE, N_DSHIFT,
       N_BWD_SHIFT };

/* The forward descriptor of k's normalization on data layout md. */
static dnnl_status_t norm_desc(dnnl_batch_normalization_desc_t *bd,
			       dnnl_layer_normalization_desc_t *ld, const struct dnn_key *k,
			       const dnnl_memory_desc_t *md)
{
	if (k->kind == DNN_LNORM_FWD || k->kind == DNN_LNORM_BWD)
		return dnnl_layer_normalization_forward_desc_init(ld, dnnl_forward_training, md, NULL,
								  k->eps, k->flags);
	return dnnl_batch_normalization_forward_desc_init(bd, dnnl_forward_training, md, k->eps,
							  k->flags);
}

/* Whether pd is one of oneDNN's slow implementations (batch normalization on plain NCDHW
 * runs "ncsp" C++ loops or the reference, on channels-last with fewer than 8 channels the
 * reference: 6x or more slower than its jit kernels; docs/networks.md). */
static int slow(dnnl_primitive_desc_t pd)
{
	const char *impl = NULL;
	dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
	return !impl || strstr(impl, "ncsp") || strstr(impl, "ref");
}

static int norm_create(struct dnn_entry *en, const struct dnn_key *k,
		       const struct mg_tensor *const op[DNN_NOP], struct mg_err *e)
{
	int rc = 0, layer = k->kind == DNN_LNORM_FWD || k->kind == DNN_LNORM_BWD;
	int bwd = k->kind == DNN_BNORM_BWD || k->kind == DNN_LNORM_BWD;
	dnnl_batch_normalization_desc_t bd;
	dnnl_layer_normalization_desc_t ld;
	dnnl_primitive_desc_t pd = NULL, hint = NULL;
	dnnl_primitive_attr_t attr = NULL;
	/* the data layout: x's, or when that runs a slow batch normalization channels-last,
	 * or else (fewer than 8 channels) oneDNN's blocked layout of 8 channels; the runner
	 * then reorders x, y, dy and dx */
	static const dnnl_format_tag_t alt[2][6] = {
		{0, 0, 0, dnnl_nwc, dnnl_nhwc, dnnl_ndhwc},
		{0, 0, 0, dnnl_nCw8c, dnnl_nChw8c, dnnl_nCdhw8c}};
	dnnl_memory_desc_t md = en->md[N_X];
	TRY(mg_dnn_attr(&attr), "attributes");
	TRY(norm_desc(&bd, &ld, k, &md), "normalization descriptor");
	TRY(dnnl_primitive_desc_create(&hint, layer ? (const_dnnl_op_desc_t)&ld
						    : (const_dnnl_op_desc_t)&bd,
				       NULL, mg_dnn_engine, NULL),
	    "normalization");
	for (int i = 0; i < 2 && !layer && md.ndims > 2 && slow(hint); i++) {
		dnnl_memory_desc_t amd;
		dnnl_primitive_desc_t pd2 = NULL;
		if (dnnl_memory_desc_init_by_tag(&amd, md.ndims, md.dims, dnnl_f32,
						 alt[i][md.ndims]) == dnnl_success &&
		    norm_desc(&bd, &ld, k, &amd) == dnnl_success &&
		    dnnl_primitive_desc_create(&pd2, &bd, NULL, mg_dnn_engine, NULL) == dnnl_success &&
		    !slow(pd2)) {
			dnnl_primitive_desc_destroy(hint);
			hint = pd2;
			md = amd;
		} else if (pd2) {
			dnnl_primitive_desc_destroy(pd2);
		}
	}
	TRY(norm_desc(&bd, &ld, k, &md), "normalization descriptor");
	if (!bwd) {
		TRY(dnnl_primitive_desc_create(&pd, layer ? (const_dnnl_op_desc_t)&ld
							  : (const_dnnl_op_desc_t)&bd,
					       attr, mg_dnn_engine, NULL),
		    "normalization");
		memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
					 DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DST},
		       6 * sizeof *en->args);
		en->is_out[N_MEAN] = en->is_out[N_VAR] = !(k->flags & dnnl_use_global_stats);
		en->is_out[N_Y] = 1;
	} else {
		dnnl_prop_kind_t prop = k->flags & (dnnl_use_scale | dnnl_use_shift)
						? dnnl_backward : dnnl_backward_data;
		if (layer)
			TRY(dnnl_layer_normalization_backward_desc_init(&ld, prop, &md, &md, NULL,
									k->eps, k->flags),
			    "normalization backward descriptor");
		else
			TRY(dnnl_batch_normalization_backward_desc_init(&bd, prop, &md, &md, k->eps,
									k->flags),
			    "normalization backward descriptor");
		TRY(dnnl_primitive_desc_create(&pd, layer ? (const_dnnl_op_desc_t)&ld
							  : (const_dnnl_op_desc_t)&bd,
					       attr, mg_dnn_engine, hint),
		    "normalization backward");
		memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
					 DNNL_ARG_SCALE, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC,
					 DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT, DNNL_ARG_SHIFT},
		       sizeof en->args);
		en->is_out[N_DX] = en->is_out[N_DSCALE] = en->is_out[N_DSHIFT] = 1;
	}
out:
	return mg_dnn_create_end(en, op, pd, hint, attr, rc, e);
}

/* The checks and the key both passes share; flags gets the statistics' and scale's. */
static int norm_key(const struct mg_dnn_norm *b, int bwd,
		    const struct mg_tensor *const op[DNN_NOP], struct dnn_key *k, struct mg_err *e)
{
	const struct mg_tensor *x = b->x;
	if (!x || x->rank < 2 || x->rank > 5)
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN normalization: x must have rank 2 to 5");
	/* layer: one statistic per row of x (rank 2) and the parameters along the row */
	int64_t c = x->dims[1], g = b->layer ? x->dims[0] : c;
	if (b->layer && x->rank != 2)
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN layer normalization: x must be a matrix");
	if (mg_dnn_expect(x, "x", x->rank, x->dims, e) ||
	    mg_dnn_expect(b->mean, "mean", 1, &g, e) || mg_dnn_expect(b->var, "var", 1, &g, e) ||
	    (b->scale && mg_dnn_expect(b->scale, "scale", 1, &c, e)) ||
	    (b->shift && mg_dnn_expect(b->shift, "shift", 1, &c, e)))
		return e->code;
	memset(k, 0, sizeof *k);
	k->kind = b->layer ? (bwd ? DNN_LNORM_BWD : DNN_LNORM_FWD)
			   : (bwd ? DNN_BNORM_BWD : DNN_BNORM_FWD);
	k->eps = (float)b->eps;
	k->flags = (b->global ? dnnl_use_global_stats : 0) | (b->scale ? dnnl_use_scale : 0);
	for (int i = 0; i < DNN_NOP; i++)
		mg_dnn_key_operand(k, i, op[i]);
	return 0;
}

int mg_dnn_norm_fwd(const struct mg_dnn_norm *b, const struct mg_tensor *y, struct mg_err *e)
{
	const struct mg_tensor *op[DNN_NOP] = {b->x, b->mean, b->var, b->scale, b->shift, y};
	struct dnn_key k;
	if (norm_key(b, 0, op, &k, e) || mg_dnn_expect(y, "y", b->x->rank, b->x->dims, e))
		return e->code;
	k.flags |= b->shift ? dnnl_use_shift : 0;
	return mg_dnn_call(&k, op, norm_create, e);
}

int mg_dnn_norm_bwd(const struct mg_dnn_norm *b, const struct mg_tensor *dy,
		    const struct mg_tensor *dx, const struct mg_tensor *dscale,
		    const struct mg_tensor *dshift, struct mg_err *e)
{
	/* oneDNN wants a shift to compute dshift, though it does not read it: the scale's
	 * memory stands in */
	const struct mg_tensor *op[DNN_NOP] = {b->x, b->mean, b->var, b->scale, dy, dx, dscale,
					       dshift, dshift ? b->scale : NULL};
	struct dnn_key k;
	if (norm_key(b, 1, op, &k, e))
		return e->code;
	int64_t c = b->x->dims[1];
	if (mg_dnn_expect(dy, "dy", b->x->rank, b->x->dims, e) ||
	    mg_dnn_expect(dx, "dx", b->x->rank, b->x->dims, e) ||
	    (dscale && mg_dnn_expect(dscale, "dscale", 1, &c, e)) ||
	    (dshift && mg_dnn_expect(dshift, "dshift", 1, &c, e)))
		return e->code;
	if (!dscale != !b->scale || (dshift && !b->scale))
		return mg_err_set(e, MG_ERR_INTERNAL, "oneDNN normalization: dscale goes with "
				  "scale, dshift needs them");
	k.flags |= dshift ? dnnl_use_shift : 0;
	return mg_dnn_call(&k, op, norm_create, e);
}

/* PReLU's operand slots, forward and backward. */
enum { PR_X, PR_W, PR_Y, PR_DY = PR_Y, PR_DX, PR_DW };

static int prelu_create(struct dnn_entry *en, const struct dnn_key *k,
			const struct mg_tensor *const op[DNN_NOP], struct mg_err *e)
{
	int rc = 0, bwd = k->kind == DNN_PRELU_BWD;
	dnnl_prelu_desc_t d, fd;
	dnnl_primitive_desc_t pd = NULL, hint = NULL;
	dnnl_primitive_attr_t attr = NULL;
	TRY(mg_dnn_attr(&attr), "attributes");
	TRY(dnnl_prelu_forward_desc_init(&fd, dnnl_forward_training, &en->md[PR_X], &en->md[PR_W]),
	    "PReLU descriptor");
	if (!bwd) {
		TRY(dnnl_primitive_desc_create(&pd, &fd, attr, mg_dnn_engine, NULL), "PReLU");
		memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
		       3 * sizeof *en->args);
		en->is_out[PR_Y] = 1;
	} else {
		TRY(dnnl_primitive_desc_create(&hint, &fd, NULL, mg_dnn_engine, NULL), "PReLU hint");
		TRY(dnnl_prelu_backward_desc_init(&d, &en->md[PR_X], &en->md[PR_W], &en->md[PR_X],
						  &en->md[PR_DW]),
		    "PReLU backward descriptor");
		TRY(dnnl_primitive_desc_create(&pd, &d, attr, mg_dnn_engine, hint), "PReLU backward");
		memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST,
					 DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_WEIGHTS},
		       5 * sizeof *en->args);
		en->is_out[PR_DX] = en->is_out[PR_DW] = 1;
	}
out:
	return mg_dnn_create_end(en, op, pd, hint, attr, rc, e);
}

/* w (1 or c values, dense) as oneDNN's per-channel weights for x: x's rank, every axis 1
 * but the channels'. One weight for c > 1 channels becomes c of them in *rep (copies of it
 * when fill), since oneDNN 2.6 runs its reference loops for a scalar broadcast and its jit
 * kernels for a per-channel one. */
static int prelu_weights(const struct mg_tensor *x, const struct mg_tensor *w, const char *what,
			 int fill, struct mg_tensor *v, struct mg_tensor *rep, struct mg_err *e)
{
	int64_t n = mg_tensor_numel(w), c = x->rank >= 2 ? x->dims[1] : 0;
	if (x->rank < 2 || x->rank > 5 || (n != 1 && n != c))
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN PReLU: x must have rank 2 to 5 and %s 1 "
				  "or C values", what);
	if (w->rank && mg_dnn_expect(w, what, w->rank, w->dims, e))
		return e->code;
	if (n != c) {
		int rc = mg_tensor_alloc(rep, MG_DTYPE_F32, 1, &c, e);
		if (rc)
			return rc;
		float *p = mg_tensor_data(rep), w0 = *(const float *)mg_tensor_data(w);
		for (int64_t i = 0; i < c && fill; i++)
			p[i] = w0;
		w = rep;
	}
	*v = *w;
	v->rank = x->rank;
	for (int i = 0; i < x->rank; i++) /* dense (C, 1, ...): plain abcde to oneDNN */
		v->dims[i] = i == 1 ? c : 1, v->strides[i] = i == 0 ? c : 1;
	return 0;
}

/* Runs PReLU's forward (dy NULL: op x, w, y) or backward (op x, w, dy, dx, dw). */
static int prelu(const struct mg_tensor *const in[5], int kind, struct mg_err *e)
{
	const struct mg_tensor *x = in[PR_X];
	struct mg_tensor wv, dwv, rep[2] = {{0}};
	int bwd = kind == DNN_PRELU_BWD, rc = prelu_weights(x, in[PR_W], "weight", 1, &wv, &rep[0], e);
	if (!rc && bwd)
		rc = prelu_weights(x, in[PR_DW], "dweight", 0, &dwv, &rep[1], e);
	for (int i = 0; !rc && i < (bwd ? 3 : 2); i++) {
		static const char *const names[2][3] = {{"x", "y"}, {"x", "dy", "dx"}};
		int slot = i == 0 ? PR_X : i == 1 ? PR_Y : PR_DX;
		rc = mg_dnn_expect(in[slot], names[bwd][i], x->rank, x->dims, e);
	}
	const struct mg_tensor *op[DNN_NOP] = {x, &wv, in[PR_Y], bwd ? in[PR_DX] : NULL,
					       bwd ? &dwv : NULL};
	struct dnn_key k;
	memset(&k, 0, sizeof k);
	k.kind = kind;
	for (int i = 0; i < DNN_NOP; i++)
		mg_dnn_key_operand(&k, i, op[i]);
	if (!rc)
		rc = mg_dnn_call(&k, op, prelu_create, e);
	if (!rc && rep[1].buf) { /* one weight: the sum of the per-channel gradients */
		const float *p = mg_tensor_data(&rep[1]);
		double sum = 0;
		for (int64_t i = 0; i < x->dims[1]; i++)
			sum += p[i];
		*(float *)mg_tensor_data(in[PR_DW]) = (float)sum;
	}
	mg_tensor_release(&rep[0]);
	mg_tensor_release(&rep[1]);
	return rc;
}

int mg_dnn_prelu_fwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *y, struct mg_err *e)
{
	return prelu((const struct mg_tensor *const[5]){x, w, y}, DNN_PRELU_FWD, e);
}

int mg_dnn_prelu_bwd(const struct mg_tensor *x, const struct mg_tensor *w,
		     const struct mg_tensor *dy, const struct mg_tensor *dx,
		     const struct mg_tensor *dw, struct mg_err *e)
{
	return prelu((const struct mg_tensor *const[5]){x, w, dy, dx, dw}, DNN_PRELU_BWD, e);
}

#endif
