/* test_lowering_nn.c: the generated float32 kernels of the losses (DiceLoss, DiceCELoss,
 * FocalLoss, DiceFocalLoss, CrossEntropyLoss and their gradient ops), of Softmax and
 * SoftmaxGrad, and of the optimizers (Adam, AdamW, SGD)
 * against their float64 reference kernels, on the kernel IR interpreter (the lowerings'
 * meaning) and then on the LLVM JIT. Inputs are random: 1 to 3 spatial axes with sizes 1,
 * 2, 3, 5 and 7, batch and channels from 1 (odd counts included), permuted and flipped
 * memory layouts, every argument the lowerings cover; each case checks that a kernel ran.
 * They compute in float32 where the references compute in float64, so the comparison
 * has tolerances (measured: printed at the end):
 *   loss value   |gen - ref| <= 1e-6 (1 + |ref|)           (seen: 1.9e-7)
 *   dinput       |gen - ref| <= 4e-6 (max |ref| + 1e-7)    (seen: 1.9e-6; float32 terms)
 *   optimizers   |gen - ref| <= 4e-7 (1 + |ref|)           (seen: 9.3e-8: torch's float32
 *                steps against one rounding of the float64 update, a few ulp)
 * (seen: the largest over five seeds of 30 trials each).
 * soft_label without squared_pred runs on one-hot targets and softmax probabilities: its
 * gradient has sign(p - g), which float32 and float64 may resolve differently where p is
 * within an ulp of a soft g, and on raw logits its Dice denominator can cancel to near 0
 * (an ill-conditioned loss either way).
 * Cases the lowerings leave to the reference (float64, one-channel cross entropy, more
 * than MG_LOSS_GEN_MAXC channels, labels out of range) must give the reference's result
 * or error. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "../codegen/llvm.h"
#include "../frontend/build.h"
#include "check.h"
#include "views.h"

static struct mg_backend *backend;
static int64_t *backend_runs;
static int trials = 12;
static double worst_loss, worst_grad, worst_optim, worst_softmax;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}
static double uniform(void)
{
	return (double)(next() >> 11) * 0x1p-53;
}

static void fill(struct mg_tensor *t, double lo, double hi, int integer)
{
	char *base = (char *)t->buf->data;
	size_t es = mg_dtype_size(t->dtype);
	for (int64_t i = 0; i < mg_tensor_numel(t); i++) {
		double v = lo + uniform() * (hi - lo);
		mg_dtype_store(t->dtype, base + (size_t)i * es, integer ? floor(v) : v);
	}
}

static void parse(const char *op, const char *json, struct mg_arena *ar, struct mg_attr *out)
{
	struct mg_err e = {0};
	cJSON *j = cJSON_Parse(json);
	CHECK(j != NULL, "%s", json);
	CHECK_OK(mg_attrs_parse(mg_ops[mg_op_find(op)], j, -1, 1, NULL, ar, out, &e), &e);
	cJSON_Delete(j);
}

static double at(const struct mg_tensor *t, int64_t i)
{
	int64_t idx[MG_MAX_RANK];
	for (int d = t->rank - 1; d >= 0; d--) {
		idx[d] = i % t->dims[d];
		i /= t->dims[d];
	}
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

/* Runs op's ref and gen on in[0..nin) and compares their nout outputs within tol, each
 * error relative to 1 + |ref| (per_max: to the output's max |ref| + 1e-7); gen must run a
 * kernel when `kernel`, else none. The largest error of a kernel's case goes to *worst. */
