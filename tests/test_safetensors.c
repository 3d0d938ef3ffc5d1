/* test_safetensors.c: runtime/safetensors.c against files the reference implementation
 * (the safetensors package) wrote and judged, from tools/golden/gen_safetensors.py:
 * every tensor's bytes exactly (.npy copies or CRC-32s), names in file order, metadata;
 * mgc rewriting a Python-written file gives the same bytes; round trips of every dtype
 * from strided views; the bad files of tests/data/safetensors fail with their message;
 * failed writes leave nothing behind; and mgc_written.safetensors (which the generator
 * read back with the safetensors package) is still what mgc writes.
 * `test_safetensors --write-interop PATH` writes that file (for the generator). */
#include "check.h"
#include "files.h"
#include "npy.h"

#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../runtime/json.h"
#include "../runtime/safetensors.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/safetensors/"
#define BAD MG_SOURCE_DIR "/tests/data/safetensors/"

/* The format's dtype names as mgc should read them (BOOL as uint8). */
static enum mg_dtype st_dtype(const char *s)
{
	static const char *names[] = {"U8", "I8", "U16", "I16", "U32", "I32", "I64", "F16",
				      "BF16", "F32", "F64"};
	static const enum mg_dtype types[] = {MG_DTYPE_U8,  MG_DTYPE_I8,  MG_DTYPE_U16,
					      MG_DTYPE_I16, MG_DTYPE_U32, MG_DTYPE_I32,
					      MG_DTYPE_I64, MG_DTYPE_F16, MG_DTYPE_BF16,
					      MG_DTYPE_F32, MG_DTYPE_F64};
	for (int i = 0; i < 11; i++)
		if (strcmp(s, names[i]) == 0)
			return types[i];
	return strcmp(s, "BOOL") == 0 ? MG_DTYPE_U8 : MG_DTYPE_COUNT;
}

