#ifndef DF_UTIL_FS_H
#define DF_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Create the folders of `path` that are missing, with `mode`: every
 * component but the last, and the last too when `whole` (mkdir -p).
 * 0, or -1 with errno set.
 */
int df_mkdirs(const char *path, mode_t mode, bool whole);

/* Write all of p[0..n) to fd, retrying after EINTR and short writes.
 * 0, or -1 with errno set (EIO when write() wrote nothing). */
int df_write_all(int fd, const char *p, size_t n);

/*
 * A file written whole, then put in place in one step: the bytes go to a
 * temporary file beside the destination, created under a name nobody can
 * guess (`<dest>.tmp-` and 12 random letters) with O_CREAT | O_EXCL |
 * O_NOFOLLOW | O_CLOEXEC, so a symbolic link planted at a predictable name
 * is never written through; df_file_commit() fsyncs it and renames it over
 * the destination (or links it beside, never replacing anything, with
 * DF_FILE_NOREPLACE).
 *
 *	df_file_tmp t = DF_FILE_TMP_INIT;
 *	if ((error = df_file_tmp_create(&t, path, 0644, 0)) < 0 ||
 *	    (error = df_write_all(t.fd, p, n) < 0 ? df_file_error(&t) : 0) < 0 ||
 *	    (error = df_file_commit(&t)) < 0)
 *		...;
 *	df_file_tmp_release(&t);         (always: closes, removes an uncommitted temp)
 *
 * These return 0 or a negative DF_E... code (DF_EIO, message and hint set).
 */
typedef struct df_file_tmp {
	int fd;                 /* open for writing until the commit; -1 after */
	char *path;             /* the temporary file's name */
	char *dest;             /* where the commit puts it: the destination, or
	                         * the file a link named by the user points to */
	unsigned int flags;
	bool committed;
} df_file_tmp;
#define DF_FILE_TMP_INIT { -1, NULL, NULL, 0, false }

enum df_file_flags {
	/* The destination was named by the user (on the command line): when it
	 * is a symbolic link, write to the file it points to (replaced
	 * atomically, the link kept).  Without it, a destination that is a
	 * symbolic link is refused: devflow's own files are never links. */
	DF_FILE_FOLLOW = (1 << 0),
	/* df_file_commit() never replaces: it fails with DF_EIO and errno
	 * EEXIST when the destination exists (df_file_commit_unique() tries
	 * other names). */
	DF_FILE_NOREPLACE = (1 << 1),
};

/*
 * Create the temporary file for `dest` (its folder must exist) with `mode`
 * (less the umask).  On success t->fd is open for writing; on failure t
 * holds nothing to release (releasing it is harmless).
 */
int df_file_tmp_create(df_file_tmp *t, const char *dest, mode_t mode, unsigned int flags);

/*
 * fsync and close t->fd, then rename the temporary file over t->dest (or
 * link it there with DF_FILE_NOREPLACE) and fsync the folder.  On failure
 * the temporary file is removed by df_file_tmp_release().
 */
int df_file_commit(df_file_tmp *t);

/*
 * Commit under the first free name of `base` `ext`, `base`-2 `ext`, ...
 * (up to 999), never replacing a file (nor a link: link(2) does not follow
 * one).  *out gets the name used (the caller frees it).
 */
int df_file_commit_unique(char **out, df_file_tmp *t, const char *base, const char *ext);

/* Set "cannot write '<dest>': <strerror(errno)>" and return DF_EIO. */
int df_file_error(const df_file_tmp *t);

/* Close t->fd, remove the temporary file unless committed, free the names. */
void df_file_tmp_release(df_file_tmp *t);

/*
 * Whether `path` is a symbolic link devflow must not write through: set the
 * error (DF_EIO, with a hint) and return it when it is one, 0 otherwise.
 */
int df_file_refuse_link(const char *path);

#endif
