/*
 * The driver suite: the same checks once per driver, through the df_conn_*
 * wrappers the core uses.
 *
 *   SQLite      always, on files in a temporary directory
 *   PostgreSQL  when DEVFLOW_TEST_PG_URL is set (a superuser URL)
 *   MySQL       when DEVFLOW_TEST_MYSQL_URL is set (a root URL)
 *
 * With DEVFLOW_REQUIRE_SERVERS=1 a missing URL is a failure; without it, a
 * skip, and the program exits 77 (CTest: not run, never passed).
 * tests/support/servers.sh starts suitable throwaway servers and writes the
 * variables to DIR/env.  Every test gets its own database (a new file, or
 * CREATE DATABASE on the server), dropped afterwards.  The server tests also
 * need the accounts devflow_pw and devflow_noperm (password 'secret-pw'),
 * which the suite creates when they are missing, and for PostgreSQL a
 * pg_hba.conf that asks devflow_pw for its password (servers.sh does).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devflow/buf.h"
#include "devflow/dsn.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"

#define CANARY "canary-7f3e9a"
#define GOOD_PW "secret-pw"

enum engine { ENG_SQLITE, ENG_PG, ENG_MYSQL };

struct engine_info {
	enum engine e;
	const char *name;       /* driver name */
	const char *env;        /* variable holding the admin URL */
	char *admin_url;
	df_dsn *admin;          /* parsed admin_url */
	df_conn *conn;          /* admin connection */
	char tmpdir[PATH_MAX];  /* SQLite: the files' folder */
};

static struct engine_info engines[] = {
	{ ENG_SQLITE, "sqlite", NULL, NULL, NULL, NULL, "" },
	{ ENG_PG, "postgres", "DEVFLOW_TEST_PG_URL", NULL, NULL, NULL, "" },
	{ ENG_MYSQL, "mysql", "DEVFLOW_TEST_MYSQL_URL", NULL, NULL, NULL, "" },
};
static struct engine_info *cur;         /* the engine whose group runs */
static unsigned int seq;

/* One test's database. */
struct fix {
	df_conn *c;
	df_dsn *dsn;
	char *url;
	char db[64];
	char path[PATH_MAX];
	char lock[96];          /* a lock name unique to this test */
};

/* --- helpers ------------------------------------------------------------- */

static const char *errmsg(void)
{
	const df_error *e = df_error_last();

	return e && e->message ? e->message : "(no error set)";
}

#define OK(expr) do { \
	int rc_ = (expr); \
	if (rc_ < 0) \
		fail_msg("%s: %s failed: %d %s", cur->name, #expr, rc_, errmsg()); \
} while (0)

#define FAILS_WITH(code, expr) do { \
	int rc_ = (expr); \
	if (rc_ != (code)) \
		fail_msg("%s: %s returned %d (%s), want %s: %s", cur->name, #expr, rc_, \
			df_error_kind(rc_), #code, rc_ < 0 ? errmsg() : "(success)"); \
} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_enc(df_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			df_buf_putc(b, (char)c);
		else
			df_buf_printf(b, "%%%02X", c);
	}
}

/*
 * A server URL like the admin one, with another user, password, host, port
 * or database (NULL user/host: the admin's; port < 0: the admin's; NULL
 * db: none).  Caller frees.
 */
static char *make_url(const char *user, const char *pw, const char *host, int port,
	const char *db)
{
	const df_dsn *a = cur->admin;
	const char *scheme_end = strstr(a->url, "://");
	df_buf b = DF_BUF_INIT;

	assert_non_null(scheme_end);
	df_buf_put(&b, a->url, (size_t)(scheme_end - a->url) + 3);
	if (!user)
		user = a->user;
	if (!host)
		host = a->host ? a->host : "127.0.0.1";
	if (port < 0)
		port = a->port;
	if (user) {
		put_enc(&b, user);
		if (pw) {
			df_buf_putc(&b, ':');
			put_enc(&b, pw);
		}
		df_buf_putc(&b, '@');
	}
	if (strchr(host, ':'))
		df_buf_printf(&b, "[%s]", host);
	else
		df_buf_puts(&b, host);
	if (port > 0)
		df_buf_printf(&b, ":%d", port);
	if (db) {
		df_buf_putc(&b, '/');
		put_enc(&b, db);
	}
	if (a->query)
		df_buf_printf(&b, "%s?%s", db ? "" : "/", a->query);
	assert_false(df_buf_oom(&b));
	return df_buf_detach(&b);
}

/* Open `url`; returns the code, *out the connection on success. */
static int open_url(df_conn **out, const char *url)
{
	df_dsn *d = NULL;
	int error;

	*out = NULL;
	if ((error = df_dsn_parse(&d, url)) < 0)
		return error;
	error = df_conn_open(out, d);
	df_dsn_free(d);
	return error;
}

static df_conn *open_second(const struct fix *f)
{
	df_conn *c = NULL;

	OK(open_url(&c, f->url));
	return c;
}

static void admin_exec(const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	long off;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (df_conn_exec(cur->conn, sql, strlen(sql), &off) < 0)
		fail_msg("%s: admin statement failed: %s: %s", cur->name, sql, errmsg());
}

static void exec_ok(df_conn *c, const char *sql)
{
	long off;

	if (df_conn_exec(c, sql, strlen(sql), &off) < 0)
		fail_msg("%s: exec failed: %s: %s", cur->name, sql, errmsg());
}

