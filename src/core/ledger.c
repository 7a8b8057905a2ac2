/*
 * The tracking table (`_migrations` by default) and the audit log
 * (`<table>_audit`).  An existing three-column table (id, filename,
 * applied_at) is adopted by adding the columns devflow needs; no row is lost.
 */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/cmd.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/sha256.h"
#include "util/banned.h"

/* Columns devflow adds to an adopted table, per dialect, and the table
 * version that added each. */
struct col {
	const char *name;
	const char *type[3];    /* sqlite, postgres, mysql */
	int since;
};

static const struct col extra_cols[] = {
	{ "version", { "TEXT", "VARCHAR(64)", "VARCHAR(64)" }, 1 },
	{ "checksum", { "TEXT", "VARCHAR(64)", "VARCHAR(64)" }, 1 },
	{ "duration_ms", { "INTEGER", "BIGINT", "BIGINT" }, 1 },
	{ "applied_by", { "TEXT", "VARCHAR(255)", "VARCHAR(255)" }, 1 },
	{ "state", { "TEXT", "VARCHAR(16)", "VARCHAR(16)" }, 1 },
	{ "statements_done", { "INTEGER", "INTEGER", "INTEGER" }, 1 },
	{ "error", { "TEXT", "TEXT", "TEXT" }, 1 },
	/* the UP's own checksum: a DOWN edited after its migration ran is not a
	 * changed migration (df_ledger_row_check) */
	{ "up_checksum", { "TEXT", "VARCHAR(64)", "VARCHAR(64)" }, 2 },
};
#define NCOLS (sizeof(extra_cols) / sizeof(extra_cols[0]))

static int run(df_conn *conn, const char *sql)
{
	return df_conn_query(conn, NULL, sql, NULL, 0);
}

const char *df_hostname(char *buf, size_t size)
{
	char host[256];

	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	snprintf(buf, size, "%s", host);
	return buf;
}

