/* runtime.h: the public runtime API: errors, dtypes, refcounted buffers, strided tensors,
 * image metadata, the thread pool and image IO.
 * Invariant: a tensor is a view (dims, strides in elements, offset) over a refcounted
 * buffer; logical order is MONAI's (channel first, x before y before z).
 * Read next: tensor.c, meta.c, nifti.c. The compiler (ir/, passes/, codegen/) is never
 * reached from here. */
#ifndef MG_RUNTIME_H
#define MG_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- errors ------------------------------------------------------------------------ */

enum mg_status {
	MG_OK = 0,
	MG_ERR_IO = -1,          /* a file could not be opened, read or written */
	MG_ERR_FORMAT = -2,      /* a file's content is malformed or inconsistent */
	MG_ERR_CONFIG = -3,      /* a pipeline file or argument is wrong */
	MG_ERR_NOMEM = -4,
	MG_ERR_SHAPE = -5,       /* shapes or dtypes do not fit the op */
	MG_ERR_UNSUPPORTED = -6, /* valid input that mgc does not handle yet */
	MG_ERR_INTERNAL = -7,
};

/* The first error wins: later mg_err_set calls keep the message but return their code,
 * so callers can always write `return mg_err_set(e, ...)`. */
struct mg_err {
	int code;
	char msg[1024];
};

