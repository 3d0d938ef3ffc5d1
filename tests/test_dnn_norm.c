/* test_dnn_norm.c: the oneDNN kernels (`gen`) of the normalizations, PReLU and Upsample's
 * linear modes against their float64 reference kernels (`ref`), on the same float32
 * inputs.
 * - BatchNorm (training with and without running statistics, momentum null, eval,
 *   untracked; affine with and without bias, not affine), InstanceNorm (with and without
 *   running statistics, training and eval, affine or not), GroupNorm and LayerNorm, and
 *   PReLU with one weight or one per channel: every output of the forward op, then the
 *   gradient op fed the reference forward's mean and invstd, dx, dweight and dbias.
 * - Shapes: rank 2 to 5, size-1 axes, odd sizes; x plain, channels-last, and a strided
 *   view (every other element of the last axis); dy in x's layout and in another.
 * - Tolerance: |gen - ref| <= 1e-5 max(1, max|ref|) per tensor (float32 sums over up to
 *   ~3e5 terms of size ~1); PReLU's y within 1e-6, its dweight within 1e-6 of the sum of
 *   its terms' sizes (one weight sums ~1e5 terms of either sign). Each case clears the
 *   primitive cache first and must create primitives (oneDNN ran, not the fallback). */
#include "check.h"
#include "golden.h"

#include "../ops/nn.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double urand(void) /* uniform in [-1, 1) */
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / (double)(1ull << 53) * 2 - 1;
}

enum layout { PLAIN, CHANNELS_LAST, SLICED };

/* A float32 tensor of dims d in layout lay, uniform in [lo, hi). */
static void make(struct mg_tensor *t, int rank, const int64_t *d, enum layout lay, double lo,
		 double hi)
{
	struct mg_err e = {0};
	int64_t dd[MG_MAX_RANK];
	memcpy(dd, d, (size_t)rank * sizeof *d);
	if (lay == SLICED)
		dd[rank - 1] = 2 * d[rank - 1];
	int order[MG_MAX_RANK];
	for (int i = 0; i < rank; i++) /* channels last: C fastest, then the spatial axes */
		order[i] = lay != CHANNELS_LAST || rank < 3 ? rank - 1 - i : i == 0 ? 1
											 : rank - i;
	if (lay == CHANNELS_LAST && rank >= 3)
		order[rank - 1] = 0;
	CHECK_OK(mg_tensor_alloc_order(t, MG_DTYPE_F32, rank, dd, order, &e), &e);
	float *p = mg_tensor_data(t);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++)
		p[i] = (float)(lo + (urand() + 1) / 2 * (hi - lo));
	if (lay == SLICED) {
		t->dims[rank - 1] = d[rank - 1];
		t->strides[rank - 1] *= 2;
	}
}

static struct mg_val tval(struct mg_tensor t) { return (struct mg_val){.kind = MG_VK_TENSOR, .t = t}; }

static double max_err;

/* max |got - want| / max(1, max |want|, scale) within tol (scale: the size of the terms
 * of a sum that may cancel, 0: none); both released. */
static void compare(const char *what, const char *op, const char *args, int lay,
		    struct mg_val *got, struct mg_val *want, double tol, double scale)
{
	CHECK(got->kind == want->kind, "%s %s %s: one output absent", op, args, what);
	if (want->kind != MG_VK_TENSOR || got->kind != MG_VK_TENSOR)
		return;
	CHECK(golden_same_shape(&got->t, &want->t) && got->t.dtype == want->t.dtype,
	      "%s %s %s: shape or dtype differs", op, args, what);
	if (golden_same_shape(&got->t, &want->t)) {
		struct mg_iter it;
		const float *pg = mg_tensor_data(&got->t), *pw = mg_tensor_data(&want->t);
		double big = 0, d = 0;
		if (mg_tensor_numel(&want->t)) {
			mg_iter_init(&it, want->t.rank, want->t.dims, 2,
				     (const int64_t *[]){got->t.strides, want->t.strides});
			do {
				big = fmax(big, fabs(pw[it.off[1]]));
				d = fmax(d, fabs((double)pg[it.off[0]] - pw[it.off[1]]));
			} while (mg_iter_next(&it));
		}
		double rel = d / fmax(fmax(big, 1), scale);
		max_err = fmax(max_err, rel);
		CHECK(rel <= tol, "%s %s layout %d, %s: differs by %.3g of its largest value", op,
		      args, lay, what, rel);
	}
	mg_val_release(got);
	mg_val_release(want);
}

