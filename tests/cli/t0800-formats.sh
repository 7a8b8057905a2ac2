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

# A file whose only statement cannot run in a transaction runs outside one,
# in every format, with no directive (as golang-migrate and Flyway run it).
t_lone_no_tx() {
	local stmt
	case $ENGINE in
	postgres) stmt="CREATE INDEX CONCURRENTLY %s ON a (id);" ;;
	sqlite) stmt="VACUUM;" ;;
	mysql) skip_engine "MariaDB has no statement that must run outside a transaction" ;;
	esac
	new_project
	echo "CREATE TABLE a (id INTEGER);" >migrations/1_a.up.sql
	printf "$stmt\n" a_i1 >migrations/2_i.up.sql
	df db review --json; expect_rc 0
	lacks "$out" concurrently-in-transaction
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["1", "2"]'
	df db status --json; json_eq 'd["pending"]' 0
	if [ "$ENGINE" = postgres ]; then
		[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname='a_i1'")" = 1 ] || fail "golang index"
	fi
	# the same in Flyway's, dbmate's and devflow's formats
	new_project
	echo "CREATE TABLE a (id INTEGER);" >migrations/V1__a.sql
	printf "$stmt\n" a_i2 >migrations/V2__i.sql
	df db migrate; expect_rc 0 "flyway"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	printf -- "-- migrate:up\n$stmt\n-- migrate:down\n" a_i3 >migrations/20240102000000_i.sql
	printf -- "-- UP\n$stmt\n" a_i4 >migrations/20240103000000_j.sql
	df db migrate --json; expect_rc 0 "dbmate and devflow"
	json_eq 'len(d["applied"])' 3
	if [ "$ENGINE" = postgres ]; then
		[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname IN ('a_i3', 'a_i4')")" = 2 ] ||
			fail "dbmate/devflow index"
	fi
}

# Such a statement among others is refused, with a hint in the words of the
# file's format (not a devflow directive a golang-migrate file cannot have).
t_no_tx_hint_per_format() {
	[ "$ENGINE" = postgres ] || skip_engine "CREATE INDEX CONCURRENTLY is PostgreSQL's"
	new_project
	printf 'CREATE TABLE b (id INTEGER);\nCREATE INDEX CONCURRENTLY b_i ON b (id);\n' >migrations/1_b.up.sql
	df db migrate --json; expect_rc 2 "golang"
	json_eq 'd["error"]["line"]' 2
	contains "$(json 'd["error"]["hint"]')" "golang-migrate"
	lacks "$(json 'd["error"]["hint"]')" "-- UP"
	table_exists b && fail "nothing may be applied"
	rm migrations/1_b.up.sql
	printf 'CREATE TABLE b (id INTEGER);\nCREATE INDEX CONCURRENTLY b_i ON b (id);\n' >migrations/V1__b.sql
	df db migrate --json; expect_rc 2 "flyway"
	contains "$(json 'd["error"]["hint"]')" "Flyway"
	rm migrations/V1__b.sql
	printf -- '-- migrate:up\nCREATE TABLE b (id INTEGER);\nCREATE INDEX CONCURRENTLY b_i ON b (id);\n' \
		>migrations/20240101000000_b.sql
	df db migrate --json; expect_rc 2 "dbmate"
	contains "$(json 'd["error"]["hint"]')" "transaction:false"
	rm migrations/20240101000000_b.sql
	mig 20240101000000 b "CREATE TABLE b (id INTEGER);
CREATE INDEX CONCURRENTLY b_i ON b (id);"
	df db migrate --json; expect_rc 2 "devflow"
	contains "$(json 'd["error"]["hint"]')" "devflow:no-transaction"
	table_exists b && fail "nothing may be applied"
	return 0
}

# golang-migrate: a .down.sql that exists but holds no statement is a
# rollback that does nothing, not an irreversible migration.
t_golang_empty_down() {
	new_project
	echo "CREATE TABLE a (id INTEGER);" >migrations/000001_a.up.sql
	echo "DROP TABLE a;" >migrations/000001_a.down.sql
	echo "CREATE TABLE b (id INTEGER);" >migrations/000002_b.up.sql
	echo "-- no-op" >migrations/000002_b.down.sql
	df db status --json; expect_rc 0
	json_eq '[m["reversible"] for m in d["migrations"]]' '[true, true]'
	df db migrate; expect_rc 0
	df db rollback --steps 2 --json; expect_rc 0
	json_eq '[m["version"] for m in d["reverted"]]' '["000002", "000001"]'
	table_exists a && fail "a reverted"
	table_exists b || fail "the empty down did nothing"
	df db status --json; json_eq 'd["applied"]' 0
}

