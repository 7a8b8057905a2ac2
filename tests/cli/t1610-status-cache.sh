#!/bin/bash
# db status through the stat cache (.devflow/cache): a file is not read again
# while its stat matches and its timestamps are older than the read by more
# than the timestamp granularity (git's racy rule); every edit is still seen.
. "$(dirname "$0")/lib.sh"

sqlite_only() { [ "$ENGINE" = sqlite ] || skip_engine "the cache is about the folder, not the engine: run on sqlite only"; }

CACHE=.devflow/cache

# cache_field FILE N: field N (1-based) of FILE's line in the cache
cache_field() {
	awk -F'\t' -v f="$1" -v n="$2" '$1 == f { print $n }' "$CACHE"
}

# cache_set FILE N VALUE...: set fields of FILE's line (pairs N VALUE)
cache_set() {
	python3 - "$CACHE" "$@" <<'EOF'
import sys
path, name, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    f = l.split("\t")
    if f[0] == name:
        for k in range(0, len(pairs), 2):
            f[int(pairs[k]) - 1] = pairs[k + 1]
        lines[i] = "\t".join(f)
open(path, "w").write("\n".join(lines))
EOF
}

# stat fields as the cache keeps them: ino size mtime_ns ctime_ns
stat_ns() {
	python3 -c "import os,sys; s=os.stat(sys.argv[1]); print(s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)" "$1"
}

applied_two() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate; expect_rc 0
	A=migrations/20240101000000_a.sql
	B=migrations/20240102000000_b.sql
}

t_cache_written_and_right() {
	sqlite_only
	applied_two
	rm -f "$CACHE"
	df db status --json; expect_rc 0
	[ -s "$CACHE" ] || fail "db status wrote no $CACHE"
	head -1 "$CACHE" | grep -q "^devflow-stat-cache 1 " || fail "no header in $CACHE"
	[ "$(cache_field 20240101000000_a.sql 8)" = "$(sha256sum "$A" | cut -d' ' -f1)" ] ||
		fail "the cached checksum is not the file's SHA-256"
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	json_eq 'd["applied"]' 2
	# migrate does not use (or need) the cache
	rm -f "$CACHE"
	mig 20240103000000 c "CREATE TABLE c (id INTEGER);"
	df db migrate; expect_rc 0
	[ ! -e "$CACHE" ] || fail "db migrate wrote the stat cache"
}

t_cache_same_second_edit_keeping_size() {
	sqlite_only
	applied_two
	df db status; expect_rc 0
	# an edit right after the cache write, within the same second, same size
	sed -i 's/TABLE a/TABLE z/' "$A"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[false, true]'
	contains "$(json 'd["problems"]')" "20240101000000"
	df db migrate; expect_rc 6
}

t_cache_racy_entry_is_not_trusted() {
	sqlite_only
	applied_two
	df db status; expect_rc 0
	# the worst case: an edit that leaves every stat field as the cache has
	# it (within one timestamp tick).  Simulated: edit, then give the entry
	# the edited file's stat while keeping the old checksum.  Its read time
	# is within the granularity of the file's timestamps: it must be re-read.
	sed -i 's/TABLE a/TABLE y/' "$A"
	set -- $(stat_ns "$A")
	cp "$CACHE" "$CACHE.orig"
	# read 2 s after the file's last change: outside the racy window, the
	# entry is trusted (what the rule allows; a real edit changes the stat)
	cache_set 20240101000000_a.sql 3 "$1" 4 "$2" 5 "$3" 6 "$4" 7 "$(($4 + 2000000000))"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	# read 0.5 s after it: racy, so the file is read again and the edit seen
	cp "$CACHE.orig" "$CACHE"
	cache_set 20240101000000_a.sql 3 "$1" 4 "$2" 5 "$3" 6 "$4" 7 "$(($4 + 500000000))"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[false, true]'
}

