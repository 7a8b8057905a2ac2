#ifndef DEVFLOW_SCHEMA_H
#define DEVFLOW_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "devflow/buf.h"
#include "devflow/review.h"
#include "devflow/sql.h"
#include "devflow/strlist.h"
#include "devflow/sys/driver.h"

/*
 * The schema model: one engine-neutral description of a database's schema,
 * read from the engine's catalogs (df_schema_read(), one driver method per
 * engine), compared (df_schema_diff()) and turned into DDL in an order the
 * engine accepts.  The library never prints: it returns structs and text.
 *
 * Objects are identified by a key, "<kind> <schema>.<name>" (table-scoped
 * objects: "<kind> <schema>.<table>.<name>"; functions carry their argument
 * types in the name).  Engines with one namespace use "" as the schema.
 * Wherever the engine can print its own canonical definition of an object
 * (pg_get_indexdef(), pg_get_viewdef(), SQLite's stored CREATE text,
 * information_schema's VIEW_DEFINITION ...), the model keeps that text in
 * `def`: two objects differ when their definitions differ, and the engine,
 * not devflow, decided how each was spelt.
 */

/** Object kinds, in the order a schema is created. */
typedef enum df_obj_kind {
	DF_OBJ_SCHEMA = 0,
	DF_OBJ_EXTENSION,
	DF_OBJ_ENUM,
	DF_OBJ_DOMAIN,
	DF_OBJ_COMPOSITE,
	DF_OBJ_SEQUENCE,
	DF_OBJ_FUNCTION,        /**< functions, procedures, MySQL routines */
	DF_OBJ_AGGREGATE,       /**< PostgreSQL aggregates (after their support functions) */
	DF_OBJ_TABLE,
	DF_OBJ_CONSTRAINT,      /**< primary key, unique, check, foreign key, exclusion */
	DF_OBJ_INDEX,
	DF_OBJ_VIEW,
	DF_OBJ_MATVIEW,
	DF_OBJ_TRIGGER,
	DF_OBJ_POLICY,          /**< row-level security policies */
	DF_OBJ_EVENT,           /**< MySQL/MariaDB events */
	DF_OBJ_KIND_NR
} df_obj_kind;

/** "table", "view", "foreign key" ... (the kind's name in keys and JSON). */
const char *df_obj_kind_name(df_obj_kind k);

/** Constraint types (df_object.ctype). */
enum {
	DF_CONS_PRIMARY = 'p', DF_CONS_UNIQUE = 'u', DF_CONS_CHECK = 'c',
	DF_CONS_FOREIGN = 'f', DF_CONS_EXCLUDE = 'x',
};

/** A column of a table, view or composite type.  Strings NULL when absent. */
typedef struct df_column {
	char *name;
	char *type;             /**< as the engine prints it: "character varying(20)" */
	char *default_expr;     /**< the default as the engine prints it */
	char *collation;        /**< only when not the default one */
	char *generated;        /**< expression of a generated column */
	char *identity;         /**< "always", "by default" (PostgreSQL identity) */
	char *extra;            /**< per-engine: MySQL "auto_increment", "on update ..." */
	char *comment;
	char *def;              /**< SQLite: the column's definition text, normalised */
	bool notnull;
	bool inherited;         /**< PostgreSQL: inherited, not declared locally */
	bool virtual_gen;       /**< generated VIRTUAL (else STORED) */
} df_column;

/** What a foreign key does when the referenced row goes or changes. */
typedef enum df_fk_action {
	DF_FK_NO_ACTION = 0,
	DF_FK_RESTRICT,
	DF_FK_CASCADE,
	DF_FK_SET_NULL,
	DF_FK_SET_DEFAULT,
} df_fk_action;

/** "NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT". */
const char *df_fk_action_name(df_fk_action a);
/** The action of that SQL name (any case, '_' for ' ') or PostgreSQL's
 *  one-letter code (a r c n d); false when it names none. */
bool df_fk_action_parse(df_fk_action *out, const char *s);

/**
 * A foreign key, normalised the same way on every engine (read from
 * pg_constraint, information_schema.REFERENTIAL_CONSTRAINTS, SQLite's
 * pragma_foreign_key_list).  Names are bare (not quoted).
 */
