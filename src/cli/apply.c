/*
 * `db migrate` and `db rollback`: flags in, the workflow of core/workflow.c,
 * and its two renderings, text for people (as events arrive) and the JSON
 * document (from the result).
 */
#include <stdarg.h>
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
	bool seeds;             /* db seed: no preview, a line per seed file */
	bool progress_shown;
	bool audit_failed;      /* the run's audit row (a dry-run's receipt) was not written */
};

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

/*
 * The preview's drift: what changed outside devflow since the last run
 * recorded the schema, and what the policy makes of it.  To stderr with
 * --json too: a person reading along must see it.
 */
static void drift_block(struct text_sink *t, const df_wf_event *ev)
{
	struct cli_ctx *ctx = t->ctx;
	const df_drift *d = ev->drift;
	FILE *f = ctx->json ? stderr : NULL;
	df_buf b = DF_BUF_INIT;

	df_buf_printf(&b, "\n%sDrift:%s the schema changed outside devflow since %s (+ added, "
		"- removed, ~ changed):\n", cli_c(ctx, "red"), cli_c(ctx, "reset"),
		d->recorded_at ? d->recorded_at : "the last migrate");
	for (size_t i = 0; i < d->lines.nr; i++)
		df_buf_printf(&b, "  %s%s\n", d->lines.v[i][0] == ' ' ? "  " : "", d->lines.v[i]);
	if (t->o->dry_run)
		df_buf_printf(&b, "The %s will go over it: the schema recorded after it takes it in%s.\n",
			t->o->rollback ? "rollback" : "migrate", ev->policy == DF_POLICY_LOCAL ? "" :
			" (the policy asks a person to accept it first: --accept-drift)");
	else if (ev->n)
		df_buf_printf(&b, "The %s policy asks a person to accept it before this run goes over it.\n",
			df_policy_name(ev->policy));
	else
		df_buf_printf(&b, "This run goes over it; the schema recorded after it takes it in "
			"(`devflow db status` still names it).\n");
	if (!df_buf_oom(&b)) {
		if (f) {
			if (!ctx->quiet)
				fputs(b.ptr, f);
		} else {
			cli_say(ctx, "%s", b.ptr);
		}
	}
	df_buf_release(&b);
}

/* "the schema devflow left was not recorded...": the JSON's schema_warning. */
static char *schema_warning(const char *error)
{
	df_buf b = DF_BUF_INIT;

	if (!error)
		df_buf_puts(&b, "the schema devflow left was not recorded (it could not be read)");
	else
		df_buf_printf(&b, "the schema devflow left was not recorded: %s", error);
	df_buf_puts(&b, "; `devflow db status` cannot tell drift until the next migrate or rollback");
	return df_buf_detach(&b);
}

/* A warning reaches a person even with --json or -q. */
static void warning(struct text_sink *t, const df_wf_event *ev)
{
	const df_wf_opts *o = t->o;
	const char *what = ev->text ? ev->text : "", *why = ev->detail ? ev->detail : "";
	char *w;

	clear_progress(t);
	switch (ev->warning) {
	case DF_WARN_SHADOW_DROP:
		fprintf(stderr, "warning: could not drop the throwaway database %s; "
			"`devflow doctor` lists it\n", what);
		break;
	case DF_WARN_SNAPSHOT:
		fprintf(stderr, "warning: no schema snapshot %s: %s\n", what, why);
		break;
	case DF_WARN_SNAPSHOT_MODEL:
		fprintf(stderr, "warning: no schema model beside the snapshot %s: %s\n", what, why);
		break;
	case DF_WARN_SCHEMA_READ:
		fprintf(stderr, "warning: cannot read the schema %s the %s (what ran is not "
			"affected): %s\n", what, o->dry_run ? "dry-run" : o->rollback ? "rollback" : "migrate", why);
		break;
	case DF_WARN_SCHEMA_RECORD:
		w = schema_warning(ev->detail);
		fprintf(stderr, "warning: %s\n", w ? w : "the schema devflow left was not recorded");
		free(w);
		break;
	case DF_WARN_ROLLBACK_PLAN:
		fprintf(stderr, "warning: no rollback plan written: %s\n", why);
		break;
	case DF_WARN_AUDIT:
		t->audit_failed = true;
		fprintf(stderr, "warning: %s\n", why);
		{
			json_t *a = json_object_get(t->ctx->result, "warnings");
			if (!a)
				json_object_set_new(t->ctx->result, "warnings", a = json_array());
			json_array_append_new(a, json_string(why));
		}
		break;
	default:
		fprintf(stderr, "warning: %s\n", why);
		break;
	}
}

