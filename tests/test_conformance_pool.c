/* test_conformance_pool.c: MaxPool, AvgPool, AdaptiveAvgPool, Upsample, Concat, Reshape,
 * Flatten and Pad against torch (tests/golden/pool/, made by tools/golden/gen_pool.py).
 * Data cases: y = op(x...) from the reference kernel, and the gradients of sum(y * g)
 * with respect to each input from the op's gradient rule: the rule runs on a stand-in
 * of the autodiff pass that records the nodes it adds, and those nodes run on their
 * kernels. Inputs as torch gave them (float32) and converted to float64; each result
 * against torch's float32 autograd: |got - torch| <= 1e-5 + 1e-5 |torch|. The type rule
 * gives the shape the kernel made. Error cases: the type rule refuses what torch refuses. */
#include "check.h"
#include "golden.h"

#include "../ops/op.h"

#define DIR MG_SOURCE_DIR "/tests/golden/pool/"
#define MAXT 8

static double max_err[2][2]; /* [float64][gradient] */

/* The stand-in of the autodiff pass: values 0..nx-1 are the forward inputs, VY its
 * output, VDY the output's gradient; the rule's nodes run at once and their outputs
 * become values VNODE + 16 n + i. */
enum { VY = 40, VDY = 41, VNODE = 64 };
struct fake {
	struct mg_grad c;
	struct mg_val v[VNODE + 16 * 4];
	struct mg_kctx *k;
	int nnodes;
};

static int32_t fake_node(struct mg_grad *c, int op, const int32_t *in, int nin, int nout,
			 const struct mg_attr *attrs)
{
	struct fake *f = c->pass;
	const struct mg_opdef *d = mg_ops[op];
	struct mg_val vin[MG_STEP_MAXIO] = {{0}};
	struct mg_arena arena = {0};
	struct mg_attr defaults[8];
	CHECK(f->nnodes < 4 && mg_op_arity_ok(d, attrs, nin, nout), "%s: %d in, %d out", d->name,
	      nin, nout);
	if (!attrs) {
		CHECK_OK(mg_attrs_parse(d, NULL, -1, 1, NULL, &arena, defaults, c->e), c->e);
		attrs = defaults;
	}
	for (int i = 0; i < nin; i++)
		vin[i] = f->v[in[i]]; /* borrowed: the kernel takes its own references */
	int32_t base = VNODE + 16 * f->nnodes++;
	int rc = d->ref(attrs, vin, &f->v[base], f->k);
	mg_arena_free(&arena);
	return rc ? -1 : base;
}

static void cmp(const char *name, const char *what, int f64, int grad,
		const struct mg_tensor *got, const struct mg_tensor *want)
{
	char label[160];
	snprintf(label, sizeof label, "%s %s (%s)", name, what, f64 ? "float64" : "float32");
	CHECK(got->buf && golden_same_shape(got, want), "%s: shape differs", label);
	if (got->buf && golden_same_shape(got, want))
		CHECK(golden_compare(label, got, want, 1e-5, 1e-5, &max_err[f64][grad]) == 0, "%s",
		      label);
}

static struct mg_type type_of(const struct mg_tensor *t)
{
	struct mg_type ty = {.kind = MG_VK_TENSOR, .dtype = t->dtype, .rank = t->rank};
	memcpy(ty.dims, t->dims, sizeof ty.dims);
	return ty;
}

static void run(const char *name, const struct mg_opdef *d, const struct mg_attr *a, int f64,
		int nx, struct mg_tensor *x, const struct mg_tensor *g, const struct mg_tensor *y,
		const struct mg_tensor *dx)
{
	struct mg_err e = {0};
	struct mg_kctx k = {.err = &e};
	struct fake f = {.k = &k};
	struct mg_type xt[MG_STEP_MAXIO] = {{0}}, yt;
	for (int i = 0; i < nx; i++) {
		f.v[i].kind = MG_VK_TENSOR;
		CHECK_OK(mg_tensor_cast(&f.v[i].t, &x[i], f64 ? MG_DTYPE_F64 : MG_DTYPE_F32, &e), &e);
		xt[i] = type_of(&f.v[i].t);
	}
	int rc = d->ref(a, f.v, &f.v[VY], &k);
	CHECK(rc == 0, "%s: %s", name, e.msg);
	if (rc)
		goto done;
	cmp(name, "y", f64, 0, &f.v[VY].t, y);
	CHECK_OK(d->infer(a, xt, &yt, &e), &e);
	struct mg_type got = type_of(&f.v[VY].t);
	CHECK(yt.rank == got.rank && !memcmp(yt.dims, got.dims, (size_t)got.rank * 8) &&
	      yt.dtype == got.dtype, "%s: the type rule's shape is not the kernel's", name);
	f.v[VDY].kind = MG_VK_TENSOR;
	CHECK_OK(mg_tensor_cast(&f.v[VDY].t, g, f.v[VY].t.dtype, &e), &e);
	int32_t xs[MG_STEP_MAXIO], ys[1] = {VY}, dys[1] = {VDY};
	for (int i = 0; i < nx; i++)
		xs[i] = i;
	f.c = (struct mg_grad){.attrs = a, .nin = nx, .nout = 1, .x = xs, .y = ys, .xt = xt,
			       .yt = &yt, .dy = dys, .need = (1u << nx) - 1, .node = fake_node,
			       .e = &e, .pass = &f};
	CHECK(d->grad != NULL, "%s: no gradient rule", d->name);
	rc = d->grad ? d->grad(&f.c) : -1;
	CHECK(rc == 0, "%s: gradient rule: %s", name, e.msg);
	for (int i = 0; !rc && i < nx; i++) {
		char what[16];
		snprintf(what, sizeof what, "dx%d", i);
		int32_t v = f.c.dx[i];
		CHECK(v >= VNODE && v < VNODE + 64 && f.v[v].kind == MG_VK_TENSOR, "%s: %s is "
		      "not set", name, what);
		if (v >= VNODE && v < VNODE + 64)
			cmp(name, what, f64, 1, &f.v[v].t, &dx[i]);
	}
done:
	for (size_t i = 0; i < sizeof f.v / sizeof *f.v; i++)
		mg_val_release(&f.v[i]);
}

