/* dnn.c: the oneDNN 2.x calls behind dnn.h, and the primitive cache.
 * Invariant: a cache entry is created once under the lock and never changes or moves
 * until mg_dnn_cache_clear; primitives run with a user scratchpad (allocated per call
 * from the block cache), which is what makes running one primitive from several
 * threads at once safe. An operand whose layout the primitive does not take (torch's
 * weights; activations not in oneDNN's blocked layout, conv_create says when) goes
 * through a reorder into or out of a buffer of the primitive's layout at each call, as
 * PyTorch does. oneDNN's CPU engine and its threads (OpenMP in Debian's build:
 * OMP_NUM_THREADS) are the process's, started on first use.
 * The normalizations and PReLU (dnn_norm.c) share this file's cache and runner through
 * dnn_int.h.
 * Read next: dnn.h for the contract, ops/conv.c for the callers. */
#include "dnn.h"

#ifndef MG_HAVE_DNNL

int mg_dnn_available(void) { return 0; }

int mg_dnn_conv(enum mg_dnn_pass pass, const struct mg_conv_geom *g, int transposed,
		const struct mg_tensor *a, const struct mg_tensor *b, const struct mg_tensor *c,
		const struct mg_tensor *out, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

int mg_dnn_matmul(const struct mg_tensor *a, const struct mg_tensor *b,
		  const struct mg_tensor *bias, const struct mg_tensor *out, struct mg_err *e)
{
	return mg_err_set(e, MG_ERR_UNSUPPORTED, "this mgc was built without oneDNN");
}

int64_t mg_dnn_primitives_created(void) { return 0; }
void mg_dnn_cache_clear(void) {}

#else

#include <dnnl_debug.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dnn_int.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
dnnl_engine_t mg_dnn_engine;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct dnn_entry **cache;
static int ncache, capcache;
static int64_t created;

static void engine_start(void)
{
	if (dnnl_engine_create(&mg_dnn_engine, dnnl_cpu, 0) != dnnl_success)
		mg_dnn_engine = NULL;
}

int mg_dnn_available(void)
{
	pthread_once(&engine_once, engine_start);
	return mg_dnn_engine != NULL;
}

int mg_dnn_fail(struct mg_err *e, dnnl_status_t s, const char *what)
{
	return mg_err_set(e, s == dnnl_unimplemented ? MG_ERR_UNSUPPORTED : MG_ERR_INTERNAL,
			  "oneDNN: %s: %s", what, dnnl_status2str(s));
}

/* The plain memory descriptor of t (dims and strides as they are). */
dnnl_status_t mg_dnn_md_of(dnnl_memory_desc_t *md, const struct mg_tensor *t)
{
	dnnl_dims_t d, s;
	for (int i = 0; i < t->rank; i++)
		d[i] = t->dims[i], s[i] = t->strides[i];
	return dnnl_memory_desc_init_by_strides(md, t->rank, d, dnnl_f32, s);
}

/* torch's weight w (cout, cin/G, k...) seen as oneDNN's weights: (O, I, k...) or, with
 * groups, (G, O/G, I/G, k...), where a convolution's O is cout and a deconvolution's is
 * cin (it maps the small side to the large one). any: the same dims, layout left to the
 * primitive. */
static dnnl_status_t weights_md(dnnl_memory_desc_t *md, const struct mg_conv_geom *g,
				int transposed, const struct mg_tensor *w, int any)
{
	dnnl_dims_t d, s;
	int r = 0;
	int64_t s0 = w->strides[0], s1 = w->strides[1], go = g->cout / g->groups;
	if (g->groups > 1)
		d[r] = g->groups, s[r++] = go * s0;
	d[r] = transposed ? g->cin / g->groups : go;
	s[r++] = transposed ? s1 : s0;
	d[r] = transposed ? go : g->cin / g->groups;
	s[r++] = transposed ? s0 : s1;
	for (int i = 0; i < g->sdim; i++)
		d[r] = g->k[i], s[r++] = w->strides[2 + i];
	return any ? dnnl_memory_desc_init_by_tag(md, r, d, dnnl_f32, dnnl_format_tag_any)
		   : dnnl_memory_desc_init_by_strides(md, r, d, dnnl_f32, s);
}

int mg_dnn_expect(const struct mg_tensor *t, const char *what, int rank, const int64_t *want,
		  struct mg_err *e)
{
	if (!t)
		return rank ? mg_err_set(e, MG_ERR_INTERNAL, "oneDNN call: %s missing", what) : 0;
	if (!rank)
		return mg_err_set(e, MG_ERR_INTERNAL, "oneDNN call: unexpected %s", what);
	if (t->dtype != MG_DTYPE_F32)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN call: %s is %s; only float32 "
				  "is supported", what, mg_dtype_name(t->dtype));
	int ok = t->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = t->dims[i] == want[i];
	if (!ok)
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN call: %s has the wrong shape", what);
	for (int i = 0; i < rank; i++)
		if (t->strides[i] < 0 || (t->strides[i] == 0 && t->dims[i] > 1))
			return mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN call: %s has a negative "
					  "or zero stride; make it contiguous first", what);
	if (rank == 1 && t->dims[0] > 1 && t->strides[0] != 1)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN call: %s is not dense; make it "
				  "contiguous first", what);
	return 0;
}

