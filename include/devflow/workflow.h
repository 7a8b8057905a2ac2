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
 *
 * A front end is: df_wf_prepare (reads only: the plan and the verdict),
 * df_wf_preview, maybe a person's answer (df_wf_plan_consent or _decline),
 * df_wf_execute.  Everything it gets is data: events with counts, versions
 * and names, commands as df_cmd, questions as df_ask; the words are its own.
 */
#include "devflow/buf.h"
#include "devflow/cmd.h"
#include "devflow/review.h"
#include "devflow/session.h"
#include "devflow/sessions.h"
#include "devflow/source.h"

/* The gates of a policy (bits of df_wf_result.missing). */
enum df_gate {
	DF_GATE_DRY_RUN = (1 << 0),
	DF_GATE_BACKUP = (1 << 1),
	DF_GATE_ACCEPT_RISK = (1 << 2),
	DF_GATE_CONFIRMATION = (1 << 3),
	DF_GATE_ACCEPT_DRIFT = (1 << 4),        /* the schema changed outside devflow */
};
#define DF_GATE_COUNT 5
/* SPEC's name of one gate bit: "dry_run", "backup", "accept_risk", "confirmation",
 * "accept_drift". */
const char *df_gate_name(unsigned int bit);

typedef struct df_wf_opts {
	bool rollback;
	bool dry_run, yes, backup, out_of_order, accept_risk;
	const char *to;         /* --to VERSION, or NULL */
	long steps;             /* rollback --steps (0: default) */
	const char *confirm;    /* --confirm ENV, or NULL */
	bool interactive;       /* a person at a terminal answers questions (df_wf_run) */
	/* The target selection, repeated in every suggested command:
	 * " -C DIR --env NAME --url URL" (password as ***), or "".  The core
	 * never reads it; a front end words its df_cmd with it. */
	const char *select;
	/* where the migrations come from and how each runs and is recorded;
	 * NULL: the session's SQL folder */
	const df_source *source;
	/* go over drift (the schema changed outside devflow since the last
	 * run recorded it): the person accepted it (--accept-drift) */
	bool accept_drift;
} df_wf_opts;

/* Suggested commands, in order (include/devflow/cmd.h). */
typedef struct df_cmd_list {
	df_cmd **v;
	size_t nr;
} df_cmd_list;

int df_cmd_list_push(df_cmd_list *l, df_cmd *c);        /* takes c, even on error */
void df_cmd_list_release(df_cmd_list *l);

/* What a question is about: the front end words it from the data. */
typedef enum df_ask_kind {
	DF_ASK_TEXT = 0,        /* question and why are words already (a front end's own) */
	DF_ASK_CONSENT,         /* the person-gates: apply/revert `migrations` on `env` */
	DF_ASK_OUT_OF_ORDER,    /* apply migrations older than the newest applied; detail: the problem */
	DF_ASK_FAILED,          /* `version` failed or was interrupted part-way; detail: the problem */
	DF_ASK_CHECKSUM,        /* applied `version` was edited afterwards; detail */
	DF_ASK_MISSING,         /* the file of applied `version` is gone; detail */
	DF_ASK_BASELINE,        /* db baseline: accept the differences (`drift`) between the
				   live schema and `migrations` up to `version` on `env`
				   (include/devflow/baseline.h) */
} df_ask_kind;

/* An answer of a question, as data (the front end words it). */
typedef enum df_answer {
	DF_ANSWER_TEXT = 0,     /* `answer` holds the words already */
	DF_ANSWER_YES,
	DF_ANSWER_NO,
	DF_ANSWER_IN_PLACE,     /* a failed migration's changes are in place */
	DF_ANSWER_GONE,         /* ... are gone */
	DF_ANSWER_NOT_SURE,
	DF_ANSWER_ACCEPT_EDIT,
	DF_ANSWER_RESTORE_FILE, /* the person restores the file */
	DF_ANSWER_CHANGES_GONE, /* a missing file's changes are gone from the database */
} df_answer;

