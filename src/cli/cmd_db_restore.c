/* devflow db restore PATH: restore a backup into the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/banned.h"

/* Restoring over data is a person's decision (SPEC: `ask`). */
static void ask_restore(struct cli_ctx *ctx, const char *path, const char *question,
	const char *why, const char *flag, bool clean, bool no_owner)
{
	df_buf then = DF_BUF_INIT;

	df_buf_puts(&then, "devflow db restore ");
	df_shell_quote(&then, path);
	df_buf_printf(&then, "%s%s%s %s", cli_env_arg(ctx), clean ? " --clean" : "",
		no_owner ? " --no-owner" : "", flag);
	df_error_hint("a person must confirm: %s", then.ptr);
	cli_ask_yes(ctx, question, why ? why : "a restore replaces what the database holds now", "yes",
		then.ptr);
	df_buf_release(&then);
}

static const char *check_name(df_restore_how how)
{
	switch (how) {
	case DF_RESTORE_BY_MANIFEST: return "manifest";
	case DF_RESTORE_BY_RECEIPT: return "receipt";
	case DF_RESTORE_BY_END_MARKER: return "end_marker";
	default: return "unchecked";
	}
}

int cmd_db_restore(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *confirm = NULL;
	bool yes = false, clean = false, no_owner = false, had_ledger = false;
	df_rows *cols = NULL;
	struct cli_opt opts[] = {
		{ "--confirm", 1, &confirm, NULL },
		{ "--yes", 0, NULL, &yes },
		{ "--clean", 0, NULL, &clean },
		{ "--no-owner", 0, NULL, &no_owner },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_restore_check check;
	df_buf summary = DF_BUF_INIT, why = DF_BUF_INIT;
	struct stat st;
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	memset(&check, 0, sizeof(check));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops != 1)
		return cli_usage_error(ctx, "'db restore' needs one backup PATH");
	ops[0] = (char *)cli_path(ctx, ops[0]);
	if (stat(ops[0], &st) < 0 || !S_ISREG(st.st_mode)) {
		error = df_error_set(DF_EUSAGE, "cannot read backup '%s'", ops[0]);
		status = cli_fail(ctx, error);
		goto out;
	}
	/* the migration lock: a restore must not run under a migrate (nor a
	 * migrate under it), and a backup waits for it */
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_WRITES | CLI_S_LOCK, yes || confirm)) < 0)
		goto fail;
	/* before anything runs: the file is whole, writes only into the target */
	if ((error = df_restore_check_run(&check, s.conn, s.cfg->table, ops[0])) < 0) {
		if (check.databases.nr)
			json_object_set_new(ctx->result, "databases", cli_json_strlist(&check.databases));
		goto fail;
	}
	json_object_set_new(ctx->result, "checked", json_string(check_name(check.how)));
	if (check.tables.nr)
		df_buf_printf(&why, "the target holds %zu table%s (%s%s) that the restore replaces",
			check.tables.nr, check.tables.nr == 1 ? "" : "s", check.tables.v[0],
			check.tables.nr > 1 ? ", ..." : "");
	if (check.how == DF_RESTORE_UNCHECKED)
		df_buf_printf(&why, "%snothing says the file is whole (no manifest beside it, no receipt "
			"in the audit log, no end marker): a cut dump drops tables before it fails",
			why.size ? "; " : "");
	/* The environment's policy: production needs --confirm production. */
	if (s.target->policy == DF_POLICY_PRODUCTION &&
	    (!confirm || (strcmp(confirm, "production") && strcmp(confirm, s.target->env)))) {
		error = df_error_set(DF_EGATE, "restoring into production replaces its data; it needs "
			"--confirm production");
		ask_restore(ctx, ops[0], "Type 'yes' to replace the data of PRODUCTION with this backup",
			why.size ? why.ptr : NULL, "--confirm production", clean, no_owner);
		goto fail;
	}
	if (s.target->policy == DF_POLICY_STAGING && !yes && !confirm) {
		error = df_error_set(DF_EGATE, "restoring into staging replaces its data; confirm with --yes");
		ask_restore(ctx, ops[0], "Replace the data of staging with this backup?",
			why.size ? why.ptr : NULL, "--yes", clean, no_owner);
		goto fail;
	}
	/* local: a person decides to restore over data, or a file nothing vouches for */
	if (s.target->policy == DF_POLICY_LOCAL && !yes && !confirm &&
	    (check.tables.nr || check.how == DF_RESTORE_UNCHECKED)) {
		if (check.tables.nr)
			error = df_error_set(DF_EGATE, "%s holds %zu table%s (%s%s); a restore replaces "
				"its data; confirm with --yes", s.target->redacted, check.tables.nr,
				check.tables.nr == 1 ? "" : "s", check.tables.v[0], check.tables.nr > 1 ? ", ..." : "");
		else
			error = df_error_set(DF_EGATE, "nothing says '%s' is a whole backup (no manifest, no "
				"receipt in the audit log, no end marker); confirm with --yes", ops[0]);
		ask_restore(ctx, ops[0], check.tables.nr ? "Replace the data of this database with the backup?" :
			"Restore a file that cannot be checked to be whole?", why.ptr, "--yes", clean, no_owner);
		goto fail;
	}
	/* a failed restore is recorded only where the audit table already is:
	 * creating it would put tables into an empty target and block a retry */
	if (df_conn_table_columns(s.conn, &cols, s.cfg->table) == 0 && cols->nrows)
		had_ledger = true;
	df_rows_free(cols);
	/* the file restored is the file checked */
	if ((error = df_restore_check_same(&check, ops[0])) < 0)
		goto fail;
	if ((error = df_conn_restore(s.conn, s.target->dsn, ops[0],
		(clean ? DF_RESTORE_CLEAN : 0) | (no_owner ? DF_RESTORE_NO_OWNER : 0))) < 0) {
		const df_error *e = df_error_last();
		char *m = cli_error_words(e, e->message), *h = cli_error_words(e, e->hint);
		int code = e->code;
		df_buf_printf(&summary, "restore of %s failed", ops[0]);
		if (had_ledger)
			cli_audit(ctx, &s, "restore", "failed", summary.ptr, NULL, m);
		df_error_set(code, "%s", m ? m : "restore failed");
		if (h)
			df_error_hint("%s", h);
		free(m);
		free(h);
		goto fail;
	}
	df_buf_printf(&summary, "restored %s%s", ops[0], clean ? " (--clean)" : "");
	cli_audit(ctx, &s, "restore", "ok", summary.ptr, NULL, NULL);
	cli_say(ctx, "%sRestored%s %s into %s.\n", cli_c(ctx, "green"), cli_c(ctx, "reset"), ops[0],
		s.target->redacted);
	json_object_set_new(ctx->result, "restored", json_string(ops[0]));
	json_object_set_new(ctx->result, "clean", json_boolean(clean));
	cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	df_buf_release(&summary);
	df_buf_release(&why);
	df_restore_check_release(&check);
	df_session_close(&s);
	return status;
}