void mg_dnn_key_operand(struct dnn_key *k, int i, const struct mg_tensor *t)
{
	if (!t)
		return;
	k->present[i] = 1;
	k->rank[i] = t->rank;
	memcpy(k->dims[i], t->dims, sizeof k->dims[i]);
	memcpy(k->strides[i], t->strides, sizeof k->strides[i]);
}

static void entry_free(struct dnn_entry *en)
{
	if (en->prim)
		dnnl_primitive_destroy(en->prim);
	for (int i = 0; i < DNN_NOP; i++)
		if (en->reorder[i])
			dnnl_primitive_destroy(en->reorder[i]);
	free(en);
}

dnnl_status_t mg_dnn_attr(dnnl_primitive_attr_t *attr)
{
	dnnl_status_t s = dnnl_primitive_attr_create(attr);
	if (s == dnnl_success && (s = dnnl_primitive_attr_set_scratchpad_mode(
					  *attr, dnnl_scratchpad_mode_user)) != dnnl_success) {
		dnnl_primitive_attr_destroy(*attr);
		*attr = NULL;
	}
	return s;
}

int mg_dnn_entry_finish(struct dnn_entry *en, const struct mg_tensor *const op[DNN_NOP],
			dnnl_primitive_desc_t pd, struct mg_err *e)
{
	int rc = 0;
	dnnl_primitive_desc_t rpd = NULL;
	en->smd = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	en->scratch = dnnl_memory_desc_get_size(&en->smd);
	for (int i = 0; i < DNN_NOP; i++) {
		if (!op[i])
			continue;
		en->pmd[i] = *dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, en->args[i]);
		if (dnnl_memory_desc_equal(&en->pmd[i], &en->md[i]))
			continue;
		const dnnl_memory_desc_t *from = en->is_out[i] ? &en->pmd[i] : &en->md[i];
		const dnnl_memory_desc_t *to = en->is_out[i] ? &en->md[i] : &en->pmd[i];
		en->psize[i] = dnnl_memory_desc_get_size(&en->pmd[i]);
		TRY(dnnl_reorder_primitive_desc_create(&rpd, from, mg_dnn_engine, to, mg_dnn_engine, NULL),
		    "reorder");
		TRY(dnnl_primitive_create(&en->reorder[i], rpd), "reorder");
		dnnl_primitive_desc_destroy(rpd);
		rpd = NULL;
	}
	TRY(dnnl_primitive_create(&en->prim, pd), "primitive");
	created++;
out:
	if (rpd)
		dnnl_primitive_desc_destroy(rpd);
	dnnl_primitive_desc_destroy(pd);
	return rc;
}

