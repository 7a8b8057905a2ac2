#!/bin/bash
# Credential canary.  A password nobody else uses is put in every URL (and a
# wrong password, and the password of a user without privileges, are
# canaries too); every command and every error path we can provoke runs with
# it, as text and as --json.  No canary may appear in any stdout or stderr,
# in any file under the project (backups: their names only, not their data),
# in devflow's TMPDIR or HOME, in any tracking or audit row, in any
# process's argv while a slow migration, a backup, a verify and a restore
# run, nor in the argv or environment of a client tool devflow starts.
# Each of these checks first shows that it catches a planted canary.
#
# The test never puts a canary on a command line of its own (patterns are
# read from a file, SQL goes through stdin), except for the --url runs,
# which are not sampled.
. "$(dirname "$0")/lib.sh"

# Every spelling of a password (decoded, percent-encoded, JSON-escaped)
# holds its core, so the checks look for the cores.
CORE="cnry${RANDOM}${RANDOM}7f3e9a"
BAD_CORE="wrng${RANDOM}${RANDOM}7f3e9a"
NOPERM_CORE="nprm${RANDOM}${RANDOM}7f3e9a"
PW="${CORE}@:/q\"#&"                    # what the server knows
PWU="${CORE}%40%3A%2Fq%22%23%26"        # the same, in a URL
BADU="${BAD_CORE}%40x"                  # a wrong password
NOPERM="${NOPERM_CORE}!x"
NOPERMU="${NOPERM_CORE}%21x"
PATS=$TMP_ROOT/canaries
printf '%s\n' "$CORE" "$BAD_CORE" "$NOPERM_CORE" >"$PATS"
ROLES=$TMP_ROOT/roles                   # server accounts to drop at exit
DFTMP=$TMP_ROOT/dftmp                   # devflow's TMPDIR and HOME
DFHOME=$TMP_ROOT/dfhome
mkdir -p "$DFTMP" "$DFHOME"
export TMPDIR=$DFTMP HOME=$DFHOME

drop_roles() {
	[ -f "$ROLES" ] || return 0
	local kind name
	while read -r kind name; do
		case $kind in
		pg) psql -q "$DEVFLOW_TEST_PG_URL" -c "DROP ROLE IF EXISTS $name" >/dev/null 2>&1 ;;
		my) for h in % 127.0.0.1 localhost; do my_admin -e "DROP USER IF EXISTS '$name'@'$h'" >/dev/null 2>&1; done ;;
		esac
	done <"$ROLES"
}
trap 'cleanup_dbs; drop_roles; rm -rf "$TMP_ROOT"' EXIT

# has_canary FILE...: exit 0 (and the matching lines on stderr) when a file
# holds a canary.
has_canary() {
	grep -a -F -f "$PATS" -- "$@" >"$TMP_ROOT/hits" 2>/dev/null || return 1
	echo "    canary found: $(head -c 400 "$TMP_ROOT/hits")" >&2
	return 0
}

# dfc [--rc N[,N]] [--kind KIND] ARGS...: df, then neither stdout nor stderr
# may hold a canary; with --json stdout must be one JSON document.
dfc() {
	local want= kind= r
	while :; do
		case $1 in
		--rc) want=$2; shift 2 ;;
		--kind) kind=$2; shift 2 ;;
		*) break ;;
		esac
	done
	df "$@"
	echo x >>"$TMP_ROOT/count.$ENGINE"
	if has_canary "$TMP_ROOT/out" "$TMP_ROOT/err"; then
		fail "a canary in the output of: devflow $(printf '%s ' "$@" | sed -f "$TMP_ROOT/mask.sed")"
		return 1
	fi
	if [ -n "$want" ]; then
		r=0
		case ",$want," in *",$rc,"*) r=1 ;; esac
		[ $r = 1 ] || { expect_rc "$want" "devflow $(printf '%s ' "$@" | sed -f "$TMP_ROOT/mask.sed")"; return 1; }
	fi
	case " $* " in
	*" --json "*)
		json 'd["ok"]' >/dev/null || { fail "not one JSON document from devflow $1 $2"; return 1; } ;;
	esac
	if [ -n "$kind" ]; then
		json_eq 'd["error"]["kind"]' "$kind" || return 1
	fi
	return 0
}
# for messages: the cores masked
printf 's/%s/<CANARY>/g\ns/%s/<BAD-CANARY>/g\ns/%s/<NOPERM-CANARY>/g\n' \
	"$CORE" "$BAD_CORE" "$NOPERM_CORE" >"$TMP_ROOT/mask.sed"

