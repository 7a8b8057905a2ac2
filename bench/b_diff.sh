#!/usr/bin/env bash
# `devflow db diff` of two PostgreSQL databases of 2,000 tables each (10
# columns, 2 indexes and a foreign key per table, a view per 10 tables) with
# 200 differences between them (50 columns added, 50 column types changed, 50
# indexes dropped, 50 tables added), next to @pgkit/migra (npm, installed into
# bench/.work) on the same pair; the same schema on SQLite (devflow's time
# only: no peer diffs SQLite).
#
# Targets (issues 14, 25): devflow's diff (--no-verify: migra checks
# nothing) at least 10x faster than @pgkit/migra; its introspection within
# 2x of the same catalog queries run once in psql (the queries taken from
# the server's log of a devflow run); the diff's check (verify_ms of the
# JSON, the median of the timed runs) at most the diff's own time; peak
# RSS under 64 MiB.  DIFF_TABLES (2000) tables.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${DIFF_TABLES:-2000}
dir=$BENCH_WORK/diff
rm -rf "$dir"
mkdir -p "$dir"

apt_need postgresql-client || { echo "RESULT|diff, PostgreSQL|-|postgresql-client missing|-|-|error"; exit 1; }

# gen N VARIANT: the schema; VARIANT b has the 200 differences
gen() {
	awk -v n="$1" -v b="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			c3 = (b == "b" && i > 50 && i <= 100) ? "bigint" : "integer"
			printf "CREATE TABLE t%d (id bigint PRIMARY KEY, ref_id bigint%s, c1 integer NOT NULL DEFAULT 0, c2 text, c3 %s, c4 numeric(10,2), c5 boolean DEFAULT false, c6 timestamp, c7 varchar(40), c8 jsonb", i, (i > 1 ? " REFERENCES t" (i - 1) "(id)" : ""), c3
			if (b == "b" && i <= 50) printf ", added integer"
			printf ");\n"
			printf "CREATE INDEX t%d_c1 ON t%d (c1);\n", i, i
			if (!(b == "b" && i > 100 && i <= 150)) printf "CREATE INDEX t%d_c2 ON t%d (c2);\n", i, i
			if (i % 10 == 0) printf "CREATE VIEW v%d AS SELECT id, c1, c2 FROM t%d;\n", i, i
		}
		if (b == "b") for (i = 1; i <= 50; i++)
			printf "CREATE TABLE extra%d (id bigint PRIMARY KEY, v text);\n", i
	}'
}
gen "$N" a >"$dir/a.sql"
gen "$N" b >"$dir/b.sql"

srv=$(mktemp -d /dev/shm/devflow-bench-diff.XXXXXX 2>/dev/null || mktemp -d)
trap '"$ROOT/tests/support/servers.sh" stop "$srv" >/dev/null 2>&1; rm -rf "$srv"' EXIT
"$ROOT/tests/support/servers.sh" start "$srv" --only pg >&2 || { echo "RESULT|diff, PostgreSQL|-|server did not start|-|-|error"; exit 1; }
. "$srv/env"
pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres "$@"; }
say "loading two databases of $N tables"
pg -d postgres -c "CREATE DATABASE diff_a" -c "CREATE DATABASE diff_b" >/dev/null || exit 1
pg -d diff_a -f "$dir/a.sql" >/dev/null || exit 1
pg -d diff_b -f "$dir/b.sql" >/dev/null || exit 1
pg -d diff_a -c "VACUUM ANALYZE" >/dev/null 2>&1; pg -d diff_b -c "VACUUM ANALYZE" >/dev/null 2>&1
URL_A="postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/diff_a"
URL_B="postgres://postgres@127.0.0.1:$DEVFLOW_TEST_PG_PORT/diff_b"

mkdir -p "$dir/project/migrations"
cd "$dir/project"
changes=$("$DEVFLOW" --json db diff --from "$URL_A" --to "$URL_B" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["changes"]))')
say "devflow finds $changes changes"
note "db diff, PostgreSQL, $N tables a side: devflow reports $changes changes for the 200 differences (the 50 new tables' primary keys are changes of their own; the views on the tables whose column type changes are dropped and created again)"

# the catalog queries of a side, as devflow sends them: from the server's
# log of one run (every statement logged with its duration; devflow's go
# by the extended protocol: "execute <unnamed>: ...")
pg -d postgres -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
mark=$(wc -l <"$srv/pg/log")
"$DEVFLOW" -C "$dir/project" db diff --no-verify --from "$URL_A" --to "$URL_A" >/dev/null
pg -d postgres -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
# one connection's statements (the first side's), continuation lines joined
tail -n +"$((mark + 1))" "$srv/pg/log" | awk '
	function flush() { if (q != "" && pid == first) print q ";"; q = "" }
	/ (statement|execute [^:]*): / { flush()
		match($0, /\[[0-9]+\]/); pid = substr($0, RSTART, RLENGTH)
		if (first == "") first = pid
		sub(/.* (statement|execute [^:]*): /, ""); q = $0; next }
	/^\t/ && q != "" { q = q "\n" substr($0, 2); next }
	{ flush() }
	END { flush() }' >"$dir/catalog.sql"
nq=$(grep -c ';$' "$dir/catalog.sql")
say "devflow sends $nq statements to read a side"
note "db diff, PostgreSQL: devflow reads a side in $nq statements (one per catalog class; from the server's log of one run)"

