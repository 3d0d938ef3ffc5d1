/* datalist.c: Medical Segmentation Decathlon dataset.json files -> struct mg_datalist, as
 * MONAI's load_decathlon_datalist (monai/data/decathlon_datalist.py) reads them, plus two
 * mgc extensions: a folder path means its dataset.json, and Auto3DSeg "fold" selection.
 * The same item parsing serves lists written in a pipeline file (mg_datalist_from_json
 * with no base_dir, for frontend/build.c).
 * Invariant: every field holds its strings in order, owned by the datalist; paths are
 * joined and normalised exactly as os.path.normpath(os.path.join(base_dir, v)).
 * Read next: exec.c (binds item fields to plan inputs), fs.c (the path functions). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "plan.h"

/* MONAI's _compute_path for one string: normpath(join(base, v)); with check_path, v is
 * kept as written unless that path exists. No base: v as written. */
static char *dl_path(const char *base, const char *v, int check_path)
{
	if (!base)
		return strdup(v);
	char *j = mg_path_join(base, v), *p = j ? mg_path_normpath(j) : NULL;
	free(j);
	struct stat st;
	if (p && check_path && stat(p, &st) != 0) {
		free(p);
		return strdup(v);
	}
	return p;
}

static int dl_is_scalar(const cJSON *v)
{
	return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

/* One item value as strings, as _compute_path treats it:
 *   string              -> the joined path (check_path: only when it exists)
 *   [string, ...]       -> each one joined      (BraTS modalities, multi-channel images)
 *   [scalar, ...]       -> each one as its text, unjoined ([0, 1] -> "0", "1")
 *   anything else       -> its JSON text, one string ("fold": 0 -> "0", {...} -> "{...}") */
static int dl_field(struct mg_field *fd, const cJSON *v, const char *base, int check_path)
{
	int all_str = cJSON_IsArray(v), all_scalar = cJSON_IsArray(v), n = 0;
	for (const cJSON *ch = cJSON_IsArray(v) ? v->child : NULL; ch; ch = ch->next, n++) {
		all_str &= cJSON_IsString(ch);
		all_scalar &= dl_is_scalar(ch);
	}
	int each = all_scalar || all_str;
	int count = cJSON_IsString(v) ? 1 : each ? n : 1;
	if (!(fd->str = calloc(count ? (size_t)count : 1, sizeof *fd->str)))
		return -1;
	fd->nstr = count; /* unset entries stay NULL, for dl_item_free */
	if (cJSON_IsString(v)) {
		fd->str[0] = dl_path(base, v->valuestring, check_path);
		return fd->str[0] ? 0 : -1;
	}
	if (!each) {
		fd->str[0] = cJSON_PrintUnformatted(v);
		return fd->str[0] ? 0 : -1;
	}
	int i = 0;
	for (const cJSON *ch = v->child; ch; ch = ch->next, i++) {
		fd->str[i] = all_str		  ? dl_path(base, ch->valuestring, check_path)
			     : cJSON_IsString(ch) ? strdup(ch->valuestring)
						  : cJSON_PrintUnformatted(ch);
		if (!fd->str[i])
			return -1;
	}
	return 0;
}

/* Python's `"fold" in d and d["fold"] == fold`: numbers and bools compare by value, a
 * string "0" is not 0. */
static int dl_in_fold(const cJSON *item, int fold)
{
	const cJSON *f =
		cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "fold") : NULL;
	if (cJSON_IsNumber(f))
		return f->valuedouble == (double)fold;
	if (cJSON_IsBool(f))
		return cJSON_IsTrue(f) == (fold == 1) && fold <= 1;
	return 0;
}

/* Frees the field's strings (not its key) and leaves it with none. */
static void dl_field_clear(struct mg_field *fd)
{
	for (int j = 0; j < fd->nstr; j++)
		free(fd->str[j]);
	free(fd->str);
	fd->str = NULL;
	fd->nstr = 0;
}

static void dl_item_free(struct mg_item *it)
{
	for (int i = 0; i < it->nfields; i++) {
		dl_field_clear(&it->fields[i]);
		free(it->fields[i].key);
	}
	free(it->fields);
	memset(it, 0, sizeof *it);
}

/* item := string | {key: value, ...}. A string is {"image": string}; repeated keys keep
 * the last value in the first one's place, as Python's dict. */
