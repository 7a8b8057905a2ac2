#!/bin/bash
# On PostgreSQL a diff's check (t1880) loads and compares only what the
# diff touches: the objects it changes, every object of a table it
# changes, what depends on those (views on views, foreign keys that
# reference them), and what all of that needs (the tables, types,
# functions, schemas).  Said with --verbose ("verified what the diff
# touches: N of M objects").  When that part is not verified the whole
# schema is checked, so what db diff says is the whole check's, byte for
# byte.  DEVFLOW_VERIFY_WHOLE=1 checks the whole schema at once.  SQLite
# (in memory) and MariaDB check the whole schema.
. "$(dirname "$0")/lib.sh"

leftovers() { throwaway_leftovers; }

# 30 tables the diff does not touch, and the ones it does
setup() {
	[ "$ENGINE" = postgres ] || skip_engine "only PostgreSQL checks a part (SQLite and MariaDB: the whole schema)"
	new_project
	local fill="" i
	for i in $(seq 1 30); do
		fill="$fill
CREATE TABLE f$i (id integer PRIMARY KEY, v text);
CREATE INDEX f${i}_v ON f$i (v);"
	done
	mig 20240101000000 base "CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE FUNCTION app.twice(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT \$1 * 2';
CREATE TABLE t (id integer PRIMARY KEY, a integer, m app.mood);
CREATE TABLE c (id integer PRIMARY KEY, t_id integer REFERENCES t (id));
CREATE VIEW v AS SELECT id, a, app.twice(a) AS a2 FROM t;
CREATE VIEW vv AS SELECT id, a2 FROM v;
CREATE TABLE u (id integer PRIMARY KEY, m app.mood);$fill"
	df db migrate; expect_rc 0
	# t.a changes type: v and vv go and come back; c's foreign key stays;
	# a new view on u needs u, app.mood and app.twice, which do not change
	{
		printf '%s\n' "CREATE SCHEMA app;" "CREATE TYPE app.mood AS ENUM ('ok', 'sad');" \
			"CREATE FUNCTION app.twice(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT \$1 * 2';" \
			"CREATE TABLE t (id integer PRIMARY KEY, a bigint, m app.mood);" \
			"CREATE TABLE c (id integer PRIMARY KEY, t_id integer REFERENCES t (id));" \
			"CREATE VIEW v AS SELECT id, a, app.twice(a::integer) AS a2 FROM t;" \
			"CREATE VIEW vv AS SELECT id, a2 FROM v;" \
			"CREATE TABLE u (id integer PRIMARY KEY, m app.mood);" \
			"CREATE VIEW uv AS SELECT id, m, app.twice(id) AS d FROM u WHERE m = 'ok';"
		for i in $(seq 1 30); do
			printf '%s\n' "CREATE TABLE f$i (id integer PRIMARY KEY, v text);" "CREATE INDEX f${i}_v ON f$i (v);"
		done
	} >schema.sql
}

t_part_verified() {
	setup
	df -v db diff; expect_rc 0
	contains "$out" "-- devflow: verified:"
	contains "$out$err" "verified what the diff touches:"
	contains "$out" 'CREATE VIEW "public"."uv"'
	# the part is a part: far fewer objects than the two sides hold
	n=$(printf '%s\n' "$out$err" | sed -n 's/.*touches: \([0-9]*\) of the sides. \([0-9]*\) objects.*/\1 \2/p')
	[ -n "$n" ] || fail "no counts in: $err"
	set -- $n
	[ "$1" -gt 0 ] && [ $(( $1 * 2 )) -lt "$2" ] || fail "the part is $1 of $2 objects"
	df db diff --json; expect_rc 0
	json_eq 'd["verified"]' true
	json_eq 'd["ok"]' true
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
	# the script the part verified does give the "to" side
	psql -qX -v ON_ERROR_STOP=1 "$URL" <<<"$(json 'd["sql"]')" >/dev/null || fail "the script fails on the database"
	df db diff --json; expect_rc 0
	json_eq 'len(d["changes"])' 0
}

t_whole_on_request() {
	setup
	DEVFLOW_VERIFY_WHOLE=1 df -v db diff; expect_rc 0
	contains "$out" "-- devflow: verified:"
	lacks "$out$err" "verified what the diff touches"
	contains "$out$err" "verifying the diff"
	df -v db diff --no-verify; expect_rc 0
	lacks "$out$err" "verified what the diff touches"
	lacks "$out" "verified:"
}

# Not verified on the part (a table of a type the diff does not write,
# as in t1880): the whole is checked, and says the same as a whole
# check from the start, text and JSON.
t_part_not_verified_is_the_whole() {
	setup
	# range types are not compared: the new table r is written without its
	# new type (a view's lost INSTEAD OF trigger, the case this used
	# first, is kept now: t1890)
	printf '%s\n' "CREATE TYPE floatrange AS RANGE (subtype = float8);" \
		"CREATE TABLE r (x floatrange);" >>schema.sql
	df -v db diff; expect_rc 1
	contains "$out" "NOT VERIFIED"
	lacks "$out$err" "verified what the diff touches"
	# the time of the check (-v) aside
	part_out=$(printf '%s' "$out" | sed -E 's/in [0-9]+ ms/in N ms/')
	part_err=$(printf '%s' "$err" | sed -E 's/in [0-9]+ ms/in N ms/')
	DEVFLOW_VERIFY_WHOLE=1 df -v db diff; expect_rc 1
	out=$(printf '%s' "$out" | sed -E 's/in [0-9]+ ms/in N ms/')
	err=$(printf '%s' "$err" | sed -E 's/in [0-9]+ ms/in N ms/')
	[ "$out" = "$part_out" ] || fail "text differs from the whole check's: $(diff <(echo "$part_out") <(echo "$out") | head -20)"
	[ "$err" = "$part_err" ] || fail "stderr differs from the whole check's: $(diff <(echo "$part_err") <(echo "$err") | head -20)"
	df db diff --json; expect_rc 1
	json_eq 'd["error"]["kind"]' unverified
	part_json=$(json '{k: v for k, v in d.items() if k != "verify_ms"}')
	DEVFLOW_VERIFY_WHOLE=1 df db diff --json; expect_rc 1
	whole_json=$(json '{k: v for k, v in d.items() if k != "verify_ms"}')
	[ "$part_json" = "$whole_json" ] || fail "JSON differs from the whole check's"
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
}

run_tests t_part_verified t_whole_on_request t_part_not_verified_is_the_whole
