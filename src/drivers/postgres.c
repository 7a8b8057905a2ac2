/*
 * The PostgreSQL driver (libpq).
 *
 * Connecting: the URL goes to libpq as written (postgres:// and
 * postgresql://, every parameter libpq knows, ?sslmode=...), with defaults
 * the URL can override: fallback_application_name=devflow, client_encoding
 * UTF8, connect_timeout 10 s.  libpq reports a failed connection only as
 * text, so failures are classified by its (English) messages:
 *
 *   "Connection refused", timeouts, too many clients ...   DF_ECONNREFUSED
 *   "could not translate host name"                       DF_EHOST
 *   "password authentication failed", "no password
 *    supplied", 'role "x" does not exist'                 DF_EAUTH
 *   'database "x" does not exist', "permission denied
 *    for database", "not permitted to log in",
 *    "no pg_hba.conf entry"                               DF_EPERM, connect_phase
 *
 * All of them are exit 4.  Messages are scrubbed of the password.  Server
 * NOTICEs and WARNINGs are discarded: libpq never prints to stderr.
 *
 * The migration lock is a session-level advisory lock, pg_advisory_lock(key),
 * so it dies with the connection.  The key is the first 8 bytes of
 * SHA-256(name), big-endian, as a signed 64-bit integer; in psql:
 *   SELECT ('x' || left(encode(sha256(convert_to('NAME', 'UTF8')), 'hex'), 16))::bit(64)::bigint;
 * Advisory locks are per database, so each database has its own lock.
 *
 * identity.system_id is pg_control_system().system_identifier when the user
 * may call it (PUBLIC may by default); otherwise "server:ADDR:PORT" from
 * inet_server_addr()/inet_server_port() (or the socket directory and port).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "util/banned.h"

struct pg_conn {
	df_conn base;           /* must come first */
	PGconn *pg;
};

#define PG(c) (((struct pg_conn *)(c))->pg)

static void pg_discard_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Mark the last error as a failure at connect time. */
static void pg_connect_phase(void)
{
	df_error *e = (df_error *)df_error_last();

	if (e)
		e->connect_phase = 1;
}

/*
 * libpq's connection message, made one line: one attempt per line, the
 * indented advice lines dropped, "FATAL:" prefixes removed, white space
 * squeezed, the password scrubbed.  Caller frees.
 */
static char *pg_clean_message(const char *raw, const df_dsn *dsn)
{
	df_buf b = DF_BUF_INIT;
	const char *p = raw ? raw : "";
	char *out;

	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *s = p, *e = p + n;
		bool space = false;

		if (*p != '\t' && n > 0) {
			if (b.size)
				df_buf_puts(&b, "; ");
			for (; s < e; s++) {
				if (!strncmp(s, "FATAL:", 6) || !strncmp(s, "ERROR:", 6)) {
					s += 5;
					space = true;
				} else if (*s == ' ' || *s == '\t' || *s == '\r') {
					space = true;
				} else {
					if (space && b.size && b.ptr[b.size - 1] != ' ')
						df_buf_putc(&b, ' ');
					space = false;
					df_buf_putc(&b, *s);
				}
			}
		}
		p += n;
		if (*p)
			p++;
	}
	while (b.size && (b.ptr[b.size - 1] == ' ' || b.ptr[b.size - 1] == ';'))
		df_buf_truncate(&b, b.size - 1);
	if (!b.size)
		df_buf_puts(&b, "unknown error");
	if (!(out = df_buf_detach(&b)))
		return NULL;
	df_dsn_scrub(dsn, out);
	return out;
}

