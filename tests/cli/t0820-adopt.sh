#!/bin/bash
# Adopting other tools' histories: dbmate (the real binary, from the npm
# registry), golang-migrate, Flyway and goose (their tables as their
# documentation and code create them, written here by SQL).  Versions are
# recorded once, with an audit row; while the folder is in the tool's format,
# devflow writes the tool's rows too, so the tool's own status agrees.
. "$(dirname "$0")/lib.sh"

WORK=$(cd "$(dirname "$0")/.." && pwd)/.work

# need_dbmate: $DBMATE, installed from the npm registry into tests/.work
need_dbmate() {
	DBMATE=$(find "$WORK/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n1)
	if [ -z "$DBMATE" ] && command -v npm >/dev/null 2>&1; then
		mkdir -p "$WORK"
		npm install --prefix "$WORK" --no-audit --no-fund dbmate >"$WORK/npm-dbmate.log" 2>&1 || true
		DBMATE=$(find "$WORK/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n1)
	fi
	[ -n "$DBMATE" ] && [ -x "$DBMATE" ] || skip_engine "dbmate could not be installed from the npm registry"
}

# the project's database as dbmate spells it
dbmate_url() {
	case $ENGINE in
	sqlite) echo "sqlite:$PROJECT/test.db" ;;
	postgres) echo "$URL?sslmode=disable" ;;
	mysql) echo "$URL" ;;
	esac
}

dbm() { "$DBMATE" --url "$(dbmate_url)" --migrations-dir "$PROJECT/db/migrations" --no-dump-schema "$@"; }

dbmate_mig() {  # dbmate_mig VERSION NAME
	printf -- '-- migrate:up\nCREATE TABLE %s (id INTEGER);\n\n-- migrate:down\nDROP TABLE %s;\n' "$2" "$2" \
		>"db/migrations/$1_$2.sql"
}

t_dbmate_real() {
	need_dbmate
	new_project
	rmdir migrations
	mkdir -p db/migrations
	dbmate_mig 20240101000001 t1
	dbmate_mig 20240101000002 t2
	dbm up >/dev/null 2>&1 || fail "dbmate up: $(dbm up 2>&1 | tail -2)"
	dbmate_mig 20240101000003 t3
	dbmate_mig 20240101000004 t4
	df db migrate --json; expect_rc 0
	json_eq 'd["adopted"]["versions"]' '["20240101000001", "20240101000002"]'
	json_eq 'd["adopted"]["mirrored"]' true
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000003", "20240101000004"]'
	table_exists t4 || fail "t4 applied"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'adopt'")" = 1 ] || fail "one audit row"
	# dbmate's own status agrees
	local st
	st=$(dbm status 2>&1) || true
	contains "$st" "Applied: 4"
	contains "$st" "Pending: 0"
	# devflow reverts: dbmate's row goes too
	df db rollback --json; expect_rc 0
	st=$(dbm status 2>&1) || true
	contains "$st" "Applied: 3"
	contains "$st" "Pending: 1"
	# adopted once: a later run does not adopt again
	df db migrate --json; expect_rc 0
	json_eq '"adopted" in d' false
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'adopt'")" = 1 ] || fail "still one audit row"
	# devflow rolls back, dbmate migrates again: dbmate's table is read
	# again, and devflow runs nothing twice ("relation already exists")
	df db rollback --steps 2 --json; expect_rc 0
	dbm up >/dev/null 2>&1 || fail "dbmate up again: $(dbm up 2>&1 | tail -2)"
	df db status --json; expect_rc 0
	json_eq '[d["applied"], d["pending"]]' '[4, 0]'
	json_eq '[m.get("adopted_from") for m in d["migrations"]]' '[null, null, "dbmate", "dbmate"]'
	df db migrate --json; expect_rc 0 "nothing runs twice"
	json_eq 'd["applied"]' '[]'
	json_eq 'd["adopted"]["versions"]' '["20240101000003", "20240101000004"]'
	# the team can go back: dbmate rolls back what devflow applied
	dbm rollback >/dev/null 2>&1 || fail "dbmate rollback"
	table_exists t4 && fail "dbmate rolled t4 back"
	st=$(dbm status 2>&1) || true
	contains "$st" "Applied: 3"
	# devflow reads that too: t4 is pending again, and applied once more
	df db status --json; json_eq '[d["applied"], d["pending"]]' '[3, 1]'
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000004"]'
	st=$(dbm status 2>&1) || true
	contains "$st" "Applied: 4"
}

# dbmate's table as dbmate creates it, written by SQL (every engine, no binary)
dbmate_table() {
	q "CREATE TABLE schema_migrations (version varchar(128) NOT NULL PRIMARY KEY)"
}

