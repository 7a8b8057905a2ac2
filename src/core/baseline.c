/*
 * db baseline: a database no tool managed gets devflow's history, proven
 * instead of trusted (Flyway's `baseline`, golang-migrate's `force` and
 * Atlas's `migrate set` take the user's word).
 *
 * The proof: the migrations up to VERSION are replayed into a throwaway
 * database by the schema code's replay (schema/load.c, df_schema_replay(),
 * the shadow runner df_run_shadow()), read back with the schema model, and
 * compared with the live schema as drift compares (df_schema_drift(): the
 * same "+ table x" / "~ table users" words), both read without devflow's
 * own tables and other tools' history tables (what diff leaves out).
 * Equal: each migration is recorded applied with its file's checksums, an
 * audit row keeps the proof, and the live schema is recorded as the one
 * devflow left, so `db status` and `db verify` start from it.  Different:
 * nothing is written; the person may accept the differences, which are
 * then recorded as drift accepted by them (as a migrate over drift does).
 *
 * No migration at all and no VERSION: the first migration is written from
 * the live schema (the DDL `db pull` writes) and recorded the same way,
 * after the same proof.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devflow/baseline.h"
#include "devflow/buf.h"
#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/schema.h"
#include "core/wf_ask.h"
#include "util/fs.h"
#include "util/banned.h"

void df_baseline_free(df_baseline *b)
{
	if (!b)
		return;
	free(b->migs);
	df_strlist_release(&b->differences);
	df_strlist_release(&b->recorded);
	free(b->nearest);
	free(b->written);
	df_cmd_list_release(&b->next);
	df_ask_free(b->ask);
	free(b);
}

/* A command of `verb` with the run's target selection. */
static df_cmd *cmd_of(df_verb verb, const char *arg)
{
	df_cmd *c = df_cmd_new(verb);

	if (c && ((arg && df_cmd_arg(c, arg) < 0) || df_cmd_opt_add(c, DF_OPT_SELECT, NULL) < 0)) {
		df_cmd_free(c);
		c = NULL;
	}
	return c;
}

/* The versioned migrations of the folder (repeatables run after them and
 * are not part of a baseline). */
static size_t versioned(const df_migration_set *set)
{
	size_t n = 0;

	for (size_t i = 0; set && i < set->nr; i++)
		n += !set->v[i].repeatable;
	return n;
}

static const df_migration *newest(const df_migration_set *set)
{
	const df_migration *m = NULL;

	for (size_t i = 0; set && i < set->nr; i++)
		if (!set->v[i].repeatable && (!m || df_version_cmp(set->v[i].version, m->version) > 0))
			m = &set->v[i];
	return m;
}

/* The version of the folder nearest to `v` (numerically where both are
 * numbers, else the first one after it, else the newest). */
static const char *nearest_version(const df_migration_set *set, const char *v)
{
	const char *best = NULL;
	long double want = strtold(v, NULL), dist = INFINITY;

	for (size_t i = 0; set && i < set->nr; i++) {
		const df_migration *m = &set->v[i];
		long double d;
		if (m->repeatable)
			continue;
		d = fabsl(strtold(m->version, NULL) - want);
		if (!best || d < dist) {
			best = m->version;
			dist = d;
		}
	}
	return best;
}

/* The history the database has already: devflow's rows, or another tool's
 * read into the plan.  DF_EUSAGE, nothing written. */
static int has_history(df_baseline *b, const df_session *s)
{
	const df_ledger *l = s->ledger;
	const char *tool = NULL;
	int error;

	if (!l || !l->nr)
		return 0;
	for (size_t i = 0; i < l->nr && !tool; i++)
		tool = l->v[i].adopted_from;
	b->stop = DF_BASELINE_STOP_HISTORY;
	if (tool)
		error = df_error_set(DF_EUSAGE, "the database has %s's history already (%zu version%s in "
			"its table): devflow adopts it, there is nothing to baseline", tool, l->nr,
			l->nr == 1 ? "" : "s");
	else
		error = df_error_set(DF_EUSAGE, "the database has devflow's history already (%zu row%s in "
			"'%s'): db baseline is for a database no tool managed; nothing was changed", l->nr,
			l->nr == 1 ? "" : "s", s->cfg->table);
	df_error_hint("its history is what counts: " DF_ERR_CMD(0) " shows what is applied and pending");
	df_error_suggest(cmd_of(DF_VERB_STATUS, NULL));
	if (df_cmd_list_push(&b->next, cmd_of(DF_VERB_STATUS, NULL)) < 0)
		return df_error_oom();
	return error;
}

