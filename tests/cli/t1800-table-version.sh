#!/bin/bash
# devflow's own tables have a version (a row of `<table>_meta`): a database
# written by each table version devflow has shipped is upgraded, in one
# transaction where the engine allows, audited, shown by `db status` and
# `doctor`; a newer version is read but never written ("upgrade devflow").
# And the UP's own checksum: a DOWN edited after its migration ran is not a
# changed migration (status says so, rollback uses the new DOWN); an edited
# UP still stops migrate and rollback with exit 6.
. "$(dirname "$0")/lib.sh"

# The tables as each shipped version wrote them, from the DDL in the git
# history of src/core/ledger.c.
#   0: a table of another tool's three columns (the seeds'), adopted by devflow
#   1: b773e7d "Core and CLI: ...": the tracking table with devflow's seven
#      columns and the audit log; no `_meta` table (a4ef154 through 200d6eb
#      kept the same DDL)
fixture_v0() {
	case $ENGINE in
	sqlite) q "CREATE TABLE _migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	postgres) q "CREATE TABLE _migrations (id SERIAL PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	mysql) q "CREATE TABLE _migrations (id INT AUTO_INCREMENT PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)" ;;
	esac
}

fixture_v1() {
	case $ENGINE in
	postgres)
		q "CREATE TABLE IF NOT EXISTS _migrations (id BIGSERIAL PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), version VARCHAR(64), checksum VARCHAR(64), duration_ms BIGINT, applied_by VARCHAR(255), state VARCHAR(16), statements_done INTEGER, error TEXT)"
		q "CREATE TABLE IF NOT EXISTS _migrations_audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(), op VARCHAR(32) NOT NULL, env VARCHAR(64), target TEXT, os_user VARCHAR(255), host VARCHAR(255), result VARCHAR(16), summary TEXT, receipt TEXT, server TEXT, detail TEXT)" ;;
	mysql)
		q "CREATE TABLE IF NOT EXISTS _migrations (id BIGINT AUTO_INCREMENT PRIMARY KEY, filename VARCHAR(255) NOT NULL UNIQUE, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, version VARCHAR(64), checksum VARCHAR(64), duration_ms BIGINT, applied_by VARCHAR(255), state VARCHAR(16), statements_done INTEGER, error TEXT)"
		q "CREATE TABLE IF NOT EXISTS _migrations_audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, op VARCHAR(32) NOT NULL, env VARCHAR(64), target TEXT, os_user VARCHAR(255), host VARCHAR(255), result VARCHAR(16), summary TEXT, receipt TEXT, server TEXT, detail TEXT)" ;;
	sqlite)
		q "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, filename TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, version TEXT, checksum TEXT, duration_ms INTEGER, applied_by TEXT, state TEXT, statements_done INTEGER, error TEXT)"
		q "CREATE TABLE IF NOT EXISTS _migrations_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, op TEXT NOT NULL, env TEXT, target TEXT, os_user TEXT, host TEXT, result TEXT, summary TEXT, receipt TEXT, server TEXT, detail TEXT)" ;;
	esac
}

# v1_applied VERSION NAME: a row as devflow of table version 1 recorded an
# applied file (its whole-file checksum: the file's SHA-256, LF, no BOM)
v1_applied() {
	local f="$1_$2.sql" sum
	sum=$(sha256sum "migrations/$f" | cut -d' ' -f1)
	q "INSERT INTO _migrations (filename, version, checksum, duration_ms, applied_by, state, statements_done) VALUES ('$f', '$1', '$sum', 3, 'old@devflow', 'applied', 1)"
}

