#!/bin/sh
# `make check`: installs what is missing, builds twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), starts throwaway PostgreSQL
# and MariaDB servers on loopback, and runs every test in both builds
# (the self-tests of tests/mutations in the first only).
# A server that does not start fails the run: nothing is skipped quietly
# (DEVFLOW_REQUIRE_SERVERS=1 makes a missing server a failure, not a skip).
# The tests labelled `long` (the whole PostgreSQL diff and generate corpora,
# every case verified by devflow itself and by the runner) run only in
# `make check-long` (DF_CHECK_LONG=1), in the normal build.  The corpus
# runners sample: the normal build every 8th PostgreSQL case (generate every
# 16th) and all of the others, the ASan build one case in 32 of each
# (CMakeLists.txt).
set -eu
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}

scripts/install-deps.sh test

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDF_SANITIZE=ON -DDF_SELFTEST=OFF >/dev/null
cmake --build build-asan -j"$jobs"

srv=$(mktemp -d "${TMPDIR:-/tmp}/devflow-servers.XXXXXX")
trap 'tests/support/servers.sh stop "$srv" >/dev/null 2>&1 || true' EXIT INT TERM
tests/support/servers.sh start "$srv"
. "$srv/env"
export DEVFLOW_TEST_PG_URL DEVFLOW_TEST_MYSQL_URL
export DEVFLOW_REQUIRE_SERVERS=1

status=0
long="-LE long"
[ "${DF_CHECK_LONG:-0}" = 1 ] && long=
echo "== tests (RelWithDebInfo build)"
ctest --test-dir build --output-on-failure -j"$jobs" $long || status=1
echo "== tests (ASan + UBSan build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE long || status=1
exit $status
