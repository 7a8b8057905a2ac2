/*
 * Shared CLI machinery: output for people and for programs, errors and exit
 * statuses, option parsing, and a session's opening (flags in, report out).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "devflow/buf.h"
#include "util/suggest.h"
#if __has_include("devflow/review.h")
#include "devflow/review.h"
#define HAVE_REVIEW 1
#endif
#include "util/banned.h"

int cli_exit_for(int code, int connect_phase)
{
	switch (code) {
	case DF_OK: return CLI_EXIT_OK;
	case DF_EUSAGE:
	case DF_ECONFIG:
	case DF_ENOTFOUND: return CLI_EXIT_USAGE;
	case DF_EGATE: return CLI_EXIT_REFUSED;
	case DF_ECONNREFUSED:
	case DF_EAUTH:
	case DF_EHOST:
	case DF_EUNKNOWNDB:
	case DF_ETLS:
	case DF_EPOOLER: return CLI_EXIT_UNREACHABLE;
	case DF_EPERM: return connect_phase ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAILED;
	case DF_ELOCKED: return CLI_EXIT_LOCKED;
	case DF_ECHECKSUM:
	case DF_EMISSING:
	case DF_EFAILED: return CLI_EXIT_NEEDS_RESOLVE;
	case DF_EINTERRUPTED: return CLI_EXIT_INTERRUPTED;
	default: return CLI_EXIT_FAILED;
	}
}

static void vsay(struct cli_ctx *ctx, const char *fmt, va_list ap)
{
	df_buf b = DF_BUF_INIT;

	df_buf_vprintf(&b, fmt, ap);
	if (ctx->dsn)
		df_dsn_scrub(ctx->dsn, b.ptr);
	fputs(b.ptr, ctx->out);
	df_buf_release(&b);
}

void cli_say(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	/* on a terminal, --json alone shows no text for people (-v shows it) */
	if (ctx->quiet || (ctx->json && ctx->tty_err && !ctx->verbose))
		return;
	va_start(ap, fmt);
	vsay(ctx, fmt, ap);
	va_end(ap);
}

void cli_verbose(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose || ctx->quiet)
		return;
	va_start(ap, fmt);
	vsay(ctx, fmt, ap);
	va_end(ap);
}

const char *cli_c(struct cli_ctx *ctx, const char *which)
{
	if (!ctx->color)
		return "";
	if (!strcmp(which, "red")) return "\033[31m";
	if (!strcmp(which, "green")) return "\033[32m";
	if (!strcmp(which, "yellow")) return "\033[33m";
	if (!strcmp(which, "blue")) return "\033[34m";
	if (!strcmp(which, "bold")) return "\033[1m";
	if (!strcmp(which, "dim")) return "\033[2m";
	if (!strcmp(which, "banner")) return "\033[1;37;41m";
	return "\033[0m";
}

json_t *cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

const char *cli_env_arg(struct cli_ctx *ctx)
{
	static char *sel;
	df_buf b = DF_BUF_INIT;

	if (sel)
		return sel;
	if (ctx->dir) {
		df_buf_puts(&b, " -C ");
		df_shell_quote(&b, ctx->dir);
	}
	if (ctx->migrations_dir) {
		df_buf_puts(&b, " -d ");
		df_shell_quote(&b, ctx->migrations_dir);
	}
	if (ctx->env_given && ctx->env) {
		df_buf_puts(&b, " --env ");
		df_shell_quote(&b, ctx->env);
	}
	if (ctx->url) {
		char *red = df_dsn_redact(ctx->url);
		df_buf_puts(&b, " --url ");
		df_shell_quote(&b, red ? red : "***");
		if (!red || strcmp(red, ctx->url))
			json_object_set_new(ctx->result, "url_redacted", json_true());
		free(red);
	}
	sel = b.ptr && !df_buf_oom(&b) ? df_buf_detach(&b) : strdup("");
	df_buf_release(&b);
	return sel ? sel : "";
}

const char *cli_path(struct cli_ctx *ctx, const char *path)
{
	static df_strlist keep = DF_STRLIST_INIT;

	if (!ctx->prefix || !path || path[0] == '/' || !*path)
		return path;
	if (df_strlist_pushf(&keep, "%s%s", ctx->prefix, path) < 0)
		return path;
	return keep.v[keep.nr - 1];
}

