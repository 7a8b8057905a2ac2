#!/bin/bash
# Files devflow writes, and the hooks it starts (issue 22, "Files"):
#  - a symbolic link planted at a temporary name devflow could have used
#    (the old <dest>.tmp-<pid>, .tmp.<pid>, .devflow/snapshots/.tmp-<pid>.sql,
#    the rollback plan's <UTC>-<env>.md) is never written through: the file
#    it points to stays as it was;
#  - a destination that is a link is refused (exit 1, kind io, a hint) unless
#    the user named it on the command line (db pull -o LINK writes to the
#    file the link points to, and keeps the link);
#  - a hook (after_migrate) holds no descriptor of the database (no socket,
#    no database file) and no credential variable, but keeps the rest of the
#    user's environment and DEVFLOW_ENV.
. "$(dirname "$0")/lib.sh"

VICTIM_TEXT="precious, must stay as it is"

env_project() {   # env_project POLICY [EXTRA CONFIG LINE...]
	new_project
	unset DATABASE_URL
	printf '[env "target"]\nurl = %s\npolicy = %s\n' "$URL" "$1" >devflow.conf
	shift
	for l in "$@"; do printf '%s\n' "$l" >>devflow.conf; done
	mig 20240101000000 users "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));" "DROP TABLE users;"
	echo "$VICTIM_TEXT" >"$PROJECT/victim"
}

victim_unchanged() {   # victim_unchanged WHAT
	[ "$(cat "$PROJECT/victim")" = "$VICTIM_TEXT" ] ||
		fail "$1 wrote through a planted link: victim now holds: $(head -c 300 "$PROJECT/victim")"
}

# plant PREFIX SUFFIX: links PREFIX<pid>SUFFIX -> $PROJECT/victim for the
# next 3000 process ids (the names the pid-based temporary files had)
plant() {
	python3 - "$1" "$2" "$PROJECT/victim" <<'EOF'
import os, sys
prefix, suffix, victim = sys.argv[1:4]
last = int(open("/proc/sys/kernel/ns_last_pid").read())
top = int(open("/proc/sys/kernel/pid_max").read())
for i in range(1, 3001):
    pid = last + i
    if pid >= top:
        pid = 300 + pid - top
    try:
        os.symlink(victim, "%s%d%s" % (prefix, pid, suffix))
    except FileExistsError:
        pass
EOF
}

# plant_stamps PREFIX SUFFIX: links PREFIX<UTC stamp>SUFFIX -> victim for the
# next 30 seconds (names built from the time)
plant_stamps() {
	python3 - "$1" "$2" "$PROJECT/victim" <<'EOF'
import os, sys, time
prefix, suffix, victim = sys.argv[1:4]
now = int(time.time())
for t in range(now - 1, now + 31):
    name = prefix + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t)) + suffix
    try:
        os.symlink(victim, name)
    except FileExistsError:
        pass
EOF
}

# no temporary file left beside PATH
no_leftover() {
	! ls -d "$1".tmp* >/dev/null 2>&1 || fail "temporary files left: $(ls -d "$1".tmp*)"
}

t_pull_planted_tmp() {
	env_project local
	df db migrate --env target; expect_rc 0
	plant "$PROJECT/schema.sql.tmp-" ""
	df db pull --env target; expect_rc 0
	victim_unchanged "db pull"
	[ -f schema.sql ] && [ ! -L schema.sql ] || fail "schema.sql is not a regular file"
	contains "$(cat schema.sql)" "users"
	# -o PATH too
	plant "$PROJECT/out.sql.tmp-" ""
	df db pull --env target -o out.sql; expect_rc 0
	victim_unchanged "db pull -o"
	contains "$(cat out.sql)" "users"
	[ "$(ls "$PROJECT" | grep -c '^schema.sql.tmp-[A-Za-z0-9]\{12\}$')" = 0 ] || fail "temporary file left"
}

t_pull_link_refused_unless_named() {
	env_project local
	df db migrate --env target; expect_rc 0
	ln -s "$PROJECT/victim" schema.sql
	df db pull --env target --json; expect_rc 1
	json_eq 'd["error"]["kind"]' io
	contains "$(json 'd["error"]["message"]')" "symbolic link"
	contains "$(json 'd["error"]["hint"]')" "-o"
	victim_unchanged "db pull onto a link in the config"
	[ -L schema.sql ] || fail "the link was replaced"
	# named on the command line: written to the file the link points to
	ln -s victim named.sql
	df db pull --env target -o named.sql; expect_rc 0
	[ -L named.sql ] || fail "the link named with -o was replaced by a file"
	contains "$(cat victim)" "users"
	lacks "$(cat victim)" "$VICTIM_TEXT"
	no_leftover "$PROJECT/victim"
}

