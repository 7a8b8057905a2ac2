#!/usr/bin/env bash
# `devflow db migrate` of 1,000 small migrations (a CREATE TABLE and a CREATE
# INDEX each) into a fresh PostgreSQL database, next to the floor -- the same
# SQL with BEGIN / INSERT of the tracking row / COMMIT around each migration,
# fed from a file to ONE psql session -- and next to `dbmate up`.
#
# Targets (issue): devflow at most 1.05x the floor's time; never slower than
# dbmate.  APPLY_N (1000) migrations, APPLY_RUNS (9) timed rounds after one
# warm-up.  The method is in bench/tools/b_apply_common.sh.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ENGINE=pg
ENGINE_NAME=PostgreSQL
FLOOR_NAME=psql
FLOOR_CMD="psql -X -q -v ON_ERROR_STOP=1 -f FILE"
ENGINE_EXTRA="tests/support/servers.sh: fsync and synchronous_commit off"

apt_need postgresql-client || { echo "RESULT|apply, PostgreSQL|-|postgresql-client missing|-|-|error"; exit 1; }

eng_start() { "$ROOT/tests/support/servers.sh" start "$1" --only pg; }
eng_psql() { # db, then psql arguments
	local db=$1; shift
	psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres -d "$db" "$@"
}
eng_reset() {
	eng_psql postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" \
		-c "CHECKPOINT" >/dev/null 2>&1
}
eng_floor() { eng_psql "$1" -f "$dir/floor.sql"; }
eng_url() { echo "postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/$1"; }
eng_dbmate_url() { echo "postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/$1?sslmode=disable"; }
eng_count() {
	eng_psql "$1" -At -F' ' -c "SELECT
		(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\\_%' AND tablename <> 'schema_migrations'),
		(SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx\\_%'),
		(SELECT count(*) FROM $2)" 2>/dev/null
}
eng_client_version() { psql --version | awk '{ print $3 }'; }
eng_server_pid() { head -n 1 "$srv/pg/data/postmaster.pid" 2>/dev/null; }

. "$BENCH_DIR/tools/b_apply_common.sh"
