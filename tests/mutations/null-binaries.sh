#!/bin/bash
# The suite tests itself: every CLI test file, run with DEVFLOW=/bin/true
# (exits 0, prints nothing) and with DEVFLOW=/bin/false (exits 1, prints
# nothing), must fail every test function: no run may pass, and each
# function must fail on at least one engine (skipping, where a test does
# not apply to an engine, is allowed; passing is not).  Prints the counts.
# Arguments: only these test files (t0300-migrate ...).
# Needs the test servers (exit 77, CTest's "skipped", without them unless
# DEVFLOW_REQUIRE_SERVERS=1), or the server-only tests would not run.
set -u
cli=$(cd "$(dirname "$0")/../cli" && pwd)
log=$(mktemp -d "${TMPDIR:-/tmp}/devflow-null.XXXXXX")
trap 'rm -rf "$log"' EXIT

if [ -z "${DEVFLOW_TEST_PG_URL:-}" ] || [ -z "${DEVFLOW_TEST_MYSQL_URL:-}" ]; then
	if [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then
		echo "not ok - DEVFLOW_TEST_PG_URL and DEVFLOW_TEST_MYSQL_URL must be set"; exit 1
	fi
	echo "# SKIP: needs both test servers (tests/support/servers.sh)"; exit 77
fi

# check FILE BIN: one file's run under BIN; prints "not ok" lines, and
# "# counts FUNCS BADFUNCS RUNS BAD" last
check() {
	local f=$1 bin=$2 name want got nok ok funcs=0 bad=0 badfuncs=0 runs=0
	name=$(basename "$f" .sh)
	local out="$log/$name.${bin##*/}.out"
	DEVFLOW=$bin DEVFLOW_KILL_ROUNDS=2 timeout 600 bash "$f" >"$out" 2>"$out.err"
	# every test function the file's run_tests line names must show up
	want=$(sed -n '/^run_tests/,/[^\\]$/p' "$f" | tr -s ' \t\\' '\n' | grep '^t_' | sort -u)
	got=$(sed -nE 's/^(not )?ok - [a-z]+ (t_[A-Za-z0-9_]+).*/\2/p' "$out" | sort -u)
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		echo "not ok - DEVFLOW=$bin $name: the tests run ($(echo $got)) are not the tests named ($(echo $want))"
		bad=$((bad + 1))
	fi
	for t in $want; do
		funcs=$((funcs + 1))
		nok=$(grep -cE "^not ok - [a-z]+ $t( |\$)" "$out")
		ok=$(grep -E "^ok - [a-z]+ $t( |\$)" "$out" | grep -vc ' # SKIP ')
		runs=$((runs + nok))
		if [ "$ok" != 0 ] || [ "$nok" = 0 ]; then
			echo "not ok - DEVFLOW=$bin $name $t: $ok run(s) passed, $nok failed"
			grep -E "^(not )?ok - [a-z]+ $t( |\$)" "$out" | sed 's/^/#   /'
			bad=$((bad + 1)) badfuncs=$((badfuncs + 1))
		fi
	done
	grep -qE '^0 passed, [0-9]+ failed' "$out" ||
		{ echo "not ok - DEVFLOW=$bin $name: $(tail -1 "$out")"; bad=$((bad + 1)); }
	echo "# counts $funcs $badfuncs $runs $bad"
}

# The files, in two lanes side by side (every other file each; never the
# same file twice at once, as under ctest -j2): the runs are mostly waits
# on the servers, and one lane took 680 s of a 900 s limit.
files=()
for f in "$cli"/t[0-9]*.sh; do
	name=$(basename "$f" .sh)
	# arguments: only these files (by name, e.g. t0300-migrate)
	if [ $# -gt 0 ]; then case " $* " in *" $name "*) ;; *) continue ;; esac; fi
	files+=("$f")
done
for lane in 0 1; do
	(
		for i in "${!files[@]}"; do
			[ $((i % 2)) = $lane ] || continue
			for bin in /bin/true /bin/false; do
				check "${files[$i]}" "$bin" | sed "s|^# counts |# counts $bin |"
			done
		done >"$log/lane$lane"
	) &
done
wait

grep -hv '^# counts ' "$log/lane0" "$log/lane1"
status=0
n=$(cat "$log/lane0" "$log/lane1" | grep -c '^# counts ')
if [ "$n" != $((2 * ${#files[@]})) ]; then
	echo "not ok - $n of the $((2 * ${#files[@]})) runs reported their counts"
	status=1
fi
for bin in /bin/true /bin/false; do
	cat "$log/lane0" "$log/lane1" | awk -v b="$bin" '
		$1 == "#" && $2 == "counts" && $3 == b { f += $4; bf += $5; r += $6; bad += $7 }
		END {
			printf "# DEVFLOW=%s: %d of %d test functions failed on every engine they ran on (%d failed runs)\n", b, f - bf, f, r
			exit bad != 0
		}' || status=1
done
exit $status
