#!/bin/bash
# A failing migration: stop, report file:line:column, keep earlier ones, never retry.
. "$(dirname "$0")/lib.sh"

t_failure_stops_and_keeps_earlier() {
	new_project
	mig 20240101000000 ok_one "CREATE TABLE one (id INTEGER);" "DROP TABLE one;"
	mig 20240102000000 broken "CREATE TABLE two (id INTEGER);
INSERT INTO two (id) VALUES (1);
INSERT INTO nosuchtable (id) VALUES (2);" "DROP TABLE two;"
	mig 20240103000000 after "CREATE TABLE three (id INTEGER);" "DROP TABLE three;"
	df db migrate --json; expect_rc 1
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' sql_error
	json_eq 'd["error"]["file"]' migrations/20240102000000_broken.sql
	json_eq 'd["error"]["line"]' 4
	json_eq 'len(d["applied"])' 1
	contains "$err" "20240102000000_broken.sql:4:"
	table_exists one || fail "earlier migration lost"
	table_exists three && fail "ran past the failure"
	[ "$(q "SELECT count(*) FROM _migrations WHERE filename LIKE '%after%'")" = 0 ] || fail "recorded a later migration"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'migrate' AND result = 'failed'")" = 1 ] || fail "failure not in the audit log"
	if [ "$ENGINE" = mysql ]; then
		# DDL commits implicitly: the half-applied migration is shown as failed
		df db status --json; expect_rc 0
		json_eq 'd["migrations"][1]["state"]' failed
		json_eq 'd["migrations"][1]["statements_done"]' 2
		df db migrate; expect_rc 6
		q "DROP TABLE two"
		df db resolve 20240102000000 --rolled-back; expect_rc 0
	else
		table_exists two && fail "failed migration left table two behind"
		df db status --json; json_eq 'd["migrations"][1]["state"]' pending
	fi
	# fix the file; the next run finishes the work
	mig 20240102000000 broken "CREATE TABLE two (id INTEGER);" "DROP TABLE two;"
	df db migrate --json; expect_rc 0
	json_eq 'len(d["applied"])' 2
}

t_syntax_error_position() {
	new_project
	mig 20240101000000 typo "CREATE TABLE ok1 (id INTEGER);

CREATE TABLE t (id INTEGER,, name TEXT);"
	df db migrate --json; expect_rc 1
	json_eq 'd["error"]["line"]' 4
	json_eq 'd["error"]["kind"]' sql_error
	contains "$err" "typo.sql:4:"
	table_exists ok1 && [ "$ENGINE" != mysql ] && fail "transaction kept ok1"
	return 0
}

run_tests t_failure_stops_and_keeps_earlier t_syntax_error_position
