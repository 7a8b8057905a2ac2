#ifndef DEVFLOW_DSN_H
#define DEVFLOW_DSN_H

#include <stdbool.h>

/*
 * A parsed database URL.  `url` is the original text and holds the password:
 * never print it; print df_dsn_redact()'s result.
 *
 *   sqlite:PATH  sqlite:///ABS/PATH  sqlite::memory:
 *   postgres://USER:PASS@HOST:PORT/DB?sslmode=...   (postgresql:// too)
 *   mysql://USER:PASS@HOST:PORT/DB                  (mariadb:// too)
 */
typedef struct df_dsn {
	char *url;              /* original, secret */
	char *engine;           /* "sqlite", "postgres", "mysql" */
	char *user;             /* decoded, or NULL */
	char *password;         /* decoded, or NULL; secret */
	char *host;             /* NULL: default / socket */
	int port;               /* 0: default */
	char *database;         /* decoded; for sqlite the file path (or ":memory:") */
	char *query;            /* text after '?', undecoded, or NULL */
	long wait_ms;           /* how long to wait for a lock the engine takes by
				 * itself (SQLite's write lock); 0: the default,
				 * 5 s; the CLI sets it from --lock-timeout */
} df_dsn;

/* Parse; DF_EUSAGE with a clear message for malformed or unsupported URLs. */
int df_dsn_parse(df_dsn **out, const char *url);
void df_dsn_free(df_dsn *dsn);
/* "postgres://app:***@db.example.com:5432/shop"; caller frees. */
char *df_dsn_redact(const char *url);
/*
 * The URL's own host is this machine (or a local socket / file): 127.0.0.0/8,
 * ::1, localhost.  Judges only the authority; what the client library will
 * reach (URL parameters, PGHOST ...) is df_dsn_locality()'s (sys/driver.h).
 */
bool df_dsn_is_local(const df_dsn *dsn);
/*
 * One host as a client library reads it names this machine, literally
 * (no DNS lookup): NULL or "" (the default socket), a socket path ('/',
 * or '@' for an abstract socket), "localhost", 127.0.0.0/8, ::1,
 * ::ffff:127.x.  Any other name or address is remote.
 */
bool df_host_is_local(const char *host);
/* Every host of a comma-separated list (libpq's multi-host) is local. */
bool df_hosts_are_local(const char *list);
/* Replace every occurrence of the DSN's password in `text` with "***" (in place). */
void df_dsn_scrub(const df_dsn *dsn, char *text);

/* The URL with its database (path) replaced by `name`, a plain name that
 * needs no escaping; NULL when the URL has no "://".  Caller frees. */
char *df_dsn_with_database(const char *url, const char *name);

#endif
