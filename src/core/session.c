/*
 * An open session's shared chores: re-reading the history, the audit log,
 * a backup recorded as a receipt, and the environment a database is bound
 * to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devflow/buf.h"
#include "devflow/cmd.h"
#include "devflow/error.h"
#include "devflow/session.h"
#include "util/banned.h"

/* ---- opening a session ---------------------------------------------------- */

void df_session_report_release(df_session_report *rep)
{
	df_strlist_release(&rep->file_warnings);
	df_strlist_release(&rep->tls_warnings);
	df_strlist_release(&rep->adopted_versions);
	df_strlist_release(&rep->orphans);
	df_strlist_release(&rep->adopted_failed);
	df_strlist_release(&rep->adopted_reverted);
	free(rep->env);
	free(rep->host);
	free(rep->bound_env);
	free(rep->create_sql);
	*rep = (df_session_report)DF_SESSION_REPORT_INIT;
}

/* A SQLite file that does not exist yet. */
static bool sqlite_file_absent(const df_dsn *dsn)
{
	struct stat st;

	return !strcmp(dsn->engine, "sqlite") && dsn->database &&
		strcmp(dsn->database, ":memory:") && stat(dsn->database, &st) < 0;
}

/*
 * The remote-host gate: a target that is not this machine, under the local
 * policy, in a run that writes, is refused until confirmed.
 */
static int remote_refused(df_session *s, df_session_report *rep, const char *host)
{
	rep->stop = DF_SESSION_STOP_REMOTE_HOST;
	if (!(rep->env = strdup(s->target->env)) || !(rep->host = strdup(host)))
		return df_error_oom();
	return df_error_set(DF_EGATE, "environment '%s' uses the local policy but its host '%s' "
		"is not this machine", s->target->env, host);
}

/*
 * After connecting, before any statement: the socket must agree with the
 * judgement made before (a target judged local whose peer is another
 * machine meets the remote-host gate now), and a remote connection without
 * TLS is a warning under staging and production, an error with require_tls.
 */
static int session_reach(df_session *s, const df_session_opts *o, df_session_report *rep,
	df_reach *reach)
{
	int error;

	if ((error = df_reach_after(reach, s->conn)) < 0)
		return error;
	if (reach->local && !reach->peer_local && (o->flags & DF_SESSION_WRITES) &&
	    s->target->policy == DF_POLICY_LOCAL && !o->remote_confirmed)
		return remote_refused(s, rep, reach->peer);
	return df_reach_tls_check(reach, s->target, &rep->tls_warnings);
}

/*
 * Through a transaction pooler a server session is not the run's for its
 * length: the migration lock (a session-level advisory lock) does not hold,
 * and a migration run outside a transaction is spread over sessions.  Such
 * a URL is refused (kind pooler, exit 4), pointing at direct_url: the URL
 * devflow uses while the application keeps the pooled one.
 */
int df_pooler_check(df_conn *conn, const df_target *t)
{
	char *why = NULL;
	int error;

	if ((error = df_conn_pooler(conn, t->dsn, &why)) < 0 || !why)
		return error;
	df_error_set(DF_EPOOLER, "%s goes through a transaction pooler: %s; devflow's migration "
		"lock and a migration run outside a transaction need one server session for the "
		"whole run", t->redacted, why);
	free(why);
	if (t->direct)
		df_error_hint("direct_url in devflow.conf's [env \"%s\"] must reach the server itself "
			"(or a pooler in session mode): use the provider's direct connection string",
			t->env);
	else if (!strncmp(t->source, "--url", 5) || !strncmp(t->source, "DEVFLOW_URL", 11))
		df_error_hint("give devflow the server's direct (or session-mode) URL instead of this "
			"one, which came from %s; or set it as direct_url in devflow.conf's [env \"%s\"]: "
			"devflow uses direct_url for migrations, dry-runs, backups and locks, and the "
			"application keeps url", t->source, t->env);
	else
		df_error_hint("set direct_url in devflow.conf's [env \"%s\"] to the server's direct "
			"(or session-mode) URL (direct_url = ${DIRECT_URL}, say): devflow uses it for "
			"migrations, dry-runs, backups and locks, and the application keeps this URL, "
			"which came from %s", t->env, t->source);
	return DF_EPOOLER;
}

