/*
 * The SQLite driver (libsqlite3).  The migration lock is an flock() on the
 * database file itself: independent of SQLite's own fcntl() byte-range locks
 * on Linux, held for the whole run across the per-migration transactions,
 * and released by the kernel when the process dies, however it dies.  Who
 * holds it, or SQLite's own locks, is read from /proc/locks: lite_locks.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/client_tool.h"
#include "drivers/lite_int.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/banned.h"

struct lite_conn {
	df_conn base;           /* must come first */
	sqlite3 *db;
	char *path;             /* absolute path, or ":memory:" */
	int lock_fd;            /* flock()ed descriptor, or -1 */
	long wait_ms;           /* how long the busy handler waits */
	long busy_since;        /* when the current wait began (ms) */
	bool gave_up;           /* a wait timed out: the next ones fail at once */
	char digest[65];        /* SHA-256 of the last fast-path backup, or "" */
};


static int lite_error(struct lite_conn *c, int rc, const char *what)
{
	int code = DF_ESQL;

	switch (rc & 0xff) {
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = DF_EPERM;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = DF_ELOCKED;
		break;
	case SQLITE_NOMEM:
		code = DF_EINTERNAL;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		code = DF_EIO;
		break;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		code = DF_ECONFIG;
		break;
	}
	if (code == DF_ELOCKED) {
		/* SQLite's write lock: name who holds it, a devflow run (its
		 * flock) or another program (SQLite's own POSIX locks) */
		char *holder = NULL;
		bool devflow = c->lock_fd < 0 && df__lite_flock_holder(c->path, &holder) == 0 && holder;
		if (!devflow)
			df__lite_sqlite_holder(c->path, &holder);
		df_error_set(code, "%s%sthe database '%s' is locked%s%s (waited %ld ms)",
			what ? what : "", what ? ": " : "", c->path,
			devflow ? ": a devflow run holds the migration lock, " :
			holder ? " by another program: " : " by another connection",
			holder ? holder : "", c->wait_ms);
		if (devflow)
			df_error_hint("wait for that run to finish, or raise --lock-timeout");
		else
			df_error_hint("another program holds a transaction open on it; wait for it to "
				"commit or close, or raise --lock-timeout (now %g s)", (double)c->wait_ms / 1000);
		free(holder);
		return code;
	}
	df_error_set(code, "%s%s%s", what ? what : "", what ? ": " : "",
		c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	if ((rc & 0xff) == SQLITE_READONLY) {
		/* the file, not a statement's privileges: like a refused connection */
		((df_error *)df_error_last())->connect_phase = 1;
	}
	if ((rc & 0xff) == SQLITE_READONLY)
		df_error_hint("the database file '%s' or its folder is read-only; check its permissions", c->path);
	else if ((rc & 0xff) == SQLITE_FULL)
		df_error_hint("the disk holding '%s' is full; free space and run again", c->path);
	return code;
}

static long now_ms(void);

/* The shortest wait for SQLite's own lock: a reader holds it for a moment. */
#define LITE_MIN_WAIT_MS 250

/*
 * SQLite's busy handler: wait up to wait_ms for another connection's lock
 * (the lock timeout), then give up (SQLITE_BUSY, reported as lock_timeout
 * naming the holder).  An interrupt stops the wait at once.
 */
static int lite_busy(void *arg, int n)
{
	struct lite_conn *c = arg;
	struct timespec ts = { 0, 10 * 1000000L };

	if (n == 0)
		c->busy_since = now_ms();
	if (c->gave_up || df_conn_cancelled(&c->base) || now_ms() - c->busy_since >= c->wait_ms) {
		c->gave_up = true;      /* one command waits once, not once per query */
		return 0;
	}
	nanosleep(&ts, NULL);
	return 1;
}

static void lite_close(df_conn *conn)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	if (!c)
		return;
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	sqlite3_close_v2(c->db);
	free(c->path);
	free(c);
}