bool cli_prompt(void *data, const char *question, const char *expect)
{
	char line[64];

	(void)data;
	if (expect)
		fprintf(stderr, "%s: ", question);
	else
		fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	if (expect)
		return !strcmp(line, expect);
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

void cli_ask(struct cli_ctx *ctx, df_ask *ask)
{
	if (ask)
		cli_ask_words(ask, cli_env_arg(ctx));
	df_ask_free(ctx->ask);
	ctx->ask = ask;
}

void cli_ask_yes(struct cli_ctx *ctx, const char *question, const char *why,
	const char *yes, const char *then)
{
	df_ask *ask = calloc(1, sizeof(*ask));

	if (!ask)
		return;
	ask->question = strdup(question);
	ask->why = why ? strdup(why) : NULL;
	ask->options[0].answer = strdup(yes);
	ask->options[0].then = then ? strdup(then) : NULL;
	ask->options[1].answer = strdup("no");
	ask->nr = 2;
	cli_ask(ctx, ask);
}

json_t *cli_json_strlist(const df_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->nr; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

/* One review finding as SPEC's JSON gives it (db review, and migrate's preview). */
json_t *cli_finding_json(const df_review_finding *f)
{
	json_t *j = json_object();

	json_object_set_new(j, "rule", json_string(f->rule));
	json_object_set_new(j, "severity", json_string(df_review_severity_name(f->severity)));
	json_object_set_new(j, "risk", json_string(df_review_risk_name(f->risk)));
	json_object_set_new(j, "file", cli_json_str(f->file));
	json_object_set_new(j, "line", json_integer(f->line));
	json_object_set_new(j, "column", json_integer(f->column));
	json_object_set_new(j, "statement", cli_json_str(f->statement));
	json_object_set_new(j, "message", cli_json_str(f->message));
	json_object_set_new(j, "hint", cli_json_str(f->hint));
	return j;
}

static json_t *ask_json(const df_ask *a)
{
	json_t *o = json_object(), *opts = json_array();

	json_object_set_new(o, "question", json_string(a->question));
	json_object_set_new(o, "why", cli_json_str(a->why));
	for (size_t i = 0; i < a->nr; i++) {
		json_t *op = json_object();
		json_object_set_new(op, "answer", json_string(a->options[i].answer));
		json_object_set_new(op, "then", cli_json_str(a->options[i].then));
		json_array_append_new(opts, op);
	}
	json_object_set_new(o, "options", opts);
	return o;
}

void cli_next(struct cli_ctx *ctx, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < json_array_size(ctx->next); i++)
		if (!strcmp(json_string_value(json_array_get(ctx->next, i)), b.ptr))
			goto out;
	json_array_append_new(ctx->next, json_string(b.ptr));
out:
	df_buf_release(&b);
}

int cli_finish(struct cli_ctx *ctx, int status)
{
	if (ctx->json) {
		if (!json_object_get(ctx->result, "ok"))
			json_object_set_new(ctx->result, "ok", json_boolean(status == 0));
		json_object_set(ctx->result, "next", ctx->next);
		if (ctx->ask)
			json_object_set_new(ctx->result, "ask", ask_json(ctx->ask));
		char *s = json_dumps(ctx->result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s) {
			char *end;
			if (ctx->dsn)
				df_dsn_scrub(ctx->dsn, s);
			end = strrchr(s, '}');
			if (ctx->stream && end) {       /* the streamed member goes last */
				while (end > s && (end[-1] == '\n' || end[-1] == ' '))
					end--;
				fwrite(s, 1, (size_t)(end - s), stdout);
				fprintf(stdout, ",\n  \"%s\": ", ctx->stream_key);
				ctx->stream(stdout, ctx, ctx->stream_payload);
				fputs("\n}", stdout);
			} else {
				fputs(s, stdout);
			}
			fputc('\n', stdout);
			free(s);
		}
	}
	if (!ctx->json && ctx->ask && !ctx->quiet) {
		fprintf(ctx->out, "\n%sA person must decide:%s %s\n", cli_c(ctx, "bold"), cli_c(ctx, "reset"),
			ctx->ask->question);
		if (ctx->ask->why)
			fprintf(ctx->out, "  (%s)\n", ctx->ask->why);
		for (size_t i = 0; i < ctx->ask->nr; i++)
			fprintf(ctx->out, "  %-26s %s\n", ctx->ask->options[i].answer,
				ctx->ask->options[i].then ? ctx->ask->options[i].then : "(nothing to run)");
	}
	if (!ctx->json && json_array_size(ctx->next) && !ctx->quiet) {
		fprintf(ctx->out, "\n%sNext:%s ", cli_c(ctx, "bold"), cli_c(ctx, "reset"));
		for (size_t i = 0; i < json_array_size(ctx->next); i++)
			fprintf(ctx->out, "%s%s", i ? "\n      " : "",
				json_string_value(json_array_get(ctx->next, i)));
		fputc('\n', ctx->out);
	}
	fflush(stdout);
	return status;
}

int cli_fail(struct cli_ctx *ctx, int code)
{
	ctx->stream = NULL;
	const df_error *e = df_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	int status = cli_exit_for(code, e ? e->connect_phase : 0);
	char *m = cli_error_words(e, msg), *h = e ? cli_error_words(e, e->hint) : NULL;

	if (ctx->dsn) {
		df_dsn_scrub(ctx->dsn, m);
		if (h)
			df_dsn_scrub(ctx->dsn, h);
	}
	if (ctx->json) {
		json_t *err = json_object();
		json_object_set_new(err, "kind", json_string(df_error_kind(code)));
		json_object_set_new(err, "message", json_string(m ? m : msg));
		if (e && e->file) {
			json_object_set_new(err, "file", json_string(e->file));
			json_object_set_new(err, "line", json_integer(e->line));
			if (e->column)
				json_object_set_new(err, "column", json_integer(e->column));
		}
		json_object_set_new(err, "hint", cli_json_str(h));
		/* a refused gate: every gate still missing (SPEC: error.missing) */
		if (json_object_get(ctx->result, "missing"))
			json_object_set(err, "missing", json_object_get(ctx->result, "missing"));
		json_object_set_new(ctx->result, "ok", json_false());
		json_object_set_new(ctx->result, "error", err);
	}
	fflush(stdout);
	fprintf(stderr, "%serror:%s %s\n", cli_c(ctx, "red"), cli_c(ctx, "reset"), m ? m : msg);
	if (h)
		fprintf(stderr, "%shint:%s %s\n", cli_c(ctx, "yellow"), cli_c(ctx, "reset"), h);
	free(m);
	free(h);
	return cli_finish(ctx, status);
}

int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	df_buf b = DF_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	df_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	df_error_set(DF_EUSAGE, "%s", b.ptr);
	df_error_hint("usage: devflow %s (see 'devflow %s --help')", ctx->cmd->usage, cli_cmd_words(ctx->cmd));
	df_buf_release(&b);
	return cli_fail(ctx, DF_EUSAGE);
}

