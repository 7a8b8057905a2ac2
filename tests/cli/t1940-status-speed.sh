#!/bin/bash
# What `db status` leaves out to be fast (issue 26) never changes what it
# says: a cached file that changed is read again (same size, mtime put
# back); the schema record's text is read only when the live schema must be
# compared with it (SQLite: the schema cookie moved; other engines: always);
# the applied_at of a row in UTC is printed without a time round trip, and
# every other form as before.
. "$(dirname "$0")/lib.sh"

CACHE=.devflow/cache

applied_two() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate; expect_rc 0
	A=migrations/20240101000000_a.sql
	B=migrations/20240102000000_b.sql
}

# trust_cache FILE: make FILE's cache entry one that status trusts (read
# 2 s after the file's last change, outside the racy window)
trust_cache() {
	python3 - "$CACHE" "$1" <<'EOF'
import os, sys
path, name = sys.argv[1], sys.argv[2]
s = os.stat("migrations/" + name)
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    f = l.split("\t")
    if f[0] == name:
        f[2], f[3], f[4], f[5] = str(s.st_ino), str(s.st_size), str(s.st_mtime_ns), str(s.st_ctime_ns)
        f[6] = str(s.st_ctime_ns + 2000000000)
        lines[i] = "\t".join(f)
open(path, "w").write("\n".join(lines))
EOF
}

t_cached_file_edited_same_size_mtime_restored() {
	applied_two
	df db status --json; expect_rc 0
	[ -s "$CACHE" ] || fail "db status wrote no $CACHE"
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	trust_cache 20240101000000_a.sql
	trust_cache 20240102000000_b.sql
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[true, true]'
	# the same size, the mtime put back: the ctime (and so the stat) moved
	local mt
	mt=$(stat -c %y "$A")
	sed -i 's/TABLE a/TABLE q/' "$A"
	touch -d "$mt" "$A"
	[ "$(stat -c %y "$A")" = "$mt" ] || fail "the mtime was not put back"
	df db status --json; expect_rc 0
	json_eq '[m["checksum_ok"] for m in d["migrations"]]' '[false, true]'
	contains "$(json 'd["problems"]')" "20240101000000"
	df db status; expect_rc 0
	contains "$out" "edited"
	# and the cache now holds the edited file's checksum
	[ "$(awk -F'\t' '$1 == "20240101000000_a.sql" { print $8 }' "$CACHE")" = \
	  "$(sha256sum "$A" | cut -d' ' -f1)" ] || fail "the cache kept the old checksum"
}