static int lite_open(df_conn **out, const df_dsn *dsn)
{
	struct lite_conn *c;
	const char *name = dsn->database;
	char abs[PATH_MAX];
	struct stat st;
	int rc, error;

	*out = NULL;
	df__lite_mem_init();
	if (!(c = calloc(1, sizeof(*c))))
		return df_error_oom();
	c->lock_fd = -1;
	if (!strcmp(name, ":memory:")) {
		c->path = strdup(name);
	} else {
		if (stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
			error = df_error_set(DF_ECONFIG, "'%s' is a folder, not a SQLite database file", name);
			goto fail;
		}
		size_t n = strcspn(name, "?");
		char *file = strndup(name, n);
		if (file && realpath(file, abs))
			c->path = strdup(abs);
		else
			c->path = file ? strdup(file) : NULL;
		free(file);
	}
	if (!c->path) {
		error = df_error_oom();
		goto fail;
	}
	if (strchr(name, '?')) {
		/* sqlite:PATH?mode=ro and other URI parameters */
		df_buf uri = DF_BUF_INIT;
		df_buf_printf(&uri, "file:%s", name);
		rc = sqlite3_open_v2(uri.ptr, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
		df_buf_release(&uri);
	} else {
		rc = sqlite3_open_v2(name, &c->db,
			SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	}
	if (rc != SQLITE_OK) {
		int err = errno;
		error = df_error_set(err == EACCES ? DF_EPERM : DF_EIO,
			"cannot open SQLite database '%s': %s", name,
			c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		df_error_hint("check that the folder exists and is writable");
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 0);
	c->wait_ms = dsn->wait_ms > 0 ? dsn->wait_ms : 5000;     /* 0: not set */
	sqlite3_busy_handler(c->db, lite_busy, c);
	/* Touch the schema so a file that is not a database fails here.  A
	 * file a writer holds locked is a database: the commands that read
	 * wait for it (and name the holder) when they read. */
	sqlite3_busy_handler(c->db, NULL, NULL);
	rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	sqlite3_busy_handler(c->db, lite_busy, c);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
			error = df_error_set(DF_ECONFIG, "'%s' is not a SQLite database", name);
			df_error_hint("point the URL at a SQLite database file, or at a new file name");
		} else {
			error = lite_error(c, rc, "cannot read the database");
		}
		goto fail;
	}
	/* A 512 KiB page cache: devflow scans its tables once; migrations that
	 * need more get SQLite's own spill behaviour, not memory. */
	sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -512", NULL, NULL, NULL);
	*out = &c->base;
	return 0;
fail:
	lite_close(&c->base);
	return error;
}

static int lite_exec(df_conn *conn, const char *sql, size_t len, long *err_offset)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	const char *p = sql, *end = sql + len;
	sqlite3_stmt *st;
	int rc;

	*err_offset = -1;
	while (p < end) {
		const char *tail = NULL;
		rc = sqlite3_prepare_v2(c->db, p, (int)(end - p), &st, &tail);
		if (rc != SQLITE_OK) {
			int off = sqlite3_error_offset(c->db);
			if (off >= 0) {
				*err_offset = (long)(p - sql) + off;
			} else if (strstr(sqlite3_errmsg(c->db), "incomplete input")) {
				/* the statement ends too early: blame its end, not its start */
				const char *e = end;
				while (e > p && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' ||
				       e[-1] == '\r' || e[-1] == ';'))
					e--;
				*err_offset = (long)(e - sql);
			}
			return lite_error(c, rc, NULL);
		}
		if (!st)        /* only white space or comments left */
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			int off = sqlite3_error_offset(c->db);
			if (off >= 0)
				*err_offset = (long)(p - sql) + off;
			lite_error(c, rc, NULL);
			sqlite3_finalize(st);
			return df_error_last()->code;
		}
		sqlite3_finalize(st);
		p = tail;
	}
	return 0;
}

static int lite_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	sqlite3_stmt *st = NULL;
	df_rows *rows = NULL;
	const char **vals = NULL, **names = NULL;
	size_t *lens = NULL;
	int rc, ncols, error = 0;

	if ((rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return lite_error(c, rc, NULL);
	for (size_t i = 0; i < nparams; i++)
		rc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
			: sqlite3_bind_null(st, (int)i + 1);
	ncols = sqlite3_column_count(st);
	if (out) {
		if (!(names = calloc((size_t)ncols + 1, sizeof(*names))) ||
		    !(vals = calloc((size_t)ncols + 1, sizeof(*vals))) ||
		    !(lens = calloc((size_t)ncols + 1, sizeof(*lens)))) {
			error = df_error_oom();
			goto out;
		}
		for (int i = 0; i < ncols; i++)
			names[i] = sqlite3_column_name(st, i);
		if ((error = df_rows_new(&rows, (size_t)ncols, names)) < 0)
			goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!out)
			continue;
		for (int i = 0; i < ncols; i++) {
			vals[i] = (const char *)sqlite3_column_text(st, i);
			lens[i] = (size_t)sqlite3_column_bytes(st, i);
		}
		if ((error = df_rows_add(rows, vals, lens)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		error = lite_error(c, rc, NULL);
		goto out;
	}
	if (out) {
		*out = rows;
		rows = NULL;
	}
out:
	sqlite3_finalize(st);
	df_rows_free(rows);
	free(names);
	free(vals);
	free(lens);
	return error;
}

static int lite_simple(df_conn *conn, const char *sql)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : lite_error(c, rc, NULL);
}

/* IMMEDIATE: take the write lock now, so a migration never deadlocks halfway. */
static int lite_begin(df_conn *conn) { return lite_simple(conn, "BEGIN IMMEDIATE"); }
static int lite_commit(df_conn *conn) { return lite_simple(conn, "COMMIT"); }

static int lite_rollback(df_conn *conn)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	if (sqlite3_get_autocommit(c->db))
		return 0;       /* SQLite already rolled back (e.g. after SQLITE_FULL) */
	return lite_simple(conn, "ROLLBACK");
}

