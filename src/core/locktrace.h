#ifndef DF_CORE_LOCKTRACE_H
#define DF_CORE_LOCKTRACE_H

/*
 * Statement traces of a dry-run (src/core/locktrace.c), for the runner:
 * after each statement of a PostgreSQL dry-run, the session's relation
 * locks from pg_locks, less the ones it held before; on MariaDB's shadow
 * database, the ALTER TABLE algorithm the server chooses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devflow/buf.h"
#include "devflow/core.h"

typedef struct df_tracer {
	df_conn *conn;
	const char *table;      /* the tracking table: its locks are devflow's own */
	uint32_t *before;       /* oids of the relations that existed at the start, sorted */
	size_t nbefore;
	bool started;
	char **held;            /* "oid\tmode" held after the previous statement, sorted */
	size_t nheld;
} df_tracer;

void df__tracer_init(df_tracer *tr, df_conn *conn, const char *table);
void df__tracer_release(df_tracer *tr);

/* The relations as they are before the first statement runs (their oids,
 * to tell new relations apart).  0 or an error (the dry-run goes on
 * without a trace: the caller clears the error). */
int df__tracer_start(df_tracer *tr);

/* After `sql` ran for `ms`: append its entry to `t` with the locks it took. */
int df__trace_pg(df_trace *t, df_tracer *tr, const char *sql, size_t len, int line,
	double ms, bool rewritten);

/*
 * MariaDB shadow dry-run: run ALTER TABLE `sql` asking for ALGORITHM=INSTANT,
 * then NOCOPY, then INPLACE (the server refuses what it cannot do), else as
 * written (COPY), and append the entry with the algorithm that ran.
 * Returns 1 when it ran the statement (error or not: *error), 0 when the
 * statement is not one to ask about (the caller runs it).
 */
int df__trace_mysql_alter(df_trace *t, df_conn *conn, const char *sql, size_t len, int line,
	long *err_offset, int *error);

/* Once the migration's statements are traced: which ACCESS EXCLUSIVE locks
 * stay held while later statements of the same transaction run. */
void df__trace_finish(df_trace *t, bool in_transaction);

#endif
