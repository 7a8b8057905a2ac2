#ifndef DF_SQL_LEXER_INT_H
#define DF_SQL_LEXER_INT_H

/*
 * The statement scanner's internals, shared by lexer.c (the byte-at-a-time
 * state machine) and lexer_body.c (the words of a function's or stored
 * program's body, which decide where its statement ends).
 */
#include <stddef.h>
#include <stdint.h>

#include "devflow/sql.h"

enum scan_flags {
	F_STARTED = 1 << 0,     /* the byte order mark check is done */
	F_BOM = 1 << 1,         /* the input starts with a UTF-8 BOM */
	F_BOL = 1 << 2,         /* only white space since the last newline */
	F_PREV_NL = 1 << 3,     /* the last byte before pos is a newline */
	F_QESC = 1 << 4,        /* the quote in progress has backslash escapes */
	F_QCONT_NL = 1 << 5,    /* QUOTE_CONT: a newline was seen */
	F_QCONT_CMT = 1 << 6,   /* QUOTE_CONT: inside a -- comment */
	F_COPY = 1 << 7,        /* PG: the statement is a COPY */
	F_COPY_STDIN = 1 << 8,  /* PG: ... FROM STDIN */
	F_LINE_STMT = 1 << 9,   /* MY: the statement ends at the end of the line */
	F_WORD_BOL = 1 << 10,   /* the word in progress is first on its line */
	F_FIRST_OK = 1 << 11,   /* MY: the first word could name a client command */
	F_FIRST_SP = 1 << 12,   /* MY: ... and a blank follows it */
	F_MY_SSTART = 1 << 13,  /* MY: a statement of a routine's body may start here */
	F_MY_AFTER_END = 1 << 14, /* MY: the last word was END */
	F_MY_EACH = 1 << 15,    /* MY: the last word was EACH (FOR EACH ROW) */
	F_MY_DOT = 1 << 16,     /* MY: the last token was '.' (NEW.end is a name) */
};

#define STMT_FLAGS (F_COPY | F_COPY_STDIN | F_LINE_STMT | F_FIRST_OK | F_FIRST_SP | \
	F_MY_SSTART | F_MY_AFTER_END | F_MY_EACH | F_MY_DOT)

/* MySQL: what the statement is, as far as its body goes (sc->my_state). */
enum my_state {
	MY_NONE = 0,    /* no word yet */
	MY_CREATE,      /* CREATE, its kind not yet named */
	MY_BEGIN,       /* BEGIN first: BEGIN NOT ATOMIC, or a transaction */
	MY_ROUTINE,     /* a trigger, routine or event (or BEGIN NOT ATOMIC) */
	MY_OTHER,       /* anything else */
};

/* Keywords that matter to the splitter. */
enum keyword {
	KW_NONE = 0,
	/* PostgreSQL (psql's BEGIN ... END heuristic; COPY FROM STDIN) */
	PG_CREATE, PG_FUNCTION, PG_PROCEDURE, PG_OR, PG_REPLACE,
	PG_BEGIN, PG_CASE, PG_END, PG_COPY, PG_FROM, PG_STDIN,
};

static inline int df__lex_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Does the word [w, w + n) equal `kw` (lowercase ASCII), ignoring case? */
static inline int df__lex_word_is(const unsigned char *w, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!kw[i] || df__lex_lower(w[i]) != (unsigned char)kw[i])
			return 0;
	return kw[i] == '\0';
}

/* lexer_body.c */
/* PostgreSQL: one identifier or keyword `kw` of a statement (psql's BEGIN ...
 * END heuristic for function bodies; COPY ... FROM STDIN). */
void df__lex_pg_identifier(df_sql_scanner *sc, int kw, uint64_t off);
/* MySQL: one word of a statement, for the blocks of a routine's body. */
void df__lex_my_word(df_sql_scanner *sc, const unsigned char *w, size_t n, uint64_t off);
/* MySQL: a token other than a word: only a label's ':' starts a statement. */
void df__lex_my_other(df_sql_scanner *sc, int c);

#endif
