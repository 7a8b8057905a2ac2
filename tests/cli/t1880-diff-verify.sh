#!/bin/bash
# Every diff verifies itself: db diff and db generate load the "from" side
# into a throwaway database, apply the script, read it back and diff it
# with the "to" side.  Verified: said (JSON verified: true).  Not
# verified (a real case devflow's ordering gets wrong): the script is
# still shown with what remains, exit 1, kind unverified, and generate
# writes nothing unless --force.  --no-verify skips it.  A production
# side with no dev_url: shown unverified, no database made on the server.
. "$(dirname "$0")/lib.sh"

# throwaway databases left on the server (none may be)
leftovers() { throwaway_leftovers; }

setup() {
	new_project
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20));" "DROP TABLE t;"
	df db migrate; expect_rc 0
	printf '%s\n' "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20), b INTEGER);" \
		"CREATE VIEW tv AS SELECT id, b FROM t;" >schema.sql
}

t_verified_diff() {
	setup
	df db diff; expect_rc 0
	contains "$out" "ADD COLUMN"
	contains "$out" "-- devflow: verified:"
	df db diff --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["verified"]' true
	json_eq 'isinstance(d["verify_ms"], int)' true
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
	df db generate add_b; expect_rc 0
	contains "$out$err" "Verified the UP"
	contains "$out$err" "Verified the DOWN"
	ls migrations | grep -q add_b || fail "generate wrote nothing"
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
}

# a case devflow's ordering gets wrong today (issue 25)
broken_case() {
	case $ENGINE in
	sqlite)
		# The case this used (a new FTS5 table whose shadow tables were
		# written too) is fixed (t1900), and no other SQLite diff devflow
		# gets wrong is known yet: tables rebuilt under views, triggers
		# and partial indexes, generated columns and the other virtual
		# tables all verify.
		return 1 ;;
	postgres)
		# A view re-created lost its INSTEAD OF trigger (the case this used
		# first): it is kept now (t1890).  A range type is not compared, so
		# a new table using a new one is created without it.
		printf '%s\n' "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20));" \
			"CREATE TYPE floatrange AS RANGE (subtype = float8);" \
			"CREATE TABLE r (x floatrange);" >schema.sql ;;
	mysql)
		# The case this used (DROP PRIMARY KEY before AUTO_INCREMENT goes,
		# ERROR 1075) is fixed (t1860), and no other MariaDB diff devflow
		# gets wrong is known yet: a changed unnamed foreign key and a
		# new hash partitioning both verify.  The check itself is the
		# engine's own code path, shared with SQLite and PostgreSQL.
		return 1 ;;
	esac
	df db migrate; expect_rc 0
}

t_unverified_diff_and_generate() {
	setup
	broken_case || skip_engine "no $ENGINE diff that devflow writes wrong is known (see broken_case)"
	df db diff; expect_rc 1
	contains "$out" "NOT VERIFIED"
	contains "$err" "not verified"
	contains "$err" "--no-verify"
	df db diff --json; expect_rc 1
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' unverified
	json_eq 'd["verified"]' false
	json_eq 'len(d["changes"]) > 0' true
	json_eq 'len(d["sql"]) > 0' true
	json_eq '"unverified" in d' true
	n=$(ls migrations | wc -l)
	df db generate broken; expect_rc 1
	contains "$out" "NOT VERIFIED"
	[ "$(ls migrations | wc -l)" = "$n" ] || fail "generate wrote an unverified migration: $(ls migrations)"
	df db generate broken --json; expect_rc 1
	json_eq 'd["error"]["kind"]' unverified
	json_eq 'd["verified"]' false
	[ "$(ls migrations | wc -l)" = "$n" ] || fail "generate wrote an unverified migration"
	df db generate broken --force --allow-drop; expect_rc 0
	contains "$out$err" "written anyway (--force)"
	ls migrations | grep -q broken || fail "--force wrote nothing"
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
}

t_no_verify_skips() {
	setup
	df db diff --no-verify --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["verified"]' false
	json_eq '"verify_ms" in d' false
	df db diff --no-verify; expect_rc 0
	lacks "$out" "verified"
	if broken_case; then
		df db diff --no-verify; expect_rc 0
		lacks "$out" "NOT VERIFIED"
		df db generate broken --no-verify --allow-drop; expect_rc 0
		ls migrations | grep -q broken || fail "--no-verify wrote nothing"
	fi
}

t_production_without_dev_url() {
	setup
	other_db
	printf '%s\n' "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20), b INTEGER);" >other.sql
	case $ENGINE in
	sqlite) sqlite3 -batch other.db <other.sql ;;
	postgres) psql -qX -v ON_ERROR_STOP=1 "$URL2" <other.sql >/dev/null ;;
	mysql) my_admin "$DB2" <other.sql ;;
	esac
	printf '[env "production"]\nurl = %s\n[env "prod2"]\nurl = %s\npolicy = production\n' \
		"$URL" "$URL2" >devflow.conf
	before=$(leftovers)
	df db diff --from production --to prod2 --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'len(d["changes"]) > 0' true
	case $ENGINE in
	sqlite)
		# SQLite verifies in memory: nothing is made anywhere
		json_eq 'd["verified"]' true
		[ "$(ls *.db | wc -l)" = 2 ] || fail "a database file was made: $(ls)" ;;
	*)
		json_eq 'd["verified"]' false
		json_eq '"dev_url" in d["warnings"][0]' true
		[ "$(leftovers)" = "$before" ] || fail "a database was made on a production server"
		# with dev_url it is verified there
		printf '[project]\ndev_url = %s\n' "$URL" >>devflow.conf
		{ printf '[project]\ndev_url = %s\n' "$(case $ENGINE in postgres) echo "$DEVFLOW_TEST_PG_URL";; mysql) echo "$DEVFLOW_TEST_MYSQL_URL";; esac)"
		  printf '[env "production"]\nurl = %s\n[env "prod2"]\nurl = %s\npolicy = production\n' "$URL" "$URL2"; } >devflow.conf
		df db diff --from production --to prod2 --json; expect_rc 0
		json_eq 'd["verified"]' true ;;
	esac
}

run_tests t_verified_diff t_unverified_diff_and_generate t_no_verify_skips t_production_without_dev_url
