/*
 * devflow db verify: the applied files match their checksums, no history
 * row is failed or running, no recorded file is gone, and the live schema
 * is the one the last migrate or rollback left (core/verify.c).
 * Exit 0 when all hold, 6 when the history needs a person, 1 for drift.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/verify.h"
#include "util/banned.h"

/* What to try next for one finding, in words; the caller frees. */
static char *hint_of(struct cli_ctx *ctx, const df_verify_finding *f)
{
	const char *e = cli_env_arg(ctx), *v = f->version && *f->version ? f->version : "VERSION";
	df_buf b = DF_BUF_INIT;

	switch (f->kind) {
	case DF_VERIFY_CHECKSUM:
		df_buf_printf(&b, "restore the file as it was applied (git), or, if the edit is meant, "
			"accept it: devflow db resolve %s --applied%s", v, e);
		break;
	case DF_VERIFY_MISSING:
		df_buf_printf(&b, "restore the file (git), or, if its changes are gone from the database, "
			"forget its row: devflow db resolve %s --rolled-back%s", v, e);
		break;
	case DF_VERIFY_FAILED:
		df_buf_printf(&b, "check which of its statements took effect (devflow db status%s), then "
			"devflow db resolve %s --applied or --rolled-back%s", e, v, e);
		break;
	case DF_VERIFY_RUNNING:
		df_buf_printf(&b, "if no run holds the migration lock (devflow db status%s names a holder), "
			"it was interrupted: check which of its statements took effect, then devflow db "
			"resolve %s --applied or --rolled-back%s", e, v, e);
		break;
	default:
		df_buf_printf(&b, "the schema changed outside devflow: find who changed it, then undo "
			"the change or capture it in a migration (devflow db create NAME%s); devflow db "
			"status%s lists the changes", e, e);
		break;
	}
	return df_buf_detach(&b);
}

int cmd_db_verify(int argc, char **argv, struct cli_ctx *ctx)
{
	df_verify_report rep = DF_VERIFY_REPORT_INIT;
	df_session s;
	char **ops;
	int nops, error, status = CLI_EXIT_OK;
	size_t person = 0;
	const df_verify_finding *first = NULL;
	json_t *list;
	const struct cli_opt opts[] = { { NULL, 0, NULL, NULL } };

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "'db verify' takes no arguments");
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_PLAN, false)) < 0 ||
	    (error = df_verify(&rep, &s, 0)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	cli_say(ctx, "%s%s%s · %s · policy %s\n", cli_c(ctx, "bold"), s.target->env, cli_c(ctx, "reset"),
		s.target->redacted, df_policy_name(s.target->policy));
	list = json_array();
	for (size_t i = 0; i < rep.nr; i++) {
		const df_verify_finding *f = &rep.findings[i];
		json_t *o = json_object();
		char *hint = hint_of(ctx, f);
		if (df_verify_needs_person(f->kind) && !person++)
			first = f;      /* the history first: it decides the exit status */
		json_object_set_new(o, "kind", json_string(df_verify_kind_name(f->kind)));
		json_object_set_new(o, "object", json_string(f->object));
		if (f->version)
			json_object_set_new(o, "version", json_string(f->version));
		if (f->change)
			json_object_set_new(o, "change", json_string(*f->change == '+' ? "added" :
				*f->change == '-' ? "removed" : "changed"));
		json_object_set_new(o, "message", json_string(f->message));
		json_object_set_new(o, "hint", cli_json_str(hint));
		json_array_append_new(list, o);
		if (!i)
			cli_say(ctx, "\n%sverify found %zu problem%s:%s\n", cli_c(ctx, "red"), rep.nr,
				rep.nr == 1 ? "" : "s", cli_c(ctx, "reset"));
		cli_say(ctx, "  %-18s %s\n    %s\n    hint: %s\n", df_verify_kind_name(f->kind),
			f->change ? f->change : f->object, f->message, hint ? hint : "");
		free(hint);
	}
	json_object_set_new(ctx->result, "applied", json_integer((json_int_t)rep.applied));
	json_object_set_new(ctx->result, "findings", list);
	json_object_set_new(ctx->result, "drift", rep.drift < 0 ? json_null() : json_boolean(rep.drift));
	if (rep.drift < 0)
		json_object_set_new(ctx->result, "drift_reason", cli_json_str(rep.drift_reason));
	json_object_set_new(ctx->result, "schema_recorded_at", cli_json_str(rep.recorded_at));

	if (!rep.nr) {
		cli_say(ctx, "\n%sVerified:%s %zu applied migration%s match%s %s file%s; no failed or running "
			"row; ", cli_c(ctx, "green"), cli_c(ctx, "reset"), rep.applied,
			rep.applied == 1 ? "" : "s", rep.applied == 1 ? "es" : "", rep.applied == 1 ? "its" : "their",
			rep.applied == 1 ? "" : "s");
		if (rep.drift < 0 && !rep.applied && !s.plan->problems_nr)
			cli_say(ctx, "nothing is applied yet, so there is no schema to compare\n");
		else if (rep.drift == 0)
			cli_say(ctx, "the schema is as devflow left it (recorded %s)\n",
				rep.recorded_at ? rep.recorded_at : "after the last migrate");
		else
			cli_say(ctx, "the schema was not compared: %s\n", rep.drift_reason ? rep.drift_reason :
				"nothing recorded");
		status = cli_finish(ctx, CLI_EXIT_OK);
		goto out;
	}

	/* the history needs a person: a question, as status asks it */
	if (person) {
		const df_problem *blk = df_plan_blocker(s.plan);
		char *holder = NULL;
		df_ask *ask = NULL;
		df_conn_lock_holder(s.conn, s.cfg->table, &holder);
		if (blk) {
			df_wf_blocker_ask(&ask, s.plan, blk, holder != NULL);
			if (ask)
				cli_ask(ctx, ask);
		}
		free(holder);
	}
	if (!first)
		first = &rep.findings[0];
	{
		json_t *err = json_object();
		char *hint = hint_of(ctx, first);
		df_buf msg = DF_BUF_INIT;
		const char *kind = first->kind == DF_VERIFY_RUNNING ? "failed_migration" :
			df_verify_kind_name(first->kind);

		df_buf_printf(&msg, "verify failed: %s", first->message);
		if (rep.nr > 1)
			df_buf_printf(&msg, " (and %zu more finding%s)", rep.nr - 1, rep.nr == 2 ? "" : "s");
		json_object_set_new(err, "kind", json_string(kind));
		json_object_set_new(err, "message", json_string(msg.ptr));
		json_object_set_new(err, "hint", cli_json_str(hint));
		json_object_set_new(ctx->result, "ok", json_false());
		json_object_set_new(ctx->result, "error", err);
		fflush(stdout);
		fprintf(stderr, "%serror:%s %s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"), msg.ptr);
		if (hint)
			fprintf(stderr, "%shint:%s %s\n", cli_c(ctx, "yellow"), cli_c(ctx, "reset"), hint);
		free(hint);
		df_buf_release(&msg);
	}
	status = cli_finish(ctx, person ? CLI_EXIT_NEEDS_RESOLVE : CLI_EXIT_FAILED);
out:
	df_verify_report_release(&rep);
	df_session_close(&s);
	return status;
}
