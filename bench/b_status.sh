#!/usr/bin/env bash
# `devflow db status` over 10,000 applied migrations whose tables exist (the
# database holds 10,000 tables and 10,000 indexes, as after a real migrate),
# next to the floor and to `dbmate status` over the same files and database.
#
# Targets (issue 16):
#   - warm (the stat cache .devflow/cache present and valid), in text and
#     with --json: within 1.15x of the floor (bench/tools/statusfloor.c: list
#     the folder, fstatat every file, open the SQLite file and read the
#     tracking table once), and faster than dbmate's native binary;
#   - cold (no cache: every file read and hashed): within 1.2x of the
#     read-and-hash floor (statusfloor --hash);
#   - peak RSS of `db status --json`: at most 24 MiB.
#
# Then (issue 26) the same status on the databases a user has after devflow
# ran, measured in CPU time (user+sys, `perf stat` task-clock), which stays
# honest while other work loads the shared cores:
#   - "migrated": the files applied by `devflow db migrate` itself, so the
#     database holds devflow's tracking rows, its audit rows and meta table,
#     and the project its schema record (.devflow/schema) and stat cache;
#     built once in bench/.work/status-migrated-N and reused (10,000
#     migrations take minutes to apply);
#   - "adopted": dbmate's schema_migrations alone (no devflow table), which
#     devflow reads as dbmate's history.
# Targets: text and --json <= 1.15x the CPU of the floor for that database
# (statusfloor reading that history table), and less CPU than dbmate's status.
# BENCH_N (or STATUS_N) sets the number of migrations: BENCH_N=1000 for a
# quick run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${BENCH_N:-${STATUS_N:-10000}}
FLOOR_TARGET=1.15       # devflow warm / floor, at most
COLD_TARGET=1.2         # devflow cold / hash floor, at most
RSS_TARGET_MIB=24       # devflow --json peak RSS, at most
W_TEXT="db status, $N applied, cache warm: wall time vs floor"
W_JSON="db status --json, $N applied, cache warm: wall time vs floor"
W_DBMATE="db status, $N applied, cache warm: wall time vs dbmate"
W_DBMATE_J="db status --json, $N applied, cache warm: wall time vs dbmate"
W_COLD="db status, $N applied, no cache: wall time vs read-and-hash floor"
W_RSS="db status --json, $N applied: peak RSS"
T_FLOOR="devflow ≤ ${FLOOR_TARGET}× floor"
T_DBMATE="≥ 1× (faster than dbmate)"
T_COLD="devflow ≤ ${COLD_TARGET}× floor"
T_RSS="devflow ≤ ${RSS_TARGET_MIB} MiB"

fail() { # message: the benchmark cannot run
	say "error: $*"
	for w in "$W_TEXT|$T_FLOOR" "$W_JSON|$T_FLOOR" "$W_DBMATE|$T_DBMATE" \
		 "$W_DBMATE_J|$T_DBMATE" "$W_COLD|$T_COLD" "$W_RSS|$T_RSS"; do
		result "${w%%|*}" "-" "-" "-" "${w#*|}" error
	done
	note "b_status: $*"
	exit 1
}

[ -x "$DEVFLOW" ] || fail "no devflow binary at $DEVFLOW (run make first)"
apt_need sqlite3 libsqlite3-dev libssl-dev || fail "sqlite3, libsqlite3-dev or libssl-dev (the setup and the floor) are missing and cannot be installed"
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

# gen_files DIR: the N migrations, in dbmate's format, into DIR
gen_files() {
	awk -v n="$N" -v out="$1" 'BEGIN {
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
	}'
}

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
gen_files "$proj/migrations" || fail "cannot generate the migration files"

say "creating the $N tables and recording all $N as applied for both tools"
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
END { print "COMMIT;" }' >"$dir/ledgers.sql" || fail "cannot write the tracking rows"
# the migrations' UP sections, as a real migrate leaves the database: the
# schema SQLite parses on open holds 10,000 tables and 10,000 indexes
{
	echo "BEGIN;"
	find "$proj/migrations" -maxdepth 1 -name '*.sql' -print0 | sort -z |
		xargs -0 awk 'FNR == 1 { up = 0 } /^-- migrate:up/ { up = 1; next } /^-- migrate:down/ { up = 0 } up'
	echo "COMMIT;"
	cat "$dir/ledgers.sql"
} | sqlite3 "$db" || fail "cannot create the tables and fill the tracking tables"
[ "$(sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN ('_migrations', '_migrations_audit', 'schema_migrations', 'sqlite_sequence')")" = "$N" ] ||
	fail "the database does not hold $N migration tables"

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

