#!/bin/bash
# What the diff does not compare, said: every migration tool's history table
# is left out of diff, pull and drift (by name and shape: a user's own table
# named `migrations` is kept) and listed as not compared; the objects of the
# classes devflow does not compare are named as the databases hold them,
# always, with the written objects that use one; a difference only in
# privileges is reported (exit 1 with --exit-code).
. "$(dirname "$0")/lib.sh"

# A migrated project: users(id, email); schema.sql the same.
setup_users() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	df db migrate; expect_rc 0
	echo "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" >schema.sql
}

# The history tables of the tools, shaped as each tool creates them.
TOOL_TABLES="schema_migrations flyway_schema_history goose_db_version _prisma_migrations
__drizzle_migrations knex_migrations knex_migrations_lock migrations typeorm_metadata
alembic_version django_migrations"

tool_tables_sql() {
	local serial="INTEGER PRIMARY KEY" ts=TIMESTAMP bool=BOOLEAN drz=""
	case $ENGINE in
	postgres) serial="SERIAL PRIMARY KEY"; drz="drizzle."
		echo "CREATE SCHEMA drizzle;" ;;
	mysql) serial="INT AUTO_INCREMENT PRIMARY KEY"; ts="DATETIME" ;;
	esac
	cat <<EOF
CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);
CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50),
  description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL,
  checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on $ts NOT NULL DEFAULT CURRENT_TIMESTAMP,
  execution_time INT NOT NULL, success $bool NOT NULL);
CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);
CREATE TABLE goose_db_version (id $serial, version_id BIGINT NOT NULL, is_applied $bool NOT NULL,
  tstamp $ts NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY, checksum VARCHAR(64) NOT NULL,
  finished_at $ts NULL, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at $ts NULL,
  started_at $ts NOT NULL DEFAULT CURRENT_TIMESTAMP, applied_steps_count INT NOT NULL DEFAULT 0);
CREATE TABLE ${drz}__drizzle_migrations (id $serial, hash TEXT NOT NULL, created_at BIGINT);
CREATE TABLE knex_migrations (id $serial, name VARCHAR(255), batch INT, migration_time $ts NULL);
CREATE TABLE knex_migrations_lock (\`index\` $serial, is_locked INT);
CREATE TABLE migrations (id $serial, timestamp BIGINT NOT NULL, name VARCHAR(255) NOT NULL);
CREATE TABLE typeorm_metadata (type VARCHAR(255) NOT NULL, \`database\` VARCHAR(255), \`schema\` VARCHAR(255),
  \`table\` VARCHAR(255), name VARCHAR(255), value TEXT);
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
CREATE TABLE django_migrations (id $serial, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL,
  applied $ts NOT NULL);
EOF
}

# run_sql FILE on the project's database
run_sql() {
	local f=$1
	case $ENGINE in
	sqlite) sqlite3 -batch "$PROJECT/test.db" <"$f" ;;
	postgres) sed 's/`/"/g' "$f" | psql -qX -v ON_ERROR_STOP=1 "$URL" >/dev/null ;;
	mysql) local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DBNAME" <"$f" ;;
	esac
}

t_tool_histories_left_out() {
	setup_users
	tool_tables_sql >tools.sql
	run_sql tools.sql || fail "could not create the tools' tables"
	df db diff --exit-code; expect_rc 0
	lacks "$out" "DROP"
	local t
	for t in $TOOL_TABLES; do
		contains "$out" "-- not compared (migration history tables): table "
		contains "$out" "$t ("
	done
	contains "$out" "(Flyway), only in "
	df db diff --json; expect_rc 0
	json_eq 'len(d["changes"])' 0
	json_eq '"migration history tables" in d["not_compared"]' true
	json_eq 'sorted(set(o["object"].split(" ")[1].split(".")[-1] for o in d["not_compared_objects"] if o["class"] == "migration history tables"))' \
		"$(python3 -c 'import sys, json; print(json.dumps(sorted(set(sys.argv[1:] + ["_migrations", "_migrations_audit", "_migrations_meta"]))))' $TOOL_TABLES)"
	json_eq '[o["differs"] for o in d["not_compared_objects"] if "Flyway" in o["object"]]' '[false]'
	# the other way round: nothing to create either
	df db diff --from schema.sql --to "$URL" --exit-code; expect_rc 0
	lacks "$out" "CREATE"
	# pull leaves them out
	df db pull -o pulled.sql; expect_rc 0
	[ -f pulled.sql ] || fail "db pull wrote nothing: $err"
	lacks "$(cat pulled.sql 2>/dev/null)" "flyway_schema_history"
	lacks "$(cat pulled.sql 2>/dev/null)" "goose_db_version"
	contains "$(cat pulled.sql 2>/dev/null)" "users"
	# and drift does not see them appear
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
}

