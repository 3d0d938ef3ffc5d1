/* test_loss.c: the loss ops (DiceLoss, DiceCELoss, FocalLoss, DiceFocalLoss,
 * CrossEntropyLoss) and their gradient ops.
 * - gradcheck.h on one node of each, several argument sets (float64, central
 *   differences): |fd - analytic| <= 1e-6 (1 + |analytic|). Logits in [-2, 2), targets
 *   soft in [0, 1) or labels in [0, C) (truncated to classes), away from the L1 norms'
 *   kinks (soft_label: p = g has measure zero).
 * - A value computed by hand: DiceLoss of a 1x2x2 case and CrossEntropyLoss of one voxel;
 *   a channels-last input and a permuted uint8 target give the contiguous result.
 * - Refusals: shapes, target channels, sigmoid with softmax, reduction none, weights,
 *   labels out of range, other_act; each names the op and the argument or operand. */
#include "check.h"
#include "golden.h"
#include "gradcheck.h"

#define X(r, ...) (struct gc_input){.rank = r, .dims = {__VA_ARGS__}, .wrt = 1, .lo = -2, .hi = 2}
#define SOFT(r, ...) (struct gc_input){.rank = r, .dims = {__VA_ARGS__}, .lo = 0, .hi = 1}
#define LABELS(c, r, ...) (struct gc_input){.rank = r, .dims = {__VA_ARGS__}, .lo = 0, .hi = c}

static void check(const char *op, const char *args, struct gc_input x, struct gc_input t)
{
	gradcheck(op, args, 2, (struct gc_input[]){x, t}, 1, 1e-6);
}

static void gradients(void)
{
	check("DiceLoss", "{\"softmax\": true, \"to_onehot_y\": true}", X(4, 2, 3, 4, 5),
	      LABELS(3, 4, 2, 1, 4, 5));
	check("DiceLoss", "{\"sigmoid\": true, \"include_background\": false, \"batch\": true}",
	      X(5, 2, 3, 3, 2, 4), SOFT(5, 2, 3, 3, 2, 4));
	check("DiceLoss", "{\"softmax\": true, \"squared_pred\": true, \"jaccard\": true, "
	      "\"reduction\": \"sum\", \"weight\": [0.5, 2, 1]}", X(4, 2, 3, 4, 4),
	      SOFT(4, 2, 3, 4, 4));
	check("DiceLoss", "{\"sigmoid\": true, \"soft_label\": true, \"smooth_nr\": 0.1, "
	      "\"smooth_dr\": 0.2}", X(3, 2, 2, 7), SOFT(3, 2, 2, 7));
	check("DiceLoss", "{\"to_onehot_y\": true, \"jaccard\": true, \"weight\": 3}",
	      X(4, 1, 4, 3, 3), LABELS(4, 4, 1, 1, 3, 3));
	check("DiceCELoss", "{\"softmax\": true, \"to_onehot_y\": true}", X(4, 2, 3, 4, 5),
	      LABELS(3, 4, 2, 1, 4, 5));
	check("DiceCELoss", "{\"softmax\": true, \"to_onehot_y\": true, \"squared_pred\": true, "
	      "\"batch\": true, \"lambda_dice\": 0.5, \"lambda_ce\": 0.5, \"include_background\": "
	      "false, \"weight\": [1, 2, 0.5], \"label_smoothing\": 0.1}", X(5, 2, 3, 3, 3, 2),
	      LABELS(3, 5, 2, 1, 3, 3, 2));
	check("DiceCELoss", "{\"sigmoid\": true, \"reduction\": \"sum\", \"label_smoothing\": 0.2, "
	      "\"weight\": [2, 1]}", X(4, 2, 2, 3, 4), SOFT(4, 2, 2, 3, 4));
	check("DiceCELoss", "{\"sigmoid\": true, \"weight\": [1.5]}", X(4, 2, 1, 4, 4),
	      SOFT(4, 2, 1, 4, 4));
	check("FocalLoss", NULL, X(4, 2, 3, 4, 4), SOFT(4, 2, 3, 4, 4));
	check("FocalLoss", "{\"to_onehot_y\": true, \"alpha\": 0.25, \"gamma\": 1.5, "
	      "\"weight\": [1, 2, 3], \"reduction\": \"sum\"}", X(4, 2, 3, 4, 4),
	      LABELS(3, 4, 2, 1, 4, 4));
	check("FocalLoss", "{\"use_softmax\": true, \"to_onehot_y\": true, \"alpha\": 0.3}",
	      X(4, 2, 3, 4, 4), LABELS(3, 4, 2, 1, 4, 4));
	check("FocalLoss", "{\"use_softmax\": true, \"include_background\": false, \"alpha\": "
	      "[0.2, 0.7], \"gamma\": 0}", X(5, 1, 3, 2, 3, 3), SOFT(5, 1, 3, 2, 3, 3));
	check("DiceFocalLoss", "{\"softmax\": true, \"to_onehot_y\": true, \"alpha\": 0.25}",
	      X(4, 2, 3, 4, 4), LABELS(3, 4, 2, 1, 4, 4));
	check("DiceFocalLoss", "{\"sigmoid\": true, \"include_background\": false, \"gamma\": 1, "
	      "\"weight\": [1, 3], \"lambda_focal\": 2, \"reduction\": \"sum\"}",
	      X(4, 2, 3, 3, 5), SOFT(4, 2, 3, 3, 5));
	check("CrossEntropyLoss", NULL, X(4, 2, 4, 3, 3), LABELS(4, 3, 2, 3, 3));
	check("CrossEntropyLoss", "{\"weight\": [1, 2, 0.5, 1], \"label_smoothing\": 0.3}",
	      X(4, 2, 4, 3, 3), LABELS(4, 4, 2, 1, 3, 3));
	check("CrossEntropyLoss", "{\"reduction\": \"sum\", \"label_smoothing\": 0.1, "
	      "\"weight\": [1, 2, 3]}", X(3, 2, 3, 5), SOFT(3, 2, 3, 5));
}

