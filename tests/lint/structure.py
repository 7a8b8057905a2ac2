#!/usr/bin/env python3
"""
The shape of src/ (DESIGN.md "The shape"), checked on every build:

- calls run downward only: util < sql < drivers < review < schema < core <
  tools < fleet < cli (read from the objects' symbols, so a call through a
  header declared anywhere still counts);
- no circle of calls spans a file of core/ or schema/ (review's dispatcher
  may keep its own);
- under src/core, src/schema and src/drivers: no signal handling, no
  setenv, nothing printed to stdout or stderr, no `devflow db` command text
  (the front end owns signals, the terminal and the words of a command).

usage: structure.py SRC_DIR OBJECT_DIR   (OBJECT_DIR: CMakeFiles/devflow_lib.dir)
"""
import collections
import os
import re
import subprocess
import sys

RANK = {'util': 0, 'sql': 1, 'drivers': 2, 'review': 3, 'schema': 4,
        'core': 5, 'tools': 6, 'fleet': 7, 'cli': 8}
QUIET = ('core', 'schema', 'drivers')
BANNED = [
    (re.compile(r'\bsigaction\s*\(|\bsignal\s*\('), 'signal handling (the CLI owns signals)'),
    (re.compile(r'\b(setenv|unsetenv|putenv)\s*\('), 'changes the process environment'),
    (re.compile(r'\b(printf|vprintf|puts|putchar|perror)\s*\('), 'prints'),
    (re.compile(r'\b(fprintf|vfprintf|fputs|fputc|fwrite|putc)\s*\((.|\n)*?\bstd(out|err)\b\s*\)'),
     'prints to stdout or stderr'),
]
LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def strip_comments(text):
    # keep string literals whole (a "/*" inside one is not a comment)
    out, pos = [], 0
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|/\*.*?\*/|//[^\n]*', text, re.S):
        out.append(text[pos:m.start()])
        tok = m.group(0)
        out.append(tok if tok[0] in '"\'' else '\n' * tok.count('\n'))
        pos = m.end()
    out.append(text[pos:])
    return ''.join(out)


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


def grep_rules(src):
    bad = []
    for layer in QUIET:
        top = os.path.join(src, layer)
        for root, _, files in os.walk(top):
            for f in sorted(files):
                if not f.endswith(('.c', '.h')):
                    continue
                path = os.path.join(root, f)
                rel = os.path.relpath(path, src)
                text = strip_comments(open(path, encoding='utf-8', errors='replace').read())
                code = LITERAL.sub('""', text)
                for rx, why in BANNED:
                    for m in rx.finditer(code):
                        bad.append(f'src/{rel}:{line_of(code, m.start())}: {why}: {m.group(0).strip()[:40]}')
                for m in LITERAL.finditer(text):
                    if 'devflow db' in m.group(0):
                        bad.append(f'src/{rel}:{line_of(text, m.start())}: command text for people: {m.group(0)[:60]}')
    return bad


def call_graph(objdir):
    defs, uses = {}, collections.defaultdict(set)
    for root, _, files in os.walk(objdir):
        for f in files:
            if not f.endswith('.c.o'):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, objdir)[:-2]
            if 'src/' not in rel:
                continue
            src = rel.split('src/', 1)[1]
            out = subprocess.run(['nm', path], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in 'TDBRVW':
                    defs[parts[2]] = src
                elif len(parts) == 2 and parts[0] == 'U':
                    uses[src].add(parts[1])
    edges = collections.defaultdict(dict)
    for src, syms in uses.items():
        for s in sorted(syms):
            d = defs.get(s)
            if d and d != src:
                edges[src].setdefault(d, s)
    return defs, edges


def circles(edges):
    nodes = set(edges)
    for a in edges:
        nodes.update(edges[a])
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, objdir = sys.argv[1], sys.argv[2]
    defs, edges = call_graph(objdir)
    if len(defs) < 100:
        print(f'structure: only {len(defs)} symbols under {objdir}: is the library built?')
        return 1
    bad = grep_rules(src)
    for a in sorted(edges):
        for b, sym in sorted(edges[a].items()):
            la, lb = a.split('/')[0], b.split('/')[0]
            if la in RANK and lb in RANK and RANK[lb] > RANK[la]:
                bad.append(f'src/{a} calls up into src/{b} ({sym})')
    for comp in circles(edges):
        if any(f.split('/')[0] in ('core', 'schema') for f in comp):
            inner = [f'{a} -> {b} ({edges[a][b]})' for a in comp for b in comp if b in edges.get(a, {})]
            bad.append('a circle of calls: ' + '; '.join(inner))
    for b in bad:
        print(b)
    print(f'structure: {len(edges)} files calling, {sum(len(e) for e in edges.values())} calls, '
          f'{len(bad)} problem{"s" if len(bad) != 1 else ""}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
