#!/usr/bin/env python3
"""Conformance of `devflow db generate` (and `db pull`) on the schema-diff corpora.

For each case, in a project whose target is a fresh database:
  1. `current` is the applied history (one migration, `db migrate`);
  2. `desired` is the schema file: `db generate change --allow-drop` writes
     the migration (none when the two already agree);
  3. `db migrate` applies it: the engine's schema dump of the target must
     equal that of a database loaded with `desired` (normalised as
     diff_conformance.py does; devflow's own tables left out);
  4. `db pull` then `db generate` again: "no changes";
  5. `db rollback` runs the generated DOWN: the dump must equal that of a
     database loaded with `current`.

Each case is counted twice as verified: by devflow itself (`db generate
--json` says `verified: true`: it applied the UP and the DOWN to throwaway
copies and the re-diffs were empty) and by this runner (steps 3 to 5).  A
case passes when both hold.  When devflow does not verify a migration it
writes none; the runner then writes it with --force to check it all the
same, so the two can be compared.  The counts are printed, and the cases
where they disagree are named.

Corpora, read from ../shared/corpus (never copied here):
  postgres: sqldef/psqldef/*.yml, and migra/<case>/b.sql over an empty history
  sqlite:   sqldef/sqlite3def/*.yml
  mysql:    tests/corpus/diff_mysql/*.yml (devflow's own cases; none shipped)

A case whose current or desired SQL the engine itself rejects is "not
loadable" and left out of the count.  The run fails when fewer than --min
cases pass.  Exit 77 when the engine's server is not available and
DEVFLOW_REQUIRE_SERVERS is not 1.

  generate_conformance.py --engine postgres|sqlite|mysql --min N [--only NAME]
                          [--min-verified N] [--every N] [--start I] [--report FILE] [-v]
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diff_conformance import (DEVFLOW, HERE, SHARED, SKIP, Mysql, Postgres, Sqlite,  # noqa: E402
                              migra_cases, normalise, run, yaml_cases)


def dump(eng, db):
    """The normalised dump without devflow's tracking and audit tables."""
    d = eng.dump(db)
    if eng.name == "sqlite":
        return sorted(l for l in d.split("\n") if "_migrations" not in l and "sqlite_sequence" not in l)
    return [s for s in normalise(d) if "_migrations" not in s]


def devflow(cwd, url, *args):
    return run([DEVFLOW, "--url", url] + list(args), cwd=cwd, stdin=subprocess.DEVNULL)


def first_difference(got, want):
    only_got = [s for s in got if s not in want][:2]
    only_want = [s for s in want if s not in got][:2]
    return "has %s; wants %s" % (" | ".join(only_got)[:200], " | ".join(only_want)[:200])


def generate(proj, url, *extra):
    """`db generate change --json`: (result, error or None, devflow's own verified)."""
    r = devflow(proj, url, "db", "generate", "change", "--allow-drop", "--json", *extra)
    try:
        d = json.loads(r.stdout)
    except ValueError:
        d = {}
    err = None
    if r.returncode:
        e = d.get("error") or {}
        err = "generate exited %d (%s): %s" % (r.returncode, e.get("kind"),
                                               (e.get("message") or r.stderr.strip())[:300])
    return d, err, d.get("verified") is True or (not r.returncode and d.get("file") is None)


def run_case(eng, case, tmp):
    """Returns (status, reason, devflow_verified, runner_verified): status
    pass, fail or unloadable.  devflow_verified: `db generate` said verified
    (or that nothing changes); runner_verified: steps 3 to 5 found nothing."""
    status, reason, dv = run_steps(eng, case, tmp)
    if status == "unloadable":
        return status, reason, False, False
    if isinstance(dv, str):     # devflow did not verify: the runner's view
        rs, rr, _ = run_steps(eng, case, tmp, force=True)
        return "fail", "%s; the runner's check: %s" % (dv, rr or "passes"), False, rs == "pass"
    return status, reason, dv, status == "pass"


