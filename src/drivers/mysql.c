/*
 * The MySQL/MariaDB driver (libmariadb, MariaDB Connector/C).
 *
 * Connecting: user, password, host, port and database come from the parsed
 * URL.  A host name means TCP, even "localhost" (the C client would take a
 * socket there); no host, or ?socket=PATH, means the Unix socket.  Other URL
 * parameters: sslmode (or ssl-mode) disable|prefer|require|verify-ca|
 * verify-full, sslca=PATH (TLS, the server's certificate verified against
 * it), sslcert/sslkey=PATH, ssl=true|false, connect_timeout (seconds,
 * default 10), charset (default utf8mb4); the TLS ones reach the client
 * tools' options file too.  Multi-statements and LOCAL INFILE are off.
 *
 * Error classification at connect (all exit 4):
 *   2002, 2003, 2013, 1040 (refused, timeout, too many)  DF_ECONNREFUSED
 *   2005 (unknown host)                                  DF_EHOST
 *   1045, 1698, 1862 (access denied, password expired)   DF_EAUTH
 *   1044, 1049, 1130, 4151 (no access to the database,
 *     unknown database, host not allowed, locked)        DF_EPERM, connect_phase
 * Statements: 1044, 1142, 1143, 1227, 1370 -> DF_EPERM; 2006, 2013 (lost
 * connection) -> DF_ECONNREFUSED; the rest DF_ESQL, with the message
 * "ERROR code (SQLSTATE): message" and the error offset derived from the
 * server's "... near '<text>' at line N".
 *
 * The migration lock is GET_LOCK(), which the server drops with the session.
 * Its name is "DATABASE/NAME" (the URL's database; GET_LOCK names are global
 * to the server, PostgreSQL advisory locks are per database, so both scope
 * the lock to one database), replaced by its SHA-256 in hex when longer than
 * MySQL's limit of 64 characters.
 *
 * identity.system_id is @@server_uuid on MySQL.  MariaDB has none, so there it
 * is "mariadb:" and the first 32 hex digits of
 * SHA-256("@@hostname:@@port:@@datadir:@@server_id"): stable across
 * restarts, different for two servers on one machine, and readable by any
 * user.
 *
 * Backups, restores and schema snapshots run mariadb-dump and the mariadb
 * client (or mysqldump / mysql) with a 0600 --defaults-extra-file holding
 * the credentials (docs/backup.md): my_tool.c.  The URL's parameters:
 * my_params.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "util/lazy.h"
#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/client_tool.h"
#include "drivers/my_int.h"
#include "util/sha256.h"
#include "util/banned.h"

static void my_connect_phase(void)
{
	df_error *e = (df_error *)df_error_last();

	if (e)
		e->connect_phase = 1;
}

static int my_connect_error(const df_dsn *dsn, MYSQL *my)
{
	unsigned int no = mysql_errno(my);
	char *msg = strdup(mysql_error(my));
	const char *host = dsn->host ? dsn->host : "the local socket";
	int code;

	if (!msg)
		return df_error_oom();
	df_dsn_scrub(dsn, msg);
	switch (no) {
	case CR_UNKNOWN_HOST:
		code = df_error_set(DF_EHOST, "unknown database host '%s': ERROR %u (%s): %s",
			host, no, mysql_sqlstate(my), msg);
		df_error_hint("check the host name in the database URL");
		break;
	case ER_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
	case 1862: /* ER_MUST_CHANGE_PASSWORD_LOGIN */
		code = df_error_set(DF_EAUTH, "cannot log in to mysql: ERROR %u (%s): %s",
			no, mysql_sqlstate(my), msg);
		df_error_hint("check the user name and password in the database URL");
		break;
	case ER_DBACCESS_DENIED_ERROR:
	case ER_HOST_NOT_PRIVILEGED:
	case 4151: /* ER_ACCOUNT_HAS_BEEN_LOCKED */
		code = df_error_set(DF_EPERM, "not allowed to connect to mysql: ERROR %u (%s): %s",
			no, mysql_sqlstate(my), msg);
		my_connect_phase();
		df_error_hint("GRANT the user access to the database, or fix the database name in the URL");
		break;
	case ER_BAD_DB_ERROR:
		code = df_error_set(DF_EUNKNOWNDB, "no database '%s' on the mysql server: ERROR %u (%s): %s",
			dsn->database ? dsn->database : "", no, mysql_sqlstate(my), msg);
		df_error_hint("create the database first (CREATE DATABASE %s), or fix its name in the "
			"database URL", dsn->database ? dsn->database : "NAME");
		break;
	case 2026: /* CR_SSL_CONNECTION_ERROR */
		code = df_error_set(DF_ETLS, "cannot set up TLS with mysql: ERROR %u (%s): %s",
			no, mysql_sqlstate(my), msg);
		df_error_hint("the server does not offer the TLS the URL asks for: enable TLS on the "
			"server, or fix sslmode in the database URL");
		break;
	default:
		code = df_error_set(DF_ECONNREFUSED, "cannot connect to mysql: ERROR %u (%s): %s",
			no, mysql_sqlstate(my), msg);
		if (dsn->port)
			df_error_hint("is the server running on %s:%d and accepting connections? "
				"check the database URL", host, dsn->port);
		else
			df_error_hint("is the server running on %s and accepting connections? "
				"check the database URL", host);
		break;
	}
	free(msg);
	return code;
}

