/*
 * The workflow of `db migrate` and `db rollback`: pre-flight (history,
 * versions), preview and review, the policy's gates (all decided at once),
 * backup, snapshot, the run, verification, rollback plan, hooks.  Reports
 * to a sink; the suggested next steps and questions for a person are built
 * here, from the result, and nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/workflow.h"
#include "core/hook.h"
#include "util/fs.h"
#include "util/banned.h"

#define LARGE_SECTION (4 * 1024 * 1024)

const char *df_gate_name(unsigned int bit)
{
	switch (bit) {
	case DF_GATE_DRY_RUN: return "dry_run";
	case DF_GATE_BACKUP: return "backup";
	case DF_GATE_ACCEPT_RISK: return "accept_risk";
	case DF_GATE_CONFIRMATION: return "confirmation";
	default: return "unknown";
	}
}

void df_shell_quote(df_buf *out, const char *word)
{
	bool plain = *word != '\0';

	for (const char *p = word; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			"-_./:=@,+%", *p) != NULL;
	if (plain) {
		df_buf_puts(out, word);
		return;
	}
	df_buf_putc(out, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			df_buf_puts(out, "'\\''");
		else
			df_buf_putc(out, *p);
	}
	df_buf_putc(out, '\'');
}

void df_ask_free(df_ask *a)
{
	if (!a)
		return;
	free(a->question);
	free(a->why);
	for (size_t i = 0; i < a->nr; i++) {
		free(a->options[i].answer);
		free(a->options[i].then);
	}
	free(a);
}

static df_ask *ask_new(const char *question, const char *why)
{
	df_ask *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->question = strdup(question);
	a->why = why ? strdup(why) : NULL;
	return a;
}

static void ask_option(df_ask *a, const char *answer, const char *then)
{
	if (!a || a->nr >= sizeof(a->options) / sizeof(a->options[0]))
		return;
	a->options[a->nr].answer = strdup(answer);
	a->options[a->nr].then = then ? strdup(then) : NULL;
	a->nr++;
}

void df_wf_result_release(df_wf_result *r)
{
	for (size_t i = 0; r->reviews && i < r->n; i++)
		df_review_result_free(r->reviews[i]);
	free(r->reviews);
	free(r->migs);
	df_run_result_release(&r->run);
	df_strlist_release(&r->next);
	df_ask_free(r->ask);
	free(r->backup_path);
	free(r->rollback_plan);
	free(r->snap_before);
	free(r->snap_after);
	free(r->shadow);
	df_diff_free(r->schema_changes);
	free(r->schema_unknown);
	free(r->schema_warning);
	free(r->snap_before_model);
	free(r->snap_after_model);
	memset(r, 0, sizeof(*r));
}

/* ---- reporting ------------------------------------------------------------ */

struct wf {
	df_session *s;
	const df_wf_opts *o;
	const df_wf_sink *sink;
	df_wf_result *res;
	const char *verb;       /* "migrate" or "rollback" */
	df_schema *before, *after;      /* the schema models around the run */
};

static void emit(struct wf *w, const df_wf_event *ev)
{
	if (w->sink && w->sink->event)
		w->sink->event(w->sink->data, ev);
}

