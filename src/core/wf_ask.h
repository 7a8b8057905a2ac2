#ifndef CORE_WF_ASK_H
#define CORE_WF_ASK_H

/* The workflow's commands and questions as data (core/wf_ask.c). */
#include "devflow/session.h"
#include "devflow/workflow.h"

/*
 * A command of `verb` that keeps the run's target selection and, for the
 * run's own verb, the set it selected (--to, --steps, --out-of-order).
 * NULL when out of memory.
 */
/* The run's own verb: rollback, migrate, or its source's (seed). */
df_verb df__wf_verb(const df_wf_opts *o);
df_cmd *df__wf_command(const df_wf_opts *o, df_verb verb);
/* Append an option (a flag, or with a value) to `c`; NULL (c freed) when
 * out of memory, or when `c` is NULL. */
df_cmd *df__wf_with(df_cmd *c, df_opt opt, const char *value);
/* The `ask` for the person-gates of `res` (replacing any): one question,
 * one command that settles all of them. */
int df__wf_consent_ask(df_wf_result *res, const df_wf_opts *o, const df_session *s, bool need_backup);
/* A question of `kind` about `version` (may be NULL), `detail` its problem. */
df_ask *df__wf_ask_new(df_ask_kind kind, const char *version, const char *detail);
/* Add an answer and its command (taken, may be NULL). */
void df__wf_ask_option(df_ask *a, df_answer answer, df_cmd *cmd);

#endif
