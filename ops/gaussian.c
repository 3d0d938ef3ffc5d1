/* gaussian.c: MONAI's GaussianFilter (networks/layers/simplelayers.py, convutils.py) for
 * GaussianSmooth and GaussianSharpen: the 1-D kernels in float32, one torch op at a time,
 * and the separable zero-padded correlation. Read next: gaussian_smooth.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

/* convutils.polyval: Horner in float32, coef[0] first. */
static float polyval(const float *coef, int n, float x)
{
	float ans = coef[0];
	for (int i = 1; i < n; i++)
		ans = ans * x + coef[i];
	return ans;
}

static float bessel0(float x)
{
	static const float small[] = {0.45813e-2f, 0.360768e-1f, 0.2659732f, 1.2067492f,
				      3.0899424f, 3.5156229f, 1.0f};
	static const float large[] = {0.392377e-2f, -0.1647633e-1f, 0.2635537e-1f,
				      -0.2057706e-1f, 0.916281e-2f, -0.157565e-2f,
				      0.225319e-2f, 0.1328592e-1f, 0.39894228f};
	if (fabsf(x) < 3.75f)
		return polyval(small, 7, x * x / 14.0625f);
	float ax = fabsf(x);
	return polyval(large, 9, 3.75f / ax) * expf(ax) / sqrtf(ax);
}

static float bessel1(float x)
{
	static const float small[] = {0.32411e-3f, 0.301532e-2f, 0.2658733e-1f, 0.15084934f,
				      0.51498869f, 0.87890594f, 0.5f};
	static const float large[] = {-0.420059e-2f, 0.1787654e-1f, -0.2895312e-1f,
				      0.2282967e-1f, -0.1031555e-1f, 0.163801e-2f,
				      -0.362018e-2f, -0.3988024e-1f, 0.39894228f};
	if (fabsf(x) < 3.75f)
		return fabsf(x) * polyval(small, 7, x * x / 14.0625f);
	float ax = fabsf(x);
	float ans = polyval(large, 9, 3.75f / ax) * expf(ax) / sqrtf(ax);
	return x < 0 ? -ans : ans;
}

/* _modified_bessel_i: Miller's downward recurrence, rescaled past 1e10. */
static float bessel_i(int n, float x)
{
	if (x == 0)
		return x;
	float tox = 2.0f / fabsf(x), ans = 0, bip = 0, bi = 1;
	int m = (int)(2 * (n + floor(sqrt(40.0 * n))));
	for (int j = m; j > 0; j--) {
		float bim = bip + (float)j * tox * bi;
		bip = bi;
		bi = bim;
		if (fabsf(bi) > 1.0e10f) {
			ans *= 1.0e-10f;
			bi *= 1.0e-10f;
			bip *= 1.0e-10f;
		}
		if (j == n)
			ans = bip;
	}
	ans = ans * bessel0(x) / bi;
	return x < 0 && n % 2 ? -ans : ans;
}

int mg_gaussian_kernel(double sigma, const char *approx, float *k, int *n, struct mg_err *e)
{
	float s = (float)sigma;
	double t4 = (double)s * 4.0; /* truncated = 4 */
	if (!(t4 < MG_GAUSS_MAXTAPS / 2 - 1))
		return mg_err_set(e, MG_ERR_UNSUPPORTED, "sigma %g makes a kernel of more than %d "
				  "taps", sigma, MG_GAUSS_MAXTAPS);
	int tail = (int)((t4 > 0.5 ? t4 : 0.5) + 0.5);
	*n = 2 * tail + 1;
	if (!strcmp(approx, "erf")) {
		float t = 0.70710678f / fabsf(s);
		for (int i = 0; i < *n; i++) {
			float x = (float)(i - tail);
			float v = 0.5f * (erff(t * (x + 0.5f)) - erff(t * (x - 0.5f)));
			k[i] = v > 0 ? v : 0; /* clamp(min=0); NaN stays */
		}
	} else if (!strcmp(approx, "sampled")) {
		float c = -0.5f / (s * s), norm = 2.5066282f * s;
		for (int i = 0; i < *n; i++) {
			float x = (float)(i - tail);
			k[i] = expf(c * (x * x)) / norm;
		}
	} else { /* scalespace */
		float s2 = s * s, scale = expf(-s2);
		for (int i = 0; i <= tail; i++) {
			float v = i == 0 ? bessel0(s2) : i == 1 ? bessel1(s2) : bessel_i(i, s2);
			k[tail + i] = k[tail - i] = v * scale;
		}
	}
	return 0;
}

/* One 1-D correlation with zero padding along axis `ax` of the contiguous float32 t,
 * through the scratch line buf (the axis' length). Sums in float32, tap by tap, which
 * is bit-identical to torch's convolution on most of the golden cases; torch picks
 * other summation orders for some shapes (several channels, long kernels), where the
 * two agree to float32 rounding. */
static void filter_axis(struct mg_tensor *t, int ax, const float *k, int nk, float *buf)
{
	int64_t len = t->dims[ax], st = t->strides[ax], r = nk / 2;
	int64_t outer = 1, inner = t->strides[ax];
	for (int i = 0; i < ax; i++)
		outer *= t->dims[i];
	float *p = mg_tensor_data(t);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			float *line = p + o * len * st + in;
			for (int64_t i = 0; i < len; i++)
				buf[i] = line[i * st];
			for (int64_t i = 0; i < len; i++) {
				float acc = 0;
				for (int64_t j = 0; j < nk; j++) {
					int64_t s = i + j - r;
					if (s >= 0 && s < len)
						acc += k[j] * buf[s];
				}
				line[i * st] = (float)acc;
			}
		}
}

int mg_gaussian_filter(const char *op, struct mg_tensor *t, const struct mg_attr *sigma,
		       const char *approx, struct mg_err *e)
{
	int sd = t->rank - 1;
	if (sd < 1 || sd > 3)
		return mg_err_set(e, MG_ERR_SHAPE, "%s needs a channel-first image with 1 to 3 "
				  "spatial axes, not rank %d", op, t->rank);
	if (sigma->n != 1 && sigma->n != sd)
		return mg_err_set(e, MG_ERR_SHAPE, "%s: sigma has %d values; the image has %d "
				  "spatial axes (give one value, or one per axis)", op, sigma->n, sd);
	if (mg_tensor_numel(t) == 0)
		return 0;
	int64_t maxlen = 0;
	for (int d = 1; d <= sd; d++)
		maxlen = t->dims[d] > maxlen ? t->dims[d] : maxlen;
	float *buf = malloc(sizeof *buf * (size_t)maxlen), k[MG_GAUSS_MAXTAPS];
	if (!buf)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", op);
	int rc = 0;
	/* separable_filtering recurses from the last axis down, so axis 0 filters first */
	for (int d = 0; d < sd && !rc; d++) {
		int nk;
		rc = mg_gaussian_kernel(sigma->v.floats[sigma->n == 1 ? 0 : d], approx, k, &nk, e);
		if (rc)
			mg_err_prefix(e, "%s", op);
		else
			filter_axis(t, 1 + d, k, nk, buf);
	}
	free(buf);
	return rc;
}

static double identity(const void *ctx, double v) { return v; }

int mg_gaussian_input(const struct mg_tensor *x, struct mg_tensor *y, struct mg_err *e)
{
	int rc = mg_tensor_alloc(y, MG_DTYPE_F32, x->rank, x->dims, e);
	if (!rc)
		mg_map(x, y, identity, NULL);
	return rc;
}
