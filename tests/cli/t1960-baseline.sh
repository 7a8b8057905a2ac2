#!/bin/bash
# db baseline (issue 27): a database no tool managed gets devflow's history
# only after the migrations up to VERSION, replayed into a throwaway
# database, are proven to make its schema.  Equal: recorded (state applied,
# the files' checksums, an audit row with the proof), and the next migration
# applies.  Different: refused (exit 1), the differences in drift's words,
# the choices in `next` and `ask`; --accept-differences records them as
# drift accepted by the person (a typed yes beyond local).  Bad input: a
# database with devflow's history (exit 2, nothing changed), a VERSION not
# in the folder (exit 2, the nearest named).
. "$(dirname "$0")/lib.sh"
PTY_RUN=$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py

# five migrations in the folder, applied by the plain client (sqlite3, psql,
# mariadb): no history table anywhere
five_by_hand() {
	new_project
	local i
	for i in 1 2 3 4 5; do
		mig 2024010100000$i create_t$i "CREATE TABLE t$i (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL);" \
			"DROP TABLE t$i;"
		q "CREATE TABLE t$i (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)" >/dev/null
	done
	# the client made the schema, devflow nothing
	table_exists _migrations && fail "_migrations exists before the baseline"
	return 0
}

rows() { q "SELECT count(*) FROM _migrations WHERE state = 'applied'"; }

t_five_recorded_then_sixth_applies() {
	five_by_hand
	df db baseline --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["version"]' '20240101000005'
	json_eq '[r["version"] for r in d["recorded"]]' \
		'["20240101000001", "20240101000002", "20240101000003", "20240101000004", "20240101000005"]'
	json_eq 'sorted(set(r["adopted_from"] for r in d["recorded"]))' '["baseline"]'
	json_eq 'all(len(r["checksum"]) == 64 for r in d["recorded"])' true
	json_eq 'd["proof"]["equal"]' true
	json_eq 'd["proof"]["migrations"]' 5
	json_eq 'd["differences"]' '[]'
	json_eq 'd["next"]' '["devflow db status"]'
	[ "$(rows)" = 5 ] || fail "expected 5 applied rows, got $(rows)"
	# the checksums are the files'
	df db status --json; expect_rc 0
	json_eq 'd["applied"]' 5
	json_eq 'd["pending"]' 0
	json_eq 'all(m["checksum_ok"] for m in d["migrations"])' true
	# the audit row keeps the proof
	df db history --json; expect_rc 0
	contains "$out" "baseline"
	contains "$out" "proof: the 5 migrations replayed into a throwaway"
	df db verify --json; expect_rc 0
	json_eq 'd["drift"]' false
	# a sixth migration then applies
	mig 20240101000006 create_t6 "CREATE TABLE t6 (id INTEGER PRIMARY KEY);" "DROP TABLE t6;"
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000006"]'
	table_exists t6 || fail "t6 was not made"
	[ "$(rows)" = 6 ] || fail "expected 6 applied rows"
	# the text says what was proven
	[ -z "$(throwaway_leftovers)" ] || fail "throwaway databases left: $(throwaway_leftovers)"
}

t_text_output() {
	five_by_hand
	df db baseline 20240101000005; expect_rc 0
	contains "$out" "Proved: the 5 migrations up to 20240101000005, replayed into a throwaway database, make the live schema"
	contains "$out" "Recorded 5 migrations as applied up to 20240101000005 (baseline)."
	contains "$out" "Next: devflow db status"
}

