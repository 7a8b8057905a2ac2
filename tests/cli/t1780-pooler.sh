#!/usr/bin/env bash
# Connection poolers (issue 24), through a real PgBouncer (Debian's
# pgbouncer) that the test starts on a free loopback port in front of the
# test PostgreSQL:
#
#  - in transaction pooling (pool_mode = transaction) every run is refused
#    when its session opens: exit 4, kind `pooler`, a hint that names
#    direct_url; nothing is applied, no devflow table is made.  For
#    server_round_robin 0 (LIFO: a second connection is handed the first
#    one's server session) and 1 (FIFO: the first connection's session
#    changes between statements), with default_pool_size 2 and 3, the pool
#    warmed to its full size first;
#  - in session pooling devflow works as it does direct;
#  - with direct_url in the environment's section devflow migrates (and
#    dry-runs, and reports) through it while url stays the pooled one;
#    the password in either URL never reaches any output.
#
# PostgreSQL only: PgBouncer pools PostgreSQL connections.  A missing
# pgbouncer fails the test under DEVFLOW_REQUIRE_SERVERS=1 (it is a test
# package of scripts/install-deps.sh), and is a skip otherwise.  Every
# pgbouncer started is stopped when its test ends (and, at the latest,
# when the script does).
. "$(dirname "$0")/lib.sh"

PGBOUNCER=${PGBOUNCER:-$(command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer)}
# the pgbouncers started, one folder a line (a file: tests run in subshells)
BOUNCERS=$TMP_ROOT/bouncers
trap 'stop_bouncers; cleanup_dbs; rm -rf "$TMP_ROOT"' EXIT

