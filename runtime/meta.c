/* meta.c: image metadata, refcounted and shared between tensors; copy on write; and the
 * affine helpers every module shares (the identity, the inverse, numpy's allclose).
 * Read next: tensor.c (mg_meta_mut), nifti.c (where meta is made). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

void mg_affine_identity(double a[4][4])
{
	memset(a, 0, 16 * sizeof(double));
	for (int i = 0; i < 4; i++)
		a[i][i] = 1;
}

int mg_affine_invert(const double a[4][4], double inv[4][4])
{
	double m[4][8];
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 8; c++)
			m[r][c] = c < 4 ? a[r][c] : c - 4 == r;
	for (int c = 0; c < 4; c++) {
		int p = c;
		for (int r = c + 1; r < 4; r++)
			if (fabs(m[r][c]) > fabs(m[p][c]))
				p = r;
		if (!(fabs(m[p][c]) > 1e-300))
			return -1;
		for (int k = 0; k < 8; k++) {
			double t = m[c][k];
			m[c][k] = m[p][k];
			m[p][k] = t;
		}
		double d = m[c][c];
		for (int k = 0; k < 8; k++)
			m[c][k] /= d;
		for (int r = 0; r < 4; r++) {
			double f = m[r][c];
			if (r == c || f == 0)
				continue;
			for (int k = 0; k < 8; k++)
				m[r][k] -= f * m[c][k];
		}
	}
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			inv[r][c] = m[r][4 + c];
	return 0;
}

void mg_affine_mul(const double a[4][4], const double b[4][4], double c[4][4])
{
	double t[4][4];
	for (int r = 0; r < 4; r++)
		for (int col = 0; col < 4; col++) {
			double s = 0;
			for (int k = 0; k < 4; k++)
				s += a[r][k] * b[k][col];
			t[r][col] = s;
		}
	memcpy(c, t, sizeof t);
}

int mg_allclose(const double *x, const double *y, int n)
{
	for (int i = 0; i < n; i++)
		if (!(fabs(x[i] - y[i]) <= 1e-8 + 1e-5 * fabs(y[i])))
			return 0;
	return 1;
}

struct mg_meta *mg_meta_new(void)
{
	struct mg_meta *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->refs = 1;
	m->sdim = 3;
	mg_affine_identity(m->affine);
	mg_affine_identity(m->orig_affine);
	for (int i = 0; i < 3; i++)
		m->pixdim[i] = 1;
	m->original_channel_dim = MG_NO_CHANNEL;
	return m;
}

struct mg_meta *mg_meta_clone(const struct mg_meta *src)
{
	struct mg_meta *m = malloc(sizeof *m);
	if (!m)
		return NULL;
	*m = *src;
	m->refs = 1;
	m->filename = NULL;
	m->clipping = NULL;
	m->nclipping = 0;
	if ((src->filename && !(m->filename = strdup(src->filename))) ||
	    mg_meta_set_clipping(m, src->clipping, src->nclipping)) {
		free(m->filename);
		free(m);
		return NULL;
	}
	return m;
}

void mg_meta_retain(struct mg_meta *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
}

void mg_meta_release(struct mg_meta *m)
{
	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(m->filename);
	free(m->clipping);
	free(m);
}

int mg_meta_set_clipping(struct mg_meta *m, const struct mg_clipping *c, int n)
{
	struct mg_clipping *p = n > 0 ? malloc(sizeof *p * (size_t)n) : NULL;
	if (n > 0 && !p)
		return MG_ERR_NOMEM;
	if (n > 0)
		memcpy(p, c, sizeof *p * (size_t)n);
	free(m->clipping);
	m->clipping = p;
	m->nclipping = n > 0 ? n : 0;
	return 0;
}

int mg_meta_set_filename(struct mg_meta *m, const char *name)
{
	char *s = name ? strdup(name) : NULL;
	if (name && !s)
		return MG_ERR_NOMEM;
	free(m->filename);
	m->filename = s;
	return 0;
}

struct mg_meta *mg_meta_mut(struct mg_tensor *t)
{
	if (!t->meta)
		return t->meta = mg_meta_new();
	if (__atomic_load_n(&t->meta->refs, __ATOMIC_ACQUIRE) == 1)
		return t->meta;
	struct mg_meta *m = mg_meta_clone(t->meta);
	if (!m)
		return NULL;
	mg_meta_release(t->meta);
	return t->meta = m;
}