dbmate_project() {  # a dbmate folder of 3; dbmate applied the first N
	new_project
	rmdir migrations
	mkdir -p db/migrations
	for n in 1 2 3; do dbmate_mig 2024010100000$n t$n; done
	dbmate_table
	for n in $(seq 1 "$1"); do
		q "CREATE TABLE t$n (id INTEGER)"
		q "INSERT INTO schema_migrations (version) VALUES ('2024010100000$n')"
	done
}

# Before the first migrate, status counts what dbmate applied as applied;
# the dry-run writes nothing, the migrate records them.
t_status_before_adoption() {
	dbmate_project 2
	df db status --json; expect_rc 0
	json_eq '[d["total"], d["applied"], d["pending"]]' '[3, 2, 1]'
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "applied", "pending"]'
	json_eq '[m.get("adopted_from") for m in d["migrations"]]' '["dbmate", "dbmate", null]'
	df db status; expect_rc 0
	contains "$out$err" "3 migrations: 2 applied, 1 pending"
	contains "$out$err" "20240101000001   t1  (dbmate)"
	# the dry-run runs only what the migrate would, and writes nothing
	df db migrate --dry-run --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000003"]'
	json_eq '[d["adopted"]["versions"], d["adopted"]["recorded"]]' '[["20240101000001", "20240101000002"], false]'
	table_exists _migrations && fail "a dry-run made devflow's table"
	table_exists t3 && fail "the dry-run rolled t3 back"
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 2 ] || fail "dbmate's rows as they were"
	df db migrate --json; expect_rc 0
	json_eq '[d["adopted"]["versions"], d["adopted"]["recorded"]]' '[["20240101000001", "20240101000002"], true]'
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000003"]'
	[ "$(q "SELECT count(*) FROM _migrations")" = 3 ] || fail "three rows in devflow's table"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'adopt'")" = 1 ] || fail "one adopt row"
	df db status --json; json_eq '[d["applied"], d["pending"], "adoptable" in d]' '[3, 0, false]'
}

# Under staging the dry-run records its receipt (devflow's tables made for
# it), but not the adoption; the migrate it clears records it.
t_dry_run_staging_adopts_nothing() {
	dbmate_project 1
	printf '[env "staging"]\nurl = ${DATABASE_URL}\npolicy = staging\n' >devflow.conf
	df db migrate --env staging --dry-run --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000002", "20240101000003"]'
	[ "$(q "SELECT count(*) FROM _migrations")" = 0 ] || fail "the dry-run recorded no version"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'adopt'")" = 0 ] || fail "no adopt row"
	df db migrate --env staging --yes --json; expect_rc 0 "the receipt is for the same pending set"
	json_eq 'd["adopted"]["versions"]' '["20240101000001"]'
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000002", "20240101000003"]'
}

# The tool's table is read on every run while the folder is in its format:
# devflow rolls back, the team migrates with dbmate, devflow runs nothing
# twice; `resolve --rolled-back` takes dbmate's row too.
t_reread_after_tool_migrates() {
	dbmate_project 1
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000002", "20240101000003"]'
	df db rollback --steps 2 --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 1 ] || fail "devflow took dbmate's rows"
	# dbmate up, as dbmate does it
	for n in 2 3; do
		q "CREATE TABLE t$n (id INTEGER)"
		q "INSERT INTO schema_migrations (version) VALUES ('2024010100000$n')"
	done
	df db status --json; expect_rc 0
	json_eq '[d["applied"], d["pending"]]' '[3, 0]'
	json_eq '[m.get("adopted_from") for m in d["migrations"]]' '[null, "dbmate", "dbmate"]'
	df db migrate --dry-run --json; expect_rc 0 "the dry-run runs nothing twice"
	json_eq 'd["applied"]' '[]'
	df db migrate --json; expect_rc 0 "nothing runs twice"
	json_eq 'd["applied"]' '[]'
	json_eq 'd["adopted"]["versions"]' '["20240101000002", "20240101000003"]'
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'adopt'")" = 2 ] || fail "an adopt row per adoption"
	df db migrate --json; expect_rc 0
	json_eq '"adopted" in d' false
	# resolve says it to dbmate at once: the next read does not bring it back
	df db resolve 20240101000003 --rolled-back --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM schema_migrations WHERE version = '20240101000003'")" = 0 ] ||
		fail "dbmate's row of 3 is gone"
	df db status --json; json_eq '[d["applied"], d["pending"]]' '[2, 1]'
	q "DROP TABLE t3"
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000003"]'
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 3 ] || fail "dbmate's row of 3 is back"
}