const char *cli_cmd_words(const struct cli_cmd *cmd)
{
	static char words[64];

	snprintf(words, sizeof(words), "%s%s", cmd->usage && !strncmp(cmd->usage, "db ", 3) ? "db " : "",
		cmd->name);
	return words;
}

/* The global options, for "did you mean" (main.c parses them). */
static const char *const global_opts[] = {
	"--env", "--url", "--json", "--no-color", "--quiet", "--verbose", "--lock-timeout",
	"--migrations-dir", "--help",
};

/*
 * The option nearest to a mistyped `word`: by edit distance ("--dryrun",
 * "--jsn"), or one whose name starts the word ("--environment" -> "--env").
 */
const char *cli_near_option(const char *word, const struct cli_opt *opts)
{
	const char *names[64], *best;
	size_t n = 0;

	for (const struct cli_opt *o = opts; o && o->name && n < 64; o++)
		names[n++] = o->name;
	for (size_t i = 0; i < sizeof(global_opts) / sizeof(global_opts[0]) && n < 64; i++)
		names[n++] = global_opts[i];
	if ((best = df_suggest(word, names, n)))
		return best;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) >= 5 && !strncmp(word, names[i], strlen(names[i])))
			return names[i];
	return NULL;
}

int cli_parse(struct cli_ctx *ctx, int argc, char **argv, const struct cli_opt *opts,
	char ***operands, int *noperands)
{
	/* operands point into argv; the array lives until exit, like argv */
	static char **ops;
	int n = 0;

	free(ops);
	if (!(ops = calloc((size_t)argc + 1, sizeof(*ops)))) {
		df_error_oom();
		cli_fail(ctx, DF_EINTERNAL);
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *val = NULL, *eq = NULL;
		const struct cli_opt *o;

		if (a[0] != '-' || !a[1]) {
			ops[n++] = a;
			continue;
		}
		if (!strncmp(a, "--", 2) && (eq = strchr(a, '='))) {
			*eq = '\0';
			val = eq + 1;
		}
		for (o = opts; o && o->name; o++)
			if (!strcmp(o->name, a))
				break;
		if (!o || !o->name) {
			const char *near = cli_near_option(a, opts);
			if (eq)
				*eq = '=';
			if (near) {
				df_error_set(DF_EUSAGE, "unknown option '%s' for 'devflow %s'", a, cli_cmd_words(ctx->cmd));
				df_error_hint("did you mean '%s'? (usage: devflow %s)", near, ctx->cmd->usage);
				cli_fail(ctx, DF_EUSAGE);
			} else {
				cli_usage_error(ctx, "unknown option '%s' for 'devflow %s'", a, cli_cmd_words(ctx->cmd));
			}
			return -1;
		}
		if (o->has_arg) {
			if (!val) {
				if (i + 1 >= argc) {
					cli_usage_error(ctx, "option '%s' needs a value", a);
					return -1;
				}
				val = argv[++i];
			}
			*o->value = val;
		} else {
			if (val) {
				cli_usage_error(ctx, "option '%s' takes no value", a);
				return -1;
			}
			*o->flag = true;
		}
	}
	ops[n] = NULL;
	*operands = ops;
	*noperands = n;
	return 0;
}