t_column_by_hand_refused_then_accepted() {
	five_by_hand
	q "ALTER TABLE t2 ADD COLUMN legacy_flag INTEGER" >/dev/null
	df db baseline --json; expect_rc 1
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' 'unverified'
	json_eq 'd["recorded"]' '[]'
	json_eq '[(c["op"], c["object"].replace("public.", "")) for c in d["differences"]]' '[["changed", "table t2"]]'
	contains "$(json 'd["differences"][0]["details"]')" "+ column "
	contains "$(json 'd["differences"][0]["details"]')" "legacy_flag"
	# the choices: a migration that captures it (next), accepting it (ask)
	json_eq 'd["next"]' '["devflow db pull", "devflow db generate baseline_differences"]'
	json_eq 'd["ask"]["options"][0]["then"]' 'devflow db baseline 20240101000005 --accept-differences'
	json_eq 'd["ask"]["options"][1]["then"]' null
	contains "$(json 'd["ask"]["question"]')" "legacy_flag"
	# nothing written: no devflow table
	table_exists _migrations && fail "a refused baseline made devflow's table"
	df db baseline; expect_rc 1
	contains "$out" "+ column "
	contains "$out" "legacy_flag"
	contains "$err" "capture the difference in a new migration"
	# accepted: recorded, the drift named with who accepted it
	df db baseline --accept-differences --json; expect_rc 0
	json_eq 'd["accepted_differences"]' true
	json_eq 'len(d["recorded"])' 5
	[ "$(rows)" = 5 ] || fail "expected 5 applied rows"
	df db verify --json; expect_rc 0
	json_eq 'd["findings"]' '[]'
	df db history; expect_rc 0
	contains "$out" "accepted by"
	contains "$out" "legacy_flag"
	df db status --json; expect_rc 0
	contains "$out" "legacy_flag"
}

t_three_against_five_tables_names_the_two() {
	five_by_hand
	rm migrations/20240101000004_create_t4.sql migrations/20240101000005_create_t5.sql
	df db baseline --json; expect_rc 1
	# named once each, with what hangs off them (their primary keys) below
	json_eq 'sorted(c["object"].replace("public.", "") for c in d["differences"])' '["table t4", "table t5"]'
	json_eq '[c["op"] for c in d["differences"]]' '["added", "added"]'
	# (SQLite keeps a primary key in its table: no object of its own)
	[ "$ENGINE" = sqlite ] || contains "$(json 'd["differences"][0]["details"]')" "constraint"
	contains "$(json 'd["error"]["message"]')" "2 differences"
	df db baseline; expect_rc 1
	contains "$out" "+ table "
	contains "$out" "t4"
	contains "$out" "t5"
	# a VERSION before the newest names the later one among the choices
	mig 20240101000004 create_t4 "CREATE TABLE t4 (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL);"
	mig 20240101000005 create_t5 "CREATE TABLE t5 (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL);"
	df db baseline 20240101000003 --json; expect_rc 1
	json_eq 'd["next"][0]' 'devflow db baseline 20240101000005'
	# and it runs as written
	df db baseline 20240101000005 --json; expect_rc 0
	json_eq 'len(d["recorded"])' 5
}

t_history_already_changes_nothing() {
	five_by_hand
	df db baseline 20240101000002 --accept-differences --json; expect_rc 0
	local before audit
	before=$(q "SELECT count(*) FROM _migrations")
	audit=$(q "SELECT count(*) FROM _migrations_audit")
	df db baseline --json; expect_rc 2
	json_eq 'd["error"]["kind"]' 'usage'
	contains "$(json 'd["error"]["message"]')" "has devflow's history already"
	json_eq 'd["next"]' '["devflow db status"]'
	[ "$(q "SELECT count(*) FROM _migrations")" = "$before" ] || fail "rows changed"
	[ "$(q "SELECT count(*) FROM _migrations_audit")" = "$audit" ] || fail "an audit row was written"
	df db baseline; expect_rc 2
	contains "$err" "nothing was changed"
	contains "$err" "devflow db status"
}

t_other_tools_history_changes_nothing() {
	five_by_hand
	q "CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY)" >/dev/null
	q "INSERT INTO schema_migrations (version) VALUES ('20240101000001'), ('20240101000002')" >/dev/null
	df db baseline --json; expect_rc 2
	contains "$(json 'd["error"]["message"]')" "dbmate's history already"
	table_exists _migrations && fail "a refused baseline made devflow's table"
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 2 ] || fail "dbmate's rows changed"
	return 0
}

t_version_not_in_folder_names_nearest() {
	five_by_hand
	df db baseline 20240101000009 --json; expect_rc 2
	json_eq 'd["error"]["kind"]' 'usage'
	contains "$(json 'd["error"]["message"]')" "the nearest is '20240101000005'"
	json_eq 'd["nearest"]' '20240101000005'
	json_eq 'd["next"]' '["devflow db status"]'
	contains "$(json 'd["error"]["hint"]')" "devflow db baseline 20240101000005"
	df db baseline 20240101000003x; expect_rc 2
	contains "$err" "nearest is '20240101000003'"
	table_exists _migrations && fail "a bad VERSION made devflow's table"
	return 0
}

