/*
 * `db migrate` and `db rollback`: flags in, the workflow of core/workflow.c,
 * and its two renderings, text for people (as events arrive) and the JSON
 * document (from the result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/review.h"
#include "util/banned.h"

int cli_apply(int argc, char **argv, struct cli_ctx *ctx, bool rollback);

/* ---- the text sink ---------------------------------------------------------- */

struct text_sink {
	struct cli_ctx *ctx;
	const df_wf_opts *o;
	bool progress_shown;
};

static const char *tone_color(df_tone t)
{
	switch (t) {
	case DF_TONE_OK: return "green";
	case DF_TONE_WARN: return "yellow";
	case DF_TONE_BAD: return "red";
	case DF_TONE_BOLD: return "bold";
	default: return NULL;
	}
}

static void clear_progress(struct text_sink *t)
{
	if (t->progress_shown)
		fprintf(stderr, "\r\033[K");
	t->progress_shown = false;
}

static void migration_line(struct cli_ctx *ctx, const df_wf_event *ev)
{
	const df_migration *m = ev->mig;
	const df_review_result *r = ev->review;

	cli_say(ctx, "  %s%s%s %s%s\n", cli_c(ctx, "bold"), m->repeatable ? "repeatable" : m->version,
		cli_c(ctx, "reset"), m->name, m->no_transaction ? "  (no transaction)" : "");
	if (ev->n > 4 * 1024 * 1024) {
		cli_say(ctx, "      - run a large migration (%lld MB)\n", ev->n >> 20);
	} else if (r) {
		for (size_t k = 0; k < r->actions.nr; k++)
			cli_say(ctx, "      - %s\n", r->actions.v[k]);
	}
	for (size_t i = 0; r && i < r->nr_findings; i++) {
		const df_review_finding *f = &r->findings[i];
		if (f->risk >= DF_RISK_MEDIUM || ctx->verbose)
			cli_say(ctx, "      %s! %s%s (%s risk, line %d): %s\n",
				cli_c(ctx, f->risk == DF_RISK_HIGH ? "red" : "yellow"), f->rule,
				cli_c(ctx, "reset"), df_review_risk_name(f->risk), f->line, f->message);
	}
}

/* The "Schema changes:" block: what the run changed, or why that is not known. */
static void schema_block(struct cli_ctx *ctx, const df_wf_event *ev)
{
	const df_diff *d = ev->diff;

	if (!d) {
		cli_say(ctx, "\n%sSchema changes: not known%s (%s)\n", cli_c(ctx, "yellow"),
			cli_c(ctx, "reset"), ev->text ? ev->text : "the schema was not read");
		return;
	}
	if (!d->nr) {
		cli_say(ctx, "\nSchema changes: none\n");
		return;
	}
	cli_say(ctx, "\n%sSchema changes:%s\n", cli_c(ctx, "bold"), cli_c(ctx, "reset"));
	for (size_t i = 0; i < d->nr; i++) {
		const df_change *c = &d->v[i];
		cli_say(ctx, "  %c %s %s%s\n", c->op == DF_CHANGE_CREATE ? '+' : c->op == DF_CHANGE_DROP ?
			'-' : '~', df_change_op_name(c->op), c->object,
			c->op == DF_CHANGE_DROP && c->kind == DF_OBJ_TABLE ? "  (its rows are gone)" : "");
		/* a table's columns: what changed, not how (a rebuild is not what ran) */
		for (size_t k = 0; k < c->columns.nr; k++)
			cli_say(ctx, "      %s\n", c->columns.v[k]);
		if (c->op != DF_CHANGE_ALTER || !c->sql || c->columns.nr)
			continue;
		/* what the alter is: its first statements, one line each */
		for (const char *p = c->sql, *nl; *p && p < c->sql + 600; p = nl + 1) {
			if (!(nl = strchr(p, '\n')))
				nl = p + strlen(p) - 1;
			cli_say(ctx, "      %.*s\n", (int)(nl - p < 160 ? nl - p : 160), p);
		}
	}
}

