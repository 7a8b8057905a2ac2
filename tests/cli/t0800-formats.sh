#!/bin/bash
# Other tools' migration files: dbmate, golang-migrate, Flyway; no-transaction.
. "$(dirname "$0")/lib.sh"

t_dbmate() {
	new_project
	printf -- '-- migrate:up\nCREATE TABLE d (id INTEGER);\n\n-- migrate:down\nDROP TABLE d;\n' \
		>migrations/20240101000000_dbmate_style.sql
	df db migrate; expect_rc 0; table_exists d || fail "dbmate up"
	df db rollback; expect_rc 0; table_exists d && fail "dbmate down"
	return 0
}

t_golang_migrate() {
	new_project
	echo "CREATE TABLE g (id INTEGER);" >migrations/1_create_g.up.sql
	echo "DROP TABLE g;" >migrations/1_create_g.down.sql
	echo "CREATE TABLE h (id INTEGER);" >migrations/2_create_h.up.sql
	df db status --json; expect_rc 0
	json_eq 'd["total"]' 2
	json_eq 'd["migrations"][0]["reversible"]' true
	json_eq 'd["migrations"][1]["reversible"]' false
	df db migrate; expect_rc 0; table_exists h || fail "golang up"
	df db rollback; expect_rc 3
	df db rollback --json --steps 1; expect_rc 3
}

t_flyway() {
	new_project
	echo "CREATE TABLE f1 (id INTEGER);" >migrations/V1__create_f1.sql
	echo "DROP TABLE f1;" >migrations/U1__create_f1.sql
	echo "CREATE TABLE f2 (id INTEGER);" >migrations/V1_1__create_f2.sql
	echo "CREATE TABLE f10 (id INTEGER);" >migrations/V10__create_f10.sql
	df db status --json; expect_rc 0
	json_eq '[m["version"] for m in d["migrations"]]' '["1", "1.1", "10"]'
	df db migrate; expect_rc 0; table_exists f10 || fail "flyway"
}

t_no_transaction() {
	new_project
	printf -- '-- devflow:no-transaction\n-- UP\nCREATE TABLE nt (id INTEGER);\n-- DOWN\nDROP TABLE nt;\n' \
		>migrations/20240101000000_nt.sql
	df db migrate --json; expect_rc 0
	[ "$(q "SELECT state FROM _migrations")" = applied ] || fail "state"
	df db status --json; json_eq 'd["applied"]' 1
}

t_sqlite_trigger_body() {
	[ "$ENGINE" = sqlite ] || skip_engine "SQLite trigger syntax"
	new_project
	mig 20240101000000 trig "CREATE TABLE t (id INTEGER, n INTEGER);
CREATE TABLE log (msg TEXT);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
  INSERT INTO log VALUES ('inserted; ' || NEW.id);
  UPDATE t SET n = CASE WHEN NEW.id > 1 THEN 1 ELSE 0 END WHERE id = NEW.id;
END;
INSERT INTO t (id) VALUES (2);" "DROP TABLE t; DROP TABLE log;"
	df db migrate --json; expect_rc 0
	json_eq 'd["applied"][0]["statements"]' 4
	[ "$(q "SELECT msg FROM log")" = "inserted; 2" ] || fail "trigger"
}

run_tests t_dbmate t_golang_migrate t_flyway t_no_transaction t_sqlite_trigger_body
