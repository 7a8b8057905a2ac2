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
 * `len` stops before the terminator (';', the MySQL DELIMITER string, \g)
 * and excludes trailing white space and trailing comments, so the range
 * ends at the last byte of the statement's last token.  A statement made
 * only of comments and white space is never reported (MySQL's executable
 * comments, which open with slash-star-bang, count as SQL, not comments).
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
 * and grows it by appending.  Usage:
 *
 *     df_sql_scanner sc;
 *     df_sql_scanner_init(&sc, DF_DIALECT_POSTGRES);
 *     for (;;) {
 *         df_stmt st;
 *         int r = df_sql_scanner_next(&sc, &st, buf, len, eof);
 *         if (r < 0) error (df_error_last(); sc.error_offset is absolute)
 *         if (r == 0) { if (eof) break; read more: drop the first
 *                       df_sql_scanner_keep_from(&sc) - base bytes of buf,
 *                       base = that offset, df_sql_scanner_rebase(&sc, base),
 *                       append new data, continue; }
 *         r == 1: st is a statement; its bytes are
 *                 buf[st.offset - base .. + st.len)
 *     }
 *
 * `buf`/`len` passed to each call must describe the input from absolute
 * offset `base` (0 until the first df_sql_scanner_rebase()) up to what has
 * been read so far; pass `eof` once the last byte is in.  The statements
 * are the same however the input is chunked.  State survives across calls
 * and no byte is scanned twice (apart from at most a few bytes of
 * look-ahead, and one line of MySQL client-command look-ahead), so the
 * work is linear in the input; the window only has to hold the statement
 * in progress.  After an error every further call returns the same error.
 *
 * The fields are private (see src/sql/lexer.c).
 */
typedef struct df_sql_scanner {
	df_dialect dialect;
	uint64_t base;          /* absolute offset of buf[0] */
	uint64_t pos;           /* absolute offset scanned up to */
	uint64_t stmt_start;    /* first byte of the current statement, or UINT64_MAX */
	uint64_t last_sig_end;  /* end of the statement's last token */
	uint64_t tok_start;     /* start of the token in progress */
	uint64_t mark;          /* PG: outermost BEGIN; MySQL: end of the first word */
	uint64_t error_offset;  /* absolute offset of an error */
	int state;              /* lexer state (see src/sql/lexer.c) */
	int error;              /* the error code once state is the error state */
	unsigned int flags;
	unsigned int depth;     /* PG: nesting of block comments */
	unsigned int paren;     /* PG: parenthesis depth */
	unsigned int begin_depth; /* PG, MySQL: BEGIN ... END depth of a body */
	unsigned int ident_count; /* PG, MySQL: identifiers (MySQL: words) in the statement */
	unsigned char idents[4];  /* PG: initials of its first four identifiers */
	unsigned char qchar;    /* closing character of the quote in progress */
	int kw_state;           /* SQLite: complete.c state; PG: previous keyword */
	int first_cmd;          /* MySQL: client command named by the first word */
	int my_state;           /* MySQL: is the statement a routine, trigger or event */
	uint64_t my_case;       /* MySQL: which open blocks are CASE expressions (a bit each) */
	size_t tag_len;         /* PG: length of the $tag$ (at tok_start) */
	size_t match;           /* PG: bytes of the closing $tag$ matched so far */
	char delim[16];         /* MySQL DELIMITER (default ";") */
	size_t delim_len;
	unsigned char cls[256]; /* character classes (the delimiter changes them) */
	unsigned char idc[256]; /* identifier characters */
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
 * Split a whole buffer.  Appends to `out`.  On error returns DF_ESQL with the
 * message set, leaves `out` as it was and, if `err_offset` is not NULL,
 * stores the byte offset of the problem in *err_offset (the start of the
 * unterminated construct).  Errors: an unterminated quote, identifier,
 * comment, dollar quote, trigger body or BEGIN ... END function body; text
 * for the client rather than the server: a psql meta-command (\set ...) or
 * COPY ... FROM STDIN with inline data, a sqlite3 dot-command (.read ...),
 * a mysql client command (source, \. ...) or a bad DELIMITER line.
 */
int df_sql_split(df_stmt_list *out, df_dialect dialect,
	const char *sql, size_t len, size_t *err_offset);

/* 1-based line and column (in bytes) of `offset` in text[0..len). */
void df_sql_position(const char *text, size_t len, size_t offset,
	int *line, int *column);

/* What a statement is, from its first words (src/sql/stmt.c). */
/* The statement that cannot run inside a transaction ("CREATE INDEX
 * CONCURRENTLY", "VACUUM" ...), or NULL. */
const char *df__needs_no_tx(const char *sql, size_t len);
/* A migration's own transaction control: "BEGIN", "START TRANSACTION",
 * "COMMIT", "ROLLBACK"; NULL for any other statement. */
const char *df__tx_control(const char *sql, size_t len);
struct df_buf;
/* The statement's first line, cut at 60 bytes, for messages. */
void df__statement_excerpt(struct df_buf *b, const char *sql, size_t len);

#endif
