#ifndef DF_UTIL_LAZY_H
#define DF_UTIL_LAZY_H

/* Libraries loaded on first use (src/util/lazy.c). */
enum df_lazy_lib {
	DF_LAZY_PQ = 0,
	DF_LAZY_MARIADB,
	DF_LAZY_PG_QUERY,
	DF_LAZY_CRYPTO,         /* libcrypto: SHA-256 (warm db status hashes nothing) */
};

/* Load one now: 0, or DF_ECONFIG (message and hint set) when it is not
 * installed.  Drivers call it before their first library call. */
int df__lazy_load(enum df_lazy_lib which);

#endif
