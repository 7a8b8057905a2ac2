#!/bin/bash
# Honest results at the edges (issue 11): a migration with its own BEGIN/COMMIT,
# a failed DOWN, an UP with no statement, `db backup -o` into a missing folder.
. "$(dirname "$0")/lib.sh"

# An UP of only a comment (what `db create revert_x` writes) is refused before
# anything runs: exit 2, kind config; nothing is recorded.
t_empty_up_refused() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"    # irreversible: no DOWN
	df db migrate; expect_rc 0 || return 1
	# a migration whose UP holds only the template's comment, never filled in
	# (db create revert_a now derives the reverse: t1500)
	file=migrations/20240102000000_todo.sql
	printf -- '-- UP\n-- write the SQL here\n-- DOWN\n' >"$file"
	# review refuses it as migrate does: it would be recorded applied
	df db review --json; expect_rc 2 || return 1
	contains "$(json 'd["error"]["message"]')" "no statement in its UP" || return 1
	df db migrate --dry-run --json; expect_rc 2 || return 1
	json_eq 'd["error"]["kind"]' config || return 1
	contains "$(json 'd["error"]["message"]')" "no statement in its UP" || return 1
	df db migrate --json; expect_rc 2 || return 1
	json_eq 'd["error"]["kind"]' config || return 1
	[ "$(q "SELECT count(*) FROM _migrations")" = 1 ] || fail "the empty migration was recorded" || return 1
	# a golang-style empty up file too, and only comments in block form
	rm "$file"
	printf -- '-- UP\n/* nothing yet */\n-- just a note\n-- DOWN\nSELECT 1;\n' >migrations/20990101000000_empty.sql
	df db migrate --json; expect_rc 2 || return 1
	json_eq 'd["error"]["file"]' migrations/20990101000000_empty.sql || return 1
	[ "$(q "SELECT count(*) FROM _migrations")" = 1 ] || fail "the empty migration was recorded" || return 1
}

# BEGIN; ... COMMIT; then a failing statement: what ran before the failure is
# kept, the migration is recorded failed with the statements that ran, and the
# error never says "nothing of this migration was kept".
t_own_transaction_failure() {
	new_project
	mig 20240101000000 own_tx "BEGIN;
CREATE TABLE a (id INTEGER);
COMMIT;
CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate --json; expect_rc 1 || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	json_eq 'd["error"]["line"]' 5 || return 1
	contains "$(json 'd["error"]["hint"]')" "except the 3 statements that ran before it" || return 1
	table_exists a || fail "the committed part is gone" || return 1
	[ "$(q "SELECT state FROM _migrations")" = failed ] || fail "not recorded failed: $(q "SELECT * FROM _migrations")" || return 1
	[ "$(q "SELECT statements_done FROM _migrations")" = 3 ] || fail "statements_done: $(q "SELECT statements_done FROM _migrations")" || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["migrations"][0]["state"]' failed || return 1
	df db migrate; expect_rc 6 || return 1
}

# The same migration without the failure: applied, and a dry-run of it keeps
# nothing (its COMMIT must not commit the dry-run's transaction).
t_own_transaction_ok_and_dry_run() {
	new_project
	mig 20240101000000 own_tx "BEGIN;
CREATE TABLE a (id INTEGER);
INSERT INTO a (id) VALUES (1);
COMMIT;" "DROP TABLE a;"
	df db migrate --dry-run --json; expect_rc 0 || return 1
	table_exists a && { fail "the dry-run kept table a"; return 1; }
	df db migrate --json; expect_rc 0 || return 1
	[ "$(q "SELECT state FROM _migrations")" = applied ] || fail "not applied" || return 1
	[ "$(q "SELECT count(*) FROM a")" = 1 ] || fail "row missing" || return 1
}

