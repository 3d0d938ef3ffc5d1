/* test_config.c: pipeline files as MONAI bundle configs: merging, overrides, %macros,
 * @references, relative ids, "$" errors, _disabled_ and friends, and the messages.
 * Small files are written at run time into a mkdtemp folder (' stands for " in them);
 * tests/data/config holds a model-zoo shaped train.json and inference.json. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../frontend/config.h"
#include "check.h"

static char dir[64];

/* Writes text (with ' turned into ") to dir/name; returns the path (static, 64 slots). */
static const char *put_file(const char *name, const char *text)
{
	static char paths[64][256];
	static int slot;
	char *p = paths[slot++ % 64];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	for (const char *s = text; *s; s++)
		fputc(*s == '\'' ? '"' : *s, f);
	fclose(f);
	return p;
}

static struct mg_err err;

/* Loads one file written from text (plus overrides). */
static int load1(struct mg_config *c, const char *text, const char *const *ov, int nov)
{
	const char *f = put_file("one.json", text);
	return mg_config_load(c, &f, 1, ov, nov, &err);
}

/* The resolved value at id, printed compactly ("" on error; message in err). */
static char *resolved(const struct mg_config *c, const char *id)
{
	static char buf[4096];
	cJSON *v = NULL;
	buf[0] = 0;
	if (mg_config_resolve(c, id, &v, &err) == 0) {
		char *s = cJSON_PrintUnformatted(v);
		snprintf(buf, sizeof buf, "%s", s);
		free(s);
	}
	cJSON_Delete(v);
	return buf;
}

static char *raw(const struct mg_config *c, const char *id)
{
	static char buf[4096];
	char *s = cJSON_PrintUnformatted(mg_config_get(c, id));
	snprintf(buf, sizeof buf, "%s", s ? s : "(absent)");
	free(s);
	return buf;
}

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		CHECK(strcmp(a_, b_) == 0, "%s = '%s', expected '%s' (err: %s)", #a, a_, b_,       \
		      err.msg);                                                                    \
		mg_err_clear(&err);                                                                \
	} while (0)

static void test_merge(void)
{
	struct mg_config c;
	const char *files[3];
	files[0] = put_file("a.json", "{'x': 1, 'y': {'a': 1}, 'l': [1, 2], 'm': {'k': 0},"
				      " 'train': {'loader': {'shuffle': true, 'bs': 2}}}");
	files[1] = put_file("b.json", "{'y': {'b': 2}, '+l': [3], '+m': {'j': 1, 'k': 5},"
				      " '+new': [7], 'train#loader#shuffle': false}");
	CHECK_OK(mg_config_load(&c, files, 2, NULL, 0, &err), &err);
	CHECK_STR(raw(&c, "x"), "1");
	CHECK_STR(raw(&c, "y"), "{\"b\":2}"); /* replaced, not merged */
	CHECK_STR(raw(&c, "l"), "[1,2,3]");
	CHECK_STR(raw(&c, "m"), "{\"k\":5,\"j\":1}");
	CHECK_STR(raw(&c, "new"), "[7]");
	CHECK_STR(raw(&c, "train::loader"), "{\"shuffle\":false,\"bs\":2}");
	CHECK(strstr(mg_config_origin(&c, "y"), "b.json") != NULL, "%s", mg_config_origin(&c, "y"));
	CHECK(strstr(mg_config_origin(&c, "x#q"), "a.json") != NULL, "x");
	/* the origin of an id is that of the longest id a file wrote */
	CHECK(strstr(mg_config_origin(&c, "train#loader#shuffle"), "b.json") != NULL, "nested");
	CHECK(strstr(mg_config_origin(&c, "train#loader#bs"), "a.json") != NULL, "outer");
	const char *o = mg_config_origin(&c, "l");
	CHECK(strstr(o, "a.json") && strstr(o, "b.json"), "'+' merged from both: %s", o);
	CHECK(mg_config_origin(&c, "nothing") == NULL, "unknown id");
	mg_config_free(&c);

	files[1] = put_file("b.json", "{'+y': [3]}");
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err,
		    "b.json: key '+y': '+' merges a dict into a dict");
	files[1] = put_file("b.json", "{'nope#deeper': 3}");
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err,
		    "b.json: key 'nope#deeper': no key 'nope' in the top level");
	files[1] = put_file("b.json", "{'l#5': 3}");
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err,
		    "index 5 is not in the list");
	files[1] = put_file("b.json", "{'y': 1, 'z': {'q': 1, 'q': 2}}");
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err,
		    "b.json: key 'z': duplicate key 'q'");
	files[1] = put_file("b.yaml", "y: 1");
	CHECK(mg_config_load(&c, files, 2, NULL, 0, &err) == MG_ERR_UNSUPPORTED, "yaml");
	mg_err_clear(&err);
	files[1] = put_file("b.json", "[1, 2]");
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err,
		    "top level must be a JSON object, not a list");
	files[1] = "/nonexistent/b.json";
	CHECK_FAILS(mg_config_load(&c, files, 2, NULL, 0, &err), &err, "/nonexistent/b.json");
	CHECK(c.root == NULL, "a failed load leaves nothing behind");
	mg_config_free(&c); /* and freeing it again is harmless */
}

