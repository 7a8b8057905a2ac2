#!/bin/bash
# SIGINT at every moment of a run (issue 23): before connecting, while the
# history is read, while another client holds the migration lock, and in the
# middle of a statement.  Every time: exit 130, error kind `interrupted`,
# nothing of the pending migration kept, the lock free afterwards, and an
# audit row that says interrupted wherever devflow's tables exist already
# (before connecting devflow never reaches the database, so it writes none).
#
# The moments are hit by real blocking, no test hook:
#  - before connecting: devflow.conf is a FIFO nobody writes to, so reading
#    the configuration blocks (the run exists, no connection is made);
#  - the history read: another client holds the tracking table (PostgreSQL
#    LOCK TABLE ... ACCESS EXCLUSIVE, MariaDB LOCK TABLES ... WRITE); on
#    SQLite, whose writers lock the whole file (no audit row could be
#    written then), _migrations is made a view that computes for seconds;
#  - the lock: another client takes devflow's lock (pg_advisory_lock of
#    devflow's key, GET_LOCK of its name, flock(1) of the SQLite file);
#  - mid-statement: pg_sleep / SLEEP / a long recursive CTE.
. "$(dirname "$0")/lib.sh"

# wait_until CMD...: poll CMD (up to 10 s); the moment to signal has come
wait_until() {
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.1
	done
	echo "    # (waited 10 s for: $*)" >&2
	return 0
}

# the common contract of an interrupted run
interrupted_ok() {
	expect_rc 130 || return 1
	[ "$took" -lt 3000 ] || fail "exit took $took ms after SIGINT" || return 1
	json_eq 'd["error"]["kind"]' interrupted || return 1
	contains "$(json 'd["error"]["message"]')" "interrupted by SIGINT" || return 1
}

# audit_interrupted N: N audit rows of migrate say interrupted
audit_interrupted() {
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'migrate' AND result = 'interrupted'")" = "$1" ] ||
		fail "want $1 interrupted audit row(s): $(q "SELECT op, result, summary FROM _migrations_audit")"
}

# nothing of b: its table absent, its row absent; a stays applied
nothing_kept() {
	table_exists b && { fail "the interrupted migration kept table b"; return 1; }
	[ "$(q "SELECT count(*) FROM _migrations WHERE version = '20240102000000'")" = 0 ] ||
		fail "a row of the interrupted migration was recorded" || return 1
	[ "$(q "SELECT count(*) FROM _migrations")" = 1 ] || fail "the history changed" || return 1
}

# lock_free: another run takes the lock at once and applies b
lock_free() {
	df db migrate --lock-timeout 0 --json; expect_rc 0 || return 1
	table_exists b || fail "b was not applied after the interrupt" || return 1
}

# one applied migration (the tracking tables exist), one pending
applied_and_pending() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate --json; expect_rc 0 || return 1
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
}

t_before_connect() {
	applied_and_pending || return 1
	local before=$(q "SELECT count(*) FROM _migrations_audit")
	mv devflow.conf devflow.conf.real 2>/dev/null || true
	mkfifo devflow.conf
	bg_start db migrate --json
	wait_until grep -q partner "/proc/$bgpid/wchan"
	sleep 0.3
	bg_signal INT
	rm -f devflow.conf
	[ ! -e devflow.conf.real ] || mv devflow.conf.real devflow.conf
	interrupted_ok || return 1
	contains "$(json 'd["error"]["message"]')" "nothing ran" || return 1
	nothing_kept || return 1
	# no connection was made: no row (the database was never reached)
	[ "$(q "SELECT count(*) FROM _migrations_audit")" = "$before" ] || fail "a row was written" || return 1
	lock_free || return 1
}

# the other client that holds the tracking table, for SECONDS
hold_table() {
	case $ENGINE in
	postgres) { echo "BEGIN; LOCK TABLE _migrations IN ACCESS EXCLUSIVE MODE; SELECT 'held';"; sleep "$1"; echo "COMMIT;"; } |
		psql -qAtX "$URL" >/dev/null 2>&1 & ;;
	mysql) local hp=$(url_hostport "$URL")
		{ echo "LOCK TABLES _migrations WRITE; SELECT 'held';"; sleep "$1"; echo "UNLOCK TABLES;"; } |
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot -N -B "$DBNAME" >/dev/null 2>&1 & ;;
	esac
	holder=$!
}