const char *df_whoami(char *buf, size_t size)
{
	const char *u = getenv("USER");
	char host[256], pwbuf[1024];
	struct passwd pw, *found = NULL;

	if ((!u || !*u) && getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
		u = found->pw_name;
	snprintf(buf, size, "%s@%s", u && *u ? u : "unknown", df_hostname(host, sizeof(host)));
	return buf;
}

/* Another run may create the table between our look and our CREATE. */
static bool has_column(df_conn *conn, const char *table, const char *col)
{
	df_rows *cols = NULL;
	bool found = false;

	if (df_conn_table_columns(conn, &cols, table) == 0)
		for (size_t r = 0; r < cols->nrows && !found; r++)
			found = !col || !strcmp(df_rows_get(cols, r, 0), col);
	df_rows_free(cols);
	return found;
}

static bool exists_now(df_conn *conn, const char *table)
{
	return has_column(conn, table, NULL);
}

/* The tables of version 1 (less the columns added since), adopting a table
 * of the seeds' three columns. */
static int ensure_tables(df_conn *conn, const char *table)
{
	df_dialect d = df_conn_dialect(conn);
	df_buf sql = DF_BUF_INIT, audit = DF_BUF_INIT;
	df_rows *cols = NULL;
	int error;

	if ((error = df_conn_table_columns(conn, &cols, table)) < 0)
		goto out;
	if (!cols->nrows) {
		switch (d) {
		case DF_DIALECT_POSTGRES:
			df_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (id BIGSERIAL PRIMARY KEY, "
				"filename VARCHAR(255) NOT NULL UNIQUE, "
				"applied_at TIMESTAMPTZ NOT NULL DEFAULT now()", table);
			break;
		case DF_DIALECT_MYSQL:
			df_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
				"filename VARCHAR(255) NOT NULL UNIQUE, "
				"applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP", table);
			break;
		default:
			df_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY AUTOINCREMENT, "
				"filename TEXT NOT NULL UNIQUE, "
				"applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP", table);
		}
		for (size_t i = 0; i < sizeof(extra_cols) / sizeof(extra_cols[0]); i++)
			df_buf_printf(&sql, ", %s %s", extra_cols[i].name, extra_cols[i].type[d]);
		df_buf_puts(&sql, ")");
		if ((error = run(conn, sql.ptr)) < 0 && !exists_now(conn, table))
			goto out;
		error = 0;
	} else {
		bool has_filename = false;
		for (size_t r = 0; r < cols->nrows; r++)
			if (!strcmp(df_rows_get(cols, r, 0), "filename"))
				has_filename = true;
		if (!has_filename) {
			error = df_error_set(DF_ECONFIG, "table '%s' exists but has no 'filename' column", table);
			df_error_hint("it belongs to another tool; set [project] table = ... in devflow.conf");
			goto out;
		}
		for (size_t i = 0; i < sizeof(extra_cols) / sizeof(extra_cols[0]); i++) {
			bool found = false;
			for (size_t r = 0; r < cols->nrows && !found; r++)
				found = !strcmp(df_rows_get(cols, r, 0), extra_cols[i].name);
			if (found)
				continue;
			df_buf_truncate(&sql, 0);
			df_buf_printf(&sql, "ALTER TABLE %s ADD COLUMN %s %s", table,
				extra_cols[i].name, extra_cols[i].type[d]);
			if ((error = run(conn, sql.ptr)) < 0 && !has_column(conn, table, extra_cols[i].name))
				goto out;
			error = 0;
		}
	}
	switch (d) {
	case DF_DIALECT_POSTGRES:
		df_buf_printf(&audit, "CREATE TABLE IF NOT EXISTS %s_audit (id BIGSERIAL PRIMARY KEY, "
			"at TIMESTAMPTZ NOT NULL DEFAULT now(), op VARCHAR(32) NOT NULL, env VARCHAR(64), "
			"target TEXT, os_user VARCHAR(255), host VARCHAR(255), result VARCHAR(16), "
			"summary TEXT, receipt TEXT, server TEXT, detail TEXT)", table);
		break;
	case DF_DIALECT_MYSQL:
		df_buf_printf(&audit, "CREATE TABLE IF NOT EXISTS %s_audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
			"at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, op VARCHAR(32) NOT NULL, env VARCHAR(64), "
			"target TEXT, os_user VARCHAR(255), host VARCHAR(255), result VARCHAR(16), "
			"summary TEXT, receipt TEXT, server TEXT, detail TEXT)", table);
		break;
	default:
		df_buf_printf(&audit, "CREATE TABLE IF NOT EXISTS %s_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "
			"at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, op TEXT NOT NULL, env TEXT, "
			"target TEXT, os_user TEXT, host TEXT, result TEXT, "
			"summary TEXT, receipt TEXT, server TEXT, detail TEXT)", table);
	}
	df_buf_truncate(&sql, 0);
	df_buf_printf(&sql, "%s_audit", table);
	if ((error = run(conn, audit.ptr)) < 0 && exists_now(conn, sql.ptr))
		error = 0;
out:
	if (df_buf_oom(&sql) || df_buf_oom(&audit))
		error = df_error_oom();
	df_rows_free(cols);
	df_buf_release(&sql);
	df_buf_release(&audit);
	return error;
}

/* ---- the version of devflow's own tables ---------------------------------- */

/*
 * devflow's tables have a version, a row of `<table>_meta`:
 *   0  a table of another tool's three columns (id, filename, applied_at),
 *      adopted by adding devflow's columns
 *   1  the tracking table and its audit log as devflow first shipped them
 *      (no `_meta` table: its version is 1 when every column is there)
 *   2  `up_checksum` on the tracking table; `<table>_meta` holds the version
 * An upgrade runs under the migration lock (the session takes it before
 * ensuring the tables), in one transaction where the engine's DDL is
 * transactional (SQLite, PostgreSQL; MariaDB commits each DDL statement,
 * and every step is safe to run again), and leaves an audit row.
 */

static int meta_name(df_buf *b, const char *table)
{
	df_buf_truncate(b, 0);
	df_buf_printf(b, "%s_meta", table);
	return df_buf_oom(b) ? df_error_oom() : 0;
}

