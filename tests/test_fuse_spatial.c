/* test_fuse_spatial.c: the fuse-spatial pass. The same pipelines run with the pass on and
 * off (--disable=fuse-spatial) over synthetic oblique LPS CTs must give the same shapes
 * and affines, values within interpolation rounding, and bit-identical results for
 * chains of index-only ops; a value read by another op must not be fused away. */
#include <sys/stat.h>

#include "../frontend/build.h"
#include "../passes/passes.h"
#include "check.h"
#include "files.h"
#include "fuse_pair.h"

static char log_[16384];

/* Output `name` ("img"/"lab") of item i under both folders: same shape and affine,
 * values within tol (0: bit-identical) and their mean absolute difference within mean
 * (the bound for a fused chain that interpolates once where the unfused one did twice). */
static void compare(const char *a_dir, const char *b_dir, int i, const char *name, double tol,
		    double mean)
{
	char pa[512];
	struct mg_tensor a, b;
	if (!fuse_read_pair(a_dir, b_dir, i, name, pa, &a, &b)) {
		CHECK(a.rank == b.rank && !memcmp(a.dims, b.dims, sizeof a.dims[0] * a.rank),
		      "%s: shapes differ", pa);
		for (int r = 0; r < 4; r++)
			for (int c = 0; c < 4; c++)
				CHECK(a.meta->affine[r][c] == b.meta->affine[r][c],
				      "%s: affine[%d][%d] %.17g vs %.17g", pa, r, c,
				      a.meta->affine[r][c], b.meta->affine[r][c]);
		int64_t n = mg_tensor_numel(&a), bad = 0;
		double worst = 0, sum = 0;
		const char *x = mg_tensor_data(&a), *y = mg_tensor_data(&b);
		size_t es = mg_dtype_size(a.dtype);
		for (int64_t k = 0; k < n && n == mg_tensor_numel(&b); k++) {
			double d = fabs(mg_dtype_load(a.dtype, x + k * (int64_t)es) -
					mg_dtype_load(b.dtype, y + k * (int64_t)es));
			worst = d > worst ? d : worst;
			sum += d;
			bad += d > tol;
		}
		CHECK(bad == 0, "%s: %lld values differ by more than %g (worst %g)", pa,
		      (long long)bad, tol, worst);
		CHECK(sum <= mean * (double)n, "%s: mean difference %g, more than %g", pa,
		      sum / (double)n, mean);
		if (isinf(tol))
			printf("%s: worst %g, mean %g\n", pa, worst, sum / (double)n);
	}
	mg_tensor_release(&a);
	mg_tensor_release(&b);
}

/* Runs the spatial part fused and unfused; compares every item's outputs (each value
 * within tol_*, the mean difference within mean_*). */
static void both_ways(const char *tag, const char *spatial, double tol_img, double mean_img,
		      double tol_lab, double mean_lab)
{
	char on[272], off[272];
	fuse_run_both(tag, "fuse-spatial", spatial, "", ", \"output_dtype\": \"uint8\"", log_,
		      sizeof log_, on, off);
	int rc = files_sh(log_, sizeof log_, "%s dump %s --after=fuse-spatial", MG_BIN,
			  files_path(tag));
	CHECK(rc == 0 && strstr(log_, "FusedSpatial(") && strstr(log_, "chain=["), "%s: %s",
	      tag, log_);
	for (int i = 0; i < 2; i++) {
		compare(on, off, i, "img", tol_img, mean_img);
		compare(on, off, i, "lab", tol_lab, mean_lab);
	}
}