# db create (and revert_) writes the folder's own format.
t_create_format() {
	new_project
	echo "CREATE TABLE a (id INTEGER);" >migrations/000001_a.up.sql
	echo "DROP TABLE a;" >migrations/000001_a.down.sql
	df db create add_b --json; expect_rc 0
	json_eq 'd["file"]' migrations/000002_add_b.up.sql
	json_eq 'd["down_file"]' migrations/000002_add_b.down.sql
	[ -f migrations/000002_add_b.down.sql ] || fail "golang down file"
	df db create revert_a; expect_rc 0
	contains "$(cat migrations/000003_revert_a.up.sql)" "DROP TABLE a;"
	contains "$(cat migrations/000003_revert_a.down.sql)" "CREATE TABLE a"
	lacks "$(cat migrations/000003_revert_a.up.sql)" "-- UP"
	new_project
	echo "CREATE TABLE f (id INTEGER);" >migrations/V1__f.sql
	echo "DROP TABLE f;" >migrations/U1__f.sql
	df db create revert_f --json; expect_rc 0
	json_eq 'd["file"]' migrations/V2__revert_f.sql
	contains "$(cat migrations/V2__revert_f.sql)" "DROP TABLE f;"
	contains "$(cat migrations/U2__revert_f.sql)" "CREATE TABLE f"
	df db status --json; json_eq 'd["total"]' 2
	new_project
	printf -- '-- migrate:up\nCREATE TABLE d (id INTEGER);\n-- migrate:down\nDROP TABLE d;\n' \
		>migrations/20240101000000_d.sql
	df db create x --json; expect_rc 0
	contains "$(cat "$(json 'd["file"]')")" "-- migrate:up"
	contains "$(cat "$(json 'd["file"]')")" "-- migrate:down"
}

# File names: a .SQL file is a migration like a .sql one; every misnamed
# file is reported at once; a short version beside timestamps is warned about.
t_file_names() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	printf -- '-- UP\nCREATE TABLE b (id INTEGER);\n' >migrations/20240102000000_b.SQL
	df db status --json; expect_rc 0
	json_eq 'd["total"]' 2
	touch migrations/notes.sql migrations/draft.SQL migrations/x_y.sql
	df db status --json; expect_rc 2
	contains "$(json 'd["error"]["message"]')" "3 files"
	for f in notes.sql draft.SQL x_y.sql; do
		contains "$(json 'd["error"]["message"]')" "$f"
	done
	rm migrations/notes.sql migrations/draft.SQL migrations/x_y.sql
	printf -- '-- UP\nCREATE TABLE c (id INTEGER);\n' >migrations/2026_add_c.sql
	df db status --json; expect_rc 0
	json_eq 'len(d["warnings"])' 1
	contains "$(json 'd["warnings"][0]')" "2026_add_c.sql"
	df db status; expect_rc 0
	contains "$err$out" "warning: '2026_add_c.sql' has version 2026 beside 14-digit versions"
	rm migrations/2026_add_c.sql
	df db status --json; expect_rc 0
	json_eq '"warnings" in d' false
}

# Flyway repeatables: run after the versioned migrations, again whenever
# their checksum changes; never reverted; status and doctor show them.
t_flyway_repeatable() {
	new_project
	echo "CREATE TABLE f1 (id INTEGER);" >migrations/V1__create_f1.sql
	echo "CREATE VIEW v AS SELECT id FROM f1;" >migrations/R__views.sql
	echo "CREATE TABLE f2 (id INTEGER);" >migrations/V2__create_f2.sql
	echo "DROP TABLE f2;" >migrations/U2__create_f2.sql
	df db status --json; expect_rc 0
	json_eq 'd["total"]' 3
	json_eq '[m["name"] for m in d["migrations"]]' '["create_f1", "create_f2", "views"]'
	json_eq 'd["migrations"][2]["repeatable"]' true
	df db migrate --to 2 --json; expect_rc 0
	json_eq '[m["name"] for m in d["applied"]]' '["create_f1", "create_f2"]'
	df db migrate --json; expect_rc 0
	json_eq '[m["name"] for m in d["applied"]]' '["views"]'
	df db status --json; json_eq 'd["pending"]' 0
	df db migrate --json; expect_rc 0
	json_eq 'd["applied"]' '[]'
	# changed: it runs again (and only it), with no checksum problem
	printf 'DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT id, 1 AS one FROM f1;\n' >migrations/R__views.sql
	df db status --json; expect_rc 0
	json_eq 'd["pending"]' 1
	json_eq 'd["problems"]' '[]'
	json_eq 'd["migrations"][2]["changed"]' true
	df db status; contains "$err$out" "changed: runs again"
	df db migrate --json; expect_rc 0
	json_eq '[m["name"] for m in d["applied"]]' '["views"]'
	[ "$(q "SELECT count(one) FROM v" 2>/dev/null)" = 0 ] || fail "the changed view is in place"
	[ "$(q "SELECT count(*) FROM _migrations WHERE filename = 'R__views.sql'")" = 1 ] || fail "one row"
	# a rollback reverts the newest version, not the repeatable
	df db rollback --json; expect_rc 0
	json_eq '[m["name"] for m in d["reverted"]]' '["create_f2"]'
	df doctor --json
	contains "$out" "1 repeatable"
}

ONLY_SQLITE_TESTS="t_create_format t_file_names"
run_tests t_dbmate t_golang_migrate t_flyway t_no_transaction t_sqlite_trigger_body \
	t_lone_no_tx t_no_tx_hint_per_format t_golang_empty_down t_create_format \
	t_file_names t_flyway_repeatable
