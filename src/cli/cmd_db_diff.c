/*
 * devflow db diff [--from A] [--to B] [--exit-code] [--no-verify] [--schema NAME]
 *                 [--dialect D] [--format sql]
 *
 * The DDL that turns A into B.  A side is an environment, a URL, or a .sql
 * file; a file is loaded into a throwaway database (SQLite in memory; on a
 * server a temporary database on the other side's server, or the target's)
 * and read back, so the engine is the parser.  Defaults: --from the target,
 * --to the declarative schema file ([project] schema, schema.sql).
 *
 * This file keeps to the library's public API and to cli.h's output
 * helpers; it opens its own connections instead of a CLI session.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/schema.h"
#include "util/banned.h"

struct side {
	const char *arg;        /* as given */
	bool is_file;
	char *label;            /* redacted URL, env name or file path */
	df_target *target;      /* env or URL */
	df_dsn *dsn;            /* URL only (owned) */
	df_schema *schema;
};

static bool looks_like_url(const char *s)
{
	return strstr(s, "://") || !strncmp(s, "sqlite:", 7);
}

static bool looks_like_file(const char *s)
{
	size_t n = strlen(s);
	struct stat st;

	return (n > 4 && !strcmp(s + n - 4, ".sql")) || (!looks_like_url(s) && strchr(s, '/') &&
		stat(s, &st) == 0 && S_ISREG(st.st_mode));
}

static const df_dsn *side_dsn(const struct side *s)
{
	return s->target ? s->target->dsn : s->dsn;
}

static int open_side(struct side *s, const df_config *cfg, struct cli_ctx *ctx)
{
	int error;

	if (s->is_file)
		return 0;
	if (looks_like_url(s->arg)) {
		if ((error = df_target_resolve(&s->target, cfg, ctx->env, s->arg)) < 0)
			return error;
	} else if ((error = df_target_resolve(&s->target, cfg, s->arg, NULL)) < 0)
		return error;
	if (!(s->label = strdup(s->target->redacted)))
		return df_error_oom();
	return 0;
}

static void scrub_error(const df_dsn *dsn)
{
	const df_error *e = df_error_last();
	if (e && e->message && dsn)
		df_dsn_scrub(dsn, e->message);
}

/* The TLS rule for an environment's connection (a warning, or require_tls). */
static int check_tls(struct cli_ctx *ctx, df_conn *conn, const df_target *t)
{
	df_strlist warn = DF_STRLIST_INIT;
	df_reach r;
	int error;

	if ((error = df_reach_before(&r, t->dsn)) == 0 && (error = df_reach_after(&r, conn)) == 0)
		error = df_reach_tls_check(&r, t, &warn);
	cli_warnings(ctx, &warn);
	df_strlist_release(&warn);
	df_reach_release(&r);
	return error;
}

/* Connect to a side and check its TLS rule. */
static int open_db(df_conn **out, const df_dsn *dsn, const char *redacted, long wait_ms,
	struct cli_ctx *ctx, const df_target *target)
{
	df_dsn copy = *dsn;
	int error;

	*out = NULL;
	copy.wait_ms = wait_ms;
	/* diff only reads: it never creates a SQLite file */
	if (!strcmp(dsn->engine, "sqlite") && dsn->database && strcmp(dsn->database, ":memory:") &&
	    !strchr(dsn->database, '?') && access(dsn->database, F_OK) < 0) {
		df_error_set(DF_EUSAGE, "the SQLite database '%s' does not exist", dsn->database);
		df_error_hint("run 'devflow db migrate' first, or compare with a .sql file");
		return DF_EUSAGE;
	}
	if ((error = df_conn_open(out, &copy)) < 0) {
		scrub_error(dsn);
		df_error_prefix("cannot connect to %s", redacted);
		return error;
	}
	if (target && (error = check_tls(ctx, *out, target)) < 0) {
		df_conn_close(*out);
		*out = NULL;
		return error;
	}
	return 0;
}

