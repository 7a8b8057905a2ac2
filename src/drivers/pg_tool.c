/*
 * Backups, restores and schema snapshots of a PostgreSQL database, with the
 * pg_dump and pg_restore of the server's major version (docs/backup.md).
 * The password reaches them only through a 0600 passfile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/client_tool.h"
#include "drivers/pg_int.h"
#include "util/fs.h"
#include "util/banned.h"

/*
 * The folder name Debian gives a major version under /usr/lib/postgresql:
 * "15" for 150020, "9.6" for 90624.
 */
static void pg_major_name(char *out, size_t n, int version_num)
{
	if (version_num >= 100000)
		snprintf(out, n, "%d", version_num / 10000);
	else
		snprintf(out, n, "%d.%d", version_num / 10000, version_num / 100 % 100);
}

/* 150020 -> 150000, 90624 -> 90600: what pg_dump's compatibility goes by. */
static int pg_major_num(int version_num)
{
	return version_num >= 100000 ? version_num / 10000 * 10000 : version_num / 100 * 100;
}

/*
 * The version of "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)":
 * `ver` gets "15.20", the result is 150020 (or 90624 for 9.6.24), 0 when
 * the text cannot be read.
 */
static int pg_tool_version(const char *text, char *ver, size_t n)
{
	const char *p = strstr(text, ") ");
	int a = 0, b = 0, c = 0;

	ver[0] = '\0';
	/* "15.20", "9.6.24", also "17devel" and "16beta1" (major only) */
	if (!p || sscanf(p + 2, "%d.%d.%d", &a, &b, &c) < 1 || a <= 0)
		return 0;
	snprintf(ver, n, "%.*s", (int)strcspn(p + 2, " \n\r"), p + 2);
	return a >= 10 ? a * 10000 + b : a * 10000 + b * 100 + c;
}

/*
 * Find client `tool` (pg_dump, pg_restore) for the connected server: the
 * Debian folder of the server's major version, $DEVFLOW_PG_LIBDIR (default
 * /usr/lib/postgresql) /<major>/bin, then PATH.  A tool older than the
 * server is refused: pg_dump cannot read a newer server's catalogs.  *out
 * is malloc'd.
 */
static int pg_tool(char **out, df_conn *conn, const df_dsn *dsn, const char *tool)
{
	const char *lib = getenv("DEVFLOW_PG_LIBDIR");
	int server = PQserverVersion(PG(conn)), have;
	char major[16], ver[64], *path = NULL;
	const char *sv = PQparameterStatus(PG(conn), "server_version");
	df_buf dir = DF_BUF_INIT, text = DF_BUF_INIT;
	struct df__tool_run r = { .out_fd = -1, .out = &text, .dsn = dsn };
	const char *argv[3];
	int error;

	*out = NULL;
	pg_major_name(major, sizeof(major), server);
	df_buf_printf(&dir, "%s/%s/bin", lib && *lib ? lib : "/usr/lib/postgresql", major);
	if (df_buf_oom(&dir)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df__tool_find(&path, dir.ptr, tool)) < 0)
		goto out;
	if (!path) {
		error = df_error_set(DF_EIO, "%s not found: install the Debian package "
			"postgresql-client (apt-get install postgresql-client)", tool);
		df_error_hint("the server is PostgreSQL %s: postgresql-client-%s matches it; devflow "
			"looks in %s, then on PATH", major, major, dir.ptr);
		goto out;
	}
	argv[0] = path;
	argv[1] = "--version";
	argv[2] = NULL;
	r.argv = argv;
	if ((error = df__tool_run(&r)) < 0)
		goto out;
	have = pg_tool_version(text.ptr, ver, sizeof(ver));
	if (r.status != 0 || !have) {
		error = df_error_set(DF_EIO, "cannot tell the version of '%s' (exit %d)", path, r.status);
		df_error_hint("check that it runs: %s --version", path);
		goto out;
	}
	if (pg_major_num(have) < pg_major_num(server)) {
		error = df_error_set(DF_EIO, "%s %s (%s) is older than the server, PostgreSQL %.*s; "
			"it cannot back up or restore a newer server", tool, ver, path,
			sv ? (int)strcspn(sv, " ") : 0, sv ? sv : "");
		df_error_hint("install postgresql-client-%s (apt-get install postgresql-client-%s), or "
			"put a %s of version %s or newer first on PATH", major, major, tool, major);
		goto out;
	}
	*out = path;
	path = NULL;
out:
	df_buf_release(&r.err);
	df_buf_release(&text);
	df_buf_release(&dir);
	free(path);
	return error;
}