/* ---- sessions ----------------------------------------------------------- */

/*
 * The command as it was typed, with " --yes" added: what a person's "yes"
 * to the remote-host question runs.
 */
static char *retyped_with_yes(struct cli_ctx *ctx)
{
	df_buf b = DF_BUF_INIT;

	df_buf_puts(&b, "devflow");
	for (int i = 0; i < ctx->argc; i++) {
		df_buf_putc(&b, ' ');
		df_shell_quote(&b, ctx->argv[i]);
	}
	df_buf_printf(&b, "%s --yes", cli_env_arg(ctx));
	return df_buf_detach(&b);
}

void cli_warnings(struct cli_ctx *ctx, const df_strlist *w)
{
	json_t *a;

	if (!w->nr)
		return;
	if (!(a = json_object_get(ctx->result, "warnings"))) {
		a = json_array();
		json_object_set_new(ctx->result, "warnings", a);
	}
	for (size_t i = 0; i < w->nr; i++) {
		cli_say(ctx, "%swarning:%s %s\n", cli_c(ctx, "yellow"), cli_c(ctx, "reset"), w->v[i]);
		json_array_append_new(a, json_string(w->v[i]));
	}
}

/* What adoption recorded: for people, and "adopted" in JSON. */
static void adopt_report(struct cli_ctx *ctx, const df_session *s, const df_session_report *rep)
{
	json_t *o = json_object(), *a = json_array(), *n = json_array();
	const df_strlist *adopted = &rep->adopted_versions, *orphans = &rep->orphans;
	const char *tool = df_tool_name(rep->tool);

	for (size_t i = 0; i < adopted->nr; i++)
		json_array_append_new(a, json_string(adopted->v[i]));
	for (size_t i = 0; i < orphans->nr; i++)
		json_array_append_new(n, json_string(orphans->v[i]));
	json_object_set_new(o, "versions", a);
	json_object_set_new(o, "without_file", n);
	json_object_set_new(o, "mirrored", json_boolean(rep->mirror != DF_TOOL_NONE));
	a = json_array();
	for (size_t i = 0; i < rep->adopted_reverted.nr; i++)
		cli_say(ctx, "%s was rolled back with %s since devflow applied it: %s pending again\n",
			rep->adopted_reverted.v[i], tool, rep->adopt_dry ? "it counts as" : "recorded as");
	for (size_t i = 0; i < rep->adopted_failed.nr; i++)
		json_array_append_new(a, json_string(rep->adopted_failed.v[i]));
	json_object_set_new(o, "failed", a);
	a = json_array();
	for (size_t i = 0; i < rep->adopted_reverted.nr; i++)
		json_array_append_new(a, json_string(rep->adopted_reverted.v[i]));
	json_object_set_new(o, "rolled_back", a);
	json_object_set_new(o, "recorded", json_boolean(!rep->adopt_dry));
	json_object_set_new(ctx->result, "adopted", o);
	if (adopted->nr && rep->adopt_dry)
		cli_say(ctx, "%zu version%s that %s applied count%s as applied, not run (`devflow db migrate` "
			"records %s; this dry-run writes nothing)\n", adopted->nr, adopted->nr == 1 ? "" : "s",
			tool, adopted->nr == 1 ? "s" : "", adopted->nr == 1 ? "it" : "them");
	else if (adopted->nr || (!rep->adopted_failed.nr && !rep->adopted_reverted.nr))
		cli_say(ctx, "Adopted %zu version%s that %s applied (recorded as applied, not run again; "
			"`devflow db history` shows it)\n", adopted->nr, adopted->nr == 1 ? "" : "s", tool);
	for (size_t i = 0; i < rep->adopted_reverted.nr; i++)
		cli_say(ctx, "%s was rolled back with %s since devflow applied it: %s pending again\n",
			rep->adopted_reverted.v[i], tool, rep->adopt_dry ? "it counts as" : "recorded as");
	for (size_t i = 0; i < rep->adopted_failed.nr; i++)
		cli_say(ctx, "%s%s failed under %s%s (its %s marks it %s): %s failed, not applied; check "
			"which of its statements took effect before settling it\n", cli_c(ctx, "red"),
			rep->adopted_failed.v[i], tool, cli_c(ctx, "reset"), df_tool_table(rep->tool),
			rep->tool == DF_TOOL_GOLANG ? "dirty" : "failed",
			rep->adopt_dry ? "it counts as" : "recorded as");
	if (orphans->nr)
		cli_say(ctx, "%swarning:%s %zu version%s in %s's history %s no file in %s\n",
			cli_c(ctx, "yellow"), cli_c(ctx, "reset"), orphans->nr, orphans->nr == 1 ? "" : "s",
			tool, orphans->nr == 1 ? "has" : "have", s->cfg->migrations);
	if (rep->mirror)
		cli_say(ctx, "While the folder is in %s's format, devflow also writes %s's rows, so "
			"`%s` agrees.\n", tool, tool, rep->mirror == DF_TOOL_FLYWAY ? "flyway info" :
			rep->mirror == DF_TOOL_GOLANG ? "migrate version" : rep->mirror == DF_TOOL_GOOSE ?
			"goose status" : "dbmate status");
}

