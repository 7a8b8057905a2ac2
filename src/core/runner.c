/*
 * Applying and reverting migrations.
 *
 * On engines with transactional DDL (SQLite, PostgreSQL) a migration's
 * statements and its tracking row commit together.  Elsewhere (MySQL, and
 * `-- devflow:no-transaction` migrations) the row is written as `running`
 * first and ends `applied`, or `failed` with the number of statements that
 * ran, so a crash leaves a visible failed state instead of a silent
 * half-migration (docs/drivers.md, "Transactions").
 * The runner stops at the first failure and never retries.
 *
 * Statements are streamed: the section is read in chunks through the
 * incremental splitter, so a 1 GB migration needs one window of memory
 * (run_reader.c).  The checks before a run: run_check.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "core/locktrace.h"
#include "core/runner_int.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "util/banned.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void df_run_result_release(df_run_result *r)
{
	for (size_t i = 0; r->steps && i < r->nr; i++)
		df_trace_release(&r->steps[i].trace);
	free(r->steps);
	memset(r, 0, sizeof(*r));
}

int df_run_select(const df_migration ***out, size_t *nr, const df_plan *plan,
	const df_run_opts *opts, bool rollback)
{
	const df_migration **v;
	size_t n = 0;

	*out = NULL;
	*nr = 0;
	if (!(v = calloc(plan->nr + 1, sizeof(*v))))
		return df_error_oom();
	if (!rollback) {
		for (size_t i = 0; i < plan->nr; i++) {
			const df_plan_item *it = &plan->items[i];
			if (it->state != DF_STATE_PENDING)
				continue;
			/* --to stops before the repeatables, which run after every version */
			if (opts->to_version && (it->mig->repeatable ||
			    df_version_cmp(it->mig->version, opts->to_version) > 0))
				break;
			v[n++] = it->mig;
		}
	} else {
		long want = opts->to_version ? -1 : (opts->steps > 0 ? opts->steps : 1);
		for (size_t i = plan->nr; i-- > 0;) {
			const df_plan_item *it = &plan->items[i];
			if (it->state == DF_STATE_PENDING || (it->mig && it->mig->repeatable) ||
			    (!it->mig && it->row && (!it->row->version || !*it->row->version)))
				continue;       /* repeatables are not reverted (as in Flyway) */
			if (opts->to_version && df_version_cmp(it->row ? it->row->version : it->mig->version,
				opts->to_version) <= 0)
				break;
			if (want >= 0 && (long)n >= want)
				break;
			if (!it->mig) {
				free(v);
				df_error_set(DF_EMISSING, "cannot roll back '%s': its file is gone",
					it->row->filename);
				df_error_hint("restore the file, or settle it with `" DF_ERR_CMD(0) "`");
				df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, it->row->version,
					DF_OPT_ROLLED_BACK));
				return DF_EMISSING;
			}
			v[n++] = it->mig;
		}
	}
	*out = v;
	*nr = n;
	return 0;
}

/*
 * A tracking-row write, built into `w` so several can go in one batch:
 * insert (state, statement count) or update (state, duration, count).
 * `done` < 0 writes NULL: the count is not known yet.
 */
struct row_write {
	df_buf sql, dur, cnt;
	const char *p[8];
	df_query q;
	char who[DF_WHOAMI_MAX], up[65];
};

static void row_write_init(struct row_write *w, const char *table, const df_migration *m,
	const char *state, long ms, long done, bool insert)
{
	memset(w, 0, sizeof(*w));
	df_buf_init(&w->sql);
	df_buf_init(&w->dur);
	df_buf_init(&w->cnt);
	df_buf_printf(&w->dur, "%ld", ms);
	if (done >= 0)
		df_buf_printf(&w->cnt, "%ld", done);
	if (insert) {
		/* the UP's own checksum: an unreadable file records none */
		const char *up = df_migration_up_checksum(w->up, m) == 0 ? w->up : NULL;
		const char *p[] = { m->file, m->version, m->checksum, w->dur.ptr, df_whoami(w->who, sizeof(w->who)), state,
			done >= 0 ? w->cnt.ptr : NULL, up };
		if (!up)
			df_error_clear();
		memcpy(w->p, p, sizeof(p));
		w->q.nparams = 8;
		df_buf_printf(&w->sql, "INSERT INTO %s (filename, version, checksum, duration_ms, "
			"applied_by, state, statements_done, up_checksum, applied_at) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)", table);
	} else {
		const char *p[] = { state, w->dur.ptr, done >= 0 ? w->cnt.ptr : NULL, m->file };
		memcpy(w->p, p, sizeof(p));
		w->q.nparams = 4;
		df_buf_printf(&w->sql, "UPDATE %s SET state = ?, duration_ms = ?, statements_done = ?, "
			"error = NULL WHERE filename = ?", table);
	}
	w->q.sql = w->sql.ptr;
	w->q.params = w->p;
}

