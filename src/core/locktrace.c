/*
 * Statement traces of a dry-run: what the server does, not what the rules
 * guess.  See locktrace.h.
 *
 * PostgreSQL keeps every relation lock to the end of the transaction, and
 * the dry-run runs every statement in one transaction that is rolled back:
 * the locks held after statement N, less those held after N - 1, are the
 * ones statement N took.  One query on pg_locks per statement, on the
 * dry-run's own connection (pid = pg_backend_pid()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/locktrace.h"
#include "devflow/buf.h"
#include "devflow/error.h"
#include "util/banned.h"

/* Relation locks of this session, outside the system catalogs; granted
 * only (a lock still waited for is not held).  A relation dropped by the
 * transaction keeps its lock but loses its pg_class row: its oid stands. */
#define LOCKS_SQL \
	"SELECT l.relation::oid::text, coalesce(c.oid::regclass::text, l.relation::text), l.mode " \
	"FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation " \
	"WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted " \
	"AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " \
	"AND coalesce(c.relnamespace NOT IN ('pg_catalog'::regnamespace, " \
	"'information_schema'::regnamespace, 'pg_toast'::regnamespace), true)"

void df_trace_release(df_trace *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		df_stmt_trace *s = &t->v[i];

		for (size_t k = 0; k < s->nlocks; k++) {
			free(s->locks[k].relation);
			free(s->locks[k].mode);
		}
		free(s->locks);
		free(s->sql);
		free(s->algorithm);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void df__tracer_init(df_tracer *tr, df_conn *conn, const char *table)
{
	memset(tr, 0, sizeof(*tr));
	tr->conn = conn;
	tr->table = table;
}

static void free_held(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void df__tracer_release(df_tracer *tr)
{
	free(tr->before);
	free_held(tr->held, tr->nheld);
	memset(tr, 0, sizeof(*tr));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int df__tracer_start(df_tracer *tr)
{
	df_rows *r = NULL;
	int error;

	if ((error = df_conn_query(tr->conn, &r, "SELECT oid::text FROM pg_class", NULL, 0)) < 0)
		return error;
	if (!(tr->before = malloc((r->nrows ? r->nrows : 1) * sizeof(*tr->before)))) {
		df_rows_free(r);
		return df_error_oom();
	}
	for (size_t i = 0; i < r->nrows; i++)
		tr->before[tr->nbefore++] = (uint32_t)strtoul(df_rows_get(r, i, 0), NULL, 10);
	qsort(tr->before, tr->nbefore, sizeof(*tr->before), cmp_u32);
	df_rows_free(r);
	tr->started = true;
	return 0;
}

static df_stmt_trace *push(df_trace *t, const char *sql, size_t len, int line, double ms)
{
	df_stmt_trace *s;

	if (t->nr == t->alloc) {
		size_t n = t->alloc ? t->alloc * 2 : 8;
		df_stmt_trace *v = realloc(t->v, n * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->alloc = n;
	}
	s = &t->v[t->nr];
	memset(s, 0, sizeof(*s));
	{
		df_buf b = DF_BUF_INIT;

		df__statement_excerpt(&b, sql, len);
		if (!(s->sql = df_buf_detach(&b)))
			return NULL;
	}
	s->index = (long)t->nr + 1;
	s->line = line;
	s->ms = ms;
	t->nr++;
	return s;
}

/* Is `rel` (as regclass prints it) the tracking table or its audit table? */
static bool own_table(const df_tracer *tr, const char *rel)
{
	const char *dot = strrchr(rel, '.'), *base = dot ? dot + 1 : rel;
	size_t n;

	if (!tr->table)
		return false;
	n = strlen(tr->table);
	return !strncmp(base, tr->table, n) && (!base[n] || !strcmp(base + n, "_audit") ||
		!strcmp(base + n, "_meta"));
}

int df__trace_pg(df_trace *t, df_tracer *tr, const char *sql, size_t len, int line,
	double ms, bool rewritten)
{
	df_rows *r = NULL;
	char **now = NULL;
	size_t nnow = 0;
	df_stmt_trace *s;
	int error;

	if ((error = df_conn_query(tr->conn, &r, LOCKS_SQL, NULL, 0)) < 0)
		return error;
	if (!(s = push(t, sql, len, line, ms)) ||
	    !(now = calloc(r->nrows ? r->nrows : 1, sizeof(*now))) ||
	    (r->nrows && !(s->locks = calloc(r->nrows, sizeof(*s->locks))))) {
		df_rows_free(r);
		free(now);
		return df_error_oom();
	}
	s->rewritten = rewritten;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *oid = df_rows_get(r, i, 0), *rel = df_rows_get(r, i, 1);
		const char *mode = df_rows_get(r, i, 2);
		df_buf key = DF_BUF_INIT;
		uint32_t o;

		if (!oid || !rel || !mode || own_table(tr, rel))
			continue;
		df_buf_printf(&key, "%s\t%s", oid, mode);
		if (df_buf_oom(&key) || !(now[nnow] = df_buf_detach(&key)))
			goto oom;
		nnow++;
		/* held before this statement: not its own */
		if (tr->held && bsearch(&now[nnow - 1], tr->held, tr->nheld, sizeof(char *), cmp_str))
			continue;
		o = (uint32_t)strtoul(oid, NULL, 10);
		if (!(s->locks[s->nlocks].relation = strdup(rel)) ||
		    !(s->locks[s->nlocks].mode = strdup(mode))) {
			free(s->locks[s->nlocks].relation);
			goto oom;
		}
		s->locks[s->nlocks].created = !bsearch(&o, tr->before, tr->nbefore,
			sizeof(*tr->before), cmp_u32);
		s->nlocks++;
	}
	qsort(now, nnow, sizeof(*now), cmp_str);
	free_held(tr->held, tr->nheld);
	tr->held = now;
	tr->nheld = nnow;
	df_rows_free(r);
	return 0;
oom:
	free_held(now, nnow);
	df_rows_free(r);
	return df_error_oom();
}

void df__trace_finish(df_trace *t, bool in_transaction)
{
	if (!in_transaction)
		return;         /* each statement commits: its locks go with it */
	for (size_t i = 0; i + 1 < t->nr; i++) {
		df_stmt_trace *s = &t->v[i];

		for (size_t k = 0; k < s->nlocks && !s->holds; k++)
			if (!s->locks[k].created && !strcmp(s->locks[k].mode, "AccessExclusiveLock"))
				s->holds = s->locks[k].relation;
		if (!s->holds)
			continue;
		s->later = (long)(t->nr - 1 - i);
		for (size_t j = i + 1; j < t->nr; j++)
			s->later_ms += t->v[j].ms;
	}
}

/* ---- MariaDB: the algorithm of an ALTER TABLE ----------------------------------- */

/* Is `sql` an ALTER TABLE that names no ALGORITHM itself? */
static bool plain_alter(const char *sql, size_t len)
{
	size_t i = 0;

	while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
		i++;
	if (len - i < 12 || strncasecmp(sql + i, "ALTER", 5) ||
	    (sql[i + 5] != ' ' && sql[i + 5] != '\t' && sql[i + 5] != '\n'))
		return false;
	i += 5;
	while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
		i++;
	if (len - i < 6 || strncasecmp(sql + i, "TABLE", 5))
		return false;
	for (size_t k = i; k + 9 <= len; k++)
		if (!strncasecmp(sql + k, "ALGORITHM", 9))
			return false;
	/* a partitioning clause must stay last: do not append to it */
	for (size_t k = i; k + 9 <= len; k++)
		if (!strncasecmp(sql + k, "PARTITION", 9))
			return false;
	return true;
}

int df__trace_mysql_alter(df_trace *t, df_conn *conn, const char *sql, size_t len, int line,
	long *err_offset, int *error)
{
	static const char *const algos[] = { "INSTANT", "NOCOPY", "INPLACE" };
	size_t n = len;
	df_buf b = DF_BUF_INIT;
	double t0;
	struct timespec ts;
	df_stmt_trace *s;
	const char *ran = NULL;
	size_t refused = 0;

	if (!plain_alter(sql, len))
		return 0;
	while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n' ||
			 sql[n - 1] == '\r' || sql[n - 1] == '\t'))
		n--;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	*error = 0;
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]) && !ran; i++) {
		const df_error *e;

		df_buf_truncate(&b, 0);
		df_buf_put(&b, sql, n);
		df_buf_printf(&b, ", ALGORITHM=%s", algos[i]);
		if (df_buf_oom(&b)) {
			df_buf_release(&b);
			*error = df_error_oom();
			return 1;
		}
		if (df_conn_exec(conn, b.ptr, b.size, NULL) == 0) {
			ran = algos[i];
			break;
		}
		e = df_error_last();
		/* "ALGORITHM=INSTANT is not supported for this operation. Try ..." */
		if (!e || !e->message || !strstr(e->message, "is not supported"))
			break;  /* anything else: run it as written, for its own error */
		df_error_clear();
		refused++;
	}
	df_buf_release(&b);
	if (!ran) {
		df_error_clear();
		if ((*error = df_conn_exec(conn, sql, len, err_offset)) < 0)
			return 1;
		if (refused < sizeof(algos) / sizeof(algos[0]))
			return 1;       /* it ran, but the server was not asked */
		ran = "COPY";   /* refused everything else */
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!(s = push(t, sql, len, line, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - t0)) ||
	    !(s->algorithm = strdup(ran)))
		*error = df_error_oom();
	return 1;
}
