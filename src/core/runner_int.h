#ifndef DEVFLOW_CORE_RUNNER_INT_H
#define DEVFLOW_CORE_RUNNER_INT_H

/* The runner's parts the SQL folder source (source.c) runs through. */
#include "devflow/source.h"

/* One SQL folder migration up or down: transaction, statements, tracking
 * row (the `running` → `applied` steps where there is no transaction), and
 * the mirrored tool's row. */
int df__run_migration(df_source_run *run, const df_migration *m, bool rollback);
/* One write of devflow's tracking table for `m`. */
int df__run_record(df_conn *conn, const char *table, const df_migration *m, df_source_record what,
	long ms, long done);

#endif
