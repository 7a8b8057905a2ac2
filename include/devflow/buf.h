#ifndef DEVFLOW_BUF_H
#define DEVFLOW_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A growable text buffer modelled on git's strbuf and libgit2's git_str:
 * `ptr` is never NULL and always NUL-terminated.  A failed allocation marks
 * the buffer (df_buf_oom()), so a run of appends is checked once.
 */
typedef struct df_buf {
	char *ptr;
	size_t size;            /* bytes used, not counting the NUL */
	size_t asize;           /* bytes allocated; 0: ptr is static */
} df_buf;

extern char df_buf__initbuf[];
extern char df_buf__oombuf[];
#define DF_BUF_INIT { df_buf__initbuf, 0, 0 }

void df_buf_init(df_buf *b);
/* Free the contents; the buffer is left as DF_BUF_INIT. */
void df_buf_release(df_buf *b);
/* Make room for `extra` more bytes; 0 or DF_EINTERNAL (and marks oom). */
int df_buf_grow(df_buf *b, size_t extra);
int df_buf_put(df_buf *b, const char *data, size_t len);
int df_buf_puts(df_buf *b, const char *s);
int df_buf_putc(df_buf *b, char c);
/* A JSON string (quoted, escaped as jansson does), or null for NULL. */
void df_buf_json_str(df_buf *b, const char *s);
int df_buf_printf(df_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int df_buf_vprintf(df_buf *b, const char *fmt, va_list ap);
void df_buf_truncate(df_buf *b, size_t len);
/* Hand the bytes over (caller frees); the buffer is reset.  NULL on oom. */
char *df_buf_detach(df_buf *b);
bool df_buf_oom(const df_buf *b);

#endif