static int read_db(df_schema **out, const df_dsn *dsn, const char *redacted,
	const df_schema_opts *opts, long wait_ms, struct cli_ctx *ctx, const df_target *target)
{
	df_conn *conn;
	int error;

	if ((error = open_db(&conn, dsn, redacted, wait_ms, ctx, target)) < 0)
		return error;
	error = df_schema_read(out, conn, opts);
	scrub_error(dsn);
	df_conn_close(conn);
	return error;
}

/* One side read on a thread of its own; its error comes back saved. */
struct side_read {
	df_conn *conn;
	const df_schema_opts *opts;
	df_schema *schema;
	int error;
	df_error *saved;
};

static void *side_read_worker(void *arg)
{
	struct side_read *r = arg;

	if ((r->error = df_schema_read(&r->schema, r->conn, r->opts)) < 0)
		r->saved = df_error_save();
	df_error_clear();       /* the thread's own error dies with it: free it */
	return NULL;
}

/*
 * Two databases are read at once, on a connection each: the time of a read
 * is nearly all the server's catalog queries (bench/results.md), and the
 * two sides' queries run on two backends side by side.  Connecting and the
 * TLS checks stay on this thread, in order, as do the messages.
 */
static int read_both(struct side *sides, const df_schema_opts *opts, long wait_ms,
	struct cli_ctx *ctx)
{
	df_conn *conn[2] = { NULL, NULL };
	struct side_read r = { 0 };
	pthread_t th;
	bool threaded = false;
	int error;

	for (int i = 0; i < 2; i++)
		if ((error = open_db(&conn[i], side_dsn(&sides[i]), sides[i].label, wait_ms, ctx,
			sides[i].dsn ? NULL : sides[i].target)) < 0)
			goto out;
	r.conn = conn[1];
	r.opts = opts;
	threaded = pthread_create(&th, NULL, side_read_worker, &r) == 0;
	error = df_schema_read(&sides[0].schema, conn[0], opts);
	if (error < 0)
		scrub_error(side_dsn(&sides[0]));
	if (threaded)
		pthread_join(th, NULL);
	else
		side_read_worker(&r);
	sides[1].schema = r.schema;
	if (error == 0 && r.error < 0) {
		df_error_restore(r.saved);
		r.saved = NULL;
		scrub_error(side_dsn(&sides[1]));
		error = r.error;
	}
out:
	df_error_free(r.saved);
	for (int i = 0; i < 2; i++)
		df_conn_close(conn[i]);
	return error;
}

/*
 * Check the script on a throwaway copy of the "from" side (df_diff_verify()).
 * Where: SQLite in memory; on a server, [project] dev_url, else the server
 * of a side whose environment is not production.  Only reading, db diff
 * never makes a database on a production server: with no other, the diff
 * goes unverified (`verified: false`) with a warning that says to set
 * dev_url, and *out stays NULL.
 */
