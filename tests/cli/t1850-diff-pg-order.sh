#!/bin/bash
# db diff / db pull on PostgreSQL: objects in the order the catalog's
# dependencies ask (row types of a signature, extension types, what a
# LANGUAGE sql body names), both ways; aggregates read, written and
# compared; a partitioned table's index made for its partitions; LOGGED /
# UNLOGGED written.  Each script is applied with psql to a copy and the
# re-diff must be empty.
. "$(dirname "$0")/lib.sh"

# PostgreSQL only; a new project (cds into it)
pg_only() {
	[ "$ENGINE" = postgres ] || skip_engine "PostgreSQL's catalog order (functions, aggregates, extensions)"
	new_project
	NDBS=0
}

# two new databases A and B loaded from a.sql and b.sql (URL_A, URL_B)
two_dbs() {
	NDBS=$((NDBS + 1))
	server_db "${DBNAME}_a$NDBS"; URL_A=$DB_URL
	server_db "${DBNAME}_b$NDBS"; URL_B=$DB_URL
	psql -qX -v ON_ERROR_STOP=1 "$URL_A" -f a.sql >/dev/null 2>&1 || fail "a.sql does not load"
	psql -qX -v ON_ERROR_STOP=1 "$URL_B" -f b.sql >/dev/null 2>&1 || fail "b.sql does not load"
}

# the way back: B (untouched so far) to a new copy of a.sql (URL_A0)
back() {
	server_db "${DBNAME}_o$NDBS"; URL_A0=$DB_URL
	psql -qX -v ON_ERROR_STOP=1 "$URL_A0" -f a.sql >/dev/null 2>&1 || fail "a.sql does not load"
	round_trip "$URL_B" "$URL_A0"
}

# round_trip FROM_URL TO_URL: the diff applies with psql and the re-diff is empty
round_trip() {
	df db diff --from "$1" --to "$2"; expect_rc 0 "diff"
	printf '%s\n' "$out" >step.sql
	psql -qX -v ON_ERROR_STOP=1 "$1" -f step.sql >apply.log 2>&1 ||
		fail "the diff does not apply: $(cat apply.log) -- script: $(grep -v '^--' step.sql | head -c 1500)"
	df db diff --from "$1" --to "$2" --exit-code; expect_rc 0 "re-diff"
	[ -z "$out" ] || fail "re-diff not empty: $out"
}

# functions whose signature or SQL body needs a table, an aggregate and a view on it
write_app_schema() {
	cat >"$1" <<'EOF'
CREATE TABLE customer (id int PRIMARY KEY, name text);
CREATE TABLE inventory (id int PRIMARY KEY, qty int);
CREATE FUNCTION all_stock() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(qty) FROM inventory $$;
CREATE FUNCTION by_name(p text) RETURNS SETOF customer LANGUAGE sql AS $$ SELECT * FROM customer WHERE name = p $$;
CREATE FUNCTION a_total() RETURNS bigint LANGUAGE sql AS $$ SELECT all_stock() $$;
CREATE FUNCTION concat_sfunc(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT CASE WHEN acc IS NULL THEN v ELSE acc || ', ' || v END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_sfunc, STYPE = text);
CREATE VIEW customer_names AS SELECT group_concat(name) AS names FROM customer;
EOF
}

t_functions_after_tables_both_ways() {
	pg_only
	: >a.sql
	write_app_schema b.sql
	two_dbs
	round_trip "$URL_A" "$URL_B"
	contains "$out$(cat step.sql)" "CREATE AGGREGATE"
	lacks "$(cat step.sql)" "check_function_bodies"
	# the row type: the table before the function that returns it
	[ "$(grep -n 'CREATE TABLE "public"."customer"' step.sql | cut -d: -f1)" -lt \
	  "$(grep -n 'FUNCTION public.by_name' step.sql | cut -d: -f1)" ] || fail "by_name before its table: $(cat step.sql)"
	# going back: everything dropped, functions before the tables of their types,
	# the aggregate before its support function
	back
	[ "$(grep -n 'DROP AGGREGATE' step.sql | cut -d: -f1)" -lt \
	  "$(grep -n 'DROP FUNCTION "public"."concat_sfunc"' step.sql | cut -d: -f1)" ] || fail "support function dropped first: $(cat step.sql)"
}

