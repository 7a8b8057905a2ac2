/*
 * The workflow of `db migrate` and `db rollback`: pre-flight (history,
 * versions), preview and review, the policy's gates (all decided at once),
 * backup, df__wf_snapshot, the run, verification, rollback plan, hooks.
 *
 * df_wf_prepare decides and reads only; df_wf_execute runs.  Both report
 * data: events to a sink, the suggested next steps and questions for a
 * person as df_cmd and df_ask.  The words are the front end's.  What comes
 * after the run (rollback plan, snapshots, schema changes, hooks):
 * wf_after.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/verify.h"
#include "devflow/workflow.h"
#include "core/wf_ask.h"
#include "core/wf_drift.h"
#include "core/wf_int.h"
#include "util/banned.h"

const char *df_gate_name(unsigned int bit)
{
	switch (bit) {
	case DF_GATE_DRY_RUN: return "dry_run";
	case DF_GATE_BACKUP: return "backup";
	case DF_GATE_ACCEPT_RISK: return "accept_risk";
	case DF_GATE_CONFIRMATION: return "confirmation";
	case DF_GATE_ACCEPT_DRIFT: return "accept_drift";
	default: return "unknown";
	}
}

void df_wf_result_release(df_wf_result *r)
{
	for (size_t i = 0; r->reviews && i < r->n; i++)
		df_review_result_free(r->reviews[i]);
	free(r->reviews);
	free(r->migs);
	df_run_result_release(&r->run);
	df_cmd_list_release(&r->next);
	df_ask_free(r->ask);
	free(r->backup_path);
	free(r->rollback_plan);
	free(r->snap_before);
	free(r->snap_after);
	free(r->shadow);
	df_diff_free(r->schema_changes);
	free(r->schema_unknown);
	free(r->schema_record_error);
	free(r->snap_before_model);
	free(r->snap_after_model);
	df__wf_drift_free(r->drift);
	df_live_sessions_release(&r->using);
	memset(r, 0, sizeof(*r));
}

static void result_init(df_wf_result *res)
{
	memset(res, 0, sizeof(*res));
	res->dry_run_receipt = res->backup_receipt = -1;
	res->pending_after = -1;
	res->verified = -1;
	res->smoke = res->after_migrate = -1;
	res->schema_recorded = -1;
}

/* ---- reporting ------------------------------------------------------------ */

static int next(df_wf_result *res, df_cmd *c)
{
	return df_cmd_list_push(&res->next, c);
}

/* ---- preview --------------------------------------------------------------- */

/*
 * The runner's progress: statements as they run, and a step event as each
 * migration ends.  Non-zero after a migration: the sink said stop, and the
 * runner starts no other.
 */
static int progress(void *data, const df_migration *m, int phase, long done, long total)
{
	struct wf *w = data;
	const df_run_result *run = &w->res->run;

	(void)total;
	if (phase == DF_PROGRESS_STATEMENT || phase == DF_PROGRESS_START)
		df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_PROGRESS, .mig = m,
			.n = phase == DF_PROGRESS_START ? 0 : done });
	else if (phase == DF_PROGRESS_DONE && run->nr && run->steps[run->nr - 1].mig == m)
		df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_STEP, .step = &run->steps[run->nr - 1] });
	return phase == DF_PROGRESS_DONE && w->stop;
}

static void backup_progress(void *data, uint64_t bytes)
{
	struct wf *w = data;

	df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_BACKUP_PROGRESS, .n = (long long)bytes });
}

/*
 * Review what will run: the UP of a migrate, the DOWN of a rollback (a
 * rollback destroys what its migration created).  One read and one parse
 * for the actions and the findings.
 */
