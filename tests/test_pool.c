/* test_pool.c: what the torch goldens of the pooling and shape ops cannot show
 * (test_conformance_pool.c has the values): every gradient rule through the autodiff
 * pass against central differences (gradcheck.h); which outputs are views of their input's
 * buffer (Reshape and Flatten where torch makes views, ConcatGrad's slices, PadGrad's
 * crop), that a channels-last input gives a channels-last output, and the refusals of
 * bad dtypes and arguments, each naming the op and the argument. */
#include "check.h"
#include "golden.h"
#include "gradcheck.h"

static struct mg_tensor ramp(int rank, const int64_t *d)
{
	struct mg_tensor t;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_F32, rank, d, &e), &e);
	float *p = mg_tensor_data(&t);
	for (int64_t i = 0; i < mg_tensor_numel(&t); i++)
		p[i] = (float)i;
	return t;
}

/* Runs op (JSON arguments) on the n tensors x; the output in *y, rc returned. */
static int apply(const char *op, const char *json, int n, const struct mg_tensor *x, int nout,
		 struct mg_val *y, struct mg_err *e)
{
	const struct mg_opdef *d = golden_op(op);
	struct mg_arena arena = {0};
	struct mg_attr a[8];
	struct mg_val in[MG_STEP_MAXIO] = {{0}};
	for (int i = 0; i < n; i++)
		in[i] = (struct mg_val){.kind = MG_VK_TENSOR, .t = x[i]};
	struct mg_kctx k = {.err = e};
	int rc = golden_parse_text(d, json, &arena, a, e);
	for (int i = 0; i < nout; i++)
		y[i] = (struct mg_val){0};
	if (!rc)
		rc = d->ref(a, in, y, &k);
	mg_arena_free(&arena);
	return rc;
}

static void views(void)
{
	struct mg_err e = {0};
	struct mg_val y[3];
	struct mg_tensor x = ramp(4, (int64_t[]){2, 3, 4, 5});
	CHECK_OK(apply("Reshape", "{\"shape\": [6, -1]}", 1, &x, 1, y, &e), &e);
	CHECK(y[0].t.buf == x.buf && y[0].t.dims[1] == 20, "Reshape of a contiguous tensor: a view");
	mg_val_release(&y[0]);
	CHECK_OK(apply("Flatten", "{}", 1, &x, 1, y, &e), &e);
	CHECK(y[0].t.buf == x.buf && y[0].t.rank == 2 && y[0].t.dims[1] == 60, "Flatten: a view");
	mg_val_release(&y[0]);
	/* a slice along the first axis still merges its last axes: a view (torch's rule) */
	struct mg_tensor s = x;
	s.dims[0] = 1, s.offset = 60;
	CHECK_OK(apply("Reshape", "{\"shape\": [3, 20]}", 1, &s, 1, y, &e), &e);
	CHECK(y[0].t.buf == x.buf && y[0].t.offset == 60, "Reshape of a slice: a view");
	mg_val_release(&y[0]);
	/* transposed last axes: no strides show them row-major, so a copy */
	struct mg_tensor t = x;
	t.dims[2] = 5, t.dims[3] = 4, t.strides[2] = 1, t.strides[3] = 5;
	CHECK_OK(apply("Reshape", "{\"shape\": [-1]}", 1, &t, 1, y, &e), &e);
	const float *p = mg_tensor_data(&y[0].t);
	CHECK(y[0].t.buf != x.buf && p[1] == 5 && p[4] == 1, "Reshape of a transpose: a copy in "
	      "the transpose's order");
	mg_val_release(&y[0]);
	/* ConcatGrad: slices of dy; PadGrad of a constant pad: dy's inner block */
	struct mg_tensor parts[3] = {x, ramp(4, (int64_t[]){2, 1, 4, 5}),
				     ramp(4, (int64_t[]){2, 2, 4, 5})};
	CHECK_OK(apply("ConcatGrad", "{\"dim\": 1}", 3, (struct mg_tensor[]){parts[1], parts[2], x},
		       2, y, &e), &e);
	CHECK(y[0].t.buf == x.buf && y[1].t.buf == x.buf && y[1].t.offset == 20 &&
	      y[0].t.dims[1] == 1 && y[1].t.dims[1] == 2 && y[1].t.dims[0] == 2,
	      "ConcatGrad: views of dy");
	mg_val_release(&y[0]);
	mg_val_release(&y[1]);
	struct mg_tensor dy = ramp(4, (int64_t[]){2, 3, 5, 8});
	CHECK_OK(apply("PadGrad", "{\"pad\": [1, 2, 0, 1]}", 2, (struct mg_tensor[]){x, dy}, 1,
		       y, &e), &e);
	CHECK(y[0].t.buf == dy.buf && y[0].t.dims[2] == 4 && y[0].t.dims[3] == 5 &&
	      *(float *)mg_tensor_data(&y[0].t) == 1, "PadGrad (constant): a view of dy");
	mg_val_release(&y[0]);
	mg_tensor_release(&dy);
	mg_tensor_release(&parts[1]);
	mg_tensor_release(&parts[2]);
	mg_tensor_release(&x);
}