t_pull_loads_back_in_generate() {
	pg_only
	: >a.sql
	write_app_schema b.sql
	two_dbs
	df db pull --url "$URL_B" -o pulled.sql; expect_rc 0 "pull"
	head -1 pulled.sql | grep -q "The schema of postgres://" || fail "header does not name the URL: $(head -1 pulled.sql)"
	lacks "$(head -1 pulled.sql)" "of local"
	# a password in the URL is not written (trust authentication: any works)
	df db pull --url "$(echo "$URL_B" | sed -E 's#://([^@/]*)@#://\1:hunter2-secret@#')" -o pw.sql; expect_rc 0 "pull with a password"
	lacks "$(cat pw.sql)$out$err" "hunter2-secret"
	psql -qX -v ON_ERROR_STOP=1 "$URL_A" -f pulled.sql >apply.log 2>&1 ||
		fail "the pulled file does not load: $(cat apply.log)"
	df db diff --from "$URL_A" --to "$URL_B" --exit-code; expect_rc 0 "pulled = source"
	[ -z "$out" ] || fail "pulled file differs: $out"
	# generate loads the file db pull just wrote; its migration applies
	cp pulled.sql schema.sql
	df db generate from_pull; expect_rc 0 "generate on the pulled file"
	df db migrate; expect_rc 0 "the generated migration"
	df db diff --from "$URL" --to "$URL_B" --exit-code; expect_rc 0 "migrated = source"
	[ -z "$out" ] || fail "the migrated database differs: $out"
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
}

t_body_cycle_unchecked() {
	pg_only
	# the function reads the table whose default calls it: pg_dump's way
	cat >a.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, n int);
EOF
	cat >b.sql <<'EOF'
SET check_function_bodies = false;
CREATE FUNCTION next_n() RETURNS int LANGUAGE sql AS $$ SELECT coalesce(max(n), 0) + 1 FROM t $$;
CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT next_n(), extra int);
CREATE FUNCTION z_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(extra) FROM t $$;
CREATE FUNCTION a_uses_z() RETURNS bigint LANGUAGE sql AS $$ SELECT z_count() $$;
EOF
	two_dbs
	round_trip "$URL_A" "$URL_B"
	head -1 step.sql | grep -q "SET check_function_bodies = false" || fail "no SET check_function_bodies first: $(head -3 step.sql)"
	# the one outside the cycle still waits for the column it reads
	[ "$(grep -n 'ADD COLUMN "extra"' step.sql | cut -d: -f1)" -lt \
	  "$(grep -n 'FUNCTION public.z_count' step.sql | cut -d: -f1)" ] || fail "z_count before its column: $(cat step.sql)"
	# db pull writes the same, and generate and migrate take it
	df db pull --url "$URL_B" -o schema.sql; expect_rc 0 "pull"
	contains "$(cat schema.sql)" "SET check_function_bodies = false;"
	df db generate cycle; expect_rc 0 "generate from the pulled file"
	df db migrate; expect_rc 0 "migrate"
	df db diff --from "$URL" --to "$URL_B" --exit-code; expect_rc 0 "migrated = source"
	back
}

t_extension_before_its_type() {
	pg_only
	cat >a.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY);
EOF
	cat >b.sql <<'EOF'
CREATE EXTENSION hstore;
CREATE TABLE t (id int PRIMARY KEY, h hstore);
EOF
	two_dbs
	round_trip "$URL_A" "$URL_B"
	[ "$(grep -n 'CREATE EXTENSION' step.sql | cut -d: -f1)" -lt \
	  "$(grep -n 'ADD COLUMN "h"' step.sql | cut -d: -f1)" ] || fail "column before its extension: $(cat step.sql)"
	back
}

