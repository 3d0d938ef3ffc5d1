/* test_compile.c: `mgc compile` end to end on a synthetic dataset (`mgc synth`): the
 * compiled executable's outputs are byte for byte `mgc run`'s (llvm backend), with its
 * run-time parameters set on its command line, with its traced kernels linked and with
 * none (--no-trace); its --help, --verbose and errors; an item of other dtypes than the
 * traced one falls back to reference kernels, with the same bytes; no LLVM in the
 * executable (ldd, nm); a --plan-only plan run on one item by examples/embed.c, built in
 * the tree and against an install through pkg-config (with the installed mgc compiling
 * too). */
#include <sys/stat.h>

#include "check.h"
#include "files.h"

static const char *ex = MG_SOURCE_DIR "/examples/preprocess.json";
static char data[300], ref[300], sample[700];

/* Every file under a is in b with the same bytes, and the other way round. */
static void check_same_tree(const char *a, const char *b)
{
	char log[8192];
	int rc = files_sh(log, sizeof log, "diff -r '%s' '%s'", a, b);
	CHECK(rc == 0, "%s and %s differ: %s", a, b, log);
	rc = files_sh(log, sizeof log, "find '%s' -type f | wc -l", b);
	CHECK(rc == 0 && atoi(log) > 0, "no outputs in %s", b);
}

