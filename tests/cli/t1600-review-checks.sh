#!/bin/bash
# db review: the checks of issue 16 on their engines, each firing and quiet,
# and what the server really does where the check predicts a failure.
. "$(dirname "$0")/lib.sh"

# review FILE [ARGS...]: db review --json of FILE against the project's target
review() {
	local f=$1
	shift
	df db review "$f" --json "$@"
}

# rules_in: the rule ids of the last review's findings, one line, sorted
rules_in() {
	json 'sorted(set(f["rule"] for f in d["findings"]))'
}

# has RULE / hasnt RULE: about the last review
has() {
	case "$(rules_in)" in *"\"$1\""*) return 0 ;; esac
	fail "expected a $1 finding, got $(rules_in)"
}
hasnt() {
	case "$(rules_in)" in *"\"$1\""*) fail "did not expect a $1 finding: $(rules_in)" ;; esac
	return 0
}

# risk_of RULE EXPECTED: the risk of the first finding of RULE
risk_of() {
	json_eq "[f['risk'] for f in d['findings'] if f['rule'] == '$1'][:1]" "[\"$2\"]"
}

pg_only() { [ "$ENGINE" = postgres ] || skip_engine "PostgreSQL check"; }
my_only() { [ "$ENGINE" = mysql ] || skip_engine "MySQL/MariaDB check"; }

t_pg_cannot_run_in_transaction() {
	pg_only
	new_project
	# beside another statement, in the migration's transaction: it fails
	printf 'SELECT 1;\nVACUUM;\n' >vac.sql
	review vac.sql; has cannot-run-in-transaction; risk_of cannot-run-in-transaction high
	printf -- '-- devflow:no-transaction\nSELECT 1;\nVACUUM;\n' >vac2.sql
	review vac2.sql; hasnt cannot-run-in-transaction
	# alone in its file the runner runs it outside a transaction (below)
	printf 'VACUUM;\n' >vac3.sql
	review vac3.sql; hasnt cannot-run-in-transaction
	printf 'SELECT 1;\nREINDEX SYSTEM %s;\n' "$DBNAME" >rs.sql
	review rs.sql; has cannot-run-in-transaction
	# no hint may suggest CONCURRENTLY for REINDEX SYSTEM: PostgreSQL forbids it
	lacks "$(json '[f["hint"] for f in d["findings"]]')" CONCURRENTLY
	# beside another statement it cannot run in the migration's transaction:
	# refused before anything runs
	mig 20240101000000 reindex "CREATE TABLE t_before (id int);
REINDEX SYSTEM $DBNAME;"
	df db migrate; [ "$rc" != 0 ] || fail "REINDEX SYSTEM in a transaction was applied"
	contains "$err" "transaction"
	local n
	n=$(q "SELECT count(*) FROM _migrations WHERE state = 'applied'" 2>/dev/null || echo 0)
	[ "$n" = 0 ] || fail "a migration is recorded applied"
	[ "$(q "SELECT count(*) FROM pg_class WHERE relname = 't_before'")" = 0 ] ||
		fail "the statement before REINDEX SYSTEM ran"
	# alone in its migration it runs outside a transaction, as it must (issue 13)
	mig 20240101000000 reindex "REINDEX SYSTEM $DBNAME;"
	df db migrate; expect_rc 0
	[ "$(q "SELECT count(*) FROM _migrations WHERE state = 'applied'")" = 1 ] ||
		fail "the lone REINDEX SYSTEM is not recorded applied"
}

t_pg_enum_value_same_transaction() {
	pg_only
	new_project
	mig 20240101000000 mood "CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE people (id int PRIMARY KEY, m mood);
INSERT INTO people VALUES (1, 'sad');"
	df db migrate; expect_rc 0
	mig 20240102000000 meh "ALTER TYPE mood ADD VALUE 'meh';
UPDATE people SET m = 'meh' WHERE id = 1;"
	df db review --json; expect_rc 3
	has enum-value-same-transaction; risk_of enum-value-same-transaction high
	json_eq '[f["line"] for f in d["findings"] if f["rule"] == "enum-value-same-transaction"]' '[3]'
	# what the review predicts is what PostgreSQL does
	df db migrate; [ "$rc" != 0 ] || fail "the migration applied"
	contains "$err" "unsafe use of new value"
	# quiet: the value is only added; it is used by a later migration
	rm migrations/20240102000000_meh.sql
	mig 20240103000000 meh "ALTER TYPE mood ADD VALUE 'meh';"
	mig 20240104000000 use "UPDATE people SET m = 'meh' WHERE id = 1;"
	df db review --json; hasnt enum-value-same-transaction
	df db migrate; expect_rc 0
	[ "$(q "SELECT m FROM people")" = meh ] || fail "the value was not set"
}