static void layout_and_errors(void)
{
	struct mg_err e = {0};
	struct mg_val y[1];
	/* a channels-last view (N, C, H, W) of a (N, H, W, C) buffer */
	struct mg_tensor x = ramp(4, (int64_t[]){1, 6, 5, 3});
	mg_tensor_movedim(&x, 3, 1);
	CHECK_OK(apply("MaxPool", "{\"kernel_size\": 2}", 1, &x, 1, y, &e), &e);
	CHECK(y[0].t.strides[1] == 1 && y[0].t.dims[2] == 3, "MaxPool keeps channels-last");
	mg_val_release(&y[0]);
	CHECK_OK(apply("Upsample", "{\"scale_factor\": 2, \"mode\": \"bilinear\"}", 1, &x, 1, y,
		       &e), &e);
	CHECK(y[0].t.strides[1] == 1 && y[0].t.dims[3] == 10, "Upsample keeps channels-last");
	mg_val_release(&y[0]);
	struct mg_tensor xi;
	CHECK_OK(mg_tensor_cast(&xi, &x, MG_DTYPE_I32, &e), &e);
	CHECK_FAILS(apply("AvgPool", "{\"kernel_size\": 2}", 1, &xi, 1, y, &e), &e,
		    "AvgPool: x is int32");
	CHECK_FAILS(apply("MaxPool", "{\"kernel_size\": [2, 2, 2]}", 1, &x, 1, y, &e), &e,
		    "MaxPool: kernel_size has 3 values");
	CHECK_FAILS(apply("MaxPool", "{\"kernel_size\": 2, \"return_indices\": true}", 1, &x, 1,
			  y, &e), &e, "return_indices");
	CHECK_FAILS(apply("Upsample", "{\"scale_factor\": -2}", 1, &x, 1, y, &e), &e,
		    "Upsample: scale_factor must be positive");
	CHECK_FAILS(apply("Concat", "{\"dim\": 1}", 2, (struct mg_tensor[]){x, xi}, 1, y, &e), &e,
		    "Concat: input 1 is int32");
	CHECK_FAILS(apply("Pad", "{\"pad\": [5, 0, 0, 0], \"mode\": \"reflect\"}", 1, &x, 1,
			  y, &e), &e, "Pad: padding (5, 0) of axis 3");
	CHECK_FAILS(apply("MaxPoolGrad", "{\"kernel_size\": 2}", 2, (struct mg_tensor[]){x, x}, 1,
			  y, &e), &e, "MaxPoolGrad: dy has shape (1, 3, 6, 5)");
	mg_tensor_release(&xi);
	mg_tensor_release(&x);
}

#define T(r, ...) {.rank = r, .dims = {__VA_ARGS__}, .wrt = 1}