int df_ledger_version(int *out, df_conn *conn, const char *table)
{
	df_buf meta = DF_BUF_INIT;
	df_rows *cols = NULL, *rows = NULL;
	size_t have = 0, v1 = 0;
	int error;

	*out = DF_LEDGER_NONE;
	if ((error = meta_name(&meta, table)) < 0 ||
	    (error = df_conn_table_columns(conn, &cols, meta.ptr)) < 0)
		goto out;
	if (cols->nrows) {
		df_buf sql = DF_BUF_INIT;
		const char *v;
		df_buf_printf(&sql, "SELECT value FROM %s WHERE name = 'table_version'", meta.ptr);
		error = df_buf_oom(&sql) ? df_error_oom() : df_conn_query(conn, &rows, sql.ptr, NULL, 0);
		df_buf_release(&sql);
		if (error < 0)
			goto out;
		if (rows->nrows && (v = df_rows_get(rows, 0, 0)) && *v) {
			*out = atoi(v);
			goto out;
		}
	}
	df_rows_free(cols);
	cols = NULL;
	if ((error = df_conn_table_columns(conn, &cols, table)) < 0 || !cols->nrows)
		goto out;
	for (size_t i = 0; i < NCOLS; i++) {
		bool found = false;
		for (size_t r = 0; r < cols->nrows && !found; r++)
			found = !strcmp(df_rows_get(cols, r, 0), extra_cols[i].name);
		v1 += extra_cols[i].since == 1;
		have += found && extra_cols[i].since == 1;
	}
	*out = have == v1 ? 1 : 0;
out:
	df_rows_free(cols);
	df_rows_free(rows);
	df_buf_release(&meta);
	return error;
}

int df_ledger_version_refuse(int version)
{
	df_error_set(DF_ECONFIG, "devflow's tables in this database are at version %d, newer than "
		"this devflow knows (version %d): upgrade devflow", version, DF_LEDGER_VERSION);
	df_error_hint("a newer devflow wrote this database; upgrade devflow before writing to it "
		"(`" DF_ERR_CMD(0) "` and `" DF_ERR_CMD(1) "` still read it)");
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	df_error_suggest(df_cmd_make(DF_VERB_HISTORY, NULL, -1));
	return DF_ECONFIG;
}

static int upgrade(df_conn *conn, const char *table, int from)
{
	df_buf meta = DF_BUF_INIT, sql = DF_BUF_INIT, sum = DF_BUF_INIT;
	char to[16];
	const char *p[] = { to };
	bool tx = false;
	int error;

	if (df_conn_dialect(conn) != DF_DIALECT_MYSQL && df_conn_in_transaction(conn) == 0) {
		if ((error = df_conn_begin(conn)) < 0)
			goto out;
		tx = true;
	}
	snprintf(to, sizeof(to), "%d", DF_LEDGER_VERSION);
	if ((error = ensure_tables(conn, table)) < 0 || (error = meta_name(&meta, table)) < 0)
		goto out;
	df_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (name VARCHAR(64) NOT NULL PRIMARY KEY, "
		"value VARCHAR(255))", meta.ptr);
	if (df_buf_oom(&sql)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = run(conn, sql.ptr)) < 0)
		goto out;
	df_buf_truncate(&sql, 0);
	df_buf_printf(&sql, "DELETE FROM %s WHERE name = 'table_version'", meta.ptr);
	if ((error = run(conn, sql.ptr)) < 0)
		goto out;
	df_buf_truncate(&sql, 0);
	df_buf_printf(&sql, "INSERT INTO %s (name, value) VALUES ('table_version', ?)", meta.ptr);
	if ((error = df_conn_query(conn, NULL, sql.ptr, p, 1)) < 0)
		goto out;
	if (from >= 1) {
		/* devflow's own tables changed: the audit says when, and by whom */
		df_audit_entry e = { .op = "upgrade", .result = "ok" };
		df_buf_printf(&sum, "devflow's tables upgraded from version %d to %d", from, DF_LEDGER_VERSION);
		e.summary = sum.ptr;
		if (df_buf_oom(&sum)) {
			error = df_error_oom();
			goto out;
		}
		if ((error = df_audit_append(conn, table, &e)) < 0)
			goto out;
	}
	if (tx) {
		tx = false;
		if ((error = df_conn_commit(conn)) < 0)
			goto out;
	}
