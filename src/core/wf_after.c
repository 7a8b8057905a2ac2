/*
 * What the workflow does after the run: the rollback plan, the schema
 * snapshots, the schema before and after (schema_changes, the record drift
 * is measured against), the after hooks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/source.h"
#include "devflow/workflow.h"
#include "core/hook.h"
#include "core/wf_ask.h"
#include "core/wf_drift.h"
#include "core/wf_int.h"
#include "util/fs.h"
#include "util/banned.h"

/* The rollback plan without words: each migration's heading and DOWN SQL. */
static void rollback_doc_plain(df_buf *doc, const df_wf_rollback_doc *d)
{
	df_buf_printf(doc, "# %s, %s\n\n%s\n\n", d->env, d->stamp, d->target);
	for (size_t i = d->n; i-- > 0;) {
		const df_migration *m = d->migs[i];
		char *down;
		size_t len;
		df_buf_printf(doc, "## %s %s\n\n", m->version, m->name);
		if (df_migration_reversible(m) && df_section_read(&down, &len, &m->down) == 0) {
			df_buf_puts(doc, "```sql\n");
			df_buf_put(doc, down, len);
			df_buf_puts(doc, "\n```\n\n");
			free(down);
		}
	}
}

/* Write the rollback plan for what was just applied; returns its path. */
char *df__wf_rollback_plan(struct wf *w)
{
	df_session *s = w->s;
	const df_migration **migs = w->res->migs;
	size_t n = w->res->n;
	df_buf path = DF_BUF_INIT, doc = DF_BUF_INIT;
	char stamp[32], *plan = NULL;
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
	{
		/* the words are the front end's; without them, the headings and the SQL */
		df_wf_rollback_doc d = { .env = s->target->env, .target = s->target->redacted,
			.stamp = stamp, .migs = migs, .n = n,
			.reviews = (const df_review_result *const *)w->res->reviews };
		df_cmd *undo = df__wf_command(&(df_wf_opts){ .rollback = true }, DF_VERB_ROLLBACK);
		if (!undo || df_cmd_opt_num(undo, DF_OPT_STEPS, (long long)n) < 0) {
			df_cmd_free(undo);
			df_buf_release(&path);
			df_error_oom();
			return NULL;
		}
		d.undo = undo;
		if (w->sink && w->sink->rollback_doc)
			w->sink->rollback_doc(&doc, &d, w->sink->payload);
		else
			rollback_doc_plain(&doc, &d);
		df_cmd_free(undo);
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
 * A schema df__wf_snapshot, and the model beside it when there is one; a failure
 * is a warning, never a reason to stop.
 */
char *df__wf_snapshot(struct wf *w, const char *tag, const df_schema *model, char **model_path)
{
	char *path = NULL;
	df_error *saved = df_error_save();
	df_buf rtag = DF_BUF_INIT;

	/* <stamp>-<env>-<run id>-<tag>.sql: this run's own name */
	df_buf_printf(&rtag, "%s-%s", df_run_id(w->s->run), tag);
	if (df_snapshot_take(&path, w->s->conn, w->s->target->dsn, w->s->target->env,
		df_buf_oom(&rtag) ? tag : rtag.ptr) < 0) {
		df__wf_warn(w, DF_WARN_SNAPSHOT, tag, df_error_last()->message);
		path = NULL;
	}
	if (path && model && df_snapshot_model(model_path, path, model) < 0)
		df__wf_warn(w, DF_WARN_SNAPSHOT_MODEL, tag, df_error_last()->message);
	df_buf_release(&rtag);
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
	return path;
}

/* ---- the schema before and after: df__wf_schema_changes and drift ---------------- */

/*
 * Read the schema model of `conn` `when` ("before", "after") the run.  A
 * failure is a warning and the reason df__wf_schema_changes is unknown, never the
 * run's error: what ran stays what the result says.
 */
/* DEVFLOW_RECORD_DEBUG=FILE: a line appended to FILE (tests/cli/t1950-record-patch.sh) */
static void debug_line(const char *line)
{
	const char *path = getenv("DEVFLOW_RECORD_DEBUG");
	FILE *f;

	if (!path || !*path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

/*
 * The relations the run's migrations name (df_schema_touched()): 1, or 0
 * when one of them cannot say (or its SQL is not at hand).
 */
static int run_touched(df_strlist *names, struct wf *w, df_dialect d)
{
	const df_source *src = w->o->source ? w->o->source : df_source_sql_folder();
	int rc = 1;

	for (size_t i = 0; i < w->res->n && rc == 1; i++) {
		df_source_sql sql = { 0 };
		const char *text;
		if (!src->sql || src->sql(src, w->res->migs[i], &sql) < 0) {
			df_source_sql_release(&sql);
			return 0;
		}
		text = w->o->rollback ? sql.down : sql.up;
		rc = sql.unavailable || !text ? 0 : df_schema_touched(names, text, d);
		df_source_sql_release(&sql);
	}
	return rc;
}

/*
 * The schema after a run, as a full read would give it: the model read
 * before, with only the relations the run touched (and what depends on
 * them) read again (schema/patch.c).  NULL when that cannot be done
 * safely (a statement whose targets are not known, code in the schema,
 * another engine, any failure): the caller reads the whole.
 * DEVFLOW_RECORD_FULL=1 always reads the whole; DEVFLOW_RECORD_DEBUG=FILE
 * appends to FILE which was done (tests/cli/t1950-record-patch.sh).
 */
static df_schema *read_after_patched(struct wf *w, df_conn *conn, const char **why_out)
{
	df_strlist names = DF_STRLIST_INIT, exclude = DF_STRLIST_INIT;
	df_schema_opts opts = DF_SCHEMA_OPTS_INIT;
	df_schema *m = NULL;
	const char *full = getenv("DEVFLOW_RECORD_FULL");
	const char *why = NULL;
	int rc;

	if (full && *full && strcmp(full, "0"))
		why = "DEVFLOW_RECORD_FULL";
	else if (df_conn_dialect(conn) != DF_DIALECT_POSTGRES)
		why = "not on this engine";
	else if ((rc = run_touched(&names, w, df_conn_dialect(conn))) != 1)
		why = rc < 0 ? "error" : "a statement whose targets are not known";
	else if (df_schema_own_tables(&exclude, w->s->cfg->table) < 0)
		why = "error";
	else {
		opts.exclude_tables = &exclude;
		rc = df_schema_reread(&m, w->before, conn, &opts, &names);
		why = rc < 0 ? "error" : rc ? "not on this schema" : NULL;
	}
	*why_out = why;
	df_strlist_release(&names);
	df_strlist_release(&exclude);
	return m;
}

/*
 * The schema the drift check read (df_session_drift) stands for the read
 * before when the run follows it at once (no question asked in between:
 * within 5 s) on the same connection; NULL otherwise.
 */
static df_schema *drift_read(struct wf *w, df_conn *conn)
{
	df_drift *d = w->res->drift;
	struct timespec ts;
	df_schema *m;

	if (!d || !d->live || conn != w->s->conn)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - d->live_ms > 5000)
		return NULL;
	m = d->live;
	d->live = NULL;
	return m;
}

/* "WHAT (WHY) in N ms" to DEVFLOW_RECORD_DEBUG's file, N since t0 */
static void debug_took(const char *what, const char *why, const struct timespec *t0)
{
	struct timespec t1;
	char line[160];

	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(line, sizeof(line), "%s%s%s%s in %lld ms", what, why ? " (" : "", why ? why : "",
		why ? ")" : "", (long long)(t1.tv_sec - t0->tv_sec) * 1000 +
		(t1.tv_nsec - t0->tv_nsec) / 1000000);
	debug_line(line);
}

df_schema *df__wf_read_model(struct wf *w, df_conn *conn, const char *when)
{
	df_schema *m = NULL;
	df_error *saved;
	struct timespec t0;
	const char *why = NULL;
	bool debug = false;

	if (!strcmp(when, "before") && (m = drift_read(w, conn))) {
		debug_line("schema before the run: the drift check's");
		return m;
	}
	saved = df_error_save();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(when, "after") && w->before && !w->o->dry_run && conn == w->s->conn) {
		if ((m = read_after_patched(w, conn, &why))) {
			if (saved)
				df_error_restore(saved);
			else
				df_error_clear();
			debug_took("schema after the run: patched", NULL, &t0);
			return m;
		}
		debug = true;
	}
	df_error_clear();
	if (saved)
		df_error_restore(saved);
	saved = df_error_save();
	if (df_session_schema_read(&m, w->s, conn) < 0) {
		const char *msg = df_error_last()->message;
		if (!w->res->schema_unknown) {
			df_buf b = DF_BUF_INIT;
			df_buf_printf(&b, "the schema could not be read %s the %s: %s", when,
				w->o->dry_run ? "dry-run" : w->op, msg);
			w->res->schema_unknown = df_buf_detach(&b);
		}
		df__wf_warn(w, DF_WARN_SCHEMA_READ, when, msg);
		m = NULL;
	}
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
	if (debug)
		debug_took("schema after the run: read whole", why ? why : "error", &t0);
	return m;
}

/* A dry-run in one transaction: the schema it made, before the rollback. */
void df__wf_read_after_in_tx(void *data, df_conn *conn)
{
	struct wf *w = data;

	w->after = df__wf_read_model(w, conn, "after");
}

/* Why df__wf_schema_changes is not known (the first reason stays). */
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
void df__wf_schema_changes(struct wf *w, int error)
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
	df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_SCHEMA, .diff = res->schema_changes,
		.text = res->schema_unknown });
}

