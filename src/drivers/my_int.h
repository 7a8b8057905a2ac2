#ifndef DF_DRIVERS_MY_INT_H
#define DF_DRIVERS_MY_INT_H

/*
 * Internals of the MySQL/MariaDB driver, shared by its files:
 *
 *   mysql.c      connecting, statements, transactions, cancelling, the
 *                migration lock, identity, sessions; the table of entries
 *   my_params.c  the URL's parameters (socket, TLS, timeout, charset)
 *   my_tool.c    backups, restores and snapshots with mariadb-dump and the
 *                mariadb client
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "devflow/sys/driver.h"

struct my_conn {
	df_conn base;           /* must come first */
	MYSQL *my;
	char *database;         /* from the URL, for lock names; NULL: none */
	bool mariadb;
	char *url;              /* secret: for the KILL QUERY connection */
	/* while armed: the thread that sends KILL QUERY, woken through a pipe
	 * by the signal handler (which cannot connect itself) */
	int wake[2];
	bool watching;
	pthread_t watcher;
	/* KILL QUERYs asked (by the cancel) and sent (by the watcher): no
	 * statement starts while one is on its way, so a late KILL never
	 * stops the statement after the one it was meant for (the cleanup
	 * that follows an interrupt: the audit row, a throwaway database) */
	atomic_uint kills_asked, kills_done;
};

#define MY(c) (((struct my_conn *)(c))->my)

/* The URL parameters both the driver and the client tools use. */
struct my_params {
	char *socket, *sslmode, *timeout, *charset;
	char *ssl, *sslca, *sslcert, *sslkey;
};

/* my_params.c */
int df__my_check_params(const char *query);
int df__my_params_read(struct my_params *p, const char *query);
void df__my_params_release(struct my_params *p);

/* mysql.c */
int df__my_run(df_conn *conn, df_rows **out, const char *sql, size_t len, long *err_offset);
int df__my_query(df_conn *conn, df_rows **out, const char *sql,
	const char *const *params, size_t nparams);

/* my_tool.c */
int df__my_backup(df_conn *conn, const df_dsn *dsn, int fd, const char *path,
	void (*progress)(void *data, uint64_t bytes), void *data);
int df__my_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags);
int df__my_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path);
int df__my_table_counts(df_conn *conn, df_rows **out);

#endif