# The tool rolls back what devflow applied: devflow counts it pending (it
# would otherwise revert a migration whose effects are gone).
t_tool_rollback_seen() {
	dbmate_project 1
	df db migrate --json; expect_rc 0
	# dbmate rollback, as dbmate does it
	q "DROP TABLE t3"
	q "DELETE FROM schema_migrations WHERE version = '20240101000003'"
	df db status --json; expect_rc 0
	json_eq '[d["applied"], d["pending"], d["adoptable"]["rolled_back"]]' '[2, 1, ["20240101000003"]]'
	df db status; contains "$out$err" "no longer holds 20240101000003"
	df db migrate --dry-run --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000003"]'
	json_eq '[d["adopted"]["rolled_back"], d["adopted"]["recorded"]]' '[["20240101000003"], false]'
	[ "$(q "SELECT count(*) FROM _migrations")" = 3 ] || fail "the dry-run wrote nothing"
	# rollback reverts the newest that is still applied, 2, not 3 again
	df db rollback --json; expect_rc 0
	json_eq '[m["version"] for m in d["reverted"]]' '["20240101000002"]'
	table_exists t2 && fail "t2 rolled back"
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["20240101000002", "20240101000003"]'
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 3 ] || fail "dbmate's rows back"
}

# golang-migrate's table: one row, the current version, and `dirty`
golang_table() {
	q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
}

golang_mig() {  # golang_mig N NAME
	echo "CREATE TABLE $2 (id INTEGER);" >"migrations/$1_$2.up.sql"
	echo "DROP TABLE $2;" >"migrations/$1_$2.down.sql"
}

t_golang_migrate_history() {
	new_project
	golang_mig 000001 g1
	golang_mig 000002 g2
	golang_mig 000003 g3
	q "CREATE TABLE g1 (id INTEGER)"
	q "CREATE TABLE g2 (id INTEGER)"
	golang_table
	q "INSERT INTO schema_migrations (version, dirty) VALUES (2, FALSE)"
	# status (read only) says what the next migrate adopts
	df db status --json; expect_rc 0
	json_eq 'd["adoptable"]["tool"]' golang-migrate
	json_eq 'd["adoptable"]["versions"]' '["000001", "000002"]'
	json_eq '[d["applied"], d["pending"]]' '[2, 1]'
	df db status; contains "$out$err" "records 2 migrations as applied"
	df db migrate --json; expect_rc 0
	json_eq 'd["adopted"]["versions"]' '["000001", "000002"]'
	json_eq '[m["version"] for m in d["applied"]]' '["000003"]'
	df db status --json; json_eq '"adoptable" in d' false
	[ "$(q "SELECT version FROM schema_migrations")" = 3 ] || fail "golang-migrate's version is 3"
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 1 ] || fail "one row, as golang-migrate keeps it"
	df db rollback --steps 2 --json; expect_rc 0
	[ "$(q "SELECT version FROM schema_migrations")" = 1 ] || fail "golang-migrate's version back to 1"
	df db rollback --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 0 ] || fail "no version left"
}

t_golang_migrate_dirty() {
	new_project
	golang_mig 1 g1
	golang_mig 2 g2
	q "CREATE TABLE g1 (id INTEGER)"
	golang_table
	q "INSERT INTO schema_migrations (version, dirty) VALUES (2, TRUE)"
	# status and the dry-run say it before anything is recorded
	df db status --json; expect_rc 0
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "failed"]'
	df db migrate --dry-run --json; expect_rc 6 "the dry-run stops where the migrate would"
	json_eq '[d["adopted"]["versions"], d["adopted"]["failed"]]' '[["1"], ["2"]]'
	df db migrate --json; expect_rc 6 "a dirty version is a failed migration"
	# announced as failed, not among the versions golang-migrate applied
	json_eq '[d["adopted"]["versions"], d["adopted"]["failed"]]' '[["1"], ["2"]]'
	df db migrate; expect_rc 6
	df db status --json; expect_rc 0
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "failed"]'
	contains "$(json 'd["problems"]')" "2"
	# no statement count: "failed", never "halfway"
	contains "$(json 'd["problems"][0]["message"]')" "failed under golang-migrate (its history marks it dirty)"
	lacks "$(json 'd["problems"][0]["message"]')" "halfway"
	df db status; contains "$out$err" "failed under golang-migrate"
	lacks "$out$err" "interrupted (killed"
}

