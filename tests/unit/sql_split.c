/*
 * The SQL statement splitter: src/sql/.
 *
 * Every split here is also run through the incremental scanner 1, 2, 3, 7
 * and 64 bytes at a time, with the window copied into a buffer of exactly
 * its size (so AddressSanitizer catches a read outside it), and must give
 * the same statements, or the same error at the same offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devflow/error.h"
#include "devflow/sql.h"

#define SQLITE DF_DIALECT_SQLITE
#define PG DF_DIALECT_POSTGRES
#define MY DF_DIALECT_MYSQL

/*
 * Split s[0..len) `chunk` bytes at a time through a sliding window, the way
 * a caller streaming a file does.  Returns what df_sql_split would.  The
 * largest window used is stored in *max_window.
 */
static int split_chunked(df_stmt_list *out, df_dialect d, const char *s,
	size_t len, size_t chunk, size_t *err_offset, size_t *max_window)
{
	df_sql_scanner sc;
	uint64_t base = 0;
	size_t fed = 0;
	df_stmt st;
	int r;

	*max_window = 0;
	df_sql_scanner_init(&sc, d);
	for (;;) {
		size_t n = fed - (size_t)base;
		char *win = malloc(n ? n : 1);

		assert_non_null(win);
		memcpy(win, s + base, n);
		r = df_sql_scanner_next(&sc, &st, win, n, fed == len);
		if (r == 1) {
			/* the statement's bytes are in the window */
			assert_true(st.offset >= base && st.offset + st.len <= fed);
			assert_memory_equal(win + (st.offset - base), s + st.offset, st.len);
		}
		free(win);
		if (n > *max_window)
			*max_window = n;
		if (r < 0) {
			*err_offset = (size_t)sc.error_offset;
			return r;
		}
		if (r == 1) {
			if (out->nr == out->alloc) {
				out->alloc = out->alloc ? 2 * out->alloc : 8;
				out->v = realloc(out->v, out->alloc * sizeof(*out->v));
				assert_non_null(out->v);
			}
			out->v[out->nr++] = st;
			continue;
		}
		if (fed == len)
			return 0;
		base = df_sql_scanner_keep_from(&sc);
		assert_true(base <= fed);
		df_sql_scanner_rebase(&sc, base);
		fed = fed + chunk < len ? fed + chunk : len;
	}
}

static const size_t chunks[] = { 1, 2, 3, 7, 64 };

/* Whole and chunked splits agree; returns the whole split's result. */
static int split_all(df_stmt_list *out, df_dialect d, const char *s, size_t len,
	size_t *err_offset, char *message, size_t message_size)
{
	size_t i, j, off = SIZE_MAX;
	int r;

	r = df_sql_split(out, d, s, len, &off);
	if (r < 0) {
		assert_int_equal(r, DF_ESQL);
		assert_int_equal(out->nr, 0);
		snprintf(message, message_size, "%s", df_error_last()->message);
		*err_offset = off;
	}
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		df_stmt_list l = DF_STMT_LIST_INIT;
		size_t coff = SIZE_MAX, maxw;
		int cr = split_chunked(&l, d, s, len, chunks[i], &coff, &maxw);

		if (cr != r)
			fail_msg("chunk %zu: returns %d, whole %d", chunks[i], cr, r);
		if (r < 0) {
			assert_int_equal(coff, off);
			assert_string_equal(df_error_last()->message, message);
		} else {
			assert_int_equal(l.nr, out->nr);
			for (j = 0; j < l.nr; j++) {
				assert_int_equal(l.v[j].offset, out->v[j].offset);
				assert_int_equal(l.v[j].len, out->v[j].len);
			}
		}
		df_stmt_list_release(&l);
	}
	return r;
}

/* The statements of `s` are exactly the strings `want` (NULL-terminated). */
static void check_split(int line, df_dialect d, const char *s, size_t len,
	const char *const *want)
{
	df_stmt_list l = DF_STMT_LIST_INIT;
	char msg[256];
	size_t off, i, n = 0;

	while (want[n])
		n++;
	if (split_all(&l, d, s, len, &off, msg, sizeof(msg)) < 0)
		fail_msg("line %d: error at %zu: %s", line, off, msg);
	for (i = 0; i < l.nr && i < n; i++) {
		if (l.v[i].len != strlen(want[i]) ||
		    memcmp(s + l.v[i].offset, want[i], l.v[i].len))
			fail_msg("line %d: statement %zu is '%.*s', not '%s'", line, i,
				 (int)l.v[i].len, s + l.v[i].offset, want[i]);
	}
	if (l.nr != n)
		fail_msg("line %d: %zu statements, not %zu", line, l.nr, n);
	df_stmt_list_release(&l);
}

