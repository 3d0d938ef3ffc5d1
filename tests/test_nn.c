/* test_nn.c: the network ops' kernels against each other and against calculus.
 * - Finite differences in float64 check the backward passes of Conv, ConvTranspose and
 *   Linear (reference path, float64 tensors): the loss is sum(y * g) for a random g, so
 *   the gradients are the backward passes applied to g.
 * - oneDNN (float32) against the reference (float64 arithmetic) on every pass, for 1D to
 *   3D shapes with size-1 and prime dims, odd strides, dilations, asymmetric "same"
 *   padding, groups > 1, and operands in plain, channels-last, strided-slice and flipped
 *   layouts.
 * - The primitive cache: a repeated call creates no primitive; one primitive run from
 *   two threads at once gives the reference's result.
 * - Arguments and shapes torch refuses are refused, naming the op and argument.
 * Tolerances: FD |fd - analytic| <= 1e-7 (1 + |analytic|) with h = 1e-3 (the loss is
 * linear in each operand, so only rounding remains); oneDNN vs reference
 * |d - r| <= 1e-4 (1 + |r|) (float32 accumulation over at most a few hundred terms). */
#include "check.h"
#include "golden.h"

#include "../ops/nn.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double urand(void) /* uniform in [-1, 1) */
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / (double)(1ull << 53) * 2 - 1;
}

static void fill(struct mg_tensor *t)
{
	struct mg_iter it;
	size_t es = mg_dtype_size(t->dtype);
	char *p = mg_tensor_data(t);
	mg_iter_init(&it, t->rank, t->dims, 1, (const int64_t *[]){t->strides});
	do
		mg_dtype_store(t->dtype, p + it.off[0] * (int64_t)es, urand());
	while (mg_iter_next(&it));
}

static double dot(const struct mg_tensor *a, const struct mg_tensor *b)
{
	struct mg_iter it;
	double s = 0;
	const char *pa = mg_tensor_data(a), *pb = mg_tensor_data(b);
	mg_iter_init(&it, a->rank, a->dims, 2, (const int64_t *[]){a->strides, b->strides});
	do
		s += mg_dtype_load(a->dtype, pa + it.off[0] * (int64_t)mg_dtype_size(a->dtype)) *
		     mg_dtype_load(b->dtype, pb + it.off[1] * (int64_t)mg_dtype_size(b->dtype));
	while (mg_iter_next(&it));
	return s;
}

enum layout { PLAIN, CHANNELS_LAST, SLICED, FLIPPED };

/* A random tensor of dims d in that layout (channels-last: channel axis fastest;
 * sliced: every other element of the last axis of a twice longer tensor; flipped: the
 * last axis reversed). */
static void make(struct mg_tensor *t, enum mg_dtype dt, int rank, const int64_t *d,
		 enum layout l)
{
	struct mg_err e = {0};
	int64_t dd[MG_MAX_RANK];
	memcpy(dd, d, (size_t)rank * sizeof *d);
	if (l == CHANNELS_LAST && rank >= 3) {
		int order[MG_MAX_RANK], k = 0;
		order[k++] = 1;
		for (int i = rank - 1; i >= 2; i--)
			order[k++] = i;
		order[k++] = 0;
		CHECK_OK(mg_tensor_alloc_order(t, dt, rank, dd, order, &e), &e);
	} else {
		if (l == SLICED)
			dd[rank - 1] *= 2;
		CHECK_OK(mg_tensor_alloc(t, dt, rank, dd, &e), &e);
		if (l == SLICED) {
			t->dims[rank - 1] = d[rank - 1];
			t->strides[rank - 1] *= 2;
		} else if (l == FLIPPED) {
			t->offset += (d[rank - 1] - 1) * t->strides[rank - 1];
			t->strides[rank - 1] = -t->strides[rank - 1];
		}
	}
	fill(t);
}

