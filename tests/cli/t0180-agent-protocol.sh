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

ONLY_SQLITE_TESTS="t_typo_keeps_options"
run_tests t_typo_keeps_options
