#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/strlist.h"
#include "util/banned.h"

int df_strlist_take(df_strlist *l, char *s)
{
	if (!s)
		return df_error_oom();
	if (l->nr == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 8;
		char **v = realloc(l->v, n * sizeof(*v));
		if (!v) {
			free(s);
			return df_error_oom();
		}
		l->v = v;
		l->alloc = n;
	}
	l->v[l->nr++] = s;
	return 0;
}

int df_strlist_push(df_strlist *l, const char *s)
{
	return df_strlist_take(l, strdup(s));
}

int df_strlist_pushf(df_strlist *l, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return df_strlist_take(l, df_buf_detach(&b));
}

void df_strlist_release(df_strlist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}
