/*
 * The PostgreSQL splitter against libpg_query's scanner-based splitter
 * (pg_query_split_with_scanner()), on PostgreSQL's own regression suite:
 * the .sql files of $DF_SHARED/corpus/pg_regress.
 *
 * The two do not split by the same definition, so the comparison is made
 * fair first:
 *
 *   - psql meta-commands (\d, \set ...) are not SQL: df_sql_split reports the
 *     first one as an error, and pg_query's scanner lexes them as tokens.
 *     The first such error of each file is checked against an independent
 *     reference (the first '\' token of pg_query_scan(), or the COPY of the
 *     first COPY ... FROM STDIN), then the meta-command is blanked out (from
 *     the backslash to the end of its line, replaced by spaces) in the input
 *     of both splitters, and so on until df_sql_split accepts the file.
 *   - COPY ... FROM STDIN with inline data is psql's: the statement and its
 *     data, through the "\." line, are blanked the same way.
 *   - Ranges: pg_query's stmt_location starts right after the previous ';'
 *     and stmt_len runs to the next ';', so its range is trimmed of leading
 *     and trailing white space and comments before comparing.
 *
 * Differences that remain are by definition, counted and listed, not
 * failures:
 *
 *   - psql (and so devflow) keeps CREATE FUNCTION|PROCEDURE ... BEGIN ATOMIC
 *     ... END as one statement; pg_query's scanner splits it at each ';'.
 *   - pg_query drops a "statement" that holds no keyword token (`foo;`);
 *     psql sends it, and so does devflow.
 *
 * Anything else is a mismatch and fails the test.  Every file is also split
 * incrementally, 7 bytes at a time, which must give the same statements.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "testutil.h"
#include "devflow/error.h"
#include "devflow/sql.h"

struct counts {
	unsigned files, statements, matched, mismatches;
	unsigned atomic, nokeyword, unbalanced, rejected;
	unsigned meta_blanked, copy_blanked;
	unsigned first_checked, first_skipped, first_wrong;
	unsigned chunked_wrong;
	unsigned pgq_failed;
	double df_seconds;
	size_t bytes;
};

/* PostgreSQL's lexer: skip white space and comments in [i, end). */
static size_t skip_space(const char *s, size_t i, size_t end)
{
	while (i < end) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			i++;
		} else if (c == '-' && i + 1 < end && s[i + 1] == '-') {
			while (i < end && s[i] != '\n' && s[i] != '\r')
				i++;
		} else if (c == '/' && i + 1 < end && s[i + 1] == '*') {
			int depth = 0;

			i += 2;
			while (i < end) {
				if (s[i] == '*' && i + 1 < end && s[i + 1] == '/') {
					i += 2;
					if (depth-- == 0)
						break;
				} else if (s[i] == '/' && i + 1 < end && s[i + 1] == '*') {
					i += 2;
					depth++;
				} else {
					i++;
				}
			}
		} else {
			break;
		}
	}
	return i;
}

/* Blank [from, to) with spaces, keeping newlines (and so line numbers). */
static void blank(char *s, size_t from, size_t to)
{
	for (; from < to; from++)
		if (s[from] != '\n')
			s[from] = ' ';
}

static size_t line_end(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '\n')
		i++;
	return i;
}

static int line_of(const char *s, size_t len, size_t off)
{
	int line, col;

	df_sql_position(s, len, off, &line, &col);
	return line;
}

/*
 * The reference line of the first psql-only construct, from pg_query's own
 * lexer: the first '\' token, or the COPY starting a statement that has
 * FROM STDIN.  0 when pg_query cannot lex the file.
 */