/* Every op's gradient rule, gradient op and the autodiff pass against central
 * differences (gradcheck.h; float64). Random distinct inputs keep MaxPool away from ties;
 * every op here is linear in x between such points, so only rounding remains. */
static void gradients(void)
{
	const double tol = 1e-6;
	double w = 0;
#define GC(op, json, n, ...) \
	w = fmax(w, gradcheck(op, json, n, (struct gc_input[]){__VA_ARGS__}, 1, tol))
	GC("MaxPool", "{\"kernel_size\": 3, \"stride\": 2, \"padding\": 1, \"ceil_mode\": true}",
	   1, T(4, 1, 2, 6, 5));
	GC("MaxPool", "{\"kernel_size\": [2, 3, 2], \"dilation\": [1, 2, 1]}", 1,
	   T(5, 1, 1, 4, 6, 3));
	GC("MaxPool", "{\"kernel_size\": 2, \"stride\": 1}", 1, T(3, 2, 2, 7));
	GC("AvgPool", "{\"kernel_size\": 3, \"stride\": 2, \"padding\": 1, \"ceil_mode\": true, "
	   "\"count_include_pad\": false}", 1, T(3, 2, 2, 8));
	GC("AvgPool", "{\"kernel_size\": 2, \"divisor_override\": 3}", 1, T(5, 1, 1, 4, 5, 3));
	GC("AvgPool", "{\"kernel_size\": [3, 2], \"padding\": 1}", 1, T(4, 1, 2, 5, 4));
	GC("AdaptiveAvgPool", "{\"output_size\": [3, 4]}", 1, T(4, 1, 2, 7, 5));
	GC("AdaptiveAvgPool", "{\"output_size\": [2, 1, 3]}", 1, T(5, 1, 1, 3, 4, 5));
	GC("Upsample", "{\"scale_factor\": 1.7, \"mode\": \"bilinear\"}", 1, T(4, 1, 2, 4, 3));
	GC("Upsample", "{\"size\": [5, 3, 4], \"mode\": \"trilinear\", \"align_corners\": true}",
	   1, T(5, 1, 1, 3, 4, 2));
	GC("Upsample", "{\"scale_factor\": 0.6, \"mode\": \"linear\"}", 1, T(3, 1, 2, 9));
	GC("Upsample", "{\"scale_factor\": 2.1}", 1, T(3, 1, 2, 3));
	GC("Upsample", "{\"size\": [5, 7], \"mode\": \"nearest-exact\"}", 1, T(4, 1, 1, 3, 4));
	GC("Pad", "{\"pad\": [2, 3, 1, 1], \"mode\": \"reflect\"}", 1, T(4, 1, 1, 3, 4));
	GC("Pad", "{\"pad\": [-1, 2, 3, -1, 1, 0], \"mode\": \"circular\"}", 1,
	   T(5, 1, 1, 2, 3, 4));
	GC("Pad", "{\"pad\": [2, 1], \"mode\": \"replicate\"}", 1, T(3, 1, 2, 3));
	GC("Pad", "{\"pad\": [1, -1, 2, 0], \"value\": 2}", 1, T(3, 2, 3, 4));
	GC("Pad", "{\"pad\": [1, 2, 0, 1]}", 1, T(4, 1, 2, 3, 4));
	GC("Concat", "{\"dim\": 1}", 3, T(4, 2, 3, 2, 2), T(4, 2, 1, 2, 2), T(4, 2, 2, 2, 2));
	GC("Concat", "{\"dim\": -1}", 2, T(2, 3, 2), T(2, 3, 4));
	GC("Reshape", "{\"shape\": [2, -1, 4]}", 1, T(4, 2, 3, 2, 4));
	GC("Flatten", "{\"start_dim\": 2}", 1, T(5, 2, 3, 2, 2, 2));
#undef GC
	printf("gradcheck: largest relative difference %.3g\n", w);
}

int main(void)
{
	gradients();
	views();
	layout_and_errors();
	return check_done();
}