static void say(struct wf *w, df_tone tone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct wf *w, df_tone tone, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit(w, &(df_wf_event){ .kind = DF_EV_TEXT, .tone = tone, .text = b.ptr ? b.ptr : "" });
	df_buf_release(&b);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/*
 * "devflow db migrate<select> --to V <extra>": a command that keeps the
 * run's target selection and the set it selected.
 */
static char *command(struct wf *w, const char *verb, const char *extra)
{
	df_buf b = DF_BUF_INIT;

	bool same = !strcmp(verb, w->verb);

	df_buf_printf(&b, "devflow db %s%s", verb, w->o->select ? w->o->select : "");
	if (!same)
		goto extra;
	if (w->o->to) {
		df_buf_puts(&b, " --to ");
		df_shell_quote(&b, w->o->to);
	}
	if (w->o->rollback && w->o->steps > 0)
		df_buf_printf(&b, " --steps %ld", w->o->steps);
	if (!w->o->rollback && w->o->out_of_order)
		df_buf_puts(&b, " --out-of-order");
extra:
	if (extra && *extra)
		df_buf_printf(&b, " %s", extra);
	return df_buf_detach(&b);
}

static void next(struct wf *w, const char *verb, const char *extra)
{
	char *c = command(w, verb, extra);

	if (c)
		df_strlist_take(&w->res->next, c);
}

static int refuse(struct wf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct wf *w, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	df_error_set(DF_EGATE, "%s", b.ptr ? b.ptr : "refused");
	df_buf_release(&b);
	return DF_EGATE;
}

/* ---- the history that needs a person ------------------------------------- */

int df_wf_blocker_ask(df_ask **out, const df_plan *plan, const df_problem *blk,
	const char *select, bool lock_held)
{
	df_buf q = DF_BUF_INIT, why = DF_BUF_INIT, a = DF_BUF_INIT, b = DF_BUF_INIT;
	const char *sel = select ? select : "";
	df_ask *ask;

	*out = NULL;
	if (!blk || blk->kind == DF_PROBLEM_OUT_OF_ORDER)
		return 0;
	if (blk->kind == DF_PROBLEM_FAILED && lock_held)
		return 0;       /* still running in another process: nothing to decide */
	df_buf_printf(&a, "devflow db resolve %s --applied%s", blk->version, sel);
	df_buf_printf(&b, "devflow db resolve %s --rolled-back%s", blk->version, sel);
	switch (blk->kind) {
	case DF_PROBLEM_FAILED:
		df_buf_printf(&q, "Migration %s failed or was interrupted part-way. Check the database "
			"by hand: are its changes in place, or gone?", blk->version);
		df_buf_printf(&why, "%s; only a person who looked at the database can say which "
			"of its statements took effect (`devflow db status%s` shows what ran)", blk->message, sel);
		ask = ask_new(q.ptr, why.ptr);
		ask_option(ask, "in place", a.ptr);
		ask_option(ask, "gone", b.ptr);
		ask_option(ask, "not sure", NULL);
		break;
	case DF_PROBLEM_CHECKSUM:
		df_buf_printf(&q, "The applied migration %s was edited afterwards. Accept the edited "
			"file as what was applied?", blk->version);
		df_buf_printf(&why, "%s; the usual fix is to restore the applied version of the file "
			"and put new changes in a new migration", blk->message);
		ask = ask_new(q.ptr, why.ptr);
		ask_option(ask, "accept the edit", a.ptr);
		ask_option(ask, "restore the file myself", NULL);
		break;
	default:
		df_buf_printf(&q, "The file of applied migration %s is gone. Were its changes "
			"removed from the database too?", blk->version);
		df_buf_printf(&why, "%s; if the file was only moved or deleted by mistake, restore it "
			"(and check that devflow runs in the right project folder)", blk->message);
		ask = ask_new(q.ptr, why.ptr);
		ask_option(ask, "its changes are gone", b.ptr);
		ask_option(ask, "restore the file myself", NULL);
		break;
	}
	(void)plan;
	df_buf_release(&q);
	df_buf_release(&why);
	df_buf_release(&a);
	df_buf_release(&b);
	if (!ask)
		return df_error_oom();
	*out = ask;
	return 0;
}

/* ---- preview --------------------------------------------------------------- */

static void progress(void *data, const df_migration *m, int phase, long done, long total)
{
	struct wf *w = data;

	/* n = statements done: 0 as a migration starts */
	if (phase == DF_PROGRESS_STATEMENT || phase == DF_PROGRESS_START)
		emit(w, &(df_wf_event){ .kind = DF_EV_PROGRESS, .mig = m,
			.n = phase == DF_PROGRESS_START ? 0 : done });
}

static void backup_progress(void *data, uint64_t bytes)
{
	struct wf *w = data;

	emit(w, &(df_wf_event){ .kind = DF_EV_BACKUP_PROGRESS, .n = (long long)bytes });
}

/*
 * Review what will run: the UP of a migrate, the DOWN of a rollback (a
 * rollback destroys what its migration created).  One read and one parse
 * for the actions and the findings.
 */
static df_review_result *review_one(struct wf *w, const df_migration *m)
{
	const df_section *sec = w->o->rollback ? &m->down : &m->up;
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
	ro.dialect = df_conn_dialect(w->s->conn);
	if (ro.dialect == DF_DIALECT_POSTGRES && df_conn_identity(w->s->conn, &id) == 0 &&
	    id.version_num >= 90000)
		ro.pg_version = id.version_num / 10000;
	ro.in_transaction = !m->no_transaction;
	ro.base_line = sec->line;
	ro.disabled = &w->s->cfg->review_disabled;
	if (ro.dialect == DF_DIALECT_POSTGRES) {        /* current column types */
		ro.column_type = df_review_column_type_conn;
		ro.column_type_payload = w->s->conn;
	}
	if (df_review_run(&r, &ro, sec->path, text, len) < 0)
		r = NULL;
	free(text);
	return r;
}

static int preview(struct wf *w)
{
	df_wf_result *res = w->res;
	const df_wf_opts *o = w->o;
	df_buf head = DF_BUF_INIT;

	if (!(res->reviews = calloc(res->n + 1, sizeof(*res->reviews))))
		return df_error_oom();
	df_buf_printf(&head, "%s · %s · policy %s", w->s->target->env, w->s->target->redacted,
		df_policy_name(w->s->target->policy));
	emit(w, &(df_wf_event){ .kind = DF_EV_HEADER, .text = head.ptr, .n = (long long)res->n });
	df_buf_release(&head);
	for (size_t i = 0; i < res->n; i++) {
		const df_migration *m = res->migs[i];
		const df_section *sec = o->rollback ? &m->down : &m->up;
		if (sec->len <= 16 * 1024 * 1024)
			res->reviews[i] = review_one(w, m);
		for (size_t k = 0; res->reviews[i] && k < res->reviews[i]->nr_findings; k++)
			if (res->reviews[i]->findings[k].risk == DF_RISK_HIGH)
				res->high_risk++;
		emit(w, &(df_wf_event){ .kind = DF_EV_MIGRATION, .mig = m, .review = res->reviews[i],
			.n = (long long)sec->len });
	}
	if (res->high_risk)
		say(w, DF_TONE_BAD, "\n%zu high-risk change%s: `devflow db review%s` explains each.",
			res->high_risk, plural(res->high_risk, "", "s"), o->select ? o->select : "");
	say(w, DF_TONE_PLAIN, "%s", "");
	return 0;
}

/* ---- gates ------------------------------------------------------------------ */

static bool confirmed_by_flags(struct wf *w)
{
	const df_wf_opts *o = w->o;
	const char *env = w->s->target->env;

	if (w->s->target->policy == DF_POLICY_STAGING)
		return o->yes || (o->confirm && !strcmp(o->confirm, env));
	return o->confirm && (!strcmp(o->confirm, "production") || !strcmp(o->confirm, env));
}

/* The flags that satisfy every person-gate of the policy at once. */
static void consent_flags(df_buf *b, struct wf *w, bool need_backup)
{
	const df_wf_opts *o = w->o;

	if (w->res->high_risk || o->accept_risk)
		df_buf_puts(b, " --accept-risk");
	if (w->s->target->policy == DF_POLICY_PRODUCTION) {
		if (need_backup || o->backup)
			df_buf_puts(b, " --backup");
		df_buf_puts(b, " --confirm production");
	} else {
		df_buf_puts(b, " --yes");
	}
}

/*
 * The one question that settles every person-gate at once.  Production, or
 * a high risk anywhere, needs the typed word 'yes'; staging a y/N.
 */
static const char *confirm_question(df_buf *q, struct wf *w, bool need_backup)
{
	size_t n = w->res->n, k = w->res->high_risk;
	bool prod = w->s->target->policy == DF_POLICY_PRODUCTION;

	if (prod || k)
		df_buf_printf(q, "Type 'yes' to %s %zu migration%s %s %s", w->o->rollback ? "revert" : "apply",
			n, plural(n, "", "s"), w->o->rollback ? "on" : "to", prod ? "PRODUCTION" : w->s->target->env);
	else
		df_buf_printf(q, "%s %zu migration%s %s %s", w->o->rollback ? "Revert" : "Apply",
			n, plural(n, "", "s"), w->o->rollback ? "on" : "to", w->s->target->env);
	if (k)
		df_buf_printf(q, ", accepting %zu high-risk change%s", k, plural(k, "", "s"));
	if (need_backup)
		df_buf_puts(q, ", after a backup taken now");
	if (!prod && !k)
		df_buf_putc(q, '?');
	return q->ptr;
}

static bool typed_yes(struct wf *w)
{
	return w->s->target->policy == DF_POLICY_PRODUCTION || w->res->high_risk;
}

/* The `ask` for the person-gates: one question, one command that settles all. */
static int consent_ask(struct wf *w, bool need_backup)
{
	df_buf q = DF_BUF_INIT, why = DF_BUF_INIT, flags = DF_BUF_INIT;
	char *then;

	confirm_question(&q, w, need_backup);
	df_buf_printf(&why, "the %s policy leaves this decision to a person", df_policy_name(w->s->target->policy));
	if (w->res->high_risk)
		df_buf_printf(&why, "; the review found %zu high-risk change%s (`devflow db review%s`)",
			w->res->high_risk, plural(w->res->high_risk, "", "s"), w->o->select ? w->o->select : "");
	consent_flags(&flags, w, need_backup);
	then = command(w, w->verb, flags.ptr + 1);
	df_ask_free(w->res->ask);
	if ((w->res->ask = ask_new(q.ptr, why.ptr))) {
		ask_option(w->res->ask, "yes", then);
		ask_option(w->res->ask, "no", NULL);
	}
	free(then);
	df_buf_release(&q);
	df_buf_release(&why);
	df_buf_release(&flags);
	return w->res->ask ? 0 : df_error_oom();
}

static void missing_text(df_buf *b, unsigned int missing)
{
	for (unsigned int bit = 1, k = 0; bit < (1u << DF_GATE_COUNT); bit <<= 1) {
		if (!(missing & bit))
			continue;
		df_buf_printf(b, "%s%s", k++ ? ", " : "",
			bit == DF_GATE_DRY_RUN ? "a recorded dry-run" :
			bit == DF_GATE_BACKUP ? "a recent backup (or --backup)" :
			bit == DF_GATE_ACCEPT_RISK ? "acceptance of the high-risk changes (--accept-risk)" :
			"confirmation");
	}
}

/*
 * Decide every gate of the policy at once.  0: go on (*take_backup says
 * whether --backup must run first); DF_EGATE: refused, with res->missing,
 * and `next` or `ask` that satisfy all of them.
 */
static int gates(struct wf *w, const char *set_hash, bool *take_backup)
{
	df_session *s = w->s;
	df_wf_result *res = w->res;
	const df_wf_opts *o = w->o;
	df_policy pol = s->target->policy;
	df_receipt_state st;
	long age;
	int error;

	*take_backup = false;
	if (pol == DF_POLICY_LOCAL)
		return 0;
	if ((error = df_gate_dryrun(&st, &age, s->conn, s->cfg->table, set_hash, s->server,
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
				*take_backup = true;
			else
				res->missing |= DF_GATE_BACKUP;
		}
	}
	if (res->high_risk && !o->accept_risk)
		res->missing |= DF_GATE_ACCEPT_RISK;
	if (!confirmed_by_flags(w))
		res->missing |= DF_GATE_CONFIRMATION;
	if (pol == DF_POLICY_PRODUCTION)
		emit(w, &(df_wf_event){ .kind = DF_EV_BANNER, .text = s->target->env, .n = (long long)res->n });
	if (!res->missing)
		return 0;

	if (res->missing & DF_GATE_DRY_RUN) {
		/* The agent can do this step itself; the person-gates come after it. */
		df_buf m = DF_BUF_INIT;
		missing_text(&m, res->missing);
		next(w, w->verb, "--dry-run");
		error = refuse(w, "the %s policy needs %s before %s %s; the dry-run receipt is %s",
			df_policy_name(pol), m.ptr, o->rollback ? "reverting on" : "applying to",
			s->target->env, df_receipt_state_name((df_receipt_state)res->dry_run_receipt));
		df_error_hint("run the dry-run first: %s", res->next.v[res->next.nr - 1]);
		df_buf_release(&m);
		return error;
	}
	if (o->interactive && w->sink && w->sink->ask) {
		df_buf q = DF_BUF_INIT;
		bool ok, need_backup = (res->missing & DF_GATE_BACKUP) != 0;

		confirm_question(&q, w, need_backup);
		ok = w->sink->ask(w->sink->data, q.ptr, typed_yes(w) ? "yes" : NULL);
		df_buf_release(&q);
		if (ok) {
			*take_backup = need_backup || *take_backup;
			res->missing = 0;
			return 0;
		}
		return refuse(w, "not confirmed%s; nothing was %s",
			typed_yes(w) ? " (only the word 'yes' confirms)" : "",
			o->rollback ? "reverted" : "applied");
	}
	{
		df_buf m = DF_BUF_INIT;
		missing_text(&m, res->missing);
		if ((error = consent_ask(w, (res->missing & DF_GATE_BACKUP) != 0)) < 0)
			return error;
		error = refuse(w, "%s to %s needs %s, which a person must give", o->rollback ?
			"reverting" : "applying", s->target->env, m.ptr);
		df_error_hint("answer the question: %s; then run: %s", res->ask->question,
			res->ask->options[0].then);
		df_buf_release(&m);
		return error;
	}
}

/* ---- after the run ------------------------------------------------------------ */

/* Write the rollback plan for what was just applied; returns its path. */
static char *rollback_plan(struct wf *w)
{
	df_session *s = w->s;
	const df_migration **migs = w->res->migs;
	size_t n = w->res->n;
	df_buf path = DF_BUF_INIT, doc = DF_BUF_INIT;
	char stamp[32], *undo, *plan = NULL;
	time_t now = time(NULL);
	int error;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &(struct tm){ 0 }));
	if (df_mkdirs(".devflow/rollback", 0755, true) < 0) {
		df_error_set(DF_EIO, "cannot create '.devflow/rollback': %s", strerror(errno));
		return NULL;
	}
	/* <stamp>-<run id>-<env>: two runs (processes or threads) never share
	 * a name, and the run id says which run wrote it */
	df_buf_printf(&path, ".devflow/rollback/%s-%s-", stamp, df_run_id(s->run));
	for (const char *c = s->target->env; *c; c++)        /* a name, never a path */
		df_buf_putc(&path, *c == '/' ? '_' : *c);
	undo = NULL;
	{
		df_buf c = DF_BUF_INIT;
		df_buf_printf(&c, "devflow db rollback%s --steps %zu", w->o->select ? w->o->select : "", n);
		undo = df_buf_detach(&c);
	}
	df_buf_printf(&doc, "# Rollback plan: %s, %s\n\nApplied %zu migration%s to %s (%s).\n\n"
		"To revert them all:\n\n    %s\n\n", s->target->env, stamp, n, plural(n, "", "s"),
		s->target->env, s->target->redacted, undo ? undo : "devflow db rollback");
	free(undo);
	for (size_t i = n; i-- > 0;) {
		const df_migration *m = migs[i];
		df_buf_printf(&doc, "## %s %s\n\n", m->version, m->name);
		if (df_migration_reversible(m)) {
			char *down;
			size_t len;
			if (df_section_read(&down, &len, &m->down) == 0) {
				df_buf_puts(&doc, "DOWN SQL:\n\n```sql\n");
				df_buf_put(&doc, down, len);
				df_buf_puts(&doc, "\n```\n\n");
				free(down);
			}
		} else {
			const df_review_result *r = w->res->reviews ? w->res->reviews[i] : NULL;
			df_buf_printf(&doc, "IRREVERSIBLE: no DOWN section. To undo it, write a reverse "
				"migration (`devflow db create revert_%s`) or restore a backup.\n", m->name);
			for (size_t k = 0; r && k < r->actions.nr; k++)
				if (strstr(r->actions.v[k], "destroys data"))
					df_buf_printf(&doc, "- lost for good: %s\n", r->actions.v[k]);
			df_buf_puts(&doc, "\n");
		}
	}
	/* an unguessable temporary name, then linked under the first free name
	 * (<stamp>-<env>.md, <stamp>-<env>-2.md, ...): two runs in one second
	 * keep both plans, and a link planted at the name is never written
	 * through (util/fs.h) */
	if (df_buf_oom(&doc) || df_buf_oom(&path)) {
		error = df_error_oom();
	} else {
		df_file_tmp t = DF_FILE_TMP_INIT;
		df_buf dest = DF_BUF_INIT;

		df_buf_printf(&dest, "%s.md", path.ptr);
		if (df_buf_oom(&dest))
			error = df_error_oom();
		else if ((error = df_file_tmp_create(&t, dest.ptr, 0644, DF_FILE_NOREPLACE)) == 0)
			error = df_write_all(t.fd, doc.ptr, doc.size) < 0 ? df_file_error(&t) :
				df_file_commit_unique(&plan, &t, path.ptr, ".md");
		df_file_tmp_release(&t);
		df_buf_release(&dest);
	}
	df_buf_release(&doc);
	df_buf_release(&path);
	return error < 0 ? NULL : plan;
}

