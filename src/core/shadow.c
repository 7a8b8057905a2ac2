/*
 * Shadow databases: where a dry-run cannot roll back (MySQL/MariaDB commit
 * DDL implicitly), the pending migrations run for real in a throwaway
 * database that has the target's tables, and the shadow is dropped after.
 * The target keeps nothing but the audit row of the dry-run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

static void quote_ident(df_buf *b, const char *s)
{
	df_buf_putc(b, '`');
	for (; *s; s++) {
		if (*s == '`')
			df_buf_putc(b, '`');
		df_buf_putc(b, *s);
	}
	df_buf_putc(b, '`');
}

int df_shadow_drop(df_conn *conn, const char *name)
{
	df_buf sql = DF_BUF_INIT;
	int error;

	df_buf_puts(&sql, "DROP DATABASE IF EXISTS ");
	quote_ident(&sql, name);
	error = df_conn_query(conn, NULL, sql.ptr, NULL, 0);
	df_buf_release(&sql);
	return error;
}

int df_shadow_open(df_conn **out, char **name, df_conn *conn, const df_dsn *dsn)
{
	df_buf sql = DF_BUF_INIT, nm = DF_BUF_INIT;
	df_rows *tables = NULL;
	df_dsn copy;
	bool created = false;
	int error;

	*out = NULL;
	*name = NULL;
	if (df_conn_dialect(conn) != DF_DIALECT_MYSQL)
		return df_error_set(DF_EINTERNAL, "shadow databases are for MySQL/MariaDB");
	if (!dsn->database || !*dsn->database)
		return df_error_set(DF_ECONFIG, "the URL names no database to shadow");
	df_buf_printf(&nm, "%.40s_dfshadow_%ld", dsn->database, (long)getpid());
	df_buf_puts(&sql, "CREATE DATABASE ");
	quote_ident(&sql, nm.ptr);
	if ((error = df_conn_query(conn, NULL, sql.ptr, NULL, 0)) < 0) {
		df_error_prefix("the dry-run needs a throwaway database on the server (MariaDB cannot "
			"roll DDL back), and creating one failed");
		df_error_hint("grant the migration user CREATE and DROP on databases named '%s_dfshadow_%%'",
			dsn->database);
		goto out;
	}
	created = true;
	if ((error = df_conn_query(conn, &tables, "SELECT table_name FROM information_schema.tables "
		"WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
		NULL, 0)) < 0)
		goto out;
	for (size_t r = 0; r < tables->nrows; r++) {
		df_buf_truncate(&sql, 0);
		df_buf_puts(&sql, "CREATE TABLE ");
		quote_ident(&sql, nm.ptr);
		df_buf_putc(&sql, '.');
		quote_ident(&sql, df_rows_get(tables, r, 0));
		df_buf_puts(&sql, " LIKE ");
		quote_ident(&sql, dsn->database);
		df_buf_putc(&sql, '.');
		quote_ident(&sql, df_rows_get(tables, r, 0));
		if ((error = df_conn_query(conn, NULL, sql.ptr, NULL, 0)) < 0)
			goto out;
	}
	copy = *dsn;
	copy.database = nm.ptr;
	if ((error = df_conn_open(out, &copy)) < 0)
		goto out;
	*name = df_buf_detach(&nm);
	created = false;
out:
	if (created)
		df_shadow_drop(conn, nm.ptr);
	df_rows_free(tables);
	df_buf_release(&sql);
	df_buf_release(&nm);
	return error;
}
