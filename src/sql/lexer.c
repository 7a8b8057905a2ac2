/*
 * The statement scanner: a byte-at-a-time state machine that finds where
 * each SQL statement starts and ends, the way the engine's own client does
 * (sqlite3 shell + sqlite3_complete(), psql, the mariadb client).
 *
 * It is incremental: all state lives in df_sql_scanner, so the input may
 * arrive in chunks of any size and each byte is looked at once (apart from
 * a few bytes of look-ahead, re-examined when a chunk ends in the middle of
 * them, and MySQL's client-command lines, which are read twice).  The
 * bodies of functions and stored programs (psql's BEGIN ... END heuristic,
 * MariaDB's blocks) are followed word by word in lexer_body.c.
 *
 * States, and the bytes that leave them (PG = PostgreSQL, MY = MySQL):
 *
 *   NORMAL     between tokens
 *     space / newline     stay (newline: beginning of line)
 *     letter _ $ 0x80+    -> WORD              (PG: '$' -> DOLLAR_TAG)
 *     digit               -> WORD              (PG: -> NUMBER)
 *     ' " ` [             -> QUOTE             (PG: ` is an operator; [ SQLite only)
 *     --                  -> LINE_COMMENT      (MY: needs a space after, except
 *                                               at the start of a statement)
 *     #                   -> LINE_COMMENT      (MY; SQLite: first column of an
 *                                               empty statement, as the shell)
 *     / *                 -> BLOCK_COMMENT     (MY: not / *! and / *M!, which
 *                                               are SQL)
 *     ;                   end of statement     (PG: outside ( ) and BEGIN..END;
 *                                               SQLite: see the trigger table;
 *                                               MY: the DELIMITER string, \g)
 *     \                   PG: meta-command error; MY: \g \G end, \N is SQL,
 *                         others are client commands (error)
 *     .                   SQLite: dot-command error in the first column of an
 *                         empty statement
 *   WORD       identifier or keyword             non-identifier byte -> NORMAL
 *                         (PG: E' -> QUOTE with backslash escapes;
 *                          MY: a client command first on its line ->
 *                          MY_DELIMITER or MY_COMMAND)
 *   NUMBER     PG numeric literal                 -> NORMAL
 *   QUOTE      '...' "..." `...` [...]           closing char (not doubled) ->
 *                         NORMAL (PG E'...': -> QUOTE_CONT); backslash
 *                         escapes in MY '..' ".." and PG E'..'
 *   QUOTE_CONT PG: white space after E'...'      newline, blanks, -- comments,
 *                         then ' -> QUOTE (the literal continues); else NORMAL
 *   LINE_COMMENT                                  newline -> NORMAL (PG: \r too)
 *   BLOCK_COMMENT                                 * / -> NORMAL (PG nests / *)
 *   DOLLAR_TAG PG: reading $tag                   $ -> DOLLAR_BODY; other -> NORMAL
 *                         ('$' was an ordinary byte, the tag an identifier)
 *   DOLLAR_BODY PG: inside $tag$ ... $tag$        the same $tag$ -> NORMAL
 *   MY_DELIMITER the rest of a DELIMITER line    newline -> NORMAL
 *   MY_COMMAND  a line starting with a client command word: read to its end;
 *                         if it holds no delimiter it is a client command
 *
 * Statement-level state, updated per token:
 *
 *   SQLite (src/complete.c of SQLite, the same table):
 *
 *                  SEMI  WS  OTHER  EXPLAIN  CREATE  TEMP  TRIGGER  END
 *     1 START:       1    1     2       3       4      2      2      2
 *     2 NORMAL:      1    2     2       2       2      2      2      2
 *     3 EXPLAIN:     1    3     3       2       4      2      2      2
 *     4 CREATE:      1    4     2       2       2      4      5      2
 *     5 TRIGGER:     6    5     5       5       5      5      5      5
 *     6 SEMI:        6    6     5       5       5      5      5      7
 *     7 END:         1    7     5       5       5      5      5      5
 *
 *   A ';' that leads to START ends the statement.  So a trigger body ends
 *   only at "; END ;", and CASE ... END inside it does not end it.
 *
 *   PostgreSQL (psql's psqlscan.l): parenthesis depth; and when the first
 *   identifiers are CREATE [OR REPLACE] FUNCTION|PROCEDURE, outside
 *   parentheses BEGIN opens a body, CASE (inside a body) nests and END
 *   closes.  ';' ends the statement at depth 0 outside any body.
 *
 *   MySQL (the mariadb client's add_line()): the DELIMITER string ends the
 *   statement wherever it appears outside quotes and comments.  One
 *   addition, for files written without DELIMITER (a schema.sql the server
 *   takes when each statement is sent whole): while the delimiter is ';',
 *   in CREATE ... TRIGGER|PROCEDURE|FUNCTION|EVENT (or MariaDB's BEGIN NOT
 *   ATOMIC) a ';' inside the body's compound statements does not end it.
 *   BEGIN and CASE open a block anywhere; IF, LOOP, WHILE, REPEAT and FOR
 *   where a statement of the body starts (after BEGIN ; THEN ELSE DO, a
 *   label's ':', FOR EACH ROW); END closes one (END IF, END LOOP...: the
 *   word after END opens nothing).  Inside a CASE expression THEN and ELSE
 *   start no statement.
 */