static void test_bad_json(void)
{
	struct mg_config c;
	/* line 3, column 12: the stray '}' after a comma */
	const char *f = put_file("bad.json", "{\n  'a': 1,\n  'b': [1, }\n}");
	CHECK_FAILS(mg_config_load(&c, &f, 1, NULL, 0, &err), &err, "bad.json:3:");
	CHECK_FAILS(mg_config_load(&c, &f, 1, NULL, 0, &err), &err, "invalid JSON");
	mg_config_load(&c, &f, 1, NULL, 0, &err);
	CHECK(strstr(err.msg, "\"b\": [1, }") && strstr(err.msg, "^"), "caret line: %s", err.msg);
	mg_err_clear(&err);
	f = put_file("bad.json", "{'a': 1} x");
	CHECK_FAILS(mg_config_load(&c, &f, 1, NULL, 0, &err), &err, "bad.json:1:");
	f = put_file("bad.json", "");
	CHECK_FAILS(mg_config_load(&c, &f, 1, NULL, 0, &err), &err, "bad.json:1:1: empty file");
}

static void test_overrides(void)
{
	struct mg_config c;
	const char *ov[] = {"--epochs=5",	   "--dataset_dir=/data/x",
			    "net#channels#1=64",   "a#b#c=[1, \"two\"]",
			    "net::norm=\"batch\"", "amp=True",
			    "ckpt=None",	   "net#channels#-1=7",
			    "expr=$@x + 1",	   "empty="};
	CHECK_OK(load1(&c, "{'epochs': 1, 'net': {'channels': [1, 2, 3], 'norm': 'instance'}}", ov,
		       10),
		 &err);
	CHECK_STR(raw(&c, "epochs"), "5");
	CHECK_STR(raw(&c, "dataset_dir"), "\"/data/x\"");
	CHECK_STR(raw(&c, "net"), "{\"channels\":[1,64,7],\"norm\":\"batch\"}");
	CHECK_STR(raw(&c, "a"), "{\"b\":{\"c\":[1,\"two\"]}}");
	CHECK_STR(raw(&c, "amp"), "true");
	CHECK_STR(raw(&c, "ckpt"), "null");
	CHECK_STR(raw(&c, "expr"), "\"$@x + 1\"");
	CHECK_STR(raw(&c, "empty"), "\"\"");
	CHECK_STR(mg_config_origin(&c, "epochs"), "command line");
	CHECK(strstr(mg_config_origin(&c, "net"), "one.json") != NULL, "net");
	CHECK_STR(mg_config_origin(&c, "net#channels#1"), "command line");
	mg_config_free(&c);

	const char *bad1[] = {"net#channels#3=1"};
	CHECK_FAILS(load1(&c, "{'net': {'channels': [1, 2, 3]}}", bad1, 1), &err,
		    "command line: key 'net#channels#3': index 3 is not in the list (3 items)");
	const char *bad2[] = {"net#channels#x#y=1"};
	CHECK_FAILS(load1(&c, "{'net': {'channels': [1, 2, 3]}}", bad2, 1), &err,
		    "'x' is not a list index");
	const char *bad3[] = {"no_value"};
	CHECK_FAILS(load1(&c, "{}", bad3, 1), &err, "override 'no_value': expected ID=VALUE");
	const char *bad4[] = {"lr#x=1"};
	CHECK_FAILS(load1(&c, "{'lr': 0.1}", bad4, 1), &err,
		    "command line: key 'lr#x': cannot set 'x' inside a number");
	/* an override may hold a macro: expanded like file content */
	const char *mac[] = {"copy=%net#channels"};
	CHECK_OK(load1(&c, "{'net': {'channels': [1, 2]}}", mac, 1), &err);
	CHECK_STR(raw(&c, "copy"), "[1,2]");
	mg_config_free(&c);
}