int mg_err_set(struct mg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put context in front of an existing message ("item 3 'spleen_10.nii.gz': ..."). */
void mg_err_prefix(struct mg_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mg_err_clear(struct mg_err *e);

/* ---- dtypes -------------------------------------------------------------------------- */

/* X(enum suffix, name, short name (the IR printer's), C size, is_float, is_signed) */
#define MG_DTYPES(X)                           \
	X(U8, "uint8", "u8", 1, 0, 0)          \
	X(I8, "int8", "i8", 1, 0, 1)           \
	X(U16, "uint16", "u16", 2, 0, 0)       \
	X(I16, "int16", "i16", 2, 0, 1)        \
	X(U32, "uint32", "u32", 4, 0, 0)       \
	X(I32, "int32", "i32", 4, 0, 1)        \
	X(I64, "int64", "i64", 8, 0, 1)        \
	X(F16, "float16", "f16", 2, 1, 1)      \
	X(BF16, "bfloat16", "bf16", 2, 1, 1)   \
	X(F32, "float32", "f32", 4, 1, 1)      \
	X(F64, "float64", "f64", 8, 1, 1)

enum mg_dtype {
#define X(e, n, sn, s, f, g) MG_DTYPE_##e,
	MG_DTYPES(X)
#undef X
	MG_DTYPE_COUNT
};

const char *mg_dtype_name(enum mg_dtype t);
const char *mg_dtype_short(enum mg_dtype t); /* "f32" */
size_t mg_dtype_size(enum mg_dtype t);
int mg_dtype_is_float(enum mg_dtype t);
/* Accepts mgc names ("float32") and MONAI/numpy/torch spellings ("np.float32",
 * "torch.float32", "float", "int16", "half"). Returns -1 when unknown. */
int mg_dtype_parse(const char *s);
uint16_t mg_f32_to_f16(float f);
float mg_f16_to_f32(uint16_t h);
uint16_t mg_f32_to_bf16(float f);
float mg_bf16_to_f32(uint16_t h);
/* Element access through double: exact for every dtype but int64 beyond 2^53.
 * Stores convert as torch's .to(): floats to ints truncate toward zero, but values
 * outside the range saturate here (torch wraps; C leaves it undefined) and NaN becomes
 * 0; f16/bf16 round to nearest even. Inline: reference kernels call these per element. */
static inline double mg_dtype_load(enum mg_dtype t, const void *p);
static inline void mg_dtype_store(enum mg_dtype t, void *p, double v);

/* ---- buffers ------------------------------------------------------------------------ */

struct mg_buffer {
	int refs;                               /* atomic */
	size_t size;                            /* bytes */
	void *data;
	void (*free_fn)(void *ctx, void *data); /* NULL: data came from mg_block_alloc */
	void *free_ctx;
};

/* Memory for tensor data (block.c), 64-byte aligned; NULL on failure. Large blocks use
 * huge pages and are cached when freed, for the next item's data of about the same
 * size; mg_block_cache_trim gives the cache back (mg_exec_run does, when it ends). */
void *mg_block_alloc(size_t size);
void mg_block_free(void *p);
void mg_block_cache_trim(void);

struct mg_buffer *mg_buffer_new(size_t size); /* an mg_block_alloc block; NULL on failure */
/* Adopts memory owned elsewhere: free_fn(ctx, data) runs at the last release; free_fn
 * NULL adopts an mg_block_alloc block. */
struct mg_buffer *mg_buffer_wrap(void *data, size_t size, void (*free_fn)(void *, void *),
				 void *ctx);
/* Bytes of buffers this thread has made (mg_buffer_new and mg_buffer_wrap) since it
 * started: what kernels wrote, as views make none. */
int64_t mg_buffer_created(void);
void mg_buffer_retain(struct mg_buffer *b);
void mg_buffer_release(struct mg_buffer *b);

/* ---- image metadata ----------------------------------------------------------------- */

#define MG_NO_CHANNEL (-100) /* original_channel_dim of an image without channel axis */
#define MG_MAX_APPLIED 32

/* One entry of MONAI's applied_operations: what a spatial op did to the grid, enough to
 * invert it (Invertd) without the op: its struct mg_grid less the output affine (which
 * is in_affine · out_to_in). mode and padding hold enum mg_interp and enum mg_pad
 * (resample.h); mg_applied_set and mg_applied_grid convert. */
struct mg_applied {
	char op[24];
	int8_t sdim, mode, padding, align_corners;
	int64_t in_shape[3], out_shape[3];
	double out_to_in[4][4]; /* output voxel -> input voxel, homogeneous */
	double in_affine[4][4]; /* the input's voxel -> world affine */
};

/* Refcounted and shared between tensors: use mg_meta_mut() before changing it. */
/* One entry of MONAI's meta["clipping_values"] (ClipIntensityPercentiles with
 * return_clipping_values): the lower and upper percentile; set[i] 0 is Python's None (a
 * bound soft clipping was not given). */
struct mg_clipping {
	double v[2];
	unsigned char set[2];
};

struct mg_meta {
	int refs;
	int sdim;                    /* spatial rank: 2 or 3 */
	double affine[4][4];         /* voxel -> world, RAS, as MONAI's MetaTensor.affine */
	double orig_affine[4][4];    /* the affine as loaded, for inversion */
	int64_t orig_shape[3];       /* spatial shape as loaded */
	double pixdim[3];            /* the file's zooms (after header correction) */
	int original_channel_dim;    /* MG_NO_CHANNEL, or the channel axis in the file */
	char *filename;              /* source file; NULL when not from a file */
	int napplied;
	struct mg_applied applied[MG_MAX_APPLIED];
	int nclipping;               /* clipping_values: one per channel group; 0: none */
	struct mg_clipping *clipping;
};

struct mg_meta *mg_meta_new(void); /* identity affines, sdim 3, no channel */
struct mg_meta *mg_meta_clone(const struct mg_meta *m);
void mg_meta_retain(struct mg_meta *m);
void mg_meta_release(struct mg_meta *m);
int mg_meta_set_filename(struct mg_meta *m, const char *name);
/* Replaces m's clipping_values with a copy of c[0..n). */
int mg_meta_set_clipping(struct mg_meta *m, const struct mg_clipping *c, int n);
void mg_affine_identity(double a[4][4]);
/* inv = a^-1 for a 4x4 matrix (Gauss-Jordan, partial pivoting); -1 when singular. */
int mg_affine_invert(const double a[4][4], double inv[4][4]);
/* c = a b on 4x4 matrices (c may be a or b); each entry summed over k in order. */
void mg_affine_mul(const double a[4][4], const double b[4][4], double c[4][4]);
/* numpy's allclose(x, y): |x - y| <= 1e-8 + 1e-5 |y| everywhere (asymmetric in y; NaN
 * fails), as MONAI compares affines and spacings. */
int mg_allclose(const double *x, const double *y, int n);

/* ---- tensors ------------------------------------------------------------------------ */

#define MG_MAX_RANK 6

struct mg_tensor {
	enum mg_dtype dtype;
	int rank;
	int64_t dims[MG_MAX_RANK];
	int64_t strides[MG_MAX_RANK]; /* in elements; any sign */
	int64_t offset;               /* in elements, from buf->data */
	struct mg_buffer *buf;        /* owned reference; NULL for an empty tensor */
	struct mg_meta *meta;         /* owned reference; NULL for plain tensors */
};

/* A fresh contiguous tensor (last dim fastest), uninitialised, no meta. */
int mg_tensor_alloc(struct mg_tensor *t, enum mg_dtype dtype, int rank, const int64_t *dims,
		    struct mg_err *e);
/* The same layout as `like` (its stride order, made dense), new storage. Keeps loads of
 * x-fastest files from turning into transposing copies. */
/* A fresh tensor whose memory order is order[]: order[0] the fastest axis, order[rank-1]
 * the slowest. */
int mg_tensor_alloc_order(struct mg_tensor *t, enum mg_dtype dtype, int rank,
			  const int64_t *dims, const int *order, struct mg_err *e);
/* t's axes from the fastest in memory to the slowest, by |stride| (on a tie the later
 * axis is the faster, as in a contiguous tensor). */
void mg_tensor_order(const struct mg_tensor *t, int order[MG_MAX_RANK]);
int mg_tensor_alloc_like(struct mg_tensor *t, const struct mg_tensor *like,
			 enum mg_dtype dtype, struct mg_err *e);
void mg_tensor_release(struct mg_tensor *t); /* drops buf and meta, zeroes *t */
struct mg_tensor mg_tensor_share(const struct mg_tensor *t); /* a new reference */
int64_t mg_tensor_numel(const struct mg_tensor *t);
int mg_tensor_is_contiguous(const struct mg_tensor *t);
void *mg_tensor_data(const struct mg_tensor *t); /* address of element 0 */
void *mg_tensor_at(const struct mg_tensor *t, const int64_t *idx);
/* Views: no data moves. */
void mg_tensor_unsqueeze(struct mg_tensor *t, int dim);
void mg_tensor_squeeze(struct mg_tensor *t, int dim); /* dims[dim] must be 1 */
void mg_tensor_movedim(struct mg_tensor *t, int from, int to);
/* Element-by-element conversion to `dtype`, laid out as `in` (see alloc_like). */
/* Writes in's elements into out (the same dims, any strides and dtypes), converted as
 * mg_dtype_store does. */
void mg_tensor_convert(struct mg_tensor *out, const struct mg_tensor *in);
int mg_tensor_cast(struct mg_tensor *out, const struct mg_tensor *in, enum mg_dtype dtype,
		   struct mg_err *e);
/* A contiguous copy (last dim fastest). */
int mg_tensor_contiguous(struct mg_tensor *out, const struct mg_tensor *in, struct mg_err *e);
/* Copy-on-write access to t->meta (creates it when NULL). NULL when out of memory. */
struct mg_meta *mg_meta_mut(struct mg_tensor *t);

/* Walks the index space of dims, advancing one offset per operand:
 *   struct mg_iter it;
 *   for (mg_iter_init(&it, t.rank, t.dims, 2, (const int64_t *[]){a.strides, b.strides});
 *        !it.done; mg_iter_next(&it))
 *           ... it.off[0], it.off[1] ...
 * Row walks are faster: mg_iter_next_row steps over all but the innermost dimension,
 * which the caller loops over itself (it.inner elements, operand k's stride it.istride[k]).
 * mg_iter_init_memorder orders the walk by operand 0's memory layout (its largest stride
 * outermost), so elementwise kernels stream through x-fastest NIfTI data; a walk in that
 * order visits every index once, only not in logical order. */
#define MG_ITER_MAXOPS 4
struct mg_iter {
	int rank, nops, done;
	int64_t dims[MG_MAX_RANK];
	int64_t idx[MG_MAX_RANK];
	int64_t strides[MG_ITER_MAXOPS][MG_MAX_RANK];
	int64_t off[MG_ITER_MAXOPS];
	int64_t inner;                   /* length of the innermost dimension */
	int64_t istride[MG_ITER_MAXOPS]; /* operand strides along it */
};
void mg_iter_init(struct mg_iter *it, int rank, const int64_t *dims, int nops,
		  const int64_t *const *strides);
void mg_iter_init_memorder(struct mg_iter *it, int rank, const int64_t *dims, int nops,
			   const int64_t *const *strides);
int mg_iter_next(struct mg_iter *it);     /* 0 (and done) when the walk is over */
int mg_iter_next_row(struct mg_iter *it); /* likewise, by rows */

/* Seconds on a monotonic clock, for timings and progress. */
double mg_now(void);

/* ---- paths and folders (fs.c) -------------------------------------------------------- */

/* Python's os.path.join(a, b): b when absolute, else a + "/" + b with no "/" added after
 * an empty a or one ending in "/" (so join("", "x") is "x", join("o", "") is "o/").
 * malloc'd; NULL when out of memory. */
char *mg_path_join(const char *a, const char *b);
/* posixpath.normpath: drops "." and empty parts, folds "x/..", keeps the leading ".." of
 * relative paths and exactly two leading slashes. malloc'd; NULL when out of memory. */
char *mg_path_normpath(const char *path);
/* posixpath.relpath(path, start) (both non-empty; relative ones are taken from the
 * current folder, as abspath does); may begin with "../". malloc'd; NULL with errno
 * set (ENOMEM, or why the current folder is unknown). */
char *mg_path_relpath(const char *path, const char *start);
/* mkdir -p: creates path and its missing parents (mode 0777 less the umask); an
 * existing folder is fine, "" (the current folder) is a no-op. Errors name the part
 * that could not be made and why. */
int mg_mkdirs(const char *path, struct mg_err *e);
/* Creates the temporary file a whole-or-nothing write of path goes to, in path's folder,
 * named ".<stem>.tmp<pid>-<n><ext>" (ext: how path ends, kept so tools that sniff names
 * still see the type; may be ""). Returns its open fd (O_WRONLY, O_EXCL) and the
 * malloc'd name in *tmp; the caller renames it into place or unlinks it. */
int mg_file_temp(const char *path, const char *ext, char **tmp, struct mg_err *e);
/* The whole file at path in *out (malloc'd, NUL-terminated; *len excludes the NUL).
 * Errors: "<path>: cannot open: <why>", "<path>: read error: <why>", out of memory. */
int mg_file_read(const char *path, char **out, size_t *len, struct mg_err *e);
/* strerror for any thread: the text of errnum, in buf (n bytes) or static. */
const char *mg_strerror(int errnum, char *buf, size_t n);

/* ---- random numbers ----------------------------------------------------------------- */

/* Philox4x32-10 (philox.c): the four words at counter ctr under key. */
void mg_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* ---- thread pool -------------------------------------------------------------------- */

struct mg_pool;
struct mg_pool *mg_pool_new(int nthreads); /* 0: one per core */
void mg_pool_free(struct mg_pool *p);
int mg_pool_size(const struct mg_pool *p);
/* Runs fn(ctx, i, worker) for i in [0, n); returns when all are done. worker is in
 * [0, mg_pool_size). Safe to call with p == NULL (runs inline). Not reentrant: fn must
 * not call mg_pool_for on the same pool (one loop at a time per pool). */
void mg_pool_for(struct mg_pool *p, int64_t n, void (*fn)(void *ctx, int64_t i, int worker),
		 void *ctx);

/* ---- image IO ----------------------------------------------------------------------- */

/* Reads a NIfTI-1 file (.nii, .nii.gz, .hdr/.img). The tensor is a view over the file's
 * data block in the file's dtype: dims (X, Y, Z) or (X, Y, Z, C) for 4D, x fastest,
 * with scl_slope/scl_inter applied as nibabel does (the result is then float64, whatever
 * the stored type). meta holds the affine nibabel/MONAI report (sform, else qform, else the
 * base affine; header corrected as MONAI's NibabelReader does), the file name and
 * original_channel_dim (MG_NO_CHANNEL for 2D/3D, -1 for 4D). */
int mg_nifti_read(const char *path, struct mg_tensor *out, struct mg_err *e);
/* Writes t, dims (X, Y[, Z][, C]) with t->meta's affine (identity when NULL) as both
 * sform and qform (codes 1, as MONAI's NibabelWriter writes them), in dtype (float16 and
 * bfloat16 are rounded, then stored as float32). Written to a temporary name in the same
 * folder then renamed: no half-written file is left behind. gz_level (0..9) applies to
 * .nii.gz names; 1 is what nibabel uses. */
int mg_nifti_write(const char *path, const struct mg_tensor *t, enum mg_dtype dtype,
		   int gz_level, struct mg_err *e);

/* Whether path is named as a NIfTI-1 file: .nii, .hdr or .img, each maybe with .gz
 * (case-insensitive). */
int mg_nifti_is_name(const char *path);
/* The base name of path without its extension, as MONAI's create_file_basename takes it
 * (os.path.splitext, then once more when that removed ".gz": "a.nii.gz" -> "a",
 * "a.b.nii" -> "a.b", ".nii" -> ".nii"). Writes up to n bytes to out, like snprintf, and
 * returns the stem's length (out was cut when that is >= n). */
size_t mg_nifti_stem(const char *path, char *out, size_t n);

/* Header facts for `mgc info`: pixdim, qform and sform as nibabel loads the header
 * (after its own fixes, before MONAI's correction); affine as mg_nifti_read reports it. */
struct mg_nifti_info {
	int ndim;
	int64_t dims[7];
	double pixdim[8];
	int datatype;             /* NIfTI code */
	const char *datatype_name;
	int qform_code, sform_code;
	double qform[4][4], sform[4][4];
	double affine[4][4];      /* as mg_nifti_read reports it */
	double scl_slope, scl_inter;
	char axcodes[4];          /* e.g. "LPS" from the affine, nibabel's aff2axcodes */
	const char *affine_source; /* "sform", "qform" or "base" */
};
int mg_nifti_info(const char *path, struct mg_nifti_info *info, struct mg_err *e);
/* nibabel's aff2axcodes (io_orientation, then labels L/R P/A I/S). */
void mg_affine_axcodes(const double a[4][4], int sdim, char *codes);

/* ---- inline element access ------------------------------------------------------------ */

static inline double mg__to_int(double v, double lo, double hi)
{
	if (v != v)
		return 0;
	v = v < 0 ? -__builtin_floor(-v) : __builtin_floor(v);
	return v < lo ? lo : v > hi ? hi : v;
}

static inline double mg_dtype_load(enum mg_dtype t, const void *p)
{
	switch (t) {
	case MG_DTYPE_U8: return *(const uint8_t *)p;
	case MG_DTYPE_I8: return *(const int8_t *)p;
	case MG_DTYPE_U16: return *(const uint16_t *)p;
	case MG_DTYPE_I16: return *(const int16_t *)p;
	case MG_DTYPE_U32: return *(const uint32_t *)p;
	case MG_DTYPE_I32: return *(const int32_t *)p;
	case MG_DTYPE_I64: return (double)*(const int64_t *)p;
	case MG_DTYPE_F16: return mg_f16_to_f32(*(const uint16_t *)p);
	case MG_DTYPE_BF16: return mg_bf16_to_f32(*(const uint16_t *)p);
	case MG_DTYPE_F32: return *(const float *)p;
	case MG_DTYPE_F64: return *(const double *)p;
	case MG_DTYPE_COUNT: break;
	}
	return __builtin_nan("");
}

static inline void mg_dtype_store(enum mg_dtype t, void *p, double v)
{
	switch (t) {
	case MG_DTYPE_U8: *(uint8_t *)p = (uint8_t)mg__to_int(v, 0, UINT8_MAX); break;
	case MG_DTYPE_I8: *(int8_t *)p = (int8_t)mg__to_int(v, INT8_MIN, INT8_MAX); break;
	case MG_DTYPE_U16: *(uint16_t *)p = (uint16_t)mg__to_int(v, 0, UINT16_MAX); break;
	case MG_DTYPE_I16: *(int16_t *)p = (int16_t)mg__to_int(v, INT16_MIN, INT16_MAX); break;
	case MG_DTYPE_U32: *(uint32_t *)p = (uint32_t)mg__to_int(v, 0, UINT32_MAX); break;
	case MG_DTYPE_I32: *(int32_t *)p = (int32_t)mg__to_int(v, INT32_MIN, INT32_MAX); break;
	case MG_DTYPE_I64: /* 2^63 itself is out of range: saturate to INT64_MAX exactly */
		*(int64_t *)p = v >= 0x1p63 ? INT64_MAX
					    : (int64_t)mg__to_int(v, -0x1p63, 0x1p63);
		break;
	case MG_DTYPE_F16: *(uint16_t *)p = mg_f32_to_f16((float)v); break;
	case MG_DTYPE_BF16: *(uint16_t *)p = mg_f32_to_bf16((float)v); break;
	case MG_DTYPE_F32: *(float *)p = (float)v; break;
	case MG_DTYPE_F64: *(double *)p = v; break;
	case MG_DTYPE_COUNT: break;
	}
}

#endif
