/*
 * devflow db baseline [VERSION] [--accept-differences] [--confirm ENV]
 *
 * Mark the migrations up to VERSION applied on a database no tool managed,
 * after proving that they make its schema (core/baseline.c): prepare (the
 * proof and the verdict), maybe a person's answer, execute.  Exit 0
 * recorded; 1 the schemas differ (the differences, next and ask); 2 a
 * database with a history already, or a VERSION not in the folder; 3 a
 * person must confirm accepted differences (staging, production).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devflow/baseline.h"
#include "devflow/buf.h"
#include "util/banned.h"

/* The differences for people: "  ~ table users" and its details below. */
static void say_differences(struct cli_ctx *ctx, const df_baseline *b, FILE *f)
{
	if (!b->differences.nr)
		return;
	fprintf(f, "The live schema differs from the %zu migration%s up to %s (+ only the live "
		"database has it, - only the migrations make it, ~ both, differently):\n", b->n,
		b->n == 1 ? "" : "s", b->version ? b->version : "the first");
	for (size_t i = 0; i < b->differences.nr; i++)
		fprintf(f, "  %s%s%s\n", cli_c(ctx, b->differences.v[i][0] == '+' ? "green" :
			b->differences.v[i][0] == '-' ? "red" : "reset"), b->differences.v[i], cli_c(ctx, "reset"));
}

static void suggest(struct cli_ctx *ctx, df_baseline *b)
{
	const char *sel = cli_env_arg(ctx);

	for (size_t i = 0; i < b->next.nr; i++) {
		char *c = cli_cmd_string(b->next.v[i], sel);
		if (c)
			cli_next(ctx, "%s", c);
		free(c);
	}
	if (b->ask) {
		cli_ask(ctx, b->ask);
		b->ask = NULL;
	}
}

static void result_json(struct cli_ctx *ctx, const df_baseline *b, const df_session *s)
{
	json_t *rec = json_array(), *proof = json_object();

	for (size_t i = 0; i < b->recorded.nr; i++) {
		const df_migration *m = df_migration_set_find(s->set, b->recorded.v[i]);
		json_t *o = json_object();
		json_object_set_new(o, "version", json_string(b->recorded.v[i]));
		json_object_set_new(o, "name", m ? json_string(m->name) : json_null());
		json_object_set_new(o, "file", m ? json_string(m->file) : json_null());
		json_object_set_new(o, "checksum", m ? json_string(m->checksum) : json_null());
		json_object_set_new(o, "state", json_string("applied"));
		json_object_set_new(o, "adopted_from", json_string("baseline"));
		json_array_append_new(rec, o);
	}
	json_object_set_new(ctx->result, "version", cli_json_str(b->version));
	json_object_set_new(ctx->result, "recorded", rec);
	json_object_set_new(ctx->result, "written", cli_json_str(b->written));
	json_object_set_new(ctx->result, "differences", cli_drift_changes_json(&b->differences));
	json_object_set_new(ctx->result, "accepted_differences", json_boolean(b->accepted));
	json_object_set_new(proof, "migrations", json_integer((json_int_t)b->n));
	json_object_set_new(proof, "objects", json_integer((json_int_t)b->objects));
	json_object_set_new(proof, "schema_sha256", b->hash[0] ? json_string(b->hash) : json_null());
	json_object_set_new(proof, "equal", json_boolean(!b->differences.nr && b->hash[0]));
	json_object_set_new(ctx->result, "proof", proof);
	if (b->nearest)
		json_object_set_new(ctx->result, "nearest", json_string(b->nearest));
	if (b->missing) {
		json_t *miss = json_array();
		json_array_append_new(miss, json_string(df_gate_name(DF_GATE_CONFIRMATION)));
		json_object_set_new(ctx->result, "missing", miss);
	}
}

/* A person at the terminal answers the ask (typed yes); true: consent. */
static bool ask_here(struct cli_ctx *ctx, df_baseline *b)
{
	if (ctx->json || !ctx->tty_in || !b->ask)
		return false;
	cli_ask_words(b->ask, cli_env_arg(ctx));
	if (b->ask->why)
		fprintf(stderr, "%s\n", b->ask->why);
	return cli_prompt(NULL, b->ask->question, "yes");
}

