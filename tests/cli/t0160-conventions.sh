#!/bin/bash
# The conventions users bring from other tools (SPEC "Commands"): -u, -d,
# DEVFLOW_URL / DEVFLOW_ENV / DEVFLOW_MIGRATIONS_DIR, db up|down|new,
# status --exit-code, "did you mean", devflow help db.
. "$(dirname "$0")/lib.sh"

t_url_sources() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	unset DATABASE_URL
	df -u "$URL" db migrate --json; expect_rc 0 "-u"
	json_eq 'len(d["applied"])' 1
	table_exists a || fail "-u applied to the URL"
	df db status --json -u "$URL"; json_eq 'd["applied"]' 1
	# DEVFLOW_URL: as --url, from the environment
	DEVFLOW_URL=$URL df db status --json; expect_rc 0 "DEVFLOW_URL"
	json_eq 'd["applied"]' 1
	# a flag wins over the variable
	DEVFLOW_URL="sqlite:./other.db" df db status --json -u "$URL"; expect_rc 0
	json_eq 'd["applied"]' 1
	DEVFLOW_URL="postgres://nobody@127.0.0.1:1/none" df doctor --json
	contains "$out" "DEVFLOW_URL"
}

t_devflow_env() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	DEVFLOW_ENV=staging df db status --json; expect_rc 0
	json_eq 'd["env"]' staging
	# the flag wins
	DEVFLOW_ENV=staging df db status --json --env local; expect_rc 0
	json_eq 'd["env"]' local
	DEVFLOW_ENV=stagng df db status --json; expect_rc 2
	contains "$(json 'd["error"]["hint"]')" "staging"
}

t_migrations_dir() {
	new_project
	rmdir migrations
	mkdir -p sql/schema
	printf -- '-- UP\nCREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n' >sql/schema/20240101000000_a.sql
	df db status --json -d sql/schema; expect_rc 0 "-d"
	json_eq 'd["total"]' 1
	json_eq 'd["next"][0]' "devflow db review -d sql/schema"
	df --migrations-dir=sql/schema db migrate --json; expect_rc 0 "--migrations-dir"
	json_eq 'len(d["applied"])' 1
	DEVFLOW_MIGRATIONS_DIR=sql/schema df db status --json; expect_rc 0 "DEVFLOW_MIGRATIONS_DIR"
	json_eq 'd["applied"]' 1
	# the flag wins over the variable and over devflow.conf
	printf '[project]\nmigrations = nowhere\n' >devflow.conf
	DEVFLOW_MIGRATIONS_DIR=nowhere df db status --json -d sql/schema; expect_rc 0
	json_eq 'd["applied"]' 1
	df db status --json; expect_rc 2 "devflow.conf's folder does not exist"
	# relative to the folder devflow was started in
	mkdir -p sql/other; cd sql
	df db status --json -d schema; expect_rc 0 "relative to the start folder"
	json_eq 'd["total"]' 1
}

t_up_down_new() {
	new_project
	df db new create_a --json; expect_rc 0
	f=$(json 'd["file"]')
	printf -- '-- UP\nCREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n' >"$f"
	mig 20200101000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db up --json; expect_rc 0
	json_eq 'len(d["applied"])' 2
	table_exists a || fail "db up"
	df db down --json; expect_rc 0
	json_eq 'len(d["reverted"])' 1
	table_exists a && fail "db down reverts the newest one"
	table_exists b || fail "db down reverts one migration only"
	df help db up; expect_rc 0; contains "$out" "alias of \`db migrate\`"
}

t_status_exit_code() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	df db status --exit-code --json; expect_rc 1 "pending"
	json_eq 'd["ok"]' true
	df db status; expect_rc 0 "without --exit-code"
	df db migrate; expect_rc 0
	df db status --exit-code; expect_rc 0 "up to date"
	mig 20240101000000 a "CREATE TABLE a (id INTEGER, x INTEGER);" "DROP TABLE a;"
	df db status --exit-code --json; expect_rc 6 "an applied file was edited"
	df db status --json; expect_rc 0
}

t_did_you_mean() {
	new_project
	df db migrate --dryrun; expect_rc 2; contains "$err" "did you mean '--dry-run'"
	df db status --jsn; expect_rc 2; contains "$err" "did you mean '--json'"
	df db migrate --enviroment staging; expect_rc 2; contains "$err" "did you mean '--env'"
	df db migrate --frobnicate; expect_rc 2; lacks "$err" "did you mean"
	# before the command too, with the command line it would have been
	df --jsn db status; expect_rc 2; contains "$err" "unknown option '--jsn'"
	contains "$err" "did you mean 'devflow --json db status'"
	df --environment staging db status; expect_rc 2
	contains "$err" "did you mean 'devflow --env staging db status'"
	df --frobnicate db status; expect_rc 2; lacks "$err" "did you mean"
	df db status --no-such-flag; expect_rc 2
	contains "$err" "see 'devflow db status --help'"
	df up; expect_rc 2; contains "$err" "did you mean 'devflow db up'"
	df stauts --json; expect_rc 2
	json_eq 'd["error"]["hint"]' "devflow db status --json"
	df db migrat; expect_rc 2; contains "$err" "did you mean 'devflow db migrate'"
	df doctr; expect_rc 2; contains "$err" "did you mean 'devflow doctor'"
	df help db; expect_rc 0
	for c in status migrate rollback create review backup restore seed resolve history up down new; do
		contains "$out" "db $c"
	done
	df help db migrat; expect_rc 2; contains "$err" "devflow help db migrate"
}

ONLY_SQLITE_TESTS="t_did_you_mean t_migrations_dir t_up_down_new"
run_tests t_url_sources t_devflow_env t_migrations_dir t_up_down_new t_status_exit_code t_did_you_mean
