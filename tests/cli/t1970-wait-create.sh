#!/bin/bash
# db wait (issue 27): poll the target until it is ready (PostgreSQL: a
# connection and pg_is_in_recovery() false; MariaDB: a connection that
# answers; SQLite: the file opens, or its folder exists), exit 0; exit 4 with
# the last attempt's error after --timeout, the password never shown; SIGINT
# ends the wait (130).
# db migrate on a server database that does not exist (issue 27): created
# under the local policy (said in text, database_created in JSON, an audit
# row); refused under staging with the CREATE DATABASE to run (nothing
# created, no question an agent could answer); a dry-run creates nothing and
# says it would.  SQLite keeps what it did: migrate creates the file.
. "$(dirname "$0")/lib.sh"

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# later_proxy PORT HOST:PORT DELAY MARKER: in the background, after DELAY
# seconds, listen on 127.0.0.1:PORT and forward every connection to
# HOST:PORT (the engine's test server); MARKER gets the time it began to
# listen (ms since the epoch).  Sets proxypid.
later_proxy() {
	python3 - "$@" <<-'EOF' >/dev/null 2>&1 &
	import socket, sys, threading, time
	port, target, delay, marker = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
	th, tp = target.rsplit(":", 1)
	time.sleep(delay)
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", port))
	s.listen(16)
	with open(marker, "w") as f:
	    f.write(str(int(time.time() * 1000)))
	def pipe(a, b):
	    try:
	        while True:
	            d = a.recv(65536)
	            if not d:
	                break
	            b.sendall(d)
	    except OSError:
	        pass
	    finally:
	        try:
	            b.shutdown(socket.SHUT_WR)
	        except OSError:
	            pass
	while True:
	    c, _ = s.accept()
	    u = socket.create_connection((th, int(tp)))
	    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
	    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
	EOF
	proxypid=$!
}

# server_url_at PORT [DB]: the engine's test server URL through 127.0.0.1:PORT
server_url_at() {
	local base
	case $ENGINE in
	postgres) base=$DEVFLOW_TEST_PG_URL ;;
	mysql) base=$DEVFLOW_TEST_MYSQL_URL ;;
	esac
	base=$(echo "$base" | sed -E "s#@[^/]*/#@127.0.0.1:$1/#")
	[ $# -lt 2 ] || base=$(echo "$base" | sed -E "s#/[^/?]*(\?|$)#/$2\1#")
	echo "$base"
}

t_wait_returns_once_the_server_is_ready() {
	local marker=$TMP_ROOT/listening port url end
	new_project
	rm -f "$marker"
	case $ENGINE in
	sqlite)
		# the file's folder appears 3 s later (a volume mounted late)
		( sleep 3; mkdir "$PROJECT/later"; date +%s%3N >"$marker" ) &
		url="sqlite:./later/app.db" ;;
	*)
		port=$(free_port)
		later_proxy "$port" "$(url_hostport "$URL")" 3 "$marker"
		url=$(server_url_at "$port" "$DBNAME") ;;
	esac
	df db wait --url "$url" --timeout 60s --json
	end=$(date +%s%3N)
	[ -z "${proxypid:-}" ] || kill "$proxypid" 2>/dev/null || true
	wait 2>/dev/null || true
	expect_rc 0 "db wait against a target ready 3 s later"
	json_eq 'd["ok"]' true
	json_eq 'd["ready"]' true
	# the order of events: it polled while the target was not ready, and it
	# returned after the target became ready, before the timeout
	[ -s "$marker" ] || fail "db wait returned before the target was ready"
	json_eq 'd["attempts"] >= 2' true
	json_eq 'd["waited_ms"] < d["timeout_ms"]' true
	json_eq 'd["timeout_ms"]' 60000
	[ ! -s "$marker" ] || echo "    # $ENGINE: returned $(( end - $(cat "$marker") )) ms after the target was ready" >&2
	case $ENGINE in
	sqlite)
		json_eq 'd["database_exists"]' false
		json_eq 'd["next"]' '["devflow db migrate --url sqlite:./later/app.db"]'
		[ ! -e "$PROJECT/later/app.db" ] || fail "db wait created the SQLite file" ;;
	*)
		json_eq 'd["database_exists"]' true
		json_eq 'd["next"][0].startswith("devflow db status --url ")' true ;;
	esac
}