static int row_write_check(const struct row_write *w)
{
	return df_buf_oom(&w->sql) || df_buf_oom(&w->dur) || df_buf_oom(&w->cnt) ?
		df_error_oom() : 0;
}

static void row_write_release(struct row_write *w)
{
	df_buf_release(&w->sql);
	df_buf_release(&w->dur);
	df_buf_release(&w->cnt);
}

static int record_row(df_conn *conn, const char *table, const df_migration *m,
	const char *state, long ms, long done, bool insert)
{
	struct row_write w;
	int error;

	row_write_init(&w, table, m, state, ms, done, insert);
	if ((error = row_write_check(&w)) == 0)
		error = df_conn_query(conn, NULL, w.q.sql, w.q.params, w.q.nparams);
	row_write_release(&w);
	return error;
}

static int record_failure(df_conn *conn, const char *table, const df_migration *m,
	long done, const char *message)
{
	df_buf sql = DF_BUF_INIT, cnt = DF_BUF_INIT;
	const char *p[] = { cnt.ptr, message, m->file };
	int error;

	df_buf_printf(&cnt, "%ld", done);
	p[0] = cnt.ptr;
	df_buf_printf(&sql, "UPDATE %s SET state = 'failed', statements_done = ?, error = ? "
		"WHERE filename = ?", table);
	error = df_conn_query(conn, NULL, sql.ptr, p, 3);
	df_buf_release(&sql);
	df_buf_release(&cnt);
	return error;
}

static int delete_row(df_conn *conn, const char *table, const df_migration *m)
{
	df_buf sql = DF_BUF_INIT;
	const char *p[] = { m->file };
	int error;

	df_buf_printf(&sql, "DELETE FROM %s WHERE filename = ?", table);
	error = df_conn_query(conn, NULL, sql.ptr, p, 1);
	df_buf_release(&sql);
	return error;
}

int df__run_record(df_conn *conn, const char *table, const df_migration *m, df_source_record what,
	long ms, long done)
{
	const df_error *e;

	switch (what) {
	case DF_RECORD_APPLIED:
		return record_row(conn, table, m, "applied", ms, done, true);
	case DF_RECORD_RUNNING:
		return record_row(conn, table, m, "running", 0, -1, true);
	case DF_RECORD_SETTLED:
		return record_row(conn, table, m, "applied", ms, done, false);
	case DF_RECORD_FAILED:
		e = df_error_last();
		return record_failure(conn, table, m, done, e && e->message ? e->message : "failed");
	case DF_RECORD_REVERTED:
		return delete_row(conn, table, m);
	}
	return df_error_set(DF_EINTERNAL, "unknown record kind %d", (int)what);
}

/*
 * For a dry-run inside a transaction: the statement without its
 * CONCURRENTLY keyword (in `b`), and where it was cut (*cut; 0: not cut).
 * Returns false for statements that cannot be rewritten (VACUUM ...).
 */
static bool without_concurrently(df_buf *b, size_t *cut, const char *sql, size_t len)
{
	const char *what = df__needs_no_tx(sql, len);
	size_t scan = len < 256 ? len : 256;

	*cut = 0;
	if (!what || !strstr(what, "CONCURRENTLY"))
		return false;
	for (size_t i = 0; i + 12 <= scan; i++)
		if (!strncasecmp(sql + i, "CONCURRENTLY", 12) && (i == 0 || sql[i - 1] == ' ' ||
		    sql[i - 1] == '\n' || sql[i - 1] == '\t')) {
			df_buf_truncate(b, 0);
			df_buf_put(b, sql, i);
			df_buf_put(b, sql + i + 12, len - i - 12);
			*cut = i;
			return !df_buf_oom(b);
		}
	return false;
}