int mg_dnn_create_end(struct dnn_entry *en, const struct mg_tensor *const op[DNN_NOP],
		      dnnl_primitive_desc_t pd, dnnl_primitive_desc_t hint,
		      dnnl_primitive_attr_t attr, int rc, struct mg_err *e)
{
	if (!rc)
		rc = mg_dnn_entry_finish(en, op, pd, e);
	else if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (hint)
		dnnl_primitive_desc_destroy(hint);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	return rc;
}

/* Whether pd runs a direct kernel rather than oneDNN's fallbacks for layouts it has no
 * kernel for (im2col + gemm, or the reference loops), which are 4-10x slower. */
static int direct(dnnl_primitive_desc_t pd)
{
	const char *impl = NULL;
	if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success)
		return 0;
	return impl && !strstr(impl, "gemm") && !strstr(impl, "ref");
}

typedef dnnl_status_t fwd_init_fn(dnnl_convolution_desc_t *, dnnl_prop_kind_t, dnnl_alg_kind_t,
				  const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
				  const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
				  const dnnl_dims_t, const dnnl_dims_t, const dnnl_dims_t,
				  const dnnl_dims_t);
typedef dnnl_status_t bwd_data_init_fn(dnnl_convolution_desc_t *, dnnl_alg_kind_t,
				       const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
				       const dnnl_memory_desc_t *, const dnnl_dims_t,
				       const dnnl_dims_t, const dnnl_dims_t, const dnnl_dims_t);
typedef dnnl_status_t bwd_weights_init_fn(dnnl_convolution_desc_t *, dnnl_alg_kind_t,
					  const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
					  const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
					  const dnnl_dims_t, const dnnl_dims_t, const dnnl_dims_t,
					  const dnnl_dims_t);

/* A deconvolution is described with the same arguments as a convolution (its src the
 * small side, the strides and padding those of the convolution it transposes): one
 * table row each, one piece of code for both. */
static const struct {
	fwd_init_fn *fwd;
	bwd_data_init_fn *bwd_data;
	bwd_weights_init_fn *bwd_weights;
	dnnl_alg_kind_t alg;
} conv_kinds[2] = {
	{dnnl_dilated_convolution_forward_desc_init, dnnl_dilated_convolution_backward_data_desc_init,
	 dnnl_dilated_convolution_backward_weights_desc_init, dnnl_convolution_direct},
	{dnnl_dilated_deconvolution_forward_desc_init,
	 dnnl_dilated_deconvolution_backward_data_desc_init,
	 dnnl_dilated_deconvolution_backward_weights_desc_init, dnnl_deconvolution_direct},
};

/* The activation layouts a convolution's primitive may run on: the operands' own, the
 * one oneDNN prefers, or plain NCDHW (the operands reordered into the last two). */
enum { ACT_GIVEN, ACT_ANY, ACT_PLAIN };

