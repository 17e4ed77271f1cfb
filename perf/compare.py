#!/usr/bin/python3
"""Compare two perf/suite.py result files (two commits or two machines).

Usage: perf/compare.py OLD.json NEW.json
Prints, for every run the two files share, Mpps and cycles/packet side by
side with the change; baselines (testpmd) first, so a machine difference
shows up there before it is read as a code difference.
"""
import json
import sys


def runs(res):
    out = {}
    for b in res["baseline"]:
        out[("testpmd", b["mode"], b["inner_bytes"])] = (b["mpps"], res["tsc_hz"] / (b["mpps"] * 1e6))
    for z in res.get("sizes", []):
        out[("testpmd", "io", z["inner_bytes"])] = (z["testpmd_io_mpps"], res["tsc_hz"] / (z["testpmd_io_mpps"] * 1e6))
    for x in res["mixes"] + [z["edgesteer"] for z in res.get("sizes", [])] + \
            [y for v in res["scaling"].values() for y in v]:
        out[(x["mix"], x["inner_bytes"], x["sessions"], x["rules"], x["flows"])] = (x["mpps"], x["cycles_per_pkt"])
    return out


def main():
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    ra, rb = runs(a), runs(b)
    print(f"old {a['commit']} {a['date']} ({a['machine']['cpu']})")
    print(f"new {b['commit']} {b['date']} ({b['machine']['cpu']})")
    print(f"{'run':58} {'Mpps old':>9} {'new':>7} {'cyc old':>8} {'new':>7} {'change':>7}")
    for k in ra:
        if k in rb:
            (ma, ca), (mb, cb) = ra[k], rb[k]
            print(f"{str(k):58} {ma:9.2f} {mb:7.2f} {ca:8.0f} {cb:7.0f} {100 * (cb - ca) / ca:+6.1f}%")


if __name__ == "__main__":
    main()
