/* components.c: connected-component labelling, the one routine behind
 * KeepLargestConnectedComponent, RemoveSmallObjects and FillHoles.
 * Invariant: provisional labels grow in memory order and every union links the larger
 * root under the smaller, so a component's root is the label its first voxel got; the
 * final numbering (roots in increasing order) is then skimage's first-voxel order.
 * Read next: keep_largest_connected_component.c. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* A neighbour that comes earlier in memory order: its offset in elements and its step
 * along each axis. */
struct nb {
	int64_t off;
	int d[MG_MAX_RANK];
};

/* Every step vector in {-1, 0, 1}^rank with 1..conn nonzero entries whose first nonzero
 * entry is -1 (the half of the neighbourhood visited before the voxel). */
static int backward_neighbours(int rank, const int64_t *dims, int conn, struct nb *out)
{
	int64_t stride[MG_MAX_RANK];
	int64_t s = 1;
	for (int k = rank - 1; k >= 0; k--) {
		stride[k] = s;
		s *= dims[k];
	}
	int total = 1, n = 0;
	for (int k = 0; k < rank; k++)
		total *= 3;
	for (int code = 0; code < total; code++) {
		int d[MG_MAX_RANK], c = code, nz = 0, first = 0;
		for (int k = rank - 1; k >= 0; k--) {
			d[k] = c % 3 - 1;
			c /= 3;
		}
		for (int k = 0; k < rank; k++)
			if (d[k]) {
				if (!nz)
					first = d[k];
				nz++;
			}
		if (nz == 0 || nz > conn || first != -1)
			continue;
		out[n].off = 0;
		for (int k = 0; k < rank; k++) {
			out[n].d[k] = d[k];
			out[n].off += d[k] * stride[k];
		}
		n++;
	}
	return n;
}

static int32_t find(int32_t *parent, int32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]]; /* path halving */
		x = parent[x];
	}
	return x;
}

static int32_t unite(int32_t *parent, int32_t a, int32_t b)
{
	a = find(parent, a);
	b = find(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
	return a < b ? a : b;
}

int mg_components_label(const uint8_t *mask, int rank, const int64_t *dims, int connectivity,
			int32_t *labels, int32_t *n, struct mg_err *e)
{
	int64_t numel = 1;
	for (int k = 0; k < rank; k++)
		numel *= dims[k];
	*n = 0;
	if (numel == 0)
		return 0;
	if (numel >= INT32_MAX)
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "connected components: %lld voxels; at most 2^31 - 2 are supported",
				  (long long)numel);
	struct nb nbs[364]; /* (3^6 - 1) / 2 */
	int nnb = backward_neighbours(rank, dims, connectivity, nbs);
	int64_t row = dims[rank - 1], nrows = numel / row;
	/* provisional labels: at most one per voxel, grown as needed */
	int64_t cap = 1024;
	int32_t *parent = malloc((size_t)cap * sizeof *parent), next = 1;
	if (!parent)
		return mg_err_set(e, MG_ERR_NOMEM, "connected components: out of memory");
	parent[0] = 0;
	int64_t idx[MG_MAX_RANK] = {0}; /* the row's index on the outer axes */
	int64_t valid_off[364];
	int valid_dx[364];
	for (int64_t r = 0; r < nrows; r++) {
		/* the neighbours whose outer axes stay inside the image for this row */
		int nv = 0;
		for (int j = 0; j < nnb; j++) {
			int ok = 1;
			for (int k = 0; k < rank - 1 && ok; k++) {
				int64_t q = idx[k] + nbs[j].d[k];
				ok = q >= 0 && q < dims[k];
			}
			if (ok) {
				valid_off[nv] = nbs[j].off;
				valid_dx[nv++] = nbs[j].d[rank - 1];
			}
		}
		const uint8_t *m = mask + r * row;
		int32_t *l = labels + r * row;
		for (int64_t x = 0; x < row; x++) {
			if (!m[x]) {
				l[x] = 0;
				continue;
			}
			int32_t cur = 0;
			for (int j = 0; j < nv; j++) {
				if ((valid_dx[j] < 0 && x == 0) || (valid_dx[j] > 0 && x == row - 1))
					continue;
				int32_t q = l[x + valid_off[j]];
				if (q && q != cur)
					cur = cur ? unite(parent, cur, q) : find(parent, q);
			}
			if (!cur) {
				if (next == cap) {
					int32_t *p = realloc(parent, (size_t)cap * 2 * sizeof *p);
					if (!p) {
						free(parent);
						return mg_err_set(e, MG_ERR_NOMEM,
								  "connected components: out of memory");
					}
					parent = p;
					cap *= 2;
				}
				parent[next] = next;
				cur = next++;
			}
			l[x] = cur;
		}
		for (int k = rank - 2; k >= 0; k--) {
			if (++idx[k] < dims[k])
				break;
			idx[k] = 0;
		}
	}
	/* roots in increasing order are the components in first-voxel order; a label's
	 * parent is never larger than itself, so when p is reached every q < p already
	 * holds its final number (negated) */
	int32_t count = 0;
	for (int32_t p = 1; p < next; p++)
		parent[p] = parent[p] == p ? -(++count) : parent[parent[p]];
	for (int64_t i = 0; i < numel; i++)
		if (labels[i])
			labels[i] = -parent[labels[i]];
	free(parent);
	*n = count;
	return 0;
}

