#!/bin/bash
# db backup / db restore / db snapshot on every engine: verify, audit,
# restore gates, --clean, failure paths (disk full, client missing, server
# gone), and where the password may appear (nowhere).
. "$(dirname "$0")/lib.sh"

SERVERS=$(cd "$(dirname "$0")/../support" && pwd)/servers.sh
PW=secret-pw

# A project with two migrations, data, and the history applied.
setup_data() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	mig 20240102000000 seed_users "INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com'), (3, 'zz-row-data@example.com');" \
		"DELETE FROM users;"
	df db migrate; expect_rc 0
}

# pw_project: setup_data, then switch DATABASE_URL to devflow_pw / secret-pw.
pw_project() {
	setup_data
	local hp
	case $ENGINE in
	postgres)
		psql -q "$DEVFLOW_TEST_PG_URL" -c "ALTER DATABASE $DBNAME OWNER TO devflow_pw" >/dev/null
		q "REASSIGN OWNED BY postgres TO devflow_pw" >/dev/null 2>&1 || true
		q "ALTER TABLE users OWNER TO devflow_pw; ALTER TABLE _migrations OWNER TO devflow_pw; ALTER TABLE _migrations_audit OWNER TO devflow_pw; ALTER TABLE _migrations_meta OWNER TO devflow_pw" >/dev/null
		hp=$(url_hostport "$URL")
		export DATABASE_URL="postgres://devflow_pw:$PW@$hp/$DBNAME" ;;
	mysql)
		hp=$(url_hostport "$URL")
		export DATABASE_URL="mysql://devflow_pw:$PW@$hp/$DBNAME" ;;
	esac
}

drop_other_db() {
	case $ENGINE in
	postgres) psql -q "$DEVFLOW_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)" >/dev/null 2>&1 ;;
	mysql) my_admin -e "DROP DATABASE IF EXISTS $DB2" >/dev/null 2>&1 ;;
	esac
	return 0
}

# q2 SQL: a query on the second database.
q2() {
	case $ENGINE in
	sqlite) sqlite3 -batch -noheader "$PROJECT/other.db" "$1" ;;
	postgres) psql -qAtX "$URL2" -c "$1" ;;
	mysql)
		local hp=$(url_hostport "$URL2")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot -N -B "$DB2" -e "$1" ;;
	esac
}

# The throwaway verify databases on the server, one name a line.
verify_dbs() {
	case $ENGINE in
	sqlite) ;;
	postgres) psql -qAtX "$DEVFLOW_TEST_PG_URL" -c "SELECT datname FROM pg_database WHERE datname LIKE 'devflow_verify_%' ORDER BY 1" ;;
	mysql) my_admin -N -B -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'devflow\\_verify\\_%' ORDER BY 1" ;;
	esac
}

# verify_dbs_left BEFORE: fail unless every verify database that appeared
# since BEFORE (verify_dbs' output) is gone.  Other tests running at the same
# time make and drop their own for a moment, so one that shows up is looked
# at again for a few seconds before it counts as left behind.
verify_dbs_left() {
	local new tries=0
	while :; do
		new=$(verify_dbs | grep -vxF -f <(printf '%s\n' "$1") || true)
		[ -z "$new" ] && return 0
		[ $tries -ge 20 ] && { echo "$new"; return 1; }
		sleep 0.5
		tries=$((tries + 1))
	done
}

ext() {
	case $ENGINE in sqlite) echo sqlite3 ;; postgres) echo dump ;; mysql) echo sql ;; esac
}

