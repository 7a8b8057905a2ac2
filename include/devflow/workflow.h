#ifndef DEVFLOW_WORKFLOW_H
#define DEVFLOW_WORKFLOW_H

/*
 * The seeds' workflow as one core module: preview, review, gates, backup,
 * snapshot, apply, verify, rollback plan, hooks.  It reports what happens
 * to a sink and returns a result; it never prints.  The front end opens the
 * session and renders the result (text, JSON, a fleet's line per target).
 *
 * Gates are decided once, all together: a refusal lists every gate still
 * missing, and the suggested command (`next`, or an `ask` when the step
 * belongs to a person) satisfies all of them.
 */
#include "devflow/buf.h"
#include "devflow/review.h"
#include "devflow/session.h"
#include "devflow/source.h"

/* The gates of a policy (bits of df_wf_result.missing). */
enum df_gate {
	DF_GATE_DRY_RUN = (1 << 0),
	DF_GATE_BACKUP = (1 << 1),
	DF_GATE_ACCEPT_RISK = (1 << 2),
	DF_GATE_CONFIRMATION = (1 << 3),
};
#define DF_GATE_COUNT 4
/* SPEC's name of one gate bit: "dry_run", "backup", "accept_risk", "confirmation". */
const char *df_gate_name(unsigned int bit);

typedef struct df_wf_opts {
	bool rollback;
	bool dry_run, yes, backup, out_of_order, accept_risk;
	const char *to;         /* --to VERSION, or NULL */
	long steps;             /* rollback --steps (0: default) */
	const char *confirm;    /* --confirm ENV, or NULL */
	bool interactive;       /* a person at a terminal answers questions */
	/* The target selection, repeated in every suggested command:
	 * " -C DIR --env NAME --url URL" (password as ***), or "". */
	const char *select;
	/* where the migrations come from and how each runs and is recorded;
	 * NULL: the session's SQL folder */
	const df_source *source;
} df_wf_opts;

/* A decision that belongs to a person (SPEC: `ask`). */
typedef struct df_ask_option {
	char *answer;
	char *then;             /* the command to run for this answer, or NULL */
} df_ask_option;

typedef struct df_ask {
	char *question;
	char *why;
	df_ask_option options[3];
	size_t nr;
} df_ask;

void df_ask_free(df_ask *a);

/* How a line for people should look. */
typedef enum df_tone {
	DF_TONE_PLAIN = 0,
	DF_TONE_OK,
	DF_TONE_WARN,
	DF_TONE_BAD,
	DF_TONE_BOLD,
} df_tone;

typedef enum df_wf_event_kind {
	DF_EV_TEXT = 0,         /* a line for people: tone, text */
	DF_EV_HEADER,           /* the preview's first lines: text (target line), n (migrations) */
	DF_EV_MIGRATION,        /* one migration of the preview: mig, review (NULL: not reviewed) */
	DF_EV_BANNER,           /* production warning banner: text */
	DF_EV_PROGRESS,         /* statements done so far: n */
	DF_EV_BACKUP_PROGRESS,  /* bytes written so far: n */
	DF_EV_STEP,             /* one migration ran (or failed): step */
	DF_EV_SCHEMA,           /* what the run changed in the schema: diff, or NULL
	                           and text (why it is not known) */
} df_wf_event_kind;

typedef struct df_wf_event {
	df_wf_event_kind kind;
	df_tone tone;
	const char *text;
	const df_migration *mig;
	const df_review_result *review;
	const df_run_step *step;
	const df_diff *diff;
	long long n;
} df_wf_event;

typedef struct df_wf_sink {
	void (*event)(void *data, const df_wf_event *ev);
	/*
	 * Ask the person at the terminal (only when opts.interactive); `expect`
	 * is the exact answer that means yes ("yes", "accept risk"), or NULL for
	 * a y/N question.  True when confirmed.
	 */
	bool (*ask)(void *data, const char *question, const char *expect);
	void *data;
} df_wf_sink;

typedef struct df_wf_result {
	int error;              /* 0 or DF_E*; df_error_last() has the message */
	const df_migration **migs;      /* selected, in run order (borrowed) */
	size_t n;
	df_review_result **reviews;     /* per selected migration, or NULL */
	size_t high_risk;
	df_run_result run;
	bool ran;               /* df_run_apply was called */
	unsigned int missing;   /* DF_GATE_* still missing when refused */
	int dry_run_receipt;    /* df_receipt_state, -1: not checked */
	int backup_receipt;
	df_strlist next;        /* runnable commands, in order */
	df_ask *ask;            /* a question for a person, or NULL */
	long pending_after;     /* -1: unknown */
	int verified;           /* -1: not checked */
	char *backup_path, *rollback_plan, *snap_before, *snap_after, *shadow;
	int smoke, after_migrate;       /* -1: not run; 0 failed; 1 ok */
	bool nothing_to_do;
	/* The schema models before and after the run, diffed (SPEC "Drift"):
	 * what the run changed, checked, not assumed.  NULL after a run when it
	 * cannot be known, and schema_unknown says why. */
	df_diff *schema_changes;
	char *schema_unknown;
	int schema_recorded;    /* -1: not tried; 0: failed (schema_warning); 1: recorded */
	char *schema_warning;
	/* the models beside the snapshots' text dumps (staging, production) */
	char *snap_before_model, *snap_after_model;
} df_wf_result;

/* Run `db migrate` or `db rollback` on an open session (files, plan, lock). */
int df_wf_run(df_wf_result *res, df_session *s, const df_wf_opts *o, const df_wf_sink *sink);
void df_wf_result_release(df_wf_result *r);

/*
 * The question for a history that needs a person (`blk`, from
 * df_plan_blocker), with the commands of each answer; `lock_held`: another
 * run holds the migration lock (a `running` row is in progress, not
 * interrupted).  NULL in *out when there is nothing to ask.
 */
int df_wf_blocker_ask(df_ask **out, const df_plan *plan, const df_problem *blk,
	const char *select, bool lock_held);

/* Append to `out` a shell word: as it is, or in single quotes. */
void df_shell_quote(df_buf *out, const char *word);

#endif
