/* test_conformance_intensity.c: the intensity ops (ScaleIntensityRange,
 * NormalizeIntensity, ScaleIntensity, ScaleIntensityRangePercentiles, ThresholdIntensity,
 * ClipIntensityPercentiles, ShiftIntensity, GaussianSmooth, GaussianSharpen,
 * HistogramNormalize, ForegroundMask), EnsureChannelFirst and CastToType against MONAI's
 * own outputs, and their refusals of bad arguments.
 * Cases live in tests/golden/intensity/cases.json (made by tools/golden/gen_intensity.py):
 * each names the op, its JSON arguments, an input and MONAI's output as .npy. For every
 * case the arguments go through mg_attrs_parse as a pipeline's would, the op's reference
 * kernel runs, and shape, dtype and values are compared under the op's tolerance below;
 * the op's type rule must agree with what the kernel made, the input (data and meta)
 * must come out untouched, and EnsureChannelFirst's NIfTI cases also go through
 * LoadImage so original_channel_dim comes from mgc's reader as it came from MONAI's.
 * It also checks the .npy reader (npy.h) on hand-made good and bad files. */
#include "check.h"
#include "golden.h"
#include "../ops/intensity.h"

#define GOLDEN MG_SOURCE_DIR "/tests/golden/intensity/"

struct tol {
	double atol, rtol;
	const char *why;
};

/* Per-op tolerances, and why they are what they are. */
static struct tol tolerance(const char *op, enum mg_dtype out)
{
	if (strcmp(op, "NormalizeIntensity") == 0 && mg_dtype_is_float(out))
		/* torch's float32 mean is a float32 cascade sum (order set by its SIMD width);
		 * mgc sums in float64, so the float32 means differ by ~1 ulp and each output
		 * by ~ulp(mean)/std (< 1e-6 for these inputs, |mean|/std < 10) plus one
		 * float32 rounding of the result. std itself matches bit for bit. */
		return (struct tol){1e-5, 1e-5, "float32 mean: summed in float64 vs torch's "
						"float32 cascade (~ulp(mean)/std)"};
	if (strcmp(op, "GaussianSmooth") == 0)
		/* float32 sums tap by tap; torch's convolution sums in its own order for some
		 * shapes: a few ulps of the largest terms (|x| up to ~1200 here: ulp 1.2e-4) */
		return (struct tol){1e-4, 1e-6, "float32 convolution sums in another order "
						"(a few ulps of the data's scale)"};
	if (strcmp(op, "GaussianSharpen") == 0)
		/* the same, then b + alpha (b - bb) multiplies the difference by alpha + 1 */
		return (struct tol){1e-4, 1e-5, "the filters' float32 sums, times alpha + 1"};
	if (strcmp(op, "ClipIntensityPercentiles") == 0)
		/* soft clipping: libm's expf/log1pf against torch's vectorised ones (~1 ulp);
		 * hard clipping and the percentiles are exact */
		return (struct tol){1e-6, 1e-6, "softplus: libm vs torch's exp/log1p (~1 ulp)"};
	/* ScaleIntensityRange repeats torch's op sequence, rounding each step to the same
	 * dtype; integer outputs of NormalizeIntensity truncate values that are the same
	 * unless within an ulp of an integer (none in these cases); EnsureChannelFirst
	 * moves no values; CastToType converts in range as torch does. ScaleIntensity,
	 * ScaleIntensityRangePercentiles (torch.quantile's float64 rank and fused lerp),
	 * ThresholdIntensity, ShiftIntensity, HistogramNormalize (numpy's histogram and
	 * interp) and ForegroundMask (skimage's Otsu, numpy's pairwise mean) repeat their
	 * library's operations one by one. */
	return (struct tol){0, 0, "exact: same float32/float64 operation sequence"};
}