#define SPLIT(d, s, ...) \
	check_split(__LINE__, d, s, sizeof(s) - 1, (const char *const[]){ __VA_ARGS__, NULL })
#define NONE_OF(d, s) \
	check_split(__LINE__, d, s, sizeof(s) - 1, (const char *const[]){ NULL })

/* Splitting `s` fails at offset `at` with a message starting with `msg`. */
static void check_error(int line, df_dialect d, const char *s, size_t len,
	size_t at, const char *want)
{
	df_stmt_list l = DF_STMT_LIST_INIT;
	char msg[256];
	size_t off = SIZE_MAX;

	if (split_all(&l, d, s, len, &off, msg, sizeof(msg)) == 0)
		fail_msg("line %d: no error (%zu statements)", line, l.nr);
	if (off != at || strncmp(msg, want, strlen(want)))
		fail_msg("line %d: error '%s' at %zu, not '%s' at %zu", line, msg, off,
			 want, at);
	df_stmt_list_release(&l);
}

#define ERROR_AT(d, s, at, msg) check_error(__LINE__, d, s, sizeof(s) - 1, at, msg)

static void test_sql_split__empty_input(void **state)
{
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		NONE_OF(d, "");
		NONE_OF(d, " \n\t\r\n  ");
		NONE_OF(d, ";");
		NONE_OF(d, " ; ;\n;;");
	}
}

static void test_sql_split__only_comments(void **state)
{
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		NONE_OF(d, "-- a comment");
		NONE_OF(d, "-- a\n/* b\n c */\n  -- d\n");
		NONE_OF(d, "/* x */ ; -- y\n ; /* z */");
	}
	NONE_OF(MY, "# hash comment\n#another");
	NONE_OF(SQLITE, "# a shell comment line\n");
}

static void test_sql_split__offsets_and_lengths(void **state)
{
	static const char s[] = "  SELECT 1 ;\n\n-- c\n  SELECT 2  -- tail\n";
	df_stmt_list l = DF_STMT_LIST_INIT;

	(void)state;
	assert_int_equal(df_sql_split(&l, PG, s, sizeof(s) - 1, NULL), 0);
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.v[0].offset, 2);
	assert_int_equal(l.v[0].len, 8);
	assert_int_equal(l.v[1].offset, 21);
	assert_int_equal(l.v[1].len, 8);
	/* appends */
	assert_int_equal(df_sql_split(&l, SQLITE, "x;y", 3, NULL), 0);
	assert_int_equal(l.nr, 4);
	assert_int_equal(l.v[3].offset, 2);
	df_stmt_list_release(&l);
	assert_null(l.v);
	assert_int_equal(l.nr, 0);
}

static void test_sql_split__trailing_comments_and_space(void **state)
{
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "select 1 /* x */ ;select 2\t-- y\n;", "select 1", "select 2");
		SPLIT(d, "/* lead */ select /* mid */ 3 \n\n", "select /* mid */ 3");
		SPLIT(d, "select 4", "select 4");
	}
}

static void test_sql_split__crlf(void **state)
{
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "SELECT 1;\r\nSELECT 2\r\n;\r\n-- c\r\nSELECT 3\r\n",
		      "SELECT 1", "SELECT 2", "SELECT 3");
		SPLIT(d, "SELECT 'a\r\nb';\r\n", "SELECT 'a\r\nb'");
	}
	SPLIT(MY, "DELIMITER //\r\nSELECT 1//\r\nDELIMITER ;\r\nSELECT 2;\r\n",
	      "SELECT 1", "SELECT 2");
	SPLIT(PG, "select 1 -- c\rselect 2;", "select 1 -- c\rselect 2");
}

static void test_sql_split__bom(void **state)
{
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "\xEF\xBB\xBFSELECT 1;", "SELECT 1");
		NONE_OF(d, "\xEF\xBB\xBF");
		NONE_OF(d, "\xEF\xBB\xBF -- only\n");
		/* only at the start; elsewhere they are ordinary bytes */
		SPLIT(d, "SELECT 1;\xEF\xBB\xBF", "SELECT 1", "\xEF\xBB\xBF");
	}
	SPLIT(MY, "\xEF\xBB\xBF" "DELIMITER $$\nSELECT 1$$", "SELECT 1");
	ERROR_AT(SQLITE, "\xEF\xBB\xBF.read x", 3, "sqlite3 dot-command '.read'");
}

