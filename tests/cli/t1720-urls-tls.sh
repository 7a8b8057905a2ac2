#!/usr/bin/env bash
# URLs read as the client library reads them, and TLS (issue 22).
#
#  - the remote-host gate judges the hosts the client library will reach:
#    libpq's ?host=, ?hostaddr=, a service file, PGHOST / PGHOSTADDR, every
#    host of a multi-host URL; from literal names, before any lookup (no
#    test here needs a network: remote.invalid is never resolved)
#  - a password with an unencoded '@' is refused (exit 2), and no part of
#    the user-info reaches any output
#  - TLS: a remote connection without TLS warns under staging/production
#    (every run and doctor); require_tls = true makes it tls_failed (exit 4);
#    mysql URLs take ?sslca= for the driver and its backup/restore tools.
#
# "Remote" on loopback: db.remote.test, mapped to 127.0.0.1 by a hosts file
# of the test's own, bound over /etc/hosts in a mount namespace (unshare -m);
# the machine's /etc/hosts is never touched.  The servers' certificate
# (tests/support/servers.sh) names 127.0.0.1, localhost and db.remote.test.
. "$(dirname "$0")/lib.sh"

server_url() {   # server_url USER PASS DB [QUERY]: the engine's server at HOST
	local host=${HOST:-127.0.0.1} port
	case $ENGINE in
	postgres) port=$DEVFLOW_TEST_PG_PORT
		echo "postgres://$1${2:+:$2}@$host:$port/$3${4:+?$4}" ;;
	mysql) port=$DEVFLOW_TEST_MYSQL_PORT
		echo "mysql://$1${2:+:$2}@$host:$port/$3${4:+?$4}" ;;
	esac
}

# df_ns ARGS...: df, in a mount namespace whose /etc/hosts maps
# db.remote.test to 127.0.0.1
df_ns() {
	rc=0
	printf '127.0.0.1 localhost db.remote.test\n::1 localhost\n' >"$TMP_ROOT/hosts"
	unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
		"$TMP_ROOT/hosts" "$DEVFLOW" "$@" >"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	out=$(cat "$TMP_ROOT/out")
	err=$(cat "$TMP_ROOT/err")
	return 0
}

need_ns() {
	unshare -m true 2>/dev/null || fail "unshare -m does not work here (run the tests as root)"
}

need_ca() {
	[ -n "${DEVFLOW_TEST_TLS_CA:-}" ] && [ -f "$DEVFLOW_TEST_TLS_CA" ] ||
		fail "DEVFLOW_TEST_TLS_CA not set: start the servers with tests/support/servers.sh"
}

not_applied() {
	table_exists t1720 && fail "the migration ran: $1"
	return 0
}

# every refusal: the gate, before any lookup, naming the host libpq would use
refused_remote() {     # refused_remote WHAT HOST
	expect_rc 3 "$1"
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$err" "$2"
	lacks "$out$err" "translate host"
	lacks "$out$err" "canary-pw"
	not_applied "$1"
}

