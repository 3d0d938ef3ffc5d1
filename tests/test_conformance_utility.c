/* test_conformance_utility.c: the utility transforms that keep or move item keys
 * (Identityd, SqueezeDimd, SplitDimd, CopyItemsd, ConcatItemsd, DeleteItemsd,
 * MaskIntensityd with its select_fn thresholds, HistogramNormalized with mask_key)
 * against MONAI's own results, and their argument errors.
 * Cases live in tests/golden/utility/cases.json (tools/golden/gen_utility.py): each names
 * a dict transform, its JSON arguments, the item before it (key -> input .npy with its
 * affine) and every key of MONAI 1.6.1's result (.npy, 4x4 affine, dtype).
 * Each case runs as the frontend runs it, on an item held in memory: a key-moving op's
 * plan (mg_opdef.keys: its nodes, SplitDimd's key families made for the keys MONAI
 * wrote, the keys it unbinds), else one node per key reading its data-key arguments.
 * Then: the same keys as MONAI (deleted ones gone), each with MONAI's shape, dtype,
 * values bit for bit (sign of zero included: MaskIntensity's 0 * x) and affine within
 * 1e-12; views share the input's storage, ConcatItems and MaskIntensity make new
 * storage. The pipeline path (build.c, `mgc run`) is tested by test_utility_pipeline.c. */
#include "check.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/utility/"

/* An item held in memory: key -> value. */
struct item {
	int n;
	const char *key[MG_MAX_KEYS];
	struct mg_val val[MG_MAX_KEYS];
	int gone[MG_MAX_KEYS];
};

static struct mg_val *item_get(struct item *it, const char *key)
{
	for (int i = 0; i < it->n; i++)
		if (!strcmp(it->key[i], key) && !it->gone[i])
			return &it->val[i];
	return NULL;
}

/* Binds key to v (taking over v's reference). */
static void item_set(struct item *it, const char *key, struct mg_val *v)
{
	for (int i = 0; i < it->n; i++)
		if (!strcmp(it->key[i], key)) {
			mg_val_release(&it->val[i]);
			it->val[i] = *v;
			it->gone[i] = 0;
			return;
		}
	it->key[it->n] = key;
	it->val[it->n++] = *v;
}

static void item_free(struct item *it)
{
	for (int i = 0; i < it->n; i++)
		mg_val_release(&it->val[i]);
}

/* Runs one node: op d on the item's keys in[0..nin), binding outputs to out[0..nout). */
static int run_node(const struct mg_opdef *d, const struct mg_attr *a, struct item *it,
		    const char *const *in, int nin, const char *const *out, int nout,
		    struct mg_err *e)
{
	struct mg_val vin[MG_STEP_MAXIO] = {0}, vout[MG_STEP_MAXIO] = {0};
	for (int i = 0; i < nin; i++) {
		struct mg_val *v = item_get(it, in[i]);
		if (!v)
			return mg_err_set(e, MG_ERR_CONFIG, "no key '%s'", in[i]);
		vin[i] = *v;
	}
	struct mg_kctx k = {.err = e, .key = in[0], .in_key = in};
	int rc = d->ref(a, vin, vout, &k);
	for (int i = 0; i < nout; i++) {
		if (!rc)
			item_set(it, out[i], &vout[i]);
		else
			mg_val_release(&vout[i]);
	}
	return rc;
}

