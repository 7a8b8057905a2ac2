#ifndef DEVFLOW_CORE_H
#define DEVFLOW_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "devflow/dsn.h"
#include "devflow/sql.h"
#include "devflow/strlist.h"
#include "devflow/buf.h"
#include "devflow/sys/driver.h"

/* ---- configuration: devflow.conf and environments ---------------------- */

typedef enum df_policy {
	DF_POLICY_LOCAL = 0,
	DF_POLICY_STAGING,
	DF_POLICY_PRODUCTION,
} df_policy;

const char *df_policy_name(df_policy p);

typedef struct df_env_conf {
	char *name;
	char *url;              /* raw, may hold ${VAR}; secret */
	/* raw, may hold ${VAR}; secret: the URL devflow itself uses (migrations,
	 * dry-runs, backups, locks) where `url` goes through a transaction
	 * pooler, as Prisma's directUrl; the application keeps `url` */
	char *direct_url;
	int policy;             /* -1: from the name */
	char *smoke;            /* SQL file run after a successful migrate */
	char *after_migrate;    /* shell command run after a successful migrate */
	bool require_tls;       /* a host not this machine without TLS: an error, not a warning */
} df_env_conf;

typedef struct df_config {
	char *dir;              /* project directory (absolute) */
	char *path;             /* devflow.conf path, or NULL when absent */
	char *migrations;       /* folder, relative to dir unless absolute */
	char *seeds;
	char *schema;
	char *dev_url;          /* a server for throwaway databases (a URL as written; no ${VAR}); secret */
	char *table;            /* tracking table, default "_migrations" */
	long dryrun_max_age;    /* seconds a dry-run receipt stays valid (24 h) */
	long backup_max_age;    /* seconds a backup counts as recent (1 h) */
	df_strlist review_disabled;
	df_env_conf *envs;
	size_t envs_nr;
	size_t envs_alloc;
	size_t *env_hash;       /* open addressing: index + 1 into envs, 0 empty */
	size_t env_hash_size;   /* a power of two, over twice envs_nr; 0: none yet */
} df_config;

/* Load `dir`/devflow.conf if present (defaults otherwise).  DF_ECONFIG with
 * file:line on a syntax error. */
int df_config_load(df_config **out, const char *dir);
void df_config_free(df_config *cfg);
const df_env_conf *df_config_env(const df_config *cfg, const char *name);
/* Absolute path of a project-relative path; caller frees. */
char *df_config_path(const df_config *cfg, const char *rel);

/* The resolved target of a run. */
typedef struct df_target {
	char *env;              /* "local", "staging" ... */
	char *url;              /* secret */
	char *redacted;         /* safe to print */
	char *source;           /* which rule decided it, e.g. "DATABASE_URL in .env" */
	df_policy policy;
	df_dsn *dsn;
	const df_env_conf *conf; /* NULL when the config has no section */
	bool direct;            /* the URL is the environment's direct_url */
} df_target;

/* Resolve `env` (or an explicit `url`) in SPEC.md's order. */
int df_target_resolve(df_target **out, const df_config *cfg, const char *env, const char *url);
void df_target_free(df_target *t);

/* How a target is reached (src/core/reach.c): judged before connecting from
 * what the client library will read, and after from the socket. */
typedef struct df_reach {
	bool local;             /* before: every host is this machine, literally */
	char *host;             /* before: the first host that is not; NULL when local */
	bool connected;         /* the fields below are known */
	bool peer_local;        /* after: the socket's peer is this machine */
	bool tls;               /* after: TLS in use */
	char *peer;             /* after: "127.0.0.1", "a Unix socket" */
} df_reach;
int df_reach_before(df_reach *r, const df_dsn *dsn);
int df_reach_after(df_reach *r, df_conn *conn);
void df_reach_release(df_reach *r);
/* Not this machine: judged so before connecting, or the socket says so. */
bool df_reach_remote(const df_reach *r);
/* The remote host to name in a message. */
const char *df_reach_where(const df_reach *r);
/*
 * A remote connection without TLS: DF_ETLS when the environment sets
 * require_tls; else, under staging and production, a warning pushed to
 * `warnings`.  0 otherwise.
 */
int df_reach_tls_check(const df_reach *r, const df_target *t, df_strlist *warnings);

/* ---- migration files -------------------------------------------------- */

