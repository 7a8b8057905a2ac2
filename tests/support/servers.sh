#!/usr/bin/env bash
#
# Throwaway PostgreSQL and MariaDB servers for the integration tests.
#
#   tests/support/servers.sh start DIR [--only pg|mysql]
#   . DIR/env            # DEVFLOW_TEST_PG_URL, DEVFLOW_TEST_MYSQL_URL, ports
#   tests/support/servers.sh stop DIR
#
# Both servers listen on 127.0.0.1 only, on ports the kernel hands out as
# free, with their sockets, data and logs inside DIR.  Run as root, the
# servers run as the `postgres` and `mysql` users (DIR is made traversable);
# run as anyone else, they run as that user.
#
# Accounts (for testing authentication and permission errors):
#   PostgreSQL  postgres (superuser, trust over TCP and socket)
#               devflow_pw / secret-pw       LOGIN CREATEDB, scram-sha-256
#               devflow_noperm / secret-pw   LOGIN only, scram-sha-256
#               devflow_tls / secret-pw      SUPERUSER, over TCP with TLS only (hostssl)
#   MariaDB     root (no password)
#               devflow_pw / secret-pw       ALL PRIVILEGES
#               devflow_noperm / secret-pw   no privileges
#               devflow_tls / secret-pw      ALL PRIVILEGES, REQUIRE SSL (TLS or no login)
#
# TLS: `start` makes a throwaway CA and a server certificate for 127.0.0.1,
# localhost and db.remote.test (DIR/tls/ca.crt, exported as
# DEVFLOW_TEST_TLS_CA).  PostgreSQL runs with ssl = on and MariaDB with
# ssl_cert/ssl_key/ssl_ca; neither requires TLS except for devflow_tls, so
# clear-text connections keep working for every other test.
#
# DEVFLOW_TEST_MYSQL_ARGS: extra mariadbd options (the benchmarks use it).
#
# A server that does not come up makes `start` exit 1 with the tail of its log
# on stderr (and stops the other one).  `stop` refuses a DIR that `start` did
# not create.
set -u

PG_BIN=${PG_BIN:-}
if [ -z "$PG_BIN" ]; then
	for v in 15 16 17 14 13; do
		if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
			PG_BIN=/usr/lib/postgresql/$v/bin
			break
		fi
	done
fi
MARKER=.devflow-test-servers

die() {
	echo "servers.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: servers.sh start DIR [--only pg|mysql]" >&2
	echo "       servers.sh stop DIR" >&2
	exit 2
}

now_ms() {
	date +%s%3N
}

