/* devflow db status: total / applied / pending / problems / lock holder. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/isotime.h"
#include "devflow/review.h"
#include "util/banned.h"

static const char *state_color(struct cli_ctx *ctx, df_mig_state s, bool ok)
{
	if (s == DF_STATE_APPLIED)
		return cli_c(ctx, ok ? "green" : "red");
	if (s == DF_STATE_PENDING)
		return cli_c(ctx, "yellow");
	return cli_c(ctx, "red");
}

static void item(struct cli_ctx *ctx, json_t *list, const char *name, int ok, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "item", json_string(name));
	json_object_set_new(o, "ok", ok < 0 ? json_null() : json_boolean(ok));
	json_object_set_new(o, "message", json_string(msg));
	json_array_append_new(list, o);
	cli_say(ctx, "  [%s] %-30s %s\n", ok < 0 ? "?" : ok ? "x" : " ", name, msg);
}

/*
 * Seed 003's migration checklist, with what devflow knows: the pending set
 * dry-run (or applied) on staging, every migration reversible, a backup in
 * the last hour, a clean review.
 */
static void checklist(struct cli_ctx *ctx, df_session *s)
{
	json_t *list = json_array();
	char hash[65], msg[256];
	size_t irreversible = 0, high = 0;
	df_receipt_state st;
	long age;

	df_plan_pending_hash(hash, s->plan, NULL);
	cli_say(ctx, "\n%sMigration checklist (%s):%s\n", cli_c(ctx, "bold"), s->target->env, cli_c(ctx, "reset"));
	{
		/* tested on staging: a dry-run or a migrate of this very set there */
		df_target *stg = NULL;
		df_conn *conn = NULL;
		char *server = NULL;
		int ok = -1;
		snprintf(msg, sizeof(msg), "no staging environment configured");
		if (strcmp(s->target->env, "staging") &&
		    df_target_resolve(&stg, s->cfg, "staging", NULL) == 0 &&
		    df_conn_open(&conn, stg->dsn) == 0 && df_server_identity(&server, conn) == 0 &&
		    df_gate_dryrun(&st, &age, conn, s->cfg->table, hash, server, 7 * 24 * 3600) == 0) {
			ok = st == DF_RECEIPT_OK;
			snprintf(msg, sizeof(msg), "%s", ok ? "this pending set ran on staging (dry-run or migrate)" :
				"not run on staging yet: devflow db migrate --env staging --dry-run");
		}
		item(ctx, list, "migration tested on staging", ok, msg);
		free(server);
		df_conn_close(conn);
		df_target_free(stg);
	}
	for (size_t i = 0; i < s->plan->nr; i++) {
		const df_plan_item *it = &s->plan->items[i];
		df_review_result *r = NULL;
		df_review_opts ro;
		char *text;
		size_t len;
		if (it->state != DF_STATE_PENDING)
			continue;
		irreversible += !df_migration_reversible(it->mig);
		if (it->mig->up.len > 16 * 1024 * 1024 || df_section_read(&text, &len, &it->mig->up) < 0)
			continue;
		df_review_opts_init(&ro);
		ro.dialect = df_conn_dialect(s->conn);
		ro.in_transaction = !it->mig->no_transaction;
		if (df_review_run(&r, &ro, it->mig->path, text, len) == 0)
			for (size_t k = 0; k < r->nr_findings; k++)
				high += r->findings[k].risk == DF_RISK_HIGH;
		df_review_result_free(r);
		free(text);
	}
	if (irreversible)
		snprintf(msg, sizeof(msg), "%zu pending migration%s no DOWN section", irreversible,
			irreversible == 1 ? " has" : "s have");
	else
		snprintf(msg, sizeof(msg), "every pending migration has a DOWN section");
	item(ctx, list, "rollback script prepared", irreversible == 0, msg);
	if (df_gate_backup(&st, &age, s->conn, s->cfg->table, s->server, s->cfg->backup_max_age) == 0) {
		if (st == DF_RECEIPT_OK)
			snprintf(msg, sizeof(msg), "backup recorded %ld min ago", age / 60);
		else
			snprintf(msg, sizeof(msg), "no backup in the last hour: devflow db backup%s", cli_env_arg(ctx));
		item(ctx, list, "backup taken before migration", st == DF_RECEIPT_OK, msg);
	}
	if (high)
		snprintf(msg, sizeof(msg), "%zu high-risk finding%s: devflow db review%s", high,
			high == 1 ? "" : "s", cli_env_arg(ctx));
	else
		snprintf(msg, sizeof(msg), "no high-risk finding");
	item(ctx, list, "review clean", high == 0, msg);
	item(ctx, list, "team notified of migration window", -1, "yours to check");
	item(ctx, list, "monitoring in place", -1, "yours to check");
	json_object_set_new(ctx->result, "checklist", list);
}