typedef enum df_mig_format {
	DF_FMT_DEVFLOW = 0,     /* -- UP / -- DOWN */
	DF_FMT_DBMATE,          /* -- migrate:up / -- migrate:down */
	DF_FMT_GOLANG,          /* N_name.up.sql + N_name.down.sql */
	DF_FMT_FLYWAY,          /* V1__name.sql + U1__name.sql */
	DF_FMT_PLAIN,           /* a plain .sql file: all UP (review only) */
	DF_FMT_GOOSE,           /* -- +goose Up / -- +goose Down */
} df_mig_format;

/* "devflow", "dbmate", "golang-migrate", "flyway", "goose", "plain" */
const char *df_mig_format_name(df_mig_format f);

/* A section of a file: bytes [off, off + len) of `path`, starting at `line`. */
typedef struct df_section {
	char *path;             /* NULL: no such section */
	uint64_t off, len;
	int line;
	bool empty;             /* only white space and comments */
	const char *mem;        /* its bytes, once df_migration_preload() kept them */
} df_section;

typedef struct df_migration {
	char *version;          /* "20240101120000", "1", "1.1" */
	char *name;             /* "create_users" */
	char *file;             /* file name as recorded: "20240101120000_create_users.sql" */
	char *path;             /* path of the UP file */
	df_mig_format format;
	bool no_transaction;
	bool repeatable;        /* Flyway R__name.sql: no version; runs after the
				 * versioned ones, again whenever its checksum changes */
	bool tx_control;        /* does its own BEGIN/COMMIT (df_run_check() found
				 * it): runs like a no-transaction migration */
	df_section up, down;
	uint64_t size;
	char checksum[65];      /* hex SHA-256 of the normalised file(s) */
	char *text;             /* df_migration_preload(): the UP file's bytes */
} df_migration;

/*
 * A migration can be rolled back when it has a DOWN with a statement; a
 * golang-migrate `.down.sql` that exists but holds none is, as for
 * golang-migrate, a rollback that does nothing.
 */
static inline bool df_migration_reversible(const df_migration *m)
{
	return m->down.path && (!m->down.empty || m->format == DF_FMT_GOLANG);
}

typedef struct df_migration_set {
	df_migration *v;        /* sorted by version */
	size_t nr, alloc;
	char *dir;
	df_strlist warnings;    /* for people: mixed version widths ... */
	/* df_migration_set_load_all: the files left out, and why (same order) */
	df_strlist bad_files, bad_messages;
} df_migration_set;

/* Read every migration of `dir` (a missing folder is an empty set unless
 * must_exist).  DF_ECONFIG with file:line for malformed files, duplicates. */
int df_migration_set_load(df_migration_set **out, const char *dir, bool must_exist);
/* The same, but a file that cannot be read as a migration is left out of the
 * set and named in bad_files / bad_messages instead of failing the load
 * (`db status` lists every migration and every bad file); `cached` as
 * df_migration_set_load_cached. */
int df_migration_set_load_all(df_migration_set **out, const char *dir, bool must_exist, bool cached);
/* The same, through the stat cache .devflow/cache (relative to the current
 * folder, the project root): a file whose inode, size, mtime and ctime match
 * its entry, and that changed longer ago than the timestamp granularity
 * before it was last read, is not read again; its checksum and sections come
 * from the cache.  The cache is rewritten when anything changed.  For `db
 * status`; `migrate` reads and hashes what it applies. */
int df_migration_set_load_cached(df_migration_set **out, const char *dir, bool must_exist);
void df_migration_set_free(df_migration_set *set);
const df_migration *df_migration_set_find(const df_migration_set *set, const char *version_or_name);
/* Parse one file (any format; plain .sql files as DF_FMT_PLAIN). */
int df_migration_read_file(df_migration *out, const char *path, bool allow_plain);
void df_migration_release(df_migration *m);
/*
 * Keep the bytes of the UP file (and of the DOWN section when it is in the
 * same file) in memory, so that the checks, the review and the run that
 * follow read it once instead of each opening it; a file over `max` bytes,
 * or one that cannot be read, is left to be read from disk (returns 0).
 */
int df_migration_preload(df_migration *m, uint64_t max);
/* Compare versions numerically ("2" < "10"; "1.1" < "1.2"). */
int df_version_cmp(const char *a, const char *b);
/* The order migrations run in: by version; repeatables last, by name. */
int df_migration_order(const df_migration *a, const df_migration *b);
/* Read a section into memory (NUL-terminated); caller frees. */
int df_section_read(char **out, size_t *len, const df_section *s);
/* Split a section into statements (offsets absolute in the file). */
int df_section_split(df_stmt_list *out, const df_section *s, df_dialect d);
/* Map an absolute byte offset of `path` to line:column. */
void df_file_position(const char *path, uint64_t offset, int *line, int *column);

