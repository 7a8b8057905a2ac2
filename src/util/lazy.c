/*
 * The PostgreSQL and MariaDB client libraries, libpg_query and libcrypto,
 * loaded when first used (dlopen), not at start-up.
 *
 * Linked normally, libpq and libmariadb bring krb5, ldap, gnutls, p11-kit,
 * nettle, gmp ... into every run: ~5 MB of resident memory and their
 * constructors even for `db status` on a SQLite file.  Here each function
 * the drivers and the review call is defined with the header's own
 * prototype (so the compiler checks every signature) and forwards to the
 * library, opened on the first call.  df__lazy_load() lets a driver report
 * a missing library as an error instead of the stubs' last resort (a
 * message and abort()).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <mysql.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#define OPENSSL_SUPPRESS_DEPRECATED     /* SHA256_Init ...: see util/sha256.h */
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "devflow/error.h"
#include "util/lazy.h"
#include "util/banned.h"

struct lazylib {
	const char *soname;
	const char *package;    /* the Debian package that ships it, for the message */
	pthread_once_t once;
	void *handle;
	char error[256];
};

static struct lazylib libs[] = {
	[DF_LAZY_PQ] = { DF_SONAME_PQ, "libpq5", PTHREAD_ONCE_INIT, NULL, "" },
	[DF_LAZY_MARIADB] = { DF_SONAME_MARIADB, "libmariadb3", PTHREAD_ONCE_INIT, NULL, "" },
	[DF_LAZY_PG_QUERY] = { DF_SONAME_PG_QUERY, DF_PKG_PG_QUERY, PTHREAD_ONCE_INIT, NULL, "" },
	[DF_LAZY_CRYPTO] = { DF_SONAME_CRYPTO, "libssl3", PTHREAD_ONCE_INIT, NULL, "" },
};

static void open_pq(void) { libs[DF_LAZY_PQ].handle = dlopen(libs[DF_LAZY_PQ].soname, RTLD_NOW | RTLD_LOCAL); }
static void open_my(void) { libs[DF_LAZY_MARIADB].handle = dlopen(libs[DF_LAZY_MARIADB].soname, RTLD_NOW | RTLD_LOCAL); }
static void open_pgq(void) { libs[DF_LAZY_PG_QUERY].handle = dlopen(libs[DF_LAZY_PG_QUERY].soname, RTLD_NOW | RTLD_LOCAL); }
static void open_crypto(void) { libs[DF_LAZY_CRYPTO].handle = dlopen(libs[DF_LAZY_CRYPTO].soname, RTLD_NOW | RTLD_LOCAL); }

static void *handle(enum df_lazy_lib which)
{
	static void (*const openers[])(void) = {
		[DF_LAZY_PQ] = open_pq, [DF_LAZY_MARIADB] = open_my, [DF_LAZY_PG_QUERY] = open_pgq,
		[DF_LAZY_CRYPTO] = open_crypto,
	};
	struct lazylib *l = &libs[which];

	pthread_once(&l->once, openers[which]);
	return l->handle;
}

int df__lazy_load(enum df_lazy_lib which)
{
	const struct lazylib *l = &libs[which];

	if (handle(which))
		return 0;
	df_error_set(DF_ECONFIG, "cannot load %s, the client library this engine needs",
		l->soname);
	df_error_hint("install it (Debian: apt-get install %s)", l->package);
	return DF_ECONFIG;
}

/* The stubs' last resort: the library or the symbol is missing. */
static void *sym(enum df_lazy_lib which, const char *name)
{
	void *h = handle(which), *p = h ? dlsym(h, name) : NULL;

	if (!p) {
		fprintf(stderr, "devflow: cannot load %s from %s: %s\n", name,
			libs[which].soname, dlerror());
		abort();
	}
	return p;
}

/* ret name(params) { return real(args); }, the real one found once (the
 * review's and the backup's threads may race to it: atomics, and both
 * find the same pointer). */
