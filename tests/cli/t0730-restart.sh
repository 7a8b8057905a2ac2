#!/bin/bash
# A server restarted in the middle of a run: exit 1 or 4, a consistent
# history, and the next run completes.  Each engine gets its own throwaway
# server here, so the shared ones are not disturbed.
. "$(dirname "$0")/lib.sh"
SERVERS=$(cd "$(dirname "$0")/../support" && pwd)/servers.sh

t_restart_mid_run() {
	[ "$ENGINE" != sqlite ] || skip_engine "no server to restart"
	local which srv sleeper pid r i state exists applied=0
	[ "$ENGINE" = postgres ] && which=pg || which=mysql
	# not under $TMP_ROOT (mode 0700): the servers run as postgres/mysql
	srv=$(mktemp -u "${TMPDIR:-/tmp}/devflow-srv.XXXXXX")
	# the test runs in its own subshell: the trap, and the private server's
	# URL sourced below, end with it
	trap "\"\$SERVERS\" stop '$srv' >/dev/null 2>&1" EXIT
	"$SERVERS" start "$srv" --only $which >/dev/null 2>&1 || { fail "could not start a $which server"; return 1; }
	. "$srv/env"
	if [ $which = pg ]; then
		sleeper="SELECT pg_sleep(0.05);"
	else
		sleeper="SELECT SLEEP(0.05);"
	fi
	new_project
	for i in $(seq -w 1 40); do
		mig 202401010000$i r$i "CREATE TABLE r$i (id INTEGER);
$sleeper
INSERT INTO r$i (id) VALUES ($i);" "DROP TABLE r$i;"
	done
	"$DEVFLOW" db migrate --json >"$TMP_ROOT/restart.out" 2>"$TMP_ROOT/restart.err" &
	pid=$!
	sleep 0.7
	# the restart must land in the middle of the run
	kill -0 $pid 2>/dev/null || { fail "the run was over before the restart"; return 1; }
	"$SERVERS" restart "$srv" --only $which >/dev/null 2>&1 || { fail "restart failed"; return 1; }
	r=0; wait $pid || r=$?
	[ $r = 1 ] || [ $r = 4 ] || fail "a run cut by a restart exited $r: $(cat "$TMP_ROOT/restart.err")"
	out=$(cat "$TMP_ROOT/restart.out")
	json 'd["error"]["kind"]' >/dev/null || fail "no JSON error"
	# consistent: recorded <=> table exists; MariaDB may show one failed
	for i in $(seq -w 1 40); do
		state=$(q "SELECT COALESCE(state, 'applied') FROM _migrations WHERE filename = '202401010000${i}_r${i}.sql'")
		exists=0; table_exists r$i && exists=1
		case "$state" in
		applied) applied=$((applied + 1)); [ $exists = 1 ] || fail "r$i recorded, table missing" ;;
		"") [ $exists = 0 ] || fail "r$i not recorded, table exists" ;;
		running|failed)
			[ $which = mysql ] || fail "r$i is $state on PostgreSQL"
			q "DROP TABLE IF EXISTS r$i"
			df db resolve 202401010000$i --rolled-back; expect_rc 0 ;;
		*) fail "r$i has state '$state'" ;;
		esac
	done
	[ $applied -lt 40 ] || fail "all 40 applied: the restart did not cut the run"
	echo "    the restart cut the run after $applied of 40 migrations ($ENGINE)"
	df db migrate --json; expect_rc 0
	df db status --json; json_eq 'd["applied"]' 40
}

t_sqlite_disk_full() {
	[ "$ENGINE" = sqlite ] || skip_engine "a SQLite file on a full disk"
	new_project
	mnt=$(mktemp -d "$TMP_ROOT/full.XXXXXX")
	if ! mount -t tmpfs -o size=512k tmpfs "$mnt" 2>/dev/null; then
		fail "cannot mount a small tmpfs here (need root): the disk-full test cannot run"
		return 1
	fi
	trap "umount '$mnt'" EXIT
	export DATABASE_URL="sqlite:$mnt/full.db"
	mig 20240101000000 small "CREATE TABLE small (id INTEGER);" "DROP TABLE small;"
	mig 20240102000000 big "CREATE TABLE big (payload TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000)
INSERT INTO big SELECT printf('%.900c', 'x') FROM c;" "DROP TABLE big;"
	df db migrate --json; expect_rc 1
	contains "$err" "full"
	json_eq 'len(d["applied"])' 1
	[ "$(sqlite3 "$mnt/full.db" "SELECT count(*) FROM _migrations")" = 1 ] || fail "history"
	[ "$(sqlite3 "$mnt/full.db" "SELECT count(*) FROM sqlite_master WHERE name = 'small'")" = 1 ] || fail "the migration before the full disk is gone"
	[ "$(sqlite3 "$mnt/full.db" "SELECT count(*) FROM sqlite_master WHERE name = 'big'")" = 0 ] || fail "half-applied"
	sqlite3 "$mnt/full.db" "PRAGMA integrity_check" | grep -qx ok || fail "database damaged"
}

run_tests t_restart_mid_run t_sqlite_disk_full
