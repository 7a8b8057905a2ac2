#include <stdlib.h>

#include "devflow/error.h"
#include "fault_driver.h"

struct fault_conn {
	df_conn base;
	df_conn *inner;
};

static long calls, fail_at;

void fault_driver_arm(long n)
{
	fail_at = n;
	calls = 0;
}

void fault_driver_disarm(void)
{
	fail_at = 0;
}

long fault_driver_calls(void)
{
	return calls;
}

static int tick(void)
{
	if (fail_at > 0 && ++calls == fail_at)
		return df_error_set(DF_EIO, "injected fault at driver call %ld", calls);
	if (fail_at <= 0)
		calls++;
	return 0;
}

#define INNER(c) (((struct fault_conn *)(c))->inner)

static int f_open(df_conn **out, const df_dsn *dsn)
{
	struct fault_conn *c = calloc(1, sizeof(*c));
	int error;

	*out = NULL;
	if (!c)
		return df_error_oom();
	if ((error = df_driver_sqlite.open(&c->inner, dsn)) < 0) {
		free(c);
		return error;
	}
	c->inner->driver = &df_driver_sqlite;
	*out = &c->base;
	return 0;
}

static void f_close(df_conn *conn)
{
	if (!conn)
		return;
	df_driver_sqlite.close(INNER(conn));
	free(conn);
}

static int f_exec(df_conn *c, const char *sql, size_t len, long *off)
{
	int e = tick();
	*off = -1;
	return e ? e : df_driver_sqlite.exec(INNER(c), sql, len, off);
}

static int f_query(df_conn *c, df_rows **out, const char *sql, const char *const *p, size_t n)
{
	int e = tick();
	return e ? e : df_driver_sqlite.query(INNER(c), out, sql, p, n);
}

static int f_begin(df_conn *c) { int e = tick(); return e ? e : df_driver_sqlite.begin(INNER(c)); }
static int f_commit(df_conn *c) { int e = tick(); return e ? e : df_driver_sqlite.commit(INNER(c)); }
static int f_check_deferred(df_conn *c, bool again)
{
	int e = tick();
	return e ? e : df_driver_sqlite.check_deferred(INNER(c), again);
}
/* a rollback that fails would leave the connection in a transaction: never fail it */
static int f_rollback(df_conn *c) { return df_driver_sqlite.rollback(INNER(c)); }

static int f_lock(df_conn *c, const char *name, long ms)
{
	int e = tick();
	return e ? e : df_driver_sqlite.lock(INNER(c), name, ms);
}

static int f_unlock(df_conn *c, const char *name) { return df_driver_sqlite.unlock(INNER(c), name); }
static int f_identity(df_conn *c, df_identity *id) { return df_driver_sqlite.identity(INNER(c), id); }

static int f_columns(df_conn *c, df_rows **out, const char *t)
{
	int e = tick();
	return e ? e : df_driver_sqlite.table_columns(INNER(c), out, t);
}

static int f_backup(df_conn *c, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *, uint64_t), void *data)
{
	int e = tick();
	return e ? e : df_driver_sqlite.backup(INNER(c), dsn, fd, path, progress, data);
}

static int f_restore(df_conn *c, const df_dsn *dsn, const char *path, unsigned int flags)
{
	int e = tick();
	return e ? e : df_driver_sqlite.restore(INNER(c), dsn, path, flags);
}

static int f_table_counts(df_conn *c, df_rows **out)
{
	int e = tick();
	return e ? e : df_driver_sqlite.table_counts(INNER(c), out);
}

#define FAULT_METHODS \
	.version = DF_DRIVER_VERSION, \
	.dialect = DF_DIALECT_SQLITE, \
	.open = f_open, .close = f_close, .exec = f_exec, .query = f_query, \
	.begin = f_begin, .commit = f_commit, .rollback = f_rollback, \
	.check_deferred = f_check_deferred, \
	.lock = f_lock, .unlock = f_unlock, .identity = f_identity, \
	.table_columns = f_columns, \
	.backup = f_backup, .restore = f_restore, .table_counts = f_table_counts, \
	.backup_ext = "sqlite3"

const df_driver df_fault_driver = {
	FAULT_METHODS,
	.name = "fault",
	.caps = DF_CAP_TRANSACTIONAL_DDL,
};

/* The same, claiming no transactional DDL: the runner takes the path of
 * MySQL/MariaDB (row written `running` first, statements each kept). */
const df_driver df_fault_driver_nontx = {
	FAULT_METHODS,
	.name = "fault-nontx",
	.caps = 0,
};
