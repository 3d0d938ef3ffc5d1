/* Op: SaveImage
 * Synopsis: write the image as NIfTI with its affine, named after its source file.
 * MONAI: monai.transforms.SaveImage(d)
 * Gradient: none.  Inverse: none.
 *
 * Paths follow MONAI's folder layout: output_dir[/subdirs below data_root_dir]
 * [/name]/name_postfix.ext with name the source file's base name (separate_folder adds
 * the /name folder). The channel axis moves last and trailing size-1 axes are dropped
 * (squeeze_end_dims), as MONAI's NibabelWriter does. The image passes through. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"output_dir", MG_ATTR_STR, "\"./\"", 0, NULL, "folder for the outputs"},
	{"output_postfix", MG_ATTR_STR, "\"trans\"", 0, NULL, "appended to the file name"},
	{"output_ext", MG_ATTR_STR, "\".nii.gz\"", 0, ".nii.gz|.nii", "file extension"},
	{"resample", MG_ATTR_BOOL, "false", 0, NULL,
	 "resample to the original affine first (not supported yet)"},
	{"mode", MG_ATTR_STR, "\"nearest\"", 0, NULL, "interpolation when resampling"},
	{"padding_mode", MG_ATTR_STR, "\"border\"", 0, NULL, "padding when resampling"},
	{"scale", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "255 or 65535 to rescale [0, 1] data (PNG only in MONAI): must be null"},
	{"dtype", MG_ATTR_DTYPE, "\"float64\"", MG_ATTRF_NULLABLE, NULL,
	 "precision of resampling"},
	{"output_dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "dtype written; null keeps the image's"},
	{"squeeze_end_dims", MG_ATTR_BOOL, "true", 0, NULL, "drop trailing size-1 axes"},
	{"data_root_dir", MG_ATTR_STR, "\"\"", 0, NULL,
	 "keep the source's folders below this root in the output path"},
	{"separate_folder", MG_ATTR_BOOL, "true", 0, NULL, "one folder per image"},
	{"print_log", MG_ATTR_BOOL, "true", 0, NULL, "log each file written"},
	{"output_format", MG_ATTR_STR, "\"\"", 0, "|nii|nifti", "writer format; NIfTI only"},
	{"writer", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE, "NibabelWriter", "writer class"},
	{"channel_dim", MG_ATTR_INT, "0", MG_ATTRF_NULLABLE, NULL, "the channel axis"},
	{"savepath_in_metadict", MG_ATTR_BOOL, "false", 0, NULL, "accepted; no effect"},
};
enum {
	A_DIR, A_POSTFIX, A_EXT, A_RESAMPLE, A_MODE, A_PADDING, A_SCALE, A_DTYPE, A_OUT_DTYPE,
	A_SQUEEZE, A_ROOT, A_SEPARATE, A_LOG, A_FORMAT, A_WRITER, A_CHANNEL, A_IN_META
};

static int mkdirs(const char *path, struct mg_err *e)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return mg_err_set(e, MG_ERR_IO, "cannot create folder %s: %s", buf,
					  strerror(errno));
		if (!(*p = c))
			return 0;
	}
}

/* The source name without folder and NIfTI extension. */
static void stem(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	snprintf(out, n, "%s", slash ? slash + 1 : path);
	static const char *const exts[] = {".nii.gz", ".nii", ".img.gz", ".img", ".hdr"};
	size_t len = strlen(out);
	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		size_t m = strlen(exts[i]);
		if (len > m && strcmp(out + len - m, exts[i]) == 0) {
			out[len - m] = 0;
			return;
		}
	}
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = 0;
}

/* The folders of the source below data_root_dir ("" when not below it). */
static void subdirs(const char *src, const char *root, char *out, size_t n)
{
	out[0] = 0;
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (!rl || strncmp(src, root, rl) != 0 || src[rl] != '/')
		return;
	const char *rel = src + rl + 1, *slash = strrchr(rel, '/');
	if (slash)
		snprintf(out, n, "%.*s", (int)(slash - rel), rel);
}

static int save_image(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "SaveImage", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *img = &in[0].t;
	if (a[A_RESAMPLE].v.i)
		return mg_err_set(k->err, MG_ERR_UNSUPPORTED,
				  "resample=true is not supported yet (needs the spatial ops)");
	if (!a[A_SCALE].is_none)
		return mg_err_set(k->err, MG_ERR_UNSUPPORTED, "scale applies to PNG output only");
	if (!img->meta || !img->meta->filename)
		return mg_err_set(k->err, MG_ERR_CONFIG,
				  "the image has no source file name to name its output after");
	char name[1024], sub[2048], dir[4096], path[4096];
	stem(img->meta->filename, name, sizeof name);
	subdirs(img->meta->filename, a[A_ROOT].v.s, sub, sizeof sub);
	snprintf(dir, sizeof dir, "%s%s%s%s%s", a[A_DIR].v.s, sub[0] ? "/" : "", sub,
		 a[A_SEPARATE].v.i ? "/" : "", a[A_SEPARATE].v.i ? name : "");
	int n = snprintf(path, sizeof path, "%s/%s%s%s%s", dir, name,
			 a[A_POSTFIX].v.s[0] ? "_" : "", a[A_POSTFIX].v.s, a[A_EXT].v.s);
	if (n >= (int)sizeof path)
		return mg_err_set(k->err, MG_ERR_CONFIG, "output path too long: %s", path);
	if ((rc = mkdirs(dir, k->err)))
		return rc;
	/* (C, X, Y, Z) -> (X, Y, Z, C), then drop trailing size-1 axes */
	struct mg_tensor t = *img;
	if (!a[A_CHANNEL].is_none) {
		int cd = (int)a[A_CHANNEL].v.i;
		if (cd < 0)
			cd += t.rank;
		if (cd < 0 || cd >= t.rank)
			return mg_err_set(k->err, MG_ERR_SHAPE, "channel_dim %d for a rank-%d image",
					  (int)a[A_CHANNEL].v.i, t.rank);
		mg_tensor_movedim(&t, cd, t.rank - 1);
	}
	while (a[A_SQUEEZE].v.i && t.rank > 1 && t.dims[t.rank - 1] == 1)
		t.rank--;
	enum mg_dtype dt = a[A_OUT_DTYPE].is_none ? img->dtype : (enum mg_dtype)a[A_OUT_DTYPE].v.i;
	if ((rc = mg_nifti_write(path, &t, dt, k->gz_level, k->err)))
		return rc;
	if (a[A_LOG].v.i && k->log)
		fprintf(k->log, "file written: %s\n", path);
	out[0].kind = MG_VK_TENSOR;
	out[0].t = mg_tensor_share(img);
	return 0;
}

const struct mg_opdef mg_op_save_image = {
	.name = "SaveImage",
	.synopsis = "write a NIfTI file named after the source image, with its affine",
	.flags = MG_OPF_IO | MG_OPF_PASSTHROUGH,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.ref = save_image,
};
