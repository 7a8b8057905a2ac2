#!/bin/bash
# Drift is never absorbed in silence (issue 24): drift names what changed
# inside an object (a column added, an index), in text and JSON; the dry-run
# and the migrate preview show it; under staging and production a migrate
# over drift is an `ask` (exit 3 under --json), answered with --accept-drift,
# and the audit row names who accepted which drift; under local it is shown,
# not asked; afterwards `db status` says what the record took in.
. "$(dirname "$0")/lib.sh"

# A project with users(id, email) migrated under ENV (local or staging).
setup_drifted() {
	new_project
	unset DATABASE_URL
	printf '[env "staging"]\nurl = %s\npolicy = staging\n[env "local"]\nurl = %s\n' "$URL" "$URL" >devflow.conf
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	if [ "$1" = staging ]; then
		df db migrate --env staging --dry-run; expect_rc 0
		df db migrate --env staging --yes --json; expect_rc 0
	else
		df db migrate --json; expect_rc 0
	fi
	json_eq 'd["schema_recorded"]' true
	# behind devflow's back
	q "ALTER TABLE users ADD COLUMN hack INTEGER" >/dev/null
	q "CREATE INDEX hack_idx ON users (hack)" >/dev/null
	mig 20240102000000 posts "CREATE TABLE posts (id INTEGER PRIMARY KEY);" "DROP TABLE posts;"
}

t_drift_names_columns() {
	setup_drifted local
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	# the object level stays (op, object), with kind and details added
	json_eq '[c["op"] + " " + c["kind"] for c in d["drift_changes"] if "users" in c["object"] and c["kind"] == "table"]' '["changed table"]'
	json_eq '[x.split(" ")[:3] for c in d["drift_changes"] for x in c["details"] if c["kind"] == "table"][0][:2]' '["+", "column"]'
	contains "$(json '[x for c in d["drift_changes"] for x in c["details"]]')" "users.hack"
	contains "$(json '[x.lower() for c in d["drift_changes"] for x in c["details"]]')" "int"
	json_eq '[c["op"] for c in d["drift_changes"] if c["kind"] == "index" and "hack_idx" in c["object"]]' '["added"]'
	df db status; expect_rc 0
	contains "$out" "~ table "
	contains "$out" "+ column "
	contains "$out" "users.hack"
	contains "$out" "+ index "
	contains "$out" "hack_idx"
	# a column dropped and one changed are named too
	case $ENGINE in
	mysql) q "DROP INDEX hack_idx ON users" >/dev/null ;;
	*) q "DROP INDEX hack_idx" >/dev/null ;;
	esac
	q "ALTER TABLE users DROP COLUMN hack" >/dev/null
	q "ALTER TABLE users DROP COLUMN email" >/dev/null
	df db status --json; expect_rc 0
	contains "$(json '[x for c in d["drift_changes"] for x in c["details"]]')" "- column "
	contains "$(json '[x for c in d["drift_changes"] for x in c["details"]]')" "email"
}

t_drift_names_changed_type() {
	[ "$ENGINE" = sqlite ] && skip_engine "SQLite cannot change a column's type in place"
	setup_drifted local
	case $ENGINE in
	postgres) q "ALTER TABLE users ALTER COLUMN email TYPE text" >/dev/null ;;
	mysql) q "ALTER TABLE users MODIFY email TEXT NOT NULL" >/dev/null ;;
	esac
	df db status --json; expect_rc 0
	local det
	det=$(json '[x for c in d["drift_changes"] for x in c["details"]]')
	contains "$det" "~ column "
	contains "$det" "email"
	contains "$det" " -> "
	contains "$det" "text"
}

t_preview_and_dry_run_show_drift() {
	setup_drifted local
	df db migrate --dry-run; expect_rc 0
	contains "$out" "Drift:"
	contains "$out" "users.hack"
	contains "$out" "hack_idx"
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(json '[x for c in d["drift_changes"] for x in c["details"]]')" "users.hack"
	contains "$err" "Drift:"
	json_eq '"ask" in d' false
}

