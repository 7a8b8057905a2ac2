/*
 * devflow db wait [--timeout DURATION]: wait until the target is ready for
 * a migration (core/wait.c says what ready means on each engine), then
 * exit 0; exit 4 with the last attempt's error after the timeout (default
 * 60 s).  What `dbmate wait` does before `up` in a container's entrypoint.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/run.h"
#include "util/banned.h"

#define WAIT_DEFAULT_MS 60000L
#define WAIT_LIMIT_MS (86400L * 1000)

/*
 * A duration as SPEC writes them: seconds as a number, or a number with a
 * unit: "2", "2s", "500ms", "1m".  -1 when `text` is not one.
 */
static long duration_ms(const char *text)
{
	char *end;
	double v = strtod(text, &end), scale = 1000;

	if (end == text || !(v >= 0))
		return -1;
	if (!strcmp(end, "ms"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60000;
	else if (*end && strcmp(end, "s"))
		return -1;
	v *= scale;
	return v <= (double)WAIT_LIMIT_MS ? (long)(v + 0.5) : -1;
}

static void say_duration(df_buf *b, long ms)
{
	if (ms % 1000)
		df_buf_printf(b, "%.1fs", (double)ms / 1000);
	else
		df_buf_printf(b, "%lds", ms / 1000);
}

int cmd_db_wait(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *timeout = NULL, *sel;
	df_wait_result w;
	df_session s;
	df_buf t = DF_BUF_INIT;
	long ms = WAIT_DEFAULT_MS;
	char **ops;
	int nops, error, status;
	const struct cli_opt opts[] = {
		{ "--timeout", 1, &timeout, NULL },
		{ NULL, 0, NULL, NULL },
	};

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "'db wait' takes no arguments");
	if (timeout && (ms = duration_ms(timeout)) < 0)
		return cli_usage_error(ctx, "--timeout wants a duration (60, 60s, 500ms, 2m; at most "
			"a day), not '%s'", timeout);
	/* the target only: no connection, no migrations folder */
	if ((error = cli_session_open(&s, ctx, 0, false)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	sel = cli_env_arg(ctx);
	say_duration(&t, ms);
	cli_verbose(ctx, "Waiting up to %s for %s ...\n", t.ptr, s.target->redacted);
	error = df_wait_ready(&w, s.target->dsn, ms, ctx->run);
	json_object_set_new(ctx->result, "ready", json_boolean(error == 0));
	json_object_set_new(ctx->result, "waited_ms", json_integer(w.waited_ms));
	json_object_set_new(ctx->result, "attempts", json_integer(w.attempts));
	json_object_set_new(ctx->result, "timeout_ms", json_integer(ms));
	if (error == DF_EINTERRUPTED) {
		df_error_set(DF_EINTERRUPTED, "interrupted by %s while waiting for %s",
			df_run_signal_name(df_run_cancelled(ctx->run)), s.target->redacted);
		df_error_hint("run it again to wait again");
		status = cli_fail(ctx, error);
		goto out;
	}
	if (error < 0) {
		if (w.timed_out) {
			df_buf_truncate(&t, 0);
			say_duration(&t, ms);
			df_error_prefix("%s was not ready after %s (%u attempt%s); the last attempt said",
				s.target->redacted, t.ptr, w.attempts, w.attempts == 1 ? "" : "s");
		}
		status = cli_fail(ctx, error);
		goto out;
	}
	json_object_set_new(ctx->result, "database_exists", json_boolean(!w.database_missing));
	if (!strcmp(s.target->dsn->engine, "sqlite") && w.database_missing) {
		cli_say(ctx, "Ready: %s (the file does not exist yet; its folder does, and `devflow db "
			"migrate` creates it there)\n", s.target->redacted);
	} else if (w.database_missing) {
		cli_say(ctx, "Ready: the server of %s accepts connections%s, but the database '%s' does "
			"not exist yet (%s)\n", s.target->redacted,
			!strcmp(s.target->dsn->engine, "postgres") ? " and is out of recovery" : "",
			s.target->dsn->database, s.target->policy == DF_POLICY_LOCAL ?
			"`devflow db migrate` creates it under the local policy" :
			"creating it is a person's decision under this policy");
	} else {
		cli_say(ctx, "Ready: %s %s\n", s.target->redacted,
			!strcmp(s.target->dsn->engine, "postgres") ? "accepts connections and is out of recovery" :
			!strcmp(s.target->dsn->engine, "sqlite") ? "opens and answers" :
			"accepts connections and answers");
	}
	if (!w.database_missing || s.target->policy == DF_POLICY_LOCAL)
		cli_next(ctx, "devflow db %s%s", w.database_missing ? "migrate" : "status", sel);
	status = cli_finish(ctx, CLI_EXIT_OK);
out:
	df_buf_release(&t);
	df_session_close(&s);
	return status;
}