/*
 * The server has no database of the URL's name (DF_SESSION_CREATE_DB): the
 * local policy creates it, as dbmate's `up` does; a dry-run says it would
 * and creates nothing; under staging and production creating a database
 * is a person's decision, so the refusal names the statement to run.
 * 0 when it was created now.
 */
static int missing_database(df_session *s, const df_session_opts *o, df_session_report *rep)
{
	const df_dsn *d = s->target->dsn;
	const char *policy = df_policy_name(s->target->policy);
	int error;

	if ((error = df_database_create_sql(&rep->create_sql, d)) < 0)
		return error;
	rep->stop = DF_SESSION_STOP_NO_DATABASE;
	if (s->target->policy != DF_POLICY_LOCAL) {
		error = df_error_set(DF_EUNKNOWNDB, "the database '%s' does not exist on the server of "
			"%s, and under the %s policy devflow does not create it: creating a %s database is "
			"a person's decision", d->database, s->target->redacted, policy, policy);
		df_error_hint("if it should exist, a person creates it on that server (%s) and runs "
			"`" DF_ERR_CMD(0) "` again; if not, fix the URL, which came from %s",
			rep->create_sql, s->target->source);
		df_error_suggest(df_cmd_make(DF_VERB_MIGRATE, NULL, -1));
		return error;
	}
	if (o->flags & DF_SESSION_DRY) {
		error = df_error_set(DF_EUNKNOWNDB, "the database '%s' does not exist on the server of "
			"%s: `" DF_ERR_CMD(0) "` would create it (%s) under the local policy; this "
			"dry-run created nothing and ran no migration", d->database, s->target->redacted,
			rep->create_sql);
		df_error_hint("run `" DF_ERR_CMD(0) "` to create it and apply the migrations, or fix "
			"the URL, which came from %s", s->target->source);
		df_error_suggest(df_cmd_make(DF_VERB_MIGRATE, NULL, -1));
		return error;
	}
	if ((error = df_database_create(d, s->run)) < 0)
		return error;
	rep->database_created = true;
	rep->stop = DF_SESSION_STOP_NONE;
	return 0;
}

static int session_connect(df_session *s, const df_session_opts *o, df_session_report *rep,
	df_reach *reach)
{
	df_dsn *empty = NULL;
	int error;

	/* A remote host under the local policy: refuse before connecting, judged
	 * from what the client library will read (no name lookup). */
	if ((error = df_reach_before(reach, s->target->dsn)) < 0)
		return error;
	if ((o->flags & DF_SESSION_WRITES) && s->target->policy == DF_POLICY_LOCAL &&
	    !reach->local && !o->remote_confirmed)
		return remote_refused(s, rep, reach->host);
	/* Runs that only read never create a database file. */
	if ((o->flags & DF_SESSION_EXISTING) && sqlite_file_absent(s->target->dsn)) {
		rep->stop = DF_SESSION_STOP_ABSENT;
		return df_error_set(DF_ENOTFOUND, "the database file %s does not exist",
			s->target->dsn->database);
	}
	/* Nor does a dry-run where nothing asks for its receipt (the local
	 * policy): an empty database in memory stands for the missing file. */
	if ((!(o->flags & (DF_SESSION_WRITES | DF_SESSION_ENSURE | DF_SESSION_LOCK)) ||
	     ((o->flags & DF_SESSION_DRY) && s->target->policy == DF_POLICY_LOCAL)) &&
	    sqlite_file_absent(s->target->dsn)) {
		if ((error = df_dsn_parse(&empty, "sqlite::memory:")) < 0)
			return error;
		rep->database_exists = false;
	}
	s->target->dsn->wait_ms = o->lock_timeout_ms <= 0 ? 1 : o->lock_timeout_ms;  /* 0: "not set" */
	if (df_run_cancelled(s->run)) {
		df_dsn_free(empty);
		return DF_EINTERRUPTED;         /* worded by df_session_open */
	}
	error = df_conn_open(&s->conn, empty ? empty : s->target->dsn);
	if (error == DF_EUNKNOWNDB && !empty && (o->flags & DF_SESSION_CREATE_DB) &&
	    (error = missing_database(s, o, rep)) == 0)
		error = df_conn_open(&s->conn, s->target->dsn);
	df_dsn_free(empty);
	/* from now on the run's cancel stops a statement on the connection */
	if (error == 0 && (error = df_run_arm(s->run, s->conn)) < 0)
		return error;
	if (error < 0 && rep->stop == DF_SESSION_STOP_NO_DATABASE)
		return error;
	if (error < 0) {
		const df_error *e = df_error_last();
		rep->stop = DF_SESSION_STOP_CONNECT;
		if (e && (e->code == DF_EPERM || e->code == DF_EIO))
			((df_error *)e)->connect_phase = 1;
		df_error_prefix("cannot connect to %s", s->target->redacted);
		if (e && e->hint) {
			/* the driver cannot know where the URL came from: say it here */
			char *h = strdup(e->hint);
			if (h)
				df_error_hint("%s; the URL came from %s", h, s->target->source);
			free(h);
		}
		return error;
	}
	if ((error = session_reach(s, o, rep, reach)) < 0)
		return error;
	return df_pooler_check(s->conn, s->target);
}

