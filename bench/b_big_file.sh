#!/usr/bin/env bash
# `devflow db migrate` of ONE 1 GiB migration file (a CREATE TABLE and ~6.4
# million generated rows in multi-row INSERTs of 500 rows), on SQLite and on
# PostgreSQL, next to the engine's own client fed the same SQL.
#
# Target (issue): devflow's peak RSS under 64 MiB (GNU time, "Maximum resident
# set size"): the file is streamed statement by statement, never loaded whole.
# The target is memory; the wall time is printed for information.
#
#   BIG_MIB=1024    size of the file
#   BIG_PG=0        skip the PostgreSQL half (it adds ~1.5 min: ~40 s each for
#                   devflow and psql); it runs by default
#   BIG_KEEP=1      keep the generated file and the SQLite databases
set -uo pipefail
. "$(dirname "$0")/lib.sh"

MIB=${BIG_MIB:-1024}
PER=500
RSS_TARGET_MIB=64
T_RSS="devflow ≤ ${RSS_TARGET_MIB} MiB"
size=$([ "$MIB" -eq 1024 ] && echo "1 GiB" || echo "$MIB MiB")
W_LITE="one $size migration file, SQLite: peak RSS (wall time)"
W_PG="one $size migration file, PostgreSQL: peak RSS (wall time)"

fail() {
	say "error: $*"
	result "$W_LITE" "-" "-" "-" "$T_RSS" error
	[ "${BIG_PG:-1}" != 0 ] && result "$W_PG" "-" "-" "-" "$T_RSS" error
	note "b_big_file: $*"
	exit 1
}

[ -x "$DEVFLOW" ] || fail "no devflow binary at $DEVFLOW (run make first)"
apt_need time || fail "GNU time (/usr/bin/time) is missing and cannot be installed"
apt_need sqlite3 || fail "sqlite3 is missing and cannot be installed"
[ "${BIG_PG:-1}" != 0 ] && { apt_need postgresql-client || fail "postgresql-client cannot be installed"; }

