/* orientation.c: nibabel's io_orientation / aff2axcodes, and the small SVD they need.
 * Invariant: results equal nibabel's for every affine whose axis choice is not a tie at
 * rounding level (an exact 45-degree rotation may label either way, in nibabel too: it
 * depends on LAPACK's last bits).
 * Read next: orientation.h; nibabel/orientations.py (io_orientation) is the reference. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "orientation.h"
#include "runtime.h"

/* One-sided Jacobi (Hestenes): rotate column pairs of u until all are orthogonal; the
 * rotations accumulate in v. For 3x3 this converges in a handful of sweeps. */
void mg_svd3(int n, const double a[3][3], double u[3][3], double s[3], double v[3][3])
{
	memset(u, 0, 9 * sizeof(double));
	memset(v, 0, 9 * sizeof(double));
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++)
			u[i][j] = a[i][j];
		v[i][i] = 1;
	}
	for (int sweep = 0; sweep < 64; sweep++) {
		int rotated = 0;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++) {
				double al = 0, be = 0, ga = 0;
				for (int i = 0; i < n; i++) {
					al += u[i][p] * u[i][p];
					be += u[i][q] * u[i][q];
					ga += u[i][p] * u[i][q];
				}
				if (!(fabs(ga) > DBL_EPSILON * sqrt(al * be)))
					continue;
				double zeta = (be - al) / (2 * ga);
				double t = copysign(1.0, zeta) / (fabs(zeta) + hypot(1.0, zeta));
				double c = 1 / sqrt(1 + t * t), sn = c * t;
				for (int i = 0; i < n; i++) {
					double up = u[i][p], uq = u[i][q];
					u[i][p] = c * up - sn * uq;
					u[i][q] = sn * up + c * uq;
					double vp = v[i][p], vq = v[i][q];
					v[i][p] = c * vp - sn * vq;
					v[i][q] = sn * vp + c * vq;
				}
				rotated = 1;
			}
		if (!rotated)
			break;
	}
	for (int j = 0; j < 3; j++) {
		double nrm = 0;
		for (int i = 0; i < n; i++)
			nrm += u[i][j] * u[i][j];
		s[j] = j < n ? sqrt(nrm) : 0;
		for (int i = 0; i < n; i++)
			u[i][j] = s[j] > 0 ? u[i][j] / s[j] : 0;
	}
}

int mg_io_orientation(const double a[4][4], int sdim, int ornt[3][2])
{
	if (sdim != 2 && sdim != 3)
		return MG_ERR_SHAPE;
	int n = sdim;
	double rs[3][3] = {{0}}, u[3][3], s[3], v[3][3], r[3][3] = {{0}};
	/* zero columns stay zero (their zoom is taken as 1), as nibabel does */
	for (int j = 0; j < n; j++) {
		double z = 0;
		for (int i = 0; i < n; i++)
			z += a[i][j] * a[i][j];
		z = sqrt(z);
		if (z == 0)
			z = 1;
		for (int i = 0; i < n; i++)
			rs[i][j] = a[i][j] / z;
	}
	/* the polar factor: the closest shear-free matrix, restricted to the numerical rank */
	mg_svd3(n, rs, u, s, v);
	double smax = 0;
	for (int k = 0; k < n; k++)
		smax = s[k] > smax ? s[k] : smax;
	double tol = smax * n * DBL_EPSILON;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			for (int k = 0; k < n; k++)
				if (s[k] > tol)
					r[i][j] += u[i][k] * v[j][k];
	/* strongest input axis first, stable on ties (nibabel >= 5.3) */
	int order[3] = {0, 1, 2};
	double key[3] = {0, 0, 0};
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++)
			key[j] = r[i][j] * r[i][j] > key[j] ? r[i][j] * r[i][j] : key[j];
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && key[order[j]] > key[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int k = 0; k < n; k++) {
		int in = order[k], out = -1;
		double best = -1;
		for (int i = 0; i < n; i++)
			if (fabs(r[i][in]) > 1e-8 && fabs(r[i][in]) > best) {
				best = fabs(r[i][in]);
				out = i;
			}
		/* np.allclose(col, 0) is |x| <= 1e-8: argmax then sees only larger entries */
		if (out < 0) {
			ornt[in][0] = -1;
			ornt[in][1] = 0;
			continue;
		}
		ornt[in][0] = out;
		ornt[in][1] = r[out][in] < 0 ? -1 : 1;
		for (int j = 0; j < n; j++)
			r[out][j] = 0;
	}
	return 0;
}

void mg_affine_axcodes(const double a[4][4], int sdim, char *codes)
{
	int ornt[3][2];
	if (mg_io_orientation(a, sdim, ornt) != 0) {
		codes[0] = 0;
		return;
	}
	for (int i = 0; i < sdim; i++)
		codes[i] = ornt[i][0] < 0 ? '?' : (ornt[i][1] > 0 ? "RAS" : "LPI")[ornt[i][0]];
	codes[sdim] = 0;
}
