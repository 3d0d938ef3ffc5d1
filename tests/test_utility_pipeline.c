/* test_utility_pipeline.c: the key-moving transforms through the frontend and `mgc run`
 * over synthetic CTs: a pipeline copies, concatenates, splits (channels, and a spatial
 * axis with its affine moved), masks and deletes keys and saves the results; each saved
 * file is checked against the saved copy of the input by an independent formula (a
 * concatenation's pieces are its inputs, a mask keeps the voxels where the label is
 * positive; a key written before SplitDimd names it is the split's piece after it;
 * MeanEnsembled of the image and the image + 10 is the image + 5, VoteEnsembled of the
 * label twice and the label + 1 is the label).
 * select_fn thresholds ("$lambda x: x >= 2") in MaskIntensityd and CropForegroundd
 * against the same formulas with the threshold. Then pipelines with bad keys and
 * arguments (select_fn text outside mgc's subset, "$" elsewhere, HistogramNormalized's
 * mask of another shape) must fail with messages naming the transform, the key and, at
 * run time, the item. */
#include <math.h>

#include "../runtime/runtime.h"
#include "check.h"
#include "files.h"

static char log_[16384];

/* Writes the pipeline with `transforms` after loading image and label, channel first. */
static const char *pipeline(const char *name, const char *transforms)
{
	const char *path = files_path(name);
	FILE *f = fopen(path, "w");
	if (!f)
		return path;
	fprintf(f,
		"{\"dataset_dir\": \"%s\", \"output_dir\": \"%s\",\n"
		" \"datalist\": {\"_target_\": \"load_decathlon_datalist\", "
		"\"data_list_file_path\": \"@dataset_dir\", \"base_dir\": \"@dataset_dir\"},\n"
		" \"pre\": {\"_target_\": \"Compose\", \"transforms\": [\n"
		"  {\"_target_\": \"LoadImaged\", \"keys\": [\"image\", \"label\"]},\n"
		"  {\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\", \"label\"]},\n"
		"  %s]},\n"
		" \"dataset\": {\"_target_\": \"Dataset\", \"data\": \"@datalist\", "
		"\"transform\": \"@pre\"}}\n",
		files_path("data"), files_path("out"), transforms);
	fclose(f);
	return path;
}

static const char *save(const char *key, const char *postfix)
{
	static char buf[8][256];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof buf[0], "{\"_target_\": \"SaveImaged\", \"keys\": \"%s\", "
		 "\"output_dir\": \"@output_dir\", \"output_postfix\": \"%s\"}", key, postfix);
	return b;
}

static int read_out(int item, const char *postfix, struct mg_tensor *t)
{
	char p[512];
	snprintf(p, sizeof p, "%s/synth_%03d/synth_%03d_%s.nii.gz", files_path("out"), item, item,
		 postfix);
	struct mg_err e = {0};
	int rc = mg_nifti_read(p, t, &e);
	CHECK(rc == 0, "%s: %s", p, e.msg);
	return rc;
}