# resolve says it to golang-migrate at once: the version, and `dirty`
t_golang_migrate_resolve() {
	new_project
	golang_mig 1 g1
	golang_mig 2 g2
	golang_mig 3 g3
	q "CREATE TABLE g1 (id INTEGER)"
	q "CREATE TABLE g2 (id INTEGER)"
	golang_table
	q "INSERT INTO schema_migrations (version, dirty) VALUES (2, TRUE)"
	df db migrate --json; expect_rc 6
	df db resolve 2 --applied --json; expect_rc 0
	[ "$(q "SELECT version FROM schema_migrations")" = 2 ] || fail "golang-migrate's version is 2"
	[ "$(q "SELECT count(*) FROM schema_migrations WHERE dirty")" = 0 ] || fail "golang-migrate's version is clean"
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["3"]'
	[ "$(q "SELECT version FROM schema_migrations")" = 3 ] || fail "golang-migrate's version is 3"
	# dirty again, settled the other way: the version before it, clean
	q "DROP TABLE g3"
	q "UPDATE schema_migrations SET dirty = TRUE"
	q "UPDATE _migrations SET state = 'failed', statements_done = 0 WHERE version = '3'"
	df db resolve 3 --rolled-back --json; expect_rc 0
	[ "$(q "SELECT version FROM schema_migrations")" = 2 ] || fail "golang-migrate's version back to 2"
	[ "$(q "SELECT count(*) FROM schema_migrations WHERE dirty")" = 0 ] || fail "clean after resolve"
	df db status --json; json_eq '[d["applied"], d["pending"]]' '[2, 1]'
}

# Flyway's table, as Flyway creates it (installed_rank ... success)
flyway_table() {
	q "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY,
		version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,
		script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,
		installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL,
		success BOOLEAN NOT NULL)"
}

flyway_row() {  # flyway_row RANK VERSION SCRIPT SUCCESS
	q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,
		checksum, installed_by, execution_time, success) VALUES ($1, '$2', 'x', 'SQL', '$3', 0,
		'someone', 5, $4)"
}

t_flyway_history() {
	new_project
	printf 'CREATE TABLE f1 (id INTEGER);\n' >migrations/V1__create_f1.sql
	printf 'CREATE TABLE f2 (id INTEGER);\r\n-- second line\r\n' >migrations/V1_1__create_f2.sql
	printf 'CREATE TABLE f3 (id INTEGER);\n\nINSERT INTO f3 VALUES (1);\n' >migrations/V2__add_f3.sql
	q "CREATE TABLE f1 (id INTEGER)"
	q "CREATE TABLE f2 (id INTEGER)"
	flyway_table
	flyway_row 1 1 V1__create_f1.sql TRUE
	flyway_row 2 1.1 V1_1__create_f2.sql TRUE
	df db migrate --json; expect_rc 0
	json_eq 'd["adopted"]["versions"]' '["1", "1.1"]'
	json_eq '[m["version"] for m in d["applied"]]' '["2"]'
	# Flyway's row for V2: next rank, its description, and its checksum
	# (CRC-32 of the lines without their line breaks, signed)
	local want
	want=$(python3 -c "import zlib; b=open('migrations/V2__add_f3.sql','rb').read().splitlines(); c=zlib.crc32(b''.join(b)); print(c-2**32 if c>=2**31 else c)")
	local row="installed_rank || ' ' || description || ' ' || type || ' ' || script"
	[ "$ENGINE" = mysql ] && row="CONCAT(installed_rank, ' ', description, ' ', type, ' ', script)"
	[ "$(q "SELECT $row FROM flyway_schema_history WHERE version = '2'")" = "3 add f3 SQL V2__add_f3.sql" ] ||
		fail "Flyway's row for V2"
	[ "$(q "SELECT checksum FROM flyway_schema_history WHERE version = '2'")" = "$want" ] ||
		fail "Flyway checksum: want $want"
	# a repeatable's row has no version, as Flyway writes it
	echo "CREATE VIEW fv AS SELECT id FROM f3;" >migrations/R__fv.sql
	df db migrate --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM flyway_schema_history WHERE version IS NULL AND script = 'R__fv.sql'")" = 1 ] ||
		fail "Flyway's row for the repeatable"
	df db rollback --json; expect_rc 3 "Flyway V files without U are irreversible"
}