static int my_open(df_conn **out, const df_dsn *dsn)
{
	struct my_conn *c = NULL;
	MYSQL *my = NULL;
	struct my_params prm = { 0 };
	unsigned int secs = 10, proto = MYSQL_PROTOCOL_TCP, no_infile = 0;
	my_bool on = 1;
	int error = 0;

	*out = NULL;
	if ((error = df__lazy_load(DF_LAZY_MARIADB)) < 0)
		return error;
	if ((error = df__my_check_params(dsn->query)) < 0 ||
	    (error = df__my_params_read(&prm, dsn->query)) < 0)
		goto out;
	const char *socket = prm.socket, *sslmode = prm.sslmode, *timeout = prm.timeout;
	const char *charset = prm.charset;
	if (timeout && (secs = (unsigned int)strtoul(timeout, NULL, 10)) == 0)
		secs = 10;
	if (!(c = calloc(1, sizeof(*c))) ||
	    (dsn->database && !(c->database = strdup(dsn->database))) ||
	    !(my = mysql_init(NULL))) {
		error = df_error_oom();
		goto out;
	}
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, charset ? charset : "utf8mb4");
	mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &no_infile);   /* an unsigned int */
	if (dsn->host && *dsn->host != '/' && !socket)
		mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
	if (prm.sslca)
		mysql_options(my, MYSQL_OPT_SSL_CA, prm.sslca);
	if (prm.sslcert)
		mysql_options(my, MYSQL_OPT_SSL_CERT, prm.sslcert);
	if (prm.sslkey)
		mysql_options(my, MYSQL_OPT_SSL_KEY, prm.sslkey);
	if (sslmode) {
		if (!strcasecmp(sslmode, "require") || !strcasecmp(sslmode, "required")) {
			mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
		} else if (!strncasecmp(sslmode, "verify", 6)) {
			mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
			mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		} else if (strcasecmp(sslmode, "disable") && strcasecmp(sslmode, "disabled") &&
			   strcasecmp(sslmode, "prefer") && strcasecmp(sslmode, "preferred")) {
			error = df_error_set(DF_EUSAGE, "unknown sslmode '%s' in the mysql URL", sslmode);
			df_error_hint("use disable, prefer, require, verify-ca or verify-full");
			goto out;
		}
	}
	if (!mysql_real_connect(my,
			dsn->host && *dsn->host != '/' ? dsn->host : NULL,
			dsn->user, dsn->password ? dsn->password : "", dsn->database,
			(unsigned int)dsn->port,
			socket ? socket : (dsn->host && *dsn->host == '/' ? dsn->host : NULL),
			CLIENT_MULTI_RESULTS | CLIENT_MULTI_STATEMENTS)) {
		error = my_connect_error(dsn, my);
		goto out;
	}
	{
		/* libmariadb leaves its socket inheritable: a hook or client tool
		 * started later must not get the connection */
		my_socket sock = mysql_get_socket(my);
		int fl;
		if (sock >= 0 && (fl = fcntl(sock, F_GETFD)) >= 0)
			fcntl(sock, F_SETFD, fl | FD_CLOEXEC);
	}
	if (sslmode && strcasecmp(sslmode, "disable") && strcasecmp(sslmode, "disabled") &&
	    strcasecmp(sslmode, "prefer") && strcasecmp(sslmode, "preferred") && !mysql_get_ssl_cipher(my)) {
		/* the client library may let a server without TLS through: never
		 * talk in clear text when the URL asks for TLS */
		error = df_error_set(DF_ETLS, "cannot set up TLS with mysql: the URL asks for sslmode=%s, "
			"and the server at %s does not offer TLS", sslmode, dsn->host ? dsn->host : "the local socket");
		df_error_hint("enable TLS on the server (have_ssl), or fix sslmode in the database URL");
		goto out;
	}
	c->my = my;
	c->mariadb = strstr(mysql_get_server_info(my), "MariaDB") != NULL;
	c->wake[0] = c->wake[1] = -1;
	my = NULL;
	if (!(c->url = strdup(dsn->url))) {
		error = df_error_oom();
		goto out;
	}
	*out = &c->base;
	c = NULL;
