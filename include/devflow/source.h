#ifndef DEVFLOW_SOURCE_H
#define DEVFLOW_SOURCE_H

/*
 * Where a run's migrations come from, and how each one runs and is recorded
 * (a df_source).  The workflow lists, checks, applies, reverts and records
 * only through it.  Implementations: the SQL folder (devflow, dbmate,
 * golang-migrate, Flyway, goose files and devflow's tracking table; this
 * file), the seed files; next, each ORM tool (tools/ *.c) with its own apply
 * and record.
 *
 * The struct is versioned: a caller that builds one sets `version` to
 * DF_SOURCE_VERSION, and the core refuses another.
 */
#include <stdbool.h>
#include <stddef.h>

#include "devflow/cmd.h"
#include "devflow/core.h"

#define DF_SOURCE_VERSION 1

/* One migration of the source and its state: the plan, as `db status` shows it. */
typedef struct df_source_item {
	const df_migration *mig;        /* NULL: applied, its file gone (MISSING) */
	const df_ledger_row *row;       /* its tracking row, or NULL */
	df_mig_state state;
} df_source_item;

/* What one migration says, for a preview or a rollback plan. */
typedef struct df_source_sql {
	char *up, *down;        /* NULL: no such section */
	bool unavailable;       /* the migration is code, not SQL ("SQL unavailable") */
} df_source_sql;

void df_source_sql_release(df_source_sql *s);

/* The tracking writes of one migration (df_source.record). */
typedef enum df_source_record {
	DF_RECORD_APPLIED = 0,  /* inserted as applied: ms, done */
	DF_RECORD_RUNNING,      /* inserted as running, before a migration without a transaction */
	DF_RECORD_SETTLED,      /* a running row ends applied: ms, done */
	DF_RECORD_FAILED,       /* the row says failed: done, and the last error's message */
	DF_RECORD_REVERTED,     /* the row is gone: its effects are reverted */
} df_source_record;

/*
 * One migration's run, as the runner (df_run_apply) hands it to the source:
 * the source runs it (its own transaction, statements, tracking row) and
 * fills `step` (statements, duration, trace).
 */
typedef struct df_source_run {
	df_conn *conn;
	const df_run_opts *opts;
	df_run_step *step;
	bool outer_tx;          /* a dry-run in one transaction around every migration */
	struct df__runner *runner;      /* the runner's own state (opaque); NULL: one
	                                   migration run on its own */
} df_source_run;

typedef struct df_source df_source;

struct df_source {
	unsigned int version;   /* DF_SOURCE_VERSION */
	/* What a run of it is: its audit op and command verb ("migrate" when
	 * NULL; "seed"), and whether it keeps a history (a tracking table: a
	 * plan with states, verified after the run, a rollback plan). */
	const char *verb;
	df_verb command;        /* the verb of its suggested commands (migrate's when 0) */
	bool history;
	void *data;

	/* Every migration with its state, in run order (*out is the caller's;
	 * the items' pointers are borrowed from the source). */
	int (*list)(const df_source *src, df_source_item **out, size_t *nr);
	/* The SQL of one migration (UP and DOWN), or `unavailable`. */
	int (*sql)(const df_source *src, const df_migration *m, df_source_sql *out);
	/* Before anything runs: every selected migration can run (splits; an
	 * UP with a statement).  May set a migration's run flags. */
	int (*check)(const df_source *src, const df_migration **migs, size_t nr, df_dialect d,
		bool rollback);
	/* Run one migration up (apply) or down (revert), with its record. */
	int (*apply)(const df_source *src, df_source_run *run, const df_migration *m);
	int (*revert)(const df_source *src, df_source_run *run, const df_migration *m);
	/* Write one migration's record (devflow's tracking row for the folder). */
	int (*record)(const df_source *src, df_conn *conn, const char *table, const df_migration *m,
		df_source_record what, long ms, long done);
	/* Free what the source owns (called by df_source_free). */
	void (*release)(df_source *src);
};

/*
 * The SQL folder of `plan` (its set and the tracking table it was built
 * from; both borrowed, they must outlive the source).  `plan` may be NULL
 * for a source that only runs (list then returns nothing).
 */
int df_source_folder_new(df_source **out, const df_plan *plan);
/* The folder source with no plan, shared and read-only: what a run without
 * a source (opts.source NULL) uses. */
const df_source *df_source_sql_folder(void);

/*
 * The seed files: every .sql file of `dir`, then those of `env_dir` (may be
 * NULL or missing), each in name order.  Each is a migration of the plain
 * format, always pending, recorded nowhere (the audit log has the run); it
 * runs in its own transaction where the engine allows.  `*out` has no item
 * when there is no seed file.
 */
int df_source_seeds_new(df_source **out, const char *dir, const char *env_dir);

void df_source_free(df_source *src);

/* The pending migrations of `src`, in its order (*out is the caller's; the
 * migrations are borrowed from the source). */
int df_source_pending(const df_source *src, const df_migration ***out, size_t *nr);

/* The checks common to a source's callers: DF_EINTERNAL for a NULL source
 * or another version. */
int df_source_valid(const df_source *src);

#endif
