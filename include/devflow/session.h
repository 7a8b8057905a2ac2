#ifndef DEVFLOW_SESSION_H
#define DEVFLOW_SESSION_H

/*
 * A session: what one run against one target has open, in the order a
 * command opens it (config, target, connection, lock, tracking tables,
 * migration files, history and plan).  df_session_open() opens it and
 * decides its gates; the front end maps its flags to options and renders
 * the report.
 */
#include "devflow/core.h"
#include "devflow/run.h"
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
	df_run *run;            /* this run: its id, its cancel token (arms conn) */
	bool own_run;           /* made by df_session_open (no run in the options) */
	bool no_create;         /* DF_SESSION_DRY: no database file, no devflow table made */
	df_strlist tool_reverted; /* applied in devflow's table, rolled back by the mirrored
				 * tool since: the plan counts them pending (df_session_replan) */
} df_session;

/* ---- opening a session ---------------------------------------------------- */

/* What a front end asks df_session_open() to open. */
enum df_session_flags {
	DF_SESSION_DB = (1 << 0),       /* connect */
	DF_SESSION_ENSURE = (1 << 1),   /* create/adopt the tracking tables */
	DF_SESSION_LOCK = (1 << 2),     /* take the migration lock */
	DF_SESSION_FILES = (1 << 3),    /* read the migrations folder */
	DF_SESSION_PLAN = (1 << 4),     /* read the ledger, build the plan */
	DF_SESSION_WRITES = (1 << 5),   /* the run writes: the remote-host and binding gates apply */
	DF_SESSION_EXISTING = (1 << 6), /* the database must exist already (SQLite: its file) */
	DF_SESSION_CACHE = (1 << 7),    /* read the folder through the stat cache */
	/* a dry-run: a SQLite file that does not exist is not made (an empty
	 * database in memory stands for it), and devflow's tables are not made
	 * where they do not exist (the receipt is then not recorded) */
	DF_SESSION_DRY = (1 << 8),
	/* a migration file that cannot be read is left out and named in
	 * set->bad_files (db status: every migration listed, every bad file) */
	DF_SESSION_KEEP_BAD = (1 << 9),
	/* a server database that does not exist: created under the local
	 * policy (not by a dry-run, which says it would), refused with the
	 * CREATE DATABASE to run under staging and production */
	DF_SESSION_CREATE_DB = (1 << 10),
	/* a migrations folder that does not exist is an empty set (db baseline
	 * writes the first migration there) */
	DF_SESSION_NO_FOLDER_OK = (1 << 11),
};

#define DF_SESSION_OPTS_VERSION 1
typedef struct df_session_opts {
	unsigned int version;   /* DF_SESSION_OPTS_VERSION */
	const char *env;        /* the environment asked for, or NULL */
	const char *url;        /* a URL given instead of the config's, or NULL */
	unsigned int flags;     /* enum df_session_flags */
	long lock_timeout_ms;   /* the lock's wait; < 0: do not wait */
	bool remote_confirmed;  /* the remote-host gate is answered yes */
	/* The run (the caller's: it outlives the session), or NULL: the session
	 * makes its own.  A run cancelled before or while the session opens
	 * stops it with DF_EINTERRUPTED. */
	df_run *run;
	/* The operation an interrupted open is recorded as in the audit log
	 * ("migrate", "dry-run", "rollback"), where the tracking tables exist
	 * already; NULL: not recorded. */
	const char *audit_op;
} df_session_opts;
#define DF_SESSION_OPTS_INIT { DF_SESSION_OPTS_VERSION, NULL, NULL, 0, 0, false, NULL, NULL }

/* Which step refused or failed, for the front end's hint and question. */
typedef enum df_session_stop {
	DF_SESSION_STOP_NONE = 0,
	DF_SESSION_STOP_REMOTE_HOST,    /* gate: a host not this machine under the local policy */
	DF_SESSION_STOP_BINDING,        /* gate: the database is bound to a stronger policy */
	DF_SESSION_STOP_ABSENT,         /* DF_SESSION_EXISTING and the SQLite file does not exist */
	DF_SESSION_STOP_CONNECT,        /* connecting failed (the driver's hint, if any, is kept) */
	DF_SESSION_STOP_NO_DATABASE,    /* DF_SESSION_CREATE_DB: the database does not exist and
					 * is not created here (a dry-run, or not the local policy) */
} df_session_stop;

/*
 * What opening found, as data for the front end to render (the session
 * itself holds config, target and plan).  Filled as far as the open got,
 * also when it fails: render it, then the error.
 */