static void test_sql_split__nul_bytes(void **state)
{
	/* NUL bytes are ordinary bytes, in and out of quotes */
	static const char s[] = "SELECT '\0;';\0SELECT\0 2;\0";
	df_dialect d;

	(void)state;
	for (d = SQLITE; d <= MY; d++) {
		df_stmt_list l = DF_STMT_LIST_INIT;
		char msg[256];
		size_t off;

		assert_int_equal(split_all(&l, d, s, sizeof(s) - 1, &off, msg, sizeof(msg)), 0);
		assert_int_equal(l.nr, 3);
		assert_int_equal(l.v[0].offset, 0);
		assert_int_equal(l.v[0].len, 11);
		assert_int_equal(l.v[1].offset, 12);
		assert_int_equal(l.v[1].len, 10);
		assert_int_equal(l.v[2].offset, 23);
		assert_int_equal(l.v[2].len, 1);
		df_stmt_list_release(&l);
		ERROR_AT(d, "SELECT '\0", 7, "unterminated quoted string");
	}
}

static void test_sql_split__sqlite_quotes(void **state)
{
	(void)state;
	SPLIT(SQLITE, "INSERT INTO t VALUES ('a;b', 'it''s;');SELECT 2",
	      "INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT 2");
	SPLIT(SQLITE, "SELECT \"a;\"\"b\", `c;``d`, [e;f] FROM x; SELECT 3",
	      "SELECT \"a;\"\"b\", `c;``d`, [e;f] FROM x", "SELECT 3");
	SPLIT(SQLITE, "SELECT [a]]; SELECT 4", "SELECT [a]]", "SELECT 4");
	SPLIT(SQLITE, "SELECT 'a\\'; SELECT 'b'", "SELECT 'a\\'", "SELECT 'b'");
	ERROR_AT(SQLITE, "SELECT 1; SELECT 'abc", 17, "unterminated quoted string");
	ERROR_AT(SQLITE, "SELECT [abc", 7, "unterminated quoted identifier");
	ERROR_AT(SQLITE, "SELECT `abc", 7, "unterminated quoted identifier");
	ERROR_AT(SQLITE, "SELECT \"abc", 7, "unterminated quoted identifier");
}

static void test_sql_split__sqlite_comments(void **state)
{
	(void)state;
	SPLIT(SQLITE, "SELECT 1 -- ;\n, 2; /* ; */ SELECT 3",
	      "SELECT 1 -- ;\n, 2", "SELECT 3");
	/* not nested */
	SPLIT(SQLITE, "/* /* */ SELECT 1; */", "SELECT 1", "*/");
	ERROR_AT(SQLITE, "SELECT 1; /* open", 10, "unterminated /* comment");
	/* '#' lines between statements are the shell's comments */
	SPLIT(SQLITE, "# note\nSELECT 1;\n#x\n", "SELECT 1");
	SPLIT(SQLITE, "SELECT 1\n# not a comment here\n;", "SELECT 1\n# not a comment here");
}

