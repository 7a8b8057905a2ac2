/*
 * devflow's entry point: global options (before or after the command), the
 * command tables (git.c's commands[]), and dispatch.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>

#include "cli/cli.h"
#include "util/suggest.h"
#include "util/banned.h"

#define MIGRATE_HELP \
	"  --dry-run            run every pending migration in a transaction that is rolled back\n" \
	"                       (MariaDB: in a throwaway copy); lists the schema changes it made\n" \
	"  --to VERSION         apply up to and including VERSION\n" \
	"  --yes, -y            confirm (staging, or a non-local host under the local policy)\n" \
	"  --confirm ENV        typed confirmation for production: --confirm production\n" \
	"  --backup             take a backup now, before applying (production)\n" \
	"  --out-of-order       also apply pending migrations older than the newest applied one\n" \
	"  --accept-risk        confirm high-risk review findings (staging, production)\n" \
	"  --accept-drift       go over drift: the schema changed outside devflow (staging,\n" \
	"                       production ask a person first; the audit log names who accepted)\n" \
	"The result lists the schema changes the run made (the schema read before and after),\n" \
	"and the schema left is recorded for `db status`'s drift check.\n"

#define ROLLBACK_HELP \
	"  --steps N            revert the last N applied migrations (default 1)\n" \
	"  --to VERSION         revert everything applied after VERSION (VERSION stays)\n" \
	"  --dry-run            run the DOWN sections in a transaction that is rolled back\n" \
	"  --yes, -y            confirm, as for migrate\n" \
	"  --confirm ENV        typed confirmation for production: --confirm production\n" \
	"  --backup             take a backup now, before reverting (production)\n" \
	"  --accept-risk        confirm high-risk changes (staging, production)\n" \
	"  --accept-drift       go over drift, as for migrate\n" \
	"The result lists the schema changes, as for migrate; the schema left is recorded.\n"

#define GENERATE_HELP \
	"  --allow-drop         write a change that drops a table or column or narrows a type\n" \
	"  --print              write nothing; print the migration and its review\n" \
	"  --no-verify          skip checking the UP and DOWN on throwaway copies\n" \
	"  --force              write the migration even when that check fails\n" \
	"  --plain              PostgreSQL: the plain forms (no CONCURRENTLY, NOT VALID, lock_timeout)\n" \
	"  --privileges         PostgreSQL: compare and write grants and owners too\n"

#define PULL_HELP \
	"  -o, --output PATH    write PATH instead of the schema file ('-': stdout; a link\n" \
	"                       there is followed: the file it points to is replaced)\n" \
	"  --schema NAME        PostgreSQL: this schema only\n" \
	"  --privileges         PostgreSQL: write the grants and owners too\n" \
	"  --format sql         the output format (sql)\n"

#define DIFF_HELP \
	"  --from A             environment, URL or .sql file (default: the target)\n" \
	"  --to B               environment, URL or .sql file (default: the schema file)\n" \
	"  --exit-code          exit 1 when the schemas differ (a not-compared grant too)\n" \
	"  --no-verify          skip checking the script on a throwaway copy of --from\n" \
	"  --schema NAME        PostgreSQL: compare this schema only\n" \
	"  --privileges         PostgreSQL: compare and write grants and owners too\n" \
	"  --dialect D          engine of .sql files when no side is a database\n" \
	"  --format sql         the output format (sql)\n"

const struct cli_cmd cli_db_commands[] = {
	{ "status", cmd_db_status, "db status [--exit-code]",
	  "total / applied / pending (each listed) / problems / lock holder / drift",
	  "  --exit-code          exit 1 when migrations are pending, 6 when the history needs a\n"
	  "                       person (as dbmate's status does); 0 when up to date\n"
	  "Drift: the live schema against the one recorded after the last migrate or rollback\n"
	  "of this database (+ added, - removed, ~ changed, with the columns of a changed table);\n"
	  "unknown, with the reason, when nothing is recorded for it or its history changed since;\n"
	  "drift a migrate or rollback went over is named, with who accepted it.\n", NULL },
	{ "migrate", cmd_db_migrate, "db migrate [--dry-run] [--to VERSION] [--yes] [--confirm ENV] [--backup]\n"
	  "                  [--out-of-order] [--accept-risk] [--accept-drift]",
	  "apply pending migrations", MIGRATE_HELP, NULL },
	{ "rollback", cmd_db_rollback, "db rollback [--steps N | --to VERSION] [--dry-run] [--yes] [--confirm ENV]\n"
	  "                  [--backup] [--accept-risk] [--accept-drift]",
	  "revert applied migrations", ROLLBACK_HELP, NULL },
	{ "create", cmd_db_create, "db create NAME [--no-verify] [--force]",
	  "new migration file; `revert_<name>` pre-fills the reverse of migration <name>",
	  "  --no-verify          a derived revert_<name>: skip checking it on a throwaway copy\n"
	  "  --force              a derived revert_<name> that is not verified: write it anyway\n", NULL },
	{ "review", cmd_db_review, "db review [FILE...] [--dialect postgres|mysql|sqlite] [--fail-on low|medium|high]\n"
	  "                  [--pg-version N] [--format text|json|sarif]",
	  "risk review of pending migrations (or FILEs); alias `lint`",
	  "  --dialect D          postgres, mysql or sqlite (default: the target's engine)\n"
	  "  --fail-on RISK       exit 3 when a finding reaches RISK (low, medium, high; default high)\n"
	  "  --pg-version N       PostgreSQL major version the rules assume (default 15)\n"
	  "  --format F           text (default), json (as --json) or sarif (code scanning)\n", NULL },
	{ "lint", cmd_db_review, "db lint [FILE...]", "alias of `db review`", "", "review" },
	{ "up", cmd_db_migrate, "db up [--dry-run] [--to VERSION] [--yes] [--confirm ENV] [--backup]",
	  "alias of `db migrate`", MIGRATE_HELP, "migrate" },
	{ "down", cmd_db_rollback, "db down [--dry-run] [--yes] [--confirm ENV]",
	  "alias of `db rollback --steps 1`", ROLLBACK_HELP, "rollback" },
	{ "new", cmd_db_create, "db new NAME", "alias of `db create`", "", "create" },
	{ "backup", cmd_db_backup, "db backup [-o|--output PATH [--force]] [--verify]", "backup of the target database",
	  "  -o, --output PATH    where to write it (default .devflow/backups/); PATH.manifest beside it\n"
	  "  --force              replace an existing -o PATH (never the database being backed up)\n"
	  "  --verify             restore into a throwaway database and compare tables and row counts\n"
	  "                       (a backup that fails it never takes -o PATH: it goes to PATH.unverified)\n", NULL },
	{ "restore", cmd_db_restore, "db restore PATH [--clean] [--no-owner] [--yes] [--confirm ENV]",
	  "restore a backup into the target (never production without --confirm production)",
	  "  --clean              drop the backup's objects in the target first\n"
	  "  --no-owner           skip owners and grants (restoring as another user)\n"
	  "  --yes                confirm (staging; locally: restoring over data, or a file\n"
	  "                       that cannot be checked)\n"
	  "  --confirm ENV        confirmation for production: --confirm production\n", NULL },
	{ "seed", cmd_db_seed, "db seed [--dry-run] [--yes] [--confirm ENV] [--backup] [--accept-risk]",
	  "run the seed files for the environment (seeds/*.sql, then seeds/<env>/*.sql),\n"
	  "under the gates a migrate has there",
	  "  --dry-run            run them and roll back (the receipt staging and production ask for)\n"
	  "  --yes, -y            confirm (staging)\n"
	  "  --confirm ENV        confirmation: --confirm production, or the environment's name\n"
	  "  --backup             take a backup first (production, without a recent one)\n"
	  "  --accept-risk        accept the high-risk changes the review found\n", NULL },
	{ "diff", cmd_db_diff, "db diff [--from ENV|URL|FILE.sql] [--to ENV|URL|FILE.sql] [--exit-code]\n"
	  "                  [--no-verify] [--schema NAME] [--privileges] [--dialect D]\n"
	  "                  [--format sql]",
	  "schema difference as ordered DDL", DIFF_HELP, NULL },
	{ "generate", cmd_db_generate, "db generate NAME [--allow-drop] [--print] [--plain]\n"
	  "                  [--no-verify] [--force] [--privileges]",
	  "new migration from the declarative schema file, UP and DOWN", GENERATE_HELP, NULL },
	{ "pull", cmd_db_pull, "db pull [-o|--output PATH] [--schema NAME] [--privileges] [--format sql]",
	  "write the declarative schema file from the target", PULL_HELP, NULL },
	{ "snapshot", cmd_db_snapshot, "db snapshot [--tag TAG]",
	  "save the target's schema under .devflow/snapshots/ (SQL dump and model)",
	  "  --tag TAG            a word in the file name (default: manual)\n", NULL },
	{ "resolve", cmd_db_resolve, "db resolve VERSION --applied | --rolled-back",
	  "mark a failed, edited or missing migration as settled",
	  "  --applied            the migration's effects are in place: record it as applied\n"
	  "                       (with the file's current checksum)\n"
	  "  --rolled-back        the migration's effects are gone: forget its row\n", NULL },
	{ "history", cmd_db_history, "db history [--limit N]", "the audit log of every operation on the target",
	  "  --limit N            show the newest N entries (default 50; 0: all)\n", NULL },
	{ "baseline", cmd_db_baseline, "db baseline [VERSION] [--accept-differences] [--confirm ENV]",
	  "mark migrations applied on a database no tool managed, after proving its schema equals them",
	  "  VERSION              the last migration to record (default: the newest); with no\n"
	  "                       migration at all, the first is written from the live schema\n"
	  "  --accept-differences record them even though the live schema differs, the\n"
	  "                       differences accepted as drift by you (staging, production:\n"
	  "                       a person confirms, typed yes or --confirm ENV)\n"
	  "  --confirm ENV        that confirmation: --confirm production, or the environment's name\n"
	  "The proof: the migrations up to VERSION are replayed into a throwaway database\n"
	  "(SQLite in memory; on a server [project] dev_url's, else the target's) and its schema\n"
	  "compared with the live one, history tables left out.  Exit 0 recorded; 1 the schemas\n"
	  "differ (+ only the live database has it, - only the migrations make it); 2 the\n"
	  "database has a history already, or VERSION is not in the folder; 3 a confirmation is\n"
	  "missing.\n", NULL },
	{ "verify", cmd_db_verify, "db verify",
	  "applied files match their checksums, no failed or running row, no drift",
	  "Exit 0 when all hold; 6 when the history needs a person (an applied file edited\n"
	  "or missing, a failed or running row); 1 when the schema drifted from the one\n"
	  "the last migrate or rollback recorded.  Each finding is listed with a hint.\n", NULL },
	{ "wait", cmd_db_wait, "db wait [--timeout DURATION]",
	  "wait until the target accepts connections (and is out of recovery)",
	  "  --timeout DURATION   how long to wait: 60, 60s, 500ms, 2m (default 60s)\n"
	  "Exit 0 once ready: PostgreSQL accepts a connection and pg_is_in_recovery() is\n"
	  "false; MariaDB accepts a connection and answers; SQLite: the file opens, or it does\n"
	  "not exist yet and its folder does (it is never created here).  A server whose\n"
	  "database does not exist yet is ready (db migrate creates it under the local\n"
	  "policy).  Exit 4 with the last attempt's error after the timeout.\n", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_commands[] = {
	{ "doctor", cmd_doctor, "doctor",
	  "prerequisites: config, migrations folder, client tools, connectivity", "", NULL },
	{ "detect", cmd_detect, "detect", "which migration tool the project uses", "", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static const char global_help[] =
	"Global options (before or after the command):\n"
	"  -C DIR               run as if started in DIR\n"
	"  --env NAME           target environment (default: local)\n"
	"  -u, --url URL        target database URL (overrides the environment's)\n"
	"  -d, --migrations-dir DIR\n"
	"                       the migrations folder (overrides devflow.conf)\n"
	"  --json               one JSON document on stdout; messages for people on stderr\n"
	"  --no-color           no colour (also: NO_COLOR set, or not a terminal)\n"
	"  -q, --quiet          only errors\n"
	"  -v, --verbose        more detail\n"
	"  --lock-timeout SECS  how long to wait for another run's lock (default 60)\n"
	"Environment: DEVFLOW_URL (as --url), DEVFLOW_ENV (as --env), DEVFLOW_MIGRATIONS_DIR\n"
	"(as -d); a flag wins.\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: devflow [-C DIR] [--env NAME | -u URL] [-d DIR] [--json] [--no-color] [-q|-v]\n"
		"               [--lock-timeout SECONDS] COMMAND ...\n\nCommands:\n");
	for (const struct cli_cmd *c = cli_commands; c->name; c++)
		fprintf(f, "  %-22s %s\n", c->name, c->summary);
	for (const struct cli_cmd *c = cli_db_commands; c->name; c++)
		if (!c->alias_of)
			fprintf(f, "  db %-19s %s\n", c->name, c->summary);
	fprintf(f, "  %-22s %s\n", "help COMMAND", "usage of a command");
	fprintf(f, "  %-22s %s\n", "help config", "the keys of devflow.conf, with an example");
	fprintf(f, "\n%s\nThe safe workflow: devflow doctor; devflow db status; devflow db review;\n"
		"devflow db migrate --dry-run; devflow db migrate; devflow db status.\n", global_help);
}

void cli_print_help(FILE *f, const struct cli_cmd *cmd)
{
	const struct cli_cmd *opts = cmd;

	/* an alias takes its command's options */
	for (const struct cli_cmd *c = cli_db_commands; cmd->alias_of && c->name; c++)
		if (!strcmp(c->name, cmd->alias_of))
			opts = c;
	fprintf(f, "usage: devflow %s\n\n%s\n", cmd->usage, cmd->summary);
	if (opts->help && *opts->help)
		fprintf(f, "\nOptions:\n%s", opts->help);
	fprintf(f, "\n%s", global_help);
}

