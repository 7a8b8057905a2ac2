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
 *   'database "x" does not exist'                         DF_EUNKNOWNDB
 *   "SSL was required", "SSL error", certificates         DF_ETLS
 *   "permission denied for database", "not permitted
 *    to log in", "no pg_hba.conf entry"                   DF_EPERM, connect_phase
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
 *
 * Backups, restores and schema snapshots run pg_dump / pg_restore of the
 * server's major version (docs/backup.md); the password reaches them only
 * through a 0600 passfile: pg_tool.c.  The check for a transaction pooler
 * in front of the server, and the sessions using a table: pg_pooler.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "util/lazy.h"
#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/pg_int.h"
#include "util/sha256.h"
#include "util/banned.h"

void df__pg_discard_notice(void *arg, const char *message)
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
bool df__pg_has(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static int pg_connect_error(const df_dsn *dsn, PGconn *pg)
{
	char *msg = pg_clean_message(PQerrorMessage(pg), dsn);
	const char *m = msg ? msg : "unknown error";
	const char *host = dsn->host ? dsn->host : "the local socket";
	int code;

	if (df__pg_has(m, "password authentication failed") ||
	    df__pg_has(m, "authentication failed") ||
	    df__pg_has(m, "no password supplied") ||
	    df__pg_has(m, "password is required") ||
	    (df__pg_has(m, "role \"") && df__pg_has(m, "does not exist"))) {
		code = df_error_set(DF_EAUTH, "cannot log in to postgres: %s", m);
		df_error_hint("check the user name and password in the database URL");
	} else if (df__pg_has(m, "could not translate host name") ||
		   df__pg_has(m, "Name or service not known")) {
		code = df_error_set(DF_EHOST, "unknown database host '%s': %s", host, m);
		df_error_hint("check the host name in the database URL");
	} else if (df__pg_has(m, "database \"") && df__pg_has(m, "does not exist")) {
		code = df_error_set(DF_EUNKNOWNDB, "no database '%s' on the postgres server: %s",
			dsn->database ? dsn->database : "", m);
		df_error_hint("create the database first (createdb %s), or fix its name in the database URL",
			dsn->database ? dsn->database : "NAME");
	} else if (df__pg_has(m, "SSL was required") || df__pg_has(m, "SSL error") || df__pg_has(m, "SSL SYSCALL") ||
		   df__pg_has(m, "certificate") || df__pg_has(m, "SSL connection") || df__pg_has(m, "sslmode") ||
		   df__pg_has(m, "GSSAPI encryption") || df__pg_has(m, "TLS")) {
		const char *mode = dsn->query ? strstr(dsn->query, "sslmode=") : NULL;
		code = df_error_set(DF_ETLS, "cannot set up TLS with postgres: %s", m);
		df_error_hint("the server does not give the TLS the URL asks for (sslmode=%.*s): enable SSL "
			"on the server, or fix sslmode and the certificate settings in the database URL",
			mode ? (int)strcspn(mode + 8, "&") : 7, mode ? mode + 8 : "require");
	} else if (df__pg_has(m, "permission denied") || df__pg_has(m, "not permitted to log in") ||
		   df__pg_has(m, "no pg_hba.conf entry") || df__pg_has(m, "pg_hba.conf rejects")) {
		code = df_error_set(DF_EPERM, "not allowed to connect to postgres: %s", m);
		pg_connect_phase();
		df_error_hint("ask for CONNECT on the database and LOGIN for the role, "
			"or check pg_hba.conf");
	} else {
		code = df_error_set(DF_ECONNREFUSED, "cannot connect to postgres: %s", m);
		if (dsn->port)
			df_error_hint("is the server running on %s:%d and accepting connections? "
				"check the database URL", host, dsn->port);
		else
			df_error_hint("is the server running on %s and accepting connections? "
				"check the database URL", host);
	}
	free(msg);
	return code;
}

/* Connect to `dsn` with devflow's defaults; NULL only when out of memory. */
PGconn *df__pg_connect(const df_dsn *dsn)
{
	/* Later keywords override earlier ones: the URL (dbname) wins. */
	static const char *const keys[] = {
		"fallback_application_name", "client_encoding", "connect_timeout",
		"dbname", NULL,
	};
	const char *vals[] = { "devflow", "UTF8", "10", dsn->url, NULL };

	return PQconnectdbParams(keys, vals, 1);
}

static int pg_open(df_conn **out, const df_dsn *dsn)
{
	struct pg_conn *c;
	PGconn *pg;
	int error;

	*out = NULL;
	if ((error = df__lazy_load(DF_LAZY_PQ)) < 0)
		return error;
	pg = df__pg_connect(dsn);
	if (!pg)
		return df_error_oom();
	PQsetNoticeProcessor(pg, df__pg_discard_notice, NULL);
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

/* The value of `key` in libpq's options, NULL when unset or empty. */
static const char *pg_opt(const PQconninfoOption *o, const char *key)
{
	for (; o && o->keyword; o++)
		if (!strcmp(o->keyword, key))
			return o->val && *o->val ? o->val : NULL;
	return NULL;
}

/* The `i`th entry of a comma-separated list into buf, or "" past its end. */
static const char *pg_nth(char *buf, size_t n, const char *list, size_t i)
{
	const char *p = list;

	*buf = '\0';
	for (; p && i; i--) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (p) {
		size_t len = strcspn(p, ",");
		if (len >= n)
			len = n - 1;
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	return buf;
}

static size_t pg_count(const char *list)
{
	size_t n = list ? 1 : 0;

	for (const char *p = list; p && *p; p++)
		n += *p == ',';
	return n;
}

/* The URL's options as libpq reads them (its message scrubbed of secrets). */
int df__pg_conninfo_parse(PQconninfoOption **out, const df_dsn *dsn)
{
	char *errmsg = NULL;
	int error;

	if ((*out = PQconninfoParse(dsn->url, &errmsg)))
		return 0;
	if (errmsg)
		df_dsn_scrub(dsn, errmsg);
	error = df_error_set(DF_EUSAGE, "cannot read the postgres URL: %s",
		errmsg ? errmsg : "out of memory");
	PQfreemem(errmsg);
	return error;
}

/*
 * The options libpq reads for the URL with a service file applied: a
 * connection started with a sslmode libpq refuses stops while its options
 * are checked, before any name lookup or socket, holding every option as
 * libpq read it (the URL's, the service's, the environment's).  No
 * environment variable is lent (PGSERVICE): threads may run.
 */
static PQconninfoOption *pg_service_options(const df_dsn *dsn)
{
	const char *const keys[] = { "dbname", "sslmode", NULL };
	const char *const vals[] = { dsn->url, "devflow-never-connects", NULL };
	PQconninfoOption *o;
	PGconn *pg = PQconnectStartParams(keys, vals, 1);

	if (!pg)
		return NULL;
	o = PQstatus(pg) == CONNECTION_BAD ? PQconninfo(pg) : NULL;
	PQfinish(pg);
	return o;
}

/*
 * The hosts libpq will reach for the URL, as libpq reads them: the URL's
 * own options (?host= and ?hostaddr= override the authority), then a
 * service file (?service= or PGSERVICE), then PGHOST / PGHOSTADDR, in
 * libpq's order (conninfo_add_defaults).  PQconninfoParse reads only the
 * URL; a ?service= is read through pg_service_options, PQconndefaults
 * reads PGSERVICE's service and the environment.  A hostaddr wins over
 * its host: libpq connects to the address and uses the name for TLS and
 * authentication only.
 */
static int pg_hosts(df_strlist *out, const df_dsn *dsn)
{
	PQconninfoOption *opts, *defs;
	const char *host, *addr;
	char a[256], h[256];
	size_t n, na, nh;
	int error = 0;

	if ((error = df__lazy_load(DF_LAZY_PQ)) < 0)
		return error;
	if ((error = df__pg_conninfo_parse(&opts, dsn)) < 0)
		return error;
	defs = pg_opt(opts, "service") ? pg_service_options(dsn) : PQconndefaults();
	if (!defs) {
		PQconninfoFree(opts);
		return df_error_oom();
	}
	host = pg_opt(opts, "host") ? pg_opt(opts, "host") : pg_opt(defs, "host");
	addr = pg_opt(opts, "hostaddr") ? pg_opt(opts, "hostaddr") : pg_opt(defs, "hostaddr");
	nh = pg_count(host);
	na = pg_count(addr);
	n = nh > na ? nh : na;
	if (!n)
		error = df_strlist_push(out, "");        /* the default socket */
	for (size_t i = 0; i < n && !error; i++) {
		pg_nth(a, sizeof(a), addr, i);
		pg_nth(h, sizeof(h), host, i);
		if (nh && na && nh != na) {
			/* libpq refuses the mismatch; judge every entry of both */
			if ((i < na && (error = df_strlist_push(out, a)) < 0) ||
			    (i < nh && (error = df_strlist_push(out, h)) < 0))
				break;
		} else {
			error = df_strlist_push(out, *a ? a : h);
		}
	}
	PQconninfoFree(defs);
	PQconninfoFree(opts);
	return error < 0 ? error : 0;
}

static int pg_transport(df_conn *conn, int *fd, bool *tls)
{
	*fd = PQsocket(PG(conn));
	*tls = PQsslInUse(PG(conn)) == 1;
	return 0;
}

static void pg_close(df_conn *conn)
{
	struct pg_conn *c = (struct pg_conn *)conn;

	if (!c)
		return;
	if (c->cancel)
		PQfreeCancel(c->cancel);
	PQfinish(c->pg);
	free(c);
}

static int pg_in_transaction(df_conn *conn)
{
	switch (PQtransactionStatus(PG(conn))) {
	case PQTRANS_IDLE: return 0;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
	case PQTRANS_ACTIVE: return 1;
	default: return -1;
	}
}

static int pg_cancel_arm(df_conn *conn, bool on)
{
	struct pg_conn *c = (struct pg_conn *)conn;
	PGcancel *old = c->cancel;

	c->cancel = NULL;
	if (old)
		PQfreeCancel(old);
	if (on && !(c->cancel = PQgetCancel(c->pg)))
		return df_error_set(DF_EINTERNAL, "cannot prepare to cancel statements on this connection");
	return 0;
}

/* From a signal handler: PQcancel is documented as safe there. */
static void pg_cancel(df_conn *conn)
{
	struct pg_conn *c = (struct pg_conn *)conn;
	PGcancel *cn = c->cancel;
	char errbuf[256];

	if (cn)
		PQcancel(cn, errbuf, (int)sizeof(errbuf));
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

int df__pg_query(df_conn *conn, df_rows **out, const char *sql,
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

/*
 * Deferred constraints (DEFERRABLE INITIALLY DEFERRED keys, constraint
 * triggers) are checked at COMMIT: check them now, with COMMIT's error.
 * `again`: in a savepoint rolled back afterwards, which restores what was
 * deferred (and marks its checks undone), so the rest of a dry-run's
 * transaction runs as the real run would.
 */
static int pg_check_deferred(df_conn *conn, bool again)
{
	df_error *saved;
	int error;

	if (!again)
		return pg_simple(conn, "SET CONSTRAINTS ALL IMMEDIATE", NULL);
	if ((error = pg_simple(conn, "SAVEPOINT devflow_deferred", NULL)) < 0)
		return error;
	error = pg_simple(conn, "SET CONSTRAINTS ALL IMMEDIATE", NULL);
	saved = error ? df_error_save() : NULL;
	if (pg_simple(conn, "ROLLBACK TO SAVEPOINT devflow_deferred; "
		"RELEASE SAVEPOINT devflow_deferred", NULL) < 0 && !error)
		return df_error_last()->code;
	if (saved)
		df_error_restore(saved);
	return error;
}

/* The advisory lock key of `name`: SHA-256's first 8 bytes, big-endian. */
static int64_t pg_lock_key(const char *name)
{
	unsigned char md[32];
	uint64_t k = 0;

	df_sha256_raw(md, name, strlen(name));
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

long df__pg_now_ms(void)
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

	long deadline = df__pg_now_ms() + timeout_ms;
	for (;;) {
		long left = deadline - df__pg_now_ms();
		if (timeout_ms > 0 && left <= 0)
			return pg_locked_error(conn, name, timeout_ms);
		if (df_conn_cancelled(conn))
			return df_error_set(DF_EINTERRUPTED, "interrupted while waiting for migration lock '%s'",
				name);
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
	/* the catalogs, not information_schema.columns: that view costs 5-10 ms
	 * on a fresh connection, and every run asks a few times */
	static const char sql[] =
		"SELECT lower(a.attname::text) AS name FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = current_schema() AND c.relname = ? "
		"AND c.relkind IN ('r', 'p', 'v', 'f') AND a.attnum > 0 AND NOT a.attisdropped "
		"ORDER BY a.attnum";
	/* an unquoted name folds case: the wrapper retries lower-cased */
	return df__pg_query(conn, out, sql, (const char *const[]){ table }, 1);
}

const df_driver df_driver_postgres = {
	.version = DF_DRIVER_VERSION,
	.name = "postgres",
	.dialect = DF_DIALECT_POSTGRES,
	.caps = DF_CAP_TRANSACTIONAL_DDL | DF_CAP_ADVISORY_LOCK,
	.open = pg_open,
	.hosts = pg_hosts,
	.transport = pg_transport,
	.close = pg_close,
	.exec = pg_exec,
	.query = df__pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lock = pg_lock,
	.unlock = pg_unlock,
	.lock_holder = pg_lock_holder,
	.identity = pg_identity,
	.table_columns = pg_table_columns,
	.backup = df__pg_backup,
	.restore = df__pg_restore,
	.schema_dump = df__pg_schema_dump,
	.table_counts = df__pg_table_counts,
	.sessions_using = df__pg_sessions_using,
	.backup_ext = "dump",
	.in_transaction = pg_in_transaction,
	.check_deferred = pg_check_deferred,
	.cancel_arm = pg_cancel_arm,
	.cancel = pg_cancel,
	.pooler = df__pg_pooler,
};
