#!/usr/bin/env bash
# `devflow db backup -o PATH` next to copying the database by hand:
#   - SQLite: a ~1 GiB database file, against `cp` of the same file (and, for
#     context, `cp` + `sync FILE`), to the same filesystem, page cache warm;
#   - PostgreSQL: a few hundred MB of generated rows, against running
#     `pg_dump -Fc` directly (the same pg_dump binary devflow runs).
#
# Targets (issue 16): SQLite throughput at least 0.8x that of `cp` + `sync`
# (devflow fsyncs the backup and records its SHA-256 before it reports it),
# and faster than what a user would run on a live database instead:
# `sqlite3 DB ".backup OUT"` and `VACUUM INTO`; PostgreSQL time at most 1.1x
# pg_dump's.  BACKUP_SKIP_PG=1 measures SQLite only.
#
#   BACKUP_RUNS=5 (SQLite) / BACKUP_PG_RUNS=3 timed rounds after one warm-up
#   BACKUP_PG_ROWS=3000000 rows of ~100 bytes in the PostgreSQL database
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${BACKUP_RUNS:-5}
PG_RUNS=${BACKUP_PG_RUNS:-3}
LITE_ROWS=${BACKUP_LITE_ROWS:-4450000}   # ~1 GiB with 4 KiB pages
PG_ROWS=${BACKUP_PG_ROWS:-3000000}
LITE_TARGET=0.8
PG_TARGET=1.1
W_LITE="db backup, SQLite ~1 GiB file: throughput vs cp + sync (median)"
W_LITE_B="db backup, SQLite ~1 GiB file: vs sqlite3 .backup (median)"
W_LITE_V="db backup, SQLite ~1 GiB file: vs VACUUM INTO (median)"
W_PG="db backup, PostgreSQL: wall time (median)"
T_LITE="≥ ${LITE_TARGET}× cp + sync's throughput"
T_FASTER="≥ 1× (faster)"
T_PG="devflow ≤ ${PG_TARGET}× pg_dump"

fail() {
	say "error: $*"
	result "$W_LITE" "-" "-" "-" "$T_LITE" error
	result "$W_LITE_B" "-" "-" "-" "$T_FASTER" error
	result "$W_LITE_V" "-" "-" "-" "$T_FASTER" error
	[ "${BACKUP_SKIP_PG:-0}" = 1 ] || result "$W_PG" "-" "-" "-" "$T_PG" error
	note "b_backup: $*"
	exit 1
}

[ -x "$DEVFLOW" ] || fail "no devflow binary at $DEVFLOW (run make first)"
apt_need sqlite3 || fail "sqlite3 is missing and cannot be installed"
apt_need postgresql-client || fail "postgresql-client is missing and cannot be installed"

# a folder of its own (another run may be going on); kept, without the big
# files, when the benchmark fails, for its logs
dir=$(mktemp -d "$BENCH_WORK/backup.XXXXXX") || fail "cannot create a folder under $BENCH_WORK"
srv=
cleanup() {
	local rc=$?
	[ -n "$srv" ] && { "$ROOT/tests/support/servers.sh" stop "$srv" >/dev/null 2>&1 || true; rm -rf "$srv"; }
	rm -rf "$dir/source.db" "$dir/out"
	[ "$rc" -eq 0 ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$dir/project" "$dir/out" || fail "cannot create $dir"
cp "$DEVFLOW" "$dir/devflow" || fail "cannot copy $DEVFLOW"
DEVFLOW=$dir/devflow
ms_since() { awk -v a="${1/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f\n", (b - a) / 1000 }'; }
median_sd() { # file tool -> "median sd" (ms)
	awk -v t="$2" '$1 == t { print $2 }' "$1" | sort -n |
	awk '{ v[NR] = $1; s += $1; q += $1 * $1 }
	END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	      mean = s / NR; sd = q / NR - mean * mean; sd = sd > 0 ? sqrt(sd) : 0
	      printf "%.0f %.0f\n", m, sd }'
}

# ---- SQLite --------------------------------------------------------------------------------
db=$dir/source.db
say "generating a SQLite database of $LITE_ROWS rows (~1 GiB)"
sqlite3 "$db" "PRAGMA page_size = 4096; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
	CREATE TABLE t (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, payload TEXT NOT NULL);
	WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $LITE_ROWS)
	INSERT INTO t SELECT x, x % 9973, hex(randomblob(112)) FROM c;
	PRAGMA journal_mode = DELETE;" >/dev/null || fail "cannot generate the SQLite database"
# devflow writes its audit row into the database: do it once before timing,
# so every timed run copies the same file size
"$DEVFLOW" -C "$dir/project" -q --url "sqlite:$db" db backup -o "$dir/out/first.sqlite3" >/dev/null 2>"$dir/devflow.err" ||
	fail "devflow db backup failed on SQLite (see $dir/devflow.err)"
