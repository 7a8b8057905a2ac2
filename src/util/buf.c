#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "util/banned.h"

char df_buf__initbuf[1];
char df_buf__oombuf[1];

void df_buf_init(df_buf *b)
{
	b->ptr = df_buf__initbuf;
	b->size = 0;
	b->asize = 0;
}

void df_buf_release(df_buf *b)
{
	if (b->asize)
		free(b->ptr);
	df_buf_init(b);
}

bool df_buf_oom(const df_buf *b)
{
	return b->ptr == df_buf__oombuf;
}

int df_buf_grow(df_buf *b, size_t extra)
{
	size_t want;
	char *p;

	if (df_buf_oom(b))
		return DF_EINTERNAL;
	if (b->size + extra + 1 <= b->asize)
		return 0;
	if (extra > SIZE_MAX / 2 - b->size)
		goto oom;
	want = b->asize ? b->asize : 64;
	while (want < b->size + extra + 1)
		want += want / 2 + 8;
	p = realloc(b->asize ? b->ptr : NULL, want);
	if (!p)
		goto oom;
	if (!b->asize)
		p[0] = '\0';
	b->ptr = p;
	b->asize = want;
	return 0;
oom:
	if (b->asize)
		free(b->ptr);
	b->ptr = df_buf__oombuf;
	b->size = b->asize = 0;
	return df_error_oom();
}

int df_buf_put(df_buf *b, const char *data, size_t len)
{
	if (df_buf_grow(b, len) < 0)
		return DF_EINTERNAL;
	if (len)
		memmove(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int df_buf_puts(df_buf *b, const char *s)
{
	return df_buf_put(b, s, strlen(s));
}

int df_buf_putc(df_buf *b, char c)
{
	return df_buf_put(b, &c, 1);
}

void df_buf_json_str(df_buf *b, const char *s)
{
	if (!s) {
		df_buf_puts(b, "null");
		return;
	}
	df_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const unsigned char *run = p;

		/* a run of characters that need no escape, in one copy */
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			df_buf_put(b, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		switch (*p) {
		case '"': df_buf_puts(b, "\\\""); break;
		case '\\': df_buf_puts(b, "\\\\"); break;
		case '\n': df_buf_puts(b, "\\n"); break;
		case '\r': df_buf_puts(b, "\\r"); break;
		case '\t': df_buf_puts(b, "\\t"); break;
		case '\b': df_buf_puts(b, "\\b"); break;
		case '\f': df_buf_puts(b, "\\f"); break;
		default:
			if (*p < 0x20)
				df_buf_printf(b, "\\u%04x", *p);
			else
				df_buf_putc(b, (char)*p);
		}
	}
	df_buf_putc(b, '"');
}

int df_buf_vprintf(df_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (df_buf_grow(b, 64) < 0)
		return DF_EINTERNAL;
	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->size, b->asize - b->size, fmt, cp);
	va_end(cp);
	if (n < 0)
		return df_error_set(DF_EINTERNAL, "cannot format text");
	if ((size_t)n >= b->asize - b->size) {
		if (df_buf_grow(b, (size_t)n) < 0)
			return DF_EINTERNAL;
		va_copy(cp, ap);
		vsnprintf(b->ptr + b->size, b->asize - b->size, fmt, cp);
		va_end(cp);
	}
	b->size += (size_t)n;
	return 0;
}

int df_buf_printf(df_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = df_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void df_buf_truncate(df_buf *b, size_t len)
{
	if (len < b->size && b->asize) {
		b->size = len;
		b->ptr[len] = '\0';
	}
}

char *df_buf_detach(df_buf *b)
{
	char *p;

	if (df_buf_oom(b)) {
		df_buf_init(b);
		return NULL;
	}
	p = b->asize ? b->ptr : strdup("");
	df_buf_init(b);
	return p;
}
