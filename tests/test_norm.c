/* test_norm.c: the normalization ops' gradient ops against calculus, their gradient
 * rule, and their refusals.
 * - gradcheck (tests/gradcheck.h): each op's rule, its gradient op and the autodiff pass
 *   together against finite differences, for x, weight and bias in every mode, within
 *   1e-6 (1 + |analytic|).
 * - Finite differences in float64: for each op and mode (BatchNorm training, eval and
 *   untracked; InstanceNorm with and without running statistics; GroupNorm; LayerNorm),
 *   the loss sum(y * g) for a random g, the gradient op's dx, dweight and dbias (fed
 *   the forward's saved mean and invstd) against central differences of the forward
 *   kernel at random entries; h = 1e-5, |fd - analytic| <= 1e-6 (1 + |analytic|).
 * - The gradient rule (through a stand-in for the autodiff pass): which node it adds,
 *   which inputs get which output, and its refusals.
 * - Input counts, dtypes, shapes and arguments torch refuses are refused, naming the op
 *   and the argument. */
#include "check.h"
#include "golden.h"
#include "gradcheck.h"

#include "../ops/norm.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static double urand(void) /* uniform in [-1, 1) */
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / (double)(1ull << 53) * 2 - 1;
}

static void fill(struct mg_tensor *t, double lo, double hi)
{
	double *p = mg_tensor_data(t);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++)
		p[i] = lo + (urand() + 1) / 2 * (hi - lo);
}

static double dot(const struct mg_tensor *a, const struct mg_tensor *b)
{
	struct mg_iter it;
	double s = 0;
	const double *pa = mg_tensor_data(a), *pb = mg_tensor_data(b);
	mg_iter_init(&it, a->rank, a->dims, 2, (const int64_t *[]){a->strides, b->strides});
	do
		s += pa[it.off[0]] * pb[it.off[1]];
	while (mg_iter_next(&it));
	return s;
}

struct fdcase {
	const char *op, *args;
	int rank;
	int64_t dims[5];
	int nparams;      /* weight, bias, running stats: the inputs after x */
	int64_t pdims[3]; /* their shape, its rank first */
	int nbt;             /* a num_batches_tracked input */
};

static struct mg_val tval(struct mg_tensor t) { return (struct mg_val){.kind = MG_VK_TENSOR, .t = t}; }

/* sum(g * op(in)) */
static double loss(const struct mg_opdef *d, const struct mg_attr *a, struct mg_val *in,
		   const struct mg_tensor *g)
{
	struct mg_err e = {0};
	struct mg_kctx k = {.err = &e};
	struct mg_val out[MG_STEP_MAXIO] = {{0}};
	CHECK_OK(d->ref(a, in, out, &k), &e);
	double l = out[0].kind == MG_VK_TENSOR ? dot(&out[0].t, g) : NAN;
	for (int i = 0; i < d->nout; i++)
		mg_val_release(&out[i]);
	return l;
}