/*
 * How a client tool connects: the URL's parameters, except passwords, as a
 * conninfo string for --dbname (argv shows it, so nothing secret goes in);
 * the password in a 0600 passfile, named by PGPASSFILE.
 */
struct pg_tool_conn {
	df_buf conninfo;        /* "--dbname=host='...' ..." */
	struct df__tool_secret secret;
	df_buf passfile_env;    /* "PGPASSFILE=..." or empty */
	const char *set_env[2];
	const char *unset_env[2];
};

static void pg_tool_conn_release(struct pg_tool_conn *tc)
{
	df_buf_release(&tc->conninfo);
	df_buf_release(&tc->passfile_env);
	df__tool_secret_remove(&tc->secret);
}

static int pg_tool_conn(struct pg_tool_conn *tc, const df_dsn *dsn)
{
	PQconninfoOption *opts, *o;
	const char *password = NULL;
	df_buf pass = DF_BUF_INIT;
	bool timeout = false;
	int error = 0;

	memset(tc, 0, sizeof(*tc));
	df_buf_init(&tc->conninfo);
	df_buf_init(&tc->passfile_env);
	if ((error = df__pg_conninfo_parse(&opts, dsn)) < 0)
		return error;
	for (o = opts; o->keyword; o++)
		if (o->val && *o->val && !strcmp(o->keyword, "password"))
			password = o->val;
	df_buf_puts(&tc->conninfo, "--dbname=");
	for (o = opts; o->keyword; o++) {
		if (!o->val || !*o->val || !strcmp(o->keyword, "password") ||
		    !strcmp(o->keyword, "sslpassword") || (password && !strcmp(o->keyword, "passfile")))
			continue;
		timeout |= !strcmp(o->keyword, "connect_timeout");
		df_buf_printf(&tc->conninfo, "%s=", o->keyword);
		df__tool_conninfo_quote(&tc->conninfo, o->val);
		df_buf_putc(&tc->conninfo, ' ');
	}
	if (!timeout)
		df_buf_puts(&tc->conninfo, "connect_timeout=10");
	if (password) {
		/* hostname:port:database:username:password, ':' and '\' escaped */
		df_buf_puts(&pass, "*:*:*:*:");
		for (const char *p = password; *p; p++) {
			if (*p == ':' || *p == '\\')
				df_buf_putc(&pass, '\\');
			df_buf_putc(&pass, *p);
		}
		df_buf_putc(&pass, '\n');
		if (df_buf_oom(&pass)) {
			error = df_error_oom();
			goto out;
		}
		if (strchr(password, '\n')) {
			error = df_error_set(DF_EUSAGE, "the password contains a line break, which "
				"pg_dump's password file cannot hold");
			goto out;
		}
		if ((error = df__tool_secret_write(&tc->secret, "pgpass", pass.ptr, pass.size)) < 0)
			goto out;
		df_buf_printf(&tc->passfile_env, "PGPASSFILE=%s", tc->secret.path);
		tc->set_env[0] = tc->passfile_env.ptr;
		/* PGPASSWORD would win over the passfile */
		tc->unset_env[0] = "PGPASSWORD";
	}
	if (df_buf_oom(&tc->conninfo) || df_buf_oom(&tc->passfile_env))
		error = df_error_oom();
out:
	if (pass.size)
		memset(pass.ptr, 0, pass.size);
	df_buf_release(&pass);
	PQconninfoFree(opts);
	if (error < 0)
		pg_tool_conn_release(tc);
	return error;
}

/*
 * What pg_dump / pg_restore's stderr says went wrong: the first "error:"
 * line with the "detail:" lines after it (not the command text), white
 * space squeezed; otherwise its last lines.
 */
static void pg_tool_message(df_buf *out, const struct df__tool_run *r)
{
	const char *p = strstr(r->err.ptr, "error: ");
	bool first = true;

	if (!p) {
		df__tool_err_summary(out, r, 3);
		return;
	}
	p += 7;
	for (;;) {
		size_t n = strcspn(p, "\n");
		const char *d;
		if (!first)
			df_buf_puts(out, "; ");
		for (size_t i = 0; i < n; i++)
			if (!(p[i] == ' ' && out->size && out->ptr[out->size - 1] == ' '))
				df_buf_putc(out, p[i] == '\t' ? ' ' : p[i]);
		first = false;
		p += n;
		/* indented continuation lines of the server's message */
		while (*p == '\n' && p[1] == '\t') {
			p += 2;
			n = strcspn(p, "\n");
			df_buf_putc(out, ' ');
			df_buf_put(out, p, n);
			p += n;
		}
		if (*p != '\n' || !(d = strstr(p + 1, ": detail: ")) ||
		    d != p + 1 + strcspn(p + 1, ":\n") || !strncmp(d + 10, "Command was:", 12))
			break;
		p = d + 10;
	}
	while (out->size && strchr(" \r.", out->ptr[out->size - 1]))
		df_buf_truncate(out, out->size - 1);
}