/* Case-insensitive strstr for ASCII text. */
static bool pg_has(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static int pg_connect_error(const df_dsn *dsn, PGconn *pg)
{
	char *msg = pg_clean_message(PQerrorMessage(pg), dsn);
	const char *m = msg ? msg : "unknown error";
	const char *host = dsn->host ? dsn->host : "the local socket";
	int code;

	if (pg_has(m, "password authentication failed") ||
	    pg_has(m, "authentication failed") ||
	    pg_has(m, "no password supplied") ||
	    pg_has(m, "password is required") ||
	    (pg_has(m, "role \"") && pg_has(m, "does not exist"))) {
		code = df_error_set(DF_EAUTH, "cannot log in to postgres: %s", m);
		df_error_hint("check the user name and password in the database URL (DATABASE_URL)");
	} else if (pg_has(m, "could not translate host name") ||
		   pg_has(m, "Name or service not known")) {
		code = df_error_set(DF_EHOST, "unknown database host '%s': %s", host, m);
		df_error_hint("check the host name in the database URL (DATABASE_URL)");
	} else if (pg_has(m, "database \"") && pg_has(m, "does not exist")) {
		code = df_error_set(DF_EPERM, "cannot connect to postgres: %s", m);
		pg_connect_phase();
		df_error_hint("create the database first, or fix its name in the database URL");
	} else if (pg_has(m, "permission denied") || pg_has(m, "not permitted to log in") ||
		   pg_has(m, "no pg_hba.conf entry") || pg_has(m, "pg_hba.conf rejects")) {
		code = df_error_set(DF_EPERM, "not allowed to connect to postgres: %s", m);
		pg_connect_phase();
		df_error_hint("ask for CONNECT on the database and LOGIN for the role, "
			"or check pg_hba.conf");
	} else {
		code = df_error_set(DF_ECONNREFUSED, "cannot connect to postgres: %s", m);
		if (dsn->port)
			df_error_hint("is the server running on %s:%d and accepting connections? "
				"check DATABASE_URL", host, dsn->port);
		else
			df_error_hint("is the server running on %s and accepting connections? "
				"check DATABASE_URL", host);
	}
	free(msg);
	return code;
}

static int pg_open(df_conn **out, const df_dsn *dsn)
{
	/* Later keywords override earlier ones: the URL (dbname) wins. */
	static const char *const keys[] = {
		"fallback_application_name", "client_encoding", "connect_timeout",
		"dbname", NULL,
	};
	const char *vals[] = { "devflow", "UTF8", "10", dsn->url, NULL };
	struct pg_conn *c;
	PGconn *pg;
	int error;

	*out = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg)
		return df_error_oom();
	PQsetNoticeProcessor(pg, pg_discard_notice, NULL);
	if (PQstatus(pg) != CONNECTION_OK) {
		error = pg_connect_error(dsn, pg);
		PQfinish(pg);
		return error;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		PQfinish(pg);
		return df_error_oom();
	}
	c->pg = pg;
	*out = &c->base;
	return 0;
}

static void pg_close(df_conn *conn)
{
	struct pg_conn *c = (struct pg_conn *)conn;

	if (!c)
		return;
	PQfinish(c->pg);
	free(c);
}

/*
 * Byte offset of the 1-based character position `pos` in the UTF-8 text
 * sql[0..len), or -1.
 */