/* The transform of case c on the item, as the frontend would build it. */
static int apply(const struct mg_opdef *d, const cJSON *c, struct item *it,
		 struct mg_arena *arena, struct mg_err *e)
{
	static const char *const skip[] = {"keys", NULL};
	const cJSON *args = cJSON_GetObjectItem(c, "args"), *keys = cJSON_GetObjectItem(args, "keys");
	const char *names[MG_MAX_KEYS];
	int nkeys = cJSON_IsArray(keys) ? cJSON_GetArraySize(keys) : 1;
	for (int i = 0; i < nkeys; i++)
		names[i] = cJSON_IsArray(keys) ? cJSON_GetArrayItem(keys, i)->valuestring
					       : keys->valuestring;
	struct mg_attr a[16];
	int rc = mg_attrs_parse(d, args, -1, nkeys, skip, arena, a, e);
	if (rc)
		return rc;
	if (!d->keys) { /* one node per key; data keys are read before any key changes */
		struct mg_val data[MG_MAX_KEYS][MG_STEP_MAXIO] = {0};
		const char *in[MG_MAX_KEYS][MG_STEP_MAXIO];
		int nin[MG_MAX_KEYS];
		for (int k = 0; k < nkeys; k++) {
			in[k][0] = names[k];
			nin[k] = 1;
			for (int j = 0; j < d->nattrs; j++)
				if ((d->attrs[j].flags & MG_ATTRF_KEY) && !a[j].is_none) {
					mg_val_share(&data[k][nin[k]], item_get(it, a[j].v.s), e);
					in[k][nin[k]++] = a[j].v.s;
				}
		}
		for (int k = 0; k < nkeys; k++) {
			struct mg_val vout = {0};
			data[k][0] = *item_get(it, names[k]);
			struct mg_kctx kc = {.err = e, .key = names[k], .in_key = in[k]};
			rc = rc ? rc : d->ref(a, data[k], &vout, &kc);
			for (int i = 1; i < nin[k]; i++)
				mg_val_release(&data[k][i]);
			if (!rc)
				item_set(it, names[k], &vout);
		}
		return rc;
	}
	struct mg_keyplan *p = calloc(1, sizeof *p);
	rc = d->keys(a, names, nkeys, p, arena, e);
	const cJSON *outs = cJSON_GetObjectItem(c, "outputs"), *o;
	for (int i = 0; !rc && i < p->nnodes; i++) {
		const struct mg_keynode *kn = &p->node[i];
		const struct mg_attr *at = kn->attrs ? kn->attrs : a;
		if (kn->family < 0) {
			rc = run_node(d, at, it, kn->in, kn->nin, kn->out, kn->nout, e);
			continue;
		}
		/* a family: the keys MONAI wrote, then the first one past them must fail */
		struct mg_attr fa[16];
		memcpy(fa, at, (size_t)d->nattrs * sizeof *fa);
		int64_t n = 0;
		cJSON_ArrayForEach(o, outs) {
			size_t pl = strlen(kn->out[0]);
			if (strncmp(o->string, kn->out[0], pl) || !o->string[pl])
				continue;
			fa[kn->family].v.i = strtol(o->string + pl, NULL, 10);
			rc = rc ? rc : run_node(d, fa, it, kn->in, 1, (const char *[]){o->string}, 1, e);
			n++;
		}
		struct mg_attr past[16];
		memcpy(past, fa, sizeof past);
		past[kn->family].v.i = n;
		struct mg_err e2 = {0};
		char key[128];
		snprintf(key, sizeof key, "%s%lld", kn->out[0], (long long)n);
		CHECK_FAILS(run_node(d, past, it, kn->in, 1, (const char *[]){key}, 1, &e2), &e2,
			    "does not exist");
	}
	for (int i = 0; !rc && i < p->nunbind; i++)
		for (int k = 0; k < it->n; k++)
			if (!strcmp(it->key[k], p->unbind[i]))
				it->gone[k] = 1;
	free(p);
	return rc;
}

/* Whether key is one of case c's "keys". */
static int in_keys(const cJSON *c, const char *key)
{
	const cJSON *keys = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "args"), "keys"), *k;
	if (cJSON_IsString(keys))
		return !strcmp(keys->valuestring, key);
	cJSON_ArrayForEach(k, keys)
		if (!strcmp(k->valuestring, key))
			return 1;
	return 0;
}

