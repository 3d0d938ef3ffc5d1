/* Op: SaveImage
 * Synopsis: write the image as NIfTI with its affine, named after its source file.
 * MONAI: monai.transforms.SaveImage(d)
 * Gradient: none.  Inverse: none.
 *
 * Paths are MONAI's (FolderLayout, create_file_basename), string for string:
 *   normpath(join(join(join(output_dir, rel), name if separate_folder), name[_postfix]))
 *   + ext
 * with os.path.join's rules (an empty output_dir adds nothing: the current folder), name
 * the source's base name less os.path.splitext's extension (again after ".gz"), and rel
 * os.path.relpath(source folder, data_root_dir) when both are non-empty ("." when they
 * are the same folder, "../x" when the source is not below the root), else "".
 * Known deviation: with output_dir "" and separate_folder false MONAI's makedirs("")
 * raises; mgc writes into the current folder.
 * The channel axis moves last and trailing size-1 axes are dropped (squeeze_end_dims),
 * as MONAI's NibabelWriter does. The image passes through.
 * resample=true (ImageWriter.resample_if_needed through SpatialResample): the image is
 * resampled from its affine onto the affine and spatial shape it had when loaded
 * (MONAI's original_affine and spatial_shape), reading input voxel
 * affine^-1 · original_affine · o, with mode and padding_mode (align_corners false),
 * in float64 to float32; when both grids agree nothing moves. Only single-channel
 * images: MONAI 1.6.1 resamples the channel-last array and interleaves the channels'
 * voxels (a 2-channel image comes out scrambled), nothing to copy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"output_dir", MG_ATTR_STR, "\"./\"", 0, NULL,
	 "folder for the outputs (\"\": the current folder)"},
	{"output_postfix", MG_ATTR_STR, "\"trans\"", 0, NULL, "appended to the file name"},
	{"output_ext", MG_ATTR_STR, "\".nii.gz\"", 0, ".nii.gz|.nii", "file extension"},
	{"resample", MG_ATTR_BOOL, "false", 0, NULL,
	 "resample to the affine and spatial shape as loaded before writing (one channel)"},
	{"mode", MG_ATTR_STR, "\"nearest\"", 0, "nearest|bilinear|bicubic",
	 "interpolation when resampling"},
	{"padding_mode", MG_ATTR_STR, "\"border\"", 0, "zeros|border|reflection",
	 "padding when resampling"},
	{"scale", MG_ATTR_INT, "null", MG_ATTRF_NULLABLE, NULL,
	 "255 or 65535 to rescale [0, 1] data (PNG only in MONAI): must be null"},
	{"dtype", MG_ATTR_DTYPE, "\"float64\"", MG_ATTRF_NULLABLE, NULL,
	 "precision of resampling"},
	{"output_dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE, NULL,
	 "dtype written; null keeps the image's"},
	{"squeeze_end_dims", MG_ATTR_BOOL, "true", 0, NULL, "drop trailing size-1 axes"},
	{"data_root_dir", MG_ATTR_STR, "\"\"", 0, NULL,
	 "keep the source's folder relative to this root in the output path "
	 "(os.path.relpath: may start with ../)"},
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

/* The output path of the image from src, as MONAI's FolderLayout.filename (normalised,
 * as create_file_basename returns it); *dir is the folder MONAI's makedirs creates (not
 * normalised: "out/../x" makes "out" too). Both malloc'd; errno (ENOMEM, or getcwd's) on
 * failure. */
static int out_path(const struct mg_attr *a, const char *src, char **dir, char **path)
{
	char name[1024], file[2048];
	const char *post = a[A_POSTFIX].v.s, *ext = a[A_EXT].v.s;
	*dir = *path = NULL;
	if (mg_nifti_stem(src, name, sizeof name) >= sizeof name ||
	    snprintf(file, sizeof file, "%s%s%s", name, post[0] ? "_" : "", post) >=
		    (int)sizeof file)
		return errno = ENAMETOOLONG;
	/* os.path.split: the folder loses its trailing slashes unless it is all slashes */
	const char *slash = strrchr(src, '/');
	size_t flen = slash ? (size_t)(slash - src) + 1 : 0, k = flen;
	while (k > 0 && src[k - 1] == '/')
		k--;
	char *folder = strndup(src, k ? k : flen);
	const char *root = a[A_ROOT].v.s;
	char *rel = !folder ? NULL : root[0] && folder[0] ? mg_path_relpath(folder, root)
							 : strdup("");
	char *d = rel ? mg_path_join(a[A_DIR].v.s, rel) : NULL;
	if (d && a[A_SEPARATE].v.i) {
		char *ds = mg_path_join(d, name);
		free(d);
		d = ds;
	}
	char *j = d ? mg_path_join(d, file) : NULL, *n = j ? mg_path_normpath(j) : NULL;
	char *p = n ? malloc(strlen(n) + strlen(ext) + 1) : NULL;
	if (p)
		strcat(strcpy(p, n), ext);
	int err = p ? 0 : errno ? errno : ENOMEM;
	free(folder);
	free(rel);
	free(j);
	free(n);
	if (err) {
		free(d);
		return errno = err;
	}
	*dir = d;
	*path = p;
	return 0;
}