static long pg_char_to_byte(const char *sql, size_t len, long pos)
{
	size_t i = 0;
	long chars = 0;

	if (pos <= 0)
		return -1;
	while (i < len) {
		if (chars == pos - 1)
			return (long)i;
		i++;
		while (i < len && ((unsigned char)sql[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return chars == pos - 1 ? (long)len : -1;
}

/*
 * Set the last error from a failed result: the server's message, detail and
 * SQLSTATE; DF_EPERM for insufficient_privilege, DF_ECONNREFUSED when the
 * connection is gone.  (A statement's lock_timeout is an SQL error: only
 * pg_lock() turns 55P03 into DF_ELOCKED.)
 */
static int pg_result_error(PGconn *pg, const PGresult *res, const char *sql, size_t len,
	long *err_offset)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	int code = DF_ESQL;

	if (err_offset) {
		*err_offset = -1;
		if (pos && sql)
			*err_offset = pg_char_to_byte(sql, len, strtol(pos, NULL, 10));
	}
	if (!primary) {
		char *msg = pg_clean_message(PQerrorMessage(pg), NULL);
		if (PQstatus(pg) == CONNECTION_BAD) {
			code = df_error_set(DF_ECONNREFUSED, "lost the connection to postgres: %s",
				msg ? msg : "unknown error");
			df_error_hint("check that the server is still running");
		} else {
			code = df_error_set(DF_ESQL, "postgres: %s", msg ? msg : "unknown error");
		}
		free(msg);
		return code;
	}
	if (state && !strcmp(state, "42501"))
		code = DF_EPERM;
	if (detail) {
		int dn = (int)strlen(detail);
		if (dn && detail[dn - 1] == '.')
			dn--;
		df_error_set(code, "%s: %.*s (SQLSTATE %s)", primary, dn, detail, state ? state : "?");
	} else {
		df_error_set(code, "%s (SQLSTATE %s)", primary, state ? state : "?");
	}
	if (hint)
		df_error_hint("%s", hint);
	else if (code == DF_EPERM)
		df_error_hint("run it as a role that has the privilege, or GRANT it");
	return code;
}

static int pg_exec(df_conn *conn, const char *sql, size_t len, long *err_offset)
{
	PGconn *pg = PG(conn);
	PGresult *res;
	char *copy;
	int error = 0;

	*err_offset = -1;
	if (!(copy = malloc(len + 1)))
		return df_error_oom();
	memcpy(copy, sql, len);
	copy[len] = '\0';
	res = PQexec(pg, copy);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH: {
		/* There is no client-side data here: end the COPY, drain, refuse. */
		ExecStatusType st = PQresultStatus(res);
		char *data;
		PQclear(res);
		res = NULL;
		if (st == PGRES_COPY_OUT)
			while (PQgetCopyData(pg, &data, 0) > 0)
				PQfreemem(data);
		else
			PQputCopyEnd(pg, "devflow runs no COPY FROM STDIN");
		while ((res = PQgetResult(pg)))
			PQclear(res);
		error = df_error_set(DF_ESQL, "COPY ... FROM STDIN and COPY ... TO STDOUT "
			"cannot run in a migration");
		df_error_hint("COPY from or to a file on the server, or use INSERT ... SELECT");
		break;
	}
	default:
		error = pg_result_error(pg, res, copy, len, err_offset);
		break;
	}
	PQclear(res);
	free(copy);
	return error;
}

/*
 * Rewrite `?` placeholders outside quotes, identifiers, comments and dollar
 * quotes as $1..$n.  Returns the number found in *count.
 */
static int pg_translate(df_buf *out, const char *sql, size_t *count)
{
	const char *p = sql;
	size_t n = 0;

	while (*p) {
		char c = *p;
		if (c == '\'' || c == '"') {
			bool esc = c == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
				(p - 1 == sql || !(isalnum((unsigned char)p[-2]) || p[-2] == '_'));
			const char *s = p + 1;
			for (;;) {
				if (!*s)
					break;
				if (esc && *s == '\\' && s[1]) {
					s += 2;
					continue;
				}
				if (*s == c) {
					if (s[1] == c) {
						s += 2;
						continue;
					}
					s++;
					break;
				}
				s++;
			}
			df_buf_put(out, p, (size_t)(s - p));
			p = s;
		} else if (c == '-' && p[1] == '-') {
			size_t k = strcspn(p, "\n");
			df_buf_put(out, p, k);
			p += k;
		} else if (c == '/' && p[1] == '*') {
			const char *s = p + 2;
			int depth = 1;
			while (*s && depth) {
				if (*s == '/' && s[1] == '*') {
					depth++;
					s += 2;
				} else if (*s == '*' && s[1] == '/') {
					depth--;
					s += 2;
				} else {
					s++;
				}
			}
			df_buf_put(out, p, (size_t)(s - p));
			p = s;
		} else if (c == '$' && !(p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
			const char *t = p + 1, *end;
			while (isalnum((unsigned char)*t) || *t == '_')
				t++;
			if (*t != '$' || isdigit((unsigned char)p[1])) {
				df_buf_putc(out, c);
				p++;
				continue;
			}
			/* $tag$ ... $tag$ */
			size_t tl = (size_t)(t - p + 1);
			end = p + tl;
			while (*end && strncmp(end, p, tl))
				end++;
			end = *end ? end + tl : end;
			df_buf_put(out, p, (size_t)(end - p));
			p = end;
		} else if (c == '?') {
			df_buf_printf(out, "$%zu", ++n);
			p++;
		} else {
			df_buf_putc(out, c);
			p++;
		}
	}
	*count = n;
	return df_buf_oom(out) ? df_error_oom() : 0;
}

/* Copy a result into a new df_rows. */
static int pg_rows(df_rows **out, const PGresult *res)
{
	int ncols = PQnfields(res), nrows = PQntuples(res), i, j, error;
	const char **names = calloc((size_t)ncols + 1, sizeof(char *));
	const char **vals = calloc((size_t)ncols + 1, sizeof(char *));
	size_t *lens = calloc((size_t)ncols + 1, sizeof(size_t));
	df_rows *rows = NULL;

	if (!names || !vals || !lens) {
		error = df_error_oom();
		goto out;
	}
	for (j = 0; j < ncols; j++)
		names[j] = PQfname(res, j);
	if ((error = df_rows_new(&rows, (size_t)ncols, names)) < 0)
		goto out;
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < ncols; j++) {
			vals[j] = PQgetisnull(res, i, j) ? NULL : PQgetvalue(res, i, j);
			lens[j] = (size_t)PQgetlength(res, i, j);
		}
		if ((error = df_rows_add(rows, vals, lens)) < 0)
			goto out;
	}
	*out = rows;
	rows = NULL;
out:
	df_rows_free(rows);
	free(names);
	free(vals);
	free(lens);
	return error;
}

static int pg_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams)
{
	PGconn *pg = PG(conn);
	df_buf q = DF_BUF_INIT;
	PGresult *res = NULL;
	size_t found;
	int error;

	if ((error = pg_translate(&q, sql, &found)) < 0)
		goto out;
	if (found != nparams) {
		error = df_error_set(DF_EINTERNAL, "query has %zu placeholders but %zu parameters",
			found, nparams);
		goto out;
	}
	res = PQexecParams(pg, q.ptr, (int)nparams, NULL, params, NULL, NULL, 0);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_TUPLES_OK:
		if (out)
			error = pg_rows(out, res);
		break;
	case PGRES_COMMAND_OK:
		if (out)
			error = pg_rows(out, res);
		break;
	default:
		error = pg_result_error(pg, res, NULL, 0, NULL);
		break;
	}