static int lite_in_transaction(df_conn *conn)
{
	return !sqlite3_get_autocommit(((struct lite_conn *)conn)->db);
}

/*
 * SQLite checks deferred foreign keys (DEFERRABLE INITIALLY DEFERRED, or
 * any key after PRAGMA defer_foreign_keys) only at COMMIT, which fails
 * while its count of open violations is not zero.  Read that count (as
 * COMMIT does; it costs nothing) and, when it is not zero, fail as COMMIT
 * would, naming the rows PRAGMA foreign_key_check finds (SQLite's ALTER
 * TABLE procedure).  Its count can stay above zero with no row to show: a
 * parent table's rows deleted, as the DROP TABLE of a rebuild does, and
 * put back by a rename, which SQLite does not count back.
 */
#define FK_SHOWN 3

static int lite_check_deferred(df_conn *conn, bool again)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	df_rows *rows = NULL;
	df_buf b = DF_BUF_INIT;
	int cur = 0, hi = 0, error;

	(void)again;    /* reading changes nothing: what is deferred stays so */
	if (sqlite3_db_status(c->db, SQLITE_DBSTATUS_DEFERRED_FKS, &cur, &hi, 0) != SQLITE_OK ||
	    cur == 0)
		return 0;
	/* columns: table, rowid, parent, fkid */
	if ((error = lite_query(conn, &rows, "PRAGMA foreign_key_check", NULL, 0)) < 0)
		return error;
	df_buf_puts(&b, "FOREIGN KEY constraint failed");
	for (size_t i = 0; i < rows->nrows && i < FK_SHOWN; i++) {
		const char *rowid = df_rows_get(rows, i, 1);
		df_buf_printf(&b, "%s row %s of '%s' references a missing row of '%s'",
			i ? ";" : ":", rowid ? rowid : "(without rowid)", df_rows_get(rows, i, 0),
			df_rows_get(rows, i, 2));
	}
	if (rows->nrows > FK_SHOWN)
		df_buf_printf(&b, "; and %zu more", rows->nrows - FK_SHOWN);
	if (!rows->nrows)
		df_buf_puts(&b, ": rows of a table that other tables reference were deleted (a DROP "
			"TABLE deletes them, and a table rebuild drops the table it copies)");
	error = df_buf_oom(&b) ? df_error_oom() : df_error_set(DF_ESQL, "%s", b.ptr);
	df_rows_free(rows);
	df_buf_release(&b);
	return error;
}

/* From a signal handler: sqlite3_interrupt() only sets a flag (the sqlite3
 * shell calls it from its SIGINT handler too). */
static void lite_cancel(df_conn *conn)
{
	sqlite3_interrupt(((struct lite_conn *)conn)->db);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int lite_lock(df_conn *conn, const char *name, long timeout_ms)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	char *holder = NULL;

	if (c->lock_fd >= 0 || !strcmp(c->path, ":memory:"))
		return 0;
	if ((c->lock_fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0)
		return df_error_set(DF_EIO, "cannot open '%s' to lock it: %s", c->path, strerror(errno));
	for (;;) {
		if (flock(c->lock_fd, LOCK_EX | LOCK_NB) == 0) {
			/* other runs are out now; another program may still hold
			 * SQLite's own lock: wait for it as long as the lock
			 * timeout says (a reader's lock at COMMIT lasts a moment) */
			c->wait_ms = timeout_ms < LITE_MIN_WAIT_MS ? LITE_MIN_WAIT_MS : timeout_ms;
			c->gave_up = false;
			return 0;
		}
		if (df_conn_cancelled(&c->base))
			break;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (now_ms() >= deadline)
			break;
		usleep(20000);
	}
	close(c->lock_fd);
	c->lock_fd = -1;
	conn->driver->lock_holder(conn, name, &holder);
	df_error_set(DF_ELOCKED, "another run holds the migration lock on '%s'%s%s%s",
		c->path, holder ? " (" : "", holder ? holder : "", holder ? ")" : "");
	df_error_hint("wait for it to finish, or raise --lock-timeout (now %ld s)", timeout_ms / 1000);
	free(holder);
	return DF_ELOCKED;
}

static int lite_unlock(df_conn *conn, const char *name)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	if (c->lock_fd >= 0) {
		close(c->lock_fd);      /* releases the flock */
		c->lock_fd = -1;
	}
	return 0;
}

