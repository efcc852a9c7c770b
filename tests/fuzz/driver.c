/* driver.c - replays fuzz corpora without libFuzzer, so that ctest runs
 * every harness under gcc (and the sanitizer build) on its kept corpus.
 * Usage: fuzz_X FILE|DIR...  Prints "N passed, 0 failed"; a crash is the
 * failure. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (fp == NULL)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n)) {
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long runs = 0;
	int i;

	for (i = 1; i < argc; i++) {
		struct stat sb;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			d = opendir(argv[i]);
			while (d && (de = readdir(d)) != NULL) {
				char p[4096];

				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i],
					 de->d_name);
				if (run_file(p) == 0)
					runs++;
			}
			if (d)
				closedir(d);
		} else if (run_file(argv[i]) == 0) {
			runs++;
		} else {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			printf("%lu passed, 1 failed\n", runs);
			return 1;
		}
	}
	printf("%lu passed, 0 failed\n", runs);
	return 0;
}