/* ---- new migration files (newfile.c) ------------------------------------ */

/* A migration name as files carry it (lowercase; '-', ' ', '.' as '_') into
 * `out`; DF_EUSAGE for other characters or a length outside 1..200. */
int df_migration_name_normalize(df_buf *out, const char *name);
/* The format's section markers, each with its newline ("" for the
 * two-file formats). */
const char *df_mig_up_marker(df_mig_format f);
const char *df_mig_down_marker(df_mig_format f);

/* Where a new migration goes. */
typedef struct df_new_migration {
	df_mig_format format;   /* the folder's (that of its newest migration) */
	char version[32];
	char *path;             /* the file, or the UP file */
	char *down_path;        /* golang-migrate, Flyway: the DOWN file; else NULL */
} df_new_migration;

/*
 * The version and paths of a new migration `name` (normalised) in `set`'s
 * folder `dir`, in the folder's format: sequential folders get the next
 * number, others the UTC time `now` (or the next free second after the
 * newest version, or after `after` when given).
 */
int df_migration_new(df_new_migration *out, const df_migration_set *set, const char *dir,
	const char *name, const char *after, time_t now);
void df_new_migration_release(df_new_migration *n);
/* The text of the new files: `header` (comment lines, may be NULL), the UP
 * and DOWN bodies with the format's markers; down_file gets the DOWN of the
 * two-file formats.  `no_tx`: marked to run outside a transaction (devflow,
 * dbmate and goose files; df_mig_format_no_tx()). */
int df_migration_compose(df_buf *up_file, df_buf *down_file, const df_new_migration *n,
	const char *header, const char *up, const char *down, bool no_tx);
/* Can a file of this format say that it runs outside a transaction? */
static inline bool df_mig_format_no_tx(df_mig_format f)
{
	return f == DF_FMT_DEVFLOW || f == DF_FMT_DBMATE || f == DF_FMT_GOOSE;
}
/*
 * The history a database has or will have, as migrate runs it: the versioned
 * migrations of `set` by version, then the repeatable ones; with `upto`
 * only the versioned ones up to that version (`inclusive` or not).  *out is
 * the caller's (the migrations are borrowed from the set).
 */
int df_migration_set_history(const df_migration ***out, size_t *nr, const df_migration_set *set,
	const char *upto, bool inclusive);
/* Write a file that must not exist yet (nothing is left on failure). */
int df_file_write_new(const char *path, const df_buf *body);

/* ---- the tracking table and the audit log ------------------------------ */

typedef enum df_row_state {
	DF_ROW_APPLIED = 0,
	DF_ROW_RUNNING,         /* written before a non-transactional migration */
	DF_ROW_FAILED,
} df_row_state;

typedef struct df_ledger_row {
	char *filename, *version, *checksum, *applied_at, *applied_by, *error;
	char *up_checksum;      /* the UP's checksum (table version 2); NULL before */
	df_row_state state;
	long duration_ms;
	long statements_done;
	const char *adopted_from;       /* not in devflow's table: another tool's history holds it (core/adopt.c) */
} df_ledger_row;

/* Free a row's strings (not the row). */
void df_ledger_row_release(df_ledger_row *r);

typedef struct df_ledger {
	df_ledger_row *v;
	size_t nr;
	bool exists;            /* the tracking table exists */
	int table_version;      /* of devflow's tables (df_ledger_version) */
} df_ledger;

/* Create the tracking and audit tables, or adopt an existing table; bring
 * devflow's tables up to DF_LEDGER_VERSION (an upgrade is audited).  A
 * database at a newer version is refused: DF_ECONFIG, "upgrade devflow". */
int df_ledger_ensure(df_conn *conn, const char *table);

/* The version of devflow's own tables this devflow writes (ledger.c). */
#define DF_LEDGER_VERSION 2
#define DF_LEDGER_NONE (-1)     /* no tracking table yet */
/* The version of devflow's tables in the database: DF_LEDGER_NONE, 0 (a
 * table of another tool's three columns), 1 (devflow's first tables, no
 * version row), or the version row of `<table>_meta`. */
