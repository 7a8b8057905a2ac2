/*
 * Backups: the engine writes (df_conn_backup), the core makes it safe to
 * keep: a temporary name, 0600, fsync, rename, a checksum, and, on request,
 * a verification by restoring into a throwaway database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/run.h"
#include "util/sha256.h"
#include "util/fs.h"
#include "util/banned.h"

void df_backup_info_release(df_backup_info *b)
{
	free(b->path);
	free(b->mismatch);
	memset(b, 0, sizeof(*b));
}

int df_file_sha256(char out[65], uint64_t *size, const char *path)
{
	unsigned char buf[1 << 16];
	uint64_t total = 0;
	df_sha256 ctx;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	df_sha256_init(&ctx);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		df_sha256_update(&ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	df_sha256_hex(&ctx, out);
	if (size)
		*size = total;
	return 0;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* A file-name-safe version of the database name. */
static void safe_name(df_buf *b, const char *s)
{
	const char *base = strrchr(s, '/');

	if (base && base[1])
		s = base + 1;
	for (; *s; s++)
		df_buf_putc(b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ? *s : '_');
}

/* Compare table lists and row counts of two connections. */
static int compare_counts(char **mismatch, df_conn *a, df_conn *b)
{
	df_rows *ra = NULL, *rb = NULL;
	df_buf msg = DF_BUF_INIT;
	int error;

	*mismatch = NULL;
	if ((error = df_conn_table_counts(a, &ra)) < 0 || (error = df_conn_table_counts(b, &rb)) < 0)
		goto out;
	for (size_t i = 0; i < ra->nrows; i++) {
		const char *name = df_rows_get(ra, i, 0), *n = df_rows_get(ra, i, 1), *m = NULL;
		for (size_t k = 0; k < rb->nrows && !m; k++)
			if (!strcmp(df_rows_get(rb, k, 0), name))
				m = df_rows_get(rb, k, 1) ? df_rows_get(rb, k, 1) : "";
		if (!m)
			df_buf_printf(&msg, "%stable %s is missing from the backup", msg.size ? "; " : "", name);
		else if (strcmp(n ? n : "", m))
			df_buf_printf(&msg, "%stable %s has %s rows in the backup, %s in the database",
				msg.size ? "; " : "", name, m, n ? n : "?");
	}
	if (ra->nrows != rb->nrows && !msg.size)
		df_buf_printf(&msg, "the backup has %zu tables, the database %zu", rb->nrows, ra->nrows);
	if (msg.size)
		*mismatch = df_buf_detach(&msg);
out:
	df_buf_release(&msg);
	df_rows_free(ra);
	df_rows_free(rb);
	return error;
}

/* Restore `file` into a throwaway SQLite database and compare. */
static int verify_sqlite(df_backup_info *info, df_conn *conn, const char *file)
{
	df_dsn *tmp = NULL;
	df_conn *copy = NULL;
	int error;

	if ((error = df_dsn_parse(&tmp, "sqlite::memory:")) < 0)
		return error;
	if ((error = df_conn_open(&copy, tmp)) < 0 ||
	    (error = df_conn_restore(copy, tmp, file, 0)) < 0 ||
	    (error = compare_counts(&info->mismatch, conn, copy)) < 0)
		goto out;
	info->verified = !info->mismatch;
out:
	df_conn_close(copy);
	df_dsn_free(tmp);
	return error;
}


/*
 * Restore `file` into a throwaway database on the same server (CREATE
 * DATABASE devflow_verify_<run id>_<random>), compare its tables and row
 * counts with the source's, and drop it again, also when anything fails.
 */
