#ifndef DEVFLOW_SESSION_H
#define DEVFLOW_SESSION_H

/*
 * A session: what one run against one target has open, in the order a
 * command opens it (config, target, connection, lock, tracking tables,
 * migration files, history and plan).  Opening it is the front end's job
 * (it knows the flags); the core works on an open session.
 */
#include "devflow/core.h"

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
} df_session;

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
/* Take a backup now and record it (ok or failed) in the audit log. */
int df_session_backup(df_session *s, const char *path, bool verify,
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

#endif