int df_ledger_version(int *out, df_conn *conn, const char *table);
/* Set the error for a database at `version` > DF_LEDGER_VERSION. */
int df_ledger_version_refuse(int version);

/* An applied row against its file, now: unchanged, only the DOWN edited
 * (the UP that ran is the same: rollback uses the new DOWN), or the UP
 * edited (exit 6).  Reads the file when the whole-file checksum differs. */
typedef enum df_row_check {
	DF_ROW_UNCHANGED = 0,
	DF_ROW_DOWN_EDITED,
	DF_ROW_UP_EDITED,
} df_row_check;
int df_ledger_row_check(df_row_check *out, const df_ledger_row *row, const df_migration *m);
/* The hex SHA-256 of a migration's UP, as the whole-file checksum sees it
 * (CR LF and a lone CR as LF): the UP file up to its DOWN marker when the
 * DOWN is in the same file, else the whole UP file. */
int df_migration_up_checksum(char out[65], const df_migration *m);
/* Fill the UP checksum of applied rows that have none, where the file still
 * matches the row's whole-file checksum (the UP that ran is the UP now). */
struct df_plan;
int df_ledger_backfill_up(df_conn *conn, const char *table, const struct df_plan *plan);
int df_ledger_read(df_ledger **out, df_conn *conn, const char *table);
/* The privileges migrate needs that the connected user lacks (creating in the
 * schema or database, writing devflow's tables), one a line in `missing`. */
int df_ledger_privileges(df_strlist *missing, df_conn *conn, const char *table);
void df_ledger_free(df_ledger *l);

/* Record `m` as applied now (insert, or settle an existing row). */
int df_ledger_mark_applied(df_conn *conn, const char *table, const df_migration *m);
/* Forget the row of `filename` (its effects are gone). */
int df_ledger_forget(df_conn *conn, const char *table, const char *filename);

typedef struct df_audit_entry {
	const char *op;         /* "migrate", "dry-run", "rollback", "backup" ... */
	const char *env, *target;
	const char *result;     /* "ok", "failed", "refused" */
	const char *summary;    /* one line for people */
	const char *receipt;    /* dry-run: pending-set hash; backup: path|sha256|size */
	const char *server;     /* server identity string */
	const char *detail;     /* free text */
} df_audit_entry;

int df_audit_append(df_conn *conn, const char *table, const df_audit_entry *e);
/* Rows of the audit log, newest first; columns: id, at, op, env, target,
 * os_user, host, result, summary, receipt, server, detail.  limit <= 0: all. */
int df_audit_read(df_rows **out, df_conn *conn, const char *table, const char *op, long limit);
/* A string that identifies the server and database (for receipts). */
int df_server_identity(char **out, df_conn *conn);
/* "user@host" of the OS, and the host's name, written into `buf` (cut to
 * `size`); both return `buf`.  DF_WHOAMI_MAX holds any of them. */
#define DF_WHOAMI_MAX 320
const char *df_whoami(char *buf, size_t size);
const char *df_hostname(char *buf, size_t size);

/* ---- other tools' histories (adopt.c) ------------------------------------ */

typedef enum df_tool {
	DF_TOOL_NONE = 0,
	DF_TOOL_DBMATE,         /* schema_migrations (version) */
	DF_TOOL_GOLANG,         /* schema_migrations (version, dirty) */
	DF_TOOL_FLYWAY,         /* flyway_schema_history */
	DF_TOOL_GOOSE,          /* goose_db_version */
} df_tool;

const char *df_tool_name(df_tool t);
const char *df_tool_table(df_tool t);
/* The tool whose files a format is (DF_TOOL_NONE for devflow's own). */
df_tool df_tool_of_format(df_mig_format f);

typedef struct df_tool_history {
	df_tool tool;           /* DF_TOOL_NONE: the database has no such table */
	df_strlist applied;     /* versions the tool applied */
	df_strlist failed;      /* failed there (golang-migrate dirty, Flyway success = false) */
} df_tool_history;

/* Read another tool's history table, if the database has one (`prefer`
 * wins when there are several). */
int df_tool_history_read(df_tool_history *out, df_conn *conn, const df_migration_set *set, df_tool prefer);
void df_tool_history_release(df_tool_history *h);
/* Record the history's versions that have a file and no row in devflow's
 * table as applied (`adopted` gets them) or failed (`failed`); `orphans`
 * gets the versions without a file.  `reverted` (NULL: the folder is not
 * in the tool's format) gets the versions devflow recorded applied that
 * the tool's history no longer holds: their rows are removed. */