static int unknown_version(df_baseline *b, const df_session *s)
{
	const char *near = nearest_version(s->set, b->o.to);
	int error;

	b->stop = DF_BASELINE_STOP_UNKNOWN;
	if (near && !(b->nearest = strdup(near)))
		return df_error_oom();
	/* a guessed version is no `next` (it would record): status lists them,
	 * the hint names the nearest */
	if (df_cmd_list_push(&b->next, cmd_of(DF_VERB_STATUS, NULL)) < 0)
		return df_error_oom();
	if (near) {
		error = df_error_set(DF_EUSAGE, "no migration in '%s' has version '%s'; the nearest is '%s'",
			s->cfg->migrations, b->o.to, near);
		df_error_hint("baseline up to a version of the folder: " DF_ERR_CMD(0));
		df_error_suggest(cmd_of(DF_VERB_BASELINE, near));
		return error;
	}
	error = df_error_set(DF_EUSAGE, "no migration in '%s' has version '%s': the folder holds no "
		"migration", s->cfg->migrations, b->o.to);
	df_error_hint("without VERSION, " DF_ERR_CMD(0) " writes the first migration from the live schema");
	df_error_suggest(cmd_of(DF_VERB_BASELINE, NULL));
	return error;
}

/* The schema options of both sides: devflow's own tables left out (other
 * tools' history tables the reader leaves out itself, as diff does). */
static int read_live(df_schema **out, df_session *s)
{
	return df_session_schema_read(out, s, NULL);
}

/* "<kind> <name>" of a difference line ("+ table public.t4" -> "public.t4"). */
static const char *name_of(const char *line, size_t *kind_len)
{
	const char *key = line + 2, *best = NULL;

	for (int k = 0; k < DF_OBJ_KIND_NR; k++) {
		const char *kn = df_obj_kind_name((df_obj_kind)k);
		size_t l = strlen(kn);
		if (!strncmp(key, kn, l) && key[l] == ' ' && (!best || l > *kind_len)) {
			best = key + l + 1;
			*kind_len = l;
		}
	}
	return best;
}

/*
 * What hangs off a table that only one side has (its primary key, its
 * indexes: "+ constraint public.t4.t4_pkey") is said under that table, as
 * a detail line, so that the differences name the table once.
 */
static int fold(df_strlist *out, const df_strlist *lines)
{
	size_t *owner = calloc(lines->nr + 1, sizeof(*owner));    /* 1 + the table's line */
	int error = 0;

	if (!owner)
		return df_error_oom();
	for (size_t i = 0; i < lines->nr; i++) {
		const char *l = lines->v[i], *tname;
		size_t tk = 0, tl;
		if ((l[0] != '+' && l[0] != '-') || strncmp(l + 2, "table ", 6) || !(tname = name_of(l, &tk)))
			continue;
		tl = strlen(tname);
		for (size_t j = 0; j < lines->nr; j++) {
			const char *c = lines->v[j], *cname;
			size_t ck = 0;
			if (j != i && !owner[j] && c[0] == l[0] && strncmp(c + 2, "table ", 6) &&
			    (cname = name_of(c, &ck)) && !strncmp(cname, tname, tl) && cname[tl] == '.')
				owner[j] = i + 1;
		}
	}
	for (size_t i = 0; i < lines->nr && !error; i++) {
		if (owner[i])
			continue;
		error = df_strlist_push(out, lines->v[i]);
		for (size_t j = 0; j < lines->nr && !error; j++)
			if (owner[j] == i + 1)
				error = df_strlist_pushf(out, "  %s", lines->v[j]);
	}
	free(owner);
	return error;
}