out:
	if (my)
		mysql_close(my);
	if (c) {
		if (c->my)
			mysql_close(c->my);
		free(c->database);
	}
	free(c);
	df__my_params_release(&prm);
	return error;
}

static int my_cancel_arm(df_conn *conn, bool on);

/*
 * The host Connector/C will reach: the URL's, as devflow hands it over
 * (?socket= or a host starting with '/' is a socket; no host, the default
 * socket).  Connector/C reads no MYSQL_HOST and, without
 * MYSQL_READ_DEFAULT_FILE (never set here), no option file.
 */
static int my_hosts(df_strlist *out, const df_dsn *dsn)
{
	struct my_params prm;
	int error;

	if ((error = df__my_params_read(&prm, dsn->query)) < 0)
		return error;
	error = df_strlist_push(out, prm.socket ? prm.socket : dsn->host ? dsn->host : "");
	df__my_params_release(&prm);
	return error;
}

static int my_transport(df_conn *conn, int *fd, bool *tls)
{
	*fd = (int)mysql_get_socket(MY(conn));
	*tls = mysql_get_ssl_cipher(MY(conn)) != NULL;
	return 0;
}

static void my_close(df_conn *conn)
{
	struct my_conn *c = (struct my_conn *)conn;

	if (!c)
		return;
	my_cancel_arm(conn, false);
	mysql_close(c->my);
	free(c->database);
	free(c->url);
	free(c);
}

