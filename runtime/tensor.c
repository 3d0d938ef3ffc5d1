/* tensor.c: refcounted buffers and strided tensor views over them.
 * Invariant: a tensor owns one reference to its buffer and one to its meta; views copy
 * the struct and take new references (mg_tensor_share). */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* Per thread, so the executor can charge each step with what its kernel made while
 * other threads run other items. */
static _Thread_local int64_t created;

int64_t mg_buffer_created(void)
{
	return created;
}

struct mg_buffer *mg_buffer_new(size_t size)
{
	struct mg_buffer *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->data = mg_block_alloc(size);
	if (!b->data) {
		free(b);
		return NULL;
	}
	b->refs = 1;
	b->size = size;
	created += (int64_t)size;
	return b;
}

struct mg_buffer *mg_buffer_wrap(void *data, size_t size, void (*free_fn)(void *, void *),
				 void *ctx)
{
	struct mg_buffer *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->refs = 1;
	b->size = size;
	b->data = data;
	b->free_fn = free_fn;
	b->free_ctx = ctx;
	created += (int64_t)size;
	return b;
}

void mg_buffer_retain(struct mg_buffer *b)
{
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void mg_buffer_release(struct mg_buffer *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (b->free_fn)
		b->free_fn(b->free_ctx, b->data);
	else
		mg_block_free(b->data);
	free(b);
}

static int64_t numel(int rank, const int64_t *dims)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	return n;
}

int mg_tensor_alloc_order(struct mg_tensor *t, enum mg_dtype dtype, int rank,
			  const int64_t *dims, const int *order, struct mg_err *e)
{
	memset(t, 0, sizeof *t);
	if (rank < 0 || rank > MG_MAX_RANK)
		return mg_err_set(e, MG_ERR_SHAPE, "rank %d is outside 0..%d", rank, MG_MAX_RANK);
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0 || (dims[i] > 0 && n > INT64_MAX / 16 / dims[i]))
			return mg_err_set(e, MG_ERR_SHAPE, "dimension %d has bad size %lld", i,
					  (long long)dims[i]);
		n *= dims[i];
	}
	t->dtype = dtype;
	t->rank = rank;
	if (rank) /* a scalar's dims may be NULL */
		memcpy(t->dims, dims, rank * sizeof *dims);
	/* order[0] is the fastest dimension */
	int64_t s = 1;
	for (int k = 0; k < rank; k++) {
		t->strides[order[k]] = s;
		s *= dims[order[k]];
	}
	t->buf = mg_buffer_new((size_t)n * mg_dtype_size(dtype));
	if (!t->buf)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory for a %lld-element %s tensor",
				  (long long)n, mg_dtype_name(dtype));
	return 0;
}

int mg_tensor_alloc(struct mg_tensor *t, enum mg_dtype dtype, int rank, const int64_t *dims,
		    struct mg_err *e)
{
	int order[MG_MAX_RANK];
	for (int k = 0; k < rank && k < MG_MAX_RANK; k++)
		order[k] = rank - 1 - k;
	return mg_tensor_alloc_order(t, dtype, rank, dims, order, e);
}

