/*
 * Throwaway databases, and schemas read from them: a .sql file (or a folder
 * of them) loaded into one and read back, so the engine, not devflow, parses
 * it; a migration history replayed into one (db generate).  SQLite: an
 * in-memory database.  PostgreSQL and MySQL/MariaDB: a database
 * devflow_verify_<pid>_<unique>_<tag> made on the given server (named as
 * df_shadow_list() finds leftovers of a killed run), dropped whatever
 * happens.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/uniq.h"
#include "util/banned.h"

int df__scratch_open(df_scratch *out, const char *engine, const df_dsn *server,
	const char *what, const char *tag)
{
	df_dsn *dsn = NULL;
	df_buf sql = DF_BUF_INIT;
	char *url = NULL, uniq[DF_UNIQ_MAX];
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
	df_uniq(uniq, sizeof(uniq));    /* two loads at once (threads) never share one */
	snprintf(out->name, sizeof(out->name), "devflow_verify_%s_%s", uniq, tag);
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

/* Bytes [off, off + len) of `path` (len UINT64_MAX: to the end) in *out. */
static int read_range(df_buf *out, const char *path, uint64_t off, uint64_t len)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int error = 0;

	if (fd < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (off && lseek(fd, (off_t)off, SEEK_SET) < 0)
		error = df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	while (!error && len) {
		size_t want = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			error = df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
		if (n <= 0)
			break;
		df_buf_put(out, chunk, (size_t)n);
		len -= (uint64_t)n;
	}
	close(fd);
	if (!error && df_buf_oom(out))
		error = df_error_oom();
	return error;
}

/*
 * Confine the throwaway database before anything is loaded into it: the
 * driver's own sandbox (SQLite's authorizer), and for MySQL/MariaDB the
 * server's other databases, which no name in a loaded file may name.
 */
static int scratch_sandbox(df_scratch *db, df_sandbox *sb, df_strlist *dbs)
{
	df_rows *rows = NULL;
	int error;

	memset(sb, 0, sizeof(*sb));
	sb->dialect = df_conn_dialect(db->conn);
	if ((error = df_conn_sandbox(db->conn)) < 0)
		return error;
	if (sb->dialect != DF_DIALECT_MYSQL)
		return 0;
	if ((error = df_conn_query(db->conn, &rows, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA",
		NULL, 0)) < 0)
		return error;
	for (size_t r = 0; r < rows->nrows && !error; r++) {
		const char *name = df_rows_get(rows, r, 0);
		/* information_schema is read-only: migrations query it */
		if (name && strcmp(name, db->name) && strcasecmp(name, "information_schema"))
			error = df_strlist_push(dbs, name);
	}
	df_rows_free(rows);
	sb->databases = dbs;
	return error;
}

/*
 * A schema file failed at the last error's position: the hint names the
 * statement there (its first line) and the file to fix.
 */
static void file_failed(const char *path, df_dialect dialect)
{
	const df_error *e = df_error_last();
	df_stmt_list list = DF_STMT_LIST_INIT;
	df_buf text = DF_BUF_INIT, b = DF_BUF_INIT;
	const df_stmt *at = NULL;
	int eline = e && e->file && !strcmp(e->file, path) ? e->line : 0;
	int ecol = e ? e->column : 0;
	df_error *saved;

	if (eline <= 0) {
		df_error_hint("fix '%s'; the throwaway database it was loaded into is gone", path);
		return;
	}
	/* reading the file again must not lose the error it is about */
	saved = df_error_save();
	if (read_range(&text, path, 0, UINT64_MAX) == 0 && text.ptr &&
	    df_sql_split(&list, dialect, text.ptr, text.size, NULL) == 0) {
		for (size_t i = 0; i < list.nr; i++) {
			int line, col;
			df_sql_position(text.ptr, text.size, (size_t)list.v[i].offset, &line, &col);
			if (line > eline || (line == eline && col > ecol))
				break;
			at = &list.v[i];
		}
	}
	if (at)
		df__statement_excerpt(&b, text.ptr + at->offset, at->len);
	df_error_restore(saved);
	if (at && !df_buf_oom(&b)) {
		int line, col;
		df_sql_position(text.ptr, text.size, (size_t)at->offset, &line, &col);
		df_error_hint("the statement at %s:%d:%d (%s) does not load; fix '%s'; the throwaway "
			"database it was loaded into is gone", path, line, col, b.ptr ? b.ptr : "", path);
	} else {
		df_error_hint("fix '%s'; the throwaway database it was loaded into is gone", path);
	}
	df_stmt_list_release(&list);
	df_buf_release(&text);
	df_buf_release(&b);
}

/* Check every file before the first of them runs. */
static int check_files(const df_sandbox *sb, const df_strlist *files)
{
	df_buf text = DF_BUF_INIT;
	int error = 0;

	for (size_t i = 0; i < files->nr && !error; i++) {
		const df_error *e;
		df_buf_truncate(&text, 0);
		if ((error = read_range(&text, files->v[i], 0, UINT64_MAX)) == 0)
			error = df__sandbox_check(sb, files->v[i], 1, text.ptr ? text.ptr : "", text.size);
		/* a file that does not split: say where, as a statement's error does */
		if (error < 0 && (e = df_error_last()) && e->file && e->line > 0 && e->message &&
		    strncmp(e->message, e->file, strlen(e->file)))
			df_error_prefix("%s:%d:%d", e->file, e->line, e->column);
	}
	df_buf_release(&text);
	return error;
}