typedef struct df_fk {
	df_strlist cols;        /**< the referencing columns, in key order */
	char *ref_schema;       /**< "" on engines with one namespace */
	char *ref_table;
	df_strlist ref_cols;    /**< empty: the referenced table's primary key
	                             (SQLite, when the key names no columns) */
	df_fk_action on_delete, on_update;
	bool deferrable, initially_deferred;
} df_fk;

/** One object of a schema.  Everything is owned by the df_schema. */
typedef struct df_object {
	df_obj_kind kind;
	char *schema;           /**< namespace; "" on engines with one */
	char *name;             /**< functions: "name(argtypes)" */
	char *table;            /**< owning table of constraints, indexes, triggers,
	                             policies; NULL otherwise */
	char *def;              /**< the engine's definition text (see above) */
	char *norm;             /**< SQLite: `def` normalised (tokens, one space,
	                             quotes only where needed); compared instead
	                             of `def`.  NULL elsewhere */
	char *extra;            /**< per-engine attributes that count as a
	                             difference, "key=value" lines */
	char *comment;
	df_column *cols;        /**< tables, views, composite types */
	size_t ncols, acols;
	df_strlist deps;        /**< keys of the objects this one depends on,
	                             as the engine recorded them */
	df_strlist uses;        /**< keys of the objects a function's body names
	                             where the engine records nothing (PostgreSQL
	                             LANGUAGE sql bodies): an order the diff
	                             prefers, neither compared nor serialised */
	char ctype;             /**< constraints: DF_CONS_* */
	/** Foreign keys: one for a foreign key constraint; on SQLite, where
	 *  they are part of their table, each of a table's.  Compared by the
	 *  diff (not part of the text serialisation). */
	df_fk *fks;
	size_t nfks;
	char *key;              /**< see above; set by df_schema_add() */
} df_object;

/** A schema read from one database. */
typedef struct df_schema {
	df_dialect dialect;
	df_object **v;          /**< sorted by key once df_schema_finish() ran */
	size_t nr, alloc;
	df_strlist not_compared; /**< object kinds devflow does not compare here */
	int server_version;     /**< as df_identity.version_num */
	/** The objects of those kinds this database holds (uncompared.c), one
	 *  "<class>\t<object>\t<state>\t<dependants>" line each: `state` tells
	 *  two sides' copies apart (an ACL, an owner), `dependants` the keys of
	 *  the schema's objects that use it, comma-separated.  Not part of the
	 *  text serialisation. */
	df_strlist uncompared;
	/** read with df_schema_opts.privileges: the diff of two such schemas
	 *  writes GRANT / REVOKE / OWNER TO */
	bool privileges;
} df_schema;

/** The class of the history tables of migration tools (devflow's own and
 *  other tools'), in df_schema.uncompared and df_diff.not_compared. */
#define DF_UNCOMPARED_HISTORY "migration history tables"

/**
 * Push devflow's own tables (the tracking table `table`, `<table>_audit`,
 * `<table>_meta`) to `out`, for df_schema_opts.exclude_tables.  Other
 * tools' history tables are left out by df_schema_read() itself, by their
 * shape (uncompared.c).
 */
int df_schema_own_tables(df_strlist *out, const char *table);

/** Options of df_schema_read(). */
typedef struct df_schema_opts {
	unsigned int version;           /**< DF_SCHEMA_OPTS_VERSION */
	/** PostgreSQL: the schemas to read (NULL or empty: every schema but
	 *  the system ones and those of extensions). */
	const df_strlist *schemas;
	/** Tables to leave out (devflow's tracking and audit tables). */
	const df_strlist *exclude_tables;
	/** PostgreSQL: read grants and owners to compare them (`--privileges`);
	 *  without, they are listed as not compared. */
	bool privileges;
} df_schema_opts;
#define DF_SCHEMA_OPTS_VERSION 1
#define DF_SCHEMA_OPTS_INIT { DF_SCHEMA_OPTS_VERSION, NULL, NULL, false }

/**
 * May `command` ("db diff") compare privileges on `engine`
 * (df_schema_opts.privileges)?  0 on PostgreSQL; DF_EUSAGE elsewhere, with
 * why and a hint: MySQL/MariaDB's grants are the server's, per user, and
 * SQLite has none.
 */
int df_schema_privileges_check(const char *engine, const char *command);

/**
 * Read the schema of the connected database (the driver's schema_read).
 * @param out   a new schema (free with df_schema_free())
 * @param opts  NULL for the defaults
 * @return 0, or the driver's error (DF_EINTERNAL when the engine has no reader)
 */