t_pg_drop_cascade() {
	pg_only
	new_project
	mig 20240101000000 t "CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE people (id int PRIMARY KEY, m mood);
INSERT INTO people VALUES (1, 'ok');"
	df db migrate; expect_rc 0
	printf 'DROP TYPE mood CASCADE;\n' >d.sql
	review d.sql; expect_rc 3; has drop-cascade; risk_of drop-cascade high
	json_eq 'd["summary"][0]["destroys_data"]' true
	printf 'DROP TYPE mood;\n' >d2.sql
	review d2.sql; hasnt drop-cascade
	json_eq 'd["summary"][0]["destroys_data"]' false
	# the data really goes: the column of that type is dropped with it
	psql -qAtX "$URL" -c "DROP TYPE mood CASCADE" >/dev/null 2>&1
	[ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'm'")" = 0 ] ||
		fail "CASCADE kept the column"
}

t_pg_rewrites_and_locks() {
	pg_only
	new_project
	mig 20240101000000 t "CREATE TABLE t (id int PRIMARY KEY, c int NOT NULL);"
	df db migrate; expect_rc 0
	printf 'ALTER TABLE t SET UNLOGGED;\n' >a.sql
	review a.sql; has alter-table-rewrite
	printf 'ALTER TABLE t SET (fillfactor = 70);\n' >b.sql
	review b.sql; hasnt alter-table-rewrite
	printf 'ALTER TABLE t ALTER COLUMN c DROP NOT NULL;\n' >c.sql
	review c.sql; has drop-not-null; risk_of drop-not-null low
	printf 'ALTER TABLE t ALTER COLUMN c SET DEFAULT 0;\n' >c2.sql
	review c2.sql; hasnt drop-not-null
	printf 'CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();\n' >e.sql
	review e.sql; has create-trigger
	printf 'CREATE TABLE u (id int);\nCREATE TRIGGER trg BEFORE UPDATE ON u FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();\n' >e2.sql
	review e2.sql; hasnt create-trigger
	# LOCK TABLE: ACCESS SHARE blocks no write, so no lock_timeout is asked for
	printf 'LOCK TABLE t IN ACCESS SHARE MODE;\n' >l.sql
	review l.sql; hasnt lock-timeout-missing
	printf 'LOCK TABLE t IN SHARE MODE;\n' >l2.sql
	review l2.sql; has lock-timeout-missing
}

t_pg_partitions_and_indexes() {
	pg_only
	new_project
	mig 20240101000000 t "CREATE TABLE m (y int NOT NULL, v int) PARTITION BY LIST (y);
CREATE TABLE m_2023 PARTITION OF m FOR VALUES IN (2023);"
	df db migrate; expect_rc 0
	printf 'ALTER TABLE m DETACH PARTITION m_2023;\n' >a.sql
	review a.sql; has detach-partition-not-concurrently
	printf -- '-- devflow:no-transaction\nALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY;\n' >b.sql
	review b.sql; hasnt detach-partition-not-concurrently
	printf -- '-- devflow:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS m_v ON m_2023 (v);\n' >c.sql
	review c.sql; has concurrently-if-not-exists
	printf -- '-- devflow:no-transaction\nCREATE INDEX CONCURRENTLY m_v ON m_2023 (v);\n' >d.sql
	review d.sql; hasnt concurrently-if-not-exists
}

t_pg_column_type_from_target() {
	pg_only
	new_project
	mig 20240101000000 t "CREATE TABLE users (id int PRIMARY KEY, email varchar(20), age int, price numeric(10,2));"
	df db migrate; expect_rc 0
	# binary-coercible with the target's current type: low
	mig 20240102000000 widen "ALTER TABLE users ALTER COLUMN email TYPE varchar(50);
ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);"
	df db review --json; expect_rc 0
	json_eq '[f["risk"] for f in d["findings"] if f["rule"] == "change-column-type"]' '["low", "low"]'
	contains "$(json '[f["message"] for f in d["findings"]]')" "from varchar(20) (its type on the target)"
	# the review migrate shows before a dry-run reads the target too
	df db migrate --dry-run --json; expect_rc 0
	json_eq '[f["risk"] for f in d["findings"] if f["rule"] == "change-column-type"]' '["low", "low"]'
	# a real change: high
	rm migrations/20240102000000_widen.sql
	mig 20240103000000 age "ALTER TABLE users ALTER COLUMN age TYPE bigint;
