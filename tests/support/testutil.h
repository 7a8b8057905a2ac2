#ifndef DF_TESTUTIL_H
#define DF_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* A fresh temporary directory (removed by df_test_rmtree). Caller frees. */
char *df_test_tmpdir(void);
void df_test_rmtree(const char *dir);
/* Write `len` bytes (or strlen when len is (size_t)-1) to dir/name. */
void df_test_write(const char *dir, const char *name, const char *data, size_t len);
/* The whole file, NUL-terminated (*len without the NUL); NULL if unreadable. */
char *df_test_read(const char *path, size_t *len);
/* The names of dir's *.sql files, sorted (fails the test when dir cannot be
 * opened).  Free each and the array. */
char **df_test_sql_files(const char *dir, size_t *n);
/* A monotonic clock, in seconds. */
double df_test_now(void);

#endif