# No file under `path`, nor a temporary one next to it.
# kept_unverified PATH: --verify failed on a backup to -o PATH; the backup
# is kept, 0600, said to be unverified, but never under PATH (which may hold
# an earlier good backup): at PATH.unverified, with its manifest.
kept_unverified() {
	[ ! -e "$1" ] || fail "the backup that failed --verify took the -o name '$1'"
	[ -f "$1.unverified" ] || fail "the backup that failed --verify was not kept at '$1.unverified'"
	[ "$(stat -c %a "$1.unverified" 2>/dev/null)" = 600 ] || fail "the kept backup is not 0600"
	[ -f "$1.unverified.manifest" ] || fail "the kept backup has no manifest"
	! ls "$1".tmp-* >/dev/null 2>&1 || fail "a failed backup left a temporary file: $(ls "$1".tmp-*)"
	json_eq 'd["path"]' "$1.unverified"
	json_eq 'd["verified"]' false
	contains "$(json 'd["error"]["hint"]')" "kept, unverified, at $1.unverified"
}

no_backup_file() {
	[ ! -e "$1" ] || fail "a failed backup left '$1'"
	! ls "$1".tmp-* >/dev/null 2>&1 || fail "a failed backup left a temporary file: $(ls "$1".tmp-*)"
}

# Incompressible data, well over 256 KB even in pg_dump's compressed format.
add_bulk() {
	q "CREATE TABLE bulk (id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	case $ENGINE in
	sqlite) q "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)
		INSERT INTO bulk SELECT i, hex(randomblob(400)) FROM s" ;;
	postgres) q "INSERT INTO bulk SELECT i, string_agg(md5(random()::text), '') FROM generate_series(1, 2000) i,
		generate_series(1, 12) j GROUP BY i" >/dev/null ;;
	mysql) q "SET SESSION max_recursive_iterations = 100000; INSERT INTO bulk WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)
		SELECT i, CONCAT(MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()),
		MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND())) FROM s" ;;
	esac
}

# ---- backup, verify, audit, restore into an empty database ----------------

t_backup_verify_audit() {
	setup_data
	local before=$(verify_dbs)
	df db backup --verify --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["verified"]' true
	local p=$(json 'd["path"]') sha=$(json 'd["sha256"]') size=$(json 'd["size"]')
	case $p in
	.devflow/backups/local-*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.$(ext)) ;;
	*) fail "unexpected backup path '$p'" ;;
	esac
	[ -f "$p" ] || fail "no backup at $p"
	[ "$(stat -c %a "$p")" = 600 ] || fail "backup mode is $(stat -c %a "$p"), not 600"
	[ "$(sha256sum "$p" | cut -d' ' -f1)" = "$sha" ] || fail "sha256 differs from the file's"
	[ "$(stat -c %s "$p")" = "$size" ] || fail "size differs from the file's"
	verify_dbs_left "$before" || fail "the throwaway verify database was not dropped"
	# verified independently, not by devflow's own "verified": true
	verify_really_restores "$p"
	# the audit row the production gate reads
	local r=$(q "SELECT receipt FROM _migrations_audit WHERE op = 'backup' AND result = 'ok'")
	contains "$r" "sha256=$sha"
	contains "$r" "path=$p"
	contains "$r" "verified=1"
	contains "$r" "size=$size"
	[ -n "$(q "SELECT server FROM _migrations_audit WHERE op = 'backup'")" ] || fail "no server identity in the audit row"
	df db history --json; expect_rc 0
	contains "$out" '"op": "backup"'
	# a second backup in the same second gets its own name
	df db backup --json; expect_rc 0
	[ "$(json 'd["path"]')" != "$p" ] || fail "second backup overwrote the first"
	[ -f "$p" ] || fail "first backup gone"

	# restore into an empty database: the data and the history come back
	other_db
	df db restore "$p" --url "$URL2" --json; expect_rc 0
	json_eq 'd["restored"]' "$p"
	[ "$(q2 "SELECT count(*) FROM users")" = 3 ] || fail "users not restored"
	[ "$(q2 "SELECT count(*) FROM _migrations WHERE state = 'applied'")" = 2 ] || fail "history not restored"
	df db status --url "$URL2" --json; expect_rc 0
	json_eq 'd["applied"]' 2; json_eq 'd["pending"]' 0
	json_eq 'd["migrations"][1]["checksum_ok"]' true
	[ "$(q2 "SELECT count(*) FROM _migrations_audit WHERE op = 'restore' AND result = 'ok'")" = 1 ] ||
		fail "no restore row in the restored database's audit log"
	drop_other_db
}