struct cfg {
	int transposed;
	int64_t n, cin, cout; /* the op's channels: x has cin, y has cout */
	int sdim;
	int64_t sp[3], k[3];
	const char *args;
	int bias;
};

/* The op's geometry, x dims and weight dims for case c. */
static int setup(const struct cfg *c, struct mg_conv_geom *g, int64_t *xd, int64_t *wd,
		 struct mg_arena *arena, struct mg_attr *a)
{
	struct mg_err e = {0};
	const struct mg_opdef *d = golden_op(c->transposed ? "ConvTranspose" : "Conv");
	CHECK_OK(golden_parse_text(d, c->args, arena, a, &e), &e);
	int64_t G = a[MG_CONV_A_GROUPS].v.i;
	xd[0] = c->n, xd[1] = c->cin;
	wd[0] = c->transposed ? c->cin : c->cout;
	wd[1] = (c->transposed ? c->cout : c->cin) / G;
	for (int i = 0; i < c->sdim; i++)
		xd[2 + i] = c->sp[i], wd[2 + i] = c->k[i];
	int rc = mg_conv_geometry(d->name, a, c->transposed, 2 + c->sdim, xd, 2 + c->sdim, wd,
				  c->bias ? c->cout : -1, g, &e);
	CHECK(rc == 0, "%s %s: %s", d->name, c->args, e.msg);
	return rc;
}

/* The dims of the op's output y. */
static void out_dims(const struct cfg *c, const struct mg_conv_geom *g, int64_t *yd)
{
	yd[0] = c->n, yd[1] = c->cout;
	for (int i = 0; i < c->sdim; i++)
		yd[2 + i] = c->transposed ? g->in[i] : g->out[i];
}

/* Central differences of L = sum(g * op(x, w, b)) at `picks` entries of operand `which`
 * (0 x, 1 w, 2 b) against the analytic gradient grad. */
static void fd_operand(const struct cfg *c, const struct mg_conv_geom *g, struct mg_tensor *op[3],
		       const struct mg_tensor *gy, int which, const struct mg_tensor *grad)
{
	struct mg_err e = {0};
	struct mg_tensor *t = op[which];
	double *p = mg_tensor_data(t), h = 1e-3, worst = 0;
	const double *gp = mg_tensor_data(grad);
	int64_t n = mg_tensor_numel(t);
	for (int pick = 0; pick < 6 && pick < n; pick++) {
		int64_t i = (int64_t)((urand() + 1) / 2 * (double)n) % n;
		double v = p[i], l[2];
		for (int s = 0; s < 2; s++) {
			struct mg_tensor y;
			p[i] = v + (s ? -h : h);
			CHECK_OK(mg_conv_compute(MG_DNN_FWD, g, c->transposed, 0, op[0], op[1],
						 c->bias ? op[2] : NULL, &y, NULL, NULL, &e), &e);
			l[s] = dot(&y, gy);
			mg_tensor_release(&y);
		}
		p[i] = v;
		double fd = (l[0] - l[1]) / (2 * h), err = fabs(fd - gp[i]) / (1 + fabs(gp[i]));
		worst = fmax(worst, err);
		CHECK(err <= 1e-7, "%s %s operand %d entry %lld: fd %.12g, analytic %.12g",
		      c->transposed ? "ConvTranspose" : "Conv", c->args, which, (long long)i, fd,
		      gp[i]);
	}
	if (worst > 1e-9)
		printf("  fd: %s %s operand %d: worst relative error %.3g\n",
		       c->transposed ? "ConvTranspose" : "Conv", c->args, which, worst);
}

