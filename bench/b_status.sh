#!/usr/bin/env bash
# `devflow db status` over 10,000 applied migrations, next to `dbmate status`
# over the same files and the same SQLite database.
#
# Targets (issue): devflow at least 5x faster than dbmate, although devflow
# reads and checksums (SHA-256) every file and dbmate only lists the folder;
# devflow's peak RSS under 16 MiB.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${STATUS_N:-10000}
SPEED_TARGET=5          # dbmate time / devflow time, at least
RSS_TARGET_MIB=16       # devflow peak RSS, at most
W_TIME="db status, $N applied: wall time (median)"
W_RSS="db status, $N applied: peak RSS"
T_TIME="≥ ${SPEED_TARGET}×"
T_RSS="devflow ≤ ${RSS_TARGET_MIB} MiB"

fail() { # message: the benchmark cannot run
	say "error: $*"
	result "$W_TIME" "-" "-" "-" "$T_TIME" error
	result "$W_RSS" "-" "-" "-" "$T_RSS" error
	note "b_status: $*"
	exit 1
}

[ -x "$DEVFLOW" ] || fail "no devflow binary at $DEVFLOW (run make first)"
apt_need sqlite3 || fail "sqlite3 (the setup's client) is missing and cannot be installed"
apt_need hyperfine || say "hyperfine cannot be installed: timing with a shell loop"
apt_need time || say "GNU time cannot be installed: no peak RSS"

# ---- the peer --------------------------------------------------------------------
DBMATE=
if npm_need dbmate; then
	# The npm package is a node wrapper that spawns a native Go binary; time
	# the binary itself so node's start-up is not counted against dbmate.
	DBMATE=$(find "$BENCH_WORK/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n1)
	[ -n "$DBMATE" ] && [ -x "$DBMATE" ] || DBMATE=$BENCH_WORK/node_modules/.bin/dbmate
	"$DBMATE" --version >/dev/null 2>&1 || DBMATE=
fi
[ -n "$DBMATE" ] || say "dbmate could not be installed (npm): devflow is measured alone"

# ---- setup: N dbmate-format files, both ledgers filled ------------------------------
dir=$BENCH_WORK/status
proj=$dir/project
db=$dir/bench.db
export DATABASE_URL="sqlite:$db"
rm -rf "$dir"
mkdir -p "$proj/migrations"
# a private copy: a rebuild of build/devflow during the run must not change it
cp "$DEVFLOW" "$dir/devflow" || fail "cannot copy $DEVFLOW"
DEVFLOW=$dir/devflow
say "generating $N migrations in dbmate's format"
awk -v n="$N" -v out="$proj/migrations" 'BEGIN {
	split("users orders invoices products payments accounts sessions events " \
	      "shipments coupons reviews carts addresses refunds tickets teams", ent, " ")
	for (i = 1; i <= n; i++) {
		t = i * 60                                   # one minute apart
		d = int(t / 86400); mo = 1 + int(d / 28); dd = 1 + d % 28
		v = sprintf("2024%02d%02d%02d%02d%02d", mo, dd, int(t % 86400 / 3600), int(t % 3600 / 60), t % 60)
		tb = sprintf("%s_%05d", ent[1 + i % 16], i)
		f = sprintf("%s/%s_create_%s.sql", out, v, tb)
		printf "-- migrate:up\n" > f
		printf "CREATE TABLE %s (\n", tb > f
		printf "  id INTEGER PRIMARY KEY,\n" > f
		printf "  account_id INTEGER NOT NULL,\n" > f
		printf "  name VARCHAR(255) NOT NULL,\n" > f
		printf "  status VARCHAR(32) NOT NULL DEFAULT '\''active'\'',\n" > f
		printf "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n" > f
		printf ");\n" > f
		printf "CREATE INDEX idx_%s_account_id ON %s (account_id);\n\n", tb, tb > f
		printf "-- migrate:down\n" > f
		printf "DROP INDEX idx_%s_account_id;\n", tb > f
		printf "DROP TABLE %s;\n", tb > f
		close(f)
	}
}' || fail "cannot generate the migration files"