# restore_wrapper DIR MODE: the engine's restore client wrapped in DIR;
# MODE log: log its argv, then run the real one; MODE noop: read the input
# and do nothing.  Prints the variables for dfe.
restore_wrapper() {
	local w=$1 tool real
	mkdir -p "$w"
	case $ENGINE in
	postgres) tool=pg_restore real=$PGBIN/pg_restore; ln -sf "$PGBIN/pg_dump" "$w/pg_dump" ;;
	mysql) tool=mariadb real=$(command -v mariadb) ;;
	esac
	{
		echo '#!/bin/sh'
		echo "[ \"\$1\" = --version ] && exec $real --version"
		echo "printf '%s\\n' \"\$*\" >>'$w/argv'"
		case $2 in
		log) echo "exec $real \"\$@\"" ;;
		noop) echo 'cat >/dev/null; exit 0' ;;
		esac
	} >"$w/$tool"
	chmod +x "$w/$tool"
}

# verify_really_restores BACKUP: --verify restores into a throwaway
# database (seen by the restore client's argv), and a restore that does
# nothing makes it fail; on SQLite (restored in memory, in-process) the
# backup file itself must hold the data.
verify_really_restores() {
	if [ "$ENGINE" = sqlite ]; then
		[ "$(sqlite3 "$1" "PRAGMA integrity_check")" = ok ] || fail "the backup file is damaged"
		[ "$(sqlite3 "$1" "SELECT count(*) FROM users")" = 3 ] || fail "the backup file does not hold users' 3 rows"
		[ "$(sqlite3 "$1" "SELECT count(*) FROM _migrations")" = 2 ] || fail "the backup file does not hold the history"
		return 0
	fi
	local w="$PROJECT/vwrap"
	restore_wrapper "$w" log
	dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --verify -o "$PROJECT/v1.bak" --json
	expect_rc 0
	grep -q "devflow_verify_" "$w/argv" 2>/dev/null ||
		fail "--verify never ran the restore client into a devflow_verify_ database: $(cat "$w/argv" 2>&1)"
	rm -rf "$w"
	restore_wrapper "$w" noop
	dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --verify -o "$PROJECT/v2.bak" --json
	expect_rc 1
	json_eq 'd["error"]["kind"]' io
	contains "$out" "missing from the backup"
	kept_unverified "$PROJECT/v2.bak"
	rm -rf "$w"
}