static size_t nbytes(const struct mg_tensor *t)
{
	return (size_t)mg_tensor_numel(t) * mg_dtype_size(t->dtype);
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int ca = fgetc(fa), cb = fgetc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* metadata as the JSON [[k, v], ...] of cases.json, into key, value, ..., NULL */
static const char **meta_list(const cJSON *m)
{
	int n = cJSON_GetArraySize(m), k = 0;
	const char **out = calloc(2 * (size_t)n + 1, sizeof *out);
	const cJSON *kv;
	cJSON_ArrayForEach(kv, m) {
		out[k++] = cJSON_GetArrayItem(kv, 0)->valuestring;
		out[k++] = cJSON_GetArrayItem(kv, 1)->valuestring;
	}
	return out;
}

static void check_meta(const struct mg_safetensors *st, const cJSON *want, const char *file)
{
	const char *const *m = mg_safetensors_metadata(st);
	const char **w = meta_list(want);
	int i = 0;
	for (; w[i] && m[i]; i++)
		CHECK(strcmp(w[i], m[i]) == 0, "%s: metadata %d: '%s', expected '%s'", file, i, m[i],
		      w[i]);
	CHECK(!w[i] && !m[i], "%s: metadata has a different length", file);
	free(w);
}

/* One tensor of a golden file: dtype, shape, contiguous and aligned, bytes. */
static void check_tensor(const struct mg_tensor *t, const cJSON *want, const char *file)
{
	const char *name = cJSON_GetObjectItem(want, "name")->valuestring;
	const cJSON *shape = cJSON_GetObjectItem(want, "shape"), *npy, *crc;
	CHECK(t->dtype == st_dtype(cJSON_GetObjectItem(want, "dtype")->valuestring),
	      "%s '%s': dtype %s", file, name, mg_dtype_name(t->dtype));
	CHECK(t->rank == cJSON_GetArraySize(shape), "%s '%s': rank %d", file, name, t->rank);
	for (int d = 0; d < t->rank && d < cJSON_GetArraySize(shape); d++)
		CHECK(t->dims[d] == cJSON_GetArrayItem(shape, d)->valueint, "%s '%s': dim %d", file,
		      name, d);
	CHECK(mg_tensor_is_contiguous(t) && t->meta == NULL, "%s '%s'", file, name);
	CHECK((uintptr_t)mg_tensor_data(t) % mg_dtype_size(t->dtype) == 0,
	      "%s '%s': misaligned data", file, name);
	if ((npy = cJSON_GetObjectItem(want, "npy"))) {
		struct mg_err e = {0};
		struct mg_tensor ref;
		char path[512];
		snprintf(path, sizeof path, GOLDEN "%s", npy->valuestring);
		CHECK_OK(npy_read(path, &ref, &e), &e);
		CHECK(nbytes(&ref) == nbytes(t) && mg_tensor_numel(&ref) == mg_tensor_numel(t) &&
			      (nbytes(t) == 0 ||
			       memcmp(mg_tensor_data(&ref), mg_tensor_data(t), nbytes(t)) == 0),
		      "%s '%s': bytes differ from %s", file, name, npy->valuestring);
		mg_tensor_release(&ref);
	}
	if ((crc = cJSON_GetObjectItem(want, "crc32"))) {
		uLong c = crc32(0L, Z_NULL, 0);
		if (nbytes(t))
			c = crc32(c, mg_tensor_data(t), (uInt)nbytes(t));
		CHECK(c == (uLong)crc->valuedouble &&
			      nbytes(t) == (size_t)cJSON_GetObjectItem(want, "nbytes")->valuedouble,
		      "%s '%s': bytes differ (crc32 %lu)", file, name, c);
	}
}

/* A golden file: names in file order, metadata, every tensor; and, for files Python
 * wrote with save_file, mgc writing the same tensors gives the same bytes. */
static void check_file(const cJSON *f)
{
	struct mg_err e = {0};
	struct mg_safetensors *st = NULL;
	const char *file = cJSON_GetObjectItem(f, "file")->valuestring;
	const cJSON *tensors = cJSON_GetObjectItem(f, "tensors"), *want;
	char path[512];
	snprintf(path, sizeof path, GOLDEN "%s", file);
	CHECK_OK(mg_safetensors_open(path, &st, &e), &e);
	if (!st)
		return;
	int n = cJSON_GetArraySize(tensors), i = 0;
	CHECK(mg_safetensors_count(st) == n, "%s: %d tensors", file, mg_safetensors_count(st));
	check_meta(st, cJSON_GetObjectItem(f, "metadata"), file);
	struct mg_tensor *ts = calloc((size_t)n + 1, sizeof *ts);
	const char **names = calloc((size_t)n + 1, sizeof *names);
	cJSON_ArrayForEach(want, tensors) {
		const char *name = cJSON_GetObjectItem(want, "name")->valuestring;
		CHECK(mg_safetensors_name(st, i) && strcmp(mg_safetensors_name(st, i), name) == 0,
		      "%s: tensor %d is '%s', expected '%s'", file, i, mg_safetensors_name(st, i),
		      name);
		CHECK(mg_safetensors_find(st, name) == i, "%s: find '%s'", file, name);
		names[i] = name;
		CHECK_OK(mg_safetensors_get(st, name, &ts[i], &e), &e);
		check_tensor(&ts[i], want, file);
		i++;
	}
	CHECK(mg_safetensors_name(st, n) == NULL && mg_safetensors_name(st, -1) == NULL);
	const char **meta = meta_list(cJSON_GetObjectItem(f, "metadata"));
	mg_safetensors_close(st); /* the tensors keep the mapping */
	if (cJSON_IsTrue(cJSON_GetObjectItem(f, "rewrite"))) {
		const char *out = files_path("rewrite.safetensors");
		CHECK_OK(mg_safetensors_write(out, n, names, ts, meta, &e), &e);
		CHECK(same_file(out, path), "%s: mgc's rewrite differs from the file", file);
	}
	for (i = 0; i < n; i++)
		mg_tensor_release(&ts[i]);
	free(ts);
	free(names);
	free(meta);
}

/* Views: aligned tensors share one mapping; misaligned ones are copies; writes to a view
 * stay in memory. */
static void check_views(void)
{
	struct mg_err e = {0};
	struct mg_safetensors *st;
	struct mg_tensor a, b, c;
	CHECK_OK(mg_safetensors_open(GOLDEN "dtypes.safetensors", &st, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "f64.3d", &a, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "i8.vec", &b, &e), &e);
	CHECK(a.buf == b.buf, "aligned tensors are views of one mapping");
	CHECK_FAILS(mg_safetensors_get(st, "nope", &c, &e), &e,
		    "dtypes.safetensors: no tensor 'nope'");
	CHECK(mg_safetensors_find(st, "nope") == -1);
	int8_t old = *(int8_t *)mg_tensor_data(&b);
	*(int8_t *)mg_tensor_data(&b) = 42; /* copy-on-write */
	mg_tensor_release(&b);
	mg_safetensors_close(st);
	CHECK_OK(mg_safetensors_open(GOLDEN "dtypes.safetensors", &st, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "i8.vec", &b, &e), &e);
	CHECK(*(int8_t *)mg_tensor_data(&b) == old && old == -128, "the file changed");
	mg_tensor_release(&b);
	mg_safetensors_close(st);
	mg_tensor_release(&a);

	CHECK_OK(mg_safetensors_open(GOLDEN "misaligned.safetensors", &st, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "a", &a, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "b", &b, &e), &e);
	CHECK_OK(mg_safetensors_get(st, "c", &c, &e), &e);
	CHECK(a.buf != b.buf && b.buf != c.buf, "misaligned tensors are copies");
	mg_safetensors_close(st);
	CHECK(((float *)mg_tensor_data(&b))[1] == -2.25f && ((double *)mg_tensor_data(&c))[0] ==
	      3.0e300);
	mg_tensor_release(&a);
	mg_tensor_release(&b);
	mg_tensor_release(&c);
}

/* Element k of a test tensor of dtype t: exact in every dtype, distinct, signed where
 * the dtype is. */
static double value(enum mg_dtype t, int64_t k)
{
	if (mg_dtype_is_float(t))
		return (double)k * 0.5 - 3;
	return t == MG_DTYPE_U8 || t == MG_DTYPE_U16 || t == MG_DTYPE_U32 ? (double)(k * 7)
									  : (double)(k * 3 - 20);
}

/* Strided views of fresh data: base (4, 3) of dtype t filled with value(); kind 0: the
 * transpose (3, 4); 1: rows reversed (negative stride); 2: base[1:, 1:] (an offset);
 * 3: a 0-d view of element 5; 4: an empty (0, 3). */
static struct mg_tensor make_view(enum mg_dtype t, int kind)
{
	struct mg_err e = {0};
	struct mg_tensor v;
	mg_tensor_alloc(&v, t, 2, (int64_t[]){4, 3}, &e);
	for (int64_t k = 0; k < 12; k++)
		mg_dtype_store(t, (char *)v.buf->data + k * (int64_t)mg_dtype_size(t), value(t, k));
	switch (kind) {
	case 0:
		v.dims[0] = 3, v.dims[1] = 4, v.strides[0] = 1, v.strides[1] = 3;
		break;
	case 1:
		v.offset = 9, v.strides[0] = -3;
		break;
	case 2:
		v.offset = 4, v.dims[0] = 3, v.dims[1] = 2;
		break;
	case 3:
		v.rank = 0, v.offset = 5;
		break;
	case 4:
		v.dims[0] = 0;
		break;
	}
	return v;
}

/* The same elements in the same logical order, bit for bit. */
static int same_elements(const struct mg_tensor *a, const struct mg_tensor *b)
{
	if (a->dtype != b->dtype || a->rank != b->rank)
		return 0;
	for (int d = 0; d < a->rank; d++)
		if (a->dims[d] != b->dims[d])
			return 0;
	struct mg_iter it;
	const int64_t *sp[2] = {a->strides, b->strides};
	size_t es = mg_dtype_size(a->dtype);
	for (mg_iter_init(&it, a->rank, a->dims, 2, sp); !it.done; mg_iter_next(&it))
		if (memcmp((char *)a->buf->data + (a->offset + it.off[0]) * (int64_t)es,
			   (char *)b->buf->data + (b->offset + it.off[1]) * (int64_t)es, es) != 0)
			return 0;
	return 1;
}

/* Every dtype x every view kind, one file, read back. */
static void check_round_trip(void)
{
	enum { KINDS = 5, N = MG_DTYPE_COUNT * KINDS };
	struct mg_err e = {0};
	struct mg_tensor ts[N];
	char names[N][32];
	const char *np[N];
	for (int t = 0; t < MG_DTYPE_COUNT; t++)
		for (int k = 0; k < KINDS; k++) {
			int i = t * KINDS + k;
			ts[i] = make_view((enum mg_dtype)t, k);
			snprintf(names[i], sizeof names[i], "%s.view%d", mg_dtype_short(t), k);
			np[i] = names[i];
		}
	const char *meta[] = {"format", "pt", "", "empty key", NULL};
	const char *path = files_path("round_trip.safetensors");
	CHECK_OK(mg_safetensors_write(path, N, np, ts, meta, &e), &e);
	struct mg_safetensors *st = NULL;
	CHECK_OK(mg_safetensors_open(path, &st, &e), &e);
	if (!st)
		return;
	CHECK(mg_safetensors_count(st) == N);
	const char *const *m = mg_safetensors_metadata(st);
	CHECK(m[0] && !strcmp(m[0], "format") && !strcmp(m[1], "pt") && !strcmp(m[2], "") &&
	      !strcmp(m[3], "empty key") && !m[4]);
	for (int i = 0; i < N; i++) {
		struct mg_tensor r;
		CHECK_OK(mg_safetensors_get(st, names[i], &r, &e), &e);
		CHECK(same_elements(&ts[i], &r), "%s differs after the round trip", names[i]);
		mg_tensor_release(&r);
		mg_tensor_release(&ts[i]);
	}
	mg_safetensors_close(st);
}

/* The tensors of mgc_written.safetensors: one per dtype, several strided. */
enum { NINTEROP = MG_DTYPE_COUNT };
static void interop_tensors(struct mg_tensor *ts, const char **names)
{
	static char buf[NINTEROP][32];
	for (int t = 0; t < NINTEROP; t++) {
		ts[t] = make_view((enum mg_dtype)t, t % 4);
		snprintf(buf[t], sizeof buf[t], "mgc.%s", mg_dtype_name(t));
		names[t] = buf[t];
	}
}

static const char *interop_meta[] = {"format", "pt", "written by", "mgc \"test\"\n\u00e9",
				     NULL};

static int write_interop(const char *path)
{
	struct mg_err e = {0};
	struct mg_tensor ts[NINTEROP];
	const char *names[NINTEROP];
	interop_tensors(ts, names);
	int rc = mg_safetensors_write(path, NINTEROP, names, ts, interop_meta, &e);
	if (rc)
		fprintf(stderr, "%s\n", e.msg);
	for (int i = 0; i < NINTEROP; i++)
		mg_tensor_release(&ts[i]);
	return rc != 0;
}

/* mgc still writes the committed file, and what Python read from it is what mgc wrote. */
static void check_interop(const cJSON *inter)
{
	struct mg_tensor ts[NINTEROP];
	const char *names[NINTEROP];
	const char *path = files_path("interop.safetensors");
	CHECK(write_interop(path) == 0);
	CHECK(same_file(path, GOLDEN "mgc_written.safetensors"),
	      "mgc no longer writes mgc_written.safetensors: rerun the generator with --mgc");
	interop_tensors(ts, names);
	const cJSON *got = cJSON_GetObjectItem(inter, "tensors"), *g;
	CHECK(cJSON_GetArraySize(got) == NINTEROP);
	const char **m = meta_list(cJSON_GetObjectItem(inter, "metadata"));
	for (int i = 0; interop_meta[i]; i++)
		CHECK(m[i] && strcmp(m[i], interop_meta[i]) == 0, "python read metadata %d", i);
	free(m);
	cJSON_ArrayForEach(g, got) {
		const char *name = cJSON_GetObjectItem(g, "name")->valuestring;
		int i = 0;
		while (i < NINTEROP && strcmp(names[i], name) != 0)
			i++;
		if (i == NINTEROP) {
			CHECK(0, "python read an unknown tensor '%s'", name);
			continue;
		}
		const struct mg_tensor *t = &ts[i];
		const cJSON *shape = cJSON_GetObjectItem(g, "shape");
		const cJSON *vals = cJSON_GetObjectItem(g, "values");
		CHECK(st_dtype(cJSON_GetObjectItem(g, "dtype")->valuestring) == t->dtype, "%s", name);
		CHECK(cJSON_GetArraySize(shape) == t->rank && cJSON_GetArraySize(vals) ==
		      mg_tensor_numel(t), "%s: shape", name);
		for (int d = 0; d < t->rank; d++)
			CHECK(cJSON_GetArrayItem(shape, d)->valueint == t->dims[d], "%s dim %d", name,
			      d);
		struct mg_iter it;
		const int64_t *sp[1] = {t->strides};
		const cJSON *v = vals->child;
		for (mg_iter_init(&it, t->rank, t->dims, 1, sp); !it.done && v;
		     mg_iter_next(&it), v = v->next) {
			double want = mg_dtype_load(t->dtype, (char *)t->buf->data +
						    (t->offset + it.off[0]) *
							    (int64_t)mg_dtype_size(t->dtype));
			CHECK(v->valuedouble == want, "%s: python read %g, mgc wrote %g", name,
			      v->valuedouble, want);
		}
	}
	for (int i = 0; i < NINTEROP; i++)
		mg_tensor_release(&ts[i]);
}

/* Each bad file fails with a message naming it and saying what is wrong. */
static void check_bad(const cJSON *bad)
{
	const cJSON *b;
	cJSON_ArrayForEach(b, bad) {
		struct mg_err e = {0};
		struct mg_safetensors *st = (struct mg_safetensors *)&e; /* must become NULL */
		const char *file = cJSON_GetObjectItem(b, "file")->valuestring;
		char path[512];
		snprintf(path, sizeof path, BAD "%s", file);
		int rc = mg_safetensors_open(path, &st, &e);
		CHECK(rc != 0 && st == NULL && strstr(e.msg, path) &&
			      strstr(e.msg, cJSON_GetObjectItem(b, "error")->valuestring),
		      "%s: rc %d, message '%s', expected '%s'", file, rc, e.msg,
		      cJSON_GetObjectItem(b, "error")->valuestring);
	}
	struct mg_err e = {0};
	struct mg_safetensors *st;
	CHECK_FAILS(mg_safetensors_open(BAD "no_such_file", &st, &e), &e, "cannot open");
	CHECK_FAILS(mg_safetensors_open(BAD, &st, &e), &e, "not a regular file");
}

/* Refused writes name the file and tensor and leave nothing in the folder. */
static void check_bad_writes(void)
{
	struct mg_err e = {0};
	struct mg_tensor t[2] = {make_view(MG_DTYPE_F32, 0), make_view(MG_DTYPE_I8, 2)};
	mkdir(files_path("w"), 0777);
	const char *p = files_path("w/x.safetensors");
	CHECK_FAILS(mg_safetensors_write(p, 2, (const char *[]){"a", "a"}, t, NULL, &e), &e,
		    "x.safetensors: tensor 'a' appears twice");
	CHECK_FAILS(mg_safetensors_write(p, 1, (const char *[]){"__metadata__"}, t, NULL, &e),
		    &e, "'__metadata__' is the format's name for metadata");
	CHECK_FAILS(mg_safetensors_write(p, 1, (const char *[]){"bad\xff"}, t, NULL, &e), &e,
		    "tensor 0: its name is not UTF-8");
	CHECK_FAILS(mg_safetensors_write(p, 1, (const char *[]){"a"}, t,
					 (const char *[]){"k", "v", "k", "w", NULL}, &e),
		    &e, "metadata key 'k' appears twice");
	struct mg_tensor nodata = t[0];
	nodata.buf = NULL;
	CHECK_FAILS(mg_safetensors_write(p, 1, (const char *[]){"a"}, &nodata, NULL, &e), &e,
		    "tensor 'a' has no data");
	CHECK(count_files(files_path("w")) == 0, "a refused write left a file");
	/* the rename fails: the name is taken by a folder */
	mkdir(files_path("w/taken.safetensors"), 0777);
	CHECK_FAILS(mg_safetensors_write(files_path("w/taken.safetensors"), 2,
					 (const char *[]){"a", "b"}, t, NULL, &e),
		    &e, "taken.safetensors: write failed");
	CHECK(count_files(files_path("w")) == 1, "a failed write left its temporary file");
	CHECK_FAILS(mg_safetensors_write(files_path("nowhere/x.safetensors"), 2,
					 (const char *[]){"a", "b"}, t, NULL, &e),
		    &e, "nowhere/x.safetensors: cannot create a file in its folder");
	mg_tensor_release(&t[0]);
	mg_tensor_release(&t[1]);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-interop") == 0)
		return write_interop(argv[2]);
	struct mg_err e = {0};
	cJSON *cases = NULL;
	if (files_init("mg_st_") != 0)
		return 1;
	CHECK_OK(mg_json_read_file(GOLDEN "cases.json", &cases, &e), &e);
	if (cases) {
		const cJSON *f;
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(cases, "files"))
			check_file(f);
		check_bad(cJSON_GetObjectItem(cases, "bad"));
		check_interop(cJSON_GetObjectItem(cases, "interop"));
	}
	check_views();
	check_round_trip();
	check_bad_writes();
	cJSON_Delete(cases);
	files_done();
	return check_done();
}