static df_review_result *review_one(df_session *s, const df_wf_opts *o, const df_migration *m)
{
	const df_section *sec = o->rollback ? &m->down : &m->up;
	df_review_result *r = NULL;
	df_review_opts ro;
	df_identity id;
	char *text;
	size_t len;

	if (!sec->path || sec->len > 16 * 1024 * 1024 || df_section_read(&text, &len, sec) < 0) {
		df_error_clear();
		return NULL;
	}
	df_review_opts_init(&ro);
	ro.dialect = df_conn_dialect(s->conn);
	if (ro.dialect == DF_DIALECT_POSTGRES && df_conn_identity(s->conn, &id) == 0 &&
	    id.version_num >= 90000)
		ro.pg_version = id.version_num / 10000;
	ro.in_transaction = !m->no_transaction;
	ro.format = (int)m->format;
	ro.base_line = sec->line;
	ro.disabled = &s->cfg->review_disabled;
	if (ro.dialect != DF_DIALECT_SQLITE) {          /* current column types */
		ro.column_type = df_review_column_type_conn;
		ro.column_type_payload = s->conn;
	}
	if (df_review_run(&r, &ro, sec->path, text, len) < 0)
		r = NULL;
	free(text);
	return r;
}

static int review(df_wf_plan *p, df_session *s)
{
	df_wf_result *res = &p->res;

	if (!(res->reviews = calloc(res->n + 1, sizeof(*res->reviews))))
		return df_error_oom();
	for (size_t i = 0; i < res->n; i++) {
		const df_migration *m = res->migs[i];
		const df_section *sec = p->o.rollback ? &m->down : &m->up;
		if (sec->len <= 16 * 1024 * 1024)
			res->reviews[i] = review_one(s, &p->o, m);
		for (size_t k = 0; res->reviews[i] && k < res->reviews[i]->nr_findings; k++)
			if (res->reviews[i]->findings[k].risk == DF_RISK_HIGH)
				res->high_risk++;
	}
	p->previewed = true;
	return 0;
}

int df_wf_preview(const df_wf_plan *p, const df_session *s, const df_wf_sink *sink)
{
	struct wf w = { .sink = sink };
	const df_wf_result *res = &p->res;

	if (res->nothing_to_do)
		return df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_NOTHING_TO_DO });
	if (!p->previewed)
		return 0;
	df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_HEADER, .text = s->target->env,
		.detail = s->target->redacted, .policy = s->target->policy, .n = (long long)res->n });
	for (size_t i = 0; i < res->n; i++) {
		const df_migration *m = res->migs[i];
		const df_section *sec = p->o.rollback ? &m->down : &m->up;
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_MIGRATION, .mig = m,
			.review = res->reviews ? res->reviews[i] : NULL, .n = (long long)sec->len });
	}
	if (res->drift && res->drift->drifted == 1)
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_DRIFT, .drift = res->drift, .policy = p->policy,
			.n = p->policy != DF_POLICY_LOCAL && !p->o.dry_run && !p->o.accept_drift });
	if (res->using.nr)
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_SESSIONS_USING, .using = &res->using });
	df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_PREVIEW_END, .n = (long long)res->high_risk });
	if (p->gated && p->policy == DF_POLICY_PRODUCTION)
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_BANNER, .text = s->target->env,
			.n = (long long)res->n });
	return w.stop;
}

/* ---- gates ------------------------------------------------------------------ */

static bool confirmed_by_flags(const df_session *s, const df_wf_opts *o)
{
	const char *env = s->target->env;

	if (s->target->policy == DF_POLICY_STAGING)
		return o->yes || (o->confirm && !strcmp(o->confirm, env));
	return o->confirm && (!strcmp(o->confirm, "production") || !strcmp(o->confirm, env));
}

/*
 * Decide every gate of the policy at once.  0: go on (p->take_backup says
 * whether a backup must run first); DF_EGATE: refused, with res->missing,
 * and `next` or `ask` that satisfy all of them.  Reads only.
 */