# Run a command as the server's user when we are root.
as_user() {
	local user=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

# A TCP port on 127.0.0.1 that nothing listens on: the kernel picks one.
free_port() {
	local py
	for py in /usr/bin/python3 python3; do
		if command -v "$py" >/dev/null 2>&1; then
			"$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null && return 0
		fi
	done
	# No python: probe random high ports until a connect fails.
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

log_tail() {
	local what=$1 file=$2
	echo "servers.sh: $what did not start; last lines of $file:" >&2
	if [ -f "$file" ]; then
		tail -n 25 "$file" | sed 's/^/    /' >&2
	fi
}

# --- TLS: a CA and one server certificate ---------------------------------

tls_make() {
	local dir=$1
	mkdir -p "$dir/tls" || return 1
	# EC keys: a few milliseconds, where RSA would take a second
	if ! { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/tls/ca.key" -out "$dir/tls/ca.crt" -days 30 \
		-subj "/CN=devflow test CA" &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" \
		-subj "/CN=127.0.0.1" &&
	    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:db.remote.test\n' >"$dir/tls/ext" &&
	    openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.crt" \
		-CAkey "$dir/tls/ca.key" -CAcreateserial -out "$dir/tls/server.crt" -days 30 \
		-extfile "$dir/tls/ext"; } >"$dir/tls/openssl.log" 2>&1; then
		log_tail "TLS certificates (openssl)" "$dir/tls/openssl.log"
		return 1
	fi
	chmod 755 "$dir/tls"
	chmod 644 "$dir/tls/ca.crt" "$dir/tls/server.crt"
}

# A copy of the server key the server's user owns, 0600 (PostgreSQL insists).
tls_key_for() {
	local dir=$1 user=$2 dest=$3
	cp "$dir/tls/server.key" "$dest" && chmod 600 "$dest" || return 1
	[ "$(id -u)" = 0 ] && chown "$user": "$dest"
	return 0
}

# --- PostgreSQL ------------------------------------------------------------

pg_start() {
	local dir=$1 t0 port try
	[ -n "$PG_BIN" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)"
	t0=$(now_ms)
	mkdir -p "$dir/pg" || return 1
	[ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
	if ! as_user postgres "$PG_BIN/initdb" -D "$dir/pg/data" -A trust -U postgres \
		-E UTF8 --locale=C --no-sync >"$dir/pg/initdb.log" 2>&1; then
		log_tail "PostgreSQL (initdb)" "$dir/pg/initdb.log"
		return 1
	fi
	tls_key_for "$dir" postgres "$dir/pg/server.key" || return 1
	cat >"$dir/pg/data/pg_hba.conf" <<-'EOF'
	# devflow test server: the superuser is trusted, everyone else needs a password
	local all all                trust
	host  all postgres 127.0.0.1/32 trust
	hostssl   all devflow_tls 127.0.0.1/32 scram-sha-256
	hostnossl all devflow_tls 127.0.0.1/32 reject
	host  all all      127.0.0.1/32 scram-sha-256
	EOF
	for try in 1 2 3; do
		port=$(free_port) || { echo "servers.sh: cannot find a free port" >&2; return 1; }
		cat >"$dir/pg/data/postgresql.auto.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$dir/pg'
		max_connections = 40
		shared_buffers = 8MB
		work_mem = 1MB
		maintenance_work_mem = 8MB
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_wal_senders = 0
		wal_level = minimal
		password_encryption = 'scram-sha-256'
		log_min_messages = warning
		ssl = on
		ssl_cert_file = '$dir/tls/server.crt'
		ssl_key_file = '$dir/pg/server.key'
		ssl_ca_file = '$dir/tls/ca.crt'
		EOF
		[ "$(id -u)" = 0 ] && chown postgres: "$dir/pg/data/pg_hba.conf" "$dir/pg/data/postgresql.auto.conf"
		if as_user postgres "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" \
			-w -t 30 start >>"$dir/pg/pg_ctl.log" 2>&1; then
			break
		fi
		# Another run may have taken the port between probe and bind: retry.
		if ! grep -q "could not bind\|Address already in use" "$dir/pg/log" 2>/dev/null ||
		   [ "$try" = 3 ]; then
			log_tail "PostgreSQL" "$dir/pg/log"
			return 1
		fi
	done
	if ! as_user postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/pg" -p "$port" \
		-U postgres -d postgres >>"$dir/pg/setup.log" 2>&1 <<-'EOF'
	CREATE ROLE devflow_pw LOGIN CREATEDB PASSWORD 'secret-pw';
	CREATE ROLE devflow_noperm LOGIN PASSWORD 'secret-pw';
	CREATE ROLE devflow_tls LOGIN CREATEDB SUPERUSER PASSWORD 'secret-pw';
	EOF
	then
		log_tail "PostgreSQL (role setup)" "$dir/pg/setup.log"
		return 1
	fi
	PG_PORT=$port
	echo "servers.sh: postgres ready on 127.0.0.1:$port in $(( $(now_ms) - t0 )) ms" >&2
}

pg_stop() {
	local dir=$1
	[ -f "$dir/pg/data/postmaster.pid" ] || return 0
	as_user postgres "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		as_user postgres "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1
}

# --- MariaDB ---------------------------------------------------------------

my_start() {
	local dir=$1 t0 port try pid i
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
		die "no mariadbd (install mariadb-server)"
	t0=$(now_ms)
	mkdir -p "$dir/my/tmp" || return 1
	tls_key_for "$dir" mysql "$dir/my/server.key" || return 1
	[ "$(id -u)" = 0 ] && chown -R mysql: "$dir/my"
	if [ -z "${FIXED_PORT:-}" ] && ! as_user mysql mariadb-install-db --no-defaults --datadir="$dir/my/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--skip-name-resolve >"$dir/my/install.log" 2>&1; then
		log_tail "MariaDB (mariadb-install-db)" "$dir/my/install.log"
		return 1
	fi
	for try in 1 2 3; do
		port=${FIXED_PORT:-$(free_port)} || { echo "servers.sh: cannot find a free port" >&2; return 1; }
		: >"$dir/my/log"
		[ "$(id -u)" = 0 ] && chown mysql: "$dir/my/log"
		# setsid: the server must outlive this script, its terminal and its
		# process group.  As root, mariadbd switches to mysql by itself (no
		# runuser left behind as its parent).
		if [ "$(id -u)" = 0 ]; then
			set -- --user=mysql
		else
			set --
		fi
		setsid -w /usr/sbin/mariadbd --no-defaults "$@" \
			--datadir="$dir/my/data" --socket="$dir/my/sock" --port="$port" \
			--bind-address=127.0.0.1 --pid-file="$dir/my/pid" \
			--log-error="$dir/my/log" --tmpdir="$dir/my/tmp" \
			--skip-name-resolve --skip-log-bin --performance-schema=OFF \
			--innodb-buffer-pool-size=16M --innodb-log-file-size=16M \
			--innodb-log-buffer-size=4M --innodb-flush-log-at-trx-commit=0 \
			--innodb-doublewrite=0 --key-buffer-size=1M --max-connections=60 \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
			--ssl-cert="$dir/tls/server.crt" --ssl-key="$dir/my/server.key" \
			--ssl-ca="$dir/tls/ca.crt" \
			${DEVFLOW_TEST_MYSQL_ARGS:-} </dev/null >/dev/null 2>&1 &
		pid=$!
		for i in $(seq 1 300); do
			if mariadb-admin --no-defaults --socket="$dir/my/sock" -uroot \
				--connect-timeout=2 ping >/dev/null 2>&1; then
				break
			fi
			if ! kill -0 "$pid" 2>/dev/null; then
				pid=
				break
			fi
			sleep 0.1
		done
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && break
		if ! grep -q "Address already in use\|Can't start server: Bind" "$dir/my/log" ||
		   [ "$try" = 3 ]; then
			[ -n "$pid" ] && kill "$pid" 2>/dev/null
			log_tail "MariaDB" "$dir/my/log"
			return 1
		fi
	done
	if [ -z "${FIXED_PORT:-}" ] && ! mariadb --no-defaults --socket="$dir/my/sock" -uroot >"$dir/my/setup.log" 2>&1 <<-'EOF'
	DELETE FROM mysql.global_priv WHERE User = '';
	FLUSH PRIVILEGES;
	CREATE USER 'devflow_pw'@'%' IDENTIFIED BY 'secret-pw';
	CREATE USER 'devflow_pw'@'127.0.0.1' IDENTIFIED BY 'secret-pw';
	CREATE USER 'devflow_pw'@'localhost' IDENTIFIED BY 'secret-pw';
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'%';
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'127.0.0.1';
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_pw'@'localhost';
	CREATE USER 'devflow_noperm'@'%' IDENTIFIED BY 'secret-pw';
	CREATE USER 'devflow_noperm'@'127.0.0.1' IDENTIFIED BY 'secret-pw';
	CREATE USER 'devflow_noperm'@'localhost' IDENTIFIED BY 'secret-pw';
	CREATE USER 'devflow_tls'@'%' IDENTIFIED BY 'secret-pw' REQUIRE SSL;
	CREATE USER 'devflow_tls'@'127.0.0.1' IDENTIFIED BY 'secret-pw' REQUIRE SSL;
	CREATE USER 'devflow_tls'@'localhost' IDENTIFIED BY 'secret-pw' REQUIRE SSL;
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_tls'@'%';
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_tls'@'127.0.0.1';
	GRANT ALL PRIVILEGES ON *.* TO 'devflow_tls'@'localhost';
	EOF
	then
		log_tail "MariaDB (user setup)" "$dir/my/setup.log"
		return 1
	fi
	MY_PORT=$port
	echo "servers.sh: mariadb ready on 127.0.0.1:$port in $(( $(now_ms) - t0 )) ms" >&2
}

my_stop() {
	local dir=$1 pid i
	[ -f "$dir/my/pid" ] || return 0
	pid=$(cat "$dir/my/pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	mariadb-admin --no-defaults --socket="$dir/my/sock" -uroot shutdown >/dev/null 2>&1 ||
		kill "$pid" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

# --- commands --------------------------------------------------------------

cmd_start() {
	local dir=$1 only=$2 abs
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		die "'$dir' exists and is not empty; stop it first (servers.sh stop $dir)"
	fi
	mkdir -p "$dir" || die "cannot create '$dir'"
	abs=$(cd "$dir" && pwd) || die "cannot enter '$dir'"
	# The server users must be able to walk into DIR (mktemp -d makes 0700).
	chmod 755 "$abs"
	: >"$abs/$MARKER"
	PG_PORT= MY_PORT=
	tls_make "$abs" || exit 1
	if [ "$only" != mysql ] && ! pg_start "$abs"; then
		pg_stop "$abs"
		exit 1
	fi
	if [ "$only" != pg ] && ! my_start "$abs"; then
		my_stop "$abs"
		pg_stop "$abs"
		exit 1
	fi
	{
		echo "# written by tests/support/servers.sh; stop with: servers.sh stop $abs"
		echo "export DEVFLOW_TEST_SERVERS_DIR='$abs'"
		echo "export DEVFLOW_TEST_TLS_CA='$abs/tls/ca.crt'"
		if [ -n "$PG_PORT" ]; then
			echo "export DEVFLOW_TEST_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
			echo "export DEVFLOW_TEST_PG_PORT=$PG_PORT"
			echo "export DEVFLOW_TEST_PG_SOCKET_DIR='$abs/pg'"
		fi
		if [ -n "$MY_PORT" ]; then
			echo "export DEVFLOW_TEST_MYSQL_URL=mysql://root@127.0.0.1:$MY_PORT/mysql"
			echo "export DEVFLOW_TEST_MYSQL_PORT=$MY_PORT"
			echo "export DEVFLOW_TEST_MYSQL_SOCKET='$abs/my/sock'"
		fi
	} >"$abs/env"
}

cmd_stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	[ -f "$dir/$MARKER" ] || die "'$dir' was not made by servers.sh start; not touching it"
	pg_stop "$dir"
	my_stop "$dir"
	rm -rf "$dir"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
only=
while [ $# -gt 0 ]; do
	case $1 in
	--only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
	--only=*) only=${1#--only=}; shift ;;
	*) usage ;;
	esac
done
case $only in
'' | pg | mysql) ;;
*) usage ;;
esac
case $cmd in
start) cmd_start "$dir" "$only" ;;
stop) cmd_stop "$dir" ;;
restart)
	# restart DIR pg|mysql: the same server, data and port (for failure tests)
	[ -f "$dir/$MARKER" ] || die "'$dir' was not made by 'servers.sh start'"
	. "$dir/env"
	case $only in
	pg) as_user postgres "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -m fast -w -t 30 \
		restart >>"$dir/pg/pg_ctl.log" 2>&1 || { log_tail "PostgreSQL" "$dir/pg/log"; exit 1; } ;;
	mysql) my_stop "$dir" && FIXED_PORT=$DEVFLOW_TEST_MYSQL_PORT my_start "$dir" || exit 1 ;;
	*) die "restart wants pg or mysql" ;;
	esac ;;
*) usage ;;
esac