/* The one value of a one-row query. */
static char *scalar(df_conn *c, const char *sql)
{
	df_rows *r = NULL;
	const char *v;
	char *out;

	OK(df_conn_query(c, &r, sql, NULL, 0));
	assert_non_null(r);
	assert_int_equal(r->nrows, 1);
	v = df_rows_get(r, 0, 0);
	out = strdup(v ? v : "(null)");
	df_rows_free(r);
	return out;
}

static void assert_scalar(df_conn *c, const char *sql, const char *want)
{
	char *got = scalar(c, sql);

	if (strcmp(got, want))
		fail_msg("%s: %s gave '%s', want '%s'", cur->name, sql, got, want);
	free(got);
}

/* With DEVFLOW_TEST_VERBOSE set, print the last error (to review messages). */
static void show_error(const char *what)
{
	const df_error *e = df_error_last();
	const char *v = getenv("DEVFLOW_TEST_VERBOSE");

	if (!v || !*v || !e)
		return;
	print_message("    %s %s [%s%s]: %s\n", cur->name, what, df_error_kind(e->code),
		e->connect_phase ? ", connect" : "", e->message);
	if (e->hint)
		print_message("        hint: %s\n", e->hint);
}

/* The last error's message and hint hold neither `pw` nor the URL. */
static void assert_no_secret(const char *pw, const char *url)
{
	const df_error *e = df_error_last();

	assert_non_null(e);
	assert_non_null(e->message);
	if (strstr(e->message, pw) || (e->hint && strstr(e->hint, pw)))
		fail_msg("%s: the password leaked into the error: %s / %s", cur->name,
			e->message, e->hint ? e->hint : "");
	if (url && (strstr(e->message, url) || (e->hint && strstr(e->hint, url))))
		fail_msg("%s: the URL leaked into the error: %s", cur->name, e->message);
	if (!e->hint || !*e->hint)
		fail_msg("%s: connection error without a hint: %s", cur->name, e->message);
	if (e->message[0] >= 'A' && e->message[0] <= 'Z')
		fail_msg("%s: message starts in upper case: %s", cur->name, e->message);
}

/* Connect to `url` expecting failure `code`; checks the message is clean. */
static void expect_connect_error(const char *url, int code, const char *pw)
{
	df_conn *c = NULL;
	int rc = open_url(&c, url);

	if (rc >= 0) {
		df_conn_close(c);
		fail_msg("%s: connecting to a bad target succeeded (want %s)", cur->name,
			df_error_kind(code));
	}
	if (rc != code)
		fail_msg("%s: connect failed with %s, want %s: %s", cur->name, df_error_kind(rc),
			df_error_kind(code), errmsg());
	show_error(df_error_kind(code));
	assert_no_secret(pw, url);
	if (code == DF_EPERM)
		assert_true(df_error_last()->connect_phase);
}

/* A TCP port on 127.0.0.1 with nothing listening (just released by us). */
static int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool is_server(void)
{
	return cur->e != ENG_SQLITE;
}

/* --- fixtures ------------------------------------------------------------ */

