#!/bin/bash
# Seed 002's safety rule 10 (issue 24): before a migration that drops a table
# or a column runs on staging or production, the preview, the dry-run and the
# `ask` name the sessions using that table (pid, user, client, state, since):
# PostgreSQL's pg_stat_activity + pg_locks, MariaDB's metadata locks or
# processlist.  A background client holds a transaction that read the table.
. "$(dirname "$0")/lib.sh"

# hold_table: a client of the test server in a transaction that read t,
# sleeping; sets $spid (its session id on the server).  Ended by end_holder
# (and when the test ends, however it ends).
hold_table() {
	case $ENGINE in
	postgres)
		PGAPPNAME=df_holder psql -qX "$URL" -c "BEGIN" -c "SELECT * FROM t" \
			-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
		holder=$!
		trap 'end_holder' EXIT
		for _ in $(seq 100); do
			spid=$(q "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
				WHERE a.application_name = 'df_holder' AND l.relation = 't'::regclass")
			[ -n "$spid" ] && return 0
			sleep 0.05
		done ;;
	mysql)
		local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DBNAME" \
			-e "BEGIN; SELECT * FROM t; SELECT SLEEP(60)" >/dev/null 2>&1 &
		holder=$!
		trap 'end_holder' EXIT
		for _ in $(seq 100); do
			spid=$(q "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)' AND DB = DATABASE()")
			[ -n "$spid" ] && return 0
			sleep 0.05
		done ;;
	esac
	fail "the holding client never showed up (test setup)"
}

# end_holder: end the holding session on the server and its client
end_holder() {
	case $ENGINE in
	postgres) q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'df_holder'" >/dev/null 2>&1 || true ;;
	mysql) [ -z "${spid:-}" ] || q "KILL $spid" >/dev/null 2>&1 || true ;;
	esac
	[ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
}

# a staging project whose t and u exist; the pending migration drops a
# column of t and the table u
staging_project() {
	new_project
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	mig 20240101000000 a "CREATE TABLE t (x INTEGER, y INTEGER);
CREATE TABLE u (x INTEGER);" "DROP TABLE u;
DROP TABLE t;"
	df db migrate --env staging --dry-run; expect_rc 0 || return 1
	df db migrate --env staging --yes; expect_rc 0 || return 1
	mig 20240102000000 b "ALTER TABLE t DROP COLUMN y;
DROP TABLE u;" "CREATE TABLE u (x INTEGER);
ALTER TABLE t ADD COLUMN y INTEGER;"
}

t_dry_run_names_sessions() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite has no server sessions: another process holding its lock is named by the lock check (t1220)"
	staging_project || return 1
	hold_table || return 1
	# PostgreSQL's dry-run waits for the holder's lock: end it after 2 s
	( sleep 2; end_holder ) >/dev/null 2>&1 &
	local ender=$!
	df db migrate --env staging --dry-run --json
	wait $ender 2>/dev/null || true
	expect_rc 0 || return 1
	# the session on t (PostgreSQL: its lock on t, certain; MariaDB without
	# metadata-lock instruments: its open transaction, which may have read
	# t or u, so it is named for both, as "may be using")
	local s='[x for x in d["sessions_using"] if x["table"] == "t"][0]'
	json_eq "$s[\"pid\"]" "$spid" || return 1
	json_eq "$s[\"drops\"]" column || return 1
	json_eq "$s[\"version\"]" 20240102000000 || return 1
	json_eq "$s[\"since\"][:2]" 20 || return 1
	[ -n "$(json "$s[\"user\"]")" ] || fail "no user named" || return 1
	[ -n "$(json "$s[\"state\"]")" ] || fail "no state named" || return 1
	# the preview for people (stderr under --json) names it too
	contains "$err" "using what this run drops" || return 1
	contains "$err" "pid $spid (" || return 1
	contains "$err" "using t, a column of which 20240102000000 drops" || return 1
	if [ "$ENGINE" = postgres ]; then
		json_eq 'len(d["sessions_using"])' 1 || return 1
		json_eq "$s[\"client\"]" df_holder || return 1
		json_eq "$s[\"certain\"]" true || return 1
		contains "$(json "$s[\"how\"]")" AccessShareLock || return 1
		contains "$err" "1 session is using what this run drops" || return 1
		# table u: nobody holds a lock on it, nobody is named
		lacks "$err" "using u" || return 1
	else
		json_eq "$s[\"certain\"]" false || return 1
		contains "$err" "may be using t" || return 1
	fi
}

t_ask_names_sessions() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite has no server sessions: another process holding its lock is named by the lock check (t1220)"
	staging_project || return 1
	df db migrate --env staging --dry-run; expect_rc 0 || return 1
	hold_table || return 1
	# the gate's ask: the person decides knowing who uses what it drops
	df db migrate --env staging --json; expect_rc 3 || return 1
	json_eq 'd["error"]["kind"]' gate_refused || return 1
	contains "$(json 'd["ask"]["question"]')" "session$([ "$ENGINE" = postgres ] && echo " is" || echo "s are") using what it drops" || return 1
	contains "$(json 'd["ask"]["why"]')" "pid $spid (" || return 1
	contains "$(json 'd["ask"]["why"]')" "using t, a column of which 20240102000000 drops" || return 1
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db migrate --env staging --accept-risk --yes" || return 1
	json_eq 'd["sessions_using"][0]["pid"]' "$spid" || return 1
	json_eq 'd["applied"]' '[]' || return 1
	# the text run asks the same (no terminal: refused with the question)
	df db migrate --env staging; expect_rc 3 || return 1
	contains "$out" "using what this run drops" || return 1
	contains "$out" "pid $spid (" || return 1
	contains "$out" "A person must decide" || return 1
	end_holder
	# nobody left: no session named, the question is the plain one
	df db migrate --env staging --json; expect_rc 3 || return 1
	json_eq '"sessions_using" in d' false || return 1
	json_eq 'd["ask"]["question"]' "Type 'yes' to apply 1 migration to staging, accepting 1 high-risk change" || return 1
	[ "$(q "SELECT count(*) FROM u")" = 0 ] || fail "u dropped without consent" || return 1
}

t_local_policy_asks_nothing() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite has no server sessions: another process holding its lock is named by the lock check (t1220)"
	new_project
	mig 20240101000000 a "CREATE TABLE t (x INTEGER, y INTEGER);" "DROP TABLE t;"
	df db migrate; expect_rc 0 || return 1
	mig 20240102000000 b "CREATE TABLE v (x INTEGER);" "DROP TABLE v;"
	hold_table || return 1
	# nothing dropped, local policy: no session is looked up or named
	df db migrate --json; expect_rc 0 || return 1
	json_eq '"sessions_using" in d' false || return 1
	lacks "$err" "session" || return 1
	end_holder
}

run_tests t_dry_run_names_sessions t_ask_names_sessions t_local_policy_asks_nothing