t_snapshot_planted() {
	env_project local
	df db migrate --env target; expect_rc 0
	mkdir -p .devflow/snapshots
	plant "$PROJECT/.devflow/snapshots/.tmp-" ".sql"
	# the final names, for the next seconds: link() never replaces them
	plant_stamps "$PROJECT/.devflow/snapshots/" "-target-manual.sql"
	plant_stamps "$PROJECT/.devflow/snapshots/" "-target-manual.schema"
	df db snapshot --env target --json; expect_rc 0
	victim_unchanged "db snapshot"
	p=$(json 'd["path"]' 2>/dev/null || json 'd["snapshot"]')
	[ -n "$p" ] && [ -f "$p" ] && [ ! -L "$p" ] || fail "snapshot path '$p' is not a new regular file"
	contains "$(cat "$p")" "users"
}

t_rollback_plan_planted_and_unique() {
	env_project local
	mkdir -p .devflow/rollback
	plant_stamps "$PROJECT/.devflow/rollback/" "-target.md"
	df db migrate --env target --json; expect_rc 0
	victim_unchanged "the rollback plan"
	p1=$(json 'd["rollback_plan"]')
	[ -f "$p1" ] && [ ! -L "$p1" ] || fail "plan '$p1' is not a new regular file"
	contains "$(cat "$p1")" "DROP TABLE users;"
	# two runs in one second keep both plans
	rm -f .devflow/rollback/*
	mig 20240102000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db migrate --env target --json; expect_rc 0
	p2=$(json 'd["rollback_plan"]')
	mig 20240103000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate --env target --json; expect_rc 0
	p3=$(json 'd["rollback_plan"]')
	[ "$p2" != "$p3" ] || fail "two runs wrote the same plan '$p2'"
	contains "$(cat "$p2")" "DROP TABLE a;"
	contains "$(cat "$p3")" "DROP TABLE b;"
	# the same second, forced: the first run's name is taken by the time the second writes
	rm -f .devflow/rollback/*
	plant_stamps "$PROJECT/.devflow/rollback/" "-target.md"
	mig 20240104000000 c "CREATE TABLE c (id INTEGER);" "DROP TABLE c;"
	df db migrate --env target --json; expect_rc 0
	p4=$(json 'd["rollback_plan"]')
	# issue 23: the plan's name holds the run's id (<UTC>-<pid>_<letters>-target.md),
	# so a name planted beforehand is never the run's; a taken name still gets -2, -3
	case "$p4" in .devflow/rollback/*-[0-9]*_*-target.md|.devflow/rollback/*-target-[0-9]*.md) ;;
	*) fail "plan path '$p4'" ;; esac
	[ -f "$p4" ] && [ ! -L "$p4" ] || fail "plan '$p4' is not a new regular file"
	contains "$(cat "$p4")" "DROP TABLE c;"
	victim_unchanged "the rollback plan"
}

t_cache_planted() {
	env_project local
	mkdir -p .devflow
	plant "$PROJECT/.devflow/cache.tmp." ""
	df db status --env target; expect_rc 0
	victim_unchanged "the stat cache"
	[ -f .devflow/cache ] && [ ! -L .devflow/cache ] || fail "no stat cache written"
	# a cache that is a link is not written through (and status still works)
	rm -f .devflow/cache
	ln -s "$PROJECT/victim" .devflow/cache
	mig 20240102000000 more "CREATE TABLE more_t (id INTEGER);" "DROP TABLE more_t;"
	df db status --env target --json; expect_rc 0
	json_eq 'd["pending"]' 2
	victim_unchanged "the stat cache through a link"
}

t_drift_record_planted() {
	env_project local
	df db migrate --env target; expect_rc 0
	rec=$(ls .devflow/schema/*.schema 2>/dev/null | head -1)
	[ -n "$rec" ] || { fail "no schema record written"; return 1; }
	plant "$PROJECT/$rec.tmp." ""
	mig 20240102000000 more "CREATE TABLE more_t (id INTEGER);" "DROP TABLE more_t;"
	df db migrate --env target; expect_rc 0
	victim_unchanged "the schema record"
	[ -f "$rec" ] && [ ! -L "$rec" ] || fail "record is not a regular file"
	contains "$(cat "$rec")" "more_t"
	# the record itself a link: refused, a warning, the run still fine
	rm -f "$rec"
	ln -s "$PROJECT/victim" "$rec"
	mig 20240103000000 third "CREATE TABLE third_t (id INTEGER);" "DROP TABLE third_t;"
	df db migrate --env target; expect_rc 0
	contains "$err" "symbolic link"
	victim_unchanged "the schema record through a link"
	table_exists third_t || fail "not applied"
}

hook_conf() {    # the after_migrate line listing the hook's descriptors
	printf 'after_migrate = ls -l /proc/self/fd >%s/fds.txt; env >%s/env.txt; test "$DEVFLOW_ENV" = target' \
		"$PROJECT" "$PROJECT"
}

t_hook_no_db_descriptor() {
	env_project local
	hook_conf >>devflow.conf
	df db migrate --env target --json; expect_rc 0
	json_eq 'd["after_migrate"]' true
	[ -s fds.txt ] || { fail "the hook did not run"; return 1; }
	fds=$(cat fds.txt)
	lacks "$fds" "socket:"
	lacks "$fds" "test.db"
	lacks "$fds" ".db-"
	# beyond 0, 1, 2 and the folder ls reads, only what devflow itself
	# was given by this shell (the harness may pass some)
	base=$(ls -l /proc/self/fd | sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)/\1 \2/p')
	sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)/\1 \2/p' fds.txt >fd-lines
	while read -r n target; do
		[ "$n" -le 2 ] && continue
		case $target in /proc/*/fd) continue ;; esac
		case "$base" in
		*"$n $target"*) ;;
		*) fail "the hook inherited descriptor $n -> $target from devflow" ;;
		esac
	done <fd-lines
}