/*
 * The remote-host gate refused: the question (--yes answers it) and what
 * to do next.
 */
static void remote_ask(struct cli_ctx *ctx, const df_session_report *rep)
{
	char q[512], *then = retyped_with_yes(ctx);

	snprintf(q, sizeof(q), "Environment '%s' uses the local policy, but its host '%s' is "
		"not this machine. Is it really a development database?", rep->env, rep->host);
	cli_ask_yes(ctx, q, "a database on another host under the local policy gets no "
		"dry-run, backup or confirmation gate", "yes, a development database", then);
	free(then);
	df_error_hint("if this is really a development database, confirm with --yes; if it is "
		"staging or production, use --env staging / --env production (or set policy = in devflow.conf)");
}

/* What opening found, in the order it was found; then the refusal's words. */
static void session_render(struct cli_ctx *ctx, const df_session *s, const df_session_report *rep)
{
	const df_error *e = df_error_last();

	if (s->target) {
		ctx->dsn = s->target->dsn;
		json_object_set_new(ctx->result, "env", json_string(s->target->env));
		json_object_set_new(ctx->result, "target", json_string(s->target->redacted));
		json_object_set_new(ctx->result, "engine", json_string(s->target->dsn->engine));
	}
	cli_warnings(ctx, &rep->file_warnings);
	if (!rep->database_exists) {
		cli_verbose(ctx, "The database file %s does not exist yet; `devflow db migrate` creates it.\n",
			s->target->dsn->database);
		json_object_set_new(ctx->result, "database_exists", json_false());
	}
	cli_warnings(ctx, &rep->tls_warnings);
	switch (rep->stop) {
	case DF_SESSION_STOP_REMOTE_HOST:
		remote_ask(ctx, rep);
		break;
	case DF_SESSION_STOP_BINDING:
		df_error_hint("run it as that environment: --env %s; if the URL is wrong, fix %s",
			rep->bound_env, s->target->source);
		break;
	case DF_SESSION_STOP_ABSENT:
		df_error_hint("check the URL (%s, from %s); `devflow db migrate` creates the file",
			s->target->redacted, s->target->source);
		break;
	case DF_SESSION_STOP_CONNECT:
		if (e && !e->hint)
			df_error_hint("is the database running? check the URL (%s, from %s); `devflow doctor` checks it",
				s->target->redacted, s->target->source);
		break;
	case DF_SESSION_STOP_NO_DATABASE:
		json_object_set_new(ctx->result, "database_exists", json_false());
		json_object_set_new(ctx->result, "database_created", json_false());
		json_object_set_new(ctx->result, "create_database", cli_json_str(rep->create_sql));
		if (s->target->policy == DF_POLICY_LOCAL)
			cli_next(ctx, "devflow db migrate%s", cli_env_arg(ctx));
		break;
	case DF_SESSION_STOP_NONE:
		break;
	}
	if (rep->database_created) {
		cli_say(ctx, "Created the database '%s' on the server (it did not exist; the local "
			"policy creates it, as dbmate's up does)\n", s->target->dsn->database);
		json_object_set_new(ctx->result, "database_created", json_true());
		json_object_set_new(ctx->result, "create_database", cli_json_str(rep->create_sql));
	}
	if (rep->adopted)
		adopt_report(ctx, s, rep);
}

