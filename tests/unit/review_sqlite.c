/*
 * The risk review, SQLite rules (src/review/sqlite.c and the shared ones):
 * each rule firing, and not firing where it must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devflow/review.h"
#include "review_check.h"

static df_review_result *run_tx(const char *sql, bool in_tx)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.dialect = DF_DIALECT_SQLITE;
	o.in_transaction = in_tx;
	return review_with(&o, sql);
}

static df_review_result *run(const char *sql)
{
	return run_tx(sql, true);
}

static void expect(const char *sql, const char *rule, size_t n)
{
	expect_in(run(sql), sql, rule, n);
}

static void test_review__table_rebuild(void **state)
{
	df_review_result *r = run("ALTER TABLE users ALTER COLUMN age TYPE integer;");
	const df_review_finding *f = find(r, "sqlite-table-rebuild");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_non_null(strstr(f->hint, "12-step"));
	assert_non_null(strstr(f->hint, "new_users"));
	df_review_result_free(r);
	expect("ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0);", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD PRIMARY KEY (id);", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users DROP CONSTRAINT c;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ALTER COLUMN a SET NOT NULL;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ALTER COLUMN a SET DEFAULT 1;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD COLUMN code TEXT UNIQUE;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD COLUMN id2 INTEGER PRIMARY KEY;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD COLUMN ts TEXT DEFAULT CURRENT_TIMESTAMP;",
	       "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD COLUMN t INT AS (a * 2) STORED;", "sqlite-table-rebuild", 1);
	expect("ALTER TABLE users ADD COLUMN t INT AS (a * 2) VIRTUAL;", "sqlite-table-rebuild", 0);
	/* what SQLite's ALTER TABLE can do */
	expect("ALTER TABLE users ADD COLUMN nick TEXT;", "sqlite-table-rebuild", 0);
	expect("ALTER TABLE users ADD COLUMN n INT NOT NULL DEFAULT 0;", "sqlite-table-rebuild", 0);
	expect("ALTER TABLE users RENAME COLUMN a TO b;", "sqlite-table-rebuild", 0);
	expect("ALTER TABLE users RENAME TO members;", "sqlite-table-rebuild", 0);
	expect("ALTER TABLE users DROP COLUMN legacy;", "sqlite-table-rebuild", 0);
	/* it fails on a new table as well */
	expect("CREATE TABLE t (a INT);\nALTER TABLE t ALTER COLUMN a TYPE TEXT;",
	       "sqlite-table-rebuild", 1);
}

static void test_review__add_column_not_null(void **state)
{
	df_review_result *r = run("ALTER TABLE users ADD COLUMN age INTEGER NOT NULL;");
	const df_review_finding *f = find(r, "add-column-not-null");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	df_review_result_free(r);
	/* SQLite refuses it even on an empty table */
	expect("CREATE TABLE t (a INT);\nALTER TABLE t ADD COLUMN b INT NOT NULL;",
	       "add-column-not-null", 1);
	expect("ALTER TABLE users ADD COLUMN age INTEGER NOT NULL DEFAULT 0;",
	       "add-column-not-null", 0);
	/* a nullable add: an action, no finding */
	r = run("ALTER TABLE users ADD COLUMN nick TEXT;");
	assert_int_equal(r->nr_findings, 0);
	assert_string_equal(r->actions.v[0], "add column nick to users");
	df_review_result_free(r);
}

static void test_review__drop_column(void **state)
{
	df_review_result *r = run("ALTER TABLE users DROP COLUMN legacy;");
	const df_review_finding *f = find(r, "drop-column");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	/* the hint and message explain SQLite's limits on DROP COLUMN */
	assert_non_null(strstr(f->message, "indexed"));
	assert_non_null(strstr(f->message, "trigger"));
	df_review_result_free(r);
	expect("CREATE TABLE t (a INT, b INT);\nALTER TABLE t DROP COLUMN b;", "drop-column", 0);
}

static void test_review__destructive_and_renames(void **state)
{
	expect("DROP TABLE users;", "drop-table", 1);
	expect("DROP TABLE IF EXISTS users;", "drop-table", 1);
	expect("CREATE TABLE t (a);\nDROP TABLE t;", "drop-table", 0);
	expect("DELETE FROM users;", "delete-without-where", 1);
	expect("DELETE FROM users WHERE id = 3;", "delete-without-where", 0);
	expect("UPDATE users SET a = 1;", "update-without-where", 1);
	expect("ALTER TABLE users RENAME COLUMN a TO b;", "rename-column", 1);
	expect("ALTER TABLE users RENAME TO members;", "rename-table", 1);
	expect("CREATE TABLE t (a);\nALTER TABLE t RENAME COLUMN a TO b;", "rename-column", 0);
	/* PostgreSQL-only rules stay quiet */
	expect("CREATE INDEX i ON users (a);", "create-index-not-concurrently", 0);
}

static void test_review__transactions(void **state)
{
	/* a file with its own BEGIN/COMMIT runs outside devflow's transaction
	 * (the runner's tx_control): no nested BEGIN, no finding */
	df_review_result *r = run("BEGIN;\nCREATE TABLE a (id INT);\nCOMMIT;");
	const df_review_finding *f = find(r, "transaction-nesting");

	assert_null(f);
	df_review_result_free(r);
	/* a change outside the file's BEGIN ... COMMIT commits by itself */
	r = run("CREATE TABLE b (id INT);\nBEGIN;\nCREATE TABLE a (id INT);\nCOMMIT;");
	f = find(r, "transaction-nesting");
	assert_non_null(f);
	assert_int_equal(f->line, 1);
	assert_int_equal(f->severity, DF_REVIEW_INFO);
	df_review_result_free(r);
	r = run_tx("BEGIN;\nCREATE TABLE a (id INT);\nCOMMIT;", false);
	assert_int_equal(count(r, "transaction-nesting"), 0);
	df_review_result_free(r);
	r = run_tx("BEGIN IMMEDIATE;\nCREATE TABLE a (id INT);", false);
	assert_int_equal(count(r, "uncommitted-transaction"), 1);
	df_review_result_free(r);
}

static void test_review__trigger_body(void **state)
{
	df_review_result *r = run(
		"CREATE TRIGGER trg AFTER UPDATE ON users BEGIN\n"
		"  UPDATE audit SET n = CASE WHEN new.a > 1 THEN 1 ELSE 2 END;\n"
		"  DELETE FROM cache;\n"
		"END;\n"
		"DROP TABLE old;\n");

	assert_int_equal(r->statements, 2);
	assert_int_equal(count(r, "delete-without-where"), 0);
	assert_int_equal(count(r, "drop-table"), 1);
	assert_string_equal(r->actions.v[0], "create trigger trg");
	df_review_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_review__table_rebuild),
		cmocka_unit_test(test_review__add_column_not_null),
		cmocka_unit_test(test_review__drop_column),
		cmocka_unit_test(test_review__destructive_and_renames),
		cmocka_unit_test(test_review__transactions),
		cmocka_unit_test(test_review__trigger_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
