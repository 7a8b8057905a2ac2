#!/usr/bin/env python3
"""Run a command on a real pseudo-terminal, type ANSWER when it asks, and
exit with the command's status.  Usage: pty_run.py ANSWER CMD [ARG...]"""
import os
import pty
import select
import sys

answer = sys.argv[1].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
sent = False
out = b""
while True:
    r, _, _ = select.select([fd], [], [], 10)
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    # answer the first question (a line ending in '? [y/N] ', ': ' ...)
    if not sent and (out.rstrip().endswith(b"]") or out.endswith(b": ")):
        os.write(fd, answer)
        sent = True
sys.stdout.buffer.write(out)
# A second question nobody answers must not hang the test: end the run.
for _ in range(50):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    select.select([], [], [], 0.1)
else:
    os.kill(pid, 9)
    sys.stdout.buffer.write(b"\npty_run: still waiting after the answer; killed\n")
    _, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
