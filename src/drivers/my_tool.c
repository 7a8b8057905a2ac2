/*
 * Backups, restores and schema snapshots of a MySQL/MariaDB database, with
 * mariadb-dump and the mariadb client (or mysqldump / mysql).  The
 * credentials reach them only through a 0600 --defaults-extra-file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/client_tool.h"
#include "drivers/my_int.h"
#include "util/banned.h"

/* key="value" for an option file, with \\, \" and \n escaped. */
static void my_opt(df_buf *b, const char *key, const char *value)
{
	df_buf_printf(b, "%s=\"", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			df_buf_putc(b, '\\');
		if (*p == '\n')
			df_buf_puts(b, "\\n");
		else
			df_buf_putc(b, *p);
	}
	df_buf_puts(b, "\"\n");
}

/*
 * How a client tool connects: a 0600 options file in a private folder
 * (user, password, host, port, socket, TLS, charset), passed as
 * --defaults-extra-file, which must be the tool's first argument.
 */
struct my_tool_conn {
	struct df__tool_secret secret;
	df_buf arg;             /* "--defaults-extra-file=..." */
};

static void my_tool_conn_release(struct my_tool_conn *tc)
{
	df__tool_secret_remove(&tc->secret);
	df_buf_release(&tc->arg);
}

static int my_tool_conn(struct my_tool_conn *tc, const df_dsn *dsn)
{
	struct my_params prm = { 0 };
	df_buf f = DF_BUF_INIT;
	int error;

	memset(tc, 0, sizeof(*tc));
	df_buf_init(&tc->arg);
	if ((error = df__my_params_read(&prm, dsn->query)) < 0)
		goto out;
	const char *socket = prm.socket, *sslmode = prm.sslmode, *timeout = prm.timeout;
	const char *charset = prm.charset;
	df_buf_puts(&f, "# written by devflow for one run of a client tool; removed afterwards\n[client]\n");
	if (dsn->user)
		my_opt(&f, "user", dsn->user);
	my_opt(&f, "password", dsn->password ? dsn->password : "");
	if (socket || (dsn->host && *dsn->host == '/')) {
		my_opt(&f, "socket", socket ? socket : dsn->host);
		df_buf_puts(&f, "protocol=SOCKET\n");
	} else if (dsn->host) {
		/* a host name means TCP, even "localhost" (as for the driver) */
		my_opt(&f, "host", dsn->host);
		df_buf_puts(&f, "protocol=TCP\n");
	}
	if (dsn->port)
		df_buf_printf(&f, "port=%d\n", dsn->port);
	my_opt(&f, "default-character-set", charset ? charset : "utf8mb4");
	if (prm.sslca)
		my_opt(&f, "ssl-ca", prm.sslca);
	if (prm.sslcert)
		my_opt(&f, "ssl-cert", prm.sslcert);
	if (prm.sslkey)
		my_opt(&f, "ssl-key", prm.sslkey);
	if (sslmode) {
		if (!strcasecmp(sslmode, "require") || !strcasecmp(sslmode, "required"))
			df_buf_puts(&f, "ssl\n");
		else if (!strncasecmp(sslmode, "verify", 6))
			df_buf_puts(&f, "ssl\nssl-verify-server-cert\n");
		else if (!strcasecmp(sslmode, "disable") || !strcasecmp(sslmode, "disabled"))
			df_buf_puts(&f, "skip-ssl\n");
	}
	/* only the mariadb client knows connect-timeout (mariadb-dump refuses it) */
	df_buf_printf(&f, "[mysql]\nconnect-timeout=%u\n",
		timeout && strtoul(timeout, NULL, 10) ? (unsigned)strtoul(timeout, NULL, 10) : 10u);
	if (df_buf_oom(&f)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df__tool_secret_write(&tc->secret, "my.cnf", f.ptr, f.size)) < 0)
		goto out;
	df_buf_printf(&tc->arg, "--defaults-extra-file=%s", tc->secret.path);
	if (df_buf_oom(&tc->arg))
		error = df_error_oom();
out:
	if (f.size)
		memset(f.ptr, 0, f.size);
	df_buf_release(&f);
	df__my_params_release(&prm);
	if (error < 0)
		my_tool_conn_release(tc);
	return error;
}

