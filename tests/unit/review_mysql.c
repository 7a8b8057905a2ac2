/*
 * The risk review, MySQL/MariaDB rules (src/review/mysql.c and the shared
 * ones): each rule firing, and not firing where it must not.
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
#include "devflow/sql.h"

static df_review_result *run(const char *sql)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.dialect = DF_DIALECT_MYSQL;
	o.in_transaction = false;
	return review_with(&o, sql);
}

static void expect(const char *sql, const char *rule, size_t n)
{
	expect_in(run(sql), sql, rule, n);
}

static void test_review__algorithm_copy(void **state)
{
	df_review_result *r = run("ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=COPY;");
	const df_review_finding *f = find(r, "mysql-algorithm-copy");

	assert_non_null(f);
	assert_int_equal(f->line, 1);
	assert_int_equal(f->column, 38);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	df_review_result_free(r);
	expect("ALTER TABLE orders ADD COLUMN c INT, ALGORITHM = copy;", "mysql-algorithm-copy", 1);
	expect("CREATE INDEX i ON orders (c) ALGORITHM=COPY;", "mysql-algorithm-copy", 1);
	expect("ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INPLACE, LOCK=NONE;",
	       "mysql-algorithm-copy", 0);
	expect("ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT;", "mysql-algorithm-copy", 0);
}

static void test_review__lock_blocking(void **state)
{
	expect("ALTER TABLE orders ADD INDEX i (c), LOCK=SHARED;", "mysql-lock-blocking", 1);
	expect("ALTER TABLE orders ADD INDEX i (c), LOCK = EXCLUSIVE;", "mysql-lock-blocking", 1);
	expect("ALTER TABLE orders ADD INDEX i (c), LOCK=NONE;", "mysql-lock-blocking", 0);
	expect("LOCK TABLES orders WRITE;", "mysql-lock-blocking", 0);
}

static void test_review__table_rebuild(void **state)
{
	expect("ALTER TABLE o MODIFY COLUMN status ENUM('new', 'paid', 'shipped');",
	       "mysql-table-rebuild", 1);
	expect("ALTER TABLE o ADD COLUMN d DATETIME DEFAULT (NOW());", "mysql-table-rebuild", 1);
	expect("ALTER TABLE o ADD COLUMN d DATETIME DEFAULT CURRENT_TIMESTAMP;",
	       "mysql-table-rebuild", 0);
	expect("ALTER TABLE o ADD COLUMN t INT AS (a + b) STORED;", "mysql-table-rebuild", 1);
	expect("ALTER TABLE o ADD COLUMN t INT GENERATED ALWAYS AS (a + b) VIRTUAL;",
	       "mysql-table-rebuild", 0);
	expect("ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id);",
	       "mysql-table-rebuild", 1);
	expect("SET foreign_key_checks = 0;\n"
	       "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id);",
	       "mysql-table-rebuild", 0);
	expect("ALTER TABLE o ENGINE=InnoDB;", "mysql-table-rebuild", 1);
	expect("ALTER TABLE o CONVERT TO CHARACTER SET utf8mb4;", "mysql-table-rebuild", 1);
	expect("ALTER TABLE o ADD PRIMARY KEY (id);", "mysql-table-rebuild", 1);
	expect("ALTER TABLE o ADD COLUMN n INT;", "mysql-table-rebuild", 0);
	expect("ALTER TABLE o ADD INDEX i (n);", "mysql-table-rebuild", 0);
	/* a table created in the same migration is empty */
	expect("CREATE TABLE o (id INT);\nALTER TABLE o ADD COLUMN t INT AS (id) STORED;",
	       "mysql-table-rebuild", 0);
}

/* The target's current column types, as information_schema spells them. */
static int fake_type(char *out, size_t size, const char *table, const char *column, void *p)
{
	(void)p;
	if (!strcmp(table, "o") && !strcmp(column, "status"))
		snprintf(out, size, "enum('new','paid')");
	else if (!strcmp(table, "o") && !strcmp(column, "tags"))
		snprintf(out, size, "set('a','b')");
	else if (!strcmp(table, "o") && !strcmp(column, "amount"))
		snprintf(out, size, "decimal(12,2)");
	else if (!strcmp(table, "o") && !strcmp(column, "n"))
		snprintf(out, size, "int(11)");
	else
		return -1;
	return 0;
}

static df_review_result *run_target(const char *sql)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.dialect = DF_DIALECT_MYSQL;
	o.in_transaction = false;
	o.column_type = fake_type;
	return review_with(&o, sql);
}

