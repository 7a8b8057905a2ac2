#!/bin/bash
# db review: findings, exit codes, formats, controls, impact, other tools' files.
. "$(dirname "$0")/lib.sh"

t_review_pending_and_fail_on() {
	new_project
	mig 20240101000000 accounts "CREATE TABLE accounts (id INTEGER PRIMARY KEY, v VARCHAR(20));" "DROP TABLE accounts;"
	df db migrate; expect_rc 0
	q "INSERT INTO accounts (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')"
	mig 20240102000000 risky "DELETE FROM accounts;" ""
	df db review --json; expect_rc 3
	json_eq 'd["ok"]' false
	json_eq 'd["findings"][0]["rule"]' delete-without-where
	json_eq 'd["findings"][0]["risk"]' high
	json_eq 'd["findings"][0]["severity"]' error
	json_eq 'd["findings"][0]["line"]' 2
	json_eq 'd["findings"][0]["file"]' migrations/20240102000000_risky.sql
	json_eq 'd["findings"][0]["impact"]["table"]' accounts
	[ "$ENGINE" = sqlite ] && json_eq 'd["findings"][0]["impact"]["rows"]' 3
	json_eq 'd["summary"][0]["actions"][0]' "delete all rows from accounts (destroys data)"
	json_eq 'd["summary"][0]["changes_data"]' true
	df db review; expect_rc 3
	contains "$out" "DELETE FROM accounts;"
	contains "$out" "^"
	contains "$out" "impact:"
	# migrate runs the review first and shows it in the preview
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["findings"][0]["rule"]' delete-without-where
}

t_review_files_and_dialects() {
	[ "$ENGINE" = sqlite ] || skip_engine "reviews files, no database: run on sqlite only"
	new_project
	mkdir -p prisma/migrations/20240101_init
	printf 'CREATE INDEX users_email ON users (email);\nALTER TABLE users RENAME COLUMN name TO full_name;\n' \
		>prisma/migrations/20240101_init/migration.sql
	df db review prisma/migrations/20240101_init/migration.sql --dialect postgres --json; expect_rc 3
	json_eq '[f["rule"] for f in d["findings"] if f["rule"] != "lock-timeout-missing"]' '["create-index-not-concurrently", "rename-column"]'
	df db review prisma/migrations/20240101_init/migration.sql --dialect postgres --fail-on low; expect_rc 3
	printf 'CREATE TABLE t (id INTEGER);\n' >plain.sql
	df db review plain.sql --dialect postgres --fail-on low --json; expect_rc 0
	json_eq 'len(d["findings"])' 0
	df db review plain.sql --fail-on extreme; expect_rc 2
	df db review plain.sql --dialect oracle; expect_rc 2
	df db review no-such-file.sql; expect_rc 2
}

t_review_controls() {
	[ "$ENGINE" = sqlite ] || skip_engine "reviews files, no database: run on sqlite only"
	new_project
	printf -- '-- devflow:allow drop-table\nDROP TABLE old_stuff;\nDROP TABLE other;\n' >f.sql
	df db review f.sql --dialect postgres --json; expect_rc 3
	json_eq '[f["line"] for f in d["findings"] if f["rule"] == "drop-table"]' '[3]'
	printf '[review]\ndisable = drop-table, lock-timeout-missing\n' >devflow.conf
	df db review f.sql --dialect postgres --json; expect_rc 0
	json_eq 'len(d["findings"])' 0
}

t_review_sarif() {
	[ "$ENGINE" = sqlite ] || skip_engine "reviews files, no database: run on sqlite only"
	new_project
	printf 'DROP TABLE t;\n' >f.sql
	df db review f.sql --dialect mysql --format sarif; expect_rc 3
	json_eq 'd["version"]' 2.1.0
	json_eq 'd["runs"][0]["results"][0]["ruleId"]' drop-table
	json_eq 'd["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]' 1
}

t_review_corpus_no_crash() {
	[ "$ENGINE" = sqlite ] || skip_engine "reviews files, no database: run on sqlite only"
	new_project
	# every file of PostgreSQL's regression suite, in one process: no crash, no hang
	df db review "$DF_SHARED"/corpus/pg_regress/*.sql --dialect postgres --fail-on high --json
	# the suite has high-risk statements (DROP TABLE ...): --fail-on high exits 3
	expect_rc 3 "review of the corpus"
	json 'len(d["summary"])' | grep -qx 213 || fail "not all 213 files reviewed"
}

t_review_syntax_error() {
	# a statement the engine's parser rejects: PostgreSQL's review finds it
	# (an error at file:line:column, exit 3); MySQL and SQLite say that the
	# dry-run checks the syntax, and the dry-run fails on it
	new_project
	mig 20240101000000 bad "CREATE TABLE bad (id int DEFALT 1);" "DROP TABLE bad;"
	if [ "$ENGINE" = postgres ]; then
		df db review --json; expect_rc 3
		json_eq '[f["rule"] for f in d["findings"]]' '["syntax-error"]'
		json_eq 'd["findings"][0]["severity"]' error
		json_eq '(d["findings"][0]["file"], d["findings"][0]["line"], d["findings"][0]["column"])' \
			'["migrations/20240101000000_bad.sql", 2, 26]'
		json_eq 'd["syntax_checked"]' "by review"
		df db review; expect_rc 3
		contains "$out" "migrations/20240101000000_bad.sql:2:26: error [syntax-error, high risk]"
		contains "$out" 'syntax error at or near "DEFALT"'
	else
		df db review --json; expect_rc 0
		json_eq 'd["syntax_checked"]' "by the dry-run"
		df db review; expect_rc 0
		contains "$out" "does not check their syntax; the dry-run (devflow db migrate --dry-run) does"
		df db migrate --dry-run; expect_rc 1
	fi
	# a valid file: no syntax finding, and review passes
	new_project
	mig 20240101000000 good "CREATE TABLE good (id int DEFAULT 1);" "DROP TABLE good;"
	df db review --json; expect_rc 0
	json_eq '[f["rule"] for f in d["findings"] if f["rule"] == "syntax-error"]' '[]'
}

run_tests t_review_pending_and_fail_on t_review_files_and_dialects t_review_controls t_review_sarif t_review_corpus_no_crash t_review_syntax_error
