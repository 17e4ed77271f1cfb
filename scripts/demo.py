#!/usr/bin/python3
"""make demo: run edgesteer on virtual ports with a realistic traffic mix and
show where each kind of traffic went.

Builds input pcaps with scapy (several UEs, uplink to edge apps and to the
cloud, downlink from the apps and from the cloud, path management, a
spoofed and a malformed packet), runs build/edgesteer with config/demo.conf
on three net_pcap ports, then decodes the output pcaps and prints a table.
Everything stays in files under build/demo/; no NIC, no hugepages.
"""
import argparse
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

from scapy.all import ICMP, IP, IPv6, TCP, UDP, Ether, Raw, rdpcap, wrpcap
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer, GTPEchoRequest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
N3, N9, APPS = "02:00:00:00:03:01", "02:00:00:00:09:01", "02:00:00:00:0a:01"
GNB1, GNB2, GNB6 = ("192.0.2.10", "02:00:00:00:00:10"), ("192.0.2.11", "02:00:00:00:00:11"), \
    ("2001:db8:3::12", "02:00:00:00:00:12")
UPF = ("198.51.100.7", "02:00:00:00:00:07")
UES = [("10.45.0.2", 0x100, GNB1, 9), ("10.45.0.3", 0x101, GNB1, 9), ("10.45.0.4", 0x102, GNB2, 5)]
UE6 = ("2001:db8:45:4::77", 0x103, GNB6, 9)
N9_TEIDS = {"10.45.0.2": 0x3001, "10.45.0.3": 0x3002, "10.45.0.4": 0x3003}


def tag(kind, n):
    return Raw(f"DEMO:{kind}:{n}:".encode() + b"." * 32)


def ul(ue, inner, v6=False):
    addr, teid, (gnb, gmac), qfi = ue
    ip = IPv6(src=gnb, dst="2001:db8:3::1") if v6 else IP(src=gnb, dst="192.0.2.1")
    return (Ether(src=gmac, dst=N3) / ip / UDP(sport=2152, dport=2152) /
            GTP_U_Header(teid=teid, E=1, next_ex=0x85) /
            GTPPDUSessionContainer(type=1, QFI=qfi) / inner)


def build():
    """Input packets per port, and the label of each data packet."""
    n3, n9, apps = [], [], []
    sent = Counter()

    def add(lst, kind, pkt):
        lst.append(pkt)
        sent[kind] += 1

    for i in range(20):
        for ue in UES[:2]:
            add(n3, "uplink to XR render (local)", ul(ue, IP(src=ue[0], dst="10.200.0.5") /
                UDP(sport=30000 + i, dport=4000) / tag("uplink to XR render (local)", i)))
        add(n3, "uplink V2X, QFI 5 (local)", ul(UES[2], IP(src=UES[2][0], dst="10.201.0.9") /
            UDP(sport=5000, dport=6000) / tag("uplink V2X, QFI 5 (local)", i)))
        for ue in UES:
            add(n3, "uplink web to cloud", ul(ue, IP(src=ue[0], dst="93.184.216.34") /
                TCP(sport=40000 + i, dport=443) / tag("uplink web to cloud", i)))
        add(n3, "uplink IPv6 XR (local)", ul(UE6, IPv6(src=UE6[0], dst="2001:db8:200::5") /
            UDP(sport=7000, dport=4000) / tag("uplink IPv6 XR (local)", i), v6=True))
        if i % 4 == 0:
            add(n3, "uplink mirrored + cloud", ul(UES[0], IP(src=UES[0][0], dst="203.0.113.9") /
                UDP(sport=1234, dport=53) / tag("uplink mirrored + cloud", i)))
        for ue in UES[:2]:
            add(apps, "downlink from XR app", Ether(src="02:00:00:00:00:20", dst=APPS) /
                IP(src="10.200.0.5", dst=ue[0]) / UDP(sport=4000, dport=30000 + i) /
                tag("downlink from XR app", i))
        for ue in UES:
            add(n9, "downlink from cloud", Ether(src=UPF[1], dst=N9) / IP(src=UPF[0], dst="198.51.100.1") /
                UDP(sport=2152, dport=2152) / GTP_U_Header(teid=N9_TEIDS[ue[0]], E=1, next_ex=0x85) /
                GTPPDUSessionContainer(type=0, QFI=ue[3]) /
                IP(src="93.184.216.34", dst=ue[0]) / TCP(sport=443, dport=40000 + i) /
                tag("downlink from cloud", i))
    add(n3, "telnet (rule: drop)", ul(UES[1], IP(src=UES[1][0], dst="93.184.216.34") /
        TCP(sport=5555, dport=23) / tag("telnet (rule: drop)", 0)))
    add(n3, "echo request (-> Echo Response)", Ether(src=GNB1[1], dst=N3) / IP(src=GNB1[0], dst="192.0.2.1") /
        UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1, S=1, seq=42, teid=0) / GTPEchoRequest())
    add(n3, "spoofed UE source", ul(UES[0], IP(src="10.45.9.9", dst="10.200.0.5") /
        UDP(sport=1, dport=4000) / tag("spoofed UE source", 0)))
    add(n3, "unknown TEID (-> Error Ind.)", ul(("10.45.0.2", 0xbad, GNB1, 9), IP(src="10.45.0.2", dst="10.200.0.5") /
        UDP(sport=1, dport=4000) / tag("unknown TEID (-> Error Ind.)", 0)))
    bad = bytearray(bytes(ul(UES[0], IP(src=UES[0][0], dst="10.200.0.5") / UDP() / tag("x", 0))))
    bad[14 + 20 + 8 + 12] = 0  # extension header length 0
    add(n3, "malformed (ext len 0)", Ether(bytes(bad)))
    return {"n3": n3, "n9": n9, "apps": apps}, sent