static int group_setup(void **state)
{
	const char *pg_roles[] = {
		"DO $$BEGIN CREATE ROLE devflow_pw LOGIN CREATEDB PASSWORD '" GOOD_PW "'; "
		"EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$",
		"DO $$BEGIN CREATE ROLE devflow_noperm LOGIN PASSWORD '" GOOD_PW "'; "
		"EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$",
		NULL,
	};
	const char *my_users[] = {
		"CREATE USER IF NOT EXISTS 'devflow_pw'@'%' IDENTIFIED BY '" GOOD_PW "'",
		"CREATE USER IF NOT EXISTS 'devflow_pw'@'127.0.0.1' IDENTIFIED BY '" GOOD_PW "'",
		"CREATE USER IF NOT EXISTS 'devflow_pw'@'localhost' IDENTIFIED BY '" GOOD_PW "'",
		"GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'%'",
		"GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'127.0.0.1'",
		"GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'localhost'",
		"CREATE USER IF NOT EXISTS 'devflow_noperm'@'%' IDENTIFIED BY '" GOOD_PW "'",
		"CREATE USER IF NOT EXISTS 'devflow_noperm'@'127.0.0.1' IDENTIFIED BY '" GOOD_PW "'",
		"CREATE USER IF NOT EXISTS 'devflow_noperm'@'localhost' IDENTIFIED BY '" GOOD_PW "'",
		NULL,
	};
	const char **setup = NULL;
	long off;

	(void)state;
	if (cur->e == ENG_SQLITE) {
		const char *t = getenv("TMPDIR");
		snprintf(cur->tmpdir, sizeof(cur->tmpdir), "%s/devflow-drv-XXXXXX",
			t && *t ? t : "/tmp");
		if (!mkdtemp(cur->tmpdir)) {
			print_error("sqlite: cannot create a temporary folder: %s\n", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (df_dsn_parse(&cur->admin, cur->admin_url) < 0 ||
	    df_conn_open(&cur->conn, cur->admin) < 0) {
		print_error("%s: cannot connect to %s: %s\n", cur->name, cur->env, errmsg());
		return -1;
	}
	setup = cur->e == ENG_PG ? pg_roles : my_users;
	for (; *setup; setup++)
		if (df_conn_exec(cur->conn, *setup, strlen(*setup), &off) < 0) {
			print_error("%s: cannot create the test accounts: %s\n", cur->name, errmsg());
			return -1;
		}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (cur->e == ENG_SQLITE && cur->tmpdir[0])
		rmdir(cur->tmpdir);
	df_conn_close(cur->conn);
	cur->conn = NULL;
	df_dsn_free(cur->admin);
	cur->admin = NULL;
	return 0;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	seq++;
	snprintf(f->db, sizeof(f->db), "dft_%ld_%u", (long)getpid(), seq);
	snprintf(f->lock, sizeof(f->lock), "devflow-test-lock-%s", f->db);
	if (cur->e == ENG_SQLITE) {
		df_buf b = DF_BUF_INIT;
		df_buf_printf(&b, "%s/%s.db", cur->tmpdir, f->db);
		if (df_buf_oom(&b) || b.size >= sizeof(f->path)) {
			df_buf_release(&b);
			free(f);
			return -1;
		}
		memcpy(f->path, b.ptr, b.size + 1);
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "sqlite:%s", f->path);
		f->url = df_buf_detach(&b);
	} else {
		long off;
		char sql[160];
		if (cur->e == ENG_PG)
			snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->db);
		else
			snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4", f->db);
		if (df_conn_exec(cur->conn, sql, strlen(sql), &off) < 0) {
			print_error("%s: %s: %s\n", cur->name, sql, errmsg());
			free(f);
			return -1;
		}
		f->url = make_url(NULL, cur->admin->password, NULL, -1, f->db);
	}
	if (df_dsn_parse(&f->dsn, f->url) < 0 || df_conn_open(&f->c, f->dsn) < 0) {
		print_error("%s: cannot open the test database: %s\n", cur->name, errmsg());
		df_dsn_free(f->dsn);
		free(f->url);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char sql[160];
	long off;

	if (!f)
		return 0;
	df_conn_close(f->c);
	if (cur->e == ENG_SQLITE) {
		char side[PATH_MAX + 8];
		unlink(f->path);
		snprintf(side, sizeof(side), "%s-journal", f->path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-wal", f->path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", f->path);
		unlink(side);
	} else {
		if (cur->e == ENG_PG)
			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->db);
		else
			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", f->db);
		if (df_conn_exec(cur->conn, sql, strlen(sql), &off) < 0)
			print_error("%s: %s: %s\n", cur->name, sql, errmsg());
	}
	df_dsn_free(f->dsn);
	free(f->url);
	free(f);
	return 0;
}

/* --- exec ---------------------------------------------------------------- */

static void test_drv__exec_ok(void **state)
{
	struct fix *f = *state;
	long off = 123;

	exec_ok(f->c, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50))");
	OK(df_conn_exec(f->c, "INSERT INTO t (id, name) VALUES (1, 'one')", 42, &off));
	assert_int_equal(off, -1);
	/* exec runs exactly `len` bytes: the tail here is not part of it */
	OK(df_conn_exec(f->c, "INSERT INTO t (id, name) VALUES (2, 'two') garbage", 42, &off));
	assert_scalar(f->c, "SELECT COUNT(*) FROM t", "2");
}

/* exec `sql`, expecting a syntax error blamed on the first `at` in it. */
static void expect_offset(df_conn *c, const char *sql, const char *at)
{
	long off = -7;
	long want = (long)(strstr(sql, at) - sql);
	int rc = df_conn_exec(c, sql, strlen(sql), &off);

	show_error("syntax");
	if (rc != DF_ESQL)
		fail_msg("%s: syntax error gave %s: %s", cur->name, df_error_kind(rc), errmsg());
	if (off != want)
		fail_msg("%s: error offset %ld, want %ld ('%s...') for: %s\nerror: %s", cur->name,
			off, want, at, sql, errmsg());
}

static void test_drv__exec_error_offset(void **state)
{
	struct fix *f = *state;

	expect_offset(f->c, "SELECT 1 FROM FROM t", "FROM t");
	/* multi-line, with multi-byte characters before the error */
	expect_offset(f->c,
		"INSERT INTO t (id, name)\nVALUES (1, 'ünïcødé €'),\n       (2, 'x') WHERE id = 1",
		"WHERE");
	/* the text after the error is longer than MySQL quotes it (80 characters),
	 * and the same text appears on an earlier line */
	expect_offset(f->c,
		"SELECT 'FROM t WHERE' AS a,\n  'é' AS b\n  FROM FROM t WHERE a = 1 AND b = 2 AND c = 3 "
		"AND d = 4 AND e = 5 AND f = 6 AND g = 7 AND h = 8 AND i = 9 AND j = 10",
		"FROM t WHERE a = 1");
}

static void test_drv__exec_sql_error(void **state)
{
	struct fix *f = *state;
	static const char sql[] = "SELECT * FROM no_such_table_here";
	long off;

	FAILS_WITH(DF_ESQL, df_conn_exec(f->c, sql, strlen(sql), &off));
	assert_non_null(strstr(errmsg(), "no_such_table_here"));
	/* the connection still works */
	assert_scalar(f->c, "SELECT 1", "1");
}

/* --- query --------------------------------------------------------------- */