# A backup that restores to different counts fails --verify; it is kept,
# reported unverified, and never recorded as a good backup.
t_verify_mismatch() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite's page copy has no tool to tamper with"
	setup_data
	local w="$PROJECT/wrap" before=$(verify_dbs)
	mkdir "$w"
	case $ENGINE in
	postgres)
		printf '#!/bin/sh\n[ "$1" = --version ] && exec %s/pg_dump --version\nexec %s/pg_dump "$@" --exclude-table-data=users\n' \
			"$PGBIN" "$PGBIN" >"$w/pg_dump" ;;
	mysql)
		# the options file must stay the first argument
		printf '#!/bin/sh\nf=$1; shift\nexec /usr/bin/mariadb-dump "$f" --where=0 "$@"\n' >"$w/mariadb-dump" ;;
	esac
	chmod +x "$w"/*
	dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --verify -o "$PROJECT/mm.bak" --json
	expect_rc 1
	json_eq 'd["error"]["kind"]' io
	contains "$out" "does not match"
	contains "$out" "users"
	kept_unverified "$PROJECT/mm.bak"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'ok'")" = 0 ] ||
		fail "the unverified backup was recorded as a good one"
	verify_dbs_left "$before" || fail "the throwaway verify database was not dropped after a mismatch"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'failed'")" = 1 ] ||
		fail "the failed backup is not in the audit log"
}

# ---- restore: --clean, gates ----------------------------------------------

t_restore_clean() {
	setup_data
	df db backup -o "$PROJECT/b.bak"; expect_rc 0
	q "INSERT INTO users (id, email) VALUES (4, 'd@example.com')" >/dev/null
	q "CREATE TABLE extra (id INTEGER)" >/dev/null
	# restoring over data is a person's decision, under every policy
	df db restore "$PROJECT/b.bak" --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db restore $PROJECT/b.bak --yes"
	[ "$(q "SELECT count(*) FROM users")" = 4 ] || fail "a restore that asked changed the data"
	df db restore "$PROJECT/b.bak" --yes
	case $ENGINE in
	postgres)
		# the objects exist: pg_restore stops, in one transaction: nothing changed
		expect_rc 1
		contains "$err" "already exists"
		contains "$err" "--clean"
		[ "$(q "SELECT count(*) FROM users")" = 4 ] || fail "a failed restore changed the data" ;;
	mysql)
		# the dump drops each table it creates
		expect_rc 0
		[ "$(q "SELECT count(*) FROM users")" = 3 ] || fail "users not restored" ;;
	sqlite)
		expect_rc 0
		[ "$(q "SELECT count(*) FROM users")" = 3 ] || fail "users not restored"
		table_exists extra && fail "SQLite restore kept a table the backup does not have" ;;
	esac
	q "INSERT INTO users (id, email) VALUES (5, 'e@example.com')" >/dev/null
	df db restore "$PROJECT/b.bak" --clean --yes --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM users")" = 3 ] || fail "--clean restore: users has $(q "SELECT count(*) FROM users") rows"
	[ "$(q "SELECT count(*) FROM _migrations")" = 2 ] || fail "history after restore"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'restore' AND result = 'ok'")" -ge 1 ] || fail "no restore audit row"
	df db status --json; json_eq 'd["applied"]' 2
	# a file that is no backup of this engine is refused with a message
	# that says so, and the database is left as it was
	printf 'not a backup\n' >"$PROJECT/junk.bak"
	df db restore "$PROJECT/junk.bak" --yes
	case $ENGINE in
	sqlite) expect_rc 2; contains "$err" "'$PROJECT/junk.bak' is not a SQLite backup" ;;
	postgres) expect_rc 2; contains "$err" "'$PROJECT/junk.bak' is not a PostgreSQL backup" ;;
	mysql)
		# a MariaDB backup is SQL text: the client rejects it, devflow says which
		expect_rc 1; contains "$err" "mariadb failed"; contains "$err" "near 'not a backup' at line 1" ;;
	esac
	[ "$(q "SELECT count(*) FROM users")" = 3 ] || fail "a junk restore changed the data"
}

# users: 3 rows in the backup; add_row makes the database differ from it,
# so whether a restore ran shows on the server.
users_rows() { q "SELECT count(*) FROM users"; }
add_row() { q "INSERT INTO users (id, email) VALUES ($1, 'new-$1@example.com')" >/dev/null; }

t_restore_gates() {
	setup_data
	df db backup -o "$PROJECT/b.bak"; expect_rc 0
	add_row 4
	export TARGET_URL=$URL
	cat >devflow.conf <<-'EOF'
	[env "staging"]
	url = ${TARGET_URL}
	policy = staging
	[env "production"]
	url = ${TARGET_URL}
	policy = production
	EOF
	df db restore "$PROJECT/b.bak" --env staging --clean --json </dev/null; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	[ "$(users_rows)" = 4 ] || fail "a refused staging restore changed the data"
	df db restore "$PROJECT/b.bak" --env staging --yes --clean; expect_rc 0
	[ "$(users_rows)" = 3 ] || fail "the staging restore did not bring the backup back: $(users_rows) rows"
	add_row 5
	df db restore "$PROJECT/b.bak" --env production --yes --clean --json </dev/null; expect_rc 3
	# restoring over production's data is a person's decision: an ask that keeps --clean
	json_eq 'len(d["next"])' 0
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db restore $PROJECT/b.bak --env production --clean --confirm production"
	[ "$(users_rows)" = 4 ] || fail "a refused production restore changed the data"
	df db restore "$PROJECT/b.bak" --env production --confirm production --clean; expect_rc 0
	[ "$(users_rows)" = 3 ] || fail "the production restore did not bring the backup back: $(users_rows) rows"
	df db restore "$PROJECT/nope.bak"; expect_rc 2
	contains "$err" "nope.bak"
	[ "$(users_rows)" = 3 ] || fail "a restore of a missing file changed the data"
}

# ---- snapshots --------------------------------------------------------------

t_snapshot() {
	setup_data
	df db snapshot --json; expect_rc 0
	local p=$(json 'd["path"]')
	case $p in
	.devflow/snapshots/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-local-manual.sql) ;;
	*) fail "unexpected snapshot path '$p'" ;;
	esac
	local m=$(json 'd["model"]')
	[ "$m" = "${p%.sql}.schema" ] || fail "the model is not beside the snapshot: '$m'"
	grep -q "^table .*users" "$m" || fail "users missing from the model: $(head -c 300 "$m")"
	grep -qi "CREATE TABLE" "$p" || fail "no CREATE TABLE in the snapshot"
	grep -q "users" "$p" || fail "users missing from the snapshot"
	! grep -q "zz-row-data" "$p" || fail "the snapshot holds data"
	! grep -q '^\\restrict' "$p" || fail "the snapshot has a random \\restrict key"
	df db snapshot --tag before-migrate --json; expect_rc 0
	local p2=$(json 'd["path"]')
	case $p2 in *-local-before-migrate.sql) ;; *) fail "tag not in '$p2'" ;; esac
	df db snapshot --json; expect_rc 0
	[ "$(json 'd["path"]')" != "$p" ] || fail "a second snapshot replaced the first"
	# the same schema gives the same text
	cmp -s "$p" "$(json 'd["path"]')" || fail "two snapshots of one schema differ: $(diff "$p" "$(json 'd["path"]')" | head -5)"
	df db snapshot; expect_rc 0
	contains "$out" "Schema snapshot written: .devflow/snapshots/"
	# the schema replays into an empty database
	if [ "$ENGINE" = sqlite ]; then
		sqlite3 "$PROJECT/replay.db" <"$p" || fail "the SQLite snapshot does not replay"
		[ "$(sqlite3 "$PROJECT/replay.db" "SELECT count(*) FROM sqlite_master WHERE name = 'users'")" = 1 ] ||
			fail "replayed schema lacks users"
	fi
}

# ---- failure paths -------------------------------------------------------

t_disk_full() {
	setup_data
	add_bulk
	local mnt="$PROJECT/full"
	mkdir "$mnt"
	mount -t tmpfs -o size=256k tmpfs "$mnt" || { fail "cannot mount a 256 KB tmpfs (needs root and CAP_SYS_ADMIN): the disk-full test cannot run"; return 1; }
	trap 'umount "$mnt" 2>/dev/null' EXIT
	df db backup -o "$mnt/b.bak" --json
	expect_rc 1
	json_eq 'd["error"]["kind"]' io
	case $out in
	*"No space left on device"* | *"disk is full"*) ;;
	*) fail "the error does not say the disk is full: $out" ;;
	esac
	contains "$out" "free space or use -o PATH elsewhere"
	no_backup_file "$mnt/b.bak"
	[ -z "$(ls -A "$mnt")" ] || fail "the full disk still holds: $(ls -A "$mnt")"
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'failed'")" = 1 ] ||
		fail "the failed backup is not in the audit log"
	umount "$mnt"
	trap - EXIT
	# the same backup elsewhere works
	df db backup -o "$PROJECT/ok.bak" --verify; expect_rc 0
}

t_client_missing() {
	[ "$ENGINE" != sqlite ] || skip_engine "SQLite needs no client tool"
	setup_data
	local empty="$PROJECT/empty" pkg
	mkdir "$empty"
	case $ENGINE in postgres) pkg=postgresql-client ;; mysql) pkg=mariadb-client ;; esac
	dfe PATH="$empty" DEVFLOW_PG_LIBDIR="$empty" "$DEVFLOW" doctor --json
	contains "$out" "$pkg"
	[ "$(json '[c["ok"] for c in d["checks"] if c["name"] == "tools"][0]')" = false ] || fail "doctor did not flag the missing tool"
	dfe PATH="$empty" DEVFLOW_PG_LIBDIR="$empty" "$DEVFLOW" db backup --json
	expect_rc 1
	contains "$out" "not found"
	contains "$out" "apt-get install $pkg"
	[ ! -e .devflow/backups ] || [ -z "$(ls -A .devflow/backups)" ] || fail "files left: $(ls -A .devflow/backups)"
	dfe PATH="$empty" DEVFLOW_PG_LIBDIR="$empty" "$DEVFLOW" db snapshot; expect_rc 1
	contains "$err" "$pkg"
	if [ "$ENGINE" = postgres ]; then
		# a pg_dump older than the server is refused, naming both versions
		local w="$PROJECT/old"
		mkdir "$w"
		printf '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.22 (Debian 12.22-1)"\n' >"$w/pg_dump"
		chmod +x "$w/pg_dump"
		dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$empty" "$DEVFLOW" db backup
		expect_rc 1
		contains "$err" "12.22"
		contains "$err" "older than the server, PostgreSQL $(q "SHOW server_version" | cut -d' ' -f1)"
		contains "$err" "postgresql-client-"
	fi
}

# Stop a server while its dump runs (a second, private server).
t_server_gone() {
	[ "$ENGINE" != sqlite ] || skip_engine "no server"
	local sd only url port pid i state
	holder=
	case $ENGINE in postgres) only=pg ;; mysql) only=mysql ;; esac
	# not under TMP_ROOT (0700): the server's own user must reach its folder
	sd=$(mktemp -d "${TMPDIR:-/tmp}/devflow-gone.XXXXXX")
	"$SERVERS" start "$sd" --only $only 2>"$TMP_ROOT/servers.err" ||
		{ fail "cannot start a private $ENGINE server: $(tail -5 "$TMP_ROOT/servers.err")"; return 1; }
	trap '"$SERVERS" stop "$sd" 2>/dev/null; kill $holder 2>/dev/null' EXIT
	new_project
	mig 20240101000000 create_big "CREATE TABLE big (id INTEGER PRIMARY KEY, v VARCHAR(100));" "DROP TABLE big;"
	case $ENGINE in
	postgres)
		port=$(. "$sd/env"; echo "$DEVFLOW_TEST_PG_PORT")
		psql -q "postgres://postgres@127.0.0.1:$port/postgres" -c "CREATE DATABASE gone" >/dev/null
		url="postgres://postgres@127.0.0.1:$port/gone"
		DATABASE_URL=$url df db migrate; expect_rc 0
		psql -q "$url" -c "INSERT INTO big SELECT i, md5(i::text) FROM generate_series(1, 1000) i" >/dev/null
		# hold a lock that makes pg_dump wait once it is connected
		psql -q "$url" -c "BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);" >/dev/null 2>&1 &
		holder=$! ;;
	mysql)
		port=$(. "$sd/env"; echo "$DEVFLOW_TEST_MYSQL_PORT")
		mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e "CREATE DATABASE gone"
		url="mysql://root@127.0.0.1:$port/gone"
		DATABASE_URL=$url df db migrate; expect_rc 0
		mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot gone -e \
			"INSERT INTO big WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000) SELECT i, MD5(i) FROM s"
		mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot gone -e "LOCK TABLES big WRITE; SELECT SLEEP(60);" >/dev/null 2>&1 &
		holder=$! ;;
	esac
	sleep 0.5
	DATABASE_URL=$url "$DEVFLOW" db backup -o "$PROJECT/gone.bak" >"$PROJECT/gone.out" 2>"$PROJECT/gone.err" &
	pid=$!
	# wait until the dump waits for the table
	for i in $(seq 1 200); do
		case $ENGINE in
		postgres) state=$(psql -qAtX "$url" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'" 2>/dev/null) ;;
		mysql) state=$(mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -N -B -e "SELECT count(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE '%metadata lock%' AND INFO LIKE 'SELECT%big%'" 2>/dev/null) ;;
		esac
		[ "$state" = 1 ] && break
		sleep 0.1
	done
	[ "$state" = 1 ] || fail "the dump never waited for the lock"
	"$SERVERS" stop "$sd"
	rc=0
	wait $pid || rc=$?
	out=$(cat "$PROJECT/gone.out"); err=$(cat "$PROJECT/gone.err")
	expect_rc 1 "server gone"
	contains "$err" "lost the connection to the server"
	no_backup_file "$PROJECT/gone.bak"
	kill $holder 2>/dev/null || true
	trap - EXIT
}

# The password in no argv, file name, output, or the tool's environment.
t_password_hidden() {
	[ "$ENGINE" != sqlite ] || skip_engine "no password, no client tool"
	pw_project
	local w="$PROJECT/wrap" log="$PROJECT/log" tool real i
	mkdir "$w" "$log"
	case $ENGINE in
	postgres) tool=pg_dump real=$PGBIN/pg_dump ;;
	mysql) tool=mariadb-dump real=/usr/bin/mariadb-dump ;;
	esac
	cat >"$w/$tool" <<-EOF
	#!/bin/bash
	[ "\$1" = --version ] && exec $real --version
	printf '%s\n' "\$@" >"$log/argv"
	env >"$log/env"
	if [ -n "\${PGPASSFILE:-}" ]; then echo "\$PGPASSFILE" >"$log/secret"; fi
	case \$1 in --defaults-extra-file=*) echo "\${1#--defaults-extra-file=}" >"$log/secret" ;; esac
	stat -L -c %a "\$(cat "$log/secret")" >"$log/mode"
	readlink -f "\$(cat "$log/secret")" >"$log/target"
	touch "$log/started"
	sleep 1
	exec $real "\$@"
	EOF
	chmod +x "$w/$tool"
	PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --verify >"$log/out" 2>"$log/err" &
	local pid=$!
	for i in $(seq 1 100); do [ -e "$log/started" ] && break; sleep 0.05; done
	[ -e "$log/started" ] || fail "the wrapper never ran"
	# every process's argv while the client runs
	# (a pattern that does not match grep's own argv)
	! grep -l -a -- "secret[-]pw" /proc/[0-9]*/cmdline 2>/dev/null || fail "the password is in a process's argv"
	wait $pid || fail "backup failed: $(cat "$log/err")"
	! grep -q -- "$PW" "$log/argv" || fail "the password is in the client's argv"
	! grep -q -- "$PW" "$log/env" || fail "the password is in the client's environment"
	[ "$(cat "$log/mode")" = 600 ] || fail "the credentials file has mode $(cat "$log/mode")"
	case $(cat "$log/secret") in
	/dev/fd/*)
		# a memfd: on no file system, gone with the processes
		case $(cat "$log/target") in /memfd:*) ;; *) fail "fd 3 is not a memfd: $(cat "$log/target")" ;; esac ;;
	*)
		[ ! -e "$(cat "$log/secret")" ] || fail "the credentials file was not removed"
		[ ! -e "$(dirname "$(cat "$log/secret")")" ] || fail "the credentials folder was not removed" ;;
	esac
	! grep -q -- "$PW" "$log/out" "$log/err" || fail "the password is in devflow's output"
	! find "$PROJECT" /tmp -name "*$PW*" 2>/dev/null | grep -q . || fail "the password is in a file name"
	! grep -rqa -- "$PW" "$PROJECT/.devflow" || fail "the password is in a backup or snapshot"
	df db backup --json; expect_rc 0
	lacks "$out$err" "$PW"
	df db restore "$(json 'd["path"]')" --clean --yes --json; expect_rc 0
	lacks "$out$err" "$PW"
	df db snapshot --json; expect_rc 0
	lacks "$out$err" "$PW"
	# a failing client's message is scrubbed too
	printf '#!/bin/sh\necho "error: connection for %s failed" >&2\nexit 1\n' "$PW" >"$w/$tool"
	dfe PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" "$DEVFLOW" db backup --json
	expect_rc 1
	lacks "$out$err" "$PW"
}

# Progress on a terminal (bytes and rate), none with --json.
t_progress() {
	[ "$ENGINE" != sqlite ] || skip_engine "a small SQLite backup is done before the first report"
	setup_data
	local w="$PROJECT/slow" tool real
	mkdir "$w"
	case $ENGINE in
	postgres) tool=pg_dump real=$PGBIN/pg_dump ;;
	mysql) tool=mariadb-dump real=/usr/bin/mariadb-dump ;;
	esac
	# the dump arrives in two parts, 0.6 s apart
	cat >"$w/$tool" <<-EOF
	#!/bin/bash
	[ "\$1" = --version ] && exec $real --version
	$real "\$@" | { dd bs=1000 count=1 status=none; sleep 0.6; cat; }
	EOF
	chmod +x "$w/$tool"
	command -v script >/dev/null || { fail "script(1) is missing (bsdutils)"; return 1; }
	PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" script -qec "'$DEVFLOW' db backup -o '$PROJECT/p1.bak' --verify" /dev/null >"$PROJECT/tty.out" 2>&1 ||
		fail "backup on a terminal failed: $(cat "$PROJECT/tty.out")"
	grep -q "MB written, .* MB/s" "$PROJECT/tty.out" || fail "no progress on a terminal: $(cat -v "$PROJECT/tty.out" | head -5)"
	PATH="$w:$PATH" DEVFLOW_PG_LIBDIR="$w/none" script -qec "'$DEVFLOW' db backup -o '$PROJECT/p2.bak' --json" /dev/null >"$PROJECT/tty.json" 2>&1 ||
		fail "backup --json on a terminal failed"
	! grep -q "MB written" "$PROJECT/tty.json" || fail "progress printed with --json"
	grep -q '"verified": false' "$PROJECT/tty.json" || fail "no JSON document: $(head -c 300 "$PROJECT/tty.json")"
}

# db migrate --backup on production records a backup the gate accepts.
t_migrate_backup() {
	setup_data
	mig 20240103000000 add_col "ALTER TABLE users ADD COLUMN name VARCHAR(50);" "ALTER TABLE users DROP COLUMN name;"
	export TARGET_URL=$URL
	printf '[env "production"]\nurl = ${TARGET_URL}\npolicy = production\n' >devflow.conf
	df db migrate --env production --dry-run; expect_rc 0
	df db migrate --env production --confirm production --backup --json; expect_rc 0
	[ "$(q "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'ok' AND env = 'production'")" = 1 ] ||
		fail "no backup recorded by migrate --backup"
	ls .devflow/backups/production-*."$(ext)" >/dev/null || fail "no backup file"
}

run_tests t_backup_verify_audit t_verify_mismatch t_restore_clean t_restore_gates t_snapshot \
	t_disk_full t_client_missing t_server_gone t_password_hidden t_progress t_migrate_backup