#define STUB(lib, ret, name, params, args)                                      \
	ret name params                                                         \
	{                                                                       \
		static ret (*fn) params;                                        \
		ret (*real_) params = __atomic_load_n(&fn, __ATOMIC_ACQUIRE); \
		if (!real_) {                                                   \
			real_ = (ret (*) params)sym(lib, #name);                \
			__atomic_store_n(&fn, real_, __ATOMIC_RELEASE);         \
		}                                                               \
		return real_ args;                                      \
	}
#define STUBV(lib, name, params, args)                                          \
	void name params                                                        \
	{                                                                       \
		static void (*fn) params;                                       \
		void (*real_) params = __atomic_load_n(&fn, __ATOMIC_ACQUIRE); \
		if (!real_) {                                                   \
			real_ = (void (*) params)sym(lib, #name);               \
			__atomic_store_n(&fn, real_, __ATOMIC_RELEASE);         \
		}                                                               \
		real_ args;                                             \
	}

/* ---- libpq ------------------------------------------------------------------ */
#define PQ DF_LAZY_PQ
STUB(PQ, int, PQbackendPID, (const PGconn *c), (c))
STUB(PQ, int, PQcancel, (PGcancel *c, char *buf, int n), (c, buf, n))
STUBV(PQ, PQclear, (PGresult *r), (r))
STUB(PQ, char *, PQcmdStatus, (PGresult *r), (r))
STUB(PQ, PGconn *, PQconnectdbParams, (const char *const *k, const char *const *v, int e), (k, v, e))
STUB(PQ, PGconn *, PQconnectStartParams, (const char *const *k, const char *const *v, int e), (k, v, e))
STUB(PQ, PQconninfoOption *, PQconninfo, (PGconn *c), (c))
STUB(PQ, int, PQconsumeInput, (PGconn *c), (c))
STUB(PQ, PQconninfoOption *, PQconndefaults, (void), ())
STUBV(PQ, PQconninfoFree, (PQconninfoOption *o), (o))
STUB(PQ, PQconninfoOption *, PQconninfoParse, (const char *s, char **err), (s, err))
STUB(PQ, char *, PQerrorMessage, (const PGconn *c), (c))
STUB(PQ, PGresult *, PQexec, (PGconn *c, const char *q), (c, q))
STUB(PQ, PGresult *, PQexecParams, (PGconn *c, const char *q, int n, const Oid *t,
	const char *const *v, const int *l, const int *f, int rf), (c, q, n, t, v, l, f, rf))
STUBV(PQ, PQfinish, (PGconn *c), (c))
STUB(PQ, char *, PQfname, (const PGresult *r, int i), (r, i))
STUBV(PQ, PQfreeCancel, (PGcancel *c), (c))
STUBV(PQ, PQfreemem, (void *p), (p))
STUB(PQ, PGcancel *, PQgetCancel, (PGconn *c), (c))
STUB(PQ, int, PQgetCopyData, (PGconn *c, char **b, int a), (c, b, a))
STUB(PQ, PGresult *, PQgetResult, (PGconn *c), (c))
STUB(PQ, int, PQgetisnull, (const PGresult *r, int t, int f), (r, t, f))
STUB(PQ, int, PQgetlength, (const PGresult *r, int t, int f), (r, t, f))
STUB(PQ, char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f))
STUB(PQ, char *, PQhost, (const PGconn *c), (c))
STUB(PQ, int, PQisBusy, (PGconn *c), (c))
STUB(PQ, int, PQnfields, (const PGresult *r), (r))
STUB(PQ, int, PQntuples, (const PGresult *r), (r))
STUB(PQ, const char *, PQparameterStatus, (const PGconn *c, const char *p), (c, p))
STUB(PQ, char *, PQport, (const PGconn *c), (c))
STUB(PQ, int, PQputCopyEnd, (PGconn *c, const char *e), (c, e))
STUB(PQ, char *, PQresultErrorField, (const PGresult *r, int f), (r, f))
STUB(PQ, ExecStatusType, PQresultStatus, (const PGresult *r), (r))
STUB(PQ, int, PQserverVersion, (const PGconn *c), (c))
STUB(PQ, int, PQsendQuery, (PGconn *c, const char *q), (c, q))
STUB(PQ, PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *c, PQnoticeProcessor p, void *a), (c, p, a))
STUB(PQ, ConnStatusType, PQstatus, (const PGconn *c), (c))
STUB(PQ, PGTransactionStatusType, PQtransactionStatus, (const PGconn *c), (c))
STUB(PQ, int, PQsocket, (const PGconn *c), (c))
STUB(PQ, int, PQsslInUse, (PGconn *c), (c))
#undef PQ

