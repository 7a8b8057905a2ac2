#!/bin/bash
# Edited, missing, failed and out-of-order migrations; db resolve; adoption.
. "$(dirname "$0")/lib.sh"

t_checksum_mismatch() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	# CRLF line endings and a BOM are not edits
	python3 - <<'PY'
p = "migrations/20240101000000_a.sql"
s = open(p, "rb").read().replace(b"\n", b"\r\n")
open(p, "wb").write(b"\xef\xbb\xbf" + s)
PY
	df db status --json; json_eq 'd["migrations"][0]["checksum_ok"]' true
	json_eq 'len(d["problems"])' 0
	mig 20240101000000 a "CREATE TABLE a (id INTEGER, x INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["checksum_ok"]' false
	json_eq 'd["problems"][0]["kind"]' checksum_mismatch
	df db migrate --json; expect_rc 6
	json_eq 'd["error"]["kind"]' checksum_mismatch
	# accepting the edit is a person's decision: an ask, never a next
	json_eq 'len(d["next"])' 0
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db resolve 20240101000000 --applied"
	json_eq 'd["ask"]["options"][1]["then"]' null
	table_exists b && fail "migrated despite the edit"
	df db resolve 20240101000000 --applied; expect_rc 0
	df db migrate; expect_rc 0
	table_exists b || fail "b not applied after resolve"
}

t_missing_file() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate; expect_rc 0
	rm migrations/20240102000000_b.sql
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][1]["state"]' missing
	json_eq 'd["problems"][0]["kind"]' missing_file
	mig 20240103000000 c "CREATE TABLE c (id INTEGER);" "DROP TABLE c;"
	df db migrate --json; expect_rc 6
	json_eq 'd["error"]["kind"]' missing_file
	df db resolve 20240102000000 --rolled-back; expect_rc 0
	df db migrate; expect_rc 0
	table_exists c || fail "c not applied"
}

t_out_of_order() {
	new_project
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate; expect_rc 0
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --json; expect_rc 0
	json_eq 'd["problems"][0]["kind"]' out_of_order
	json_eq 'd["migrations"][0]["out_of_order"]' true
	df db migrate --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	table_exists a && fail "applied out of order without the flag"
	df db migrate --out-of-order; expect_rc 0
	table_exists a || fail "a not applied"
}

t_adopt_three_column_table() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	case $ENGINE in
	sqlite) q "CREATE TABLE _migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	postgres) q "CREATE TABLE _migrations (id SERIAL PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	mysql) q "CREATE TABLE _migrations (id INT AUTO_INCREMENT PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	esac
	q "CREATE TABLE a (id INTEGER)"
	q "INSERT INTO _migrations (filename) VALUES ('20240101000000_a.sql')"
	df db status --json; expect_rc 0
	json_eq 'd["applied"]' 1; json_eq 'd["pending"]' 1
	df db migrate --json; expect_rc 0
	json_eq 'len(d["applied"])' 1
	[ "$(q "SELECT count(*) FROM _migrations")" = 2 ] || fail "rows lost or duplicated"
	[ "$(q "SELECT filename FROM _migrations ORDER BY id LIMIT 1")" = 20240101000000_a.sql ] || fail "adopted row changed"
}

t_resolve_pending_as_applied() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	q "CREATE TABLE a (id INTEGER)"
	df db resolve 20240101000000 --applied --json; expect_rc 0
	df db status --json; json_eq 'd["applied"]' 1
	df db resolve 20990101000000 --applied; expect_rc 2
	df db history --json; expect_rc 0
	json_eq 'd["entries"][-1]["op"]' resolve
}

run_tests t_checksum_mismatch t_missing_file t_out_of_order t_adopt_three_column_table t_resolve_pending_as_applied
