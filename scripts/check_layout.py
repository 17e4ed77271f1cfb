#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The source tree's layout rules (docs/architecture.md, "Files"), checked
in make test (tests/run_all.sh):

1. One plane per folder: no file under dataplane/ includes a header from
   control/ (by path, or by a name that only control/ holds).
2. No import cycles between the .c files of dataplane/ and control/:
   A.c depends on B.c when A.c includes B.h (B.c's own header: the
   header -> implementation link) or uses a global function or variable
   that B.c defines (wherever it is declared). A cycle of such
   dependencies (A -> B -> A, or longer) fails, except one listed in
   ALLOWED below.

The shared types (include/es_types.h) belong to neither plane.
Exit 0 when both hold; otherwise 1, each violation on one line.
Usage: scripts/check_layout.py [ROOT]
"""
import os
import re
import sys

# Cycles known and being worked on, each as the sorted set of its files.
# Every entry must say why; an entry that no longer matches a cycle is
# reported so that the list only shrinks.
ALLOWED = [
    # none: a cycle that must stay would be listed here as a set of two
    # or more .c paths, with why
]

PLANE_DIRS = ("dataplane", "control")
INC = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return text


def files(root, exts):
    out = []
    for d in PLANE_DIRS:
        p = os.path.join(root, d)
        for f in sorted(os.listdir(p)):
            if f.endswith(exts):
                out.append(f"{d}/{f}")
    return out


def check_includes(root):
    bad = []
    ctl = set(os.listdir(os.path.join(root, "control")))
    dp = set(os.listdir(os.path.join(root, "dataplane")))
    shared = set()
    if os.path.isdir(os.path.join(root, "include")):
        shared = set(os.listdir(os.path.join(root, "include")))
    for f in sorted(os.listdir(os.path.join(root, "dataplane"))):
        if not f.endswith((".c", ".h", ".def")):
            continue
        with open(os.path.join(root, "dataplane", f)) as fh:
            text = fh.read()
        for n, line in enumerate(text.splitlines(), 1):
            m = INC.match(line)
            if not m:
                continue
            inc = m.group(1)
            name = os.path.basename(inc)
            if "control/" in inc or (name not in dp and name not in shared
                                     and name in ctl):
                bad.append(f"dataplane/{f}:{n}: includes control/{name}: "
                           "the data plane includes nothing from control/")
    return bad


# a global definition at file scope: a line at column 0 that does not start
# with static/extern/typedef/#/punctuation, naming a function (NAME( ... {)
# or a variable (NAME [= ...];)
FUNC_DEF = re.compile(r"^(?!static\b|extern\b|typedef\b|struct\s+\w+\s*\{|"
                      r"enum\b|union\b|#)[A-Za-z_][^;{}()\n]*?\b([A-Za-z_]\w*)"
                      r"\s*\([^;{}]*?\)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)?\{",
                      re.M | re.S)
VAR_DEF = re.compile(r"^(?!static\b|extern\b|typedef\b|return\b|#)"
                     r"(?:const\s+|volatile\s+|struct\s+\w+\s+|unsigned\s+)*"
                     r"[A-Za-z_]\w*[\s*]+(?:const\s+)?([A-Za-z_]\w*)"
                     r"\s*(?:\[[^\]]*\]\s*)*(?:=[^;]*)?;", re.M)
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "main"}
IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def definitions(text):
    names = set(m.group(1) for m in FUNC_DEF.finditer(text))
    names |= set(m.group(1) for m in VAR_DEF.finditer(text))
    return names - KEYWORDS


def sccs(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check_cycles(root):
    srcs = files(root, (".c",))
    text = {}
    for f in srcs:
        with open(os.path.join(root, f)) as fh:
            text[f] = strip_comments(fh.read())
    owner = {}
    for f in srcs:
        for name in definitions(text[f]):
            if name != "main":
                owner.setdefault(name, set()).add(f)
    graph = {f: {} for f in srcs}
    stem = {}
    for f in srcs:
        stem.setdefault(os.path.basename(f)[:-2], f)
    for f in srcs:
        with open(os.path.join(root, f)) as fh:
            for inc in INC.findall(fh.read()):
                g = stem.get(os.path.basename(inc)[:-2]) \
                    if inc.endswith(".h") else None
                if g and g != f:
                    graph[f].setdefault(g, "includes " + os.path.basename(inc))
    for f in srcs:
        for name in set(IDENT.findall(text[f])):
            for g in owner.get(name, ()):
                if g != f:
                    graph[f].setdefault(g, name)
    bad, allowed_seen = [], []
    for comp in sccs(graph):
        if len(comp) < 2:
            continue
        edges = ", ".join(f"{a} -> {b} ({graph[a][b]})"
                          for a in sorted(comp) for b in sorted(graph[a])
                          if b in comp)
        if comp in ALLOWED:
            allowed_seen.append(comp)
            print(f"allowed cycle (scripts/check_layout.py ALLOWED): {edges}")
            continue
        bad.append(f"import cycle: {edges}")
        allowed_seen += [a for a in ALLOWED if a <= comp]
    for a in ALLOWED:
        if a not in allowed_seen:
            bad.append("ALLOWED lists a cycle that no longer exists: "
                       + " <-> ".join(sorted(a)) + " (remove it)")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    bad = check_includes(root) + check_cycles(root)
    for b in bad:
        print(b)
    print(f"layout: {'FAIL' if bad else 'ok'} ({len(bad)} problem(s))")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