say "recording all $N as applied for both tools"
# devflow's checksum: SHA-256 of the bytes with CRLF/CR as LF and no BOM; these
# files are LF without a BOM, so it is sha256sum of the file.  The tables are
# created with the DDL devflow and dbmate use themselves (src/core/ledger.c;
# dbmate's sqlite driver).
(cd "$proj/migrations" && find . -maxdepth 1 -name '*.sql' -printf '%f\n' | sort | xargs sha256sum --) |
awk -v who="bench@$(hostname)" 'BEGIN {
	print "CREATE TABLE _migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, filename TEXT NOT NULL UNIQUE, " \
	      "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, version TEXT, checksum TEXT, " \
	      "duration_ms INTEGER, applied_by TEXT, state TEXT, statements_done INTEGER, error TEXT);"
	print "CREATE TABLE _migrations_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, " \
	      "at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, op TEXT NOT NULL, env TEXT, target TEXT, " \
	      "os_user TEXT, host TEXT, result TEXT, summary TEXT, receipt TEXT, server TEXT, detail TEXT);"
	print "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) primary key);"
	print "BEGIN;"
}
{
	f = $2; sub(/^\*/, "", f); v = substr(f, 1, 14)
	printf "INSERT INTO _migrations (filename, applied_at, version, checksum, duration_ms, applied_by, state, statements_done) " \
	       "VALUES ('\''%s'\'', '\''2024-06-01 12:00:00'\'', '\''%s'\'', '\''%s'\'', 3, '\''%s'\'', '\''applied'\'', 2);\n", f, v, $1, who
	printf "INSERT INTO schema_migrations (version) VALUES ('\''%s'\'');\n", v
}
END { print "COMMIT;" }' | sqlite3 "$db" || fail "cannot fill the tracking tables"

# ---- both tools must see N applied, 0 pending, before anything is timed --------
say "checking what each tool reports"
json=$(cd "$proj" && "$DEVFLOW" --json db status 2>"$dir/devflow.err" | tr -d ' \n\t')
st=${PIPESTATUS[0]}
# (here-strings, not pipes: grep -q closing a pipe early trips pipefail)
got() { grep -o "\"$1\":[0-9]*" <<<"$json" | head -n1 | cut -d: -f2; }
if [ "$(got total)" != "$N" ] || [ "$(got applied)" != "$N" ] || [ "$(got pending)" != 0 ] ||
   ! grep -q '"problems":\[\]' <<<"$json" || grep -q '"checksum_ok":false' <<<"$json"; then
	say "devflow db status (exit $st): total=$(got total) applied=$(got applied) pending=$(got pending)"
	head -c 600 "$dir/devflow.err" >&2
	fail "devflow does not report $N applied, 0 pending, no problems (see bench/.work/status)"
fi
say "devflow: $N applied, 0 pending, every checksum matches"
if [ -n "$DBMATE" ]; then
	out=$(cd "$dir" && "$DBMATE" --migrations-dir "$proj/migrations" status 2>&1)
	if ! grep -qx "Applied: $N" <<<"$out" || ! grep -qx 'Pending: 0' <<<"$out"; then
		tail -n 5 <<<"$out" >&2
		fail "dbmate does not report $N applied, 0 pending"
	fi
	say "dbmate: $N applied, 0 pending"
fi

# ---- the floor: open + read + SHA-256 of every file and nothing else -------------
FLOOR=$BENCH_WORK/readhash
cc -O2 -o "$FLOOR" "$BENCH_DIR/tools/readhash.c" -lcrypto -lpthread 2>"$dir/readhash.err" ||
	{ say "cannot build bench/tools/readhash.c (cc, libssl-dev): no floor"; FLOOR=; }

