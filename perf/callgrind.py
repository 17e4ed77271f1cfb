#!/usr/bin/python3
"""Instructions per packet of the data plane's pipeline, by callgrind:
repeatable on a noisy machine, for before/after comparisons of the hot path.

Runs build/edgesteer under valgrind --tool=callgrind on a finite pcap of one
mix (20,480 packets at the suite's target-point shapes, fewer sessions and
rules so that start-up stays short under valgrind) and prints the inclusive
instructions per packet of es_process_burst and of its main callees.

Usage: perf/callgrind.py [--mix ul_local|ul_cloud|dl_encap|mix_80_20] [--packets N]
       [--sessions N] [--rules N] [--flows N] [--build DIR] [--keep FILE]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

FUNCS = ["es_process_burst", "es_parse_fast", "es_parse_outer", "es_parse_gtpu", "es_parse_inner", "outer_dst_local",
         "rte_hash_lookup_bulk_data", "rte_hash_lookup_data", "es_classify", "es_route_ip",
         "es_push_outer", "es_push_tpl", "es_push_gtpu_tpl", "es_push_gtpu", "es_ip_dec_ttl", "act_uplink", "act_downlink", "rte_pktmbuf_free_bulk"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", default="ul_local")
    ap.add_argument("--packets", type=int, default=20480)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--flows", type=int, default=4096)
    ap.add_argument("--build", default=suite.BUILD, help="the build directory whose edgesteer "
                    "runs (default %(default)s; for comparing two builds)")
    ap.add_argument("--keep", metavar="FILE", help="also keep the callgrind output as FILE "
                    "(for callgrind_annotate --auto=yes)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="es-cg-") as d:
        frs = suite.frames(a.mix, 64, a.sessions, a.flows)
        frs = (frs * (a.packets // len(frs) + 1))[:a.packets]
        pcap = os.path.join(d, "in.pcap")
        suite.write_pcap(pcap, frs)
        cfg = os.path.join(d, "es.conf")
        with open(cfg, "w") as f:
            f.write(suite.config(a.mix, a.sessions, a.rules, 16383))
        src = f"net_pcap0,rx_pcap={pcap}"
        out = os.path.join(d, "cg.out")
        # events are collected inside es_process_burst only (and what it
        # calls): start-up and the idle polls stay out of the output
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--toggle-collect=es_process_burst",
               os.path.join(a.build, "edgesteer")] + suite.EAL + ["-m", "1024",
               "--vdev", src, "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1",
               "--", "-c", cfg, "--idle-exit", "1500"]
        pr = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
        if not os.path.exists(out):
            sys.exit(f"valgrind run failed:\n{pr.stdout[-3000:]}\n{pr.stderr[-3000:]}")
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True,
                             text=True).stdout
        if a.keep:
            shutil.copyfile(out, a.keep)
    print(f"{a.mix}: {a.packets} packets, {a.sessions} sessions, {a.rules} rules, {a.flows} flows")
    # inclusive totals: a function's own line, or the sum of its call lines
    # ("=> file:fn (Nx)") when callgrind_annotate lists it only there
    for fn in FUNCS:
        own, calls = None, 0
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(=>\s+)?\S*:" + re.escape(fn) + r"(\.[\w.]+)?(?:\s|$)", line)
            if not m:
                continue
            v = int(m.group(1).replace(",", ""))
            if m.group(2):
                calls += v
            elif own is None:
                own = v
        total = own if own is not None else calls
        if total:
            print(f"  {fn:28} {total / a.packets:8.1f} instructions/packet")


if __name__ == "__main__":
    main()