t_staging_accept_asks_a_person() {
	five_by_hand
	q "ALTER TABLE t1 ADD COLUMN legacy_flag INTEGER" >/dev/null
	printf '[env "staging"]\nurl = %s\npolicy = staging\n[env "production"]\nurl = %s\n' "$URL" "$URL" \
		>devflow.conf
	# production: the typed confirmation is --confirm production
	df db baseline --env production --accept-differences --json; expect_rc 3
	json_eq 'd["error"]["missing"]' '["confirmation"]'
	json_eq 'd["ask"]["options"][0]["then"]' \
		'devflow db baseline 20240101000005 --env production --accept-differences --confirm production'
	contains "$(json 'd["ask"]["question"]')" "Type 'yes' to record them applied on PRODUCTION"
	df db baseline --env staging --accept-differences --json; expect_rc 3
	json_eq 'd["error"]["kind"]' 'gate_refused'
	json_eq 'd["error"]["missing"]' '["confirmation"]'
	json_eq 'd["ask"]["options"][0]["then"]' \
		'devflow db baseline 20240101000005 --env staging --accept-differences --confirm staging'
	contains "$(json 'd["ask"]["question"]')" "Type 'yes'"
	[ "$(rows 2>/dev/null || echo 0)" = 0 ] || fail "recorded without confirmation"
	df db baseline --env staging --accept-differences --confirm staging --json; expect_rc 0
	json_eq 'd["accepted_differences"]' true
	[ "$(rows)" = 5 ] || fail "expected 5 applied rows"
}

# at a terminal the person types yes (anything else refuses, exit 3)
t_staging_typed_yes_at_a_terminal() {
	five_by_hand
	q "ALTER TABLE t3 ADD COLUMN legacy_flag INTEGER" >/dev/null
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	local got=0
	python3 "$PTY_RUN" y "$DEVFLOW" db baseline --env staging --accept-differences \
		>"$TMP_ROOT/tty.out" 2>&1 || got=$?
	[ "$got" = 3 ] || fail "answered y: exit $got, expected 3"
	contains "$(cat "$TMP_ROOT/tty.out")" "Type 'yes' to record them applied on staging"
	[ "$(rows 2>/dev/null || echo 0)" = 0 ] || fail "recorded after the answer y"
	got=0
	python3 "$PTY_RUN" yes "$DEVFLOW" db baseline --env staging --accept-differences \
		>"$TMP_ROOT/tty.out" 2>&1 || got=$?
	[ "$got" = 0 ] || fail "answered yes: exit $got: $(cat "$TMP_ROOT/tty.out")"
	[ "$(rows)" = 5 ] || fail "expected 5 applied rows"
	df db history --env staging; expect_rc 0
	contains "$out" "answered yes"
}

t_no_folder_writes_the_first_migration() {
	new_project
	rmdir migrations
	q "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL)" >/dev/null
	q "CREATE INDEX users_email ON users (email)" >/dev/null
	df db baseline --json; expect_rc 0
	local f
	f=$(json 'd["written"]')
	case $f in migrations/*_baseline.sql) ;; *) fail "written: $f" ;; esac
	[ -f "$f" ] || fail "no file $f"
	contains "$(cat "$f")" "CREATE TABLE"
	json_eq 'len(d["recorded"])' 1
	json_eq 'd["proof"]["equal"]' true
	[ "$(rows)" = 1 ] || fail "expected 1 applied row"
	df db verify --json; expect_rc 0
	df db status --json; expect_rc 0
	json_eq 'd["pending"]' 0
	# an empty database and no migration: nothing to baseline, nothing written
	new_project
	rmdir migrations
	q "CREATE TABLE x (id INTEGER); DROP TABLE x" >/dev/null
	df db baseline --json; expect_rc 2
	[ -d migrations ] && fail "made a folder for nothing"
	return 0
}

run_tests t_five_recorded_then_sixth_applies t_text_output t_column_by_hand_refused_then_accepted \
	t_three_against_five_tables_names_the_two t_history_already_changes_nothing \
	t_other_tools_history_changes_nothing \
	t_version_not_in_folder_names_nearest t_staging_accept_asks_a_person t_staging_typed_yes_at_a_terminal \
	t_no_folder_writes_the_first_migration