t_local_shows_not_asks() {
	setup_drifted local
	df db migrate --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq '"ask" in d' false
	json_eq 'd["drift"]' true
	json_eq '"drift_accepted_by" in d' false
	contains "$err" "Drift:"
	table_exists posts || fail "local migrate did not apply posts"
	# status: no new drift, but the drift the migrate went over is named,
	# never "no drift" as if there never was one
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	json_eq 'd["drift_absorbed"]["accepted_by"]' null
	contains "$(json '[x for c in d["drift_absorbed"]["changes"] for x in c["details"]]')" "users.hack"
	df db status; expect_rc 0
	contains "$out" "not accepted by anyone"
	contains "$out" "users.hack"
	df db history --json; expect_rc 0
	contains "$(json '[e["detail"] for e in d["entries"] if e["op"] == "migrate"][-1]')" "not asked"
}

t_staging_asks_in_json() {
	setup_drifted staging
	df db migrate --env staging --dry-run --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(json 'd["ask"]["question"]')" "changed outside devflow since"
	contains "$(json 'd["ask"]["question"]')" "users.hack"
	contains "$(json 'd["ask"]["options"][0]["then"]')" "--accept-drift"
	# --yes alone is not enough: exit 3, an ask, and nothing applied
	df db migrate --env staging --yes --json; expect_rc 3
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["error"]["missing"]' '["accept_drift"]'
	json_eq 'd["next"]' '[]'
	json_eq '[o["answer"] for o in d["ask"]["options"]]' '["yes", "no"]'
	contains "$(json 'd["ask"]["question"]')" "anyway?"
	contains "$(json 'd["ask"]["question"]')" "hack_idx"
	local then
	then=$(json 'd["ask"]["options"][0]["then"]')
	contains "$then" "--accept-drift"
	contains "$then" "--yes"
	contains "$then" "--env staging"
	table_exists posts && fail "a refused migrate applied posts"
	# without --yes: every missing gate at once, one answer for all
	df db migrate --env staging --json; expect_rc 3
	json_eq 'sorted(d["error"]["missing"])' '["accept_drift", "confirmation"]'
	contains "$(json 'd["ask"]["options"][0]["then"]')" "--accept-drift"
	df db migrate --env staging --yes; expect_rc 3
	contains "$out$err" "Drift:"
	contains "$err" "--accept-drift"
}

t_accepted_is_audited() {
	setup_drifted staging
	df db migrate --env staging --dry-run --json; expect_rc 0
	local then
	then=$(json 'd["ask"]["options"][0]["then"]')
	# the person's answer was yes: run `then` as written
	df ${then#devflow } --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["drift_accepted_by"] is not None' true
	table_exists posts || fail "posts was not applied"
	df db history --env staging --json; expect_rc 0
	local det who
	det=$(json '[e["detail"] for e in d["entries"] if e["op"] == "migrate" and e["result"] == "ok"][-1]')
	who=$(json '[e["user"] for e in d["entries"] if e["op"] == "migrate" and e["result"] == "ok"][-1]')
	contains "$det" "drift accepted by $who"
	contains "$det" "given with the run"
	contains "$det" "users.hack"
	contains "$det" "hack_idx"
	df db status --env staging --json; expect_rc 0
	json_eq 'd["drift"]' false
	json_eq 'd["drift_absorbed"]["accepted_by"]' "$who"
	df db status --env staging; expect_rc 0
	contains "$out" "accepted by $who"
	contains "$out" "users.hack"
}

t_no_drift_no_gate() {
	new_project
	unset DATABASE_URL
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	mig 20240101000000 a "CREATE TABLE a (id INTEGER PRIMARY KEY);" "DROP TABLE a;"
	df db migrate --env staging --dry-run --json; expect_rc 0
	json_eq '"drift" in d' false
	lacks "$(json 'd["ask"]["options"][0]["then"]')" "--accept-drift"
	df db migrate --env staging --yes --json; expect_rc 0
	mig 20240102000000 b "CREATE TABLE b (id INTEGER PRIMARY KEY);" "DROP TABLE b;"
	df db migrate --env staging --dry-run --json; expect_rc 0
	lacks "$(json 'd["ask"]["question"]')" "outside devflow"
	df db migrate --env staging --yes --json; expect_rc 0
	json_eq '"drift_absorbed" in d' false
	df db status --env staging --json; expect_rc 0
	json_eq '"drift_absorbed" in d' false
}

run_tests t_drift_names_columns t_drift_names_changed_type t_preview_and_dry_run_show_drift \
	t_local_shows_not_asks t_staging_asks_in_json t_accepted_is_audited t_no_drift_no_gate