static void test_macros(void)
{
	struct mg_config c;
	put_file("shared.json", "{'net': {'_target_': 'UNet', 'ch': [4, 8], 'copy': '%net#ch',"
				" 'k': '@#ch'}, 'loop': '%shared.json#loop2', 'loop2': '%loop'}");
	CHECK_OK(load1(&c,
		       "{'a': {'b': [1, {'c': 2}]}, 'm1': '%a#b#1', 'm2': '%a::b',"
		       " 'm3': {'x': 5, 'y': '%#x'}, 'chain': '%m1', 'ext': '%shared.json#net',"
		       " 'whole': '%shared.json#net#ch'}",
		       NULL, 0),
		 &err);
	CHECK_STR(raw(&c, "m1"), "{\"c\":2}");
	CHECK_STR(raw(&c, "m2"), "[1,{\"c\":2}]");
	CHECK_STR(raw(&c, "m3#y"), "5");
	CHECK_STR(raw(&c, "chain"), "{\"c\":2}");
	/* another file, found beside one.json (the cwd is elsewhere); its own macros are
	 * expanded there and its relative refs made absolute where they were written */
	CHECK_STR(raw(&c, "ext"), "{\"_target_\":\"UNet\",\"ch\":[4,8],\"copy\":[4,8],"
				  "\"k\":\"@net::ch\"}");
	CHECK_STR(raw(&c, "whole"), "[4,8]");
	mg_config_free(&c);

	CHECK_FAILS(load1(&c, "{'a': '%b', 'b': {'x': '%a'}}", NULL, 0), &err,
		    "macro cycle: %b -> %a -> %b");
	CHECK_FAILS(load1(&c, "{'a': {'b': '%a'}}", NULL, 0), &err, "macro cycle");
	CHECK_FAILS(load1(&c, "{'x': '%shared.json#loop'}", NULL, 0), &err, "macro cycle");
	CHECK_FAILS(load1(&c, "{'a': 1, 'b': '%a#q'}", NULL, 0), &err,
		    "one.json: key 'b': macro '%a#q': 'a' is a number, not a dict or list");
	CHECK_FAILS(load1(&c, "{'b': '%missing.json#q'}", NULL, 0), &err,
		    "one.json: key 'b': macro '%missing.json#q': missing.json: no such file");
	CHECK_FAILS(load1(&c, "{'b': '%shared.json#nope'}", NULL, 0), &err,
		    "macro '%shared.json#nope': no key 'nope' in the top level in ");
	/* a macro doubling at every level stops at the size limit instead of eating memory */
	char big[2048] = "{'l0': [1, 2]";
	for (int i = 1; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), ", 'l%d': ['%%l%d', '%%l%d']",
			 i, i - 1, i - 1);
	strcat(big, "}");
	CHECK_FAILS(load1(&c, big, NULL, 0), &err, "macros expand to more than");
}