static int verify_server(df_backup_info *info, df_conn *conn, const df_dsn *dsn,
	const df_identity *id, const char *file)
{
	bool pg = !strcmp(id->engine, "postgres"), created = false;
	unsigned char rnd[4] = { 0 };
	char name[64], rid[DF_RUN_ID_MAX], *url = NULL;
	df_buf sql = DF_BUF_INIT;
	df_rows *rows = NULL;
	df_dsn *tmp = NULL;
	df_conn *copy = NULL;
	df_identity cid;
	int error;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(rnd, &ts.tv_nsec, sizeof(rnd));
	}
	/* the run's id (it starts with the pid: df_shadow_list), and random
	 * letters for a run that verifies twice */
	df_run_id_copy(rid, conn->run);
	snprintf(name, sizeof(name), "devflow_verify_%s_%02x%02x%02x%02x", rid,
		rnd[0], rnd[1], rnd[2], rnd[3]);

	/* the same encoding (PostgreSQL) or character set (MySQL) as the source */
	if (pg) {
		error = df_conn_query(conn, &rows, "SELECT pg_catalog.pg_encoding_to_char(encoding) "
			"FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()", NULL, 0);
		df_buf_printf(&sql, "CREATE DATABASE %s TEMPLATE template0", name);
		if (!error && df_rows_get(rows, 0, 0))
			df_buf_printf(&sql, " ENCODING '%s'", df_rows_get(rows, 0, 0));
	} else {
		error = df_conn_query(conn, &rows, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
			"FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()", NULL, 0);
		df_buf_printf(&sql, "CREATE DATABASE `%s`", name);
		if (!error && df_rows_get(rows, 0, 0) && df_rows_get(rows, 0, 1))
			df_buf_printf(&sql, " CHARACTER SET %s COLLATE %s", df_rows_get(rows, 0, 0),
				df_rows_get(rows, 0, 1));
	}
	df_rows_free(rows);
	rows = NULL;
	if (df_buf_oom(&sql)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df_conn_exec(conn, sql.ptr, sql.size, NULL)) < 0) {
		df_error_prefix("cannot create the throwaway database '%s' to verify the backup", name);
		if (error == DF_EPERM)
			df_error_hint("--verify needs %s; or back up without --verify",
				pg ? "the CREATEDB privilege (ALTER ROLE ... CREATEDB)" :
				"CREATE and DROP on databases named devflow_verify_%");
		goto out;
	}
	created = true;
	if (!(url = df_dsn_with_database(dsn->url, name))) {
		error = df_error_set(DF_EINTERNAL, "cannot make the URL of the throwaway database");
		goto out;
	}
	if ((error = df_dsn_parse(&tmp, url)) < 0 ||
	    (error = df_conn_open(&copy, tmp)) < 0 ||
	    (error = df_conn_identity(copy, &cid)) < 0)
		goto out;
	/* never restore into anything but the database just created */
	if (strcmp(cid.database, name)) {
		error = df_error_set(DF_EINTERNAL, "the throwaway database URL leads to '%s', not '%s'; "
			"not restoring there", cid.database, name);
		df_error_hint("the URL may name the database twice (path and ?dbname=)");
		goto out;
	}
	/* ownership and grants do not matter for the comparison */
	if ((error = df_conn_restore(copy, tmp, file, DF_RESTORE_NO_OWNER)) < 0) {
		df_error_prefix("the backup does not restore");
		goto out;
	}
	if ((error = compare_counts(&info->mismatch, conn, copy)) < 0)
		goto out;
	info->verified = !info->mismatch;
out:
	df_conn_close(copy);
	if (created) {
		df_error *saved = df_error_save();
		df_buf_truncate(&sql, 0);
		if (pg)
			df_buf_printf(&sql, "DROP DATABASE IF EXISTS %s%s", name,
				id->version_num >= 130000 ? " WITH (FORCE)" : "");
		else
			df_buf_printf(&sql, "DROP DATABASE IF EXISTS `%s`", name);
		df_conn_exec(conn, sql.ptr, sql.size, NULL);
		df_error_restore(saved);
	}
	df_dsn_free(tmp);
	free(url);
	df_buf_release(&sql);
	return error;
}

