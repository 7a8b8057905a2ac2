#!/bin/bash
# db diff --privileges (issue 25).  On PostgreSQL the grants (WITH GRANT
# OPTION, PUBLIC) on tables, views, sequences, functions and schemas, and
# the owners of relations, are compared and written (ALTER ... OWNER TO,
# then GRANT / REVOKE, after every other change); the diff is verified
# (JSON verified: true), applies with psql and a second diff is empty.
# Without the flag they stay listed as not compared and nothing is
# written.  db generate --privileges writes them in UP and undoes them in
# DOWN; db pull --privileges writes them into the schema file.  MariaDB's
# grants are the server's, per user, and SQLite has none: --privileges
# there is a usage error (exit 2, kind usage).
. "$(dirname "$0")/lib.sh"

only_pg() {
	[ "$ENGINE" = postgres ] || skip_engine "PostgreSQL only"
}

roles() {
	local r
	for r in dft_i25_r1 dft_i25_r2; do
		psql -qX -v ON_ERROR_STOP=1 "$URL" -c "DO \$\$BEGIN CREATE ROLE $r; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" \
			>/dev/null 2>&1 || fail "cannot create role $r"
	done
}

CURRENT="CREATE TABLE t (id int PRIMARY KEY);
CREATE VIEW v AS SELECT id FROM t;
CREATE SEQUENCE s;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
GRANT SELECT ON t TO dft_i25_r1;
GRANT SELECT, INSERT ON t TO dft_i25_r2 WITH GRANT OPTION;
GRANT SELECT ON v TO dft_i25_r2;"

DESIRED="CREATE TABLE t (id int PRIMARY KEY);
CREATE VIEW v AS SELECT id FROM t;
CREATE SEQUENCE s;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
GRANT SELECT, UPDATE ON t TO dft_i25_r1;
GRANT SELECT, INSERT ON t TO dft_i25_r2;
GRANT USAGE ON SEQUENCE s TO dft_i25_r1 WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f() TO dft_i25_r2;
GRANT USAGE ON SCHEMA public TO dft_i25_r1;
ALTER TABLE s OWNER TO dft_i25_r2;
CREATE TABLE n (id int);
GRANT SELECT ON n TO PUBLIC;"

setup() {
	new_project
	roles
	printf '%s\n' "$CURRENT" >current.sql
	psql -qX -v ON_ERROR_STOP=1 "$URL" <current.sql >/dev/null || fail "the current schema does not load"
	printf '%s\n' "$DESIRED" >schema.sql
}

t_privileges_written_verified_and_rediffed_empty() {
	only_pg
	setup
	df db diff --privileges --json; expect_rc 0 "db diff --privileges --json"
	json_eq 'd["verified"]' true
	json_eq '"privileges" in d.get("not_compared", [])' false
	json_eq '"owners" in d.get("not_compared", [])' false
	json_eq '[c["kind"] for c in d["changes"] if c["object"] == "privileges table public.t"]' '["table"]'
	json_eq '[c["kind"] for c in d["changes"] if c["object"] == "owners sequence public.s"]' '["sequence"]'
	df db diff --privileges --exit-code; expect_rc 1 "db diff --privileges"
	local diff=$out
	contains "$diff" "-- devflow: verified:"
	contains "$diff" "GRANT UPDATE ON TABLE public.t TO dft_i25_r1;"
	contains "$diff" "REVOKE GRANT OPTION FOR INSERT ON TABLE public.t FROM dft_i25_r2;"
	contains "$diff" "REVOKE SELECT ON TABLE public.v FROM dft_i25_r2;"
	contains "$diff" "GRANT USAGE ON SEQUENCE public.s TO dft_i25_r1 WITH GRANT OPTION;"
	contains "$diff" "REVOKE EXECUTE ON ROUTINE public.f() FROM PUBLIC;"
	contains "$diff" "GRANT EXECUTE ON ROUTINE public.f() TO dft_i25_r2;"
	contains "$diff" "GRANT USAGE ON SCHEMA public TO dft_i25_r1;"
	contains "$diff" "ALTER SEQUENCE public.s OWNER TO \"dft_i25_r2\";"
	contains "$diff" "GRANT SELECT ON TABLE public.n TO PUBLIC;"
	printf '%s\n' "$diff" >diff.sql
	psql -qX -v ON_ERROR_STOP=1 "$URL" <diff.sql >/dev/null 2>&1 || fail "the diff does not apply: $diff"
	df db diff --privileges --exit-code; expect_rc 0 "second diff"
	[ -z "$out" ] || fail "second diff not empty: $out"
	[ "$(q "SELECT has_table_privilege('dft_i25_r1', 't', 'UPDATE')")" = t ] || fail "UPDATE not granted"
	[ "$(q "SELECT has_function_privilege('public', 'f()', 'EXECUTE')")" = f ] || fail "PUBLIC still executes f"
}

t_without_privileges_listed_not_compared() {
	only_pg
	setup
	df db diff --exit-code; expect_rc 1 "db diff"
	contains "$out" "-- not compared (privileges): table public.t, differs between"
	lacks "$out" "GRANT"
	lacks "$out" "OWNER TO"
	df db diff --json; expect_rc 0 "db diff --json"
	json_eq '"privileges" in d["not_compared"]' true
}

