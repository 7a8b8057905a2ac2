/*
 * devflow db seed: run the seed files for the environment: every .sql file of seeds/, then
 * those of seeds/<env>/, in name order, each in its own transaction where the
 * engine allows.  The environment's policy guards it like a migrate.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/banned.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_sql(df_strlist *out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = out->nr;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] != '.' && n > 4 && !strcmp(de->d_name + n - 4, ".sql"))
			df_strlist_pushf(out, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (out->nr > first)
		qsort(out->v + first, out->nr - first, sizeof(char *), cmp);
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void ask_seed(struct cli_ctx *ctx, const char *question, const char *flag)
{
	df_buf then = DF_BUF_INIT;

	df_buf_printf(&then, "devflow db seed%s %s", cli_env_arg(ctx), flag);
	cli_ask_yes(ctx, question, "seeding writes data into a shared database", "yes", then.ptr);
	df_buf_release(&then);
}

int cmd_db_seed(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *confirm = NULL;
	bool yes = false;
	struct cli_opt opts[] = {
		{ "--yes", 0, NULL, &yes },
		{ "--confirm", 1, &confirm, NULL },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_strlist files = DF_STRLIST_INIT;
	df_buf dir = DF_BUF_INIT, summary = DF_BUF_INIT;
	json_t *done = json_array();
	char **ops;
	int nops, error = 0, status;
	size_t ok = 0;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0) {
		json_decref(done);
		return CLI_EXIT_USAGE;
	}
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_LOCK | CLI_S_ENSURE | CLI_S_WRITES,
		yes || confirm)) < 0)
		goto fail;
	list_sql(&files, s.cfg->seeds);
	df_buf_printf(&dir, "%s/%s", s.cfg->seeds, s.target->env);
	list_sql(&files, dir.ptr);
	if (!files.nr) {
		cli_say(ctx, "No seed files in %s/ or %s/.\n", s.cfg->seeds, dir.ptr);
		json_object_set_new(ctx->result, "seeded", done);
		done = NULL;
		status = cli_finish(ctx, 0);
		goto out;
	}
	if (s.target->policy == DF_POLICY_PRODUCTION &&
	    (!confirm || (strcmp(confirm, "production") && strcmp(confirm, s.target->env)))) {
		error = df_error_set(DF_EGATE, "seeding production writes data there; it needs --confirm production");
		ask_seed(ctx, "Type 'yes' to run the seed files on PRODUCTION", "--confirm production");
		goto fail;
	}
	if (s.target->policy == DF_POLICY_STAGING && !yes && !confirm) {
		error = df_error_set(DF_EGATE, "seeding staging needs confirmation: pass --yes");
		ask_seed(ctx, "Run the seed files on staging?", "--yes");
		goto fail;
	}
	for (size_t i = 0; i < files.nr; i++) {
		struct timespec t0;
		long n = 0;
		bool tx = df_conn_has(s.conn, DF_CAP_TRANSACTIONAL_DDL);
		json_t *o;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (tx && (error = df_conn_begin(s.conn)) < 0)
			goto fail;
		error = df_run_sql_file(s.conn, files.v[i], &n);
		if (tx)
			error = error ? (df_conn_rollback(s.conn), error) : df_conn_commit(s.conn);
		if (error < 0) {
			const df_error *e = df_error_last();
			char *m = strdup(e->message);
			df_buf_printf(&summary, "seeded %zu of %zu file(s), then failed", ok, files.nr);
			cli_audit(ctx, &s, "seed", "failed", summary.ptr, NULL, m);
			df_error_set(error, "%s", m ? m : "seed failed");
			free(m);
			goto fail;
		}
		o = json_object();
		json_object_set_new(o, "file", json_string(files.v[i]));
		json_object_set_new(o, "statements", json_integer(n));
		json_object_set_new(o, "duration_ms", json_integer(ms_since(&t0)));
		json_array_append_new(done, o);
		cli_say(ctx, "  %sseeded%s %s (%ld statement%s)\n", cli_c(ctx, "green"), cli_c(ctx, "reset"),
			files.v[i], n, n == 1 ? "" : "s");
		ok++;
	}
	df_buf_printf(&summary, "seeded %zu file(s)", ok);
	cli_audit(ctx, &s, "seed", "ok", summary.ptr, NULL, NULL);
	json_object_set_new(ctx->result, "seeded", done);
	done = NULL;
	cli_next(ctx, "devflow db status%s", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
	goto out;
fail:
	json_object_set_new(ctx->result, "seeded", done);
	done = NULL;
	status = cli_fail(ctx, error);
out:
	json_decref(done);
	df_strlist_release(&files);
	df_buf_release(&dir);
	df_buf_release(&summary);
	df_session_close(&s);
	return status;
}