out:
	if (tx) {
		df_error *saved = df_error_save();
		df_conn_rollback(conn);
		if (saved)
			df_error_restore(saved);
	}
	if (error < 0 && from >= 1)
		df_error_prefix("cannot upgrade devflow's tables from version %d to %d", from, DF_LEDGER_VERSION);
	df_buf_release(&meta);
	df_buf_release(&sql);
	df_buf_release(&sum);
	return error;
}

int df_ledger_ensure(df_conn *conn, const char *table)
{
	int version, error;

	if ((error = df_ledger_version(&version, conn, table)) < 0)
		return error;
	if (version == DF_LEDGER_VERSION)
		return 0;
	if (version > DF_LEDGER_VERSION)
		return df_ledger_version_refuse(version);
	return upgrade(conn, table, version);
}

/*
 * A time column as UTC: MariaDB's DATETIME holds the session's local time
 * (CURRENT_TIMESTAMP), PostgreSQL's text carries its offset and SQLite's is
 * UTC already; df_time_iso() writes them all the same way.
 */
static const char *utc(char *buf, size_t size, df_conn *conn, const char *col)
{
	if (df_conn_dialect(conn) != DF_DIALECT_MYSQL)
		return col;
	snprintf(buf, size, "CONVERT_TZ(%s, @@session.time_zone, '+00:00')", col);
	return buf;
}

static char *take(df_rows *rows, size_t r, size_t c)
{
	char **cell = &rows->cells[r * rows->ncols + c], *s = *cell;

	*cell = NULL;
	return s;
}

void df_ledger_row_release(df_ledger_row *r)
{
	free(r->filename);
	free(r->version);
	free(r->checksum);
	free(r->applied_at);
	free(r->applied_by);
	free(r->error);
	free(r->up_checksum);
}

void df_ledger_free(df_ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++)
		df_ledger_row_release(&l->v[i]);
	free(l->v);
	free(l);
}

int df_ledger_read(df_ledger **out, df_conn *conn, const char *table)
{
	df_ledger *l;
	char ubuf[128];
	df_rows *cols = NULL, *rows = NULL;
	df_buf sql = DF_BUF_INIT;
	bool full = true, up = false;
	int error;

	*out = NULL;
	if (!(l = calloc(1, sizeof(*l))))
		return df_error_oom();
	if ((error = df_conn_table_columns(conn, &cols, table)) < 0)
		goto out;
	l->table_version = DF_LEDGER_NONE;
	if (!cols->nrows) {
		*out = l;
		l = NULL;
		goto out;
	}
	l->exists = true;
	for (size_t i = 0; i < NCOLS; i++) {
		bool found = false;
		for (size_t r = 0; r < cols->nrows && !found; r++)
			found = !strcmp(df_rows_get(cols, r, 0), extra_cols[i].name);
		if (extra_cols[i].since == 1)
			full = full && found;
		else if (!strcmp(extra_cols[i].name, "up_checksum"))
			up = found;
	}
	if ((error = df_ledger_version(&l->table_version, conn, table)) < 0)
		goto out;
	if (full)
		df_buf_printf(&sql, "SELECT filename, version, checksum, %s, applied_by, "
			"state, duration_ms, statements_done, error, %s FROM %s ORDER BY id",
			utc(ubuf, sizeof(ubuf), conn, "applied_at"), up ? "up_checksum" : "NULL", table);
	else    /* a table not adopted yet: the seeds' three columns */
		df_buf_printf(&sql, "SELECT filename, NULL, NULL, %s, NULL, NULL, NULL, "
			"NULL, NULL, NULL FROM %s ORDER BY id", utc(ubuf, sizeof(ubuf), conn, "applied_at"), table);
	if ((error = df_conn_query(conn, &rows, sql.ptr, NULL, 0)) < 0)
		goto out;
	if (rows->nrows && !(l->v = calloc(rows->nrows, sizeof(*l->v)))) {
		error = df_error_oom();
		goto out;
	}
	for (size_t r = 0; r < rows->nrows; r++) {
		df_ledger_row *row = &l->v[l->nr++];
		const char *state = df_rows_get(rows, r, 5), *v;
		/* take the strings over from the result: no second copy of 10,000 rows */
		row->filename = take(rows, r, 0);
		row->version = take(rows, r, 1);
		row->checksum = take(rows, r, 2);
		row->applied_at = take(rows, r, 3);
		row->applied_by = take(rows, r, 4);
		row->error = take(rows, r, 8);
		row->up_checksum = take(rows, r, 9);
		row->state = !state || !strcmp(state, "applied") ? DF_ROW_APPLIED :
			!strcmp(state, "running") ? DF_ROW_RUNNING : DF_ROW_FAILED;
		row->duration_ms = (v = df_rows_get(rows, r, 6)) ? atol(v) : 0;
		row->statements_done = (v = df_rows_get(rows, r, 7)) ? atol(v) : -1;
		if (!row->filename) {
			error = df_error_set(DF_ECONFIG, "table '%s' has a row without a filename", table);
			goto out;
		}
		/* version from the file name where the row has none (adopted rows) */
		if (!row->version) {
			size_t n = strspn(row->filename, "0123456789");
			if (row->filename[0] == 'V')
				n = strspn(row->filename + 1, "0123456789._"), row->version = strndup(row->filename + 1, n);
			else
				row->version = strndup(row->filename, n);
		}
	}
	*out = l;
	l = NULL;
out:
	df_rows_free(cols);
	df_rows_free(rows);
	df_buf_release(&sql);
	df_ledger_free(l);
	return error;
}

