#!/usr/bin/env bash
# `devflow db migrate` of 1,000 small migrations (a CREATE TABLE and a CREATE
# INDEX each) into a fresh MariaDB database, next to the floor -- the same SQL
# with BEGIN / INSERT of the tracking row / COMMIT around each migration, fed
# from a file to ONE `mariadb` client session -- and next to `dbmate up`.
#
# Targets (issue): devflow at most 1.05x the floor's time; never slower than
# dbmate.  APPLY_N (1000) migrations, APPLY_RUNS (9) timed rounds after one
# warm-up.  The method is in bench/tools/b_apply_common.sh.
#
# The server runs under libeatmydata (fsync a no-op) when it is installable:
# MariaDB fsyncs ~20 times per CREATE TABLE / CREATE INDEX, which on this disk
# makes every tool ~7x slower and drowns the clients' differences in disk
# latency (and makes a round take minutes).  The test servers are
# non-durable anyway (innodb_flush_log_at_trx_commit=0, no doublewrite).
# innodb_flush_method=fsync: MariaDB's default, O_DIRECT, sends every page
# and log write to the disk whatever fsync does, and on this shared disk
# that made rounds vary by 2-3x; through the page cache they do not.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ENGINE=mysql
ENGINE_NAME=MariaDB
FLOOR_NAME=mariadb
FLOOR_CMD="mariadb --no-defaults -h127.0.0.1 -P PORT -uroot DB < FILE"
APPLY_DEFAULT_RUNS=9     # ~10 s a round on tmpfs (with the settling); rounds vary, so many

apt_need mariadb-client || { echo "RESULT|apply, MariaDB|-|mariadb-client missing|-|-|error"; exit 1; }
PRELOAD=
if apt_need eatmydata && ls /usr/lib/*/libeatmydata.so >/dev/null 2>&1; then
	PRELOAD=libeatmydata.so
	ENGINE_EXTRA="tests/support/servers.sh, server under libeatmydata: fsync a no-op; innodb_flush_method=fsync"
else
	ENGINE_EXTRA="tests/support/servers.sh; libeatmydata not available, fsyncs reach the disk"
fi

eng_start() {
	if [ -n "$PRELOAD" ]; then
		DEVFLOW_TEST_MYSQL_ARGS=--innodb-flush-method=fsync LD_PRELOAD=$PRELOAD \
			"$ROOT/tests/support/servers.sh" start "$1" --only mysql
	else
		"$ROOT/tests/support/servers.sh" start "$1" --only mysql
	fi
}
eng_my() { # db, then client arguments
	local db=$1; shift
	mariadb --no-defaults -h127.0.0.1 -P "$DEVFLOW_TEST_MYSQL_PORT" -uroot "$db" "$@"
}
eng_reset() { eng_my mysql -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1" >/dev/null 2>&1; }
eng_floor() { eng_my "$1" <"$dir/floor.sql"; }
eng_url() { echo "mysql://root@127.0.0.1:$DEVFLOW_TEST_MYSQL_PORT/$1"; }
eng_dbmate_url() { echo "mysql://root@127.0.0.1:$DEVFLOW_TEST_MYSQL_PORT/$1"; }
eng_count() {
	eng_my "$1" -N -B -e "SELECT
		(SELECT count(*) FROM information_schema.tables WHERE table_schema = '$1' AND table_name NOT LIKE '\\_%' AND table_name <> 'schema_migrations'),
		(SELECT count(DISTINCT index_name, table_name) FROM information_schema.statistics WHERE table_schema = '$1' AND index_name LIKE 'idx\\_%'),
		(SELECT count(*) FROM $2)" 2>/dev/null | tr '\t' ' '
}
eng_client_version() { mariadb --version | sed -n 's/.*Distrib \([^,-]*\).*/\1/p'; }

. "$BENCH_DIR/tools/b_apply_common.sh"
