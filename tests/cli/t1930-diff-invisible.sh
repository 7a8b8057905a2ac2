#!/bin/bash
# A side the reading user cannot see whole (issue 25, "Bad input").
# MariaDB's information_schema hides the tables a user holds no privilege
# on (and the triggers, events, view definitions and routine bodies it may
# not read): db diff / db pull then fail with permission_denied (exit 4)
# naming what is hidden and the privilege to grant, and print no script
# creating or dropping what merely hides.  PostgreSQL's reader reads
# pg_catalog, which every role reads whole: a role with no USAGE on the
# schema and no privilege on its objects gets the complete, empty diff.
. "$(dirname "$0")/lib.sh"

LIM_PW=lim_secret_pw

# the project's database, with objects the limited user may not see
setup() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite has no users: whoever reads the file sees all of it"
	new_project
	LIM="dflim_$$_${RANDOM}"
	case $ENGINE in
	postgres)
		q "CREATE SCHEMA s; CREATE TABLE s.t (a INTEGER DEFAULT 1, b TEXT);
		   CREATE TABLE s.u (id INTEGER PRIMARY KEY, t_a INTEGER);
		   CREATE INDEX t_b ON s.t (b); CREATE VIEW s.v AS SELECT a FROM s.t;
		   CREATE FUNCTION s.f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1';
		   REVOKE EXECUTE ON FUNCTION s.f() FROM PUBLIC; CREATE SEQUENCE s.q;
		   REVOKE ALL ON SCHEMA public FROM PUBLIC;
		   CREATE ROLE $LIM LOGIN PASSWORD '$LIM_PW';" >/dev/null
		LIM_URL="postgres://$LIM:$LIM_PW@$(url_hostport "$DEVFLOW_TEST_PG_URL")/$DBNAME" ;;
	mysql)
		q "CREATE TABLE t (a INTEGER, b TEXT); CREATE TABLE u (id INTEGER PRIMARY KEY);
		   CREATE VIEW v AS SELECT a FROM t;
		   CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;
		   CREATE FUNCTION fn() RETURNS INTEGER RETURN 1;"
		my_admin -e "CREATE USER '$LIM'@'%' IDENTIFIED BY '$LIM_PW'"
		LIM_URL="mysql://$LIM:$LIM_PW@$(url_hostport "$DEVFLOW_TEST_MYSQL_URL")/$DBNAME" ;;
	esac
}

drop_lim() {
	case $ENGINE in
	postgres) psql -qX "$URL" -c "DROP OWNED BY $LIM; DROP ROLE $LIM" >/dev/null 2>&1 ;;
	mysql) my_admin -e "DROP USER '$LIM'@'%'" >/dev/null 2>&1 ;;
	esac
	return 0
}

no_password() {
	lacks "$out$err" "$LIM_PW"
}

# the user sees one table of three: no script, the hidden class named
t_hidden_tables() {
	setup
	case $ENGINE in
	postgres)
		# no USAGE on s, no privilege on anything in it: the diff with
		# the owner's view of the same database is empty
		df db diff --no-verify --from "$LIM_URL" --to "$URL"; expect_rc 0
		lacks "$out" "CREATE"
		lacks "$out" "DROP"
		df db diff --no-verify --json --from "$LIM_URL" --to "$URL"; expect_rc 0
		json_eq 'd["ok"]' true
		json_eq 'len(d["changes"]) if "changes" in d else 0' 0
		no_password ;;
	mysql)
		my_admin -e "GRANT SELECT ON $DBNAME.t TO '$LIM'@'%'"
		df db diff --no-verify --from "$LIM_URL" --to "$URL"; expect_rc 4
		contains "$err" "the reading user $LIM@% cannot see all of database $DBNAME:"
		contains "$err" "the tables and views it holds no privilege on"
		contains "$err" "the triggers of tables it holds no TRIGGER privilege on"
		contains "$err" "hint: grant the reading user SELECT, TRIGGER, EXECUTE, EVENT"
		lacks "$out" "CREATE TABLE"
		lacks "$out" "DROP"
		no_password
		df db diff --no-verify --json --from "$LIM_URL" --to "$URL"; expect_rc 4
		json_eq 'd["ok"]' false
		json_eq 'd["error"]["kind"]' permission_denied
		contains "$(json 'd["error"]["message"]')" "the events"
		contains "$(json 'd["error"]["message"]')" "the routines it holds no EXECUTE privilege on"
		no_password
		# the other way round too: it would drop what is there
		df db diff --no-verify --from "$URL" --to "$LIM_URL"; expect_rc 4
		lacks "$out" "DROP TABLE"
		# ("to" is read on a thread of its own: its error comes back whole)
		contains "$err" "the reading user $LIM@% cannot see all of database $DBNAME:"
		no_password
		# db pull reads the same way
		df db pull --url "$LIM_URL"; expect_rc 4
		contains "$err" "the reading user $LIM@% cannot see all of database $DBNAME:"
		no_password ;;
	esac
	drop_lim
}

