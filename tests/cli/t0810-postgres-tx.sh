#!/bin/bash
# PostgreSQL: statements that cannot run in a transaction need the directive.
. "$(dirname "$0")/lib.sh"

t_concurrently_needs_directive() {
	[ "$ENGINE" = postgres ] || skip_engine "PostgreSQL only"
	new_project
	mig 20240101000000 t "CREATE TABLE t (id INTEGER, email TEXT);" "DROP TABLE t;"
	# among other statements it needs the directive (SPEC "Migration files")
	mig 20240102000000 idx "CREATE TABLE u (id INTEGER);
CREATE INDEX CONCURRENTLY t_email ON t (email);" "DROP INDEX CONCURRENTLY t_email;"
	df db migrate --json; expect_rc 2
	contains "$err" "devflow:no-transaction"
	json_eq 'd["error"]["line"]' 3
	table_exists t && fail "the check must stop the run before anything applies"
	# alone in its migration it runs outside a transaction without one
	mig 20240102000000 idx "CREATE INDEX CONCURRENTLY t_email ON t (email);" "DROP INDEX CONCURRENTLY t_email;"
	df db migrate --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 't_email'")" = 1 ] || fail "lone index"
	df db rollback --steps 2 --json; expect_rc 0
	table_exists t && fail "rolled back"
	printf -- '-- devflow:no-transaction\n-- UP\nCREATE INDEX CONCURRENTLY t_email ON t (email);\n-- DOWN\nDROP INDEX CONCURRENTLY t_email;\n' \
		>migrations/20240102000000_idx.sql
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'len(d["applied"])' 2
	table_exists t && fail "the dry-run kept table t"
	df db migrate --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 't_email'")" = 1 ] || fail "index"
	df db rollback --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 't_email'")" = 0 ] || fail "index not dropped"
}

t_dollar_quoted_function() {
	[ "$ENGINE" = postgres ] || skip_engine "PostgreSQL only"
	new_project
	mig 20240101000000 fn 'CREATE FUNCTION add_one(i integer) RETURNS integer AS $body$
BEGIN
  RETURN i + 1; -- semicolons inside the body
END;
$body$ LANGUAGE plpgsql;
CREATE TABLE t (v integer DEFAULT add_one(1));
INSERT INTO t DEFAULT VALUES;' "DROP TABLE t; DROP FUNCTION add_one(integer);"
	df db migrate --json; expect_rc 0
	json_eq 'd["applied"][0]["statements"]' 3
	[ "$(q "SELECT v FROM t")" = 2 ] || fail "function"
}

t_mysql_delimiter() {
	[ "$ENGINE" = mysql ] || skip_engine "MariaDB only"
	new_project
	mig 20240101000000 proc 'CREATE TABLE t (v INT);
DELIMITER $$
CREATE PROCEDURE add_row(IN x INT)
BEGIN
  INSERT INTO t VALUES (x);
  INSERT INTO t VALUES (x + 1);
END$$
DELIMITER ;
CALL add_row(5);' "DROP PROCEDURE add_row; DROP TABLE t;"
	df db migrate --json; expect_rc 0
	json_eq 'd["applied"][0]["statements"]' 3
	[ "$(q "SELECT SUM(v) FROM t")" = 11 ] || fail "procedure"
}

t_mysql_failure_records_statement() {
	[ "$ENGINE" = mysql ] || skip_engine "MariaDB only"
	new_project
	mig 20240101000000 half "CREATE TABLE a (id INT);
CREATE TABLE b (id INT);
ALTER TABLE nosuch ADD COLUMN x INT;
CREATE TABLE c (id INT);" "DROP TABLE a; DROP TABLE b;"
	df db migrate --json; expect_rc 1
	json_eq 'd["error"]["line"]' 4
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["state"]' failed
	json_eq 'd["migrations"][0]["statements_done"]' 2
	json_eq 'd["problems"][0]["kind"]' failed_migration
	contains "$out" "nosuch"
	df db migrate --json; expect_rc 6
	json_eq 'd["error"]["kind"]' failed_migration
	q "DROP TABLE a"; q "DROP TABLE b"
	df db resolve 20240101000000 --rolled-back; expect_rc 0
	mig 20240101000000 half "CREATE TABLE a (id INT);" "DROP TABLE a;"
	df db migrate; expect_rc 0
}

run_tests t_concurrently_needs_directive t_dollar_quoted_function t_mysql_delimiter t_mysql_failure_records_statement
