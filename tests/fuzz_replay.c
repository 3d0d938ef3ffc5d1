/* fuzz_replay.c: runs a libFuzzer target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer, so every fuzz target replays the committed test data (and any crash file
 * saved from a fuzzing run) in ctest, also under ASan + UBSan. Arguments are files or
 * folders (walked recursively). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fprintf(stderr, "fuzz_replay: cannot stat %s\n", path), 1;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return 1;
		int rc = 0;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char sub[4096];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			rc |= replay(sub, count);
		}
		closedir(d);
		return rc;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return fprintf(stderr, "fuzz_replay: cannot open %s\n", path), 1;
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n); /* a crash or sanitizer report fails the test */
	free(buf);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0, rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= replay(argv[i], &count);
	printf("%d inputs replayed\n", count);
	printf("%d passed, %d failed\n", rc ? 0 : 1, rc ? 1 : 0);
	return rc;
}
