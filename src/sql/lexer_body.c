/*
 * Where a function's or stored program's body ends, followed word by word
 * for the statement scanner (lexer.c): psql's BEGIN ... END heuristic on
 * PostgreSQL, the blocks of a trigger's, routine's or event's body on
 * MariaDB (BEGIN, CASE, IF, LOOP, WHILE, REPEAT, FOR ... END).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "devflow/sql.h"
#include "sql/lexer_int.h"
#include "util/banned.h"

void df__lex_pg_identifier(df_sql_scanner *sc, int kw, uint64_t off)
{
	static const unsigned char initial[] = {
		[PG_CREATE] = 'c', [PG_FUNCTION] = 'f', [PG_PROCEDURE] = 'p',
		[PG_OR] = 'o', [PG_REPLACE] = 'r',
	};
	const unsigned char *id = sc->idents;

	/* psql's heuristic, exactly: see psqlscan.l's {identifier} rule */
	if (sc->ident_count == 0)
		memset(sc->idents, 0, sizeof(sc->idents));
	if (kw >= PG_CREATE && kw <= PG_REPLACE && sc->ident_count < sizeof(sc->idents))
		sc->idents[sc->ident_count] = initial[kw];
	if (sc->ident_count < UINT_MAX)
		sc->ident_count++;
	if (id[0] == 'c' && (id[1] == 'f' || id[1] == 'p' ||
	    (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p'))) &&
	    sc->paren == 0) {
		if (kw == PG_BEGIN) {
			if (sc->begin_depth++ == 0)
				sc->mark = off;
		} else if (kw == PG_CASE) {
			if (sc->begin_depth >= 1)
				sc->begin_depth++;
		} else if (kw == PG_END) {
			if (sc->begin_depth > 0)
				sc->begin_depth--;
		}
	}

	/* COPY ... FROM STDIN: its data would follow inline, for psql */
	if (kw == PG_COPY && sc->ident_count == 1)
		sc->flags |= F_COPY;
	else if (kw == PG_STDIN && (sc->flags & F_COPY) &&
		 sc->kw_state == PG_FROM && sc->paren == 0)
		sc->flags |= F_COPY_STDIN;
	sc->kw_state = kw;
}

/* MySQL: the words that name what a CREATE makes, routines or not. */
static const char *const my_routine_words[] = {
	"trigger", "procedure", "function", "event",
};
static const char *const my_other_words[] = {
	"table", "view", "index", "unique", "fulltext", "spatial", "database",
	"schema", "user", "role", "server", "sequence", "tablespace",
	"temporary", "algorithm", "sql", "logfile", "package", "synonym",
};

static int word_in(const unsigned char *w, size_t n, const char *const *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (df__lex_word_is(w, n, list[i]))
			return 1;
	return 0;
}

#define MY_IN(w, n, list) word_in(w, n, list, sizeof(list) / sizeof(list[0]))

/* MySQL: open a block of a routine's body (`expr`: a CASE expression). */
static void my_open(df_sql_scanner *sc, int expr, uint64_t off)
{
	if (sc->begin_depth == 0)
		sc->mark = off;
	if (sc->begin_depth < 64)
		sc->my_case = expr ? sc->my_case | (UINT64_C(1) << sc->begin_depth) :
			sc->my_case & ~(UINT64_C(1) << sc->begin_depth);
	if (sc->begin_depth < UINT_MAX)
		sc->begin_depth++;
}

/* MySQL: is the innermost open block a CASE expression? */
static int my_in_case_expr(const df_sql_scanner *sc)
{
	unsigned int d = sc->begin_depth;

	return d > 0 && d <= 64 && (sc->my_case >> (d - 1)) & 1;
}

/* MySQL: one word of a statement, for the blocks of a routine's body. */
void df__lex_my_word(df_sql_scanner *sc, const unsigned char *w, size_t n, uint64_t off)
{
	unsigned int f = sc->flags;

	sc->flags &= ~(unsigned int)(F_MY_SSTART | F_MY_AFTER_END | F_MY_EACH | F_MY_DOT);
	if (sc->ident_count < UINT_MAX)
		sc->ident_count++;
	switch (sc->my_state) {
	case MY_NONE:
		sc->my_state = df__lex_word_is(w, n, "create") ? MY_CREATE :
			df__lex_word_is(w, n, "begin") ? MY_BEGIN : MY_OTHER;
		return;
	case MY_BEGIN:
		if (!df__lex_word_is(w, n, "not")) {
			sc->my_state = MY_OTHER;
			return;
		}
		sc->my_state = MY_ROUTINE;
		my_open(sc, 0, sc->stmt_start);
		return;
	case MY_CREATE:
		if (MY_IN(w, n, my_routine_words))
			sc->my_state = MY_ROUTINE;
		else if (MY_IN(w, n, my_other_words) || sc->ident_count > 12)
			sc->my_state = MY_OTHER;
		return;
	case MY_ROUTINE:
		break;
	default:
		return;
	}
	if (f & (F_MY_AFTER_END | F_MY_DOT))
		return;         /* END IF, END LOOP, END CASE, a label; NEW.end */
	if (df__lex_word_is(w, n, "begin")) {
		my_open(sc, 0, off);
		sc->flags |= F_MY_SSTART;
	} else if (df__lex_word_is(w, n, "atomic") && sc->ident_count == 3) {
		sc->flags |= F_MY_SSTART;       /* BEGIN NOT ATOMIC */
	} else if (df__lex_word_is(w, n, "case")) {
		my_open(sc, !(f & F_MY_SSTART), off);
	} else if ((f & F_MY_SSTART) && (df__lex_word_is(w, n, "loop") || df__lex_word_is(w, n, "repeat"))) {
		my_open(sc, 0, off);
		sc->flags |= F_MY_SSTART;
	} else if ((f & F_MY_SSTART) && (df__lex_word_is(w, n, "if") || df__lex_word_is(w, n, "while") ||
		   df__lex_word_is(w, n, "for"))) {
		my_open(sc, 0, off);
	} else if (df__lex_word_is(w, n, "end")) {
		if (sc->begin_depth > 0)
			sc->begin_depth--;
		sc->flags |= F_MY_AFTER_END;
	} else if (df__lex_word_is(w, n, "then") || df__lex_word_is(w, n, "else") || df__lex_word_is(w, n, "do")) {
		if (!my_in_case_expr(sc))
			sc->flags |= F_MY_SSTART;
	} else if (df__lex_word_is(w, n, "each")) {
		sc->flags |= F_MY_EACH;
	} else if ((f & F_MY_EACH) && df__lex_word_is(w, n, "row")) {
		sc->flags |= F_MY_SSTART;
	}
}

/* MySQL: a token other than a word: only a label's ':' starts a statement. */
void df__lex_my_other(df_sql_scanner *sc, int c)
{
	sc->flags &= ~(unsigned int)(F_MY_SSTART | F_MY_AFTER_END | F_MY_EACH | F_MY_DOT);
	if (c == ':' && sc->my_state == MY_ROUTINE)
		sc->flags |= F_MY_SSTART;
	else if (c == '.')
		sc->flags |= F_MY_DOT;
}