/*
 * A database bound to a stronger policy is never changed under a weaker
 * one.  The refusal is recorded in the audit log (`audit_op`, NULL: not),
 * so the binding's owners see who tried.
 */
static int binding_gate(df_session *s, df_session_report *rep, const char *audit_op)
{
	char *bound = NULL;
	df_policy bp;
	int error;

	if ((error = df_binding_read(&bound, &bp, s->conn, s->cfg->table)) < 0)
		return error;
	if (!bound || bp <= s->target->policy) {
		free(bound);
		return 0;
	}
	rep->stop = DF_SESSION_STOP_BINDING;
	rep->bound_env = bound;
	rep->bound_policy = bp;
	if (!(rep->env = strdup(s->target->env)))
		return df_error_oom();
	error = df_error_set(DF_EGATE, "this database is bound to environment '%s' (policy %s), "
		"but this run is environment '%s' under the %s policy (its URL came from %s)",
		bound, df_policy_name(bp), s->target->env, df_policy_name(s->target->policy),
		s->target->source);
	if (audit_op) {
		/* a crash here leaves the refusal unrecorded and nothing else changed */
		df_buf sum = DF_BUF_INIT;
		df_buf_printf(&sum, "refused by the binding to environment '%s' (policy %s)", bound,
			df_policy_name(bp));
		df_session_audit_failure(s, audit_op, "refused", df_buf_oom(&sum) ? "refused" : sum.ptr);
		df_buf_release(&sum);
	}
	return error;
}

/* The tracking table exists in the database. */
static bool tracking_exists(df_session *s)
{
	df_rows *cols = NULL;
	bool yes = df_conn_table_columns(s->conn, &cols, s->cfg->table) == 0 && cols && cols->nrows > 0;

	df_rows_free(cols);
	df_error_clear();
	return yes;
}

/* A dry-run's view of adoption: the versions its plan counts applied or
 * failed from another tool's history, which the real run records. */
static int adopt_preview(df_session *s, df_session_report *rep)
{
	int error = 0;

	rep->tool = s->history_tool;
	rep->mirror = s->mirror;
	for (size_t i = 0; i < s->plan->nr && !error; i++) {
		const df_plan_item *it = &s->plan->items[i];
		if (it->row && it->row->adopted_from && it->mig)
			error = df_strlist_push(it->row->state == DF_ROW_APPLIED ? &rep->adopted_versions :
				&rep->adopted_failed, it->mig->version);
	}
	for (size_t i = 0; i < s->tool_reverted.nr && !error; i++)
		error = df_strlist_push(&rep->adopted_reverted, s->tool_reverted.v[i]);
	rep->adopt_dry = true;
	rep->adopted = rep->adopted_versions.nr || rep->adopted_failed.nr || rep->adopted_reverted.nr;
	return error;
}

