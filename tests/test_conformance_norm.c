/* test_conformance_norm.c: BatchNorm, InstanceNorm, GroupNorm and LayerNorm against the
 * torch modules MONAI's Norm factory builds (tests/golden/norm/, made by
 * tools/golden/gen_norm.py).
 * Data cases: y, the running statistics and num_batches_tracked after the call, from
 * the op's reference kernel; the gradients of sum(y * g) with respect to x, weight and
 * bias from its gradient op's kernel (fed the forward's saved mean and invstd), each
 * against torch's float32 autograd: |got - torch| <= 1e-5 + 1e-5 |torch| for values,
 * 1e-5 + 1e-4 |torch| for gradients; num_batches_tracked exactly. Each case runs on x as
 * stored and on a copy of x with its axes in reverse memory order, whose y must come
 * out in that order. The type rules describe what the kernels made.
 * Shape cases: the type rule gives torch's output shape, or refuses what torch refuses. */
#include "check.h"
#include "golden.h"

#define DIR MG_SOURCE_DIR "/tests/golden/norm/"

static double max_err[2]; /* values, gradients */

static void cmp(const char *name, const char *what, int grad, const struct mg_val *got,
		const struct mg_tensor *want)
{
	char label[160];
	snprintf(label, sizeof label, "%s %s", name, what);
	CHECK(got->kind == MG_VK_TENSOR, "%s: no output", label);
	if (got->kind != MG_VK_TENSOR)
		return;
	CHECK(golden_same_shape(&got->t, want), "%s: shape differs from torch's", label);
	if (golden_same_shape(&got->t, want))
		CHECK(golden_compare(label, &got->t, want, 1e-5, grad ? 1e-4 : 1e-5,
				      &max_err[grad]) == 0, "%s", label);
}

/* The op's type rule on the types of in[0..n) describes out[0..nout). */
static void check_infer(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
			const struct mg_val *in, int n, const struct mg_val *out)
{
	struct mg_type ti[MG_STEP_MAXIO] = {{0}}, to[MG_STEP_MAXIO];
	for (int i = 0; i < n; i++) {
		ti[i] = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = (int)in[i].t.dtype,
					 .rank = in[i].t.rank};
		memcpy(ti[i].dims, in[i].t.dims, sizeof ti[i].dims);
	}
	struct mg_err e = {0};
	CHECK_OK(d->infer(a, ti, to, &e), &e);
	for (int j = 0; j < d->nout; j++) {
		const struct mg_type *t = &to[j];
		const struct mg_val *v = &out[j];
		int ok = t->kind == v->kind;
		if (ok && v->kind == MG_VK_TENSOR) {
			ok = t->dtype == (int)v->t.dtype && t->rank == v->t.rank;
			for (int i = 0; ok && i < t->rank; i++)
				ok = t->dims[i] == v->t.dims[i];
		}
		CHECK(ok, "%s: %s's type rule and kernel disagree on output %d", name, d->name, j);
	}
}

/* A copy of t whose axes lie in reverse memory order (axis 0 fastest). */
static void reversed_copy(struct mg_tensor *out, const struct mg_tensor *t)
{
	struct mg_err e = {0};
	int order[MG_MAX_RANK];
	for (int i = 0; i < t->rank; i++)
		order[i] = i;
	CHECK_OK(mg_tensor_alloc_order(out, t->dtype, t->rank, t->dims, order, &e), &e);
	mg_tensor_convert(out, t);
}

enum { K_X, K_W, K_B, K_RM, K_RV, K_NBT, K_G, K_Y, K_RM_OUT, K_RV_OUT, K_NBT_OUT, K_DX, K_DW,
       K_DB, K_N };
static const char *const keys[K_N] = {"x", "w", "b", "rm", "rv", "nbt", "g", "y", "rm_out",
				       "rv_out", "nbt_out", "dx", "dw", "db"};