/*
 * Replay `migs` into a throwaway database and compare with `live`: the
 * differences, in drift's words, appended to `out`.
 */
static int prove(df_strlist *out, df_session *s, const df_baseline_opts *o,
	const df_migration *const *migs, size_t n, const df_schema *live)
{
	df_schema_opts so = DF_SCHEMA_OPTS_INIT;
	df_strlist exclude = DF_STRLIST_INIT, lines = DF_STRLIST_INIT;
	df_schema *want = NULL;
	char hash[65], *text = NULL, *changes = NULL;
	bool drifted = false;
	int error;

	if ((error = df_schema_own_tables(&exclude, s->cfg->table)) < 0)
		goto out;
	so.exclude_tables = &exclude;
	if ((error = df_schema_replay(&want, migs, n, s->target->dsn->engine,
		o->server ? o->server : s->target->dsn, &so, 0, df_run_shadow)) < 0) {
		df_error_prefix("cannot prove the baseline: the migrations do not replay");
		goto out;
	}
	if ((error = df_schema_text(&text, want)) < 0 || (error = df_schema_hash(hash, want)) < 0 ||
	    (error = df_schema_drift(&drifted, &changes, hash, text, live)) < 0)
		goto out;
	for (char *p = changes, *nl; drifted && p && *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		if (*p && (error = df_strlist_push(&lines, p)) < 0)
			goto out;
	}
	error = fold(out, &lines);
out:
	df_strlist_release(&lines);
	free(text);
	free(changes);
	df_schema_free(want);
	df_strlist_release(&exclude);
	return error;
}

/* The person-gate of accepted differences: staging and production. */
static bool person_needed(const df_baseline *b, const df_session *s)
{
	const char *env = s->target->env;

	if (b->policy == DF_POLICY_LOCAL || b->confirmed)
		return false;
	return !(b->o.confirm && (!strcmp(b->o.confirm, env) ||
		(b->policy == DF_POLICY_PRODUCTION && !strcmp(b->o.confirm, "production"))));
}

/* The question: accept the differences (and, beyond local, confirm). */
static int make_ask(df_baseline *b, const df_session *s)
{
	df_cmd *then = cmd_of(DF_VERB_BASELINE, b->version);
	df_ask *a = df__wf_ask_new(DF_ASK_BASELINE, b->version, NULL);

	then = df__wf_with(then, DF_OPT_ACCEPT_DIFFERENCES, NULL);
	if (b->policy != DF_POLICY_LOCAL)
		then = df__wf_with(then, DF_OPT_CONFIRM, b->policy == DF_POLICY_PRODUCTION ? "production" :
			s->target->env);
	if (!then || !a || !(a->env = strdup(s->target->env))) {
		df_cmd_free(then);
		df_ask_free(a);
		return df_error_oom();
	}
	a->policy = b->policy;
	a->typed = b->policy != DF_POLICY_LOCAL;
	a->migrations = b->n;
	for (size_t i = 0; i < b->differences.nr; i++)
		if (df_strlist_push(&a->drift, b->differences.v[i]) < 0) {
			df_cmd_free(then);
			df_ask_free(a);
			return df_error_oom();
		}
	df__wf_ask_option(a, DF_ANSWER_YES, then);
	df__wf_ask_option(a, DF_ANSWER_NO, NULL);
	df_ask_free(b->ask);
	b->ask = a;
	return 0;
}

/* The objects that differ (a difference's detail lines are indented). */
size_t df_baseline_objects(const df_strlist *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nr; i++)
		n += d->v[i][0] != ' ';
	return n;
}