# both: dfc ARGS (the exit status checked), then dfc ARGS --json (the exit
# status and the error kind checked)
both() {
	local rcs=() kind=()
	while :; do
		case $1 in
		--rc) rcs=(--rc "$2"); shift 2 ;;
		--kind) kind=(--kind "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	dfc "${rcs[@]}" "$@" || return 1
	dfc "${rcs[@]}" "${kind[@]}" "$@" --json
}

# q_in: like q, the SQL read from stdin (so it is on no command line).
q_in() {
	case $ENGINE in
	sqlite) sqlite3 -batch -noheader "$PROJECT/test.db" ;;
	postgres) psql -qAtX "$URL" ;;
	mysql)
		local hp=$(url_hostport "$URL")
		mariadb --no-defaults -h "${hp%:*}" -P "${hp#*:}" -uroot -N -B "$DBNAME" ;;
	esac
}

# scan_files: no canary in a file name under the project, TMPDIR or HOME,
# nor in the contents of any file there except the .env files the test wrote
# and the data of backups (their names are checked).
scan_files() {
	find "$PROJECT" "$DFTMP" "$DFHOME" >"$TMP_ROOT/names"
	if has_canary "$TMP_ROOT/names"; then
		fail "a canary in a file name"
		return 1
	fi
	find "$PROJECT" "$DFTMP" "$DFHOME" -type f ! -name '.env*' ! -path "$PROJECT/.devflow/backups/*" \
		! -path "$PROJECT/wrap/*" ! -path "$PROJECT/toollog/*" \
		-print0 >"$TMP_ROOT/files"
	if xargs -0 -r grep -a -l -F -f "$PATS" -- <"$TMP_ROOT/files" >"$TMP_ROOT/leaky"; then
		fail "a canary in: $(cat "$TMP_ROOT/leaky")"
		return 1
	fi
	return 0
}

# dump_rows FILE: every row of the tracking and audit tables into FILE.
dump_rows() {
	{
		q "SELECT * FROM _migrations_audit"
		q "SELECT * FROM _migrations"
	} >"$1" 2>&1
}

# scan_rows: no canary in a tracking or audit row; the audit log is not empty.
scan_rows() {
	dump_rows "$TMP_ROOT/rows"
	grep -q migrate "$TMP_ROOT/rows" || { fail "no audit rows to check: $(head -c 300 "$TMP_ROOT/rows")"; return 1; }
	if has_canary "$TMP_ROOT/rows"; then
		fail "a canary in a tracking or audit row"
		return 1
	fi
	return 0
}

# Process sampling: every process's argv (ps and /proc/*/cmdline), every
# 20 ms, into DIR until DIR/stop exists.
sampler_start() {
	SAMPLES=$1.$ENGINE
	mkdir -p "$SAMPLES"
	rm -f "$SAMPLES/stop"
	(
		end=$((SECONDS + 300))
		while [ ! -e "$SAMPLES/stop" ] && [ $SECONDS -lt $end ]; do
			ps -ww -eo pid,args >>"$SAMPLES/ps" 2>/dev/null
			cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' >>"$SAMPLES/cmdline"
			echo >>"$SAMPLES/cmdline"
			sleep 0.02
		done
	) &
	SAMPLER=$!
	trap sampler_stop EXIT
}

sampler_stop() {
	touch "$SAMPLES/stop"
	wait "$SAMPLER" 2>/dev/null || true
	trap - EXIT
}

