#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/sys/driver.h"
#include "util/banned.h"

/* Built-in drivers (curl's available_backends[]), then registered ones. */
static const df_driver *builtin[] = {
	&df_driver_sqlite,
#ifdef DF_WITH_POSTGRES
	&df_driver_postgres,
#endif
#ifdef DF_WITH_MYSQL
	&df_driver_mysql,
#endif
};
static const df_driver *extra[8];
static size_t extra_nr;

const df_driver *df_driver_find(const char *engine)
{
	size_t i;

	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (!strcmp(builtin[i]->name, engine))
			return builtin[i];
	for (i = 0; i < extra_nr; i++)
		if (!strcmp(extra[i]->name, engine))
			return extra[i];
	return NULL;
}

int df_driver_register(const df_driver *driver)
{
	if (driver->version != DF_DRIVER_VERSION)
		return df_error_set(DF_EINTERNAL, "driver '%s' has interface version %u, want %u",
			driver->name, driver->version, DF_DRIVER_VERSION);
	if (df_driver_find(driver->name))
		return df_error_set(DF_EUSAGE, "a driver named '%s' is already registered", driver->name);
	if (extra_nr == sizeof(extra) / sizeof(extra[0]))
		return df_error_set(DF_EINTERNAL, "too many drivers registered");
	extra[extra_nr++] = driver;
	return 0;
}

int df_conn_open(df_conn **out, const df_dsn *dsn)
{
	const df_driver *d = df_driver_find(dsn->engine);
	int error;

	*out = NULL;
	if (!d)
		return df_error_set(DF_EUSAGE, "no driver for engine '%s'", dsn->engine);
	if ((error = d->open(out, dsn)) < 0)
		return error;
	(*out)->driver = d;
	return 0;
}

int df_dsn_locality(const df_dsn *dsn, bool *local, char **where)
{
	const df_driver *d = df_driver_find(dsn->engine);
	df_strlist hosts = DF_STRLIST_INIT;
	int error = 0;

	*local = true;
	*where = NULL;
	if (!d || !strcmp(dsn->engine, "sqlite"))
		return 0;
	if (!d->hosts) {
		if (!df_hosts_are_local(dsn->host)) {
			*local = false;
			if (!(*where = strdup(dsn->host)))
				return df_error_oom();
		}
		return 0;
	}
	if ((error = d->hosts(&hosts, dsn)) < 0)
		goto out;
	for (size_t i = 0; i < hosts.nr; i++)
		if (!df_host_is_local(hosts.v[i])) {
			*local = false;
			if (!(*where = strdup(hosts.v[i])))
				error = df_error_oom();
			break;
		}
out:
	df_strlist_release(&hosts);
	return error;
}

int df_conn_transport(df_conn *conn, bool *peer_local, bool *tls, char **peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[INET6_ADDRSTRLEN] = "";
	int fd = -1, error;

	*peer_local = true;
	*tls = false;
	*peer = NULL;
	if (!conn->driver->transport)
		return 0;
	if ((error = conn->driver->transport(conn, &fd, tls)) < 0)
		return error;
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		/* cannot tell: not this machine, as far as a gate knows */
		*peer_local = false;
		*peer = strdup("an unknown address");
	} else if (ss.ss_family == AF_UNIX) {
		*peer = strdup("a Unix socket");
	} else {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
		*peer_local = *text && df_host_is_local(text);
		*peer = strdup(*text ? text : "an unknown address");
	}
	return *peer ? 0 : df_error_oom();
}

void df_conn_close(df_conn *conn)
{
	if (!conn)
		return;
	if (conn->run && conn->disarm)
		conn->disarm(conn->run, conn);
	free(conn->identity);
	conn->driver->close(conn);
}

int df_conn_exec(df_conn *conn, const char *sql, size_t len, long *err_offset)
{
	long off = -1;
	int error = conn->driver->exec(conn, sql, len, &off);

	if (err_offset)
		*err_offset = off;
	return error;
}

int df_conn_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams)
{
	if (out)
		*out = NULL;
	return conn->driver->query(conn, out, sql, params, nparams);
}

int df_conn_query_batch(df_conn *conn, const df_query *q, size_t n)
{
	int error;

	if (conn->driver->query_batch)
		return conn->driver->query_batch(conn, q, n);
	if ((error = conn->driver->begin(conn)) < 0)
		return error;
	for (size_t i = 0; i < n; i++) {
		if ((error = conn->driver->query(conn, NULL, q[i].sql, q[i].params, q[i].nparams)) < 0) {
			conn->driver->rollback(conn);   /* the query's error is the one to report */
			return error;
		}
	}
	if ((error = conn->driver->commit(conn)) < 0)
		conn->driver->rollback(conn);           /* never leave the batch open */
	return error;
}

int df_conn_begin(df_conn *conn) { return conn->driver->begin(conn); }
int df_conn_commit(df_conn *conn) { return conn->driver->commit(conn); }
int df_conn_rollback(df_conn *conn) { return conn->driver->rollback(conn); }

int df_conn_lock(df_conn *conn, const char *name, long timeout_ms)
{
	if (!conn->driver->lock)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot lock", conn->driver->name);
	return conn->driver->lock(conn, name, timeout_ms);
}