/*
 * The parts of a holder description ("pid 1234 (devflow db migrate) on this
 * host, since 2026-...Z", "pid 88, user app, ...", "connection 12, user
 * root, ...") as fields for programs: pid, connection, command, user, since.
 */
static void holder_fields(json_t *lock, const char *h)
{
	static const char *const nums[] = { "pid", "connection" };
	const char *p, *e;

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(nums[i]);
		if (!strncmp(h, nums[i], n) && h[n] == ' ' && isdigit((unsigned char)h[n + 1]))
			json_object_set_new(lock, nums[i], json_integer(strtoll(h + n + 1, NULL, 10)));
	}
	if ((p = strchr(h, '(')) && (e = strchr(p, ')')) && e > p + 1)
		json_object_set_new(lock, "command", json_stringn(p + 1, (size_t)(e - p - 1)));
	if ((p = strstr(h, ", user ")) != NULL) {
		p += 7;
		json_object_set_new(lock, "user", json_stringn(p, strcspn(p, ", ")));
	}
	if ((p = strstr(h, "since ")) != NULL) {
		p += 6;
		json_object_set_new(lock, "since", json_stringn(p, strcspn(p, ", )")));
	}
}

/*
 * Another tool's history devflow has not recorded yet: the plan counts
 * those versions applied (or failed) already, and the next migrate
 * records them in devflow's history.
 */
static void adoptable(struct cli_ctx *ctx, df_session *s)
{
	json_t *o, *a;
	const char *tool = NULL;
	size_t n = 0;

	a = json_array();
	for (size_t i = 0; i < s->plan->nr; i++) {
		const df_plan_item *it = &s->plan->items[i];
		if (!it->mig || !it->row || !it->row->adopted_from)
			continue;
		tool = it->row->adopted_from;
		json_array_append_new(a, json_string(it->mig->version));
		n += it->state == DF_STATE_APPLIED;     /* a failed one has its own line below */
	}
	if (!tool && s->tool_reverted.nr)
		tool = df_tool_name(s->history_tool);
	if (!tool) {
		json_decref(a);
		return;
	}
	o = json_object();
	json_object_set_new(o, "tool", json_string(tool));
	json_object_set_new(o, "rolled_back", cli_json_strlist(&s->tool_reverted));
	for (size_t i = 0; i < s->tool_reverted.nr; i++)
		cli_say(ctx, "%s's %s no longer holds %s: rolled back with %s since devflow applied it, "
			"so it is pending again\n", tool, df_tool_table(s->history_tool), s->tool_reverted.v[i],
			tool);
	json_object_set_new(o, "table", json_string(df_tool_table(s->history_tool)));
	json_object_set_new(o, "versions", a);
	json_object_set_new(ctx->result, "adoptable", o);
	if (n)
		cli_say(ctx, "%s's %s records %zu migration%s as applied (marked \"(%s)\" below): devflow does "
		"not run %s, and `devflow db migrate` records %s in its own history\n", tool,
		df_tool_table(s->history_tool), n, n == 1 ? "" : "s", tool, n == 1 ? "it" : "them",
		n == 1 ? "it" : "them");
}

/*
 * The version of devflow's own tables: always in JSON; in the text when it
 * is not this devflow's (an older one is upgraded by the next migrate; a
 * newer one is read, never written).
 */
static void table_version(struct cli_ctx *ctx, df_session *s)
{
	int v = s->ledger ? s->ledger->table_version : DF_LEDGER_NONE;
	json_t *o = json_object();

	json_object_set_new(o, "database", v == DF_LEDGER_NONE ? json_null() : json_integer(v));
	json_object_set_new(o, "devflow", json_integer(DF_LEDGER_VERSION));
	json_object_set_new(ctx->result, "table_version", o);
	if (v > DF_LEDGER_VERSION)
		cli_say(ctx, "\n%sdevflow's tables are at version %d, newer than this devflow (version %d): "
			"upgrade devflow before writing to this database%s\n", cli_c(ctx, "yellow"), v,
			DF_LEDGER_VERSION, cli_c(ctx, "reset"));
	else if (v >= 1 && v < DF_LEDGER_VERSION)
		cli_say(ctx, "\ndevflow's tables are at version %d; the next migrate upgrades them to "
			"version %d\n", v, DF_LEDGER_VERSION);
}

