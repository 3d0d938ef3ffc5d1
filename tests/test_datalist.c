/* test_datalist.c: dataset.json files read as MONAI's load_decathlon_datalist: keys,
 * plain-string items, path joining and normalising, check_path for other keys, lists of
 * files, fold selection, folder paths, and the messages for bad input. Fixtures are
 * written at run time into a mkdtemp folder (' stands for " in them). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/plan.h"
#include "check.h"

static char dir[64];
static struct mg_err err;

static const char *put_file(const char *name, const char *text)
{
	static char paths[16][256];
	static int slot;
	char *p = paths[slot++ % 16];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	for (const char *s = text; *s; s++)
		fputc(*s == '\'' ? '"' : *s, f);
	fclose(f);
	return p;
}

/* The i-th string of item[key], or "(absent)". */
static const char *str_of(const struct mg_datalist *dl, int item, const char *key, int i)
{
	if (item >= dl->n)
		return "(no item)";
	const struct mg_field *f = mg_item_get(&dl->items[item], key);
	return f && i < f->nstr ? f->str[i] : "(absent)";
}

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		CHECK(strcmp(a_, b_) == 0, "%s = '%s', expected '%s'", #a, a_, b_);                \
	} while (0)

static const char *DATASET =
	"{'name': 'Liver', 'numTraining': 3, 'modality': {'0': 'CT'},\n"
	" 'training': [\n"
	"  {'image': './imagesTr/liver_0.nii.gz', 'label': './labelsTr/liver_0.nii.gz',"
	" 'fold': 0},\n"
	"  {'image': 'imagesTr/../imagesTr//liver_1.nii.gz', 'label': '/abs/liver_1.nii.gz',"
	" 'fold': 1, 'extra': 'notes.txt', 'meta': 'here.txt', 'classes': [0, 1, 2]},\n"
	"  {'image': ['t1/a.nii.gz', 't2/a.nii.gz'], 'label': 'labelsTr/a.nii.gz', 'fold': 0.0,"
	" 'info': {'age': 3}, 'flag': true, 'none': null}\n"
	" ],\n"
	" 'validation': [{'image': 'imagesTr/v.nii.gz'}, {'label': 'only_label.nii.gz'}],\n"
	" 'test': ['./imagesTs/liver_9.nii.gz', 'imagesTs/liver_8.nii.gz'],\n"
	" 'bad': [{'image': 'x'}, {'image': 'y'}, {'image': 'z'}, 42],\n"
	" 'notlist': {'image': 'x'}}\n";

static void test_decathlon(void)
{
	const char *ds = put_file("dataset.json", DATASET);
	put_file("here.txt", "exists");
	char p[512];
	struct mg_datalist dl;
	CHECK_OK(mg_datalist_load(&dl, ds, "training", NULL, 1, -1, 0, &err), &err);
	CHECK(dl.n == 3, "n = %d", dl.n);
	snprintf(p, sizeof p, "%s/imagesTr/liver_0.nii.gz", dir);
	CHECK_STR(str_of(&dl, 0, "image", 0), p); /* "./" folded away by normpath */
	snprintf(p, sizeof p, "%s/labelsTr/liver_0.nii.gz", dir);
	CHECK_STR(str_of(&dl, 0, "label", 0), p);
	CHECK_STR(str_of(&dl, 0, "fold", 0), "0"); /* numbers keep their JSON text */
	snprintf(p, sizeof p, "%s/imagesTr/liver_1.nii.gz", dir);
	CHECK_STR(str_of(&dl, 1, "image", 0), p);
	CHECK_STR(str_of(&dl, 1, "label", 0), "/abs/liver_1.nii.gz"); /* absolute: kept */
	/* other keys are joined only when the joined path exists (check_path) */
	CHECK_STR(str_of(&dl, 1, "extra", 0), "notes.txt");
	snprintf(p, sizeof p, "%s/here.txt", dir);
	CHECK_STR(str_of(&dl, 1, "meta", 0), p);
	const struct mg_field *cl = mg_item_get(&dl.items[1], "classes");
	CHECK(cl && cl->nstr == 3 && strcmp(cl->str[2], "2") == 0, "a list of numbers");
	const struct mg_field *im = mg_item_get(&dl.items[2], "image");
	CHECK(im && im->nstr == 2, "two modalities");
	snprintf(p, sizeof p, "%s/t2/a.nii.gz", dir);
	CHECK_STR(str_of(&dl, 2, "image", 1), p);
	CHECK_STR(str_of(&dl, 2, "info", 0), "{\"age\":3}");
	CHECK_STR(str_of(&dl, 2, "flag", 0), "true");
	CHECK_STR(str_of(&dl, 2, "none", 0), "null");
	CHECK(mg_item_get(&dl.items[0], "extra") == NULL, "keys are what the item has");
	mg_datalist_free(&dl);
	CHECK(dl.n == 0 && dl.items == NULL, "freed");

	/* is_segmentation = 0: "label" is like any other key (joined only if it exists) */
	CHECK_OK(mg_datalist_load(&dl, ds, "training", NULL, 0, -1, 0, &err), &err);
	CHECK_STR(str_of(&dl, 0, "label", 0), "./labelsTr/liver_0.nii.gz");
	mg_datalist_free(&dl);

	/* plain strings are {"image": s}; a base_dir replaces the file's folder */
	CHECK_OK(mg_datalist_load(&dl, ds, "test", "/data/liver/", 1, -1, 0, &err), &err);
	CHECK(dl.n == 2 && dl.items[0].nfields == 1, "n = %d", dl.n);
	CHECK_STR(str_of(&dl, 0, "image", 0), "/data/liver/imagesTs/liver_9.nii.gz");
	CHECK_STR(str_of(&dl, 1, "image", 0), "/data/liver/imagesTs/liver_8.nii.gz");
	mg_datalist_free(&dl);
	CHECK_OK(mg_datalist_load(&dl, ds, "validation", "rel/base", 1, -1, 0, &err), &err);
	CHECK_STR(str_of(&dl, 0, "image", 0), "rel/base/imagesTr/v.nii.gz");
	CHECK_STR(str_of(&dl, 1, "label", 0), "rel/base/only_label.nii.gz");
	CHECK(mg_item_get(&dl.items[1], "image") == NULL, "no image is fine");
	mg_datalist_free(&dl);

	/* a relative datalist path gives relative item paths, as Path(f).parent does */
	if (chdir(dir) == 0) {
		CHECK_OK(mg_datalist_load(&dl, "./dataset.json", "test", NULL, 1, -1, 0, &err),
			 &err);
		CHECK_STR(str_of(&dl, 0, "image", 0), "imagesTs/liver_9.nii.gz");
		mg_datalist_free(&dl);
		CHECK_OK(mg_datalist_load(&dl, "dataset.json", "training", NULL, 1, -1, 0, &err),
			 &err);
		CHECK_STR(str_of(&dl, 1, "meta", 0), "here.txt"); /* exists from here */
		mg_datalist_free(&dl);
		CHECK(chdir("/") == 0, "chdir");
	}
}

