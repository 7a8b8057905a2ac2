# Shared body of bench/b_apply_pg.sh and bench/b_apply_mysql.sh.  Sourced
# (after lib.sh) by them, not run.  The caller sets:
#
#   ENGINE        pg | mysql
#   ENGINE_NAME   PostgreSQL | MariaDB
#   FLOOR_NAME    the client used as the floor (psql | mariadb)
#   and defines   eng_reset DB       drop and create DB (not timed)
#                 eng_floor DB       run OUT/floor.sql in one client session
#                 eng_url DB         the database URL for devflow
#                 eng_dbmate_url DB  the database URL for dbmate
#                 eng_count DB TABLE print "tables indexes rows": user tables
#                                    and idx_* indexes made by the migrations,
#                                    and rows in the tracking TABLE
#                 eng_client_version
#
# Method: N migrations (bench/tools/b_apply_gen.sh) applied by each tool into
# a fresh database; one warm-up round, then APPLY_RUNS rounds; in each round
# the three tools run one after the other, the order rotating, so a change in
# the machine's load hits all three alike.  Wall time of the tool's process
# only (the database is dropped and created before, outside the timing).
# After every run the database must hold N tables, N indexes, N tracking rows.

N=${APPLY_N:-1000}
RUNS=${APPLY_RUNS:-${APPLY_DEFAULT_RUNS:-9}}
FLOOR_TARGET=1.05       # devflow time / floor time, at most
DBMATE_TARGET=1.00      # dbmate time / devflow time, at least
W_FLOOR="apply $N migrations, $ENGINE_NAME: vs one $FLOOR_NAME session (floor)"
W_DBMATE="apply $N migrations, $ENGINE_NAME: vs dbmate"
T_FLOOR="devflow ≤ ${FLOOR_TARGET}× floor"
T_DBMATE="≥ 1× (never slower)"
me=b_apply_$ENGINE

fail() { # message: the benchmark cannot run
	say "error: $*"
	result "$W_FLOOR" "-" "-" "-" "$T_FLOOR" error
	result "$W_DBMATE" "-" "-" "-" "$T_DBMATE" error
	note "$me: $*"
	exit 1
}

[ -x "$DEVFLOW" ] || fail "no devflow binary at $DEVFLOW (run make first)"

# ---- peers -------------------------------------------------------------------------
DBMATE=
if npm_need dbmate; then
	# the native binary, not the npm package's node wrapper (as b_status.sh)
	DBMATE=$(find "$BENCH_WORK/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n1)
	[ -n "$DBMATE" ] && [ -x "$DBMATE" ] || DBMATE=$BENCH_WORK/node_modules/.bin/dbmate
	"$DBMATE" --version >/dev/null 2>&1 || DBMATE=
fi
[ -n "$DBMATE" ] || say "dbmate could not be installed (npm): no dbmate row"

# ---- setup ---------------------------------------------------------------------------
# a folder of its own (another run may be going on), kept when the benchmark fails
dir=$(mktemp -d "$BENCH_WORK/apply_$ENGINE.XXXXXX") || fail "cannot create a folder under $BENCH_WORK"
# a private copy: a rebuild of build/devflow during the run must not change it
cp "$DEVFLOW" "$dir/devflow-bin" || fail "cannot copy $DEVFLOW"
DEVFLOW=$dir/devflow-bin
say "generating $N migrations (devflow, dbmate and floor forms)"
"$BENCH_DIR/tools/b_apply_gen.sh" "$N" "$ENGINE" "$dir" || fail "cannot generate the migrations"
proj=$dir/devflow

# throwaway server, in /tmp (servers.sh makes the folder traversable for the
# server's user), stopped and removed on exit
# The server's files live on tmpfs (/dev/shm) when there is one: creating
# and dropping 2,000 tables and indexes per run on this VM's ext4 costs the
# server 2-4 s of kernel time that varies from round to round by more than
# the differences between the clients.  The same for all three tools; it
# exposes the clients' own costs rather than diluting them.
srv_base=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ -z "${BENCH_SERVER_ON_DISK:-}" ]; then
	srv_base=/dev/shm
	SERVER_FS="server files on tmpfs"
else
	SERVER_FS="server files on $(df -T /tmp 2>/dev/null | awk 'NR == 2 { print $2 }')"
