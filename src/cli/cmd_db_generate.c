/*
 * devflow db generate NAME [--allow-drop] [--print] [--plain]
 *
 * A new migration from the declarative schema file: the migrations (applied
 * and pending) are replayed into a throwaway database, the schema file is
 * loaded into another, and the diff both ways is the UP and the DOWN
 * (df_generate()).  The file is written in the folder's format and reviewed
 * at once.  A change that destroys data is written only with --allow-drop
 * (on a terminal, after a question; with --json, an `ask`).
 *
 * The target is only read: its history must be settled (exit 6 as for
 * migrate), and its server holds the throwaway databases unless
 * `[project] dev_url` names another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/schema.h"
#include "util/fs.h"
#include "util/banned.h"

/*
 * The DDL of one direction with each change's marks, as `db diff` prints
 * it: "-- devflow: DESTROYS DATA (...)" before a change that does.
 */
void cli_diff_script(df_buf *b, const df_diff *d)
{
	if (d->preamble && d->nr)
		df_buf_puts(b, d->preamble);
	for (size_t i = 0; i < d->nr; i++) {
		const df_change *c = &d->v[i];
		if (i || (d->preamble && d->nr))
			df_buf_putc(b, '\n');
		if (c->destroys_data)
			df_buf_printf(b, "-- devflow: DESTROYS DATA (%s %s)\n", df_change_op_name(c->op),
				c->object);
		df_buf_puts(b, c->sql);
	}
	if (d->postamble && d->nr)
		df_buf_printf(b, "\n%s", d->postamble);
}

/* Review the UP of a written (or printed) migration; findings for people
 * and in JSON. */
static int review(struct cli_ctx *ctx, const char *path, const char *file_for_findings,
	df_dialect d, int pg, const df_config *cfg, json_t *findings)
{
	df_migration m;
	df_review_result *r = NULL;
	df_review_opts ro;
	char *text = NULL;
	size_t len = 0;
	int error;

	memset(&m, 0, sizeof(m));
	if ((error = df_migration_read_file(&m, path, true)) < 0)
		return error;
	df_review_opts_init(&ro);
	ro.dialect = d;
	ro.pg_version = pg ? pg : 15;
	ro.in_transaction = !m.no_transaction;
	ro.disabled = &cfg->review_disabled;
	ro.base_line = m.up.line;
	ro.base_column = 1;
	if ((error = df_section_read(&text, &len, &m.up)) < 0 ||
	    (error = df_review_run(&r, &ro, file_for_findings, text, len)) < 0)
		goto out;
	for (size_t i = 0; i < r->nr_findings; i++) {
		const df_review_finding *f = &r->findings[i];
		json_array_append_new(findings, cli_finding_json(f));
		cli_say(ctx, "  %s:%d:%d: %s [%s, %s risk] %s\n", f->file ? f->file : "-", f->line,
			f->column, df_review_severity_name(f->severity), f->rule,
			df_review_risk_name(f->risk), f->message);
		if (f->hint)
			cli_say(ctx, "    %shint:%s %s\n", cli_c(ctx, "dim"), cli_c(ctx, "reset"), f->hint);
	}
	if (!r->nr_findings)
		cli_say(ctx, "  review: no findings\n");
out:
	df_review_result_free(r);
	free(text);
	df_migration_release(&m);
	return error;
}

struct emit {
	struct cli_ctx *ctx;
	const df_config *cfg;
	df_dialect d;
	int pg;                 /* PostgreSQL major version, 0: unknown */
	bool print;
	json_t *findings, *files;
};

/*
 * One new migration: composed, then written (or, with --print, printed on
 * stdout and reviewed from a temporary copy), and its UP reviewed.
 */
static int emit(struct emit *e, const df_new_migration *nm, const char *header, const char *up,
	const char *down, bool no_tx, size_t changes)
{
	struct cli_ctx *ctx = e->ctx;
	df_buf body = DF_BUF_INIT, down_body = DF_BUF_INIT;
	int error;

	if ((error = df_migration_compose(&body, &down_body, nm, header, up, down, no_tx)) < 0)
		goto out;
	if (e->print) {
		char tpath[] = "/tmp/devflow-generate-XXXXXX.sql";
		int fd = mkostemps(tpath, 4, O_CLOEXEC);
		FILE *out = ctx->json ? stderr : stdout;
		fprintf(out, "-- %s\n%s", nm->path, body.ptr);
		if (nm->down_path)
			fprintf(out, "\n-- %s\n%s", nm->down_path, down_body.ptr);
		fflush(out);
		if (fd < 0) {
			error = df_error_set(DF_EIO, "cannot make a temporary file to review: %s", strerror(errno));
			goto out;
		}
		if (df_write_all(fd, body.ptr, body.size) == 0) {
			cli_say(ctx, "\nReview of %s (not written):\n", nm->path);
			error = review(ctx, tpath, nm->path, e->d, e->pg, e->cfg, e->findings);
		}
		close(fd);
		unlink(tpath);
		goto out;
	}
	if ((error = df_file_write_new(nm->path, &body)) < 0)
		goto out;
	if (nm->down_path && (error = df_file_write_new(nm->down_path, &down_body)) < 0) {
		unlink(nm->path);
		goto out;
	}
	if (changes)
		cli_say(ctx, "Created %s (%zu change%s)\n", nm->path, changes, changes == 1 ? "" : "s");
	else
		cli_say(ctx, "Created %s (no transaction)\n", nm->path);
	if (nm->down_path)
		cli_say(ctx, "Created %s\n", nm->down_path);
	json_array_append_new(e->files, json_string(nm->path));
	if (nm->down_path)
		json_array_append_new(e->files, json_string(nm->down_path));
	error = review(ctx, nm->path, nm->path, e->d, e->pg, e->cfg, e->findings);
out:
	df_buf_release(&body);
	df_buf_release(&down_body);
	return error;
}