/*
 * A schema snapshot, and the model beside it when there is one; a failure
 * is a warning, never a reason to stop.
 */
static char *snapshot(struct wf *w, const char *tag, const df_schema *model, char **model_path)
{
	char *path = NULL;
	df_error *saved = df_error_save();
	df_buf rtag = DF_BUF_INIT;

	/* <stamp>-<env>-<run id>-<tag>.sql: this run's own name */
	df_buf_printf(&rtag, "%s-%s", df_run_id(w->s->run), tag);
	if (df_snapshot_take(&path, w->s->conn, w->s->target->dsn, w->s->target->env,
		df_buf_oom(&rtag) ? tag : rtag.ptr) < 0) {
		say(w, DF_TONE_WARN, "warning: no schema snapshot %s: %s", tag, df_error_last()->message);
		path = NULL;
	}
	if (path && model && df_snapshot_model(model_path, path, model) < 0)
		say(w, DF_TONE_WARN, "warning: no schema model beside the snapshot %s: %s", tag,
			df_error_last()->message);
	df_buf_release(&rtag);
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
	return path;
}

/* ---- the schema before and after: schema_changes and drift ---------------- */

/*
 * Read the schema model of `conn` `when` ("before", "after") the run.  A
 * failure is a warning and the reason schema_changes is unknown, never the
 * run's error: what ran stays what the result says.
 */