# A transaction the migration opens and never ends is rolled back, and the
# migration recorded failed (exit 6: the history needs a person).
t_own_transaction_left_open() {
	new_project
	mig 20240101000000 open_tx "CREATE TABLE a (id INTEGER);
BEGIN;
INSERT INTO a (id) VALUES (1);" ""
	df db migrate --json; expect_rc 6 || return 1
	json_eq 'd["error"]["kind"]' failed_migration || return 1
	contains "$(json 'd["error"]["message"]')" "opened a transaction and did not end it" || return 1
	[ "$(q "SELECT state FROM _migrations")" = failed ] || fail "not recorded failed" || return 1
	[ "$(q "SELECT count(*) FROM a")" = 0 ] || fail "the open transaction was kept" || return 1
}

# A failed DOWN is a failed rollback naming the statement; the state is said.
t_failed_down() {
	new_project
	mig 20240101000000 two "CREATE TABLE a (id INTEGER);
CREATE TABLE b (id INTEGER);" "DROP TABLE b;
DROP TABLE no_such_table;
DROP TABLE a;"
	df db migrate; expect_rc 0 || return 1
	df db rollback --json; expect_rc 1 || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	msg=$(json 'd["error"]["message"]')
	contains "$msg" "rollback of '20240101000000_two.sql' failed" || return 1
	contains "$msg" "DROP TABLE no_such_table" || return 1
	json_eq 'd["error"]["line"]' 6 || return 1
	hint=$(json 'd["error"]["hint"]')
	lacks "$hint" "nothing of this migration was kept" || return 1
	table_exists a || fail "the UP's table a is gone" || return 1
	if [ "$ENGINE" = mysql ]; then
		contains "$hint" "the 1 statement of its DOWN before it ran and is kept" || return 1
		table_exists b && { fail "DROP TABLE b was not kept"; return 1; }
		[ "$(q "SELECT state FROM _migrations")" = failed ] || fail "not recorded failed" || return 1
	else
		contains "$hint" "nothing of its DOWN was kept" || return 1
		contains "$hint" "it stays applied" || return 1
		table_exists b || fail "the DOWN's rollback did not bring b back" || return 1
		[ "$(q "SELECT state FROM _migrations")" = applied ] || fail "not applied" || return 1
	fi
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'rollback' AND result = 'failed'")" = 1 ] ||
		fail "no failed rollback in the audit log" || return 1
}

# A DOWN that fails at its first statement changed nothing: on every engine
# the migration stays applied.
t_failed_down_first_statement() {
	new_project
	mig 20240101000000 one "CREATE TABLE a (id INTEGER);" "DROP TABLE no_such_table;
DROP TABLE a;"
	df db migrate; expect_rc 0 || return 1
	df db rollback --json; expect_rc 1 || return 1
	contains "$(json 'd["error"]["message"]')" "DROP TABLE no_such_table" || return 1
	[ "$(q "SELECT state FROM _migrations")" = applied ] || fail "state: $(q "SELECT state FROM _migrations")" || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["migrations"][0]["state"]' applied || return 1
	df db migrate; expect_rc 0 || return 1
}

# -o into a folder that does not exist: a usage error; no folder is created.
t_backup_into_missing_folder() {
	[ "$ENGINE" = sqlite ] || skip_engine "the -o folder check is engine-independent; sqlite covers it"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0 || return 1
	d=/nonexistent-devflow-$$
	df db backup -o "$d/x.dump" --json; expect_rc 2 || return 1
	json_eq 'd["error"]["kind"]' usage || return 1
	contains "$(json 'd["error"]["message"]')" "does not exist" || return 1
	[ -e "$d" ] && { fail "$d was created"; rm -rf "$d"; return 1; }
	df db backup -o "$TMP_ROOT/no/such/x.dump"; expect_rc 2 || return 1
	[ -e "$TMP_ROOT/no" ] && { fail "$TMP_ROOT/no was created"; return 1; }
	df db backup -o "$PROJECT/x.sqlite3"; expect_rc 0 || return 1
	[ -s "$PROJECT/x.sqlite3" ] || fail "no backup written" || return 1
}

run_tests t_empty_up_refused t_own_transaction_failure t_own_transaction_ok_and_dry_run \
	t_own_transaction_left_open t_failed_down t_failed_down_first_statement t_backup_into_missing_folder
