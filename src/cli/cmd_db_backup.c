/* devflow db backup [-o PATH] [--verify] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/banned.h"

struct progress_state {
	struct cli_ctx *ctx;
	struct timespec start, last;
};

static void progress(void *data, uint64_t bytes)
{
	struct progress_state *p = data;
	struct timespec now;
	double dt, since;

	if (!p->ctx->tty_err || p->ctx->quiet || p->ctx->json)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
	if (since < 0.2)
		return;
	p->last = now;
	dt = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
	fprintf(stderr, "\r\033[K  %.1f MB written, %.1f MB/s", (double)bytes / 1e6,
		dt > 0 ? (double)bytes / 1e6 / dt : 0.0);
}

/* Take a backup now and record it, with progress on a terminal. */
int cli_backup(struct cli_ctx *ctx, df_session *s, const char *path, unsigned int flags,
	df_backup_info *info)
{
	struct progress_state ps = { .ctx = ctx };
	int error;

	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	ps.last = ps.start;
	error = df_session_backup(s, path, flags, info, progress, &ps);
	if (ctx->tty_err && !ctx->quiet && !ctx->json)
		fprintf(stderr, "\r\033[K");
	return error;
}

int cmd_db_backup(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *path = NULL;
	bool verify = false, force = false;
	struct cli_opt opts[] = {
		{ "-o", 1, &path, NULL },
		{ "--output", 1, &path, NULL },
		{ "--verify", 0, NULL, &verify },
		{ "--force", 0, NULL, &force },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_backup_info info = { 0 };
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (force && !path)
		return cli_usage_error(ctx, "--force replaces the file named by -o PATH; give -o PATH");
	path = cli_path(ctx, path);
	/* the migration lock: a backup taken while a migrate runs would hold a
	 * history that disagrees with its schema (DDL is not in the snapshot) */
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_EXISTING | CLI_S_LOCK, false)) < 0 ||
	    (error = cli_backup(ctx, &s, path, (verify ? DF_BACKUP_VERIFY : 0) |
		(force ? DF_BACKUP_FORCE : 0), &info)) < 0) {
		if (info.path) {
			/* --verify failed: the file is kept and said to be unverified */
			json_object_set_new(ctx->result, "path", json_string(info.path));
			json_object_set_new(ctx->result, "size", json_integer((json_int_t)info.size));
			json_object_set_new(ctx->result, "sha256", json_string(info.sha256));
			json_object_set_new(ctx->result, "verified", json_false());
		}
		status = cli_fail(ctx, error);
		goto out;
	}
	cli_say(ctx, "%sBackup written:%s %s\n  %.1f MB, sha256 %s%s\n", cli_c(ctx, "green"),
		cli_c(ctx, "reset"), info.path, (double)info.size / 1e6, info.sha256,
		info.verified ? "\n  verified: every table and row count matches the database" : "");
	json_object_set_new(ctx->result, "path", json_string(info.path));
	json_object_set_new(ctx->result, "size", json_integer((json_int_t)info.size));
	json_object_set_new(ctx->result, "sha256", json_string(info.sha256));
	json_object_set_new(ctx->result, "verified", json_boolean(info.verified));
	cli_next(ctx, "devflow db migrate%s --dry-run", cli_env_arg(ctx));
	status = cli_finish(ctx, 0);
out:
	df_backup_info_release(&info);
	df_session_close(&s);
	return status;
}
