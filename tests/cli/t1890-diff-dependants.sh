#!/bin/bash
# db diff: an object dropped and created again (a view whose columns change
# in the middle, a function whose result type changes, a SQLite table
# rebuilt) is created again with everything that hangs off it: the triggers
# on it (INSTEAD OF on a view), the views over it, its comments and, on
# PostgreSQL, its rules, owner and grants (even without --privileges).  Each
# case, both ways: the diff is verified (JSON verified: true), applies with
# the engine's own client to a copy of "from", the re-diff is empty and the
# dependant is there afterwards (read from the catalog).  PostgreSQL
# inheritance: a column moved from a parent to its child stays in the child.
. "$(dirname "$0")/lib.sh"

# side NAME FILE: a new database NAME loaded from FILE with the engine's
# client; sets SIDE (its URL)
side() {
	case $ENGINE in
	sqlite)
		rm -f "$1.db"
		sqlite3 -bail "$1.db" <"$2" >/dev/null 2>&1 || fail "$2 does not load"
		SIDE="sqlite:./$1.db" ;;
	postgres)
		server_db "${DBNAME}_$1"; SIDE=$DB_URL
		psql -qX -v ON_ERROR_STOP=1 "$SIDE" -f "$2" >/dev/null 2>&1 || fail "$2 does not load" ;;
	mysql)
		server_db "${DBNAME}_$1"; SIDE=$DB_URL
		my_admin "${DBNAME}_$1" <"$2" >/dev/null 2>&1 || fail "$2 does not load" ;;
	esac
}

# client URL FILE: run FILE on URL with the engine's own client
client() {
	case $ENGINE in
	sqlite) sqlite3 -bail "${1#sqlite:./}" <"$2" ;;
	postgres) psql -qX -v ON_ERROR_STOP=1 "$1" -f "$2" ;;
	mysql) my_admin "${1##*/}" <"$2" ;;
	esac
}

# cq URL SQL: one query on URL, rows printed
cq() {
	case $ENGINE in
	sqlite) sqlite3 -batch -noheader "${1#sqlite:./}" "$2" ;;
	postgres) psql -qAtX "$1" -c "$2" ;;
	mysql) my_admin -N -B "${1##*/}" -e "$2" ;;
	esac
}

# round_trip FROM TO: verified, applies with the client, re-diff empty
round_trip() {
	df db diff --from "$1" --to "$2" --json; expect_rc 0 "diff --json"
	json_eq 'd["verified"]' true
	df db diff --from "$1" --to "$2"; expect_rc 0 "diff"
	printf '%s\n' "$out" >step.sql
	client "$1" step.sql >apply.log 2>&1 ||
		fail "the diff does not apply: $(cat apply.log) -- script: $(grep -v '^--' step.sql | head -c 1500)"
	df db diff --from "$1" --to "$2" --exit-code; expect_rc 0 "re-diff"
	[ -z "$(printf '%s\n' "$out" | grep -v '^-- not compared')" ] || fail "re-diff not empty: $out"
}

# both A.sql B.sql CHECK: A -> B, then CHECK on the result; a fresh B -> A,
# then CHECK again (CHECK URL SIDE_NAME, SIDE_NAME "a" or "b")
both() {
	local n=$((${N:-0} + 1)) fa
	N=$n
	side "a$n" "$1"; fa=$SIDE
	side "b$n" "$2"
	round_trip "$fa" "$SIDE"
	"$3" "$fa" b
	side "c$n" "$2"; fa=$SIDE
	side "d$n" "$1"
	round_trip "$fa" "$SIDE"
	"$3" "$fa" a
}

# has URL SQL EXPECTED WHAT
has() {
	local got
	got=$(cq "$1" "$2" 2>&1) || true
	[ "$got" = "$3" ] || fail "$4: expected '$3', got '$got'"
}

# ---- every engine: a view over a view that is created again ---------------

t_view_over_recreated_view() {
	new_project
	cat >a.sql <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20), b INTEGER);
CREATE VIEW v1 AS SELECT id, a FROM t;
CREATE VIEW v2 AS SELECT id, a FROM v1;
CREATE VIEW v3 AS SELECT id FROM v2;
EOF
	sed 's/CREATE VIEW v1 AS SELECT id, a FROM t;/CREATE VIEW v1 AS SELECT id, b, a FROM t;/' a.sql >b.sql
	both a.sql b.sql check_views
}
check_views() {
	local views="SELECT count(*) FROM information_schema.views WHERE table_name IN ('v1', 'v2', 'v3')"
	[ "$ENGINE" = sqlite ] && views="SELECT count(*) FROM sqlite_master WHERE type = 'view'"
	[ "$ENGINE" = mysql ] && views="$views AND table_schema = DATABASE()"
	[ "$ENGINE" = postgres ] && views="$views AND table_schema = 'public'"
	has "$1" "$views" 3 "the views over v1"
	cq "$1" "SELECT * FROM v3" >/dev/null 2>&1 || fail "v3 cannot be read after the diff"
}