void mg_tensor_order(const struct mg_tensor *t, int order[MG_MAX_RANK])
{
	/* insertion sort by |stride|, fastest first; ties keep the later dim faster */
	int r = t->rank;
	for (int k = 0; k < r; k++)
		order[k] = r - 1 - k;
	for (int i = 1; i < r; i++)
		for (int j = i; j > 0; j--) {
			int64_t a = llabs(t->strides[order[j]]);
			int64_t b = llabs(t->strides[order[j - 1]]);
			if (a >= b)
				break;
			int tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
}

int mg_tensor_alloc_like(struct mg_tensor *t, const struct mg_tensor *like,
			 enum mg_dtype dtype, struct mg_err *e)
{
	int order[MG_MAX_RANK];
	mg_tensor_order(like, order);
	return mg_tensor_alloc_order(t, dtype, like->rank, like->dims, order, e);
}

void mg_tensor_release(struct mg_tensor *t)
{
	mg_buffer_release(t->buf);
	mg_meta_release(t->meta);
	memset(t, 0, sizeof *t);
}

struct mg_tensor mg_tensor_share(const struct mg_tensor *t)
{
	mg_buffer_retain(t->buf);
	mg_meta_retain(t->meta);
	return *t;
}

int64_t mg_tensor_numel(const struct mg_tensor *t) { return numel(t->rank, t->dims); }

int mg_tensor_is_contiguous(const struct mg_tensor *t)
{
	int64_t s = 1;
	for (int i = t->rank - 1; i >= 0; i--) {
		if (t->dims[i] != 1 && t->strides[i] != s)
			return 0;
		s *= t->dims[i];
	}
	return 1;
}

void *mg_tensor_data(const struct mg_tensor *t)
{
	return (char *)t->buf->data + t->offset * (int64_t)mg_dtype_size(t->dtype);
}

void *mg_tensor_at(const struct mg_tensor *t, const int64_t *idx)
{
	int64_t off = t->offset;
	for (int i = 0; i < t->rank; i++)
		off += idx[i] * t->strides[i];
	return (char *)t->buf->data + off * (int64_t)mg_dtype_size(t->dtype);
}

void mg_tensor_unsqueeze(struct mg_tensor *t, int dim)
{
	for (int i = t->rank; i > dim; i--) {
		t->dims[i] = t->dims[i - 1];
		t->strides[i] = t->strides[i - 1];
	}
	t->dims[dim] = 1;
	t->strides[dim] = dim + 1 <= t->rank ? t->strides[dim + 1] * t->dims[dim + 1] : 1;
	t->rank++;
}

void mg_tensor_squeeze(struct mg_tensor *t, int dim)
{
	for (int i = dim; i + 1 < t->rank; i++) {
		t->dims[i] = t->dims[i + 1];
		t->strides[i] = t->strides[i + 1];
	}
	t->rank--;
}

void mg_tensor_movedim(struct mg_tensor *t, int from, int to)
{
	int64_t d = t->dims[from], s = t->strides[from];
	for (int i = from; i < t->rank - 1; i++) {
		t->dims[i] = t->dims[i + 1];
		t->strides[i] = t->strides[i + 1];
	}
	for (int i = t->rank - 1; i > to; i--) {
		t->dims[i] = t->dims[i - 1];
		t->strides[i] = t->strides[i - 1];
	}
	t->dims[to] = d;
	t->strides[to] = s;
}

/* Element-by-element conversion, walking `in` in its memory order by rows. */
void mg_tensor_convert(struct mg_tensor *out, const struct mg_tensor *in)
{
	const int64_t *st[2] = {in->strides, out->strides};
	int64_t si = (int64_t)mg_dtype_size(in->dtype), so = (int64_t)mg_dtype_size(out->dtype);
	const char *pi = in->buf ? mg_tensor_data(in) : NULL;
	char *po = out->buf ? mg_tensor_data(out) : NULL;
	struct mg_iter it;
	for (mg_iter_init_memorder(&it, in->rank, in->dims, 2, st); !it.done;
	     mg_iter_next_row(&it)) {
		const char *src = pi + it.off[0] * si;
		char *dst = po + it.off[1] * so;
		int64_t ss = it.istride[0] * si, ds = it.istride[1] * so;
		if (in->dtype == out->dtype && ss == si && ds == so) {
			memcpy(dst, src, (size_t)(it.inner * si));
			continue;
		}
		for (int64_t i = 0; i < it.inner; i++)
			mg_dtype_store(out->dtype, dst + i * ds, mg_dtype_load(in->dtype, src + i * ss));
	}
}

int mg_tensor_cast(struct mg_tensor *out, const struct mg_tensor *in, enum mg_dtype dtype,
		   struct mg_err *e)
{
	int rc = mg_tensor_alloc_like(out, in, dtype, e);
	if (rc)
		return rc;
	mg_tensor_convert(out, in);
	out->meta = in->meta;
	mg_meta_retain(out->meta);
	return 0;
}

int mg_tensor_contiguous(struct mg_tensor *out, const struct mg_tensor *in, struct mg_err *e)
{
	int rc = mg_tensor_alloc(out, in->dtype, in->rank, in->dims, e);
	if (rc)
		return rc;
	mg_tensor_convert(out, in);
	out->meta = in->meta;
	mg_meta_retain(out->meta);
	return 0;
}

void mg_iter_init(struct mg_iter *it, int rank, const int64_t *dims, int nops,
		  const int64_t *const *strides)
{
	memset(it, 0, sizeof *it);
	it->rank = rank;
	it->nops = nops;
	memcpy(it->dims, dims, rank * sizeof *dims);
	for (int k = 0; k < nops; k++)
		memcpy(it->strides[k], strides[k], rank * sizeof **strides);
	for (int i = 0; i < rank; i++)
		if (dims[i] == 0)
			it->done = 1;
	it->inner = rank ? dims[rank - 1] : 1;
	for (int k = 0; k < nops && rank; k++)
		it->istride[k] = strides[k][rank - 1];
}

void mg_iter_init_memorder(struct mg_iter *it, int rank, const int64_t *dims, int nops,
			   const int64_t *const *strides)
{
	/* order[] lists dims slowest first by operand 0's |stride|; stable, so equal
	 * strides (size-1 dims) keep their logical order */
	int order[MG_MAX_RANK];
	for (int i = 0; i < rank; i++)
		order[i] = i;
	for (int i = 1; i < rank; i++)
		for (int j = i; j > 0 && llabs(strides[0][order[j]]) > llabs(strides[0][order[j - 1]]);
		     j--) {
			int tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	int64_t d[MG_MAX_RANK], st[MG_ITER_MAXOPS][MG_MAX_RANK];
	const int64_t *sp[MG_ITER_MAXOPS];
	for (int k = 0; k < nops; k++) {
		for (int i = 0; i < rank; i++)
			st[k][i] = strides[k][order[i]];
		sp[k] = st[k];
	}
	for (int i = 0; i < rank; i++)
		d[i] = dims[order[i]];
	mg_iter_init(it, rank, d, nops, sp);
}

static int advance(struct mg_iter *it, int from)
{
	for (int d = from; d >= 0; d--) {
		if (++it->idx[d] < it->dims[d]) {
			for (int k = 0; k < it->nops; k++)
				it->off[k] += it->strides[k][d];
			return !it->done;
		}
		it->idx[d] = 0;
		for (int k = 0; k < it->nops; k++)
			it->off[k] -= it->strides[k][d] * (it->dims[d] - 1);
	}
	it->done = 1;
	return 0;
}

int mg_iter_next(struct mg_iter *it) { return advance(it, it->rank - 1); }
int mg_iter_next_row(struct mg_iter *it) { return advance(it, it->rank - 2); }