static int gates(df_wf_plan *p, df_session *s)
{
	df_wf_result *res = &p->res;
	const df_wf_opts *o = &p->o;
	df_policy pol = s->target->policy;
	df_receipt_state st;
	long age;
	int error;

	p->take_backup = false;
	if (pol == DF_POLICY_LOCAL)
		return 0;
	if ((error = df_gate_dryrun(&st, &age, s->conn, s->cfg->table, p->set_hash, s->server,
		s->cfg->dryrun_max_age)) < 0)
		return error;
	res->dry_run_receipt = (int)st;
	if (st != DF_RECEIPT_OK)
		res->missing |= DF_GATE_DRY_RUN;
	if (pol == DF_POLICY_PRODUCTION) {
		if ((error = df_gate_backup(&st, &age, s->conn, s->cfg->table, s->server,
			s->cfg->backup_max_age)) < 0)
			return error;
		res->backup_receipt = (int)st;
		if (st != DF_RECEIPT_OK) {
			if (o->backup)
				p->take_backup = true;
			else
				res->missing |= DF_GATE_BACKUP;
		}
	}
	if (res->high_risk && !o->accept_risk)
		res->missing |= DF_GATE_ACCEPT_RISK;
	if (res->drift && res->drift->drifted == 1 && !o->accept_drift)
		res->missing |= DF_GATE_ACCEPT_DRIFT;
	if (!confirmed_by_flags(s, o))
		res->missing |= DF_GATE_CONFIRMATION;
	p->gated = true;
	if (!res->missing)
		return 0;
	if (res->missing & DF_GATE_DRY_RUN) {
		/* the agent can do this step itself; the person-gates come after it */
		if ((error = next(res, df__wf_with(df__wf_command(o, df__wf_verb(o)),
			DF_OPT_DRY_RUN, NULL))) < 0)
			return error;
		p->stop = DF_WF_STOP_GATE_DRY_RUN;
		return df_error_set(DF_EGATE, "the %s policy needs a dry-run before this run; its "
			"receipt is %s", df_policy_name(pol),
			df_receipt_state_name((df_receipt_state)res->dry_run_receipt));
	}
	if ((error = df__wf_consent_ask(res, o, s, (res->missing & DF_GATE_BACKUP) != 0)) < 0)
		return error;
	p->stop = DF_WF_STOP_GATE_PERSON;
	return df_error_set(DF_EGATE, "the %s policy leaves this run to a person", df_policy_name(pol));
}

void df_wf_plan_consent(df_wf_plan *p)
{
	if (p->stop != DF_WF_STOP_GATE_PERSON)
		return;
	p->take_backup = p->take_backup || (p->res.missing & DF_GATE_BACKUP);
	if (p->res.missing & DF_GATE_ACCEPT_DRIFT)
		p->res.drift_accepted = 2;      /* the person answered the question that named it */
	p->res.missing = 0;
	df_ask_free(p->res.ask);
	p->res.ask = NULL;
	p->stop = DF_WF_STOP_NONE;
	p->error = 0;
	df_error_clear();
}

int df_wf_plan_decline(df_wf_plan *p)
{
	df_ask_free(p->res.ask);
	p->res.ask = NULL;
	p->stop = DF_WF_STOP_NOT_CONFIRMED;
	p->error = df_error_set(DF_EGATE, "not confirmed; nothing ran");
	return p->error;
}

void df_wf_record_refusal(df_session *s, const df_wf_plan *p)
{
	if (p->stop == DF_WF_STOP_GATE_DRY_RUN || p->stop == DF_WF_STOP_GATE_PERSON ||
	    p->stop == DF_WF_STOP_NOT_CONFIRMED)
		df_session_audit_failure(s, p->o.rollback ? "rollback" : p->o.source && p->o.source->verb ?
			p->o.source->verb : "migrate", "refused",
			df_error_last() ? df_error_last()->message : "refused");
}

/* ---- prepare ------------------------------------------------------------------- */