static void test_drv__query_params(void **state)
{
	struct fix *f = *state;
	df_rows *r = NULL;

	exec_ok(f->c, "CREATE TABLE q (id INT PRIMARY KEY, name VARCHAR(100), note VARCHAR(100))");
	OK(df_conn_query(f->c, NULL, "INSERT INTO q (id, name, note) VALUES (?, ?, ?)",
		(const char *const[]){ "1", "it's a ? mark", NULL }, 3));
	OK(df_conn_query(f->c, NULL, "INSERT INTO q (id, name, note) VALUES (?, ?, ?)",
		(const char *const[]){ "2", "back\\slash \"q\" ünï", "n" }, 3));
	OK(df_conn_query(f->c, &r,
		"SELECT id, name, note FROM q WHERE id = ? OR name = ? ORDER BY id",
		(const char *const[]){ "1", "back\\slash \"q\" ünï" }, 2));
	assert_non_null(r);
	assert_int_equal(r->ncols, 3);
	assert_int_equal(r->nrows, 2);
	assert_string_equal(r->names[0], "id");
	assert_string_equal(r->names[2], "note");
	assert_string_equal(df_rows_get(r, 0, 0), "1");
	assert_string_equal(df_rows_get(r, 0, 1), "it's a ? mark");
	assert_null(df_rows_get(r, 0, 2));
	assert_string_equal(df_rows_get(r, 1, 1), "back\\slash \"q\" ünï");
	assert_string_equal(df_rows_get(r, 1, 2), "n");
	df_rows_free(r);
	r = NULL;

	/* a `?` inside quotes or a comment is not a placeholder */
	OK(df_conn_query(f->c, &r, "SELECT '?' AS lit, ? AS p /* ? */", (const char *const[]){ "x" }, 1));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(df_rows_get(r, 0, 0), "?");
	assert_string_equal(df_rows_get(r, 0, 1), "x");
	df_rows_free(r);
	r = NULL;

	/* no rows: an empty result with its columns */
	OK(df_conn_query(f->c, &r, "SELECT id, name FROM q WHERE id = ?", (const char *const[]){ "99" }, 1));
	assert_non_null(r);
	assert_int_equal(r->nrows, 0);
	assert_int_equal(r->ncols, 2);
	df_rows_free(r);
	r = NULL;

	/* a NULL parameter binds SQL NULL */
	OK(df_conn_query(f->c, &r, "SELECT COUNT(*) FROM q WHERE note IS NULL AND id = ?",
		(const char *const[]){ "1" }, 1));
	assert_string_equal(df_rows_get(r, 0, 0), "1");
	df_rows_free(r);
	r = NULL;

	if (cur->e == ENG_PG) {
		OK(df_conn_query(f->c, &r, "SELECT $$a?b$$ AS d, ? AS p", (const char *const[]){ "y" }, 1));
		assert_string_equal(df_rows_get(r, 0, 0), "a?b");
		assert_string_equal(df_rows_get(r, 0, 1), "y");
		df_rows_free(r);
		r = NULL;
	}

	/* errors in the core's own queries are sql errors too */
	FAILS_WITH(DF_ESQL, df_conn_query(f->c, &r, "SELECT nope FROM q WHERE id = ?",
		(const char *const[]){ "1" }, 1));
	assert_null(r);
}

/* --- transactions -------------------------------------------------------- */

static void test_drv__transaction_dml(void **state)
{
	struct fix *f = *state;

	exec_ok(f->c, "CREATE TABLE tx (id INT)");
	OK(df_conn_begin(f->c));
	exec_ok(f->c, "INSERT INTO tx (id) VALUES (1)");
	OK(df_conn_rollback(f->c));
	assert_scalar(f->c, "SELECT COUNT(*) FROM tx", "0");
	OK(df_conn_begin(f->c));
	exec_ok(f->c, "INSERT INTO tx (id) VALUES (2)");
	OK(df_conn_commit(f->c));
	assert_scalar(f->c, "SELECT COUNT(*) FROM tx", "1");
}

static void test_drv__transaction_ddl(void **state)
{
	struct fix *f = *state;
	df_rows *r = NULL;
	bool tddl = df_conn_has(f->c, DF_CAP_TRANSACTIONAL_DDL);

	assert_int_equal(tddl, cur->e != ENG_MYSQL);
	OK(df_conn_begin(f->c));
	exec_ok(f->c, "CREATE TABLE ddl_t (id INT)");
	OK(df_conn_rollback(f->c));
	OK(df_conn_table_columns(f->c, &r, "ddl_t"));
	/* PostgreSQL and SQLite undo the DDL; MySQL committed it implicitly */
	assert_int_equal(r->nrows, tddl ? 0 : 1);
	df_rows_free(r);
}