/* A spatial value read twice (here: a graph output and a Flip) must stay. */
static void shared_value(void)
{
	struct mg_err e = {0};
	struct mg_graph *g = mg_graph_new("shared");
	struct mg_attr la[16], oa[16], fa[16];
	cJSON *lj = cJSON_Parse("{}"), *oj = cJSON_Parse("{\"axcodes\": \"RAS\"}");
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_LoadImage], lj, -1, 1, NULL, &g->arena, la, &e), &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_Orientation], oj, -1, 1, NULL, &g->arena, oa, &e), &e);
	CHECK_OK(mg_attrs_parse(mg_ops[MG_OP_Flip], lj, -1, 1, NULL, &g->arena, fa, &e), &e);
	int32_t in = mg_graph_input(g, "image", &e);
	int32_t n0 = mg_graph_add_node(g, MG_OP_LoadImage, &in, 1, la, "load", &e);
	int32_t n1 = n0 < 0 ? -1 : mg_graph_add_node(g, MG_OP_Orientation,
							&g->nodes[n0].out[0], 1, oa, "o", &e);
	int32_t n2 = n1 < 0 ? -1 : mg_graph_add_node(g, MG_OP_Flip, &g->nodes[n1].out[0], 1, fa,
							"f", &e);
	CHECK(n2 >= 0, "building: %s", e.msg);
	if (n2 < 0) {
		mg_graph_free(g);
		return;
	}
	int32_t v = g->nodes[n0].out[0], o = g->nodes[n1].out[0], f = g->nodes[n2].out[0];
	CHECK_OK(mg_graph_set_outputs(g, (int32_t[]){o, f}, 2, &e), &e);
	CHECK_OK(mg_pass_fuse_spatial(g, &e), &e);
	CHECK(g->nnodes == 3 && g->nodes[1].op == MG_OP_Orientation && g->nodes[2].op == MG_OP_Flip,
	      "a value read twice is not fused away");
	/* read once, the two fuse and the graph stays valid */
	CHECK_OK(mg_graph_set_outputs(g, &f, 1, &e), &e);
	CHECK_OK(mg_pass_fuse_spatial(g, &e), &e);
	CHECK(g->nnodes == 2 && g->nodes[1].op == MG_OP_FusedSpatial &&
	      g->nodes[1].attrs[0].v.chain->n == 2 && g->nodes[1].in[0] == v &&
	      g->nodes[1].out[0] == f);
	CHECK_OK(mg_graph_verify(g, &e), &e);
	CHECK_OK(mg_graph_infer(g, &e), &e);
	cJSON_Delete(lj);
	cJSON_Delete(oj);
	mg_graph_free(g);
}

