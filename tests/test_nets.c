/* test_nets.c: networks built from MONAI's arguments against MONAI itself
 * (tests/golden/nets/, tools/golden/gen_nets.py).
 * - State_dict: for every configuration mgc builds, the graph's parameter and buffer
 *   inputs have MONAI's keys in MONAI's order with its shapes, and the parameters'
 *   element count equals sum(p.numel() for p in model.parameters()).
 * - Forward: MONAI's weights (safetensors) bound by name, eval mode, through the
 *   reference kernels and again through the `gen` kernels (oneDNN convolutions, norms
 *   and PReLU; the kernel IR interpreter as the backend of the generated elementwise
 *   kernels): max |y - monai| <= 1e-4 (1 + max |monai|).
 * - Training, both ways: loss sum(y * g), the autodiff pass: every parameter's gradient
 *   and the input's against autograd's within 1e-3 (1 + max |autograd|) (float32 sums
 *   over thousands of terms), and the running statistics after the step.
 * - Arguments MONAI refuses or mgc does not support name the network and the argument.
 * - Initialisation (mg_net_init) against the moments of torch's own initial values.
 * - Checkpoints through mg_net_load: a missing tensor, an extra one, a wrong shape and a
 *   truncated file are errors naming the file and the tensor, leaving nothing loaded. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "golden.h"
#include "loss_graph.h"
#include "npy.h"

#include "../ir/kir.h"
#include "../nets/net.h"
#include "../passes/passes.h"
#include "../runtime/dnn.h"
#include "../runtime/json.h"
#include "../runtime/safetensors.h"

#define DIR MG_SOURCE_DIR "/tests/golden/nets/"

/* The graph of config's network on an input of spatial size s (batch 1) or x's shape. */
static struct mg_graph *build(const cJSON *cfg, const int64_t *xshape, int xrank, int training,
			      int32_t *y, struct mg_err *e)
{
	const cJSON *args = cJSON_GetObjectItem(cfg, "args");
	const char *cls = cJSON_GetObjectItem(cfg, "class")->valuestring;
	struct mg_graph *g = mg_graph_new(cls);
	struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = xrank};
	memcpy(t.dims, xshape, (size_t)xrank * sizeof *xshape);
	int32_t x = mg_graph_tensor_input(g, "x", &t, training, e);
	struct mg_net_opts o = {.training = training, .seed = 1};
	if (x < 0 || mg_net_build(g, cls, args, x, &o, y, e)) {
		mg_graph_free(g);
		return NULL;
	}
	return g;
}

static cJSON *read_json(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, DIR "%s", name);
	struct mg_err e = {0};
	cJSON *j = NULL;
	CHECK_OK(mg_json_read_file(path, &j, &e), &e);
	return j;
}

