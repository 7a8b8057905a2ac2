#ifndef DF_DRIVERS_LAZY_H
#define DF_DRIVERS_LAZY_H

/* The client libraries loaded on first use (src/drivers/lazy.c). */
enum df_lazy_lib {
	DF_LAZY_PQ = 0,
	DF_LAZY_MARIADB,
	DF_LAZY_PG_QUERY,
};

/* Load one now: 0, or DF_ECONFIG (message and hint set) when it is not
 * installed.  Drivers call it before their first library call. */
int df__lazy_load(enum df_lazy_lib which);

#endif
