#ifndef DF_SCHEMA_INT_H
#define DF_SCHEMA_INT_H

/* Shared between the files of src/schema/ (the drivers include none of it). */
#include "devflow/buf.h"
#include "devflow/schema.h"

/* The readers, one per engine: df_schema_read() (read.c) picks one by dialect. */
int df__schema_read_pg(df_conn *conn, df_schema *s, const df_schema_opts *opts);
int df__schema_read_mysql(df_conn *conn, df_schema *s, const df_schema_opts *opts);
int df__schema_read_sqlite(df_conn *conn, df_schema *s, const df_schema_opts *opts);
/* A part (patch.c): the relations `names` ("schema\tname", schema "" for
 * any; "schema\tname\t1": one that existed before the run, whose
 * dependants are all read; of the others, only a serial's sequence) and
 * what depends on them now, each added to `names` ("schema\tname"); no
 * schema, extension, type or function. */
int df__schema_read_pg_part(df_conn *conn, df_schema *s, const df_schema_opts *opts,
	df_strlist *names);

/* Text of one object / column, as df_schema_text() writes it. */
void df__object_text(df_buf *b, const df_object *o);
void df__column_text(df_buf *b, const df_column *c);

/* Sort the objects by key (df_schema_find() works after). */
void df__schema_sort(df_schema *s);
/* What df_schema_finish() does to one object of sorted s (its table as a
 * dependency, the names of nothing dropped); a model patched in place too. */
int df__object_finish(const df_schema *s, df_object *o);

/* Identifier quoting per dialect. */
void df__quote_ident(df_buf *b, df_dialect d, const char *name);
/* "schema"."name" (PostgreSQL), `name` (MySQL), "name" (SQLite). */
void df__qualified(df_buf *b, df_dialect d, const char *schema, const char *name);
/* A string literal. */
void df__quote_literal(df_buf *b, const char *s);

/*
 * A throwaway database (load.c): SQLite in memory; on a server a database
 * devflow_verify_<pid>_<unique>_<tag>, dropped by df__scratch_close() whatever
 * happened (the current error is kept).  `what` names what is loaded into
 * it, for messages.
 */
typedef struct df_scratch {
	df_conn *conn;          /* the throwaway database */
	df_conn *admin;         /* the server's, to drop it */
	char name[96];
	bool created, pg;
} df_scratch;
int df__scratch_open(df_scratch *out, const char *engine, const df_dsn *server,
	const char *what, const char *tag);
void df__scratch_close(df_scratch *s);
/* Load a .sql file (or folder) into an open throwaway database, sandboxed
 * and checked as df_schema_load_file() does; replay migrations into one as
 * df_schema_replay() does. */
int df__scratch_load_files(df_scratch *db, const char *path, df_schema_file_runner run);
int df__scratch_replay(df_scratch *db, const struct df_migration *const *migs, size_t nr,
	df_schema_runner run);

/*
 * What a file loaded into a throwaway database may do (sandbox.c): check
 * `sql` (the text of `file` from line `line0`) before anything of it runs.
 * 0, or DF_EGATE naming file:line, the statement's kind and why, with a
 * hint.  A schema file (migrations false) may create, change and drop
 * objects and SET; the replay of migrations may also change data.  Neither
 * may act on the server, reach files, programs or other servers, run code
 * that cannot be checked (DO, dynamic SQL), or name another database
 * (MySQL: `databases` lists the server's other databases).
 */
typedef struct df_sandbox {
	df_dialect dialect;
	bool migrations;
	bool dry_run;           /* a MariaDB dry-run's throwaway copy (migrations too) */
	const df_strlist *databases;
} df_sandbox;
int df__sandbox_check(const df_sandbox *sb, const char *file, int line0,
	const char *sql, size_t len);

/* Equality of objects and columns as the diff counts it (model.c). */
bool df__object_equal(const df_object *a, const df_object *b);
bool df__column_equal(const df_column *a, const df_column *b);
/* The value of "key=" in an object's extra lines, copied into out; false if absent. */
bool df__extra_get(const df_object *o, const char *key, df_buf *out);

/*
 * What is not compared (uncompared.c): after a reader, leave out the history
 * tables of migration tools (by name and shape) and list, in s->uncompared,
 * the objects of the classes the reader does not compare; for a diff, the
 * objects either side holds, whether they differ and which written objects
 * use them (d->unc, d->not_compared).
 */
int df__schema_read_uncompared(df_conn *conn, df_schema *s, const df_schema_opts *opts);
int df__diff_uncompared(df_diff *d, const df_schema *from, const df_schema *to);
/* --privileges: GRANT / REVOKE turning the ACL items `a` ("ROLE PRIV[ G]",
 * comma-separated) into `b` on `target` ("TABLE public.t") */
void df__privileges_sql(df_buf *b, const char *target, const char *a, const char *bi);

/*
 * What the reading user cannot see (invisible.c): DF_EPERM naming the
 * objects (or classes) the catalogs hid from it, with the privilege to grant.
 */
int df__schema_read_invisible(df_conn *conn, const df_schema *s);

/* Is `table` in opts->exclude_tables? */
int df__schema_excluded(const df_schema_opts *opts, const char *table);

/* verify_scope.c: the part of `from` and `to` a check of `d` needs (the
 * objects it changes, what depends on them, what they need), borrowed:
 * release each with df__verify_scope_release(). */
int df__verify_scope(df_schema *from_sub, df_schema *to_sub, const df_schema *from,
	const df_schema *to, const df_diff *d);
void df__verify_scope_release(df_schema *sub);

#endif
