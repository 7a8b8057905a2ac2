#!/bin/bash
# db diff and db generate load schema.sql, and replay the migrations, into a
# throwaway database: what they load may create objects there and nothing
# else.  A statement that reaches the live database, another database, the
# server, files or programs is refused (gate_refused, exit 3) before any
# statement of the file runs, naming file:line and the statement's kind;
# what it aimed at is untouched.  A normal schema file still loads.
. "$(dirname "$0")/lib.sh"

# A migrated project: users with two rows.
setup_users() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x');" "DROP TABLE users;"
	df db migrate; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "setup: users does not hold 2 rows"
	SCHEMA_HEAD="CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);"
}

# refused FILE LINE WHAT [--to FILE | generate]: db diff (or generate) is
# refused with gate_refused, exit 3, naming FILE:LINE and WHAT, with a hint;
# and no throwaway database is left behind.
refused_diff() {
	local file=$1 line=$2 what=$3
	df db diff --to "$file" --json; expect_rc 3
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["error"]["line"]' "$line"
	contains "$(json 'd["error"]["message"]')" "$what"
	contains "$(json 'd["error"]["file"]')" "$file"
	json_eq 'bool(d["error"]["hint"])' true
	df db diff --to "$file"; expect_rc 3
	contains "$err" "$file:$line:"
	contains "$err" "nothing ran"
	contains "$err" "hint:"
	no_leftovers
}

# no_leftovers: no throwaway database devflow_verify_<pid>_* of a devflow
# that has ended (other test runs' live ones may be there)
no_leftovers() {
	local left
	left=$(throwaway_leftovers)
	[ -z "$left" ] || fail "a throwaway database was left behind: $left"
}

t_sqlite_attach_refused() {
	[ "$ENGINE" = sqlite ] || skip_engine "ATTACH is SQLite's"
	setup_users
	printf '%s\n' "$SCHEMA_HEAD" "ATTACH DATABASE 'test.db' AS live;" "DELETE FROM live.users;" >schema.sql
	refused_diff schema.sql 2 "ATTACH DATABASE"
	df db diff; expect_rc 3
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table lost rows"
	printf '%s\n' "$SCHEMA_HEAD" "VACUUM INTO 'copy.db';" >vac.sql
	refused_diff vac.sql 2 "VACUUM INTO"
	[ ! -e copy.db ] || fail "VACUUM INTO wrote a file"
	printf '%s\n' "$SCHEMA_HEAD" "DETACH DATABASE temp;" >det.sql
	refused_diff det.sql 2 "DETACH"
	# db generate reads the same file
	df db generate attack; expect_rc 3
	contains "$err" "ATTACH DATABASE"
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table lost rows (generate)"
}

t_mysql_other_database_refused() {
	[ "$ENGINE" = mysql ] || skip_engine "databases on the same server are MariaDB's"
	setup_users
	local other="${DBNAME}_other"
	my_admin -e "CREATE DATABASE $other; CREATE TABLE $other.t (id INT); INSERT INTO $other.t VALUES (1), (2), (3);"
	created_db "my:$other"
	printf '%s\n' "$SCHEMA_HEAD" "DELETE FROM $other.t;" >a.sql
	refused_diff a.sql 2 "$other.t"
	printf '%s\n' "$SCHEMA_HEAD" "DELETE FROM \`$other\`.\`t\`;" >b.sql
	refused_diff b.sql 2 "$other.t"
	printf '%s\n' "$SCHEMA_HEAD" "/*!40000 DELETE FROM $other.t */;" >c.sql
	refused_diff c.sql 2 "$other.t"
	printf '%s\n' "$SCHEMA_HEAD" "CREATE TABLE copy AS SELECT * FROM $other.t;" >d.sql
	refused_diff d.sql 2 "$other.t"
	printf '%s\n' "$SCHEMA_HEAD" "" "DROP DATABASE $other;" >e.sql
	refused_diff e.sql 3 "DROP DATABASE"
	printf '%s\n' "$SCHEMA_HEAD" "CREATE USER devflow_evil IDENTIFIED BY 'x';" >f.sql
	refused_diff f.sql 2 "CREATE USER"
	printf '%s\n' "$SCHEMA_HEAD" "GRANT ALL ON *.* TO devflow_evil;" >g.sql
	refused_diff g.sql 2 "GRANT"
	printf '%s\n' "$SCHEMA_HEAD" "USE $other;" "DELETE FROM t;" >h.sql
	refused_diff h.sql 2 "USE"
	printf '%s\n' "$SCHEMA_HEAD" "INSERT INTO users VALUES (3, 'c@x');" >i.sql
	refused_diff i.sql 2 "INSERT"
	[ "$(my_admin -N -B -e "SELECT count(*) FROM $other.t")" = 3 ] || fail "the other database lost rows"
	[ "$(my_admin -N -B -e "SELECT count(*) FROM mysql.user WHERE user = 'devflow_evil'")" = 0 ] ||
		fail "the user was created"
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table changed"
}

