/* eager_grad.h: an op's gradient rule run eagerly, without the autodiff pass: the
 * forward node runs its reference kernel, then the rule, whose c->node calls run each
 * backward node's reference kernel at once. This checks a rule's wiring and its
 * gradient ops' kernels together (tests/test_act.c, test_conformance_act.c); the real
 * pass and tests/gradcheck.h check the same through graphs. Include after check.h. */
#ifndef MG_TEST_EAGER_GRAD_H
#define MG_TEST_EAGER_GRAD_H

#include "../ops/op.h"

#define EAGER_MAXV 32

struct eager {
	struct mg_grad c; /* first: the rule's c is the eager state */
	struct mg_val v[EAGER_MAXV];
	int n;
	struct mg_kctx *k;
};

static inline struct mg_type eager_type(const struct mg_val *v)
{
	struct mg_type t = {.kind = v->kind, .dtype = v->t.dtype, .rank = v->t.rank};
	memcpy(t.dims, v->t.dims, sizeof t.dims);
	return t;
}

/* Runs op on the values in[0..nin), appending its nout outputs; the first's index or -1. */
static inline int32_t eager_run(struct eager *s, int op, const int32_t *in, int nin, int nout,
				const struct mg_attr *attrs)
{
	const struct mg_opdef *d = mg_ops[op];
	struct mg_val vin[MG_STEP_MAXIO] = {{0}}, vout[MG_STEP_MAXIO] = {{0}};
	struct mg_attr none[1] = {{0}};
	if (s->n + nout > EAGER_MAXV || nin > MG_STEP_MAXIO) {
		mg_err_set(s->k->err, MG_ERR_INTERNAL, "eager: too many values");
		return -1;
	}
	for (int i = 0; i < nin; i++)
		vin[i] = s->v[in[i]]; /* borrowed */
	if (!attrs && d->nattrs > 0) {
		mg_err_set(s->k->err, MG_ERR_INTERNAL, "eager: %s needs its attributes", d->name);
		return -1;
	}
	struct mg_step st = {.fn = d->ref, .op = d->name, .def = d, .nin = nin, .nout = nout};
	s->k->step = &st;
	int rc = d->ref(attrs ? attrs : none, vin, vout, s->k);
	s->k->step = NULL;
	if (rc) {
		for (int j = 0; j < nout; j++)
			mg_val_release(&vout[j]);
		return -1;
	}
	int32_t first = s->n;
	for (int j = 0; j < nout; j++)
		s->v[s->n++] = vout[j];
	return first;
}

static inline int32_t eager_node(struct mg_grad *c, int op, const int32_t *in, int nin,
				 int nout, const struct mg_attr *attrs)
{
	return eager_run((struct eager *)c, op, in, nin, nout, attrs);
}

/* The forward node op (attrs) on x[0..nin) (borrowed tensors), then its gradient rule
 * for the output gradients dy[0..nout) (borrowed) and the inputs in `need`; dx[i] gets a
 * new reference to dL/dx[i] (NONE when the rule gave -1: zero). y[0] gets a new
 * reference to the forward output 0 when y is not NULL. */
static inline int eager_grad(int op, const struct mg_attr *attrs, int nin,
			     const struct mg_tensor *x, int nout, const struct mg_tensor *dy,
			     unsigned need, struct mg_val *y, struct mg_val *dx, struct mg_kctx *k)
{
	struct eager s = {.k = k};
	int32_t xi[MG_STEP_MAXIO], yi[MG_STEP_MAXIO], di[MG_STEP_MAXIO];
	struct mg_type xt[MG_STEP_MAXIO], yt[MG_STEP_MAXIO];
	for (int i = 0; i < nin; i++) {
		xi[i] = s.n;
		s.v[s.n].kind = MG_VK_TENSOR;
		s.v[s.n++].t = mg_tensor_share(&x[i]);
		xt[i] = eager_type(&s.v[xi[i]]);
	}
	int rc = -1;
	int32_t y0 = eager_run(&s, op, xi, nin, nout, attrs);
	if (y0 >= 0) {
		for (int j = 0; j < nout; j++) {
			yi[j] = y0 + j;
			yt[j] = eager_type(&s.v[yi[j]]);
			di[j] = s.n;
			s.v[s.n].kind = MG_VK_TENSOR;
			s.v[s.n++].t = mg_tensor_share(&dy[j]);
		}
		s.c = (struct mg_grad){.attrs = attrs, .nin = nin, .nout = nout, .x = xi, .y = yi,
				       .xt = xt, .yt = yt, .dy = di, .need = need,
				       .node = eager_node, .e = k->err};
		for (int i = 0; i < MG_STEP_MAXIO; i++)
			s.c.dx[i] = -1;
		rc = mg_ops[op]->grad(&s.c);
		for (int i = 0; !rc && i < nin; i++)
			if ((need >> i & 1) && s.c.dx[i] >= 0)
				mg_val_share(&dx[i], &s.v[s.c.dx[i]], k->err);
		if (y)
			mg_val_share(y, &s.v[y0], k->err);
	}
	for (int i = 0; i < s.n; i++)
		mg_val_release(&s.v[i]);
	return rc;
}

#endif