static int verify(df_verified **out, struct cli_ctx *ctx, const df_config *cfg,
	const struct side *sides, const char *engine, const df_schema_opts *sopts, const char *script,
	const df_diff *diff, bool renamed)
{
	df_verify_opts vo = DF_VERIFY_OPTS_INIT;
	df_target *dev = NULL;
	df_schema *fresh = NULL;
	int error;

	*out = NULL;
	vo.engine = engine;
	vo.schema_opts = sopts;
	if (sides[0].is_file)
		vo.from_path = sides[0].arg;
	else
		vo.from = sides[0].schema;
	if (strcmp(engine, "sqlite")) {
		vo.server = NULL;
		if (cfg->dev_url) {
			if ((error = df_target_resolve(&dev, cfg, ctx->env, cfg->dev_url)) < 0)
				return error;
			if (strcmp(dev->dsn->engine, engine)) {
				error = df_error_set(DF_ECONFIG, "[project] dev_url is %s, the diff %s",
					dev->dsn->engine, engine);
				df_error_hint("name a server of the diff's engine in dev_url");
				df_target_free(dev);
				return error;
			}
			vo.server = dev->dsn;
		}
		for (int i = 0; i < 2 && !vo.server; i++) {
			const df_target *t = sides[i].target;
			if (t && t->policy != DF_POLICY_PRODUCTION && !strcmp(t->dsn->engine, engine))
				vo.server = t->dsn;
			else if (!t && sides[i].dsn && !strcmp(sides[i].dsn->engine, engine))
				vo.server = sides[i].dsn;
		}
		if (!vo.server) {
			df_strlist w = DF_STRLIST_INIT;
			json_object_set_new(ctx->result, "verified", json_false());
			df_strlist_push(&w, "the diff is not verified: db diff makes no throwaway "
				"database on a production server, and no other server is named (set "
				"[project] dev_url to one for throwaway copies)");
			cli_warnings(ctx, &w);
			df_strlist_release(&w);
			return 0;
		}
	}
	/* the diff renamed in its "from" schema: the copy is made from a fresh read */
	if (renamed && !sides[0].is_file) {
		if ((error = read_db(&fresh, side_dsn(&sides[0]), sides[0].label, sopts, 1, ctx,
			NULL)) < 0) {
			df_target_free(dev);
			return error;
		}
		vo.from = fresh;
	}
	/* only what the diff touches, unless DEVFLOW_VERIFY_WHOLE (docs/devflow.1) */
	vo.diff = renamed ? NULL : diff;
	vo.whole = getenv("DEVFLOW_VERIFY_WHOLE") && *getenv("DEVFLOW_VERIFY_WHOLE");
	cli_verbose(ctx, "verifying the diff on a throwaway copy of %s\n", sides[0].label);
	error = df_diff_verify(out, &vo, script, sides[1].schema);
	if (error == 0 && (*out)->part)
		cli_verbose(ctx, "verified what the diff touches: %zu of the sides' %zu objects\n",
			(*out)->part_objects, (*out)->all_objects);
	df_schema_free(fresh);
	df_target_free(dev);
	return error;
}

static void side_release(struct side *s)
{
	free(s->label);
	df_target_free(s->target);
	df_dsn_free(s->dsn);
	df_schema_free(s->schema);
}

/* Does a not-compared object differ between the sides (a GRANT on one)? */
static bool uncompared_differ(const df_diff *d)
{
	for (size_t i = 0; i < d->nunc; i++)
		if (df_uncompared_counts(&d->unc[i]))
			return true;
	return false;
}

static json_t *uncompared_json(const df_diff *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->nunc; i++) {
		const df_uncompared *u = &d->unc[i];
		json_t *o = json_object(), *in = json_array();
		if (u->in_from)
			json_array_append_new(in, json_string("from"));
		if (u->in_to)
			json_array_append_new(in, json_string("to"));
		json_object_set_new(o, "class", json_string(u->cls));
		json_object_set_new(o, "object", json_string(u->object));
		json_object_set_new(o, "in", in);
		json_object_set_new(o, "differs", json_boolean(df_uncompared_counts(u)));
		json_object_set_new(o, "used_by", cli_json_strlist(&u->used_by));
		json_array_append_new(a, o);
	}
	return a;
}

/*
 * What was not compared, one line an object: its class, on which side,
 * whether the sides' copies differ, and which written objects use it.
 * SQL comments, so the script still runs as it is.
 */
static void print_uncompared(const df_diff *d, const struct side *from, const struct side *to,
	bool after_changes)
{
	bool first = true;

	for (size_t i = 0; i < d->nunc; i++) {
		const df_uncompared *u = &d->unc[i];
		/* devflow's own tables are on every target: JSON lists them, the text does not */
		if (!strcmp(u->cls, DF_UNCOMPARED_HISTORY) && strstr(u->object, " (devflow)"))
			continue;
		if (first && after_changes)
			putchar('\n');
		first = false;
		printf("-- not compared (%s): %s", u->cls, u->object);
		if (u->in_from != u->in_to)
			printf(", only in %s", u->in_from ? from->label : to->label);
		else if (u->differs)
			printf(", differs between %s and %s", from->label, to->label);
		for (size_t k = 0; k < u->used_by.nr; k++)
			printf("%s%s", k ? ", " : "; written here and using it: ", u->used_by.v[k]);
		putchar('\n');
	}
}

