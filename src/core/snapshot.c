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
static int sqlite_schema(df_conn *conn, df_file_tmp *t)
{
	df_rows *rows = NULL;
	df_buf text = DF_BUF_INIT;
	int error;

	if ((error = df_conn_query(conn, &rows, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
		"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid", NULL, 0)) < 0)
		return error;
	for (size_t i = 0; i < rows->nrows; i++)
		df_buf_printf(&text, "%s;\n\n", df_rows_get(rows, i, 0));
	df_rows_free(rows);
	if (df_buf_oom(&text))
		return df_error_oom();
	if (df_write_all(t->fd, text.ptr, text.size) < 0)
		error = df_file_error(t);
	df_buf_release(&text);
	return error;
}

/*
 * The dump goes to a temporary file of an unguessable name created with
 * O_EXCL in the snapshots folder (util/fs.h: a link planted at a predictable
 * name is never written through), then is linked under the first free name:
 * a snapshot taken in the same second is never replaced.
 */
int df_snapshot_take(char **out_path, df_conn *conn, const df_dsn *dsn,
	const char *env, const char *tag)
{
	df_buf base = DF_BUF_INIT, dest = DF_BUF_INIT;
	df_file_tmp tmp = DF_FILE_TMP_INIT;
	df_identity id;
	char stamp[32];
	time_t now = time(NULL);
	mode_t old;
	int error;

	*out_path = NULL;
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	if (df_mkdirs(SNAPSHOT_DIR, 0700, true) < 0)
		return df_error_set(DF_EIO, "cannot create '%s': %s", SNAPSHOT_DIR, strerror(errno));
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &(struct tm){ 0 }));
	df_buf_printf(&base, SNAPSHOT_DIR "/%s-", stamp);
	put_safe(&base, env ? env : "local");
	df_buf_putc(&base, '-');
	put_safe(&base, tag ? tag : "manual");
	df_buf_printf(&dest, "%s.sql", base.ptr);
	if (df_buf_oom(&base) || df_buf_oom(&dest)) {
		error = df_error_oom();
		goto out;
	}

	old = umask(077);
	error = df_file_tmp_create(&tmp, dest.ptr, 0600, DF_FILE_NOREPLACE);
	umask(old);
	if (error < 0)
		goto out;
	if (!strcmp(id.engine, "sqlite")) {
		error = sqlite_schema(conn, &tmp);
	} else {
		/* the driver's dump tool writes to the name: the file is ours
		 * (O_EXCL, an unguessable name), and tmp.fd, still open on it, is
		 * what the commit fsyncs */
		error = df_conn_schema_dump(conn, dsn, tmp.path);
	}
	if (error < 0) {
		df_error_prefix("cannot take a schema snapshot");
		goto out;
	}
	error = df_file_commit_unique(out_path, &tmp, base.ptr, ".sql");
out:
	df_file_tmp_release(&tmp);
	df_buf_release(&base);
	df_buf_release(&dest);
	return error;
}

int df_snapshot_model(char **out_path, const char *sql_path, const df_schema *model)
{
	df_buf path = DF_BUF_INIT;
	size_t n = strlen(sql_path);
	df_file_tmp tmp = DF_FILE_TMP_INIT;
	char *text = NULL;
	int error;
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
	/* beside a snapshot just made: a name that exists (a planted link
	 * too) is never replaced nor written through */
	old = umask(077);
	error = df_file_tmp_create(&tmp, path.ptr, 0600, DF_FILE_NOREPLACE);
	umask(old);
	if (error < 0)
		goto out;
	if (df_write_all(tmp.fd, text, strlen(text)) < 0) {
		error = df_file_error(&tmp);
		goto out;
	}
	if ((error = df_file_commit(&tmp)) < 0)
		goto out;
	*out_path = df_buf_detach(&path);
out:
	df_file_tmp_release(&tmp);
	free(text);
	df_buf_release(&path);
	return error;
}
