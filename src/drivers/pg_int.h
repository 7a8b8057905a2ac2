#ifndef DF_DRIVERS_PG_INT_H
#define DF_DRIVERS_PG_INT_H

/*
 * Internals of the PostgreSQL driver, shared by its files:
 *
 *   postgres.c   connecting, statements, transactions, the migration lock,
 *                identity; the driver's table of entries
 *   pg_tool.c    backups, restores and snapshots with pg_dump / pg_restore
 *   pg_pooler.c  a transaction pooler in front of the server; the sessions
 *                using a table
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "devflow/sys/driver.h"

struct pg_conn {
	df_conn base;           /* must come first */
	PGconn *pg;
	PGcancel *volatile cancel;      /* while armed: what a signal handler sends */
};

#define PG(c) (((struct pg_conn *)(c))->pg)

/* postgres.c */
bool df__pg_has(const char *hay, const char *needle);
void df__pg_discard_notice(void *arg, const char *message);
PGconn *df__pg_connect(const df_dsn *dsn);
int df__pg_conninfo_parse(PQconninfoOption **out, const df_dsn *dsn);
int df__pg_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams);
long df__pg_now_ms(void);

/* pg_tool.c */
int df__pg_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data);
int df__pg_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags);
int df__pg_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path);
int df__pg_table_counts(df_conn *conn, df_rows **out);

/* pg_pooler.c */
int df__pg_pooler(df_conn *conn, const df_dsn *dsn, char **why);
int df__pg_sessions_using(df_conn *conn, df_rows **out, const char *table);

#endif