t_partitioned_index_reaches_partitions() {
	pg_only
	cat >a.sql <<'EOF'
CREATE TABLE m (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10);
CREATE INDEX m_k_only ON ONLY m (k);
EOF
	cat >b.sql <<'EOF'
CREATE TABLE m (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10);
CREATE TABLE m_2 PARTITION OF m FOR VALUES FROM (10) TO (20);
CREATE INDEX m_k ON m (k);
CREATE INDEX m_k_only ON m (k);
EOF
	two_dbs
	round_trip "$URL_A" "$URL_B"
	lacks "$(cat step.sql)" "ON ONLY"
	# every index valid, each partition has its own
	[ "$(psql -qAtX "$URL_A" -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" = 0 ] ||
		fail "an invalid index is left"
	[ "$(psql -qAtX "$URL_A" -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname IN ('m_1', 'm_2')")" = 4 ] ||
		fail "the partitions lack their indexes"
	back
	[ "$(psql -qAtX "$URL_B" -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" = 1 ] ||
		fail "the invalid ON ONLY index was not kept going back"
}

t_aggregate_change_recreates_its_view() {
	pg_only
	write_app_schema a.sql
	write_app_schema b.sql
	sed -i "s/STYPE = text);/STYPE = text, INITCOND = '');/" b.sql
	two_dbs
	df db diff --from "$URL_A" --to "$URL_B" --exit-code; expect_rc 1 "an aggregate's change is a difference"
	round_trip "$URL_A" "$URL_B"
	contains "$(cat step.sql)" "DROP AGGREGATE"
	contains "$(cat step.sql)" "DROP VIEW"
	df db diff --from "$URL_A" --to "$URL_B" --json; expect_rc 0
	lacks "$(json 'd["not_compared"]')" "aggregates"
}

t_small_column_and_table_changes() {
	pg_only
	cat >a.sql <<'EOF'
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE t (id int PRIMARY KEY, m mood, name text);
CREATE TABLE lg (id int);
CREATE UNLOGGED TABLE ul (id int);
EOF
	cat >b.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, m text, name text COLLATE "C");
CREATE UNLOGGED TABLE lg (id int);
CREATE TABLE ul (id int);
EOF
	two_dbs
	df db diff --from "$URL_A" --to "$URL_B" --json; expect_rc 0
	# the collation alone destroys nothing; the type change does
	json_eq '[c["destroys_data"] for c in d["changes"] if c["object"] == "table public.t"][0]' true
	round_trip "$URL_A" "$URL_B"
	lacks "$(cat step.sql)" "::text::text"
	contains "$(cat step.sql)" 'ALTER TABLE "public"."lg" SET UNLOGGED'
	contains "$(cat step.sql)" 'ALTER TABLE "public"."ul" SET LOGGED'
	cat >a.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, name text);
EOF
	cat >b.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, name text COLLATE "C");
EOF
	two_dbs
	df db diff --from "$URL_A" --to "$URL_B" --json; expect_rc 0
	json_eq '[c["destroys_data"] for c in d["changes"] if c["object"] == "table public.t"][0]' false
	round_trip "$URL_A" "$URL_B"
	lacks "$(cat step.sql)" "USING"
}

t_enum_recreated_only_its_columns() {
	pg_only
	# a value removed: the enum is made again and its columns converted;
	# "integer" holds an "e" but is no column of enum e
	cat >a.sql <<'EOF'
CREATE TYPE e AS ENUM ('a', 'b');
CREATE TABLE t (id integer, c e, cs e[]);
EOF
	cat >b.sql <<'EOF'
CREATE TYPE e AS ENUM ('a');
CREATE TABLE t (id integer, c e, cs e[]);
EOF
	two_dbs
	round_trip "$URL_A" "$URL_B"
	lacks "$(cat step.sql)" 'ALTER COLUMN "id"'
	contains "$(cat step.sql)" 'ALTER COLUMN "cs"'
	back
}

run_tests t_enum_recreated_only_its_columns t_functions_after_tables_both_ways t_pull_loads_back_in_generate t_body_cycle_unchecked \
	t_extension_before_its_type t_partitioned_index_reaches_partitions \
	t_aggregate_change_recreates_its_view t_small_column_and_table_changes
