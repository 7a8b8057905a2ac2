#!/bin/bash
# Bad input: a clear message, the SPEC exit code, nothing half-done.
. "$(dirname "$0")/lib.sh"

# Every case below must leave the database without the good migration's table.
expect_nothing_applied() {
	table_exists good && fail "something was applied despite the bad file"
	return 0
}

with_good() {
	new_project
	mig 20240101000000 good "CREATE TABLE good (id INTEGER);" "DROP TABLE good;"
}

t_two_up_markers() {
	with_good
	printf -- '-- UP\nCREATE TABLE x (id INTEGER);\n-- UP\nSELECT 1;\n' >migrations/20240102000000_x.sql
	df db migrate --json; expect_rc 2
	json_eq 'd["error"]["kind"]' config
	json_eq 'd["error"]["line"]' 3
	contains "$err" "two UP markers"
	expect_nothing_applied
}

t_no_up_marker() {
	with_good
	printf 'CREATE TABLE x (id INTEGER);\n' >migrations/20240102000000_x.sql
	df db migrate; expect_rc 2; contains "$err" "no '-- UP' marker"
	expect_nothing_applied
}

t_invalid_utf8() {
	with_good
	printf -- '-- UP\nSELECT 1;\n-- caf\xe9\n' >migrations/20240102000000_x.sql
	df db migrate --json; expect_rc 2; contains "$err" "not valid UTF-8"
	json_eq 'd["error"]["line"]' 3
	expect_nothing_applied
}

t_nul_byte() {
	with_good
	printf -- '-- UP\nSELECT 1;\x00\n' >migrations/20240102000000_x.sql
	df db migrate; expect_rc 2; contains "$err" "NUL byte"
	expect_nothing_applied
}

t_unterminated() {
	for body in "INSERT INTO good VALUES ('oops);" "SELECT 1; /* never closed" \
		'SELECT "no end;'; do
		with_good
		printf -- '-- UP\n%s\n' "$body" >migrations/20240102000000_x.sql
		df db migrate --json; expect_rc 1 "$body"
		json_eq 'd["error"]["kind"]' sql_error
		json_eq 'd["error"]["line"]' 2
		expect_nothing_applied
	done
}

t_unterminated_trigger() {
	[ "$ENGINE" = sqlite ] || skip_engine "SQLite trigger syntax"
	with_good
	printf -- '-- UP\nCREATE TABLE t (id INTEGER);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\n' >migrations/20240102000000_x.sql
	df db migrate --json; expect_rc 1
	json_eq 'd["error"]["kind"]' sql_error
	expect_nothing_applied
}

t_duplicate_versions() {
	with_good
	mig 20240102000000 x "SELECT 1;"
	mig 20240102000000 y "SELECT 2;"
	df db migrate; expect_rc 2
	contains "$err" "20240102000000_x.sql"; contains "$err" "20240102000000_y.sql"
	expect_nothing_applied
}

t_unreadable_folder() {
	[ "$(id -u)" = 0 ] && { # root reads everything: use a file where the folder should be
		with_good; rm -rf migrations; echo x >migrations
		df db status; expect_rc 2; contains "$err" "migrations"
		return 0; }
	with_good; chmod 000 migrations
	df db status; expect_rc 2
	chmod 755 migrations
}

t_not_a_database() {
	[ "$ENGINE" = sqlite ] || skip_engine "a SQLite file that is not a database"
	with_good
	echo "this is not a database, just text that is long enough to have a header" >test.db
	df db migrate --json; expect_rc 2
	contains "$err" "is not a SQLite database"
	[ "$(head -c 12 test.db)" = "this is not " ] || fail "the file was changed"
}

t_read_only_database() {
	[ "$ENGINE" = sqlite ] || skip_engine "a read-only SQLite file"
	with_good
	df db migrate; expect_rc 0
	mig 20240102000000 x "CREATE TABLE x (id INTEGER);"
	chmod 444 test.db
	if [ "$(id -u)" = 0 ]; then
		# root writes through file modes: open it read-only instead
		DATABASE_URL="sqlite:test.db?mode=ro" df db migrate --json
	else
		df db migrate --json
	fi
	expect_rc 4
	contains "$err" "read-only"
	json_eq 'd["error"]["kind"]' permission_denied
	table_exists x && fail "applied to a read-only database"
	chmod 644 test.db
}

t_large_file() {
	[ "$ENGINE" = sqlite ] || skip_engine "reads a 100 MB file: engine-independent, run on sqlite only"
	new_project
	python3 - <<'PY'
with open("migrations/20240101000000_big.sql", "w") as f:
    f.write("-- UP\nCREATE TABLE big (id INTEGER, payload TEXT);\n")
    row = "x" * 900
    n = 0
    while f.tell() < 100 * 1024 * 1024:
        f.write("INSERT INTO big VALUES (%d, '%s');\n" % (n, row))
        n += 1
    f.write("-- DOWN\nDROP TABLE big;\n")
PY
	df db migrate; expect_rc 0
	contains "$out" "run a large migration (100 MB)"   # the preview does not read it whole
	[ "$(q "SELECT count(*) > 100000 FROM big")" = 1 ] || fail "big file not applied"
}

t_empty_down_refused() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "-- nothing to do here"
	df db migrate; expect_rc 0
	df db rollback; expect_rc 3
	contains "$err" "irreversible"
	table_exists a || fail "rollback changed the database"
}

t_bad_urls() {
	new_project
	DATABASE_URL="mssql://sa:pw@host/db" df db status --json; expect_rc 2
	contains "$err" "Microsoft SQL Server"
	unset DATABASE_URL
	TURSO_DATABASE_URL="libsql://x.turso.io" df db status; expect_rc 2; contains "$err" "Turso"
	DATABASE_URL="postgres://u:pw@host:notaport/db" df db status; expect_rc 2
}

ONLY_SQLITE_TESTS="t_bad_urls t_unreadable_folder t_two_up_markers t_no_up_marker t_invalid_utf8 t_nul_byte t_duplicate_versions"
run_tests t_two_up_markers t_no_up_marker t_invalid_utf8 t_nul_byte t_unterminated t_unterminated_trigger \
	t_duplicate_versions t_unreadable_folder t_not_a_database t_read_only_database t_large_file \
	t_empty_down_refused t_bad_urls
