/*
 * Helpers shared by the fuzz targets (header only, so each fuzz_NAME.c stays
 * one translation unit for the standalone replay and for libFuzzer).
 */
#ifndef DF_FUZZ_CHECK_H
#define DF_FUZZ_CHECK_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/*
 * DF_FUZZ_KNOWN="tag,tag": skip the checks of bugs already reported, so a
 * long libFuzzer run can look past them.  The corpus replay in CTest never
 * sets it, so a committed reproducer fails until its bug is fixed.
 */
static inline bool fz_known(const char *tag)
{
	const char *v = getenv("DF_FUZZ_KNOWN"), *hit;
	size_t n = strlen(tag);

	for (hit = v; hit && (hit = strstr(hit, tag)); hit += n)
		if ((hit == v || hit[-1] == ',') && (hit[n] == ',' || !hit[n]))
			return true;
	return false;
}

/* Write p[0..n) to `path` (created 0600 or truncated). */
static inline void fz_write_file(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	while (n) {
		ssize_t w = write(fd, p, n);

		CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
	CHECK(close(fd) == 0);
}

/* Remove `dir`/`files`[i] and then `dir` (which fails if anything else is there). */
static inline void fz_rmdir(const char *dir, const char *const *files, size_t n)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
			continue;       /* cannot be: the fuzzers' paths are short */
		unlink(path);
	}
	rmdir(dir);
}

/*
 * The folder this process writes its files into, reused across runs:
 * /dev/shm (or /tmp) / `tag`.PID.  libFuzzer ends with _Exit(), so nothing
 * removes it at exit; instead each process first removes the folders of
 * processes that are gone.  `files` are the only names written there.
 */
static inline void fz_tmpdir(char *out, size_t size, const char *tag,
	const char *const *files, size_t n)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	size_t tlen = strlen(tag);
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	if ((d = opendir(base))) {
		while ((de = readdir(d))) {
			char *end;
			long pid;

			if (strncmp(de->d_name, tag, tlen) || de->d_name[tlen] != '.')
				continue;
			pid = strtol(de->d_name + tlen + 1, &end, 10);
			if (*end || pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH) ||
			    pid == (long)getpid()) {
				snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
				fz_rmdir(path, files, n);
			}
		}
		closedir(d);
	}
	snprintf(out, size, "%s/%s.%ld", base, tag, (long)getpid());
	CHECK(mkdir(out, 0700) == 0);
}

static inline int fz_hex(int c)
{
	return isxdigit(c) ? 1 : 0;
}

/*
 * Where a URL keeps its password, found the way src/util/dsn.c reads a
 * server URL: after the first "://", the authority runs to the first '/' or
 * '?', its last '@' ends the user info and the first ':' before that '@'
 * starts the password.  Sets [*beg, *end) and returns true when there is a
 * password span (possibly empty).
 */
static inline bool fz_password_span(const char *url, size_t *beg, size_t *end)
{
	const char *p = strstr(url, "://"), *auth, *auth_end, *at = NULL, *colon;

	if (!p)
		return false;
	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?");
	for (const char *s = auth; s < auth_end; s++)
		if (*s == '@')
			at = s;
	if (!at || !(colon = memchr(auth, ':', (size_t)(at - auth))))
		return false;
	*beg = (size_t)(colon + 1 - url);
	*end = (size_t)(at - url);
	return true;
}

/* Whether s[0..n) has a '%' that is not followed by two hex digits (dsn.c's rule). */
static inline bool fz_bad_escape(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '%') {
			if (i + 2 < n && fz_hex((unsigned char)s[i + 1]) && fz_hex((unsigned char)s[i + 2]))
				i += 2;
			else
				return true;
		}
	return false;
}

/*
 * The URL with its password replaced by another one that decodes as well or
 * as badly ("x", or "%" and "@" for a bad escape and an unencoded '@'): everything devflow derives from a URL without the
 * password must be the same for both.  Returns a new string (caller frees),
 * or NULL when the URL has no password span.
 */
static inline char *fz_other_password(const char *url)
{
	size_t beg, end, n = strlen(url), r = 0;
	char repl[3];
	char *out;

	if (!fz_password_span(url, &beg, &end))
		return NULL;
	/* an unencoded '@' in the password is refused (libpq ends the user-info
	 * at the first '@'): the other password keeps one */
	if (fz_bad_escape(url + beg, end - beg))
		repl[r++] = '%';
	if (memchr(url + beg, '@', end - beg))
		repl[r++] = '@';
	if (!r)
		repl[r++] = 'x';
	out = malloc(n - (end - beg) + r + 1);
	CHECK(out);
	memcpy(out, url, beg);
	memcpy(out + beg, repl, r);
	memcpy(out + beg + r, url + end, n - end + 1);
	return out;
}

/*
 * The password must not be in `shown` unless it can come from the public
 * parts of the URL.  `public_url` is the URL with another password.  A
 * password holding '*' may overlap the "***" devflow writes in its place, so
 * the literal test needs a password without '*'.
 */
static inline void fz_check_not_shown(const char *shown, const char *password,
	const char *public_url)
{
	if (!password || strlen(password) < 3 || strchr(password, '*'))
		return;
	if (strstr(shown, password)) {
		if (public_url && strstr(public_url, password))
			return;
		fprintf(stderr, "password '%s' shown in '%s'\n", password, shown);
		CHECK(!"password shown");
	}
}

#endif
