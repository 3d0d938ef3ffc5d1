/* test_fuse_elementwise.c: the fuse-elementwise pass. The same pipelines run with the pass
 * on and off (--disable=fuse-elementwise) over synthetic oblique LPS CTs must give
 * bit-identical outputs (dtype, shape, affine and every byte of the data): the fused
 * node composes the members' reference kernels in order. Runs follow each key, stop at
 * a change of allow_missing_keys and at a spatial op, and leave a value read twice
 * alone; an error inside a fused node names the member. */
#include "../frontend/build.h"
#include "../passes/passes.h"
#include "check.h"
#include "files.h"
#include "fuse_pair.h"

static char log_[32768];

/* Output `name` ("img"/"lab") of item i under both folders: the same dtype, shape,
 * affine and bytes. */
static void compare(const char *a_dir, const char *b_dir, int i, const char *name)
{
	char pa[512];
	struct mg_tensor a, b;
	if (!fuse_read_pair(a_dir, b_dir, i, name, pa, &a, &b)) {
		CHECK(a.dtype == b.dtype, "%s: dtype %s vs %s", pa, mg_dtype_name(a.dtype),
		      mg_dtype_name(b.dtype));
		CHECK(a.rank == b.rank && !memcmp(a.dims, b.dims, sizeof a.dims[0] * a.rank),
		      "%s: shapes differ", pa);
		CHECK(!memcmp(a.meta->affine, b.meta->affine, sizeof a.meta->affine),
		      "%s: affines differ", pa);
		int64_t n = mg_tensor_numel(&a);
		CHECK(n == mg_tensor_numel(&b) && a.dtype == b.dtype &&
		      !memcmp(mg_tensor_data(&a), mg_tensor_data(&b),
			      (size_t)n * mg_dtype_size(a.dtype)),
		      "%s: values differ", pa);
	}
	mg_tensor_release(&a);
	mg_tensor_release(&b);
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* Runs the pipeline with the pass on and off, compares every item's outputs bit for bit
 * and leaves the dump after the pass in log_. */
static void both_ways(const char *tag, const char *middle)
{
	char on[272], off[272];
	const char *keep = ", \"output_dtype\": null";
	fuse_run_both(tag, "fuse-elementwise", middle, keep, keep, log_, sizeof log_, on, off);
	for (int i = 0; i < 2; i++) {
		compare(on, off, i, "img");
		compare(on, off, i, "lab");
	}
	int rc = files_sh(log_, sizeof log_, "%s dump %s --after=fuse-elementwise", MG_BIN,
			  files_path(tag));
	CHECK(rc == 0, "%s dump: %s", tag, log_);
}

/* Builds load -> ScaleIntensityRange -> NormalizeIntensity on one key, plus a CastToType
 * reading the ScaleIntensityRange's output too when `cast`; outputs[] as asked (0: the
 * ScaleIntensityRange's value, 1: NormalizeIntensity's, 2: CastToType's). */
static struct mg_graph *small_graph(int cast, const int *outputs, int nout, struct mg_err *e)
{
	struct mg_graph *g = mg_graph_new("shared");
	struct mg_attr la[16], sa[16], na[16], ca[16];
	cJSON *lj = cJSON_Parse("{}"), *sj = cJSON_Parse("{\"a_min\": 0, \"a_max\": 10}");
	int32_t v[3] = {-1, -1, -1}, node = -1;
	if (!mg_attrs_parse(mg_ops[MG_OP_LoadImage], lj, -1, 1, NULL, &g->arena, la, e) &&
	    !mg_attrs_parse(mg_ops[MG_OP_ScaleIntensityRange], sj, -1, 1, NULL, &g->arena, sa,
			    e) &&
	    !mg_attrs_parse(mg_ops[MG_OP_NormalizeIntensity], lj, -1, 1, NULL, &g->arena, na, e) &&
	    !mg_attrs_parse(mg_ops[MG_OP_CastToType], lj, -1, 1, NULL, &g->arena, ca, e)) {
		int32_t in = mg_graph_input(g, "image", e);
		node = in < 0 ? -1 : mg_graph_add_node(g, MG_OP_LoadImage, &in, 1, la, "load", e);
		node = node < 0 ? -1 : mg_graph_add_node(g, MG_OP_ScaleIntensityRange,
							 &g->nodes[node].out[0], 1, sa, "s", e);
		v[0] = node < 0 ? -1 : g->nodes[node].out[0];
		node = node < 0 ? -1 : mg_graph_add_node(g, MG_OP_NormalizeIntensity, &v[0], 1, na,
							 "n", e);
		v[1] = node < 0 ? -1 : g->nodes[node].out[0];
		if (cast && node >= 0) {
			node = mg_graph_add_node(g, MG_OP_CastToType, &v[0], 1, ca, "c", e);
			v[2] = node < 0 ? -1 : g->nodes[node].out[0];
		}
	}
	cJSON_Delete(lj);
	cJSON_Delete(sj);
	int32_t outs[3];
	for (int i = 0; i < nout; i++)
		outs[i] = v[outputs[i]];
	if (node < 0 || mg_graph_set_outputs(g, outs, nout, e)) {
		mg_graph_free(g);
		return NULL;
	}
	return g;
}

/* A value read twice (by two nodes, or by a node and as a graph output) stays. */
static void shared_value(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = small_graph(1, (int[]){1, 2}, 2, &e);
	CHECK(g, "building: %s", e.msg);
	if (g) {
		CHECK_OK(mg_pass_fuse_elementwise(g, &e), &e);
		CHECK(g->nnodes == 4 && g->nodes[1].op == MG_OP_ScaleIntensityRange,
		      "a value read by two nodes is not fused away");
		mg_graph_free(g);
	}
	g = small_graph(0, (int[]){0, 1}, 2, &e);
	CHECK(g, "building: %s", e.msg);
	if (g) {
		CHECK_OK(mg_pass_fuse_elementwise(g, &e), &e);
		CHECK(g->nnodes == 3 && g->nodes[1].op == MG_OP_ScaleIntensityRange &&
		      g->nodes[2].op == MG_OP_NormalizeIntensity,
		      "a value read by a node and as an output is not fused away");
		/* read once, the two fuse and the graph stays valid */
		int32_t in = g->nodes[1].in[0], out = g->nodes[2].out[0];
		CHECK_OK(mg_graph_set_outputs(g, &out, 1, &e), &e);
		CHECK_OK(mg_pass_fuse_elementwise(g, &e), &e);
		CHECK(g->nnodes == 2 && g->nodes[1].op == MG_OP_FusedElementwise &&
		      g->nodes[1].attrs[0].v.chain->n == 2 && g->nodes[1].in[0] == in &&
		      g->nodes[1].out[0] == out);
		CHECK_OK(mg_graph_verify(g, &e), &e);
		CHECK_OK(mg_graph_infer(g, &e), &e);
		mg_graph_free(g);
	}
}

int main(void)
{
	if (files_init("mg_fusee_"))
		return 1;
	int rc = files_sh(log_, sizeof log_, "%s synth %s --n 2 --size 40x36x14 --seed 7",
			  MG_BIN, files_path("data"));
	CHECK(rc == 0, "synth: %s", log_);
	/* the chain, over two keys with a dtype per key: a second ScaleIntensityRange
	 * spreads the normalised values so the int16 cast keeps information. The nonzero
	 * statistics must see the first member's output (air clipped to 0 is left out),
	 * which composing in order guarantees */
	both_ways("chain.json",
		  "{\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", \"label\"], "
		  "\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1, \"clip\": true},\n"
		  "  {\"_target_\": \"NormalizeIntensityd\", \"keys\": [\"image\", \"label\"], "
		  "\"nonzero\": true},\n"
		  "  {\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", \"label\"], "
		  "\"a_min\": -3, \"a_max\": 3, \"b_min\": -1000, \"b_max\": 1000},\n"
		  "  {\"_target_\": \"CastToTyped\", \"keys\": [\"image\", \"label\"], "
		  "\"dtype\": [\"int16\", \"float64\"]}");
	CHECK(count(log_, "FusedElementwise(") == 2 && !strstr(log_, "NormalizeIntensity(") &&
	      strstr(log_, "chain=[ScaleIntensityRange{") &&
	      strstr(log_, "; NormalizeIntensity{") && strstr(log_, "CastToType{dtype=int16}]") &&
	      strstr(log_, "CastToType{dtype=float64}]"),
	      "chain: one fused node per key: %s", log_);
	/* allow_missing_keys: a key absent from the items fuses like the others (its fused
	 * node is skipped at run time); a member that disagrees on it ends the run */
	both_ways("missing.json",
		  "{\"_target_\": \"LoadImaged\", \"keys\": \"extra\", "
		  "\"allow_missing_keys\": true},\n"
		  "  {\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", \"label\", "
		  "\"extra\"], \"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1, "
		  "\"allow_missing_keys\": true},\n"
		  "  {\"_target_\": \"NormalizeIntensityd\", \"keys\": [\"image\", \"label\", "
		  "\"extra\"], \"nonzero\": true, \"allow_missing_keys\": true},\n"
		  "  {\"_target_\": \"CastToTyped\", \"keys\": [\"image\", \"label\"], "
		  "\"dtype\": \"float16\"}");
	CHECK(count(log_, "FusedElementwise(") == 3 && count(log_, "CastToType(") == 2 &&
	      !strstr(log_, "CastToType{"), "missing: %s", log_);
	/* a spatial op between two elementwise runs: two fused nodes per key, and the
	 * spatial pair between them still fuses */
	both_ways("spatial.json",
		  "{\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", \"label\"], "
		  "\"a_min\": -57, \"a_max\": 164, \"b_min\": 0, \"b_max\": 1, \"clip\": true},\n"
		  "  {\"_target_\": \"NormalizeIntensityd\", \"keys\": [\"image\", \"label\"], "
		  "\"nonzero\": true, \"dtype\": null},\n"
		  "  {\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Flipd\", \"keys\": [\"image\", \"label\"], \"spatial_axis\": 1},\n"
		  "  {\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", \"label\"], "
		  "\"a_min\": -3, \"a_max\": 3, \"b_min\": -1000, \"b_max\": 1000},\n"
		  "  {\"_target_\": \"CastToTyped\", \"keys\": [\"image\", \"label\"], "
		  "\"dtype\": \"int16\"}");
	CHECK(count(log_, "FusedElementwise(") == 4 && count(log_, "FusedSpatial(") == 2,
	      "spatial: two elementwise runs per key around the spatial one: %s", log_);
	/* an error inside a fused node names the member that failed (here only at run time,
	 * when the channel count is known) */
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s", files_path("bad.json"));
	fuse_write_pipeline(cfg, files_path("bad.out"),
			    "{\"_target_\": \"ScaleIntensityRanged\", \"keys\": [\"image\", "
			    "\"label\"], \"a_min\": -57, \"a_max\": 164},\n"
			    "  {\"_target_\": \"NormalizeIntensityd\", \"keys\": [\"image\", "
			    "\"label\"], \"channel_wise\": true, \"subtrahend\": [0, 1]}",
			    ", \"output_dtype\": null", ", \"output_dtype\": null");
	rc = files_sh(log_, sizeof log_, "%s run %s --quiet", MG_BIN, cfg);
	CHECK(rc != 0 && strstr(log_, "(FusedElementwise): preprocessing#transforms#3 key "
				      "'image' (fused NormalizeIntensity): img has 1 channels, "
				      "but subtrahend has 2 components"),
	      "bad: %s", log_);
	shared_value();
	rc = files_sh(log_, sizeof log_, "%s dump %s --disable=fuse-elementwse", MG_BIN, cfg);
	CHECK(rc == 1 && strstr(log_, "no pass named 'fuse-elementwse'") &&
	      strstr(log_, "fuse-spatial, fuse-elementwise, infer-types"), "%s", log_);
	files_done();
	return check_done();
}
