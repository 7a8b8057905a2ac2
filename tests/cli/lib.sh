# Shared helpers for the CLI tests (git's t/test-lib.sh, much smaller).
# Each test script sources this, defines test functions, and calls
# `run_tests NAME...`; every test runs once per engine:
#   sqlite always; postgres and mysql when DEVFLOW_TEST_PG_URL /
#   DEVFLOW_TEST_MYSQL_URL are set (required when DEVFLOW_REQUIRE_SERVERS=1).
# Scripts end with the plain line "N passed, N failed".
set -u

DEVFLOW=${DEVFLOW:-$(cd "$(dirname "$0")/../.." && pwd)/build/devflow}
export NO_COLOR=1
unset DATABASE_URL DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD DB_ENGINE \
	SQLALCHEMY_DATABASE_URI POSTGRES_URL POSTGRES_PRISMA_URL TURSO_DATABASE_URL 2>/dev/null || true

passed=0
failed=0
TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/devflow-cli.XXXXXX")
trap 'cleanup_dbs; rm -rf "$TMP_ROOT"' EXIT
CREATED_DBS=""

fail() {
	echo "    FAIL: $*" >&2
	return 1
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

engines() {
	echo sqlite
	if [ -n "${DEVFLOW_TEST_PG_URL:-}" ]; then echo postgres
	elif [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then echo missing-postgres; fi
	if [ -n "${DEVFLOW_TEST_MYSQL_URL:-}" ]; then echo mysql
	elif [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then echo missing-mysql; fi
}

# host:port of a server URL
url_hostport() { echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#'; }

cleanup_dbs() {
	for d in $CREATED_DBS; do
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
	postgres)
		psql -q "$DEVFLOW_TEST_PG_URL" -c "CREATE DATABASE $name" >/dev/null
		CREATED_DBS="$CREATED_DBS pg:$name"
		URL=$(echo "$DEVFLOW_TEST_PG_URL" | sed -E "s#/[^/?]*(\?|$)#/$name\1#") ;;
	mysql)
		my_admin -e "CREATE DATABASE $name"
		CREATED_DBS="$CREATED_DBS my:$name"
		URL=$(echo "$DEVFLOW_TEST_MYSQL_URL" | sed -E "s#/[^/?]*(\?|$)#/$name\1#") ;;
	esac
	DBNAME=$name
	export DATABASE_URL=$URL
}

# q SQL: run a query on the current project's database; prints rows.
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

run_tests() {
	local t e
	for e in $(engines); do
		case $e in
		missing-*)
			echo "not ok - ${e#missing-} server URL not set but DEVFLOW_REQUIRE_SERVERS=1"
			failed=$((failed + 1))
			continue ;;
		esac
		for t in "$@"; do
			ENGINE=$e
			if [ -n "${ONLY_SQLITE_TESTS:-}" ] && [ "$e" != sqlite ]; then
				case " $ONLY_SQLITE_TESTS " in *" $t "*) continue ;; esac
			fi
			( set -eu; "$t" )
			if [ $? = 0 ]; then
				echo "ok - $e $t"
				passed=$((passed + 1))
			else
				echo "not ok - $e $t"
				failed=$((failed + 1))
			fi
			cd "$TMP_ROOT"
		done
	done
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