static const struct cli_cmd *find(const struct cli_cmd *table, const char *name);

/* One command as JSON: its words, usage, summary and options' help. */
static json_t *cmd_json(const struct cli_cmd *c, bool db)
{
	json_t *j = json_object();
	char name[64];

	snprintf(name, sizeof(name), "%s%s", db ? "db " : "", c->name);
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "usage", json_string(c->usage));
	json_object_set_new(j, "summary", json_string(c->summary));
	if (c->alias_of)
		json_object_set_new(j, "alias_of", json_string(c->alias_of));
	return j;
}

/*
 * `devflow help --json` (every command; cmd NULL) or `devflow help COMMAND
 * --json` / `devflow COMMAND --help --json`: one document on stdout.
 */
static int help_json(const struct cli_cmd *cmd)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "ok", json_true());
	json_object_set_new(doc, "version", json_string(DF_VERSION));
	if (cmd) {
		const struct cli_cmd *opts = cmd;
		bool db = false;
		for (const struct cli_cmd *c = cli_db_commands; c->name; c++) {
			if (c == cmd)
				db = true;
			if (cmd->alias_of && !strcmp(c->name, cmd->alias_of))
				opts = c;
		}
		json_object_set_new(doc, "command", cmd_json(cmd, db));
		json_object_set_new(doc, "options", json_string(opts->help ? opts->help : ""));
	} else {
		json_t *a = json_array();
		for (const struct cli_cmd *c = cli_commands; c->name; c++)
			json_array_append_new(a, cmd_json(c, false));
		for (const struct cli_cmd *c = cli_db_commands; c->name; c++)
			json_array_append_new(a, cmd_json(c, true));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", "help",
			"usage", "help [COMMAND | config]", "summary", "usage of a command; the keys of devflow.conf"));
		json_object_set_new(doc, "usage", json_string("devflow [-C DIR] [--env NAME | -u URL] [-d DIR] "
			"[--json] [--no-color] [-q|-v] [--lock-timeout SECONDS] COMMAND ..."));
		json_object_set_new(doc, "commands", a);
	}
	json_object_set_new(doc, "global_options", json_string(global_help));
	json_object_set_new(doc, "next", json_array());
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return 0;
}

