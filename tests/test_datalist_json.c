/* test_datalist_json.c: datalist items from a JSON list (mg_datalist_from_json), as a
 * literal "data" list in a pipeline (paths as written) and as a dataset.json list (paths
 * joined); the key limit MG_MAX_KEYS; and the IO messages of the JSON reader and the
 * datalist loader, which carry the system's reason (strerror). Fixtures are written into
 * a mkdtemp folder (' stands for " in them). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../frontend/build.h"
#include "../runtime/json.h"
#include "check.h"
#include "files.h"

static struct mg_err err;

static const char *put_file(const char *name, const char *text)
{
	const char *p = files_path(name);
	FILE *f = fopen(p, "w");
	for (const char *s = text; f && *s; s++)
		fputc(*s == '\'' ? '"' : *s, f);
	if (f)
		fclose(f);
	return p;
}

static cJSON *json(const char *text)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", text);
	for (char *s = buf; *s; s++)
		if (*s == '\'')
			*s = '"';
	return cJSON_Parse(buf);
}

/* "key=a,b;key2=c" for item i, to compare in one string. */
static const char *item_text(const struct mg_datalist *dl, int i)
{
	static char buf[512];
	size_t n = 0;
	buf[0] = 0;
	const struct mg_item *it = &dl->items[i];
	for (int f = 0; f < it->nfields; f++) {
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s=", f ? ";" : "",
				      it->fields[f].key);
		for (int s = 0; s < it->fields[f].nstr; s++)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", s ? "," : "",
					      it->fields[f].str[s]);
	}
	return buf;
}

static void test_from_json(void)
{
	struct mg_datalist dl;
	cJSON *items = json("['a/./x.nii', {'image': ['t1.nii', 't2.nii'], 'label': 'l/../s.nii',"
			    " 'fold': 0, 'image': 'again.nii'}, {'n': [1, 'b']}]");
	/* no base_dir: paths as written, as MONAI uses a literal list */
	CHECK_OK(mg_datalist_from_json(&dl, items, NULL, 1, "cfg#data", &err), &err);
	CHECK(dl.n == 3);
	CHECK(strcmp(item_text(&dl, 0), "image=a/./x.nii") == 0, "%s", item_text(&dl, 0));
	CHECK(strcmp(item_text(&dl, 1), "image=again.nii;label=l/../s.nii;fold=0") == 0, "%s",
	      item_text(&dl, 1));
	CHECK(strcmp(item_text(&dl, 2), "n=1,b") == 0, "%s", item_text(&dl, 2));
	mg_datalist_free(&dl);
	/* a base_dir joins and normalises image and label */
	CHECK_OK(mg_datalist_from_json(&dl, items, "/d", 1, "x", &err), &err);
	CHECK(strcmp(item_text(&dl, 0), "image=/d/a/x.nii") == 0, "%s", item_text(&dl, 0));
	CHECK(strcmp(item_text(&dl, 1), "image=/d/again.nii;label=/d/s.nii;fold=0") == 0, "%s",
	      item_text(&dl, 1));
	mg_datalist_free(&dl);
	cJSON_Delete(items);
	items = json("['a', 3]");
	int rc = mg_datalist_from_json(&dl, items, NULL, 1, "cfg#data", &err);
	CHECK(rc == MG_ERR_CONFIG && dl.n == 0 && dl.items == NULL, "rc %d", rc);
	CHECK(strcmp(err.msg, "cfg#data item 1: expected a dict or a string (an image path), "
			      "got a number") == 0,
	      "%s", err.msg);
	mg_err_clear(&err);
	rc = mg_datalist_from_json(&dl, items, "/d", 1, "f.json: 'training'", &err);
	CHECK(rc == MG_ERR_FORMAT, "a dataset.json's list is a format error");
	mg_err_clear(&err);
	cJSON_Delete(items);
	items = json("{'image': 'a'}");
	CHECK_FAILS(mg_datalist_from_json(&dl, items, NULL, 1, "cfg#data", &err), &err,
		    "cfg#data is a dict, not a list of items");
	cJSON_Delete(items);
}

/* A pipeline whose "data" is a list written in it, through the graph builder. */
static void test_literal_in_config(void)
{
	struct mg_config c;
	struct mg_program p;
	const char *f = put_file("lit.json",
				 "{'ds': {'_target_': 'Dataset', 'data': ['./one.nii.gz', "
				 "{'image': 'two.nii.gz', 'label': ['l1.nii', 'l2.nii']}], "
				 "'transform': [{'_target_': 'LoadImaged', 'keys': 'image'}]}}");
	CHECK_OK(mg_config_load(&c, &f, 1, NULL, 0, &err), &err);
	CHECK_OK(mg_program_build(&c, "ds", &p, &err), &err);
	CHECK_OK(mg_program_load_data(&p, &err), &err);
	CHECK(p.data.n == 2 && strcmp(item_text(&p.data, 0), "image=./one.nii.gz") == 0 &&
		      strcmp(item_text(&p.data, 1), "image=two.nii.gz;label=l1.nii,l2.nii") == 0,
	      "%d items", p.data.n);
	mg_program_free(&p);
	mg_config_free(&c);
	/* one key more than the limit */
	char text[8192] = "{'ds': {'_target_': 'Dataset', 'data': [], 'transform': [";
	for (int i = 0; i <= MG_MAX_KEYS; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
			 "%s{'_target_': 'LoadImaged', 'keys': 'k%d'}", i ? ", " : "", i);
	strcat(text, "]}}");
	f = put_file("keys.json", text);
	CHECK_OK(mg_config_load(&c, &f, 1, NULL, 0, &err), &err);
	CHECK_FAILS(mg_program_build(&c, "ds", &p, &err), &err, "more than 64 keys");
	mg_config_free(&c);
}

static void test_io_messages(void)
{
	cJSON *root;
	struct mg_datalist dl;
	const char *file = put_file("plain.json", "{}");
	char path[300];
	CHECK_FAILS(mg_json_read_file(files_path("none.json"), &root, &err), &err,
		    "none.json: cannot open: No such file or directory");
	snprintf(path, sizeof path, "%s/x.json", file);
	CHECK_FAILS(mg_json_read_file(path, &root, &err), &err,
		    "x.json: cannot open: Not a directory");
	CHECK_FAILS(mg_json_read_file(files_dir, &root, &err), &err,
		    ": read error: Is a directory");
	CHECK_FAILS(mg_datalist_load(&dl, files_path("gone.json"), "training", NULL, 1, -1, 0,
				     &err),
		    &err, "gone.json: no such file: No such file or directory");
	CHECK_FAILS(mg_datalist_load(&dl, path, "training", NULL, 1, -1, 0, &err), &err,
		    "x.json: cannot access: Not a directory");
}

int main(void)
{
	if (files_init("mg_dljson_"))
		return 1;
	test_from_json();
	test_literal_in_config();
	test_io_messages();
	files_done();
	return check_done();
}