# a folder of its own (another run may be going on); kept, without the big
# files, when the benchmark fails, for its logs
dir=$(mktemp -d "$BENCH_WORK/big_file.XXXXXX") || fail "cannot create a folder under $BENCH_WORK"
srv=
cleanup() {
	local rc=$?
	[ -n "$srv" ] && { "$ROOT/tests/support/servers.sh" stop "$srv" >/dev/null 2>&1 || true; rm -rf "$srv"; }
	[ "${BIG_KEEP:-0}" = 1 ] && return
	rm -rf "$dir/project" "$dir"/*.db
	[ "$rc" -eq 0 ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$dir/project/migrations" || fail "cannot create $dir"
cp "$DEVFLOW" "$dir/devflow" || fail "cannot copy $DEVFLOW"
DEVFLOW=$dir/devflow
mig=$dir/project/migrations/20240101000000_big_rows.sql
say "generating a $MIB MiB migration file"
rows=$("$BENCH_DIR/tools/b_big_file_gen.sh" "$MIB" "$PER" "$mig" 2>&1) || fail "cannot generate the file"
bytes=$(stat -c %s "$mig")
stmts=$(( (rows + PER - 1) / PER ))
# the peers get the UP section alone (the file ends with "-- DOWN" and a DROP TABLE)
up_only() { head -n -2 "$mig"; }

# measure NAME CMD...: one run under GNU time; sets rss_kib and secs
measure() {
	local f=$dir/time-$1.txt; shift
	/usr/bin/time -v -o "$f" "$@" >/dev/null 2>"$f.err" || { say "failed: $*"; head -c 600 "$f.err" >&2; return 1; }
	rss_kib=$(awk -F: '/Maximum resident set size/ { gsub(/[ \t]/, "", $2); print $2 }' "$f")
	secs=$(awk '/Elapsed \(wall clock\)/ { n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$f")
}
row() { # work devflow_kib devflow_s peer_name peer_kib peer_s
	local met ratio
	met=$(awk -v k="$2" -v t="$RSS_TARGET_MIB" 'BEGIN { print (k <= t * 1024) ? "yes" : "no" }')
	ratio=$(awk -v a="$5" -v b="$2" 'BEGIN { printf "%.1f×", a / b }')
	result "$1" "$(mib "$2") ($3 s)" "$4: $(mib "$5") ($6 s)" "$ratio" "$T_RSS" "$met"
}

wait_quiet
load_before=$(load1)

# ---- SQLite ---------------------------------------------------------------------------
say "SQLite: devflow"
measure df-lite "$DEVFLOW" -C "$dir/project" -q db migrate --url "sqlite:$dir/devflow.db" ||
	fail "devflow db migrate failed on SQLite (see $dir/time-df-lite.txt.err)"
df_kib=$rss_kib df_s=$secs
got=$(sqlite3 "$dir/devflow.db" 'SELECT count(*) FROM big_rows') 
[ "$got" = "$rows" ] || fail "devflow left $got rows in SQLite, not $rows"
rm -f "$dir/devflow.db"
say "SQLite: devflow $(mib "$df_kib"), $df_s s; now the sqlite3 CLI"
lite() { { echo 'BEGIN;'; up_only; echo 'COMMIT;'; } | sqlite3 -bail "$dir/sqlite3.db"; }
measure sq-lite bash -c "$(declare -f up_only lite); mig='$mig' dir='$dir'; lite" ||
	fail "sqlite3 failed (see $dir/time-sq-lite.txt.err)"
sq_kib=$rss_kib sq_s=$secs
got=$(sqlite3 "$dir/sqlite3.db" 'SELECT count(*) FROM big_rows')
[ "$got" = "$rows" ] || fail "sqlite3 left $got rows, not $rows"
rm -f "$dir/sqlite3.db"
row "$W_LITE" "$df_kib" "$df_s" "sqlite3 $(sqlite3 --version | cut -d' ' -f1) CLI (BEGIN … COMMIT, piped)" "$sq_kib" "$sq_s"
load_mid=$(load1)

# ---- PostgreSQL -------------------------------------------------------------------------
if [ "${BIG_PG:-1}" != 0 ]; then
	srv=$(mktemp -d /tmp/devflow-b_big_file.XXXXXX) || fail "mktemp failed"
	"$ROOT/tests/support/servers.sh" start "$srv" --only pg || fail "the PostgreSQL server did not start"
	. "$srv/env"
	pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres "$@"; }
	pg -d postgres -c 'CREATE DATABASE big_devflow' -c 'CREATE DATABASE big_psql' >/dev/null ||
		fail "cannot create the databases"
	say "PostgreSQL: devflow"
	measure df-pg "$DEVFLOW" -C "$dir/project" -q db migrate \
		--url "postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/big_devflow" ||
		fail "devflow db migrate failed on PostgreSQL (see $dir/time-df-pg.txt.err)"
	pdf_kib=$rss_kib pdf_s=$secs
	got=$(pg -d big_devflow -At -c 'SELECT count(*) FROM big_rows')
	[ "$got" = "$rows" ] || fail "devflow left $got rows in PostgreSQL, not $rows"
	pg -d postgres -c 'DROP DATABASE big_devflow' -c 'CHECKPOINT' >/dev/null
	say "PostgreSQL: devflow $(mib "$pdf_kib"), $pdf_s s; now psql"
	measure ps-pg bash -c "$(declare -f up_only); mig='$mig'; up_only | psql -X -q -v ON_ERROR_STOP=1 -1 \
		-h 127.0.0.1 -p $DEVFLOW_TEST_PG_PORT -U postgres -d big_psql -f -" ||
		fail "psql failed (see $dir/time-ps-pg.txt.err)"
	ps_kib=$rss_kib ps_s=$secs
	got=$(pg -d big_psql -At -c 'SELECT count(*) FROM big_rows')
	[ "$got" = "$rows" ] || fail "psql left $got rows, not $rows"
	row "$W_PG" "$pdf_kib" "$pdf_s" "psql $(psql --version | awk '{ print $3 }') (-1 -f -, piped)" "$ps_kib" "$ps_s"
	pgnote="; PostgreSQL: a throwaway local server (tests/support/servers.sh, fsync off), a fresh database each"
else
	result "$W_PG" "-" "not run (BIG_PG=0)" "-" "$T_RSS" skipped
	pgnote="; PostgreSQL skipped (BIG_PG=0)"
fi
load_after=$(load1)
note "b_big_file: one devflow migration file of $bytes bytes: CREATE TABLE then $rows rows in $stmts INSERTs of $PER rows (bench/tools/b_big_file_gen.sh), applied with \`devflow -q db migrate --url URL\` (one transaction); peak RSS is GNU time's \"Maximum resident set size\" of one run, wall time from the same run (not the target). Peers get the UP section alone through a pipe (their RSS: the largest process of the pipeline, the client)$pgnote. Every run checked to leave $rows rows. Load average $load_before before, ${load_mid} after SQLite, $load_after at the end, on $(nproc) shared cores."
exit 0
