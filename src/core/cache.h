#ifndef DF_CORE_CACHE_H
#define DF_CORE_CACHE_H

/*
 * The stat cache of a migrations folder (.devflow/cache), as git's index
 * keeps file stats: per file its inode, size, mtime and ctime in
 * nanoseconds, when it was read, and what reading it found (the checksum,
 * the sections, the no-transaction flag).  An entry is trusted only when
 * every stat field matches and the file's timestamps are older than the
 * read by more than the file system's timestamp granularity (git's "racy"
 * rule), so an edit that keeps the size, even in the same second, is seen.
 * Internal to src/core (migration.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "devflow/core.h"

/* The cache file, relative to the project root (the current folder). */
#define DF_STAT_CACHE_PATH ".devflow/cache"

/* A timestamp within this of the read is "racy": the entry is not trusted.
 * One second covers the coarsest file systems devflow meets (ext3, HFS+,
 * some network file systems); ext4 and tmpfs are far finer. */
#define DF_STAT_CACHE_RACY_NS 1000000000LL

enum df_cache_kind {
	DF_CACHE_UP = 0,        /* a migration file: checksum, format, sections */
	DF_CACHE_DOWN = 1,      /* a separate DOWN file (golang-migrate, Flyway U): emptiness */
};

typedef struct df_cache_entry {
	const char *name;       /* file name in the folder */
	int kind;               /* enum df_cache_kind */
	uint64_t ino, size;
	int64_t mtime_ns, ctime_ns, read_ns;
	char checksum[65];
	int format;             /* df_mig_format */
	unsigned int flags;     /* DF_CACHE_F_* */
	uint64_t up_off, up_len, down_off, down_len;
	int up_line, down_line;
	bool used;              /* looked up (and trusted) by this run */
	char *owned;            /* name's storage when the entry is new */
} df_cache_entry;

enum df_cache_entry_flags {
	DF_CACHE_F_NO_TX = (1 << 0),
	DF_CACHE_F_UP_EMPTY = (1 << 1),
	DF_CACHE_F_DOWN = (1 << 2),     /* a DOWN section in the same file */
	DF_CACHE_F_DOWN_EMPTY = (1 << 3),
};

typedef struct df_stat_cache {
	char *dir;              /* the folder the entries belong to */
	char *text;             /* the file's bytes; loaded names point into it */
	df_cache_entry *v;      /* loaded entries, sorted by (name, kind) */
	size_t nr, alloc;
	df_cache_entry *add;    /* entries made by this run (names owned) */
	size_t nadd, aadd;
} df_stat_cache;

/* Read `path` (the cache of folder `dir`).  A missing, unreadable or foreign
 * cache (another version, another folder, a malformed line) is an empty
 * one.  0, or DF_EINTERNAL when out of memory. */
int df__cache_load(df_stat_cache *c, const char *path, const char *dir);

/* The trusted entry of `name` for the stat `st`, or NULL (then read the
 * file and df__cache_put() what was found). */
df_cache_entry *df__cache_get(df_stat_cache *c, const char *name, int kind,
	const struct stat *st);

/* Record what reading `name` found; `read_ns` is the wall clock taken before
 * the file was stat'ed and read.  For DF_CACHE_DOWN only m->down.empty is
 * used.  0, or DF_EINTERNAL. */
int df__cache_put(df_stat_cache *c, const char *name, int kind, const struct stat *st,
	int64_t read_ns, const df_migration *m);

/* Fill `m`'s checksum, format, flags and sections from `e` (strings and
 * paths are the caller's). */
void df__cache_fill(df_migration *m, const df_cache_entry *e);

/* Write the cache back when an entry changed or one went unused (a file
 * was removed), atomically (a temporary file, then rename).  Failing to
 * write is not an error: the next run reads the files again. */
void df__cache_save(df_stat_cache *c, const char *path);

void df__cache_release(df_stat_cache *c);

/* The wall clock in nanoseconds. */
int64_t df__cache_now_ns(void);

#endif
