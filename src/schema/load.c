/*
 * Throwaway databases, and schemas read from them: a .sql file (or a folder
 * of them) loaded into one and read back, so the engine, not devflow, parses
 * it; a migration history replayed into one (db generate).  SQLite: an
 * in-memory database.  PostgreSQL and MySQL/MariaDB: a database
 * devflow_verify_<pid>_<tag> made on the given server (named as
 * df_shadow_list() finds leftovers of a killed run), dropped whatever
 * happens.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/banned.h"

int df__scratch_open(df_scratch *out, const char *engine, const df_dsn *server,
	const char *what, const char *tag)
{
	df_dsn *dsn = NULL;
	df_buf sql = DF_BUF_INIT;
	char *url = NULL;
	df_identity id;
	int error;

	memset(out, 0, sizeof(*out));
	out->pg = !strcmp(engine, "postgres");
	if (!strcmp(engine, "sqlite")) {
		if ((error = df_dsn_parse(&dsn, "sqlite::memory:")) == 0)
			error = df_conn_open(&out->conn, dsn);
		df_dsn_free(dsn);
		return error;
	}
	if (!server) {
		error = df_error_set(DF_EUSAGE, "loading %s into %s needs a server", what, engine);
		df_error_hint("name a database on the other side, or one with --url");
		return error;
	}
	snprintf(out->name, sizeof(out->name), "devflow_verify_%ld_%s", (long)getpid(), tag);
	if ((error = df_conn_open(&out->admin, server)) < 0)
		goto out;
	df_buf_printf(&sql, "DROP DATABASE IF EXISTS %s", out->name);
	df_conn_query(out->admin, NULL, sql.ptr, NULL, 0);
	df_buf_truncate(&sql, 0);
	df_buf_printf(&sql, "CREATE DATABASE %s%s", out->name, out->pg ? " TEMPLATE template0" : "");
	if ((error = df_conn_query(out->admin, NULL, sql.ptr, NULL, 0)) < 0) {
		df_error_prefix("cannot make a throwaway database to load %s into", what);
		df_error_hint("%s", out->pg ? "the user needs CREATEDB (ALTER ROLE ... CREATEDB)" :
			"grant the user CREATE and DROP on databases named devflow_verify_%");
		goto out;
	}
	out->created = true;
	if (!(url = df_dsn_with_database(server->url, out->name))) {
		error = df_error_set(DF_EINTERNAL, "cannot make the URL of the throwaway database");
		goto out;
	}
	if ((error = df_dsn_parse(&dsn, url)) < 0 ||
	    (error = df_conn_open(&out->conn, dsn)) < 0 ||
	    (error = df_conn_identity(out->conn, &id)) < 0)
		goto out;
	if (strcmp(id.database, out->name))
		error = df_error_set(DF_EINTERNAL, "the throwaway database URL leads to '%s', "
			"not '%s'; not loading there", id.database, out->name);
out:
	if (error < 0)
		df__scratch_close(out);
	df_dsn_free(dsn);
	free(url);
	df_buf_release(&sql);
	return error;
}

void df__scratch_close(df_scratch *s)
{
	df_conn_close(s->conn);
	s->conn = NULL;
	if (s->created) {
		/* keep the error that brought us here over the drop's */
		df_error *saved = df_error_save();
		df_buf sql = DF_BUF_INIT;
		df_buf_printf(&sql, "DROP DATABASE IF EXISTS %s%s", s->name, s->pg ? " WITH (FORCE)" : "");
		df_conn_query(s->admin, NULL, sql.ptr, NULL, 0);
		df_buf_release(&sql);
		if (saved)
			df_error_restore(saved);
		else
			df_error_clear();
		s->created = false;
	}
	df_conn_close(s->admin);
	s->admin = NULL;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int df_schema_files(df_strlist *out, const char *path)
{
	struct dirent **names = NULL;
	struct stat st;
	int n, error = 0;

	if (stat(path, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		df_error_set(DF_EUSAGE, "cannot read '%s': no such file", path);
		df_error_hint("--from and --to take an environment, a URL or a .sql file");
		return DF_EUSAGE;
	}
	if (S_ISREG(st.st_mode))
		return df_strlist_push(out, path);
	if ((n = scandir(path, &names, NULL, by_name)) < 0)
		return df_error_set(DF_EIO, "cannot read the folder '%s'", path);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (!error && len > 4 && !strcmp(names[i]->d_name + len - 4, ".sql") &&
		    names[i]->d_name[0] != '.')
			error = df_strlist_pushf(out, "%s/%s", path, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return error;
}

int df_schema_load_file(df_schema **out, const char *path, const char *engine,
	const df_dsn *server, const df_schema_opts *opts, int n)
{
	df_scratch db;
	df_strlist files = DF_STRLIST_INIT;
	char tag[32], what[64];
	long statements;
	int error;

	*out = NULL;
	if ((error = df_schema_files(&files, path)) < 0)
		return error;
	snprintf(tag, sizeof(tag), "diff%d", n);
	snprintf(what, sizeof(what), "'%.50s'", path);
	if ((error = df__scratch_open(&db, engine, server, what, tag)) < 0)
		goto out;
	for (size_t i = 0; i < files.nr; i++)
		if ((error = df_run_sql_file(db.conn, files.v[i], &statements)) < 0) {
			df_error_hint("fix '%s'; the throwaway database it was loaded into is gone", files.v[i]);
			goto out;
		}
	error = df_schema_read(out, db.conn, opts);
out:
	df__scratch_close(&db);
	df_strlist_release(&files);
	return error;
}

int df_schema_replay(df_schema **out, const df_migration *const *migs, size_t nr,
	const char *engine, const df_dsn *server, const df_schema_opts *opts, int n)
{
	df_scratch db;
	df_run_result res = { 0 };
	df_run_opts ro = { 0 };
	char tag[32];
	int error;

	*out = NULL;
	snprintf(tag, sizeof(tag), "gen%d", n);
	if ((error = df__scratch_open(&db, engine, server, "the migrations", tag)) < 0)
		return error;
	ro.flags = DF_RUN_SHADOW;
	ro.table = "_migrations";
	if (nr && ((error = df_run_check((const df_migration **)migs, nr,
		df_conn_dialect(db.conn), false)) < 0 ||
	    (error = df_run_apply(&res, db.conn, (const df_migration **)migs, nr, &ro, false)) < 0)) {
		df_error_hint("the migrations do not replay from an empty database; the throwaway "
			"database is gone");
		goto out;
	}
	error = df_schema_read(out, db.conn, opts);
out:
	df_run_result_release(&res);
	df__scratch_close(&db);
	return error;
}