static int reference_line(const char *s, size_t len)
{
	PgQueryScanResult r = pg_query_scan(s);
	PgQuery__ScanResult *sr;
	size_t i, ref = SIZE_MAX;
	int at_start = 1, paren = 0;
	long copy_at = -1;
	int prev_from = 0;

	if (r.error) {
		pg_query_free_scan_result(r);
		return 0;
	}
	sr = pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
	for (i = 0; sr && i < sr->n_tokens; i++) {
		const PgQuery__ScanToken *t = sr->tokens[i];
		const char *text = s + t->start;
		size_t n = (size_t)(t->end - t->start);

		if (t->token == PG_QUERY__TOKEN__SQL_COMMENT ||
		    t->token == PG_QUERY__TOKEN__C_COMMENT)
			continue;
		if (*text == '\\') {
			ref = (size_t)t->start;
			break;
		}
		if (*text == ';' && n == 1 && paren == 0) {
			at_start = 1;
			copy_at = -1;
			continue;
		}
		if (*text == '(')
			paren++;
		else if (*text == ')' && paren > 0)
			paren--;
		if (at_start && n == 4 && !strncasecmp(text, "copy", 4))
			copy_at = t->start;
		else if (copy_at >= 0 && prev_from && paren == 0 && n == 5 &&
			 !strncasecmp(text, "stdin", 5)) {
			ref = (size_t)copy_at;
			break;
		}
		prev_from = n == 4 && !strncasecmp(text, "from", 4);
		at_start = 0;
	}
	if (sr)
		pg_query__scan_result__free_unpacked(sr, NULL);
	pg_query_free_scan_result(r);
	return ref == SIZE_MAX ? -1 : line_of(s, len, ref);
}

/*
 * pg_query's lexer on [from, to): does it hold a keyword token (*keywords),
 * and how many more '(' than ')' (*open)?  -1 when it cannot lex it.
 */
static int scan_info(const char *s, size_t from, size_t to, int *keywords, int *open)
{
	char *text = strndup(s + from, to - from);
	PgQueryScanResult r;
	PgQuery__ScanResult *sr;
	int ok = -1;
	size_t i;

	*keywords = *open = 0;
	if (!text)
		return -1;
	r = pg_query_scan(text);
	if (!r.error &&
	    (sr = pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data))) {
		ok = 0;
		for (i = 0; i < sr->n_tokens; i++) {
			const PgQuery__ScanToken *t = sr->tokens[i];

			if (t->keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD)
				*keywords = 1;
			if (t->end - t->start == 1 && text[t->start] == '(')
				(*open)++;
			if (t->end - t->start == 1 && text[t->start] == ')')
				(*open)--;
		}
		pg_query__scan_result__free_unpacked(sr, NULL);
	}
	pg_query_free_scan_result(r);
	free(text);
	return ok;
}

/* pg_query's error cursor (1-based, in characters) as a byte offset. */
static size_t cursor_offset(const char *s, size_t len, int cursor)
{
	size_t i = 0;

	while (i < len && cursor > 1) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cursor--;
	}
	return i;
}

static int contains_word(const char *s, size_t from, size_t to, const char *w)
{
	size_t n = strlen(w), i;

	for (i = from; i + n <= to; i++)
		if (!strncasecmp(s + i, w, n) &&
		    (i == from || !(s[i - 1] == '_' || (s[i - 1] | 0x20) >= 'a')) &&
		    (i + n == to || !((s[i + n] | 0x20) >= 'a' && (s[i + n] | 0x20) <= 'z')))
			return 1;
	return 0;
}

/* Split `s` 7 bytes at a time through a sliding window; 0 if == `whole`. */
static int chunked_differs(const char *s, size_t len, const df_stmt_list *whole)
{
	df_sql_scanner sc;
	size_t fed = 0, i = 0;
	uint64_t base = 0;
	df_stmt st;
	int r;

	df_sql_scanner_init(&sc, DF_DIALECT_POSTGRES);
	for (;;) {
		/* the window is s[base, fed): the scanner sees only that */
		r = df_sql_scanner_next(&sc, &st, s + base, fed - base, fed == len);
		if (r < 0)
			return 1;
		if (r == 1) {
			if (i >= whole->nr || whole->v[i].offset != st.offset ||
			    whole->v[i].len != st.len)
				return 1;
			i++;
			continue;
		}
		if (fed == len)
			break;
		base = df_sql_scanner_keep_from(&sc);
		df_sql_scanner_rebase(&sc, base);
		fed = fed + 7 < len ? fed + 7 : len;
	}
	return i != whole->nr;
}