static int session_open_1(df_session *s, const df_session_opts *o, df_session_report *rep,
	df_reach *reach, const char **step)
{
	bool ensure = (o->flags & DF_SESSION_ENSURE) != 0;
	int error;

	if ((error = df_config_load(&s->cfg, ".")) < 0)
		return error;
	if ((error = df_target_resolve(&s->target, s->cfg, o->env, o->url)) < 0)
		return error;
	if (o->flags & DF_SESSION_FILES) {
		if (!(s->migrations_dir = df_config_path(s->cfg, s->cfg->migrations)))
			return df_error_oom();
		if (o->flags & DF_SESSION_KEEP_BAD)
			error = df_migration_set_load_all(&s->set, s->cfg->migrations, true,
				o->flags & DF_SESSION_CACHE);
		else
			error = (o->flags & DF_SESSION_CACHE ? df_migration_set_load_cached :
				df_migration_set_load)(&s->set, s->cfg->migrations,
				!(o->flags & DF_SESSION_NO_FOLDER_OK));
		if (error < 0)
			return error;
		for (size_t i = 0; i < s->set->warnings.nr; i++)
			if ((error = df_strlist_push(&rep->file_warnings, s->set->warnings.v[i])) < 0)
				return error;
	}
	if (!(o->flags & DF_SESSION_DB))
		return 0;
	*step = "connecting";
	if ((error = session_connect(s, o, rep, reach)) < 0)
		return error;
	if (df_run_cancelled(s->run))
		return DF_EINTERRUPTED;
	if (o->flags & DF_SESSION_LOCK) {
		*step = "waiting for the migration lock";
		if (df_run_cancelled(s->run) ||
		    (error = df_conn_lock(s->conn, s->cfg->table, o->lock_timeout_ms)) < 0)
			return error < 0 ? error : DF_EINTERRUPTED;
		s->locked = true;
	}
	*step = "reading the history";
	if (df_run_cancelled(s->run))
		return DF_EINTERRUPTED;
	if ((o->flags & DF_SESSION_WRITES) && (error = binding_gate(s, rep, o->audit_op)) < 0)
		return error;
	/* A dry-run under the local policy makes no devflow table where none
	 * is: nothing asks for its receipt.  Under staging and production the
	 * receipt is what the real run's gate asks for (SPEC: "a dry-run ...
	 * must be recorded first"), so it is recorded, devflow's tables made
	 * for it as a migrate would make them.  Another tool's history is read
	 * into the plan either way, and recorded only by the real run. */
	if ((o->flags & DF_SESSION_DRY) && (o->flags & DF_SESSION_ENSURE) &&
	    s->target->policy == DF_POLICY_LOCAL && !tracking_exists(s)) {
		s->no_create = true;
		ensure = false;
	}
	if (ensure && (error = df_ledger_ensure(s->conn, s->cfg->table)) < 0) {
		if (error != DF_ECONFIG)        /* a table of another shape, a newer version: said */
			df_error_prefix("cannot create the tracking table '%s'", s->cfg->table);
		return error;
	}
	if ((o->flags & DF_SESSION_PLAN) && (error = df_session_replan(s)) < 0)
		return error;
	if ((error = df_server_identity(&s->server, s->conn)) < 0)
		return error;
	if (rep->database_created && ensure) {
		/* a crash before this row leaves the database made and unrecorded:
		 * the next run finds it and records nothing about it */
		df_buf sum = DF_BUF_INIT;
		df_buf_printf(&sum, "created the database '%s' (it did not exist; the %s policy "
			"creates it)", s->target->dsn->database, df_policy_name(s->target->policy));
		error = df_buf_oom(&sum) ? df_error_oom() :
			df_session_audit(s, "create-database", "ok", sum.ptr, NULL, rep->create_sql);
		df_buf_release(&sum);
		if (error < 0)
			return error;
	}
	if ((o->flags & DF_SESSION_LOCK) && (o->flags & DF_SESSION_DRY) && s->plan) {
		/* a dry-run writes nothing: what the real run would adopt */
		if ((error = adopt_preview(s, rep)) < 0)
			return error;
	} else if ((o->flags & DF_SESSION_LOCK) && ensure && s->plan) {
		/* a database another tool migrated: adopt its history */
		error = df_session_adopt(s, &rep->adopted_versions, &rep->adopted_failed, &rep->orphans,
			&rep->adopted_reverted);
		rep->tool = s->history_tool;
		rep->mirror = s->mirror;
		rep->adopted = error == 0 && (rep->adopted_versions.nr || rep->adopted_failed.nr ||
			rep->orphans.nr || rep->adopted_reverted.nr);
		if (error < 0)
			return error;
	}
	/* rows recorded before the UP had its own checksum get it now, where
	 * the file is still the one that ran */
	if ((o->flags & DF_SESSION_LOCK) && ensure && s->plan && !(o->flags & DF_SESSION_DRY) &&
	    (error = df_ledger_backfill_up(s->conn, s->cfg->table, s->plan)) > 0)
		error = df_session_replan(s);
	if (error < 0)
		return error;
	return 0;
}

