#ifndef DEVFLOW_SESSIONS_H
#define DEVFLOW_SESSIONS_H

/*
 * The sessions using what a run is about to drop (seed 002's safety rule
 * 10: check for active connections before dropping).  Core finds them;
 * the front end words them.
 */
#include <stdbool.h>
#include <stddef.h>

#include "devflow/review.h"

struct df_conn;
struct df_migration;

/** One session of the server using a table a pending migration drops. */
typedef struct df_live_session {
	char *table;            /**< the table dropped, or one of whose columns is */
	bool column;            /**< a column of it is dropped (else the table) */
	bool maybe;             /**< it may be using it: the server cannot say more */
	char *version;          /**< the migration that drops it */
	char *pid;              /**< the server's session id (pid, connection id) */
	char *user;
	char *client;           /**< application_name, else host */
	char *state;            /**< active, idle in transaction, Sleep ... */
	char *since;            /**< ISO 8601 UTC: its transaction's start, else its connection's */
	char *how;              /**< the locks it holds, or what shows the use */
} df_live_session;

typedef struct df_live_sessions {
	df_live_session *v;
	size_t nr;
	bool checked;           /**< the server was asked */
} df_live_sessions;

/**
 * The sessions other than `conn`'s using the tables that the reviewed
 * migrations drop or drop a column of (their "drop-table" and
 * "drop-column" findings).  An engine without such sessions (SQLite)
 * leaves `out` empty and unchecked.
 * @param out      filled; release with df_live_sessions_release()
 * @param reviews  per migration, NULL where not reviewed
 * @return 0, or a negative DF_E* code (the server's error)
 */
int df_sessions_using(df_live_sessions *out, struct df_conn *conn,
	const struct df_migration *const *migs, df_review_result *const *reviews, size_t n);

void df_live_sessions_release(df_live_sessions *l);

#endif
