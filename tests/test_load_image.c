/* test_load_image.c: LoadImage with several files per item (MONAI's np.allclose affine
 * check, stacking files of different dtypes, ensure_channel_first), the NIfTI file-name
 * rules every module shares (mg_nifti_is_name, mg_nifti_stem, .hdr/.img pairs in any
 * letter case), and the reader's and writer's error texts. Files are written at run time
 * into a mkdtemp folder. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../frontend/build.h"
#include "check.h"
#include "files.h"

#define tmp files_path

static struct mg_err err;

/* A 2x3x2 image of dtype dt, values base + i, with x translation tx. */
static const char *put_image(const char *name, enum mg_dtype dt, int base, double tx)
{
	struct mg_tensor t;
	const char *path = tmp(name);
	CHECK_OK(mg_tensor_alloc(&t, dt, 3, (int64_t[]){2, 3, 2}, &err), &err);
	for (int i = 0; i < 12; i++)
		mg_dtype_store(dt, (char *)mg_tensor_data(&t) + i * mg_dtype_size(dt), base + i);
	struct mg_meta *m = mg_meta_mut(&t);
	m->affine[0][0] = 2;
	m->affine[0][3] = tx;
	CHECK_OK(mg_nifti_write(path, &t, dt, 1, &err), &err);
	mg_tensor_release(&t);
	return path;
}

/* Runs LoadImage(args) on the files; 0 and *out, or the kernel's status. */
static int load(const char *args, const char *const *files, int n, struct mg_val *out)
{
	struct mg_arena arena = {0};
	const struct mg_opdef *d = mg_ops[MG_OP_LoadImage];
	struct mg_attr attrs[16];
	cJSON *j = cJSON_Parse(args);
	int rc = mg_attrs_parse(d, j, -1, 1, NULL, &arena, attrs, &err);
	cJSON_Delete(j);
	struct mg_val in = {.kind = MG_VK_STRINGS, .nstr = n};
	in.str = calloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++)
		in.str[i] = strdup(files[i]);
	struct mg_kctx k = {.err = &err};
	memset(out, 0, sizeof *out);
	if (!rc)
		rc = d->ref(attrs, &in, out, &k);
	mg_val_release(&in);
	mg_arena_free(&arena);
	return rc;
}

static double at(const struct mg_tensor *t, int64_t c, int64_t x, int64_t y, int64_t z)
{
	int64_t idx[4] = {c, x, y, z};
	return mg_dtype_load(t->dtype, mg_tensor_at(t, idx));
}