/* The history must be settled first (exit 6): a question, never a decision. */
static int check_history(df_wf_plan *p, df_session *s)
{
	const df_problem *blk = df_plan_blocker(s->plan);
	int code;

	if (!blk)
		return 0;
	code = blk->kind == DF_PROBLEM_CHECKSUM ? DF_ECHECKSUM :
		blk->kind == DF_PROBLEM_MISSING ? DF_EMISSING : DF_EFAILED;
	df_wf_blocker_ask(&p->res.ask, s->plan, blk, false);
	p->stop = DF_WF_STOP_HISTORY;
	return df_error_set(code, "%s", blk->message);
}

static int select_migrations(df_wf_plan *p, df_session *s)
{
	const df_wf_opts *o = &p->o;
	df_run_opts ro = { 0 };

	if (o->to) {
		/* a typo must not become "revert everything": the version must exist */
		bool known = df_migration_set_find(s->set, o->to) != NULL;
		for (size_t i = 0; !known && i < s->ledger->nr; i++)
			known = !df_version_cmp(s->ledger->v[i].version, o->to);
		if (!known) {
			p->stop = DF_WF_STOP_UNKNOWN_VERSION;
			return df_error_set(DF_EUSAGE, "no migration has version '%s'", o->to);
		}
	}
	if (!o->rollback && !o->out_of_order) {
		for (size_t i = 0; i < s->plan->problems_nr; i++)
			if (s->plan->problems[i].kind == DF_PROBLEM_OUT_OF_ORDER) {
				df_cmd *then = df__wf_with(df__wf_command(o, DF_VERB_MIGRATE), DF_OPT_OUT_OF_ORDER, NULL);
				if (o->dry_run)
					then = df__wf_with(then, DF_OPT_DRY_RUN, NULL);
				df_ask_free(p->res.ask);
				if ((p->res.ask = df__wf_ask_new(DF_ASK_OUT_OF_ORDER, NULL, s->plan->problems[i].message))) {
					df__wf_ask_option(p->res.ask, DF_ANSWER_YES, then);
					df__wf_ask_option(p->res.ask, DF_ANSWER_NO, NULL);
				} else {
					df_cmd_free(then);
				}
				p->stop = DF_WF_STOP_OUT_OF_ORDER;
				return df_error_set(DF_EGATE, "%s", s->plan->problems[i].message);
			}
	}
	ro.flags = (o->dry_run ? DF_RUN_DRY_RUN : 0) | (o->out_of_order ? DF_RUN_OUT_OF_ORDER : 0);
	ro.to_version = o->to;
	ro.steps = o->steps;
	ro.table = s->cfg->table;
	return df_run_select(&p->res.migs, &p->res.n, s->plan, &ro, o->rollback);
}

