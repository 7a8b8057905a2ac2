/*
 * devflow db seed: run the seed files for the environment: every .sql file of seeds/, then
 * those of seeds/<env>/, in name order, each in its own transaction where the
 * engine allows.  The seeds are a source of the migrate workflow
 * (core/source.c), so the environment's policy guards them with exactly the
 * gates of a migrate: a dry-run receipt, a backup, confirmation, accepted risk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/source.h"
#include "util/banned.h"

static void result_json(struct cli_ctx *ctx, const df_wf_result *r)
{
	json_t *doc = ctx->result, *done = json_array();

	for (size_t i = 0; i < r->run.nr; i++) {
		const df_run_step *st = &r->run.steps[i];
		json_t *o;
		if (st->error)
			continue;
		o = json_object();
		json_object_set_new(o, "file", json_string(st->mig->path));
		json_object_set_new(o, "statements", json_integer(st->statements));
		json_object_set_new(o, "duration_ms", json_integer(st->duration_ms));
		json_array_append_new(done, o);
	}
	json_object_set_new(doc, "seeded", done);
	cli_gates_json(doc, r);
}

int cmd_db_seed(int argc, char **argv, struct cli_ctx *ctx)
{
	df_wf_opts o = { 0 };
	struct cli_opt opts[] = {
		{ "--yes", 0, NULL, &o.yes },
		{ "-y", 0, NULL, &o.yes },
		{ "--confirm", 1, &o.confirm, NULL },
		{ "--dry-run", 0, NULL, &o.dry_run },
		{ "--backup", 0, NULL, &o.backup },
		{ "--accept-risk", 0, NULL, &o.accept_risk },
		{ NULL, 0, NULL, NULL },
	};
	df_wf_result res = { 0 };
	df_source *src = NULL;
	df_source_item *items = NULL;
	df_session s;
	df_buf dir = DF_BUF_INIT;
	char **ops;
	size_t nr = 0;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	o.interactive = ctx->tty_in && !ctx->json;
	o.select = cli_env_arg(ctx);
	if (o.dry_run)
		json_object_set_new(ctx->result, "dry_run", json_true());
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_LOCK | CLI_S_ENSURE | CLI_S_WRITES |
		(o.dry_run ? CLI_S_DRY : 0),
		o.yes || o.confirm)) < 0)
		goto fail;
	df_buf_printf(&dir, "%s/%s", s.cfg->seeds, s.target->env);
	if ((error = df_source_seeds_new(&src, s.cfg->seeds, dir.ptr)) < 0 ||
	    (error = src->list(src, &items, &nr)) < 0)
		goto fail;
	free(items);
	if (!nr) {
		cli_say(ctx, "No seed files in %s/ or %s/.\n", s.cfg->seeds, dir.ptr);
		json_object_set_new(ctx->result, "seeded", json_array());
		status = cli_finish(ctx, 0);
		goto out;
	}
	o.source = src;
	error = cli_seed_run(&res, ctx, &s, &o);
	result_json(ctx, &res);
	/* a seed that failed suggests nothing (the error says what failed) */
	cli_wf_suggest(ctx, &res, o.select, !(error < 0 && res.ran));
	status = error < 0 ? cli_fail(ctx, error) : cli_finish(ctx, 0);
	goto out;
fail:
	json_object_set_new(ctx->result, "seeded", json_array());
	status = cli_fail(ctx, error);
out:
	df_wf_result_release(&res);
	df_source_free(src);
	df_buf_release(&dir);
	df_session_close(&s);
	return status;
}