int df_schema_read(df_schema **out, df_conn *conn, const df_schema_opts *opts);

/**
 * The relations the statements of `sql` change, appended to `names` as
 * "schema\tname" (schema "" when a statement does not say): 1 when each
 * statement is one whose targets are known (tables, indexes, views,
 * sequences, triggers, policies, comments on them, data, transactions),
 * 0 when one is not (a DO block, a function, a type, SET search_path, a
 * DROP ... CASCADE, what does not parse): then only a full read says what
 * a run of it left.  PostgreSQL only: 0 elsewhere.
 */
int df_schema_touched(df_strlist *names, const char *sql, df_dialect d);

/**
 * What df_schema_read() would give now, from `before` (a read of the same
 * database with the same `opts`) and a read of only the relations `names`
 * (df_schema_touched() of what ran since) and of what depends on them,
 * before or now; `before` is left as it was.  1 with *out NULL when this
 * cannot be done safely (another engine; a schema holding functions,
 * aggregates, extensions or domains): read the whole.
 */
int df_schema_reread(df_schema **out, const df_schema *before, df_conn *conn,
	const df_schema_opts *opts, const df_strlist *names);

/**
 * What runs a .sql file for the schema code: every statement of `path` on
 * `conn`, in order (*statements counts those that ran); an error at
 * file:line:column.  The schema code asks the core for nothing: its caller
 * hands it the core's, df_run_sql_file() (devflow/core.h).
 */
typedef int (*df_schema_file_runner)(df_conn *conn, const char *path, long *statements);

/**
 * A .sql file's schema: the file is loaded by `run` into a throwaway
 * database of `engine` ("sqlite": in memory; "postgres", "mysql": a
 * temporary database on `server`, dropped afterwards whatever happens) and
 * read back.  A statement that fails is an error at file:line:column.  `n`
 * tells two loads of one run apart.
 */
int df_schema_load_file(df_schema **out, const char *path, const char *engine,
	const df_dsn *server, const df_schema_opts *opts, int n, df_schema_file_runner run);

/**
 * The .sql files of a schema path: the path itself when it is a file, else
 * the folder's `*.sql` files in name order (appended to `out`).  DF_EUSAGE
 * when the path is neither.
 */
int df_schema_files(df_strlist *out, const char *path);

struct df_migration;
/**
 * What runs migrations for the schema code: the UP sections of `migs`, in
 * order, on `conn` (a throwaway database), recording nothing that outlives
 * it.  The schema code asks the core for nothing: its caller hands it
 * the core's shadow runner, df_run_shadow() (devflow/core.h).  0, or the
 * error of the statement that failed (file:line:column of its migration).
 */
typedef int (*df_schema_runner)(df_conn *conn, const struct df_migration *const *migs, size_t nr);

/**
 * The schema a migration history leaves: the UP sections of `migs`, in that
 * order, replayed by `run` into a throwaway database (as
 * df_schema_load_file() makes them) and read back.  `run` may be NULL when
 * `nr` is 0.
 */
int df_schema_replay(df_schema **out, const struct df_migration *const *migs, size_t nr,
	const char *engine, const df_dsn *server, const df_schema_opts *opts, int n,
	df_schema_runner run);

/**
 * Before a MariaDB dry-run runs `migs` (their DOWN sections when
 * `rollback`) in a throwaway copy of the target: refuse, before anything
 * runs, a statement that would reach past the copy for real (a name in
 * another database, the target's own name among them; the server's users,
 * grants and databases; files; dynamic SQL), as df_schema_replay() checks
 * its replay.  0, or DF_EGATE naming file:line.
 */
int df_schema_dry_run_check(df_conn *conn, const struct df_migration *const *migs, size_t nr,
	bool rollback);

int df_schema_new(df_schema **out, df_dialect d);
void df_schema_free(df_schema *s);

/**
 * Add an object (its strings copied; NULL allowed except name) and return
 * it in *out (borrowed) for columns and dependencies to be added.
 */
int df_schema_add(df_object **out, df_schema *s, df_obj_kind kind, const char *schema,
	const char *name, const char *table, const char *def);
int df_object_add_column(df_column **out, df_object *o, const char *name, const char *type);
/** Add an empty foreign key to `o` and return it in *out (borrowed). */
int df_object_add_fk(df_fk **out, df_object *o);
/** Two foreign keys the same (columns, referenced table and columns,
 *  actions, deferrability)? */
