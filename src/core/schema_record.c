/*
 * The schema devflow left on a database, for `db status`'s drift.
 *
 * Where the record lives: .devflow/schema/<env>-<id>.schema in the project,
 * where <id> is the first 16 hex digits of the SHA-256 of the database's
 * identity (engine, system identifier, database name: df_server_identity),
 * so a record is about one database, never about whatever the environment's
 * URL names today: point `local` at another database and there is no record
 * for it (drift unknown), not a false drift against the other one's.
 *
 * The record is stamped with the SHA-256 of the history devflow left (every
 * tracking row: file, checksum, state).  The database may be changed by
 * devflow elsewhere (another checkout, CI, a resolve): then the history
 * differs from the stamp, and status says the record is out of date
 * instead of calling devflow's own change drift.  docs/diff.md ("Drift")
 * says why the record is not kept in the database itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/session.h"
#include "util/sha256.h"
#include "util/banned.h"

#define RECORD_DIR "."

int df_session_schema_read(df_schema **out, df_session *s, df_conn *conn)
{
	df_strlist exclude = DF_STRLIST_INIT;
	df_schema_opts opts = DF_SCHEMA_OPTS_INIT;
	int error;

	*out = NULL;
	if ((error = df_schema_own_tables(&exclude, s->cfg->table)) < 0)
		goto out;
	opts.exclude_tables = &exclude;
	error = df_schema_read(out, conn ? conn : s->conn, &opts);
out:
	df_strlist_release(&exclude);
	return error;
}

/* "<env>-<16 hex of the database's identity>": the record's file name. */
static int record_key(df_buf *out, const df_session *s)
{
	df_sha256 ctx;
	char hex[65];

	df_sha256_init(&ctx);
	df_sha256_update(&ctx, s->server ? s->server : "", s->server ? strlen(s->server) : 0);
	df_sha256_hex(&ctx, hex);
	df_buf_printf(out, "%s-%.16s", s->target->env, hex);
	return df_buf_oom(out) ? df_error_oom() : 0;
}

/* The SHA-256 of the tracking rows, as the session read them last. */
static void history_hash(char out[65], const df_ledger *l)
{
	df_sha256 ctx;

	df_sha256_init(&ctx);
	for (size_t i = 0; l && i < l->nr; i++) {
		const df_ledger_row *r = &l->v[i];
		char state[16];
		snprintf(state, sizeof(state), ":%d\n", (int)r->state);
		df_sha256_update(&ctx, r->filename, strlen(r->filename));
		df_sha256_update(&ctx, ":", 1);
		if (r->checksum)
			df_sha256_update(&ctx, r->checksum, strlen(r->checksum));
		df_sha256_update(&ctx, state, strlen(state));
	}
	df_sha256_hex(&ctx, out);
}

/*
 * SQLite bumps its schema cookie (PRAGMA schema_version) on every change to
 * the schema: the same cookie as when the schema was recorded means the same
 * schema, and status need not read it (10,000 tables take longer to read
 * than the rest of a status).  "-" elsewhere, or when it cannot be read.
 */
static void schema_cookie(char out[24], df_conn *conn)
{
	df_rows *rows = NULL;

	memcpy(out, "-", 2);
	if (df_conn_dialect(conn) != DF_DIALECT_SQLITE)
		return;
	if (df_conn_query(conn, &rows, "PRAGMA schema_version", NULL, 0) < 0) {
		df_error_clear();
		return;
	}
	if (rows->nrows && df_rows_get(rows, 0, 0))
		snprintf(out, 24, "%s", df_rows_get(rows, 0, 0));
	df_rows_free(rows);
}

/*
 * The stamp: "<history> <when> <cookie>", then, after a run over drift,
 * "\t<who accepted it, or ->" and "\t<line>" for each line of that drift
 * (a tab in a line becomes a space: the stamp is one line of tabs).
 */
int df_session_schema_record_drift(df_session *s, const df_schema *schema,
	const df_strlist *absorbed, const char *by)
{
	df_buf key = DF_BUF_INIT, stamp = DF_BUF_INIT;
	char hist[65], at[32], cookie[24];
	time_t now = time(NULL);
	int error;

	history_hash(hist, s->ledger);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &(struct tm){ 0 }));
	schema_cookie(cookie, s->conn);
	/* "<history> <when> <cookie>" */
	df_buf_printf(&stamp, "%s %s %s", hist, at, cookie);
	if (absorbed && absorbed->nr) {
		df_buf_printf(&stamp, "\t%s", by && *by ? by : "-");
		for (size_t i = 0; i < absorbed->nr; i++) {
			df_buf_putc(&stamp, '\t');
			for (const char *p = absorbed->v[i]; *p; p++)
				df_buf_putc(&stamp, *p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p);
		}
	}
	if ((error = record_key(&key, s)) == 0)
		error = df_buf_oom(&stamp) ? df_error_oom() :
			df_schema_record(RECORD_DIR, key.ptr, schema, stamp.ptr);
	df_buf_release(&key);
	df_buf_release(&stamp);
	return error;
}

int df_session_schema_record(df_session *s, const df_schema *schema)
{
	return df_session_schema_record_drift(s, schema, NULL, NULL);
}

/* The drift a stamp says its run went over (see above). */
static int absorbed_of(df_drift *out, const char *stamp)
{
	const char *p = strchr(stamp, '\t');
	size_t n;
	int error;

	if (!p)
		return 0;
	p++;
	n = strcspn(p, "\t");
	if ((n != 1 || *p != '-') && !(out->absorbed_by = strndup(p, n)))
		return df_error_oom();
	for (p += n; *p == '\t'; p += n) {
		char *line;
		p++;
		n = strcspn(p, "\t");
		if (!(line = strndup(p, n)))
			return df_error_oom();
		if ((error = df_strlist_take(&out->absorbed, line)) < 0)
			return error;
	}
	return 0;
}