/*
 * The error of a client tool that did not finish: writing the file failed
 * (the disk is full ...), the connection broke, or the tool's own error.
 */
static int pg_tool_failed(const struct df__tool_run *r, const char *tool, const char *path,
	const char *what)
{
	df_buf msg = DF_BUF_INIT;
	const char *m;
	int code = DF_EIO;

	if (r->write_errno) {
		code = df_error_set(DF_EIO, "cannot write %s '%s': %s", what, path, strerror(r->write_errno));
		if (r->write_errno == ENOSPC || r->write_errno == EDQUOT)
			df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
		return code;
	}
	pg_tool_message(&msg, r);
	m = msg.ptr;
	if (df__pg_has(m, "server closed the connection") || df__pg_has(m, "connection to server was lost") ||
	    df__pg_has(m, "terminating connection") || df__pg_has(m, "no connection to the server") ||
	    df__pg_has(m, "could not receive data from server") || df__pg_has(m, "SSL SYSCALL error")) {
		code = df_error_set(DF_EIO, "%s failed: lost the connection to the server: %s", tool, m);
		df_error_hint("check that the server is still running, then run it again; nothing was "
			"written under the final name");
	} else if (df__pg_has(m, "connection to server") || df__pg_has(m, "could not connect")) {
		code = df_error_set(DF_EIO, "%s cannot connect to the server: %s", tool, m);
		df_error_hint("check that the server accepts connections from this machine, then run it again");
	} else if (df__pg_has(m, "password authentication failed") || df__pg_has(m, "no password supplied")) {
		code = df_error_set(DF_EAUTH, "%s cannot log in: %s", tool, m);
		df_error_hint("check the user name and password in the database URL");
	} else if (r->status > 128) {
		code = df_error_set(DF_EIO, "%s was killed by signal %d%s%s", tool, r->status - 128,
			r->err.size ? ": " : "", r->err.size ? m : "");
	} else {
		code = df_error_set(DF_EIO, "%s failed (exit %d): %s", tool, r->status, m);
		if (df__pg_has(m, "permission denied"))
			df_error_hint("run it as a role that may read every table (the owner, or a "
				"member of pg_read_all_data)");
		else if (df__pg_has(m, "already exists"))
			df_error_hint("the target already holds these objects: restore into an empty "
				"database, or add --clean to drop them first");
	}
	df_buf_release(&msg);
	return code;
}

/* Drop psql's "\restrict KEY" / "\unrestrict KEY" lines (a random key):
 * snapshots of the same schema must be the same text. */
static void pg_drop_restrict(df_buf *text)
{
	size_t w = 0, r = 0;

	while (r < text->size) {
		size_t n = strcspn(text->ptr + r, "\n");
		size_t len = n + (r + n < text->size);
		const char *line = text->ptr + r;
		if (strncmp(line, "\\restrict ", 10) && strncmp(line, "\\unrestrict ", 12)) {
			memmove(text->ptr + w, line, len);
			w += len;
		}
		r += len;
	}
	df_buf_truncate(text, w);
}

/*
 * pg_dump -Fc of the connected database into `path` (or, with the
 * schema-only flag, pg_dump --schema-only as SQL text), streamed from the
 * tool's stdout with progress.
 */
