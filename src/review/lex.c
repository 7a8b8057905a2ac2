/*
 * The review's tokenizer and statement splitter.
 *
 * One pass over the text yields statements and their tokens.  It splits as
 * the engines' own clients do, and never fails on bad SQL (an unterminated
 * quote or comment runs to the end of the text):
 *
 *   state            on                          does
 *   ---------------  --------------------------  ------------------------------
 *   between stmts    white space, comments       skip (keep "devflow:" comments)
 *                    '\' (PostgreSQL)            psql meta-command: skip the line
 *                    DELIMITER x (MySQL)         set the terminator to x
 *                    the terminator              empty statement: skip
 *   in a statement   ' " ` [ (per dialect)       quoted token, doubled quote
 *                                                escapes; backslash escapes in
 *                                                MySQL and E'' strings
 *                    $tag$ (PostgreSQL)          dollar quote up to $tag$
 *                    ( )                         depth (PostgreSQL splits only
 *                                                at depth 0, as psql does)
 *                    BEGIN / CASE ... END        nesting inside CREATE FUNCTION
 *                                                (PostgreSQL, as psql), CREATE
 *                                                TRIGGER (SQLite), routines
 *                                                (MySQL, END IF/LOOP/... aside)
 *                    '\' (PostgreSQL)            ends the statement (\g, \gset)
 *                    the terminator at depth 0   end of statement
 *   after COPY ... FROM STDIN;                   skip data lines up to "\."
 */
#include <stdlib.h>
#include <string.h>

#include "devflow/error.h"
#include "review/review_int.h"
#include "util/banned.h"

#define MAX_TOKENS ((size_t)1 << 22)

void df__rlex_init(rlex *lx, df_dialect d, const char *s, size_t len)
{
	memset(lx, 0, offsetof(rlex, small));
	lx->d = d;
	lx->s = s;
	lx->len = len;
	lx->tok = lx->small;
	lx->atok = RLEX_SMALL;
}

void df__rlex_release(rlex *lx)
{
	if (lx->tok != lx->small)
		free(lx->tok);
	free(lx->dir);
	df_stmt_list_release(&lx->pre);
	lx->pre_ok = false;
	lx->tok = lx->small;
	lx->atok = RLEX_SMALL;
	lx->dir = NULL;
	lx->ndir = lx->adir = 0;
}

static inline bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static inline bool is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static inline bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool word_eq(const char *p, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!w[i] || lower(p[i]) != w[i])
			return false;
	return w[i] == '\0';
}

static int push_directive(rlex *lx, size_t off, size_t len)
{
	if (lx->ndir == lx->adir) {
		size_t n = lx->adir ? lx->adir * 2 : 8;
		rdirective *v = realloc(lx->dir, n * sizeof(*v));

		if (!v)
			return df_error_oom();
		lx->dir = v;
		lx->adir = n;
	}
	lx->dir[lx->ndir].off = off;
	lx->dir[lx->ndir].len = len;
	lx->ndir++;
	return 0;
}

static void note_comment(rlex *lx, size_t a, size_t b)
{
	if (lx->want_directives && b - a >= 10 &&
	    memmem(lx->s + a, b - a, "devflow:", 8))
		push_directive(lx, a, b - a);   /* out of memory: lose the directive */
}

/* If a comment starts at p, return its end (else p). */
static size_t skip_comment(rlex *lx, size_t p)
{
	const char *s = lx->s;
	size_t n = lx->len, a = p;

	if (s[p] == '-' && p + 1 < n && s[p + 1] == '-') {
		/* MySQL needs white space (or a control character) after "--". */
		if (lx->d == DF_DIALECT_MYSQL && p + 2 < n &&
		    (unsigned char)s[p + 2] > ' ')
			return p;
		const char *nl = memchr(s + p, '\n', n - p);
		p = nl ? (size_t)(nl - s) : n;
		note_comment(lx, a, p);
		return p;
	}
	if (s[p] == '#' && lx->d == DF_DIALECT_MYSQL) {
		const char *nl = memchr(s + p, '\n', n - p);
		p = nl ? (size_t)(nl - s) : n;
		note_comment(lx, a, p);
		return p;
	}
	if (s[p] == '/' && p + 1 < n && s[p + 1] == '*') {
		int depth = 1;

		p += 2;
		while (p < n) {
			if (s[p] == '*' && p + 1 < n && s[p + 1] == '/') {
				p += 2;
				if (--depth == 0)
					break;
				continue;
			}
			if (lx->d == DF_DIALECT_POSTGRES && s[p] == '/' &&
			    p + 1 < n && s[p + 1] == '*') {
				depth++;
				p += 2;
				continue;
			}
			p++;
		}
		if (p > n)
			p = n;
		note_comment(lx, a, p);
		return p;
	}
	return p;
}