static void test_drv__commit_after_failure(void **state)
{
	struct fix *f = *state;
	static const char bad[] = "SELECT * FROM no_such_table";
	long off;

	exec_ok(f->c, "CREATE TABLE cf (id INT)");
	OK(df_conn_begin(f->c));
	exec_ok(f->c, "INSERT INTO cf (id) VALUES (1)");
	FAILS_WITH(DF_ESQL, df_conn_exec(f->c, bad, strlen(bad), &off));
	/* PostgreSQL answers COMMIT with ROLLBACK here: that must be an error */
	FAILS_WITH(DF_ESQL, df_conn_commit(f->c));
	assert_scalar(f->c, "SELECT COUNT(*) FROM cf", "0");

	/* COPY with client-side data is refused, and the session stays usable */
	static const char copy_in[] = "COPY cf FROM STDIN", copy_out[] = "COPY cf TO STDOUT";
	FAILS_WITH(DF_ESQL, df_conn_exec(f->c, copy_in, strlen(copy_in), &off));
	assert_scalar(f->c, "SELECT COUNT(*) FROM cf", "0");
	exec_ok(f->c, "INSERT INTO cf (id) VALUES (5)");
	FAILS_WITH(DF_ESQL, df_conn_exec(f->c, copy_out, strlen(copy_out), &off));
	assert_scalar(f->c, "SELECT COUNT(*) FROM cf", "1");
}

/*
 * check_deferred: fails, as COMMIT would, while a deferred foreign key is
 * broken; with `again` the key stays deferred afterwards (PostgreSQL's
 * savepoint).  MariaDB checks keys at once and has nothing to check.
 */
static void test_drv__check_deferred(void **state)
{
	struct fix *f = *state;
	static const char orphan[] = "INSERT INTO dc (id, p) VALUES (1, 9)";
	bool my = cur->e == ENG_MYSQL;
	long off;

	exec_ok(f->c, "CREATE TABLE dp (id INT PRIMARY KEY)");
	exec_ok(f->c, my ? "CREATE TABLE dc (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES dp (id))" :
		"CREATE TABLE dc (id INT PRIMARY KEY, p INT REFERENCES dp (id) DEFERRABLE INITIALLY DEFERRED)");
	OK(df_conn_check_deferred(f->c, false));        /* no transaction: nothing */
	OK(df_conn_begin(f->c));
	if (my) {
		FAILS_WITH(DF_ESQL, df_conn_exec(f->c, orphan, strlen(orphan), &off));
		OK(df_conn_check_deferred(f->c, true));
		OK(df_conn_rollback(f->c));
		return;
	}
	exec_ok(f->c, orphan);
	FAILS_WITH(DF_ESQL, df_conn_check_deferred(f->c, true));
	assert_non_null(strstr(df_error_last()->message, cur->e == ENG_SQLITE ?
		"row 1 of 'dc' references a missing row of 'dp'" : "violates foreign key constraint"));
	/* the transaction goes on, its key still deferred */
	exec_ok(f->c, "INSERT INTO dc (id, p) VALUES (2, 8)");
	exec_ok(f->c, "INSERT INTO dp (id) VALUES (9)");
	exec_ok(f->c, "INSERT INTO dp (id) VALUES (8)");
	OK(df_conn_check_deferred(f->c, true));
	OK(df_conn_check_deferred(f->c, false));
	OK(df_conn_commit(f->c));
	assert_scalar(f->c, "SELECT COUNT(*) FROM dc", "2");
}

/* --- locks --------------------------------------------------------------- */

static void test_drv__lock_timeout(void **state)
{
	struct fix *f = *state;
	df_conn *b = open_second(f);
	char *holder = NULL;
	long t0, dt;

	OK(df_conn_lock(f->c, f->lock, 1000));
	t0 = now_ms();
	FAILS_WITH(DF_ELOCKED, df_conn_lock(b, f->lock, 400));
	show_error("lock");
	dt = now_ms() - t0;
	if (dt < 350 || dt > 400 + 1500)
		fail_msg("%s: a 400 ms lock timeout took %ld ms", cur->name, dt);
	assert_non_null(df_error_last()->hint);
	/* a zero timeout tries once */
	t0 = now_ms();
	FAILS_WITH(DF_ELOCKED, df_conn_lock(b, f->lock, 0));
	assert_true(now_ms() - t0 < 1000);

	if (df_conn_has(f->c, DF_CAP_ADVISORY_LOCK)) {
		assert_non_null(strstr(errmsg(), "held by"));
		OK(df_conn_lock_holder(b, f->lock, &holder));
		if (!holder)
			fail_msg("%s: no lock holder named while the lock is held", cur->name);
		free(holder);
		holder = NULL;
	}
	OK(df_conn_unlock(f->c, f->lock));
	OK(df_conn_lock_holder(b, f->lock, &holder));
	assert_null(holder);
	/* now the other connection gets it, at once */
	t0 = now_ms();
	OK(df_conn_lock(b, f->lock, 2000));
	assert_true(now_ms() - t0 < 1000);
	OK(df_conn_unlock(b, f->lock));
	df_conn_close(b);
}

/*
 * A child process takes the lock on its own connection and tells us over a
 * pipe; then, unless `hold_ms` < 0, releases it after `hold_ms` and waits
 * to be killed.  Returns the child's pid.
 */
