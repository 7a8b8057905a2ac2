#!/bin/bash
# The mutation check: for each line of tests/mutations/list (or only the
# mutations named as arguments), run the named CLI tests with the mutation's
# wrapper as $DEVFLOW, and fail unless every named test fails.  Prints, per
# mutation, the tests that caught it.  Needs the test servers when a line
# names postgres or mysql (exit 77, CTest's "skipped", without them unless
# DEVFLOW_REQUIRE_SERVERS=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
cli=$(cd "$here/../cli" && pwd)
export DEVFLOW_REAL=${DEVFLOW:-$(cd "$here/../.." && pwd)/build/devflow}
[ -x "$DEVFLOW_REAL" ] || { echo "no devflow binary at $DEVFLOW_REAL" >&2; exit 2; }
log=$(mktemp -d "${TMPDIR:-/tmp}/devflow-mut.XXXXXX")
trap 'rm -rf "$log"' EXIT

status=0 missing=0 n=0
while read -r name engines rest; do
	case $name in '' | '#'*) continue ;; esac
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	n=$((n + 1))
	if [ "$name" = review-rules ]; then
		# a C corpus test, run once per rule disabled
		prog=${rest%%:*}
		prog=$(dirname "$DEVFLOW_REAL")/corpus_${prog#corpus/}
		caught="" escaped=""
		for r in $(echo "${rest#*:}" | tr ',' ' '); do
			if DF_REVIEW_DISABLE=$r DF_SHARED=${DF_SHARED:-$here/../../../shared} "$prog" >"$log/rule.$r" 2>&1; then
				escaped="$escaped $r"
			else
				caught="$caught $r"
			fi
		done
		if [ -n "$escaped" ] || [ -z "$caught" ]; then
			echo "not ok - $name: $prog passes with these rules disabled:${escaped:- (none ran)}"; status=1
		else
			echo "ok - $name: $(echo $caught | wc -w) rules, each disabled in turn fails $(basename "$prog")"
		fi
		continue
	fi
	[ -x "$here/$name" ] || { echo "not ok - $name: no wrapper $here/$name"; status=1; continue; }
	# a server engine without its server: not run (a failure when required)
	for e in ${engines//,/ }; do
		case $e in
		postgres) [ -n "${DEVFLOW_TEST_PG_URL:-}" ] || missing=1 ;;
		mysql) [ -n "${DEVFLOW_TEST_MYSQL_URL:-}" ] || missing=1 ;;
		esac
	done
	if [ $missing = 1 ]; then
		if [ "${DEVFLOW_REQUIRE_SERVERS:-0}" = 1 ]; then
			echo "not ok - $name: needs $engines, a server URL is not set"; status=1
		else
			echo "ok - $name # SKIP needs $engines, a server URL is not set"
		fi
		missing=0; skipped=1
		continue
	fi
	caught="" escaped=""
	for spec in $rest; do
		file=${spec%%:*} tests=${spec#*:}
		DEVFLOW="$here/$name" DEVFLOW_TEST_ONLY="${tests//,/ }" DEVFLOW_TEST_ENGINES="${engines//,/ }" \
			bash "$cli/$file.sh" >"$log/$name.$file" 2>&1
		for t in ${tests//,/ }; do
			if grep -q "^not ok - [a-z]* $t\\b" "$log/$name.$file"; then
				caught="$caught $file:$t($(grep "^not ok - [a-z]* $t\\b" "$log/$name.$file" | awk '{print $4}' | paste -sd/))"
			else
				escaped="$escaped $file:$t"
			fi
		done
	done
	if [ -n "$escaped" ]; then
		echo "not ok - $name: not caught by$escaped (caught by:${caught:- none})"
		for f in "$log/$name".*; do sed 's/^/#   /' "$f" | tail -20; done
		status=1
	else
		echo "ok - $name: caught by$caught"
	fi
done <"$here/list"
[ $n -gt 0 ] || { echo "no mutation run"; exit 1; }
echo "# $n mutation(s) checked"
[ $status = 0 ] && [ "${skipped:-0}" = 1 ] && exit 77
exit $status