# ---- the floors -------------------------------------------------------------------
FLOOR=$BENCH_WORK/statusfloor
FLOOR_HASH=$BENCH_WORK/statusfloor-hash
{ cc -O2 -o "$FLOOR" "$BENCH_DIR/tools/statusfloor.c" -lsqlite3 &&
  cc -O2 -DSTATUSFLOOR_HASH -o "$FLOOR_HASH" "$BENCH_DIR/tools/statusfloor.c" -lsqlite3 -lcrypto; } 2>"$dir/statusfloor.err" ||
	fail "cannot build bench/tools/statusfloor.c (cc, libsqlite3-dev, libssl-dev): $(head -c 300 "$dir/statusfloor.err")"
"$FLOOR" "$proj/migrations" "$db" || fail "the floor program failed"

# the cache: one run writes it; the warm runs find it valid (the files are
# older than the cache's racy window, see src/core/cache.c)
cache=$proj/.devflow/cache
rm -f "$cache"
touch -d '-1 hour' "$proj"/migrations/*.sql 2>/dev/null ||
	find "$proj/migrations" -name '*.sql' -exec touch -d '-1 hour' {} +
"$DEVFLOW" -C "$proj" db status >/dev/null 2>&1 || fail "devflow db status failed"
[ -s "$cache" ] || fail "devflow db status wrote no $cache"

# ---- time -----------------------------------------------------------------------
wait_quiet
load_before=$(load1)
cd "$dir" || fail "cannot enter $dir"
cmds=(devflow "$DEVFLOW -C $proj db status" devflow-json "$DEVFLOW -C $proj --json db status"
	floor "$FLOOR $proj/migrations $db")
[ -n "$DBMATE" ] && cmds+=(dbmate "$DBMATE --migrations-dir $proj/migrations status")
time_cmds "$dir/times.txt" "${cmds[@]}" || fail "a timed command failed"
cp "$BENCH_WORK/times.raw" "$dir/times-warm.raw"
# cold: the cache removed before each run (untimed); the floor that reads
# and hashes every file beside it
TIME_PREPARE_devflow_cold="rm -f $cache" \
	time_cmds "$dir/times-cold.txt" devflow-cold "$DEVFLOW -C $proj db status" \
	floor-hash "$FLOOR_HASH $proj/migrations $db --hash" || fail "a timed command failed"
cp "$BENCH_WORK/times.raw" "$dir/times-cold.raw"
"$DEVFLOW" -C "$proj" db status >/dev/null 2>&1       # leave the cache warm
load_after=$(load1)
t() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }
sd() { awk -v n="$1" '$1 == n { print $4 }' "$2"; }
df_ms=$(t devflow "$dir/times.txt"); df_sd=$(sd devflow "$dir/times.txt")
dj_ms=$(t devflow-json "$dir/times.txt"); dj_sd=$(sd devflow-json "$dir/times.txt")
fl_ms=$(t floor "$dir/times.txt"); fl_sd=$(sd floor "$dir/times.txt")
dm_ms=$(t dbmate "$dir/times.txt"); dm_sd=$(sd dbmate "$dir/times.txt")
dc_ms=$(t devflow-cold "$dir/times-cold.txt"); dc_sd=$(sd devflow-cold "$dir/times-cold.txt")
fh_ms=$(t floor-hash "$dir/times-cold.txt"); fh_sd=$(sd floor-hash "$dir/times-cold.txt")

# ---- peak memory ------------------------------------------------------------------
df_kib=$(peak_rss_kib "$DEVFLOW" -C "$proj" --json db status) || df_kib=
dm_kib=
[ -n "$DBMATE" ] && { dm_kib=$(peak_rss_kib "$DBMATE" --migrations-dir "$proj/migrations" status) || dm_kib=; }

# ---- results ----------------------------------------------------------------------
# The load on these shared cores changes from one round to the next: a ratio
# is the median over rounds of the ratio within a round (both commands timed
# back to back), not the ratio of two medians taken at different loads.
# round_ratio RAW A B: median over rounds of A's time / B's time
round_ratio() {
	awk -v a="$2" -v b="$3" '
		{ if ($1 in seen) { r++; delete seen } ; seen[$1] = 1; t[r, $1] = $2 }
		END {
			for (i = 0; i <= r; i++) if (t[i, a] && t[i, b]) v[++n] = t[i, a] / t[i, b]
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			printf "%.2f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}' "$1"
}
# vs floor: "devflow/floor" (at most the target); vs dbmate: dbmate/devflow (at least 1)
over() { # name devflow_ms floor_ms floor_sd target work label target-text raw a b
	local r met
	r=$(round_ratio "${9}" "${10}" "${11}")
	met=$(awk -v r="$r" -v t="$5" 'BEGIN { print (r <= t) ? "yes" : "no" }')
	result "$6" "$2 ms ± $1" "$7: $3 ms ± $4" "devflow/floor ${r}×" "$8" "$met"
}
over "$df_sd" "$df_ms" "$fl_ms" "$fl_sd" "$FLOOR_TARGET" "$W_TEXT" "floor (statusfloor)" "$T_FLOOR" \
	"$dir/times-warm.raw" devflow floor
over "$dj_sd" "$dj_ms" "$fl_ms" "$fl_sd" "$FLOOR_TARGET" "$W_JSON" "floor (statusfloor)" "$T_FLOOR" \
	"$dir/times-warm.raw" devflow-json floor
dbmate_v=$([ -n "$DBMATE" ] && "$DBMATE" --version 2>/dev/null | awk '{ print $NF }')
for pair in "$df_ms|$df_sd|$W_DBMATE|devflow" "$dj_ms|$dj_sd|$W_DBMATE_J|devflow-json"; do
	IFS='|' read -r ms sdv work name <<<"$pair"
	if [ -n "$DBMATE" ]; then
		ratio=$(round_ratio "$dir/times-warm.raw" dbmate "$name")
		met=$(awk -v r="$ratio" 'BEGIN { print (r >= 1) ? "yes" : "no" }')
		result "$work" "$ms ms ± $sdv" "dbmate $dbmate_v: $dm_ms ms ± $dm_sd" "${ratio}×" "$T_DBMATE" "$met"
	else
		result "$work" "$ms ms ± $sdv" "dbmate: not installed (npm failed)" "-" "$T_DBMATE" skipped
	fi
done
over "$dc_sd" "$dc_ms" "$fh_ms" "$fh_sd" "$COLD_TARGET" "$W_COLD" "floor (statusfloor --hash)" "$T_COLD" \
	"$dir/times-cold.raw" devflow-cold floor-hash
if [ -n "$df_kib" ]; then
	met=$(awk -v k="$df_kib" -v t="$RSS_TARGET_MIB" 'BEGIN { print (k <= t * 1024) ? "yes" : "no" }')
	if [ -n "$dm_kib" ]; then
		ratio=$(awk -v a="$dm_kib" -v b="$df_kib" 'BEGIN { printf "%.1f×", a / b }')
		result "$W_RSS" "$(mib "$df_kib")" "dbmate $dbmate_v (status): $(mib "$dm_kib")" "$ratio" "$T_RSS" "$met"
	else
		result "$W_RSS" "$(mib "$df_kib")" "dbmate: not measured" "-" "$T_RSS" "$met"
	fi
else
	result "$W_RSS" "-" "GNU time (/usr/bin/time) not available" "-" "$T_RSS" error
fi
note "b_status: $N dbmate-format files (~$(du -sk "$proj/migrations" | cut -f1) KiB, mtimes an hour old), one SQLite database ($(du -k "$db" | cut -f1) KiB) holding the $N tables and $N indexes the migrations create and both ledgers full. Warm: .devflow/cache present and valid (stat of every file, no read); cold: the cache removed before each run, so every file is read and SHA-256ed and the cache written again. Floors: bench/tools/statusfloor.c lists the folder, fstatats every file, opens the database read-only and reads _migrations once (with --hash it also reads and SHA-256s every file). Times: $BENCH_ROUNDS rounds (command order rotating) of $(((BENCH_RUNS + BENCH_ROUNDS - 1) / BENCH_ROUNDS)) hyperfine runs each, after $BENCH_WARMUP warm-ups; the times shown are the median of the round medians ± their standard deviation, the ratios the median over rounds of the ratio within a round (the load changes between rounds); output to /dev/null; dbmate is its native binary. Load average $load_before before, $load_after after, on 2 shared cores."
# ---- issue 26: the databases a user has after devflow ran, in CPU time ----------
# cpu_times RAW NAME CMD [NAME CMD]...: the CPU time (user+sys: perf's
# task-clock, ms, every thread) of each command, appended to RAW as "name ms"
# lines: BENCH_RUNS rounds of one run of each command back to back, the
# order rotating, so that the load of the moment hits every command of a
# round alike (round_ratio takes the median of the ratios within a round);
# one untimed run of each first.
cpu_times() {
	local raw=$1; shift
	local names=() cmds=() n r i k f=$BENCH_WORK/perf-stat.txt ms
	while [ $# -ge 2 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	n=${#names[@]}
	: >"$raw"
	for ((i = 0; i < n; i++)); do ${cmds[i]} >/dev/null 2>&1 || return 1; done
	for ((r = 0; r < BENCH_RUNS; r++)); do
		for ((i = 0; i < n; i++)); do
			k=$(((i + r) % n))
			perf stat -x, -e task-clock -o "$f" ${cmds[k]} >/dev/null 2>&1 || return 1
			ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$f")
			[ -n "$ms" ] || return 1
			echo "${names[k]} $ms" >>"$raw"
		done
		[ $((r % 5)) -eq 4 ] && say "cpu round $((r + 1))/$BENCH_RUNS (load $(load1)):$(tail -n "$n" "$raw" | awk '{ printf " %s %.1f ms", $1, $2 }')"
	done
	return 0
}
# cpu_median RAW NAME: the median over rounds of NAME's CPU ms
cpu_median() {
	awk -v n="$2" '$1 == n { v[++c] = $2 }
		END { for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
		      if (c) printf "%.1f", c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }' "$1"
}

# status_ok PROJ WHAT: devflow's JSON status of PROJ says N applied, 0 pending,
# no problem, every checksum matching (and, with "drift", no drift: the
# schema record was used)
status_ok() {
	local j st
	j=$(cd "$1" && "$DEVFLOW" --json db status 2>"$dir/devflow-$2.err" | tr -d ' \n\t')
	st=${PIPESTATUS[0]}
	json=$j
	if [ "$(got total)" != "$N" ] || [ "$(got applied)" != "$N" ] || [ "$(got pending)" != 0 ] ||
	   ! grep -q '"problems":\[\]' <<<"$j" || grep -q '"checksum_ok":false' <<<"$j" ||
	   { [ "$2" = migrated ] && ! grep -q '"drift":false' <<<"$j"; }; then
		say "devflow db status on the $2 database (exit $st): total=$(got total) applied=$(got applied) pending=$(got pending)"
		head -c 600 "$dir/devflow-$2.err" >&2
		return 1
	fi
}

# the database devflow migrated itself, built once and kept
mdir=$BENCH_WORK/status-migrated-$N
mproj=$mdir/project
mdb=$mdir/bench.db
export DATABASE_URL="sqlite:$mdb"
if [ ! -s "$mdir/built" ] || ! status_ok "$mproj" migrated 2>/dev/null; then
	say "building the devflow-migrated database: devflow db migrate of $N migrations (minutes; kept in $mdir)"
	rm -rf "$mdir"
	mkdir -p "$mproj/migrations"
	gen_files "$mproj/migrations" || fail "cannot generate the migration files"
	(cd "$mproj" && "$DEVFLOW" -q db migrate >"$mdir/migrate.log" 2>&1) ||
		fail "devflow db migrate of the $N migrations failed (see $mdir/migrate.log)"
	date -u +"%F %T UTC $N migrations" >"$mdir/built"
fi
touch -d '-1 hour' "$mproj"/migrations/*.sql 2>/dev/null ||
	find "$mproj/migrations" -name '*.sql' -exec touch -d '-1 hour' {} +
status_ok "$mproj" migrated || fail "devflow does not report $N applied, 0 pending, no problem, no drift on the migrated database"
[ "$(sqlite3 "$mdb" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 1) <> '_' AND name <> 'sqlite_sequence'")" = "$N" ] ||
	fail "the migrated database does not hold $N migration tables"

# the database devflow adopted: dbmate's history alone
adb=$dir/adopted.db
aproj=$dir/adopted
mkdir -p "$aproj"
cp -a "$proj/migrations" "$aproj/" || fail "cannot copy the migrations"
cp "$db" "$adb" && sqlite3 "$adb" "DROP TABLE _migrations; DROP TABLE _migrations_audit;" ||
	fail "cannot make the adopted database"
export DATABASE_URL="sqlite:$adb"
status_ok "$aproj" adopted ||
	fail "devflow does not report $N applied, 0 pending, no problem on the adopted database"
grep -q '"adoptable":{[^}]*"tool":"dbmate"' <<<"$json" || fail "devflow does not read dbmate's history on the adopted database"

# the caches warm (a run or two: the touched files' ctime is within the racy window at first)
for p in "$mproj" "$aproj"; do
	u=$mdb; [ "$p" = "$aproj" ] && u=$adb
	for i in 1 2 3; do DATABASE_URL="sqlite:$u" "$DEVFLOW" -C "$p" db status >/dev/null 2>&1; sleep 1; done
	[ -s "$p/.devflow/cache" ] || fail "devflow db status wrote no $p/.devflow/cache"
done

wait_quiet
cpu_load_before=$(load1)
cd "$dir" || fail "cannot enter $dir"
export DATABASE_URL="sqlite:$mdb"
cmds=(devflow "$DEVFLOW -C $mproj db status" devflow-json "$DEVFLOW -C $mproj --json db status"
	floor "$FLOOR $mproj/migrations $mdb")
# dbmate's own history is in the sqlite3-built database (the same files and tables)
[ -n "$DBMATE" ] && cmds+=(dbmate "$DBMATE --url sqlite:$db --migrations-dir $proj/migrations status")
cpu_times "$dir/cpu-migrated.raw" "${cmds[@]}" || fail "a CPU-timed command failed (migrated)"
export DATABASE_URL="sqlite:$adb"
cmds=(devflow "$DEVFLOW -C $aproj db status" devflow-json "$DEVFLOW -C $aproj --json db status"
	floor "$FLOOR $aproj/migrations $adb --table schema_migrations")
[ -n "$DBMATE" ] && cmds+=(dbmate "$DBMATE --url sqlite:$adb --migrations-dir $aproj/migrations status")
cpu_times "$dir/cpu-adopted.raw" "${cmds[@]}" || fail "a CPU-timed command failed (adopted)"
export DATABASE_URL="sqlite:$mdb"
m_kib=$(peak_rss_kib "$DEVFLOW" -C "$mproj" --json db status) || m_kib=
cpu_load_after=$(load1)

for sc in migrated adopted; do
	raw=$dir/cpu-$sc.raw
	fl=$(cpu_median "$raw" floor)
	for name in devflow devflow-json; do
		ms=$(cpu_median "$raw" "$name")
		what="db status"; [ "$name" = devflow-json ] && what="db status --json"
		r=$(round_ratio "$raw" "$name" floor)
		met=$(awk -v r="$r" -v t="$FLOOR_TARGET" 'BEGIN { print (r <= t) ? "yes" : "no" }')
		result "$what, $N applied, $sc database, cache warm: CPU time vs floor" "$ms ms CPU" \
			"floor (statusfloor): $fl ms CPU" "devflow/floor ${r}×" "$T_FLOOR" "$met"
		if [ -n "$DBMATE" ]; then
			r=$(round_ratio "$raw" dbmate "$name")
			met=$(awk -v r="$r" 'BEGIN { print (r >= 1) ? "yes" : "no" }')
			result "$what, $N applied, $sc database, cache warm: CPU time vs dbmate" "$ms ms CPU" \
				"dbmate $dbmate_v: $(cpu_median "$raw" dbmate) ms CPU" "${r}×" "$T_DBMATE" "$met"
		else
			result "$what, $N applied, $sc database, cache warm: CPU time vs dbmate" "$ms ms CPU" \
				"dbmate: not installed (npm failed)" "-" "$T_DBMATE" skipped
		fi
	done
done
if [ -n "$m_kib" ]; then
	met=$(awk -v k="$m_kib" -v t="$RSS_TARGET_MIB" 'BEGIN { print (k <= t * 1024) ? "yes" : "no" }')
	result "db status --json, $N applied, migrated database: peak RSS" "$(mib "$m_kib")" "-" "-" "$T_RSS" "$met"
fi
note "b_status (issue 26), CPU time: the migrated database ($(du -k "$mdb" | cut -f1) KiB) was built by \`devflow db migrate\` of the same $N files ($(cat "$mdir/built")): it holds devflow's tracking rows, audit rows and meta table, the project its schema record ($(du -sk "$mproj/.devflow/schema" | cut -f1) KiB) and stat cache; dbmate's status beside it runs on the sqlite3-built database (its own history, the same files and tables). The adopted database is the sqlite3-built one with devflow's tables dropped: dbmate's schema_migrations alone, which devflow reads as dbmate's history; its floor reads schema_migrations. CPU = perf stat task-clock (user+sys, all threads), the median of $BENCH_RUNS rounds of one run of each command back to back (order rotating); ratios are the median of the ratio within a round. CPU time, unlike wall time, stays comparable while other work loads the shared cores. Load average $cpu_load_before before, $cpu_load_after after, on 2 shared cores."
exit 0