static void shape_str(const struct mg_tensor *t, char *s, size_t n)
{
	int k = snprintf(s, n, "(");
	for (int i = 0; i < t->rank && k < (int)n; i++)
		k += snprintf(s + k, n - (size_t)k, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
	if (k < (int)n)
		snprintf(s + k, n - (size_t)k, ")");
}

static int parse_channel_dim(const cJSON *j)
{
	if (cJSON_IsString(j) && strcmp(j->valuestring, "no_channel") == 0)
		return MG_NO_CHANNEL;
	return cJSON_IsNumber(j) ? j->valueint : -12345;
}

/* The case's input meta: null is a plain tensor; {} a MetaTensor with default meta. */
static int attach_meta(struct mg_tensor *x, const cJSON *meta)
{
	if (!cJSON_IsObject(meta))
		return 0;
	if (!(x->meta = mg_meta_new()))
		return -1;
	const cJSON *cd = cJSON_GetObjectItem(meta, "original_channel_dim");
	if (cd)
		x->meta->original_channel_dim = parse_channel_dim(cd);
	const cJSON *aff = cJSON_GetObjectItem(meta, "affine");
	for (int r = 0; r < 4 && aff; r++)
		for (int c = 0; c < 4; c++)
			x->meta->affine[r][c] =
				cJSON_GetArrayItem(cJSON_GetArrayItem(aff, r), c)->valuedouble;
	return 0;
}

/* The op's type rule must describe what its kernel made. */
static void check_infer(const char *name, const struct mg_opdef *d, const struct mg_attr *a,
			const struct mg_tensor *x, const struct mg_tensor *y)
{
	struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = (int)x->dtype, .rank = x->rank};
	struct mg_type out = {.kind = MG_VK_TENSOR, .dtype = -1, .rank = -1};
	memcpy(in.dims, x->dims, sizeof in.dims);
	struct mg_err e = {0};
	if (!d->infer)
		out = in;
	else
		CHECK_OK(d->infer(a, &in, &out, &e), &e);
	CHECK(out.kind == MG_VK_TENSOR, "%s: infer gives kind %d", name, out.kind);
	CHECK(out.dtype < 0 || out.dtype == (int)y->dtype, "%s: infer says %s, kernel made %s",
	      name, out.dtype < 0 ? "?" : mg_dtype_name(out.dtype), mg_dtype_name(y->dtype));
	if (out.rank >= 0) {
		CHECK(out.rank == y->rank, "%s: infer says rank %d, kernel made %d", name,
		      out.rank, y->rank);
		for (int i = 0; i < out.rank && out.rank == y->rank; i++)
			CHECK(out.dims[i] < 0 || out.dims[i] == y->dims[i],
			      "%s: infer says dim %d is %lld, kernel made %lld", name, i,
			      (long long)out.dims[i], (long long)y->dims[i]);
	}
}

/* Runs op on x; checks the result against want and the input for side effects. */
/* The output meta's clipping_values against MONAI's (want: [[lower, upper], ...], null
 * for None; NULL: MONAI kept none), exactly. */
static void check_clipping(const char *name, const struct mg_tensor *y, const cJSON *want)
{
	int n = y->meta ? y->meta->nclipping : 0;
	CHECK(n == cJSON_GetArraySize(want), "%s: %d clipping_values, MONAI has %d", name, n,
	      cJSON_GetArraySize(want));
	for (int i = 0; i < n && i < cJSON_GetArraySize(want); i++)
		for (int j = 0; j < 2; j++) {
			const cJSON *w = cJSON_GetArrayItem(cJSON_GetArrayItem(want, i), j);
			const struct mg_clipping *c = &y->meta->clipping[i];
			CHECK(cJSON_IsNull(w) ? !c->set[j] : c->set[j] && c->v[j] == w->valuedouble,
			      "%s: clipping_values[%d][%d] is %s%.17g, MONAI has %s", name, i, j,
			      c->set[j] ? "" : "None ", c->v[j], cJSON_IsNull(w) ? "None" : "a value");
		}
}