#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "devflow/error.h"
#include "devflow/sql.h"
#include "sql/lexer_int.h"

#include "util/banned.h"

#define NONE UINT64_MAX

enum scan_state {
	S_NORMAL = 0,
	S_WORD,
	S_NUMBER,
	S_QUOTE,
	S_QUOTE_CONT,
	S_LINE_COMMENT,
	S_BLOCK_COMMENT,
	S_DOLLAR_TAG,
	S_DOLLAR_BODY,
	S_MY_DELIMITER,
	S_MY_COMMAND,
	S_DONE,
	S_ERROR,
};

/* Character classes in state NORMAL. */
enum char_class {
	C_OTHER = 0,
	C_SPACE,
	C_NEWLINE,
	C_IDENT,
	C_DIGIT,
	C_QUOTE,
	C_DQUOTE,
	C_BACKTICK,
	C_BRACKET,
	C_DASH,
	C_SLASH,
	C_HASH,
	C_DOT,
	C_DOLLAR,
	C_SEMI,
	C_LPAREN,
	C_RPAREN,
	C_BACKSLASH,
	C_DELIM,        /* MySQL: first byte of the DELIMITER string */
};

/* SQLite tokens of the complete.c table. */
enum sqlite_token {
	TK_SEMI = 0, TK_WS, TK_OTHER, TK_EXPLAIN, TK_CREATE, TK_TEMP,
	TK_TRIGGER, TK_END,
};

static const unsigned char sqlite_trans[8][8] = {
	/*             SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
	/* 0 INVALID */ { 1, 0, 2, 3, 4, 2, 2, 2 },
	/* 1 START   */ { 1, 1, 2, 3, 4, 2, 2, 2 },
	/* 2 NORMAL  */ { 1, 2, 2, 2, 2, 2, 2, 2 },
	/* 3 EXPLAIN */ { 1, 3, 3, 2, 4, 2, 2, 2 },
	/* 4 CREATE  */ { 1, 4, 2, 2, 2, 4, 5, 2 },
	/* 5 TRIGGER */ { 6, 5, 5, 5, 5, 5, 5, 5 },
	/* 6 SEMI    */ { 6, 6, 5, 5, 5, 5, 5, 7 },
	/* 7 END     */ { 1, 7, 5, 5, 5, 5, 5, 5 },
};
#define SQLITE_START 1

/*
 * The mariadb client's commands (client/mysql.cc commands[]): a statement
 * whose first word is one of these is run by the client, not sent.
 */
struct my_command {
	const char *name;
	int takes_params;
};

static const struct my_command my_commands[] = {
	{ NULL, 0 },
	{ "delimiter", 1 },     /* MY_CMD_DELIMITER */
	{ "use", 1 },           /* MY_CMD_USE: the server runs USE the same way */
	{ "charset", 1 },
	{ "clear", 0 },
	{ "connect", 1 },
	{ "edit", 0 },
	{ "ego", 0 },
	{ "exit", 0 },
	{ "go", 0 },
	{ "help", 1 },
	{ "nopager", 0 },
	{ "notee", 0 },
	{ "nowarning", 0 },
	{ "pager", 1 },
	{ "print", 0 },
	{ "prompt", 1 },
	{ "quit", 0 },
	{ "rehash", 0 },
	{ "source", 1 },
	{ "status", 0 },
	{ "system", 1 },
	{ "tee", 1 },
	{ "warnings", 0 },
};
#define MY_CMD_DELIMITER 1
#define MY_CMD_USE 2

static int pg_keyword(const unsigned char *w, size_t n)
{
	if (n < 2 || n > 9)
		return KW_NONE;
	switch (df__lex_lower(w[0])) {
	case 'b':
		return df__lex_word_is(w, n, "begin") ? PG_BEGIN : KW_NONE;
	case 'c':
		if (df__lex_word_is(w, n, "create"))
			return PG_CREATE;
		if (df__lex_word_is(w, n, "case"))
			return PG_CASE;
		return df__lex_word_is(w, n, "copy") ? PG_COPY : KW_NONE;
	case 'e':
		return df__lex_word_is(w, n, "end") ? PG_END : KW_NONE;
	case 'f':
		if (df__lex_word_is(w, n, "function"))
			return PG_FUNCTION;
		return df__lex_word_is(w, n, "from") ? PG_FROM : KW_NONE;
	case 'o':
		return df__lex_word_is(w, n, "or") ? PG_OR : KW_NONE;
	case 'p':
		return df__lex_word_is(w, n, "procedure") ? PG_PROCEDURE : KW_NONE;
	case 'r':
		return df__lex_word_is(w, n, "replace") ? PG_REPLACE : KW_NONE;
	case 's':
		return df__lex_word_is(w, n, "stdin") ? PG_STDIN : KW_NONE;
	}
	return KW_NONE;
}