ALTER TABLE users ALTER COLUMN email TYPE varchar(10);"
	df db review --json; expect_rc 3
	json_eq '[f["risk"] for f in d["findings"] if f["rule"] == "change-column-type"]' '["high", "high"]'
	# a file reviewed without a target: the current type is unknown, so high
	printf 'ALTER TABLE users ALTER COLUMN email TYPE varchar(50);\n' >w.sql
	df db review w.sql --dialect postgres --json; expect_rc 3
	json_eq '[f["risk"] for f in d["findings"] if f["rule"] == "change-column-type"]' '["high"]'
	# and the same file with the target named: low again
	df db review w.sql --url "$URL" --json; expect_rc 0
	json_eq '[f["risk"] for f in d["findings"] if f["rule"] == "change-column-type"]' '["low"]'
}

t_my_not_null_without_default() {
	my_only
	new_project
	mig 20240101000000 t "CREATE TABLE o (id INT PRIMARY KEY, body TEXT);"
	df db migrate; expect_rc 0
	printf 'ALTER TABLE o ADD COLUMN status VARCHAR(10) NOT NULL;\n' >a.sql
	review a.sql; has add-column-not-null; risk_of add-column-not-null medium
	printf "ALTER TABLE o ADD COLUMN status VARCHAR(10) NOT NULL DEFAULT 'new';\n" >b.sql
	review b.sql; hasnt add-column-not-null
	# what the finding says: old INSERTs that omit the column fail (strict mode)
	q "ALTER TABLE o ADD COLUMN status VARCHAR(10) NOT NULL"
	local r=0
	q "INSERT INTO o (id, body) VALUES (1, 'x')" >/dev/null 2>&1 || r=$?
	[ $r != 0 ] || fail "strict mode accepted an INSERT without the NOT NULL column"
}

t_my_fulltext_and_trigger() {
	my_only
	new_project
	mig 20240101000000 t "CREATE TABLE o (id INT PRIMARY KEY, body TEXT);"
	df db migrate; expect_rc 0
	printf 'ALTER TABLE o ADD FULLTEXT INDEX o_body (body);\n' >a.sql
	review a.sql; has mysql-fulltext-spatial-index
	printf 'CREATE FULLTEXT INDEX o_body ON o (body);\n' >a2.sql
	review a2.sql; has mysql-fulltext-spatial-index
	printf 'CREATE INDEX o_body ON o (body(10));\n' >b.sql
	review b.sql; hasnt mysql-fulltext-spatial-index
	printf 'CREATE TABLE n (id INT, body TEXT, FULLTEXT KEY (body));\nALTER TABLE n ADD FULLTEXT INDEX n_b (body);\n' >b2.sql
	review b2.sql; hasnt mysql-fulltext-spatial-index
	printf 'CREATE TRIGGER o_ins BEFORE INSERT ON o FOR EACH ROW SET NEW.body = TRIM(NEW.body);\n' >c.sql
	review c.sql; has create-trigger
	printf 'CREATE TABLE n (id INT, body TEXT);\nCREATE TRIGGER n_ins BEFORE INSERT ON n FOR EACH ROW SET NEW.body = TRIM(NEW.body);\n' >d.sql
	review d.sql; hasnt create-trigger
}

t_dialect_says_what_was_reviewed() {
	[ "$ENGINE" = sqlite ] || skip_engine "reviews files, no database: run on sqlite only"
	new_project
	printf 'ALTER TABLE t ADD COLUMN c int;\n' >f.sql
	df db review f.sql --dialect postgres --json; expect_rc 0
	json_eq 'd["engine"]' postgres
	json_eq 'd["target"]' null
	df db review f.sql --dialect mysql --json; expect_rc 0
	json_eq 'd["engine"]' mysql
	# without --dialect, the target's engine (the local SQLite default)
	df db review f.sql --json; expect_rc 0
	json_eq 'd["engine"]' sqlite
}

run_tests t_pg_cannot_run_in_transaction t_pg_enum_value_same_transaction t_pg_drop_cascade \
	t_pg_rewrites_and_locks t_pg_partitions_and_indexes t_pg_column_type_from_target \
	t_my_not_null_without_default t_my_fulltext_and_trigger t_dialect_says_what_was_reviewed
