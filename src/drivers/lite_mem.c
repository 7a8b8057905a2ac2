/*
 * SQLite's memory through devflow's own methods (SQLITE_CONFIG_MALLOC), for
 * one reason: the size of SQLite's hash tables of a schema.
 *
 * SQLite keeps a schema's tables, indexes and triggers in hash tables that
 * it never grows past SQLITE_MALLOC_SOFT_LIMIT (1,024 bytes: 64 buckets) in
 * the build Debian ships (3.40).  A database with 10,000 tables and their
 * indexes puts ~300 names in each bucket, and parsing the schema on open,
 * which looks every new name up, becomes quadratic: 85 % of a `db status`
 * of such a database, paid before devflow reads a row.  But SQLite takes
 * the bucket count from the size the allocator says the block has
 * (sqlite3MallocSize), and uses all of it: a 1,024-byte block that is
 * really 256 KiB holds 16,384 buckets.  So that one request size is given a
 * larger block; every other request is malloc's.  The schema of 10,000
 * tables then opens in a quarter of the time (bench/b_status.sh).
 *
 * Bounded: a hash with more than twice as many entries as buckets asks
 * for the capped size again on every insert; after LITE_MEM_BIG_MAX large
 * blocks the request gets what it asked for, and SQLite behaves as it
 * does without this.  The methods are set once, before SQLite initialises
 * (sqlite3_config fails harmlessly after that: SQLite's own are kept).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "drivers/lite_int.h"
#include "util/banned.h"

#define LITE_MEM_CAPPED 1024            /* SQLITE_MALLOC_SOFT_LIMIT: the capped table */
#define LITE_MEM_BIG (256 * 1024)       /* what it gets: 16,384 buckets */
#define LITE_MEM_BIG_MAX 64

static int big_left = LITE_MEM_BIG_MAX;
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;

static void *mem_malloc(int n)
{
	bool big = false;

	if (n == LITE_MEM_CAPPED) {
		pthread_mutex_lock(&big_lock);
		if (big_left > 0) {
			big_left--;
			big = true;
		}
		pthread_mutex_unlock(&big_lock);
	}
	return malloc(big ? LITE_MEM_BIG : (size_t)n);
}

static void mem_free(void *p)
{
	free(p);
}

static void *mem_realloc(void *p, int n)
{
	return realloc(p, (size_t)n);
}

static int mem_size(void *p)
{
	return p ? (int)malloc_usable_size(p) : 0;
}

static int mem_roundup(int n)
{
	return (n + 7) & ~7;
}

static int mem_init(void *unused)
{
	(void)unused;
	return SQLITE_OK;
}

static void mem_shutdown(void *unused)
{
	(void)unused;
}

static const sqlite3_mem_methods methods = {
	mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init, mem_shutdown, NULL,
};

static void set_methods(void)
{
	/* SQLITE_MISUSE when SQLite is initialised already: its own stay */
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}

void df__lite_mem_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_methods);
}
