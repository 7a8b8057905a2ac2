#ifndef DF_UTIL_FS_H
#define DF_UTIL_FS_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Create the folders of `path` that are missing, with `mode`: every
 * component but the last, and the last too when `whole` (mkdir -p).
 * 0, or -1 with errno set.
 */
int df_mkdirs(const char *path, mode_t mode, bool whole);

#endif