static void test_sql_split__sqlite_trigger(void **state)
{
	(void)state;
	SPLIT(SQLITE,
	      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
	      "  UPDATE u SET a = CASE WHEN new.x THEN 1 ELSE 2 END;\n"
	      "  INSERT INTO log VALUES ('end;');\n"
	      "END;\nSELECT 1;",
	      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
	      "  UPDATE u SET a = CASE WHEN new.x THEN 1 ELSE 2 END;\n"
	      "  INSERT INTO log VALUES ('end;');\n"
	      "END", "SELECT 1");
	SPLIT(SQLITE,
	      "create temp trigger if not exists tr before delete on t begin select 1; end ; x",
	      "create temp trigger if not exists tr before delete on t begin select 1; end", "x");
	SPLIT(SQLITE,
	      "CREATE TEMPORARY TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; END",
	      "CREATE TEMPORARY TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; END");
	SPLIT(SQLITE,
	      "EXPLAIN CREATE TRIGGER tr AFTER UPDATE ON t BEGIN SELECT 1; END; SELECT 2",
	      "EXPLAIN CREATE TRIGGER tr AFTER UPDATE ON t BEGIN SELECT 1; END", "SELECT 2");
	/* END must follow a ';' to end the body; comments do not matter */
	SPLIT(SQLITE,
	      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; /* c */ END /* d */ ; SELECT 2",
	      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; /* c */ END", "SELECT 2");
	/* not triggers */
	SPLIT(SQLITE, "CREATE TABLE trigger(x); SELECT 1", "CREATE TABLE trigger(x)", "SELECT 1");
	SPLIT(SQLITE, "CREATE VIEW v AS SELECT 1; END; SELECT 2", "CREATE VIEW v AS SELECT 1",
	      "END", "SELECT 2");
	ERROR_AT(SQLITE, "SELECT 0;\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; ",
		 10, "unterminated trigger body");
	ERROR_AT(SQLITE, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1",
		 0, "unterminated trigger body");
}

static void test_sql_split__sqlite_dot_command(void **state)
{
	(void)state;
	ERROR_AT(SQLITE, "SELECT 1;\n.read other.sql\nSELECT 2;", 10,
		 "sqlite3 dot-command '.read' is not SQL");
	ERROR_AT(SQLITE, ".mode csv", 0, "sqlite3 dot-command '.mode'");
	/* only in the first column, between statements */
	SPLIT(SQLITE, "SELECT 1\n.5;", "SELECT 1\n.5");
	SPLIT(SQLITE, " .x;", ".x");
}

static void test_sql_split__pg_quotes(void **state)
{
	(void)state;
	SPLIT(PG, "select 'a;b', 'it''s;', \"x;\"\"y\" from t; select 2",
	      "select 'a;b', 'it''s;', \"x;\"\"y\" from t", "select 2");
	/* standard strings: a backslash is an ordinary character */
	SPLIT(PG, "select 'a\\'; select 2", "select 'a\\'", "select 2");
	/* E'' strings: backslash escapes */
	SPLIT(PG, "select E'a\\';b', e'\\\\'; select 2",
	      "select E'a\\';b', e'\\\\'", "select 2");
	/* ...but only as a whole token: xe'...' is an identifier and a string */
	SPLIT(PG, "select xe'a\\'; select 2", "select xe'a\\'", "select 2");
	/* a continued E'' literal keeps its escapes */
	SPLIT(PG, "select E'a'\n  -- c\n'\\';' ; x", "select E'a'\n  -- c\n'\\';'", "x");
	SPLIT(PG, "select E'a' 'b\\'; x", "select E'a' 'b\\'", "x");
	SPLIT(PG, "select U&'d\\0061t\\+000061', U&\"a;\", B'01', X'1F', N'x;'; y",
	      "select U&'d\\0061t\\+000061', U&\"a;\", B'01', X'1F', N'x;'", "y");
	ERROR_AT(PG, "select 1; select 'abc", 17, "unterminated quoted string");
	ERROR_AT(PG, "select E'abc\\'", 7, "unterminated quoted string");
	ERROR_AT(PG, "select \"abc", 7, "unterminated quoted identifier");
	/* ` and [ are operators */
	SPLIT(PG, "select `a; b]", "select `a", "b]");
}

static void test_sql_split__pg_dollar_quote(void **state)
{
	(void)state;
	SPLIT(PG,
	      "create function f() returns int as $$ begin return 1; end; $$ language plpgsql;"
	      "select $body$ $$ ; $b$ $body$, $_1$;$_1$;",
	      "create function f() returns int as $$ begin return 1; end; $$ language plpgsql",
	      "select $body$ $$ ; $b$ $body$, $_1$;$_1$");
	/* $junk$delim$: the closing tag may start inside a failed one */
	SPLIT(PG, "select $a$ $ab$ $$a$a$; x", "select $a$ $ab$ $$a$a$", "x");
	/* tags are case-sensitive */
	SPLIT(PG, "select $A$ $a$ ; $A$; x", "select $A$ $a$ ; $A$", "x");
	/* not dollar quotes: parameters, identifiers with $, a lone $ */
	SPLIT(PG, "select $1, a$$b, c$d$ ; select $2; select $x ; y",
	      "select $1, a$$b, c$d$", "select $2", "select $x", "y");
	SPLIT(PG, "select $1$$x;$$; z", "select $1$$x;$$", "z");
	ERROR_AT(PG, "select 1; select $fn$ body; ", 17,
		 "unterminated dollar-quoted string $fn$");
	ERROR_AT(PG, "select $$", 7, "unterminated dollar-quoted string $$");
}

static void test_sql_split__pg_comments(void **state)
{
	(void)state;
	SPLIT(PG, "/* a /* b; */ c; */ select 1; -- ;\nselect 2", "select 1", "select 2");
	SPLIT(PG, "select 1 +/* c; */ 2; select 3 --x;\n", "select 1 +/* c; */ 2", "select 3");
	SPLIT(PG, "select 1 */* x */ 2; y", "select 1 */* x */ 2", "y");
	SPLIT(PG, "select 1 /*/ x */ ; y", "select 1", "y");
	ERROR_AT(PG, "select 1; /* a /* b */ c", 10, "unterminated /* comment");
}

static void test_sql_split__pg_parentheses(void **state)
{
	(void)state;
	SPLIT(PG, "create rule r as on insert to t do also (select 1; select 2); select 3",
	      "create rule r as on insert to t do also (select 1; select 2)", "select 3");
	/* psql never lets the depth go below 0 */
	SPLIT(PG, "select 1); select (2; 3); x", "select 1)", "select (2; 3)", "x");
	SPLIT(PG, "select ')(' ; x", "select ')('", "x");
}

static void test_sql_split__pg_begin_atomic(void **state)
{
	(void)state;
	SPLIT(PG,
	      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
	      "BEGIN ATOMIC\n"
	      "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
	      "  SELECT a;\n"
	      "END;\nSELECT f(1);",
	      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
	      "BEGIN ATOMIC\n"
	      "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
	      "  SELECT a;\n"
	      "END", "SELECT f(1)");
	SPLIT(PG,
	      "create or replace procedure p() begin atomic insert into t values (1); end; x",
	      "create or replace procedure p() begin atomic insert into t values (1); end", "x");
	/* not function bodies */
	SPLIT(PG, "begin; select case when true then 1 end; end; commit",
	      "begin", "select case when true then 1 end", "end", "commit");
	SPLIT(PG, "create table begin_x (a int); create or replace view v as select 1; x",
	      "create table begin_x (a int)", "create or replace view v as select 1", "x");
	SPLIT(PG, "create function f() returns int as $$begin return 1; end$$ language plpgsql; x",
	      "create function f() returns int as $$begin return 1; end$$ language plpgsql", "x");
	ERROR_AT(PG, "create procedure p() begin atomic select 1; ", 21,
		 "unterminated BEGIN ... END function body");
}

static void test_sql_split__pg_meta_command(void **state)
{
	static const char s[] = "select 1;\n\\set x 10\nselect :x;";
	df_stmt_list l = DF_STMT_LIST_INIT;
	size_t off = 0;
	int line, col;

	(void)state;
	assert_int_equal(df_sql_split(&l, PG, s, sizeof(s) - 1, &off), DF_ESQL);
	assert_int_equal(l.nr, 0);
	assert_int_equal(off, 10);
	assert_string_equal(df_error_last()->message, "psql meta-command '\\set' is not SQL");
	df_sql_position(s, sizeof(s) - 1, off, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 1);

	ERROR_AT(PG, "\\d", 0, "psql meta-command '\\d' is not SQL");
	ERROR_AT(PG, "select 1 as x\n  \\gset\n", 16, "psql meta-command '\\gset' is not SQL");
	ERROR_AT(PG, "select 1 \\; select 2;", 9, "psql meta-command '\\;' is not SQL");
	ERROR_AT(PG, "  \\i other.sql", 2, "psql meta-command '\\i' is not SQL");
	/* backslashes in strings, identifiers and comments are fine */
	SPLIT(PG, "select '\\d', E'\\\\', \"\\x\", $$\\$$ /* \\d */; -- \\q\n",
	      "select '\\d', E'\\\\', \"\\x\", $$\\$$");
}

static void test_sql_split__pg_copy_from_stdin(void **state)
{
	(void)state;
	ERROR_AT(PG, "create table t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n\\.\n", 24,
		 "inline COPY data is not SQL");
	ERROR_AT(PG, "copy t from STDIN with (format csv)", 0, "inline COPY data");
	SPLIT(PG, "copy t to stdout; copy t from '/tmp/x'; copy (select * from stdin) to stdout",
	      "copy t to stdout", "copy t from '/tmp/x'",
	      "copy (select * from stdin) to stdout");
}

static void test_sql_split__mysql_quotes(void **state)
{
	(void)state;
	SPLIT(MY, "SELECT 'a\\';b', \"c\\\";d\", 'e'';f', `g;``h` FROM t; SELECT 2",
	      "SELECT 'a\\';b', \"c\\\";d\", 'e'';f', `g;``h` FROM t", "SELECT 2");
	/* no escapes in identifiers */
	SPLIT(MY, "SELECT `a\\`; x", "SELECT `a\\`", "x");
	ERROR_AT(MY, "SELECT 1; SELECT \"abc", 17, "unterminated quoted string");
	ERROR_AT(MY, "SELECT 'abc\\'", 7, "unterminated quoted string");
	ERROR_AT(MY, "SELECT `abc", 7, "unterminated quoted identifier");
}

static void test_sql_split__mysql_comments(void **state)
{
	(void)state;
	SPLIT(MY, "SELECT 1 # c;\n, 2; -- c;\nSELECT 3 /* ; */", "SELECT 1 # c;\n, 2",
	      "SELECT 3");
	/* "--" needs a blank after it, except at the start of a statement */
	SPLIT(MY, "SELECT 1--2; --x\nSELECT 3;", "SELECT 1--2", "SELECT 3");
	SPLIT(MY, "SELECT 1 --\n;SELECT 2 --", "SELECT 1", "SELECT 2");
	/* not nested */
	SPLIT(MY, "/* /* */ SELECT 1; */", "SELECT 1", "*/");
	ERROR_AT(MY, "SELECT 1 /* x", 9, "unterminated /* comment");
}

static void test_sql_split__mysql_executable_comment(void **state)
{
	(void)state;
	SPLIT(MY, "/*!40101 SET @OLD=@@SQL_MODE */;\n/*M!100100 SET x=1 */;\n/* plain */;",
	      "/*!40101 SET @OLD=@@SQL_MODE */", "/*M!100100 SET x=1 */");
	SPLIT(MY, "/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a=1 */;",
	      "/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a=1 */");
	/* the delimiter counts inside them, as in the client */
	SPLIT(MY, "/*!40101 SET a=1; SET b=2 */;", "/*!40101 SET a=1", "SET b=2 */");
}

static void test_sql_split__mysql_delimiter(void **state)
{
	(void)state;
	SPLIT(MY,
	      "DROP PROCEDURE IF EXISTS p;\n"
	      "DELIMITER //\n"
	      "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 'a//b';\nEND//\n"
	      "delimiter ;\n"
	      "CALL p();\n",
	      "DROP PROCEDURE IF EXISTS p",
	      "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 'a//b';\nEND",
	      "CALL p()");
	/* $$, right after a word; ;; as mysqldump writes */
	SPLIT(MY, "DELIMITER $$\nCREATE FUNCTION f() RETURNS INT RETURN 1$$\nSELECT 2 $$",
	      "CREATE FUNCTION f() RETURNS INT RETURN 1", "SELECT 2");
	SPLIT(MY, "  Delimiter ;;  -- rest ignored\n/*!50003 CREATE TRIGGER t BEGIN SET a=1; END */;;\n"
	      "DELIMITER ;\nSELECT 1;",
	      "/*!50003 CREATE TRIGGER t BEGIN SET a=1; END */", "SELECT 1");
	/* quoted, doubled quote */
	SPLIT(MY, "DELIMITER 'a''b'\nSELECT 1a'bSELECT 2", "SELECT 1", "SELECT 2");
	/* only first on a line, between statements */
	SPLIT(MY, "SELECT 1\nDELIMITER //\n;", "SELECT 1\nDELIMITER //");
	SPLIT(MY, "SELECT delimiter FROM t; SELECT 2", "SELECT delimiter FROM t", "SELECT 2");
	/* a multi-byte delimiter's first byte alone is ordinary */
	SPLIT(MY, "DELIMITER //\nSELECT 4/2, 'x' /* c */ // SELECT 5", "SELECT 4/2, 'x'", "SELECT 5");
	/* without DELIMITER, a body's BEGIN ... END is one statement, as the
	 * server takes it sent whole (the client alone would split it) */
	SPLIT(MY, "CREATE PROCEDURE p() BEGIN SELECT 1; END;",
	      "CREATE PROCEDURE p() BEGIN SELECT 1; END");
	SPLIT(MY, "CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n"
	      "  IF NEW.a IS NULL THEN SET NEW.a = IF(NEW.b, 1, 2); ELSEIF NEW.a < 0 THEN\n"
	      "    SET NEW.a = CASE WHEN NEW.b THEN 1 ELSE 0 END; END IF;\n"
	      "  lbl: LOOP LEAVE lbl; END LOOP lbl; -- ; END\n"
	      "  WHILE 0 DO SET @x = 'END;'; END WHILE; REPEAT SET @y = 1; UNTIL 1 END REPEAT;\n"
	      "  CASE NEW.a WHEN 1 THEN SET @z = 1; ELSE BEGIN END; END CASE;\n"
	      "END; SELECT 2;",
	      "CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n"
	      "  IF NEW.a IS NULL THEN SET NEW.a = IF(NEW.b, 1, 2); ELSEIF NEW.a < 0 THEN\n"
	      "    SET NEW.a = CASE WHEN NEW.b THEN 1 ELSE 0 END; END IF;\n"
	      "  lbl: LOOP LEAVE lbl; END LOOP lbl; -- ; END\n"
	      "  WHILE 0 DO SET @x = 'END;'; END WHILE; REPEAT SET @y = 1; UNTIL 1 END REPEAT;\n"
	      "  CASE NEW.a WHEN 1 THEN SET @z = 1; ELSE BEGIN END; END CASE;\n"
	      "END", "SELECT 2");
	/* columns named end and begin, qualified */
	SPLIT(MY, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.end = NEW.begin; "
	      "SET NEW.x = 1; END; SELECT 4",
	      "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.end = NEW.begin; "
	      "SET NEW.x = 1; END", "SELECT 4");
	/* a trigger's body as one IF; an event's DO BEGIN */
	SPLIT(MY, "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW IF NEW.a THEN SET NEW.b = 1; "
	      "END IF; SELECT 3",
	      "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW IF NEW.a THEN SET NEW.b = 1; END IF",
	      "SELECT 3");
	SPLIT(MY, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END; x",
	      "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END", "x");
	SPLIT(MY, "BEGIN NOT ATOMIC IF 1 THEN SELECT 1; END IF; END; x",
	      "BEGIN NOT ATOMIC IF 1 THEN SELECT 1; END IF; END", "x");
	/* not bodies: a transaction's BEGIN, a table named event, a trigger without BEGIN */
	SPLIT(MY, "BEGIN; CREATE TABLE event (begin int); INSERT INTO t VALUES (1); COMMIT",
	      "BEGIN", "CREATE TABLE event (begin int)", "INSERT INTO t VALUES (1)", "COMMIT");
	SPLIT(MY, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; SELECT 1",
	      "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "SELECT 1");
	ERROR_AT(MY, "SELECT 0;\nCREATE PROCEDURE p() BEGIN SELECT 1;", 31,
		 "unterminated BEGIN ... END body");
	ERROR_AT(MY, "SELECT 1;\nDELIMITER\nSELECT 2;", 10, "missing delimiter string after DELIMITER");
	ERROR_AT(MY, "DELIMITER \"//\n", 0, "missing delimiter string");
	ERROR_AT(MY, "DELIMITER a\\b\n", 0, "delimiter cannot contain a backslash");
	ERROR_AT(MY, "DELIMITER 0123456789abcdef\n", 0, "delimiter string is too long");
}

static void test_sql_split__mysql_client_commands(void **state)
{
	(void)state;
	SPLIT(MY, "SELECT 1\\g SELECT 2\\G\nSELECT \\N;", "SELECT 1", "SELECT 2", "SELECT \\N");
	SPLIT(MY, "USE shop;\nuse other\nSELECT 1;\nUSE x -- c\n", "USE shop", "use other",
	      "SELECT 1", "USE x");
	/* words that only look like commands */
	SPLIT(MY, "exit now;", "exit now");
	ERROR_AT(MY, "SELECT 1;\nsource\n;", 10, "mysql client command 'source'");
	SPLIT(MY, "SELECT 1; use\tdb;x", "SELECT 1", "use\tdb", "x");
	ERROR_AT(MY, "status;", 0, "mysql client command 'status' is not SQL");
	ERROR_AT(MY, "SELECT 1;\nsource other.sql\nSELECT 2;", 10,
		 "mysql client command 'source' is not SQL");
	ERROR_AT(MY, "SELECT 1; source other.sql;", 10, "mysql client command 'source' is not SQL");
	ERROR_AT(MY, "quit", 0, "mysql client command 'quit' is not SQL");
	ERROR_AT(MY, "SELECT 1;\n\\. other.sql\n", 10, "mysql client command '\\.' is not SQL");
	ERROR_AT(MY, "SELECT 1 \\c", 9, "mysql client command '\\c' is not SQL");
	ERROR_AT(MY, "SELECT 1 \\\nx;", 9, "mysql client command '\\' is not SQL");
}

static void test_sql_split__chunked_equals_whole(void **state)
{
	static const char *const inputs[] = {
		"\xEF\xBB\xBF-- header\nCREATE TABLE a (id int, s text); /* c */\n"
		"INSERT INTO a VALUES (1, 'x;y'), (2, E'\\';'); select $q$ ; $q$;\n"
		"create function f() returns int begin atomic select 1; end; -- t\n"
		"select E'a'\n'b\\';';select (1;2);",
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n"
		"SELECT [x;y], `a``;`, \"b;\" -- c\n; # c\n/* */;",
		"DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 'a$$'; END$$\nDELIMITER ;\n"
		"/*!40101 SET a=1 */; SELECT 1\\g use db\nSELECT \"x\\\"\" -- c\n;",
	};
	const df_dialect dialects[] = { PG, SQLITE, MY };
	const size_t counts[] = { 6, 3, 4 };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		df_stmt_list l = DF_STMT_LIST_INIT;
		char msg[256];
		size_t off;

		/* split_all compares 1, 2, 3, 7 and 64 byte chunks with the whole */
		assert_int_equal(split_all(&l, dialects[i], inputs[i], strlen(inputs[i]),
					   &off, msg, sizeof(msg)), 0);
		assert_int_equal(l.nr, counts[i]);
		df_stmt_list_release(&l);
	}
}

static void test_sql_split__constant_window(void **state)
{
	/* 20,000 statements: the window never holds much more than one */
	static const char one[] = "INSERT INTO t VALUES (1, 'some text; more', $$x$$); -- c\n";
	size_t n = 20000, len = n * (sizeof(one) - 1), i, maxw, off;
	char *s = malloc(len);
	df_stmt_list l = DF_STMT_LIST_INIT;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * (sizeof(one) - 1), one, sizeof(one) - 1);
	assert_int_equal(split_chunked(&l, PG, s, len, 4096, &off, &maxw), 0);
	assert_int_equal(l.nr, n);
	assert_true(maxw <= 4096 + sizeof(one));
	df_stmt_list_release(&l);
	free(s);
}