int df_wf_prepare(df_wf_plan **out, df_session *s, const df_wf_opts *o)
{
	const df_source *src = o->source ? o->source : df_source_sql_folder();
	df_wf_plan *p = calloc(1, sizeof(*p));
	df_wf_result *res;
	int error;

	*out = p;
	if (!p)
		return df_error_oom();
	res = &p->res;
	result_init(res);
	p->o = *o;
	p->policy = s->target->policy;
	/* a source without a history (seeds) runs what it lists */
	if (src->history ? (error = check_history(p, s)) < 0 || (error = select_migrations(p, s)) < 0 :
	    (error = df_source_pending(src, &res->migs, &res->n)) < 0)
		goto out;
	if (!res->n) {
		res->nothing_to_do = true;
		res->pending_after = s->plan ? (long)s->plan->pending : -1;
		goto out;
	}
	/* Irreversible migrations stop a rollback before anything runs. */
	for (size_t i = 0; o->rollback && i < res->n; i++)
		if (!df_migration_reversible(res->migs[i])) {
			const df_migration *m = res->migs[i];
			df_cmd *c = df_cmd_new(DF_VERB_CREATE);
			df_buf name = DF_BUF_INIT;
			df_buf_printf(&name, "revert_%s", m->name);
			if (c && (df_buf_oom(&name) || df_cmd_arg(c, name.ptr) < 0)) {
				df_cmd_free(c);
				c = NULL;
			}
			df_buf_release(&name);
			if ((error = next(res, df__wf_with(c, DF_OPT_SELECT, NULL))) < 0)
				goto out;
			p->stop = DF_WF_STOP_IRREVERSIBLE;
			p->stop_mig = m;
			error = df_error_set(DF_EGATE, "migration '%s' is irreversible: it has no DOWN section", m->file);
			goto out;
		}
	/* Read each selected file once, for the checks, preview, run and plan:
	 * files up to 1 MiB, 64 MiB in all; the rest stream from disk. */
	for (size_t i = 0, kept = 0; i < res->n && kept < 64 * 1024 * 1024; i++) {
		df_migration *m = (df_migration *)res->migs[i];        /* the session's set owns it */
		df_migration_preload(m, 1024 * 1024);
		kept += m->text ? (size_t)m->size : 0;
	}
	/* Every selected file must split before anything runs. */
	if ((error = src->check(src, res->migs, res->n, df_conn_dialect(s->conn), o->rollback)) < 0)
		goto out;
	if ((error = review(p, s)) < 0)
		goto out;
	/* drift: shown by the preview, a gate of staging and production */
	if (src->history && (error = df__wf_drift_check(res, o, s)) < 0)
		goto out;
	/* Staging and production: who uses what the run drops (seed 002,
	 * rule 10), for the preview, the dry-run and the ask.  Not knowing is
	 * not a reason to stop: the preview then names no session. */
	if (p->policy != DF_POLICY_LOCAL &&
	    df_sessions_using(&res->using, s->conn, res->migs, res->reviews, res->n) < 0)
		df_error_clear();
	/* the set a receipt is bound to: what this run selects */
	if (!src->history)
		df_migs_hash(p->set_hash, res->migs, res->n, src->verb ? src->verb : "migrate");
	else
		df_plan_pending_hash(p->set_hash, s->plan, o->to);
	if (o->rollback)
		df_migs_hash(p->set_hash, res->migs, res->n, "rollback");
	if (!o->dry_run && (error = gates(p, s)) < 0)
		goto out;
out:
	if (error < 0 && !p->stop)
		p->stop = DF_WF_STOP_ERROR;
	p->error = error < 0 ? error : 0;
	res->error = p->error;
	return p->error;
}

void df_wf_plan_free(df_wf_plan *p)
{
	if (!p)
		return;
	df_wf_result_release(&p->res);
	free(p);
}

/* ---- execute ------------------------------------------------------------------- */

static void audit_run(struct wf *w, int error, const char *set_hash)
{
	df_wf_result *res = w->res;
	df_buf summary = DF_BUF_INIT, det = DF_BUF_INIT;
	const char *op = w->o->dry_run ? "dry-run" : w->op;
	size_t done = error ? res->run.failed_step : res->n;

	if (w->o->source && !w->o->source->history && !w->o->dry_run && error)  /* seeds */
		df_buf_printf(&summary, "seeded %zu of %zu file%s, then failed", done, res->n,
			res->n == 1 ? "" : "s");
	else if (w->o->source && !w->o->source->history && !w->o->dry_run)
		df_buf_printf(&summary, "seeded %zu file%s", res->n, res->n == 1 ? "" : "s");
	else
		/* a dry-run of a rollback says so: history tells it from a migrate's */
		df_buf_printf(&summary, "%s %zu of %zu migration%s%s", w->o->dry_run ?
			(w->o->rollback ? "dry-ran the rollback of" : "dry-ran") :
			w->o->rollback ? "reverted" : "applied", done, res->n, res->n == 1 ? "" : "s",
			error ? ", then failed" : "");
	if (error)
		df__wf_drift_summary(&summary, w->res, w->o);   /* the detail is the error's */
	if (error == DF_ELOCKED) {
		/* another program's lock on the database (SQLite): the row is
		 * written if the database can be written now, else the output
		 * says why it is not */
		df_error *saved = df_error_save();
		if (df_session_audit(w->s, op, "refused", summary.ptr, NULL,
				saved && saved->message ? saved->message : NULL) < 0) {
			bool locked = df_error_last() && df_error_last()->code == DF_ELOCKED;
			df__wf_warn(w, DF_WARN_AUDIT, NULL, locked ? "this refusal is not in the history: the "
				"database was still locked when devflow tried to record it" :
				df_error_last()->message);
		}
		df_error_restore(saved);
	} else if (error) {
		df_session_audit_failure(w->s, op, error == DF_EINTERRUPTED ? "interrupted" : "failed",
			summary.ptr);
	} else {
		char *receipt = df_receipt_dryrun(set_hash);
		if (res->snap_before || res->snap_after)
			df_buf_printf(&det, "snapshots: before=%s after=%s",
				res->snap_before ? res->snap_before : "-", res->snap_after ? res->snap_after : "-");
		df__wf_drift_audit(&det, w->res, w->o, w->s);
		if (df_session_audit(w->s, op, "ok", summary.ptr, receipt, det.size ? det.ptr : NULL) < 0) {
			df__wf_warn(w, DF_WARN_AUDIT, NULL, df_error_last()->message);
			df_error_clear();
		}
		free(receipt);
	}
	df_buf_release(&summary);
	df_buf_release(&det);
}

