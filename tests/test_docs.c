/* test_docs.c: docs/ops.md is `mgc ops --markdown` verbatim, so the op reference cannot
 * drift from the declarations (regenerate: build/mgc ops --markdown > docs/ops.md). */
#include <stdlib.h>

#include "check.h"

static char *slurp(FILE *f, size_t *n)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	*n = 0;
	for (size_t got; buf && (got = fread(buf + *n, 1, cap - *n, f)) > 0;) {
		*n += got;
		if (*n == cap)
			buf = realloc(buf, cap *= 2);
	}
	return buf;
}

int main(void)
{
	FILE *p = popen(MG_BIN " ops --markdown", "r");
	FILE *d = fopen(MG_SOURCE_DIR "/docs/ops.md", "r");
	CHECK(p && d);
	if (!p || !d)
		return check_done();
	size_t np, nd;
	char *gen = slurp(p, &np), *doc = slurp(d, &nd);
	CHECK(pclose(p) == 0);
	fclose(d);
	CHECK(np == nd && memcmp(gen, doc, np) == 0,
	      "docs/ops.md is stale: run build/mgc ops --markdown > docs/ops.md");
	free(gen);
	free(doc);
	return check_done();
}
