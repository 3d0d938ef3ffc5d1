/* files.h: the file chores tests share: a mkdtemp folder that is removed at the end,
 * paths inside it, and reading a whole file. Include after check.h, in one test file.
 * Read next: test_save_paths.c, test_load_image.c. */
#ifndef MG_TEST_FILES_H
#define MG_TEST_FILES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char files_dir[64];

/* Makes /tmp/<prefix>XXXXXX; 0, or -1 (and a message) when it cannot. */
static inline int files_init(const char *prefix)
{
	snprintf(files_dir, sizeof files_dir, "/tmp/%sXXXXXX", prefix);
	if (mkdtemp(files_dir))
		return 0;
	perror("mkdtemp");
	return -1;
}

/* The folder and what is in it go. */
static inline void files_done(void)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", files_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", files_dir);
}

/* files_dir/name, in one of 8 buffers used in turn. */
static inline const char *files_path(const char *name)
{
	static char paths[8][256];
	static int slot;
	char *p = paths[slot++ % 8];
	snprintf(p, sizeof paths[0], "%s/%s", files_dir, name);
	return p;
}

/* The whole file, NUL-terminated (malloc'd); NULL when it cannot be read. */
static inline char *files_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s && fread(s, 1, (size_t)n, f) == (size_t)n) {
		s[n] = 0;
	} else {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

/* Runs a shell command; its stdout and stderr go to log (n bytes, NUL-terminated).
 * Returns the exit status, or -1 when it did not exit normally. */
static inline int files_sh(char *log, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int files_sh(char *log, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t got = fread(log, 1, n - 1, p);
	log[got] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