int main(void)
{
	if (files_init("mg_fuse_"))
		return 1;
	int rc = files_sh(log_, sizeof log_, "%s synth %s --n 2 --size 40x36x14 --seed 5",
			  MG_BIN, files_path("data"));
	CHECK(rc == 0, "synth: %s", log_);
	/* index-only: flips and permutations compose to a view, bit for bit */
	both_ways("index.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Flipd\", \"keys\": [\"image\", \"label\"], \"spatial_axis\": 1},\n"
		  "  {\"_target_\": \"Rotate90d\", \"keys\": [\"image\", \"label\"], \"k\": 3}",
		  0, 0, 0, 0);
	/* the spleen chain's spatial part: one resampling instead of a view + a resampling.
	 * Both compute in float64 and round once to float32; the composed matrix differs
	 * from the two-step one by a few ulps of float64, so outputs agree to float32
	 * rounding (values are HU up to ~1000: 1e-3 absolute is a few float32 ulps), and
	 * nearest labels exactly. */
	both_ways("spacing.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Spacingd\", \"keys\": [\"image\", \"label\"], "
		  "\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", \"nearest\"]}",
		  1e-3, 1e-3, 0, 0);
	/* CropForeground reads the voxels: a fusion barrier after the fused pair, with its
	 * box taken from the resampled image either way */
	both_ways("crop.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Spacingd\", \"keys\": [\"image\", \"label\"], "
		  "\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", \"nearest\"]},\n"
		  "  {\"_target_\": \"CropForegroundd\", \"keys\": [\"image\", \"label\"], "
		  "\"margin\": 2, \"k_divisible\": 8, \"mode\": \"edge\"}",
		  1e-3, 1e-3, 0, 0);
	/* Rotate by a quarter turn (keep_size false: the voxel centres map onto voxel centres,
	 * an exact copy) between Orientation and Spacing: Spacing is the one interpolation
	 * either way, so fused and unfused agree to float32 rounding, labels exactly */
	both_ways("rot90.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Rotated\", \"keys\": [\"image\", \"label\"], "
		  "\"angle\": [0, 0, 1.5707963267948966], \"keep_size\": false, "
		  "\"mode\": [\"bilinear\", \"nearest\"]},\n"
		  "  {\"_target_\": \"Spacingd\", \"keys\": [\"image\", \"label\"], "
		  "\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", \"nearest\"]}",
		  1e-3, 1e-3, 0, 0);
	/* An oblique Rotate and an Affine between Orientation and Spacing: fused, one
	 * bilinear resampling (MONAI's lazy resampling, docs/transforms.md); unfused, three.
	 * Shapes and affines are equal; values differ by the smoothing of the two extra
	 * interpolations, which is large at the synthetic CT's sharp edges (one voxel jump is
	 * ~1000 HU) but small on average (seen: 20 HU; labels 0..5, nearest three times
	 * against once: 0.012): the mean difference is bounded, not each value */
	both_ways("rotate.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Rotated\", \"keys\": [\"image\", \"label\"], "
		  "\"angle\": [0.1, -0.05, 0.3], \"keep_size\": false, "
		  "\"mode\": [\"bilinear\", \"nearest\"], \"padding_mode\": \"zeros\"},\n"
		  "  {\"_target_\": \"Affined\", \"keys\": [\"image\", \"label\"], "
		  "\"scale_params\": [1.1, 0.9, 1.0], \"translate_params\": [2, -1, 0], "
		  "\"mode\": [\"bilinear\", \"nearest\"], \"padding_mode\": \"zeros\"},\n"
		  "  {\"_target_\": \"Spacingd\", \"keys\": [\"image\", \"label\"], "
		  "\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", \"nearest\"], "
		  "\"padding_mode\": \"zeros\"}",
		  INFINITY, 40, INFINITY, 0.05);
	/* Resize: trilinear (align_corners false) is grid_sample with border padding on a
	 * diagonal map, so it composes with the Orientation view: one resampling instead of
	 * a view and a resampling, values within float32 rounding; nearest labels follow
	 * torch's own index rule, a fusion barrier, so they are exact either way */
	both_ways("resize.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Resized\", \"keys\": [\"image\", \"label\"], "
		  "\"spatial_size\": [30, 27, 17], \"mode\": [\"trilinear\", \"nearest\"]}",
		  1e-3, 1e-3, 0, 0);
	CHECK(strstr(log_, "chain=[Orientation") && strstr(log_, "Resize{"),
	      "resize: the image's Orientation and Resize fuse: %s", log_);
	/* Zoom(trilinear) by more than 1 with keep_size: the scaling and its centred crop
	 * (the op's second step, which reads inside) compose with the Orientation */
	both_ways("zoom.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Zoomd\", \"keys\": [\"image\", \"label\"], "
		  "\"zoom\": [1.3, 1.1, 1.5], \"mode\": [\"trilinear\", \"nearest\"]}",
		  1e-3, 1e-3, 0, 0);
	CHECK(strstr(log_, "chain=[Orientation") && strstr(log_, "Zoom{"),
	      "zoom: the image's Orientation and Zoom fuse: %s", log_);
	/* Resize(area) and Zoom(area): adaptive average pooling is no point sample of a
	 * composed map; each stays its own node after the fused Orientation + Flip */
	both_ways("area.json",
		  "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], "
		  "\"axcodes\": \"RAS\"},\n"
		  "  {\"_target_\": \"Flipd\", \"keys\": [\"image\", \"label\"], \"spatial_axis\": 0},\n"
		  "  {\"_target_\": \"Resized\", \"keys\": [\"image\", \"label\"], "
		  "\"spatial_size\": [25, 22, 9], \"mode\": [\"area\", \"nearest\"]},\n"
		  "  {\"_target_\": \"Zoomd\", \"keys\": [\"image\", \"label\"], \"zoom\": 0.8, "
		  "\"mode\": [\"area\", \"nearest\"]}",
		  0, 0, 0, 0);
	CHECK(!strstr(log_, "Resize{") && !strstr(log_, "Zoom{") && strstr(log_, "Resize(") &&
	      strstr(log_, "Zoom("), "area: Resize and Zoom must not be fused: %s", log_);
	shared_value();
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s", files_path("index.json"));
	rc = files_sh(log_, sizeof log_, "%s dump %s --disable=fuse-spatal", MG_BIN, cfg);
	CHECK(rc == 1 && strstr(log_, "no pass named 'fuse-spatal'"), "%s", log_);
	files_done();
	return check_done();
}