int cmd_db_baseline(int argc, char **argv, struct cli_ctx *ctx)
{
	df_baseline_opts bo = DF_BASELINE_OPTS_INIT;
	const char *confirm = NULL;
	bool accept = false;
	struct cli_opt opts[] = {
		{ "--accept-differences", 0, NULL, &accept },
		{ "--confirm", 1, &confirm, NULL },
		{ NULL, 0, NULL, NULL },
	};
	df_session s;
	df_baseline *b = NULL;
	df_target *dev = NULL;
	char **ops;
	int nops, error, status;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops > 1)
		return cli_usage_error(ctx, "'db baseline' takes at most one VERSION");
	bo.to = nops ? ops[0] : NULL;
	bo.accept_differences = accept;
	bo.confirm = confirm;
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_EXISTING | CLI_S_FILES | CLI_S_LOCK |
		CLI_S_PLAN | CLI_S_WRITES | (bo.to ? 0 : CLI_S_NO_FOLDER_OK), false)) < 0)
		goto fail;
	/* the scratch database: [project] dev_url's server, as diff verifies */
	if (s.cfg->dev_url && strcmp(s.target->dsn->engine, "sqlite")) {
		if ((error = df_target_resolve(&dev, s.cfg, s.target->env, s.cfg->dev_url)) < 0)
			goto fail;
		if (!strcmp(dev->dsn->engine, s.target->dsn->engine))
			bo.server = dev->dsn;
	}
	cli_say(ctx, "%s%s%s · %s · policy %s\n", cli_c(ctx, "bold"), s.target->env, cli_c(ctx, "reset"),
		s.target->redacted, df_policy_name(s.target->policy));
	error = df_baseline_prepare(&b, &s, &bo);
	if (!b)
		goto fail;
	say_differences(ctx, b, ctx->json ? stderr : ctx->out);
	if (b->stop == DF_BASELINE_STOP_PERSON && ask_here(ctx, b)) {
		df_baseline_consent(b);
		error = 0;
	}
	if (b->stop != DF_BASELINE_GO) {
		/* a gate's refusal is recorded, as a migrate's is; a failed proof
		 * writes nothing (not even devflow's tables) */
		if (b->stop == DF_BASELINE_STOP_PERSON)
			cli_audit(ctx, &s, "baseline", "refused", "baseline refused: accepting the "
				"differences needs a person's confirmation", NULL, NULL);
		result_json(ctx, b, &s);
		suggest(ctx, b);
		goto fail;
	}
	if ((error = df_baseline_execute(b, &s)) < 0) {
		result_json(ctx, b, &s);
		goto fail;
	}
	if (b->written)
		cli_say(ctx, "Wrote %s: the schema of the database (%zu object%s), as its first migration.\n",
			b->written, b->objects, b->objects == 1 ? "" : "s");
	if (b->accepted)
		cli_say(ctx, "Accepted %zu difference%s as drift (recorded in the audit log with who "
			"accepted them).\n", df_baseline_objects(&b->differences),
			df_baseline_objects(&b->differences) == 1 ? "" : "s");
	else
		cli_say(ctx, "Proved: the %zu migration%s up to %s, replayed into a throwaway database, "
			"make the live schema (%zu object%s).\n", b->n, b->n == 1 ? "" : "s",
			b->version ? b->version : "the first", b->objects, b->objects == 1 ? "" : "s");
	cli_say(ctx, "%sRecorded %zu migration%s as applied%s%s (baseline).%s\n", cli_c(ctx, "green"),
		b->recorded.nr, b->recorded.nr == 1 ? "" : "s", b->version ? " up to " : "",
		b->version ? b->version : "", cli_c(ctx, "reset"));
	result_json(ctx, b, &s);
	suggest(ctx, b);
	status = cli_finish(ctx, CLI_EXIT_OK);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	df_baseline_free(b);
	df_target_free(dev);
	df_session_close(&s);
	return status;
}
