/* fs.c: paths and folders as Python's os.path and os.makedirs treat them, for the
 * datalist (join, normpath), SaveImage (join, relpath, makedirs) and `mgc synth`; the
 * temporary files of whole-or-nothing writes; reading a whole file; and a strerror that
 * item threads may call.
 * Invariant: every path function returns a fresh malloc'd string that is byte for byte
 * what posixpath returns for the same arguments (the cwd read once per call).
 * Read next: datalist.c, ops/save_image.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

char *mg_path_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (b[0] == '/' || na == 0)
		return strdup(b);
	char *s = malloc(na + nb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, na);
	if (a[na - 1] != '/')
		s[na++] = '/';
	memcpy(s + na, b, nb + 1);
	return s;
}

char *mg_path_normpath(const char *path)
{
	if (!*path)
		return strdup(".");
	size_t n = strlen(path);
	int slashes = path[0] == '/' ? (path[1] == '/' && path[2] != '/' ? 2 : 1) : 0;
	char *out = malloc(n + 3);
	if (!out)
		return NULL;
	size_t *starts = malloc((n / 2 + 2) * sizeof *starts), depth = 0, o = (size_t)slashes;
	if (!starts) {
		free(out);
		return NULL;
	}
	memset(out, '/', (size_t)slashes);
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *q = p;
		while (*q && *q != '/')
			q++;
		size_t len = (size_t)(q - p);
		int up = len == 2 && p[0] == '.' && p[1] == '.';
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* skip */
		} else if (up && depth > 0 &&
			   !(o - starts[depth - 1] == 2 && out[starts[depth - 1]] == '.' &&
			     out[starts[depth - 1] + 1] == '.')) {
			o = starts[--depth]; /* drop the last part and the '/' before it */
			if (o > (size_t)slashes)
				o--;
		} else if (!(up && slashes)) { /* ".." above "/" is "/" */
			if (o > (size_t)slashes)
				out[o++] = '/';
			starts[depth++] = o;
			memcpy(out + o, p, len);
			o += len;
		}
		p = q;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	free(starts);
	return out;
}

/* posixpath.abspath: normpath(join(getcwd(), p)) for a relative p. */
static char *fs_abspath(const char *p)
{
	if (p[0] == '/')
		return mg_path_normpath(p);
	char *cwd = getcwd(NULL, 0);
	char *j = cwd ? mg_path_join(cwd, p) : NULL, *r = j ? mg_path_normpath(j) : NULL;
	int err = errno;
	free(cwd);
	free(j);
	if (!r)
		errno = err ? err : ENOMEM;
	return r;
}

/* The next non-empty part of a path at or after p (its length in *len); NULL at the end. */
static const char *fs_part(const char *p, size_t *len)
{
	while (*p == '/')
		p++;
	*len = strcspn(p, "/");
	return *len ? p : NULL;
}

/* rel = [".."] * (parts of start past the common prefix) + the rest of path's parts. */
char *mg_path_relpath(const char *path, const char *start)
{
	char *ap = fs_abspath(path), *as = ap ? fs_abspath(start) : NULL, *out = NULL;
	if (!as)
		goto done;
	const char *p = ap, *s = as;
	size_t lp, ls;
	/* the common prefix, part by part */
	for (;;) {
		const char *pp = fs_part(p, &lp), *sp = fs_part(s, &ls);
		if (!pp || !sp || lp != ls || memcmp(pp, sp, lp) != 0)
			break;
		p = pp + lp;
		s = sp + ls;
	}
	size_t ups = 0;
	for (const char *sp; (sp = fs_part(s, &ls)); s = sp + ls)
		ups++;
	out = malloc(3 * ups + strlen(p) + 2);
	if (!out) {
		errno = ENOMEM;
		goto done;
	}
	size_t o = 0;
	for (size_t i = 0; i < ups; i++, o += 3)
		memcpy(out + o, "../", 3);
	for (const char *pp; (pp = fs_part(p, &lp)); p = pp + lp, o += lp + 1) {
		memcpy(out + o, pp, lp);
		out[o + lp] = '/';
	}
	if (o == 0)
		out[o++] = '.', out[o++] = '/';
	out[o - 1] = 0; /* the last '/' */
done:
	free(ap);
	free(as);
	return out;
}

