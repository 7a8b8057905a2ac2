#ifndef DF_SCHEMA_DDL_PG_INT_H
#define DF_SCHEMA_DDL_PG_INT_H

/*
 * PostgreSQL DDL for the diff: what ddl_pg.c (CREATE / DROP / ALTER of one
 * object, the dispatch) uses of ddl_pg_alter.c (a table's columns).
 */
#include "devflow/buf.h"
#include "devflow/schema.h"
#include "schema/diff_int.h"

/* The object's schema-qualified name, quoted. */
static inline void df__ddlpg_qname(df_buf *b, const df_object *o)
{
	df__qualified(b, DF_DIALECT_POSTGRES, o->schema, o->name);
}

/* ddl_pg_alter.c */
void df__ddlpg_column_def(df_buf *b, const df_column *c);
void df__ddlpg_table_extras(df_buf *b, const df_object *o, const df_object *old);
void df__ddlpg_alter_col(df_buf *b, const df_object *t, const df_column *c, const char *what);
void df__ddlpg_drop_column(df_buf *b, df_op *op, const df_schema *sf, const df_schema *st);
void df__ddlpg_column_change(df_buf *b, df_strlist *hz, df_op *op, const df_schema *sf,
	const df_schema *st);
void df__ddlpg_alter_table(df_buf *b, const df_object *f, const df_object *t);

#endif
