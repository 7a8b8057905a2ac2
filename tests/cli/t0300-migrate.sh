#!/bin/bash
# migrate, dry-run, rollback, create on every engine.
. "$(dirname "$0")/lib.sh"

setup3() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	mig 20240102000000 add_name "ALTER TABLE users ADD COLUMN name VARCHAR(100);
INSERT INTO users (id, email, name) VALUES (1, 'a@example.com', 'A; with semicolon');" \
		"ALTER TABLE users DROP COLUMN name;"
	mig 20240103000000 create_orders "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE INDEX orders_user ON orders (user_id);" "DROP TABLE orders;"
}

t_status_then_migrate() {
	setup3
	df db status --json; expect_rc 0
	json_eq 'd["total"]' 3; json_eq 'd["applied"]' 0; json_eq 'd["pending"]' 3
	json_eq 'd["migrations"][0]["state"]' pending
	json_eq 'd["migrations"][0]["version"]' 20240101000000
	json_eq 'd["migrations"][0]["name"]' create_users
	json_eq 'd["migrations"][0]["reversible"]' true
	json_eq 'd["lock"]["held"]' false
	json_eq 'd["next"][0]' "devflow db review"
	json_eq 'd["next"][1]' "devflow db migrate --dry-run"
	df db migrate --json; expect_rc 0
	json_eq 'len(d["applied"])' 3
	json_eq 'd["applied"][1]["statements"]' 2
	json_eq 'd["pending_after"]' 0
	json_eq 'd["dry_run"]' false
	[ "$(q "SELECT name FROM users")" = "A; with semicolon" ] || fail "data not applied"
	table_exists orders || fail "orders missing"
	[ "$(q "SELECT count(*) FROM _migrations WHERE state = 'applied' AND checksum IS NOT NULL")" = 3 ] || fail "tracking rows"
	df db status --json; expect_rc 0
	json_eq 'd["applied"]' 3; json_eq 'd["pending"]' 0
	json_eq 'd["migrations"][2]["state"]' applied
	json_eq 'd["migrations"][2]["checksum_ok"]' true
	df db migrate; expect_rc 0; contains "$out" "Nothing to apply"
}

t_dry_run_keeps_nothing() {
	setup3
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["dry_run"]' true
	json_eq 'len(d["applied"])' 3
	json_eq 'd["applied"][1]["statements"]' 2
	table_exists users && fail "dry-run left a table behind"
	if [ "$ENGINE" = mysql ]; then
		# it ran for real in a shadow database, which is gone now
		json 'd["shadow_database"]' >/dev/null || fail "no shadow database reported"
		[ "$(my_admin -N -e "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE '%dfshadow%'")" = 0 ] ||
			fail "the shadow database was left behind"
	fi
	# a fresh database under the local policy: the dry-run makes no devflow
	# table, so it records nothing and says so (issue 24; the receipt in an
	# existing database: t0180-agent-protocol's t_dry_run_creates_nothing)
	! table_exists _migrations || fail "dry-run created the tracking table"
	! table_exists _migrations_audit || fail "dry-run created the audit table"
	json_eq 'd["receipt_recorded"]' false
	df db status --json; json_eq 'd["pending"]' 3
}

t_dry_run_catches_errors() {
	setup3
	df db migrate; expect_rc 0
	mig 20240104000000 bad "ALTER TABLE users ADD COLUMN age INTEGER;
UPDATE nosuchtable SET x = 1;" "ALTER TABLE users DROP COLUMN age;"
	df db migrate --dry-run --json; expect_rc 1
	json_eq 'd["error"]["line"]' 3
	json_eq 'd["error"]["kind"]' sql_error
	[ "$(q "SELECT count(*) FROM _migrations")" = 3 ] || fail "dry-run recorded something"
	df db status --json; json_eq 'd["pending"]' 1
}

t_migrate_to() {
	setup3
	df db migrate --to 20240102000000 --json; expect_rc 0
	json_eq 'len(d["applied"])' 2; json_eq 'd["pending_after"]' 1
	df db migrate --to 20990101000000; expect_rc 2
}

t_rollback() {
	setup3
	df db migrate; expect_rc 0
	df db rollback --json; expect_rc 0
	json_eq 'len(d["reverted"])' 1
	json_eq 'd["reverted"][0]["version"]' 20240103000000
	table_exists orders && fail "orders still there"
	df db rollback --steps 2 --json; expect_rc 0
	json_eq 'len(d["reverted"])' 2
	table_exists users && fail "users still there"
	df db status --json; json_eq 'd["applied"]' 0
	df db migrate; expect_rc 0
	df db rollback --to 2024 --json; expect_rc 2
	df db status --json; json_eq 'd["applied"]' 3
	df db rollback --to 20240101000000 --json; expect_rc 0
	json_eq 'len(d["reverted"])' 2
	df db status --json; json_eq 'd["applied"]' 1
	df db rollback; expect_rc 0
	df db rollback; expect_rc 0; contains "$out" "Nothing to roll back"
}

t_rollback_dry_run() {
	setup3
	df db migrate; expect_rc 0
	df db rollback --dry-run --json; expect_rc 0
	json_eq 'd["dry_run"]' true
	# in the catalog, on every engine (MariaDB too), not in devflow's own status
	table_exists orders || fail "dry-run rollback dropped orders"
	[ "$(q "SELECT count(*) FROM _migrations")" = 3 ] || fail "dry-run rollback changed the history"
	df db status --json; json_eq 'd["applied"]' 3
}

t_irreversible() {
	new_project
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER);"
	mig 20240102000000 create_u "CREATE TABLE u (id INTEGER);" ""
	df db migrate; expect_rc 0
	df db status --json; json_eq 'd["migrations"][0]["reversible"]' false
	df db rollback --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["next"][0]' "devflow db create revert_create_u"
	table_exists u || fail "refused rollback changed the database"
	df db create revert_create_u --json; expect_rc 0
	f=$(json 'd["file"]')
	[ -f "$f" ] || fail "no file $f"
	grep -q -- "-- DOWN" "$f" || fail "no DOWN in $f"
	grep -q "CREATE TABLE u" "$f" || fail "DOWN of the revert is not the UP of the original"
}

t_create() {
	new_project
	df db create add_users --json; expect_rc 0
	f=$(json 'd["file"]')
	case "$f" in migrations/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_add_users.sql) ;; *) fail "bad name $f" ;; esac
	grep -q -- "-- UP" "$f" && grep -q -- "-- DOWN" "$f" || fail "template"
	df db create add_users --json; expect_rc 0
	[ "$(ls migrations | wc -l)" = 2 ] || fail "second create did not get its own version"
	printf -- '-- UP\nCREATE TABLE r (id INTEGER);\n-- DOWN\nDROP TABLE r;\n' >"$f"
	df db create revert_add_users --json; expect_rc 0
	g=$(json 'd["file"]')
	sed -n '/-- UP/,/-- DOWN/p' "$g" | grep -q "DROP TABLE r" || fail "revert UP is not the DOWN"
}

t_embedded_default() {
	new_project
	unset DATABASE_URL
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate --json; expect_rc 0
	json_eq 'd["target"]' "sqlite:./devflow.db"
	[ -f devflow.db ] || fail "no devflow.db"
}

ONLY_SQLITE_TESTS="t_embedded_default t_create"
run_tests t_status_then_migrate t_dry_run_keeps_nothing t_dry_run_catches_errors t_migrate_to t_rollback t_rollback_dry_run \
	t_irreversible t_create t_embedded_default