static void run_and_compare(const char *name, const char *op, const struct mg_attr *a,
			    struct mg_tensor *x, const struct mg_tensor *want,
			    const cJSON *out_meta, double *max_err)
{
	const struct mg_opdef *d = mg_ops[mg_op_find(op)];
	struct mg_err e = {0};
	struct mg_tensor before;
	CHECK_OK(mg_tensor_contiguous(&before, x, &e), &e);
	int cd_before = x->meta ? x->meta->original_channel_dim : 0;
	struct mg_val in = {.kind = MG_VK_TENSOR, .t = *x}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = d->ref(a, &in, &out, &k);
	CHECK(rc == 0, "%s: %s failed: %s", name, op, e.msg);
	if (rc == 0 && out.kind == MG_VK_TENSOR) {
		char gs[64], ws[64];
		shape_str(&out.t, gs, sizeof gs);
		shape_str(want, ws, sizeof ws);
		CHECK(golden_same_shape(&out.t, want), "%s: shape %s, MONAI has %s", name, gs, ws);
		CHECK(out.t.dtype == want->dtype, "%s: dtype %s, MONAI has %s", name,
		      mg_dtype_name(out.t.dtype), mg_dtype_name(want->dtype));
		if (golden_same_shape(&out.t, want)) {
			int64_t bad = golden_compare(name, &out.t, want, tolerance(op, want->dtype).atol,
						     tolerance(op, want->dtype).rtol, max_err);
			CHECK(bad == 0, "%s: %lld of %lld values differ from MONAI's", name,
			      (long long)bad, (long long)mg_tensor_numel(want));
		}
		check_infer(name, d, a, x, &out.t);
		/* meta travels with the image */
		CHECK(!x->meta || out.t.meta, "%s: the output lost the input's meta", name);
		if (x->meta && out.t.meta)
			CHECK(!memcmp(out.t.meta->affine, x->meta->affine, sizeof x->meta->affine),
			      "%s: the affine changed", name);
		const cJSON *cd = cJSON_GetObjectItem(out_meta, "original_channel_dim");
		if (cd)
			CHECK(out.t.meta &&
				      out.t.meta->original_channel_dim == parse_channel_dim(cd),
			      "%s: output original_channel_dim %d", name,
			      out.t.meta ? out.t.meta->original_channel_dim : -999);
		check_clipping(name, &out.t, cJSON_GetObjectItem(out_meta, "clipping_values"));
	} else if (rc == 0) {
		CHECK(0, "%s: the output is not a tensor", name);
	}
	/* the input is untouched: data and meta */
	CHECK(golden_compare(name, x, &before, 0, 0, NULL) == 0,
	      "%s: the kernel wrote into its input", name);
	CHECK(!x->meta || x->meta->original_channel_dim == cd_before,
	      "%s: the kernel changed the input's meta", name);
	mg_tensor_release(&before);
	mg_val_release(&out);
}

/* LoadImage on the case's NIfTI file must give MONAI LoadImage's array and channel dim;
 * then the op runs on what mgc loaded (strided, x fastest). */
static void via_load_image(const char *name, const cJSON *c, const struct mg_attr *a,
			   const struct mg_tensor *x, const struct mg_tensor *want,
			   double *max_err)
{
	char path[1024];
	snprintf(path, sizeof path, GOLDEN "%s", cJSON_GetObjectItem(c, "nifti")->valuestring);
	const struct mg_opdef *li = mg_ops[MG_OP_LoadImage];
	struct mg_arena arena = {0};
	struct mg_attr la[16];
	struct mg_err e = {0};
	CHECK_OK(mg_attrs_parse(li, NULL, -1, 1, NULL, &arena, la, &e), &e);
	char *names[] = {path};
	struct mg_val in = {.kind = MG_VK_STRINGS, .nstr = 1, .str = names}, out = {0};
	struct mg_kctx k = {.err = &e};
	int rc = li->ref(la, &in, &out, &k);
	CHECK(rc == 0, "%s: LoadImage failed: %s", name, e.msg);
	if (rc == 0) {
		CHECK(golden_same_shape(&out.t, x) && out.t.dtype == x->dtype,
		      "%s: LoadImage's result differs in shape or dtype from MONAI's", name);
		if (golden_same_shape(&out.t, x))
			CHECK(golden_compare(name, &out.t, x, 0, 0, NULL) == 0,
			      "%s: LoadImage's values differ from MONAI's", name);
		const struct mg_meta *m = out.t.meta;
		CHECK(m && m->original_channel_dim == x->meta->original_channel_dim,
		      "%s: LoadImage's original_channel_dim is %d, MONAI's %d", name,
		      m ? m->original_channel_dim : -999, x->meta->original_channel_dim);
		for (int r = 0; r < 4 && m; r++)
			for (int cc = 0; cc < 4; cc++)
				CHECK_CLOSE(m->affine[r][cc], x->meta->affine[r][cc], 1e-6, 0);
		if (golden_same_shape(&out.t, x) && out.t.meta)
			run_and_compare(name, cJSON_GetObjectItem(c, "op")->valuestring, a, &out.t,
					want, cJSON_GetObjectItem(c, "out_meta"), max_err);
	}
	mg_val_release(&out);
	mg_arena_free(&arena);
}

