/* test_synth.c: `mgc synth` end to end: the dataset.json layout and the files it lists,
 * their dtypes, shapes, affines and content, determinism (also across the two parallel
 * modes), and the exit codes of bad options.
 * Read next: tools/synth.c, docs/synth.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../runtime/runtime.h"
#include "check.h"

#define NLABEL 6 /* background, liver, spleen, right kidney, left kidney, spine */

static char tmp[256];

/* Runs `mgc ARGS` with stdout and stderr in tmp/out.txt and tmp/err.txt; its exit code. */
static int run_mgc(const char *args)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out.txt' 2>'%s/err.txt'", MG_BIN, args, tmp, tmp);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p) {
		p[n] = 0;
		*size = (size_t)n;
	}
	return p;
}

static int same_file(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	char *pa = slurp(a, &na), *pb = slurp(b, &nb);
	int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static double voxel(const struct mg_tensor *t, int64_t i, int64_t j, int64_t k)
{
	return mg_dtype_load(t->dtype, mg_tensor_at(t, (int64_t[]){i, j, k}));
}

/* dims within the jitter synth promises: +-10% in x and y, +-20% in z, at least 8. */
static void check_dims(const struct mg_tensor *t, const int64_t size[3])
{
	const double jit[3] = {0.1, 0.1, 0.2};
	CHECK(t->rank == 3, "rank %d", t->rank);
	for (int ax = 0; ax < 3 && t->rank == 3; ax++) {
		double lo = floor((double)size[ax] * (1 - jit[ax])) - 1;
		double hi = (double)size[ax] * (1 + jit[ax]) + 1;
		if (lo < 8)
			lo = 8;
		CHECK(t->dims[ax] >= lo && t->dims[ax] <= hi, "axis %d: %lld not in [%g, %g]", ax,
		      (long long)t->dims[ax], lo, hi);
	}
}

/* The affine: LPS orientation, voxel size 0.8x0.8x2.5, oblique (not diagonal). */
static void check_affine(const double a[4][4])
{
	const double sp[3] = {0.8, 0.8, 2.5};
	char codes[4] = {0};
	mg_affine_axcodes(a, 3, codes);
	CHECK(strcmp(codes, "LPS") == 0, "axcodes '%s'", codes);
	CHECK(a[0][0] < 0 && a[1][1] < 0 && a[2][2] > 0, "diagonal %g %g %g", a[0][0], a[1][1],
	      a[2][2]);
	for (int c = 0; c < 3; c++) {
		double n = sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
		CHECK_CLOSE(n, sp[c], 1e-6, 0);
	}
	CHECK(fabs(a[1][0]) > 0.01 && fabs(a[2][1]) > 0.001, "not oblique");
	CHECK(a[3][0] == 0 && a[3][1] == 0 && a[3][2] == 0 && a[3][3] == 1, "last row");
}

struct stats {
	int present[NLABEL];
	double spleen_sum, spleen_min, spleen_max;
	int64_t spleen_n;
};

/* One training pair: shapes, dtypes, shared affine, labels and HU where they belong. */
static void check_case(const char *dir, const char *image, const char *label, struct stats *s)
{
	char ip[512], lp[512];
	snprintf(ip, sizeof ip, "%s/%s", dir, image);
	snprintf(lp, sizeof lp, "%s/%s", dir, label);
	CHECK(exists(ip) && exists(lp), "%s or %s missing", ip, lp);
	struct mg_tensor im = {0}, lb = {0};
	struct mg_err e = {0};
	CHECK_OK(mg_nifti_read(ip, &im, &e), &e);
	CHECK_OK(mg_nifti_read(lp, &lb, &e), &e);
	if (!im.buf || !lb.buf || !im.meta || !lb.meta) {
		mg_tensor_release(&im);
		mg_tensor_release(&lb);
		return;
	}
	CHECK(im.dtype == MG_DTYPE_I16, "image dtype %s", mg_dtype_name(im.dtype));
	CHECK(lb.dtype == MG_DTYPE_U8, "label dtype %s", mg_dtype_name(lb.dtype));
	check_dims(&im, (const int64_t[]){40, 36, 12});
	CHECK(lb.rank == im.rank && memcmp(lb.dims, im.dims, sizeof im.dims) == 0, "shapes");
	CHECK(memcmp(im.meta->affine, lb.meta->affine, sizeof im.meta->affine) == 0,
	      "image and label affines differ");
	check_affine(im.meta->affine);
	if (im.rank != 3 || memcmp(lb.dims, im.dims, sizeof im.dims) != 0) {
		mg_tensor_release(&im);
		mg_tensor_release(&lb);
		return;
	}
	int64_t X = im.dims[0], Y = im.dims[1], Z = im.dims[2], bad = 0;
	CHECK(voxel(&im, 0, 0, 0) == -1000 && voxel(&im, X - 1, Y - 1, Z - 1) == -1000,
	      "corners are not air");
	CHECK(voxel(&im, X / 2, Y / 2, Z / 2) > -200, "no body at the centre");
	for (int64_t k = 0; k < Z; k++)
		for (int64_t j = 0; j < Y; j++)
			for (int64_t i = 0; i < X; i++) {
				double l = voxel(&lb, i, j, k), h = voxel(&im, i, j, k);
				if (l < 0 || l >= NLABEL || l != floor(l)) {
					bad++;
					continue;
				}
				s->present[(int)l] = 1;
				if (l != 2)
					continue;
				s->spleen_sum += h;
				s->spleen_n++;
				s->spleen_min = h < s->spleen_min ? h : s->spleen_min;
				s->spleen_max = h > s->spleen_max ? h : s->spleen_max;
			}
	CHECK(bad == 0, "%lld voxels with labels outside 0..%d", (long long)bad, NLABEL - 1);
	mg_tensor_release(&im);
	mg_tensor_release(&lb);
}

/* DIR/dataset.json and every file it names; returns the parsed json (caller deletes). */
static cJSON *check_dataset(const char *dir, int ntrain, int ntest, struct stats *s)
{
	char path[512];
	size_t n = 0;
	snprintf(path, sizeof path, "%s/dataset.json", dir);
	char *txt = slurp(path, &n);
	cJSON *root = txt ? cJSON_Parse(txt) : NULL;
	free(txt);
	CHECK(root != NULL, "%s does not parse", path);
	if (!root)
		return NULL;
	const cJSON *mod = cJSON_GetObjectItem(root, "modality");
	const cJSON *labels = cJSON_GetObjectItem(root, "labels");
	CHECK(cJSON_IsString(cJSON_GetObjectItem(mod, "0")) &&
		      !strcmp(cJSON_GetObjectItem(mod, "0")->valuestring, "CT"), "modality");
	CHECK(cJSON_GetArraySize(labels) == NLABEL, "labels");
	const char *l0 = cJSON_GetStringValue(cJSON_GetObjectItem(labels, "0"));
	const char *l2 = cJSON_GetStringValue(cJSON_GetObjectItem(labels, "2"));
	CHECK(l0 && !strcmp(l0, "background") && l2 && !strcmp(l2, "spleen"), "label names");
	CHECK(cJSON_IsString(cJSON_GetObjectItem(root, "name")), "name");
	double ntr = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "numTraining"));
	double nts = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "numTest"));
	CHECK(ntr == ntrain && nts == ntest, "numTraining %g, numTest %g", ntr, nts);
	const cJSON *tr = cJSON_GetObjectItem(root, "training");
	const cJSON *ts = cJSON_GetObjectItem(root, "test");
	CHECK(cJSON_GetArraySize(tr) == ntrain && cJSON_GetArraySize(ts) == ntest, "entries");
	const cJSON *it;
	cJSON_ArrayForEach(it, tr) {
		const char *im = cJSON_GetStringValue(cJSON_GetObjectItem(it, "image"));
		const char *lb = cJSON_GetStringValue(cJSON_GetObjectItem(it, "label"));
		CHECK(im && !strncmp(im, "./imagesTr/", 11), "training image '%s'", im ? im : "");
		CHECK(lb && !strncmp(lb, "./labelsTr/", 11), "training label '%s'", lb ? lb : "");
		if (im && lb && s)
			check_case(dir, im, lb, s);
	}
	cJSON_ArrayForEach(it, ts) {
		const char *im = cJSON_GetStringValue(it);
		CHECK(im && !strncmp(im, "./imagesTs/", 11), "test entry");
		snprintf(path, sizeof path, "%s/%s", dir, im ? im : "");
		CHECK(im && exists(path), "%s missing", path);
		struct mg_tensor t = {0};
		struct mg_err e = {0};
		if (s && im && exists(path)) {
			CHECK_OK(mg_nifti_read(path, &t, &e), &e);
			CHECK(t.dtype == MG_DTYPE_I16, "test image dtype");
			check_dims(&t, (const int64_t[]){40, 36, 12});
			mg_tensor_release(&t);
		}
	}
	return root;
}