static void state_dict(const char *config)
{
	char name[128];
	snprintf(name, sizeof name, "%s.params.json", config);
	cJSON *cfg = read_json(name);
	if (!cfg)
		return;
	struct mg_err e = {0};
	const cJSON *args = cJSON_GetObjectItem(cfg, "args");
	int sdim = cJSON_GetObjectItem(args, "spatial_dims")
			   ? cJSON_GetObjectItem(args, "spatial_dims")->valueint : 3;
	int64_t xs[5] = {1, cJSON_GetObjectItem(args, "in_channels")->valueint, 32, 32, 32};
	int32_t y;
	struct mg_graph *g = build(cfg, xs, sdim + 2, 0, &y, &e);
	CHECK(g != NULL, "%s: %s", config, e.msg);
	if (!g) {
		cJSON_Delete(cfg);
		return;
	}
	const cJSON *keys = cJSON_GetObjectItem(cfg, "keys");
	/* MONAI's keys: the graph's inputs, then its aliases (torch's second keys of shared
	 * modules, DynUNet's skip_layers) */
	int n = cJSON_GetArraySize(keys), bad = 0, ni = g->ninputs - 1;
	CHECK(ni + g->naliases == n, "%s: %d inputs and %d aliases, MONAI's state_dict has %d",
	      config, ni, g->naliases, n);
	int64_t count = 0;
	for (int i = 0; i < n && i < ni + g->naliases && !bad; i++) {
		const cJSON *k = cJSON_GetArrayItem(keys, i);
		int32_t vi = i < ni ? g->inputs[i + 1] : g->aliases[i - ni].value;
		const struct mg_value *v = &g->values[vi];
		const char *nm = i < ni ? v->name : g->aliases[i - ni].name;
		const char *key = cJSON_GetArrayItem(k, 0)->valuestring;
		const cJSON *shape = cJSON_GetArrayItem(k, 1);
		int same = !strcmp(nm, key) && v->type.rank == cJSON_GetArraySize(shape);
		for (int d = 0; same && d < v->type.rank; d++)
			same = v->type.dims[d] == (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble;
		int buffer = strstr(key, "running_") || strstr(key, "num_batches_tracked");
		same &= v->param == (buffer ? MG_PARAM_BUFFER : MG_PARAM_LEARNED);
		CHECK(same, "%s: key %d is %s (rank %d), MONAI's is %s", config, i, nm,
		      v->type.rank, key);
		bad |= !same;
		if (i < ni && v->param == MG_PARAM_LEARNED) {
			int64_t m = 1;
			for (int d = 0; d < v->type.rank; d++)
				m *= v->type.dims[d];
			count += m;
		}
	}
	int64_t want = (int64_t)cJSON_GetObjectItem(cfg, "count")->valuedouble;
	CHECK(count == want, "%s: %lld parameters, MONAI has %lld", config, (long long)count,
	      (long long)want);
	printf("%s: %d tensors (%d aliases), %lld parameters as MONAI's\n", config, n,
	       g->naliases, (long long)count);
	mg_graph_free(g);
	cJSON_Delete(cfg);
}

/* max |got - want| / (1 + max |want|) over the tensor: gradients and outputs are sums of
 * many float32 terms, so the error scales with the tensor's largest value. */
static double rel_diff(const struct mg_tensor *got, const struct mg_tensor *want)
{
	if (!golden_same_shape(got, want))
		return INFINITY;
	double md = 0, mw = 0;
	struct mg_iter it;
	mg_iter_init(&it, got->rank, got->dims, 2, (const int64_t *[]){got->strides, want->strides});
	const char *pg = mg_tensor_data(got), *pw = mg_tensor_data(want);
	size_t eg = mg_dtype_size(got->dtype), ew = mg_dtype_size(want->dtype);
	do {
		double a = mg_dtype_load(got->dtype, pg + it.off[0] * (int64_t)eg);
		double b = mg_dtype_load(want->dtype, pw + it.off[1] * (int64_t)ew);
		md = fabs(a - b) > md || a != a ? fabs(a - b) : md;
		mw = fabs(b) > mw ? fabs(b) : mw;
	} while (mg_iter_next(&it));
	return md / (1 + mw);
}

/* One case of cases.json; gen: the ops' `gen` kernels (oneDNN convolutions, norms and
 * PReLU; the kernel IR interpreter for generated elementwise kernels), else the reference
 * kernels. */
static void data_case(const cJSON *c, int gen)
{
	char name[128];
	snprintf(name, sizeof name, "%s%s", cJSON_GetObjectItem(c, "name")->valuestring,
		 gen ? " (gen)" : "");
	const char *config = cJSON_GetObjectItem(c, "config")->valuestring;
	const cJSON *files = cJSON_GetObjectItem(c, "files");
	int training = cJSON_IsTrue(cJSON_GetObjectItem(c, "training"));
	char path[512];
	struct mg_err e = {0};
	struct mg_tensor x, yw, gt = {0};
	snprintf(path, sizeof path, DIR "%s", cJSON_GetObjectItem(files, "x")->valuestring);
	CHECK_OK(npy_read(path, &x, &e), &e);
	snprintf(path, sizeof path, DIR "%s", cJSON_GetObjectItem(files, "y")->valuestring);
	CHECK_OK(npy_read(path, &yw, &e), &e);
	if (training) {
		snprintf(path, sizeof path, DIR "%s", cJSON_GetObjectItem(files, "g")->valuestring);
		CHECK_OK(npy_read(path, &gt, &e), &e);
	}
	struct mg_safetensors *gr = NULL;
	if (training) {
		snprintf(path, sizeof path, DIR "%s",
			 cJSON_GetObjectItem(files, "grads")->valuestring);
		CHECK_OK(mg_safetensors_open(path, &gr, &e), &e);
	}
	char pj[128];
	snprintf(pj, sizeof pj, "%s.params.json", config);
	cJSON *cfg = read_json(pj);
	int32_t y;
	struct mg_graph *g = cfg ? build(cfg, x.dims, x.rank, training, &y, &e) : NULL;
	CHECK(g != NULL, "%s: %s", name, e.msg);
	struct mg_arena arena = {0};
	struct mg_plan *p = NULL;
	int rc = !g;
	if (!rc) {
		int32_t outs[2] = {y, -1};
		int no = 1;
		if (training) { /* loss = sum(y * g) */
			g->loss = outs[no++] = loss_add(g, y, "g", -1, &e);
			rc = g->loss < 0;
		}
		/* the network's own outputs (training's new buffers) follow y */
		int32_t all[600];
		int na = 0;
		for (int i = 0; i < no; i++)
			all[na++] = outs[i];
		for (int i = 0; i < g->noutputs && na < 600; i++)
			all[na++] = g->outputs[i];
		struct mg_pass_opts po = {0};
		rc = rc || mg_graph_set_outputs(g, all, na, &e) || mg_passes_run(g, &po, &e) ||
		     mg_graph_lower(g, &arena, &p, &e);
		CHECK(rc == 0, "%s: %s", name, e.msg);
	}
	struct mg_val *slots = rc ? NULL : calloc((size_t)p->nslots, sizeof *slots);
	struct mg_val *vals = rc ? NULL : calloc((size_t)g->ninputs, sizeof *vals);
	snprintf(path, sizeof path, DIR "%s", cJSON_GetObjectItem(files, "weights")->valuestring);
	if (!rc) {
		rc = mg_net_load(g, 1, path, vals, &e); /* input 0 is x */
		CHECK(rc == 0, "%s: %s", name, e.msg);
	}
	/* plan input i is graph input i */
	for (int i = 0; !rc && i < p->ninputs; i++) {
		struct mg_val *v = &slots[p->inputs[i].slot];
		const char *key = p->inputs[i].key;
		if (!strcmp(key, "x") || !strcmp(key, "g"))
			v->kind = MG_VK_TENSOR, v->t = mg_tensor_share(!strcmp(key, "x") ? &x : &gt);
		else
			*v = vals[i];
	}
	free(vals);
	struct mg_kir_interp interp;
	mg_kir_interp_init(&interp);
	struct mg_kctx k = {.err = &e, .backend = gen ? &interp.b : NULL};
	if (!rc) {
		rc = mg_exec_steps(p, slots, &k, NULL);
		CHECK(rc == 0, "%s: %s", name, e.msg);
	}
	if (!rc) {
		double d = rel_diff(&slots[y].t, &yw), worst = 0;
		CHECK(d <= 1e-4, "%s: y differs from MONAI's by %g (relative to its largest)", name, d);
		int ngrads = 0;
		for (int i = 0; training && i < g->noutputs; i++) {
			const char *on = g->values[g->outputs[i]].name;
			char key[600];
			size_t l = strlen(on);
			if (l > 5 && !strcmp(on + l - 5, ".grad"))
				snprintf(key, sizeof key, "%s", on);
			else if (l > 4 && !strcmp(on + l - 4, ".new"))
				snprintf(key, sizeof key, "%.*s.after", (int)(l - 4), on);
			else
				continue;
			struct mg_tensor want;
			CHECK_OK(mg_safetensors_get(gr, key, &want, &e), &e);
			double gd = rel_diff(&slots[g->outputs[i]].t, &want);
			CHECK(gd <= 1e-3, "%s: %s differs from autograd's by %g", name, key, gd);
			worst = gd > worst ? gd : worst;
			ngrads++;
			mg_tensor_release(&want);
		}
		printf("%s: y within %.2g of MONAI's%s", name, d, training ? "" : "\n");
		if (training)
			printf(", %d gradients and buffers within %.2g of autograd's\n", ngrads, worst);
	}
	for (int i = 0; slots && i < p->nslots; i++)
		mg_val_release(&slots[i]);
	free(slots);
	mg_arena_free(&arena);
	mg_graph_free(g);
	cJSON_Delete(cfg);
	mg_safetensors_close(gr);
	mg_tensor_release(&x);
	mg_tensor_release(&yw);
	mg_tensor_release(&gt);
}

/* Checkpoints that do not fit: each error names the file and the tensor, and nothing is
 * left loaded. Files are variations of unet_small_res's weights written to a temporary
 * folder. */
static void bad_checkpoints(void)
{
	struct mg_err e = {0};
	cJSON *cfg = read_json("unet_small_res.params.json");
	int64_t xs[5] = {1, 1, 8, 8, 8};
	int32_t y;
	struct mg_graph *g = cfg ? build(cfg, xs, 5, 0, &y, &e) : NULL;
	struct mg_safetensors *st = NULL;
	CHECK_OK(mg_safetensors_open(DIR "unet_small_res.safetensors", &st, &e), &e);
	if (!g || !st)
		return;
	int n = mg_safetensors_count(st);
	const char **names = calloc((size_t)n + 1, sizeof *names);
	struct mg_tensor *ts = calloc((size_t)n + 1, sizeof *ts);
	/* the first convolution's weight first (the file orders by dtype, then name) */
	const char *w0 = "model.0.conv.unit0.conv.weight";
	int k0 = mg_safetensors_find(st, w0);
	CHECK(k0 >= 0, "%s", w0);
	for (int i = 0, j = 1; i < n; i++) {
		int at = i == k0 ? 0 : j++;
		names[at] = mg_safetensors_name(st, i);
		CHECK_OK(mg_safetensors_get(st, names[at], &ts[at], &e), &e);
	}
	char dir[] = "/tmp/mgc-nets-XXXXXX", path[128];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	struct mg_val *vals = calloc((size_t)g->ninputs, sizeof *vals);
	snprintf(path, sizeof path, "%s/w.safetensors", dir);
	/* the first tensor left out */
	CHECK_OK(mg_safetensors_write(path, n - 1, names + 1, ts + 1, NULL, &e), &e);
	CHECK_FAILS(mg_net_load(g, 1, path, vals, &e), &e,
		    "w.safetensors: no tensor 'model.0.conv.unit0.conv.weight' (a parameter");
	/* one more tensor than the network has */
	names[n] = "model.9.weight";
	ts[n] = mg_tensor_share(&ts[0]);
	CHECK_OK(mg_safetensors_write(path, n + 1, names, ts, NULL, &e), &e);
	CHECK_FAILS(mg_net_load(g, 1, path, vals, &e), &e,
		    "tensor 'model.9.weight' is no parameter or buffer of the network");
	/* the first weight with its kernel axes flattened */
	struct mg_tensor flat = ts[0];
	flat.rank = 3;
	flat.dims[2] = ts[0].dims[2] * ts[0].dims[3] * ts[0].dims[4];
	flat.strides[2] = 1;
	struct mg_tensor keep = ts[0];
	ts[0] = flat;
	CHECK_OK(mg_safetensors_write(path, n, names, ts, NULL, &e), &e);
	ts[0] = keep;
	CHECK_FAILS(mg_net_load(g, 1, path, vals, &e), &e,
		    "tensor 'model.0.conv.unit0.conv.weight' has shape (4, 1, 27); the network's "
		    "is (4, 1, 3, 3, 3)");
	/* truncated: the first half of the real file */
	CHECK_OK(mg_safetensors_write(path, n, names, ts, NULL, &e), &e);
	FILE *f = fopen(path, "r+b");
	if (f) {
		fseek(f, 0, SEEK_END);
		long size = ftell(f);
		CHECK(ftruncate(fileno(f), size / 2) == 0, "truncate");
		fclose(f);
	}
	CHECK(mg_net_load(g, 1, path, vals, &e) != 0 && strstr(e.msg, "w.safetensors"), "%s", e.msg);
	mg_err_clear(&e);
	for (int i = 0; i < g->ninputs; i++)
		CHECK(vals[i].kind == MG_VK_NONE, "input %d left loaded after a failure", i);
	remove(path);
	rmdir(dir);
	for (int i = 0; i <= n; i++)
		mg_tensor_release(&ts[i]);
	free(ts);
	free(names);
	free(vals);
	mg_safetensors_close(st);
	mg_graph_free(g);
	cJSON_Delete(cfg);
}

/* DynUNet's second keys (graph aliases): MONAI's checkpoint holds them (the data cases
 * load it); one without them loads too, and an alias of the wrong shape is refused,
 * naming it. */
static void alias_checkpoints(void)
{
	struct mg_err e = {0};
	cJSON *cfg = read_json("dynunet_2d.params.json");
	int64_t xs[4] = {1, 1, 16, 16};
	int32_t y;
	struct mg_graph *g = cfg ? build(cfg, xs, 4, 0, &y, &e) : NULL;
	struct mg_safetensors *st = NULL;
	CHECK_OK(mg_safetensors_open(DIR "dynunet_2d.safetensors", &st, &e), &e);
	if (!g || !st)
		return;
	int n = mg_safetensors_count(st), k = 0, bad = -1;
	const char **names = calloc((size_t)n + 1, sizeof *names);
	struct mg_tensor *ts = calloc((size_t)n + 1, sizeof *ts);
	for (int i = 0; i < n; i++) {
		const char *nm = mg_safetensors_name(st, i);
		if (!strncmp(nm, "skip_layers.", 12))
			continue;
		names[k] = nm;
		CHECK_OK(mg_safetensors_get(st, nm, &ts[k++], &e), &e);
	}
	CHECK(k + g->naliases == n, "%d tensors, %d of them aliases", n, g->naliases);
	char dir[] = "/tmp/mgc-nets-XXXXXX", path[128];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/w.safetensors", dir);
	struct mg_val *vals = calloc((size_t)g->ninputs, sizeof *vals);
	CHECK_OK(mg_safetensors_write(path, k, names, ts, NULL, &e), &e);
	CHECK_OK(mg_net_load(g, 1, path, vals, &e), &e);
	for (int i = 0; i < g->ninputs; i++)
		mg_val_release(&vals[i]);
	/* the first alias, as a flat copy of its tensor */
	const char *a0 = g->aliases[0].name;
	for (int i = 0; i < k; i++)
		bad = !strcmp(names[i], g->values[g->aliases[0].value].name) ? i : bad;
	CHECK(bad >= 0, "%s", a0);
	if (bad >= 0) {
		struct mg_tensor flat = ts[bad];
		flat.rank = 1;
		flat.dims[0] = mg_tensor_numel(&ts[bad]);
		flat.strides[0] = 1;
		names[k] = a0;
		ts[k] = flat;
		CHECK_OK(mg_safetensors_write(path, k + 1, names, ts, NULL, &e), &e);
		CHECK_FAILS(mg_net_load(g, 1, path, vals, &e), &e,
			    "w.safetensors: tensor 'skip_layers.downsample.conv1.conv.weight' has "
			    "shape (27); the network's is (3, 1, 3, 3)");
	}
	for (int i = 0; i < g->ninputs; i++)
		CHECK(vals[i].kind == MG_VK_NONE, "input %d left loaded after a failure", i);
	remove(path);
	rmdir(dir);
	for (int i = 0; i < k; i++)
		mg_tensor_release(&ts[i]);
	free(ts);
	free(names);
	free(vals);
	mg_safetensors_close(st);
	mg_graph_free(g);
	cJSON_Delete(cfg);
}

/* mg_net_init against torch's own initial values (their moments in the params files):
 * constants (norm weights and biases, running statistics, PReLU's 0.25) exactly; random
 * tensors of 1000 or more elements with a standard deviation within 10 % of torch's (the
 * sampling error of either is about 1 / sqrt(2n) < 2.3 %), a mean within 4 standard
 * errors of 0, and the shape of torch's distribution: where torch's largest |x| is under
 * 2 standard deviations its draws are uniform (largest / std = sqrt(3)), and no value may
 * pass torch's largest by more than 2 %; else they are normal (kaiming_normal_), and the
 * kurtosis must be 3 within 5 of its standard errors sqrt(24 / n) (a uniform's is 1.8);
 * the same seed gives the same values, another seed others. */
static void init_check(const char *config, int nrand_min)
{
	char name[128];
	snprintf(name, sizeof name, "%s.params.json", config);
	cJSON *cfg = read_json(name);
	struct mg_err e = {0};
	const cJSON *args = cJSON_GetObjectItem(cfg, "args");
	/* 32^3: DenseNet121's five halvings leave one voxel */
	int64_t xs[5] = {1, cJSON_GetObjectItem(args, "in_channels")->valueint, 32, 32, 32};
	int32_t y;
	struct mg_graph *g = cfg ? build(cfg, xs, 5, 0, &y, &e) : NULL;
	CHECK(g != NULL, "%s: %s", config, e.msg);
	if (!g)
		return;
	struct mg_val *a = calloc((size_t)g->ninputs, sizeof *a), *b = calloc((size_t)g->ninputs,
									      sizeof *b);
	CHECK_OK(mg_net_init(g, 1, 7, a, &e), &e);
	CHECK_OK(mg_net_init(g, 1, 8, b, &e), &e);
	const cJSON *keys = cJSON_GetObjectItem(cfg, "keys");
	int nrand = 0, ndiff = 0;
	for (int i = 1; i < g->ninputs && !e.code; i++) {
		const cJSON *st = cJSON_GetArrayItem(cJSON_GetArrayItem(keys, i - 1), 3);
		double tmean = cJSON_GetArrayItem(st, 0)->valuedouble;
		double tstd = cJSON_GetArrayItem(st, 1)->valuedouble;
		double tmax = cJSON_GetArrayItem(st, 2)->valuedouble;
		const struct mg_tensor *t = &a[i].t;
		int64_t n = mg_tensor_numel(t);
		double s = 0, ss = 0, s4 = 0, mx = 0;
		for (int64_t j = 0; j < n; j++) {
			double x = mg_dtype_load(t->dtype, (char *)mg_tensor_data(t) +
							       j * (int64_t)mg_dtype_size(t->dtype));
			s += x, ss += x * x, s4 += x * x * x * x, mx = fabs(x) > mx ? fabs(x) : mx;
			ndiff += x != mg_dtype_load(t->dtype, (char *)mg_tensor_data(&b[i].t) +
							       j * (int64_t)mg_dtype_size(t->dtype));
		}
		const char *key = g->values[g->inputs[i]].name;
		if (tstd == 0) {
			CHECK(s == tmean * (double)n && mx == fabs(tmean), "%s %s: not the constant %g",
			      config, key, tmean);
		} else if (n >= 1000) {
			double mean = s / (double)n, sd = sqrt(ss / (double)n - mean * mean);
			CHECK(fabs(sd - tstd) <= 0.1 * tstd, "%s %s: std %g, torch's %g", config, key, sd,
			      tstd);
			CHECK(fabs(mean) <= 4 * tstd / sqrt((double)n), "%s %s: mean %g", config, key, mean);
			double kurt = s4 / (double)n / (ss / (double)n * ss / (double)n);
			if (tmax < 2 * tstd)
				CHECK(mx <= 1.02 * tmax, "%s %s: |x| up to %g, torch's %g", config, key,
				      mx, tmax);
			else
				CHECK(fabs(kurt - 3) <= 5 * sqrt(24.0 / (double)n),
				      "%s %s: kurtosis %g, a normal's 3", config, key, kurt);
			nrand++;
		}
	}
	CHECK(nrand >= nrand_min && ndiff > 0, "%s: %d random tensors checked, seeds differ at %d", config,
	      nrand, ndiff);
	printf("%s: initialisation as torch's on %d random tensors and every constant\n", config,
	       nrand);
	for (int i = 0; i < g->ninputs; i++) {
		mg_val_release(&a[i]);
		mg_val_release(&b[i]);
	}
	free(a);
	free(b);
	mg_graph_free(g);
	cJSON_Delete(cfg);
}

/* MONAI's other names of its classes (unet.py, basic_unet.py, dynunet.py, densenet.py),
 * and no others. */
static void class_aliases(void)
{
	static const char *const same[][2] = {
		{"Unet", "UNet"}, {"monai.networks.nets.basicunet", "BasicUNet"},
		{"BasicUnet", "BasicUNet"}, {"Dynunet", "DynUNet"}, {"DynUnet", "DynUNet"},
		{"Densenet", "DenseNet"}, {"densenet121", "DenseNet121"},
		{"Densenet264", "DenseNet264"},
	};
	for (size_t i = 0; i < sizeof same / sizeof *same; i++)
		CHECK(mg_net_find(same[i][0]) >= 0 && mg_net_find(same[i][0]) ==
			      mg_net_find(same[i][1]), "%s is %s", same[i][0], same[i][1]);
	CHECK(mg_net_find("densenet") < 0 && mg_net_find("unet") < 0 &&
		      mg_net_find("Segresnet") < 0, "names MONAI does not define");
	/* norm "instance_nvfuser" without apex: MONAI's factory gives nn.InstanceNorm3d */
	int ninputs[2] = {0}, ninorm[2] = {0};
	for (int k = 0; k < 2; k++) {
		char text[512];
		snprintf(text, sizeof text, "{\"class\": \"DynUNet\", \"args\": {\"spatial_dims\": 3, "
			 "\"in_channels\": 1, \"out_channels\": 2, \"kernel_size\": [3, 3, 3], "
			 "\"strides\": [1, 2, 2], \"upsample_kernel_size\": [2, 2], \"norm_name\": "
			 "[\"%s\", {\"affine\": true}]}}", k ? "instance_nvfuser" : "instance");
		cJSON *cfg = cJSON_Parse(text);
		struct mg_err e = {0};
		int64_t xs[5] = {1, 1, 16, 16, 16};
		int32_t y;
		struct mg_graph *g = build(cfg, xs, 5, 0, &y, &e);
		CHECK(g != NULL, "%s: %s", text, e.msg);
		for (int i = 0; g && i < g->nnodes; i++)
			ninorm[k] += g->nodes[i].op == MG_OP_InstanceNorm;
		ninputs[k] = g ? g->ninputs : -1;
		mg_graph_free(g);
		cJSON_Delete(cfg);
	}
	CHECK(ninorm[1] > 0 && ninorm[1] == ninorm[0] && ninputs[1] == ninputs[0],
	      "instance_nvfuser is instance: %d/%d norms, %d/%d inputs", ninorm[1], ninorm[0],
	      ninputs[1], ninputs[0]);
}

/* MONAI's dropout argument in its three forms (get_dropout_layer): the training graph's
 * Dropout nodes get its probability; torch's nn.Dropout default is 0.5. */
static void dropout_forms(void)
{
	static const struct {
		const char *target, *args;
		double p;
	} cases[] = {
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, \"channels\": "
		 "[4, 8], \"strides\": [2], \"dropout\": [\"Dropout\", {\"p\": 0.2}]}", 0.2},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, \"channels\": "
		 "[4, 8], \"strides\": [2], \"dropout\": \"dropout\"}", 0.5},
		{"DynUNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], \"upsample_kernel_size\": "
		 "[2, 2], \"dropout\": [\"dropout\", {\"p\": 0.3}]}", 0.3},
		{"BasicUNet", "{\"dropout\": 0.25}", 0.25},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[1024];
		snprintf(text, sizeof text, "{\"class\": \"%s\", \"args\": %s}", cases[i].target,
			 cases[i].args);
		cJSON *cfg = cJSON_Parse(text);
		struct mg_err e = {0};
		int64_t xs[5] = {1, 1, 32, 32, 32}; /* BasicUNet's four halvings leave 2 */
		int32_t y;
		struct mg_graph *g = build(cfg, xs, 5, 1, &y, &e);
		CHECK(g != NULL, "%s: %s", text, e.msg);
		int n = 0, right = 0;
		for (int k = 0; g && k < g->nnodes; k++)
			if (g->nodes[k].op == MG_OP_Dropout) {
				const struct mg_attr *p = &g->nodes[k].attrs[mg_op_attr_index(
					mg_ops[MG_OP_Dropout], "p")];
				n++, right += p->v.f == cases[i].p;
			}
		CHECK(n > 0 && right == n, "%s: %d Dropout nodes, %d with p %g", text, n, right,
		      cases[i].p);
		mg_graph_free(g);
		cJSON_Delete(cfg);
	}
}