/* How run_section runs a section, and what its messages say. */
enum section_flags {
	SEC_KEPT = (1 << 0),    /* statements that ran stay when a later one fails */
	SEC_TX = (1 << 1),      /* in a transaction of ours: check it stays open */
	SEC_DOWN = (1 << 2),    /* a rollback's DOWN section */
	SEC_SKIP_TXCTL = (1 << 3), /* dry-run: the migration's own BEGIN/COMMIT are skipped */
};

/* "SIGINT", "SIGTERM", "a signal" */
static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/*
 * What became of the migration when statement `done` + 1 failed or was
 * interrupted, for the hint.
 */
static void state_hint(df_buf *b, const df_migration *m, long done, unsigned int flags)
{
	if (!(flags & SEC_KEPT)) {
		df_buf_printf(b, "nothing of %s was kept (its transaction rolled back)%s",
			flags & SEC_DOWN ? "its DOWN" : "this migration",
			flags & SEC_DOWN ? "; it stays applied" : "");
		return;
	}
	if (flags & SEC_DOWN) {
		if (!done)
			df_buf_printf(b, "no statement of its DOWN ran: '%s' stays applied", m->file);
		else
			df_buf_printf(b, "the %ld statement%s of its DOWN before it ran and %s kept: '%s' is "
				"half reverted and recorded failed", done, done == 1 ? "" : "s",
				done == 1 ? "is" : "are", m->file);
		return;
	}
	if (!done)
		df_buf_printf(b, "nothing of this migration was kept");
	else
		df_buf_printf(b, "nothing of this migration was kept except the %ld statement%s that "
			"ran before it", done, done == 1 ? "" : "s");
}

/*
 * Run every statement of `sec`; *done counts the ones that completed.
 * Stops at the first failure, at an interrupt (DF_EINTERRUPTED), and, in a
 * transaction of ours (SEC_TX), when a statement ended it (DF_EFAILED).
 */
/* A dry-run's statement trace (locktrace.c): where entries go, and the
 * PostgreSQL lock tracer (NULL on MariaDB's shadow database). */
struct trace_ctx {
	df_trace *trace;
	df_tracer *tr;
};

static double now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Record the statement that just ran in the trace; a trace that fails (it
 * should not) is dropped, never the run. */
static void trace_pg(struct trace_ctx *tc, const df_section *sec, uint64_t off,
	const char *sql, size_t len, double ms, bool rewritten)
{
	int line, col;

	if (!tc || !tc->tr)
		return;
	df_file_position(sec->path, off, &line, &col);
	if (df__trace_pg(tc->trace, tc->tr, sql, len, line, ms, rewritten) < 0) {
		df_error_clear();
		tc->tr = NULL;
	}
}