/* The audit table exists (the tracking tables are not made for a row). */
static bool audit_exists(df_session *s)
{
	df_buf t = DF_BUF_INIT;
	df_rows *cols = NULL;
	bool yes;

	df_buf_printf(&t, "%s_audit", s->cfg->table);
	yes = !df_buf_oom(&t) && df_conn_table_columns(s->conn, &cols, t.ptr) == 0 &&
		cols && cols->nrows > 0;
	df_rows_free(cols);
	df_buf_release(&t);
	df_error_clear();
	return yes;
}

/*
 * The run was cancelled while the session opened (whatever failed after
 * the cancel failed because of it): DF_EINTERRUPTED, and an audit row that
 * says so where devflow's tables exist already.
 */
static int open_interrupted(df_session *s, const df_session_opts *o, df_session_report *rep,
	const char *step)
{
	int sig = df_run_cancelled(s->run);
	df_error *saved;
	bool exists;

	rep->stop = DF_SESSION_STOP_NONE;
	df_error_set(DF_EINTERRUPTED, "interrupted by %s while %s; nothing ran",
		df_run_signal_name(sig), step);
	df_error_hint("`" DF_ERR_CMD(0) "` shows the state; run the command again");
	df_error_suggest(df_cmd_make(DF_VERB_STATUS, NULL, -1));
	saved = df_error_save();
	exists = o->audit_op && s->conn && s->cfg && audit_exists(s);
	if (saved)
		df_error_restore(saved);
	if (exists) {
		df_buf sum = DF_BUF_INIT;
		df_buf_printf(&sum, "interrupted while %s", step);
		df_session_audit_failure(s, o->audit_op, "interrupted", sum.ptr);
		df_buf_release(&sum);
	}
	return DF_EINTERRUPTED;
}

/*
 * The migration lock was ours, but another program holds the database's
 * own lock (SQLite: a transaction open in another process): the refusal
 * is recorded where the database can be written now, else the hint says
 * why it is not in the history.  The lock error stays the last error.
 */
static void open_locked(df_session *s, const df_session_opts *o, const char *step)
{
	df_error *saved;
	df_buf sum = DF_BUF_INIT;
	int error;

	if (!o->audit_op || !s->conn || !s->cfg || !s->target)
		return;
	saved = df_error_save();
	df_buf_printf(&sum, "refused while %s: the database is locked by another program", step);
	error = df_session_audit(s, o->audit_op, "refused", sum.ptr, NULL,
		saved && saved->message ? saved->message : NULL);
	df_buf_release(&sum);
	df_error_restore(saved);
	if (error < 0 && df_error_last()) {
		char *h = df_error_last()->hint ? strdup(df_error_last()->hint) : NULL;
		df_error_hint("%s%sthis refusal is not in the history: the database was still "
			"locked when devflow tried to record it", h ? h : "", h ? "; " : "");
		free(h);
	}
}

/*
 * One rule for permission_denied (README "Exit codes"): while devflow
 * connects, locks and reads or sets up its own tables, a missing privilege
 * means it cannot use the database; on a migration's statement it is that
 * statement failing.  Everything here is the former.
 */