struct stream {
	df_session *s;
	df_dialect d;
};

/*
 * "migrations": one object per migration, written as it is made: 10,000
 * migrations as a jansson tree cost ~20 MB and a third of the run.  The
 * layout is jansson's JSON_INDENT(2), two levels down.
 */
static void stream_migrations(FILE *out, struct cli_ctx *ctx, void *payload)
{
	const struct stream *st = payload;
	const df_plan *plan = st->s->plan;
	df_buf b = DF_BUF_INIT;

	fputc('[', out);
	for (size_t i = 0; i < plan->nr; i++) {
		const df_plan_item *it = &plan->items[i];
		const df_migration *m = it->mig;
		df_strlist actions = DF_STRLIST_INIT;

		if (m && it->state == DF_STATE_PENDING)
			cli_actions(&actions, m, st->d);
		df_buf_truncate(&b, 0);
		df_buf_puts(&b, i ? ",\n    {\n      \"version\": " : "\n    {\n      \"version\": ");
		df_buf_json_str(&b, m ? m->version : it->row->version);
		df_buf_puts(&b, ",\n      \"name\": ");
		df_buf_json_str(&b, m ? m->name : it->row->filename);
		df_buf_puts(&b, ",\n      \"file\": ");
		df_buf_json_str(&b, m ? m->path : NULL);
		df_buf_puts(&b, ",\n      \"state\": ");
		df_buf_json_str(&b, df_mig_state_name(it->state));
		if (it->row && it->row->adopted_from) {
			df_buf_puts(&b, ",\n      \"adopted_from\": ");
			df_buf_json_str(&b, it->row->adopted_from);
		}
		df_buf_puts(&b, ",\n      \"applied_at\": ");
		{
			char at[40];
			df_time_iso(at, sizeof(at), it->row ? it->row->applied_at : NULL);
			df_buf_json_str(&b, it->row && it->row->applied_at ? at : NULL);
		}
		df_buf_printf(&b, ",\n      \"checksum_ok\": %s,\n      \"reversible\": %s,\n      \"actions\": [",
			it->checksum_ok ? "true" : "false",
			m && df_migration_reversible(m) ? "true" : "false");
		for (size_t k = 0; k < actions.nr; k++) {
			df_buf_puts(&b, k ? ",\n        " : "\n        ");
			df_buf_json_str(&b, actions.v[k]);
		}
		df_buf_puts(&b, actions.nr ? "\n      ]" : "]");
		if (it->out_of_order)
			df_buf_puts(&b, ",\n      \"out_of_order\": true");
		if (it->down_edited)
			df_buf_puts(&b, ",\n      \"down_edited\": true");
		if (m && m->repeatable) {
			df_buf_puts(&b, ",\n      \"repeatable\": true");
			if (it->state == DF_STATE_PENDING && it->row)
				df_buf_puts(&b, ",\n      \"changed\": true");
		}
		if (it->state == DF_STATE_FAILED && it->row) {
			if (it->row->statements_done < 0)
				df_buf_puts(&b, ",\n      \"statements_done\": null");
			else
				df_buf_printf(&b, ",\n      \"statements_done\": %ld", it->row->statements_done);
			df_buf_puts(&b, ",\n      \"error\": ");
			df_buf_json_str(&b, it->row->error);
		}
		df_buf_puts(&b, "\n    }");
		df_strlist_release(&actions);
		if (ctx->dsn)
			df_dsn_scrub(ctx->dsn, b.ptr);
		fputs(b.ptr, out);
	}
	fputs(plan->nr ? "\n  ]" : "]", out);
	df_buf_release(&b);
}

/*
 * Drift (SPEC "Drift"): the live schema against the one devflow recorded
 * after the last migrate or rollback of this database.  `drift` is null,
 * with the reason, whenever that cannot be said; the schema is read only
 * when there is a record to compare it with.
 */