static int run_section(df_conn *conn, const df_migration *m, const df_section *sec,
	long *done, const df_run_opts *opts, unsigned int flags, struct trace_ctx *tc)
{
	struct reader r;
	const char *sql;
	size_t len;
	uint64_t off;
	df_buf rewritten = DF_BUF_INIT, b = DF_BUF_INIT;
	int rc, error = 0, line, col;

	*done = 0;
	if (!sec->path || !sec->len)
		return 0;
	if ((error = df__reader_open(&r, sec, df_conn_dialect(conn))) < 0)
		return error;
	rc = df__reader_next(&r, &sql, &len, &off);
	while (rc == 1) {
		long err_off = -1;
		size_t cut = 0;
		int sig = df_conn_cancelled(conn);
		if (sig)
			goto interrupted;
		if ((flags & SEC_SKIP_TXCTL) && df__tx_control(sql, len)) {
			(*done)++;      /* the dry-run's transaction is the only one */
			rc = df__reader_next(&r, &sql, &len, &off);
			continue;
		}
		if ((opts->flags & DF_RUN_DRY_RUN) && m->no_transaction &&
		    df_conn_dialect(conn) == DF_DIALECT_POSTGRES && df__needs_no_tx(sql, len)) {
			if (!without_concurrently(&rewritten, &cut, sql, len)) {
				(*done)++;      /* VACUUM and the like: nothing to check */
				rc = df__reader_next(&r, &sql, &len, &off);
				continue;
			}
			double t0 = now_ms_f();
			error = df_conn_exec(conn, rewritten.ptr, rewritten.size, &err_off);
			if (error && err_off >= (long)cut)
				err_off += 12;
			if (!error)
				trace_pg(tc, sec, off, sql, len, now_ms_f() - t0, true);
		} else if (tc && !tc->tr && df_conn_dialect(conn) == DF_DIALECT_MYSQL) {
			int asked;
			df_file_position(sec->path, off, &line, &col);
			if (!df__trace_mysql_alter(tc->trace, conn, sql, len, line, &err_off, &asked))
				error = df_conn_exec(conn, sql, len, &err_off);
			else
				error = asked;
		} else {
			double t0 = now_ms_f();
			error = df_conn_exec(conn, sql, len, &err_off);
			if (!error)
				trace_pg(tc, sec, off, sql, len, now_ms_f() - t0, false);
		}
		if ((sig = df_conn_cancelled(conn))) {
			if (!error)
				(*done)++;
			goto interrupted;
		}
		if (error < 0) {
			uint64_t at = off + (err_off >= 0 && (size_t)err_off <= len ? (uint64_t)err_off : 0);
			df_file_position(sec->path, at, &line, &col);
			df_error_pos(sec->path, line, col);
			if (flags & SEC_DOWN) {
				df_buf_truncate(&b, 0);
				df__statement_excerpt(&b, sql, len);
				df_error_prefix("rollback of '%s' failed at %s:%d:%d (%s)", m->file, sec->path,
					line, col, b.ptr);
			} else {
				df_error_prefix("%s:%d:%d", sec->path, line, col);
			}
			if (df_error_last()->code != DF_EPERM && df_error_last()->code != DF_ELOCKED) {
				df_buf_truncate(&b, 0);
				state_hint(&b, m, *done, flags);
				if (flags & SEC_DOWN) {
					bool by_hand = (flags & SEC_KEPT) && *done;
					df_error_hint("%s; fix the DOWN statement at %s:%d:%d%s", b.ptr, sec->path,
						line, col, by_hand ? ", check the database by hand "
						"(`" DF_ERR_CMD(0) "`), then settle it with `" DF_ERR_CMD(1) "`" :
						" and roll back again");
					if (by_hand) {
						df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
						df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, NULL, -1));
					}
				} else
					df_error_hint("fix the statement at %s:%d:%d and run again; %s", sec->path,
						line, col, b.ptr);
			}
			break;
		}
		(*done)++;
		if ((flags & SEC_TX) && df_conn_in_transaction(conn) == 0) {
			/* the statement ended our transaction: what ran is committed */
			df_file_position(sec->path, off, &line, &col);
			error = df_error_set(DF_EFAILED, "%s:%d:%d: this statement ended the transaction "
				"devflow opened for '%s'; the %ld statement%s up to it may be committed",
				sec->path, line, col, m->file, *done, *done == 1 ? "" : "s");
			df_error_pos(sec->path, line, col);
			df_error_hint("check the database by hand (`" DF_ERR_CMD(0) "`), then settle it with "
				"`" DF_ERR_CMD(1) "` or `--rolled-back`; a migration that manages "
				"its own transactions needs the line '-- devflow:no-transaction'");
			df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
			df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, m->version, DF_OPT_APPLIED));
			break;
		}
		if (opts->progress)
			opts->progress(opts->progress_data, m, DF_PROGRESS_STATEMENT, *done, -1);
		rc = df__reader_next(&r, &sql, &len, &off);
		continue;
interrupted:
		df_file_position(sec->path, off, &line, &col);
		error = df_error_set(DF_EINTERRUPTED, "interrupted by %s while %s '%s' (statement %ld, "
			"%s:%d:%d)", signal_name(sig), flags & SEC_DOWN ? "rolling back" : "running",
			m->file, *done + 1, sec->path, line, col);
		df_error_pos(sec->path, line, col);
		df_buf_truncate(&b, 0);
		state_hint(&b, m, *done, flags);
		df_error_hint("%s", b.ptr);
		break;
	}
	if (rc < 0)
		error = rc;
	df__reader_close(&r);
	df_buf_release(&rewritten);
	df_buf_release(&b);
	return error;
}

/*
 * The `applied` mark of a non-transactional migration that finished, not
 * yet written: it goes in the same transaction (and round trip) as the next
 * migration's `running` row, or is flushed before anything else touches the
 * tracking table.  That is one tracking write per migration, as a plain
 * client session would make; a run killed in between leaves the finished
 * migration `running`, shown as interrupted, as a kill during its last
 * statement would.
 */
struct pending_mark {
	const df_migration *mig;
	long ms, done;
};

/* The runner's own state, handed through a source back to the SQL folder's run. */
struct df__runner {
	struct pending_mark later;
	df_tracer *tracer;      /* a PostgreSQL dry-run's lock tracer, or NULL */
};