static int sqlite_token(const unsigned char *w, size_t n)
{
	if (n < 3 || n > 9)
		return TK_OTHER;
	switch (df__lex_lower(w[0])) {
	case 'c':
		return df__lex_word_is(w, n, "create") ? TK_CREATE : TK_OTHER;
	case 'e':
		if (df__lex_word_is(w, n, "end"))
			return TK_END;
		return df__lex_word_is(w, n, "explain") ? TK_EXPLAIN : TK_OTHER;
	case 't':
		if (df__lex_word_is(w, n, "temp") || df__lex_word_is(w, n, "temporary"))
			return TK_TEMP;
		return df__lex_word_is(w, n, "trigger") ? TK_TRIGGER : TK_OTHER;
	}
	return TK_OTHER;
}

static int my_command(const unsigned char *w, size_t n)
{
	size_t i;

	if (n < 2 || n > 9)
		return 0;
	for (i = 1; i < sizeof(my_commands) / sizeof(my_commands[0]); i++)
		if (df__lex_word_is(w, n, my_commands[i].name))
			return (int)i;
	return 0;
}

static int is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		c >= 0x80;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* MySQL's my_isspace(): space, \t, \n, \v, \f, \r. */
static int my_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The class of `c` in state NORMAL, before any DELIMITER changes it. */
static int base_class(df_dialect d, int c)
{
	switch (c) {
	case ' ': case '\t': case '\r': case '\f':
		return C_SPACE;
	case '\v':
		/* PostgreSQL's lexer does not count \v as white space */
		return d == DF_DIALECT_POSTGRES ? C_OTHER : C_SPACE;
	case '\n':
		return C_NEWLINE;
	case '\'':
		return C_QUOTE;
	case '"':
		return C_DQUOTE;
	case '`':
		return d == DF_DIALECT_POSTGRES ? C_OTHER : C_BACKTICK;
	case '[':
		return d == DF_DIALECT_SQLITE ? C_BRACKET : C_OTHER;
	case '-':
		return C_DASH;
	case '/':
		return C_SLASH;
	case '#':
		return d == DF_DIALECT_POSTGRES ? C_OTHER : C_HASH;
	case '.':
		return d == DF_DIALECT_SQLITE ? C_DOT : C_OTHER;
	case '$':
		return d == DF_DIALECT_POSTGRES ? C_DOLLAR : C_IDENT;
	case ';':
		return d == DF_DIALECT_MYSQL ? C_OTHER : C_SEMI;
	case '(':
		return d == DF_DIALECT_POSTGRES ? C_LPAREN : C_OTHER;
	case ')':
		return d == DF_DIALECT_POSTGRES ? C_RPAREN : C_OTHER;
	case '\\':
		return d == DF_DIALECT_SQLITE ? C_OTHER : C_BACKSLASH;
	}
	if (is_digit(c))
		return d == DF_DIALECT_POSTGRES ? C_DIGIT : C_IDENT;
	if (is_ident_start(c))
		return C_IDENT;
	return C_OTHER;
}