static size_t line_end(const char *s, size_t n, size_t p)
{
	const char *nl = memchr(s + p, '\n', n - p);

	return nl ? (size_t)(nl - s) + 1 : n;
}

/* A quoted token from the opening quote at p: returns the end. */
static size_t scan_quoted(const char *s, size_t n, size_t p, char q, bool backslash)
{
	p++;
	while (p < n) {
		char c = s[p];

		if (backslash && c == '\\') {
			p += 2;
			continue;
		}
		if (c == q) {
			if (p + 1 < n && s[p + 1] == q) {
				p += 2;
				continue;
			}
			return p + 1;
		}
		p++;
	}
	return n;
}

/* PostgreSQL: a dollar quote at p?  Returns its end, or 0 when not one. */
static size_t scan_dollar(const char *s, size_t n, size_t p)
{
	size_t t = p + 1, taglen;

	if (t < n && s[t] >= '0' && s[t] <= '9')
		return 0;
	while (t < n && s[t] != '$' && (is_ident_start((unsigned char)s[t]) ||
	       (s[t] >= '0' && s[t] <= '9')))
		t++;
	if (t >= n || s[t] != '$')
		return 0;
	taglen = t + 1 - p;     /* "$tag$" */
	for (size_t q = t + 1; q < n; q++) {
		const char *hit = memchr(s + q, '$', n - q);

		if (!hit)
			break;
		q = (size_t)(hit - s);
		if (q + taglen <= n && memcmp(s + q, s + p, taglen) == 0)
			return q + taglen;
	}
	return n;
}

static int push_tok(rlex *lx, size_t off, size_t len, int kind, char ch, int depth)
{
	rtok *t;

	if (lx->ntok == lx->atok) {
		size_t n;
		rtok *v;

		if (lx->atok >= MAX_TOKENS)
			return 0;       /* keep scanning, stop recording */
		n = lx->atok * 2;
		if (lx->tok == lx->small) {
			if (!(v = malloc(n * sizeof(*v))))
				return df_error_oom();
			memcpy(v, lx->small, sizeof(lx->small));
		} else if (!(v = realloc(lx->tok, n * sizeof(*v)))) {
			return df_error_oom();
		}
		lx->tok = v;
		lx->atok = n;
	}
	t = &lx->tok[lx->ntok++];
	t->off = off;
	t->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	t->depth = depth < 0 ? 0 : depth > UINT16_MAX ? UINT16_MAX : (uint16_t)depth;
	t->kind = (uint8_t)kind;
	t->ch = (uint8_t)ch;
	return 0;
}

/* Is the current statement a body with BEGIN ... END inside it? */
static bool is_routine(const rlex *lx)
{
	const rtok *t = lx->tok;
	size_t nt = lx->ntok;
	const char *s = lx->s;

#define W(i, w) ((i) < nt && t[i].kind == RT_WORD && word_eq(s + t[i].off, t[i].len, (w)))
	if (!W(0, "create"))
		return false;
	switch (lx->d) {
	case DF_DIALECT_POSTGRES:       /* psql's rule */
		return W(1, "function") || W(1, "procedure") ||
			(W(1, "or") && W(2, "replace") &&
			 (W(3, "function") || W(3, "procedure")));
	case DF_DIALECT_SQLITE:
		return W(1, "trigger") || W(2, "trigger");
	case DF_DIALECT_MYSQL:
		for (size_t i = 1; i < nt && i < 16; i++)
			if (W(i, "trigger") || W(i, "procedure") || W(i, "function") ||
			    W(i, "event"))
				return true;
		return false;
	}
#undef W
	return false;
}

/* MySQL: "DELIMITER x" at p?  Sets the delimiter and returns the line end. */
static size_t mysql_delimiter(rlex *lx, size_t p)
{
	const char *s = lx->s;
	size_t n = lx->len, e = line_end(s, n, p), a, b;

	if (p + 10 > n || !word_eq(s + p, 9, "delimiter") ||
	    (s[p + 9] != ' ' && s[p + 9] != '\t'))
		return p;
	a = p + 10;
	while (a < e && is_space((unsigned char)s[a]))
		a++;
	b = a;
	while (b < e && !is_space((unsigned char)s[b]))
		b++;
	if (b == a)
		return e;
	if (b - a == 1 && s[a] == ';') {
		lx->delim_len = 0;
	} else if (b - a < sizeof(lx->delim)) {
		memcpy(lx->delim, s + a, b - a);
		lx->delim_len = b - a;
	}
	return e;
}

