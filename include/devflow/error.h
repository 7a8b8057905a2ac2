#ifndef DEVFLOW_ERROR_H
#define DEVFLOW_ERROR_H

#include <stddef.h>

/*
 * Library functions return 0 on success or one of these negative codes after
 * setting the thread's last error (libgit2's model).  Each code is one of
 * SPEC.md's error kinds; the CLI maps codes to exit statuses in one place
 * (src/cli/error.h).
 */
enum df_error_code {
	DF_OK = 0,
	DF_EUSAGE = -1,         /* usage: bad argument */
	DF_ECONFIG = -2,        /* config: unreadable config, bad migration file */
	DF_ECONNREFUSED = -3,   /* connection_refused */
	DF_EAUTH = -4,          /* auth_failed */
	DF_EPERM = -5,          /* permission_denied (statement or connect) */
	DF_EHOST = -6,          /* unknown_host */
	DF_ELOCKED = -7,        /* lock_timeout */
	DF_ESQL = -8,           /* sql_error */
	DF_EGATE = -9,          /* gate_refused */
	DF_ECHECKSUM = -10,     /* checksum_mismatch */
	DF_EMISSING = -11,      /* missing_file */
	DF_EFAILED = -12,       /* failed_migration */
	DF_EIO = -13,           /* io */
	DF_EINTERNAL = -14,     /* internal (also: out of memory) */
	DF_ENOTFOUND = -15,     /* a named thing does not exist (kind: usage) */
	DF_EINTERRUPTED = -16,  /* interrupted: SIGINT/SIGTERM stopped the run */
	DF_EUNKNOWNDB = -17,    /* unknown_database: the server has no such database */
	DF_ETLS = -18,          /* tls_failed: TLS was required and could not be set up */
	DF_EPOOLER = -19,       /* pooler: a transaction pooler between devflow and the server */
	DF_EUNVERIFIED = -20,   /* unverified: a diff whose application to a copy did not reach its target */
};

struct df_cmd;

/*
 * An error may suggest commands (include/devflow/cmd.h) as data; its message
 * and hint say where each goes with DF_ERR_CMD(i), which the front end
 * replaces by the words of cmds[i] ("settle it with `" DF_ERR_CMD(0) "`").
 * The core keeps no command text.
 */
#define DF_ERROR_CMDS 2
#define DF_ERR_CMD_MARK '\x1f'
#define DF_ERR_CMD(i) "\x1f" #i

/* The last error of this thread.  Strings are owned by the error slot. */
typedef struct df_error {
	int code;               /* enum df_error_code */
	char *message;          /* what failed; never NULL after df_error_set() */
	char *hint;             /* what to try next, or NULL */
	char *file;             /* file the error is about, or NULL */
	int line, column;       /* 1-based position in file; 0 when unknown */
	int connect_phase;      /* nonzero when a permission error was at connect */
	struct df_cmd *cmds[DF_ERROR_CMDS]; /* suggested commands, cmds[0] first; owned */
	size_t nr_cmds;
} df_error;

/*
 * Set the last error; returns `code` so callers can write
 * `return df_error_set(DF_EIO, "cannot read '%s'", path);`.
 * Clears the hint and position of the previous error.
 */
int df_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add a hint (what to try next) to the last error. */
void df_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Suggest a command with the last error (takes ownership of `cmd`, which may
 * be NULL): the next DF_ERR_CMD(i) of its text.  Dropped when no error is
 * set or DF_ERROR_CMDS are already there.
 */
void df_error_suggest(struct df_cmd *cmd);
/* Attach a file position to the last error (line/column 1-based, 0: unknown). */
void df_error_pos(const char *file, int line, int column);
/* Prefix the last error's message: "context: message". */
void df_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last error, or NULL when none is set. */
const df_error *df_error_last(void);
void df_error_clear(void);
/*
 * Keep the last error while other work (an audit row, a rollback) may set
 * its own, then put it back: `df_error *e = df_error_save(); ...;
 * df_error_restore(e);` (restore frees it; NULL when there was none).
 */
df_error *df_error_save(void);
void df_error_restore(df_error *saved);
/* Drop a saved error without restoring it. */
void df_error_free(df_error *saved);
/* SPEC.md's name for a code: "sql_error", "lock_timeout", ... */
const char *df_error_kind(int code);
/* Out of memory: sets DF_EINTERNAL without allocating. */
int df_error_oom(void);

#endif