/* The primitive descriptor of pass k on activation layout act (enum above). */
static int conv_pd(struct dnn_entry *en, const struct dnn_key *k,
		   const struct mg_tensor *const op[DNN_NOP],
		   int act, dnnl_primitive_desc_t *pd_out, struct mg_err *e)
{
	const struct mg_conv_geom *g = &k->g;
	int t = k->transposed, rc = 0;
	dnnl_dims_t st, dl, pl, pr;
	for (int i = 0; i < g->sdim; i++)
		st[i] = g->stride[i], dl[i] = g->dil[i] - 1, pl[i] = g->pad_lo[i],
		pr[i] = g->pad_hi[i];
	dnnl_memory_desc_t src, dst, bias, wany;
	dnnl_primitive_desc_t pd = NULL, hint = NULL;
	dnnl_primitive_attr_t attr = NULL;
	dnnl_convolution_desc_t cd, fd;
	/* each pass's operands: the op's input side (src), its output side (dst), the bias
	 * and torch's weights */
	const struct mg_tensor *xs = k->kind == MG_DNN_BWD_DATA ? op[3] : op[0];
	const struct mg_tensor *ys = k->kind == MG_DNN_FWD	 ? op[3]
				     : k->kind == MG_DNN_BWD_DATA ? op[0]
								  : op[1];
	const struct mg_tensor *bs = k->kind == MG_DNN_BWD_DATA ? NULL : op[2];
	int ws = k->kind == MG_DNN_BWD_WEIGHTS ? 3 : 1; /* the operand holding torch's weights */
	TRY(mg_dnn_md_of(&src, xs), "source layout");
	TRY(mg_dnn_md_of(&dst, ys), "destination layout");
	if (act != ACT_GIVEN) {
		static const dnnl_format_tag_t plain[6] = {0, 0, 0, dnnl_abc, dnnl_abcd, dnnl_abcde};
		dnnl_format_tag_t tag = act == ACT_ANY ? dnnl_format_tag_any : plain[src.ndims];
		TRY(dnnl_memory_desc_init_by_tag(&src, src.ndims, src.dims, dnnl_f32, tag),
		    "source layout");
		TRY(dnnl_memory_desc_init_by_tag(&dst, dst.ndims, dst.dims, dnnl_f32, tag),
		    "destination layout");
	}
	if (bs)
		TRY(mg_dnn_md_of(&bias, bs), "bias layout");
	TRY(weights_md(&en->md[ws], g, t, op[ws], 0), "weights layout");
	TRY(weights_md(&wany, g, t, op[ws], 1), "weights layout");
	TRY(mg_dnn_attr(&attr), "attributes");
	TRY(conv_kinds[t].fwd(&fd, dnnl_forward_training, conv_kinds[t].alg, &src, &wany,
			      bs ? &bias : NULL, &dst, st, dl, pl, pr),
	    "forward descriptor");
	if (k->kind == MG_DNN_FWD) {
		TRY(dnnl_primitive_desc_create(&pd, &fd, attr, mg_dnn_engine, NULL), "forward");
		memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
		       4 * sizeof *en->args);
	} else {
		TRY(dnnl_primitive_desc_create(&hint, &fd, NULL, mg_dnn_engine, NULL), "forward hint");
		if (k->kind == MG_DNN_BWD_DATA) {
			TRY(conv_kinds[t].bwd_data(&cd, conv_kinds[t].alg, &src, &wany, &dst, st, dl,
						   pl, pr),
			    "backward data descriptor");
			memcpy(en->args, (int[]){DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, 0,
						 DNNL_ARG_DIFF_SRC}, 4 * sizeof *en->args);
		} else {
			TRY(conv_kinds[t].bwd_weights(&cd, conv_kinds[t].alg, &src, &wany,
						      bs ? &bias : NULL, &dst, st, dl, pl, pr),
			    "backward weights descriptor");
			memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_BIAS,
						 DNNL_ARG_DIFF_WEIGHTS}, 4 * sizeof *en->args);
			en->is_out[2] = 1;
		}
		TRY(dnnl_primitive_desc_create(&pd, &cd, attr, mg_dnn_engine, hint), "backward");
	}
	en->is_out[3] = 1;
	*pd_out = pd;
out:
	if (hint)
		dnnl_primitive_desc_destroy(hint);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	return rc;
}

/* Whether operand i is channels-last: the channel axis (1) the fastest (a single
 * channel's axis of stride 0 says so, ops/contiguous.c). */
static int channels_last(const struct dnn_key *k, int i)
{
	int r = k->rank[i];
	if (r < 3 || (k->dims[i][1] == 1 ? k->strides[i][1] != 0 : k->strides[i][1] != 1))
		return 0;
	for (int j = 2; j < r; j++)
		if (k->dims[i][j] > 1 && k->strides[i][j] < k->dims[i][1])
			return 0;
	return 1;
}

