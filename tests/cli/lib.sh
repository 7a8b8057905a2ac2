# Shared helpers for the CLI tests (git's t/test-lib.sh, much smaller).
# Each test script sources this, defines test functions, and calls
# `run_tests NAME...`; every test runs once per engine:
#   sqlite always; postgres and mysql when DEVFLOW_TEST_PG_URL /
#   DEVFLOW_TEST_MYSQL_URL are set (required when DEVFLOW_REQUIRE_SERVERS=1).
#
# A failed check always fails the test.  Every check (fail, expect_rc,
# contains, lacks, json_eq) writes the failure to $FAILURES before it
# returns 1, and run_tests reports a test "not ok" when the function
# returned non-zero OR wrote anything there.  So a check is never lost,
# not even left of `||`, inside `if`, or in a ( ... ) || { ... } block,
# where bash turns `set -e` off.
#
# A test that does not apply to the engine says so with
# `skip_engine REASON`; it is reported as TAP "ok - ENGINE NAME # SKIP
# REASON" and counted as skipped, never as passed.  A server engine whose
# URL is not set is skipped the same way (a failure under
# DEVFLOW_REQUIRE_SERVERS=1), and the script then exits 77 (CTest's
# SKIP_RETURN_CODE: "not run", never "passed").
#
# Scripts end with the plain line "N passed, N failed, N skipped".
set -u

DEVFLOW=${DEVFLOW:-$(cd "$(dirname "$0")/../.." && pwd)/build/devflow}
export NO_COLOR=1
unset DATABASE_URL DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD DB_ENGINE \
	SQLALCHEMY_DATABASE_URI POSTGRES_URL POSTGRES_PRISMA_URL TURSO_DATABASE_URL 2>/dev/null || true

passed=0
failed=0
skipped=0
server_skipped=0
TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/devflow-cli.XXXXXX")
trap 'cleanup_dbs; rm -rf "$TMP_ROOT"' EXIT
# the failures of the running test, one a line (see above)
FAILURES=$TMP_ROOT/failures
# databases made by new_project and friends, "pg:NAME" or "my:NAME" a line:
# a file, as tests run in subshells whose variables the parent never sees
CREATED_DBS_FILE=$TMP_ROOT/created-dbs
SKIP_STATUS=77

# The PostgreSQL server binaries of the test servers (servers.sh's choice).
PGBIN=
for v in 15 16 17 14 13; do
	if [ -x "/usr/lib/postgresql/$v/bin/pg_dump" ]; then PGBIN=/usr/lib/postgresql/$v/bin; break; fi
done

# dfe VAR=VALUE... PROGRAM ARGS: like df, through env(1) (PATH may be changed).
dfe() {
	rc=0
	env "$@" >"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	out=$(cat "$TMP_ROOT/out")
	err=$(cat "$TMP_ROOT/err")
	return 0
}

# other_db: an empty second database; sets URL2 and DB2.
other_db() {
	DB2="${DBNAME}_b"
	case $ENGINE in
	sqlite) DB2=other.db; URL2="sqlite:./other.db" ;;
	*) server_db "$DB2"; URL2=$DB_URL ;;
	esac
}

# server_db NAME: a new database NAME on $ENGINE's test server (dropped when
# the script ends); sets DB_URL, the server's URL naming it.
server_db() {
	case $ENGINE in
	postgres)
		psql -q "$DEVFLOW_TEST_PG_URL" -c "CREATE DATABASE $1" >/dev/null
		created_db "pg:$1"
		DB_URL=$(echo "$DEVFLOW_TEST_PG_URL" | sed -E "s#/[^/?]*(\?|$)#/$1\1#") ;;
	mysql)
		my_admin -e "CREATE DATABASE $1"
		created_db "my:$1"
		DB_URL=$(echo "$DEVFLOW_TEST_MYSQL_URL" | sed -E "s#/[^/?]*(\?|$)#/$1\1#") ;;
	esac
}

fail() {
	echo "    FAIL: $*" >&2
	{ printf '%s' "$*" | tr '\n' ' ' | head -c 2000; echo; } >>"$FAILURES"
	return 1
}

# skip_engine REASON: the test does not apply to $ENGINE (exits the test)
skip_engine() {
	printf '%s\n' "$*" >"$TMP_ROOT/skip-reason"
	exit $SKIP_STATUS
}

# probe COMMAND...: run a check that is meant to fail, in a subshell with
# failures recorded apart; exit 0 when it failed (returned non-zero or
# recorded a failure), 1 when it passed.  For tests of the checks themselves.
probe() {
	local f="$TMP_ROOT/probe.$BASHPID" r=0
	: >"$f"
	( FAILURES=$f; set -e; "$@" ) >/dev/null 2>&1 || r=$?
	if [ "$r" != 0 ] || [ -s "$f" ]; then rm -f "$f"; return 0; fi
	rm -f "$f"
	return 1
}

# created_db KIND:NAME: drop it when the script ends
created_db() {
	echo "$1" >>"$CREATED_DBS_FILE"
}

