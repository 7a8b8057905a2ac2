#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/error.h"
#include "devflow/cmd.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/schema.h"
#include "devflow/session.h"
#include "devflow/workflow.h"

struct cli_ctx;
typedef int (*cli_fn)(int argc, char **argv, struct cli_ctx *ctx);

struct cli_cmd {
	const char *name;
	cli_fn fn;
	const char *usage;      /* "db migrate [--dry-run] ..." */
	const char *summary;
	const char *help;       /* options, one per line */
	const char *alias_of;   /* "migrate" for `db up`; NULL for a command of its own */
};

struct cli_ctx {
	const char *dir;        /* -C */
	const char *env;        /* --env */
	bool env_given;
	const char *url;        /* --url */
	const char *migrations_dir; /* -d / --migrations-dir */
	bool json, color, quiet, verbose;
	long lock_timeout_ms;
	bool tty_in, tty_err;
	const struct cli_cmd *cmd;
	const char *cmd_path;   /* "db migrate" */
	FILE *out;              /* people's output: stdout, or stderr with --json */
	json_t *result;         /* the JSON document being built */
	json_t *next;           /* "next": [...] */
	df_ask *ask;            /* "ask", or NULL */
	char early_error[256];  /* a global option's error, before any command */
	int argc;               /* the command's words and flags, without the globals */
	char **argv;
	char *prefix;           /* the folder devflow was started in, relative to the root ("" or "sub/") */
	const df_dsn *dsn;      /* for scrubbing messages */
	/* A member too big to build as a tree (db status's "migrations" over
	 * 10,000 files): cli_finish() writes it last, as `stream_key` whose
	 * value `stream` writes to `out`.  Cleared by cli_fail(). */
	const char *stream_key;
	void (*stream)(FILE *out, struct cli_ctx *ctx, void *payload);
	void *stream_payload;
	df_run *run;            /* this command's run (signals.c cancels it) */
};

/* signals.c: SIGINT and SIGTERM cancel the runs in flight. */
void cli_signals_install(void);
int cli_signal_pending(void);
void cli_signals_release(void);
int cli_run_register(df_run *r);
void cli_run_unregister(df_run *r);