t_v1_upgraded() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	fixture_v1
	q "CREATE TABLE a (id INTEGER)"
	v1_applied 20240101000000 a
	q "INSERT INTO _migrations_audit (op, env, result, summary) VALUES ('migrate', 'local', 'ok', 'applied 1 of 1 migration')"
	# reading commands read version 1 as it is
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' 1
	json_eq 'd["table_version"]["devflow"]' 2
	json_eq 'd["applied"]' 1; json_eq 'd["pending"]' 1
	df db status; expect_rc 0
	contains "$out" "devflow's tables are at version 1; the next migrate upgrades them to version 2"
	df doctor --json
	json_eq '[c["message"] for c in d["checks"] if c["name"] == "tracking"][0]' \
		"tracking table present, devflow's tables at version 1 (the next migrate upgrades them to version 2)"
	json_eq 'd["table_version"]' 1
	table_exists _migrations_meta && fail "a reading command wrote devflow's tables"
	# the next migrate upgrades them, audits it, and fills the old row's UP checksum
	df db migrate; expect_rc 0
	table_exists b || fail "b not applied"
	[ "$(q "SELECT value FROM _migrations_meta WHERE name = 'table_version'")" = 2 ] || fail "no version row 2"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'upgrade' AND result = 'ok' AND summary = 'devflow''s tables upgraded from version 1 to 2'")" = 1 ] ||
		fail "the upgrade is not in the audit: $(q "SELECT op, summary FROM _migrations_audit")"
	[ "$(q "SELECT count(*) FROM _migrations WHERE up_checksum IS NOT NULL AND up_checksum <> ''")" = 2 ] ||
		fail "UP checksums not filled: $(q "SELECT filename, up_checksum FROM _migrations")"
	up=$(printf -- '-- UP\nCREATE TABLE a (id INTEGER);\n' | sha256sum | cut -d' ' -f1)
	[ "$(q "SELECT up_checksum FROM _migrations WHERE filename = '20240101000000_a.sql'")" = "$up" ] ||
		fail "the backfilled UP checksum is not the UP's"
	df db history; expect_rc 0
	contains "$out" "devflow's tables upgraded from version 1 to 2"
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' 2
	df db status; expect_rc 0
	lacks "$out" "devflow's tables are at version"
	df doctor --json
	json_eq '[c["message"] for c in d["checks"] if c["name"] == "tracking"][0]' \
		"tracking table present, devflow's tables at version 2"
	# the meta table is devflow's: never drift, never in a diff or a pull
	df db status --json
	json_eq 'd["drift"]' false
	# upgraded once: a second run writes no second upgrade row
	df db migrate; expect_rc 0
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'upgrade'")" = 1 ] || fail "upgraded twice"
	# the old row rolls back with the rest
	df db rollback --steps 2; expect_rc 0
	table_exists a && fail "a not rolled back"
	true
}

t_v0_adopted() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	fixture_v0
	q "CREATE TABLE a (id INTEGER)"
	q "INSERT INTO _migrations (filename) VALUES ('20240101000000_a.sql')"
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' 0
	df db migrate; expect_rc 0
	table_exists b || fail "b not applied"
	[ "$(q "SELECT value FROM _migrations_meta WHERE name = 'table_version'")" = 2 ] || fail "no version row 2"
	# b's row has its UP checksum; a's row was adopted without a checksum
	[ -n "$(q "SELECT up_checksum FROM _migrations WHERE filename = '20240102000000_b.sql'")" ] ||
		fail "a new row without its UP checksum"
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' 2
	json_eq 'd["applied"]' 2
}

t_fresh_database() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' null
	df db migrate; expect_rc 0
	[ "$(q "SELECT value FROM _migrations_meta WHERE name = 'table_version'")" = 2 ] || fail "no version row 2"
	# a new database is made at the version, not upgraded to it
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'upgrade'")" = 0 ] || fail "an upgrade row on a new database"
	# not compared (no change names it), and said so (i25: history tables
	# are listed as not compared)
	df db diff --from "$URL" --to "$URL" --json; expect_rc 0
	lacks "$(json 'd["sql"]')" "_migrations_meta"
	json_eq '[c["object"] for c in d["changes"]]' '[]'
	json_eq '[o["class"] for o in d["not_compared_objects"] if "_migrations_meta" in o["object"]]' \
		'["migration history tables"]'
}

