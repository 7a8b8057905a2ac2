#!/bin/bash
# Restores that touch only their target and only whole files; backups that
# never replace a file by accident; both under the migration lock.
#   - a MariaDB dump that names another database (USE, CREATE DATABASE, a
#     qualified name) is refused, naming it; the other database is untouched
#   - a cut backup is refused before anything runs (its manifest, the audit
#     log's receipt, the dump's own end); one nothing vouches for is an ask
#   - restoring over data is an ask; --yes answers it locally
#   - -o over an existing file needs --force; a failed --verify never takes it
#   - backup and restore wait for the migration lock, then exit 5
. "$(dirname "$0")/lib.sh"

# A project whose table items holds 20,000 rows (applied by a migration).
setup_big() {
	new_project
	mig 20240101000000 items "CREATE TABLE items (id INTEGER PRIMARY KEY, payload VARCHAR(100) NOT NULL);" \
		"DROP TABLE items;"
	df db migrate; expect_rc 0
	case $ENGINE in
	sqlite) q "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
		INSERT INTO items SELECT i, 'row-' || i || '-' || hex(randomblob(16)) FROM s" ;;
	postgres) q "INSERT INTO items SELECT i, 'row-' || i || '-' || md5(random()::text) FROM generate_series(1, 20000) i" >/dev/null ;;
	mysql) q "SET SESSION max_recursive_iterations = 100000; INSERT INTO items WITH RECURSIVE s(i) AS
		(SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) SELECT i, CONCAT('row-', i, '-', MD5(RAND())) FROM s" ;;
	esac
	[ "$(q "SELECT count(*) FROM items")" = 20000 ] || fail "setup: items has $(q "SELECT count(*) FROM items") rows"
}

items() { q "SELECT count(*) FROM items" 2>/dev/null || echo "no table"; }

q2() {
	case $ENGINE in
	sqlite) sqlite3 -batch -noheader "$PROJECT/other.db" "$1" ;;
	postgres) psql -qAtX "$URL2" -c "$1" ;;
	mysql) my_admin -N -B "$DB2" -e "$1" ;;
	esac
}

my_dump() {
	local hp=$(url_hostport "$URL")
	mariadb-dump --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot "$@"
}

# ---- a MariaDB dump writes only into the target ---------------------------

