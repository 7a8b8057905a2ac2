/* devflow doctor: config, migrations folder, client tools, connectivity. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/banned.h"

static bool on_path(const char *tool)
{
	const char *path = getenv("PATH");
	df_buf b = DF_BUF_INIT;
	bool found = false;

	if (!path)
		path = "/usr/bin:/bin";
	while (*path && !found) {
		size_t n = strcspn(path, ":");
		df_buf_truncate(&b, 0);
		df_buf_printf(&b, "%.*s/%s", (int)n, path, tool);
		found = access(b.ptr, X_OK) == 0;
		path += n + (path[n] == ':');
	}
	df_buf_release(&b);
	return found;
}

/* pg_dump as backups look for it: the server-matched one under
 * $DEVFLOW_PG_LIBDIR (/usr/lib/postgresql/N/bin), then PATH. */
static bool have_pg_dump(void)
{
	const char *lib = getenv("DEVFLOW_PG_LIBDIR");
	df_buf pat = DF_BUF_INIT;
	glob_t g;
	bool found;

	df_buf_printf(&pat, "%s/*/bin/pg_dump", lib && *lib ? lib : "/usr/lib/postgresql");
	found = glob(pat.ptr, 0, NULL, &g) == 0 && g.gl_pathc > 0;
	if (!pat.size || found)
		globfree(&g);
	df_buf_release(&pat);
	return found || on_path("pg_dump");
}

static void check(struct cli_ctx *ctx, json_t *list, const char *name, bool ok,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void check(struct cli_ctx *ctx, json_t *list, const char *name, bool ok,
	const char *fmt, ...)
{
	df_buf msg = DF_BUF_INIT;
	va_list ap;
	json_t *o = json_object();

	va_start(ap, fmt);
	df_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (ctx->dsn)
		df_dsn_scrub(ctx->dsn, msg.ptr);
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "ok", json_boolean(ok));
	json_object_set_new(o, "message", json_string(msg.ptr));
	json_array_append_new(list, o);
	cli_say(ctx, "  %s%s%s %-12s %s\n", cli_c(ctx, ok ? "green" : "red"), ok ? "ok  " : "FAIL",
		cli_c(ctx, "reset"), name, msg.ptr);
	df_buf_release(&msg);
}

/* The first failed check becomes the result's `error` (SPEC: every failure carries one). */
/* The error's hint under its check, its commands in words. */
static void hint_line(struct cli_ctx *ctx, const char *label, const df_error *e, bool always)
{
	char *h = cli_error_words(e, e->hint);

	if (h || always)
		cli_say(ctx, "               %s%s\n", label, h ? h : "(null)");
	free(h);
}

static void first_failure(int *code, int c)
{
	if (!*code)
		*code = c;
}

/*
 * How the connection reaches the server: this machine or not (as the
 * remote-host gate judges it, and the socket's peer), and TLS.  A remote
 * connection without TLS is a warning under staging and production, a
 * failure (DF_ETLS, error set) with require_tls.
 */
static int transport(struct cli_ctx *ctx, json_t *list, df_conn *conn, const df_target *t)
{
	df_strlist warn = DF_STRLIST_INIT;
	df_reach r;
	int error;

	if ((error = df_reach_before(&r, t->dsn)) < 0 || (error = df_reach_after(&r, conn)) < 0) {
		check(ctx, list, "tls", true, "cannot tell: %s", df_error_last()->message);
		df_reach_release(&r);
		return 0;
	}
	if ((error = df_reach_tls_check(&r, t, &warn)) < 0) {
		check(ctx, list, "tls", false, "%s", df_error_last()->message);
		hint_line(ctx, "hint: ", df_error_last(), true);
	} else if (warn.nr) {
		check(ctx, list, "tls", true, "not in use, to %s (a warning under the %s policy)",
			df_reach_where(&r), df_policy_name(t->policy));
		cli_warnings(ctx, &warn);
	} else if (r.tls) {
		check(ctx, list, "tls", true, "in use");
	} else {
		check(ctx, list, "tls", true, "not in use%s", df_reach_remote(&r) ?
			" (another machine, under the local policy)" : " (this machine)");
	}
	df_strlist_release(&warn);
	df_reach_release(&r);
	return error;
}

/*
 * The privileges migrate needs: create in the schema or database, write
 * devflow's tables (SQLite: write the file and its folder).  Sets the error
 * and returns DF_EPERM when one is missing.
 */
