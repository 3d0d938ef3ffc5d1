/* test_e2e.c: `mgc synth` then `mgc run examples/preprocess.json` over the synthetic
 * dataset; the outputs are checked against the inputs with the formula computed here,
 * and bad pipelines and datalists must fail with one clear message and exit code. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/runtime.h"
#include "check.h"
#include "files.h"

static char tmp[256], data[300], out[300];

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static double at(const struct mg_tensor *t, int64_t x, int64_t y, int64_t z)
{
	int64_t idx[4] = {x, y, z, 0};
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

/* The outputs of item `name` against its inputs. */
static void check_item(const char *name)
{
	char in_img[600], in_lab[600], o_img[800], o_lab[800];
	snprintf(in_img, sizeof in_img, "%s/imagesTr/%s.nii.gz", data, name);
	snprintf(in_lab, sizeof in_lab, "%s/labelsTr/%s.nii.gz", data, name);
	snprintf(o_img, sizeof o_img, "%s/%s/%s_image.nii.gz", out, name, name);
	snprintf(o_lab, sizeof o_lab, "%s/%s/%s_label.nii.gz", out, name, name);
	struct mg_err e = {0};
	struct mg_tensor a = {0}, b = {0}, la = {0}, lb = {0};
	CHECK_OK(mg_nifti_read(in_img, &a, &e), &e);
	CHECK_OK(mg_nifti_read(o_img, &b, &e), &e);
	CHECK_OK(mg_nifti_read(in_lab, &la, &e), &e);
	CHECK_OK(mg_nifti_read(o_lab, &lb, &e), &e);
	if (e.code)
		goto done;
	CHECK(b.dtype == MG_DTYPE_F32 && lb.dtype == MG_DTYPE_U8);
	CHECK(b.rank == 3 && a.rank == 3 && !memcmp(a.dims, b.dims, sizeof a.dims[0] * 3));
	CHECK(lb.rank == 3 && !memcmp(la.dims, lb.dims, sizeof a.dims[0] * 3));
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++) {
			CHECK_CLOSE(b.meta->affine[r][c], a.meta->affine[r][c], 1e-5, 1e-6);
			CHECK_CLOSE(lb.meta->affine[r][c], a.meta->affine[r][c], 1e-5, 1e-6);
		}
	int64_t bad = 0, badl = 0;
	for (int64_t z = 0; z < a.dims[2]; z++)
		for (int64_t y = 0; y < a.dims[1]; y++)
			for (int64_t x = 0; x < a.dims[0]; x++) {
				double v = (at(&a, x, y, z) + 57.0) / 221.0;
				v = v < 0 ? 0 : v > 1 ? 1 : v;
				bad += fabs(at(&b, x, y, z) - v) > 1e-6;
				badl += at(&la, x, y, z) != at(&lb, x, y, z);
			}
	CHECK(bad == 0, "%lld voxels of %s differ from clip((x + 57) / 221)", (long long)bad,
	      name);
	CHECK(badl == 0, "%lld label voxels of %s differ", (long long)badl, name);
done:
	mg_tensor_release(&a);
	mg_tensor_release(&b);
	mg_tensor_release(&la);
	mg_tensor_release(&lb);
}

/* No temporary or partial file anywhere under dir. */
static int count_tmp(const char *dir)
{
	char log[4096];
	if (!exists(dir) || files_sh(log, sizeof log, "find %s -name '*tmp*' | wc -l", dir) != 0)
		return -1;
	return atoi(log);
}

static void test_run(void)
{
	char log[16384];
	int rc = files_sh(log, sizeof log, "%s synth %s --n 3 --size 40x36x12 --seed 3", MG_BIN, data);
	CHECK(rc == 0, "synth: %s", log);
	rc = files_sh(log, sizeof log,
		 "%s run %s/examples/preprocess.json --dataset_dir=%s --output_dir=%s "
		 "--threads=2",
		 MG_BIN, MG_SOURCE_DIR, data, out);
	CHECK(rc == 0, "run: %s", log);
	CHECK(strstr(log, "file written") != NULL, "SaveImage logs its files: %s", log);
	CHECK(strstr(log, "image statistics: item 0 key 'image': ") != NULL, "%s", log);
	CHECK(strstr(log, "label statistics: item 2 key 'label': ") != NULL, "%s", log);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof name, "synth_%03d", i);
		check_item(name);
	}
	CHECK(count_tmp(out) == 0);
	/* one item only, and dump */
	rc = files_sh(log, sizeof log, "%s run %s/examples/preprocess.json --dataset_dir=%s "
		 "--output_dir=%s/one --items=1 --quiet", MG_BIN, MG_SOURCE_DIR, data, tmp);
	CHECK(rc == 0, "%s", log);
	char one[600];
	snprintf(one, sizeof one, "%s/one/synth_001/synth_001_image.nii.gz", tmp);
	CHECK(exists(one));
	snprintf(one, sizeof one, "%s/one/synth_000", tmp);
	CHECK(!exists(one), "--items=1 runs only item 1");
	/* --verbose profiles each step: one call each for one item; the channel move is a
	 * view (0.0 MB), the load makes data */
	rc = files_sh(log, sizeof log, "%s run %s/examples/preprocess.json --dataset_dir=%s "
		 "--output_dir=%s/one --items=1 --quiet --verbose 2>&1", MG_BIN, MG_SOURCE_DIR,
		 data, tmp);
	CHECK(rc == 0 && strstr(log, "MB/call"), "%s", log);
	static const char ecf[] = "preprocessing#transforms#1 key 'image'",
			  load[] = "preprocessing#transforms#0 key 'image'";
	const char *l = strstr(log, ecf);
	double ms, mb;
	long calls;
	CHECK(l && sscanf(l + sizeof ecf - 1, "%ld %lf %lf", &calls, &ms, &mb) == 3 &&
	      calls == 1 && mb == 0, "%s", log);
	l = strstr(log, load);
	CHECK(l && sscanf(l + sizeof load - 1, "%ld %lf %lf", &calls, &ms, &mb) == 3 &&
	      calls == 1 && mb > 0, "%s", log);
	rc = files_sh(log, sizeof log, "%s dump %s/examples/preprocess.json", MG_BIN, MG_SOURCE_DIR);
	CHECK(rc == 0 && strstr(log, "ScaleIntensityRange(") && strstr(log, "a_min=-57"),
	      "%s", log);
	CHECK(strstr(log, "preprocessing#transforms#2 key 'image'") != NULL, "%s", log);
}