/* "mariadb-dump" of "/usr/bin/mariadb-dump". */
static const char *tool_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The first of `names` found on PATH; DF_EIO naming the package if none. */
static int my_tool(char **out, const char *const *names, const char *package)
{
	int error;

	for (const char *const *n = names; *n; n++)
		if ((error = df__tool_find(out, NULL, *n)) < 0 || *out)
			return error;
	error = df_error_set(DF_EIO, "%s not found: install the Debian package %s (apt-get install %s)",
		names[0], package, package);
	df_error_hint("devflow looks for %s%s%s on PATH", names[0], names[1] ? " or " : "",
		names[1] ? names[1] : "");
	return error;
}

/* The database to dump or restore into: the URL's, else the session's. */
static int my_dbname(char **out, df_conn *conn, const df_dsn *dsn)
{
	df_rows *rows = NULL;
	const char *v;
	int error;

	*out = NULL;
	if (dsn->database && *dsn->database)
		return (*out = strdup(dsn->database)) ? 0 : df_error_oom();
	if ((error = df__my_query(conn, &rows, "SELECT DATABASE()", NULL, 0)) < 0)
		return error;
	if ((v = df_rows_get(rows, 0, 0)) && *v && !(*out = strdup(v)))
		error = df_error_oom();
	df_rows_free(rows);
	if (!error && !*out) {
		error = df_error_set(DF_EUSAGE, "the mysql URL names no database to back up or restore");
		df_error_hint("add the database to the URL: mysql://user@host:3306/DATABASE");
	}
	return error;
}

/* The error of a client tool that did not finish. */
static int my_tool_failed(const struct df__tool_run *r, const char *tool, const char *path,
	const char *what)
{
	df_buf msg = DF_BUF_INIT;
	const char *m;
	int code;

	if (r->write_errno) {
		code = df_error_set(DF_EIO, "cannot write %s '%s': %s", what, path, strerror(r->write_errno));
		if (r->write_errno == ENOSPC || r->write_errno == EDQUOT)
			df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
		return code;
	}
	df__tool_err_summary(&msg, r, 3);
	m = msg.ptr;
	/* over TLS (the tools use it when the server offers it), a server that
	 * died mid-dump is "TLS/SSL error: unexpected eof" (2026) */
	if (strstr(m, "2013") || strstr(m, "2006") || strcasestr(m, "Lost connection") ||
	    strcasestr(m, "server has gone away") || strcasestr(m, "unexpected eof")) {
		code = df_error_set(DF_EIO, "%s failed: lost the connection to the server: %s", tool, m);
		df_error_hint("check that the server is still running, then run it again; nothing was "
			"written under the final name");
	} else if (strstr(m, "2002") || strstr(m, "2003") || strcasestr(m, "Can't connect")) {
		code = df_error_set(DF_EIO, "%s cannot connect to the server: %s", tool, m);
		df_error_hint("check that the server accepts connections from this machine, then run it again");
	} else if (strstr(m, "1045") || strcasestr(m, "Access denied for user")) {
		code = df_error_set(DF_EAUTH, "%s cannot log in: %s", tool, m);
		df_error_hint("check the user name and password in the database URL");
	} else if (r->status > 128) {
		code = df_error_set(DF_EIO, "%s was killed by signal %d%s%s", tool, r->status - 128,
			r->err.size ? ": " : "", r->err.size ? m : "");
	} else {
		code = df_error_set(DF_EIO, "%s failed (exit %d): %s", tool, r->status, m);
		if (strcasestr(m, "Access denied") || strcasestr(m, "privilege"))
			df_error_hint("the user needs SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES "
				"on the database (and CREATE, ALTER, DROP, INSERT to restore)");
	}
	df_buf_release(&msg);
	return code;
}

/*
 * mariadb-dump (or mysqldump) --single-transaction --routines --triggers
 * --events of the URL's database into `path`, streamed with progress; with
 * the schema-only flag, --no-data without dates and comments.  The dump
 * names no database (no CREATE DATABASE / USE): it restores into any.
 */
