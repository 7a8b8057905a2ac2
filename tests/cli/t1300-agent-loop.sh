#!/bin/bash
# An agent that drives devflow through --json alone, running `next[0]` and
# the `then` of the answer a person gave, over every policy, risk and state
# of the receipts: it reaches the goal (everything applied, a backup before
# production) or stops at a question, in at most 6 runs, and never loops.
# Answering "no" leaves nothing applied.  (tests/support/agent_loop.py checks
# every result on the way: one JSON document, error on ok:false, commands
# only in next and then.)
. "$(dirname "$0")/lib.sh"
AGENT=$(cd "$(dirname "$0")/../support" && pwd)/agent_loop.py
PTY_RUN=$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py

# loop_project POLICY RISK: staging and production both name this engine's
# database; RISK=high adds a migration that drops a column.
loop_project() {
	new_project
	export TARGET_URL=$URL
	# local finds the database through DATABASE_URL, the others through devflow.conf
	[ "$1" = local ] || unset DATABASE_URL
	cat >devflow.conf <<-'EOF'
	[env "staging"]
	url = ${TARGET_URL}
	[env "production"]
	url = ${TARGET_URL}
	EOF
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER, note VARCHAR(20));" "DROP TABLE t;"
	if [ "$2" = high ]; then
		mig 20240102000000 drop_note "ALTER TABLE t DROP COLUMN note;" "ALTER TABLE t ADD COLUMN note VARCHAR(20);"
	fi
}

env_args() { [ "$1" = local ] && echo "" || echo "--env $1"; }

# receipts POLICY DRYRUN BACKUP: none | stale | fresh
receipts() {
	local pol=$1 dry=$2 bak=$3 b
	case $dry in
	stale)
		"$DEVFLOW" db migrate $(env_args "$pol") --dry-run >/dev/null 2>&1 || fail "setup: dry-run failed"
		# the set changed since: the receipt is for another set
		mig 20240103000000 extra "CREATE TABLE extra (id INTEGER);" "DROP TABLE extra;" ;;
	fresh)
		"$DEVFLOW" db migrate $(env_args "$pol") --dry-run >/dev/null 2>&1 || fail "setup: dry-run failed" ;;
	esac
	case $bak in
	stale)
		# the audit row outlives its file: no backup any more
		b=$("$DEVFLOW" db backup $(env_args "$pol") --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])') ||
			fail "setup: backup failed"
		rm -f "$b" ;;
	fresh)
		"$DEVFLOW" db backup $(env_args "$pol") >/dev/null 2>&1 || fail "setup: backup failed" ;;
	esac
}

backups_ok() {
	q "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'ok'"
}

applied_rows() {
	q "SELECT count(*) FROM _migrations WHERE 1 = 1" 2>/dev/null || echo 0
}

# one POLICY RISK DRYRUN BACKUP ANSWER
one() {
	local pol=$1 risk=$2 dry=$3 bak=$4 answer=$5 res runs end want_files before
	loop_project "$pol" "$risk"
	if [ "$ENGINE" = sqlite ]; then
		# a database file to back up (the first migrate would create it)
		sqlite3 test.db "PRAGMA user_version = 1"
	fi
	receipts "$pol" "$dry" "$bak"
	before=$(backups_ok 2>/dev/null || echo 0)
	want_files=$(ls migrations | wc -l)
	res=$(python3 "$AGENT" "$DEVFLOW" "$answer" 6 db migrate $(env_args "$pol") --json 2>"$TMP_ROOT/agent.err") ||
		{ fail "$pol/$risk/dry=$dry/backup=$bak/$answer: $(cat "$TMP_ROOT/agent.err")"; return 0; }
	runs=$(echo "$res" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"])')
	end=$(echo "$res" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"])')
	loops=$((loops + 1)); total_runs=$((total_runs + runs))
	if [ "$pol" = local ] || [ "$answer" = yes ]; then
		[ "$end" = done ] || fail "$pol/$risk/dry=$dry/backup=$bak/$answer: ended '$end' after $runs runs: $res"
		[ "$(applied_rows)" = "$want_files" ] ||
			fail "$pol/$risk/dry=$dry/backup=$bak/$answer: $(applied_rows) of $want_files applied: $res"
		table_exists t || fail "$pol/$risk/dry=$dry/backup=$bak/$answer: table t missing after the agent's run"
		if [ "$pol" = production ] && [ "$bak" != fresh ] && [ "$(backups_ok)" -le "$before" ]; then
			fail "$pol/$risk/dry=$dry/backup=$bak/$answer: applied to production with no new backup"
		fi
	else
		[ "$end" = declined ] || fail "$pol/$risk/dry=$dry/backup=$bak/no: ended '$end': $res"
		[ "$(applied_rows)" = 0 ] || fail "$pol/$risk/dry=$dry/backup=$bak/no: something applied after 'no'"
		table_exists t && fail "$pol/$risk/dry=$dry/backup=$bak/no: table t exists after 'no'"
	fi
	cd "$TMP_ROOT"
	return 0
}

t_agent_follows_next_and_ask() {
	local pol risk dry bak answer
	loops=0 total_runs=0
	for risk in low high; do
		one local "$risk" none none yes
		for dry in none stale fresh; do
			for answer in yes no; do
				one staging "$risk" "$dry" none "$answer"
			done
			for bak in none stale fresh; do
				one production "$risk" "$dry" "$bak" yes
			done
			one production "$risk" "$dry" none no
		done
	done
	echo "    $ENGINE: $loops agent runs to the end, $total_runs devflow runs"
	[ "$loops" = 38 ] || fail "ran $loops scenarios, not 38"
}

# The same protocol from a subfolder and with --url: next keeps the target.
t_next_keeps_the_target() {
	new_project
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER);" "DROP TABLE t;"
	mkdir -p sub/deeper
	cd sub/deeper
	df db status --json; expect_rc 0
	json_eq 'd["pending"]' 1
	df db migrate --json; expect_rc 0
	json_eq 'len(d["applied"])' 1
	cd "$PROJECT"
	unset DATABASE_URL
	mig 20240102000000 more "CREATE TABLE more_t (id INTEGER);" "DROP TABLE more_t;"
	df db status --url "$URL" --json; expect_rc 0
	case "$(json 'd["next"][0]')" in
	*"--url"*) ;;
	*) fail "next dropped --url: $(json 'd["next"]')" ;;
	esac
	mig 20240103000000 later "CREATE TABLE later_t (id INTEGER);" "DROP TABLE later_t;"
	df db migrate --url "$URL" --to 20240102000000 --dry-run --json; expect_rc 0
	[ "$(json 'len(d["next"])')" -ge 1 ] || fail "no next after a dry-run on local"
	for n in $(json '" ".join(str(i) for i in range(len(d["next"])))'); do
		case "$(json "d[\"next\"][$n]")" in
		*"--url"*"--to 20240102000000"*|*"--to 20240102000000"*"--url"*) ;;
		db\ status*) ;;
		*) fail "next entry $n dropped --url or --to: $(json 'd["next"]')" ;;
		esac
	done
	# read-only commands create no database file (SQLite), from any folder
	if [ "$ENGINE" = sqlite ]; then
		rm -f devflow.db
		for c in "db status" "doctor" "db review" "db history"; do
			(cd sub && "$DEVFLOW" $c >/dev/null 2>&1) || true
		done
		[ ! -e devflow.db ] && [ ! -e sub/devflow.db ] || fail "a read-only command created devflow.db"
	fi
}