static int drift(struct cli_ctx *ctx, df_session *s)
{
	df_drift d = DF_DRIFT_INIT;
	int error;

	if ((error = df_session_drift(&d, s)) < 0)
		return error;
	json_object_set_new(ctx->result, "drift", d.drifted < 0 ? json_null() : json_boolean(d.drifted));
	if (d.drifted < 0) {
		json_object_set_new(ctx->result, "drift_reason", json_string(d.reason));
		cli_say(ctx, "\n%sDrift: unknown%s (%s)\n", cli_c(ctx, "dim"), cli_c(ctx, "reset"), d.reason);
		goto out;
	}
	json_object_set_new(ctx->result, "schema_recorded_at", cli_json_str(d.recorded_at));
	json_object_set_new(ctx->result, "drift_changes", cli_drift_changes_json(&d.lines));
	if (d.absorbed.nr) {
		json_t *a = json_object();
		json_object_set_new(a, "at", cli_json_str(d.recorded_at));
		json_object_set_new(a, "accepted_by", cli_json_str(d.absorbed_by));
		json_object_set_new(a, "changes", cli_drift_changes_json(&d.absorbed));
		json_object_set_new(ctx->result, "drift_absorbed", a);
	}
	if (!d.drifted) {
		cli_say(ctx, "\nSchema: as devflow left it (no drift since %s)\n",
			d.recorded_at ? d.recorded_at : "the last migrate");
	} else {
		cli_say(ctx, "\n%sDrift:%s the schema changed outside devflow since %s (+ added, - removed, "
			"~ changed):\n", cli_c(ctx, "red"), cli_c(ctx, "reset"), d.recorded_at ? d.recorded_at :
			"the last migrate");
		for (size_t i = 0; i < d.lines.nr; i++)
			cli_say(ctx, "  %s%s\n", d.lines.v[i][0] == ' ' ? "  " : "", d.lines.v[i]);
	}
	/* what the record took in: never "no drift" as if there never was one */
	if (d.absorbed.nr) {
		if (d.absorbed_by)
			cli_say(ctx, "%sThe migrate or rollback recorded at %s went over drift made outside "
				"devflow, accepted by %s:%s\n", cli_c(ctx, "yellow"), d.recorded_at ? d.recorded_at : "the last migrate",
				d.absorbed_by, cli_c(ctx, "reset"));
		else
			cli_say(ctx, "%sThe migrate or rollback recorded at %s went over drift made outside "
				"devflow, shown but not accepted by anyone (local policy):%s\n", cli_c(ctx, "yellow"),
				d.recorded_at ? d.recorded_at : "the last migrate", cli_c(ctx, "reset"));
		for (size_t i = 0; i < d.absorbed.nr; i++)
			cli_say(ctx, "  %s%s\n", d.absorbed.v[i][0] == ' ' ? "  " : "", d.absorbed.v[i]);
	}
out:
	df_drift_release(&d);
	return 0;
}

/* True when `filename` (a tracking row's) is one of the set's bad files. */
static bool bad_file(const df_migration_set *set, const char *filename)
{
	for (size_t i = 0; filename && i < set->bad_files.nr; i++) {
		const char *f = set->bad_files.v[i], *base = strrchr(f, '/');
		if (!strcmp(base ? base + 1 : f, filename))
			return true;
	}
	return false;
}

/* A MISSING problem of `version` whose row names a bad file. */
static bool missing_is_bad(const df_session *s, const char *version)
{
	for (size_t k = 0; k < s->plan->nr; k++) {
		const df_plan_item *it = &s->plan->items[k];
		if (!it->mig && it->row->version && version && !strcmp(it->row->version, version) &&
		    bad_file(s->set, it->row->filename))
			return true;
	}
	return false;
}

/*
 * Migration files that cannot be read: every one was named under Problems
 * and the others listed; the status itself is a usage error (exit 2).
 */
static int bad_files_error(struct cli_ctx *ctx, const df_migration_set *set)
{
	json_t *err = json_object();
	df_buf msg = DF_BUF_INIT;
	const char *hint = "fix each file named under Problems, or move it out of the migrations "
		"folder; the other migrations are listed as usual";

	if (set->bad_files.nr == 1)
		df_buf_puts(&msg, set->bad_messages.v[0]);
	else {
		/* each named: the message alone says what to fix */
		df_buf_printf(&msg, "%zu files cannot be read as migrations: ", set->bad_files.nr);
		for (size_t i = 0; i < set->bad_messages.nr; i++)
			df_buf_printf(&msg, "%s%s", i ? "; " : "", set->bad_messages.v[i]);
	}
	json_object_set_new(err, "kind", json_string("config"));
	json_object_set_new(err, "message", json_string(msg.ptr));
	json_object_set_new(err, "file", json_string(set->bad_files.v[0]));
	json_object_set_new(err, "hint", json_string(hint));
	json_object_set_new(ctx->result, "ok", json_false());
	json_object_set_new(ctx->result, "error", err);
	fflush(stdout);
	fprintf(stderr, "%serror:%s %s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"), msg.ptr);
	fprintf(stderr, "%shint:%s %s\n", cli_c(ctx, "yellow"), cli_c(ctx, "reset"), hint);
	df_buf_release(&msg);
	return cli_finish(ctx, CLI_EXIT_USAGE);
}