int df_session_open(df_session *s, const df_session_opts *opts, df_session_report *rep)
{
	const char *step = "reading the configuration";
	df_reach reach;
	const df_error *e;
	int error;

	memset(s, 0, sizeof(*s));
	memset(&reach, 0, sizeof(reach));
	*rep = (df_session_report)DF_SESSION_REPORT_INIT;
	if (!opts || opts->version != DF_SESSION_OPTS_VERSION)
		return df_error_set(DF_EINTERNAL, "df_session_open: options of version %u, expected %u",
			opts ? opts->version : 0, DF_SESSION_OPTS_VERSION);
	if (opts->run) {
		s->run = opts->run;
	} else {
		if ((error = df_run_new(&s->run)) < 0)
			return error;
		s->own_run = true;
	}
	error = session_open_1(s, opts, rep, &reach, &step);
	df_reach_release(&reach);
	if (error == DF_ELOCKED && s->locked && !df_run_cancelled(s->run))
		open_locked(s, opts, step);
	if (df_run_cancelled(s->run))
		error = open_interrupted(s, opts, rep, step);
	if (error == DF_EPERM && (e = df_error_last()))
		((df_error *)e)->connect_phase = 1;
	return error;
}

/*
 * Another tool's history as part of the plan (SPEC: a project another tool
 * migrated is adopted, not re-run).  While the folder is in that tool's
 * format its table is read on every run: a team that went back to the tool
 * (rolled back with devflow, migrated again with dbmate) must not see
 * devflow run a migration again.  A tool's table beside devflow's own
 * format counts until devflow adopted it once: devflow writes no rows
 * there, so a version it reverted since stays in that table.
 */
static int merge_tool_history(df_session *s)
{
	df_tool_history h;
	bool before = false;
	int error;

	if (!s->set || !s->conn)
		return 0;
	if ((error = df_session_adoptable(s, &h, &before)) < 0 || h.tool == DF_TOOL_NONE)
		return error;
	if (!before || s->mirror != DF_TOOL_NONE)
		error = df_tool_history_merge(s->ledger, &s->tool_reverted, s->set, &h,
			s->mirror != DF_TOOL_NONE);
	df_tool_history_release(&h);
	return error;
}

int df_session_replan(df_session *s)
{
	int error;

	df_plan_free(s->plan);
	df_ledger_free(s->ledger);
	df_strlist_release(&s->tool_reverted);
	s->plan = NULL;
	s->ledger = NULL;
	if ((error = df_ledger_read(&s->ledger, s->conn, s->cfg->table)) < 0 ||
	    (error = merge_tool_history(s)) < 0)
		return error;
	return df_plan_build(&s->plan, s->set, s->ledger);
}

void df_session_close(df_session *s)
{
	if (s->conn && s->locked)
		df_conn_unlock(s->conn, s->cfg->table);
	/* devflow's own lists first: freed after the connection's, their large
	 * blocks made glibc consolidate every small block SQLite just freed
	 * (a status of 10,000 migrations paid milliseconds for it) */
	df_plan_free(s->plan);
	df_ledger_free(s->ledger);
	df_migration_set_free(s->set);
	df_run_disarm(s->run, s->conn);
	df_conn_close(s->conn);
	if (s->own_run)
		df_run_free(s->run);
	df_target_free(s->target);
	df_config_free(s->cfg);
	free(s->migrations_dir);
	free(s->server);
	df_strlist_release(&s->tool_reverted);
	memset(s, 0, sizeof(*s));
}

int df_session_audit(df_session *s, const char *op, const char *result,
	const char *summary, const char *receipt, const char *detail)
{
	df_audit_entry e = {
		.op = op, .env = s->target->env, .target = s->target->redacted,
		.result = result, .summary = summary, .receipt = receipt,
		.server = s->server, .detail = detail,
	};
	df_error *saved;
	int error;

	if (!s->conn)
		return 0;
	if (s->no_create && !audit_exists(s))
		return df_error_set(DF_ENOTFOUND, "the receipt is not recorded: the database has no "
			"devflow tables yet, and a dry-run makes none");
	saved = df_error_save();
	if ((error = df_ledger_ensure(s->conn, s->cfg->table)) == 0)
		error = df_audit_append(s->conn, s->cfg->table, &e);
	if (error < 0) {
		df_error_prefix("could not write the audit log");
		df_error_free(saved);
		return error;
	}
	if (saved)
		df_error_restore(saved);
	return 0;
}

