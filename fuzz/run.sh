#!/bin/sh
# `make fuzz`: builds every fuzz/fuzz_*.c with libFuzzer + ASan + UBSan
# (clang) and runs each for FUZZ_SECONDS (default 60) on its corpus.
# New findings land in fuzz/corpus/NAME/ and fuzz/crash-*; add the crashing
# inputs to the corpus once fixed.
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)" >&2; exit 1; }
out=build-fuzz
mkdir -p "$out"
libs=$(pkg-config --libs sqlite3 libpq libmariadb inih libcrypto libprotobuf-c)
cflags=$(pkg-config --cflags sqlite3 libpq libmariadb inih libprotobuf-c)
srcs=$(ls src/util/*.c src/sql/*.c src/drivers/*.c src/core/*.c src/review/*.c)
status=0
for f in fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	corpus=fuzz/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	echo "== $name ($secs s)"
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -DDF_VERSION='"fuzz"' -DDF_WITH_POSTGRES -DDF_WITH_MYSQL \
		-Iinclude -Isrc $cflags "$f" $srcs -lpg_query $libs -lm -lpthread -o "$out/$name"
	dict=
	[ -f "fuzz/${name#fuzz_}.dict" ] && dict="-dict=fuzz/${name#fuzz_}.dict"
	[ -f fuzz/sql.dict ] && [ -z "$dict" ] && case $name in *sql*) dict=-dict=fuzz/sql.dict ;; esac
	"$out/$name" $dict -max_total_time="$secs" -print_final_stats=1 "$corpus" 2>&1 |
		grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || status=1
done
exit $status