# Client tools wrapped: each records its argv and environment, waits a
# moment (so the sampler sees it), then runs the real tool.
wrap_tools() {
	W=$PROJECT/wrap TOOLLOG=$PROJECT/toollog
	mkdir -p "$W" "$TOOLLOG"
	local t real
	for t in pg_dump pg_restore psql mariadb-dump mariadb mysqldump mysql; do
		case $t in
		pg_*|psql) real=$PGBIN/$t ;;
		*) real=$(command -v "$t" || true) ;;
		esac
		[ -x "$real" ] || continue
		cat >"$W/$t" <<-EOF
		#!/bin/bash
		[ "\$1" = --version ] && exec $real --version
		n=\$\$
		printf '%s\n' "\$@" >"$TOOLLOG/$t.\$n.argv"
		env >"$TOOLLOG/$t.\$n.env"
		sleep 0.7
		exec $real "\$@"
		EOF
		chmod +x "$W/$t"
	done
}

# dfw ARGS: dfc with the wrapped tools first on PATH.
dfw() {
	PATH="$W:$PATH" DEVFLOW_PG_LIBDIR="$W/none" dfc "$@"
}

# ---- a project whose URL holds the canary ------------------------------------

# canary_project: new_project, two migrations, server accounts with canary
# passwords; exports DATABASE_URL with the canary and sets CURL (the same),
# BADURL (wrong password), NPURL (no privileges), HP (host:port).
canary_project() {
	new_project
	mig 20240101000000 create_users "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL);" \
		"DROP TABLE users;"
	mig 20240102000000 create_orders "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
INSERT INTO orders (id, user_id) VALUES (1, 1);" "DROP TABLE orders;"
	local role="dfc_$$_$RANDOM" scheme
	case $ENGINE in
	sqlite)
		CURL=$URL BADURL= NPURL= HP=
		return 0 ;;
	postgres)
		scheme=postgres
		echo "pg $role" >>"$ROLES"
		echo "pg ${role}_np" >>"$ROLES"
		psql -q -v ON_ERROR_STOP=1 "$DEVFLOW_TEST_PG_URL" >/dev/null <<-EOF
		CREATE ROLE $role LOGIN CREATEDB PASSWORD '$PW';
		CREATE ROLE ${role}_np LOGIN PASSWORD '$NOPERM';
		ALTER DATABASE $DBNAME OWNER TO $role;
		CREATE DATABASE ${DBNAME}_nc;
		REVOKE CONNECT ON DATABASE ${DBNAME}_nc FROM PUBLIC;
		EOF
		created_db "pg:${DBNAME}_nc" ;;
	mysql)
		scheme=mysql
		echo "my $role" >>"$ROLES"
		echo "my ${role}_np" >>"$ROLES"
		{
			for h in % 127.0.0.1 localhost; do
				echo "CREATE USER '$role'@'$h' IDENTIFIED BY '$PW';"
				echo "GRANT ALL PRIVILEGES ON *.* TO '$role'@'$h';"
				echo "CREATE USER '${role}_np'@'$h' IDENTIFIED BY '$NOPERM';"
			done
		} | my_admin
		;;
	esac
	HP=$(url_hostport "$URL")
	CURL="$scheme://$role:$PWU@$HP/$DBNAME"
	BADURL="$scheme://$role:$BADU@$HP/$DBNAME"
	NPURL="$scheme://${role}_np:$NOPERMU@$HP/$DBNAME"
	NCURL="$scheme://${role}_np:$NOPERMU@$HP/${DBNAME}_nc"
	ROLE=$role
	export DATABASE_URL=$CURL
}

# ---- the checks catch what they look for -------------------------------------