static void test_stack(void)
{
	struct mg_val v;
	/* different dtypes: stacked as float64, every value exact; then LoadImage's dtype */
	const char *mixed[] = {put_image("i16.nii", MG_DTYPE_I16, -300, 0),
			       put_image("u8.nii", MG_DTYPE_U8, 200, 0),
			       put_image("f32.nii.gz", MG_DTYPE_F32, 7, 0)};
	CHECK_OK(load("{\"dtype\": null}", mixed, 3, &v), &err);
	const struct mg_tensor *t = &v.t;
	CHECK(t->dtype == MG_DTYPE_F64 && t->rank == 4 && t->dims[0] == 3 && t->dims[1] == 2 &&
		      t->dims[2] == 3 && t->dims[3] == 2,
	      "dtype %s rank %d", mg_dtype_name(t->dtype), t->rank);
	CHECK(at(t, 0, 1, 0, 0) == -294 && at(t, 1, 1, 2, 1) == 211 && at(t, 2, 0, 1, 0) == 9);
	CHECK(t->meta->original_channel_dim == 0 && strstr(t->meta->filename, "i16.nii"));
	mg_val_release(&v);
	CHECK_OK(load("{}", mixed, 2, &v), &err);
	CHECK(v.t.dtype == MG_DTYPE_F32 && at(&v.t, 1, 0, 0, 0) == 200);
	mg_val_release(&v);
	/* the same dtype keeps it */
	const char *same[] = {mixed[1], put_image("u8b.nii", MG_DTYPE_U8, 0, 0)};
	CHECK_OK(load("{\"dtype\": null}", same, 2, &v), &err);
	CHECK(v.t.dtype == MG_DTYPE_U8 && at(&v.t, 1, 1, 0, 0) == 6);
	mg_val_release(&v);
	/* affines: np.allclose(other, first), 1e-8 + 1e-5 * |first| */
	const char *near[] = {put_image("t100.nii", MG_DTYPE_U8, 0, 100),
			      put_image("t100b.nii", MG_DTYPE_U8, 0, 100.0005)};
	CHECK_OK(load("{}", near, 2, &v), &err);
	mg_val_release(&v);
	const char *far[] = {near[0], put_image("t101.nii", MG_DTYPE_U8, 0, 100.01)};
	CHECK_FAILS(load("{}", far, 2, &v), &err, "have different affines");
	const char *small[] = {put_image("t0.nii", MG_DTYPE_U8, 0, 0),
			       put_image("t0b.nii", MG_DTYPE_U8, 0, 0.0001)};
	CHECK_FAILS(load("{}", small, 2, &v), &err, "have different affines");
	/* shapes must agree */
	struct mg_tensor s;
	CHECK_OK(mg_tensor_alloc(&s, MG_DTYPE_U8, 3, (int64_t[]){2, 3, 3}, &err), &err);
	memset(mg_tensor_data(&s), 0, 18);
	CHECK_OK(mg_nifti_write(tmp("shape.nii"), &s, MG_DTYPE_U8, 1, &err), &err);
	mg_tensor_release(&s);
	const char *shapes[] = {same[1], tmp("shape.nii")};
	CHECK_FAILS(load("{}", shapes, 2, &v), &err, "differ in shape");
}

static void test_channel_first(void)
{
	struct mg_val v;
	const char *one[] = {tmp("u8.nii")};
	CHECK_OK(load("{\"ensure_channel_first\": true}", one, 1, &v), &err);
	CHECK(v.t.rank == 4 && v.t.dims[0] == 1 && v.t.dims[1] == 2 && v.t.dims[3] == 2);
	mg_val_release(&v);
	const char *two[] = {tmp("u8.nii"), tmp("u8b.nii")};
	CHECK_OK(load("{\"ensure_channel_first\": true}", two, 2, &v), &err);
	CHECK(v.t.rank == 4 && v.t.dims[0] == 2 && v.t.dims[1] == 2, "stacked: channel 0");
	mg_val_release(&v);
	/* the exported move itself */
	struct mg_tensor t = {.rank = 4, .dims = {2, 3, 4, 5}};
	CHECK_OK(mg_channel_first(&t, -1, "channel_dim", &err), &err);
	CHECK(t.dims[0] == 5 && t.dims[1] == 2 && t.dims[3] == 4);
	CHECK_FAILS(mg_channel_first(&t, 4, "channel_dim", &err), &err,
		    "channel_dim 4 is not an axis of the rank-4 image");
}

