/* test_plan_io.c: plans to bytes and back (runtime/plan_io.c) on a plan with every kind
 * of argument (a fused chain included), its data source and a run-time parameter: the
 * round trip is byte-exact and resolves the same kernels; every truncation and every
 * corrupted byte (with the checksum fixed up, so the structure is what is tested) is a
 * clean error or a valid plan, never a crash; another format, an unknown op and a
 * template naming no parameter are refused with messages that say so. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../frontend/build.h"
#include "../ops/op.h"
#include "../ops/optab.h"
#include "../passes/passes.h"
#include "check.h"
#include "files.h"

static const char pipeline[] =
	"{\"output_dir\": \"OUT\", \"dataset\": {\"_target_\": \"Dataset\",\n"
	" \"data\": [{\"image\": \"a.nii.gz\", \"label\": \"b.nii.gz\"}],\n"
	" \"transform\": [\n"
	"  {\"_target_\": \"LoadImaged\", \"keys\": [\"image\", \"label\"]},\n"
	"  {\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\", \"label\"]},\n"
	"  {\"_target_\": \"CopyItemsd\", \"keys\": \"label\", \"names\": [\"seg\"]},\n"
	"  {\"_target_\": \"Spacingd\", \"keys\": \"image\", \"pixdim\": [1.5, 1.5, 2.0]},\n"
	"  {\"_target_\": \"Orientationd\", \"keys\": \"image\", \"axcodes\": \"RAS\"},\n"
	"  {\"_target_\": \"Flipd\", \"keys\": \"image\", \"spatial_axis\": [0, 2]},\n"
	"  {\"_target_\": \"ScaleIntensityRanged\", \"keys\": \"image\", \"a_min\": -57.5,\n"
	"   \"a_max\": 164, \"b_min\": 0.0, \"b_max\": 1.0, \"clip\": true},\n"
	"  {\"_target_\": \"CastToTyped\", \"keys\": \"image\", \"dtype\": \"float16\"},\n"
	"  {\"_target_\": \"SaveImaged\", \"keys\": \"image\", \"output_dir\": \"@output_dir\"}]}}\n";

/* The pipeline's plan and data source as a blob, output_dir overridden by `od` (NULL:
 * as written) and params[0..np) declared. */
static int make_blob(const char *od, const struct mg_plan_param *params, int np, void **blob,
		     size_t *n, struct mg_err *e)
{
	const char *files[] = {files_path("p.json")}, *ov[1] = {od};
	struct mg_config cfg = {0};
	struct mg_program p = {0};
	struct mg_arena pa = {0};
	struct mg_plan *plan = NULL;
	struct mg_pass_opts po = {0};
	int rc = mg_config_load(&cfg, files, 1, ov, od ? 1 : 0, e);
	if (!rc)
		rc = mg_program_build(&cfg, "dataset", &p, e);
	if (!rc)
		rc = mg_passes_run(p.graph, &po, e);
	if (!rc)
		rc = mg_program_datasrc(&p, e);
	if (!rc)
		rc = mg_graph_lower(p.graph, &pa, &plan, e);
	if (!rc)
		rc = mg_plan_write(plan, &p.src, params, np, &mg_ops_optab, blob, n, e);
	mg_arena_free(&pa);
	mg_program_free(&p);
	mg_config_free(&cfg);
	return rc;
}