static double at3(const struct mg_tensor *t, int64_t x, int64_t y, int64_t z)
{
	int64_t idx[3] = {x, y, z};
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

/* Saved outputs of item i against the saved copy of its image and label. */
static void check_item(int i)
{
	struct mg_tensor img, lab, b0, b1, masked, z1, mean, vote;
	if (read_out(i, "orig", &img) || read_out(i, "lab", &lab) || read_out(i, "b0", &b0) ||
	    read_out(i, "b1", &b1) || read_out(i, "masked", &masked) || read_out(i, "z1", &z1) ||
	    read_out(i, "mean", &mean) || read_out(i, "vote", &vote))
		return;
	int64_t X = img.dims[0], Y = img.dims[1], Z = img.dims[2];
	CHECK(img.rank == 3 && lab.rank == 3 && b0.rank == 3 && b1.rank == 3 && masked.rank == 3,
	      "item %d: 3D outputs", i);
	/* SaveImage squeezes the split's trailing axis of size 1: z1 is 2D */
	CHECK(z1.rank == 2 && z1.dims[0] == X && z1.dims[1] == Y, "item %d: z1 is %dD", i,
	      z1.rank);
	int64_t bad = 0;
	for (int64_t z = 0; z < Z; z++)
		for (int64_t y = 0; y < Y; y++)
			for (int64_t x = 0; x < X; x++) {
				double v = at3(&img, x, y, z), l = at3(&lab, x, y, z);
				bad += at3(&b0, x, y, z) != v || at3(&b1, x, y, z) != l;
				bad += at3(&masked, x, y, z) != (l > 0 ? v : 0.0);
				bad += at3(&mean, x, y, z) != v + 5 || at3(&vote, x, y, z) != l;
				if (z == 1) {
					int64_t idx[2] = {x, y};
					bad += mg_dtype_load(z1.dtype, mg_tensor_at(&z1, idx)) != l;
				}
			}
	CHECK(bad == 0, "item %d: %lld voxels differ from the formulas", i, (long long)bad);
	/* the pieces keep the image's affine; slice z = 1 moves by the third column */
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++) {
			double a = img.meta->affine[r][c];
			CHECK(b0.meta->affine[r][c] == a && b1.meta->affine[r][c] == a &&
			      masked.meta->affine[r][c] == a, "item %d: affine[%d][%d]", i, r, c);
			if (r < 3 && c < 2)
				CHECK(fabs(z1.meta->affine[r][c] - a) < 1e-5, "item %d: z1 axis", i);
			if (r < 3 && c == 3)
				CHECK(fabs(z1.meta->affine[r][3] - (a + img.meta->affine[r][2])) < 1e-3,
				      "item %d: z1 origin %g, expected %g", i, z1.meta->affine[r][3],
				      a + img.meta->affine[r][2]);
		}
	struct mg_tensor *all[] = {&img, &lab, &b0, &b1, &masked, &z1, &mean, &vote};
	for (int k = 0; k < 8; k++)
		mg_tensor_release(all[k]);
}

static void test_pipeline(void)
{
	char t[4096];
	snprintf(t, sizeof t,
		 "{\"_target_\": \"CopyItemsd\", \"keys\": [\"image\", \"label\"], "
		 "\"names\": [\"orig\", \"lab2\"]},\n"
		 "  {\"_target_\": \"CopyItemsd\", \"keys\": \"label\", \"names\": \"both_0\"},\n"
		 "  {\"_target_\": \"Identityd\", \"keys\": \"both_0\"},\n"
		 "  {\"_target_\": \"ConcatItemsd\", \"keys\": [\"image\", \"label\"], \"name\": \"both\"},\n"
		 "  {\"_target_\": \"SplitDimd\", \"keys\": \"both\"},\n"
		 "  {\"_target_\": \"SplitDimd\", \"keys\": \"lab2\", \"dim\": -1},\n"
		 "  {\"_target_\": \"CopyItemsd\", \"keys\": [\"image\", \"label\"], "
		 "\"names\": [\"shifted\", \"lab3\"]},\n"
		 "  {\"_target_\": \"ShiftIntensityd\", \"keys\": \"shifted\", \"offset\": 10},\n"
		 "  {\"_target_\": \"ShiftIntensityd\", \"keys\": \"lab3\", \"offset\": 1},\n"
		 "  {\"_target_\": \"MeanEnsembled\", \"keys\": [\"image\", \"shifted\"], "
		 "\"output_key\": \"mean\"},\n"
		 "  {\"_target_\": \"VoteEnsembled\", \"keys\": [\"label\", \"lab3\", \"label\"], "
		 "\"output_key\": \"vote\"},\n"
		 "  {\"_target_\": \"MaskIntensityd\", \"keys\": \"image\", \"mask_key\": \"label\"},\n"
		 "  {\"_target_\": \"DeleteItemsd\", \"keys\": [\"both\", \"lab2\"]},\n"
		 "  {\"_target_\": \"Identityd\", \"keys\": \"both_1\"},\n"
		 "  %s, %s, %s, %s, %s, %s, %s, %s",
		 save("orig", "orig"), save("label", "lab"), save("both_0", "b0"),
		 save("both_1", "b1"), save("image", "masked"), save("lab2_1", "z1"),
		 save("mean", "mean"), save("vote", "vote"));
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s", pipeline("moves.json", t));
	int rc = files_sh(log_, sizeof log_, "%s run %s --quiet", MG_BIN, cfg);
	CHECK(rc == 0, "mgc run: %s", log_);
	for (int i = 0; i < 2 && rc == 0; i++)
		check_item(i);
	/* the graph: deleted keys are no outputs; split keys are made for the keys read */
	rc = files_sh(log_, sizeof log_, "%s dump %s", MG_BIN, cfg);
	CHECK(rc == 0 && !strstr(log_, "output \"both\"") && !strstr(log_, "output \"lab2\"") &&
	      strstr(log_, "output \"both_1\"") && !strstr(log_, "\"lab2_0\""), "dump: %s", log_);
}