fi
srv=$(mktemp -d "$srv_base/devflow-$me.XXXXXX") || fail "mktemp failed"
cleanup() {
	local rc=$?
	"$ROOT/tests/support/servers.sh" stop "$srv" >/dev/null 2>&1 || true
	rm -rf "$srv"
	[ "$rc" -eq 0 ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say "starting a throwaway $ENGINE_NAME server in $srv"
eng_start "$srv" || fail "the $ENGINE_NAME server did not start (tests/support/servers.sh)"
. "$srv/env"

# ---- CPU: the client's (user+sys of the tool's process, GNU time) and the
# server's (its processes' user+sys, exited backends included: the main
# process's cutime/cstime), in ms, when the engine script names the
# server's main process (eng_server_pid) -------------------------------------------------
server_cpu_ms() { # -> total ms of the server's processes so far, or nothing
	local pid tk
	declare -F eng_server_pid >/dev/null || return 0
	pid=$(eng_server_pid) || return 0
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 0
	tk=$(getconf CLK_TCK)
	{
		awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat"
		for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
			awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$c/stat" 2>/dev/null
		done
	} | awk -v tk="$tk" '{ s += $1 } END { printf "%.0f\n", s * 1000 / tk }'
}
# user+sys of this shell's finished children so far, in ms, into $cpu_ms
# (bash's `times`, run in this shell: a $(...) would have children of its own)
children_cpu_ms() {
	times >"$dir/times.now"
	cpu_ms=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%.0f\n", t * 1000 }' "$dir/times.now")
}

# ---- one run of one tool into a fresh database; prints its wall time in ms ------------
db_of() { echo "bench_$1"; }
run_one() { # tool -> ms on stdout
	local tool=$1 db t0 t1 rc counts want table
	db=$(db_of "$tool")
	eng_reset "$db" || { say "cannot reset database $db"; return 1; }
	# let the server finish the drop's background work (purge, checkpoints)
	# so that it is not billed to whichever tool runs next
	sleep "${APPLY_SETTLE:-2}"
	local s0 s1 c0 c1
	children_cpu_ms; c0=$cpu_ms
	s0=$(server_cpu_ms)
	t0=$EPOCHREALTIME
	case $tool in
	floor) eng_floor "$db" >/dev/null 2>"$dir/$tool.err"; rc=$? ;;
	devflow) "$DEVFLOW" -C "$proj" -q db migrate --url "$(eng_url "$db")" >/dev/null 2>"$dir/$tool.err"; rc=$? ;;
	dbmate) "$DBMATE" --url "$(eng_dbmate_url "$db")" --migrations-dir "$dir/dbmate" \
			--no-dump-schema up >/dev/null 2>"$dir/$tool.err"; rc=$? ;;
	esac
	t1=$EPOCHREALTIME
	children_cpu_ms; c1=$cpu_ms
	sleep 0.3       # the backend exits and is reaped: its CPU is the server's
	s1=$(server_cpu_ms)
	client=$((c1 - c0))
	server=-
	[ -n "$s0" ] && [ -n "$s1" ] && server=$((s1 - s0))
	if [ "$rc" -ne 0 ]; then
		say "$tool exited $rc:"; head -c 600 "$dir/$tool.err" >&2
		return 1
	fi
	table=_migrations; [ "$tool" = dbmate ] && table=schema_migrations
	counts=$(eng_count "$db" "$table")
	want="$N $N $N"
	if [ "$counts" != "$want" ]; then
		say "$tool: the database holds (tables indexes tracking-rows) '$counts', not '$want'"
		return 1
	fi
	awk -v a="${t0/./}" -v b="${t1/./}" -v c="$client" -v s="$server" \
		'BEGIN { printf "%.1f %s %s\n", (b - a) / 1000, c, s }'
}

