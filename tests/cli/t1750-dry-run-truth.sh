#!/bin/bash
# A dry-run fails wherever the real run would (issue 24): what the engine
# checks only at COMMIT (SQLite's deferred foreign keys, PostgreSQL's
# deferred constraints) is checked before the COMMIT and before a dry-run
# rolls back, with the same message; a failure there is reported like any
# failure (hint, file, a failed history row, pending_after, schema_changes
# of what stayed); SQLite's table rebuild (db generate, db create
# revert_<name>) says no PRAGMA foreign_keys = OFF, a no-op in devflow's
# transaction.
. "$(dirname "$0")/lib.sh"

# p and c, c's key to p deferred where the engine has deferred keys
setup_fk() {
	new_project
	local deferred="DEFERRABLE INITIALLY DEFERRED"
	[ "$ENGINE" = mysql ] && deferred=""
	mig 20240101000000 base "CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, FOREIGN KEY (p_id) REFERENCES p (id) $deferred);
INSERT INTO p (id) VALUES (1);" "DROP TABLE c;
DROP TABLE p;"
	df db migrate; expect_rc 0 "base" || return 1
}

# column_exists TABLE COLUMN -> exit 0/1
column_exists() {
	case $ENGINE in
	sqlite) [ "$(q "SELECT count(*) FROM pragma_table_info('$1') WHERE name = '$2'")" = 1 ] ;;
	*) [ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_schema = $([ "$ENGINE" = postgres ] && echo 'current_schema()' || echo 'DATABASE()') AND table_name = '$1' AND column_name = '$2'")" = 1 ] ;;
	esac
}

# A migration that leaves a deferred foreign key broken: its dry-run fails
# as its real run does, with the same message, and nothing is kept.
t_deferred_fk_dry_run_fails() {
	[ "$ENGINE" = mysql ] && skip_engine "MariaDB has no deferred foreign keys (t_fk_breaking_ddl_fails_alike covers it)"
	setup_fk || return 1
	mig 20240102000000 orphan "ALTER TABLE c ADD COLUMN note VARCHAR(20);
INSERT INTO c (id, p_id) VALUES (1, 42);" "DELETE FROM c;"
	df db migrate --dry-run --json; expect_rc 1 "dry-run of an orphan row" || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	dry_msg=$(json 'd["error"]["message"]')
	contains "$dry_msg" "'20240102000000_orphan.sql' cannot commit" || return 1
	if [ "$ENGINE" = sqlite ]; then
		# foreign_key_check names the row and the parent
		contains "$dry_msg" "FOREIGN KEY constraint failed: row 1 of 'c' references a missing row of 'p'" || return 1
	else
		contains "$dry_msg" 'violates foreign key constraint' || return 1
	fi
	json_eq 'd["error"]["file"]' migrations/20240102000000_orphan.sql || return 1
	column_exists c note && { fail "the dry-run kept column note"; return 1; }
	df db migrate --json; expect_rc 1 "real run of an orphan row" || return 1
	json_eq 'd["error"]["message"]' "$dry_msg" || return 1
}

# The failure at COMMIT reported like any failure: hint, file, a failed
# history row, pending_after, schema_changes of what stayed (nothing).
t_commit_failure_reported() {
	[ "$ENGINE" = mysql ] && skip_engine "MariaDB has no deferred foreign keys: nothing fails at COMMIT"
	setup_fk || return 1
	mig 20240102000000 orphan "ALTER TABLE c ADD COLUMN note VARCHAR(20);
INSERT INTO c (id, p_id) VALUES (1, 42);" "DELETE FROM c;"
	df db migrate --json; expect_rc 1 || return 1
	json_eq 'd["ok"]' false || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	json_eq 'd["error"]["file"]' migrations/20240102000000_orphan.sql || return 1
	contains "$(json 'd["error"]["hint"]')" "nothing of this migration was kept (its transaction rolled back)" || return 1
	json_eq 'd["failed"]["version"]' 20240102000000 || return 1
	json_eq 'd["pending_after"]' 1 || return 1
	json_eq 'd["schema_changes"]' '[]' || return 1
	json_eq 'd["applied"]' '[]' || return 1
	column_exists c note && { fail "the rolled-back column note is there"; return 1; }
	[ "$(q "SELECT count(*) FROM c")" = 0 ] || fail "the orphan row was kept" || return 1
	[ "$(q "SELECT count(*) FROM _migrations")" = 1 ] || fail "the failed migration was recorded applied" || return 1
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'migrate' AND result = 'failed'")" = 1 ] ||
		fail "no failed migrate in the history: $(q "SELECT op, result FROM _migrations_audit")" || return 1
	df db history --json; expect_rc 0 || return 1
	contains "$out" "cannot commit" || return 1
	df db status --json; expect_rc 0 || return 1
	json_eq 'd["pending"]' 1 || return 1
	# text: the error and its hint
	df db migrate; expect_rc 1 || return 1
	contains "$err" "error: '20240102000000_orphan.sql' cannot commit" || return 1
	contains "$err" "hint: nothing of this migration was kept" || return 1
	lacks "$out" "+ note" || return 1
}