static int dl_item(struct mg_item *it, const cJSON *v, const char *base, int is_seg)
{
	int n = cJSON_IsString(v) ? 1 : cJSON_GetArraySize(v);
	it->fields = calloc(n ? (size_t)n : 1, sizeof *it->fields);
	if (!it->fields)
		return -1;
	if (cJSON_IsString(v)) {
		it->nfields = 1;
		it->fields[0].key = strdup("image");
		return it->fields[0].key ? dl_field(&it->fields[0], v, base, 0) : -1;
	}
	for (const cJSON *ch = v->child; ch; ch = ch->next) {
		const char *k = ch->string;
		int check = !(strcmp(k, "image") == 0 || (is_seg && strcmp(k, "label") == 0));
		struct mg_field *fd = NULL;
		for (int i = 0; i < it->nfields && !fd; i++)
			if (strcmp(it->fields[i].key, k) == 0)
				fd = &it->fields[i];
		if (fd) { /* a repeated key: Python keeps the last value */
			dl_field_clear(fd);
		} else {
			fd = &it->fields[it->nfields++];
			if (!(fd->key = strdup(k)))
				return -1;
		}
		if (dl_field(fd, ch, base, check))
			return -1;
	}
	return 0;
}

/* The items of list into dl (empty on entry), keeping those of fold (fold < 0: all;
 * fold_exclude: the others). Fails with dl freed. */
