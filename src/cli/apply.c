/*
 * What `db migrate` and `db rollback` share: preview, the safety gates of the
 * environment's policy, the run itself, verification and the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "devflow/review.h"
#include "util/fs.h"
#include "util/banned.h"

int cli_apply(int argc, char **argv, struct cli_ctx *ctx, bool rollback);

struct apply_opts {
	bool dry_run, yes, backup, out_of_order, accept_risk;
	size_t high_risk;       /* high-risk review findings in what will run */
	const char *to, *steps, *confirm;
};

/* Ask on the terminal; true when the answer is what we want. */
static bool ask(struct cli_ctx *ctx, const char *prompt, bool typed_yes)
{
	char line[64];

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	if (typed_yes)
		return !strcmp(line, "yes");
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

static void progress(void *data, const df_migration *m, int phase, long done, long total)
{
	struct cli_ctx *ctx = data;

	if (phase == DF_PROGRESS_STATEMENT && ctx->tty_err && !ctx->quiet && done % 1000 == 0)
		fprintf(stderr, "\r  … %ld statements", done);
}

static int refuse(struct cli_ctx *ctx, const char *next, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct cli_ctx *ctx, const char *next, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	df_error_set(DF_EGATE, "%s", b.ptr);
	if (next) {
		df_error_hint("%s", next);
		cli_next(ctx, "%s", next);
	}
	df_buf_release(&b);
	return DF_EGATE;
}

/*
 * The gates of the policy.  Returns 0 to go on, DF_EGATE when refused (the
 * error and `next` say what is missing).
 */
static int gates(struct cli_ctx *ctx, struct cli_session *s, const struct apply_opts *o,
	size_t n, const char *set_hash, bool rollback, bool *take_backup)
{
	df_policy pol = s->target->policy;
	const char *env = s->target->env, *e = cli_env_arg(ctx);
	const char *verb = rollback ? "rollback" : "migrate";
	df_receipt_state st;
	long age;
	int error;
	char prompt[256];

	*take_backup = false;
	if (pol == DF_POLICY_LOCAL)
		return 0;
	/* A recorded dry-run of this very set on this very database. */
	if ((error = df_gate_dryrun(&st, &age, s->conn, s->cfg->table, set_hash, s->server,
		s->cfg->dryrun_max_age)) < 0)
		return error;
	json_object_set_new(ctx->result, "dry_run_receipt", json_string(df_receipt_state_name(st)));
	if (st != DF_RECEIPT_OK) {
		char next[256];
		snprintf(next, sizeof(next), "devflow db %s%s --dry-run", verb, e);
		switch (st) {
		case DF_RECEIPT_STALE:
			return refuse(ctx, next, "the dry-run recorded for %s is %ld h old (the %s policy "
				"accepts %ld h)", env, age / 3600, df_policy_name(pol), s->cfg->dryrun_max_age / 3600);
		case DF_RECEIPT_OTHER_SET:
			return refuse(ctx, next, "the dry-run recorded for %s was for other migrations "
				"than the %zu about to run", env, n);
		case DF_RECEIPT_OTHER_DB:
			return refuse(ctx, next, "the dry-run recorded here was run against another database");
		default:
			return refuse(ctx, next, "the %s policy requires a dry-run of these %zu migration(s) "
				"on %s first", df_policy_name(pol), n, env);
		}
	}
	if (o->high_risk && !o->accept_risk && !ctx->tty_in) {
		char next[256];
		snprintf(next, sizeof(next), "devflow db review%s", e);
		cli_next(ctx, "%s", next);
		snprintf(next, sizeof(next), "devflow db %s%s --accept-risk %s", verb, e,
			pol == DF_POLICY_PRODUCTION ? "--confirm production" : "--yes");
		return refuse(ctx, next, "the review found %zu high-risk change%s; under the %s policy "
			"the confirmation must say so with --accept-risk", o->high_risk,
			o->high_risk == 1 ? "" : "s", df_policy_name(pol));
	}
	if (o->high_risk && !o->accept_risk && ctx->tty_in) {
		snprintf(prompt, sizeof(prompt), "The review found %zu high-risk change%s (see above). "
			"Type 'accept risk' to go on: ", o->high_risk, o->high_risk == 1 ? "" : "s");
		fprintf(stderr, "%s", prompt);
		char line[64];
		if (!fgets(line, sizeof(line), stdin) || strncmp(line, "accept risk", 11))
			return refuse(ctx, NULL, "high-risk changes not accepted; nothing was %s",
				rollback ? "reverted" : "applied");
	}
	if (pol == DF_POLICY_STAGING) {
		if (o->yes || (o->confirm && !strcmp(o->confirm, env)))
			return 0;
		if (!ctx->tty_in) {
			char next[256];
			snprintf(next, sizeof(next), "devflow db %s%s --yes", verb, e);
			return refuse(ctx, next, "applying to %s needs confirmation; not on a terminal, "
				"so pass --yes", env);
		}
		snprintf(prompt, sizeof(prompt), "%s %zu migration%s %s %s? [y/N] ",
			rollback ? "Revert" : "Apply", n, n == 1 ? "" : "s", rollback ? "on" : "to", env);
		if (!ask(ctx, prompt, false))
			return refuse(ctx, NULL, "not confirmed; nothing was %s", rollback ? "reverted" : "applied");
		return 0;
	}
	/* production */
	fprintf(stderr, "\n%s  PRODUCTION  %s %s %zu migration%s on %s (%s)\n"
		"Have the rollback plan ready: `devflow db rollback%s --dry-run` shows it.\n\n",
		cli_c(ctx, "banner"), cli_c(ctx, "reset"), rollback ? "reverting" : "applying", n,
		n == 1 ? "" : "s", env, s->target->redacted, e);
	if ((error = df_gate_backup(&st, &age, s->conn, s->cfg->table, s->server,
		s->cfg->backup_max_age)) < 0)
		return error;
	json_object_set_new(ctx->result, "backup_receipt", json_string(df_receipt_state_name(st)));
	if (st != DF_RECEIPT_OK) {
		if (!o->backup) {
			char next[256];
			snprintf(next, sizeof(next), "devflow db %s%s --backup --confirm production", verb, e);
			return refuse(ctx, next, "production needs a backup taken in the last %ld minutes%s",
				s->cfg->backup_max_age / 60, st == DF_RECEIPT_STALE ? " (the last one is older)" : "");
		}
		*take_backup = true;
	}
	if (o->confirm && (!strcmp(o->confirm, "production") || !strcmp(o->confirm, env)))
		return 0;
	if (!ctx->tty_in) {
		char next[256];
		snprintf(next, sizeof(next), "devflow db %s%s%s --confirm production", verb, e,
			o->backup ? " --backup" : "");
		return refuse(ctx, next, "production needs typed confirmation; not on a terminal, so "
			"pass --confirm production (--yes is not enough)");
	}
	snprintf(prompt, sizeof(prompt), "Type 'yes' to %s %zu migration%s %s PRODUCTION: ",
		rollback ? "revert" : "apply", n, n == 1 ? "" : "s", rollback ? "on" : "to");
	if (!ask(ctx, prompt, true))
		return refuse(ctx, NULL, "not confirmed (only the word 'yes' confirms); nothing was %s",
			rollback ? "reverted" : "applied");
	return 0;
}

/* Write the rollback plan for what was just applied; returns its path. */
static char *rollback_plan(struct cli_session *s, const df_migration **migs, size_t n,
	struct cli_ctx *ctx)
{
	df_buf path = DF_BUF_INIT, doc = DF_BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	FILE *f;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	df_mkdirs(".devflow/rollback", 0755, true);
	df_buf_printf(&path, ".devflow/rollback/%s-%s.md", stamp, s->target->env);
	df_buf_printf(&doc, "# Rollback plan: %s, %s\n\nApplied %zu migration(s) to %s (%s).\n\n"
		"To revert them all:\n\n    devflow db rollback%s --steps %zu\n\n",
		s->target->env, stamp, n, s->target->env, s->target->redacted, cli_env_arg(ctx), n);
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
			df_strlist acts = DF_STRLIST_INIT;
			df_buf_printf(&doc, "IRREVERSIBLE: no DOWN section. To undo it, write a reverse "
				"migration (`devflow db create revert_%s`) or restore a backup.\n", m->name);
			cli_actions(&acts, m, df_conn_dialect(s->conn));
			for (size_t k = 0; k < acts.nr; k++)
				if (strstr(acts.v[k], "destroys data"))
					df_buf_printf(&doc, "- lost for good: %s\n", acts.v[k]);
			df_buf_puts(&doc, "\n");
			df_strlist_release(&acts);
		}
	}
	if (!(f = fopen(path.ptr, "w"))) {
		df_buf_release(&path);
		df_buf_release(&doc);
		return NULL;
	}
	fwrite(doc.ptr, 1, doc.size, f);
	fclose(f);
	df_buf_release(&doc);
	return df_buf_detach(&path);
}

