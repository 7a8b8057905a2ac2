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

step() {
	printf '\n\033[1m── %s\033[0m\n$ devflow %s\n' "$1" "$2"
}

step "1. Prerequisites" "doctor"
"$devflow" doctor

step "2. Where we stand" "db status"
"$devflow" db status

step "3. Risk review of what is pending" "db review"
"$devflow" db review || true

step "4. Dry-run: every pending migration in a transaction, rolled back" "db migrate --dry-run"
"$devflow" db migrate --dry-run

step "5. Apply (local policy: show, then proceed)" "db migrate"
"$devflow" db migrate

step "6. Verify" "db status --json"
"$devflow" db status --json | head -n 12
echo "  ..."

step "7. Roll back the last migration" "db rollback"
"$devflow" db rollback

step "8. The audit log" "db history"
"$devflow" db history

printf '\nThe demo ran in %s (removed on exit).\n' "$work"