# stop_bouncer DIR...: stop the pgbouncers whose files the DIRs hold
stop_bouncer() {
	local d pids= pid i
	for d in "$@"; do
		pid=$(cat "$d/pgb.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && pids="$pids $pid"
	done
	for pid in $pids; do
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	return 0
}

stop_bouncers() {
	[ -s "$BOUNCERS" ] || return 0
	stop_bouncer $(cat "$BOUNCERS")
	rm -rf $(cat "$BOUNCERS")
	: >"$BOUNCERS"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# need_bouncer: PostgreSQL and an installed pgbouncer, or the test stops.
need_bouncer() {
	[ "$ENGINE" = postgres ] || skip_engine "PgBouncer pools PostgreSQL connections only"
	if [ ! -x "$PGBOUNCER" ]; then
		if [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then
			fail "pgbouncer is not installed ($PGBOUNCER) but DEVFLOW_REQUIRE_SERVERS=1: scripts/install-deps.sh test installs it"
			exit 1
		fi
		skip_engine "pgbouncer is not installed (scripts/install-deps.sh test installs it)"
	fi
	return 0
}

# start_bouncer MODE ROUND_ROBIN POOL_SIZE: a PgBouncer in front of the
# test server; sets BOUNCER_PORT.  Its pool is then warmed to POOL_SIZE
# server connections (POOL_SIZE clients at once), so that FIFO hand-out
# has several idle servers to choose from.
start_bouncer() {
	local mode=$1 rr=$2 size=$3 d try i
	trap 'stop_bouncers' EXIT       # this test's subshell: never left running
	d=$(mktemp -d /tmp/devflow-pgb.XXXXXX)
	echo "$d" >>"$BOUNCERS"
	chmod 755 "$d"
	echo '"postgres" ""' >"$d/users.txt"
	for try in 1 2 3; do
		BOUNCER_PORT=$(free_port)
		cat >"$d/pgb.ini" <<-INI
		[databases]
		* = host=127.0.0.1 port=$DEVFLOW_TEST_PG_PORT
		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $BOUNCER_PORT
		unix_socket_dir =
		auth_type = trust
		auth_file = $d/users.txt
		pool_mode = $mode
		server_round_robin = $rr
		default_pool_size = $size
		max_client_conn = 50
		pidfile = $d/pgb.pid
		logfile = $d/pgb.log
		ignore_startup_parameters = extra_float_digits,options
		INI
		if [ "$(id -u)" = 0 ]; then
			chown -R postgres: "$d"
			runuser -u postgres -- "$PGBOUNCER" -d "$d/pgb.ini" >"$d/start.log" 2>&1 || true
		else
			"$PGBOUNCER" -d "$d/pgb.ini" >"$d/start.log" 2>&1 || true
		fi
		for i in $(seq 1 100); do
			if [ -s "$d/pgb.pid" ] && psql -qAtX "$(bouncer_url postgres)" -c 'SELECT 1' >/dev/null 2>&1; then
				warm_pool "$size"
				return 0
			fi
			sleep 0.05
		done
		# the port may have been taken between the probe and the bind
		stop_bouncer "$d"
		rm -f "$d/pgb.pid"
	done
	fail "pgbouncer did not start: $(cat "$d/start.log" "$d/pgb.log" 2>/dev/null | tail -5)"
	exit 1
}

warm_pool() {
	local i
	for i in $(seq 1 "$1"); do
		psql -qAtX "$(bouncer_url "$DBNAME")" -c 'SELECT pg_sleep(0.15)' >/dev/null 2>&1 &
	done
	wait
}

# bouncer_url DB [PASSWORD]: the pooled URL of DB (trust: any password)
bouncer_url() {
	echo "postgres://postgres${2:+:$2}@127.0.0.1:$BOUNCER_PORT/$1"
}

# the migrations of every test; one runs outside a transaction, as the
# issue's concurrent runs did
migrations() {
	mig 20240101000000 t1780_a "CREATE TABLE t1780 (id int);" "DROP TABLE t1780;"
	{
		echo "-- devflow:no-transaction"
		echo "-- UP"
		echo "CREATE INDEX CONCURRENTLY t1780_id ON t1780 (id);"
		echo "-- DOWN"
		echo "DROP INDEX CONCURRENTLY t1780_id;"
	} >migrations/20240102000000_t1780_b.sql
}

# refused WHAT: the pooler's refusal
refused() {
	expect_rc 4 "$1"
	contains "$out$err" "transaction pooler"
	contains "$out$err" "direct_url"
	lacks "$out$err" "pooled-secret"
}

# nothing_done WHAT: no migration ran, no devflow table was made
nothing_done() {
	local n
	n=$(q "SELECT count(*) FROM pg_class WHERE relname IN ('t1780', '_migrations', '_migrations_audit')")
	[ "$n" = 0 ] || fail "the run went through the pooler ($1): $n of devflow's or the migration's tables exist"
}

# Transaction pooling, both hand-out orders, pool sizes 2 and 3: refused
# as the session opens, whatever the command.
t_transaction_pooling_refused() {
	need_bouncer
	new_project
	unset DATABASE_URL
	migrations
	local rr size how
	for rr in 0 1; do
		# which of the two signs shows it, with the pool warmed and no
		# other client: LIFO hands the second connection the first one's
		# server; FIFO serves the second one elsewhere and the first one next
		case $rr in
		0) how="a second connection was handed the first one's server session" ;;
		1) how="the connection's server session changed between two statements" ;;
		esac
		for size in 2 3; do
			start_bouncer transaction "$rr" "$size"
			df db migrate --json --url "$(bouncer_url "$DBNAME" pooled-secret)"
			refused "migrate, server_round_robin=$rr default_pool_size=$size"
			# one python: the machine may be busy
			json_eq "[d['ok'], d['error']['kind'], ':$BOUNCER_PORT/' in d['error']['message'],
				\"$how\" in d['error']['message'], 'direct_url' in d['error']['hint']]" \
				'[false, "pooler", true, true, true]'
			# twice: not a matter of luck
			df db migrate --dry-run --url "$(bouncer_url "$DBNAME" pooled-secret)"
			refused "dry-run, server_round_robin=$rr default_pool_size=$size"
			contains "$err" "error: postgres://postgres:***@127.0.0.1:$BOUNCER_PORT/$DBNAME goes through a transaction pooler"
			nothing_done "server_round_robin=$rr default_pool_size=$size"
		done
	done
	stop_bouncers
}

# The issue's case: six migrate runs at once through the pooler, over a
# no-transaction migration.  Each one is refused (none slips through
# while the others keep the pool's servers busy), nothing is applied.
t_concurrent_runs_refused() {
	need_bouncer
	new_project
	unset DATABASE_URL
	migrations
	local rr i rcs
	for rr in 0 1; do
		start_bouncer transaction "$rr" 2
		for i in 1 2 3 4 5 6; do
			( rc=0; "$DEVFLOW" db migrate --json --url "$(bouncer_url "$DBNAME" pooled-secret)" \
				>"$TMP_ROOT/run$i.out" 2>&1 || rc=$?; echo "$rc" >"$TMP_ROOT/run$i.rc" ) &
		done
		wait
		rcs=$(cat "$TMP_ROOT"/run[1-6].rc | tr '\n' ' ')
		[ "$rcs" = "4 4 4 4 4 4 " ] || fail "six runs at once, server_round_robin=$rr: exits $rcs"
		cat "$TMP_ROOT"/run[1-6].out >"$TMP_ROOT/runs.out"
		[ "$(grep -c '"kind": "pooler"' "$TMP_ROOT/runs.out")" = 6 ] ||
			fail "six runs at once, server_round_robin=$rr: not six pooler errors: $(head -c 600 "$TMP_ROOT/runs.out")"
		lacks "$(cat "$TMP_ROOT/runs.out")" "pooled-secret"
	done
	nothing_done "six runs at once"
	stop_bouncers
}

# The URL from the config's url (the application's): the hint says where
# it came from and how to add direct_url; status is refused the same way,
# and doctor fails its pooler check.
t_transaction_pooling_hint() {
	need_bouncer
	new_project
	unset DATABASE_URL
	migrations
	start_bouncer transaction 0 2
	printf '[env "staging"]\nurl = %s\n' "$(bouncer_url "$DBNAME" pooled-secret)" >devflow.conf
	df db status --env staging --json
	refused "status"
	json_eq 'd["error"]["kind"]' pooler
	contains "$(json 'd["error"]["hint"]')" "set direct_url in devflow.conf's [env \"staging\"]"
	contains "$(json 'd["error"]["hint"]')" "which came from devflow.conf [env \"staging\"] url"
	# doctor names it among its checks
	df doctor --env staging --json
	refused "doctor"
	json_eq 'd["error"]["kind"]' pooler
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "pooler"]' '[false]'
	# a direct_url that is pooled too is named as such
	printf '[env "staging"]\nurl = %s\ndirect_url = %s\n' "$(bouncer_url "$DBNAME" pooled-secret)" \
		"$(bouncer_url "$DBNAME" pooled-secret)" >devflow.conf
	df db migrate --env staging --dry-run
	refused "direct_url through the pooler"
	contains "$err" "direct_url in devflow.conf's [env \"staging\"] must reach the server itself"
	nothing_done "status, dry-run"
	stop_bouncers
}