/* `path` does not exist yet (a default name: add -2, -3 ... before .ext). */
static int unique_path(df_buf *path)
{
	struct stat st;
	char *base, *dot;
	int n = 2;

	if (lstat(path->ptr, &st) < 0)
		return 0;
	if (!(base = strdup(path->ptr)))
		return df_error_oom();
	dot = strrchr(base, '.');
	if (dot && strchr(dot, '/'))
		dot = NULL;
	do {
		df_buf_truncate(path, 0);
		df_buf_printf(path, "%.*s-%d%s", (int)(dot ? dot - base : (long)strlen(base)), base, n++,
			dot ? dot : "");
	} while (lstat(path->ptr, &st) == 0 && n < 1000);
	free(base);
	return df_buf_oom(path) ? df_error_oom() : 0;
}

/*
 * Move `from` to `to`.  Without `replace`, an existing `to` is never
 * replaced (renameat2 RENAME_NOREPLACE; link + unlink where the file
 * system has no such rename): EEXIST then.  Returns 0 or -1 with errno.
 */
static int move_file(const char *from, const char *to, bool replace)
{
	if (replace)
		return rename(from, to);
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

/* SHA-256 and size of what `fd` holds, read from offset 0. */
static int fd_sha256(char out[65], uint64_t *size, int fd, const char *name)
{
	unsigned char buf[1 << 16];
	uint64_t total = 0;
	df_sha256 ctx;
	ssize_t n;

	df_sha256_init(&ctx);
	while ((n = pread(fd, buf, sizeof(buf), (off_t)total)) > 0) {
		df_sha256_update(&ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", name, strerror(errno));
	df_sha256_hex(&ctx, out);
	*size = total;
	return 0;
}

void df_backup_manifest_path(df_buf *out, const char *backup)
{
	df_buf_printf(out, "%s.manifest", backup);
}

/*
 * Write `<backup>.manifest` (JSON, one field a line): what the backup is
 * and holds, so a restore can check the file before anything runs, also
 * in another database than the one whose audit log has the receipt.
 * Written whole under a temporary name and renamed (util/fs.c).
 */
static int write_manifest(const char *backup, const df_identity *id, const char *sha,
	uint64_t size, bool verified)
{
	df_buf m = DF_BUF_INIT, path = DF_BUF_INIT;
	df_file_tmp t = DF_FILE_TMP_INIT;
	const char *base = strrchr(backup, '/');
	char created[32];
	time_t now = time(NULL);
	int error = 0;

	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &(struct tm){ 0 }));
	df_buf_puts(&m, "{\n  \"manifest\": 1,\n  \"file\": ");
	df_buf_json_str(&m, base ? base + 1 : backup);
	df_buf_puts(&m, ",\n  \"engine\": ");
	df_buf_json_str(&m, id->engine);
	df_buf_puts(&m, ",\n  \"database\": ");
	df_buf_json_str(&m, id->database);
	df_buf_printf(&m, ",\n  \"size\": %llu,\n  \"sha256\": \"%s\",\n  \"created\": \"%s\",\n"
		"  \"verified\": %s\n}\n", (unsigned long long)size, sha, created,
		verified ? "true" : "false");
	df_backup_manifest_path(&path, backup);
	if (df_buf_oom(&m) || df_buf_oom(&path)) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df_file_tmp_create(&t, path.ptr, 0600, 0)) < 0 ||
	    (error = df_write_all(t.fd, m.ptr, m.size) < 0 ? df_file_error(&t) : 0) < 0 ||
	    (error = df_file_commit(&t)) < 0)
		df_error_prefix("cannot write the manifest");
out:
	df_file_tmp_release(&t);
	df_buf_release(&m);
	df_buf_release(&path);
	return error;
}

static void remove_manifest(const char *backup)
{
	df_buf path = DF_BUF_INIT;

	df_backup_manifest_path(&path, backup);
	if (!df_buf_oom(&path))
		unlink(path.ptr);
	df_buf_release(&path);
}

