#ifndef DEVFLOW_CMD_H
#define DEVFLOW_CMD_H

/*
 * A command the core suggests (a `next`, an answer of an `ask`, an error's
 * way out), as data: a verb, a positional word and options in the order
 * they are shown.  The core keeps no command text and no flag names; the
 * front end words it (the CLI: "devflow db migrate --env prod --yes").
 */
#include <stdbool.h>
#include <stddef.h>

typedef enum df_verb {
	DF_VERB_MIGRATE = 0,
	DF_VERB_ROLLBACK,
	DF_VERB_STATUS,
	DF_VERB_REVIEW,
	DF_VERB_RESOLVE,
	DF_VERB_BACKUP,
	DF_VERB_RESTORE,
	DF_VERB_SEED,
	DF_VERB_CREATE,
	DF_VERB_HISTORY,
	DF_VERB_DIFF,
	DF_VERB_SNAPSHOT,
	DF_VERB_PULL,
	DF_VERB_GENERATE,
	DF_VERB_DOCTOR,
	DF_VERB_VERIFY,
	DF_VERB_BASELINE,
} df_verb;

typedef enum df_opt {
	DF_OPT_SELECT = 0,      /* the run's own target selection (-C, --env, --url) */
	DF_OPT_TO,              /* value: a version */
	DF_OPT_STEPS,           /* value: a count */
	DF_OPT_OUT_OF_ORDER,
	DF_OPT_DRY_RUN,
	DF_OPT_YES,
	DF_OPT_BACKUP,
	DF_OPT_ACCEPT_RISK,
	DF_OPT_CONFIRM,         /* value: an environment, or "production" */
	DF_OPT_APPLIED,
	DF_OPT_ROLLED_BACK,
	DF_OPT_FORCE,
	DF_OPT_ENV,             /* value: an environment other than the run's */
	DF_OPT_ACCEPT_DRIFT,
	DF_OPT_ACCEPT_DIFFERENCES,
} df_opt;

#define DF_CMD_MAX_OPTS 12

typedef struct df_cmd_opt {
	df_opt opt;
	char *value;            /* owned, or NULL for a flag */
} df_cmd_opt;

typedef struct df_cmd {
	df_verb verb;
	char *arg;              /* the word after the verb (a version, a name), or NULL */
	df_cmd_opt opts[DF_CMD_MAX_OPTS];
	size_t nr;
} df_cmd;

/* A new command of `verb`; NULL when out of memory (the error is set). */
df_cmd *df_cmd_new(df_verb verb);
/* Set the positional word (copied); 0 or DF_EINTERNAL. */
int df_cmd_arg(df_cmd *c, const char *arg);
/* Append an option, with a value (copied) or NULL; 0 or DF_EINTERNAL. */
int df_cmd_opt_add(df_cmd *c, df_opt opt, const char *value);
/* Append an option with a number as its value. */
int df_cmd_opt_num(df_cmd *c, df_opt opt, long long value);
/* True when `c` has option `opt`. */
bool df_cmd_has(const df_cmd *c, df_opt opt);
/*
 * The common short command: `verb`, its word (or NULL) and one flag without
 * a value (or -1 for none).  NULL when out of memory (the error is set).
 */
df_cmd *df_cmd_make(df_verb verb, const char *arg, int flag);
df_cmd *df_cmd_dup(const df_cmd *c);
void df_cmd_free(df_cmd *c);

#endif
