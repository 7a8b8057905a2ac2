#!/usr/bin/env bash
# The agent protocol (issue 24): a mistyped command's "did you mean" keeps
# every option and never applies a guess; help and --version speak JSON;
# `devflow help config`; a config file under another name is named; dry and
# read-only commands create no database file and no devflow table; detect -d.
. "$(dirname "$0")/lib.sh"

t_typo_keeps_options() {
	new_project
	df db rolback --env staging --steps 2 --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	json_eq 'd["error"]["hint"]' "devflow db rollback --env staging --steps 2 --json"
	json_eq 'd["next"]' '["devflow db rollback --env staging --steps 2 --json --dry-run"]'
	df db rolback --env staging --steps 2; expect_rc 2
	contains "$err" "did you mean 'devflow db rollback --env staging --steps 2'"
	contains "$err" "'devflow db rollback --env staging --steps 2 --dry-run'"
	# top level, -C, -d, --to, and a URL whose password stays hidden
	mkdir -p sub/mig
	df -C sub migrat -d mig --to 20240101000000 -u 'postgres://app:s3cret@127.0.0.1:1/x' --json; expect_rc 2
	lacks "$out$err" s3cret
	json_eq 'd["error"]["hint"]' "devflow -C sub db migrate -d mig --to 20240101000000 -u 'postgres://app:***@127.0.0.1:1/x' --json"
	json_eq 'd["next"][0]' "devflow -C sub db migrate -d mig --to 20240101000000 -u 'postgres://app:***@127.0.0.1:1/x' --json --dry-run"
	json_eq 'd["url_redacted"]' true
	df db sed --url='postgres://app:s3cret@127.0.0.1:1/x'; expect_rc 2
	lacks "$out$err" s3cret
	contains "$err" "did you mean 'devflow db seed --url='postgres://app:***@127.0.0.1:1/x''"
	# a writing command without --dry-run: the guess only in the hint
	df db resolv 20240101000000 --applied --env staging --json; expect_rc 2
	json_eq 'd["error"]["hint"]' "devflow db resolve 20240101000000 --applied --env staging --json"
	json_eq 'd["next"]' '["devflow db status --env staging --json"]'
	# a read-only command runs as guessed, with its options
	df stauts --env staging --json; expect_rc 2
	json_eq 'd["next"]' '["devflow db status --env staging --json"]'
	# db create keeps --env in its next
	printf '[env "staging"]\nurl = sqlite:./staging.db\n' >devflow.conf
	df db create add_users --env staging --json; expect_rc 0
	json_eq 'd["next"][0].startswith("devflow db review --env staging migrations/")' true
}

# no devflow table (and on SQLite no file) after the dry and read-only commands
no_devflow_trace() {
	case $ENGINE in
	sqlite) [ ! -e test.db ] || fail "$1 created the database file test.db" ;;
	*) ! table_exists _migrations || fail "$1 created the tracking table"
	   ! table_exists _migrations_audit || fail "$1 created the audit table" ;;
	esac
}

t_dry_run_creates_nothing() {
	new_project
	mig 20240101000000 a "CREATE TABLE a (id INTEGER);" "DROP TABLE a;"
	mkdir seeds; echo "SELECT 1;" >seeds/01_one.sql
	df db rollback --dry-run; expect_rc 0 "rollback --dry-run"; no_devflow_trace "db rollback --dry-run"
	df db rollback --dry-run --json; expect_rc 0; no_devflow_trace "db rollback --dry-run --json"
	df db migrate --dry-run --json; expect_rc 0 "migrate --dry-run"; no_devflow_trace "db migrate --dry-run"
	json_eq 'd["receipt_recorded"]' false
	json_eq 'any("receipt is not recorded" in w for w in d["warnings"])' true
	df db migrate --dry-run; expect_rc 0
	contains "$out$err" "the dry-run is not recorded"; lacks "$out$err" "the dry-run is recorded"
	no_devflow_trace "db migrate --dry-run (text)"
	[ "$ENGINE" = sqlite ] || ! table_exists a || fail "the dry-run kept table a"
	df db seed --dry-run; expect_rc 0 "seed --dry-run"; no_devflow_trace "db seed --dry-run"
	for c in "db status" "db history" "db review" "doctor"; do
		# shellcheck disable=SC2086
		df $c; no_devflow_trace "$c"
	done
	# staging asks for the receipt: recorded (the tables made for it), so
	# the migrate it suggests is not refused for a missing dry-run
	printf '[env "staging"]\nurl = %s\npolicy = staging\n' "$URL" >devflow.conf
	[ "$ENGINE" != sqlite ] || sed -i 's#sqlite:./test.db#sqlite:./stg.db#' devflow.conf
	df db migrate --dry-run --env staging --json; expect_rc 0 "staging dry-run"
	json_eq 'd["receipt_recorded"]' true
	df db migrate --env staging --yes --json; expect_rc 0 "staging migrate after its dry-run"
	json_eq 'd["applied"][0]["version"]' 20240101000000
	[ "$ENGINE" != sqlite ] || no_devflow_trace "the staging runs (on stg.db)"
	# an existing database with devflow's tables: the receipt is recorded
	E=
	case $ENGINE in
	sqlite) rm devflow.conf; df db migrate; expect_rc 0 "migrate" ;;
	*) E="--env staging" ;;
	esac
	[ "$ENGINE" != sqlite ] || [ -e stg.db ] || fail "no staging database"

	mig 20240102000000 b "CREATE TABLE b (id INTEGER);" "DROP TABLE b;"
	df db migrate --dry-run $E --json; expect_rc 0
	json_eq 'd["receipt_recorded"]' true
	df db history $E; contains "$out" "dry-ran 1 of 1 migration"
}