cat >"$dir/devflow.sh" <<EOF
#!/bin/sh
"$DEVFLOW" -C "$dir/project" db diff --no-verify --from "$URL_A" --to "$URL_B" >/dev/null
EOF
cat >"$dir/devflow-verify.sh" <<EOF
#!/bin/sh
"$DEVFLOW" -C "$dir/project" --json db diff --from "$URL_A" --to "$URL_B" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["verify_ms"])' >>"$dir/verify_ms"
EOF
# the same catalog queries, once on each side, by psql: the two sides at
# once, as devflow reads them
cat >"$dir/psql.sh" <<EOF
#!/bin/sh
psql -X -q -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres -d diff_a -f "$dir/catalog.sql" >/dev/null & a=\$!
psql -X -q -h 127.0.0.1 -p "$DEVFLOW_TEST_PG_PORT" -U postgres -d diff_b -f "$dir/catalog.sql" >/dev/null & b=\$!
wait \$a && wait \$b
EOF
chmod +x "$dir/devflow.sh" "$dir/devflow-verify.sh" "$dir/psql.sh"
: >"$dir/verify_ms"
cmds=(devflow "$dir/devflow.sh" devflow-verify "$dir/devflow-verify.sh" psql "$dir/psql.sh")
peer="-"
if npm_need @pgkit/migra; then
	migra=$(ls "$BENCH_WORK"/node_modules/.bin/migra 2>/dev/null || true)
	if [ -n "$migra" ]; then
		# migra exits 2 when the schemas differ: a wrapper keeps time_cmds happy
		cat >"$dir/migra.sh" <<EOF
#!/bin/sh
"$migra" run "$URL_A" "$URL_B" --unsafe >/dev/null 2>&1
[ \$? -le 3 ]
EOF
		chmod +x "$dir/migra.sh"
		peer="@pgkit/migra $(node -e "console.log(require('$BENCH_WORK/node_modules/@pgkit/migra/package.json').version)" 2>/dev/null)"
		cmds+=(migra "$dir/migra.sh")
	fi
fi
wait_quiet
note "db diff, PostgreSQL: load $(load1) before timing"
BENCH_RUNS=${BENCH_RUNS:-6} BENCH_ROUNDS=${BENCH_ROUNDS:-2} time_cmds "$dir/times" "${cmds[@]}" || {
	echo "RESULT|diff, PostgreSQL, $N tables|-|a command failed|-|-|error"; exit 1; }
note "db diff, PostgreSQL: load $(load1) after timing"
dv=$(awk '$1 == "devflow" { print $2 }' "$dir/times")
fv=$(awk '$1 == "devflow-verify" { print $2 }' "$dir/times")
pv=$(awk '$1 == "psql" { print $2 }' "$dir/times")
mv=$(awk '$1 == "migra" { print $2 }' "$dir/times")
if [ -n "$mv" ]; then
	ratio=$(awk -v a="$mv" -v b="$dv" 'BEGIN { printf "%.1f", a / b }')
	met=$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "yes" : "no") }')
	result "diff, PostgreSQL, $N tables a side (--no-verify)" "$dv ms" "$peer: $mv ms" "$ratio" "≥ 10" "$met"
	ratio=$(awk -v a="$mv" -v b="$fv" 'BEGIN { printf "%.1f", a / b }')
	result "diff with its check, PostgreSQL, $N tables a side" "$fv ms" "$peer: $mv ms" "$ratio" "-" "-"
else
	result "diff, PostgreSQL, $N tables a side (--no-verify)" "$dv ms" "@pgkit/migra: not installable" "-" "≥ 10" "skipped"
fi
ratio=$(awk -v a="$pv" -v b="$dv" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5 ? "yes" : "no") }')
result "diff, PostgreSQL: both sides read vs their catalog queries in psql" "$dv ms" "psql: $pv ms" "$ratio" "≥ 0.5 (within 2×)" "$met"
vm=$(sort -n "$dir/verify_ms" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
ratio=$(awk -v a="$vm" -v b="$dv" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 1 ? "yes" : "no") }')
result "diff, PostgreSQL: its check (verify_ms) / the diff's own time" "$vm ms / $dv ms" "-" "$ratio" "≤ 1" "$met"
# the check of the whole schema (as before issue 25), for comparison
for i in 1 2 3; do
	DEVFLOW_VERIFY_WHOLE=1 "$DEVFLOW" -C "$dir/project" --json db diff --from "$URL_A" --to "$URL_B" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["verify_ms"])'
done >"$dir/verify_whole_ms"
note "db diff, PostgreSQL: the check of the whole schema (DEVFLOW_VERIFY_WHOLE=1) takes $(sort -n "$dir/verify_whole_ms" | sed -n 2p) ms (median of 3, load $(load1)), the part the diff touches $vm ms"
if kb=$(peak_rss_kib "$DEVFLOW" -C "$dir/project" db diff --from "$URL_A" --to "$URL_B"); then
	met=$(awk -v k="$kb" 'BEGIN { print (k < 64 * 1024 ? "yes" : "no") }')
	result "diff, PostgreSQL: peak RSS (with its check)" "$(mib "$kb")" "-" "-" "< 64 MiB" "$met"
fi

# SQLite: the same schema, devflow only
rm -f "$dir/a.db" "$dir/b.db"
sqlite3 "$dir/a.db" <"$dir/a.sql" 2>/dev/null
sqlite3 "$dir/b.db" <"$dir/b.sql" 2>/dev/null
cat >"$dir/devflow-sqlite.sh" <<EOF
#!/bin/sh
"$DEVFLOW" -C "$dir/project" db diff --from "sqlite:$dir/a.db" --to "sqlite:$dir/b.db" >/dev/null
EOF
chmod +x "$dir/devflow-sqlite.sh"
if BENCH_RUNS=4 BENCH_ROUNDS=2 time_cmds "$dir/times-sqlite" devflow "$dir/devflow-sqlite.sh"; then
	note "db diff, SQLite, the same $N tables a side: $(awk '{ print $2 }' "$dir/times-sqlite") ms (no peer)"
fi