/*
 * The preview of one migration: its actions in plain English and its review
 * findings (one read and one parse for both); counts high-risk findings.
 */
static void review_one(struct cli_ctx *ctx, struct cli_session *s, const df_migration *m,
	struct apply_opts *o, json_t *out)
{
	df_review_result *r = NULL;
	df_review_opts ro;
	df_identity id;
	char *text;
	size_t len;

	if (m->up.len > 4 * 1024 * 1024) {
		/* "run a large migration (N MB)", from the size alone */
		df_strlist acts = DF_STRLIST_INIT;
		cli_actions(&acts, m, df_conn_dialect(s->conn));
		for (size_t k = 0; k < acts.nr; k++)
			cli_say(ctx, "      - %s\n", acts.v[k]);
		df_strlist_release(&acts);
	}
	if (m->up.len > 16 * 1024 * 1024 || df_section_read(&text, &len, &m->up) < 0) {
		df_error_clear();
		return;
	}
	df_review_opts_init(&ro);
	ro.dialect = df_conn_dialect(s->conn);
	if (ro.dialect == DF_DIALECT_POSTGRES && df_conn_identity(s->conn, &id) == 0 && id.version_num >= 90000)
		ro.pg_version = id.version_num / 10000;
	ro.in_transaction = !m->no_transaction;
	ro.base_line = m->up.line;
	ro.disabled = &s->cfg->review_disabled;
	if (ro.dialect == DF_DIALECT_POSTGRES) {        /* current column types */
		ro.column_type = df_review_column_type_conn;
		ro.column_type_payload = s->conn;
	}
	if (df_review_run(&r, &ro, m->path, text, len) == 0) {
		for (size_t k = 0; m->up.len <= 4 * 1024 * 1024 && k < r->actions.nr; k++)
			cli_say(ctx, "      - %s\n", r->actions.v[k]);
		for (size_t i = 0; i < r->nr_findings; i++) {
			const df_review_finding *f = &r->findings[i];
			json_t *j = json_object();
			if (f->risk == DF_RISK_HIGH)
				o->high_risk++;
			if (f->risk >= DF_RISK_MEDIUM || ctx->verbose)
				cli_say(ctx, "      %s! %s%s (%s risk, line %d): %s\n",
					cli_c(ctx, f->risk == DF_RISK_HIGH ? "red" : "yellow"), f->rule,
					cli_c(ctx, "reset"), df_review_risk_name(f->risk), f->line, f->message);
			json_object_set_new(j, "rule", json_string(f->rule));
			json_object_set_new(j, "severity", json_string(df_review_severity_name(f->severity)));
			json_object_set_new(j, "risk", json_string(df_review_risk_name(f->risk)));
			json_object_set_new(j, "file", cli_json_str(f->file));
			json_object_set_new(j, "line", json_integer(f->line));
			json_object_set_new(j, "column", json_integer(f->column));
			json_object_set_new(j, "message", cli_json_str(f->message));
			json_object_set_new(j, "hint", cli_json_str(f->hint));
			json_array_append_new(out, j);
		}
	}
	df_review_result_free(r);
	free(text);
}

