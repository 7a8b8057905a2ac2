#ifndef DF_SCHEMA_SANDBOX_INT_H
#define DF_SCHEMA_SANDBOX_INT_H

/*
 * Internals of the check of a file loaded into a scratch database, shared
 * by sandbox.c (the check and its refusals) and the classifiers of each
 * dialect: sandbox_pg.c (libpg_query's tree), sandbox_mysql.c and
 * sandbox_sqlite.c (the review's tokens).  The helpers the classifiers
 * share are static inline, so no classifier calls back into sandbox.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "devflow/strlist.h"
#include "review/review_int.h"

enum sb_verdict {
	SB_OK = 0,
	SB_DML,         /* data: allowed in the replay of migrations only */
	SB_SERVER,      /* acts on the server or cluster */
	SB_OUTSIDE,     /* reaches files, programs or other servers */
	SB_CODE,        /* runs code that cannot be checked beforehand */
	SB_OTHER_DB,    /* a name qualified with another database */
	SB_UNCHECKED,   /* not a statement the list knows */
	SB_UNPARSED,    /* PostgreSQL: libpg_query cannot parse it (a syntax error) */
};

struct sb_finding {
	enum sb_verdict v;
	bool allow_dml;         /* the replay of migrations: data is fine */
	char what[96];          /* the statement kind or the name found */
	size_t at;              /* SB_UNPARSED: byte offset of the error in the statement */
};

/* Found something that reaches outside (the checks stop there). */
static inline bool df__sb_severe(const struct sb_finding *f)
{
	return f->v != SB_OK && f->v != SB_DML && f->v != SB_UNCHECKED;
}

/* Record a finding; one that reaches outside replaces data or an unknown
 * kind found before it (its reason says more).  `fmt` has one %s, `arg`
 * (NULL: ""); the text is cut to fit (sandbox_finding.c). */
void df__sb_found(struct sb_finding *f, enum sb_verdict v, const char *fmt, const char *arg);

static inline bool df__sb_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		int y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* ---- tokens (review/lex.c) ----------------------------------------------------- */

/* Token i's text, unquoted and lower-cased, in out. */
static inline const char *df__sb_tok_word(const char *s, const rstmt *st, size_t i, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	if (i >= st->ntok || (st->tok[i].kind != RT_WORD && st->tok[i].kind != RT_QIDENT))
		return out;
	{
		const char *p = s + st->tok[i].off, *e = p + st->tok[i].len;
		if (st->tok[i].kind == RT_QIDENT && e - p >= 2)
			p++, e--;
		for (; p < e && o + 1 < size; p++)
			out[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	}
	out[o] = '\0';
	return out;
}

static inline bool df__sb_is_word(const rstmt *st, size_t i)
{
	return i < st->ntok && (st->tok[i].kind == RT_WORD || st->tok[i].kind == RT_QIDENT);
}

static inline bool df__sb_word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

/* ---- the classifiers of each dialect -------------------------------------- */

/* PostgreSQL: parse one statement (NUL-terminated) and classify it into
 * *f; 0, or an error when libpg_query cannot be loaded or memory runs out. */
int df__sandbox_pg_check(const char *stmt, struct sb_finding *f);
/* MySQL/MariaDB: the first statement the lexer sees in one of the runner's
 * (its kind, and what reaches outside), and the ones after it (only what
 * reaches outside); `dbs` lists the server's other databases. */
void df__sandbox_my_statement(const char *s, const rstmt *st, const df_strlist *dbs, struct sb_finding *f);
void df__sandbox_my_anywhere(const char *s, const rstmt *st, const df_strlist *dbs, struct sb_finding *f);
/* MariaDB: blank the markers of executable comments, in place. */
void df__sandbox_my_open_comments(char *s, size_t n);
/* SQLite: the first statement the lexer sees in one of the runner's. */
void df__sandbox_lite_statement(const char *s, const rstmt *st, struct sb_finding *f);

#endif