static void test_refs(void)
{
	struct mg_config c;
	CHECK_OK(load1(&c,
		       "{'a': {'b': [10, {'c': 'x'}], 'sib': '@#b#0', 'up': {'v': '@##b#1'}},"
		       " 'r1': '@a#b#1#c', 'r2': '@a::b', 'r3': '@r1', 'lst': ['@a#b#0', 3],"
		       " 'txt': '@net.to(@device)', 'mail': 'me@host', 'at': 'see @a',"
		       " 'neg': '@a#b#-1'}",
		       NULL, 0),
		 &err);
	CHECK_STR(resolved(&c, "r1"), "\"x\"");
	CHECK_STR(resolved(&c, "r2"), "[10,{\"c\":\"x\"}]");
	CHECK_STR(resolved(&c, "r3"), "\"x\"");
	CHECK_STR(resolved(&c, "a#sib"), "10");
	CHECK_STR(resolved(&c, "a#up"), "{\"v\":{\"c\":\"x\"}}");
	CHECK_STR(resolved(&c, "lst"), "[10,3]");
	CHECK_STR(resolved(&c, "neg"), "\"@a#b#-1\""); /* '-' ends MONAI's ids */
	/* only a whole "@id" string is a reference, as MONAI's match_refs_pattern */
	CHECK_STR(resolved(&c, "txt"), "\"@net.to(@device)\"");
	CHECK_STR(resolved(&c, "mail"), "\"me@host\"");
	CHECK_STR(resolved(&c, "at"), "\"see @a\"");
	CHECK_STR(raw(&c, "a#sib"), "\"@a::b::0\""); /* relative ids made absolute at load */
	cJSON *v;
	CHECK_FAILS(mg_config_resolve(&c, "zzz", &v, &err), &err,
		    "one.json: key 'zzz': not in the config: no key 'zzz'");
	CHECK(v == NULL, "no output on error");
	mg_config_free(&c);

	CHECK_OK(load1(&c,
		       "{'x': '@y', 'y': {'k': '@x'}, 'self': {'me': '@self'},"
		       " 'p': {'q': '@missing#deep'}, 'i': {'l': [1], 'r': '@i#l#4'}}",
		       NULL, 0),
		 &err);
	CHECK_FAILS(mg_config_resolve(&c, "x", &v, &err), &err, "reference cycle: @x -> @y -> @x");
	CHECK_FAILS(mg_config_resolve(&c, "self", &v, &err), &err,
		    "key 'self#me': reference "
		    "cycle: @self -> @self");
	CHECK_FAILS(mg_config_resolve(&c, "p", &v, &err), &err,
		    "one.json: key 'p#q': reference '@missing#deep' is not defined: no key "
		    "'missing'");
	CHECK_FAILS(mg_config_resolve(&c, "i#r", &v, &err), &err,
		    "index 4 is out of range for 'i#l' (1 items)");
	mg_config_free(&c);

	CHECK_FAILS(load1(&c, "{'a': '@###x'}", NULL, 0), &err,
		    "key 'a': relative id in '@###x' goes above the top");
	/* references doubling at every level stop at the size limit */
	char big[2048] = "{'l0': [1, 2]";
	for (int i = 1; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), ", 'l%d': ['@l%d', '@l%d']",
			 i, i - 1, i - 1);
	strcat(big, "}");
	CHECK_OK(load1(&c, big, NULL, 0), &err);
	CHECK_FAILS(mg_config_resolve(&c, "l39", &v, &err), &err, "resolves to more than");
	CHECK_STR(resolved(&c, "l2"), "[[[1,2],[1,2]],[[1,2],[1,2]]]");
	mg_config_free(&c);
}

static void test_expressions(void)
{
	struct mg_config c;
	CHECK_OK(load1(&c,
		       "{'dataset_dir': '/d', 'datalist': '$sorted(glob.glob(@dataset_dir))',"
		       " 'train': {'dataset': {'_target_': 'Dataset', 'data': '$[{x: i} for "
		       "i in @datalist if i.endswith(.nii.gz) and not i.startswith(tmp) and "
		       "len(i) > 3]', 'transform': '@pre'}}, 'pre': {'_target_': 'Compose', "
		       "'transforms': []}, 'uses': {'d': '@datalist'}}",
		       NULL, 0),
		 &err);
	cJSON *v;
	CHECK_FAILS(mg_config_resolve(&c, "train#dataset", &v, &err), &err,
		    "one.json: key 'train#dataset#data': Python expressions are not evaluated "
		    "yet: $[{x: i} for i in @datalist if i.endswith(.nii.gz) and not "
		    "i.startswith(tmp) ...");
	mg_config_resolve(&c, "train#dataset", &v, &err);
	CHECK(strlen(strstr(err.msg, "$[")) < 90, "the expression is cut short: %s", err.msg);
	mg_err_clear(&err);
	CHECK_FAILS(mg_config_resolve(&c, "uses", &v, &err), &err,
		    "key 'datalist': Python expressions are not evaluated yet: $sorted(glob.glob("
		    "@dataset_dir)) (needed by 'uses' via @datalist)");
	CHECK_STR(resolved(&c, "pre"), "{\"_target_\":\"Compose\",\"transforms\":[]}");
	mg_config_free(&c);
}

