#!/bin/bash
# The gate matrix: policy x terminal or not x flags x receipt state.
# Every combination must apply exactly when the policy allows it: zero bypasses.
# Terminal runs go through a real pseudo-terminal (script(1)).
. "$(dirname "$0")/lib.sh"
PTY_RUN=$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py

# sets up a project whose staging/production envs point at SQLite files
gate_project() {
	new_project
	unset DATABASE_URL
	cat >devflow.conf <<'CONF'
[env "staging"]
url = sqlite:./stg.db
[env "production"]
url = sqlite:./prod.db
CONF
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
}

# make_receipt ENV STATE: none | ok | stale | other_set | other_db
make_receipt() {
	local env=$1 state=$2 db=$1
	[ "$env" = production ] && db=prod || db=stg
	case $state in
	none) "$DEVFLOW" db status --env "$env" >/dev/null ;;
	ok) "$DEVFLOW" db migrate --env "$env" --dry-run >/dev/null 2>&1 ;;
	stale)
		"$DEVFLOW" db migrate --env "$env" --dry-run >/dev/null 2>&1
		sqlite3 "$db.db" "UPDATE _migrations_audit SET receipt = substr(receipt, 1, instr(receipt, ';t=')) || 't=1000' WHERE op = 'dry-run'" ;;
	other_set)
		"$DEVFLOW" db migrate --env "$env" --dry-run >/dev/null 2>&1
		mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;" ;;
	other_db)
		# the receipt travels with a copy of the file: it names another database
		sqlite3 other.db "SELECT 1" >/dev/null
		DATABASE_URL=sqlite:./other.db "$DEVFLOW" db migrate --dry-run >/dev/null 2>&1
		cp other.db "$db.db" ;;
	esac
}

# expected ENV RECEIPT TTY ANSWER FLAGS -> 0 (applies) or 3 (refused)
expected() {
	local env=$1 receipt=$2 tty=$3 answer=$4 flags=$5
	[ "$receipt" = ok ] || { echo 3; return; }
	if [ "$env" = staging ]; then
		case " $flags " in *" --yes "*) echo 0; return ;; esac
		if [ "$tty" = 1 ] && { [ "$answer" = y ] || [ "$answer" = yes ]; }; then echo 0; else echo 3; fi
		return
	fi
	# on a terminal one typed 'yes' settles the confirmation and a backup
	# taken now; elsewhere both come as flags
	if [ "$tty" = 1 ] && [ "$answer" = yes ]; then echo 0; return; fi
	case " $flags " in *" --backup "*) ;; *) echo 3; return ;; esac
	case " $flags " in *" --confirm production "*) echo 0; return ;; esac
	echo 3
}

run_case() {
	local env=$1 receipt=$2 tty=$3 answer=$4 flags=$5 want got db
	gate_project
	make_receipt "$env" "$receipt"
	[ "$env" = production ] && db=prod.db || db=stg.db
	if [ "$tty" = 1 ]; then
		got=0
		python3 "$PTY_RUN" "$answer" "$DEVFLOW" db migrate --env "$env" $flags \
			>"$TMP_ROOT/tty.out" 2>&1 || got=$?
	else
		got=0
		"$DEVFLOW" db migrate --env "$env" $flags </dev/null >"$TMP_ROOT/tty.out" 2>&1 || got=$?
	fi
	want=$(expected "$env" "$receipt" "$tty" "$answer" "$flags")
	applied=0
	[ "$(sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'a'" 2>/dev/null)" = 1 ] && applied=1
	if [ "$got" != "$want" ] || { [ "$want" = 0 ] && [ $applied = 0 ]; } || { [ "$want" != 0 ] && [ $applied = 1 ]; }; then
		fail "env=$env receipt=$receipt tty=$tty answer=$answer flags='$flags': exit $got (want $want), applied=$applied: $(tail -c 400 "$TMP_ROOT/tty.out")"
	fi
	# production never applies without a backup of the database as it was
	if [ "$env" = production ] && [ $applied = 1 ] &&
	   [ "$(sqlite3 "$db" "SELECT count(*) FROM _migrations_audit WHERE op = 'backup' AND result = 'ok'")" -lt 1 ]; then
		fail "env=$env tty=$tty answer=$answer flags='$flags': applied to production with no backup recorded"
	fi
	cd "$TMP_ROOT"
	cases=$((cases + 1))
}

