#!/bin/bash
# db diff on MySQL/MariaDB: what the engine wants in one statement or in a
# given order.  A primary key and AUTO_INCREMENT change together; generated
# columns that change kind are dropped and added; an index a foreign key
# uses is dropped after its replacement exists, a key after the tables that
# reference it; column-level checks (MariaDB's json_valid on JSON too) stay
# column checks and survive a MODIFY; spatial keys have no prefix; a
# primary key keeps its comment; a new table is created whole.  Each case:
# the diff applied with the mariadb client, the re-diff empty.
. "$(dirname "$0")/lib.sh"

only_mysql() {
	[ "$ENGINE" = mysql ] || skip_engine "MySQL/MariaDB DDL ordering"
}

apply() {
	local hp=$(url_hostport "$URL")
	mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DBNAME" <"$1"
}

# roundtrip CURRENT DESIRED: CURRENT in the database, DESIRED in schema.sql;
# the diff applies and a second diff is empty.  Leaves the diff in $diff.
roundtrip() {
	new_project
	q "$1" || fail "the current schema does not load"
	printf '%s\n' "$2" >schema.sql
	df db diff --exit-code; expect_rc 1 "db diff of the change"
	diff=$out
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the diff does not apply: $diff"
	df db diff --exit-code; expect_rc 0 "second diff"
	[ -z "$out" ] || fail "second diff not empty: $out"
}

t_auto_increment_key_added_in_one_statement() {
	only_mysql
	roundtrip "CREATE TABLE items (name VARCHAR(20));" \
		"CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT, name VARCHAR(20), PRIMARY KEY (id));"
	contains "$diff" "AUTO_INCREMENT FIRST,"
	contains "$diff" "ADD PRIMARY KEY (\`id\`);"
	# and back: the key goes in the statement that drops the column
	printf '%s\n' "CREATE TABLE items (name VARCHAR(20));" >schema.sql
	df db diff --exit-code; expect_rc 1
	contains "$out" "DROP PRIMARY KEY,"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the reverse diff does not apply: $out"
	df db diff --exit-code; expect_rc 0
}

t_auto_increment_key_widened() {
	only_mysql
	roundtrip "CREATE TABLE pairs (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, other INT NOT NULL);" \
		"CREATE TABLE pairs (id BIGINT NOT NULL AUTO_INCREMENT, other INT NOT NULL, PRIMARY KEY (id, other));"
	contains "$diff" "DROP PRIMARY KEY, ADD PRIMARY KEY"
	# AUTO_INCREMENT removed with its key kept: a MODIFY and nothing else
	roundtrip "CREATE TABLE pairs (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, other INT NOT NULL);" \
		"CREATE TABLE pairs (id BIGINT NOT NULL PRIMARY KEY, other INT NOT NULL);"
}

t_generated_column_changes_kind() {
	only_mysql
	roundtrip "CREATE TABLE calc (a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL, c INT);" \
		"CREATE TABLE calc (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED, c INT GENERATED ALWAYS AS (a + 1) VIRTUAL);"
	contains "$diff" "DROP COLUMN \`b\`"
	contains "$diff" "is dropped and added again"
	lacks "$diff" "MODIFY COLUMN \`b\`"
	# and generated back to a plain column
	roundtrip "CREATE TABLE calc (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED);" \
		"CREATE TABLE calc (a INT, b INT);"
}

t_foreign_key_index_replaced_then_dropped() {
	only_mysql
	roundtrip "CREATE TABLE authors (id INT PRIMARY KEY);
CREATE TABLE books (id INT PRIMARY KEY, author_id INT, price INT, KEY by_author (author_id),
  CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors (id));" \
		"CREATE TABLE authors (id INT PRIMARY KEY);
CREATE TABLE books (id INT PRIMARY KEY, author_id INT, price INT, KEY idx_author (author_id),
  CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors (id));"
	local created=${diff%%DROP INDEX*}
	contains "$created" "CREATE INDEX \`idx_author\`"
}

