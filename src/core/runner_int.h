#ifndef DEVFLOW_CORE_RUNNER_INT_H
#define DEVFLOW_CORE_RUNNER_INT_H

/*
 * The runner's internals: the parts the SQL folder source (source.c) runs
 * through, and those runner.c shares with run_check.c and run_reader.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devflow/core.h"
#include "devflow/source.h"

/* One SQL folder migration up or down: transaction, statements, tracking
 * row (the `running` → `applied` steps where there is no transaction), and
 * the mirrored tool's row. */
int df__run_migration(df_source_run *run, const df_migration *m, bool rollback);
/* One write of devflow's tracking table for `m`. */
int df__run_record(df_conn *conn, const char *table, const df_migration *m, df_source_record what,
	long ms, long done);

/*
 * A section's statements, streamed (run_reader.c): read in windows through
 * the incremental splitter, so a 1 GB migration needs one window of memory.
 */
#define WINDOW (1024 * 1024)

struct reader {
	int fd;
	const df_section *sec;
	df_sql_scanner sc;
	char *buf;
	size_t len, cap;
	uint64_t base;          /* section-relative offset of buf[0] */
	uint64_t read;          /* section bytes read so far */
	bool borrowed;          /* buf is the section's preloaded bytes */
};

int df__reader_open(struct reader *r, const df_section *sec, df_dialect d);
void df__reader_close(struct reader *r);
int df__reader_next(struct reader *r, const char **sql, size_t *len, uint64_t *off);

#endif