/* Whether pd runs oneDNN's reference loops (100x slower than its gemm fallback). */
static int reference(dnnl_primitive_desc_t pd)
{
	const char *impl = NULL;
	dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
	return !impl || strstr(impl, "ref");
}

/* The convolution's primitive, on the first of these with a direct kernel: the given
 * layouts when both activations are channels-last (the layout pass's, passes/layout.c:
 * no reorders at all); oneDNN's preferred activation layout (blocked), the given tensors
 * reordered in and out (plain layouts have no direct kernel: im2col + gemm, 4-10x
 * slower). Else (no direct kernel on any layout, as for the 3D weight gradient without
 * AVX-512) the fallback runs on the given layouts, saving the reorders, unless that is
 * the reference (channels-last with one input channel) and plain NCDHW has gemm. */
static int conv_create(struct dnn_entry *en, const struct dnn_key *k,
		       const struct mg_tensor *const op[DNN_NOP], struct mg_err *e)
{
	static const int tries[] = {ACT_GIVEN, ACT_ANY, ACT_GIVEN, ACT_PLAIN};
	dnnl_primitive_desc_t pd = NULL;
	struct mg_err e2 = {0};
	int act = k->kind == MG_DNN_BWD_WEIGHTS ? 1 : 3; /* the second activation's slot */
	int first = channels_last(k, 0) && channels_last(k, act) ? 0 : 1;
	for (int i = first; i < 4; i++) {
		struct mg_err *ei = i == 2 ? e : &e2; /* the given layout's error is the one */
		int rc = conv_pd(en, k, op, tries[i], &pd, ei);
		if (rc && i == 2)
			return rc;
		if (!rc && (i < 2 ? direct(pd) : i == 3 || !reference(pd)))
			return mg_dnn_entry_finish(en, op, pd, e);
		if (pd)
			dnnl_primitive_desc_destroy(pd);
		pd = NULL;
	}
	int rc = conv_pd(en, k, op, ACT_GIVEN, &pd, e);
	return rc ? rc : mg_dnn_entry_finish(en, op, pd, e);
}

static int matmul_create(struct dnn_entry *en, const struct dnn_key *k,
			 const struct mg_tensor *const op[DNN_NOP], struct mg_err *e)
{
	int rc = 0;
	dnnl_matmul_desc_t md;
	dnnl_primitive_desc_t pd = NULL;
	dnnl_primitive_attr_t attr = NULL;
	if (op[2]) /* the bias as a (1, N) row, broadcast over the rows */
		TRY(dnnl_memory_desc_init_by_strides(&en->md[2], 2, (dnnl_dims_t){1, op[2]->dims[0]},
						     dnnl_f32,
						     (dnnl_dims_t){op[2]->dims[0] * op[2]->strides[0],
								   op[2]->strides[0]}),
		    "matmul layout");
	TRY(dnnl_matmul_desc_init(&md, &en->md[0], &en->md[1], op[2] ? &en->md[2] : NULL,
				  &en->md[3]),
	    "matmul descriptor");
	TRY(mg_dnn_attr(&attr), "attributes");
	TRY(dnnl_primitive_desc_create(&pd, &md, attr, mg_dnn_engine, NULL), "matmul");
	memcpy(en->args, (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
	       4 * sizeof *en->args);
	en->is_out[3] = 1;
out:
	return mg_dnn_create_end(en, op, pd, NULL, attr, rc, e);
}

/* The cached entry for k, created on a miss (under the lock: creation is rare, and two
 * threads missing at once make one entry). */
static int lookup(const struct dnn_key *k, const struct mg_tensor *const op[DNN_NOP],
		  dnn_create_fn *create, struct dnn_entry **out, struct mg_err *e)
{
	if (!mg_dnn_available())
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "oneDNN: the CPU mg_dnn_engine did not start");
	int rc = 0;
	struct dnn_entry *en = NULL;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < ncache; i++)
		if (memcmp(&cache[i]->k, k, sizeof *k) == 0) {
			*out = cache[i];
			goto done;
		}
	if (ncache == capcache) {
		int cap = capcache ? 2 * capcache : 32;
		struct dnn_entry **c = realloc(cache, (size_t)cap * sizeof *c);
		if (!c) {
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
			goto done;
		}
		cache = c, capcache = cap;
	}
	if (!(en = calloc(1, sizeof *en))) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		goto done;
	}
	en->k = *k;
	for (int i = 0; i < DNN_NOP && !rc; i++)
		if (op[i] && mg_dnn_md_of(&en->md[i], op[i]) != dnnl_success)
			rc = mg_err_set(e, MG_ERR_INTERNAL, "oneDNN: operand layout");
	if (!rc)
		rc = create(en, k, op, e);
	if (rc)
		entry_free(en);
	else
		cache[ncache++] = *out = en;