/*
 * Whether -o PATH may be written.  An existing PATH (an earlier backup, a
 * migration file, the live database) is replaced only with `force`; the
 * file of the database being backed up, never.
 */
static int check_output(const char *path, const df_identity *id, bool force)
{
	struct stat st, live;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : df_error_set(DF_EIO, "cannot write the backup to '%s': %s",
			path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		df_error_set(DF_EUSAGE, "-o wants a file name, but '%s' is a folder", path);
		df_error_hint("name a file in it: -o %s/BACKUP", path);
		return DF_EUSAGE;
	}
	if (!strcmp(id->engine, "sqlite") && stat(id->database, &live) == 0 &&
	    stat(path, &st) == 0 && st.st_dev == live.st_dev && st.st_ino == live.st_ino) {
		df_error_set(DF_EUSAGE, "'%s' is the database being backed up; not writing the backup over it",
			path);
		df_error_hint("pick another -o PATH");
		return DF_EUSAGE;
	}
	if (!force) {
		df_error_set(DF_EUSAGE, "'%s' exists; a backup does not replace a file without --force", path);
		df_error_hint("pick another -o PATH, or add --force to replace '%s'", path);
		return DF_EUSAGE;
	}
	return 0;
}

static void keep_unverified(df_backup_info *out, df_buf *path, df_buf *tmp, const char *sha,
	uint64_t size, char **mismatch, bool named, const df_identity *id);

