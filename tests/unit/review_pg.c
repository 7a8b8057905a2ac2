/*
 * The risk review, PostgreSQL rules (src/review/pg*.c and the shared ones):
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

#include "devflow/error.h"
#include "devflow/review.h"
#include "review_check.h"

/* Review with: in a transaction (devflow's default), PostgreSQL `pg`. */
static df_review_result *run_v(const char *sql, int pg, bool in_tx)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.pg_version = pg;
	o.in_transaction = in_tx;
	return review_with(&o, sql);
}

static df_review_result *run(const char *sql)
{
	return run_v(sql, 15, true);
}

/* Assert that `rule` fires `n` times on sql (default options). */
static void expect(const char *sql, const char *rule, size_t n)
{
	expect_in(run(sql), sql, rule, n);
}

static void expect_v(const char *sql, int pg, bool in_tx, const char *rule, size_t n)
{
	char what[512];

	snprintf(what, sizeof(what), "%s (pg %d, tx %d)", sql, pg, in_tx);
	expect_in(run_v(sql, pg, in_tx), what, rule, n);
}

/* ---- destructive --------------------------------------------------------- */

static void test_review__drop_table(void **state)
{
	df_review_result *r = run("DROP TABLE orders;");
	const df_review_finding *f = find(r, "drop-table");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_int_equal(f->risk, DF_RISK_HIGH);
	assert_string_equal(f->file, "m.sql");
	assert_string_equal(f->statement, "DROP TABLE orders");
	assert_int_equal(f->line, 1);
	assert_int_equal(f->column, 1);
	assert_true(r->destroys_data);
	df_review_result_free(r);
	expect("DROP TABLE IF EXISTS a, b CASCADE;", "drop-table", 2);
	expect("CREATE TABLE tmp (id int);\nDROP TABLE tmp;", "drop-table", 0);
	expect("DROP VIEW v;", "drop-table", 0);
}

static void test_review__drop_column(void **state)
{
	df_review_result *r = run("ALTER TABLE users DROP COLUMN legacy;");
	const df_review_finding *f = find(r, "drop-column");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_non_null(strstr(f->hint, "expand-contract"));
	df_review_result_free(r);
	expect("CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;", "drop-column", 0);
	expect("ALTER TABLE t DROP CONSTRAINT c;", "drop-column", 0);
}

static void test_review__drop_schema_database(void **state)
{
	expect("DROP SCHEMA app CASCADE;", "drop-schema", 1);
	expect("DROP DATABASE shop;", "drop-database", 1);
	expect("DROP DATABASE IF EXISTS shop;", "drop-schema", 0);
}

static void test_review__truncate(void **state)
{
	df_review_result *r = run("TRUNCATE a, b CASCADE;");

	assert_int_equal(count(r, "truncate"), 2);
	assert_non_null(strstr(find(r, "truncate")->message, "CASCADE"));
	assert_true(r->changes_data);
	df_review_result_free(r);
	expect("CREATE TABLE s (id int);\nTRUNCATE s;", "truncate", 0);
}

static void test_review__delete_update_without_where(void **state)
{
	expect("DELETE FROM sessions;", "delete-without-where", 1);
	expect("DELETE FROM sessions WHERE expires < now();", "delete-without-where", 0);
	expect("WITH old AS (SELECT id FROM s WHERE x) DELETE FROM sessions;",
	       "delete-without-where", 1);
	expect("UPDATE users SET status = 'active';", "update-without-where", 1);
	expect("UPDATE users SET status = 'active' WHERE status IS NULL;",
	       "update-without-where", 0);
	expect("CREATE TABLE n (a int);\nUPDATE n SET a = 1;", "update-without-where", 0);
}

/* ---- backward-incompatible ------------------------------------------------ */

static void test_review__rename(void **state)
{
	df_review_result *r = run("ALTER TABLE users RENAME COLUMN email TO mail;");
	const df_review_finding *f = find(r, "rename-column");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_HIGH);
	df_review_result_free(r);
	expect("ALTER TABLE users RENAME TO members;", "rename-table", 1);
	expect("ALTER TABLE users RENAME CONSTRAINT a TO b;", "rename-column", 0);
	expect("CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;", "rename-column", 0);
	expect("CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;\n"
	       "ALTER TABLE u RENAME COLUMN a TO b;", "rename-column", 0);
	expect("ALTER VIEW v RENAME TO w;", "rename-table", 0);
}

static void test_review__add_column_not_null(void **state)
{
	df_review_result *r = run("ALTER TABLE users ADD COLUMN age int NOT NULL;");
	const df_review_finding *f = find(r, "add-column-not-null");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	df_review_result_free(r);
	expect("ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;", "add-column-not-null", 0);
	expect("ALTER TABLE users ADD COLUMN age int;", "add-column-not-null", 0);
	expect("ALTER TABLE users ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL;",
	       "add-column-not-null", 0);
	expect("CREATE TABLE users (id int);\nALTER TABLE users ADD COLUMN age int NOT NULL;",
	       "add-column-not-null", 0);
	/* a nullable add is low risk: no finding at all */
	r = run("SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nick text;");
	assert_int_equal(r->nr_findings, 0);
	assert_int_equal(r->actions.nr, 1);
	assert_string_equal(r->actions.v[0], "add column nick to users");
	df_review_result_free(r);
}

static void test_review__change_column_type(void **state)
{
	df_review_result *r = run("ALTER TABLE t ALTER COLUMN id TYPE bigint;");
	const df_review_finding *f = find(r, "change-column-type");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_HIGH);
	df_review_result_free(r);
	/* unknown current type, a target some types reach for free: still
	 * high until shown safe (seed 003), and the message says why */
	r = run("ALTER TABLE t ALTER COLUMN email TYPE text;");
	assert_non_null(f = find(r, "change-column-type"));
	assert_int_equal(f->risk, DF_RISK_HIGH);
	assert_non_null(strstr(f->message, "unless the change is binary-coercible"));
	df_review_result_free(r);
	/* known current type (same migration) and binary-coercible */
	expect("ALTER TABLE t ADD COLUMN c varchar(10);\n"
	       "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n"
	       "ALTER TABLE t ALTER COLUMN c TYPE text;\n"
	       "ALTER TABLE t ALTER COLUMN c SET DATA TYPE varchar;", "change-column-type", 0);
	expect("ALTER TABLE t ADD COLUMN c varchar(20);\n"
	       "ALTER TABLE t ALTER COLUMN c TYPE varchar(10);", "change-column-type", 1);
	expect("ALTER TABLE t ADD COLUMN n numeric(10,2);\n"
	       "ALTER TABLE t ALTER COLUMN n TYPE numeric(12,2);", "change-column-type", 0);
	expect("ALTER TABLE t ADD COLUMN n numeric(10,2);\n"
	       "ALTER TABLE t ALTER COLUMN n TYPE numeric(12,3);", "change-column-type", 1);
	expect("ALTER TABLE t ADD COLUMN a cidr;\nALTER TABLE t ALTER COLUMN a TYPE inet;",
	       "change-column-type", 0);
	expect("SET TIME ZONE 'UTC';\nALTER TABLE t ADD COLUMN ts timestamp;\n"
	       "ALTER TABLE t ALTER COLUMN ts TYPE timestamptz;", "change-column-type", 0);
	expect_v("SET TIME ZONE 'UTC';\nALTER TABLE t ADD COLUMN ts timestamp;\n"
		 "ALTER TABLE t ALTER COLUMN ts TYPE timestamptz;", 11, true,
		 "change-column-type", 1);
	expect("ALTER TABLE t ADD COLUMN ts timestamp;\n"
	       "ALTER TABLE t ALTER COLUMN ts TYPE timestamptz;", "change-column-type", 1);
	expect("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;",
	       "change-column-type", 0);
}