/* Skip COPY ... FROM STDIN data: the rest of the line, then lines up to "\.". */
static size_t skip_copy_data(const char *s, size_t n, size_t p)
{
	p = line_end(s, n, p);
	while (p < n) {
		size_t e = line_end(s, n, p), l = e - p;

		while (l && (s[p + l - 1] == '\n' || s[p + l - 1] == '\r'))
			l--;
		if (l == 2 && s[p] == '\\' && s[p + 1] == '.')
			return e;
		p = e;
	}
	return n;
}

static bool is_copy_from_stdin(const rlex *lx)
{
	const rtok *t = lx->tok;
	const char *s = lx->s;

	if (lx->ntok < 3 || t[0].kind != RT_WORD || !word_eq(s + t[0].off, t[0].len, "copy"))
		return false;
	for (size_t i = 1; i + 1 < lx->ntok; i++)
		if (t[i].kind == RT_WORD && t[i].depth == 0 &&
		    word_eq(s + t[i].off, t[i].len, "from") &&
		    t[i + 1].kind == RT_WORD &&
		    word_eq(s + t[i + 1].off, t[i + 1].len, "stdin"))
			return true;
	return false;
}

/* Scan the gap [p, e) between two statements of the pre-split list for
 * directive comments. */
static void scan_gap(rlex *lx, size_t p, size_t e)
{
	while (p < e) {
		size_t q = skip_comment(lx, p);

		p = q != p ? q : p + 1;
	}
}

int df__rlex_presplit(rlex *lx)
{
	size_t err = 0;

	if (df_sql_split(&lx->pre, lx->d, lx->s, lx->len, &err) < 0) {
		df_stmt_list_release(&lx->pre);
		df_error_clear();
		return 0;
	}
	lx->pre_ok = true;
	return 1;
}