# ---- every engine: a view with a trigger (INSTEAD OF where there is one) --

t_view_trigger_survives() {
	new_project
	case $ENGINE in
	postgres)
		cat >a.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, a varchar(20));
CREATE VIEW v AS SELECT id, a FROM t;
CREATE FUNCTION vf() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO t VALUES (NEW.id, NEW.a); RETURN NEW; END$$;
CREATE TRIGGER vt INSTEAD OF INSERT ON v FOR EACH ROW EXECUTE FUNCTION vf();
EOF
		sed 's/SELECT id, a FROM t;/SELECT id, 1 AS b, a FROM t;/' a.sql >b.sql ;;
	sqlite)
		cat >a.sql <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
CREATE VIEW v AS SELECT id, a FROM t;
CREATE TRIGGER vt INSTEAD OF INSERT ON v BEGIN INSERT INTO t (id, a) VALUES (NEW.id, NEW.a); END;
EOF
		sed 's/SELECT id, a FROM t;/SELECT id, 1 AS b, a FROM t;/' a.sql >b.sql ;;
	mysql)
		# no triggers on views: the trigger on the view's base table, the
		# base table's column changed under the view
		cat >a.sql <<'EOF'
CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), b INT);
CREATE TABLE log (x VARCHAR(20));
CREATE TRIGGER vt AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.a);
CREATE VIEW v AS SELECT id, a FROM t;
EOF
		sed 's/SELECT id, a FROM t;/SELECT id, b, a FROM t;/; s/b INT)/b BIGINT)/' a.sql >b.sql ;;
	esac
	both a.sql b.sql check_view_trigger
}
check_view_trigger() {
	case $ENGINE in
	postgres) has "$1" "SELECT count(*) FROM pg_trigger WHERE tgname = 'vt' AND tgrelid = 'v'::regclass" 1 "INSTEAD OF trigger on v" ;;
	sqlite) has "$1" "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = 'vt'" v "INSTEAD OF trigger on v" ;;
	mysql) has "$1" "SELECT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 'vt'" t "trigger on t" ;;
	esac
	cq "$1" "INSERT INTO v (id, a) VALUES (7, 'x')" >/dev/null 2>&1 || fail "v takes no insert after the diff"
}

# ---- SQLite: a table rebuilt keeps its index, its trigger, the views on it -

t_sqlite_rebuild_keeps_dependants() {
	[ "$ENGINE" = sqlite ] || skip_engine "a table rebuild (copy, drop, rename) is SQLite's"
	new_project
	cat >a.sql <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);
CREATE TABLE log (x TEXT);
CREATE INDEX t_a ON t (a);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.a); END;
CREATE VIEW tv AS SELECT id, a FROM t;
CREATE TRIGGER tv_ins INSTEAD OF INSERT ON tv BEGIN INSERT INTO t (id, a) VALUES (NEW.id, NEW.a); END;
EOF
	sed 's/b INTEGER)/b TEXT NOT NULL DEFAULT 0)/' a.sql >b.sql
	both a.sql b.sql check_rebuild
	contains "$(cat step.sql)" "_devflow_new_t"
}
check_rebuild() {
	has "$1" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE name IN ('t_a', 't_ins', 'tv', 'tv_ins') ORDER BY name)" \
		"t_a t_ins tv tv_ins" "index, triggers and view of the rebuilt table"
}

# ---- PostgreSQL: comments, rules, grants of a re-created view --------------

pg_only() {
	[ "$ENGINE" = postgres ] || skip_engine "$1"
	new_project
	psql -qX "$URL" -c "DO \$\$BEGIN CREATE ROLE dft_dep_reader; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" >/dev/null 2>&1
}

t_pg_view_comment_rule_grant() {
	pg_only "rules, COMMENT ON and the grants of a re-created view (PostgreSQL)"
	cat >a.sql <<'EOF'
CREATE TABLE t (id int PRIMARY KEY, a varchar(20));
CREATE VIEW v AS SELECT id, a FROM t;
CREATE VIEW vv AS SELECT id FROM v;
COMMENT ON VIEW v IS 'the view';
COMMENT ON COLUMN v.a IS 'column a';
GRANT SELECT ON v TO dft_dep_reader;
CREATE RULE vr AS ON DELETE TO v DO INSTEAD NOTHING;
EOF
	sed 's/SELECT id, a FROM t;/SELECT id, 1 AS b, a FROM t;/' a.sql >b.sql
	both a.sql b.sql check_view_extras
	# without --privileges too: the grant is not a compared difference
	lacks "$(cat step.sql)" "REVOKE"
}
check_view_extras() {
	has "$1" "SELECT obj_description('v'::regclass, 'pg_class')" "the view" "comment on v"
	has "$1" "SELECT col_description('v'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'v'::regclass AND attname = 'a'))" \
		"column a" "comment on v.a"
	has "$1" "SELECT has_table_privilege('dft_dep_reader', 'v', 'SELECT')" t "grant on v"
	has "$1" "SELECT count(*) FROM pg_rules WHERE tablename = 'v' AND rulename = 'vr'" 1 "rule vr on v"
	has "$1" "SELECT count(*) FROM pg_views WHERE viewname = 'vv'" 1 "view vv over v"
}

