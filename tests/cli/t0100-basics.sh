#!/bin/bash
# Global options, help, usage errors, version.
. "$(dirname "$0")/lib.sh"

t_version() {
	df --version; expect_rc 0; contains "$out" "devflow "
}

t_help_everywhere() {
	df --help; expect_rc 0; contains "$out" "db migrate"
	for c in doctor detect "db status" "db migrate" "db rollback" "db create" "db review" \
		"db backup" "db resolve" "db history" "db lint"; do
		df $c --help; expect_rc 0 "$c --help"; contains "$out" "usage: devflow"
		df help $c; expect_rc 0 "help $c"; contains "$out" "usage: devflow"
	done
}

t_usage_errors() {
	new_project
	df frobnicate; expect_rc 2; contains "$err" "unknown command"
	df frobnicate --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	df migrate --json; expect_rc 2
	# a guess at a command that writes is offered as its dry-run (issue 24)
	json_eq 'd["next"][0]' "devflow db migrate --json --dry-run"
	json_eq 'd["error"]["hint"]' "devflow db migrate --json"
	df db frobnicate --json; expect_rc 2; json_eq 'd["ok"]' false
	df db frobnicate; expect_rc 2
	df migrate; expect_rc 2; contains "$err" "devflow db migrate"
	df db status --no-such-flag; expect_rc 2; contains "$err" "unknown option"
	df db status --json --no-such-flag; expect_rc 2
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' usage
	df db rollback --steps zero; expect_rc 2
	df db rollback --steps 1 --to 1; expect_rc 2
	df --lock-timeout abc db status; expect_rc 2
	df db create; expect_rc 2
	df db create 'bad/name'; expect_rc 2
	df db resolve 1; expect_rc 2
	df; expect_rc 2
}

t_globals_anywhere() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --json; expect_rc 0; json_eq 'd["pending"]' 1
	df --json db status; expect_rc 0; json_eq 'd["pending"]' 1
	df db --json status; expect_rc 0; json_eq 'd["total"]' 1
	cd /
	df -C "$PROJECT" db status --json; expect_rc 0; json_eq 'd["total"]' 1
	df db status -C "$PROJECT" --json; expect_rc 0; json_eq 'd["total"]' 1
	# Outside any project: no migrations folder is an error, never "up to date".
	df db status --json; expect_rc 2; json_eq 'd["error"]["kind"]' config
	cd "$PROJECT"
	df db status --env=local --json; expect_rc 0; json_eq 'd["env"]' local
}

t_json_is_one_document() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	for c in "db status" "db migrate" "db history" "doctor" "detect" "db rollback"; do
		df $c --json; expect_rc 0 "$c"
		json 'd["ok"]' >/dev/null || fail "$c: stdout is not JSON"
		json_eq 'type(d["next"]).__name__' list
	done
}

ONLY_SQLITE_TESTS="t_version t_help_everywhere"
run_tests t_version t_help_everywhere t_usage_errors t_globals_anywhere t_json_is_one_document
