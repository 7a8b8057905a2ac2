#!/bin/bash
# db generate and db pull: a migration from the declarative schema file,
# with a DOWN; round trips (pull -> generate, generate -> migrate ->
# generate: "no changes"; migrate -> rollback: the schema as before, by the
# engines' own dumps); drops only with --allow-drop (an `ask` in JSON);
# --print writes nothing; renames said, not guessed; bad input.
. "$(dirname "$0")/lib.sh"

# A migrated project: users, posts (FK to users), an index, a view.
setup_history() {
	new_project
	SERIAL="INTEGER PRIMARY KEY"
	[ "$ENGINE" = postgres ] && SERIAL="SERIAL PRIMARY KEY"
	[ "$ENGINE" = mysql ] && SERIAL="INT AUTO_INCREMENT PRIMARY KEY"
	mig 20240101000000 create_users "CREATE TABLE users (id $SERIAL, email VARCHAR(255) NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR(200));
CREATE INDEX posts_user ON posts (user_id);
CREATE VIEW user_emails AS SELECT email FROM users;" "DROP VIEW user_emails; DROP TABLE posts; DROP TABLE users;"
	df db migrate; expect_rc 0
}

# mig_count: how many migration files the folder holds
mig_count() { ls migrations | grep -c . || true; }

# dump: the engine's own schema dump, normalised (comments, SET lines,
# counters and blank lines out; devflow's tables left out)
dump() {
	case $ENGINE in
	sqlite) sqlite3 -batch "$PROJECT/test.db" .schema | grep -v '_migrations' ;;
	postgres) pg_dump --schema-only --no-owner -T '_migrations*' "$URL" |
		grep -vE '^(--|SET |SELECT pg_catalog|\\)' ;;
	mysql) local hp=$(url_hostport "$URL")
		mariadb-dump --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot --no-data --skip-comments \
			--ignore-table="$DBNAME._migrations" --ignore-table="$DBNAME._migrations_audit" "$DBNAME" |
		grep -vE '^(/\*!|--)' | sed -E 's/ AUTO_INCREMENT=[0-9]+//' ;;
	esac | grep -v '^[[:space:]]*$'
}

# leftovers: throwaway databases of devflow runs that have ended (a run
# going on elsewhere on the same server keeps its own)
leftovers() { throwaway_leftovers; }

t_pull_then_generate_is_no_changes() {
	setup_history
	df db pull; expect_rc 0
	[ -s schema.sql ] || fail "db pull wrote no schema.sql"
	contains "$(cat schema.sql)" "posts"
	lacks "$(cat schema.sql)" "_migrations"
	n=$(mig_count)
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
	[ "$(mig_count)" = "$n" ] || fail "a file was written for no changes"
	df db generate again --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["changes"]' 0
	json_eq 'd["file"]' null
	# stable: a second pull writes the same bytes
	cp schema.sql first.sql
	df db pull; expect_rc 0
	cmp -s first.sql schema.sql || fail "a second pull differs: $(diff first.sql schema.sql | head -5)"
	df db pull -o - ; expect_rc 0
	contains "$out" "users"
}

# the changed schema: a column, a table with a foreign key, an index
write_changed_schema() {
	df db pull; expect_rc 0
	cat >>schema.sql <<'EOF'

CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id), body TEXT);
CREATE INDEX comments_post ON comments (post_id);
EOF
}