t_postgres_cluster_statements_refused() {
	[ "$ENGINE" = postgres ] || skip_engine "PostgreSQL's statements"
	setup_users
	local marker="$PROJECT/pwned"
	printf '%s\n' "$SCHEMA_HEAD" "DO \$\$ BEGIN EXECUTE 'DELETE FROM users'; END \$\$;" >a.sql
	refused_diff a.sql 2 "DO"
	printf '%s\n' "$SCHEMA_HEAD" "CREATE TABLE x (t text);" "COPY x FROM PROGRAM 'touch $marker';" >b.sql
	refused_diff b.sql 3 "COPY ... PROGRAM"
	printf '%s\n' "$SCHEMA_HEAD" "ALTER SYSTEM SET work_mem = '77MB';" >c.sql
	refused_diff c.sql 2 "ALTER SYSTEM"
	printf '%s\n' "$SCHEMA_HEAD" "CREATE ROLE devflow_evil SUPERUSER LOGIN;" >d.sql
	refused_diff d.sql 2 "CREATE ROLE"
	printf '%s\n' "$SCHEMA_HEAD" "DROP DATABASE $DBNAME;" >e.sql
	refused_diff e.sql 2 "DROP DATABASE"
	printf '%s\n' "$SCHEMA_HEAD" "CREATE EXTENSION dblink;" >f.sql
	refused_diff f.sql 2 "dblink"
	printf '%s\n' "$SCHEMA_HEAD" "INSERT INTO users VALUES (3, 'c@x');" >g.sql
	refused_diff g.sql 2 "INSERT"
	[ ! -e "$marker" ] || fail "COPY ... PROGRAM ran"
	[ "$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT count(*) FROM pg_roles WHERE rolname = 'devflow_evil'")" = 0 ] ||
		fail "the role was created"
	[ "$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT count(*) FROM pg_database WHERE datname = '$DBNAME'")" = 1 ] ||
		fail "the database was dropped"
	[ "$(psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT setting FROM pg_file_settings WHERE name = 'work_mem' AND setting = '77MB'")" = "" ] ||
		fail "ALTER SYSTEM ran"
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table changed"
}

# db generate replays the migrations: a migration that reaches outside is
# refused there too (migrate would run it on the target, as asked; the
# replay is not asked to).
t_generate_replay_refused() {
	setup_users
	local stmt what
	case $ENGINE in
	sqlite) stmt="ATTACH DATABASE 'test.db' AS live; DELETE FROM live.users;"; what="ATTACH DATABASE" ;;
	postgres) stmt="DO \$\$ BEGIN EXECUTE 'DELETE FROM users'; END \$\$;"; what="EXECUTE" ;;
	mysql) stmt="DELETE FROM $DBNAME.users;"; what="$DBNAME.users" ;;
	esac
	df db pull; expect_rc 0
	mig 20240102000000 evil "CREATE TABLE audit (id INTEGER);
$stmt"
	df db generate again --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["error"]["line"]' 3
	contains "$(json 'd["error"]["file"]')" "20240102000000_evil.sql"
	contains "$(json 'd["error"]["message"]')" "$what"
	contains "$(json 'd["error"]["message"]')" "replaying the migrations"
	no_leftovers
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table lost rows"
	# a revert derived by db create replays them the same way
	df db create revert_evil; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table lost rows (revert)"
	no_leftovers
}