static int my_in_transaction(df_conn *conn)
{
	return (MY(conn)->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

/* The watcher: on 'k', KILL QUERY the connection's thread from a second
 * connection; on 'q' (or a closed pipe), end. */
static void *my_watch(void *arg)
{
	struct my_conn *c = arg;
	unsigned long id = mysql_thread_id(c->my);
	char ch;

	mysql_thread_init();
	for (;;) {
		ssize_t n = read(c->wake[0], &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ch == 'q')
			break;
		df_dsn *dsn = NULL;
		df_conn *k = NULL;
		char sql[64];
		if (df_dsn_parse(&dsn, c->url) == 0 && my_open(&k, dsn) == 0) {
			snprintf(sql, sizeof(sql), "KILL QUERY %lu", id);
			mysql_query(MY(k), sql);
		}
		if (k)
			my_close(k);
		df_dsn_free(dsn);
		df_error_clear();
		atomic_fetch_add(&c->kills_done, 1);
	}
	mysql_thread_end();
	return NULL;
}

static int my_cancel_arm(df_conn *conn, bool on)
{
	struct my_conn *c = (struct my_conn *)conn;

	if (c->watching) {
		ssize_t w;
		do
			w = write(c->wake[1], "q", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(c->watcher, NULL);
		c->watching = false;
	}
	/* a KILL the watcher did not send now never will be */
	atomic_store(&c->kills_done, atomic_load(&c->kills_asked));
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
		c->wake[0] = c->wake[1] = -1;
	}
	if (!on)
		return 0;
	if (pipe2(c->wake, O_CLOEXEC) < 0) {
		c->wake[0] = c->wake[1] = -1;
		return df_error_set(DF_EIO, "cannot prepare to cancel statements: %s", strerror(errno));
	}
	/* the thread is born with SIGINT and SIGTERM blocked: they belong to
	 * the thread that runs the statements */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&c->watcher, NULL, my_watch, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(c->wake[0]);
		close(c->wake[1]);
		c->wake[0] = c->wake[1] = -1;
		return df_error_set(DF_EINTERNAL, "cannot start the thread that cancels statements");
	}
	c->watching = true;
	return 0;
}

/* From a signal handler: one byte into the pipe wakes the watcher. */
static void my_cancel(df_conn *conn)
{
	struct my_conn *c = (struct my_conn *)conn;

	atomic_fetch_add(&c->kills_asked, 1);
	if (c->wake[1] < 0 || write(c->wake[1], "k", 1) < 0)
		atomic_fetch_sub(&c->kills_asked, 1);
}

/*
 * A message without "near": the first name it quotes ("Unknown data type:
 * 'INTEGR'", "Table 'a' already exists"), found as a word in the statement
 * (outside the first keyword), or -1.
 */
static long quoted_offset(const char *msg, const char *sql, size_t len)
{
	const char *q = strchr(msg, '\''), *e;
	size_t n;

	if (!q || !(e = strchr(q + 1, '\'')) || (n = (size_t)(e - q - 1)) == 0 || n > 64)
		return -1;
	q++;
	for (size_t i = 0; i + n <= len; i++) {
		bool before = i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_');
		bool after = i + n == len || !(isalnum((unsigned char)sql[i + n]) || sql[i + n] == '_');
		if (before && after && !strncasecmp(sql + i, q, n))
			return (long)i;
	}
	return -1;
}

/*
 * Byte offset in sql[0..len) that "... near '<near>' at line N" blames, or
 * -1.  The near text is the rest of the statement from the failing token,
 * cut at 80 characters (MariaDB then appends "...").
 */
static long my_error_offset(const char *msg, const char *sql, size_t len)
{
	const char *np = strstr(msg, " near '"), *lp, *end;
	size_t line_start = 0, line_end, nlen, i, lead;
	long line, cur = 1, at = -1;

	if (!np)
		return quoted_offset(msg, sql, len);
	np += 7;
	/* the last "' at line " closes the near text (which may hold quotes) */
	lp = NULL;
	for (const char *s = np; (s = strstr(s, "' at line ")); s++)
		lp = s;
	if (!lp)
		return -1;
	line = strtol(lp + 10, NULL, 10);
	nlen = (size_t)(lp - np);
	if (line < 1)
		line = 1;
	for (i = 0; i < len && cur < line; i++)
		if (sql[i] == '\n') {
			cur++;
			line_start = i + 1;
		}
	if (cur < line)
		return -1;
	end = memchr(sql + line_start, '\n', len - line_start);
	line_end = end ? (size_t)(end - sql) : len;
	if (nlen == 0)
		return (long)len;
	/* MariaDB sometimes quotes from the white space before the token */
	for (lead = 0; lead < nlen && strchr(" \t\r\n", np[lead]); lead++)
		;
	if (nlen <= len && !memcmp(sql + len - nlen, np, nlen) && len - nlen + lead >= line_start &&
	    len - nlen <= line_end) {
		/* the whole rest of the statement: exact */
		at = (long)(len - nlen);
	} else {
		if (nlen > 3 && !memcmp(np + nlen - 3, "...", 3))
			nlen -= 3;  /* cut at 80 characters */
		for (i = line_start; at < 0 && i <= line_end && i + nlen <= len; i++)
			if (!memcmp(sql + i, np, nlen))
				at = (long)i;
		for (i = line_end; at < 0 && i + nlen <= len; i++)
			if (!memcmp(sql + i, np, nlen))
				at = (long)i;
		if (at < 0)
			return (long)line_start;
	}
	return at + (long)lead;
}

/* Set the last error from the connection's current error. */
static int my_error(MYSQL *my, const char *sql, size_t len, long *err_offset)
{
	unsigned int no = mysql_errno(my);
	const char *msg = mysql_error(my);
	int code = DF_ESQL;

	if (err_offset)
		*err_offset = sql ? my_error_offset(msg, sql, len) : -1;
	switch (no) {
	case ER_DBACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_PROCACCESS_DENIED_ERROR:
		code = DF_EPERM;
		break;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
		df_error_set(DF_ECONNREFUSED, "lost the connection to mysql: ERROR %u (%s): %s",
			no, mysql_sqlstate(my), msg);
		df_error_hint("check that the server is still running");
		return DF_ECONNREFUSED;
	}
	{
		/* "at line N" counts lines within the statement: once the position is
		 * mapped to the file (the caller names file:line:column), it misleads */
		const char *at = NULL;
		int cut = -1;
		for (const char *p = msg; (p = strstr(p, "' at line ")); p++)
			at = p;
		if (at && err_offset && *err_offset >= 0 && at[10 + strspn(at + 10, "0123456789")] == '\0')
			cut = (int)(at - msg) + 1;
		if (cut >= 0)
			df_error_set(code, "ERROR %u (%s): %.*s", no, mysql_sqlstate(my), cut, msg);
		else
			df_error_set(code, "ERROR %u (%s): %s", no, mysql_sqlstate(my), msg);
	}
	if (code == DF_EPERM)
		df_error_hint("run it as a user that has the privilege, or GRANT it");
	return code;
}

/* Copy a stored result into a new df_rows (0 columns when res is NULL). */
static int my_rows(df_rows **out, MYSQL_RES *res)
{
	unsigned int ncols = res ? mysql_num_fields(res) : 0, j;
	MYSQL_FIELD *fields = res ? mysql_fetch_fields(res) : NULL;
	const char **names = calloc(ncols + 1, sizeof(char *));
	size_t *sl = calloc(ncols + 1, sizeof(size_t));
	df_rows *rows = NULL;
	MYSQL_ROW row;
	int error;

	if (!names || !sl) {
		error = df_error_oom();
		goto out;
	}
	for (j = 0; j < ncols; j++)
		names[j] = fields[j].name;
	if ((error = df_rows_new(&rows, ncols, names)) < 0)
		goto out;
	while (res && (row = mysql_fetch_row(res))) {
		unsigned long *lens = mysql_fetch_lengths(res);
		for (j = 0; j < ncols; j++)
			sl[j] = lens[j];
		if ((error = df_rows_add(rows, (const char *const *)row, sl)) < 0)
			goto out;
	}
	*out = rows;
	rows = NULL;
out:
	df_rows_free(rows);
	free(names);
	free(sl);
	return error;
}

/*
 * Run sql[0..len) and read every result it sends; with `out`, the first
 * result set becomes rows.
 */
/* Wait (up to 10 s) for the KILL QUERYs asked so far to be sent. */
static void my_settle(struct my_conn *c)
{
	struct timespec ts = { 0, 2 * 1000000L };

	for (int i = 0; i < 5000 && atomic_load(&c->kills_done) < atomic_load(&c->kills_asked); i++)
		nanosleep(&ts, NULL);
}

int df__my_run(df_conn *conn, df_rows **out, const char *sql, size_t len, long *err_offset)
{
	MYSQL *my = MY(conn);
	MYSQL_RES *res;
	int error = 0, more;
	bool first = true;

	my_settle((struct my_conn *)conn);

	if (mysql_real_query(my, sql, len))
		return my_error(my, sql, len, err_offset);
	do {
		res = mysql_store_result(my);
		if (!res && mysql_field_count(my) > 0) {
			error = my_error(my, NULL, 0, NULL);
			break;
		}
		if (first && out && (error = my_rows(out, res)) < 0) {
			mysql_free_result(res);
			break;
		}
		first = false;
		mysql_free_result(res);
		if ((more = mysql_next_result(my)) > 0) {
			error = my_error(my, NULL, 0, NULL);
			break;
		}
	} while (more == 0);
	if (error < 0 && out) {
		df_rows_free(*out);
		*out = NULL;
	}
	return error;
}

static int my_exec(df_conn *conn, const char *sql, size_t len, long *err_offset)
{
	*err_offset = -1;
	return df__my_run(conn, NULL, sql, len, err_offset);
}

/*
 * Inline `?` placeholders outside quotes, identifiers and comments as quoted,
 * escaped literals (NULL for NULL).
 */
static int my_inline(df_buf *out, MYSQL *my, const char *sql,
	const char *const *params, size_t nparams)
{
	const char *p = sql;
	size_t n = 0;

	while (*p) {
		char c = *p;
		if (c == '\'' || c == '"' || c == '`') {
			const char *s = p + 1;
			while (*s) {
				if (c != '`' && *s == '\\' && s[1]) {
					s += 2;
				} else if (*s == c) {
					s++;
					if (*s != c)
						break;
					s++;
				} else {
					s++;
				}
			}
			df_buf_put(out, p, (size_t)(s - p));
			p = s;
		} else if (c == '#' || (c == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t' ||
			   p[2] == '\n' || p[2] == '\r' || !p[2]))) {
			size_t k = strcspn(p, "\n");
			df_buf_put(out, p, k);
			p += k;
		} else if (c == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			size_t k = e ? (size_t)(e + 2 - p) : strlen(p);
			df_buf_put(out, p, k);
			p += k;
		} else if (c == '?') {
			if (n >= nparams) {
				n++;
				p++;
				continue;
			}
			if (!params[n]) {
				df_buf_puts(out, "NULL");
			} else {
				size_t vl = strlen(params[n]);
				if (df_buf_grow(out, 2 * vl + 3) < 0)
					return df_error_oom();
				out->ptr[out->size++] = '\'';
				out->size += mysql_real_escape_string(my, out->ptr + out->size,
					params[n], (unsigned long)vl);
				out->ptr[out->size++] = '\'';
				out->ptr[out->size] = '\0';
			}
			n++;
			p++;
		} else {
			df_buf_putc(out, c);
			p++;
		}
	}
	if (df_buf_oom(out))
		return df_error_oom();
	if (n != nparams)
		return df_error_set(DF_EINTERNAL, "query has %zu placeholders but %zu parameters",
			n, nparams);
	return 0;
}

