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

#include <openssl/evp.h>

#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "util/banned.h"

void df_backup_info_release(df_backup_info *b)
{
	free(b->path);
	free(b->mismatch);
	memset(b, 0, sizeof(*b));
}

int df_file_sha256(char out[65], uint64_t *size, const char *path)
{
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	uint64_t total = 0;
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (!(ctx = EVP_MD_CTX_new())) {
		close(fd);
		return df_error_oom();
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (n < 0)
		return df_error_set(DF_EIO, "cannot read '%s': %s", path, strerror(errno));
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
	if (size)
		*size = total;
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
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

/* Restore `path` into a throwaway SQLite database and compare. */
static int verify_sqlite(df_backup_info *info, df_conn *conn)
{
	df_dsn *tmp = NULL;
	df_conn *copy = NULL;
	int error;

	if ((error = df_dsn_parse(&tmp, "sqlite::memory:")) < 0)
		return error;
	if ((error = df_conn_open(&copy, tmp)) < 0 ||
	    (error = df_conn_restore(copy, tmp, info->path)) < 0 ||
	    (error = compare_counts(&info->mismatch, conn, copy)) < 0)
		goto out;
	info->verified = !info->mismatch;
out:
	df_conn_close(copy);
	df_dsn_free(tmp);
	return error;
}

int df_backup_run(df_backup_info *out, df_conn *conn, const df_dsn *dsn,
	const df_backup_opts *opts)
{
	df_buf path = DF_BUF_INIT, tmp = DF_BUF_INIT;
	df_identity id;
	char stamp[32];
	time_t now = time(NULL);
	mode_t old;
	int error, fd;

	memset(out, 0, sizeof(*out));
	if ((error = df_conn_identity(conn, &id)) < 0)
		return error;
	if (opts->path) {
		df_buf_puts(&path, opts->path);
	} else {
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
		df_buf_printf(&path, ".devflow/backups/%s-", opts->env ? opts->env : "local");
		safe_name(&path, id.database);
		df_buf_printf(&path, "-%s.%s", stamp, conn->driver->backup_ext ? conn->driver->backup_ext : "bak");
	}
	if (mkdirs(path.ptr) < 0) {
		error = df_error_set(DF_EIO, "cannot create the folder of '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	df_buf_printf(&tmp, "%s.tmp-%ld", path.ptr, (long)getpid());
	/* 0600 from the start: a backup holds every row of the database */
	old = umask(077);
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (fd < 0) {
		umask(old);
		error = df_error_set(DF_EIO, "cannot create '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	error = df_conn_backup(conn, dsn, tmp.ptr, opts->progress, opts->progress_data);
	umask(old);
	if (error < 0)
		goto fail;
	if (chmod(tmp.ptr, 0600) < 0 || fsync_path(tmp.ptr, O_RDONLY) < 0) {
		error = df_error_set(DF_EIO, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto fail;
	}
	if (rename(tmp.ptr, path.ptr) < 0) {
		error = df_error_set(DF_EIO, "cannot rename the backup into '%s': %s", path.ptr, strerror(errno));
		goto fail;
	}
	{
		char *dir = strdup(path.ptr), *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash) {
			*slash = '\0';
			fsync_path(dir, O_RDONLY | O_DIRECTORY);
		}
		free(dir);
	}
	if (!(out->path = df_buf_detach(&path))) {
		error = df_error_oom();
		goto out;
	}
	if ((error = df_file_sha256(out->sha256, &out->size, out->path)) < 0)
		goto out;
	if (opts->verify) {
		if (!strcmp(id.engine, "sqlite"))
			error = verify_sqlite(out, conn);
		else
			error = df_error_set(DF_EINTERNAL, "--verify is not available for %s yet", id.engine);
		if (!error && out->mismatch) {
			error = df_error_set(DF_EIO, "the backup does not match the database: %s", out->mismatch);
			df_error_hint("the database may have changed during the backup; run it again");
		}
	}
	goto out;
fail:
	unlink(tmp.ptr);
out:
	df_buf_release(&path);
	df_buf_release(&tmp);
	return error;
}

char *df_backup_receipt(const df_backup_info *b)
{
	df_buf r = DF_BUF_INIT;

	df_buf_printf(&r, "path=%s;sha256=%s;size=%llu;verified=%d;t=%lld", b->path, b->sha256,
		(unsigned long long)b->size, b->verified ? 1 : 0, (long long)time(NULL));
	return df_buf_detach(&r);
}