/* A usage error before any command runs: text on stderr, and with --json the
 * one document on stdout that scripts expect. */
static int dispatch_error(const struct cli_ctx *ctx, const char *fmt, const char *what,
	const char *suggest)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, what);
	fprintf(stderr, "devflow: %s", msg);
	if (suggest)
		fprintf(stderr, "; did you mean 'devflow %s'?\n", suggest);
	else
		fprintf(stderr, "; see 'devflow --help'\n");
	if (ctx->json) {
		json_t *doc = json_object(), *err = json_object(), *next = json_array();
		char hint[256];
		snprintf(hint, sizeof(hint), suggest ? "devflow %s" : "devflow --help", suggest);
		json_object_set_new(err, "kind", json_string("usage"));
		json_object_set_new(err, "message", json_string(msg));
		json_object_set_new(err, "hint", json_string(hint));
		json_array_append_new(next, json_string(hint));
		json_object_set_new(doc, "ok", json_false());
		json_object_set_new(doc, "error", err);
		json_object_set_new(doc, "next", next);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
	return CLI_EXIT_USAGE;
}

/* The command line as typed (before take_globals took the global options out). */
static int typed_argc;
static char **typed_argv;       /* copies of the words */
static char **typed_ptr;        /* argv's own pointers, to find a word again */