static void fd_case(const struct cfg *c)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_conv_geom g;
	struct mg_err e = {0};
	int64_t xd[5], wd[5], yd[5], bd = c->cout;
	if (setup(c, &g, xd, wd, &arena, a)) {
		mg_arena_free(&arena);
		return;
	}
	out_dims(c, &g, yd);
	int r = 2 + c->sdim;
	struct mg_tensor x, w, b, gy, dx, dw, db;
	make(&x, MG_DTYPE_F64, r, xd, PLAIN);
	make(&w, MG_DTYPE_F64, r, wd, PLAIN);
	make(&b, MG_DTYPE_F64, 1, &bd, PLAIN);
	make(&gy, MG_DTYPE_F64, r, yd, PLAIN);
	CHECK_OK(mg_conv_compute(MG_DNN_BWD_DATA, &g, c->transposed, 0, &gy, &w, NULL, &dx, NULL,
				 NULL, &e), &e);
	CHECK_OK(mg_conv_compute(MG_DNN_BWD_WEIGHTS, &g, c->transposed, 0, &x, &gy, NULL, &dw,
				 &db, NULL, &e), &e);
	struct mg_tensor *op[3] = {&x, &w, &b};
	fd_operand(c, &g, op, &gy, 0, &dx);
	fd_operand(c, &g, op, &gy, 1, &dw);
	if (c->bias)
		fd_operand(c, &g, op, &gy, 2, &db);
	struct mg_tensor *all[] = {&x, &w, &b, &gy, &dx, &dw, &db};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		mg_tensor_release(all[i]);
	mg_arena_free(&arena);
}

static double max_dnn_err;

/* Compares oneDNN's result with the reference's; both are released. */
static void compare(const char *what, const struct cfg *c, int lay, struct mg_tensor *got,
		    struct mg_tensor *want)
{
	char name[256];
	snprintf(name, sizeof name, "%s %s %s layout %d", c->transposed ? "ConvTranspose" : "Conv",
		 c->args, what, lay);
	CHECK(golden_same_shape(got, want), "%s: shapes differ", name);
	if (golden_same_shape(got, want))
		CHECK(golden_compare(name, got, want, 1e-4, 1e-4, &max_dnn_err) == 0, "%s", name);
	mg_tensor_release(got);
	mg_tensor_release(want);
}

static void dnn_case(const struct cfg *c, enum layout lay)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_conv_geom g;
	struct mg_err e = {0};
	int64_t xd[5], wd[5], yd[5], bd = c->cout;
	if (setup(c, &g, xd, wd, &arena, a)) {
		mg_arena_free(&arena);
		return;
	}
	out_dims(c, &g, yd);
	int r = 2 + c->sdim;
	struct mg_tensor x, w, b, dy, got, want, gotb, wantb;
	make(&x, MG_DTYPE_F32, r, xd, lay);
	make(&w, MG_DTYPE_F32, r, wd, lay == CHANNELS_LAST ? PLAIN : lay);
	make(&b, MG_DTYPE_F32, 1, &bd, lay == CHANNELS_LAST ? PLAIN : lay);
	make(&dy, MG_DTYPE_F32, r, yd, lay);
	const struct mg_tensor *bias = c->bias ? &b : NULL;
	for (int pass = MG_DNN_FWD; pass <= MG_DNN_BWD_WEIGHTS; pass++) {
		const struct mg_tensor *pa = pass == MG_DNN_BWD_DATA ? &dy : &x;
		const struct mg_tensor *pb = pass == MG_DNN_BWD_WEIGHTS ? &dy : &w;
		int want_b = pass == MG_DNN_BWD_WEIGHTS && c->bias;
		int rc = mg_conv_compute(pass, &g, c->transposed, 1, pa, pb, bias, &got,
					 want_b ? &gotb : NULL, NULL, &e);
		CHECK(rc == 0, "%s %s pass %d layout %d: %s",
		      c->transposed ? "ConvTranspose" : "Conv", c->args, pass, lay, e.msg);
		mg_err_clear(&e);
		CHECK_OK(mg_conv_compute(pass, &g, c->transposed, 0, pa, pb, bias, &want,
					 want_b ? &wantb : NULL, NULL, &e), &e);
		if (rc) {
			mg_tensor_release(&want);
			if (want_b)
				mg_tensor_release(&wantb);
			continue;
		}
		static const char *const passes[] = {"forward", "backward data", "backward weights"};
		compare(passes[pass], c, lay, &got, &want);
		if (want_b)
			compare("bias grad", c, lay, &gotb, &wantb);
	}
	struct mg_tensor *all[] = {&x, &w, &b, &dy};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		mg_tensor_release(all[i]);
	mg_arena_free(&arena);
}

