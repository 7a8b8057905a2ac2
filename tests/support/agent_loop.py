#!/usr/bin/env python3
"""Drive devflow the way a coding agent does, through --json alone.

Usage: agent_loop.py DEVFLOW ANSWER MAX COMMAND...

Runs COMMAND (a devflow command line without the program name), then
follows the protocol of SPEC.md: where the result has an `ask`, it gives
ANSWER ("yes": the option answered "yes"; "no": the option whose `then` is
null) and runs that `then`; otherwise it runs `next[0]`; it stops when there
is neither, or when ANSWER is "no" and the question was answered.

Every result is checked as it comes: stdout is one JSON document, a result
with "ok": false carries error.kind/message/hint, every `next` entry and every
`then` is a devflow command (no prose), and no command repeats with the same
result (a loop).  More than MAX runs is a failure too.

Prints one JSON line: {"runs": N, "end": "...", "trace": [...]}; exits 1 with
the reason on stderr when a check fails."""
import json
import shlex
import subprocess
import sys

devflow, answer, max_runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmd = sys.argv[4:]
trace = []
seen = set()


def die(msg):
    sys.stderr.write("agent loop: %s\ntrace:\n%s\n" % (msg, "\n".join(
        "  %s -> exit %s%s" % (" ".join(t["cmd"]), t["rc"],
                               (" (" + t["error"] + ")") if t["error"] else "") for t in trace)))
    print(json.dumps({"runs": len(trace), "end": "broken", "trace": trace}))
    sys.exit(1)


def as_argv(line, what):
    if not isinstance(line, str) or not line.startswith("devflow "):
        die("%s is not a devflow command: %r" % (what, line))
    try:
        argv = shlex.split(line)[1:]
    except ValueError as e:
        die("%s does not parse as a shell command (%s): %r" % (what, e, line))
    if "--json" not in argv:
        argv.append("--json")
    return argv


end = "stopped"
while True:
    if len(trace) >= max_runs:
        die("more than %d runs: a loop, or a workflow longer than the seeds'" % max_runs)
    try:
        p = subprocess.run([devflow] + cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        die("'%s' did not finish in 120 s (a prompt?)" % " ".join(cmd))
    try:
        d = json.loads(p.stdout)
    except ValueError:
        trace.append({"cmd": cmd, "rc": p.returncode, "error": "stdout not JSON"})
        die("stdout of '%s' is not one JSON document: %r" % (" ".join(cmd), p.stdout[:300]))
    err = d.get("error") or {}
    trace.append({"cmd": cmd, "rc": p.returncode, "error": err.get("kind", "")})
    if d.get("ok") is not True:
        if p.returncode == 0:
            die("'ok' is not true but the exit status is 0")
        for k in ("kind", "message", "hint"):
            if k not in err:
                die("a failed result without error.%s: %s" % (k, p.stdout[:400]))
    elif p.returncode != 0:
        die("exit %d with ok: true" % p.returncode)
    nxt = d.get("next")
    if not isinstance(nxt, list):
        die("no 'next' list")
    for n in nxt:
        as_argv(n, "next entry")
    key = (tuple(cmd), p.returncode, err.get("kind"), err.get("message"))
    if key in seen:
        die("'%s' ran twice with the same result: a loop" % " ".join(cmd))
    seen.add(key)
    ask = d.get("ask")
    if ask is not None:
        opts = ask.get("options") or []
        if not ask.get("question") or not opts:
            die("an ask without question or options: %r" % ask)
        for o in opts:
            if o.get("then") is not None:
                as_argv(o["then"], "ask option")
        if nxt:
            die("both an ask and a next: %r" % nxt)
        if answer == "no":
            if not any(o.get("then") is None for o in opts):
                die("an ask with no way to say no: %r" % ask)
            end = "declined"
            break
        pick = [o for o in opts if o.get("answer") == "yes" and o.get("then")]
        if not pick:
            die("an ask with no 'yes' option: %r" % ask)
        cmd = as_argv(pick[0]["then"], "ask option")
        continue
    if not nxt:
        end = "done" if d.get("ok") else "failed"
        break
    cmd = as_argv(nxt[0], "next entry")

print(json.dumps({"runs": len(trace), "end": end, "trace": trace}))