int mg_components_sizes(const int32_t *labels, int64_t numel, int32_t n, int64_t **sizes,
			struct mg_err *e)
{
	*sizes = calloc((size_t)n + 1, sizeof **sizes);
	if (!*sizes)
		return mg_err_set(e, MG_ERR_NOMEM, "connected components: out of memory");
	for (int64_t i = 0; i < numel; i++)
		(*sizes)[labels[i]]++;
	return 0;
}

int mg_components_connectivity(const char *op, const struct mg_attr *a, int rank, int zero_full,
			       int *conn, struct mg_err *e)
{
	if (a->is_none || (zero_full && a->v.i == 0)) {
		*conn = rank;
		return 0;
	}
	if (a->v.i < 1 || a->v.i > rank)
		return mg_err_set(e, MG_ERR_CONFIG,
				  "%s: argument 'connectivity' is %lld; for this %dD array it must be "
				  "1 (faces) .. %d (full)%s",
				  op, (long long)a->v.i, rank, rank, a->is_none ? "" : ", or null");
	*conn = (int)a->v.i;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int mg_components_unique(const struct mg_tensor *x, int64_t first, int64_t count, double **vals,
			 int64_t *n, struct mg_err *e)
{
	const char *base = mg_tensor_data(x);
	size_t es = mg_dtype_size(x->dtype);
	*n = 0;
	*vals = NULL;
	if (!mg_dtype_is_float(x->dtype) && x->dtype != MG_DTYPE_I64 && x->dtype != MG_DTYPE_U32 &&
	    x->dtype != MG_DTYPE_I32) {
		/* 8- and 16-bit labels: a histogram, no sort */
		int64_t lo = x->dtype == MG_DTYPE_I8 ? -128 : x->dtype == MG_DTYPE_I16 ? -32768 : 0;
		uint8_t *seen = calloc(65536, 1);
		*vals = malloc(65536 * sizeof **vals);
		if (!seen || !*vals) {
			free(seen);
			free(*vals);
			*vals = NULL;
			return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		}
		for (int64_t i = first; i < first + count; i++)
			seen[(int64_t)mg_dtype_load(x->dtype, base + i * (int64_t)es) - lo] = 1;
		for (int64_t v = 0; v < 65536; v++)
			if (seen[v] && v + lo != 0)
				(*vals)[(*n)++] = (double)(v + lo);
		free(seen);
		return 0;
	}
	double *v = malloc((size_t)(count ? count : 1) * sizeof *v);
	if (!v)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	int64_t m = 0;
	for (int64_t i = first; i < first + count; i++) {
		double d = mg_dtype_load(x->dtype, base + i * (int64_t)es);
		if (d != 0 && d == d)
			v[m++] = d;
	}
	qsort(v, (size_t)m, sizeof *v, cmp_double);
	for (int64_t i = 0; i < m; i++)
		if (*n == 0 || v[i] != v[*n - 1])
			v[(*n)++] = v[i];
	*vals = v;
	return 0;
}

int mg_components_copy(const struct mg_tensor *x, struct mg_tensor *y, struct mg_tensor *work,
		       struct mg_err *e)
{
	int r = x->rank, perm[MG_MAX_RANK];
	for (int k = 0; k < r; k++)
		perm[k] = k;
	for (int i = 2; i < r; i++) /* spatial axes by |stride|, largest first, stable */
		for (int j = i; j > 1 && llabs(x->strides[perm[j]]) > llabs(x->strides[perm[j - 1]]);
		     j--) {
			int t = perm[j];
			perm[j] = perm[j - 1];
			perm[j - 1] = t;
		}
	struct mg_tensor v = *x; /* a borrowed, permuted view: no references taken */
	v.meta = NULL;
	for (int k = 0; k < r; k++) {
		v.dims[k] = x->dims[perm[k]];
		v.strides[k] = x->strides[perm[k]];
	}
	int rc = mg_tensor_contiguous(work, &v, e);
	if (rc)
		return rc;
	*y = *work;
	for (int k = 0; k < r; k++) {
		y->dims[perm[k]] = work->dims[k];
		y->strides[perm[k]] = work->strides[k];
	}
	return 0;
}

int mg_components_input(const char *op, const struct mg_val *in, struct mg_err *e)
{
	int rc = mg_op_expect_tensor(in, op, e);
	if (!rc && in->t.rank < 2)
		rc = mg_err_set(e, MG_ERR_SHAPE, "%s needs a channel-first image (C, spatial...), "
				"got rank %d", op, in->t.rank);
	return rc;
}

int mg_components_infer(const char *op, mg_components_check_fn *check, const struct mg_attr *a,
			const struct mg_type *in, struct mg_type *out, struct mg_err *e)
{
	int conn, rc = mg_op_infer_image(&in[0], op, e);
	if (rc || (rc = check(a, in[0].rank > 1 ? in[0].rank - 1 : 0, &conn, e)))
		return rc;
	out[0] = in[0];
	out[0].kind = MG_VK_TENSOR;
	return 0;
}

int mg_components_run(const char *op, mg_components_check_fn *check, mg_components_run_fn *run,
		      const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_err *e)
{
	int rc = mg_components_input(op, &in[0], e);
	if (rc)
		return rc;
	const struct mg_tensor *x = &in[0].t;
	struct mg_tensor y;
	struct mg_components s = {.C = x->dims[0], .sr = x->rank - 1, .e = e};
	if ((rc = check(a, s.sr, &s.conn, e)) || (rc = mg_components_copy(x, &y, &s.w, e)))
		return rc;
	s.S = s.C ? mg_tensor_numel(x) / s.C : 0;
	s.base = mg_tensor_data(&s.w);
	s.es = mg_dtype_size(s.w.dtype);
	s.mask = malloc((size_t)(s.S ? s.S : 1));
	s.lab = malloc((size_t)(s.S ? s.S : 1) * sizeof *s.lab);
	rc = !s.mask || !s.lab ? mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", op)
			       : s.S ? run(a, &s) : 0;
	free(s.mask);
	free(s.lab);
	return mg_val_set_result(&out[0], y, x->meta, rc);
}

int mg_components_present(const char *op, const struct mg_components *s, double **lv,
			  int64_t *n)
{
	if (!(*lv = malloc((size_t)s->C * sizeof **lv)))
		return mg_err_set(s->e, MG_ERR_NOMEM, "%s: out of memory", op);
	*n = 0;
	for (int64_t c = 1; c < s->C; c++) {
		double sum = 0;
		for (int64_t i = 0; i < s->S; i++)
			sum += mg_components_at(s, c, i);
		if (sum > 0)
			(*lv)[(*n)++] = (double)c;
	}
	return 0;
}
