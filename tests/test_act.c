/* test_act.c: the activation ops against calculus and their own contracts.
 * - gradcheck.h (the autodiff pass, lowering, reference kernels, central differences in
 *   float64) on one node of each op, several attribute sets each, the ReLU family on
 *   inputs of one sign at a time (at least 0.05 from its kink at 0):
 *   |fd - analytic| <= 1e-6 (1 + |analytic|).
 * - Layouts: a flipped, permuted view gives what its contiguous copy gives.
 * - Dropout: the kept fraction within 5 binomial standard deviations of 1 - p, the
 *   scaling, the mask as documented (Philox at counter i, key (seed, item)), determinism
 *   by seed and item, the identity when not training, p = 0 and 1, its gradient.
 * - Refusals: dtypes, PReLU's weight, Softmax's dim, Dropout's p and seed. */
#include <stdlib.h>

#include "check.h"
#include "golden.h"
#include "gradcheck.h"
#include "loss_graph.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double urand(void) /* uniform in [0, 1) */
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / (double)(1ull << 53);
}

/* A float64 tensor of dims with values uniform in [lo, hi), |v| >= gap. */
static void make(struct mg_tensor *t, int rank, const int64_t *dims, double lo, double hi,
		 double gap)
{
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(t, MG_DTYPE_F64, rank, dims, &e), &e);
	double *p = mg_tensor_data(t);
	for (int64_t i = 0, n = mg_tensor_numel(t); i < n; i++) {
		double v;
		do
			v = lo + (hi - lo) * urand();
		while (fabs(v) < gap);
		p[i] = v;
	}
}

static int parse(const char *op, const char *json, struct mg_arena *ar, struct mg_attr *a)
{
	struct mg_err e = {0};
	int rc = golden_parse_text(golden_op(op), json, ar, a, &e);
	CHECK(rc == 0, "%s %s: %s", op, json, e.msg);
	return rc;
}

#define IN(lo_, hi_, r, ...)                                                                     \
	((struct gc_input){.rank = r, .dims = {__VA_ARGS__}, .wrt = 1, .lo = lo_, .hi = hi_})

/* Through the autodiff pass: each rule on both sides of the ReLU family's kink. */
static void gradients(void)
{
	const double tol = 1e-6;
	static const struct {
		const char *op, *json;
	} relus[] = {
		{"ReLU", NULL}, {"LeakyReLU", NULL}, {"LeakyReLU", "{\"negative_slope\": 0.2}"},
		{"ELU", NULL}, {"ELU", "{\"alpha\": 0.3}"},
	};
	for (size_t i = 0; i < sizeof relus / sizeof *relus; i++)
		for (int side = 0; side < 2; side++)
			gradcheck(relus[i].op, relus[i].json, 1,
				  (struct gc_input[]){side ? IN(0.05, 3, 4, 2, 3, 4, 2)
							   : IN(-3, -0.05, 4, 2, 3, 4, 2)}, 1, tol);
	for (int side = 0; side < 2; side++) {
		gradcheck("PReLU", NULL, 2,
			  (struct gc_input[]){side ? IN(0.05, 3, 4, 2, 3, 4, 2) : IN(-3, -0.05, 4, 2, 3, 4, 2),
					      IN(-1, 1, 1, 1)}, 1, tol);
		gradcheck("PReLU", "{\"num_parameters\": 3}", 2,
			  (struct gc_input[]){side ? IN(0.05, 3, 5, 2, 3, 2, 2, 3) : IN(-3, -0.05, 5, 2, 3, 2, 2, 3),
					      IN(-1, 1, 1, 3)}, 1, tol);
	}
	gradcheck("GELU", NULL, 1, (struct gc_input[]){IN(-4, 4, 4, 2, 3, 4, 2)}, 1, tol);
	gradcheck("GELU", "{\"approximate\": \"tanh\"}", 1,
		  (struct gc_input[]){IN(-4, 4, 5, 1, 3, 2, 2, 3)}, 1, tol);
	gradcheck("Sigmoid", NULL, 1, (struct gc_input[]){IN(-8, 8, 4, 2, 3, 4, 2)}, 1, tol);
	gradcheck("Tanh", NULL, 1, (struct gc_input[]){IN(-3, 3, 3, 2, 3, 4)}, 1, tol);
	gradcheck("Softmax", "{\"dim\": 1}", 1, (struct gc_input[]){IN(-5, 5, 4, 2, 3, 4, 2)}, 1,
		  tol);
	gradcheck("Softmax", "{\"dim\": -1}", 1, (struct gc_input[]){IN(-5, 5, 2, 4, 6)}, 1, tol);
	gradcheck("Softmax", NULL, 1, (struct gc_input[]){IN(-5, 5, 3, 3, 4, 2)}, 1, tol);
	gradcheck("Dropout", "{\"p\": 0.3, \"training\": true, \"seed\": 8}", 1,
		  (struct gc_input[]){IN(-1, 1, 4, 2, 3, 4, 2)}, 1, tol);
	gradcheck("Dropout", "{\"p\": 0.3}", 1, (struct gc_input[]){IN(-1, 1, 2, 3, 4)}, 1, tol);
}