static void text_event(void *data, const df_wf_event *ev)
{
	struct text_sink *t = data;
	struct cli_ctx *ctx = t->ctx;
	const df_wf_opts *o = t->o;

	switch (ev->kind) {
	case DF_EV_TEXT: {
		const char *c = tone_color(ev->tone);
		clear_progress(t);
		if (ev->tone == DF_TONE_WARN && !strncmp(ev->text, "warning:", 8)) {
			/* warnings reach a person even with --json or -q */
			fprintf(stderr, "%s%s\n", ev->text[0] == '\n' ? "" : "", ev->text);
			break;
		}
		cli_say(ctx, "%s%s%s\n", c ? cli_c(ctx, c) : "", ev->text, c ? cli_c(ctx, "reset") : "");
		break;
	}
	case DF_EV_HEADER:
		cli_say(ctx, "%s%s%s\n", cli_c(ctx, "bold"), ev->text, cli_c(ctx, "reset"));
		cli_say(ctx, "%s %lld migration%s%s:\n", o->dry_run ? "Dry-run of" : o->rollback ?
			"Reverting" : "Applying", ev->n, ev->n == 1 ? "" : "s", o->dry_run ? (o->rollback ?
			" (DOWN, rolled back)" : " (rolled back afterwards)") : "");
		break;
	case DF_EV_MIGRATION:
		migration_line(ctx, ev);
		break;
	case DF_EV_BANNER:
		fprintf(stderr, "\n%s  PRODUCTION  %s %s %lld migration%s on %s\n"
			"Have the rollback plan ready: `devflow db rollback%s --dry-run` shows it.\n\n",
			cli_c(ctx, "banner"), cli_c(ctx, "reset"), o->rollback ? "reverting" : "applying",
			ev->n, ev->n == 1 ? "" : "s", ev->text, cli_env_arg(ctx));
		break;
	case DF_EV_PROGRESS:
		cli_ticker_statement(ev->mig ? ev->mig->file : NULL, ev->n + 1);
		if (ctx->tty_err && !ctx->quiet && !ctx->json && ev->n && ev->n % 1000 == 0) {
			fprintf(stderr, "\r  … %lld statements", ev->n);
			t->progress_shown = true;
		}
		break;
	case DF_EV_BACKUP_PROGRESS:
		if (ctx->tty_err && !ctx->quiet && !ctx->json) {
			fprintf(stderr, "\r\033[K  %.1f MB written", (double)ev->n / 1e6);
			t->progress_shown = true;
		}
		break;
	case DF_EV_STEP: {
		const df_run_step *st = ev->step;
		cli_ticker_idle();
		clear_progress(t);
		cli_say(ctx, "  %s%s%s %s %s (%ld statement%s, %ld ms)\n",
			cli_c(ctx, st->error ? "red" : "green"), st->error ? "FAILED " : o->dry_run ?
			"ok     " : o->rollback ? "reverted" : "applied", cli_c(ctx, "reset"),
			st->mig->repeatable ? "repeatable" : st->mig->version, st->mig->name, st->statements,
			st->statements == 1 ? "" : "s",
			st->duration_ms);
		cli_trace_say(ctx, &st->trace);
		break;
	}
	case DF_EV_SCHEMA:
		schema_block(ctx, ev);
		break;
	}
}

/* ---- the JSON document --------------------------------------------------------- */

static void set_tri(json_t *o, const char *key, int v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_boolean(v));
}

/* schema_changes: [{op, kind, object, sql, destroys_data, columns}], or null and why. */
static void schema_json(json_t *doc, const df_wf_result *r)
{
	json_t *list;

	if (!r->schema_changes) {
		json_object_set_new(doc, "schema_changes", json_null());
		json_object_set_new(doc, "schema_changes_unknown", cli_json_str(r->schema_unknown));
	} else {
		list = json_array();
		for (size_t i = 0; i < r->schema_changes->nr; i++) {
			const df_change *c = &r->schema_changes->v[i];
			json_t *j = json_object();
			json_object_set_new(j, "op", json_string(df_change_op_name(c->op)));
			json_object_set_new(j, "kind", json_string(df_obj_kind_name(c->kind)));
			json_object_set_new(j, "object", json_string(c->object));
			json_object_set_new(j, "sql", cli_json_str(c->sql));
			json_object_set_new(j, "destroys_data", json_boolean(c->destroys_data));
			if (c->columns.nr)
				json_object_set_new(j, "columns", cli_json_strlist(&c->columns));
			json_array_append_new(list, j);
		}
		json_object_set_new(doc, "schema_changes", list);
	}
	if (r->schema_recorded >= 0)
		json_object_set_new(doc, "schema_recorded", json_boolean(r->schema_recorded));
	if (r->schema_warning)
		json_object_set_new(doc, "schema_warning", json_string(r->schema_warning));
}