static const struct cfg cases[] = {
	{0, 2, 3, 4, 1, {11}, {3}, "{}", 1},
	{0, 1, 4, 6, 1, {13}, {5}, "{\"stride\": 3, \"padding\": 2, \"dilation\": 2, "
				  "\"groups\": 2}", 1},
	{0, 1, 1, 1, 1, {1}, {1}, "{}", 0},
	{0, 2, 3, 5, 2, {7, 5}, {3, 2}, "{\"stride\": [2, 1], \"padding\": [1, 0]}", 1},
	{0, 1, 6, 3, 2, {9, 8}, {3, 3}, "{\"padding\": \"same\", \"dilation\": [1, 2], "
				      "\"groups\": 3}", 1},
	{0, 1, 2, 4, 2, {6, 7}, {4, 2}, "{\"padding\": \"same\"}", 0},
	{0, 1, 2, 3, 2, {5, 5}, {5, 5}, "{\"padding\": \"valid\"}", 1},
	{0, 1, 3, 2, 3, {5, 4, 3}, {3, 3, 3}, "{\"padding\": 1}", 1},
	{0, 2, 4, 4, 3, {7, 6, 5}, {3, 2, 1}, "{\"stride\": [2, 3, 1], \"padding\": [1, 0, 0], "
					    "\"dilation\": [2, 1, 1], \"groups\": 4}", 1},
	{0, 1, 2, 3, 3, {1, 5, 1}, {1, 3, 1}, "{\"stride\": 2}", 0},
	{1, 2, 3, 4, 1, {5}, {3}, "{\"stride\": 2, \"padding\": 1, \"output_padding\": 1}", 1},
	{1, 1, 4, 2, 1, {7}, {2}, "{\"dilation\": 3, \"groups\": 2}", 0},
	{1, 1, 3, 2, 2, {4, 3}, {3, 2}, "{\"stride\": [2, 3], \"padding\": [1, 0], "
				      "\"output_padding\": [0, 2]}", 1},
	{1, 1, 2, 3, 3, {3, 2, 2}, {2, 2, 2}, "{\"stride\": 2}", 1},
	{1, 2, 4, 6, 3, {3, 1, 2}, {3, 1, 2}, "{\"stride\": [1, 2, 3], \"padding\": [1, 0, 1], "
					    "\"dilation\": [2, 1, 1], \"groups\": 2}", 1},
	/* 8 channels or more: channels-last runs oneDNN's kernels on the given layout
	 * (dnn.c), fewer come out contiguous (conv.c) */
	{0, 2, 8, 16, 3, {5, 4, 3}, {3, 3, 3}, "{\"padding\": 1}", 1},
	{0, 1, 16, 8, 3, {6, 5, 4}, {3, 3, 3}, "{\"stride\": 2, \"padding\": 1}", 1},
	{0, 1, 8, 2, 3, {4, 4, 3}, {3, 3, 3}, "{\"padding\": 1}", 0},
	{1, 2, 16, 8, 3, {3, 2, 2}, {3, 3, 3}, "{\"stride\": 2, \"padding\": 1, "
					      "\"output_padding\": 1}", 1},
	{0, 1, 8, 8, 2, {7, 6}, {3, 3}, "{\"padding\": 1}", 0},
};