/* Every file named in a's dataset.json is byte-identical (or not) in b. */
static int same_dataset(const cJSON *root, const char *a, const char *b)
{
	char pa[512], pb[512];
	int same = 1;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(root, "training")) {
		for (int k = 0; k < 2; k++) {
			const cJSON *name = cJSON_GetObjectItem(it, k ? "label" : "image");
			const char *f = cJSON_GetStringValue(name);
			snprintf(pa, sizeof pa, "%s/%s", a, f ? f : "");
			snprintf(pb, sizeof pb, "%s/%s", b, f ? f : "");
			same &= same_file(pa, pb);
		}
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(root, "test")) {
		snprintf(pa, sizeof pa, "%s/%s", a, it->valuestring);
		snprintf(pb, sizeof pb, "%s/%s", b, it->valuestring);
		same &= same_file(pa, pb);
	}
	return same;
}

/* The voxels of two files, whatever their compression. */
static int same_voxels(const char *a, const char *b)
{
	struct mg_tensor ta = {0}, tb = {0};
	struct mg_err e = {0};
	int same = mg_nifti_read(a, &ta, &e) == 0 && mg_nifti_read(b, &tb, &e) == 0 &&
		   ta.dtype == tb.dtype && ta.rank == 3 && tb.rank == 3 &&
		   memcmp(ta.dims, tb.dims, sizeof ta.dims) == 0;
	for (int64_t k = 0; same && k < ta.dims[2]; k++)
		for (int64_t j = 0; same && j < ta.dims[1]; j++)
			for (int64_t i = 0; same && i < ta.dims[0]; i++)
				same = voxel(&ta, i, j, k) == voxel(&tb, i, j, k);
	mg_tensor_release(&ta);
	mg_tensor_release(&tb);
	return same;
}

