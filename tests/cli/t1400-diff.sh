#!/bin/bash
# db diff: the DDL between a database, a URL and a .sql file; identical
# schemas print nothing; the output applies and a second diff is empty;
# --json, --exit-code, destroyed data marked and reviewed; bad input.
. "$(dirname "$0")/lib.sh"

# A migrated project: users(id, email), a view on it.
setup_schema() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
CREATE VIEW user_emails AS SELECT email FROM users;" "DROP VIEW user_emails; DROP TABLE users;"
	df db migrate; expect_rc 0
	printf '%s\n' "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"CREATE VIEW user_emails AS SELECT email FROM users;" >schema.sql
}

# apply FILE: run the SQL of FILE on the project's database
apply() {
	case $ENGINE in
	sqlite) sqlite3 -batch "$PROJECT/test.db" <"$1" ;;
	postgres) psql -qX -v ON_ERROR_STOP=1 "$URL" <"$1" >/dev/null ;;
	mysql) local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DBNAME" <"$1" ;;
	esac
}

t_identical_is_silent() {
	setup_schema
	df db diff --exit-code; expect_rc 0
	[ -z "$out" ] || fail "identical schemas printed: $out"
	df db diff --from schema.sql --to schema.sql --exit-code; expect_rc 0
	[ -z "$out" ] || fail "a file against itself printed: $out"
	df db diff --json --exit-code; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'len(d["changes"])' 0
	json_eq 'len(d["not_compared"]) > 0' true
}

t_changes_apply_and_rediff_empty() {
	setup_schema
	printf '%s\n' "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(100));" \
		"CREATE VIEW user_emails AS SELECT email FROM users;" \
		"CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT);" \
		"CREATE INDEX posts_user ON posts (user_id);" >schema.sql
	df db diff --exit-code; expect_rc 1
	contains "$out" "posts"
	contains "$out" "name"
	lacks "$out" "_migrations"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the diff does not apply"
	df db diff --exit-code; expect_rc 0
	[ -z "$out" ] || fail "second diff not empty: $out"
	table_exists posts || fail "posts was not created"
}

t_destroys_data_marked_and_reviewed() {
	setup_schema
	printf '%s\n' "CREATE TABLE accounts (id INTEGER PRIMARY KEY);" >schema.sql
	df db diff --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq '[c["destroys_data"] for c in d["changes"] if c["object"].endswith("users")][0]' true
	json_eq '[c["risk"] for c in d["changes"] if c["object"].endswith("users")][0]' high
	contains "$(json '[h for c in d["changes"] for h in c["hazards"]]')" "drop-table"
	json_eq 'len(d["not_compared"]) > 0' true
	contains "$(json 'd["sql"]')" "accounts"
	df db diff; expect_rc 0
	contains "$out" "DESTROYS DATA"
}

t_bad_sql_file_is_located() {
	setup_schema
	printf 'CREATE TABLE a (id INTEGER);\nCREATE TABLE a (id INTEGER);\n' >broken.sql
	df db diff --to broken.sql --json; expect_rc 1
	json_eq 'd["error"]["kind"]' sql_error
	json_eq 'd["error"]["line"]' 2
	contains "$err" "broken.sql:2:"
	[ -z "$(throwaway_leftovers diff)" ] || fail "a throwaway database was left behind"
	df db diff --to missing.sql; expect_rc 2
	contains "$err" "missing.sql"
}

t_unreachable_and_password() {
	setup_schema
	case $ENGINE in
	sqlite) skip_engine "no server to reach" ;;
	postgres) bad="postgres://app:hunter2-secret@127.0.0.1:1/x" ;;
	mysql) bad="mysql://app:hunter2-secret@127.0.0.1:1/x" ;;
	esac
	df db diff --from "$bad" --to schema.sql; expect_rc 4
	lacks "$out$err" "hunter2-secret"
	df db diff --from "$bad" --to schema.sql --json; expect_rc 4
	lacks "$out$err" "hunter2-secret"
	json_eq 'd["error"]["kind"]' connection_refused
}

t_renames_are_said_not_guessed() {
	setup_schema
	q "INSERT INTO users (id, email) VALUES (1, 'kept@example.com')" >/dev/null
	printf '%s\n' "-- devflow:renamed-from users" "CREATE TABLE accounts (" "  id INTEGER PRIMARY KEY," \
		"  -- devflow:renamed-from email" "  mail VARCHAR(255) NOT NULL" ");" \
		"CREATE VIEW user_emails AS SELECT mail FROM accounts;" >schema.sql
	df db diff; expect_rc 0
	contains "$out" "RENAME"
	lacks "$out" "DROP TABLE"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the diff does not apply"
	[ "$(q "SELECT mail FROM accounts WHERE id = 1")" = kept@example.com ] || fail "the row did not survive the rename"
	df db diff --exit-code; expect_rc 0
	[ -z "$out" ] || fail "second diff not empty: $out"
	# without the directive it is a drop and a create, marked
	printf '%s\n' "CREATE TABLE people (id INTEGER PRIMARY KEY);" >schema.sql
	df db diff; expect_rc 0
	contains "$out" "DESTROYS DATA"
}

t_usage_errors() {
	new_project
	df db diff --from sqlite:./nothing.db --to sqlite:./nothing2.db; expect_rc 2
	[ ! -e nothing.db ] || fail "db diff created a SQLite file"
	df db diff --format dot; expect_rc 2
	df db diff --bogus; expect_rc 2
	df db diff --from sqlite:a.db --to postgres://x@127.0.0.1:1/y; expect_rc 2
}

ONLY_SQLITE_TESTS="t_usage_errors"
run_tests t_identical_is_silent t_changes_apply_and_rediff_empty \
	t_destroys_data_marked_and_reviewed t_bad_sql_file_is_located \
	t_unreachable_and_password t_renames_are_said_not_guessed t_usage_errors