int df__pg_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	bool schema = df__tool_flag(dsn, DF__TOOL_FLAG_SCHEMA_ONLY);
	struct pg_tool_conn tc;
	df_buf text = DF_BUF_INIT;
	struct df__tool_run r = { .out_fd = -1 };
	char *tool = NULL;
	const char *argv[8];
	int error, n = 0;

	memset(&tc, 0, sizeof(tc));
	if ((error = pg_tool(&tool, conn, dsn, "pg_dump")) < 0 ||
	    (error = pg_tool_conn(&tc, dsn)) < 0)
		goto out;
	argv[n++] = tool;
	argv[n++] = tc.conninfo.ptr;
	argv[n++] = "--no-password";
	if (schema) {
		argv[n++] = "--schema-only";
		argv[n++] = "--format=plain";
	} else {
		argv[n++] = "--format=custom";
	}
	argv[n] = NULL;
	r.argv = argv;
	r.set_env = tc.set_env;
	r.unset_env = tc.unset_env;
	r.dsn = dsn;
	r.secret = &tc.secret;
	if (schema) {
		r.out = &text;
	} else {
		r.out_fd = fd;
		r.progress = progress;
		r.progress_data = data;
	}
	if ((error = df__tool_run(&r)) < 0)
		goto out;
	if (r.status != 0 || r.write_errno) {
		error = pg_tool_failed(&r, "pg_dump", path, schema ? "the snapshot" : "the backup");
		goto out;
	}
	if (schema) {
		pg_drop_restrict(&text);
		if (df_buf_oom(&text)) {
			error = df_error_oom();
			goto out;
		}
		if (df_write_all(fd, text.ptr, text.size) < 0) {
			error = df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
	}
out:
	pg_tool_conn_release(&tc);
	df_buf_release(&r.err);
	df_buf_release(&text);
	free(tool);
	return error;
}

/* Is `path` a pg_dump custom-format archive?  DF_ECONFIG if not. */
static int pg_check_archive(const char *path)
{
	const char *kind;
	int error = df__backup_kind(&kind, path);

	if (error < 0 || (kind && !strcmp(kind, "postgres")))
		return error;
	if (kind)
		df_error_set(DF_ECONFIG, "'%s' is a SQLite backup, not a PostgreSQL one", path);
	else
		df_error_set(DF_ECONFIG, "'%s' is not a PostgreSQL backup (a pg_dump custom-format "
			"archive, as `" DF_ERR_CMD(0) "` writes)", path);
	df_error_hint("a plain SQL dump restores with: psql -v ON_ERROR_STOP=1 -1 -f FILE");
	if (!kind)
		df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
	return DF_ECONFIG;
}

/*
 * pg_restore into the database of `dsn`, in one transaction (all or
 * nothing).  Flags in dsn->query: clean (--clean --if-exists: drop the
 * archive's objects first), no-owner (--no-owner --no-privileges).
 */
static int pg_restore_tool(df_conn *conn, const df_dsn *dsn, const char *path)
{
	struct pg_tool_conn tc;
	struct df__tool_run r = { .out_fd = -1 };
	char *tool = NULL;
	const char *argv[12];
	int error, n = 0;

	memset(&tc, 0, sizeof(tc));
	if ((error = pg_check_archive(path)) < 0 ||
	    (error = pg_tool(&tool, conn, dsn, "pg_restore")) < 0 ||
	    (error = pg_tool_conn(&tc, dsn)) < 0)
		goto out;
	argv[n++] = tool;
	argv[n++] = tc.conninfo.ptr;
	argv[n++] = "--no-password";
	argv[n++] = "--single-transaction";
	argv[n++] = "--exit-on-error";
	if (df__tool_flag(dsn, DF__TOOL_FLAG_CLEAN)) {
		argv[n++] = "--clean";
		argv[n++] = "--if-exists";
	}
	if (df__tool_flag(dsn, DF__TOOL_FLAG_NO_OWNER)) {
		argv[n++] = "--no-owner";
		argv[n++] = "--no-privileges";
	}
	argv[n++] = "--";
	argv[n++] = path;
	argv[n] = NULL;
	r.argv = argv;
	r.set_env = tc.set_env;
	r.unset_env = tc.unset_env;
	r.dsn = dsn;
	r.secret = &tc.secret;
	if ((error = df__tool_run(&r)) < 0)
		goto out;
	if (r.status != 0)
		error = pg_tool_failed(&r, "pg_restore", path, "the restore");
out:
	pg_tool_conn_release(&tc);
	df_buf_release(&r.err);
	free(tool);
	return error;
}

/* Exact row counts of the tables of current_schema(), by name. */
int df__pg_table_counts(df_conn *conn, df_rows **out)
{
	return df__tool_table_counts(conn, out,
		"SELECT c.relname::text, pg_catalog.format('%I.%I', n.nspname, c.relname) "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = pg_catalog.current_schema() AND c.relkind IN ('r', 'p') "
		"ORDER BY 1", df__pg_query);
}

/* The public entry points: flags travel to the tool code as private markers. */
int df__pg_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags)
{
	return df__tool_restore(conn, dsn, path, flags, pg_restore_tool);
}

int df__pg_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path)
{
	return df__tool_schema_dump(conn, dsn, path, df__pg_backup);
}