/* A network's arguments that MONAI refuses, or mgc does not support, name the network and
 * the argument. */
static void bad_arguments(void)
{
#define DYN "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
	static const struct {
		const char *target, *args, *msg;
	} cases[] = {
		{"monai.networks.nets.VNet", "{}", "network \"monai.networks.nets.VNet\" is not "
		 "supported (UNet, SegResNet, BasicUNet, DynUNet, DenseNet, DenseNet121"},
		{"UNet", "{\"spatial_dims\": 2, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2]}", "UNet: spatial_dims is 2 but the input "
		 "has 3 spatial axes"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 2, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2]}", "UNet: in_channels is 2 but the input "
		 "has 1 channels"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4], \"strides\": [2]}", "the length of `channels` should be no "
		 "less than 2"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2], \"norm\": \"weird\"}",
		 "norm \"weird\" is not supported"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2], \"act\": [\"prelu\", {\"bogus\": 1}]}",
		 "prelu: argument 'bogus' is not supported"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2], \"kernel_size\": 4}",
		 "same padding is not available for kernel_size 4"},
		{"SegResNet", "{\"blocks_down\": [1, 1], \"blocks_up\": [1, 1]}",
		 "blocks_up (2 values) needs fewer levels than blocks_down (2)"},
		{"BasicUNet", "{\"upsample\": \"pixelshuffle\"}", "argument 'upsample' is "
		 "\"pixelshuffle\"; expected one of deconv"},
		{"UNet", "{\"spatial_dims\": 3}", "UNet needs argument 'in_channels'"},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2], "
		 "\"upsample_kernel_size\": [2]}", "DynUNet: length of kernel_size and strides should "
		 "be the same, and no less than 3."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3], \"strides\": [1, 2], "
		 "\"upsample_kernel_size\": [2]}", "and no less than 3."},
		{"DynUNet", DYN "\"kernel_size\": [[3, 3], 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2]}", "DynUNet: length of kernel_size in block 0 "
		 "should be the same as spatial_dims."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, [2, 2], 2], "
		 "\"upsample_kernel_size\": [2, 2]}", "DynUNet: length of stride in block 1 should "
		 "be the same as spatial_dims."},
		{"DynUNet", DYN "\"kernel_size\": 3, \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2]}", "DynUNet: kernel_size: 3 is not a list"},
		{"DynUNet", DYN "\"kernel_size\": [3, 1, 3], \"strides\": [1, 3, 2], "
		 "\"upsample_kernel_size\": [3, 2]}", "padding value should not be negative, please "
		 "change the kernel size and/or stride (kernel 1, stride 3)."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2]}", "DynUNet: upsample_kernel_size has 1 values; the "
		 "2 decoder levels need 2"},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2], \"filters\": [4, 8]}", "DynUNet: length of "
		 "filters should be no less than the length of strides."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2], \"deep_supervision\": true, "
		 "\"deep_supr_num\": 2}", "DynUNet: deep_supr_num should be less than the number of "
		 "up sample layers."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2], \"deep_supervision\": true, "
		 "\"deep_supr_num\": 0}", "DynUNet: deep_supr_num should be larger than 0."},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2], \"norm_name\": \"layer\"}",
		 "DynUNet: norm \"layer\" is not supported"},
		/* MONAI's torch.cat fails the same way: the transposed convolution's stride
		 * (upsample_kernel_size) does not undo the level's */
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 1]}", "DynUNet: upsamples.0 (Concat): Concat: input 1 "
		 "has size 8 on axis 2 but input 0 has 4"},
		{"DenseNet121", DYN "\"pretrained\": true}", "DenseNet121: pretrained weights are "
		 "not downloaded"},
		{"DenseNet", DYN "\"block_config\": []}", "DenseNet: block_config needs one or more "
		 "blocks"},
		{"DenseNet169", "{\"spatial_dims\": 2, \"in_channels\": 1, \"out_channels\": 2}",
		 "DenseNet169: spatial_dims is 2 but the input has 3 spatial axes"},
		{"UNet", "{\"spatial_dims\": 3, \"in_channels\": 1, \"out_channels\": 2, "
		 "\"channels\": [4, 8], \"strides\": [2], \"dropout\": [\"alphadropout\", "
		 "{\"p\": 0.1}]}", "UNet: argument 'dropout': [\"alphadropout\",{\"p\":0.1}] is not "
		 "supported (a probability, \"dropout\" or [\"dropout\", {\"p\": P}])"},
		{"BasicUNet", "{\"dropout\": 1.5}", "BasicUNet: argument 'dropout': dropout "
		 "probability has to be between 0 and 1, but got 1.5"},
		{"DynUNet", DYN "\"kernel_size\": [3, 3, 3], \"strides\": [1, 2, 2], "
		 "\"upsample_kernel_size\": [2, 2], \"dropout\": [\"dropout\", {\"p\": -0.1}]}",
		 "dropout probability has to be between 0 and 1, but got -0.1"},
	};
