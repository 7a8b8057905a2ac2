#!/usr/bin/env bash
# Run every bench/b_*.sh in turn, then print one table (and write it to
# bench/results.md).  Exit 1 when a target is missed or a benchmark could not
# run; a peer that cannot be installed is reported, not failed.
#
#   bench/run.sh [PATTERN]     e.g. bench/run.sh status  (only b_*status*.sh)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}    # seconds per benchmark
pattern=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=$tmp/rows notes=$tmp/notes
: >"$rows"; : >"$notes"
status=0
ran=0

export DEVFLOW BENCH_WORK BENCH_RUNS BENCH_ROUNDS BENCH_WARMUP BENCH_MAX_LOAD BENCH_WAIT

for b in "$BENCH_DIR"/b_*.sh; do
	[ -e "$b" ] || continue
	name=$(basename "$b" .sh)
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	ran=$((ran + 1))
	printf '\n== %s ==\n' "$name" >&2
	timeout "$BENCH_TIMEOUT" bash "$b" >"$tmp/out"
	rc=$?
	grep '^RESULT|' "$tmp/out" | cut -d'|' -f2- >>"$rows"
	grep '^NOTE|' "$tmp/out" | cut -d'|' -f2- >>"$notes"
	if [ "$rc" -ne 0 ] && ! grep -q '^RESULT|.*|error$' "$tmp/out"; then
		why="exit $rc"; [ "$rc" -eq 124 ] && why="timed out after ${BENCH_TIMEOUT}s"
		printf '%s|-|-|-|-|error\n' "$name: failed to run ($why)" >>"$rows"
	fi
	[ "$rc" -ne 0 ] && status=1
done
[ "$ran" -gt 0 ] || { echo "no benchmark matches '$pattern'" >&2; exit 2; }

# a missed target or a benchmark that did not run fails the run
awk -F'|' '$6 == "no" || $6 == "error" { bad = 1 } END { exit bad }' "$rows" || status=1

# ---- the table -----------------------------------------------------------------
table() {
	awk -F'|' 'BEGIN {
		h[1] = "work"; h[2] = "devflow"; h[3] = "peer"; h[4] = "ratio"; h[5] = "target"; h[6] = "met"
		for (i = 1; i <= 6; i++) w[i] = length(h[i])
	}
	{
		n++
		for (i = 1; i <= 6; i++) { c[n, i] = $i; if (ulen($i) > w[i]) w[i] = ulen($i) }
	}
	# width in characters, counting a UTF-8 sequence as one
	function ulen(s,   t) { t = s; gsub(/[\200-\277]/, "", t); return length(t) }
	function cell(s, i,   k, p) { p = s; for (k = ulen(s); k < w[i]; k++) p = p " "; return p }
	function line(r,   i, s) {
		s = "|"
		for (i = 1; i <= 6; i++) s = s " " cell(r == 0 ? h[i] : c[r, i], i) " |"
		print s
	}
	END {
		line(0)
		s = "|"; for (i = 1; i <= 6; i++) { d = ""; for (k = 0; k < w[i] + 2; k++) d = d "-"; s = s d "|" }
		print s
		for (r = 1; r <= n; r++) line(r)
	}' "$rows"
}

version=$("$DEVFLOW" --version 2>/dev/null | head -n1)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
git -C "$ROOT" diff --quiet HEAD -- src include 2>/dev/null || rev="$rev+changes"
{
	echo "# Benchmark results (latest run)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC') · ${version:-devflow (version unknown)} · commit ${rev:-?} ·" \
		"$(nproc) cores, $(uname -srm) · \`make bench\`"
	echo
	table
	echo
	sed 's/^/- /' "$notes"
	echo
	echo "ratio = peer / devflow (higher is better for devflow); met: yes, no (target missed),"
	echo "skipped (the peer could not be installed), error (the benchmark did not run)."
} >"$BENCH_DIR/results.md"

printf '\n' >&2
table
printf '\n'
sed 's/^/- /' "$notes"
printf '\n(written to bench/results.md)\n'
[ "$status" -eq 0 ] && echo "all targets met" || echo "FAILED: a target was missed or a benchmark did not run"
exit "$status"