t_record_text_read_only_to_compare() {
	[ "$ENGINE" = sqlite ] || skip_engine "only SQLite tells (its schema cookie) that the schema did not change; the others compare on every status (t1410)"
	applied_two
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	local rec
	rec=$(ls .devflow/schema/*.schema)
	[ "$(wc -l <"$rec")" -gt 2 ] || fail "the record holds no schema text"
	# the record's hash and stamp kept, its schema text gone: with the
	# cookie unchanged status needs only the stamp, and says so
	head -n 2 "$rec" >"$rec.new" && mv "$rec.new" "$rec"
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	df db status; expect_rc 0
	contains "$out" "no drift since"
	# a change outside devflow moves the cookie: now the text is read and
	# compared (an empty recorded schema: everything live is "added")
	q "CREATE TABLE notes (id INTEGER PRIMARY KEY)" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(json "' '.join(c['op'] + ' ' + c['object'] for c in d['drift_changes'])")" "notes"
}

t_outside_change_seen_after_stamp_read() {
	applied_two
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	q "CREATE TABLE outside_t (id INTEGER PRIMARY KEY)" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(json "' '.join(c['op'] + ' ' + c['object'] for c in d['drift_changes'])")" "outside_t"
	df db status; expect_rc 0
	contains "$out" "Drift:"
	contains "$out" "outside_t"
}

t_applied_at_iso_utc() {
	applied_two
	df db status --json; expect_rc 0
	json_eq 'all(__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["applied_at"]) for m in d["migrations"])' true
	local at
	at=$(json 'd["migrations"][0]["applied_at"]')
	df db status; expect_rc 0
	contains "$out" "$at"
}

t_applied_at_forms() {
	[ "$ENGINE" = sqlite ] || skip_engine "the other engines keep applied_at in a time column: no free text to test"
	applied_two
	local v want
	# stored -> shown: UTC as it is; a day past the month's end and an
	# offset through the calendar, as before; not a time: as it is
	for v in "2024-02-29 23:59:59|2024-02-29T23:59:59Z" \
		 "2023-02-29 10:00:00|2023-03-01T10:00:00Z" \
		 "2024-06-01 24:00:00|2024-06-02T00:00:00Z" \
		 "2024-06-01T12:00:00.250+02:00|2024-06-01T10:00:00Z" \
		 "2024-12-31 23:30:00-01:00|2025-01-01T00:30:00Z" \
		 "2024-06-01 12:00:00Z|2024-06-01T12:00:00Z" \
		 "yesterday|yesterday"; do
		want=${v#*|}
		q "UPDATE _migrations SET applied_at = '${v%%|*}' WHERE filename = '20240101000000_a.sql'" >/dev/null
		df db status --json; expect_rc 0
		json_eq 'd["migrations"][0]["applied_at"]' "$want"
		df db status; expect_rc 0
		contains "$out" "$want"
	done
}

t_large_schema_read_whole() {
	[ "$ENGINE" = sqlite ] || skip_engine "devflow sizes SQLite's own hash tables (drivers/lite_mem.c); the servers keep their catalogs themselves"
	applied_two
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	# 400 tables and 400 indexes: past the 64 buckets SQLite's build caps its
	# schema hash tables at, so they are the larger ones devflow gives it
	local i
	{
		echo "BEGIN;"
		for ((i = 0; i < 400; i++)); do
			echo "CREATE TABLE big_$i (id INTEGER PRIMARY KEY, v TEXT);"
			echo "CREATE INDEX big_${i}_v ON big_$i (v);"
		done
		echo "COMMIT;"
	} | sqlite3 -batch test.db
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	json_eq 'sorted(c["object"] for c in d["drift_changes"] if c["op"] == "added" and c["object"].startswith("table big_"))[:2]' \
		'["table big_0", "table big_1"]'
	json_eq 'len([c for c in d["drift_changes"] if c["object"].startswith("table big_")])' 400
	json_eq 'len([c for c in d["drift_changes"] if c["object"].startswith("index ")])' 400
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "applied"]'
	# and a migrate over them: every name found (a lookup that missed would
	# fail the CREATE of an existing one, or find a dropped one)
	mig 20240103000000 c "CREATE TABLE big_400 (id INTEGER); DROP INDEX big_7_v; DROP TABLE big_7;" "DROP TABLE big_400;"
	df db migrate --accept-drift; expect_rc 0
	table_exists big_400 || fail "big_400 was not created"
	! table_exists big_7 || fail "big_7 was not dropped"
	mig 20240104000000 d "CREATE TABLE big_399 (id INTEGER);"
	df db migrate --accept-drift; expect_rc 1
	contains "$err" "big_399 already exists"
}

t_tool_history_merged_by_version() {
	new_project
	local i v rows=""
	# dbmate's layout, 40 files; dbmate's history holds all but the last two,
	# and a version no file has; devflow has recorded none of them
	for ((i = 1; i <= 40; i++)); do
		v=$(printf '202401%02d000000' "$i")
		printf -- '-- migrate:up\nCREATE TABLE t%d (id INTEGER);\n-- migrate:down\nDROP TABLE t%d;\n' "$i" "$i" \
			>"migrations/${v}_t$i.sql"
		[ "$i" -le 38 ] && rows="$rows${rows:+, }('$v')"
	done
	q "CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY)" >/dev/null
	q "INSERT INTO schema_migrations (version) VALUES $rows, ('20231231000000')" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["applied"]' 38
	json_eq 'd["pending"]' 2
	json_eq 'd["adoptable"]["tool"]' dbmate
	json_eq 'len(d["adoptable"]["versions"])' 38
	json_eq '[m["state"] for m in d["migrations"]][36:]' '["applied", "applied", "pending", "pending"]'
	json_eq '[m.get("adopted_from") for m in d["migrations"]][37:39]' '["dbmate", null]'
}

run_tests t_tool_history_merged_by_version t_large_schema_read_whole t_cached_file_edited_same_size_mtime_restored t_record_text_read_only_to_compare \
	t_outside_change_seen_after_stamp_read t_applied_at_iso_utc t_applied_at_forms