t_checks_can_fail() {
	canary_project
	# output
	printf 'error: cannot log in with %s\n' "$PWU" >"$TMP_ROOT/planted.out"
	has_canary "$TMP_ROOT/planted.out" 2>/dev/null || fail "has_canary misses a canary in output"
	printf '{"message": "%s"}\n' "$(printf '%s' "$PW" | sed 's/"/\\"/g')" >"$TMP_ROOT/planted.json"
	has_canary "$TMP_ROOT/planted.json" 2>/dev/null || fail "has_canary misses a JSON-escaped canary"
	echo "error: cannot log in with ***" >"$TMP_ROOT/clean.out"
	! has_canary "$TMP_ROOT/clean.out" 2>/dev/null || fail "has_canary sees a canary in clean output"
	# dfc on a command that prints it
	local real=$DEVFLOW
	DEVFLOW=$TMP_ROOT/planted-devflow
	printf '#!/bin/sh\necho "cannot connect to postgres://u:%s@h/db" >&2\n' "$PWU" >"$DEVFLOW"
	chmod +x "$DEVFLOW"
	probe dfc db status || fail "dfc misses a canary on stderr"
	DEVFLOW=$real
	# files: a name and a content
	scan_files || fail "scan_files fails before anything was planted"
	mkdir -p "$PROJECT/x"
	echo "$PW" >"$PROJECT/x/plain.txt"
	probe scan_files || fail "scan_files misses a canary in a file"
	rm -f "$PROJECT/x/plain.txt"
	touch "$PROJECT/x/backup-$CORE.dump"
	probe scan_files || fail "scan_files misses a canary in a file name"
	rm -rf "$PROJECT/x"
	# rows
	dfc --rc 0 db migrate
	scan_rows || fail "scan_rows fails before anything was planted"
	echo "INSERT INTO _migrations_audit (op, env, target, result, summary) VALUES ('planted', 'local', 'x', 'ok', 'pw $CORE');" |
		q_in >/dev/null
	probe scan_rows || fail "scan_rows misses a canary in an audit row"
	q "DELETE FROM _migrations_audit WHERE op = 'planted'" >/dev/null
	# processes: a process with the canary in its argv
	sampler_start "$TMP_ROOT/planted-samples"
	bash -c 'sleep 0.5; true' "$CORE" &
	local p=$!
	wait $p
	sampler_stop
	has_canary "$SAMPLES/ps" 2>/dev/null || fail "the ps sampler misses a canary in an argv"
	has_canary "$SAMPLES/cmdline" 2>/dev/null || fail "the /proc sampler misses a canary in an argv"
	rm -rf "$SAMPLES"
}

# ---- every command, on a working target --------------------------------------