static struct mg_backend any_backend; /* mg_nn_use_dnn asks only that there is one */

/* d's ref and gen on in[0..n): every output within tol (output 1 relative to scale1 as
 * compare's scale); gen must create primitives. */
static void run_both(const struct mg_opdef *d, const struct mg_attr *a, struct mg_val *in,
		     const char *args, int lay, struct mg_val *ref_out, double tol, double scale1)
{
	struct mg_err e = {0};
	struct mg_kctx kr = {.err = &e}, kg = {.err = &e, .backend = &any_backend};
	struct mg_val got[MG_STEP_MAXIO] = {{0}}, want[MG_STEP_MAXIO] = {{0}};
	CHECK_OK(d->ref(a, in, want, &kr), &e);
	mg_dnn_cache_clear();
	int64_t before = mg_dnn_primitives_created();
	CHECK(d->gen != NULL, "%s has a gen kernel", d->name);
	CHECK_OK(d->gen(a, in, got, &kg), &e);
	CHECK(mg_dnn_primitives_created() > before, "%s %s layout %d: oneDNN did not run",
	      d->name, args, lay);
	for (int i = 0; i < d->nout; i++) {
		char what[32];
		snprintf(what, sizeof what, "output %d", i);
		if (ref_out && want[i].kind == MG_VK_TENSOR)
			ref_out[i] = tval(mg_tensor_share(&want[i].t));
		compare(what, d->name, args, lay, &got[i], &want[i], tol, i == 1 ? scale1 : 0);
	}
}

struct ncase {
	const char *op, *args;
	int rank;
	int64_t dims[5];
	int affine, bias, track, nbt; /* the inputs after x */
	int64_t np;                   /* the parameters' length (LayerNorm: numel of its shape) */
};

static void norm_case(const struct ncase *c, enum layout lay)
{
	const struct mg_opdef *d = golden_op(c->op);
	char gname[64];
	snprintf(gname, sizeof gname, "%sGrad", c->op);
	const struct mg_opdef *gd = golden_op(gname);
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, c->args, &arena, a, &e), &e);
	struct mg_val in[8] = {{0}}, fwd[6] = {{0}};
	struct mg_tensor t;
	int n = 0;
	make(&t, c->rank, c->dims, lay, -1.5, 2.5);
	in[n++] = tval(t);
	/* LayerNorm's parameters have normalized_shape: x's last axes */
	int prank = strcmp(c->op, "LayerNorm") ? 1 : c->rank - 1;
	const int64_t *pd = strcmp(c->op, "LayerNorm") ? &c->np : c->dims + 1;
	double ranges[4][2] = {{0.5, 1.5}, {-0.5, 0.5}, {-0.5, 0.5}, {0.4, 1.4}};
	int want[4] = {c->affine, c->affine && c->bias, c->track, c->track};
	for (int i = 0; i < 4; i++)
		if (want[i]) {
			make(&t, i < 2 ? prank : 1, i < 2 ? pd : &c->np, PLAIN, ranges[i][0],
			     ranges[i][1]);
			in[n++] = tval(t);
		}
	if (c->nbt) {
		CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_I64, 0, c->dims, &e), &e);
		*(int64_t *)mg_tensor_data(&t) = 2;
		in[n++] = tval(t);
	}
	run_both(d, a, in, c->args, lay, fwd, 1e-5, 0);
	/* the gradient op on the reference forward's statistics, dy in x's layout and in
	 * another */
	for (int dl = 0; dl < 2; dl++) {
		make(&t, c->rank, c->dims, (lay + dl) % 3, -1, 1);
		struct mg_val gin[8] = {tval(t), in[0], fwd[1], fwd[2]};
		if (c->affine)
			gin[4] = in[1];
		run_both(gd, a, gin, c->args, lay, NULL, 1e-5, 0);
		mg_val_release(&gin[0]);
	}
	for (int i = 0; i < 6; i++)
		mg_val_release(&fwd[i]);
	for (int i = 0; i < n; i++)
		mg_val_release(&in[i]);
	mg_arena_free(&arena);
}