/* Re-read the history: every migration of the run recorded as expected and
 * clean by db verify's history check (core/verify.c; `next` verifies the schema). */
static int verify(struct wf *w)
{
	df_session *s = w->s;
	df_verify_report rep = DF_VERIFY_REPORT_INIT;
	size_t ok = 0, n = w->res->n;
	int error;

	if ((error = df_session_replan(s)) < 0)
		return error;
	w->res->pending_after = (long)s->plan->pending;
	if (w->o->dry_run)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < s->plan->nr; k++)
			if (s->plan->items[k].mig == w->res->migs[i] &&
			    (w->o->rollback ? s->plan->items[k].state == DF_STATE_PENDING :
			     s->plan->items[k].state == DF_STATE_APPLIED && s->plan->items[k].checksum_ok))
				ok++;
	error = df_verify(&rep, s, DF_VERIFY_HISTORY_ONLY);
	for (size_t f = 0; error == 0 && f < rep.nr; f++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(rep.findings[f].object, w->res->migs[i]->file) && ok > 0) {
				ok--;
				break;
			}
	df_verify_report_release(&rep);
	if (error < 0)
		return error;
	w->res->verified = ok == n;
	if (ok != n)
		return df_error_set(DF_EFAILED, "verification failed: %zu of %zu migration%s %s recorded "
			"as expected", ok, n, n == 1 ? "" : "s", ok == 1 ? "is" : "are");
	df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_VERIFIED, .n = (long long)n });
	return 0;
}

/* After a dry-run: what comes next, and who decides it. */
static int after_dry_run(struct wf *w)
{
	df_session *s = w->s;
	df_policy pol = s->target->policy;
	bool need_backup = false;

	df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_DRY_RUN_PASSED, .policy = pol });
	if (pol == DF_POLICY_LOCAL)
		return next(w->res, df__wf_command(w->o, w->verb));
	if (pol == DF_POLICY_PRODUCTION) {
		df_receipt_state st;
		long age;
		int error;
		if ((error = df_gate_backup(&st, &age, s->conn, s->cfg->table, s->server,
			s->cfg->backup_max_age)) < 0)
			return error;
		w->res->backup_receipt = (int)st;
		need_backup = st != DF_RECEIPT_OK;
	}
	return df__wf_consent_ask(w->res, w->o, s, need_backup);
}

/* The sink said stop before the run started: nothing ran, and the audit
 * log says it was interrupted. */
static int stopped(struct wf *w, const char *set_hash)
{
	w->res->stopped = true;
	df_error_set(DF_EINTERRUPTED, "stopped before the %s started; nothing ran",
		w->o->dry_run ? "dry-run" : w->op);
	audit_run(w, DF_EINTERRUPTED, set_hash);
	return DF_EINTERRUPTED;
}