/*
 * Record the schema the run left, for `db status`'s drift; a failure is a
 * warning (and schema_record_error), never the run's error.
 */
void df__wf_record_schema(struct wf *w)
{
	df_wf_result *res = w->res;
	df_error *saved = df_error_save();
	char who[DF_WHOAMI_MAX];
	bool over = df__wf_drift_gone_over(res, w->o);
	bool ok = w->after && df_session_schema_record_drift(w->s, w->after,
		over ? &res->drift->lines : NULL, over ? df__wf_drift_acceptor(res, who, sizeof(who)) : NULL) == 0;

	res->schema_recorded = ok;
	if (!ok) {
		if (w->after && !(res->schema_record_error = strdup(df_error_last()->message)))
			res->schema_record_error = NULL;
		df__wf_warn(w, DF_WARN_SCHEMA_RECORD, NULL, res->schema_record_error);
	}
	if (saved)
		df_error_restore(saved);
	else
		df_error_clear();
}

/* smoke = FILE.sql and after_migrate = COMMAND of the environment. */
int df__wf_after_hooks(struct wf *w)
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
		df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_SMOKE, .text = ec->smoke, .n = n });
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
		df__wf_emit(w, &(df_wf_event){ .kind = DF_EV_AFTER_MIGRATE });
	}
	return 0;
}