int df_tool_adopt(df_strlist *adopted, df_strlist *failed, df_strlist *orphans, df_strlist *reverted,
	df_conn *conn, const char *table, const df_migration_set *set, const df_ledger *ledger,
	const df_tool_history *h);
/*
 * The history as devflow will see it once it is adopted: a row, marked
 * adopted_from, for each version `h` holds (applied or failed) that has a
 * file and no row in `l`; devflow's own rows win.  With `mirror` (the
 * folder is in the tool's format), devflow's applied rows of versions the
 * tool's history no longer holds leave the view (`reverted`, if not NULL,
 * gets them).  Reads and writes nothing.
 */
int df_tool_history_merge(df_ledger *l, df_strlist *reverted, const df_migration_set *set,
	const df_tool_history *h, bool mirror);
/* Write the tool's own row for `m`, applied or reverted. */
int df_tool_record(df_conn *conn, df_tool tool, const df_migration_set *set, const df_migration *m,
	bool reverted);
/* `db resolve`: the tool's row for `m` says applied (golang-migrate: its
 * version, not dirty) or rolled back, whatever it said before. */
int df_tool_resolve(df_conn *conn, df_tool tool, const df_migration_set *set, const df_migration *m,
	bool applied);

/* ---- the plan: files + ledger ----------------------------------------- */

typedef enum df_mig_state {
	DF_STATE_APPLIED = 0,
	DF_STATE_PENDING,
	DF_STATE_FAILED,        /* failed or half-applied (running) */
	DF_STATE_MISSING,       /* applied, file gone */
} df_mig_state;

const char *df_mig_state_name(df_mig_state s);

typedef struct df_plan_item {
	df_mig_state state;
	const df_migration *mig;        /* NULL for MISSING */
	const df_ledger_row *row;       /* NULL for PENDING */
	bool checksum_ok;
	bool down_edited;               /* applied; its DOWN edited since, its UP not */
	bool out_of_order;              /* pending, older than the newest applied */
} df_plan_item;

typedef enum df_problem_kind {
	DF_PROBLEM_CHECKSUM = 0,
	DF_PROBLEM_MISSING,
	DF_PROBLEM_FAILED,
	DF_PROBLEM_OUT_OF_ORDER,
} df_problem_kind;

typedef struct df_problem {
	df_problem_kind kind;
	char *version;
	char *message;
} df_problem;

const char *df_problem_kind_name(df_problem_kind k);

typedef struct df_plan {
	df_plan_item *items;    /* by version */
	size_t nr;
	size_t applied, pending;
	df_problem *problems;
	size_t problems_nr;
	df_migration_set *set;  /* borrowed */
	df_ledger *ledger;      /* borrowed */
} df_plan;

int df_plan_build(df_plan **out, df_migration_set *set, df_ledger *ledger);
void df_plan_free(df_plan *plan);
/* The problem that blocks migrate (exit 6), or NULL. */
const df_problem *df_plan_blocker(const df_plan *plan);
/* Hash of the pending set: versions and checksums, in order. */
void df_plan_pending_hash(char out[65], const df_plan *plan, const char *to_version);
/* Hash of a list of migrations (files and checksums) under a label ("rollback"). */
void df_migs_hash(char out[65], const df_migration *const *migs, size_t n, const char *label);

/* ---- the runner --------------------------------------------------------- */

/* A lock a statement took (PostgreSQL dry-run, from pg_locks). */
typedef struct df_lock {
	char *relation;         /* as regclass prints it: "users", "app.orders" */
	char *mode;             /* pg_locks.mode: "AccessExclusiveLock", "ShareLock" ... */
	bool created;           /* the relation did not exist before the run */
} df_lock;

/*
 * What the server did with one statement of a dry-run: the locks it took
 * and its time (PostgreSQL), or the ALTER algorithm the server chose
 * (MariaDB's shadow database).
 */