/* A decision that belongs to a person (SPEC: `ask`). */
typedef struct df_ask_option {
	df_answer kind;
	df_cmd *cmd;            /* the command to run for this answer, or NULL */
	char *answer;           /* words: the front end's */
	char *then;             /* words: the command line of `cmd`, or NULL */
} df_ask_option;

typedef struct df_ask {
	df_ask_kind kind;
	/* the data of the question */
	bool rollback;          /* CONSENT: revert (else apply) */
	df_policy policy;       /* CONSENT: the policy that leaves it to a person */
	bool typed;             /* CONSENT: only the typed word yes confirms
				 * (production, or a high risk) */
	char *env;              /* CONSENT: the environment */
	size_t migrations;      /* CONSENT: how many */
	size_t high_risk;       /* CONSENT: high-risk findings accepted with it */
	bool backup;            /* CONSENT: after a backup taken now */
	char *version;          /* FAILED, CHECKSUM, MISSING */
	char *detail;           /* the problem's own message, or NULL */
	const df_live_sessions *using;  /* CONSENT: sessions using what it drops (borrowed
					 * from the result), or NULL */
	df_ask_option options[3];
	size_t nr;
	/* CONSENT: drift accepted with it (df_drift.lines), and since when
	 * (the record's time, or NULL); empty when there is none */
	df_strlist drift;
	char *drift_since;
	/* words, set by the front end (or given with DF_ASK_TEXT) */
	char *question;
	char *why;
} df_ask;

void df_ask_free(df_ask *a);

typedef enum df_wf_event_kind {
	DF_EV_HEADER = 0,       /* the preview starts: text (env), detail (target,
				   password as ***), policy, n (migrations) */
	DF_EV_MIGRATION,        /* one migration of the preview: mig, review (NULL:
				   not reviewed), n (size of its section) */
	DF_EV_PREVIEW_END,      /* the preview ends: n (high-risk findings) */
	DF_EV_NOTHING_TO_DO,    /* nothing selected */
	DF_EV_BANNER,           /* production: text (env), n (migrations) */
	DF_EV_BACKUP_START,     /* a backup is taken first */
	DF_EV_BACKUP_PROGRESS,  /* bytes written so far: n */
	DF_EV_BACKUP_DONE,      /* text: its path */
	DF_EV_SHADOW,           /* the dry-run runs in a throwaway database: text */
	DF_EV_PROGRESS,         /* statements done so far: mig, n */
	DF_EV_STEP,             /* one migration ran (or failed), as it ends: step */
	DF_EV_SCHEMA,           /* what the run changed in the schema: diff, or NULL
				   and text (why it is not known) */
	DF_EV_VERIFIED,         /* the history records them all: n */
	DF_EV_DRY_RUN_PASSED,   /* policy: the receipt is one a gate asks for unless local */
	DF_EV_ROLLBACK_PLAN,    /* written: text (its path) */
	DF_EV_SMOKE,            /* the smoke test passed: text (its file), n (statements) */
	DF_EV_AFTER_MIGRATE,    /* the after_migrate command succeeded */
	DF_EV_WARNING,          /* something went wrong that does not stop the run:
				   warning, text (its object), detail (the error) */
	DF_EV_DRIFT,            /* the preview: the schema changed outside devflow
				   since the last run recorded it: drift, policy,
				   n (1: the policy asks a person to accept it) */
	DF_EV_SESSIONS_USING,   /* the preview: sessions using what it drops (using) */
} df_wf_event_kind;