t_dump_names_other_db() {
	[ "$ENGINE" = mysql ] || skip_engine "only a MySQL dump is SQL that can switch database"
	new_project
	local prod="${DBNAME}_prod"
	my_admin -e "CREATE DATABASE $prod"
	created_db "my:$prod"
	my_admin "$prod" -e "SET SESSION max_recursive_iterations = 100000; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64));
		INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) SELECT i, MD5(i) FROM s"
	my_dump --databases "$prod" >"$PROJECT/multi.sql"
	my_admin "$prod" -e "DELETE FROM t WHERE id > 100"
	df db restore "$PROJECT/multi.sql" --yes --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$(json 'd["error"]["message"]')" "USE \`$prod\`"
	contains "$(json 'd["error"]["message"]')" "CREATE DATABASE \`$prod\`"
	contains "$(json 'd["databases"]')" "USE \`$prod\`"
	contains "$(json 'd["error"]["hint"]')" "without --databases"
	[ "$(my_admin -N -B "$prod" -e "SELECT count(*) FROM t")" = 100 ] ||
		fail "the refused restore changed the other database: $(my_admin -N -B "$prod" -e "SELECT count(*) FROM t") rows"
	table_exists t && fail "the refused restore created a table in the target"

	# a name qualified with another database, in a dump that is otherwise whole
	printf 'CREATE TABLE t2 (id INT);\nINSERT INTO `%s`.`t` VALUES (999999, "x");\n-- Dump completed on 2026-01-01\n' \
		"$prod" >"$PROJECT/qual.sql"
	df db restore "$PROJECT/qual.sql" --yes --json; expect_rc 3
	contains "$(json 'd["error"]["message"]')" "\`$prod\`"
	printf 'CREATE VIEW v AS SELECT id FROM %s.t;\n-- Dump completed on 2026-01-01\n' "$prod" >"$PROJECT/view.sql"
	df db restore "$PROJECT/view.sql" --yes --json; expect_rc 3
	contains "$(json 'd["error"]["message"]')" "\`$prod\`"
	# hidden in an executable comment, as mariadb-dump writes DROP DATABASE
	printf '/*!40000 DROP DATABASE IF EXISTS `%s`*/;\n-- Dump completed on 2026-01-01\n' "$prod" >"$PROJECT/drop.sql"
	df db restore "$PROJECT/drop.sql" --yes --json; expect_rc 3
	contains "$(json 'd["error"]["message"]')" "DROP DATABASE \`$prod\`"
	[ "$(my_admin -N -B "$prod" -e "SELECT count(*) FROM t")" = 100 ] || fail "a refused restore reached the other database"
	table_exists t2 && fail "a refused restore ran its first statement"

	# the target's own name qualified is the target; the client runs with
	# --one-database and the target as its database
	local w="$PROJECT/wrap"
	mkdir "$w"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >%s/argv\nexec /usr/bin/mariadb "$@"\n' "$w" >"$w/mariadb"
	chmod +x "$w/mariadb"
	printf 'CREATE TABLE t3 (id INT);\nINSERT INTO `%s`.t3 VALUES (1);\n-- Dump completed on 2026-01-01\n' \
		"$DBNAME" >"$PROJECT/own.sql"
	dfe PATH="$w:$PATH" "$DEVFLOW" db restore "$PROJECT/own.sql" --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM t3")" = 1 ] || fail "a dump into its own database was not restored"
	grep -qx -- --one-database "$w/argv" || fail "the mariadb client ran without --one-database: $(cat "$w/argv")"
	[ "$(tail -n 1 "$w/argv")" = "$DBNAME" ] || fail "the client's database argument is not the target: $(cat "$w/argv")"
}

# ---- a cut backup is refused before anything runs -------------------------

t_cut_backup() {
	setup_big
	df db backup -o "$PROJECT/full.bak" --json; expect_rc 0
	[ -f "$PROJECT/full.bak.manifest" ] || fail "no manifest beside the backup"
	contains "$(cat "$PROJECT/full.bak.manifest")" "\"sha256\": \"$(sha256sum "$PROJECT/full.bak" | cut -d' ' -f1)\""
	contains "$(cat "$PROJECT/full.bak.manifest")" "\"engine\": \"$ENGINE\""
	q "DELETE FROM items WHERE id > 15000" >/dev/null
	local size=$(stat -c %s "$PROJECT/full.bak")
	head -c $((size / 2)) "$PROJECT/full.bak" >"$PROJECT/half.bak"

	# a cut copy that kept its manifest
	cp "$PROJECT/full.bak.manifest" "$PROJECT/half.bak.manifest"
	df db restore "$PROJECT/half.bak" --yes --clean --json; expect_rc 1
	json_eq 'd["error"]["kind"]' io
	contains "$(json 'd["error"]["message"]')" "cut short"
	contains "$(json 'd["error"]["message"]')" "manifest"
	[ "$(items)" = 15000 ] || fail "a refused restore changed items: $(items)"

	# a cut file without its manifest
	rm "$PROJECT/half.bak.manifest"
	df db restore "$PROJECT/half.bak" --json
	case $ENGINE in
	sqlite)
		# the header's page count says how long the file is
		expect_rc 1; json_eq 'd["error"]["kind"]' io
		contains "$(json 'd["error"]["message"]')" "cut short" ;;
	postgres)
		# the archive vouches for itself (table of contents, one transaction):
		# the restore over data asks; answered, pg_restore fails, nothing changes
		expect_rc 3
		df db restore "$PROJECT/half.bak" --yes --clean --json; expect_rc 1 ;;
	mysql)
		# no end marker: cut inside a statement (refused), or a question
		[ "$rc" = 1 ] || [ "$rc" = 3 ] || fail "a cut dump without a manifest: exit $rc, not 1 or 3: $out"
		[ "$rc" = 1 ] && contains "$(json 'd["error"]["message"]')" "cut short"
		[ "$rc" = 3 ] && contains "$(json 'd["ask"]["why"]')" "nothing says the file is whole" ;;
	esac
	[ "$(items)" = 15000 ] || fail "a cut backup without a manifest changed items: $(items)"

	# cut in place, manifest gone: the audit log's receipt for that path
	rm "$PROJECT/full.bak.manifest"
	truncate -s $((size / 2)) "$PROJECT/full.bak"
	df db restore "$PROJECT/full.bak" --yes --clean --json; expect_rc 1
	json_eq 'd["error"]["kind"]' io
	contains "$(json 'd["error"]["message"]')" "receipt"
	[ "$(items)" = 15000 ] || fail "a backup cut in place changed items: $(items)"
	table_exists items || fail "a refused restore dropped items"
}

# PostgreSQL: a plain SQL dump (pg_dump's default, or one with \connect to
# another database) is not what a restore takes: refused before anything runs.
t_pg_plain_refused() {
	[ "$ENGINE" = postgres ] || skip_engine "plain SQL dumps are PostgreSQL's"
	setup_big
	"$PGBIN/pg_dump" --format=plain "$URL" >"$PROJECT/plain.sql"
	printf '\\connect postgres\nDROP TABLE IF EXISTS items;\n' >>"$PROJECT/plain.sql"
	q "DELETE FROM items WHERE id > 10" >/dev/null
	df db restore "$PROJECT/plain.sql" --yes --clean --json; expect_rc 2
	contains "$(json 'd["error"]["message"]')" "not a PostgreSQL backup"
	[ "$(items)" = 10 ] || fail "a refused plain dump changed items: $(items)"
}

# ---- questions a person answers -------------------------------------------

t_restore_over_data_asks() {
	setup_big
	df db backup -o "$PROJECT/b.bak"; expect_rc 0
	q "DELETE FROM items WHERE id > 5" >/dev/null
	df db restore "$PROJECT/b.bak" --clean --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	contains "$(json 'd["ask"]["why"]')" "items"
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db restore $PROJECT/b.bak --clean --yes"
	json_eq 'd["checked"]' manifest
	[ "$(items)" = 5 ] || fail "a restore that asked changed items"
	df db restore "$PROJECT/b.bak" --clean --yes --json; expect_rc 0
	[ "$(items)" = 20000 ] || fail "the answered restore did not bring items back: $(items)"
	# staging asks too (its own confirmation), production needs --confirm
	q "DELETE FROM items WHERE id > 5" >/dev/null
	df db restore "$PROJECT/b.bak" --env staging --clean --json </dev/null; expect_rc 3
	contains "$(json 'd["ask"]["why"]')" "items"
	[ "$(items)" = 5 ] || fail "a staging restore that asked changed items"
	# an empty target: nothing is replaced, a whole backup needs no question
	other_db
	df db restore "$PROJECT/b.bak" --url "$URL2" --json; expect_rc 0
	[ "$(q2 "SELECT count(*) FROM items")" = 20000 ] || fail "restore into an empty database"
}

t_unchecked_file_asks() {
	[ "$ENGINE" = mysql ] || skip_engine "a SQLite header and a pg_dump archive always say whether they are whole"
	setup_big
	my_dump --skip-comments "$DBNAME" >"$PROJECT/nomarker.sql"
	! grep -q "Dump completed" "$PROJECT/nomarker.sql" || fail "setup: the dump has an end marker"
	other_db
	df db restore "$PROJECT/nomarker.sql" --url "$URL2" --json; expect_rc 3
	json_eq 'd["checked"]' unchecked
	contains "$(json 'd["ask"]["why"]')" "nothing says the file is whole"
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db restore $PROJECT/nomarker.sql --url $URL2 --yes"
	[ -z "$(q2 "SHOW TABLES")" ] || fail "a restore that asked created tables"
	df db restore "$PROJECT/nomarker.sql" --url "$URL2" --yes --json; expect_rc 0
	[ "$(q2 "SELECT count(*) FROM items")" = 20000 ] || fail "the answered restore did not restore items"
}

# ---- -o PATH ----------------------------------------------------------------

t_output_exists() {
	setup_big
	printf 'earlier\n' >"$PROJECT/prev.bak"
	df db backup -o "$PROJECT/prev.bak" --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	contains "$(json 'd["error"]["hint"]')" "--force"
	[ "$(cat "$PROJECT/prev.bak")" = earlier ] || fail "-o replaced an existing file without --force"
	! ls "$PROJECT"/prev.bak.* >/dev/null 2>&1 || fail "a refused backup left files: $(ls "$PROJECT"/prev.bak.*)"
	local m=$(ls migrations/*.sql | head -n 1) before
	before=$(sha256sum "$m")
	df db backup -o "$m" --json; expect_rc 2
	[ "$(sha256sum "$m")" = "$before" ] || fail "-o replaced a migration file"
	if [ "$ENGINE" = sqlite ]; then
		df db backup -o "$PROJECT/test.db" --force --json; expect_rc 2
		contains "$(json 'd["error"]["message"]')" "the database being backed up"
		[ "$(items)" = 20000 ] || fail "the live database was hurt"
	fi
	df db backup --force --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	df db backup -o "$PROJECT/prev.bak" --force --json; expect_rc 0
	[ "$(cat "$PROJECT/prev.bak" | head -c 7)" != earlier ] || fail "--force did not replace the file"
	contains "$(cat "$PROJECT/prev.bak.manifest")" "$(sha256sum "$PROJECT/prev.bak" | cut -d' ' -f1)"
}

t_failed_verify_keeps_path() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite's page copy has no tool to tamper with (unit test core_backup covers it)"
	setup_big
	df db backup -o "$PROJECT/good.bak" --json; expect_rc 0
	local sha=$(sha256sum "$PROJECT/good.bak" | cut -d' ' -f1) w="$PROJECT/wrap"
	mkdir "$w"
	case $ENGINE in
	postgres)
		printf '#!/bin/sh\n[ "$1" = --version ] && exec %s/pg_dump --version\nexec %s/pg_dump "$@" --exclude-table-data=items\n' \
			"$PGBIN" "$PGBIN" >"$w/pg_dump" ;;
	mysql)
		printf '#!/bin/sh\nf=$1; shift\nexec /usr/bin/mariadb-dump "$f" --where=0 "$@"\n' >"$w/mariadb-dump" ;;
	esac
	chmod +x "$w"/*
	dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --verify --force -o "$PROJECT/good.bak" --json
	expect_rc 1
	[ "$(sha256sum "$PROJECT/good.bak" | cut -d' ' -f1)" = "$sha" ] || fail "a failed --verify replaced the earlier backup"
	[ "$(sha256sum "$PROJECT/good.bak.manifest" | cut -d' ' -f1)" != "" ] || fail "the earlier manifest is gone"
	contains "$(cat "$PROJECT/good.bak.manifest")" "$sha"
	[ -f "$PROJECT/good.bak.unverified" ] || fail "the unverified backup was not kept aside"
	contains "$(json 'd["error"]["hint"]')" "$PROJECT/good.bak.unverified"
}

# ---- the migration lock ---------------------------------------------------

# A migrate that holds the lock for a few seconds, in the background: $holder.
slow_migrate() {
	local sleeper
	case $ENGINE in
	sqlite) sleeper="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 12000000) SELECT count(*) FROM c;" ;;
	postgres) sleeper="SELECT pg_sleep(5);" ;;
	mysql) sleeper="SELECT SLEEP(5);" ;;
	esac
	mig 20240201000000 slow "$sleeper
CREATE TABLE after_slow (id INTEGER);" "DROP TABLE after_slow;"
	"$DEVFLOW" db migrate >"$TMP_ROOT/holder.out" 2>&1 &
	holder=$!
	local i
	for i in $(seq 1 50); do
		df db status --json
		[ "$(json 'd["lock"]["held"]' 2>/dev/null)" = true ] && return 0
		sleep 0.1
	done
	fail "the slow migrate never held the lock"
}

t_lock() {
	setup_big
	df db backup -o "$PROJECT/b.bak"; expect_rc 0
	slow_migrate
	df db backup -o "$PROJECT/locked.bak" --lock-timeout 1 --json; expect_rc 5
	json_eq 'd["error"]["kind"]' lock_timeout
	contains "$(json 'd["error"]["message"]')" "migration lock"
	[ ! -e "$PROJECT/locked.bak" ] || fail "a backup that did not get the lock wrote a file"
	df db restore "$PROJECT/b.bak" --yes --clean --lock-timeout 1 --json; expect_rc 5
	json_eq 'd["error"]["kind"]' lock_timeout
	kill -0 $holder 2>/dev/null || fail "the lock holder ended before the checks (make its statement slower)"
	# with time to wait, a backup waits for the migrate and holds its whole result
	df db backup -o "$PROJECT/waited.bak" --lock-timeout 60 --json; expect_rc 0
	wait $holder || fail "the slow migrate failed: $(cat "$TMP_ROOT/holder.out")"
	[ "$(q "SELECT op FROM _migrations_audit ORDER BY id DESC LIMIT 1")" = backup ] ||
		fail "the backup did not wait for the migrate: $(q "SELECT op FROM _migrations_audit ORDER BY id")"
	table_exists after_slow || fail "setup: the slow migrate did not finish"
	[ "$(items)" = 20000 ] || fail "the restore that did not get the lock changed items"
}

# The backup a migrate takes itself runs under the migrate's own lock
# (SQLite: a second lock from the same process would wait on itself).
t_migrate_backup_own_lock() {
	setup_big
	mig 20240301000000 more "CREATE TABLE more_items (id INTEGER);" "DROP TABLE more_items;"
	export TARGET_URL=$URL
	printf '[env "production"]\nurl = ${TARGET_URL}\npolicy = production\n' >devflow.conf
	df db migrate --env production --dry-run; expect_rc 0
	df db migrate --env production --confirm production --backup --lock-timeout 1 --json; expect_rc 0
	[ -f "$(json 'd["backup"]')" ] || fail "migrate --backup wrote no backup: $out"
	[ -f "$(json 'd["backup"]').manifest" ] || fail "migrate --backup wrote no manifest"
	table_exists more_items || fail "the migrate did not apply"
}

run_tests t_dump_names_other_db t_cut_backup t_pg_plain_refused t_restore_over_data_asks \
	t_unchecked_file_asks t_output_exists t_failed_verify_keeps_path t_lock t_migrate_backup_own_lock