static void fd_case(const struct fdcase *c)
{
	const struct mg_opdef *d = golden_op(c->op);
	char gname[64];
	snprintf(gname, sizeof gname, "%sGrad", c->op);
	const struct mg_opdef *gd = golden_op(gname);
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, c->args, &arena, a, &e), &e);
	struct mg_val in[MG_STEP_MAXIO] = {{0}}, out[MG_STEP_MAXIO] = {{0}};
	struct mg_tensor t;
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_F64, c->rank, c->dims, &e), &e);
	fill(&t, -1.5, 2.5);
	in[0] = tval(t);
	int n = 1;
	for (int i = 0; i < c->nparams; i++) { /* positive: running_var is among them */
		CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_F64, (int)c->pdims[0], c->pdims + 1, &e), &e);
		fill(&t, 0.4, 1.4);
		in[n++] = tval(t);
	}
	if (c->nbt) {
		CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_I64, 0, c->dims, &e), &e);
		*(int64_t *)mg_tensor_data(&t) = 2;
		in[n++] = tval(t);
	}
	struct mg_kctx k = {.err = &e};
	CHECK_OK(d->ref(a, in, out, &k), &e);
	struct mg_tensor g;
	CHECK_OK(mg_tensor_alloc(&g, MG_DTYPE_F64, c->rank, c->dims, &e), &e);
	fill(&g, -1, 1);
	int affine = d->nout && n > 1 && !strstr(c->args, "\"affine\": false") &&
		     !strstr(c->args, "\"elementwise_affine\": false") &&
		     (strcmp(c->op, "InstanceNorm") || strstr(c->args, "\"affine\": true"));
	struct mg_val gin[MG_STEP_MAXIO] = {tval(g), in[0], out[1], out[2]}, gout[3] = {{0}};
	if (affine)
		gin[4] = in[1];
	CHECK_OK(gd->ref(a, gin, gout, &k), &e);
	int nwrt = affine ? (strstr(c->args, "\"bias\": false") ? 2 : 3) : 1;
	double worst = 0;
	for (int w = 0; w < nwrt; w++) {
		struct mg_tensor *p = &in[w].t;
		const double *an = mg_tensor_data(&gout[w].t);
		double *v = mg_tensor_data(p), h = 1e-5;
		int64_t numel = mg_tensor_numel(p);
		for (int pick = 0; pick < 8; pick++) {
			int64_t i = (int64_t)((urand() + 1) / 2 * (double)numel) % numel;
			double v0 = v[i], l[2];
			for (int s = 0; s < 2; s++) {
				v[i] = v0 + (s ? -h : h);
				l[s] = loss(d, a, in, &g);
			}
			v[i] = v0;
			double fd = (l[0] - l[1]) / (2 * h), err = fabs(fd - an[i]) / (1 + fabs(an[i]));
			worst = fmax(worst, err);
			CHECK(err <= 1e-6, "%s %s: d/d input %d [%lld]: fd %.12g, analytic %.12g", c->op,
			      c->args, w, (long long)i, fd, an[i]);
		}
	}
	printf("  fd %s %s: worst relative error %.3g\n", c->op, c->args, worst);
	for (int i = 0; i < 3; i++)
		mg_val_release(&gout[i]);
	for (int i = 0; i < d->nout; i++)
		mg_val_release(&out[i]);
	for (int i = 0; i < n; i++)
		mg_val_release(&in[i]);
	mg_tensor_release(&g);
	mg_arena_free(&arena);
}