/* ---- libmariadb ------------------------------------------------------------- */
#define MY DF_LAZY_MARIADB
STUBV(MY, mysql_close, (MYSQL *m), (m))
STUB(MY, unsigned int, mysql_errno, (MYSQL *m), (m))
STUB(MY, const char *, mysql_error, (MYSQL *m), (m))
STUB(MY, MYSQL_FIELD *, mysql_fetch_fields, (MYSQL_RES *r), (r))
STUB(MY, unsigned long *, mysql_fetch_lengths, (MYSQL_RES *r), (r))
STUB(MY, MYSQL_ROW, mysql_fetch_row, (MYSQL_RES *r), (r))
STUB(MY, unsigned int, mysql_field_count, (MYSQL *m), (m))
STUBV(MY, mysql_free_result, (MYSQL_RES *r), (r))
STUB(MY, char *, mysql_get_server_info, (MYSQL *m), (m))
STUB(MY, unsigned long, mysql_get_server_version, (MYSQL *m), (m))
STUB(MY, my_socket, mysql_get_socket, (MYSQL *m), (m))
STUB(MY, const char *, mysql_get_ssl_cipher, (MYSQL *m), (m))
STUB(MY, MYSQL *, mysql_init, (MYSQL *m), (m))
STUB(MY, int, mysql_next_result, (MYSQL *m), (m))
STUB(MY, unsigned int, mysql_num_fields, (MYSQL_RES *r), (r))
STUB(MY, int, mysql_options, (MYSQL *m, enum mysql_option o, const void *a), (m, o, a))
STUB(MY, int, mysql_query, (MYSQL *m, const char *q), (m, q))
STUB(MY, MYSQL *, mysql_real_connect, (MYSQL *m, const char *h, const char *u, const char *p,
	const char *d, unsigned int port, const char *s, unsigned long f), (m, h, u, p, d, port, s, f))
STUB(MY, unsigned long, mysql_real_escape_string, (MYSQL *m, char *to, const char *from,
	unsigned long n), (m, to, from, n))
STUB(MY, int, mysql_real_query, (MYSQL *m, const char *q, unsigned long n), (m, q, n))
STUB(MY, const char *, mysql_sqlstate, (MYSQL *m), (m))
STUB(MY, MYSQL_RES *, mysql_store_result, (MYSQL *m), (m))
STUBV(MY, mysql_thread_end, (void), ())
STUB(MY, unsigned long, mysql_thread_id, (MYSQL *m), (m))
STUB(MY, my_bool, mysql_thread_init, (void), ())
#undef MY

/* ---- libpg_query -------------------------------------------------------------- */
#define PGQ DF_LAZY_PG_QUERY
STUB(PGQ, PgQueryProtobufParseResult, pg_query_parse_protobuf, (const char *s), (s))
STUBV(PGQ, pg_query_free_protobuf_parse_result, (PgQueryProtobufParseResult r), (r))
STUB(PGQ, PgQuery__ParseResult *, pg_query__parse_result__unpack, (ProtobufCAllocator *a,
	size_t n, const uint8_t *d), (a, n, d))
STUBV(PGQ, pg_query__parse_result__free_unpacked, (PgQuery__ParseResult *m,
	ProtobufCAllocator *a), (m, a))
#undef PGQ

/* ---- libcrypto ---------------------------------------------------------------- */
#define CR DF_LAZY_CRYPTO
STUB(CR, int, SHA256_Init, (SHA256_CTX *c), (c))
STUB(CR, int, SHA256_Update, (SHA256_CTX *c, const void *p, size_t n), (c, p, n))
STUB(CR, int, SHA256_Final, (unsigned char *md, SHA256_CTX *c), (md, c))
STUB(CR, unsigned char *, SHA256, (const unsigned char *d, size_t n, unsigned char *md), (d, n, md))
STUB(CR, int, RAND_bytes, (unsigned char *buf, int num), (buf, num))
#undef CR
