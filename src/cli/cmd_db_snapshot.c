/*
 * devflow db snapshot [--tag TAG]: save the target's schema under
 * .devflow/snapshots/, the SQL dump and devflow's model of it beside.
 */
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
	df_schema *model = NULL;
	char *path = NULL, *model_path = NULL, **ops;
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
	/* the model is a bonus: the dump is what was asked for */
	if (df_session_schema_read(&model, &s, NULL) < 0 ||
	    df_snapshot_model(&model_path, path, model) < 0) {
		fprintf(stderr, "warning: no schema model beside the snapshot: %s\n", df_error_last()->message);
		df_error_clear();
	} else {
		cli_say(ctx, "Schema model written: %s\n", model_path);
	}
	json_object_set_new(ctx->result, "model", cli_json_str(model_path));
	cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
out:
	df_schema_free(model);
	free(model_path);
	free(path);
	df_session_close(&s);
	return status;
}