int cmd_db_status(int argc, char **argv, struct cli_ctx *ctx)
{
	struct stream stream;
	df_buf line = DF_BUF_INIT;
	df_session s;
	char **ops;
	int nops, error, status = 0;
	json_t *problems, *lock;
	char *holder = NULL;
	df_dialect d;
	bool exit_code = false;
	const struct cli_opt opts[] = {
		{ "--exit-code", 0, NULL, &exit_code },
		{ NULL, 0, NULL, NULL },
	};

	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "'db status' takes no arguments");
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_PLAN | CLI_S_CACHE |
		CLI_S_KEEP_BAD, false)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	d = df_conn_dialect(s.conn);
	df_conn_lock_holder(s.conn, s.cfg->table, &holder);
	adoptable(ctx, &s);

	json_object_set_new(ctx->result, "total", json_integer((json_int_t)s.set->nr));
	json_object_set_new(ctx->result, "applied", json_integer((json_int_t)s.plan->applied));
	json_object_set_new(ctx->result, "pending", json_integer((json_int_t)s.plan->pending));
	cli_say(ctx, "%s%s%s · %s · policy %s\n", cli_c(ctx, "bold"), s.target->env, cli_c(ctx, "reset"),
		s.target->redacted, df_policy_name(s.target->policy));
	cli_say(ctx, "%zu migration%s: %zu applied, %zu pending\n\n", s.set->nr, s.set->nr == 1 ? "" : "s",
		s.plan->applied, s.plan->pending);
	for (size_t i = 0; i < s.plan->nr; i++) {
		const df_plan_item *it = &s.plan->items[i];
		const df_migration *m = it->mig;
		df_strlist actions = DF_STRLIST_INIT;
		const char *version = m ? m->version : it->row->version;

		if (m && it->state == DF_STATE_PENDING && !ctx->quiet)
			cli_actions(&actions, m, d);
		/* one line, one write: 10,000 of them */
		df_buf_truncate(&line, 0);
		df_buf_printf(&line, "  %s%-8s%s %-16s %s%s", state_color(ctx, it->state, it->checksum_ok),
			it->state == DF_STATE_APPLIED && !it->checksum_ok ? "edited" :
			!m && bad_file(s.set, it->row->filename) ? "invalid" :
			df_mig_state_name(it->state), cli_c(ctx, "reset"),
			m && m->repeatable ? "repeatable" : version, m ? m->name : it->row->filename,
			m && m->repeatable ? (it->state == DF_STATE_PENDING && it->row ?
			"  (changed: runs again)" : "") : m && !df_migration_reversible(m) ? "  (irreversible)" : "");
		if (it->row && it->row->adopted_from)
			df_buf_printf(&line, "  (%s)", it->row->adopted_from);
		else if (it->row && it->state == DF_STATE_APPLIED) {
			char at[40];
			df_buf_printf(&line, "  %s%s%s", cli_c(ctx, "dim"),
				df_time_iso(at, sizeof(at), it->row->applied_at), cli_c(ctx, "reset"));
		}
		if (it->out_of_order)
			df_buf_puts(&line, "  (out of order)");
		if (it->down_edited)
			df_buf_puts(&line, "  (down edited since applied)");
		cli_say(ctx, "%s\n", line.ptr);
		if (it->state == DF_STATE_FAILED && it->row && it->row->statements_done < 0 &&
		    it->row->state == DF_ROW_FAILED && it->row->error)
			/* another tool's failed mark: it keeps no count of statements */
			cli_say(ctx, "           %s; check which of its statements took effect\n", it->row->error);
		else if (it->state == DF_STATE_FAILED && it->row && it->row->statements_done < 0)
			cli_say(ctx, "           interrupted (killed, or the connection was lost) while it ran; "
				"check which of its statements took effect\n");
		else if (it->state == DF_STATE_FAILED && it->row)
			cli_say(ctx, "           %ld statement%s ran before it stopped: %s\n",
				it->row->statements_done, it->row->statements_done == 1 ? "" : "s", it->row->error ? it->row->error : "interrupted");
		for (size_t k = 0; k < actions.nr; k++)
			cli_say(ctx, "           - %s\n", actions.v[k]);
		df_strlist_release(&actions);
	}
	/* files that are not migrations: listed too (a row of one shows above as invalid) */
	for (size_t i = 0; i < s.set->bad_files.nr; i++) {
		const char *f = s.set->bad_files.v[i], *base = strrchr(f, '/');
		bool shown = false;
		for (size_t k = 0; k < s.plan->nr && !shown; k++)
			shown = !s.plan->items[k].mig && bad_file(s.set, s.plan->items[k].row->filename) &&
				!strcmp(s.plan->items[k].row->filename, base ? base + 1 : f);
		if (!shown)
			cli_say(ctx, "  %sinvalid%s  %s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"), base ? base + 1 : f);
	}
	/* 10,000 migrations make a big JSON tree: stream them instead */
	stream.s = &s;
	stream.d = d;
	if (ctx->json) {
		ctx->stream_key = "migrations";
		ctx->stream = stream_migrations;
		ctx->stream_payload = &stream;
	}

	table_version(ctx, &s);
	problems = json_array();
	if (s.plan->problems_nr || s.set->bad_files.nr)
		cli_say(ctx, "\n%sProblems:%s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"));
	for (size_t i = 0; i < s.set->bad_files.nr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string("bad_file"));
		json_object_set_new(o, "version", json_null());
		json_object_set_new(o, "file", json_string(s.set->bad_files.v[i]));
		json_object_set_new(o, "message", json_string(s.set->bad_messages.v[i]));
		json_array_append_new(problems, o);
		cli_say(ctx, "  - %s\n", s.set->bad_messages.v[i]);
	}
	for (size_t i = 0; i < s.plan->problems_nr; i++) {
		const df_problem *p = &s.plan->problems[i];
		json_t *o;
		/* the row of a file that is there but bad: not "gone" (said above) */
		if (p->kind == DF_PROBLEM_MISSING && missing_is_bad(&s, p->version))
			continue;
		o = json_object();
		json_object_set_new(o, "kind", json_string(df_problem_kind_name(p->kind)));
		json_object_set_new(o, "version", json_string(p->version));
		json_object_set_new(o, "message", json_string(p->message));
		json_array_append_new(problems, o);
		cli_say(ctx, "  - %s\n", p->message);
	}
	json_object_set_new(ctx->result, "problems", problems);
	lock = json_object();
	json_object_set_new(lock, "held", json_boolean(holder != NULL));
	if (holder) {
		json_object_set_new(lock, "holder", json_string(holder));
		holder_fields(lock, holder);
	}
	json_object_set_new(ctx->result, "lock", lock);
	if (holder)
		cli_say(ctx, "\n%sThe migration lock is held by %s.%s\n", cli_c(ctx, "yellow"), holder,
			cli_c(ctx, "reset"));

	if ((error = drift(ctx, &s)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	if (s.target->policy == DF_POLICY_PRODUCTION && s.plan->pending)
		checklist(ctx, &s);
	{
		const df_problem *blk = df_plan_blocker(s.plan);
		const char *e = cli_env_arg(ctx);
		if (s.set->bad_files.nr) {
			/* every bad file is reported above; nothing runs until they are fixed */
		} else if (blk) {
			/* settling the history is a person's decision: a question, not a next step */
			df_ask *ask = NULL;
			df_wf_blocker_ask(&ask, s.plan, blk, holder != NULL);
			if (ask)
				cli_ask(ctx, ask);
			else if (holder)
				cli_say(ctx, "\n%s is being applied by the run that holds the lock; wait for it.\n",
					blk->version);
		} else if (s.plan->pending) {
			cli_next(ctx, "devflow db review%s", e);
			cli_next(ctx, "devflow db migrate%s --dry-run", e);
		} else {
			cli_say(ctx, "\n%sUp to date:%s nothing to apply.\n", cli_c(ctx, "green"), cli_c(ctx, "reset"));
		}
		/* --exit-code, as dbmate's status: 1 pending, 6 the history needs a person */
		if (exit_code && blk)
			status = CLI_EXIT_NEEDS_RESOLVE;
		else if (exit_code && s.plan->pending)
			status = CLI_EXIT_FAILED;
	}
	if (s.set->bad_files.nr) {
		status = bad_files_error(ctx, s.set);
		goto out;
	}
	/* the report itself succeeded: "ok" stays true whatever --exit-code says */
	json_object_set_new(ctx->result, "ok", json_true());
	status = cli_finish(ctx, status);
out:
	df_buf_release(&line);
	free(holder);
	df_session_close(&s);
	return status;
}