t_cache_old_entry_is_trusted() {
	sqlite_only
	applied_two
	touch -d '-1 hour' "$A" "$B"
	sleep 1.1               # ctime (set by touch) older than the racy window
	df db status; expect_rc 0
	# a trusted entry is used without reading the file: give it a wrong
	# checksum and status believes the cache (this proves the cache is read;
	# a real file never gets here without its stat changing)
	cache_set 20240101000000_a.sql 8 "$(printf '0%.0s' $(seq 64))"
	df db status --json; expect_rc 0
	# the cached checksum differs from the row's: devflow then compares the
	# UP's own checksum (read from the file, unchanged), so the wrong entry
	# shows as a DOWN edited since applied
	json_eq '[m.get("down_edited", False) for m in d["migrations"]]' '[true, false]'
	# any stat change sends devflow back to the file: size, mtime (touch),
	# ctime (chmod), inode (rewrite through a new file)
	local change
	for change in "touch $A" "chmod 600 $A" "cp $A $A.new && mv $A.new $A"; do
		# the entry made trusted (read long after the file's last change),
		# with a wrong checksum: only a stat change can send devflow back
		set -- $(stat_ns "$A")
		cache_set 20240101000000_a.sql 3 "$1" 4 "$2" 5 "$3" 6 "$4" 7 "$(($4 + 2000000000))" \
			8 "$(printf '0%.0s' $(seq 64))"
		sh -c "$change"
		df db status --json; expect_rc 0
		json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
		json_eq '[m.get("down_edited", False) for m in d["migrations"]]' '[false, false]'
	done
}

t_cache_old_file_edit_keeping_size_and_mtime() {
	sqlite_only
	applied_two
	touch -d '-1 hour' "$A"
	sleep 1.1
	df db status; expect_rc 0
	local mt
	mt=$(stat -c %y "$A")
	# same size, mtime put back: the ctime still moves
	sed -i 's/TABLE a/TABLE x/' "$A"
	touch -d "$mt" "$A"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[false, true]'
}

t_cache_bad_or_stale() {
	sqlite_only
	applied_two
	df db status; expect_rc 0
	# garbage, a cut line, another folder: ignored and rewritten
	printf 'not a cache\n' >"$CACHE"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	head -1 "$CACHE" | grep -q "^devflow-stat-cache 1 " || fail "the bad cache was not rewritten"
	head -c 100 "$CACHE" >"$CACHE.cut" && mv "$CACHE.cut" "$CACHE"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	sed -i '1s/\tmigrations$/\tother/' "$CACHE"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	# a removed file is missing (not served from the cache), and leaves it
	rm "$B"
	df db status --json; expect_rc 0
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "missing"]'
	[ -z "$(cache_field 20240102000000_b.sql 1)" ] || fail "the removed file is still in the cache"
}

t_status_json_streamed() {
	sqlite_only
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 'b' "CREATE TABLE b (id INTEGER, note TEXT);
INSERT INTO b VALUES (1, 'tab	and \"quote\" and \\ backslash');"
	df db migrate --to 20240101000000; expect_rc 0
	df db status --json; expect_rc 0
	json_eq 'd["migrations"][1]["actions"]' '["create table b (2 columns)", "insert rows into b (data change)"]'
	json_eq 'd["migrations"][1]["state"]' pending
	json_eq 'd["migrations"][1]["applied_at"]' null
	json_eq 'd["migrations"][0]["reversible"]' true
	json_eq 'd["migrations"][1]["reversible"]' false
	json_eq 'sorted(d.keys())' '["applied", "drift", "drift_changes", "engine", "env", "lock", "migrations", "next", "ok", "pending", "problems", "schema_recorded_at", "table_version", "target", "total"]'
}

run_tests t_cache_written_and_right t_cache_same_second_edit_keeping_size \
	t_cache_racy_entry_is_not_trusted t_cache_old_entry_is_trusted \
	t_cache_old_file_edit_keeping_size_and_mtime t_cache_bad_or_stale t_status_json_streamed