t_pg_function_and_matview_grants() {
	pg_only "a re-created function's and materialized view's grants (PostgreSQL)"
	cat >a.sql <<'EOF'
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;
COMMENT ON FUNCTION f(int) IS 'fn';
REVOKE ALL ON FUNCTION f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f(int) TO dft_dep_reader;
CREATE VIEW fv AS SELECT f(1) AS one;
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;
CREATE INDEX mv_i ON mv (one);
GRANT SELECT ON mv TO dft_dep_reader;
EOF
	sed 's/RETURNS int LANGUAGE sql AS \$\$ SELECT x \$\$/RETURNS bigint LANGUAGE sql AS $$ SELECT x::bigint $$/; s/SELECT 1 AS one;/SELECT 1 AS one, 2 AS two;/' \
		a.sql >b.sql
	grep -q bigint b.sql || fail "the test's b.sql is wrong"
	both a.sql b.sql check_fn_extras
}
check_fn_extras() {
	has "$1" "SELECT has_function_privilege('dft_dep_reader', 'f(int)', 'EXECUTE')" t "EXECUTE on f"
	has "$1" "SELECT has_function_privilege('public', 'f(int)', 'EXECUTE')" f "PUBLIC's EXECUTE on f revoked"
	has "$1" "SELECT obj_description('f(int)'::regprocedure, 'pg_proc')" fn "comment on f"
	has "$1" "SELECT count(*) FROM pg_views WHERE viewname = 'fv'" 1 "view fv using f"
	has "$1" "SELECT has_table_privilege('dft_dep_reader', 'mv', 'SELECT')" t "grant on mv"
	has "$1" "SELECT count(*) FROM pg_indexes WHERE indexname = 'mv_i'" 1 "index on mv"
}

# ---- PostgreSQL: a trigger and a policy naming a column whose type changes --

t_pg_trigger_policy_on_changed_column() {
	pg_only "triggers and policies that name a column (PostgreSQL refuses to change its type under them)"
	cat >a.sql <<'EOF'
CREATE TABLE t (id integer PRIMARY KEY, a varchar(20), c int);
CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tt BEFORE UPDATE OF a ON t FOR EACH ROW EXECUTE FUNCTION tf();
CREATE TRIGGER other BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY tp ON t USING (a <> 'hidden');
EOF
	sed 's/a varchar(20)/a text/' a.sql >b.sql
	both a.sql b.sql check_column_users
	# the trigger that names no column is left alone
	lacks "$(cat step.sql)" 'DROP TRIGGER "other"'
}
check_column_users() {
	has "$1" "SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 't'::regclass" "other tt" "the triggers on t"
	has "$1" "SELECT count(*) FROM pg_policies WHERE tablename = 't' AND policyname = 'tp'" 1 "policy tp on t"
	has "$1" "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'" \
		"$([ "$2" = b ] && echo text || echo 'character varying(20)')" "the type of t.a"
}

# ---- PostgreSQL inheritance: a column moved from parent to child ------------

t_pg_inherited_column_moved() {
	pg_only "table inheritance (PostgreSQL)"
	cat >a.sql <<'EOF'
CREATE TABLE p (id int, a text);
CREATE TABLE c (x int) INHERITS (p);
CREATE TABLE c2 () INHERITS (p);
INSERT INTO c VALUES (1, 'kept', 2);
EOF
	cat >b.sql <<'EOF'
CREATE TABLE p (id int);
CREATE TABLE c (x int, a text) INHERITS (p);
CREATE TABLE c2 () INHERITS (p);
INSERT INTO c VALUES (1, 2, 'kept');
EOF
	both a.sql b.sql check_inherit
}
check_inherit() {
	local cols="SELECT string_agg(attrelid::regclass || '.' || attname, ' ' ORDER BY attrelid::regclass::text) FROM pg_attribute WHERE attname = 'a' AND NOT attisdropped AND attrelid IN ('p'::regclass, 'c'::regclass, 'c2'::regclass)"
	if [ "$2" = b ]; then
		has "$1" "$cols" "c.a" "a only in the child"
		has "$1" "SELECT a FROM c" kept "the child's values of a"
	else
		has "$1" "$cols" "c.a c2.a p.a" "a in the parent and its children"
	fi
}

run_tests t_view_over_recreated_view t_view_trigger_survives t_sqlite_rebuild_keeps_dependants \
	t_pg_view_comment_rule_grant t_pg_function_and_matview_grants t_pg_trigger_policy_on_changed_column \
	t_pg_inherited_column_moved