/* ---- locks and rewrites ------------------------------------------------------ */

static void test_review__add_column_rewrite(void **state)
{
	expect("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();", "add-column-rewrite", 1);
	expect("ALTER TABLE t ADD COLUMN r float8 DEFAULT random();", "add-column-rewrite", 1);
	expect("ALTER TABLE t ADD COLUMN f jsonb DEFAULT my_func();", "add-column-rewrite", 1);
	expect("ALTER TABLE t ADD COLUMN n int DEFAULT 10;", "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN n int DEFAULT 2 + 2;", "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();", "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP;",
	       "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN j jsonb DEFAULT '{}'::jsonb;", "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN a text[] DEFAULT ARRAY['x']::text[];",
	       "add-column-rewrite", 0);
	expect("ALTER TABLE t ADD COLUMN g numeric GENERATED ALWAYS AS (a * 2) STORED;",
	       "add-column-rewrite", 1);
	expect("ALTER TABLE t ADD COLUMN id bigint GENERATED BY DEFAULT AS IDENTITY;",
	       "add-column-rewrite", 1);
	expect("ALTER TABLE t ADD COLUMN id bigserial;", "add-column-rewrite", 1);
	expect("CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();",
	       "add-column-rewrite", 0);
	/* before PostgreSQL 11, any default rewrites */
	expect_v("ALTER TABLE t ADD COLUMN n int DEFAULT 10;", 10, true, "add-column-rewrite", 1);
	expect_v("ALTER TABLE t ADD COLUMN n int DEFAULT 10;", 11, true, "add-column-rewrite", 0);
	expect_v("ALTER TABLE t ADD COLUMN n int DEFAULT NULL;", 10, true, "add-column-rewrite", 0);
}

static void test_review__create_index_not_concurrently(void **state)
{
	df_review_result *r = run("CREATE INDEX users_email ON users (email);");
	const df_review_finding *f = find(r, "create-index-not-concurrently");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_non_null(strstr(f->hint, "CONCURRENTLY"));
	df_review_result_free(r);
	expect("CREATE UNIQUE INDEX ON users (email);", "create-index-not-concurrently", 1);
	/* a table created in the same migration is empty: no finding */
	expect("CREATE TABLE users (id int, email text);\n"
	       "CREATE INDEX users_email ON users (email);", "create-index-not-concurrently", 0);
	expect("CREATE TABLE app.users (id int, email text);\n"
	       "CREATE INDEX users_email ON app.users (email);", "create-index-not-concurrently", 0);
	expect("CREATE TABLE \"Users\" (id int);\nCREATE INDEX i ON \"Users\" (id);",
	       "create-index-not-concurrently", 0);
	expect("CREATE TABLE \"Users\" (id int);\nCREATE INDEX i ON users (id);",
	       "create-index-not-concurrently", 1);
	expect_v("CREATE INDEX CONCURRENTLY users_email ON users (email);", 15, false,
		 "create-index-not-concurrently", 0);
}

static void test_review__drop_index_not_concurrently(void **state)
{
	expect("DROP INDEX users_email;", "drop-index-not-concurrently", 1);
	expect_v("DROP INDEX CONCURRENTLY users_email;", 15, false, "drop-index-not-concurrently", 0);
	expect("CREATE INDEX i ON t (a);\nDROP INDEX i;", "drop-index-not-concurrently", 0);
	expect("DROP TRIGGER IF EXISTS trg ON foo;", "drop-index-not-concurrently", 0);
	/* an index of a table created earlier in the same migration: new, empty */
	expect("CREATE TABLE t (id int PRIMARY KEY, a int UNIQUE);\nDROP INDEX t_a_key;",
	       "drop-index-not-concurrently", 0);
	expect("CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE t DROP CONSTRAINT t_pkey;\n"
	       "DROP INDEX IF EXISTS public.t_pkey;", "drop-index-not-concurrently", 0);
	/* ... but not an index of another table whose name starts alike */
	expect("CREATE TABLE t (id int);\nDROP INDEX tags_name_key;", "drop-index-not-concurrently", 1);
	expect("CREATE TABLE t (id int);\nDROP INDEX users_t_key;", "drop-index-not-concurrently", 1);
}

static void test_review__lock_timeout_names_the_table(void **state)
{
	df_review_result *r = run("DROP INDEX users_email;");
	const df_review_finding *f = find(r, "lock-timeout-missing");

	/* DROP INDEX locks the index's table, not "users_email" as a table */
	assert_non_null(f);
	assert_non_null(strstr(f->message, "lock on the table of index users_email"));
	assert_null(strstr(f->message, "lock on users_email"));
	df_review_result_free(r);
	r = run("CREATE INDEX i ON users (a);");
	f = find(r, "lock-timeout-missing");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "lock on users"));
	df_review_result_free(r);
	(void)state;
}

static void test_review__rename_enum_value(void **state)
{
	df_review_result *r = run("ALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy';");
	const df_review_finding *f = find(r, "rename-enum-value");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_non_null(strstr(f->message, "still writes 'sad' fails"));
	df_review_result_free(r);
	/* a type created by the migration: nothing uses it yet */
	expect("CREATE TYPE mood AS ENUM ('sad');\nALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy';",
	       "rename-enum-value", 0);
	expect("ALTER TYPE mood ADD VALUE 'meh';", "rename-enum-value", 0);
	expect("ALTER TYPE mood RENAME TO feeling;", "rename-enum-value", 0);
	(void)state;
}