out:
	PQclear(res);
	df_buf_release(&q);
	return error;
}

/* Run a fixed command; `tag`: the command tag it must answer with, or NULL. */
static int pg_simple(df_conn *conn, const char *sql, const char *tag)
{
	PGconn *pg = PG(conn);
	PGresult *res = PQexec(pg, sql);
	int error = 0;

	if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK &&
		     PQresultStatus(res) != PGRES_TUPLES_OK))
		error = pg_result_error(pg, res, NULL, 0, NULL);
	else if (tag && strcmp(PQcmdStatus(res), tag)) {
		/* COMMIT of a failed transaction answers ROLLBACK, without an error. */
		error = df_error_set(DF_ESQL, "the transaction was rolled back, not committed, "
			"because a statement in it failed");
	}
	PQclear(res);
	return error;
}

static int pg_begin(df_conn *conn) { return pg_simple(conn, "BEGIN", NULL); }
static int pg_commit(df_conn *conn) { return pg_simple(conn, "COMMIT", "COMMIT"); }
static int pg_rollback(df_conn *conn) { return pg_simple(conn, "ROLLBACK", NULL); }

/* The advisory lock key of `name`: SHA-256's first 8 bytes, big-endian. */
static int64_t pg_lock_key(const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint64_t k = 0;

	if (!EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL) || mdlen < 8) {
		/* Cannot happen with a working libcrypto; FNV-1a keeps us going. */
		k = 0xcbf29ce484222325ULL;
		for (const char *p = name; *p; p++)
			k = (k ^ (unsigned char)*p) * 0x100000001b3ULL;
		return (int64_t)k;
	}
	for (int i = 0; i < 8; i++)
		k = (k << 8) | md[i];
	return (int64_t)k;
}

/* Run a one-row, one-column query with params; *out: malloc'd text or NULL. */
static int pg_scalar(PGconn *pg, char **out, const char *sql, const char *const *params,
	int nparams)
{
	PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	int error = 0;

	*out = NULL;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		error = pg_result_error(pg, res, NULL, 0, NULL);
	else if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0) &&
		 !(*out = strdup(PQgetvalue(res, 0, 0))))
		error = df_error_oom();
	PQclear(res);
	return error;
}