# as_pg ARGS: as the postgres user when root (as servers.sh runs its server)
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A standby (a throwaway PostgreSQL started with standby.signal and no
# primary) accepts connections but stays in recovery: not ready until it is
# promoted.
t_wait_waits_out_recovery() {
	[ "$ENGINE" = postgres ] || skip_engine "recovery is PostgreSQL's (MariaDB: answering is ready; SQLite: no server)"
	[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { fail "no PostgreSQL server binaries"; return 1; }
	local port url marker dir
	dir=$(mktemp -d /tmp/devflow-standby.XXXXXX)
	STANDBY_DIR=$dir
	marker=$dir/promoted
	chmod 755 "$dir"
	[ "$(id -u)" != 0 ] || chown postgres: "$dir"
	# (the test runs in a subshell: its own EXIT trap stops the server)
	trap 'as_pg "$PGBIN/pg_ctl" -D "$STANDBY_DIR/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$STANDBY_DIR"' EXIT
	as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
		{ fail "initdb failed: $(tail -3 "$dir/initdb.log")"; return 1; }
	port=$(free_port)
	cat >>"$dir/data/postgresql.auto.conf" <<-EOF
	listen_addresses = '127.0.0.1'
	port = $port
	unix_socket_directories = '$dir'
	shared_buffers = 8MB
	fsync = off
	EOF
	as_pg touch "$dir/data/standby.signal"
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start >/dev/null 2>&1 ||
		{ fail "the standby did not start: $(tail -3 "$dir/log")"; return 1; }
	[ "$(psql -qAtX "postgres://postgres@127.0.0.1:$port/postgres" -c 'SELECT pg_is_in_recovery()')" = t ] ||
		fail "the throwaway server is not in recovery"
	url="postgres://postgres@127.0.0.1:$port/postgres"
	new_project
	df db wait --url "$url" --timeout 1s --json; expect_rc 4 "db wait on a standby"
	json_eq 'd["ready"]' false
	json_eq 'd["error"]["kind"]' connection_refused
	contains "$(json 'd["error"]["message"]')" "in recovery (pg_is_in_recovery() is true)"
	contains "$(json 'd["error"]["hint"]')" "point devflow at the primary"
	# promoted 2 s later: ready then, and not before
	( sleep 2; as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w promote >/dev/null 2>&1; date +%s%3N >"$marker" ) &
	df db wait --url "$url" --timeout 60s --json
	wait
	expect_rc 0 "db wait on a standby promoted 2 s later"
	json_eq 'd["ready"]' true
	json_eq 'd["attempts"] >= 2' true
	[ -s "$marker" ] || fail "db wait returned before the standby was promoted"
}

t_wait_text_says_what_ready_means() {
	new_project
	[ "$ENGINE" != sqlite ] || { df db migrate; expect_rc 0; }
	df db wait --url "$URL"; expect_rc 0
	case $ENGINE in
	sqlite) contains "$out" "Ready: sqlite:./test.db opens and answers" ;;
	postgres) contains "$out" "accepts connections and is out of recovery" ;;
	mysql) contains "$out" "accepts connections and answers" ;;
	esac
	contains "$out" "Next: devflow db status --url"
	# a database that does not exist yet on a ready server is ready: migrate creates it
	case $ENGINE in
	sqlite) df db wait --url sqlite:./nothing-yet.db ;;
	*) df db wait --url "$(server_url_at "$(url_hostport "$URL" | sed 's/.*://')" "dft_nosuch_$$")" ;;
	esac
	expect_rc 0
	contains "$out" "devflow db migrate"
	contains "$out" "creates it"
	[ ! -e nothing-yet.db ] || fail "db wait created the SQLite file"
}

