/* scratch.h: the one temporary folder a fuzz target writes its inputs into, made on
 * first use and removed with its files when the process exits. */
#ifndef MG_FUZZ_SCRATCH_H
#define MG_FUZZ_SCRATCH_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char scratch_dir[64];

static int scratch_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

static void scratch_cleanup(void) { nftw(scratch_dir, scratch_rm, 8, FTW_DEPTH | FTW_PHYS); }

/* "<scratch>/<file>" into out; the folder is made on the first call. */
static void scratch_path(const char *file, char *out, size_t n)
{
	if (!scratch_dir[0]) {
		snprintf(scratch_dir, sizeof scratch_dir, "/tmp/mg_fuzz_XXXXXX");
		if (!mkdtemp(scratch_dir))
			abort();
		atexit(scratch_cleanup);
	}
	snprintf(out, n, "%s/%s", scratch_dir, file);
}

#endif
