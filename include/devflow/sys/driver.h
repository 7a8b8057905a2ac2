#ifndef DEVFLOW_SYS_DRIVER_H
#define DEVFLOW_SYS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devflow/dsn.h"
#include "devflow/sql.h"
#include "devflow/strlist.h"

/*
 * The driver interface: one struct of function pointers per engine, looked up
 * by URL scheme (SQLite's VFS, libgit2's backends).  A driver knows nothing of
 * migrations.  Every function returns 0 or a negative DF_E* code after
 * df_error_set(); connection errors are classified into DF_ECONNREFUSED,
 * DF_EHOST, DF_EAUTH, DF_EPERM (with df_error.connect_phase set).
 * Messages never contain a password.
 */
#define DF_DRIVER_VERSION 1

enum df_restore_flags {
	DF_RESTORE_CLEAN = (1 << 0),          /* drop the backup's objects first */
	DF_RESTORE_NO_OWNER = (1 << 1),       /* skip owners and grants */
};

enum df_driver_caps {
	DF_CAP_TRANSACTIONAL_DDL = (1 << 0),  /* DDL rolls back with the transaction */
	DF_CAP_ADVISORY_LOCK = (1 << 1),      /* server-side named locks */
};

typedef struct df_driver df_driver;
struct df_schema;
struct df_schema_opts;

/* Every driver's connection struct starts with this (allocated zeroed). */
typedef struct df_conn {
	const df_driver *driver;
	struct df_identity *identity;   /* df_conn_identity's cache: a connection's
					 * server does not change */
	/* The run that armed it (core's df_run_arm), and that run's cancel
	 * token: the signal number that cancelled it, or 0.  NULL: none. */
	struct df_run *run;
	_Atomic int *cancelled;
	/* set with run: df_conn_close() disarms the connection first */
	void (*disarm)(struct df_run *run, struct df_conn *conn);
} df_conn;

/* A query result: all values as text; NULL cells are NULL pointers. */
typedef struct df_rows {
	size_t nrows, ncols;
	size_t alloc;           /* cells allocated (rows grow geometrically) */
	char **names;           /* ncols column names */
	char **cells;           /* nrows * ncols, row-major */
} df_rows;

const char *df_rows_get(const df_rows *rows, size_t row, size_t col);
void df_rows_free(df_rows *rows);
/* Helpers for drivers: allocate an empty result; append a row (values copied). */
int df_rows_new(df_rows **out, size_t ncols, const char *const *names);
int df_rows_add(df_rows *rows, const char *const *values, const size_t *lens);

/* One of the core's own queries: `?` placeholders bound to `params`. */
typedef struct df_query {
	const char *sql;
	const char *const *params;
	size_t nparams;
} df_query;

/* Who the server is: what a dry-run receipt is bound to. */
typedef struct df_identity {
	char engine[16];        /* "sqlite", "postgres", "mysql" */
	char version[64];       /* server version, e.g. "15.18" */
	int version_num;        /* e.g. 150018 (PostgreSQL), 101100 (MariaDB 10.11.0) */
	char database[256];     /* database name, or the SQLite file's absolute path */
	char system_id[128];    /* PostgreSQL system identifier, MariaDB @@server_uuid, "" */
} df_identity;

struct df_driver {
	unsigned int version;   /* DF_DRIVER_VERSION */
	const char *name;       /* "sqlite", "postgres", "mysql" */
	df_dialect dialect;
	unsigned int caps;      /* DF_CAP_* */

	int (*open)(df_conn **out, const df_dsn *dsn);
	void (*close)(df_conn *conn);

	/*
	 * Run one statement of a migration.  On failure returns a DF_E* code
	 * (DF_ESQL, DF_EPERM ...) with the server's message, and stores in
	 * *err_offset the byte offset into `sql` that the server blamed, or -1.
	 */
	int (*exec)(df_conn *conn, const char *sql, size_t len, long *err_offset);

	/*
	 * Run a query of the core's own, with `?` placeholders bound to `params`
	 * (NULL entries bind SQL NULL).  `out` may be NULL for statements that
	 * return no rows.
	 */
	int (*query)(df_conn *conn, df_rows **out, const char *sql,
		const char *const *params, size_t nparams);

	/*
	 * Run `n` of the core's own writes as one transaction, in one round trip
	 * where the engine can; never called inside a transaction.  NULL: the
	 * wrapper runs them one by one between begin and commit.
	 */
	int (*query_batch)(df_conn *conn, const df_query *q, size_t n);

	int (*begin)(df_conn *conn);
	int (*commit)(df_conn *conn);
	int (*rollback)(df_conn *conn);