/*
 * The UP and the DOWN checked on throwaway copies (df_generate() with
 * verify): said in one line each; one that fails shows its script and what
 * remains different, and nothing is written unless --force (then a
 * warning).  `verified` in JSON is both.
 */
static int checked(struct cli_ctx *ctx, const df_generated *g, bool force)
{
	const df_verified *v[2] = { g->up_check, g->down_check };
	const char *what[2] = { "the UP", "the DOWN" };
	FILE *out = ctx->json ? stderr : stdout;
	int error = 0;

	if (!v[0] || !v[1]) {
		json_object_set_new(ctx->result, "verified", json_false());
		return 0;
	}
	/* the DOWN first: the UP's failure is the one JSON's `unverified` keeps */
	for (int i = 1; i >= 0; i--) {
		df_buf sc = DF_BUF_INIT;
		const char *online = i ? g->online_down_sql : g->online_sql;
		if (v[i]->ok) {
			cli_say(ctx, "Verified %s on a throwaway copy.\n", what[i]);
			continue;
		}
		fprintf(out, "-- %s, as it would be written:\n", what[i]);
		cli_diff_script(&sc, i ? g->down : g->up);
		fputs(sc.ptr ? sc.ptr : "", out);
		fputs(online ? online : "", out);
		df_buf_release(&sc);
		if (error < 0)
			df_error_clear();
		error = cli_diff_verified(ctx, v[i], what[i], out);
	}
	/* `verified` is both directions */
	json_object_set_new(ctx->result, "verified", json_boolean(v[0]->ok && v[1]->ok));
	json_object_set_new(ctx->result, "verify_ms", json_integer(v[0]->ms + v[1]->ms));
	if (error < 0 && force) {
		df_strlist w = DF_STRLIST_INIT;
		df_strlist_pushf(&w, "%s; written anyway (--force)", df_error_last()->message);
		df_error_clear();
		cli_warnings(ctx, &w);
		df_strlist_release(&w);
		return 0;
	}
	if (error < 0)
		df_error_hint("devflow's own ordering or writer is wrong here: nothing was written; write "
			"the migration by hand, or --force writes this one anyway; --no-verify skips the "
			"check");
	return error;
}