static int flush_mark(df_conn *conn, const char *table, struct pending_mark *p)
{
	int error = 0;

	if (p->mig)
		error = record_row(conn, table, p->mig, "applied", p->ms, p->done, false);
	p->mig = NULL;
	return error;
}

/* Write `m`'s `running` row, with the pending mark in the same transaction. */
static int mark_running(df_conn *conn, const char *table, const df_migration *m,
	struct pending_mark *p)
{
	struct row_write w[2];
	int error;

	if (!p->mig)
		return record_row(conn, table, m, "running", 0, -1, true);
	row_write_init(&w[0], table, p->mig, "applied", p->ms, p->done, false);
	row_write_init(&w[1], table, m, "running", 0, -1, true);
	if ((error = row_write_check(&w[0])) == 0 && (error = row_write_check(&w[1])) == 0)
		error = df_conn_query_batch(conn, (df_query[]){ w[0].q, w[1].q }, 2);
	row_write_release(&w[0]);
	row_write_release(&w[1]);
	if (error < 0)
		return error;   /* the batch rolled back: the mark is still pending */
	p->mig = NULL;
	return 0;
}

/* Does `m` run outside a transaction, its row written `running` first? */
static bool marks_running(const df_conn *conn, const df_migration *m,
	const df_run_opts *opts, bool rollback)
{
	return !rollback && !(opts->flags & (DF_RUN_DRY_RUN | DF_RUN_SHADOW)) &&
		(m->no_transaction || m->tx_control || !df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL));
}

/* A DOWN's row while it runs: only the state changes, so that a DOWN that
 * fails before its first statement can put `applied` back as it was. */
static int set_state(df_conn *conn, const char *table, const df_migration *m, const char *state)
{
	df_buf sql = DF_BUF_INIT;
	const char *p[] = { state, m->file };
	int error;

	df_buf_printf(&sql, "UPDATE %s SET state = ?, error = NULL WHERE filename = ?", table);
	error = df_buf_oom(&sql) ? df_error_oom() : df_conn_query(conn, NULL, sql.ptr, p, 2);
	df_buf_release(&sql);
	return error;
}

/*
 * Write the honest state of `m` after a failure, keeping the run's error:
 * `failed` with the statements that ran, or (a DOWN that changed nothing)
 * `applied` again.  In a transaction the migration opened itself and left
 * open, that transaction is rolled back first.
 */
static void record_after_failure(df_conn *conn, const char *table, const df_migration *m,
	long done, bool rollback, bool insert)
{
	df_error *saved = df_error_save();
	const char *msg = saved && saved->message ? saved->message : "failed";

	if (df_conn_in_transaction(conn) == 1)
		df_conn_rollback(conn);
	if (rollback && !done)
		set_state(conn, table, m, "applied");
	else if (insert) {
		if (record_row(conn, table, m, "failed", 0, done, true) == 0)
			record_failure(conn, table, m, done, msg);
	} else
		record_failure(conn, table, m, done, msg);
	if (saved)
		df_error_restore(saved);
	else
		df_error_set(DF_EFAILED, "failed");
}

/* Where a failure at the end of `sec` is reported: the section itself. */
static void section_pos(const df_section *sec, const df_migration *m)
{
	const char *path = sec->path ? sec->path : m->path;

	df_error_pos(path, sec->line > 0 ? sec->line : 1, 1);
}

/* The hint of a failure at (or checked before) COMMIT, when the transaction
 * is rolled back. */
static void commit_hint(const df_migration *m, const char *what, bool down)
{
	if (down)
		df_error_hint("nothing of its DOWN was kept (its transaction rolled back); it stays "
			"applied; fix the DOWN of '%s' so that %s, and roll back again", m->file, what);
	else
		df_error_hint("nothing of this migration was kept (its transaction rolled back); fix "
			"'%s' so that %s, and run again", m->file, what);
}

/*
 * What the engine checks only at COMMIT (deferred foreign keys and
 * constraints), checked now: before the real run's COMMIT (again false),
 * or at the end of each migration of a dry-run's transaction (again
 * true), so a dry-run fails where the real run would, with the same
 * message.  A failure is the migration's, reported as a statement's is.
 */