static void test_review__enum_append(void **state)
{
	/* values only appended at the end: no rebuild, and it says so */
	df_review_result *r = run_target("ALTER TABLE o MODIFY COLUMN status "
		"ENUM('new', 'paid', 'shipped') NOT NULL;");
	const df_review_finding *f = find(r, "mysql-table-rebuild");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_LOW);
	assert_int_equal(f->severity, DF_REVIEW_INFO);
	assert_non_null(strstr(f->message, "only appends 1 value at the end"));
	assert_null(strstr(f->message, "unless"));
	df_review_result_free(r);
	/* reordered or removed: a rebuild, said plainly */
	r = run_target("ALTER TABLE o MODIFY COLUMN status ENUM('paid', 'new', 'shipped');");
	f = find(r, "mysql-table-rebuild");
	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_non_null(strstr(f->message, "does not only append"));
	df_review_result_free(r);
	r = run_target("ALTER TABLE o MODIFY COLUMN status ENUM('new');");
	f = find(r, "mysql-table-rebuild");
	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	df_review_result_free(r);
	/* SET, appended */
	r = run_target("ALTER TABLE o MODIFY tags SET('a','b','c');");
	f = find(r, "mysql-table-rebuild");
	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_LOW);
	df_review_result_free(r);
	/* no target: the old list is unknown, and the message says that */
	r = run("ALTER TABLE o MODIFY COLUMN status ENUM('new', 'paid', 'shipped');");
	f = find(r, "mysql-table-rebuild");
	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_non_null(strstr(f->message, "not known here"));
	df_review_result_free(r);
	(void)state;
}

static void test_review__modify_nullability(void **state)
{
	/* the type is restated as it is: the finding is about NOT NULL */
	df_review_result *r = run_target("ALTER TABLE o MODIFY amount DECIMAL(12, 2) NOT NULL DEFAULT 0;");
	const df_review_finding *f = find(r, "change-column-type");

	assert_non_null(f);
	assert_non_null(strstr(f->message, "keeps o.amount's type (decimal(12,2)) but makes it NOT NULL"));
	assert_null(strstr(f->message, "copies the whole table"));
	df_review_result_free(r);
	r = run_target("ALTER TABLE o MODIFY n INT NULL;");
	f = find(r, "change-column-type");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "makes it nullable"));
	df_review_result_free(r);
	/* only the default: metadata, low */
	r = run_target("ALTER TABLE o MODIFY n INT DEFAULT 5;");
	f = find(r, "change-column-type");
	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_LOW);
	assert_non_null(strstr(f->message, "changes only its default"));
	df_review_result_free(r);
	/* a real type change is still called one */
	r = run_target("ALTER TABLE o MODIFY n BIGINT NOT NULL;");
	f = find(r, "change-column-type");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "changes o.n's type from int(11) to BIGINT and makes it NOT NULL"));
	df_review_result_free(r);
	/* no target: nullability is named first, the type change as a maybe */
	r = run("ALTER TABLE o MODIFY n INT NOT NULL DEFAULT 0;");
	f = find(r, "change-column-type");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "sets the column's nullability"));
	df_review_result_free(r);
	(void)state;
}

static void test_review__modify_change(void **state)
{
	df_review_result *r = run("ALTER TABLE o MODIFY amount DECIMAL(12,2) NOT NULL;");
	const df_review_finding *f = find(r, "change-column-type");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_non_null(strstr(f->message, "DECIMAL(12,2)"));
	df_review_result_free(r);
	r = run("ALTER TABLE o CHANGE COLUMN old_name new_name VARCHAR(20);");
	assert_int_equal(count(r, "rename-column"), 1);
	assert_string_equal(r->actions.v[0], "change column old_name to new_name in o");
	df_review_result_free(r);
	expect("ALTER TABLE o CHANGE c c BIGINT;", "rename-column", 0);
	expect("ALTER TABLE o RENAME COLUMN a TO b;", "rename-column", 1);
	expect("RENAME TABLE a TO b;", "rename-table", 1);
	expect("ALTER TABLE a RENAME TO b;", "rename-table", 1);
	expect("ALTER TABLE a RENAME INDEX i TO j;", "rename-table", 0);
}

static void test_review__data_change_with_ddl(void **state)
{
	df_review_result *r = run("ALTER TABLE users ADD COLUMN status VARCHAR(20);\n"
				  "UPDATE users SET status = 'a' WHERE status IS NULL;\n"
				  "DELETE FROM logs WHERE id < 10;");
	const df_review_finding *f = find(r, "data-change-with-ddl");

	assert_int_equal(count(r, "data-change-with-ddl"), 1);
	assert_int_equal(f->line, 2);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	df_review_result_free(r);
	expect("UPDATE users SET status = 'a' WHERE id = 1;", "data-change-with-ddl", 0);
	expect("ALTER TABLE users ADD COLUMN s INT;", "data-change-with-ddl", 0);
	/* seed rows for a new table: reported at low risk */
	r = run("CREATE TABLE c (id INT);\nINSERT INTO c VALUES (1);");
	assert_non_null(f = find(r, "data-change-with-ddl"));
	assert_int_equal(f->risk, DF_RISK_LOW);
	df_review_result_free(r);
}

