/* orientation.h: nibabel's orientation arithmetic for affines (io_orientation and the
 * SVD under it), shared by NIfTI IO and the spatial transforms (Orientation, Spacing).
 * Invariant: everything is computed in double on the top-left sdim x sdim block of a 4x4
 * voxel-to-world affine, as MONAI does after to_affine_nd(sdim, affine).
 * Read next: orientation.c; nibabel/orientations.py is the reference. */
#ifndef MG_ORIENTATION_H
#define MG_ORIENTATION_H

/* nibabel's io_orientation(to_affine_nd(sdim, a)): for each voxel axis i < sdim,
 * ornt[i][0] is the world axis it follows most closely (0 = x/R, 1 = y/A, 2 = z/S) and
 * ornt[i][1] is +1 or -1 (direction). A dropped axis (rank-deficient affine, or all-zero
 * column) gets {-1, 0}. Returns 0, or MG_ERR_SHAPE when sdim is not 2 or 3. */
int mg_io_orientation(const double a[4][4], int sdim, int ornt[3][2]);

/* Thin SVD of the n x n (n <= 3) matrix a: a = u diag(s) v^T, by one-sided Jacobi.
 * Singular values are >= 0 but not sorted; columns of u for a zero singular value are
 * zero. Accurate to a few ulps, as LAPACK's; signs and order may differ from numpy's. */
void mg_svd3(int n, const double a[3][3], double u[3][3], double s[3], double v[3][3]);

#endif