static pid_t lock_in_child(const struct fix *f, long hold_ms)
{
	int fds[2], status;
	char ch = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		df_conn *c = NULL;
		close(fds[0]);
		if (open_url(&c, f->url) < 0 || df_conn_lock(c, f->lock, 2000) < 0) {
			ch = 'e';
			if (write(fds[1], &ch, 1) < 0)
				_exit(3);
			_exit(2);
		}
		ch = 'L';
		if (write(fds[1], &ch, 1) < 0)
			_exit(3);
		if (hold_ms >= 0) {
			struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			df_conn_unlock(c, f->lock);
		}
		for (;;)
			pause();
	}
	close(fds[1]);
	if (read(fds[0], &ch, 1) != 1 || ch != 'L') {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(fds[0]);
		fail_msg("%s: the child could not take the lock", cur->name);
	}
	close(fds[0]);
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* A waiting lock call gets the lock as soon as the holder lets go. */
static void test_drv__lock_wait_then_acquire(void **state)
{
	struct fix *f = *state;
	pid_t pid = lock_in_child(f, 300);
	long t0 = now_ms(), dt;

	OK(df_conn_lock(f->c, f->lock, 5000));
	dt = now_ms() - t0;
	reap(pid);
	if (dt < 150 || dt > 3000)
		fail_msg("%s: waited %ld ms for a lock released after 300 ms", cur->name, dt);
	OK(df_conn_unlock(f->c, f->lock));

	if (!df_conn_has(f->c, DF_CAP_ADVISORY_LOCK))
		return;
	/* the same inside a transaction, which a timeout must not abort */
	exec_ok(f->c, "CREATE TABLE lw (id INT)");
	OK(df_conn_begin(f->c));
	exec_ok(f->c, "INSERT INTO lw (id) VALUES (1)");
	pid = lock_in_child(f, -1);
	FAILS_WITH(DF_ELOCKED, df_conn_lock(f->c, f->lock, 300));
	reap(pid);
	pid = lock_in_child(f, 300);
	t0 = now_ms();
	OK(df_conn_lock(f->c, f->lock, 5000));
	dt = now_ms() - t0;
	reap(pid);
	if (dt < 150 || dt > 3000)
		fail_msg("%s: in a transaction, waited %ld ms for a lock released after 300 ms",
			cur->name, dt);
	exec_ok(f->c, "INSERT INTO lw (id) VALUES (2)");
	OK(df_conn_commit(f->c));
	assert_scalar(f->c, "SELECT COUNT(*) FROM lw", "2");
	OK(df_conn_unlock(f->c, f->lock));
}

static void test_drv__lock_released_on_close(void **state)
{
	struct fix *f = *state;
	df_conn *a = open_second(f);
	long t0;

	OK(df_conn_lock(a, f->lock, 1000));
	FAILS_WITH(DF_ELOCKED, df_conn_lock(f->c, f->lock, 0));
	df_conn_close(a);
	t0 = now_ms();
	OK(df_conn_lock(f->c, f->lock, 5000));
	if (now_ms() - t0 > 3000)
		fail_msg("%s: the lock outlived its connection by %ld ms", cur->name, now_ms() - t0);
	OK(df_conn_unlock(f->c, f->lock));
}

static void test_drv__lock_released_on_kill(void **state)
{
	struct fix *f = *state;
	pid_t pid = lock_in_child(f, -1);
	long t0;

	FAILS_WITH(DF_ELOCKED, df_conn_lock(f->c, f->lock, 0));
	reap(pid);
	t0 = now_ms();
	OK(df_conn_lock(f->c, f->lock, 10000));
	if (now_ms() - t0 > 5000)
		fail_msg("%s: a killed client's lock lingered %ld ms", cur->name, now_ms() - t0);
	OK(df_conn_unlock(f->c, f->lock));
}

static void test_drv__lock_long_name(void **state)
{
	struct fix *f = *state;
	df_conn *b = open_second(f);
	char name[200], other[200];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(other, sizeof(other), "%s", name);
	other[150] = 'o';       /* differs only past the 64th character */
	OK(df_conn_lock(f->c, name, 1000));
	FAILS_WITH(DF_ELOCKED, df_conn_lock(b, name, 0));
	if (df_conn_has(f->c, DF_CAP_ADVISORY_LOCK)) {
		/* a different name is a different lock */
		OK(df_conn_lock(b, other, 0));
		OK(df_conn_unlock(b, other));
	}
	OK(df_conn_unlock(f->c, name));
	OK(df_conn_lock(b, name, 1000));
	OK(df_conn_unlock(b, name));
	df_conn_close(b);
}

/* --- identity and introspection ----------------------------------------- */

static void test_drv__identity(void **state)
{
	struct fix *f = *state;
	df_identity id, again;

	OK(df_conn_identity(f->c, &id));
	assert_string_equal(id.engine, cur->name);
	assert_true(id.version[0] != '\0');
	assert_true(id.version_num > 0);
	assert_true(id.database[0] != '\0');
	if (is_server()) {
		assert_string_equal(id.database, f->db);
		assert_true(id.system_id[0] != '\0');
	} else {
		assert_non_null(strstr(id.database, f->db));
	}
	/* stable across connections */
	df_conn *b = open_second(f);
	OK(df_conn_identity(b, &again));
	df_conn_close(b);
	assert_string_equal(id.system_id, again.system_id);
	assert_string_equal(id.version, again.version);
}

static void test_drv__table_columns(void **state)
{
	struct fix *f = *state;
	df_rows *r = NULL;

	exec_ok(f->c, "CREATE TABLE cols_t (Id INT, Name VARCHAR(20), created_at VARCHAR(30))");
	OK(df_conn_table_columns(f->c, &r, "cols_t"));
	assert_non_null(r);
	assert_int_equal(r->ncols, 1);
	assert_int_equal(r->nrows, 3);
	assert_string_equal(df_rows_get(r, 0, 0), "id");
	assert_string_equal(df_rows_get(r, 1, 0), "name");
	assert_string_equal(df_rows_get(r, 2, 0), "created_at");
	df_rows_free(r);
	r = NULL;
	OK(df_conn_table_columns(f->c, &r, "no_such_table"));
	assert_non_null(r);
	assert_int_equal(r->nrows, 0);
	df_rows_free(r);
}