t_flyway_failed_row() {
	new_project
	printf 'CREATE TABLE f1 (id INTEGER);\n' >migrations/V1__create_f1.sql
	printf 'CREATE TABLE f2 (id INTEGER);\n' >migrations/V2__create_f2.sql
	q "CREATE TABLE f1 (id INTEGER)"
	flyway_table
	flyway_row 1 1 V1__create_f1.sql TRUE
	flyway_row 2 2 V2__create_f2.sql FALSE
	df db migrate --json; expect_rc 6 "Flyway's failed row is a failed migration"
	df db status --json
	json_eq '[m["state"] for m in d["migrations"]]' '["applied", "failed"]'
	# settled: Flyway's rows of V2 go, as `flyway repair` removes them
	df db resolve 2 --rolled-back --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM flyway_schema_history WHERE version = '2'")" = 0 ] || fail "Flyway's V2 rows gone"
	df db status --json; json_eq '[d["applied"], d["pending"]]' '[1, 1]'
	df db migrate --json; expect_rc 0
	json_eq '[m["version"] for m in d["applied"]]' '["2"]'
	[ "$(q "SELECT count(*) FROM flyway_schema_history WHERE version = '2' AND success")" = 1 ] || fail "V2 succeeded"
}

t_flyway_resolve_applied() {
	new_project
	printf 'CREATE TABLE f1 (id INTEGER);\n' >migrations/V1__create_f1.sql
	printf 'CREATE TABLE f2 (id INTEGER);\n' >migrations/V2__create_f2.sql
	q "CREATE TABLE f1 (id INTEGER)"
	q "CREATE TABLE f2 (id INTEGER)"
	flyway_table
	flyway_row 1 1 V1__create_f1.sql TRUE
	flyway_row 2 2 V2__create_f2.sql FALSE
	df db resolve 2 --applied --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM flyway_schema_history WHERE version = '2' AND success")" = 1 ] ||
		fail "Flyway's V2 row succeeded"
	df db migrate --json; expect_rc 0
	json_eq 'd["applied"]' '[]'
}

# goose's table: a row per up (is_applied) and, in older goose, per down
goose_table() {
	case $ENGINE in
	sqlite) q "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))" ;;
	*) q "CREATE TABLE goose_db_version (id serial NOT NULL PRIMARY KEY, version_id bigint NOT NULL,
		is_applied boolean NOT NULL, tstamp timestamp NULL DEFAULT CURRENT_TIMESTAMP)" ;;
	esac
}

t_goose_history() {
	new_project
	for n in 1 2 3; do
		printf -- '-- +goose Up\nCREATE TABLE o%s (id INTEGER);\n-- +goose Down\nDROP TABLE o%s;\n' $n $n \
			>migrations/0000${n}_o$n.sql
	done
	q "CREATE TABLE o1 (id INTEGER)"
	goose_table
	q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, TRUE)"
	q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, TRUE)"
	q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, TRUE)"
	q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, FALSE)"
	df db migrate --json; expect_rc 0
	json_eq 'd["adopted"]["versions"]' '["00001"]'
	json_eq '[m["version"] for m in d["applied"]]' '["00002", "00003"]'
	[ "$(q "SELECT count(*) FROM goose_db_version WHERE version_id = 3")" = 1 ] || fail "goose row for 3"
	df db rollback --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM goose_db_version WHERE version_id = 3")" = 0 ] || fail "goose row for 3 gone"
	# goose migrates again: read again, not run twice
	q "CREATE TABLE o3 (id INTEGER)"
	q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, TRUE)"
	df db status --json; json_eq '[d["applied"], d["pending"]]' '[3, 0]'
	df db migrate --json; expect_rc 0 "goose's 3 is not run again"
	json_eq 'd["adopted"]["versions"]' '["00003"]'
}

# A tool's table beside a folder in devflow's own format: adopted by
# version, but devflow writes no rows of that tool.
t_adopt_without_mirror() {
	new_project
	mig 20240101000001 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mig 20240101000002 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	q "CREATE TABLE a (id INTEGER)"
	q "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)"
	q "INSERT INTO schema_migrations (version) VALUES ('20240101000001')"
	q "INSERT INTO schema_migrations (version) VALUES ('20231231000000')"
	df db migrate --json; expect_rc 0
	json_eq 'd["adopted"]["versions"]' '["20240101000001"]'
	json_eq 'd["adopted"]["without_file"]' '["20231231000000"]'
	json_eq 'd["adopted"]["mirrored"]' false
	[ "$(q "SELECT count(*) FROM schema_migrations")" = 2 ] || fail "no dbmate row written"
	df db history --json; expect_rc 0
	contains "$out" "adopted 1 version from dbmate's schema_migrations"
}

run_tests t_dbmate_real t_status_before_adoption t_dry_run_staging_adopts_nothing \
	t_reread_after_tool_migrates t_tool_rollback_seen t_golang_migrate_history t_golang_migrate_dirty t_golang_migrate_resolve \
	t_flyway_history t_flyway_failed_row t_flyway_resolve_applied t_goose_history t_adopt_without_mirror