cmp -s <(sqlite3 "$db" 'SELECT count(*), sum(account_id) FROM t') \
	<(sqlite3 "$dir/out/first.sqlite3" 'SELECT count(*), sum(account_id) FROM t') ||
	fail "devflow's SQLite backup does not hold the same rows"
rm -f "$dir/out/first.sqlite3"
bytes=$(stat -c %s "$db")

wait_quiet
load_before=$(load1)
tools=(cp devflow cp+sync sqlite3-backup vacuum-into)
: >"$dir/lite.txt"
for ((r = 0; r <= RUNS; r++)); do
	for ((k = 0; k < ${#tools[@]}; k++)); do
		t=${tools[$(((k + r) % ${#tools[@]}))]}
		rm -f "$dir"/out/*
		sync                                # nothing dirty left from the last run
		cat "$db" >/dev/null                # the source in the page cache
		out=$dir/out/backup.sqlite3
		t0=$EPOCHREALTIME
		case $t in
		cp) cp "$db" "$out" ;;
		cp+sync) cp "$db" "$out" && sync "$out" ;;
		devflow) "$DEVFLOW" -C "$dir/project" -q --url "sqlite:$db" db backup -o "$out" >/dev/null 2>"$dir/devflow.err" ;;
		sqlite3-backup) sqlite3 "$db" ".backup '$out'" ;;
		vacuum-into) sqlite3 "$db" "VACUUM INTO '$out'" ;;
		esac || fail "$t failed (round $r)"
		ms=$(ms_since "$t0")
		[ "$(stat -c %s "$out")" -ge $((bytes - 65536)) ] || fail "$t wrote $(stat -c %s "$out") bytes, not ~$bytes"
		[ "$r" -gt 0 ] && echo "$t $ms" >>"$dir/lite.txt"
		say "SQLite round $r$([ "$r" -eq 0 ] && echo ' (warm-up)'): $t $ms ms (load $(load1))"
	done
done
rm -f "$dir"/out/*; sync
load_lite=$(load1)
read -r df_ms df_sd < <(median_sd "$dir/lite.txt" devflow)
read -r cp_ms cp_sd < <(median_sd "$dir/lite.txt" cp)
read -r cs_ms cs_sd < <(median_sd "$dir/lite.txt" cp+sync)
read -r sb_ms sb_sd < <(median_sd "$dir/lite.txt" sqlite3-backup)
read -r vi_ms vi_sd < <(median_sd "$dir/lite.txt" vacuum-into)
mbs() { awk -v b="$bytes" -v ms="$1" 'BEGIN { printf "%.0f MB/s", b / 1e6 / (ms / 1000) }'; }
ratio=$(awk -v a="$cp_ms" -v b="$df_ms" 'BEGIN { printf "%.2f", a / b }')
ratio_s=$(awk -v a="$cs_ms" -v b="$df_ms" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio_s" -v t="$LITE_TARGET" 'BEGIN { print (r >= t) ? "yes" : "no" }')
result "$W_LITE" "$(mbs "$df_ms") ($df_ms ms ± $df_sd, fsyncs, SHA-256)" \
	"cp $(cp --version | awk 'NR == 1 { print $NF }') + sync: $(mbs "$cs_ms") ($cs_ms ms ± $cs_sd); cp alone: $(mbs "$cp_ms") ($cp_ms ms ± $cp_sd, no fsync)" \
	"${ratio_s}× (vs cp alone ${ratio}×)" "$T_LITE" "$met"
sqlite_v=$(sqlite3 --version | awk '{ print $1 }')
for peer in "sqlite3-backup|$sb_ms|$sb_sd|$W_LITE_B|sqlite3 $sqlite_v \".backup OUT\"" \
	    "vacuum-into|$vi_ms|$vi_sd|$W_LITE_V|sqlite3 $sqlite_v VACUUM INTO"; do
	IFS='|' read -r _ p_ms p_sd work label <<<"$peer"
	r_p=$(awk -v a="$p_ms" -v b="$df_ms" 'BEGIN { printf "%.2f", a / b }')
	met=$(awk -v r="$r_p" 'BEGIN { print (r >= 1) ? "yes" : "no" }')
	result "$work" "$df_ms ms ± $df_sd" "$label: $p_ms ms ± $p_sd ($(mbs "$p_ms"))" "${r_p}×" "$T_FASTER" "$met"
done
lite_note="SQLite: a $bytes-byte database ($LITE_ROWS rows), \`devflow -q --url sqlite:DB db backup -o OUT\` (copy_file_range in 64 MiB steps, each handed to writeback at once with sync_file_range, while a second thread SHA-256s the mapped source; then fsync and rename) against \`cp DB OUT\` (no fsync), \`cp DB OUT && sync OUT\`, \`sqlite3 DB \".backup OUT\"\` and \`sqlite3 DB \"VACUUM INTO 'OUT'\"\`, all on the same ext4 filesystem; before each run the outputs are removed, \`sync\`, and the source read once (warm page cache); medians of $RUNS rounds after 1 warm-up, order rotating. Ratio = peer time / devflow time (= devflow throughput / the peer's)."
rm -f "$db"
if [ "${BACKUP_SKIP_PG:-0}" = 1 ]; then
	note "b_backup: $lite_note Load average $load_before before, $load_lite after, on $(nproc) shared cores. PostgreSQL not measured (BACKUP_SKIP_PG=1)."
	exit 0
fi

# ---- PostgreSQL ------------------------------------------------------------------------------
srv=$(mktemp -d /tmp/devflow-b_backup.XXXXXX) || fail "mktemp failed"
"$ROOT/tests/support/servers.sh" start "$srv" --only pg || fail "the PostgreSQL server did not start"
. "$srv/env"
pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres "$@"; }
say "generating $PG_ROWS rows in PostgreSQL"
pg -d postgres -c 'CREATE DATABASE bench_backup' >/dev/null || fail "cannot create the database"
pg -d bench_backup -c "CREATE TABLE t AS SELECT g AS id, g % 9973 AS account_id,
		md5(g::text) || md5((g * 7)::text) AS payload, now() - g * interval '1 second' AS created_at
		FROM generate_series(1, $PG_ROWS) g" \
	-c 'ALTER TABLE t ADD PRIMARY KEY (id)' -c 'VACUUM ANALYZE t' -c 'CHECKPOINT' >/dev/null ||
	fail "cannot fill the PostgreSQL database"
pg_size=$(pg -d bench_backup -At -c "SELECT pg_size_pretty(pg_database_size('bench_backup'))")
major=$(pg -d postgres -At -c 'SHOW server_version_num' | cut -c1-2)
PG_DUMP=/usr/lib/postgresql/$major/bin/pg_dump
[ -x "$PG_DUMP" ] || PG_DUMP=$(command -v pg_dump)
url="postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/bench_backup"
tools=(pg_dump devflow)
: >"$dir/pg.txt"
for ((r = 0; r <= PG_RUNS; r++)); do
	for ((k = 0; k < ${#tools[@]}; k++)); do
		t=${tools[$(((k + r) % ${#tools[@]}))]}
		rm -f "$dir"/out/*; sync
		out=$dir/out/backup.dump
		t0=$EPOCHREALTIME
		case $t in
		pg_dump) "$PG_DUMP" -Fc -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres -d bench_backup -f "$out" 2>"$dir/pg_dump.err" ;;
		devflow) "$DEVFLOW" -C "$dir/project" -q --url "$url" db backup -o "$out" >/dev/null 2>"$dir/devflow.err" ;;
		esac || fail "$t failed (round $r; see $dir/$t.err)"
		ms=$(ms_since "$t0")
		[ "$r" -gt 0 ] && echo "$t $ms $(stat -c %s "$out")" >>"$dir/pg.txt"
		say "PostgreSQL round $r$([ "$r" -eq 0 ] && echo ' (warm-up)'): $t $ms ms, $(stat -c %s "$out") bytes (load $(load1))"
	done
done
load_after=$(load1)
read -r pdf_ms pdf_sd < <(median_sd "$dir/pg.txt" devflow)
read -r pd_ms pd_sd < <(median_sd "$dir/pg.txt" pg_dump)
dump_mb=$(awk '$1 == "pg_dump" { s = $3 } END { printf "%.0f", s / 1e6 }' "$dir/pg.txt")
df_pd=$(awk -v a="$pdf_ms" -v b="$pd_ms" 'BEGIN { printf "%.3f", a / b }')
ratio=$(awk -v a="$pd_ms" -v b="$pdf_ms" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$df_pd" -v t="$PG_TARGET" 'BEGIN { print (r <= t) ? "yes" : "no" }')
result "$W_PG" "$pdf_ms ms ± $pdf_sd" "pg_dump $("$PG_DUMP" --version | awk '{ print $3 }') -Fc: $pd_ms ms ± $pd_sd" \
	"${ratio}× (devflow/pg_dump ${df_pd})" "$T_PG" "$met"
note "b_backup: $lite_note PostgreSQL: a $pg_size database ($PG_ROWS rows of ~100 bytes and a primary key; dump ~$dump_mb MB) on a throwaway local server, \`devflow -q --url URL db backup -o OUT\` (runs pg_dump --format=custom, streams its output to the file, fsyncs) against \`$PG_DUMP -Fc -f OUT\` (which fsyncs too); medians of $PG_RUNS rounds after 1 warm-up, alternating. Load average $load_before before, $load_lite after SQLite, $load_after at the end, on $(nproc) shared cores."
exit 0