int df__my_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams)
{
	df_buf q = DF_BUF_INIT;
	int error;

	if ((error = my_inline(&q, MY(conn), sql, params, nparams)) == 0)
		error = df__my_run(conn, out, q.ptr, q.size, NULL);
	df_buf_release(&q);
	return error;
}

/*
 * The batch as one multi-statement packet: START TRANSACTION; q...; COMMIT.
 * The server stops at the first failing statement, so on an error the
 * transaction is still open and is rolled back here.
 */
static int my_query_batch(df_conn *conn, const df_query *q, size_t n)
{
	df_buf b = DF_BUF_INIT;
	int error = 0;

	df_buf_puts(&b, "START TRANSACTION");
	for (size_t i = 0; i < n && !error; i++) {
		df_buf_puts(&b, ";\n");
		error = my_inline(&b, MY(conn), q[i].sql, q[i].params, q[i].nparams);
	}
	df_buf_puts(&b, ";\nCOMMIT");
	if (!error && df_buf_oom(&b))
		error = df_error_oom();
	if (!error && (error = df__my_run(conn, NULL, b.ptr, b.size, NULL)) < 0) {
		my_settle((struct my_conn *)conn);
		mysql_query(MY(conn), "ROLLBACK");     /* keeps the reported error */
	}
	df_buf_release(&b);
	return error;
}

