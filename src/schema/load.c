/*
 * A .sql file as a schema: loaded into a throwaway database and read back,
 * so the engine, not devflow, parses it.  SQLite: an in-memory database.
 * PostgreSQL and MySQL/MariaDB: a database devflow_verify_<pid>_diff<n> made
 * on the given server (named as df_shadow_list() finds leftovers of a
 * killed run), dropped whatever happens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

int df_schema_load_file(df_schema **out, const char *path, const char *engine,
	const df_dsn *server, const df_schema_opts *opts, int n)
{
	df_conn *admin = NULL, *conn = NULL;
	df_dsn *dsn = NULL;
	char name[96], *url = NULL;
	df_buf sql = DF_BUF_INIT;
	bool created = false, pg = !strcmp(engine, "postgres");
	long statements;
	struct stat st;
	int error;

	*out = NULL;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		df_error_set(DF_EUSAGE, "cannot read '%s': no such file", path);
		df_error_hint("--from and --to take an environment, a URL or a .sql file");
		return DF_EUSAGE;
	}
	if (!strcmp(engine, "sqlite")) {
		if ((error = df_dsn_parse(&dsn, "sqlite::memory:")) < 0 ||
		    (error = df_conn_open(&conn, dsn)) < 0)
			goto out;
	} else {
		df_identity id;
		if (!server) {
			error = df_error_set(DF_EUSAGE, "loading '%s' into %s needs a server", path, engine);
			df_error_hint("name a database on the other side, or one with --url");
			goto out;
		}
		snprintf(name, sizeof(name), "devflow_verify_%ld_diff%d", (long)getpid(), n);
		if ((error = df_conn_open(&admin, server)) < 0)
			goto out;
		df_buf_printf(&sql, "DROP DATABASE IF EXISTS %s", name);
		df_conn_query(admin, NULL, sql.ptr, NULL, 0);
		df_buf_truncate(&sql, 0);
		df_buf_printf(&sql, "CREATE DATABASE %s%s", name, pg ? " TEMPLATE template0" : "");
		if ((error = df_conn_query(admin, NULL, sql.ptr, NULL, 0)) < 0) {
			df_error_prefix("cannot make a throwaway database to load '%s' into", path);
			df_error_hint("%s", pg ? "the user needs CREATEDB (ALTER ROLE ... CREATEDB)" :
				"grant the user CREATE and DROP on databases named devflow_verify_%");
			goto out;
		}
		created = true;
		if (!(url = df_dsn_with_database(server->url, name))) {
			error = df_error_set(DF_EINTERNAL, "cannot make the URL of the throwaway database");
			goto out;
		}
		if ((error = df_dsn_parse(&dsn, url)) < 0 ||
		    (error = df_conn_open(&conn, dsn)) < 0 ||
		    (error = df_conn_identity(conn, &id)) < 0)
			goto out;
		if (strcmp(id.database, name)) {
			error = df_error_set(DF_EINTERNAL, "the throwaway database URL leads to '%s', "
				"not '%s'; not loading there", id.database, name);
			goto out;
		}
	}
	if ((error = df_run_sql_file(conn, path, &statements)) < 0) {
		df_error_hint("fix '%s'; the throwaway database it was loaded into is gone", path);
		goto out;
	}
	error = df_schema_read(out, conn, opts);
out:
	df_conn_close(conn);
	if (created) {
		df_error *saved = df_error_save();
		df_buf_truncate(&sql, 0);
		df_buf_printf(&sql, "DROP DATABASE IF EXISTS %s%s", name, pg ? " WITH (FORCE)" : "");
		df_conn_query(admin, NULL, sql.ptr, NULL, 0);
		if (saved)
			df_error_restore(saved);
		else
			df_error_clear();
	}
	df_conn_close(admin);
	df_dsn_free(dsn);
	free(url);
	df_buf_release(&sql);
	return error;
}
