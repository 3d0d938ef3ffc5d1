/* test_invert.c: Invertd, CropForegroundd(source_key) and SaveImage(resample=True)
 * against MONAI, on whole pipelines. Cases live in tests/golden/invert/cases.json
 * (tools/golden/gen_invert.py): per case a NIfTI image and label (3D or 2D, oblique LPS
 * affines), the dict transforms after loading ("chain", the Compose Invertd names as
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

/* The pipeline file for chain + post over one item (img, lab), writing into out. */
static void write_config(const char *path, const char *out, const char *img, const char *lab,
			 const cJSON *chain, const cJSON *post)
{
	cJSON *c = cJSON_CreateObject(), *item = cJSON_CreateObject();
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
	const cJSON *item = cJSON_GetObjectItem(c, "item");
	char img[512], lab[512];
	snprintf(img, sizeof img, "%s%s", GOLDEN,
		 cJSON_GetStringValue(cJSON_GetObjectItem(item, "image")));
	snprintf(lab, sizeof lab, "%s%s", GOLDEN,
		 cJSON_GetStringValue(cJSON_GetObjectItem(item, "label")));
	write_config(cfg, out, img, lab, cJSON_GetObjectItem(c, "chain"),
		     cJSON_GetObjectItem(c, "post"));
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

/* Runs chain + post (JSON text) on the item (img, lab) into files_path(tag).out;
 * the exit status, the log in log_. */
static int run_text(const char *tag, const char *img, const char *lab, const char *chain,
		    const char *post, int fused)
{
	cJSON *cj = cJSON_Parse(chain), *pj = cJSON_Parse(post);
	CHECK(cj && pj, "%s: test JSON does not parse", tag);
	char cfg[300], out[320];
	snprintf(cfg, sizeof cfg, "%s", files_path(tag));
	snprintf(out, sizeof out, "%s.out", cfg);
	write_config(cfg, out, img, lab, cj, pj);
	cJSON_Delete(cj);
	cJSON_Delete(pj);
	return files_sh(log_, sizeof log_, "%s run %s --quiet%s", MG_BIN, cfg,
			fused ? "" : " --disable=fuse-spatial");
}

/* A float32 (X, Y, Z) NIfTI at files_path(name) whose values are an affine function of
 * the voxel index (so linear interpolation reproduces them), oblique LPS affine. */
static const char *ramp_file(const char *name)
{
	struct mg_tensor x;
	struct mg_err e = {0};
	golden_image(&x, 3, (const int64_t[]){18, 14, 9}, golden_oblique);
	float *p = mg_tensor_data(&x);
	for (int64_t i = 0; i < 18; i++)
		for (int64_t j = 0; j < 14; j++)
			for (int64_t k = 0; k < 9; k++)
				p[(i * 14 + j) * 9 + k] = (float)(100 + 7 * i - 3 * j + 11 * k);
	const char *path = files_path(name);
	CHECK_OK(mg_nifti_write(path, &x, MG_DTYPE_F32, 1, &e), &e);
	mg_tensor_release(&x);
	return path;
}

/* mgc's inverted file against the ramp: within tol on voxels at least `margin` from
 * every edge, and (when exact) bit-identical everywhere. */
static void against_ramp(const char *tag, const char *ramp, const char *path, double tol,
			 int margin)
{
	struct mg_err e = {0};
	struct mg_tensor a = {0}, b = {0};
	CHECK_OK(mg_nifti_read(ramp, &a, &e), &e);
	CHECK_OK(mg_nifti_read(path, &b, &e), &e);
	if (a.buf && b.buf && golden_same_shape(&a, &b)) {
		CHECK(golden_max_diff(a.meta->affine, b.meta->affine) < 1e-6,
		      "%s: the inverse is not on the original grid", tag);
		double worst = 0;
		for (int64_t i = margin; i < a.dims[0] - margin; i++)
			for (int64_t j = margin; j < a.dims[1] - margin; j++)
				for (int64_t k = margin; k < a.dims[2] - margin; k++) {
					int64_t idx[3] = {i, j, k};
					double d = fabs(
						mg_dtype_load(a.dtype, mg_tensor_at(&a, idx)) -
						mg_dtype_load(b.dtype, mg_tensor_at(&b, idx)));
					worst = d > worst ? d : worst;
				}
		printf("  %s: max |invert(forward(x)) - x| %g (margin %d)\n", tag, worst, margin);
		CHECK(worst <= tol, "%s: invert(forward(x)) differs from x by %g", tag, worst);
	} else {
		CHECK(0, "%s: shapes differ or a file is missing (%s)", tag, path);
	}
	mg_tensor_release(&a);
	mg_tensor_release(&b);
}

/* invert(forward(x)) == x: within float32 rounding inside the field of view for
 * resampling chains (linear data, linear modes both ways: Spacing; Rotate, Resize, Zoom),
 * bit-identical for an index-only chain that keeps every voxel; fused and unfused. */
static void roundtrip(void)
{
	static char ramp[256];
	snprintf(ramp, sizeof ramp, "%s", ramp_file("ramp.nii.gz"));
	static const char *const chains[] = {
		"[{'_target_': 'Orientationd', 'keys': ['image', 'label'], 'axcodes': 'RAS'},"
		" {'_target_': 'Spacingd', 'keys': ['image', 'label'], 'pixdim': [0.7, 0.8, 1.9]},"
		" {'_target_': 'Flipd', 'keys': ['image', 'label'], 'spatial_axis': 1},"
		" {'_target_': 'SpatialPadd', 'keys': ['image', 'label'], 'spatial_size': 30}]",
		"[{'_target_': 'Orientationd', 'keys': ['image', 'label'], 'axcodes': 'SPL'},"
		" {'_target_': 'Rotate90d', 'keys': ['image', 'label'], 'k': 3},"
		" {'_target_': 'BorderPadd', 'keys': ['image', 'label'], 'spatial_border': [2, 1, 3]},"
		" {'_target_': 'Flipd', 'keys': ['image', 'label'], 'spatial_axis': [0, 2]},"
		" {'_target_': 'CenterSpatialCropd', 'keys': ['image', 'label'], 'roi_size': 40}]",
		/* the interpolating ops whose records are maps too: linear data, linear modes */
		"[{'_target_': 'Rotated', 'keys': ['image', 'label'], 'angle': [0.2, -0.1, 0.15],"
		"  'keep_size': false},"
		" {'_target_': 'Resized', 'keys': ['image', 'label'], 'spatial_size': [23, 17, 11],"
		"  'mode': 'trilinear'},"
		" {'_target_': 'Zoomd', 'keys': ['image', 'label'], 'zoom': 1.2, 'keep_size': false,"
		"  'mode': 'trilinear'}]"};
	const char *post = "[{'_target_': 'Invertd', 'keys': 'image', 'transform': '@pre',"
			   " 'nearest_interp': false},"
			   " {'_target_': 'SaveImaged', 'keys': 'image', 'output_dir': '@output_dir',"
			   " 'output_postfix': 'inv', 'separate_folder': false}]";
	for (int c = 0; c < 3; c++)
		for (int fused = 0; fused < 2; fused++) {
			char tag[64], chain[1024], post_[1024], path[512];
			snprintf(tag, sizeof tag, "roundtrip%d_%s", c, fused ? "fused" : "unfused");
			snprintf(chain, sizeof chain, "%s", chains[c]);
			snprintf(post_, sizeof post_, "%s", post);
			for (char *q = chain; *q; q++)
				*q = *q == '\'' ? '"' : *q;
			for (char *q = post_; *q; q++)
				*q = *q == '\'' ? '"' : *q;
			int rc = run_text(tag, ramp, ramp, chain, post_, fused);
			CHECK(rc == 0, "%s: %s", tag, log_);
			snprintf(path, sizeof path, "%s.out/ramp_inv.nii.gz", files_path(tag));
			/* chain 2 unfused resamples three times: voxels near the edge blend with the
			 * rotation's zero corners (seen: 0.04 at 2 voxels in), hence margin 3 */
			if (c == 1)
				against_ramp(tag, ramp, path, 0, 0);
			else
				against_ramp(tag, ramp, path, c == 0 ? 1e-4 : 1e-3, c == 0 ? 1 : 3);
		}
}

/* Bad input: the run fails with a message naming the item, the step and the key. */
static void refused(const char *tag, const char *chain, const char *post, const char *needle)
{
	char c[2048], p[2048];
	snprintf(c, sizeof c, "%s", chain);
	snprintf(p, sizeof p, "%s", post);
	for (char *q = c; *q; q++)
		*q = *q == '\'' ? '"' : *q;
	for (char *q = p; *q; q++)
		*q = *q == '\'' ? '"' : *q;
	int rc = run_text(tag, GOLDEN "ct.nii.gz", GOLDEN "lab.nii.gz", c, p, 1);
	CHECK(rc != 0 && strstr(log_, needle), "%s: expected a failure with '%s', got %d: %s",
	      tag, needle, rc, log_);
}

static void bad_input(void)
{
	const char *orient = "[{'_target_': 'Orientationd', 'keys': ['image', 'label'],"
			     " 'axcodes': 'RAS'}]";
	refused("missing_orig", orient,
		"[{'_target_': 'Invertd', 'keys': 'label', 'orig_keys': 'seg'}]",
		"dataset#transform#transforms#1 key 'label' (Invert): Invert: orig_keys 'seg' "
		"names a key that holds no image here");
	refused("nothing_recorded", "[]", "[{'_target_': 'Invertd', 'keys': 'label'}]",
		"key 'label' (Invert): Invert: key 'label' records no spatial operations");
	refused("nothing_recorded_orig", "[]",
		"[{'_target_': 'Invertd', 'keys': 'label', 'orig_keys': 'image'}]",
		"Invert: key 'image' records no spatial operations");
	refused("missing_source",
		"[{'_target_': 'CropForegroundd', 'keys': ['image', 'label'],"
		" 'source_key': 'mask'}]", "[]",
		"key 'image' (CropForeground): CropForeground: source_key 'mask' names a key "
		"that holds no image here");
	/* a loaded key that this item lacks: found at run time */
	refused("absent_source",
		"[{'_target_': 'LoadImaged', 'keys': 'mask', 'allow_missing_keys': true},"
		" {'_target_': 'EnsureChannelFirstd', 'keys': 'mask', 'allow_missing_keys': true},"
		" {'_target_': 'CropForegroundd', 'keys': ['image', 'label'],"
		" 'source_key': 'mask'}]", "[]",
		"item 0 'ct.nii.gz': dataset#transform#transforms#0#transforms#4 key 'image' "
		"(CropForeground): the item has no value for key 'mask', which this step reads "
		"besides its own key 'image'");
	refused("shape_mismatch",
		"[{'_target_': 'Spacingd', 'keys': 'image', 'pixdim': 2}]",
		"[{'_target_': 'Invertd', 'keys': 'label', 'orig_keys': 'image'}]",
		"Invert: the image's spatial shape is not the one its last recorded operation "
		"(Spacing) produced");
	refused("post_func", orient,
		"[{'_target_': 'Invertd', 'keys': 'label', 'post_func': 'torch.sigmoid'}]",
		"post_func 'torch.sigmoid' is not supported");
	refused("device", orient,
		"[{'_target_': 'Invertd', 'keys': 'label', 'device': 'cuda:0'}]",
		"device 'cuda:0' is not supported");
	refused("orig_count", orient,
		"[{'_target_': 'Invertd', 'keys': ['image', 'label'], 'orig_keys': ['image']}]",
		"argument 'orig_keys' has 1 values for 2 keys");
	refused("nearest_type", orient,
		"[{'_target_': 'Invertd', 'keys': 'label', 'nearest_interp': 'yes'}]",
		"argument 'nearest_interp' must be a boolean");
	refused("resample_mode", orient,
		"[{'_target_': 'SaveImaged', 'keys': 'label', 'resample': true,"
		" 'mode': 'trilinear'}]", "argument 'mode' is \"trilinear\"");
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
	roundtrip();
	bad_input();
	files_done();
	return check_done();
}