int df_wf_execute(df_wf_result *res, df_session *s, df_wf_plan *p, const df_wf_sink *sink)
{
	const df_wf_opts *o = &p->o;
	const df_source *src = o->source ? o->source : df_source_sql_folder();
	struct wf w = { .s = s, .o = o, .sink = sink, .res = res,
		.verb = df__wf_verb(o),
		.op = o->rollback ? "rollback" : src->verb ? src->verb : "migrate" };
	df_conn *shadow = NULL;
	bool snapshots;
	int error;

	*res = p->res;
	result_init(&p->res);
	if (p->error || res->nothing_to_do) {
		res->error = p->error;
		return p->error;
	}
	if (!o->dry_run && (error = df_binding_write(s->conn, s->cfg->table, s->target->env,
		s->target->policy)) < 0)
		goto out;
	if (p->take_backup) {
		df_backup_info info = { 0 };
		if (df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_BACKUP_START })) {
			error = stopped(&w, p->set_hash);
			goto out;
		}
		if ((error = df_session_backup(s, NULL, false, &info, backup_progress, &w)) < 0) {
			df_error_prefix("backup before %s failed; nothing was %s", w.op,
				o->rollback ? "reverted" : "applied");
			df_backup_info_release(&info);
			goto out;
		}
		res->backup_path = info.path;
		info.path = NULL;
		df_backup_info_release(&info);
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_BACKUP_DONE, .text = res->backup_path });
	}

	/* MariaDB cannot roll DDL back: dry-run in a throwaway shadow database */
	if (o->dry_run && !df_conn_has(s->conn, DF_CAP_TRANSACTIONAL_DDL)) {
		/* nothing that reaches past the copy runs in it (src/schema/sandbox.c) */
		if ((error = df_schema_dry_run_check(s->conn, res->migs, res->n, o->rollback)) < 0 ||
		    (error = df_shadow_open(&shadow, &res->shadow, s->conn, s->target->dsn)) < 0)
			goto out;
		df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_SHADOW, .text = res->shadow });
	}
	if (w.stop) {
		error = stopped(&w, p->set_hash);
		goto out;
	}
	/* a source without a history (seeds) has no schema of its own to follow */
	w.before = src->history ? df__wf_read_model(&w, shadow ? shadow : s->conn, "before") : NULL;
	snapshots = !o->dry_run && s->target->policy != DF_POLICY_LOCAL && src->history;
	if (snapshots)
		res->snap_before = df__wf_snapshot(&w, o->rollback ? "before-rollback" : "before-migrate",
			w.before, &res->snap_before_model);
	if (w.stop) {
		error = stopped(&w, p->set_hash);
		goto out;
	}
	{
		df_run_opts ro = { 0 };
		ro.flags = (o->dry_run ? DF_RUN_DRY_RUN : 0) | (o->out_of_order ? DF_RUN_OUT_OF_ORDER : 0) |
			(shadow ? DF_RUN_SHADOW : 0);
		ro.to_version = o->to;
		ro.steps = o->steps;
		ro.table = s->cfg->table;
		ro.mirror = s->mirror;          /* the tool's own rows (core/adopt.c) */
		ro.mirror_set = s->set;
		ro.progress = progress;
		ro.progress_data = &w;
		if (o->dry_run && !shadow && w.before) {
			ro.before_rollback = df__wf_read_after_in_tx;
			ro.before_rollback_data = &w;
		}
		ro.source = src;
		error = df_run_apply(&res->run, shadow ? shadow : s->conn, res->migs, res->n, &ro, o->rollback);
		res->ran = true;
		res->stopped = w.stop && error == DF_EINTERRUPTED;
	}
	if (shadow && w.before && !error)
		w.after = df__wf_read_model(&w, shadow, "after");
	else if (!o->dry_run && error != DF_EINTERRUPTED && src->history)
		w.after = df__wf_read_model(&w, s->conn, "after");
	if (shadow) {
		df_error *saved = df_error_save();
		df_conn_close(shadow);
		shadow = NULL;
		if (df_shadow_drop(s->conn, res->shadow) < 0)
			df__wf_warn(&w, DF_WARN_SHADOW_DROP, res->shadow, NULL);
		if (saved)
			df_error_restore(saved);
		else
			df_error_clear();
	}
	if (snapshots)
		res->snap_after = df__wf_snapshot(&w, o->rollback ? "after-rollback" : "after-migrate",
			w.after, &res->snap_after_model);
	if (src->history)
		df__wf_schema_changes(&w, error);
	audit_run(&w, error, p->set_hash);
	if (error) {
		df_error *saved = df_error_save();
		if (src->history && df_session_replan(s) == 0)
			res->pending_after = (long)s->plan->pending;
		df_error_restore(saved);
		next(res, df__wf_command(o, DF_VERB_STATUS));
		goto out;
	}
	if (src->history && (error = verify(&w)) < 0)
		goto out;
	if (!o->dry_run && res->run.nr && src->history)
		df__wf_record_schema(&w);
	if (o->dry_run) {
		error = after_dry_run(&w);
		goto out;
	}
	if (!o->rollback && src->history) {
		if ((res->rollback_plan = df__wf_rollback_plan(&w)))
			df__wf_emit(&w, &(df_wf_event){ .kind = DF_EV_ROLLBACK_PLAN, .text = res->rollback_plan });
		else if (df_error_last())
			df__wf_warn(&w, DF_WARN_ROLLBACK_PLAN, NULL, df_error_last()->message);
		df_error_clear();
		if ((error = df__wf_after_hooks(&w)) < 0)
			goto out;
	}
	/* after a migrate: `db verify` checks what it left (core/verify.c) */
	next(res, df__wf_command(o, !o->rollback && src->history ? DF_VERB_VERIFY : DF_VERB_STATUS));