static int my_simple(df_conn *conn, const char *sql)
{
	return df__my_run(conn, NULL, sql, strlen(sql), NULL);
}

static int my_begin(df_conn *conn) { return my_simple(conn, "START TRANSACTION"); }
static int my_commit(df_conn *conn) { return my_simple(conn, "COMMIT"); }
static int my_rollback(df_conn *conn) { return my_simple(conn, "ROLLBACK"); }

static void my_sha256_hex(char *hex, size_t nhex, const char *text)
{
	df_sha256 ctx;
	char full[65];

	df_sha256_init(&ctx);
	df_sha256_update(&ctx, text, strlen(text));
	df_sha256_hex(&ctx, full);
	snprintf(hex, nhex, "%s", full);
}

/* The server-side lock name for `name` (see the top of the file); caller frees. */
static char *my_lock_name(const struct my_conn *c, const char *name)
{
	df_buf b = DF_BUF_INIT;
	char hex[65];

	if (c->database && *c->database)
		df_buf_printf(&b, "%s/%s", c->database, name);
	else
		df_buf_puts(&b, name);
	if (df_buf_oom(&b))
		return NULL;
	if (b.size > 64) {
		my_sha256_hex(hex, sizeof(hex), b.ptr);
		df_buf_truncate(&b, 0);
		df_buf_puts(&b, hex);
	}
	return df_buf_detach(&b);
}

/* One value of a one-row query with params; *out: malloc'd or NULL (SQL NULL). */
static int my_scalar(df_conn *conn, char **out, const char *sql,
	const char *const *params, size_t nparams)
{
	df_rows *rows = NULL;
	const char *v;
	int error;

	*out = NULL;
	if ((error = df__my_query(conn, &rows, sql, params, nparams)) < 0)
		return error;
	if ((v = df_rows_get(rows, 0, 0)) && !(*out = strdup(v)))
		error = df_error_oom();
	df_rows_free(rows);
	return error;
}

static int my_lock_holder(df_conn *conn, const char *name, char **out);