t_wait_times_out_with_the_error() {
	local port url
	new_project
	case $ENGINE in
	sqlite) url="sqlite:./never/app.db" ;;
	postgres) port=$(free_port); url="postgres://devflow_pw:secret-pw@127.0.0.1:$port/app" ;;
	mysql) port=$(free_port); url="mysql://devflow_pw:secret-pw@127.0.0.1:$port/app" ;;
	esac
	df db wait --url "$url" --timeout 1500ms --json
	expect_rc 4 "db wait against nothing"
	json_eq 'd["ok"]' false
	json_eq 'd["ready"]' false
	json_eq 'd["waited_ms"] >= 1500' true
	json_eq 'd["attempts"] >= 2' true
	contains "$(json 'd["error"]["message"]')" "was not ready after 1.5s"
	case $ENGINE in
	sqlite)
		json_eq 'd["error"]["kind"]' unknown_database
		contains "$(json 'd["error"]["message"]')" "the folder './never' of the database file does not exist" ;;
	*)
		json_eq 'd["error"]["kind"]' connection_refused
		case $ENGINE in
		postgres) contains "$(json 'd["error"]["message"]')" "Connection refused" ;;
		mysql) contains "$(json 'd["error"]["message"]')" "Can't connect to server" ;;
		esac
		contains "$(json 'd["error"]["hint"]')" "127.0.0.1:$port" ;;
	esac
	lacks "$out$err" "secret-pw"
	# the text form names the error too
	df db wait --url "$url" --timeout 0.2
	expect_rc 4
	contains "$err" "error: "
	contains "$err" "was not ready after 0.2s"
	lacks "$out$err" "secret-pw"
}

t_wait_bad_timeout_is_usage() {
	new_project
	df db wait --timeout soon --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	contains "$(json 'd["error"]["message"]')" "--timeout wants a duration"
	df db wait extra; expect_rc 2
	df db wait --help; expect_rc 0
	contains "$out" "usage: devflow db wait [--timeout DURATION]"
	contains "$out" "pg_is_in_recovery()"
}

t_wait_stops_on_sigint() {
	local port url
	new_project
	case $ENGINE in
	sqlite) url="sqlite:./never/app.db" ;;
	postgres) port=$(free_port); url="postgres://postgres@127.0.0.1:$port/app" ;;
	mysql) port=$(free_port); url="mysql://root@127.0.0.1:$port/app" ;;
	esac
	bg_start db wait --url "$url" --timeout 60 --json
	sleep 1
	bg_signal INT
	expect_rc 130 "SIGINT during db wait"
	json_eq 'd["error"]["kind"]' interrupted
	[ "$took" -lt 30000 ] || fail "db wait took ${took} ms to stop on SIGINT"
}

# ---- db migrate on a server database that does not exist -------------------

# db_count NAME: 1 when the engine's test server has database NAME, else 0
db_count() {
	case $ENGINE in
	postgres) psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT count(*) FROM pg_database WHERE datname = '$1'" ;;
	mysql) my_admin -N -B -e "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1'" ;;
	esac
}

# missing_db: a project whose URL names a database the server does not have
# (dropped at the end if a test creates it); sets NEWDB and NEWURL.
missing_db() {
	new_project
	NEWDB="${DBNAME}_new"
	case $ENGINE in
	postgres) created_db "pg:$NEWDB" ;;
	mysql) created_db "my:$NEWDB" ;;
	esac
	NEWURL=$(echo "$URL" | sed -E "s#/[^/?]*(\?|$)#/$NEWDB\1#")
	export DATABASE_URL=$NEWURL
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY);" "DROP TABLE users;"
	[ "$(db_count "$NEWDB")" = 0 ] || fail "the database $NEWDB exists before the test"
}