tools=(floor devflow)
[ -n "$DBMATE" ] && tools+=(dbmate)
: >"$dir/times.txt"
: >"$dir/cpu.txt"
wait_quiet
load_before=$(load1)
loads=
for ((r = 0; r <= RUNS; r++)); do
	nt=${#tools[@]}
	for ((k = 0; k < nt; k++)); do
		t=${tools[$(((k + r) % nt))]}
		line=$(run_one "$t") || fail "$t failed (round $r; see $dir/$t.err)"
		read -r ms ccpu scpu <<<"$line"
		[ "$r" -gt 0 ] && echo "$r $t $ms" >>"$dir/times.txt"
		[ "$r" -gt 0 ] && echo "$r $t $ccpu $scpu" >>"$dir/cpu.txt"
		say "round $r$([ "$r" -eq 0 ] && echo ' (warm-up)'): $t $ms ms, CPU client $ccpu ms server $scpu ms (load $(load1))"
	done
	loads="$loads $(load1)"
done
load_after=$(load1)

# median and standard deviation of one tool's times
stat() { # tool -> "median sd"
	awk -v t="$1" '$2 == t { print $3 }' "$dir/times.txt" | sort -n |
	awk '{ v[NR] = $1; s += $1; q += $1 * $1 }
	END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	      mean = s / NR; sd = q / NR - mean * mean; sd = sd > 0 ? sqrt(sd) : 0
	      printf "%.0f %.0f\n", m, sd }'
}
# median over the rounds of a / b, each pair from the same round
paired() {
	awk -v a="$1" -v b="$2" '$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 }
		END { for (r in x) if (r in y) print x[r] / y[r] }' "$dir/times.txt" | sort -n |
	awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
read -r fl_ms fl_sd < <(stat floor)
read -r df_ms df_sd < <(stat devflow)
range=$(tr ' ' '\n' <<<"$loads" | sed '/^$/d' | sort -n | sed -n '1p;$p' | paste -sd- -)

df_fl=$(awk -v a="$df_ms" -v b="$fl_ms" 'BEGIN { printf "%.3f", a / b }')
fl_df=$(awk -v a="$fl_ms" -v b="$df_ms" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$df_fl" -v t="$FLOOR_TARGET" 'BEGIN { print (r <= t) ? "yes" : "no" }')
result "$W_FLOOR" "$df_ms ms ± $df_sd" "$FLOOR_NAME $(eng_client_version) floor: $fl_ms ms ± $fl_sd" \
	"${fl_df}× (devflow/floor ${df_fl})" "$T_FLOOR" "$met"
if [ -n "$DBMATE" ]; then
	read -r dm_ms dm_sd < <(stat dbmate)
	dm_df=$(awk -v a="$dm_ms" -v b="$df_ms" 'BEGIN { printf "%.2f", a / b }')
	met=$(awk -v r="$dm_df" -v t="$DBMATE_TARGET" 'BEGIN { print (r >= t) ? "yes" : "no" }')
	result "$W_DBMATE" "$df_ms ms ± $df_sd" "dbmate $("$DBMATE" --version 2>/dev/null | awk '{ print $NF }'): $dm_ms ms ± $dm_sd" \
		"${dm_df}×" "$T_DBMATE" "$met"
	pd=", dbmate/devflow $(paired dbmate devflow)"
else
	result "$W_DBMATE" "$df_ms ms ± $df_sd" "dbmate: not installed (npm failed)" "-" "$T_DBMATE" skipped
	pd=
fi
# CPU: medians over the rounds of client, server, and client + server
cpu_of() { # tool -> "client server total" (ms, medians; - when not measured)
	awk -v t="$1" '$2 == t && $3 != "-" && $4 != "-" { print $3, $4, $3 + $4 }' "$dir/cpu.txt" |
	awk '{ c[NR] = $1; s[NR] = $2; a[NR] = $3 }
	function med(v, n,   i, j, x) { for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	END { if (!NR) { print "- - -"; exit } printf "%.0f %.0f %.0f\n", med(c, NR), med(s, NR), med(a, NR) }'
}
cpu_note=
for t in "${tools[@]}"; do
	read -r cc sc ac < <(cpu_of "$t")
	cpu_note="$cpu_note $t client $cc ms + server $sc ms = $ac ms;"
done
read -r _ _ df_cpu < <(cpu_of devflow)
read -r _ _ fl_cpu < <(cpu_of floor)
cpu_ratio=$(awk -v a="$df_cpu" -v b="$fl_cpu" 'BEGIN { if (a == "-" || b == "-" || !b) print "-"; else printf "%.3f", a / b }')
if [ -n "$DBMATE" ]; then
	read -r _ _ dm_cpu < <(cpu_of dbmate)
	cpu_dm=$(awk -v a="$dm_cpu" -v b="$df_cpu" 'BEGIN { if (a == "-" || b == "-" || !b) print "-"; else printf "%.3f", a / b }')
	cpu_note="$cpu_note CPU (client + server) devflow/floor $cpu_ratio, dbmate/devflow $cpu_dm"
else
	cpu_note="$cpu_note CPU (client + server) devflow/floor $cpu_ratio"
fi
note "$me: CPU, medians over the rounds (client: the tool's processes, bash's times; server: the server's processes, exited backends included):$cpu_note."
note "$me: $N migrations (a CREATE TABLE and a CREATE INDEX each, ~400 bytes; bench/tools/b_apply_gen.sh), each tool into a fresh database on a throwaway local $ENGINE_NAME ($ENGINE_EXTRA; $SERVER_FS). devflow: \`devflow -q db migrate --url URL\` (local policy); floor: the same UP SQL as one script, BEGIN / statements / INSERT of the tracking row into a table shaped like devflow's _migrations / COMMIT per migration, through ONE \`$FLOOR_CMD\`; dbmate: \`dbmate --no-dump-schema up\` (native binary) on the same SQL in its format. Medians of $RUNS rounds after 1 warm-up (± standard deviation), the three interleaved in rotating order, each into a database dropped and created ${APPLY_SETTLE:-2} s before; every run checked to leave $N tables, $N indexes, $N tracking rows. Median of per-round ratios: devflow/floor $(paired devflow floor)$pd. Load average $load_before before, $load_after after (range over rounds $range) on $(nproc) shared cores."
exit 0