t_hook_environment() {
	env_project local
	export HOOK_DB_URL=$URL HOOK_TEST_KEEP=1 DB_PASSWORD=hunter2pw MYSQL_PWD=hunter2pw \
		PGPASSWORD=hunter2pw SQLALCHEMY_DATABASE_URI=postgres://u:hunter2pw@h/db
	# DATABASE_URL set too: the conf's url wins, the variable must still not reach the hook
	export DATABASE_URL=$URL
	printf '[env "target"]\nurl = ${HOOK_DB_URL}\npolicy = local\n%s\n' "$(hook_conf)" >devflow.conf
	df db migrate --env target --json; expect_rc 0
	json_eq 'd["after_migrate"]' true
	[ -s env.txt ] || { fail "the hook did not run"; return 1; }
	e=$(cat env.txt)
	contains "$e" "HOOK_TEST_KEEP=1"
	contains "$e" "DEVFLOW_ENV=target"
	contains "$e" "PATH="
	lacks "$e" "HOOK_DB_URL="
	lacks "$e" "DATABASE_URL="
	lacks "$e" "DB_PASSWORD="
	lacks "$e" "MYSQL_PWD="
	lacks "$e" "PGPASSWORD="
	lacks "$e" "hunter2pw"
}

t_hook_password_value() {
	[ "$ENGINE" = postgres ] || skip_engine "a URL with a password the test server accepts: PostgreSQL (trust)"
	env_project local
	pwurl=$(echo "$URL" | sed -E 's#://([^@/:]*)@#://\1:s3cr3tpw@#')
	export OTHER_HOLDER="prefix-s3cr3tpw-suffix" HOOK_TEST_KEEP=1
	printf '[env "target"]\nurl = %s\npolicy = local\n%s\n' "$pwurl" "$(hook_conf)" >devflow.conf
	df db migrate --env target; expect_rc 0
	[ -s env.txt ] || { fail "the hook did not run"; return 1; }
	lacks "$(cat env.txt)" "s3cr3tpw"
	contains "$(cat env.txt)" "HOOK_TEST_KEEP=1"
}

t_hook_failure_unchanged() {
	env_project local 'after_migrate = echo hook-says-hi; exit 3'
	df db migrate --env target --json; expect_rc 1
	json_eq 'd["after_migrate"]' false
	contains "$err" "after_migrate command failed (exit 3)"
	contains "$err" "hook-says-hi"
	lacks "$out" "hook-says-hi"
	table_exists users || fail "a failed hook must not roll back"
}

run_tests t_pull_planted_tmp t_pull_link_refused_unless_named t_snapshot_planted \
	t_rollback_plan_planted_and_unique t_cache_planted t_drift_record_planted \
	t_hook_no_db_descriptor t_hook_environment t_hook_password_value t_hook_failure_unchanged