static void compare(const char *op, const char *args, struct mg_val *in, int nin, int nout,
		    int kernel, int per_max, double tol, double *worst)
{
	struct mg_arena ar = {0};
	struct mg_attr attrs[32];
	parse(op, args, &ar, attrs);
	const struct mg_opdef *d = mg_ops[mg_op_find(op)];
	struct mg_step s = {.fn = d->gen, .op = d->name, .def = d, .nin = nin, .nout = nout};
	struct mg_val ref[MG_STEP_MAXIO] = {0}, gen[MG_STEP_MAXIO] = {0};
	struct mg_err e1 = {0}, e2 = {0};
	struct mg_kctx k1 = {.err = &e1, .step = &s}, k2 = {.err = &e2, .step = &s, .backend = backend};
	int64_t runs = *backend_runs;
	CHECK(d->gen != NULL, "%s has a generated kernel", op);
	int rc1 = d->ref(attrs, in, ref, &k1), rc2 = d->gen ? d->gen(attrs, in, gen, &k2) : -1;
	CHECK(rc1 == rc2 && (rc1 == 0 || !strcmp(e1.msg, e2.msg)), "%s %s: ref %d (%s), gen %d (%s)",
	      op, args, rc1, e1.msg, rc2, e2.msg);
	CHECK(!kernel || rc1 || *backend_runs > runs, "%s %s: no kernel ran", op, args);
	CHECK(kernel || *backend_runs == runs, "%s %s: a kernel ran", op, args);
	for (int o = 0; o < nout && !rc1 && !rc2; o++) {
		const struct mg_tensor *a = &gen[o].t, *b = &ref[o].t;
		int64_t n = mg_tensor_numel(b);
		CHECK(a->dtype == b->dtype && a->rank == b->rank && mg_tensor_numel(a) == n,
		      "%s %s: output %d's type", op, args, o);
		double big = 0, err = 0;
		for (int64_t i = 0; i < n; i++)
			big = fmax(big, fabs(at(b, i)));
		for (int64_t i = 0; i < n && mg_tensor_numel(a) == n; i++) {
			double x = at(a, i), y = at(b, i);
			double rel = fabs(x - y) / (per_max ? big + 1e-7 : 1 + fabs(y));
			err = x == y ? err : rel != rel ? INFINITY : fmax(err, rel);
		}
		CHECK(err <= tol, "%s %s: output %d differs by %.3g (> %.3g)", op, args, o, err, tol);
		if (kernel)
			*worst = fmax(*worst, err);
	}
	for (int i = 0; i < MG_STEP_MAXIO; i++) {
		mg_val_release(&ref[i]);
		mg_val_release(&gen[i]);
	}
	mg_arena_free(&ar);
}

/* ---- losses ---- */

struct loss_case {
	const char *op, *args;
	int target;  /* 0: labels (N, 1, ...), 1: one-hot (N, C, ...), 2: probabilities,
		      * 3: labels without the channel axis (N, ...) */
	int minc, maxc; /* the channels the arguments take */
	int kernel;  /* the lowering covers it */
};

