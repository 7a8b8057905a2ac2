#!/bin/bash
# kill -9 at random moments during a 60-migration run, many times over
# (and at least a quarter of the kills must land mid-run: some migrations
# of the run applied, not all):
# afterwards every recorded migration's effects exist and no unrecorded
# migration's do (SQLite, PostgreSQL); on MariaDB, whose DDL commits
# implicitly, the half-applied one is shown as failed.  The next migrate
# (after `db resolve` on MariaDB) finishes the work.
. "$(dirname "$0")/lib.sh"

ROUNDS=${DEVFLOW_KILL_ROUNDS:-16}
halfway=0

# all tables named k%, and all tracking rows, in one query each
tables() {
	case $ENGINE in
	sqlite) q "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'k%'" ;;
	postgres) q "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'k%'" ;;
	mysql) q "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'k%'" ;;
	esac
}

consistent() {
	local i state exists t rows
	t=" $(tables | tr '\n' ' ') "
	rows=$(q "SELECT filename, COALESCE(state, 'applied') FROM _migrations" 2>/dev/null | tr '\t|' '  ')
	for i in $(seq -w 1 60); do
		state=$(printf '%s\n' "$rows" | awk -v f="202401010000${i}_m${i}.sql" '$1 == f { print $2 }')
		case "$t" in *" k$i "*) exists=1 ;; *) exists=0 ;; esac
		case "$state" in
		applied) [ $exists = 1 ] || fail "m$i recorded but table k$i missing" ;;
		"") [ $exists = 0 ] || fail "m$i not recorded but table k$i exists" ;;
		running|failed)
			[ "$ENGINE" = mysql ] || fail "m$i is '$state' on a transactional engine"
			halfway=$((halfway + 1))
			df db status --json
			json_eq "[m['state'] for m in d['migrations'] if m['version'] == '202401010000$i'][0]" failed
			# killed mid-run: how many statements ran is not known, and not guessed
			if [ "$state" = running ]; then
				json_eq "[m['statements_done'] for m in d['migrations'] if m['version'] == '202401010000$i'][0]" null
				df db status; contains "$out" "interrupted (killed, or the connection was lost)"
			fi
			q "DROP TABLE IF EXISTS k$i"
			df db resolve "202401010000$i" --rolled-back; expect_rc 0 ;;
		*) fail "m$i has state '$state'" ;;
		esac
	done
}

t_kill_9_many_times() {
	new_project
	for i in $(seq -w 1 60); do
		mig 202401010000$i m$i "CREATE TABLE k$i (id INTEGER);
INSERT INTO k$i (id) VALUES ($i);
INSERT INTO k$i (id) VALUES ($i + 1);" "DROP TABLE k$i;"
	done
	# how long a whole run takes here (start-up, applying, exit)
	local t0 t1 lo hi ms
	t0=$(date +%s%N); df db migrate; expect_rc 0; t1=$(date +%s%N)
	lo=0 hi=$(( (t1 - t0) / 1000000 ))
	df db rollback --steps 60; expect_rc 0
	local round killed=0 midrun=0 after half0
	for round in $(seq 1 "$ROUNDS"); do
		half0=$halfway
		# a random moment in [lo, hi] ms; the window narrows to where a
		# run applies: a kill before the first commit raises lo, one after
		# the last lowers hi (start-up and exit, a sanitizer's leak check
		# included, take a large and varying part of a run)
		ms=$(awk -v lo=$lo -v hi=$hi -v r="$RANDOM" 'BEGIN { printf "%d", lo + (hi - lo) * r / 32768.0 }')
		"$DEVFLOW" db migrate >/dev/null 2>&1 &
		pid=$!
		sleep "$(awk -v ms=$ms 'BEGIN { printf "%.3f", ms / 1000 }')"
		if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
		wait "$pid" 2>/dev/null || true
		after=$(q "SELECT count(*) FROM _migrations WHERE COALESCE(state, 'applied') = 'applied'")
		consistent
		# mid-run: the run had applied some of its migrations, not all
		if [ "$after" -gt 0 ] && [ "$after" -lt 60 ] || [ $halfway -gt $half0 ]; then
			midrun=$((midrun + 1))
		elif [ "$after" = 0 ]; then
			lo=$ms
		else
			hi=$ms
		fi
		[ $((hi - lo)) -ge 10 ] || { lo=$((lo > 5 ? lo - 5 : 0)); hi=$((hi + 5)); }
		df db status --json; expect_rc 0
		json_eq 'd["lock"]["held"]' false
		# back to nothing applied: every round is the same 60-migration run
		if [ "$(json 'd["applied"]')" -gt 0 ]; then
			df db rollback --steps 60; expect_rc 0
		fi
	done
	df db migrate --json; expect_rc 0
	df db status --json; json_eq 'd["applied"]' 60; json_eq 'd["pending"]' 0
	consistent
	echo "    killed $killed of $ROUNDS runs, $midrun of them mid-run ($ENGINE), $halfway left halfway"
	[ $((midrun * 4)) -ge "$ROUNDS" ] || fail "only $midrun of $ROUNDS kills landed mid-run (want a quarter)"
}

run_tests t_kill_9_many_times