/* Linear: finite differences (float64, reference) and oneDNN against the reference. */
static void linear_cases(void)
{
	static const struct {
		int rank;
		int64_t xd[4], out;
		int bias;
	} lc[] = {{2, {3, 7}, 5, 1}, {1, {4}, 1, 0}, {3, {2, 3, 11}, 2, 1}, {4, {1, 2, 1, 13}, 7, 1}};
	struct mg_err e = {0};
	for (size_t i = 0; i < sizeof lc / sizeof *lc; i++) {
		int r = lc[i].rank;
		int64_t in = lc[i].xd[r - 1], wd[2] = {lc[i].out, in}, yd[4];
		memcpy(yd, lc[i].xd, sizeof yd);
		yd[r - 1] = lc[i].out;
		for (int dt = 0; dt < 1 + mg_dnn_available(); dt++) {
			enum mg_dtype t = dt ? MG_DTYPE_F32 : MG_DTYPE_F64;
			struct mg_tensor x, w, b, gy, y, dx, dw, db, y2, dx2, dw2, db2;
			make(&x, t, r, lc[i].xd, dt ? SLICED : PLAIN);
			make(&w, t, 2, wd, dt ? FLIPPED : PLAIN);
			make(&b, t, 1, &wd[0], PLAIN);
			make(&gy, t, r, yd, PLAIN);
			const struct mg_tensor *bias = lc[i].bias ? &b : NULL;
			CHECK_OK(mg_linear_compute(MG_DNN_FWD, 0, &x, &w, bias, &y, NULL, &e), &e);
			CHECK_OK(mg_linear_compute(MG_DNN_BWD_DATA, 0, &gy, &w, NULL, &dx, NULL, &e), &e);
			CHECK_OK(mg_linear_compute(MG_DNN_BWD_WEIGHTS, 0, &x, &gy, NULL, &dw, &db, &e), &e);
			if (!dt) { /* y = x W^T + b is linear in each: L's partials are exact */
				struct mg_tensor *ops[3] = {&x, &w, &b}, *gr[3] = {&dx, &dw, &db};
				for (int o = 0; o < 2 + lc[i].bias; o++) {
					double *p = mg_tensor_data(ops[o]);
					int64_t k = mg_tensor_numel(ops[o]) / 2;
					double v = p[k], l[2];
					for (int s = 0; s < 2; s++) {
						struct mg_tensor yy;
						p[k] = v + (s ? -1e-3 : 1e-3);
						CHECK_OK(mg_linear_compute(MG_DNN_FWD, 0, &x, &w, bias, &yy,
									   NULL, &e), &e);
						l[s] = dot(&yy, &gy);
						mg_tensor_release(&yy);
					}
					p[k] = v;
					double fd = (l[0] - l[1]) / 2e-3, an = ((double *)
						mg_tensor_data(gr[o]))[k];
					CHECK(fabs(fd - an) <= 1e-7 * (1 + fabs(an)), "Linear case %zu "
					      "operand %d: fd %.12g analytic %.12g", i, o, fd, an);
				}
			} else {
				CHECK_OK(mg_linear_compute(MG_DNN_FWD, 1, &x, &w, bias, &y2, NULL, &e), &e);
				CHECK_OK(mg_linear_compute(MG_DNN_BWD_DATA, 1, &gy, &w, NULL, &dx2, NULL,
							   &e), &e);
				CHECK_OK(mg_linear_compute(MG_DNN_BWD_WEIGHTS, 1, &x, &gy, NULL, &dw2, &db2,
							   &e), &e);
				CHECK(golden_compare("Linear y", &y2, &y, 1e-4, 1e-4, &max_dnn_err) == 0);
				CHECK(golden_compare("Linear dx", &dx2, &dx, 1e-4, 1e-4, &max_dnn_err) == 0);
				CHECK(golden_compare("Linear dw", &dw2, &dw, 1e-4, 1e-4, &max_dnn_err) == 0);
				CHECK(golden_compare("Linear db", &db2, &db, 1e-4, 1e-4, &max_dnn_err) == 0);
				struct mg_tensor *d2[] = {&y2, &dx2, &dw2, &db2};
				for (int j = 0; j < 4; j++)
					mg_tensor_release(d2[j]);
			}
			struct mg_tensor *all[] = {&x, &w, &b, &gy, &y, &dx, &dw, &db};
			for (size_t j = 0; j < sizeof all / sizeof *all; j++)
				mg_tensor_release(all[j]);
		}
	}
}