/* op on x through a reference kernel, the output's first element's address kept. */
static int run(const char *op, const char *json, int nin, const struct mg_tensor *x,
	       int64_t item, struct mg_val *out, struct mg_err *e)
{
	struct mg_arena ar = {0};
	struct mg_attr a[8];
	int rc = golden_parse_text(golden_op(op), json, &ar, a, e);
	struct mg_val in[MG_STEP_MAXIO] = {{0}};
	for (int i = 0; i < nin; i++)
		in[i] = (struct mg_val){.kind = MG_VK_TENSOR, .t = x[i]};
	struct mg_kctx k = {.err = e, .item = item};
	if (!rc)
		rc = golden_op(op)->ref(a, in, out, &k);
	mg_arena_free(&ar);
	return rc;
}

/* Every op on a flipped and permuted float32 view equals the op on its contiguous copy
 * (PReLU's weight per channel: the channel axis moves in memory too). */
static void layouts(void)
{
	static const struct {
		const char *op, *json;
	} cases[] = {
		{"ReLU", "{}"}, {"LeakyReLU", "{}"}, {"PReLU", "{\"num_parameters\": 3}"},
		{"ELU", "{}"}, {"GELU", "{}"}, {"Sigmoid", "{}"}, {"Tanh", "{}"},
		{"Softmax", "{\"dim\": 1}"}, {"Softmax", "{\"dim\": 3}"},
		{"Dropout", "{\"training\": true, \"seed\": 4}"},
	};
	struct mg_err e = {0};
	struct mg_tensor v, c, w;
	CHECK_OK(mg_tensor_alloc_order(&v, MG_DTYPE_F32, 4, (int64_t[]){2, 3, 5, 4},
				       (int[]){2, 0, 3, 1}, &e), &e);
	v.offset += (v.dims[2] - 1) * v.strides[2];
	v.strides[2] = -v.strides[2];
	struct mg_tensor f;
	make(&f, 4, v.dims, -3, 3, 0);
	mg_tensor_convert(&v, &f);
	CHECK_OK(mg_tensor_contiguous(&c, &v, &e), &e);
	struct mg_tensor w64;
	make(&w64, 1, (int64_t[]){3}, -1, 1, 0);
	CHECK_OK(mg_tensor_cast(&w, &w64, MG_DTYPE_F32, &e), &e);
	mg_tensor_release(&w64);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mg_val yv = {0}, yc = {0};
		struct mg_tensor xv[2] = {v, w}, xc[2] = {c, w};
		CHECK_OK(run(cases[i].op, cases[i].json, 2, xv, 1, &yv, &e), &e);
		CHECK_OK(run(cases[i].op, cases[i].json, 2, xc, 1, &yc, &e), &e);
		if (yv.kind == MG_VK_TENSOR && yc.kind == MG_VK_TENSOR) {
			CHECK(golden_compare(cases[i].op, &yv.t, &yc.t, 0, 0, NULL) == 0,
			      "%s %s: a view differs from its copy", cases[i].op, cases[i].json);
			CHECK(yv.t.dtype == MG_DTYPE_F32, "%s keeps float32", cases[i].op);
			CHECK(yv.t.buf != v.buf, "%s: output is new storage", cases[i].op);
		}
		mg_val_release(&yv);
		mg_val_release(&yc);
	}
	mg_tensor_release(&v);
	mg_tensor_release(&c);
	mg_tensor_release(&w);
	mg_tensor_release(&f);
}

/* Dropout of ones (n of them) with p, seed, item: the count kept, each kept value
 * checked to be 1 / (1 - p) exactly (float64) and each dropped one 0. */