static int different(df_baseline *b, const df_session *s)
{
	const df_migration *last = newest(s->set);
	size_t n = df_baseline_objects(&b->differences);
	int error;

	b->stop = DF_BASELINE_STOP_DIFFERENT;
	if (last && b->version && df_version_cmp(last->version, b->version) > 0)
		b->later = last->version;
	/* next: what does not decide for the person (a later VERSION, a
	 * migration that captures the difference); the ask: accept them */
	if ((b->later && (error = df_cmd_list_push(&b->next, cmd_of(DF_VERB_BASELINE, b->later))) < 0) ||
	    (error = df_cmd_list_push(&b->next, cmd_of(DF_VERB_PULL, NULL))) < 0 ||
	    (error = df_cmd_list_push(&b->next, cmd_of(DF_VERB_GENERATE, "baseline_differences"))) < 0 ||
	    (error = make_ask(b, s)) < 0)
		return error;
	error = df_error_set(DF_EUNVERIFIED, "the live schema is not the one the %zu migration%s up to "
		"%s make: %zu difference%s; nothing was recorded", b->n, b->n == 1 ? "" : "s",
		b->version ? b->version : "the first", n, n == 1 ? "" : "s");
	if (b->later) {
		df_error_hint("baseline a later version (" DF_ERR_CMD(0) "), capture the difference in a "
			"new migration (" DF_ERR_CMD(1) " writes the schema file from the live database, "
			"then db generate), or accept the differences as drift (--accept-differences)");
		df_error_suggest(cmd_of(DF_VERB_BASELINE, b->later));
	} else {
		df_error_hint("capture the difference in a new migration (" DF_ERR_CMD(0) " writes the "
			"schema file from the live database, then db generate), or accept the differences "
			"as drift (--accept-differences)");
	}
	df_error_suggest(cmd_of(DF_VERB_PULL, NULL));
	return error;
}

int df_baseline_prepare(df_baseline **out, df_session *s, const df_baseline_opts *o)
{
	df_baseline *b = calloc(1, sizeof(*b));
	df_schema *live = NULL;
	const df_migration **migs = NULL;
	size_t n = 0;
	int error = 0;

	*out = NULL;
	if (!b)
		return df_error_oom();
	*out = b;
	b->o = *o;
	b->policy = s->target->policy;
	if ((error = has_history(b, s)) < 0)
		goto out;
	if (o->to && !df_migration_set_find(s->set, o->to)) {
		error = unknown_version(b, s);
		goto out;
	}
	if (!o->to && !versioned(s->set)) {
		b->first = true;
	} else {
		const df_migration *m = o->to ? df_migration_set_find(s->set, o->to) : newest(s->set);
		if (!m || m->repeatable) {
			error = unknown_version(b, s);
			goto out;
		}
		b->version = m->version;
		if ((error = df_migration_set_history(&migs, &n, s->set, b->version, true)) < 0)
			goto out;
		b->migs = migs;
		b->n = n;
		migs = NULL;
	}
	if ((error = read_live(&live, s)) < 0 || (error = df_schema_hash(b->hash, live)) < 0)
		goto out;
	b->objects = live->nr;
	if (b->first) {
		/* what a new database holds already (PostgreSQL's schema public)
		 * is no schema to take over */
		df_strlist none = DF_STRLIST_INIT;
		size_t k;
		error = prove(&none, s, o, NULL, 0, live);
		k = df_baseline_objects(&none);
		df_strlist_release(&none);
		if (error < 0)
			goto out;
		if (!k) {
			error = df_error_set(DF_EUSAGE, "the database holds no schema object and the folder "
				"no migration: there is nothing to baseline");
			df_error_hint("start with a migration: " DF_ERR_CMD(0));
			df_error_suggest(df_cmd_make(DF_VERB_CREATE, "NAME", -1));
			b->stop = DF_BASELINE_STOP_UNKNOWN;
		}
		goto out;
	}
	if ((error = prove(&b->differences, s, o, b->migs, b->n, live)) < 0)
		goto out;
	if (!b->differences.nr)
		goto out;
	if (!o->accept_differences) {
		error = different(b, s);
		goto out;
	}
	if (person_needed(b, s)) {
		b->stop = DF_BASELINE_STOP_PERSON;
		b->missing = DF_GATE_CONFIRMATION;
		if ((error = make_ask(b, s)) < 0)
			goto out;
		error = df_error_set(DF_EGATE, "accepting %zu difference%s on %s is a person's decision",
			df_baseline_objects(&b->differences), df_baseline_objects(&b->differences) == 1 ? "" : "s",
			s->target->env);
		df_error_hint("the %s policy asks a person to confirm it: " DF_ERR_CMD(0),
			df_policy_name(b->policy));
		df_error_suggest(df_cmd_dup(b->ask->options[0].cmd));
	}
out:
	free(migs);
	df_schema_free(live);
	if (error < 0 && b->stop == DF_BASELINE_GO)
		b->stop = DF_BASELINE_STOP_ERROR;
	b->error = error;
	return error;
}