t_newer_version_refused() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	# a newer devflow was here
	q "UPDATE _migrations_meta SET value = '3' WHERE name = 'table_version'"
	audits=$(q "SELECT count(*) FROM _migrations_audit")
	df db migrate --json; expect_rc 2
	json_eq 'd["error"]["kind"]' config
	contains "$(json 'd["error"]["message"]')" "version 3"
	contains "$(json 'd["error"]["message"]')" "(version 2)"
	contains "$(json 'd["error"]["message"]')" "upgrade devflow"
	df db migrate; expect_rc 2
	contains "$err" "devflow's tables in this database are at version 3, newer than this devflow knows (version 2): upgrade devflow"
	lacks "$err" "cannot create the tracking table"
	table_exists b && fail "migrated a database of a newer version"
	df db rollback; expect_rc 2
	contains "$err" "upgrade devflow"
	table_exists a || fail "rolled back a database of a newer version"
	[ "$(q "SELECT count(*) FROM _migrations_audit")" = "$audits" ] || fail "wrote the audit of a newer version"
	[ "$(q "SELECT value FROM _migrations_meta WHERE name = 'table_version'")" = 3 ] || fail "the version row was changed"
	# reading what it can
	df db status --json; expect_rc 0
	json_eq 'd["table_version"]["database"]' 3
	json_eq 'd["applied"]' 1; json_eq 'd["pending"]' 1
	df db status; expect_rc 0
	contains "$out" "devflow's tables are at version 3, newer than this devflow (version 2): upgrade devflow"
	df db history; expect_rc 0
	contains "$out" "migrate"
	df doctor --json; expect_rc 2
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "tracking"][0]' false
	contains "$(json '[c["message"] for c in d["checks"] if c["name"] == "tracking"][0]')" "upgrade devflow"
}

# ---- the UP checksum -----------------------------------------------------

t_down_edited_after_failed_rollback() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE no_such_table;"
	df db migrate; expect_rc 0
	df db rollback --json; expect_rc 1
	contains "$(json 'd["error"]["hint"]')" "DOWN"
	table_exists a || fail "a is gone after a failed DOWN"
	# the hint's advice: fix the DOWN, roll back again
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["checksum_ok"]' true
	json_eq 'd["migrations"][0]["down_edited"]' true
	json_eq 'len(d["problems"])' 0
	df db status; expect_rc 0
	contains "$out" "(down edited since applied)"
	lacks "$out" "edited   20240101000000"
	df db rollback; expect_rc 0
	table_exists a && fail "the new DOWN did not run"
	# applied again: no longer edited
	df db migrate; expect_rc 0
	df db status --json; expect_rc 0
	json_eq '"down_edited" in d["migrations"][0]' false
	true
}

t_up_edited_still_refused() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	mig 20240101000000 a "CREATE TABLE a (id INTEGER, x INTEGER);" "DROP TABLE a;"
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["checksum_ok"]' false
	json_eq '"down_edited" in d["migrations"][0]' false
	json_eq 'd["problems"][0]["kind"]' checksum_mismatch
	df db rollback --json; expect_rc 6
	json_eq 'd["error"]["kind"]' checksum_mismatch
	table_exists a || fail "rolled back an edited UP"
	# both edited: the UP decides
	mig 20240101000000 a "CREATE TABLE a (id INTEGER, x INTEGER);" "DROP TABLE IF EXISTS a;"
	df db migrate --json; expect_rc 6
	json_eq 'd["error"]["kind"]' checksum_mismatch
}

t_backfill_only_unchanged() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	fixture_v1
	q "CREATE TABLE a (id INTEGER)"
	q "CREATE TABLE b (id INTEGER)"
	v1_applied 20240101000000 a
	v1_applied 20240102000000 b
	# b's DOWN was edited before this devflow: what its UP was is not known
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE IF EXISTS b;"
	df db migrate --json; expect_rc 6
	json_eq 'd["error"]["kind"]' checksum_mismatch
	[ -n "$(q "SELECT up_checksum FROM _migrations WHERE filename = '20240101000000_a.sql'")" ] ||
		fail "a's UP checksum not filled"
	[ "$(q "SELECT count(*) FROM _migrations WHERE filename = '20240102000000_b.sql' AND up_checksum IS NULL")" = 1 ] ||
		fail "filled the UP checksum of an edited file"
	# from now on a's DOWN may be fixed
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE IF EXISTS a;"
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["down_edited"]' true
	json_eq 'd["migrations"][1]["checksum_ok"]' false
}

t_resolve_applied_records_up() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);
-- a comment" "DROP TABLE a;"
	df db resolve 20240101000000 --applied; expect_rc 0
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);
-- a comment" "DROP TABLE IF EXISTS a;"
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][0]["down_edited"]' true
	json_eq 'len(d["problems"])' 0
}

run_tests t_v1_upgraded t_v0_adopted t_fresh_database t_newer_version_refused \
	t_down_edited_after_failed_rollback t_up_edited_still_refused t_backfill_only_unchanged \
	t_resolve_applied_records_up