static int dl_items(struct mg_datalist *dl, const cJSON *list, const char *base, int is_seg,
		    int fold, int fold_exclude, const char *where, struct mg_err *e)
{
	int code = base ? MG_ERR_FORMAT : MG_ERR_CONFIG, i = 0, rc = 0;
	memset(dl, 0, sizeof *dl);
	if (!cJSON_IsArray(list))
		return mg_err_set(e, code, "%s is %s, not a list of items", where,
				  mg_json_kind(list));
	int n = cJSON_GetArraySize(list);
	if (!(dl->items = calloc(n ? (size_t)n : 1, sizeof *dl->items)))
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	for (const cJSON *v = list->child; v && !rc; v = v->next, i++) {
		if (!cJSON_IsObject(v) && !cJSON_IsString(v)) {
			rc = mg_err_set(e, code,
					"%s item %d: expected a dict or a string (an image path), "
					"got %s",
					where, i, mg_json_kind(v));
			break;
		}
		if (fold >= 0 && dl_in_fold(v, fold) == !!fold_exclude)
			continue;
		if (dl_item(&dl->items[dl->n++], v, base, is_seg))
			rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	if (rc)
		mg_datalist_free(dl);
	return rc;
}

int mg_datalist_from_json(struct mg_datalist *dl, const cJSON *items, const char *base_dir,
			  int is_segmentation, const char *where, struct mg_err *e)
{
	return dl_items(dl, items, base_dir, is_segmentation, -1, 0, where, e);
}

/* The keys of a dict, for "no key 'x' (keys: a, b, ...)". */
static void dl_keys(const cJSON *root, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (const cJSON *ch = root->child; ch && n < cap; ch = ch->next) {
		if (n > 60) {
			snprintf(buf + n, cap - n, ", ...");
			return;
		}
		n += (size_t)snprintf(buf + n, cap - n, "%s%.40s", n ? ", " : "", ch->string);
	}
}

int mg_datalist_load(struct mg_datalist *dl, const char *path, const char *key,
		     const char *base_dir, int is_segmentation, int fold, int fold_exclude,
		     struct mg_err *e)
{
	memset(dl, 0, sizeof *dl);
	struct stat st;
	char *file = NULL, *base = NULL;
	cJSON *root = NULL;
	int rc = MG_OK;
	if (stat(path, &st) != 0) {
		char ebuf[128];
		return mg_err_set(e, MG_ERR_IO, "%s: %s: %s", path,
				  errno == ENOENT ? "no such file" : "cannot access",
				  mg_strerror(errno, ebuf, sizeof ebuf));
	} else if (S_ISDIR(st.st_mode)) { /* mgc: a dataset folder means its dataset.json */
		size_t n = strlen(path);
		file = malloc(n + 16);
		if (file)
			snprintf(file, n + 16, "%s%sdataset.json", path,
				 n && path[n - 1] == '/' ? "" : "/");
		if (file && stat(file, &st) != 0) {
			rc = mg_err_set(e, MG_ERR_IO, "%s: a folder without a dataset.json", path);
			goto out;
		}
	} else {
		file = strdup(path);
	}
	if (!file) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = mg_json_read_file(file, &root, e)))
		goto out;
	const cJSON *list =
		cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, key) : NULL;
	if (!cJSON_IsObject(root)) {
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: the top level must be a JSON object, not %s",
				file, mg_json_kind(root));
	} else if (!list) {
		char keys[128];
		dl_keys(root, keys, sizeof keys);
		rc = mg_err_set(e, MG_ERR_FORMAT, "%s: no key '%s' (keys: %s)", file, key, keys);
	}
	if (rc)
		goto out;
	/* base_dir: the datalist's folder when not given, as Path(file).parent */
	if (base_dir) {
		base = strdup(base_dir);
	} else {
		const char *sl = strrchr(file, '/');
		base = !sl	    ? strdup(".")
		       : sl == file ? strdup("/")
				    : malloc((size_t)(sl - file) + 1);
		if (base && sl && sl != file)
			memcpy(base, file, (size_t)(sl - file)), base[sl - file] = 0;
	}
	char *where = NULL;
	if (base) {
		size_t wn = strlen(file) + strlen(key) + 8;
		if ((where = malloc(wn)))
			snprintf(where, wn, "%s: '%s'", file, key);
	}
	if (!base || !where) {
		rc = mg_err_set(e, MG_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = dl_items(dl, list, base, is_segmentation, fold, fold_exclude, where, e);
	free(where);
out:
	cJSON_Delete(root);
	free(file);
	free(base);
	if (rc)
		mg_datalist_free(dl);
	return rc;
}

void mg_datalist_free(struct mg_datalist *dl)
{
	for (int i = 0; i < dl->n; i++)
		dl_item_free(&dl->items[i]);
	free(dl->items);
	memset(dl, 0, sizeof *dl);
}

/* A deep copy of src into dst (empty on entry); -1 when out of memory, dst freed. Counts
 * are set before the entries, which calloc leaves NULL, so a failure frees what was made. */
static int dl_copy(struct mg_datalist *dst, const struct mg_datalist *src)
{
	memset(dst, 0, sizeof *dst);
	if (!(dst->items = calloc(src->n ? (size_t)src->n : 1, sizeof *dst->items)))
		return -1;
	dst->n = src->n;
	for (int i = 0; i < src->n; i++) {
		const struct mg_item *a = &src->items[i];
		struct mg_item *b = &dst->items[i];
		if (!(b->fields = calloc(a->nfields ? (size_t)a->nfields : 1, sizeof *b->fields)))
			goto fail;
		b->nfields = a->nfields;
		for (int f = 0; f < a->nfields; f++) {
			const struct mg_field *fa = &a->fields[f];
			struct mg_field *fb = &b->fields[f];
			if (!(fb->key = strdup(fa->key)) ||
			    !(fb->str = calloc(fa->nstr ? (size_t)fa->nstr : 1, sizeof *fb->str)))
				goto fail;
			fb->nstr = fa->nstr;
			for (int j = 0; j < fa->nstr; j++)
				if (!(fb->str[j] = strdup(fa->str[j])))
					goto fail;
		}
	}
	return 0;
fail:
	mg_datalist_free(dst);
	return -1;
}

int mg_datasrc_load(const struct mg_datasrc *src, struct mg_datalist *dl, struct mg_err *e)
{
	memset(dl, 0, sizeof *dl);
	if (src->kind == MG_DATASRC_ITEMS)
		return dl_copy(dl, &src->items) ? mg_err_set(e, MG_ERR_NOMEM, "out of memory") : 0;
	if (src->kind != MG_DATASRC_DECATHLON)
		return 0;
	int rc = mg_datalist_load(dl, src->path, src->key, src->base_dir, src->is_segmentation,
				  src->fold, src->fold_exclude, e);
	if (rc && src->where)
		mg_err_prefix(e, "%s", src->where);
	return rc;
}

const struct mg_field *mg_item_get(const struct mg_item *it, const char *key)
{
	for (int i = 0; i < it->nfields; i++)
		if (strcmp(it->fields[i].key, key) == 0)
			return &it->fields[i];
	return NULL;
}