# Session pooling: one server session per client for its life, so devflow
# works through it as today (migrate, status, rollback).
t_session_pooling_works() {
	need_bouncer
	new_project
	unset DATABASE_URL
	migrations
	start_bouncer session 1 2
	df db migrate --url "$(bouncer_url "$DBNAME" pooled-secret)"
	expect_rc 0 "migrate through session pooling"
	lacks "$out$err" "pooler"
	lacks "$out$err" "pooled-secret"
	table_exists t1780 || fail "not applied through session pooling"
	[ "$(q "SELECT count(*) FROM _migrations")" = 2 ] || fail "expected 2 history rows"
	df db rollback --url "$(bouncer_url "$DBNAME")"
	expect_rc 0 "rollback through session pooling"
	stop_bouncers
}

# direct_url: devflow migrates through it while url is the pooled one;
# the dry-run and status use it too; doctor names it as the URL's source.
t_direct_url() {
	need_bouncer
	new_project
	unset DATABASE_URL
	migrations
	start_bouncer transaction 1 3
	local direct="postgres://postgres:direct-secret@127.0.0.1:$DEVFLOW_TEST_PG_PORT/$DBNAME"
	printf '[env "staging"]\nurl = %s\ndirect_url = ${T1780_DIRECT}\n' \
		"$(bouncer_url "$DBNAME" pooled-secret)" >devflow.conf
	export T1780_DIRECT=$direct
	df db migrate --env staging --dry-run --json
	expect_rc 0 "dry-run through direct_url"
	json_eq 'd["target"]' "postgres://postgres:***@127.0.0.1:$DEVFLOW_TEST_PG_PORT/$DBNAME"
	df db migrate --env staging --yes
	expect_rc 0 "migrate through direct_url"
	lacks "$out$err" "direct-secret"
	lacks "$out$err" "pooled-secret"
	table_exists t1780 || fail "not applied through direct_url"
	df db status --env staging
	expect_rc 0 "status through direct_url"
	contains "$out" "2 applied"
	df doctor --env staging
	contains "$out$err" "direct_url"
	lacks "$out$err" "direct-secret"
	lacks "$out$err" "pooled-secret"
	stop_bouncers
}

# `devflow help config` lists direct_url in the environment's section (no
# server needed: run once, with the rest of this file, on postgres).
t_help_config_direct_url() {
	[ "$ENGINE" = postgres ] || skip_engine "engine-independent: runs once, on postgres, with the rest of this file"
	new_project
	df help config
	expect_rc 0
	contains "$out" "  direct_url       = URL"
	contains "$out" "transaction pooler"
	df help config --json
	json_eq '[k["key"] for k in d["keys"] if k["section"] == "env \"NAME\""][:2]' '["url", "direct_url"]'
}

run_tests t_help_config_direct_url t_transaction_pooling_refused t_concurrent_runs_refused t_transaction_pooling_hint t_session_pooling_works t_direct_url
