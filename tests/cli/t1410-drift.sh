#!/bin/bash
# Drift and what a run changed (issue 14): every migrate and rollback records
# the schema it left; `db status` reports `drift` when the live schema differs
# (and says when it cannot know); migrate, rollback and their dry-runs report
# `schema_changes`, the model diff of before and after; a schema that cannot
# be read or recorded never turns a run that applied into a failure.
. "$(dirname "$0")/lib.sh"

# A project with users(id, email), migrated.
setup_users() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	df db migrate --json; expect_rc 0
	json_eq 'd["schema_recorded"]' true
}

# changes KEY: the schema_changes (migrate) or drift_changes (status) as
# "op object" lines
changes() {
	json "'\\n'.join(c['op'] + ' ' + c['object'] for c in (d['$1'] or []))"
}

t_no_record_is_not_no_drift() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY);" "DROP TABLE users;"
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' null
	contains "$(json 'd["drift_reason"]')" "no schema was recorded"
	json_eq '"drift_changes" in d' false
	df db status; expect_rc 0
	contains "$out" "Drift: unknown"
	lacks "$out" "no drift"
}

t_migrate_then_no_drift() {
	setup_users
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	json_eq 'd["drift_changes"]' '[]'
	json_eq 'd["schema_recorded_at"].endswith("Z")' true
	df db status; expect_rc 0
	contains "$out" "no drift since"
	# devflow's own tables are not part of the model: the audit row of this
	# very status run, and of the migrate, change nothing
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
}

t_outside_change_is_drift() {
	setup_users
	q "ALTER TABLE users ADD COLUMN nickname VARCHAR(20)" >/dev/null
	q "CREATE TABLE notes (id INTEGER PRIMARY KEY)" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	local c
	c=$(changes drift_changes)
	contains "$c" "changed table "
	contains "$c" "users"
	contains "$c" "added table "
	contains "$c" "notes"
	lacks "$c" "_migrations"
	df db status; expect_rc 0
	contains "$out" "Drift:"
	contains "$out" "+ table "
	contains "$out" "~ table "
	# a table dropped outside devflow is removed
	q "DROP TABLE notes" >/dev/null
	q "DROP TABLE users" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(changes drift_changes)" "removed table "
}

t_schema_changes_of_migrate_and_dry_run() {
	setup_users
	# (servers: the primary key is a change of its own)
	json_eq '[c["op"] + " " + c["kind"] for c in d["schema_changes"] if c["kind"] == "table"]' '["create table"]'
	contains "$(json 'd["schema_changes"][0]["object"]')" "users"
	contains "$(json 'd["schema_changes"][0]["sql"]')" "CREATE TABLE"
	mig 20240102000000 add_name "ALTER TABLE users ADD COLUMN name VARCHAR(100);
CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT);" "DROP TABLE posts; ALTER TABLE users DROP COLUMN name;"
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["dry_run"]' true
	json_eq 'd["schema_changes"] is None' false
	local c
	c=$(changes schema_changes)
	contains "$c" "create table "
	contains "$c" "posts"
	contains "$c" "users"
	contains "$(json '" ".join(x["sql"] for x in d["schema_changes"])')" "name"
	table_exists posts && fail "the dry-run kept table posts"
	df db migrate --dry-run; expect_rc 0
	contains "$out" "Schema changes:"
	contains "$out" "+ create table "
	df db migrate --json; expect_rc 0
	c=$(changes schema_changes)
	contains "$c" "posts"
	contains "$c" "users"
	table_exists posts || fail "migrate did not create posts"
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
}

t_rollback_records_again() {
	setup_users
	mig 20240102000000 posts "CREATE TABLE posts (id INTEGER PRIMARY KEY);" "DROP TABLE posts;"
	df db migrate; expect_rc 0
	df db rollback --dry-run --json; expect_rc 0
	json_eq '[c["op"] for c in d["schema_changes"]]' '["drop"]'
	contains "$(changes schema_changes)" "posts"
	table_exists posts || fail "the rollback dry-run dropped posts"
	q "CREATE TABLE outside_made (id INTEGER PRIMARY KEY)" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	df db rollback --json; expect_rc 0
	json_eq '[c["op"] for c in d["schema_changes"]]' '["drop"]'
	json_eq 'd["schema_recorded"]' true
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	df db rollback; expect_rc 0
	contains "$out" "Schema changes:"
	contains "$out" "- drop table "
}

