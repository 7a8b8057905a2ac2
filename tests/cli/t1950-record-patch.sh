#!/bin/bash
# The schema record after a run (issue 26): on PostgreSQL it is the model
# read before the run, patched with a read of only the relations the run
# touched (and what depends on them); a statement whose targets are not
# known (a DO block, a function) or a schema holding code reads the whole.
# Either way the record equals, byte for byte, the one a full read writes
# (DEVFLOW_RECORD_FULL=1) of a twin database migrated the same way, and
# the next status finds no drift.  DEVFLOW_RECORD_DEBUG=FILE says which was
# done (appended to FILE).
# The read before the run is the drift check's, when it read one.
. "$(dirname "$0")/lib.sh"

# pick PG SQLITE MYSQL: this engine's SQL
pick() {
	case $ENGINE in
	postgres) printf '%s' "$1" ;;
	sqlite) printf '%s' "$2" ;;
	mysql) printf '%s' "$3" ;;
	esac
}

# A project, its database ($URL: patched) and a twin ($URL2: read whole).
setup_twins() {
	new_project
	other_db
}

# The record of the last run, without its stamp (when, who, history).
last_record() {
	local f
	f=$(ls -t .devflow/schema/*.schema 2>/dev/null | head -n 1)
	[ -n "$f" ] || { fail "no schema record was written"; return 1; }
	grep -v '^stamp ' "$f"
}

# step VERSION HOW: migrate both databases to VERSION, the twin with a full
# read; the records must be the same and non-empty, the patched side done
# HOW ("patched" or "read whole", PostgreSQL; elsewhere always read whole),
# and neither side drifted.
step() {
	local mine twin how=$2
	[ "$ENGINE" = postgres ] || how="read whole"
	rm -f "$TMP_ROOT/debug"
	dfe DEVFLOW_RECORD_DEBUG="$TMP_ROOT/debug" "$DEVFLOW" db migrate --to "$1" --url "$URL"
	expect_rc 0 "migrate to $1"
	err=$(cat "$TMP_ROOT/debug" 2>/dev/null)
	contains "$err" "schema after the run: $how"
	# once a record of this history exists, the drift check's read is the
	# read before (SQLite: its schema cookie says unchanged, nothing read)
	if [ -n "${STEPPED:-}" ] && [ "$ENGINE" != sqlite ]; then
		contains "$err" "schema before the run: the drift check's"
	else
		lacks "$err" "schema before the run: the drift check's"
	fi
	STEPPED=1
	mine=$(last_record)
	rm -f "$TMP_ROOT/debug"
	dfe DEVFLOW_RECORD_DEBUG="$TMP_ROOT/debug" DEVFLOW_RECORD_FULL=1 "$DEVFLOW" db migrate --to "$1" --url "$URL2"
	expect_rc 0 "full migrate to $1"
	contains "$(cat "$TMP_ROOT/debug" 2>/dev/null)" "schema after the run: read whole (DEVFLOW_RECORD_FULL)"
	twin=$(last_record)
	contains "$mine" "table "
	[ "$mine" = "$twin" ] || fail "step $1: the patched record differs from a full read: $(diff <(echo "$twin") <(echo "$mine") | head -c 1500)"
	df db status --json --url "$URL"; expect_rc 0 "status after $1"
	json_eq 'd["drift"]' false
}

t_patched_record_equals_full_read() {
	setup_twins
	mig 20240101000001 base "$(pick \
		"CREATE TABLE a (id SERIAL PRIMARY KEY, name VARCHAR(50));
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
CREATE INDEX b_a ON b (a_id);
CREATE TABLE keep (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE s1 (id SERIAL PRIMARY KEY);
CREATE VIEW va AS SELECT id, name FROM a;" \
		"CREATE TABLE a (id INTEGER PRIMARY KEY, name VARCHAR(50));
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
CREATE INDEX b_a ON b (a_id);
CREATE TABLE keep (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE s1 (id INTEGER PRIMARY KEY);
CREATE VIEW va AS SELECT id, name FROM a;" \
		"CREATE TABLE a (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50));
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, FOREIGN KEY (a_id) REFERENCES a (id));
CREATE INDEX b_a ON b (a_id);
CREATE TABLE keep (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE s1 (id INTEGER AUTO_INCREMENT PRIMARY KEY);
CREATE VIEW va AS SELECT id, name FROM a;")"
	# a column and an index on a table a view reads
	mig 20240101000002 widen "ALTER TABLE a ADD COLUMN email VARCHAR(80);
CREATE INDEX a_email ON a (email);
INSERT INTO keep (id, note) VALUES (1, 'data only');"
	# renamed tables: one with a foreign key, one owning a serial's sequence
	mig 20240101000003 rename "ALTER TABLE b RENAME TO b2;
ALTER TABLE s1 RENAME TO s2;"
	# an index dropped, a table with a foreign key to a renamed one, a comment
	mig 20240101000004 reindex "$(pick "DROP INDEX a_email;
COMMENT ON TABLE keep IS 'kept';" "DROP INDEX a_email;" "DROP INDEX a_email ON a;
ALTER TABLE keep COMMENT = 'kept';")
CREATE TABLE c (id INTEGER PRIMARY KEY, b2_id INTEGER REFERENCES b2 (id));"
	# a table dropped; the view's table changes under it
	mig 20240101000005 shrink "DROP TABLE c;
$(pick "ALTER TABLE a RENAME COLUMN name TO full_name;" "ALTER TABLE a RENAME COLUMN name TO full_name;" \
	"ALTER TABLE a ADD COLUMN extra INTEGER;")"
	step 20240101000001 patched
	step 20240101000002 patched
	step 20240101000003 patched
	step 20240101000004 patched
	step 20240101000005 patched
	[ "$ENGINE" != postgres ] || contains "$(last_record)" "full_name"
}

t_do_block_reads_whole() {
	[ "$ENGINE" = postgres ] || skip_engine "DO blocks are PostgreSQL's"
	setup_twins
	mig 20240101000001 base "CREATE TABLE a (id INTEGER PRIMARY KEY);"
	mig 20240101000002 dynamic "DO \$\$ BEGIN EXECUTE 'CREATE TABLE dyn (id int)'; EXECUTE 'ALTER TABLE a ADD COLUMN x int'; END \$\$;"
	mig 20240101000003 after "CREATE INDEX a_x ON a (x);"
	step 20240101000001 patched
	step 20240101000002 "read whole (a statement whose targets are not known)"
	contains "$(last_record)" "dyn"
	step 20240101000003 patched
}

t_trigger_and_code_read_whole() {
	setup_twins
	mig 20240101000001 base "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
CREATE TABLE log (id INTEGER PRIMARY KEY);"
	mig 20240101000002 trigger "$(pick \
		"CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN NEW.n := coalesce(NEW.n, 0) + 1; RETURN NEW; END \$\$;
CREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION bump();" \
		"CREATE TRIGGER t_bump AFTER INSERT ON t BEGIN INSERT INTO log (id) VALUES (NEW.id); END;" \
		"CREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1;")"
	# data and a change of the trigger's table, in a schema that holds code
	mig 20240101000003 more "INSERT INTO t (id) VALUES (1);
ALTER TABLE t ADD COLUMN m INTEGER;"
	step 20240101000001 patched
	step 20240101000002 "read whole (a statement whose targets are not known)"
	contains "$(last_record)" "t_bump"
	step 20240101000003 "read whole (not on this schema)"
}

run_tests t_patched_record_equals_full_read t_do_block_reads_whole t_trigger_and_code_read_whole
