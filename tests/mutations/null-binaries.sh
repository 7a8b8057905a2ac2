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

status=0
for bin in /bin/true /bin/false; do
	funcs=0 bad=0 badfuncs=0 runs=0
	for f in "$cli"/t[0-9]*.sh; do
		name=$(basename "$f" .sh)
		# arguments: only these files (by name, e.g. t0300-migrate)
		if [ $# -gt 0 ]; then case " $* " in *" $name "*) ;; *) continue ;; esac; fi
		DEVFLOW=$bin DEVFLOW_KILL_ROUNDS=2 timeout 600 bash "$f" >"$log/$name.out" 2>"$log/$name.err"
		# every test function the file's run_tests line names must show up
		want=$(sed -n '/^run_tests/,/[^\\]$/p' "$f" | tr -s ' \t\\' '\n' | grep '^t_' | sort -u)
		got=$(sed -nE 's/^(not )?ok - [a-z]+ (t_[A-Za-z0-9_]+).*/\2/p' "$log/$name.out" | sort -u)
		if [ -z "$want" ] || [ "$want" != "$got" ]; then
			echo "not ok - DEVFLOW=$bin $name: the tests run ($(echo $got)) are not the tests named ($(echo $want))"
			bad=$((bad + 1))
		fi
		for t in $want; do
			funcs=$((funcs + 1))
			nok=$(grep -cE "^not ok - [a-z]+ $t( |\$)" "$log/$name.out")
			ok=$(grep -E "^ok - [a-z]+ $t( |\$)" "$log/$name.out" | grep -vc ' # SKIP ')
			runs=$((runs + nok))
			if [ "$ok" != 0 ] || [ "$nok" = 0 ]; then
				echo "not ok - DEVFLOW=$bin $name $t: $ok run(s) passed, $nok failed"
				grep -E "^(not )?ok - [a-z]+ $t( |\$)" "$log/$name.out" | sed 's/^/#   /'
				bad=$((bad + 1)) badfuncs=$((badfuncs + 1))
			fi
		done
		grep -qE '^0 passed, [0-9]+ failed' "$log/$name.out" ||
			{ echo "not ok - DEVFLOW=$bin $name: $(tail -1 "$log/$name.out")"; bad=$((bad + 1)); }
	done
	echo "# DEVFLOW=$bin: $((funcs - badfuncs)) of $funcs test functions failed on every engine they ran on ($runs failed runs)"
	[ $bad = 0 ] || status=1
done
exit $status
