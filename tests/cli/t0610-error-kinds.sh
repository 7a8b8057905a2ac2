#!/bin/bash
# Error kinds as they are: unknown_database and tls_failed (exit 4); one rule
# for permission_denied (4 while connecting or setting up devflow's tables, 1
# on a migration's statement); hints name where the URL came from; MariaDB
# and SQLite error positions exact.
. "$(dirname "$0")/lib.sh"

ROLES_FILE=$TMP_ROOT/roles
trap 'cleanup_dbs; drop_roles; rm -rf "$TMP_ROOT"' EXIT

drop_roles() {
	[ -f "$ROLES_FILE" ] || return 0
	local kind name
	while read -r kind name; do
		case $kind in
		pg) psql -q "$DEVFLOW_TEST_PG_URL" -c "DROP ROLE IF EXISTS $name" >/dev/null 2>&1 ;;
		my) for h in % 127.0.0.1 localhost; do my_admin -e "DROP USER IF EXISTS '$name'@'$h'"; done 2>/dev/null ;;
		esac
	done <"$ROLES_FILE"
}

# the project's URL with another user (made by new_role)
url_as() {
	echo "$URL" | sed -E "s#^([a-z]+)://([^@/]*@)?#\1://$1:pw$1@#"
}

# new_role NAME: a login role / user with no privilege beyond connecting
new_role() {
	case $ENGINE in
	postgres)
		echo "pg $1" >>"$ROLES_FILE"
		psql -q -v ON_ERROR_STOP=1 "$DEVFLOW_TEST_PG_URL" -c "CREATE ROLE $1 LOGIN PASSWORD 'pw$1'" >/dev/null ;;
	mysql)
		echo "my $1" >>"$ROLES_FILE"
		for h in % 127.0.0.1 localhost; do
			my_admin -e "CREATE USER '$1'@'$h' IDENTIFIED BY 'pw$1'"
			my_admin -e "GRANT SELECT ON $DBNAME.* TO '$1'@'$h'"
		done ;;
	esac
}

t_unknown_database() {
	[ "$ENGINE" = sqlite ] && skip_engine "a SQLite URL names a file"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	local bad
	bad=$(echo "$URL" | sed -E "s#/$DBNAME#/${DBNAME}_nope#")
	df db status --json --url "$bad"; expect_rc 4
	json_eq 'd["error"]["kind"]' unknown_database
	contains "$(json 'd["error"]["hint"]')" "create the database"
	contains "$(json 'd["error"]["hint"]')" "the URL came from --url"
	# (a local migrate creates a missing database, issue 27: t1970; staging
	# refuses, naming where the URL came from)
	DATABASE_URL=$bad df db migrate --env staging --json; expect_rc 4
	json_eq 'd["error"]["kind"]' unknown_database
	contains "$(json 'd["error"]["hint"]')" "DATABASE_URL in the process environment"
}

t_tls_failed() {
	local tls= q="sslmode=require"
	case $ENGINE in
	sqlite) skip_engine "no TLS for a file" ;;
	postgres) [ "$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c 'SHOW ssl')" = on ] && tls=1 ;;
	mysql) [ "$(my_admin -N -B -e "SHOW VARIABLES LIKE 'have_ssl'" | cut -f2)" = YES ] && tls=1 ;;
	esac
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	if [ -n "$tls" ]; then
		# the server has TLS (servers.sh gives it a CA): TLS that cannot be
		# had is a CA that did not sign the server's certificate
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj /CN=not-the-servers-ca -days 1 -keyout "$PROJECT/other-ca.key" \
			-out "$PROJECT/other-ca.crt" >/dev/null 2>&1 || fail "openssl cannot make a CA"
		case $ENGINE in
		postgres) q="sslmode=verify-ca&sslrootcert=$PROJECT/other-ca.crt" ;;
		mysql) q="sslca=$PROJECT/other-ca.crt" ;;
		esac
	fi
	df db status --json --url "$URL?$q"; expect_rc 4
	json_eq 'd["error"]["kind"]' tls_failed
	lacks "$(json 'd["error"]["hint"]')" "is the server running"
	df db migrate --url "$URL?$q"; expect_rc 4
	table_exists a && fail "nothing applied without the TLS asked for"
	return 0
}

# Where the URL came from, in the hint of a connection error.
t_hint_names_source() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	local dead="postgres://nobody@127.0.0.1:1/x"
	df db status --json --url "$dead"; expect_rc 4
	json_eq 'd["error"]["kind"]' connection_refused
	contains "$(json 'd["error"]["hint"]')" "the URL came from --url"
	lacks "$(json 'd["error"]["hint"]')" "DATABASE_URL"
	unset DATABASE_URL
	echo "DATABASE_URL=$dead" >.env
	df db status --json; expect_rc 4
	contains "$(json 'd["error"]["hint"]')" "DATABASE_URL in .env"
	rm .env
	printf '[env "staging"]\nurl = ${STAGING_DATABASE_URL}\n' >devflow.conf
	echo "STAGING_DATABASE_URL=$dead" >.env.staging
	df db status --json --env staging; expect_rc 4
	contains "$(json 'd["error"]["hint"]')" '${STAGING_DATABASE_URL} from .env.staging'
	STAGING_DATABASE_URL=$dead df db status --json --env staging; expect_rc 4
	contains "$(json 'd["error"]["hint"]')" '${STAGING_DATABASE_URL} from the process environment'
	df doctor --env staging --json
	contains "$out" '${STAGING_DATABASE_URL} from .env.staging'
}