int df_conn_unlock(df_conn *conn, const char *name)
{
	return conn->driver->unlock ? conn->driver->unlock(conn, name) : 0;
}

int df_conn_lock_holder(df_conn *conn, const char *name, char **out)
{
	*out = NULL;
	return conn->driver->lock_holder ? conn->driver->lock_holder(conn, name, out) : 0;
}

int df_conn_identity(df_conn *conn, df_identity *out)
{
	int error;

	if (conn->identity) {
		*out = *conn->identity;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if ((error = conn->driver->identity(conn, out)) < 0)
		return error;
	if ((conn->identity = malloc(sizeof(*conn->identity))))
		*conn->identity = *out;
	return 0;
}

/*
 * Unquoted names fold case on the servers: when `table` as written has no
 * columns and holds capitals, look again lower-cased (for every driver).
 */
int df_conn_table_columns(df_conn *conn, df_rows **out, const char *table)
{
	char *low;
	bool upper = false;
	int error;

	*out = NULL;
	if ((error = conn->driver->table_columns(conn, out, table)) < 0 || (*out)->nrows)
		return error;
	if (!(low = strdup(table)))
		return df_error_oom();
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
			upper = true;
		}
	if (upper) {
		df_rows_free(*out);
		*out = NULL;
		error = conn->driver->table_columns(conn, out, low);
	}
	free(low);
	return error;
}

int df_conn_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data)
{
	if (!conn->driver->backup)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot take backups yet", conn->driver->name);
	return conn->driver->backup(conn, dsn, fd, path, progress, data);
}

int df_conn_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags)
{
	if (!conn->driver->restore)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot restore backups yet", conn->driver->name);
	return conn->driver->restore(conn, dsn, path, flags);
}

const char *df_conn_backup_digest(df_conn *conn)
{
	return conn->driver->backup_digest ? conn->driver->backup_digest(conn) : NULL;
}

int df_conn_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path)
{
	if (!conn->driver->schema_dump)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot dump a schema", conn->driver->name);
	return conn->driver->schema_dump(conn, dsn, path);
}

int df_conn_in_transaction(df_conn *conn)
{
	return conn->driver->in_transaction ? conn->driver->in_transaction(conn) : -1;
}

int df_conn_check_deferred(df_conn *conn, bool again)
{
	if (!conn->driver->check_deferred || df_conn_in_transaction(conn) == 0)
		return 0;
	return conn->driver->check_deferred(conn, again);
}

/* ---- cancellation (devflow/run.h arms connections) ---------------------- */

int df_conn_cancelled(const df_conn *conn)
{
	return conn && conn->cancelled ? atomic_load(conn->cancelled) : 0;
}

int df_conn_table_counts(df_conn *conn, df_rows **out)
{
	*out = NULL;
	if (!conn->driver->table_counts)
		return df_error_set(DF_EINTERNAL, "the %s driver cannot count rows yet", conn->driver->name);
	return conn->driver->table_counts(conn, out);
}

const char *df_rows_get(const df_rows *rows, size_t row, size_t col)
{
	if (!rows || row >= rows->nrows || col >= rows->ncols)
		return NULL;
	return rows->cells[row * rows->ncols + col];
}

void df_rows_free(df_rows *rows)
{
	size_t i;

	if (!rows)
		return;
	for (i = 0; i < rows->ncols; i++)
		free(rows->names[i]);
	for (i = 0; i < rows->nrows * rows->ncols; i++)
		free(rows->cells[i]);
	free(rows->names);
	free(rows->cells);
	free(rows);
}

int df_rows_new(df_rows **out, size_t ncols, const char *const *names)
{
	df_rows *r = calloc(1, sizeof(*r));
	size_t i;

	*out = NULL;
	if (!r || !(r->names = calloc(ncols ? ncols : 1, sizeof(char *)))) {
		free(r);
		return df_error_oom();
	}
	r->ncols = ncols;
	for (i = 0; i < ncols; i++)
		if (!(r->names[i] = strdup(names && names[i] ? names[i] : ""))) {
			df_rows_free(r);
			return df_error_oom();
		}
	*out = r;
	return 0;
}

int df_rows_add(df_rows *rows, const char *const *values, const size_t *lens)
{
	size_t i, base = rows->nrows * rows->ncols;
	char **cells;

	if (base + rows->ncols + 1 > rows->alloc) {
		size_t want = rows->alloc ? rows->alloc * 2 : 16 * (rows->ncols + 1);
		while (want < base + rows->ncols + 1)
			want *= 2;
		if (!(cells = realloc(rows->cells, want * sizeof(char *))))
			return df_error_oom();
		rows->cells = cells;
		rows->alloc = want;
	}
	cells = rows->cells;
	for (i = 0; i < rows->ncols; i++) {
		cells[base + i] = NULL;
		if (!values[i])
			continue;
		size_t n = lens ? lens[i] : strlen(values[i]);
		if (!(cells[base + i] = malloc(n + 1))) {
			while (i-- > 0)
				free(cells[base + i]);
			return df_error_oom();
		}
		memcpy(cells[base + i], values[i], n);
		cells[base + i][n] = '\0';
	}
	rows->nrows++;
	return 0;
}