static int check_deferred(df_conn *conn, const df_migration *m, const df_section *sec,
	bool again, bool down)
{
	int error = df_conn_check_deferred(conn, again);

	if (!error)
		return 0;
	df_error_prefix("'%s' cannot commit", m->file);
	section_pos(sec, m);
	if (error != DF_EPERM && error != DF_ELOCKED && error != DF_ECONNREFUSED)
		commit_hint(m, "every foreign key and deferred constraint holds when it ends "
			"(they are checked at COMMIT)", down);
	return error;
}

/*
 * A COMMIT that failed.  SQLite leaves its transaction open (a busy
 * database, a deferred foreign key): roll it back, so nothing the
 * migration did is read as kept afterwards (by the schema read, the plan
 * or the audit row).  Keeps the error; says what is known of the state.
 */
static void commit_failed(df_conn *conn, const df_migration *m, const df_section *sec, bool down)
{
	df_error *saved = df_error_save();
	int in_tx = df_conn_in_transaction(conn);

	if (in_tx == 1) {
		df_conn_rollback(conn);
		in_tx = df_conn_in_transaction(conn);
	}
	if (saved)
		df_error_restore(saved);
	else
		df_error_set(DF_EFAILED, "COMMIT failed");
	df_error_prefix("'%s' cannot commit", m->file);
	section_pos(sec, m);
	if (in_tx == 0 && df_error_last()->code == DF_ELOCKED) {
		df_error_hint("nothing of %s was kept (its transaction rolled back); another "
			"connection held the database when it committed: run again once it is done",
			down ? "its DOWN" : "this migration");
	} else if (in_tx == 0 && df_error_last()->code != DF_ECONNREFUSED) {
		commit_hint(m, "its COMMIT succeeds", down);
	} else {
		df_error_hint("whether the COMMIT of '%s' took effect is not known; check the "
			"database (`" DF_ERR_CMD(0) "`) before anything else", m->file);
		df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	}
}

/*
 * A dry-run on an engine with transactional DDL runs the whole selection in
 * one transaction (`outer_tx`), so later migrations see what earlier ones
 * created, and rolls it all back at the end.
 */