static int my_lock(df_conn *conn, const char *name, long timeout_ms)
{
	struct my_conn *c = (struct my_conn *)conn;
	char *lname = my_lock_name(c, name), *got = NULL, *holder = NULL, secs[32];
	int error;

	if (!lname)
		return df_error_oom();
	if (timeout_ms < 0)
		snprintf(secs, sizeof(secs), "-1");
	else if (c->mariadb)
		snprintf(secs, sizeof(secs), "%ld.%03ld", timeout_ms / 1000, timeout_ms % 1000);
	else    /* MySQL takes whole seconds */
		snprintf(secs, sizeof(secs), "%ld", (timeout_ms + 999) / 1000);
	error = my_scalar(conn, &got, "SELECT GET_LOCK(?, ?)",
		(const char *const[]){ lname, secs }, 2);
	if (error < 0)
		goto out;
	if (!got) {
		error = df_error_set(DF_EINTERNAL, "cannot take migration lock '%s': GET_LOCK returned NULL",
			name);
	} else if (strcmp(got, "1")) {
		my_lock_holder(conn, name, &holder);
		if (holder)
			error = df_error_set(DF_ELOCKED, "migration lock '%s' is held by %s (waited %ld ms)",
				name, holder, timeout_ms);
		else
			error = df_error_set(DF_ELOCKED, "migration lock '%s' is held by another session "
				"(waited %ld ms)", name, timeout_ms);
		df_error_hint("wait for the other run to finish, or raise --lock-timeout");
	}
out:
	free(holder);
	free(got);
	free(lname);
	return error;
}

/* Release the lock; not holding it is not an error. */
static int my_unlock(df_conn *conn, const char *name)
{
	char *lname = my_lock_name((struct my_conn *)conn, name), *got = NULL;
	int error;

	if (!lname)
		return df_error_oom();
	error = my_scalar(conn, &got, "SELECT RELEASE_LOCK(?)", (const char *const[]){ lname }, 1);
	free(got);
	free(lname);
	return error;
}

/* "connection 42, user app, host 127.0.0.1:51234", or NULL when free. */
static int my_lock_holder(df_conn *conn, const char *name, char **out)
{
	char *lname = my_lock_name((struct my_conn *)conn, name), *id = NULL;
	df_rows *rows = NULL;
	df_buf b = DF_BUF_INIT;
	const char *v;
	int error;

	*out = NULL;
	if (!lname)
		return df_error_oom();
	if ((error = my_scalar(conn, &id, "SELECT IS_USED_LOCK(?)", (const char *const[]){ lname }, 1)) < 0 ||
	    !id)
		goto out;
	df_buf_printf(&b, "connection %s", id);
	/* Other users' sessions are visible only with the PROCESS privilege. */
	if (df__my_query(conn, &rows, "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
			(const char *const[]){ id }, 1) == 0) {
		if ((v = df_rows_get(rows, 0, 0)) && *v)
			df_buf_printf(&b, ", user %s", v);
		if ((v = df_rows_get(rows, 0, 1)) && *v)
			df_buf_printf(&b, ", host %s", v);
	}
	if (df_buf_oom(&b) || !(*out = df_buf_detach(&b)))
		error = df_error_oom();
out:
	df_buf_release(&b);
	df_rows_free(rows);
	free(id);
	free(lname);
	return error;
}

static int my_identity(df_conn *conn, df_identity *out)
{
	struct my_conn *c = (struct my_conn *)conn;
	const char *info = mysql_get_server_info(c->my), *v;
	df_rows *rows = NULL;
	int error, n;

	snprintf(out->engine, sizeof(out->engine), "mysql");
	/* "10.11.19-MariaDB-0+deb12u1" -> "10.11.19-MariaDB"; "8.0.36-log" -> "8.0.36" */
	if ((v = strstr(info, "-MariaDB")))
		n = (int)(v - info) + 8;
	else
		n = (int)strcspn(info, "-");
	snprintf(out->version, sizeof(out->version), "%.*s", n, info);
	out->version_num = (int)mysql_get_server_version(c->my);
	if ((error = df__my_query(conn, &rows,
			c->mariadb ?
			"SELECT DATABASE(), CONCAT_WS(':', @@hostname, @@port, @@datadir, @@server_id)" :
			"SELECT DATABASE(), @@server_uuid", NULL, 0)) < 0)
		return error;
	snprintf(out->database, sizeof(out->database), "%s",
		(v = df_rows_get(rows, 0, 0)) ? v : "");
	if ((v = df_rows_get(rows, 0, 1))) {
		if (c->mariadb) {
			char hex[65];
			my_sha256_hex(hex, sizeof(hex), v);
			snprintf(out->system_id, sizeof(out->system_id), "mariadb:%.32s", hex);
		} else {
			snprintf(out->system_id, sizeof(out->system_id), "%s", v);
		}
	}
	df_rows_free(rows);
	return 0;
}