typedef struct df_stmt_trace {
	long index;             /* 1-based, in its migration */
	int line;               /* where it starts in the file */
	char *sql;              /* its first line, cut at ~60 bytes */
	double ms;              /* its time, without the trace's own query */
	df_lock *locks;         /* the locks it took (held to the end of the transaction) */
	size_t nlocks;
	bool rewritten;         /* the dry-run ran it without CONCURRENTLY: the
				 * real run takes SHARE UPDATE EXCLUSIVE instead */
	/* an ACCESS EXCLUSIVE lock on a relation that existed before, held
	 * while the `later` statements after it in the same transaction run
	 * (`later_ms`): everything on that relation waits for all of them */
	const char *holds;      /* the relation (borrowed from locks), or NULL */
	long later;
	double later_ms;
	char *algorithm;        /* MariaDB: INSTANT, NOCOPY, INPLACE, COPY; NULL: not asked */
} df_stmt_trace;

typedef struct df_trace {
	df_stmt_trace *v;
	size_t nr, alloc;
} df_trace;

void df_trace_release(df_trace *t);

typedef struct df_run_step {
	const df_migration *mig;
	long duration_ms;
	long statements;
	int error;              /* 0 or DF_E* */
	df_trace trace;         /* dry-runs on PostgreSQL and MariaDB; else empty */
	bool not_run;           /* dry-run: only split, its statements did not run
	                           (no transaction to roll them back in) */
} df_run_step;

/* A run's progress; non-zero after DF_PROGRESS_DONE stops the run before
 * the next migration (DF_EINTERRUPTED, the migrations before it kept). */
typedef int (*df_progress_fn)(void *data, const df_migration *m, int phase,
	long done, long total);
enum { DF_PROGRESS_START = 0, DF_PROGRESS_STATEMENT, DF_PROGRESS_DONE };

enum df_run_flags {
	DF_RUN_DRY_RUN = (1 << 0),
	DF_RUN_OUT_OF_ORDER = (1 << 1),
	/* dry-run against a throwaway shadow database: execute for real, keep
	 * no tracking rows (the shadow is dropped afterwards) */
	DF_RUN_SHADOW = (1 << 2),
};

typedef struct df_run_opts {
	unsigned int flags;
	const char *to_version; /* migrate: up to and including; rollback: down to, excluding */
	long steps;             /* rollback: how many (default 1) */
	const char *table;
	df_progress_fn progress;
	void *progress_data;
	df_tool mirror;         /* also write this tool's row for each migration */
	const df_migration_set *mirror_set;
	/* dry-run in one transaction: called when every migration ran, before
	 * the rollback, to look at what they did (its failure is its own) */
	void (*before_rollback)(void *data, df_conn *conn);
	void *before_rollback_data;
	/* how each migration runs and is recorded (devflow/source.h); the
	 * SQL folder's is df_source_sql_folder(); NULL is refused */
	const struct df_source *source;
} df_run_opts;

typedef struct df_run_result {
	df_run_step *steps;
	size_t nr;
	size_t failed_step;     /* index of the failed step, or nr */
} df_run_result;

/* Which migrations a migrate / rollback would run, in order (borrowed). */
int df_run_select(const df_migration ***out, size_t *nr, const df_plan *plan,
	const df_run_opts *opts, bool rollback);
/* Run every statement of a plain SQL file (smoke tests). */
int df_run_sql_file(df_conn *conn, const char *path, long *statements);
/* Split every selected migration without running it: a file the splitter
 * rejects (unterminated quote ...), or an UP with no statement (DF_ECONFIG),
 * stops the run before anything applies.  Sets each migration's tx_control. */
int df_run_check(const df_migration **migs, size_t nr, df_dialect d, bool rollback);
/* DF_ECONFIG (message, position, hint) when `m`'s UP holds no statement; 0
 * when it holds one, or does not split (left to the caller to report). */
int df_migration_check_nonempty(const df_migration *m, df_dialect d);
/* Apply (or revert) the selected migrations; stops at the first failure,
 * never retries.  *out is filled even on failure (the steps done). */
int df_run_apply(df_run_result *out, df_conn *conn, const df_migration **migs,
	size_t nr, const df_run_opts *opts, bool rollback);
void df_run_result_release(df_run_result *r);
/* The shadow runner the schema code is handed (df_schema_runner): check and
 * apply the UP sections of `migs` on a throwaway database (src/core/replay.c). */
int df_run_shadow(df_conn *conn, const df_migration *const *migs, size_t nr);

/* ---- impact: how big a table is ------------------------------------------- */

/* Rows (estimated on servers) and bytes (-1: unknown) of `table`; DF_ENOTFOUND
 * when the target has no such table (a table the migration creates). */
int df_table_stats(df_conn *conn, const char *table, long long *rows, long long *bytes);