typedef enum df_wf_warning {
	DF_WARN_SHADOW_DROP = 0,        /* text: the throwaway database left behind */
	DF_WARN_SNAPSHOT,               /* text: the snapshot's tag; detail */
	DF_WARN_SNAPSHOT_MODEL,         /* text: the snapshot's tag; detail */
	DF_WARN_SCHEMA_READ,            /* text: "before" or "after"; detail */
	DF_WARN_SCHEMA_RECORD,          /* detail, or NULL: the schema could not be read */
	DF_WARN_AUDIT,                  /* the audit row: detail */
	DF_WARN_ROLLBACK_PLAN,          /* no rollback plan written: detail */
} df_wf_warning;

typedef struct df_wf_event {
	df_wf_event_kind kind;
	df_wf_warning warning;
	const char *text;
	const char *detail;
	df_policy policy;
	const df_migration *mig;
	const df_review_result *review;
	const df_run_step *step;
	const df_diff *diff;
	long long n;
	const df_drift *drift;
	const df_live_sessions *using;
} df_wf_event;

/* What the rollback plan says (df_wf_sink.rollback_doc): the front end's words. */
typedef struct df_wf_rollback_doc {
	const char *env;
	const char *target;     /* password as *** */
	const char *stamp;      /* the UTC time in its name */
	const df_migration *const *migs;        /* applied, in run order */
	const df_review_result *const *reviews; /* per migration, or NULL */
	size_t n;
	const df_cmd *undo;     /* the command that reverts them all */
} df_wf_rollback_doc;

/*
 * Where the workflow reports, shaped as libgit2's callbacks: a version, the
 * payload last, and a non-zero return stops the operation.
 */
#define DF_WF_SINK_VERSION 1
typedef struct df_wf_sink {
	unsigned int version;   /* DF_WF_SINK_VERSION */
	/* An event; non-zero stops the run cleanly: nothing more starts (the
	 * migration running ends first), the run is recorded interrupted and
	 * its error is DF_EINTERRUPTED. */
	int (*event)(const df_wf_event *ev, void *payload);
	/* df_wf_run only, when opts.interactive: ask a person `q` (the plan's
	 * DF_ASK_CONSENT) and store the index of the option they chose in
	 * *answer; non-zero (or NULL): no answer, the gates refuse. */
	int (*ask)(const df_ask *q, int *answer, void *payload);
	/* The rollback plan's text, in the front end's words (NULL: each
	 * migration's heading and DOWN SQL only). */
	void (*rollback_doc)(df_buf *out, const df_wf_rollback_doc *doc, void *payload);
	void *payload;
} df_wf_sink;
#define DF_WF_SINK_INIT { DF_WF_SINK_VERSION, NULL, NULL, NULL, NULL }

typedef struct df_wf_result {
	int error;              /* 0 or DF_E*; df_error_last() has the message */
	const df_migration **migs;      /* selected, in run order (borrowed) */
	size_t n;
	df_review_result **reviews;     /* per selected migration, or NULL */
	size_t high_risk;
	df_run_result run;
	bool ran;               /* the run started */
	bool stopped;           /* the sink stopped the run */
	unsigned int missing;   /* DF_GATE_* still missing when refused */
	int dry_run_receipt;    /* df_receipt_state, -1: not checked */
	int backup_receipt;
	df_cmd_list next;       /* runnable commands, in order */
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
	int schema_recorded;    /* -1: not tried; 0: failed (schema_record_error); 1: recorded */
	char *schema_record_error;      /* NULL: the schema could not be read */
	/* the models beside the snapshots' text dumps (staging, production) */
	char *snap_before_model, *snap_after_model;
	/* Drift before the run (df_session_drift), NULL when not checked; and
	 * how it was accepted: 0 not, 1 by the flag (opts.accept_drift), 2 by a
	 * person's answer (df_wf_plan_consent) */
	df_drift *drift;
	int drift_accepted;
	/* staging and production: the sessions using what the run drops */
	df_live_sessions using;
} df_wf_result;