out:
	if (shadow) {
		df_error *saved = df_error_save();
		df_conn_close(shadow);
		df_shadow_drop(s->conn, res->shadow);
		df_error_restore(saved);
	}
	df_schema_free(w.before);
	df_schema_free(w.after);
	if (error < 0 && error != DF_EINTERRUPTED && df_run_cancelled(s->run)) {
		/* a step the run's cancel stopped (a statement cancelled on the
		 * server, SQLite's interrupt, a wait given up): the interrupt */
		df_error_prefix("interrupted by %s", df_run_signal_name(df_run_cancelled(s->run)));
		((df_error *)df_error_last())->code = DF_EINTERRUPTED;
		error = DF_EINTERRUPTED;
		if (!res->ran)
			df_session_audit_failure(s, o->dry_run ? "dry-run" : w.op, "interrupted",
				"interrupted before anything ran");
	}
	res->error = error;
	return error;
}

int df_wf_run(df_wf_result *res, df_session *s, const df_wf_opts *o, const df_wf_sink *sink)
{
	df_wf_plan *p = NULL;
	int error = df_wf_prepare(&p, s, o);

	if (!p) {
		result_init(res);
		res->error = error;
		return error;
	}
	if (sink && df_wf_preview(p, s, sink)) {
		df_wf_plan_free(p);
		result_init(res);
		res->stopped = true;
		return res->error = df_error_set(DF_EINTERRUPTED, "stopped before anything ran");
	}
	if (p->stop == DF_WF_STOP_GATE_PERSON && o->interactive && sink && sink->ask) {
		int answer = -1;
		if (sink->ask(p->res.ask, &answer, sink->payload) == 0 && answer >= 0 &&
		    (size_t)answer < p->res.ask->nr && p->res.ask->options[answer].kind == DF_ANSWER_YES)
			df_wf_plan_consent(p);
		else
			df_wf_plan_decline(p);
	}
	df_wf_record_refusal(s, p);
	error = df_wf_execute(res, s, p, sink);
	df_wf_plan_free(p);
	return error;
}
