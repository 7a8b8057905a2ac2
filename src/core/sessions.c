/*
 * The sessions using what a run drops (seed 002's safety rule 10): before
 * a migration that drops a table or a column runs, the server is asked
 * which other sessions use that table now, through the driver
 * (pg_locks + pg_stat_activity; MySQL's metadata locks or processlist).
 * Data only: the front end words it, and the workflow puts it in the
 * preview, the dry-run and the ask.
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/core.h"
#include "devflow/error.h"
#include "devflow/sessions.h"
#include "devflow/sys/driver.h"
#include "util/banned.h"

/* Longest table name looked up (as a statement writes it, schema too). */
#define TABLE_NAME_MAX 256

void df_live_sessions_release(df_live_sessions *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		df_live_session *s = &l->v[i];
		free(s->table);
		free(s->version);
		free(s->pid);
		free(s->user);
		free(s->client);
		free(s->state);
		free(s->since);
		free(s->how);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Append the sessions of `rows` using `table`. */
static int add_rows(df_live_sessions *l, const df_rows *rows, const char *table, bool column,
	const char *version)
{
	df_live_session *v;

	if (!rows || !rows->nrows)
		return 0;
	if (!(v = realloc(l->v, (l->nr + rows->nrows) * sizeof(*v))))
		return df_error_oom();
	l->v = v;
	for (size_t r = 0; r < rows->nrows; r++) {
		df_live_session *s = &l->v[l->nr];
		memset(s, 0, sizeof(*s));
		s->column = column;
		s->table = strdup(table);
		s->version = dup_or_empty(version);
		s->pid = dup_or_empty(df_rows_get(rows, r, 0));
		s->user = dup_or_empty(df_rows_get(rows, r, 1));
		s->client = dup_or_empty(df_rows_get(rows, r, 2));
		s->state = dup_or_empty(df_rows_get(rows, r, 3));
		s->since = dup_or_empty(df_rows_get(rows, r, 4));
		s->how = dup_or_empty(df_rows_get(rows, r, 5));
		s->maybe = rows->ncols > 6 && df_rows_get(rows, r, 6) &&
			!strcmp(df_rows_get(rows, r, 6), "f");
		l->nr++;
		if (!s->table || !s->version || !s->pid || !s->user || !s->client || !s->state ||
		    !s->since || !s->how)
			return df_error_oom();
	}
	return 0;
}

static bool seen(const char *table, char (*asked)[TABLE_NAME_MAX], size_t nasked)
{
	for (size_t i = 0; i < nasked; i++)
		if (!strcmp(asked[i], table))
			return true;
	return false;
}

int df_sessions_using(df_live_sessions *out, df_conn *conn, const df_migration *const *migs,
	df_review_result *const *reviews, size_t n)
{
	df_live_sessions l = { 0 };
	char (*asked)[TABLE_NAME_MAX] = NULL;
	size_t nasked = 0, cap = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!conn->driver->sessions_using || !reviews)
		return 0;
	l.checked = true;
	for (size_t i = 0; i < n; i++) {
		const df_review_result *r = reviews[i];
		for (size_t k = 0; r && k < r->nr_findings; k++) {
			const df_review_finding *f = &r->findings[k];
			bool column = !strcmp(f->rule, "drop-column");
			char table[TABLE_NAME_MAX];
			const char *name;
			df_rows *rows = NULL;
			if ((!column && strcmp(f->rule, "drop-table")) || !f->statement ||
			    df_review_table_of(table, sizeof(table), f->statement) < 0 || !*table)
				continue;
			/* MySQL names a table of DATABASE(): the part after a schema */
			name = df_conn_dialect(conn) == DF_DIALECT_MYSQL && strrchr(table, '.') ?
				strrchr(table, '.') + 1 : table;
			if (seen(name, asked, nasked))
				continue;
			if (nasked == cap) {
				char (*a)[TABLE_NAME_MAX] = realloc(asked, (cap = cap ? 2 * cap : 8) * sizeof(*a));
				if (!a) {
					error = df_error_oom();
					goto out;
				}
				asked = a;
			}
			memcpy(asked[nasked++], name, strlen(name) + 1);
			if ((error = df_conn_sessions_using(conn, &rows, name)) < 0)
				goto out;
			error = add_rows(&l, rows, name, column, migs && migs[i] ? migs[i]->version : NULL);
			df_rows_free(rows);
			if (error < 0)
				goto out;
		}
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	df_live_sessions_release(&l);
	free(asked);
	return error;
}