#undef DYN
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mg_err e = {0};
		struct mg_graph *g = mg_graph_new("bad");
		struct mg_type t = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 5,
				    .dims = {1, 1, 16, 16, 16}};
		int32_t x = mg_graph_tensor_input(g, "x", &t, 0, &e), y;
		cJSON *args = cJSON_Parse(cases[i].args);
		struct mg_net_opts o = {0};
		CHECK_FAILS(mg_net_build(g, cases[i].target, args, x, &o, &y, &e), &e, cases[i].msg);
		cJSON_Delete(args);
		mg_graph_free(g);
	}
}

int main(void)
{
	static const char *const configs[] = {"spleen_unet", "unet_small_res", "unet_small_plain",
					      "unet_2d", "brats_segresnet", "wholebody_segresnet",
					      "segresnet_small", "basicunet", "basicunet_2d",
					      "dynunet", "densenet121", "dynunet_2d", "dynunet_3d",
					      "densenet_small", "densenet_2d"};
	for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
		state_dict(configs[i]);
	cJSON *cases = read_json("cases.json");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "cases"))
		for (int gen = 0; gen < 1 + mg_dnn_available(); gen++)
			data_case(c, gen);
	cJSON_Delete(cases);
	bad_checkpoints();
	alias_checkpoints();
	bad_arguments();
	dropout_forms();
	class_aliases();
	init_check("spleen_unet", 20);
	init_check("brats_segresnet", 30);
	init_check("dynunet", 4);       /* its own kaiming_normal (a = 0.01) */
	init_check("densenet121", 100); /* its own kaiming_normal (a = 0) */
	return check_done();
}
