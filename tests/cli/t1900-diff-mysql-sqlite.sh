#!/bin/bash
# db diff's MariaDB and SQLite leftovers of issue 25.  A schema.sql with a
# trigger or routine BEGIN ... END and no DELIMITER loads (the body is one
# statement, as the server takes it sent whole); an index MariaDB made for
# a foreign key stays as it is when a key is added again; partitioned
# tables are read, compared and written; an FTS5 (and FTS4, R*Tree)
# table's shadow tables are never written; a schema file that fails to
# load names file:line:column and the statement; a create option removed
# (ROW_FORMAT) is put back to the default.  Each diff: verified
# (JSON verified: true), applied with the plain client, re-diffed empty.
. "$(dirname "$0")/lib.sh"

only_mysql() {
	[ "$ENGINE" = mysql ] || skip_engine "MySQL/MariaDB only"
}

apply() {
	case $ENGINE in
	sqlite) sqlite3 -batch -bail "$PROJECT/test.db" <"$1" ;;
	postgres) psql -qX -v ON_ERROR_STOP=1 "$URL" <"$1" >/dev/null ;;
	mysql)
		local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$DBNAME" <"$1" ;;
	esac
}

# roundtrip CURRENT DESIRED: CURRENT in the database, DESIRED in schema.sql;
# the diff is verified, applies with the plain client, and a second diff
# is empty.  Leaves the diff in $diff.
roundtrip() {
	new_project
	if [ -n "$1" ]; then
		printf '%s\n' "$1" >current.sql
		apply current.sql || fail "the current schema does not load"
	fi
	printf '%s\n' "$2" >schema.sql
	df db diff --json; expect_rc 0 "db diff --json"
	json_eq 'd["verified"]' true
	json_eq 'd["ok"]' true
	df db diff --exit-code; expect_rc 1 "db diff of the change"
	diff=$out
	contains "$diff" "-- devflow: verified:"
	printf '%s\n' "$out" >diff.sql
	apply diff.sql || fail "the diff does not apply: $diff"
	df db diff --exit-code; expect_rc 0 "second diff"
	[ -z "$out" ] || fail "second diff not empty: $out"
}

t_trigger_and_routine_without_delimiter() {
	only_mysql
	roundtrip "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT);" \
		"CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT);
-- no DELIMITER: each body is one statement, ';' and all
CREATE TRIGGER t_fill BEFORE INSERT ON t FOR EACH ROW
BEGIN
  IF NEW.a IS NULL THEN
    SET NEW.a = CASE WHEN NEW.id > 10 THEN 2 ELSE 1 END;
  END IF;
  SET NEW.b = NEW.a * 2;
END;
CREATE PROCEDURE count_to(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  counting: LOOP
    SET i = i + 1;
    IF i >= n THEN LEAVE counting; END IF;
  END LOOP counting;
  WHILE i > 0 DO SET i = i - 1; END WHILE;
  SELECT 'done; END' AS said;
END;
CREATE TABLE after_them (id INT PRIMARY KEY);"
	contains "$diff" "CREATE TRIGGER \`t_fill\`"
	contains "$diff" "CREATE PROCEDURE \`count_to\`"
	contains "$diff" "CREATE TABLE \`after_them\`"
	q "INSERT INTO t (id) VALUES (1)"
	[ "$(q "SELECT CONCAT(a, ',', b) FROM t")" = "1,2" ] || fail "the trigger's body is not whole: $(q "SELECT * FROM t")"
	[ "$(q "CALL count_to(3)")" = "done; END" ] || fail "the procedure's body is not whole"
	# a migration splits the same way
	new_project
	mig 20240101000000 fill "CREATE TABLE m (id INT PRIMARY KEY, a INT);
CREATE TRIGGER m_fill BEFORE INSERT ON m FOR EACH ROW BEGIN
  IF NEW.a IS NULL THEN SET NEW.a = 7; END IF;
END;
INSERT INTO m (id) VALUES (1);"
	df db migrate; expect_rc 0 "db migrate"
	[ "$(q "SELECT a FROM m")" = 7 ] || fail "the migration's trigger is not whole: $(q "SELECT * FROM m")"
}

t_foreign_key_index_kept_on_rediff() {
	only_mysql
	# unnamed keys: MariaDB makes the index `pid`; adding a key again must
	# not replace it by one named c_ibfk_1
	roundtrip "CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p (id));" \
		"CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT, qid INT, KEY by_qid (qid) USING BTREE,
  FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE, FOREIGN KEY (qid) REFERENCES p (id));"
	contains "$diff" "RENAME INDEX \`pid\` TO \`pid\`"
	lacks "$diff" "USING BTREE"
	[ "$(q "SELECT GROUP_CONCAT(DISTINCT INDEX_NAME ORDER BY INDEX_NAME) FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'c'")" = "by_qid,pid,PRIMARY" ] ||
		fail "the foreign keys' indexes changed: $(q "SHOW CREATE TABLE c")"
	# a named key renamed: its own index follows it
	roundtrip "CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT, CONSTRAINT fk_one FOREIGN KEY (pid) REFERENCES p (id));" \
		"CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT, CONSTRAINT fk_two FOREIGN KEY (pid) REFERENCES p (id));"
}

