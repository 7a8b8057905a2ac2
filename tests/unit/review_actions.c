/*
 * df_review_actions(): the plain-English summary of a migration, for
 * `db status` and `db review`.  Also: it never fails on bad input, and it
 * is fast enough to run on thousands of pending migrations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devflow/review.h"

/* The actions of sql, joined with " | ". */
static char *actions(df_dialect d, const char *sql)
{
	df_strlist l = DF_STRLIST_INIT;
	size_t n = 1;
	char *out;

	assert_int_equal(df_review_actions(&l, d, sql, strlen(sql)), 0);
	for (size_t i = 0; i < l.nr; i++)
		n += strlen(l.v[i]) + 3;
	assert_non_null(out = malloc(n));
	out[0] = '\0';
	for (size_t i = 0; i < l.nr; i++) {
		if (i)
			strcat(out, " | ");
		strcat(out, l.v[i]);
	}
	df_strlist_release(&l);
	return out;
}

static void check(df_dialect d, const char *sql, const char *want)
{
	char *got = actions(d, sql);

	if (strcmp(got, want))
		fail_msg("%s\n  want: %s\n  got:  %s", sql, want, got);
	free(got);
}

#define PG DF_DIALECT_POSTGRES
#define MY DF_DIALECT_MYSQL
#define SL DF_DIALECT_SQLITE

static void test_review__actions_create(void **state)
{
	check(PG, "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL,\n"
		  "  name text, created_at timestamptz DEFAULT now(), UNIQUE (email));",
	      "create table users (4 columns)");
	check(PG, "CREATE TABLE IF NOT EXISTS public.t (a int);", "create table public.t (1 column)");
	check(PG, "CREATE TEMP TABLE t AS SELECT 1;", "create temporary table t from a query");
	check(PG, "CREATE TABLE \"Users\" (\"Id\" int);", "create table Users (1 column)");
	check(PG, "create table Users (id int);", "create table users (1 column)");
	check(PG, "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (lower(email));",
	      "create unique index users_email on users");
	check(PG, "CREATE INDEX users_email ON users (email);", "create index users_email on users");
	check(PG, "CREATE INDEX ON ONLY users (email);", "create index on users");
	check(PG, "CREATE OR REPLACE VIEW v AS SELECT 1;", "create view v");
	check(PG, "CREATE EXTENSION IF NOT EXISTS pgcrypto;", "create extension pgcrypto");
	check(PG, "CREATE FUNCTION f(a int) RETURNS int AS $$ SELECT a; $$ LANGUAGE sql;",
	      "create function f");
	check(PG, "CREATE TYPE mood AS ENUM ('a');", "create type mood");
	check(MY, "CREATE TABLE `orders` (`id` INT PRIMARY KEY, `key` VARCHAR(9), "
		  "KEY k (`key`), INDEX i (id), CONSTRAINT fk FOREIGN KEY (id) REFERENCES x (id));",
	      "create table orders (2 columns)");
	check(SL, "CREATE TABLE [t] (a, b, c);", "create table t (3 columns)");
	check(PG, "CREATE TABLE t (LIKE s INCLUDING ALL);", "create table t");
	check(PG, "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);", "create table p1");
}

