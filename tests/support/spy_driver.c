#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devflow/error.h"
#include "spy_driver.h"


struct spy_conn {
	df_conn base;
	df_conn *inner;
};

static long writes, reads;
static char first[256];

#define INNER(c) (((struct spy_conn *)(c))->inner)
#define IN (df_driver_sqlite)

void df_spy_reset(void)
{
	writes = reads = 0;
	first[0] = '\0';
}

long df_spy_writes(void) { return writes; }
long df_spy_reads(void) { return reads; }
const char *df_spy_first_write(void) { return first[0] ? first : NULL; }

static void wrote(const char *what, size_t len)
{
	if (!writes++)
		snprintf(first, sizeof(first), "%.*s", (int)(len > 200 ? 200 : len), what);
}

/* A query that only reads: SELECT, WITH ... SELECT, PRAGMA, SHOW, EXPLAIN. */
static bool is_read(const char *sql)
{
	static const char *const words[] = { "SELECT", "WITH", "PRAGMA", "SHOW", "EXPLAIN", "VALUES" };

	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strncasecmp(sql, words[i], strlen(words[i])))
			return true;
	return false;
}

int df_spy_wrap(df_conn **out, df_conn *inner)
{
	struct spy_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return df_error_oom();
	c->base.driver = &df_spy_driver;
	c->inner = inner;
	*out = &c->base;
	return 0;
}

static int s_open(df_conn **out, const df_dsn *dsn)
{
	df_conn *inner;
	int error;

	if ((error = IN.open(&inner, dsn)) < 0)
		return error;
	inner->driver = &IN;
	return df_spy_wrap(out, inner);
}

static void s_close(df_conn *c)
{
	if (!c)
		return;
	df_conn_close(INNER(c));        /* with its identity cache */
	free(c);
}

static int s_exec(df_conn *c, const char *sql, size_t len, long *off)
{
	wrote(sql, len);
	return IN.exec(INNER(c), sql, len, off);
}

static int s_query(df_conn *c, df_rows **out, const char *sql, const char *const *p, size_t n)
{
	if (is_read(sql))
		reads++;
	else
		wrote(sql, strlen(sql));
	return IN.query(INNER(c), out, sql, p, n);
}

static int s_begin(df_conn *c) { wrote("BEGIN", 5); return IN.begin(INNER(c)); }
static int s_commit(df_conn *c) { wrote("COMMIT", 6); return IN.commit(INNER(c)); }
static int s_rollback(df_conn *c) { return IN.rollback(INNER(c)); }
static int s_lock(df_conn *c, const char *name, long ms) { return IN.lock(INNER(c), name, ms); }
static int s_unlock(df_conn *c, const char *name) { return IN.unlock(INNER(c), name); }
static int s_holder(df_conn *c, const char *name, char **out) { return IN.lock_holder(INNER(c), name, out); }
static int s_identity(df_conn *c, df_identity *id) { return IN.identity(INNER(c), id); }
static int s_columns(df_conn *c, df_rows **out, const char *t) { return IN.table_columns(INNER(c), out, t); }

static int s_backup(df_conn *c, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *, uint64_t), void *data)
{
	return IN.backup(INNER(c), dsn, fd, path, progress, data);
}

static const char *s_digest(df_conn *c) { return IN.backup_digest(INNER(c)); }

static int s_restore(df_conn *c, const df_dsn *dsn, const char *path, unsigned int flags)
{
	wrote("restore", 7);
	return IN.restore(INNER(c), dsn, path, flags);
}

static int s_counts(df_conn *c, df_rows **out) { return IN.table_counts(INNER(c), out); }
static int s_in_tx(df_conn *c) { return IN.in_transaction(INNER(c)); }
static void s_cancel(df_conn *c) { IN.cancel(INNER(c)); }

static int s_sandbox(df_conn *c) { return IN.sandbox(INNER(c)); }

const df_driver df_spy_driver = {
	.version = DF_DRIVER_VERSION,
	.name = "spy",
	.dialect = DF_DIALECT_SQLITE,
	.caps = DF_CAP_TRANSACTIONAL_DDL,
	.open = s_open, .close = s_close, .exec = s_exec, .query = s_query,
	.begin = s_begin, .commit = s_commit, .rollback = s_rollback,
	.lock = s_lock, .unlock = s_unlock, .lock_holder = s_holder, .identity = s_identity,
	.table_columns = s_columns, .backup = s_backup, .backup_digest = s_digest,
	.restore = s_restore, .table_counts = s_counts, .backup_ext = "sqlite3",
	.in_transaction = s_in_tx, .cancel = s_cancel,
	.sandbox = s_sandbox,
};

void df_spy_register(void)
{
	static bool done;

	if (!done && df_driver_register(&df_spy_driver) == 0)
		done = true;
}
