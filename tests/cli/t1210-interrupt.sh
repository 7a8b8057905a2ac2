#!/bin/bash
# SIGINT/SIGTERM during a run (issue 11): the statement is cancelled on the
# server, devflow exits 130 within about a second, the lock is free, the
# history is honest, the audit row says interrupted, no throwaway database stays.
. "$(dirname "$0")/lib.sh"

# Nothing of the slow statement runs on the server any more.
server_idle() {
	[ "$(sleeper_sessions)" = 0 ]
}

t_sigint_migrate() {
	new_project
	mig 20240101000000 slow "CREATE TABLE a (id INTEGER);
$(sleeper)" "DROP TABLE a;"
	df db status; expect_rc 0 || return 1
	run_and_signal INT db migrate --json
	expect_rc 130 || return 1
	[ "$took" -lt 1500 ] || fail "exit took $took ms after SIGINT" || return 1
	json_eq 'd["error"]["kind"]' interrupted || return 1
	contains "$(json 'd["error"]["message"]')" "interrupted by SIGINT" || return 1
	server_idle || fail "the statement still runs on the server" || return 1
	local t0=$(now_ms)
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["lock"]["held"]' false || return 1
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'migrate' AND result = 'interrupted'")" = 1 ] ||
		fail "no interrupted audit row" || return 1
	if [ "$ENGINE" = mysql ]; then
		# DDL committed by itself: the migration is failed with what ran
		[ "$(q "SELECT state FROM _migrations")" = failed ] || fail "not recorded failed" || return 1
		[ "$(q "SELECT statements_done FROM _migrations")" = 1 ] || fail "statements_done" || return 1
		contains "$(q "SELECT error FROM _migrations")" interrupted || return 1
		df db migrate --lock-timeout 0; expect_rc 6 || return 1
	else
		table_exists a && { fail "the interrupted migration kept table a"; return 1; }
		[ "$(q "SELECT count(*) FROM _migrations")" = 0 ] || fail "a row was recorded" || return 1
		mig 20240101000000 slow "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
		df db migrate --lock-timeout 0; expect_rc 0 || return 1
	fi
	[ $(( $(now_ms) - t0 )) -lt 3000 ] || fail "the lock was not free at once" || return 1
}

t_sigint_dry_run() {
	new_project
	# devflow's tables exist (a dry-run makes none where they do not: t0180),
	# so the interrupted dry-run has its audit row
	mig 20231231000000 first "CREATE TABLE z (id INTEGER);" "DROP TABLE z;"
	df db migrate; expect_rc 0 || return 1
	mig 20240101000000 slow "CREATE TABLE a (id INTEGER);
$(sleeper)" "DROP TABLE a;"
	df db status; expect_rc 0 || return 1
	run_and_signal INT db migrate --dry-run --json
	expect_rc 130 || return 1
	[ "$took" -lt 1500 ] || fail "exit took $took ms after SIGINT" || return 1
	json_eq 'd["error"]["kind"]' interrupted || return 1
	server_idle || fail "the statement still runs on the server" || return 1
	table_exists a && { fail "the dry-run kept table a"; return 1; }
	[ "$(q "SELECT count(*) FROM _migrations WHERE version = '20240101000000'")" = 0 ] ||
		fail "a row was recorded" || return 1
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'dry-run' AND result = 'interrupted'")" = 1 ] ||
		fail "no interrupted audit row" || return 1
	if [ "$ENGINE" = mysql ]; then
		[ -z "$(my_admin -N -B -e "SHOW DATABASES LIKE '${DBNAME}\\_dfshadow\\_%'")" ] ||
			fail "the throwaway database is still there" || return 1
	fi
	df doctor --json; expect_rc 0 || return 1
}

t_sigterm_rollback() {
	new_project
	mig 20240101000000 slow "CREATE TABLE a (id INTEGER);" "DROP TABLE a;
$(sleeper)"
	df db migrate; expect_rc 0 || return 1
	run_and_signal TERM db rollback --json
	expect_rc 130 || return 1
	[ "$took" -lt 1500 ] || fail "exit took $took ms after SIGTERM" || return 1
	json_eq 'd["error"]["kind"]' interrupted || return 1
	contains "$(json 'd["error"]["message"]')" "interrupted by SIGTERM while rolling back" || return 1
	server_idle || fail "the statement still runs on the server" || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["lock"]["held"]' false || return 1
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'rollback' AND result = 'interrupted'")" = 1 ] ||
		fail "no interrupted audit row" || return 1
	if [ "$ENGINE" = mysql ]; then
		table_exists a && { fail "DROP TABLE a ran but is not shown"; return 1; }
		[ "$(q "SELECT state FROM _migrations")" = failed ] || fail "not recorded failed" || return 1
	else
		table_exists a || fail "the DOWN's transaction was not rolled back" || return 1
		[ "$(q "SELECT state FROM _migrations")" = applied ] || fail "not applied any more" || return 1
	fi
}

# A dry-run killed outright (no chance to clean up) leaves its throwaway
# database: doctor names it.
t_doctor_lists_throwaway() {
	[ "$ENGINE" = mysql ] || skip_engine "throwaway databases are made by MariaDB dry-runs only"
	new_project
	mig 20240101000000 slow "CREATE TABLE a (id INTEGER);
$(sleeper)" "DROP TABLE a;"
	df db status; expect_rc 0 || return 1
	run_and_signal KILL db migrate --dry-run
	left=$(my_admin -N -B -e "SHOW DATABASES LIKE '${DBNAME}\\_dfshadow\\_%'")
	[ -n "$left" ] || fail "the killed dry-run left no throwaway database (test setup)" || return 1
	df doctor --json; expect_rc 1 || return 1
	contains "$out" "$left" || { my_admin -e "DROP DATABASE \`$left\`"; return 1; }
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "throwaway"][0]' false || { my_admin -e "DROP DATABASE \`$left\`"; return 1; }
	my_admin -e "DROP DATABASE \`$left\`"
	df doctor; expect_rc 0 || return 1
}

run_tests t_sigint_migrate t_sigint_dry_run t_sigterm_rollback t_doctor_lists_throwaway