static void finite_differences(void)
{
	static const struct fdcase cases[] = {
		{"BatchNorm", "{\"num_features\": 3, \"training\": true}", 4, {2, 3, 4, 3}, 4,
		 {1, 3}, 0},
		{"BatchNorm", "{\"num_features\": 2, \"training\": true, \"momentum\": null}", 3,
		 {3, 2, 5}, 4, {1, 2}, 1},
		{"BatchNorm", "{\"num_features\": 3}", 5, {2, 3, 2, 3, 2}, 4, {1, 3}, 0},
		{"BatchNorm", "{\"num_features\": 4, \"track_running_stats\": false}", 2, {5, 4}, 2,
		 {1, 4}, 0},
		{"BatchNorm", "{\"num_features\": 2, \"affine\": false, \"training\": true}", 3,
		 {2, 2, 3}, 2, {1, 2}, 0},
		{"InstanceNorm", "{\"num_features\": 3}", 3, {2, 3, 7}, 0, {0}, 0},
		{"InstanceNorm", "{\"num_features\": 2, \"affine\": true}", 5, {2, 2, 3, 2, 3}, 2,
		 {1, 2}, 0},
		{"InstanceNorm", "{\"num_features\": 2, \"affine\": true, \"track_running_stats\": "
		 "true}", 4, {3, 2, 3, 4}, 4, {1, 2}, 0},
		{"InstanceNorm", "{\"num_features\": 2, \"affine\": true, \"bias\": false, "
		 "\"track_running_stats\": true, \"training\": true}", 3, {2, 2, 5}, 3,
		 {1, 2}, 0},
		{"GroupNorm", "{\"num_groups\": 2, \"num_channels\": 6}", 4, {2, 6, 3, 2}, 2,
		 {1, 6}, 0},
		{"GroupNorm", "{\"num_groups\": 1, \"num_channels\": 3, \"affine\": false}", 3,
		 {2, 3, 4}, 0, {0}, 0},
		{"LayerNorm", "{\"normalized_shape\": [3, 4]}", 3, {2, 3, 4}, 2, {2, 3, 4}, 0},
		{"LayerNorm", "{\"normalized_shape\": 5, \"bias\": false}", 2, {3, 5}, 1, {1, 5}, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		fd_case(&cases[i]);
}

/* ---- the rules through the autodiff pass ---------------------------------------------------- */

#define IN(r, ...) {.rank = r, .dims = {__VA_ARGS__}, .wrt = 1, .lo = -1.5, .hi = 2.5}
#define P(c) {.rank = 1, .dims = {c}, .wrt = 1, .lo = 0.4, .hi = 1.4}
#define RUN(c) {.rank = 1, .dims = {c}, .wrt = 0, .lo = 0.4, .hi = 1.4}

static void through_autodiff(void)
{
	double worst = 0, tol = 1e-6;
	const struct gc_input bn2d[] = {IN(4, 2, 3, 4, 3), P(3), P(3), RUN(3), RUN(3)};
	worst = fmax(worst, gradcheck("BatchNorm", "{\"num_features\": 3, \"training\": true}",
				      5, bn2d, 1, tol));
	worst = fmax(worst, gradcheck("BatchNorm", "{\"num_features\": 3}", 5, bn2d, 1, tol));
	const struct gc_input bn1d[] = {IN(2, 5, 4), P(4), P(4)};
	worst = fmax(worst, gradcheck("BatchNorm", "{\"num_features\": 4, "
				      "\"track_running_stats\": false}", 3, bn1d, 1, tol));
	const struct gc_input bn3d[] = {IN(5, 2, 2, 3, 2, 3), RUN(2), RUN(2)};
	worst = fmax(worst, gradcheck("BatchNorm", "{\"num_features\": 2, \"affine\": false, "
				      "\"training\": true}", 3, bn3d, 1, tol));
	const struct gc_input in1d[] = {IN(3, 2, 3, 7)};
	worst = fmax(worst, gradcheck("InstanceNorm", "{\"num_features\": 3}", 1, in1d, 1, tol));
	const struct gc_input in3d[] = {IN(5, 2, 2, 3, 2, 3), P(2), P(2), RUN(2), RUN(2)};
	worst = fmax(worst, gradcheck("InstanceNorm", "{\"num_features\": 2, \"affine\": true, "
				      "\"track_running_stats\": true, \"training\": true}", 5, in3d,
				      1, tol));
	worst = fmax(worst, gradcheck("InstanceNorm", "{\"num_features\": 2, \"affine\": true, "
				      "\"track_running_stats\": true}", 5, in3d, 1, tol));
	const struct gc_input gn[] = {IN(4, 2, 6, 3, 2), P(6), P(6)};
	worst = fmax(worst, gradcheck("GroupNorm", "{\"num_groups\": 3, \"num_channels\": 6}", 3,
				      gn, 1, tol));
	const struct gc_input gn_nobias[] = {IN(3, 3, 4, 5), P(4)};
	worst = fmax(worst, gradcheck("GroupNorm", "{\"num_groups\": 2, \"num_channels\": 4, "
				      "\"bias\": false}", 2, gn_nobias, 1, tol));
	const struct gc_input ln[] = {IN(3, 2, 3, 4), {.rank = 2, .dims = {3, 4}, .wrt = 1},
				      {.rank = 2, .dims = {3, 4}, .wrt = 1}};
	worst = fmax(worst, gradcheck("LayerNorm", "{\"normalized_shape\": [3, 4]}", 3, ln, 1,
				      tol));
	worst = fmax(worst, gradcheck("LayerNorm", "{\"normalized_shape\": 4, "
				      "\"elementwise_affine\": false}", 1, ln, 1, tol));
	printf("gradcheck: worst relative error %.3g\n", worst);
}

/* ---- the gradient rule through a stand-in for the autodiff pass ---------------------------- */

struct fake {
	int op, nin, nout, calls;
	int32_t in[8];
};

static int32_t fake_node(struct mg_grad *c, int op, const int32_t *in, int nin, int nout,
			 const struct mg_attr *attrs)
{
	struct fake *f = c->pass;
	f->op = op, f->nin = nin, f->nout = nout, f->calls++;
	memcpy(f->in, in, (size_t)nin * sizeof *in);
	return attrs ? 100 : -1;
}

/* Runs op's rule on a node with nin inputs (values 0..nin-1) and nout outputs (values
 * 10..), dy[0] = 20 (and dy[1] = 21 when dy1); returns its code. */
static int rule(const char *op, const char *args, int nin, unsigned need, int dy1,
		struct fake *f, struct mg_grad *c, struct mg_err *e)
{
	static struct mg_arena arena;
	static struct mg_attr a[8];
	const struct mg_opdef *d = golden_op(op);
	CHECK_OK(golden_parse_text(d, args, &arena, a, e), e);
	static int32_t x[8] = {0, 1, 2, 3, 4, 5}, y[8] = {10, 11, 12, 13, 14, 15}, dy[8];
	for (int i = 0; i < 8; i++)
		dy[i] = -1;
	dy[0] = 20;
	if (dy1)
		dy[1] = 21;
	memset(f, 0, sizeof *f);
	*c = (struct mg_grad){.attrs = a, .nin = nin, .nout = d->nout, .x = x, .y = y, .dy = dy,
			      .need = need, .node = fake_node, .e = e, .pass = f};
	return d->grad(c);
}

static void grad_rule(void)
{
	struct fake f;
	struct mg_grad c;
	struct mg_err e = {0};
	/* training BatchNorm: x, weight, bias, running stats, num_batches_tracked */
	CHECK_OK(rule("BatchNorm", "{\"num_features\": 3, \"training\": true}", 6, 0x3f, 0, &f,
		      &c, &e), &e);
	CHECK(f.calls == 1 && f.op == MG_OP_BatchNormGrad && f.nin == 5 && f.nout == 3 &&
	      f.in[0] == 20 && f.in[1] == 0 && f.in[2] == 11 && f.in[3] == 12 && f.in[4] == 1,
	      "BatchNorm's rule: node %d with %d inputs", f.op, f.nin);
	CHECK(c.dx[0] == 100 && c.dx[1] == 101 && c.dx[2] == 102 && c.dx[3] == -1 &&
	      c.dx[4] == -1 && c.dx[5] == -1, "BatchNorm's rule: dx %d %d %d %d", c.dx[0],
	      c.dx[1], c.dx[2], c.dx[3]);
	/* eval: the running statistics are no parameters */
	CHECK_FAILS(rule("BatchNorm", "{\"num_features\": 3}", 5, 0x08, 0, &f, &c, &e), &e,
		    "running_mean");
	CHECK_OK(rule("BatchNorm", "{\"num_features\": 3}", 5, 0x06, 0, &f, &c, &e), &e);
	CHECK(c.dx[1] == 101 && c.dx[2] == 102, "BatchNorm eval: weight and bias");
	/* a loss through a statistic */
	CHECK_FAILS(rule("GroupNorm", "{\"num_groups\": 1, \"num_channels\": 2}", 3, 1, 1, &f,
			 &c, &e), &e, "GroupNorm: the loss depends on its output 1");
	/* no affine: no weight input to the gradient node */
	CHECK_OK(rule("InstanceNorm", "{\"num_features\": 2}", 1, 1, 0, &f, &c, &e), &e);
	CHECK(f.calls == 1 && f.op == MG_OP_InstanceNormGrad && f.nin == 4 && c.dx[0] == 100,
	      "InstanceNorm's rule");
	/* only the bias wanted, no bias input: still one node; nothing wanted: none */
	CHECK_OK(rule("LayerNorm", "{\"normalized_shape\": 4, \"bias\": false}", 2, 2, 0, &f, &c,
		      &e), &e);
	CHECK(f.calls == 1 && f.nin == 5 && c.dx[1] == 101, "LayerNorm's rule, weight only");
	CHECK_OK(rule("LayerNorm", "{\"normalized_shape\": 4}", 3, 0, 0, &f, &c, &e), &e);
	CHECK(f.calls == 0, "a rule with nothing wanted added a node");
	CHECK_FAILS(rule("LayerNorm", "{\"normalized_shape\": 4}", 2, 1, 0, &f, &c, &e), &e,
		    "LayerNorm with these arguments takes 3 inputs (x, weight, bias)");
}

/* ---- refusals --------------------------------------------------------------------------------- */

/* op (arguments args) on inputs of these types fails in the type rule with needle. */
static void refused(const char *op, const char *args, const struct mg_type *in, int n,
		    const char *needle)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	const struct mg_opdef *d = golden_op(op);
	int rc = golden_parse_text(d, args, &arena, a, &e);
	if (!rc) {
		struct mg_type t[MG_STEP_MAXIO] = {{0}}, out[MG_STEP_MAXIO];
		memcpy(t, in, (size_t)n * sizeof *in);
		rc = d->infer(a, t, out, &e);
	}
	CHECK(rc != 0 && strstr(e.msg, needle), "%s %s: expected an error with \"%s\", got %s",
	      op, args, needle, rc ? e.msg : "success");
	mg_arena_free(&arena);
}

#define T(dt, r, ...) {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_##dt, .rank = r, .dims = {__VA_ARGS__}}

static void refusals(void)
{
	const struct mg_type bn[] = {T(F32, 3, 2, 3, 4), T(F32, 1, 3), T(F32, 1, 3), T(F32, 1, 3),
				     T(F32, 1, 3)};
	refused("BatchNorm", "{\"num_features\": 3}", bn, 3,
		"BatchNorm with these arguments takes 5 inputs (x, weight, bias, running_mean, "
		"running_var and optionally num_batches_tracked); got 3");
	refused("BatchNorm", "{\"num_features\": 3, \"training\": true, \"momentum\": null}", bn,
		5, "momentum=null (a cumulative average) needs num_batches_tracked");
	refused("BatchNorm", "{\"num_features\": 0}", bn, 5, "num_features must be positive");
	const struct mg_type bad_w[] = {T(F32, 3, 2, 3, 4), T(F32, 1, 4), T(F32, 1, 3)};
	refused("BatchNorm", "{\"num_features\": 3, \"track_running_stats\": false}", bad_w, 3,
		"BatchNorm: weight has shape (4,); expected (3,)");
	const struct mg_type ints[] = {T(I16, 3, 2, 3, 4)};
	refused("GroupNorm", "{\"num_groups\": 1, \"num_channels\": 3, \"affine\": false}", ints,
		1, "GroupNorm: x is int16; expected float32");
	const struct mg_type mixed[] = {T(F64, 3, 2, 3, 4), T(F32, 1, 3), T(F32, 1, 3)};
	refused("GroupNorm", "{\"num_groups\": 3, \"num_channels\": 3}", mixed, 3,
		"GroupNorm: weight is float32 but x is float64");
	refused("GroupNorm", "{\"num_groups\": 2, \"num_channels\": 3}", mixed, 3,
		"num_channels (3) must be divisible by num_groups (2)");
	const struct mg_type unbatched[] = {T(F32, 2, 3, 7)};
	refused("InstanceNorm", "{\"num_features\": 3}", unbatched, 1, "add the batch axis");
	const struct mg_type ln[] = {T(F32, 2, 3, 4), T(F32, 1, 4), T(F32, 1, 4)};
	refused("LayerNorm", "{\"normalized_shape\": []}", ln, 3, "normalized_shape has 0 axes");
	refused("LayerNorm", "{\"normalized_shape\": [3, 5]}", ln, 3,
		"LayerNorm: x of rank 2 does not end with normalized_shape");
	refused("LayerNorm", "{\"normalized_shape\": [0]}", ln, 3, "normalized_shape[0] is 0");

	/* the kernel refuses what the type rule refuses, and leaves no output */
	const struct mg_opdef *d = golden_op("BatchNorm");
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, "{\"num_features\": 3, \"track_running_stats\": false}",
				   &arena, a, &e), &e);
	struct mg_tensor x, w;
	CHECK_OK(mg_tensor_alloc(&x, MG_DTYPE_F32, 2, (const int64_t[]){1, 3}, &e), &e);
	CHECK_OK(mg_tensor_alloc(&w, MG_DTYPE_F32, 1, (const int64_t[]){3}, &e), &e);
	memset(mg_tensor_data(&x), 0, 3 * sizeof(float));
	memset(mg_tensor_data(&w), 0, 3 * sizeof(float));
	struct mg_val in[MG_STEP_MAXIO] = {tval(x), tval(w), tval(w)}, out[MG_STEP_MAXIO] = {{0}};
	struct mg_kctx k = {.err = &e};
	CHECK_FAILS(d->ref(a, in, out, &k), &e, "BatchNorm: expected more than 1 value per channel");
	for (int i = 0; i < d->nout; i++)
		CHECK(out[i].kind == MG_VK_NONE, "a failed kernel left output %d", i);
	in[2] = (struct mg_val){.kind = MG_VK_STRINGS};
	CHECK_FAILS(d->ref(a, in, out, &k), &e, "BatchNorm input 2: expected an image");
	mg_tensor_release(&x);
	mg_tensor_release(&w);
	mg_arena_free(&arena);
}

int main(void)
{
	finite_differences();
	through_autodiff();
	grad_rule();
	refusals();
	return check_done();
}