int df__rlex_next(rlex *lx, rstmt *st)
{
	const char *s = lx->s;
	size_t n = lx->len, p = lx->pos, start, last = 0;
	int depth = 0, bdepth = 0, routine = -1, error;
	bool pend_end = false, meta_end = false, whole = lx->pre_ok;
	bool pg = lx->d == DF_DIALECT_POSTGRES, my = lx->d == DF_DIALECT_MYSQL;

	lx->ntok = 0;
	if (whole) {
		const df_stmt *ps;

		if (lx->pre_i >= lx->pre.nr) {
			if (lx->want_directives)
				scan_gap(lx, p, n);
			lx->pos = n;
			return 0;
		}
		ps = &lx->pre.v[lx->pre_i++];
		if (ps->offset < p || ps->offset + ps->len > n)
			return 0;       /* cannot happen: the list is ordered */
		if (lx->want_directives)
			scan_gap(lx, p, (size_t)ps->offset);
		p = (size_t)ps->offset;
		n = p + ps->len;
		goto body;
	}
	if (lx->copy_data) {
		p = skip_copy_data(s, n, p);
		lx->copy_data = false;
	}
	for (;;) {
		size_t q;

		while (p < n && is_space((unsigned char)s[p]))
			p++;
		if (p >= n) {
			lx->pos = n;
			return 0;
		}
		if ((q = skip_comment(lx, p)) != p) {
			p = q;
			continue;
		}
		if (pg && s[p] == '\\') {
			lx->nmeta++;
			p = line_end(s, n, p);
			continue;
		}
		if (my && (s[p] == 'd' || s[p] == 'D') &&
		    (q = mysql_delimiter(lx, p)) != p) {
			p = q;
			continue;
		}
		if (lx->delim_len) {
			if (p + lx->delim_len <= n &&
			    memcmp(s + p, lx->delim, lx->delim_len) == 0) {
				p += lx->delim_len;
				continue;
			}
		} else if (s[p] == ';') {
			p++;
			continue;
		}
		break;
	}
body:
	start = p;
	while (p < n) {
		unsigned char c = (unsigned char)s[p];
		size_t q, a = p;
		int kind;

		if (is_space(c)) {
			p++;
			continue;
		}
		if (!whole && lx->delim_len && c == (unsigned char)lx->delim[0] &&
		    p + lx->delim_len <= n &&
		    memcmp(s + p, lx->delim, lx->delim_len) == 0) {
			p += lx->delim_len;
			goto done;
		}
		if ((q = skip_comment(lx, p)) != p) {
			p = q;
			continue;
		}
		if (c == ';' && !lx->delim_len && !whole) {
			if (pend_end) {
				pend_end = false;
				if (bdepth > 0)
					bdepth--;
			}
			if ((!pg || depth <= 0) && bdepth <= 0) {
				p++;
				goto done;
			}
		}
		if (pg && c == '\\' && !whole) {
			meta_end = true;        /* \g, \gset ...: the statement ends here */
			goto done;
		}

		if (is_ident_start(c)) {
			q = p + 1;
			while (q < n && is_ident_char((unsigned char)s[q]) &&
			       (s[q] != '$' || lx->d != DF_DIALECT_SQLITE))
				q++;
			/* E'...' (PostgreSQL escape string), B'', X'', N'' */
			if (q == p + 1 && q < n && s[q] == '\'' &&
			    strchr("EeBbXxNn", c)) {
				p = scan_quoted(s, n, q, '\'',
					my || (pg && (c == 'E' || c == 'e')));
				if ((error = push_tok(lx, a, p - a, RT_STRING, '\'', depth)) < 0)
					return error;
				last = p;
				continue;
			}
			if ((error = push_tok(lx, a, q - a, RT_WORD, 0, depth)) < 0)
				return error;
			last = p = q;
			if (pend_end) {
				const rtok *t = &lx->tok[lx->ntok - 1];

				pend_end = false;
				if (!(word_eq(s + t->off, t->len, "if") ||
				      word_eq(s + t->off, t->len, "loop") ||
				      word_eq(s + t->off, t->len, "while") ||
				      word_eq(s + t->off, t->len, "repeat")) && bdepth > 0)
					bdepth--;
			}
			if ((q - a == 5 && word_eq(s + a, 5, "begin")) ||
			    (q - a == 4 && word_eq(s + a, 4, "case"))) {
				if (routine < 0)
					routine = is_routine(lx);
				if (routine)
					bdepth++;
			} else if (q - a == 3 && word_eq(s + a, 3, "end")) {
				if (routine < 0)
					routine = is_routine(lx);
				if (routine) {
					if (my && !lx->delim_len)
						pend_end = true;
					else if (bdepth > 0)
						bdepth--;
				}
			}
			continue;
		}
		if (pend_end) {
			pend_end = false;
			if (bdepth > 0)
				bdepth--;
		}
		kind = RT_OP;
		switch (c) {
		case '\'':
			p = scan_quoted(s, n, p, '\'', my);
			kind = RT_STRING;
			break;
		case '"':
			p = scan_quoted(s, n, p, '"', my);
			kind = my ? RT_STRING : RT_QIDENT;
			break;
		case '`':
			if (lx->d == DF_DIALECT_POSTGRES) {
				p++;
				break;
			}
			p = scan_quoted(s, n, p, '`', false);
			kind = RT_QIDENT;
			break;
		case '[':
			if (lx->d == DF_DIALECT_SQLITE) {
				const char *e = memchr(s + p, ']', n - p);

				p = e ? (size_t)(e - s) + 1 : n;
				kind = RT_QIDENT;
			} else {
				p++;
			}
			break;
		case '$':
			if (pg && (q = scan_dollar(s, n, p)) != 0) {
				p = q;
				kind = RT_STRING;
				break;
			}
			p++;
			while (p < n && s[p] >= '0' && s[p] <= '9')
				p++;
			kind = p > a + 1 ? RT_PARAM : RT_OP;
			break;
		case '(':
			if ((error = push_tok(lx, a, 1, RT_OP, '(', depth)) < 0)
				return error;
			depth++;
			last = ++p;
			continue;
		case ')':
			if (depth > 0)
				depth--;
			p++;
			break;
		default:
			if ((c >= '0' && c <= '9') ||
			    (c == '.' && p + 1 < n && s[p + 1] >= '0' && s[p + 1] <= '9')) {
				p++;
				while (p < n) {
					unsigned char d = (unsigned char)s[p];

					if (is_ident_char(d) || d == '.') {
						p++;
					} else if ((d == '+' || d == '-') &&
						   (s[p - 1] == 'e' || s[p - 1] == 'E')) {
						p++;
					} else {
						break;
					}
				}
				kind = RT_NUMBER;
			} else {
				p++;
			}
			break;
		}
		if ((error = push_tok(lx, a, p - a, kind, kind == RT_OP ? (char)c :
		     kind == RT_NUMBER ? 0 : (char)c, depth)) < 0)
			return error;
		last = p;
	}
done:
	lx->pos = p;
	if (lx->ntok == 0 && last == 0)
		return p >= lx->len ? 0 : df__rlex_next(lx, st);
	st->off = start;
	st->len = (last > start ? last : start) - start;
	st->end = p;
	st->tok = lx->tok;
	st->ntok = lx->ntok;
	if (pg && !meta_end && !whole && is_copy_from_stdin(lx))
		lx->copy_data = true;
	return 1;
}