# A MariaDB dry-run runs the pending migrations in a throwaway copy of the
# target: a statement that would reach past the copy (the target's own
# qualified name, another database, the server's users) is refused before
# anything runs; an ordinary dry-run still runs.
t_mysql_dry_run_stays_in_copy() {
	[ "$ENGINE" = mysql ] || skip_engine "the throwaway copy of a dry-run is MariaDB's"
	setup_users
	local other="${DBNAME}_other"
	my_admin -e "CREATE DATABASE $other; CREATE TABLE $other.t (id INT); INSERT INTO $other.t VALUES (1), (2), (3);"
	created_db "my:$other"
	mig 20240102000000 tidy "CREATE TABLE audit (id INTEGER);
DELETE FROM $DBNAME.users;"
	df db migrate --dry-run --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["error"]["line"]' 3
	contains "$(json 'd["error"]["message"]')" "$DBNAME.users"
	contains "$(json 'd["error"]["message"]')" "dry-run"
	contains "$(json 'd["error"]["hint"]')" "without --dry-run"
	mig 20240102000000 tidy "CREATE TABLE audit (id INTEGER);
DELETE FROM $other.t;"
	df db migrate --dry-run; expect_rc 3
	contains "$err" "20240102000000_tidy.sql:3:"
	mig 20240102000000 tidy "CREATE USER devflow_evil2 IDENTIFIED BY 'x';"
	df db migrate --dry-run; expect_rc 3
	contains "$err" "CREATE USER"
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the dry-run deleted the target's rows"
	[ "$(my_admin -N -B -e "SELECT count(*) FROM $other.t")" = 3 ] || fail "the dry-run deleted another database's rows"
	[ "$(my_admin -N -B -e "SELECT count(*) FROM mysql.user WHERE user = 'devflow_evil2'")" = 0 ] ||
		fail "the dry-run created a user"
	[ -z "$(my_admin -N -B -e "SHOW DATABASES LIKE '${DBNAME}\_dfshadow\_%'")" ] || fail "a throwaway copy was left behind"
	table_exists audit && fail "the dry-run created a table in the target"
	# an ordinary dry-run (data on its own tables) still runs
	mig 20240102000000 tidy "CREATE TABLE audit (id INTEGER);
INSERT INTO audit VALUES (1);
DELETE FROM users WHERE id = 2;"
	df db migrate --dry-run; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the dry-run changed the target"
	df db migrate; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 1 ] || fail "migrate did not run the migration"
}

# What schema files and migrations are for still works: tables, views,
# indexes, triggers (functions on PostgreSQL), SET; data in migrations.
t_normal_schema_still_loads() {
	setup_users
	case $ENGINE in
	sqlite) cat >schema.sql <<-'EOF'
		PRAGMA foreign_keys = ON;
		CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
		CREATE TABLE audit (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));
		CREATE INDEX audit_user ON audit (user_id);
		CREATE VIEW emails AS SELECT email FROM users;
		CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (user_id) VALUES (NEW.id); END;
		EOF
		;;
	postgres) cat >schema.sql <<-'EOF'
		SET statement_timeout = 0;
		SELECT pg_catalog.set_config('search_path', 'public', false);
		CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
		CREATE TABLE audit (id SERIAL PRIMARY KEY, user_id INTEGER REFERENCES users (id));
		CREATE INDEX audit_user ON audit (user_id);
		CREATE VIEW emails AS SELECT email FROM users;
		CREATE FUNCTION users_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO audit (user_id) VALUES (NEW.id); RETURN NEW; END $$;
		CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_audit();
		COMMENT ON TABLE users IS 'people';
		EOF
		;;
	mysql) cat >schema.sql <<-'EOF'
		/*!40101 SET NAMES utf8mb4 */;
		SET FOREIGN_KEY_CHECKS = 0;
		CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
		CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, user_id INTEGER, FOREIGN KEY (user_id) REFERENCES users (id));
		CREATE INDEX audit_user ON audit (user_id);
		CREATE VIEW emails AS SELECT users.email FROM users;
		CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW INSERT INTO audit (user_id) VALUES (NEW.id);
		EOF
		;;
	esac
	if [ "$ENGINE" = postgres ]; then
		# a DO block the replay can read runs there (the data in it too)
		mig 20240101000001 mood "DO \$\$ BEGIN
IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN CREATE TYPE mood AS ENUM ('ok'); END IF;
UPDATE users SET email = lower(email);
END \$\$;"
		df db migrate; expect_rc 0
		echo "CREATE TYPE mood AS ENUM ('ok');" >>schema.sql
	fi
	df db diff --json; expect_rc 0
	json_eq 'd["ok"]' true
	contains "$(json 'd["sql"]')" "audit"
	contains "$(json 'd["sql"]')" "emails"
	# a migration with data replays (db generate), and the new file holds the rest
	df db generate add_audit --json; expect_rc 0
	json_eq 'd["ok"]' true
	contains "$(cat "$(json 'd["file"]')")" "audit"
	[ "$(q "SELECT count(*) FROM users")" = 2 ] || fail "the live table changed"
	no_leftovers
}

run_tests t_sqlite_attach_refused t_mysql_other_database_refused \
	t_postgres_cluster_statements_refused t_generate_replay_refused t_mysql_dry_run_stays_in_copy \
	t_normal_schema_still_loads
