/* nifti_int.h: what the NIfTI reader (nifti.c) and writer (nifti_write.c) share, and
 * nothing outside runtime/nifti*.c may use: header layout constants, the datatype table,
 * file-name kinds, zlib's messages and nibabel's set_qform.
 * Invariant: every header passed here is in native byte order.
 * Read next: nifti.c (reading, names, affines), nifti_write.c. */
#ifndef MG_NIFTI_INT_H
#define MG_NIFTI_INT_H

#include <zlib.h>

#include <nifti1_io.h>

#include "runtime.h"

#define NII_HDR_SIZE 348
#define NII_SINGLE_OFFSET 352      /* header + the 4-byte extension flag */
#define NII_IO_CHUNK (1u << 30)    /* gzread/gzwrite take an unsigned length */

/* The NIfTI datatype code a dtype is written as (float16 and bfloat16: float32). */
short nii_datatype(enum mg_dtype dt);

/* What a file name says it is: 'n' a single file (.nii), 'h' the header of a pair
 * (.hdr), 'i' its image (.img); 0 for anything else. *gz: it ends in .gz as well. */
int nii_name_kind(const char *path, int *gz);

/* zlib's message for gz, without the "<fd:3>: " it puts in front; *errnum is its code. */
const char *nii_zmsg(gzFile gz, int *errnum);

/* Nifti1Header.set_qform(a) with strip_shears: quaternion, qoffset, pixdim[0..3]. The
 * code fields are left to the caller. -1 on a zero or non-finite column (nibabel's SVD
 * raises there). */
int nii_set_qform(struct nifti_1_header *h, const double a[4][4]);

#endif