/* Output for people (to ctx->out; nothing in quiet mode but errors). */
void cli_say(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_verbose(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Colour escapes, or "" when colour is off. */
const char *cli_c(struct cli_ctx *ctx, const char *which);
/* A suggested next command: recorded for JSON and printed at the end. */
void cli_next(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The target selection of a suggested command: " -C DIR --env NAME --url
 * URL" as given (a password in the URL as ***), or "".  Sets "url_redacted"
 * in the result when the password was taken out.
 */
const char *cli_env_arg(struct cli_ctx *ctx);
/* The option nearest to a mistyped `word` among `opts` (NULL: none) and the
 * global ones, or NULL. */
struct cli_opt;
const char *cli_near_option(const char *word, const struct cli_opt *opts);
/* A path given on the command line, as seen from the project root (the
 * string lives until exit). */
const char *cli_path(struct cli_ctx *ctx, const char *path);
/* Ask the person at the terminal (a df_wf_sink's ask; `data` unused): true
 * when the answer is `expect`, or y/yes for a y/N question (expect NULL). */
bool cli_prompt(void *data, const char *question, const char *expect);
/* A question for a person: recorded as "ask" in JSON, printed for people. */
void cli_ask(struct cli_ctx *ctx, df_ask *ask);
/* The words of a question the core asks as data (wf_words.c); `select` is
 * the run's target selection.  Nothing for a question in words already. */
void cli_ask_words(df_ask *a, const char *select);
/* Drift lines (df_drift.lines) as JSON: [{op, object, kind, details}]. */
json_t *cli_drift_changes_json(const df_strlist *lines);
/* "pid 123 (app, postgres, active since ...; AccessShareLock) is using t,
 * which 20240101000000 drops" (wf_words.c). */
void cli_session_words(df_buf *out, const df_live_session *s);
/* The common question: one command for "yes", nothing for "no". */
void cli_ask_yes(struct cli_ctx *ctx, const char *question, const char *why,
	const char *yes, const char *then);
/* Report the last library error (text or JSON) and return its exit status. */
int cli_fail(struct cli_ctx *ctx, int code);
/* A usage error of the current command. */
int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Finish: print the JSON document (with "ok") or the next-steps line. */
int cli_finish(struct cli_ctx *ctx, int status);
void cli_print_help(FILE *f, const struct cli_cmd *cmd);
/* `devflow help config`: the keys of devflow.conf, as text or JSON; 0. */
int cli_help_config(bool json);
/* How a command is typed: "db migrate", "doctor". */
const char *cli_cmd_words(const struct cli_cmd *cmd);

/* Option parsing for one command.  Returns index of first operand or -1 (usage error). */
struct cli_opt {
	const char *name;       /* "--dry-run" */
	int has_arg;
	const char **value;     /* for has_arg */
	bool *flag;             /* for flags */
};
int cli_parse(struct cli_ctx *ctx, int argc, char **argv, const struct cli_opt *opts,
	char ***operands, int *noperands);

/* Everything a database command needs, opened in order. */
enum cli_session_flags {
	CLI_S_DB = (1 << 0),            /* connect */
	CLI_S_ENSURE = (1 << 1),        /* create/adopt the tracking tables */
	CLI_S_LOCK = (1 << 2),          /* take the migration lock */
	CLI_S_FILES = (1 << 3),         /* read the migrations folder */
	CLI_S_PLAN = (1 << 4),          /* read the ledger, build the plan */
	CLI_S_WRITES = (1 << 5),        /* the command writes: apply the remote-target gate */
	CLI_S_EXISTING = (1 << 6),      /* the database must exist already (SQLite: its file) */
	CLI_S_CACHE = (1 << 7),         /* read the folder through the stat cache (status) */
	CLI_S_DRY = (1 << 8),           /* a dry-run: no database file, no devflow table made */
	CLI_S_KEEP_BAD = (1 << 9),      /* bad migration files named in set->bad_files, not fatal */
	CLI_S_CREATE_DB = (1 << 10),    /* a missing server database: created under local (migrate) */
	CLI_S_NO_FOLDER_OK = (1 << 11), /* no migrations folder: an empty set (db baseline) */
};
int cli_session_open(df_session *s, struct cli_ctx *ctx, unsigned int flags,
	bool remote_confirmed);
/* Append an audit row; failures to write it are reported but not fatal. */
void cli_audit(struct cli_ctx *ctx, df_session *s, const char *op,
	const char *result, const char *summary, const char *receipt, const char *detail);
/* Elapsed time of a statement running longer than 2 s, on a terminal (ticker.c). */
void cli_ticker_start(struct cli_ctx *ctx);
void cli_ticker_statement(const char *file, long long n);   /* statement n (1-based) starts */
void cli_ticker_idle(void);                                 /* between migrations */
void cli_ticker_stop(void);

/* Warnings for people (and "warnings" in JSON). */
void cli_warnings(struct cli_ctx *ctx, const df_strlist *w);
/* json helpers */
json_t *cli_json_str(const char *s);
/* A JSON array of the list's strings. */
json_t *cli_json_strlist(const df_strlist *l);
/* One review finding as SPEC's JSON gives it (db review, migrate's preview). */
json_t *cli_finding_json(const df_review_finding *f);

/* A dry-run step's statement trace (locks and times, ALTER algorithms):
 * as JSON (a new array), and as text lines under the step (trace.c). */
json_t *cli_trace_json(const df_trace *t);
void cli_trace_say(struct cli_ctx *ctx, const df_trace *t);

/* The DDL of a diff as db diff prints it: each change that destroys data
 * headed by "-- devflow: DESTROYS DATA (...)" (cmd_db_generate.c). */
/* The words of a suggested command (src/cli/words.c): "devflow db migrate<select> --yes". */
const char *cli_verb_words(df_verb verb);
/* db seed: the seed files through the migrate workflow and its gates (apply.c). */
int cli_seed_run(df_wf_result *res, struct cli_ctx *ctx, df_session *s, const df_wf_opts *o);
void cli_gates_json(json_t *doc, const df_wf_result *r);
void cli_wf_suggest(struct cli_ctx *ctx, df_wf_result *res, const char *select, bool next);
void cli_cmd_text(df_buf *out, const df_cmd *c, const char *select);
char *cli_cmd_string(const df_cmd *c, const char *select);
/* An error's message or hint with its commands (DF_ERR_CMD) in words; a copy. */
char *cli_error_words(const df_error *e, const char *text);
void cli_diff_script(df_buf *b, const df_diff *d);
/* A diff's changes as JSON ({kind, op, object, sql, risk, destroys_data, hazards}). */
json_t *cli_diff_changes_json(const df_diff *d);
/* A diff's check (df_diff_verify()) in JSON and, when `text`, one line there
 * (or what remains different); DF_EUNVERIFIED set when it failed, else 0. */
struct df_verified;
int cli_diff_verified(struct cli_ctx *ctx, const struct df_verified *v, const char *what, FILE *text);

/* Actions of a migration's UP section (plain English), for previews. */
int cli_actions(df_strlist *out, const df_migration *m, df_dialect d);

/* The commands. */
int cmd_doctor(int argc, char **argv, struct cli_ctx *ctx);
int cmd_detect(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_status(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_migrate(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_rollback(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_create(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_resolve(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_history(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_verify(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_baseline(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_review(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_backup(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_restore(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_snapshot(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_seed(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_diff(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_generate(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_pull(int argc, char **argv, struct cli_ctx *ctx);
int cmd_db_wait(int argc, char **argv, struct cli_ctx *ctx);
/* Take a backup now and record it in the audit log. */
int cli_backup(struct cli_ctx *ctx, df_session *s, const char *path, unsigned int flags,
	df_backup_info *info);

extern const struct cli_cmd cli_commands[];
extern const struct cli_cmd cli_db_commands[];

#endif