/* One node of op on x and t (float64 tensors given by their values), its reference
 * kernel: the loss, or NAN with e set. */
static double run(const char *op, const char *args, int rx, const int64_t *dx, const double *xv,
		  int rt, const int64_t *dt, const double *tv, struct mg_err *e)
{
	const struct mg_opdef *d = mg_ops[mg_op_find(op)];
	struct mg_arena arena = {0};
	struct mg_attr a[32];
	struct mg_val in[2] = {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}}, y = {0};
	int rc = golden_parse_text(d, args, &arena, a, e);
	if (!rc && !(rc = mg_tensor_alloc(&in[0].t, MG_DTYPE_F64, rx, dx, e)) &&
	    !(rc = mg_tensor_alloc(&in[1].t, MG_DTYPE_F64, rt, dt, e))) {
		memcpy(mg_tensor_data(&in[0].t), xv, (size_t)mg_tensor_numel(&in[0].t) * 8);
		memcpy(mg_tensor_data(&in[1].t), tv, (size_t)mg_tensor_numel(&in[1].t) * 8);
		struct mg_kctx k = {.err = e};
		rc = d->ref(a, in, &y, &k);
	}
	double v = rc ? NAN : *(double *)mg_tensor_data(&y.t);
	mg_val_release(&y);
	mg_val_release(&in[0]);
	mg_val_release(&in[1]);
	mg_arena_free(&arena);
	return v;
}

/* Values by hand: Dice of p = (0.5, 1), g = (1, 0): tp = 0.5, fp = 1, fn = 0.5; cross
 * entropy of logits (0, ln 3) for class 1: -ln(3/4). */
static void values(void)
{
	struct mg_err e = {0};
	int64_t d4[] = {1, 1, 1, 2}, c2[] = {1, 2, 1}, c1[] = {1, 1, 1};
	double v = run("DiceLoss", "{}", 4, d4, (double[]){0.5, 1}, 4, d4, (double[]){1, 0}, &e);
	CHECK_CLOSE(v, 1 - (1 + 1e-5) / (2.5 + 1e-5), 1e-14, 0);
	v = run("CrossEntropyLoss", "{}", 3, c2, (double[]){0, log(3)}, 3, c1, (double[]){1}, &e);
	CHECK_CLOSE(v, -log(0.75), 1e-14, 0);
	CHECK(mg_ops[MG_OP_DiceCELoss]->flags & MG_OPF_LOSS, "DiceCELoss is flagged a loss");
	CHECK(!(mg_ops[MG_OP_DiceCELossGrad]->flags & MG_OPF_LOSS), "its gradient is not");
}

/* A channels-last input and a permuted uint8 target give the contiguous float64
 * result exactly (the kernels read any strides and target dtype). */
static void layouts(void)
{
	struct mg_err e = {0};
	const struct mg_opdef *d = mg_ops[MG_OP_DiceCELoss];
	struct mg_arena arena = {0};
	struct mg_attr a[32];
	CHECK_OK(golden_parse_text(d, "{\"softmax\": true, \"to_onehot_y\": true}", &arena, a, &e),
		 &e);
	int64_t dx[] = {2, 3, 4, 5}, dt[] = {2, 1, 4, 5};
	int last[] = {1, 3, 2, 0}, rev[] = {0, 1, 2, 3}; /* fastest first */
	struct mg_val in[2][2] = {{{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}},
				  {{.kind = MG_VK_TENSOR}, {.kind = MG_VK_TENSOR}}};
	CHECK_OK(mg_tensor_alloc(&in[0][0].t, MG_DTYPE_F64, 4, dx, &e), &e);
	CHECK_OK(mg_tensor_alloc(&in[0][1].t, MG_DTYPE_F64, 4, dt, &e), &e);
	CHECK_OK(mg_tensor_alloc_order(&in[1][0].t, MG_DTYPE_F64, 4, dx, last, &e), &e);
	CHECK_OK(mg_tensor_alloc_order(&in[1][1].t, MG_DTYPE_U8, 4, dt, rev, &e), &e);
	for (int64_t i = 0; i < 120; i++)
		((double *)mg_tensor_data(&in[0][0].t))[i] = gc_uniform(-2, 2);
	for (int64_t i = 0; i < 40; i++)
		((double *)mg_tensor_data(&in[0][1].t))[i] = (double)(i * 7 % 3);
	mg_tensor_convert(&in[1][0].t, &in[0][0].t);
	mg_tensor_convert(&in[1][1].t, &in[0][1].t);
	double v[2];
	for (int j = 0; j < 2; j++) {
		struct mg_val y = {0};
		struct mg_kctx k = {.err = &e};
		CHECK_OK(d->ref(a, in[j], &y, &k), &e);
		v[j] = *(double *)mg_tensor_data(&y.t);
		mg_val_release(&y);
		mg_val_release(&in[j][0]);
		mg_val_release(&in[j][1]);
	}
	CHECK(v[0] == v[1], "strided %.17g, contiguous %.17g", v[1], v[0]);
	mg_arena_free(&arena);
}

