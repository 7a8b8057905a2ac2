/*
 * An open session's shared chores: re-reading the history, the audit log,
 * a backup recorded as a receipt, and the environment a database is bound
 * to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/session.h"
#include "util/banned.h"

int df_session_replan(df_session *s)
{
	int error;

	df_plan_free(s->plan);
	df_ledger_free(s->ledger);
	s->plan = NULL;
	s->ledger = NULL;
	if ((error = df_ledger_read(&s->ledger, s->conn, s->cfg->table)) < 0)
		return error;
	return df_plan_build(&s->plan, s->set, s->ledger);
}

void df_session_close(df_session *s)
{
	if (s->conn && s->locked)
		df_conn_unlock(s->conn, s->cfg->table);
	df_conn_close(s->conn);
	df_plan_free(s->plan);
	df_ledger_free(s->ledger);
	df_migration_set_free(s->set);
	df_target_free(s->target);
	df_config_free(s->cfg);
	free(s->migrations_dir);
	free(s->server);
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

	df_session_audit(s, op, result, sum ? sum : "failed", NULL,
		saved && saved->message ? saved->message : NULL);
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

int df_session_adopt(df_session *s, df_strlist *adopted, df_strlist *orphans)
{
	df_tool_history h;
	df_buf sum = DF_BUF_INIT, detail = DF_BUF_INIT;
	bool before = false;
	int error;

	if ((error = df_session_adoptable(s, &h, &before)) < 0 || h.tool == DF_TOOL_NONE)
		return error;
	if (before)
		goto out;
	if ((error = df_tool_adopt(adopted, orphans, s->conn, s->cfg->table, s->set, s->ledger, &h)) < 0)
		goto out;
	df_buf_printf(&sum, "adopted %zu version%s from %s's %s", adopted->nr, adopted->nr == 1 ? "" : "s",
		df_tool_name(h.tool), df_tool_table(h.tool));
	for (size_t i = 0; i < adopted->nr; i++)
		df_buf_printf(&detail, "%s%s", i ? ", " : "", adopted->v[i]);
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
	return error;
}