static void test_review__actions_alter(void **state)
{
	check(PG, "ALTER TABLE users ADD COLUMN status text;", "add column status to users");
	check(PG, "ALTER TABLE users DROP COLUMN legacy;",
	      "drop column legacy from users (destroys data)");
	check(PG, "ALTER TABLE users RENAME COLUMN a TO b;", "rename column a to b in users");
	check(PG, "ALTER TABLE users RENAME TO members;", "rename table users to members");
	check(PG, "ALTER TABLE users ALTER COLUMN age TYPE bigint USING age::bigint;",
	      "change type of column age in users to bigint");
	check(PG, "ALTER TABLE ONLY users ADD COLUMN a int, DROP COLUMN b, "
		  "ALTER COLUMN c SET NOT NULL, ALTER c DROP DEFAULT;",
	      "add column a to users | drop column b from users (destroys data) | "
	      "set not null on column c in users | drop default of column c in users");
	check(PG, "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID;",
	      "add foreign key fk to o");
	check(PG, "ALTER TABLE o VALIDATE CONSTRAINT fk;", "validate constraint fk on o");
	check(PG, "ALTER TABLE o ADD PRIMARY KEY (id);", "add primary key to o");
	check(PG, "ALTER TABLE o DROP CONSTRAINT IF EXISTS c;", "drop constraint c from o");
	check(PG, "ALTER TABLE o ENABLE ROW LEVEL SECURITY;",
	      "alter table o: ENABLE ROW LEVEL SECURITY");
	check(MY, "ALTER TABLE o MODIFY COLUMN n BIGINT, ALGORITHM=INPLACE, LOCK=NONE;",
	      "modify column n in o");
	check(MY, "ALTER TABLE o CHANGE a b INT;", "change column a to b in o");
	check(MY, "ALTER TABLE o ADD INDEX idx (a), DROP INDEX old;",
	      "add index idx to o | drop index old from o");
	check(MY, "RENAME TABLE a TO b;", "rename table a to b");
	check(SL, "ALTER TABLE t ADD c TEXT;", "add column c to t");
}

static void test_review__actions_drop_and_data(void **state)
{
	check(PG, "DROP TABLE IF EXISTS a, b CASCADE;",
	      "drop table a (destroys data) | drop table b (destroys data)");
	check(PG, "DROP INDEX CONCURRENTLY IF EXISTS i;", "drop index i");
	check(PG, "DROP SCHEMA s CASCADE;", "drop schema s (destroys data)");
	check(PG, "DROP VIEW v;", "drop view v");
	check(PG, "TRUNCATE a;", "truncate a (destroys data)");
	check(PG, "UPDATE users SET a = 1 WHERE id = 2;", "update rows in users (data change)");
	check(PG, "UPDATE users SET a = 1;", "update all rows in users (data change)");
	check(PG, "DELETE FROM users WHERE id = 2;", "delete rows from users (destroys data)");
	check(PG, "INSERT INTO users (a) VALUES (1);", "insert rows into users (data change)");
	check(PG, "WITH x AS (SELECT 1) UPDATE users SET a = 1 WHERE true;",
	      "update rows in users (data change)");
	check(PG, "COPY users FROM stdin;\n1\n\\.\n", "copy rows into users (data change)");
	check(MY, "REPLACE INTO t VALUES (1);", "insert rows into t (data change)");
	check(SL, "INSERT OR REPLACE INTO t VALUES (1);", "insert rows into t (data change)");
	check(PG, "DROP DATABASE shop;", "drop database shop (destroys data)");
}

static void test_review__actions_quiet_and_fallback(void **state)
{
	/* settings and transaction control are not actions */
	check(PG, "SET lock_timeout = '5s'; BEGIN; COMMIT; -- done", "");
	check(SL, "PRAGMA foreign_keys = OFF;", "");
	check(PG, "", "");
	check(PG, "   -- only comments\n/* here */", "");
	/* unclassified statements */
	check(PG, "GRANT SELECT ON users TO reporting;",
	      "run statement: GRANT SELECT ON users TO reporting");
	check(PG, "SELECT pg_catalog.setval('users_id_seq', 42, true);",
	      "run statement: SELECT pg_catalog.setval('users_id_seq', 42, true)");
	check(PG, "DO $$ BEGIN RAISE NOTICE 'a;b'; END $$;",
	      "run statement: DO $$ BEGIN RAISE NOTICE 'a;b'; END $$");
	check(PG, "ALTER SYSTEM SET work_mem = '1GB';",
	      "run statement: ALTER SYSTEM SET work_mem = '1GB'");
	check(PG, "VACUUM FULL users;", "vacuum full users");
	check(PG, "COMMENT ON TABLE users IS 'x';", "set comment on table users");
	/* long statements are cut */
	{
		char *got = actions(PG, "SELECT aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, "
				    "eeeeeeeeee, ffffffffff, gggggggggg FROM t;");

		assert_true(strlen(got) < 90);
		assert_non_null(strstr(got, "..."));
		free(got);
	}
}