static int lite_lock_holder(df_conn *conn, const char *name, char **out)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	*out = NULL;
	if (c->lock_fd >= 0)
		return (*out = strdup("this process")) ? 0 : df_error_oom();
	return df__lite_flock_holder(c->path, out);
}

static int lite_identity(df_conn *conn, df_identity *out)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	snprintf(out->engine, sizeof(out->engine), "sqlite");
	snprintf(out->version, sizeof(out->version), "%s", sqlite3_libversion());
	out->version_num = sqlite3_libversion_number();
	char abs[PATH_MAX];

	/* the file exists now even if it did not when we opened it */
	if (strcmp(c->path, ":memory:") && realpath(c->path, abs) && strcmp(abs, c->path)) {
		char *p = strdup(abs);
		if (p) {
			free(c->path);
			c->path = p;
		}
	}
	snprintf(out->database, sizeof(out->database), "%s", c->path);
	out->system_id[0] = '\0';
	return 0;
}

static int lite_table_columns(df_conn *conn, df_rows **out, const char *table)
{
	const char *params[] = { table };

	return lite_query(conn, out, "SELECT lower(name) FROM pragma_table_info(?)", params, 1);
}

/* Hashing the source on a second core while the kernel copies it. */
struct hash_job {
	int fd;
	uint64_t size;
	df_sha256 ctx;
	int err;
};

static void *hash_file(void *arg)
{
	struct hash_job *j = arg;
	size_t cap = 1 << 20;
	unsigned char *buf;
	uint64_t at = 0;

	df_sha256_init(&j->ctx);
	/* mapped: the hash reads the page cache in place, no copy */
	if (j->size && j->size <= SIZE_MAX) {
		void *map = mmap(NULL, (size_t)j->size, PROT_READ, MAP_SHARED, j->fd, 0);

		if (map != MAP_FAILED) {
			madvise(map, (size_t)j->size, MADV_SEQUENTIAL);
			df_sha256_update(&j->ctx, map, (size_t)j->size);
			munmap(map, (size_t)j->size);
			return NULL;
		}
	}
	if (!(buf = malloc(cap))) {
		j->err = ENOMEM;
		return NULL;
	}
	while (at < j->size) {
		ssize_t n = pread(j->fd, buf, cap, (off_t)at);
		if (n <= 0) {
			j->err = n < 0 ? errno : EIO;
			break;
		}
		df_sha256_update(&j->ctx, buf, (size_t)n);
		at += (uint64_t)n;
	}
	free(buf);
	return NULL;
}

/*
 * The fast path for a database file in rollback-journal mode: a read
 * transaction holds SQLite's SHARED lock, so no writer can commit and the
 * file on disk is one consistent state; the kernel copies it
 * (copy_file_range) while a second thread hashes it.  Returns 1 when done,
 * 0 when the fast path does not apply (WAL mode, :memory:), <0 on error.
 */