# df ARGS...: run devflow in the project; sets $out, $err, $rc.
df() {
	rc=0
	"$DEVFLOW" "$@" >"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	out=$(cat "$TMP_ROOT/out")
	err=$(cat "$TMP_ROOT/err")
	return 0
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "expected exit $1, got $rc (${2:-}): stdout: $(echo "$out" | head -c 600) stderr: $(echo "$err" | head -c 600)"
}

contains() {     # contains HAYSTACK NEEDLE
	case "$1" in *"$2"*) return 0 ;; esac
	fail "expected to find '$2' in: $(echo "$1" | head -c 800)"
}

lacks() {
	case "$1" in *"$2"*) fail "did not expect '$2' in: $(echo "$1" | head -c 800)" ;; esac
	return 0
}

# jq-free JSON checks through python3's json module.
json() {         # json EXPR  -> prints the value of EXPR evaluated on $out as `d`
	printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); v=($1); print(json.dumps(v) if not isinstance(v,str) else v)"
}

json_eq() {      # json_eq EXPR EXPECTED
	local got
	got=$(json "$1") || { fail "stdout is not one JSON document: $(echo "$out" | head -c 400)"; return 1; }
	[ "$got" = "$2" ] || fail "JSON $1: expected '$2', got '$got'"
}

# ---- engines --------------------------------------------------------------

# host:port of a server URL
url_hostport() { echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#'; }

cleanup_dbs() {
	[ -f "$CREATED_DBS_FILE" ] || return 0
	local d
	for d in $(sort -u "$CREATED_DBS_FILE"); do
		case $d in
		pg:*) psql -q "$DEVFLOW_TEST_PG_URL" -c "DROP DATABASE IF EXISTS ${d#pg:} WITH (FORCE)" >/dev/null 2>&1 ;;
		my:*) my_admin -e "DROP DATABASE IF EXISTS ${d#my:}" >/dev/null 2>&1 ;;
		esac
	done
}

my_admin() {
	local hp=$(url_hostport "$DEVFLOW_TEST_MYSQL_URL")
	mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$@"
}

# new_project: a fresh project folder and database for the current engine;
# sets PROJECT and URL, exports DATABASE_URL, and cds into it.
new_project() {
	PROJECT=$(mktemp -d "$TMP_ROOT/p.XXXXXX")
	mkdir -p "$PROJECT/migrations"
	cd "$PROJECT"
	local name="dft_$(basename "$PROJECT" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')_$$"
	case $ENGINE in
	sqlite) URL="sqlite:./test.db" ;;
	*) server_db "$name"; URL=$DB_URL ;;
	esac
	DBNAME=$name
	export DATABASE_URL=$URL
}

# q SQL: run a query on the current project's database; prints rows.
# The throwaway databases (devflow_verify_<pid>_...; with TAG, only names
# holding it) on the test server whose devflow is gone and which are still
# there a moment later: left behind.  Tests running at the same time make
# and drop their own: their devflow is alive, or the database goes as it
# exits.
throwaway_leftovers() {
	local names d pid left=""
	case $ENGINE in
	postgres) names=$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT datname FROM pg_database WHERE datname LIKE 'devflow\_verify\_%${1:-}%'") ;;
	mysql) names=$(my_admin -N -B -e "SHOW DATABASES LIKE 'devflow\\_verify\\_%${1:-}%'") ;;
	*) return 0 ;;
	esac
	for d in $names; do
		pid=${d#devflow_verify_}
		pid=${pid%%_*}
		kill -0 "$pid" 2>/dev/null || left="$left $d"
	done
	[ -n "$left" ] || return 0
	sleep 2
	for d in $left; do
		case $ENGINE in
		postgres) names=$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT datname FROM pg_database WHERE datname = '$d'") ;;
		mysql) names=$(my_admin -N -B -e "SHOW DATABASES LIKE '$d'") ;;
		esac
		[ -z "$names" ] || echo "$d"
	done
	return 0
}

q() {
	case $ENGINE in
	sqlite) sqlite3 -batch -noheader "$PROJECT/test.db" "$1" ;;
	postgres) psql -qAtX "$URL" -c "$1" ;;
	mysql)
		local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot -N -B "$DBNAME" -e "$1" ;;
	esac
}

# table_exists NAME -> exit 0/1
table_exists() {
	case $ENGINE in
	sqlite) [ "$(q "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='$1'")" = 1 ] ;;
	postgres) [ "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema=current_schema() AND table_name='$1'")" = 1 ] ;;
	mysql) [ "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema=DATABASE() AND table_name='$1'")" = 1 ] ;;
	esac
}

# mig VERSION NAME UP [DOWN]: write migrations/VERSION_NAME.sql
mig() {
	{
		echo "-- UP"
		printf '%s\n' "$3"
		if [ $# -ge 4 ]; then
			echo "-- DOWN"
			printf '%s\n' "$4"
		fi
	} >"migrations/$1_$2.sql"
}

# ---- runs in the background, signals ------------------------------------------

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# sleeper: a statement that runs for 10 s or more on this engine
sleeper() {
	case $ENGINE in
	sqlite) echo "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 400000000) SELECT count(*) FROM c;" ;;
	postgres) echo "SELECT pg_sleep(10);" ;;
	mysql) echo "SELECT SLEEP(10);" ;;
	esac
}