/* The current type of table.column on a PostgreSQL target, as format_type()
 * spells it ("character varying(20)"), or on MySQL/MariaDB as COLUMN_TYPE
 * ("enum('a','b')"), into out; DF_ENOTFOUND when there is no such column or
 * the target is SQLite. */
int df_column_type(df_conn *conn, const char *table, const char *column,
	char *out, size_t size);
/* df_column_type() in the shape of df_review_opts.column_type, with the
 * connection as payload: `opts.column_type = df_review_column_type_conn;
 * opts.column_type_payload = conn;`.  Errors are cleared (the review then
 * treats the type as unknown). */
int df_review_column_type_conn(char *out, size_t size, const char *table,
	const char *column, void *conn);

/* ---- shadow databases (dry-runs where DDL cannot roll back) ------------- */

/*
 * Create a throwaway database on the target's server with the target's
 * tables (schema only), and connect to it.  *name is its name (caller frees
 * and passes it to df_shadow_drop()).  MySQL/MariaDB only.
 */
int df_shadow_open(df_conn **out, char **name, df_conn *conn, const df_dsn *dsn);
int df_shadow_drop(df_conn *conn, const char *name);
/*
 * Throwaway databases on the server that a devflow run made and did not drop
 * (a dry-run's shadow `<db>_dfshadow_<pid>`, a backup check's
 * `devflow_verify_<pid>_<hex>`), by name into `out`.  With the DSN of a
 * server on this host, those of devflow processes running now are left out.
 */
int df_shadow_list(df_strlist *out, df_conn *conn, const df_dsn *dsn);

/* ---- backups -------------------------------------------------------------- */

typedef struct df_backup_info {
	char *path;
	uint64_t size;
	char sha256[65];
	bool verified;
	char *mismatch;         /* with verify: what differed, or NULL */
} df_backup_info;

typedef struct df_backup_opts {
	const char *path;       /* NULL: .devflow/backups/<env>-<db>-<UTC>.<ext> */
	bool folder_must_exist; /* path's folder must exist (DF_EUSAGE otherwise,
				 * as for -o); else missing folders are made */
	const char *env;
	bool verify;
	bool force;             /* path may replace an existing file (-o --force) */
	void (*progress)(void *data, uint64_t bytes);
	void *progress_data;
} df_backup_opts;

/*
 * Back up the target: written through one descriptor to a temporary name
 * (O_EXCL, mode 0600), fsynced, then renamed, so a failed backup never
 * leaves a file under the final name; `<path>.manifest` beside it says
 * what it holds (df_backup_manifest_path).  An existing opts->path is
 * replaced only with opts->force (DF_EUSAGE otherwise).
 * With verify, the copy is restored into a throwaway database and its tables
 * and row counts compared with the source's.
 */
int df_backup_run(df_backup_info *out, df_conn *conn, const df_dsn *dsn,
	const df_backup_opts *opts);
void df_backup_info_release(df_backup_info *b);
/* The receipt text recorded in the audit log. Caller frees. */
char *df_backup_receipt(const df_backup_info *b);
/*
 * Whether a backup is still there: `path` a regular file of `size` bytes.
 * 0 when it is; DF_ENOTFOUND (message and hint set) when it is gone or its
 * size changed.  The second form reads path and size from a receipt
 * (df_backup_receipt()'s text, as the audit log keeps it).
 */
int df_backup_file_ok(const char *path, uint64_t size);
int df_backup_receipt_file_ok(const char *receipt);
/* ---- before a restore ---------------------------------------------------- */

typedef enum df_restore_how {
	DF_RESTORE_UNCHECKED = 0,       /* nothing says the file is whole: a person decides */
	DF_RESTORE_BY_MANIFEST,         /* size and SHA-256 match <backup>.manifest */
	DF_RESTORE_BY_RECEIPT,          /* ... the audit log's receipt for that path */
	DF_RESTORE_BY_END_MARKER,       /* the dump's own end (mariadb-dump's "-- Dump
					 * completed", SQLite's header, a pg_dump archive) */
} df_restore_how;

typedef struct df_restore_check {
	df_restore_how how;
	df_strlist databases;   /* MySQL: what the dump names outside the target */
	df_strlist tables;      /* user tables the target holds now */
	uint64_t dev, ino, size;        /* the file checked: df_restore_check_same() */
	int64_t mtime_ns;
} df_restore_check;