static int pg_lock_holder(df_conn *conn, const char *name, char **out);

static int pg_locked_error(df_conn *conn, const char *name, long timeout_ms)
{
	char *holder = NULL;

	pg_lock_holder(conn, name, &holder);
	if (holder)
		df_error_set(DF_ELOCKED, "migration lock '%s' is held by %s (waited %ld ms)",
			name, holder, timeout_ms);
	else
		df_error_set(DF_ELOCKED, "migration lock '%s' is held by another session (waited %ld ms)",
			name, timeout_ms);
	df_error_hint("wait for the other run to finish, or raise --lock-timeout");
	free(holder);
	return DF_ELOCKED;
}

static void pg_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Take the advisory lock.  Outside a transaction the server waits, under
 * `SET lock_timeout` (reset afterwards); inside one (where a timeout error
 * would abort the transaction) pg_try_advisory_lock is polled.  A negative
 * timeout waits for ever.
 */
static int pg_lock(df_conn *conn, const char *name, long timeout_ms)
{
	PGconn *pg = PG(conn);
	char key[32], *got = NULL, set[64];
	const char *params[1] = { key };
	int error;

	snprintf(key, sizeof(key), "%lld", (long long)pg_lock_key(name));
	if ((error = pg_scalar(pg, &got, "SELECT pg_catalog.pg_try_advisory_lock($1::bigint)", params, 1)) < 0)
		return error;
	if (got && !strcmp(got, "t")) {
		free(got);
		return 0;
	}
	free(got);
	if (timeout_ms == 0)
		return pg_locked_error(conn, name, timeout_ms);

	if (PQtransactionStatus(pg) == PQTRANS_IDLE) {
		snprintf(set, sizeof(set), "SET lock_timeout = %ld",
			timeout_ms < 0 ? 0 : timeout_ms > 2147483647L ? 2147483647L : timeout_ms);
		if ((error = pg_simple(conn, set, NULL)) < 0)
			return error;
		PGresult *res = PQexecParams(pg, "SELECT pg_catalog.pg_advisory_lock($1::bigint)",
			1, NULL, params, NULL, NULL, 0);
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		bool timed_out = state && !strcmp(state, "55P03");
		error = 0;
		if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
			error = pg_result_error(pg, res, NULL, 0, NULL);
		PQclear(res);
		PQclear(PQexec(pg, "RESET lock_timeout"));
		if (timed_out)
			return pg_locked_error(conn, name, timeout_ms);
		return error;
	}

	long deadline = pg_now_ms() + timeout_ms;
	for (;;) {
		long left = deadline - pg_now_ms();
		if (timeout_ms > 0 && left <= 0)
			return pg_locked_error(conn, name, timeout_ms);
		pg_sleep_ms(timeout_ms < 0 || left > 50 ? 50 : left);
		if ((error = pg_scalar(pg, &got, "SELECT pg_catalog.pg_try_advisory_lock($1::bigint)",
			params, 1)) < 0)
			return error;
		if (got && !strcmp(got, "t")) {
			free(got);
			return 0;
		}
		free(got);
	}
}

/* Release one hold of the lock; not holding it is not an error. */
static int pg_unlock(df_conn *conn, const char *name)
{
	char key[32], *got = NULL;
	const char *params[1] = { key };
	int error;

	snprintf(key, sizeof(key), "%lld", (long long)pg_lock_key(name));
	error = pg_scalar(PG(conn), &got, "SELECT pg_catalog.pg_advisory_unlock($1::bigint)", params, 1);
	free(got);
	return error;
}

