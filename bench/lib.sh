# Shared helpers for the benchmarks in bench/b_*.sh.  Sourced, not run.
#
# A benchmark prints its results on stdout, one line each, and its progress on
# stderr.  run.sh collects two kinds of line:
#
#   RESULT|work|devflow value|peer: peer value|ratio|target|met
#   NOTE|free text printed under the table
#
# `met` is one of: yes, no (target missed), skipped (a peer could not be
# installed; not a failure), error (the benchmark could not run).  A b_*.sh
# exits 0 when it ran (even if a target was missed: run.sh decides from `met`)
# and non-zero when it could not run.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_WORK=${BENCH_WORK:-$BENCH_DIR/.work}
DEVFLOW=${DEVFLOW:-$ROOT/build/devflow}
BENCH_RUNS=${BENCH_RUNS:-20}            # timed runs per command, over all rounds
BENCH_ROUNDS=${BENCH_ROUNDS:-5}         # rounds, the order of the commands rotating
BENCH_WARMUP=${BENCH_WARMUP:-3}
BENCH_MAX_LOAD=${BENCH_MAX_LOAD:-1.0}   # wait for the 1-min load to drop below this
BENCH_WAIT=${BENCH_WAIT:-300}           # ... for at most this many seconds
export LC_ALL=C

mkdir -p "$BENCH_WORK"

say() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

result() { # work devflow peer ratio target met
	printf 'RESULT|%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

note() { printf 'NOTE|%s\n' "$*"; }

# ---- peers -------------------------------------------------------------------

# apt_need PKG...: install the Debian packages that are missing (root only).
apt_need() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "missing packages ${missing[*]} and not root: cannot install them"
		return 1
	fi
	say "installing ${missing[*]} (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$BENCH_WORK/apt.log" 2>&1 && return 0
	apt-get update -q >>"$BENCH_WORK/apt.log" 2>&1 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$BENCH_WORK/apt.log" 2>&1
}

# npm_need PKG: install an npm package into bench/.work (never the project).
npm_need() {
	local pkg=$1
	[ -d "$BENCH_WORK/node_modules/$pkg" ] && return 0
	if ! command -v npm >/dev/null 2>&1; then
		apt_need nodejs npm || return 1
	fi
	say "installing $pkg (npm, into bench/.work)"
	npm install --prefix "$BENCH_WORK" --no-audit --no-fund "$pkg" >"$BENCH_WORK/npm-${pkg//\//_}.log" 2>&1
}

# ---- the machine ---------------------------------------------------------------

load1() { cut -d' ' -f1 /proc/loadavg; }

# Wait (a while) for a quiet machine: other people build on the same cores.
wait_quiet() {
	local waited=0
	while awk -v l="$(load1)" -v m="$BENCH_MAX_LOAD" 'BEGIN { exit !(l >= m) }'; do
		if [ "$waited" -ge "$BENCH_WAIT" ]; then
			say "load is still $(load1) after ${waited}s; measuring anyway"
			return 1
		fi
		[ "$waited" -eq 0 ] && say "load $(load1) >= $BENCH_MAX_LOAD: waiting up to ${BENCH_WAIT}s for a quiet machine"
		sleep 10
		waited=$((waited + 10))
	done
	return 0
}

# ---- measuring -------------------------------------------------------------------