int df_audit_append(df_conn *conn, const char *table, const df_audit_entry *e)
{
	df_buf sql = DF_BUF_INIT;
	char who[DF_WHOAMI_MAX], host[DF_WHOAMI_MAX];
	const char *params[] = {
		e->op, e->env, e->target, df_whoami(who, sizeof(who)), df_hostname(host, sizeof(host)), e->result,
		e->summary, e->receipt, e->server, e->detail,
	};
	int error;

	df_buf_printf(&sql, "INSERT INTO %s_audit (op, env, target, os_user, host, result, "
		"summary, receipt, server, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", table);
	error = df_buf_oom(&sql) ? df_error_oom() :
		df_conn_query(conn, NULL, sql.ptr, params, sizeof(params) / sizeof(params[0]));
	df_buf_release(&sql);
	return error;
}

int df_audit_read(df_rows **out, df_conn *conn, const char *table, const char *op, long limit)
{
	char ubuf[128];
	df_buf sql = DF_BUF_INIT;
	const char *params[] = { op };
	df_rows *cols = NULL;
	int error;

	*out = NULL;
	df_buf_printf(&sql, "%s_audit", table);
	if ((error = df_conn_table_columns(conn, &cols, sql.ptr)) < 0)
		goto out;
	df_buf_truncate(&sql, 0);
	if (!cols->nrows) {
		/* no audit table yet: an empty result with the right columns */
		static const char *names[] = { "id", "at", "op", "env", "target", "os_user", "host",
			"result", "summary", "receipt", "server", "detail" };
		error = df_rows_new(out, 12, names);
		goto out;
	}
	df_buf_printf(&sql, "SELECT id, %s, op, env, target, os_user, host, result, summary, "
		"receipt, server, detail FROM %s_audit%s ORDER BY id DESC", utc(ubuf, sizeof(ubuf), conn, "at"), table,
		op ? " WHERE op = ?" : "");
	if (limit > 0)
		df_buf_printf(&sql, " LIMIT %ld", limit);
	error = df_conn_query(conn, out, sql.ptr, op ? params : NULL, op ? 1 : 0);
out:
	df_rows_free(cols);
	df_buf_release(&sql);
	return error;
}

int df_server_identity(char **out, df_conn *conn)
{
	df_identity id;
	df_buf b = DF_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	df_buf_printf(&b, "%s|%s|%s", id.engine, id.system_id, id.database);
	*out = df_buf_detach(&b);
	return *out ? 0 : df_error_oom();
}