static int64_t kept(int64_t n, double p, int64_t seed, int64_t item, struct mg_tensor *keep)
{
	struct mg_tensor x;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&x, MG_DTYPE_F64, 2, (int64_t[]){2, n / 2}, &e), &e);
	double *px = mg_tensor_data(&x);
	for (int64_t i = 0; i < n; i++)
		px[i] = 1;
	char json[128];
	snprintf(json, sizeof json, "{\"p\": %.17g, \"training\": true, \"seed\": %lld}", p,
		 (long long)seed);
	struct mg_val y = {0};
	CHECK_OK(run("Dropout", json, 1, &x, item, &y, &e), &e);
	int64_t k = 0, bad = 0;
	const double *py = y.kind == MG_VK_TENSOR ? mg_tensor_data(&y.t) : NULL;
	for (int64_t i = 0; py && i < n; i++) {
		k += py[i] != 0;
		bad += py[i] != 0 && py[i] != 1 / (1 - p);
	}
	CHECK(bad == 0, "p %g: %lld kept values are not 1 / (1 - p)", p, (long long)bad);
	if (keep && py)
		*keep = mg_tensor_share(&y.t);
	mg_val_release(&y);
	mg_tensor_release(&x);
	return k;
}

static void dropout(void)
{
	const int64_t n = 100000;
	for (int i = 0; i < 5; i++) {
		static const double ps[] = {0.1, 0.3, 0.5, 0.9, 0.01};
		double p = ps[i], mean = n * (1 - p), sd = sqrt(n * p * (1 - p));
		int64_t k = kept(n, p, 17 + i, i, NULL);
		CHECK(fabs(k - mean) <= 5 * sd, "p %g: kept %lld of %lld, expected %.0f +- 5 x %.1f",
		      p, (long long)k, (long long)n, mean, sd);
	}
	CHECK(kept(1000, 0, 1, 0, NULL) == 1000, "p 0 keeps everything");
	CHECK(kept(1000, 1, 1, 0, NULL) == 0, "p 1 drops everything");

	/* the documented mask: word 0 of Philox at counter (i, 0, 0, 0), key (seed, item) */
	struct mg_tensor m1 = {0}, m2 = {0}, m3 = {0}, m4 = {0};
	kept(1000, 0.5, 42, 7, &m1);
	kept(1000, 0.5, 42, 7, &m2);
	kept(1000, 0.5, 43, 7, &m3);
	kept(1000, 0.5, 42, 8, &m4);
	if (m1.buf && m2.buf && m3.buf && m4.buf) {
		const double *a = mg_tensor_data(&m1), *b = mg_tensor_data(&m2),
			     *c = mg_tensor_data(&m3), *d = mg_tensor_data(&m4);
		int64_t mism = 0, same_b = 0, diff_c = 0, diff_d = 0;
		for (uint32_t i = 0; i < 1000; i++) {
			uint32_t w[4];
			mg_philox4x32((uint32_t[]){i, 0, 0, 0}, (uint32_t[]){42, 7}, w);
			mism += (a[i] != 0) != (w[0] * 0x1p-32 >= 0.5);
			same_b += a[i] == b[i];
			diff_c += a[i] != c[i];
			diff_d += a[i] != d[i];
		}
		CHECK(mism == 0, "%lld elements differ from the documented Philox mask",
		      (long long)mism);
		CHECK(same_b == 1000, "the same seed and item give the same mask");
		CHECK(diff_c > 350 && diff_d > 350, "another seed (%lld differ) or item (%lld "
		      "differ) gives another mask", (long long)diff_c, (long long)diff_d);
	}
	mg_tensor_release(&m1);
	mg_tensor_release(&m2);
	mg_tensor_release(&m3);
	mg_tensor_release(&m4);

	/* identity when not training (and p = 0): the input itself */
	struct mg_tensor x;
	struct mg_err e = {0};
	make(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 0);
	static const char *const ident[] = {"{}", "{\"p\": 0.9, \"training\": false}",
					    "{\"p\": 0, \"training\": true}"};
	for (int i = 0; i < 3; i++) {
		struct mg_val y = {0};
		CHECK_OK(run("Dropout", ident[i], 1, &x, 0, &y, &e), &e);
		CHECK(y.kind == MG_VK_TENSOR && y.t.buf == x.buf, "%s: the identity", ident[i]);
		mg_val_release(&y);
	}

	/* the gradient through the autodiff pass: the same mask and scale applied to dy;
	 * dy itself when not training */
	struct mg_arena ar = {0};
	struct mg_attr a[4], b[4];
	parse("Dropout", "{\"p\": 0.25, \"training\": true, \"seed\": 11}", &ar, a);
	parse("Dropout", "{\"p\": 0.25}", &ar, b);
	struct mg_tensor g, r[2] = {{0}};
	make(&g, 3, x.dims, -1, 1, 0.01);
	for (int training = 1; training >= 0; training--) {
		CHECK_OK(loss_graph(MG_OP_Dropout, training ? a : b, 1, &x, &g, 5, r, &e), &e);
		if (!r[0].buf || !r[1].buf)
			continue;
		const double *px = mg_tensor_data(&x), *py = mg_tensor_data(&r[0]),
			     *pg = mg_tensor_data(&g), *pd = mg_tensor_data(&r[1]);
		double scale = training ? 1 / (1 - 0.25) : 1;
		int64_t bad = 0, dropped = 0;
		for (int i = 0; i < 24; i++) {
			dropped += py[i] == 0;
			bad += py[i] == 0 ? pd[i] != 0
					  : py[i] != px[i] * scale || pd[i] != pg[i] * scale;
		}
		CHECK(bad == 0 && (dropped > 0) == training, "dropout's gradient (training %d): %lld "
		      "elements off its mask, %lld dropped", training, (long long)bad,
		      (long long)dropped);
		mg_tensor_release(&r[0]);
		mg_tensor_release(&r[1]);
	}
	mg_tensor_release(&g);
	mg_tensor_release(&x);
	mg_arena_free(&ar);
}