/* img resampled onto the grid it was loaded on, into *res (affine: the original). */
static int resample_to_original(const struct mg_attr *a, const struct mg_tensor *img,
				struct mg_tensor *res, struct mg_kctx *k)
{
	const struct mg_meta *m = img->meta;
	if (img->rank < 3 || img->rank > 4 || img->dims[0] != 1)
		return mg_err_set(k->err, MG_ERR_UNSUPPORTED, "SaveImage: resample=true needs a "
				  "single-channel 2D or 3D image (C, X, Y[, Z]) with C = 1; got "
				  "rank %d with %lld channels", img->rank, (long long)img->dims[0]);
	struct mg_grid g;
	mg_grid_identity(&g, img);
	double inv[4][4], map[4][4];
	if (mg_affine_invert(m->affine, inv))
		return mg_err_set(k->err, MG_ERR_SHAPE, "SaveImage: the image's affine is singular");
	mg_affine_mul(inv, m->orig_affine, map);
	mg_grid_map(&g, map);
	memcpy(g.affine, m->orig_affine, sizeof g.affine);
	for (int i = 0; i < g.sdim; i++)
		g.out_shape[i] = m->orig_shape[i];
	g.mode = (enum mg_interp)mg_interp_parse(a[A_MODE].v.s);
	g.padding = (enum mg_pad)mg_pad_parse(a[A_PADDING].v.s);
	g.align_corners = 0;
	int rc = mg_grid_run(img, &g, res, k);
	if (rc)
		return rc;
	struct mg_meta *rm = mg_meta_mut(res);
	if (!rm) {
		mg_tensor_release(res);
		return mg_err_set(k->err, MG_ERR_NOMEM, "out of memory");
	}
	memcpy(rm->affine, m->orig_affine, sizeof rm->affine);
	return 0;
}

static int save_image(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	int rc = mg_op_expect_tensor(&in[0], "SaveImage", k->err);
	if (rc)
		return rc;
	const struct mg_tensor *img = &in[0].t;
	if (!a[A_SCALE].is_none)
		return mg_err_set(k->err, MG_ERR_UNSUPPORTED, "scale applies to PNG output only");
	if (!img->meta || !img->meta->filename)
		return mg_err_set(k->err, MG_ERR_CONFIG,
				  "the image has no source file name to name its output after");
	struct mg_tensor res = {0};
	if (a[A_RESAMPLE].v.i && (rc = resample_to_original(a, img, &res, k)))
		return rc;
	/* (C, X, Y, Z) -> (X, Y, Z, C), then drop trailing size-1 axes */
	struct mg_tensor t = a[A_RESAMPLE].v.i ? res : *img;
	if (!a[A_CHANNEL].is_none) {
		int cd = (int)a[A_CHANNEL].v.i;
		if (cd < 0)
			cd += t.rank;
		if (cd < 0 || cd >= t.rank) {
			mg_tensor_release(&res);
			return mg_err_set(k->err, MG_ERR_SHAPE, "channel_dim %d for a rank-%d image",
					  (int)a[A_CHANNEL].v.i, t.rank);
		}
		mg_tensor_movedim(&t, cd, t.rank - 1);
	}
	while (a[A_SQUEEZE].v.i && t.rank > 1 && t.dims[t.rank - 1] == 1)
		t.rank--;
	char *dir, *path, ebuf[128];
	int err = out_path(a, img->meta->filename, &dir, &path);
	if (err) {
		mg_tensor_release(&res);
		return mg_err_set(k->err, err == ENOMEM ? MG_ERR_NOMEM : MG_ERR_IO,
				  "cannot make the output path for %s: %s", img->meta->filename,
				  mg_strerror(err, ebuf, sizeof ebuf));
	}
	enum mg_dtype dt = a[A_OUT_DTYPE].is_none ? img->dtype : (enum mg_dtype)a[A_OUT_DTYPE].v.i;
	rc = mg_mkdirs(dir, k->err);
	if (!rc)
		rc = mg_nifti_write(path, &t, dt, k->gz_level, k->err);
	if (!rc && a[A_LOG].v.i && k->log)
		fprintf(k->log, "file written: %s\n", path);
	free(dir);
	free(path);
	mg_tensor_release(&res);
	if (rc)
		return rc;
	mg_val_set_tensor(&out[0], mg_tensor_share(img), NULL);
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