# An object the diff drops and creates again (a view over a column whose
# type changes, a function whose result type changes) gets B's grants back
# with --privileges too (the flag's form of the ACL, not the catalog's).
t_recreated_objects_keep_grants() {
	only_pg
	new_project
	roles
	printf '%s\n' "CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE VIEW v AS SELECT id, a FROM t;
GRANT SELECT ON v TO dft_i25_r1;
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
REVOKE EXECUTE ON FUNCTION f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f(int) TO dft_i25_r2;" >current.sql
	psql -qX -v ON_ERROR_STOP=1 "$URL" <current.sql >/dev/null || fail "the current schema does not load"
	printf '%s\n' "CREATE TABLE t (id int PRIMARY KEY, a bigint);
CREATE VIEW v AS SELECT id, a FROM t;
GRANT SELECT ON v TO dft_i25_r1, dft_i25_r2;
CREATE FUNCTION f(x int) RETURNS bigint LANGUAGE sql AS 'SELECT x::bigint';
REVOKE EXECUTE ON FUNCTION f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f(int) TO dft_i25_r2;" >schema.sql
	df db diff --privileges --json; expect_rc 0 "db diff --privileges --json"
	json_eq 'd["verified"]' true
	df db diff --privileges --exit-code; expect_rc 1 "db diff --privileges"
	contains "$out" "DROP VIEW"
	contains "$out" "GRANT SELECT ON TABLE public.v TO dft_i25_r1;"
	contains "$out" "REVOKE EXECUTE ON ROUTINE public.f(x integer) FROM PUBLIC;"
	lacks "$out" "{"
	printf '%s\n' "$out" >diff.sql
	psql -qX -v ON_ERROR_STOP=1 "$URL" <diff.sql >/dev/null 2>&1 || fail "the diff does not apply: $out"
	df db diff --privileges --exit-code; expect_rc 0 "second diff"
	[ -z "$out" ] || fail "second diff not empty: $out"
}

# db generate --privileges: the grants in UP, their undoing in DOWN, both
# verified; migrate leaves nothing for a diff --privileges.
t_generate_privileges() {
	only_pg
	new_project
	roles
	mig 1 create_t "CREATE TABLE t (id int PRIMARY KEY);" "DROP TABLE t;"
	df db migrate; expect_rc 0 "migrate"
	printf '%s\n' "CREATE TABLE t (id int PRIMARY KEY);
GRANT SELECT ON t TO dft_i25_r1 WITH GRANT OPTION;" >schema.sql
	df db generate grant_t; expect_rc 0 "db generate without --privileges"
	contains "$out$err" "No changes"
	df db generate grant_t --privileges; expect_rc 0 "db generate --privileges"
	contains "$out$err" "Verified the UP"
	contains "$out$err" "Verified the DOWN"
	local f
	f=$(ls migrations/*grant_t* 2>/dev/null | head -1)
	[ -n "$f" ] || fail "generate wrote nothing"
	contains "$(cat "$f" 2>/dev/null)" "GRANT SELECT ON TABLE public.t TO dft_i25_r1 WITH GRANT OPTION;"
	contains "$(cat "$f" 2>/dev/null)" "REVOKE SELECT ON TABLE public.t FROM dft_i25_r1;"
	df db migrate; expect_rc 0 "migrate the grant"
	df db diff --privileges --exit-code; expect_rc 0 "diff after migrate"
}

# db pull --privileges writes the grants and owners; the file it writes
# diffs empty against the database, grants included.  Without: none.
t_pull_privileges() {
	only_pg
	new_project
	roles
	printf '%s\n' "$DESIRED" >desired.sql
	psql -qX -v ON_ERROR_STOP=1 "$URL" <desired.sql >/dev/null || fail "the schema does not load"
	df db pull -o plain.sql; expect_rc 0 "db pull"
	lacks "$(cat plain.sql 2>/dev/null)" "GRANT"
	df db pull --privileges; expect_rc 0 "db pull --privileges"
	contains "$(cat schema.sql 2>/dev/null)" "GRANT SELECT ON TABLE public.n TO PUBLIC;"
	contains "$(cat schema.sql 2>/dev/null)" "REVOKE EXECUTE ON ROUTINE public.f() FROM PUBLIC;"
	contains "$(cat schema.sql 2>/dev/null)" "ALTER SEQUENCE public.s OWNER TO \"dft_i25_r2\";"
	df db diff --privileges --exit-code; expect_rc 0 "diff against the pulled file"
	[ -z "$out" ] || fail "diff against the pulled file not empty: $out"
}

t_privileges_elsewhere_usage_error() {
	[ "$ENGINE" = postgres ] && skip_engine "PostgreSQL compares them"
	new_project
	printf 'CREATE TABLE t (id INT PRIMARY KEY);\n' >schema.sql
	df db diff --privileges; expect_rc 2 "db diff --privileges on $ENGINE"
	contains "$err" "--privileges compares PostgreSQL's grants and owners"
	contains "$err" "without --privileges"
	df db diff --privileges --json; expect_rc 2 "db diff --privileges --json"
	json_eq 'd["error"]["kind"]' usage
	df db generate g --privileges; expect_rc 2 "db generate --privileges on $ENGINE"
	contains "$err" "--privileges compares PostgreSQL's grants and owners"
	df db migrate; expect_rc 0 "migrate (creates the SQLite file)"
	df db pull -o - --privileges; expect_rc 2 "db pull --privileges on $ENGINE"
	contains "$err" "--privileges compares PostgreSQL's grants and owners"
}

run_tests t_privileges_written_verified_and_rediffed_empty t_without_privileges_listed_not_compared \
	t_recreated_objects_keep_grants t_generate_privileges t_pull_privileges \
	t_privileges_elsewhere_usage_error