static void result_json(struct cli_ctx *ctx, const df_wf_opts *o, const df_wf_result *r)
{
	json_t *doc = ctx->result, *steps = json_array(), *findings = json_array();

	for (size_t i = 0; r->reviews && i < r->n; i++)
		for (size_t k = 0; r->reviews[i] && k < r->reviews[i]->nr_findings; k++)
			json_array_append_new(findings, cli_finding_json(&r->reviews[i]->findings[k]));
	if (r->n || !r->nothing_to_do)
		json_object_set_new(doc, "findings", findings);
	else
		json_decref(findings);
	for (size_t i = 0; i < r->run.nr; i++) {
		const df_run_step *st = &r->run.steps[i];
		json_t *j;
		if (st->error)
			continue;
		j = json_object();
		json_object_set_new(j, "version", json_string(st->mig->version));
		json_object_set_new(j, "name", json_string(st->mig->name));
		json_object_set_new(j, "duration_ms", json_integer(st->duration_ms));
		json_object_set_new(j, "statements", json_integer(st->statements));
		if (st->trace.nr)       /* dry-runs: what the server did, statement by statement */
			json_object_set_new(j, "trace", cli_trace_json(&st->trace));
		json_array_append_new(steps, j);
	}
	json_object_set_new(doc, o->rollback ? "reverted" : "applied", steps);
	if (r->run.nr && r->run.failed_step < r->run.nr) {
		const df_run_step *st = &r->run.steps[r->run.failed_step];
		json_t *j = json_object();
		json_object_set_new(j, "version", json_string(st->mig->version));
		json_object_set_new(j, "name", json_string(st->mig->name));
		json_object_set_new(j, "statements_done", json_integer(st->statements));
		json_object_set_new(doc, "failed", j);
	}
	if (r->pending_after >= 0)
		json_object_set_new(doc, "pending_after", json_integer(r->pending_after));
	if (r->missing) {
		json_t *m = json_array();
		for (unsigned int bit = 1; bit < (1u << DF_GATE_COUNT); bit <<= 1)
			if (r->missing & bit)
				json_array_append_new(m, json_string(df_gate_name(bit)));
		json_object_set_new(doc, "missing", m);
	}
	if (r->dry_run_receipt >= 0)
		json_object_set_new(doc, "dry_run_receipt",
			json_string(df_receipt_state_name((df_receipt_state)r->dry_run_receipt)));
	if (r->backup_receipt >= 0)
		json_object_set_new(doc, "backup_receipt",
			json_string(df_receipt_state_name((df_receipt_state)r->backup_receipt)));
	if (r->backup_path)
		json_object_set_new(doc, "backup", json_string(r->backup_path));
	if (r->shadow)
		json_object_set_new(doc, "shadow_database", json_string(r->shadow));
	if (r->ran && !o->dry_run && (r->snap_before || r->snap_after)) {
		json_t *sn = json_object();
		json_object_set_new(sn, "before", cli_json_str(r->snap_before));
		json_object_set_new(sn, "after", cli_json_str(r->snap_after));
		json_object_set_new(sn, "before_model", cli_json_str(r->snap_before_model));
		json_object_set_new(sn, "after_model", cli_json_str(r->snap_after_model));
		json_object_set_new(doc, "snapshots", sn);
	}
	if (r->ran)
		schema_json(doc, r);
	set_tri(doc, "verified", r->verified);
	if (r->rollback_plan)
		json_object_set_new(doc, "rollback_plan", json_string(r->rollback_plan));
	set_tri(doc, "smoke", r->smoke);
	set_tri(doc, "after_migrate", r->after_migrate);
}

/* ---- the command ---------------------------------------------------------------- */

int cli_apply(int argc, char **argv, struct cli_ctx *ctx, bool rollback)
{
	df_wf_opts o = { .rollback = rollback };
	const char *steps = NULL;
	struct cli_opt opts[] = {
		{ "--dry-run", 0, NULL, &o.dry_run },
		{ "--to", 1, &o.to, NULL },
		{ "--yes", 0, NULL, &o.yes },
		{ "-y", 0, NULL, &o.yes },
		{ "--confirm", 1, &o.confirm, NULL },
		{ "--backup", 0, NULL, &o.backup },
		{ rollback ? "--steps" : "--no-such-option", 1, &steps, NULL },
		{ rollback ? "--no-such-option" : "--out-of-order", 0, NULL, &o.out_of_order },
		{ "--accept-risk", 0, NULL, &o.accept_risk },
		{ NULL, 0, NULL, NULL },
	};
	struct text_sink ts = { .ctx = ctx, .o = &o };
	df_wf_sink sink = { .event = text_event, .ask = cli_prompt, .data = &ts };
	df_wf_result res = { 0 };
	df_session s;
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (steps && o.to)
		return cli_usage_error(ctx, "--steps and --to cannot be used together");
	if (steps) {
		char *end;
		o.steps = strtol(steps, &end, 10);
		if (*end || o.steps < 1)
			return cli_usage_error(ctx, "--steps wants a positive number, not '%s'", steps);
	}
	if (o.to && !*o.to)
		return cli_usage_error(ctx, "--to wants a version");
	o.interactive = ctx->tty_in && !ctx->json;
	o.select = cli_env_arg(ctx);
	json_object_set_new(ctx->result, "dry_run", json_boolean(o.dry_run));
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_ENSURE | CLI_S_LOCK |
		CLI_S_PLAN | CLI_S_WRITES, o.yes || o.confirm)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	cli_ticker_start(ctx);
	error = df_wf_run(&res, &s, &o, &sink);
	cli_ticker_stop();
	clear_progress(&ts);
	result_json(ctx, &o, &res);
	for (size_t i = 0; i < res.next.nr; i++)
		cli_next(ctx, "%s", res.next.v[i]);
	if (res.ask) {
		cli_ask(ctx, res.ask);
		res.ask = NULL;
	}
	status = error < 0 ? cli_fail(ctx, error) : cli_finish(ctx, 0);
out:
	df_wf_result_release(&res);
	df_session_close(&s);
	return status;
}