static void test_errors(void)
{
	char log[16384], cfg[600];
	const char *ex = MG_SOURCE_DIR "/examples/preprocess.json";
	int rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e "
		     "--preprocessing#transforms#2#_target_=FooBard", MG_BIN, ex, data, tmp);
	CHECK(rc == 1 && strstr(log, "unknown _target_ 'FooBard'") &&
		      strstr(log, "preprocessing#transforms#2"), "%s", log);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e "
		 "--preprocessing#transforms#2#_target_=monai.transforms.ScaleIntensityRnged", MG_BIN,
		 ex, data, tmp);
	CHECK(rc == 1 && strstr(log, "(did you mean ScaleIntensityRanged?)") &&
		      strstr(log, "mgc ops"), "a near miss names the transform: %s", log);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --dataset#data=@nosuch", MG_BIN, ex,
		 data);
	CHECK(rc == 1 && strstr(log, "nosuch"), "%s", log);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e "
		 "--preprocessing#transforms#2#a_min='\"low\"'", MG_BIN, ex, data, tmp);
	CHECK(rc == 1 && strstr(log, "a_min"), "%s", log);
	/* a missing required argument */
	snprintf(cfg, sizeof cfg, "%s/missing.json", tmp);
	FILE *f = fopen(cfg, "w");
	fprintf(f, "{\"dataset\": {\"_target_\": \"Dataset\", \"data\": [{\"image\": \"x.nii\"}],"
		   " \"transform\": [{\"_target_\": \"ScaleIntensityRanged\", \"keys\": "
		   "\"image\", \"a_max\": 1}]}}");
	fclose(f);
	rc = files_sh(log, sizeof log, "%s run %s", MG_BIN, cfg);
	CHECK(rc == 1 && strstr(log, "missing.json") && strstr(log, "'a_min'") &&
		      strstr(log, "dataset#transform#0"), "%s", log);
	/* a datalist entry whose file is missing: names the item and the file */
	char gone[600];
	snprintf(gone, sizeof gone, "%s/imagesTr/synth_001.nii.gz", data);
	char keep[620];
	snprintf(keep, sizeof keep, "%s.keep", gone);
	rename(gone, keep);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e2 --threads=1",
		 MG_BIN, ex, data, tmp);
	CHECK(rc == 1 && strstr(log, "item 1") && strstr(log, "synth_001.nii.gz") &&
		      strstr(log, "key 'image'"), "%s", log);
	/* with several threads the error is still the first failing item's */
	char gone2[600], keep2[620];
	snprintf(gone2, sizeof gone2, "%s/imagesTr/synth_002.nii.gz", data);
	snprintf(keep2, sizeof keep2, "%s.keep", gone2);
	rename(gone2, keep2);
	for (int round = 0; round < 3; round++) {
		rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e2 "
			 "--threads=2", MG_BIN, ex, data, tmp);
		CHECK(rc == 1 && strstr(log, "item 1 "), "%s", log);
	}
	rename(keep2, gone2);
	rename(keep, gone);
	rc = files_sh(log, sizeof log, "%s run %s --gz_level=12", MG_BIN, ex);
	CHECK(rc == 2 && strstr(log, "1..9"), "%s", log);
	rc = files_sh(log, sizeof log, "%s run %s --threads=two", MG_BIN, ex);
	CHECK(rc == 2 && strstr(log, "--threads"), "%s", log);
	/* a key the items do not have */
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e3 "
		 "--preprocessing#transforms#0#keys='[\"image\",\"label\",\"mask\"]'", MG_BIN, ex, data,
		 tmp);
	CHECK(rc == 1 && strstr(log, "key 'mask'"), "%s", log);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s/e3 "
		 "--preprocessing#transforms#0#keys='[\"image\",\"label\",\"mask\"]' "
		 "--preprocessing#transforms#0#allow_missing_keys=true", MG_BIN, ex, data, tmp);
	CHECK(rc == 0, "allow_missing_keys skips the absent key: %s", log);
	CHECK(count_tmp(tmp) == 0);
	rc = files_sh(log, sizeof log, "%s run", MG_BIN);
	CHECK(rc == 2);
	rc = files_sh(log, sizeof log, "%s frobnicate", MG_BIN);
	CHECK(rc == 2 && strstr(log, "unknown command"));
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/mg_e2e_XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(data, sizeof data, "%s/data", tmp);
	snprintf(out, sizeof out, "%s/out", tmp);
	test_run();
	test_errors();
	char log[256];
	files_sh(log, sizeof log, "rm -rf %s", tmp);
	return check_done();
}