t_gate_matrix() {
	[ "$ENGINE" = sqlite ] || skip_engine "staging and production are SQLite files (t_gates_on_every_engine: every engine)"
	cases=0
	for env in staging production; do
		for receipt in none ok stale other_set other_db; do
			for flags in "" "--yes" "--confirm production" "--backup" "--backup --confirm production" "--yes --backup"; do
				run_case "$env" "$receipt" 0 "" "$flags"
				for answer in y yes no; do
					run_case "$env" "$receipt" 1 "$answer" "$flags"
				done
			done
		done
	done
	echo "    gate matrix: $cases combinations, no bypass"
}

t_refusal_names_the_missing_step() {
	[ "$ENGINE" = sqlite ] || skip_engine "SQLite env files"
	gate_project
	df db migrate --env production --json </dev/null; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	json_eq 'd["error"]["missing"]' '["dry_run", "backup", "confirmation"]'
	json_eq 'd["next"][0]' "devflow db migrate --env production --dry-run"
	df db migrate --env production --dry-run --json; expect_rc 0
	# what comes after the dry-run is a person's decision: an ask, not a next
	json_eq 'len(d["next"])' 0
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db migrate --env production --backup --confirm production"
	json_eq 'd["ask"]["options"][1]["then"]' null
	df db migrate --env production --yes --json </dev/null; expect_rc 3
	json_eq 'd["error"]["missing"]' '["backup", "confirmation"]'
	contains "$(json 'd["error"]["message"]')" "backup"
	df db migrate --env production --backup --json </dev/null; expect_rc 3
	json_eq 'd["error"]["missing"]' '["confirmation"]'
	contains "$(json 'd["error"]["hint"]')" "--confirm production"
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db migrate --env production --backup --confirm production"
	df db migrate --env production --backup --confirm production --json; expect_rc 0
	json_eq 'd["verified"]' true
	# the files themselves: the backup holds the database as it was before
	# (the history, not table a), the snapshots the schema before and after
	local b before after
	b=$(json 'd["backup"]'); before=$(json 'd["snapshots"]["before"]'); after=$(json 'd["snapshots"]["after"]')
	[ -f "$b" ] || fail "no backup file '$b'"
	[ "$(sqlite3 "$b" "SELECT count(*) FROM sqlite_master WHERE name IN ('_migrations', 'a')")" = 1 ] &&
		[ "$(sqlite3 "$b" "SELECT count(*) FROM sqlite_master WHERE name = '_migrations'")" = 1 ] ||
		fail "the backup does not hold the database as it was before the migration"
	[ -f "$before" ] || fail "no schema snapshot before: '$before'"
	[ -f "$after" ] || fail "no schema snapshot after: '$after'"
	grep -q "CREATE TABLE _migrations " "$before" || fail "the snapshot before holds no schema: $(head -c 300 "$before")"
	! grep -q "CREATE TABLE a " "$before" || fail "the snapshot before already has table a"
	grep -q "CREATE TABLE a " "$after" || fail "the snapshot after lacks table a: $(head -c 300 "$after")"
	df db history --env production --json; expect_rc 0
	contains "$out" '"op": "backup"'
	df db migrate --env staging --dry-run --json; expect_rc 0
	json_eq 'len(d["next"])' 0
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db migrate --env staging --yes"
	df db migrate --env staging --json </dev/null; expect_rc 3
	json_eq 'd["ask"]["options"][0]["then"]' "devflow db migrate --env staging --yes"
}

