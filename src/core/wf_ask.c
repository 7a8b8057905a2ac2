/*
 * The workflow's suggestions as data (core/workflow.c): the commands it
 * suggests (df_cmd) and the questions for a person (df_ask).  The words
 * are the front end's.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/workflow.h"
#include "core/wf_ask.h"
#include "util/banned.h"

void df_shell_quote(df_buf *out, const char *word)
{
	bool plain = *word != '\0';

	for (const char *p = word; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			"-_./:=@,+%", *p) != NULL;
	if (plain) {
		df_buf_puts(out, word);
		return;
	}
	df_buf_putc(out, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			df_buf_puts(out, "'\\''");
		else
			df_buf_putc(out, *p);
	}
	df_buf_putc(out, '\'');
}

int df_cmd_list_push(df_cmd_list *l, df_cmd *c)
{
	df_cmd **v;

	if (!c)
		return df_error_oom();
	if (!(v = realloc(l->v, (l->nr + 1) * sizeof(*v)))) {
		df_cmd_free(c);
		return df_error_oom();
	}
	l->v = v;
	l->v[l->nr++] = c;
	return 0;
}

void df_cmd_list_release(df_cmd_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		df_cmd_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}

void df_ask_free(df_ask *a)
{
	if (!a)
		return;
	free(a->question);
	free(a->why);
	free(a->env);
	free(a->version);
	free(a->detail);
	free(a->drift_since);
	df_strlist_release(&a->drift);
	for (size_t i = 0; i < a->nr; i++) {
		df_cmd_free(a->options[i].cmd);
		free(a->options[i].answer);
		free(a->options[i].then);
	}
	free(a);
}

df_ask *df__wf_ask_new(df_ask_kind kind, const char *version, const char *detail)
{
	df_ask *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->kind = kind;
	a->version = version ? strdup(version) : NULL;
	a->detail = detail ? strdup(detail) : NULL;
	if ((version && !a->version) || (detail && !a->detail)) {
		df_ask_free(a);
		return NULL;
	}
	return a;
}

/* An answer and its command (taken, may be NULL). */
void df__wf_ask_option(df_ask *a, df_answer answer, df_cmd *cmd)
{
	if (!a || a->nr >= sizeof(a->options) / sizeof(a->options[0])) {
		df_cmd_free(cmd);
		return;
	}
	a->options[a->nr].kind = answer;
	a->options[a->nr].cmd = cmd;
	a->nr++;
}

/*
 * A command of `verb` that keeps the run's target selection and, for the
 * run's own verb, the set it selected (--to, --steps, --out-of-order).
 */
df_verb df__wf_verb(const df_wf_opts *o)
{
	if (o->rollback)
		return DF_VERB_ROLLBACK;
	return o->source && o->source->command ? o->source->command : DF_VERB_MIGRATE;
}

df_cmd *df__wf_command(const df_wf_opts *o, df_verb verb)
{
	df_verb own = df__wf_verb(o);
	df_cmd *c = df_cmd_new(verb);

	if (!c || df_cmd_opt_add(c, DF_OPT_SELECT, NULL) < 0)
		goto fail;
	if (verb != own)
		return c;
	if (o->to && df_cmd_opt_add(c, DF_OPT_TO, o->to) < 0)
		goto fail;
	if (o->rollback && o->steps > 0 && df_cmd_opt_num(c, DF_OPT_STEPS, o->steps) < 0)
		goto fail;
	if (!o->rollback && o->out_of_order && df_cmd_opt_add(c, DF_OPT_OUT_OF_ORDER, NULL) < 0)
		goto fail;
	return c;
fail:
	df_cmd_free(c);
	return NULL;
}

/* Append flag options (DF_OPT_* without a value, or with one). */
df_cmd *df__wf_with(df_cmd *c, df_opt opt, const char *value)
{
	if (c && df_cmd_opt_add(c, opt, value) < 0) {
		df_cmd_free(c);
		return NULL;
	}
	return c;
}

/* ---- the history that needs a person ------------------------------------- */

static df_cmd *resolve_cmd(const char *version, df_opt how)
{
	df_cmd *c = df_cmd_new(DF_VERB_RESOLVE);

	if (c && (df_cmd_arg(c, version) < 0 || df_cmd_opt_add(c, how, NULL) < 0 ||
	    df_cmd_opt_add(c, DF_OPT_SELECT, NULL) < 0)) {
		df_cmd_free(c);
		c = NULL;
	}
	return c;
}