t_libpq_parameters_meet_the_gate() {
	[ "$ENGINE" = postgres ] || skip_engine "libpq parameters: PostgreSQL only"
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local p=$DEVFLOW_TEST_PG_PORT
	df db migrate --json --url "postgres://postgres:canary-pw@localhost:$p/$DBNAME?host=remote.invalid"
	refused_remote "?host=" remote.invalid
	df db migrate --json --url "postgres://postgres:canary-pw@127.0.0.1:$p/$DBNAME?hostaddr=192.0.2.1"
	refused_remote "?hostaddr=" 192.0.2.1
	df db migrate --json --url "postgres://postgres:canary-pw@/$DBNAME?host=remote.invalid&port=$p"
	refused_remote "no authority host, ?host=" remote.invalid
	df db migrate --json --url "postgres://postgres@localhost,remote.invalid:$p/$DBNAME"
	refused_remote "multi-host" remote.invalid
	df db migrate --json --url "postgres://postgres@/$DBNAME?host=127.0.0.1,remote.invalid&port=$p"
	refused_remote "multi-host ?host=" remote.invalid
	rc=0
	PGHOST=remote.invalid PGPORT=$p df db migrate --json --url "postgres://postgres@/$DBNAME"
	refused_remote "PGHOST" remote.invalid
	PGHOSTADDR=192.0.2.1 df db migrate --json --url "postgres://postgres@localhost:$p/$DBNAME"
	refused_remote "PGHOSTADDR" 192.0.2.1
	printf '[far]\nhost=remote.invalid\nport=%s\n' "$p" >"$PROJECT/pg_service.conf"
	PGSERVICEFILE=$PROJECT/pg_service.conf PGSERVICE=far df db migrate --json --url "postgres://postgres@/$DBNAME"
	refused_remote "PGSERVICE" remote.invalid
	PGSERVICEFILE=$PROJECT/pg_service.conf df db migrate --json --url "postgres://postgres@/$DBNAME?service=far"
	refused_remote "?service=" remote.invalid
	# and the other way round: what libpq uses is local, whatever the authority says
	df db migrate --url "postgres://postgres@remote.invalid:$p/$DBNAME?host=127.0.0.1"
	expect_rc 0 "?host=127.0.0.1 over a remote-looking authority"
	table_exists t1720 || fail "not applied through ?host=127.0.0.1"
}

t_mysql_hosts_meet_the_gate() {
	[ "$ENGINE" = mysql ] || skip_engine "MariaDB URL forms"
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local p=$DEVFLOW_TEST_MYSQL_PORT
	df db migrate --json --url "mysql://root:canary-pw@remote.invalid:$p/$DBNAME"
	refused_remote "authority" remote.invalid
	df db migrate --json --url "mysql://root:canary-pw@[2001:db8::1]:$p/$DBNAME"
	refused_remote "IPv6 literal" 2001:db8::1
	# Connector/C has no host parameter: an unknown one is refused, not ignored
	df db migrate --json --url "mysql://root@127.0.0.1:$p/$DBNAME?host=remote.invalid"
	expect_rc 2 "?host= on mysql"
	json_eq 'd["error"]["kind"]' usage
	not_applied "?host= on mysql"
	# nor does it read MYSQL_HOST: the URL's host is the one reached
	MYSQL_HOST=remote.invalid df db migrate --url "mysql://root@127.0.0.1:$p/$DBNAME"
	expect_rc 0 "MYSQL_HOST is not read"
	table_exists t1720 || fail "not applied"
}

# A loopback address under a remote-looking name is remote: no lookup decides.
t_a_name_is_judged_without_lookup() {
	[ "$ENGINE" != sqlite ] || skip_engine "servers only"
	need_ns
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local u
	u=$(HOST=db.remote.test server_url "$([ "$ENGINE" = postgres ] && echo postgres || echo root)" "" "$DBNAME")
	df_ns db migrate --json --url "$u"
	refused_remote "db.remote.test" db.remote.test
	df_ns db migrate --url "$u" --yes
	expect_rc 0 "confirmed with --yes"
	table_exists t1720 || fail "not applied after --yes"
}

