/*
 * Shadow databases: where a dry-run cannot roll back (MySQL/MariaDB commit
 * DDL implicitly), the pending migrations run for real in a throwaway
 * database that has the target's tables, and the shadow is dropped after.
 * The target keeps nothing but the audit row of the dry-run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/run.h"
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
	char rid[DF_RUN_ID_MAX];
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
	/* <db>_dfshadow_<run id>: the run id starts with the pid (df_shadow_list) */
	df_run_id_copy(rid, conn->run);
	df_buf_printf(&nm, "%.40s_dfshadow_%s", dsn->database, rid);
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
	/* the run that cancels statements on `conn` cancels them here too */
	if ((error = df_run_arm(conn->run, *out)) < 0) {
		df_conn_close(*out);
		*out = NULL;
		goto out;
	}
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

/* A devflow process of this host with that pid runs now. */
static bool live_devflow(const char *pidtext)
{
	char path[64], comm[64] = "";
	long pid = strtol(pidtext, NULL, 10);
	FILE *f;

	if (pid <= 0 || kill((pid_t)pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "r"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	return !strcmp(comm, "devflow");
}

int df_shadow_list(df_strlist *out, df_conn *conn, const df_dsn *dsn)
{
	df_rows *rows = NULL;
	int error;

	switch (df_conn_dialect(conn)) {
	case DF_DIALECT_MYSQL: {
		/* the shadows of this database (named as df_shadow_open names them),
		 * and backup checks' databases */
		df_buf like = DF_BUF_INIT;
		const char *db = dsn && dsn->database ? dsn->database : "";
		const char *p[1];
		for (size_t i = 0; db[i] && i < 40; i++) {
			if (db[i] == '_' || db[i] == '%' || db[i] == '\\')
				df_buf_putc(&like, '\\');
			df_buf_putc(&like, db[i]);
		}
		df_buf_puts(&like, "\\_dfshadow\\_%");
		if (df_buf_oom(&like)) {
			df_buf_release(&like);
			return df_error_oom();
		}
		p[0] = like.ptr;
		error = df_conn_query(conn, &rows, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
			"WHERE SCHEMA_NAME LIKE ? OR SCHEMA_NAME LIKE 'devflow\\_verify\\_%' "
			"ORDER BY SCHEMA_NAME", p, 1);
		df_buf_release(&like);
		break;
	}
	case DF_DIALECT_POSTGRES:
		error = df_conn_query(conn, &rows, "SELECT datname::text FROM pg_catalog.pg_database "
			"WHERE datname LIKE 'devflow\\_verify\\_%' ORDER BY datname", NULL, 0);
		break;
	default:
		return 0;       /* SQLite verifies backups in temporary files */
	}
	if (error < 0)
		return error;
	for (size_t r = 0; r < rows->nrows; r++) {
		const char *name = df_rows_get(rows, r, 0), *pid;
		if (!name)
			continue;
		/* <db>_dfshadow_<pid>_<run>, devflow_verify_<pid>_<run>_<hex> (and
		 * the older <db>_dfshadow_<pid>, devflow_verify_<pid>_<hex>) */
		pid = strstr(name, "_dfshadow_") ? strstr(name, "_dfshadow_") + 10 :
			!strncmp(name, "devflow_verify_", 15) ? name + 15 : NULL;
		if (pid && dsn && df_dsn_is_local(dsn) && live_devflow(pid))
			continue;
		if ((error = df_strlist_push(out, name)) < 0)
			break;
	}
	df_rows_free(rows);
	return error;
}
