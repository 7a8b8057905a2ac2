#ifndef DF_UTIL_ISOTIME_H
#define DF_UTIL_ISOTIME_H
#include <stddef.h>

/*
 * A time as the engines print it ("2026-12-03 06:54:05", "...05.0216+00",
 * "...05+05:30", "...T06:54:05Z") as SPEC's JSON wants it: ISO 8601 in UTC,
 * "2026-12-03T06:54:05Z".  A time without an offset is taken as UTC (devflow
 * writes UTC times on every engine).  Anything else is copied unchanged.
 * Returns out.
 */
char *df_time_iso(char *out, size_t size, const char *in);

#endif