static const struct loss_case loss_cases[] = {
	{"DiceCELoss", "{\"to_onehot_y\": true, \"softmax\": true, \"include_background\": false, "
		       "\"squared_pred\": true}", 0, 2, 4, 1}, /* the spleen bundle's */
	{"DiceCELoss", "{\"to_onehot_y\": true, \"softmax\": true}", 0, 2, 5, 1},
	{"DiceCELoss", "{\"softmax\": true, \"jaccard\": true, \"reduction\": \"sum\", "
		       "\"lambda_dice\": 0.7, \"lambda_ce\": 1.3, \"label_smoothing\": 0.1}", 2, 2, 3, 1},
	{"DiceCELoss", "{\"to_onehot_y\": true, \"sigmoid\": true, \"batch\": true, "
		       "\"weight\": [0.5, 1.5, 1.0, 2.0, 0.25, 1.0, 3.0, 0.75]}", 0, 8, 8, 1},
	{"DiceCELoss", "{\"to_onehot_y\": true, \"softmax\": true, \"include_background\": false, "
		       "\"weight\": [0.5, 1.5, 1.0], \"label_smoothing\": 0.2}", 0, 3, 3, 1},
	{"DiceLoss", "{}", 2, 1, 3, 1},
	{"DiceLoss", "{\"sigmoid\": true, \"squared_pred\": true, \"smooth_nr\": 0.5, "
		     "\"smooth_dr\": 0.25}", 1, 1, 3, 1},
	{"DiceLoss", "{\"softmax\": true, \"soft_label\": true, \"batch\": true}", 1, 2, 3, 1},
	{"DiceLoss", "{\"to_onehot_y\": true, \"softmax\": true, \"include_background\": false, "
		     "\"jaccard\": true, \"reduction\": \"sum\"}", 0, 1, 4, 1},
	{"CrossEntropyLoss", "{}", 0, 2, 5, 1},
	{"CrossEntropyLoss", "{\"weight\": [0.3, 1.7, 1.0], \"label_smoothing\": 0.3}", 3, 3, 3, 1},
	{"CrossEntropyLoss", "{\"reduction\": \"sum\", \"label_smoothing\": 0.05}", 2, 2, 4, 1},
	{"FocalLoss", "{\"to_onehot_y\": true}", 0, 2, 3, 1},
	{"FocalLoss", "{\"alpha\": 0.25, \"gamma\": 1.5, \"reduction\": \"sum\"}", 1, 1, 4, 1},
	{"FocalLoss", "{\"to_onehot_y\": true, \"use_softmax\": true, \"alpha\": 0.3}", 0, 1, 4, 1},
	{"FocalLoss", "{\"to_onehot_y\": true, \"use_softmax\": true, \"include_background\": "
		      "false, \"gamma\": 1, \"alpha\": [0.2, 0.8], \"weight\": [1.5, 0.5]}", 0, 3, 3, 1},
	{"FocalLoss", "{\"gamma\": 0, \"alpha\": [0.1, 0.6, 0.3], \"weight\": 2.0}", 2, 3, 3, 1},
	{"FocalLoss", "{\"to_onehot_y\": true, \"use_softmax\": true, \"gamma\": 0}", 0, 2, 3, 1},
	{"DiceFocalLoss", "{\"to_onehot_y\": true, \"softmax\": true}", 0, 2, 3, 1},
	{"DiceFocalLoss", "{\"sigmoid\": true, \"include_background\": false, \"lambda_focal\": "
			  "0.5, \"gamma\": 3, \"alpha\": 0.75, \"weight\": [1.0, 2.0]}", 1, 3, 3, 1},
	/* left to the reference */
	{"DiceCELoss", "{\"sigmoid\": true}", 1, 1, 1, 0}, /* one channel: BCE */
	{"DiceLoss", "{\"softmax\": true}", 2, 9, 9, 0}, /* more than MG_LOSS_GEN_MAXC */
};

/* One trial of case c: random shapes and layouts; grad: the gradient op. */
static void loss_trial(const struct loss_case *c, int grad, int f64)
{
	static const int64_t sizes[] = {1, 2, 3, 5, 7};
	int sr = 1 + (int)(next() % 3), rank = 2 + sr;
	int64_t dims[MG_MAX_RANK], C = c->minc + (int64_t)(next() % (uint64_t)(c->maxc - c->minc + 1));
	dims[0] = 1 + (int64_t)(next() % 3);
	dims[1] = C;
	for (int i = 2; i < rank; i++)
		dims[i] = sizes[next() % 5];
	struct mg_val in[3] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}};
	views_random(&in[0].t, f64 ? MG_DTYPE_F64 : MG_DTYPE_F32, rank, dims, next);
	fill(&in[0].t, -3, 3, 0);
	int64_t td[MG_MAX_RANK];
	memcpy(td, dims, sizeof td);
	int trank = rank;
	if (c->target == 0)
		td[1] = 1;
	if (c->target == 3) { /* (N, spatial...) */
		trank = rank - 1;
		memmove(td + 1, td + 2, (size_t)sr * sizeof *td);
	}
	static const enum mg_dtype label_types[] = {MG_DTYPE_F32, MG_DTYPE_U8, MG_DTYPE_I64,
						    MG_DTYPE_F64};
	enum mg_dtype tt = c->target == 0 || c->target == 3 ? label_types[next() % 4] : MG_DTYPE_F32;
	views_random(&in[1].t, tt, trank, td, next);
	if (c->target == 1) { /* one-hot: channel (class of the voxel) 1 */
		struct mg_tensor *t = &in[1].t;
		int64_t n = mg_tensor_numel(t), inner = n / dims[0] / C;
		for (int64_t i = 0; i < n; i++) {
			int64_t idx[MG_MAX_RANK], r = i;
			for (int d = rank - 1; d >= 0; d--) {
				idx[d] = r % dims[d];
				r /= dims[d];
			}
			int64_t cls = (int64_t)((i % inner) * 2654435761u % (uint64_t)C);
			mg_dtype_store(t->dtype, mg_tensor_at(t, idx), idx[1] == cls);
		}
	} else
		fill(&in[1].t, 0, c->target == 2 ? 1 : (double)C, c->target != 2);
	char args[512];
	snprintf(args, sizeof args, "%s", c->args);
	int nin = 2;
	if (grad) {
		struct mg_err e = {0};
		CHECK_OK(mg_tensor_alloc(&in[2].t, in[0].t.dtype, 0, dims, &e), &e);
		mg_dtype_store(in[2].t.dtype, mg_tensor_data(&in[2].t), 0.5 + uniform());
		nin = 3;
	}
	char op[64];
	snprintf(op, sizeof op, "%s%s", c->op, grad ? "Grad" : "");
	compare(op, args, in, nin, 1, c->kernel && !f64, grad, grad ? 4e-6 : 1e-6,
		grad ? &worst_grad : &worst_loss);
	for (int i = 0; i < 3; i++)
		mg_val_release(&in[i]);
}