# devflow waits for the tracking table
waits_for_table() {
	case $ENGINE in
	postgres) [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM _migrations %'")" -ge 1 ] ;;
	mysql) [ "$(q "SELECT count(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE '%metadata lock%'")" -ge 1 ] ;;
	*) sleep 1 ;;
	esac
}

t_during_history_read() {
	applied_and_pending || return 1
	if [ "$ENGINE" = sqlite ]; then
		# the history read takes seconds: _migrations is a slow view
		q "ALTER TABLE _migrations RENAME TO _migrations_real;
CREATE VIEW _migrations AS SELECT r.* FROM _migrations_real r,
 (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 400000000) SELECT count(*) AS n FROM c) s
 WHERE s.n > 0;"
		bg_start db migrate --json
		sleep 1
		bg_signal INT
		q "DROP VIEW _migrations; ALTER TABLE _migrations_real RENAME TO _migrations;"
	else
		hold_table 8
		sleep 0.5
		bg_start db migrate --json
		wait_until waits_for_table
		bg_signal INT
		kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
		# the holder's session ends with its client
		sleep 0.5
	fi
	interrupted_ok || return 1
	contains "$(json 'd["error"]["message"]')" "while reading the history" || return 1
	nothing_kept || return 1
	audit_interrupted 1 || return 1
	contains "$(q "SELECT summary FROM _migrations_audit WHERE result = 'interrupted'")" "reading the history" || return 1
	lock_free || return 1
}

# the other client that holds devflow's lock, for SECONDS
hold_lock() {
	case $ENGINE in
	postgres)
		local key=$(python3 -c "import hashlib,struct; print(struct.unpack('>q', hashlib.sha256(b'_migrations').digest()[:8])[0])")
		{ echo "SELECT pg_advisory_lock($key);"; sleep "$1"; } | psql -qAtX "$URL" >/dev/null 2>&1 & ;;
	mysql) local hp=$(url_hostport "$URL")
		{ echo "SELECT GET_LOCK('$DBNAME/_migrations', 10);"; sleep "$1"; } |
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot -N -B "$DBNAME" >/dev/null 2>&1 & ;;
	# -o: the lock is flock's own, not sleep's: it ends with flock
	sqlite) flock -o "$PROJECT/test.db" sleep "$1" & ;;
	esac
	holder=$!
}

waits_for_lock() {
	case $ENGINE in
	postgres) [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_advisory_lock(\$1%' AND state = 'active' AND pid <> pg_backend_pid()")" -ge 1 ] ;;
	mysql) [ "$(q "SELECT count(*) FROM information_schema.PROCESSLIST WHERE STATE = 'User lock'")" -ge 1 ] ;;
	*) sleep 1 ;;
	esac
}

t_waiting_for_lock() {
	applied_and_pending || return 1
	hold_lock 8
	sleep 0.5
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["lock"]["held"]' true || { kill "$holder" || true; return 1; }
	bg_start db migrate --json --lock-timeout 60
	wait_until waits_for_lock
	bg_signal INT
	kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
	sleep 0.5
	interrupted_ok || return 1
	contains "$(json 'd["error"]["message"]')" "while waiting for the migration lock" || return 1
	nothing_kept || return 1
	audit_interrupted 1 || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["lock"]["held"]' false || return 1
	lock_free || return 1
}

statement_runs() {
	case $ENGINE in
	sqlite) sleep 1 ;;
	*) [ "$(sleeper_sessions)" -ge 1 ] ;;
	esac
}

t_mid_statement() {
	applied_and_pending || return 1
	mig 20240102000000 b "$(sleeper)
CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	bg_start db migrate --json
	wait_until statement_runs
	bg_signal INT
	interrupted_ok || return 1
	contains "$(json 'd["error"]["message"]')" "while running" || return 1
	if [ "$ENGINE" = mysql ]; then
		# MariaDB runs DDL outside transactions: b's row says failed, with
		# none of its statements done (nothing of it is in the schema)
		table_exists b && { fail "the interrupted migration kept table b"; return 1; }
		[ "$(q "SELECT state, statements_done FROM _migrations WHERE version = '20240102000000'")" = "failed	0" ] ||
			fail "b not recorded failed with 0 statements: $(q "SELECT * FROM _migrations")" || return 1
		df db resolve 20240102000000 --rolled-back; expect_rc 0 || return 1
	fi
	nothing_kept || return 1
	audit_interrupted 1 || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["lock"]["held"]' false || return 1
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	lock_free || return 1
}

run_tests t_before_connect t_during_history_read t_waiting_for_lock t_mid_statement