/* --- connection errors (servers) ---------------------------------------- */

static void test_drv__connect_refused(void **state)
{
	char *url = make_url("devflow_pw", CANARY, "127.0.0.1", closed_port(), "postgres");

	(void)state;
	expect_connect_error(url, DF_ECONNREFUSED, CANARY);
	free(url);
}

static void test_drv__connect_unknown_host(void **state)
{
	char *url = make_url("devflow_pw", CANARY, "no-such-host.invalid", -1, "postgres");

	(void)state;
	expect_connect_error(url, DF_EHOST, CANARY);
	free(url);
}

static void test_drv__connect_auth_failed(void **state)
{
	struct fix *f = *state;
	char *url = make_url("devflow_pw", CANARY, NULL, -1, f->db);

	expect_connect_error(url, DF_EAUTH, CANARY);
	free(url);
	/* a password that needs %-escapes in the URL: neither form may leak */
	url = make_url("devflow_pw", "c@n:ary/7f3e%9a", NULL, -1, f->db);
	expect_connect_error(url, DF_EAUTH, "c@n:ary/7f3e%9a");
	assert_no_secret("c%40n%3Aary%2F7f3e%259a", url);
	free(url);
	/* no password at all, when one is needed */
	url = make_url("devflow_pw", NULL, NULL, -1, f->db);
	expect_connect_error(url, DF_EAUTH, CANARY);
	free(url);
}

static void test_drv__connect_no_database(void **state)
{
	char *url, name[80];

	(void)state;
	snprintf(name, sizeof(name), "dft_missing_%ld", (long)getpid());
	url = make_url("devflow_pw", GOOD_PW, NULL, -1, name);
	expect_connect_error(url, DF_EUNKNOWNDB, GOOD_PW);
	free(url);
}

static void test_drv__connect_permission_denied(void **state)
{
	struct fix *f = *state;
	char *url;

	if (cur->e == ENG_PG)
		admin_exec("REVOKE CONNECT ON DATABASE %s FROM PUBLIC", f->db);
	url = make_url("devflow_noperm", GOOD_PW, NULL, -1, f->db);
	expect_connect_error(url, DF_EPERM, GOOD_PW);
	free(url);
}

static void test_drv__exec_permission_denied(void **state)
{
	struct fix *f = *state;
	df_conn *c = NULL;
	char sql[160], *url;
	long off;

	if (cur->e == ENG_PG) {
		url = make_url("devflow_noperm", GOOD_PW, NULL, -1, f->db);
		snprintf(sql, sizeof(sql), "CREATE TABLE nope (id INT)");
	} else {
		url = make_url("devflow_noperm", GOOD_PW, NULL, -1, NULL);
		snprintf(sql, sizeof(sql), "CREATE TABLE %s.nope (id INT)", f->db);
	}
	OK(open_url(&c, url));
	FAILS_WITH(DF_EPERM, df_conn_exec(c, sql, strlen(sql), &off));
	show_error("exec");
	assert_false(df_error_last()->connect_phase);
	df_conn_close(c);
	free(url);
}

/* What the session looks like from the server: application name and scheme aliases. */
static void test_drv__url_variants(void **state)
{
	struct fix *f = *state;
	df_conn *c = NULL;
	df_buf b = DF_BUF_INIT;
	char *url, *v;
	const char *sock;

	if (cur->e == ENG_PG) {
		assert_scalar(f->c, "SELECT current_setting('application_name')", "devflow");
		/* the URL's own application_name and sslmode win */
		df_buf_printf(&b, "%s%capplication_name=mine&sslmode=disable", f->url,
			strchr(f->url, '?') ? '&' : '?');
		OK(open_url(&c, b.ptr));
		assert_scalar(c, "SELECT current_setting('application_name')", "mine");
		df_conn_close(c);
		/* postgresql:// is the same driver */
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "postgresql%s", strstr(f->url, "://"));
		OK(open_url(&c, b.ptr));
		assert_string_equal(c->driver->name, "postgres");
		df_conn_close(c);
		/* a Unix socket, given as libpq's host parameter */
		if ((sock = getenv("DEVFLOW_TEST_PG_SOCKET_DIR")) && *sock) {
			df_buf_truncate(&b, 0);
			df_buf_printf(&b, "postgres:///%s?host=%s&port=%d&user=postgres", f->db, sock,
				cur->admin->port);
			OK(open_url(&c, b.ptr));
			assert_scalar(c, "SELECT current_database()", f->db);
			df_conn_close(c);
		}
	} else {
		/* mariadb:// is the same driver; known parameters are accepted */
		df_buf_printf(&b, "mariadb%s%csslmode=disable&connect_timeout=5&charset=utf8mb4",
			strstr(f->url, "://"), strchr(f->url, '?') ? '&' : '?');
		OK(open_url(&c, b.ptr));
		assert_string_equal(c->driver->name, "mysql");
		v = scalar(c, "SELECT @@character_set_client");
		assert_string_equal(v, "utf8mb4");
		free(v);
		df_conn_close(c);
		/* an unknown parameter is a usage error, not silently ignored */
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "%s%cno_such_param=1", f->url, strchr(f->url, '?') ? '&' : '?');
		FAILS_WITH(DF_EUSAGE, open_url(&c, b.ptr));
		/* "localhost" is TCP to the URL's port, as in other clients' URLs */
		url = make_url(NULL, cur->admin->password, "localhost", -1, f->db);
		OK(open_url(&c, url));
		df_conn_close(c);
		free(url);
		/* the Unix socket */
		if ((sock = getenv("DEVFLOW_TEST_MYSQL_SOCKET")) && *sock) {
			df_buf_truncate(&b, 0);
			df_buf_printf(&b, "mysql://devflow_pw:%s@/%s?socket=%s", GOOD_PW, f->db, sock);
			OK(open_url(&c, b.ptr));
			assert_scalar(c, "SELECT DATABASE()", f->db);
			df_conn_close(c);
		}
	}
	df_buf_release(&b);
}