int cmd_db_generate(int argc, char **argv, struct cli_ctx *ctx)
{
	bool allow_drop = false, print = false, plain = false, no_verify = false, force = false,
		privileges = false;
	struct cli_opt opts[] = {
		{ "--no-verify", 0, NULL, &no_verify },
		{ "--privileges", 0, NULL, &privileges },
		{ "--force", 0, NULL, &force },
		{ "--allow-drop", 0, NULL, &allow_drop },
		{ "--print", 0, NULL, &print },
		{ "--plain", 0, NULL, &plain },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_buf name = DF_BUF_INIT, header = DF_BUF_INIT, up = DF_BUF_INIT, down = DF_BUF_INIT;
	df_buf tmp = DF_BUF_INIT;
	df_new_migration nm = { 0 }, online = { 0 };
	struct emit e = { 0 };
	df_generate_opts go = DF_GENERATE_OPTS_INIT;
	df_schema_opts so = DF_SCHEMA_OPTS_INIT;
	df_strlist exclude = DF_STRLIST_INIT;
	df_generated *g = NULL;
	df_target *dev = NULL;
	const df_migration **migs = NULL;
	const df_problem *blk;
	char *schema_path = NULL, **ops;
	const char *sel;
	json_t *findings = NULL;
	struct stat st;
	size_t nmigs = 0;
	int nops, error = 0, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops != 1)
		return cli_usage_error(ctx, nops ? "'db generate' takes one NAME" : "'db generate' needs a NAME");
	if (df_migration_name_normalize(&name, ops[0]) < 0) {
		df_buf_release(&name);
		return cli_usage_error(ctx, "%s", df_error_last()->message);
	}
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_PLAN, false)) < 0)
		goto fail;
	sel = cli_env_arg(ctx);
	/* the history must be settled first, as for migrate */
	if ((blk = df_plan_blocker(s.plan))) {
		df_ask *ask = NULL;
		df_wf_blocker_ask(&ask, s.plan, blk, false);
		if (ask)
			cli_ask_words(ask, sel);
		error = df_error_set(blk->kind == DF_PROBLEM_CHECKSUM ? DF_ECHECKSUM :
			blk->kind == DF_PROBLEM_MISSING ? DF_EMISSING : DF_EFAILED, "%s", blk->message);
		if (ask) {
			df_error_hint("%s", ask->why ? ask->why : ask->question);
			cli_ask(ctx, ask);
		}
		goto fail;
	}
	if (!(schema_path = df_config_path(s.cfg, s.cfg->schema))) {
		error = df_error_oom();
		goto fail;
	}
	if (stat(schema_path, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		error = df_error_set(DF_EUSAGE, "the schema file '%s' does not exist", s.cfg->schema);
		df_error_hint("write the schema there, point [project] schema in devflow.conf at it, "
			"or write it from the database with `devflow db pull`");
		goto fail;
	}
	/* throwaway databases: on [project] dev_url's server, else the target's */
	go.server = s.target->dsn;
	if (s.cfg->dev_url) {
		if ((error = df_target_resolve(&dev, s.cfg, s.target->env, s.cfg->dev_url)) < 0)
			goto fail;
		if (strcmp(dev->dsn->engine, s.target->dsn->engine)) {
			error = df_error_set(DF_ECONFIG, "[project] dev_url is %s, the target %s",
				dev->dsn->engine, s.target->dsn->engine);
			df_error_hint("name a server of the target's engine in dev_url");
			goto fail;
		}
		go.server = dev->dsn;
	}
	if ((error = df_schema_own_tables(&exclude, s.cfg->table)) < 0 ||
	    (error = df_migration_set_history(&migs, &nmigs, s.set, NULL, false)) < 0)
		goto fail;
	so.exclude_tables = &exclude;
	if (privileges && (error = df_schema_privileges_check(s.target->dsn->engine, "db generate")) < 0)
		goto fail;
	so.privileges = privileges;
	go.engine = s.target->dsn->engine;
	go.schema_opts = &so;
	go.migs = migs;
	go.nr = nmigs;
	go.schema_path = schema_path;
	go.plain = plain;
	/* the file's name and format first: the format decides whether indexes
	 * can go to a no-transaction migration of their own */
	if ((error = df_migration_new(&nm, s.set, s.cfg->migrations, name.ptr, NULL, time(NULL))) < 0)
		goto fail;
	go.online_split = df_mig_format_no_tx(nm.format);
	go.review_disabled = &s.cfg->review_disabled;
	go.verify = !no_verify;
	cli_verbose(ctx, "replaying %zu migration%s and loading %s\n", nmigs, nmigs == 1 ? "" : "s",
		s.cfg->schema);
	if ((error = df_generate(&g, &go)) < 0)
		goto fail;
	json_object_set_new(ctx->result, "schema", json_string(s.cfg->schema));
	json_object_set_new(ctx->result, "changes", json_integer((json_int_t)g->up->nr));
	if (!g->up->nr && !g->online_sql) {
		cli_say(ctx, "No changes: the migrations already give %s.\n", s.cfg->schema);
		json_object_set_new(ctx->result, "file", json_null());
		status = cli_finish(ctx, CLI_EXIT_OK);
		goto out;
	}
	json_object_set_new(ctx->result, "drops", cli_json_strlist(&g->drops));
	if ((error = checked(ctx, g, force)) < 0)
		goto fail;
	if (g->destroys_data && !allow_drop && !print) {
		df_buf_puts(&tmp, "The new migration destroys data (");
		for (size_t i = 0; i < g->drops.nr; i++)
			df_buf_printf(&tmp, "%s%s", i ? ", " : "", g->drops.v[i]);
		df_buf_puts(&tmp, "). Write it anyway?");
		if (!ctx->json && ctx->tty_in && ctx->tty_err) {
			if (!cli_prompt(NULL, tmp.ptr, NULL)) {
				error = df_error_set(DF_EGATE, "not written: the migration destroys data");
				df_error_hint("rename instead of dropping with `-- devflow:renamed-from OLD` in "
					"the schema file, or run again with --allow-drop");
				goto fail;
			}
		} else {
			df_buf then = DF_BUF_INIT;
			df_buf_puts(&then, "devflow db generate ");
			df_shell_quote(&then, name.ptr);
			df_buf_printf(&then, " --allow-drop%s", sel);
			cli_ask_yes(ctx, tmp.ptr, "dropping a table or column, or narrowing a type, loses "
				"its data; a rename is said with `-- devflow:renamed-from OLD` in the schema file",
				"yes", then.ptr);
			df_buf_release(&then);
			error = df_error_set(DF_EGATE, "not written: the migration destroys data (%s)",
				g->drops.v[0]);
			df_error_hint("run again with --allow-drop to write it, or say a rename with "
				"`-- devflow:renamed-from OLD` in the schema file");
			goto fail;
		}
	}

	/* the file(s) */
	if (!print && df_mkdirs(s.cfg->migrations, 0755, true) < 0) {
		error = df_error_set(DF_EIO, "cannot create folder '%s': %s", s.cfg->migrations, strerror(errno));
		goto fail;
	}
	e.ctx = ctx;
	e.cfg = s.cfg;
	e.print = print;
	e.d = df_conn_dialect(s.conn);
	if (e.d == DF_DIALECT_POSTGRES) {
		df_identity id;
		if (df_conn_identity(s.conn, &id) == 0 && id.version_num >= 90000)
			e.pg = id.version_num / 10000;
	}
	e.findings = json_array();
	e.files = json_array();
	json_object_set_new(ctx->result, "name", json_string(name.ptr));
	json_object_set_new(ctx->result, "format", json_string(df_mig_format_name(nm.format)));
	json_object_set_new(ctx->result, "destroys_data", json_boolean(g->destroys_data));
	json_object_set_new(ctx->result, "file", json_null());
	if (g->up->nr) {
		df_buf_printf(&header, "-- Generated by devflow db generate from %s.\n", s.cfg->schema);
		for (size_t i = 0; i < g->drops.nr; i++)
			df_buf_printf(&header, "-- devflow: DESTROYS DATA (%s)\n", g->drops.v[i]);
		for (size_t i = 0; i < g->lost.nr; i++)
			df_buf_printf(&header, "-- The DOWN destroys data (%s): what this migration adds there "
				"is lost on rollback.\n", g->lost.v[i]);
		cli_diff_script(&up, g->up);
		cli_diff_script(&down, g->down);
		json_object_set_new(ctx->result, "version", json_string(nm.version));
		json_object_set_new(ctx->result, "up", json_string(up.ptr));
		json_object_set_new(ctx->result, "down", json_string(down.ptr));
		if ((error = emit(&e, &nm, header.ptr, up.ptr, down.ptr, false, g->up->nr)) < 0)
			goto fail;
	}
	if (g->online_sql) {
		/* indexes and VALIDATEs on existing tables: a migration of their
		 * own, outside a transaction, after the main one */
		df_buf_truncate(&tmp, 0);
		df_buf_printf(&tmp, "%s_online", name.ptr);
		df_buf_truncate(&header, 0);
		df_buf_printf(&header, "-- Generated by devflow db generate from %s: indexes built and\n"
			"-- constraints validated on existing tables without blocking writes, outside a\n"
			"-- transaction (CREATE INDEX CONCURRENTLY cannot run in one); --plain writes the\n"
			"-- plain forms in one migration.\n", s.cfg->schema);
		if ((error = df_migration_new(&online, s.set, s.cfg->migrations, tmp.ptr,
			g->up->nr ? nm.version : NULL, time(NULL))) < 0)
			goto fail;
		json_object_set_new(ctx->result, "online_up", json_string(g->online_sql));
		json_object_set_new(ctx->result, "online_down", json_string(g->online_down_sql));
		if ((error = emit(&e, &online, header.ptr, g->online_sql, g->online_down_sql, true, 0)) < 0) {
			if (g->up->nr && !print) {
				unlink(nm.path);
				if (nm.down_path)
					unlink(nm.down_path);
			}
			goto fail;
		}
	}
	if (json_array_size(e.files) && !print)
		json_object_set(ctx->result, "file", json_array_get(e.files, 0));
	json_object_set_new(ctx->result, "files", e.files);
	e.files = NULL;
	if (!print)
		cli_next(ctx, "devflow db migrate%s --dry-run", sel);
	findings = e.findings;
	e.findings = NULL;
	json_object_set_new(ctx->result, "findings", findings);
	findings = NULL;
	status = cli_finish(ctx, CLI_EXIT_OK);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	json_decref(findings);
	json_decref(e.findings);
	json_decref(e.files);
	df_new_migration_release(&online);
	free(migs);
	free(schema_path);
	df_generated_free(g);
	df_target_free(dev);
	df_strlist_release(&exclude);
	df_new_migration_release(&nm);
	df_buf_release(&name);
	df_buf_release(&header);
	df_buf_release(&up);
	df_buf_release(&down);
	df_buf_release(&tmp);
	df_session_close(&s);
	return status;
}
