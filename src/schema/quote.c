/* Quoting of identifiers and literals for the DDL the diff writes. */
#include <ctype.h>
#include <string.h>

#include "schema/schema_int.h"
#include "util/banned.h"

void df__quote_ident(df_buf *b, df_dialect d, const char *name)
{
	char q = d == DF_DIALECT_MYSQL ? '`' : '"';

	df_buf_putc(b, q);
	for (const char *p = name; *p; p++) {
		if (*p == q)
			df_buf_putc(b, q);
		df_buf_putc(b, *p);
	}
	df_buf_putc(b, q);
}

void df__qualified(df_buf *b, df_dialect d, const char *schema, const char *name)
{
	if (schema && *schema && d == DF_DIALECT_POSTGRES) {
		df__quote_ident(b, d, schema);
		df_buf_putc(b, '.');
	}
	df__quote_ident(b, d, name);
}

void df__quote_literal(df_buf *b, const char *s)
{
	df_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			df_buf_putc(b, '\'');
		df_buf_putc(b, *s);
	}
	df_buf_putc(b, '\'');
}

int df__schema_excluded(const df_schema_opts *opts, const char *table)
{
	if (!opts || !opts->exclude_tables)
		return 0;
	for (size_t i = 0; i < opts->exclude_tables->nr; i++)
		if (!strcmp(opts->exclude_tables->v[i], table))
			return 1;
	return 0;
}
