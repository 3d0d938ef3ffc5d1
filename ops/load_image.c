/* Op: LoadImage
 * Synopsis: read an image file (or several, stacked as channels) with its metadata.
 * MONAI: monai.transforms.LoadImage(d)
 * Gradient: none.  Inverse: none.
 *
 * The result is a view over the file's data block (x fastest); a dtype other than the
 * file's converts element by element in that same memory order, never transposing.
 * Several files per item stack as MONAI's readers stack them (see stack()); files of
 * different dtypes stack as float64, which holds every dtype's values exactly (int64
 * up to 2^53). numpy's np.stack promotes to the smallest common type instead (uint8 with
 * int8 gives int16); that type is not reproduced, but with LoadImage's default
 * dtype=float32 the result is the same either way, as every value is rounded to float32
 * once from an exact value. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"reader", MG_ATTR_STR, "null", MG_ATTRF_NULLABLE, "NibabelReader|ITKReader",
	 "reader class; NIfTI files are read by niftilib either way"},
	{"dtype", MG_ATTR_DTYPE, "\"float32\"", MG_ATTRF_NULLABLE,
	 NULL, "output dtype; null keeps the file's"},
	{"image_only", MG_ATTR_BOOL, "true", 0, NULL,
	 "MONAI returns meta separately when false; in mgc meta always travels with the image"},
	{"ensure_channel_first", MG_ATTR_BOOL, "false", 0, NULL,
	 "move or add the channel axis at 0, as EnsureChannelFirst"},
	{"simple_keys", MG_ATTR_BOOL, "false", 0, NULL, "accepted; no effect in mgc"},
	{"expanduser", MG_ATTR_BOOL, "true", 0, NULL, "expand a leading ~ in file names"},
};
enum { A_READER, A_DTYPE, A_IMAGE_ONLY, A_CHANNEL_FIRST, A_SIMPLE_KEYS, A_EXPANDUSER };

static int read_one(const char *path, int expand, struct mg_tensor *t, struct mg_err *e)
{
	char buf[4096];
	const char *home = getenv("HOME");
	if (expand && path[0] == '~' && path[1] == '/' && home) {
		snprintf(buf, sizeof buf, "%s%s", home, path + 1);
		path = buf;
	}
	if (!mg_nifti_is_name(path))
		return mg_err_set(e, MG_ERR_UNSUPPORTED,
				  "%s: only NIfTI files (.nii, .nii.gz, .hdr/.img) can be read yet",
				  path);
	return mg_nifti_read(path, t, e);
}

/* Several files become channels: 3D images stack on a new axis 0, images with a
 * channel axis concatenate along it, as MONAI's readers do (_stack_images). Shapes must
 * agree and affines be np.allclose to the first file's (_copy_compatible_dict); the meta
 * is the first file's. */
