#!/bin/bash
# db migrate --dry-run: what the server did, statement by statement.
# PostgreSQL: the locks each statement took (pg_locks) and its time, and the
# ACCESS EXCLUSIVE locks held while later statements run.  MariaDB's shadow
# database: the ALTER TABLE algorithm the server chose.
. "$(dirname "$0")/lib.sh"

# locks_of N: the [relation, mode] pairs statement N of the first step took
locks_of() {
	json "[[l['relation'], l['mode']] for l in d['applied'][0]['trace'][$1 - 1]['locks']]"
}

# has_lock N RELATION MODE
has_lock() {
	case "$(locks_of "$1")" in
	*"[\"$2\", \"$3\"]"*) return 0 ;;
	esac
	fail "statement $1: expected $3 on $2, got $(locks_of "$1")"
}

pg_base() {
	[ "$ENGINE" = postgres ] || skip_engine "pg_locks: PostgreSQL"
	new_project
	mig 20240101000000 init "CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE TABLE orders (id int PRIMARY KEY, user_id int);" "DROP TABLE orders; DROP TABLE users;"
	df db migrate; expect_rc 0
}

t_pg_locks_per_statement() {
	pg_base
	mig 20240102000000 m "CREATE INDEX users_email ON users (email);
ALTER TABLE users ADD COLUMN name text;
ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user;"
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'len(d["applied"][0]["trace"])' 4
	json_eq '[s["line"] for s in d["applied"][0]["trace"]]' '[2, 3, 4, 5]'
	json_eq 'all(s["ms"] >= 0 for s in d["applied"][0]["trace"])' true
	has_lock 1 users SHARE
	has_lock 2 users "ACCESS EXCLUSIVE"
	has_lock 3 orders "SHARE ROW EXCLUSIVE"
	has_lock 3 users "SHARE ROW EXCLUSIVE"
	has_lock 4 orders "SHARE UPDATE EXCLUSIVE"
	# a statement lists the locks it took, not those taken before it
	case "$(locks_of 4)" in *'"ACCESS EXCLUSIVE"'*) fail "statement 4 repeats an earlier lock: $(locks_of 4)" ;; esac
	# the index the migration creates is new; users is not
	json_eq '[l["new"] for l in d["applied"][0]["trace"][0]["locks"] if l["relation"] == "users_email"]' '[true]'
	json_eq '[l["new"] for l in d["applied"][0]["trace"][0]["locks"] if l["relation"] == "users"]' '[false]'
	# ADD COLUMN's ACCESS EXCLUSIVE is held while the two statements after it run
	json_eq 'd["applied"][0]["trace"][1]["access_exclusive_held"]["relation"]' users
	json_eq 'd["applied"][0]["trace"][1]["access_exclusive_held"]["later_statements"]' 2
	json_eq '[("access_exclusive_held" in s) for s in d["applied"][0]["trace"]]' '[false, true, false, false]'
	# nothing was kept
	[ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'")" = 0 ] ||
		fail "the dry-run kept a column"
	# the text output says the same
	df db migrate --dry-run; expect_rc 0
	contains "$out$err" "SHARE ROW EXCLUSIVE on orders"
	contains "$out$err" "ACCESS EXCLUSIVE on users stays held while the 2 later statements"
}

t_pg_access_exclusive_last_or_alone() {
	pg_base
	# the ACCESS EXCLUSIVE statement is the last one: nothing waits behind it
	mig 20240102000000 m "CREATE INDEX users_email ON users (email);
ALTER TABLE users ADD COLUMN name text;"
	df db migrate --dry-run --json; expect_rc 0
	has_lock 2 users "ACCESS EXCLUSIVE"
	json_eq '[("access_exclusive_held" in s) for s in d["applied"][0]["trace"]]' '[false, false]'
	# ACCESS EXCLUSIVE on a table the migration creates holds nobody up
	rm migrations/20240102000000_m.sql
	mig 20240103000000 n "CREATE TABLE fresh (id int);
ALTER TABLE fresh ADD COLUMN x int;
INSERT INTO fresh VALUES (1, 2);"
	df db migrate --dry-run --json; expect_rc 0
	json_eq '[("access_exclusive_held" in s) for s in d["applied"][0]["trace"]]' '[false, false, false]'
	# a no-transaction migration commits each statement: its locks go with it
	rm migrations/20240103000000_n.sql
	cat >migrations/20240104000000_o.sql <<'EOF'
-- devflow:no-transaction
-- UP
ALTER TABLE users ADD COLUMN name text;
ALTER TABLE orders ADD COLUMN note text;
EOF
	df db migrate --dry-run --json; expect_rc 0
	has_lock 1 users "ACCESS EXCLUSIVE"
	json_eq '[("access_exclusive_held" in s) for s in d["applied"][0]["trace"]]' '[false, false]'
}

t_pg_concurrently_rewritten() {
	pg_base
	cat >migrations/20240102000000_idx.sql <<'EOF'
-- devflow:no-transaction
-- UP
CREATE INDEX CONCURRENTLY users_email ON users (email);
EOF
	df db migrate --dry-run --json; expect_rc 0
	json_eq 'd["applied"][0]["trace"][0]["ran_without_concurrently"]' true
	has_lock 1 users SHARE
}

t_my_alter_algorithm() {
	[ "$ENGINE" = mysql ] || skip_engine "ALTER algorithms: MariaDB"
	new_project
	mig 20240101000000 init "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(50));" "DROP TABLE users;"
	df db migrate; expect_rc 0
	mig 20240102000000 m "ALTER TABLE users ADD COLUMN name VARCHAR(20);
ALTER TABLE users MODIFY email INT;
ALTER TABLE users DROP COLUMN name, ALGORITHM=INPLACE;"
	df db migrate --dry-run --json; expect_rc 0
	json_eq '[s.get("algorithm") for s in d["applied"][0]["trace"]]' '["INSTANT", "COPY"]'
	json_eq '[s["line"] for s in d["applied"][0]["trace"]]' '[2, 3]'
	# the target is untouched: the shadow database took the change
	[ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users' AND column_name = 'name'")" = 0 ] ||
		fail "the dry-run changed the target"
	df db migrate --dry-run; expect_rc 0
	contains "$out$err" "ALGORITHM=INSTANT"
	# a real migrate applies what was dry-run, as written
	df db migrate; expect_rc 0
	[ "$(q "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users' AND column_name = 'email'")" = int ] ||
		fail "the migration did not apply"
}

t_sqlite_no_trace() {
	[ "$ENGINE" = sqlite ] || skip_engine "the SQLite case"
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);"
	df db migrate --dry-run --json; expect_rc 0
	json_eq '"trace" in d["applied"][0]' false
}

run_tests t_pg_locks_per_statement t_pg_access_exclusive_last_or_alone t_pg_concurrently_rewritten \
	t_my_alter_algorithm t_sqlite_no_trace