/* Writes n bytes to a fresh temporary file; its path goes to path[32]. */
static void write_tmp(char *path, const void *bytes, size_t n)
{
	strcpy(path, "/tmp/mg_npy_XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	CHECK(f != NULL, "cannot write a temporary file");
	if (f) {
		fwrite(bytes, 1, n, f);
		fclose(f);
	}
}

/* An .npy file: magic, version, header padded as NumPy pads it, then data. */
static size_t npy_bytes(char *out, int version, const char *dict, const void *data,
			size_t ndata)
{
	size_t pre = version == 1 ? 10 : 12, len = strlen(dict) + 1;
	size_t hlen = (len + pre + 63) / 64 * 64 - pre;
	memcpy(out, "\x93NUMPY", 6);
	out[6] = (char)version;
	out[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		out[8 + i] = (char)((hlen >> (8 * i)) & 0xff);
	memset(out + pre, ' ', hlen);
	memcpy(out + pre, dict, strlen(dict));
	out[pre + hlen - 1] = '\n';
	memcpy(out + pre + hlen, data, ndata);
	return pre + hlen + ndata;
}

/* npy.h itself: versions, Fortran order, bool, and clean errors on bad files. */
static void test_npy_reader(void)
{
	char buf[512], path[32];
	struct mg_tensor t;
	struct mg_err e = {0};
	const uint8_t b[6] = {1, 0, 1, 1, 0, 0};
	size_t n = npy_bytes(buf, 2, "{'descr': '|b1', 'fortran_order': True, 'shape': (2, 3), }",
			     b, sizeof b);
	write_tmp(path, buf, n);
	CHECK_OK(npy_read(path, &t, &e), &e);
	CHECK(t.dtype == MG_DTYPE_U8 && t.rank == 2 && t.dims[1] == 3 && t.strides[0] == 1 &&
		      t.strides[1] == 2,
	      "v2, bool, Fortran order");
	CHECK(mg_tensor_numel(&t) == 6 && *(uint8_t *)mg_tensor_at(&t, (int64_t[]){0, 1}) == 1 &&
		      *(uint8_t *)mg_tensor_at(&t, (int64_t[]){1, 1}) == 1 &&
		      *(uint8_t *)mg_tensor_at(&t, (int64_t[]){1, 2}) == 0,
	      "Fortran-order values");
	mg_tensor_release(&t);
	remove(path);
	const float one = 1.5f;
	n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &one, 4);
	write_tmp(path, buf, n);
	CHECK_OK(npy_read(path, &t, &e), &e);
	CHECK(t.rank == 0 && *(float *)mg_tensor_data(&t) == 1.5f, "a scalar");
	mg_tensor_release(&t);
	remove(path);
	/* bad files */
	n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", &one, 4);
	write_tmp(path, buf, n);
	CHECK_FAILS(npy_read(path, &t, &e), &e, "shorter than its shape");
	remove(path);
	n = npy_bytes(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", &one, 4);
	write_tmp(path, buf, n);
	CHECK_FAILS(npy_read(path, &t, &e), &e, "unsupported dtype");
	remove(path);
	n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }", &one,
		      4);
	write_tmp(path, buf, n);
	CHECK_FAILS(npy_read(path, &t, &e), &e, "bad or too long shape");
	remove(path);
	write_tmp(path, "\x93NUMPY\x01\x00\xff", 9);
	CHECK_FAILS(npy_read(path, &t, &e), &e, "not a .npy file");
	remove(path);
	write_tmp(path, buf, 40);
	CHECK_FAILS(npy_read(path, &t, &e), &e, "truncated header");
	remove(path);
	CHECK_FAILS(npy_read("/nonexistent/x.npy", &t, &e), &e, "cannot open");
}