static void test_names(void)
{
	static const struct {
		const char *path;
		int is_nifti;
		const char *stem;
	} cases[] = {
		{"a/b/img.nii.gz", 1, "img"}, {"img.nii", 1, "img"}, {"IMG.NII.GZ", 1, "IMG.NII"},
		{"x.hdr", 1, "x"},	      {"x.hdr.gz", 1, "x"},  {"x.IMG", 1, "x"},
		{"x.img.gz", 1, "x"},	      {"a.b.nii", 1, "a.b"}, {".nii.gz", 0, ".nii"},
		{"dir.nii/x.png", 0, "x"},    {"nii", 0, "nii"},     {"x.nii.bak", 0, "x.nii"},
		{".nii", 0, ".nii"},	      {"x.tar.gz", 0, "x"},  {"x.gz", 0, "x"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char stem[64];
		CHECK(mg_nifti_is_name(cases[i].path) == cases[i].is_nifti, "%s", cases[i].path);
		size_t n = mg_nifti_stem(cases[i].path, stem, sizeof stem);
		CHECK(n == strlen(cases[i].stem) && strcmp(stem, cases[i].stem) == 0,
		      "stem(%s) = '%s', want '%s'", cases[i].path, stem, cases[i].stem);
	}
	char small[3];
	CHECK(mg_nifti_stem("abcdef.nii", small, sizeof small) == 6 && strcmp(small, "ab") == 0);
	/* LoadImage asks the same rule */
	struct mg_val v;
	const char *png[] = {tmp("x.png")};
	CHECK_FAILS(load("{}", png, 1, &v), &err, "only NIfTI files");
	/* the other file of a pair keeps the name's letter case */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cp %s/tests/data/nifti/pair.hdr %s/P.HDR && cp "
		 "%s/tests/data/nifti/pair.img %s/P.IMG", MG_SOURCE_DIR, files_dir, MG_SOURCE_DIR,
		 files_dir);
	CHECK(system(cmd) == 0);
	struct mg_tensor a, b;
	CHECK_OK(mg_nifti_read(tmp("P.IMG"), &a, &err), &err);
	CHECK_OK(mg_nifti_read(MG_SOURCE_DIR "/tests/data/nifti/pair.img", &b, &err), &err);
	CHECK(a.rank == b.rank && mg_tensor_numel(&a) == mg_tensor_numel(&b) &&
	      memcmp(mg_tensor_data(&a), mg_tensor_data(&b),
		     (size_t)mg_tensor_numel(&a) * mg_dtype_size(a.dtype)) == 0);
	mg_tensor_release(&a);
	mg_tensor_release(&b);
}

static void test_io_errors(void)
{
	struct mg_tensor t;
	CHECK_OK(mg_tensor_alloc(&t, MG_DTYPE_U8, 3, (int64_t[]){2, 2, 2}, &err), &err);
	memset(mg_tensor_data(&t), 1, 8);
	/* two different mistakes, two messages */
	int rc = mg_nifti_write(tmp("l.nii.gz"), &t, MG_DTYPE_U8, 10, &err);
	CHECK(rc != 0 && strstr(err.msg, "gzip level 10 is outside 0..9") &&
		      !strstr(err.msg, "dtype"),
	      "%s", err.msg);
	mg_err_clear(&err);
	rc = mg_nifti_write(tmp("d.nii"), &t, (enum mg_dtype)99, 1, &err);
	CHECK(rc != 0 && strstr(err.msg, "bad dtype 99") && !strstr(err.msg, "gzip"), "%s",
	      err.msg);
	mg_err_clear(&err);
	/* any letter case of the two endings is written; others are refused */
	CHECK_OK(mg_nifti_write(tmp("UP.NII"), &t, MG_DTYPE_U8, 1, &err), &err);
	CHECK_FAILS(mg_nifti_write(tmp("x.hdr"), &t, MG_DTYPE_U8, 1, &err), &err,
		    "end in .nii or .nii.gz");
	mg_tensor_release(&t);
	/* reading a folder, a missing file, a path through a file */
	CHECK(mkdir(tmp("folder.nii"), 0777) == 0);
	CHECK_FAILS(mg_nifti_read(tmp("folder.nii"), &t, &err), &err,
		    "folder.nii: cannot read: is a directory");
	CHECK_FAILS(mg_nifti_read(tmp("none.nii"), &t, &err), &err,
		    "none.nii: cannot open: No such file or directory");
	CHECK_FAILS(mg_nifti_read(tmp("UP.NII/x.nii"), &t, &err), &err,
		    "cannot open: Not a directory");
}

int main(void)
{
	if (files_init("mg_load_"))
		return 1;
	test_stack();
	test_channel_first();
	test_names();
	test_io_errors();
	files_done();
	return check_done();
}
