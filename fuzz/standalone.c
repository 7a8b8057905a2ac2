/*
 * Replays inputs through a libFuzzer target without libFuzzer, so the
 * fuzzers' corpora run in ordinary CI (libgit2's
 * fuzzers/standalone_driver.c).  Arguments are files, or directories whose
 * regular files are all replayed.  A failing input aborts, naming the file
 * on stderr first.  `--min N` first: fail when fewer than N inputs were
 * replayed (an emptied or missing corpus must not pass).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, alloc = 0, n;

	if (!f) {
		fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == alloc) {
			unsigned char *nb;

			alloc = alloc ? 2 * alloc : 4096;
			if (!(nb = realloc(buf, alloc))) {
				free(buf);
				fclose(f);
				fprintf(stderr, "out of memory reading '%s'\n", path);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, alloc - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "cannot read '%s'\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "running '%s'\n", path);
	/* an exact-size copy, so reads past the end are caught */
	{
		unsigned char *exact = malloc(len ? len : 1);

		if (!exact) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned *count)
{
	char **names = NULL, path[4096];
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	int error = 0;

	if (!d) {
		fprintf(stderr, "cannot open '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == alloc) {
			char **nn;

			alloc = alloc ? 2 * alloc : 64;
			if (!(nn = realloc(names, alloc * sizeof(*names)))) {
				error = -1;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			error = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!error && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) < 0)
				error = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return error;
}

int main(int argc, char **argv)
{
	unsigned count = 0, min = 0;
	struct stat st;
	int i = 1, error = 0;

	if (argc > 2 && !strcmp(argv[1], "--min")) {
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);

		if (*end || end == argv[2]) {
			fprintf(stderr, "--min wants a number, not '%s'\n", argv[2]);
			return 2;
		}
		min = (unsigned)v;
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [--min N] FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (; i < argc && !error; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "cannot stat '%s': %s\n", argv[i], strerror(errno));
			error = -1;
		} else if (S_ISDIR(st.st_mode)) {
			error = run_dir(argv[i], &count);
		} else if (run_file(argv[i]) == 0) {
			count++;
		} else {
			error = -1;
		}
	}
	fprintf(stderr, "%u inputs replayed%s\n", count, error ? ", with errors" : "");
	if (!error && count < min) {
		fprintf(stderr, "fewer than the %u inputs committed: the corpus is missing files\n", min);
		return 1;
	}
	return error ? 1 : 0;
}
