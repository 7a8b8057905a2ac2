#!/bin/bash
# Commands in error hints and messages: the core gives them as data
# (df_error_suggest), the CLI words them into the sentence, in text and JSON,
# byte-for-byte as they read when the core wrote them out.
. "$(dirname "$0")/lib.sh"

t_no_folder_names_create() {
	new_project
	rm -rf migrations
	local hint="run devflow in the project folder (or -C DIR); to start a project here: devflow db create NAME; or set [project] migrations in devflow.conf"
	df db status; expect_rc 2
	contains "$err" "hint: $hint"
	lacks "$err" $'\x1f'
	df db status --json; expect_rc 2
	json_eq 'd["error"]["hint"]' "$hint"
}

t_not_a_backup_names_backup() {
	new_project
	mig 20240101000000 t "CREATE TABLE t (id INTEGER);" "DROP TABLE t;"
	df db migrate; expect_rc 0
	case $ENGINE in
	sqlite)
		echo "not a database" >"$PROJECT/bad.db"
		df db restore "$PROJECT/bad.db" --yes; expect_rc 2
		contains "$err" "error: '$PROJECT/bad.db' is not a SQLite backup (a SQLite database file, as \`devflow db backup\` writes)"
		df db restore "$PROJECT/bad.db" --yes --json; expect_rc 2
		json_eq 'd["error"]["message"]' "'$PROJECT/bad.db' is not a SQLite backup (a SQLite database file, as \`devflow db backup\` writes)"
		;;
	postgres)
		echo "SELECT 1;" >"$PROJECT/bad.sql"
		df db restore "$PROJECT/bad.sql" --yes; expect_rc 2
		contains "$err" "error: '$PROJECT/bad.sql' is not a PostgreSQL backup (a pg_dump custom-format archive, as \`devflow db backup\` writes)"
		df db restore "$PROJECT/bad.sql" --yes --json; expect_rc 2
		json_eq 'd["error"]["message"]' "'$PROJECT/bad.sql' is not a PostgreSQL backup (a pg_dump custom-format archive, as \`devflow db backup\` writes)"
		;;
	mysql)
		printf 'USE `elsewhere`;\nCREATE TABLE x (id INT);\n-- Dump completed\n' >"$PROJECT/other.sql"
		df db restore "$PROJECT/other.sql" --yes; expect_rc 3
		contains "$err" "hint: take the dump of one database without --databases (mariadb-dump DATABASE > FILE, or \`devflow db backup\`), or remove its CREATE DATABASE and USE lines"
		df db restore "$PROJECT/other.sql" --yes --json; expect_rc 3
		contains "$(json 'd["error"]["hint"]')" "(mariadb-dump DATABASE > FILE, or \`devflow db backup\`), or remove"
		;;
	esac
	lacks "$err$out" $'\x1f'
	table_exists t || fail "a refused restore dropped t"
}

run_tests t_no_folder_names_create t_not_a_backup_names_backup