static void losses(void)
{
	for (size_t i = 0; i < sizeof loss_cases / sizeof *loss_cases; i++)
		for (int t = 0; t < trials; t++)
			loss_trial(&loss_cases[i], t % 2, t == trials - 1);
	/* a label out of range: the reference's error, on both paths */
	struct loss_case bad = {"DiceCELoss", "{\"to_onehot_y\": true, \"softmax\": true}", 0, 2, 2, 1};
	struct mg_val in[2] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}};
	int64_t d[5] = {2, 3, 4, 5, 1}, td[5] = {2, 1, 4, 5, 1};
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&in[0].t, MG_DTYPE_F32, 5, d, &e), &e);
	CHECK_OK(mg_tensor_alloc(&in[1].t, MG_DTYPE_F32, 5, td, &e), &e);
	fill(&in[0].t, -1, 1, 0);
	fill(&in[1].t, 0, 3, 1);
	((float *)mg_tensor_data(&in[1].t))[27] = 3;
	struct mg_arena ar = {0};
	struct mg_attr attrs[32];
	parse(bad.op, bad.args, &ar, attrs);
	struct mg_val out[1] = {0};
	struct mg_kctx k = {.err = &e, .backend = backend};
	CHECK_FAILS(mg_ops[mg_op_find(bad.op)]->gen(attrs, in, out, &k), &e,
		    "target label 3 at item 1, voxel 7 is outside 0..2");
	mg_arena_free(&ar);
	for (int i = 0; i < 2; i++)
		mg_val_release(&in[i]);
}

/* ---- Softmax ---- */

static void softmax(void)
{
	static const int64_t sizes[] = {1, 2, 3, 5, 7};
	for (int t = 0; t < 4 * trials; t++) {
		int rank = 1 + (int)(next() % 6), grad = t % 2, f64 = t % 16 == 15;
		int64_t dims[MG_MAX_RANK];
		for (int i = 0; i < rank; i++)
			dims[i] = sizes[next() % 5];
		int dim = (int)(next() % (uint64_t)rank) - (int)(next() % 2) * rank, big = t % 8 == 6;
		if (big) /* longer than the generated kernels take */
			dims[dim < 0 ? dim + rank : dim] = 17;
		struct mg_val in[2] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}};
		for (int i = 0; i < 1 + grad; i++) {
			views_random(&in[i].t, f64 ? MG_DTYPE_F64 : MG_DTYPE_F32, rank, dims, next);
			fill(&in[i].t, grad && i == 0 ? 0 : -10, grad && i == 0 ? 1 : 10, 0);
		}
		char args[64];
		snprintf(args, sizeof args, t % 5 == 4 && !big ? "{}" : "{\"dim\": %d}", dim);
		compare(grad ? "SoftmaxGrad" : "Softmax", args, in, 1 + grad, 1, !f64 && !big,
			grad, 1e-6, &worst_softmax);
		for (int i = 0; i < 2; i++)
			mg_val_release(&in[i]);
	}
}