int df_wf_blocker_ask(df_ask **out, const df_plan *plan, const df_problem *blk, bool lock_held)
{
	df_ask *ask;

	*out = NULL;
	(void)plan;
	if (!blk || blk->kind == DF_PROBLEM_OUT_OF_ORDER)
		return 0;
	if (blk->kind == DF_PROBLEM_FAILED && lock_held)
		return 0;       /* still running in another process: nothing to decide */
	switch (blk->kind) {
	case DF_PROBLEM_FAILED:
		if (!(ask = df__wf_ask_new(DF_ASK_FAILED, blk->version, blk->message)))
			break;
		df__wf_ask_option(ask, DF_ANSWER_IN_PLACE, resolve_cmd(blk->version, DF_OPT_APPLIED));
		df__wf_ask_option(ask, DF_ANSWER_GONE, resolve_cmd(blk->version, DF_OPT_ROLLED_BACK));
		df__wf_ask_option(ask, DF_ANSWER_NOT_SURE, NULL);
		break;
	case DF_PROBLEM_CHECKSUM:
		if (!(ask = df__wf_ask_new(DF_ASK_CHECKSUM, blk->version, blk->message)))
			break;
		df__wf_ask_option(ask, DF_ANSWER_ACCEPT_EDIT, resolve_cmd(blk->version, DF_OPT_APPLIED));
		df__wf_ask_option(ask, DF_ANSWER_RESTORE_FILE, NULL);
		break;
	default:
		if (!(ask = df__wf_ask_new(DF_ASK_MISSING, blk->version, blk->message)))
			break;
		df__wf_ask_option(ask, DF_ANSWER_CHANGES_GONE, resolve_cmd(blk->version, DF_OPT_ROLLED_BACK));
		df__wf_ask_option(ask, DF_ANSWER_RESTORE_FILE, NULL);
		break;
	}
	if (!ask)
		return df_error_oom();
	for (size_t i = 0; i < ask->nr; i++)
		if (ask->options[i].kind != DF_ANSWER_NOT_SURE && ask->options[i].kind !=
		    DF_ANSWER_RESTORE_FILE && !ask->options[i].cmd) {
			df_ask_free(ask);
			return df_error_oom();
		}
	*out = ask;
	return 0;
}

/*
 * The `ask` for the person-gates: one question, one command that settles
 * all of them.  Production, or a high risk anywhere, needs the typed word
 * yes; staging a y/N.
 */
int df__wf_consent_ask(df_wf_result *res, const df_wf_opts *o, const df_session *s, bool need_backup)
{
	df_cmd *then = df__wf_command(o, df__wf_verb(o));
	df_ask *a = NULL;
	bool drift = res->drift && res->drift->drifted == 1;

	if (res->high_risk || o->accept_risk)
		then = df__wf_with(then, DF_OPT_ACCEPT_RISK, NULL);
	if (drift || o->accept_drift)
		then = df__wf_with(then, DF_OPT_ACCEPT_DRIFT, NULL);
	if (s->target->policy == DF_POLICY_PRODUCTION) {
		if (need_backup || o->backup)
			then = df__wf_with(then, DF_OPT_BACKUP, NULL);
		then = df__wf_with(then, DF_OPT_CONFIRM, "production");
	} else {
		then = df__wf_with(then, DF_OPT_YES, NULL);
	}
	df_ask_free(res->ask);
	res->ask = NULL;
	if (!then || !(a = df__wf_ask_new(DF_ASK_CONSENT, NULL, NULL)) || !(a->env = strdup(s->target->env))) {
		df_cmd_free(then);
		df_ask_free(a);
		return df_error_oom();
	}
	a->rollback = o->rollback;
	a->policy = s->target->policy;
	a->typed = s->target->policy == DF_POLICY_PRODUCTION || res->high_risk;
	a->migrations = res->n;
	a->high_risk = res->high_risk;
	a->backup = need_backup;
	for (size_t i = 0; drift && i < res->drift->lines.nr; i++)
		if (df_strlist_push(&a->drift, res->drift->lines.v[i]) < 0) {
			df_cmd_free(then);
			df_ask_free(a);
			return df_error_oom();
		}
	if (drift && res->drift->recorded_at && !(a->drift_since = strdup(res->drift->recorded_at))) {
		df_cmd_free(then);
		df_ask_free(a);
		return df_error_oom();
	}
	a->using = res->using.nr ? &res->using : NULL;
	df__wf_ask_option(a, DF_ANSWER_YES, then);
	df__wf_ask_option(a, DF_ANSWER_NO, NULL);
	res->ask = a;
	return 0;
}