int mg_mkdirs(const char *path, struct mg_err *e)
{
	char ebuf[128];
	struct stat st;
	size_t n = strlen(path);
	if (n == 0)
		return 0;
	char *buf = strdup(path);
	if (!buf)
		return mg_err_set(e, MG_ERR_NOMEM, "out of memory");
	/* each prefix that ends a part: "a", "a/b", "a/b/c" (repeated slashes make none) */
	for (size_t i = 1; i <= n; i++) {
		if ((i < n && buf[i] != '/') || buf[i - 1] == '/')
			continue;
		char c = buf[i];
		buf[i] = 0;
		if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
			int err = errno; /* an existing folder may say EACCES or EROFS instead */
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
				int rc = mg_err_set(e, MG_ERR_IO, "cannot create folder %s: %s",
						    buf, mg_strerror(err, ebuf, sizeof ebuf));
				free(buf);
				return rc;
			}
		}
		buf[i] = c;
	}
	free(buf);
	if (stat(path, &st) != 0)
		return mg_err_set(e, MG_ERR_IO, "cannot create folder %s: %s", path,
				  mg_strerror(errno, ebuf, sizeof ebuf));
	if (!S_ISDIR(st.st_mode))
		return mg_err_set(e, MG_ERR_IO, "%s exists and is not a folder", path);
	return 0;
}

/* The same folder keeps the rename atomic; O_EXCL keeps anything there from being
 * overwritten. */
int mg_file_temp(const char *path, const char *ext, char **tmp, struct mg_err *e)
{
	static unsigned counter;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
	size_t blen = strlen(path) - dlen - strlen(ext), cap = strlen(path) + 48;
	char *s = malloc(cap);
	if (!s)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	for (int tries = 0; tries < 100; tries++) {
		unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		snprintf(s, cap, "%.*s.%.*s.tmp%ld-%u%s", (int)dlen, path, (int)blen,
			 path + dlen, (long)getpid(), k, ext);
		int fd = open(s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0) {
			*tmp = s;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	char ebuf[128];
	int err = errno;
	free(s);
	return mg_err_set(e, MG_ERR_IO, "%s: cannot create a file in its folder: %s", path,
			  mg_strerror(err, ebuf, sizeof ebuf));
}


/* strerror_r is the XSI one (int) unless _GNU_SOURCE picks glibc's (char *): both are
 * handled, whichever the build declares. */
static const char *fs_xsi(int rc, char *buf) { return rc == 0 ? buf : NULL; }
static const char *fs_gnu(const char *s, char *buf) { return s; }

const char *mg_strerror(int errnum, char *buf, size_t n)
{
	buf[0] = 0;
	const char *s = _Generic(strerror_r(errnum, buf, n), int: fs_xsi, default: fs_gnu)(
		strerror_r(errnum, buf, n), buf);
	if (!s || !s[0]) {
		snprintf(buf, n, "error %d", errnum);
		s = buf;
	}
	return s;
}

int mg_file_read(const char *path, char **out, size_t *len, struct mg_err *e)
{
	*out = NULL;
	*len = 0;
	char ebuf[128];
	FILE *f = fopen(path, "rb");
	if (!f)
		return mg_err_set(e, MG_ERR_IO, "%s: cannot open: %s", path,
				  mg_strerror(errno, ebuf, sizeof ebuf));
	size_t n = 0, cap = 4096;
	int err = 0;
	char *buf = malloc(cap);
	for (size_t got; buf; n += got) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
			if (!buf)
				break;
		}
		errno = 0;
		got = fread(buf + n, 1, cap - n - 1, f);
		if (got == 0) {
			err = errno;
			break;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf)
		return mg_err_set(e, MG_ERR_NOMEM, "%s: out of memory", path);
	if (bad) {
		free(buf);
		return mg_err_set(e, MG_ERR_IO, "%s: read error: %s", path,
				  mg_strerror(err ? err : EIO, ebuf, sizeof ebuf));
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return MG_OK;
}