static void test_review__destructive(void **state)
{
	expect("DROP TABLE orders;", "drop-table", 1);
	expect("DROP TEMPORARY TABLE t;", "drop-table", 0);
	expect("ALTER TABLE o DROP COLUMN c;", "drop-column", 1);
	expect("ALTER TABLE o DROP c;", "drop-column", 1);
	expect("ALTER TABLE o DROP INDEX i;", "drop-column", 0);
	expect("ALTER TABLE o DROP FOREIGN KEY fk;", "drop-column", 0);
	expect("TRUNCATE TABLE o;", "truncate", 1);
	expect("DELETE FROM o;", "delete-without-where", 1);
	expect("DELETE FROM o WHERE id = 1;", "delete-without-where", 0);
	expect("UPDATE o SET a = 1;", "update-without-where", 1);
	expect("DROP SCHEMA shop;", "drop-database", 1);
	expect("DROP DATABASE IF EXISTS shop;", "drop-database", 1);
	/* MySQL fills NOT NULL columns with the type's implicit default: no
	 * failure now, but '' / 0 in every row and old INSERTs fail (strict) */
	expect("ALTER TABLE o ADD COLUMN n INT NOT NULL;", "add-column-not-null", 1);
	expect("ALTER TABLE o ADD COLUMN n INT NOT NULL DEFAULT 0;", "add-column-not-null", 0);
	expect("ALTER TABLE o ADD COLUMN n INT NULL;", "add-column-not-null", 0);
	expect("CREATE TABLE o (id INT);\nALTER TABLE o ADD COLUMN n INT NOT NULL;",
	       "add-column-not-null", 0);
	/* PostgreSQL-only rules stay quiet */
	expect("CREATE INDEX i ON o (c);", "create-index-not-concurrently", 0);
	expect("ALTER TABLE o ADD COLUMN c INT;", "lock-timeout-missing", 0);
}

static void test_review__delimiter(void **state)
{
	df_review_result *r = run(
		"DELIMITER //\n"
		"CREATE TRIGGER trg BEFORE INSERT ON o FOR EACH ROW BEGIN\n"
		"  IF NEW.a IS NULL THEN SET NEW.a = 1; END IF;\n"
		"  DELETE FROM audit;\n"
		"END//\n"
		"DELIMITER ;\n"
		"DROP TABLE x;\n");

	assert_int_equal(r->statements, 2);
	/* the DELETE inside the trigger body is not a statement of its own */
	assert_int_equal(count(r, "delete-without-where"), 0);
	assert_int_equal(count(r, "drop-table"), 1);
	assert_int_equal(find(r, "drop-table")->line, 7);
	df_review_result_free(r);
	/* without DELIMITER the review splits as the runner does (the mysql
	 * client's way, df_sql_split()), so it sees what would be executed */
	{
		const char *sql = "CREATE PROCEDURE p() BEGIN DELETE FROM a; END;\nSELECT 1;";
		df_stmt_list l = DF_STMT_LIST_INIT;

		assert_int_equal(df_sql_split(&l, DF_DIALECT_MYSQL, sql, strlen(sql), NULL), 0);
		r = run(sql);
		assert_int_equal(r->statements, l.nr);
		df_review_result_free(r);
		df_stmt_list_release(&l);
	}
}

static void test_review__comments(void **state)
{
	df_review_result *r = run("# a comment\n-- another\n/* block */ DROP TABLE a; "
				  "-- devflow:allow drop-table\nDROP TABLE b;");

	assert_int_equal(count(r, "drop-table"), 1);
	assert_int_equal(find(r, "drop-table")->line, 4);
	df_review_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_review__algorithm_copy),
		cmocka_unit_test(test_review__lock_blocking),
		cmocka_unit_test(test_review__table_rebuild),
		cmocka_unit_test(test_review__modify_change),
		cmocka_unit_test(test_review__enum_append),
		cmocka_unit_test(test_review__modify_nullability),
		cmocka_unit_test(test_review__data_change_with_ddl),
		cmocka_unit_test(test_review__destructive),
		cmocka_unit_test(test_review__delimiter),
		cmocka_unit_test(test_review__comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