typedef struct df_session_report {
	df_strlist file_warnings;       /* the migration files' warnings */
	bool database_exists;           /* false: a SQLite file that does not exist yet,
					 * read through an empty in-memory database */
	df_strlist tls_warnings;        /* a remote connection without TLS */
	bool adopted;                   /* adoption recorded something (the lists below) */
	df_strlist adopted_versions;    /* recorded as applied from another tool's history */
	df_strlist orphans;             /* in that history, with no file here */
	df_tool tool;                   /* whose history */
	df_tool mirror;                 /* the tool whose rows devflow also writes */
	/* the refusal or failure, with the error set (df_error_last) */
	df_session_stop stop;
	char *env;                      /* this run's environment (gates) */
	char *host;                     /* REMOTE_HOST: the host that is not this machine */
	char *bound_env;                /* BINDING: the environment the database is bound to */
	df_policy bound_policy;         /* BINDING: its policy */
	df_strlist adopted_failed;      /* recorded as failed: that tool's history says they failed */
	df_strlist adopted_reverted;    /* devflow's rows removed: the tool rolled them back since */
	/* a dry-run: the lists above are what the real run records; this one
	 * wrote nothing (the plan counts them applied, or failed, all the same) */
	bool adopt_dry;
	/* DF_SESSION_CREATE_DB, a server database that did not exist: */
	bool database_created;          /* created now (the local policy) */
	char *create_sql;               /* the statement that creates it (also when not run) */
} df_session_report;
#define DF_SESSION_REPORT_INIT { DF_STRLIST_INIT, true, DF_STRLIST_INIT, false, \
	DF_STRLIST_INIT, DF_STRLIST_INIT, DF_TOOL_NONE, DF_TOOL_NONE, DF_SESSION_STOP_NONE, \
	NULL, NULL, NULL, DF_POLICY_LOCAL, DF_STRLIST_INIT, DF_STRLIST_INIT, false, false, NULL }
void df_session_report_release(df_session_report *rep);

/*
 * Open a session: config, target, the migration files, the remote-host
 * gate judged before connecting (no name lookup) and confirmed after, the
 * connection (a SQLite file that does not exist is never created by a run
 * that only reads), TLS, the lock, the binding gate, the tracking tables,
 * the plan, the server's identity, and adoption of another tool's history.
 * Writes nothing to stdout or stderr: what it found is in `rep`.  A
 * permission error while opening is marked connect_phase.  On error `s` is
 * filled as far as it got; df_session_close() it either way.
 */
int df_session_open(df_session *s, const df_session_opts *opts, df_session_report *rep);

/*
 * A transaction pooler between `conn` and its server (devflow's migration
 * lock and a migration run outside a transaction need one server session
 * for the whole run): DF_EPOOLER, with a message and a hint that names
 * direct_url, the environment's URL for devflow (SPEC "Error kinds":
 * pooler).  0 for a direct connection or a session pooler.
 * df_session_open() checks its connection with it.
 */
int df_pooler_check(df_conn *conn, const df_target *t);

/*
 * Adopt another tool's history and decide s->mirror: while the folder is
 * in that tool's format, on every run (the team may have run the tool
 * since); a tool's table beside devflow's own format, once (an "adopt" row
 * in the audit log says it was done).  `adopted` gets the versions
 * recorded applied now, `failed` those recorded failed (the tool's history
 * says they failed there), `orphans` those the tool applied that have no
 * file here, `reverted` those devflow forgot because the tool (mirrored)
 * rolled them back since.  The plan (df_session_replan) counts the same versions
 * applied or failed before they are recorded: a dry-run or `status` reads
 * them and writes nothing.
 */
int df_session_adopt(df_session *s, df_strlist *adopted, df_strlist *failed, df_strlist *orphans,
	df_strlist *reverted);
/* Read only: another tool's history (h->tool DF_TOOL_NONE: none), and
 * whether devflow adopted it before; sets s->mirror. */
int df_session_adoptable(df_session *s, df_tool_history *h, bool *done_before);

/* Read the history again (devflow's, and the versions another tool's
 * history adds: df_session_adopt) and rebuild the plan. */
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
/*
 * The same, after a run over drift: `absorbed` (df_drift.lines of the
 * drift found before the run) is recorded with the new schema, with who
 * accepted it (`by`, NULL: shown but nobody was asked, the local policy),
 * so that `db status` can say what the record took in.
 */
int df_session_schema_record_drift(df_session *s, const df_schema *schema,
	const df_strlist *absorbed, const char *by);

/* What `db status` can say about drift. */
typedef struct df_drift {
	int drifted;            /* 1, 0, or -1: cannot say (see reason) */
	char *reason;           /* why it cannot say, or NULL */
	df_strlist changes;     /* "+ key", "- key", "~ key" (added, removed, changed) */
	char *recorded_at;      /* ISO 8601 UTC of the record, or NULL */
	/* `changes` with what changed inside each object, at the level of
	 * schema_changes: after a "~ key" line, indented lines "  + column
	 * public.users.hack integer", "  - column ...", "  ~ column T.C old ->
	 * new", or the fields that changed ("  ~ definition") */
	df_strlist lines;
	/* the drift the run that made the record went over (its `lines`), and
	 * who accepted it (NULL: shown, nobody asked); empty when none */
	df_strlist absorbed;
	char *absorbed_by;
	/* the schema read to say it (NULL when none was read), and when
	 * (CLOCK_MONOTONIC, ms): a run that follows at once takes it as its
	 * read before (core/wf_after.c) */
	df_schema *live;
	long long live_ms;
} df_drift;
#define DF_DRIFT_INIT { -1, NULL, DF_STRLIST_INIT, NULL, DF_STRLIST_INIT, DF_STRLIST_INIT, NULL, NULL, 0 }
void df_drift_release(df_drift *d);
/*
 * Compare the live schema with the one recorded after the last migrate or
 * rollback.  Reads the schema only when a record of this database with the
 * same history exists; every "cannot say" is drifted -1 with a reason,
 * never an error (0 is returned but for a failed allocation).
 */
int df_session_drift(df_drift *out, df_session *s);

#endif