# permission_denied: exit 4 when devflow cannot set up its own tables, 1 when
# a migration's statement lacks a privilege.
t_permission_rule() {
	[ "$ENGINE" = sqlite ] && skip_engine "SQLite has no users"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	local r="dfp_$$_$RANDOM"
	new_role "$r"
	df db migrate --json --url "$(url_as "$r")"; expect_rc 4 "no privilege to create devflow's tables"
	json_eq 'd["error"]["kind"]' permission_denied
	table_exists a && fail "nothing applied"
	# with the privileges devflow needs, a statement that lacks one exits 1
	case $ENGINE in
	postgres)
		q "CREATE TABLE secret (id INTEGER)"
		psql -q "$URL" -c "GRANT CREATE ON SCHEMA public TO $r" >/dev/null
		mig 20240102000000 b "ALTER TABLE secret ADD COLUMN x INTEGER;" ;;
	mysql)
		for h in % 127.0.0.1 localhost; do my_admin -e "GRANT ALL ON $DBNAME.* TO '$r'@'$h'"; done
		mig 20240102000000 b "CREATE TABLE mysql.dfp_nope (id INTEGER);" ;;
	esac
	df db migrate --json --url "$(url_as "$r")"; expect_rc 1 "a migration's statement"
	json_eq 'd["error"]["kind"]' permission_denied
	table_exists a || fail "the first migration applied"
}

t_positions() {
	case $ENGINE in
	postgres) skip_engine "PostgreSQL reports a character position (t0400)" ;;
	mysql)
		new_project
		mig 20240101000000 a "CREATE TABLE a (
  id INTEGER,
  x INTEGR NOT NULL
);"
		df db migrate --json; expect_rc 1
		json_eq 'd["error"]["line"]' 4
		json_eq 'd["error"]["column"]' 5
		new_project
		mig 20240101000000 a "CREATE TABLE a (
  id INTEGER,
  y INTEGER NOT NULL DEFAUL 1
);"
		df db migrate --json; expect_rc 1
		json_eq 'd["error"]["line"]' 4
		json_eq 'd["error"]["column"]' 29
		lacks "$(json 'd["error"]["message"]')" "at line" ;;
	sqlite)
		new_project
		mig 20240101000000 a "CREATE TABLE b (id INTEGER);
CREATE TABLE a (
  id INTEGER,
  x INTEGER"
		df db migrate --json; expect_rc 1
		contains "$(json 'd["error"]["message"]')" "incomplete input"
		json_eq 'd["error"]["line"]' 5
		json_eq 'd["error"]["column"]' 12 ;;
	esac
}

# doctor checks the privileges migrate needs, not only that it can connect.
t_doctor_privileges() {
	[ "$ENGINE" = sqlite ] && [ "$(id -u)" = 0 ] && skip_engine "root writes through file modes"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	[ "$ENGINE" = sqlite ] && df db migrate
	df doctor --json; expect_rc 0 "the test user has every privilege"
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "privileges"]' '[true]'
	local r="dfd_$$_$RANDOM" u
	case $ENGINE in
	sqlite)
		chmod 444 test.db
		u=$URL ;;
	*)
		new_role "$r"        # may connect (and SELECT on MariaDB), nothing more
		u=$(url_as "$r") ;;
	esac
	df doctor --json --url "$u"; expect_rc 4
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "privileges"]' '[false]'
	json_eq 'd["error"]["kind"]' permission_denied
	df doctor --url "$u"; expect_rc 4
	lacks "$out$err" "All checks passed"
	case $ENGINE in
	postgres) contains "$out$err" "CREATE on schema public" ;;
	mysql) contains "$out$err" "CREATE on this database" ;;
	sqlite) chmod 644 test.db ;;
	esac
}

# doctor names applied migrations whose file is gone.
t_doctor_missing_files() {
	new_project
	for i in 1 2 3; do mig 2024010100000$i m$i "CREATE TABLE m$i (id INTEGER);"; done
	df db migrate; expect_rc 0
	df doctor --json; expect_rc 0
	rm migrations/20240101000001_m1.sql migrations/20240101000003_m3.sql
	df doctor --json; expect_rc 6
	json_eq 'd["error"]["kind"]' missing_file
	json_eq '[c["ok"] for c in d["checks"] if c["name"] == "history"]' '[false]'
	contains "$(json '[c["message"] for c in d["checks"] if c["name"] == "history"][0]')" \
		"2 applied migrations have no file in migrations/: 20240101000001, 20240101000003"
	df doctor; expect_rc 6
	lacks "$out$err" "All checks passed"
}

# A password with a '/' ends the host part early: the error says to
# percent-encode it, and never shows it.
t_password_needs_encoding() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	df db status --json --url 'postgres://app:s3cr/et@db.example.com:5432/shop'; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	contains "$(json 'd["error"]["hint"]')" "percent-encoded"
	contains "$(json 'd["error"]["hint"]')" "%2F"
	lacks "$out$err" "s3cr"
	df db status --json --url 'postgres://app@db.example.com:54x/shop'; expect_rc 2
	contains "$(json 'd["error"]["hint"]')" "port must be a number"
}

ONLY_SQLITE_TESTS="t_hint_names_source t_password_needs_encoding"
run_tests t_unknown_database t_tls_failed t_hint_names_source t_permission_rule t_positions \
	t_doctor_privileges t_doctor_missing_files t_password_needs_encoding