static void test_drv__server_missing(void **state)
{
	(void)state;
	fail_msg("%s: %s is not set, and DEVFLOW_REQUIRE_SERVERS=1 requires it "
		"(start servers with tests/support/servers.sh start DIR; . DIR/env)",
		cur->name, cur->env);
}

static void test_drv__server_skipped(void **state)
{
	(void)state;
	print_message("%s: %s is not set; skipping (tests/support/servers.sh start DIR; . DIR/env)\n",
		cur->name, cur->env);
	skip();
}

/* --- the table ----------------------------------------------------------- */

enum { ALL = 0, SERVER = 1, PG_ONLY = 2, NO_FIX = 4 };

static const struct {
	const char *name;
	CMUnitTestFunction fn;
	int flags;
} checks[] = {
#define CHECK(fn, flags) { #fn, test_drv__##fn, flags }
	CHECK(exec_ok, ALL),
	CHECK(exec_error_offset, ALL),
	CHECK(exec_sql_error, ALL),
	CHECK(query_params, ALL),
	CHECK(transaction_dml, ALL),
	CHECK(transaction_ddl, ALL),
	CHECK(commit_after_failure, PG_ONLY),
	CHECK(check_deferred, ALL),
	CHECK(lock_timeout, ALL),
	CHECK(lock_wait_then_acquire, ALL),
	CHECK(lock_released_on_close, ALL),
	CHECK(lock_released_on_kill, ALL),
	CHECK(lock_long_name, ALL),
	CHECK(identity, ALL),
	CHECK(table_columns, ALL),
	CHECK(connect_refused, SERVER | NO_FIX),
	CHECK(connect_unknown_host, SERVER | NO_FIX),
	CHECK(connect_auth_failed, SERVER),
	CHECK(connect_no_database, SERVER | NO_FIX),
	CHECK(connect_permission_denied, SERVER),
	CHECK(exec_permission_denied, SERVER),
	CHECK(url_variants, SERVER),
#undef CHECK
};

/* engines not run (no URL, or filtered out): main() exits 77, CTest's
 * SKIP_RETURN_CODE, so the suite is "not run", never "passed" */
static int engines_skipped;

static int run_engine(struct engine_info *e)
{
	struct CMUnitTest tests[sizeof(checks) / sizeof(checks[0])];
	const char *req = getenv("DEVFLOW_REQUIRE_SERVERS");
	const char *only = getenv("DEVFLOW_TEST_ENGINES");
	char group[64];
	size_t i, n = 0;

	cur = e;
	snprintf(group, sizeof(group), "driver_suite/%s", e->name);
	if (req && !strcmp(req, "1"))
		only = NULL;    /* required servers are never filtered out */
	if (only && *only && !strstr(only, e->name)) {
		printf("[  SKIPPED ] %s: not in DEVFLOW_TEST_ENGINES=%s\n", e->name, only);
		engines_skipped++;
		return 0;
	}
	if (e->env) {
		const char *url = getenv(e->env);
		if (!url || !*url) {
			struct CMUnitTest one[1] = { {
				"server_missing",
				req && !strcmp(req, "1") ? test_drv__server_missing : test_drv__server_skipped,
				NULL, NULL, NULL,
			} };

			if (!req || strcmp(req, "1"))
				engines_skipped++;
			return _cmocka_run_group_tests(group, one, 1, NULL, NULL);
		}
		e->admin_url = (char *)url;
	}
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if ((checks[i].flags & SERVER) && e->e == ENG_SQLITE)
			continue;
		if ((checks[i].flags & PG_ONLY) && e->e != ENG_PG)
			continue;
		tests[n].name = checks[i].name;
		tests[n].test_func = checks[i].fn;
		tests[n].setup_func = (checks[i].flags & NO_FIX) ? NULL : setup;
		tests[n].teardown_func = (checks[i].flags & NO_FIX) ? NULL : teardown;
		tests[n].initial_state = NULL;
		n++;
	}
	return _cmocka_run_group_tests(group, tests, n, group_setup, group_teardown);
}

int main(void)
{
	int failed = 0;

	/* a lock test's child must not take the whole run down with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		failed += run_engine(&engines[i]);
	if (failed)
		return 1;
	if (engines_skipped) {
		printf("driver_suite: %d engine(s) not run: exit 77 (CTest: skipped, not passed)\n",
		       engines_skipped);
		return 77;
	}
	return 0;
}