t_referencing_table_dropped_before_key() {
	only_mysql
	roundtrip "CREATE TABLE people (id INT NOT NULL PRIMARY KEY);
CREATE TABLE tags (id INT PRIMARY KEY, person INT, CONSTRAINT tags_person FOREIGN KEY (person) REFERENCES people (id));" \
		"CREATE TABLE people (person_id INT NOT NULL PRIMARY KEY, name TEXT);"
	local first=${diff%%DROP PRIMARY KEY*}
	contains "$first" "DROP TABLE \`tags\`"
}

t_column_checks_stay_column_checks() {
	only_mysql
	# a column-level check, a JSON column (json_valid), a table check made
	# a column one; then a MODIFY of the checked column keeps its check
	roundtrip "CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20),
  CONSTRAINT orders_status CHECK (status IN ('new', 'done')));" \
		"CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20) CHECK (status IN ('new', 'done', 'gone')),
  doc JSON, qty INT CHECK (qty > 0));"
	contains "$diff" "CHECK (json_valid(\`doc\`))"
	printf '%s\n' "CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(40) CHECK (status IN ('new', 'done', 'gone')),
  doc JSON, qty INT CHECK (qty > 0));" >schema.sql
	df db diff --exit-code; expect_rc 1
	contains "$out" "MODIFY COLUMN \`status\` varchar(40)"
	lacks "$out" "ADD CONSTRAINT"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the MODIFY does not apply: $out"
	df db diff --exit-code; expect_rc 0
	[ -z "$out" ] || fail "the MODIFY lost a check: $out"
	[ "$(q "SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'status'")" = 1 ] ||
		fail "the status check is gone"
}

t_spatial_key_comment_and_new_table_whole() {
	only_mysql
	roundtrip "CREATE TABLE places (id INT PRIMARY KEY);
CREATE TABLE friends (a INT NOT NULL PRIMARY KEY, b INT NOT NULL);" \
		"CREATE TABLE places (id INT PRIMARY KEY, spot POINT NOT NULL, SPATIAL KEY places_spot (spot));
CREATE TABLE friends (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b) COMMENT 'both ends');
CREATE TABLE visits (id INT NOT NULL, place INT CHECK (place > 0), n INT, PRIMARY KEY (id),
  CONSTRAINT visits_n CHECK (n >= 0));"
	contains "$diff" "(\`spot\`);"
	lacks "$diff" "(\`spot\`(32))"
	contains "$diff" "COMMENT 'both ends'"
	lacks "$diff" "ALTER TABLE \`visits\`"
	contains "$diff" "CONSTRAINT \`visits_n\` CHECK"
}

t_routines_keep_their_sql_mode() {
	only_mysql
	new_project
	q "CREATE TABLE t (a INT);
CREATE PROCEDURE p() SELECT 1;
CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1;" ||
		fail "the current schema does not load"
	other_db
	my_admin "$DB2" -e "SET SESSION sql_mode = 'TRADITIONAL';
CREATE TABLE t (a INT);
CREATE PROCEDURE p() SELECT 1;
CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1;" ||
		fail "the desired schema does not load"
	df db diff --from "$URL" --to "$URL2" --exit-code; expect_rc 1
	contains "$out" "SET SESSION sql_mode = 'STRICT_TRANS_TABLES"
	contains "$out" "SET SESSION sql_mode = @devflow_sql_mode;"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the diff does not apply: $out"
	df db diff --from "$URL" --to "$URL2" --exit-code; expect_rc 0
	[ -z "$out" ] || fail "second diff not empty: $out"
	[ "$(q "SELECT SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")" = \
	  "$(my_admin -N -B "$DB2" -e "SELECT SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")" ] ||
		fail "the trigger's sql_mode is not the desired one"
}

run_tests t_routines_keep_their_sql_mode t_auto_increment_key_added_in_one_statement t_auto_increment_key_widened \
	t_generated_column_changes_kind t_foreign_key_index_replaced_then_dropped \
	t_referencing_table_dropped_before_key t_column_checks_stay_column_checks \
	t_spatial_key_comment_and_new_table_whole
