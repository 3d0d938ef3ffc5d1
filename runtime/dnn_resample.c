/* dnn_resample.c: linear resampling through oneDNN (dnn.h), on dnn.c's primitive cache
 * and runner: torch's linear, bilinear and trilinear interpolation with align_corners
 * false, whose half-pixel source coordinate (o + 0.5) in / out - 0.5 is oneDNN's when
 * the factors are out / in. torch clamps a negative coordinate to 0, oneDNN clamps the
 * taps to the input: both read only x[0] there, so the values agree but for rounding.
 * Read next: dnn.h for the contract, ops/upsample.c for the caller. */
#include "dnn.h"

#ifndef MG_HAVE_DNNL

int mg_dnn_resample(int backward, const struct mg_tensor *small, const struct mg_tensor *big,
		    struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

#else

#include <string.h>

#include "dnn_int.h"

static int create(struct dnn_entry *en, const struct dnn_key *k,
		  const struct mg_tensor *const op[DNN_NOP], struct mg_err *e)
{
	int rc = 0, bwd = k->kind == DNN_RESAMPLE_BWD;
	dnnl_resampling_desc_t d, fd;
	dnnl_primitive_desc_t pd = NULL, hint = NULL;
	dnnl_primitive_attr_t attr = NULL;
	TRY(mg_dnn_attr(&attr), "attributes");
	TRY(dnnl_resampling_forward_desc_init(&fd, dnnl_forward_training, dnnl_resampling_linear,
					      NULL, &en->md[0], &en->md[1]),
	    "resampling descriptor");
	if (!bwd) {
		TRY(dnnl_primitive_desc_create(&pd, &fd, attr, mg_dnn_engine, NULL), "resampling");
		en->args[0] = DNNL_ARG_SRC, en->args[1] = DNNL_ARG_DST;
		en->is_out[1] = 1;
	} else {
		TRY(dnnl_primitive_desc_create(&hint, &fd, NULL, mg_dnn_engine, NULL),
		    "resampling hint");
		TRY(dnnl_resampling_backward_desc_init(&d, dnnl_resampling_linear, NULL, &en->md[0],
						       &en->md[1]),
		    "resampling backward descriptor");
		TRY(dnnl_primitive_desc_create(&pd, &d, attr, mg_dnn_engine, hint),
		    "resampling backward");
		en->args[0] = DNNL_ARG_DIFF_SRC, en->args[1] = DNNL_ARG_DIFF_DST;
		en->is_out[0] = 1;
	}
out:
	return mg_dnn_create_end(en, op, pd, hint, attr, rc, e);
}

int mg_dnn_resample(int backward, const struct mg_tensor *small, const struct mg_tensor *big,
		    struct mg_err *e)
{
	int r = small->rank;
	if (r < 3 || r > 5 || big->rank != r || small->dims[0] != big->dims[0] ||
	    small->dims[1] != big->dims[1])
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN resampling: the tensors must be (N, C, "
				  "spatial...) of one N, C and rank 3 to 5");
	if (mg_dnn_expect(small, backward ? "dx" : "x", r, small->dims, e) ||
	    mg_dnn_expect(big, backward ? "dy" : "y", r, big->dims, e))
		return e->code;
	const struct mg_tensor *op[DNN_NOP] = {small, big};
	struct dnn_key k;
	memset(&k, 0, sizeof k);
	k.kind = backward ? DNN_RESAMPLE_BWD : DNN_RESAMPLE_FWD;
	for (int i = 0; i < DNN_NOP; i++)
		mg_dnn_key_operand(&k, i, op[i]);
	return mg_dnn_call(&k, op, create, e);
}

#endif