/* What mgc refuses beyond MONAI's shape errors (test_conformance_losses.c has those). */
static void refusals(void)
{
	struct mg_err e = {0};
	int64_t d4[] = {1, 2, 1, 2}, l4[] = {1, 1, 1, 2}, d2[] = {1, 2};
	double x[4] = {0}, t[4] = {0, 1, 0, 1};
	static const struct {
		const char *op, *args, *needle;
	} bad[] = {
		{"DiceLoss", "{\"reduction\": \"none\"}", "DiceLoss: reduction \"none\" is not supported"},
		{"FocalLoss", "{\"reduction\": \"none\"}", "FocalLoss: reduction \"none\""},
		{"DiceCELoss", "{\"lambda_ce\": -1}", "DiceCELoss: lambda_ce should be no less than 0"},
		{"DiceCELoss", "{\"label_smoothing\": 1.5}", "label_smoothing must be between"},
		{"DiceLoss", "{\"weight\": [1, -2]}", "DiceLoss: weight[1] = -2"},
		{"DiceCELoss", "{\"weight\": [1, 2, 3]}", "DiceCELoss: weight has 3 values for 2"},
		{"CrossEntropyLoss", "{\"weight\": [1, 2, 3]}", "defined either for all 2 classes"},
		{"FocalLoss", "{\"weight\": [1, 2, 3]}", "FocalLoss: weight has 3 values"},
		{"CrossEntropyLoss", "{\"ignore_index\": 0}", "ignore_index 0 is not supported"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		double v = run(bad[i].op, bad[i].args, 4, d4, x, 4, d4, t, &e);
		CHECK(isnan(v) && strstr(e.msg, bad[i].needle), "%s %s: %s", bad[i].op, bad[i].args,
		      e.msg);
		mg_err_clear(&e);
	}
	CHECK(isnan(run("DiceLoss", "{\"other_act\": \"torch.tanh\"}", 4, d4, x, 4, d4, t, &e)) &&
	      strstr(e.msg, "'other_act' is not supported"), "%s", e.msg);
	mg_err_clear(&e);
	CHECK(isnan(run("DiceLoss", "{\"ignore_index\": 2}", 4, d4, x, 4, d4, t, &e)) &&
	      strstr(e.msg, "'ignore_index' is not supported"), "%s", e.msg);
	mg_err_clear(&e);
	CHECK(isnan(run("DiceLoss", "{}", 2, d2, x, 2, d2, t, &e)) &&
	      strstr(e.msg, "DiceLoss: input has rank 2"), "%s", e.msg);
	mg_err_clear(&e);
	CHECK(isnan(run("CrossEntropyLoss", "{}", 4, d4, x, 4, l4, (double[]){0, -100}, &e)) &&
	      strstr(e.msg, "CrossEntropyLoss: target class -100 at voxel 1 is out of bounds"),
	      "%s", e.msg);
	mg_err_clear(&e);
	/* the gradient op's third operand is one element */
	const struct mg_opdef *g = mg_ops[MG_OP_DiceLossGrad];
	struct mg_type in[3] = {{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4,
				 .dims = {1, 2, 1, 2}},
				{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_U8, .rank = 4,
				 .dims = {1, 2, 1, 2}},
				{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 1, .dims = {2}}},
		       out[1];
	struct mg_arena arena = {0};
	struct mg_attr a[32];
	CHECK_OK(golden_parse_text(mg_ops[MG_OP_DiceLoss], "{}", &arena, a, &e), &e);
	CHECK_FAILS(g->infer(a, in, out, &e), &e, "DiceLossGrad: dloss must be one element");
	in[2].rank = 0;
	CHECK_OK(g->infer(a, in, out, &e), &e);
	CHECK(out[0].rank == 4 && out[0].dtype == MG_DTYPE_F32, "dinput has input's type");
	in[0].dtype = MG_DTYPE_I32;
	CHECK_FAILS(mg_ops[MG_OP_DiceLoss]->infer(a, in, out, &e), &e, "DiceLoss: input is int32");
	mg_arena_free(&arena);
}

int main(void)
{
	gradients();
	values();
	layouts();
	refusals();
	return check_done();
}