/* "pid 1234, user app, host 127.0.0.1, application devflow", or NULL when free. */
static int pg_lock_holder(df_conn *conn, const char *name, char **out)
{
	static const char sql[] =
		"SELECT l.pid::text, a.usename::text, host(a.client_addr), a.application_name "
		"FROM pg_catalog.pg_locks l "
		"LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
		"WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
		"AND l.classid = $1::oid AND l.objid = $2::oid "
		"AND l.database = (SELECT oid FROM pg_catalog.pg_database "
		"                  WHERE datname = pg_catalog.current_database()) "
		"LIMIT 1";
	uint64_t key = (uint64_t)pg_lock_key(name);
	char hi[16], lo[16];
	const char *params[2] = { hi, lo };
	PGresult *res;
	df_buf b = DF_BUF_INIT;
	int error = 0;

	*out = NULL;
	snprintf(hi, sizeof(hi), "%u", (unsigned)(key >> 32));
	snprintf(lo, sizeof(lo), "%u", (unsigned)(key & 0xffffffffu));
	res = PQexecParams(PG(conn), sql, 2, NULL, params, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		error = pg_result_error(PG(conn), res, NULL, 0, NULL);
		goto out;
	}
	if (PQntuples(res) == 0)
		goto out;
	df_buf_printf(&b, "pid %s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1))
		df_buf_printf(&b, ", user %s", PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2))
		df_buf_printf(&b, ", host %s", PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 3) && *PQgetvalue(res, 0, 3))
		df_buf_printf(&b, ", application %s", PQgetvalue(res, 0, 3));
	if (df_buf_oom(&b) || !(*out = df_buf_detach(&b)))
		error = df_error_oom();
out:
	df_buf_release(&b);
	PQclear(res);
	return error;
}

static int pg_identity(df_conn *conn, df_identity *out)
{
	static const char sql[] =
		"SELECT pg_catalog.current_database()::text, "
		"CASE WHEN pg_catalog.has_function_privilege("
		"  pg_catalog.to_regprocedure('pg_catalog.pg_control_system()'), 'EXECUTE') "
		"THEN (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) END, "
		"host(pg_catalog.inet_server_addr()), pg_catalog.inet_server_port()::text";
	PGconn *pg = PG(conn);
	PGresult *res;
	const char *v;
	int error = 0;

	snprintf(out->engine, sizeof(out->engine), "postgres");
	v = PQparameterStatus(pg, "server_version");
	snprintf(out->version, sizeof(out->version), "%.*s",
		v ? (int)strcspn(v, " ") : 0, v ? v : "");
	out->version_num = PQserverVersion(pg);
	res = PQexec(pg, sql);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		error = pg_result_error(pg, res, NULL, 0, NULL);
		goto out;
	}
	snprintf(out->database, sizeof(out->database), "%s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1))
		snprintf(out->system_id, sizeof(out->system_id), "%s", PQgetvalue(res, 0, 1));
	else if (!PQgetisnull(res, 0, 2))
		snprintf(out->system_id, sizeof(out->system_id), "server:%s:%s",
			PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	else
		snprintf(out->system_id, sizeof(out->system_id), "server:%s:%s",
			PQhost(pg) ? PQhost(pg) : "", PQport(pg) ? PQport(pg) : "");
out:
	PQclear(res);
	return error;
}

/*
 * Column names of `table` in current_schema(), lower case, in order.  The
 * name is matched as given, then folded to lower case (an unquoted
 * identifier) if that finds nothing.
 */
static int pg_table_columns(df_conn *conn, df_rows **out, const char *table)
{
	static const char sql[] =
		"SELECT lower(column_name::text) AS name FROM information_schema.columns "
		"WHERE table_schema = current_schema() AND table_name = ? "
		"ORDER BY ordinal_position";
	int error;

	if ((error = pg_query(conn, out, sql, (const char *const[]){ table }, 1)) < 0)
		return error;
	if ((*out)->nrows == 0) {
		char *low = strdup(table);
		bool upper = false;
		if (!low)
			return df_error_oom();
		for (char *p = low; *p; p++)
			if (*p >= 'A' && *p <= 'Z') {
				*p = (char)(*p - 'A' + 'a');
				upper = true;
			}
		if (upper) {
			df_rows_free(*out);
			*out = NULL;
			error = pg_query(conn, out, sql, (const char *const[]){ low }, 1);
		}
		free(low);
	}
	return error;
}

const df_driver df_driver_postgres = {
	.version = DF_DRIVER_VERSION,
	.name = "postgres",
	.dialect = DF_DIALECT_POSTGRES,
	.caps = DF_CAP_TRANSACTIONAL_DDL | DF_CAP_ADVISORY_LOCK,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.query = pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lock = pg_lock,
	.unlock = pg_unlock,
	.lock_holder = pg_lock_holder,
	.identity = pg_identity,
	.table_columns = pg_table_columns,
};