static void test_review__actions_never_fail(void **state)
{
	static const char *bad[] = {
		"ALTER TABLE 'unterminated", "CREATE TABLE (", "DROP", ")))(((", "$$ never closed",
		"/* never closed", "\\d users\n\\set x 1", "ALTER TABLE t ADD", "INSERT INTO",
		"CREATE INDEX ON", "\"", "`", "[", "E'\\", ";;;;", "DELIMITER", "DELIMITER //\nx//",
	};
	unsigned seed = 12345;
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int d = 0; d < 3; d++) {
			df_strlist l = DF_STRLIST_INIT;
			df_review_result *r = NULL;
			df_review_opts o = DF_REVIEW_OPTS_INIT;

			o.dialect = (df_dialect)d;
			assert_int_equal(df_review_actions(&l, (df_dialect)d, bad[i], strlen(bad[i])), 0);
			assert_int_equal(df_review_run(&r, &o, NULL, bad[i], strlen(bad[i])), 0);
			df_review_result_free(r);
			df_strlist_release(&l);
		}
	/* random bytes drawn from SQL's punctuation and keywords */
	for (int it = 0; it < 3000; it++) {
		static const char *frag[] = {
			"ALTER ", "TABLE ", "t ", "ADD ", "COLUMN ", "DROP ", "(", ")", ";", "'",
			"\"", "$$", "$a$", "--", "/*", "*/", "\\", "\n", "BEGIN ", "END ", "CASE ",
			"CREATE ", "FUNCTION ", "TRIGGER ", "INDEX ", "ON ", ",", ".", "`", "[",
			"DELIMITER ", "//", "UPDATE ", "SET ", "WHERE ", "COPY ", "FROM ", "stdin",
		};
		size_t n = 0;
		df_strlist l = DF_STRLIST_INIT;
		df_review_result *r = NULL;
		df_review_opts o = DF_REVIEW_OPTS_INIT;

		while (n < sizeof(buf) - 16) {
			const char *f;

			seed = seed * 1103515245u + 12345u;
			f = frag[(seed >> 16) % (sizeof(frag) / sizeof(frag[0]))];
			memcpy(buf + n, f, strlen(f));
			n += strlen(f);
			if (((seed >> 8) & 31) == 0)
				break;
		}
		o.dialect = (df_dialect)(it % 3);
		assert_int_equal(df_review_actions(&l, o.dialect, buf, n), 0);
		assert_int_equal(df_review_run(&r, &o, "f", buf, n), 0);
		df_review_result_free(r);
		df_strlist_release(&l);
	}
}

static void test_review__actions_fast(void **state)
{
	/* 10,000 small migrations, as db status sees them */
	static const char *tmpl[] = {
		"-- add users\nCREATE TABLE users_%d (\n  id BIGSERIAL PRIMARY KEY,\n"
		"  email VARCHAR(255) NOT NULL,\n  created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n"
		"CREATE INDEX users_%d_email ON users_%d (email);\n",
		"ALTER TABLE orders ADD COLUMN status_%d VARCHAR(20);\n"
		"UPDATE orders SET status_%d = 'active' WHERE status_%d IS NULL;\n",
		"ALTER TABLE orders DROP COLUMN legacy_%d, DROP COLUMN x_%d, DROP COLUMN y_%d;\n",
	};
	char buf[512];
	size_t total = 0;
	struct timespec a, b;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 10000; i++) {
		df_strlist l = DF_STRLIST_INIT;
		int n = snprintf(buf, sizeof(buf), tmpl[i % 3], i, i, i);

		assert_int_equal(df_review_actions(&l, PG, buf, (size_t)n), 0);
		total += l.nr;
		df_strlist_release(&l);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("df_review_actions: 10,000 migrations, %zu actions, %.1f ms\n", total, ms);
	assert_true(total >= 23000);
	/* generous for Debug and sanitizer builds; an optimised build takes ~5 ms */
	assert_true(ms < 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_review__actions_create),
		cmocka_unit_test(test_review__actions_alter),
		cmocka_unit_test(test_review__actions_drop_and_data),
		cmocka_unit_test(test_review__actions_quiet_and_fallback),
		cmocka_unit_test(test_review__actions_never_fail),
		cmocka_unit_test(test_review__actions_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
