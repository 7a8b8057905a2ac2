/* devflow db history: the audit log of every operation on the target. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/isotime.h"
#include "util/banned.h"

int cmd_db_history(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *limit_s = NULL;
	struct cli_opt opts[] = { { "--limit", 1, &limit_s, NULL }, { NULL, 0, NULL, NULL } };
	static const char *keys[] = { "id", "at", "op", "env", "target", "user", "host", "result",
		"summary", "receipt", "server", "detail" };
	df_session s;
	df_rows *rows = NULL;
	long limit = 50;
	char **ops;
	int nops, error, status;
	json_t *list;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "'db history' takes no arguments");
	if (limit_s) {
		char *end;
		limit = strtol(limit_s, &end, 10);
		if (*end || limit < 0)
			return cli_usage_error(ctx, "--limit wants a number, not '%s'", limit_s);
	}
	if ((error = cli_session_open(&s, ctx, CLI_S_DB, false)) < 0 ||
	    (error = df_audit_read(&rows, s.conn, s.cfg->table, NULL, limit)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	list = json_array();
	if (!rows->nrows)
		cli_say(ctx, "No operations recorded on %s yet.\n", s.target->redacted);
	for (size_t r = rows->nrows; r-- > 0;) {
		json_t *o = json_object();
		char at[40];
		df_time_iso(at, sizeof(at), df_rows_get(rows, r, 1));
		for (size_t c = 0; c < rows->ncols && c < 12; c++)
			json_object_set_new(o, keys[c], cli_json_str(c == 1 ? at : df_rows_get(rows, r, c)));
		json_array_append_new(list, o);
		const char *res = df_rows_get(rows, r, 7), *sum = df_rows_get(rows, r, 8);
		const char *det = df_rows_get(rows, r, 11);
		/* rows written before the detail stopped repeating the summary: once */
		if (det && sum && (!strcmp(det, sum) || !*det))
			det = NULL;
		cli_say(ctx, "%s  %-8s %-16s %s%-7s%s %s  %s%s%s\n", at,
			df_rows_get(rows, r, 3) ? df_rows_get(rows, r, 3) : "", df_rows_get(rows, r, 2),
			cli_c(ctx, res && !strcmp(res, "ok") ? "green" : "red"), res ? res : "",
			cli_c(ctx, "reset"), df_rows_get(rows, r, 5) ? df_rows_get(rows, r, 5) : "",
			sum ? sum : "", det ? ": " : "", det ? det : "");
	}
	json_object_set_new(ctx->result, "entries", list);
	status = cli_finish(ctx, 0);
out:
	df_rows_free(rows);
	df_session_close(&s);
	return status;
}