static void data_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		      const cJSON *files)
{
	struct mg_tensor x[MAXT] = {{0}}, dx[MAXT] = {{0}}, g = {0}, y = {0};
	struct mg_err e = {0};
	const cJSON *xf = cJSON_GetObjectItem(files, "x"), *dxf = cJSON_GetObjectItem(files, "dx");
	int nx = cJSON_GetArraySize(xf);
	for (int i = 0; i < nx; i++) {
		CHECK_OK(golden_read_npy(DIR, cJSON_GetStringValue(cJSON_GetArrayItem(xf, i)), &x[i],
					 &e), &e);
		CHECK_OK(golden_read_npy(DIR, cJSON_GetStringValue(cJSON_GetArrayItem(dxf, i)),
					 &dx[i], &e), &e);
	}
	CHECK_OK(golden_read_npy(DIR, cJSON_GetStringValue(cJSON_GetObjectItem(files, "g")), &g,
				 &e), &e);
	CHECK_OK(golden_read_npy(DIR, cJSON_GetStringValue(cJSON_GetObjectItem(files, "y")), &y,
				 &e), &e);
	for (int f64 = 0; f64 < 2; f64++)
		run(name, d, a, f64, nx, x, &g, &y, dx);
	for (int i = 0; i < nx; i++) {
		mg_tensor_release(&x[i]);
		mg_tensor_release(&dx[i]);
	}
	mg_tensor_release(&g);
	mg_tensor_release(&y);
}

static void error_case(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
		       int parsed, const cJSON *c)
{
	struct mg_type in[MG_STEP_MAXIO] = {{0}}, out[MG_STEP_MAXIO];
	struct mg_err e = {0};
	const cJSON *s, *dim;
	int n = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "x")) {
		in[n] = (struct mg_type){.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32};
		cJSON_ArrayForEach(dim, s)
			in[n].dims[in[n].rank++] = (int64_t)dim->valuedouble;
		n++;
	}
	int rc = !parsed ? 1 : d->infer(a, in, out, &e);
	CHECK(rc != 0, "%s: torch refuses (%s); mgc's type rule accepts it", name,
	      cJSON_GetStringValue(cJSON_GetObjectItem(c, "error")));
}

int main(void)
{
	cJSON *doc = golden_load_cases(DIR);
	const cJSON *c;
	int ndata = 0, nerr = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const struct mg_opdef *d = golden_op(cJSON_GetStringValue(cJSON_GetObjectItem(c, "op")));
		CHECK(name && d, "a case without a name or a known op");
		if (!name || !d)
			continue;
		struct mg_arena arena = {0};
		struct mg_attr a[8];
		struct mg_err e = {0};
		const cJSON *files = cJSON_GetObjectItem(c, "files");
		int rc = golden_parse(d, cJSON_GetObjectItem(c, "args"), &arena, a, &e);
		if (files) {
			CHECK(rc == 0, "%s: arguments rejected: %s", name, e.msg);
			if (!rc)
				data_case(name, d, a, files);
			ndata++;
		} else {
			error_case(name, d, a, rc == 0, c);
			nerr++;
		}
		mg_arena_free(&arena);
	}
	cJSON_Delete(doc);
	CHECK(ndata >= 60 && nerr >= 20, "%d data and %d error cases", ndata, nerr);
	printf("%d data cases, %d refusals; largest difference from torch: float32 y %.3g, "
	       "dx %.3g; float64 y %.3g, dx %.3g\n", ndata, nerr, max_err[0][0], max_err[0][1],
	       max_err[1][0], max_err[1][1]);
	return check_done();
}