/* Why df_wf_prepare stopped (or the person declined). */
typedef enum df_wf_stop {
	DF_WF_STOP_NONE = 0,
	DF_WF_STOP_HISTORY,             /* the history needs a person first: ask (or none
					   while another run holds the lock) */
	DF_WF_STOP_UNKNOWN_VERSION,     /* opts.to names no migration */
	DF_WF_STOP_OUT_OF_ORDER,        /* older than the newest applied: ask */
	DF_WF_STOP_IRREVERSIBLE,        /* a rollback of stop_mig, which has no DOWN: next */
	DF_WF_STOP_GATE_DRY_RUN,        /* gates missing, a dry-run first: next */
	DF_WF_STOP_GATE_PERSON,         /* gates missing that a person gives: ask */
	DF_WF_STOP_NOT_CONFIRMED,       /* the person said no (df_wf_plan_decline) */
	DF_WF_STOP_ERROR,               /* anything else: df_error_last() */
} df_wf_stop;

/* What df_wf_prepare decided; df_wf_execute runs it. */
typedef struct df_wf_plan {
	df_wf_opts o;           /* a copy (its strings borrowed) */
	int error;              /* 0, or why it stopped (df_error_last()) */
	df_wf_stop stop;
	const df_migration *stop_mig;   /* IRREVERSIBLE */
	bool take_backup;       /* a backup runs first */
	bool previewed;         /* selected and reviewed: df_wf_preview has events */
	bool gated;             /* the gates were decided */
	df_policy policy;
	char set_hash[65];      /* the set a receipt is bound to */
	df_wf_result res;       /* what was found: migs, reviews, missing, receipts,
				   next, ask (df_wf_execute moves it out) */
} df_wf_plan;

/*
 * Select the migrations, review them and decide every gate of the policy
 * (all at once: res.missing, and res.next or res.ask that satisfy all of
 * them).  Reads only: writes nothing to the database, not even an audit
 * row.  Returns 0 (go), or the stop's error with plan->stop set; *out is
 * the plan either way (NULL only when out of memory).
 */
int df_wf_prepare(df_wf_plan **out, df_session *s, const df_wf_opts *o);
/* Send the preview's events (header, migrations, high risks, the
 * production banner; or nothing to do) to `sink`; non-zero: it said stop. */
int df_wf_preview(const df_wf_plan *plan, const df_session *s, const df_wf_sink *sink);
/* A person answered the plan's DF_ASK_CONSENT question: yes (every
 * person-gate given, a missing backup taken first) or no (the plan stops,
 * DF_WF_STOP_NOT_CONFIRMED). */
void df_wf_plan_consent(df_wf_plan *plan);
int df_wf_plan_decline(df_wf_plan *plan);
/* A gate refused the plan: the audit row that says so, with the current
 * error's message (the front end's words).  Nothing for other stops. */
void df_wf_record_refusal(df_session *s, const df_wf_plan *plan);
/*
 * Run a plan: backup, snapshot, apply or revert, verify, record, rollback
 * plan, hooks.  A stopped plan runs nothing: its result is moved to `res`
 * and its error returned.  `res` takes what the plan found.
 */
int df_wf_execute(df_wf_result *res, df_session *s, df_wf_plan *plan, const df_wf_sink *sink);
void df_wf_plan_free(df_wf_plan *plan);

/* prepare, preview, the sink's ask when a person may answer, execute;
 * a gate's refusal is recorded. */
int df_wf_run(df_wf_result *res, df_session *s, const df_wf_opts *o, const df_wf_sink *sink);
void df_wf_result_release(df_wf_result *r);

/*
 * The question for a history that needs a person (`blk`, from
 * df_plan_blocker), with the command of each answer; `lock_held`: another
 * run holds the migration lock (a `running` row is in progress, not
 * interrupted).  NULL in *out when there is nothing to ask.
 */
int df_wf_blocker_ask(df_ask **out, const df_plan *plan, const df_problem *blk, bool lock_held);

/* Append to `out` a shell word: as it is, or in single quotes. */
void df_shell_quote(df_buf *out, const char *word);

#endif