# time_cmds OUT NAME CMD [NAME CMD]...: wall time of each command, written to
# OUT as "name median_ms mean_ms stddev_ms" lines.  The commands are timed in
# BENCH_ROUNDS rounds, the order rotating each round, so that a load that comes
# and goes on shared cores hits all of them alike; each round times every
# command BENCH_RUNS / BENCH_ROUNDS times (hyperfine when present, else a
# loop) and keeps its median.  Reported: the median, mean and standard
# deviation of the round medians.  Commands run without a shell (split on
# spaces), output discarded; a command that fails fails the measurement.
# TIME_PREPARE_<name> (name with - as _), when set, is run through a shell
# before every timed run of that command, untimed (hyperfine's --prepare):
# e.g. removing a cache for a cold run.
time_cmds() {
	local out=$1; shift
	local rounds=${BENCH_ROUNDS:-5} csv=$BENCH_WORK/hyperfine.csv raw=$BENCH_WORK/times.raw
	local names=() cmds=() args=() prep=() n per r i j k w t0 t1 line pv
	while [ $# -ge 2 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	n=${#names[@]}
	per=$(((BENCH_RUNS + rounds - 1) / rounds))
	[ "$per" -lt 2 ] && per=2
	: >"$raw"
	for ((r = 0; r < rounds; r++)); do
		w=1; [ "$r" -eq 0 ] && w=$BENCH_WARMUP
		line="round $((r + 1))/$rounds (load $(load1)):"
		if command -v hyperfine >/dev/null 2>&1; then
			args=()
			for ((i = 0; i < n; i++)); do
				k=$(((i + r) % n)); args+=(-n "${names[k]}" "${cmds[k]}")
			done
			# one --prepare per command, in order, when any has one
			prep=()
			for ((i = 0; i < n; i++)); do
				k=$(((i + r) % n)); pv=TIME_PREPARE_${names[k]//-/_}
				[ -n "${!pv:-}" ] && prep=(x)
			done
			if [ ${#prep[@]} -gt 0 ]; then
				prep=()
				for ((i = 0; i < n; i++)); do
					k=$(((i + r) % n)); pv=TIME_PREPARE_${names[k]//-/_}
					prep+=(--prepare "${!pv:-true}")
				done
				args=("${prep[@]}" "${args[@]}")
			fi
			hyperfine -N --style none --warmup "$w" --runs "$per" --export-csv "$csv" "${args[@]}" ||
				return 1
			# command,mean,stddev,median,user,system,min,max (seconds)
			awk -F, 'NR > 1 { printf "%s %.3f\n", $1, $4 * 1000 }' "$csv" >>"$raw"
		else
			for ((i = 0; i < n; i++)); do
				k=$(((i + r) % n))
				pv=TIME_PREPARE_${names[k]//-/_}
				for ((j = 0; j < w; j++)); do
					sh -c "${!pv:-true}"; ${cmds[k]} >/dev/null 2>&1 || return 1
				done
				for ((j = 0; j < per; j++)); do
					sh -c "${!pv:-true}"
					t0=$(date +%s%N); ${cmds[k]} >/dev/null 2>&1 || return 1; t1=$(date +%s%N)
					echo $(((t1 - t0) / 1000))
				done | sort -n | awk -v n="${names[k]}" '{ v[NR] = $1 }
					END { printf "%s %.3f\n", n, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000 }' >>"$raw"
			done
		fi
		say "$line $(tail -n "$n" "$raw" | awk '{ printf " %s %.1f ms", $1, $2 }')"
	done
	sort -k1,1 -k2,2n "$raw" | awk '
		function flush() {
			if (!c) return
			m = c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
			mean = s / c; sd = q / c - mean * mean; sd = sd > 0 ? sqrt(sd) : 0
			printf "%s %.2f %.2f %.2f\n", name, m, mean, sd
		}
		$1 != name { flush(); name = $1; c = 0; s = 0; q = 0 }
		{ v[++c] = $2; s += $2; q += $2 * $2 }
		END { flush() }' >"$out"
}

# peak_rss_kib CMD...: the largest "Maximum resident set size" of 3 runs (KiB).
peak_rss_kib() {
	local i kb max=0 f=$BENCH_WORK/time-v.txt
	[ -x /usr/bin/time ] || return 1
	for i in 1 2 3; do
		/usr/bin/time -v -o "$f" "$@" >/dev/null 2>&1 || return 1
		kb=$(awk -F: '/Maximum resident set size/ { gsub(/[ \t]/, "", $2); print $2 }' "$f")
		[ -n "$kb" ] || return 1
		[ "$kb" -gt "$max" ] && max=$kb
	done
	echo "$max"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