static void refusals(void)
{
	struct mg_err e = {0};
	struct mg_tensor i16, x, x32, w2, w4;
	CHECK_OK(mg_tensor_alloc(&i16, MG_DTYPE_I16, 2, (int64_t[]){2, 3}, &e), &e);
	CHECK_OK(mg_tensor_alloc(&x32, MG_DTYPE_F32, 3, (int64_t[]){2, 3, 4}, &e), &e);
	make(&x, 3, (int64_t[]){2, 3, 4}, -1, 1, 0);
	make(&w2, 2, (int64_t[]){1, 1}, -1, 1, 0);
	make(&w4, 1, (int64_t[]){4}, -1, 1, 0);
	struct mg_val y = {0};
	static const char *const unary[] = {"ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid",
					    "Tanh", "Softmax", "Dropout"};
	for (int i = 0; i < 8; i++)
		CHECK_FAILS(run(unary[i], "{}", 1, &i16, 0, &y, &e), &e, "expected float32");
	CHECK_FAILS(run("PReLU", "{}", 2, (struct mg_tensor[]){x, w2}, 0, &y, &e), &e,
		    "scalar or 1D");
	CHECK_FAILS(run("PReLU", "{\"num_parameters\": 4}", 2, (struct mg_tensor[]){x, w4}, 0,
			&y, &e), &e, "channel size");
	CHECK_FAILS(run("PReLU", "{}", 2, (struct mg_tensor[]){x, w4}, 0, &y, &e), &e,
		    "num_parameters");
	CHECK_FAILS(run("PReLU", "{\"num_parameters\": 4}", 2, (struct mg_tensor[]){x32, w4}, 0,
			&y, &e), &e, "one dtype");
	CHECK_FAILS(run("Softmax", "{\"dim\": 3}", 1, &x, 0, &y, &e), &e, "dim 3");
	CHECK_FAILS(run("Dropout", "{\"p\": 1.5, \"training\": true}", 1, &x, 0, &y, &e), &e,
		    "between 0 and 1");
	CHECK_FAILS(run("Dropout", "{\"p\": -0.1}", 1, &x, 0, &y, &e), &e, "between 0 and 1");
	CHECK_FAILS(run("Dropout", "{\"seed\": -1}", 1, &x, 0, &y, &e), &e, "seed");
	CHECK_FAILS(run("GELU", "{\"approximate\": \"sigmoid\"}", 1, &x, 0, &y, &e), &e,
		    "approximate");
	CHECK_FAILS(run("ReLUGrad", "{}", 2, (struct mg_tensor[]){x, x32}, 0, &y, &e), &e,
		    "differs");
	/* type rules: dtypes, shapes of a gradient op's operands */
	struct mg_type t[3] = {{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_U8, .rank = 2,
				.dims = {2, 3}}}, out[2];
	CHECK_FAILS(golden_op("Sigmoid")->infer(NULL, t, out, &e), &e, "uint8");
	t[0].dtype = t[1].dtype = MG_DTYPE_F32;
	t[1].kind = MG_VK_TENSOR;
	t[1].rank = 2;
	t[1].dims[0] = 2, t[1].dims[1] = 4;
	CHECK_FAILS(golden_op("TanhGrad")->infer(NULL, t, out, &e), &e, "shape");
	t[1].dims[1] = -1; /* symbolic: accepted */
	CHECK_OK(golden_op("TanhGrad")->infer(NULL, t, out, &e), &e);
	mg_tensor_release(&i16);
	mg_tensor_release(&x32);
	mg_tensor_release(&x);
	mg_tensor_release(&w2);
	mg_tensor_release(&w4);
}

int main(void)
{
	gradients();
	layouts();
	dropout();
	refusals();
	return check_done();
}