# A schema recorded with a table that is now a left-out history table (a
# record an older devflow wrote; here: the user's table that becomes
# Alembic's shape) is no drift.
t_recorded_history_table_is_no_drift() {
	setup_users
	q "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY, x INTEGER)" >/dev/null
	mig 20240102000000 notes "CREATE TABLE notes (id INTEGER PRIMARY KEY);" "DROP TABLE notes;"
	df db migrate; expect_rc 0
	q "ALTER TABLE alembic_version DROP COLUMN x" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' false
	# a real drift beside it is still one
	q "CREATE TABLE extra (id INTEGER PRIMARY KEY)" >/dev/null
	df db status --json; expect_rc 0
	json_eq 'd["drift"]' true
	contains "$(json 'd["drift_changes"]')" "extra"
	lacks "$(json 'd["drift_changes"]')" "alembic_version"
}

t_user_table_named_like_a_tool_is_kept() {
	setup_users
	# a `migrations` that is the user's (other columns), and a
	# schema_migrations with a column no tool has: both compared
	q "CREATE TABLE migrations (id INTEGER PRIMARY KEY, title VARCHAR(50))" >/dev/null
	q "CREATE TABLE schema_migrations (version VARCHAR(20) PRIMARY KEY, note VARCHAR(20))" >/dev/null
	df db diff --exit-code; expect_rc 1
	contains "$out" "DROP TABLE"
	contains "$out" "migrations"
	contains "$out" "schema_migrations"
	lacks "$out" "not compared (migration history tables)"
	df db diff --json; expect_rc 0
	json_eq 'sorted(c["object"].split(" ")[-1].split(".")[-1] for c in d["changes"] if c["op"] == "drop")' \
		'["migrations", "schema_migrations"]'
	# and the same in the file: created from it, not left out
	printf '%s\n' "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"CREATE TABLE migrations (id INTEGER PRIMARY KEY, title VARCHAR(50));" >schema2.sql
	df db diff --from schema.sql --to schema2.sql --exit-code; expect_rc 1
	contains "$out" "CREATE TABLE"
	contains "$out" "migrations"
}

t_not_compared_names_what_is_there() {
	[ "$ENGINE" = sqlite ] && skip_engine "SQLite holds no object of a class devflow does not compare but the history tables (t_tool_histories_left_out)"
	setup_users
	case $ENGINE in
	postgres)
		q "CREATE TYPE floatrange AS RANGE (subtype = float8)" >/dev/null
		printf '%s\n' "CREATE TYPE floatrange AS RANGE (subtype = float8);" \
			"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" >schema.sql
		local obj="range type public.floatrange" cls="range types" ;;
	mysql)
		q "CREATE SEQUENCE s1" >/dev/null
		printf '%s\n' "CREATE SEQUENCE s1;" \
			"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" >schema.sql
		local obj="sequence s1" cls="sequences" ;;
	esac
	# identical otherwise: still said, and --exit-code is 0
	df db diff --exit-code; expect_rc 0
	contains "$out" "-- not compared ($cls): $obj"
	lacks "$out" "only in"
	lacks "$out" "differs"
	lacks "$out" "privileges"
	df db diff --json; expect_rc 0
	json_eq "[o['in'] for o in d['not_compared_objects'] if o['object'] == '$obj']" '[["from", "to"]]'
	json_eq "'$cls' in d['not_compared']" true
	# the fixed list is gone: only the classes the databases hold
	json_eq "'tablespaces' in d['not_compared'] or 'system versioning' in d['not_compared']" false
	# a written object that uses it is named
	case $ENGINE in
	postgres)
		printf '%s\n' "CREATE TYPE floatrange AS RANGE (subtype = float8);" \
			"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
			"CREATE TABLE spans (id INTEGER PRIMARY KEY, r floatrange);" >schema.sql
		df db diff --exit-code; expect_rc 1
		contains "$out" "CREATE TABLE"
		contains "$out" "-- not compared (range types): range type public.floatrange; written here and using it: table public.spans"
		df db diff --json --no-verify; expect_rc 0
		json_eq "[o['used_by'] for o in d['not_compared_objects'] if o['object'] == '$obj']" '[["table public.spans"]]'
		# the copy the diff verifies on cannot hold what devflow does not write: not verified, said so
		df db diff --json; expect_rc 1
		json_eq 'd["error"]["kind"]' unverified ;;
	mysql)
		# on one side only: said, and counted by --exit-code
		echo "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" >schema.sql
		df db diff --exit-code; expect_rc 1
		contains "$out" "-- not compared (sequences): sequence s1, only in "
		lacks "$out" "DROP" ;;
	esac
}