void df_baseline_consent(df_baseline *b)
{
	if (b->stop != DF_BASELINE_STOP_PERSON)
		return;
	b->confirmed = true;
	b->stop = DF_BASELINE_GO;
	b->missing = 0;
	b->error = 0;
	df_ask_free(b->ask);
	b->ask = NULL;
	df_error_clear();
}

/* First mode: the migration that makes the live schema, written in the
 * folder's format (the DDL `db pull` writes), then the folder read again. */
static int write_first(df_baseline *b, df_session *s, const df_schema *live)
{
	df_new_migration nm = { 0 };
	df_buf up = DF_BUF_INIT, down = DF_BUF_INIT;
	df_schema *base = NULL;
	df_migration_set *set = NULL;
	const df_migration **migs = NULL;
	char *ddl = NULL;
	size_t n = 0;
	int error;

	if ((error = df_mkdirs(s->migrations_dir, 0755, true)) < 0 ||
	    (error = df_migration_new(&nm, s->set, s->migrations_dir, "baseline", NULL, time(NULL))) < 0 ||
	    (error = df_schema_replay(&base, NULL, 0, s->target->dsn->engine,
		b->o.server ? b->o.server : s->target->dsn, NULL, 0, NULL)) < 0 ||
	    (error = df_schema_ddl(&ddl, base, live, NULL)) < 0 ||
	    (error = df_migration_compose(&up, &down, &nm, "-- The schema the database had when devflow "
		"took it over (db baseline).\n", ddl, "", false)) < 0 ||
	    (error = df_file_write_new(nm.path, &up)) < 0 ||
	    (nm.down_path && down.size && (error = df_file_write_new(nm.down_path, &down)) < 0))
		goto out;
	/* named as the folder is configured ("migrations/2026..._baseline.sql") */
	{
		const char *base_name = strrchr(nm.path, '/') ? strrchr(nm.path, '/') + 1 : nm.path;
		if (asprintf(&b->written, "%s/%s", s->cfg->migrations, base_name) < 0) {
			b->written = NULL;
			error = df_error_oom();
			goto out;
		}
	}
	if ((error = df_migration_set_load(&set, s->cfg->migrations, true)) < 0 ||
	    (error = df_migration_set_history(&migs, &n, set, NULL, true)) < 0)
		goto out;
	df_migration_set_free(s->set);
	s->set = set;
	set = NULL;
	free(b->migs);
	b->migs = migs;
	b->n = n;
	migs = NULL;
	b->version = n ? b->migs[n - 1]->version : NULL;
out:
	free(ddl);
	free(migs);
	df_migration_set_free(set);
	df_schema_free(base);
	df_buf_release(&up);
	df_buf_release(&down);
	df_new_migration_release(&nm);
	return error;
}