static int lite_backup_fast(struct lite_conn *c, int dst, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	struct hash_job job = { .fd = -1 };
	sqlite3_stmt *st = NULL;
	pthread_t th;
	bool wal = true, thread = false, in_tx = false;
	uint64_t off = 0;
	struct stat sb;
	int src = -1, rc, error = 0;

	if (!strcmp(c->path, ":memory:") || strchr(c->path, '?'))
		return 0;
	if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = !strcasecmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	if (wal)
		return 0;
	/* BEGIN and a read: SHARED lock until COMMIT */
	if ((rc = sqlite3_exec(c->db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)) != SQLITE_OK)
		return lite_error(c, rc, "cannot start the backup");
	in_tx = true;
	/* dst: the empty file the core made (no O_TRUNC: ext4 flushes on close after a truncate) */
	if ((src = open(c->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(src, &sb) < 0 ||
	    (job.fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = df_error_set(DF_EIO, "cannot copy '%s' to '%s': %s", c->path, path, strerror(errno));
		goto out;
	}
	job.size = (uint64_t)sb.st_size;
	if (pthread_create(&th, NULL, hash_file, &job) == 0)
		thread = true;
	while (off < job.size) {
		size_t want = job.size - off > (64u << 20) ? (64u << 20) : (size_t)(job.size - off);
		ssize_t n = copy_file_range(src, NULL, dst, NULL, want, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
			/* no in-kernel copy between these files: read and write */
			char buf[1 << 16];
			n = read(src, buf, sizeof(buf));
			if (n > 0 && write(dst, buf, (size_t)n) != n)
				n = -1;
		}
		if (n <= 0) {
			error = df_error_set(DF_EIO, "cannot write backup '%s': %s", path,
				n < 0 ? strerror(errno) : "short copy");
			if (n < 0 && (errno == ENOSPC || errno == EDQUOT))
				df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
			goto out;
		}
		/* start writing this chunk to disk now, so the fsync at the end
		 * waits for the last chunk only, not for the whole file */
		sync_file_range(dst, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
		off += (uint64_t)n;
		if (progress)
			progress(data, off);
	}
out:
	if (thread) {
		pthread_join(th, NULL);
		if (!error && !job.err)
			df_sha256_hex(&job.ctx, c->digest);
	}
	if (in_tx)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (src >= 0)
		close(src);
	if (job.fd >= 0)
		close(job.fd);
	return error ? error : 1;
}

static const char *lite_backup_digest(df_conn *conn)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	return c->digest[0] ? c->digest : NULL;
}

/* Copy all of `src` into `dst` from its offset 0. */
static int copy_fd(int dst, int src, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	uint64_t off = 0;

	for (;;) {
		ssize_t n = copy_file_range(src, NULL, dst, NULL, 64u << 20, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
			char buf[1 << 16];
			n = read(src, buf, sizeof(buf));
			if (n > 0 && df_write_all(dst, buf, (size_t)n) < 0)
				n = -1;
		}
		if (n == 0)
			return 0;
		if (n < 0) {
			int e = errno;
			df_error_set(DF_EIO, "cannot write backup '%s': %s", path, strerror(e));
			if (e == ENOSPC || e == EDQUOT)
				df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
			return DF_EIO;
		}
		off += (uint64_t)n;
		if (progress)
			progress(data, off);
	}
}

/*
 * A backup: the fast path above where it applies, else the online backup
 * API (sqlite3_backup_*), which copies pages in steps while the database
 * stays in use (WAL mode, :memory:).  That API wants a file name, so it
 * writes into a folder of its own (mkdtemp, 0700, beside the backup: no
 * other user can put anything there), and the result is copied into `fd`.
 */
static int lite_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	df_buf priv = DF_BUF_INIT, file = DF_BUF_INIT;
	const char *slash = strrchr(path, '/');
	bool made = false;
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, error = 0, src = -1;

	c->digest[0] = '\0';
	if ((rc = lite_backup_fast(c, fd, path, progress, data)) != 0)
		return rc < 0 ? rc : 0;
	if (slash)
		df_buf_printf(&priv, "%.*s/", (int)(slash - path), path);
	df_buf_puts(&priv, ".devflow-backup-XXXXXX");
	if (df_buf_oom(&priv))
		return df_error_oom();
	if (!mkdtemp(priv.ptr)) {
		error = df_error_set(DF_EIO, "cannot create a private folder '%s': %s", priv.ptr, strerror(errno));
		goto out;
	}
	made = true;
	df_buf_printf(&file, "%s/db", priv.ptr);
	if (df_buf_oom(&file)) {
		error = df_error_oom();
		goto out;
	}
	rc = sqlite3_open_v2(file.ptr, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		error = df_error_set(DF_EIO, "cannot create backup file '%s': %s", file.ptr,
			dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	if (!(b = sqlite3_backup_init(dst, "main", c->db, "main"))) {
		error = df_error_set(DF_EIO, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	do {
		rc = sqlite3_backup_step(b, 256);
		if (progress)
			progress(data, (uint64_t)(sqlite3_backup_pagecount(b) -
				sqlite3_backup_remaining(b)) * 4096u);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		int code = (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ? DF_EIO : DF_ESQL;
		error = df_error_set(code, "backup failed: %s", sqlite3_errmsg(dst));
		if ((rc & 0xff) == SQLITE_FULL)
			df_error_hint("the disk holding the backup is full; free space or use -o PATH elsewhere");
		goto out;
	}
	rc = sqlite3_close(dst);
	dst = NULL;
	if (rc != SQLITE_OK) {
		error = df_error_set(DF_EIO, "cannot finish backup file '%s'", path);
		goto out;
	}
	if ((src = open(file.ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		error = df_error_set(DF_EIO, "cannot read '%s': %s", file.ptr, strerror(errno));
		goto out;
	}
	error = copy_fd(fd, src, path, progress, data);
out:
	if (src >= 0)
		close(src);
	sqlite3_close(dst);
	if (made) {
		unlink(file.ptr);
		df_buf_truncate(&file, 0);
		df_buf_printf(&file, "%s/db-journal", priv.ptr);
		unlink(file.ptr);
		rmdir(priv.ptr);
	}
	df_buf_release(&file);
	df_buf_release(&priv);
	return error;
}

static int lite_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags)
{
	struct lite_conn *c = (struct lite_conn *)conn;
	sqlite3 *src = NULL;
	sqlite3_backup *b;
	int rc;

	rc = sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(src, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		df_error_set(DF_ECONFIG, "'%s' is not a SQLite backup: %s", path,
			src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		sqlite3_close(src);
		return DF_ECONFIG;
	}
	if (!(b = sqlite3_backup_init(c->db, "main", src, "main"))) {
		lite_error(c, sqlite3_errcode(c->db), "cannot restore");
		sqlite3_close(src);
		return df_error_last()->code;
	}
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		if (rc != SQLITE_OK)
			sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	sqlite3_close(src);
	if (rc != SQLITE_DONE)
		return lite_error(c, rc, "restore failed");
	return 0;
}

static int lite_table_counts(df_conn *conn, df_rows **out)
{
	return df__tool_table_counts(conn, out,
		"SELECT name, '\"' || replace(name, '\"', '\"\"') || '\"' FROM sqlite_master "
		"WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", lite_query);
}

/*
 * The scratch database's sandbox: statements may touch only "main" and
 * "temp".  ATTACH and DETACH are refused (and no database can be attached:
 * the limit is 0, which also stops VACUUM INTO, as it attaches its output),
 * VACUUM INTO is refused by name, and any action on a database of another
 * name is denied.
 */
static int sandbox_auth(void *data, int action, const char *a, const char *b,
	const char *db, const char *trigger)
{
	(void)data;
	(void)b;
	(void)trigger;
	switch (action) {
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return SQLITE_DENY;
	case SQLITE_ALTER_TABLE:
		/* the database is the 3rd argument here (DROP COLUMN passes
		 * the column in the 5th) */
		if (a && strcmp(a, "main") && strcmp(a, "temp"))
			return SQLITE_DENY;
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		/* PRAGMA other.x names the database in the 3rd argument */
		if (db && strcmp(db, "main") && strcmp(db, "temp"))
			return SQLITE_DENY;
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		/* load_extension() is off in the library; refuse it by name too */
		if (b && !strcmp(b, "load_extension"))
			return SQLITE_DENY;
		return SQLITE_OK;
	default:
		if (db && strcmp(db, "main") && strcmp(db, "temp"))
			return SQLITE_DENY;
		return SQLITE_OK;
	}
}

static int lite_sandbox(df_conn *conn)
{
	struct lite_conn *c = (struct lite_conn *)conn;

	sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
	if (sqlite3_set_authorizer(c->db, sandbox_auth, NULL) != SQLITE_OK)
		return lite_error(c, sqlite3_errcode(c->db), "cannot sandbox the scratch database");
	return 0;
}

const df_driver df_driver_sqlite = {
	.version = DF_DRIVER_VERSION,
	.name = "sqlite",
	.dialect = DF_DIALECT_SQLITE,
	.caps = DF_CAP_TRANSACTIONAL_DDL,
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.query = lite_query,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.lock = lite_lock,
	.unlock = lite_unlock,
	.lock_holder = lite_lock_holder,
	.identity = lite_identity,
	.table_columns = lite_table_columns,
	.backup = lite_backup,
	.backup_digest = lite_backup_digest,
	.restore = lite_restore,
	.table_counts = lite_table_counts,
	.backup_ext = "sqlite3",
	.in_transaction = lite_in_transaction,
	.check_deferred = lite_check_deferred,
	.cancel = lite_cancel,
	.sandbox = lite_sandbox,
};
