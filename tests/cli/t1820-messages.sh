#!/bin/bash
# Messages (issue 24): an empty migration file says "is empty"; one bad file
# does not hide the rest of `db status` (every migration listed, every bad
# file reported, exit 2); a config syntax error says what the parser saw;
# the list of environments names each once; `db history` tells a dry-run
# migrate from a dry-run rollback, records refusals by the environment
# binding, and never repeats its message ("X: X").
. "$(dirname "$0")/lib.sh"

t_empty_file_says_empty() {
	new_project
	: >migrations/20240101000000_empty.sql
	df db migrate; expect_rc 2
	contains "$err" "'migrations/20240101000000_empty.sql' is empty"
	lacks "$err" "no '-- UP' marker"
	df db migrate --json; expect_rc 2
	json_eq 'd["error"]["kind"]' config
	contains "$(json 'd["error"]["message"]')" "is empty"
	# white space only is empty too
	printf '\n  \n' >migrations/20240101000000_empty.sql
	df db status --json; expect_rc 2
	contains "$(json 'd["problems"][0]["message"]')" "is empty"
}

t_bad_files_do_not_hide_status() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER PRIMARY KEY);" "DROP TABLE a;"
	mig 20240104000000 d "CREATE TABLE d (id INTEGER PRIMARY KEY);" "DROP TABLE d;"
	df db migrate; expect_rc 0
	: >migrations/20240102000000_empty.sql
	echo "CREATE TABLE c (id INTEGER);" >migrations/20240103000000_nomarker.sql
	echo "-- UP" >migrations/notaversion.sql
	mig 20240105000000 e "CREATE TABLE e (id INTEGER PRIMARY KEY);" "DROP TABLE e;"
	df db status --json; expect_rc 2
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' config
	json_eq '[m["version"] + " " + m["state"] for m in d["migrations"]]' \
		'["20240101000000 applied", "20240104000000 applied", "20240105000000 pending"]'
	json_eq 'sorted(p["file"] for p in d["problems"] if p["kind"] == "bad_file")' \
		'["migrations/20240102000000_empty.sql", "migrations/20240103000000_nomarker.sql", "migrations/notaversion.sql"]'
	contains "$(json '[p["message"] for p in d["problems"] if "empty" in p["file"]][0]')" "is empty"
	contains "$(json '[p["message"] for p in d["problems"] if "nomarker" in p["file"]][0]')" "no '-- UP' marker"
	contains "$(json 'd["error"]["message"]')" "3 files cannot be read as migrations"
	json_eq 'd["next"]' '[]'
	df db status; expect_rc 2
	contains "$out" "applied  20240101000000"
	contains "$out" "pending  20240105000000"
	contains "$out" "invalid  20240102000000_empty.sql"
	contains "$out" "invalid  notaversion.sql"
	contains "$out" "is empty"
	contains "$err" "error: 3 files cannot be read as migrations"
	# an applied file that went bad is invalid, not gone
	: >migrations/20240101000000_a.sql
	df db status --json; expect_rc 2
	json_eq '[p["kind"] for p in d["problems"] if p["kind"] == "missing_file"]' '[]'
	df db status; expect_rc 2
	contains "$out" "invalid  20240101000000"
	lacks "$out" "its file is gone"
	# migrate still stops at a bad file
	rm migrations/notaversion.sql
	df db migrate; expect_rc 2
	contains "$err" "is empty"
}

t_config_syntax_error_says_what() {
	new_project
	printf '[project\nmigrations = migrations\n' >devflow.conf
	df db status; expect_rc 2
	contains "$err" "devflow.conf:1: syntax error: '[project' opens a section without a closing ']'"
	df db status --json; expect_rc 2
	json_eq 'd["error"]["kind"]' config
	json_eq 'd["error"]["line"]' 1
	printf '[project]\nmigrations = migrations\nseeds\n' >devflow.conf
	df db status; expect_rc 2
	contains "$err" "devflow.conf:3: syntax error: 'seeds' is neither a [section] nor a 'key = value' line"
}

t_environments_named_once() {
	new_project
	printf '[env "local"]\nurl = %s\n[env "staging"]\nurl = %s\n' "$URL" "$URL" >devflow.conf
	df db status --env stagin --json; expect_rc 2
	json_eq 'd["error"]["message"]' "unknown environment 'stagin': devflow.conf names staging (and local)"
	json_eq 'd["error"]["message"].count("local")' 1
}

t_history_dry_runs_refusals_no_repeat() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER PRIMARY KEY);" "DROP TABLE a;"
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	df db migrate --env staging --dry-run; expect_rc 0
	df db migrate --env staging --yes; expect_rc 0
	df db rollback --env staging --dry-run; expect_rc 0
	# the same database as local: refused by the binding, and recorded
	df db rollback --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	# refused by a gate (no confirmation): the message once
	df db rollback --env staging; expect_rc 3
	df db history --json; expect_rc 0
	json_eq '[e["summary"] for e in d["entries"] if e["op"] == "dry-run"]' \
		'["dry-ran 1 of 1 migration", "dry-ran the rollback of 1 of 1 migration"]'
	json_eq '[(e["env"], e["op"], e["result"]) for e in d["entries"] if e["result"] == "refused"]' \
		'[["local", "rollback", "refused"], ["staging", "rollback", "refused"]]'
	contains "$(json '[e["summary"] for e in d["entries"] if e["env"] == "local"][0]')" \
		"refused by the binding to environment 'staging'"
	json_eq '[e["id"] for e in d["entries"] if e["detail"] and e["detail"] == e["summary"]]' '[]'
	df db history; expect_rc 0
	contains "$out" "dry-ran the rollback of 1 of 1 migration"
	local line
	line=$(printf '%s\n' "$out" | grep "staging  rollback  *refused")
	[ "$(printf '%s' "$line" | grep -o "needs" | wc -l)" = 1 ] || fail "history repeats its message: $line"
}

ONLY_SQLITE_TESTS="t_config_syntax_error_says_what"
run_tests t_empty_file_says_empty t_bad_files_do_not_hide_status t_config_syntax_error_says_what \
	t_environments_named_once t_history_dry_runs_refusals_no_repeat
