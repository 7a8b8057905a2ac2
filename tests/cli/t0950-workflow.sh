#!/bin/bash
# The rest of the workflow: seeds, smoke tests and after_migrate hooks, the
# production checklist, high-risk findings needing --accept-risk, rollback plans.
. "$(dirname "$0")/lib.sh"

env_project() {   # env_project POLICY: an env "target" with that policy on $URL
	new_project
	unset DATABASE_URL
	printf '[env "target"]\nurl = %s\npolicy = %s\n' "$URL" "$1" >devflow.conf
	mig 20240101000000 users "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));" "DROP TABLE users;"
}

t_seed() {
	env_project local
	df db migrate --env target; expect_rc 0
	mkdir -p seeds/target
	echo "INSERT INTO users (id, name) VALUES (1, 'alice');" >seeds/01_users.sql
	echo "INSERT INTO users (id, name) VALUES (2, 'bob');" >seeds/target/02_more.sql
	df db seed --env target --json; expect_rc 0
	json_eq 'len(d["seeded"])' 2
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "seeded rows"
	echo "INSERT INTO nosuch VALUES (1);" >seeds/target/03_bad.sql
	df db seed --env target --json; expect_rc 1
	json_eq 'd["error"]["kind"]' sql_error
	df db history --env target --json; expect_rc 0
	contains "$out" '"op": "seed"'
}

t_seed_is_gated() {
	env_project production
	mkdir -p seeds; echo "SELECT 1;" >seeds/a.sql
	df db seed --env target --yes </dev/null; expect_rc 3
	contains "$err" "--confirm production"
	df db seed --env target --confirm production; expect_rc 0
}

t_smoke_and_after_migrate() {
	env_project local
	printf 'smoke = smoke.sql\nafter_migrate = touch after-ran && test "$DEVFLOW_ENV" = target\n' >>devflow.conf
	echo "SELECT count(*) FROM users;" >smoke.sql
	df db migrate --env target --json; expect_rc 0
	json_eq 'd["smoke"]' true
	json_eq 'd["after_migrate"]' true
	[ -f after-ran ] || fail "after_migrate did not run"
	mig 20240102000000 orders "CREATE TABLE orders (id INTEGER);" "DROP TABLE orders;"
	echo "SELECT count(*) FROM no_such_table;" >smoke.sql
	df db migrate --env target --json; expect_rc 1
	contains "$err" "no automatic rollback"
	table_exists orders || fail "a failed smoke test must not roll back"
	df db status --env target --json; json_eq 'd["pending"]' 0
}

t_rollback_plan() {
	env_project local
	mig 20240102000000 legacy "CREATE TABLE legacy (id INTEGER);
DROP TABLE legacy;"
	df db migrate --env target --json; expect_rc 0
	p=$(json 'd["rollback_plan"]')
	[ -f "$p" ] || fail "no rollback plan"
	contains "$(cat "$p")" "devflow db rollback --env target --steps 2"
	contains "$(cat "$p")" "DROP TABLE users;"
	contains "$(cat "$p")" "IRREVERSIBLE"
	case "$p" in .devflow/rollback/*-target.md) ;; *) fail "plan path $p" ;; esac
}

t_high_risk_needs_accept() {
	env_project staging
	df db migrate --env target; expect_rc 3     # no dry-run yet
	df db migrate --env target --dry-run; expect_rc 0
	df db migrate --env target --yes; expect_rc 0
	mig 20240102000000 drop_users "DROP TABLE users;" "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));"
	df db migrate --env target --dry-run; expect_rc 0
	df db migrate --env target --yes --json </dev/null; expect_rc 3
	contains "$(json 'd["error"]["message"]')" "high-risk"
	json_eq 'd["findings"][0]["rule"]' drop-table
	table_exists users || fail "dropped without --accept-risk"
	df db migrate --env target --yes --accept-risk; expect_rc 0
	table_exists users && fail "not applied with --accept-risk"
	return 0
}

t_production_checklist() {
	env_project production
	df db status --env target --json; expect_rc 0
	json_eq '[c["item"] for c in d["checklist"]][:4]' '["migration tested on staging", "rollback script prepared", "backup taken before migration", "review clean"]'
	json_eq 'd["checklist"][1]["ok"]' true
	json_eq 'd["checklist"][2]["ok"]' false
	if [ "$ENGINE" = sqlite ]; then
		# no database file yet: nothing to back up, and no file made
		df db backup --env target; expect_rc 2
		contains "$err" "does not exist"
		[ ! -e test.db ] || fail "a refused backup created the database file"
		sqlite3 test.db "PRAGMA user_version = 1" || fail "cannot create test.db"
	fi
	# on every engine: a failed backup is a failure, not a skipped check
	df db backup --env target; expect_rc 0
	df db status --env target --json; expect_rc 0
	json_eq 'd["checklist"][2]["ok"]' true
	df db status --env target; expect_rc 0
	contains "$out" "Migration checklist"
}

run_tests t_seed t_seed_is_gated t_smoke_and_after_migrate t_rollback_plan t_high_risk_needs_accept t_production_checklist
