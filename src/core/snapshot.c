/*
 * Schema snapshots: the target's schema as SQL text, saved under
 * .devflow/snapshots/<UTC>-<env>-<tag>.sql, so a migration's effect can be
 * read (and diffed) afterwards.  PostgreSQL: pg_dump --schema-only;
 * MySQL/MariaDB: mariadb-dump --no-data (both through the driver's backup
 * with the schema-only flag); SQLite: the `sql` column of sqlite_master, in
 * the order the objects were created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/schema.h"
#include "util/fs.h"
#include "util/banned.h"

#define SNAPSHOT_DIR ".devflow/snapshots"

/* Letters, digits, '-', '_' and '.'; anything else becomes '_'. */
static void put_safe(df_buf *b, const char *s)
{
	if (!s || !*s)
		s = "none";
	for (; *s; s++)
		df_buf_putc(b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ? *s : '_');
}

/* SQLite's schema: every CREATE statement of sqlite_master, in rowid order. */
static int sqlite_schema(df_conn *conn, const char *path)
{
	df_rows *rows = NULL;
	df_buf text = DF_BUF_INIT;
	int error, fd;

	if ((error = df_conn_query(conn, &rows, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
		"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid", NULL, 0)) < 0)
		return error;
	for (size_t i = 0; i < rows->nrows; i++)
		df_buf_printf(&text, "%s;\n\n", df_rows_get(rows, i, 0));
	df_rows_free(rows);
	if (df_buf_oom(&text))
		return df_error_oom();
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0 ||
	    df_write_all(fd, text.ptr, text.size) < 0 || close(fd) < 0) {
		error = df_error_set(DF_EIO, "cannot write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	df_buf_release(&text);
	return error;
}

int df_snapshot_take(char **out_path, df_conn *conn, const df_dsn *dsn,
	const char *env, const char *tag)
{
	df_buf base = DF_BUF_INIT, tmp = DF_BUF_INIT, path = DF_BUF_INIT;
	df_identity id;
	char stamp[32];
	time_t now = time(NULL);
	mode_t old;
	int error, fd;

	*out_path = NULL;
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	if (df_mkdirs(SNAPSHOT_DIR, 0700, true) < 0)
		return df_error_set(DF_EIO, "cannot create '%s': %s", SNAPSHOT_DIR, strerror(errno));
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	df_buf_printf(&base, SNAPSHOT_DIR "/%s-", stamp);
	put_safe(&base, env ? env : "local");
	df_buf_putc(&base, '-');
	put_safe(&base, tag ? tag : "manual");
	df_buf_printf(&tmp, SNAPSHOT_DIR "/.tmp-%ld.sql", (long)getpid());
	if (df_buf_oom(&base) || df_buf_oom(&tmp))
		return df_error_oom();

	old = umask(077);
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	umask(old);
	if (fd < 0) {
		error = df_error_set(DF_EIO, "cannot create '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	close(fd);
	if (!strcmp(id.engine, "sqlite")) {
		error = sqlite_schema(conn, tmp.ptr);
	} else {
		error = df_conn_schema_dump(conn, dsn, tmp.ptr);
	}
	if (error < 0) {
		df_error_prefix("cannot take a schema snapshot");
		goto fail;
	}
	if ((fd = open(tmp.ptr, O_RDONLY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	/* link(): never replaces a snapshot taken in the same second */
	for (int n = 1; ; n++) {
		df_buf_truncate(&path, 0);
		if (n == 1)
			df_buf_printf(&path, "%s.sql", base.ptr);
		else
			df_buf_printf(&path, "%s-%d.sql", base.ptr, n);
		if (df_buf_oom(&path)) {
			error = df_error_oom();
			goto fail;
		}
		if (link(tmp.ptr, path.ptr) == 0)
			break;
		if (errno != EEXIST || n >= 1000) {
			error = df_error_set(DF_EIO, "cannot save the snapshot as '%s': %s", path.ptr,
				strerror(errno));
			goto fail;
		}
	}
	unlink(tmp.ptr);
	if (!(*out_path = df_buf_detach(&path)))
		error = df_error_oom();
	goto out;
fail:
	unlink(tmp.ptr);
out:
	df_buf_release(&base);
	df_buf_release(&tmp);
	df_buf_release(&path);
	return error;
}

int df_snapshot_model(char **out_path, const char *sql_path, const df_schema *model)
{
	df_buf path = DF_BUF_INIT;
	size_t n = strlen(sql_path);
	char *text = NULL;
	int error, fd = -1;
	mode_t old;

	*out_path = NULL;
	if (n > 4 && !strcmp(sql_path + n - 4, ".sql"))
		n -= 4;
	df_buf_put(&path, sql_path, n);
	df_buf_puts(&path, ".schema");
	if (df_buf_oom(&path)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df_schema_text(&text, model)) < 0)
		goto out;
	old = umask(077);
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	umask(old);
	if (fd < 0 || df_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		error = df_error_set(DF_EIO, "cannot write '%s': %s", path.ptr, strerror(errno));
		if (fd >= 0)
			unlink(path.ptr);
		goto out;
	}
	*out_path = df_buf_detach(&path);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	df_buf_release(&path);
	return error;
}