def label_of(pkt):
    raw = bytes(pkt)
    i = raw.find(b"DEMO:")
    if i >= 0:
        return raw[i:].split(b":")[1].decode()
    if GTP_U_Header in pkt:
        t = pkt[GTP_U_Header].gtp_type
        return {2: "echo request (-> Echo Response)", 26: "unknown TEID (-> Error Ind.)"}.get(t, "other")
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    build_dir = os.path.join(ROOT, args.build)
    work = os.path.join(build_dir, "demo")
    os.makedirs(work, exist_ok=True)
    inputs, sent = build()
    eal = ["-l", "0,1", "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "--log-level=error"]
    for i, p in enumerate(("n3", "n9", "apps")):
        wrpcap(os.path.join(work, f"in_{p}.pcap"), inputs[p])
        eal += ["--vdev", f"net_pcap{i},rx_pcap={work}/in_{p}.pcap,tx_pcap={work}/out_{p}.pcap"]
    stats = os.path.join(work, "stats.json")
    cmd = [os.path.join(build_dir, "edgesteer")] + eal + [
        "--", "-c", os.path.join(ROOT, "config", "demo.conf"), "--idle-exit", "300", "--stats", stats]
    print("running:", " ".join(cmd))
    pr = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if pr.returncode != 0:
        print(pr.stdout, pr.stderr, file=sys.stderr)
        sys.exit("edgesteer failed")
    with open(stats) as f:
        counters = json.load(f)["counters"]

    went = defaultdict(Counter)
    role = {"n3": "-> gNB (N3)", "n9": "-> cloud (N9)", "apps": "-> edge apps"}
    for p in ("n3", "n9", "apps"):
        for pkt in rdpcap(os.path.join(work, f"out_{p}.pcap")):
            went[label_of(pkt)][role[p]] += 1
    cols = list(role.values())
    print()
    print(f"{'traffic':32} {'sent':>5} " + " ".join(f"{c:>14}" for c in cols) + f" {'not sent':>9}")
    print("-" * (32 + 6 + 15 * len(cols) + 10))
    for kind in sent:
        outs = [went[kind][c] for c in cols]
        print(f"{kind:32} {sent[kind]:5} " + " ".join(f"{o:14}" for o in outs) +
              f" {max(sent[kind] - sum(outs), 0):9}")
    print()
    print("What goes back to the gNB for an echo request or an unknown TEID is the answer (Echo")
    print("Response, Error Indication), not the packet; mirrored uplink leaves twice (a copy to")
    print("'analytics', the original to the cloud). Counters that moved (the daemon's own final dump):")
    for k, v in counters.items():
        if v:
            print(f"  {k:28} {v}")
    print(f"\nThe pcaps are in {work}/ (open them with tshark or wireshark).")


if __name__ == "__main__":
    main()