t_migrate_creates_the_database_under_local() {
	[ "$ENGINE" != sqlite ] || {
		# SQLite: migrate creates the file, as it always did
		new_project
		mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY);" "DROP TABLE users;"
		[ ! -e test.db ] || fail "test.db exists before the test"
		df db migrate --json; expect_rc 0
		json_eq 'd["applied"][0]["version"]' 20240101000000
		[ -s test.db ] || fail "db migrate did not create the SQLite file"
		table_exists users || fail "no table users"
		return 0
	}
	missing_db
	# the dry-run first: nothing created, and it says migrate would create it
	df db migrate --dry-run --json; expect_rc 4 "dry-run on a missing database"
	json_eq 'd["error"]["kind"]' unknown_database
	json_eq 'd["database_exists"]' false
	json_eq 'd["database_created"]' false
	contains "$(json 'd["error"]["message"]')" "would create it"
	contains "$(json 'd["error"]["message"]')" "this dry-run created nothing"
	contains "$(json 'd["create_database"]')" "CREATE DATABASE"
	json_eq 'd["next"]' '["devflow db migrate"]'
	[ "$(db_count "$NEWDB")" = 0 ] || fail "a dry-run created the database"
	df db migrate --dry-run; expect_rc 4
	contains "$err" "would create it"
	[ "$(db_count "$NEWDB")" = 0 ] || fail "a dry-run created the database"
	# the real run creates it, says so, and applies
	df db migrate --json; expect_rc 0 "migrate on a missing database under local"
	json_eq 'd["database_created"]' true
	contains "$(json 'd["create_database"]')" "CREATE DATABASE"
	contains "$(json 'd["create_database"]')" "$NEWDB"
	json_eq 'd["applied"][0]["version"]' 20240101000000
	contains "$err" "Created the database '$NEWDB' on the server"
	[ "$(db_count "$NEWDB")" = 1 ] || fail "migrate did not create the database"
	DBNAME=$NEWDB URL=$NEWURL table_exists users || fail "no table users in the new database"
	df db history --json; expect_rc 0
	json_eq '[e["op"] for e in d["entries"] if e["op"] == "create-database"] != []' true
	# a second run finds it: nothing created, nothing said
	df db migrate --json; expect_rc 0
	json_eq '"database_created" in d' false
	lacks "$err" "Created the database"
}

t_migrate_text_says_it_created() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite: the file is created as before (t_migrate_creates_the_database_under_local)"
	missing_db
	df db migrate; expect_rc 0
	contains "$out" "Created the database '$NEWDB' on the server (it did not exist; the local policy creates it"
	contains "$out" "applied 20240101000000"
}

t_migrate_refuses_to_create_under_staging() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite has no server database to create"
	missing_db
	df db migrate --env staging --yes --json; expect_rc 4 "migrate on a missing staging database"
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' unknown_database
	contains "$(json 'd["error"]["message"]')" "under the staging policy devflow does not create it"
	contains "$(json 'd["error"]["hint"]')" "CREATE DATABASE"
	contains "$(json 'd["error"]["hint"]')" "$NEWDB"
	json_eq 'd["database_created"]' false
	# a person's decision: no question an agent could answer, no command to run
	json_eq '"ask" in d' false
	json_eq 'd["next"]' '[]'
	[ "$(db_count "$NEWDB")" = 0 ] || fail "migrate created the database under staging"
	# nor with a dry-run, nor under production
	df db migrate --env staging --dry-run --json; expect_rc 4
	json_eq 'd["error"]["kind"]' unknown_database
	[ "$(db_count "$NEWDB")" = 0 ] || fail "a staging dry-run created the database"
	df db migrate --env production --confirm production --backup; expect_rc 4
	contains "$err" "under the production policy devflow does not create it"
	contains "$err" "CREATE DATABASE"
	[ "$(db_count "$NEWDB")" = 0 ] || fail "migrate created the database under production"
	# a rollback never creates one either
	df db rollback; expect_rc 4
	[ "$(db_count "$NEWDB")" = 0 ] || fail "rollback created the database"
}

run_tests t_wait_returns_once_the_server_is_ready t_wait_waits_out_recovery t_wait_text_says_what_ready_means \
	t_wait_times_out_with_the_error t_wait_bad_timeout_is_usage t_wait_stops_on_sigint \
	t_migrate_creates_the_database_under_local t_migrate_text_says_it_created \
	t_migrate_refuses_to_create_under_staging