static int stack(struct mg_tensor *parts, int n, struct mg_tensor *out, struct mg_err *e)
{
	const struct mg_tensor *p0 = &parts[0];
	int has_channel = p0->meta->original_channel_dim != MG_NO_CHANNEL;
	enum mg_dtype dt = p0->dtype;
	for (int i = 1; i < n; i++) {
		const struct mg_tensor *p = &parts[i];
		if (p->rank != p0->rank ||
		    memcmp(p->dims, p0->dims, (size_t)(p0->rank - has_channel) * sizeof *p->dims))
			return mg_err_set(e, MG_ERR_SHAPE, "%s and %s differ in shape",
					  p0->meta->filename, p->meta->filename);
		if (!mg_allclose(&p->meta->affine[0][0], &p0->meta->affine[0][0], 16))
			return mg_err_set(e, MG_ERR_SHAPE, "%s and %s have different affines",
					  p0->meta->filename, p->meta->filename);
		if (p->dtype != dt)
			dt = MG_DTYPE_F64;
	}
	/* (n, X, Y, Z) with each channel x fastest, or (X, Y, Z, sum C) likewise */
	struct mg_tensor like = *p0;
	int cdim = has_channel ? p0->rank - 1 : 0;
	int64_t total = 0;
	for (int i = 0; i < n; i++)
		total += has_channel ? parts[i].dims[cdim] : 1;
	if (!has_channel)
		mg_tensor_unsqueeze(&like, 0);
	like.dims[cdim] = total;
	like.strides[cdim] = INT64_MAX / 2; /* slowest */
	int rc = mg_tensor_alloc_like(out, &like, dt, e);
	if (rc)
		return rc;
	int64_t at = 0;
	for (int i = 0; i < n; i++) {
		struct mg_tensor part = parts[i], dst = *out;
		if (!has_channel)
			mg_tensor_unsqueeze(&part, 0);
		dst.dims[cdim] = part.dims[cdim];
		dst.offset += at * out->strides[cdim];
		at += part.dims[cdim];
		int64_t ps = (int64_t)mg_dtype_size(part.dtype), ds = (int64_t)mg_dtype_size(dt);
		const int64_t *st[2] = {part.strides, dst.strides};
		struct mg_iter it;
		mg_iter_init(&it, part.rank, part.dims, 2, st);
		const char *src = mg_tensor_data(&part);
		char *d = mg_tensor_data(&dst);
		for (; !it.done; mg_iter_next(&it)) {
			const char *from = src + it.off[0] * ps;
			char *to = d + it.off[1] * ds;
			if (part.dtype == dt)
				memcpy(to, from, (size_t)ds);
			else
				mg_dtype_store(dt, to, mg_dtype_load(part.dtype, from));
		}
	}
	out->meta = mg_meta_clone(p0->meta);
	if (!out->meta) {
		mg_tensor_release(out);
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	}
	out->meta->original_channel_dim = has_channel ? -1 : 0;
	return 0;
}

static int load_image(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	if (in[0].kind != MG_VK_STRINGS || in[0].nstr < 1)
		return mg_err_set(k->err, MG_ERR_CONFIG, "expected a file name");
	struct mg_tensor parts[16], img = {0};
	int n = in[0].nstr, rc = 0, got = 0;
	if (n > 16)
		return mg_err_set(k->err, MG_ERR_UNSUPPORTED, "more than 16 files in one item");
	for (; got < n && !rc; got++)
		rc = read_one(in[0].str[got], a[A_EXPANDUSER].v.i, &parts[got], k->err);
	if (rc)
		got--; /* the failed read left nothing behind */
	if (!rc && n == 1)
		img = mg_tensor_share(&parts[0]);
	else if (!rc)
		rc = stack(parts, n, &img, k->err);
	for (int i = 0; i < got; i++)
		mg_tensor_release(&parts[i]);
	if (rc)
		return rc;
	if (!a[A_DTYPE].is_none && img.dtype != (enum mg_dtype)a[A_DTYPE].v.i) {
		struct mg_tensor cast;
		rc = mg_gen_cast(&cast, &img, (enum mg_dtype)a[A_DTYPE].v.i, k);
		mg_tensor_release(&img);
		if (rc)
			return rc;
		img = cast;
	}
	if (a[A_CHANNEL_FIRST].v.i &&
	    (rc = mg_channel_first(&img, img.meta->original_channel_dim,
				   "the meta's original_channel_dim", k->err))) {
		mg_tensor_release(&img);
		return rc;
	}
	mg_val_set_tensor(&out[0], img, NULL);
	return 0;
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	if (in[0].kind != MG_VK_STRINGS)
		return mg_err_set(e, MG_ERR_CONFIG, "LoadImage reads file names; this key already "
						    "holds an image");
	out[0].kind = MG_VK_TENSOR;
	out[0].dtype = a[A_DTYPE].is_none ? -1 : (int)a[A_DTYPE].v.i;
	out[0].rank = -1;
	return 0;
}

const struct mg_opdef mg_op_load_image = {
	.name = "LoadImage",
	.synopsis = "read a NIfTI image with its affine; several files stack as channels",
	.flags = MG_OPF_IO,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = load_image,
};
