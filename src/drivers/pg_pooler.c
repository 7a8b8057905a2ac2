/*
 * Whether a transaction pooler (PgBouncer in pool_mode = transaction) sits
 * between devflow and the PostgreSQL server, and which sessions are using a
 * table (`db migrate`'s rule 10).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "devflow/buf.h"
#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "drivers/pg_int.h"
#include "util/banned.h"

/*
 * The server process of `pg`'s session now: SELECT pg_backend_pid().  The
 * wait is bounded and stops when the run is cancelled (`armed`'s token): a
 * pooler whose servers are all busy holds a query back.  0, or -1 with
 * *pid 0 when it cannot tell (no error set).
 */
static int pg_backend(PGconn *pg, const df_conn *armed, long *pid)
{
	long until = df__pg_now_ms() + 10000;
	PGresult *res;
	bool ok = false;

	*pid = 0;
	if (!PQsendQuery(pg, "SELECT pg_backend_pid()"))
		return -1;
	while (PQisBusy(pg)) {
		struct pollfd p = { .fd = PQsocket(pg), .events = POLLIN };
		if (df_conn_cancelled(armed) || df__pg_now_ms() > until || p.fd < 0 ||
		    (poll(&p, 1, 100) < 0 && errno != EINTR) || !PQconsumeInput(pg)) {
			/* give up on it: the caller closes or never reuses a busy link */
			PGcancel *cn = PQgetCancel(pg);
			char errbuf[256];
			if (cn) {
				PQcancel(cn, errbuf, (int)sizeof(errbuf));
				PQfreeCancel(cn);
			}
			while ((res = PQgetResult(pg)))
				PQclear(res);
			return -1;
		}
	}
	while ((res = PQgetResult(pg))) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		    !PQgetisnull(res, 0, 0)) {
			*pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
			ok = *pid > 0;
		}
		PQclear(res);
	}
	return ok ? 0 : -1;
}

/*
 * A direct connection is its server process for its whole life: the pid
 * libpq was told at startup (BackendKeyData) is pg_backend_pid(), and no
 * other connection ever shares it.  That one query settles the usual case.
 * A pooler answers the startup itself (PgBouncer sends a key of its own),
 * so then the sessions are watched:
 *   - a second connection, opened while the first is idle, is handed the
 *     first one's server session (PgBouncer's server_round_robin = 0 hands
 *     out the last server released);
 *   - the first connection's session changes between two statements while
 *     the second one has been served in between (server_round_robin = 1
 *     hands out the server idle the longest);
 *   - then, over a few more statements on both, either session changes or
 *     the two share one: other clients keeping the pool busy can hide the
 *     first two signs from one run (six runs at once), not from ten
 *     statements.
 * A session pooler (pool_mode = session) keeps one server session per
 * client: neither happens, and devflow works through it as it does direct.
 */
static bool pg_pid_in(const long *v, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

int df__pg_pooler(df_conn *conn, const df_dsn *dsn, char **why)
{
	/*
	 * After the first statement of the first connection (A), the order
	 * of the rest: B (the second connection) while A is idle, then A twice
	 * in a row (FIFO over two idle servers hands A the other one on the
	 * second), then more of both, for pools that other clients keep busy.
	 */
	static const char order[] = "BAABBABAA";
	PGconn *pg = PG(conn), *other;
	long a[sizeof(order)], bp[sizeof(order)], p;
	size_t na = 0, nb = 0;
	bool other_ok;
	df_buf b = DF_BUF_INIT;

	*why = NULL;
	if (pg_backend(pg, conn, &a[0]) < 0)
		return 0;               /* cannot tell (not PostgreSQL's function) */
	if (a[0] == (long)PQbackendPID(pg))
		return 0;
	na = 1;
	if (!(other = df__pg_connect(dsn)))
		return df_error_oom();
	PQsetNoticeProcessor(other, df__pg_discard_notice, NULL);
	/* a second connection that cannot be had: the first one may still tell */
	other_ok = PQstatus(other) == CONNECTION_OK;
	for (const char *c = order; *c && !b.size; c++) {
		if (*c == 'B') {
			if (!other_ok || pg_backend(other, conn, &p) < 0) {
				other_ok = false;
				continue;
			}
			if (!nb && p == a[0])
				df_buf_printf(&b, "a second connection was handed the first one's server "
					"session (backend pid %ld)", p);
			else if (nb && p != bp[0])
				df_buf_printf(&b, "a second connection's server session changed between "
					"two statements (backend pid %ld, then %ld)", bp[0], p);
			else if (pg_pid_in(a, na, p))
				df_buf_printf(&b, "two connections were handed the same server session "
					"(backend pid %ld)", p);
			bp[nb++] = p;
		} else {
			if (pg_backend(pg, conn, &p) < 0)
				continue;
			if (p != a[0])
				df_buf_printf(&b, "the connection's server session changed between two "
					"statements (backend pid %ld, then %ld)", a[0], p);
			else if (pg_pid_in(bp, nb, p))
				df_buf_printf(&b, "two connections were handed the same server session "
					"(backend pid %ld)", p);
			a[na++] = p;
		}
	}
	PQfinish(other);
	if (!b.size)
		return 0;
	if (!(*why = df_buf_detach(&b)))
		return df_error_oom();
	return 0;
}

/* The other sessions holding a lock on `table` (pg_locks + pg_stat_activity). */
int df__pg_sessions_using(df_conn *conn, df_rows **out, const char *table)
{
	static const char sql[] =
		"SELECT a.pid::text AS pid, a.usename::text AS \"user\", "
		"coalesce(nullif(a.application_name, ''), host(a.client_addr), 'local socket') AS client, "
		"coalesce(a.state, '') AS state, "
		"to_char(coalesce(a.xact_start, a.backend_start) AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS since, "
		"string_agg(DISTINCT l.mode, ', ' ORDER BY l.mode) AS how, 't' AS sure "
		"FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
		"WHERE l.locktype = 'relation' AND l.relation = pg_catalog.to_regclass(?) "
		"AND l.pid <> pg_catalog.pg_backend_pid() "
		"GROUP BY 1, 2, 3, 4, 5 ORDER BY 5, 1";
	const char *params[] = { table };

	return df__pg_query(conn, out, sql, params, 1);
}