static df_schema *read_model(struct wf *w, df_conn *conn, const char *when)
{
	df_schema *m = NULL;
	df_error *saved = df_error_save();

	if (df_session_schema_read(&m, w->s, conn) < 0) {
		const char *msg = df_error_last()->message;
		if (!w->res->schema_unknown) {
			df_buf b = DF_BUF_INIT;
			df_buf_printf(&b, "the schema could not be read %s the %s: %s", when,
				w->o->dry_run ? "dry-run" : w->verb, msg);
			w->res->schema_unknown = df_buf_detach(&b);
		}
		say(w, DF_TONE_WARN, "warning: cannot read the schema %s the %s (what ran is not "
			"affected): %s", when, w->o->dry_run ? "dry-run" : w->verb, msg);
		m = NULL;
	}
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
	return m;
}

/* A dry-run in one transaction: the schema it made, before the rollback. */
static void read_after_in_tx(void *data, df_conn *conn)
{
	struct wf *w = data;

	w->after = read_model(w, conn, "after");
}

/* Why schema_changes is not known (the first reason stays). */
static void set_unknown(struct wf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_unknown(struct wf *w, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	if (w->res->schema_unknown)
		return;
	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	w->res->schema_unknown = df_buf_detach(&b);
}

/*
 * What the run changed in the schema: the diff of the models before and
 * after, or the reason it is not known.  Reported as an event.
 */
static void schema_changes(struct wf *w, int error)
{
	df_wf_result *res = w->res;

	if (w->o->dry_run && error)
		set_unknown(w, "the dry-run stopped at a failure and was rolled back");
	for (size_t i = 0; i < res->run.nr; i++)
		if (res->run.steps[i].not_run)
			set_unknown(w, "'%s' runs without a transaction, so the dry-run only checked that it "
				"splits: what it changes in the schema is known only once it runs",
				res->run.steps[i].mig->file);
	if (!res->schema_unknown && (!w->before || !w->after))
		set_unknown(w, "the schema was not read");
	if (!res->schema_unknown) {
		df_error *saved = df_error_save();
		if (df_schema_diff(&res->schema_changes, w->before, w->after) < 0) {
			res->schema_changes = NULL;
			set_unknown(w, "the schemas before and after could not be compared: %s",
				df_error_last()->message);
		} else if (df_diff_changed_only(res->schema_changes, w->before, w->after) < 0) {
			df_diff_free(res->schema_changes);
			res->schema_changes = NULL;
			set_unknown(w, "the schemas before and after could not be compared: %s",
				df_error_last()->message);
		}
		if (saved)
			df_error_restore(saved);
		else
			df_error_clear();
	}
	emit(w, &(df_wf_event){ .kind = DF_EV_SCHEMA, .diff = res->schema_changes,
		.text = res->schema_unknown });
}

/*
 * Record the schema the run left, for `db status`'s drift; a failure is a
 * warning (and schema_warning), never the run's error.
 */
static void record_schema(struct wf *w)
{
	df_wf_result *res = w->res;
	df_error *saved = df_error_save();
	df_buf b = DF_BUF_INIT;

	if (!w->after)
		df_buf_puts(&b, "the schema devflow left was not recorded (it could not be read)");
	else if (df_session_schema_record(w->s, w->after) < 0)
		df_buf_printf(&b, "the schema devflow left was not recorded: %s", df_error_last()->message);
	res->schema_recorded = b.size == 0;
	if (b.size) {
		df_buf_puts(&b, "; `devflow db status` cannot tell drift until the next migrate or rollback");
		say(w, DF_TONE_WARN, "warning: %s", b.ptr);
		res->schema_warning = df_buf_detach(&b);
	}
	df_buf_release(&b);
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
}

/* smoke = FILE.sql and after_migrate = COMMAND of the environment. */
static int after_hooks(struct wf *w)
{
	df_session *s = w->s;
	const df_env_conf *ec = s->target->conf;
	int error;

	if (!ec)
		return 0;
	if (ec->smoke) {
		long n = 0;
		char *path = df_config_path(s->cfg, ec->smoke);
		error = path ? df_run_sql_file(s->conn, path, &n) : df_error_oom();
		free(path);
		w->res->smoke = error == 0;
		if (error < 0) {
			df_error_prefix("smoke test %s failed (the migrations stay applied; no automatic rollback)", ec->smoke);
			return error;
		}
		say(w, DF_TONE_PLAIN, "Smoke test %s passed (%ld statement%s).", ec->smoke, n, plural((size_t)n, "", "s"));
	}
	if (ec->after_migrate) {
		/* no credential in its environment, no descriptor of devflow's (core/hook.h) */
		int rc = df__hook_run(ec->after_migrate, s->cfg, s->target);
		w->res->after_migrate = rc == 0;
		if (rc != 0) {
			df_error_set(DF_EIO, "after_migrate command failed (exit %d); the migrations stay "
				"applied, no automatic rollback", rc);
			df_error_hint("check the command in devflow.conf [env \"%s\"] after_migrate", s->target->env);
			return DF_EIO;
		}
		say(w, DF_TONE_PLAIN, "after_migrate command succeeded.");
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------------- */

/* The history must be settled first (exit 6): a question, never a decision. */
static int check_history(struct wf *w)
{
	const df_problem *blk = df_plan_blocker(w->s->plan);
	int code;

	if (!blk)
		return 0;
	code = blk->kind == DF_PROBLEM_CHECKSUM ? DF_ECHECKSUM :
		blk->kind == DF_PROBLEM_MISSING ? DF_EMISSING : DF_EFAILED;
	df_wf_blocker_ask(&w->res->ask, w->s->plan, blk, w->o->select, false);
	df_error_set(code, "%s", blk->message);
	if (w->res->ask)
		df_error_hint("%s", w->res->ask->why ? w->res->ask->why : w->res->ask->question);
	return code;
}

static int select_migrations(struct wf *w)
{
	df_session *s = w->s;
	const df_wf_opts *o = w->o;
	df_run_opts ro = { 0 };

	if (o->to) {
		/* a typo must not become "revert everything": the version must exist */
		bool known = df_migration_set_find(s->set, o->to) != NULL;
		for (size_t i = 0; !known && i < s->ledger->nr; i++)
			known = !df_version_cmp(s->ledger->v[i].version, o->to);
		if (!known) {
			df_error_set(DF_EUSAGE, "no migration has version '%s'", o->to);
			df_error_hint("`devflow db status%s` lists the versions", o->select ? o->select : "");
			return DF_EUSAGE;
		}
	}
	if (!o->rollback && !o->out_of_order) {
		for (size_t i = 0; i < s->plan->problems_nr; i++)
			if (s->plan->problems[i].kind == DF_PROBLEM_OUT_OF_ORDER) {
				char *then;
				df_buf extra = DF_BUF_INIT;
				df_buf_printf(&extra, "--out-of-order%s", o->dry_run ? " --dry-run" : "");
				then = command(w, w->verb, extra.ptr);
				df_buf_release(&extra);
				df_ask_free(w->res->ask);
				if ((w->res->ask = ask_new("Apply migrations older than the newest applied one?",
					s->plan->problems[i].message))) {
					ask_option(w->res->ask, "yes", then);
					ask_option(w->res->ask, "no", NULL);
				}
				free(then);
				refuse(w, "%s", s->plan->problems[i].message);
				df_error_hint("applying it now changes history others may rely on; if that is "
					"intended, pass --out-of-order");
				return DF_EGATE;
			}
	}
	ro.flags = (o->dry_run ? DF_RUN_DRY_RUN : 0) | (o->out_of_order ? DF_RUN_OUT_OF_ORDER : 0);
	ro.to_version = o->to;
	ro.steps = o->steps;
	ro.table = s->cfg->table;
	return df_run_select(&w->res->migs, &w->res->n, s->plan, &ro, o->rollback);
}

static void audit_run(struct wf *w, int error, const char *set_hash)
{
	df_wf_result *res = w->res;
	df_buf summary = DF_BUF_INIT, det = DF_BUF_INIT;
	const char *op = w->o->dry_run ? "dry-run" : w->verb;
	size_t done = error ? res->run.failed_step : res->n;

	if (w->o->source && !w->o->source->history && !w->o->dry_run && error)  /* seeds */
		df_buf_printf(&summary, "seeded %zu of %zu file%s, then failed", done, res->n,
			plural(res->n, "", "s"));
	else if (w->o->source && !w->o->source->history && !w->o->dry_run)
		df_buf_printf(&summary, "seeded %zu file%s", res->n, plural(res->n, "", "s"));
	else
		df_buf_printf(&summary, "%s %zu of %zu migration%s%s", w->o->dry_run ? "dry-ran" :
			w->o->rollback ? "reverted" : "applied", done, res->n, plural(res->n, "", "s"),
			error ? ", then failed" : "");
	if (error) {
		df_session_audit_failure(w->s, op, error == DF_EINTERRUPTED ? "interrupted" : "failed",
			summary.ptr);
	} else {
		char *receipt = df_receipt_dryrun(set_hash);
		if (res->snap_before || res->snap_after)
			df_buf_printf(&det, "snapshots: before=%s after=%s",
				res->snap_before ? res->snap_before : "-", res->snap_after ? res->snap_after : "-");
		if (df_session_audit(w->s, op, "ok", summary.ptr, receipt, det.size ? det.ptr : NULL) < 0) {
			say(w, DF_TONE_WARN, "warning: %s", df_error_last()->message);
			df_error_clear();
		}
		free(receipt);
	}
	df_buf_release(&summary);
	df_buf_release(&det);
}

/* Re-read the history: every migration of the run recorded as expected. */
static int verify(struct wf *w)
{
	df_session *s = w->s;
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
	w->res->verified = ok == n;
	if (ok != n)
		return df_error_set(DF_EFAILED, "verification failed: %zu of %zu migration%s %s recorded "
			"as expected", ok, n, plural(n, "", "s"), ok == 1 ? "is" : "are");
	if (n == 1)
		say(w, DF_TONE_OK, "\nVerified: the history records the migration%s.",
			w->o->rollback ? " as reverted" : " with its checksum");
	else
		say(w, DF_TONE_OK, "\nVerified: the history records all %zu migrations%s.", n,
			w->o->rollback ? " as reverted" : " with their checksums");
	return 0;
}

/* After a dry-run: what comes next, and who decides it. */
static int after_dry_run(struct wf *w)
{
	df_session *s = w->s;
	df_policy pol = s->target->policy;
	bool need_backup = false;

	say(w, DF_TONE_OK, "\nDry-run passed: nothing was kept; the dry-run is recorded%s.",
		pol == DF_POLICY_LOCAL ? "" : " as the receipt the policy asks for");
	if (pol == DF_POLICY_LOCAL) {
		next(w, w->verb, NULL);
		return 0;
	}
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
	return consent_ask(w, need_backup);
}

int df_wf_run(df_wf_result *res, df_session *s, const df_wf_opts *o, const df_wf_sink *sink)
{
	const df_source *src = o->source ? o->source : df_source_sql_folder();
	struct wf w = { .s = s, .o = o, .sink = sink, .res = res,
		.verb = src->verb ? src->verb : o->rollback ? "rollback" : "migrate" };
	df_conn *shadow = NULL;
	char set_hash[65];
	bool take_backup = false, snapshots;
	int error;

	memset(res, 0, sizeof(*res));
	res->dry_run_receipt = res->backup_receipt = -1;
	res->pending_after = -1;
	res->verified = -1;
	res->smoke = res->after_migrate = -1;
	res->schema_recorded = -1;

	/* a source without a history (seeds) runs what it lists */
	if (src->history ? (error = check_history(&w)) < 0 || (error = select_migrations(&w)) < 0 :
	    (error = df_source_pending(src, &res->migs, &res->n)) < 0)
		goto out;
	if (!res->n) {
		res->nothing_to_do = true;
		res->pending_after = s->plan ? (long)s->plan->pending : -1;
		say(&w, DF_TONE_OK, "Nothing to %s: %s", o->rollback ? "roll back" : "apply",
			o->rollback ? "no migration is applied" : "every migration is applied");
		goto out;
	}
	/* Irreversible migrations stop a rollback before anything runs. */
	for (size_t i = 0; o->rollback && i < res->n; i++)
		if (!df_migration_reversible(res->migs[i])) {
			const df_migration *m = res->migs[i];
			error = refuse(&w, "migration '%s' is irreversible: it has no DOWN section", m->file);
			df_error_hint("write the reverse as a new migration: devflow db create revert_%s", m->name);
			df_strlist_pushf(&res->next, "devflow db create revert_%s%s", m->name,
				o->select ? o->select : "");
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
	if ((error = preview(&w)) < 0)
		goto out;
	/* the set a receipt is bound to: what this run selects */
	if (!src->history)
		df_migs_hash(set_hash, res->migs, res->n, w.verb);
	else
		df_plan_pending_hash(set_hash, s->plan, o->to);
	if (o->rollback)
		df_migs_hash(set_hash, res->migs, res->n, "rollback");

	if (!o->dry_run && (error = gates(&w, set_hash, &take_backup)) < 0) {
		df_session_audit_failure(s, w.verb, "refused", df_error_last()->message);
		goto out;
	}
	if (!o->dry_run && (error = df_binding_write(s->conn, s->cfg->table, s->target->env,
		s->target->policy)) < 0)
		goto out;
	if (take_backup) {
		df_backup_info info = { 0 };
		say(&w, DF_TONE_PLAIN, "Taking a backup first...");
		if ((error = df_session_backup(s, NULL, false, &info, backup_progress, &w)) < 0) {
			df_error_prefix("backup before %s failed; nothing was %s", w.verb,
				o->rollback ? "reverted" : "applied");
			df_backup_info_release(&info);
			goto out;
		}
		say(&w, DF_TONE_PLAIN, "Backup written: %s\n", info.path);
		res->backup_path = info.path;
		info.path = NULL;
		df_backup_info_release(&info);
	}

	/* MariaDB cannot roll DDL back: dry-run in a throwaway shadow database */
	if (o->dry_run && !df_conn_has(s->conn, DF_CAP_TRANSACTIONAL_DDL)) {
		/* nothing that reaches past the copy runs in it (src/schema/sandbox.c) */
		if ((error = df_schema_dry_run_check(s->conn, res->migs, res->n, o->rollback)) < 0 ||
		    (error = df_shadow_open(&shadow, &res->shadow, s->conn, s->target->dsn)) < 0)
			goto out;
		say(&w, DF_TONE_PLAIN, "Running in the throwaway database %s (MariaDB cannot roll DDL back).",
			res->shadow);
	}
	w.before = src->history ? read_model(&w, shadow ? shadow : s->conn, "before") : NULL;
	snapshots = !o->dry_run && s->target->policy != DF_POLICY_LOCAL && src->history;
	if (snapshots)
		res->snap_before = snapshot(&w, o->rollback ? "before-rollback" : "before-migrate",
			w.before, &res->snap_before_model);
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
			ro.before_rollback = read_after_in_tx;
			ro.before_rollback_data = &w;
		}
		ro.source = src;
		error = df_run_apply(&res->run, shadow ? shadow : s->conn, res->migs, res->n, &ro, o->rollback);
		res->ran = true;
	}
	if (shadow && w.before && !error)
		w.after = read_model(&w, shadow, "after");
	else if (!o->dry_run && error != DF_EINTERRUPTED && src->history)
		w.after = read_model(&w, s->conn, "after");
	if (shadow) {
		df_error *saved = df_error_save();
		df_conn_close(shadow);
		shadow = NULL;
		if (df_shadow_drop(s->conn, res->shadow) < 0)
			say(&w, DF_TONE_WARN, "warning: could not drop the throwaway database %s; "
				"`devflow doctor` lists it", res->shadow);
		if (saved)
			df_error_restore(saved);
		else
			df_error_clear();
	}
	if (snapshots)
		res->snap_after = snapshot(&w, o->rollback ? "after-rollback" : "after-migrate",
			w.after, &res->snap_after_model);
	for (size_t i = 0; i < res->run.nr; i++)
		emit(&w, &(df_wf_event){ .kind = DF_EV_STEP, .step = &res->run.steps[i] });
	if (src->history)
		schema_changes(&w, error);
	audit_run(&w, error, set_hash);
	if (error) {
		df_error *saved = df_error_save();
		if (src->history && df_session_replan(s) == 0)
			res->pending_after = (long)s->plan->pending;
		df_error_restore(saved);
		next(&w, "status", NULL);
		goto out;
	}
	if (src->history && (error = verify(&w)) < 0)
		goto out;
	if (!o->dry_run && res->run.nr && src->history)
		record_schema(&w);
	if (o->dry_run) {
		error = after_dry_run(&w);
		goto out;
	}
	if (!o->rollback && src->history) {
		if ((res->rollback_plan = rollback_plan(&w)))
			say(&w, DF_TONE_PLAIN, "Rollback plan written to %s", res->rollback_plan);
		else if (df_error_last())
			say(&w, DF_TONE_WARN, "warning: no rollback plan written: %s", df_error_last()->message);
		df_error_clear();
		if ((error = after_hooks(&w)) < 0)
			goto out;
	}
	next(&w, "status", NULL);
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
			df_session_audit_failure(s, o->dry_run ? "dry-run" : w.verb, "interrupted",
				"interrupted before anything ran");
	}
	res->error = error;
	return error;
}
