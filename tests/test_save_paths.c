/* test_save_paths.c: where SaveImage writes, against MONAI's own answers
 * (tests/golden/save_paths/cases.json, made by tools/golden/gen_save_paths.py from
 * monai.data.FolderLayout / create_file_basename): output_dir "" (the current folder),
 * data_root_dir above, equal to and beside the source, name stems. Runs the kernel in a
 * fresh folder two levels below a mkdtemp one, so "../../x" stays inside it. Also the
 * path functions behind it (fs.c) and mg_mkdirs' errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../frontend/build.h"
#include "check.h"
#include "files.h"

static struct mg_err err;

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs SaveImage(args) on a small image whose source file is `source`; returns what it
 * logged as written (malloc'd), or NULL when it failed. */
static char *save(const cJSON *args, const char *source)
{
	struct mg_arena arena = {0};
	const struct mg_opdef *d = mg_ops[MG_OP_SaveImage];
	struct mg_attr attrs[32];
	char *log = NULL;
	size_t loglen = 0;
	struct mg_val in = {0}, out = {0};
	int64_t dims[4] = {1, 2, 2, 2};
	int rc = mg_attrs_parse(d, args, -1, 1, NULL, &arena, attrs, &err);
	if (!rc)
		rc = mg_tensor_alloc(&in.t, MG_DTYPE_F32, 4, dims, &err);
	if (!rc) {
		in.kind = MG_VK_TENSOR;
		memset(mg_tensor_data(&in.t), 0, 8 * sizeof(float));
		struct mg_meta *m = mg_meta_mut(&in.t);
		rc = !m || mg_meta_set_filename(m, source);
	}
	FILE *f = open_memstream(&log, &loglen);
	struct mg_kctx k = {.err = &err, .log = f, .gz_level = 1};
	if (!rc)
		rc = d->ref(attrs, &in, &out, &k);
	fclose(f);
	CHECK(rc == 0, "%s: %s", source, err.msg);
	CHECK(rc || (out.kind == MG_VK_TENSOR && out.t.buf == in.t.buf), "the image passes");
	mg_err_clear(&err);
	mg_val_release(&in);
	mg_val_release(&out);
	mg_arena_free(&arena);
	const char *p = log ? strstr(log, "file written: ") : NULL;
	char *path = p && !rc ? strndup(p + 14, strcspn(p + 14, "\n")) : NULL;
	free(log);
	return path;
}

static void test_golden(void)
{
	char *text = files_read(MG_SOURCE_DIR "/tests/golden/save_paths/cases.json");
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL, "cannot read tests/golden/save_paths/cases.json");
	const cJSON *c;
	int n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
	{
		const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
		const char *want = cJSON_GetObjectItem(c, "expected")->valuestring;
		cJSON *args = cJSON_Duplicate(cJSON_GetObjectItem(c, "args"), 1);
		cJSON_AddBoolToObject(args, "print_log", 1);
		char *got = save(args, cJSON_GetObjectItem(c, "source")->valuestring);
		CHECK(got && strcmp(got, want) == 0, "%s: wrote '%s', MONAI writes '%s'", name,
		      got ? got : "(nothing)", want);
		CHECK(is_file(want), "%s: no file at %s", name, want);
		free(got);
		cJSON_Delete(args);
		n++;
	}
	CHECK(n >= 20, "%d cases", n);
	cJSON_Delete(doc);
	free(text);
}

/* The folders SaveImage makes are MONAI's makedirs(output), before normalising: an
 * output_dir "" never reaches "/". */
static void test_folders(void)
{
	cJSON *args = cJSON_Parse("{\"output_dir\": \"\", \"separate_folder\": false, "
				  "\"print_log\": true, \"output_postfix\": \"\"}");
	char *got = save(args, "/nowhere/b.nii");
	CHECK(got && strcmp(got, "b.nii.gz") == 0 && is_file("b.nii.gz"), "%s", got);
	free(got);
	cJSON_Delete(args);
	args = cJSON_Parse("{\"output_dir\": \"made\", \"data_root_dir\": \"other\", "
			   "\"print_log\": true}");
	got = save(args, "src/c.nii.gz"); /* makedirs("made/../src/c") makes "made" too */
	CHECK(got && strcmp(got, "src/c/c_trans.nii.gz") == 0, "%s", got);
	struct stat st;
	CHECK(stat("made", &st) == 0 && S_ISDIR(st.st_mode));
	free(got);
	cJSON_Delete(args);
}