t_generate_migrate_generate() {
	setup_history
	write_changed_schema
	df db generate add_comments; expect_rc 0
	f=$(ls migrations/*_add_comments.sql) || fail "no file written"
	contains "$(cat "$f")" "-- UP"
	contains "$(cat "$f")" "-- DOWN"
	contains "$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")" "comments"
	contains "$(sed -n '/^-- DOWN/,$p' "$f")" "DROP TABLE"
	contains "$out$err" "Created"
	df db generate add_comments --json; expect_rc 0
	# the file is pending: the history already gives the schema
	json_eq 'd["changes"]' 0
	df db migrate; expect_rc 0
	table_exists comments || fail "comments was not created"
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
	df db diff --exit-code; expect_rc 0
	[ -z "$out" ] || fail "the target differs from the schema file: $out"
}

t_rollback_restores_schema() {
	setup_history
	before=$(dump)
	[ -n "$before" ] || fail "the dump is empty"
	df db pull -o before.sql; expect_rc 0
	write_changed_schema
	df db generate add_comments; expect_rc 0
	df db migrate; expect_rc 0
	[ "$(dump)" != "$before" ] || fail "the migration changed nothing"
	n=$(ls migrations/*_add_comments*.sql | grep -c .)
	df db rollback --steps "$n"; expect_rc 0
	after=$(dump)
	[ "$after" = "$before" ] || fail "rollback left another schema: $(diff <(echo "$before") <(echo "$after") | head -10)"
	df db diff --to before.sql --exit-code; expect_rc 0
}

t_drop_needs_allow_drop() {
	setup_history
	df db pull; expect_rc 0
	# drop posts (and its index), keep the rest
	python3 - <<'EOF'
import re
s = open("schema.sql").read()
parts = s.split(";\n")
keep = [p for p in parts if not re.search(r'posts', p)]
open("schema.sql", "w").write(";\n".join(keep))
EOF
	n=$(mig_count)
	df db generate drop_posts </dev/null; expect_rc 3
	[ "$(mig_count)" = "$n" ] || fail "a drop was written without --allow-drop"
	contains "$err" "destroys data"
	df db generate drop_posts --json; expect_rc 3
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$(json 'd["ask"]["question"]')" "posts"
	contains "$(json 'd["ask"]["options"][0]["then"]')" "devflow db generate drop_posts --allow-drop"
	json_eq 'd["ask"]["options"][1]["then"]' null
	[ "$(mig_count)" = "$n" ] || fail "--json wrote a file"
	df db generate drop_posts --allow-drop; expect_rc 0
	f=$(ls migrations/*_drop_posts.sql) || fail "no file written"
	contains "$(cat "$f")" "DESTROYS DATA"
	contains "$out$err" "drop-table"
	df db migrate; expect_rc 0
	table_exists posts && fail "posts was not dropped"
	df db rollback; expect_rc 0
	table_exists posts || fail "the DOWN did not bring posts back"
}

t_print_writes_nothing() {
	setup_history
	write_changed_schema
	n=$(mig_count)
	df db generate add_comments --print; expect_rc 0
	contains "$out" "-- UP"
	contains "$out" "comments"
	contains "$out" "-- DOWN"
	[ "$(mig_count)" = "$n" ] || fail "--print wrote a file"
	df db generate add_comments --print --json; expect_rc 0
	json_eq 'd["file"]' null
	contains "$(json 'd["up"]')" "comments"
	contains "$(json 'd["down"]')" "comments"
	[ "$(mig_count)" = "$n" ] || fail "--print --json wrote a file"
}

t_renames_are_said() {
	setup_history
	q "INSERT INTO users (id, email) VALUES (1, 'kept@example.com')" >/dev/null
	printf '%s\n' "CREATE TABLE users (" "  id $SERIAL," "  -- devflow:renamed-from email" \
		"  mail VARCHAR(255) NOT NULL" ");" \
		"CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR(200));" \
		"CREATE INDEX posts_user ON posts (user_id);" \
		"CREATE VIEW user_emails AS SELECT mail FROM users;" >schema.sql
	grep -q 'renamed-from' schema.sql || fail "the test could not mark the rename: $(cat schema.sql)"
	df db generate rename_email; expect_rc 0
	f=$(ls migrations/*_rename_email.sql) || fail "no file written: $err"
	contains "$(cat "$f")" "RENAME"
	lacks "$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")" "DROP COLUMN"
	df db migrate; expect_rc 0
	[ "$(q "SELECT mail FROM users WHERE id = 1")" = kept@example.com ] || fail "the row did not survive the rename"
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
	df db rollback; expect_rc 0
	[ "$(q "SELECT email FROM users WHERE id = 1")" = kept@example.com ] || fail "the row did not survive the DOWN"
}

t_bad_input() {
	setup_history
	n=$(mig_count)
	# no schema file: a usage error naming the path and the setting
	df db generate x; expect_rc 2
	contains "$err" "schema.sql"
	contains "$err" "[project] schema"
	df db generate x --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	# a schema file that does not load: file:line:column, nothing written
	printf 'CREATE TABLE a (id INTEGER);\nCREATE TABLE a (id INTEGER);\n' >schema.sql
	df db generate x --json; expect_rc 1
	json_eq 'd["error"]["kind"]' sql_error
	json_eq 'd["error"]["line"]' 2
	contains "$(json 'd["error"]["file"]')" "schema.sql"
	df db generate x; expect_rc 1
	contains "$err" "schema.sql:2:"
	[ "$(mig_count)" = "$n" ] || fail "a file was written for a broken schema"
	[ -z "$(leftovers)" ] || fail "a throwaway database was left behind: $(leftovers)"
	# a history that needs a person: exit 6, as migrate
	df db pull; expect_rc 0
	echo "CREATE TABLE extra (id INTEGER PRIMARY KEY);" >>schema.sql
	q "UPDATE _migrations SET state = 'failed'" >/dev/null
	df db generate x; expect_rc 6
	df db generate x --json; expect_rc 6
	json_eq 'd["error"]["kind"]' failed_migration
	json_eq '"ask" in d' true
	[ "$(mig_count)" = "$n" ] || fail "a file was written over a failed history"
	# usage
	df db generate; expect_rc 2
	df db generate 'bad/name'; expect_rc 2
	df db generate x --bogus; expect_rc 2
	df db pull --format dot; expect_rc 2
}

t_schema_folder_and_formats() {
	new_project
	# dbmate's folder: the new file in dbmate's format
	printf -- '-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n' \
		>migrations/20240101000000_users.sql
	mkdir schema
	echo "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));" >schema/01_users.sql
	echo "CREATE TABLE tags (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));" >schema/02_tags.sql
	printf '[project]\nschema = schema\n' >devflow.conf
	df db generate tags; expect_rc 0
	f=$(ls migrations/*_tags.sql) || fail "no file written"
	contains "$(cat "$f")" "-- migrate:up"
	contains "$(cat "$f")" "-- migrate:down"
	contains "$(cat "$f")" "tags"
	df db migrate; expect_rc 0
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
	# db pull writes one file, not a folder
	df db pull; expect_rc 2
	# golang-migrate's folder: two files
	new_project
	echo "CREATE TABLE users (id INTEGER PRIMARY KEY);" >migrations/000001_users.up.sql
	echo "DROP TABLE users;" >migrations/000001_users.down.sql
	echo "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));" >schema.sql
	df db generate add_name; expect_rc 0
	[ -f migrations/000002_add_name.up.sql ] || fail "no .up.sql: $(ls migrations)"
	[ -f migrations/000002_add_name.down.sql ] || fail "no .down.sql: $(ls migrations)"
	contains "$(cat migrations/000002_add_name.down.sql)" "name"
}

# PostgreSQL: an index and a foreign key on an existing table, where the
# review flags the plain forms
t_online_forms() {
	[ "$ENGINE" = postgres ] || skip_engine "online forms are PostgreSQL's"
	setup_history
	df db pull; expect_rc 0
	cat >>schema.sql <<'EOF'
CREATE INDEX users_email ON users (email);
CREATE TABLE tags (id INTEGER PRIMARY KEY);
ALTER TABLE posts ADD COLUMN tag_id INTEGER REFERENCES tags (id);
EOF
	df db generate tags --print --plain; expect_rc 0
	contains "$out$err" "create-index-not-concurrently"
	df db generate tags --print --plain --json; expect_rc 0
	lacks "$(json 'd["up"]')" "CONCURRENTLY"
	lacks "$(json 'd["up"]')" "NOT VALID"
	contains "$(json 'd["up"]')" "CREATE INDEX users_email"
	json_eq '"online_up" in d' false
	df db generate tags; expect_rc 0
	main=$(ls migrations/*_tags.sql) || fail "no main migration"
	online=$(ls migrations/*_tags_online.sql) || fail "no online migration: $(ls migrations)"
	contains "$(cat "$main")" "NOT VALID"
	contains "$(cat "$main")" "lock_timeout"
	lacks "$(cat "$main")" "users_email"
	contains "$(cat "$online")" "-- devflow:no-transaction"
	contains "$(cat "$online")" "CREATE INDEX CONCURRENTLY users_email"
	contains "$(cat "$online")" "VALIDATE CONSTRAINT"
	contains "$(sed -n '/^-- DOWN/,$p' "$online")" "DROP INDEX CONCURRENTLY"
	lacks "$out$err" "create-index-not-concurrently"
	lacks "$out$err" "validate-in-same-transaction"
	df db migrate; expect_rc 0
	[ "$(q "SELECT convalidated FROM pg_constraint WHERE conname = 'posts_tag_id_fkey'")" = t ] ||
		fail "the foreign key was not validated"
	df db generate again; expect_rc 0
	contains "$out$err" "No changes"
	df db rollback --steps 2; expect_rc 0
	table_exists tags && fail "the DOWN left tags"
	[ -z "$(q "SELECT 1 FROM pg_indexes WHERE indexname = 'users_email'")" ] || fail "the DOWN left users_email"
}

# db create revert_<name> of a migration with no DOWN: derived from the
# schemas before and after it, saying what data cannot come back
t_revert_without_down() {
	setup_history
	before=$(dump)
	mig 20240102000000 cleanup "DROP VIEW user_emails;
ALTER TABLE posts DROP COLUMN title;
CREATE TABLE audit (id INTEGER PRIMARY KEY);"
	df db migrate; expect_rc 0
	df db create revert_cleanup; expect_rc 0
	f=$(ls migrations/*_revert_cleanup.sql) || fail "no revert file"
	lacks "$(cat "$f")" "TODO"
	contains "$(cat "$f")" "CANNOT RESTORE DATA"
	contains "$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")" "title"
	contains "$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")" "user_emails"
	df db create revert_cleanup --json; expect_rc 0
	json_eq 'd["derived"]' true
	rm -f migrations/*_revert_cleanup.sql
	df db create revert_cleanup; expect_rc 0
	df db migrate; expect_rc 0
	[ "$(dump)" = "$before" ] || fail "the revert left another schema: $(diff <(echo "$before") <(dump) | head -10)"
}

ONLY_SQLITE_TESTS="t_schema_folder_and_formats"
run_tests t_pull_then_generate_is_no_changes t_generate_migrate_generate \
	t_rollback_restores_schema t_drop_needs_allow_drop t_print_writes_nothing \
	t_renames_are_said t_bad_input t_schema_folder_and_formats t_online_forms \
	t_revert_without_down