/*
 * The command line as typed with the mistyped word `bad` replaced by `fix`,
 * every option kept in its place and a URL's password as ***.  `dry`:
 * add --dry-run when it is not there.  Sets *redacted when a password was
 * hidden.  Returns a new string ("devflow db rollback --env staging ...").
 */
static char *retyped(const char *bad, const char *fix, bool dry, bool *redacted)
{
	df_buf b = DF_BUF_INIT;
	bool has_dry = false;

	df_buf_puts(&b, "devflow");
	for (int i = 1; i < typed_argc; i++) {
		const char *w = typed_argv[i];
		bool url = !strcmp(w, "-u") || !strcmp(w, "--url");

		df_buf_putc(&b, ' ');
		if (typed_ptr[i] == bad) {
			df_buf_puts(&b, fix);
			continue;
		}
		if (!strcmp(w, "--dry-run"))
			has_dry = true;
		if (!strncmp(w, "--url=", 6) || (url && i + 1 < typed_argc)) {
			const char *val = url ? typed_argv[++i] : w + 6;
			char *red = df_dsn_redact(val);
			if (!red || strcmp(red, val))
				*redacted = true;
			if (url) {
				df_buf_puts(&b, w);
				df_buf_putc(&b, ' ');
			} else {
				df_buf_puts(&b, "--url=");
			}
			df_shell_quote(&b, red ? red : "***");
			free(red);
			continue;
		}
		df_shell_quote(&b, w);
	}
	if (dry && !has_dry)
		df_buf_puts(&b, " --dry-run");
	return df_buf_detach(&b);
}

