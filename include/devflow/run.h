#ifndef DEVFLOW_RUN_H
#define DEVFLOW_RUN_H

/*
 * One run's own state: its id, its cancel token and its clock.  Two runs in
 * one process (threads) share nothing: each cancels only the statements of
 * the connections it armed, and names its scratch databases and files with
 * its own id.
 *
 * Signals are the front end's: the CLI's handler calls df_run_cancel() on
 * every run in flight.  The core never installs a handler; every step that
 * can block checks the token (df_run_cancelled, df_conn_cancelled) or is
 * stopped on the server by the cancel of an armed connection.
 */
#include <stddef.h>
#include <time.h>

#include "devflow/sys/driver.h"

typedef struct df_run df_run;

/* Up to this many connections of one run are armed at once (the session's
 * and a dry-run's throwaway database's). */
#define DF_RUN_MAX_ARMED 4
/* The longest id, with its NUL: "<pid>_<base36>" */
#define DF_RUN_ID_MAX 40

/* A new run: a fresh id, not cancelled, its clock started now. */
int df_run_new(df_run **out);
void df_run_free(df_run *r);

/*
 * The run's id: [a-z0-9_], at most DF_RUN_ID_MAX - 1 characters, unique
 * among runs of all processes of this host (and, with its random part,
 * beyond): "<pid>_<counter and random letters>".  It starts with the pid
 * of the process, so a leftover named by it shows whether its run lives.
 */
const char *df_run_id(const df_run *r);
/* The id of `r` into out (DF_RUN_ID_MAX bytes), or, r NULL, a fresh id of
 * its own (a connection no run armed still names its scratch uniquely). */
void df_run_id_copy(char *out, const df_run *r);
/* When the run began (UTC, seconds). */
time_t df_run_started(const df_run *r);

/*
 * Cancel the run: sets the token (the first signal number given is kept;
 * 0 counts as SIGINT's "cancelled") and cancels the statement in flight on
 * every connection the run has armed.  Async-signal-safe, and safe from
 * any thread.
 */
void df_run_cancel(df_run *r, int sig);
/* The signal that cancelled the run, or 0 (r NULL: 0). */
int df_run_cancelled(const df_run *r);

/*
 * Arm `conn` for the run: a df_run_cancel() from now on cancels the
 * statement running on it, and the driver's waits (the lock, SQLite's busy
 * handler) check the run's token (df_conn_cancelled).  df_run_disarm()
 * before closing the connection; it waits for a cancel in flight to end.
 */
int df_run_arm(df_run *r, df_conn *conn);
void df_run_disarm(df_run *r, df_conn *conn);

/* Why a run stopped, for messages: "SIGINT", "SIGTERM", "a signal". */
const char *df_run_signal_name(int sig);

#endif
