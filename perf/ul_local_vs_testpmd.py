#!/usr/bin/python3
"""Single-core uplink steer-to-local throughput next to dpdk-testpmd io
forwarding, on the same virtual ports, in the same run.

Source: net_pcap with infinite_rx (the pcap is loaded once and replayed
from memory); sink: net_null with no-rx. Both programs get the same two
lcores (one main, one forwarding/worker core), the same mempool size and
the same input: N uplink G-PDUs (PDU Session Container, inner IPv4/UDP,
64-byte inner packet by default) spread over S sessions, matched by one
'local' rule among R rules.

Prints Mpps and TSC cycles per packet for each, and the ratio. The worker
busy-polls, so cycles/packet = TSC cycles of the run / packets: it
includes the source PMD's own per-packet cost, which is the same for both.

Usage: perf/ul_local_vs_testpmd.py [--seconds 8] [--sessions 1024] [--rules 20]
       [--inner 64] [--build build] [--json OUT]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402  (the shared testpmd runner)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EAL = ["-l", "0,1", "--no-huge", "-m", "1024", "--no-shconf", "--no-pci", "--log-level=error"]


def ue(i):
    return f"10.{45 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"


def make_inputs(d, sessions, rules, inner_len, npkts=1024):
    pk = []
    pad = max(inner_len - 28, 0)
    for i in range(npkts):
        s = i % sessions
        pk.append(Ether(src="02:00:00:00:00:10", dst="02:00:00:00:03:01") /
                  IP(src="192.0.2.10", dst="192.0.2.1") / UDP(sport=2152, dport=2152) /
                  GTP_U_Header(teid=0x1000 + s, E=1, next_ex=0x85) /
                  GTPPDUSessionContainer(type=1, QFI=9) /
                  IP(src=ue(s), dst="10.200.0.5") / UDP(sport=1000 + i, dport=4000) / Raw(b"x" * pad))
    wrpcap(os.path.join(d, "ul.pcap"), pk)
    lines = [f"set sessions-max {max(sessions, 8)}", f"set rules-max {max(rules, 8)}", "set mbufs 16383",
             "port add n3 dev net_pcap0 role access addr 192.0.2.1/24 mac 02:00:00:00:03:01",
             "port add n9 dev net_null0 role core addr 198.51.100.1/24",
             "port add lan dev net_null1 role local addr 10.100.0.1/24",
             "neigh add 192.0.2.10 lladdr 02:00:00:00:00:10 port n3",
             "neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 port n9",
             "neigh add 10.100.0.20 lladdr 02:00:00:00:00:20 port lan",
             "app add xr via 10.100.0.20"]
    for s in range(sessions):
        lines.append(f"session add {s + 1} ue {ue(s)} ul-teid {0x1000 + s} gnb 192.0.2.10 "
                     f"gnb-teid {0x100000 + s} cloud 198.51.100.7 cloud-teid {0x200000 + s} qfi 9")
    lines.append("rule add 10 dst 10.200.0.0/16 proto udp dport 4000-4999 action local xr")
    for k in range(rules - 1):
        lines.append(f"rule add {100 + k} dst 172.{16 + (k >> 8) % 16}.{k & 255}.0/24 action drop")
    with open(os.path.join(d, "perf.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(pk[0])


def run_testpmd(d, seconds, mode):
    try:
        return suite.testpmd_pps(f"{d}/ul.pcap", mode, seconds, 16384, 1024)
    except RuntimeError as e:
        sys.exit(str(e))


def run_edgesteer(d, seconds, build):
    stats = os.path.join(d, "es.json")
    cmd = ["timeout", "-s", "INT", str(seconds), os.path.join(build, "edgesteer")] + EAL + [
        "--vdev", f"net_pcap0,rx_pcap={d}/ul.pcap,infinite_rx=1",
        "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1",
        "--", "-c", f"{d}/perf.conf", "--stats", stats]
    pr = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if not os.path.exists(stats):
        sys.exit(f"edgesteer did not finish (exit {pr.returncode}):\n{pr.stdout}\n{pr.stderr}")
    with open(stats) as f:
        s = json.load(f)
    c = s["counters"]
    if c["ul_local"] != c["rx"]:
        sys.exit(f"not every packet was steered to local: {pr.stdout}")
    return c["rx"] / s["elapsed_s"], s["tsc_hz"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=1024)
    ap.add_argument("--rules", type=int, default=20)
    ap.add_argument("--inner", type=int, default=64)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="es-perf-") as d:
        frame = make_inputs(d, a.sessions, a.rules, a.inner)
        es_pps, hz = run_edgesteer(d, a.seconds, a.build)
        io_pps = run_testpmd(d, a.seconds, "io")
    res = {"frame_bytes": frame, "sessions": a.sessions, "rules": a.rules, "tsc_hz": hz,
           "edgesteer_ul_local_mpps": es_pps / 1e6, "edgesteer_cycles_per_pkt": hz / es_pps,
           "testpmd_io_mpps": io_pps / 1e6, "testpmd_io_cycles_per_pkt": hz / io_pps,
           "ratio_edgesteer_to_testpmd": es_pps / io_pps}
    print(f"input: {frame}-byte frames (uplink G-PDU + container), {a.sessions} sessions, "
          f"{a.rules} rules, 1 worker core, TSC {hz / 1e9:.2f} GHz")
    print(f"{'':30}{'Mpps':>8}{'cycles/pkt':>12}")
    print(f"{'testpmd io (baseline)':30}{io_pps / 1e6:8.2f}{hz / io_pps:12.1f}")
    print(f"{'edgesteer uplink -> local':30}{es_pps / 1e6:8.2f}{hz / es_pps:12.1f}")
    print(f"ratio edgesteer/testpmd: {es_pps / io_pps:.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