static void test_components(void)
{
	struct mg_config c;
	CHECK_OK(load1(&c,
		       "{'off': false, 'xs': [{'_target_': 'A', '_disabled_': true},"
		       " {'_target_': 'B', '_disabled_': ' TRUE ', 'k': '$boom'},"
		       " {'_target_': 'C', '_disabled_': 'false', '_desc_': 'kept', 'k': 1},"
		       " {'_target_': 'D', '_disabled_': '@off', '_requires_': '@off',"
		       " '_mode_': 'default'}, {'_disabled_': true}],"
		       " 'd': {'gone': {'_target_': 'E', '_disabled_': 1}, 'stay': 2},"
		       " 'refd': '@xs#0', 'm': {'_target_': 'F', '_mode_': 'callable'},"
		       " 'req': {'_target_': 'G', '_requires_': '@nowhere'},"
		       " 'plain': {'_desc_': 'data', '_disabled_': true}}",
		       NULL, 0),
		 &err);
	CHECK_STR(resolved(&c, "xs"), "[{\"_target_\":\"C\",\"k\":1},{\"_target_\":\"D\"},"
				      "{\"_disabled_\":true}]");
	CHECK_STR(resolved(&c, "d"), "{\"stay\":2}");
	CHECK_STR(resolved(&c, "refd"), "null"); /* MONAI: a disabled component is None */
	CHECK_STR(resolved(&c, "xs#0"), "null");
	/* not components: "_desc_" and "_disabled_" are plain data there */
	CHECK_STR(resolved(&c, "plain"), "{\"_desc_\":\"data\",\"_disabled_\":true}");
	cJSON *v;
	CHECK(mg_config_resolve(&c, "m", &v, &err) == MG_ERR_UNSUPPORTED, "_mode_ callable");
	CHECK(strstr(err.msg, "key 'm#_mode_': _mode_ callable is not supported") != NULL, "%s",
	      err.msg);
	mg_err_clear(&err);
	CHECK_FAILS(mg_config_resolve(&c, "req", &v, &err), &err,
		    "key 'req#_requires_': reference '@nowhere' is not defined");
	mg_config_free(&c);
}

/* select_fn's "$" text (an MG_ATTRF_EXPR argument) stays text in the transforms that
 * declare it, however their _target_ is spelled; "$" anywhere else is still an error. */
static void test_kept_expressions(void)
{
	struct mg_config c;
	CHECK_OK(load1(&c,
		       "{'t': [{'_target_': 'monai.transforms.CropForegroundd', 'keys': 'image',"
		       " 'select_fn': '$lambda x: x > 0.5'},"
		       " {'_target_': 'MaskIntensity', 'mask_key': 'l', 'select_fn': '$lambda x: x'}],"
		       " 'margin': {'_target_': 'CropForegroundd', 'margin': '$1 + 1'},"
		       " 'other': {'_target_': 'Flipd', 'select_fn': '$lambda x: x > 0'},"
		       " 'fn': '$lambda x: x > 0', 'ref': {'_target_': 'CropForeground',"
		       " 'select_fn': '@fn'}, 'plain': {'select_fn': '$lambda x: x > 0'}}",
		       NULL, 0),
		 &err);
	CHECK_STR(resolved(&c, "t"), "[{\"_target_\":\"monai.transforms.CropForegroundd\","
				     "\"keys\":\"image\",\"select_fn\":\"$lambda x: x > 0.5\"},"
				     "{\"_target_\":\"MaskIntensity\",\"mask_key\":\"l\","
				     "\"select_fn\":\"$lambda x: x\"}]");
	cJSON *v;
	static const char *const refused[] = {"margin", "other", "ref", "plain"};
	for (int i = 0; i < 4; i++)
		CHECK_FAILS(mg_config_resolve(&c, refused[i], &v, &err), &err,
			    "Python expressions are not evaluated yet");
	mg_config_free(&c);
}