/* A line for people, in a colour or none. */
static void line(struct text_sink *t, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(struct text_sink *t, const char *color, const char *fmt, ...)
{
	struct cli_ctx *ctx = t->ctx;
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	clear_progress(t);
	cli_say(ctx, "%s%s%s\n", color ? cli_c(ctx, color) : "", b.ptr ? b.ptr : "",
		color ? cli_c(ctx, "reset") : "");
	df_buf_release(&b);
}

/* The sessions using what the run drops: for people, and "sessions_using" in JSON. */
static void sessions_using(struct text_sink *t, const df_live_sessions *l)
{
	json_t *a = json_array();
	df_buf b = DF_BUF_INIT;

	line(t, "yellow", "\n%zu session%s %s using what this run drops:", l->nr,
		l->nr == 1 ? "" : "s", l->nr == 1 ? "is" : "are");
	for (size_t i = 0; i < l->nr; i++) {
		const df_live_session *s = &l->v[i];
		df_buf_truncate(&b, 0);
		cli_session_words(&b, s);
		line(t, NULL, "  %s", b.ptr);
		json_t *o = json_object();
		json_object_set_new(o, "table", json_string(s->table));
		json_object_set_new(o, "drops", json_string(s->column ? "column" : "table"));
		json_object_set_new(o, "version", json_string(s->version));
		json_object_set_new(o, "pid", json_string(s->pid));
		json_object_set_new(o, "user", json_string(s->user));
		json_object_set_new(o, "client", json_string(s->client));
		json_object_set_new(o, "state", json_string(s->state));
		json_object_set_new(o, "since", *s->since ? json_string(s->since) : json_null());
		json_object_set_new(o, "how", json_string(s->how));
		json_object_set_new(o, "certain", json_boolean(!s->maybe));
		json_array_append_new(a, o);
	}
	line(t, NULL, "A drop waits for their locks (and blocks every query behind it) or breaks "
		"them: let them finish first.");
	df_buf_release(&b);
	if (t->ctx->result)
		json_object_set_new(t->ctx->result, "sessions_using", a);
	else
		json_decref(a);
}

static int text_event(const df_wf_event *ev, void *payload)
{
	struct text_sink *t = payload;
	struct cli_ctx *ctx = t->ctx;
	const df_wf_opts *o = t->o;

	if (t->seeds && (ev->kind == DF_EV_HEADER || ev->kind == DF_EV_MIGRATION ||
	    ev->kind == DF_EV_BANNER))
		return 0;
	if (t->seeds && ev->kind == DF_EV_STEP) {
		const df_run_step *st = ev->step;
		cli_ticker_idle();
		clear_progress(t);
		if (!st->error)
			cli_say(ctx, "  %s%s%s %s (%ld statement%s)\n", cli_c(ctx, "green"),
				o->dry_run ? "dry-ran" : "seeded", cli_c(ctx, "reset"), st->mig->path,
				st->statements, st->statements == 1 ? "" : "s");
		return 0;
	}
	switch (ev->kind) {
	case DF_EV_HEADER:
		cli_say(ctx, "%s%s · %s · policy %s%s\n", cli_c(ctx, "bold"), ev->text, ev->detail,
			df_policy_name(ev->policy), cli_c(ctx, "reset"));
		cli_say(ctx, "%s %lld migration%s%s:\n", o->dry_run ? "Dry-run of" : o->rollback ?
			"Reverting" : "Applying", ev->n, ev->n == 1 ? "" : "s", o->dry_run ? (o->rollback ?
			" (DOWN, rolled back)" : " (rolled back afterwards)") : "");
		break;
	case DF_EV_MIGRATION:
		migration_line(ctx, ev);
		break;
	case DF_EV_SESSIONS_USING:
		sessions_using(t, ev->using);
		break;
	case DF_EV_PREVIEW_END:
		if (ev->n)
			line(t, "red", "\n%lld high-risk change%s: `devflow db review%s` explains each.",
				ev->n, ev->n == 1 ? "" : "s", o->select ? o->select : "");
		line(t, NULL, "%s", "");
		break;
	case DF_EV_NOTHING_TO_DO:
		line(t, "green", "Nothing to %s: %s", o->rollback ? "roll back" : "apply",
			o->rollback ? "no migration is applied" : "every migration is applied");
		break;
	case DF_EV_BANNER:
		fprintf(stderr, "\n%s  PRODUCTION  %s %s %lld migration%s on %s\n"
			"Have the rollback plan ready: `devflow db rollback%s --dry-run` shows it.\n\n",
			cli_c(ctx, "banner"), cli_c(ctx, "reset"), o->rollback ? "reverting" : "applying",
			ev->n, ev->n == 1 ? "" : "s", ev->text, cli_env_arg(ctx));
		break;
	case DF_EV_BACKUP_START:
		line(t, NULL, "Taking a backup first...");
		break;
	case DF_EV_BACKUP_DONE:
		line(t, NULL, "Backup written: %s\n", ev->text);
		break;
	case DF_EV_SHADOW:
		line(t, NULL, "Running in the throwaway database %s (MariaDB cannot roll DDL back).", ev->text);
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
	case DF_EV_DRIFT:
		drift_block(t, ev);
		break;
	case DF_EV_VERIFIED:
		if (ev->n == 1)
			line(t, "green", "\nVerified: the history records the migration%s.",
				o->rollback ? " as reverted" : " with its checksum");
		else
			line(t, "green", "\nVerified: the history records all %lld migrations%s.", ev->n,
				o->rollback ? " as reverted" : " with their checksums");
		break;
	case DF_EV_DRY_RUN_PASSED:
		if (t->audit_failed)
			line(t, "green", "\nDry-run passed: nothing was kept; the dry-run is not recorded.");
		else
			line(t, "green", "\nDry-run passed: nothing was kept; the dry-run is recorded%s.",
				ev->policy == DF_POLICY_LOCAL ? "" : " as the receipt the policy asks for");
		break;
	case DF_EV_ROLLBACK_PLAN:
		line(t, NULL, "Rollback plan written to %s", ev->text);
		break;
	case DF_EV_SMOKE:
		line(t, NULL, "Smoke test %s passed (%lld statement%s).", ev->text, ev->n, ev->n == 1 ? "" : "s");
		break;
	case DF_EV_AFTER_MIGRATE:
		line(t, NULL, "after_migrate command succeeded.");
		break;
	case DF_EV_WARNING:
		warning(t, ev);
		break;
	}
	return 0;
}

/* The rollback plan's words (core/workflow.c writes the file). */
static void rollback_doc(df_buf *doc, const df_wf_rollback_doc *d, void *payload)
{
	struct text_sink *t = payload;
	char *undo = cli_cmd_string(d->undo, t->o->select);

	df_buf_printf(doc, "# Rollback plan: %s, %s\n\nApplied %zu migration%s to %s (%s).\n\n"
		"To revert them all:\n\n    %s\n\n", d->env, d->stamp, d->n, d->n == 1 ? "" : "s",
		d->env, d->target, undo ? undo : "devflow db rollback");
	free(undo);
	for (size_t i = d->n; i-- > 0;) {
		const df_migration *m = d->migs[i];
		df_buf_printf(doc, "## %s %s\n\n", m->version, m->name);
		if (df_migration_reversible(m)) {
			char *down;
			size_t len;
			if (df_section_read(&down, &len, &m->down) == 0) {
				df_buf_puts(doc, "DOWN SQL:\n\n```sql\n");
				df_buf_put(doc, down, len);
				df_buf_puts(doc, "\n```\n\n");
				free(down);
			}
		} else {
			const df_review_result *r = d->reviews ? d->reviews[i] : NULL;
			df_buf_printf(doc, "IRREVERSIBLE: no DOWN section. To undo it, write a reverse "
				"migration (`devflow db create revert_%s`) or restore a backup.\n", m->name);
			for (size_t k = 0; r && k < r->actions.nr; k++)
				if (strstr(r->actions.v[k], "destroys data"))
					df_buf_printf(doc, "- lost for good: %s\n", r->actions.v[k]);
			df_buf_puts(doc, "\n");
		}
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
	if (r->schema_recorded == 0) {
		char *w = schema_warning(r->schema_record_error);
		json_object_set_new(doc, "schema_warning", cli_json_str(w));
		free(w);
	}
}

/* The gates' part of a workflow's JSON: missing, the receipts, the backup taken. */
void cli_gates_json(json_t *doc, const df_wf_result *r)
{
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
	cli_gates_json(doc, r);
	if (r->drift && r->drift->drifted == 1) {
		char who[DF_WHOAMI_MAX];
		json_object_set_new(doc, "drift", json_true());
		json_object_set_new(doc, "drift_since", cli_json_str(r->drift->recorded_at));
		json_object_set_new(doc, "drift_changes", cli_drift_changes_json(&r->drift->lines));
		if (r->drift_accepted && r->ran && !o->dry_run)
			json_object_set_new(doc, "drift_accepted_by", json_string(df_whoami(who, sizeof(who))));
	}
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

static void missing_text(df_buf *b, unsigned int missing)
{
	for (unsigned int bit = 1, k = 0; bit < (1u << DF_GATE_COUNT); bit <<= 1) {
		if (!(missing & bit))
			continue;
		df_buf_printf(b, "%s%s", k++ ? ", " : "",
			bit == DF_GATE_DRY_RUN ? "a recorded dry-run" :
			bit == DF_GATE_BACKUP ? "a recent backup (or --backup)" :
			bit == DF_GATE_ACCEPT_RISK ? "acceptance of the high-risk changes (--accept-risk)" :
			bit == DF_GATE_ACCEPT_DRIFT ? "acceptance of the drift (--accept-drift)" :
			"confirmation");
	}
}

/*
 * Why the workflow stopped before running, in words: the error's message
 * and hint (the core's are data), and the question's words.  `typed`: the
 * question the person declined wanted the word yes.
 */
static int stop_words(struct cli_ctx *ctx, const df_session *s, const df_wf_plan *p, bool typed)
{
	const df_wf_result *res = &p->res;
	const df_wf_opts *o = &p->o;
	const char *sel = o->select ? o->select : "";
	df_buf m = DF_BUF_INIT;
	char *then = NULL;
	int code = p->error;

	if (res->ask)
		cli_ask_words(res->ask, sel);
	switch (p->stop) {
	case DF_WF_STOP_HISTORY:
		if (res->ask)
			df_error_hint("%s", res->ask->why ? res->ask->why : res->ask->question);
		break;
	case DF_WF_STOP_UNKNOWN_VERSION:
		df_error_hint("`devflow db status%s` lists the versions", sel);
		break;
	case DF_WF_STOP_OUT_OF_ORDER:
		df_error_hint("applying it now changes history others may rely on; if that is "
			"intended, pass --out-of-order");
		break;
	case DF_WF_STOP_IRREVERSIBLE:
		df_error_hint("write the reverse as a new migration: devflow db create revert_%s",
			p->stop_mig->name);
		break;
	case DF_WF_STOP_GATE_DRY_RUN:
		missing_text(&m, res->missing);
		if (res->next.nr)
			then = cli_cmd_string(res->next.v[res->next.nr - 1], sel);
		df_error_set(code, "the %s policy needs %s before %s %s; the dry-run receipt is %s",
			df_policy_name(s->target->policy), m.ptr, o->rollback ? "reverting on" : "applying to",
			s->target->env, df_receipt_state_name((df_receipt_state)res->dry_run_receipt));
		df_error_hint("run the dry-run first: %s", then ? then : "");
		break;
	case DF_WF_STOP_GATE_PERSON:
		missing_text(&m, res->missing);
		df_error_set(code, "%s to %s needs %s, which a person must give", o->rollback ?
			"reverting" : "applying", s->target->env, m.ptr);
		if (res->ask && res->ask->nr)
			df_error_hint("answer the question: %s; then run: %s", res->ask->question,
				res->ask->options[0].then);
		break;
	case DF_WF_STOP_NOT_CONFIRMED:
		df_error_set(code, "not confirmed%s; nothing was %s",
			typed ? " (only the word 'yes' confirms)" : "", o->rollback ? "reverted" : "applied");
		break;
	default:
		break;
	}
	free(then);
	df_buf_release(&m);
	return code;
}

/*
 * The workflow as every command of the CLI runs it: prepare (reads only),
 * the preview, maybe ask the person at the terminal, word a stop and record
 * the refusal, execute.  *plan is NULL only when prepare could not start.
 */
static int drive(df_wf_result *res, df_wf_plan **plan, struct cli_ctx *ctx, df_session *s,
	const df_wf_opts *o, const df_wf_sink *sink)
{
	const char *sel = o->select ? o->select : "";
	df_wf_plan *p;
	int error;

	cli_ticker_start(ctx);
	if ((error = df_wf_prepare(plan, s, o)) < 0 && !*plan) {
		cli_ticker_stop();
		return error;
	}
	p = *plan;
	df_wf_preview(p, s, sink);
	if (p->stop) {
		bool typed = p->res.ask && p->res.ask->typed;
		if (p->stop == DF_WF_STOP_GATE_PERSON && o->interactive) {
			cli_ask_words(p->res.ask, sel);
			if (cli_prompt(NULL, p->res.ask->question, typed ? "yes" : NULL))
				df_wf_plan_consent(p);
			else
				df_wf_plan_decline(p);
		}
		if (p->stop) {
			stop_words(ctx, s, p, typed);
			df_wf_record_refusal(s, p);
		}
	}
	error = df_wf_execute(res, s, p, sink);
	cli_ticker_stop();
	return error;
}

/* The run's `next` (when `next`) and `ask`, in the CLI's words; the ask is the context's now. */
void cli_wf_suggest(struct cli_ctx *ctx, df_wf_result *res, const char *select, bool next)
{
	for (size_t i = 0; next && i < res->next.nr; i++) {
		char *c = cli_cmd_string(res->next.v[i], select);
		if (c)
			cli_next(ctx, "%s", c);
		free(c);
	}
	if (res->ask) {
		cli_ask(ctx, res->ask);
		res->ask = NULL;
	}
}

/* db seed: the seed files through the same workflow and gates (cmd_db_seed.c). */
int cli_seed_run(df_wf_result *res, struct cli_ctx *ctx, df_session *s, const df_wf_opts *o)
{
	struct text_sink ts = { .ctx = ctx, .o = o, .seeds = true };
	df_wf_sink sink = DF_WF_SINK_INIT;
	df_wf_plan *plan = NULL;
	int error;

	sink.event = text_event;
	sink.payload = &ts;
	error = drive(res, &plan, ctx, s, o, &sink);
	clear_progress(&ts);
	df_wf_plan_free(plan);
	return error;
}

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
		{ "--accept-drift", 0, NULL, &o.accept_drift },
		{ NULL, 0, NULL, NULL },
	};
	struct text_sink ts = { .ctx = ctx, .o = &o };
	df_wf_sink sink = DF_WF_SINK_INIT;
	df_wf_result res = { 0 };
	df_wf_plan *plan = NULL;
	df_session s;
	const char *sel;
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	sink.event = text_event;
	sink.rollback_doc = rollback_doc;
	sink.payload = &ts;
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
	o.select = sel = cli_env_arg(ctx);
	json_object_set_new(ctx->result, "dry_run", json_boolean(o.dry_run));
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_ENSURE | CLI_S_LOCK |
		CLI_S_PLAN | CLI_S_WRITES | (o.dry_run ? CLI_S_DRY : 0) | (rollback ? 0 : CLI_S_CREATE_DB),
		o.yes || o.confirm)) < 0) {
		status = cli_fail(ctx, error);
		goto out;
	}
	if ((error = drive(&res, &plan, ctx, &s, &o, &sink)) < 0 && !plan) {
		status = cli_fail(ctx, error);
		goto out;
	}
	clear_progress(&ts);
	result_json(ctx, &o, &res);
	if (o.dry_run && res.ran)
		json_object_set_new(ctx->result, "receipt_recorded", json_boolean(!ts.audit_failed));
	cli_wf_suggest(ctx, &res, sel, true);
	status = error < 0 ? cli_fail(ctx, error) : cli_finish(ctx, 0);
out:
	df_wf_result_release(&res);
	df_wf_plan_free(plan);
	df_session_close(&s);
	return status;
}