int df_ledger_mark_applied(df_conn *conn, const char *table, const df_migration *m)
{
	df_buf sql = DF_BUF_INIT;
	char who[DF_WHOAMI_MAX], up[65];
	const char *upsum = df_migration_up_checksum(up, m) == 0 ? up : NULL;
	const char *upd[] = { m->checksum, upsum, m->version, m->file };
	const char *ins[] = { m->file, m->version, m->checksum, upsum, df_whoami(who, sizeof(who)) };
	const char *sel[] = { m->file };
	df_rows *rows = NULL;
	int error;

	df_error_clear();       /* an unreadable UP records no UP checksum */
	df_buf_printf(&sql, "SELECT filename FROM %s WHERE filename = ?", table);
	if ((error = df_conn_query(conn, &rows, sql.ptr, sel, 1)) < 0)
		goto out;
	df_buf_truncate(&sql, 0);
	if (rows->nrows) {
		df_buf_printf(&sql, "UPDATE %s SET state = 'applied', checksum = ?, up_checksum = ?, "
			"version = ?, error = NULL WHERE filename = ?", table);
		error = df_conn_query(conn, NULL, sql.ptr, upd, 4);
	} else {
		df_buf_printf(&sql, "INSERT INTO %s (filename, version, checksum, up_checksum, applied_by, "
			"state, duration_ms, statements_done, applied_at) VALUES (?, ?, ?, ?, ?, 'applied', 0, 0, "
			"CURRENT_TIMESTAMP)", table);
		error = df_conn_query(conn, NULL, sql.ptr, ins, 5);
	}
out:
	df_rows_free(rows);
	df_buf_release(&sql);
	return error;
}

/* ---- the UP's checksum ---------------------------------------------------- */