static void test_folds_and_folders(void)
{
	put_file("dataset.json", DATASET);
	struct mg_datalist dl;
	char p[512];
	/* the folder means its dataset.json */
	CHECK_OK(mg_datalist_load(&dl, dir, "training", NULL, 1, 0, 0, &err), &err);
	CHECK(dl.n == 2, "fold 0: items 0 and 2 (0.0 == 0), n = %d", dl.n);
	snprintf(p, sizeof p, "%s/t1/a.nii.gz", dir);
	CHECK_STR(str_of(&dl, 1, "image", 0), p);
	mg_datalist_free(&dl);
	CHECK_OK(mg_datalist_load(&dl, dir, "training", NULL, 1, 0, 1, &err), &err);
	CHECK(dl.n == 1 && strstr(str_of(&dl, 0, "image", 0), "liver_1"), "not fold 0");
	mg_datalist_free(&dl);
	CHECK_OK(mg_datalist_load(&dl, dir, "validation", NULL, 1, 1, 1, &err), &err);
	CHECK(dl.n == 2, "items without a fold are outside every fold");
	mg_datalist_free(&dl);
	CHECK_OK(mg_datalist_load(&dl, dir, "validation", NULL, 1, 1, 0, &err), &err);
	CHECK(dl.n == 0, "n = %d", dl.n);
	mg_datalist_free(&dl);
	put_file("strfold.json", "{'training': [{'image': 'a', 'fold': '0'}, {'image': 'b', "
				 "'fold': false}]}");
	char sf[300];
	snprintf(sf, sizeof sf, "%s/strfold.json", dir);
	CHECK_OK(mg_datalist_load(&dl, sf, "training", NULL, 1, 0, 0, &err), &err);
	const char *kept = dl.n == 1 ? str_of(&dl, 0, "image", 0) : "";
	size_t kn = strlen(kept);
	CHECK(dl.n == 1 && kn >= 2 && strcmp(kept + kn - 2, "/b") == 0, "'0' != 0, False == 0");
	mg_datalist_free(&dl);
}

static void test_errors(void)
{
	const char *ds = put_file("dataset.json", DATASET);
	struct mg_datalist dl;
	CHECK_FAILS(mg_datalist_load(&dl, "/nonexistent/dataset.json", "training", NULL, 1, -1, 0,
				     &err),
		    &err, "/nonexistent/dataset.json: no such file");
	CHECK_FAILS(mg_datalist_load(&dl, ds, "nope", NULL, 1, -1, 0, &err), &err,
		    "dataset.json: no key 'nope' (keys: name, numTraining, modality, training, ");
	CHECK_FAILS(mg_datalist_load(&dl, ds, "bad", NULL, 1, -1, 0, &err), &err,
		    "dataset.json: 'bad' item 3: expected a dict or a string (an image path), got "
		    "a number");
	CHECK(dl.n == 0 && dl.items == NULL, "nothing left after an error");
	CHECK_FAILS(mg_datalist_load(&dl, ds, "notlist", NULL, 1, -1, 0, &err), &err,
		    "'notlist' is a dict, not a list of items");
	const char *bad =
		put_file("broken.json", "{'training': [\n  {'image': 'a'},\n  {'image' 'b'}\n]}");
	CHECK_FAILS(mg_datalist_load(&dl, bad, "training", NULL, 1, -1, 0, &err), &err,
		    "broken.json:3:12: invalid JSON at");
	bad = put_file("list.json", "[1, 2]");
	CHECK_FAILS(mg_datalist_load(&dl, bad, "training", NULL, 1, -1, 0, &err), &err,
		    "list.json: the top level must be a JSON object, not a list");
	char sub[300];
	snprintf(sub, sizeof sub, "%s/empty_dir", dir);
	mkdir(sub, 0700);
	CHECK_FAILS(mg_datalist_load(&dl, sub, "training", NULL, 1, -1, 0, &err), &err,
		    "empty_dir: a folder without a dataset.json");
	rmdir(sub);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/mg_test_datalist_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_decathlon();
	test_folds_and_folders();
	test_errors();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}
