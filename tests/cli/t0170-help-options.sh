#!/bin/bash
# Help texts, usage lines and the man page against the option tables the
# parser uses (struct cli_opt in src/cli/, the global options in main.c):
# a flag the parser accepts and --help or the man page does not name fails.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)

# "COMMAND|FLAG" a line, from the sources: the tables the parser reads
accepted_flags() {
	python3 - "$SRC/src/cli" <<'PY'
import re, sys, os
d = sys.argv[1]
files = {"apply.c": None, "cmd_doctor.c": "doctor", "cmd_detect.c": "detect"}
for f in sorted(os.listdir(d)):
    if f.startswith("cmd_db_") and f.endswith(".c"):
        files[f] = "db " + f[7:-2]
for f, cmd in files.items():
    p = os.path.join(d, f)
    if not os.path.exists(p):
        continue
    for line in open(p):
        m = re.match(r'\s*\{\s*(rollback \? )?"(-[^"]*)"(\s*:\s*"(-[^"]*)")?\s*,\s*[01]\s*,', line)
        if not m:
            continue
        if f == "apply.c":
            if m.group(1):      # rollback ? "--a" : "--b"
                pairs = [("db rollback", m.group(2)), ("db migrate", m.group(4))]
            else:
                pairs = [("db migrate", m.group(2)), ("db rollback", m.group(2))]
        else:
            pairs = [(cmd, m.group(2))]
        for c, flag in pairs:
            if flag and flag != "--no-such-option":
                print(c + "|" + flag)
# the global options main.c takes out of argv
for m in re.finditer(r'strcmp\(name, "(-[^"]+)"\)', open(os.path.join(d, "main.c")).read()):
    print("global|" + m.group(1))
PY
}

t_tables_are_read() {
	# the extraction itself: a broken pattern must not pass by finding nothing
	local all n
	all=$(accepted_flags)
	n=$(printf '%s\n' "$all" | grep -c .)
	[ "$n" -ge 30 ] || fail "only $n flags found in the option tables"
	for want in "db migrate|--out-of-order" "db rollback|--steps" "db review|--format" \
		"db status|--exit-code" "global|--migrations-dir" "global|-u"; do
		printf '%s\n' "$all" | grep -qxF "$want" || fail "$want not found in the tables"
	done
	printf '%s\n' "$all" | grep -qxF "db migrate|--steps" && fail "--steps is rollback's only"
	# the parser really takes what the tables say (and nothing the test made up)
	df db migrate --no-such-flag; expect_rc 2
	df db status --exit-code --json; expect_rc 2 "no project here"
	json_eq 'd["error"]["kind"]' config
}

t_help_names_every_flag() {
	local cmd flag
	while IFS='|' read -r cmd flag; do
		if [ "$cmd" = global ]; then
			df --help; expect_rc 0
			contains "$out" "$flag"
			df help db status; contains "$out" "$flag"
		else
			df help $cmd; expect_rc 0 "help $cmd"
			contains "$out" "$flag"
			case $flag in --*) contains "$(echo "$out" | head -3)" "${flag%%=*}" ;; esac
		fi
	done < <(accepted_flags)
}

t_man_names_every_flag() {
	local man=$SRC/docs/devflow.1 cmd flag esc
	[ -f "$man" ] || fail "no man page"
	df --version; expect_rc 0   # the binary under test runs (a /bin/true run fails here)
	contains "$out" "devflow "
	while IFS='|' read -r cmd flag; do
		esc=$(printf '%s' "$flag" | sed 's/-/\\-/g')
		grep -qF -- "$esc" "$man" || fail "the man page does not name $flag ($cmd)"
	done < <(accepted_flags)
	# every command of the table, and the files devflow writes
	for c in status migrate rollback create review backup restore seed snapshot resolve history; do
		grep -q "^\.B db $c" "$man" || fail "the man page has no entry for db $c"
		df help db $c; expect_rc 0
	done
	for f in .devflow/rollback/ .devflow/backups/ .devflow/snapshots/; do
		grep -qF "$f" "$man" || fail "the man page does not name $f"
	done
}

ONLY_SQLITE_TESTS="t_tables_are_read t_help_names_every_flag t_man_names_every_flag"
run_tests t_tables_are_read t_help_names_every_flag t_man_names_every_flag