t_commands() {
	canary_project
	mkdir -p seeds
	printf "DELETE FROM users WHERE id = 100;\nINSERT INTO users (id, email) VALUES (100, 'seed@example.com');\n" >seeds/users.sql
	both --rc 0,1 doctor
	dfc --rc 0 -v doctor
	both --rc 0 detect
	both --rc 0 db status
	dfc --rc 0 -v db status
	both --rc 0 db review
	both --rc 0 db review migrations/20240101000000_create_users.sql
	both --rc 0 db migrate --dry-run
	dfc --rc 0 -v db migrate --to 20240101000000
	dfc --rc 0 --json db migrate
	both --rc 0 db seed
	both --rc 0 db history
	dfc --rc 0 -v db history --limit 0
	both --rc 0 db status
	both --rc 0 db rollback --dry-run
	dfc --rc 0 -v db rollback
	dfc --rc 0 --json db migrate
	dfc --rc 0 --json db rollback --steps 2
	dfc --rc 0 db migrate
	both --rc 0 db create add_status
	both --rc 0 db create revert_create_orders
	rm -f migrations/*_add_status.sql migrations/*_revert_create_orders.sql
	both --rc 0 db snapshot
	both --rc 0 db resolve 20240102000000 --applied
	# a backup with its name chosen by devflow, one with -o, verified ones
	both --rc 0 db backup
	dfc --rc 0 -v db backup --verify
	dfc --rc 0 --json db backup -o "$PROJECT/named.bak" --verify
	both --rc 0 db restore "$PROJECT/named.bak" --clean --yes
	# through devflow.conf and a .env file: staging, with its gates
	cat >devflow.conf <<-'EOF'
	[env "staging"]
	url = ${STAGING_DATABASE_URL}
	EOF
	printf 'STAGING_DATABASE_URL=%s\n' "$CURL" >.env.staging
	both --rc 0 db status --env staging
	dfc --rc 0 db rollback --env staging --steps 2 --yes --dry-run
	both --rc 0 doctor --env staging
	# through DB_* variables, the password as it is (not URL-encoded); the
	# process environment would come first
	if [ "$ENGINE" != sqlite ]; then
		unset DATABASE_URL
		{
			echo "DB_ENGINE=$ENGINE"
			echo "DB_HOST=${HP%:*}"
			echo "DB_PORT=${HP#*:}"
			echo "DB_NAME=$DBNAME"
			echo "DB_USER=$ROLE"
			printf "DB_PASSWORD='%s'\n" "$PW"
		} >.env.qa
		both --rc 0 db status --env qa
		dfc --rc 0 db history --env qa
	fi
	# what the scan reads: rollback plans, snapshots, backups (names)
	ls .devflow/rollback/* >/dev/null 2>&1 || fail "no rollback plan to scan"
	ls .devflow/snapshots/* >/dev/null 2>&1 || fail "no snapshot to scan"
	ls .devflow/backups/* >/dev/null 2>&1 || fail "no backup to scan"
	scan_files
	scan_rows
}

# ---- failures ------------------------------------------------------------------

t_failures() {
	canary_project
	# a SQL error, in text and JSON; then settle it
	mig 20240103000000 broken "CREATE TABLE broken_a (id INTEGER);
UPDATE nosuchtable SET x = 1;" "DROP TABLE broken_a;"
	dfc --rc 1 --kind sql_error --json db migrate --dry-run
	dfc --rc 1 db migrate
	dfc --rc 1,6 --json db migrate
	both --rc 0 db status
	dfc --rc 0,2 --json db resolve 20240103000000 --rolled-back
	q "DROP TABLE IF EXISTS broken_a" >/dev/null 2>&1 || true
	rm -f migrations/20240103000000_broken.sql
	dfc --rc 0,2 db resolve 20240103000000 --rolled-back
	dfc --rc 0 db migrate
	# irreversible rollback, a missing file, a bad version
	mig 20240104000000 no_down "CREATE TABLE nd (id INTEGER);"
	dfc --rc 0 db migrate
	both --rc 3 db rollback
	both --rc 0,2 db rollback --to 20990101000000
	both --rc 2 db resolve 20990101000000 --applied
	mv migrations/20240104000000_no_down.sql "$PROJECT/no_down.sql.away"
	both --rc 6 db migrate
	mv "$PROJECT/no_down.sql.away" migrations/20240104000000_no_down.sql
	# a lock held by a slow migration; its argv, and the lock timeout
	export DATABASE_URL=$CURL
	local sleeper
	case $ENGINE in
	sqlite) sleeper="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 30000000) SELECT count(*) FROM c;" ;;
	postgres) sleeper="SELECT pg_sleep(15);" ;;
	mysql) sleeper="SELECT SLEEP(15);" ;;
	esac
	mig 20240105000000 slow "$sleeper" "SELECT 1;"
	sampler_start "$TMP_ROOT/samples-lock"
	"$DEVFLOW" db migrate >"$TMP_ROOT/slow.out" 2>"$TMP_ROOT/slow.err" &
	local holder=$!
	sleep 0.7
	both --rc 0 db status
	dfc --rc 5 --kind lock_timeout --json db migrate --lock-timeout 1
	dfc --rc 5 db rollback --lock-timeout 1
	wait $holder || fail "the slow migration failed: $(cat "$TMP_ROOT/slow.err")"
	sampler_stop
	has_canary "$TMP_ROOT/slow.out" "$TMP_ROOT/slow.err" && fail "a canary in the slow migration's output"
	grep -q 'devflow db migrate' "$SAMPLES/ps" || fail "the sampler never saw the slow migration"
	if has_canary "$SAMPLES/ps" "$SAMPLES/cmdline"; then fail "a canary in a process's argv"; fi
	# gates: staging without a dry-run, production without anything
	# (after this the database is bound to staging: local runs are refused)
	unset DATABASE_URL
	printf 'DATABASE_URL=%s\n' "$CURL" >.env.staging
	printf 'DATABASE_URL=%s\n' "$CURL" >.env.production
	mig 20240106000000 more "CREATE TABLE more_t (id INTEGER);" "DROP TABLE more_t;"
	dfc --rc 3 --kind gate_refused --json db migrate --env staging --yes
	dfc --rc 3 db migrate --env staging --yes
	dfc --rc 3 --kind gate_refused --json db migrate --env production --yes
	dfc --rc 3 db migrate --env production
	dfc --rc 3 --json db rollback --env production
	dfc --rc 2,3 --json db restore "$PROJECT/none.bak" --env production
	dfc --rc 0 --json db migrate --env staging --dry-run
	dfc --rc 0 --json db migrate --env staging --yes
	# a restore of junk, a backup to a folder that does not exist
	echo "not a backup" >"$PROJECT/junk.bak"
	both --rc 1,2 db restore "$PROJECT/junk.bak"
	both --rc 1,2 db backup -o "$PROJECT/junk.bak/x.bak"
	both --rc 2 db restore "$PROJECT/nope.bak"
	scan_files
	scan_rows
}

# ---- connections that fail ---------------------------------------------------

t_unreachable() {
	canary_project
	local scheme=postgres other=mysql
	[ "$ENGINE" = mysql ] && scheme=mysql other=postgres
	# refused port, unknown host, for both server engines whatever ENGINE is
	for s in $scheme $other; do
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" both --rc 4 --kind connection_refused db status
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" dfc --rc 4 -v doctor
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" dfc --rc 4 --json db migrate
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" dfc --rc 4 --json db backup
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" dfc --rc 4 --json db history
		DATABASE_URL="$s://u:$PWU@no-such-host.invalid/db" both --rc 3,4 db migrate
		DATABASE_URL="$s://u:$PWU@no-such-host.invalid:5432/db" both --rc 4 --kind unknown_host db status
		DATABASE_URL="$s://u:$PWU@no-such-host.invalid/db" dfc --rc 3,4 --json db rollback --yes
		DATABASE_URL="$s://u:$PWU@no-such-host.invalid/db" dfc --rc 1,2,3,4 --json db restore "$PROJECT/x.bak" --yes
		echo junk >"$PROJECT/junk.bak"
		DATABASE_URL="$s://u:$PWU@127.0.0.1:1/db" dfc --rc 1,3,4 --json db restore "$PROJECT/junk.bak" --yes
	done
	# the same through --url (on the command line: not sampled)
	both --rc 4 db status --url "postgres://u:$PWU@127.0.0.1:1/db"
	both --rc 4 db history --url "mysql://u:$PWU@no-such-host.invalid/db"
	# URLs devflow cannot parse
	both --rc 2 db status --url "postgres://u:$PWU@localhost:99999/db"
	both --rc 2 db status --url "postgres://u:${PWU}%zz@localhost/db"
	both --rc 2 db status --url "libsql://u:$PWU@db.turso.io"
	both --rc 2 db status --url "postgres:u:$PWU@localhost/db"
	both --rc 2 db status --url "postgres://u:$PWU@[::1/db"
	# the URL from the .env files and devflow.conf (the process environment
	# would come first)
	unset DATABASE_URL
	printf 'DATABASE_URL=postgres://u:%s@127.0.0.1:1/db\n' "$PWU" >.env.production
	printf 'DB_HOST=no-such-host.invalid\nDB_USER=u\nDB_PASSWORD=%s\nDB_NAME=d\n' "$PW" >.env.qa
	printf '[env "staging"]\nurl = ${STAGING_URL}\n' >devflow.conf
	printf 'STAGING_URL="mysql://u:%s@127.0.0.1:1/db"\n' "$PWU" >.env.staging
	for e in production qa staging; do
		both --rc 4 db status --env $e
		dfc --rc 4 doctor --env $e
		dfc --rc 3,4 --json db migrate --env $e
		dfc --rc 3,4 --json db backup --env $e
	done
	printf '[env "staging"]\nurl = ${NOT_SET_ANYWHERE}\n' >devflow.conf
	both --rc 2 db status --env staging
	printf '[env "staging"]\nurl = postgres://u:%s@127.0.0.1:1/db\nbogus = 1\n' "$PWU" >devflow.conf
	both --rc 2 db status --env staging
	rm -f devflow.conf
	if [ "$ENGINE" != sqlite ]; then
		# authentication: the wrong password is a canary too
		DATABASE_URL=$BADURL both --rc 4 --kind auth_failed db status
		DATABASE_URL=$BADURL dfc --rc 4 --json db migrate
		DATABASE_URL=$BADURL dfc --rc 4 --json db backup --verify
		DATABASE_URL=$BADURL dfc --rc 4 doctor
		# no permission to connect (PostgreSQL: CONNECT revoked; MariaDB:
		# no grant on the database)
		local nc=$NCURL
		[ "$ENGINE" = mysql ] && nc=$NPURL
		DATABASE_URL=$nc both --rc 4 --kind permission_denied db status
		DATABASE_URL=$nc dfc --rc 4 --json db migrate
		# connected, but no privilege to create tables (PostgreSQL)
		if [ "$ENGINE" = postgres ]; then
			DATABASE_URL=$NPURL both --rc 1,4 db migrate
			DATABASE_URL=$NPURL dfc --rc 0,1,4 --json db backup
		fi
	fi
	scan_files
}

# ---- argv of devflow and its client tools while they run ---------------------

t_processes() {
	[ "$ENGINE" != sqlite ] || skip_engine "no password to look for"
	canary_project
	dfc --rc 0 db migrate
	wrap_tools
	sampler_start "$TMP_ROOT/samples-tools"
	dfw --rc 0 --json db backup -o "$PROJECT/p.bak" --verify
	dfw --rc 0 --json db restore "$PROJECT/p.bak" --clean --yes
	dfw --rc 0 --json db snapshot
	mig 20240107000000 later "CREATE TABLE later_t (id INTEGER);" "DROP TABLE later_t;"
	printf 'DATABASE_URL=%s\n' "$CURL" >.env.production
	dfw --rc 0 --json db migrate --env production --dry-run
	dfw --rc 0 --json db migrate --env production --confirm production --backup
	sampler_stop
	case $ENGINE in
	postgres) grep -q 'pg_dump' "$SAMPLES/ps" || fail "the sampler never saw pg_dump" ;;
	mysql) grep -q 'mariadb-dump\|mysqldump' "$SAMPLES/ps" || fail "the sampler never saw mariadb-dump" ;;
	esac
	grep -q "devflow .*db backup" "$SAMPLES/ps" || fail "the sampler never saw devflow db backup"
	if has_canary "$SAMPLES/ps" "$SAMPLES/cmdline"; then fail "a canary in a process's argv"; fi
	ls "$TOOLLOG"/*.argv >/dev/null 2>&1 || fail "no client tool ran"
	if has_canary "$TOOLLOG"/*.argv; then fail "a canary in a client tool's argv"; fi
	if has_canary "$TOOLLOG"/*.env; then fail "a canary in a client tool's environment"; fi
	# the check of the tools' logs can fail
	echo "PGPASSWORD=$PW" >"$TOOLLOG/planted.env"
	has_canary "$TOOLLOG/planted.env" 2>/dev/null || fail "has_canary misses a planted environment"
	rm -f "$TOOLLOG/planted.env"
	# no credentials file left behind in TMPDIR
	[ -z "$(find "$DFTMP" -mindepth 1 -print -quit)" ] || fail "files left in TMPDIR: $(find "$DFTMP" -mindepth 1 | head -5)"
	scan_files
	scan_rows
}

summary() {
	local e n
	for e in sqlite postgres mysql; do
		[ -f "$TMP_ROOT/count.$e" ] || continue
		n=$(wc -l <"$TMP_ROOT/count.$e")
		echo "# $e: $n devflow runs checked"
	done
}

run_tests t_checks_can_fail t_commands t_failures t_unreachable t_processes
status=$?
summary
exit $status