/* The model-zoo shaped bundle in tests/data/config: declarative parts resolve, parts
 * that need Python say where and what. */
static void test_bundle(void)
{
	struct mg_config c;
	const char *files[] = {
		MG_SOURCE_DIR "/tests/data/config/train.json",
		put_file("multi.json", "{'train#dataloader#shuffle': false,"
				       " 'train#sampler': {'_target_': 'DistributedSampler',"
				       " 'dataset': '@train#dataset'},"
				       " 'train#dataloader#sampler': '@train#sampler',"
				       " '+train#random_transforms': [{'_target_': 'RandRotate90d',"
				       " 'keys': '@keys'}]}")};
	const char *ov[] = {"--dataset_dir=/data/elsewhere", "train#no_crop=false"};
	CHECK_OK(mg_config_load(&c, files, 2, ov, 2, &err), &err);
	char *det = resolved(&c, "train#deterministic_transforms");
	CHECK(strstr(det, "{\"_target_\":\"Spacingd\",\"keys\":[\"image\",\"label\"],\"pixdim\":"
			  "[1,1,2.5],\"mode\":[\"bilinear\",\"nearest\"]}") != NULL,
	      "%s", det);
	CHECK(strstr(det, "CropForegroundd") != NULL, "enabled by the override: %s", det);
	CHECK_STR(resolved(&c, "validate#preprocessing#transforms#0"),
		  "{\"_target_\":\"LoadImaged\",\"keys\":[\"image\",\"label\"]}");
	CHECK_STR(resolved(&c, "train#random_transforms#2#_target_"), "\"RandRotate90d\"");
	CHECK_STR(raw(&c, "train#dataloader#shuffle"), "false");
	CHECK_STR(raw(&c, "dataset_dir"), "\"/data/elsewhere\"");
	cJSON *v;
	CHECK_FAILS(mg_config_resolve(&c, "train#dataloader", &v, &err), &err,
		    "train.json: key 'train#dataset#data': Python expressions are not evaluated "
		    "yet: $[{'image': i, 'label': l} for i, l in zip(@images[:-5], @labels[:-5])] "
		    "(needed by 'train#dataloader' via @train#dataset)");
	CHECK_FAILS(mg_config_resolve(&c, "train#preprocessing", &v, &err), &err,
		    "key 'train#preprocessing#transforms': Python expressions are not evaluated");
	CHECK_FAILS(mg_config_resolve(&c, "validate#evaluator", &v, &err), &err,
		    "key 'device': Python expressions");
	CHECK_STR(resolved(&c, "network_def"),
		  "{\"_target_\":\"UNet\",\"spatial_dims\":3,\"in_channels\":1,\"out_channels\":3,"
		  "\"channels\":[8,16,32,64],\"strides\":[2,2,2],\"num_res_units\":1,"
		  "\"norm\":\"instance\"}");
	mg_config_free(&c);

	/* inference.json pulls network_def from train.json beside it */
	const char *inf = MG_SOURCE_DIR "/tests/data/config/inference.json";
	CHECK_OK(mg_config_load(&c, &inf, 1, NULL, 0, &err), &err);
	CHECK_STR(resolved(&c, "network_def#channels"), "[8,16,32,64]");
	CHECK(strstr(resolved(&c, "preprocessing"), "\"a_min\":-100") != NULL, "%s", err.msg);
	CHECK_FAILS(mg_config_resolve(&c, "dataset", &v, &err), &err,
		    "inference.json: key 'dataset#data': Python expressions are not evaluated yet");
	CHECK_FAILS(mg_config_resolve(&c, "postprocessing", &v, &err), &err,
		    "key 'output_dir': Python expressions");
	mg_config_free(&c);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/mg_test_config_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	if (chdir("/") != 0) /* relative %file paths must work from elsewhere too */
		return 1;
	test_merge();
	test_bad_json();
	test_overrides();
	test_macros();
	test_refs();
	test_expressions();
	test_components();
	test_kept_expressions();
	test_bundle();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}