/* Bad arguments and inputs: each refused with a message naming the op and the argument
 * (or what is wrong with the image). */
static void test_bad_args(void)
{
	static const struct {
		const char *op, *args;
		enum mg_dtype dtype;
		int rank;
		const char *needle;
	} bad[] = {
		{"ScaleIntensityRangePercentiles", "{\"lower\": -1, \"upper\": 90, \"b_min\": 0, "
		 "\"b_max\": 1}", MG_DTYPE_F32, 3, "ScaleIntensityRangePercentiles: lower is -1"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 101, \"b_min\": 0, "
		 "\"b_max\": 1}", MG_DTYPE_F32, 3, "upper is 101; percentiles must be in the range"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 95, \"b_min\": null, "
		 "\"b_max\": 1, \"relative\": true}", MG_DTYPE_F32, 3,
		 "relative=true needs b_min and b_max"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 95, \"b_min\": null, "
		 "\"b_max\": null, \"clip\": true}", MG_DTYPE_F32, 3, "clip=true needs b_min or b_max"},
		{"ScaleIntensityRangePercentiles", "{\"lower\": 5, \"upper\": 95, \"b_min\": 0, "
		 "\"b_max\": 1}", MG_DTYPE_I16, 3,
		 "ScaleIntensityRangePercentiles needs a float32 or float64 image, not int16"},
		{"ScaleIntensityRangePercentiles", "{\"upper\": 95, \"b_min\": 0, \"b_max\": 1}",
		 MG_DTYPE_F32, 3, "lower"},
		{"ClipIntensityPercentiles", "{\"lower\": null, \"upper\": null}", MG_DTYPE_F32, 3,
		 "ClipIntensityPercentiles: lower or upper percentiles must be provided"},
		{"ClipIntensityPercentiles", "{\"lower\": 60, \"upper\": 40}", MG_DTYPE_F32, 3,
		 "upper (40) must be greater than or equal to lower (60)"},
		{"ClipIntensityPercentiles", "{\"lower\": 5, \"upper\": 95, \"sharpness_factor\": 0}",
		 MG_DTYPE_F32, 3, "sharpness_factor must be greater than 0"},
		{"ClipIntensityPercentiles", "{\"lower\": 5, \"upper\": 95, \"sharpness_factor\": 1, "
		 "\"dtype\": \"int16\"}", MG_DTYPE_F32, 3, "must be a float dtype, not int16"},
		{"ClipIntensityPercentiles", "{\"lower\": 5, \"upper\": 95}", MG_DTYPE_U8, 3,
		 "ClipIntensityPercentiles needs a float32 or float64 image, not uint8"},
		{"GaussianSmooth", "{\"sigma\": [1, 2, 3]}", MG_DTYPE_F32, 3,
		 "GaussianSmooth: sigma has 3 values; the image has 2 spatial axes"},
		{"GaussianSmooth", "{\"approx\": \"gauss\"}", MG_DTYPE_F32, 3,
		 "argument 'approx' is \"gauss\"; expected one of erf|sampled|scalespace"},
		{"GaussianSmooth", "{}", MG_DTYPE_F32, 1, "GaussianSmooth needs a channel-first image"},
		{"GaussianSmooth", "{\"sigma\": 1e9}", MG_DTYPE_F32, 3,
		 "GaussianSmooth: sigma 1e+09 makes a kernel of more than"},
		{"GaussianSharpen", "{\"sigma2\": [1, 2]}", MG_DTYPE_F32, 4,
		 "GaussianSharpen: sigma has 2 values; the image has 3 spatial axes"},

		{"HistogramNormalize", "{\"num_bins\": 0}", MG_DTYPE_F32, 3,
		 "HistogramNormalize: num_bins is 0"},
		{"ForegroundMask", "{\"threshold\": \"Local\"}", MG_DTYPE_F32, 3,
		 "ForegroundMask: threshold \"Local\" cannot be run by MONAI"},
		{"ForegroundMask", "{\"hsv_threshold\": \"otsu\"}", MG_DTYPE_U8, 3,
		 "ForegroundMask: hsv_threshold needs an RGB image (3 channels); this one has 1"},
		{"ForegroundMask", "{\"hsv_threshold\": \"li_\"}", MG_DTYPE_U8, 3,
		 "ForegroundMask: hsv_threshold \"li_\" is not a skimage.filters threshold"},
		{"ForegroundMask", "{\"threshold\": null}", MG_DTYPE_U8, 3,
		 "ForegroundMask: threshold and hsv_threshold are both null"},
		{"ForegroundMask", "{\"threshold\": true}", MG_DTYPE_F32, 3,
		 "argument 'threshold' must be a string"},
		{"ShiftIntensity", "{}", MG_DTYPE_F32, 3, "offset"},
		{"ThresholdIntensity", "{\"threshold\": \"otsu\"}", MG_DTYPE_F32, 3,
		 "argument 'threshold' must be a number"},
		{"ScaleIntensity", "{\"channel_wise\": 1}", MG_DTYPE_F32, 3,
		 "argument 'channel_wise' must be a boolean"},
	};
	/* the percentile ops refuse an integer image at type inference too */
	static const char *const pct[][2] = {
		{"ScaleIntensityRangePercentiles",
		 "{\"lower\": 5, \"upper\": 95, \"b_min\": 0, \"b_max\": 1}"},
		{"ClipIntensityPercentiles", "{\"lower\": 5, \"upper\": 95}"},
	};
	for (int i = 0; i < 2; i++) {
		struct mg_arena arena = {0};
		struct mg_attr a[16];
		struct mg_err e = {0};
		const struct mg_opdef *d = golden_op(pct[i][0]);
		CHECK_OK(golden_parse_text(d, pct[i][1], &arena, a, &e), &e);
		struct mg_type in = {.kind = MG_VK_TENSOR, .dtype = MG_DTYPE_I16, .rank = -1}, out;
		CHECK_FAILS(d->infer(a, &in, &out, &e), &e, "needs a float32 or float64 image, "
							     "not int16");
		mg_arena_free(&arena);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct mg_tensor x, y = {0};
		struct mg_err e = {0};
		const int64_t dims[] = {1, 4, 3, 2};
		CHECK_OK(mg_tensor_alloc(&x, bad[i].dtype, bad[i].rank, dims, &e), &e);
		memset(mg_tensor_data(&x), 0, (size_t)mg_tensor_numel(&x) * mg_dtype_size(x.dtype));
		CHECK_FAILS(golden_apply(golden_op(bad[i].op), bad[i].args, &x, &y, &e), &e,
			    bad[i].needle);
		mg_tensor_release(&y);
		mg_tensor_release(&x);
	}
}