bool df_fk_equal(const df_fk *a, const df_fk *b);
/** Add a dependency on the object of that kind and name (deduplicated). */
int df_object_add_dep(df_object *o, df_obj_kind kind, const char *schema, const char *name,
	const char *table);
/** Set a string field of an object or column (copied; NULL clears). */
int df_schema_set(char **field, const char *value);
/** Sort by key, drop dependencies on objects the schema does not hold and
 *  duplicate keys (DF_EINTERNAL). Call once after reading. */
int df_schema_finish(df_schema *s);
/** The object with that key, or NULL (after df_schema_finish()). */
const df_object *df_schema_find(const df_schema *s, const char *key);
/** The key of an object: caller frees. */
char *df_schema_key(df_obj_kind kind, const char *schema, const char *name, const char *table);

/**
 * Serialise: a stable text (one object after another, by key; the same
 * schema always gives the same bytes), JSON (an array of objects), and the
 * SHA-256 (hex) of the text.  Strings returned are the caller's.
 */
int df_schema_text(char **out, const df_schema *s);
int df_schema_json(char **out, const df_schema *s);
int df_schema_hash(char out[65], const df_schema *s);

/* ---- diff ---------------------------------------------------------------- */

typedef enum df_change_op {
	DF_CHANGE_DROP = 0,
	DF_CHANGE_ALTER,
	DF_CHANGE_CREATE,
} df_change_op;

/** "drop", "alter", "create". */
const char *df_change_op_name(df_change_op op);

/** What one operation does (df_op.kind). */
typedef enum df_op_kind {
	DF_OP_CREATE = 0,       /**< create an object: table, view, index ("add
	                             index"), constraint ("add constraint",
	                             "add foreign key") ... (df_op.object_kind) */
	DF_OP_DROP,             /**< drop one */
	DF_OP_ALTER,            /**< change one in place; a table's: its own
	                             attributes, after its column operations */
	DF_OP_ADD_COLUMN,
	DF_OP_DROP_COLUMN,
	DF_OP_ALTER_COLUMN,     /**< its definition or (MySQL) its position changes */
	DF_OP_VALIDATE,         /**< validate a constraint added NOT VALID */
	DF_OP_RENAME_TABLE,     /**< df_schema_diff_renamed(): old_name -> new_name */
	DF_OP_RENAME_COLUMN,
} df_op_kind;

/**
 * The lock an operation takes on what it changes, as its engine documents
 * it.  PostgreSQL names its table locks; MySQL/MariaDB DDL waits for and
 * then blocks every transaction on the table (its metadata lock); SQLite
 * locks the whole database file.
 */
typedef enum df_op_lock {
	DF_OP_LOCK_NONE = 0,                       /**< nothing that exists is locked */
	DF_OP_LOCK_PG_SHARE_UPDATE_EXCLUSIVE,      /**< reads and writes go on */
	DF_OP_LOCK_PG_SHARE,                       /**< writes wait */
	DF_OP_LOCK_PG_SHARE_ROW_EXCLUSIVE,         /**< writes wait (on both tables of a key) */
	DF_OP_LOCK_PG_ACCESS_EXCLUSIVE,            /**< reads and writes wait */
	DF_OP_LOCK_MYSQL_METADATA,                 /**< exclusive metadata lock */
	DF_OP_LOCK_SQLITE_DATABASE,                /**< the database's write lock */
} df_op_lock;

/** "none", "SHARE UPDATE EXCLUSIVE", ..., "metadata", "database". */
const char *df_op_lock_name(df_op_lock l);

/**
 * One operation of a diff.  `before` and `after` point into the two
 * schemas that were diffed (valid while they live); the writer of the
 * engine renders operations to SQL (df_op_sql()).
 */
typedef struct df_op {
	df_op_kind kind;
	df_obj_kind object_kind;
	char ctype;                     /**< constraints: DF_CONS_* */
	char *object;                   /**< the object's key (a column's: its table's) */
	char *column;                   /**< column operations: the column's name */
	char *constraint;               /**< constraint operations: the constraint's name */
	const df_object *before;        /**< the object in `from`, NULL when created;
	                                     column operations: the table */
	const df_object *after;         /**< the object in `to`, NULL when dropped */
	const df_column *col_before, *col_after;  /**< column operations */
	char *old_name, *new_name;      /**< renames */
	bool destroys_data;             /**< drops or rewrites stored values */
	df_op_lock lock;
	/* forms the generator asks for (PostgreSQL) */
	bool concurrently;              /**< CREATE / DROP INDEX CONCURRENTLY */
	bool if_exists;                 /**< DROP ... IF EXISTS */
	bool not_valid;                 /**< ADD CONSTRAINT ... NOT VALID (a VALIDATE follows) */
} df_op;