t_detect_honours_d() {
	new_project
	mkdir -p sql/mig
	printf -- '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n' >sql/mig/20240101000000_a.sql
	echo "CREATE TABLE b (id int);" >migrations/1_b.sql
	df detect -d sql/mig --json; expect_rc 0
	json_eq 'd["tool"]' dbmate
	json_eq 'd["signal"]' "sql/mig/20240101000000_a.sql has a '-- migrate:up' marker"
	json_eq 'd["next"]' '["devflow db status -d sql/mig"]'
	df detect --migrations-dir=sql/mig; expect_rc 0; contains "$out" "dbmate (sql/mig/"
	# a plain folder given by -d, not migrations/
	mkdir plain; echo "CREATE TABLE c (id int);" >plain/001_c.sql
	rm migrations/1_b.sql
	df detect -d plain --json; expect_rc 0
	json_eq 'd["tool"]' raw-sql
	json_eq 'd["signal"]' "plain/ holds .sql files and no ORM config"
	mkdir empty
	echo "CREATE TABLE b (id int);" >migrations/1_b.sql
	df detect -d empty --json; expect_rc 0
	json_eq 'd["tool"]' none
	df detect --json; expect_rc 0
	json_eq 'd["tool"]' raw-sql
}

t_help_and_version_json() {
	new_project
	df --version --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq 'd["version"] == "'"$("$DEVFLOW" --version | sed 's/^devflow //')"'"' true
	json_eq 'd["next"]' '[]'
	df help --json; expect_rc 0
	json_eq 'd["ok"]' true
	json_eq '[c["name"] for c in d["commands"] if c["name"] in ("doctor", "db migrate", "db rollback", "help")]' \
		'["doctor", "db migrate", "db rollback", "help"]'
	json_eq 'all(c["usage"] and c["summary"] for c in d["commands"])' true
	df help db rollback --json; expect_rc 0
	json_eq 'd["command"]["name"]' "db rollback"
	json_eq '"--steps N" in d["options"]' true
	df db migrate --help --json; expect_rc 0
	json_eq 'd["command"]["name"]' "db migrate"
	df help db migrat --json; expect_rc 2
	json_eq 'd["error"]["kind"]' usage
	json_eq 'd["next"]' '["devflow help db migrate"]'
}

t_help_config() {
	new_project
	df help config; expect_rc 0
	for k in migrations seeds schema table dev_url dry_run_max_age backup_max_age url policy \
		require_tls smoke after_migrate disable; do
		contains "$out" "  $k "
	done
	contains "$out" '[env "staging"]'
	df help config --json; expect_rc 0
	json_eq '[k["key"] for k in d["keys"] if k["section"] == "project"]' \
		'["migrations", "seeds", "schema", "table", "dev_url", "dry_run_max_age", "backup_max_age"]'
	json_eq '"[project]" in d["example"]' true
	# the example is a devflow.conf devflow reads
	df help config --json; printf '%s' "$(json 'd["example"]')" >devflow.conf
	STAGING_DATABASE_URL=sqlite:./stg.db PRODUCTION_DATABASE_URL=sqlite:./prod.db "$DEVFLOW" db status >/dev/null 2>"$TMP_ROOT/e" ||
		fail "the example of help config does not load: $(cat "$TMP_ROOT/e")"
	# every config error's hint names it, and it exists
	printf '[project]\nbogus = 1\n' >devflow.conf
	df db status --json; expect_rc 2
	json_eq 'd["error"]["kind"]' config
	json_eq '"devflow help config" in d["error"]["hint"]' true
	rm devflow.conf
	# a config under another name is named, never ignored in silence
	for f in devflow.toml .devflow.conf; do
		printf '[env "staging"]\nurl = "sqlite:./s.db"\n' >"$f"
		df db status --json; expect_rc 2 "$f"
		json_eq 'd["error"]["kind"]' config
		json_eq 'd["error"]["message"]' "found $f but no devflow.conf: devflow reads devflow.conf"
		json_eq '"devflow help config" in d["error"]["hint"]' true
		rm "$f"
	done
	df db status; expect_rc 0
}

ONLY_SQLITE_TESTS="t_typo_keeps_options t_detect_honours_d t_help_and_version_json t_help_config"
run_tests t_typo_keeps_options t_dry_run_creates_nothing t_detect_honours_d t_help_and_version_json \
	t_help_config