/* The images and arguments MONAI refuses (cases.json "errors": MONAI's error and the
 * text mgc's must contain): mgc refuses them too. */
static void test_monai_errors(const cJSON *doc)
{
	const cJSON *c;
	int n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "errors")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const char *needle = cJSON_GetStringValue(cJSON_GetObjectItem(c, "needle"));
		const struct mg_opdef *d =
			golden_op(cJSON_GetStringValue(cJSON_GetObjectItem(c, "op")));
		char *args = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "args"));
		struct mg_tensor x = {0}, y = {0};
		struct mg_err e = {0};
		CHECK(name && needle && d && args, "a malformed error case");
		if (!name || !needle || !d || !args) {
			free(args);
			continue;
		}
		CHECK_OK(golden_read_npy(GOLDEN, cJSON_GetStringValue(cJSON_GetObjectItem(c, "input")),
					 &x, &e), &e);
		CHECK_FAILS(golden_apply(d, args, &x, &y, &e), &e, needle);
		mg_tensor_release(&y);
		mg_tensor_release(&x);
		free(args);
		n++;
	}
	printf("%d cases MONAI refuses, refused\n", n);
	CHECK(n > 0, "cases.json has no errors");
}

/* MONAI's percentile() on an image past 1e6 voxels (np.percentile there, torch.quantile
 * below), rebuilt from the generator's formula: exact. */
