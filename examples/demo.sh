#!/bin/sh
# Walks a copy of examples/shop through the seeds' workflow on SQLite:
# doctor -> status -> preview and dry-run -> migrate -> status -> rollback.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
devflow=${DEVFLOW:-$here/../build/devflow}
work=$(mktemp -d "${TMPDIR:-/tmp}/devflow-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/shop/." "$work/"
cd "$work"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold='\033[1m' off='\033[0m'; else bold= off=; fi
step() {
	printf "\n${bold}── %s${off}\n\$ devflow %s\n" "$1" "$2"
}

step "1. Prerequisites" "doctor"
"$devflow" doctor

step "2. Where we stand" "db status"
"$devflow" db status

step "3. Risk review of what is pending (exit 3: a high-risk finding)" "db review"
"$devflow" db review || echo "(db review exited $?: the rename breaks running code; the hint says how to do it safely)"

step "4. Dry-run: every pending migration in a transaction, rolled back" "db migrate --dry-run"
"$devflow" db migrate --dry-run

step "5. Apply (local policy: show, then proceed)" "db migrate"
"$devflow" db migrate

step "6. Verify (what an agent reads: one JSON document on stdout)" "db status --json"
"$devflow" db status --json 2>/dev/null | head -n 14
echo "  ..."

step "7. Roll back the last migration (the rename)" "db rollback"
"$devflow" db rollback

step "8. The audit log" "db history"
"$devflow" db history

printf '\nThe demo ran in %s (removed on exit).\n' "$work"
