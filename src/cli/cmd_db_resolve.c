/* devflow db resolve VERSION --applied | --rolled-back */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/banned.h"

int cmd_db_resolve(int argc, char **argv, struct cli_ctx *ctx)
{
	bool applied = false, rolled_back = false;
	struct cli_opt opts[] = {
		{ "--applied", 0, NULL, &applied },
		{ "--rolled-back", 0, NULL, &rolled_back },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	const df_plan_item *it = NULL;
	df_buf summary = DF_BUF_INIT;
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops != 1)
		return cli_usage_error(ctx, "'db resolve' needs one VERSION");
	if (applied == rolled_back)
		return cli_usage_error(ctx, "say how it ended: --applied or --rolled-back");
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_ENSURE | CLI_S_LOCK |
		CLI_S_PLAN | CLI_S_WRITES, true)) < 0)
		goto fail;
	for (size_t i = 0; i < s.plan->nr && !it; i++) {
		const df_plan_item *p = &s.plan->items[i];
		const char *v = p->mig ? p->mig->version : p->row->version;
		if (!df_version_cmp(v, ops[0]) || (p->mig && !strcmp(p->mig->file, ops[0])) ||
		    (p->row && !strcmp(p->row->filename, ops[0])))
			it = p;
	}
	if (!it) {
		error = df_error_set(DF_EUSAGE, "no migration has version '%s'", ops[0]);
		df_error_hint("`devflow db status%s` lists the versions", cli_env_arg(ctx));
		goto fail;
	}
	if (applied) {
		if (!it->mig) {
			error = df_error_set(DF_EUSAGE, "'%s' has no file, so it cannot be marked applied",
				it->row->filename);
			df_error_hint("restore the file, or use --rolled-back if its effects are gone");
			goto fail;
		}
		/* the tool's row first: a crash between the two leaves devflow's
		 * row as it was (failed), which wins over the tool's, and the
		 * person resolves again */
		if ((s.mirror && (error = df_tool_resolve(s.conn, s.mirror, s.set, it->mig, true)) < 0) ||
		    (error = df_ledger_mark_applied(s.conn, s.cfg->table, it->mig)) < 0)
			goto fail;
		df_buf_printf(&summary, "marked %s as applied (was %s%s)", it->mig->file,
			df_mig_state_name(it->state), it->checksum_ok ? "" : ", edited");
	} else {
		if (it->state == DF_STATE_PENDING) {
			error = df_error_set(DF_EUSAGE, "'%s' is pending: there is nothing to roll back",
				it->mig->file);
			goto fail;
		}
		/* the tool's row first: were devflow's row gone and the tool's
		 * kept, the next run would read the version applied again */
		if ((s.mirror && it->mig && (error = df_tool_resolve(s.conn, s.mirror, s.set, it->mig,
			false)) < 0) ||
		    (error = df_ledger_forget(s.conn, s.cfg->table, it->row->filename)) < 0)
			goto fail;
		df_buf_printf(&summary, "marked %s as rolled back (was %s); it is %s now",
			it->row->filename, df_mig_state_name(it->state), it->mig ? "pending" : "forgotten");
	}
	if (s.mirror)
		df_buf_printf(&summary, "; %s's %s says the same", df_tool_name(s.mirror),
			df_tool_table(s.mirror));
	cli_audit(ctx, &s, "resolve", "ok", summary.ptr, NULL, NULL);
	cli_say(ctx, "Resolved: %s.\n", summary.ptr);
	json_object_set_new(ctx->result, "resolved", json_string(summary.ptr));
	cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	df_buf_release(&summary);
	df_session_close(&s);
	return status;
}