done:
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

/* Runs en on the operands: those the primitive takes in another layout go through a
 * buffer (reordered into it before the run, out of it after); buffers and scratchpad
 * come from the block cache, so a loop does not fault in fresh memory at each call. */
static int run(const struct dnn_entry *en, const struct mg_tensor *const op[DNN_NOP],
	       struct mg_err *e)
{
	int rc = 0, n = 0, slot[DNN_NOP];
	dnnl_memory_t user[DNN_NOP] = {0}, mem[DNN_NOP + 1] = {0};
	void *buf[DNN_NOP] = {0}, *scratch = NULL;
	dnnl_exec_arg_t args[DNN_NOP + 1];
	dnnl_stream_t stream = NULL;
	TRY(dnnl_stream_create(&stream, mg_dnn_engine, dnnl_stream_default_flags), "stream");
	for (int i = 0; i < DNN_NOP; i++) {
		if (!op[i])
			continue;
		void *p = mg_tensor_data(op[i]);
		if (en->reorder[i]) {
			TRY(dnnl_memory_create(&user[i], &en->md[i], mg_dnn_engine, p), "memory");
			if (!(p = buf[i] = mg_block_alloc(en->psize[i]))) {
				rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
		TRY(dnnl_memory_create(&mem[n], &en->pmd[i], mg_dnn_engine, p), "memory");
		if (en->reorder[i] && !en->is_out[i])
			TRY(dnnl_primitive_execute(en->reorder[i], stream, 2, (dnnl_exec_arg_t[]){
				{DNNL_ARG_FROM, user[i]}, {DNNL_ARG_TO, mem[n]}}), "reorder");
		args[n] = (dnnl_exec_arg_t){en->args[i], mem[n]};
		slot[i] = n++;
	}
	if (en->scratch) {
		if (!(scratch = mg_block_alloc(en->scratch))) {
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
			goto out;
		}
		TRY(dnnl_memory_create(&mem[n], &en->smd, mg_dnn_engine, scratch), "memory");
		args[n] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mem[n]};
		n++;
	}
	TRY(dnnl_primitive_execute(en->prim, stream, n, args), "execute");
	for (int i = 0; i < DNN_NOP; i++)
		if (op[i] && en->reorder[i] && en->is_out[i])
			TRY(dnnl_primitive_execute(en->reorder[i], stream, 2, (dnnl_exec_arg_t[]){
				{DNNL_ARG_FROM, mem[slot[i]]}, {DNNL_ARG_TO, user[i]}}), "reorder");
	TRY(dnnl_stream_wait(stream), "execute");
out:
	for (int i = 0; i < DNN_NOP + 1; i++)
		if (mem[i])
			dnnl_memory_destroy(mem[i]);
	for (int i = 0; i < DNN_NOP; i++) {
		if (user[i])
			dnnl_memory_destroy(user[i]);
		mg_block_free(buf[i]);
	}
	if (stream)
		dnnl_stream_destroy(stream);
	mg_block_free(scratch);
	return rc;
}

int mg_dnn_call(const struct dnn_key *k, const struct mg_tensor *const op[DNN_NOP],
		dnn_create_fn *create, struct mg_err *e)
{
	struct dnn_entry *en;
	int rc = lookup(k, op, create, &en, e);
	return rc ? rc : run(en, op, e);
}

int mg_dnn_conv(enum mg_dnn_pass pass, const struct mg_conv_geom *g, int transposed,
		const struct mg_tensor *a, const struct mg_tensor *b, const struct mg_tensor *c,
		const struct mg_tensor *out, struct mg_err *e)
{
	int r = 2 + g->sdim, t = transposed != 0, rc = 0;
	int64_t big[5] = {g->n, g->cin}, small[5] = {g->n, g->cout},
		w[5] = {g->cout, g->cin / g->groups}, nb[1] = {t ? g->cin : g->cout};
	for (int i = 0; i < g->sdim; i++)
		big[2 + i] = g->in[i], small[2 + i] = g->out[i], w[2 + i] = g->k[i];
	const int64_t *xd = t ? small : big, *yd = t ? big : small;
	const struct mg_tensor *op[DNN_NOP] = {a, b, c, out};
	switch (pass) {
	case MG_DNN_FWD:
		rc = mg_dnn_expect(a, "x", r, xd, e) || mg_dnn_expect(b, "weight", r, w, e) ||
		     (c && mg_dnn_expect(c, "bias", 1, nb, e)) || mg_dnn_expect(out, "y", r, yd, e);
		break;
	case MG_DNN_BWD_DATA:
		rc = mg_dnn_expect(a, "dy", r, yd, e) || mg_dnn_expect(b, "weight", r, w, e) ||
		     mg_dnn_expect(c, "bias", 0, NULL, e) || mg_dnn_expect(out, "dx", r, xd, e);
		break;
	case MG_DNN_BWD_WEIGHTS:
		rc = mg_dnn_expect(a, "x", r, xd, e) || mg_dnn_expect(b, "dy", r, yd, e) ||
		     (c && mg_dnn_expect(c, "dbias", 1, nb, e)) || mg_dnn_expect(out, "dw", r, w, e);
		break;
	}
	if (rc)
		return e->code;
	struct dnn_key k;
	memset(&k, 0, sizeof k);
	k.kind = pass;
	k.transposed = t;
	k.g = *g;
	for (int i = 0; i < 4; i++)
		mg_dnn_key_operand(&k, i, op[i]);
	return mg_dnn_call(&k, op, conv_create, e);
}

int mg_dnn_matmul(const struct mg_tensor *a, const struct mg_tensor *b,
		  const struct mg_tensor *bias, const struct mg_tensor *out, struct mg_err *e)
{
	if (a->rank != 2 || b->rank != 2)
		return mg_err_set(e, MG_ERR_SHAPE, "oneDNN matmul: operands must be matrices");
	int64_t M = a->dims[0], K = a->dims[1], N = b->dims[1];
	if (mg_dnn_expect(a, "a", 2, (int64_t[]){M, K}, e) ||
	    mg_dnn_expect(b, "b", 2, (int64_t[]){K, N}, e) ||
	    (bias && mg_dnn_expect(bias, "bias", 1, (int64_t[]){N}, e)) ||
	    mg_dnn_expect(out, "out", 2, (int64_t[]){M, N}, e))
		return e->code;
	const struct mg_tensor *op[DNN_NOP] = {a, b, bias, out};
	struct dnn_key k;
	memset(&k, 0, sizeof k);
	k.kind = DNN_MATMUL;
	for (int i = 0; i < 4; i++)
		mg_dnn_key_operand(&k, i, op[i]);
	return mg_dnn_call(&k, op, matmul_create, e);
}

int64_t mg_dnn_primitives_created(void)
{
	pthread_mutex_lock(&cache_lock);
	int64_t n = created;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

void mg_dnn_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < ncache; i++)
		entry_free(cache[i]);
	free(cache);
	cache = NULL;
	ncache = capcache = 0;
	pthread_mutex_unlock(&cache_lock);
}

#endif