# abs_url: $URL with a SQLite path made absolute (for runs from other folders)
abs_url() {
	case $URL in sqlite:./*) echo "sqlite:$PROJECT/${URL#sqlite:./}" ;; *) echo "$URL" ;; esac
}

# The record is about the database, not the environment's name: the same
# env pointed at another database (same history) has no record there; a
# history changed elsewhere (another checkout migrated it) makes the record
# out of date, never drift.
t_record_is_per_database_and_history() {
	setup_users
	local p1=$PROJECT url1 url2
	url1=$(abs_url)
	new_project
	cp "$p1"/migrations/* migrations/
	df db migrate; expect_rc 0
	url2=$(abs_url)
	cd "$p1"
	export DATABASE_URL=$url2
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' null
	contains "$(json 'd["drift_reason"]')" "no schema was recorded"
	export DATABASE_URL=$url1
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	# a second checkout of the project migrates the same database
	local clone=$TMP_ROOT/clone
	rm -rf "$clone"
	cp -r "$p1" "$clone"
	mig 20240105000000 later "CREATE TABLE later (id INTEGER PRIMARY KEY);" "DROP TABLE later;"
	cp migrations/20240105000000_later.sql "$clone/migrations/"
	(cd "$clone" && "$DEVFLOW" db migrate >/dev/null 2>&1) || fail "the second checkout could not migrate"
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' null
	contains "$(json 'd["drift_reason"]')" "history changed"
	df db status; expect_rc 0
	contains "$out" "Drift: unknown"
}

# The staging/production snapshots get the model beside the text dump.
t_snapshot_models() {
	new_project
	unset DATABASE_URL
	printf '[env "target"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	mig 20240101000000 users "CREATE TABLE users (id INTEGER PRIMARY KEY);" "DROP TABLE users;"
	df db migrate --env target --dry-run; expect_rc 0
	df db migrate --env target --yes --json; expect_rc 0
	local b a
	b=$(json 'd["snapshots"]["before_model"]'); a=$(json 'd["snapshots"]["after_model"]')
	[ -f "$b" ] || fail "no model before: '$b' ($out)"
	[ -f "$a" ] || fail "no model after: '$a'"
	case $a in *.schema) ;; *) fail "the model is not a .schema file: $a" ;; esac
	[ -f "${a%.schema}.sql" ] || fail "the model is not beside the text dump: $a"
	grep -q "^table .*users" "$a" || fail "the model after lacks users: $(head -c 300 "$a")"
	! grep -q "^table .*users" "$b" || fail "the model before has users already"
	! grep -q "_migrations" "$a" || fail "devflow's own tables are in the model"
}

# Reading the schema fails (a virtual table of a module this build lacks,
# made behind devflow's back): the migrate still applies, exit 0, and says
# what it does not know.  status does not read the schema without a record.
t_failing_schema_read_keeps_result() {
	[ "$ENGINE" = sqlite ] || skip_engine "no way to break the catalogs for a superuser; SQLite's schema table can be"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate; expect_rc 0
	rm -rf .devflow/schema
	sqlite3 test.db "PRAGMA writable_schema=ON; INSERT INTO sqlite_schema(type, name, tbl_name, rootpage, sql) VALUES ('table', 'vt', 'vt', 0, 'CREATE VIRTUAL TABLE vt USING no_such_module()');" ||
		fail "cannot break the schema"
	# no record: status never reads the (unreadable) schema
	df db status --json; expect_rc 0
	contains "$(json 'd["drift_reason"]')" "no schema was recorded"
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq '[a["version"] for a in d["applied"]]' '["20240102000000"]'
	json_eq 'd["verified"]' true
	json_eq 'd["schema_changes"]' null
	contains "$(json 'd["schema_changes_unknown"]')" "could not be read"
	json_eq 'd["schema_recorded"]' false
	contains "$(json 'd["schema_warning"]')" "not recorded"
	contains "$err" "warning: cannot read the schema"
	table_exists b || fail "b was not applied"
	mig 20240103000000 c "CREATE TABLE c (id INTEGER);" "DROP TABLE c;"
	df db migrate; expect_rc 0
	contains "$out" "Schema changes: not known"
	contains "$err" "warning:"
}

# The record cannot be written: a warning and a field, the run stays ok.
t_record_failure_is_a_warning() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mkdir -p .devflow && : >.devflow/schema
	df db migrate --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["schema_recorded"]' false
	contains "$(json 'd["schema_warning"]')" "not recorded"
	contains "$err" "warning: the schema devflow left was not recorded"
	table_exists a || fail "a was not applied"
}

# A dry-run that cannot run a migration (no transaction on SQLite) says the
# schema changes are not known, never an empty list.
t_dry_run_unknown_without_transaction() {
	[ "$ENGINE" = sqlite ] || skip_engine "PostgreSQL runs it in the dry-run's transaction, MariaDB in its shadow database"
	new_project
	printf -- '-- devflow:no-transaction\n-- UP\nCREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n' \
		>migrations/20240101000000_a.sql
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["schema_changes"]' null
	contains "$(json 'd["schema_changes_unknown"]')" "without a transaction"
	df db migrate --dry-run; expect_rc 0
	contains "$out" "Schema changes: not known"
}

# schema_changes says what changed, not how a diff would redo it: a column
# renamed is one gone and one come (SQLite: never the rebuild's statements),
# and an index the change did not touch is not listed.
t_schema_changes_are_what_changed() {
	new_project
	mig 20240101000000 create_t "CREATE TABLE t (id INTEGER PRIMARY KEY, code INTEGER, qty INTEGER);
CREATE INDEX t_code ON t (code);" "DROP TABLE t;"
	df db migrate; expect_rc 0
	mig 20240102000000 rename_qty "ALTER TABLE t RENAME COLUMN qty TO quantity;" \
		"ALTER TABLE t RENAME COLUMN quantity TO qty;"
	df db migrate --json; expect_rc 0
	json_eq '[c["op"] + " " + c["kind"] for c in d["schema_changes"]]' '["alter table"]'
	json_eq '[x[:2] for x in d["schema_changes"][0]["columns"]]' '["- ", "+ "]'
	contains "$(json 'd["schema_changes"][0]["columns"][0]')" qty
	contains "$(json 'd["schema_changes"][0]["columns"][1]')" quantity
	df db rollback; expect_rc 0
	contains "$out" "~ alter table "
	contains "$out" "- quantity"
	contains "$out" "+ qty"
	lacks "$out" "t_code"
	lacks "$out" "_devflow_new_"
}

ONLY_SQLITE_TESTS="t_record_failure_is_a_warning"
run_tests t_no_record_is_not_no_drift t_migrate_then_no_drift t_outside_change_is_drift \
	t_schema_changes_of_migrate_and_dry_run t_rollback_records_again \
	t_record_is_per_database_and_history t_snapshot_models \
	t_failing_schema_read_keeps_result t_record_failure_is_a_warning \
	t_dry_run_unknown_without_transaction t_schema_changes_are_what_changed