/** "create table", "add index", "drop foreign key", "add column" ... */
const char *df_op_name(const df_op *op, char *buf, size_t size);

/** One change: one or more statements about one object. */
typedef struct df_change {
	df_change_op op;
	df_obj_kind kind;
	char *object;           /**< the object's key */
	char *sql;              /**< statements, each ending in ";\n" */
	bool destroys_data;     /**< drops a table, a column, or rewrites values */
	df_review_risk risk;    /**< highest risk of a review finding (df_diff_review) */
	df_strlist hazards;     /**< "rule: message" of the review's findings and
	                             devflow's own warnings */
	df_strlist columns;     /**< df_diff_changed_only(), a table's alter: its
	                             columns "- name type", "+ name type",
	                             "~ name type -> type" */
	df_op *ops;             /**< what `sql` does, in order; `sql` is their
	                             rendering (df_change_render()) */
	size_t nops;
} df_change;

/** An object of a class devflow does not compare, held by one or both sides. */
typedef struct df_uncompared {
	char *cls;              /**< "privileges", "aggregates", DF_UNCOMPARED_HISTORY ... */
	char *object;           /**< "table public.t", "aggregate public.agg(text)" */
	bool in_from, in_to;
	bool differs;           /**< on both sides, not the same (an ACL, an owner) */
	df_strlist used_by;     /**< keys of the objects the diff writes that use it */
} df_uncompared;

/** Do the sides differ in `u` (one side only, or different states) in a way
 *  `db diff --exit-code` counts (history tables and counters do not)? */
bool df_uncompared_counts(const df_uncompared *u);

typedef struct df_diff {
	df_dialect dialect;
	df_change *v;           /**< in the order they must run */
	size_t nr, alloc;
	df_strlist not_compared; /**< the classes of df_uncompared below */
	df_uncompared *unc;     /**< the objects not compared either side holds */
	size_t nunc;
	char *preamble;         /**< statements to run before (SQLite: PRAGMA), or NULL */
	char *postamble;        /**< and after, or NULL */
	const df_schema *from, *to;  /**< the schemas diffed: the operations point
	                                  into them (valid while they live) */
} df_diff;

/**
 * The changes that turn `from` into `to` (same dialect), ordered: a
 * dependency graph of both sides (drops in reverse dependency order, creates
 * in dependency order, views dropped and re-created around the column
 * changes under them, foreign keys added after every table exists); SQLite
 * tables that ALTER cannot change are rebuilt.  Two equal schemas give no
 * change.
 */
int df_schema_diff(df_diff **out, const df_schema *from, const df_schema *to);
/**
 * Renames are never guessed: the `-- devflow:renamed-from OLD` lines of a
 * schema file (before `CREATE TABLE NEW`, or before a column's line in
 * one), as "table\tNEW\tOLD" and "column\tTABLE\tNEW\tOLD" entries.
 */
int df_schema_renames_read(df_strlist *out, const char *path);
/**
 * df_schema_diff() after renaming in `from` (which changes) the tables and
 * columns `renames` names, where `from` has the old name and `to` the new
 * one: the renames come first in the result, then what is left to change.
 */
int df_schema_diff_renamed(df_diff **out, df_schema *from, const df_schema *to,
	const df_strlist *renames);
/**
 * What `from` → `to` changed, for reports rather than for running: leaves
 * out the drops and creates of objects that are the same on both sides (an
 * index, a trigger or a view re-created only because its table was rebuilt
 * or a column under it changed), and lists an altered table's columns
 * that were removed, added or changed (`columns`): a table rebuilt to
 * rename a column is "- old", "+ new", not the rebuild's statements.  The
 * script is no longer complete.
 */
int df_diff_changed_only(df_diff *d, const df_schema *from, const df_schema *to);
void df_diff_free(df_diff *d);
/**
 * The SQL of one operation of `d` (or one made like them), by the
 * engine's writer; appended to `out`.  Hazards the writer finds go to
 * `hazards` (NULL: dropped).
 */