/* select_fn thresholds written as a bundle config writes them: MaskIntensityd keeps the
 * image where label >= 2, CropForegroundd crops image and label to the box of label > 3
 * (source_key, "3 < x"); checked against the saved image and label by the formulas. */
static void test_select_fn(void)
{
	char t[2048];
	snprintf(t, sizeof t,
		 "{\"_target_\": \"CopyItemsd\", \"keys\": [\"image\", \"label\"], "
		 "\"names\": [\"orig\", \"lab\"]},\n"
		 "  {\"_target_\": \"monai.transforms.MaskIntensityd\", \"keys\": \"image\", "
		 "\"mask_key\": \"label\", \"select_fn\": \"$lambda x: x >= 2\"},\n"
		 "  {\"_target_\": \"CopyItemsd\", \"keys\": \"orig\", \"names\": \"crop\"},\n"
		 "  {\"_target_\": \"CropForegroundd\", \"keys\": \"crop\", \"source_key\": "
		 "\"label\", \"select_fn\": \"$lambda v:3<v\"},\n"
		 "  %s, %s, %s, %s",
		 save("orig", "orig"), save("lab", "lab"), save("image", "masked"),
		 save("crop", "crop"));
	const char *cfg = pipeline("thresholds.json", t);
	int rc = files_sh(log_, sizeof log_, "%s run %s --quiet", MG_BIN, cfg);
	CHECK(rc == 0, "mgc run: %s", log_);
	for (int i = 0; i < 2 && rc == 0; i++) {
		struct mg_tensor img, lab, masked, crop;
		if (read_out(i, "orig", &img) || read_out(i, "lab", &lab) ||
		    read_out(i, "masked", &masked) || read_out(i, "crop", &crop))
			break;
		int64_t lo[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, hi[3] = {-1, -1, -1}, bad = 0;
		for (int64_t z = 0; z < img.dims[2]; z++)
			for (int64_t y = 0; y < img.dims[1]; y++)
				for (int64_t x = 0; x < img.dims[0]; x++) {
					double v = at3(&img, x, y, z), l = at3(&lab, x, y, z);
					bad += at3(&masked, x, y, z) != (l >= 2 ? v : 0.0);
					int64_t p[3] = {x, y, z};
					for (int d = 0; d < 3 && l > 3; d++) {
						lo[d] = p[d] < lo[d] ? p[d] : lo[d];
						hi[d] = p[d] > hi[d] ? p[d] : hi[d];
					}
				}
		CHECK(bad == 0, "item %d: %lld masked voxels differ", i, (long long)bad);
		CHECK(hi[0] >= 0 && crop.dims[0] == hi[0] - lo[0] + 1 &&
		      crop.dims[1] == hi[1] - lo[1] + 1 && crop.dims[2] == hi[2] - lo[2] + 1,
		      "item %d: the crop is not the box of label > 3", i);
		for (int64_t z = 0; hi[0] >= 0 && z < crop.dims[2]; z++)
			for (int64_t y = 0; y < crop.dims[1]; y++)
				for (int64_t x = 0; x < crop.dims[0]; x++)
					bad += at3(&crop, x, y, z) !=
					       at3(&img, x + lo[0], y + lo[1], z + lo[2]);
		CHECK(bad == 0, "item %d: %lld cropped voxels differ", i, (long long)bad);
		struct mg_tensor *all[] = {&img, &lab, &masked, &crop};
		for (int k = 0; k < 4; k++)
			mg_tensor_release(all[k]);
	}
}

/* A pipeline that must fail with a message holding every one of the needles. */
static void fails(const char *name, const char *transforms, const char *const *needles)
{
	const char *cfg = pipeline(name, transforms);
	int rc = files_sh(log_, sizeof log_, "%s run %s --quiet", MG_BIN, cfg);
	CHECK(rc != 0, "%s: ran", name);
	for (; *needles; needles++)
		CHECK(strstr(log_, *needles) != NULL, "%s: '%s' not in: %s", name, *needles, log_);
}

static void test_errors(void)
{
	fails("deleted.json",
	      "{\"_target_\": \"DeleteItemsd\", \"keys\": \"label\"},\n"
	      "  {\"_target_\": \"Identityd\", \"keys\": \"image\"},\n"
	      "  {\"_target_\": \"SaveImaged\", \"keys\": \"label\"}",
	      (const char *[]){"pre#transforms#4 (SaveImaged) reads key 'label', which "
			       "pre#transforms#2 (DeleteItemsd) deleted", NULL});
	fails("deleted_mask.json",
	      "{\"_target_\": \"DeleteItemsd\", \"keys\": \"label\"},\n"
	      "  {\"_target_\": \"MaskIntensityd\", \"keys\": \"image\", \"mask_key\": \"label\"}",
	      (const char *[]){"(MaskIntensityd) reads key 'label', which", NULL});
	fails("concat_shapes.json",
	      "{\"_target_\": \"SpatialCropd\", \"keys\": \"label\", \"roi_start\": [0, 0, 0], "
	      "\"roi_end\": [4, 4, 4]},\n"
	      "  {\"_target_\": \"ConcatItemsd\", \"keys\": [\"image\", \"label\"], \"name\": \"x\"}",
	      (const char *[]){"item 0", "pre#transforms#3 keys 'image', 'label' -> 'x'",
			       "key 'label' has shape (1, 4, 4, 4) and key 'image' has", NULL});
	fails("squeeze.json", "{\"_target_\": \"SqueezeDimd\", \"keys\": \"label\", \"dim\": 1}",
	      (const char *[]){"item 0", "pre#transforms#2 key 'label'",
			       "can only squeeze an axis of size 1; dim 1 has size", NULL});
	fails("nokey.json", "{\"_target_\": \"ConcatItemsd\", \"keys\": [\"image\", \"imgae\"], "
	      "\"name\": \"x\"}",
	      (const char *[]){"pre#transforms#2 keys 'image', 'imgae'", "spelled right", NULL});
	fails("names.json", "{\"_target_\": \"CopyItemsd\", \"keys\": [\"image\", \"label\"], "
	      "\"times\": 2, \"names\": [\"a\", \"b\", \"c\"]}",
	      (const char *[]){"pre#transforms#2", "names has 3 entries", "it needs len(keys) * "
			       "times = 4", NULL});
	fails("split_past.json", "{\"_target_\": \"SplitDimd\", \"keys\": \"label\"},\n"
	      "  {\"_target_\": \"SaveImaged\", \"keys\": \"label_1\", \"output_dir\": "
	      "\"@output_dir\"}",
	      (const char *[]){"item 0", "key 'label_1' does not exist: SplitDimd split 'label' "
			       "into 1 pieces", NULL});
	fails("split_array.json", "{\"_target_\": \"SplitDim\"}",
	      (const char *[]){"pre#transforms#2", "only the dict form SplitDimd", NULL});
	fails("ensemble_no_output_key.json",
	      "{\"_target_\": \"MeanEnsembled\", \"keys\": [\"image\", \"label\"]}",
	      (const char *[]){"pre#transforms#2", "argument 'output_key' is needed", NULL});
	fails("concat_array.json", "{\"_target_\": \"ConcatItems\", \"name\": \"x\"}",
	      (const char *[]){"only the dict form ConcatItemsd", NULL});
	/* select_fn: only the threshold subset; "$" stays refused everywhere else */
	static const struct {
		const char *file, *args, *needle;
	} sel[] = {
		{"sel_method.json", "\"select_fn\": \"$lambda x: x.sum()\"",
		 "select_fn '$lambda x: x.sum()' is not supported (expected a comparison"},
		{"sel_other.json", "\"select_fn\": \"$lambda x: y > 0\"",
		 "select_fn '$lambda x: y > 0' is not supported ('y' is not the lambda's "
		 "argument 'x')"},
		{"sel_import.json", "\"select_fn\": \"$import os\"",
		 "select_fn '$import os' is not supported (not a lambda)"},
		{"sel_cut.json", "\"select_fn\": \"$lambda x: x >\"",
		 "select_fn '$lambda x: x >' is not supported (expected a number after the "
		 "comparison)"},
		{"sel_margin.json", "\"margin\": \"$1 + 1\"",
		 "Python expressions are not evaluated yet: $1 + 1"},
	};
	for (size_t i = 0; i < sizeof sel / sizeof *sel; i++) {
		char t[512];
		snprintf(t, sizeof t, "{\"_target_\": \"CropForegroundd\", \"keys\": \"image\", "
			 "%s}", sel[i].args);
		fails(sel[i].file, t, (const char *[]){"pre#transforms#2", sel[i].needle, NULL});
		snprintf(t, sizeof t, "{\"_target_\": \"MaskIntensityd\", \"keys\": \"image\", "
			 "\"mask_key\": \"label\", %s}", sel[i].args);
		if (i < 4)
			fails(sel[i].file, t, (const char *[]){"pre#transforms#2", "MaskIntensity: ",
							      sel[i].needle, NULL});
	}
	fails("sel_ref.json", "{\"_target_\": \"Identityd\", \"keys\": \"image\", "
	      "\"allow_missing_keys\": \"$lambda x: x > 0\"}",
	      (const char *[]){"Python expressions are not evaluated yet", NULL});
	/* HistogramNormalized's mask of another shape names both keys */
	fails("hist_mask.json", "{\"_target_\": \"SpatialCropd\", \"keys\": \"label\", "
	      "\"roi_start\": [0, 0, 0], \"roi_end\": [4, 4, 4]},\n"
	      "  {\"_target_\": \"HistogramNormalized\", \"keys\": \"image\", \"mask_key\": "
	      "\"label\"}",
	      (const char *[]){"item 0", "pre#transforms#3 key 'image'",
			       "HistogramNormalize: the mask 'label' has size 4 on axis 1 and the "
			       "image 'image' 20", NULL});
	fails("hist_mask_array.json", "{\"_target_\": \"HistogramNormalized\", \"keys\": "
	      "\"image\", \"mask\": [1, 0]}",
	      (const char *[]){"pre#transforms#2", "argument 'mask' is not supported", "use "
			       "mask_key", NULL});
}

int main(void)
{
	if (files_init("mg_util_"))
		return 1;
	int rc = files_sh(log_, sizeof log_, "%s synth %s --n 2 --size 20x18x6 --seed 7", MG_BIN,
			  files_path("data"));
	CHECK(rc == 0, "synth: %s", log_);
	test_pipeline();
	test_select_fn();
	test_errors();
	files_done();
	return check_done();
}