static int privileges(struct cli_ctx *ctx, json_t *list, df_conn *conn, const df_target *t,
	const df_config *cfg)
{
	df_strlist missing = DF_STRLIST_INIT;
	df_buf all = DF_BUF_INIT;
	int error = 0;

	if (!strcmp(t->dsn->engine, "sqlite")) {
		char *dir = strdup(t->dsn->database), *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash)
			*slash = '\0';
		if (strcmp(t->dsn->database, ":memory:") && access(t->dsn->database, W_OK) < 0)
			df_strlist_pushf(&missing, "write access to %s", t->dsn->database);
		if (strcmp(t->dsn->database, ":memory:") && access(slash ? dir : ".", W_OK) < 0)
			df_strlist_pushf(&missing, "write access to the folder of %s (SQLite's journal)",
				t->dsn->database);
		free(dir);
	} else if (df_ledger_privileges(&missing, conn, cfg->table) < 0) {
		check(ctx, list, "privileges", true, "cannot tell (%s)", df_error_last()->message);
		df_error_clear();
		return 0;
	}
	for (size_t i = 0; i < missing.nr; i++)
		df_buf_printf(&all, "%s%s", i ? "; " : "", missing.v[i]);
	if (missing.nr) {
		check(ctx, list, "privileges", false, "migrate needs %s", all.ptr);
		error = df_error_set(DF_EPERM, "the user of %s lacks what migrate needs: %s", t->redacted, all.ptr);
		df_error_hint("grant %s (or use a user that has %s); `devflow db status` still works",
			missing.nr == 1 ? "it" : "them", missing.nr == 1 ? "it" : "them");
		hint_line(ctx, "hint: ", df_error_last(), true);
	} else {
		check(ctx, list, "privileges", true, "can create in the %s and write devflow's tables",
			strcmp(t->dsn->engine, "postgres") ? "database" : "schema");
	}
	df_strlist_release(&missing);
	df_buf_release(&all);
	return error;
}

/* Applied migrations whose file is gone (and failed or edited ones): the
 * history needs a person.  Sets the error and returns DF_EMISSING. */
static int history(struct cli_ctx *ctx, json_t *list, df_conn *conn, const df_config *cfg,
	df_migration_set *set)
{
	df_ledger *ledger = NULL;
	df_plan *plan = NULL;
	df_buf missing = DF_BUF_INIT;
	size_t n = 0, other = 0;
	int error = 0;

	if (df_ledger_read(&ledger, conn, cfg->table) < 0 || !ledger->exists ||
	    df_plan_build(&plan, set, ledger) < 0) {
		df_error_clear();
		goto out;
	}
	for (size_t i = 0; i < plan->problems_nr; i++) {
		const df_problem *p = &plan->problems[i];
		if (p->kind == DF_PROBLEM_MISSING)
			df_buf_printf(&missing, "%s%s", n++ ? ", " : "", p->version);
		else if (p->kind != DF_PROBLEM_OUT_OF_ORDER)
			other++;
	}
	if (n) {
		check(ctx, list, "history", false, "%zu applied migration%s %s no file in %s/: %s", n,
			n == 1 ? "" : "s", n == 1 ? "has" : "have", cfg->migrations, missing.ptr);
		error = df_error_set(DF_EMISSING, "%zu applied migration%s %s no file: %s", n, n == 1 ? "" : "s",
			n == 1 ? "has" : "have", missing.ptr);
		df_error_hint("restore the files (git log --diff-filter=D -- %s), or settle each with "
			"`devflow db resolve VERSION --rolled-back`", cfg->migrations);
		hint_line(ctx, "hint: ", df_error_last(), true);
	} else {
		check(ctx, list, "history", true, "%zu recorded, every applied file present%s",
			ledger->nr, other ? "; `devflow db status` shows failed or edited migrations" : "");
	}
out:
	df_buf_release(&missing);
	df_plan_free(plan);
	df_ledger_free(ledger);
	return error;
}

/* The tracking table and the version of devflow's tables: a newer one than
 * this devflow knows is a failure (writing commands refuse it). */
static int tracking(struct cli_ctx *ctx, json_t *list, df_conn *conn, const df_config *cfg, bool present)
{
	int v;

	if (!present) {
		check(ctx, list, "tracking", true, "no tracking table yet (the first migrate creates it)");
		return 0;
	}
	if (df_ledger_version(&v, conn, cfg->table) < 0) {
		check(ctx, list, "tracking", true, "tracking table present (its version: %s)",
			df_error_last()->message);
		df_error_clear();
		return 0;
	}
	json_object_set_new(ctx->result, "table_version", json_integer(v));
	if (v > DF_LEDGER_VERSION) {
		int error = df_ledger_version_refuse(v);
		check(ctx, list, "tracking", false, "%s", df_error_last()->message);
		hint_line(ctx, "hint: ", df_error_last(), true);
		return error;
	}
	if (v < DF_LEDGER_VERSION)
		check(ctx, list, "tracking", true, "tracking table present, devflow's tables at version %d "
			"(the next migrate upgrades them to version %d)", v, DF_LEDGER_VERSION);
	else
		check(ctx, list, "tracking", true, "tracking table present, devflow's tables at version %d", v);
	return 0;
}

