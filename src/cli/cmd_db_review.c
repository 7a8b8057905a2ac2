/*
 * devflow db review [FILE...]: risk review of the pending migrations (or of
 * the given files, any tool's; a plain .sql file is one UP section).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/review.h"
#include "util/banned.h"

struct reviewed {
	const df_migration *mig;
	df_review_result *res;
	int error;              /* a worker's failure (its message saved) */
	char *message, *hint, *file;
	int line, column;
};

/* What every file's review shares: the options but the per-file ones. */
struct review_job {
	struct reviewed *v;
	size_t n;
	df_review_opts base;
	size_t next;            /* the next file to take (atomic) */
};

/* Review one file into v->res; on failure keep the thread's error. */
static void review_one(struct reviewed *v, const df_review_opts *base)
{
	const df_migration *m = v->mig;
	df_review_opts ro = *base;
	char *text = NULL;
	size_t len = 0;

	ro.in_transaction = !m->no_transaction;
	ro.format = (int)m->format;
	ro.base_line = m->up.line;
	ro.base_column = 1;
	/* an empty UP would be recorded as applied: the same refusal as migrate's */
	if ((v->error = df_migration_check_nonempty(m, base->dialect)) == 0 &&
	    (v->error = df_section_read(&text, &len, &m->up)) == 0)
		v->error = df_review_run(&v->res, &ro, m->path, text, len);
	free(text);
	if (v->error < 0) {
		const df_error *e = df_error_last();
		v->message = e ? cli_error_words(e, e->message) : NULL;
		v->hint = e ? cli_error_words(e, e->hint) : NULL;
		v->file = e && e->file ? strdup(e->file) : NULL;
		v->line = e ? e->line : 0;
		v->column = e ? e->column : 0;
	}
}

static void *review_worker(void *arg)
{
	struct review_job *j = arg;
	size_t k;

	while ((k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n)
		review_one(&j->v[k], &j->base);
	return NULL;
}

/*
 * Review every file, on as many threads as there are cores (at most
 * REVIEW_THREADS), each taking the next file; results stay in file order.
 * A database connection is not thread-safe: with one (column types from
 * the target) the files are reviewed on this thread only.
 */
#define REVIEW_THREADS 8
static void review_all(struct reviewed *v, size_t n, const df_review_opts *base)
{
	struct review_job j = { v, n, *base, 0 };
	pthread_t th[REVIEW_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = 0, want = cpus > 1 ? (size_t)cpus : 1;

	if (want > REVIEW_THREADS)
		want = REVIEW_THREADS;
	if (want > n)
		want = n;
	if (base->column_type)
		want = 1;
	/* this thread works too: want - 1 more */
	while (nt + 1 < want && pthread_create(&th[nt], NULL, review_worker, &j) == 0)
		nt++;
	review_worker(&j);
	for (size_t i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
}

/* The text of line `line` of `path` (without its newline); caller frees. */
static char *source_line(const char *path, int line)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	int n = 0;
	char *out = NULL;

	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f))
		if (++n == line) {
			buf[strcspn(buf, "\r\n")] = '\0';
			out = strdup(buf);
			break;
		}
	fclose(f);
	return out;
}

static const char *sev_color(struct cli_ctx *ctx, df_review_severity s)
{
	return cli_c(ctx, s == DF_REVIEW_ERROR ? "red" : s == DF_REVIEW_WARNING ? "yellow" : "blue");
}

static void human(char *out, size_t size, long long n, const char *unit)
{
	if (n >= 1000000000LL)
		snprintf(out, size, "%.1f G%s", (double)n / 1e9, unit);
	else if (n >= 1000000)
		snprintf(out, size, "%.1f M%s", (double)n / 1e6, unit);
	else if (n >= 10000)
		snprintf(out, size, "%.1f k%s", (double)n / 1e3, unit);
	else
		snprintf(out, size, "%lld%s%s", n, *unit == 'B' ? " " : "", unit);
}