static int my_table_columns(df_conn *conn, df_rows **out, const char *table)
{
	static const char sql[] =
		"SELECT LOWER(COLUMN_NAME) AS name FROM information_schema.COLUMNS "
		"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";
	/* an unquoted name folds case: the wrapper retries lower-cased */
	return df__my_query(conn, out, sql, (const char *const[]){ table }, 1);
}

/*
 * The other sessions using `table`: their metadata locks where
 * performance_schema records them, else the processlist's sessions of
 * this database that run a statement naming it (as a word) or hold a transaction open
 * (InnoDB's), which may have read it (`sure` 'f').
 */
static int my_sessions_using(df_conn *conn, df_rows **out, const char *table)
{
	static const char mdl[] =
		"SELECT CAST(t.PROCESSLIST_ID AS CHAR) AS pid, t.PROCESSLIST_USER AS user, "
		"t.PROCESSLIST_HOST AS client, COALESCE(t.PROCESSLIST_STATE, t.PROCESSLIST_COMMAND, '') AS state, "
		"DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL COALESCE(t.PROCESSLIST_TIME, 0) SECOND, "
		"'%Y-%m-%dT%H:%i:%sZ') AS since, "
		"CONCAT('metadata lock ', GROUP_CONCAT(DISTINCT m.LOCK_TYPE ORDER BY m.LOCK_TYPE)) AS how, "
		"'t' AS sure "
		"FROM performance_schema.metadata_locks m "
		"JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
		"WHERE m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = DATABASE() AND m.OBJECT_NAME = ? "
		"AND m.LOCK_STATUS = 'GRANTED' AND t.PROCESSLIST_ID <> CONNECTION_ID() "
		"AND @@performance_schema = 1 "
		"GROUP BY 1, 2, 3, 4, 5 ORDER BY 5, 1";
	static const char plist[] =
		"SELECT CAST(p.ID AS CHAR) AS pid, p.USER AS user, p.HOST AS client, "
		"COALESCE(p.STATE, p.COMMAND, '') AS state, "
		"DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL COALESCE(TIMESTAMPDIFF(SECOND, x.trx_started, NOW()), "
		"p.TIME, 0) SECOND, '%Y-%m-%dT%H:%i:%sZ') AS since, "
		"IF(p.INFO REGEXP CONCAT('(^|[^[:alnum:]_$])', ?, '($|[^[:alnum:]_$])'), 'running a statement that names it', "
		"'a transaction open in this database') AS how, "
		"IF(p.INFO REGEXP CONCAT('(^|[^[:alnum:]_$])', ?, '($|[^[:alnum:]_$])'), 't', 'f') AS sure "
		"FROM information_schema.PROCESSLIST p "
		"LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = p.ID "
		"WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() "
		"AND (x.trx_id IS NOT NULL OR p.INFO REGEXP CONCAT('(^|[^[:alnum:]_$])', ?, '($|[^[:alnum:]_$])')) ORDER BY 5, 1";
	const char *params[] = { table, table, table };
	int error;

	df_rows *on = NULL;
	bool recorded;

	*out = NULL;
	/* metadata locks are recorded: what they say is the answer, none too */
	recorded = df__my_query(conn, &on, "SELECT 1 FROM performance_schema.setup_instruments "
		"WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES' "
		"AND @@performance_schema = 1", NULL, 0) == 0 && on->nrows;
	df_rows_free(on);
	if (recorded && df__my_query(conn, out, mdl, params, 1) == 0)
		return 0;
	df_rows_free(*out);
	*out = NULL;
	df_error_clear();
	if ((error = df__my_query(conn, out, plist, params, 3)) < 0)
		*out = NULL;
	return error;
}

const df_driver df_driver_mysql = {
	.version = DF_DRIVER_VERSION,
	.name = "mysql",
	.dialect = DF_DIALECT_MYSQL,
	.caps = DF_CAP_ADVISORY_LOCK,
	.open = my_open,
	.hosts = my_hosts,
	.transport = my_transport,
	.close = my_close,
	.exec = my_exec,
	.query = df__my_query,
	.query_batch = my_query_batch,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.lock = my_lock,
	.unlock = my_unlock,
	.lock_holder = my_lock_holder,
	.identity = my_identity,
	.table_columns = my_table_columns,
	.backup = df__my_backup,
	.restore = df__my_restore,
	.schema_dump = df__my_schema_dump,
	.table_counts = df__my_table_counts,
	.sessions_using = my_sessions_using,
	.backup_ext = "sql",
	.in_transaction = my_in_transaction,
	.cancel_arm = my_cancel_arm,
	.cancel = my_cancel,
};