static void test_sql_split__error_is_sticky(void **state)
{
	df_sql_scanner sc;
	df_stmt st;

	(void)state;
	df_sql_scanner_init(&sc, PG);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "select 1; 'x", 12, true), 1);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "select 1; 'x", 12, true), DF_ESQL);
	assert_int_equal(sc.error_offset, 10);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "select 1; 'x", 12, true), DF_ESQL);
	/* after the end, nothing more */
	df_sql_scanner_init(&sc, PG);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "x", 1, true), 1);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "x", 1, true), 0);
	assert_int_equal(df_sql_scanner_next(&sc, &st, "x", 1, true), 0);
}

static void test_sql_split__error_keeps_list(void **state)
{
	df_stmt_list l = DF_STMT_LIST_INIT;

	(void)state;
	assert_int_equal(df_sql_split(&l, PG, "a; b", 4, NULL), 0);
	assert_int_equal(df_sql_split(&l, PG, "c; 'd", 5, NULL), DF_ESQL);
	assert_int_equal(l.nr, 2);
	df_stmt_list_release(&l);
}

static void test_sql_split__position(void **state)
{
	static const char s[] = "ab\ncd\r\n\nxyz";
	int line, col;

	(void)state;
	df_sql_position(s, sizeof(s) - 1, 0, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
	df_sql_position(s, sizeof(s) - 1, 4, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 2);
	df_sql_position(s, sizeof(s) - 1, 8, &line, &col);
	assert_int_equal(line, 4);
	assert_int_equal(col, 1);
	df_sql_position(s, sizeof(s) - 1, 100, &line, &col);
	assert_int_equal(line, 4);
	assert_int_equal(col, 4);
	/* a BOM is not a column */
	df_sql_position("\xEF\xBB\xBFSELECT", 9, 3, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
}

static void test_sql_split__dialect_names(void **state)
{
	df_dialect d;

	(void)state;
	assert_int_equal(df_dialect_parse(&d, "sqlite"), 0);
	assert_int_equal(d, SQLITE);
	assert_int_equal(df_dialect_parse(&d, "postgresql"), 0);
	assert_int_equal(d, PG);
	assert_int_equal(df_dialect_parse(&d, "Postgres"), 0);
	assert_int_equal(d, PG);
	assert_int_equal(df_dialect_parse(&d, "mariadb"), 0);
	assert_int_equal(d, MY);
	assert_int_equal(df_dialect_parse(&d, "mysql"), 0);
	assert_int_equal(d, MY);
	assert_int_equal(df_dialect_parse(&d, "oracle"), -1);
	assert_string_equal(df_error_last()->message, "unknown SQL dialect 'oracle'");
	assert_string_equal(df_dialect_name(SQLITE), "sqlite");
	assert_string_equal(df_dialect_name(PG), "postgres");
	assert_string_equal(df_dialect_name(MY), "mysql");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_split__empty_input),
		cmocka_unit_test(test_sql_split__only_comments),
		cmocka_unit_test(test_sql_split__offsets_and_lengths),
		cmocka_unit_test(test_sql_split__trailing_comments_and_space),
		cmocka_unit_test(test_sql_split__crlf),
		cmocka_unit_test(test_sql_split__bom),
		cmocka_unit_test(test_sql_split__nul_bytes),
		cmocka_unit_test(test_sql_split__sqlite_quotes),
		cmocka_unit_test(test_sql_split__sqlite_comments),
		cmocka_unit_test(test_sql_split__sqlite_trigger),
		cmocka_unit_test(test_sql_split__sqlite_dot_command),
		cmocka_unit_test(test_sql_split__pg_quotes),
		cmocka_unit_test(test_sql_split__pg_dollar_quote),
		cmocka_unit_test(test_sql_split__pg_comments),
		cmocka_unit_test(test_sql_split__pg_parentheses),
		cmocka_unit_test(test_sql_split__pg_begin_atomic),
		cmocka_unit_test(test_sql_split__pg_meta_command),
		cmocka_unit_test(test_sql_split__pg_copy_from_stdin),
		cmocka_unit_test(test_sql_split__mysql_quotes),
		cmocka_unit_test(test_sql_split__mysql_comments),
		cmocka_unit_test(test_sql_split__mysql_executable_comment),
		cmocka_unit_test(test_sql_split__mysql_delimiter),
		cmocka_unit_test(test_sql_split__mysql_client_commands),
		cmocka_unit_test(test_sql_split__chunked_equals_whole),
		cmocka_unit_test(test_sql_split__constant_window),
		cmocka_unit_test(test_sql_split__error_is_sticky),
		cmocka_unit_test(test_sql_split__error_keeps_list),
		cmocka_unit_test(test_sql_split__position),
		cmocka_unit_test(test_sql_split__dialect_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