# Deferral still works within a migration, and across a dry-run of several
# (the check of the first leaves the second's keys deferred).
t_deferral_within_a_migration_passes() {
	[ "$ENGINE" = mysql ] && skip_engine "MariaDB has no deferred foreign keys"
	setup_fk || return 1
	mig 20240102000000 first "INSERT INTO p (id) VALUES (2);" "DELETE FROM p WHERE id = 2;"
	# the child before its parent: fine at COMMIT
	mig 20240103000000 child_first "INSERT INTO c (id, p_id) VALUES (1, 3);
INSERT INTO p (id) VALUES (3);" "DELETE FROM c;
DELETE FROM p WHERE id = 3;"
	df db migrate --dry-run --json; expect_rc 0 "dry-run" || return 1
	json_eq 'len(d["applied"])' 2 || return 1
	[ "$(q "SELECT count(*) FROM c")" = 0 ] || fail "the dry-run kept a row" || return 1
	df db migrate --json; expect_rc 0 "real run" || return 1
	[ "$(q "SELECT count(*) FROM c")" = 1 ] || fail "the child row is missing" || return 1
	# and the rollback's dry-run: the parent deleted before its child
	mig 20240104000000 parent_first "INSERT INTO p (id) VALUES (4);" "DELETE FROM p WHERE id = 4;"
	df db migrate; expect_rc 0 || return 1
	df db rollback --steps 2 --dry-run --json; expect_rc 0 "rollback dry-run" || return 1
	df db rollback --steps 2 --json; expect_rc 0 "rollback" || return 1
	[ "$(q "SELECT count(*) FROM c")" = 0 ] || fail "the DOWN's delete is missing" || return 1
}

# SQLite: an immediate key deferred by the migration's own PRAGMA
# defer_foreign_keys is checked before COMMIT too, as a dry-run.
t_defer_pragma_checked() {
	[ "$ENGINE" = sqlite ] || skip_engine "PRAGMA defer_foreign_keys is SQLite's"
	new_project
	mig 20240101000000 base "CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));" "DROP TABLE c; DROP TABLE p;"
	df db migrate; expect_rc 0 || return 1
	mig 20240102000000 orphan "PRAGMA defer_foreign_keys = ON;
INSERT INTO c (id, p_id) VALUES (1, 7);" "DELETE FROM c;"
	df db migrate --dry-run --json; expect_rc 1 "dry-run" || return 1
	dry_msg=$(json 'd["error"]["message"]')
	contains "$dry_msg" "row 1 of 'c' references a missing row of 'p'" || return 1
	df db migrate --json; expect_rc 1 "real run" || return 1
	json_eq 'd["error"]["message"]' "$dry_msg" || return 1
	json_eq 'd["pending_after"]' 1 || return 1
	[ "$(q "SELECT count(*) FROM c")" = 0 ] || fail "the orphan was kept" || return 1
	# fixed in the same migration: both pass
	mig 20240102000000 orphan "PRAGMA defer_foreign_keys = ON;
INSERT INTO c (id, p_id) VALUES (1, 7);
INSERT INTO p (id) VALUES (7);" "DELETE FROM c;"
	df db migrate --dry-run; expect_rc 0 "dry-run, fixed" || return 1
	df db migrate; expect_rc 0 "real run, fixed" || return 1
}

# MariaDB checks foreign keys at once: a migration that breaks one in its
# DDL fails its dry-run (in the throwaway database) as its real run does.
t_fk_breaking_ddl_fails_alike() {
	[ "$ENGINE" = sqlite ] && skip_engine "SQLite does not check a foreign key's types (the deferred checks above cover it)"
	setup_fk || return 1
	# a key to a column of another type
	mig 20240102000000 bad_fk "ALTER TABLE c ADD COLUMN code VARCHAR(10);
ALTER TABLE c ADD CONSTRAINT c_code FOREIGN KEY (code) REFERENCES p (id);" "ALTER TABLE c DROP COLUMN code;"
	df db migrate --dry-run --json; expect_rc 1 "dry-run" || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	json_eq 'd["error"]["line"]' 3 || return 1
	df db migrate --json; expect_rc 1 "real run" || return 1
	json_eq 'd["error"]["kind"]' sql_error || return 1
	json_eq 'd["error"]["line"]' 3 || return 1
}