int df_migration_up_checksum(char out[65], const df_migration *m)
{
	bool same = m->down.path && m->up.path &&
		(m->down.path == m->up.path || !strcmp(m->down.path, m->up.path));
	uint64_t end = same ? m->up.off + m->up.len : UINT64_MAX, at = 0;
	unsigned char buf[4096], norm[sizeof(buf)];
	df_sha256 md;
	bool cr = false;
	size_t n;
	FILE *f;

	if (!m->up.path || !(f = fopen(m->up.path, "rb")))
		return df_error_set(DF_EIO, "cannot read '%s'", m->up.path ? m->up.path : m->file);
	df_sha256_init(&md);
	while (at < end && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t o = 0, i = 0;
		if (n > end - at)
			n = (size_t)(end - at);
		if (!at && n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
			i = 3;          /* a BOM is not content */
		/* as the whole-file checksum: CR LF and a lone CR are LF */
		for (; i < n; i++) {
			if (cr) {
				cr = false;
				norm[o++] = '\n';
				if (buf[i] == '\n')
					continue;
			}
			if (buf[i] == '\r')
				cr = true;
			else
				norm[o++] = buf[i];
		}
		df_sha256_update(&md, norm, o);
		at += n;
	}
	if (cr)
		df_sha256_update(&md, "\n", 1);
	if (ferror(f)) {
		fclose(f);
		return df_error_set(DF_EIO, "cannot read '%s'", m->up.path);
	}
	fclose(f);
	df_sha256_hex(&md, out);
	return 0;
}

int df_ledger_row_check(df_row_check *out, const df_ledger_row *row, const df_migration *m)
{
	char up[65];
	int error;

	*out = DF_ROW_UNCHANGED;
	if (!row->checksum || !*row->checksum || !strcmp(row->checksum, m->checksum))
		return 0;
	*out = DF_ROW_UP_EDITED;
	if (!row->up_checksum || !*row->up_checksum)
		return 0;       /* recorded before table version 2: the UP is not known */
	if ((error = df_migration_up_checksum(up, m)) < 0)
		return error;
	if (!strcmp(up, row->up_checksum))
		*out = DF_ROW_DOWN_EDITED;
	return 0;
}

int df_ledger_backfill_up(df_conn *conn, const char *table, const df_plan *plan)
{
	df_buf sql = DF_BUF_INIT;
	int error = 0, filled = 0;

	df_buf_printf(&sql, "UPDATE %s SET up_checksum = ? WHERE filename = ? AND up_checksum IS NULL", table);
	if (df_buf_oom(&sql))
		error = df_error_oom();
	for (size_t i = 0; !error && i < plan->nr; i++) {
		const df_plan_item *it = &plan->items[i];
		char up[65];
		const char *p[2] = { up, NULL };
		if (it->state != DF_STATE_APPLIED || !it->mig || !it->row || it->mig->repeatable ||
		    (it->row->up_checksum && *it->row->up_checksum) ||
		    !it->row->checksum || strcmp(it->row->checksum, it->mig->checksum))
			continue;
		if (df_migration_up_checksum(up, it->mig) < 0) {
			df_error_clear();       /* the next run tries again */
			continue;
		}
		p[1] = it->row->filename;
		if ((error = df_conn_query(conn, NULL, sql.ptr, p, 2)) == 0)
			filled++;
	}
	df_buf_release(&sql);
	return error < 0 ? error : filled;
}

int df_ledger_forget(df_conn *conn, const char *table, const char *filename)
{
	df_buf sql = DF_BUF_INIT;
	int error;

	df_buf_printf(&sql, "DELETE FROM %s WHERE filename = ?", table);
	error = df_conn_query(conn, NULL, sql.ptr, &filename, 1);
	df_buf_release(&sql);
	return error;
}

/* ---- what migrate needs: the privileges of the connected user --------------- */

/* "t" / "1" / "true" */
static bool yes(const char *v)
{
	return v && (!strcmp(v, "t") || !strcmp(v, "1") || !strcmp(v, "true"));
}

int df_ledger_privileges(df_strlist *missing, df_conn *conn, const char *table)
{
	df_buf sql = DF_BUF_INIT, audit = DF_BUF_INIT;
	df_rows *rows = NULL;
	int error = 0;

	df_buf_printf(&audit, "%s_audit", table);
	switch (df_conn_dialect(conn)) {
	case DF_DIALECT_POSTGRES: {
		/* CREATE in the schema; INSERT, UPDATE, DELETE on devflow's tables that exist */
		const char *p[] = { table, table, table, table };
		error = df_conn_query(conn, &rows, "SELECT current_schema(), "
			"current_schema() IS NOT NULL AND has_schema_privilege(current_schema(), 'CREATE'), "
			"to_regclass(quote_ident(?)) IS NULL OR (has_table_privilege(to_regclass(quote_ident(?)), "
			"'INSERT') AND has_table_privilege(to_regclass(quote_ident(?)), 'UPDATE') AND "
			"has_table_privilege(to_regclass(quote_ident(?)), 'DELETE')), current_user", p, 4);
		if (error < 0 || !rows->nrows)
			break;
		if (!yes(df_rows_get(rows, 0, 1)))
			error = df_strlist_pushf(missing, "CREATE on schema %s (GRANT CREATE ON SCHEMA %s TO %s)",
				df_rows_get(rows, 0, 0) ? df_rows_get(rows, 0, 0) : "(none: search_path is empty)",
				df_rows_get(rows, 0, 0) ? df_rows_get(rows, 0, 0) : "...", df_rows_get(rows, 0, 3));
		if (!error && !yes(df_rows_get(rows, 0, 2)))
			error = df_strlist_pushf(missing, "INSERT, UPDATE and DELETE on %s", table);
		break;
	}
	case DF_DIALECT_MYSQL: {
		/* the user's grants: global, on this database, on devflow's table */
		static const char *want[] = { "CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE" };
		const char *p[] = { table };
		bool have[6] = { false };
		error = df_conn_query(conn, &rows,
			"SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = "
			"CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
			"SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') "
			"UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = "
			"CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
			"SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AND TABLE_SCHEMA = DATABASE() "
			"UNION SELECT CONCAT('TABLE ', PRIVILEGE_TYPE) FROM information_schema.TABLE_PRIVILEGES "
			"WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
			"SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AND TABLE_SCHEMA = DATABASE() "
			"AND TABLE_NAME = ?", p, 1);
		if (error < 0)
			break;
		for (size_t i = 0; i < rows->nrows; i++) {
			const char *v = df_rows_get(rows, i, 0);
			bool tbl = v && !strncmp(v, "TABLE ", 6);
			for (size_t k = 0; v && k < 6; k++)
				if (!strcmp(tbl ? v + 6 : v, want[k]) && (!tbl || k >= 3))
					have[k] = true;
		}
		for (size_t k = 0; k < 6 && !error; k++)
			if (!have[k])
				error = df_strlist_pushf(missing, "%s on this database", want[k]);
		break;
	}
	default:
		break;          /* SQLite: the file's permissions, which the CLI checks */
	}
	df_rows_free(rows);
	df_buf_release(&sql);
	df_buf_release(&audit);
	return error;
}