static void test_executable(void)
{
	char log[16384], exe[300], out[300];
	snprintf(exe, sizeof exe, "%s", files_path("pre"));
	/* compiled with the file's own dataset_dir and output_dir: both stay parameters, and
	 * the datalist is not there to trace the kernels on, so a sample item is given */
	int rc = files_sh(log, sizeof log, "%s compile %s -o %s", MG_BIN, ex, exe);
	CHECK(rc == 1 && strstr(log, "tracing the kernels needs one item") &&
		      strstr(log, "Task09_Spleen") && strstr(log, "--sample=KEY=FILE") &&
		      strstr(log, "--no-trace"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s --sample=image=%s/nothing.nii.gz -o %s",
		      MG_BIN, ex, data, exe);
	CHECK(rc == 1 && strstr(log, "tracing the kernels on the --sample item") &&
		      strstr(log, "nothing.nii.gz") && strstr(log, "--no-trace"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s --sample=image -o %s", MG_BIN, ex, exe);
	CHECK(rc == 2 && strstr(log, "--sample wants KEY=FILE"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s %s -o %s", MG_BIN, ex, sample, exe);
	CHECK(rc == 0 && strstr(log, "4 generated kernels") &&
		      strstr(log, "run-time parameters: --dataset_dir --output_dir"), "%s", log);
	rc = files_sh(log, sizeof log, "%s --help", exe);
	CHECK(rc == 0 && strstr(log, "--dataset_dir=/workspace/data/Task09_Spleen") &&
		      strstr(log, "--output_dir=./preprocessed") && strstr(log, "--threads=N"),
	      "%s", log);
	snprintf(out, sizeof out, "%s", files_path("exe_out"));
	rc = files_sh(log, sizeof log, "%s --dataset_dir=%s --output_dir=%s --threads=2", exe, data,
		      out);
	CHECK(rc == 0 && strstr(log, "image statistics: item 2 key 'image'"), "%s", log);
	check_same_tree(ref, out);
	/* --items as mgc run takes it */
	snprintf(out, sizeof out, "%s", files_path("one"));
	rc = files_sh(log, sizeof log, "%s --dataset_dir=%s --output_dir=%s --items=1 --quiet", exe,
		      data, out);
	CHECK(rc == 0 && !log[0], "%s", log);
	rc = files_sh(log, sizeof log, "ls %s", out);
	CHECK(rc == 0 && !strcmp(log, "synth_001\n"), "%s", log);
	/* errors */
	rc = files_sh(log, sizeof log, "%s --dataset_dir=%s --a_min=3", exe, data);
	CHECK(rc == 1 && strstr(log, "'a_min' is not a run-time parameter") &&
		      strstr(log, "dataset_dir, output_dir"), "%s", log);
	rc = files_sh(log, sizeof log, "%s --threads=two", exe);
	CHECK(rc == 2 && strstr(log, "--threads"), "%s", log);
	rc = files_sh(log, sizeof log, "%s extra", exe);
	CHECK(rc == 2 && strstr(log, "unknown argument 'extra'"), "%s", log);
	rc = files_sh(log, sizeof log, "%s --dataset_dir=%s/nowhere", exe, files_dir);
	CHECK(rc == 1 && strstr(log, "nowhere") && strstr(log, "datalist"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s", MG_BIN, ex);
	CHECK(rc == 2 && strstr(log, "-o NAME"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s --threads=2 -o %s", MG_BIN, ex, exe);
	CHECK(rc == 2 && strstr(log, "option of the compiled executable"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s --preprocessing#transforms#2#a_min=x -o %s",
		      MG_BIN, ex, files_path("bad"));
	CHECK(rc == 1 && strstr(log, "a_min"), "%s", log);
	struct stat st;
	CHECK(stat(files_path("bad"), &st) != 0, "a failed compile leaves no file");
	/* a parameter that changes the graph (a key name) is compiled in, not a parameter */
	FILE *f = fopen(files_path("keyed.json"), "w");
	fprintf(f, "{\"k\": \"image\", \"dataset\": {\"_target_\": \"Dataset\", \"data\": "
		   "[{\"image\": \"%s/imagesTr/synth_000.nii.gz\"}], \"transform\": "
		   "[{\"_target_\": \"LoadImaged\", \"keys\": \"@k\"}]}}", data);
	fclose(f);
	rc = files_sh(log, sizeof log, "%s compile %s -o %s", MG_BIN, files_path("keyed.json"),
		      files_path("keyed"));
	CHECK(rc == 0 && strstr(log, "run-time parameters: none"), "%s", log);
	rc = files_sh(log, sizeof log, "%s", files_path("keyed"));
	CHECK(rc == 0, "%s", log);
}

/* examples/embed.c built as `embed`, on item 0: its two files are mgc run's. */
static void check_embed(const char *embed, const char *plan, const char *name)
{
	char log[8192], out[400], cmp[400];
	snprintf(out, sizeof out, "%s", files_path(name));
	int rc = files_sh(log, sizeof log, "%s %s image=%s/imagesTr/synth_000.nii.gz "
			  "label=%s/labelsTr/synth_000.nii.gz --output_dir=%s", embed, plan, data,
			  data, out);
	CHECK(rc == 0 && strstr(log, "output: 4-d float32 tensor"), "%s", log);
	snprintf(cmp, sizeof cmp, "%s/synth_000", ref);
	snprintf(out + strlen(out), sizeof out - strlen(out), "/synth_000");
	check_same_tree(cmp, out);
}

static void test_embed(void)
{
	char log[16384], plan[300], prefix[300], cmd[2048];
	snprintf(plan, sizeof plan, "%s", files_path("pre.mgcplan"));
	int rc = files_sh(log, sizeof log, "%s compile %s --dataset_dir=%s --plan-only -o %s",
			  MG_BIN, ex, data, plan);
	CHECK(rc == 0, "%s", log);
	check_embed(MG_EMBED, plan, "embed_tree");
	rc = files_sh(log, sizeof log, "%s %s image=x.nii.gz --nosuch=1", MG_EMBED, plan);
	CHECK(rc == 1 && strstr(log, "'nosuch' is not a run-time parameter"), "%s", log);
	rc = files_sh(log, sizeof log, "%s %s image=x.nii.gz", MG_EMBED, ex);
	CHECK(rc == 1 && strstr(log, "not an mgc plan"), "%s", log);

	/* an install: the example through pkg-config, and the installed mgc compiling */
	snprintf(prefix, sizeof prefix, "%s", files_path("prefix"));
	rc = files_sh(log, sizeof log, "%s --install %s --prefix %s", MG_CMAKE, MG_BUILD_DIR,
		      prefix);
	CHECK(rc == 0, "%s", log);
	snprintf(cmd, sizeof cmd, "PKG_CONFIG_PATH=%s/lib/pkgconfig cc %s/examples/embed.c "
		 "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags --libs mgc) -o %s",
		 prefix, MG_SOURCE_DIR, prefix, files_path("embed"));
	rc = files_sh(log, sizeof log, "%s", cmd);
	CHECK(rc == 0, "%s: %s", cmd, log);
	check_embed(files_path("embed"), plan, "embed_installed");
	rc = files_sh(log, sizeof log, "(%s/bin/mgc compile %s %s -o %s --quiet && %s "
		      "--dataset_dir=%s --output_dir=%s --quiet)", prefix, ex, sample,
		      files_path("pre2"), files_path("pre2"), data, files_path("installed_out"));
	CHECK(rc == 0, "%s", log);
	check_same_tree(ref, files_path("installed_out"));
}

/* The spleen chain (generated casts, ScaleIntensityRange and resamplers) with both keys
 * saved, compiled with its kernels traced on item 0 of the datalist and with none: the
 * outputs are mgc run's (llvm) byte for byte; --verbose counts the kernels; traced on an
 * item whose image is a uint8 label map instead, the int16 images' cast falls back to
 * its reference kernel with the same bytes; the trace wrote nothing to output_dir; the
 * executable has the kernels and no LLVM. */
static void test_kernels(void)
{
	char log[16384], run[300], out[300], cfg[300];
	snprintf(cfg, sizeof cfg, "%s", files_path("spleen_save.json"));
	FILE *f = fopen(cfg, "w");
	fprintf(f, "{\"dataset_dir\": \"%s\", \"output_dir\": \"%s\", "
		   "\"datalist\": {\"_target_\": \"load_decathlon_datalist\", "
		   "\"data_list_file_path\": \"@dataset_dir\", \"data_list_key\": \"training\", "
		   "\"base_dir\": \"@dataset_dir\"}, \"dataset\": {\"_target_\": \"Dataset\", "
		   "\"data\": \"@datalist\", \"transform\": {\"_target_\": \"Compose\", "
		   "\"transforms\": [{\"_target_\": \"LoadImaged\", \"keys\": [\"image\", \"label\"]}, "
		   "{\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\", \"label\"]}, "
		   "{\"_target_\": \"ScaleIntensityRanged\", \"keys\": \"image\", \"a_min\": -57, "
		   "\"a_max\": 164, \"b_min\": 0.0, \"b_max\": 1.0, \"clip\": true}, "
		   "{\"_target_\": \"CropForegroundd\", \"keys\": [\"image\", \"label\"], "
		   "\"source_key\": \"image\"}, "
		   "{\"_target_\": \"Orientationd\", \"keys\": [\"image\", \"label\"], \"axcodes\": \"RAS\"}, "
		   "{\"_target_\": \"Spacingd\", \"keys\": [\"image\", \"label\"], "
		   "\"pixdim\": [1.5, 1.5, 2.0], \"mode\": [\"bilinear\", \"nearest\"]}, "
		   "{\"_target_\": \"SaveImaged\", \"keys\": [\"image\", \"label\"], "
		   "\"output_dir\": \"@output_dir\", \"output_postfix\": \"\", \"resample\": false}]}}}",
		data, files_path("never_written"));
	fclose(f);
	snprintf(run, sizeof run, "%s", files_path("spleen_run"));
	int rc = files_sh(log, sizeof log, "%s run %s --output_dir=%s --quiet", MG_BIN, cfg, run);
	CHECK(rc == 0, "%s", log);

	const char *exe = files_path("spleen");
	rc = files_sh(log, sizeof log, "%s compile %s -o %s", MG_BIN, cfg, exe);
	CHECK(rc == 0 && strstr(log, "5 generated kernels"), "%s", log);
	struct stat st;
	CHECK(stat(files_path("never_written"), &st) != 0, "the trace wrote into output_dir");
	snprintf(out, sizeof out, "%s", files_path("spleen_exe"));
	rc = files_sh(log, sizeof log, "%s --output_dir=%s --verbose --quiet", exe, out);
	CHECK(rc == 0 && strstr(log, "kernels: 5 linked, 15 step calls ran them; 0 fell back"),
	      "%s", log);
	check_same_tree(run, out);
	rc = files_sh(log, sizeof log, "ldd %s | grep -ci llvm; nm %s | grep -ci llvm; "
		      "nm %s | grep -c ' T mg_aot_kernel_'", exe, exe, exe);
	CHECK(!strcmp(log, "0\n0\n5\n"), "LLVM in the executable, or not 5 kernels: %s", log);

	exe = files_path("spleen_nt");
	rc = files_sh(log, sizeof log, "%s compile %s --no-trace -o %s", MG_BIN, cfg, exe);
	CHECK(rc == 0 && strstr(log, "no generated kernels (--no-trace)"), "%s", log);
	snprintf(out, sizeof out, "%s", files_path("spleen_nt_out"));
	rc = files_sh(log, sizeof log, "%s --output_dir=%s --verbose --quiet", exe, out);
	CHECK(rc == 0 && strstr(log, "kernels: none linked"), "%s", log);
	check_same_tree(run, out);

	exe = files_path("spleen_u8");
	rc = files_sh(log, sizeof log, "%s compile %s --sample=image=%s/labelsTr/synth_000.nii.gz "
		      "--sample=label=%s/labelsTr/synth_000.nii.gz -o %s", MG_BIN, cfg, data,
		      data, exe);
	CHECK(rc == 0 && strstr(log, "4 generated kernels"), "%s", log);
	snprintf(out, sizeof out, "%s", files_path("spleen_u8_out"));
	rc = files_sh(log, sizeof log, "%s --output_dir=%s --verbose --quiet --threads=1", exe, out);
	CHECK(rc == 0 && strstr(log, "kernels: 4 linked, 12 step calls ran them; 3 fell back") &&
		      strstr(log, "(kernels not traced at compile time: CastToType)"), "%s", log);
	check_same_tree(run, out);
}

/* Reduction kernels (a fused ScaleIntensityRange -> NormalizeIntensity(nonzero) ->
 * ShiftIntensity on the image, ScaleIntensity per channel on the label) are traced and
 * linked like maps: the executable, compiled for generic x86-64, runs them all (none
 * falls back) with mgc run's outputs byte for byte (the synthetic images are integers,
 * whose float64 sums are exact in any order), and its kernels use no AVX register. An
 * unknown --target-cpu is refused before any work, naming the valid ones. */
static void test_reductions(void)
{
	char log[16384], run[300], out[300], cfg[300];
	snprintf(cfg, sizeof cfg, "%s", files_path("normalize.json"));
	FILE *f = fopen(cfg, "w");
	fprintf(f, "{\"dataset_dir\": \"%s\", \"output_dir\": \"%s\", "
		   "\"datalist\": {\"_target_\": \"load_decathlon_datalist\", "
		   "\"data_list_file_path\": \"@dataset_dir\", \"data_list_key\": \"training\", "
		   "\"base_dir\": \"@dataset_dir\"}, \"dataset\": {\"_target_\": \"Dataset\", "
		   "\"data\": \"@datalist\", \"transform\": {\"_target_\": \"Compose\", "
		   "\"transforms\": [{\"_target_\": \"LoadImaged\", \"keys\": [\"image\", \"label\"]}, "
		   "{\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\", \"label\"]}, "
		   "{\"_target_\": \"ScaleIntensityRanged\", \"keys\": \"image\", \"a_min\": -57, "
		   "\"a_max\": 164, \"b_min\": 0.0, \"b_max\": 1000.0, \"clip\": true, "
		   "\"dtype\": \"float64\"}, "
		   "{\"_target_\": \"NormalizeIntensityd\", \"keys\": \"image\", \"nonzero\": true}, "
		   "{\"_target_\": \"ShiftIntensityd\", \"keys\": \"image\", \"offset\": 1.0}, "
		   "{\"_target_\": \"ScaleIntensityd\", \"keys\": \"label\", \"channel_wise\": true}, "
		   "{\"_target_\": \"SaveImaged\", \"keys\": [\"image\", \"label\"], "
		   "\"output_dir\": \"@output_dir\", \"output_postfix\": \"\", \"resample\": false}]}}}",
		data, files_path("never_written2"));
	fclose(f);
	snprintf(run, sizeof run, "%s", files_path("normalize_run"));
	int rc = files_sh(log, sizeof log, "%s run %s --output_dir=%s --quiet", MG_BIN, cfg, run);
	CHECK(rc == 0, "%s", log);

	const char *exe = files_path("normalize");
	rc = files_sh(log, sizeof log, "%s compile %s --target-cpu=nehalem -o %s", MG_BIN, cfg, exe);
	CHECK(rc == 1 && strstr(log, "--target-cpu=nehalem: unknown target") &&
		      strstr(log, "x86-64-v3") && !strstr(log, "traced"), "%s", log);
	rc = files_sh(log, sizeof log, "%s compile %s --target-cpu=generic --verbose -o %s", MG_BIN,
		      cfg, exe);
	CHECK(rc == 0 && strstr(log, ": NormalizeIntensity\n") && strstr(log, ": FusedElementwise\n") &&
		      strstr(log, ": ScaleIntensity\n"),
	      "%s", log);
	snprintf(out, sizeof out, "%s", files_path("normalize_exe"));
	rc = files_sh(log, sizeof log, "%s --output_dir=%s --verbose --quiet", exe, out);
	CHECK(rc == 0 && strstr(log, "0 fell back"), "%s", log);
	check_same_tree(run, out);
	rc = files_sh(log, sizeof log, "objdump -d %s | awk '/<mg_aot_kernel_[0-9]+>:/{k=1;next} "
		      "/^$/{k=0} k' | grep -c '%%[yz]mm'", exe);
	CHECK(!strcmp(log, "0\n"), "AVX registers in kernels made for generic x86-64: %s", log);
}

/* The percentile ops' kernels (the selection's histogram kernels, then the map), a
 * ScaleIntensityRangePercentiles per channel fused after a cast with a whole-image
 * ClipIntensityPercentiles, are traced and linked: the executable runs them all, none
 * falls back, with mgc run's outputs byte for byte (the selection is exact). */
static void test_percentiles(void)
{
	char log[16384], run[300], out[300], cfg[300];
	snprintf(cfg, sizeof cfg, "%s", files_path("percentiles.json"));
	FILE *f = fopen(cfg, "w");
	fprintf(f, "{\"dataset_dir\": \"%s\", \"output_dir\": \"%s\", "
		   "\"datalist\": {\"_target_\": \"load_decathlon_datalist\", "
		   "\"data_list_file_path\": \"@dataset_dir\", \"data_list_key\": \"training\", "
		   "\"base_dir\": \"@dataset_dir\"}, \"dataset\": {\"_target_\": \"Dataset\", "
		   "\"data\": \"@datalist\", \"transform\": {\"_target_\": \"Compose\", "
		   "\"transforms\": [{\"_target_\": \"LoadImaged\", \"keys\": [\"image\"]}, "
		   "{\"_target_\": \"EnsureChannelFirstd\", \"keys\": [\"image\"]}, "
		   "{\"_target_\": \"CastToTyped\", \"keys\": \"image\", \"dtype\": \"float32\"}, "
		   "{\"_target_\": \"ScaleIntensityRangePercentilesd\", \"keys\": \"image\", "
		   "\"lower\": 5, \"upper\": 95, \"b_min\": 0.0, \"b_max\": 1.0, \"clip\": true, "
		   "\"channel_wise\": true}, "
		   "{\"_target_\": \"ClipIntensityPercentilesd\", \"keys\": \"image\", "
		   "\"lower\": 10, \"upper\": 90}, "
		   "{\"_target_\": \"SaveImaged\", \"keys\": [\"image\"], "
		   "\"output_dir\": \"@output_dir\", \"output_postfix\": \"\", \"resample\": false}]}}}",
		data, files_path("never_written3"));
	fclose(f);
	snprintf(run, sizeof run, "%s", files_path("percentiles_run"));
	int rc = files_sh(log, sizeof log, "%s run %s --output_dir=%s --quiet", MG_BIN, cfg, run);
	CHECK(rc == 0, "%s", log);
	const char *exe = files_path("percentiles");
	rc = files_sh(log, sizeof log, "%s compile %s --verbose -o %s", MG_BIN, cfg, exe);
	CHECK(rc == 0 && strstr(log, ": FusedElementwise\n"), "%s", log);
	snprintf(out, sizeof out, "%s", files_path("percentiles_exe"));
	rc = files_sh(log, sizeof log, "%s --output_dir=%s --verbose --quiet", exe, out);
	/* per item: 3 histogram levels for each op's float32 percentiles, the fused map, and
	 * the loader's cast */
	CHECK(rc == 0 && strstr(log, "kernels: 8 linked, 24 step calls ran them; 0 fell back"),
	      "%s", log);
	check_same_tree(run, out);
}

int main(void)
{
	if (files_init("mg_compile_"))
		return 1;
	char log[16384];
	snprintf(data, sizeof data, "%s", files_path("data"));
	snprintf(ref, sizeof ref, "%s", files_path("run_out"));
	int rc = files_sh(log, sizeof log, "%s synth %s --n 3 --size 40x36x12 --seed 5", MG_BIN, data);
	CHECK(rc == 0, "synth: %s", log);
	rc = files_sh(log, sizeof log, "%s run %s --dataset_dir=%s --output_dir=%s --quiet", MG_BIN,
		      ex, data, ref);
	CHECK(rc == 0, "run: %s", log);
	snprintf(sample, sizeof sample, "--sample=image=%s/imagesTr/synth_000.nii.gz "
		 "--sample=label=%s/labelsTr/synth_000.nii.gz", data, data);
	test_executable();
	test_kernels();
	test_reductions();
	test_percentiles();
	test_embed();
	files_done();
	return check_done();
}
