/* devflow db snapshot [--tag TAG]: save the target's schema under .devflow/snapshots/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/banned.h"

int cmd_db_snapshot(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *tag = NULL;
	struct cli_opt opts[] = {
		{ "--tag", 1, &tag, NULL },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	char *path = NULL, **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (tag && !*tag)
		return cli_usage_error(ctx, "--tag wants a word, e.g. --tag before-release");
	if ((error = cli_session_open(&s, ctx, CLI_S_DB, false)) < 0 ||
	    (error = df_snapshot_take(&path, s.conn, s.target->dsn, s.target->env,
		tag ? tag : "manual")) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	cli_say(ctx, "%sSchema snapshot written:%s %s\n", cli_c(ctx, "green"), cli_c(ctx, "reset"), path);
	json_object_set_new(ctx->result, "path", json_string(path));
	cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
out:
	free(path);
	df_session_close(&s);
	return status;
}
