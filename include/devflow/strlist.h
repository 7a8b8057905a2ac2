#ifndef DEVFLOW_STRLIST_H
#define DEVFLOW_STRLIST_H

#include <stddef.h>

/* A growable list of owned strings. */
typedef struct df_strlist {
	char **v;
	size_t nr, alloc;
} df_strlist;
#define DF_STRLIST_INIT { NULL, 0, 0 }

/* Append a copy of s; 0 or DF_EINTERNAL. */
int df_strlist_push(df_strlist *l, const char *s);
int df_strlist_pushf(df_strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s, taking ownership (s must come from malloc). */
int df_strlist_take(df_strlist *l, char *s);
void df_strlist_release(df_strlist *l);

#endif