# objects it sees but cannot read the definition of are named one by one
t_hidden_definition() {
	setup
	case $ENGINE in
	postgres)
		# the view's and the function's bodies come from pg_catalog:
		# pulled complete by a role that may not use them (CREATEDB: pull
		# loads the migrations into a throwaway database)
		psql -qX "$URL" -c "ALTER ROLE $LIM CREATEDB" >/dev/null
		df db pull --url "$LIM_URL" -o "$TMP_ROOT/lim.sql"; expect_rc 0
		df db pull --url "$URL" -o "$TMP_ROOT/own.sql"; expect_rc 0
		# (line 1 names the URL read)
		[ "$(tail -n +2 "$TMP_ROOT/lim.sql")" = "$(tail -n +2 "$TMP_ROOT/own.sql")" ] ||
			fail "the limited role's pull differs: $(diff "$TMP_ROOT/lim.sql" "$TMP_ROOT/own.sql" | head -c 600)"
		contains "$(cat "$TMP_ROOT/lim.sql")" "CREATE VIEW"
		contains "$(cat "$TMP_ROOT/lim.sql")" "FUNCTION s.f()" ;;
	mysql)
		my_admin -e "GRANT SELECT, TRIGGER, EVENT, EXECUTE ON $DBNAME.* TO '$LIM'@'%'"
		df db diff --no-verify --from "$LIM_URL" --to "$URL"; expect_rc 4
		contains "$err" "view v (its definition)"
		contains "$err" "function fn (its body)"
		lacks "$err" "the routines"
		lacks "$err" "the tables and views"
		lacks "$err" "the triggers"
		contains "$err" "hint: grant the reading user SHOW VIEW, SELECT on mysql.proc (or be its definer) on the database"
		lacks "$out" "VIEW"
		lacks "$out" "FUNCTION"
		no_password ;;
	esac
	drop_lim
}

# with what shows everything granted, the diff is complete and empty
t_granted_sees_all() {
	setup
	case $ENGINE in
	postgres) drop_lim; skip_engine "PostgreSQL hides nothing from the reader (t_hidden_tables)" ;;
	mysql)
		my_admin -e "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, EXECUTE ON $DBNAME.* TO '$LIM'@'%';
			GRANT SELECT ON mysql.proc TO '$LIM'@'%'"
		df db diff --no-verify --from "$LIM_URL" --to "$URL"; expect_rc 0
		lacks "$err" "cannot see"
		lacks "$out" "CREATE"
		lacks "$out" "DROP"
		no_password
		# and it sees all of it: against a database holding only t, the
		# rest is dropped (view, trigger, function, table u)
		other_db
		my_admin "$DB2" -e "CREATE TABLE t (a INTEGER, b TEXT)"
		df db diff --no-verify --from "$LIM_URL" --to "$URL2"; expect_rc 0
		contains "$out" "DROP TABLE"
		contains "$out" "DROP VIEW"
		contains "$out" "DROP TRIGGER"
		contains "$out" "DROP FUNCTION"
		no_password ;;
	esac
	drop_lim
}

run_tests t_hidden_tables t_hidden_definition t_granted_sees_all
