/*
 * The tracking table (`_migrations` by default) and the audit log
 * (`<table>_audit`).  An existing three-column table (id, filename,
 * applied_at) is adopted by adding the columns devflow needs; no row is lost.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

/* Columns devflow adds to an adopted table, per dialect. */
struct col {
	const char *name;
	const char *type[3];    /* sqlite, postgres, mysql */
};

static const struct col extra_cols[] = {
	{ "version", { "TEXT", "VARCHAR(64)", "VARCHAR(64)" } },
	{ "checksum", { "TEXT", "VARCHAR(64)", "VARCHAR(64)" } },
	{ "duration_ms", { "INTEGER", "BIGINT", "BIGINT" } },
	{ "applied_by", { "TEXT", "VARCHAR(255)", "VARCHAR(255)" } },
	{ "state", { "TEXT", "VARCHAR(16)", "VARCHAR(16)" } },
	{ "statements_done", { "INTEGER", "INTEGER", "INTEGER" } },
	{ "error", { "TEXT", "TEXT", "TEXT" } },
};

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

int df_ledger_ensure(df_conn *conn, const char *table)
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

void df_ledger_free(df_ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++) {
		df_ledger_row *r = &l->v[i];
		free(r->filename);
		free(r->version);
		free(r->checksum);
		free(r->applied_at);
		free(r->applied_by);
		free(r->error);
	}
	free(l->v);
	free(l);
}

int df_ledger_read(df_ledger **out, df_conn *conn, const char *table)
{
	df_ledger *l;
	char ubuf[128];
	df_rows *cols = NULL, *rows = NULL;
	df_buf sql = DF_BUF_INIT;
	bool full = true;
	int error;

	*out = NULL;
	if (!(l = calloc(1, sizeof(*l))))
		return df_error_oom();
	if ((error = df_conn_table_columns(conn, &cols, table)) < 0)
		goto out;
	if (!cols->nrows) {
		*out = l;
		l = NULL;
		goto out;
	}
	l->exists = true;
	for (size_t i = 0; i < sizeof(extra_cols) / sizeof(extra_cols[0]); i++) {
		bool found = false;
		for (size_t r = 0; r < cols->nrows && !found; r++)
			found = !strcmp(df_rows_get(cols, r, 0), extra_cols[i].name);
		full = full && found;
	}
	if (full)
		df_buf_printf(&sql, "SELECT filename, version, checksum, %s, applied_by, "
			"state, duration_ms, statements_done, error FROM %s ORDER BY id", utc(ubuf, sizeof(ubuf), conn, "applied_at"), table);
	else    /* a table not adopted yet: the seeds' three columns */
		df_buf_printf(&sql, "SELECT filename, NULL, NULL, %s, NULL, NULL, NULL, "
			"NULL, NULL FROM %s ORDER BY id", utc(ubuf, sizeof(ubuf), conn, "applied_at"), table);
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
	const char *upd[] = { m->checksum, m->version, m->file };
	char who[DF_WHOAMI_MAX];
	const char *ins[] = { m->file, m->version, m->checksum, df_whoami(who, sizeof(who)) };
	const char *sel[] = { m->file };
	df_rows *rows = NULL;
	int error;

	df_buf_printf(&sql, "SELECT filename FROM %s WHERE filename = ?", table);
	if ((error = df_conn_query(conn, &rows, sql.ptr, sel, 1)) < 0)
		goto out;
	df_buf_truncate(&sql, 0);
	if (rows->nrows) {
		df_buf_printf(&sql, "UPDATE %s SET state = 'applied', checksum = ?, version = ?, "
			"error = NULL WHERE filename = ?", table);
		error = df_conn_query(conn, NULL, sql.ptr, upd, 3);
	} else {
		df_buf_printf(&sql, "INSERT INTO %s (filename, version, checksum, applied_by, state, "
			"duration_ms, statements_done, applied_at) VALUES (?, ?, ?, ?, 'applied', 0, 0, "
			"CURRENT_TIMESTAMP)", table);
		error = df_conn_query(conn, NULL, sql.ptr, ins, 4);
	}
out:
	df_rows_free(rows);
	df_buf_release(&sql);
	return error;
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