# --json never prompts, even on a terminal: a y typed there is never read.
t_json_never_prompts() {
	[ "$ENGINE" = sqlite ] || skip_engine "the terminal is the same on every engine (t_agent_follows_next_and_ask runs them all)"
	loop_project staging low
	"$DEVFLOW" db migrate --env staging --dry-run >/dev/null 2>&1 || fail "setup: dry-run"
	rc=0
	python3 "$PTY_RUN" y "$DEVFLOW" db migrate --env staging --json >"$TMP_ROOT/pty.out" 2>&1 || rc=$?
	out=$(cat "$TMP_ROOT/pty.out")
	expect_rc 3 "--json on a terminal"
	lacks "$out" "[y/N]"
	table_exists t && fail "--json on a terminal read a 'y' and applied"
	return 0
}

# A typo'd environment never reaches a database (issue 11, item 1).
t_typo_env_is_refused() {
	new_project
	export TARGET_URL=$URL
	cat >devflow.conf <<-'EOF'
	[env "staging"]
	url = ${TARGET_URL}
	[env "production"]
	url = ${TARGET_URL}
	EOF
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER);" "DROP TABLE t;"
	df db migrate --env stagng --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	contains "$(json 'd["error"]["hint"]')" "--env staging"
	table_exists t && fail "a typo'd environment applied the migration"
	# a database bound to production refuses a weaker policy, whatever the URL's source
	df db migrate --env production --dry-run; expect_rc 0
	df db migrate --env production --backup --confirm production; expect_rc 0
	mig 20240102000000 more "CREATE TABLE more_t (id INTEGER);" "DROP TABLE more_t;"
	DATABASE_URL=$URL df db migrate --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$(json 'd["error"]["message"]')" "bound to environment 'production'"
	table_exists more_t && fail "a local run reached a database bound to production"
	return 0
}

# An after_migrate hook's output goes to stderr: stdout stays one document.
t_hook_output_keeps_json() {
	new_project
	export TARGET_URL=$URL
	unset DATABASE_URL
	cat >devflow.conf <<-'EOF'
	[env "qa"]
	url = ${TARGET_URL}
	after_migrate = echo hook-says-hello; echo hook-err >&2
	EOF
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER);" "DROP TABLE t;"
	df db migrate --env qa --json; expect_rc 0
	json_eq 'd["ok"]' true
	contains "$err" "hook-says-hello"
	lacks "$out" "hook-says-hello"
	df db status --lock-timeout abc --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
}

# Times in JSON are ISO 8601 in UTC on every engine (SPEC), whatever the
# session's time zone.
t_times_are_iso_utc() {
	new_project
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER);" "DROP TABLE t;"
	PGTZ=Asia/Kolkata df db migrate; expect_rc 0
	local iso='^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$' now
	now=$(date -u +%s)
	PGTZ=Asia/Kolkata df db status --json; expect_rc 0
	json 'd["migrations"][0]["applied_at"]' | grep -Eq "$iso" || fail "applied_at is not ISO UTC: $(json 'd["migrations"][0]["applied_at"]')"
	local t=$(date -u -d "$(json 'd["migrations"][0]["applied_at"]')" +%s)
	[ $((now - t)) -lt 120 ] && [ $((t - now)) -lt 120 ] || fail "applied_at is $((t - now)) s off UTC now"
	PGTZ=Asia/Kolkata df db history --json; expect_rc 0
	for a in $(json '" ".join(e["at"] for e in d["entries"])'); do
		echo "$a" | grep -Eq "$iso" || fail "history time is not ISO UTC: $a"
	done
}

run_tests t_times_are_iso_utc t_json_never_prompts t_agent_follows_next_and_ask t_next_keeps_the_target t_typo_env_is_refused t_hook_output_keeps_json