int cmd_db_diff(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *from_arg = NULL, *to_arg = NULL, *schema_name = NULL, *dialect = NULL,
		*format = NULL;
	bool exit_code = false, no_verify = false, privileges = false;
	struct cli_opt opts[] = {
		{ "--no-verify", 0, NULL, &no_verify },
		{ "--privileges", 0, NULL, &privileges },
		{ "--from", 1, &from_arg, NULL },
		{ "--to", 1, &to_arg, NULL },
		{ "--schema", 1, &schema_name, NULL },
		{ "--dialect", 1, &dialect, NULL },
		{ "--format", 1, &format, NULL },
		{ "--exit-code", 0, NULL, &exit_code },
		{ NULL, 0, NULL, NULL },
	};
	struct side sides[2];
	df_config *cfg = NULL;
	df_diff *diff = NULL;
	df_verified *checked = NULL;
	df_strlist exclude = DF_STRLIST_INIT, schemas = DF_STRLIST_INIT, renames = DF_STRLIST_INIT;
	df_schema_opts sopts = DF_SCHEMA_OPTS_INIT;
	char *script = NULL, *schema_file = NULL, **ops;
	const char *engine = NULL;
	const df_dsn *server = NULL;
	int nops, error = 0, status;

	memset(sides, 0, sizeof(sides));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (format && strcmp(format, "sql"))
		return cli_usage_error(ctx, "unknown format '%s' for db diff (known: sql)", format);
	if (dialect) {
		df_dialect d;
		if (df_dialect_parse(&d, dialect) < 0)
			return cli_usage_error(ctx, "unknown dialect '%s' (postgres, mysql or sqlite)", dialect);
		engine = df_dialect_name(d);
	}
	if ((error = df_config_load(&cfg, ".")) < 0)
		goto fail;
	if (!to_arg) {
		if (!(schema_file = df_config_path(cfg, cfg->schema))) {
			error = df_error_oom();
			goto fail;
		}
		to_arg = schema_file;
	}
	sides[0].arg = from_arg;
	sides[1].arg = to_arg;
	for (int i = 0; i < 2; i++) {
		struct side *s = &sides[i];
		if (!s->arg) {
			/* the target */
			if ((error = df_target_resolve(&s->target, cfg, ctx->env, ctx->url)) < 0 ||
			    !(s->label = strdup(s->target->redacted))) {
				error = error < 0 ? error : df_error_oom();
				goto fail;
			}
			continue;
		}
		s->is_file = looks_like_file(s->arg);
		if (s->is_file) {
			if (!(s->label = strdup(s->arg))) {
				error = df_error_oom();
				goto fail;
			}
		} else if ((error = open_side(s, cfg, ctx)) < 0)
			goto fail;
	}
	/* the engine: the databases', else --dialect, else the target's */
	for (int i = 0; i < 2; i++) {
		const df_dsn *d = side_dsn(&sides[i]);
		if (!d)
			continue;
		if (engine && strcmp(engine, d->engine)) {
			error = df_error_set(DF_EUSAGE, "cannot compare %s with %s: one is %s, the other %s",
				sides[0].label, sides[1].label, engine, d->engine);
			goto fail;
		}
		engine = d->engine;
		if (!server && strcmp(d->engine, "sqlite"))
			server = d;
		ctx->dsn = d;
	}
	if (!engine || (!server && strcmp(engine, "sqlite"))) {
		df_target *t = NULL;
		if ((error = df_target_resolve(&t, cfg, ctx->env, ctx->url)) < 0)
			goto fail;
		if (!engine)
			engine = t->dsn->engine;
		if (!server && !strcmp(t->dsn->engine, engine)) {
			/* keep it alive with side 0 when that side is a file */
			if (sides[0].is_file && !sides[0].target) {
				sides[0].target = t;
				server = t->dsn;
				t = NULL;
			} else if (sides[1].is_file && !sides[1].target) {
				sides[1].target = t;
				server = t->dsn;
				t = NULL;
			}
		}
		df_target_free(t);
	}
	if (privileges && (error = df_schema_privileges_check(engine, "db diff")) < 0)
		goto fail;
	sopts.privileges = privileges;
	json_object_set_new(ctx->result, "engine", json_string(engine));
	json_object_set_new(ctx->result, "from", json_string(sides[0].label));
	json_object_set_new(ctx->result, "to", json_string(sides[1].label));

	if ((error = df_schema_own_tables(&exclude, cfg->table)) < 0)
		goto fail;
	sopts.exclude_tables = &exclude;
	if (schema_name) {
		if ((error = df_strlist_push(&schemas, schema_name)) < 0)
			goto fail;
		sopts.schemas = &schemas;
	}
	if (!sides[0].is_file && !sides[1].is_file &&
	    (error = read_both(sides, &sopts, ctx->lock_timeout_ms < 0 ? 1 : ctx->lock_timeout_ms,
		ctx)) < 0)
		goto fail;
	for (int i = 0; i < 2 && (sides[0].is_file || sides[1].is_file); i++) {
		struct side *s = &sides[i];
		if (s->is_file)
			error = df_schema_load_file(&s->schema, s->arg, engine, server, &sopts, i,
				df_run_sql_file);
		else
			error = read_db(&s->schema, side_dsn(s), s->label, &sopts,
				ctx->lock_timeout_ms < 0 ? 1 : ctx->lock_timeout_ms, ctx,
				s->dsn ? NULL : s->target);
		if (error < 0)
			goto fail;
	}
	if (sides[1].is_file && (error = df_schema_renames_read(&renames, sides[1].arg)) < 0)
		goto fail;
	if ((error = df_schema_diff_renamed(&diff, sides[0].schema, sides[1].schema, &renames)) < 0 ||
	    (error = df_diff_review(diff, sides[0].schema->server_version / 10000,
		&cfg->review_disabled)) < 0 ||
	    (error = df_diff_sql(&script, diff)) < 0)
		goto fail;
	if (diff->nr && !no_verify &&
	    (error = verify(&checked, ctx, cfg, sides, engine, &sopts, script, diff,
		renames.nr > 0)) < 0)
		goto fail;
	/* no change: nothing to check; --no-verify: not checked */
	json_object_set_new(ctx->result, "verified", json_boolean(!diff->nr));

	if (ctx->json) {
		json_object_set_new(ctx->result, "changes", cli_diff_changes_json(diff));
		json_object_set_new(ctx->result, "sql", json_string(script));
		json_object_set_new(ctx->result, "not_compared", cli_json_strlist(&diff->not_compared));
		json_object_set_new(ctx->result, "not_compared_objects", uncompared_json(diff));
		json_object_set_new(ctx->result, "ok", json_true());
	} else if (diff->nr) {
		if (diff->preamble)
			fputs(diff->preamble, stdout);
		for (size_t i = 0; i < diff->nr; i++) {
			const df_change *c = &diff->v[i];
			fputc('\n', stdout);
			if (c->destroys_data)
				printf("-- devflow: DESTROYS DATA (%s %s)\n", df_change_op_name(c->op), c->object);
			for (size_t k = 0; k < c->hazards.nr; k++)
				printf("-- %s\n", c->hazards.v[k]);
			fputs(c->sql, stdout);
		}
		if (diff->postamble)
			printf("\n%s", diff->postamble);
		print_uncompared(diff, &sides[0], &sides[1], true);
	} else {
		if (ctx->verbose && !uncompared_differ(diff))
			fprintf(stderr, "no difference between %s and %s\n", sides[0].label, sides[1].label);
		print_uncompared(diff, &sides[0], &sides[1], false);
	}
	if (checked && (error = cli_diff_verified(ctx, checked, "the diff",
		ctx->json ? NULL : stdout)) < 0)
		goto fail;
	status = cli_finish(ctx, exit_code && (diff->nr || uncompared_differ(diff)) ?
		CLI_EXIT_FAILED : CLI_EXIT_OK);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	free(script);
	free(schema_file);
	df_diff_free(diff);
	df_verified_free(checked);
	df_strlist_release(&exclude);
	df_strlist_release(&schemas);
	df_strlist_release(&renames);
	for (int i = 0; i < 2; i++)
		side_release(&sides[i]);
	df_config_free(cfg);
	return status;
}
