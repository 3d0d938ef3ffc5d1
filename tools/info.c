/* info.c: `mgc info FILE...`: what a NIfTI header says and what mgc makes of it. */
#include <string.h>

#include "../runtime/runtime.h"
#include "mgc.h"

static void print_matrix(const char *name, const double m[4][4])
{
	for (int r = 0; r < 4; r++)
		printf("%-10s [%12.6f %12.6f %12.6f %12.6f]\n", r ? "" : name, m[r][0], m[r][1],
		       m[r][2], m[r][3]);
}

static int info_one(const char *path)
{
	struct mg_err e = {0};
	struct mg_nifti_info h;
	struct mg_tensor t = {0};
	if (mg_nifti_info(path, &h, &e) || mg_nifti_read(path, &t, &e)) {
		fprintf(stderr, "mgc info: %s\n", e.msg);
		return 1;
	}
	printf("file       %s\n", path);
	printf("dims      ");
	for (int i = 0; i < h.ndim; i++)
		printf(" %lld", (long long)h.dims[i]);
	printf("\nspacing   ");
	for (int i = 1; i <= h.ndim && i < 8; i++)
		printf(" %g", h.pixdim[i]);
	printf("\ndatatype   %s (code %d)\n", h.datatype_name, h.datatype);
	printf("scaling    slope %g, inter %g\n", h.scl_slope, h.scl_inter);
	printf("qform_code %d, sform_code %d; affine from the %s\n", h.qform_code, h.sform_code,
	       h.affine_source);
	print_matrix("affine", h.affine);
	printf("orientation %s\n", h.axcodes);
	/* the value range through the reader, so scaling is applied as mgc sees it */
	int64_t n = mg_tensor_numel(&t), nan = 0;
	double lo = 0, hi = 0, sum = 0;
	int first = 1;
	const int64_t *st[1] = {t.strides};
	struct mg_iter it;
	mg_iter_init(&it, t.rank, t.dims, 1, st);
	size_t es = mg_dtype_size(t.dtype);
	const char *base = n ? mg_tensor_data(&t) : NULL;
	if (n)
		do {
			double v = mg_dtype_load(t.dtype, base + it.off[0] * (int64_t)es);
			if (v != v) {
				nan++;
				continue;
			}
			lo = first || v < lo ? v : lo;
			hi = first || v > hi ? v : hi;
			sum += v;
			first = 0;
		} while (mg_iter_next(&it));
	printf("values     %s, min %g, max %g, mean %g", mg_dtype_name(t.dtype), lo, hi,
	       n > nan ? sum / (double)(n - nan) : 0.0);
	if (nan)
		printf(", %lld NaN", (long long)nan);
	printf("\n");
	mg_tensor_release(&t);
	return 0;
}

int mgc_info(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		puts("usage: mgc info FILE.nii[.gz]...\n\nPrints the header, dims, spacing, "
		     "affine (as MONAI reports it), orientation code and value range.");
		return argc < 2 ? 2 : 0;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			putchar('\n');
		rc |= info_one(argv[i]);
	}
	return rc;
}