int df__my_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	static const char *const tools[] = { "mariadb-dump", "mysqldump", NULL };
	bool schema = df__tool_flag(dsn, DF__TOOL_FLAG_SCHEMA_ONLY);
	struct my_tool_conn tc;
	struct df__tool_run r = { .out_fd = -1 };
	char *tool = NULL, *db = NULL;
	const char *argv[16];
	int error, n = 0;

	memset(&tc, 0, sizeof(tc));
	if ((error = my_tool(&tool, tools, "mariadb-client")) < 0 ||
	    (error = my_dbname(&db, conn, dsn)) < 0 ||
	    (error = my_tool_conn(&tc, dsn)) < 0)
		goto out;
	argv[n++] = tool;
	argv[n++] = tc.arg.ptr;
	argv[n++] = "--single-transaction";
	argv[n++] = "--routines";
	argv[n++] = "--triggers";
	argv[n++] = "--events";
	argv[n++] = "--hex-blob";
	argv[n++] = "--no-tablespaces";
	if (schema) {
		argv[n++] = "--no-data";
		argv[n++] = "--skip-dump-date";
		argv[n++] = "--skip-comments";
	}
	argv[n++] = "--";
	argv[n++] = db;
	argv[n] = NULL;
	r.argv = argv;
	r.unset_env = (const char *const[]){ "MYSQL_PWD", NULL };
	r.dsn = dsn;
	r.secret = &tc.secret;
	r.out_fd = fd;
	r.progress = progress;
	r.progress_data = data;
	if ((error = df__tool_run(&r)) < 0)
		goto out;
	if (r.status != 0 || r.write_errno) {
		error = my_tool_failed(&r, tool_name(tool), path, schema ? "the snapshot" : "the backup");
		goto out;
	}
out:
	my_tool_conn_release(&tc);
	df_buf_release(&r.err);
	free(tool);
	free(db);
	return error;
}

/* Refuse files that are plainly another engine's backups. */
static int my_check_dump(const char *path)
{
	const char *kind;
	int error = df__backup_kind(&kind, path);

	if (error == 0 && kind)
		error = df_error_set(DF_ECONFIG, "'%s' is a %s backup, not a MySQL one", path,
			!strcmp(kind, "postgres") ? "PostgreSQL" : "SQLite");
	return error;
}

/*
 * Run a dump through the mariadb (or mysql) client into the URL's
 * database.  The dump drops each table it creates (DROP TABLE IF EXISTS),
 * so the clean flag changes nothing; DDL commits as it goes, so a failed
 * restore can leave part of the dump applied.
 */
static int my_restore_tool(df_conn *conn, const df_dsn *dsn, const char *path)
{
	static const char *const tools[] = { "mariadb", "mysql", NULL };
	struct my_tool_conn tc;
	struct df__tool_run r = { .out_fd = -1 };
	char *tool = NULL, *db = NULL;
	const char *argv[10];
	int error, n = 0;

	memset(&tc, 0, sizeof(tc));
	if ((error = my_check_dump(path)) < 0 ||
	    (error = my_tool(&tool, tools, "mariadb-client")) < 0 ||
	    (error = my_dbname(&db, conn, dsn)) < 0 ||
	    (error = my_tool_conn(&tc, dsn)) < 0)
		goto out;
	argv[n++] = tool;
	argv[n++] = tc.arg.ptr;
	argv[n++] = "--batch";
	argv[n++] = "--binary-mode";
	/* defense in depth (the core refuses a dump that names another
	 * database before this runs): statements after a USE of another
	 * database are skipped.  The database goes last, as the argument:
	 * with --database=, --one-database skips every statement */
	argv[n++] = "--one-database";
	argv[n++] = "--";
	argv[n++] = db;
	argv[n] = NULL;
	r.argv = argv;
	r.unset_env = (const char *const[]){ "MYSQL_PWD", NULL };
	r.dsn = dsn;
	r.secret = &tc.secret;
	r.stdin_path = path;
	if ((error = df__tool_run(&r)) < 0)
		goto out;
	if (r.status != 0)
		error = my_tool_failed(&r, tool_name(tool), path, "the restore");
out:
	my_tool_conn_release(&tc);
	df_buf_release(&r.err);
	free(tool);
	free(db);
	return error;
}

/* Exact row counts of the base tables of DATABASE(), by name. */
int df__my_table_counts(df_conn *conn, df_rows **out)
{
	return df__tool_table_counts(conn, out,
		"SELECT TABLE_NAME, CONCAT('`', REPLACE(TABLE_NAME, '`', '``'), '`') "
		"FROM information_schema.TABLES "
		"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
		df__my_query);
}

/* The public entry points: flags travel to the tool code as private markers. */
int df__my_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags)
{
	return df__tool_restore(conn, dsn, path, flags, my_restore_tool);
}

int df__my_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path)
{
	return df__tool_schema_dump(conn, dsn, path, df__my_backup);
}
