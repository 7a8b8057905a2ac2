/*
 * Every diff checks itself: the "from" side is loaded into a throwaway
 * database (load.c's scratch databases), the script runs there statement
 * by statement, the copy is read back and diffed with the "to" side.  An
 * empty re-diff is a verified script; anything else (a statement that
 * fails, an object left different) is said, so an ordering bug is a clear
 * message instead of a broken migration.  What is compared: the whole
 * schema (the reader's, with the caller's options); on PostgreSQL, given
 * the diff (o->diff), first only the part it touches (verify_scope.c),
 * and the whole only when that part is not verified: the verdict, the
 * failure and what remains are those of the whole schema's check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devflow/error.h"
#include "schema/schema_int.h"
#include "util/fs.h"
#include "util/banned.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run `sql` on `conn` with the file runner, from a private temporary file. */
static int run_text(df_conn *conn, const char *sql, df_schema_file_runner run)
{
	char path[] = "/tmp/devflow-verify-XXXXXX.sql";
	long statements;
	int fd, error;

	if ((fd = mkostemps(path, 4, O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot make a temporary file: %s", strerror(errno));
	error = df_write_all(fd, sql, strlen(sql));
	close(fd);
	if (error == 0)
		error = run(conn, path, &statements);
	unlink(path);
	return error;
}

/*
 * PostgreSQL: the whole text in one round trip (one implicit transaction,
 * one commit); what fails there (CREATE INDEX CONCURRENTLY cannot run in a
 * transaction block ...) rolls back and runs again statement by statement,
 * which also places the error.  Elsewhere statement by statement.
 */
static int run_all(df_scratch *db, const char *sql, df_schema_file_runner run)
{
	long off;

	if (db->pg && df_conn_exec(db->conn, sql, strlen(sql), &off) == 0)
		return 0;
	df_error_clear();
	return run_text(db->conn, sql, run);
}

/* The last error as one sentence, with the script's line when it has one. */
static int failure(df_verified *v, const char *what, bool script)
{
	const df_error *e = df_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	char *s = NULL;
	int n;

	/* the script's temporary file is no name for people: "path:1:1: " goes */
	if (e && e->file && !strncmp(msg, e->file, strlen(e->file)) && strstr(msg, ": "))
		msg = strstr(msg, ": ") + 2;

	if (script && e && e->line > 0)
		n = asprintf(&s, "%s (line %d of the script): %s", what, e->line, msg);
	else
		n = asprintf(&s, "%s: %s", what, msg);
	df_error_clear();
	if (n < 0)
		return df_error_oom();
	v->failure = s;
	return 0;
}

/* The "from" side into the copy: a file, a history, or the DDL that makes
 * it from what the new database holds (as df_schema_ddl() writes it). */
static int load_from(df_scratch *db, const df_verify_opts *o, const df_schema *from)
{
	df_schema *base = NULL;
	df_diff *make = NULL;
	char *ddl = NULL;
	int error;

	if (o->from_path)
		return df__scratch_load_files(db, o->from_path, o->run_file);
	if (o->from_history)
		return df__scratch_replay(db, o->from_migs, o->from_nr, o->run);
	if (!from)
		return df_error_set(DF_EINTERNAL, "df_diff_verify: no from side");
	/* what the new database holds already (PostgreSQL's schema public) */
	if ((error = df_conn_sandbox(db->conn)) < 0 ||
	    (error = df_schema_read(&base, db->conn, o->schema_opts)) < 0 ||
	    (error = df_schema_diff(&make, base, from)) < 0 ||
	    (error = df_diff_sql(&ddl, make)) < 0)
		goto out;
	error = run_all(db, ddl, o->run_file);
out:
	free(ddl);
	df_diff_free(make);
	df_schema_free(base);
	return error;
}

/* One check of `script` on a new throwaway database: `from` loaded,
 * compared with `to` after (the whole sides, or the parts of them). */
static int check(df_verified *v, const df_verify_opts *o, const df_schema *from,
	const char *script, const df_schema *to)
{
	df_schema *after = NULL;
	df_scratch db;
	int error;

	if ((error = df__scratch_open(&db, o->engine, o->server, "the diff's check", "chk")) < 0)
		return error;
	/* a copy needs no durability: PostgreSQL's commits skip the WAL flush */
	if (db.pg)
		df_conn_query(db.conn, NULL, "SET synchronous_commit = off", NULL, 0);
	if (load_from(&db, o, from) < 0) {
		error = failure(v, "the \"from\" side could not be copied into the throwaway database",
			false);
		goto done;
	}
	if (script && *script && run_all(&db, script, o->run_file) < 0) {
		error = failure(v, "the script fails on a copy of the \"from\" side", true);
		goto done;
	}
	if ((error = df_schema_read(&after, db.conn, o->schema_opts)) < 0 ||
	    (error = df_schema_diff(&v->remaining, after, to)) < 0 ||
	    (error = df_diff_sql(&v->remaining_sql, v->remaining)) < 0)
		goto done;
	v->ok = v->remaining->nr == 0;
done:
	df__scratch_close(&db);
	df_schema_free(after);
	if (v->remaining) {
		/* the schemas go: the operations no longer point into them */
		v->remaining->from = v->remaining->to = NULL;
		for (size_t i = 0; i < v->remaining->nr; i++)
			for (size_t k = 0; k < v->remaining->v[i].nops; k++) {
				df_op *op = &v->remaining->v[i].ops[k];
				op->before = op->after = NULL;
				op->col_before = op->col_after = NULL;
			}
	}
	return error;
}

/* The part the diff touches verified: 1; not verified (or not tried): 0. */
static int check_part(df_verified *v, const df_verify_opts *o, const char *script,
	const df_schema *to)
{
	df_schema from_sub, to_sub;
	int error;

	if (!o->diff || o->whole || o->from_path || o->from_history || !o->from ||
	    strcmp(o->engine, "postgres"))
		return 0;
	if ((error = df__verify_scope(&from_sub, &to_sub, o->from, to, o->diff)) < 0)
		return error;
	/* the whole, or nearly: no part to gain */
	if (from_sub.nr + to_sub.nr < (o->from->nr + to->nr) * 9 / 10)
		error = check(v, o, &from_sub, script, &to_sub);
	if (error >= 0 && v->ok) {
		v->part = true;
		v->part_objects = from_sub.nr + to_sub.nr;
		v->all_objects = o->from->nr + to->nr;
	}
	df__verify_scope_release(&from_sub);
	df__verify_scope_release(&to_sub);
	if (error < 0)
		return error;
	if (v->ok)
		return 1;
	/* not verified: the whole schema's check says what is wrong */
	free(v->failure);
	df_diff_free(v->remaining);
	free(v->remaining_sql);
	memset(v, 0, sizeof(*v));
	return 0;
}

int df_diff_verify(df_verified **out, const df_verify_opts *o, const char *script,
	const df_schema *to)
{
	df_verified *v;
	long t0 = now_ms();
	int error;

	*out = NULL;
	if (o->version != DF_VERIFY_OPTS_VERSION)
		return df_error_set(DF_EINTERNAL, "df_diff_verify: options of version %u", o->version);
	if (!o->run_file)
		return df_error_set(DF_EINTERNAL, "df_diff_verify: no runner");
	if (!(v = calloc(1, sizeof(*v))))
		return df_error_oom();
	if ((error = check_part(v, o, script, to)) == 0)
		error = check(v, o, o->from, script, to);
	v->ms = now_ms() - t0;
	if (error < 0) {
		df_verified_free(v);
		return error;
	}
	*out = v;
	return 0;
}

void df_verified_free(df_verified *v)
{
	if (!v)
		return;
	free(v->failure);
	df_diff_free(v->remaining);
	free(v->remaining_sql);
	free(v);
}
