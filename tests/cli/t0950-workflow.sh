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

# Seeds have exactly the gates a migrate has in their environment (the
# seed command runs the migrate workflow with the seed files as its source).
t_seed_is_gated() {
	env_project production
	mkdir -p seeds; echo "SELECT 1;" >seeds/a.sql
	# production: a dry-run of these seed files first, as for a migrate
	df db seed --env target --confirm production --json </dev/null; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq '"dry_run" in d["error"]["missing"]' true
	json_eq 'd["next"]' '["devflow db seed --env target --dry-run"]'
	df db seed --env target --yes </dev/null; expect_rc 3
	contains "$err" "devflow db seed --env target --dry-run"
	df db seed --env target --dry-run; expect_rc 0
	contains "$out" "dry-ran seeds/a.sql (1 statement)"
	# then the question a production migrate asks: confirmation and a backup at once
	df db seed --env target --yes --json </dev/null; expect_rc 3
	json_eq 'sorted(d["error"]["missing"])' '["backup", "confirmation"]'
	json_eq 'd["ask"]["question"]' "Type 'yes' to apply 1 migration to PRODUCTION, after a backup taken now"
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db seed --env target --backup --confirm production"
	df db seed --env target --confirm production --backup; expect_rc 0
	contains "$out" "seeded seeds/a.sql (1 statement)"
	df db history --env target --json; expect_rc 0
	# the refusals, the dry-run, the backup the seed took, the seed
	json_eq '[e["op"] + " " + e["result"] for e in d["entries"] if e["op"] in ("seed", "dry-run", "backup")]' \
		'["seed refused", "seed refused", "dry-run ok", "seed refused", "backup ok", "seed ok"]'
}

# Staging: --yes, or a --confirm that names this environment; never another's.
t_seed_staging_confirm() {
	env_project staging
	df db migrate --env target --dry-run; expect_rc 0
	df db migrate --env target --yes; expect_rc 0
	mkdir -p seeds; echo "INSERT INTO users (id, name) VALUES (1, 'alice');" >seeds/a.sql
	df db seed --env target --dry-run; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 0 ] || fail "a dry-run kept a seeded row"
	df db seed --env target --confirm production --json </dev/null; expect_rc 3
	json_eq 'd["error"]["missing"]' '["confirmation"]'
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db seed --env target --yes"
	df db seed --env target --confirm other </dev/null; expect_rc 3
	[ "$(q "SELECT count(*) FROM users")" = 0 ] || fail "a refused seed wrote a row"
	df db seed --env target --confirm target; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 1 ] || fail "seeded rows"
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

run_tests t_seed t_seed_is_gated t_seed_staging_confirm t_smoke_and_after_migrate t_rollback_plan t_high_risk_needs_accept t_production_checklist
