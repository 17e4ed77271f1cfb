#!/usr/bin/python3
"""Write docs/counters.md from dataplane/counters.def (the one list of counters).

Usage: scripts/gen_counters_md.py [--check]   (--check: exit 1 if the doc is stale)
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEF = os.path.join(ROOT, "dataplane", "counters.def")
DOC = os.path.join(ROOT, "docs", "counters.md")
ROW = re.compile(r'^ES_CNT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\)')


def parse():
    rows, section = [], None
    for line in open(DEF):
        s = line.strip()
        if s.startswith("/*") and s.endswith("*/") and "ES_CNT" not in s and len(s) < 80:
            section = s[2:-2].strip()
        m = ROW.match(s)
        if m:
            rows.append((section,) + m.groups())
    return rows


def render(rows):
    out = ["# Counters", "",
           "Generated from `dataplane/counters.def` by `scripts/gen_counters_md.py`; do not edit.", "",
           "Every packet a worker receives ends in exactly one place: sent (`tx`), held for",
           "reassembly, or dropped with exactly one **DROP** counter raised. **PKT** counters",
           "count events on packets that go on; **INFO** counters count events without a",
           "packet fate. The same names appear in the daemon's final dump, in its `--stats`",
           "JSON and in the tests.", "",
           "Accounting, for traffic without outer fragments:",
           "`rx + mirror + gtpu_errind_tx + gtpu_end_marker_tx = tx + (sum of DROP counters)`.",
           "A mirror copy, an Error Indication and an End Marker sent after a handover are",
           "frames the data plane adds: the G-PDU that triggers an Error Indication is counted",
           "as dropped (`drop_gtpu_teid_unknown`) and its buffer carries the Error Indication;",
           "an End Marker is built by the control thread (`session change`, docs/control.md).",
           "Outer fragments count in `rx` one by one and in",
           "`frag_rx` when the reassembly table takes them; a completed packet counts once in",
           "`frag_reassembled` and then has one fate like any other, and the fragments it took",
           "in count in `frag_merged`. With fragments, at any moment the workers are between",
           "rounds:", "",
           "`rx + mirror + gtpu_errind_tx + gtpu_end_marker_tx + frag_reassembled =",
           "tx + (sum of DROP counters) + frag_merged + held`,", "",
           "where `held = frag_rx - frag_merged - drop_frag_failed - drop_frag_timeout` is the",
           "number of fragments the reassembly tables hold (a fragment the table refuses or",
           "times out counts once in `drop_frag_failed` or `drop_frag_timeout`). `held` is also",
           "the number of mbufs the data plane holds between rounds, besides End Markers queued",
           "for worker 0: `make soak` checks both at every sample (docs/reliability.md).", ""]
    section = None
    for sec, _id, kind, name, help_ in rows:
        if sec != section:
            out += ["", f"## {sec}", "", "| name | kind | meaning |", "|---|---|---|"]
            section = sec
        out.append(f"| `{name}` | {kind} | {help_} |")
    return "\n".join(out) + "\n"


def main():
    text = render(parse())
    if "--check" in sys.argv:
        cur = open(DOC).read() if os.path.exists(DOC) else ""
        if cur != text:
            print("docs/counters.md is stale: run scripts/gen_counters_md.py", file=sys.stderr)
            return 1
        return 0
    with open(DOC, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