void df_session_audit_failure(df_session *s, const char *op, const char *result,
	const char *summary)
{
	df_error *saved = df_error_save();
	char *sum = strdup(summary ? summary : "");   /* summary may be the error's own text */

	/* the detail is the error, unless the summary says it already ("X: X") */
	df_session_audit(s, op, result, sum ? sum : "failed", NULL,
		saved && saved->message && (!sum || strcmp(sum, saved->message)) ? saved->message : NULL);
	free(sum);
	if (saved)
		df_error_restore(saved);
}

int df_session_backup(df_session *s, const char *path, unsigned int flags,
	df_backup_info *info, void (*progress)(void *data, uint64_t bytes), void *data)
{
	df_backup_opts o = { .path = path, .env = s->target->env,
		.verify = (flags & DF_BACKUP_VERIFY) != 0, .force = (flags & DF_BACKUP_FORCE) != 0,
		.progress = progress, .progress_data = data,
		.folder_must_exist = path != NULL };     /* a typo in -o must not make folders */
	df_buf summary = DF_BUF_INIT;
	char *receipt;
	int error;

	if ((error = df_backup_run(info, s->conn, s->target->dsn, &o)) < 0) {
		if (info->path) {
			/* --verify failed; the file is kept (never as a verified receipt) */
			df_buf_printf(&summary, "backup %s kept, verification failed", info->path);
			df_session_audit_failure(s, "backup", "failed", summary.ptr);
			df_buf_release(&summary);
		} else {
			df_session_audit_failure(s, "backup", "failed", "backup failed");
		}
		return error;
	}
	receipt = df_backup_receipt(info);
	df_buf_printf(&summary, "backup %s (%.1f MB)%s", info->path, (double)info->size / 1e6,
		info->verified ? ", verified" : "");
	error = df_session_audit(s, "backup", "ok", summary.ptr, receipt, NULL);
	free(receipt);
	df_buf_release(&summary);
	return error;
}

/* ---- the environment a database is bound to ------------------------------ */

static int policy_of(const char *receipt)
{
	if (!receipt)
		return -1;
	if (strstr(receipt, "policy=production"))
		return DF_POLICY_PRODUCTION;
	if (strstr(receipt, "policy=staging"))
		return DF_POLICY_STAGING;
	if (strstr(receipt, "policy=local"))
		return DF_POLICY_LOCAL;
	return -1;
}

int df_binding_read(char **bound_env, df_policy *bound_policy, df_conn *conn, const char *table)
{
	df_rows *rows = NULL;
	int best = -1, error;

	*bound_env = NULL;
	*bound_policy = DF_POLICY_LOCAL;
	if ((error = df_audit_read(&rows, conn, table, "bind", 0)) < 0)
		return error;
	for (size_t r = 0; r < rows->nrows; r++) {
		int p = policy_of(df_rows_get(rows, r, 9));
		const char *env = df_rows_get(rows, r, 3);
		if (p > best && env) {
			best = p;
			free(*bound_env);
			if (!(*bound_env = strdup(env))) {
				df_rows_free(rows);
				return df_error_oom();
			}
			*bound_policy = (df_policy)p;
		}
	}
	df_rows_free(rows);
	return 0;
}

int df_binding_write(df_conn *conn, const char *table, const char *env, df_policy policy)
{
	char *bound = NULL, receipt[64], summary[256];
	df_policy have;
	int error;
	df_audit_entry e = { .op = "bind", .env = env, .result = "ok",
		.summary = summary, .receipt = receipt };

	if ((error = df_binding_read(&bound, &have, conn, table)) < 0)
		return error;
	if (bound && have >= policy) {
		free(bound);
		return 0;
	}
	free(bound);
	snprintf(receipt, sizeof(receipt), "policy=%s", df_policy_name(policy));
	snprintf(summary, sizeof(summary), "database bound to environment %s (policy %s)",
		env, df_policy_name(policy));
	if ((error = df_ledger_ensure(conn, table)) < 0)
		return error;
	return df_audit_append(conn, table, &e);
}