t_partitioned_tables() {
	only_mysql
	roundtrip "CREATE TABLE events (id INT NOT NULL, y INT NOT NULL);
CREATE TABLE hashed (id INT NOT NULL) PARTITION BY HASH (id) PARTITIONS 2;" \
		"CREATE TABLE events (id INT NOT NULL, y INT NOT NULL)
  PARTITION BY RANGE (y) (PARTITION before2000 VALUES LESS THAN (2000), PARTITION later VALUES LESS THAN MAXVALUE);
CREATE TABLE hashed (id INT NOT NULL) PARTITION BY HASH (id) PARTITIONS 4;
CREATE TABLE keyed (id INT NOT NULL PRIMARY KEY) PARTITION BY KEY (id) PARTITIONS 3;
CREATE TABLE listed (id INT NOT NULL, r CHAR(2) NOT NULL) PARTITION BY LIST COLUMNS (r)
  (PARTITION north VALUES IN ('NO', 'SE'), PARTITION south VALUES IN ('ES', 'IT'));"
	contains "$diff" "PARTITION BY RANGE"
	[ "$(q "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE()
AND PARTITION_NAME IS NOT NULL")" = 11 ] || fail "the partitions are not all there"
}

t_fts5_shadow_tables_left_out() {
	[ "$ENGINE" = sqlite ] || skip_engine "SQLite virtual tables"
	roundtrip "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);" \
		"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');
CREATE VIRTUAL TABLE words USING fts4(w);
CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);
CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
  INSERT INTO notes_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;"
	contains "$diff" "CREATE VIRTUAL TABLE notes_fts"
	contains "$diff" "CREATE VIRTUAL TABLE boxes"
	for shadow in notes_fts_data notes_fts_idx notes_fts_docsize notes_fts_config words_content \
		words_segdir boxes_node boxes_parent; do
		lacks "$diff" "$shadow"
	done
	q "INSERT INTO notes (body) VALUES ('hello world')"
	[ "$(q "SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'hello'")" = 1 ] || fail "the FTS5 table does not work"
	# pull and generate leave them out too
	df db pull -o pulled.sql; expect_rc 0
	contains "$(cat pulled.sql)" "CREATE VIRTUAL TABLE notes_fts"
	lacks "$(cat pulled.sql)" "notes_fts_data"
	lacks "$(cat pulled.sql)" "boxes_node"
	df db diff --from test.db --to pulled.sql --exit-code; expect_rc 0 "the pulled file re-diffed"
	[ -z "$out" ] || fail "the pulled file differs: $out"
	# generate: the history makes the virtual tables, the schema drops
	# them; neither the UP nor the DOWN that makes them again names a shadow
	mig 20240101000000 search "$(cat schema.sql)"
	printf '%s\n' "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);" >schema.sql
	df db generate drop_search --allow-drop; expect_rc 0
	local m=$(ls migrations/*drop_search*)
	contains "$(cat "$m")" "DROP TABLE \"notes_fts\""
	contains "$(cat "$m")" "CREATE VIRTUAL TABLE notes_fts"
	lacks "$(cat "$m")" "notes_fts_data"
	lacks "$(cat "$m")" "boxes_node"
}

t_load_error_names_file_line_statement() {
	new_project
	q "CREATE TABLE seed (id INT)"
	printf '%s\n' "CREATE TABLE ok_one (id INT PRIMARY KEY);" "" "CREATE TABLE broken (id INT," \
		"  x INT NOT NOT NULL);" >schema.sql
	df db diff --json; expect_rc 1
	json_eq 'd["ok"]' false
	json_eq 'd["error"]["kind"]' sql_error
	json_eq 'd["error"]["file"].endswith("/schema.sql")' true
	json_eq 'd["error"]["line"] in (3, 4)' true
	json_eq 'd["error"]["column"] > 0' true
	json_eq '"/schema.sql:3:1 (CREATE TABLE broken (id INT,)" in d["error"]["hint"]' true
	df db diff; expect_rc 1
	contains "$err" "/schema.sql:"
	contains "$err" "/schema.sql:3:1 (CREATE TABLE broken (id INT,)"
	if [ "$ENGINE" != sqlite ]; then
		# parsed, then refused by the server (SQLite takes any type name)
		printf '%s\n' "CREATE TABLE ok_one (id INT PRIMARY KEY);" "CREATE TABLE typed (id INT," \
			"  x no_such_type);" >schema.sql
		df db diff --json; expect_rc 1
		json_eq 'd["error"]["kind"]' sql_error
		json_eq 'd["error"]["line"] in (2, 3)' true
		json_eq '"/schema.sql:2:1 (CREATE TABLE typed (id INT,) does not load" in d["error"]["hint"]' true
	fi
	if [ "$ENGINE" = mysql ]; then
		# a body never closed: where it starts
		printf '%s\n' "CREATE TABLE t (id INT PRIMARY KEY);" \
			"CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN" "  SET @a = 1;" >schema.sql
		df db diff --json; expect_rc 1
		json_eq 'd["error"]["kind"]' sql_error
		json_eq '[d["error"]["line"], d["error"]["column"]]' '[2, 53]'
		json_eq '"/schema.sql:2:53: unterminated BEGIN ... END body" in d["error"]["message"]' true
	fi
}

# A create option "from" sets and "to" does not is put back to the
# server's default (ROW_FORMAT=DEFAULT, CHECKSUM=0 ...): the diff saw the
# table differ and wrote nothing.
t_table_options_removed() {
	only_mysql
	roundtrip "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=COMPRESSED;
CREATE TABLE u (id INT PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=COMPACT STATS_PERSISTENT=1 CHECKSUM=1;" \
		"CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE u (id INT PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;"
	contains "$diff" "ROW_FORMAT=DEFAULT"
	contains "$diff" "STATS_PERSISTENT=DEFAULT"
	contains "$diff" "CHECKSUM=0"
	contains "$diff" "row_format=DYNAMIC"
}

run_tests t_trigger_and_routine_without_delimiter t_foreign_key_index_kept_on_rediff \
	t_partitioned_tables t_fts5_shadow_tables_left_out t_load_error_names_file_line_statement \
	t_table_options_removed