/* The CRC of b[0..n-4) into its last 4 bytes, as the writer puts it. */
static void fix_crc(unsigned char *b, size_t n)
{
	uint32_t c = (uint32_t)crc32(0, b, (uInt)(n - 4));
	for (int i = 0; i < 4; i++)
		b[n - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
}

static const struct mg_step *find_step(const struct mg_plan *p, const char *op)
{
	for (int i = 0; i < p->nsteps; i++)
		if (!strcmp(p->steps[i].op, op))
			return &p->steps[i];
	return NULL;
}

/* The arguments of op, a step of its own or a member of a fused chain. */
static const struct mg_attr *find_attrs(const struct mg_plan *p, enum mg_op op)
{
	for (int i = 0; i < p->nsteps; i++) {
		const struct mg_step *s = &p->steps[i];
		if (!strcmp(s->op, mg_ops[op]->name))
			return s->attrs;
		const struct mg_opdef *d = mg_ops[mg_op_find(s->op)];
		for (int k = 0; k < d->nattrs; k++)
			for (int j = 0; d->attrs[k].type == MG_ATTR_CHAIN && !s->attrs[k].is_none &&
					j < s->attrs[k].v.chain->n; j++)
				if (s->attrs[k].v.chain->ops[j] == op)
					return s->attrs[k].v.chain->attrs[j];
	}
	return NULL;
}

static void test_round_trip(void)
{
	struct mg_err e = {0};
	void *blob = NULL, *back = NULL;
	size_t n = 0, nb = 0;
	struct mg_plan_file f;
	CHECK_OK(make_blob(NULL, NULL, 0, &blob, &n, &e), &e);
	CHECK_OK(mg_plan_read(&f, blob, n, &mg_ops_optab, &e), &e);
	if (e.code)
		return;
	CHECK_OK(mg_plan_write(f.plan, f.data, NULL, 0, &mg_ops_optab, &back, &nb, &e), &e);
	CHECK(nb == n && !memcmp(back, blob, n), "written again, the blob is the same");
	const struct mg_step *fs = find_step(f.plan, "FusedSpatial");
	CHECK(fs && fs->fn == mg_ops[MG_OP_FusedSpatial]->ref, "the kernel is resolved by name");
	const struct mg_chain *c = fs ? fs->attrs[0].v.chain : NULL;
	CHECK(c && c->n == 3 && c->ops[0] == MG_OP_Spacing && c->ops[2] == MG_OP_Flip &&
	      c->attrs[2][0].n == 2 && c->attrs[2][0].v.ints[1] == 2, "the chain and its lists");
	const struct mg_attr *sc = find_attrs(f.plan, MG_OP_ScaleIntensityRange);
	CHECK(sc && sc[0].v.f == -57.5 && sc[4].v.i == 1);
	const struct mg_attr *ct = find_attrs(f.plan, MG_OP_CastToType);
	CHECK(ct && ct[0].v.i == MG_DTYPE_F16);
	const struct mg_attr *cp = find_attrs(f.plan, MG_OP_CopyItems);
	int k = mg_op_attr_index(mg_ops[MG_OP_CopyItems], "names");
	CHECK(cp && cp[k].n == 1 && !strcmp(cp[k].v.strs[0], "seg"), "a string list");
	CHECK(f.data->kind == MG_DATASRC_ITEMS && f.data->items.n == 1 &&
	      !strcmp(mg_item_get(&f.data->items.items[0], "label")->str[0], "b.nii.gz"));
	mg_plan_file_free(&f);
	free(back);
	free(blob);
}

static void test_params(void)
{
	struct mg_err e = {0};
	void *blob = NULL, *back = NULL;
	size_t n = 0, nb = 0;
	struct mg_plan_param par = {"output_dir", "out_a"};
	struct mg_plan_file f;
	const char *marker = "output_dir=\"\\u0001" "0\\u0002/x\"";
	CHECK_FAILS(make_blob(marker, NULL, 0, &blob, &n, &e), &e, "names no parameter");
	mg_err_clear(&e);
	CHECK_OK(make_blob(marker, &par, 1, &blob, &n, &e), &e);
	CHECK_OK(mg_plan_read(&f, blob, n, &mg_ops_optab, &e), &e);
	if (e.code)
		return;
	const struct mg_step *save = find_step(f.plan, "SaveImage");
	int k = mg_op_attr_index(mg_ops[MG_OP_SaveImage], "output_dir");
	CHECK(f.nparams == 1 && !strcmp(save->attrs[k].v.s, "out_a/x"));
	CHECK_OK(mg_plan_set_param(&f, "output_dir", "elsewhere", &e), &e);
	CHECK(!strcmp(save->attrs[k].v.s, "elsewhere/x"), "%s", save->attrs[k].v.s);
	CHECK_FAILS(mg_plan_set_param(&f, "outdir", "x", &e), &e, "parameters: output_dir");
	/* rendered, the plan is the one built with the value itself */
	mg_err_clear(&e);
	mg_plan_set_param(&f, "output_dir", "OUT", &e);
	CHECK_OK(mg_plan_write(f.plan, f.data, NULL, 0, &mg_ops_optab, &back, &nb, &e), &e);
	free(blob);
	CHECK_OK(make_blob("output_dir=OUT/x", NULL, 0, &blob, &n, &e), &e);
	CHECK(nb == n && !memcmp(back, blob, n));
	mg_plan_file_free(&f);
	free(back);
	free(blob);
}

/* Reads b[0..n): a clean error or a plan, never a crash (ASan watches); 1 on error. */
static int read_fails(const unsigned char *b, size_t n)
{
	struct mg_err e = {0};
	struct mg_plan_file f;
	int rc = mg_plan_read(&f, b, n, &mg_ops_optab, &e);
	CHECK(!rc || e.msg[0], "a failure has a message");
	mg_plan_file_free(&f);
	return rc != 0;
}

static void test_damage(void)
{
	struct mg_err e = {0};
	void *blob = NULL;
	size_t n = 0;
	CHECK_OK(make_blob(NULL, NULL, 0, &blob, &n, &e), &e);
	if (e.code)
		return;
	unsigned char *b = malloc(n);
	int kept = 0, refused = 0;
	for (size_t k = 0; k < n; k++) { /* every truncation, its checksum made right */
		memcpy(b, blob, k);
		if (k >= 16)
			fix_crc(b, k);
		kept += !read_fails(b, k);
	}
	CHECK(kept == 0, "%d truncated blobs were read", kept);
	for (size_t i = 0; i < n - 4; i++) { /* every byte changed */
		memcpy(b, blob, n);
		b[i] ^= 0x5a;
		CHECK(read_fails(b, n), "a changed byte fails the checksum");
		fix_crc(b, n);
		refused += read_fails(b, n);
	}
	CHECK(refused > (int)n / 2, "most changes are refused (%d of %zu)", refused, n);
	struct mg_plan_file f;
	memcpy(b, blob, n);
	b[8] = 2;
	fix_crc(b, n);
	CHECK_FAILS(mg_plan_read(&f, b, n, &mg_ops_optab, &e), &e, "format 2, this mgc reads");
	mg_plan_file_free(&f);
	mg_err_clear(&e);
	memcpy(b, blob, n);
	unsigned char *flip = memmem(b, n, "Flip", 4);
	if (flip)
		memcpy(flip, "Flap", 4);
	fix_crc(b, n);
	CHECK_FAILS(mg_plan_read(&f, b, n, &mg_ops_optab, &e), &e,
		    "op 'Flap', which this build of mgc does not have");
	mg_plan_file_free(&f);
	mg_err_clear(&e);
	CHECK_FAILS(mg_plan_read(&f, "{}", 2, &mg_ops_optab, &e), &e, "not an mgc plan");
	mg_plan_file_free(&f);
	free(b);
	free(blob);
}

int main(void)
{
	if (files_init("mg_plan_io_"))
		return 1;
	FILE *fp = fopen(files_path("p.json"), "w");
	fputs(pipeline, fp);
	fclose(fp);
	test_round_trip();
	test_params();
	test_damage();
	files_done();
	return check_done();
}