# SQLite's rebuild (db generate): no PRAGMA foreign_keys = OFF, the keys
# deferred; a rebuild that keeps every key passes, one that drops a table
# others reference fails in its dry-run as for real, and diff says why.
t_generated_rebuild() {
	[ "$ENGINE" = sqlite ] || skip_engine "only SQLite rebuilds a table to change it"
	new_project
	mig 20240101000000 init "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO users VALUES (1, 'a@b');
INSERT INTO posts VALUES (1, 1);
INSERT INTO tags VALUES (1, 'x');" "DROP TABLE tags; DROP TABLE posts; DROP TABLE users;"
	df db migrate; expect_rc 0 || return 1
	# tags: nothing references it
	cat >schema.sql <<-'EOF'
	CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);
	CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
	CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
	EOF
	df db generate tags_not_null --allow-drop; expect_rc 0 "generate" || return 1
	f=$(ls migrations/*_tags_not_null.sql) || { fail "no file written"; return 1; }
	lacks "$(cat "$f")" "PRAGMA foreign_keys = OFF" || return 1
	lacks "$(cat "$f")" "PRAGMA foreign_keys = ON" || return 1
	contains "$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")" "PRAGMA defer_foreign_keys = ON;" || return 1
	contains "$(sed -n '/^-- DOWN/,$p' "$f")" "PRAGMA defer_foreign_keys = ON;" || return 1
	df db migrate --dry-run; expect_rc 0 "dry-run of the tags rebuild" || return 1
	df db migrate; expect_rc 0 "the tags rebuild" || return 1
	[ "$(q "SELECT name FROM tags")" = x ] || fail "the rebuild lost a row" || return 1
	# users: posts references it
	sed -i 's/email VARCHAR(255) NOT NULL/email TEXT NOT NULL/' schema.sql
	df db diff --to schema.sql; expect_rc 0 "diff" || return 1
	contains "$out" "'posts' references 'users'" || return 1
	lacks "$out" "foreign_keys = OFF" || return 1
	# generate verifies the UP on a replay of the history (i25-verify): the
	# rebuild of a referenced table fails there as it would for real, so
	# nothing is written unless --force
	df db generate users_text --allow-drop; expect_rc 1 "generate users, unverified" || return 1
	contains "$err" "FOREIGN KEY constraint failed" || return 1
	ls migrations | grep -q users_text && { fail "an unverified migration was written"; return 1; }
	df db generate users_text --allow-drop --force; expect_rc 0 "generate users --force" || return 1
	df db migrate --dry-run --json; expect_rc 1 "dry-run of the users rebuild" || return 1
	dry_msg=$(json 'd["error"]["message"]')
	contains "$dry_msg" "FOREIGN KEY constraint failed" || return 1
	df db migrate --json; expect_rc 1 "the users rebuild" || return 1
	json_eq 'd["error"]["message"]' "$dry_msg" || return 1
	json_eq 'd["pending_after"]' 1 || return 1
	[ "$(q "SELECT count(*) FROM posts")" = 1 ] || fail "posts lost its row" || return 1
	[ "$(q "SELECT type FROM pragma_table_info('users') WHERE name = 'email'")" = "VARCHAR(255)" ] ||
		fail "the failed rebuild was kept" || return 1
}

# db create revert_<name> writes the rebuild the same way.
t_revert_rebuild() {
	[ "$ENGINE" = sqlite ] || skip_engine "only SQLite rebuilds a table to change it"
	new_project
	mig 20240101000000 init "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO tags VALUES (1, 'x');" "DROP TABLE tags;"
	# no DOWN: a hand-written rebuild that makes name NOT NULL
	mig 20240102000000 tags_not_null "CREATE TABLE tags_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO tags_new SELECT id, name FROM tags;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;"
	df db migrate; expect_rc 0 || return 1
	df db create revert_tags_not_null; expect_rc 0 "revert" || return 1
	f=$(ls migrations/*_revert_tags_not_null.sql) || { fail "no revert file"; return 1; }
	up=$(sed -n '/^-- UP/,/^-- DOWN/p' "$f")
	contains "$up" "PRAGMA defer_foreign_keys = ON;" || return 1
	lacks "$(cat "$f")" "PRAGMA foreign_keys = OFF" || return 1
	df db migrate --dry-run; expect_rc 0 "dry-run of the revert" || return 1
	df db migrate; expect_rc 0 "the revert" || return 1
	[ "$(q "SELECT \"notnull\" FROM pragma_table_info('tags') WHERE name = 'name'")" = 0 ] ||
		fail "name is still NOT NULL" || return 1
}

run_tests t_deferred_fk_dry_run_fails t_commit_failure_reported \
	t_deferral_within_a_migration_passes t_defer_pragma_checked t_fk_breaking_ddl_fails_alike \
	t_generated_rebuild t_revert_rebuild