static const struct ncase ncases[] = {
	{"BatchNorm", "{\"num_features\": 3, \"training\": true}", 5, {2, 3, 5, 4, 7}, 1, 1, 1, 0, 3},
	{"BatchNorm", "{\"num_features\": 4, \"training\": true, \"momentum\": null}", 4,
	 {3, 4, 6, 5}, 1, 1, 1, 1, 4},
	{"BatchNorm", "{\"num_features\": 5, \"training\": true, \"bias\": false}", 3, {2, 5, 9},
	 1, 0, 1, 0, 5},
	{"BatchNorm", "{\"num_features\": 2, \"training\": true, \"affine\": false}", 5,
	 {1, 2, 3, 1, 5}, 0, 0, 1, 0, 2},
	{"BatchNorm", "{\"num_features\": 6}", 4, {2, 6, 3, 3}, 1, 1, 1, 0, 6},
	{"BatchNorm", "{\"num_features\": 3, \"affine\": false}", 3, {4, 3, 5}, 0, 0, 1, 0, 3},
	{"BatchNorm", "{\"num_features\": 3, \"track_running_stats\": false, \"eps\": 0.001}", 2,
	 {7, 3}, 1, 1, 0, 0, 3},
	{"BatchNorm", "{\"num_features\": 16, \"training\": true}", 5, {2, 16, 24, 24, 24}, 1, 1,
	 1, 0, 16},
	{"InstanceNorm", "{\"num_features\": 3}", 5, {2, 3, 4, 5, 3}, 0, 0, 0, 0, 3},
	{"InstanceNorm", "{\"num_features\": 4, \"affine\": true}", 3, {3, 4, 11}, 1, 1, 0, 0, 4},
	{"InstanceNorm", "{\"num_features\": 2, \"affine\": true, \"bias\": false, "
			 "\"track_running_stats\": true, \"training\": true}", 4, {3, 2, 5, 1}, 1,
	 0, 1, 0, 2},
	{"InstanceNorm", "{\"num_features\": 3, \"track_running_stats\": true}", 4, {2, 3, 4, 4},
	 0, 0, 1, 0, 3},
	{"GroupNorm", "{\"num_groups\": 2, \"num_channels\": 6}", 5, {2, 6, 3, 4, 5}, 1, 1, 0, 0,
	 6},
	{"GroupNorm", "{\"num_groups\": 3, \"num_channels\": 3, \"affine\": false}", 3, {4, 3, 7},
	 0, 0, 0, 0, 3},
	{"GroupNorm", "{\"num_groups\": 1, \"num_channels\": 4, \"bias\": false}", 2, {5, 4}, 1,
	 0, 0, 0, 4},
	{"GroupNorm", "{\"num_groups\": 8, \"num_channels\": 32}", 5, {1, 32, 12, 12, 12}, 1, 1,
	 0, 0, 32},
	{"LayerNorm", "{\"normalized_shape\": [5, 3]}", 3, {4, 5, 3}, 1, 1, 0, 0, 15},
	{"LayerNorm", "{\"normalized_shape\": 7, \"elementwise_affine\": false}", 2, {6, 7}, 0, 0,
	 0, 0, 7},
};

struct pcase {
	int rank;
	int64_t dims[5], nw;
};

static void prelu_case(const struct pcase *c, enum layout lay)
{
	const struct mg_opdef *d = golden_op("PReLU"), *gd = golden_op("PReLUGrad");
	char args[64];
	snprintf(args, sizeof args, "{\"num_parameters\": %lld}", (long long)c->nw);
	struct mg_arena arena = {0};
	struct mg_attr a[4];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, args, &arena, a, &e), &e);
	struct mg_tensor x, w, dy;
	make(&x, c->rank, c->dims, lay, -1, 1);
	make(&w, 1, &c->nw, PLAIN, -0.5, 0.5);
	make(&dy, c->rank, c->dims, (lay + 1) % 3, -1, 1); /* another layout than x's */
	struct mg_val in[4] = {tval(x), tval(w)};
	run_both(d, a, in, args, lay, NULL, 1e-6, 0);
	/* dweight sums x dy where x <= 0: relative to the sum of those terms' sizes per weight
	 * (with one weight, ~1e5 terms of either sign nearly cancel) */
	struct mg_iter it;
	const float *px = mg_tensor_data(&x), *pd = mg_tensor_data(&dy);
	double terms = 0;
	mg_iter_init(&it, x.rank, x.dims, 2, (const int64_t *[]){x.strides, dy.strides});
	do
		terms += px[it.off[0]] <= 0 ? fabs((double)px[it.off[0]] * pd[it.off[1]]) : 0;
	while (mg_iter_next(&it));
	in[2] = tval(dy);
	run_both(gd, a, in, args, lay, NULL, 1e-6, terms / (double)c->nw);
	for (int i = 0; i < 3; i++)
		mg_val_release(&in[i]);
	mg_arena_free(&arena);
}