static void test_paths(void)
{
	static const struct {
		const char *a, *b, *join;
	} joins[] = {
		/* os.path.join */
		{"", "", ""},	  {"", "x", "x"},	    {"o", "", "o/"},
		{"o/", "x", "o/x"}, {"o", "/abs", "/abs"}, {"o//", "x", "o//x"},
	};
	for (size_t i = 0; i < sizeof joins / sizeof *joins; i++) {
		char *j = mg_path_join(joins[i].a, joins[i].b);
		CHECK(j && strcmp(j, joins[i].join) == 0, "join('%s', '%s') = '%s'", joins[i].a,
		      joins[i].b, j);
		free(j);
	}
	static const struct {
		const char *path, *start, *rel;
	} rels[] = {
		/* os.path.relpath, on paths that do not depend on the cwd */
		{"a/b", "a", "b"},
		{"a", "a", "."},
		{"a/b", "c", "../a/b"},
		{"/x/y", "/x/z/w", "../../y"},
		{"/", "/", "."},
		{"/a//b/", "/a/", "b"},
		{"a/./b/../c", "a", "c"},
		{"/x", "/", "x"},
	};
	for (size_t i = 0; i < sizeof rels / sizeof *rels; i++) {
		char *r = mg_path_relpath(rels[i].path, rels[i].start);
		CHECK(r && strcmp(r, rels[i].rel) == 0, "relpath('%s', '%s') = '%s', want '%s'",
		      rels[i].path, rels[i].start, r, rels[i].rel);
		free(r);
	}
	/* a relative path against an absolute start goes through the cwd */
	char cwd[1024], *r = NULL;
	if (getcwd(cwd, sizeof cwd))
		r = mg_path_relpath("k", cwd);
	CHECK(r && strcmp(r, "k") == 0, "%s", r);
	free(r);
	char *n = mg_path_normpath("//a/../b/./c//");
	CHECK(n && strcmp(n, "//b/c") == 0, "%s", n);
	free(n);
}

static void test_mkdirs(void)
{
	CHECK_OK(mg_mkdirs("", &err), &err);
	CHECK_OK(mg_mkdirs("m1/m2//m3/", &err), &err);
	CHECK_OK(mg_mkdirs("m1/m2/m3", &err), &err); /* exists: fine */
	CHECK_OK(mg_mkdirs("m1/./m4/../m5", &err), &err);
	struct stat st;
	CHECK(stat("m1/m5", &st) == 0 && S_ISDIR(st.st_mode));
	FILE *f = fopen("m1/file", "w");
	if (f)
		fclose(f);
	CHECK_FAILS(mg_mkdirs("m1/file", &err), &err, "m1/file exists and is not a folder");
	CHECK_FAILS(mg_mkdirs("m1/file/x", &err), &err,
		    "cannot create folder m1/file/x: Not a directory");
	char buf[64];
	CHECK(strcmp(mg_strerror(ENOENT, buf, sizeof buf), "No such file or directory") == 0);
	CHECK(strcmp(mg_strerror(EACCES, buf, sizeof buf), "Permission denied") == 0);
}

int main(void)
{
	char here[1024];
	if (files_init("mg_save_") || !getcwd(here, sizeof here))
		return 1;
	const char *work = files_path("p/q");
	CHECK_OK(mg_mkdirs(work, &err), &err);
	if (chdir(work) != 0)
		return perror(work), 1;
	test_golden();
	test_folders();
	test_paths();
	test_mkdirs();
	if (chdir(here) != 0)
		perror(here);
	files_done();
	return check_done();
}