static void one_case(const cJSON *doc, const cJSON *c, int *count)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
	const char *opn = cJSON_GetStringValue(cJSON_GetObjectItem(c, "op"));
	char base[64];
	snprintf(base, sizeof base, "%.*s", (int)strlen(opn) - 1, opn); /* "SqueezeDimd" */
	const struct mg_opdef *d = golden_op(base);
	CHECK(d != NULL, "%s: unknown op %s", name, opn);
	if (!d)
		return;
	struct item it = {0};
	struct mg_err e = {0};
	const cJSON *items = cJSON_GetObjectItem(c, "items"), *j;
	cJSON_ArrayForEach(j, items) {
		struct mg_val v = {.kind = MG_VK_TENSOR};
		CHECK_OK(golden_load_input(GOLDEN, cJSON_GetObjectItem(doc, "inputs"),
					   j->valuestring, &v.t, &e), &e);
		item_set(&it, j->string, &v);
	}
	/* the inputs, held to the end, to tell views from copies by their buffers */
	struct item in = {.n = it.n};
	for (int i = 0; i < it.n; i++)
		mg_val_share(&in.val[i], &it.val[i], &e);
	struct mg_arena arena = {0};
	int rc = apply(d, c, &it, &arena, &e);
	CHECK(rc == 0, "%s: %s", name, e.msg);
	const cJSON *outs = cJSON_GetObjectItem(c, "outputs"), *o;
	int nout = 0;
	cJSON_ArrayForEach(o, outs) {
		nout++;
		struct mg_val *v = item_get(&it, o->string);
		CHECK(v != NULL, "%s: no key '%s'", name, o->string);
		struct mg_tensor want = {0};
		CHECK_OK(golden_read_npy(GOLDEN, cJSON_GetStringValue(cJSON_GetObjectItem(o, "file")),
					 &want, &e), &e);
		if (v && want.rank) {
			const struct mg_tensor *t = &v->t;
			CHECK(golden_same_shape(t, &want), "%s '%s': shape differs", name, o->string);
			CHECK(!strcmp(mg_dtype_name(t->dtype),
				      cJSON_GetStringValue(cJSON_GetObjectItem(o, "dtype"))),
			      "%s '%s': dtype %s", name, o->string, mg_dtype_name(t->dtype));
			if (golden_same_shape(t, &want))
				CHECK(golden_compare(name, t, &want, 0, 0, NULL) == 0,
				      "%s '%s': values differ", name, o->string);
			/* the sign of every zero too (0 * -x is -0.0 in torch) */
			int64_t neg = 0, wneg = 0;
			struct mg_tensor ct = {0}, cw = {0};
			if (mg_tensor_contiguous(&ct, t, &e) == 0 &&
			    mg_tensor_contiguous(&cw, &want, &e) == 0 && mg_dtype_is_float(t->dtype))
				for (int64_t k = 0; k < mg_tensor_numel(&ct); k++) {
					double g = mg_dtype_load(t->dtype, (char *)mg_tensor_data(&ct) +
									       k * (int64_t)mg_dtype_size(t->dtype));
					double w = mg_dtype_load(want.dtype, (char *)mg_tensor_data(&cw) +
									       k * (int64_t)mg_dtype_size(want.dtype));
					neg += g == 0 && signbit(g);
					wneg += w == 0 && signbit(w);
				}
			CHECK(neg == wneg, "%s '%s': %lld negative zeros, MONAI %lld", name,
			      o->string, (long long)neg, (long long)wneg);
			mg_tensor_release(&ct);
			mg_tensor_release(&cw);
			double aff[4][4];
			golden_matrix(cJSON_GetObjectItem(o, "affine"), aff);
			CHECK(t->meta && golden_max_diff(t->meta->affine, aff) <= 1e-12,
			      "%s '%s': affine differs by %g", name, o->string,
			      t->meta ? golden_max_diff(t->meta->affine, aff) : -1.0);
			/* the keys the transform wrote: views of an input, or (ConcatItems,
			 * MaskIntensity, HistogramNormalize) new storage; the others are the
			 * inputs themselves */
			int copies = d == golden_op("ConcatItems") || d == golden_op("MaskIntensity") ||
				     d == golden_op("HistogramNormalize");
			const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(
				cJSON_GetObjectItem(c, "args"), "name"));
			int written = !cJSON_GetObjectItem(items, o->string) ||
				      (nm && !strcmp(nm, o->string)) ||
				      (d != golden_op("ConcatItems") && in_keys(c, o->string));
			int shared = 0;
			for (int i = 0; i < in.n; i++)
				shared |= t->buf == in.val[i].t.buf;
			CHECK(shared == (!written || !copies), "%s '%s': %s", name, o->string,
			      shared ? "expected new storage" : "expected a view of an input");
		}
		mg_tensor_release(&want);
	}
	int live = 0;
	for (int i = 0; i < it.n; i++)
		live += !it.gone[i];
	CHECK(live == nout, "%s: %d keys, MONAI has %d", name, live, nout);
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(c, "deleted"))
		CHECK(!item_get(&it, o->valuestring), "%s: '%s' not deleted", name, o->valuestring);
	item_free(&it);
	item_free(&in);
	mg_arena_free(&arena);
	(*count)++;
}