int df_session_adoptable(df_session *s, df_tool_history *h, bool *done_before)
{
	df_tool fmt_tool = s->set && s->set->nr ? df_tool_of_format(s->set->v[s->set->nr - 1].format) :
		DF_TOOL_NONE;
	df_rows *done = NULL;
	int error;

	memset(h, 0, sizeof(*h));
	*done_before = false;
	s->mirror = DF_TOOL_NONE;
	if (!s->set || (error = df_tool_history_read(h, s->conn, s->set, fmt_tool)) < 0)
		return s->set ? error : 0;
	if ((s->history_tool = h->tool) == DF_TOOL_NONE)
		return 0;
	if (h->tool == fmt_tool)
		s->mirror = h->tool;
	/* once: a later run must not adopt what devflow reverted since */
	if ((error = df_audit_read(&done, s->conn, s->cfg->table, "adopt", 0)) < 0) {
		df_tool_history_release(h);
		return error;
	}
	for (size_t i = 0; i < done->nrows && !*done_before; i++)
		*done_before = df_rows_get(done, i, 9) && !strcmp(df_rows_get(done, i, 9), df_tool_table(h->tool));
	df_rows_free(done);
	return 0;
}

int df_session_adopt(df_session *s, df_strlist *adopted, df_strlist *failed, df_strlist *orphans,
	df_strlist *reverted)
{
	df_ledger *real = NULL;
	df_tool_history h;
	df_buf sum = DF_BUF_INIT, detail = DF_BUF_INIT;
	bool before = false;
	int error;

	if ((error = df_session_adoptable(s, &h, &before)) < 0 || h.tool == DF_TOOL_NONE)
		return error;
	if (before && s->mirror == DF_TOOL_NONE)
		goto out;
	/* devflow's table as it is (s->ledger is the plan's view, merged) */
	if ((error = df_ledger_read(&real, s->conn, s->cfg->table)) < 0 ||
	    (error = df_tool_adopt(adopted, failed, orphans, s->mirror ? reverted : NULL, s->conn,
		s->cfg->table, s->set, real, &h)) < 0)
		goto out;
	/* re-read on every run: an audit row only when it recorded something,
	 * and the versions without a file only the first time */
	if (before && !adopted->nr && !failed->nr && !reverted->nr) {
		df_strlist_release(orphans);
		goto out;
	}
	if (before)
		df_strlist_release(orphans);
	df_buf_printf(&sum, "adopted %zu version%s from %s's %s", adopted->nr, adopted->nr == 1 ? "" : "s",
		df_tool_name(h.tool), df_tool_table(h.tool));
	if (failed->nr)
		df_buf_printf(&sum, "; %zu failed there", failed->nr);
	for (size_t i = 0; i < adopted->nr; i++)
		df_buf_printf(&detail, "%s%s", i ? ", " : "", adopted->v[i]);
	if (reverted->nr)
		df_buf_printf(&sum, "; %zu rolled back there since", reverted->nr);
	for (size_t i = 0; i < failed->nr; i++)
		df_buf_printf(&detail, "%s%s (failed)", detail.size ? ", " : "", failed->v[i]);
	for (size_t i = 0; i < reverted->nr; i++)
		df_buf_printf(&detail, "%s%s (rolled back)", detail.size ? ", " : "", reverted->v[i]);
	if (orphans->nr)
		df_buf_printf(&detail, "%sno file for: ", detail.size ? "; " : "");
	for (size_t i = 0; i < orphans->nr; i++)
		df_buf_printf(&detail, "%s%s", i ? ", " : "", orphans->v[i]);
	if (df_buf_oom(&sum) || df_buf_oom(&detail))
		error = df_error_oom();
	else
		error = df_session_audit(s, "adopt", "ok", sum.ptr, df_tool_table(h.tool), detail.ptr);
	if (!error)
		error = df_session_replan(s);
out:
	df_buf_release(&sum);
	df_buf_release(&detail);
	df_tool_history_release(&h);
	df_ledger_free(real);
	return error;
}