int df_op_sql(df_buf *out, const df_diff *d, df_op *op, df_strlist *hazards);
/** Render a change's `sql` again from its operations (after they changed). */
int df_change_render(const df_diff *d, df_change *c);
/** Free what a change holds (not the change itself). */
void df_change_release(df_change *c);
/** Remove operation `i` of a change (its SQL is not rendered again). */
void df_change_remove_op(df_change *c, size_t i);
/** The whole script (preamble, every change, postamble); caller frees. */
int df_diff_sql(char **out, const df_diff *d);
/**
 * Review every change with db review's rules (df_review_run()): fills
 * `risk` and adds each finding to `hazards`.  pg_version 0: 15.
 */
int df_diff_review(df_diff *d, int pg_version, const df_strlist *disabled);

/* ---- verify: a diff checked on a throwaway copy --------------------------- */

/** Options of df_diff_verify().  Start from DF_VERIFY_OPTS_INIT. */
typedef struct df_verify_opts {
	unsigned int version;           /**< DF_VERIFY_OPTS_VERSION */
	const char *engine;             /**< "sqlite", "postgres", "mysql" */
	const df_dsn *server;           /**< where the throwaway database is made (servers) */
	const df_schema_opts *schema_opts;
	/** The "from" side, loaded into the copy from the first of: a .sql file
	 *  or folder, as is ... */
	const char *from_path;
	/** ... a migration history (from_history: its UP sections, replayed) ... */
	bool from_history;
	const struct df_migration *const *from_migs;
	size_t from_nr;
	/** ... else the DDL that makes `from` (df_schema_ddl()). */
	const df_schema *from;
	df_schema_runner run;           /**< replays from_migs: df_run_shadow() */
	df_schema_file_runner run_file; /**< runs files (and the script): df_run_sql_file() */
	/** PostgreSQL, `from` a model: the diff `script` renders (from -> to).
	 *  When set, the check loads and compares only what the diff touches
	 *  (its objects, what depends on them, what they need), and the whole
	 *  schema only when that part is not verified.  NULL: the whole. */
	const df_diff *diff;
	bool whole;                     /**< check the whole schema even with `diff` */
} df_verify_opts;
#define DF_VERIFY_OPTS_VERSION 1
#define DF_VERIFY_OPTS_INIT { DF_VERIFY_OPTS_VERSION, NULL, NULL, NULL, NULL, false, NULL, 0, \
	NULL, df_run_shadow, df_run_sql_file, NULL, false }

/** What df_diff_verify() found. */
typedef struct df_verified {
	bool ok;                /**< the script, applied to the copy, gives `to` */
	char *failure;          /**< why not, when a statement failed (or the copy
	                             could not be made): a sentence; else NULL */
	df_diff *remaining;     /**< copy-after-script -> to (empty when ok); NULL
	                             when a statement failed */
	char *remaining_sql;    /**< its script ("" when none) */
	long ms;                /**< how long the check took */
	/** Only the part the diff touches was checked (o->diff), verified:
	 *  its objects (both sides) of the sides' all.  false: the whole. */
	bool part;
	size_t part_objects, all_objects;
} df_verified;

/**
 * Check a diff on a throwaway copy (SQLite: in memory; servers: a
 * database devflow_verify_* on o->server, dropped whatever happens): the
 * "from" side is loaded into it, `script` runs statement by statement,
 * the copy is read back (with o->schema_opts) and diffed with `to`.  What
 * is compared is the whole schema.  A script or a copy that fails is a
 * result (ok false, failure set), not an error; the return is < 0 only
 * when the check could not run at all (no server, no throwaway database).
 * @param out  a new result (free with df_verified_free())
 */
int df_diff_verify(df_verified **out, const df_verify_opts *o, const char *script,
	const df_schema *to);
void df_verified_free(df_verified *v);

/* ---- generate: a migration from a declarative schema ---------------------- */

