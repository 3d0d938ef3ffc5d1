/* fuse_pair.h: what the fusion-pass tests share: a pipeline over the synthetic CTs in
 * files_path("data") (load, channel first, the transforms under test, save image and
 * label), run once with a pass and once without it, and each item's two outputs read
 * back for comparing. Include after check.h and files.h, in one test file.
 * Read next: test_fuse_spatial.c, test_fuse_elementwise.c. */
#ifndef MG_TEST_FUSE_PAIR_H
#define MG_TEST_FUSE_PAIR_H

#include "../frontend/build.h"

/* The pipeline file at path: `middle` (transform objects, comma-separated) between
 * LoadImaged + EnsureChannelFirstd and the two SaveImaged into out (postfixes img and
 * lab; img_save and lab_save are more of their arguments, each starting with a comma,
 * or ""). */
static inline void fuse_write_pipeline(const char *path, const char *out, const char *middle,
				       const char *img_save, const char *lab_save)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"{\"dataset_dir\": \"%s\", \"output_dir\": \"%s\",\n"
		" \"datalist\": {\"_target_\": \"load_decathlon_datalist\", "
		"\"data_list_file_path\": \"@dataset_dir\", \"base_dir\": \"@dataset_dir\"},\n"
		" \"preprocessing\": {\"_target_\": \"Compose\", \"transforms\": [\n"
		"  {\"_target_\": \"LoadImaged\", \"keys\": [\"image\", \"label\"]},\n"
		"  {\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\", \"label\"]},\n"
		"  %s,\n"
		"  {\"_target_\": \"SaveImaged\", \"keys\": \"image\", \"output_dir\": "
		"\"@output_dir\", \"output_postfix\": \"img\"%s},\n"
		"  {\"_target_\": \"SaveImaged\", \"keys\": \"label\", \"output_dir\": "
		"\"@output_dir\", \"output_postfix\": \"lab\"%s}]},\n"
		" \"dataset\": {\"_target_\": \"Dataset\", \"data\": \"@datalist\", "
		"\"transform\": \"@preprocessing\"}}\n",
		files_path("data"), out, middle, img_save, lab_save);
	fclose(f);
}

/* Writes the pipeline files_path(tag) and runs it with `pass` (outputs in on, the file's
 * path + ".on") and with --disable=pass (outputs in off, path + ".off"); on and off hold
 * 272 bytes; the last run's output is left in log (n bytes). */
static inline void fuse_run_both(const char *tag, const char *pass, const char *middle,
				 const char *img_save, const char *lab_save, char *log, size_t n,
				 char *on, char *off)
{
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s", files_path(tag));
	snprintf(on, 272, "%s.on", cfg);
	snprintf(off, 272, "%s.off", cfg);
	fuse_write_pipeline(cfg, on, middle, img_save, lab_save);
	int rc = files_sh(log, n, "%s run %s --quiet", MG_BIN, cfg);
	CHECK(rc == 0, "%s fused: %s", tag, log);
	rc = files_sh(log, n, "%s run %s --quiet --disable=%s --output_dir=%s", MG_BIN, cfg, pass,
		      off);
	CHECK(rc == 0, "%s unfused: %s", tag, log);
}

/* Output `name` ("img"/"lab") of item i under both folders, into a and b (released by
 * the caller); pa (512 bytes) the first one's path. 0 when both were read. */
static inline int fuse_read_pair(const char *a_dir, const char *b_dir, int i, const char *name,
				 char *pa, struct mg_tensor *a, struct mg_tensor *b)
{
	char pb[512];
	snprintf(pa, 512, "%s/synth_%03d/synth_%03d_%s.nii.gz", a_dir, i, i, name);
	snprintf(pb, sizeof pb, "%s/synth_%03d/synth_%03d_%s.nii.gz", b_dir, i, i, name);
	struct mg_err e = {0};
	*a = (struct mg_tensor){0};
	*b = (struct mg_tensor){0};
	CHECK_OK(mg_nifti_read(pa, a, &e), &e);
	CHECK_OK(mg_nifti_read(pb, b, &e), &e);
	return e.code;
}

#endif