static void data_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *files, int reversed)
{
	struct mg_tensor t[K_N] = {{0}}, xr = {0};
	struct mg_err e = {0};
	for (int i = 0; i < K_N; i++) {
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(files, keys[i]));
		if (f)
			CHECK_OK(golden_read_npy(DIR, f, &t[i], &e), &e);
	}
	char label[96];
	snprintf(label, sizeof label, "%s%s", name, reversed ? " (x reversed)" : "");
	const struct mg_tensor *x = &t[K_X];
	if (reversed) {
		reversed_copy(&xr, x);
		x = &xr;
	}
	/* the forward: inputs in mgc's order, those the case has */
	struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = *x}}, out[MG_STEP_MAXIO] = {{0}};
	int n = 1;
	for (int i = K_W; i <= K_NBT; i++)
		if (t[i].buf)
			in[n++] = (struct mg_val){.kind = MG_VK_TENSOR, .t = t[i]};
	struct mg_kctx k = {.err = &e};
	int rc = d->ref(a, in, out, &k);
	CHECK(rc == 0, "%s: %s", label, e.msg);
	if (rc)
		goto done;
	cmp(label, "y", 0, &out[0], &t[K_Y]);
	int order_y[MG_MAX_RANK], order_x[MG_MAX_RANK];
	mg_tensor_order(&out[0].t, order_y);
	mg_tensor_order(x, order_x);
	CHECK(!memcmp(order_x, order_y, (size_t)x->rank * sizeof *order_x),
	      "%s: y is not laid out as x", label);
	if (t[K_RM_OUT].buf) {
		cmp(label, "running_mean", 0, &out[3], &t[K_RM_OUT]);
		cmp(label, "running_var", 0, &out[4], &t[K_RV_OUT]);
	} else if (d->nout > 3) {
		CHECK(out[3].kind == MG_VK_NONE && out[4].kind == MG_VK_NONE,
		      "%s: running statistics out of an untracked norm", label);
	}
	if (t[K_NBT_OUT].buf) {
		CHECK(out[5].kind == MG_VK_TENSOR && out[5].t.dtype == MG_DTYPE_I64, "%s: nbt", label);
		if (out[5].kind == MG_VK_TENSOR)
			CHECK(golden_compare(label, &out[5].t, &t[K_NBT_OUT], 0, 0, NULL) == 0,
			      "%s: num_batches_tracked", label);
	}
	check_infer(label, d, a, in, n, out);
	/* the backward through the gradient op */
	char gname[64];
	snprintf(gname, sizeof gname, "%sGrad", d->name);
	const struct mg_opdef *gd = golden_op(gname);
	struct mg_val gin[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = t[K_G]},
					    {.kind = MG_VK_TENSOR, .t = *x}, out[1], out[2]};
	struct mg_val gout[MG_STEP_MAXIO] = {{0}};
	int gn = 4;
	if (t[K_W].buf)
		gin[gn++] = (struct mg_val){.kind = MG_VK_TENSOR, .t = t[K_W]};
	rc = gd->ref(a, gin, gout, &k);
	CHECK(rc == 0, "%s: %s: %s", label, gname, e.msg);
	if (!rc) {
		cmp(label, "dx", 1, &gout[0], &t[K_DX]);
		if (t[K_DW].buf)
			cmp(label, "dweight", 1, &gout[1], &t[K_DW]);
		if (t[K_DB].buf)
			cmp(label, "dbias", 1, &gout[2], &t[K_DB]);
		else
			CHECK(gout[2].kind == MG_VK_NONE, "%s: a bias gradient without bias", label);
		check_infer(label, gd, a, gin, gn, gout);
	}
	for (int i = 0; i < 3; i++)
		mg_val_release(&gout[i]);
done:
	for (int i = 0; i < d->nout; i++)
		mg_val_release(&out[i]);
	for (int i = 0; i < K_N; i++)
		mg_tensor_release(&t[i]);
	mg_tensor_release(&xr);
}

static void shape_of(const cJSON *j, struct mg_type *t)
{
	*t = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32,
			      .rank = cJSON_GetArraySize(j)};
	for (int i = 0; i < t->rank; i++)
		t->dims[i] = (int64_t)cJSON_GetArrayItem(j, i)->valuedouble;
}

static int shape_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *c)
{
	struct mg_type in[MG_STEP_MAXIO] = {{0}}, out[MG_STEP_MAXIO], want;
	struct mg_err e = {0};
	const cJSON *shapes = cJSON_GetObjectItem(c, "shapes"), *s;
	int n = 0;
	cJSON_ArrayForEach(s, shapes)
		shape_of(s, &in[n++]);
	int rc = d->infer(a, in, out, &e);
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(c, "error"));
	if (err) {
		CHECK(rc != 0, "%s: torch refuses (%s); mgc accepts", name, err);
		if (rc)
			CHECK(strstr(e.msg, d->name) != NULL, "%s: the message does not name the op: %s",
			      name, e.msg);
		return 1;
	}
	CHECK(rc == 0, "%s: %s", name, e.msg);
	shape_of(cJSON_GetObjectItem(c, "y"), &want);
	int ok = !rc && out[0].rank == want.rank;
	for (int i = 0; ok && i < want.rank; i++)
		ok = out[0].dims[i] == want.dims[i];
	CHECK(ok, "%s: output shape differs from torch's", name);
	return 0;
}

int main(void)
{
	cJSON *doc = golden_load_cases(DIR);
	const cJSON *c;
	int ndata = 0, nshape = 0, nrefused = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const struct mg_opdef *d = golden_op(cJSON_GetStringValue(cJSON_GetObjectItem(c, "op")));
		CHECK(name && d, "a case without a name or a known op");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[8];
		struct mg_err e = {0};
		int rc = golden_parse(d, cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
		const cJSON *files = cJSON_GetObjectItem(c, "files");
		if (!rc && files) {
			data_case(name, d, a, files, 0);
			data_case(name, d, a, files, 1);
			ndata++;
		} else if (!rc) {
			nrefused += shape_case(name, d, a, c);
			nshape++;
		}
		mg_arena_free(&arena);
	}
	cJSON_Delete(doc);
	CHECK(ndata >= 20 && nshape >= 10, "%d data and %d shape cases", ndata, nshape);
	printf("%d data cases, %d shape cases (%d refused by torch); largest difference from "
	       "torch: values %.3g, gradients %.3g\n", ndata, nshape, nrefused, max_err[0],
	       max_err[1]);
	return check_done();
}