static void test_big_percentiles(const cJSON *doc)
{
	const cJSON *b = cJSON_GetObjectItem(doc, "percentiles_big");
	const cJSON *q = cJSON_GetObjectItem(b, "q"), *want = cJSON_GetObjectItem(b, "values");
	int64_t n = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "n"));
	int nq = cJSON_GetArraySize(q);
	CHECK(n > 1000000 && nq > 0 && nq <= 16 && cJSON_GetArraySize(want) == nq,
	      "cases.json has no percentiles_big");
	if (!(n > 1000000 && nq > 0 && nq <= 16))
		return;
	struct mg_tensor x;
	struct mg_err e = {0};
	CHECK_OK(mg_tensor_alloc(&x, MG_DTYPE_F32, 1, &n, &e), &e);
	float *p = mg_tensor_data(&x);
	for (int64_t i = 0; i < n; i++)
		p[i] = (float)((i * 7919) % 1000003) / 7.0f;
	double qs[16], got[16];
	for (int i = 0; i < nq; i++)
		qs[i] = cJSON_GetArrayItem(q, i)->valuedouble;
	CHECK_OK(mg_reduce_percentiles(&x, nq, qs, got, &e), &e);
	for (int i = 0; i < nq; i++)
		CHECK(got[i] == cJSON_GetArrayItem(want, i)->valuedouble,
		      "percentile %g of %lld voxels: %.9g, MONAI's %.9g", qs[i], (long long)n,
		      got[i], cJSON_GetArrayItem(want, i)->valuedouble);
	mg_tensor_release(&x);
}

/* One of MONAI's cases: its out_dtype and input meta, then the op, and via LoadImage
 * where the case has a NIfTI file. */
static void one_case(const char *name, const struct mg_opdef *d, const cJSON *c,
		     const struct mg_attr *a, struct mg_tensor *x, const struct mg_tensor *want,
		     void *ctx)
{
	double *max_err = (double *)ctx + mg_op_find(d->name);
	int odt = mg_dtype_parse(cJSON_GetStringValue(cJSON_GetObjectItem(c, "out_dtype")));
	CHECK(odt == (int)want->dtype, "%s: out_dtype disagrees with the .npy", name);
	CHECK(attach_meta(x, cJSON_GetObjectItem(c, "meta")) == 0, "out of memory");
	run_and_compare(name, d->name, a, x, want, cJSON_GetObjectItem(c, "out_meta"), max_err);
	if (cJSON_GetObjectItem(c, "nifti"))
		via_load_image(name, c, a, x, want, max_err);
}

int main(void)
{
	test_npy_reader();
	test_bad_args();
	cJSON *doc = golden_load_cases(GOLDEN);
	double max_err[MG_OP_COUNT] = {0};
	printf("%d cases run\n", golden_run_cases(doc, GOLDEN, NULL, one_case, max_err));
	test_big_percentiles(doc);
	test_monai_errors(doc);
	for (int i = 0; i < MG_OP_COUNT; i++) {
		const char *op = mg_ops[i]->name;
		struct tol t = tolerance(op, MG_DTYPE_F32);
		if (max_err[i] > 0 || strcmp(op, "NormalizeIntensity") == 0)
			printf("  %-20s max |error| %.3g (float tolerance atol %g rtol %g: %s)\n",
			       op, max_err[i], t.atol, t.rtol, t.why);
	}
	cJSON_Delete(doc);
	return check_done();
}
