/*
 * The words of a suggested command (include/devflow/cmd.h): the core says
 * what to run as data, the CLI says it as a `devflow ...` line.
 */
#include "cli.h"

#include "devflow/workflow.h"

static const char *const verbs[] = {
	[DF_VERB_MIGRATE] = "db migrate",
	[DF_VERB_ROLLBACK] = "db rollback",
	[DF_VERB_STATUS] = "db status",
	[DF_VERB_REVIEW] = "db review",
	[DF_VERB_RESOLVE] = "db resolve",
	[DF_VERB_BACKUP] = "db backup",
	[DF_VERB_RESTORE] = "db restore",
	[DF_VERB_SEED] = "db seed",
	[DF_VERB_CREATE] = "db create",
	[DF_VERB_HISTORY] = "db history",
	[DF_VERB_DIFF] = "db diff",
	[DF_VERB_SNAPSHOT] = "db snapshot",
	[DF_VERB_PULL] = "db pull",
	[DF_VERB_GENERATE] = "db generate",
	[DF_VERB_DOCTOR] = "doctor",
	[DF_VERB_VERIFY] = "db verify",
	[DF_VERB_BASELINE] = "db baseline",
};

static const char *const flags[] = {
	[DF_OPT_SELECT] = NULL,
	[DF_OPT_TO] = "--to",
	[DF_OPT_STEPS] = "--steps",
	[DF_OPT_OUT_OF_ORDER] = "--out-of-order",
	[DF_OPT_DRY_RUN] = "--dry-run",
	[DF_OPT_YES] = "--yes",
	[DF_OPT_BACKUP] = "--backup",
	[DF_OPT_ACCEPT_RISK] = "--accept-risk",
	[DF_OPT_CONFIRM] = "--confirm",
	[DF_OPT_APPLIED] = "--applied",
	[DF_OPT_ROLLED_BACK] = "--rolled-back",
	[DF_OPT_FORCE] = "--force",
	[DF_OPT_ENV] = "--env",
	[DF_OPT_ACCEPT_DRIFT] = "--accept-drift",
	[DF_OPT_ACCEPT_DIFFERENCES] = "--accept-differences",
};

const char *cli_verb_words(df_verb verb)
{
	if ((size_t)verb >= sizeof(verbs) / sizeof(*verbs) || !verbs[verb])
		return "help";
	return verbs[verb];
}

/*
 * "devflow db migrate --env prod --to 20240101 --yes": `select` is the
 * run's target selection (" -C DIR --env NAME", password as ***), put where
 * the command has DF_OPT_SELECT.
 */
void cli_cmd_text(df_buf *out, const df_cmd *c, const char *select)
{
	df_buf_printf(out, "devflow %s", cli_verb_words(c->verb));
	if (c->arg) {
		df_buf_putc(out, ' ');
		df_shell_quote(out, c->arg);
	}
	for (size_t i = 0; i < c->nr; i++) {
		const df_cmd_opt *o = &c->opts[i];

		if (o->opt == DF_OPT_SELECT) {
			df_buf_puts(out, select ? select : "");
			continue;
		}
		if ((size_t)o->opt >= sizeof(flags) / sizeof(*flags) || !flags[o->opt])
			continue;
		df_buf_printf(out, " %s", flags[o->opt]);
		if (o->value) {
			df_buf_putc(out, ' ');
			df_shell_quote(out, o->value);
		}
	}
}

char *cli_cmd_string(const df_cmd *c, const char *select)
{
	df_buf b = DF_BUF_INIT;

	cli_cmd_text(&b, c, select);
	return df_buf_detach(&b);
}

/*
 * `text` (an error's message or hint) with each DF_ERR_CMD(i) replaced by
 * the words of the error's command i: the sentence users read, the command
 * in it as the CLI says it.  A copy; NULL when `text` is NULL.
 */
char *cli_error_words(const df_error *e, const char *text)
{
	df_buf b = DF_BUF_INIT;

	if (!text)
		return NULL;
	for (const char *p = text; *p; p++) {
		if (*p != DF_ERR_CMD_MARK || p[1] < '0' || p[1] > '9') {
			df_buf_putc(&b, *p);
			continue;
		}
		size_t i = (size_t)(*++p - '0');
		if (e && i < e->nr_cmds && e->cmds[i])
			cli_cmd_text(&b, e->cmds[i], NULL);
	}
	if (!b.ptr)
		df_buf_puts(&b, "");
	return df_buf_detach(&b);
}