	/*
	 * Take the named migration lock for the connection's lifetime or until
	 * unlock; wait at most timeout_ms, then DF_ELOCKED.  A killed process
	 * never leaves the lock behind.
	 */
	int (*lock)(df_conn *conn, const char *name, long timeout_ms);
	int (*unlock)(df_conn *conn, const char *name);
	/* Who holds the lock: *out is a malloc'd description, NULL when free. */
	int (*lock_holder)(df_conn *conn, const char *name, char **out);

	int (*identity)(df_conn *conn, df_identity *out);

	/* Columns of `table` in the current database/schema; 0 rows if absent.
	 * *out has one column, the name, lower case. */
	int (*table_columns)(df_conn *conn, df_rows **out, const char *table);

	/*
	 * Write a backup of the connected database into `fd`, an empty file
	 * the caller created (O_EXCL, 0600) and renames into place; `path` is
	 * its name, for messages only: the driver never opens it again (a name
	 * can be swapped between two opens; the descriptor cannot).  Writes
	 * from offset 0 and leaves fd open (the caller closes it).  Calls
	 * progress(data, bytes) now and then.  NULL: the engine cannot back
	 * up.  Credentials reach client tools only through their environment
	 * or a 0600 options file, never argv.
	 */
	int (*backup)(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
		void (*progress)(void *data, uint64_t bytes), void *data);
	/* The SHA-256 (hex) of the last backup this connection wrote, when the
	 * driver hashed it while copying; NULL otherwise (the core reads the
	 * file again).  NULL method: never. */
	const char *(*backup_digest)(df_conn *conn);
	/* Restore a backup written by `backup` into the connected database. */
	int (*restore)(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags);
	/* Write the schema only, as SQL text, to `path`.  NULL: not supported. */
	int (*schema_dump)(df_conn *conn, const df_dsn *dsn, const char *path);
	/* Tables of the current database/schema with their row counts:
	 * columns name, rows.  NULL: not supported. */
	int (*table_counts)(df_conn *conn, df_rows **out);
	/* File name extension of this engine's backups ("sqlite3", "dump", "sql"). */
	const char *backup_ext;

	/*
	 * Whether the connection is inside a transaction now: 1 or 0; <0 when
	 * it cannot tell.  NULL: cannot tell (the runner then trusts its own
	 * bookkeeping).
	 */
	int (*in_transaction)(df_conn *conn);
	/*
	 * Get ready for cancel() (on) or tear that down (off): PostgreSQL
	 * prepares a PGcancel, MySQL starts the thread that sends KILL QUERY.
	 * Not signal-safe; called around a run.  NULL: nothing to prepare.
	 */
	int (*cancel_arm)(df_conn *conn, bool on);
	/*
	 * Ask the server to stop the statement running on `conn`.  Called from
	 * a signal handler: async-signal-safe, never allocates, never takes a
	 * lock.  NULL: the engine cannot be interrupted (the run stops after
	 * the statement).
	 */
	void (*cancel)(df_conn *conn);
	/*
	 * Read the schema of the connected database into `out` (an empty
	 * model, see devflow/schema.h), in a fixed handful of bulk catalog
	 * queries.  NULL (every real driver): the schema code's reader of
	 * the connection's dialect.
	 */
	int (*schema_read)(df_conn *conn, struct df_schema *out,
		const struct df_schema_opts *opts);
	/*
	 * The hosts the client library will reach for `dsn`, read as the
	 * library reads them (the URL's parameters, its environment variables,
	 * a service file), with no name lookup: one entry per host, a name or
	 * address as written, a socket path, or "" for the library's default
	 * socket.  NULL: the URL's own host.
	 */
	int (*hosts)(df_strlist *out, const df_dsn *dsn);
	/*
	 * How an open connection reaches its server: *fd its socket (-1:
	 * unknown) and *tls whether TLS is in use.  NULL: no network (a file).
	 */
	int (*transport)(df_conn *conn, int *fd, bool *tls);
	/*
	 * Confine the connection to its own database for good: a scratch
	 * database loading a file devflow did not write.  SQLite: an
	 * authorizer refusing ATTACH, DETACH, VACUUM INTO and any database
	 * but main and temp.  NULL: the engine relies on the statement check
	 * before the load (src/schema/sandbox.c).
	 */
	int (*sandbox)(df_conn *conn);
	/*
	 * Whether a transaction pooler (PgBouncer's pool_mode = transaction
	 * and the like) stands between `conn` and its server: one server
	 * session is then not the connection's for its lifetime, so a
	 * session-level lock or setting does not hold.  *why: NULL when not
	 * (a direct connection, a session pooler, or the driver cannot tell),
	 * else what showed it (malloc'd).  May open a second connection to
	 * `dsn`.  NULL: the engine has none to detect.
	 */
	int (*pooler)(df_conn *conn, const df_dsn *dsn, char **why);