static void test_review__refresh_matview(void **state)
{
	df_review_result *r = run("REFRESH MATERIALIZED VIEW sales_summary;");
	const df_review_finding *f = find(r, "refresh-matview-not-concurrently");

	assert_non_null(f);
	assert_non_null(strstr(f->message, "ACCESS EXCLUSIVE"));
	assert_non_null(strstr(f->hint, "CONCURRENTLY sales_summary"));
	df_review_result_free(r);
	expect("REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;",
	       "refresh-matview-not-concurrently", 0);
	expect("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;\nREFRESH MATERIALIZED VIEW mv;",
	       "refresh-matview-not-concurrently", 0);
	(void)state;
}

static void test_review__lock_table(void **state)
{
	static const struct { const char *sql; int risk; } cases[] = {
		{ "LOCK TABLE a;", DF_RISK_HIGH },
		{ "LOCK TABLE a IN ACCESS EXCLUSIVE MODE;", DF_RISK_HIGH },
		{ "LOCK TABLE a IN EXCLUSIVE MODE;", DF_RISK_MEDIUM },
		{ "LOCK TABLE a IN SHARE ROW EXCLUSIVE MODE;", DF_RISK_MEDIUM },
		{ "LOCK TABLE a IN SHARE MODE NOWAIT;", DF_RISK_MEDIUM },
		{ "LOCK TABLE a IN SHARE UPDATE EXCLUSIVE MODE;", DF_RISK_LOW },
		{ "LOCK TABLE a IN ROW EXCLUSIVE MODE;", DF_RISK_LOW },
		{ "LOCK TABLE a IN ACCESS SHARE MODE;", DF_RISK_LOW },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		df_review_result *r = run(cases[i].sql);
		const df_review_finding *f = find(r, "lock-table");

		assert_non_null(f);
		assert_int_equal(f->risk, cases[i].risk);
		df_review_result_free(r);
	}
	expect("CREATE TABLE a (id int);\nLOCK TABLE a IN ACCESS EXCLUSIVE MODE;", "lock-table", 0);
	expect("SELECT 1;", "lock-table", 0);
	(void)state;
}

static void test_review__drop_column_used_by_view(void **state)
{
	df_review_result *r = run("CREATE VIEW v AS SELECT id, email FROM users;\n"
		"ALTER TABLE users DROP COLUMN email;");
	const df_review_finding *f = find(r, "drop-column-used-by-view");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_int_equal(f->line, 2);
	assert_non_null(strstr(f->message, "fails: view v depends on it"));
	df_review_result_free(r);
	r = run("CREATE VIEW v AS SELECT u.* FROM public.users u;\n"
		"ALTER TABLE users DROP COLUMN email CASCADE;");
	f = find(r, "drop-column-used-by-view");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "also drops view v"));
	df_review_result_free(r);
	/* a column the view does not read, a view on another table, a view
	 * dropped first: none */
	expect("CREATE VIEW v AS SELECT id FROM users;\nALTER TABLE users DROP COLUMN email;",
	       "drop-column-used-by-view", 0);
	expect("CREATE VIEW v AS SELECT email FROM accounts;\nALTER TABLE users DROP COLUMN email;",
	       "drop-column-used-by-view", 0);
	expect("CREATE VIEW v AS SELECT email FROM users;\nDROP VIEW v;\n"
	       "ALTER TABLE users DROP COLUMN email;", "drop-column-used-by-view", 0);
	(void)state;
}

static df_review_result *run_fmt(const char *sql, int format)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.format = format;
	return review_with(&o, sql);
}