t_grant_only_difference_reported() {
	[ "$ENGINE" = sqlite ] && skip_engine "SQLite has no privileges"
	setup_users
	case $ENGINE in
	postgres)
		psql -qX "$DEVFLOW_TEST_PG_URL" -c "DO \$\$BEGIN CREATE ROLE t1870_reader; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" >/dev/null 2>&1
		q "GRANT SELECT ON users TO t1870_reader" >/dev/null
		local obj="table public.users" ;;
	mysql)
		my_admin -e "CREATE USER IF NOT EXISTS 't1870_reader'@'localhost'"
		q "GRANT SELECT ON users TO 't1870_reader'@'localhost'" >/dev/null
		local obj="table users" ;;
	esac
	df db diff --exit-code; expect_rc 1
	contains "$out" "-- not compared (privileges): $obj, only in "
	lacks "$out" "GRANT"
	df db diff --json --exit-code; expect_rc 1
	json_eq 'len(d["changes"])' 0
	json_eq "[o['differs'] for o in d['not_compared_objects'] if o['class'] == 'privileges']" '[true]'
	# the same grant on both sides: named, not a difference
	other_db
	echo "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" >u.sql
	case $ENGINE in
	postgres) psql -qX -v ON_ERROR_STOP=1 "$URL2" -f u.sql -c "GRANT SELECT ON users TO t1870_reader" >/dev/null ;;
	mysql) local hp=$(url_hostport "$URL2")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DB2" -e "source u.sql
			GRANT SELECT ON users TO 't1870_reader'@'localhost'" ;;
	esac
	df db diff --to "$URL2" --exit-code; expect_rc 0
	contains "$out" "-- not compared (privileges): $obj"
	lacks "$out" "only in"
	lacks "$out" "differs"
	# a different grant on the other side: differs
	case $ENGINE in
	postgres) psql -qX "$URL2" -c "GRANT INSERT ON users TO t1870_reader" >/dev/null ;;
	mysql) mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DB2" -e "GRANT INSERT ON users TO 't1870_reader'@'localhost'" ;;
	esac
	df db diff --to "$URL2" --exit-code; expect_rc 1
	contains "$out" "-- not compared (privileges): $obj, differs between "
}

# The tables as the tools' own sources write them today (the shapes of
# src/schema/uncompared.c, checked there file by file), where they differ
# from tool_tables_sql: golang-migrate's schema_migrations (version, dirty),
# which cannot share a database with dbmate's; goose's PostgreSQL identity
# column; Prisma's SQLite INTEGER UNSIGNED.
t_tool_histories_as_their_sources_write_them() {
	setup_users
	case $ENGINE in
	postgres) cat >tools.sql <<'EOF2'
CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null);
CREATE TABLE goose_db_version (
	id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp timestamp NOT NULL DEFAULT now()
);
EOF2
		;;
	mysql) cat >tools.sql <<'EOF2'
CREATE TABLE `schema_migrations` (version bigint not null primary key, dirty boolean not null);
CREATE TABLE goose_db_version (
	id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp timestamp NULL default now(),
	PRIMARY KEY(id)
);
EOF2
		;;
	sqlite) cat >tools.sql <<'EOF2'
CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
EOF2
		;;
	esac
	run_sql tools.sql || fail "could not create the tools' tables"
	df db diff --exit-code; expect_rc 0
	lacks "$out" "DROP"
	contains "$out" "schema_migrations (golang-migrate)"
	case $ENGINE in
	sqlite) contains "$out" "_prisma_migrations (Prisma)" ;;
	*) contains "$out" "goose_db_version (goose)" ;;
	esac
	df db diff --from schema.sql --to "$URL" --exit-code; expect_rc 0
	lacks "$out" "CREATE"
}

run_tests t_tool_histories_left_out t_tool_histories_as_their_sources_write_them t_user_table_named_like_a_tool_is_kept t_recorded_history_table_is_no_drift \
	t_not_compared_names_what_is_there t_grant_only_difference_reported