/* A second identical call makes no primitive; a new shape does. */
static void cache_reuse(void)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_conv_geom g;
	struct mg_err e = {0};
	int64_t xd[5], wd[5];
	const struct cfg c = {0, 1, 8, 8, 2, {8, 8}, {3, 3}, "{\"padding\": 1}", 1};
	if (setup(&c, &g, xd, wd, &arena, a))
		return;
	struct mg_tensor x, w, b, y;
	int64_t bd = 8;
	make(&x, MG_DTYPE_F32, 4, xd, CHANNELS_LAST);
	make(&w, MG_DTYPE_F32, 4, wd, PLAIN);
	make(&b, MG_DTYPE_F32, 1, &bd, PLAIN);
	int64_t before = 0;
	for (int it = 0; it < 3; it++) {
		CHECK_OK(mg_conv_compute(MG_DNN_FWD, &g, 0, 1, &x, &w, &b, &y, NULL, NULL, &e), &e);
		/* the output keeps x's channels-last layout */
		CHECK(y.strides[1] == 1 && y.strides[3] == 8, "output strides %lld %lld",
		      (long long)y.strides[1], (long long)y.strides[3]);
		mg_tensor_release(&y);
		if (it == 0)
			before = mg_dnn_primitives_created();
	}
	CHECK(mg_dnn_primitives_created() == before, "a repeated call created primitives");
	mg_tensor_release(&x);
	mg_tensor_release(&w);
	mg_tensor_release(&b);
	mg_arena_free(&arena);
}

struct threads_ctx {
	const struct mg_conv_geom *g;
	const struct mg_tensor *x, *w, *b, *want;
	int64_t bad[8];
};

static void threads_one(void *p, int64_t i, int worker)
{
	struct threads_ctx *c = p;
	struct mg_err e = {0};
	struct mg_tensor y;
	c->bad[i] = -1;
	if (mg_conv_compute(MG_DNN_FWD, c->g, 0, 1, c->x, c->w, c->b, &y, NULL, NULL, &e))
		return;
	const float *py = mg_tensor_data(&y), *pw = mg_tensor_data(c->want);
	c->bad[i] = 0;
	for (int64_t k = 0; k < mg_tensor_numel(&y); k++)
		c->bad[i] += fabsf(py[k] - pw[k]) > 1e-4f * (1 + fabsf(pw[k]));
	mg_tensor_release(&y);
}

/* One cached primitive run from two threads at once (the user scratchpad makes that
 * safe) gives the reference's result every time. */
static void threads(void)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_conv_geom g;
	struct mg_err e = {0};
	int64_t xd[5], wd[5], bd = 8;
	const struct cfg c = {0, 2, 8, 8, 3, {9, 8, 7}, {3, 3, 3}, "{\"padding\": 1}", 1};
	if (setup(&c, &g, xd, wd, &arena, a))
		return;
	struct mg_tensor x, w, b, want;
	make(&x, MG_DTYPE_F32, 5, xd, PLAIN);
	make(&w, MG_DTYPE_F32, 5, wd, PLAIN);
	make(&b, MG_DTYPE_F32, 1, &bd, PLAIN);
	CHECK_OK(mg_conv_compute(MG_DNN_FWD, &g, 0, 0, &x, &w, &b, &want, NULL, NULL, &e), &e);
	struct threads_ctx ctx = {&g, &x, &w, &b, &want, {0}};
	struct mg_pool *pool = mg_pool_new(2);
	mg_pool_for(pool, 8, threads_one, &ctx);
	mg_pool_free(pool);
	for (int i = 0; i < 8; i++)
		CHECK(ctx.bad[i] == 0, "call %d from the pool: %lld values differ (-1: failed)", i,
		      (long long)ctx.bad[i]);
	struct mg_tensor *all[] = {&x, &w, &b, &want};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		mg_tensor_release(all[i]);
	mg_arena_free(&arena);
}

