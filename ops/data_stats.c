/* Op: DataStats
 * Synopsis: print the image's dtype, shape, value range and affine; pass it through.
 * MONAI: monai.transforms.DataStats(d)
 * Gradient: none.  Inverse: none.
 *
 * MONAI logs a multi-line block per call through `logging`; mgc writes one line per
 * item and key to the run's log (k->log; nothing when NULL), in MONAI's words:
 *   Data statistics: item 3 key 'image': Type: MetaTensor torch.float32, Shape: (1, 96, 96, 64),
 *   Value range: (-1024.0, 3071.0), Affine: [[1.5, 0, 0, -200], ...]
 * The affine is printed for every image that has meta (mgc's addition: MONAI shows it
 * only inside meta_info). Items run in parallel, so the line is written under the
 * stream's lock. The value range is NaN when any value is NaN (torch.min/max), and
 * "(empty)" for an image without elements (where torch would raise). data_value prints
 * the values as torch does, summarised to 3 per edge beyond 1000 elements.
 * additional_info is a Python callable in MONAI: mgc cannot run it, so setting it is an
 * error; `name` (the logger's name) is accepted and has no effect. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static const struct mg_attrdef attrs[] = {
	{"prefix", MG_ATTR_STR, "\"Data\"", MG_ATTRF_PERKEY, NULL,
	 "printed as \"{prefix} statistics:\""},
	{"data_type", MG_ATTR_BOOL, "true", MG_ATTRF_PERKEY, NULL, "show the dtype"},
	{"data_shape", MG_ATTR_BOOL, "true", MG_ATTRF_PERKEY, NULL, "show the shape"},
	{"value_range", MG_ATTR_BOOL, "true", MG_ATTRF_PERKEY, NULL, "show the min and max"},
	{"data_value", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL,
	 "show the values (summarised beyond 1000 elements)"},
	{"meta_info", MG_ATTR_BOOL, "false", MG_ATTRF_PERKEY, NULL, "show the metadata"},
	{"additional_info", MG_ATTR_STR, "null", MG_ATTRF_PERKEY | MG_ATTRF_NULLABLE, NULL,
	 "a Python callable in MONAI; not supported (must be null)"},
	{"name", MG_ATTR_STR, "\"DataStats\"", 0, NULL, "MONAI's logger name; no effect"},
};
enum { A_PREFIX, A_TYPE, A_SHAPE, A_RANGE, A_VALUE, A_META, A_ADDITIONAL, A_NAME };

enum { EDGE = 3, SUMMARY_THRESHOLD = 1000 }; /* torch's print options */

static int check_additional(const struct mg_attr *a, struct mg_err *e)
{
	if (!a[A_ADDITIONAL].is_none)
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "additional_info is a Python callable; "
							 "mgc cannot run it (leave it null)");
	return 0;
}

/* Python-like: integers of integer dtypes plain, floats always with a '.' or exponent. */
static void put_num(FILE *f, enum mg_dtype t, double v)
{
	if (!mg_dtype_is_float(t) && isfinite(v)) {
		fprintf(f, "%.0f", v);
		return;
	}
	char s[40];
	snprintf(s, sizeof s, "%g", v);
	fputs(isnan(v) ? "nan" : s, f);
	if (isfinite(v) && !strpbrk(s, ".e"))
		fputs(".0", f);
}

static void put_values(FILE *f, const struct mg_tensor *t, const char *base, int dim,
		       int64_t off, int summarize)
{
	if (dim == t->rank) {
		size_t es = mg_dtype_size(t->dtype);
		put_num(f, t->dtype, mg_dtype_load(t->dtype, base + off * (int64_t)es));
		return;
	}
	int64_t n = t->dims[dim];
	fputc('[', f);
	for (int64_t i = 0; i < n; i++) {
		if (summarize && n > 2 * EDGE && i == EDGE) {
			fputs(", ...", f);
			i = n - EDGE;
		}
		if (i > 0)
			fputs(", ", f);
		put_values(f, t, base, dim + 1, off + i * t->strides[dim], summarize);
	}
	fputc(']', f);
}

static void put_range(FILE *f, const struct mg_tensor *t)
{
	if (mg_tensor_numel(t) == 0) {
		fputs("(empty)", f);
		return;
	}
	size_t es = mg_dtype_size(t->dtype);
	const char *p = mg_tensor_data(t);
	double lo = INFINITY, hi = -INFINITY;
	int nan = 0;
	struct mg_iter it;
	mg_iter_init(&it, t->rank, t->dims, 1, (const int64_t *[]){t->strides});
	do {
		double v = mg_dtype_load(t->dtype, p + it.off[0] * (int64_t)es);
		nan |= isnan(v);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	} while (mg_iter_next(&it));
	if (nan)
		lo = hi = NAN;
	fputc('(', f);
	put_num(f, t->dtype, lo);
	fputs(", ", f);
	put_num(f, t->dtype, hi);
	fputc(')', f);
}

static void put_matrix(FILE *f, const double m[4][4])
{
	/* + 0.0 prints -0 as 0 */
	for (int r = 0; r < 4; r++)
		fprintf(f, "%s[%g, %g, %g, %g]", r ? ", " : "[", m[r][0] + 0.0, m[r][1] + 0.0,
			m[r][2] + 0.0, m[r][3] + 0.0);
	fputc(']', f);
}

