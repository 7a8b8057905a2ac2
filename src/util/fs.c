#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "util/fs.h"
#include "util/banned.h"

int df_mkdirs(const char *path, mode_t mode, bool whole)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (whole && mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int df_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- files written whole: a temporary file, then a rename ---------------- */

#define TMP_RANDOM 12           /* letters of the temporary name: 62^12 names */
#define TMP_TRIES 100
#define LINK_HOPS 40            /* as the kernel's MAXSYMLINKS */
#define UNIQUE_MAX 999

int df_file_refuse_link(const char *path)
{
	struct stat st;
	char to[PATH_MAX];
	ssize_t n;

	if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	n = readlink(path, to, sizeof(to) - 1);
	to[n > 0 ? n : 0] = '\0';
	df_error_set(DF_EIO, "'%s' is a symbolic link; devflow does not write through a link "
		"it was not given", path);
	df_error_hint("remove the link%s%s%s (devflow writes its own files itself), or name "
		"the file on the command line where the command takes one", n > 0 ? " (it points to '" : "",
		n > 0 ? to : "", n > 0 ? "')" : "");
	return DF_EIO;
}

/*
 * The file a chain of symbolic links starting at `path` ends at (it need not
 * exist), into *out (the caller frees it); `path` itself when it is no link.
 */
static int resolve_links(char **out, const char *path)
{
	df_buf cur = DF_BUF_INIT, next = DF_BUF_INIT;
	char to[PATH_MAX];
	struct stat st;
	int error = 0;

	*out = NULL;
	df_buf_puts(&cur, path);
	for (int hop = 0; !df_buf_oom(&cur); hop++) {
		ssize_t n;
		const char *slash;

		if (lstat(cur.ptr, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		if (hop == LINK_HOPS || (n = readlink(cur.ptr, to, sizeof(to) - 1)) < 0) {
			if (hop == LINK_HOPS)
				errno = ELOOP;
			error = df_error_set(DF_EIO, "cannot follow the link '%s': %s", path, strerror(errno));
			goto out;
		}
		to[n] = '\0';
		df_buf_truncate(&next, 0);
		if (to[0] != '/' && (slash = strrchr(cur.ptr, '/')))
			df_buf_put(&next, cur.ptr, (size_t)(slash - cur.ptr + 1));
		df_buf_puts(&next, to);
		{
			df_buf swap = cur;
			cur = next;
			next = swap;
		}
	}
	if (df_buf_oom(&cur) || df_buf_oom(&next)) {
		error = df_error_oom();
		goto out;
	}
	*out = df_buf_detach(&cur);
out:
	df_buf_release(&cur);
	df_buf_release(&next);
	return error;
}

int df_file_tmp_create(df_file_tmp *t, const char *dest, mode_t mode, unsigned int flags)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	df_buf name = DF_BUF_INIT;
	unsigned char rnd[TMP_RANDOM];
	int error;

	*t = (df_file_tmp)DF_FILE_TMP_INIT;
	t->flags = flags;
	if (flags & DF_FILE_FOLLOW) {
		if ((error = resolve_links(&t->dest, dest)) < 0)
			return error;
	} else {
		/* DF_FILE_NOREPLACE: link(2) never follows a link at dest */
		if (!(flags & DF_FILE_NOREPLACE) && (error = df_file_refuse_link(dest)) < 0)
			return error;
		if (!(t->dest = strdup(dest)))
			return df_error_oom();
	}
	for (int tries = 0; tries < TMP_TRIES; tries++) {
		if (getentropy(rnd, sizeof(rnd)) < 0) {
			error = df_error_set(DF_EIO, "cannot name a temporary file for '%s': %s", dest,
				strerror(errno));
			goto fail;
		}
		df_buf_truncate(&name, 0);
		df_buf_printf(&name, "%s.tmp-", t->dest);
		for (size_t i = 0; i < sizeof(rnd); i++)
			df_buf_putc(&name, letters[rnd[i] % (sizeof(letters) - 1)]);
		if (df_buf_oom(&name)) {
			error = df_error_oom();
			goto fail;
		}
		/* O_EXCL: a name that exists, a link too (even a dangling one),
		 * is never opened; O_NOFOLLOW says so twice */
		t->fd = open(name.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (t->fd >= 0) {
			t->path = df_buf_detach(&name);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	error = df_error_set(DF_EIO, "cannot create a temporary file for '%s': %s", dest, strerror(errno));
	df_error_hint("check that the folder of '%s' exists and is writable", dest);
fail:
	df_buf_release(&name);
	free(t->dest);
	t->dest = NULL;
	return error;
}

int df_file_error(const df_file_tmp *t)
{
	return df_error_set(DF_EIO, "cannot write '%s': %s", t->dest ? t->dest : "a file",
		strerror(errno));
}

/* fsync the folder of `path`, so the rename survives a crash (best effort). */
static void sync_folder(const char *path)
{
	const char *slash = strrchr(path, '/');
	df_buf dir = DF_BUF_INIT;
	int fd;

	if (slash)
		df_buf_put(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		df_buf_putc(&dir, '.');
	if (!df_buf_oom(&dir) && (fd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	df_buf_release(&dir);
}

/* fsync and close the temporary file: the bytes are on disk before any name points at them. */
static int flush_tmp(df_file_tmp *t)
{
	int fd = t->fd;

	if (fd < 0)
		return 0;
	t->fd = -1;
	if (fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return df_file_error(t);
	}
	if (close(fd) < 0)
		return df_file_error(t);
	return 0;
}

static int put_in_place(df_file_tmp *t, const char *dest)
{
	if (t->flags & DF_FILE_NOREPLACE) {
		/* link(): never replaces what exists, not even a link (a planted
		 * one stays as it is and its target untouched) */
		if (link(t->path, dest) == 0) {
			unlink(t->path);
		} else if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) {
			return -1;
		} else if (renameat2(AT_FDCWD, t->path, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
			/* a file system without hard links (vfat, some FUSE) */
			return -1;
		}
	} else if (rename(t->path, dest) < 0) {
		/* rename() replaces a link at dest, never what it points to */
		return -1;
	}
	t->committed = true;
	sync_folder(dest);
	return 0;
}

int df_file_commit(df_file_tmp *t)
{
	int error;

	if ((error = flush_tmp(t)) < 0)
		return error;
	if (put_in_place(t, t->dest) < 0)
		return df_file_error(t);
	return 0;
}

int df_file_commit_unique(char **out, df_file_tmp *t, const char *base, const char *ext)
{
	df_buf path = DF_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = flush_tmp(t)) < 0)
		return error;
	t->flags |= DF_FILE_NOREPLACE;
	for (int n = 1; n <= UNIQUE_MAX; n++) {
		df_buf_truncate(&path, 0);
		if (n == 1)
			df_buf_printf(&path, "%s%s", base, ext);
		else
			df_buf_printf(&path, "%s-%d%s", base, n, ext);
		if (df_buf_oom(&path)) {
			error = df_error_oom();
			goto out;
		}
		if (put_in_place(t, path.ptr) == 0) {
			*out = df_buf_detach(&path);
			goto out;
		}
		if (errno != EEXIST)
			break;
	}
	error = df_error_set(DF_EIO, "cannot save '%s%s': %s", base, ext, strerror(errno));
out:
	df_buf_release(&path);
	return error;
}

void df_file_tmp_release(df_file_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->path && !t->committed)
		unlink(t->path);
	free(t->path);
	free(t->dest);
	*t = (df_file_tmp)DF_FILE_TMP_INIT;
}