# After connecting, before any statement: the socket's peer confirms the
# judgement.  In a network namespace of its own (only lo, with 10.254.0.1 on
# it: nothing leaves the namespace) a proxy on 10.254.0.1 forwards to the
# server's Unix socket, and the namespace's /etc/hosts sends "localhost"
# there: devflow judges "localhost" local by name, and the peer says no.
t_peer_confirms_the_judgement() {
	[ "$ENGINE" != sqlite ] || skip_engine "servers only"
	need_ns
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local sock user u
	if [ "$ENGINE" = postgres ]; then
		sock=$DEVFLOW_TEST_PG_SOCKET_DIR/.s.PGSQL.$DEVFLOW_TEST_PG_PORT user=postgres
	else
		sock=$DEVFLOW_TEST_MYSQL_SOCKET user=root
	fi
	u=$(HOST=localhost server_url "$user" "" "$DBNAME")
	cat >"$TMP_ROOT/proxy.py" <<-'EOF'
	import socket, sys, threading
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
	        for s in (a, b):
	            try:
	                s.shutdown(socket.SHUT_RDWR)
	            except OSError:
	                pass
	srv = socket.socket()
	srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	srv.bind(("10.254.0.1", int(sys.argv[2])))
	srv.listen(8)
	open(sys.argv[3], "w").close()
	while True:
	    c, _ = srv.accept()
	    u = socket.socket(socket.AF_UNIX)
	    u.connect(sys.argv[1])
	    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
	    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
	EOF
	printf '10.254.0.1 localhost\n' >"$TMP_ROOT/hosts-far"
	cat >"$TMP_ROOT/inns.sh" <<-'EOF'
	ip link set lo up && ip addr add 10.254.0.1/32 dev lo && mount --bind "$1" /etc/hosts || exit 99
	python3 "$2" "$3" "$4" "$5" & p=$!
	for i in $(seq 1 50); do [ -f "$5" ] && break; sleep 0.1; done
	shift 5
	"$@"; rc=$?
	kill $p
	exit $rc
	EOF
	local port=${u##*:}
	port=${port%%/*}
	rc=0
	rm -f "$TMP_ROOT/proxy.ready"
	unshare -n -m sh "$TMP_ROOT/inns.sh" "$TMP_ROOT/hosts-far" "$TMP_ROOT/proxy.py" "$sock" "$port" \
		"$TMP_ROOT/proxy.ready" "$DEVFLOW" db migrate --json --url "$u" \
		>"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	out=$(cat "$TMP_ROOT/out") err=$(cat "$TMP_ROOT/err")
	[ -f "$TMP_ROOT/proxy.ready" ] || fail "the proxy did not start: $err"
	expect_rc 3 "localhost whose socket reached 10.254.0.1"
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$(json 'd["error"]["message"]')" "10.254.0.1"
	not_applied "peer not this machine"
	# the same proxy, confirmed: the connection itself works
	rm -f "$TMP_ROOT/proxy.ready"
	unshare -n -m sh "$TMP_ROOT/inns.sh" "$TMP_ROOT/hosts-far" "$TMP_ROOT/proxy.py" "$sock" "$port" \
		"$TMP_ROOT/proxy.ready" "$DEVFLOW" db migrate --url "$u" --yes \
		>"$TMP_ROOT/out" 2>"$TMP_ROOT/err" || rc=$?
	out=$(cat "$TMP_ROOT/out") err=$(cat "$TMP_ROOT/err")
	table_exists t1720 || fail "not applied through the proxy with --yes: $out $err"
}

t_unencoded_at_in_password_is_refused() {
	[ "$ENGINE" != sqlite ] || skip_engine "server URLs only"
	new_project
	local scheme=postgres port=$DEVFLOW_TEST_PG_PORT
	[ "$ENGINE" = mysql ] && scheme=mysql port=$DEVFLOW_TEST_MYSQL_PORT
	df db status --json --url "$scheme://app:Can@ryPw0rd@remote.invalid:$port/$DBNAME"
	expect_rc 2 "--url"
	json_eq 'd["error"]["kind"]' usage
	contains "$(json 'd["error"]["hint"]')" "%40"
	lacks "$out$err" "ryPw0rd"
	lacks "$out$err" "Can@"
	lacks "$out$err" "app:"
	lacks "$out$err" "translate host"
	# the same from the environment and from devflow.conf
	DATABASE_URL="$scheme://app:Can@ryPw0rd@127.0.0.1:$port/$DBNAME" df db status
	expect_rc 2 "DATABASE_URL"
	lacks "$out$err" "ryPw0rd"
	contains "$err" "%40"
	printf '[env "staging"]\nurl = %s://app:Can@ryPw0rd@127.0.0.1:%s/%s\n' "$scheme" "$port" "$DBNAME" >devflow.conf
	df db status --env staging
	expect_rc 2 "devflow.conf"
	lacks "$out$err" "ryPw0rd"
	lacks "$out$err" "Can@"
	rm devflow.conf
	# a '?' in the password: libpq's user-info ends at the '@' after it
	df db status --url "$scheme://app:Can?ryPw0rd@127.0.0.1:$port/$DBNAME"
	expect_rc 2 "'?' in the password"
	lacks "$out$err" "ryPw0rd"
	# percent-encoded, it is one URL to everyone: it reaches the server
	if [ "$ENGINE" = postgres ]; then
		df db status --url "postgres://postgres:Can%40ryPw0rd@127.0.0.1:$port/$DBNAME"
		expect_rc 0 "encoded (trust: the password is not checked)"
	else
		df db status --url "mysql://devflow_pw:Can%40ryPw0rd@127.0.0.1:$port/$DBNAME"
		expect_rc 4 "encoded, wrong password: an authentication error"
		contains "$err" "Access denied"
	fi
	lacks "$out$err" "ryPw0rd"
}

# ENV_CONF NAME POLICY URL [require_tls]
env_conf() {
	{
		printf '[env "%s"]\nurl = %s\npolicy = %s\n' "$1" "$3" "$2"
		[ -z "${4:-}" ] || printf 'require_tls = true\n'
	} >>devflow.conf
}

t_remote_without_tls_warns_under_staging() {
	[ "$ENGINE" != sqlite ] || skip_engine "no network connection"
	need_ns
	new_project
	local u q=
	[ "$ENGINE" = postgres ] && q=sslmode=disable
	u=$(HOST=db.remote.test server_url "$([ "$ENGINE" = postgres ] && echo postgres || echo root)" "" "$DBNAME" "$q")
	env_conf staging staging "$u"
	env_conf prod production "$u"
	HOST=127.0.0.1
	env_conf lo production "$(server_url "$([ "$ENGINE" = postgres ] && echo postgres || echo root)" "" "$DBNAME" "$q")"
	df_ns db status --env staging --json
	expect_rc 0 "staging status"
	contains "$(json 'd["warnings"]')" "does not use TLS"
	contains "$err" "warning: the connection to 'db.remote.test'"
	df_ns db status --env prod
	expect_rc 0 "production status"
	contains "$out" "warning: the connection to 'db.remote.test'"
	df_ns doctor --env staging --json
	expect_rc 0 "doctor warns, does not fail"
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "tls"]' "[true]"
	contains "$(json 'd["warnings"]')" "does not use TLS"
	df_ns db diff --from staging --to staging
	expect_rc 0 "db diff of staging with itself"
	contains "$out$err" "warning: the connection to 'db.remote.test' (environment 'staging'"
	# this machine by name: no warning
	df_ns db status --env lo
	expect_rc 0 "loopback status"
	contains "$out" "policy production"
	lacks "$out$err" "TLS"
}

t_require_tls_refuses_clear_text() {
	[ "$ENGINE" != sqlite ] || skip_engine "no network connection"
	need_ns
	need_ca
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local clear tls
	if [ "$ENGINE" = postgres ]; then
		clear=$(HOST=db.remote.test server_url postgres "" "$DBNAME" sslmode=disable)
		tls=$(HOST=db.remote.test server_url devflow_tls secret-pw "$DBNAME" "sslmode=verify-full&sslrootcert=$DEVFLOW_TEST_TLS_CA")
	else
		clear=$(HOST=db.remote.test server_url root "" "$DBNAME")
		tls=$(HOST=db.remote.test server_url devflow_tls secret-pw "$DBNAME" "sslca=$DEVFLOW_TEST_TLS_CA")
	fi
	env_conf stage staging "$clear" require
	env_conf stagetls staging "$tls" require
	df_ns db status --env stage --json
	expect_rc 4 "require_tls, clear text"
	json_eq 'd["error"]["kind"]' tls_failed
	contains "$(json 'd["error"]["message"]')" "db.remote.test"
	df_ns db migrate --env stage --dry-run --json
	expect_rc 4 "require_tls, migrate"
	json_eq 'd["error"]["kind"]' tls_failed
	not_applied "require_tls"
	df_ns db diff --from stage --to stage --json
	expect_rc 4 "db diff reading an environment, require_tls"
	json_eq 'd["error"]["kind"]' tls_failed
	df_ns doctor --env stage --json
	expect_rc 4 "doctor, require_tls"
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "tls"]' "[false]"
	json_eq 'd["error"]["kind"]' tls_failed
	# with TLS (the certificate verified against the test CA): no warning, no error
	df_ns db status --env stagetls
	expect_rc 0 "require_tls, TLS in use"
	contains "$out" "stagetls"
	lacks "$out$err" "TLS"
	df_ns doctor --env stagetls --json
	expect_rc 0 "doctor, TLS in use"
	json_eq '[c["message"] for c in d["checks"] if c["name"] == "tls"]' '["in use"]'
	lacks "$out$err" "secret-pw"
}

# A user the server admits only over TLS: devflow's connection and its
# backup/restore tools all carry the URL's TLS settings.
t_tls_reaches_backup_and_restore_tools() {
	[ "$ENGINE" != sqlite ] || skip_engine "no network connection"
	need_ca
	new_project
	mig 20260101000000 t "CREATE TABLE t1720 (id INT);" "DROP TABLE t1720;"
	local u bad
	if [ "$ENGINE" = postgres ]; then
		u=$(server_url devflow_tls secret-pw "$DBNAME" "sslmode=verify-full&sslrootcert=$DEVFLOW_TEST_TLS_CA")
		bad=$(server_url devflow_tls secret-pw "$DBNAME" "sslmode=disable")
	else
		u=$(server_url devflow_tls secret-pw "$DBNAME" "sslca=$DEVFLOW_TEST_TLS_CA")
		bad=$(server_url devflow_tls secret-pw "$DBNAME")
	fi
	df db status --url "$bad"
	expect_rc 4 "the TLS-only user without TLS"
	df db migrate --url "$u"
	expect_rc 0 "migrate over TLS"
	table_exists t1720 || fail "not applied over TLS"
	q "INSERT INTO t1720 VALUES (42)" >/dev/null
	df db backup --url "$u" -o "$PROJECT/b.dump" --json
	expect_rc 0 "backup over TLS"
	[ -s "$PROJECT/b.dump" ] || fail "no backup written"
	q "DELETE FROM t1720" >/dev/null
	df db restore "$PROJECT/b.dump" --url "$u" --yes --clean
	expect_rc 0 "restore over TLS"
	[ "$(q "SELECT count(*) FROM t1720")" = 1 ] || fail "the restore did not bring the row back"
	lacks "$out$err" "secret-pw"
	# a CA that is not the server's: refused as a TLS failure
	printf 'not a certificate\n' >"$PROJECT/wrong-ca.pem"
	if [ "$ENGINE" = postgres ]; then
		df db status --json --url "$(server_url devflow_tls secret-pw "$DBNAME" "sslmode=verify-full&sslrootcert=$PROJECT/wrong-ca.pem")"
	else
		df db status --json --url "$(server_url devflow_tls secret-pw "$DBNAME" "sslca=$PROJECT/wrong-ca.pem")"
	fi
	expect_rc 4 "a wrong CA"
	json_eq 'd["error"]["kind"]' tls_failed
}

run_tests t_libpq_parameters_meet_the_gate t_mysql_hosts_meet_the_gate \
	t_a_name_is_judged_without_lookup t_peer_confirms_the_judgement \
	t_unencoded_at_in_password_is_refused \
	t_remote_without_tls_warns_under_staging t_require_tls_refuses_clear_text \
	t_tls_reaches_backup_and_restore_tools