/* A schema snapshot; a failure is a warning, never a reason to stop. */
static char *snapshot(struct cli_ctx *ctx, struct cli_session *s, const char *tag)
{
	char *path = NULL;

	if (df_snapshot_take(&path, s->conn, s->target->dsn, s->target->env, tag) < 0) {
		fprintf(stderr, "%swarning:%s no schema snapshot %s: %s\n", cli_c(ctx, "yellow"),
			cli_c(ctx, "reset"), tag, df_error_last()->message);
		return NULL;
	}
	return path;
}

/* smoke = FILE.sql and after_migrate = COMMAND of the environment. */
static int after_hooks(struct cli_ctx *ctx, struct cli_session *s)
{
	const df_env_conf *ec = s->target->conf;
	int error;

	if (!ec)
		return 0;
	if (ec->smoke) {
		long n = 0;
		char *path = df_config_path(s->cfg, ec->smoke);
		error = path ? df_run_sql_file(s->conn, path, &n) : df_error_oom();
		json_object_set_new(ctx->result, "smoke", json_boolean(error == 0));
		if (error < 0) {
			df_error_prefix("smoke test %s failed (the migrations stay applied; no automatic rollback)", ec->smoke);
			free(path);
			return error;
		}
		cli_say(ctx, "Smoke test %s passed (%ld statement%s).\n", ec->smoke, n, n == 1 ? "" : "s");
		free(path);
	}
	if (ec->after_migrate) {
		df_buf cmd = DF_BUF_INIT;
		int rc;
		fflush(stdout);
		setenv("DEVFLOW_ENV", s->target->env, 1);
		df_buf_printf(&cmd, "%s", ec->after_migrate);
		rc = system(cmd.ptr);
		df_buf_release(&cmd);
		json_object_set_new(ctx->result, "after_migrate", json_boolean(rc == 0));
		if (rc != 0) {
			df_error_set(DF_EIO, "after_migrate command failed (exit %d); the migrations stay applied, no automatic rollback",
				WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
			df_error_hint("check the command in devflow.conf [env \"%s\"] after_migrate", s->target->env);
			return DF_EIO;
		}
		cli_say(ctx, "after_migrate command succeeded.\n");
	}
	return 0;
}

int cli_apply(int argc, char **argv, struct cli_ctx *ctx, bool rollback)
{
	struct apply_opts o = { 0 };
	struct cli_opt opts[] = {
		{ "--dry-run", 0, NULL, &o.dry_run },
		{ "--to", 1, &o.to, NULL },
		{ "--yes", 0, NULL, &o.yes },
		{ "-y", 0, NULL, &o.yes },
		{ "--confirm", 1, &o.confirm, NULL },
		{ "--backup", 0, NULL, &o.backup },
		{ rollback ? "--steps" : "--no-such-option", 1, &o.steps, NULL },
		{ rollback ? "--no-such-option" : "--out-of-order", 0, NULL, &o.out_of_order },
		{ "--accept-risk", 0, NULL, &o.accept_risk },
		{ NULL, 0, NULL, NULL },
	};
	struct cli_session s;
	df_run_opts ro = { 0 };
	df_run_result res = { 0 };
	const df_migration **migs = NULL;
	size_t n = 0;
	char set_hash[65], **ops;
	int nops, error = 0, status;
	bool take_backup = false, remote_ok;
	const char *e = cli_env_arg(ctx), *verb = rollback ? "rollback" : "migrate";
	json_t *steps, *findings = NULL;
	char *snap_before = NULL, *snap_after = NULL, *shadow_name = NULL;
	df_conn *shadow = NULL;
	bool snapshots;

	memset(&s, 0, sizeof(s));
	if (cli_parse(ctx, argc, argv, opts, &ops, &nops) < 0)
		return CLI_EXIT_USAGE;
	if (nops)
		return cli_usage_error(ctx, "unexpected argument '%s'", ops[0]);
	if (o.steps && o.to)
		return cli_usage_error(ctx, "--steps and --to cannot be used together");
	if (o.steps) {
		char *end;
		ro.steps = strtol(o.steps, &end, 10);
		if (*end || ro.steps < 1)
			return cli_usage_error(ctx, "--steps wants a positive number, not '%s'", o.steps);
	}
	if (o.to && !*o.to)
		return cli_usage_error(ctx, "--to wants a version");
	remote_ok = o.yes || o.confirm;
	json_object_set_new(ctx->result, "dry_run", json_boolean(o.dry_run));
	if ((error = cli_session_open(&s, ctx, CLI_S_DB | CLI_S_FILES | CLI_S_ENSURE | CLI_S_LOCK |
		CLI_S_PLAN | CLI_S_WRITES, remote_ok)) < 0)
		goto fail;

	/* The history must be settled first (exit 6). */
	{
		const df_problem *blk = df_plan_blocker(s.plan);
		if (blk) {
			int code = blk->kind == DF_PROBLEM_CHECKSUM ? DF_ECHECKSUM :
				blk->kind == DF_PROBLEM_MISSING ? DF_EMISSING : DF_EFAILED;
			df_error_set(code, "%s", blk->message);
			if (blk->kind == DF_PROBLEM_MISSING) {
				df_error_hint("restore the file, or if its effects are gone: devflow db resolve %s --rolled-back%s", blk->version, e);
				cli_next(ctx, "devflow db resolve %s --rolled-back%s", blk->version, e);
			} else if (blk->kind == DF_PROBLEM_CHECKSUM) {
				df_error_hint("restore the applied version of the file (put new changes in a new migration), "
					"or accept the edit: devflow db resolve %s --applied%s", blk->version, e);
				cli_next(ctx, "devflow db resolve %s --applied%s", blk->version, e);
			} else {
				df_error_hint("check the database by hand (`devflow db status%s` shows which statements ran), "
					"then: devflow db resolve %s --applied or --rolled-back", e, blk->version);
				cli_next(ctx, "devflow db status%s", e);
			}
			error = code;
			goto fail;
		}
	}
	if (o.to) {
		/* a typo must not become "revert everything": the version must exist */
		bool known = df_migration_set_find(s.set, o.to) != NULL;
		for (size_t i = 0; !known && i < s.ledger->nr; i++)
			known = !df_version_cmp(s.ledger->v[i].version, o.to);
		if (!known) {
			error = df_error_set(DF_EUSAGE, "no migration has version '%s'", o.to);
			df_error_hint("`devflow db status%s` lists the versions", e);
			goto fail;
		}
	}
	if (!rollback && !o.out_of_order) {
		for (size_t i = 0; i < s.plan->problems_nr; i++)
			if (s.plan->problems[i].kind == DF_PROBLEM_OUT_OF_ORDER) {
				error = refuse(ctx, NULL, "%s", s.plan->problems[i].message);
				df_error_hint("applying it now changes history others may rely on; if that is "
					"intended: devflow db migrate%s --out-of-order", e);
				cli_next(ctx, "devflow db migrate%s --out-of-order%s", e, o.dry_run ? " --dry-run" : "");
				goto fail;
			}
	}
	ro.flags = (o.dry_run ? DF_RUN_DRY_RUN : 0) | (o.out_of_order ? DF_RUN_OUT_OF_ORDER : 0);
	ro.to_version = o.to;
	ro.table = s.cfg->table;
	ro.progress = progress;
	ro.progress_data = ctx;
	if ((error = df_run_select(&migs, &n, s.plan, &ro, rollback)) < 0)
		goto fail;
	if (!n) {
		cli_say(ctx, "%sNothing to %s%s:%s %s\n", cli_c(ctx, "green"),
			rollback ? "roll back" : "apply", "", cli_c(ctx, "reset"),
			rollback ? "no migration is applied" : "every migration is applied");
		json_object_set_new(ctx->result, rollback ? "reverted" : "applied", json_array());
		json_object_set_new(ctx->result, "pending_after", json_integer((json_int_t)s.plan->pending));
		if (!rollback)
			cli_next(ctx, "devflow db status%s", e);
		status = cli_finish(ctx, 0);
		goto out;
	}
	/* Irreversible migrations stop a rollback before anything runs. */
	for (size_t i = 0; rollback && i < n; i++)
		if (!df_migration_reversible(migs[i])) {
			error = df_error_set(DF_EGATE, "migration '%s' is irreversible: it has no DOWN section",
				migs[i]->file);
			df_error_hint("write the reverse as a new migration: devflow db create revert_%s", migs[i]->name);
			cli_next(ctx, "devflow db create revert_%s", migs[i]->name);
			goto fail;
		}
	/* Read each selected file once, for the checks, preview, run and plan:
	 * files up to 1 MiB, 64 MiB in all; the rest stream from disk. */
	for (size_t i = 0, kept = 0; i < n && kept < 64 * 1024 * 1024; i++) {
		df_migration *m = (df_migration *)migs[i];      /* the session's set owns it */
		df_migration_preload(m, 1024 * 1024);
		kept += m->text ? (size_t)m->size : 0;
	}
	/* Every selected file must split before anything runs. */
	if ((error = df_run_check(migs, n, df_conn_dialect(s.conn), rollback)) < 0)
		goto fail;
	/* Preview: what will run, in plain English. */
	findings = json_array();
	cli_say(ctx, "%s%s%s · %s · policy %s\n", cli_c(ctx, "bold"), s.target->env, cli_c(ctx, "reset"),
		s.target->redacted, df_policy_name(s.target->policy));
	cli_say(ctx, "%s %zu migration%s%s:\n", o.dry_run ? "Dry-run of" : rollback ? "Reverting" : "Applying",
		n, n == 1 ? "" : "s", o.dry_run ? (rollback ? " (DOWN, rolled back)" : " (rolled back afterwards)") : "");
	for (size_t i = 0; i < n; i++) {
		cli_say(ctx, "  %s%s%s %s%s\n", cli_c(ctx, "bold"), migs[i]->version, cli_c(ctx, "reset"),
			migs[i]->name, migs[i]->no_transaction ? "  (no transaction)" : "");
		if (!rollback)
			review_one(ctx, &s, migs[i], &o, findings);
	}
	json_object_set_new(ctx->result, "findings", findings);
	findings = NULL;
	if (o.high_risk)
		cli_say(ctx, "\n%s%zu high-risk change%s%s: `devflow db review%s` explains each.\n",
			cli_c(ctx, "red"), o.high_risk, o.high_risk == 1 ? "" : "s", cli_c(ctx, "reset"),
			cli_env_arg(ctx));
	cli_say(ctx, "\n");
	{
		/* the pending set a receipt is bound to: what this run selects */
		df_plan_pending_hash(set_hash, s.plan, o.to);
		if (rollback)
			df_migs_hash(set_hash, migs, n, "rollback");
	}
	if (!o.dry_run && (error = gates(ctx, &s, &o, n, set_hash, rollback, &take_backup)) < 0) {
		cli_audit(ctx, &s, verb, "refused", df_error_last()->message, NULL, NULL);
		goto fail;
	}
	if (take_backup) {
		df_backup_info info = { 0 };
		cli_say(ctx, "Taking a backup first (--backup)...\n");
		if ((error = cli_backup(ctx, &s, NULL, false, &info)) < 0) {
			df_error_prefix("backup before %s failed; nothing was applied", verb);
			goto fail;
		}
		cli_say(ctx, "Backup written: %s\n\n", info.path);
		json_object_set_new(ctx->result, "backup", json_string(info.path));
		df_backup_info_release(&info);
	}

	/* MariaDB cannot roll DDL back: dry-run in a throwaway shadow database */
	if (o.dry_run && !df_conn_has(s.conn, DF_CAP_TRANSACTIONAL_DDL)) {
		if ((error = df_shadow_open(&shadow, &shadow_name, s.conn, s.target->dsn)) < 0)
			goto fail;
		ro.flags |= DF_RUN_SHADOW;
		cli_say(ctx, "Running in the throwaway database %s (MariaDB cannot roll DDL back).\n", shadow_name);
		json_object_set_new(ctx->result, "shadow_database", json_string(shadow_name));
	}
	snapshots = !o.dry_run && s.target->policy != DF_POLICY_LOCAL;
	if (snapshots)
		snap_before = snapshot(ctx, &s, rollback ? "before-rollback" : "before-migrate");
	error = df_run_apply(&res, shadow ? shadow : s.conn, migs, n, &ro, rollback);
	if (shadow) {
		df_conn_close(shadow);
		shadow = NULL;
		if (df_shadow_drop(s.conn, shadow_name) < 0)
			fprintf(stderr, "warning: could not drop the throwaway database %s\n", shadow_name);
	}
	if (snapshots) {
		const df_error *le = df_error_last();
		char *m = error && le ? strdup(le->message) : NULL;
		snap_after = snapshot(ctx, &s, rollback ? "after-rollback" : "after-migrate");
		if (m) {
			df_error_set(error, "%s", m);
			free(m);
		}
		json_t *sn = json_object();
		json_object_set_new(sn, "before", cli_json_str(snap_before));
		json_object_set_new(sn, "after", cli_json_str(snap_after));
		json_object_set_new(ctx->result, "snapshots", sn);
	}
	if (ctx->tty_err && !ctx->quiet)
		fprintf(stderr, "\r\033[K");
	steps = json_array();
	for (size_t i = 0; i < res.nr; i++) {
		const df_run_step *st = &res.steps[i];
		json_t *j = json_object();
		json_object_set_new(j, "version", json_string(st->mig->version));
		json_object_set_new(j, "name", json_string(st->mig->name));
		json_object_set_new(j, "duration_ms", json_integer(st->duration_ms));
		json_object_set_new(j, "statements", json_integer(st->statements));
		if (st->trace.nr)       /* dry-runs: what the server did, statement by statement */
			json_object_set_new(j, "trace", cli_trace_json(&st->trace));
		if (st->error)
			json_object_set_new(j, "ok", json_false());
		else
			json_array_append_new(steps, j), j = NULL;
		if (j)
			json_decref(j);
		cli_say(ctx, "  %s%s%s %s %s (%ld statement%s, %ld ms)\n",
			cli_c(ctx, st->error ? "red" : "green"), st->error ? "FAILED " : o.dry_run ? "ok     " : rollback ? "reverted" : "applied",
			cli_c(ctx, "reset"), st->mig->version, st->mig->name, st->statements,
			st->statements == 1 ? "" : "s", st->duration_ms);
		cli_trace_say(ctx, &st->trace);
	}
	json_object_set_new(ctx->result, rollback ? "reverted" : "applied", steps);
	{
		df_buf summary = DF_BUF_INIT;
		char *receipt = NULL;
		const char *op = o.dry_run ? "dry-run" : verb;
		df_buf_printf(&summary, "%s %zu of %zu migration(s)%s", o.dry_run ? "dry-ran" :
			rollback ? "reverted" : "applied", error ? res.failed_step : n, n,
			error ? ", then failed" : "");
		if (!error)
			receipt = df_receipt_dryrun(set_hash);
		if (error) {
			/* keep the run's error while the audit row is written */
			const df_error *le = df_error_last();
			char *m = strdup(le->message), *h = le->hint ? strdup(le->hint) : NULL;
			char *f = le->file ? strdup(le->file) : NULL;
			int code = le->code, line = le->line, col = le->column, cp = le->connect_phase;
			cli_audit(ctx, &s, op, code == DF_EINTERRUPTED ? "interrupted" : "failed", summary.ptr, NULL, m);
			df_error_set(code, "%s", m);
			if (h)
				df_error_hint("%s", h);
			if (f)
				df_error_pos(f, line, col);
			((df_error *)df_error_last())->connect_phase = cp;
			free(m);
			free(h);
			free(f);
		} else {
			df_buf det = DF_BUF_INIT;
			if (snap_before || snap_after)
				df_buf_printf(&det, "snapshots: before=%s after=%s", snap_before ? snap_before : "-",
					snap_after ? snap_after : "-");
			cli_audit(ctx, &s, op, "ok", summary.ptr, receipt, det.size ? det.ptr : NULL);
			df_buf_release(&det);
		}
		free(receipt);
		df_buf_release(&summary);
	}
	if (error) {
		cli_session_replan(&s);
		json_object_set_new(ctx->result, "pending_after", json_integer(s.plan ? (json_int_t)s.plan->pending : -1));
		cli_next(ctx, "devflow db status%s", e);
		goto fail;
	}
	/* Verify: re-read the history; every migration of the run recorded (or gone). */
	if ((error = cli_session_replan(&s)) < 0)
		goto fail;
	json_object_set_new(ctx->result, "pending_after", json_integer((json_int_t)s.plan->pending));
	if (!o.dry_run) {
		size_t ok = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < s.plan->nr; k++)
				if (s.plan->items[k].mig == migs[i] &&
				    (rollback ? s.plan->items[k].state == DF_STATE_PENDING :
				     s.plan->items[k].state == DF_STATE_APPLIED && s.plan->items[k].checksum_ok))
					ok++;
		json_object_set_new(ctx->result, "verified", json_boolean(ok == n));
		if (ok != n) {
			error = df_error_set(DF_EFAILED, "verification failed: %zu of %zu migration(s) are recorded as expected", ok, n);
			goto fail;
		}
		cli_say(ctx, "\n%sVerified:%s the history records all %zu migration(s)%s.\n",
			cli_c(ctx, "green"), cli_c(ctx, "reset"), n, rollback ? " as reverted" : " with their checksums");
		if (!rollback) {
			char *plan = rollback_plan(&s, migs, n, ctx);
			if (plan) {
				cli_say(ctx, "Rollback plan written to %s\n", plan);
				json_object_set_new(ctx->result, "rollback_plan", json_string(plan));
				free(plan);
			}
		}
		if (!rollback && (error = after_hooks(ctx, &s)) < 0)
			goto fail;
		cli_next(ctx, "devflow db status%s", e);
	} else {
		cli_say(ctx, "\n%sDry-run passed:%s nothing was kept; the dry-run is recorded%s.\n",
			cli_c(ctx, "green"), cli_c(ctx, "reset"),
			s.target->policy == DF_POLICY_LOCAL ? "" : " as the receipt the policy asks for");
		if (s.target->policy == DF_POLICY_PRODUCTION)
			cli_next(ctx, "devflow db %s%s --backup --confirm production", verb, e);
		else if (s.target->policy == DF_POLICY_STAGING)
			cli_next(ctx, "devflow db %s%s --yes", verb, e);
		else
			cli_next(ctx, "devflow db %s%s", verb, e);
	}
	status = cli_finish(ctx, 0);
	goto out;
fail:
	status = cli_fail(ctx, error);
out:
	json_decref(findings);
	if (shadow) {
		df_conn_close(shadow);
		df_shadow_drop(s.conn, shadow_name);
	}
	free(shadow_name);
	free(snap_before);
	free(snap_after);
	df_run_result_release(&res);
	free(migs);
	cli_session_close(&s);
	return status;
}
