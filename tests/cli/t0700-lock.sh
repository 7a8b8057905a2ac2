#!/bin/bash
# One run at a time: concurrent migrates apply each migration exactly once;
# a second run waits up to --lock-timeout, then exits 5.
. "$(dirname "$0")/lib.sh"

t_concurrent_migrates() {
	new_project
	for i in $(seq -w 1 40); do
		mig 202401010000$i m$i "CREATE TABLE t$i (id INTEGER);
INSERT INTO t$i (id) VALUES ($i);" "DROP TABLE t$i;"
	done
	pids=""
	for k in 1 2 3 4 5 6 7 8; do
		"$DEVFLOW" db migrate --json --lock-timeout 120 >"$TMP_ROOT/run$k.out" 2>"$TMP_ROOT/run$k.err" &
		pids="$pids $!"
	done
	for p in $pids; do
		r=0; wait "$p" || r=$?
		[ "$r" = 0 ] || [ "$r" = 5 ] || fail "a concurrent run exited $r: $(cat "$TMP_ROOT"/run*.err | head -c 800)"
	done
	[ "$(q "SELECT count(*) FROM _migrations")" = 40 ] || fail "expected 40 rows"
	[ "$(q "SELECT count(DISTINCT filename) FROM _migrations")" = 40 ] || fail "a migration was applied twice"
	total=0
	for k in 1 2 3 4 5 6 7 8; do
		n=$(python3 -c "import json,sys; d=json.load(open('$TMP_ROOT/run$k.out')); print(len(d.get('applied', [])))")
		total=$((total + n))
	done
	[ "$total" = 40 ] || fail "runs reported $total applied migrations, want 40"
}

t_lock_timeout() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status; expect_rc 0
	# Hold the lock from a migration that sleeps.
	case $ENGINE in
	sqlite) sleeper="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 30000000) SELECT count(*) FROM c;" ;;
	postgres) sleeper="SELECT pg_sleep(4);" ;;
	mysql) sleeper="SELECT SLEEP(4);" ;;
	esac
	mig 20240100000000 slow "$sleeper" ""
	"$DEVFLOW" db migrate >/dev/null 2>&1 &
	holder=$!
	sleep 0.5
	df db status --json; expect_rc 0
	json_eq 'd["lock"]["held"]' true
	df db migrate --lock-timeout 1 --json; expect_rc 5
	json_eq 'd["error"]["kind"]' lock_timeout
	wait $holder || true
	df db status --json; json_eq 'd["lock"]["held"]' false
}

run_tests t_concurrent_migrates t_lock_timeout