static void report(const char *file, const char *s, size_t off, const char *fmt, ...)
{
	va_list ap;
	int line, col;

	df_sql_position(s, strlen(s), off, &line, &col);
	printf("  %s:%d:%d: ", file, line, col);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void compare_file(struct counts *c, const char *name, char *s, size_t len)
{
	df_stmt_list a = DF_STMT_LIST_INIT;
	PgQuerySplitResult pr;
	int first = 1, ref = 0;
	size_t i, j, err = 0;
	double t0;
	int r;

	ref = reference_line(s, len);
	for (;;) {
		a.nr = 0;
		t0 = df_test_now();
		r = df_sql_split(&a, DF_DIALECT_POSTGRES, s, len, &err);
		if (r == 0) {
			/* time the complete split only, not the retries */
			c->df_seconds += df_test_now() - t0;
			break;
		}
		const char *msg = df_error_last()->message;

		if (first) {
			first = 0;
			if (ref <= 0) {
				c->first_skipped++;
			} else if (line_of(s, len, err) == ref) {
				c->first_checked++;
			} else {
				c->first_wrong++;
				report(name, s, err, "first error '%s' is not on line %d", msg, ref);
			}
		}
		if (!strncmp(msg, "psql meta-command", 17)) {
			blank(s, err, line_end(s, len, err));
			c->meta_blanked++;
		} else if (!strncmp(msg, "inline COPY data", 16)) {
			/* the statement and its data, through the "\." line */
			size_t k = err, end = len;

			while ((k = line_end(s, len, k)) < len) {
				k++;
				if (s[k] == '\\' && k + 1 < len && s[k + 1] == '.') {
					end = line_end(s, len, k);
					break;
				}
			}
			blank(s, err, end);
			c->copy_blanked++;
		} else {
			report(name, s, err, "unexpected error: %s", msg);
			c->mismatches++;
			df_stmt_list_release(&a);
			return;
		}
	}
	if (first && ref > 0) {
		c->first_wrong++;
		printf("  %s: no error, but a psql construct on line %d\n", name, ref);
	}
	c->bytes += len;
	if (chunked_differs(s, len, &a)) {
		c->chunked_wrong++;
		printf("  %s: chunked split differs from the whole\n", name);
	}

	/*
	 * pg_query's lexer rejects some statements outright (trailing junk
	 * after a number, bad Unicode escapes): blank the statement it
	 * rejects in both inputs and go on.
	 */
	for (;;) {
		size_t at, k;

		pr = pg_query_split_with_scanner(s);
		if (!pr.error)
			break;
		at = cursor_offset(s, len, pr.error->cursorpos);
		for (k = 0; k < a.nr; k++)
			if (at >= a.v[k].offset && at <= a.v[k].offset + a.v[k].len)
				break;
		if (k == a.nr) {
			printf("  %s: pg_query cannot split it: %s\n", name, pr.error->message);
			c->pgq_failed++;
			pg_query_free_split_result(pr);
			df_stmt_list_release(&a);
			return;
		}
		report(name, s, (size_t)a.v[k].offset, "pg_query rejects the statement: %s",
		       pr.error->message);
		c->rejected++;
		blank(s, (size_t)a.v[k].offset, (size_t)(a.v[k].offset + a.v[k].len));
		memmove(&a.v[k], &a.v[k + 1], (a.nr - k - 1) * sizeof(a.v[0]));
		a.nr--;
		pg_query_free_split_result(pr);
	}
	c->statements += (unsigned)a.nr;
	for (i = 0, j = 0; i < a.nr || j < (size_t)pr.n_stmts;) {
		size_t as = i < a.nr ? (size_t)a.v[i].offset : len;
		size_t ae = i < a.nr ? as + a.v[i].len : len;
		size_t bl = j < (size_t)pr.n_stmts ? (size_t)pr.stmts[j]->stmt_location : len;
		size_t be = j < (size_t)pr.n_stmts ? bl + (size_t)pr.stmts[j]->stmt_len : len;
		size_t bs = skip_space(s, bl, be);
		size_t k;

		if (i < a.nr && j < (size_t)pr.n_stmts && as == bs) {
			if (ae <= be && skip_space(s, ae, be) == be) {
				c->matched++;
				i++, j++;
				continue;
			}
			/* ours is longer: a BEGIN ATOMIC body pg_query cut up? */
			for (k = j + 1; k < (size_t)pr.n_stmts; k++) {
				size_t kl = (size_t)pr.stmts[k]->stmt_location;
				size_t ke = kl + (size_t)pr.stmts[k]->stmt_len;

				if (ke >= ae)
					break;
			}
			if (k < (size_t)pr.n_stmts && contains_word(s, as, ae, "begin")) {
				size_t kl = (size_t)pr.stmts[k]->stmt_location;
				size_t ke = kl + (size_t)pr.stmts[k]->stmt_len;

				if (ae <= ke && skip_space(s, ae, ke) == ke) {
					c->atomic++;
					report(name, s, as, "BEGIN ATOMIC body: 1 statement, pg_query %zu",
					       k - j + 1);
					i++;
					j = k + 1;
					continue;
				}
			}
			report(name, s, as, "mismatch: devflow [%zu,%zu) pg_query [%zu,%zu)",
			       as, ae, bs, be);
			c->mismatches++;
			break;
		}
		if (i < a.nr && (j >= (size_t)pr.n_stmts || ae <= bl)) {
			int keywords, open;

			if (scan_info(s, as, ae, &keywords, &open) == 0 && !keywords) {
				/* pg_query drops a statement without keywords */
				c->nokeyword++;
				report(name, s, as, "no keyword: '%.*s' (pg_query drops it)",
				       (int)(ae - as > 40 ? 40 : ae - as), s + as);
				i++;
				continue;
			}
			if (i + 1 == a.nr && j >= (size_t)pr.n_stmts && open > 0 &&
			    skip_space(s, ae, len) == len) {
				/* pg_query drops the tail after an unclosed '(' */
				c->unbalanced++;
				report(name, s, as, "unclosed '(' up to the end: pg_query drops it");
				i++;
				continue;
			}
		}
		report(name, s, i < a.nr ? as : bs,
		       "mismatch: devflow [%zu,%zu) pg_query [%zu,%zu)", as, ae, bs, be);
		c->mismatches++;
		break;
	}
	pg_query_free_split_result(pr);
	df_stmt_list_release(&a);
}

static void test_pg_regress_split__matches_pg_query(void **state)
{
	const char *shared = getenv("DF_SHARED");
	struct counts c = { 0 };
	char dir[4096], path[4352];
	char **names;
	size_t n = 0, i;
	double t0 = df_test_now();

	(void)state;
	snprintf(dir, sizeof(dir), "%s/corpus/pg_regress", shared ? shared : "../shared");
	names = df_test_sql_files(dir, &n);

	for (i = 0; i < n; i++) {
		size_t len = 0;
		char *s;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		s = df_test_read(path, &len);
		assert_non_null(s);
		c.files++;
		compare_file(&c, names[i], s, len);
		free(s);
		free(names[i]);
	}
	free(names);

	printf("pg_regress: %u files, %u statements, %u equal to pg_query, %u mismatches\n",
	       c.files, c.statements, c.matched, c.mismatches);
	printf("  by definition: %u BEGIN ATOMIC bodies, %u statements without keywords, %u unclosed '(' at the end\n",
	       c.atomic, c.nokeyword, c.unbalanced);
	printf("  %u statements pg_query's lexer rejects (blanked for both)\n", c.rejected);
	printf("  blanked for both: %u psql meta-commands, %u COPY FROM STDIN blocks\n",
	       c.meta_blanked, c.copy_blanked);
	printf("  first psql construct: %u at the reference line, %u wrong, %u unchecked (pg_query cannot lex)\n",
	       c.first_checked, c.first_wrong, c.first_skipped);
	printf("  chunked (7 bytes) != whole: %u files; pg_query could not split: %u files\n",
	       c.chunked_wrong, c.pgq_failed);
	printf("  devflow split time: %.1f ms for %.1f MB (%.0f MB/s); whole test %.2f s\n",
	       c.df_seconds * 1e3, (double)c.bytes / 1e6,
	       (double)c.bytes / 1e6 / (c.df_seconds > 0 ? c.df_seconds : 1e-9),
	       df_test_now() - t0);
	assert_int_equal(c.files, 213);
	/* floors: a comparison that compares nothing must not pass */
	assert_true(c.statements >= 39000);
	assert_true(c.matched >= 39400);
	assert_true(c.first_checked >= 89);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(c.first_wrong, 0);
	assert_int_equal(c.chunked_wrong, 0);
	assert_int_equal(c.pgq_failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_regress_split__matches_pg_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