int cmd_doctor(int argc, char **argv, struct cli_ctx *ctx)
{
	df_error *failure = NULL;
	int fcode = 0;
	df_config *cfg = NULL;
	df_target *t = NULL;
	df_migration_set *set = NULL;
	df_conn *conn = NULL;
	json_t *list = json_array();
	char **ops;
	int nops, error, status = CLI_EXIT_OK;
	const char *e = cli_env_arg(ctx);

	if (cli_parse(ctx, argc, argv, NULL, &ops, &nops) < 0) {
		json_decref(list);
		return CLI_EXIT_USAGE;
	}
	json_object_set_new(ctx->result, "checks", list);
	cli_say(ctx, "devflow doctor\n");
	if ((error = df_config_load(&cfg, ".")) < 0) {
		check(ctx, list, "config", false, "%s", df_error_last()->message);
		status = CLI_EXIT_USAGE;
		first_failure(&fcode, error);
		failure = df_error_save();
		goto done;
	}
	check(ctx, list, "config", true, "%s", cfg->path ? "devflow.conf read" : "no devflow.conf (defaults)");

	if ((error = df_target_resolve(&t, cfg, ctx->env, ctx->url)) < 0) {
		check(ctx, list, "target", false, "%s", df_error_last()->message);
		status = CLI_EXIT_USAGE;
		first_failure(&fcode, error);
		failure = df_error_save();
		goto done;
	}
	ctx->dsn = t->dsn;
	json_object_set_new(ctx->result, "env", json_string(t->env));
	json_object_set_new(ctx->result, "target", json_string(t->redacted));
	check(ctx, list, "target", true, "%s: %s (from %s; policy %s)", t->env, t->redacted,
		t->source, df_policy_name(t->policy));

	if ((error = df_migration_set_load(&set, cfg->migrations, true)) < 0) {
		const df_error *le = df_error_last();
		check(ctx, list, "migrations", false, "%s", le->message);
		if (status == CLI_EXIT_OK)
			status = CLI_EXIT_USAGE;
		hint_line(ctx, "", le, false);
		first_failure(&fcode, error);
		failure = df_error_save();
	} else {
		size_t irreversible = 0, repeatable = 0;
		char rep[64] = "";
		for (size_t i = 0; i < set->nr; i++) {
			repeatable += set->v[i].repeatable;
			irreversible += !set->v[i].repeatable && !df_migration_reversible(&set->v[i]);
		}
		if (repeatable)
			snprintf(rep, sizeof(rep), " (%zu repeatable)", repeatable);
		check(ctx, list, "migrations", true, "%s/: %zu migration file%s%s%s", cfg->migrations, set->nr,
			set->nr == 1 ? "" : "s", rep, irreversible ? ", some without DOWN (irreversible)" : "");
		cli_warnings(ctx, &set->warnings);
	}

	if (!strcmp(t->dsn->engine, "postgres")) {
		bool d = have_pg_dump(), p = on_path("psql");
		check(ctx, list, "tools", d, "%s%s", d ? "pg_dump found" : "pg_dump not found: backups need it "
			"(apt-get install postgresql-client)", p ? ", psql found" : "");
	} else if (!strcmp(t->dsn->engine, "mysql")) {
		bool d = on_path("mariadb-dump") || on_path("mysqldump");
		check(ctx, list, "tools", d, "%s", d ? "mariadb-dump found" : "mariadb-dump not found: backups "
			"need it (apt-get install mariadb-client)");
	} else {
		check(ctx, list, "tools", true, "SQLite is built in%s", on_path("sqlite3") ?
			"; sqlite3 shell found" : "");
	}

	if (!strcmp(t->dsn->engine, "sqlite") && strcmp(t->dsn->database, ":memory:") &&
	    access(t->dsn->database, F_OK) < 0) {
		/* doctor only reads: it never creates the database file */
		check(ctx, list, "connect", true, "database file %s does not exist yet (the first "
			"migrate creates it)", t->dsn->database);
	} else if ((error = df_conn_open(&conn, t->dsn)) < 0) {
		const df_error *le = df_error_last();
		check(ctx, list, "connect", false, "%s", le->message);
		hint_line(ctx, "hint: ", le, false);
		status = cli_exit_for(error, 1);
		if (status == CLI_EXIT_FAILED || status == CLI_EXIT_USAGE)
			status = CLI_EXIT_UNREACHABLE;
		if (!fcode || status == CLI_EXIT_UNREACHABLE) {
			df_error_free(failure);
			fcode = error;
			failure = df_error_save();
		}
	} else {
		df_identity id;
		df_rows *cols = NULL;
		char *holder = NULL;
		df_conn_identity(conn, &id);
		check(ctx, list, "connect", true, "%s %s, database %s", id.engine, id.version, id.database);
		if (strcmp(id.engine, "sqlite") && transport(ctx, list, conn, t) < 0 &&
		    status == CLI_EXIT_OK) {
			status = CLI_EXIT_UNREACHABLE;
			first_failure(&fcode, DF_ETLS);
			df_error_free(failure);
			failure = df_error_save();
		}
		/* a line only when there is one: the checks of a direct connection are as they were */
		if (df_pooler_check(conn, t) == DF_EPOOLER) {
			check(ctx, list, "pooler", false, "%s", df_error_last()->message);
			hint_line(ctx, "hint: ", df_error_last(), true);
			if (status == CLI_EXIT_OK) {
				status = CLI_EXIT_UNREACHABLE;
				first_failure(&fcode, DF_EPOOLER);
				df_error_free(failure);
				failure = df_error_save();
			}
		}
		df_error_clear();
		if (df_conn_table_columns(conn, &cols, cfg->table) == 0 &&
		    tracking(ctx, list, conn, cfg, cols->nrows > 0) < 0 && status == CLI_EXIT_OK) {
			status = CLI_EXIT_USAGE;
			first_failure(&fcode, DF_ECONFIG);
			df_error_free(failure);
			failure = df_error_save();
		}
		df_rows_free(cols);
		df_conn_lock_holder(conn, cfg->table, &holder);
		check(ctx, list, "lock", true, "%s%s", holder ? "held by " : "free", holder ? holder : "");
		free(holder);
		if (privileges(ctx, list, conn, t, cfg) < 0 && status == CLI_EXIT_OK) {
			status = CLI_EXIT_UNREACHABLE;
			first_failure(&fcode, DF_EPERM);
			df_error_free(failure);
			failure = df_error_save();
		}
		if (set && history(ctx, list, conn, cfg, set) < 0 && status == CLI_EXIT_OK) {
			status = CLI_EXIT_NEEDS_RESOLVE;
			first_failure(&fcode, DF_EMISSING);
			df_error_free(failure);
			failure = df_error_save();
		}
		if (strcmp(id.engine, "sqlite")) {
			df_strlist left = DF_STRLIST_INIT;
			if (df_shadow_list(&left, conn, t->dsn) < 0) {
				check(ctx, list, "throwaway", true, "cannot list throwaway databases: %s",
					df_error_last()->message);
			} else if (!left.nr) {
				check(ctx, list, "throwaway", true, "no throwaway database left behind");
			} else {
				df_buf names = DF_BUF_INIT;
				for (size_t i = 0; i < left.nr; i++)
					df_buf_printf(&names, "%s%s", i ? ", " : "", left.v[i]);
				check(ctx, list, "throwaway", false, "%zu throwaway database%s left by a run that "
					"was killed: %s; drop %s with DROP DATABASE", left.nr, left.nr == 1 ? "" : "s",
					names.ptr, left.nr == 1 ? "it" : "them");
				df_buf_release(&names);
				status = CLI_EXIT_FAILED;
			}
			df_strlist_release(&left);
		}
	}
done:
	if (status == CLI_EXIT_OK) {
		cli_say(ctx, "\nAll checks passed.\n");
		cli_next(ctx, "devflow db status%s", e);
	}
	if (status != CLI_EXIT_OK && failure) {
		/* the checks are listed above; the error is the first that failed */
		df_error_restore(failure);
		failure = NULL;
		if (ctx->dsn)
			df_dsn_scrub(ctx->dsn, ((df_error *)df_error_last())->message);
		if (ctx->json) {
			const df_error *le = df_error_last();
			json_t *err = json_object();
			json_object_set_new(err, "kind", json_string(df_error_kind(le->code)));
			char *m = cli_error_words(le, le->message), *h = cli_error_words(le, le->hint);
			json_object_set_new(err, "message", json_string(m ? m : le->message));
			json_object_set_new(err, "hint", cli_json_str(h));
			free(m);
			free(h);
			json_object_set_new(ctx->result, "error", err);
		}
	}
	df_error_free(failure);
	json_object_set_new(ctx->result, "ok", json_boolean(status == CLI_EXIT_OK));
	status = cli_finish(ctx, status);
	df_conn_close(conn);
	df_migration_set_free(set);
	df_target_free(t);
	df_config_free(cfg);
	return status;
}
