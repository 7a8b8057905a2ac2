/* devflow db status: total / applied / pending / problems / lock holder. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/banned.h"

static const char *state_color(struct cli_ctx *ctx, df_mig_state s, bool ok)
{
	if (s == DF_STATE_APPLIED)
		return cli_c(ctx, ok ? "green" : "red");
	if (s == DF_STATE_PENDING)
		return cli_c(ctx, "yellow");
	return cli_c(ctx, "red");
}

int cmd_db_status(int argc, char **argv, struct cli_ctx *ctx)
{
	struct cli_session s;
	char **ops;
	int nops, error, status = 0;
	json_t *list, *problems, *lock;
	char *holder = NULL;
	df_dialect d;

	if (cli_parse(ctx, argc, argv, NULL, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "'db status' takes no arguments");
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_PLAN, false)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	d = df_conn_dialect(s.conn);
	df_conn_lock_holder(s.conn, s.cfg->table, &holder);

	json_object_set_new(ctx->result, "total", json_integer((json_int_t)s.set->nr));
	json_object_set_new(ctx->result, "applied", json_integer((json_int_t)s.plan->applied));
	json_object_set_new(ctx->result, "pending", json_integer((json_int_t)s.plan->pending));
	list = json_array();
	cli_say(ctx, "%s%s%s · %s · policy %s\n", cli_c(ctx, "bold"), s.target->env, cli_c(ctx, "reset"),
		s.target->redacted, df_policy_name(s.target->policy));
	cli_say(ctx, "%zu migrations: %zu applied, %zu pending\n\n", s.set->nr, s.plan->applied,
		s.plan->pending);
	for (size_t i = 0; i < s.plan->nr; i++) {
		const df_plan_item *it = &s.plan->items[i];
		const df_migration *m = it->mig;
		json_t *o = json_object(), *acts = json_array();
		df_strlist actions = DF_STRLIST_INIT;
		const char *version = m ? m->version : it->row->version;

		json_object_set_new(o, "version", json_string(version));
		json_object_set_new(o, "name", json_string(m ? m->name : it->row->filename));
		json_object_set_new(o, "file", m ? json_string(m->path) : json_null());
		json_object_set_new(o, "state", json_string(df_mig_state_name(it->state)));
		json_object_set_new(o, "applied_at", cli_json_str(it->row ? it->row->applied_at : NULL));
		json_object_set_new(o, "checksum_ok", json_boolean(it->checksum_ok));
		json_object_set_new(o, "reversible", json_boolean(m && df_migration_reversible(m)));
		if (m && it->state == DF_STATE_PENDING)
			cli_actions(&actions, m, d);
		for (size_t k = 0; k < actions.nr; k++)
			json_array_append_new(acts, json_string(actions.v[k]));
		json_object_set_new(o, "actions", acts);
		if (it->out_of_order)
			json_object_set_new(o, "out_of_order", json_true());
		if (it->state == DF_STATE_FAILED && it->row) {
			json_object_set_new(o, "statements_done", json_integer(it->row->statements_done));
			json_object_set_new(o, "error", cli_json_str(it->row->error));
		}
		json_array_append_new(list, o);

		cli_say(ctx, "  %s%-8s%s %-16s %s%s", state_color(ctx, it->state, it->checksum_ok),
			it->state == DF_STATE_APPLIED && !it->checksum_ok ? "edited" :
			df_mig_state_name(it->state), cli_c(ctx, "reset"), version,
			m ? m->name : it->row->filename,
			m && !df_migration_reversible(m) ? "  (irreversible)" : "");
		if (it->row && it->state == DF_STATE_APPLIED)
			cli_say(ctx, "  %s%s%s", cli_c(ctx, "dim"), it->row->applied_at, cli_c(ctx, "reset"));
		if (it->out_of_order)
			cli_say(ctx, "  (out of order)");
		cli_say(ctx, "\n");
		if (it->state == DF_STATE_FAILED && it->row)
			cli_say(ctx, "           %ld statement(s) ran before it stopped: %s\n",
				it->row->statements_done < 0 ? 0 : it->row->statements_done,
				it->row->error ? it->row->error : "interrupted");
		for (size_t k = 0; k < actions.nr; k++)
			cli_say(ctx, "           - %s\n", actions.v[k]);
		df_strlist_release(&actions);
	}
	json_object_set_new(ctx->result, "migrations", list);

	problems = json_array();
	if (s.plan->problems_nr)
		cli_say(ctx, "\n%sProblems:%s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"));
	for (size_t i = 0; i < s.plan->problems_nr; i++) {
		const df_problem *p = &s.plan->problems[i];
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(df_problem_kind_name(p->kind)));
		json_object_set_new(o, "version", json_string(p->version));
		json_object_set_new(o, "message", json_string(p->message));
		json_array_append_new(problems, o);
		cli_say(ctx, "  - %s\n", p->message);
	}
	json_object_set_new(ctx->result, "problems", problems);
	lock = json_object();
	json_object_set_new(lock, "held", json_boolean(holder != NULL));
	if (holder)
		json_object_set_new(lock, "holder", json_string(holder));
	json_object_set_new(ctx->result, "lock", lock);
	if (holder)
		cli_say(ctx, "\n%sThe migration lock is held by %s.%s\n", cli_c(ctx, "yellow"), holder,
			cli_c(ctx, "reset"));

	{
		const df_problem *blk = df_plan_blocker(s.plan);
		const char *e = cli_env_arg(ctx);
		if (blk) {
			if (blk->kind == DF_PROBLEM_MISSING)
				cli_next(ctx, "devflow db resolve %s --rolled-back%s", blk->version, e);
			else
				cli_next(ctx, "devflow db resolve %s --applied%s", blk->version, e);
		} else if (s.plan->pending) {
			cli_next(ctx, "devflow db review%s", e);
			cli_next(ctx, "devflow db migrate%s --dry-run", e);
		} else {
			cli_say(ctx, "\n%sUp to date:%s nothing to apply.\n", cli_c(ctx, "green"), cli_c(ctx, "reset"));
		}
	}
	status = cli_finish(ctx, 0);
out:
	free(holder);
	cli_session_close(&s);
	return status;
}
