#ifndef DEVFLOW_SQL_H
#define DEVFLOW_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * SQL statement splitting, the way each engine's own client splits:
 * quotes, identifiers, comments, dollar quotes, trigger bodies, DELIMITER.
 */
typedef enum df_dialect {
	DF_DIALECT_SQLITE = 0,
	DF_DIALECT_POSTGRES,
	DF_DIALECT_MYSQL,
} df_dialect;

/* "sqlite", "postgres", "mysql" <-> enum; parse returns -1 on unknown. */
const char *df_dialect_name(df_dialect d);
int df_dialect_parse(df_dialect *out, const char *name);

/*
 * One statement: bytes [offset, offset + len) of the input.  `offset` is the
 * first byte of the statement (leading white space and comments skipped);
 * `len` stops before the terminator (';' or the MySQL DELIMITER string) and
 * excludes trailing white space.  A statement made only of comments and
 * white space is never reported.
 */
typedef struct df_stmt {
	uint64_t offset;
	size_t len;
} df_stmt;

typedef struct df_stmt_list {
	df_stmt *v;
	size_t nr, alloc;
} df_stmt_list;
#define DF_STMT_LIST_INIT { NULL, 0, 0 }
void df_stmt_list_release(df_stmt_list *list);

/*
 * Incremental scanner, for files too large to hold in memory.  The caller
 * keeps a window `buf` of the input that starts at absolute offset `base`
 * (the scanner tells how much of the front it may drop) and grows it by
 * appending.  Usage:
 *
 *     df_sql_scanner sc;
 *     df_sql_scanner_init(&sc, DF_DIALECT_POSTGRES);
 *     for (;;) {
 *         df_stmt st;
 *         int r = df_sql_scanner_next(&sc, &st, buf, len, eof);
 *         if (r < 0) error (df_error_last(); sc.error_offset is absolute)
 *         if (r == 0) { if (eof) break; read more: drop the first
 *                       df_sql_scanner_keep_from(&sc) - base bytes of buf,
 *                       base = that offset, append new data, continue; }
 *         r == 1: st is a statement; its bytes are
 *                 buf[st.offset - base .. + st.len)
 *     }
 *
 * `buf`/`len` passed to each call must describe the input from absolute offset
 * df_sql_scanner_base(&sc) (the caller tells the scanner by calling
 * df_sql_scanner_rebase() after dropping bytes).  State survives across calls,
 * so the work is linear in the input however it is chunked.
 */
typedef struct df_sql_scanner {
	df_dialect dialect;
	uint64_t base;          /* absolute offset of buf[0] */
	uint64_t pos;           /* absolute offset scanned up to */
	uint64_t stmt_start;    /* absolute offset of the current statement, or UINT64_MAX */
	uint64_t error_offset;  /* absolute offset of an error */
	int state;              /* lexer state (see src/sql/split.c) */
	int depth;              /* nesting: block comments, BEGIN ... END */
	int flags;
	uint64_t last_sig_end;  /* end of the last significant byte of the statement */
	uint64_t tok_start;     /* start of the token in progress */
	char tag[64];           /* $tag$ of a dollar quote, or the MySQL DELIMITER */
	size_t tag_len;
	char delim[32];         /* MySQL DELIMITER (default ";") */
	size_t delim_len;
	int kw_state;           /* keyword tracker for CREATE TRIGGER / BEGIN ATOMIC */
	int paren;
	uint32_t kw_hash[4];    /* recent keywords */
} df_sql_scanner;

void df_sql_scanner_init(df_sql_scanner *sc, df_dialect dialect);
/* 1: a statement in *out; 0: need more input (or, with eof, done); <0: error. */
int df_sql_scanner_next(df_sql_scanner *sc, df_stmt *out,
	const char *buf, size_t len, bool eof);
/* The absolute offset before which the caller may drop bytes. */
uint64_t df_sql_scanner_keep_from(const df_sql_scanner *sc);
/* The caller dropped bytes: buf[0] is now absolute offset `base`. */
void df_sql_scanner_rebase(df_sql_scanner *sc, uint64_t base);

/*
 * Split a whole buffer.  Appends to `out`.  On error (unterminated quote,
 * comment, dollar quote or trigger body; a psql meta-command in PostgreSQL
 * input) returns DF_ESQL with the message set and, if `err_offset` is not
 * NULL, the byte offset of the problem in *err_offset.
 */
int df_sql_split(df_stmt_list *out, df_dialect dialect,
	const char *sql, size_t len, size_t *err_offset);

/* 1-based line and column (in bytes) of `offset` in text[0..len). */
void df_sql_position(const char *text, size_t len, size_t offset,
	int *line, int *column);

#endif