/* ---- errors ---------------------------------------------------------------------------- */

static int plan_text(const char *op, const char *json, const char *const *keys, int nkeys,
		     struct mg_err *e)
{
	const struct mg_opdef *d = golden_op(op);
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	struct mg_keyplan *p = calloc(1, sizeof *p);
	int rc = golden_parse_text(d, json, &arena, a, e);
	if (!rc)
		rc = d->keys(a, keys, nkeys, p, &arena, e);
	free(p);
	mg_arena_free(&arena);
	return rc;
}

static void test_errors(void)
{
	struct mg_err e = {0};
	struct mg_tensor x = {0}, y = {0};
	int64_t dims[4] = {2, 5, 4, 3};
	CHECK_OK(mg_tensor_alloc(&x, MG_DTYPE_F32, 4, dims, &e), &e);
	memset(mg_tensor_data(&x), 0, (size_t)mg_tensor_numel(&x) * 4);
	CHECK_FAILS(golden_apply(golden_op("SqueezeDim"), "{\"dim\": 1}", &x, &y, &e), &e,
		    "dim 1 has size 5");
	CHECK_FAILS(golden_apply(golden_op("SqueezeDim"), "{\"dim\": -5}", &x, &y, &e), &e,
		    "dim -5 is not an axis");
	CHECK_FAILS(golden_apply(golden_op("SplitDim"), "{\"dim\": 4, \"index\": 0}", &x, &y, &e),
		    &e, "dim 4 is not an axis");
	CHECK_FAILS(golden_apply(golden_op("MaskIntensity"), "{}", &x, &y, &e), &e,
		    "needs mask_key");
	struct mg_arena arena = {0};
	struct mg_attr a[16];
	CHECK_FAILS(golden_parse_text(golden_op("MaskIntensity"), "{\"mask_data\": [[1, 0]]}",
				      &arena, a, &e), &e, "'mask_data' is not supported");
	CHECK_FAILS(golden_parse_text(golden_op("HistogramNormalize"), "{\"mask\": [1, 0]}",
				      &arena, a, &e), &e, "'mask' is not supported (only null): a "
		    "Python array: cannot be given in a pipeline file; use mask_key");
	mg_arena_free(&arena);
	const char *two[] = {"img", "lab"};
	CHECK_FAILS(plan_text("CopyItems", "{\"times\": 2, \"names\": [\"a\", \"b\", \"c\"]}",
			      two, 2, &e), &e, "names has 3 entries for keys 'img'");
	CHECK_FAILS(plan_text("CopyItems", "{\"times\": 0}", two, 2, &e), &e,
		    "times must be positive");
	CHECK_FAILS(plan_text("CopyItems", "{\"times\": 17}", two, 1, &e), &e, "at most 16");
	CHECK_FAILS(plan_text("SplitDim", "{\"list_output\": true}", two, 1, &e), &e,
		    "list_output=true");
	CHECK_FAILS(plan_text("DeleteItems", "{\"use_re\": true}", two, 1, &e), &e, "use_re");
	const char *nested[] = {"meta.x"};
	CHECK_FAILS(plan_text("DeleteItems", "{}", nested, 1, &e), &e, "nested");
	/* ConcatItems of mismatched shapes names both keys and shapes */
	struct mg_tensor z = {0};
	int64_t zd[4] = {1, 5, 3, 3};
	CHECK_OK(mg_tensor_alloc(&z, MG_DTYPE_F32, 4, zd, &e), &e);
	struct mg_val in[MG_STEP_MAXIO] = {{.kind = MG_VK_TENSOR, .t = x},
					   {.kind = MG_VK_TENSOR, .t = z}};
	struct mg_val out = {0};
	const char *keys[] = {"t1", "flair"};
	struct mg_kctx k = {.err = &e, .key = "t1", .in_key = keys};
	CHECK_OK(golden_parse_text(golden_op("ConcatItems"), "{\"name\": \"x\"}", &arena, a, &e),
		 &e);
	CHECK_FAILS(golden_op("ConcatItems")->ref(a, in, &out, &k), &e,
		    "key 'flair' has shape (1, 5, 3, 3) and key 't1' has (2, 5, 4, 3)");
	/* a mask of 3 channels on a 2-channel image */
	int64_t md[4] = {3, 5, 4, 3};
	struct mg_tensor m = {0};
	CHECK_OK(mg_tensor_alloc(&m, MG_DTYPE_F32, 4, md, &e), &e);
	in[1].t = m;
	CHECK_OK(golden_parse_text(golden_op("MaskIntensity"), "{\"mask_key\": \"m\"}", &arena, a,
				   &e), &e);
	CHECK_FAILS(golden_op("MaskIntensity")->ref(a, in, &out, &k), &e,
		    "the mask 'm' has 3 channels and the image 2");
	mg_arena_free(&arena);
	/* select_fn outside the subset: refused by the type rule and the kernel */
	CHECK_OK(golden_parse_text(golden_op("MaskIntensity"), "{\"mask_key\": \"m\", "
				   "\"select_fn\": \"$lambda x: x > 0 or x < -1\"}", &arena, a, &e),
		 &e);
	struct mg_type tin[2] = {{.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4},
				 {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_F32, .rank = 4}},
		       tout;
	CHECK_FAILS(golden_op("MaskIntensity")->infer(a, tin, &tout, &e), &e,
		    "MaskIntensity: select_fn '$lambda x: x > 0 or x < -1' is not supported "
		    "(unexpected text after the comparison)");
	in[1].t = x;
	CHECK_FAILS(golden_op("MaskIntensity")->ref(a, in, &out, &k), &e,
		    "MaskIntensity: select_fn '$lambda x: x > 0 or x < -1' is not supported");
	mg_arena_free(&arena);
	/* HistogramNormalize: a mask of another shape names both keys; a mask selecting
	 * nothing in an integer image fails as MONAI does (skimage's empty histogram) */
	in[1].t = m;
	CHECK_OK(golden_parse_text(golden_op("HistogramNormalize"), "{\"mask_key\": \"m\"}",
				   &arena, a, &e), &e);
	CHECK_FAILS(golden_op("HistogramNormalize")->ref(a, in, &out, &k), &e,
		    "HistogramNormalize: the mask 'm' has size 3 on axis 0 and the image 't1' 2");
	tin[1].rank = 3;
	CHECK_FAILS(golden_op("HistogramNormalize")->infer(a, tin, &tout, &e), &e,
		    "HistogramNormalize: the mask 'm' has rank 3 and the image rank 4");
	tin[1].kind = MG_VK_STRINGS;
	CHECK_FAILS(golden_op("HistogramNormalize")->infer(a, tin, &tout, &e), &e,
		    "mask_key 'm' names a key that holds no image here");
	struct mg_tensor xi = {0};
	CHECK_OK(mg_tensor_alloc(&xi, MG_DTYPE_I16, 4, dims, &e), &e);
	memset(mg_tensor_data(&xi), 0, (size_t)mg_tensor_numel(&xi) * 2);
	in[0].t = xi;
	in[1].t = xi; /* all zero: selects nothing */
	CHECK_FAILS(golden_op("HistogramNormalize")->ref(a, in, &out, &k), &e,
		    "HistogramNormalize: the mask 'm' selects no voxel of the integer image");
	CHECK(out.kind == MG_VK_NONE, "HistogramNormalize: no output after a failure");
	mg_tensor_release(&xi);
	mg_arena_free(&arena);
	mg_tensor_release(&m);
	mg_tensor_release(&z);
	mg_tensor_release(&x);
}

int main(void)
{
	cJSON *doc = golden_load_cases(GOLDEN);
	test_errors();
	if (doc) {
		int n = 0;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
			one_case(doc, c, &n);
		printf("%d utility cases\n", n);
	}
	cJSON_Delete(doc);
	return check_done();
}