# sleeper_sessions: how many other sessions run the sleeper on the server
# (0 on SQLite, which has none)
sleeper_sessions() {
	case $ENGINE in
	postgres) q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()" ;;
	mysql) q "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(10)%' AND ID <> CONNECTION_ID()" ;;
	*) echo 0 ;;
	esac
}

# bg_start ARGS...: devflow ARGS in the background, job control on (SIGINT
# keeps its default disposition there); sets bgpid
bg_start() {
	set -m
	"$DEVFLOW" "$@" >"$TMP_ROOT/bg.out" 2>"$TMP_ROOT/bg.err" &
	bgpid=$!
	set +m
}

# bg_signal SIG: SIG to the background devflow, then wait for it; sets rc,
# out, err and took (ms from the signal to the exit)
bg_signal() {
	local t0=$(now_ms)
	kill -"$1" "$bgpid"
	rc=0
	wait "$bgpid" || rc=$?
	took=$(( $(now_ms) - t0 ))
	out=$(cat "$TMP_ROOT/bg.out")
	err=$(cat "$TMP_ROOT/bg.err")
	echo "    # $ENGINE: exit $rc ${took} ms after SIG$1" >&2
}

# run_and_signal SIG ARGS...: devflow ARGS in the background, SIG 2 s later
# (once a slow statement runs); sets rc, out, err and took
run_and_signal() {
	local sig=$1
	shift
	bg_start "$@"
	sleep 2
	bg_signal "$sig"
}

# report STATUS ENGINE TEST [REASON]: one TAP line, and the tally
report() {
	case $1 in
	ok) echo "ok - $2 $3"; passed=$((passed + 1)) ;;
	skip) echo "ok - $2 $3 # SKIP $4"; skipped=$((skipped + 1)) ;;
	fail) echo "not ok - $2 $3${4:+ ($4)}"; failed=$((failed + 1)) ;;
	esac
}

# run_one ENGINE TEST: the test in a subshell with `set -eu`; "not ok" when
# it returned non-zero or recorded any failure, skipped when it called
# skip_engine (and recorded nothing).
run_one() {
	local e=$1 t=$2 r n
	: >"$FAILURES"
	rm -f "$TMP_ROOT/skip-reason"
	ENGINE=$e
	# not `|| r=$?`: left of || bash would turn set -e off in the test
	( set -eu; "$t" )
	r=$?
	cd "$TMP_ROOT"
	n=$(grep -c . "$FAILURES" 2>/dev/null || true)
	if [ "${n:-0}" -gt 0 ]; then
		report fail "$e" "$t" "$n failed check(s)$([ $r = 0 ] && echo ', returned 0')"
	elif [ $r = $SKIP_STATUS ] && [ -f "$TMP_ROOT/skip-reason" ]; then
		report skip "$e" "$t" "$(head -1 "$TMP_ROOT/skip-reason")"
	elif [ $r = 0 ]; then
		report ok "$e" "$t"
	else
		report fail "$e" "$t" "exit $r"
	fi
}

run_tests() {
	local t e
	for e in sqlite postgres mysql; do
		local var=
		case $e in
		postgres) var=DEVFLOW_TEST_PG_URL ;;
		mysql) var=DEVFLOW_TEST_MYSQL_URL ;;
		esac
		if [ -n "$var" ] && [ -z "$(eval "echo \${$var:-}")" ]; then
			if [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then
				echo "not ok - $e server URL not set ($var) but DEVFLOW_REQUIRE_SERVERS=1"
				failed=$((failed + 1))
			else
				for t in "$@"; do
					report skip "$e" "$t" "no $e server ($var not set)"
					server_skipped=$((server_skipped + 1))
				done
			fi
			continue
		fi
		for t in "$@"; do
			# a selection (tests/mutations/run.sh; by hand while working):
			# DEVFLOW_TEST_ONLY="t_a t_b", DEVFLOW_TEST_ENGINES="sqlite postgres"
			if [ -n "${DEVFLOW_TEST_ONLY:-}" ]; then
				case " $DEVFLOW_TEST_ONLY " in
				*" $t "*) ;;
				*) report skip "$e" "$t" "not in DEVFLOW_TEST_ONLY"; continue ;;
				esac
			fi
			if [ -n "${DEVFLOW_TEST_ENGINES:-}" ]; then
				case " $DEVFLOW_TEST_ENGINES " in
				*" $e "*) ;;
				*) report skip "$e" "$t" "not in DEVFLOW_TEST_ENGINES"; continue ;;
				esac
			fi
			if [ -n "${ONLY_SQLITE_TESTS:-}" ] && [ "$e" != sqlite ]; then
				case " $ONLY_SQLITE_TESTS " in
				*" $t "*) report skip "$e" "$t" "engine-independent, run on sqlite only"; continue ;;
				esac
			fi
			run_one "$e" "$t"
		done
	done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ] || return 1
	if [ "$server_skipped" != 0 ]; then
		echo "# $server_skipped test(s) not run for lack of a server: reported to CTest as skipped"
		return $SKIP_STATUS
	fi
	return 0
}
