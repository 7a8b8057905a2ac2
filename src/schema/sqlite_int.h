#ifndef DF_SCHEMA_SQLITE_INT_H
#define DF_SCHEMA_SQLITE_INT_H

/* SQLite's SQL text as tokens: the reader normalises with them, the DDL
 * half of the diff takes table definitions apart with them. */
#include "schema/schema_int.h"

enum { DF__TOK_KEYWORD = 1, DF__TOK_IDENT, DF__TOK_STRING, DF__TOK_NUMBER, DF__TOK_PUNCT };

struct df__sqltok {
	char *text;             /* normal form: keywords upper case, identifiers
				 * bare when they can be, else "quoted" */
	int kind;
};

struct df__sqltoks {
	struct df__sqltok *v;
	size_t nr, alloc;
};

int df__sqlite_tokenize(struct df__sqltoks *t, const char *sql);
void df__sqlite_tokens_release(struct df__sqltoks *t);
/* tokens [from, to) joined with single spaces where SQL needs them */
void df__sqlite_join(df_buf *b, const struct df__sqltoks *t, size_t from, size_t to);
int df__sqlite_normalize(char **out, const char *sql);

#endif