static int apply_one(df_run_step *step, df_conn *conn, const df_migration *m,
	const df_run_opts *opts, bool rollback, bool outer_tx, struct pending_mark *later,
	df_tracer *tracer)
{
	struct trace_ctx tc = { &step->trace, tracer };
	bool dry = opts->flags & DF_RUN_DRY_RUN;
	bool tx = !m->no_transaction && !m->tx_control && df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL);
	const df_section *sec = rollback ? &m->down : &m->up;
	unsigned int down = rollback ? SEC_DOWN : 0;
	long start = now_ms(), done = 0;
	int error;

	step->mig = m;
	if (opts->flags & DF_RUN_SHADOW) {
		error = run_section(conn, m, sec, &done, opts, down | SEC_KEPT,
			df_conn_dialect(conn) == DF_DIALECT_MYSQL && !rollback ? &tc : NULL);
		df__trace_finish(&step->trace, !m->no_transaction && !m->tx_control);
		step->statements = done;
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (dry && outer_tx && (tx || df_conn_dialect(conn) == DF_DIALECT_POSTGRES ||
	    (m->tx_control && df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL)))) {
		/* a no-transaction migration runs inside the dry-run's transaction
		 * with CONCURRENTLY and its own BEGIN/COMMIT left out: the same
		 * checks, no effect */
		error = run_section(conn, m, sec, &done, opts, down | SEC_TX | SEC_SKIP_TXCTL,
			tracer && !rollback ? &tc : NULL);
		if (!error)
			error = check_deferred(conn, m, sec, true, rollback);
		df__trace_finish(&step->trace, !m->no_transaction && !m->tx_control);
		step->statements = done;
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (dry && !tx) {
		/* Cannot run without keeping effects: check that it splits. */
		df_stmt_list stmts = DF_STMT_LIST_INIT;
		error = sec->path ? df_section_split(&stmts, sec, df_conn_dialect(conn)) : 0;
		step->statements = (long)stmts.nr;
		step->not_run = stmts.nr > 0;
		df_stmt_list_release(&stmts);
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (tx) {
		if ((error = df_conn_begin(conn)) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, down | SEC_TX, NULL);
		if (!error)
			error = check_deferred(conn, m, sec, dry, rollback);
		if (!error && !dry)
			error = rollback ? delete_row(conn, opts->table, m) :
				record_row(conn, opts->table, m, "applied", now_ms() - start, done, true);
		if (error == DF_EFAILED && df_conn_in_transaction(conn) == 0) {
			/* a statement ended our transaction: nothing left to roll back;
			 * say what is known in the history */
			if (!dry)
				record_after_failure(conn, opts->table, m, done, false, !rollback);
		} else if (error || dry) {
			int saved = error;
			df_conn_rollback(conn);
			error = saved;
		} else if ((error = df_conn_commit(conn)) < 0) {
			commit_failed(conn, m, sec, rollback);
		}
	} else if (!rollback) {
		if ((error = mark_running(conn, opts->table, m, later)) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, SEC_KEPT, NULL);
		if (error) {
			record_after_failure(conn, opts->table, m, done, false, false);
		} else if (df_conn_in_transaction(conn) == 1) {
			/* it opened a transaction and never ended it: nothing is sure */
			df_conn_rollback(conn);
			error = df_error_set(DF_EFAILED, "'%s' opened a transaction and did not end it; "
				"devflow rolled it back", m->file);
			df_error_hint("end the migration's transaction with COMMIT, then check the database "
				"by hand and settle it with `" DF_ERR_CMD(0) "`");
			df_error_suggest(df_cmd_make(DF_VERB_RESOLVE, m->version, -1));
			record_after_failure(conn, opts->table, m, done, false, false);
		} else {
			later->mig = m;
			later->ms = now_ms() - start;
			later->done = done;
		}
	} else {
		if ((error = set_state(conn, opts->table, m, "running")) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, SEC_DOWN | SEC_KEPT, NULL);
		if (error)
			record_after_failure(conn, opts->table, m, done, true, false);
		else
			error = delete_row(conn, opts->table, m);
	}
	step->statements = done;
	step->duration_ms = now_ms() - start;
	return error;
}

/*
 * One migration of the SQL folder (the folder source's apply and revert):
 * its transaction, statements and tracking row, then the row of the tool
 * whose history devflow mirrors.
 */
int df__run_migration(df_source_run *run, const df_migration *m, bool rollback)
{
	const df_run_opts *opts = run->opts;
	struct df__runner alone = { 0 }, *r = run->runner ? run->runner : &alone;
	int error;

	error = apply_one(run->step, run->conn, m, opts, rollback, run->outer_tx, &r->later, r->tracer);
	if (r == &alone && alone.later.mig) {
		/* run on its own, not by df_run_apply: its `applied` mark now */
		int e = flush_mark(run->conn, opts->table, &alone.later);
		if (!error)
			error = e;
	}
	if (!error && opts->mirror && !(opts->flags & (DF_RUN_DRY_RUN | DF_RUN_SHADOW)))
		error = df_tool_record(run->conn, opts->mirror, opts->mirror_set, m, rollback);
	return error;
}

int df_run_sql_file(df_conn *conn, const char *path, long *statements)
{
	df_section sec = { 0 };
	struct stat st;
	df_migration m = { 0 };
	df_run_opts o = { 0 };

	*statements = 0;
	if (stat(path, &st) < 0)
		return df_error_set(DF_ECONFIG, "cannot read '%s': %s", path, strerror(errno));
	sec.path = (char *)path;
	sec.len = (uint64_t)st.st_size;
	sec.line = 1;
	m.file = (char *)path;
	return run_section(conn, &m, &sec, statements, &o, 0, NULL);
}

/* Here, not in source.c: the runner calls its source, never the other way
 * round (source.c runs each folder migration through df__run_migration). */
int df_source_valid(const df_source *src)
{
	if (!src)
		return df_error_set(DF_EINTERNAL, "no migration source");
	if (src->version != DF_SOURCE_VERSION)
		return df_error_set(DF_EINTERNAL, "a migration source of version %u, not %u",
			src->version, DF_SOURCE_VERSION);
	if (!src->list || !src->sql || !src->check || !src->apply || !src->revert || !src->record)
		return df_error_set(DF_EINTERNAL, "a migration source without all its operations");
	return 0;
}

int df_run_apply(df_run_result *out, df_conn *conn, const df_migration **migs,
	size_t nr, const df_run_opts *opts, bool rollback)
{
	bool outer_tx = (opts->flags & DF_RUN_DRY_RUN) && df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL);
	const df_source *src = opts->source;   /* the caller says which (the folder's:
	                                           df_source_sql_folder()) */
	struct df__runner runner = { 0 };
	df_tracer tracer;
	bool tracing = false;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if ((error = df_source_valid(src)) < 0)
		return error;
	df__tracer_init(&tracer, conn, opts->table);
	if (!(out->steps = calloc(nr + 1, sizeof(*out->steps))))
		return df_error_oom();
	out->failed_step = nr;
	/* a PostgreSQL dry-run traces the locks each statement takes; what
	 * exists is read before the transaction (a failed read there would
	 * abort it) */
	if (outer_tx && df_conn_dialect(conn) == DF_DIALECT_POSTGRES) {
		if (df__tracer_start(&tracer) == 0)
			tracing = true;
		else
			df_error_clear();
	}
	if (outer_tx && (error = df_conn_begin(conn)) < 0) {
		df__tracer_release(&tracer);
		return error;
	}
	for (size_t i = 0; i < nr; i++) {
		const df_migration *m = migs[i];
		int sig = df_conn_cancelled(conn);
		if (sig) {
			error = df_error_set(DF_EINTERRUPTED, "interrupted by %s before '%s'; %zu of %zu "
				"migration%s ran", signal_name(sig), m->file, i, nr, nr == 1 ? "" : "s");
			df_error_hint("nothing of '%s' ran; `" DF_ERR_CMD(0) "` shows the state", m->file);
			df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
			out->failed_step = i;
			break;
		}
		if (rollback && !df_migration_reversible(m)) {
			/* the caller checks first; this is the last line of defence */
			error = df_error_set(DF_EGATE, "migration '%s' is irreversible (no DOWN section)", m->file);
			out->failed_step = i;
			break;
		}
		if (opts->progress)
			opts->progress(opts->progress_data, m, DF_PROGRESS_START, (long)i, (long)nr);
		if (!marks_running(conn, m, opts, rollback) &&
		    (error = flush_mark(conn, opts->table, &runner.later)) < 0) {
			out->failed_step = i - 1;
			out->steps[out->nr - 1].error = error;
			break;
		}
		if (m->repeatable && !rollback && !(opts->flags & (DF_RUN_DRY_RUN | DF_RUN_SHADOW)) &&
		    (error = src->record(src, conn, opts->table, m, DF_RECORD_REVERTED, 0, 0)) < 0) {
			out->failed_step = i;   /* its changed version runs again: a new row */
			break;
		}
		runner.tracer = tracing ? &tracer : NULL;
		{
			df_source_run run = { conn, opts, &out->steps[out->nr], outer_tx, &runner };
			error = rollback ? src->revert(src, &run, m) : src->apply(src, &run, m);
		}
		out->steps[out->nr].error = error;
		out->nr++;
		if (opts->progress && opts->progress(opts->progress_data, m, DF_PROGRESS_DONE,
			(long)i + 1, (long)nr) != 0 && !error && i + 1 < nr) {
			/* the caller said stop: nothing more starts */
			error = df_error_set(DF_EINTERRUPTED, "stopped after '%s'; %zu of %zu "
				"migration%s ran", m->file, i + 1, nr, nr == 1 ? "" : "s");
			out->failed_step = i + 1;
			break;
		}
		if (error) {
			out->failed_step = i;
			break;          /* stop at the first failure; never retry */
		}
	}
	if (runner.later.mig) {
		/* the last one's mark; after a failure, the one before the failing one */
		int e = flush_mark(conn, opts->table, &runner.later);
		if (e < 0 && !error) {
			error = e;
			out->failed_step = out->nr - 1;
			out->steps[out->nr - 1].error = e;
		}
	}
	if (outer_tx) {
		/* keep the run's error, if any, over the rollback's */
		if (error) {
			df_error *saved = df_error_save();
			df_conn_rollback(conn);
			if (saved)
				df_error_restore(saved);
			else
				df_error_set(DF_EFAILED, "dry-run failed");
		} else {
			if (opts->before_rollback)
				opts->before_rollback(opts->before_rollback_data, conn);
			error = df_conn_rollback(conn);
		}
	}
	if (error && error != DF_EINTERRUPTED && df_conn_cancelled(conn)) {
		/* a tracking write or a commit the cancel broke: still an interrupt */
		int sig = df_conn_cancelled(conn);
		df_error_prefix("interrupted by %s", signal_name(sig));
		((df_error *)df_error_last())->code = DF_EINTERRUPTED;
		error = DF_EINTERRUPTED;
	}
	df__tracer_release(&tracer);
	return error;
}