void df_drift_release(df_drift *d)
{
	free(d->reason);
	free(d->recorded_at);
	free(d->absorbed_by);
	df_strlist_release(&d->changes);
	df_strlist_release(&d->lines);
	df_strlist_release(&d->absorbed);
	df_schema_free(d->live);
	d->live = NULL;
	d->drifted = -1;
	d->reason = d->recorded_at = d->absorbed_by = NULL;
}

/* drifted -1 with the reason `what` (+ ": " + `why`); the current error is dropped. */
static int cannot_say(df_drift *d, const char *what, const char *why)
{
	df_buf b = DF_BUF_INIT;

	df_buf_printf(&b, "%s%s%s", what, why ? ": " : "", why ? why : "");
	df_error_clear();
	d->drifted = -1;
	if (!(d->reason = df_buf_detach(&b)))
		return df_error_oom();
	return 0;
}

/*
 * A change line "- <key>" of something a record made before history tables
 * were left out (uncompared.c) holds, and the live database still holds as a
 * left-out history table: the table, or what hangs off it (its index,
 * constraint, trigger: "<kind> <schema>.<table>.<name>"; a serial's
 * sequence "<table>_<column>_seq").  Not drift.  (Keys and entries
 * name the schema on PostgreSQL only: "table flyway_schema_history".)
 */
static bool history_gone(const char *line, const df_schema *live)
{
	const char *key = line + 2, *name;

	if (strncmp(line, "- ", 2) || !(name = strchr(key, ' ')))
		return false;
	name++;
	for (size_t i = 0; i < live->uncompared.nr; i++) {
		const char *u = live->uncompared.v[i], *t, *e;
		size_t n;
		if (strncmp(u, DF_UNCOMPARED_HISTORY "\ttable ", strlen(DF_UNCOMPARED_HISTORY) + 7))
			continue;
		t = u + strlen(DF_UNCOMPARED_HISTORY) + 7;       /* "schema.table (tool)..." */
		if (!(e = strchr(t, ' ')))
			continue;
		n = (size_t)(e - t);
		if (!strncmp(name, t, n) && (!name[n] || name[n] == '.' ||
		    (!strncmp(key, "sequence ", 9) && name[n] == '_')))
			return true;
	}
	return false;
}

int df_session_drift(df_drift *out, df_session *s)
{
	df_buf key = DF_BUF_INIT;
	df_schema *live = NULL;
	char hash[65], hist[65], *stamp = NULL, *text = NULL, *changes = NULL;
	bool drifted = false;
	int error;

	*out = (df_drift)DF_DRIFT_INIT;
	if ((error = record_key(&key, s)) < 0)
		goto out;
	/* the stamp first: the schema's text (megabytes for 10,000 tables) only
	 * when the live schema has to be read and compared */
	if ((error = df_schema_recorded(hash, &stamp, NULL, RECORD_DIR, key.ptr)) < 0) {
		error = error == DF_ENOTFOUND ?
			cannot_say(out, "no schema was recorded for this database yet: the next migrate "
				"or rollback records it", NULL) :
			cannot_say(out, df_error_last()->message, NULL);
		goto out;
	}
	if (stamp && strlen(stamp) > 65 &&
	    !(out->recorded_at = strndup(stamp + 65, strcspn(stamp + 65, " ")))) {
		error = df_error_oom();
		goto out;
	}
	history_hash(hist, s->ledger);
	if (!stamp || strncmp(stamp, hist, 64)) {
		error = cannot_say(out, "the history changed since devflow recorded the schema (a "
			"migrate from another checkout, a resolve, or another tool): the next migrate or "
			"rollback records it again", NULL);
		goto out;
	}
	if ((error = absorbed_of(out, stamp)) < 0)
		goto out;
	/* SQLite: the cookie it had then says whether anything changed since */
	{
		const char *then = strlen(stamp) > 65 ? strchr(stamp + 65, ' ') : NULL;
		char now[24];
		schema_cookie(now, s->conn);
		if (then && strcmp(now, "-") && strcspn(then + 1, "\t") == strlen(now) &&
		    !strncmp(then + 1, now, strlen(now))) {
			out->drifted = false;
			goto out;
		}
	}
	/* only now is the schema worth reading */
	if ((error = df_schema_recorded(hash, NULL, &text, RECORD_DIR, key.ptr)) < 0) {
		error = cannot_say(out, df_error_last()->message, NULL);
		goto out;
	}
	if ((error = df_session_schema_read(&live, s, NULL)) < 0) {
		error = cannot_say(out, "cannot read the schema", df_error_last()->message);
		goto out;
	}
	if ((error = df_schema_drift(&drifted, &changes, hash, text, live)) < 0)
		goto out;
	out->drifted = drifted;
	for (char *p = changes, *nl; p && *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		if (history_gone(p, live))
			continue;
		if ((error = df_strlist_push(&out->lines, p)) < 0 ||
		    (*p != ' ' && (error = df_strlist_push(&out->changes, p)) < 0))
			goto out;
	}
	if (drifted && !out->changes.nr)
		out->drifted = false;
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		out->live = live;
		out->live_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		live = NULL;
	}
out:
	df_schema_free(live);
	df_buf_release(&key);
	free(stamp);
	free(text);
	free(changes);
	return error;
}
