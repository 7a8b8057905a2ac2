#ifndef DF_DRIVERS_LITE_INT_H
#define DF_DRIVERS_LITE_INT_H

/*
 * Internals of the SQLite driver (sqlite.c), shared with lite_locks.c: who
 * holds a lock on the database file at `path`.
 */

/*
 * The holder of devflow's migration lock (the flock): "pid 1234 (the
 * command) on this host, since 2026-...Z", "a process on this host" when
 * /proc/locks does not show it; *out NULL when free.
 */
int df__lite_flock_holder(const char *path, char **out);

/*
 * The holder of SQLite's own lock (WAL writer, write lock, else a reader):
 * "pid 1234 (python3 hold.py) on this host, writing, since ...Z"; *out NULL
 * when /proc/locks shows no such process.
 */
void df__lite_sqlite_holder(const char *path, char **out);

/*
 * SQLite's memory methods, set once before SQLite initialises: the hash
 * tables of a large schema get the room SQLite's build caps (lite_mem.c).
 */
void df__lite_mem_init(void);

#endif
