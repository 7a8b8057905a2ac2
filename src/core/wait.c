/*
 * db wait: poll a target until it is ready for a migration, what dbmate's
 * `wait` does before `up` in a container's entrypoint.
 *
 * Ready means:
 *   PostgreSQL  a connection is accepted and pg_is_in_recovery() is false
 *               (a server replaying WAL after a crash or a restore, or a
 *               standby, takes no DDL);
 *   MariaDB     a connection is accepted and answers SELECT 1;
 *   SQLite      the file opens and answers SELECT 1, or, where the file
 *               does not exist yet, its folder exists (db migrate creates
 *               the file there); the file is never created here.
 * A server whose database does not exist yet is ready when its maintenance
 * database is (out->database_missing: db migrate creates it under the
 * local policy).
 *
 * Polling starts after 100 ms and backs off to 250 ms between attempts;
 * the run's cancel token is read every 25 ms, so a SIGINT ends the wait at
 * once (an attempt in flight ends with its own connect timeout, which a
 * refused or local connection never reaches).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "devflow/buf.h"
#include "devflow/cmd.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/run.h"
#include "util/banned.h"

#define WAIT_FIRST_MS 100
#define WAIT_MAX_MS 250
#define WAIT_SLICE_MS 25

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep `ms` in slices; the signal that cancelled the run, or 0. */
static int nap(long ms, df_run *run)
{
	while (ms > 0 && !df_run_cancelled(run)) {
		long step = ms < WAIT_SLICE_MS ? ms : WAIT_SLICE_MS;
		struct timespec ts = { 0, step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return df_run_cancelled(run);
}

/* The connection answers: PostgreSQL out of recovery, the others SELECT 1. */
static int answers(df_conn *conn, bool pg)
{
	df_rows *rows = NULL;
	int error;

	if ((error = df_conn_query(conn, &rows, pg ? "SELECT pg_catalog.pg_is_in_recovery()" :
		"SELECT 1", NULL, 0)) < 0)
		return error;
	if (pg && rows->nrows && df_rows_get(rows, 0, 0) && *df_rows_get(rows, 0, 0) == 't') {
		error = df_error_set(DF_ECONNREFUSED, "the server accepts connections but is in "
			"recovery (pg_is_in_recovery() is true): it takes no changes yet");
		df_error_hint("a server replaying its log comes out of recovery by itself; a standby "
			"stays in it: point devflow at the primary");
	}
	df_rows_free(rows);
	return error;
}

/* SQLite: one attempt (see the top of the file). */
static int sqlite_try(df_wait_result *out, const df_dsn *dsn)
{
	const char *path = dsn->database;
	struct stat st;
	df_conn *conn = NULL;
	int error;

	if (!path || !strcmp(path, ":memory:"))
		return 0;
	if (stat(path, &st) < 0) {
		const char *slash = strrchr(path, '/');
		char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) :
			strdup(".");
		if (!dir)
			return df_error_oom();
		error = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 :
			df_error_set(DF_EUNKNOWNDB, "the folder '%s' of the database file does not exist", dir);
		if (error)
			df_error_hint("create the folder (or mount the volume that holds it); "
				"`" DF_ERR_CMD(0) "` creates the file there");
		if (error)
			df_error_suggest(df_cmd_make(DF_VERB_MIGRATE, NULL, -1));
		free(dir);
		out->database_missing = error == 0;
		return error;
	}
	if ((error = df_conn_open(&conn, dsn)) == 0)
		error = answers(conn, false);
	df_conn_close(conn);
	return error;
}

/* A server: one attempt; its maintenance database when the database is missing. */
static int server_try(df_wait_result *out, const df_dsn *dsn, df_run *run)
{
	bool pg = !strcmp(dsn->engine, "postgres");
	df_conn *conn = NULL;
	int error;

	out->database_missing = false;
	if ((error = df_conn_open(&conn, dsn)) == DF_EUNKNOWNDB) {
		df_error *missing = df_error_save();
		if ((error = df_server_connect(&conn, dsn, NULL)) == 0) {
			out->database_missing = true;
			df_error_free(missing);
		} else if (missing) {
			df_error_free(missing);
		}
	}
	if (!error && run && (error = df_run_arm(run, conn)) < 0) {
		df_conn_close(conn);
		return error;
	}
	if (!error)
		error = answers(conn, pg);
	df_conn_close(conn);
	return error;
}

/* Errors a wait goes on through: the server may still be starting. */
static bool transient(int error)
{
	switch (error) {
	case DF_ECONNREFUSED:
	case DF_EHOST:          /* a container's name, not yet in DNS */
	case DF_EAUTH:          /* an entrypoint still creating the role */
	case DF_EPERM:
	case DF_EUNKNOWNDB:
	case DF_ETLS:
	case DF_EIO:
		return true;
	default:
		return false;
	}
}

int df_wait_ready(df_wait_result *out, const df_dsn *dsn, long timeout_ms, df_run *run)
{
	long start = now_ms(), pause = WAIT_FIRST_MS;
	bool lite = !strcmp(dsn->engine, "sqlite");
	int error;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if (df_run_cancelled(run))
			return DF_EINTERRUPTED;
		out->attempts++;
		df_error_clear();
		error = lite ? sqlite_try(out, dsn) : server_try(out, dsn, run);
		out->waited_ms = now_ms() - start;
		if (!error)
			return 0;
		if (df_run_cancelled(run))
			return DF_EINTERRUPTED;
		if (!transient(error))
			return error;
		if (out->waited_ms >= timeout_ms) {
			out->timed_out = true;
			return error;
		}
		if (pause > timeout_ms - out->waited_ms)
			pause = timeout_ms - out->waited_ms;
		if (nap(pause, run))
			return DF_EINTERRUPTED;
		pause = pause * 3 / 2 > WAIT_MAX_MS ? WAIT_MAX_MS : pause * 3 / 2;
		if (pause < WAIT_FIRST_MS)
			pause = WAIT_FIRST_MS;
	}
}