t_remote_host_under_local_policy() {
	[ "$ENGINE" = sqlite ] || skip_engine "no database reached: run on sqlite only"
	new_project
	df db migrate --url "postgres://app:canary-pw@db.example.com:5432/shop" --json; expect_rc 3
	json_eq 'd["error"]["kind"]' gate_refused
	lacks "$out$err" "canary-pw"
	contains "$err" "db.example.com"
	# before connecting: an unresolvable host is not even tried
	lacks "$err" "translate host"
}

t_rollback_and_restore_are_gated() {
	[ "$ENGINE" = sqlite ] || skip_engine "SQLite env files"
	gate_project
	"$DEVFLOW" db migrate --env production --dry-run >/dev/null 2>&1
	"$DEVFLOW" db migrate --env production --backup --confirm production >/dev/null 2>&1
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'a'")" = 1 ] || fail "setup: a not applied"
	df db rollback --env production </dev/null; expect_rc 3
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'a'")" = 1 ] || fail "rolled back without gates"
	df db rollback --env production --dry-run; expect_rc 0
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'a'")" = 1 ] || fail "the dry-run rolled back"
	# the DOWN drops table a: a high risk a person must accept as well
	df db rollback --env production --confirm production --backup; expect_rc 3
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'a'")" = 1 ] || fail "rolled back without --accept-risk"
	df db rollback --env production --confirm production --backup --accept-risk; expect_rc 0
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'a'")" = 0 ] || fail "not rolled back"
	df db backup --env production --json; expect_rc 0
	b=$(json 'd["path"]')
	# the database now differs from the backup, so a restore shows
	sqlite3 prod.db "CREATE TABLE after_backup (id INTEGER); INSERT INTO after_backup VALUES (7);"
	df db restore "$b" --env production </dev/null; expect_rc 3
	[ "$(sqlite3 prod.db "SELECT count(*) FROM after_backup" 2>&1)" = 1 ] || fail "a refused restore changed the database"
	df db restore "$b" --env production --confirm production; expect_rc 0
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = 'after_backup'")" = 0 ] ||
		fail "the restore did not bring the backup back"
	[ "$(sqlite3 prod.db "SELECT count(*) FROM sqlite_master WHERE name = '_migrations'")" = 1 ] ||
		fail "the restored database has no history"
}

# The same gates on every engine, staging and production walked through.
t_gates_on_every_engine() {
	new_project
	unset DATABASE_URL
	printf '[env "staging"]\nurl = %s\n[env "production"]\nurl = %s\n' "$URL" "$URL" >devflow.conf
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --env staging --json; expect_rc 0
	json_eq 'd["next"]' '["devflow db review --env staging", "devflow db migrate --env staging --dry-run"]'
	df db migrate --env staging --yes --json </dev/null; expect_rc 3
	json_eq 'd["next"][0]' "devflow db migrate --env staging --dry-run"
	table_exists a && fail "staging applied without a dry-run"
	df db migrate --env staging --dry-run --json; expect_rc 0
	df db migrate --env staging --json </dev/null; expect_rc 3
	df db migrate --env staging --yes --json; expect_rc 0
	table_exists a || fail "staging: not applied"
	# production on the same database: its own dry-run, a backup, the typed confirmation
	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate --env production --dry-run; expect_rc 0
	df db migrate --env production --yes </dev/null; expect_rc 3
	df db migrate --env production --confirm production </dev/null; expect_rc 3
	contains "$err" "backup"
	table_exists b && fail "production applied without a backup"
	df db migrate --env production --backup --confirm production --json; expect_rc 0
	table_exists b || fail "production: not applied"
	[ -f "$(json 'd["backup"]')" ] || fail "no backup file"
	df db status --env production --json; json_eq 'd["pending"]' 0
}

run_tests t_gate_matrix t_gates_on_every_engine t_refusal_names_the_missing_step t_remote_host_under_local_policy t_rollback_and_restore_are_gated
