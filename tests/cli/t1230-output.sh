#!/bin/bash
# Output for people: plurals, a repeated action said once with a count, the
# elapsed time of a long statement on a terminal, and no text for people on
# a terminal with --json (unless -v).
. "$(dirname "$0")/lib.sh"

PTY_RUN=$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py

t_plurals() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status; expect_rc 0
	contains "$out$err" "1 migration: 0 applied, 1 pending"
	df db migrate; expect_rc 0
	contains "$out$err" "Applying 1 migration:"
	contains "$out$err" "Verified: the history records the migration with its checksum."
	lacks "$out$err" "(s)"
	lacks "$out$err" "1 migrations"
	df db rollback; expect_rc 0
	contains "$out$err" "the history records the migration as reverted"
	lacks "$out$err" "(s)"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate; expect_rc 0
	contains "$out$err" "Verified: the history records all 2 migrations with their checksums."
}

t_repeated_actions_merged() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER, n INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	mig 20240102000000 b "UPDATE a SET n = 1;
UPDATE a SET n = 2;
UPDATE a SET n = 3;
CREATE TABLE c (id INTEGER);" "DROP TABLE c;"
	df db status --json; expect_rc 0
	json_eq 'len(d["migrations"][1]["actions"])' 2
	contains "$(json 'd["migrations"][1]["actions"][0]')" "(3 times)"
	df db review --json; expect_rc 0
	json_eq 'len(d["summary"][0]["actions"])' 2
	df db migrate; expect_rc 0
	contains "$out$err" "(3 times)"
}

t_elapsed_on_terminal() {
	local sleep
	case $ENGINE in
	postgres) sleep="SELECT pg_sleep(3.5);" ;;
	mysql) sleep="DO SLEEP(3.5);" ;;
	sqlite) skip_engine "SQLite has no statement that sleeps" ;;
	esac
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);
$sleep
CREATE TABLE b (id INTEGER);" "DROP TABLE b; DROP TABLE a;"
	out=$(python3 "$PTY_RUN" no "$DEVFLOW" db migrate 2>&1) || fail "migrate on a terminal: $out"
	contains "$out" "statement 2 of 20240101000000_a.sql: 3 s"
	lacks "$out" "statement 1 of"
	lacks "$out" "statement 3 of"
	contains "$out" "applied"
	# not on a terminal: nothing of it
	df db rollback; expect_rc 0
	df db migrate; expect_rc 0
	lacks "$out$err" "statement 2 of"
}

t_json_on_terminal() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	out=$(python3 "$PTY_RUN" no "$DEVFLOW" db status --json 2>&1) || fail "status --json on a terminal"
	contains "$out" '"pending": 1'
	lacks "$out" "1 migration: 0 applied"
	lacks "$out" "policy local"
	out=$(python3 "$PTY_RUN" no "$DEVFLOW" db status --json -v 2>&1) || fail "status --json -v on a terminal"
	contains "$out" '"pending": 1'
	contains "$out" "1 migration: 0 applied"
	# off a terminal, the text for people still goes to stderr (scripts keep it apart)
	df db status --json; expect_rc 0
	contains "$err" "1 migration: 0 applied"
	json_eq 'd["pending"]' 1
}

ONLY_SQLITE_TESTS="t_plurals t_json_on_terminal"
run_tests t_plurals t_repeated_actions_merged t_elapsed_on_terminal t_json_on_terminal
