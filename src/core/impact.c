/*
 * Impact estimates for the review: rows and size of a table from the
 * catalog (pg_class, information_schema, SQLite counts), so a finding can
 * say "rewrites accounts (12 M rows, 3.1 GB)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

static long long num(const char *s)
{
	return s ? atoll(s) : -1;
}

int df_table_stats(df_conn *conn, const char *table, long long *rows, long long *bytes)
{
	const char *params[] = { table };
	df_rows *r = NULL;
	df_buf sql = DF_BUF_INIT;
	int error;

	*rows = *bytes = -1;
	switch (df_conn_dialect(conn)) {
	case DF_DIALECT_POSTGRES:
		/* reltuples is -1 before the first ANALYZE: count small tables instead */
		error = df_conn_query(conn, &r, "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid), "
			"c.oid::regclass::text FROM pg_class c WHERE c.oid = to_regclass(?)", params, 1);
		if (!error && r->nrows) {
			*rows = num(df_rows_get(r, 0, 0));
			*bytes = num(df_rows_get(r, 0, 1));
			if (*rows < 0 && *bytes >= 0 && *bytes < 64 * 1024 * 1024) {
				df_buf_printf(&sql, "SELECT count(*) FROM %s", df_rows_get(r, 0, 2));
				df_rows_free(r);
				r = NULL;
				if (!(error = df_conn_query(conn, &r, sql.ptr, NULL, 0)))
					*rows = num(df_rows_get(r, 0, 0));
			}
		} else if (!error) {
			error = DF_ENOTFOUND;
		}
		break;
	case DF_DIALECT_MYSQL:
		error = df_conn_query(conn, &r, "SELECT table_rows, data_length + index_length FROM "
			"information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", params, 1);
		if (!error && r->nrows) {
			*rows = num(df_rows_get(r, 0, 0));
			*bytes = num(df_rows_get(r, 0, 1));
		} else if (!error) {
			error = DF_ENOTFOUND;
		}
		break;
	default:
		if ((error = df_conn_query(conn, &r, "SELECT name FROM sqlite_master WHERE type = 'table' "
			"AND name = ?", params, 1)) < 0)
			break;
		if (!r->nrows) {
			error = DF_ENOTFOUND;
			break;
		}
		df_rows_free(r);
		r = NULL;
		df_buf_puts(&sql, "SELECT count(*) FROM \"");
		for (const char *p = table; *p; p++)
			df_buf_puts(&sql, *p == '"' ? "\"\"" : (char[]){ *p, 0 });
		df_buf_puts(&sql, "\"");
		if ((error = df_conn_query(conn, &r, sql.ptr, NULL, 0)) < 0)
			break;
		*rows = num(df_rows_get(r, 0, 0));
		df_rows_free(r);
		r = NULL;
		/* dbstat is compiled into Debian's SQLite; without it, size stays unknown */
		if (df_conn_query(conn, &r, "SELECT sum(pgsize) FROM dbstat WHERE name = ?", params, 1) == 0)
			*bytes = num(df_rows_get(r, 0, 0));
		df_error_clear();
		error = 0;
	}
	df_rows_free(r);
	df_buf_release(&sql);
	return error;
}

int df_column_type(df_conn *conn, const char *table, const char *column,
	char *out, size_t size)
{
	const char *params[] = { table, column };
	df_rows *r = NULL;
	int error;

	if (size)
		out[0] = '\0';
	if (df_conn_dialect(conn) == DF_DIALECT_MYSQL)  /* "enum('a','b')", "int" ... */
		error = df_conn_query(conn, &r, "SELECT COLUMN_TYPE FROM information_schema.COLUMNS "
			"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
			params, 2);
	else if (df_conn_dialect(conn) != DF_DIALECT_POSTGRES)
		return DF_ENOTFOUND;
	else
		error = df_conn_query(conn, &r, "SELECT format_type(a.atttypid, a.atttypmod) "
			"FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attname = ? "
			"AND a.attnum > 0 AND NOT a.attisdropped", params, 2);
	if (!error && (!r->nrows || !df_rows_get(r, 0, 0)))
		error = DF_ENOTFOUND;
	if (!error)
		snprintf(out, size, "%s", df_rows_get(r, 0, 0));
	df_rows_free(r);
	return error;
}

int df_review_column_type_conn(char *out, size_t size, const char *table,
	const char *column, void *conn)
{
	int error = df_column_type(conn, table, column, out, size);

	if (error < 0)
		df_error_clear();
	return error;
}