static void test_review__own_file_hint_per_format(void **state)
{
	/* enum df_migration_format: 0 devflow, 1 dbmate, 2 golang-migrate,
	 * 3 Flyway, 5 goose */
	static const struct { int format; const char *says, *not; } cases[] = {
		{ 0, "-- devflow:no-transaction", NULL },
		{ 1, "'-- migrate:up transaction:false'", "marked -- devflow" },
		{ 2, "a migration file of its own", "marked -- devflow" },
		{ 3, "as Flyway runs it", "marked -- devflow" },
		{ 5, "-- +goose NO TRANSACTION", "marked -- devflow" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		df_review_result *r = run_fmt("SELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (a);",
			cases[i].format);
		const df_review_finding *f = find(r, "concurrently-in-transaction");

		assert_non_null(f);
		assert_non_null(strstr(f->hint, cases[i].says));
		if (cases[i].not)
			assert_null(strstr(f->hint, cases[i].not));
		df_review_result_free(r);
		r = run_fmt("CREATE INDEX i ON t (a);", cases[i].format);
		f = find(r, "create-index-not-concurrently");
		assert_non_null(f);
		assert_non_null(strstr(f->hint, cases[i].says));
		df_review_result_free(r);
	}
	(void)state;
}

static void test_review__concurrently_in_transaction(void **state)
{
	df_review_result *r = run("SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);");
	const df_review_finding *f = find(r, "concurrently-in-transaction");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_non_null(strstr(f->hint, "-- devflow:no-transaction"));
	df_review_result_free(r);
	expect_v("CREATE INDEX CONCURRENTLY i ON t (a);", 15, false, "concurrently-in-transaction", 0);
	expect("-- devflow:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
	       "concurrently-in-transaction", 0);
	/* a file whose only statement cannot run in a transaction runs outside
	 * one (the runner's check_section `lone`), in any format */
	expect("CREATE INDEX CONCURRENTLY i ON t (a);", "concurrently-in-transaction", 0);
	expect("-- a comment\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\n",
	       "concurrently-in-transaction", 0);
	expect("SELECT 1;\nDROP INDEX CONCURRENTLY i;", "concurrently-in-transaction", 1);
	expect("DROP INDEX CONCURRENTLY i;", "concurrently-in-transaction", 0);
	expect("SELECT 1;\nREINDEX INDEX CONCURRENTLY i;", "concurrently-in-transaction", 1);
	expect("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;", "concurrently-in-transaction", 1);
	/* after a COMMIT the rest runs outside the transaction */
	expect("COMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);", "concurrently-in-transaction", 0);
}

static void test_review__constraint_without_not_valid(void **state)
{
	expect("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id);",
	       "constraint-without-not-valid", 1);
	expect("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id) NOT VALID;",
	       "constraint-without-not-valid", 0);
	expect("ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0);",
	       "constraint-without-not-valid", 1);
	expect("ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID;",
	       "constraint-without-not-valid", 0);
	expect("ALTER TABLE orders ADD COLUMN uid int REFERENCES users (id);",
	       "constraint-without-not-valid", 1);
	expect("CREATE TABLE o (uid int);\nALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (uid) "
	       "REFERENCES users (id);", "constraint-without-not-valid", 0);
	expect("CREATE TABLE o (uid int REFERENCES users (id));", "constraint-without-not-valid", 0);
}

static void test_review__validate_in_same_transaction(void **state)
{
	const char *sql =
		"ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES u (id) NOT VALID;\n"
		"ALTER TABLE o VALIDATE CONSTRAINT fk;";

	expect(sql, "validate-in-same-transaction", 1);
	expect_v(sql, 15, false, "validate-in-same-transaction", 0);
	expect("ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES u (id) NOT VALID;\n"
	       "COMMIT;\nBEGIN;\nALTER TABLE o VALIDATE CONSTRAINT fk;",
	       "validate-in-same-transaction", 0);
	expect("ALTER TABLE o VALIDATE CONSTRAINT fk;", "validate-in-same-transaction", 0);
}

static void test_review__constraint_builds_index(void **state)
{
	expect("ALTER TABLE t ADD CONSTRAINT u UNIQUE (email);", "constraint-builds-index", 1);
	expect("ALTER TABLE t ADD PRIMARY KEY (id);", "constraint-builds-index", 1);
	expect("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_email_idx;",
	       "constraint-builds-index", 0);
	expect("ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX t_id_idx;",
	       "constraint-builds-index", 0);
	expect("ALTER TABLE t ADD COLUMN code text UNIQUE;", "constraint-builds-index", 1);
	expect("CREATE TABLE t (email text);\nALTER TABLE t ADD CONSTRAINT u UNIQUE (email);",
	       "constraint-builds-index", 0);
}

static void test_review__set_not_null(void **state)
{
	df_review_result *r = run("ALTER TABLE t ALTER COLUMN c SET NOT NULL;");
	const df_review_finding *f = find(r, "set-not-null");

	assert_non_null(f);
	assert_non_null(strstr(f->hint, "NOT VALID"));
	df_review_result_free(r);
	/* PostgreSQL 12+: a validated CHECK (c IS NOT NULL) makes it scan-free */
	expect("ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\nCOMMIT;\n"
	       "BEGIN;\nALTER TABLE t VALIDATE CONSTRAINT c_nn;\n"
	       "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "set-not-null", 0);
	expect_v("ALTER TABLE t VALIDATE CONSTRAINT c_nn;\n"
		 "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", 11, true, "set-not-null", 1);
	expect("ALTER TABLE t ADD CONSTRAINT d_nn CHECK (d IS NOT NULL) NOT VALID;\n"
	       "ALTER TABLE t VALIDATE CONSTRAINT d_nn;\n"
	       "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "set-not-null", 1);
	expect("ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\n"
	       "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "set-not-null", 1);
	expect("CREATE TABLE t (c int);\nALTER TABLE t ALTER COLUMN c SET NOT NULL;",
	       "set-not-null", 0);
	expect("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;", "set-not-null", 0);
}

static void test_review__maintenance(void **state)
{
	expect("VACUUM FULL t;", "vacuum-full", 1);
	expect("VACUUM (FULL, ANALYZE) t;", "vacuum-full", 1);
	expect("VACUUM (FULL false) t;", "vacuum-full", 0);
	expect("VACUUM ANALYZE t;", "vacuum-full", 0);
	expect("CLUSTER t USING t_pkey;", "cluster", 1);
	expect("REINDEX TABLE t;", "reindex-not-concurrently", 1);
	expect_v("REINDEX TABLE t;", 11, true, "reindex-not-concurrently", 0);
	expect_v("REINDEX TABLE CONCURRENTLY t;", 15, false, "reindex-not-concurrently", 0);
	expect_v("REINDEX (CONCURRENTLY false) INDEX i;", 15, false, "reindex-not-concurrently", 1);
}

/* ---- checks no linter has ---------------------------------------------------- */

static void test_review__cannot_run_in_transaction(void **state)
{
	expect("SELECT 1;\nVACUUM t;", "cannot-run-in-transaction", 1);
	expect("SELECT 1;\nVACUUM;", "cannot-run-in-transaction", 1);
	expect_v("VACUUM t;", 15, false, "cannot-run-in-transaction", 0);
	expect("SELECT 1;\nCREATE DATABASE shop;", "cannot-run-in-transaction", 1);
	expect_v("CREATE DATABASE shop;", 15, false, "cannot-run-in-transaction", 0);
	expect("SELECT 1;\nDROP DATABASE shop;", "cannot-run-in-transaction", 1);
	expect("SELECT 1;\nREINDEX DATABASE shop;", "cannot-run-in-transaction", 1);
	expect("SELECT 1;\nREINDEX SYSTEM shop;", "cannot-run-in-transaction", 1);
	expect("REINDEX TABLE t;", "cannot-run-in-transaction", 0);
	expect("SELECT 1;\nCREATE TABLESPACE fast LOCATION '/ssd';", "cannot-run-in-transaction", 1);
	expect("SELECT 1;\nALTER SYSTEM SET work_mem = '64MB';", "cannot-run-in-transaction", 1);
	/* ALTER TYPE ... ADD VALUE: refused in a transaction before 12 only */
	expect_v("ALTER TYPE mood ADD VALUE 'meh';", 11, true, "cannot-run-in-transaction", 1);
	expect_v("ALTER TYPE mood ADD VALUE 'meh';", 12, true, "cannot-run-in-transaction", 0);
	expect_v("ALTER TYPE mood ADD VALUE 'meh';", 11, false, "cannot-run-in-transaction", 0);
	/* a lone statement runs outside a transaction (the runner's `lone`) */
	expect("VACUUM t;", "cannot-run-in-transaction", 0);
	expect("CREATE DATABASE shop;", "cannot-run-in-transaction", 0);
	/* a no-transaction migration that opens its own BEGIN */
	expect_v("BEGIN;\nVACUUM t;\nCOMMIT;", 15, false, "cannot-run-in-transaction", 1);
	expect_v("BEGIN;\nCOMMIT;\nVACUUM t;", 15, false, "cannot-run-in-transaction", 0);
}

static void test_review__enum_value_same_transaction(void **state)
{
	const char *use = "ALTER TYPE mood ADD VALUE 'meh';\n"
		"UPDATE people SET m = 'meh' WHERE m = 'sad';";
	df_review_result *r = run(use);
	const df_review_finding *f = find(r, "enum-value-same-transaction");

	assert_non_null(f);
	assert_int_equal(f->risk, DF_RISK_HIGH);
	assert_int_equal(f->line, 2);
	df_review_result_free(r);
	/* not used; used after the transaction ended; no transaction */
	expect("ALTER TYPE mood ADD VALUE 'meh';\nUPDATE people SET m = 'ok';",
	       "enum-value-same-transaction", 0);
	expect_v("ALTER TYPE mood ADD VALUE 'meh';\nUPDATE people SET m = 'meh';", 15, false,
		 "enum-value-same-transaction", 0);
	expect_v("BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;\n"
		 "UPDATE people SET m = 'meh';", 15, false, "enum-value-same-transaction", 0);
	expect("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'sad';\n"
	       "INSERT INTO people (m) VALUES ('meh');", "enum-value-same-transaction", 1);
	/* a type created in the same transaction may use its new values */
	expect("CREATE TYPE mood AS ENUM ('sad');\nALTER TYPE mood ADD VALUE 'meh';\n"
	       "CREATE TABLE p (m mood DEFAULT 'meh');", "enum-value-same-transaction", 0);
	/* before 12 the ADD VALUE itself fails: that is the other rule */
	expect_v(use, 11, true, "enum-value-same-transaction", 0);
}

static void test_review__drop_cascade(void **state)
{
	df_review_result *r = run("DROP TYPE mood CASCADE;");

	assert_int_equal(count(r, "drop-cascade"), 1);
	assert_true(r->destroys_data);
	assert_int_equal(find(r, "drop-cascade")->risk, DF_RISK_HIGH);
	assert_string_equal(r->actions.v[0], "drop type mood with cascade (destroys data)");
	df_review_result_free(r);
	expect("DROP FUNCTION f(int) CASCADE;", "drop-cascade", 1);
	expect("DROP VIEW v CASCADE;", "drop-cascade", 1);
	expect("DROP MATERIALIZED VIEW IF EXISTS mv CASCADE;", "drop-cascade", 1);
	expect("DROP DOMAIN d CASCADE;", "drop-cascade", 1);
	r = run("DROP TYPE mood;");
	assert_int_equal(count(r, "drop-cascade"), 0);
	assert_false(r->destroys_data);
	df_review_result_free(r);
	expect("DROP VIEW v RESTRICT;", "drop-cascade", 0);
	expect("DROP SEQUENCE s CASCADE;", "drop-cascade", 0);
	expect("CREATE TYPE mood AS ENUM ('a');\nDROP TYPE mood CASCADE;", "drop-cascade", 0);
}

static void test_review__alter_table_rewrite(void **state)
{
	expect("ALTER TABLE t SET TABLESPACE fast;", "alter-table-rewrite", 1);
	expect("ALTER TABLE t SET LOGGED;", "alter-table-rewrite", 1);
	expect("ALTER TABLE t SET UNLOGGED;", "alter-table-rewrite", 1);
	expect("ALTER TABLE t SET ACCESS METHOD heap2;", "alter-table-rewrite", 1);
	expect("ALTER TABLE t SET (fillfactor = 70);", "alter-table-rewrite", 0);
	expect("CREATE TABLE t (id int);\nALTER TABLE t SET TABLESPACE fast;",
	       "alter-table-rewrite", 0);
	expect("ALTER TABLE t SET TABLESPACE fast;", "lock-timeout-missing", 1);
}

static void test_review__create_trigger(void **state)
{
	const char *trg = "CREATE TRIGGER audit AFTER INSERT OR UPDATE ON orders "
		"FOR EACH ROW EXECUTE FUNCTION audit_row();";
	df_review_result *r = run(trg);

	assert_int_equal(count(r, "create-trigger"), 1);
	assert_non_null(strstr(find(r, "create-trigger")->message, "SHARE ROW EXCLUSIVE"));
	assert_int_equal(count(r, "lock-timeout-missing"), 1);
	df_review_result_free(r);
	expect("CREATE OR REPLACE TRIGGER audit BEFORE DELETE ON public.orders "
	       "FOR EACH ROW EXECUTE FUNCTION f();", "create-trigger", 1);
	expect("CREATE TABLE orders (id int);\nCREATE TRIGGER audit AFTER INSERT ON orders "
	       "FOR EACH ROW EXECUTE FUNCTION audit_row();", "create-trigger", 0);
	expect("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f();",
	       "create-trigger", 0);
}

static void test_review__drop_not_null(void **state)
{
	df_review_result *r = run("ALTER TABLE t ALTER COLUMN c DROP NOT NULL;");

	assert_int_equal(count(r, "drop-not-null"), 1);
	assert_int_equal(find(r, "drop-not-null")->risk, DF_RISK_LOW);
	df_review_result_free(r);
	expect("ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "drop-not-null", 0);
	expect("CREATE TABLE t (c int NOT NULL);\nALTER TABLE t ALTER COLUMN c DROP NOT NULL;",
	       "drop-not-null", 0);
}

static void test_review__detach_partition(void **state)
{
	expect("ALTER TABLE m DETACH PARTITION m_2023;", "detach-partition-not-concurrently", 1);
	expect_v("ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY;", 15, false,
		 "detach-partition-not-concurrently", 0);
	expect("ALTER TABLE m DETACH PARTITION m_2023 FINALIZE;",
	       "detach-partition-not-concurrently", 0);
	expect("ALTER TABLE m ATTACH PARTITION m_2023 FOR VALUES IN (2023);",
	       "detach-partition-not-concurrently", 0);
}

static void test_review__concurrently_if_not_exists(void **state)
{
	expect_v("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", 15, false,
		 "concurrently-if-not-exists", 1);
	expect_v("CREATE INDEX CONCURRENTLY i ON t (c);", 15, false,
		 "concurrently-if-not-exists", 0);
	expect("CREATE INDEX IF NOT EXISTS i ON t (c);", "concurrently-if-not-exists", 0);
}

static void test_review__lock_table_modes(void **state)
{
	expect("LOCK TABLE a IN ACCESS SHARE MODE;", "lock-timeout-missing", 0);
	expect("LOCK TABLE a IN ROW EXCLUSIVE MODE;", "lock-timeout-missing", 0);
	expect("LOCK TABLE a IN SHARE UPDATE EXCLUSIVE MODE;", "lock-timeout-missing", 0);
	expect("LOCK a;", "lock-timeout-missing", 1);
	expect("LOCK TABLE a IN SHARE MODE NOWAIT;", "lock-timeout-missing", 1);
	expect("LOCK TABLE a IN EXCLUSIVE MODE;", "lock-timeout-missing", 1);
	df_review_result *r = run("LOCK TABLE a IN SHARE ROW EXCLUSIVE MODE;");
	assert_non_null(strstr(find(r, "lock-timeout-missing")->message,
			       "a SHARE ROW EXCLUSIVE lock on a"));
	df_review_result_free(r);
}

static void test_review__reindex_system_hint(void **state)
{
	df_review_result *r = run_v("REINDEX SYSTEM shop;", 15, false);

	for (size_t i = 0; i < r->nr_findings; i++)
		assert_null(strstr(r->findings[i].hint, "CONCURRENTLY"));
	assert_int_equal(count(r, "reindex-not-concurrently"), 0);
	df_review_result_free(r);
	expect_v("REINDEX DATABASE shop;", 15, false, "reindex-not-concurrently", 1);
}

/* A target's column types, for the type-change rating. */
static int fake_column_type(char *out, size_t size, const char *table, const char *column,
	void *payload)
{
	static const struct { const char *tab, *col, *type; } cols[] = {
		{ "users", "email", "character varying(100)" },
		{ "users", "age", "integer" },
		{ "prices", "amount", "numeric(10,2)" },
		{ "events", "at", "timestamp(3) without time zone" },
	};
	(void)payload;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(cols[i].tab, table) && !strcmp(cols[i].col, column)) {
			snprintf(out, size, "%s", cols[i].type);
			return 0;
		}
	return DF_ENOTFOUND;
}

static df_review_result *run_target(const char *sql)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;

	o.column_type = fake_column_type;
	return review_with(&o, sql);
}

static void expect_type_risk(const char *sql, df_review_risk risk)
{
	df_review_result *r = run_target(sql);
	const df_review_finding *f = find(r, "change-column-type");

	if (!f || f->risk != risk)
		fail_msg("%s: expected change-column-type of risk %s, got %s", sql,
			 df_review_risk_name(risk), f ? df_review_risk_name(f->risk) : "none");
	df_review_result_free(r);
}

static void test_review__change_column_type_target(void **state)
{
	expect_type_risk("ALTER TABLE users ALTER COLUMN email TYPE varchar(200);", DF_RISK_LOW);
	expect_type_risk("ALTER TABLE users ALTER COLUMN email TYPE text;", DF_RISK_LOW);
	expect_type_risk("ALTER TABLE users ALTER COLUMN email TYPE varchar(50);", DF_RISK_HIGH);
	expect_type_risk("ALTER TABLE users ALTER COLUMN age TYPE bigint;", DF_RISK_HIGH);
	expect_type_risk("ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,2);", DF_RISK_LOW);
	expect_type_risk("ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,4);", DF_RISK_HIGH);
	expect_type_risk("ALTER TABLE events ALTER COLUMN at TYPE timestamp(6);", DF_RISK_LOW);
	/* a column the target does not have: unknown, high */
	expect_type_risk("ALTER TABLE users ALTER COLUMN nick TYPE text;", DF_RISK_HIGH);
	/* the low finding is a note, and says where the type came from */
	df_review_result *r = run_target("ALTER TABLE users ALTER COLUMN email TYPE text;");
	assert_int_equal(find(r, "change-column-type")->severity, DF_REVIEW_INFO);
	assert_non_null(strstr(find(r, "change-column-type")->message,
			       "from varchar(100) (its type on the target) to text"));
	df_review_result_free(r);
}

/* ---- process ---------------------------------------------------------------- */

static void test_review__lock_timeout_missing(void **state)
{
	df_review_result *r = run("ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;");

	/* once per migration, at the first statement that needs it */
	assert_int_equal(count(r, "lock-timeout-missing"), 1);
	assert_int_equal(find(r, "lock-timeout-missing")->risk, DF_RISK_LOW);
	assert_int_equal(find(r, "lock-timeout-missing")->line, 1);
	df_review_result_free(r);
	expect("SET lock_timeout = '5s';\nALTER TABLE a ADD COLUMN x int;", "lock-timeout-missing", 0);
	expect("SET LOCAL lock_timeout TO '5s';\nALTER TABLE a ADD COLUMN x int;",
	       "lock-timeout-missing", 0);
	expect("SELECT set_config('lock_timeout', '5s', false);\nALTER TABLE a ADD COLUMN x int;",
	       "lock-timeout-missing", 0);
	expect("SET lock_timeout = 0;\nALTER TABLE a ADD COLUMN x int;", "lock-timeout-missing", 1);
	expect("SET foo.lock_timeout = '1s';\nALTER TABLE a ADD COLUMN x int;",
	       "lock-timeout-missing", 1);
	expect("ALTER TABLE a ADD COLUMN x int;\nSET lock_timeout = '1s';", "lock-timeout-missing", 1);
	/* SET LOCAL ends with its transaction */
	expect("SET LOCAL lock_timeout = '5s';\nCOMMIT;\nBEGIN;\nALTER TABLE a ADD COLUMN x int;",
	       "lock-timeout-missing", 1);
	/* only write-blocking locks on tables that existed before */
	expect("CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN x int;", "lock-timeout-missing", 0);
	expect("ALTER TABLE a VALIDATE CONSTRAINT c;", "lock-timeout-missing", 0);
	expect("CREATE TYPE mood AS ENUM ('sad', 'ok');", "lock-timeout-missing", 0);
	expect("CREATE INDEX i ON a (x);", "lock-timeout-missing", 1);
	expect("LOCK TABLE a IN ACCESS EXCLUSIVE MODE;", "lock-timeout-missing", 1);
}

static void test_review__data_change_with_ddl(void **state)
{
	df_review_result *r = run("ALTER TABLE users ADD COLUMN status text;\n"
				  "UPDATE users SET status = 'active';");
	const df_review_finding *f = find(r, "data-change-with-ddl");

	assert_non_null(f);
	assert_int_equal(f->line, 2);
	assert_int_equal(f->risk, DF_RISK_MEDIUM);
	assert_true(r->changes_data);
	assert_true(r->changes_schema);
	df_review_result_free(r);
	/* targeted updates are reported at low risk */
	r = run("UPDATE users SET status = 'x' WHERE id = 1;\nALTER TABLE users ADD COLUMN s text;");
	assert_non_null(f = find(r, "data-change-with-ddl"));
	assert_int_equal(f->risk, DF_RISK_LOW);
	df_review_result_free(r);
	expect_v("ALTER TABLE users ADD COLUMN status text;\nUPDATE users SET status = 'a';",
		 15, false, "data-change-with-ddl", 0);
	expect("ALTER TABLE users ADD COLUMN status text;\nCOMMIT;\nBEGIN;\n"
	       "UPDATE users SET status = 'a';", "data-change-with-ddl", 0);
	expect("CREATE TABLE n (a int);\nUPDATE n SET a = 1;", "data-change-with-ddl", 0);
	expect("UPDATE users SET status = 'a';", "data-change-with-ddl", 0);
}

static void test_review__transactions(void **state)
{
	/* a file with its own BEGIN/COMMIT runs outside devflow's transaction
	 * (the runner's tx_control): nothing nests, nothing commits early */
	expect("BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;", "transaction-nesting", 0);
	/* ... but a change outside its BEGIN ... COMMIT commits by itself */
	{
		df_review_result *r = run("ALTER TABLE t ADD COLUMN c int;\nBEGIN;\n"
			"ALTER TABLE t ADD COLUMN d int;\nCOMMIT;");
		const df_review_finding *f = find(r, "transaction-nesting");

		assert_non_null(f);
		assert_int_equal(f->line, 1);
		assert_int_equal(f->severity, DF_REVIEW_INFO);
		assert_non_null(strstr(f->message, "runs it without a transaction of its own"));
		assert_null(strstr(f->message, "early"));
		df_review_result_free(r);
	}
	expect("SELECT 1;\nCOMMIT;", "transaction-nesting", 1);
	expect_v("BEGIN;\nSELECT 1;\nCOMMIT;", 15, false, "transaction-nesting", 0);
	expect_v("BEGIN;\nBEGIN;\nCOMMIT;", 15, false, "transaction-nesting", 1);
	expect_v("BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;", 15, false, "transaction-nesting", 1);
	expect_v("BEGIN;\nCREATE TABLE u (id int);", 15, false, "uncommitted-transaction", 1);
	expect_v("START TRANSACTION;\nCREATE TABLE u (id int);", 15, false,
		 "uncommitted-transaction", 1);
	expect_v("BEGIN;\nCREATE TABLE u (id int);\nROLLBACK;", 15, false,
		 "uncommitted-transaction", 0);
	/* a file with its own BEGIN runs outside devflow's transaction: its
	 * missing COMMIT is as uncommitted as in a no-transaction migration */
	expect("BEGIN;\nCREATE TABLE u (id int);", "uncommitted-transaction", 1);
	expect_v("SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;", 15, false, "transaction-nesting", 0);
}

/* ---- robustness, directives, options ------------------------------------------ */

static void test_review__syntax_error(void **state)
{
	/* a statement PostgreSQL rejects is an error at the parser's position,
	 * whatever its kind (CREATE TABLE is not otherwise parsed) */
	df_review_result *r = run("CREATE TABLE ok (id int);\nCREATE TABLE bad (id int DEFALT 1);");
	const df_review_finding *f = find(r, "syntax-error");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_ERROR);
	assert_int_equal(f->risk, DF_RISK_HIGH);
	assert_int_equal(f->line, 2);
	assert_int_equal(f->column, 26);
	assert_non_null(strstr(f->message, "DEFALT"));
	assert_int_equal(count(r, "unparsed-statement"), 0);
	df_review_result_free(r);
	expect("ALTER TABLE t DROP COLUMN c, ADD COLUMN;", "syntax-error", 1);
	/* valid statements of every kind: none */
	expect("CREATE TABLE ok (id int DEFAULT 1);\nINSERT INTO ok VALUES (1);\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;", "syntax-error", 0);
	/* a psql variable, or a target newer than the grammar: a note instead */
	expect("ALTER TABLE t ADD COLUMN c int DEFAULT :def;", "syntax-error", 0);
	expect_v("CREATE TABLE bad (id int DEFALT 1);", 17, true, "syntax-error", 0);
	expect_v("CREATE TABLE bad (id int DEFALT 1);", 17, true, "unparsed-statement", 1);
	(void)state;
}

static void test_review__unparsed_statement(void **state)
{
	df_review_result *r = run("ALTER TABLE t DROP COLUMN c, ADD COLUMN c int DEFAULT :v;\nDROP TABLE x;");
	const df_review_finding *f = find(r, "unparsed-statement");

	assert_non_null(f);
	assert_int_equal(f->severity, DF_REVIEW_INFO);
	assert_int_equal(r->unparsed, 1);
	assert_int_equal(r->statements, 2);
	/* the token-level rules still review it */
	assert_int_equal(count(r, "drop-column"), 1);
	assert_int_equal(count(r, "drop-table"), 1);
	df_review_result_free(r);
	/* psql meta-commands and COPY data are skipped, not parsed */
	r = run("\\set ON_ERROR_STOP 1\nCOPY t FROM stdin;\n1\tDROP TABLE x;\n\\.\n"
		"SELECT 1 \\gset\nDROP TABLE y;");
	assert_int_equal(r->unparsed, 0);
	assert_int_equal(count(r, "drop-table"), 1);
	assert_int_equal(r->statements, 3);
	df_review_result_free(r);
	/* garbage, unterminated quotes, empty input */
	r = run("ALTER TABLE 'oops");
	df_review_result_free(r);
	r = run("");
	assert_int_equal(r->statements, 0);
	assert_int_equal(r->nr_findings, 0);
	df_review_result_free(r);
	r = review_with(NULL, "/* only a comment */ -- and another\n");
	assert_int_equal(r->statements, 0);
	df_review_result_free(r);
}

static void test_review__allow_comments(void **state)
{
	/* the line before, a trailing comment, a comment inside, several rules */
	expect("-- devflow:allow drop-table\nDROP TABLE a;", "drop-table", 0);
	expect("DROP TABLE a; -- devflow:allow drop-table\nDROP TABLE b;", "drop-table", 1);
	expect("DROP /* devflow:allow drop-table */ TABLE a;", "drop-table", 0);
	expect("-- devflow:allow rename-column, drop-table\nDROP TABLE a;", "drop-table", 0);
	expect("-- devflow:allow all\nDROP TABLE a;", "drop-table", 0);
	/* it covers its statement only */
	expect("-- devflow:allow drop-table\nDROP TABLE a;\nDROP TABLE b;", "drop-table", 1);
	expect("-- devflow:allow drop-column\nDROP TABLE a;", "drop-table", 1);
	expect("-- devflow:allow drop-tables\nDROP TABLE a;", "drop-table", 1);
}

static void test_review__disabled_rules(void **state)
{
	df_strlist off = DF_STRLIST_INIT;
	df_review_opts o = DF_REVIEW_OPTS_INIT;
	df_review_result *r;

	assert_int_equal(df_strlist_push(&off, "drop-table"), 0);
	assert_int_equal(df_strlist_push(&off, "lock-timeout-missing"), 0);
	o.disabled = &off;
	r = review_with(&o, "DROP TABLE a;\nALTER TABLE b DROP COLUMN c;");
	assert_int_equal(count(r, "drop-table"), 0);
	assert_int_equal(count(r, "lock-timeout-missing"), 0);
	assert_int_equal(count(r, "drop-column"), 1);
	df_review_result_free(r);
	df_strlist_release(&off);
}

static void test_review__positions(void **state)
{
	df_review_opts o = DF_REVIEW_OPTS_INIT;
	df_review_result *r;
	const df_review_finding *f;
	char big[1200];

	r = run("SET lock_timeout = '1s';\n\n  ALTER TABLE t\n    ADD CONSTRAINT u UNIQUE (a);");
	assert_non_null(f = find(r, "constraint-builds-index"));
	assert_int_equal(f->line, 4);
	assert_int_equal(f->column, 9);
	assert_string_equal(f->statement, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)");
	df_review_result_free(r);
	/* a section starting at line 10 of its file */
	o.base_line = 10;
	r = review_with(&o, "SET lock_timeout = '1s';\nDROP TABLE a;");
	assert_non_null(f = find(r, "drop-table"));
	assert_int_equal(f->line, 11);
	assert_int_equal(f->column, 1);
	df_review_result_free(r);
	/* long statements are truncated */
	memcpy(big, "UPDATE t SET x = x + (1111", 26);
	memset(big + 26, '1', sizeof(big) - 28);
	memcpy(big + sizeof(big) - 2, ")", 2);
	r = run(big);
	assert_true(r->nr_findings > 0);
	assert_true(strlen(r->findings[0].statement) <= 210);
	df_review_result_free(r);
}

static void test_review__risk_threshold(void **state)
{
	df_review_risk risk;
	df_review_result *r;

	assert_int_equal(df_review_risk_parse(&risk, "medium"), 0);
	assert_int_equal(risk, DF_RISK_MEDIUM);
	assert_int_equal(df_review_risk_parse(&risk, "HIGH"), 0);
	assert_int_equal(risk, DF_RISK_HIGH);
	assert_int_equal(df_review_risk_parse(&risk, "severe"), DF_EUSAGE);
	assert_true(df_review_risk_reaches(DF_RISK_HIGH, DF_RISK_MEDIUM));
	assert_false(df_review_risk_reaches(DF_RISK_LOW, DF_RISK_MEDIUM));
	assert_string_equal(df_review_risk_name(DF_RISK_LOW), "low");
	assert_string_equal(df_review_severity_name(DF_REVIEW_WARNING), "warning");

	r = run("SET lock_timeout = '1s';\nALTER TABLE t DROP COLUMN c;");
	assert_int_equal(r->max_risk, DF_RISK_MEDIUM);
	assert_false(df_review_result_fails(r, DF_RISK_HIGH));
	assert_true(df_review_result_fails(r, DF_RISK_MEDIUM));
	df_review_result_free(r);
	r = run("SET lock_timeout = '1s';\nALTER TABLE t RENAME COLUMN a TO b;");
	assert_true(df_review_result_fails(r, DF_RISK_HIGH));
	df_review_result_free(r);
}

static void test_review__catalogue(void **state)
{
	size_t n;
	const df_review_rule *rules = df_review_rules(&n);

	assert_true(n >= 25);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(df_review_rule_find(rules[i].id), &rules[i]);
		assert_non_null(rules[i].summary);
		assert_true(rules[i].dialects != 0);
	}
	assert_null(df_review_rule_find("no-such-rule"));
	/* the seed's risk table */
	assert_int_equal(df_review_rule_find("drop-column")->risk, DF_RISK_MEDIUM);
	assert_int_equal(df_review_rule_find("rename-column")->risk, DF_RISK_HIGH);
	assert_int_equal(df_review_rule_find("create-index-not-concurrently")->risk, DF_RISK_MEDIUM);
	assert_int_equal(df_review_rule_find("change-column-type")->risk, DF_RISK_HIGH);
	assert_int_equal(df_review_rule_find("add-column-not-null")->risk, DF_RISK_MEDIUM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_review__drop_table),
		cmocka_unit_test(test_review__drop_column),
		cmocka_unit_test(test_review__drop_schema_database),
		cmocka_unit_test(test_review__truncate),
		cmocka_unit_test(test_review__delete_update_without_where),
		cmocka_unit_test(test_review__rename),
		cmocka_unit_test(test_review__add_column_not_null),
		cmocka_unit_test(test_review__change_column_type),
		cmocka_unit_test(test_review__add_column_rewrite),
		cmocka_unit_test(test_review__create_index_not_concurrently),
		cmocka_unit_test(test_review__drop_index_not_concurrently),
		cmocka_unit_test(test_review__concurrently_in_transaction),
		cmocka_unit_test(test_review__constraint_without_not_valid),
		cmocka_unit_test(test_review__validate_in_same_transaction),
		cmocka_unit_test(test_review__constraint_builds_index),
		cmocka_unit_test(test_review__set_not_null),
		cmocka_unit_test(test_review__maintenance),
		cmocka_unit_test(test_review__cannot_run_in_transaction),
		cmocka_unit_test(test_review__enum_value_same_transaction),
		cmocka_unit_test(test_review__drop_cascade),
		cmocka_unit_test(test_review__alter_table_rewrite),
		cmocka_unit_test(test_review__create_trigger),
		cmocka_unit_test(test_review__drop_not_null),
		cmocka_unit_test(test_review__detach_partition),
		cmocka_unit_test(test_review__concurrently_if_not_exists),
		cmocka_unit_test(test_review__lock_table_modes),
		cmocka_unit_test(test_review__reindex_system_hint),
		cmocka_unit_test(test_review__change_column_type_target),
		cmocka_unit_test(test_review__lock_timeout_missing),
		cmocka_unit_test(test_review__data_change_with_ddl),
		cmocka_unit_test(test_review__transactions),
		cmocka_unit_test(test_review__syntax_error),
		cmocka_unit_test(test_review__lock_timeout_names_the_table),
		cmocka_unit_test(test_review__own_file_hint_per_format),
		cmocka_unit_test(test_review__rename_enum_value),
		cmocka_unit_test(test_review__refresh_matview),
		cmocka_unit_test(test_review__lock_table),
		cmocka_unit_test(test_review__drop_column_used_by_view),
		cmocka_unit_test(test_review__unparsed_statement),
		cmocka_unit_test(test_review__allow_comments),
		cmocka_unit_test(test_review__disabled_rules),
		cmocka_unit_test(test_review__positions),
		cmocka_unit_test(test_review__risk_threshold),
		cmocka_unit_test(test_review__catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
