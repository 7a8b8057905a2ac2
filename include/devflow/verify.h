#ifndef DEVFLOW_VERIFY_H
#define DEVFLOW_VERIFY_H

/*
 * `db verify` (seed 000's "verify success"): what a run left is what the
 * history says.  Every applied migration's file matches its checksum, no
 * history row is failed or running, no recorded file is gone, and the live
 * schema equals the one recorded after the last migrate or rollback (so the
 * schema changes that run reported are still there).  The workflow's own
 * verification step and the CLI's `db verify` both call df_verify().
 */
#include <stdbool.h>
#include <stddef.h>

#include "devflow/session.h"

typedef enum df_verify_kind {
	DF_VERIFY_CHECKSUM = 0,   /* an applied file was edited since it was applied */
	DF_VERIFY_MISSING,        /* a recorded migration's file is gone */
	DF_VERIFY_FAILED,         /* a history row is failed */
	DF_VERIFY_RUNNING,        /* a history row is running (interrupted, or a run in flight) */
	DF_VERIFY_DRIFT,          /* the live schema differs from the recorded one */
} df_verify_kind;

typedef struct df_verify_finding {
	df_verify_kind kind;
	char *object;           /* a migration's file, or a schema object */
	char *version;          /* a migration's version (for resolve), or NULL */
	char *message;          /* what is wrong, in the core's words */
	char *change;           /* DRIFT: "+ key", "- key" or "~ key"; else NULL */
} df_verify_finding;

typedef struct df_verify_report {
	df_verify_finding *findings;
	size_t nr;
	size_t applied;         /* applied migrations checked */
	/* 1, 0, or -1: not compared (no record of this database yet, or its
	 * history changed since: see drift_reason); not comparing is no finding */
	int drift;
	char *drift_reason;     /* why not, or NULL */
	char *recorded_at;      /* ISO 8601 UTC of the recorded schema, or NULL */
} df_verify_report;
#define DF_VERIFY_REPORT_INIT { NULL, 0, 0, -1, NULL, NULL }

void df_verify_report_release(df_verify_report *r);

enum df_verify_flags {
	DF_VERIFY_HISTORY_ONLY = (1 << 0),      /* no schema comparison (a run that records it next) */
};

/* True when the finding needs a person (exit 6): a checksum, a failed or
 * running row, a missing file. */
bool df_verify_needs_person(df_verify_kind k);
/* "checksum_mismatch", "missing_file", "failed_migration", "running_migration",
 * "drift". */
const char *df_verify_kind_name(df_verify_kind k);

/*
 * Verify the session's target.  The session needs its plan (the files and
 * the history, DF_SESSION_FILES | DF_SESSION_PLAN).  Findings go to `out`
 * (released by the caller with df_verify_report_release, also on error);
 * returns 0 however many findings there are, or a negative DF_E... code
 * when verifying itself failed (out of memory).
 */
int df_verify(df_verify_report *out, df_session *s, unsigned int flags);

#endif
