/*
 * A server database that does not exist yet (db migrate under the local
 * policy creates it, as dbmate's `up` does; db wait finds its server
 * ready).  The database is created from the server's maintenance
 * database: PostgreSQL's `postgres` (or `template1` where that is gone),
 * MariaDB's connection without a database.  The connection made for it is
 * closed before returning: nothing here stays open.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/run.h"
#include "util/banned.h"

/* The SQL client's quoting of the database name, for the engine. */
static void quote_name(df_buf *b, const char *name, bool pg)
{
	char q = pg ? '"' : '`';

	df_buf_putc(b, q);
	for (; *name; name++) {
		if (*name == q)
			df_buf_putc(b, q);
		df_buf_putc(b, *name);
	}
	df_buf_putc(b, q);
}

int df_database_create_sql(char **out, const df_dsn *dsn)
{
	df_buf b = DF_BUF_INIT;

	*out = NULL;
	if (!dsn->database || !*dsn->database || !strcmp(dsn->engine, "sqlite"))
		return df_error_set(DF_EINTERNAL, "no server database named in the URL");
	df_buf_puts(&b, "CREATE DATABASE ");
	quote_name(&b, dsn->database, !strcmp(dsn->engine, "postgres"));
	if (df_buf_oom(&b))
		return df_error_oom();
	*out = df_buf_detach(&b);
	return 0;
}

/*
 * Connect to the server of `dsn` without its database: the maintenance
 * database (PostgreSQL: `postgres`, then `template1`; MariaDB: none).
 * *out is the caller's (df_conn_close); armed for `run` when given.
 */
int df_server_connect(df_conn **out, const df_dsn *dsn, df_run *run)
{
	static const char *const pg_maint[] = { "postgres", "template1" };
	bool pg = !strcmp(dsn->engine, "postgres");
	size_t tries = pg ? 2 : 1;
	int error = 0;

	*out = NULL;
	for (size_t i = 0; i < tries; i++) {
		char *url = df_dsn_with_database(dsn->url, pg ? pg_maint[i] : "");
		df_dsn *d = NULL;
		if (!url)
			return df_error_set(DF_EINTERNAL, "cannot make the URL of the server's "
				"maintenance database");
		error = df_dsn_parse(&d, url);
		free(url);
		if (!error) {
			d->wait_ms = dsn->wait_ms;
			error = df_conn_open(out, d);
		}
		df_dsn_free(d);
		if (error != DF_EUNKNOWNDB)
			break;
	}
	if (!error && run && (error = df_run_arm(run, *out)) < 0) {
		df_conn_close(*out);
		*out = NULL;
	}
	return error;
}

int df_database_create(const df_dsn *dsn, df_run *run)
{
	df_conn *conn = NULL;
	char *sql = NULL;
	int error;

	if ((error = df_database_create_sql(&sql, dsn)) < 0)
		return error;
	if ((error = df_server_connect(&conn, dsn, run)) < 0) {
		df_error_prefix("cannot create the database '%s': connecting to its server failed",
			dsn->database);
		goto out;
	}
	/* a crash here leaves the database created or not, and nothing in it:
	 * the next run creates it or finds it */
	if ((error = df_conn_exec(conn, sql, strlen(sql), NULL)) < 0) {
		df_error_prefix("cannot create the database '%s'", dsn->database);
		if (error == DF_EPERM)
			df_error_hint("the user needs the right to create databases (PostgreSQL: "
				"ALTER ROLE ... CREATEDB; MariaDB: GRANT CREATE ON `%s`.*), or a person "
				"runs %s", dsn->database, sql);
	}
out:
	df_conn_close(conn);     /* disarms it too */
	free(sql);
	return error;
}
