#ifndef DF_DRIVERS_CLIENT_TOOL_H
#define DF_DRIVERS_CLIENT_TOOL_H

/*
 * Running the engines' client tools (pg_dump, pg_restore, mariadb-dump,
 * mariadb) for backups, restores and schema snapshots: shared by the
 * PostgreSQL and MySQL drivers, private to src/drivers/.
 *
 * Tools run through posix_spawn, never a shell, with every descriptor but
 * 0-2 closed.  Secrets reach them only through a 0600 file in a private 0700
 * folder (PGPASSFILE, --defaults-extra-file), never argv or a file name.
 */
#include <stdbool.h>
#include <stdint.h>

#include "devflow/buf.h"
#include "devflow/dsn.h"
#include "devflow/sys/driver.h"

/*
 * How the drivers' entry points (restore flags, schema_dump) tell the tool
 * code what to do: private markers in a copy of the DSN's `query` field.
 * The URL itself never holds them: both drivers refuse unknown URL
 * parameters when connecting.
 */
#define DF__TOOL_FLAG_CLEAN "df_clean=1"              /* restore: drop objects first */
#define DF__TOOL_FLAG_NO_OWNER "df_no_owner=1"        /* restore: skip owners and grants */
#define DF__TOOL_FLAG_SCHEMA_ONLY "df_schema_only=1"  /* backup: schema only, as SQL text */

/*
 * A shallow copy of `dsn` whose query also carries `flag`; `q` holds the new
 * query text (release it when done with *out; never df_dsn_free *out).
 */
void df__dsn_with_flag(df_dsn *out, df_buf *q, const df_dsn *dsn, const char *flag);

/* The same for the DF_RESTORE_* flags of the driver interface. */
void df__dsn_with_restore_flags(df_dsn *out, df_buf *q, const df_dsn *dsn, unsigned int flags);

/* The drivers' restore entry point: `flags` become markers for `restore`. */
int df__tool_restore(df_conn *conn, const df_dsn *dsn, const char *path, unsigned int flags,
	int (*restore)(df_conn *, const df_dsn *, const char *));
/*
 * The drivers' schema_dump entry point: `backup` with the schema-only
 * marker, into `path` (opened here, once, and handed to `backup`).
 */
int df__tool_schema_dump(df_conn *conn, const df_dsn *dsn, const char *path,
	int (*backup)(df_conn *, const df_dsn *, int, const char *, void (*)(void *, uint64_t), void *));

/* The flag is in dsn->query. */
bool df__tool_flag(const df_dsn *dsn, const char *flag);

/*
 * Whose backup `path` looks like, from its first bytes: "postgres" (a
 * pg_dump custom-format archive), "sqlite" (a database file) or NULL
 * (anything else, such as SQL text).  DF_EIO when it cannot be read.
 */
int df__backup_kind(const char **kind, const char *path);

/*
 * Find `tool` in `dir` (when not NULL), then on PATH.  *out is the
 * malloc'd path, or NULL when not found (not an error).
 */
int df__tool_find(char **out, const char *dir, const char *tool);

/*
 * A 0600 file holding a secret for one run of a tool.  Preferably a memfd,
 * which never touches a disk and vanishes with the processes even when
 * devflow is killed: the tool gets it as descriptor 3 and path is
 * "/dev/fd/3".  Where memfd_create is missing, a file in a fresh 0700
 * folder under $TMPDIR (or /tmp), removed afterwards.
 */
struct df__tool_secret {
	char *dir, *path;
	int fd;                 /* the memfd, or -1 */
};
int df__tool_secret_write(struct df__tool_secret *s, const char *name,
	const char *content, size_t len);
/* Close or remove the file (and its folder); safe on a zeroed struct. */
void df__tool_secret_remove(struct df__tool_secret *s);

struct df__tool_run {
	/* in */
	const char *const *argv;        /* argv[0]: the tool's path */
	const char *const *set_env;     /* "NAME=value" entries to add or replace */
	const char *const *unset_env;   /* names to remove */
	const char *stdin_path;         /* NULL: /dev/null */
	int out_fd;                     /* stdout goes here; -1: into `out` (or dropped) */
	df_buf *out;                    /* with out_fd -1: stdout captured, or NULL */
	void (*progress)(void *data, uint64_t bytes);
	void *progress_data;
	const df_dsn *dsn;              /* its password is scrubbed from `err` */
	const struct df__tool_secret *secret; /* its memfd becomes the tool's fd 3, or NULL */
	/* out */
	int status;                     /* exit status; 128 + N when killed by signal N */
	uint64_t bytes;                 /* stdout bytes written to out_fd */
	int write_errno;                /* writing stdout failed with this errno, or 0 */
	df_buf err;                     /* the tool's stderr (the last 16 KB), scrubbed */
};

/*
 * Run the tool to the end, streaming stdout.  Returns 0 when it ran (look at
 * status, write_errno, err), or DF_EIO when it could not be started.  When
 * writing stdout fails, the tool is killed and write_errno set.  The caller
 * releases r->err.
 */
int df__tool_run(struct df__tool_run *r);

/* The tool's stderr as one line: its last `max_lines` non-empty lines. */
void df__tool_err_summary(df_buf *out, const struct df__tool_run *r, int max_lines);

/*
 * The rows of each table (driver.table_counts): `list` is the driver's query
 * of the tables, two columns (the name, and the name quoted for FROM), and
 * each table is counted with `query`, the driver's own.  *out: name, rows.
 */
int df__tool_table_counts(df_conn *conn, df_rows **out, const char *list,
	int (*query)(df_conn *, df_rows **, const char *, const char *const *, size_t));

/* A `'...'` value for a libpq conninfo string (backslash and quote escaped). */
void df__tool_conninfo_quote(df_buf *out, const char *value);

#endif