int df_backup_run(df_backup_info *out, df_conn *conn, const df_dsn *dsn,
	const df_backup_opts *opts)
{
	df_buf path = DF_BUF_INIT, tmp = DF_BUF_INIT;
	df_identity id;
	char stamp[32], sha[65], rid[DF_RUN_ID_MAX];
	uint64_t size = 0;
	time_t now = time(NULL);
	bool verified = false, manifest = false;
	char *mismatch = NULL;
	mode_t old;
	int error, fd = -1;

	memset(out, 0, sizeof(*out));
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	if (opts->path) {
		df_buf_puts(&path, opts->path);
	} else {
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &(struct tm){ 0 }));
		df_buf_printf(&path, ".devflow/backups/%s-", opts->env ? opts->env : "local");
		safe_name(&path, id.database);
		/* the run's id: two runs in one second never meet at one name */
		df_run_id_copy(rid, conn->run);
		df_buf_printf(&path, "-%s-%s.%s", rid, stamp, conn->driver->backup_ext ?
			conn->driver->backup_ext : "bak");
		if ((error = unique_path(&path)) < 0)
			goto out;
	}
	if (opts->path && opts->folder_must_exist) {
		/* -o names a file in a folder that must exist: a typo must not
		 * create a tree of folders (from the root, for an absolute path) */
		const char *slash = strrchr(path.ptr, '/');
		struct stat st;
		if (!*path.ptr || (slash && slash[1] == '\0')) {
			error = df_error_set(DF_EUSAGE, "-o wants a file name, not '%s'", path.ptr);
			goto out;
		}
		if (slash) {
			df_buf dir = DF_BUF_INIT;
			df_buf_put(&dir, path.ptr, slash == path.ptr ? 1 : (size_t)(slash - path.ptr));
			if (df_buf_oom(&dir)) {
				df_buf_release(&dir);
				error = df_error_oom();
				goto out;
			}
			if (stat(dir.ptr, &st) < 0 || !S_ISDIR(st.st_mode)) {
				error = df_error_set(DF_EUSAGE, "cannot write the backup to '%s': the folder '%s' %s",
					path.ptr, dir.ptr, stat(dir.ptr, &st) < 0 ? "does not exist" : "is not a folder");
				df_error_hint("create the folder first, or pick another -o PATH");
				df_buf_release(&dir);
				goto out;
			}
			df_buf_release(&dir);
		}
	} else if (df_mkdirs(path.ptr, 0700, false) < 0) {
		error = df_error_set(DF_EIO, "cannot create the folder of '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	if (opts->path && (error = check_output(path.ptr, &id, opts->force)) < 0)
		goto out;
	/* a name of this run's (O_EXCL | O_NOFOLLOW below: nothing planted
	 * there is written through); read back for its digest, so opened
	 * O_RDWR here rather than through df_file_tmp_create */
	df_run_id_copy(rid, conn->run);
	df_buf_printf(&tmp, "%s.tmp-%s", path.ptr, rid);
	if (df_buf_oom(&path) || df_buf_oom(&tmp)) {
		error = df_error_oom();
		goto out;
	}
	/* 0600 from the start: a backup holds every row of the database.  The
	 * descriptor goes to the driver: the name is never opened again for
	 * writing, so nothing swapped in under it is written through */
	old = umask(077);
	fd = open(tmp.ptr, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		umask(old);
		error = df_error_set(DF_EIO, "cannot create '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	error = df_conn_backup(conn, dsn, fd, tmp.ptr, opts->progress, opts->progress_data);
	umask(old);
	if (error < 0)
		goto fail;
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0) {
		error = df_error_set(DF_EIO, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		if (errno == ENOSPC || errno == EDQUOT)
			df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
		goto fail;
	}
	/* a driver that hashed while copying saves reading the file again */
	{
		const char *d = df_conn_backup_digest(conn);
		struct stat bst;
		if (d && strlen(d) == 64 && fstat(fd, &bst) == 0) {
			memcpy(sha, d, 65);
			size = (uint64_t)bst.st_size;
		} else if ((error = fd_sha256(sha, &size, fd, tmp.ptr)) < 0) {
			goto fail;
		}
	}
	if (close(fd) < 0) {
		fd = -1;
		error = df_error_set(DF_EIO, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto fail;
	}
	fd = -1;
	/* verify before the rename; a backup that fails it is kept, unverified */
	if (opts->verify) {
		df_backup_info v = { 0 };
		if (!strcmp(id.engine, "sqlite"))
			error = verify_sqlite(&v, conn, tmp.ptr);
		else if (!strcmp(id.engine, "postgres") || !strcmp(id.engine, "mysql"))
			error = verify_server(&v, conn, dsn, &id, tmp.ptr);
		else
			error = df_error_set(DF_EINTERNAL, "--verify is not available for %s", id.engine);
		verified = v.verified;
		mismatch = v.mismatch;
		if (!error && mismatch) {
			error = df_error_set(DF_EIO, "the backup does not match the database: %s", mismatch);
			df_error_hint("the database may have changed during the backup; run it again");
		}
		if (error < 0) {
			keep_unverified(out, &path, &tmp, sha, size, &mismatch, opts->path != NULL, &id);
			goto out;
		}
	}
	/* the manifest first: a backup under its final name always has one */
	if ((error = write_manifest(path.ptr, &id, sha, size, verified)) < 0)
		goto fail;
	manifest = true;
	if (move_file(tmp.ptr, path.ptr, opts->path && opts->force) < 0) {
		if (errno == EEXIST) {
			error = df_error_set(DF_EUSAGE, "'%s' appeared while the backup ran; not replacing it",
				path.ptr);
			df_error_hint("pick another -o PATH, or add --force to replace it");
		} else {
			error = df_error_set(DF_EIO, "cannot rename the backup into '%s': %s", path.ptr,
				strerror(errno));
		}
		goto fail;
	}
	{
		char *dir = strdup(path.ptr), *slash = dir ? strrchr(dir, '/') : NULL;
		fsync_path(slash ? (*slash = '\0', dir) : ".", O_RDONLY | O_DIRECTORY);
		free(dir);
	}
	if (!(out->path = df_buf_detach(&path))) {
		error = df_error_oom();
		goto out;
	}
	memcpy(out->sha256, sha, sizeof(sha));
	out->size = size;
	out->verified = verified;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp.ptr);
	if (manifest)
		remove_manifest(path.ptr);
	out->mismatch = mismatch;
	mismatch = NULL;
out:
	free(mismatch);
	df_buf_release(&path);
	df_buf_release(&tmp);
	return error;
}

/*
 * --verify failed: the backup is still what pg_dump / mariadb-dump wrote, so
 * it is kept (never counted as a verified one, nor recorded as the backup a
 * gate wants); the error stays, and says where the file is.  A default name
 * is new, so the file keeps it; -o PATH never gets an unverified backup
 * (it may hold an earlier good one): the file goes to PATH.unverified.
 */
static void keep_unverified(df_backup_info *out, df_buf *path, df_buf *tmp, const char *sha,
	uint64_t size, char **mismatch, bool named, const df_identity *id)
{
	const df_error *e = df_error_last();
	char *hint = e && e->hint ? strdup(e->hint) : NULL;

	if (named) {
		df_buf_puts(path, ".unverified");
		if (df_buf_oom(path) || unique_path(path) < 0) {
			unlink(tmp->ptr);
			free(hint);
			return;
		}
	}
	if (write_manifest(path->ptr, id, sha, size, false) < 0 || move_file(tmp->ptr, path->ptr, false) < 0) {
		remove_manifest(path->ptr);
		unlink(tmp->ptr);
		free(hint);
		return;
	}
	out->path = df_buf_detach(path);
	memcpy(out->sha256, sha, 65);
	out->size = size;
	out->verified = false;
	out->mismatch = *mismatch;
	*mismatch = NULL;
	df_error_prefix("backup not verified");
	df_error_hint("%s%sthe backup is kept, unverified, at %s%s (it does not count as a verified "
		"backup)", hint ? hint : "", hint ? "; " : "", out->path ? out->path : "",
		named ? ", not under the -o name" : "");
	free(hint);
}

char *df_backup_receipt(const df_backup_info *b)
{
	df_buf r = DF_BUF_INIT;

	df_buf_printf(&r, "path=%s;sha256=%s;size=%llu;verified=%d;t=%lld", b->path, b->sha256,
		(unsigned long long)b->size, b->verified ? 1 : 0, (long long)time(NULL));
	return df_buf_detach(&r);
}

int df_backup_file_ok(const char *path, uint64_t size)
{
	struct stat st;

	if (!path || !*path)
		return df_error_set(DF_ENOTFOUND, "the backup recorded names no file");
	if (stat(path, &st) < 0) {
		df_error_set(DF_ENOTFOUND, "the backup file '%s' recorded in the audit log is gone (%s)",
			path, strerror(errno));
		df_error_hint("take a new backup (--backup, or `" DF_ERR_CMD(0) "`)");
		df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
		return DF_ENOTFOUND;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		df_error_set(DF_ENOTFOUND, "the backup file '%s' has %lld bytes, not the %llu recorded "
			"when it was taken", path, (long long)st.st_size, (unsigned long long)size);
		df_error_hint("take a new backup (--backup, or `" DF_ERR_CMD(0) "`)");
		df_error_suggest(df_cmd_make(DF_VERB_BACKUP, NULL, -1));
		return DF_ENOTFOUND;
	}
	return 0;
}

int df_backup_receipt_file_ok(const char *receipt)
{
	const char *p, *end, *sz;
	char *path;
	unsigned long long size;
	int error;

	if (!receipt || strncmp(receipt, "path=", 5) ||
	    !(end = strstr(receipt, ";sha256=")) || !(sz = strstr(end, ";size=")))
		return df_error_set(DF_ENOTFOUND, "the backup receipt names no file");
	p = receipt + 5;
	size = strtoull(sz + 6, NULL, 10);
	if (!(path = strndup(p, (size_t)(end - p))))
		return df_error_oom();
	error = df_backup_file_ok(path, (uint64_t)size);
	free(path);
	return error;
}
