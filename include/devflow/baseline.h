#ifndef DEVFLOW_BASELINE_H
#define DEVFLOW_BASELINE_H

/*
 * `db baseline [VERSION]`: mark the migrations up to VERSION applied on a
 * database no tool managed, after proving it (core/baseline.c).  Shaped as
 * the workflow is: df_baseline_prepare reads only (the proof, the verdict,
 * next and ask as data), df_baseline_execute records.
 */
#include "devflow/session.h"
#include "devflow/workflow.h"

#define DF_BASELINE_OPTS_VERSION 1
typedef struct df_baseline_opts {
	unsigned int version;           /* DF_BASELINE_OPTS_VERSION */
	const char *to;                 /* VERSION, or NULL: the newest */
	/* record the differences as drift a person accepted */
	bool accept_differences;
	const char *confirm;            /* --confirm ENV: the person's typed yes, given with the run */
	/* where the scratch database is made on a server ([project] dev_url's),
	 * or NULL: the target's server */
	const df_dsn *server;
} df_baseline_opts;
#define DF_BASELINE_OPTS_INIT { DF_BASELINE_OPTS_VERSION, NULL, false, NULL, NULL }

typedef enum df_baseline_stop {
	DF_BASELINE_GO = 0,
	DF_BASELINE_STOP_HISTORY,       /* devflow's (or another tool's) history is there */
	DF_BASELINE_STOP_UNKNOWN,       /* opts.to is no version of the folder: nearest */
	DF_BASELINE_STOP_DIFFERENT,     /* the proof failed: differences, next, ask */
	DF_BASELINE_STOP_PERSON,        /* differences accepted, a person must confirm: ask */
	DF_BASELINE_STOP_ERROR,
} df_baseline_stop;

typedef struct df_baseline {
	df_baseline_opts o;
	df_baseline_stop stop;
	int error;                      /* 0, or why it stopped (df_error_last()) */
	df_policy policy;
	const char *version;            /* the VERSION baselined (borrowed), NULL: first */
	bool first;                     /* no migration at all: the first is written from the live schema */
	const df_migration **migs;      /* what is recorded (borrowed from the session's set) */
	size_t n;
	size_t objects;                 /* objects of the live schema */
	char hash[65];                  /* SHA-256 of the live schema's text */
	/* the differences, in drift's words: "+ table x" (the live side has
	 * it), "- index y" (only the migrations make it), "~ table users" with
	 * indented details ("  + column users.legacy_flag integer") */
	df_strlist differences;
	char *nearest;                  /* UNKNOWN: the nearest version, or NULL */
	const char *later;              /* DIFFERENT: the newest version, when later than VERSION */
	unsigned int missing;           /* DF_GATE_CONFIRMATION when refused */
	bool confirmed;                 /* a person said yes (df_baseline_consent, or opts.confirm) */
	df_cmd_list next;
	df_ask *ask;                    /* DF_ASK_BASELINE, or NULL */
	/* after df_baseline_execute */
	char *written;                  /* first: the migration file written */
	df_strlist recorded;            /* the versions recorded applied */
	bool accepted;                  /* differences recorded as accepted drift */
} df_baseline;

/* How many objects differ (df_baseline.differences without the detail lines). */
size_t df_baseline_objects(const df_strlist *differences);

/*
 * Prove: the migrations up to VERSION replayed into a throwaway database
 * (SQLite in memory; on a server opts.server or the target's) and read
 * back, against the live schema, devflow's and other tools' history tables
 * left out.  Reads only.  Returns 0 (go) or the stop's error, *out set
 * either way (NULL only when out of memory).
 */
int df_baseline_prepare(df_baseline **out, df_session *s, const df_baseline_opts *o);
/* A person answered yes to the plan's ask: the differences are accepted. */
void df_baseline_consent(df_baseline *b);
/*
 * Record: devflow's tables, a row `applied` for each migration (the
 * file's checksums), the audit row with the proof, and the live schema as
 * the one devflow left (with the accepted differences as drift gone over).
 * In first mode the migration file is written first.  A stopped plan
 * records nothing and returns its error.
 */
int df_baseline_execute(df_baseline *b, df_session *s);
void df_baseline_free(df_baseline *b);

#endif
