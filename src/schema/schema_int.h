#ifndef DF_SCHEMA_INT_H
#define DF_SCHEMA_INT_H

/* Shared between the files of src/schema/ (and the drivers' schema_read). */
#include "devflow/buf.h"
#include "devflow/schema.h"

/* The readers: each driver's schema_read method. */
int df__schema_read_pg(df_conn *conn, df_schema *s, const df_schema_opts *opts);
int df__schema_read_mysql(df_conn *conn, df_schema *s, const df_schema_opts *opts);
int df__schema_read_sqlite(df_conn *conn, df_schema *s, const df_schema_opts *opts);

/* Text of one object / column, as df_schema_text() writes it. */
void df__object_text(df_buf *b, const df_object *o);
void df__column_text(df_buf *b, const df_column *c);
/* A JSON string literal (or null). */
void df__json_str(df_buf *b, const char *s);

/* Sort the objects by key (df_schema_find() works after). */
void df__schema_sort(df_schema *s);

/* Identifier quoting per dialect. */
void df__quote_ident(df_buf *b, df_dialect d, const char *name);
/* "schema"."name" (PostgreSQL), `name` (MySQL), "name" (SQLite). */
void df__qualified(df_buf *b, df_dialect d, const char *schema, const char *name);
/* A string literal. */
void df__quote_literal(df_buf *b, const char *s);

/* Is `table` in opts->exclude_tables? */
int df__schema_excluded(const df_schema_opts *opts, const char *table);

#endif