	/*
	 * The other sessions using `table` (a name of the current schema or
	 * database, as a statement writes it) now: rows of pid, user, client
	 * (application or host), state, since (ISO 8601 UTC: their
	 * transaction's start, else their connection's), how (the locks held,
	 * or what shows the use), sure ('t'; 'f': it may be using the table,
	 * e.g. a transaction open in the database that the server cannot say
	 * more about).  NULL: the engine has no such sessions
	 * (SQLite: other processes are reported by the lock check).
	 */
	int (*sessions_using)(df_conn *conn, df_rows **out, const char *table);

	/*
	 * Before a COMMIT, or before a dry-run rolls back: fail now, with the
	 * error the COMMIT would give, where the engine checks only at COMMIT
	 * (SQLite's deferred foreign keys, PostgreSQL's deferred
	 * constraints).  `again`: the transaction goes on afterwards (a
	 * dry-run's next migration), so what was deferred stays deferred.
	 * Called only inside a transaction.  NULL: nothing waits for COMMIT.
	 */
	int (*check_deferred)(df_conn *conn, bool again);
};

/* Built-in drivers (src/drivers/). */
extern const df_driver df_driver_sqlite;
#ifdef DF_WITH_POSTGRES
extern const df_driver df_driver_postgres;
#endif
#ifdef DF_WITH_MYSQL
extern const df_driver df_driver_mysql;
#endif

/* The registry: find a driver by engine name; add one (refuses a taken name). */
const df_driver *df_driver_find(const char *engine);
int df_driver_register(const df_driver *driver);

/*
 * The wrappers core code calls (never the table).  They handle missing
 * methods: no lock -> DF_EINTERNAL, no lock_holder -> *out NULL.
 */
int df_conn_open(df_conn **out, const df_dsn *dsn);
/*
 * Before connecting: whether every host the client library will reach for
 * `dsn` is this machine, judged from literal names and addresses only
 * (df_host_is_local).  *where: the first host that is not (malloc'd), or
 * NULL.  DF_EUSAGE when the library cannot read the URL.
 */
int df_dsn_locality(const df_dsn *dsn, bool *local, char **where);
/*
 * After connecting: whether the socket's peer is this machine (a Unix
 * socket, a loopback address), whether TLS is in use, and the peer as
 * text ("127.0.0.1", "a Unix socket"; malloc'd).  A file: local, no TLS.
 */
int df_conn_transport(df_conn *conn, bool *peer_local, bool *tls, char **peer);
void df_conn_close(df_conn *conn);
int df_conn_exec(df_conn *conn, const char *sql, size_t len, long *err_offset);
int df_conn_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams);
int df_conn_query_batch(df_conn *conn, const df_query *q, size_t n);
int df_conn_begin(df_conn *conn);
int df_conn_commit(df_conn *conn);
int df_conn_rollback(df_conn *conn);
int df_conn_lock(df_conn *conn, const char *name, long timeout_ms);
int df_conn_unlock(df_conn *conn, const char *name);
int df_conn_lock_holder(df_conn *conn, const char *name, char **out);
int df_conn_identity(df_conn *conn, df_identity *out);
int df_conn_table_columns(df_conn *conn, df_rows **out, const char *table);
int df_conn_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data);
int df_conn_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags);
const char *df_conn_backup_digest(df_conn *conn);
int df_conn_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path);
int df_conn_table_counts(df_conn *conn, df_rows **out);
/* 1 inside a transaction, 0 outside, <0 (no error set) when unknown. */
int df_conn_in_transaction(df_conn *conn);
/* The driver's check_deferred, when the connection is in a transaction;
 * else (or no method) 0. */
int df_conn_check_deferred(df_conn *conn, bool again);

/*
 * Cancellation is per run (devflow/run.h): the run that armed `conn`
 * cancels the statement running on it (driver->cancel, async-signal-safe)
 * and sets its token.  df_conn_cancelled() reads that token (the signal
 * number, or 0; 0 too when no run armed `conn`): the driver's waits and the
 * runner's steps check it.
 */
int df_conn_cancelled(const df_conn *conn);

/* The driver's sandbox, where it has one (0 when it has none). */
static inline int df_conn_sandbox(df_conn *c) { return c->driver->sandbox ? c->driver->sandbox(c) : 0; }
/* The driver's pooler check, where it has one (*why NULL when it has none). */
static inline int df_conn_pooler(df_conn *c, const df_dsn *dsn, char **why)
{
	*why = NULL;
	return c->driver->pooler ? c->driver->pooler(c, dsn, why) : 0;
}
static inline int df_conn_sessions_using(df_conn *c, df_rows **out, const char *table)
{
	*out = NULL;
	return c->driver->sessions_using ? c->driver->sessions_using(c, out, table) : 0;
}
static inline df_dialect df_conn_dialect(const df_conn *c) { return c->driver->dialect; }
static inline bool df_conn_has(const df_conn *c, unsigned int cap) { return (c->driver->caps & cap) != 0; }

#endif