static const struct pcase pcases[] = {
	{5, {2, 4, 5, 3, 6}, 1}, {5, {2, 4, 5, 3, 6}, 4}, {4, {3, 1, 7, 5}, 1},
	{3, {2, 5, 9}, 5},       {2, {6, 3}, 3},          {5, {2, 16, 20, 20, 20}, 1},
};

/* Upsample and UpsampleGrad where the oneDNN kernel applies (linear, align_corners
 * false, sampled at in / out); then a case it leaves to ref (align_corners) must agree
 * exactly and create no primitive. */
static const struct ucase {
	const char *args;
	int rank;
	int64_t dims[5];
} ucases[] = {
	{"{\"scale_factor\": 2, \"mode\": \"trilinear\"}", 5, {2, 3, 4, 5, 3}},
	{"{\"scale_factor\": [2, 1, 3], \"mode\": \"trilinear\"}", 5, {1, 2, 3, 1, 4}},
	{"{\"size\": [7, 9], \"mode\": \"bilinear\"}", 4, {2, 3, 5, 4}},
	{"{\"size\": [3, 2], \"mode\": \"bilinear\"}", 4, {1, 2, 7, 5}},
	{"{\"scale_factor\": 2.5, \"mode\": \"linear\", \"recompute_scale_factor\": true}",
	 3, {2, 4, 7}},
	{"{\"scale_factor\": 2, \"mode\": \"trilinear\", \"align_corners\": false}", 5,
	 {1, 16, 6, 6, 6}},
};

static void upsample_case(const struct ucase *c, enum layout lay)
{
	const struct mg_opdef *d = golden_op("Upsample"), *gd = golden_op("UpsampleGrad");
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	CHECK_OK(golden_parse_text(d, c->args, &arena, a, &e), &e);
	struct mg_tensor t, dy;
	make(&t, c->rank, c->dims, lay, -1.5, 2.5);
	struct mg_val in[2] = {tval(t)}, y[1] = {{0}};
	run_both(d, a, in, c->args, lay, y, 1e-5, 0);
	if (y[0].kind == MG_VK_TENSOR) {
		make(&dy, c->rank, y[0].t.dims, lay, -1, 1);
		in[1] = tval(dy);
		run_both(gd, a, in, c->args, lay, NULL, 1e-5, 0);
		mg_val_release(&in[1]);
		mg_val_release(&y[0]);
	}
	mg_val_release(&in[0]);
	mg_arena_free(&arena);
}

static void upsample_fallback(void)
{
	const struct mg_opdef *d = golden_op("Upsample");
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_err e = {0};
	const char *args = "{\"scale_factor\": 2, \"mode\": \"bilinear\", \"align_corners\": true}";
	CHECK_OK(golden_parse_text(d, args, &arena, a, &e), &e);
	struct mg_tensor t;
	int64_t dims[4] = {1, 2, 3, 4};
	make(&t, 4, dims, PLAIN, -1, 1);
	struct mg_val in[1] = {tval(t)}, got[1] = {{0}}, want[1] = {{0}};
	struct mg_kctx kr = {.err = &e}, kg = {.err = &e, .backend = &any_backend};
	int64_t before = mg_dnn_primitives_created();
	CHECK_OK(d->ref(a, in, want, &kr), &e);
	CHECK_OK(d->gen(a, in, got, &kg), &e);
	CHECK(mg_dnn_primitives_created() == before, "align_corners runs the reference kernel");
	compare("y", "Upsample", args, PLAIN, got, want, 0, 0);
	mg_val_release(&in[0]);
	mg_arena_free(&arena);
}

int main(void)
{
	if (!mg_dnn_available()) {
		printf("oneDNN not available: nothing to compare\n");
		return check_done();
	}
	for (size_t i = 0; i < sizeof ncases / sizeof *ncases; i++)
		for (int l = PLAIN; l <= SLICED; l++)
			norm_case(&ncases[i], l);
	for (size_t i = 0; i < sizeof pcases / sizeof *pcases; i++)
		for (int l = PLAIN; l <= SLICED; l++)
			prelu_case(&pcases[i], l);
	for (size_t i = 0; i < sizeof ucases / sizeof *ucases; i++)
		for (int l = PLAIN; l <= SLICED; l++)
			upsample_case(&ucases[i], l);
	upsample_fallback();
	printf("oneDNN vs reference: largest difference %.3g of a tensor's largest value\n",
	       max_err);
	mg_dnn_cache_clear();
	return check_done();
}