/* With a target: how big the table of a finding is ("users: 1.2 M rows, 310 MB"). */
static void impact(struct cli_ctx *ctx, df_session *s, const df_review_finding *f,
	json_t *o, char *out, size_t size)
{
	char table[128], rows[32], bytes[32];
	long long nrows, nbytes;
	json_t *j;

	out[0] = '\0';
	if (!s->conn || !f->statement || df_review_table_of(table, sizeof(table), f->statement) < 0)
		return;
	if (df_table_stats(s->conn, table, &nrows, &nbytes) < 0) {
		df_error_clear();
		return;
	}
	j = json_object();
	json_object_set_new(j, "table", json_string(table));
	json_object_set_new(j, "rows", nrows >= 0 ? json_integer(nrows) : json_null());
	json_object_set_new(j, "bytes", nbytes >= 0 ? json_integer(nbytes) : json_null());
	json_object_set_new(o, "impact", j);
	human(rows, sizeof(rows), nrows < 0 ? 0 : nrows, " rows");
	human(bytes, sizeof(bytes), nbytes < 0 ? 0 : nbytes, "B");
	snprintf(out, size, "%s on %s holds %s%s%s%s", f->rule, table, nrows < 0 ? "? rows" : rows,
		nbytes >= 0 ? " (" : "", nbytes >= 0 ? bytes : "", nbytes >= 0 ? ")" : "");
}

static json_t *sarif(struct reviewed *v, size_t n)
{
	json_t *doc = json_object(), *run = json_object(), *driver = json_object();
	json_t *rules = json_array(), *results = json_array(), *tool = json_object();
	size_t nr;
	const df_review_rule *cat = df_review_rules(&nr);

	json_object_set_new(doc, "$schema", json_string("https://json.schemastore.org/sarif-2.1.0.json"));
	json_object_set_new(doc, "version", json_string("2.1.0"));
	json_object_set_new(driver, "name", json_string("devflow"));
	json_object_set_new(driver, "version", json_string(DF_VERSION));
	for (size_t i = 0; i < nr; i++) {
		json_t *r = json_object(), *d = json_object();
		json_object_set_new(r, "id", json_string(cat[i].id));
		json_object_set_new(d, "text", json_string(cat[i].summary));
		json_object_set_new(r, "shortDescription", d);
		json_array_append_new(rules, r);
	}
	json_object_set_new(driver, "rules", rules);
	json_object_set_new(tool, "driver", driver);
	json_object_set_new(run, "tool", tool);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < v[k].res->nr_findings; i++) {
			const df_review_finding *f = &v[k].res->findings[i];
			json_t *r = json_object(), *msg = json_object(), *loc = json_object();
			json_t *phys = json_object(), *art = json_object(), *reg = json_object(), *locs = json_array();
			json_object_set_new(r, "ruleId", json_string(f->rule));
			json_object_set_new(r, "level", json_string(f->severity == DF_REVIEW_ERROR ? "error" :
				f->severity == DF_REVIEW_WARNING ? "warning" : "note"));
			json_object_set_new(msg, "text", json_string(f->message));
			json_object_set_new(r, "message", msg);
			json_object_set_new(art, "uri", json_string(f->file ? f->file : ""));
			json_object_set_new(reg, "startLine", json_integer(f->line > 0 ? f->line : 1));
			json_object_set_new(reg, "startColumn", json_integer(f->column > 0 ? f->column : 1));
			json_object_set_new(phys, "artifactLocation", art);
			json_object_set_new(phys, "region", reg);
			json_object_set_new(loc, "physicalLocation", phys);
			json_array_append_new(locs, loc);
			json_object_set_new(r, "locations", locs);
			json_array_append_new(results, r);
		}
	json_object_set_new(run, "results", results);
	json_t *runs = json_array();
	json_array_append_new(runs, run);
	json_object_set_new(doc, "runs", runs);
	return doc;
}