/* Check the UP section of every migration before the first of them runs. */
static int check_migrations(const df_sandbox *sb, const df_migration *const *migs, size_t nr,
	bool down)
{
	df_buf text = DF_BUF_INIT;
	int error = 0;

	for (size_t i = 0; i < nr && !error; i++) {
		const df_section *up = down ? &migs[i]->down : &migs[i]->up;
		if (!up->path || !up->len)
			continue;
		df_buf_truncate(&text, 0);
		if (up->mem)
			df_buf_put(&text, up->mem, (size_t)up->len);
		else
			error = read_range(&text, up->path, up->off, up->len);
		if (!error && df_buf_oom(&text))
			error = df_error_oom();
		if (!error)
			error = df__sandbox_check(sb, up->path, up->line > 0 ? up->line : 1,
				text.ptr ? text.ptr : "", text.size);
	}
	df_buf_release(&text);
	return error;
}

int df_schema_dry_run_check(df_conn *conn, const df_migration *const *migs, size_t nr,
	bool rollback)
{
	df_strlist dbs = DF_STRLIST_INIT;
	df_rows *rows = NULL;
	df_sandbox sb = { 0 };
	int error;

	if (df_conn_dialect(conn) != DF_DIALECT_MYSQL)
		return 0;
	/* every database of the server is another one from the copy's side,
	 * the target's own included */
	if ((error = df_conn_query(conn, &rows, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA",
		NULL, 0)) < 0)
		return error;
	for (size_t r = 0; r < rows->nrows && !error; r++) {
		const char *name = df_rows_get(rows, r, 0);
		if (name && strcasecmp(name, "information_schema"))
			error = df_strlist_push(&dbs, name);
	}
	df_rows_free(rows);
	sb.dialect = DF_DIALECT_MYSQL;
	sb.migrations = true;
	sb.dry_run = true;
	sb.databases = &dbs;
	if (!error)
		error = check_migrations(&sb, migs, nr, rollback);
	df_strlist_release(&dbs);
	return error;
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

int df__scratch_load_files(df_scratch *db, const char *path, df_schema_file_runner run)
{
	df_sandbox sb;
	df_strlist files = DF_STRLIST_INIT, dbs = DF_STRLIST_INIT;
	long statements;
	int error;

	if (!run)
		return df_error_set(DF_EINTERNAL, "no runner to load '%s' with", path);
	if ((error = df_schema_files(&files, path)) < 0)
		return error;
	if ((error = scratch_sandbox(db, &sb, &dbs)) < 0 ||
	    (error = check_files(&sb, &files)) < 0)
		goto out;
	for (size_t i = 0; i < files.nr; i++)
		if ((error = run(db->conn, files.v[i], &statements)) < 0) {
			file_failed(files.v[i], sb.dialect);
			goto out;
		}
out:
	df_strlist_release(&files);
	df_strlist_release(&dbs);
	return error;
}

int df_schema_load_file(df_schema **out, const char *path, const char *engine,
	const df_dsn *server, const df_schema_opts *opts, int n, df_schema_file_runner run)
{
	df_scratch db;
	df_strlist files = DF_STRLIST_INIT;
	char tag[32], what[64];
	int error;

	*out = NULL;
	if (!run)
		return df_error_set(DF_EINTERNAL, "no runner to load '%s' with", path);
	/* a missing file is said before any database is made */
	error = df_schema_files(&files, path);
	df_strlist_release(&files);
	if (error < 0)
		return error;
	snprintf(tag, sizeof(tag), "diff%d", n);
	snprintf(what, sizeof(what), "'%.50s'", path);
	if ((error = df__scratch_open(&db, engine, server, what, tag)) < 0)
		return error;
	if ((error = df__scratch_load_files(&db, path, run)) == 0)
		error = df_schema_read(out, db.conn, opts);
	df__scratch_close(&db);
	return error;
}

int df__scratch_replay(df_scratch *db, const df_migration *const *migs, size_t nr,
	df_schema_runner run)
{
	df_sandbox sb;
	df_strlist dbs = DF_STRLIST_INIT;
	int error;

	if (nr && !run)
		return df_error_set(DF_EINTERNAL, "df_schema_replay: no runner for %zu migrations", nr);
	if ((error = scratch_sandbox(db, &sb, &dbs)) < 0)
		goto out;
	sb.migrations = true;
	if ((error = check_migrations(&sb, migs, nr, false)) < 0)
		goto out;
	if (nr && (error = run(db->conn, migs, nr)) < 0)
		df_error_hint("the migrations do not replay from an empty database; the throwaway "
			"database is gone");
out:
	df_strlist_release(&dbs);
	return error;
}

int df_schema_replay(df_schema **out, const df_migration *const *migs, size_t nr,
	const char *engine, const df_dsn *server, const df_schema_opts *opts, int n,
	df_schema_runner run)
{
	df_scratch db;
	char tag[32];
	int error;

	*out = NULL;
	if (nr && !run)
		return df_error_set(DF_EINTERNAL, "df_schema_replay: no runner for %zu migrations", nr);
	snprintf(tag, sizeof(tag), "gen%d", n);
	if ((error = df__scratch_open(&db, engine, server, "the migrations", tag)) < 0)
		return error;
	if ((error = df__scratch_replay(&db, migs, nr, run)) == 0)
		error = df_schema_read(out, db.conn, opts);
	df__scratch_close(&db);
	return error;
}