/* Op d on x, w (and b) given as JSON args fails with needle. */
static void refused(const char *op, const char *json, int xr, const int64_t *xd, int wr,
		    const int64_t *wd, int64_t nb, const char *needle)
{
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	const struct mg_opdef *d = golden_op(op);
	int rc = golden_parse_text(d, json, &arena, a, &e), parsed = rc == 0;
	if (parsed) {
		struct mg_type in[MG_STEP_MAXIO] = {
			{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = xr},
			{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = wr}};
		memcpy(in[0].dims, xd, (size_t)xr * sizeof *xd);
		memcpy(in[1].dims, wd, (size_t)wr * sizeof *wd);
		if (nb >= 0)
			in[2] = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 1,
						 .dims = {nb}};
		struct mg_type out;
		rc = d->infer(a, in, &out, &e);
	}
	/* the type rule's messages name the op; the parser's name the argument (the frontend
	 * puts the transform in front) */
	CHECK(rc != 0 && strstr(e.msg, needle) && (!parsed || strstr(e.msg, op)), "%s %s: '%s' "
	      "should name '%s'", op, json, e.msg, needle);
	mg_arena_free(&arena);
}

static void errors(void)
{
	const int64_t x2[] = {1, 4, 8, 8}, w2[] = {6, 2, 3, 3}, w2b[] = {6, 4, 9, 3};
	refused("Conv", "{\"groups\": 3}", 4, x2, 4, w2, -1, "groups");
	refused("Conv", "{}", 4, x2, 4, w2, -1, "channels");
	refused("Conv", "{\"groups\": 2}", 4, x2, 4, w2, 5, "bias");
	refused("Conv", "{\"padding\": \"same\", \"stride\": 2, \"groups\": 2}", 4, x2, 4, w2, -1,
		"stride 1");
	refused("Conv", "{\"padding\": \"full\", \"groups\": 2}", 4, x2, 4, w2, -1, "padding");
	refused("Conv", "{\"stride\": [1, 2, 3], \"groups\": 2}", 4, x2, 4, w2, -1, "stride");
	refused("Conv", "{\"dilation\": 0, \"groups\": 2}", 4, x2, 4, w2, -1, "dilation");
	refused("Conv", "{\"padding\": -1, \"groups\": 2}", 4, x2, 4, w2, -1, "padding");
	refused("Conv", "{}", 4, x2, 4, w2b, -1, "kernel");
	refused("Conv", "{\"padding_mode\": \"reflect\"}", 4, x2, 4, w2b, -1, "padding_mode");
	refused("Conv", "{\"groups\": 2}", 3, x2, 4, w2, -1, "rank");
	const int64_t wt[] = {4, 3, 3, 3};
	refused("ConvTranspose", "{\"output_padding\": 1}", 4, x2, 4, wt, -1, "output_padding");
	refused("ConvTranspose", "{\"padding\": \"same\"}", 4, x2, 4, wt, -1, "padding");
	refused("ConvTranspose", "{\"padding\": 3}", 4, (const int64_t[]){1, 4, 1, 1}, 4, wt, -1,
		"size");
	refused("Linear", "{}", 2, (const int64_t[]){2, 5}, 2, (const int64_t[]){3, 4}, -1,
		"features");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		fd_case(&cases[i]);
	if (mg_dnn_available()) {
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
			for (int l = PLAIN; l <= FLIPPED; l++)
				dnn_case(&cases[i], l);
		cache_reuse();
		threads();
	} else {
		printf("oneDNN not available: the reference kernels alone are checked\n");
	}
	linear_cases();
	errors();
	printf("oneDNN vs reference: largest difference %.3g\n", max_dnn_err);
	mg_dnn_cache_clear();
	return check_done();
}