int cmd_db_review(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *dialect_s = NULL, *fail_on_s = NULL, *pg_s = NULL, *format = NULL;
	struct cli_opt opts[] = {
		{ "--dialect", 1, &dialect_s, NULL },
		{ "--fail-on", 1, &fail_on_s, NULL },
		{ "--pg-version", 1, &pg_s, NULL },
		{ "--format", 1, &format, NULL },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_migration *files = NULL;
	struct reviewed *v = NULL;
	size_t nv = 0;
	df_review_risk fail_on = DF_RISK_HIGH;
	df_dialect d = DF_DIALECT_SQLITE;
	df_review_opts ro;
	char **ops;
	int nops, error = 0, status, pg = 0;
	bool failed = false;
	char imp[256];
	json_t *findings, *summary;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (fail_on_s && df_review_risk_parse(&fail_on, fail_on_s) < 0)
		return cli_usage_error(ctx, "--fail-on wants low, medium or high, not '%s'", fail_on_s);
	if (dialect_s && df_dialect_parse(&d, dialect_s) < 0)
		return cli_usage_error(ctx, "--dialect wants postgres, mysql or sqlite, not '%s'", dialect_s);
	if (pg_s) {
		char *end;
		pg = (int)strtol(pg_s, &end, 10);
		if (*end || pg < 9 || pg > 30)
			return cli_usage_error(ctx, "--pg-version wants a major version such as 15, not '%s'", pg_s);
	}
	if (format && strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "sarif"))
		return cli_usage_error(ctx, "--format wants text, json or sarif, not '%s'", format);
	if (format && !strcmp(format, "json"))
		ctx->json = true;
	if (format && strcmp(format, "text"))
		ctx->out = stderr;      /* stdout holds the document */

	/* Files given: no database needed.  Otherwise: the target's pending set. */
	/* Files given: no database needed, unless a target is named for the
	 * impact estimate.  Otherwise: the target's pending set. */
	if ((error = cli_session_open(&s, ctx, nops ? (ctx->url || ctx->env_given ? CLI_S_DB : 0) :
		CLI_S_DB | CLI_S_FILES | CLI_S_PLAN, false)) < 0)
		goto fail;
	if (!dialect_s) {
		const char *eng = s.target->dsn->engine;
		d = !strcmp(eng, "postgres") ? DF_DIALECT_POSTGRES : !strcmp(eng, "mysql") ?
			DF_DIALECT_MYSQL : DF_DIALECT_SQLITE;
	} else {
		/* say what was reviewed: the dialect asked for, and a target only
		 * when one was used (not the local SQLite default) */
		json_object_set_new(ctx->result, "engine", json_string(df_dialect_name(d)));
		if (!s.conn)
			json_object_set_new(ctx->result, "target", json_null());
	}
	if (!pg && s.conn && d == DF_DIALECT_POSTGRES) {
		df_identity id;
		if (df_conn_identity(s.conn, &id) == 0 && id.version_num >= 90000)
			pg = id.version_num / 10000;
	}
	if (!(v = calloc((size_t)nops + (s.plan ? s.plan->nr : 0) + 1, sizeof(*v))) ||
	    !(files = calloc((size_t)nops + 1, sizeof(*files)))) {
		error = df_error_oom();
		goto fail;
	}
	for (int i = 0; i < nops; i++) {
		if ((error = df_migration_read_file(&files[i], cli_path(ctx, ops[i]), true)) < 0)
			goto fail;
		v[nv++].mig = &files[i];
	}
	for (size_t i = 0; s.plan && i < s.plan->nr; i++)
		if (s.plan->items[i].state == DF_STATE_PENDING)
			v[nv++].mig = s.plan->items[i].mig;

	df_review_opts_init(&ro);
	ro.dialect = d;
	ro.pg_version = pg ? pg : 15;
	ro.disabled = &s.cfg->review_disabled;
	if (s.conn && d != DF_DIALECT_SQLITE &&   /* current column types, for type changes */
	    df_conn_dialect(s.conn) == d) {
		ro.column_type = df_review_column_type_conn;
		ro.column_type_payload = s.conn;
	}
	review_all(v, nv, &ro);
	for (size_t k = 0; k < nv; k++)
		if (v[k].error < 0) {   /* the first failure, in file order */
			error = df_error_set(v[k].error, "%s", v[k].message ? v[k].message :
				"cannot review the migration");
			if (v[k].hint)
				df_error_hint("%s", v[k].hint);
			if (v[k].file)
				df_error_pos(v[k].file, v[k].line, v[k].column);
			goto fail;
		}
	findings = json_array();
	summary = json_array();
	for (size_t k = 0; k < nv; k++) {
		const df_migration *m = v[k].mig;
		json_t *acts = json_array(), *sum = json_object();
		const df_review_result *r = v[k].res;
		cli_say(ctx, "%s%s%s  %s%s\n", cli_c(ctx, "bold"), m->path, cli_c(ctx, "reset"),
			r->changes_data ? (r->changes_schema ? "schema and data change" : "data change") :
			"schema only", r->destroys_data ? ", destroys data" : "");
		for (size_t a = 0; a < r->actions.nr; a++) {
			json_array_append_new(acts, json_string(r->actions.v[a]));
			cli_say(ctx, "  - %s\n", r->actions.v[a]);
		}
		json_object_set_new(sum, "file", json_string(m->path));
		json_object_set_new(sum, "actions", acts);
		json_object_set_new(sum, "changes_data", json_boolean(r->changes_data));
		json_object_set_new(sum, "changes_schema", json_boolean(r->changes_schema));
		json_object_set_new(sum, "destroys_data", json_boolean(r->destroys_data));
		json_object_set_new(sum, "risk", json_string(df_review_risk_name(r->max_risk)));
		json_array_append_new(summary, sum);
		for (size_t i = 0; i < r->nr_findings; i++) {
			const df_review_finding *f = &r->findings[i];
			json_t *o = cli_finding_json(f);
			char *src;
			impact(ctx, &s, f, o, imp, sizeof(imp));
			json_array_append_new(findings, o);
			if (df_review_risk_reaches(f->risk, fail_on))
				failed = true;
			cli_say(ctx, "\n  %s:%d:%d: %s%s%s [%s, %s risk] %s\n", f->file ? f->file : "-",
				f->line, f->column, sev_color(ctx, f->severity),
				df_review_severity_name(f->severity), cli_c(ctx, "reset"), f->rule,
				df_review_risk_name(f->risk), f->message);
			if (f->file && (src = source_line(f->file, f->line))) {
				cli_say(ctx, "    %s\n    %*s^\n", src, f->column > 1 ? f->column - 1 : 0, "");
				free(src);
			} else if (f->statement) {
				cli_say(ctx, "    %s\n", f->statement);
			}
			if (*imp)
				cli_say(ctx, "    %simpact:%s %s\n", cli_c(ctx, "bold"), cli_c(ctx, "reset"), imp);
			if (f->hint)
				cli_say(ctx, "    %shint:%s %s\n", cli_c(ctx, "dim"), cli_c(ctx, "reset"), f->hint);
		}
		cli_say(ctx, "\n");
	}
	if (!nv)
		cli_say(ctx, "Nothing to review: no pending migrations.\n");
	else if (d != DF_DIALECT_POSTGRES)  /* only PostgreSQL's statements are parsed */
		cli_say(ctx, "Note: review reads %s statements by their keywords and does not "
			"check their syntax; the dry-run (devflow db migrate --dry-run) does.\n",
			d == DF_DIALECT_MYSQL ? "MySQL" : "SQLite");
	if (nv)
		json_object_set_new(ctx->result, "syntax_checked", json_string(
			d == DF_DIALECT_POSTGRES ? "by review" : "by the dry-run"));
	json_object_set_new(ctx->result, "findings", findings);
	json_object_set_new(ctx->result, "summary", summary);
	json_object_set_new(ctx->result, "fail_on", json_string(df_review_risk_name(fail_on)));
	if (format && !strcmp(format, "sarif")) {
		json_t *doc = sarif(v, nv);
		char *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (out)
			puts(out);
		free(out);
		json_decref(doc);
		ctx->json = false;
		ctx->quiet = true;
	}
	if (failed) {
		cli_say(ctx, "%sReview blocked:%s a finding reaches --fail-on %s.\n", cli_c(ctx, "red"),
			cli_c(ctx, "reset"), df_review_risk_name(fail_on));
		df_error_set(DF_EGATE, "the review is blocked: a finding reaches --fail-on %s",
			df_review_risk_name(fail_on));
		df_error_hint("rewrite the flagged statements as the hints say and review again, or "
			"accept the risk when applying (--accept-risk)");
		if (!nops) {
			df_ask *ask = calloc(1, sizeof(*ask));
			df_buf then = DF_BUF_INIT;
			df_buf_printf(&then, "devflow db migrate%s --dry-run", cli_env_arg(ctx));
			if (ask) {
				ask->question = strdup("The review flags changes at or above the --fail-on "
					"level. Go on to a dry-run as they are (applying them will ask to accept the risk)?");
				ask->why = strdup("whether a risky change is acceptable is a person's decision; "
					"the other answer is to rewrite the flagged statements");
				ask->options[0].answer = strdup("yes, dry-run as they are");
				ask->options[0].then = df_buf_detach(&then);
				ask->options[1].answer = strdup("no, rewrite them");
				ask->nr = 2;
				cli_ask(ctx, ask);
			}
			df_buf_release(&then);
		}
		status = cli_fail(ctx, DF_EGATE);
	} else {
		if (!nops && nv)
			cli_next(ctx, "devflow db migrate%s --dry-run", cli_env_arg(ctx));
		status = cli_finish(ctx, 0);
	}
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	for (size_t k = 0; v && k < nv; k++) {
		df_review_result_free(v[k].res);
		free(v[k].message);
		free(v[k].hint);
		free(v[k].file);
	}
	for (int i = 0; files && i < nops; i++)
		df_migration_release(&files[i]);
	free(files);
	free(v);
	df_session_close(&s);
	return status;
}
