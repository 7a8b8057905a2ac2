#ifndef DF_UTIL_UNIQ_H
#define DF_UTIL_UNIQ_H

#include <stddef.h>

/*
 * A name no other call makes, in this process (any thread) or in another
 * process of this host: "<pid>_<counter><random>" in [a-z0-9_], about 13
 * characters.  It starts with the pid, so a leftover named by it shows
 * whether its process lives (core/shadow.c).  Run ids (devflow/run.h) and
 * scratch database names are made by it.
 */
#define DF_UNIQ_MAX 40
void df_uniq(char *out, size_t size);

#endif