/*
 * Check the backup `path` before restoring it into `conn`, reading only:
 * that it is whole (its manifest, else the receipt in `table`'s audit log,
 * else the dump's own end marker: out->how; a file that fails the check is
 * DF_EIO, nothing restored), that a MySQL dump writes only into the target
 * (DF_EGATE naming what it found: USE, CREATE DATABASE, names qualified
 * with another database), and which user tables the target holds.
 * Release out with df_restore_check_release() whatever the result.
 */
int df_restore_check_run(df_restore_check *out, df_conn *conn, const char *table, const char *path);
void df_restore_check_release(df_restore_check *c);
/* Whether `path` is still the file df_restore_check_run() read (same
 * inode, size and mtime); DF_EIO (message set) when it changed since. */
int df_restore_check_same(const df_restore_check *c, const char *path);

/* The name of a backup's manifest: `<backup>.manifest`. */
void df_backup_manifest_path(df_buf *out, const char *backup);
/* SHA-256 of a file, as hex. */
int df_file_sha256(char out[65], uint64_t *size, const char *path);

/*
 * A schema snapshot (pg_dump --schema-only, mariadb-dump --no-data, SQLite's
 * schema) saved as .devflow/snapshots/<UTC>-<env>-<tag>.sql; *out_path is the
 * file written (caller frees).  `tag` is e.g. "before-migrate", "manual".
 */
int df_snapshot_take(char **out_path, df_conn *conn, const df_dsn *dsn,
	const char *env, const char *tag);
struct df_schema;
/*
 * The schema model beside a snapshot's text dump: `sql_path` with ".sql"
 * replaced by ".schema", holding df_schema_text() of `model` (the stable
 * text `db status` compares for drift).  *out_path: the file (caller frees).
 */
int df_snapshot_model(char **out_path, const char *sql_path, const struct df_schema *model);

/* ---- gates: receipts read from the audit log ---------------------------- */

typedef enum df_receipt_state {
	DF_RECEIPT_OK = 0,
	DF_RECEIPT_NONE,        /* never recorded */
	DF_RECEIPT_STALE,       /* older than the allowed age */
	DF_RECEIPT_OTHER_SET,   /* recorded for another pending set */
	DF_RECEIPT_OTHER_DB,    /* recorded on another database */
	DF_RECEIPT_FILE_GONE,   /* backup: its file is gone or has another size */
} df_receipt_state;

const char *df_receipt_state_name(df_receipt_state s);
/* Receipt text for a dry-run of `set_hash` now. Caller frees. */
char *df_receipt_dryrun(const char *set_hash);
/* Look for a dry-run of this pending set on this server within max_age s. */
int df_gate_dryrun(df_receipt_state *out, long *age, df_conn *conn, const char *table,
	const char *set_hash, const char *server, long max_age);
/* Look for a successful backup of this server within max_age seconds. */
int df_gate_backup(df_receipt_state *out, long *age, df_conn *conn, const char *table,
	const char *server, long max_age);

/* ---- a server database that does not exist yet; waiting for a target ---- */

/* "CREATE DATABASE <quoted name>" for the database `dsn` names (a server
 * URL); *out is the caller's. */
int df_database_create_sql(char **out, const df_dsn *dsn);
struct df_run;
/* Connect to the server of `dsn` without its database (PostgreSQL: the
 * maintenance database `postgres`, else `template1`; MariaDB: none),
 * armed for `run` when not NULL.  *out is the caller's. */
int df_server_connect(df_conn **out, const df_dsn *dsn, struct df_run *run);
/* Create the database `dsn` names on its server (core/dbcreate.c). */
int df_database_create(const df_dsn *dsn, struct df_run *run);

/* What df_wait_ready() found (core/wait.c says what "ready" means). */
typedef struct df_wait_result {
	unsigned int attempts;
	long waited_ms;
	bool timed_out;         /* the error returned is the last attempt's */
	bool database_missing;  /* ready, but the database (or SQLite file) is not there yet */
} df_wait_result;
/*
 * Poll until the target of `dsn` is ready or `timeout_ms` has passed: 0
 * when ready; the last attempt's error after the timeout (out->timed_out)
 * or at once for an error waiting cannot mend (a malformed URL);
 * DF_EINTERRUPTED when `run` is cancelled.
 */
int df_wait_ready(df_wait_result *out, const df_dsn *dsn, long timeout_ms, struct df_run *run);

#endif
