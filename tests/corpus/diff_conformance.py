#!/usr/bin/env python3
"""Conformance of `devflow db diff` on the peers' schema-diff corpora.

For each case: load the current schema into one database and the desired one
into another, `devflow db diff --from A --to B`, apply the output to A, then
(1) diff again: it must be empty, and (2) the engine's own schema dumps of A
and B (pg_dump --schema-only, sqlite3 .schema, mariadb-dump --no-data) must
agree after normalisation (comments and SET lines out, statements and the
column lines of CREATE TABLE sorted, so column order and statement order do
not count).

Each case is counted twice as verified: by devflow itself (`db diff --json`
says `verified: true`: it applied its script to a throwaway copy and the
re-diff was empty) and by this runner (its own apply, re-diff and dump
comparison above).  A case passes when both hold.  The counts are printed,
and the cases where the two disagree are named: devflow saying verified
where the runner's check fails is a check that lies, the worst outcome.

Corpora, read from ../shared/corpus (never copied here):
  postgres: migra/<case>/{a,b}.sql and sqldef/psqldef/*.yml
  sqlite:   sqldef/sqlite3def/*.yml
  mysql:    tests/corpus/diff_mysql/*.yml (devflow's own cases; none shipped)

A case whose current or desired SQL the engine itself rejects is "not
loadable" and left out of the count (the engine does not support what it
uses).  The run fails when fewer than --min cases pass, so it cannot pass
by running nothing.  Exit 77 when the engine's server is not available and
DEVFLOW_REQUIRE_SERVERS is not 1.

  diff_conformance.py --engine postgres|sqlite|mysql --min N [--min-verified N]
                      [--only NAME] [--every N] [--report FILE] [-v]
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.parse

try:
    import yaml
except ImportError:  # python3-yaml is in scripts/install-deps.sh
    yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DF_SOURCE") or os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("DF_SHARED") or os.path.join(SOURCE, "..", "shared")
DEVFLOW = os.environ.get("DEVFLOW") or os.path.join(SOURCE, "build", "devflow")
SKIP = 77


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---- cases ---------------------------------------------------------------

def yaml_cases(folder, files=None):
    out = []
    if yaml is None:
        sys.exit("python3-yaml is missing (scripts/install-deps.sh installs it)")
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".yml") or (files and fn not in files):
            continue
        with open(os.path.join(folder, fn)) as f:
            doc = yaml.safe_load(f) or {}
        for name, case in doc.items():
            if not isinstance(case, dict):
                continue
            out.append({
                "name": "%s/%s" % (fn[:-4], name),
                "current": case.get("current") or "",
                "desired": case.get("desired") or "",
                "up": case.get("up"),
                "error": case.get("error"),
                "min_version": case.get("min_version"),
                "max_version": case.get("max_version"),
                "flavor": case.get("flavor"),
                "roles": case.get("managed_roles") or [],
            })
    return out


def migra_cases(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        d = os.path.join(folder, name)
        if not os.path.isdir(d):
            continue
        rd = lambda f: open(os.path.join(d, f)).read() if os.path.exists(os.path.join(d, f)) else ""
        out.append({"name": "migra/" + name, "current": rd("a.sql"), "desired": rd("b.sql"),
                    "up": rd("expected.sql"), "error": None, "min_version": None,
                    "max_version": None, "flavor": None,
                    # migra's suite makes this role before its fixtures run
                    "roles": ["schemainspect_test_role"]})
    return out


# ---- normalisation of schema dumps ------------------------------------------

def split_statements(text):
    """Statements of a dump, split on ; outside quotes and dollar quotes."""
    stmts, cur, i, n = [], [], 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            if text.startswith(quote, i):
                cur.append(quote)
                i += len(quote)
                quote = None
                continue
            cur.append(c)
            i += 1
            continue
        if c == "'" or c == '"':
            quote = c
        elif c == "$":
            m = re.match(r"\$[A-Za-z_0-9]*\$", text[i:])
            if m:
                quote = m.group(0)
                cur.append(quote)
                i += len(quote)
                continue
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == ";":
            stmts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    stmts.append("".join(cur))
    return stmts


def normalise(text):
    out = []
    # pg_dump's \restrict KEY lines (a new random key each run)
    text = "\n".join(l for l in text.splitlines() if not l.startswith("\\"))
    for s in split_statements(text):
        s = " ".join(s.split())
        if not s or s.startswith("SET ") or s.startswith("SELECT pg_catalog.set_config") \
                or s.startswith("/*!") or s.startswith("LOCK TABLES") or s.startswith("UNLOCK"):
            continue
        # sqlite3 .schema may say /* ... */ after a statement
        s = re.sub(r"/\*.*?\*/", "", s).strip()
        m = None
        if re.match(r"CREATE (?:UNLOGGED )?TABLE [^(]+\(", s):
            start = s.index("(")
            depth, end = 0, None
            for i in range(start, len(s)):
                depth += {"(": 1, ")": -1}.get(s[i], 0)
                if depth == 0:
                    end = i
                    break
            if end is not None:
                m = (s[:start], s[start + 1:end], s[end + 1:])
                m = type("M", (), {"group": lambda self, k, m=m: m[k - 1]})()
        if m:
            # column lines in any order (ADD COLUMN appends)
            depth, part, parts = 0, [], []
            for ch in m.group(2):
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                if ch == "," and depth == 0:
                    parts.append("".join(part).strip())
                    part = []
                else:
                    part.append(ch)
            parts.append("".join(part).strip())
            s = "%s(%s)%s" % (m.group(1), ", ".join(sorted(parts)), m.group(3))
        out.append(s)
    # AUTO_INCREMENT=N and the like are data, not schema
    out = [re.sub(r" AUTO_INCREMENT=\d+", "", s) for s in out]
    return sorted(out)


SQLITE_TOKEN = re.compile(r"""\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[A-Za-z_][A-Za-z_0-9$]*|\d+(?:\.\d*)?|\|\||<=|>=|<>|!=|==|.""", re.S)


def sqlite_tokens(text):
    """SQLite's SQL in one spelling: no comments, one space between tokens, words
    lower case, identifiers unquoted where they need no quotes (SQLite's names are
    case-insensitive; ALTER TABLE ... RENAME writes the new name quoted)."""
    out = []
    for m in SQLITE_TOKEN.finditer(text):
        t = m.group(0)
        if t.isspace() or t.startswith("--") or t.startswith("/*"):
            if t.count("\n") and out and out[-1] == ";":
                out.append("\n")
            continue
        if t[0] in '"`[':
            inner = t[1:-1]
            if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", inner):
                t = inner
        if t[0] != "'":
            t = t.lower()
        out.append(t)
    s = " ".join(out)
    s = re.sub(r" ?([(),.]) ?", r"\1", s)
    s = s.replace(" if not exists ", " ")
    return s.replace("\n ", "\n")


# ---- engines ---------------------------------------------------------------

class Engine:
    def __init__(self, tmp):
        self.tmp = tmp

    def close(self):
        pass


class Sqlite(Engine):
    name = "sqlite"

    def fresh(self, tag):
        path = os.path.join(self.tmp, tag + ".db")
        if os.path.exists(path):
            os.unlink(path)
        return path

    def url(self, db):
        return "sqlite:" + db

    def load(self, db, sql):
        con = sqlite3.connect(db)
        try:
            con.executescript(sql)
            con.commit()
            return None
        except sqlite3.Error as e:
            return str(e)
        finally:
            con.close()

    def apply(self, db, sql):
        return self.load(db, sql)

    def dump(self, db):
        r = run(["sqlite3", db, ".schema"])
        return sqlite_tokens(r.stdout)

    def drop(self, db):
        pass


class Server(Engine):
    """A database server: databases made and dropped through its client."""

    def __init__(self, tmp, url):
        super().__init__(tmp)
        self.base = url
        self.made = set()
        self.seq = 0

    def fresh(self, tag):
        self.seq += 1
        db = "dfconf_%d_%s_%d" % (os.getpid(), tag, self.seq)
        r = self.admin(self.create_sql % db)
        if r.returncode:
            raise RuntimeError(r.stderr)
        self.made.add(db)
        return db

    def url(self, db):
        u = urllib.parse.urlparse(self.base)
        return urllib.parse.urlunparse(u._replace(path="/" + db))

    def load(self, db, sql):
        r = self.client(db, sql)
        return r.stderr.strip() or None if r.returncode else None

    def apply(self, db, sql):
        return self.load(db, sql)

    def drop(self, db):
        self.admin(self.drop_sql % db)
        self.made.discard(db)

    def close(self):
        for db in list(self.made):
            self.drop(db)


class Postgres(Server):
    name = "postgres"
    create_sql = 'CREATE DATABASE "%s" TEMPLATE template0'
    drop_sql = 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'

    def __init__(self, tmp, url):
        super().__init__(tmp, url)
        u = urllib.parse.urlparse(url)
        self.env = dict(os.environ, PGHOST=u.hostname or "127.0.0.1", PGPORT=str(u.port or 5432),
                        PGUSER=u.username or "postgres", PGDATABASE=u.path.lstrip("/") or "postgres")
        if u.password:
            self.env["PGPASSWORD"] = urllib.parse.unquote(u.password)

    def admin(self, sql):
        return run(["psql", "-X", "-q", "-c", sql], env=self.env)

    def client(self, db, sql):
        return run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db], input=sql, env=self.env)

    def dump(self, db):
        r = run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-d", db], env=self.env)
        return r.stdout


class Mysql(Server):
    name = "mysql"
    create_sql = "CREATE DATABASE `%s`"
    drop_sql = "DROP DATABASE IF EXISTS `%s`"

    def __init__(self, tmp, url):
        super().__init__(tmp, url)
        u = urllib.parse.urlparse(url)
        self.args = ["--no-defaults", "-h", u.hostname or "127.0.0.1", "-P", str(u.port or 3306),
                     "-u", u.username or "root"]
        self.env = dict(os.environ)
        if u.password:
            self.env["MYSQL_PWD"] = urllib.parse.unquote(u.password)

    def admin(self, sql):
        return run(["mariadb"] + self.args + ["-e", sql], env=self.env)

    def client(self, db, sql):
        return run(["mariadb"] + self.args + [db], input=sql, env=self.env)

    def dump(self, db):
        r = run(["mariadb-dump"] + self.args + ["--no-data", "--skip-comments", "--routines",
                "--events", "--triggers", "--skip-dump-date", db], env=self.env)
        return r.stdout


# ---- one case -------------------------------------------------------------------

def diff(eng, a, b, cwd, *extra):
    r = run([DEVFLOW, "db", "diff", "--from", eng.url(a), "--to", eng.url(b)] + list(extra), cwd=cwd)
    return r


def squash(sql):
    """SQL without comments, quotes, case or white space, for the `up` comparison."""
    sql = re.sub(r"--[^\n]*", "", sql or "")
    sql = sql.replace('"', "").replace("`", "")
    sql = re.sub(r"\bpublic\.", "", sql)
    return " ".join(sql.lower().split())


def devflow_diff(eng, a, b, cwd):
    """`db diff --json`: (error or None, script, devflow's own verified)."""
    r = diff(eng, a, b, cwd, "--json")
    try:
        d = json.loads(r.stdout)
    except ValueError:
        return "diff exited %d: %s" % (r.returncode, r.stderr.strip()[:300]), None, False
    err = None
    if r.returncode:
        e = d.get("error") or {}
        err = "diff exited %d (%s): %s" % (r.returncode, e.get("kind"), (e.get("message") or "")[:300])
    return err, d.get("sql") or "", d.get("verified") is True


def run_case(eng, case, cwd):
    """Returns (status, reason, our_sql, devflow_verified, runner_verified):
    status pass, fail or unloadable.  devflow_verified: `db diff` said
    verified: true; runner_verified: applying the script, diffing again and
    comparing the dumps found nothing (checked also when devflow did not
    verify the script, so the two can be compared)."""
    a = eng.fresh("a")
    b = eng.fresh("b")
    try:
        err = eng.load(a, case["current"])
        if err:
            return "unloadable", "current: " + err.splitlines()[0], None, False, False
        err = eng.load(b, case["desired"])
        if err:
            return "unloadable", "desired: " + err.splitlines()[0], None, False, False
        derr, out, verified = devflow_diff(eng, a, b, cwd)
        if out is None:
            return "fail", derr, None, False, False
        reason = check(eng, a, b, cwd, out)
        if derr:
            return "fail", derr + ("; the runner's check: " + reason if reason else
                                   "; the runner's check passes"), out, verified, not reason
        return ("fail" if reason else "pass"), reason, out, verified, not reason
    finally:
        eng.drop(a)
        eng.drop(b)


def check(eng, a, b, cwd, out):
    """The runner's own check of `out`: "" when it holds, else why not."""
    if out.strip():
        err = eng.apply(a, out)
        if err:
            return "applying the diff: " + err.splitlines()[0][:300]
    r2 = diff(eng, a, b, cwd, "--no-verify")
    if r2.returncode:
        return "second diff exited %d: %s" % (r2.returncode, r2.stderr.strip()[:300])
    # what is left but comments (the objects not compared, named)
    left = [l for l in r2.stdout.splitlines() if l.strip() and not l.startswith("--")]
    if left:
        return "second diff not empty: " + " | ".join(left[:3])[:300]
    da, db_ = normalise(eng.dump(a)), normalise(eng.dump(b))
    if da != db_:
        only_a = [s for s in da if s not in db_][:2]
        only_b = [s for s in db_ if s not in da][:2]
        return "dumps differ: after apply %s; desired %s" % (
            " | ".join(only_a)[:200], " | ".join(only_b)[:200])
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True, choices=["postgres", "sqlite", "mysql"])
    ap.add_argument("--min", type=int, required=True, help="fail below this many passing cases")
    ap.add_argument("--min-verified", type=int, default=0,
                    help="fail below this many cases devflow itself says are verified")
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--every", type=int, default=1,
                    help="run every Nth case only (a fixed sample, for make check)")
    ap.add_argument("--report", help="write one line per case here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="devflow-diffconf.")
    cwd = os.path.join(tmp, "project")
    os.makedirs(os.path.join(cwd, "migrations"))
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
            cases = migra_cases(os.path.join(SHARED, "corpus", "migra")) + \
                yaml_cases(os.path.join(SHARED, "corpus", "sqldef", "psqldef"))
            # the roles the cases grant to or write policies for (the test
            # servers are throwaway ones)
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
        if args.every > 1:
            cases = cases[::args.every]
        counts = {"pass": 0, "fail": 0, "unloadable": 0}
        same_up = 0
        with_up = 0
        verified = {"devflow": 0, "runner": 0, "both": 0}
        lying, alarms = [], []      # devflow verified / the runner's check failed; the reverse
        lines = []
        for case in cases:
            dv = rv = False
            try:
                status, reason, out, dv, rv = run_case(eng, case, cwd)
            except Exception as e:  # a crash of the harness is a failure of the case
                status, reason, out = "fail", "harness: %s" % e, None
            counts[status] += 1
            verified["devflow"] += dv
            verified["runner"] += rv
            verified["both"] += dv and rv
            if dv and not rv:
                lying.append(case["name"])
            if rv and not dv and status != "unloadable":
                alarms.append(case["name"])
            if case["up"] is not None and status == "pass":
                with_up += 1
                if squash(out) == squash(case["up"]):
                    same_up += 1
            line = "%-10s %s%s" % (status, case["name"], (": " + reason) if reason else "")
            # the report says who verified it: d devflow, r the runner
            lines.append("%-10s %-2s %s%s" % (status, ("d" if dv else "") + ("r" if rv else ""),
                                              case["name"], (": " + reason) if reason else ""))
            if args.verbose or status == "fail":
                print(line.replace("\n", " "))
        eng.close()
        total = counts["pass"] + counts["fail"]
        summary = ("%s%s: %d of %d cases pass (%d not loadable by the engine); "
                   "of the passing cases with an expected `up`, %d of %d are the same SQL\n"
                   "%s verified: devflow's own check (verified: true) %d of %d, the runner's "
                   "apply and re-diff %d, both %d; devflow verified where the runner's check "
                   "fails: %d%s; the runner's check passes where devflow did not verify: %d%s"
                   % (args.engine, " (every %dth case)" % args.every if args.every > 1 else "",
                      counts["pass"], total, counts["unloadable"], same_up, with_up,
                      args.engine, verified["devflow"], total, verified["runner"],
                      verified["both"], len(lying), (" (" + ", ".join(lying[:5]) + ")") if lying else "",
                      len(alarms), (" (" + ", ".join(alarms[:5]) + ")") if alarms else ""))
        print(summary)
        if args.report:
            with open(args.report, "w") as f:
                f.write("\n".join(lines) + "\n" + summary + "\n")
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