static int err_says(const char *needle)
{
	char path[512];
	size_t n = 0;
	snprintf(path, sizeof path, "%s/err.txt", tmp);
	char *txt = slurp(path, &n);
	int ok = txt && strstr(txt, needle) != NULL;
	free(txt);
	return ok;
}

int main(void)
{
	char args[1024], a[300], b[300], p[300];
	snprintf(tmp, sizeof tmp, "/tmp/mg_test_synth_XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(a, sizeof a, "%s/a/nested", tmp); /* parents are created too */
	snprintf(b, sizeof b, "%s/b", tmp);
	snprintf(p, sizeof p, "%s/p", tmp);

	/* 4 cases on 2 threads: each worker draws whole cases */
	snprintf(args, sizeof args, "synth '%s' --n 3 --size 40x36x12 --seed 7 --threads 2", a);
	CHECK(run_mgc(args) == 0, "mgc %s failed", args);
	struct stats s = {.spleen_min = 1e9, .spleen_max = -1e9};
	cJSON *root = check_dataset(a, 3, 1, &s);
	for (int l = 0; l < NLABEL; l++)
		CHECK(s.present[l], "label %d in no case", l);
	CHECK(s.spleen_n > 0, "no spleen voxels");
	if (s.spleen_n > 0) {
		double mean = s.spleen_sum / (double)s.spleen_n;
		CHECK(mean > 30 && mean < 70, "spleen mean HU %g", mean);
		CHECK(s.spleen_min > -20 && s.spleen_max < 130, "spleen HU in [%g, %g]",
		      s.spleen_min, s.spleen_max);
	}

	/* the same seed gives the same bytes; another seed other voxels */
	snprintf(args, sizeof args, "synth '%s' --n 3 --size=40x36x12 --seed=7", b);
	CHECK(run_mgc(args) == 0, "mgc %s failed", args);
	char ja[512], jb[512];
	snprintf(ja, sizeof ja, "%s/dataset.json", a);
	snprintf(jb, sizeof jb, "%s/dataset.json", b);
	CHECK(root && same_dataset(root, a, b) && same_file(ja, jb), "same seed, different bytes");
	snprintf(args, sizeof args, "synth '%s' --n 3 --size 40x36x12 --seed 8", b);
	CHECK(run_mgc(args) == 0, "mgc %s failed", args);
	snprintf(ja, sizeof ja, "%s/imagesTr/synth_000.nii.gz", a);
	snprintf(jb, sizeof jb, "%s/imagesTr/synth_000.nii.gz", b);
	CHECK(!same_file(ja, jb), "seeds 7 and 8 give the same image");

	/* --plain: the same voxels in .nii files; 2 cases on 3 threads are drawn slice by
	 * slice in parallel, and case 0 is the same as when drawn whole */
	snprintf(args, sizeof args, "synth '%s' --n 1 --size 40x36x12 --seed 7 --plain --threads 3",
		 p);
	CHECK(run_mgc(args) == 0, "mgc %s failed", args);
	cJSON *rp = check_dataset(p, 1, 1, NULL);
	snprintf(jb, sizeof jb, "%s/imagesTr/synth_000.nii", p);
	CHECK(exists(jb) && same_voxels(ja, jb), "--plain or --n changed case 0");
	snprintf(ja, sizeof ja, "%s/labelsTr/synth_000.nii.gz", a);
	snprintf(jb, sizeof jb, "%s/labelsTr/synth_000.nii", p);
	CHECK(exists(jb) && same_voxels(ja, jb), "--plain or --n changed label 0");
	cJSON_Delete(rp);
	cJSON_Delete(root);

	/* usage errors exit 2, failures 1, both with a message on stderr */
	static const struct {
		const char *args;
		int code;
	} bad[] = {
		{"synth '%s/x' --n -1", 2},           {"synth '%s/x' --size 0x1x1", 2},
		{"synth '%s/x' --size 40x36", 2},     {"synth '%s/x' --size 9000x9000x9000", 2},
		{"synth '%s/x' --spacing 1x-1x1", 2}, {"synth '%s/x' --bogus 1", 2},
		{"synth '%s/x' --gz-level 0", 2},     {"synth '%s/x' --n", 2},
		{"synth '%s/x' --plain=1", 2},        {"synth '%s/x' --threads -2", 2},
		{"synth", 2},                         {"synth /proc/x --n 1 --size 8x8x8", 1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* the templates without %s ignore tmp */
		snprintf(args, sizeof args, bad[i].args, tmp);
		int rc = run_mgc(args);
		CHECK(rc == bad[i].code, "mgc %s: exit %d, expected %d", args, rc, bad[i].code);
		CHECK(err_says("mgc synth: "), "mgc %s: no message", args);
	}
	char out[512];
	size_t n = 0;
	snprintf(out, sizeof out, "%s/out.txt", tmp);
	CHECK(run_mgc("synth --help") == 0, "--help");
	char *txt = slurp(out, &n);
	CHECK(txt && strstr(txt, "usage: mgc synth"), "--help prints no usage");
	free(txt);

	snprintf(args, sizeof args, "rm -rf '%s'", tmp);
	if (system(args) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_done();
}