def run_steps(eng, case, tmp, force=False):
    """(status, reason, devflow's verdict): True, False, or why it did not
    verify (a string: then nothing else was checked)."""
    made = []
    proj = tempfile.mkdtemp(dir=tmp, prefix="p.")
    try:
        want, had, target = eng.fresh("w"), eng.fresh("h"), eng.fresh("t")
        made += [want, had, target]
        err = eng.load(want, case["desired"])
        if err:
            return "unloadable", "desired: " + err.splitlines()[0], False
        err = eng.load(had, case["current"])
        if err:
            return "unloadable", "current: " + err.splitlines()[0], False
        url = eng.url(target)
        os.makedirs(os.path.join(proj, "migrations"))
        if case["current"].strip():
            with open(os.path.join(proj, "migrations", "20000101000000_current.sql"), "w") as f:
                f.write("-- UP\n%s\n-- DOWN\n" % case["current"])
        with open(os.path.join(proj, "schema.sql"), "w") as f:
            f.write(case["desired"])
        dv = False
        r = devflow(proj, url, "db", "migrate")
        if r.returncode:
            return "fail", "migrating current: " + r.stderr.strip()[:300], dv
        d, err, dv = generate(proj, url, *(["--force"] if force else []))
        if err and (d.get("error") or {}).get("kind") == "unverified" and not force:
            return "fail", err, err
        if err:
            return "fail", err, dv
        # the migration, and on PostgreSQL maybe its online part (*_change_online.sql)
        written = glob.glob(os.path.join(proj, "migrations", "*_change*.sql"))
        if written:
            r = devflow(proj, url, "db", "migrate")
            if r.returncode:
                return "fail", "applying the UP: " + r.stderr.strip()[:300], dv
        got, wanted = dump(eng, target), dump(eng, want)
        if got != wanted:
            return "fail", "after the UP the dumps differ: " + first_difference(got, wanted), dv
        r = devflow(proj, url, "db", "pull", "-o", "pulled.sql")
        if r.returncode:
            return "fail", "pull exited %d: %s" % (r.returncode, r.stderr.strip()[:300]), dv
        with open(os.path.join(proj, "devflow.conf"), "w") as f:
            f.write("[project]\nschema = pulled.sql\n")
        r = devflow(proj, url, "db", "generate", "again", "--allow-drop")
        if r.returncode or "No changes" not in r.stdout + r.stderr:
            return "fail", "generate from the pulled schema: %s" % (r.stdout + r.stderr).strip()[:300], dv
        if written:
            r = devflow(proj, url, "db", "rollback", "--steps", str(len(written)))
            if r.returncode:
                return "fail", "applying the DOWN: " + r.stderr.strip()[:300], dv
            got, wanted = dump(eng, target), dump(eng, had)
            if got != wanted:
                return "fail", "after the DOWN the dumps differ: " + first_difference(got, wanted), dv
        return "pass", "", dv
    finally:
        for db in made:
            eng.drop(db)
        shutil.rmtree(proj, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True, choices=["postgres", "sqlite", "mysql"])
    ap.add_argument("--min", type=int, required=True, help="fail below this many passing cases")
    ap.add_argument("--min-verified", type=int, default=0,
                    help="fail below this many cases devflow itself says are verified")
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--every", type=int, default=1,
                    help="run every Nth case only (a fixed sample, for make check)")
    ap.add_argument("--start", type=int, default=0,
                    help="begin at this case (0-based, before --every): a long run in parts")
    ap.add_argument("--report", help="write one line per case here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="devflow-genconf.")
    require = os.environ.get("DEVFLOW_REQUIRE_SERVERS") == "1"
    try:
        if args.engine == "sqlite":
            eng = Sqlite(tmp)
            cases = yaml_cases(os.path.join(SHARED, "corpus", "sqldef", "sqlite3def"))
        elif args.engine == "postgres":
            url = os.environ.get("DEVFLOW_TEST_PG_URL")
            if not url:
                print("DEVFLOW_TEST_PG_URL is not set: no PostgreSQL server")
                return 1 if require else SKIP
            eng = Postgres(tmp, url)
            cases = yaml_cases(os.path.join(SHARED, "corpus", "sqldef", "psqldef"))
            # migra's b.sql schemas over an empty history
            for c in migra_cases(os.path.join(SHARED, "corpus", "migra")):
                c["current"] = ""
                cases.append(c)
            for role in sorted({r for c in cases for r in c["roles"]}):
                run(["psql", "-X", "-q", "-c", 'CREATE ROLE "%s"' % role], env=eng.env)
        else:
            url = os.environ.get("DEVFLOW_TEST_MYSQL_URL")
            if not url:
                print("DEVFLOW_TEST_MYSQL_URL is not set: no MariaDB server")
                return 1 if require else SKIP
            eng = Mysql(tmp, url)
            cases = yaml_cases(os.path.join(HERE, "diff_mysql"))
        if args.only:
            cases = [c for c in cases if args.only in c["name"]]
        cases = cases[args.start:]
        if args.every > 1:
            cases = cases[::args.every]
        counts = {"pass": 0, "fail": 0, "unloadable": 0}
        verified = {"devflow": 0, "runner": 0, "both": 0}
        lying, alarms = [], []      # devflow verified / the runner's check failed; the reverse
        # the report grows case by case: a long run that is stopped keeps what it did
        report = open(args.report, "w") if args.report else None
        for case in cases:
            dv = rv = False
            try:
                status, reason, dv, rv = run_case(eng, case, tmp)
            except Exception as e:  # a crash of the harness is a failure of the case
                status, reason = "fail", "harness: %s" % e
            counts[status] += 1
            verified["devflow"] += dv
            verified["runner"] += rv
            verified["both"] += dv and rv
            if dv and not rv:
                lying.append(case["name"])
            if rv and not dv:
                alarms.append(case["name"])
            line = "%-10s %s%s" % (status, case["name"], (": " + reason) if reason else "")
            if report:      # who verified it: d devflow, r the runner
                report.write("%-10s %-2s %s\n" % (status, ("d" if dv else "") + ("r" if rv else ""),
                                                  line[11:].replace("\n", " ")))
                report.flush()
            if args.verbose or status == "fail":
                print(line.replace("\n", " "), flush=True)
        eng.close()
        total = counts["pass"] + counts["fail"]
        summary = ("generate %s%s: %d of %d cases pass (%d not loadable by the engine)\n"
                   "generate %s verified: devflow's own check (verified: true) %d of %d, the "
                   "runner's migrate, pull and rollback %d, both %d; devflow verified where the "
                   "runner's check fails: %d%s; the runner's check passes where devflow did not "
                   "verify: %d%s"
                   % (args.engine, " (every %dth case)" % args.every if args.every > 1 else "",
                      counts["pass"], total, counts["unloadable"],
                      args.engine, verified["devflow"], total, verified["runner"],
                      verified["both"], len(lying), (" (" + ", ".join(lying[:5]) + ")") if lying else "",
                      len(alarms), (" (" + ", ".join(alarms[:5]) + ")") if alarms else ""))
        print(summary)
        if report:
            report.write(summary + "\n")
            report.close()
        if verified["devflow"] < args.min_verified:
            print("FAIL: %d cases devflow verified is below the floor of %d"
                  % (verified["devflow"], args.min_verified))
            return 1
        if counts["pass"] < args.min:
            print("FAIL: %d passing cases is below the floor of %d" % (counts["pass"], args.min))
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
