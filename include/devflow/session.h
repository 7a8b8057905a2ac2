#ifndef DEVFLOW_SESSION_H
#define DEVFLOW_SESSION_H

/*
 * A session: what one run against one target has open, in the order a
 * command opens it (config, target, connection, lock, tracking tables,
 * migration files, history and plan).  Opening it is the front end's job
 * (it knows the flags); the core works on an open session.
 */
#include "devflow/core.h"
#include "devflow/schema.h"

typedef struct df_session {
	df_config *cfg;
	df_target *target;
	df_conn *conn;
	df_migration_set *set;
	df_ledger *ledger;
	df_plan *plan;
	char *migrations_dir;
	char *server;           /* identity string */
	bool locked;
	df_tool history_tool;   /* another tool's history table the database holds */
	df_tool mirror;         /* the folder is this tool's, and so is a history
				 * table in the database: write its rows too */
} df_session;

/*
 * Adopt another tool's history (once: an "adopt" row in the audit log says
 * it was done) and decide s->mirror.  `adopted` gets the versions recorded
 * now, `orphans` those the tool applied that have no file here.
 */
int df_session_adopt(df_session *s, df_strlist *adopted, df_strlist *orphans);
/* Read only: another tool's history (h->tool DF_TOOL_NONE: none), and
 * whether devflow adopted it before; sets s->mirror. */
int df_session_adoptable(df_session *s, df_tool_history *h, bool *done_before);

/* Read the history again and rebuild the plan. */
int df_session_replan(df_session *s);
/* Release the lock, close the connection, free everything. */
void df_session_close(df_session *s);
/*
 * Append an audit row (creating devflow's tables when needed).  The last
 * error is kept as it was, so a failed run's error survives its audit row.
 */
int df_session_audit(df_session *s, const char *op, const char *result,
	const char *summary, const char *receipt, const char *detail);
/*
 * Record a failure: the audit row's detail is the current error's message,
 * and the current error stays what the caller returns, even when the row
 * cannot be written (the connection may be what failed).
 */
void df_session_audit_failure(df_session *s, const char *op, const char *result,
	const char *summary);
/* Take a backup now and record it (ok or failed) in the audit log.  The
 * run's own connection, and its lock when it holds one: a migrate's
 * backup never waits for a second lock of its own. */
enum df_backup_flags {
	DF_BACKUP_VERIFY = (1 << 0),    /* restore into a throwaway database and compare */
	DF_BACKUP_FORCE = (1 << 1),     /* `path` may replace an existing file */
};
int df_session_backup(df_session *s, const char *path, unsigned int flags,
	df_backup_info *info, void (*progress)(void *data, uint64_t bytes), void *data);

/*
 * The environment a database is bound to (SPEC "Environments"): the
 * strongest policy it was changed under, and that environment's name.
 * bound_env is NULL when the database was never changed by devflow.
 */
int df_binding_read(char **bound_env, df_policy *bound_policy, df_conn *conn, const char *table);
/* Record that the database is changed under `env`/`policy` (kept when a
 * stronger binding exists). */
int df_binding_write(df_conn *conn, const char *table, const char *env, df_policy policy);

/* ---- the schema devflow left (drift) -------------------------------------- */

/*
 * Read the schema of `conn` (NULL: the session's connection), devflow's own
 * tables (tracking and audit) left out.  *out is the caller's.
 */
int df_session_schema_read(df_schema **out, df_session *s, df_conn *conn);
/*
 * Record `schema` as the one devflow left on this database, with the
 * history it left (see core/schema_record.c for where and why).
 */
int df_session_schema_record(df_session *s, const df_schema *schema);

/* What `db status` can say about drift. */
typedef struct df_drift {
	int drifted;            /* 1, 0, or -1: cannot say (see reason) */
	char *reason;           /* why it cannot say, or NULL */
	df_strlist changes;     /* "+ key", "- key", "~ key" (added, removed, changed) */
	char *recorded_at;      /* ISO 8601 UTC of the record, or NULL */
} df_drift;
#define DF_DRIFT_INIT { -1, NULL, DF_STRLIST_INIT, NULL }
void df_drift_release(df_drift *d);
/*
 * Compare the live schema with the one recorded after the last migrate or
 * rollback.  Reads the schema only when a record of this database with the
 * same history exists; every "cannot say" is drifted -1 with a reason,
 * never an error (0 is returned but for a failed allocation).
 */
int df_session_drift(df_drift *out, df_session *s);

#endif
