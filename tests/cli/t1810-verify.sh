#!/bin/bash
# db verify (issue 24): every applied file matches its checksum, no history
# row is failed or running, no recorded file is gone, and the live schema is
# the one the last migrate recorded.  Exit 0 when all hold, 6 when the history
# needs a person, 1 for drift; each finding with kind, object and hint.
# `next` after a migrate is `db verify`, with the run's target selection.
. "$(dirname "$0")/lib.sh"

# A project with users, migrated (the schema recorded).
setup_users() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	df db migrate --json; expect_rc 0
	json_eq 'd["schema_recorded"]' true
}

kinds() { json "' '.join(f['kind'] for f in d['findings'])"; }

t_migrate_next_is_verify_and_it_holds() {
	setup_users
	json_eq 'd["next"]' '["devflow db verify"]'
	df db verify --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["findings"]' '[]'
	json_eq 'd["applied"]' 1
	json_eq 'd["drift"]' false
	json_eq 'd["schema_recorded_at"].endswith("Z")' true
	json_eq 'd["next"]' '[]'
	df db verify; expect_rc 0
	contains "$out" "Verified: 1 applied migration matches its file"
	contains "$out" "the schema is as devflow left it"
	# the text output of a migrate ends with the same suggestion
	mig 20240102000000 create_notes "CREATE TABLE notes (id INTEGER PRIMARY KEY);" "DROP TABLE notes;"
	df db migrate; expect_rc 0
	contains "$out" "Next: devflow db verify"
	df db verify --json; expect_rc 0
	json_eq 'd["applied"]' 2
	# a rollback's next stays status
	df db rollback --json; expect_rc 0
	json_eq 'd["next"]' '["devflow db status"]'
}

t_next_keeps_selection() {
	new_project
	mkdir -p sql/mig
	printf -- '-- UP\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE a;\n' \
		>sql/mig/20240101000000_a.sql
	printf '[env "qa"]\nurl = %s\n' "$URL" >devflow.conf
	cd /
	df -C "$PROJECT" db migrate --env qa -d sql/mig --json; expect_rc 0
	local n
	n=$(json 'd["next"][0]')
	contains "$n" "devflow db verify "
	contains "$n" "-C $PROJECT"
	contains "$n" "--env qa"
	contains "$n" "-d sql/mig"
	# it runs as written
	eval "set -- ${n#devflow }"
	df "$@" --json; expect_rc 0
	json_eq 'd["applied"]' 1
	json_eq 'd["drift"]' false
}

t_drift_is_exit_1() {
	setup_users
	q "CREATE TABLE hack (id INTEGER PRIMARY KEY)" >/dev/null
	df db verify --json; expect_rc 1
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' drift
	json_eq 'd["drift"]' true
	json_eq 'sorted(set(f["kind"] for f in d["findings"]))' '["drift"]'
	json_eq 'sorted(set(f["change"] for f in d["findings"] if "hack" in f["object"]))' '["added"]'
	contains "$(json 'd["error"]["hint"]')" "outside devflow"
	json_eq 'all(f["hint"] and f["message"] and f["object"] for f in d["findings"])' true
	# a change the last run made, undone outside devflow: it is gone
	q "DROP TABLE users" >/dev/null
	df db verify --json; expect_rc 1
	json_eq 'sorted(set(f["change"] for f in d["findings"] if "users" in f["object"]))' '["removed"]'
	contains "$(json '[f["message"] for f in d["findings"] if "users" in f["object"]][0]')" "is gone"
	df db verify; expect_rc 1
	contains "$out" "verify found "
	contains "$out" "drift "
	contains "$err" "error: verify failed"
}

t_checksum_is_exit_6() {
	setup_users
	# a DOWN edited since applied is no finding: the UP's checksum guards what ran
	echo "-- edited" >>migrations/20240101000000_create_users.sql
	df db verify --json; expect_rc 0
	json_eq 'd["findings"]' '[]'
	# an edited UP is
	sed -i 's/email VARCHAR(255) NOT NULL/email VARCHAR(255)/' migrations/20240101000000_create_users.sql
	df db verify --json; expect_rc 6
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' checksum_mismatch
	json_eq "$(printf '%s' "[f['object'] for f in d['findings']]")" '["20240101000000_create_users.sql"]'
	contains "$(json 'd["findings"][0]["hint"]')" "devflow db resolve 20240101000000 --applied"
	# deciding is a person's: an ask, no next
	json_eq 'd["next"]' '[]'
	contains "$(json 'd["ask"]["options"][0]["then"]')" "devflow db resolve 20240101000000 --applied"
	# drift together with a history problem: still 6
	q "CREATE TABLE hack (id INTEGER PRIMARY KEY)" >/dev/null
	df db verify --json; expect_rc 6
	json_eq "$(printf '%s' "sorted(set(f['kind'] for f in d['findings']))")" '["checksum_mismatch", "drift"]'
}

t_missing_file_is_exit_6() {
	setup_users
	rm migrations/20240101000000_create_users.sql
	df db verify --json; expect_rc 6
	json_eq 'd["error"]["kind"]' missing_file
	contains "$(kinds)" missing_file
	contains "$(json 'd["findings"][0]["hint"]')" "--rolled-back"
}

t_failed_and_running_rows_are_exit_6() {
	setup_users
	q "UPDATE _migrations SET state = 'failed'" >/dev/null
	df db verify --json; expect_rc 6
	json_eq 'd["error"]["kind"]' failed_migration
	contains "$(kinds)" failed_migration
	json_eq 'd["findings"][0]["version"]' 20240101000000
	q "UPDATE _migrations SET state = 'running'" >/dev/null
	df db verify --json; expect_rc 6
	contains "$(kinds)" running_migration
	json_eq 'd["error"]["kind"]' failed_migration
	contains "$(json 'd["findings"][0]["message"]')" "running"
	df db verify; expect_rc 6
	contains "$out" "running_migration"
	contains "$out" "hint: "
}

t_nothing_applied_creates_nothing() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY);" "DROP TABLE users;"
	df db verify --json; expect_rc 0
	json_eq 'd["applied"]' 0
	json_eq 'd["findings"]' '[]'
	json_eq 'd["drift"]' null
	if [ "$ENGINE" = sqlite ] && [ -e test.db ]; then fail "db verify created test.db"; fi
	df db verify --help; expect_rc 0
	contains "$out" "usage: devflow db verify"
	df help --json; expect_rc 0
	json_eq '"db verify" in [c["name"] for c in d["commands"]]' true
}

run_tests t_migrate_next_is_verify_and_it_holds t_next_keeps_selection t_drift_is_exit_1 \
	t_checksum_is_exit_6 t_missing_file_is_exit_6 t_failed_and_running_rows_are_exit_6 \
	t_nothing_applied_creates_nothing