/* Identifier characters: letters, digits, _, $ and bytes 0x80 and up. */
static int base_ident(int c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

/* PostgreSQL numbers (and their trailing junk) do not take '$'. */
static int pg_number_char(int c)
{
	return is_ident_start(c) || is_digit(c);
}

static void set_delimiter(df_sql_scanner *sc, const char *d, size_t n)
{
	unsigned char old = (unsigned char)sc->delim[0];

	assert(n > 0 && n < sizeof(sc->delim));
	if (sc->delim_len) {
		sc->cls[old] = (unsigned char)base_class(sc->dialect, old);
		sc->idc[old] = (unsigned char)base_ident(old);
	}
	memcpy(sc->delim, d, n);
	sc->delim[n] = '\0';
	sc->delim_len = n;
	sc->cls[(unsigned char)d[0]] = C_DELIM;
	sc->idc[(unsigned char)d[0]] = 0;
}

static void stmt_reset(df_sql_scanner *sc)
{
	sc->stmt_start = NONE;
	sc->last_sig_end = 0;
	sc->paren = 0;
	sc->begin_depth = 0;
	sc->ident_count = 0;
	sc->kw_state = sc->dialect == DF_DIALECT_SQLITE ? SQLITE_START : KW_NONE;
	sc->first_cmd = 0;
	sc->my_state = MY_NONE;
	sc->my_case = 0;
	sc->flags &= ~(unsigned int)STMT_FLAGS;
}

void df_sql_scanner_init(df_sql_scanner *sc, df_dialect dialect)
{
	int c;

	memset(sc, 0, sizeof(*sc));
	sc->dialect = dialect;
	sc->error_offset = NONE;
	sc->state = S_NORMAL;
	sc->flags = F_BOL | F_PREV_NL;
	for (c = 0; c < 256; c++) {
		sc->cls[c] = (unsigned char)base_class(dialect, c);
		sc->idc[c] = (unsigned char)base_ident(c);
	}
	if (dialect == DF_DIALECT_MYSQL)
		set_delimiter(sc, ";", 1);
	stmt_reset(sc);
}

uint64_t df_sql_scanner_keep_from(const df_sql_scanner *sc)
{
	if (sc->stmt_start != NONE && sc->stmt_start < sc->pos)
		return sc->stmt_start;
	return sc->pos;
}

void df_sql_scanner_rebase(df_sql_scanner *sc, uint64_t base)
{
	assert(base >= sc->base && base <= df_sql_scanner_keep_from(sc));
	sc->base = base;
}

/* Is p, in the window starting at b, the first byte of a line? */
static int at_col0(const df_sql_scanner *sc, const unsigned char *b,
	const unsigned char *p)
{
	uint64_t off = sc->base + (uint64_t)(p - b);

	if (off == 0 || (off == 3 && (sc->flags & F_BOM)))
		return 1;
	return p > b ? p[-1] == '\n' : (sc->flags & F_PREV_NL) != 0;
}

/* Stop with an error at absolute offset `off`; every later call repeats it. */
__attribute__((format(printf, 3, 4)))
static int fail(df_sql_scanner *sc, uint64_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sc->state = S_ERROR;
	sc->error = df_error_set(DF_ESQL, "%s", msg);
	sc->error_offset = off;
	return sc->error;
}

/* The printable form of a client command for messages: up to 32 bytes. */
static int command_len(const unsigned char *p, const unsigned char *e)
{
	const unsigned char *q = p + 1;

	if (q < e && !my_space(*q))
		q++;
	while (q < e && q - p < 32 && !my_space(*q) && *q != '\\')
		q++;
	return (int)(q - p);
}

/*
 * Checks made when a statement is complete.  0, or an error for text that
 * is meant for the client rather than the server.
 */
static int stmt_check(df_sql_scanner *sc)
{
	if (sc->flags & F_COPY_STDIN) {
		fail(sc, sc->stmt_start,
		     "inline COPY data is not SQL: COPY ... FROM STDIN needs psql");
		df_error_hint("load the rows with INSERT, or run this file with psql");
		return sc->error;
	}
	if (sc->dialect == DF_DIALECT_MYSQL && sc->first_cmd &&
	    sc->first_cmd != MY_CMD_USE) {
		const struct my_command *cmd = &my_commands[sc->first_cmd];
		int has_args = sc->last_sig_end > sc->mark;

		if (has_args ? ((sc->flags & F_FIRST_SP) && cmd->takes_params) :
		    (sc->flags & F_FIRST_OK) != 0) {
			fail(sc, sc->stmt_start,
			     "mysql client command '%s' is not SQL", cmd->name);
			if (sc->first_cmd == MY_CMD_DELIMITER)
				df_error_hint("put DELIMITER at the start of its own line");
			else
				df_error_hint("remove it from the migration");
			return sc->error;
		}
	}
	return 0;
}

/*
 * The MySQL DELIMITER line's argument is [s, end): parsed as the client's
 * get_arg() does (quotes allowed).  0 or an error.
 */
static int my_delimiter(df_sql_scanner *sc, const unsigned char *s,
	const unsigned char *end)
{
	char d[sizeof(sc->delim)];
	size_t n = 0;
	int quote = 0;

	while (s < end && my_space(*s))
		s++;
	if (s < end && (*s == '\'' || *s == '"' || *s == '`'))
		quote = *s++;
	for (; s < end; s++) {
		if (*s == '\\')
			return fail(sc, sc->stmt_start,
				    "delimiter cannot contain a backslash");
		if (quote && *s == quote) {
			if (s + 1 < end && s[1] == quote) {
				s++;
			} else {
				quote = 0;
				break;
			}
		} else if (!quote && my_space(*s)) {
			break;
		}
		if (n == sizeof(d) - 1)
			return fail(sc, sc->stmt_start,
				    "delimiter string is too long (%zu bytes at most)",
				    sizeof(d) - 1);
		d[n++] = (char)*s;
	}
	if (quote || n == 0)
		return fail(sc, sc->stmt_start,
			    "missing delimiter string after DELIMITER");
	set_delimiter(sc, d, n);
	return 0;
}

/* Does [s, e) contain [t, t + n)? */
static int contains(const unsigned char *s, const unsigned char *e,
	const char *t, size_t n)
{
	for (; (size_t)(e - s) >= n; s++)
		if (*s == (unsigned char)t[0] && !memcmp(s, t, n))
			return 1;
	return 0;
}

/*
 * Scan on from sc->pos through the window buf[0..len) (absolute offset
 * sc->base).  1: the next statement is in *out; 0: the window is used up
 * (more input needed, or with `eof` the end); <0: an error, also stored in
 * sc->error / sc->error_offset.  Only *out and the scanner are written.
 */
int df_sql_scanner_next(df_sql_scanner *sc, df_stmt *out,
	const char *buf, size_t len, bool eof)
{
	const unsigned char *const b = (const unsigned char *)buf;
	const unsigned char *const e = b + len;
	const df_dialect dialect = sc->dialect;
	const unsigned char *p, *q;
	size_t tlen = 0;
	int state = sc->state;
	int k, c;

#define OFF(ptr) (sc->base + (uint64_t)((ptr) - b))
#define AT(off) (b + ((off) - sc->base))
#define AVAIL ((size_t)(e - p))
#define NEED(n) do { if (AVAIL < (size_t)(n) && !eof) goto suspend; } while (0)
#define SIG_START(ptr) do { \
		if (sc->stmt_start == NONE) \
			sc->stmt_start = OFF(ptr); \
	} while (0)
#define SIG_END(ptr) (sc->last_sig_end = OFF(ptr))

	if (state == S_ERROR)
		return sc->error;
	if (state == S_DONE)
		return 0;
	assert(sc->pos >= sc->base && sc->pos - sc->base <= len);
	p = AT(sc->pos);

	if (!(sc->flags & F_STARTED)) {
		/* a UTF-8 byte order mark at the very start is white space */
		static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

		if (AVAIL < 3 && !eof && !memcmp(p, bom, AVAIL))
			return 0;
		sc->flags |= F_STARTED;
		if (AVAIL >= 3 && !memcmp(p, bom, 3)) {
			p += 3;
			sc->flags |= F_BOM;
		}
	}

	for (;;) {
		switch (state) {
		case S_NORMAL:
			while (p < e) {
				c = *p;
				k = sc->cls[c];
reclass:
				switch (k) {
				case C_SPACE:
					p++;
					continue;

				case C_NEWLINE:
					p++;
					sc->flags |= F_BOL;
					if (sc->flags & F_LINE_STMT) {
						p--;
						tlen = 1;
						goto terminate;
					}
					continue;

				case C_DIGIT:
					/* PostgreSQL only; elsewhere digits are C_IDENT */
					SIG_START(p);
					sc->flags &= ~(unsigned int)F_BOL;
					sc->kw_state = KW_NONE;
					sc->tok_start = OFF(p);
					p++;
					state = S_NUMBER;
					goto next_state;

				case C_IDENT:
					SIG_START(p);
					if (sc->flags & F_BOL)
						sc->flags |= F_WORD_BOL;
					else
						sc->flags &= ~(unsigned int)F_WORD_BOL;
					sc->flags &= ~(unsigned int)F_BOL;
					sc->tok_start = OFF(p);
					p++;
					state = S_WORD;
					goto next_state;

				case C_QUOTE:
					sc->qchar = '\'';
					goto quote;
				case C_DQUOTE:
					sc->qchar = '"';
					goto quote;
				case C_BACKTICK:
					sc->qchar = '`';
					goto quote;
				case C_BRACKET:
					sc->qchar = ']';
quote:
					if (dialect == DF_DIALECT_MYSQL && sc->qchar != '`')
						sc->flags |= F_QESC;
					else
						sc->flags &= ~(unsigned int)F_QESC;
					SIG_START(p);
					sc->flags &= ~(unsigned int)F_BOL;
					if (dialect == DF_DIALECT_SQLITE)
						sc->kw_state = sqlite_trans[sc->kw_state][TK_OTHER];
					else
						sc->kw_state = KW_NONE;
					if (dialect == DF_DIALECT_MYSQL) {
						if (sc->my_state == MY_NONE)
							sc->my_state = MY_OTHER;
						df__lex_my_other(sc, c);
					}
					sc->tok_start = OFF(p);
					p++;
					state = S_QUOTE;
					goto next_state;

				case C_DASH:
					NEED(2);
					if (AVAIL < 2 || p[1] != '-')
						goto other;
					if (dialect == DF_DIALECT_MYSQL &&
					    sc->stmt_start != NONE) {
						/* "--" needs a blank after it */
						NEED(3);
						if (AVAIL >= 3 && !my_space(p[2]))
							goto other;
					}
					sc->flags &= ~(unsigned int)F_BOL;
					p += 2;
					state = S_LINE_COMMENT;
					goto next_state;

				case C_SLASH:
					NEED(2);
					if (AVAIL < 2 || p[1] != '*')
						goto other;
					if (dialect == DF_DIALECT_MYSQL) {
						NEED(4);
						if ((AVAIL >= 3 && p[2] == '!') ||
						    (AVAIL >= 4 && p[2] == 'M' && p[3] == '!')) {
							/* executable comment: SQL */
							SIG_START(p);
							sc->flags &= ~(unsigned int)F_BOL;
							p += 2;
							SIG_END(p);
							continue;
						}
					}
					sc->flags &= ~(unsigned int)F_BOL;
					sc->tok_start = OFF(p);
					sc->depth = 0;
					p += 2;
					state = S_BLOCK_COMMENT;
					goto next_state;

				case C_HASH:
					/* SQLite: the shell skips '#' lines between statements */
					if (dialect == DF_DIALECT_SQLITE &&
					    (sc->stmt_start != NONE || !at_col0(sc, b, p)))
						goto other;
					sc->flags &= ~(unsigned int)F_BOL;
					p++;
					state = S_LINE_COMMENT;
					goto next_state;

				case C_DOT:
					/* SQLite: ".read x" in the first column, between statements */
					if (sc->stmt_start != NONE || !at_col0(sc, b, p))
						goto other;
					NEED(33);
					k = command_len(p, e);
					fail(sc, OFF(p), "sqlite3 dot-command '%.*s' is not SQL",
					     k, (const char *)p);
					df_error_hint("remove it from the migration");
					goto error;

				case C_DOLLAR:
					/* PostgreSQL: $tag$, or an ordinary '$' */
					SIG_START(p);
					sc->flags &= ~(unsigned int)F_BOL;
					sc->kw_state = KW_NONE;
					sc->tok_start = OFF(p);
					sc->tag_len = 1;
					p++;
					SIG_END(p);
					state = S_DOLLAR_TAG;
					goto next_state;

				case C_SEMI:
					if (dialect == DF_DIALECT_SQLITE) {
						int ns = sqlite_trans[sc->kw_state][TK_SEMI];

						if (ns == SQLITE_START) {
							tlen = 1;
							goto terminate;
						}
						sc->kw_state = ns;
						SIG_START(p);
						p++;
						SIG_END(p);
						continue;
					}
					if (sc->paren == 0 && sc->begin_depth == 0) {
						tlen = 1;
						goto terminate;
					}
					goto other;

				case C_DELIM:
					NEED(sc->delim_len);
					if (sc->begin_depth > 0 && sc->my_state == MY_ROUTINE &&
					    sc->delim_len == 1 && sc->delim[0] == ';') {
						/* inside a body: ends one of its statements */
						SIG_START(p);
						p++;
						SIG_END(p);
						sc->flags &= ~(unsigned int)(F_MY_AFTER_END | F_MY_EACH);
						sc->flags |= F_MY_SSTART;
						continue;
					}
					if (AVAIL >= sc->delim_len &&
					    !memcmp(p, sc->delim, sc->delim_len)) {
						tlen = sc->delim_len;
						goto terminate;
					}
					k = base_class(dialect, c);
					goto reclass;

				case C_LPAREN:
					if (sc->paren < UINT_MAX)
						sc->paren++;
					goto other;

				case C_RPAREN:
					if (sc->paren > 0)
						sc->paren--;
					goto other;

				case C_BACKSLASH:
					if (dialect == DF_DIALECT_POSTGRES) {
						NEED(33);
						k = command_len(p, e);
						fail(sc, OFF(p), "psql meta-command '%.*s' is not SQL",
						     k, (const char *)p);
						df_error_hint("run this file with psql, or remove the meta-command");
						goto error;
					}
					/* MySQL: \g ends a statement, \N is NULL */
					NEED(2);
					if (AVAIL >= 2 && p[1] == 'N') {
						SIG_START(p);
						sc->flags &= ~(unsigned int)F_BOL;
						p += 2;
						SIG_END(p);
						continue;
					}
					if (AVAIL >= 2 && (p[1] == 'g' || p[1] == 'G')) {
						tlen = 2;
						goto terminate;
					}
					k = AVAIL >= 2 && !my_space(p[1]) ? 2 : 1;
					fail(sc, OFF(p), "mysql client command '%.*s' is not SQL",
					     k, (const char *)p);
					df_error_hint("remove it from the migration");
					goto error;

				default:
other:
					SIG_START(p);
					sc->flags &= ~(unsigned int)F_BOL;
					if (dialect == DF_DIALECT_SQLITE)
						sc->kw_state = sqlite_trans[sc->kw_state][TK_OTHER];
					else if (dialect == DF_DIALECT_POSTGRES)
						sc->kw_state = KW_NONE;
					else
						df__lex_my_other(sc, c);
					p++;
					SIG_END(p);
					continue;
				}
			}
			if (!eof)
				goto suspend;
			goto at_eof;

		case S_WORD: {
			const unsigned char *w;
			size_t n;
			int next;

			while (p < e && sc->idc[*p])
				p++;
			if (p == e && !eof)
				goto suspend;
			w = AT(sc->tok_start);
			n = (size_t)(p - w);
			next = p < e ? *p : -1;
word_end:
			SIG_END(p);
			state = S_NORMAL;
			if (dialect == DF_DIALECT_SQLITE) {
				sc->kw_state = sqlite_trans[sc->kw_state][sqlite_token(w, n)];
			} else if (dialect == DF_DIALECT_POSTGRES) {
				if (n == 1 && next == '\'') {
					switch (*w) {
					case 'e': case 'E':
						/* E'...': backslash escapes */
						sc->qchar = '\'';
						sc->flags |= F_QESC;
						p++;
						state = S_QUOTE;
						goto next_state;
					case 'b': case 'B': case 'x': case 'X':
					case 'n': case 'N':
						/* B'...', X'...', N'...': not identifiers */
						sc->kw_state = KW_NONE;
						goto next_state;
					}
				}
				if (n == 1 && next == '&' && (*w == 'u' || *w == 'U')) {
					/* U&'...', U&"...": psql's lexer takes no identifier */
					sc->kw_state = KW_NONE;
					goto next_state;
				}
				df__lex_pg_identifier(sc, pg_keyword(w, n), OFF(w));
			} else if (OFF(w) == sc->stmt_start) {
				/* MySQL: a client command? */
				int cmd = my_command(w, n);

				df__lex_my_word(sc, w, n, OFF(w));
				if (!cmd)
					goto next_state;
				sc->first_cmd = cmd;
				sc->mark = OFF(p);
				if (next == ' ' || next == '\t')
					sc->flags |= F_FIRST_SP | F_FIRST_OK;
				else if (next < 0 || my_space(next) || next == '\\' ||
					 next == (unsigned char)sc->delim[0])
					sc->flags |= F_FIRST_OK;
				if ((sc->flags & F_WORD_BOL) &&
				    (next < 0 || my_space(next)))
					state = cmd == MY_CMD_DELIMITER ?
						S_MY_DELIMITER : S_MY_COMMAND;
			} else {
				df__lex_my_word(sc, w, n, OFF(w));
			}
			goto next_state;

		case S_DOLLAR_TAG:
			/* $ then [A-Za-z\200-\377_][A-Za-z\200-\377_0-9]* then $ */
			while (p < e && (sc->tag_len == 1 ? is_ident_start(*p) :
			       pg_number_char(*p))) {
				p++;
				sc->tag_len++;
			}
			if (p == e && !eof)
				goto suspend;
			if (p < e && *p == '$') {
				p++;
				sc->tag_len++;
				sc->match = 0;
				state = S_DOLLAR_BODY;
				goto next_state;
			}
			/* not a dollar quote: '$', then an identifier */
			state = S_NORMAL;
			if (sc->tag_len == 1)
				goto next_state;
			sc->tok_start++;
			w = AT(sc->tok_start);
			n = (size_t)(p - w);
			next = p < e ? *p : -1;
			goto word_end;
		}

		case S_NUMBER:
			while (p < e && pg_number_char(*p))
				p++;
			if (p == e && !eof)
				goto suspend;
			SIG_END(p);
			state = S_NORMAL;
			goto next_state;

		case S_QUOTE: {
			const int qc = sc->qchar;

			if (!(sc->flags & F_QESC)) {
				for (;;) {
					q = memchr(p, qc, AVAIL);
					if (!q) {
						p = e;
						if (!eof)
							goto suspend;
						goto unterminated_quote;
					}
					p = q;
					if (qc == ']')
						break;
					NEED(2);
					if (AVAIL < 2 || p[1] != qc)
						break;
					p += 2;
				}
				p++;
				SIG_END(p);
				state = S_NORMAL;
				goto next_state;
			}
			for (;;) {
				while (p < e && *p != qc && *p != '\\')
					p++;
				if (p == e) {
					if (!eof)
						goto suspend;
					goto unterminated_quote;
				}
				NEED(2);
				if (*p == '\\') {
					if (AVAIL < 2)
						goto unterminated_quote;
					p += 2;
					continue;
				}
				if (AVAIL < 2 || p[1] != qc)
					break;
				p += 2;
			}
			p++;
			SIG_END(p);
			if (dialect == DF_DIALECT_POSTGRES) {
				sc->flags &= ~(unsigned int)(F_QCONT_NL | F_QCONT_CMT);
				state = S_QUOTE_CONT;
			} else {
				state = S_NORMAL;
			}
			goto next_state;
unterminated_quote:
			if (qc == '\'' || (qc == '"' && dialect == DF_DIALECT_MYSQL))
				fail(sc, sc->tok_start, "unterminated quoted string");
			else
				fail(sc, sc->tok_start, "unterminated quoted identifier");
			goto error;
		}

		case S_QUOTE_CONT:
			/*
			 * PostgreSQL: 'a' <newline> 'b' is one literal, so after
			 * E'...' the escapes go on in the continuation.
			 */
			while (p < e) {
				c = *p;
				if (sc->flags & F_QCONT_CMT) {
					if (c == '\n' || c == '\r') {
						sc->flags &= ~(unsigned int)F_QCONT_CMT;
						sc->flags |= F_QCONT_NL;
					}
					p++;
					continue;
				}
				if (c == ' ' || c == '\t' || c == '\f') {
					p++;
				} else if (c == '\n' || c == '\r') {
					sc->flags |= F_QCONT_NL;
					p++;
				} else if (c == '-') {
					NEED(2);
					if (AVAIL < 2 || p[1] != '-')
						break;
					sc->flags |= F_QCONT_CMT;
					p += 2;
				} else if (c == '\'' && (sc->flags & F_QCONT_NL)) {
					p++;
					state = S_QUOTE;
					goto next_state;
				} else {
					break;
				}
			}
			if (p == e && !eof)
				goto suspend;
			state = S_NORMAL;
			goto next_state;

		case S_LINE_COMMENT:
			if (dialect == DF_DIALECT_POSTGRES) {
				while (p < e && *p != '\n' && *p != '\r')
					p++;
			} else {
				q = memchr(p, '\n', AVAIL);
				p = q ? q : e;
			}
			if (p == e && !eof)
				goto suspend;
			state = S_NORMAL;
			goto next_state;

		case S_BLOCK_COMMENT:
			for (;;) {
				if (dialect == DF_DIALECT_POSTGRES) {
					while (p < e && *p != '*' && *p != '/')
						p++;
				} else {
					q = memchr(p, '*', AVAIL);
					p = q ? q : e;
				}
				if (p == e) {
					if (!eof)
						goto suspend;
					fail(sc, sc->tok_start, "unterminated /* comment");
					goto error;
				}
				NEED(2);
				if (AVAIL >= 2 && p[0] == '*' && p[1] == '/') {
					p += 2;
					if (sc->depth == 0)
						break;
					sc->depth--;
				} else if (AVAIL >= 2 && p[0] == '/' && p[1] == '*') {
					/* PostgreSQL comments nest */
					p += 2;
					if (sc->depth < UINT_MAX)
						sc->depth++;
				} else {
					p++;
				}
			}
			state = S_NORMAL;
			goto next_state;

		case S_DOLLAR_BODY: {
			const unsigned char *tag = AT(sc->tok_start);
			const size_t tl = sc->tag_len;
			size_t m = sc->match;

			for (;;) {
				if (m == 0) {
					q = memchr(p, '$', AVAIL);
					if (!q) {
						p = e;
						break;
					}
					p = q + 1;
					m = 1;
					continue;
				}
				if (p == e)
					break;
				if (*p == tag[m]) {
					p++;
					if (++m == tl)
						break;
				} else if (*p == '$') {
					p++;
					m = 1;
				} else {
					p++;
					m = 0;
				}
			}
			if (m == tl) {
				SIG_END(p);
				state = S_NORMAL;
				goto next_state;
			}
			sc->match = m;
			if (!eof)
				goto suspend;
			fail(sc, sc->tok_start, "unterminated dollar-quoted string %.*s",
			     tl > 64 ? 64 : (int)tl, (const char *)tag);
			goto error;
		}

		case S_MY_DELIMITER:
		case S_MY_COMMAND: {
			/* read to the end of the line; the window keeps it */
			const unsigned char *eol;

			q = memchr(p, '\n', AVAIL);
			if (!q) {
				p = e;
				if (!eof)
					goto suspend;
				q = e;
			}
			p = q;
			eol = (q > b && q[-1] == '\r') ? q - 1 : q;
			if (state == S_MY_DELIMITER) {
				if (my_delimiter(sc, AT(sc->mark), eol) < 0)
					goto error;
				stmt_reset(sc);
				state = S_NORMAL;
				goto next_state;
			}
			/*
			 * The client takes the line as a command only if the
			 * delimiter and \g are not in it, and it has no
			 * arguments or the command takes some.
			 */
			q = AT(sc->mark);
			while (q < eol && my_space(*q))
				q++;
			state = S_NORMAL;
			if (contains(AT(sc->stmt_start), eol, sc->delim, sc->delim_len) ||
			    contains(AT(sc->stmt_start), eol, "\\g", 2) ||
			    (q < eol && !my_commands[sc->first_cmd].takes_params)) {
				p = AT(sc->mark);
				goto next_state;
			}
			if (sc->first_cmd == MY_CMD_USE) {
				/* USE db without a delimiter: the line is the statement */
				sc->flags |= F_LINE_STMT;
				p = AT(sc->mark);
				goto next_state;
			}
			fail(sc, sc->stmt_start, "mysql client command '%s' is not SQL",
			     my_commands[sc->first_cmd].name);
			df_error_hint("remove it from the migration");
			goto error;
		}

		default:
			assert(!"bad scanner state");
			return fail(sc, OFF(p), "internal error: bad scanner state");
		}
next_state:
		continue;

terminate:
		/* p is at a terminator of tlen bytes */
		if (sc->stmt_start == NONE) {
			p += tlen;
			stmt_reset(sc);
			state = S_NORMAL;
			continue;
		}
		if (stmt_check(sc) < 0)
			goto error;
		out->offset = sc->stmt_start;
		out->len = (size_t)(sc->last_sig_end - sc->stmt_start);
		p += tlen;
		stmt_reset(sc);
		sc->state = S_NORMAL;
		goto save;

at_eof:
		/* state NORMAL at the end of the input */
		if (sc->stmt_start == NONE) {
			sc->state = S_DONE;
			sc->pos = OFF(p);
			return 0;
		}
		if (dialect == DF_DIALECT_POSTGRES && sc->begin_depth > 0) {
			fail(sc, sc->mark, "unterminated BEGIN ... END function body");
			goto error;
		}
		if (dialect == DF_DIALECT_MYSQL && sc->begin_depth > 0) {
			fail(sc, sc->mark, "unterminated BEGIN ... END body (a block not closed by END)");
			df_error_hint("close each BEGIN, IF, CASE, LOOP, WHILE and REPEAT with its END, "
				"or put the body between DELIMITER lines");
			goto error;
		}
		if (dialect == DF_DIALECT_SQLITE &&
		    (sc->kw_state == 5 || sc->kw_state == 6)) {
			fail(sc, sc->stmt_start, "unterminated trigger body (missing 'END;')");
			goto error;
		}
		if (stmt_check(sc) < 0)
			goto error;
		out->offset = sc->stmt_start;
		out->len = (size_t)(sc->last_sig_end - sc->stmt_start);
		stmt_reset(sc);
		sc->state = S_DONE;
		goto save;
	}

save:
	sc->pos = OFF(p);
	if (p > b)
		sc->flags = (sc->flags & ~(unsigned int)F_PREV_NL) |
			(p[-1] == '\n' ? F_PREV_NL : 0);
	return 1;

suspend:
	sc->pos = OFF(p);
	sc->state = state;
	if (p > b)
		sc->flags = (sc->flags & ~(unsigned int)F_PREV_NL) |
			(p[-1] == '\n' ? F_PREV_NL : 0);
	return 0;

error:
	sc->pos = OFF(p);
	return sc->error;

#undef OFF
#undef AT
#undef AVAIL
#undef NEED
#undef SIG_START
#undef SIG_END
}
