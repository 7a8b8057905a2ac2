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
 * incremental splitter, so a 1 GB migration needs one window of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

#define WINDOW (1024 * 1024)

struct reader {
	int fd;
	const df_section *sec;
	df_sql_scanner sc;
	char *buf;
	size_t len, cap;
	uint64_t base;          /* section-relative offset of buf[0] */
	uint64_t read;          /* section bytes read so far */
	bool borrowed;          /* buf is the section's preloaded bytes */
};

static int reader_open(struct reader *r, const df_section *sec, df_dialect d)
{
	memset(r, 0, sizeof(*r));
	r->sec = sec;
	df_sql_scanner_init(&r->sc, d);
	if (sec->mem) {
		/* preloaded: the whole section is the window, nothing to read */
		r->fd = -1;
		r->buf = (char *)sec->mem;
		r->len = r->cap = (size_t)sec->len;
		r->read = sec->len;
		r->borrowed = true;
		return 0;
	}
	if ((r->fd = open(sec->path, O_RDONLY | O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", sec->path, strerror(errno));
	if (!(r->buf = malloc(WINDOW))) {
		close(r->fd);
		return df_error_oom();
	}
	r->cap = WINDOW;
	return 0;
}

static void reader_close(struct reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (!r->borrowed)
		free(r->buf);
	r->buf = NULL;
	r->fd = -1;
}

/*
 * The next statement: 1 with *sql and *len (valid until the next call) and *off
 * (absolute in the file); 0 at the end; <0 on error (position set).
 */
static int reader_next(struct reader *r, const char **sql, size_t *len, uint64_t *off)
{
	for (;;) {
		df_stmt st;
		bool eof = r->read == r->sec->len;
		int rc = df_sql_scanner_next(&r->sc, &st, r->buf, r->len, eof);

		if (rc < 0) {
			int line, col;
			df_file_position(r->sec->path, r->sec->off + r->sc.error_offset, &line, &col);
			df_error_pos(r->sec->path, line, col);
			df_error_prefix("%s:%d:%d", r->sec->path, line, col);
			return rc;
		}
		if (rc == 1) {
			*sql = r->buf + (st.offset - r->base);
			*len = st.len;
			*off = r->sec->off + st.offset;
			return 1;
		}
		if (eof)
			return 0;
		/* drop what the scanner no longer needs, then read more */
		uint64_t keep = df_sql_scanner_keep_from(&r->sc);
		if (keep > r->base) {
			size_t drop = (size_t)(keep - r->base);
			if (drop > r->len)
				drop = r->len;
			memmove(r->buf, r->buf + drop, r->len - drop);
			r->len -= drop;
			r->base += drop;
			df_sql_scanner_rebase(&r->sc, r->base);
		}
		if (r->len == r->cap) {
			char *nb = realloc(r->buf, r->cap * 2);
			if (!nb)
				return df_error_oom();
			r->buf = nb;
			r->cap *= 2;
		}
		size_t want = r->cap - r->len;
		if (want > r->sec->len - r->read)
			want = (size_t)(r->sec->len - r->read);
		ssize_t n = pread(r->fd, r->buf + r->len, want, (off_t)(r->sec->off + r->read));
		if (n < 0)
			return df_error_set(DF_EIO, "cannot read '%s': %s", r->sec->path, strerror(errno));
		if (n == 0)
			return df_error_set(DF_EIO, "'%s' got shorter while devflow read it", r->sec->path);
		r->len += (size_t)n;
		r->read += (uint64_t)n;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void df_run_result_release(df_run_result *r)
{
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
			if (opts->to_version && df_version_cmp(it->mig->version, opts->to_version) > 0)
				break;
			v[n++] = it->mig;
		}
	} else {
		long want = opts->to_version ? -1 : (opts->steps > 0 ? opts->steps : 1);
		for (size_t i = plan->nr; i-- > 0;) {
			const df_plan_item *it = &plan->items[i];
			if (it->state == DF_STATE_PENDING)
				continue;
			if (opts->to_version && df_version_cmp(it->row ? it->row->version : it->mig->version,
				opts->to_version) <= 0)
				break;
			if (want >= 0 && (long)n >= want)
				break;
			if (!it->mig) {
				free(v);
				df_error_set(DF_EMISSING, "cannot roll back '%s': its file is gone",
					it->row->filename);
				df_error_hint("restore the file, or settle it with `devflow db resolve %s --rolled-back`",
					it->row->version);
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
	const char *p[7];
	df_query q;
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
		const char *p[] = { m->file, m->version, m->checksum, w->dur.ptr, df_whoami(), state,
			done >= 0 ? w->cnt.ptr : NULL };
		memcpy(w->p, p, sizeof(p));
		w->q.nparams = 7;
		df_buf_printf(&w->sql, "INSERT INTO %s (filename, version, checksum, duration_ms, "
			"applied_by, state, statements_done, applied_at) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)", table);
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

static const char *needs_no_tx(const char *sql, size_t len);

/*
 * For a dry-run inside a transaction: the statement without its
 * CONCURRENTLY keyword (in `b`), and where it was cut (*cut; 0: not cut).
 * Returns false for statements that cannot be rewritten (VACUUM ...).
 */
static bool without_concurrently(df_buf *b, size_t *cut, const char *sql, size_t len)
{
	const char *what = needs_no_tx(sql, len);
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

/*
 * Run every statement of `sec`; *done counts the ones that completed.
 * `kept`: statements that ran stay even when a later one fails (engines
 * whose DDL commits by itself, no-transaction migrations).
 */
static int run_section(df_conn *conn, const df_migration *m, const df_section *sec,
	long *done, const df_run_opts *opts, bool kept)
{
	struct reader r;
	const char *sql;
	size_t len;
	uint64_t off;
	df_buf rewritten = DF_BUF_INIT;
	int rc, error = 0;

	*done = 0;
	if (!sec->path || !sec->len)
		return 0;
	if ((error = reader_open(&r, sec, df_conn_dialect(conn))) < 0)
		return error;
	rc = reader_next(&r, &sql, &len, &off);
	while (rc == 1) {
		long err_off = -1;
		size_t cut = 0;
		if ((opts->flags & DF_RUN_DRY_RUN) && m->no_transaction &&
		    df_conn_dialect(conn) == DF_DIALECT_POSTGRES && needs_no_tx(sql, len)) {
			if (!without_concurrently(&rewritten, &cut, sql, len)) {
				(*done)++;      /* VACUUM and the like: nothing to check */
				rc = reader_next(&r, &sql, &len, &off);
				continue;
			}
			error = df_conn_exec(conn, rewritten.ptr, rewritten.size, &err_off);
			if (error && err_off >= (long)cut)
				err_off += 12;
		} else {
			error = df_conn_exec(conn, sql, len, &err_off);
		}
		if (error < 0) {
			int line, col;
			uint64_t at = off + (err_off >= 0 && (size_t)err_off <= len ? (uint64_t)err_off : 0);
			df_file_position(sec->path, at, &line, &col);
			df_error_pos(sec->path, line, col);
			df_error_prefix("%s:%d:%d", sec->path, line, col);
			if (df_error_last()->code != DF_EPERM && df_error_last()->code != DF_ELOCKED)
				df_error_hint("fix the statement at %s:%d:%d and run again; nothing of this "
					"migration was kept%s", sec->path, line, col,
					kept ? " except the statements that ran before it" : "");
			break;
		}
		(*done)++;
		if (opts->progress)
			opts->progress(opts->progress_data, m, DF_PROGRESS_STATEMENT, *done, -1);
		rc = reader_next(&r, &sql, &len, &off);
	}
	if (rc < 0)
		error = rc;
	reader_close(&r);
	df_buf_release(&rewritten);
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
		(m->no_transaction || !df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL));
}

/*
 * A dry-run on an engine with transactional DDL runs the whole selection in
 * one transaction (`outer_tx`), so later migrations see what earlier ones
 * created, and rolls it all back at the end.
 */
static int apply_one(df_run_step *step, df_conn *conn, const df_migration *m,
	const df_run_opts *opts, bool rollback, bool outer_tx, struct pending_mark *later)
{
	bool dry = opts->flags & DF_RUN_DRY_RUN;
	bool tx = !m->no_transaction && df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL);
	const df_section *sec = rollback ? &m->down : &m->up;
	long start = now_ms(), done = 0;
	int error;

	step->mig = m;
	if (opts->flags & DF_RUN_SHADOW) {
		error = run_section(conn, m, sec, &done, opts, false);
		step->statements = done;
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (dry && outer_tx && (tx || df_conn_dialect(conn) == DF_DIALECT_POSTGRES)) {
		/* a no-transaction migration runs inside the dry-run's transaction
		 * with CONCURRENTLY left out: the same checks, no effect */
		error = run_section(conn, m, sec, &done, opts, false);
		step->statements = done;
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (dry && !tx) {
		/* Cannot run without keeping effects: check that it splits. */
		df_stmt_list stmts = DF_STMT_LIST_INIT;
		error = sec->path ? df_section_split(&stmts, sec, df_conn_dialect(conn)) : 0;
		step->statements = (long)stmts.nr;
		df_stmt_list_release(&stmts);
		step->duration_ms = now_ms() - start;
		return error;
	}
	if (tx) {
		if ((error = df_conn_begin(conn)) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, false);
		if (!error && !dry)
			error = rollback ? delete_row(conn, opts->table, m) :
				record_row(conn, opts->table, m, "applied", now_ms() - start, done, true);
		if (error || dry) {
			int saved = error;
			df_conn_rollback(conn);
			error = saved;
		} else {
			error = df_conn_commit(conn);
		}
	} else if (!rollback) {
		if ((error = mark_running(conn, opts->table, m, later)) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, true);
		if (error) {
			const df_error *e = df_error_last();
			char *msg = strdup(e && e->message ? e->message : "failed");
			record_failure(conn, opts->table, m, done, msg ? msg : "failed");
			free(msg);
		} else {
			later->mig = m;
			later->ms = now_ms() - start;
			later->done = done;
		}
	} else {
		if ((error = record_row(conn, opts->table, m, "running", 0, -1, false)) < 0)
			return error;
		error = run_section(conn, m, sec, &done, opts, true);
		if (error) {
			const df_error *e = df_error_last();
			char *msg = strdup(e && e->message ? e->message : "failed");
			record_failure(conn, opts->table, m, done, msg ? msg : "rollback failed");
			free(msg);
		} else {
			error = delete_row(conn, opts->table, m);
		}
	}
	step->statements = done;
	step->duration_ms = now_ms() - start;
	return error;
}

/* The first `max` keywords of a statement, upper-cased, space-separated. */
static void first_words(char *out, size_t size, const char *sql, size_t len, int max)
{
	size_t o = 0, i = 0;
	int words = 0;

	while (i < len && words < max && o + 2 < size) {
		while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
			i++;
		if (i + 1 < len && sql[i] == '-' && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
			continue;
		}
		if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*') {
			const char *end = memmem(sql + i + 2, len - i - 2, "*/", 2);
			i = end ? (size_t)(end - sql) + 2 : len;
			continue;
		}
		if (i >= len)
			break;
		if (o)
			out[o++] = ' ';
		while (i < len && o + 1 < size && ((sql[i] >= 'a' && sql[i] <= 'z') ||
		       (sql[i] >= 'A' && sql[i] <= 'Z') || sql[i] == '_'))
			out[o++] = (char)(sql[i] >= 'a' && sql[i] <= 'z' ? sql[i] - 32 : sql[i]), i++;
		if (i < len && !((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z') ||
		    sql[i] == '_' || sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
			break;      /* stop at the first non-word token */
		words++;
	}
	out[o] = '\0';
}

/*
 * PostgreSQL statements that cannot run inside a transaction block; NULL
 * when `sql` is not one of them.
 */
static const char *needs_no_tx(const char *sql, size_t len)
{
	char w[128];

	first_words(w, sizeof(w), sql, len, 6);
	if (!strncmp(w, "CREATE INDEX CONCURRENTLY", 25) ||
	    !strncmp(w, "CREATE UNIQUE INDEX CONCURRENTLY", 32))
		return "CREATE INDEX CONCURRENTLY";
	if (!strncmp(w, "DROP INDEX CONCURRENTLY", 23))
		return "DROP INDEX CONCURRENTLY";
	if (!strncmp(w, "REINDEX", 7) && strstr(w, "CONCURRENTLY"))
		return "REINDEX CONCURRENTLY";
	if (!strncmp(w, "VACUUM", 6))
		return "VACUUM";
	if (!strncmp(w, "CREATE DATABASE", 15) || !strncmp(w, "DROP DATABASE", 13))
		return w[0] == 'C' ? "CREATE DATABASE" : "DROP DATABASE";
	if (!strncmp(w, "ALTER SYSTEM", 12))
		return "ALTER SYSTEM";
	if (!strncmp(w, "CREATE TABLESPACE", 17) || !strncmp(w, "DROP TABLESPACE", 15))
		return "a TABLESPACE statement";
	return NULL;
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
	return run_section(conn, &m, &sec, statements, &o, false);
}

int df_run_check(const df_migration **migs, size_t nr, df_dialect d, bool rollback)
{
	for (size_t i = 0; i < nr; i++) {
		const df_section *sec = rollback ? &migs[i]->down : &migs[i]->up;
		struct reader r;
		const char *sql;
		size_t len;
		uint64_t off;
		int rc, error;

		if (!sec->path || !sec->len)
			continue;
		if ((error = reader_open(&r, sec, d)) < 0)
			return error;
		while ((rc = reader_next(&r, &sql, &len, &off)) == 1) {
			const char *what;
			if (d != DF_DIALECT_POSTGRES || migs[i]->no_transaction || !(what = needs_no_tx(sql, len)))
				continue;
			int line, col;
			df_file_position(sec->path, off, &line, &col);
			df_error_set(DF_ECONFIG, "%s:%d:%d: %s cannot run inside a transaction, and "
				"'%s' runs in one", sec->path, line, col, what, migs[i]->file);
			df_error_pos(sec->path, line, col);
			df_error_hint("add the line '-- devflow:no-transaction' before '-- UP' (and keep "
				"that migration to this one statement); nothing was applied");
			reader_close(&r);
			return DF_ECONFIG;
		}
		reader_close(&r);
		if (rc < 0) {
			df_error_hint("fix %s; nothing was applied", sec->path);
			return rc;
		}
	}
	return 0;
}

int df_run_apply(df_run_result *out, df_conn *conn, const df_migration **migs,
	size_t nr, const df_run_opts *opts, bool rollback)
{
	bool outer_tx = (opts->flags & DF_RUN_DRY_RUN) && df_conn_has(conn, DF_CAP_TRANSACTIONAL_DDL);
	struct pending_mark later = { 0 };
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!(out->steps = calloc(nr + 1, sizeof(*out->steps))))
		return df_error_oom();
	out->failed_step = nr;
	if (outer_tx && (error = df_conn_begin(conn)) < 0)
		return error;
	for (size_t i = 0; i < nr; i++) {
		const df_migration *m = migs[i];
		if (rollback && !df_migration_reversible(m)) {
			/* the caller checks first; this is the last line of defence */
			error = df_error_set(DF_EGATE, "migration '%s' is irreversible (no DOWN section)", m->file);
			out->failed_step = i;
			break;
		}
		if (opts->progress)
			opts->progress(opts->progress_data, m, DF_PROGRESS_START, (long)i, (long)nr);
		if (!marks_running(conn, m, opts, rollback) &&
		    (error = flush_mark(conn, opts->table, &later)) < 0) {
			out->failed_step = i - 1;
			out->steps[out->nr - 1].error = error;
			break;
		}
		error = apply_one(&out->steps[out->nr], conn, m, opts, rollback, outer_tx, &later);
		out->steps[out->nr].error = error;
		out->nr++;
		if (opts->progress)
			opts->progress(opts->progress_data, m, DF_PROGRESS_DONE, (long)i + 1, (long)nr);
		if (error) {
			out->failed_step = i;
			break;          /* stop at the first failure; never retry */
		}
	}
	if (later.mig) {
		/* the last one's mark; after a failure, the one before the failing one */
		int e = flush_mark(conn, opts->table, &later);
		if (e < 0 && !error) {
			error = e;
			out->failed_step = out->nr - 1;
			out->steps[out->nr - 1].error = e;
		}
	}
	if (outer_tx) {
		/* keep the run's error, if any, over the rollback's */
		if (error) {
			const df_error *e = df_error_last();
			char *m = strdup(e->message), *h = e->hint ? strdup(e->hint) : NULL;
			char *f = e->file ? strdup(e->file) : NULL;
			int code = e->code, line = e->line, col = e->column;
			df_conn_rollback(conn);
			df_error_set(code, "%s", m ? m : "dry-run failed");
			if (h)
				df_error_hint("%s", h);
			if (f)
				df_error_pos(f, line, col);
			free(m);
			free(h);
			free(f);
		} else {
			error = df_conn_rollback(conn);
		}
	}
	return error;
}