/* True when the command changes the database (the guess must not run it). */
static bool writes_db(const struct cli_cmd *c)
{
	return c && (c->fn == cmd_db_migrate || c->fn == cmd_db_rollback || c->fn == cmd_db_seed ||
		c->fn == cmd_db_resolve || c->fn == cmd_db_restore);
}

/* True when the command has --dry-run (migrate, rollback, seed and their aliases). */
static bool has_dry_run(const struct cli_cmd *c)
{
	return c && (c->fn == cmd_db_migrate || c->fn == cmd_db_rollback || c->fn == cmd_db_seed);
}

/*
 * A mistyped command (`bad`, a word of argv) whose nearest is `near` ("db
 * rollback", or NULL): the usage error, its hint the command as typed with
 * the word corrected.  A command that changes the database is never the
 * `next` as guessed: with --dry-run added where it has one, else `next` is
 * the read-only `db status` of the same target, and the corrected command
 * stays in the hint.
 */
static int unknown_command(struct cli_ctx *ctx, const char *what, const char *bad, const char *near)
{
	const struct cli_cmd *c = NULL;
	char msg[512];
	char *hint, *next;
	bool redacted = false, in_db = strncmp(what, "db ", 3) == 0;

	snprintf(msg, sizeof(msg), "unknown command '%s'", what);
	if (!near)
		return dispatch_error(ctx, "%s", msg, NULL);
	if (!strncmp(near, "db ", 3))
		c = find(cli_db_commands, near + 3);
	hint = retyped(bad, in_db ? near + 3 : near, false, &redacted);
	if (!writes_db(c))
		next = strdup(hint);
	else if (has_dry_run(c))
		next = retyped(bad, in_db ? near + 3 : near, true, &redacted);
	else {
		df_buf b = DF_BUF_INIT;
		df_buf_printf(&b, "devflow db status%s%s", cli_env_arg(ctx), ctx->json ? " --json" : "");
		if (ctx->url) {
			char *red = df_dsn_redact(ctx->url);
			if (!red || strcmp(red, ctx->url))
				redacted = true;
			free(red);
		}
		next = df_buf_detach(&b);
	}
	if (!hint || !next) {
		fprintf(stderr, "devflow: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	fprintf(stderr, "devflow: %s; did you mean '%s'?\n", msg, hint);
	if (strcmp(hint, next))
		fprintf(stderr, "It changes the database: %s '%s' first.\n",
			has_dry_run(c) ? "try it with" : "check the target with", next);
	if (ctx->json) {
		json_t *doc = json_object(), *err = json_object(), *nx = json_array();
		json_object_set_new(err, "kind", json_string("usage"));
		json_object_set_new(err, "message", json_string(msg));
		json_object_set_new(err, "hint", json_string(hint));
		json_array_append_new(nx, json_string(next));
		json_object_set_new(doc, "ok", json_false());
		json_object_set_new(doc, "error", err);
		json_object_set_new(doc, "next", nx);
		if (redacted)
			json_object_set_new(doc, "url_redacted", json_true());
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
	free(hint);
	free(next);
	return CLI_EXIT_USAGE;
}

static bool is_file(const char *dir, const char *name, bool want_dir)
{
	char p[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", strcmp(dir, "/") ? dir : "", name) >= sizeof(p))
		return false;
	return stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/*
 * The project root, found as git finds its repository: the nearest folder
 * upward that holds devflow.conf, else the nearest that holds a migrations
 * folder.  devflow then runs there; ctx->prefix keeps the way back, for
 * paths given on the command line.
 */
static int find_root(struct cli_ctx *ctx)
{
	char cwd[PATH_MAX], dir[PATH_MAX], fallback[PATH_MAX] = "";
	const char *root = NULL;

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(dir, sizeof(dir), "%s", cwd);
	for (;;) {
		char *slash;
		if (is_file(dir, "devflow.conf", false)) {
			root = dir;
			break;
		}
		if (!*fallback && (is_file(dir, "migrations", true) || is_file(dir, "db/migrations", true)))
			snprintf(fallback, sizeof(fallback), "%s", dir);
		if (!strcmp(dir, "/") || !(slash = strrchr(dir, '/')))
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!root && *fallback)
		root = fallback;
	if (!root || !strcmp(root, cwd))
		return 0;
	if (chdir(root) < 0)
		return -1;
	{
		/* the CLI's own, for the whole process: no early return can leak it */
		static char prefix[PATH_MAX + 2];
		size_t n = strlen(root) + (strcmp(root, "/") ? 1 : 0);
		snprintf(prefix, sizeof(prefix), "%s/", cwd + n);
		ctx->prefix = prefix;
	}
	return 0;
}

/*
 * The command nearest to a mistyped `word` ("stauts" -> "db status"), in
 * `buf`; NULL when none is near.  db_only: only the db commands.
 */
static const char *near_command(char *buf, size_t len, const char *word, bool db_only)
{
	const char *names[64], *best;
	size_t n = 0;

	if (!db_only)
		for (const struct cli_cmd *c = cli_commands; c->name && n < 64; c++)
			names[n++] = c->name;
	for (const struct cli_cmd *c = cli_db_commands; c->name && n < 64; c++)
		names[n++] = c->name;
	if (!(best = df_suggest(word, names, n)))
		return NULL;
	for (const struct cli_cmd *c = cli_db_commands; c->name; c++)
		if (!strcmp(c->name, best)) {
			snprintf(buf, len, "db %s", best);
			return buf;
		}
	snprintf(buf, len, "%s", best);
	return buf;
}

/* `devflow help db`: the db commands */
static void db_usage(FILE *f)
{
	fprintf(f, "usage: devflow db COMMAND [OPTIONS]\n\nCommands:\n");
	for (const struct cli_cmd *c = cli_db_commands; c->name; c++)
		fprintf(f, "  db %-19s %s\n", c->name, c->summary);
	fprintf(f, "\n'devflow help db COMMAND' gives a command's options.\n");
}

static const struct cli_cmd *find(const struct cli_cmd *table, const char *name)
{
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

/* Take the global options out of argv, wherever they stand. */
static int take_globals(struct cli_ctx *ctx, int *argc, char **argv)
{
	int out = 1;
	bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");

	for (int i = 1; i < *argc; i++) {
		char *a = argv[i];
		const char **slot = NULL;
		const char *name = a, *val = NULL;
		char *eq = NULL;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strncmp(a, "--", 2) && (eq = strchr(a, '='))) {
			*eq = '\0';
			val = eq + 1;
		}
		if (!strcmp(name, "-C"))
			slot = &ctx->dir;
		else if (!strcmp(name, "-d") || !strcmp(name, "--migrations-dir"))
			slot = &ctx->migrations_dir;
		else if (!strcmp(name, "--env"))
			slot = &ctx->env;
		else if (!strcmp(name, "--url") || !strcmp(name, "-u"))
			slot = &ctx->url;
		else if (!strcmp(name, "--lock-timeout")) {
			const char *v = val;
			char *end;
			if (!v) {
				if (i + 1 >= *argc)
					goto missing;
				v = argv[++i];
			}
			double secs = strtod(v, &end);
			if (!*v || *end || !(secs >= 0 && secs <= 86400)) {
				snprintf(ctx->early_error, sizeof(ctx->early_error),
					"--lock-timeout wants seconds (0 to 86400), not '%s'", v);
				return -1;
			}
			ctx->lock_timeout_ms = (long)(secs * 1000);
			continue;
		} else if (!strcmp(name, "--json")) {
			ctx->json = true;
			continue;
		} else if (!strcmp(name, "--no-color")) {
			no_color = true;
			continue;
		} else if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) {
			ctx->quiet = true;
			continue;
		} else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) {
			ctx->verbose = true;
			continue;
		}
		if (slot) {
			if (!val) {
				if (i + 1 >= *argc)
					goto missing;
				val = argv[++i];
			}
			*slot = val;
			if (slot == &ctx->env)
				ctx->env_given = true;
			continue;
		}
		if (eq)
			*eq = '=';
		argv[out++] = a;
		continue;
missing:
		snprintf(ctx->early_error, sizeof(ctx->early_error), "option '%s' needs a value", name);
		return -1;
	}
	*argc = out;
	argv[out] = NULL;
	if (!ctx->env && getenv("DEVFLOW_ENV") && *getenv("DEVFLOW_ENV")) {
		ctx->env = getenv("DEVFLOW_ENV");
		ctx->env_given = true;
	}
	ctx->tty_err = isatty(STDERR_FILENO);
	ctx->tty_in = isatty(STDIN_FILENO);
	ctx->color = !no_color && (ctx->json ? ctx->tty_err : isatty(STDOUT_FILENO));
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { 0 };
	const struct cli_cmd *cmd;
	bool help = false;
	int status;

	cli_signals_install();          /* first: a signal from now on is kept */
	ctx.lock_timeout_ms = 60000;
	ctx.out = stdout;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			ctx.json = true;
	typed_argc = argc;
	if (!(typed_argv = calloc((size_t)argc + 1, sizeof(*typed_argv))) ||
	    !(typed_ptr = calloc((size_t)argc + 1, sizeof(*typed_ptr)))) {
		fprintf(stderr, "devflow: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	for (int i = 0; i < argc; i++) {
		typed_ptr[i] = argv[i];
		if (!(typed_argv[i] = strdup(argv[i]))) {
			fprintf(stderr, "devflow: out of memory\n");
			return CLI_EXIT_FAILED;
		}
	}
	if (take_globals(&ctx, &argc, argv) < 0)
		return dispatch_error(&ctx, "%s", ctx.early_error, NULL);
	if (ctx.json)
		ctx.out = stderr;
	if (argc < 2) {
		usage(stderr);
		return ctx.json ? dispatch_error(&ctx, "no command given%s", "", NULL) : CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		if (ctx.json) {
			json_t *doc = json_pack("{s:b, s:s, s:[]}", "ok", 1, "version", DF_VERSION, "next");
			json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(doc);
			return 0;
		}
		printf("devflow %s\n", DF_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (ctx.json)
			return help_json(NULL);
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			if (ctx.json)
				return help_json(NULL);
			usage(stdout);
			return 0;
		}
		if (argc == 3 && !strcmp(argv[2], "config"))
			return cli_help_config(ctx.json);
		/* help db | help db migrate | help migrate | help doctor */
		if (argc == 3 && !strcmp(argv[2], "db")) {
			if (ctx.json)
				return help_json(NULL);
			db_usage(stdout);
			return 0;
		}
		cmd = strcmp(argv[2], "db") ? find(cli_commands, argv[2]) : NULL;
		if (!cmd)
			cmd = find(cli_db_commands, argc > 3 && !strcmp(argv[2], "db") ? argv[3] : argv[2]);
		if (!cmd) {
			char near[64];
			char msg[256], fix[96];
			snprintf(msg, sizeof(msg), "no command '%s'", argv[argc - 1]);
			if (near_command(near, sizeof(near), argv[argc - 1], !strcmp(argv[2], "db"))) {
				snprintf(fix, sizeof(fix), "help %s", near);
				return dispatch_error(&ctx, "%s", msg, fix);
			}
			return dispatch_error(&ctx, "%s", msg, NULL);
		}
		if (ctx.json)
			return help_json(cmd);
		cli_print_help(stdout, cmd);
		return 0;
	}
	if (ctx.dir && chdir(ctx.dir) < 0) {
		char msg[PATH_MAX + 64];
		snprintf(msg, sizeof(msg), "cannot change to '%s': %s", ctx.dir, strerror(errno));
		return dispatch_error(&ctx, "%s", msg, NULL);
	}
	if (ctx.migrations_dir) {
		/* relative to where devflow was started (after -C), before the root search moves */
		char cwd[PATH_MAX], abs[2 * PATH_MAX];
		if (ctx.migrations_dir[0] != '/' && getcwd(cwd, sizeof(cwd)))
			snprintf(abs, sizeof(abs), "%s/%s", cwd, ctx.migrations_dir);
		else
			snprintf(abs, sizeof(abs), "%s", ctx.migrations_dir);
		setenv("DEVFLOW_MIGRATIONS_DIR", abs, 1);
	}
	if (find_root(&ctx) < 0)
		return dispatch_error(&ctx, "%s", "cannot read the current folder", NULL);
	argv++;
	argc--;
	if (!strcmp(argv[0], "db")) {
		if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			if (argc >= 2 && ctx.json)
				return help_json(NULL);
			usage(argc < 2 ? stderr : stdout);
			return argc < 2 ? CLI_EXIT_USAGE : 0;
		}
		if (!(cmd = find(cli_db_commands, argv[1]))) {
			char near[64], what[256];
			snprintf(what, sizeof(what), "db %s", argv[1]);
			return unknown_command(&ctx, what, argv[1],
				near_command(near, sizeof(near), argv[1], true));
		}
		argv++;
		argc--;
	} else if (argv[0][0] == '-' && !find(cli_commands, argv[0])) {
		/* a mistyped global option before the command: `devflow --jsn db status` */
		const char *opt = cli_near_option(argv[0], NULL);
		char near[256];
		int len = opt ? snprintf(near, sizeof(near), "%s", opt) : 0;
		for (int i = 1; opt && i < argc && len < (int)sizeof(near); i++)
			len += snprintf(near + len, sizeof(near) - (size_t)len, " %s", argv[i]);
		return dispatch_error(&ctx, "unknown option '%s'", argv[0], opt ? near : NULL);
	} else if (!(cmd = find(cli_commands, argv[0]))) {
		const struct cli_cmd *db = find(cli_db_commands, argv[0]);
		char near[64];
		if (db)
			snprintf(near, sizeof(near), "db %s", db->name);
		return unknown_command(&ctx, argv[0], argv[0],
			db ? near : near_command(near, sizeof(near), argv[0], false));
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			help = true;
	if (help) {
		if (ctx.json)
			return help_json(cmd);
		cli_print_help(stdout, cmd);
		return 0;
	}
	ctx.cmd = cmd;
	ctx.argc = argc;
	ctx.argv = argv;
	if (!(ctx.result = json_object()) || !(ctx.next = json_array())) {
		fprintf(stderr, "devflow: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	if (df_run_new(&ctx.run) < 0) {
		fprintf(stderr, "devflow: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	/* The workflow's commands stop cleanly on a signal (their run's token);
	 * every other command ends at once, as a process does by default. */
	if (cmd->fn == cmd_db_migrate || cmd->fn == cmd_db_rollback || cmd->fn == cmd_db_seed ||
	    cmd->fn == cmd_db_wait) {
		if (cli_run_register(ctx.run) < 0) {
			fprintf(stderr, "devflow: too many runs in flight\n");
			return CLI_EXIT_FAILED;
		}
	} else {
		cli_signals_release();
	}
	status = cmd->fn(argc, argv, &ctx);
	cli_run_unregister(ctx.run);
	df_run_free(ctx.run);
	json_decref(ctx.result);
	json_decref(ctx.next);
	df_ask_free(ctx.ask);
	return status;
}