/* v as Python's repr of a float: the fewest digits that read back as v, and ".0" on
 * integral values. */
static void put_repr(FILE *f, double v)
{
	char s[32];
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(s, sizeof s, "%.*g", digits, v);
		if (strtod(s, NULL) == v || isnan(v))
			break;
	}
	fputs(s, f);
	if (isfinite(v) && !strpbrk(s, ".e"))
		fputs(".0", f);
}

static void put_meta(FILE *f, const struct mg_tensor *t)
{
	const struct mg_meta *m = t->meta;
	if (!m) {
		fputs("(input is not a MetaTensor)", f);
		return;
	}
	fprintf(f, "{filename_or_obj: '%s', original_channel_dim: ",
		m->filename ? m->filename : "");
	if (m->original_channel_dim == MG_NO_CHANNEL)
		fputs("'no_channel'", f);
	else
		fprintf(f, "%d", m->original_channel_dim);
	fprintf(f, ", spatial_shape: (%lld, %lld", (long long)m->orig_shape[0],
		(long long)m->orig_shape[1]);
	if (m->sdim == 3)
		fprintf(f, ", %lld", (long long)m->orig_shape[2]);
	fprintf(f, "), pixdim: (%g, %g, %g), original_affine: ", m->pixdim[0], m->pixdim[1],
		m->pixdim[2]);
	put_matrix(f, m->orig_affine);
	fprintf(f, ", applied_operations: %d", m->napplied);
	if (m->nclipping) { /* as Python prints MONAI's list of tuples */
		fputs(", clipping_values: [", f);
		for (int i = 0; i < m->nclipping; i++)
			for (int j = 0; j < 2; j++) {
				fputs(j ? ", " : i ? "), (" : "(", f);
				if (m->clipping[i].set[j])
					put_repr(f, m->clipping[i].v[j]);
				else
					fputs("None", f);
			}
		fputs(")]", f);
	}
	fputc('}', f);
}

static void put_tensor(FILE *f, const struct mg_attr *a, const struct mg_tensor *t)
{
	const char *sep = "";
	if (a[A_TYPE].v.i) {
		fprintf(f, "Type: %s torch.%s", t->meta ? "MetaTensor" : "Tensor",
			mg_dtype_name(t->dtype));
		sep = ", ";
	}
	if (a[A_SHAPE].v.i) {
		fprintf(f, "%sShape: (", sep);
		for (int i = 0; i < t->rank; i++)
			fprintf(f, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
		fputc(')', f);
		sep = ", ";
	}
	if (a[A_RANGE].v.i) {
		fprintf(f, "%sValue range: ", sep);
		put_range(f, t);
		sep = ", ";
	}
	if (t->meta) {
		fprintf(f, "%sAffine: ", sep);
		put_matrix(f, t->meta->affine);
		sep = ", ";
	}
	if (a[A_VALUE].v.i) {
		fprintf(f, "%sValue: ", sep);
		if (mg_tensor_numel(t) == 0)
			fputs("[]", f);
		else
			put_values(f, t, mg_tensor_data(t), 0, 0,
				   mg_tensor_numel(t) > SUMMARY_THRESHOLD);
		sep = ", ";
	}
	if (a[A_META].v.i) {
		fprintf(f, "%sMeta info: ", sep);
		put_meta(f, t);
	}
}

static void put_strings(FILE *f, const struct mg_attr *a, const struct mg_val *v)
{
	fputs("Type: str", f);
	if (a[A_RANGE].v.i)
		fputs(", Value range: (not a PyTorch or Numpy array, type: str)", f);
	if (a[A_VALUE].v.i)
		for (int i = 0; i < v->nstr; i++)
			fprintf(f, "%s'%s'", i ? ", " : ", Value: ", v->str[i]);
}

static int data_stats(const struct mg_attr *a, struct mg_val *in, struct mg_val *out,
		      struct mg_kctx *k)
{
	int rc = check_additional(a, k->err);
	if (rc)
		return rc;
	FILE *f = k->log;
	if (f && in[0].kind != MG_VK_NONE) {
		flockfile(f); /* one whole line, even with items printing in parallel */
		fprintf(f, "%s statistics: item %lld", a[A_PREFIX].v.s, (long long)k->item);
		if (k->key)
			fprintf(f, " key '%s'", k->key);
		fputs(": ", f);
		if (in[0].kind == MG_VK_TENSOR)
			put_tensor(f, a, &in[0].t);
		else
			put_strings(f, a, &in[0]);
		fputc('\n', f);
		funlockfile(f);
	}
	return mg_val_share(&out[0], &in[0], k->err);
}

static int infer(const struct mg_attr *a, const struct mg_type *in, struct mg_type *out,
		 struct mg_err *e)
{
	out[0] = in[0];
	return check_additional(a, e);
}

const struct mg_opdef mg_op_data_stats = {
	.name = "DataStats",
	.synopsis = "print dtype, shape, value range and affine of each item; pass it through",
	.flags = MG_OPF_PASSTHROUGH,
	.nin = 1,
	.nout = 1,
	.attrs = attrs,
	.nattrs = sizeof attrs / sizeof *attrs,
	.infer = infer,
	.ref = data_stats,
};