/* What an interrupted open of this command is recorded as (the workflow's
 * names), or NULL: commands that do not write leave no row. */
static const char *audit_op(struct cli_ctx *ctx)
{
	const char *name = !ctx->cmd ? "" : ctx->cmd->alias_of ? ctx->cmd->alias_of : ctx->cmd->name;

	if (strcmp(name, "migrate") && strcmp(name, "rollback"))
		return NULL;
	for (int i = 1; i < ctx->argc; i++)
		if (!strcmp(ctx->argv[i], "--dry-run"))
			return "dry-run";
	return name;
}

/*
 * Open a session: the flags become options, core decides, and what it
 * found is rendered here.
 */
int cli_session_open(df_session *s, struct cli_ctx *ctx, unsigned int flags,
	bool remote_confirmed)
{
	static const struct { unsigned int cli, core; } map[] = {
		{ CLI_S_DB, DF_SESSION_DB }, { CLI_S_ENSURE, DF_SESSION_ENSURE },
		{ CLI_S_LOCK, DF_SESSION_LOCK }, { CLI_S_FILES, DF_SESSION_FILES },
		{ CLI_S_PLAN, DF_SESSION_PLAN }, { CLI_S_WRITES, DF_SESSION_WRITES },
		{ CLI_S_EXISTING, DF_SESSION_EXISTING }, { CLI_S_CACHE, DF_SESSION_CACHE },
		{ CLI_S_KEEP_BAD, DF_SESSION_KEEP_BAD },
		{ CLI_S_DRY, DF_SESSION_DRY },
		{ CLI_S_CREATE_DB, DF_SESSION_CREATE_DB },
		{ CLI_S_NO_FOLDER_OK, DF_SESSION_NO_FOLDER_OK },
	};
	df_session_opts o = DF_SESSION_OPTS_INIT;
	df_session_report rep;
	int error;

	o.env = ctx->env;
	o.url = ctx->url;
	o.lock_timeout_ms = ctx->lock_timeout_ms;
	o.remote_confirmed = remote_confirmed;
	o.run = ctx->run;
	o.audit_op = audit_op(ctx);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (flags & map[i].cli)
			o.flags |= map[i].core;
	error = df_session_open(s, &o, &rep);
	session_render(ctx, s, &rep);
	df_session_report_release(&rep);
	return error;
}

void cli_audit(struct cli_ctx *ctx, df_session *s, const char *op,
	const char *result, const char *summary, const char *receipt, const char *detail)
{
	df_error *saved = df_error_save();

	if (df_session_audit(s, op, result, summary, receipt, detail) < 0) {
		const df_error *err = df_error_last();
		fprintf(stderr, "warning: %s\n", err && err->message ? err->message : "could not write the audit log");
	}
	if (saved)
		df_error_restore(saved);
}

int cli_actions(df_strlist *out, const df_migration *m, df_dialect d)
{
	char *text;
	size_t len;
	int error;

	if (m->up.len > 4 * 1024 * 1024)
		return df_strlist_pushf(out, "run a large migration (%llu MB)",
			(unsigned long long)(m->up.len >> 20));
	if ((error = df_section_read(&text, &len, &m->up)) < 0)
		return error;
#ifdef HAVE_REVIEW
	error = df_review_actions(out, d, text, len);
#endif
	free(text);
	return error;
}