/** Options of df_generate().  Start from DF_GENERATE_OPTS_INIT. */
typedef struct df_generate_opts {
	unsigned int version;           /**< DF_GENERATE_OPTS_VERSION */
	const char *engine;             /**< "sqlite", "postgres", "mysql" */
	const df_dsn *server;           /**< where throwaway databases are made (servers) */
	const df_schema_opts *schema_opts;
	/** The history: replayed in this order into the "current" database. */
	const struct df_migration *const *migs;
	size_t nr;
	/** The desired schema: a .sql file or a folder of them (renames are read
	 *  from its `-- devflow:renamed-from` lines) ... */
	const char *schema_path;
	/** ... or, when schema_path is NULL, another history (db create revert_). */
	const struct df_migration *const *to_migs;
	size_t to_nr;
	/** PostgreSQL: keep the plain forms (no CONCURRENTLY, NOT VALID, lock_timeout). */
	bool plain;
	/** PostgreSQL: indexes on existing tables may go to a migration of their
	 *  own that runs outside a transaction (online_sql): the folder's format
	 *  can say so.  Otherwise they stay plain, in the main migration. */
	bool online_split;
	const df_strlist *review_disabled;
	/** What replays the histories (df_schema_replay()); the initialiser
	 *  names the core's shadow runner, df_run_shadow() (devflow/core.h). */
	df_schema_runner run;
	/** What loads the schema file (df_schema_load_file()): df_run_sql_file(). */
	df_schema_file_runner run_file;
	/** Check the UP on a copy of the history and the DOWN on a copy of the
	 *  desired schema (df_diff_verify()): up_check, down_check. */
	bool verify;
} df_generate_opts;
#define DF_GENERATE_OPTS_VERSION 1
#define DF_GENERATE_OPTS_INIT { DF_GENERATE_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, \
	NULL, 0, false, false, NULL, df_run_shadow, df_run_sql_file, false }

/** What df_generate() found. */
typedef struct df_generated {
	df_diff *up;                    /**< current -> desired, reviewed (the schemas
	                                     are gone: its operations' before and
	                                     after are NULL) */
	df_diff *down;                  /**< desired -> current, reviewed */
	char *up_sql, *down_sql;        /**< the scripts ("" when nothing changes) */
	/** PostgreSQL online forms: statements that must run outside a
	 *  transaction (CREATE INDEX CONCURRENTLY), after up_sql, and their
	 *  reverse; NULL when there are none. */
	char *online_sql, *online_down_sql;
	bool destroys_data;             /**< a change of `up` drops or rewrites data */
	df_strlist drops;               /**< "drop table public.users" ... of those changes */
	df_strlist lost;                /**< `down`'s changes that destroy data
	                                     (what a DOWN cannot restore) */
	/** With opts.verify and a change: up_sql + online_sql applied to a copy
	 *  of the history, online_down_sql + down_sql to a copy of the desired
	 *  schema (df_diff_verify()); else NULL. */
	struct df_verified *up_check, *down_check;
} df_generated;

/**
 * Replay the history into one throwaway database, load the desired schema
 * (or the other history) into another, and diff both ways.  The throwaway
 * databases are dropped whatever happens.
 * @param out  a new result (free with df_generated_free())
 */
int df_generate(df_generated **out, const df_generate_opts *opts);
void df_generated_free(df_generated *g);

/**
 * The schema of `s` as a file that loads it again: the DDL that makes it
 * from `base` (what a new database of the engine already holds, e.g.
 * PostgreSQL's schema public: df_schema_replay() of no migration; NULL:
 * nothing), in dependency order, headed by `header` (comment lines, or
 * NULL).  The same schema always gives the same text.  Caller frees.
 */
int df_schema_ddl(char **out, const df_schema *base, const df_schema *s, const char *header);

/* ---- drift: the schema a migrate left ------------------------------------ */

/**
 * Record a schema as the one devflow left on a database: writes
 * `dir`/.devflow/schema/<key>.schema (the text serialisation, headed by
 * its hash and `stamp`, one line of the caller's, or NULL), atomically.
 * DF_EUSAGE when `key` cannot name a file.
 */
int df_schema_record(const char *dir, const char *key, const df_schema *s, const char *stamp);
/**
 * The recorded hash, stamp and text of `key`: *hash (65 bytes), *stamp
 * (NULL, or NULL when none was recorded) and *text (caller frees both).
 * `text` NULL: the hash and stamp only (the file's first lines are read,
 * not the whole schema).  DF_ENOTFOUND when nothing was recorded.
 */
int df_schema_recorded(char hash[65], char **stamp, char **text, const char *dir,
	const char *key);
/**
 * Whether the live schema `s` differs from a recorded one (`hash` and
 * `text` from df_schema_recorded()): *drifted set; *changes (caller frees,
 * may be NULL) is a list of the object keys that were added (+), removed
 * (-) or changed (~), one "+ key" a line, by key.
 */
int df_schema_drift(bool *drifted, char **changes, const char *hash, const char *text,
	const df_schema *s);

#endif
