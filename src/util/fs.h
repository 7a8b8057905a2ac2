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

#endif