/* ---- optimizers ---- */

struct optim_case {
	const char *op, *args;
	int nstate; /* state tensors after the step (the step counts) */
};

static const struct optim_case optim_cases[] = {
	{"Adam", "{}", 2},
	{"Adam", "{\"lr\": 0.01, \"betas\": [0.8, 0.99], \"eps\": 1e-6, \"weight_decay\": 0.1, "
		 "\"amsgrad\": true, \"maximize\": true}", 3},
	{"AdamW", "{}", 2},
	{"AdamW", "{\"lr\": 0.003, \"weight_decay\": 0.5, \"amsgrad\": true}", 3},
	{"SGD", "{\"lr\": 0.1}", -1},
	{"SGD", "{\"lr\": 0.05, \"weight_decay\": 0.01, \"maximize\": true}", -1},
	{"SGD", "{\"lr\": 0.1, \"momentum\": 0.9, \"dampening\": 0.2}", 1},
	{"SGD", "{\"lr\": 0.1, \"momentum\": 0.9, \"nesterov\": true, \"weight_decay\": 0.1}", 1},
};

static void optim_trial(const struct optim_case *c, int f64)
{
	static const int64_t sizes[] = {1, 2, 3, 5, 7, 16};
	int rank = (int)(next() % 6); /* 0 (a scalar) to 5 */
	int64_t dims[MG_MAX_RANK];
	for (int i = 0; i < rank; i++)
		dims[i] = sizes[next() % 6];
	int dense = next() % 2; /* every operand in the parameter's layout: the rank-1 kernels */
	int nin = 2 + (c->nstate >= 0 ? 1 + c->nstate : 0), istep = c->nstate >= 0 ? 2 : -1;
	struct mg_val in[MG_STEP_MAXIO] = {{0}};
	uint64_t layout = next();
	for (int i = 0; i < nin; i++) {
		in[i].kind = MG_VK_TENSOR;
		if (i == istep) {
			struct mg_err e = {0};
			CHECK_OK(mg_tensor_alloc(&in[i].t, MG_DTYPE_F32, 0, dims, &e), &e);
			*(float *)mg_tensor_data(&in[i].t) = (float)(next() % 4);
			continue;
		}
		uint64_t stream = rng;
		if (dense)
			rng = layout; /* the same random layout for each */
		views_random(&in[i].t, f64 ? MG_DTYPE_F64 : MG_DTYPE_F32, rank, dims, next);
		if (dense)
			rng = stream;
		/* state: exp_avg_sq and its max not negative */
		fill(&in[i].t, i >= 4 && c->op[0] == 'A' ? 0 : -1, 1, 0);
	}
	compare(c->op, c->args, in, nin, 1 + (istep >= 0 ? 1 + c->nstate : 0), !f64, 0, 4e-7,
		&worst_optim);
	for (int i = 0; i < nin; i++)
		mg_val_release(&in[i]);
}

static void optimizers(void)
{
	for (size_t i = 0; i < sizeof optim_cases / sizeof *optim_cases; i++)
		for (int t = 0; t < trials; t++)
			optim_trial(&optim_cases[i], t == trials - 1);
}

int main(void)
{
	struct mg_kir_interp it;
	mg_kir_interp_init(&it);
	backend = &it.b;
	backend_runs = &it.runs;
	losses();
	softmax();
	optimizers();
	struct mg_err e = {0};
	struct mg_jit *jit = mg_jit_new(&e);
	CHECK(jit, "%s", e.msg);
	if (jit) {
		struct mg_jit_backend jb;
		mg_jit_backend_init(&jb, jit, NULL);
		backend = &jb.b;
		backend_runs = &jb.runs;
		trials = 4;
		losses();
		softmax();
		optimizers();
		mg_jit_free(jit);
	}
	printf("largest error: loss %.3g, dinput %.3g (of max |dinput|), Softmax and its "
	       "gradient %.3g, optimizers %.3g\n", worst_loss, worst_grad, worst_softmax,
	       worst_optim);
	return check_done();
}