# ---- time -----------------------------------------------------------------------
wait_quiet
load_before=$(load1)
cd "$dir" || fail "cannot enter $dir"
cmds=(devflow "$DEVFLOW -C $proj db status")
[ -n "$DBMATE" ] && cmds+=(dbmate "$DBMATE --migrations-dir $proj/migrations status")
[ -n "$FLOOR" ] && cmds+=(floor-1 "$FLOOR $proj/migrations 1" floor-2 "$FLOOR $proj/migrations 2")
time_cmds "$dir/times.txt" "${cmds[@]}" || fail "a timed command failed"
load_after=$(load1)
df_ms=$(awk '$1 == "devflow" { print $2 }' "$dir/times.txt")
dm_ms=$(awk '$1 == "dbmate" { print $2 }' "$dir/times.txt")
df_sd=$(awk '$1 == "devflow" { print $4 }' "$dir/times.txt")
dm_sd=$(awk '$1 == "dbmate" { print $4 }' "$dir/times.txt")

# ---- peak memory ------------------------------------------------------------------
df_kib=$(peak_rss_kib "$DEVFLOW" -C "$proj" db status) || df_kib=
dm_kib=
[ -n "$DBMATE" ] && { dm_kib=$(peak_rss_kib "$DBMATE" --migrations-dir "$proj/migrations" status) || dm_kib=; }

# ---- results ----------------------------------------------------------------------
dbmate_v=$([ -n "$DBMATE" ] && "$DBMATE" --version 2>/dev/null | awk '{ print $NF }')
if [ -n "$DBMATE" ]; then
	ratio=$(awk -v a="$dm_ms" -v b="$df_ms" 'BEGIN { printf "%.1f", a / b }')
	met=$(awk -v r="$ratio" -v t="$SPEED_TARGET" 'BEGIN { print (r >= t) ? "yes" : "no" }')
	result "$W_TIME" "$df_ms ms ± $df_sd" "dbmate $dbmate_v: $dm_ms ms ± $dm_sd" "${ratio}×" "$T_TIME" "$met"
else
	result "$W_TIME" "$df_ms ms ± $df_sd" "dbmate: not installed (npm failed)" "-" "$T_TIME" skipped
fi
if [ -n "$df_kib" ]; then
	met=$(awk -v k="$df_kib" -v t="$RSS_TARGET_MIB" 'BEGIN { print (k <= t * 1024) ? "yes" : "no" }')
	if [ -n "$dm_kib" ]; then
		ratio=$(awk -v a="$dm_kib" -v b="$df_kib" 'BEGIN { printf "%.1f×", a / b }')
		result "$W_RSS" "$(mib "$df_kib")" "dbmate $dbmate_v: $(mib "$dm_kib")" "$ratio" "$T_RSS" "$met"
	else
		result "$W_RSS" "$(mib "$df_kib")" "dbmate: not measured" "-" "$T_RSS" "$met"
	fi
else
	result "$W_RSS" "-" "GNU time (/usr/bin/time) not available" "-" "$T_RSS" error
fi
if [ -n "$FLOOR" ]; then
	f1=$(awk '$1 == "floor-1" { print $2 }' "$dir/times.txt")
	f2=$(awk '$1 == "floor-2" { print $2 }' "$dir/times.txt")
	best=
	[ -n "$DBMATE" ] && best=$(awk -v a="$dm_ms" -v b="$f1" -v c="$f2" 'BEGIN {
		printf "; so a devflow that reads every file can reach at most about %.1f× (1 thread) or %.1f× (2 threads) dbmate here", a / b, a / c }')
	note "b_status floor: opening, reading and SHA-256-ing the same $N files and nothing else (bench/tools/readhash.c) takes $f1 ms on 1 thread, $f2 ms on 2$best."
fi
note "b_status: $N dbmate-format files (~$(du -sk "$proj/migrations" | cut -f1) KiB), one SQLite database with both ledgers full; devflow reads and SHA-256s every file, dbmate lists names only. Times: $BENCH_ROUNDS rounds (command order rotating) of $(((BENCH_RUNS + BENCH_ROUNDS - 1) / BENCH_ROUNDS)) hyperfine runs each, after $BENCH_WARMUP warm-ups; the median of the round medians ± their standard deviation; output to /dev/null; dbmate is its native binary, without the npm wrapper's node start-up. Load average $load_before before, $load_after after."
exit 0