/* The audit row: what was recorded and the proof. */
static int audit(df_baseline *b, df_session *s)
{
	df_buf sum = DF_BUF_INIT, det = DF_BUF_INIT;
	char who[DF_WHOAMI_MAX];
	int error;

	df_buf_printf(&sum, "baseline: recorded %zu migration%s applied%s%s%s", b->n, b->n == 1 ? "" : "s",
		b->version ? " up to " : "", b->version ? b->version : "",
		b->accepted ? " (differences accepted)" : "");
	df_buf_printf(&det, "adopted_from baseline; proof: the %zu migration%s replayed into a throwaway "
		"%s database give%s the live schema (%zu objects, sha256 %.16s)", b->n, b->n == 1 ? "" : "s",
		s->target->dsn->engine, b->n == 1 ? "s" : "", b->objects, b->hash);
	if (b->written)
		df_buf_printf(&det, "; first migration written from the live schema: %s", b->written);
	if (b->accepted) {
		df_buf_printf(&det, " but for %zu difference%s accepted by %s (%s):",
			df_baseline_objects(&b->differences), df_baseline_objects(&b->differences) == 1 ? "" : "s",
			df_whoami(who, sizeof(who)),
			b->policy == DF_POLICY_LOCAL ? "--accept-differences" : b->o.confirm ?
			"given with the run" : "answered yes");
		/* "~ table users (+ column users.legacy_flag integer); + table x" */
		for (size_t i = 0; i < b->differences.nr; i++) {
			const char *l = b->differences.v[i];
			bool sub = l[0] == ' ';
			bool more = i + 1 < b->differences.nr && b->differences.v[i + 1][0] == ' ';
			df_buf_printf(&det, "%s%s%s", sub ? (b->differences.v[i - 1][0] == ' ' ? ", " : " (") :
				i ? "; " : " ", sub ? l + 2 : l, sub && !more ? ")" : "");
		}
	}
	error = df_buf_oom(&sum) || df_buf_oom(&det) ? df_error_oom() :
		df_session_audit(s, "baseline", "ok", sum.ptr, NULL, det.ptr);
	df_buf_release(&sum);
	df_buf_release(&det);
	return error;
}

int df_baseline_execute(df_baseline *b, df_session *s)
{
	df_schema *live = NULL;
	char who[DF_WHOAMI_MAX];
	bool in_tx = false;
	int error;

	if (b->stop != DF_BASELINE_GO)
		return b->error;
	if ((error = df_ledger_ensure(s->conn, s->cfg->table)) < 0 ||
	    (error = read_live(&live, s)) < 0)
		goto out;
	if (b->first) {
		df_strlist diff = DF_STRLIST_INIT;
		if ((error = write_first(b, s, live)) < 0)
			goto out;
		/* the file written is proven as any other: replayed, compared */
		error = prove(&diff, s, &b->o, b->migs, b->n, live);
		if (error == 0 && diff.nr) {
			error = df_error_set(DF_EUNVERIFIED, "the first migration written from the live schema "
				"('%s') does not make it again (%zu difference%s, first: %s); nothing was recorded",
				b->written, diff.nr, diff.nr == 1 ? "" : "s", diff.v[0]);
			df_error_hint("edit the file until it makes the live schema, then " DF_ERR_CMD(0));
			df_error_suggest(cmd_of(DF_VERB_BASELINE, b->version));
		}
		df_strlist_release(&diff);
		if (error < 0)
			goto out;
	}
	/* One transaction: a crash here leaves no row, or every row (MySQL:
	 * the rows are data, the ensure above is the only DDL). */
	if ((error = df_conn_begin(s->conn)) < 0)
		goto out;
	in_tx = true;
	for (size_t i = 0; i < b->n; i++)
		if ((error = df_ledger_mark_applied(s->conn, s->cfg->table, b->migs[i])) < 0 ||
		    (error = df_strlist_push(&b->recorded, b->migs[i]->version)) < 0)
			goto out;
	b->accepted = b->differences.nr > 0;
	if ((error = audit(b, s)) < 0 || (error = df_conn_commit(s->conn)) < 0)
		goto out;
	in_tx = false;
	if ((error = df_binding_write(s->conn, s->cfg->table, s->target->env, s->target->policy)) < 0 ||
	    (error = df_session_replan(s)) < 0)
		goto out;
	/* the live schema is the one devflow left: status and verify start here */
	error = b->accepted ? df_session_schema_record_drift(s, live, &b->differences,
		df_whoami(who, sizeof(who))) : df_session_schema_record(s, live);
	if (error < 0)
		goto out;
	if ((error = df_cmd_list_push(&b->next, cmd_of(DF_VERB_STATUS, NULL))) < 0)
		goto out;
	for (size_t i = 0; s->plan && i < s->plan->nr; i++)
		if (s->plan->items[i].state == DF_STATE_PENDING) {
			error = df_cmd_list_push(&b->next, cmd_of(DF_VERB_MIGRATE, NULL));
			break;
		}
out:
	if (in_tx)
		df_conn_rollback(s->conn);
	df_schema_free(live);
	b->error = error;
	return error;
}
